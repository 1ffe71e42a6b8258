#include "decode.h"

#include <errno.h>
#include <fcntl.h>
#include <lzma.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zstd.h>

#include "io.h"
#include "signals.h"
#include "text.h"

/* What the child reads at a time, and writes at a time into a pipe. */
#define IN_BUF (128u * 1024)
#define PIPE_CHUNK (256u * 1024)
/* How long qvm sleeps on the ring before it looks at signals and at the
 * child; the child wakes it as soon as a slot is filled. */
#define POLL_NS (50L * 1000 * 1000)
/* How long a child asked to stop may take before it is killed. */
#define GRACE_MS 2000

/*
 * The shared memory: the header, then the slots (page-aligned). The child
 * fills a slot it took from free, sets its length and posts filled; qvm
 * takes from filled, reads the slot in place, and posts free. A length of
 * 0 is the end mark: after it the child writes nothing more, and failed
 * says whether msg holds why it stopped early.
 */
struct decode_ring {
	sem_t filled;
	sem_t free_slots;
	size_t len[DECODE_SLOTS];
	int failed;
	char msg[256];
};

#define HEADER_SIZE 4096u
_Static_assert(sizeof(struct decode_ring) <= HEADER_SIZE,
	       "the ring's header fits before the first slot");

static unsigned char *slot_data(struct decode_ring *r, unsigned i)
{
	return (unsigned char *)r + HEADER_SIZE + (size_t)i * DECODE_SLOT_SIZE;
}

bool decode_supported(enum img_wrapper w)
{
	return w == IMG_XZ || w == IMG_ZSTD;
}

static const char *codec_name(enum img_wrapper w)
{
	return w == IMG_XZ ? "xz" : "zstd";
}

/* ---- the child ---- */

/* The decoder's state: the input it reads and the library's context. */
struct dec {
	enum img_wrapper codec;
	int in;
	unsigned char *inbuf;
	bool eof;
	lzma_stream xz;
	ZSTD_DCtx *zs;
	ZSTD_inBuffer zin;
	size_t zlast;		/* 0: at a frame's end (nothing pending) */
	char *msg;		/* the ring's: why it failed */
	size_t msgsize;
};

static int dfail(struct dec *d, const char *what)
{
	snprintf(d->msg, d->msgsize, "%s: %s", codec_name(d->codec), what);
	return -1;
}

/* More input: the count read (0 at its end), or -1. */
static ssize_t refill(struct dec *d)
{
	ssize_t r;

	do
		r = read(d->in, d->inbuf, IN_BUF);
	while (r < 0 && errno == EINTR);
	if (r < 0) {
		char why[160];

		snprintf(why, sizeof(why), "reading the compressed data: %s",
			 strerror(errno));
		return dfail(d, why);
	}
	if (r == 0)
		d->eof = true;
	return r;
}

/* liblzma's errors, as xz says them. */
static const char *xz_error(lzma_ret ret)
{
	switch (ret) {
	case LZMA_MEM_ERROR:
		return "Cannot allocate memory";
	case LZMA_MEMLIMIT_ERROR:
		return "Memory usage limit reached";
	case LZMA_FORMAT_ERROR:
		return "File format not recognized";
	case LZMA_OPTIONS_ERROR:
		return "Unsupported options";
	case LZMA_DATA_ERROR:
		return "Compressed data is corrupt";
	case LZMA_BUF_ERROR:
		return "Unexpected end of input";
	default:
		return "Internal error (bug)";
	}
}

/*
 * Fills out with up to cap decoded bytes, *got of them: fewer only at the
 * end. 0: more follows; 1: the end of the data, every stream decoded;
 * -1: failed (the reason in d->msg).
 */
static int fill_xz(struct dec *d, unsigned char *out, size_t cap,
		   size_t *got)
{
	d->xz.next_out = out;
	d->xz.avail_out = cap;
	for (;;) {
		lzma_ret ret;

		if (d->xz.avail_in == 0 && !d->eof) {
			ssize_t n = refill(d);

			if (n < 0)
				return -1;
			d->xz.next_in = d->inbuf;
			d->xz.avail_in = (size_t)n;
		}
		ret = lzma_code(&d->xz, d->eof ? LZMA_FINISH : LZMA_RUN);
		*got = cap - d->xz.avail_out;
		if (ret == LZMA_STREAM_END)
			return 1;
		if (ret != LZMA_OK)
			return dfail(d, xz_error(ret));
		if (d->xz.avail_out == 0)
			return 0;
	}
}

