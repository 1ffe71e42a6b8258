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

#define TAGS "qvm:role,qvm:name,qvm:seed,qvm:connect,qvm:uuid,qvm:console"

/* zfs get -s local of qvm's tags on one dataset: "name\tprop\tvalue"
 * lines, as zfs prints only those set on the dataset itself. */
static void expect_tags(const char *name, const char *lines)
{
	expect_run(ARGV("zfs", "get", "-H", "-p", "-s", "local", "-o",
			"name,property,value", TAGS, name), lines, "", 0);
}

static void expect_snapshots(const char *name, const char *lines)
{
	expect_run(ARGV("zfs", "list", "-H", "-o", "name", "-t", "snapshot",
			"-d", "1", name), lines, "", 0);
}

static void expect_vm_tags(struct fx *f, const char *connect,
			   const char *uuid)
{
	char *tags = xasprintf("tank/web1\tqvm:role\tvm\n"
			       "tank/web1\tqvm:name\tweb1\n"
			       "tank/web1\tqvm:seed\t%s\n"
			       "tank/web1\tqvm:connect\t%s\n%s%s%s",
			       f->seed, connect ? connect : "-",
			       uuid ? "tank/web1\tqvm:uuid\t" : "",
			       uuid ? uuid : "", uuid ? "\n" : "");

	expect_get("type", "tank/web1", "volume");
	expect_tags("tank/web1", tags);
	free(tags);
}

/* Finds web1 by name, reads its tags, sees no snapshots. */
static void expect_vm_lookup_uuid(struct fx *f, const char *connect,
				  const char *uuid)
{
	expect_run(ARGV("zfs", "get", "-H", "-p", "-s", "local", "-o",
			"name,property,value", "-t", "volume",
			"qvm:role,qvm:name"),
		   "tank/debian12\tqvm:role\timage\n"
		   "tank/web1\tqvm:role\tvm\ntank/web1\tqvm:name\tweb1\n",
		   "", 0);
	expect_vm_tags(f, connect, uuid);
	expect_snapshots("tank/web1", "");
}

static void expect_vm_lookup(struct fx *f, const char *connect)
{
	expect_vm_lookup_uuid(f, connect, NULL);
}

#define BLKLIST " Target   Source\n" \
		"------------------------------------------------\n" \
		" vda      /dev/zvol/tank/web1\n" \
		" sda      /var/lib/qvm/web1/seed.iso\n\n"

