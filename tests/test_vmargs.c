/*
 * test_vmargs: what virt-install is told for each shape of vm document.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "strvec.h"
#include "vmargs.h"
#include "ynode.h"

#define ZVOL "/dev/zvol/tank/web1"
#define SEED "/var/lib/qvm/web1/seed.iso"
/* What every argv ends with. */
#define TAIL "--noautoconsole", "--import", "--disk", \
	"path=" SEED ",device=cdrom", NULL

static char errbuf[512];

/* The first document of yaml, translated; argv must equal expect. */
static void assert_argv(const char *yaml, const char *const *expect)
{
	struct ystream s;
	struct strvec argv = STRVEC_INIT;
	size_t i;

	if (ystream_load(yaml, strlen(yaml), &s, errbuf, sizeof(errbuf)) < 0)
		fail_msg("bad test YAML: %s", errbuf);
	if (vmargs_build(s.docs[0], ZVOL, SEED, &argv, errbuf,
			 sizeof(errbuf)) < 0)
		fail_msg("unexpected error: %s", errbuf);
	for (i = 0; expect[i] && i < argv.n; i++)
		assert_string_equal(argv.v[i], expect[i]);
	if (expect[i] || i != argv.n)
		fail_msg("argv has %zu elements, expected %zu", argv.n,
			 i + (expect[i] ? 1 : 0));
	strvec_clear(&argv);
	ystream_free(&s);
}

/* The first document of yaml must not translate; returns the reason. */
static const char *build_error(const char *yaml)
{
	struct ystream s;
	struct strvec argv = STRVEC_INIT;

	if (ystream_load(yaml, strlen(yaml), &s, errbuf, sizeof(errbuf)) < 0)
		fail_msg("bad test YAML: %s", errbuf);
	strvec_push(&argv, "untouched");
	assert_int_equal(vmargs_build(s.docs[0], ZVOL, SEED, &argv, errbuf,
				      sizeof(errbuf)), -1);
	/* Nothing is added on failure. */
	assert_int_equal(argv.n, 1);
	strvec_clear(&argv);
	ystream_free(&s);
	return errbuf;
}

static void test_issue_example_two_nics(void **state)
{
	static const char yaml[] =
		"---\n"
		"qvm: vm\n"
		"name: web1\n"
		"memory: 2048\n"
		"vcpus: 2\n"
		"os-variant: debian12\n"
		"disk:\n"
		"  bus: virtio\n"
		"  cache: writeback\n"
		"  zvol:\n"
		"    base: tank/debian12\n"
		"    volsize: 20G\n"
		"    compression: lz4\n"
		"network:\n"
		"  - network: default\n"
		"    model: virtio\n"
		"  - bridge: br0\n"
		"    model: virtio\n"
		"autostart: true\n"
		"...\n"
		"---\n"
		"qvm: user-data\n"
		"...\n";
	static const char *const expect[] = {
		"virt-install",
		"--name", "web1",
		"--memory", "2048",
		"--vcpus", "2",
		"--os-variant", "debian12",
		"--disk", "path=" ZVOL ",bus=virtio,cache=writeback",
		"--network", "network=default,model=virtio",
		"--network", "bridge=br0,model=virtio",
		"--autostart",
		TAIL
	};

	(void)state;
	assert_argv(yaml, expect);
}

static void test_two_disks_one_zvol_keep_their_order(void **state)
{
	static const char yaml[] =
		"disk:\n"
		"  - path: /srv/data.img\n"
		"    size: 10\n"
		"  - zvol: {base: tank/debian12}\n"
		"    bus: virtio\n"
		"    cache: none\n"
		"name: two\n";
	static const char *const expect[] = {
		"virt-install",
		"--disk", "path=/srv/data.img,size=10",
		"--disk", "path=" ZVOL ",bus=virtio,cache=none",
		"--name", "two",
		TAIL
	};

	(void)state;
	assert_argv(yaml, expect);
}

