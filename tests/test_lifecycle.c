/* list and destroy with a scripted runner: exactly which commands, and
 * what is refused. */
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

#include "destroy.h"
#include "list.h"
#include "mock_runner.h"
#include "msg.h"
#include "strvec.h"

struct fx {
	char *dir, *seed;
	char *out, *err;
	size_t out_len, err_len;
	FILE *fout, *ferr;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	char tmpl[] = "/tmp/qvm-test-life.XXXXXX";
	char *iso;
	FILE *fp;

	assert_non_null(mkdtemp(tmpl));
	f->dir = xstrdup(tmpl);
	f->seed = xasprintf("%s/web1", f->dir);
	assert_int_equal(mkdir(f->seed, 0711), 0);
	iso = xasprintf("%s/seed.iso", f->seed);
	fp = fopen(iso, "w");
	fclose(fp);
	free(iso);
	f->fout = open_memstream(&f->out, &f->out_len);
	f->ferr = open_memstream(&f->err, &f->err_len);
	msg_set_streams(f->fout, f->ferr);
	mock_runner_reset();
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
	free(f->seed);
	free(f);
	return 0;
}

static void expect_get(const char *prop, const char *name, const char *value)
{
	char *out = xasprintf("%s\n", value);

	expect_run(ARGV("zfs", "get", "-Hp", "-o", "value", prop, name), out,
		   "", 0);
	free(out);
}

static void expect_vm_lookup(struct fx *f, const char *connect)
{
	expect_run(ARGV("zfs", "list", "-H", "-p", "-o",
			"name,qvm:role,qvm:name", "-t", "volume"),
		   "tank/debian12\timage\t-\ntank/web1\tvm\tweb1\n"
		   "tank/other\t-\t-\n", "", 0);
	expect_get("qvm:role", "tank/web1", "vm");
	expect_get("qvm:name", "tank/web1", "web1");
	expect_get("qvm:seed", "tank/web1", f->seed);
	/* -c given: the recorded URI is not even read. */
	if (connect)
		expect_get("qvm:connect", "tank/web1", connect);
}

static void destroy_running_vm_stops_undefines_destroys(void **state)
{
	struct fx *f = *state;

	expect_vm_lookup(f, "qemu:///system");
	expect_run(ARGV("virsh", "-c", "qemu:///system", "domstate", "web1"),
		   "running\n\n", "", 0);
	expect_run(ARGV("virsh", "-c", "qemu:///system", "destroy", "web1"),
		   "Domain 'web1' destroyed\n", "", 0);
	expect_run(ARGV("virsh", "-c", "qemu:///system", "undefine", "web1",
			"--nvram"), "", "", 0);
	expect_run(ARGV("zfs", "destroy", "tank/web1"), "", "", 0);
	assert_int_equal(destroy_run(&mock_runner, "web1", NULL), 0);
	mock_runner_verify();
	assert_int_equal(access(f->seed, F_OK), -1);
	fflush(f->fout);
	assert_non_null(strstr(f->out, "Stopped domain web1\n"
				       "Undefined domain web1\n"
				       "Destroyed zvol tank/web1\n"
				       "Removed seed "));
	assert_non_null(strstr(f->out, "VM web1 destroyed\n"));
}

static void shut_off_vm_is_not_stopped_and_c_overrides(void **state)
{
	struct fx *f = *state;

	expect_vm_lookup(f, NULL);
	expect_run(ARGV("virsh", "-c", "test:///default", "domstate", "web1"),
		   "shut off\n", "", 0);
	expect_run(ARGV("virsh", "-c", "test:///default", "undefine", "web1",
			"--nvram"), "", "", 0);
	expect_run(ARGV("zfs", "destroy", "tank/web1"), "", "", 0);
	assert_int_equal(destroy_run(&mock_runner, "web1", "test:///default"),
			 0);
	mock_runner_verify();
}

static void no_connect_recorded_uses_virsh_default(void **state)
{
	struct fx *f = *state;

	expect_vm_lookup(f, "-");
	expect_run(ARGV("virsh", "domstate", "web1"), "",
		   "error: failed to get domain 'web1'\n", 1);
	expect_run(ARGV("zfs", "destroy", "tank/web1"), "", "", 0);
	assert_int_equal(destroy_run(&mock_runner, "web1", NULL), 0);
	mock_runner_verify();
	fflush(f->fout);
	assert_non_null(strstr(f->out, "Domain web1 is not defined\n"));
}

