/*
 * image: the import of sources that are not plain files (issue 15), with
 * zfs scripted (mock_runner) and the real decompressors: a stream's
 * volume made thin and then given the image's exact size before the
 * snapshot; a checksum known wrong before anything changes; the dry run's
 * plan. The device is a file the scripted "zfs create" makes.
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
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "dryrun.h"
#include "image.h"
#include "mock_runner.h"
#include "msg.h"
#include "signals.h"
#include "strvec.h"

struct fx {
	char *dir;
	char *raw;		/* the disk: 1500000 random bytes */
	char *xz;		/* raw, xz-compressed */
	char *device;
	FILE *fout, *ferr;
	char *out, *err;
	size_t out_len, err_len;
};

static struct fx *F;

static void sh(const char *cmd)
{
	char *line = xasprintf("cd '%s' && %s", F->dir, cmd);

	assert_int_equal(system(line), 0);
	free(line);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	char tmpl[] = "/tmp/qvm-test-image.XXXXXX";
	char *zvol;

	assert_non_null(mkdtemp(tmpl));
	f->dir = xstrdup(tmpl);
	f->raw = xasprintf("%s/disk.raw", f->dir);
	f->xz = xasprintf("%s/disk.raw.xz", f->dir);
	f->device = xasprintf("%s/zvol/tank/img", f->dir);
	zvol = xasprintf("%s/zvol", f->dir);
	setenv("QVM_ZVOL_DIR", zvol, 1);
	free(zvol);
	setenv("QVM_DEVICE_TIMEOUT", "2", 1);
	F = f;
	sh("mkdir -p zvol/tank && head -c 1500000 /dev/urandom > disk.raw && "
	   "xz -T1 -k disk.raw");
	f->fout = open_memstream(&f->out, &f->out_len);
	f->ferr = open_memstream(&f->err, &f->err_len);
	msg_set_streams(f->fout, f->ferr);
	mock_runner_reset();
	signals_set_pending(0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	char *cmd = xasprintf("rm -rf '%s'", f->dir);

	msg_set_streams(NULL, NULL);
	fclose(f->fout);
	fclose(f->ferr);
	assert_int_equal(system(cmd), 0);
	free(cmd);
	free(f->out);
	free(f->err);
	free(f->dir);
	free(f->raw);
	free(f->xz);
	free(f->device);
	free(f);
	mock_runner_reset();
	return 0;
}

static void expect_absent(void)
{
	expect_run(ARGV("zfs", "get", "-Hp", "-o", "value", "type",
			"tank/img"), "",
		   "cannot open 'tank/img': dataset does not exist\n", 1);
}

/* zfs create "made" the volume: its device, sparse, of the size asked. */
static void device_made(const char *const *argv, void *arg)
{
	int fd;

	(void)arg;
	assert_string_equal(argv[3], "1099511627776");
	fd = open(F->device, O_WRONLY | O_CREAT | O_EXCL, 0600);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, 1099511627776LL), 0);
	close(fd);
}

static void volsize_set(const char *const *argv, void *arg)
{
	(void)arg;
	assert_int_equal(truncate(F->device, 2097152), 0);
	(void)argv;
}

static void stream_is_sized_exactly_before_the_snapshot(void **state)
{
	char *cmd;

	(void)state;
	expect_absent();
	expect_run_hook(ARGV("zfs", "create", "-V", "1099511627776", "-o",
			     "volblocksize=16K", "-o", "refreservation=none",
			     "-o", "qvm:role=image", "-o", "*", "-o", "*",
			     "tank/img"), "", "", 0, device_made, NULL);
	/* 1500000 bytes: 2 MiB, set after the stream, before the
	 * snapshot. */
	expect_run_hook(ARGV("zfs", "set", "volsize=2097152", "tank/img"), "",
			"", 0, volsize_set, NULL);
	expect_run(ARGV("zfs", "snapshot", "tank/img@base"), "", "", 0);
	assert_int_equal(image_import(&mock_host, &mock_host, F->xz, "tank/img", NULL), 0);
	mock_runner_verify();
	fflush(F->ferr);
	assert_string_equal(F->err, "");
	cmd = xasprintf("cmp -s -n 1500000 '%s' '%s'", F->raw, F->device);
	assert_int_equal(system(cmd), 0);
	free(cmd);
	fflush(F->fout);
	assert_non_null(strstr(F->out, "Creating volume tank/img (thin, "
			       "1048576 MiB until the stream's end gives the "
			       "image's size)\n"));
	assert_non_null(strstr(F->out, "Setting the size of tank/img to 2 MiB "
			       "(1500000 bytes of image)\n"));
}

