/*
 * copy_sparse(), copy_data(): the target reads as the source byte for byte
 * (a file or a stream), while only
 * the source's data is written; failures come back as -1 with the words a
 * person needs.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "copy.h"
#include "signals.h"

#define MIB (1024u * 1024u)

struct files {
	char dir[256];
	char src[300];
	char dst[300];
};

static int setup(void **state)
{
	struct files *f = calloc(1, sizeof(*f));
	const char *tmp = getenv("TMPDIR");

	if (!f)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "%s/qvm-copy-XXXXXX",
		 tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(f->dir)) {
		free(f);
		return -1;
	}
	snprintf(f->src, sizeof(f->src), "%s/image.raw", f->dir);
	snprintf(f->dst, sizeof(f->dst), "%s/volume", f->dir);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct files *f = *state;

	unlink(f->src);
	unlink(f->dst);
	rmdir(f->dir);
	free(f);
	signals_set_pending(0);
	return 0;
}

/* A new, empty (sparse) file of size bytes: the source before any data is
 * put in, or the target, which like a new zvol reads as zeros. */
static void make_sparse(const char *path, uint64_t size)
{
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, (off_t)size), 0);
	close(fd);
}

/* Writes len bytes at off: pseudo-random data, or zeros when fill is 0
 * (zeros written this way are allocated: not a hole). */
static void put(const char *path, uint64_t off, size_t len, int random)
{
	static uint64_t seed = 88172645463325252ull;
	unsigned char *buf = malloc(len);
	int fd = open(path, O_WRONLY | O_CLOEXEC);

	assert_non_null(buf);
	assert_true(fd >= 0);
	for (size_t i = 0; i < len; i++) {
		if (!random) {
			buf[i] = 0;
			continue;
		}
		seed ^= seed << 13;
		seed ^= seed >> 7;
		seed ^= seed << 17;
		buf[i] = (unsigned char)(seed | 1);	/* never zero */
	}
	assert_int_equal(pwrite(fd, buf, len, (off_t)off), (ssize_t)len);
	close(fd);
	free(buf);
}

/* Streams both files and returns the first offset where they differ in
 * their first size bytes, or -1 when they are equal. */
static long long first_difference(const char *a, const char *b,
				  uint64_t size)
{
	enum { CHUNK = 1024 * 1024 };
	unsigned char *ba = malloc(CHUNK), *bb = malloc(CHUNK);
	int fa = open(a, O_RDONLY | O_CLOEXEC);
	int fb = open(b, O_RDONLY | O_CLOEXEC);
	long long diff = -1;

	assert_non_null(ba);
	assert_non_null(bb);
	assert_true(fa >= 0 && fb >= 0);
	for (uint64_t off = 0; off < size && diff < 0; off += CHUNK) {
		size_t n = size - off < CHUNK ? (size_t)(size - off) : CHUNK;

		assert_int_equal(pread(fa, ba, n, (off_t)off), (ssize_t)n);
		assert_int_equal(pread(fb, bb, n, (off_t)off), (ssize_t)n);
		for (size_t i = 0; i < n; i++) {
			if (ba[i] != bb[i]) {
				diff = (long long)(off + i);
				break;
			}
		}
	}
	close(fa);
	close(fb);
	free(ba);
	free(bb);
	return diff;
}

static uint64_t allocated(const char *path)
{
	struct stat st;

	assert_int_equal(stat(path, &st), 0);
	return (uint64_t)st.st_blocks * 512;
}

struct progress_log {
	int calls;
	uint64_t last;
	int backwards;
	int over;
};

static void log_progress(void *ctx, uint64_t done, uint64_t total)
{
	struct progress_log *log = ctx;

	if (done < log->last)
		log->backwards++;
	if (done > total)
		log->over++;
	log->last = done;
	log->calls++;
}

struct result {
	int ret;
	int err;
	struct copy_stats stats;
	struct progress_log progress;
	char msg[256];
};

