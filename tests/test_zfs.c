/*
 * zfs: every row of the error table meets the text OpenZFS really prints,
 * and every operation runs exactly the zfs command it should.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mock_runner.h"
#include "msg.h"
#include "strvec.h"
#include "undo.h"
#include "zfs.h"

/* What zfs(8) prints, as read from the OpenZFS sources (libzfs_util.c,
 * libzfs_dataset.c, zfs_main.c) and seen on real systems. */
static const struct {
	const char *err;
	int status;
	enum zfs_err want;
} samples[] = {
	{ "cannot create 'tank/x': dataset already exists\n", 1,
	  ZFS_ERR_EXISTS },
	{ "cannot create 'tank/a/b': parent does not exist\n", 1,
	  ZFS_ERR_NOPARENT },
	{ "cannot create 'tank/a/b': no such parent 'tank/a'\n", 1,
	  ZFS_ERR_NOPARENT },
	{ "cannot create 'nopool/x': no such pool 'nopool'\n", 1,
	  ZFS_ERR_NOPOOL },
	{ "cannot open 'nopool': no such pool\n", 1, ZFS_ERR_NOPOOL },
	{ "cannot open 'tank/x': dataset does not exist\n", 1,
	  ZFS_ERR_NOENT },
	{ "could not find any snapshots to destroy; check snapshot names.\n",
	  1, ZFS_ERR_NOENT },
	{ "cannot create 'tank/vol/x': parent is not a filesystem\n", 1,
	  ZFS_ERR_WRONG_PARENT },
	{ "cannot create 'tank/xxxx': name is too long\n", 1,
	  ZFS_ERR_NAME_TOO_LONG },
	{ "cannot open 'tank/xxxx': dataset name is too long\n", 1,
	  ZFS_ERR_NAME_TOO_LONG },
	{ "cannot create 'tank/a b': invalid character ' ' in name\n", 1,
	  ZFS_ERR_NAME },
	{ "cannot create '/tank/x': leading slash in name\n", 1,
	  ZFS_ERR_NAME },
	{ "cannot create 'tank/x/': trailing slash in name\n", 1,
	  ZFS_ERR_NAME },
	{ "cannot create 'tank//x': empty component or misplaced '@' or '#' "
	  "delimiter in name\n", 1, ZFS_ERR_NAME },
	{ "cannot create '': missing dataset name\n", 1, ZFS_ERR_NAME },
	{ "cannot open 'tank/x': missing '@' delimiter in snapshot name\n", 1,
	  ZFS_ERR_NAME },
	{ "cannot create 'tank/x@y': snapshot delimiter '@' is not expected "
	  "here\n", 1, ZFS_ERR_NAME },
	{ "cannot create 'tank/a/b/c': maximum name nesting depth "
	  "exceeded\n", 1, ZFS_ERR_NAME },
	{ "cannot create 'other/web1': source and target pools differ\n", 1,
	  ZFS_ERR_CROSS_POOL },
	{ "cannot create 'tank/x': volume size must be a multiple of volume "
	  "block size\n", 1, ZFS_ERR_VOLSIZE },
	{ "cannot set property for 'tank/x': 'volsize' must be a multiple of "
	  "volume block size (16K)\n", 1, ZFS_ERR_VOLSIZE },
	{ "cannot create 'tank/x': volume size cannot be zero\n", 1,
	  ZFS_ERR_VOLSIZE },
	{ "missing volume size argument\n", 2, ZFS_ERR_VOLSIZE },
	{ "bad volume size 'lots': bad numeric value 'lots'\n", 2,
	  ZFS_ERR_VOLSIZE },
	{ "cannot create 'tank/x': invalid property 'colour'\n", 1,
	  ZFS_ERR_PROPERTY },
	{ "bad property list: invalid property 'colour'\n", 1,
	  ZFS_ERR_PROPERTY },
	{ "cannot create 'tank/x': bad numeric value 'big'\n", 1,
	  ZFS_ERR_PROPERTY },
	{ "cannot create 'tank/x': numeric value is too large\n", 1,
	  ZFS_ERR_PROPERTY },
	{ "cannot create 'tank/x': invalid numeric suffix 'Q'\n", 1,
	  ZFS_ERR_PROPERTY },
	{ "cannot create 'tank/x': 'compression' must be one of 'on | off | "
	  "lzjb | gzip | gzip-[1-9] | zle | lz4 | zstd'\n", 1,
	  ZFS_ERR_PROPERTY },
	{ "cannot create 'tank/x': 'volblocksize' must be power of 2 from "
	  "512B to 16M\n", 1, ZFS_ERR_PROPERTY },
	{ "cannot create 'tank/x': 'volblocksize' is readonly\n", 1,
	  ZFS_ERR_PROPERTY },
	{ "cannot create 'tank/x': 'mountpoint' does not apply to datasets "
	  "of this type\n", 1, ZFS_ERR_PROPERTY },
	{ "cannot set property for 'tank/x': invalid property value\n", 1,
	  ZFS_ERR_PROPERTY },
	{ "property 'volsize' specified multiple times\n", 2,
	  ZFS_ERR_PROPERTY },
	{ "missing '=' for property=value argument\n", 2, ZFS_ERR_PROPERTY },
	{ "cannot create 'tank/x': permission denied\n", 1, ZFS_ERR_PERM },
	{ "Permission denied the ZFS utilities must be run as root.\n", 1,
	  ZFS_ERR_PERM },
	{ "cannot create 'tank/x': delegated administration is disabled on "
	  "pool\n", 1, ZFS_ERR_PERM },
	{ "cannot create 'tank/x': out of space\n", 1, ZFS_ERR_NOSPC },
	{ "cannot destroy 'tank/x': dataset is busy\n", 1, ZFS_ERR_BUSY },
	{ "cannot destroy snapshot tank/x@base: it's being held. Run 'zfs "
	  "holds -r tank/x@base' to see holders.\n", 1, ZFS_ERR_BUSY },
	{ "cannot create 'tank/x': pool is read-only\n", 1,
	  ZFS_ERR_READONLY },
	{ "cannot create 'tank/x': pool I/O is currently suspended\n", 1,
	  ZFS_ERR_SUSPENDED },
	{ "cannot destroy 'tank/debian12@base': snapshot has dependent "
	  "clones\nuse '-R' to destroy the following datasets:\n"
	  "tank/web1\n", 1, ZFS_ERR_HAS_CLONES },
	{ "cannot destroy 'tank/debian12@base': snapshot is cloned\n", 1,
	  ZFS_ERR_HAS_CLONES },
	{ "cannot destroy 'tank/debian12': volume has children\nuse '-r' to "
	  "destroy the following datasets:\ntank/debian12@base\n", 1,
	  ZFS_ERR_HAS_CHILDREN },
	{ "The ZFS modules are not loaded.\nTry running 'modprobe zfs' as "
	  "root to load them.\n", 1, ZFS_ERR_NOT_LOADED },
	{ "The ZFS modules cannot be auto-loaded.\nTry running 'modprobe zfs' "
	  "as root to manually load them.\n", 1, ZFS_ERR_NOT_LOADED },
	{ "/dev/zfs and /proc/self/mounts are required.\nTry running "
	  "'udevadm trigger' and 'mount -t proc proc /proc' as root.\n", 1,
	  ZFS_ERR_NOT_LOADED },
	/* libzfs aborts on an errno it does not know. */
	{ "internal error: Unknown error 524\n", 134, ZFS_ERR_GENERIC },
	{ "", 134, ZFS_ERR_GENERIC },
	{ "something new\n", 1, ZFS_ERR_GENERIC },
	{ "zfs: command not found", -1, ZFS_ERR_NOT_FOUND_CMD },
	/* The runner's "more than it keeps": not a missing zfs. */
	{ "zfs: printed more than 16777216 bytes on stdout (qvm's limit); "
	  "its output was not used", RUN_OUTPUT_TOO_LONG, ZFS_ERR_OUTPUT },
};

