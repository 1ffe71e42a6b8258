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

#include "dryrun.h"
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
	char seed_files_dir[1024];	/* where genisoimage found them */
	char uuid[64];			/* qvm:uuid of the clone */
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
	dir = xstrdup(argv[8]);		/* DIR/user-data */
	*strrchr(dir, '/') = '\0';
	snprintf(F->seed_files_dir, sizeof(F->seed_files_dir), "%s", dir);
	p = xasprintf("%s/user-data", dir);
	slurp(p, F->user_data, sizeof(F->user_data));
	free(p);
	p = xasprintf("%s/meta-data", dir);
	slurp(p, F->meta_data, sizeof(F->meta_data));
	free(p);
	free(dir);
	write_text(argv[2], "ISO");
}

/* A random (version 4) UUID, as RFC 4122 writes it. */
static int is_uuid_v4(const char *s)
{
	if (strlen(s) != 36)
		return 0;
	for (int i = 0; i < 36; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return 0;
		} else if (!strchr("0123456789abcdef", s[i])) {
			return 0;
		}
	}
	return s[14] == '4' && strchr("89ab", s[19]) != NULL;
}

/* zfs clone "ran": udev makes the device; the clone's qvm:uuid tag is
 * the domain's UUID, which every later call must use. */
static void device_made(const char *const *argv, void *arg)
{
	char *dir = xasprintf("%s/tank", F->zvol_dir);

	(void)arg;
	for (; *argv; argv++)
		if (strncmp(*argv, "qvm:uuid=", 9) == 0)
			snprintf(F->uuid, sizeof(F->uuid), "%s", *argv + 9);
	assert_true(is_uuid_v4(F->uuid));
	mkdir(F->zvol_dir, 0755);
	mkdir(dir, 0755);
	write_text(F->device, "");
	free(dir);
}

/* The argument at index (intptr_t)arg is the UUID the clone was tagged
 * with. */
static void uses_uuid(const char *const *argv, void *arg)
{
	assert_true(F->uuid[0] != '\0');
	assert_string_equal(argv[(intptr_t)arg], F->uuid);
}

static void expect_domain_free(void)
{
	expect_run(ARGV("virsh", "-c", "test:///default", "dominfo", "web1"),
		   "", "error: failed to get domain 'web1'\n", 1);
}