/* Copies f->src into a new sparse f->dst of the same size. */
static void copy(struct files *f, uint64_t size, struct result *r)
{
	int src, dst;

	make_sparse(f->dst, size);
	src = open(f->src, O_RDONLY | O_CLOEXEC);
	dst = open(f->dst, O_WRONLY | O_CLOEXEC);
	assert_true(src >= 0 && dst >= 0);
	memset(r, 0, sizeof(*r));
	r->ret = copy_sparse(src, dst, size, &r->stats, log_progress,
			     &r->progress, r->msg, sizeof(r->msg));
	r->err = errno;
	close(src);
	close(dst);
}

static void test_holes_are_skipped(void **state)
{
	struct files *f = *state;
	uint64_t size = 64 * MIB;
	struct result r;

	/* A cloud image: mostly never-written space, some data in it. */
	make_sparse(f->src, size);
	put(f->src, 5 * MIB + 1000, 300000, 1);
	put(f->src, 40 * MIB, 2 * MIB, 1);

	copy(f, size, &r);

	assert_int_equal(r.ret, 0);
	assert_int_equal(first_difference(f->src, f->dst, size), -1);
	assert_int_equal(r.stats.size, size);
	/* Only the data extents were read, in whole filesystem blocks. */
	assert_true(r.stats.data >= 2 * MIB + 300000);
	assert_true(r.stats.data < 3 * MIB);
	/* Written in whole zero blocks: those the 300000 bytes at
	 * 5 MiB + 1000 touch (19 of 16 KiB), and the 2 MiB extent. */
	assert_int_equal(r.stats.written,
			 2 * MIB + ((1000 + 300000 + COPY_ZERO_BLOCK - 1) /
				    COPY_ZERO_BLOCK) * COPY_ZERO_BLOCK);
	assert_true(allocated(f->dst) < 3 * MIB);
	/* The progress line moved forward only, and reached the end. */
	assert_true(r.progress.calls >= 3);
	assert_int_equal(r.progress.backwards, 0);
	assert_int_equal(r.progress.over, 0);
	assert_int_equal(r.progress.last, size);
}

static void test_zero_blocks_are_not_written(void **state)
{
	struct files *f = *state;
	uint64_t size = 16 * MIB;
	struct result r;

	/* Zeros written out (a decompressed download): no holes at all,
	 * and one data block in the middle. */
	make_sparse(f->src, size);
	put(f->src, 0, (size_t)size, 0);
	put(f->src, 7 * MIB, COPY_ZERO_BLOCK, 1);
	assert_true(allocated(f->src) >= size);

	copy(f, size, &r);

	assert_int_equal(r.ret, 0);
	assert_int_equal(first_difference(f->src, f->dst, size), -1);
	assert_int_equal(r.stats.data, size);
	assert_int_equal(r.stats.written, COPY_ZERO_BLOCK);
	assert_true(allocated(f->dst) <= 4 * COPY_ZERO_BLOCK);
}

static void test_data_at_the_very_end(void **state)
{
	struct files *f = *state;
	uint64_t size = 3 * MIB + 17;
	struct result r;

	make_sparse(f->src, size);
	put(f->src, size - 1, 1, 1);

	copy(f, size, &r);

	assert_int_equal(r.ret, 0);
	assert_int_equal(first_difference(f->src, f->dst, size), -1);
	/* Only the last, partial zero block was written. */
	assert_int_equal(r.stats.written, size % COPY_ZERO_BLOCK);
	assert_int_equal(r.progress.last, size);
}

