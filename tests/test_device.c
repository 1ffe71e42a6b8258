/*
 * device: where a zvol's device is, how long qvm waits for udev to make
 * it, and how that wait ends.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "device.h"
#include "host.h"
#include "msg.h"
#include "signals.h"

struct zvols {
	char dir[256];
	char pool[300];		/* DIR/tank: created by some tests */
	char vol[320];		/* DIR/tank/vm0 */
};

static int setup(void **state)
{
	struct zvols *z = calloc(1, sizeof(*z));
	const char *tmp = getenv("TMPDIR");

	if (!z)
		return -1;
	snprintf(z->dir, sizeof(z->dir), "%s/qvm-device-XXXXXX",
		 tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(z->dir)) {
		free(z);
		return -1;
	}
	snprintf(z->pool, sizeof(z->pool), "%s/tank", z->dir);
	snprintf(z->vol, sizeof(z->vol), "%s/vm0", z->pool);
	*state = z;
	return 0;
}

static int teardown(void **state)
{
	struct zvols *z = *state;

	unlink(z->vol);
	rmdir(z->vol);
	rmdir(z->pool);
	rmdir(z->dir);
	free(z);
	unsetenv("QVM_ZVOL_DIR");
	unsetenv("QVM_DEVICE_TIMEOUT");
	signals_set_pending(0);
	return 0;
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static void create_file(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);

	assert_true(fd >= 0);
	close(fd);
}

static void test_path_defaults_to_dev_zvol(void **state)
{
	char *path;

	(void)state;
	unsetenv("QVM_ZVOL_DIR");
	assert_string_equal(device_zvol_dir(), "/dev/zvol");
	path = device_path("tank/vms/web1");
	assert_string_equal(path, "/dev/zvol/tank/vms/web1");
	free(path);

	/* Set but empty is the same as unset. */
	setenv("QVM_ZVOL_DIR", "", 1);
	assert_string_equal(device_zvol_dir(), "/dev/zvol");
}

static void test_path_under_qvm_zvol_dir(void **state)
{
	char *path;

	(void)state;
	setenv("QVM_ZVOL_DIR", "/tmp/fake-zvol", 1);
	assert_string_equal(device_zvol_dir(), "/tmp/fake-zvol");
	path = device_path("tank/vm0");
	assert_string_equal(path, "/tmp/fake-zvol/tank/vm0");
	free(path);

	/* A trailing slash does not double in messages. */
	setenv("QVM_ZVOL_DIR", "/tmp/fake-zvol//", 1);
	path = device_path("tank/vm0");
	assert_string_equal(path, "/tmp/fake-zvol/tank/vm0");
	free(path);
}

static void set_timeout(const char *value)
{
	if (value)
		setenv("QVM_DEVICE_TIMEOUT", value, 1);
	else
		unsetenv("QVM_DEVICE_TIMEOUT");
}

static void expect_timeout(const char *value, unsigned ms)
{
	char errbuf[256] = "";
	unsigned got = 0;
	int rc;

	set_timeout(value);
	rc = device_timeout_ms(&got, errbuf, sizeof(errbuf));
	if (rc != 0 || got != ms)
		fail_msg("QVM_DEVICE_TIMEOUT=%s: %d, %u ms (%s), expected %u ms",
			 value ? value : "(unset)", rc, got, errbuf, ms);
}

/* An invalid value is an error naming the variable, never a silent
 * default. */
static void expect_refused(const char *value, const char *why)
{
	char errbuf[256] = "";
	char want[200];
	unsigned got = 0;

	set_timeout(value);
	if (device_timeout_ms(&got, errbuf, sizeof(errbuf)) != -1)
		fail_msg("QVM_DEVICE_TIMEOUT='%s' was taken as %u ms", value,
			 got);
	snprintf(want, sizeof(want), "QVM_DEVICE_TIMEOUT is '%s'", value);
	if (strncmp(errbuf, want, strlen(want)) != 0 || !strstr(errbuf, why))
		fail_msg("QVM_DEVICE_TIMEOUT='%s': message '%s'", value,
			 errbuf);
}

static void test_timeout_from_environment(void **state)
{
	(void)state;
	expect_timeout(NULL, 30000);
	/* Set but empty is the same as unset, as for QVM_ZVOL_DIR. */
	expect_timeout("", 30000);
	expect_timeout("2", 2000);
	expect_timeout("0.5", 500);
	expect_timeout("1.25", 1250);
	expect_timeout(".5", 500);
	expect_timeout("10.", 10000);
	expect_timeout("007", 7000);
	/* Tiny but positive: still a wait, not "no wait". */
	expect_timeout("0.0001", 1);
	expect_timeout("3600", 3600000);
}

