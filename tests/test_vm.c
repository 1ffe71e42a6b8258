/*
 * qvm vm with a scripted runner: the exact commands, in order, for a good
 * run, and for a failure at each step the exact undo that follows.
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

#include "mock_runner.h"
#include "msg.h"
#include "signals.h"
#include "strvec.h"
#include "vm.h"

static const char qvm_file[] =
	"---\n"
	"qvm: vm\n"
	"name: web1\n"
	"connect: test:///default\n"
	"memory: 512\n"
	"disk:\n"
	"  bus: virtio\n"
	"  zvol:\n"
	"    base: tank/debian12\n"
	"    volsize: 2G\n"
	"    compression: lz4\n"
	"---\n"
	"qvm: user-data\n"
	"write_files:\n"
	"  - path: /etc/motd\n"
	"    permissions: \"0644\"\n"
	"    content: |\n"
	"      hello\n"
	"      world\n"
	"---\n"
	"qvm: meta-data\n";

struct fx {
	char *dir, *file, *seed, *iso, *zvol_dir, *device;
	char *out, *err;
	size_t out_len, err_len;
	FILE *fout, *ferr;
	char user_data[4096];
	char meta_data[1024];
	const char *console_text;	/* what the guest "prints" */
};

static struct fx *F;

static void write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void slurp(const char *path, char *buf, size_t size)
{
	FILE *f = fopen(path, "r");
	size_t n;

	assert_non_null(f);
	n = fread(buf, 1, size - 1, f);
	buf[n] = '\0';
	fclose(f);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	char tmpl[] = "/tmp/qvm-test-vm.XXXXXX";

	assert_non_null(mkdtemp(tmpl));
	f->dir = xstrdup(tmpl);
	f->file = xasprintf("%s/web1.yaml", f->dir);
	f->seed = xasprintf("%s/seed", f->dir);
	f->iso = xasprintf("%s/seed/web1/seed.iso", f->dir);
	f->zvol_dir = xasprintf("%s/zvol", f->dir);
	f->device = xasprintf("%s/zvol/tank/web1", f->dir);
	write_text(f->file, qvm_file);
	setenv("QVM_SEED_DIR", f->seed, 1);
	setenv("QVM_ZVOL_DIR", f->zvol_dir, 1);
	setenv("QVM_DEVICE_TIMEOUT", "0.3", 1);
	f->fout = open_memstream(&f->out, &f->out_len);
	f->ferr = open_memstream(&f->err, &f->err_len);
	msg_set_streams(f->fout, f->ferr);
	mock_runner_reset();
	signals_set_pending(0);
	F = f;
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
	free(f->file);
	free(f->seed);
	free(f->iso);
	free(f->zvol_dir);
	free(f->device);
	free(f);
	mock_runner_reset();
	return 0;
}

/* genisoimage "ran": keep what it was given, make its output file. */
static void iso_made(const char *const *argv, void *arg)
{
	char *dir;
	char *p;

	(void)arg;
	dir = xstrdup(argv[8]);		/* TMP/user-data */
	*strrchr(dir, '/') = '\0';
	p = xasprintf("%s/user-data", dir);
	slurp(p, F->user_data, sizeof(F->user_data));
	free(p);
	p = xasprintf("%s/meta-data", dir);
	slurp(p, F->meta_data, sizeof(F->meta_data));
	free(p);
	free(dir);
	write_text(argv[2], "ISO");
}

/* zfs clone "ran": udev makes the device. */
static void device_made(const char *const *argv, void *arg)
{
	char *dir = xasprintf("%s/tank", F->zvol_dir);

	(void)argv;
	(void)arg;
	mkdir(F->zvol_dir, 0755);
	mkdir(dir, 0755);
	write_text(F->device, "");
	free(dir);
}

static void expect_checks(void)
{
	expect_run(ARGV("zfs", "get", "-Hp", "-o", "value", "type",
			"tank/debian12@base"), "snapshot\n", "", 0);
	expect_run(ARGV("zfs", "get", "-Hp", "-o", "value", "type",
			"tank/web1"), "",
		   "cannot open 'tank/web1': dataset does not exist\n", 1);
	expect_run(ARGV("zfs", "get", "-Hp", "-o", "value", "volsize",
			"tank/debian12@base"), "1073741824\n", "", 0);
}