#define N_SAMPLES (sizeof(samples) / sizeof(samples[0]))

static void each_openzfs_text_maps_to_its_code(void **state)
{
	(void)state;
	for (size_t i = 0; i < N_SAMPLES; i++) {
		enum zfs_err got = zfs_classify(samples[i].err,
						samples[i].status);

		if (got != samples[i].want)
			fail_msg("\"%s\" -> %d, want %d", samples[i].err, got,
				 samples[i].want);
	}
}

static void every_table_row_meets_a_real_text(void **state)
{
	(void)state;
	for (size_t row = 0; zfs_message_text(row); row++) {
		const char *text = zfs_message_text(row);
		int seen = 0;

		for (size_t i = 0; i < N_SAMPLES; i++)
			if (strstr(samples[i].err, text))
				seen = 1;
		if (!seen)
			fail_msg("table row \"%s\" has no sample", text);
	}
}

static void success_is_ok_whatever_stderr_says(void **state)
{
	(void)state;
	assert_int_equal(zfs_classify("dataset already exists", 0), ZFS_OK);
}

static void every_code_has_an_explanation(void **state)
{
	(void)state;
	for (int c = 0; c < ZFS_ERR__COUNT; c++)
		assert_string_not_equal(zfs_explain((enum zfs_err)c),
					"unknown error");
	assert_string_equal(zfs_explain(ZFS_ERR__COUNT), "unknown error");
}

