/*
 * ssh_exec: the executor that runs qvm's commands on another host,
 * started here with python3 (as it is there, over ssh) and driven through
 * its pipes. Real processes: output on both streams and over the limit,
 * statuses and signals, standard input, the C locale, its own process
 * group, a Ctrl-C, the executor killed, its standard input closed.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "signals.h"
#include "ssh_exec.h"

extern char **environ;

static char tmpdir[] = "/tmp/qvm-test-exec-XXXXXX";

/* The second round: as on a python older than 3.8 (fork and exec). */
static int without_posix_spawn;

static void start(struct ssh_exec *x, size_t limit)
{
	struct strvec argv = STRVEC_INIT;
	posix_spawn_file_actions_t fa;
	char *const *child_argv;
	const char *const *v;
	int in[2], out[2];

	assert_int_equal(pipe2(in, O_CLOEXEC), 0);
	assert_int_equal(pipe2(out, O_CLOEXEC), 0);
	ssh_exec_argv(&argv, limit);
	if (without_posix_spawn) {
		char *prog = xasprintf("import os\ndel os.posix_spawnp\n%s",
				       argv.v[4]);

		free(argv.v[4]);
		argv.v[4] = prog;
	}
	v = strvec_argv(&argv);
	memcpy(&child_argv, &v, sizeof(child_argv));
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, in[0], 0);
	posix_spawn_file_actions_adddup2(&fa, out[1], 1);
	assert_int_equal(posix_spawnp(&x->pid, "python3", &fa, NULL,
				      child_argv, environ), 0);
	posix_spawn_file_actions_destroy(&fa);
	strvec_clear(&argv);
	close(in[0]);
	close(out[1]);
	x->to = in[1];
	x->from = out[0];
	x->limit = limit;
	assert_int_equal(ssh_exec_ping(x, 10000), 0);
}

