/*
 * console: cloud-init's words on a serial console become "finished",
 * "what failed" and "the guest's addresses", from lines as a real console
 * log has them (kernel and systemd prefixes, carriage returns, other
 * writers in between), and from a log file read while it grows.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "console.h"

static const char *const net_table[] = {
	"[   18.964715] cloud-init[777]: ci-info: ++++++++++++++++++++++++++++++++++++++Net device info+++++++++++++++++++++++++++++++++++++++",
	"[   18.967966] cloud-init[777]: ci-info: +--------+------+------------------------------+---------------+--------+-------------------+",
	"[   18.971163] cloud-init[777]: ci-info: | Device |  Up  |           Address            |      Mask     | Scope  |     Hw-Address    |",
	"[   18.986864] cloud-init[777]: ci-info: +--------+------+------------------------------+---------------+--------+-------------------+",
	"[   18.990062] cloud-init[777]: ci-info: |  eth0  | True |          10.0.2.15           | 255.255.255.0 | global | 52:54:00:12:34:56 |",
	"[   18.990100] cloud-init[777]: ci-info: |  eth0  | True |  fec0::5054:ff:fe12:3456/64  |       .       | global | 52:54:00:12:34:56 |",
	"[   18.990200] cloud-init[777]: ci-info: |  eth0  | True | fe80::5054:ff:fe12:3456/64   |       .       |  link  | 52:54:00:12:34:56 |",
	"[   18.990300] cloud-init[777]: ci-info: |   lo   | True |          127.0.0.1           |   255.0.0.0   |  host  |         .         |",
	"[   18.990400] cloud-init[777]: ci-info: |   lo   | True |           ::1/128            |       .       |  host  |         .         |",
	"[   18.990500] cloud-init[777]: ci-info: +--------+------+------------------------------+---------------+--------+-------------------+",
	"[   18.990600] cloud-init[777]: ci-info: ++++++++++++++++++++++++++++Route IPv4 info+++++++++++++++++++++++++++++",
	"[   18.990700] cloud-init[777]: ci-info: +-------+-------------+----------+---------------+-----------+-------+",
	"[   18.990800] cloud-init[777]: ci-info: | Route | Destination | Gateway  |    Genmask    | Interface | Flags |",
	"[   18.990900] cloud-init[777]: ci-info: |   0   |   0.0.0.0   | 10.0.2.2 |    0.0.0.0    |    eth0   |   UG  |",
	NULL,
};

static const char *final_line =
	"[   45.701234] cloud-init[901]: Cloud-init v. 22.4.2 finished at "
	"Thu, 26 Nov 2026 01:23:45 +0000. Datasource DataSourceNoCloud "
	"[seed=/dev/sr0][dsmode=net].  Up 45.67 seconds";

static void feed_all(struct console_status *st, const char *const *lines)
{
	for (size_t i = 0; lines[i]; i++)
		console_line(st, lines[i]);
}

static void test_finished_without_errors(void **state)
{
	struct console_status st = CONSOLE_STATUS_INIT;

	(void)state;
	console_line(&st, "[    0.000000] Linux version 6.1.0-28-amd64");
	console_line(&st, "[   12.1] cloud-init[482]: Cloud-init v. 22.4.2 "
		     "running 'init-local' at Thu, 26 Nov 2026 01:23:05 "
		     "+0000. Up 12.10 seconds.");
	assert_false(st.finished);
	console_line(&st, final_line);
	assert_true(st.finished);
	assert_true(st.up > 45.66 && st.up < 45.68);
	assert_int_equal(st.failures.n, 0);
	assert_int_equal(st.n_failures, 0);
	console_status_clear(&st);
}

static void test_addresses_from_the_net_device_table(void **state)
{
	struct console_status st = CONSOLE_STATUS_INIT;

	(void)state;
	feed_all(&st, net_table);
	/* Loopback, link and host scope are left out; the Route table's
	 * addresses are not the guest's. */
	assert_int_equal(st.addresses.n, 2);
	assert_string_equal(st.addresses.v[0], "10.0.2.15");
	assert_string_equal(st.addresses.v[1], "fec0::5054:ff:fe12:3456");
	/* Printed again (a second boot stage): no repeats. */
	feed_all(&st, net_table);
	assert_int_equal(st.addresses.n, 2);
	console_status_clear(&st);
}