/* A failed resize: the volume is destroyed, no snapshot. */
static void failed_resize_undoes_the_volume(void **state)
{
	(void)state;
	expect_absent();
	expect_run_hook(ARGV("zfs", "create", "-V", "1099511627776", "-o",
			     "volblocksize=16K", "-o", "refreservation=none",
			     "-o", "qvm:role=image", "-o", "*", "-o", "*",
			     "tank/img"), "", "", 0, device_made, NULL);
	expect_run(ARGV("zfs", "set", "volsize=2097152", "tank/img"), "",
		   "cannot set property for 'tank/img': out of space\n", 1);
	expect_run(ARGV("zfs", "destroy", "-r", "tank/img"), "", "", 0);
	assert_int_equal(image_import(&mock_host, &mock_host, F->xz, "tank/img", NULL),
			 -1);
	mock_runner_verify();
	fflush(F->ferr);
	assert_non_null(strstr(F->err, "could not set the size of tank/img"));
	fflush(F->fout);
	assert_non_null(strstr(F->out, "Undid: destroyed zvol tank/img"));
}

/* A local file's digest is checked (sha256sum, for real, reading the
 * descriptor qvm imports from) before anything is looked up or made in
 * ZFS. */
static void local_checksum_mismatch_changes_nothing(void **state)
{
	const char *zeros = "0000000000000000000000000000000000000000000000"
			    "000000000000000000";
	struct image_sums sums = { zeros, NULL };
	char *cmd, *want;
	char got[65];
	FILE *f;

	(void)state;
	cmd = xasprintf("sha256sum < '%s'", F->xz);
	f = popen(cmd, "r");
	assert_non_null(f);
	assert_non_null(fgets(got, sizeof(got), f));
	pclose(f);
	free(cmd);
	assert_int_equal(image_import(&mock_host, &mock_host, F->xz, "tank/img", &sums),
			 -1);
	assert_int_equal(mock_runner_calls(), 0);
	fflush(F->ferr);
	want = xasprintf("Error importing image %s: checksum mismatch for "
			 "disk.raw.xz: expected SHA-256 %s, got %s (nothing "
			 "was kept)\n", F->xz, zeros, got);
	assert_string_equal(F->err, want);
	free(want);
}

/* The digest that matches: the import goes on, from the start of the
 * file (the hash read it to its end). */
static void local_checksum_match_imports_the_whole_file(void **state)
{
	struct image_sums sums = { NULL, NULL };
	char *cmd, *list;

	(void)state;
	cmd = xasprintf("cd '%s' && sha256sum disk.raw.xz > SHA256SUMS",
			F->dir);
	assert_int_equal(system(cmd), 0);
	free(cmd);
	list = xasprintf("%s/SHA256SUMS", F->dir);
	sums.list = list;
	expect_absent();
	expect_run_hook(ARGV("zfs", "create", "-V", "1099511627776", "-o",
			     "volblocksize=16K", "-o", "refreservation=none",
			     "-o", "qvm:role=image", "-o", "*", "-o", "*",
			     "tank/img"), "", "", 0, device_made, NULL);
	expect_run_hook(ARGV("zfs", "set", "volsize=2097152", "tank/img"), "",
			"", 0, volsize_set, NULL);
	expect_run(ARGV("zfs", "snapshot", "tank/img@base"), "", "", 0);
	assert_int_equal(image_import(&mock_host, &mock_host, F->xz, "tank/img", &sums), 0);
	mock_runner_verify();
	cmd = xasprintf("cmp -s -n 1500000 '%s' '%s'", F->raw, F->device);
	assert_int_equal(system(cmd), 0);
	free(cmd);
	free(list);
}

static void dry_run_prints_the_pipeline_and_reads_no_body(void **state)
{
	struct dryrun dr;
	char *want;

	(void)state;
	dryrun_init(&dr, F->fout, &mock_host);
	expect_absent();
	assert_int_equal(image_import(&dr.host, &dr.host, F->xz, "tank/img", NULL), 0);
	mock_runner_verify();
	fflush(F->fout);
	assert_non_null(strstr(F->out, "\nzfs create -V 1099511627776 -o "
			       "volblocksize=16K -o refreservation=none -o "
			       "qvm:role=image "));
	want = xasprintf("\nsh -c 'xz -dc < %s | dd of=%s bs=16384 "
			 "iflag=fullblock conv=sparse,notrunc status=none'\n"
			 "# Then tank/img "
			 "gets the image's size, in whole MiB (zfs set "
			 "volsize=SIZE tank/img)\n# Snapshotting tank/img@base"
			 "\nzfs snapshot tank/img@base\n", F->xz, F->device);
	assert_non_null(strstr(F->out, want));
	free(want);
	assert_int_equal(access(F->device, F_OK), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
			stream_is_sized_exactly_before_the_snapshot, setup,
			teardown),
		cmocka_unit_test_setup_teardown(
			failed_resize_undoes_the_volume, setup, teardown),
		cmocka_unit_test_setup_teardown(
			local_checksum_mismatch_changes_nothing, setup,
			teardown),
		cmocka_unit_test_setup_teardown(
			local_checksum_match_imports_the_whole_file, setup,
			teardown),
		cmocka_unit_test_setup_teardown(
			dry_run_prints_the_pipeline_and_reads_no_body, setup,
			teardown),
	};

	return cmocka_run_group_tests_name("image", tests, NULL, NULL);
}
