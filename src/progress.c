#include "progress.h"

#include <time.h>

#include "copy.h"
#include <unistd.h>

#define MIB (1024.0 * 1024.0)
#define REDRAW_SECONDS 0.2	/* fast enough to look alive, cheap */

/* p->last before anything was drawn (monotonic time is never negative):
 * no line is open yet. */
#define NOTHING_SHOWN (-1.0)

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void progress_begin(struct progress *p, FILE *out, const char *label)
{
	p->out = out;
	p->tty = isatty(fileno(out)) == 1;
	p->label = label;
	p->start = now();
	p->last = NOTHING_SHOWN;
}

void progress_update(void *ctx, uint64_t done, uint64_t total)
{
	struct progress *p = ctx;
	double t, elapsed, rate, left;
	int pct;

	if (!p->tty)
		return;
	t = now();
	if (done < total && p->last >= 0 &&
	    t - p->last < REDRAW_SECONDS)
		return;
	p->last = t;

	elapsed = t - p->start;
	rate = elapsed > 0 ? (double)done / elapsed : 0;
	if (total == COPY_SIZE_STREAM) {
		/* A stream's size is known at its end only: no share of it,
		 * no time left. */
		fprintf(p->out, "\r%s: %.1f MiB  %.1f MiB/s\033[K", p->label,
			(double)done / MIB, rate / MIB);
		fflush(p->out);
		return;
	}
	/* An empty copy is complete as soon as it starts. */
	pct = total ? (int)((double)done * 100.0 / (double)total) : 100;
	if (pct > 100)
		pct = 100;
	fprintf(p->out, "\r%s: %3d%%  %.1f MiB/s  ", p->label, pct,
		rate / MIB);
	if (done >= total) {
		fputs("0:00 left", p->out);
	} else if (rate > 0) {
		left = (double)(total - done) / rate + 0.5;
		if (left > 5999)	/* keep the line short: 99:59 at most */
			left = 5999;
		fprintf(p->out, "%d:%02d left", (int)left / 60, (int)left % 60);
	} else {
		fputs("-:-- left", p->out);
	}
	fputs("\033[K", p->out);
	fflush(p->out);
}

void progress_end(struct progress *p, uint64_t data_bytes)
{
	if (p->tty && p->last >= 0)
		fputc('\n', p->out);
	fprintf(p->out, "%s: %.1f MiB of data in %.1fs\n", p->label,
		(double)data_bytes / MIB, now() - p->start);
	fflush(p->out);
	p->last = NOTHING_SHOWN;
}
