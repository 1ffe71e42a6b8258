#include "host_ssh.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "copy.h"
#include "io.h"
#include "msg.h"
#include "progress.h"
#include "signals.h"
#include "ssh_exec.h"
#include "strvec.h"
#include "text.h"

#define CONNECT_TIMEOUT_S 15
#define MASTER_ERR "master.err"
#define EXEC_ERR "exec.err"

extern char **environ;

static bool master_alive(struct host_ssh *s, unsigned wait_ms);
static int ensure_master(struct host_ssh *s);
static void exec_stop(struct host_ssh *s, char *why, size_t whysize);
static int spawn(const char *const *argv, int in, int out, int err,
		 pid_t *pid);

/* ---- the spec ---- */

int host_ssh_parse(const char *spec, char **target, char **port,
		   char *errbuf, size_t errsize)
{
	const char *at = strrchr(spec, '@');
	const char *host = at ? at + 1 : spec;
	const char *colon, *end;

	*target = *port = NULL;
	if (!*spec || (at && at == spec))
		return text_fail(errbuf, errsize, "host '%s' is not "
				 "[USER@]HOST[:PORT]", spec);
	if (*host == '[') {
		end = strchr(host, ']');
		if (!end || end == host + 1)
			return text_fail(errbuf, errsize, "host '%s': an IPv6 "
					 "address is written [ADDR] or "
					 "[ADDR]:PORT", spec);
		colon = end[1] == ':' ? end + 1 : NULL;
		if (end[1] && !colon)
			return text_fail(errbuf, errsize, "host '%s' is not "
					 "[USER@]HOST[:PORT]", spec);
		*target = xasprintf("%.*s%.*s", (int)(host - spec), spec,
				    (int)(end - host - 1), host + 1);
	} else {
		colon = strchr(host, ':');
		end = colon ? colon : host + strlen(host);
		if (end == host)
			return text_fail(errbuf, errsize, "host '%s' names no "
					 "host", spec);
		*target = xasprintf("%.*s", (int)(end - spec), spec);
	}
	/* ssh would take a leading '-' as an option. */
	if (**target == '-' || strpbrk(*target, " \t\n'\"\\;&|<>()$`")) {
		free(*target);
		*target = NULL;
		return text_fail(errbuf, errsize, "host '%s' is not "
				 "[USER@]HOST[:PORT]", spec);
	}
	if (colon) {
		char *stop;
		unsigned long p = strtoul(colon + 1, &stop, 10);

		if (!colon[1] || *stop || colon[1] < '0' || colon[1] > '9' ||
		    p < 1 || p > 65535) {
			free(*target);
			*target = NULL;
			return text_fail(errbuf, errsize, "host '%s': the port "
					 "'%s' is not a number from 1 to 65535",
					 spec, colon + 1);
		}
		*port = xasprintf("%lu", p);
	}
	return 0;
}

/* ---- running there ---- */

/* ssh's own options, for every command and the master alike. */
static void ssh_options(const struct host_ssh *s, struct strvec *argv)
{
	strvec_pushv(argv, (const char *const[]){ "ssh", "-o", "BatchMode=yes",
						  NULL });
	strvec_push(argv, "-o");
	strvec_pushf(argv, "ControlPath=%s", s->socket);
	strvec_push(argv, "-o");
	strvec_pushf(argv, "ConnectTimeout=%d", CONNECT_TIMEOUT_S);
	if (s->port) {
		strvec_push(argv, "-p");
		strvec_push(argv, s->port);
	}
}

/* The local argv that runs argv there. */
static void remote_argv(const struct host_ssh *s, const char *const *argv,
			struct strvec *out)
{
	struct strvec cmd = STRVEC_INIT;
	char *line;

	ssh_options(s, out);
	strvec_pushv(out, (const char *const[]){ "-o", "ControlMaster=no",
						 s->target, "--", NULL });
	/* qvm reads what they say: in the C locale, there as here. */
	strvec_pushv(&cmd, (const char *const[]){ "env", "LC_ALL=C",
						  "LANGUAGE=", NULL });
	strvec_pushv(&cmd, argv);
	line = text_shell_join(strvec_argv(&cmd));
	strvec_push(out, line);
	free(line);
	strvec_clear(&cmd);
}

/* The executor ended while it did what ("'zfs' ran", "writing PATH"):
 * res->err says whether the connection went with it, status 255. */
static void exec_lost(struct host_ssh *s, const char *what,
		      struct run_result *res)
{
	char why[512];

	exec_stop(s, why, sizeof(why));
	if (!*why)
		snprintf(why, sizeof(why), "%s", res->err);
	free(res->err);
	/* The master goes with its connection. */
	if (!master_alive(s, 500))
		res->err = xasprintf("ssh: the connection to %s was lost "
				     "while %s\n", s->target, what);
	else
		res->err = xasprintf("qvm's executor on %s ended while %s "
				     "(%s)\n", s->target, what, why);
	res->err_len = strlen(res->err);
	res->status = 255;
}

