/*
 * wait_ready(): a VM is ready when cloud-init's final message is on its
 * console with no failure; every other ending is an error that says what
 * happened and that the VM stays. virsh is the mock runner; the console
 * log is a real file.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mock_runner.h"
#include "msg.h"
#include "signals.h"
#include "strvec.h"
#include "wait.h"

#define FINAL "[   45.7] cloud-init[901]: Cloud-init v. 22.4.2 finished at " \
	"Thu, 26 Nov 2026 01:23:45 +0000. Datasource DataSourceNoCloud.  Up " \
	"45.67 seconds\n"
#define NET "ci-info: +++++++++++Net device info++++++++++++\n" \
	"ci-info: | Device |  Up  |  Address   |     Mask      | Scope  | " \
	"    Hw-Address    |\n" \
	"ci-info: |  eth0  | True | 10.0.2.15  | 255.255.255.0 | global | " \
	"52:54:00:12:34:56 |\n"
#define TASK "waiting for VM web1"

struct fx {
	char dir[64];
	char *log;
	char *out, *err;
	size_t out_len, err_len;
	FILE *fout, *ferr;
	struct wait_target t;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	snprintf(f->dir, sizeof(f->dir), "/tmp/qvm-test-wait.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	f->log = xasprintf("%s/console.log", f->dir);
	f->fout = open_memstream(&f->out, &f->out_len);
	f->ferr = open_memstream(&f->err, &f->err_len);
	msg_set_streams(f->fout, f->ferr);
	mock_runner_reset();
	f->t = (struct wait_target){ "web1", "web1", "qemu:///system", f->log,
				     1, wait_now() };
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	msg_set_streams(NULL, NULL);
	fclose(f->fout);
	fclose(f->ferr);
	unlink(f->log);
	rmdir(f->dir);
	free(f->log);
	free(f->out);
	free(f->err);
	free(f);
	signals_set_pending(0);
	return 0;
}

static void write_log(struct fx *f, const char *text)
{
	FILE *fp = fopen(f->log, "w");

	assert_non_null(fp);
	fputs(text, fp);
	fclose(fp);
}

static void expect_state(const char *state)
{
	char *out = xasprintf("%s\n\n", state);

	expect_run(ARGV("virsh", "-c", "qemu:///system", "domstate", "web1"),
		   out, "", 0);
	free(out);
}

static int run(struct fx *f)
{
	int rc = wait_ready(&mock_host, &f->t, TASK);

	fflush(f->fout);
	fflush(f->ferr);
	mock_runner_verify();
	return rc;
}

static void test_ready_with_the_address_the_guest_printed(void **state)
{
	struct fx *f = *state;

	write_log(f, "booting\n" NET FINAL);
	assert_int_equal(run(f), 0);
	assert_string_equal(f->out, "VM web1 ready after 0 s: 10.0.2.15\n");
	assert_string_equal(f->err, "");
}

/* Nothing on the console: libvirt's leases, then its ARP table. */
static void test_address_from_domifaddr(void **state)
{
	struct fx *f = *state;

	write_log(f, FINAL);
	expect_run(ARGV("virsh", "-c", "qemu:///system", "domifaddr", "web1",
			"--source", "lease"),
		   " Name       MAC address          Protocol     Address\n"
		   "-------------------------------------------------------\n"
		   "\n", "", 0);
	expect_run(ARGV("virsh", "-c", "qemu:///system", "domifaddr", "web1",
			"--source", "arp"),
		   " Name       MAC address          Protocol     Address\n"
		   "-------------------------------------------------------\n"
		   " vnet0      52:54:00:12:34:56    ipv4         198.51.100.7/0\n"
		   "\n", "", 0);
	assert_int_equal(run(f), 0);
	assert_string_equal(f->out, "VM web1 ready after 0 s: 198.51.100.7\n");
}

static void test_no_address(void **state)
{
	struct fx *f = *state;

	write_log(f, FINAL);
	expect_run(ARGV("virsh", "-c", "qemu:///system", "domifaddr", "web1",
			"--source", "lease"), "", "error: no leases\n", 1);
	expect_run(ARGV("virsh", "-c", "qemu:///system", "domifaddr", "web1",
			"--source", "arp"), "", "", 0);
	assert_int_equal(run(f), 0);
	assert_string_equal(f->out, "VM web1 ready after 0 s: no address\n");
}