static int reset(void **state)
{
	(void)state;
	mock_runner_reset();
	return 0;
}

static void create_volume_runs_zfs_create(void **state)
{
	struct strvec props = STRVEC_INIT;
	struct zfs_result zr;

	(void)state;
	strvec_push(&props, "volblocksize=16K");
	strvec_push(&props, "refreservation=none");
	expect_run(ARGV("zfs", "create", "-V", "2147483648", "-o",
			"volblocksize=16K", "-o", "refreservation=none",
			"tank/debian12"), "", "", 0);
	assert_int_equal(zfs_create_volume(&mock_runner, "tank/debian12",
					   2147483648ULL, &props, &zr), 0);
	assert_int_equal(zr.code, ZFS_OK);
	mock_runner_verify();
	strvec_clear(&props);
}

static void failed_create_keeps_zfs_first_line(void **state)
{
	struct zfs_result zr;

	(void)state;
	expect_run(ARGV("zfs", "create", "-V", "1048576", "tank/x"), "",
		   "cannot create 'tank/x': dataset already exists\n", 1);
	assert_int_equal(zfs_create_volume(&mock_runner, "tank/x", 1048576,
					   NULL, &zr), -1);
	assert_int_equal(zr.code, ZFS_ERR_EXISTS);
	assert_int_equal(zr.status, 1);
	assert_string_equal(zr.message,
			    "cannot create 'tank/x': dataset already exists");
	mock_runner_verify();
}

static void clone_passes_properties_before_names(void **state)
{
	struct strvec props = STRVEC_INIT;
	struct zfs_result zr;

	(void)state;
	strvec_push(&props, "volsize=20G");
	strvec_push(&props, "qvm:role=vm");
	expect_run(ARGV("zfs", "clone", "-o", "volsize=20G", "-o",
			"qvm:role=vm", "tank/debian12@base", "tank/web1"),
		   "", "", 0);
	assert_int_equal(zfs_clone(&mock_runner, "tank/debian12@base",
				   "tank/web1", &props, &zr), 0);
	mock_runner_verify();
	strvec_clear(&props);
}

static void snapshot_and_destroy(void **state)
{
	struct zfs_result zr;

	(void)state;
	expect_run(ARGV("zfs", "snapshot", "tank/d@base"), "", "", 0);
	expect_run(ARGV("zfs", "destroy", "tank/web1"), "", "", 0);
	expect_run(ARGV("zfs", "destroy", "-r", "tank/d"), "", "", 0);
	assert_int_equal(zfs_snapshot(&mock_runner, "tank/d@base", &zr), 0);
	assert_int_equal(zfs_destroy(&mock_runner, "tank/web1", false, &zr),
			 0);
	assert_int_equal(zfs_destroy(&mock_runner, "tank/d", true, &zr), 0);
	mock_runner_verify();
}

static void get_returns_the_raw_value(void **state)
{
	struct zfs_result zr;
	char *v = NULL;

	(void)state;
	expect_run(ARGV("zfs", "get", "-Hp", "-o", "value", "volsize",
			"tank/d@base"), "2147483648\n", "", 0);
	assert_int_equal(zfs_get(&mock_runner, "tank/d@base", "volsize", &v,
				 &zr), 0);
	assert_string_equal(v, "2147483648");
	free(v);
	mock_runner_verify();
}

static void exists_tells_missing_from_broken(void **state)
{
	struct zfs_result zr;

	(void)state;
	expect_run(ARGV("zfs", "get", "-Hp", "-o", "value", "type", "tank/a"),
		   "volume\n", "", 0);
	expect_run(ARGV("zfs", "get", "-Hp", "-o", "value", "type", "tank/b"),
		   "", "cannot open 'tank/b': dataset does not exist\n", 1);
	expect_run(ARGV("zfs", "get", "-Hp", "-o", "value", "type", "tank/c"),
		   "", "The ZFS modules are not loaded.\nTry running "
		   "'modprobe zfs' as root to load them.\n", 1);
	expect_run(ARGV("zfs", "get", "-Hp", "-o", "value", "type", "tank/d"),
		   "", "", -1);
	assert_int_equal(zfs_exists(&mock_runner, "tank/a", &zr), 1);
	assert_int_equal(zfs_exists(&mock_runner, "tank/b", &zr), 0);
	assert_int_equal(zfs_exists(&mock_runner, "tank/c", &zr), -1);
	assert_int_equal(zr.code, ZFS_ERR_NOT_LOADED);
	assert_int_equal(zfs_exists(&mock_runner, "tank/d", &zr), -1);
	assert_int_equal(zr.code, ZFS_ERR_NOT_FOUND_CMD);
	assert_string_equal(zr.message, "zfs: command not found");
	mock_runner_verify();
}

