#include "undo.h"

#include <stdlib.h>
#include <string.h>

#include "msg.h"
#include "signals.h"
#include "strvec.h"

void undo_push(struct undo *u, const char *what, const char *verb,
	       undo_fn fn, void *arg, void (*free_arg)(void *arg))
{
	struct undo_entry *e;

	if (u->n == u->alloc) {
		u->alloc = u->alloc ? u->alloc * 2 : 8;
		u->e = xrealloc(u->e, u->alloc * sizeof(*u->e));
	}
	e = &u->e[u->n++];
	e->what = xstrdup(what);
	e->verb = xstrdup(verb);
	e->fn = fn;
	e->arg = arg;
	e->free_arg = free_arg;
	e->detail = NULL;
}

void undo_detail(struct undo *u, const char *detail)
{
	if (u->n > 0) {
		free(u->e[u->n - 1].detail);
		u->e[u->n - 1].detail = xstrdup(detail);
	}
}

static void entry_free(struct undo_entry *e)
{
	if (e->free_arg)
		e->free_arg(e->arg);
	free(e->what);
	free(e->verb);
	free(e->detail);
}

/* "destroy" -> "destroyed", "remove" -> "removed" */
static const char *past(const char *verb, char *buf, size_t size)
{
	size_t n = strlen(verb);

	snprintf(buf, size, "%s%s", verb,
		 n && verb[n - 1] == 'e' ? "d" : "ed");
	return buf;
}

size_t undo_run(struct undo *u, const char *task)
{
	char *left = NULL;
	size_t failed = 0;

	/* A second Ctrl-C must not cut the rollback short. */
	signals_hold();

	while (u->n > 0) {
		struct undo_entry *e = &u->e[--u->n];
		char *why = NULL;
		char done[64];

		int rc = e->fn(e->arg, &why);

		if (rc == 0) {
			msg_info("Undid: %s %s", past(e->verb, done,
						      sizeof(done)), e->what);
		} else if (rc == UNDO_NOTHING) {
			if (why)
				msg_info("Nothing to undo: %s", why);
		} else {
			msg_error(task, "%s was created but could not be %s: "
				  "%s; %s it by hand", e->what,
				  past(e->verb, done, sizeof(done)),
				  why ? why : "unknown reason", e->verb);
			failed++;
			if (u->where) {
				char *more = xasprintf("%s%s%s%s%s%s",
						       left ? left : "",
						       left ? ", " : "",
						       e->what,
						       e->detail ? " (" : "",
						       e->detail ? e->detail
								 : "",
						       e->detail ? ")" : "");

				free(left);
				left = more;
			}
		}
		free(why);
		entry_free(e);
	}
	free(u->e);
	u->e = NULL;
	u->alloc = 0;
	/* Latest first, as undone: the order to remove them in. */
	if (left)
		msg_error(task, "left on %s: %s", u->where, left);
	free(left);
	return failed;
}

void undo_forget(struct undo *u)
{
	for (size_t i = 0; i < u->n; i++)
		entry_free(&u->e[i]);
	free(u->e);
	u->e = NULL;
	u->n = u->alloc = 0;
}
