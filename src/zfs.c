#include "zfs.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "msg.h"
#include "tags.h"
#include "undo.h"

/*
 * OpenZFS prints "ACTION: DESCRIPTION"; the descriptions below are its own
 * texts (libzfs_util.c, libzfs_dataset.c, zfs_main.c). The first row whose
 * text occurs in stderr wins, so the more specific rows come first.
 */
static const struct {
	const char *text;
	enum zfs_err code;
} zfs_messages[] = {
	{ "dataset already exists", ZFS_ERR_EXISTS },
	{ "parent does not exist", ZFS_ERR_NOPARENT },
	{ "no such parent '", ZFS_ERR_NOPARENT },
	{ "no such pool '", ZFS_ERR_NOPOOL },
	{ ": no such pool", ZFS_ERR_NOPOOL },
	{ "dataset does not exist", ZFS_ERR_NOENT },
	{ "could not find any snapshots to destroy", ZFS_ERR_NOENT },
	{ "parent is not a filesystem", ZFS_ERR_WRONG_PARENT },
	{ "name is too long", ZFS_ERR_NAME_TOO_LONG },
	{ "invalid character '", ZFS_ERR_NAME },
	{ "leading slash in name", ZFS_ERR_NAME },
	{ "trailing slash in name", ZFS_ERR_NAME },
	{ "empty component or misplaced", ZFS_ERR_NAME },
	{ "missing dataset name", ZFS_ERR_NAME },
	{ "missing '@' delimiter", ZFS_ERR_NAME },
	{ "snapshot delimiter '@' is not expected here", ZFS_ERR_NAME },
	{ "maximum name nesting depth exceeded", ZFS_ERR_NAME },
	{ "source and target pools differ", ZFS_ERR_CROSS_POOL },
	{ "volume size must be a multiple of volume block size",
	  ZFS_ERR_VOLSIZE },
	{ "'volsize' must be a multiple of volume block size",
	  ZFS_ERR_VOLSIZE },
	{ "volume size cannot be zero", ZFS_ERR_VOLSIZE },
	{ "missing volume size", ZFS_ERR_VOLSIZE },
	{ "bad volume size '", ZFS_ERR_VOLSIZE },
	{ "invalid property '", ZFS_ERR_PROPERTY },
	{ "bad numeric value '", ZFS_ERR_PROPERTY },
	{ "numeric value is too large", ZFS_ERR_PROPERTY },
	{ "invalid numeric suffix '", ZFS_ERR_PROPERTY },
	{ "must be one of '", ZFS_ERR_PROPERTY },
	{ "must be power of 2 from 512B", ZFS_ERR_PROPERTY },
	{ "is readonly", ZFS_ERR_PROPERTY },
	{ "does not apply to datasets of this type", ZFS_ERR_PROPERTY },
	{ "invalid property value", ZFS_ERR_PROPERTY },
	{ "specified multiple times", ZFS_ERR_PROPERTY },
	{ "missing '=' for property=value argument", ZFS_ERR_PROPERTY },
	{ "permission denied", ZFS_ERR_PERM },
	{ "Permission denied", ZFS_ERR_PERM },
	{ "delegated administration is disabled on pool", ZFS_ERR_PERM },
	{ "out of space", ZFS_ERR_NOSPC },
	{ "dataset is busy", ZFS_ERR_BUSY },
	{ "it's being held", ZFS_ERR_BUSY },
	{ "pool is read-only", ZFS_ERR_READONLY },
	{ "pool I/O is currently suspended", ZFS_ERR_SUSPENDED },
	{ "has dependent clones", ZFS_ERR_HAS_CLONES },
	{ "snapshot is cloned", ZFS_ERR_HAS_CLONES },
	{ "has children", ZFS_ERR_HAS_CHILDREN },
	{ "The ZFS modules are not loaded", ZFS_ERR_NOT_LOADED },
	{ "The ZFS modules cannot be auto-loaded", ZFS_ERR_NOT_LOADED },
	{ "/dev/zfs and /proc/self/mounts are required", ZFS_ERR_NOT_LOADED },
};