static void expect_checks(void)
{
	expect_run(ARGV("zfs", "get", "-Hp", "-o", "value", "type",
			"tank/debian12@base"), "snapshot\n", "", 0);
	expect_run(ARGV("zfs", "get", "-Hp", "-o", "value", "type",
			"tank/web1"), "",
		   "cannot open 'tank/web1': dataset does not exist\n", 1);
	expect_domain_free();
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
	char *console = xasprintf("qvm:console=%s/web1/console.log", F->seed);

	expect_run_hook(ARGV("zfs", "clone", "-o", "volsize=2G", "-o",
			     "compression=lz4", "-o", "qvm:role=vm", "-o",
			     "qvm:name=web1", "-o", "*", "-o", "*", "-o", "*",
			     "-o", seedprop, "-o",
			     "qvm:connect=test:///default", "-o", console,
			     "tank/debian12@base", "tank/web1"),
			"", err, status, status ? NULL : device_made, NULL);
	free(seedprop);
	free(console);
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

/* virt-install made the domain: it has the clone's UUID, and its guest
 * writes to the console log (when the test gives it words). */
static void domain_made(const char *const *argv, void *arg)
{
	uses_uuid(argv, arg);
	if (F->console_text)
		console_written(argv, NULL);
}

static void expect_virt_install(int dry, int status)
{
	char *disk = xasprintf("path=%s,bus=virtio", F->device);
	char *seed = xasprintf("path=%s,device=cdrom", F->iso);
	char *serial = xasprintf("pty,log.file=%s/web1/console.log", F->seed);

	/* The UUID (argument 14) is the one the clone was tagged with. */
	if (dry)
		expect_run_hook(ARGV("virt-install", "--name", "web1",
				     "--connect", "test:///default", "--memory",
				     "512", "--disk", disk, "--noautoconsole",
				     "--import", "--disk", seed, "--uuid", "*",
				     "--serial", serial, "--dry-run"), "",
				status ? "ERROR    Guest name 'web1' is already "
					 "in use.\n" : "", status,
				uses_uuid, (void *)(intptr_t)14);
	else
		expect_run_hook(ARGV("virt-install", "--name", "web1",
				     "--connect", "test:///default", "--memory",
				     "512", "--disk", disk, "--noautoconsole",
				     "--import", "--disk", seed, "--uuid", "*",
				     "--serial", serial), "",
				status ? "ERROR    internal error: qemu died\n" :
				"", status, domain_made, (void *)(intptr_t)14);
	free(disk);
	free(seed);
	free(serial);
}

/* The undo of the domain: by the UUID given to virt-install, never by
 * name. undefine_err empty: it was defined, and is undefined. */
static void expect_domain_undo(const char *undefine_err)
{
	expect_run_hook(ARGV("virsh", "-c", "test:///default", "destroy",
			     "*"), "", "error: failed to get domain\n", 1,
			uses_uuid, (void *)(intptr_t)4);
	expect_run_hook(ARGV("virsh", "-c", "test:///default", "undefine",
			     "*", "--nvram"), "", undefine_err,
			*undefine_err ? 1 : 0, uses_uuid, (void *)(intptr_t)4);
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
	assert_int_equal(vm_create(&mock_host, F->file, 0), 0);
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
	assert_int_equal(vm_create(&mock_host, F->file, 0), 0);
	assert_true(strncmp(F->user_data, "#cloud-config\n", 14) == 0);
	assert_null(strstr(F->user_data, "qvm:"));
	/* Quoting and block literals survive. */
	assert_non_null(strstr(F->user_data, "\"0644\""));
	assert_non_null(strstr(F->user_data, "content: |"));
	assert_non_null(strstr(F->user_data, "hello\n"));
	assert_true(strncmp(F->meta_data, "instance-id: \"web1-", 19) == 0);
	assert_non_null(strstr(F->meta_data, "local-hostname: \"web1\"\n"));
	assert_null(strstr(F->user_data, "qvm: user-data"));
}

/* The files were written in the VM's own seed directory, which this run
 * created, and are gone from it: only the ISO stays. */
static void seed_files_written_beside_the_iso_then_removed(void **state)
{
	char *dir = xasprintf("%s/web1", F->seed);
	char *p;

	(void)state;
	expect_checks();
	expect_iso(0);
	expect_clone(0, "");
	expect_virt_install(1, 0);
	expect_virt_install(0, 0);
	assert_int_equal(vm_create(&mock_host, F->file, 0), 0);
	assert_string_equal(F->seed_files_dir, dir);
	p = xasprintf("%s/user-data", dir);
	assert_false(exists(p));
	free(p);
	p = xasprintf("%s/meta-data", dir);
	assert_false(exists(p));
	free(p);
	assert_true(exists(F->iso));
	free(dir);
}

static void step1_seed_dir_taken_changes_nothing(void **state)
{
	char *dir = xasprintf("%s/web1", F->seed);

	(void)state;
	mkdir(F->seed, 0711);
	assert_int_equal(mkdir(dir, 0700), 0);
	expect_checks();
	assert_int_equal(vm_create(&mock_host, F->file, 0), -1);
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
	assert_int_equal(vm_create(&mock_host, F->file, 0), -1);
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
	assert_int_equal(vm_create(&mock_host, F->file, 0), -1);
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
			"*", "-o", "*", "-o", "*", "tank/debian12@base",
			"tank/web1"), "",
		   "", 0);
	expect_destroy_clone(0, "");
	assert_int_equal(vm_create(&mock_host, F->file, 0), -1);
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
	assert_int_equal(vm_create(&mock_host, F->file, 0), -1);
	mock_runner_verify();
	assert_false(exists(F->iso));
	fflush(F->ferr);
	assert_non_null(strstr(F->err, "virt-install --dry-run failed (exit "
				       "status 1): ERROR    Guest name 'web1' "
				       "is already in use."));
}

