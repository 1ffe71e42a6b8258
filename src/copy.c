#include "copy.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "signals.h"

#define BUF_ALIGN 4096u
/* How often a wait for a stalled stream looks whether it should stop. */
#define STOP_POLL_MS 100

/* A piece of the source's data, read into one of the buffers. */
struct chunk {
	const unsigned char *buf;
	uint64_t off;
	uint64_t end;
};

/*
 * The reader: walks the source's data extents and fills the buffers in
 * turn. Everything below the lock is shared with the writer; the rest is
 * the reader's alone until it has been joined.
 */
struct reader {
	int src;
	uint64_t size;		/* COPY_SIZE_STREAM: read to the end */
	bool stream;		/* read() in order, to the end of the input */
	bool seekable;
	uint64_t ahead;		/* the source is hinted up to here */
	uint64_t hinted;	/* data bytes hinted so far */
	uint64_t data;		/* data bytes read so far */
	int err;		/* errno of the failure that stopped it */
	char msg[256];		/* and what it was */

	pthread_mutex_t lock;
	pthread_cond_t cond;
	unsigned char *mem[COPY_BUFS];	/* the buffers */
	struct chunk slot[COPY_BUFS];	/* what each holds */
	unsigned filled;	/* slots read and not yet written */
	unsigned next_in;	/* the slot the reader fills next */
	bool done;		/* the reader has finished (or failed) */
	bool stop;		/* the writer asks the reader to stop */
};

/* Everything the writer needs, so the helpers take one argument. */
struct copy {
	const struct copy_sink *sink;
	uint64_t size;
	uint64_t reported;
	struct copy_stats *stats;
	copy_progress_fn progress;
	void *progress_ctx;
	char *errbuf;
	size_t errsize;
	uint64_t max_end;	/* nothing may reach past this byte */
};

static int fail_into(char *buf, size_t size, int err, const char *fmt,
		     va_list ap) __attribute__((format(printf, 4, 0)));

static int fail_into(char *buf, size_t size, int err, const char *fmt,
		     va_list ap)
{
	if (buf && size)
		vsnprintf(buf, size, fmt, ap);
	errno = err;
	return -1;
}

