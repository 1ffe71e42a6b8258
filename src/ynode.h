/*
 * ynode: a YAML document as a small tree that remembers how it was written.
 *
 * qvm reads the user's cloud-init documents and writes them back out into
 * the seed; a quoted "0755" must stay a string and a block literal must stay
 * a block literal, so every node keeps its tag, its style and its anchor,
 * and aliases stay aliases (never expanded: no "billion laughs").
 * Comments are not kept (libyaml does not report them).
 *
 * Loading is bounded: a stream of at most YNODE_MAX_DOCS documents, nesting
 * depth at most YNODE_MAX_DEPTH, at most YNODE_MAX_NODES nodes in all. An
 * alias must name an anchor defined before it, and an anchor name may be
 * defined only once per document (PyYAML, cloud-init's reader, refuses
 * more). A problem is reported in errbuf with its line and column
 * (1-based), e.g. "line 3, column 5: did not find expected key"; one at
 * the end of the text is placed at the end of its last line. The call
 * then returns -1 with nothing allocated.
 */
#ifndef QVM_YNODE_H
#define QVM_YNODE_H

#include <stdbool.h>
#include <stddef.h>

#define YNODE_MAX_DOCS 16
#define YNODE_MAX_DEPTH 64
#define YNODE_MAX_NODES 100000

enum ynode_type {
	YNODE_SCALAR,
	YNODE_MAP,	/* items: key, value, key, value, ... (n is even) */
	YNODE_SEQ,
	YNODE_ALIAS,	/* value: the anchor it refers to */
};

struct ynode {
	enum ynode_type type;
	char *value;		/* scalar text (NUL-terminated) or alias name */
	size_t len;		/* length of value */
	char *tag;		/* explicit tag, or NULL */
	char *anchor;		/* anchor defined on this node, or NULL */
	int style;		/* libyaml's scalar/mapping/sequence style */
	bool plain_implicit;	/* scalars: as libyaml reported them */
	bool quoted_implicit;
	bool implicit;		/* collections: no explicit tag */
	size_t line, column;	/* where the node starts, 1-based */
	struct ynode **items;
	size_t n;
};

struct ystream {
	struct ynode *docs[YNODE_MAX_DOCS];
	size_t line[YNODE_MAX_DOCS];	/* line of each document's start */
	size_t n;
};

/* Parses buf (len bytes, UTF-8) into out. */
int ystream_load(const char *buf, size_t len, struct ystream *out,
		 char *errbuf, size_t errsize);
void ystream_free(struct ystream *s);

void ynode_free(struct ynode *n);

/* A plain (unquoted, untagged) scalar equal to text. */
bool ynode_is_plain(const struct ynode *n, const char *text);

/*
 * What a scalar means, by the one rule qvm applies to every document: the
 * rule cloud-init reads user-data by, PyYAML's safe_load (YAML 1.1
 * resolution). An explicit tag decides ("!" and !!str: a string); a
 * quoted or block scalar is a string; a plain one is resolved by its
 * text exactly as PyYAML 6 does:
 *   null       "", ~, null, Null, NULL
 *   bool       yes/no, true/false, on/off, each as lower, Capitalised or
 *              UPPER case (not y/n)
 *   int        decimal, 0b binary, 0-prefixed octal, 0x hex, sexagesimal
 *              (1:30), '_' allowed between digits, optional sign
 *   float      1.5, 1., .5, 1e+3 after a '.', 1:30.5, .inf, .nan
 *   timestamp  2001-12-14, 2001-12-14t21:59:43.10-05:00 and its variants
 *   other      "<<" (merge), "=" (value), and tags safe_load does not
 *              turn into one of the above
 */
enum ynode_kind {
	YNODE_STR,
	YNODE_NULL,
	YNODE_BOOL,
	YNODE_INT,
	YNODE_FLOAT,
	YNODE_TIMESTAMP,
	YNODE_OTHER,	/* also every non-scalar */
};

enum ynode_kind ynode_kind(const struct ynode *n);

/* The name of a kind, for messages: "a string", "a boolean", ... */
const char *ynode_kind_name(enum ynode_kind k);

/* ynode_kind() is YNODE_NULL. */
bool ynode_is_null(const struct ynode *n);

/* For a boolean (ynode_kind() YNODE_BOOL): 1 for yes/true/on, 0 for
 * no/false/off (any case, as PyYAML); -1 for anything else. */
int ynode_bool(const struct ynode *n);

/* The value of key in map (a scalar key equal to key), or NULL. */
struct ynode *ynode_map_get(const struct ynode *map, const char *key);

/* Emits node as one YAML document (no "---" marker, no "..." end marker)
 * in block style where the source was, keeping styles, tags, anchors and
 * aliases, and UTF-8 as UTF-8 (emoji too). A "!"-tagged scalar is written
 * with the tag PyYAML resolves it to (or quoted, for a string). Keys of
 * the top-level mapping listed in skip_keys (a NULL-terminated array, may
 * be NULL) are left out; if a left-out pair holds an anchor, nothing is
 * written (its aliases would dangle). Returns a malloc'd
 * NUL-terminated buffer (length in *len), or NULL with errbuf set. */
char *ynode_emit(const struct ynode *node, const char *const *skip_keys,
		 size_t *len, char *errbuf, size_t errsize);

/* ynode_emit() of a mapping with more pairs at its end: extra is a
 * NULL-terminated list key, value, key, value... written as plain keys and
 * double-quoted values. The mapping is written in block style. */
char *ynode_emit_extended(const struct ynode *map, const char *const *skip_keys,
			  const char *const *extra, size_t *len, char *errbuf,
			  size_t errsize);

#endif