/*
 * Through the executor (ssh_exec.h): the runner's contract. When the
 * connection or the executor ends meanwhile, 255 (as ssh says its own
 * failures) and a reason that says which.
 */
static int ssh_run_in(struct host_ssh *s, const char *const *argv,
		      enum run_effect effect, int in_fd,
		      struct run_result *res)
{
	int rc;

	if (ensure_master(s) < 0) {
		/* As ssh says a connection it could not make. */
		res->out = xstrdup("");
		res->out_len = 0;
		res->err = xasprintf("%s\n", s->unreachable);
		res->err_len = strlen(res->err);
		res->status = 255;
		return 255;
	}
	rc = ssh_exec_run(&s->exec, argv, effect, in_fd, res);
	if (rc == SSH_EXEC_LOST) {
		char *what = xasprintf("'%s' ran", argv[0]);

		exec_lost(s, what, res);
		free(what);
		rc = 255;
	}
	return rc;
}

static int ssh_run(void *ctx, const char *const *argv,
		   enum run_effect effect, struct run_result *res)
{
	return ssh_run_in(ctx, argv, effect, -1, res);
}

/* Runs a small sh program there; 0 when it exits 0, else -1 with errno
 * (EEXIST for status 3, ENOENT for 4, EINVAL for 5, else EIO) and its
 * reason in errbuf (may be NULL). */
static int sh_there(struct host_ssh *s, const char *prog,
		    const char *const *args, int in_fd, enum run_effect effect,
		    struct run_result *keep, char *errbuf, size_t errsize)
{
	struct strvec argv = STRVEC_INIT;
	struct run_result res = RUN_RESULT_INIT;
	char last[512];
	int rc;

	strvec_pushv(&argv, (const char *const[]){ "sh", "-c", prog, "sh",
						   NULL });
	strvec_pushv(&argv, args);
	rc = ssh_run_in(s, strvec_argv(&argv), effect, in_fd, &res);
	strvec_clear(&argv);
	if (rc != 0)
		text_fail(errbuf, errsize, "%s", run_result_last_err(&res,
				  last, sizeof(last)));
	if (keep)
		*keep = res;
	else
		run_result_clear(&res);
	if (rc == 0)
		return 0;
	errno = rc == 3 ? EEXIST : rc == 4 ? ENOENT : rc == 5 ? EINVAL : EIO;
	return -1;
}

/* ---- the operations ---- */

static int ssh_exists(void *ctx, const char *path)
{
	int rc = sh_there(ctx, "if [ -e \"$1\" ] || [ -L \"$1\" ]; then "
			  "exit 3; fi", (const char *const[]){ path, NULL },
			  -1, RUN_READS, NULL, NULL, 0);

	if (rc == 0)
		return 0;
	return errno == EEXIST ? 1 : -1;
}

static int ssh_make_dir(void *ctx, const char *path, mode_t mode)
{
	char m[8];

	snprintf(m, sizeof(m), "%04o", (unsigned)mode & 07777);
	/* mkdir fails on anything there; the test only names it. */
	return sh_there(ctx, "mkdir -m \"$2\" -- \"$1\" 2>/dev/null && "
			"exit 0; if [ -e \"$1\" ] || [ -L \"$1\" ]; then "
			"exit 3; fi; mkdir -m \"$2\" -- \"$1\"",
			(const char *const[]){ path, m, NULL }, -1,
			RUN_CHANGES, NULL, NULL, 0);
}

/* By the executor itself: no sh, mktemp, cat, chmod, ln and rm there
 * (8-10 ms a file). The bytes (secrets, maybe) go from memory into the
 * request: nothing on the local disk. */
static int ssh_write_file(void *ctx, const char *path, const char *data,
			  size_t len, mode_t mode, char *errbuf,
			  size_t errsize)
{
	struct host_ssh *s = ctx;
	struct run_result res = RUN_RESULT_INIT;
	char last[512];
	int rc, err;

	if (ensure_master(s) < 0) {
		errno = EIO;
		return text_fail(errbuf, errsize, "cannot create %s: %s", path,
				 s->unreachable);
	}
	rc = ssh_exec_write(&s->exec, path, mode, data, len, &res);
	err = errno;
	if (rc == SSH_EXEC_LOST) {
		char *what = xasprintf("writing %s", path);

		exec_lost(s, what, &res);
		free(what);
		err = EIO;
	}
	if (rc != 0)
		text_fail(errbuf, errsize, "cannot create %s: %s", path,
			  run_result_last_err(&res, last, sizeof(last)));
	run_result_clear(&res);
	errno = err;
	return rc == 0 ? 0 : -1;
}