static void test_invalid_timeout_is_refused(void **state)
{
	static const char *const invalid[] = {
		"0", "0.0", "-1", "abc", "2s", "10x", " 2", "2 ", "1e3", "inf",
		"nan", "0x10", ".", "1.2.3", "+3",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(invalid) / sizeof(invalid[0]); i++)
		expect_refused(invalid[i], "not a number of seconds");
	expect_refused("3600.001", "more than the limit of 3600 seconds");
	expect_refused("99999999999", "more than the limit of 3600 seconds");
	expect_refused("184467440737095516160000",
		       "more than the limit of 3600 seconds");
	/* A control character in the value cannot forge a line. */
	{
		char errbuf[256];
		unsigned ms;

		set_timeout("1\n2");
		assert_int_equal(device_timeout_ms(&ms, errbuf,
						   sizeof(errbuf)), -1);
		assert_non_null(strstr(errbuf, "QVM_DEVICE_TIMEOUT is '1\\n2', "
				       "not a number of seconds"));
		assert_int_equal(ms, DEVICE_TIMEOUT_DEFAULT * 1000);
	}
}

/* device_await() refuses it too, before waiting at all. */
static void test_invalid_timeout_ends_the_await(void **state)
{
	struct zvols *z = *state;
	char *err = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&err, &len);

	assert_non_null(f);
	msg_set_streams(stdout, f);
	set_timeout("abc");
	assert_int_equal(mkdir(z->pool, 0700), 0);
	create_file(z->vol);
	assert_int_equal(device_await(&host_local, "waiting", z->vol), -1);
	assert_int_equal(device_timeout_check("checking"), -1);
	fclose(f);
	msg_set_streams(stdout, stderr);
	assert_string_equal(err,
		"Error waiting: QVM_DEVICE_TIMEOUT is 'abc', not a number of "
		"seconds (use a positive number up to 3600, e.g. 30 or 2.5)\n"
		"Error checking: QVM_DEVICE_TIMEOUT is 'abc', not a number of "
		"seconds (use a positive number up to 3600, e.g. 30 or 2.5)\n");
	free(err);
	set_timeout("2");
	assert_int_equal(device_timeout_check("checking"), 0);
}

static void test_existing_device_is_found_at_once(void **state)
{
	struct zvols *z = *state;
	long long start;

	assert_int_equal(mkdir(z->pool, 0700), 0);
	create_file(z->vol);
	start = now_ms();
	assert_int_equal(device_wait(z->vol, 5000), 0);
	assert_true(now_ms() - start < 50);
}

/* udev makes the pool's directory and the device a little after
 * "zfs create" returns. */
static void test_device_appearing_later_is_waited_for(void **state)
{
	struct zvols *z = *state;
	long long start, took;
	pid_t pid;
	int status;

	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int fd;

		sleep_ms(300);
		if (mkdir(z->pool, 0700) < 0)
			_exit(1);
		fd = open(z->vol, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
		_exit(fd < 0 ? 2 : 0);
	}
	start = now_ms();
	assert_int_equal(device_wait(z->vol, 5000), 0);
	took = now_ms() - start;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	/* Found within a poll interval of appearing. */
	assert_true(took >= 250);
	assert_true(took < 300 + 250 + 200);
}

static void test_missing_device_times_out(void **state)
{
	struct zvols *z = *state;
	long long start, took;

	start = now_ms();
	assert_int_equal(device_wait(z->vol, 200), -1);
	assert_int_equal(errno, ETIMEDOUT);
	took = now_ms() - start;
	assert_true(took >= 195);
	assert_true(took < 400);
}

static void test_directory_is_not_a_device(void **state)
{
	struct zvols *z = *state;

	assert_int_equal(mkdir(z->pool, 0700), 0);
	assert_int_equal(mkdir(z->vol, 0700), 0);
	assert_int_equal(device_wait(z->vol, 5000), -1);
	assert_int_equal(errno, ENODEV);
}

static void test_pending_signal_ends_the_wait(void **state)
{
	struct zvols *z = *state;
	long long start;

	signals_set_pending(SIGTERM);
	start = now_ms();
	assert_int_equal(device_wait(z->vol, 5000), -1);
	assert_int_equal(errno, EINTR);
	assert_true(now_ms() - start < 50);
}

/* Ctrl-C while waiting: the handler records it, the sleep is cut short
 * and the wait ends without waiting out its timeout. */
static void test_signal_during_the_wait_ends_it(void **state)
{
	struct zvols *z = *state;
	long long start, took;
	pid_t pid;
	int status;

	signals_install();
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		sleep_ms(150);
		kill(getppid(), SIGINT);
		_exit(0);
	}
	start = now_ms();
	assert_int_equal(device_wait(z->vol, 10000), -1);
	assert_int_equal(errno, EINTR);
	took = now_ms() - start;
	assert_int_equal(signals_pending(), SIGINT);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(took >= 100);
	assert_true(took < 1000);
	signal(SIGINT, SIG_DFL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(test_path_defaults_to_dev_zvol),
		T(test_path_under_qvm_zvol_dir),
		T(test_timeout_from_environment),
		T(test_invalid_timeout_is_refused),
		T(test_invalid_timeout_ends_the_await),
		T(test_existing_device_is_found_at_once),
		T(test_device_appearing_later_is_waited_for),
		T(test_missing_device_times_out),
		T(test_directory_is_not_a_device),
		T(test_pending_signal_ends_the_wait),
		T(test_signal_during_the_wait_ends_it),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