/* virt-install failed before defining the domain: the undo finds no
 * domain with this run's UUID and says so, instead of claiming to have
 * undefined one. */
static void step5_install_failure_undoes_everything(void **state)
{
	(void)state;
	expect_checks();
	expect_iso(0);
	expect_clone(0, "");
	expect_virt_install(1, 0);
	expect_virt_install(0, 1);
	expect_domain_undo("error: failed to get domain "
			   "'6a1c0e5e-0000-4000-8000-000000000000'\n");
	expect_destroy_clone(0, "");
	assert_int_equal(vm_create(&mock_host, F->file, 0), -1);
	mock_runner_verify();
	assert_false(exists(F->iso));
	fflush(F->fout);
	assert_non_null(strstr(F->out, "Nothing to undo: domain web1 was not "
				       "defined\n"
				       "Undid: destroyed zvol tank/web1\n"
				       "Undid: removed "));
	assert_null(strstr(F->out, "Undid: undefined"));
}

/* virt-install defined the domain and then failed: the undo removes that
 * domain, by its UUID. */
static void step5_defined_domain_is_undefined_by_uuid(void **state)
{
	(void)state;
	expect_checks();
	expect_iso(0);
	expect_clone(0, "");
	expect_virt_install(1, 0);
	expect_virt_install(0, 1);
	expect_domain_undo("");
	expect_destroy_clone(0, "");
	assert_int_equal(vm_create(&mock_host, F->file, 0), -1);
	mock_runner_verify();
	fflush(F->fout);
	assert_non_null(strstr(F->out, "Undid: undefined domain web1\n"
				       "Undid: destroyed zvol tank/web1\n"));
}

/* A real virt-install's words: the ERROR line is the reason, not the
 * advice that ends them; the rest is context. */
static void step5_error_line_is_the_reason(void **state)
{
	char *disk = xasprintf("path=%s,bus=virtio", F->device);
	char *seed = xasprintf("path=%s,device=cdrom", F->iso);
	char *serial = xasprintf("pty,log.file=%s/web1/console.log", F->seed);

	(void)state;
	expect_checks();
	expect_iso(0);
	expect_clone(0, "");
	expect_virt_install(1, 0);
	expect_run(ARGV("virt-install", "--name", "web1", "--connect",
			"test:///default", "--memory", "512", "--disk", disk,
			"--noautoconsole", "--import", "--disk", seed,
			"--uuid", "*", "--serial", serial),
		   "Starting install...\n",
		   "WARNING  Requested memory 512 MiB is less than the "
		   "recommended 1024 MiB for OS debian11\n"
		   "ERROR    operation failed: domain 'web1' is already "
		   "defined with uuid 6695eb01-f6a4-8304-79aa-97f2502e193f\n"
		   "Domain installation does not appear to have been "
		   "successful.\n"
		   "If it was, you can restart your domain by running:\n"
		   "  virsh --connect test:///default start web1\n"
		   "otherwise, please restart your installation.\n", 1);
	expect_domain_undo("error: failed to get domain 'x'\n");
	expect_destroy_clone(0, "");
	assert_int_equal(vm_create(&mock_host, F->file, 0), -1);
	mock_runner_verify();
	fflush(F->ferr);
	assert_true(strncmp(F->err, "Error creating VM web1: virt-install "
			    "failed (exit status 1): ERROR    operation "
			    "failed: domain 'web1' is already defined with "
			    "uuid 6695eb01-f6a4-8304-79aa-97f2502e193f\n"
			    "  virt-install: WARNING  Requested memory 512 MiB "
			    "is less than the recommended 1024 MiB for OS "
			    "debian11\n"
			    "  virt-install: Domain installation does not "
			    "appear to have been successful.\n", 258) == 0);
	assert_non_null(strstr(F->err, "  virt-install: otherwise, please "
				       "restart your installation.\n"));
	/* Said once, as the reason. */
	assert_null(strstr(F->err, "  virt-install: ERROR"));
	free(disk);
	free(seed);
	free(serial);
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
	assert_int_equal(vm_create(&mock_host, F->file, 0), -1);
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
	assert_int_equal(vm_create(&mock_host, F->file, 0), -1);
	signals_set_pending(0);
	/* It stopped before the clone: four checks, genisoimage. */
	mock_runner_verify();
	assert_int_equal(mock_runner_calls(), 5);
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
	assert_int_equal(vm_create(&mock_host, F->file, 0), -1);
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
	expect_domain_free();
	expect_run(ARGV("zfs", "get", "-Hp", "-o", "value", "volsize",
			"tank/debian12@base"), "4294967296\n", "", 0);
	assert_int_equal(vm_create(&mock_host, F->file, 0), -1);
	mock_runner_verify();
	errors("Error creating VM web1: volsize 2G is smaller than the base "
	       "tank/debian12@base (4294967296 bytes); a clone cannot shrink "
	       "below its image\n");
}