static int ssh_set_mode(void *ctx, const char *path, mode_t mode)
{
	char m[8];

	snprintf(m, sizeof(m), "%04o", (unsigned)mode & 07777);
	return sh_there(ctx, "[ -e \"$1\" ] || exit 4; chmod \"$2\" \"$1\"",
			(const char *const[]){ path, m, NULL }, -1,
			RUN_CHANGES, NULL, NULL, 0);
}

static void ssh_remove_files(void *ctx, const char *const *paths)
{
	struct strvec argv = STRVEC_INIT;
	struct run_result res;

	if (!*paths)
		return;
	strvec_pushv(&argv, (const char *const[]){ "rm", "-f", "--", NULL });
	strvec_pushv(&argv, paths);
	ssh_run(ctx, strvec_argv(&argv), RUN_CHANGES, &res);
	run_result_clear(&res);
	strvec_clear(&argv);
}

static int ssh_remove_dir(void *ctx, const char *dir,
			  const char *const *names, char *errbuf,
			  size_t errsize)
{
	struct strvec args = STRVEC_INIT;
	int rc;

	strvec_push(&args, dir);
	strvec_pushv(&args, names);
	rc = sh_there(ctx, "d=$1; shift; for n; do rm -f -- \"$d/$n\" || "
		      "exit 1; done; if [ -e \"$d\" ]; then rmdir -- \"$d\"; "
		      "fi", strvec_argv(&args), -1, RUN_CHANGES, NULL, errbuf,
		      errsize);
	strvec_clear(&args);
	return rc;
}

static int ssh_wait_path(void *ctx, const char *path, unsigned timeout_ms)
{
	char secs[32];
	int rc;

	snprintf(secs, sizeof(secs), "%u.%03u", timeout_ms / 1000,
		 timeout_ms % 1000);
	rc = sh_there(ctx, "timeout \"$2\" sh -c 'until [ -b \"$1\" ] || "
		      "[ -f \"$1\" ]; do sleep 0.1; done' sh \"$1\" || exit 4",
		      (const char *const[]){ path, secs, NULL }, -1,
		      RUN_READS, NULL, NULL, 0);
	if (rc == 0)
		return 0;
	if (signals_pending())
		errno = EINTR;
	else if (errno == ENOENT)
		errno = ETIMEDOUT;
	return -1;
}

/* ---- streaming into a device there ---- */

/*
 * The writer there, the one process a copy runs: frames of a 16-byte
 * header (offset, length: big-endian 64-bit) and that many bytes, each
 * pwritten at its offset. A frame of length 0 ends the stream; its offset
 * is the number of data bytes sent, checked against what arrived. Then
 * fsync, and "ok N" on stdout. Any failure (a short write, ENOSPC, EIO, a
 * stream that stops early) is its reason on stderr and exit 1: nothing is
 * acknowledged that is not on the device. The data is read into one
 * buffer (readinto: no new bytes object per read) and written 1 MiB at a
 * time; every 8 MiB the kernel is asked to start writing back
 * (sync_file_range, through ctypes where it is there, as copy.c does
 * here), so the final fsync has little left: twice as fast as read() and
 * one fsync of it all.
 */
static const char writer_py[] =
	"import os,struct,sys\n"
	"d=sys.argv[1];i=sys.stdin.buffer.raw;n=0;o=0;B=1<<20\n"
	"m=memoryview(bytearray(B))\n"
	"try:\n"
	" import ctypes;sfr=ctypes.CDLL(None).sync_file_range;Z=ctypes.c_int64(0)\n"
	"except Exception:sfr=None\n"
	"def fill(v):\n"
	" k=0\n"
	" while k<len(v):\n"
	"  r=i.readinto(v[k:])\n"
	"  if not r:sys.exit('%s: the data stopped after %d bytes' % (d,n+k))\n"
	"  k+=r\n"
	"try:\n"
	" f=os.open(d,os.O_WRONLY);s=0\n"
	" while 1:\n"
	"  fill(m[:16]);o,l=struct.unpack('>QQ',m[:16])\n"
	"  if l==0:break\n"
	"  while l:\n"
	"   k=min(l,B);fill(m[:k]);v=m[:k]\n"
	"   while v:\n"
	"    w=os.pwrite(f,v,o)\n"
	"    if w<=0:raise OSError(28,'short write (%d of %d bytes)' % (k-len(v),k))\n"
	"    v=v[w:];o+=w\n"
	"   l-=k;n+=k\n"
	"   if sfr and n-s>=8*B:sfr(f,Z,Z,2);s=n\n"
	" if o!=n:sys.exit('%s: %d bytes of data arrived, %d were sent' % (d,n,o))\n"
	" o=n;os.fsync(f);os.close(f)\n"
	"except OSError as e:sys.exit('writing %s at byte %d: %s' % (d,o,e.strerror))\n"
	"print('ok',n)\n";

#define FRAME_HEADER 16
#define WRITER_SAYS_MAX 4096

