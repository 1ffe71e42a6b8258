/*
 * runner: real spawns of real programs, and the dry-run printer.
 * These run actual processes: a missing program, a killed one, output on
 * both streams, and the child's view of its file descriptors.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "dryrun.h"
#include "runner.h"
#include "signals.h"

#define RUN(res, ...) \
	runner_run(&runner_real, (const char *const[]){ __VA_ARGS__, NULL }, \
		   RUN_READS, (res))

static void captures_stdout_stderr_and_status(void **state)
{
	struct run_result res;
	int rc;

	(void)state;
	rc = RUN(&res, "sh", "-c", "echo out; echo err >&2; exit 3");
	assert_int_equal(rc, 3);
	assert_int_equal(res.status, 3);
	assert_string_equal(res.out, "out\n");
	assert_string_equal(res.err, "err\n");
	assert_int_equal(res.out_len, 4);
	run_result_clear(&res);
}

static void success_is_zero_with_empty_output(void **state)
{
	struct run_result res;

	(void)state;
	assert_int_equal(RUN(&res, "true"), 0);
	assert_string_equal(res.out, "");
	assert_string_equal(res.err, "");
	run_result_clear(&res);
}

static void missing_program_is_a_spawn_failure(void **state)
{
	struct run_result res;
	int rc;

	(void)state;
	rc = RUN(&res, "qvm-no-such-program-here", "x");
	assert_int_equal(rc, -1);
	assert_int_equal(res.spawn_errno, ENOENT);
	assert_string_equal(res.err,
			    "qvm-no-such-program-here: command not found");
	run_result_clear(&res);
}

static void exec_failure_in_the_child_is_a_spawn_failure(void **state)
{
	char path[] = "/tmp/qvm-test-noexec.XXXXXX";
	struct run_result res;
	int fd = mkstemp(path);

	(void)state;
	/* Executable, but not a program: execve fails with ENOEXEC after
	 * the fork, and the child must say so to the parent. */
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "\x7f" "ELF garbage", 12), 12);
	close(fd);
	chmod(path, 0700);
	assert_int_equal(RUN(&res, path), -1);
	assert_int_equal(res.spawn_errno, ENOEXEC);
	assert_non_null(strstr(res.err, "Exec format error"));
	run_result_clear(&res);
	/* Not executable at all: refused before any fork. */
	chmod(path, 0600);
	assert_int_equal(RUN(&res, path), -1);
	assert_int_equal(res.spawn_errno, EACCES);
	run_result_clear(&res);
	unlink(path);
}

static void killed_program_reports_128_plus_signal(void **state)
{
	struct run_result res;

	(void)state;
	assert_int_equal(RUN(&res, "sh", "-c", "echo partial; kill -9 $$"),
			 128 + SIGKILL);
	/* What it printed before dying is kept. */
	assert_string_equal(res.out, "partial\n");
	run_result_clear(&res);
	assert_int_equal(RUN(&res, "sh", "-c", "kill -ABRT $$"), 134);
	run_result_clear(&res);
}

static void arguments_reach_the_program_unchanged(void **state)
{
	struct run_result res;

	(void)state;
	/* No shell in between: quotes, spaces and $ stay literal. */
	RUN(&res, "printf", "%s|", "a b", "$HOME", "'q'", "");
	assert_string_equal(res.out, "a b|$HOME|'q'||");
	run_result_clear(&res);
}

static void stdin_is_dev_null(void **state)
{
	struct run_result res;

	(void)state;
	assert_int_equal(RUN(&res, "cat"), 0);
	assert_string_equal(res.out, "");
	run_result_clear(&res);
}

static void child_gets_none_of_the_runners_pipes(void **state)
{
	struct run_result res;
	int unknown = 0;
	char *p, *end;

	(void)state;
	RUN(&res, "ls", "/proc/self/fd");
	/* Every fd the child has beyond stdio must be one the test process
	 * itself has open (inherited from whoever started it), except the
	 * one ls opened to read the directory. A leaked capture pipe would
	 * be a second unknown fd: the runner has closed its pipes by now. */
	for (p = res.out; *p; p = end) {
		long fd = strtol(p, &end, 10);

		while (*end == '\n')
			end++;
		if (fd <= 2)
			continue;
		if (fcntl((int)fd, F_GETFD) < 0)
			unknown++;
	}
	assert_int_equal(unknown, 1);
	run_result_clear(&res);
}

