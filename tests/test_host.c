/*
 * host: the local host does what it is asked and no more; the dry-run host
 * prints the same as commands and changes nothing; the step chain undoes
 * on the first failure; domain removal stops as told.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <errno.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "dryrun.h"
#include "host.h"
#include "mock_runner.h"
#include "msg.h"
#include "signals.h"
#include "steps.h"
#include "strvec.h"
#include "undo.h"
#include "virsh.h"

struct fx {
	char dir[64];
	char *out;
	size_t out_len;
	FILE *fout;
	struct dryrun dr;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	strcpy(f->dir, "/tmp/qvm-test-host-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	f->fout = open_memstream(&f->out, &f->out_len);
	dryrun_init(&f->dr, f->fout, &host_local);
	msg_set_streams(f->fout, f->fout);
	mock_runner_reset();
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	char *cmd = xasprintf("rm -rf '%s'", f->dir);

	msg_set_streams(stdout, stderr);
	assert_int_equal(system(cmd), 0);
	free(cmd);
	fclose(f->fout);
	free(f->out);
	free(f);
	return 0;
}

static size_t entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	size_t n = 0;

	assert_non_null(d);
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

static char *slurp(const char *path)
{
	FILE *fp = fopen(path, "r");
	char *s = calloc(1, 4096);

	assert_non_null(fp);
	assert_true(fread(s, 1, 4095, fp) < 4095);
	fclose(fp);
	return s;
}

/* The file appears whole with its mode, and nothing else is left. */
static void local_write_file_is_exact_and_leaves_no_temporary(void **state)
{
	struct fx *f = *state;
	const struct host *h = &host_local;
	char *p = xasprintf("%s/user-data", f->dir);
	char err[256] = "";
	struct stat st;
	char *got;

	assert_int_equal(h->ops->write_file(h->ctx, p, "secret", 6, 0600, err,
					    sizeof(err)), 0);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	got = slurp(p);
	assert_string_equal(got, "secret");
	free(got);
	assert_int_equal(entries(f->dir), 1);
	free(p);
}

/* A file already there is not replaced, and no temporary stays. */
static void local_write_file_never_replaces(void **state)
{
	struct fx *f = *state;
	const struct host *h = &host_local;
	char *p = xasprintf("%s/meta-data", f->dir);
	char err[256] = "";
	char *got;
	FILE *fp = fopen(p, "w");

	fputs("theirs", fp);
	fclose(fp);
	assert_int_equal(h->ops->write_file(h->ctx, p, "ours", 4, 0600, err,
					    sizeof(err)), -1);
	assert_int_equal(errno, EEXIST);
	assert_non_null(strstr(err, p));
	got = slurp(p);
	assert_string_equal(got, "theirs");
	free(got);
	assert_int_equal(entries(f->dir), 1);
	free(p);
}

/* The mode asked for, whatever the umask; exclusive. */
static void local_make_dir_mode_and_exclusive(void **state)
{
	struct fx *f = *state;
	const struct host *h = &host_local;
	char *p = xasprintf("%s/web1", f->dir);
	mode_t old = umask(077);
	struct stat st;

	assert_int_equal(h->ops->make_dir(h->ctx, p, 0711), 0);
	umask(old);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0711);
	assert_int_equal(h->ops->make_dir(h->ctx, p, 0711), -1);
	assert_int_equal(errno, EEXIST);
	free(p);
}

/* Its own files go, missing ones are fine; a stranger's file stays, and
 * so does the directory, with the reason. */