static void test_zvol_disk_with_nothing_else(void **state)
{
	static const char *const expect[] = {
		"virt-install", "--disk", "path=" ZVOL, TAIL
	};

	(void)state;
	assert_argv("disk: {zvol: {base: tank/x}}\n", expect);
}

static void test_scalars_pass_through_as_written(void **state)
{
	static const char yaml[] =
		"memory: 2048\n"
		"vcpus: \"4\"\n"
		"cpu: host-passthrough,cache.mode=passthrough\n"
		"description: 'say \"hi\", twice'\n"
		"mode: !!str 0755\n";
	static const char *const expect[] = {
		"virt-install",
		"--memory", "2048",
		"--vcpus", "4",
		/* Top-level values are virt-install's own syntax: a comma
		 * there separates sub-options, as the user meant. */
		"--cpu", "host-passthrough,cache.mode=passthrough",
		"--description", "say \"hi\", twice",
		"--mode", "0755",
		TAIL
	};

	(void)state;
	assert_argv(yaml, expect);
}

static void test_booleans_null_and_false(void **state)
{
	static const char yaml[] =
		"autostart: true\n"
		"noreboot: TRUE\n"
		"transient: false\n"
		"wait: False\n"
		"hvm:\n"
		"paravirt: ~\n"
		"pxe: null\n"
		"quoted: \"true\"\n"
		"answer: yes\n"
		"on1: On\n"
		"off1: OFF\n"
		"no1: no\n"
		"y: y\n"
		"off: \"false\"\n";
	static const char *const expect[] = {
		"virt-install",
		"--autostart",
		"--noreboot",
		"--hvm",
		"--paravirt",
		"--pxe",
		"--quoted", "true",	/* quoted: a string, not a flag */
		"--answer",	/* YAML 1.1, as cloud-init reads it */
		"--on1",
		"--y", "y",	/* not a boolean in YAML 1.1 either */
		"--off", "false",
		TAIL
	};

	(void)state;
	assert_argv(yaml, expect);
}

static void test_nested_mappings_become_dotted_names(void **state)
{
	static const char yaml[] =
		"boot:\n"
		"  kernel: /k\n"
		"  initrd: /i\n"
		"  kernel_args: \"root=/dev/vda console=ttyS0\"\n"
		"cpu:\n"
		"  mode: host-model\n"
		"  cache: {mode: passthrough, level: 3}\n"
		"  numa: {cell0: {cpus: 0-1, memory: 1024}}\n";
	static const char *const expect[] = {
		"virt-install",
		"--boot", "kernel=/k,initrd=/i,kernel_args=root=/dev/vda console=ttyS0",
		"--cpu", "mode=host-model,cache.mode=passthrough,cache.level=3,"
			 "numa.cell0.cpus=0-1,numa.cell0.memory=1024",
		TAIL
	};

	(void)state;
	assert_argv(yaml, expect);
}

static void test_suboption_values_as_written_null_bare(void **state)
{
	static const char yaml[] =
		"features:\n"
		"  acpi: true\n"
		"  apic: yes\n"
		"  smm.state: false\n"
		"  kvm_hidden: \"on\"\n"
		"boot:\n"
		"  uefi:\n"
		"  menu: ~\n";
	static const char *const expect[] = {
		"virt-install",
		"--features", "acpi=true,apic=yes,smm.state=false,kvm_hidden=on",
		"--boot", "uefi,menu",
		TAIL
	};

	(void)state;
	assert_argv(yaml, expect);
}

static void test_suboption_with_comma_is_quoted(void **state)
{
	static const char yaml[] =
		"disk:\n"
		"  zvol: {base: tank/x}\n"
		"  serial: \"a,b\"\n"
		"  target: 'say \"hi\"'\n"
		"network: {network: default, filterref.filter: \"x,y,z\"}\n";
	static const char *const expect[] = {
		"virt-install",
		"--disk", "path=" ZVOL ",serial=\"a,b\",target=\"say \\\"hi\\\"\"",
		"--network", "network=default,filterref.filter=\"x,y,z\"",
		TAIL
	};

	(void)state;
	assert_argv(yaml, expect);
}