static void too_much_output_is_an_error_never_cut_silently(void **state)
{
	struct run_result res;
	char cmd[128];

	(void)state;
	/* One byte past the cap on stdout: all read (the child finishes),
	 * memory stays bounded, and the result is an error that names the
	 * program and the cap, not a success with the output cut. */
	snprintf(cmd, sizeof(cmd), "head -c %d /dev/zero; echo fine >&2",
		 RUN_CAPTURE_MAX + 1);
	assert_int_equal(RUN(&res, "sh", "-c", cmd), RUN_OUTPUT_TOO_LONG);
	assert_int_equal(res.status, RUN_OUTPUT_TOO_LONG);
	assert_true(res.out_len <= RUN_CAPTURE_MAX);
	snprintf(cmd, sizeof(cmd), "sh: printed more than %d bytes on stdout",
		 RUN_CAPTURE_MAX);
	assert_non_null(strstr(res.err, cmd));
	run_result_clear(&res);
	/* Exactly the cap is fine, and all of it is there. */
	snprintf(cmd, sizeof(cmd), "%d", RUN_CAPTURE_MAX);
	assert_int_equal(RUN(&res, "head", "-c", cmd, "/dev/zero"), 0);
	assert_int_equal(res.out_len, RUN_CAPTURE_MAX);
	run_result_clear(&res);
	/* The same for stderr. */
	snprintf(cmd, sizeof(cmd), "head -c %d /dev/zero >&2",
		 RUN_CAPTURE_MAX + 1);
	assert_int_equal(RUN(&res, "sh", "-c", cmd), RUN_OUTPUT_TOO_LONG);
	assert_non_null(strstr(res.err, "bytes on stderr"));
	run_result_clear(&res);
}

static void child_speaks_the_c_locale_and_keeps_the_rest(void **state)
{
	struct run_result res;

	(void)state;
	/* A user's German locale must not reach a child whose messages
	 * qvm parses; everything else in the environment does. */
	setenv("LC_ALL", "de_DE.UTF-8", 1);
	setenv("LANGUAGE", "de_DE:de", 1);
	setenv("LANG", "de_DE.UTF-8", 1);
	setenv("QVM_TEST_KEEP", "kept", 1);
	assert_int_equal(RUN(&res, "sh", "-c",
			     "echo \"LC_ALL=$LC_ALL LANGUAGE=${LANGUAGE-unset}"
			     " KEEP=$QVM_TEST_KEEP\"; env | grep -c "
			     "'^LC_ALL=\\|^LANGUAGE='"), 0);
	assert_string_equal(res.out,
			    "LC_ALL=C LANGUAGE= KEEP=kept\n2\n");
	run_result_clear(&res);
	unsetenv("LC_ALL");
	unsetenv("LANGUAGE");
	unsetenv("LANG");
	unsetenv("QVM_TEST_KEEP");
	/* Set even when qvm's own environment has neither. */
	assert_int_equal(RUN(&res, "sh", "-c",
			     "echo \"$LC_ALL ${LANGUAGE-unset}.\""), 0);
	assert_string_equal(res.out, "C .\n");
	run_result_clear(&res);
}

static void interrupt_stops_the_child(void **state)
{
	struct run_result res;
	time_t start = time(NULL);

	(void)state;
	signals_set_pending(SIGTERM);
	assert_int_equal(RUN(&res, "sleep", "30"), 128 + SIGTERM);
	assert_true(time(NULL) - start < 5);
	signals_set_pending(0);
	run_result_clear(&res);
}

/* The interrupt comes once the grandchild is known to run (its pid is in
 * the file): a SIGALRM every 20 ms checks, as a Ctrl-C would come. */
static const char *grandchild_pidfile;

static void interrupt_once_started(int sig)
{
	struct stat st;

	(void)sig;
	if (stat(grandchild_pidfile, &st) == 0 && st.st_size > 0)
		signals_set_pending(SIGTERM);
}

static void interrupt_stops_the_childs_whole_process_group(void **state)
{
	struct itimerval every = { { 0, 20000 }, { 0, 20000 } }, off;
	char path[] = "/tmp/qvm-test-grandchild.XXXXXX";
	char script[256], buf[32] = "";
	struct run_result res;
	long grandchild = 0;
	int fd = mkstemp(path), alive = 1;
	FILE *f;

	(void)state;
	assert_true(fd >= 0);
	close(fd);
	/* The grandchild holds none of the runner's pipes: only a signal to
	 * the group reaches it. */
	snprintf(script, sizeof(script),
		 "sleep 60 >/dev/null 2>&1 & echo $! > %s; wait", path);
	grandchild_pidfile = path;
	signal(SIGALRM, interrupt_once_started);
	setitimer(ITIMER_REAL, &every, NULL);
	assert_int_equal(RUN(&res, "sh", "-c", script), 128 + SIGTERM);
	memset(&off, 0, sizeof(off));
	setitimer(ITIMER_REAL, &off, NULL);
	signal(SIGALRM, SIG_DFL);
	signals_set_pending(0);
	run_result_clear(&res);
	f = fopen(path, "r");
	assert_non_null(f);
	assert_non_null(fgets(buf, sizeof(buf), f));
	fclose(f);
	unlink(path);
	grandchild = strtol(buf, NULL, 10);
	assert_true(grandchild > 1);
	/* It was sent SIGTERM with its parent; give it a moment to go. */
	for (int i = 0; i < 50 && alive; i++) {
		char stat_path[64], st[512] = "";
		FILE *s;

		snprintf(stat_path, sizeof(stat_path), "/proc/%ld/stat",
			 grandchild);
		s = fopen(stat_path, "r");
		/* Gone, or a zombie waiting for init. */
		alive = s && fgets(st, sizeof(st), s) &&
			!strstr(st, ") Z ");
		if (s)
			fclose(s);
		if (alive)
			usleep(20000);
	}
	if (alive)
		kill((pid_t)grandchild, SIGKILL);
	assert_false(alive);
}

