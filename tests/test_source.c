/*
 * source and runner_spawn: where an image comes from, what it is wrapped
 * in (found by running the real xz and tar on its first bytes), and the
 * pipelines that stream it. These run actual programs.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "testdir.h"

#include "imgfmt.h"
#include "runner.h"
#include "signals.h"
#include "source.h"

static char dir[] = "/tmp/qvm-test-source.XXXXXX";

static int setup(void **state)
{
	(void)state;
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	return testdir_remove(dir);
}

/* Runs a shell line in the test's directory. */
#define sh(...) testdir_sh(dir, __VA_ARGS__)

/* ---- source_parse: pure ---- */

static void parse_names_the_file_by_its_last_component(void **state)
{
	struct source s;
	char err[256];

	(void)state;
	assert_int_equal(source_parse("/srv/img/debian.raw.xz", &s, err,
				      sizeof(err)), 0);
	assert_false(s.url);
	assert_string_equal(s.name, "debian.raw.xz");
	source_clear(&s);

	assert_int_equal(source_parse("https://cloud.debian.org/images/"
				      "debian-12-nocloud-amd64.tar.xz?x=1#f",
				      &s, err, sizeof(err)), 0);
	assert_true(s.url);
	assert_string_equal(s.name, "debian-12-nocloud-amd64.tar.xz");
	source_clear(&s);

	/* %XX decoded: the list names the file, not its URL. */
	assert_int_equal(source_parse("HTTP://h/a%20b.img", &s, err,
				      sizeof(err)), 0);
	assert_true(s.url);
	assert_string_equal(s.name, "a b.img");
	source_clear(&s);

	assert_int_equal(source_parse("file:///tmp/x.qcow2", &s, err,
				      sizeof(err)), 0);
	assert_true(s.url);
	assert_string_equal(s.name, "x.qcow2");
	source_clear(&s);

	/* "://" after a slash is part of a path. */
	assert_int_equal(source_parse("dir/a://b.raw", &s, err, sizeof(err)),
			 0);
	assert_false(s.url);
	assert_string_equal(s.name, "b.raw");
	source_clear(&s);
}

static void parse_refuses_other_schemes_and_urls_without_a_file(void **state)
{
	struct source s;
	char err[256];

	(void)state;
	assert_int_equal(source_parse("ftp://h/x.raw", &s, err, sizeof(err)),
			 -1);
	assert_string_equal(err, "'ftp' URLs are not supported: qvm fetches "
			    "http://, https:// and file:// URLs");
	assert_int_equal(source_parse("https://h/images/", &s, err,
				      sizeof(err)), -1);
	assert_string_equal(err, "the URL names no file (its path ends in "
			    "'/')");
	assert_int_equal(source_parse("https://h", &s, err, sizeof(err)), -1);
}

static void unwrap_commands_read_stdin(void **state)
{
	(void)state;
	assert_string_equal(source_unwrap_argv(IMG_XZ)[0], "xz");
	assert_string_equal(source_unwrap_argv(IMG_XZ)[1], "-dc");
	assert_string_equal(source_unwrap_argv(IMG_ZSTD)[0], "zstd");
	assert_string_equal(source_unwrap_argv(IMG_BZIP2)[0], "bzip2");
	assert_string_equal(source_unwrap_argv(IMG_GZIP)[0], "gzip");
	assert_string_equal(source_unwrap_argv(IMG_TAR)[0], "tar");
	assert_null(source_unwrap_argv(IMG_BARE));
}

static void digest_is_read_from_the_hash_programs_output(void **state)
{
	char d[129];

	(void)state;
	assert_int_equal(source_parse_digest("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
					     "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
					     "  -\n", d, sizeof(d)), 0);
	assert_int_equal(strlen(d), 64);
	assert_int_equal(d[0], 'a');
	/* sha256sum escapes an odd name with a leading backslash. */
	assert_int_equal(source_parse_digest("\\0123456789abcdef0123456789abcd"
					     "ef0123456789abcdef0123456789abcdef"
					     "  a\\nb", d, sizeof(d)), 0);
	assert_string_equal(d, "0123456789abcdef0123456789abcdef0123456789"
			    "abcdef0123456789abcdef");
	assert_int_equal(source_parse_digest("abc  -\n", d, sizeof(d)), -1);
	assert_int_equal(source_parse_digest("", d, sizeof(d)), -1);
}