static void failed_undefine_keeps_disk_and_seed(void **state)
{
	struct fx *f = *state;

	expect_vm_lookup(f, "-");
	expect_run(ARGV("virsh", "domstate", "web1"), "shut off\n", "", 0);
	expect_run(ARGV("virsh", "undefine", "web1", "--nvram"), "",
		   "error: Failed to connect socket to "
		   "'/var/run/libvirt/libvirt-sock': No such file or "
		   "directory\n", 1);
	/* No zfs destroy: a defined VM must keep its disk. */
	assert_int_equal(destroy_run(&mock_runner, "web1", NULL), -1);
	mock_runner_verify();
	assert_int_equal(access(f->seed, F_OK), 0);
	fflush(f->ferr);
	assert_non_null(strstr(f->err, "could not undefine domain web1: "
				       "error: Failed to connect socket"));
	assert_non_null(strstr(f->err, "its disk tank/web1 and seed are "
				       "left"));
}

static void untagged_dataset_is_refused(void **state)
{
	struct fx *f = *state;

	expect_get("qvm:role", "tank/other", "-");
	assert_int_equal(destroy_run(&mock_runner, "tank/other", NULL), -1);
	mock_runner_verify();
	fflush(f->ferr);
	assert_string_equal(f->err, "Error destroying tank/other: tank/other "
			    "does not carry qvm's tag (qvm:role); qvm "
			    "destroys only what it made\n");
}

static void image_with_clones_is_refused(void **state)
{
	struct fx *f = *state;

	expect_get("qvm:role", "tank/debian12", "image");
	expect_get("clones", "tank/debian12@base", "tank/web1,tank/web2");
	assert_int_equal(destroy_run(&mock_runner, "tank/debian12", NULL), -1);
	mock_runner_verify();
	fflush(f->ferr);
	assert_string_equal(f->err, "Error destroying tank/debian12: "
			    "tank/debian12@base still has clones: "
			    "tank/web1,tank/web2; destroy those VMs first\n");
}

static void unused_image_is_destroyed_with_its_snapshot(void **state)
{
	(void)state;
	expect_get("qvm:role", "tank/debian12", "image");
	expect_get("clones", "tank/debian12@base", "");
	expect_run(ARGV("zfs", "destroy", "-r", "tank/debian12"), "", "", 0);
	assert_int_equal(destroy_run(&mock_runner, "tank/debian12", NULL), 0);
	mock_runner_verify();
}

static void unknown_vm_name(void **state)
{
	struct fx *f = *state;

	expect_run(ARGV("zfs", "list", "-H", "-p", "-o",
			"name,qvm:role,qvm:name", "-t", "volume"),
		   "tank/debian12\timage\t-\n", "", 0);
	assert_int_equal(destroy_run(&mock_runner, "web9", NULL), -1);
	mock_runner_verify();
	fflush(f->ferr);
	assert_string_equal(f->err, "Error destroying web9: qvm made no VM "
			    "named 'web9' ('qvm list' shows what it made)\n");
}

static void list_shows_only_qvm_volumes(void **state)
{
	struct fx *f = *state;

	expect_run(ARGV("zfs", "list", "-H", "-p", "-o",
			"name,type,qvm:role,qvm:name,origin,volsize,used,"
			"creation", "-t", "volume,snapshot"),
		   "tank/debian12\tvolume\timage\t-\t-\t2147483648\t"
		   "734003200\t1795000000\n"
		   "tank/debian12@base\tsnapshot\timage\t-\t-\t2147483648\t"
		   "0\t1795000001\n"
		   "tank/half\tvolume\timage\t-\t-\t1048576\t0\t1795000000\n"
		   "tank/other\tvolume\t-\t-\t-\t1048576\t0\t1795000000\n"
		   "tank/web1\tvolume\tvm\tweb1\ttank/debian12@base\t"
		   "21474836480\t1048576\t1795000100\n", "", 0);
	assert_int_equal(list_run(&mock_runner, true), 0);
	mock_runner_verify();
	fflush(f->fout);
	/* tank/half has no @base (an interrupted import): not an image. */
	assert_string_equal(f->out,
		"tank/debian12\timage\t-\t-\t2147483648\t734003200\t"
		"2026-11-18T11:06:40Z\n"
		"tank/web1\tvm\tweb1\ttank/debian12@base\t21474836480\t"
		"1048576\t2026-11-18T11:08:20Z\n");
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(destroy_running_vm_stops_undefines_destroys),
		T(shut_off_vm_is_not_stopped_and_c_overrides),
		T(no_connect_recorded_uses_virsh_default),
		T(failed_undefine_keeps_disk_and_seed),
		T(untagged_dataset_is_refused),
		T(image_with_clones_is_refused),
		T(unused_image_is_destroyed_with_its_snapshot),
		T(unknown_vm_name),
		T(list_shows_only_qvm_volumes),
	};

	return cmocka_run_group_tests_name("lifecycle", tests, NULL, NULL);
}
