/*
 * runner: the one way qvm runs an external program.
 *
 * A runner is a function pointer plus a context, so the same provisioning
 * code runs real commands (runner_real), prints them (dryrun.h) or follows a
 * script in tests. Every call states whether it only reads the system or
 * changes it; the dry-run runner executes the first kind and prints the second.
 *
 * Return contract of runner_run (kept by every implementation):
 *   -1      the program could not be started; res->spawn_errno says why and
 *           res->err holds "PROG: command not found" (ENOENT) or
 *           "PROG: <strerror>".
 *   -2      RUN_OUTPUT_TOO_LONG: the program printed more than
 *           RUN_CAPTURE_MAX bytes on stdout or stderr; it ran to its end
 *           (the rest was read and dropped), and res->err holds "PROG:
 *           printed more than N bytes on STREAM (qvm's limit); ...".
 *           Captured output is never cut silently.
 *   0..255  the program's exit status.
 *   128+N   the program was killed by signal N.
 * res->status holds the same value. stdout and stderr are captured (each
 * in a buffer that grows up to RUN_CAPTURE_MAX bytes) and kept whether the
 * command succeeded or not. The child never gets a shell; its stdin is
 * /dev/null, it inherits only stdin, stdout and stderr of qvm's own
 * descriptors (all of qvm's are O_CLOEXEC), and it starts with default
 * signal dispositions, in a process group of its own (a Ctrl-C at the
 * terminal reaches qvm only; qvm decides what to stop). Its environment is
 * qvm's with LC_ALL=C and LANGUAGE= (empty): qvm reads what children say,
 * so they say it in the C locale, whatever the user's. If qvm itself is
 * interrupted (signals.h) while a command runs, the real runner terminates
 * the child's whole process group (unless it is RUN_COMMITS) and returns
 * the child's status.
 */
#ifndef QVM_RUNNER_H
#define QVM_RUNNER_H

#include <stddef.h>
#include <sys/types.h>

/* 16 MiB: zfs lists only volumes for qvm, so this is tens of thousands
 * of them. */
#define RUN_CAPTURE_MAX (16 * 1024 * 1024)

#define RUN_SPAWN_FAILED	(-1)
#define RUN_OUTPUT_TOO_LONG	(-2)

enum run_effect {
	RUN_READS,	/* inspects only: safe to run in --dry-run */
	RUN_CHANGES,	/* changes the system: only printed in --dry-run */
	RUN_COMMITS,	/* changes it in one step (zfs): printed in --dry-run,
			 * and never cut short by an interrupt, so qvm knows
			 * whether the change happened */
};

struct run_result {
	int status;
	int spawn_errno;
	char *out;		/* NUL-terminated, never NULL after a run */
	size_t out_len;
	char *err;		/* NUL-terminated, never NULL after a run */
	size_t err_len;
};

#define RUN_RESULT_INIT { 0, 0, NULL, 0, NULL, 0 }

typedef int (*run_fn)(void *ctx, const char *const *argv,
		      enum run_effect effect, struct run_result *res);

struct runner {
	run_fn run;
	void *ctx;
};

/* Clears *res, then runs argv through r. */
int runner_run(const struct runner *r, const char *const *argv,
	       enum run_effect effect, struct run_result *res);

/* Frees the captured output; *res may be reused afterwards. */
void run_result_clear(struct run_result *res);

/* Why a command failed, for a message: the last non-empty line of its
 * stderr, else "killed by signal N" or "exit status N". In a
 * caller-provided buffer (truncated to fit). */
const char *run_result_last_err(const struct run_result *res, char *buf,
				size_t size);

/* The runner that really spawns programs (found in PATH). */
extern const struct runner runner_real;

/* The function behind runner_real, for runners that delegate to it. Its
 * ctx is NULL (the child's stdin is /dev/null) or a struct runner_stdin:
 * the child reads that descriptor instead (from where it stands). */
int runner_real_run(void *ctx, const char *const *argv,
		    enum run_effect effect, struct run_result *res);

struct runner_stdin {
	int fd;
};

/*
 * A pipeline: programs connected by pipes, for data that flows through
 * qvm (a download, a decompressor, tar), started by runner_spawn():
 *   argvs[0] | argvs[1] | ... | argvs[n-1]
 * The first reads in_fd (from where it stands), or with RUN_STDIN_PIPE a
 * pipe whose write end qvm holds in ->in. The last writes into a pipe
 * whose read end qvm holds in ->out, or with capture_out into a memory
 * file that runner_pipeline_wait() reads into res[n-1].out. Each child's
 * stderr goes to a memory file of its own (its last RUN_ERR_KEEP bytes
 * end up in res[i].err). All run in one process group of their own, in
 * the C locale, with default signal dispositions, as runner_run's
 * children, and are ended (SIGTERM) if qvm dies before them: a data
 * pipeline never outlives its reader. (runner_run's children are not: a
 * command that commits a change is let finish.) qvm's ends are O_CLOEXEC.
 */
#define RUN_PIPE_MAX 4
#define RUN_STDIN_PIPE (-2)
#define RUN_ERR_KEEP 4096

struct run_pipeline {
	int in;			/* RUN_STDIN_PIPE: the first's stdin, or -1 */
	int out;		/* the last's stdout unless captured; else -1 */
	size_t n;
	int pid[RUN_PIPE_MAX];	/* 0: not running */
	int pgid;
	int err_fd[RUN_PIPE_MAX];
	int out_fd;		/* capture_out: the memory file */
};

/* 0, or -1 with errno and res[0].err saying which program could not be
 * started ("xz: command not found"); then nothing is left running. */
int runner_spawn(const char *const *const *argvs, size_t n, int in_fd,
		 int capture_out, struct run_pipeline *p,
		 struct run_result *res);

/* A pipe (O_CLOEXEC both ends) of RUN_PIPE_SIZE bytes where Linux allows
 * it, for image data: fewer wake-ups per megabyte. 0, or -1 with errno. */
#define RUN_PIPE_SIZE (1024 * 1024)
int runner_data_pipe(int fds[2]);

/* Asks the whole pipeline to stop (SIGTERM to its process group); a
 * child that does not exit within a grace period is killed in
 * runner_pipeline_wait(). */
void runner_pipeline_stop(struct run_pipeline *p);

/* Closes qvm's ends, waits for every child (stopping them all if qvm is
 * interrupted meanwhile) and fills res[0..n-1]: status as runner_run's
 * (128+N: killed by signal N), err (the end of its stderr), and for a
 * captured last stdout its out (at most RUN_CAPTURE_MAX bytes; more is
 * RUN_OUTPUT_TOO_LONG). Returns 0 if every child exited with 0, else -1.
 * The caller clears each res[i]. */
int runner_pipeline_wait(struct run_pipeline *p, struct run_result *res);

/* Starts argv (found on PATH) with in (-1: /dev/null), out and err as its
 * 0, 1 and 2, in a process group of its own, in the C locale, with default
 * signal dispositions, ended (SIGTERM) if qvm dies first (a helper of
 * qvm's own, such as an ssh master connection): 0 with *pid once it has
 * exec'd, or -1 with errno. The caller waits for it. */
int runner_start(const char *const *argv, int in, int out, int err,
		 pid_t *pid);

#endif