/* ---- imgfmt_identify: magic only ---- */

static void identify_by_magic_only(void **state)
{
	unsigned char buf[512];
	struct img_info info;

	(void)state;
	memset(buf, 0, sizeof(buf));
	memcpy(buf, "QFI\xfb\0\0\0\3", 8);
	buf[24 + 5] = 0x10;	/* 1 MiB, big-endian */
	imgfmt_identify(buf, sizeof(buf), &info);
	assert_int_equal(info.format, IMG_QCOW2);
	assert_int_equal(info.virtual_size, 1024 * 1024);

	memset(buf, 0, sizeof(buf));
	memcpy(buf, "\xfd" "7zXZ\0", 6);
	imgfmt_identify(buf, sizeof(buf), &info);
	assert_int_equal(info.format, IMG_NOT_A_DISK);
	assert_int_equal(info.wrapper, IMG_XZ);

	memset(buf, 0, sizeof(buf));
	memcpy(buf + 257, "ustar", 5);
	imgfmt_identify(buf, sizeof(buf), &info);
	assert_int_equal(info.wrapper, IMG_TAR);

	memset(buf, 0, sizeof(buf));
	memcpy(buf, "PK\x03\x04", 4);
	imgfmt_identify(buf, sizeof(buf), &info);
	assert_int_equal(info.format, IMG_NOT_A_DISK);
	assert_int_equal(info.wrapper, IMG_BARE);

	memset(buf, 0, sizeof(buf));
	memcpy(buf, "KDMV", 4);
	imgfmt_identify(buf, sizeof(buf), &info);
	assert_int_equal(info.format, IMG_UNSUPPORTED);
	assert_string_equal(info.name, "vmdk");

	memset(buf, 0x55, sizeof(buf));
	imgfmt_identify(buf, sizeof(buf), &info);
	assert_int_equal(info.format, IMG_RAW);
	assert_string_equal(info.name, "raw");
}

/* ---- source_probe: the layers, by running xz and tar ---- */

/* s->arg points at the path: it lives as long as the tests. */
static char path[256];

static void probe_file(const char *name, struct source *s, int *fd)
{
	char err[512];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	assert_int_equal(source_parse(path, s, err, sizeof(err)), 0);
	*fd = open(path, O_RDONLY | O_CLOEXEC);
	assert_true(*fd >= 0);
	if (source_probe(s, *fd, err, sizeof(err)) < 0)
		fail_msg("probe %s: %s", name, err);
}

static void probe_peels_compression_and_tar(void **state)
{
	struct source s;
	int fd;

	(void)state;
	sh("head -c 3145728 /dev/urandom > disk.raw");
	sh("xz -T1 -k disk.raw && tar -cf disk.tar disk.raw && xz -T1 -k "
	   "disk.tar && zstd -q -k disk.raw");
	sh("qemu-img convert -f raw -O qcow2 disk.raw disk.qcow2 && "
	   "gzip -k disk.qcow2 && cp disk.raw.xz image.img");

	probe_file("disk.raw.xz", &s, &fd);
	assert_int_equal(s.codec, IMG_XZ);
	assert_false(s.tar);
	assert_int_equal(s.disk.format, IMG_RAW);
	assert_string_equal(s.what, "an xz-compressed raw image");
	source_clear(&s);
	close(fd);

	probe_file("disk.tar.xz", &s, &fd);
	assert_int_equal(s.codec, IMG_XZ);
	assert_true(s.tar);
	assert_int_equal(s.disk.format, IMG_RAW);
	assert_string_equal(s.what, "an xz-compressed tar archive of a raw "
			    "image");
	source_clear(&s);
	close(fd);

	probe_file("disk.tar", &s, &fd);
	assert_int_equal(s.codec, IMG_BARE);
	assert_true(s.tar);
	assert_string_equal(s.what, "a tar archive of a raw image");
	source_clear(&s);
	close(fd);

	probe_file("disk.raw.zst", &s, &fd);
	assert_int_equal(s.codec, IMG_ZSTD);
	assert_string_equal(s.what, "a zstd-compressed raw image");
	source_clear(&s);
	close(fd);

	probe_file("disk.qcow2.gz", &s, &fd);
	assert_int_equal(s.codec, IMG_GZIP);
	assert_int_equal(s.disk.format, IMG_QCOW2);
	assert_int_equal(s.disk.virtual_size, 3145728);
	assert_string_equal(s.what, "a gzip-compressed qcow2 image");
	source_clear(&s);
	close(fd);

	/* The name says .img; the content says xz. */
	probe_file("image.img", &s, &fd);
	assert_int_equal(s.codec, IMG_XZ);
	source_clear(&s);
	close(fd);

	probe_file("disk.raw", &s, &fd);
	assert_int_equal(s.codec, IMG_BARE);
	assert_false(s.tar);
	assert_string_equal(s.what, "a raw image");
	source_clear(&s);
	close(fd);
}

