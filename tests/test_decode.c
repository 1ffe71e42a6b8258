/*
 * decode: xz and zstd decoded in a child of the test's into a shared ring
 * (or a pipe), checked against files made by the real xz and zstd
 * programs: byte for byte, concatenated streams, truncated and corrupt
 * input, a child killed mid-stream, and a reader that stops early or is
 * interrupted, after which no process and no shared memory is left.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "testdir.h"

#include "copy.h"
#include "decode.h"
#include "signals.h"

static char dir[] = "/tmp/qvm-test-decode.XXXXXX";

static int setup(void **state)
{
	char *cmd;
	int rc;

	(void)state;
	if (!mkdtemp(dir))
		return -1;
	/* Data with zero runs (skipped by the copy) and an odd size. */
	if (asprintf(&cmd, "cd '%s' && "
		     "{ head -c 1000000 /dev/urandom; head -c 300000 "
		     "/dev/zero; head -c 777777 /dev/urandom; } > a && "
		     "{ seq 1 200000; head -c 70000 /dev/zero; } > b && "
		     "xz -T1 -k a && xz -T1 -k b && zstd -q -k a && "
		     "zstd -q -k b", dir) < 0)
		return -1;
	rc = system(cmd);
	free(cmd);
	return rc == 0 ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	return testdir_remove(dir);
}

/* Runs a shell line in the test's directory. */
#define sh(...) testdir_sh(dir, __VA_ARGS__)

static int open_in(const char *name, int flags)
{
	char path[256];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, flags | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	return fd;
}

/* The shared mappings of this process (the rings live there). */
static int shared_maps(void)
{
	FILE *f = fopen("/proc/self/maps", "r");
	char line[512];
	int n = 0;

	assert_non_null(f);
	while (fgets(line, sizeof(line), f))
		if (strstr(line, "/dev/zero (deleted)"))
			n++;
	fclose(f);
	return n;
}

static void assert_gone(int pid)
{
	assert_int_equal(kill(pid, 0), -1);
	assert_int_equal(errno, ESRCH);
}

/*
 * Decodes name (codec) through the ring into out (a fresh file, so the
 * skipped zero blocks read as zeros), which gets the stream's length.
 * The copy's result in *copy_rc, decoder_finish's returned, why in err.
 */
static int decode_to(const char *name, enum img_wrapper codec,
		     const char *out, int *copy_rc, char *err, size_t errsize)
{
	struct decoder d;
	struct copy_source src;
	struct copy_stats stats;
	char cerr[256];
	int in = open_in(name, O_RDONLY);
	int dst = open_in(out, O_WRONLY | O_CREAT | O_TRUNC);
	int maps = shared_maps();
	int pid, rc;

	assert_int_equal(decoder_start(&d, codec, in, -1, err, errsize), 0);
	close(in);
	pid = d.pid;
	assert_int_equal(shared_maps(), maps + 1);	/* the ring */
	decoder_source(&d, &src);
	*copy_rc = copy_sparse_from(&src, dst, COPY_SIZE_STREAM, &stats,
				    NULL, NULL, cerr, sizeof(cerr));
	if (*copy_rc == 0)
		assert_int_equal(ftruncate(dst, (off_t)stats.size), 0);
	close(dst);
	rc = decoder_finish(&d, err, errsize);
	assert_int_equal(d.pid, 0);
	assert_gone(pid);
	assert_int_equal(shared_maps(), maps);
	return rc;
}

static void xz_round_trip_is_byte_exact(void **state)
{
	char err[256];
	int copy_rc;

	(void)state;
	assert_int_equal(decode_to("a.xz", IMG_XZ, "a.out", &copy_rc, err,
				   sizeof(err)), 0);
	assert_int_equal(copy_rc, 0);
	sh("cmp a a.out");
	assert_int_equal(decode_to("b.xz", IMG_XZ, "b.out", &copy_rc, err,
				   sizeof(err)), 0);
	sh("cmp b b.out");
}

static void zstd_round_trip_is_byte_exact(void **state)
{
	char err[256];
	int copy_rc;

	(void)state;
	assert_int_equal(decode_to("a.zst", IMG_ZSTD, "a.out", &copy_rc, err,
				   sizeof(err)), 0);
	assert_int_equal(copy_rc, 0);
	sh("cmp a a.out");
	assert_int_equal(decode_to("b.zst", IMG_ZSTD, "b.out", &copy_rc, err,
				   sizeof(err)), 0);
	sh("cmp b b.out");
}