static void local_remove_dir_only_named_files(void **state)
{
	static const char *const names[] = { "seed.iso", "console.log",
					     NULL };
	struct fx *f = *state;
	const struct host *h = &host_local;
	char *d = xasprintf("%s/web1", f->dir);
	char *iso = xasprintf("%s/seed.iso", d);
	char *other = xasprintf("%s/notes", d);
	char err[256] = "";

	assert_int_equal(mkdir(d, 0700), 0);
	fclose(fopen(iso, "w"));
	fclose(fopen(other, "w"));
	assert_int_equal(h->ops->remove_dir(h->ctx, d, names, err,
					    sizeof(err)), -1);
	assert_non_null(strstr(err, d));
	assert_int_equal(access(iso, F_OK), -1);
	assert_int_equal(access(other, F_OK), 0);
	assert_int_equal(unlink(other), 0);
	assert_int_equal(h->ops->remove_dir(h->ctx, d, names, err,
					    sizeof(err)), 0);
	assert_int_equal(access(d, F_OK), -1);
	/* Gone already: nothing to do. */
	assert_int_equal(h->ops->remove_dir(h->ctx, d, names, err,
					    sizeof(err)), 0);
	free(d);
	free(iso);
	free(other);
}

/* The dry host checks for real, prints every change, and writes
 * nothing. */
static void dry_host_prints_and_changes_nothing(void **state)
{
	static const char *const names[] = { "seed.iso", NULL };
	struct fx *f = *state;
	const struct host *h = &f->dr.host;
	char *d = xasprintf("%s/web1", f->dir);
	char *p = xasprintf("%s/user-data", d);
	char *want;
	char err[256] = "";
	struct copy_stats stats;

	assert_false(h->ops->sees_changes(h->ctx));
	assert_int_equal(h->ops->make_dir(h->ctx, f->dir, 0711), -1);
	assert_int_equal(errno, EEXIST);
	assert_int_equal(h->ops->make_dir(h->ctx, d, 0711), 0);
	assert_int_equal(h->ops->write_file(h->ctx, p, "it's", 4, 0600, err,
					    sizeof(err)), 0);
	assert_int_equal(h->ops->set_mode(h->ctx, p, 0600), 0);
	assert_int_equal(h->ops->remove_dir(h->ctx, d, names, err,
					    sizeof(err)), 0);
	assert_int_equal(h->ops->wait_path(h->ctx, "/dev/zvol/tank/x", 1500),
			 0);
	assert_int_equal(h->ops->copy_in(h->ctx, &COPY_SOURCE_FD(-1), "a b.raw",
					 "/dev/zvol/tank/x", 4096, &stats, err,
					 sizeof(err)), 0);
	assert_int_equal(stats.written, 0);
	assert_int_equal(entries(f->dir), 0);
	fflush(f->fout);
	want = xasprintf("mkdir -m 0711 %s\n"
			 "printf %%s 'it'\\''s' > %s\n"
			 "chmod 0600 %s\n"
			 "rm -f -- %s/seed.iso\n"
			 "rmdir -- %s\n"
			 "timeout 1.500 sh -c 'until [ -b \"$1\" ] || "
			 "[ -f \"$1\" ]; do sleep 0.1; done' sh "
			 "/dev/zvol/tank/x\n"
			 "# copy the data of a b.raw to /dev/zvol/tank/x "
			 "(holes and zero blocks skipped)\n"
			 "dd 'if=a b.raw' of=/dev/zvol/tank/x bs=16384 "
			 "conv=sparse,notrunc status=none\n", d, p, p, d, d);
	assert_string_equal(f->out, want);
	free(want);
	free(d);
	free(p);
}

/* A file's content that a shell word cannot carry is refused, not cut. */
static void dry_host_refuses_nul_bytes(void **state)
{
	struct fx *f = *state;
	const struct host *h = &f->dr.host;
	char err[256] = "";

	assert_int_equal(h->ops->write_file(h->ctx, "/x/payload", "a\0b", 3,
					    0600, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "NUL"));
}

/* ---- steps ---- */

static char trail[32];

static int step_a(void *run)
{
	(void)run;
	strcat(trail, "a");
	return 0;
}

static int step_fail(void *run)
{
	(void)run;
	strcat(trail, "F");
	return -1;
}

