/*
 * msg: what qvm tells the user.
 *
 * Errors go to stderr as one line "Error <task>: <description>"; progress
 * and completion lines go to stdout. Helpers report with msg_error() and
 * return -1; only main.c turns that into an exit status. Tests point the
 * streams elsewhere with msg_set_streams() to check the exact words.
 */
#ifndef QVM_MSG_H
#define QVM_MSG_H

#include <stdio.h>

void msg_set_streams(FILE *out, FILE *err);
FILE *msg_out(void);
FILE *msg_err(void);

/* "Error TASK: DESCRIPTION\n" on stderr. Always returns -1. */
int msg_error(const char *task, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* A progress or completion line on stdout (newline added, flushed). */
void msg_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