struct stream {
	struct host_ssh *s;
	int fd;			/* the writer's standard input (ssh's) */
	uint64_t data;		/* data bytes framed */
	uint64_t sent;		/* all bytes written to fd */
};

static int put_frame(struct stream *st, uint64_t off, const void *buf,
		     size_t len)
{
	unsigned char h[FRAME_HEADER];

	for (int i = 0; i < 8; i++) {
		h[i] = (unsigned char)(off >> (56 - 8 * i));
		h[8 + i] = (unsigned char)((uint64_t)len >> (56 - 8 * i));
	}
	if (io_write_all(st->fd, h, sizeof(h)) < 0 ||
	    (len && io_write_all(st->fd, buf, len) < 0))
		return -1;
	st->sent += sizeof(h) + len;
	return 0;
}

static int stream_write(void *ctx, const void *buf, size_t len, uint64_t off,
			char *errbuf, size_t errsize)
{
	struct stream *st = ctx;

	if (put_frame(st, off, buf, len) < 0)
		return copy_fail(errbuf, errsize, errno, "sending the data at "
				 "byte %llu to %s: %s",
				 (unsigned long long)off, st->s->target,
				 strerror(errno));
	st->data += len;
	return 0;
}

static int stream_finish(void *ctx, char *errbuf, size_t errsize)
{
	struct stream *st = ctx;

	if (put_frame(st, st->data, NULL, 0) < 0)
		return copy_fail(errbuf, errsize, errno, "ending the data for "
				 "%s: %s", st->s->target, strerror(errno));
	return 0;
}

/* What the writer said on fd (a memfd), NUL-terminated, malloc'd. */
static char *writer_said(int fd, size_t *len)
{
	char *buf = xmalloc(WRITER_SAYS_MAX + 1);
	ssize_t n = pread(fd, buf, WRITER_SAYS_MAX, 0);

	*len = n > 0 ? (size_t)n : 0;
	buf[*len] = '\0';
	return buf;
}

/*
 * Runs the writer there (one ssh through the master), hands it the data
 * as copy_data() finds it, and takes its word that all of it is on the
 * device. What reached ssh's standard input is counted and said.
 */
static int ssh_copy_in(void *ctx, const struct copy_source *src,
		       const char *src_name,
		       const char *dest, uint64_t size,
		       struct copy_stats *stats, char *errbuf,
		       size_t errsize)
{
	struct host_ssh *s = ctx;
	struct stream st = { s, -1, 0, 0 };
	const struct copy_sink sink = { stream_write, NULL, stream_finish,
					&st };
	struct run_result res = RUN_RESULT_INIT;
	struct strvec argv = STRVEC_INIT;
	struct progress p;
	int pipefd[2] = { -1, -1 }, out = -1, err = -1;
	int rc, e;
	int status = 255 << 8;	/* as if ssh failed, should wait fail */
	pid_t pid = 0;
	char last[512], *stop;

	(void)src_name;
	memset(stats, 0, sizeof(*stats));
	if (ensure_master(s) < 0)
		return copy_fail(errbuf, errsize, EIO, "%s", s->unreachable);
	out = memfd_create("qvm-writer-out", MFD_CLOEXEC);
	err = memfd_create("qvm-writer-err", MFD_CLOEXEC);
	if (out < 0 || err < 0 || pipe2(pipefd, O_CLOEXEC) < 0) {
		rc = copy_fail(errbuf, errsize, errno, "cannot start the "
			       "copy to %s: %s", s->target, strerror(errno));
		goto done;
	}
	st.fd = pipefd[1];
	remote_argv(s, (const char *const[]){ "python3", "-c", writer_py,
					      dest, NULL }, &argv);
	e = spawn(strvec_argv(&argv), pipefd[0], out, err, &pid);
	close(pipefd[0]);
	if (e != 0) {
		rc = copy_fail(errbuf, errsize, e, "cannot run ssh: %s",
			       e == ENOENT ? "command not found" :
			       strerror(e));
		goto done;
	}
	progress_begin(&p, msg_out(), "Copying");
	rc = copy_data_from(src, size, &sink, stats, progress_update, &p,
			    errbuf, errsize);
	e = errno;
	if (rc < 0 && p.tty)
		fputc('\n', msg_out());
	/* The end of the data, for the writer: then its word. */
	close(st.fd);
	st.fd = -1;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	res.status = WIFEXITED(status) ? WEXITSTATUS(status)
				       : 128 + WTERMSIG(status);
	res.out = writer_said(out, &res.out_len);
	res.err = writer_said(err, &res.err_len);
	/* Interrupted, or the image could not be read: that is the reason;
	 * a write that failed (EPIPE): the writer's. */
	if (rc < 0 && e != EPIPE) {
		errno = e;
		goto done;
	}
	if (res.status != 0) {
		/* The writer's reason (ENOSPC, EIO...) over ours (EPIPE). */
		if (res.status == 255 && !master_alive(s, 500))
			snprintf(last, sizeof(last), "the connection to %s "
				 "was lost", s->target);
		else
			run_result_last_err(&res, last, sizeof(last));
		rc = copy_fail(errbuf, errsize, EIO, "on %s: %s%s", s->target,
			       last, res.status == 127 ? " (qvm needs python3 "
			       "there to write an image)" : "");
		goto done;
	}
	if (rc < 0) {
		errno = e;
		goto done;
	}
	if (strncmp(res.out, "ok ", 3) != 0 ||
	    strtoull(res.out + 3, &stop, 10) != st.data || *stop != '\n') {
		rc = copy_fail(errbuf, errsize, EIO, "on %s: the writer did "
			       "not confirm the %llu bytes of data (it said "
			       "'%.60s')", s->target,
			       (unsigned long long)st.data, res.out);
		goto done;
	}
	progress_end(&p, stats->written);
	msg_info("Sent %llu bytes over SSH: %llu bytes of data, %llu of "
		 "framing", (unsigned long long)st.sent,
		 (unsigned long long)st.data,
		 (unsigned long long)(st.sent - st.data));
done:
	e = errno;
	if (st.fd >= 0)
		close(st.fd);
	if (out >= 0)
		close(out);
	if (err >= 0)
		close(err);
	run_result_clear(&res);
	strvec_clear(&argv);
	errno = e;
	return rc;
}

