#include "ssh_exec.h"

#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "io.h"
#include "signals.h"

/*
 * The executor (the protocol: ssh_exec.h). Python 3.5 or later, nothing
 * but its standard library; posix_spawnp (3.8), else fork and exec,
 * rather than subprocess, which would double its start-up. A forked
 * python child that runs python (execvp's PATH search) copies its pages:
 * posix_spawnp's vfork does not, 1 ms less a command. The command's
 * output is read until both pipes close (as runner.c's drain: a
 * grandchild that keeps them is waited for), its standard input written
 * as it reads.
 */
static const char executor_py[] =
	"import os,select,signal,struct,sys,time\n"
	"L=int(sys.argv[1]);B=bytearray()\n"
	"os.environ.update(LC_ALL='C',LANGUAGE='')\n"
	"def more():\n"
	" b=os.read(0,65536);B.extend(b);return b\n"
	"def take(n):\n"
	" while len(B)<n:\n"
	"  if not more():sys.exit(0)\n"
	" r=bytes(B[:n]);del B[:n];return r\n"
	"def num(f):f='>'+f;return struct.unpack(f,take(struct.calcsize(f)))[0]\n"
	"def put(b):\n"
	" v=memoryview(b)\n"
	" while v:v=v[os.write(1,v):]\n"
	"def sig(p,s):\n"
	" try:os.killpg(p,s)\n"
	" except OSError:pass\n"
	"D=(signal.SIGPIPE,signal.SIGXFSZ,signal.SIGINT)\n"
	"def start(a,i,o,e):\n"
	" if hasattr(os,'posix_spawnp'):\n"
	"  x=os.POSIX_SPAWN_DUP2\n"
	"  try:return os.posix_spawnp(a[0],a,os.environ,setsid=True,"
	"setsigdef=D,file_actions=[(x,i,0),(x,o,1),(x,e,2)]),0\n"
	"  except OSError as x:return 0,x.errno or 5\n"
	" r,w=os.pipe();p=os.fork()\n"
	" if p==0:\n"
	"  try:\n"
	"   os.setsid()\n"
	"   for s in D:signal.signal(s,signal.SIG_DFL)\n"
	"   os.dup2(i,0);os.dup2(o,1);os.dup2(e,2);os.execvp(a[0],a)\n"
	"  except OSError as x:os.write(w,struct.pack('>i',x.errno or 5))\n"
	"  os._exit(127)\n"
	" os.close(w);x=os.read(r,4);os.close(r)\n"
	" return p,struct.unpack('>i',x)[0] if len(x)==4 else 0\n"
	/* The end of qvm's requests while p runs: stop it, then go. */
	"def gone(p):\n"
	" sig(p,signal.SIGTERM);t=time.monotonic()\n"
	" while os.waitpid(p,os.WNOHANG)[0]==0:\n"
	"  if time.monotonic()-t>5:sig(p,signal.SIGKILL)\n"
	"  time.sleep(0.05)\n"
	" sys.exit(0)\n"
	"def run(a,d):\n"
	" o=os.pipe();e=os.pipe();w=-1\n"
	" if d is None:i=os.open(os.devnull,os.O_RDONLY)\n"
	" else:i,w=os.pipe();os.set_blocking(w,False);d=memoryview(d)\n"
	" p,x=start(a,i,o[1],e[1])\n"
	" for f in(i,o[1],e[1]):os.close(f)\n"
	" if x:\n"
	"  for f in(o[0],e[0]):os.close(f)\n"
	"  if w>=0:os.close(w)\n"
	"  if p:os.waitpid(p,0)\n"
	"  return -1,x,b'',0,b'',0\n"
	" k={o[0]:bytearray(),e[0]:bytearray()};n={o[0]:0,e[0]:0}\n"
	" op=[o[0],e[0]];t=0\n"
	" while op:\n"
	"  if w>=0 and not d:os.close(w);w=-1\n"
	"  if B[:1]==b'K':\n"
	"   del B[:1]\n"
	"   if not t:sig(p,signal.SIGTERM);t=time.monotonic()\n"
	"  if t and time.monotonic()-t>5:sig(p,signal.SIGKILL)\n"
	"  r,wr,_=select.select(op+[0],[w] if w>=0 else[],[],0.2)\n"
	"  if wr:\n"
	"   try:d=d[os.write(w,d):]\n"
	"   except BlockingIOError:pass\n"
	"   except OSError:d=d[:0]\n"
	"  for f in r:\n"
	"   if f==0:\n"
	"    if not more():gone(p)\n"
	"    continue\n"
	"   b=os.read(f,65536)\n"
	"   if not b:op.remove(f);os.close(f);continue\n"
	"   n[f]+=len(b)\n"
	"   if len(k[f])<L:k[f]+=b[:L-len(k[f])]\n"
	" if w>=0:os.close(w)\n"
	" s=os.waitpid(p,0)[1]\n"
	" s=os.WEXITSTATUS(s) if os.WIFEXITED(s) else 128+os.WTERMSIG(s)\n"
	" return s,0,k[o[0]],n[o[0]],k[e[0]],n[e[0]]\n"
	/* A file made whole or not at all, never over another (link). */
	"def write(p,m,d):\n"
	" t=p+b'.qvm'+os.urandom(6).hex().encode();f=-1;c=0\n"
	" try:\n"
	"  f=os.open(t,os.O_WRONLY|os.O_CREAT|os.O_EXCL,0o600);c=1\n"
	"  v=memoryview(d)\n"
	"  while v:v=v[os.write(f,v):]\n"
	"  os.fchmod(f,m);os.close(f);f=-1;os.link(t,p);return 0,b''\n"
	" except OSError as x:\n"
	"  return x.errno or 5,('%s: %s'%(os.fsdecode(p),x.strerror)).encode()\n"
	" finally:\n"
	"  if f>=0:os.close(f)\n"
	"  try:\n"
	"   if c:os.unlink(t)\n"
	"  except OSError:pass\n"
	"while 1:\n"
	" t=take(1)\n"
	" if t==b'P':put(b'P')\n"
	" elif t==b'R':\n"
	"  a=[take(num('I')) for _ in range(num('I'))]\n"
	"  d=take(num('Q')) if take(1)==b'1' else None\n"
	"  s,x,o,no,e,ne=run(a,d)\n"
	"  put(b'X'+struct.pack('>iiQQII',s,x,no,ne,len(o),len(e))+o+e)\n"
	" elif t==b'W':\n"
	"  p=take(num('I'));m=num('I');x,e=write(p,m,take(num('Q')))\n"
	"  put(b'X'+struct.pack('>iiQQII',x and 1,x,0,len(e),0,len(e))+e)\n"
	" elif t!=b'K':sys.exit('qvm executor: unknown request %r'%t)\n";

