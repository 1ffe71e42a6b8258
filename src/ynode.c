/*
 * ynode.c: libyaml events -> ynode trees, and ynode trees -> YAML text.
 *
 * Loading is one event pump: each event is handled and deleted before the
 * next is read, and every node is attached to the tree the moment it is
 * made, so a failure anywhere frees everything by freeing the documents.
 */
#include "ynode.h"

#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <regex.h>
#include <string.h>
#include <strings.h>
#include <yaml.h>

#include "strvec.h"
#include "text.h"

/*
 * Input text check. libyaml rejects most bad bytes itself, but a NUL is
 * easy to mistake for the end of the text and its reader error has no
 * line, so NULs and invalid UTF-8 (overlong forms, surrogates, beyond
 * U+10FFFF) are refused here first, with the place.
 */
/* A key or value from the file, safe to print in an error line. */
static const char *show(char *dst, size_t size, const char *s, size_t len)
{
	return text_show(dst, size, s, len, 40);
}

static int check_text(const char *buf, size_t len, char *errbuf,
		      size_t errsize)
{
	const unsigned char *p = (const unsigned char *)buf;
	size_t i = 0, line = 1, col = 1;

	while (i < len) {
		unsigned char c = p[i];
		uint32_t cp, min;
		size_t n;

		if (c == 0)
			return text_fail(errbuf, errsize,
				    "line %zu, column %zu: NUL byte in the text",
				    line, col);
		if (c < 0x80) {
			n = 1;
			cp = c;
			min = 0;
		} else if ((c & 0xe0) == 0xc0) {
			n = 2;
			cp = c & 0x1fu;
			min = 0x80;
		} else if ((c & 0xf0) == 0xe0) {
			n = 3;
			cp = c & 0x0fu;
			min = 0x800;
		} else if ((c & 0xf8) == 0xf0) {
			n = 4;
			cp = c & 0x07u;
			min = 0x10000;
		} else {
			goto bad;
		}
		if (n > len - i)
			goto bad;
		for (size_t k = 1; k < n; k++) {
			if ((p[i + k] & 0xc0) != 0x80)
				goto bad;
			cp = cp << 6 | (p[i + k] & 0x3fu);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			goto bad;
		if (c == '\n') {
			line++;
			col = 1;
		} else {
			col++;
		}
		i += n;
	}
	return 0;
bad:
	return text_fail(errbuf, errsize, "line %zu, column %zu: invalid UTF-8",
		    line, col);
}

/* Line and column (1-based, counted in characters) of a byte offset. */
static void offset_position(const char *buf, size_t len, size_t off,
			    size_t *line, size_t *col)
{
	*line = 1;
	*col = 1;
	for (size_t i = 0; i < off && i < len; i++) {
		if (buf[i] == '\n') {
			++*line;
			*col = 1;
		} else if (((unsigned char)buf[i] & 0xc0) != 0x80) {
			++*col;
		}
	}
}

/*
 * The anchors defined so far in one document. libyaml's event parser does
 * not check that an alias names a defined anchor (only its loader does),
 * and such a document would not load anywhere else. A small open-addressing
 * hash set keeps a hostile stream of many anchors and aliases linear.
 */
struct anchor_set {
	char **slot;
	size_t cap;	/* a power of two, or 0 */
	size_t n;
};

static size_t anchor_hash(const char *s)
{
	size_t h = 14695981039346656037u & SIZE_MAX;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * (size_t)1099511628211u;
	return h;
}

static char **anchor_find(const struct anchor_set *set, const char *name)
{
	size_t i = anchor_hash(name) & (set->cap - 1);

	while (set->slot[i] && strcmp(set->slot[i], name) != 0)
		i = (i + 1) & (set->cap - 1);
	return &set->slot[i];
}

static bool anchor_known(const struct anchor_set *set, const char *name)
{
	return set->cap && *anchor_find(set, name);
}

/* Returns false if name was there already. */
static bool anchor_add(struct anchor_set *set, const char *name)
{
	char **slot;

	if (2 * (set->n + 1) > set->cap) {
		struct anchor_set big = { NULL, set->cap ? 2 * set->cap : 64, 0 };

		big.slot = xcalloc(big.cap, sizeof(*big.slot));
		for (size_t i = 0; i < set->cap; i++) {
			if (set->slot[i]) {
				*anchor_find(&big, set->slot[i]) = set->slot[i];
				big.n++;
			}
		}
		free(set->slot);
		*set = big;
	}
	slot = anchor_find(set, name);
	if (*slot)
		return false;
	*slot = xstrdup(name);
	set->n++;
	return true;
}

static void anchor_clear(struct anchor_set *set)
{
	for (size_t i = 0; i < set->cap; i++)
		free(set->slot[i]);
	free(set->slot);
	memset(set, 0, sizeof(*set));
}

struct loader {
	yaml_parser_t parser;
	struct ystream stream;
	struct ynode *open[YNODE_MAX_DEPTH];	/* open collections */
	size_t depth;
	size_t nodes;
	struct anchor_set anchors;
	const char *buf;	/* the text, for positions */
	size_t len;
	char *errbuf;
	size_t errsize;
};

static int load_fail(struct loader *ld, yaml_mark_t mark, const char *fmt,
		     ...) __attribute__((format(printf, 3, 4)));

static int load_fail(struct loader *ld, yaml_mark_t mark, const char *fmt,
		     ...)
{
	char what[256];
	va_list ap;
	size_t line = mark.line + 1, col = mark.column + 1;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	/* At the end of the text libyaml's mark is on a line after the
	 * last one (it ends the stream with a line break of its own); name
	 * the end of the last line. */
	if (mark.index >= ld->len) {
		size_t end = ld->len;

		if (end && ld->buf[end - 1] == '\n')
			end--;
		offset_position(ld->buf, ld->len, end, &line, &col);
		return text_fail(ld->errbuf, ld->errsize,
			    "line %zu, column %zu: %s (at the end of the text)",
			    line, col, what);
	}
	return text_fail(ld->errbuf, ld->errsize, "line %zu, column %zu: %s",
		    line, col, what);
}

static char *dup_text(const yaml_char_t *s)
{
	return s ? xstrdup((const char *)s) : NULL;
}

/* Makes a node at mark and hangs it in the tree (so it is freed with the
 * documents whatever happens next). */
static struct ynode *add_node(struct loader *ld, enum ynode_type type,
			      const yaml_event_t *ev)
{
	struct ynode *n, *parent;

	if (ld->depth) {
		parent = ld->open[ld->depth - 1];
		/* A mapping or a sequence as a key has no meaning for
		 * cloud-init or for qvm, and an alias as a key could be one
		 * in disguise. */
		if (parent->type == YNODE_MAP && parent->n % 2 == 0 &&
		    type != YNODE_SCALAR) {
			load_fail(ld, ev->start_mark,
				  "a mapping key must be a scalar, not %s",
				  type == YNODE_MAP ? "a mapping" :
				  type == YNODE_SEQ ? "a sequence" :
				  "an alias");
			return NULL;
		}
	}
	if (++ld->nodes > YNODE_MAX_NODES) {
		load_fail(ld, ev->start_mark, "more than %d nodes",
			  YNODE_MAX_NODES);
		return NULL;
	}
	n = xcalloc(1, sizeof(*n));
	n->type = type;
	n->line = ev->start_mark.line + 1;
	n->column = ev->start_mark.column + 1;
	if (!ld->depth) {
		ld->stream.docs[ld->stream.n - 1] = n;
	} else {
		parent = ld->open[ld->depth - 1];
		/* Capacity 16, then doubled whenever n reaches a power
		 * of two: a 100000-item list costs a few reallocs. */
		if (parent->n == 0 || (parent->n >= 16 &&
				       !(parent->n & (parent->n - 1))))
			parent->items = xrealloc(parent->items,
						 (parent->n ? 2 * parent->n
							    : 16) *
						 sizeof(*parent->items));
		parent->items[parent->n++] = n;
	}
	return n;
}

/* YAML lets a later anchor take an earlier one's name, but PyYAML, and
 * so cloud-init, refuses the whole document. */
static int anchor_twice(struct loader *ld, const yaml_event_t *ev,
			const char *name)
{
	char shown[128];

	return load_fail(ld, ev->start_mark,
			 "anchor '&%s' defined twice (PyYAML, which cloud-init uses, refuses that)",
			 text_show(shown, sizeof(shown), name, strlen(name),
				   40));
}

static int open_collection(struct loader *ld, enum ynode_type type,
			   const yaml_event_t *ev)
{
	struct ynode *n;
	const yaml_char_t *anchor, *tag;

	if (ld->depth == YNODE_MAX_DEPTH)
		return load_fail(ld, ev->start_mark,
				 "nested deeper than %d levels",
				 YNODE_MAX_DEPTH);
	n = add_node(ld, type, ev);
	if (!n)
		return -1;
	if (type == YNODE_MAP) {
		anchor = ev->data.mapping_start.anchor;
		tag = ev->data.mapping_start.tag;
		n->style = (int)ev->data.mapping_start.style;
		n->implicit = ev->data.mapping_start.implicit;
	} else {
		anchor = ev->data.sequence_start.anchor;
		tag = ev->data.sequence_start.tag;
		n->style = (int)ev->data.sequence_start.style;
		n->implicit = ev->data.sequence_start.implicit;
	}
	n->anchor = dup_text(anchor);
	n->tag = dup_text(tag);
	if (n->anchor && !anchor_add(&ld->anchors, n->anchor))
		return anchor_twice(ld, ev, n->anchor);
	ld->open[ld->depth++] = n;
	return 0;
}

static int key_order(const void *a, const void *b)
{
	const struct ynode *x = *(const struct ynode *const *)a;
	const struct ynode *y = *(const struct ynode *const *)b;
	int c;

	if (x->len != y->len)
		return x->len < y->len ? -1 : 1;
	c = memcmp(x->value, y->value, x->len);
	if (c)
		return c;
	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	return x->column < y->column ? -1 : x->column > y->column;
}

/*
 * A key given twice is refused: YAML forbids it, and parsers disagree on
 * which value wins, so qvm and cloud-init could read different settings.
 * Keys compare by their text. Sorting keeps a hostile mapping of many keys
 * from costing n^2 comparisons; the duplicate reported is the first one
 * in the document.
 */
static int check_duplicates(struct loader *ld, const struct ynode *map)
{
	size_t nkeys = map->n / 2;
	const struct ynode **keys, *dup = NULL;
	char shown[128];

	if (nkeys < 2)
		return 0;
	keys = xmalloc(nkeys * sizeof(*keys));
	for (size_t i = 0; i < nkeys; i++)
		keys[i] = map->items[2 * i];
	qsort(keys, nkeys, sizeof(*keys), key_order);
	for (size_t i = 1; i < nkeys; i++) {
		const struct ynode *a = keys[i - 1], *b = keys[i];

		if (a->len != b->len || memcmp(a->value, b->value, a->len))
			continue;
		if (!dup || b->line < dup->line ||
		    (b->line == dup->line && b->column < dup->column))
			dup = b;
		/* Later members of the same group come after b. */
		while (i + 1 < nkeys && keys[i + 1]->len == b->len &&
		       !memcmp(keys[i + 1]->value, b->value, b->len))
			i++;
	}
	free(keys);
	if (!dup)
		return 0;
	return text_fail(ld->errbuf, ld->errsize,
		    "line %zu, column %zu: duplicate key '%s'", dup->line,
		    dup->column, show(shown, sizeof(shown), dup->value,
				      dup->len));
}

static int handle_event(struct loader *ld, const yaml_event_t *ev)
{
	struct ynode *n;
	char shown[128];

	switch (ev->type) {
	case YAML_DOCUMENT_START_EVENT:
		if (ld->stream.n == YNODE_MAX_DOCS)
			return load_fail(ld, ev->start_mark,
					 "more than %d documents",
					 YNODE_MAX_DOCS);
		ld->stream.line[ld->stream.n] = ev->start_mark.line + 1;
		ld->stream.docs[ld->stream.n++] = NULL;
		anchor_clear(&ld->anchors);	/* anchors are per document */
		return 0;
	case YAML_SCALAR_EVENT:
		n = add_node(ld, YNODE_SCALAR, ev);
		if (!n)
			return -1;
		n->len = ev->data.scalar.length;
		n->value = xstrndup((const char *)ev->data.scalar.value,
				    n->len);
		n->tag = dup_text(ev->data.scalar.tag);
		n->anchor = dup_text(ev->data.scalar.anchor);
		n->style = (int)ev->data.scalar.style;
		n->plain_implicit = ev->data.scalar.plain_implicit;
		n->quoted_implicit = ev->data.scalar.quoted_implicit;
		if (n->anchor && !anchor_add(&ld->anchors, n->anchor))
			return anchor_twice(ld, ev, n->anchor);
		return 0;
	case YAML_ALIAS_EVENT: {
		const char *name = (const char *)ev->data.alias.anchor;

		if (!anchor_known(&ld->anchors, name))
			return load_fail(ld, ev->start_mark,
					 "alias '*%s' names no anchor defined before it",
					 show(shown, sizeof(shown), name,
					      strlen(name)));
		n = add_node(ld, YNODE_ALIAS, ev);
		if (!n)
			return -1;
		n->value = xstrdup(name);
		n->len = strlen(name);
		return 0;
	}
	case YAML_SEQUENCE_START_EVENT:
		return open_collection(ld, YNODE_SEQ, ev);
	case YAML_MAPPING_START_EVENT:
		return open_collection(ld, YNODE_MAP, ev);
	case YAML_SEQUENCE_END_EVENT:
		ld->depth--;
		return 0;
	case YAML_MAPPING_END_EVENT:
		ld->depth--;
		return check_duplicates(ld, ld->open[ld->depth]);
	default:	/* stream start and end, document end */
		return 0;
	}
}

static void parser_fail(struct loader *ld, const char *buf, size_t len)
{
	const yaml_parser_t *p = &ld->parser;
	const char *problem = p->problem ? p->problem : "not valid YAML";
	size_t line, col;

	switch (p->error) {
	case YAML_MEMORY_ERROR:
		text_fail(ld->errbuf, ld->errsize, "out of memory");
		break;
	case YAML_READER_ERROR:
		/* The reader knows only the byte offset. */
		offset_position(buf, len, p->problem_offset, &line, &col);
		text_fail(ld->errbuf, ld->errsize, "line %zu, column %zu: %s", line,
		     col, problem);
		break;
	default:
		load_fail(ld, p->problem_mark, "%s", problem);
		break;
	}
}

int ystream_load(const char *buf, size_t len, struct ystream *out,
		 char *errbuf, size_t errsize)
{
	struct loader *ld;
	yaml_event_t ev;
	bool done = false;
	int ret = -1;

	memset(out, 0, sizeof(*out));
	if (check_text(buf, len, errbuf, errsize) < 0)
		return -1;
	ld = xcalloc(1, sizeof(*ld));
	ld->errbuf = errbuf;
	ld->errsize = errsize;
	ld->buf = buf;
	ld->len = len;
	if (!yaml_parser_initialize(&ld->parser)) {
		text_fail(errbuf, errsize, "out of memory");
		free(ld);
		return -1;
	}
	yaml_parser_set_input_string(&ld->parser, (const unsigned char *)buf,
				     len);
	while (!done) {
		int r;

		if (!yaml_parser_parse(&ld->parser, &ev)) {
			parser_fail(ld, buf, len);
			goto out;
		}
		done = ev.type == YAML_STREAM_END_EVENT;
		r = handle_event(ld, &ev);
		yaml_event_delete(&ev);
		if (r < 0)
			goto out;
	}
	*out = ld->stream;
	memset(&ld->stream, 0, sizeof(ld->stream));
	ret = 0;
out:
	ystream_free(&ld->stream);
	anchor_clear(&ld->anchors);
	yaml_parser_delete(&ld->parser);
	free(ld);
	return ret;
}

void ynode_free(struct ynode *n)
{
	if (!n)
		return;
	for (size_t i = 0; i < n->n; i++)
		ynode_free(n->items[i]);
	free(n->items);
	free(n->value);
	free(n->tag);
	free(n->anchor);
	free(n);
}

void ystream_free(struct ystream *s)
{
	for (size_t i = 0; i < s->n; i++)
		ynode_free(s->docs[i]);
	memset(s, 0, sizeof(*s));
}

bool ynode_is_plain(const struct ynode *n, const char *text)
{
	return n && n->type == YNODE_SCALAR && !n->tag &&
	       n->style == YAML_PLAIN_SCALAR_STYLE && n->len == strlen(text) &&
	       memcmp(n->value, text, n->len) == 0;
}

/*
 * PyYAML 6's implicit resolvers (yaml/resolver.py), the same patterns as
 * POSIX extended regular expressions. Python's "$" also matches before a
 * final newline, which no plain scalar has; the empty null is tested in C
 * (an empty alternative is not portable ERE).
 */
static const struct {
	enum ynode_kind kind;
	const char *pattern;
} resolvers[] = {
	{ YNODE_BOOL, "^(yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE"
		      "|on|On|ON|off|Off|OFF)$" },
	{ YNODE_FLOAT, "^([-+]?[0-9][0-9_]*\\.[0-9_]*([eE][-+][0-9]+)?"
		       "|\\.[0-9][0-9_]*([eE][-+][0-9]+)?"
		       "|[-+]?[0-9][0-9_]*(:[0-5]?[0-9])+\\.[0-9_]*"
		       "|[-+]?\\.(inf|Inf|INF)"
		       "|\\.(nan|NaN|NAN))$" },
	{ YNODE_INT, "^([-+]?0b[0-1_]+"
		     "|[-+]?0[0-7_]+"
		     "|[-+]?(0|[1-9][0-9_]*)"
		     "|[-+]?0x[0-9a-fA-F_]+"
		     "|[-+]?[1-9][0-9_]*(:[0-5]?[0-9])+)$" },
	{ YNODE_OTHER, "^(<<|=|!|&|\\*)$" },	/* merge, value, yaml */
	{ YNODE_NULL, "^(~|null|Null|NULL)$" },
	{ YNODE_TIMESTAMP, "^([0-9]{4}-[0-9]{2}-[0-9]{2}"
			   "|[0-9]{4}-[0-9][0-9]?-[0-9][0-9]?"
			   "([Tt]|[ \t]+)[0-9][0-9]?:[0-9]{2}:[0-9]{2}"
			   "(\\.[0-9]*)?"
			   "([ \t]*(Z|[-+][0-9][0-9]?(:[0-9]{2})?))?)$" },
};

#define NRESOLVERS (sizeof(resolvers) / sizeof(resolvers[0]))

static enum ynode_kind resolve_plain(const char *text)
{
	static regex_t re[NRESOLVERS];
	static bool compiled;

	if (!*text)
		return YNODE_NULL;
	if (!compiled) {
		for (size_t i = 0; i < NRESOLVERS; i++)
			if (regcomp(&re[i], resolvers[i].pattern,
				    REG_EXTENDED | REG_NOSUB) != 0)
				abort();	/* a typo above */
		compiled = true;
	}
	for (size_t i = 0; i < NRESOLVERS; i++)
		if (regexec(&re[i], text, 0, NULL, 0) == 0)
			return resolvers[i].kind;
	return YNODE_STR;
}

#define YAML_TAG "tag:yaml.org,2002:"

enum ynode_kind ynode_kind(const struct ynode *n)
{
	static const struct {
		const char *tag;
		enum ynode_kind kind;
	} tags[] = {
		{ YAML_TAG "str", YNODE_STR },
		{ YAML_TAG "null", YNODE_NULL }, { YAML_TAG "bool", YNODE_BOOL },
		{ YAML_TAG "int", YNODE_INT }, { YAML_TAG "float", YNODE_FLOAT },
		{ YAML_TAG "timestamp", YNODE_TIMESTAMP },
	};

	if (!n || n->type != YNODE_SCALAR)
		return YNODE_OTHER;
	/* PyYAML resolves a scalar tagged "!" by its text, quoted or not,
	 * as if it were plain (YAML itself would make it a string). */
	if (n->tag && !strcmp(n->tag, "!"))
		return strlen(n->value) == n->len ? resolve_plain(n->value)
						  : YNODE_STR;
	if (n->tag) {
		for (size_t i = 0; i < sizeof(tags) / sizeof(tags[0]); i++)
			if (!strcmp(n->tag, tags[i].tag))
				return tags[i].kind;
		return YNODE_OTHER;
	}
	if (n->style != YAML_PLAIN_SCALAR_STYLE)
		return YNODE_STR;
	/* A NUL inside cannot come from a plain scalar; be safe anyway. */
	if (strlen(n->value) != n->len)
		return YNODE_STR;
	return resolve_plain(n->value);
}

const char *ynode_kind_name(enum ynode_kind k)
{
	static const char *const names[] = {
		[YNODE_STR] = "a string",
		[YNODE_NULL] = "null",
		[YNODE_BOOL] = "a boolean",
		[YNODE_INT] = "an integer",
		[YNODE_FLOAT] = "a float",
		[YNODE_TIMESTAMP] = "a timestamp",
		[YNODE_OTHER] = "not a plain value",
	};

	return (size_t)k < sizeof(names) / sizeof(names[0]) ? names[k] : "?";
}

bool ynode_is_null(const struct ynode *n)
{
	return ynode_kind(n) == YNODE_NULL;
}

int ynode_bool(const struct ynode *n)
{
	static const char *const yes[] = { "yes", "true", "on" };
	static const char *const no[] = { "no", "false", "off" };

	if (ynode_kind(n) != YNODE_BOOL)
		return -1;
	for (size_t i = 0; i < 3; i++) {
		if (!strcasecmp(n->value, yes[i]))
			return 1;
		if (!strcasecmp(n->value, no[i]))
			return 0;
	}
	return -1;
}

struct ynode *ynode_map_get(const struct ynode *map, const char *key)
{
	size_t len = strlen(key);

	if (!map || map->type != YNODE_MAP)
		return NULL;
	for (size_t i = 0; i + 1 < map->n; i += 2) {
		const struct ynode *k = map->items[i];

		if (k->type == YNODE_SCALAR && k->len == len &&
		    memcmp(k->value, key, len) == 0)
			return map->items[i + 1];
	}
	return NULL;
}

/* ---- emitting ---- */

struct outbuf {
	char *p;
	size_t len, cap;
};

static int write_out(void *data, unsigned char *buffer, size_t size)
{
	struct outbuf *b = data;

	if (size + 1 > b->cap - b->len) {
		while (size + 1 > b->cap - b->len)
			b->cap = b->cap ? 2 * b->cap : 4096;
		b->p = xrealloc(b->p, b->cap);
	}
	memcpy(b->p + b->len, buffer, size);
	b->len += size;
	return 1;
}

static bool skipped(const struct ynode *key, const char *const *skip_keys)
{
	if (!skip_keys || key->type != YNODE_SCALAR)
		return false;
	for (; *skip_keys; skip_keys++)
		if (key->len == strlen(*skip_keys) &&
		    memcmp(key->value, *skip_keys, key->len) == 0)
			return true;
	return false;
}

/* Hands ev to the emitter, which owns (and deletes) it from then on. */
static int emit_event(yaml_emitter_t *em, int made, yaml_event_t *ev)
{
	if (!made) {
		em->error = YAML_MEMORY_ERROR;
		return -1;
	}
	return yaml_emitter_emit(em, ev) ? 0 : -1;
}

/* A "!" on a collection says no more than its brackets or indentation
 * do, and libyaml could only write it as "!<%21>". */
static yaml_char_t *collection_tag(const struct ynode *n)
{
	if (!n->tag || !strcmp(n->tag, "!"))
		return NULL;
	return (yaml_char_t *)n->tag;
}

/*
 * Characters beyond U+FFFF (emoji, ...). libyaml's emitter takes them
 * for unprintable and writes "\U0001F600" in double quotes, even with
 * yaml_emitter_set_unicode(). So each is handed to libyaml as a marker,
 * a private-use character (U+E000..U+F8FF) that occurs nowhere in the
 * tree, followed by six hex digits, which libyaml treats like any
 * letters; the marked text is then turned back into the character in
 * the output. Style, quoting and line breaks are decided as they would
 * be for the character itself.
 */
#define MARK_FIRST 0xe000u
#define MARK_COUNT 0x1900u	/* up to U+F8FF */
#define MARK_DIGITS 6

static bool is_astral_lead(unsigned char c)
{
	return c >= 0xf0 && c <= 0xf4;
}

static bool has_astral(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (is_astral_lead((unsigned char)s[i]))
			return true;
	return false;
}

/* Marks the private-use characters used in n's scalars (valid UTF-8:
 * ynode_load checked it); returns whether any text needs the marker. */
static bool scan_marks(const struct ynode *n, unsigned char *used)
{
	bool astral = false;

	if (n->type == YNODE_SCALAR) {
		const unsigned char *p = (const unsigned char *)n->value;

		for (size_t i = 0; i + 2 < n->len; i++) {
			if (p[i] != 0xee && p[i] != 0xef)
				continue;
			uint32_t cp = (p[i] & 0x0fu) << 12 |
				      (p[i + 1] & 0x3fu) << 6 |
				      (p[i + 2] & 0x3fu);

			if (cp >= MARK_FIRST && cp < MARK_FIRST + MARK_COUNT)
				used[(cp - MARK_FIRST) / 8] |=
					(unsigned char)(1u << (cp % 8));
		}
		return has_astral(n->value, n->len);
	}
	for (size_t i = 0; i < n->n; i++)
		astral |= scan_marks(n->items[i], used);
	return astral;
}

/* The marker's UTF-8 into mark[3]; false if every candidate is used. */
static bool pick_mark(const struct ynode *n, char mark[3])
{
	unsigned char used[MARK_COUNT / 8] = { 0 };

	if (!scan_marks(n, used))
		return false;
	for (uint32_t k = 0; k < MARK_COUNT; k++) {
		uint32_t cp = MARK_FIRST + k;

		if (used[k / 8] & (1u << (cp % 8)))
			continue;
		mark[0] = (char)(0xe0 | cp >> 12);
		mark[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		mark[2] = (char)(0x80 | (cp & 0x3f));
		return true;
	}
	return false;	/* libyaml's escapes then: still the same text */
}

/* s with each character beyond U+FFFF written as mark + 6 hex digits. */
static char *mark_astral(const char *s, size_t len, const char mark[3],
			 size_t *outlen)
{
	char *out = xmalloc(len / 4 * (3 + MARK_DIGITS) + len + 1), *o = out;

	for (size_t i = 0; i < len; i++) {
		const unsigned char *p = (const unsigned char *)s + i;

		if (!is_astral_lead(*p) || len - i < 4) {
			*o++ = s[i];
			continue;
		}
		uint32_t cp = (p[0] & 0x07u) << 18 | (p[1] & 0x3fu) << 12 |
			      (p[2] & 0x3fu) << 6 | (p[3] & 0x3fu);

		memcpy(o, mark, 3);
		snprintf(o + 3, MARK_DIGITS + 1, "%06x", (unsigned)cp);
		o += 3 + MARK_DIGITS;
		i += 3;
	}
	*o = '\0';
	*outlen = (size_t)(o - out);
	return out;
}

/* Turns every mark + 6 hex digits in buf back into its character. */
static size_t unmark_astral(char *buf, size_t len, const char mark[3])
{
	size_t r = 0, w = 0;

	while (r < len) {
		if (len - r >= 3 + MARK_DIGITS && !memcmp(buf + r, mark, 3)) {
			char hex[MARK_DIGITS + 1];
			unsigned long cp;

			memcpy(hex, buf + r + 3, MARK_DIGITS);
			hex[MARK_DIGITS] = '\0';
			cp = strtoul(hex, NULL, 16);
			buf[w++] = (char)(0xf0 | cp >> 18);
			buf[w++] = (char)(0x80 | ((cp >> 12) & 0x3f));
			buf[w++] = (char)(0x80 | ((cp >> 6) & 0x3f));
			buf[w++] = (char)(0x80 | (cp & 0x3f));
			r += 3 + MARK_DIGITS;
		} else {
			buf[w++] = buf[r++];
		}
	}
	return w;
}

/* The tag PyYAML gives a scalar tagged "!", when not a string. */
static const char *bang_tag(const struct ynode *n)
{
	switch (ynode_kind(n)) {
	case YNODE_NULL:
		return YAML_TAG "null";
	case YNODE_BOOL:
		return YAML_TAG "bool";
	case YNODE_INT:
		return YAML_TAG "int";
	case YNODE_FLOAT:
		return YAML_TAG "float";
	case YNODE_TIMESTAMP:
		return YAML_TAG "timestamp";
	default:
		return NULL;
	}
}

/* An anchor left out with a skipped key would leave its aliases
 * dangling: such a tree is not written (qvmfile refuses it first). */
static const char *skipped_anchor(const struct ynode *n)
{
	const char *a;

	if (n->anchor)
		return n->anchor;
	for (size_t i = 0; i < n->n; i++)
		if ((a = skipped_anchor(n->items[i])))
			return a;
	return NULL;
}

static int emit_node(yaml_emitter_t *em, const struct ynode *n,
		     const char *const *skip_keys, bool in_flow, bool is_key,
		     const char *mark)
{
	yaml_event_t ev;
	bool flow;
	int made;

	switch (n->type) {
	case YNODE_SCALAR:
		/* An empty plain scalar (a null) cannot be written inside a
		 * flow collection or as a key; libyaml would write "! ''",
		 * a string. "~" is the same null. */
		if (n->len == 0 && !n->tag && n->plain_implicit &&
		    (in_flow || is_key)) {
			static yaml_char_t tilde[] = "~";

			made = yaml_scalar_event_initialize(&ev,
				(yaml_char_t *)n->anchor, NULL, tilde, 1, 1, 0,
				YAML_PLAIN_SCALAR_STYLE);
			return emit_event(em, made, &ev);
		}
		if (mark && has_astral(n->value, n->len)) {
			struct ynode marked = *n;
			int ret;

			marked.value = mark_astral(n->value, n->len, mark,
						   &marked.len);
			ret = emit_node(em, &marked, NULL, in_flow, is_key,
					NULL);
			free(marked.value);
			return ret;
		}
		if (n->len > INT_MAX) {
			em->error = YAML_EMITTER_ERROR;
			em->problem = "scalar too long";
			return -1;
		}
		/* libyaml drops the tag of a scalar marked implicit. A
		 * tagged scalar is written with its tag, except the
		 * non-specific "!", which libyaml can only write as
		 * "!<%21>". PyYAML (cloud-init) resolves "! 0644" by its
		 * text, as a plain 0644: the resolved tag says the same
		 * ("!!int 0644"), and for a string quoting does. */
		if (n->tag && !strcmp(n->tag, "!") &&
		    bang_tag(n) != NULL)
			made = yaml_scalar_event_initialize(&ev,
				(yaml_char_t *)n->anchor,
				(yaml_char_t *)(uintptr_t)bang_tag(n),
				(yaml_char_t *)n->value, (int)n->len, 0, 0,
				(yaml_scalar_style_t)n->style);
		else if (n->tag && !strcmp(n->tag, "!"))
			made = yaml_scalar_event_initialize(&ev,
				(yaml_char_t *)n->anchor, NULL,
				(yaml_char_t *)n->value, (int)n->len, 0, 1,
				(yaml_scalar_style_t)n->style);
		else
			made = yaml_scalar_event_initialize(&ev,
				(yaml_char_t *)n->anchor,
				(yaml_char_t *)n->tag,
				(yaml_char_t *)n->value, (int)n->len,
				n->plain_implicit && !n->tag,
				n->quoted_implicit && !n->tag,
				(yaml_scalar_style_t)n->style);
		return emit_event(em, made, &ev);
	case YNODE_ALIAS:
		made = yaml_alias_event_initialize(&ev,
			(yaml_char_t *)n->value);
		return emit_event(em, made, &ev);
	case YNODE_SEQ:
		flow = in_flow || n->style == YAML_FLOW_SEQUENCE_STYLE;
		made = yaml_sequence_start_event_initialize(&ev,
			(yaml_char_t *)n->anchor, collection_tag(n),
			!collection_tag(n), (yaml_sequence_style_t)n->style);
		if (emit_event(em, made, &ev) < 0)
			return -1;
		for (size_t i = 0; i < n->n; i++)
			if (emit_node(em, n->items[i], NULL, flow, false,
				      mark) < 0)
				return -1;
		made = yaml_sequence_end_event_initialize(&ev);
		return emit_event(em, made, &ev);
	case YNODE_MAP:
		flow = in_flow || n->style == YAML_FLOW_MAPPING_STYLE;
		made = yaml_mapping_start_event_initialize(&ev,
			(yaml_char_t *)n->anchor, collection_tag(n),
			!collection_tag(n), (yaml_mapping_style_t)n->style);
		if (emit_event(em, made, &ev) < 0)
			return -1;
		for (size_t i = 0; i + 1 < n->n; i += 2) {
			if (skipped(n->items[i], skip_keys)) {
				const char *a = skipped_anchor(n->items[i]);

				if (!a)
					a = skipped_anchor(n->items[i + 1]);
				if (a) {
					em->error = YAML_EMITTER_ERROR;
					em->problem = "an anchor on a key left out";
					return -1;
				}
				continue;
			}
			if (emit_node(em, n->items[i], NULL, flow, true,
				      mark) < 0 ||
			    emit_node(em, n->items[i + 1], NULL, flow, false,
				      mark) < 0)
				return -1;
		}
		made = yaml_mapping_end_event_initialize(&ev);
		return emit_event(em, made, &ev);
	}
	return -1;
}

char *ynode_emit(const struct ynode *node, const char *const *skip_keys,
		 size_t *len, char *errbuf, size_t errsize)
{
	yaml_emitter_t em;
	yaml_event_t ev;
	struct outbuf out = { NULL, 0, 0 };
	char mark[3];
	bool has_mark;
	int ok;

	if (!yaml_emitter_initialize(&em)) {
		text_fail(errbuf, errsize, "out of memory");
		return NULL;
	}
	yaml_emitter_set_output(&em, write_out, &out);
	/* Unlimited width: long lines are not folded, so the text cloud-init
	 * reads is the text the user wrote. */
	yaml_emitter_set_width(&em, -1);
	yaml_emitter_set_unicode(&em, 1);
	has_mark = pick_mark(node, mark);
	ok = emit_event(&em, yaml_stream_start_event_initialize(&ev,
				YAML_UTF8_ENCODING), &ev) == 0 &&
	     emit_event(&em, yaml_document_start_event_initialize(&ev, NULL,
				NULL, NULL, 1), &ev) == 0 &&
	     emit_node(&em, node, skip_keys, false, false,
		       has_mark ? mark : NULL) == 0 &&
	     emit_event(&em, yaml_document_end_event_initialize(&ev, 1),
			&ev) == 0 &&
	     emit_event(&em, yaml_stream_end_event_initialize(&ev), &ev) == 0;
	if (!ok) {
		text_fail(errbuf, errsize, "cannot write YAML: %s",
		     em.error == YAML_MEMORY_ERROR ? "out of memory" :
		     em.problem ? em.problem : "emitter error");
		yaml_emitter_delete(&em);
		free(out.p);
		return NULL;
	}
	yaml_emitter_delete(&em);
	if (has_mark && out.p)
		out.len = unmark_astral(out.p, out.len, mark);
	/* libyaml ends a document whose last scalar keeps its trailing
	 * newlines ("|+") with "...", although nothing follows; a "..."
	 * line at column 0 at the very end is always that marker. */
	if (out.len >= 4 && !memcmp(out.p + out.len - 4, "...\n", 4) &&
	    (out.len == 4 || out.p[out.len - 5] == '\n'))
		out.len -= 4;
	if (!out.p)
		out.p = xcalloc(1, 1);
	else
		out.p[out.len] = '\0';	/* write_out keeps room for it */
	if (len)
		*len = out.len;
	return out.p;
}

char *ynode_emit_extended(const struct ynode *map, const char *const *skip_keys,
			  const char *const *extra, size_t *len, char *errbuf,
			  size_t errsize)
{
	struct ynode tmp = *map;
	struct ynode *added;
	size_t n_extra = 0;
	char *out;

	while (extra && extra[n_extra])
		n_extra++;
	/* A shallow copy with the pairs added: the user's nodes are only
	 * borrowed, ours live here. Block style, so the added lines can
	 * follow whatever the user's mapping holds. */
	added = xcalloc(n_extra ? n_extra : 1, sizeof(*added));
	tmp.items = xcalloc(map->n + n_extra + 1, sizeof(*tmp.items));
	memcpy(tmp.items, map->items, map->n * sizeof(*tmp.items));
	tmp.style = YAML_BLOCK_MAPPING_STYLE;
	for (size_t i = 0; i < n_extra; i++) {
		added[i].type = YNODE_SCALAR;
		added[i].value = (char *)(uintptr_t)extra[i];
		added[i].len = strlen(extra[i]);
		/* Keys plain; values double-quoted: "123" stays a string. */
		added[i].style = i % 2 ? YAML_DOUBLE_QUOTED_SCALAR_STYLE
				       : YAML_PLAIN_SCALAR_STYLE;
		added[i].plain_implicit = i % 2 == 0;
		added[i].quoted_implicit = true;
		tmp.items[map->n + i] = &added[i];
	}
	tmp.n = map->n + n_extra;
	out = ynode_emit(&tmp, skip_keys, len, errbuf, errsize);
	free(tmp.items);
	free(added);
	return out;
}