static void destroy_running_vm_stops_undefines_destroys(void **state)
{
	struct fx *f = *state;

	expect_vm_lookup(f, "qemu:///system");
	expect_run(ARGV("virsh", "-c", "qemu:///system", "domstate", "web1"),
		   "running\n\n", "", 0);
	expect_run(ARGV("virsh", "-c", "qemu:///system", "domblklist",
			"web1"), BLKLIST, "", 0);
	expect_run(ARGV("virsh", "-c", "qemu:///system", "destroy", "web1"),
		   "Domain 'web1' destroyed\n", "", 0);
	expect_run(ARGV("virsh", "-c", "qemu:///system", "undefine", "web1",
			"--nvram"), "", "", 0);
	expect_run(ARGV("zfs", "destroy", "tank/web1"), "", "", 0);
	assert_int_equal(destroy_run(&mock_host, "web1", NULL), 0);
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
	expect_run(ARGV("virsh", "-c", "test:///default", "domblklist",
			"web1"), BLKLIST, "", 0);
	expect_run(ARGV("virsh", "-c", "test:///default", "undefine", "web1",
			"--nvram"), "", "", 0);
	expect_run(ARGV("zfs", "destroy", "tank/web1"), "", "", 0);
	assert_int_equal(destroy_run(&mock_host, "web1", "test:///default"),
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
	assert_int_equal(destroy_run(&mock_host, "web1", NULL), 0);
	mock_runner_verify();
	fflush(f->fout);
	assert_non_null(strstr(f->out, "Domain web1 is not defined\n"));
}

static void failed_undefine_keeps_disk_and_seed(void **state)
{
	struct fx *f = *state;

	expect_vm_lookup(f, "-");
	expect_run(ARGV("virsh", "domstate", "web1"), "shut off\n", "", 0);
	expect_run(ARGV("virsh", "domblklist", "web1"), BLKLIST, "", 0);
	expect_run(ARGV("virsh", "undefine", "web1", "--nvram"), "",
		   "error: Failed to connect socket to "
		   "'/var/run/libvirt/libvirt-sock': No such file or "
		   "directory\n", 1);
	/* No zfs destroy: a defined VM must keep its disk. */
	assert_int_equal(destroy_run(&mock_host, "web1", NULL), -1);
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

	expect_get("type", "tank/other", "volume");
	expect_tags("tank/other", "");
	assert_int_equal(destroy_run(&mock_host, "tank/other", NULL), -1);
	mock_runner_verify();
	fflush(f->ferr);
	assert_string_equal(f->err, "Error destroying tank/other: tank/other "
			    "does not carry qvm's tag (qvm:role); qvm "
			    "destroys only what it made\n");
}

static void image_with_clones_is_refused(void **state)
{
	struct fx *f = *state;

	expect_get("type", "tank/debian12", "volume");
	expect_tags("tank/debian12", "tank/debian12\tqvm:role\timage\n");
	expect_snapshots("tank/debian12", "tank/debian12@base\n");
	expect_get("clones", "tank/debian12@base", "tank/web1,tank/web2");
	assert_int_equal(destroy_run(&mock_host, "tank/debian12", NULL), -1);
	mock_runner_verify();
	fflush(f->ferr);
	assert_string_equal(f->err, "Error destroying tank/debian12: "
			    "tank/debian12@base still has clones: "
			    "tank/web1,tank/web2; destroy those VMs first\n");
}

static void unused_image_is_destroyed_with_its_snapshot(void **state)
{
	struct fx *f = *state;

	expect_get("type", "tank/debian12", "volume");
	expect_tags("tank/debian12", "tank/debian12\tqvm:role\timage\n");
	expect_snapshots("tank/debian12", "tank/debian12@base\n");
	expect_get("clones", "tank/debian12@base", "");
	expect_get("userrefs", "tank/debian12@base", "0");
	/* One by one, never -r: only what qvm made goes. */
	expect_run(ARGV("zfs", "destroy", "tank/debian12@base"), "", "", 0);
	expect_run(ARGV("zfs", "destroy", "tank/debian12"), "", "", 0);
	assert_int_equal(destroy_run(&mock_host, "tank/debian12", NULL), 0);
	mock_runner_verify();
	fflush(f->fout);
	assert_string_equal(f->out, "Destroyed snapshot tank/debian12@base\n"
			    "Destroyed zvol tank/debian12\n"
			    "Image tank/debian12 destroyed\n");
}

static void unknown_vm_name(void **state)
{
	struct fx *f = *state;

	expect_run(ARGV("zfs", "get", "-H", "-p", "-s", "local", "-o",
			"name,property,value", "-t", "volume",
			"qvm:role,qvm:name"),
		   "tank/debian12\tqvm:role\timage\n", "", 0);
	assert_int_equal(destroy_run(&mock_host, "web9", NULL), -1);
	mock_runner_verify();
	fflush(f->ferr);
	assert_string_equal(f->err, "Error destroying web9: qvm made no VM "
			    "named 'web9' ('qvm list' shows what it made)\n");
}

static void snapshot_is_refused_before_any_command(void **state)
{
	struct fx *f = *state;

	/* tank/web1@snap inherits every qvm:* tag of tank/web1: it must not
	 * be taken for the VM (nor its @base for the image). */
	assert_int_equal(destroy_run(&mock_host, "tank/web1@snap", NULL), -1);
	assert_int_equal(destroy_run(&mock_host, "tank/debian12@base", NULL),
			 -1);
	assert_int_equal(mock_runner_calls(), 0);
	fflush(f->ferr);
	assert_string_equal(f->err,
		"Error destroying tank/web1@snap: tank/web1@snap is a snapshot "
		"or bookmark, not a volume; qvm destroys only the volumes it "
		"made (name the VM, or the image's volume)\n"
		"Error destroying tank/debian12@base: tank/debian12@base is a "
		"snapshot or bookmark, not a volume; qvm destroys only the "
		"volumes it made (name the VM, or the image's volume)\n");
	assert_null(strstr(f->err, "@base@base"));
}

static void inherited_tag_is_not_qvms(void **state)
{
	struct fx *f = *state;

	/* tank/vms has qvm:role=vm set by someone; tank/vms/data inherits
	 * it. zfs get -s local prints nothing for it: not qvm's. */
	expect_get("type", "tank/vms/data", "volume");
	expect_tags("tank/vms/data", "");
	assert_int_equal(destroy_run(&mock_host, "tank/vms/data", NULL), -1);
	mock_runner_verify();
	fflush(f->ferr);
	assert_string_equal(f->err, "Error destroying tank/vms/data: "
			    "tank/vms/data does not carry qvm's tag "
			    "(qvm:role); qvm destroys only what it made\n");
}

static void vm_found_by_name_only_with_local_tags(void **state)
{
	struct fx *f = *state;

	/* Only a qvm:name, no local qvm:role=vm: not a VM qvm made. */
	expect_run(ARGV("zfs", "get", "-H", "-p", "-s", "local", "-o",
			"name,property,value", "-t", "volume",
			"qvm:role,qvm:name"),
		   "tank/x\tqvm:name\tweb1\ntank/y\tqvm:role\tvm\n", "",
		   0);
	assert_int_equal(destroy_run(&mock_host, "web1", NULL), -1);
	mock_runner_verify();
	fflush(f->ferr);
	assert_non_null(strstr(f->err, "qvm made no VM named 'web1'"));
}

static void filesystem_is_refused(void **state)
{
	struct fx *f = *state;

	expect_get("type", "tank/home", "filesystem");
	assert_int_equal(destroy_run(&mock_host, "tank/home", NULL), -1);
	mock_runner_verify();
	fflush(f->ferr);
	assert_string_equal(f->err, "Error destroying tank/home: tank/home is "
			    "a filesystem, not a volume; qvm destroys only "
			    "the volumes it made\n");
}

static void vm_with_a_users_snapshot_changes_nothing(void **state)
{
	struct fx *f = *state;

	expect_run(ARGV("zfs", "get", "-H", "-p", "-s", "local", "-o",
			"name,property,value", "-t", "volume",
			"qvm:role,qvm:name"),
		   "tank/web1\tqvm:role\tvm\ntank/web1\tqvm:name\tweb1\n",
		   "", 0);
	expect_vm_tags(f, "qemu:///system", NULL);
	expect_snapshots("tank/web1", "tank/web1@before-upgrade\n");
	/* No virsh at all: the domain must stay as it is. */
	assert_int_equal(destroy_run(&mock_host, "web1", NULL), -1);
	mock_runner_verify();
	assert_int_equal(access(f->seed, F_OK), 0);
	fflush(f->ferr);
	assert_string_equal(f->err, "Error destroying web1: tank/web1 has 1 "
			    "snapshot qvm did not make "
			    "(tank/web1@before-upgrade); nothing was "
			    "changed\n");
}

static void domain_with_another_uuid_is_left_alone(void **state)
{
	struct fx *f = *state;

	expect_vm_lookup_uuid(f, "qemu:///system",
			      "0b5ec1a4-1d6f-4c7e-9a57-3f2d1c0e9b8a");
	expect_run(ARGV("virsh", "-c", "qemu:///system", "domstate", "web1"),
		   "running\n", "", 0);
	expect_run(ARGV("virsh", "-c", "qemu:///system", "domuuid", "web1"),
		   "6695eb01-f6a4-8304-79aa-97f2502e193f\n\n", "", 0);
	assert_int_equal(destroy_run(&mock_host, "web1", NULL), -1);
	mock_runner_verify();
	assert_int_equal(access(f->seed, F_OK), 0);
	fflush(f->ferr);
	assert_string_equal(f->err, "Error destroying web1: domain web1 has "
			    "UUID 6695eb01-f6a4-8304-79aa-97f2502e193f, not "
			    "the 0b5ec1a4-1d6f-4c7e-9a57-3f2d1c0e9b8a qvm gave "
			    "it (qvm:uuid): it is not the VM qvm made; "
			    "nothing was changed\n");
}

static void domain_with_its_uuid_is_removed(void **state)
{
	struct fx *f = *state;

	expect_vm_lookup_uuid(f, "qemu:///system",
			      "0b5ec1a4-1d6f-4c7e-9a57-3f2d1c0e9b8a");
	expect_run(ARGV("virsh", "-c", "qemu:///system", "domstate", "web1"),
		   "shut off\n", "", 0);
	expect_run(ARGV("virsh", "-c", "qemu:///system", "domuuid", "web1"),
		   "0b5ec1a4-1d6f-4c7e-9a57-3f2d1c0e9b8a\n\n", "", 0);
	expect_run(ARGV("virsh", "-c", "qemu:///system", "undefine", "web1",
			"--nvram"), "", "", 0);
	expect_run(ARGV("zfs", "destroy", "tank/web1"), "", "", 0);
	assert_int_equal(destroy_run(&mock_host, "web1", NULL), 0);
	mock_runner_verify();
	assert_int_equal(access(f->seed, F_OK), -1);
}

static void domain_on_another_disk_is_left_alone(void **state)
{
	struct fx *f = *state;

	/* No qvm:uuid (made before it): a domain of that name that does not
	 * run on the volume is someone else's. */
	expect_vm_lookup(f, "qemu:///system");
	expect_run(ARGV("virsh", "-c", "qemu:///system", "domstate", "web1"),
		   "running\n", "", 0);
	expect_run(ARGV("virsh", "-c", "qemu:///system", "domblklist", "web1"),
		   " Target   Source\n------------\n"
		   " vda      /var/lib/libvirt/images/xtank/web1.qcow2\n"
		   " vdb      /dev/zvol/xtank/web1\n\n", "", 0);
	assert_int_equal(destroy_run(&mock_host, "web1", NULL), -1);
	mock_runner_verify();
	fflush(f->ferr);
	assert_string_equal(f->err, "Error destroying web1: domain web1 does "
			    "not use tank/web1 as a disk: it is not the VM qvm "
			    "made; nothing was changed\n");
}

static void unreadable_domain_changes_nothing(void **state)
{
	struct fx *f = *state;

	expect_vm_lookup(f, NULL);
	expect_run(ARGV("virsh", "domstate", "web1"), "",
		   "error: failed to connect to the hypervisor\n", 1);
	assert_int_equal(destroy_run(&mock_host, "web1", NULL), -1);
	mock_runner_verify();
	fflush(f->ferr);
	assert_non_null(strstr(f->err, "could not query domain web1: error: "
				       "failed to connect to the hypervisor; "
				       "nothing was changed"));
}

static void foreign_seed_changes_nothing(void **state)
{
	struct fx *f = *state;

	expect_get("type", "tank/web1", "volume");
	expect_tags("tank/web1", "tank/web1\tqvm:role\tvm\n"
		    "tank/web1\tqvm:name\tweb1\n"
		    "tank/web1\tqvm:seed\t/etc\n");
	expect_snapshots("tank/web1", "");
	assert_int_equal(destroy_run(&mock_host, "tank/web1", NULL), -1);
	mock_runner_verify();
	fflush(f->ferr);
	assert_string_equal(f->err, "Error destroying tank/web1: the recorded "
			    "seed /etc is not a qvm seed directory for web1; "
			    "nothing was changed\n");
}

static void image_with_a_users_snapshot_is_refused(void **state)
{
	struct fx *f = *state;

	expect_get("type", "tank/debian12", "volume");
	expect_tags("tank/debian12", "tank/debian12\tqvm:role\timage\n");
	expect_snapshots("tank/debian12", "tank/debian12@base\n"
			 "tank/debian12@autosnap_1\ntank/debian12@autosnap_2\n");
	assert_int_equal(destroy_run(&mock_host, "tank/debian12", NULL), -1);
	mock_runner_verify();
	fflush(f->ferr);
	assert_string_equal(f->err, "Error destroying tank/debian12: "
			    "tank/debian12 has 2 snapshots qvm did not make "
			    "(tank/debian12@autosnap_1, "
			    "tank/debian12@autosnap_2); nothing was "
			    "changed\n");
}

static void held_base_is_refused(void **state)
{
	struct fx *f = *state;

	expect_get("type", "tank/debian12", "volume");
	expect_tags("tank/debian12", "tank/debian12\tqvm:role\timage\n");
	expect_snapshots("tank/debian12", "tank/debian12@base\n");
	expect_get("clones", "tank/debian12@base", "");
	expect_get("userrefs", "tank/debian12@base", "1");
	assert_int_equal(destroy_run(&mock_host, "tank/debian12", NULL), -1);
	mock_runner_verify();
	fflush(f->ferr);
	assert_string_equal(f->err, "Error destroying tank/debian12: "
			    "tank/debian12@base is held (1 hold; 'zfs holds "
			    "tank/debian12@base' names them); nothing was "
			    "changed\n");
}

static void image_without_base_loses_no_snapshot(void **state)
{
	struct fx *f = *state;

	/* An interrupted import: no @base, the volume alone goes. */
	expect_get("type", "tank/half", "volume");
	expect_tags("tank/half", "tank/half\tqvm:role\timage\n");
	expect_snapshots("tank/half", "");
	expect_run(ARGV("zfs", "destroy", "tank/half"), "", "", 0);
	assert_int_equal(destroy_run(&mock_host, "tank/half", NULL), 0);
	mock_runner_verify();
	fflush(f->fout);
	assert_string_equal(f->out, "Destroyed zvol tank/half\n"
			    "Image tank/half destroyed\n");
}

#define LIST_TAGS ARGV("zfs", "get", "-H", "-p", "-s", "local", "-o", \
			  "name,property,value", "-t", "volume", \
			  "qvm:role,qvm:name,qvm:connect,qvm:uuid")