static void expect_target_exists(const char *role)
{
	expect_run(ARGV("zfs", "get", "-Hp", "-o", "value", "type",
			"tank/debian12@base"), "snapshot\n", "", 0);
	expect_run(ARGV("zfs", "get", "-Hp", "-o", "value", "type",
			"tank/web1"), "volume\n", "", 0);
	expect_run(ARGV("zfs", "get", "-Hp", "-o", "value", "-s", "local",
			"qvm:role", "tank/web1"), role, "", 0);
}

static void existing_target_is_left_alone(void **state)
{
	(void)state;
	expect_target_exists("");
	assert_int_equal(vm_create(&mock_host, F->file, 0), -1);
	mock_runner_verify();
	fflush(F->ferr);
	assert_non_null(strstr(F->err, "tank/web1 already exists; qvm leaves "
				       "it untouched"));
	/* Not qvm's: no advice to destroy it. */
	errors("Error creating VM web1: tank/web1 already exists; qvm leaves "
	       "it untouched (qvm did not make it: choose another name)\n");
	assert_false(exists(F->seed));
}

static void existing_image_is_never_offered_for_destruction(void **state)
{
	(void)state;
	expect_target_exists("image\n");
	assert_int_equal(vm_create(&mock_host, F->file, 0), -1);
	mock_runner_verify();
	errors("Error creating VM web1: tank/web1 already exists; qvm leaves "
	       "it untouched (it is an image qvm made: choose another "
	       "name)\n");
}

static void existing_vm_of_qvm_may_be_destroyed(void **state)
{
	(void)state;
	expect_target_exists("vm\n");
	assert_int_equal(vm_create(&mock_host, F->file, 0), -1);
	mock_runner_verify();
	errors("Error creating VM web1: tank/web1 already exists; qvm leaves "
	       "it untouched (it is a VM qvm made: choose another name, or "
	       "remove that VM first with 'qvm destroy tank/web1')\n");
}

/* The VM named like its base: its volume would be the base itself. */
static void vm_named_like_its_base_is_refused(void **state)
{
	(void)state;
	write_text(F->file, "---\nqvm: vm\nname: debian12\ndisk:\n"
		   "  zvol:\n    base: tank/debian12\n---\n"
		   "qvm: user-data\n---\nqvm: meta-data\n");
	expect_run(ARGV("zfs", "get", "-Hp", "-o", "value", "type",
			"tank/debian12@base"), "snapshot\n", "", 0);
	assert_int_equal(vm_create(&mock_host, F->file, 0), -1);
	mock_runner_verify();
	fflush(F->ferr);
	assert_non_null(strstr(F->err, "Error creating VM debian12: the VM's "
				       "volume would be tank/debian12, its "
				       "base image itself"));
	assert_null(strstr(F->err, "qvm destroy"));
	assert_false(exists(F->seed));
}

static void expect_checks_until_domain(void)
{
	expect_run(ARGV("zfs", "get", "-Hp", "-o", "value", "type",
			"tank/debian12@base"), "snapshot\n", "", 0);
	expect_run(ARGV("zfs", "get", "-Hp", "-o", "value", "type",
			"tank/web1"), "",
		   "cannot open 'tank/web1': dataset does not exist\n", 1);
}