static void expect_iso(int status)
{
	expect_run_hook(ARGV("genisoimage", "-output", F->iso, "-volid",
			     "cidata", "-joliet", "-rock", "*", "*"), "",
			status ? "genisoimage: No space left on device\n" : "",
			status, status ? NULL : iso_made, NULL);
}

static void expect_clone(int status, const char *err)
{
	char *seedprop = xasprintf("qvm:seed=%s/web1", F->seed);

	expect_run_hook(ARGV("zfs", "clone", "-o", "volsize=2G", "-o",
			     "compression=lz4", "-o", "qvm:role=vm", "-o",
			     "qvm:name=web1", "-o", "*", "-o", "*", "-o",
			     seedprop, "-o",
			     "qvm:connect=test:///default",
			     "tank/debian12@base", "tank/web1"),
			"", err, status, status ? NULL : device_made, NULL);
	free(seedprop);
}

/* virt-install "ran" and the guest booted: its console log fills. */
static void console_written(const char *const *argv, void *arg)
{
	char *log = xasprintf("%s/web1/console.log", F->seed);

	(void)argv;
	(void)arg;
	write_text(log, F->console_text);
	free(log);
}

static void expect_virt_install(int dry, int status)
{
	char *disk = xasprintf("path=%s,bus=virtio", F->device);
	char *seed = xasprintf("path=%s,device=cdrom", F->iso);
	char *serial = xasprintf("pty,log.file=%s/web1/console.log", F->seed);

	if (dry)
		expect_run(ARGV("virt-install", "--name", "web1", "--connect",
				"test:///default", "--memory", "512", "--disk",
				disk, "--noautoconsole", "--import", "--disk",
				seed, "--serial", serial, "--dry-run"), "",
			   status ? "ERROR    Guest name 'web1' is already in "
				    "use.\n" : "", status);
	else
		expect_run_hook(ARGV("virt-install", "--name", "web1",
				     "--connect", "test:///default", "--memory",
				     "512", "--disk", disk, "--noautoconsole",
				     "--import", "--disk", seed, "--serial",
				     serial), "",
				status ? "ERROR    internal error: qemu died\n" :
				"", status, F->console_text ? console_written :
				NULL, NULL);
	free(disk);
	free(seed);
	free(serial);
}

static void expect_destroy_clone(int status, const char *err)
{
	expect_run(ARGV("zfs", "destroy", "tank/web1"), "", err, status);
}

static int exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

static void errors(const char *want)
{
	fflush(F->ferr);
	assert_string_equal(F->err, want);
}