/* Older cloud-init has no Scope column: the header says where things are. */
static void test_table_without_scope_column(void **state)
{
	struct console_status st = CONSOLE_STATUS_INIT;
	static const char *const old[] = {
		"ci-info: ++++++++++++++++++++++++++Net device info+++++++++++++++++++++++++++",
		"ci-info: +--------+------+--------------+---------------+-------------------+",
		"ci-info: | Device |  Up  |   Address    |      Mask     |     Hw-Address    |",
		"ci-info: +--------+------+--------------+---------------+-------------------+",
		"ci-info: |   lo   | True |  127.0.0.1   |   255.0.0.0   |         .         |",
		"ci-info: |  eth0  | True | 192.0.2.10   | 255.255.255.0 | 52:54:00:aa:bb:cc |",
		"ci-info: |  eth1  | False|      .       |       .       | 52:54:00:aa:bb:cd |",
		NULL,
	};

	(void)state;
	feed_all(&st, old);
	assert_int_equal(st.addresses.n, 1);
	assert_string_equal(st.addresses.v[0], "192.0.2.10");
	console_status_clear(&st);
}

static void test_failures_in_cloud_inits_words(void **state)
{
	struct console_status st = CONSOLE_STATUS_INIT;

	(void)state;
	console_line(&st, "[   40.1] cloud-init[901]: 2026-11-26 01:23:40,"
		     "123 - util.py[WARNING]: Failed running /var/lib/cloud/"
		     "instance/scripts/runcmd [1]");
	console_line(&st, "[   40.2] cloud-init[901]: 2026-11-26 01:23:40,"
		     "124 - cc_scripts_user.py[WARNING]: Failed to run module "
		     "scripts-user (scripts in /var/lib/cloud/instance/"
		     "scripts)");
	console_line(&st, "[   40.3] cloud-init[901]: 2026-11-26 01:23:40,"
		     "125 - util.py[WARNING]: Running module scripts-user "
		     "(<module 'cloudinit.config.cc_scripts_user' from '/usr/"
		     "lib/python3/dist-packages/cloudinit/config/"
		     "cc_scripts_user.py'>) failed");
	/* A warning that is not a failure, and another program's ERROR. */
	console_line(&st, "2026-11-26 01:23:41,000 - cc_set_passwords.py"
		     "[WARNING]: Ignoring ssh_pwauth: unchanged");
	console_line(&st, "[   41.0] systemd[1]: ERROR: something else");
	console_line(&st, "2026-11-26 01:23:42,000 - stages.py[ERROR]: "
		     "Unable to render networking.");
	console_line(&st, final_line);

	assert_true(st.finished);
	assert_int_equal(st.failures.n, 4);
	assert_int_equal(st.n_failures, 4);
	assert_string_equal(st.failures.v[0], "Failed running /var/lib/cloud/"
			    "instance/scripts/runcmd [1]");
	assert_string_equal(st.failures.v[1], "Failed to run module scripts-"
			    "user (scripts in /var/lib/cloud/instance/"
			    "scripts)");
	assert_string_equal(st.failures.v[2], "module scripts-user failed");
	assert_string_equal(st.failures.v[3], "Unable to render networking.");
	console_status_clear(&st);
}

static void test_failures_are_bounded(void **state)
{
	struct console_status st = CONSOLE_STATUS_INIT;
	char line[128];

	(void)state;
	for (int i = 0; i < 3 * CONSOLE_KEEP_MAX; i++) {
		snprintf(line, sizeof(line), "x.py[ERROR]: failure %d", i);
		console_line(&st, line);
	}
	assert_int_equal(st.failures.n, CONSOLE_KEEP_MAX);
	assert_int_equal(st.n_failures, 3 * CONSOLE_KEEP_MAX);
	assert_string_equal(st.failures.v[0], "failure 0");
	console_status_clear(&st);
}

/* ---- console_read: a file that grows ---- */

struct logfile {
	char path[256];
	int fd;
};

static int setup(void **state)
{
	struct logfile *l = calloc(1, sizeof(*l));
	const char *tmp = getenv("TMPDIR");

	if (!l)
		return -1;
	snprintf(l->path, sizeof(l->path), "%s/qvm-console-XXXXXX",
		 tmp && *tmp ? tmp : "/tmp");
	l->fd = mkstemp(l->path);
	if (l->fd < 0) {
		free(l);
		return -1;
	}
	*state = l;
	return 0;
}