/* Ends it as host_ssh does (its standard input closed): it exits 0. */
static void stop(struct ssh_exec *x)
{
	int status;

	close(x->to);
	close(x->from);
	assert_int_equal(waitpid(x->pid, &status, 0), x->pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

static int run(struct ssh_exec *x, struct run_result *res,
	       enum run_effect effect, const char *script)
{
	return ssh_exec_run(x, (const char *const[]){ "sh", "-c", script,
						      NULL }, effect, -1, res);
}

static void large_output_on_both_streams_and_a_status(void **state)
{
	struct ssh_exec x;
	struct run_result res;

	(void)state;
	start(&x, RUN_CAPTURE_MAX);
	assert_int_equal(run(&x, &res, RUN_READS,
			     "head -c 3000000 /dev/zero | tr '\\0' a; "
			     "head -c 200000 /dev/zero | tr '\\0' b >&2; "
			     "echo; echo the last words >&2; exit 3"), 3);
	assert_int_equal(res.status, 3);
	assert_int_equal(res.out_len, 3000001);
	assert_int_equal(res.err_len, 200000 + 15);
	assert_int_equal(strspn(res.out, "a"), 3000000);
	assert_int_equal(strspn(res.err, "b"), 200000);
	assert_string_equal(res.err + 200000, "the last words\n");
	run_result_clear(&res);
	/* The next one, through the same executor. */
	assert_int_equal(run(&x, &res, RUN_READS, "echo again"), 0);
	assert_string_equal(res.out, "again\n");
	assert_string_equal(res.err, "");
	run_result_clear(&res);
	stop(&x);
}

static void a_signal_is_128_plus_n(void **state)
{
	struct ssh_exec x;
	struct run_result res;

	(void)state;
	start(&x, RUN_CAPTURE_MAX);
	assert_int_equal(run(&x, &res, RUN_READS, "echo before; kill -KILL $$"),
			 128 + SIGKILL);
	assert_string_equal(res.out, "before\n");
	run_result_clear(&res);
	/* Its signal dispositions are the defaults (python ignores SIGPIPE). */
	assert_int_equal(run(&x, &res, RUN_READS, "kill -PIPE $$; echo alive"),
			 128 + SIGPIPE);
	run_result_clear(&res);
	stop(&x);
}

static void a_missing_program_is_a_spawn_failure(void **state)
{
	struct ssh_exec x;
	struct run_result res;

	(void)state;
	start(&x, RUN_CAPTURE_MAX);
	assert_int_equal(ssh_exec_run(&x, (const char *const[]){
					"qvm-no-such-program", "-x", NULL },
				      RUN_READS, -1, &res), RUN_SPAWN_FAILED);
	assert_int_equal(res.spawn_errno, ENOENT);
	assert_string_equal(res.err, "qvm-no-such-program: command not found");
	assert_string_equal(res.out, "");
	run_result_clear(&res);
	stop(&x);
}

static void output_over_the_limit_is_an_error(void **state)
{
	struct ssh_exec x;
	struct run_result res;

	(void)state;
	start(&x, 1000);
	assert_int_equal(run(&x, &res, RUN_READS, "head -c 1000 /dev/zero"), 0);
	assert_int_equal(res.out_len, 1000);
	run_result_clear(&res);
	assert_int_equal(run(&x, &res, RUN_READS,
			     "head -c 5000 /dev/zero; touch /dev/null"),
			 RUN_OUTPUT_TOO_LONG);
	assert_string_equal(res.err, "sh: printed more than 1000 bytes on "
			    "stdout (qvm's limit); its output was not used");
	run_result_clear(&res);
	assert_int_equal(run(&x, &res, RUN_READS,
			     "head -c 1001 /dev/zero >&2; exit 0"),
			 RUN_OUTPUT_TOO_LONG);
	assert_non_null(strstr(res.err, "on stderr"));
	run_result_clear(&res);
	stop(&x);
}

static void standard_input_bytes(void **state)
{
	struct ssh_exec x;
	struct run_result res;
	size_t len = 3 << 20;
	char *data = malloc(len);
	int fd = memfd_create("input", MFD_CLOEXEC);

	(void)state;
	for (size_t i = 0; i < len; i++)
		data[i] = (char)('a' + i % 26);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	assert_int_equal(lseek(fd, 7, SEEK_SET), 7);
	start(&x, RUN_CAPTURE_MAX);
	/* cat echoes it all while the executor is still writing it. */
	assert_int_equal(ssh_exec_run(&x, (const char *const[]){ "cat", NULL },
				      RUN_CHANGES, fd, &res), 0);
	assert_int_equal(res.out_len, len - 7);
	assert_memory_equal(res.out, data + 7, len - 7);
	run_result_clear(&res);
	/* Without input: /dev/null. */
	assert_int_equal(ssh_exec_run(&x, (const char *const[]){ "wc", "-c",
								 NULL },
				      RUN_READS, -1, &res), 0);
	assert_string_equal(res.out, "0\n");
	run_result_clear(&res);
	stop(&x);
	close(fd);
	free(data);
}

static void the_c_locale_and_a_process_group_of_its_own(void **state)
{
	struct ssh_exec x;
	struct run_result res;
	char want[64];

	(void)state;
	setenv("LC_ALL", "de_DE.UTF-8", 1);
	setenv("LANGUAGE", "de", 1);
	start(&x, RUN_CAPTURE_MAX);
	unsetenv("LC_ALL");
	unsetenv("LANGUAGE");
	assert_int_equal(run(&x, &res, RUN_READS,
			     "echo \"$LC_ALL|$LANGUAGE|${LANGUAGE+set}\""), 0);
	assert_string_equal(res.out, "C||set\n");
	run_result_clear(&res);
	assert_int_equal(run(&x, &res, RUN_READS,
			     "echo $$; cut -d' ' -f5 /proc/$$/stat"), 0);
	snprintf(want, sizeof(want), "%.*s", (int)strcspn(res.out, "\n"),
		 res.out);
	assert_string_equal(strchr(res.out, '\n') + 1,
			    strcat(want, "\n"));
	run_result_clear(&res);
	stop(&x);
}

/* Something else than the executor, speaking on its pipes. */
static void start_other(struct ssh_exec *x, const char *script)
{
	posix_spawn_file_actions_t fa;
	const char *const args[] = { "python3", "-c", script, NULL };
	const char *const *v = args;
	char *const *argv;
	int in[2], out[2];

	memcpy(&argv, &v, sizeof(argv));

	assert_int_equal(pipe2(in, O_CLOEXEC), 0);
	assert_int_equal(pipe2(out, O_CLOEXEC), 0);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, in[0], 0);
	posix_spawn_file_actions_adddup2(&fa, out[1], 1);
	assert_int_equal(posix_spawnp(&x->pid, "python3", &fa, NULL, argv,
				      environ), 0);
	posix_spawn_file_actions_destroy(&fa);
	close(in[0]);
	close(out[1]);
	x->to = in[1];
	x->from = out[0];
	x->limit = RUN_CAPTURE_MAX;
}

static void end_other(struct ssh_exec *x)
{
	close(x->to);
	close(x->from);
	kill(x->pid, SIGKILL);
	waitpid(x->pid, NULL, 0);
}

/* A login script that prints first: not the executor's answer. */
static void a_first_word_not_its_answer_is_eproto(void **state)
{
	struct ssh_exec x;

	(void)state;
	start_other(&x, "import os,time;os.write(1,b'Welcome\\n');"
		    "time.sleep(30)");
	assert_int_equal(ssh_exec_ping(&x, 10000), -1);
	assert_int_equal(errno, EPROTO);
	end_other(&x);
	/* And one that says nothing: a timeout, not a hang. */
	start_other(&x, "import time;time.sleep(30)");
	assert_int_equal(ssh_exec_ping(&x, 300), -1);
	assert_int_equal(errno, ETIMEDOUT);
	end_other(&x);
}

/* An answer that is not qvm's protocol ends the executor's use. */
static void an_answer_not_of_the_protocol_is_lost(void **state)
{
	struct ssh_exec x;
	struct run_result res;

	(void)state;
	start_other(&x, "import os,time;os.read(0,1);os.write(1,b'P');"
		    "os.read(0,65536);os.write(1,b'Y'*40);time.sleep(30)");
	assert_int_equal(ssh_exec_ping(&x, 10000), 0);
	assert_int_equal(run(&x, &res, RUN_READS, "true"), SSH_EXEC_LOST);
	assert_string_equal(res.err, "it answered what is not qvm's protocol");
	run_result_clear(&res);
	end_other(&x);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void an_interrupt_stops_the_command_there(void **state)
{
	struct ssh_exec x;
	struct run_result res;
	double t0;

	(void)state;
	start(&x, RUN_CAPTURE_MAX);
	signals_set_pending(SIGINT);
	t0 = now_s();
	/* Its process group: the sleep in the background too (the pipes
	 * close only when both are gone). */
	assert_int_equal(run(&x, &res, RUN_CHANGES, "sleep 30 & sleep 30"),
			 128 + SIGTERM);
	assert_true(now_s() - t0 < 10);
	run_result_clear(&res);
	/* A commit runs to its end. */
	assert_int_equal(run(&x, &res, RUN_COMMITS, "sleep 0.3; echo done"), 0);
	assert_string_equal(res.out, "done\n");
	run_result_clear(&res);
	signals_set_pending(0);
	/* A stop asked for when nothing runs is no request. */
	assert_int_equal(write(x.to, "K", 1), 1);
	assert_int_equal(run(&x, &res, RUN_READS, "echo fine"), 0);
	assert_string_equal(res.out, "fine\n");
	run_result_clear(&res);
	stop(&x);
}

static void the_executor_killed_is_lost(void **state)
{
	struct ssh_exec x;
	struct run_result res;

	(void)state;
	start(&x, RUN_CAPTURE_MAX);
	kill(x.pid, SIGKILL);
	waitpid(x.pid, NULL, 0);
	assert_int_equal(run(&x, &res, RUN_READS, "echo never"), SSH_EXEC_LOST);
	assert_int_equal(res.status, SSH_EXEC_LOST);
	assert_string_equal(res.err, "it ended");
	run_result_clear(&res);
	close(x.to);
	close(x.from);
}

/* A request written by hand (the protocol of ssh_exec.h), then the
 * executor's standard input closed while it runs: the command's process
 * group is stopped, and the executor exits. */
static void its_input_closed_stops_the_command(void **state)
{
	struct ssh_exec x;
	char script[512], pidfile[64], buf[32] = "";
	unsigned char req[512];
	size_t n = 0;
	const char *argv[3] = { "sh", "-c", script };
	FILE *f;
	int status, pid = 0;
	double t0;

	(void)state;
	snprintf(pidfile, sizeof(pidfile), "%s/pid", tmpdir);
	snprintf(script, sizeof(script), "sleep 30 & echo $! > %s.tmp; "
		 "mv %s.tmp %s; wait", pidfile, pidfile, pidfile);
	start(&x, RUN_CAPTURE_MAX);
	req[n++] = 'R';
	req[n++] = 0, req[n++] = 0, req[n++] = 0, req[n++] = 3;
	for (int i = 0; i < 3; i++) {
		size_t len = strlen(argv[i]);

		req[n++] = 0, req[n++] = 0, req[n++] = 0;
		req[n++] = (unsigned char)len;
		memcpy(req + n, argv[i], len);
		n += len;
	}
	req[n++] = '0';
	assert_int_equal(write(x.to, req, n), (ssize_t)n);
	for (int i = 0; i < 100 && !(f = fopen(pidfile, "r")); i++)
		usleep(50000);
	assert_non_null(f);
	assert_non_null(fgets(buf, sizeof(buf), f));
	fclose(f);
	pid = atoi(buf);
	assert_true(pid > 0);
	assert_int_equal(kill(pid, 0), 0);
	t0 = now_s();
	close(x.to);
	assert_int_equal(waitpid(x.pid, &status, 0), x.pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	assert_true(now_s() - t0 < 10);
	/* The background sleep (its process group) is gone too. */
	for (int i = 0; i < 40 && kill(pid, 0) == 0; i++)
		usleep(50000);
	assert_int_equal(kill(pid, 0), -1);
	close(x.from);
	unlink(pidfile);
}

static void a_file_written_whole_never_over_another(void **state)
{
	struct ssh_exec x;
	struct run_result res;
	char path[128], data[70000], got[70001];
	struct stat st;
	FILE *f;

	(void)state;
	snprintf(path, sizeof(path), "%s/user-data", tmpdir);
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (char)(i % 251);
	start(&x, RUN_CAPTURE_MAX);
	assert_int_equal(ssh_exec_write(&x, path, 0640, data, sizeof(data),
					&res), 0);
	run_result_clear(&res);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0640);
	f = fopen(path, "rb");
	assert_non_null(f);
	assert_int_equal(fread(got, 1, sizeof(got), f), sizeof(data));
	fclose(f);
	assert_memory_equal(got, data, sizeof(data));
	/* Not over what is there: refused, and it is untouched. */
	assert_int_equal(ssh_exec_write(&x, path, 0600, "new", 3, &res), -1);
	assert_int_equal(errno, EEXIST);
	assert_non_null(strstr(res.err, "user-data: File exists"));
	run_result_clear(&res);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_size, sizeof(data));
	assert_int_equal(st.st_mode & 07777, 0640);
	unlink(path);
	/* Nowhere to go: its reason. */
	snprintf(path, sizeof(path), "%s/nodir/meta-data", tmpdir);
	assert_int_equal(ssh_exec_write(&x, path, 0600, "", 0, &res), -1);
	assert_int_equal(errno, ENOENT);
	assert_non_null(strstr(res.err, "No such file or directory"));
	run_result_clear(&res);
	/* Nothing else is left beside them (the temporary files). */
	assert_int_equal(rmdir(tmpdir), 0);
	assert_int_equal(mkdir(tmpdir, 0700), 0);
	/* An empty one, mode 0600. */
	snprintf(path, sizeof(path), "%s/empty", tmpdir);
	assert_int_equal(ssh_exec_write(&x, path, 0600, "", 0, &res), 0);
	run_result_clear(&res);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_size, 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	unlink(path);
	stop(&x);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(large_output_on_both_streams_and_a_status),
		cmocka_unit_test(a_signal_is_128_plus_n),
		cmocka_unit_test(a_missing_program_is_a_spawn_failure),
		cmocka_unit_test(output_over_the_limit_is_an_error),
		cmocka_unit_test(standard_input_bytes),
		cmocka_unit_test(the_c_locale_and_a_process_group_of_its_own),
		cmocka_unit_test(an_interrupt_stops_the_command_there),
		cmocka_unit_test(the_executor_killed_is_lost),
		cmocka_unit_test(its_input_closed_stops_the_command),
		cmocka_unit_test(a_file_written_whole_never_over_another),
		cmocka_unit_test(a_first_word_not_its_answer_is_eproto),
		cmocka_unit_test(an_answer_not_of_the_protocol_is_lost),
	};
	int rc;

	signal(SIGPIPE, SIG_IGN);
	if (!mkdtemp(tmpdir))
		return 1;
	rc = cmocka_run_group_tests_name("posix_spawnp", tests, NULL, NULL);
	without_posix_spawn = 1;
	rc |= cmocka_run_group_tests_name("fork and exec", tests, NULL, NULL);
	rmdir(tmpdir);
	return rc;
}
