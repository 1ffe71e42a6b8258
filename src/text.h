/*
 * text: small string helpers shared by the modules that build messages.
 *
 * text_fail() is how a pure function reports: it fills a caller's error
 * buffer and returns -1; a message too long for it keeps its start and
 * its end (what failed, and why) around a visible " [...] ". text_show() makes text taken from a user's file
 * safe to print in one error line: control characters escaped, long text
 * cut after max characters with "...", so a hostile file cannot forge or
 * flood the line. text_utc() formats a time as ISO 8601 in UTC.
 */
#ifndef QVM_TEXT_H
#define QVM_TEXT_H

#include <stddef.h>
#include <time.h>

int text_fail(char *errbuf, size_t errsize, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

const char *text_show(char *dst, size_t size, const char *s, size_t len,
		      size_t max);

/* Splits line in place at each sep into at most max fields (what follows
 * a max-th separator is dropped). Returns the number of fields. For the
 * tab-separated lines of "zfs list -H". */
size_t text_split(char *line, char sep, char **fields, size_t max);

/* "2026-11-23T20:07:27Z" into buf (at least 21 bytes). */
const char *text_utc(time_t t, char *buf, size_t size);

/* 2*n random hex digits (n <= 16) into buf (at least 2*n+1 bytes). */
const char *text_random_hex(char *buf, size_t n);

/* s as one POSIX shell word: itself when it is safe, else in single
 * quotes ('\'' for a quote); malloc'd. */
char *text_shell_quote(const char *s);

/* The words of argv, each quoted so, joined by spaces; malloc'd. */
char *text_shell_join(const char *const *argv);

/* A URL as qvm shows it: the password in it (scheme://user:PASSWORD@host)
 * replaced by "***"; anything else as it is. malloc'd. */
char *text_url_shown(const char *url);

#endif
