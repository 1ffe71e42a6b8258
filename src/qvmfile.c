/*
 * qvmfile.c: read a qvm file, sort its documents, check the vm document.
 *
 * The checks run in a fixed order and the first problem found is the one
 * reported: the file, the stream as YAML (ynode.c: syntax, UTF-8, limits,
 * duplicate and non-scalar keys, anchors), the documents, then the vm
 * document's anchors, option names and values, name, disk and zvol, and
 * whether vmargs can translate it; last the seed's documents (the "qvm"
 * key, what PyYAML can load, the payload, the default host name). Nothing
 * here touches the host.
 */
#include "qvmfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "msg.h"
#include "text.h"
#include "vmargs.h"
#include "zfs.h"

#define STR_TAG "tag:yaml.org,2002:str"

/* A key or value from the file, safe to print in an error line. */
static const char *show(char *dst, size_t size, const char *s, size_t len)
{
	return text_show(dst, size, s, len, 70);
}

static const char *const doc_names[QVM_DOC__COUNT] = {
	[QVM_DOC_VM] = "vm",
	[QVM_DOC_USER_DATA] = "user-data",
	[QVM_DOC_META_DATA] = "meta-data",
	[QVM_DOC_NETWORK_CONFIG] = "network-config",
};

const char *qvm_doc_name(enum qvm_doc d)
{
	if ((size_t)d >= QVM_DOC__COUNT)
		return "?";
	return doc_names[d];
}

struct check {
	const char *task;
	const struct ynode *vm;
	size_t item;	/* 1-based index in a top-level list, or 0 */
};