/* A temporary file there, of the source's size, and its data in it. */
static int ssh_file_there(void *ctx, int src_fd, const char *src_name,
			  char **there, char *errbuf, size_t errsize)
{
	struct host_ssh *s = ctx;
	struct run_result res = RUN_RESULT_INIT;
	struct copy_stats stats;
	off_t end = lseek(src_fd, 0, SEEK_END);
	char size[32], why[512];
	char *nl;

	if (end < 0)
		return text_fail(errbuf, errsize, "cannot read %s: %s",
				 src_name, strerror(errno));
	snprintf(size, sizeof(size), "%lld", (long long)end);
	msg_info("Sending %s to %s (qemu-img reads it there)", src_name,
		 s->target);
	/* A file that cannot be given its size is removed there at once:
	 * only a name that is printed is known, and removed at close. */
	if (sh_there(s, "t=$(mktemp \"${TMPDIR:-/var/tmp}/qvm-image."
		     "XXXXXX\") && { truncate -s \"$1\" \"$t\" || "
		     "{ rm -f \"$t\"; exit 1; }; } && echo \"$t\"",
		     (const char *const[]){ size, NULL }, -1, RUN_CHANGES,
		     &res, why, sizeof(why)) < 0 ||
	    !(nl = memchr(res.out, '\n', res.out_len)) || nl == res.out) {
		bool said = res.status != 0;

		run_result_clear(&res);
		errno = EIO;
		return text_fail(errbuf, errsize, "cannot make a temporary "
				 "file for %s on %s: %s", src_name, s->target,
				 said ? why : "mktemp said no name");
	}
	*nl = '\0';
	strvec_push(&s->temps, res.out);
	run_result_clear(&res);
	*there = xstrdup(s->temps.v[s->temps.n - 1]);
	if (ssh_copy_in(s, &COPY_SOURCE_FD(src_fd), src_name, *there,
			(uint64_t)end, &stats, why, sizeof(why)) < 0) {
		int e = errno;

		free(*there);
		*there = NULL;
		errno = e;
		return text_fail(errbuf, errsize, "sending %s to %s: %s",
				 src_name, s->target, why);
	}
	return 0;
}

/* Prints the file's size on a line of its own, then len bytes from off. */
static ssize_t ssh_read_at(void *ctx, const char *path, uint64_t off,
			   void *buf, size_t len, uint64_t *size)
{
	struct run_result res = RUN_RESULT_INIT;
	char o[32], l[32];
	char *nl, *stop;
	size_t got;

	snprintf(o, sizeof(o), "%llu", (unsigned long long)off);
	snprintf(l, sizeof(l), "%zu", len);
	if (sh_there(ctx, "[ -e \"$1\" ] || exit 4; [ -f \"$1\" ] || exit 5; "
		     "wc -c < \"$1\" && tail -c +$(($2 + 1)) \"$1\" | "
		     "head -c \"$3\"", (const char *const[]){ path, o, l,
							    NULL },
		     -1, RUN_READS, &res, NULL, 0) < 0) {
		int err = errno;

		run_result_clear(&res);
		errno = err;
		return -1;
	}
	nl = memchr(res.out, '\n', res.out_len);
	errno = 0;
	*size = nl ? strtoull(res.out, &stop, 10) : 0;
	if (!nl || errno || stop == res.out) {
		run_result_clear(&res);
		errno = EIO;
		return -1;
	}
	got = res.out_len - (size_t)(nl + 1 - res.out);
	if (got > len)
		got = len;
	memcpy(buf, nl + 1, got);
	run_result_clear(&res);
	return (ssize_t)got;
}