static void probe_names_what_is_inside(void **state)
{
	struct source s;
	int fd;

	(void)state;
	sh("printf KDMV > d.vmdk && head -c 9000 /dev/urandom >> d.vmdk && "
	   "xz -T1 -k d.vmdk");
	probe_file("d.vmdk.xz", &s, &fd);
	assert_int_equal(s.disk.format, IMG_UNSUPPORTED);
	assert_string_equal(s.what, "an xz-compressed vmdk image");
	source_clear(&s);
	close(fd);
}

static void probe_reports_a_corrupt_compressed_file(void **state)
{
	char err[512];
	struct source s;
	int fd;

	(void)state;
	/* xz's magic, then garbage: xz says what is wrong. */
	sh("printf '\\375' > bad.xz && printf '7zXZ\\000\\000' >> bad.xz && "
	   "head -c 5000 /dev/zero >> bad.xz");
	snprintf(path, sizeof(path), "%s/bad.xz", dir);
	assert_int_equal(source_parse(path, &s, err, sizeof(err)), 0);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	assert_int_equal(source_probe(&s, fd, err, sizeof(err)), -1);
	assert_non_null(strstr(err, path));
	assert_non_null(strstr(err, "xz: Compressed data is corrupt"));
	source_clear(&s);
	close(fd);
}

/* ---- the stream and its checks ---- */

/* Streams name (a file in dir) to its end: 0 or -1 with errbuf; the
 * bytes read in *got. */
static int stream_file(const char *name, const char *hash, size_t *got,
		       char *digest, char *errbuf, size_t errsize)
{
	struct source_stream st;
	struct source s;
	char buf[65536];
	int fd, rc;
	ssize_t r;

	probe_file(name, &s, &fd);
	assert_int_equal(source_stream_start(&s, fd, hash, &st, errbuf,
					     errsize), 0);
	*got = 0;
	while ((r = read(st.out, buf, sizeof(buf))) > 0)
		*got += (size_t)r;
	rc = source_stream_finish(&s, &st, digest, errbuf, errsize);
	source_clear(&s);
	close(fd);
	return rc;
}

static void stream_gives_the_disk_and_checks_every_program(void **state)
{
	char err[512], digest[129];
	size_t got;

	(void)state;
	sh("head -c 2000000 /dev/urandom > a.raw && head -c 3000 /dev/urandom "
	   "> b.raw && tar -cf one.tar a.raw && xz -T1 -k one.tar && "
	   "tar -cf two.tar a.raw b.raw && xz -T1 two.tar");
	assert_int_equal(stream_file("one.tar.xz", NULL, &got, digest, err,
				     sizeof(err)), 0);
	assert_int_equal(got, 2000000);
	assert_string_equal(digest, "");

	assert_int_equal(stream_file("two.tar.xz", NULL, &got, digest, err,
				     sizeof(err)), -1);
	assert_string_equal(err, "two.tar.xz holds 2 files (a.raw, b.raw); "
			    "qvm imports an archive of exactly one disk "
			    "image");

	sh("head -c $(($(stat -c %%s one.tar.xz) - 64)) one.tar.xz > "
	   "cut.tar.xz");
	assert_int_equal(stream_file("cut.tar.xz", NULL, &got, digest, err,
				     sizeof(err)), -1);
	assert_non_null(strstr(err, "decompressing "));
	assert_non_null(strstr(err, "xz: Unexpected end of input"));
}