/* cat a.xz b.xz decodes to a then b, as xz -dc does; zstd the same. */
static void concatenated_files_decode_to_all_of_them(void **state)
{
	char err[256];
	int copy_rc;

	(void)state;
	sh("cat a b > ab && cat a.xz b.xz > ab.xz && cat b.zst a.zst > "
	   "ba.zst && cat b a > ba");
	assert_int_equal(decode_to("ab.xz", IMG_XZ, "ab.out", &copy_rc, err,
				   sizeof(err)), 0);
	sh("cmp ab ab.out");
	assert_int_equal(decode_to("ba.zst", IMG_ZSTD, "ba.out", &copy_rc,
				   err, sizeof(err)), 0);
	sh("cmp ba ba.out");
}

static void truncated_input_fails_saying_so(void **state)
{
	char err[256];
	int copy_rc;

	(void)state;
	sh("head -c $(($(stat -c %%s a.xz) - 100)) a.xz > cut.xz && "
	   "head -c $(($(stat -c %%s a.zst) - 100)) a.zst > cut.zst");
	/* The data ends early, as a pipe would; the decoder says why. */
	assert_int_equal(decode_to("cut.xz", IMG_XZ, "cut.out", &copy_rc, err,
				   sizeof(err)), -1);
	assert_int_equal(copy_rc, 0);
	assert_string_equal(err, "xz: Unexpected end of input");
	assert_int_equal(decode_to("cut.zst", IMG_ZSTD, "cut.out", &copy_rc,
				   err, sizeof(err)), -1);
	assert_string_equal(err, "zstd: Unexpected end of input");
}

static void corrupt_input_fails_saying_so(void **state)
{
	char err[256];
	int copy_rc;

	(void)state;
	/* 64 bytes of b's compressed data overwritten, past the headers. */
	sh("cp b.xz bad.xz && head -c 64 /dev/zero | dd of=bad.xz bs=1 "
	   "seek=2000 conv=notrunc status=none && cp b.zst bad.zst && "
	   "head -c 64 /dev/zero | dd of=bad.zst bs=1 seek=2000 "
	   "conv=notrunc status=none");
	assert_int_equal(decode_to("bad.xz", IMG_XZ, "bad.out", &copy_rc, err,
				   sizeof(err)), -1);
	assert_string_equal(err, "xz: Compressed data is corrupt");
	assert_int_equal(decode_to("bad.zst", IMG_ZSTD, "bad.out", &copy_rc,
				   err, sizeof(err)), -1);
	assert_true(strncmp(err, "zstd: ", 6) == 0);
	assert_null(strstr(err, "Unexpected end"));
}

/* Into a pipe (for tar, for the probe): the same bytes. */
static void pipe_output_is_byte_exact(void **state)
{
	struct decoder d;
	char err[256], *buf = malloc(4u << 20);
	int in = open_in("a.xz", O_RDONLY);
	int want = open_in("a", O_RDONLY);
	int p[2];
	size_t got = 0;
	ssize_t r;

	(void)state;
	assert_non_null(buf);
	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	assert_int_equal(decoder_start(&d, IMG_XZ, in, p[1], err,
				       sizeof(err)), 0);
	close(in);
	close(p[1]);
	while ((r = read(p[0], buf + got, (4u << 20) - got)) > 0)
		got += (size_t)r;
	close(p[0]);
	assert_int_equal(decoder_finish(&d, err, sizeof(err)), 0);
	assert_int_equal(got, 2077777);
	{
		char *a = malloc(got);

		assert_non_null(a);
		assert_int_equal(read(want, a, got), (ssize_t)got);
		assert_memory_equal(a, buf, got);
		free(a);
	}
	close(want);
	free(buf);
}

/* A child that dies while qvm reads: the data ends, finish says how. */
static void child_killed_mid_stream_is_reported(void **state)
{
	struct decoder d;
	struct copy_source src;
	const unsigned char *buf;
	char err[256];
	size_t len;
	int in, pid, rc;

	(void)state;
	sh("head -c 20000000 /dev/urandom | xz -0 -T1 > big.xz");
	in = open_in("big.xz", O_RDONLY);
	assert_int_equal(decoder_start(&d, IMG_XZ, in, -1, err,
				       sizeof(err)), 0);
	close(in);
	pid = d.pid;
	decoder_source(&d, &src);
	assert_int_equal(src.take(src.ctx, &buf, &len, err, sizeof(err)), 1);
	assert_int_equal(len, DECODE_SLOT_SIZE);
	src.give_back(src.ctx);
	assert_int_equal(kill(pid, SIGKILL), 0);
	do
		rc = src.take(src.ctx, &buf, &len, err, sizeof(err));
	while (rc == 1 && (src.give_back(src.ctx), 1));
	assert_int_equal(rc, 0);
	assert_int_equal(decoder_finish(&d, err, sizeof(err)), -1);
	assert_string_equal(err, "xz: killed by signal 9");
	assert_gone(pid);
}