static int teardown(void **state)
{
	struct logfile *l = *state;

	close(l->fd);
	unlink(l->path);
	free(l);
	return 0;
}

static void append(struct logfile *l, const char *s)
{
	assert_int_equal(write(l->fd, s, strlen(s)), (ssize_t)strlen(s));
}

static void test_read_as_the_log_grows(void **state)
{
	struct logfile *l = *state;
	struct console_reader cr = CONSOLE_READER_INIT;
	struct console_status st = CONSOLE_STATUS_INIT;
	char err[256];

	append(l, "booting\r\n[   45.7] cloud-init[901]: Cloud-init v. 22.4.2 "
	       "finished at Thu, 26 Nov 2026");
	assert_int_equal(console_read(&cr, &host_local, l->path, &st, err, sizeof(err)), 0);
	assert_false(st.finished);	/* the line is not complete yet */
	append(l, " 01:23:45 +0000. Datasource DataSourceNoCloud.  Up 45.67 "
	       "seconds\r\n");
	assert_int_equal(console_read(&cr, &host_local, l->path, &st, err, sizeof(err)), 0);
	assert_true(st.finished);
	/* Nothing new: nothing changes. */
	assert_int_equal(console_read(&cr, &host_local, l->path, &st, err, sizeof(err)), 0);
	assert_true(st.finished);
	console_status_clear(&st);
}

/* A line longer than the buffer is passed over whole: its tail is not
 * taken for a line of its own. */
static void test_overlong_line_is_passed_over(void **state)
{
	struct logfile *l = *state;
	struct console_reader cr = CONSOLE_READER_INIT;
	struct console_status st = CONSOLE_STATUS_INIT;
	char err[256];
	char *big = malloc(3 * CONSOLE_LINE_MAX + 1);

	assert_non_null(big);
	memset(big, 'x', 3 * CONSOLE_LINE_MAX);
	big[3 * CONSOLE_LINE_MAX] = '\0';
	append(l, big);
	append(l, "x.py[ERROR]: hidden at the end of a long line\n");
	append(l, "y.py[ERROR]: seen\n");
	free(big);
	assert_int_equal(console_read(&cr, &host_local, l->path, &st, err, sizeof(err)), 0);
	assert_int_equal(st.failures.n, 1);
	assert_string_equal(st.failures.v[0], "seen");
	console_status_clear(&st);
}

/* A log that became shorter is a new log: what the old one said is gone. */
static void test_new_log_starts_over(void **state)
{
	struct logfile *l = *state;
	struct console_reader cr = CONSOLE_READER_INIT;
	struct console_status st = CONSOLE_STATUS_INIT;
	char err[256];

	append(l, "a.py[ERROR]: first boot failed somewhere long ago\n");
	assert_int_equal(console_read(&cr, &host_local, l->path, &st, err, sizeof(err)), 0);
	assert_int_equal(st.failures.n, 1);
	assert_int_equal(ftruncate(l->fd, 0), 0);
	assert_int_equal(lseek(l->fd, 0, SEEK_SET), 0);
	append(l, "ok\n");
	assert_int_equal(console_read(&cr, &host_local, l->path, &st, err, sizeof(err)), 0);
	assert_int_equal(st.failures.n, 0);
	console_status_clear(&st);
}

static void test_missing_log(void **state)
{
	struct console_reader cr = CONSOLE_READER_INIT;
	struct console_status st = CONSOLE_STATUS_INIT;
	char err[256];

	(void)state;
	assert_int_equal(console_read(&cr, &host_local, "/nonexistent/console.log", &st,
				      err, sizeof(err)), -1);
	assert_int_equal(errno, ENOENT);
	assert_string_equal(err, "/nonexistent/console.log: No such file or "
			    "directory");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_finished_without_errors),
		cmocka_unit_test(test_addresses_from_the_net_device_table),
		cmocka_unit_test(test_table_without_scope_column),
		cmocka_unit_test(test_failures_in_cloud_inits_words),
		cmocka_unit_test(test_failures_are_bounded),
		cmocka_unit_test_setup_teardown(test_read_as_the_log_grows,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_overlong_line_is_passed_over, setup, teardown),
		cmocka_unit_test_setup_teardown(test_new_log_starts_over,
						setup, teardown),
		cmocka_unit_test(test_missing_log),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