static const char *const explanations[ZFS_ERR__COUNT] = {
	[ZFS_OK] = "success",
	[ZFS_ERR_EXISTS] = "it already exists",
	[ZFS_ERR_NOENT] = "it does not exist",
	[ZFS_ERR_NOPARENT] = "its parent dataset does not exist",
	[ZFS_ERR_NOPOOL] = "its pool does not exist",
	[ZFS_ERR_WRONG_PARENT] = "its parent is not a filesystem",
	[ZFS_ERR_NAME] = "that is not a valid ZFS dataset name",
	[ZFS_ERR_NAME_TOO_LONG] = "the name is too long for ZFS",
	[ZFS_ERR_CROSS_POOL] = "a clone must be in the same pool as its origin",
	[ZFS_ERR_PROPERTY] = "a property or its value is not valid",
	[ZFS_ERR_VOLSIZE] = "the volume size is not valid",
	[ZFS_ERR_PERM] = "permission denied (run qvm as root)",
	[ZFS_ERR_NOSPC] = "the pool is out of space",
	[ZFS_ERR_BUSY] = "the dataset is busy",
	[ZFS_ERR_READONLY] = "the pool is read-only",
	[ZFS_ERR_SUSPENDED] = "the pool's I/O is suspended",
	[ZFS_ERR_HAS_CLONES] = "its snapshot has dependent clones",
	[ZFS_ERR_HAS_CHILDREN] = "it has snapshots or child datasets",
	[ZFS_ERR_NOT_LOADED] = "ZFS is not available on this host",
	[ZFS_ERR_NOT_FOUND_CMD] = "the zfs command is not installed",
	[ZFS_ERR_OUTPUT] = "its output is larger than qvm accepts",
	[ZFS_ERR_GENERIC] = "zfs failed",
};

const char *zfs_explain(enum zfs_err code)
{
	if ((unsigned)code >= ZFS_ERR__COUNT || !explanations[code])
		return "unknown error";
	return explanations[code];
}

const char *zfs_message_text(size_t i)
{
	if (i >= sizeof(zfs_messages) / sizeof(zfs_messages[0]))
		return NULL;
	return zfs_messages[i].text;
}

enum zfs_err zfs_classify(const char *err, int status)
{
	if (status == 0)
		return ZFS_OK;
	if (status == RUN_OUTPUT_TOO_LONG)
		return ZFS_ERR_OUTPUT;
	if (status < 0)
		return ZFS_ERR_NOT_FOUND_CMD;
	for (size_t i = 0; i < sizeof(zfs_messages) / sizeof(zfs_messages[0]);
	     i++)
		if (strstr(err, zfs_messages[i].text))
			return zfs_messages[i].code;
	return ZFS_ERR_GENERIC;
}

/* Runs argv and fills zr; returns 0 on exit status 0, else -1. */
static int zfs_run(const struct runner *r, struct strvec *argv,
		   enum run_effect effect, char **out, struct zfs_result *zr)
{
	struct run_result res;
	int status;

	status = runner_run(r, strvec_argv(argv), effect, &res);
	zr->status = status;
	zr->code = zfs_classify(res.err, status);
	zr->message[0] = '\0';
	if (status != 0) {
		/* zfs's first line says what failed; usage text may follow. */
		size_t n = strcspn(res.err, "\n");

		if (n >= sizeof(zr->message))
			n = sizeof(zr->message) - 1;
		memcpy(zr->message, res.err, n);
		zr->message[n] = '\0';
		if (!n && status > 128)
			snprintf(zr->message, sizeof(zr->message),
				 "zfs was killed by signal %d", status - 128);
		else if (!n)
			snprintf(zr->message, sizeof(zr->message),
				 "zfs exited with status %d", status);
	}
	if (out && status == 0) {
		*out = res.out;
		res.out = NULL;
	}
	run_result_clear(&res);
	strvec_clear(argv);
	return status == 0 ? 0 : -1;
}

static void push_props(struct strvec *argv, const struct strvec *props)
{
	if (!props)
		return;
	for (size_t i = 0; i < props->n; i++) {
		strvec_push(argv, "-o");
		strvec_push(argv, props->v[i]);
	}
}

int zfs_create_volume(const struct runner *r, const char *name,
		      uint64_t size, const struct strvec *props,
		      struct zfs_result *zr)
{
	struct strvec argv = STRVEC_INIT;

	strvec_push(&argv, "zfs");
	strvec_push(&argv, "create");
	strvec_push(&argv, "-V");
	strvec_pushf(&argv, "%llu", (unsigned long long)size);
	push_props(&argv, props);
	strvec_push(&argv, name);
	return zfs_run(r, &argv, RUN_COMMITS, NULL, zr);
}

