#include "runner.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "signals.h"
#include "strvec.h"

extern char **environ;

/* How long a child gets to exit after SIGTERM before it is killed. */
#define TERM_GRACE_MS 5000

struct capture {
	int fd;
	char *buf;
	size_t len;
	size_t alloc;
};

int runner_run(const struct runner *r, const char *const *argv,
	       enum run_effect effect, struct run_result *res)
{
	int status;

	memset(res, 0, sizeof(*res));
	status = r->run(r->ctx, argv, effect, res);
	if (!res->out)
		res->out = xstrdup("");
	if (!res->err)
		res->err = xstrdup("");
	res->status = status;
	return status;
}

void run_result_clear(struct run_result *res)
{
	free(res->out);
	free(res->err);
	memset(res, 0, sizeof(*res));
}

const char *run_result_last_err(const struct run_result *res, char *buf,
				size_t size)
{
	const char *s = res->err ? res->err : "";
	const char *end = s + strlen(s);
	const char *start;
	size_t n;

	while (end > s && (end[-1] == '\n' || end[-1] == '\r' ||
			   end[-1] == ' '))
		end--;
	start = end;
	while (start > s && start[-1] != '\n')
		start--;
	n = (size_t)(end - start);
	if (size == 0)
		return buf;
	if (n >= size)
		n = size - 1;
	memcpy(buf, start, n);
	buf[n] = '\0';
	return buf;
}

/* Reads what is there; returns 0 at EOF, 1 if the fd stays open. */
static int capture_read(struct capture *c)
{
	char chunk[65536];
	ssize_t got;

	got = read(c->fd, chunk, sizeof(chunk));
	if (got < 0)
		return (errno == EINTR || errno == EAGAIN) ? 1 : 0;
	if (got == 0)
		return 0;
	if (c->len < RUN_CAPTURE_MAX) {
		size_t keep = (size_t)got;

		if (keep > RUN_CAPTURE_MAX - c->len)
			keep = RUN_CAPTURE_MAX - c->len;
		if (c->len + keep + 1 > c->alloc) {
			c->alloc = c->len + keep + 1 + c->alloc;
			c->buf = xrealloc(c->buf, c->alloc);
		}
		memcpy(c->buf + c->len, chunk, keep);
		c->len += keep;
		c->buf[c->len] = '\0';
	}
	return 1;
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Drains both pipes until the child closes them. If qvm is interrupted,
 * the child is asked to stop (SIGTERM) and killed if it does not.
 */
static void drain(pid_t pid, struct capture *cap)
{
	long long term_sent = 0;
	int open_fds = 2;

	while (open_fds > 0) {
		struct pollfd pfd[2];
		nfds_t n = 0;
		int rc;

		for (int i = 0; i < 2; i++) {
			if (cap[i].fd < 0)
				continue;
			pfd[n].fd = cap[i].fd;
			pfd[n].events = POLLIN;
			pfd[n].revents = 0;
			n++;
		}
		rc = poll(pfd, n, 200);
		if (signals_interrupting()) {
			if (!term_sent) {
				kill(pid, SIGTERM);
				term_sent = now_ms();
			} else if (now_ms() - term_sent > TERM_GRACE_MS) {
				kill(pid, SIGKILL);
			}
		}
		if (rc <= 0)
			continue;
		for (nfds_t k = 0; k < n; k++) {
			if (!pfd[k].revents)
				continue;
			for (int i = 0; i < 2; i++) {
				if (cap[i].fd != pfd[k].fd)
					continue;
				if (!capture_read(&cap[i])) {
					close(cap[i].fd);
					cap[i].fd = -1;
					open_fds--;
				}
			}
		}
	}
}

static int wait_child(pid_t pid)
{
	int wstatus;

	while (waitpid(pid, &wstatus, 0) < 0) {
		if (errno != EINTR)
			return 128 + SIGKILL;
		if (signals_interrupting())
			kill(pid, SIGTERM);
	}
	if (WIFSIGNALED(wstatus))
		return 128 + WTERMSIG(wstatus);
	return WEXITSTATUS(wstatus);
}

static int spawn_failed(const char *prog, int err, struct run_result *res)
{
	res->spawn_errno = err;
	if (err == ENOENT)
		res->err = xasprintf("%s: command not found", prog);
	else
		res->err = xasprintf("%s: %s", prog, strerror(err));
	res->err_len = strlen(res->err);
	res->status = -1;
	errno = err;
	return -1;
}

int runner_real_run(void *ctx, const char *const *argv,
		    enum run_effect effect, struct run_result *res)
{
	int out[2] = { -1, -1 }, err[2] = { -1, -1 };
	struct capture cap[2];
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t def, none;
	char *const *child_argv;
	pid_t pid;
	int rc;

	(void)ctx;
	(void)effect;
	if (pipe2(out, O_CLOEXEC) < 0 || pipe2(err, O_CLOEXEC) < 0) {
		int e = errno;

		if (out[0] >= 0) {
			close(out[0]);
			close(out[1]);
		}
		return spawn_failed(argv[0], e, res);
	}

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, out[1], 1);
	posix_spawn_file_actions_adddup2(&fa, err[1], 2);

	/* The child starts with default dispositions and nothing blocked,
	 * whatever qvm installed for itself. */
	posix_spawnattr_init(&attr);
	sigemptyset(&def);
	sigaddset(&def, SIGINT);
	sigaddset(&def, SIGTERM);
	sigaddset(&def, SIGHUP);
	sigaddset(&def, SIGPIPE);
	sigemptyset(&none);
	posix_spawnattr_setsigdefault(&attr, &def);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setflags(&attr,
				 POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);

	/* posix_spawnp's prototype predates const; it does not write argv. */
	memcpy(&child_argv, &argv, sizeof(child_argv));
	/* glibc reports exec failures (ENOENT, EACCES) as the return value. */
	rc = posix_spawnp(&pid, argv[0], &fa, &attr, child_argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	close(out[1]);
	close(err[1]);
	if (rc != 0) {
		close(out[0]);
		close(err[0]);
		return spawn_failed(argv[0], rc, res);
	}

	memset(cap, 0, sizeof(cap));
	cap[0].fd = out[0];
	cap[1].fd = err[0];
	drain(pid, cap);
	res->out = cap[0].buf ? cap[0].buf : xstrdup("");
	res->out_len = cap[0].len;
	res->err = cap[1].buf ? cap[1].buf : xstrdup("");
	res->err_len = cap[1].len;
	res->status = wait_child(pid);
	return res->status;
}

const struct runner runner_real = { runner_real_run, NULL };