static int fail(struct copy *c, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int rfail(struct reader *rd, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Records the reason in errbuf and returns -1 with errno = err. */
static int fail(struct copy *c, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fail_into(c->errbuf, c->errsize, err, fmt, ap);
	va_end(ap);
	return -1;
}

/* The same for the reader, which keeps its reason until it is joined. */
static int rfail(struct reader *rd, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fail_into(rd->msg, sizeof(rd->msg), err, fmt, ap);
	va_end(ap);
	rd->err = err;
	return -1;
}

static void report(struct copy *c, uint64_t done)
{
	c->reported = done;
	if (c->progress)
		c->progress(c->progress_ctx, done, c->size);
}

/* ---- the reader ---- */

/* Fills buf with exactly len bytes of the source at off. */
static int read_full(struct reader *rd, unsigned char *buf, uint64_t off,
		     size_t len)
{
	size_t got = 0;

	while (got < len) {
		ssize_t r = pread(rd->src, buf + got, len - got,
				  (off_t)(off + got));

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return rfail(rd, errno, "reading the image at byte "
				     "%llu: %s", (unsigned long long)(off + got),
				     strerror(errno));
		if (r == 0)
			return rfail(rd, EIO, "reading the image at byte "
				     "%llu: image shorter than expected (%llu "
				     "of %llu bytes)",
				     (unsigned long long)(off + got),
				     (unsigned long long)(off + got),
				     (unsigned long long)rd->size);
		got += (size_t)r;
	}
	rd->data += len;
	return 0;
}

static bool stopped(struct reader *rd)
{
	bool stop;

	pthread_mutex_lock(&rd->lock);
	stop = rd->stop;
	pthread_mutex_unlock(&rd->lock);
	return stop;
}

/* Waits until the stream has something to read (or its end): false if
 * the writer asked the reader to stop meanwhile. A pipe whose writer
 * stalls (a download that hangs) must not keep the copy from stopping. */
static bool stream_ready(struct reader *rd)
{
	struct pollfd p = { .fd = rd->src, .events = POLLIN };

	for (;;) {
		int n = poll(&p, 1, STOP_POLL_MS);

		if (n != 0)
			return true;	/* ready, or an error read() tells */
		if (stopped(rd))
			return false;
	}
}

/*
 * Fills buf with up to len bytes of a stream, at its byte off: fewer only
 * at its end (or when stopped). *got is how many.
 */
static int read_stream(struct reader *rd, unsigned char *buf, uint64_t off,
		       size_t len, size_t *got)
{
	*got = 0;
	while (*got < len) {
		ssize_t r;

		if (!stream_ready(rd))
			break;
		r = read(rd->src, buf + *got, len - *got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return rfail(rd, errno, "reading the image at byte "
				     "%llu: %s",
				     (unsigned long long)(off + *got),
				     strerror(errno));
		if (r == 0)
			break;
		*got += (size_t)r;
	}
	rd->data += *got;
	return 0;
}

/*
 * Keeps COPY_READ_AHEAD bytes of the source's data asked for beyond what
 * has been read: POSIX_FADV_WILLNEED starts the reads and returns, so the
 * device has several requests in flight, across extents, while the
 * buffers are filled and written. Without it a cold source is read one
 * request at a time. Holes are skipped as the copy skips them; any
 * failure just ends the hints (they are only hints).
 */
static void read_ahead(struct reader *rd)
{
	while (rd->seekable && rd->ahead < rd->size &&
	       rd->hinted - rd->data < COPY_READ_AHEAD) {
		uint64_t want = COPY_READ_AHEAD - (rd->hinted - rd->data);
		off_t d = lseek(rd->src, (off_t)rd->ahead, SEEK_DATA);
		off_t h;

		if (d < 0 || (uint64_t)d >= rd->size)
			break;
		h = lseek(rd->src, d, SEEK_HOLE);
		if (h <= d)
			break;
		if ((uint64_t)h > rd->size)
			h = (off_t)rd->size;
		if ((uint64_t)(h - d) > want)
			h = d + (off_t)want;
		if (posix_fadvise(rd->src, d, h - d, POSIX_FADV_WILLNEED))
			break;
		rd->hinted += (uint64_t)(h - d);
		rd->ahead = (uint64_t)h;
	}
}

/*
 * The next data extent at or after off, as [*data, *hole), both at most
 * size. Extents are widened to whole zero blocks: a filesystem's extents
 * are 4 KiB-grained, and writing a zvol in pieces smaller than its blocks
 * costs far more than reading a few more zeros. Where the source cannot
 * tell holes from data (SEEK_DATA gives EINVAL or ENOTSUP), everything
 * from off on is data.
 */
static int next_extent(struct reader *rd, uint64_t off, uint64_t *data,
		       uint64_t *hole)
{
	off_t d, h;

	*data = off;
	*hole = rd->size;
	if (!rd->seekable)
		return 0;
	d = lseek(rd->src, (off_t)off, SEEK_DATA);
	if (d < 0 && errno == ENXIO) {
		*data = rd->size;	/* only a hole is left */
		return 0;
	}
	if (d < 0 && (errno == EINVAL || errno == ENOTSUP)) {
		rd->seekable = false;
		return 0;
	}
	if (d < 0)
		return rfail(rd, errno, "reading the image at byte %llu: "
			     "finding data: %s", (unsigned long long)off,
			     strerror(errno));
	if ((uint64_t)d >= rd->size) {
		*data = rd->size;
		return 0;
	}
	/* off is the end of the last (widened) extent, so this never
	 * reaches back before it; the check makes sure. */
	*data = (uint64_t)d - (uint64_t)d % COPY_ZERO_BLOCK;
	if (*data < off)
		*data = off;
	h = lseek(rd->src, d, SEEK_HOLE);
	if (h < 0)
		return rfail(rd, errno, "reading the image at byte %llu: "
			     "finding holes: %s", (unsigned long long)d,
			     strerror(errno));
	/* h > d always; guard anyway, an empty extent would never end.
	 * (/dev/zero answers 0 to every lseek().) */
	if (h > d) {
		uint64_t end = ((uint64_t)h + COPY_ZERO_BLOCK - 1) /
			       COPY_ZERO_BLOCK * COPY_ZERO_BLOCK;

		if (end < rd->size)
			*hole = end;
	}
	return 0;
}

/* Waits for a free buffer; false when the writer wants the reader gone. */
static bool take_free_slot(struct reader *rd, unsigned char **buf)
{
	bool go;

	pthread_mutex_lock(&rd->lock);
	while (rd->filled == COPY_BUFS && !rd->stop)
		pthread_cond_wait(&rd->cond, &rd->lock);
	go = !rd->stop;
	*buf = rd->mem[rd->next_in];
	pthread_mutex_unlock(&rd->lock);
	return go;
}

static void publish(struct reader *rd, uint64_t off, uint64_t end)
{
	pthread_mutex_lock(&rd->lock);
	rd->slot[rd->next_in].buf = rd->mem[rd->next_in];
	rd->slot[rd->next_in].off = off;
	rd->slot[rd->next_in].end = end;
	rd->next_in = (rd->next_in + 1) % COPY_BUFS;
	rd->filled++;
	pthread_cond_broadcast(&rd->cond);
	pthread_mutex_unlock(&rd->lock);
}

/*
 * Reads the data extents one buffer at a time, in order. Every chunk
 * starts on a zero block boundary (see next_extent), and so does every
 * chunk's end but an extent's last: no block is split between chunks.
 */
static void *reader_main(void *arg)
{
	struct reader *rd = arg;
	uint64_t off = 0;

	while (rd->stream) {
		unsigned char *buf;
		size_t got;

		if (!take_free_slot(rd, &buf))
			goto done;
		if (read_stream(rd, buf, off, COPY_BUF_SIZE, &got) < 0)
			goto done;
		if (got == 0)
			break;
		publish(rd, off, off + got);
		off += got;
		if (got < COPY_BUF_SIZE)
			break;
	}
	while (!rd->stream && off < rd->size) {
		uint64_t data, hole;

		if (next_extent(rd, off, &data, &hole) < 0)
			break;
		for (off = data; off < hole;) {
			uint64_t stop = off + COPY_BUF_SIZE;
			unsigned char *buf;

			if (stop > hole)
				stop = hole;
			if (!take_free_slot(rd, &buf))
				goto done;
			read_ahead(rd);
			if (read_full(rd, buf, off, (size_t)(stop - off)) < 0)
				goto done;
			publish(rd, off, stop);
			off = stop;
		}
		off = hole > off ? hole : off;
	}
done:
	pthread_mutex_lock(&rd->lock);
	rd->done = true;
	pthread_cond_broadcast(&rd->cond);
	pthread_mutex_unlock(&rd->lock);
	return NULL;
}

/* ---- the writer ---- */

/*
 * A data block nearly always differs from zero in its first bytes, so
 * those are checked one by one. A block whose first 16 bytes are zero is
 * compared with itself shifted by 16: they are equal exactly when every
 * byte equals the one 16 before it, i.e. when the whole block is zero.
 * This lets the C library's vectorised memcmp do the long scan without a
 * second buffer.
 */
static bool all_zero(const unsigned char *p, size_t n)
{
	size_t head = n < 16 ? n : 16;

	for (size_t i = 0; i < head; i++)
		if (p[i])
			return false;
	return n <= 16 || memcmp(p, p + 16, n - 16) == 0;
}

/* Hands a run of non-zero blocks to the sink. */
static int write_run(struct copy *c, const unsigned char *buf, uint64_t off,
		     size_t len)
{
	if (c->sink->write(c->sink->ctx, buf, len, off, c->errbuf,
			   c->errsize) < 0)
		return -1;
	c->stats->written += len;
	return 0;
}

/*
 * Writes the runs of non-zero blocks of a chunk. Blocks sit on absolute
 * multiples of COPY_ZERO_BLOCK, so writes stay aligned to the volume's
 * blocks whatever the extents look like.
 */
static int write_chunk(struct copy *c, const struct chunk *k)
{
	uint64_t pos = k->off;
	uint64_t run = 0;
	bool in_run = false;

	if (k->end > c->max_end)
		return fail(c, EFBIG, "the stream goes on past byte %llu, the "
			    "most there can be",
			    (unsigned long long)c->max_end);
	while (pos < k->end) {
		uint64_t next = (pos / COPY_ZERO_BLOCK + 1) * COPY_ZERO_BLOCK;

		if (next > k->end)
			next = k->end;
		if (all_zero(k->buf + (pos - k->off), (size_t)(next - pos))) {
			if (in_run && write_run(c, k->buf + (run - k->off), run,
						(size_t)(pos - run)) < 0)
				return -1;
			in_run = false;
		} else if (!in_run) {
			run = pos;
			in_run = true;
		}
		pos = next;
	}
	if (in_run)
		return write_run(c, k->buf + (run - k->off), run,
				 (size_t)(k->end - run));
	return 0;
}

static int check_signals(struct copy *c)
{
	int sig = signals_pending();

	if (sig)
		return fail(c, EINTR, "interrupted by signal %d", sig);
	return 0;
}

/* The next chunk the reader filled: 1, or 0 when it has finished, or -1
 * on a signal (the wait for a stalled source is not endless). */
static int take_chunk(struct copy *c, struct reader *rd, struct chunk *k)
{
	bool got;

	pthread_mutex_lock(&rd->lock);
	while (rd->filled == 0 && !rd->done) {
		struct timespec t;

		clock_gettime(CLOCK_REALTIME, &t);
		t.tv_nsec += STOP_POLL_MS * 1000000L;
		if (t.tv_nsec >= 1000000000L) {
			t.tv_sec++;
			t.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&rd->cond, &rd->lock, &t);
		if (rd->filled == 0 && !rd->done && signals_pending()) {
			pthread_mutex_unlock(&rd->lock);
			return check_signals(c);
		}
	}
	got = rd->filled > 0;
	if (got)
		*k = rd->slot[(rd->next_in + COPY_BUFS - rd->filled) % COPY_BUFS];
	pthread_mutex_unlock(&rd->lock);
	return got;
}

static void release_chunk(struct reader *rd)
{
	pthread_mutex_lock(&rd->lock);
	rd->filled--;
	pthread_cond_broadcast(&rd->cond);
	pthread_mutex_unlock(&rd->lock);
}

/* Writes what the reader reads, chunk by chunk, until it is done. */
static int write_all(struct copy *c, struct reader *rd)
{
	struct chunk k;
	int r;

	for (;;) {
		if (check_signals(c) < 0)
			return -1;
		r = take_chunk(c, rd, &k);
		if (r <= 0)
			return r;
		if (k.off > c->reported)
			report(c, k.off);	/* a hole skipped */
		if (write_chunk(c, &k) < 0)
			return -1;
		if (c->sink->chunk_done)
			c->sink->chunk_done(c->sink->ctx, k.off, k.end);
		release_chunk(rd);
		report(c, k.end);
	}
}

/* Writes what a source that fills its own buffers hands out, in place,
 * until its end. Its pieces may be smaller than COPY_BUF_SIZE: the sink
 * hears of them (chunk_done: writeback) COPY_BUF_SIZE at a time, as of
 * the reader's, not once per piece. */
static int write_taken(struct copy *c, const struct copy_source *src)
{
	uint64_t off = 0, done = 0;

	for (;;) {
		struct chunk k;
		size_t len;
		int r;

		if (check_signals(c) < 0)
			return -1;
		r = src->take(src->ctx, &k.buf, &len, c->errbuf, c->errsize);
		if (r < 0)
			return -1;
		if (r == 0)
			break;
		k.off = off;
		k.end = off + len;
		c->stats->data = k.end;
		r = write_chunk(c, &k);
		src->give_back(src->ctx);
		if (r < 0)
			return -1;
		off = k.end;
		if (c->sink->chunk_done && off - done >= COPY_BUF_SIZE) {
			c->sink->chunk_done(c->sink->ctx, done, off);
			done = off;
		}
		report(c, off);
	}
	if (c->sink->chunk_done && off > done)
		c->sink->chunk_done(c->sink->ctx, done, off);
	c->size = c->stats->size = off;
	return 0;
}

/*
 * Runs the reader in a thread of its own and writes in this one, so the
 * source is read while the target is written. The reader blocks every
 * signal: they stay this thread's, whose handlers set the flag it checks.
 */
static int copy_threaded(struct copy *c, struct reader *rd)
{
	sigset_t all, old;
	pthread_t thread;
	int err, ret;

	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	err = pthread_create(&thread, NULL, reader_main, rd);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err)
		return fail(c, err, "starting the reader: %s", strerror(err));

	ret = write_all(c, rd);
	err = errno;
	pthread_mutex_lock(&rd->lock);
	rd->stop = true;
	pthread_cond_broadcast(&rd->cond);
	pthread_mutex_unlock(&rd->lock);
	pthread_join(thread, NULL);
	c->stats->data = rd->data;
	if (ret < 0) {
		errno = err;
		return -1;
	}
	if (rd->err) {
		if (c->errbuf && c->errsize)
			snprintf(c->errbuf, c->errsize, "%s", rd->msg);
		errno = rd->err;
		return -1;
	}
	return 0;
}

/* A source that fills its own buffers: no reader, no buffers. */
static int copy_taken(struct copy *c, const struct copy_source *src)
{
	if (write_taken(c, src) < 0)
		return -1;
	report(c, c->size);
	return c->sink->finish(c->sink->ctx, c->errbuf, c->errsize);
}

int copy_data(int src_fd, uint64_t size, const struct copy_sink *sink,
	      struct copy_stats *stats, copy_progress_fn progress,
	      void *progress_ctx, char *errbuf, size_t errsize)
{
	return copy_data_from(&COPY_SOURCE_FD(src_fd), size, sink, stats,
			      progress, progress_ctx, errbuf, errsize);
}

static int copy_bounded(const struct copy_source *src, uint64_t size,
			uint64_t max_end, const struct copy_sink *sink,
			struct copy_stats *stats, copy_progress_fn progress,
			void *progress_ctx, char *errbuf, size_t errsize);

int copy_data_from(const struct copy_source *src, uint64_t size,
		   const struct copy_sink *sink, struct copy_stats *stats,
		   copy_progress_fn progress, void *progress_ctx,
		   char *errbuf, size_t errsize)
{
	return copy_bounded(src, size, UINT64_MAX, sink, stats, progress,
			    progress_ctx, errbuf, errsize);
}

/* copy_data_from(), and no chunk may end past byte max_end (EFBIG). */
static int copy_bounded(const struct copy_source *src, uint64_t size,
			uint64_t max_end, const struct copy_sink *sink,
			struct copy_stats *stats, copy_progress_fn progress,
			void *progress_ctx, char *errbuf, size_t errsize)
{
	int src_fd = src->fd;
	struct copy_stats own;
	struct copy c = {
		.sink = sink, .size = size,
		.stats = stats ? stats : &own, .progress = progress,
		.progress_ctx = progress_ctx, .errbuf = errbuf,
		.errsize = errsize, .max_end = max_end,
	};
	struct reader rd = {
		.src = src_fd, .size = size, .stream = size == COPY_SIZE_STREAM,
		.seekable = size != COPY_SIZE_STREAM,
		.lock = PTHREAD_MUTEX_INITIALIZER,
		.cond = PTHREAD_COND_INITIALIZER,
	};
	unsigned char *bufs = NULL;
	struct stat st;
	int ret = -1;
	int err;

	memset(c.stats, 0, sizeof(*c.stats));
	c.stats->size = size;
	if (errbuf && errsize)
		errbuf[0] = '\0';
	if (src->take) {
		if (size != COPY_SIZE_STREAM)
			return fail(&c, EINVAL, "reading the image: a source "
				    "that fills its own buffers is a stream");
		return copy_taken(&c, src);
	}

	/* Holes past the end of a file read as ENXIO, like any hole; check
	 * the length here so a truncated image is not taken for zeros. */
	if (fstat(src_fd, &st) < 0)
		return fail(&c, errno, "reading the image: %s",
			    strerror(errno));
	if (!rd.stream && S_ISREG(st.st_mode) && (uint64_t)st.st_size < size)
		return fail(&c, EIO, "reading the image: image shorter than "
			    "expected (%llu of %llu bytes)",
			    (unsigned long long)st.st_size,
			    (unsigned long long)size);
	/* Only a hint (doubles the kernel's readahead); failure is fine. */
	(void)posix_fadvise(src_fd, 0, 0, POSIX_FADV_SEQUENTIAL);

	/* Page-aligned: the kernel copies into and out of a misaligned
	 * buffer at half the speed (malloc's big blocks sit 16 bytes off). */
	bufs = aligned_alloc(BUF_ALIGN, (size_t)COPY_BUFS * COPY_BUF_SIZE);
	if (!bufs)
		return fail(&c, ENOMEM, "allocating the copy buffers: %s",
			    strerror(ENOMEM));
	for (unsigned i = 0; i < COPY_BUFS; i++)
		rd.mem[i] = bufs + (size_t)i * COPY_BUF_SIZE;

	if (copy_threaded(&c, &rd) < 0)
		goto done;
	if (rd.stream)
		c.stats->size = c.size = rd.data;
	if (c.reported < c.size || rd.stream)
		report(&c, c.size);	/* the rest is a hole */
	if (sink->finish(sink->ctx, errbuf, errsize) < 0)
		goto done;
	ret = 0;
done:
	err = errno;
	free(bufs);
	pthread_mutex_destroy(&rd.lock);
	pthread_cond_destroy(&rd.cond);
	errno = err;
	return ret;
}

/* ---- the sink that is a file descriptor ---- */

struct fd_sink {
	int fd;
	uint64_t partial;	/* bytes of a failed run that were written */
};

/*
 * One pwrite() per run: a short count means the volume (or a limit) is
 * full, and finishing it with more calls would only hide that until a
 * later write failed with a less useful errno.
 */
static int fd_write(void *ctx, const void *buf, size_t len, uint64_t off,
		    char *errbuf, size_t errsize)
{
	struct fd_sink *f = ctx;
	ssize_t r;

	do {
		errno = 0;
		r = pwrite(f->fd, buf, len, (off_t)off);
	} while (r < 0 && errno == EINTR);
	if (r < 0)
		return copy_fail(errbuf, errsize, errno, "writing the volume "
				 "at byte %llu: %s", (unsigned long long)off,
				 strerror(errno));
	if ((size_t)r < len) {
		f->partial = (uint64_t)r;
		return copy_fail(errbuf, errsize, errno ? errno : ENOSPC,
				 "writing the volume at byte %llu: short "
				 "write (%zd of %zu bytes)",
				 (unsigned long long)off, r, len);
	}
	return 0;
}

/* Start writing the chunk to disk now, while the next one is read: the
 * final fsync() then has little left to do. Only a hint; files that
 * cannot take it still get fsync. */
static void fd_chunk_done(void *ctx, uint64_t off, uint64_t end)
{
	(void)sync_file_range(((struct fd_sink *)ctx)->fd, (off_t)off, (off_t)(end - off),
			      SYNC_FILE_RANGE_WRITE);
}

/* Some special files (/dev/null, say) cannot be synced; they hold nothing
 * to lose. */
static int fd_finish(void *ctx, char *errbuf, size_t errsize)
{
	if (fsync(((struct fd_sink *)ctx)->fd) < 0 && errno != EINVAL)
		return copy_fail(errbuf, errsize, errno, "writing the volume: "
				 "fsync: %s", strerror(errno));
	return 0;
}

int copy_sparse(int src_fd, int dst_fd, uint64_t size,
		struct copy_stats *stats, copy_progress_fn progress,
		void *progress_ctx, char *errbuf, size_t errsize)
{
	return copy_sparse_from(&COPY_SOURCE_FD(src_fd), dst_fd, size, stats,
				progress, progress_ctx, errbuf, errsize);
}

int copy_sparse_from(const struct copy_source *src, int dst_fd,
		     uint64_t size, struct copy_stats *stats,
		     copy_progress_fn progress, void *progress_ctx,
		     char *errbuf, size_t errsize)
{
	return copy_sparse_within(src, dst_fd, size, UINT64_MAX, stats,
				  progress, progress_ctx, errbuf, errsize);
}

int copy_sparse_within(const struct copy_source *src, int dst_fd,
		       uint64_t size, uint64_t max_end,
		       struct copy_stats *stats, copy_progress_fn progress,
		       void *progress_ctx, char *errbuf, size_t errsize)
{
	struct fd_sink f = { .fd = dst_fd };
	struct copy_sink sink = {
		.write = fd_write, .chunk_done = fd_chunk_done,
		.finish = fd_finish, .ctx = &f,
	};
	int ret, err;

	ret = copy_bounded(src, size, max_end, &sink, stats, progress,
			   progress_ctx, errbuf, errsize);
	err = errno;
	/* What a short write did write counts as written. */
	if (stats)
		stats->written += f.partial;
	errno = err;
	return ret;
}

int copy_fail(char *errbuf, size_t errsize, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fail_into(errbuf, errsize, err, fmt, ap);
	va_end(ap);
	return -1;
}