/* Someone else's domain of the same name: refused before anything is
 * made, so no undo can ever reach it. */
static void existing_domain_is_refused_before_any_change(void **state)
{
	(void)state;
	expect_checks_until_domain();
	expect_run(ARGV("virsh", "-c", "test:///default", "dominfo", "web1"),
		   "Id:             -\nName:           web1\n"
		   "UUID:           6695eb01-f6a4-8304-79aa-97f2502e193f\n"
		   "State:          shut off\n", "", 0);
	assert_int_equal(vm_create(&mock_host, F->file, 0), -1);
	mock_runner_verify();
	errors("Error creating VM web1: domain web1 already exists on "
	       "test:///default; qvm leaves it untouched (choose another "
	       "name)\n");
	assert_false(exists(F->seed));
}

/* virsh answers for the name with another domain (it took the name for an
 * id or a UUID): refused too, saying which. */
static void name_taken_by_another_domain_is_refused(void **state)
{
	(void)state;
	expect_checks_until_domain();
	expect_run(ARGV("virsh", "-c", "test:///default", "dominfo", "web1"),
		   "Id:             1\nName:           test\n", "", 0);
	assert_int_equal(vm_create(&mock_host, F->file, 0), -1);
	mock_runner_verify();
	fflush(F->ferr);
	assert_non_null(strstr(F->err, "virsh takes 'web1' for domain test"));
	assert_false(exists(F->seed));
}

/* Whether the name is free cannot be told: no change either. */
static void domain_lookup_failure_changes_nothing(void **state)
{
	(void)state;
	expect_checks_until_domain();
	expect_run(ARGV("virsh", "-c", "test:///default", "dominfo", "web1"),
		   "", "error: failed to connect to the hypervisor\n", 1);
	assert_int_equal(vm_create(&mock_host, F->file, 0), -1);
	mock_runner_verify();
	errors("Error creating VM web1: could not look up domain web1 on "
	       "test:///default: error: failed to connect to the "
	       "hypervisor\n");
	assert_false(exists(F->seed));
}

/* A relative QVM_SEED_DIR is made absolute before it is recorded:
 * destroy may run from anywhere. */
static void relative_seed_dir_is_recorded_absolute(void **state)
{
	char *old = getcwd(NULL, 0);
	char *abs_iso;

	(void)state;
	assert_int_equal(chdir(F->dir), 0);
	setenv("QVM_SEED_DIR", "./seed", 1);
	expect_checks();
	expect_iso(0);	/* -output F->iso: absolute */
	expect_clone(0, "");	/* qvm:seed=F->seed/web1: absolute */
	expect_virt_install(1, 0);
	expect_virt_install(0, 0);
	assert_int_equal(vm_create(&mock_host, F->file, 0), 0);
	mock_runner_verify();
	assert_int_equal(chdir(old), 0);
	abs_iso = xasprintf("%s/seed/web1/seed.iso", F->dir);
	assert_true(exists(abs_iso));
	free(abs_iso);
	free(old);
}

/* -n: the checks run, nothing is written anywhere (not even under
 * TMPDIR), and what it prints is a script of the whole run. */