static void abort_without_text_is_described(void **state)
{
	struct zfs_result zr;

	(void)state;
	expect_run(ARGV("zfs", "snapshot", "tank/d@base"), "", "", 134);
	assert_int_equal(zfs_snapshot(&mock_runner, "tank/d@base", &zr), -1);
	assert_int_equal(zr.code, ZFS_ERR_GENERIC);
	assert_string_equal(zr.message, "zfs was killed by signal 6");
	mock_runner_verify();
}

static void report_says_what_where_and_why(void **state)
{
	struct zfs_result zr = { ZFS_ERR_NOPARENT, 1,
		"cannot create 'tank/a/b': parent does not exist" };
	char *err = NULL;
	size_t len;
	FILE *f = open_memstream(&err, &len);

	(void)state;
	msg_set_streams(NULL, f);
	assert_int_equal(zfs_report("importing image d.raw", "create volume",
				    "tank/a/b", &zr), -1);
	msg_set_streams(NULL, NULL);
	fclose(f);
	assert_string_equal(err, "Error importing image d.raw: could not "
			    "create volume tank/a/b: its parent dataset does "
			    "not exist (cannot create 'tank/a/b': parent does "
			    "not exist)\n");
	free(err);
}

static void undo_destroy_retries_while_busy(void **state)
{
	struct undo u = UNDO_INIT;
	char *out = NULL;
	size_t len;
	FILE *f = open_memstream(&out, &len);

	(void)state;
	msg_set_streams(f, f);
	expect_run(ARGV("zfs", "destroy", "tank/web1"), "",
		   "cannot destroy 'tank/web1': dataset is busy\n", 1);
	expect_run(ARGV("zfs", "destroy", "tank/web1"), "", "", 0);
	zfs_undo_push(&u, &mock_runner, "tank/web1", false);
	assert_int_equal(undo_run(&u, "t"), 0);
	mock_runner_verify();
	msg_set_streams(NULL, NULL);
	fclose(f);
	assert_string_equal(out, "Undid: destroyed zvol tank/web1\n");
	free(out);
}

static void sizes_parse_like_zfs(void **state)
{
	uint64_t b;

	(void)state;
	assert_int_equal(zfs_parse_size("20G", &b), 0);
	assert_true(b == 20ULL << 30);
	assert_int_equal(zfs_parse_size("16k", &b), 0);
	assert_true(b == 16384);
	assert_int_equal(zfs_parse_size("1.5T", &b), 0);
	assert_true(b == 3ULL << 39);
	assert_int_equal(zfs_parse_size("512", &b), 0);
	assert_true(b == 512);
	assert_int_equal(zfs_parse_size("512B", &b), 0);
	assert_true(b == 512);
	assert_int_equal(zfs_parse_size("20GB", &b), 0);
	assert_true(b == 20ULL << 30);
	assert_int_equal(zfs_parse_size("", &b), -1);
	assert_int_equal(zfs_parse_size("-1G", &b), -1);
	assert_int_equal(zfs_parse_size("1e9", &b), -1);
	assert_int_equal(zfs_parse_size("20X", &b), -1);
	assert_int_equal(zfs_parse_size("20GiB", &b), -1);
	assert_int_equal(zfs_parse_size("0x10", &b), -1);
	assert_int_equal(zfs_parse_size("inf", &b), -1);
	assert_int_equal(zfs_parse_size("16E", &b), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(each_openzfs_text_maps_to_its_code),
		cmocka_unit_test(every_table_row_meets_a_real_text),
		cmocka_unit_test(success_is_ok_whatever_stderr_says),
		cmocka_unit_test(every_code_has_an_explanation),
		cmocka_unit_test_setup(create_volume_runs_zfs_create, reset),
		cmocka_unit_test_setup(failed_create_keeps_zfs_first_line,
				       reset),
		cmocka_unit_test_setup(clone_passes_properties_before_names,
				       reset),
		cmocka_unit_test_setup(snapshot_and_destroy, reset),
		cmocka_unit_test_setup(get_returns_the_raw_value, reset),
		cmocka_unit_test_setup(exists_tells_missing_from_broken, reset),
		cmocka_unit_test_setup(abort_without_text_is_described, reset),
		cmocka_unit_test(report_says_what_where_and_why),
		cmocka_unit_test_setup(undo_destroy_retries_while_busy, reset),
		cmocka_unit_test(sizes_parse_like_zfs),
	};

	return cmocka_run_group_tests_name("zfs", tests, NULL, NULL);
}
