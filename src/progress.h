/*
 * progress: the copy's progress for the person watching.
 *
 * On a terminal one line updated in place ("Copying: 42% 310.2 MiB/s,
 * 0:07 left"; for a stream of unknown size "Copying: 310.0 MiB 52.1 MiB/s"),
 * at most a few times a second; otherwise nothing until
 * progress_end(), which prints a plain summary line either way.
 *
 * A stream's own size is known at its end only, but often the size of
 * what it is made from is known (a compressed file, a download with a
 * Content-Length) and so is how much of that has been read:
 * progress_follow() names that, and a stream's line then shows the share
 * of it and the time left too ("Copying: 310.0 MiB 52.1 MiB/s, 42%,
 * 0:07 left"). One source is followed at a time, by every progress begun
 * until it is cleared (the host's copy draws the line, image knows the
 * source).
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
	/* What a stream is made from (progress_follow), if known. */
	uint64_t (*where)(void *ctx);
	void *where_ctx;
	uint64_t of;
};

/* From now on, progress_begin() shows a stream's share of a source of
 * `of` bytes, of which where(ctx) have been read. where NULL (or of 0):
 * none. where runs in the thread that draws the line. */
void progress_follow(uint64_t (*where)(void *ctx), void *ctx, uint64_t of);

void progress_begin(struct progress *p, FILE *out, const char *label);

/* A copy_progress_fn: ctx is a struct progress. */
void progress_update(void *ctx, uint64_t done, uint64_t total);

/* Ends the in-place line and prints "LABEL: N MiB of data in X.Ys". */
void progress_end(struct progress *p, uint64_t data_bytes);

#endif