static void dry_run_writes_nothing_and_prints_a_script(void **state)
{
	struct dryrun dr;
	char *tmp = xasprintf("%s/not-a-directory", F->dir);
	char *want;

	(void)state;
	dryrun_init(&dr, F->fout, &mock_host);
	/* A TMPDIR that cannot be written to: -n must not need it. */
	write_text(tmp, "");
	setenv("TMPDIR", tmp, 1);
	expect_checks();
	assert_int_equal(vm_create(&dr.host, F->file, 0), 0);
	unsetenv("TMPDIR");
	mock_runner_verify();
	errors("");
	assert_false(exists(F->seed));
	fflush(F->fout);
	want = xasprintf("# Dry run: these commands would create VM web1\n"
			 "umask 077\n"
			 "# Creating seed %s\n"
			 "mkdir -m 0711 %s\n"
			 "mkdir -m 0711 %s/web1\n"
			 "printf %%s '#cloud-config\n", F->iso, F->seed,
			 F->seed);
	assert_true(strncmp(F->out, want, strlen(want)) == 0);
	free(want);
	want = xasprintf("' > %s/web1/user-data\nprintf %%s 'instance-id: ",
			 F->seed);
	assert_non_null(strstr(F->out, want));
	free(want);
	want = xasprintf("' > %s/web1/meta-data\n"
			 "genisoimage -output %s -volid cidata -joliet -rock "
			 "%s/web1/user-data %s/web1/meta-data\n"
			 "chmod 0600 %s\n"
			 "rm -- %s/web1/user-data %s/web1/meta-data\n"
			 "# Cloning tank/debian12@base to tank/web1\n"
			 "zfs clone -o volsize=2G ", F->seed, F->iso, F->seed,
			 F->seed, F->iso, F->seed, F->seed);
	assert_non_null(strstr(F->out, want));
	free(want);
	want = xasprintf("\n# Waiting for %s\n"
			 "timeout 0.300 sh -c 'until [ -b \"$1\" ] || "
			 "[ -f \"$1\" ]; do sleep 0.1; done' sh %s\n"
			 "# Creating domain web1 (virt-install)\n"
			 "virt-install --name web1 ", F->device, F->device);
	assert_non_null(strstr(F->out, want));
	free(want);
	assert_non_null(strstr(F->out, "--import --disk path="));
	assert_non_null(strstr(F->out, ",device=cdrom --uuid "));
	assert_non_null(strstr(F->out, "\n# Dry run: nothing was changed\n"));
	/* Every line is a command or a comment: no "Undid" either. */
	assert_null(strstr(F->out, "\nUndid"));
	assert_null(strstr(F->out, "\nCreating"));
	free(tmp);
}

/* In a dry run a name already claimed is refused as the real run would. */
static void dry_run_checks_the_seed_dir_too(void **state)
{
	struct dryrun dr;
	char *dir = xasprintf("%s/web1", F->seed);

	(void)state;
	dryrun_init(&dr, F->fout, &mock_host);
	mkdir(F->seed, 0711);
	assert_int_equal(mkdir(dir, 0700), 0);
	expect_checks();
	assert_int_equal(vm_create(&dr.host, F->file, 0), -1);
	mock_runner_verify();
	fflush(F->ferr);
	assert_non_null(strstr(F->err, "owns the name 'web1'"));
	free(dir);
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
	assert_int_equal(vm_create(&mock_host, F->file, 60), 0);
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
	assert_int_equal(vm_create(&mock_host, F->file, 60), -1);
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
	assert_int_equal(vm_create(&mock_host, F->file, 60), -1);
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
		T(seed_files_written_beside_the_iso_then_removed),
		T(step1_seed_dir_taken_changes_nothing),
		T(step1_genisoimage_fails_seed_dir_removed),
		T(step2_clone_fails_seed_removed_nothing_destroyed),
		T(step3_no_device_destroys_clone),
		T(step4_dry_run_refusal_undoes_clone_and_seed),
		T(step5_install_failure_undoes_everything),
		T(step5_defined_domain_is_undefined_by_uuid),
		T(step5_error_line_is_the_reason),
		T(failed_undo_names_what_is_left),
		T(interrupt_before_clone_undoes_the_seed),
		T(base_missing_changes_nothing),
		T(smaller_volsize_changes_nothing),
		T(existing_target_is_left_alone),
		T(existing_image_is_never_offered_for_destruction),
		T(existing_vm_of_qvm_may_be_destroyed),
		T(vm_named_like_its_base_is_refused),
		T(existing_domain_is_refused_before_any_change),
		T(name_taken_by_another_domain_is_refused),
		T(domain_lookup_failure_changes_nothing),
		T(relative_seed_dir_is_recorded_absolute),
		T(dry_run_writes_nothing_and_prints_a_script),
		T(dry_run_checks_the_seed_dir_too),
		T(wait_until_cloud_init_finished),
		T(wait_reports_cloud_init_failure_and_keeps_the_vm),
		T(wait_refused_for_an_unlogged_serial),
	};

	return cmocka_run_group_tests_name("vm", tests, NULL, NULL);
}