/* virt-install's sub-option parser is shlex (posix, "," as whitespace):
 * '"', '\'' and '\\' are syntax too. Each value goes in double quotes
 * with '"' and '\\' escaped, whatever it holds. */
static void test_quotes_and_backslashes_are_quoted(void **state)
{
	static const char yaml[] =
		"disk:\n"
		"  zvol: {base: tank/x}\n"
		"  serial: 'a,\"b'\n"
		"  target: \"it's\"\n"
		"  vendor: 'c:\\dir\\'\n"
		"  product: plain\n"
		"boot: {cmdline: {args: 'x=\"1,2\" y=\\\\'}}\n";
	static const char *const expect[] = {
		"virt-install",
		"--disk", "path=" ZVOL ",serial=\"a,\\\"b\",target=\"it's\","
			  "vendor=\"c:\\\\dir\\\\\",product=plain",
		"--boot", "cmdline.args=\"x=\\\"1,2\\\" y=\\\\\\\\\"",
		TAIL
	};

	(void)state;
	assert_argv(yaml, expect);
}

/* Runs argv with stdout into out (malloc'd); returns the exit status. */
static int run_capture(char *const *argv, char **out)
{
	size_t len = 0, cap = 65536;
	int fds[2], status;
	pid_t pid;
	ssize_t n;

	*out = xmalloc(cap + 1);
	assert_int_equal(pipe(fds), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);

		dup2(fds[1], 1);
		dup2(null, 2);
		close(fds[0]);
		setenv("LC_ALL", "C", 1);
		execvp(argv[0], argv);
		_exit(127);
	}
	close(fds[1]);
	while ((n = read(fds[0], *out + len, cap - len)) > 0) {
		len += (size_t)n;
		if (len == cap)
			*out = xrealloc(*out, (cap *= 2) + 1);
	}
	(*out)[len] = '\0';
	close(fds[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

/* The real virt-install (test driver, --print-xml) reads every value back
 * exactly: commas, both quotes and backslashes, in sub-options and in the
 * paths qvm adds. */
static void test_virt_install_reads_every_value_back(void **state)
{
	static const char yaml[] =
		"name: qvm-quoting\n"
		"memory: 64\n"
		"osinfo: generic\n"
		"metadata:\n"
		"  title: 'a,b \"c\" ''d'' \\e\\\\ \\\"f'\n"
		"  description: \"x\\\"y,z'w\\\\v,,\\\\\\\\ end\\\\\"\n"
		"disk: {zvol: {base: tank/x}, bus: virtio}\n";
	static const char *const want[] = {
		"<title>a,b \"c\" 'd' \\e\\\\ \\\"f</title>",
		"<description>x\"y,z'w\\v,,\\\\ end\\</description>",
		NULL
	};
	char dir[] = "/tmp/test_vmargs.XXXXXX";
	char *zvol, *seed, *out;
	struct ystream s;
	struct strvec argv = STRVEC_INIT;
	int fd;

	(void)state;
	if (system("command -v virt-install >/dev/null 2>&1") != 0)
		skip();
	assert_non_null(mkdtemp(dir));
	/* The disks must exist: the test driver checks their paths. */
	zvol = xasprintf("%s/zv,ol.img", dir);
	seed = xasprintf("%s/se,ed.iso", dir);
	fd = open(zvol, O_WRONLY | O_CREAT, 0600);
	assert_true(fd >= 0);
	close(fd);
	fd = open(seed, O_WRONLY | O_CREAT, 0600);
	assert_true(fd >= 0);
	close(fd);

	assert_int_equal(ystream_load(yaml, strlen(yaml), &s, errbuf,
				      sizeof(errbuf)), 0);
	assert_int_equal(vmargs_build(s.docs[0], zvol, seed, &argv, errbuf,
				      sizeof(errbuf)), 0);
	strvec_pushv(&argv, (const char *const[]){ "--connect",
		     "test:///default", "--print-xml", NULL });
	if (run_capture((char *const *)argv.v, &out) != 0)
		fail_msg("virt-install failed on: %s", argv.v[8]);
	for (size_t i = 0; want[i]; i++)
		if (!strstr(out, want[i]))
			fail_msg("virt-install did not read back %s:\n%s",
				 want[i], out);
	free(out);
	strvec_clear(&argv);
	ystream_free(&s);
	unlink(zvol);
	unlink(seed);
	rmdir(dir);
	free(zvol);
	free(seed);
}

static void test_paths_with_commas_are_quoted(void **state)
{
	static const char yaml[] = "disk: {zvol: {base: tank/x}}\n";
	struct ystream s;
	struct strvec argv = STRVEC_INIT;

	(void)state;
	assert_int_equal(ystream_load(yaml, strlen(yaml), &s, errbuf,
				      sizeof(errbuf)), 0);
	assert_int_equal(vmargs_build(s.docs[0], "/dev/zvol/a,b", "/s,d.iso",
				      &argv, errbuf, sizeof(errbuf)), 0);
	assert_int_equal(argv.n, 7);
	assert_string_equal(argv.v[2], "path=\"/dev/zvol/a,b\"");
	assert_string_equal(argv.v[6], "path=\"/s,d.iso\",device=cdrom");
	strvec_clear(&argv);
	ystream_free(&s);
}

static void test_lists_repeat_the_option(void **state)
{
	static const char yaml[] =
		"host-device: [pci_0000_00_1f_0, pci_0000_00_1f_1]\n"
		"channel:\n"
		"  - unix\n"
		"  - {type: spicevmc, target.name: com.redhat.spice.0}\n"
		"controller: []\n"
		"network:\n"
		"  - network: default\n"
		"  - bridge: br0\n";
	static const char *const expect[] = {
		"virt-install",
		"--host-device", "pci_0000_00_1f_0",
		"--host-device", "pci_0000_00_1f_1",
		"--channel", "unix",
		"--channel", "type=spicevmc,target.name=com.redhat.spice.0",
		"--network", "network=default",
		"--network", "bridge=br0",
		TAIL
	};

	(void)state;
	assert_argv(yaml, expect);
}

static void test_qvm_key_is_skipped_wherever_it_is(void **state)
{
	static const char *const expect[] = {
		"virt-install", "--name", "a", "--memory", "512", TAIL
	};

	(void)state;
	assert_argv("name: a\nqvm: vm\nmemory: 512\n", expect);
}

static void test_seed_is_a_second_disk_never_cdrom(void **state)
{
	static const char yaml[] =
		"name: web1\ndisk: {zvol: {base: tank/x}, bus: virtio}\n";
	struct ystream s;
	struct strvec argv = STRVEC_INIT;

	(void)state;
	assert_int_equal(ystream_load(yaml, strlen(yaml), &s, errbuf,
				      sizeof(errbuf)), 0);
	assert_int_equal(vmargs_build(s.docs[0], ZVOL, SEED, &argv, errbuf,
				      sizeof(errbuf)), 0);
	for (size_t i = 0; i < argv.n; i++)
		assert_string_not_equal(argv.v[i], "--cdrom");
	assert_true(argv.n >= 4);
	/* The zvol disk first, the seed after it, both as --disk. */
	assert_string_equal(argv.v[3], "--disk");
	assert_string_equal(argv.v[4], "path=" ZVOL ",bus=virtio");
	assert_string_equal(argv.v[argv.n - 4], "--noautoconsole");
	assert_string_equal(argv.v[argv.n - 3], "--import");
	assert_string_equal(argv.v[argv.n - 2], "--disk");
	assert_string_equal(argv.v[argv.n - 1], "path=" SEED ",device=cdrom");
	assert_null(argv.v[argv.n]);
	strvec_clear(&argv);
	ystream_free(&s);
}

static void test_list_inside_suboption_is_refused(void **state)
{
	(void)state;
	assert_string_equal(build_error("boot: {order: [hd, cdrom]}\n"),
			    "key 'boot.order': a list inside a sub-option cannot be passed to virt-install");
	assert_string_equal(
		build_error("network:\n  - {model: {type: [a]}}\n"),
		"key 'network.model.type': a list inside a sub-option cannot be passed to virt-install");
}

static void test_list_of_lists_is_refused(void **state)
{
	(void)state;
	assert_string_equal(build_error("disk: [[a, b]]\n"),
			    "key 'disk': a list inside a list cannot be passed to virt-install");
}

static void test_aliases_are_refused(void **state)
{
	(void)state;
	assert_string_equal(build_error("a: &x 1\nb: *x\n"),
			    "key 'b': aliases are not allowed");
	assert_string_equal(build_error("a: &x 1\nb: [*x]\n"),
			    "key 'b': aliases are not allowed");
	assert_string_equal(build_error("a: &x 1\nb: {c: *x}\n"),
			    "key 'b.c': aliases are not allowed");
}

static void test_empty_mappings_are_refused(void **state)
{
	(void)state;
	assert_string_equal(build_error("boot: {}\n"),
			    "key 'boot': an empty mapping cannot be passed to virt-install");
	assert_string_equal(build_error("cpu: {cache: {}}\n"),
			    "key 'cpu.cache': an empty mapping cannot be passed to virt-install");
	assert_string_equal(build_error("network: [{}]\n"),
			    "key 'network': an empty mapping cannot be passed to virt-install");
}

static void test_zvol_disk_with_a_path_is_refused(void **state)
{
	(void)state;
	assert_string_equal(
		build_error("disk: {zvol: {base: tank/x}, path: /x.img}\n"),
		"key 'disk.path': the zvol disk's path is set by qvm");
}

static void test_empty_key_is_refused(void **state)
{
	(void)state;
	assert_string_equal(build_error("~: x\n"),
			    "an option name must be a non-empty string");
	assert_string_equal(build_error("\"\": x\n"),
			    "an option name must be a non-empty string");
	assert_string_equal(build_error("boot: {\"\": x}\n"),
			    "key 'boot': a sub-option name must be a non-empty string");
}

static void test_document_must_be_a_mapping(void **state)
{
	(void)state;
	assert_string_equal(build_error("- a\n"),
			    "the vm document is not a mapping");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_issue_example_two_nics),
		cmocka_unit_test(test_two_disks_one_zvol_keep_their_order),
		cmocka_unit_test(test_zvol_disk_with_nothing_else),
		cmocka_unit_test(test_scalars_pass_through_as_written),
		cmocka_unit_test(test_booleans_null_and_false),
		cmocka_unit_test(test_nested_mappings_become_dotted_names),
		cmocka_unit_test(test_suboption_values_as_written_null_bare),
		cmocka_unit_test(test_suboption_with_comma_is_quoted),
		cmocka_unit_test(test_quotes_and_backslashes_are_quoted),
		cmocka_unit_test(test_virt_install_reads_every_value_back),
		cmocka_unit_test(test_paths_with_commas_are_quoted),
		cmocka_unit_test(test_lists_repeat_the_option),
		cmocka_unit_test(test_qvm_key_is_skipped_wherever_it_is),
		cmocka_unit_test(test_seed_is_a_second_disk_never_cdrom),
		cmocka_unit_test(test_list_inside_suboption_is_refused),
		cmocka_unit_test(test_list_of_lists_is_refused),
		cmocka_unit_test(test_aliases_are_refused),
		cmocka_unit_test(test_empty_mappings_are_refused),
		cmocka_unit_test(test_zvol_disk_with_a_path_is_refused),
		cmocka_unit_test(test_empty_key_is_refused),
		cmocka_unit_test(test_document_must_be_a_mapping),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