static void spawn_connects_the_programs_in_the_c_locale(void **state)
{
	const char *const *argvs[3] = {
		(const char *const[]){ "printf", "hello", NULL },
		(const char *const[]){ "tr", "a-z", "A-Z", NULL },
		(const char *const[]){ "sh", "-c", "cat; printf ' %s' "
				       "\"$LC_ALL\"; echo oops >&2; exit 3",
				       NULL },
	};
	struct run_result res[3];
	struct run_pipeline p;

	(void)state;
	assert_int_equal(runner_spawn(argvs, 3, -1, 1, &p, &res[0]), 0);
	assert_int_equal(p.out, -1);
	assert_int_equal(runner_pipeline_wait(&p, res), -1);
	assert_int_equal(res[0].status, 0);
	assert_int_equal(res[1].status, 0);
	assert_int_equal(res[2].status, 3);
	assert_string_equal(res[2].out, "HELLO C");
	assert_string_equal(res[2].err, "oops\n");
	for (int i = 0; i < 3; i++)
		run_result_clear(&res[i]);
}

static void spawn_of_a_missing_program_leaves_nothing_running(void **state)
{
	const char *const *argvs[2] = {
		(const char *const[]){ "sleep", "30", NULL },
		(const char *const[]){ "qvm-no-such-program", NULL },
	};
	struct run_result res;
	struct run_pipeline p;

	(void)state;
	assert_int_equal(runner_spawn(argvs, 2, -1, 0, &p, &res), -1);
	assert_string_equal(res.err, "qvm-no-such-program: command not found");
	assert_int_equal(p.pid[0], 0);
	run_result_clear(&res);
}

static void stopped_pipeline_ends_at_once(void **state)
{
	const char *const *argvs[2] = {
		(const char *const[]){ "sleep", "30", NULL },
		(const char *const[]){ "cat", NULL },
	};
	struct run_result res[2];
	struct run_pipeline p;
	time_t start = time(NULL);

	(void)state;
	assert_int_equal(runner_spawn(argvs, 2, RUN_STDIN_PIPE, 0, &p,
				      &res[0]), 0);
	assert_true(p.in >= 0);
	assert_true(p.out >= 0);
	runner_pipeline_stop(&p);
	assert_int_equal(runner_pipeline_wait(&p, res), -1);
	assert_int_equal(res[0].status, 128 + 15);
	assert_true(time(NULL) - start < 10);
	run_result_clear(&res[0]);
	run_result_clear(&res[1]);
}

/* A download's length for the progress line: the last response's, after
 * redirects; none when the server gives none. */
static void length_is_the_last_responses_content_length(void **state)
{
	(void)state;
	assert_int_equal(source_parse_length(
		"HTTP/1.1 302 Found\r\nLocation: /x\r\nContent-Length: 5\r\n"
		"\r\nHTTP/1.1 200 OK\r\ncontent-LENGTH:  9663676416\r\n\r\n"),
		9663676416ULL);
	assert_int_equal(source_parse_length(
		"HTTP/1.1 301 Moved\r\nContent-Length: 162\r\n\r\n"
		"HTTP/2 200\r\ntransfer-encoding: chunked\r\n\r\n"), 0);
	assert_int_equal(source_parse_length(
		"HTTP/1.1 200 OK\r\nContent-Length: lots\r\n\r\n"), 0);
	assert_int_equal(source_parse_length(""), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(parse_names_the_file_by_its_last_component),
		cmocka_unit_test(parse_refuses_other_schemes_and_urls_without_a_file),
		cmocka_unit_test(unwrap_commands_read_stdin),
		cmocka_unit_test(digest_is_read_from_the_hash_programs_output),
		cmocka_unit_test(identify_by_magic_only),
		cmocka_unit_test(probe_peels_compression_and_tar),
		cmocka_unit_test(probe_names_what_is_inside),
		cmocka_unit_test(probe_reports_a_corrupt_compressed_file),
		cmocka_unit_test(stream_gives_the_disk_and_checks_every_program),
		cmocka_unit_test(spawn_connects_the_programs_in_the_c_locale),
		cmocka_unit_test(spawn_of_a_missing_program_leaves_nothing_running),
		cmocka_unit_test(stopped_pipeline_ends_at_once),
		cmocka_unit_test(length_is_the_last_responses_content_length),
	};

	return cmocka_run_group_tests_name("source", tests, setup, teardown);
}
