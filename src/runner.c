#include "runner.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/prctl.h>
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
	bool overflow;		/* more than RUN_CAPTURE_MAX came */
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
	if (n == 0) {
		if (res->status > 128)
			snprintf(buf, size, "killed by signal %d",
				 res->status - 128);
		else
			snprintf(buf, size, "exit status %d", res->status);
		return buf;
	}
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
	if ((size_t)got > RUN_CAPTURE_MAX - c->len)
		c->overflow = true;
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
 * Drains both pipes until the child and whatever it started close them. If
 * qvm is interrupted, the child's whole process group is asked to stop
 * (SIGTERM) and killed if it does not: a grandchild must not outlive it.
 */
static void drain(pid_t pid, struct capture *cap, bool stoppable)
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
		if (stoppable && signals_interrupting()) {
			if (!term_sent) {
				kill(-pid, SIGTERM);
				term_sent = now_ms();
			} else if (now_ms() - term_sent > TERM_GRACE_MS) {
				kill(-pid, SIGKILL);
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

static int wait_child(pid_t pid, bool stoppable)
{
	int wstatus;

	while (waitpid(pid, &wstatus, 0) < 0) {
		if (errno != EINTR)
			return 128 + SIGKILL;
		if (stoppable && signals_interrupting())
			kill(-pid, SIGTERM);
	}
	if (WIFSIGNALED(wstatus))
		return 128 + WTERMSIG(wstatus);
	return WEXITSTATUS(wstatus);
}

/* The environment of every child: qvm's own, with messages in the C
 * locale, because qvm reads what its children print (gettext honours
 * LANGUAGE over LC_ALL unless the locale is C; both are set). Built in the
 * parent; the strings are environ's own, the array is the caller's to
 * free. */
static char **child_environ(void)
{
	static char lc_all[] = "LC_ALL=C";
	static char language[] = "LANGUAGE=";
	size_t n = 0, k = 0;
	char **env;

	while (environ && environ[n])
		n++;
	env = xmalloc((n + 3) * sizeof(*env));
	for (size_t i = 0; i < n; i++)
		if (strncmp(environ[i], "LC_ALL=", 7) != 0 &&
		    strncmp(environ[i], "LANGUAGE=", 9) != 0)
			env[k++] = environ[i];
	env[k++] = lc_all;
	env[k++] = language;
	env[k] = NULL;
	return env;
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

/* The file to execute: prog itself if it holds a '/', else the first
 * executable file of that name in PATH (found here, in the parent, so
 * the child only calls async-signal-safe functions). */
static char *locate(const char *prog)
{
	const char *p = getenv("PATH");
	bool denied = false;

	if (strchr(prog, '/'))
		return xstrdup(prog);
	if (!p || !*p)
		p = "/usr/local/bin:/usr/bin:/bin";
	for (;;) {
		size_t n = strcspn(p, ":");
		char *cand = n ? xasprintf("%.*s/%s", (int)n, p, prog)
			       : xasprintf("./%s", prog);
		struct stat st;

		if (stat(cand, &st) == 0 && S_ISREG(st.st_mode)) {
			if (access(cand, X_OK) == 0)
				return cand;
			denied = true;
		}
		free(cand);
		if (!p[n])
			break;
		p += n + 1;
	}
	errno = denied ? EACCES : ENOENT;
	return NULL;
}

/* In the child, between fork and exec: async-signal-safe calls only. An
 * exec failure is reported back through the report pipe as an errno. */
static void child(const char *path, char *const *argv, char *const *env,
		  int in, int out, int err, int report, pid_t pgid,
		  pid_t parent)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGPIPE };
	struct sigaction sa;
	sigset_t none;
	int e, devnull;

	/* Default dispositions and nothing blocked, whatever qvm set. */
	/* Its own process group: the terminal's Ctrl-C is qvm's to handle. */
	setpgid(0, pgid);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaction(sigs[i], &sa, NULL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	/* Ended with qvm, however qvm ends (parent 0: it may outlive it). */
	if (parent && (prctl(PR_SET_PDEATHSIG, SIGTERM) < 0 ||
		       getppid() != parent))
		_exit(127);

	devnull = in >= 0 ? in : open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (devnull >= 0 && dup2(devnull, 0) >= 0 && dup2(out, 1) >= 0 &&
	    dup2(err, 2) >= 0)
		execve(path, argv, env);
	e = errno;
	while (write(report, &e, sizeof(e)) < 0 && errno == EINTR)
		;
	_exit(127);
}

/*
 * Runs argv (found on PATH) with stdin in (-1: /dev/null), stdout out and
 * stderr err, in process group pgid (0: a group of its own), in the C
 * locale, ended (SIGTERM) if qvm dies first when with_qvm: 0 with *pid
 * once it has exec'd, or -1 with errno (not found,
 * fork or exec failed; a child that could not exec is reaped).
 */
static int start_child(const char *const *argv, int in, int out, int err,
		       pid_t pgid, bool with_qvm, pid_t *pidp)
{
	pid_t parent = with_qvm ? getpid() : 0;
	char *const *child_argv;
	int report[2];
	char **env;
	char *path;
	ssize_t got;
	pid_t pid;
	int e;

	path = locate(argv[0]);
	if (!path)
		return -1;
	if (pipe2(report, O_CLOEXEC) < 0) {
		e = errno;
		free(path);
		errno = e;
		return -1;
	}
	/* execve's prototype predates const; it does not write argv. */
	memcpy(&child_argv, &argv, sizeof(child_argv));
	env = child_environ();
	pid = fork();
	if (pid == 0)
		child(path, child_argv, env, in, out, err, report[1], pgid,
		      parent);
	e = errno;
	free(path);
	free(env);
	close(report[1]);
	if (pid < 0) {
		close(report[0]);
		errno = e;
		return -1;
	}
	setpgid(pid, pgid ? pgid : pid);	/* either side may win */
	/* EOF: exec succeeded (the pipe closed on exec). An int: it failed. */
	do
		got = read(report[0], &e, sizeof(e));
	while (got < 0 && errno == EINTR);
	close(report[0]);
	if (got == (ssize_t)sizeof(e)) {
		wait_child(pid, false);
		errno = e;
		return -1;
	}
	*pidp = pid;
	return 0;
}

int runner_real_run(void *ctx, const char *const *argv,
		    enum run_effect effect, struct run_result *res)
{
	int out[2] = { -1, -1 }, err[2] = { -1, -1 };
	struct capture cap[2];
	pid_t pid;
	int e = 0;

	if (pipe2(out, O_CLOEXEC) < 0 || pipe2(err, O_CLOEXEC) < 0) {
		e = errno;
		goto fail;
	}
	/* A command may commit a change: it is not ended with qvm. */
	if (start_child(argv, ctx ? ((const struct runner_stdin *)ctx)->fd
				  : -1, out[1], err[1], 0, false, &pid) < 0) {
		e = errno;
		goto fail;
	}
	close(out[1]);
	close(err[1]);
	out[1] = err[1] = -1;

	memset(cap, 0, sizeof(cap));
	cap[0].fd = out[0];
	cap[1].fd = err[0];
	drain(pid, cap, effect != RUN_COMMITS);
	res->out = cap[0].buf ? cap[0].buf : xstrdup("");
	res->out_len = cap[0].len;
	res->err = cap[1].buf ? cap[1].buf : xstrdup("");
	res->err_len = cap[1].len;
	res->status = wait_child(pid, effect != RUN_COMMITS);
	if (cap[0].overflow || cap[1].overflow) {
		/* Never hand on cut output as if it were all. */
		free(res->err);
		res->err = xasprintf("%s: printed more than %d bytes on %s "
				     "(qvm's limit); its output was not used",
				     argv[0], RUN_CAPTURE_MAX,
				     cap[0].overflow ? "stdout" : "stderr");
		res->err_len = strlen(res->err);
		res->status = RUN_OUTPUT_TOO_LONG;
	}
	return res->status;

fail:
	for (int i = 0; i < 2; i++) {
		if (out[i] >= 0)
			close(out[i]);
		if (err[i] >= 0)
			close(err[i]);
	}
	return spawn_failed(argv[0], e, res);
}

const struct runner runner_real = { runner_real_run, NULL };

/* ---- pipelines ---- */

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* The end of a memory file (at most keep bytes, the rest dropped from the
 * front), NUL-terminated; *len its length. overflow: it held more. */
static char *read_memfile(int fd, size_t keep, size_t *len, bool *overflow)
{
	off_t end = lseek(fd, 0, SEEK_END);
	off_t start = 0;
	size_t n, got = 0;
	char *buf;

	if (end < 0)
		end = 0;
	if ((uint64_t)end > keep)
		start = end - (off_t)keep;
	if (overflow)
		*overflow = start > 0;
	n = (size_t)(end - start);
	buf = xmalloc(n + 1);
	while (got < n) {
		ssize_t r = pread(fd, buf + got, n - got, start + (off_t)got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	buf[got] = '\0';
	*len = got;
	return buf;
}

/*
 * A pipe that carries an image between programs: 1 MiB instead of the
 * default 64 KiB, so a decompressor writing 128 KiB blocks and qvm
 * reading 2 MiB buffers are not woken sixteen times a megabyte (measured
 * on zstd -dc: about a third of the import's time). Linux lets anyone
 * raise a pipe to /proc/sys/fs/pipe-max-size (1 MiB by default); where
 * it cannot grow, the default pipe works as well, only slower.
 */
int runner_data_pipe(int fds[2])
{
	if (pipe2(fds, O_CLOEXEC) < 0)
		return -1;
	(void)fcntl(fds[1], F_SETPIPE_SZ, RUN_PIPE_SIZE);
	return 0;
}

static int memfile(const char *name)
{
	return memfd_create(name, MFD_CLOEXEC);
}

/* Starts one child of a pipeline: 0, or -1 with errno (exec failed). */
static int start_one(const char *const *argv, int in, int out, int err,
		     struct run_pipeline *p, size_t i)
{
	if (start_child(argv, in, out, err, p->pgid, true, &p->pid[i]) < 0)
		return -1;
	if (!p->pgid)
		p->pgid = p->pid[i];
	return 0;
}

int runner_spawn(const char *const *const *argvs, size_t n, int in_fd,
		 int capture_out, struct run_pipeline *p,
		 struct run_result *res)
{
	int prev = -1;		/* what the next child reads */
	int e;

	memset(p, 0, sizeof(*p));
	p->in = p->out = p->out_fd = -1;
	for (size_t i = 0; i < RUN_PIPE_MAX; i++)
		p->err_fd[i] = -1;
	memset(res, 0, sizeof(*res));
	if (n == 0 || n > RUN_PIPE_MAX) {
		errno = EINVAL;
		return spawn_failed("pipeline", EINVAL, res);
	}
	p->n = n;
	if (in_fd == RUN_STDIN_PIPE) {
		int fds[2];

		if (runner_data_pipe(fds) < 0)
			goto fail;
		prev = fds[0];
		p->in = fds[1];
	} else {
		prev = in_fd < 0 ? open("/dev/null", O_RDONLY | O_CLOEXEC)
				 : fcntl(in_fd, F_DUPFD_CLOEXEC, 3);
		if (prev < 0)
			goto fail;
	}
	for (size_t i = 0; i < n; i++) {
		int out[2] = { -1, -1 };
		int rc;

		p->err_fd[i] = memfile("qvm-stderr");
		if (p->err_fd[i] < 0)
			goto fail;
		if (i + 1 < n || !capture_out) {
			if (runner_data_pipe(out) < 0)
				goto fail;
		} else {
			p->out_fd = memfile("qvm-stdout");
			if (p->out_fd < 0)
				goto fail;
			out[1] = p->out_fd;
		}
		rc = start_one(argvs[i], prev, out[1], p->err_fd[i], p, i);
		e = errno;
		close_fd(&prev);
		if (out[1] != p->out_fd)
			close(out[1]);
		prev = out[0];
		if (rc < 0) {
			close_fd(&prev);
			spawn_failed(argvs[i][0], e, res);
			goto stop;
		}
	}
	p->out = prev;
	return 0;

fail:
	e = errno;
	close_fd(&prev);
	spawn_failed(argvs[0][0], e, res);
stop:
	e = errno;
	{
		struct run_result ignored[RUN_PIPE_MAX];

		runner_pipeline_stop(p);
		runner_pipeline_wait(p, ignored);
		for (size_t i = 0; i < p->n; i++)
			run_result_clear(&ignored[i]);
	}
	errno = e;
	return -1;
}

void runner_pipeline_stop(struct run_pipeline *p)
{
	if (p->pgid > 0)
		kill(-p->pgid, SIGTERM);
}

/* Waits for pid; once stopped (or interrupted), SIGKILL for the group
 * after the grace period. */
static int wait_stoppable(struct run_pipeline *p, pid_t pid)
{
	long long term_sent = 0;
	int wstatus;

	for (;;) {
		pid_t r = waitpid(pid, &wstatus, WNOHANG);

		if (r == pid)
			break;
		if (r < 0 && errno != EINTR)
			return 128 + SIGKILL;
		if (signals_interrupting() && !term_sent) {
			kill(-p->pgid, SIGTERM);
			term_sent = now_ms();
		} else if (term_sent && now_ms() - term_sent > TERM_GRACE_MS) {
			kill(-p->pgid, SIGKILL);
		}
		poll(NULL, 0, 10);
	}
	if (WIFSIGNALED(wstatus))
		return 128 + WTERMSIG(wstatus);
	return WEXITSTATUS(wstatus);
}

int runner_pipeline_wait(struct run_pipeline *p, struct run_result *res)
{
	int rc = 0;

	close_fd(&p->in);
	close_fd(&p->out);
	for (size_t i = 0; i < p->n; i++) {
		memset(&res[i], 0, sizeof(res[i]));
		res[i].status = p->pid[i] ? wait_stoppable(p, p->pid[i]) : -1;
		p->pid[i] = 0;
		if (p->err_fd[i] >= 0)
			res[i].err = read_memfile(p->err_fd[i], RUN_ERR_KEEP,
						  &res[i].err_len, NULL);
		else
			res[i].err = xstrdup("");
		close_fd(&p->err_fd[i]);
		res[i].out = xstrdup("");
		if (res[i].status != 0)
			rc = -1;
	}
	if (p->out_fd >= 0 && p->n) {
		struct run_result *last = &res[p->n - 1];
		bool over;

		free(last->out);
		last->out = read_memfile(p->out_fd, RUN_CAPTURE_MAX,
					 &last->out_len, &over);
		if (over) {
			last->status = RUN_OUTPUT_TOO_LONG;
			rc = -1;
		}
	}
	close_fd(&p->out_fd);
	p->pgid = 0;
	return rc;
}

int runner_start(const char *const *argv, int in, int out, int err,
		 pid_t *pid)
{
	return start_child(argv, in, out, err, 0, true, pid);
}
