/*
 * progress: the copy's progress for the person watching.
 *
 * On a terminal one line updated in place ("Copying: 42% 310.2 MiB/s,
 * 0:07 left"; for a stream of unknown size "Copying: 310.0 MiB 52.1 MiB/s"),
 * at most a few times a second; otherwise nothing until
 * progress_end(), which prints a plain summary line either way.
 */
#ifndef QVM_PROGRESS_H
#define QVM_PROGRESS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct progress {
	FILE *out;
	bool tty;
	const char *label;
	double start;		/* monotonic seconds */
	double last;		/* last update shown */
};

void progress_begin(struct progress *p, FILE *out, const char *label);

/* A copy_progress_fn: ctx is a struct progress. */
void progress_update(void *ctx, uint64_t done, uint64_t total);

/* Ends the in-place line and prints "LABEL: N MiB of data in X.Ys". */
void progress_end(struct progress *p, uint64_t data_bytes);

#endif