#define LIST_VOLUMES ARGV("zfs", "list", "-H", "-p", "-o", \
			     "name,origin,volsize,used,creation", "-t", \
			     "volume")

static void list_shows_only_qvm_volumes(void **state)
{
	struct fx *f = *state;

	/* Only tags set on the volume itself: tank/vms/data inherits
	 * qvm:role from the filesystem tank/vms and is not listed. Nothing
	 * asks for snapshots, but each image's @base, and each VM's domain
	 * state: by its UUID on its libvirt; by name on an older volume. */
	expect_run(LIST_TAGS,
		   "tank/debian12\tqvm:role\timage\n"
		   "tank/half\tqvm:role\timage\n"
		   "tank/old\tqvm:role\tvm\n"
		   "tank/old\tqvm:name\told\n"
		   "tank/web1\tqvm:role\tvm\n"
		   "tank/web1\tqvm:name\tweb1\n"
		   "tank/web1\tqvm:connect\tqemu:///system\n"
		   "tank/web1\tqvm:uuid\t"
		   "6695eb01-f6a4-4304-89aa-97f2502e193f\n"
		   "tank/web2\tqvm:role\tvm\n"
		   "tank/web2\tqvm:name\tweb2\n", "", 0);
	expect_run(LIST_VOLUMES,
		   "tank/debian12\t-\t2147483648\t734003200\t1795000000\n"
		   "tank/half\t-\t1048576\t0\t1795000000\n"
		   "tank/old\ttank/debian12@base\t1048576\t0\t1795000000\n"
		   "tank/other\t-\t1048576\t0\t1795000000\n"
		   "tank/vms/data\t-\t1048576\t0\t1795000000\n"
		   "tank/web1\ttank/debian12@base\t21474836480\t1048576\t"
		   "1795000100\n"
		   "tank/web2\ttank/debian12@base\t1048576\t0\t"
		   "1795000100\n", "", 0);
	expect_get("type", "tank/debian12@base", "snapshot");
	expect_run(ARGV("zfs", "get", "-Hp", "-o", "value", "type",
			"tank/half@base"), "",
		   "cannot open 'tank/half@base': dataset does not exist\n",
		   1);
	expect_run(ARGV("virsh", "domstate", "old"), "",
		   "error: failed to get domain 'old'\n", 1);
	expect_run(ARGV("virsh", "-c", "qemu:///system", "domstate",
			"6695eb01-f6a4-4304-89aa-97f2502e193f"),
		   "shut off\n\n", "", 0);
	expect_run(ARGV("virsh", "domstate", "web2"), "",
		   "error: failed to connect to the hypervisor\n", 1);
	assert_int_equal(list_run(&mock_host, true), 0);
	mock_runner_verify();
	fflush(f->fout);
	/* tank/half has no @base (an interrupted import): not an image. */
	assert_string_equal(f->out,
		"tank/debian12\timage\t-\t-\t2147483648\t734003200\t"
		"2026-11-18T11:06:40Z\t-\n"
		"tank/old\tvm\told\ttank/debian12@base\t1048576\t0\t"
		"2026-11-18T11:06:40Z\tmissing\n"
		"tank/web1\tvm\tweb1\ttank/debian12@base\t21474836480\t"
		"1048576\t2026-11-18T11:08:20Z\tshut off\n"
		"tank/web2\tvm\tweb2\ttank/debian12@base\t1048576\t0\t"
		"2026-11-18T11:08:20Z\tunknown\n");
}