#define REPLY_HEADER 33

void ssh_exec_argv(struct strvec *argv, size_t limit)
{
	/* -I -S: nothing of the user's python set-up, and a faster start. */
	strvec_pushv(argv, (const char *const[]){ "python3", "-I", "-S", "-c",
						  executor_py, NULL });
	strvec_pushf(argv, "%zu", limit);
}

/* ---- framing ---- */

struct buf {
	unsigned char *p;
	size_t len, alloc;
};

static void buf_add(struct buf *b, const void *data, size_t len)
{
	if (b->len + len > b->alloc) {
		b->alloc = (b->len + len) * 2 + 64;
		b->p = xrealloc(b->p, b->alloc);
	}
	memcpy(b->p + b->len, data, len);
	b->len += len;
}

static void buf_be(struct buf *b, uint64_t v, int bytes)
{
	unsigned char h[8];

	for (int i = 0; i < bytes; i++)
		h[i] = (unsigned char)(v >> (8 * (bytes - 1 - i)));
	buf_add(b, h, (size_t)bytes);
}

static uint64_t be(const unsigned char *p, int bytes)
{
	uint64_t v = 0;

	for (int i = 0; i < bytes; i++)
		v = v << 8 | p[i];
	return v;
}

/* The bytes of fd from where it stands: 0, or -1 with errno (EFBIG past
 * max). */