static void test_odd_size_and_mixed_blocks(void **state)
{
	struct files *f = *state;
	uint64_t size = 2 * (uint64_t)COPY_BUF_SIZE + 12345;
	uint64_t data = 0;
	struct result r;

	/* Every third zero block holds data, the others are written zeros;
	 * the last block is partial and holds data. */
	make_sparse(f->src, size);
	put(f->src, 0, (size_t)size, 0);
	for (uint64_t off = 0; off < size; off += 3 * COPY_ZERO_BLOCK) {
		size_t len = size - off < COPY_ZERO_BLOCK ?
			(size_t)(size - off) : COPY_ZERO_BLOCK;

		put(f->src, off, len, 1);
		data += len;
	}
	put(f->src, size - 12345, 12345, 1);
	if ((size - 12345) % (3 * COPY_ZERO_BLOCK) != 0)
		data += 12345;

	copy(f, size, &r);

	assert_int_equal(r.ret, 0);
	assert_int_equal(first_difference(f->src, f->dst, size), -1);
	assert_int_equal(r.stats.data, size);
	assert_int_equal(r.stats.written, data);
}

static void test_source_without_holes(void **state)
{
	struct files *f = *state;
	uint64_t size = (uint64_t)COPY_BUF_SIZE * 2 + COPY_BUF_SIZE / 2;
	struct result r;

	make_sparse(f->src, size);
	put(f->src, 0, (size_t)size, 1);

	copy(f, size, &r);

	assert_int_equal(r.ret, 0);
	assert_int_equal(first_difference(f->src, f->dst, size), -1);
	assert_int_equal(r.stats.data, size);
	assert_int_equal(r.stats.written, size);
	/* One call per buffer: 2.5 buffers make three. */
	assert_int_equal(r.progress.calls, 3);
}

static void test_all_zero_source_writes_nothing(void **state)
{
	struct files *f = *state;
	uint64_t size = 32 * MIB;
	struct result r;

	make_sparse(f->src, size);
	copy(f, size, &r);
	assert_int_equal(r.ret, 0);
	assert_int_equal(r.stats.data, 0);
	assert_int_equal(r.stats.written, 0);
	assert_int_equal(r.progress.last, size);

	/* The same with the zeros actually stored. */
	put(f->src, 0, (size_t)size, 0);
	copy(f, size, &r);
	assert_int_equal(r.ret, 0);
	assert_int_equal(r.stats.data, size);
	assert_int_equal(r.stats.written, 0);
	assert_int_equal(first_difference(f->src, f->dst, size), -1);
	assert_true(allocated(f->dst) < COPY_ZERO_BLOCK);
}

static void test_empty_copy(void **state)
{
	struct files *f = *state;
	struct result r;

	make_sparse(f->src, 0);
	copy(f, 0, &r);
	assert_int_equal(r.ret, 0);
	assert_int_equal(r.stats.written, 0);
}

/*
 * In a child, so the file size limit stays there: the target may not
 * grow past 200000 bytes, so writing the first 1 MiB of data is cut
 * short. SIGXFSZ is ignored, as it would kill the child otherwise; the
 * kernel then returns the short count. Exit status 0 means every check
 * held; the others say which did not.
 */
