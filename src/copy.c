#include "copy.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "signals.h"

#define BUF_ALIGN 4096u

/* Everything one copy needs, so the helpers take one argument. */
struct copy {
	int src;
	int dst;
	uint64_t size;
	unsigned char *buf;
	struct copy_stats *stats;
	copy_progress_fn progress;
	void *progress_ctx;
	char *errbuf;
	size_t errsize;
};

static int fail(struct copy *c, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Records the reason in errbuf and returns -1 with errno = err. */
static int fail(struct copy *c, int err, const char *fmt, ...)
{
	va_list ap;

	if (c->errbuf && c->errsize) {
		va_start(ap, fmt);
		vsnprintf(c->errbuf, c->errsize, fmt, ap);
		va_end(ap);
	}
	errno = err;
	return -1;
}

static void report(struct copy *c, uint64_t done)
{
	if (c->progress)
		c->progress(c->progress_ctx, done, c->size);
}

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

/* Fills buf with exactly len bytes of the source at off. */
static int read_full(struct copy *c, uint64_t off, size_t len)
{
	size_t got = 0;

	while (got < len) {
		ssize_t r = pread(c->src, c->buf + got, len - got,
				  (off_t)(off + got));

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return fail(c, errno, "reading the image at byte %llu: "
				    "%s", (unsigned long long)(off + got),
				    strerror(errno));
		if (r == 0)
			return fail(c, EIO, "reading the image at byte %llu: "
				    "image shorter than expected (%llu of "
				    "%llu bytes)",
				    (unsigned long long)(off + got),
				    (unsigned long long)(off + got),
				    (unsigned long long)c->size);
		got += (size_t)r;
	}
	c->stats->data += len;
	return 0;
}

/*
 * Writes len bytes of the buffer, starting at buffer index at, to the
 * target at off. One pwrite() per run: a short count means the volume
 * (or a limit) is full, and finishing it with more calls would only hide
 * that until a later write failed with a less useful errno.
 */
static int write_run(struct copy *c, size_t at, uint64_t off, size_t len)
{
	ssize_t r;

	do {
		errno = 0;
		r = pwrite(c->dst, c->buf + at, len, (off_t)off);
	} while (r < 0 && errno == EINTR);
	if (r < 0)
		return fail(c, errno, "writing the volume at byte %llu: %s",
			    (unsigned long long)off, strerror(errno));
	c->stats->written += (uint64_t)r;
	if ((size_t)r < len)
		return fail(c, errno ? errno : ENOSPC,
			    "writing the volume at byte %llu: short write "
			    "(%zd of %zu bytes)", (unsigned long long)off, r,
			    len);
	return 0;
}

/*
 * Writes the runs of non-zero blocks of the chunk [start, end) held in the
 * buffer. Blocks sit on absolute multiples of COPY_ZERO_BLOCK, so writes
 * stay aligned to the volume's blocks whatever the extents look like.
 */
static int write_chunk(struct copy *c, uint64_t start, uint64_t end)
{
	uint64_t pos = start;
	uint64_t run = 0;
	bool in_run = false;

	while (pos < end) {
		uint64_t next = (pos / COPY_ZERO_BLOCK + 1) * COPY_ZERO_BLOCK;
		size_t at = (size_t)(pos - start);

		if (next > end)
			next = end;
		if (all_zero(c->buf + at, (size_t)(next - pos))) {
			if (in_run && write_run(c, (size_t)(run - start), run,
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
		return write_run(c, (size_t)(run - start), run,
				 (size_t)(end - run));
	return 0;
}

static int check_signals(struct copy *c)
{
	int sig = signals_pending();

	if (sig)
		return fail(c, EINTR, "interrupted by signal %d", sig);
	return 0;
}

/* Copies the data extent [off, end) one buffer at a time. off is on a
 * zero block boundary (see next_extent), and so is every chunk's end but
 * the extent's last: no block is split between two chunks. */
static int copy_extent(struct copy *c, uint64_t off, uint64_t end)
{
	while (off < end) {
		uint64_t stop = off + COPY_BUF_SIZE;

		if (check_signals(c) < 0)
			return -1;
		if (stop > end)
			stop = end;
		if (read_full(c, off, (size_t)(stop - off)) < 0 ||
		    write_chunk(c, off, stop) < 0)
			return -1;
		/* Start writing this chunk to disk now, while the next one
		 * is read: the final fsync() then has little left to do.
		 * Only a hint; files that cannot take it still get fsync. */
		(void)sync_file_range(c->dst, (off_t)off, (off_t)(stop - off),
				      SYNC_FILE_RANGE_WRITE);
		off = stop;
		report(c, off);
	}
	return 0;
}

/*
 * The next data extent at or after off, as [*data, *hole), both at most
 * size. Extents are widened to whole zero blocks: a filesystem's extents
 * are 4 KiB-grained, and writing a zvol in pieces smaller than its blocks
 * costs far more than reading a few more zeros. Where the source cannot
 * tell holes from data (SEEK_DATA gives EINVAL or ENOTSUP), everything
 * from off on is data.
 */
static int next_extent(struct copy *c, bool *seekable, uint64_t off,
		       uint64_t *data, uint64_t *hole)
{
	off_t d, h;

	*data = off;
	*hole = c->size;
	if (!*seekable)
		return 0;
	d = lseek(c->src, (off_t)off, SEEK_DATA);
	if (d < 0 && errno == ENXIO) {
		*data = c->size;	/* only a hole is left */
		return 0;
	}
	if (d < 0 && (errno == EINVAL || errno == ENOTSUP)) {
		*seekable = false;
		return 0;
	}
	if (d < 0)
		return fail(c, errno, "reading the image at byte %llu: "
			    "finding data: %s", (unsigned long long)off,
			    strerror(errno));
	if ((uint64_t)d >= c->size) {
		*data = c->size;
		return 0;
	}
	/* off is the end of the last (widened) extent, so this never
	 * reaches back before it; the check makes sure. */
	*data = (uint64_t)d - (uint64_t)d % COPY_ZERO_BLOCK;
	if (*data < off)
		*data = off;
	h = lseek(c->src, d, SEEK_HOLE);
	if (h < 0)
		return fail(c, errno, "reading the image at byte %llu: "
			    "finding holes: %s", (unsigned long long)d,
			    strerror(errno));
	/* h > d always; guard anyway, an empty extent would never end.
	 * (/dev/zero answers 0 to every lseek().) */
	if (h > d) {
		uint64_t end = ((uint64_t)h + COPY_ZERO_BLOCK - 1) /
			       COPY_ZERO_BLOCK * COPY_ZERO_BLOCK;

		if (end < c->size)
			*hole = end;
	}
	return 0;
}

int copy_sparse(int src_fd, int dst_fd, uint64_t size,
		struct copy_stats *stats, copy_progress_fn progress,
		void *progress_ctx, char *errbuf, size_t errsize)
{
	struct copy_stats own;
	struct copy c = {
		.src = src_fd, .dst = dst_fd, .size = size,
		.stats = stats ? stats : &own, .progress = progress,
		.progress_ctx = progress_ctx, .errbuf = errbuf,
		.errsize = errsize,
	};
	bool seekable = true;
	uint64_t off = 0;
	struct stat st;
	int ret = -1;
	int err;

	memset(c.stats, 0, sizeof(*c.stats));
	c.stats->size = size;
	if (errbuf && errsize)
		errbuf[0] = '\0';

	/* Holes past the end of a file read as ENXIO, like any hole; check
	 * the length here so a truncated image is not taken for zeros. */
	if (fstat(src_fd, &st) < 0)
		return fail(&c, errno, "reading the image: %s",
			    strerror(errno));
	if (S_ISREG(st.st_mode) && (uint64_t)st.st_size < size)
		return fail(&c, EIO, "reading the image: image shorter than "
			    "expected (%llu of %llu bytes)",
			    (unsigned long long)st.st_size,
			    (unsigned long long)size);
	/* Only a hint (doubles the kernel's readahead); failure is fine. */
	(void)posix_fadvise(src_fd, 0, 0, POSIX_FADV_SEQUENTIAL);

	/* Page-aligned: the kernel copies into and out of a misaligned
	 * buffer at half the speed (malloc's big blocks sit 16 bytes off). */
	c.buf = aligned_alloc(BUF_ALIGN, COPY_BUF_SIZE);
	if (!c.buf)
		return fail(&c, ENOMEM, "allocating the copy buffer: %s",
			    strerror(ENOMEM));
	while (off < size) {
		uint64_t data, hole;

		if (check_signals(&c) < 0 ||
		    next_extent(&c, &seekable, off, &data, &hole) < 0)
			goto done;
		if (data > off) {
			off = data;
			report(&c, off);
		}
		if (off < size && copy_extent(&c, off, hole) < 0)
			goto done;
		off = hole > off ? hole : off;
	}

	/* Some special files (/dev/null, say) cannot be synced; they hold
	 * nothing to lose. */
	if (fsync(dst_fd) < 0 && errno != EINVAL) {
		fail(&c, errno, "writing the volume: fsync: %s",
		     strerror(errno));
		goto done;
	}
	ret = 0;
done:
	err = errno;
	free(c.buf);
	errno = err;
	return ret;
}