static void test_finished_with_errors(void **state)
{
	struct fx *f = *state;

	write_log(f, "2026-11-26 01:23:40,123 - util.py[WARNING]: Failed "
		  "running /var/lib/cloud/instance/scripts/runcmd [1]\n"
		  "2026-11-26 01:23:40,125 - util.py[WARNING]: Running module "
		  "scripts-user (<module 'cloudinit.config.cc_scripts_user' "
		  "from '/usr/lib/x.py'>) failed\n" FINAL);
	assert_int_equal(run(f), -1);
	assert_string_equal(f->out, "");
	assert_non_null(strstr(f->err, "Error " TASK ": cloud-init finished "
			       "with errors: Failed running /var/lib/cloud/"
			       "instance/scripts/runcmd [1]; module "
			       "scripts-user failed (the VM was created and "
			       "stays; see "));
}

static void test_domain_stopped_first(void **state)
{
	struct fx *f = *state;

	write_log(f, "[    1.0] Linux version 6.1\n[    9.0] Kernel panic\n");
	expect_state("shut off");
	assert_int_equal(run(f), -1);
	assert_non_null(strstr(f->err, "Error " TASK ": domain web1 is shut "
			       "off, and cloud-init had not finished; the VM "
			       "stays as it is; see "));
}

/* Its last words reach the log just as it powers off (the state is asked
 * after the log was read): that is a finish, not a stop. */
static void append_final(const char *const *argv, void *arg)
{
	FILE *fp = fopen(arg, "a");

	(void)argv;
	assert_non_null(fp);
	fputs(FINAL, fp);
	fclose(fp);
}

static void test_finished_then_powered_off(void **state)
{
	struct fx *f = *state;

	write_log(f, NET);
	expect_run_hook(ARGV("virsh", "-c", "qemu:///system", "domstate",
			     "web1"), "shut off\n", "", 0, append_final,
			f->log);
	assert_int_equal(run(f), 0);
	assert_string_equal(f->out, "VM web1 ready after 0 s: 10.0.2.15\n");
}

static void test_domain_gone(void **state)
{
	struct fx *f = *state;

	write_log(f, "booting\n");
	expect_run(ARGV("virsh", "-c", "qemu:///system", "domstate", "web1"),
		   "", "error: failed to get domain 'web1'\n", 1);
	assert_int_equal(run(f), -1);
	assert_non_null(strstr(f->err, "domain web1 is gone"));
}

/* With a timeout of 1 s the state is asked at the start and once more a
 * second later, when the time is up. */
static void test_timeout(void **state)
{
	struct fx *f = *state;

	write_log(f, "booting\n");
	expect_state("running");
	expect_state("running");
	assert_int_equal(run(f), -1);
	assert_non_null(strstr(f->err, "Error " TASK ": cloud-init had not "
			       "finished after 1 s (domain running); the VM "
			       "stays as it is; see "));
	assert_non_null(strstr(f->err, "qvm wait -t SECONDS web1"));
}

static void test_timeout_without_a_log(void **state)
{
	struct fx *f = *state;

	expect_state("running");
	expect_state("running");
	assert_int_equal(run(f), -1);
	assert_non_null(strstr(f->err, "the console log "));
	assert_non_null(strstr(f->err, "never appeared"));
}

static void test_interrupt_stops_the_wait_only(void **state)
{
	struct fx *f = *state;

	write_log(f, "booting\n");
	signals_set_pending(SIGINT);
	assert_int_equal(run(f), -1);
	assert_string_equal(f->err, "Error " TASK ": interrupted by signal 2: "
			    "qvm stopped waiting; VM web1 stays as it is\n");
}

static void test_timeout_option(void **state)
{
	char err[128];
	unsigned s = 0;

	(void)state;
	assert_int_equal(wait_parse_timeout("90", &s, err, sizeof(err)), 0);
	assert_int_equal(s, 90);
	assert_int_equal(wait_parse_timeout("0", &s, err, sizeof(err)), -1);
	assert_string_equal(err, "--timeout '0' is not a number of seconds "
			    "from 1 to 86400");
	assert_int_equal(wait_parse_timeout("10s", &s, err, sizeof(err)), -1);
	assert_int_equal(wait_parse_timeout("-5", &s, err, sizeof(err)), -1);
	assert_int_equal(wait_parse_timeout("", &s, err, sizeof(err)), -1);
	assert_int_equal(wait_parse_timeout("86401", &s, err, sizeof(err)),
			 -1);
	assert_int_equal(wait_parse_timeout("99999999999999999999", &s, err,
					    sizeof(err)), -1);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_ready_with_the_address_the_guest_printed),
		T(test_address_from_domifaddr),
		T(test_no_address),
		T(test_finished_with_errors),
		T(test_domain_stopped_first),
		T(test_finished_then_powered_off),
		T(test_domain_gone),
		T(test_timeout),
		T(test_timeout_without_a_log),
		T(test_interrupt_stops_the_wait_only),
		cmocka_unit_test(test_timeout_option),
	};
#undef T

	return cmocka_run_group_tests(tests, NULL, NULL);
}