int zfs_snapshot(const struct runner *r, const char *snapshot,
		 struct zfs_result *zr)
{
	struct strvec argv = STRVEC_INIT;

	strvec_pushv(&argv, (const char *const[]){ "zfs", "snapshot",
						   snapshot, NULL });
	return zfs_run(r, &argv, RUN_COMMITS, NULL, zr);
}

int zfs_set(const struct runner *r, const char *name, const char *prop,
	    struct zfs_result *zr)
{
	struct strvec argv = STRVEC_INIT;

	strvec_pushv(&argv, (const char *const[]){ "zfs", "set", prop, name,
						   NULL });
	return zfs_run(r, &argv, RUN_COMMITS, NULL, zr);
}

int zfs_clone(const struct runner *r, const char *snapshot,
	      const char *target, const struct strvec *props,
	      struct zfs_result *zr)
{
	struct strvec argv = STRVEC_INIT;

	strvec_push(&argv, "zfs");
	strvec_push(&argv, "clone");
	push_props(&argv, props);
	strvec_push(&argv, snapshot);
	strvec_push(&argv, target);
	return zfs_run(r, &argv, RUN_COMMITS, NULL, zr);
}

int zfs_destroy(const struct runner *r, const char *name, bool recursive,
		struct zfs_result *zr)
{
	struct strvec argv = STRVEC_INIT;

	strvec_push(&argv, "zfs");
	strvec_push(&argv, "destroy");
	if (recursive)
		strvec_push(&argv, "-r");
	strvec_push(&argv, name);
	return zfs_run(r, &argv, RUN_COMMITS, NULL, zr);
}

/* zfs get -Hp -o value [-s local] PROP NAME */
static int get_value(const struct runner *r, const char *name,
		     const char *prop, bool local, char **value,
		     struct zfs_result *zr)
{
	struct strvec argv = STRVEC_INIT;
	char *out = NULL;

	strvec_pushv(&argv, (const char *const[]){ "zfs", "get", "-Hp", "-o",
						   "value", NULL });
	if (local) {
		strvec_push(&argv, "-s");
		strvec_push(&argv, "local");
	}
	strvec_push(&argv, prop);
	strvec_push(&argv, name);
	if (zfs_run(r, &argv, RUN_READS, &out, zr) < 0)
		return -1;
	out[strcspn(out, "\n")] = '\0';
	*value = out;
	return 0;
}

int zfs_get(const struct runner *r, const char *name, const char *prop,
	    char **value, struct zfs_result *zr)
{
	return get_value(r, name, prop, false, value, zr);
}

int zfs_get_local_value(const struct runner *r, const char *name,
			const char *prop, char **value,
			struct zfs_result *zr)
{
	return get_value(r, name, prop, true, value, zr);
}

int zfs_exists(const struct runner *r, const char *name,
	       struct zfs_result *zr)
{
	char *type = NULL;

	if (zfs_get(r, name, "type", &type, zr) == 0) {
		free(type);
		return 1;
	}
	return zr->code == ZFS_ERR_NOENT ? 0 : -1;
}

int zfs_list(const struct runner *r, const char *props, const char *types,
	     const char *name, char **out, struct zfs_result *zr)
{
	struct strvec argv = STRVEC_INIT;

	strvec_pushv(&argv, (const char *const[]){ "zfs", "list", "-H", "-p",
						   "-o", props, NULL });
	if (types) {
		strvec_push(&argv, "-t");
		strvec_push(&argv, types);
	}
	if (name)
		strvec_push(&argv, name);
	return zfs_run(r, &argv, RUN_READS, out, zr);
}

int zfs_get_local(const struct runner *r, const char *props,
		  const char *types, const char *name, char **out,
		  struct zfs_result *zr)
{
	struct strvec argv = STRVEC_INIT;

	strvec_pushv(&argv, (const char *const[]){ "zfs", "get", "-H", "-p",
						   "-s", "local", "-o",
						   "name,property,value",
						   NULL });
	if (types) {
		strvec_push(&argv, "-t");
		strvec_push(&argv, types);
	}
	strvec_push(&argv, props);
	if (name)
		strvec_push(&argv, name);
	return zfs_run(r, &argv, RUN_READS, out, zr);
}