static void test_short_write_is_an_error(void **state)
{
	struct files *f = *state;
	uint64_t size = 4 * MIB;
	pid_t pid;
	int status;

	make_sparse(f->src, size);
	put(f->src, 0, MIB, 1);
	make_sparse(f->dst, 0);

	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct rlimit rl = { 200000, 200000 };
		struct copy_stats stats;
		char msg[256] = "";
		int src = open(f->src, O_RDONLY | O_CLOEXEC);
		int dst = open(f->dst, O_WRONLY | O_CLOEXEC);
		int ret;

		if (src < 0 || dst < 0 || signal(SIGXFSZ, SIG_IGN) == SIG_ERR ||
		    setrlimit(RLIMIT_FSIZE, &rl) < 0)
			_exit(10);
		ret = copy_sparse(src, dst, size, &stats, NULL, NULL, msg,
				  sizeof(msg));
		if (ret != -1)
			_exit(11);
		if (errno != ENOSPC)
			_exit(12);
		if (strcmp(msg, "writing the volume at byte 0: short write "
			   "(200000 of 1048576 bytes)") != 0) {
			fprintf(stderr, "message: %s\n", msg);
			_exit(13);
		}
		if (stats.written != 200000)
			_exit(14);
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

static void test_write_error_is_reported(void **state)
{
	struct files *f = *state;
	uint64_t size = MIB;
	char msg[256] = "", want[256];
	int src, dst;

	make_sparse(f->src, size);
	put(f->src, 3 * COPY_ZERO_BLOCK, 10, 1);
	make_sparse(f->dst, size);
	src = open(f->src, O_RDONLY | O_CLOEXEC);
	dst = open(f->dst, O_RDONLY | O_CLOEXEC);	/* cannot write */

	assert_int_equal(copy_sparse(src, dst, size, NULL, NULL, NULL, msg,
				     sizeof(msg)), -1);
	assert_int_equal(errno, EBADF);
	snprintf(want, sizeof(want), "writing the volume at byte %u: Bad file "
		 "descriptor", 3 * COPY_ZERO_BLOCK);
	assert_string_equal(msg, want);
	close(src);
	close(dst);
}

static void test_image_shorter_than_size(void **state)
{
	struct files *f = *state;
	struct result r;

	/* The caller expects 8 MiB, the file has 5: its end is not a hole. */
	make_sparse(f->src, 5 * MIB);
	put(f->src, 0, 4096, 1);
	copy(f, 8 * MIB, &r);
	assert_int_equal(r.ret, -1);
	assert_non_null(strstr(r.msg, "image shorter than expected"));
	assert_int_equal(r.stats.written, 0);
}

/* /dev/zero has no extents to report (lseek() answers 0 whatever is
 * asked): everything is read, and nothing but zeros is found. */
static void test_source_without_extents_is_read_whole(void **state)
{
	struct files *f = *state;
	uint64_t size = 8 * MIB + 100;
	struct copy_stats stats;
	char msg[256] = "";
	int src = open("/dev/zero", O_RDONLY | O_CLOEXEC);
	int dst;

	make_sparse(f->dst, size);
	dst = open(f->dst, O_WRONLY | O_CLOEXEC);
	assert_true(src >= 0 && dst >= 0);
	assert_int_equal(copy_sparse(src, dst, size, &stats, NULL, NULL, msg,
				     sizeof(msg)), 0);
	assert_int_equal(stats.data, size);
	assert_int_equal(stats.written, 0);
	close(src);
	close(dst);
}

/* A target that cannot be synced (fsync() gives EINVAL) is no error.
 * The 4 KiB of data goes out as the whole zero block around it. */
static void test_target_that_cannot_be_synced(void **state)
{
	struct files *f = *state;
	struct copy_stats stats;
	char msg[256] = "";
	int src, dst;

	make_sparse(f->src, MIB);
	put(f->src, 4096, 4096, 1);
	src = open(f->src, O_RDONLY | O_CLOEXEC);
	dst = open("/dev/null", O_WRONLY | O_CLOEXEC);
	assert_true(src >= 0 && dst >= 0);
	assert_int_equal(copy_sparse(src, dst, MIB, &stats, NULL, NULL, msg,
				     sizeof(msg)), 0);
	assert_string_equal(msg, "");
	assert_int_equal(stats.written, COPY_ZERO_BLOCK);
	close(src);
	close(dst);
}

/* The reader thread's failure comes back with its own words, and nothing
 * is written: a pipe cannot be read at an offset. */
static void test_reader_failure_is_reported(void **state)
{
	struct files *f = *state;
	struct copy_stats stats;
	char msg[256] = "";
	int pipefd[2];
	int dst;

	make_sparse(f->dst, MIB);
	dst = open(f->dst, O_WRONLY | O_CLOEXEC);
	assert_true(dst >= 0);
	assert_int_equal(pipe(pipefd), 0);
	assert_int_equal(write(pipefd[1], "data", 4), 4);
	assert_int_equal(copy_sparse(pipefd[0], dst, MIB, &stats, NULL, NULL,
				     msg, sizeof(msg)), -1);
	assert_int_equal(errno, ESPIPE);
	assert_non_null(strstr(msg, "reading the image at byte 0: "));
	assert_int_equal(stats.written, 0);
	close(pipefd[0]);
	close(pipefd[1]);
	close(dst);
}

/*
 * Streams: the source is a pipe fed by a child (a decompressor, a
 * download). Copies f->src through the pipe into a new sparse f->dst of
 * size bytes, with COPY_SIZE_STREAM.
 */
static void copy_stream(struct files *f, uint64_t size, struct result *r)
{
	int pipefd[2], dst, status;
	pid_t pid;

	make_sparse(f->dst, size);
	assert_int_equal(pipe(pipefd), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		/* Odd-sized writes: the reader must fill its buffers from
		 * however the stream comes. */
		static char buf[12345];
		int src = open(f->src, O_RDONLY | O_CLOEXEC);
		ssize_t n;

		close(pipefd[0]);
		while (src >= 0 && (n = read(src, buf, sizeof(buf))) > 0)
			if (write(pipefd[1], buf, (size_t)n) != n)
				_exit(1);
		_exit(src >= 0 ? 0 : 1);
	}
	close(pipefd[1]);
	dst = open(f->dst, O_WRONLY | O_CLOEXEC);
	assert_true(dst >= 0);
	memset(r, 0, sizeof(*r));
	r->ret = copy_sparse(pipefd[0], dst, COPY_SIZE_STREAM, &r->stats,
			     log_progress, &r->progress, r->msg,
			     sizeof(r->msg));
	r->err = errno;
	close(pipefd[0]);
	close(dst);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

/* A stream's zero blocks are skipped like holes, its size is what was
 * read, and the target reads as the source. */
static void test_stream_is_copied_without_its_zeros(void **state)
{
	struct files *f = *state;
	uint64_t size = 9 * MIB + 5000;	/* not a whole buffer or block */
	struct result r;

	make_sparse(f->src, size);
	put(f->src, 0, 3 * COPY_ZERO_BLOCK, 1);
	put(f->src, 4 * MIB + 7, 100, 1);	/* inside one block */
	put(f->src, size - 10, 10, 1);		/* the very end */

	copy_stream(f, size, &r);

	assert_int_equal(r.ret, 0);
	assert_string_equal(r.msg, "");
	assert_int_equal(r.stats.size, size);
	assert_int_equal(r.stats.data, size);
	/* Three blocks, the block with the 100 bytes, the last partial
	 * block (5000 + 9 MiB is 5000 bytes into a block). */
	assert_int_equal(r.stats.written,
			 4 * COPY_ZERO_BLOCK + size % COPY_ZERO_BLOCK);
	assert_int_equal(first_difference(f->src, f->dst, size), -1);
	assert_int_equal(r.progress.backwards, 0);
	assert_int_equal(r.progress.last, size);
}

/* An empty stream is an empty copy, not an error. */
static void test_empty_stream(void **state)
{
	struct files *f = *state;
	struct result r;

	make_sparse(f->src, 0);
	copy_stream(f, 0, &r);

	assert_int_equal(r.ret, 0);
	assert_int_equal(r.stats.size, 0);
	assert_int_equal(r.stats.written, 0);
}

/* A sink's failure stops the copy with the sink's words. */
static int failing_write(void *ctx, const void *buf, size_t len,
			 uint64_t off, char *errbuf, size_t errsize)
{
	int *calls = ctx;

	(void)buf;
	(void)len;
	if (++*calls < 2)
		return 0;
	return copy_fail(errbuf, errsize, EPIPE, "remote writer: gone at "
			 "byte %llu", (unsigned long long)off);
}

static int no_finish(void *ctx, char *errbuf, size_t errsize)
{
	(void)ctx;
	return copy_fail(errbuf, errsize, EIO, "finish must not be called");
}

static void test_sink_failure_is_reported(void **state)
{
	struct files *f = *state;
	struct copy_stats stats;
	char msg[256] = "";
	int calls = 0;
	struct copy_sink sink = { .write = failing_write,
				  .finish = no_finish, .ctx = &calls };
	int src;

	make_sparse(f->src, 8 * MIB);
	put(f->src, 0, 16, 1);
	put(f->src, 5 * MIB, 16, 1);
	src = open(f->src, O_RDONLY | O_CLOEXEC);
	assert_true(src >= 0);
	assert_int_equal(copy_data(src, 8 * MIB, &sink, &stats, NULL, NULL,
				   msg, sizeof(msg)), -1);
	assert_int_equal(errno, EPIPE);
	assert_string_equal(msg, "remote writer: gone at byte 5242880");
	assert_int_equal(stats.written, COPY_ZERO_BLOCK);
	assert_int_equal(calls, 2);
	close(src);
}

static void test_pending_signal_interrupts(void **state)
{
	struct files *f = *state;
	struct result r;

	make_sparse(f->src, 8 * MIB);
	put(f->src, 0, MIB, 1);
	signals_set_pending(SIGINT);

	copy(f, 8 * MIB, &r);
	signals_set_pending(0);

	assert_int_equal(r.ret, -1);
	assert_int_equal(r.err, EINTR);
	assert_string_equal(r.msg, "interrupted by signal 2");
	assert_int_equal(r.stats.written, 0);
}

/* ---- a source that fills its own buffers (decode.h's ring) ---- */

/* Hands out pieces of one buffer in turn; fails with EIO at fail_at. */
struct pieces {
	const unsigned char *buf;
	size_t sizes[4];
	size_t n, next, pos;
	size_t fail_at;		/* a piece index, or SIZE_MAX */
	int held;		/* taken and not given back */
};

static int pieces_take(void *ctx, const unsigned char **buf, size_t *len,
		       char *errbuf, size_t errsize)
{
	struct pieces *p = ctx;

	assert_int_equal(p->held, 0);
	if (p->next == p->fail_at)
		return copy_fail(errbuf, errsize, EIO, "xz: gone");
	if (p->next == p->n)
		return 0;
	*buf = p->buf + p->pos;
	*len = p->sizes[p->next];
	p->pos += p->sizes[p->next++];
	p->held = 1;
	return 1;
}

static void pieces_give_back(void *ctx)
{
	((struct pieces *)ctx)->held = 0;
}

struct recorded {
	uint64_t off[8], len[8];
	size_t n;
	uint64_t done_end;	/* chunk_done: the last end */
	size_t dones;
	int finished;
};

static int record_write(void *ctx, const void *buf, size_t len,
			uint64_t off, char *errbuf, size_t errsize)
{
	struct recorded *r = ctx;

	(void)buf;
	(void)errbuf;
	(void)errsize;
	assert_true(r->n < 8);
	r->off[r->n] = off;
	r->len[r->n++] = len;
	return 0;
}

static void record_done(void *ctx, uint64_t off, uint64_t end)
{
	struct recorded *r = ctx;

	assert_int_equal(off, r->done_end);	/* in order, no gap */
	r->done_end = end;
	r->dones++;
}

static int record_finish(void *ctx, char *errbuf, size_t errsize)
{
	(void)errbuf;
	(void)errsize;
	((struct recorded *)ctx)->finished = 1;
	return 0;
}

/* Pieces of 512 KiB (the ring's slots) read in place: zero blocks are
 * skipped, the offsets run on across pieces, the size is the sum. */
static void test_taken_source_is_read_in_place(void **state)
{
	size_t total = 3 * 512 * 1024 + 5000;
	unsigned char *buf = calloc(1, total);
	struct pieces p = { .buf = buf, .n = 4, .fail_at = SIZE_MAX,
			    .sizes = { 512 * 1024, 512 * 1024, 512 * 1024,
				       5000 } };
	struct recorded r = { .n = 0 };
	struct copy_sink sink = { record_write, record_done, record_finish,
				  &r };
	struct copy_source src = { .fd = -1, .take = pieces_take,
				   .give_back = pieces_give_back, .ctx = &p };
	struct copy_stats stats;
	char msg[256];

	(void)state;
	assert_non_null(buf);
	buf[100] = 1;				/* block 0 */
	buf[512 * 1024 + 16384] = 1;		/* piece 1, its block 1 */
	buf[total - 1] = 1;			/* the short tail */
	assert_int_equal(copy_data_from(&src, COPY_SIZE_STREAM, &sink, &stats,
					NULL, NULL, msg, sizeof(msg)), 0);
	assert_int_equal(stats.size, total);
	assert_int_equal(stats.data, total);
	assert_int_equal(r.n, 3);
	assert_int_equal(r.off[0], 0);
	assert_int_equal(r.len[0], COPY_ZERO_BLOCK);
	assert_int_equal(r.off[1], 512 * 1024 + COPY_ZERO_BLOCK);
	assert_int_equal(r.len[1], COPY_ZERO_BLOCK);
	assert_int_equal(r.off[2], 3 * 512 * 1024);
	assert_int_equal(r.len[2], 5000);
	assert_int_equal(stats.written, 2 * COPY_ZERO_BLOCK + 5000);
	/* Writeback asked COPY_BUF_SIZE at a time, then the rest. */
	assert_int_equal(r.done_end, total);
	assert_int_equal(r.dones, 1 + (total - 1) / COPY_BUF_SIZE);
	assert_int_equal(p.held, 0);
	assert_int_equal(r.finished, 1);
	free(buf);
}

/* The source's failure is the copy's, and nothing is finished. */
static void test_taken_source_failure_is_reported(void **state)
{
	unsigned char *buf = calloc(1, 1024 * 1024);
	struct pieces p = { .buf = buf, .n = 2, .fail_at = 1,
			    .sizes = { 512 * 1024, 512 * 1024 } };
	struct recorded r = { .n = 0 };
	struct copy_sink sink = { record_write, record_done, record_finish,
				  &r };
	struct copy_source src = { .fd = -1, .take = pieces_take,
				   .give_back = pieces_give_back, .ctx = &p };
	struct copy_stats stats;
	char msg[256];

	(void)state;
	assert_non_null(buf);
	assert_int_equal(copy_data_from(&src, COPY_SIZE_STREAM, &sink, &stats,
					NULL, NULL, msg, sizeof(msg)), -1);
	assert_int_equal(errno, EIO);
	assert_string_equal(msg, "xz: gone");
	assert_int_equal(r.finished, 0);
	assert_int_equal(p.held, 0);
	/* A taken source is a stream: a size is refused. */
	p.next = 0;
	p.fail_at = SIZE_MAX;
	assert_int_equal(copy_data_from(&src, 4096, &sink, &stats, NULL, NULL,
					msg, sizeof(msg)), -1);
	assert_int_equal(errno, EINVAL);
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_taken_source_is_read_in_place),
		cmocka_unit_test(test_taken_source_failure_is_reported),
		cmocka_unit_test_setup_teardown(test_holes_are_skipped,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_zero_blocks_are_not_written, setup, teardown),
		cmocka_unit_test_setup_teardown(test_data_at_the_very_end,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_odd_size_and_mixed_blocks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_source_without_holes,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_all_zero_source_writes_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_empty_copy, setup,
						teardown),
		cmocka_unit_test_setup_teardown(
			test_short_write_is_an_error, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_write_error_is_reported, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_image_shorter_than_size, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_source_without_extents_is_read_whole, setup,
			teardown),
		cmocka_unit_test_setup_teardown(
			test_target_that_cannot_be_synced, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_reader_failure_is_reported, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_pending_signal_interrupts, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_stream_is_copied_without_its_zeros, setup,
			teardown),
		cmocka_unit_test_setup_teardown(test_empty_stream, setup,
						teardown),
		cmocka_unit_test_setup_teardown(
			test_sink_failure_is_reported, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