static void good_run_runs_exactly_these_commands(void **state)
{
	struct stat st;

	(void)state;
	expect_checks();
	expect_iso(0);
	expect_clone(0, "");
	expect_virt_install(1, 0);
	expect_virt_install(0, 0);
	assert_int_equal(vm_create(&mock_runner, F->file, false, 0), 0);
	mock_runner_verify();
	errors("");
	fflush(F->fout);
	assert_non_null(strstr(F->out, "VM web1 created\n"));
	/* The seed stays, private, in a directory libvirt can traverse. */
	assert_int_equal(stat(F->iso, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(stat(F->seed, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0711);
}

static void seed_contents_are_cloud_init_ready(void **state)
{
	(void)state;
	expect_checks();
	expect_iso(0);
	expect_clone(0, "");
	expect_virt_install(1, 0);
	expect_virt_install(0, 0);
	assert_int_equal(vm_create(&mock_runner, F->file, false, 0), 0);
	assert_true(strncmp(F->user_data, "#cloud-config\n", 14) == 0);
	assert_null(strstr(F->user_data, "qvm:"));
	/* Quoting and block literals survive. */
	assert_non_null(strstr(F->user_data, "\"0644\""));
	assert_non_null(strstr(F->user_data, "content: |"));
	assert_non_null(strstr(F->user_data, "hello\n"));
	assert_true(strncmp(F->meta_data, "instance-id: \"web1-", 19) == 0);
	assert_non_null(strstr(F->meta_data, "local-hostname: \"web1\"\n"));
	/* The private temporary directory is gone. */
	assert_null(strstr(F->user_data, "qvm: user-data"));
}

static void step1_seed_dir_taken_changes_nothing(void **state)
{
	char *dir = xasprintf("%s/web1", F->seed);

	(void)state;
	mkdir(F->seed, 0711);
	assert_int_equal(mkdir(dir, 0700), 0);
	expect_checks();
	assert_int_equal(vm_create(&mock_runner, F->file, false, 0), -1);
	mock_runner_verify();
	/* Someone else's directory: still there. */
	assert_true(exists(dir));
	fflush(F->ferr);
	assert_non_null(strstr(F->err, "owns the name 'web1'"));
	free(dir);
}

static void step1_genisoimage_fails_seed_dir_removed(void **state)
{
	char *dir = xasprintf("%s/web1", F->seed);

	(void)state;
	expect_checks();
	expect_iso(1);
	assert_int_equal(vm_create(&mock_runner, F->file, false, 0), -1);
	mock_runner_verify();
	assert_false(exists(dir));
	fflush(F->ferr);
	assert_true(strncmp(F->err, "Error creating VM web1: genisoimage "
			    "failed to make ", 48) == 0);
	assert_non_null(strstr(F->err, "No space left on device"));
	free(dir);
}

static void step2_clone_fails_seed_removed_nothing_destroyed(void **state)
{
	(void)state;
	expect_checks();
	expect_iso(0);
	expect_clone(1, "cannot create 'tank/web1': dataset already exists\n");
	/* No zfs destroy may follow: the dataset is not ours. */
	assert_int_equal(vm_create(&mock_runner, F->file, false, 0), -1);
	mock_runner_verify();
	assert_false(exists(F->iso));
	fflush(F->ferr);
	assert_non_null(strstr(F->err, "tank/web1 appeared while qvm was "
				       "working; it is not qvm's and is left "
				       "untouched"));
}

static void step3_no_device_destroys_clone(void **state)
{
	(void)state;
	expect_checks();
	expect_iso(0);
	expect_run(ARGV("zfs", "clone", "-o", "volsize=2G", "-o",
			"compression=lz4", "-o", "qvm:role=vm", "-o",
			"qvm:name=web1", "-o", "*", "-o", "*", "-o", "*", "-o",
			"*", "tank/debian12@base", "tank/web1"), "", "", 0);
	expect_destroy_clone(0, "");
	assert_int_equal(vm_create(&mock_runner, F->file, false, 0), -1);
	mock_runner_verify();
	assert_false(exists(F->iso));
	fflush(F->ferr);
	assert_non_null(strstr(F->err, "did not appear within 1 s"));
}

static void step4_dry_run_refusal_undoes_clone_and_seed(void **state)
{
	(void)state;
	expect_checks();
	expect_iso(0);
	expect_clone(0, "");
	expect_virt_install(1, 1);
	expect_destroy_clone(0, "");
	assert_int_equal(vm_create(&mock_runner, F->file, false, 0), -1);
	mock_runner_verify();
	assert_false(exists(F->iso));
	fflush(F->ferr);
	assert_non_null(strstr(F->err, "virt-install --dry-run failed (exit "
				       "status 1): ERROR    Guest name 'web1' "
				       "is already in use."));
}

static void step5_install_failure_undoes_everything(void **state)
{
	(void)state;
	expect_checks();
	expect_iso(0);
	expect_clone(0, "");
	expect_virt_install(1, 0);
	expect_virt_install(0, 1);
	expect_run(ARGV("virsh", "-c", "test:///default", "destroy", "web1"),
		   "", "error: failed to get domain 'web1'\n", 1);
	expect_run(ARGV("virsh", "-c", "test:///default", "undefine", "web1",
			"--nvram"), "", "error: failed to get domain 'web1'\n",
		   1);
	expect_destroy_clone(0, "");
	assert_int_equal(vm_create(&mock_runner, F->file, false, 0), -1);
	mock_runner_verify();
	assert_false(exists(F->iso));
	fflush(F->fout);
	assert_non_null(strstr(F->out, "Undid: undefined domain web1\n"
				       "Undid: destroyed zvol tank/web1\n"
				       "Undid: removed "));
}

static void failed_undo_names_what_is_left(void **state)
{
	(void)state;
	expect_checks();
	expect_iso(0);
	expect_clone(0, "");
	expect_virt_install(1, 1);
	expect_destroy_clone(1, "cannot destroy 'tank/web1': pool I/O is "
				"currently suspended\n");
	assert_int_equal(vm_create(&mock_runner, F->file, false, 0), -1);
	mock_runner_verify();
	fflush(F->ferr);
	assert_non_null(strstr(F->err,
		"Error creating VM web1: zvol tank/web1 was created but could "
		"not be destroyed: the pool's I/O is suspended (cannot destroy "
		"'tank/web1': pool I/O is currently suspended); destroy it by "
		"hand\n"));
	/* The rest of the journal still ran. */
	assert_false(exists(F->iso));
}

/* genisoimage runs while the user presses Ctrl-C. */
static void iso_made_then_interrupted(const char *const *argv, void *arg)
{
	iso_made(argv, arg);
	signals_set_pending(2);
}

static void interrupt_before_clone_undoes_the_seed(void **state)
{
	(void)state;
	expect_checks();
	expect_run_hook(ARGV("genisoimage", "-output", F->iso, "-volid",
			     "cidata", "-joliet", "-rock", "*", "*"), "", "",
			0, iso_made_then_interrupted, NULL);
	assert_int_equal(vm_create(&mock_runner, F->file, false, 0), -1);
	signals_set_pending(0);
	/* It stopped before the clone. */
	mock_runner_verify();
	assert_int_equal(mock_runner_calls(), 4);
	assert_false(exists(F->iso));
	errors("Error creating VM web1: interrupted by signal 2\n");
}

static void base_missing_changes_nothing(void **state)
{
	(void)state;
	expect_run(ARGV("zfs", "get", "-Hp", "-o", "value", "type",
			"tank/debian12@base"), "",
		   "cannot open 'tank/debian12@base': dataset does not exist\n",
		   1);
	assert_int_equal(vm_create(&mock_runner, F->file, false, 0), -1);
	mock_runner_verify();
	errors("Error creating VM web1: the base snapshot tank/debian12@base "
	       "does not exist; make it with 'qvm image IMAGE "
	       "tank/debian12'\n");
	assert_false(exists(F->seed));
}

static void smaller_volsize_changes_nothing(void **state)
{
	(void)state;
	expect_run(ARGV("zfs", "get", "-Hp", "-o", "value", "type",
			"tank/debian12@base"), "snapshot\n", "", 0);
	expect_run(ARGV("zfs", "get", "-Hp", "-o", "value", "type",
			"tank/web1"), "",
		   "cannot open 'tank/web1': dataset does not exist\n", 1);
	expect_run(ARGV("zfs", "get", "-Hp", "-o", "value", "volsize",
			"tank/debian12@base"), "4294967296\n", "", 0);
	assert_int_equal(vm_create(&mock_runner, F->file, false, 0), -1);
	mock_runner_verify();
	errors("Error creating VM web1: volsize 2G is smaller than the base "
	       "tank/debian12@base (4294967296 bytes); a clone cannot shrink "
	       "below its image\n");
}

static void existing_target_is_left_alone(void **state)
{
	(void)state;
	expect_run(ARGV("zfs", "get", "-Hp", "-o", "value", "type",
			"tank/debian12@base"), "snapshot\n", "", 0);
	expect_run(ARGV("zfs", "get", "-Hp", "-o", "value", "type",
			"tank/web1"), "volume\n", "", 0);
	assert_int_equal(vm_create(&mock_runner, F->file, false, 0), -1);
	mock_runner_verify();
	fflush(F->ferr);
	assert_non_null(strstr(F->err, "tank/web1 already exists; qvm leaves "
				       "it untouched"));
}

#define FINAL "[  45.7] cloud-init[901]: Cloud-init v. 22.4.2 finished at " \
	"Thu, 26 Nov 2026 01:23:45 +0000. Datasource DataSourceNoCloud.  " \
	"Up 45.67 seconds\n"

/* -w: the domain is made, then qvm waits for cloud-init's last word. */
static void wait_until_cloud_init_finished(void **state)
{
	(void)state;
	F->console_text = "ci-info: +++++Net device info+++++\n"
		"ci-info: | Device | Up | Address | Mask | Scope | Hw |\n"
		"ci-info: | eth0 | True | 10.0.2.15 | 255.255.255.0 | global "
		"| 52:54:00:12:34:56 |\n" FINAL;
	expect_checks();
	expect_iso(0);
	expect_clone(0, "");
	expect_virt_install(1, 0);
	expect_virt_install(0, 0);
	assert_int_equal(vm_create(&mock_runner, F->file, false, 60), 0);
	mock_runner_verify();
	errors("");
	fflush(F->fout);
	assert_non_null(strstr(F->out, "VM web1 created\n"));
	assert_non_null(strstr(F->out, "VM web1 ready after 0 s: 10.0.2.15\n"));
}

/* cloud-init failed: exit 1 naming it, and the VM stays (no undo). */
static void wait_reports_cloud_init_failure_and_keeps_the_vm(void **state)
{
	(void)state;
	F->console_text = "2026-11-26 01:23:40,123 - util.py[WARNING]: "
		"Failed running /var/lib/cloud/instance/scripts/runcmd [3]\n"
		FINAL;
	expect_checks();
	expect_iso(0);
	expect_clone(0, "");
	expect_virt_install(1, 0);
	expect_virt_install(0, 0);
	assert_int_equal(vm_create(&mock_runner, F->file, false, 60), -1);
	/* No zfs destroy, no virsh undefine: nothing else was called. */
	mock_runner_verify();
	fflush(F->ferr);
	assert_non_null(strstr(F->err, "Error waiting for VM web1: cloud-init "
			       "finished with errors: Failed running /var/lib/"
			       "cloud/instance/scripts/runcmd [3] (the VM was "
			       "created and stays; see "));
	assert_null(strstr(F->err, "Undid"));
	assert_true(exists(F->iso));
}

/* A serial console of the document's own with no log: -w is refused
 * before anything is run. */
static void wait_refused_for_an_unlogged_serial(void **state)
{
	const char *at = strstr(qvm_file, "memory: 512\n");
	char *with = xasprintf("%.*sserial: pty\n%s", (int)(at - qvm_file),
			       qvm_file, at);

	(void)state;
	write_text(F->file, with);
	free(with);
	assert_int_equal(vm_create(&mock_runner, F->file, false, 60), -1);
	mock_runner_verify();
	assert_int_equal(mock_runner_calls(), 0);
	fflush(F->ferr);
	assert_non_null(strstr(F->err, "--wait cannot work for this VM: the "
			       "serial console of its vm document is not "
			       "logged to a file"));
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(good_run_runs_exactly_these_commands),
		T(seed_contents_are_cloud_init_ready),
		T(step1_seed_dir_taken_changes_nothing),
		T(step1_genisoimage_fails_seed_dir_removed),
		T(step2_clone_fails_seed_removed_nothing_destroyed),
		T(step3_no_device_destroys_clone),
		T(step4_dry_run_refusal_undoes_clone_and_seed),
		T(step5_install_failure_undoes_everything),
		T(failed_undo_names_what_is_left),
		T(interrupt_before_clone_undoes_the_seed),
		T(base_missing_changes_nothing),
		T(smaller_volsize_changes_nothing),
		T(existing_target_is_left_alone),
		T(wait_until_cloud_init_finished),
		T(wait_reports_cloud_init_failure_and_keeps_the_vm),
		T(wait_refused_for_an_unlogged_serial),
	};

	return cmocka_run_group_tests_name("vm", tests, NULL, NULL);
}