static int step_never(void *run)
{
	(void)run;
	strcat(trail, "N");
	return 0;
}

static int undo_mark(void *arg, char **why)
{
	(void)why;
	strcat(trail, (const char *)arg);
	return 0;
}

static void steps_stop_at_the_first_failure_and_undo(void **state)
{
	static const step_fn steps[] = { step_a, step_fail, step_never,
					  NULL };
	struct undo u = UNDO_INIT;
	static char mark[] = "u";

	(void)state;
	trail[0] = '\0';
	undo_push(&u, "thing", "remove", undo_mark, mark, NULL);
	assert_int_equal(steps_run(steps, NULL, &u, "testing"), -1);
	assert_string_equal(trail, "aFu");
	assert_int_equal(u.n, 0);
}

static void steps_all_done_forget_the_undo(void **state)
{
	static const step_fn steps[] = { step_a, step_a, NULL };
	struct undo u = UNDO_INIT;
	static char mark[] = "u";

	(void)state;
	trail[0] = '\0';
	undo_push(&u, "thing", "remove", undo_mark, mark, NULL);
	assert_int_equal(steps_run(steps, NULL, &u, "testing"), 0);
	assert_string_equal(trail, "aa");
	assert_int_equal(u.n, 0);
}

/* ---- virsh_domain_remove ---- */

static void domain_remove_must_stop_first(void **state)
{
	struct run_result res;
	const char *step = NULL;

	(void)state;
	expect_run(ARGV("virsh", "destroy", "web1"), "",
		   "error: Failed to destroy domain 'web1'\n"
		   "error: permission denied\n", 1);
	assert_int_equal(virsh_domain_remove(&mock_runner, NULL, "web1",
					     VIRSH_STOP_MUST, &res, &step), 1);
	assert_string_equal(step, "stop");
	run_result_clear(&res);
	mock_runner_verify();
}

static void domain_remove_not_running_is_fine(void **state)
{
	struct run_result res;
	const char *step = NULL;

	(void)state;
	expect_run(ARGV("virsh", "-c", "qemu:///system", "destroy", "U"), "",
		   "error: Requested operation is not valid: domain is not "
		   "running\n", 1);
	expect_run(ARGV("virsh", "-c", "qemu:///system", "undefine", "U",
			"--nvram"), "", "", 0);
	assert_int_equal(virsh_domain_remove(&mock_runner, "qemu:///system",
					     "U", VIRSH_STOP_MUST, &res,
					     &step), 0);
	run_result_clear(&res);
	mock_runner_verify();
}

static void domain_remove_try_ignores_the_stop(void **state)
{
	struct run_result res;
	const char *step = NULL;

	(void)state;
	expect_run(ARGV("virsh", "destroy", "U"), "",
		   "error: failed to get domain 'U'\n", 1);
	expect_run(ARGV("virsh", "undefine", "U", "--nvram"), "",
		   "error: failed to get domain 'U'\n", 1);
	assert_int_equal(virsh_domain_remove(&mock_runner, NULL, "U",
					     VIRSH_STOP_TRY, &res, &step), 1);
	assert_string_equal(step, "undefine");
	assert_true(virsh_domain_missing(&res));
	run_result_clear(&res);
	mock_runner_verify();
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(local_write_file_is_exact_and_leaves_no_temporary),
		T(local_write_file_never_replaces),
		T(local_make_dir_mode_and_exclusive),
		T(local_remove_dir_only_named_files),
		T(dry_host_prints_and_changes_nothing),
		T(dry_host_refuses_nul_bytes),
		T(steps_stop_at_the_first_failure_and_undo),
		T(steps_all_done_forget_the_undo),
		T(domain_remove_must_stop_first),
		T(domain_remove_not_running_is_fine),
		T(domain_remove_try_ignores_the_stop),
	};

	return cmocka_run_group_tests_name("host", tests, NULL, NULL);
}