static int fill_zstd(struct dec *d, unsigned char *out, size_t cap,
		     size_t *got)
{
	ZSTD_outBuffer o = { out, cap, 0 };

	for (;;) {
		size_t before = o.pos, r;

		if (d->zin.pos == d->zin.size && !d->eof) {
			ssize_t n = refill(d);

			if (n < 0)
				return -1;
			d->zin.src = d->inbuf;
			d->zin.size = (size_t)n;
			d->zin.pos = 0;
		}
		*got = o.pos;
		if (d->eof && d->zin.pos == d->zin.size && d->zlast == 0)
			return 1;
		r = ZSTD_decompressStream(d->zs, &o, &d->zin);
		*got = o.pos;
		if (ZSTD_isError(r))
			return dfail(d, ZSTD_getErrorName(r));
		d->zlast = r;
		if (o.pos == cap)
			return 0;
		/* All input read, a frame unfinished, nothing more comes. */
		if (d->eof && d->zin.pos == d->zin.size && r != 0 &&
		    o.pos == before)
			return dfail(d, "Unexpected end of input");
	}
}

static int fill(struct dec *d, unsigned char *out, size_t cap, size_t *got)
{
	*got = 0;
	return d->codec == IMG_XZ ? fill_xz(d, out, cap, got)
				  : fill_zstd(d, out, cap, got);
}

static int dec_init(struct dec *d)
{
	d->inbuf = malloc(IN_BUF);
	if (!d->inbuf)
		return dfail(d, "Cannot allocate memory");
	if (d->codec == IMG_XZ) {
		lzma_stream init = LZMA_STREAM_INIT;
		lzma_ret ret;

		d->xz = init;
		/* Every stream of a concatenated file, as xz -dc. */
		ret = lzma_stream_decoder(&d->xz, UINT64_MAX,
					  LZMA_CONCATENATED);
		return ret == LZMA_OK ? 0 : dfail(d, xz_error(ret));
	}
	d->zs = ZSTD_createDCtx();
	d->zlast = 1;	/* an empty input is no frame */
	return d->zs ? 0 : dfail(d, "Cannot allocate memory");
}

static void dec_end(struct dec *d)
{
	if (d->codec == IMG_XZ)
		lzma_end(&d->xz);
	else
		ZSTD_freeDCtx(d->zs);
	free(d->inbuf);
}

static void sem_wait_all(sem_t *s)
{
	while (sem_wait(s) < 0 && errno == EINTR)
		;
}

/* Decodes into the ring until the end mark is posted. */
static int run_ring(struct dec *d, struct decode_ring *r)
{
	unsigned i = 0;
	int rc = 0;

	for (;;) {
		size_t got;

		sem_wait_all(&r->free_slots);
		rc = fill(d, slot_data(r, i), DECODE_SLOT_SIZE, &got);
		/* fill() returns 0 only with the slot full. */
		if (got) {
			r->len[i] = got;
			sem_post(&r->filled);
			i = (i + 1) % DECODE_SLOTS;
			if (rc == 0)
				continue;
			sem_wait_all(&r->free_slots);
		}
		r->failed = rc < 0;
		r->len[i] = 0;
		sem_post(&r->filled);
		return rc < 0 ? -1 : 0;
	}
}

/* Decodes into a pipe; a reader that went away ends it (SIGPIPE). */
static int run_pipe(struct dec *d, struct decode_ring *r, int out)
{
	unsigned char *buf = slot_data(r, 0);

	for (;;) {
		size_t got;
		int rc = fill(d, buf, PIPE_CHUNK, &got);

		if (io_write_all(out, buf, got) < 0) {
			char why[160];

			snprintf(why, sizeof(why), "writing: %s",
				 strerror(errno));
			r->failed = 1;
			return dfail(d, why);
		}
		if (rc != 0) {
			r->failed = rc < 0;
			return rc;
		}
	}
}

/* Moves fd to target (0 or 1) without losing the other one. */
static int move_fd(int fd, int target)
{
	if (fd == target)
		return fcntl(fd, F_SETFD, 0);
	return dup2(fd, target) < 0 ? -1 : 0;
}