static void ssh_end(void *ctx, const char *done)
{
	struct host_ssh *s = ctx;

	msg_info("%s on %s", done, s->target);
}

static const struct host_ops ssh_ops = {
	.say = host_real_say,
	.sees_changes = host_real_sees_changes,
	.exists = ssh_exists,
	.make_dir = ssh_make_dir,
	.write_file = ssh_write_file,
	.set_mode = ssh_set_mode,
	.remove_files = ssh_remove_files,
	.remove_dir = ssh_remove_dir,
	.wait_path = ssh_wait_path,
	.copy_in = ssh_copy_in,
	.file_there = ssh_file_there,
	.read_at = ssh_read_at,
	.begin = host_real_begin,
	.end = ssh_end,
};

/* ---- the connection ---- */

/* ssh's last words, from the stderr file name (MASTER_ERR, EXEC_ERR);
 * "" if none. */
static void ssh_said(const struct host_ssh *s, const char *name, char *buf,
		     size_t size)
{
	char *path = xasprintf("%s/%s", s->dir, name);
	struct run_result res = RUN_RESULT_INIT;
	FILE *f = fopen(path, "re");
	char text[4096];
	size_t n = 0;

	if (f) {
		n = fread(text, 1, sizeof(text) - 1, f);
		fclose(f);
	}
	text[n] = '\0';
	res.err = text;
	res.err_len = n;
	res.status = 255;
	run_result_last_err(&res, buf, size);
	if (!*text)
		*buf = '\0';
	free(path);
}

/* runner_start(): ended with qvm, however it ends (no master connection
 * outlives the run); 0, or an errno. */
static int spawn(const char *const *argv, int in, int out, int err,
		 pid_t *pid)
{
	if (runner_start(argv, in, out, err, pid) < 0) {
		*pid = 0;
		return errno;
	}
	return 0;
}

