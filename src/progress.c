#include "progress.h"

#include <time.h>

#include "copy.h"
#include <unistd.h>

#define MIB (1024.0 * 1024.0)
#define REDRAW_SECONDS 0.2	/* fast enough to look alive, cheap */

/* p->last before anything was drawn (monotonic time is never negative):
 * no line is open yet. */
#define NOTHING_SHOWN (-1.0)

/* The source followed (progress_follow): copied by progress_begin. */
static struct {
	uint64_t (*where)(void *ctx);
	void *ctx;
	uint64_t of;
} followed;

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
	p->where = followed.of ? followed.where : NULL;
	p->where_ctx = followed.ctx;
	p->of = followed.of;
}

void progress_follow(uint64_t (*where)(void *ctx), void *ctx, uint64_t of)
{
	followed.where = where;
	followed.ctx = ctx;
	followed.of = where ? of : 0;
}

/* "m:ss left", at most 99:59 to keep the line short. */
static void print_left(FILE *out, double left)
{
	if (left > 5999)
		left = 5999;
	fprintf(out, "%d:%02d left", (int)left / 60, (int)left % 60);
}

/* A stream: the bytes and the rate, and with a followed source its share
 * and the time left at the rate it has been read so far. */
static void stream_line(const struct progress *p, uint64_t done,
			double elapsed, double rate)
{
	fprintf(p->out, "\r%s: %.1f MiB  %.1f MiB/s", p->label,
		(double)done / MIB, rate / MIB);
	if (p->where) {
		uint64_t at = p->where(p->where_ctx);
		double share;

		if (at > p->of)
			at = p->of;
		share = (double)at / (double)p->of;
		fprintf(p->out, "  %d%%  ", (int)(share * 100.0));
		if (at >= p->of)
			fputs("0:00 left", p->out);
		else if (at > 0)
			print_left(p->out, elapsed * (1.0 - share) / share +
						   0.5);
		else
			fputs("-:-- left", p->out);
	}
	fputs("\033[K", p->out);
	fflush(p->out);
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
		/* A stream's size is known at its end only. */
		stream_line(p, done, elapsed, rate);
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
		print_left(p->out, left);
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