/* qvm stops reading (a failed write): finish stops the child. */
static void reader_that_stops_early_leaves_nothing(void **state)
{
	struct decoder d;
	struct copy_source src;
	const unsigned char *buf;
	char err[256];
	size_t len;
	int maps = shared_maps();
	int in, pid;

	(void)state;
	sh("test -f big.xz || head -c 20000000 /dev/urandom | xz -0 -T1 > "
	   "big.xz");
	in = open_in("big.xz", O_RDONLY);
	assert_int_equal(decoder_start(&d, IMG_XZ, in, -1, err,
				       sizeof(err)), 0);
	close(in);
	pid = d.pid;
	decoder_source(&d, &src);
	assert_int_equal(src.take(src.ctx, &buf, &len, err, sizeof(err)), 1);
	/* Not given back: the child waits for a slot. */
	assert_int_equal(decoder_finish(&d, err, sizeof(err)), -1);
	assert_gone(pid);
	assert_int_equal(shared_maps(), maps);
}

/* An interrupt while the child waits for input that never comes: the
 * copy stops with EINTR; nothing is left. */
static void interrupt_stops_the_copy_and_leaves_nothing(void **state)
{
	struct decoder d;
	struct copy_source src;
	struct copy_stats stats;
	char err[256];
	int maps = shared_maps();
	int p[2], dst, pid;

	(void)state;
	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	/* xz's magic, and then nothing for ever. */
	assert_int_equal(write(p[1], "\3757zXZ", 6), 6);
	assert_int_equal(decoder_start(&d, IMG_XZ, p[0], -1, err,
				       sizeof(err)), 0);
	close(p[0]);
	pid = d.pid;
	decoder_source(&d, &src);
	dst = open_in("int.out", O_WRONLY | O_CREAT | O_TRUNC);
	signals_set_pending(SIGINT);
	assert_int_equal(copy_sparse_from(&src, dst, COPY_SIZE_STREAM, &stats,
					  NULL, NULL, err, sizeof(err)), -1);
	assert_int_equal(errno, EINTR);
	assert_string_equal(err, "interrupted by signal 2");
	decoder_stop(&d);
	assert_int_equal(decoder_finish(&d, err, sizeof(err)), -1);
	signals_set_pending(0);
	close(p[1]);
	close(dst);
	assert_gone(pid);
	assert_int_equal(shared_maps(), maps);
}

/* Stopped at once, before it could set its signals up: SIGTERM still
 * ends it (it is not caught by a handler of qvm's inherited over fork). */
static void stop_right_after_start_terminates_the_child(void **state)
{
	char err[256];
	int p[2];

	(void)state;
	signals_install();	/* qvm's handlers, which the fork copies */
	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	for (int i = 0; i < 20; i++) {
		struct decoder d;
		int pid;

		assert_int_equal(decoder_start(&d, IMG_ZSTD, p[0], -1, err,
					       sizeof(err)), 0);
		pid = d.pid;
		decoder_stop(&d);
		assert_int_equal(decoder_finish(&d, err, sizeof(err)), -1);
		assert_int_equal(d.status, 128 + SIGTERM);
		assert_string_equal(err, "zstd: killed by signal 15");
		assert_gone(pid);
	}
	close(p[0]);
	close(p[1]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(xz_round_trip_is_byte_exact),
		cmocka_unit_test(zstd_round_trip_is_byte_exact),
		cmocka_unit_test(concatenated_files_decode_to_all_of_them),
		cmocka_unit_test(truncated_input_fails_saying_so),
		cmocka_unit_test(corrupt_input_fails_saying_so),
		cmocka_unit_test(pipe_output_is_byte_exact),
		cmocka_unit_test(child_killed_mid_stream_is_reported),
		cmocka_unit_test(reader_that_stops_early_leaves_nothing),
		cmocka_unit_test(interrupt_stops_the_copy_and_leaves_nothing),
		cmocka_unit_test(stop_right_after_start_terminates_the_child),
	};

	return cmocka_run_group_tests_name("decode", tests, setup, teardown);
}