static int slurp(int fd, struct buf *b, size_t max)
{
	unsigned char chunk[65536];

	for (;;) {
		ssize_t n = read(fd, chunk, sizeof(chunk));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			return 0;
		if (b->len + (size_t)n > max) {
			errno = EFBIG;
			return -1;
		}
		buf_add(b, chunk, (size_t)n);
	}
}

/*
 * Reads len bytes from the executor; while it waits, a pending interrupt
 * sends 'K' once (when stoppable). 0, or -1: it ended (EOF or an error).
 */
static int get(struct ssh_exec *x, void *dst, size_t len, bool stoppable,
	       bool *stopped)
{
	unsigned char *p = dst;

	while (len > 0) {
		struct pollfd pfd = { x->from, POLLIN, 0 };
		ssize_t n;

		if (stoppable && !*stopped && signals_interrupting()) {
			*stopped = true;
			if (io_write_all(x->to, "K", 1) < 0)
				return -1;
		}
		if (poll(&pfd, 1, 200) <= 0)
			continue;
		n = read(x->from, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int ssh_exec_ping(struct ssh_exec *x, unsigned timeout_ms)
{
	struct timespec t0, now;
	char c;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (io_write_all(x->to, "P", 1) < 0)
		return -1;
	for (;;) {
		struct pollfd pfd = { x->from, POLLIN, 0 };
		long long ms;
		ssize_t n;

		if (signals_interrupting()) {
			errno = EINTR;
			return -1;
		}
		clock_gettime(CLOCK_MONOTONIC, &now);
		ms = (now.tv_sec - t0.tv_sec) * 1000LL +
		     (now.tv_nsec - t0.tv_nsec) / 1000000;
		if (ms >= timeout_ms) {
			errno = ETIMEDOUT;
			return -1;
		}
		if (poll(&pfd, 1, 10) <= 0)
			continue;
		n = read(x->from, &c, 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n == 1 && c == 'P')
			return 0;
		/* Not its answer: something else speaks first there. */
		errno = n < 0 ? errno : n == 0 ? EPIPE : EPROTO;
		return -1;
	}
}

static int lost(struct run_result *res, const char *why)
{
	res->out = xstrdup("");
	res->out_len = 0;
	res->err = xstrdup(why);
	res->err_len = strlen(res->err);
	res->status = SSH_EXEC_LOST;
	return SSH_EXEC_LOST;
}

/*
 * Sends the request, reads the answer ('X') into res: its status, what it
 * printed; its errno in *err. The status, or SSH_EXEC_LOST.
 */
static int exchange(struct ssh_exec *x, struct buf *req, bool stoppable,
		    struct run_result *res, int *err, const char **over)
{
	unsigned char h[REPLY_HEADER];
	bool stopped = false;
	uint64_t out_total, err_total;
	size_t out_kept, err_kept;
	int rc, status;

	/* One write: one packet for ssh, no wait for an ACK between two. */
	rc = io_write_all(x->to, req->p, req->len);
	free(req->p);
	if (rc < 0 || get(x, h, sizeof(h), stoppable, &stopped) < 0)
		return lost(res, "it ended");
	status = (int)(int32_t)be(h + 1, 4);
	*err = (int)(int32_t)be(h + 5, 4);
	out_total = be(h + 9, 8);
	err_total = be(h + 17, 8);
	out_kept = (size_t)be(h + 25, 4);
	err_kept = (size_t)be(h + 29, 4);
	if (h[0] != 'X' || out_kept > x->limit || err_kept > x->limit ||
	    out_kept > out_total || err_kept > err_total || status < -1 ||
	    status > 255)
		return lost(res, "it answered what is not qvm's protocol");
	res->out = xmalloc(out_kept + 1);
	res->err = xmalloc(err_kept + 1);
	if (get(x, res->out, out_kept, stoppable, &stopped) < 0 ||
	    get(x, res->err, err_kept, stoppable, &stopped) < 0) {
		run_result_clear(res);
		return lost(res, "it ended");
	}
	res->out[out_kept] = res->err[err_kept] = '\0';
	res->out_len = out_kept;
	res->err_len = err_kept;
	res->status = status;
	/* Never hand on cut output as if it were all. */
	if (out_total > x->limit || err_total > x->limit) {
		*over = out_total > x->limit ? "stdout" : "stderr";
		res->status = RUN_OUTPUT_TOO_LONG;
	}
	return res->status;
}

int ssh_exec_run(struct ssh_exec *x, const char *const *argv,
		 enum run_effect effect, int in_fd, struct run_result *res)
{
	struct buf req = { NULL, 0, 0 };
	const char *over = NULL;
	size_t argc = 0;
	int rc, err = 0;

	memset(res, 0, sizeof(*res));
	while (argv[argc])
		argc++;
	buf_add(&req, "R", 1);
	buf_be(&req, argc, 4);
	for (size_t i = 0; i < argc; i++) {
		buf_be(&req, strlen(argv[i]), 4);
		buf_add(&req, argv[i], strlen(argv[i]));
	}
	if (in_fd >= 0) {
		struct buf in = { NULL, 0, 0 };

		if (slurp(in_fd, &in, x->limit) < 0) {
			err = errno;
			free(in.p);
			free(req.p);
			res->spawn_errno = err;
			res->out = xstrdup("");
			res->err = err == EFBIG ?
				xasprintf("%s: its input is over %zu bytes "
					  "(qvm's limit)", argv[0], x->limit) :
				xasprintf("%s: cannot read its input: %s",
					  argv[0], strerror(err));
			res->err_len = strlen(res->err);
			res->status = RUN_SPAWN_FAILED;
			return RUN_SPAWN_FAILED;
		}
		buf_add(&req, "1", 1);
		buf_be(&req, in.len, 8);
		if (in.len)
			buf_add(&req, in.p, in.len);
		free(in.p);
	} else {
		buf_add(&req, "0", 1);
	}
	rc = exchange(x, &req, effect != RUN_COMMITS, res, &err, &over);
	if (rc == RUN_SPAWN_FAILED) {
		res->spawn_errno = err;
		free(res->err);
		res->err = err == ENOENT ?
			xasprintf("%s: command not found", argv[0]) :
			xasprintf("%s: %s", argv[0], strerror(err));
		res->err_len = strlen(res->err);
	} else if (rc == RUN_OUTPUT_TOO_LONG) {
		free(res->err);
		res->err = xasprintf("%s: printed more than %zu bytes on %s "
				     "(qvm's limit); its output was not used",
				     argv[0], x->limit, over);
		res->err_len = strlen(res->err);
	}
	return rc;
}

int ssh_exec_write(struct ssh_exec *x, const char *path, mode_t mode,
		   const char *data, size_t len, struct run_result *res)
{
	struct buf req = { NULL, 0, 0 };
	const char *over = NULL;
	int rc, err = 0;

	memset(res, 0, sizeof(*res));
	buf_add(&req, "W", 1);
	buf_be(&req, strlen(path), 4);
	buf_add(&req, path, strlen(path));
	buf_be(&req, (uint64_t)mode & 07777, 4);
	buf_be(&req, len, 8);
	if (len)
		buf_add(&req, data, len);
	rc = exchange(x, &req, false, res, &err, &over);
	if (rc == SSH_EXEC_LOST)
		return rc;
	if (rc == 0)
		return 0;
	errno = err > 0 ? err : EIO;
	return -1;
}