int zfs_snapshots(const struct runner *r, const char *name, char **out,
		  struct zfs_result *zr)
{
	struct strvec argv = STRVEC_INIT;

	strvec_pushv(&argv, (const char *const[]){ "zfs", "list", "-H", "-o",
						   "name", "-t", "snapshot",
						   "-d", "1", name, NULL });
	return zfs_run(r, &argv, RUN_READS, out, zr);
}

int zfs_made_by_run(const struct runner *r, const char *name,
		    const char *run_id)
{
	struct zfs_result zr;
	char *value = NULL;
	int made;

	if (zfs_get(r, name, TAG_RUN, &value, &zr) < 0)
		return 0;
	made = strcmp(value, run_id) == 0;
	free(value);
	return made;
}

int zfs_report(const char *task, const char *doing, const char *dataset,
	       const struct zfs_result *zr)
{
	return msg_error(task, "could not %s %s: %s (%s)", doing, dataset,
			 zfs_explain(zr->code), zr->message);
}

/* pool/.../name: at least two components of A-Za-z0-9_.:-, none "." or
 * "..", the pool starting with a letter, no snapshot part. */
bool zfs_volume_name_ok(const char *s, size_t len)
{
	size_t parts = 0;

	if (len == 0 || len > 255 || strlen(s) != len ||
	    !((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z')))
		return false;
	while (*s) {
		size_t n = strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
				     "abcdefghijklmnopqrstuvwxyz"
				     "0123456789_.:-");

		if (n == 0 || (n == 1 && s[0] == '.') ||
		    (n == 2 && s[0] == '.' && s[1] == '.'))
			return false;
		parts++;
		s += n;
		if (*s == '/' && s[1])
			s++;
		else if (*s)
			return false;
	}
	return parts >= 2;
}

int zfs_parse_size(const char *s, uint64_t *bytes)
{
	static const char suffixes[] = "KMGTPE";
	char *end;
	double whole;
	long double v;
	unsigned shift = 0;
	const char *p;

	if (!s || !*s || *s == '-' || *s == '+' || *s == ' ')
		return -1;
	errno = 0;
	whole = strtod(s, &end);
	if (errno || end == s || whole < 0)
		return -1;
	for (const char *c = s; c < end; c++)
		if (!((*c >= '0' && *c <= '9') || *c == '.'))
			return -1;
	if (*end) {
		char u = *end >= 'a' ? (char)(*end - 'a' + 'A') : *end;

		if (u == 'B') {
			end++;
		} else {
			p = strchr(suffixes, u);
			if (!p)
				return -1;
			shift = (unsigned)(p - suffixes + 1) * 10;
			end++;
			if (*end == 'B' || *end == 'b')
				end++;
		}
		if (*end)
			return -1;
	}
	v = (long double)whole * (long double)(1ULL << shift);
	if (shift == 60 && whole >= 16)
		return -1;
	if (v >= 18446744073709551615.0L)
		return -1;
	/* zfs rounds fractions of a byte down, as we do. */
	*bytes = (uint64_t)v;
	return 0;
}

struct zfs_undo {
	const struct runner *r;
	char *name;
	bool recursive;
};

/* A new zvol can be briefly busy while udev probes it; Proxmox retries
 * its destroy the same way, once a second. */
static int zfs_undo_destroy(void *arg, char **why)
{
	struct zfs_undo *z = arg;
	struct zfs_result zr;

	for (int attempt = 0;; attempt++) {
		if (zfs_destroy(z->r, z->name, z->recursive, &zr) == 0)
			return 0;
		if (zr.code != ZFS_ERR_BUSY || attempt == 5)
			break;
		sleep(1);
	}
	*why = xasprintf("%s (%s)", zfs_explain(zr.code), zr.message);
	return -1;
}

static void zfs_undo_free(void *arg)
{
	struct zfs_undo *z = arg;

	free(z->name);
	free(z);
}

void zfs_undo_push(struct undo *u, const struct runner *r, const char *name,
		   bool recursive)
{
	struct zfs_undo *z = xmalloc(sizeof(*z));
	char *what = xasprintf("zvol %s", name);

	z->r = r;
	z->name = xstrdup(name);
	z->recursive = recursive;
	undo_push(u, what, "destroy", zfs_undo_destroy, z, zfs_undo_free);
	free(what);
}