static _Noreturn void child(struct decoder *dc, int in, int out,
			    pid_t parent)
{
	struct decode_ring *r = dc->ring;
	struct dec d = { .codec = dc->codec, .msg = r->msg,
			 .msgsize = sizeof(r->msg) };
	struct sigaction dfl;
	sigset_t none;
	int rc;

	/* As the runner's children: a group of its own, default signals. */
	setpgid(0, 0);
	memset(&dfl, 0, sizeof(dfl));
	dfl.sa_handler = SIG_DFL;
	for (int sig = 1; sig < NSIG; sig++)
		sigaction(sig, &dfl, NULL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	/* Nothing waits for it once qvm is gone. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
		_exit(125);

	/* Only its input and output: another pipe's write end held here
	 * would keep that pipe's reader from ever seeing its end. Both go
	 * above 2 first, so neither is overwritten by the other. */
	in = fcntl(in, F_DUPFD, 3);
	if (out >= 0)
		out = fcntl(out, F_DUPFD, 3);
	if (in < 0 || (dc->to_ring ? 0 : out < 0) || move_fd(in, 0) < 0 ||
	    (!dc->to_ring && move_fd(out, 1) < 0)) {
		r->failed = 1;
		snprintf(r->msg, sizeof(r->msg), "%s: cannot set up its "
			 "input and output", codec_name(dc->codec));
		_exit(125);
	}
	close_range(3, ~0u, 0);
	d.in = 0;

	if (dec_init(&d) < 0) {
		r->failed = 1;
		rc = -1;
	} else {
		rc = dc->to_ring ? run_ring(&d, r) : run_pipe(&d, r, 1);
	}
	/* A failure before the end mark: qvm sees the exit and reads msg. */
	dec_end(&d);
	_exit(rc < 0 ? 1 : 0);
}

/* ---- qvm's side ---- */

int decoder_start(struct decoder *d, enum img_wrapper w, int in_fd,
		  int out_fd, char *errbuf, size_t errsize)
{
	size_t slots = out_fd < 0 ? DECODE_SLOTS : 1;
	pid_t pid, parent = getpid();
	sigset_t all, old;
	void *map;

	memset(d, 0, sizeof(*d));
	d->codec = w;
	d->to_ring = out_fd < 0;
	d->map_size = HEADER_SIZE + slots * DECODE_SLOT_SIZE;
	map = mmap(NULL, d->map_size, PROT_READ | PROT_WRITE,
		   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (map == MAP_FAILED)
		return text_fail(errbuf, errsize, "%s: cannot map its "
				 "buffers: %s", codec_name(w),
				 strerror(errno));
	d->ring = map;
	if (sem_init(&d->ring->filled, 1, 0) < 0 ||
	    sem_init(&d->ring->free_slots, 1, DECODE_SLOTS) < 0) {
		int e = errno;

		munmap(map, d->map_size);
		d->ring = NULL;
		return text_fail(errbuf, errsize, "%s: %s", codec_name(w),
				 strerror(e));
	}
	/* Signals wait until the child has its default dispositions: a
	 * SIGTERM sent at once must not run qvm's handler there. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	pid = fork();
	if (pid == 0)
		child(d, in_fd, out_fd, parent);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (pid < 0) {
		int e = errno;

		munmap(map, d->map_size);
		d->ring = NULL;
		return text_fail(errbuf, errsize, "%s: cannot start: %s",
				 codec_name(w), strerror(e));
	}
	setpgid(pid, pid);	/* either side may win the race */
	d->pid = pid;
	return 0;
}

static void reaped(struct decoder *d, int wstatus)
{
	d->pid = 0;
	if (WIFEXITED(wstatus))
		d->status = WEXITSTATUS(wstatus);
	else if (WIFSIGNALED(wstatus))
		d->status = 128 + WTERMSIG(wstatus);
	else
		d->status = 255;
}

/* Whether the child has ended (and is reaped now). */
static bool child_gone(struct decoder *d)
{
	int ws;
	pid_t r;

	if (!d->pid)
		return true;
	do
		r = waitpid(d->pid, &ws, WNOHANG);
	while (r < 0 && errno == EINTR);
	if (r == d->pid || (r < 0 && errno == ECHILD)) {
		reaped(d, r == d->pid ? ws : 255 << 8);
		return true;
	}
	return false;
}

static void died_why(const struct decoder *d, char *buf, size_t size)
{
	if (d->ring->failed && d->ring->msg[0])
		snprintf(buf, size, "%s", d->ring->msg);
	else if (d->status > 128)
		snprintf(buf, size, "%s: killed by signal %d",
			 codec_name(d->codec), d->status - 128);
	else if (d->status != 0)
		snprintf(buf, size, "%s: exit status %d",
			 codec_name(d->codec), d->status);
	else
		snprintf(buf, size, "%s: ended before its data",
			 codec_name(d->codec));
}

static int ring_take(void *ctx, const unsigned char **buf, size_t *len,
		     char *errbuf, size_t errsize)
{
	struct decoder *d = ctx;
	struct decode_ring *r = d->ring;

	if (d->ended)
		return 0;
	for (;;) {
		struct timespec t;
		int sig;

		clock_gettime(CLOCK_REALTIME, &t);
		t.tv_nsec += POLL_NS;
		if (t.tv_nsec >= 1000000000L) {
			t.tv_sec++;
			t.tv_nsec -= 1000000000L;
		}
		if (sem_timedwait(&r->filled, &t) == 0)
			break;
		if (errno != ETIMEDOUT && errno != EINTR)
			return copy_fail(errbuf, errsize, errno, "%s: %s",
					 codec_name(d->codec),
					 strerror(errno));
		sig = signals_pending();
		if (sig)
			return copy_fail(errbuf, errsize, EINTR,
					 "interrupted by signal %d", sig);
		/* It may have posted its last slot just before it ended;
		 * else it died: that ends its data, as a pipe's end. */
		if (child_gone(d) && sem_trywait(&r->filled) < 0) {
			d->ended = true;
			return 0;
		}
		if (!d->pid)
			break;
	}
	*len = r->len[d->next];
	*buf = slot_data(r, d->next);
	if (*len == 0) {
		d->ended = true;
		return 0;
	}
	d->next = (d->next + 1) % DECODE_SLOTS;
	d->holding = true;
	return 1;
}

static void ring_give_back(void *ctx)
{
	struct decoder *d = ctx;

	if (d->holding) {
		d->holding = false;
		sem_post(&d->ring->free_slots);
	}
}

void decoder_source(struct decoder *d, struct copy_source *src)
{
	memset(src, 0, sizeof(*src));
	src->fd = -1;
	src->take = ring_take;
	src->give_back = ring_give_back;
	src->ctx = d;
}

void decoder_stop(struct decoder *d)
{
	if (d->pid && !d->stopped)
		kill(d->pid, SIGTERM);
	d->stopped = true;
}

/* Waits for the child; stops it on an interrupt, kills it after a grace
 * period once asked to stop. A child at its end exits within a fraction
 * of a millisecond: the first naps are short (0.1 ms, doubling to 10). */
static void wait_child(struct decoder *d)
{
	long nap_us = 100, waited_us = 0;

	while (!child_gone(d)) {
		struct timespec t = { 0, nap_us * 1000 };

		if (signals_interrupting())
			decoder_stop(d);
		if (d->stopped && waited_us >= GRACE_MS * 1000L)
			kill(d->pid, SIGKILL);
		nanosleep(&t, NULL);
		if (d->stopped)
			waited_us += nap_us;
		if (nap_us < 10000)
			nap_us *= 2;
	}
}

int decoder_finish(struct decoder *d, char *errbuf, size_t errsize)
{
	char why[300];
	int rc = 0;

	if (!d->ring)
		return 0;
	/* A ring nobody reads any more: the child would wait for a slot. */
	if (d->to_ring && !d->ended)
		decoder_stop(d);
	wait_child(d);
	if (d->status != 0 || d->ring->failed || (d->to_ring && !d->ended)) {
		died_why(d, why, sizeof(why));
		rc = text_fail(errbuf, errsize, "%s", why);
	}
	sem_destroy(&d->ring->filled);
	sem_destroy(&d->ring->free_slots);
	munmap(d->ring, d->map_size);
	d->ring = NULL;
	return rc;
}