static int start_master(struct host_ssh *s, char *why, size_t whysize)
{
	struct strvec argv = STRVEC_INIT;
	char *errpath = xasprintf("%s/%s", s->dir, MASTER_ERR);
	struct timespec poll = { 0, 2 * 1000000L };
	struct stat st;
	int rc, status, null, err;

	/* A master killed leaves its socket behind: not a connection. */
	unlink(s->socket);
	ssh_options(s, &argv);
	/* A connection that stops answering ends the master (and so shows
	 * as lost) within a minute. AES-GCM first (then ssh's own list):
	 * with AES instructions it carries an image about twice as fast as
	 * ChaCha20, ssh's first choice. */
	strvec_pushv(&argv, (const char *const[]){
		"-M", "-N", "-o", "ControlPersist=no", "-o",
		"ServerAliveInterval=15", "-o", "ServerAliveCountMax=3", "-o",
		"Ciphers=^aes128-gcm@openssh.com,aes256-gcm@openssh.com",
		s->target, NULL });
	null = open("/dev/null", O_RDWR | O_CLOEXEC);
	err = open(errpath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (null < 0 || err < 0)
		rc = errno;
	else
		rc = spawn(strvec_argv(&argv), null, null, err, &s->master);
	if (null >= 0)
		close(null);
	if (err >= 0)
		close(err);
	strvec_clear(&argv);
	free(errpath);
	if (rc != 0) {
		s->master = 0;
		snprintf(why, whysize, "ssh: %s", rc == ENOENT ?
			 "command not found" : strerror(rc));
		return -1;
	}
	/* Up once its control socket is there; gone if it gave up. */
	for (int i = 0; i < (CONNECT_TIMEOUT_S + 5) * 500; i++) {
		if (stat(s->socket, &st) == 0 && S_ISSOCK(st.st_mode))
			return 0;
		if (waitpid(s->master, &status, WNOHANG) == s->master) {
			s->master = 0;
			ssh_said(s, MASTER_ERR, why, whysize);
			if (!*why)
				snprintf(why, whysize, "ssh ended");
			return -1;
		}
		if (signals_interrupting()) {
			snprintf(why, whysize, "interrupted");
			return -1;
		}
		nanosleep(&poll, NULL);
	}
	snprintf(why, whysize, "no connection after %d s",
		 CONNECT_TIMEOUT_S + 5);
	return -1;
}

/* Whether the master still runs (it ends with its connection); looks
 * again for up to wait_ms, as it may take that long to notice. */
static bool master_alive(struct host_ssh *s, unsigned wait_ms)
{
	int status;

	for (unsigned t = 0; s->master > 0; t += 50) {
		if (waitpid(s->master, &status, WNOHANG) != 0) {
			s->master = 0;
			break;
		}
		if (t >= wait_ms)
			return true;
		nanosleep(&(struct timespec){ 0, 50000000L }, NULL);
	}
	return false;
}

/* Waits up to wait_ms for pid to end: its wait status, or -1 (it runs). */
static int reap(pid_t pid, unsigned wait_ms)
{
	int status;

	for (unsigned t = 0;; t += 2) {
		pid_t got = waitpid(pid, &status, WNOHANG);

		if (got == pid || (got < 0 && errno != EINTR))
			return got == pid ? status : 0;
		if (t >= wait_ms)
			return -1;
		nanosleep(&(struct timespec){ 0, 2000000L }, NULL);
	}
}

/*
 * Starts the executor there (ssh_exec.h), a session of the master, and
 * waits for its first answer. 0, or -1 with why.
 */
static int exec_start(struct host_ssh *s, char *why, size_t whysize)
{
	struct strvec argv = STRVEC_INIT, prog = STRVEC_INIT;
	char *errpath = xasprintf("%s/%s", s->dir, EXEC_ERR);
	int in[2] = { -1, -1 }, out[2] = { -1, -1 }, err, rc, e;
	char *line;

	s->exec.limit = RUN_CAPTURE_MAX;
	ssh_options(s, &argv);
	strvec_pushv(&argv, (const char *const[]){ "-o", "ControlMaster=no",
						   s->target, "--", NULL });
	ssh_exec_argv(&prog, RUN_CAPTURE_MAX);
	line = text_shell_join(strvec_argv(&prog));
	strvec_push(&argv, line);
	free(line);
	strvec_clear(&prog);
	err = open(errpath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	free(errpath);
	if (err < 0 || pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0)
		rc = errno;
	else
		rc = spawn(strvec_argv(&argv), in[0], out[1], err,
			   &s->exec.pid);
	strvec_clear(&argv);
	if (err >= 0)
		close(err);
	if (in[0] >= 0)
		close(in[0]);
	if (out[1] >= 0)
		close(out[1]);
	s->exec.to = in[1];
	s->exec.from = out[0];
	if (rc != 0) {
		s->exec.pid = 0;
		exec_stop(s, why, whysize);
		snprintf(why, whysize, "ssh: %s", rc == ENOENT ?
			 "command not found" : strerror(rc));
		return -1;
	}
	if (ssh_exec_ping(&s->exec, (CONNECT_TIMEOUT_S + 5) * 1000) == 0)
		return 0;
	e = errno;
	exec_stop(s, why, whysize);
	if (e == EINTR)
		snprintf(why, whysize, "interrupted");
	else if (e == EPROTO)
		snprintf(why, whysize, "something there printed before "
			 "python3 answered (a login script of the remote "
			 "shell?)");
	else if (!*why)
		snprintf(why, whysize, "%s", e == ETIMEDOUT ? "no answer" :
			 "it ended at once");
	return -1;
}

/*
 * Ends the executor: its standard input closed, it exits (and so does
 * its ssh); one that does not is terminated. Its last words (ssh's, or
 * the remote python's) in why, "" if none; "(qvm needs python3 there)"
 * when the remote shell did not find it.
 */
static void exec_stop(struct host_ssh *s, char *why, size_t whysize)
{
	int status = 0;

	if (s->exec.to >= 0)
		close(s->exec.to);
	if (s->exec.from >= 0)
		close(s->exec.from);
	s->exec.to = s->exec.from = -1;
	if (s->exec.pid > 0) {
		status = reap(s->exec.pid, 2000);
		if (status < 0) {
			kill(s->exec.pid, SIGTERM);
			status = reap(s->exec.pid, 2000);
		}
		if (status < 0) {
			kill(s->exec.pid, SIGKILL);
			status = reap(s->exec.pid, 2000);
		}
	}
	s->exec.pid = 0;
	if (!why)
		return;
	ssh_said(s, EXEC_ERR, why, whysize);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 127) {
		size_t n = strlen(why);

		snprintf(why + n, whysize - n, "%s(qvm needs python3 there)",
			 n ? " " : "");
	}
}

/*
 * Before each remote command: a master that has ended (the connection
 * dropped, or was killed) is replaced by a new one, so that the rest of
 * the run, and above all its undo, still reaches the host. When that
 * fails, every later command fails at once with the reason (ssh would
 * otherwise try a connection of its own for each, and time out).
 */
static int ensure_master(struct host_ssh *s)
{
	char why[512];

	if (s->unreachable)
		return -1;
	if (master_alive(s, 0)) {
		if (s->exec.pid > 0 && reap(s->exec.pid, 0) < 0)
			return 0;
		if (s->exec.pid > 0)
			exec_stop(s, NULL, 0);
		msg_info("qvm's executor on %s ended; starting it again",
			 s->target);
		if (exec_start(s, why, sizeof(why)) == 0)
			return 0;
		s->unreachable = xasprintf("qvm's executor on %s ended and "
					   "cannot be started again (%s)",
					   s->target, why);
		return -1;
	}
	msg_info("The connection to %s was lost; connecting again",
		 s->target);
	/* Its executor went with it. */
	exec_stop(s, NULL, 0);
	if (start_master(s, why, sizeof(why)) == 0 &&
	    exec_start(s, why, sizeof(why)) == 0)
		return 0;
	if (s->master > 0)
		kill(s->master, SIGTERM);
	s->unreachable = xasprintf("the connection to %s%s%s was lost and "
				   "cannot be made again (%s)", s->target,
				   s->port ? " port " : "",
				   s->port ? s->port : "", why);
	return -1;
}

int host_ssh_open(struct host_ssh *s, const char *spec, const char *task)
{
	const char *tmp = getenv("TMPDIR");
	char errbuf[512];

	memset(s, 0, sizeof(*s));
	s->exec.to = s->exec.from = -1;
	if (host_ssh_parse(spec, &s->target, &s->port, errbuf,
			   sizeof(errbuf)) < 0)
		return msg_error(task, "%s", errbuf);
	/* A socket path is at most 107 bytes: /tmp, not a deep TMPDIR. */
	s->dir = xasprintf("%s/qvm-ssh-XXXXXX", tmp && *tmp &&
			   strlen(tmp) < 60 ? tmp : "/tmp");
	if (!mkdtemp(s->dir)) {
		msg_error(task, "cannot make a private directory for the SSH "
			  "connection (%s): %s", s->dir, strerror(errno));
		free(s->dir);
		s->dir = NULL;
		host_ssh_close(s);
		return -1;
	}
	s->socket = xasprintf("%s/control", s->dir);
	s->runner.run = ssh_run;
	s->runner.ctx = s;
	s->host.runner = &s->runner;
	s->host.ops = &ssh_ops;
	s->host.ctx = s;
	s->host.name = s->target;
	if (start_master(s, errbuf, sizeof(errbuf)) < 0) {
		msg_error(task, "cannot reach %s%s%s over SSH: %s; nothing was "
			  "changed", s->target, s->port ? " port " : "",
			  s->port ? s->port : "", errbuf);
		host_ssh_close(s);
		return -1;
	}
	if (exec_start(s, errbuf, sizeof(errbuf)) < 0) {
		msg_error(task, "cannot run commands on %s%s%s over SSH: %s; "
			  "nothing was changed", s->target,
			  s->port ? " port " : "", s->port ? s->port : "",
			  errbuf);
		host_ssh_close(s);
		return -1;
	}
	return 0;
}

void host_ssh_shown(const struct host_ssh *s, struct strvec *via)
{
	strvec_push(via, "ssh");
	if (s->port) {
		strvec_push(via, "-p");
		strvec_push(via, s->port);
	}
	strvec_push(via, s->target);
	strvec_push(via, "--");
}

/* The temporary files this run made there; what cannot be removed is
 * named. */
static void remove_temps(struct host_ssh *s)
{
	struct strvec argv = STRVEC_INIT;
	struct run_result res = RUN_RESULT_INIT;
	char last[512];

	if (!s->temps.n)
		return;
	strvec_pushv(&argv, (const char *const[]){ "rm", "-f", "--", NULL });
	strvec_pushv(&argv, strvec_argv(&s->temps));
	if (ssh_run(s, strvec_argv(&argv), RUN_COMMITS, &res) != 0) {
		char *task = xasprintf("closing the connection to %s",
				       s->target);

		for (size_t i = 0; i < s->temps.n; i++)
			msg_error(task, "left on %s: temporary file %s (%s); "
				  "remove it by hand", s->target,
				  s->temps.v[i], run_result_last_err(&res, last,
						       sizeof(last)));
		free(task);
	}
	run_result_clear(&res);
	strvec_clear(&argv);
	strvec_clear(&s->temps);
}

void host_ssh_close(struct host_ssh *s)
{
	if (s->target)
		remove_temps(s);
	exec_stop(s, NULL, 0);
	/* Not when it has ended already (the connection dropped). ssh ends
	 * a master on SIGTERM as on "ssh -O exit", without another ssh. */
	if (s->master > 0 && reap(s->master, 0) < 0) {
		kill(s->master, SIGTERM);
		if (reap(s->master, 2000) < 0) {
			kill(s->master, SIGKILL);
			reap(s->master, 2000);
		}
	}
	s->master = 0;
	if (s->dir) {
		char *p = xasprintf("%s/%s", s->dir, MASTER_ERR);

		unlink(p);
		free(p);
		p = xasprintf("%s/%s", s->dir, EXEC_ERR);
		unlink(p);
		free(p);
		if (s->socket)
			unlink(s->socket);
		rmdir(s->dir);
	}
	free(s->dir);
	free(s->socket);
	free(s->target);
	free(s->port);
	free(s->unreachable);
	s->dir = s->socket = s->target = s->port = s->unreachable = NULL;
}
