/*
 * host_ssh: the host (host.h) on another machine, over OpenSSH.
 *
 * "qvm -H [USER@]HOST[:PORT]" acts there. host_ssh_open() starts one
 * master connection (ssh -M -N, BatchMode=yes: ssh never prompts) whose
 * control socket lives in a private directory (mkdtemp, mode 0700) that
 * only this run knows, and over it one session that runs qvm's executor
 * there (ssh_exec.h: python3 reading framed requests):
 *   ssh -o BatchMode=yes -o ControlMaster=no -o ControlPath=SOCKET
 *       [-p PORT] HOST -- 'python3' '-I' '-S' '-c' 'PROGRAM' 'LIMIT'
 * Every remote command is then a request to it (argv, stdin bytes; the
 * answer: status, stdout, stderr), so it costs a fork and exec there and
 * a round trip (under a millisecond), not an ssh client, a channel and a
 * login shell (7-12 ms each). It is the same command that "-n -H" prints
 * (ssh [-p PORT] HOST -- 'PROG' 'ARG'...): only the transport differs.
 * host_ssh_close() ends the executor (its standard input closed) and the
 * master (SIGTERM), and removes the directory. Files are written by the
 * executor itself (their bytes in the request, from memory: nothing on
 * the local disk) into a temporary file beside the target, then linked:
 * atomic, and never over an existing file.
 * An image is streamed into a remote device by another remote python3
 * process, on a session of its own, that reads frames (offset, length,
 * bytes: copy_data()'s runs of data, nothing for holes and zero blocks)
 * on its standard input, pwrites them, fsyncs and confirms; the bytes
 * sent are counted and said.
 * A file qemu-img must read there (file_there) goes so into a remote
 * mktemp file, removed at close (named, when it cannot be).
 * Nothing of qvm's is needed on the remote host: sh, coreutils, python3
 * (3.5 or later), and what a local host needs (zfs, virsh, virt-install,
 * genisoimage, qemu-img).
 *
 * A master that has ended (the connection dropped) is replaced, with a
 * new executor, before the next command, and so is an executor that
 * ended on its own (killed there): the rest of the run and its undo
 * still reach the host. The command that ran meanwhile fails with 255
 * and a reason that says which ended. When a new one cannot be made,
 * every later command fails at once with the reason, and the undo names
 * what is left there (undo.h).
 *
 * It touches, locally, only its private directory; remotely, only what
 * the steps ask of the host.
 */
#ifndef QVM_HOST_SSH_H
#define QVM_HOST_SSH_H

#include <stddef.h>
#include <sys/types.h>

#include "host.h"
#include "runner.h"
#include "ssh_exec.h"
#include "strvec.h"

struct host_ssh {
	char *target;		/* [USER@]HOST */
	char *port;		/* or NULL: ssh's own default */
	char *dir;		/* the private directory, or NULL */
	char *socket;		/* DIR/control */
	pid_t master;		/* the master ssh, or 0 */
	struct ssh_exec exec;	/* the executor there (its ssh here) */
	char *unreachable;	/* why it is lost for good, or NULL */
	struct strvec temps;	/* temporary files made there */
	struct runner runner;
	struct host host;	/* use this once open */
};

/* Splits [USER@]HOST[:PORT] (an IPv6 address in brackets: [ADDR]:PORT)
 * into *target and *port (malloc'd; *port NULL without one). Returns 0,
 * or -1 with what is wrong in errbuf. */
int host_ssh_parse(const char *spec, char **target, char **port,
		   char *errbuf, size_t errsize);

/* Connects: 0, or -1 reported under task ("cannot reach HOST: ssh's
 * reason"), with nothing left behind. */
int host_ssh_open(struct host_ssh *s, const char *spec, const char *task);

/* The command a person types to run one there, for "-n": ssh [-p PORT]
 * [USER@]HOST -- (pushed onto via). */
void host_ssh_shown(const struct host_ssh *s, struct strvec *via);

/* Disconnects and removes the private directory; safe to call twice. */
void host_ssh_close(struct host_ssh *s);

#endif
