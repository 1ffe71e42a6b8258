/*
 * strvec: a growable, NULL-terminated vector of owned strings, used to build
 * argv for external commands. Building a command line by formatting a string
 * is how exec wrappers go wrong; this keeps it boring.
 *
 * Contract: a zero-initialised struct strvec (STRVEC_INIT) is empty and valid;
 * v[n] is always NULL once anything was pushed. Allocation failure aborts the
 * program (qvm cannot undo safely without memory either way, and it is the
 * only failure these functions could have).
 */
#ifndef QVM_STRVEC_H
#define QVM_STRVEC_H

#include <stddef.h>

struct strvec {
	char **v;
	size_t n;
	size_t alloc;
};

#define STRVEC_INIT { NULL, 0, 0 }

void strvec_push(struct strvec *sv, const char *s);
void strvec_pushf(struct strvec *sv, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void strvec_pushv(struct strvec *sv, const char *const *argv);
/* Drops the last string, if any. */
void strvec_pop(struct strvec *sv);
void strvec_clear(struct strvec *sv);

/* The argv to hand to a runner: never NULL, always NULL-terminated. */
const char *const *strvec_argv(struct strvec *sv);

/* Allocation helpers shared by every module: abort on out-of-memory. */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