static void list_of_nothing_tagged_asks_no_more(void **state)
{
	struct fx *f = *state;

	expect_run(LIST_TAGS, "", "", 0);
	assert_int_equal(list_run(&mock_host, false), 0);
	mock_runner_verify();
	fflush(f->fout);
	assert_non_null(strstr(f->out, "NAME"));
	assert_null(strchr(strchr(f->out, '\n') + 1, '\n'));
}

static void list_fails_loudly_when_zfs_says_too_much(void **state)
{
	struct fx *f = *state;

	/* The runner's verdict on output past its cap is an error, and list
	 * passes it on; it never shows what it got as if it were all. */
	expect_run(LIST_TAGS, "", "zfs: printed more than 16777216 bytes on "
		   "stdout (qvm's limit); its output was not used",
		   RUN_OUTPUT_TOO_LONG);
	assert_int_equal(list_run(&mock_host, true), -1);
	mock_runner_verify();
	fflush(f->ferr);
	assert_string_equal(f->err, "Error listing: could not read the tags of "
			    "volumes: its output is larger than qvm accepts "
			    "(zfs: printed more than 16777216 bytes on stdout "
			    "(qvm's limit); its output was not used)\n");
	fflush(f->fout);
	assert_string_equal(f->out, "");
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
		T(snapshot_is_refused_before_any_command),
		T(inherited_tag_is_not_qvms),
		T(vm_found_by_name_only_with_local_tags),
		T(filesystem_is_refused),
		T(vm_with_a_users_snapshot_changes_nothing),
		T(domain_with_another_uuid_is_left_alone),
		T(domain_with_its_uuid_is_removed),
		T(domain_on_another_disk_is_left_alone),
		T(unreadable_domain_changes_nothing),
		T(foreign_seed_changes_nothing),
		T(image_with_a_users_snapshot_is_refused),
		T(held_base_is_refused),
		T(image_without_base_loses_no_snapshot),
		T(list_shows_only_qvm_volumes),
		T(list_of_nothing_tagged_asks_no_more),
		T(list_fails_loudly_when_zfs_says_too_much),
	};

	return cmocka_run_group_tests_name("lifecycle", tests, NULL, NULL);
}