/* "document 'vm', key 'PATH': WHAT" */
static int key_error(const struct check *ck, const char *path,
		     const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int key_error(const struct check *ck, const char *path,
		     const char *fmt, ...)
{
	char what[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	if (ck->item)
		return msg_error(ck->task,
				 "document 'vm', key '%s' (list item %zu): %s",
				 path, ck->item, what);
	return msg_error(ck->task, "document 'vm', key '%s': %s", path, what);
}

/* PARENT.KEY for messages (KEY alone at the top), the key shown safely. */
static char *key_path(const char *parent, const struct ynode *key)
{
	char shown[256];

	if (key->type == YNODE_SCALAR)
		show(shown, sizeof(shown), key->value, key->len);
	else
		snprintf(shown, sizeof(shown), "?");
	return parent ? xasprintf("%s.%s", parent, shown) : xstrdup(shown);
}

/* A scalar key with this text, however it is quoted (as ynode_map_get
 * and vmargs see keys). */
static bool key_is(const struct ynode *k, const char *text)
{
	return k->type == YNODE_SCALAR && k->len == strlen(text) &&
	       !memcmp(k->value, text, k->len);
}

static bool is_lower_or_digit(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* An untagged (or !!str) scalar matching [a-z0-9][a-z0-9<more>]*. */
static bool is_key_name(const struct ynode *k, const char *more)
{
	if (k->type != YNODE_SCALAR || !k->len ||
	    (k->tag && strcmp(k->tag, STR_TAG) != 0) ||
	    !is_lower_or_digit(k->value[0]))
		return false;
	for (size_t i = 1; i < k->len; i++) {
		char c = k->value[i];

		if (!is_lower_or_digit(c) && (!c || !strchr(more, c)))
			return false;
	}
	return true;
}

/* C0 controls, DEL, C1 controls (U+0080..U+009F) and the Unicode line
 * and paragraph separators: each can end or fake a line somewhere. The
 * text is valid UTF-8 (ynode checked it). */
static bool has_control(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;

	for (size_t i = 0; i < len; i++) {
		if (p[i] < 0x20 || p[i] == 0x7f)
			return true;
		if (p[i] == 0xc2 && i + 1 < len && p[i + 1] >= 0x80 &&
		    p[i + 1] <= 0x9f)
			return true;
		if (p[i] == 0xe2 && i + 2 < len && p[i + 1] == 0x80 &&
		    (p[i + 2] == 0xa8 || p[i + 2] == 0xa9))
			return true;
	}
	return false;
}

/* Anchors and aliases would make one value stand for another; in the vm
 * document that only hides what virt-install will be told. */
static int check_anchors(const struct check *ck, const struct ynode *n,
			 const char *path)
{
	char shown[128];
	int ret = 0;

	if (n->anchor || n->type == YNODE_ALIAS) {
		const char *name = n->anchor ? n->anchor : n->value;

		show(shown, sizeof(shown), name, strlen(name));
		if (!path)
			return msg_error(ck->task,
					 "document 'vm' (line %zu): anchors and aliases are not allowed (found %c%s)",
					 n->line, n->anchor ? '&' : '*',
					 shown);
		return key_error(ck, path,
				 "anchors and aliases are not allowed (found %c%s)",
				 n->anchor ? '&' : '*', shown);
	}
	if (n->type == YNODE_SEQ) {
		for (size_t i = 0; ret == 0 && i < n->n; i++)
			ret = check_anchors(ck, n->items[i], path);
	} else if (n->type == YNODE_MAP) {
		for (size_t i = 0; ret == 0 && i + 1 < n->n; i += 2) {
			char *sub = key_path(path, n->items[i]);

			ret = check_anchors(ck, n->items[i], sub);
			if (ret == 0)
				ret = check_anchors(ck, n->items[i + 1], sub);
			free(sub);
		}
	}
	return ret;
}

static int check_value(const struct check *ck, const char *path,
		       const struct ynode *v)
{
	if (has_control(v->value, v->len))
		return key_error(ck, path,
				 "control characters (newline, tab, ...) are not allowed in a value");
	return 0;
}

/* A sub-option mapping: keys [a-z0-9][a-z0-9_.-]*, scalar or mapping
 * values. A disk's "zvol" is left to check_disk. */
static int check_suboptions(const struct check *ck, const char *path,
			    const struct ynode *map, bool skip_zvol)
{
	int ret = 0;

	for (size_t i = 0; ret == 0 && i + 1 < map->n; i += 2) {
		const struct ynode *k = map->items[i], *v = map->items[i + 1];
		char *sub = key_path(path, k);

		if (!is_key_name(k, "_.-"))
			ret = key_error(ck, sub,
					"not a valid sub-option name (use [a-z0-9][a-z0-9_.-]*)");
		else if (skip_zvol && key_is(k, "zvol"))
			ret = 0;
		else if (v->type == YNODE_SCALAR)
			ret = check_value(ck, sub, v);
		else if (v->type == YNODE_MAP)
			ret = check_suboptions(ck, sub, v, false);
		else
			ret = key_error(ck, sub,
					"a list is only allowed directly under a top-level key");
		free(sub);
	}
	return ret;
}

static int check_options(const struct check *ck)
{
	const struct ynode *vm = ck->vm;
	int ret = 0;

	for (size_t i = 0; ret == 0 && i + 1 < vm->n; i += 2) {
		const struct ynode *k = vm->items[i], *v = vm->items[i + 1];
		bool disk = key_is(k, "disk");
		char *path = key_path(NULL, k);

		if (!is_key_name(k, "_-")) {
			ret = key_error(ck, path,
					"not a valid option name (use [a-z0-9][a-z0-9_-]*)");
		} else if (!key_is(k, "qvm") &&
			   vmargs_refused_option(k->value)) {
			ret = key_error(ck, path, "%s",
					vmargs_refused_option(k->value));
		} else if (v->type == YNODE_SCALAR) {
			ret = check_value(ck, path, v);
		} else if (v->type == YNODE_MAP) {
			ret = check_suboptions(ck, path, v, disk);
		} else {
			for (size_t j = 0; ret == 0 && j < v->n; j++) {
				const struct ynode *item = v->items[j];
				struct check in = *ck;

				in.item = j + 1;
				if (item->type == YNODE_SCALAR)
					ret = check_value(&in, path, item);
				else if (item->type == YNODE_MAP)
					ret = check_suboptions(&in, path, item,
							       disk);
				else
					ret = key_error(&in, path,
							"a list cannot hold a list");
			}
		}
		free(path);
	}
	return ret;
}

/* A libvirt domain name and a zfs dataset component at once. */
static int check_name(const struct check *ck, struct qvmfile *qf)
{
	const struct ynode *n = ynode_map_get(ck->vm, "name");
	char shown[256];
	bool ok;

	if (!n)
		return msg_error(ck->task,
				 "document 'vm' (line %zu): key 'name' is missing",
				 ck->vm->line);
	if (n->type != YNODE_SCALAR)
		return key_error(ck, "name", "must be a string");
	show(shown, sizeof(shown), n->value, n->len);
	if (n->len > QVMFILE_MAX_NAME)
		return key_error(ck, "name", "'%s' is longer than %d characters",
				 shown, QVMFILE_MAX_NAME);
	ok = n->len > 0 && n->value[0] != '-' && n->value[0] != '.' &&
	     strspn(n->value, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
			      "abcdefghijklmnopqrstuvwxyz"
			      "0123456789_.:-") == n->len;
	if (!ok)
		return key_error(ck, "name",
				 "'%s' is not a valid VM name (use A-Za-z0-9_.:-, not starting with '-' or '.')",
				 shown);
	/* "name: false" would reach virt-install as no --name at all, and
	 * "name: 1_0" as a name cloud-init and qvm read differently. */
	if (ynode_kind(n) != YNODE_STR)
		return key_error(ck, "name",
				 "'%s' is %s in YAML 1.1, not a string (quote it)",
				 shown, ynode_kind_name(ynode_kind(n)));
	qf->name = n->value;
	return 0;
}

/* A zfs size: digits with an optional fraction, then an optional K, M,
 * G, T, P or E (any case) and an optional B: 20G, 20480M, 1.5T, 10GB,
 * 21474836480. (zfs also takes "GiB" and "Z"; zfs_parse_size, which
 * compares sizes later, does not, so neither does this.) */
static bool is_zfs_size(const char *s, size_t len)
{
	size_t i = strspn(s, "0123456789");

	if (i == 0 || len > 32 || strlen(s) != len)
		return false;
	if (s[i] == '.') {
		size_t frac = strspn(s + i + 1, "0123456789");

		if (frac == 0)
			return false;
		i += 1 + frac;
	}
	if (s[i] && strchr("KMGTPEkmgtpe", s[i]))
		i++;
	if (s[i] == 'B' || s[i] == 'b')
		i++;
	return i == len;
}

static int check_zvol(const struct check *ck, struct qvmfile *qf,
		      const struct ynode *zvol)
{
	char shown[256];

	if (zvol->type != YNODE_MAP)
		return key_error(ck, "disk.zvol", "must be a mapping");
	for (size_t i = 0; i + 1 < zvol->n; i += 2) {
		const struct ynode *k = zvol->items[i], *v = zvol->items[i + 1];
		char *path = key_path("disk.zvol", k);
		int ret = 0;

		if (!is_key_name(k, "_.:-"))
			ret = key_error(ck, path,
					"not a valid zfs property name (use [a-z0-9][a-z0-9_.:-]*)");
		else if (v->type != YNODE_SCALAR || ynode_is_null(v))
			ret = key_error(ck, path, "needs a value");
		else if (check_value(ck, path, v) < 0)
			ret = -1;
		free(path);
		if (ret < 0)
			return -1;
		show(shown, sizeof(shown), v->value, v->len);
		if (key_is(k, "base")) {
			if (!zfs_volume_name_ok(v->value, v->len))
				return key_error(ck, "disk.zvol.base",
						 "'%s' is not a dataset name with a parent (pool/.../name, characters A-Za-z0-9_.:-)",
						 shown);
			qf->base = v->value;
		} else if (key_is(k, "volsize")) {
			if (!is_zfs_size(v->value, v->len))
				return key_error(ck, "disk.zvol.volsize",
						 "'%s' is not a zfs size (e.g. 20G, 20480M, 1.5T)",
						 shown);
			qf->volsize = v->value;
		} else {
			strvec_pushf(&qf->zvol_props, "%s=%s", k->value,
				     v->value);
		}
	}
	if (!qf->base)
		return key_error(ck, "disk.zvol", "key 'base' is missing");
	return 0;
}

/* Exactly one disk carries the zvol qvm clones, and qvm names its path. */
static int check_disk(const struct check *ck, struct qvmfile *qf)
{
	const struct ynode *disk = ynode_map_get(ck->vm, "disk");
	const struct ynode *const *entries;
	const struct ynode *found = NULL;
	size_t n;

	if (!disk)
		return msg_error(ck->task,
				 "document 'vm' (line %zu): key 'disk' is missing",
				 ck->vm->line);
	if (disk->type == YNODE_MAP) {
		entries = (const struct ynode *const *)&disk;
		n = 1;
	} else if (disk->type == YNODE_SEQ) {
		entries = (const struct ynode *const *)disk->items;
		n = disk->n;
	} else {
		return key_error(ck, "disk",
				 "must be a mapping or a list of mappings");
	}
	for (size_t i = 0; i < n; i++) {
		if (entries[i]->type != YNODE_MAP)
			return key_error(ck, "disk",
					 "must be a mapping or a list of mappings");
		if (!ynode_map_get(entries[i], "zvol"))
			continue;
		if (found)
			return key_error(ck, "disk",
					 "more than one disk has a 'zvol'");
		found = entries[i];
	}
	if (!found)
		return key_error(ck, "disk",
				 "no disk has a 'zvol' (the volume qvm clones)");
	if (ynode_map_get(found, "path"))
		return key_error(ck, "disk.path",
				 "qvm sets the zvol disk's path; remove it");
	qf->zvol_disk = found;
	return check_zvol(ck, qf, ynode_map_get(found, "zvol"));
}

static int check_vm(const struct check *ck, struct qvmfile *qf)
{
	struct strvec argv = STRVEC_INIT;
	char err[512];
	int ret;

	if (check_anchors(ck, ck->vm, NULL) < 0 || check_options(ck) < 0 ||
	    check_name(ck, qf) < 0 || check_disk(ck, qf) < 0)
		return -1;
	/* Placeholders: only whether it translates matters here. */
	ret = vmargs_build(ck->vm, "/dev/zvol/qvm-check", "/qvm-check/seed.iso",
			   &argv, err, sizeof(err));
	strvec_clear(&argv);
	if (ret < 0)
		return msg_error(ck->task, "document 'vm', %s", err);
	return 0;
}

/* Each document is a mapping whose "qvm" says what it is; each kind
 * once, and vm, user-data and meta-data all there. */
static int sort_documents(const char *task, struct qvmfile *qf)
{
	static const char *const known =
		"use vm, user-data, meta-data or network-config";
	char shown[256];

	for (size_t i = 0; i < qf->stream.n; i++) {
		struct ynode *d = qf->stream.docs[i];
		const struct ynode *q;
		size_t k;

		/* An empty document is a null scalar placed where the
		 * next token is, past the end of the file at worst: its
		 * "---" (or first token) is where it is. */
		if (d->type == YNODE_SCALAR && !d->len && !d->tag &&
		    ynode_is_null(d))
			return msg_error(task,
					 "document %zu (line %zu): empty (each document must be a mapping)",
					 i + 1, qf->stream.line[i]);
		if (d->type != YNODE_MAP)
			return msg_error(task,
					 "document %zu (line %zu): not a mapping",
					 i + 1, d->line);
		q = ynode_map_get(d, "qvm");
		if (!q)
			return msg_error(task,
					 "document %zu (line %zu): key 'qvm' is missing",
					 i + 1, d->line);
		if (q->type != YNODE_SCALAR)
			return msg_error(task,
					 "document %zu (line %zu), key 'qvm': must be a string (%s)",
					 i + 1, d->line, known);
		for (k = 0; k < QVM_DOC__COUNT; k++)
			if (q->len == strlen(doc_names[k]) &&
			    !memcmp(q->value, doc_names[k], q->len))
				break;
		if (k == QVM_DOC__COUNT)
			return msg_error(task,
					 "document %zu (line %zu), key 'qvm': unknown document '%s' (%s)",
					 i + 1, d->line,
					 show(shown, sizeof(shown), q->value,
					      q->len), known);
		if (qf->doc[k])
			return msg_error(task,
					 "document '%s' (line %zu): given twice (first at line %zu)",
					 doc_names[k], d->line,
					 qf->doc[k]->line);
		qf->doc[k] = d;
	}
	for (size_t k = 0; k < QVM_DOC__COUNT; k++)
		if (!qf->doc[k] && k != QVM_DOC_NETWORK_CONFIG)
			return msg_error(task, "document '%s' is missing",
					 doc_names[k]);
	return 0;
}

/* ---- the seed's documents ---- */

/* The node an alias stands for: the last node before it in document
 * order with that anchor (YAML lets a later anchor reuse a name). */
static const struct ynode *find_anchor(const struct ynode *n,
				       const struct ynode *alias,
				       const struct ynode **found, bool *done)
{
	if (n == alias) {
		*done = true;
		return *found;
	}
	if (n->anchor && !strcmp(n->anchor, alias->value))
		*found = n;
	for (size_t i = 0; i < n->n && !*done; i++)
		find_anchor(n->items[i], alias, found, done);
	return *found;
}

static const struct ynode *resolve_alias(const struct ynode *doc,
					 const struct ynode *n)
{
	const struct ynode *found = NULL;
	bool done = false;

	if (n->type != YNODE_ALIAS)
		return n;
	return find_anchor(doc, n, &found, &done);
}

/* "<<" as PyYAML reads it: plain, or tagged !!merge. */
static bool is_merge_key(const struct ynode *k)
{
	return k->type == YNODE_SCALAR && k->len == 2 &&
	       !memcmp(k->value, "<<", 2) && ynode_kind(k) == YNODE_OTHER;
}

/* Does merging v (a mapping, an alias of one, or a list of those) bring
 * in key "qvm"? Merged mappings may merge others in turn (even
 * themselves): *budget bounds the mappings looked at. */
static bool merges_qvm(const struct ynode *doc, const struct ynode *v,
		       int *budget)
{
	if (--*budget < 0)
		return true;
	v = resolve_alias(doc, v);
	if (!v)
		return false;
	if (v->type == YNODE_SEQ) {
		for (size_t i = 0; i < v->n; i++)
			if (merges_qvm(doc, v->items[i], budget))
				return true;
		return false;
	}
	if (v->type != YNODE_MAP)
		return false;
	for (size_t i = 0; i + 1 < v->n; i += 2) {
		if (key_is(v->items[i], "qvm"))
			return true;
		if (is_merge_key(v->items[i]) &&
		    merges_qvm(doc, v->items[i + 1], budget))
			return true;
	}
	return false;
}

/*
 * qvm writes user-data, meta-data and network-config without their "qvm"
 * key; what cloud-init loads must be the rest exactly. An anchor on that
 * key or its value would be left out with it, and its aliases would
 * dangle (cloud-init drops the whole file); a top-level merge bringing in
 * a "qvm" key would put one back.
 */
static int check_qvm_key(const char *task, const char *dname,
			 const struct ynode *doc)
{
	for (size_t i = 0; i + 1 < doc->n; i += 2) {
		const struct ynode *k = doc->items[i], *v = doc->items[i + 1];
		char shown[128];
		int budget = 64;

		if (key_is(k, "qvm") && (k->anchor || v->anchor)) {
			const char *a = k->anchor ? k->anchor : v->anchor;

			return msg_error(task,
					 "document '%s', key 'qvm': anchors are not allowed here, qvm leaves this key out of the seed (found &%s)",
					 dname, show(shown, sizeof(shown), a,
						     strlen(a)));
		}
		if (is_merge_key(k) && merges_qvm(doc, v, &budget))
			return msg_error(task,
					 "document '%s', key '<<': merges in a 'qvm' key, which cloud-init would read (or more than 64 mappings)",
					 dname);
	}
	return 0;
}

/*
 * PyYAML's safe_load knows a few tags; any other one, or a plain "=" (the
 * value tag) or "<<" (merge) anywhere but as a key, makes it fail, and
 * cloud-init then drops the whole file. Such nodes are refused here, with
 * their place.
 */
static bool safe_tag(const struct ynode *n, bool is_key)
{
	static const char *const scalar[] = { "str", "null", "bool", "int",
					      "float", "binary", "timestamp",
					      NULL };
	static const char *const seq[] = { "seq", "omap", "pairs", NULL };
	static const char *const map[] = { "map", "set", NULL };
	const char *const *ok = n->type == YNODE_SCALAR ? scalar :
				n->type == YNODE_SEQ ? seq : map;

	if (!n->tag || !strcmp(n->tag, "!"))
		return true;
	if (strncmp(n->tag, "tag:yaml.org,2002:", 18) != 0)
		return false;
	if (is_key && !strcmp(n->tag + 18, "merge"))
		return true;
	for (; *ok; ok++)
		if (!strcmp(n->tag + 18, *ok))
			return true;
	return false;
}

static int check_safe_load(const char *task, const char *dname,
			   const struct ynode *n, bool is_key)
{
	char shown[128];
	int ret = 0;

	if (n->type == YNODE_ALIAS)
		return 0;
	if (!safe_tag(n, is_key))
		return msg_error(task,
				 "document '%s' (line %zu, column %zu): tag '%s' is unknown to PyYAML's safe_load, which cloud-init uses (it would drop the whole file)",
				 dname, n->line, n->column,
				 show(shown, sizeof(shown), n->tag,
				      strlen(n->tag)));
	if (n->type == YNODE_SCALAR && ynode_kind(n) == YNODE_OTHER &&
	    (!n->tag || !strcmp(n->tag, "!")) &&
	    !(is_key && (!strcmp(n->value, "<<") || !strcmp(n->value, "="))))
		return msg_error(task,
				 "document '%s' (line %zu, column %zu): a plain '%s' is not a value PyYAML's safe_load, which cloud-init uses, can read (quote it)",
				 dname, n->line, n->column, n->value);
	for (size_t i = 0; ret == 0 && i < n->n; i++)
		ret = check_safe_load(task, dname, n->items[i],
				      n->type == YNODE_MAP && i % 2 == 0);
	return ret;
}

/*
 * A user-data document may carry, instead of cloud-config keys, one
 * "payload" string written to the seed byte for byte: a "#!" script,
 * MIME multipart, "#include", "## template: jinja", ...
 */
static int check_payload(const char *task, struct qvmfile *qf)
{
	const struct ynode *ud = qf->doc[QVM_DOC_USER_DATA];
	const struct ynode *p = ynode_map_get(ud, "payload");
	char shown[128];

	if (!p)
		return 0;
	for (size_t i = 0; i + 1 < ud->n; i += 2)
		if (!key_is(ud->items[i], "qvm") &&
		    !key_is(ud->items[i], "payload"))
			return msg_error(task,
					 "document 'user-data', key '%s': a user-data document with 'payload' holds only 'qvm' and 'payload'",
					 show(shown, sizeof(shown),
					      ud->items[i]->value,
					      ud->items[i]->len));
	if (p->type != YNODE_SCALAR || ynode_kind(p) != YNODE_STR)
		return msg_error(task,
				 "document 'user-data', key 'payload': must be a string (a block literal: 'payload: |')");
	if (strlen(p->value) != p->len)
		return msg_error(task,
				 "document 'user-data', key 'payload': a NUL character cannot be written to the seed");
	qf->payload = p->value;
	qf->payload_len = p->len;
	return 0;
}

/* RFC 1123 host name: dot-separated labels of letters, digits and '-',
 * 1 to 63 characters each, not starting or ending with '-'; at most 253
 * characters. */
static bool is_host_name(const char *s)
{
	size_t len = strlen(s), label = 0;

	if (!len || len > 253)
		return false;
	for (size_t i = 0; i <= len; i++) {
		char c = s[i];

		if (c == '.' || c == '\0') {
			if (!label || s[i - 1] == '-')
				return false;
			label = 0;
		} else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			   (c >= '0' && c <= '9') || (c == '-' && label)) {
			if (++label > 63)
				return false;
		} else {
			return false;
		}
	}
	return true;
}

/* meta-data's local-hostname defaults to the VM name; a name that is no
 * host name (web_1, a:b, x.) must not be handed to the guest as one. */
static int check_host_name(const char *task, const struct qvmfile *qf)
{
	char shown[128];

	if (ynode_map_get(qf->doc[QVM_DOC_META_DATA], "local-hostname") ||
	    is_host_name(qf->name))
		return 0;
	return msg_error(task,
			 "document 'meta-data': the VM name '%s' is not a valid host name (RFC 1123: labels of A-Za-z0-9 and '-', not starting or ending with '-'), so it cannot be the default local-hostname; set local-hostname",
			 show(shown, sizeof(shown), qf->name,
			      strlen(qf->name)));
}

static int check_seed_documents(const char *task, struct qvmfile *qf)
{
	for (size_t k = QVM_DOC_USER_DATA; k < QVM_DOC__COUNT; k++)
		if (qf->doc[k] &&
		    (check_qvm_key(task, doc_names[k], qf->doc[k]) < 0 ||
		     check_safe_load(task, doc_names[k], qf->doc[k],
				     false) < 0))
			return -1;
	if (check_payload(task, qf) < 0 || check_host_name(task, qf) < 0)
		return -1;
	return 0;
}

int qvmfile_parse(const char *path, const char *buf, size_t len,
		  struct qvmfile *qf)
{
	char *task = xasprintf("importing qvm file %s", path);
	struct check ck = { task, NULL, 0 };
	char err[512];
	int ret = -1;

	memset(qf, 0, sizeof(*qf));
	if (len > QVMFILE_MAX_SIZE) {
		msg_error(task, "file is larger than 1 MiB");
		goto done;
	}
	if (ystream_load(buf, len, &qf->stream, err, sizeof(err)) < 0) {
		msg_error(task, "%s", err);
		goto done;
	}
	if (sort_documents(task, qf) < 0)
		goto done;
	ck.vm = qf->doc[QVM_DOC_VM];
	if (check_vm(&ck, qf) < 0 || check_seed_documents(task, qf) < 0)
		goto done;
	qf->path = xstrdup(path);
	ret = 0;
done:
	if (ret < 0)
		qvmfile_free(qf);
	free(task);
	return ret;
}

int qvmfile_load(const char *path, struct qvmfile *qf)
{
	char *task = xasprintf("importing qvm file %s", path);
	char *buf = NULL;
	size_t len = 0;
	struct stat st;
	int fd, ret = -1;

	memset(qf, 0, sizeof(*qf));
	/* O_NONBLOCK: a FIFO must not hang the open; it is refused below. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		msg_error(task, "%s", strerror(errno));
		goto done;
	}
	if (fstat(fd, &st) < 0) {
		msg_error(task, "%s", strerror(errno));
		goto done;
	}
	if (!S_ISREG(st.st_mode)) {
		msg_error(task, "not a regular file");
		goto done;
	}
	if (st.st_size > QVMFILE_MAX_SIZE) {
		msg_error(task, "file is larger than 1 MiB");
		goto done;
	}
	/* One byte more than allowed, in case the file grew since fstat. */
	buf = xmalloc(QVMFILE_MAX_SIZE + 1);
	while (len <= QVMFILE_MAX_SIZE) {
		ssize_t r = read(fd, buf + len, QVMFILE_MAX_SIZE + 1 - len);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			msg_error(task, "%s", strerror(errno));
			goto done;
		}
		if (r == 0)
			break;
		len += (size_t)r;
	}
	if (len > QVMFILE_MAX_SIZE) {
		msg_error(task, "file is larger than 1 MiB");
		goto done;
	}
	ret = qvmfile_parse(path, buf, len, qf);
done:
	if (fd >= 0)
		close(fd);
	free(buf);
	free(task);
	return ret;
}

void qvmfile_free(struct qvmfile *qf)
{
	ystream_free(&qf->stream);
	strvec_clear(&qf->zvol_props);
	free(qf->path);
	memset(qf, 0, sizeof(*qf));
}
