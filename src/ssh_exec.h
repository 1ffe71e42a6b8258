/*
 * ssh_exec: one process on another machine that runs qvm's commands there
 * (host_ssh.h), so that each costs a fork and exec there and a round trip,
 * not an ssh client, a channel and a login shell.
 *
 * ssh_exec_argv() is the command that starts it there (python3, which
 * every host that runs virt-install has; nothing of qvm's is installed):
 * host_ssh runs it once per connection, through the master, and hands its
 * standard input and output to ssh_exec_run(). It reads framed requests
 * (big-endian):
 *   'P'                                      ping: it answers 'P'
 *   'R' u32 argc, argc x (u32 len, bytes),
 *       '0' | '1' u64 len, bytes             run argv (stdin: /dev/null,
 *                                            or those bytes)
 *   'K'                                      stop the command that runs
 *   'W' u32 len, path, u32 mode, u64 len, bytes  write a file
 * and answers each run with one frame:
 *   'X' i32 status, i32 errno, u64 stdout total, u64 stderr total,
 *       u32 stdout kept, u32 stderr kept, the kept bytes
 * Each command runs as runner_run's children do (runner.h): in the C
 * locale, in a process group (a session) of its own, with default signal
 * dispositions; status is its exit status or 128+N for signal N, -1 with
 * errno when it could not be started. It keeps at most limit bytes of
 * each stream (the rest is read and counted, never cut silently: more
 * than limit is RUN_OUTPUT_TOO_LONG here). On 'K' it sends the command's
 * process group SIGTERM, and SIGKILL 5 s later; when its standard input
 * ends (qvm or the connection is gone) it does the same and exits.
 * A file is written into a new file beside it (O_EXCL, mode 0600), which
 * gets the mode and is then linked to the path (never over anything
 * there) and removed: the path appears whole or not at all; its answer
 * is an 'X' of status 0, or 1 with the errno and "PATH: reason".
 *
 * It touches nothing itself but the files it is asked to write: only the
 * commands it is given do.
 */
#ifndef QVM_SSH_EXEC_H
#define QVM_SSH_EXEC_H

#include <stddef.h>
#include <sys/types.h>

#include "runner.h"
#include "strvec.h"

/* ssh_exec_run(): the executor ended (EOF, or a reply it could not
 * parse); res->err says how ("ended", or what was wrong). */
#define SSH_EXEC_LOST (-3)

struct ssh_exec {
	pid_t pid;	/* what runs it here (ssh), or 0 */
	int to;		/* its standard input, or -1 */
	int from;	/* its standard output, or -1 */
	size_t limit;	/* of each stream: RUN_CAPTURE_MAX but in tests */
};

/* Pushes the command that starts the executor (python3 -I -S -c PROGRAM
 * LIMIT): one argv, to be run there. */
void ssh_exec_argv(struct strvec *argv, size_t limit);

/* Asks for and waits for its answer, up to timeout_ms (or until qvm is
 * interrupted): 0, or -1 with errno (ETIMEDOUT, EINTR, EPIPE: it ended,
 * EPROTO: another answer came first). */
int ssh_exec_ping(struct ssh_exec *x, unsigned timeout_ms);

/* Runs argv there (stdin: /dev/null, or in_fd's bytes from where it
 * stands to its end), as runner_run: the same return contract and
 * res, plus SSH_EXEC_LOST. If qvm is interrupted meanwhile, the command
 * is stopped there unless effect is RUN_COMMITS. */
int ssh_exec_run(struct ssh_exec *x, const char *const *argv,
		 enum run_effect effect, int in_fd, struct run_result *res);

/* Creates path there, which must not exist, holding the len bytes of
 * data with mode (exactly), atomically (a temporary file linked). 0, -1
 * with errno and res->err ("PATH: reason"), or SSH_EXEC_LOST. */
int ssh_exec_write(struct ssh_exec *x, const char *path, mode_t mode,
		   const char *data, size_t len, struct run_result *res);

#endif
