/*
 * undo: the journal of what this run changed, so a failure can put it back.
 *
 * Every persistent change pushes its undo right after it succeeds. On
 * failure undo_run() runs the undos in reverse order; each one that fails
 * is reported by name, e.g.
 *   Error creating VM web1: zvol tank/web1 was created but could not be
 *   destroyed: <zfs's reason>; destroy it by hand
 * and the rest still run; on another host (where), a last line sums up
 * what is left there:
 *   Error creating VM web1: left on host2: domain web1 (uuid ...), zvol
 *   tank/web1
 * On success undo_forget() drops the journal. Only
 * what this run created is ever in the journal, so nothing that existed
 * before the run can be removed by it.
 */
#ifndef QVM_UNDO_H
#define QVM_UNDO_H

#include <stddef.h>

/* Undoes one change. Returns 0; or UNDO_NOTHING when it finds that the
 * change never happened (a command failed before making it), with what
 * it found in *why (malloc'd, may stay NULL); or -1 with a malloc'd
 * reason in *why. */
typedef int (*undo_fn)(void *arg, char **why);

#define UNDO_NOTHING 1

struct undo_entry {
	char *what;		/* "zvol tank/web1" */
	char *verb;		/* "destroy" */
	char *detail;		/* "uuid ...", or NULL: see undo_detail() */
	undo_fn fn;
	void *arg;
	void (*free_arg)(void *arg);
};

struct undo {
	struct undo_entry *e;
	size_t n;
	size_t alloc;
	const char *where;	/* the host the changes are on, when it is
				 * another machine's: NULL here */
};

#define UNDO_INIT { NULL, 0, 0, NULL }

/* what names the thing ("zvol tank/web1"), verb how it is undone
 * ("destroy", "remove"); free_arg (may be NULL) frees arg afterwards. */
void undo_push(struct undo *u, const char *what, const char *verb,
	       undo_fn fn, void *arg, void (*free_arg)(void *arg));

/* What names the last change beyond doubt, in the summary of what is
 * left on another host: "domain web1 (uuid 5f0e...)". */
void undo_detail(struct undo *u, const char *detail);

/* Runs the journal in reverse and empties it. Prints "Undid: VERB WHAT"
 * lines on stdout ("Nothing to undo: WHY" for a change that never
 * happened) and an error line per failure under task. Returns the number
 * of undos that failed. */
size_t undo_run(struct undo *u, const char *task);

/* Success: forget the journal without running it. */
void undo_forget(struct undo *u);

#endif