static void held_signals_let_rollback_commands_finish(void **state)
{
	struct run_result res;

	(void)state;
	signals_set_pending(SIGINT);
	signals_hold();
	assert_int_equal(RUN(&res, "sh", "-c", "sleep 0.3; echo done"), 0);
	assert_string_equal(res.out, "done\n");
	signals_set_pending(0);
	run_result_clear(&res);
}

static void last_err_line_skips_trailing_blank_lines(void **state)
{
	struct run_result res;
	char buf[64];

	(void)state;
	RUN(&res, "sh", "-c", "printf 'first\\nsecond\\n\\n' >&2; exit 1");
	assert_string_equal(run_result_last_err(&res, buf, sizeof(buf)),
			    "second");
	run_result_clear(&res);
}

/* The most a pipe may hold here without privileges (pipe-max-size). */
static long pipe_max(void)
{
	FILE *f = fopen("/proc/sys/fs/pipe-max-size", "r");
	long max = 0;

	if (f) {
		if (fscanf(f, "%ld", &max) != 1)
			max = 0;
		fclose(f);
	}
	return max;
}

/* Image data moves between a pipeline's programs and qvm through 1 MiB
 * pipes, not the 64 KiB default: a third of a zstd import's time went to
 * the wake-ups. */
static void image_pipes_hold_a_mebibyte(void **state)
{
	const char *const *argvs[2] = {
		(const char *const[]){ "cat", NULL },
		(const char *const[]){ "cat", NULL },
	};
	struct run_pipeline p;
	struct run_result res[2];
	int fds[2];

	(void)state;
	if (pipe_max() < RUN_PIPE_SIZE)
		skip();
	assert_int_equal(runner_data_pipe(fds), 0);
	assert_int_equal(fcntl(fds[0], F_GETPIPE_SZ), RUN_PIPE_SIZE);
	close(fds[0]);
	close(fds[1]);

	assert_int_equal(runner_spawn(argvs, 2, RUN_STDIN_PIPE, 0, &p, res),
			 0);
	assert_int_equal(fcntl(p.in, F_GETPIPE_SZ), RUN_PIPE_SIZE);
	assert_int_equal(fcntl(p.out, F_GETPIPE_SZ), RUN_PIPE_SIZE);
	assert_int_equal(runner_pipeline_wait(&p, res), 0);
	run_result_clear(&res[0]);
	run_result_clear(&res[1]);
}

static void dry_run_prints_changes_and_runs_reads(void **state)
{
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);
	struct dryrun d;
	const struct runner r = { dryrun_run, &d };
	struct run_result res;

	(void)state;
	dryrun_init(&d, out, &host_local);
	assert_int_equal(runner_run(&r, (const char *const[]){
		"zfs", "clone", "-o", "qvm:name=it's", "a b@base", "t/x", NULL },
		RUN_CHANGES, &res), 0);
	run_result_clear(&res);
	/* Reads run for real. */
	assert_int_equal(runner_run(&r, (const char *const[]){
		"sh", "-c", "echo real", NULL }, RUN_READS, &res), 0);
	assert_string_equal(res.out, "real\n");
	run_result_clear(&res);
	fclose(out);
	assert_string_equal(text,
		"zfs clone -o 'qvm:name=it'\\''s' 'a b@base' t/x\n");
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(captures_stdout_stderr_and_status),
		cmocka_unit_test(success_is_zero_with_empty_output),
		cmocka_unit_test(missing_program_is_a_spawn_failure),
		cmocka_unit_test(exec_failure_in_the_child_is_a_spawn_failure),
		cmocka_unit_test(killed_program_reports_128_plus_signal),
		cmocka_unit_test(arguments_reach_the_program_unchanged),
		cmocka_unit_test(stdin_is_dev_null),
		cmocka_unit_test(child_gets_none_of_the_runners_pipes),
		cmocka_unit_test(too_much_output_is_an_error_never_cut_silently),
		cmocka_unit_test(child_speaks_the_c_locale_and_keeps_the_rest),
		cmocka_unit_test(interrupt_stops_the_child),
		cmocka_unit_test(interrupt_stops_the_childs_whole_process_group),
		cmocka_unit_test(held_signals_let_rollback_commands_finish),
		cmocka_unit_test(last_err_line_skips_trailing_blank_lines),
		cmocka_unit_test(dry_run_prints_changes_and_runs_reads),
		cmocka_unit_test(image_pipes_hold_a_mebibyte),
	};

	return cmocka_run_group_tests_name("runner", tests, NULL, NULL);
}
