/*
 * zfs: the zfs(8) operations qvm needs, run through a runner.
 *
 * Each call runs one zfs command and returns 0 on success or -1 with
 * zr->code saying what went wrong, classified from zfs's stderr by a table
 * of OpenZFS's own message texts, and zr->message holding zfs's own first
 * line (or the spawn error, e.g. "zfs: command not found"). Nothing is
 * printed here; zfs_report() turns a failure into the user's error line:
 *   Error TASK: could not DOING DATASET: EXPLANATION (zfs: MESSAGE)
 *
 * Reads (get, exists, list) are RUN_READS; the rest RUN_CHANGES.
 */
#ifndef QVM_ZFS_H
#define QVM_ZFS_H

#include <stdbool.h>
#include <stdint.h>

#include "runner.h"
#include "strvec.h"

enum zfs_err {
	ZFS_OK,
	ZFS_ERR_EXISTS,
	ZFS_ERR_NOENT,
	ZFS_ERR_NOPARENT,
	ZFS_ERR_NOPOOL,
	ZFS_ERR_WRONG_PARENT,
	ZFS_ERR_NAME,
	ZFS_ERR_NAME_TOO_LONG,
	ZFS_ERR_CROSS_POOL,
	ZFS_ERR_PROPERTY,
	ZFS_ERR_VOLSIZE,
	ZFS_ERR_PERM,
	ZFS_ERR_NOSPC,
	ZFS_ERR_BUSY,
	ZFS_ERR_READONLY,
	ZFS_ERR_SUSPENDED,
	ZFS_ERR_HAS_CLONES,
	ZFS_ERR_HAS_CHILDREN,
	ZFS_ERR_NOT_LOADED,
	ZFS_ERR_NOT_FOUND_CMD,	/* the zfs program itself is missing */
	ZFS_ERR_OUTPUT,		/* it printed more than the runner keeps */
	ZFS_ERR_GENERIC,
	ZFS_ERR__COUNT
};

struct zfs_result {
	enum zfs_err code;
	int status;		/* as runner_run returned it */
	char message[512];
};

/* What the code means, for the user: "it already exists", ... */
const char *zfs_explain(enum zfs_err code);

/* Classifies zfs's stderr (any number of lines) and exit status. */
enum zfs_err zfs_classify(const char *err, int status);

/* The classification table, for tests: row i's text, or NULL past the
 * end. */
const char *zfs_message_text(size_t i);

/* zfs create -V SIZE [-o PROP]... NAME; props are "key=value". */
int zfs_create_volume(const struct runner *r, const char *name,
		      uint64_t size, const struct strvec *props,
		      struct zfs_result *zr);

/* zfs snapshot NAME@SNAP */
int zfs_snapshot(const struct runner *r, const char *snapshot,
		 struct zfs_result *zr);

/* zfs set PROP NAME; prop is "key=value". */
int zfs_set(const struct runner *r, const char *name, const char *prop,
	    struct zfs_result *zr);

/* zfs clone [-o PROP]... SNAPSHOT TARGET */
int zfs_clone(const struct runner *r, const char *snapshot,
	      const char *target, const struct strvec *props,
	      struct zfs_result *zr);

/* zfs destroy [-r] NAME */
int zfs_destroy(const struct runner *r, const char *name, bool recursive,
		struct zfs_result *zr);

/* zfs get -Hp -o value PROP NAME; *value is malloc'd, without newline. */
int zfs_get(const struct runner *r, const char *name, const char *prop,
	    char **value, struct zfs_result *zr);

/* zfs get -Hp -o value -s local PROP NAME: PROP as set on NAME itself,
 * not inherited; *value is "" (malloc'd) when it is not set there. */
int zfs_get_local_value(const struct runner *r, const char *name,
			const char *prop, char **value,
			struct zfs_result *zr);

/* 1 if NAME exists, 0 if zfs says it does not, -1 on any other failure. */
int zfs_exists(const struct runner *r, const char *name,
	       struct zfs_result *zr);

/* zfs list -H -p -o PROPS [-t TYPES] [NAME]: the raw tab-separated lines
 * in *out (malloc'd). */
int zfs_list(const struct runner *r, const char *props, const char *types,
	     const char *name, char **out, struct zfs_result *zr);

/* zfs get -H -p -s local -o name,property,value [-t TYPES] PROPS [NAME]:
 * the properties set on the dataset itself, not inherited (a snapshot or
 * a child inherits its parent's qvm:* tags, as every user property), as
 * raw "name<TAB>property<TAB>value" lines in *out (malloc'd). Without
 * NAME, every dataset of TYPES. */
int zfs_get_local(const struct runner *r, const char *props,
		  const char *types, const char *name, char **out,
		  struct zfs_result *zr);

/* zfs list -H -o name -t snapshot -d 1 NAME: NAME's own snapshots, one
 * per line, in *out (malloc'd). */
int zfs_snapshots(const struct runner *r, const char *name, char **out,
		  struct zfs_result *zr);

/* Registers "destroy zvol NAME" (zfs destroy [-r] NAME, retried while
 * zfs says the new volume is busy) as the undo of its creation. */
struct undo;
void zfs_undo_push(struct undo *u, const struct runner *r, const char *name,
		   bool recursive);

/* After a create or clone that failed in an unclear way (zfs killed, an
 * unknown error): did it make NAME all the same? 1 if NAME carries
 * qvm:run=RUN_ID (the tag this run gave it), else 0. */
int zfs_made_by_run(const struct runner *r, const char *name,
		    const char *run_id);

/* Reports a failed call: "could not DOING DATASET: ..." under TASK. */
int zfs_report(const char *task, const char *doing, const char *dataset,
	       const struct zfs_result *zr);

/* A volume qvm can create or clone from: POOL/[...]/NAME, components of
 * A-Za-z0-9_.:- (none empty, "." or ".."), the pool starting with a
 * letter, no snapshot part, at most 255 bytes. s holds len bytes (a NUL
 * inside makes it invalid). */
bool zfs_volume_name_ok(const char *s, size_t len);

/* Parses a zfs size ("20G", "1.5T", "512", "16K", "20GB") into bytes.
 * Returns 0, or -1 if it is not one. */
int zfs_parse_size(const char *s, uint64_t *bytes);

#endif
