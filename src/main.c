/*
 * qvm: provision libvirt virtual machines from cloud images on ZFS volumes.
 *
 * main() parses the command line through one command table (so usage can
 * never drift from dispatch), runs the command, and alone decides the exit
 * status: 0 on success, 1 on any error (a failed write to stdout is one),
 * or death by the signal that interrupted qvm once its rollback has run.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dryrun.h"
#include "destroy.h"
#include "host.h"
#include "host_ssh.h"
#include "image.h"
#include "list.h"
#include "msg.h"
#include "runner.h"
#include "signals.h"
#include "strvec.h"
#include "vm.h"
#include "wait.h"

#ifndef QVM_VERSION
#define QVM_VERSION "unknown"
#endif

struct options {
	bool dry_run;
	const struct host *host;
	const struct host *here;	/* this machine (host unless -H) */
	bool scripted;		/* list -H */
	const char *connect;	/* destroy -c URI */
	bool wait;		/* vm -w */
	unsigned timeout;	/* vm -t SECONDS */
	struct image_sums sums;	/* image --sha256, --checksums */
};

struct command {
	const char *name;
	const char *opts;	/* the command's own getopt options */
	int min_args, max_args;
	bool dry_run_ok;
	const char *local_only;	/* why -H does not apply, or NULL */
	int (*run)(const struct options *o, int argc, char **argv);
	const char *args;
	const char *help;
};

static int cmd_image(const struct options *o, int argc, char **argv)
{
	(void)argc;
	return image_import(o->host, o->here, argv[0], argv[1], &o->sums);
}

static int cmd_vm(const struct options *o, int argc, char **argv)
{
	(void)argc;
	return vm_create(o->host, argv[0], o->wait ? o->timeout : 0);
}

static int cmd_wait(const struct options *o, int argc, char **argv)
{
	(void)argc;
	return wait_vm(o->host, argv[0], o->timeout);
}

static int cmd_check(const struct options *o, int argc, char **argv)
{
	(void)o;
	(void)argc;
	return vm_check(argv[0]);
}

static int cmd_list(const struct options *o, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return list_run(o->host, o->scripted);
}

static int cmd_destroy(const struct options *o, int argc, char **argv)
{
	(void)argc;
	return destroy_run(o->host, argv[0], o->connect);
}

static const struct command commands[] = {
	{ "image", "", 2, 2, true, NULL, cmd_image,
	  "[--sha256 HEX | --checksums SUMS] SOURCE ZVOL",
	  "import a cloud image (a path or URL; raw or qcow2, as it is,\n"
	  "           compressed with xz, gzip, zstd or bzip2, or in a tar)\n"
	  "           into a new zvol, snapshot @base; --sha256 HEX or\n"
	  "           --checksums SUMS (a list, path or URL): verified on "
	  "the way" },
	{ "vm", "wt:", 1, 1, true, NULL, cmd_vm, "[-w [-t SECONDS]] QVMFILE",
	  "clone a base, build the cloud-init seed, run virt-install;\n"
	  "           -w: then wait until cloud-init has finished (-t: at "
	  "most\n           SECONDS, default 600)" },
	{ "check", "", 1, 1, false, "check is local: it reads the file "
	  "only", cmd_check, "QVMFILE",
	  "validate a qvm file offline (no zfs, no libvirt)" },
	{ "list", "H", 0, 0, false, NULL, cmd_list, "[-H]",
	  "list the images and VMs qvm made (-H: tab-separated, bytes)" },
	{ "destroy", "c:", 1, 1, false, NULL, cmd_destroy, "[-c URI] NAME",
	  "remove a VM (domain, clone, seed) or an unused image qvm made;\n"
	  "           everything checked first; never a snapshot" },
	{ "wait", "t:", 1, 1, false, NULL, cmd_wait, "[-t SECONDS] NAME",
	  "wait until cloud-init has finished in a VM qvm made (-t: at "
	  "most\n           SECONDS, default 600)" },
};

#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

static void usage(FILE *f)
{
	fprintf(f, "usage:");
	for (size_t i = 0; i < N_COMMANDS; i++)
		fprintf(f, "%s qvm %s%s%s%s%s\n", i ? "      " : "",
			commands[i].local_only ? "" : "[-H HOST] ",
			commands[i].dry_run_ok ? "[-n] " : "",
			commands[i].name, *commands[i].args ? " " : "",
			commands[i].args);
	fprintf(f, "       qvm --help | --version\n");
}

static void help(void)
{
	usage(stdout);
	printf("\ncommands:\n");
	for (size_t i = 0; i < N_COMMANDS; i++)
		printf("  %-8s %s\n", commands[i].name, commands[i].help);
	printf("\noptions:\n"
	       "  -n, --dry-run  check, then print the commands that would "
	       "change the system\n"
	       "  -H, --host [USER@]HOST[:PORT]\n"
	       "                 act on that host over SSH (also QVM_HOST); with -n,\n"
	       "                 print the changes as 'ssh [-p PORT] HOST -- COMMAND'\n"
	       "  -h, --help     show this help\n"
	       "  -V, --version  show the version\n"
	       "\nenvironment: QVM_ZVOL_DIR (/dev/zvol), QVM_SEED_DIR "
	       "(/var/lib/qvm),\n  QVM_DEVICE_TIMEOUT (30), QVM_CACHE_DIR "
	       "(/var/cache/qvm: image's temporary copy\n  of a qcow2 that "
	       "is not a plain local file)\n"
	       "See qvm(1).\n");
}

/* The long forms of the commands' options; each command takes those of
 * its own short options (struct command's opts). */
/* Long-only options: values past any character. */
enum { OPT_SHA256 = 256, OPT_CHECKSUMS };

static const struct option command_longopts[] = {
	{ "sha256", required_argument, NULL, OPT_SHA256 },
	{ "checksums", required_argument, NULL, OPT_CHECKSUMS },
	{ "connect", required_argument, NULL, 'c' },
	{ "wait", no_argument, NULL, 'w' },
	{ "timeout", required_argument, NULL, 't' },
	{ NULL, 0, NULL, 0 },
};

/* The command's own options: argv[0] is the command's name. Leaves
 * optind at its first operand. */
static int parse_command_options(const struct command *cmd,
				 struct options *o, int argc, char **argv)
{
	char optstring[16];
	char err[128];
	bool timeout_given = false;
	int c, li = -1;

	snprintf(optstring, sizeof(optstring), "+:%s", cmd->opts);
	o->timeout = WAIT_TIMEOUT_DEFAULT;
	optind = 0;	/* glibc: start a fresh scan */
	while ((c = getopt_long(argc, argv, optstring, command_longopts,
				&li)) != -1) {
		/* A long option of another command's. */
		if (c >= OPT_SHA256 && strcmp(cmd->name, "image") == 0)
			li = -1;
		else if (c >= OPT_SHA256)
			c = '?';
		else if (c != ':' && c != '?' && !strchr(cmd->opts, c))
			c = '?';
		else
			li = -1;
		switch (c) {
		case 'w':
			o->wait = true;
			break;
		case 't':
			if (wait_parse_timeout(optarg, &o->timeout, err,
					       sizeof(err)) < 0) {
				fprintf(stderr, "qvm %s: %s\n", cmd->name, err);
				return -1;
			}
			timeout_given = true;
			break;
		case 'H':
			o->scripted = true;
			break;
		case 'c':
			o->connect = optarg;
			break;
		case OPT_SHA256:
		case OPT_CHECKSUMS:
			if (o->sums.sha256 || o->sums.list) {
				fprintf(stderr, "qvm %s: --sha256 or "
					"--checksums, once\n", cmd->name);
				return -1;
			}
			if (c == OPT_SHA256)
				o->sums.sha256 = optarg;
			else
				o->sums.list = optarg;
			break;
		case ':':
			fprintf(stderr, "qvm %s: %s needs an argument\n",
				cmd->name, argv[optind - 1]);
			return -1;
		default:
			/* Another command's long option, an unknown long
			 * one (optopt 0, the word is the last one read), or
			 * an unknown short one. */
			if (li >= 0)
				fprintf(stderr, "qvm %s: unknown option "
					"'--%s'\n", cmd->name,
					command_longopts[li].name);
			else if (!optopt)
				fprintf(stderr, "qvm %s: unknown option "
					"'%s'\n", cmd->name, argv[optind - 1]);
			else
				fprintf(stderr, "qvm %s: unknown option "
					"'-%c'\n", cmd->name, optopt);
			return -1;
		}
	}
	/* vm waits only when asked to; wait always does. */
	if (timeout_given && strchr(cmd->opts, 'w') && !o->wait) {
		fprintf(stderr, "qvm %s: -t goes with -w\n", cmd->name);
		return -1;
	}
	return 0;
}

/* What qvm printed must have reached its reader: a failed write to stdout
 * (a full disk, a closed pipe) fails the command, whatever it was. */
static int close_stdout(void)
{
	int e;

	errno = 0;
	if (fflush(stdout) != 0)
		return msg_error("writing the output", "could not write to "
				 "stdout: %s", strerror(errno));
	/* An earlier write failed; stdio has dropped its errno by now. */
	if (ferror(stdout))
		return msg_error("writing the output", "could not write to "
				 "stdout");
	if (fclose(stdout) != 0) {
		e = errno;
		/* stdout is gone: nothing may flush it again. */
		msg_set_streams(stderr, stderr);
		return msg_error("writing the output", "could not write to "
				 "stdout: %s", strerror(e));
	}
	return 0;
}

static int finish(int rc)
{
	if (close_stdout() < 0)
		rc = -1;
	/* Interrupted: the rollback has run; end the way the signal says. */
	signals_reraise();
	return rc == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "dry-run", no_argument, NULL, 'n' },
		{ "host", required_argument, NULL, 'H' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct options o = { .host = &host_local, .here = &host_local };
	struct dryrun dr, dr_here;
	struct host_ssh ssh;
	struct strvec via = STRVEC_INIT;
	const char *remote = getenv("QVM_HOST");
	bool remote_given = false;	/* -H, not the environment */
	const struct command *cmd = NULL;
	int c, nargs, rc;

	/* A closed 0, 1 or 2 would be taken by the next open() and a child's
	 * output would land in it. */
	for (;;) {
		int fd = open("/dev/null", O_RDWR);

		if (fd > 2)
			close(fd);
		if (fd < 0 || fd > 2)
			break;
	}
	/* Seeds hold secrets; nothing qvm writes is for other users unless
	 * it says so explicitly. */
	umask(077);
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+nhVH:", longopts, NULL)) != -1) {
		switch (c) {
		case 'n':
			o.dry_run = true;
			break;
		case 'H':
			remote = optarg;
			remote_given = true;
			break;
		case 'h':
			help();
			return finish(0);
		case 'V':
			printf("qvm %s\n", QVM_VERSION);
			return finish(0);
		default:
			fprintf(stderr, "qvm: unknown option '%s'\n",
				argv[optind - 1]);
			usage(stderr);
			return 1;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return 1;
	}
	for (size_t i = 0; i < N_COMMANDS; i++)
		if (strcmp(argv[optind], commands[i].name) == 0)
			cmd = &commands[i];
	if (!cmd) {
		fprintf(stderr, "qvm: unknown command '%s'\n", argv[optind]);
		usage(stderr);
		return 1;
	}
	argc -= optind;
	argv += optind;
	if (parse_command_options(cmd, &o, argc, argv) < 0) {
		usage(stderr);
		return 1;
	}
	nargs = argc - optind;
	if (nargs < cmd->min_args || nargs > cmd->max_args) {
		fprintf(stderr, "qvm %s: expected %s\n", cmd->name, cmd->args);
		usage(stderr);
		return 1;
	}
	if (o.dry_run && !cmd->dry_run_ok) {
		fprintf(stderr, "qvm %s: --dry-run does not apply\n",
			cmd->name);
		usage(stderr);
		return 1;
	}
	if (remote && !*remote)
		remote = NULL;
	/* A QVM_HOST in the environment is for the commands that act on a
	 * host; one that is local stays local. */
	if (remote && cmd->local_only && !remote_given)
		remote = NULL;
	if (remote && cmd->local_only) {
		fprintf(stderr, "qvm %s: -H does not apply: %s\n", cmd->name,
			cmd->local_only);
		return 1;
	}
	signals_install();
	if (remote) {
		char *task = xasprintf("connecting to %s", remote);

		rc = host_ssh_open(&ssh, remote, task);
		free(task);
		if (rc < 0)
			return finish(-1);
		o.host = &ssh.host;
	}
	/* Reads for real (there, with -H), changes printed. */
	if (o.dry_run) {
		dryrun_init(&dr, stdout, o.host);
		dryrun_init(&dr_here, stdout, &host_local);
		if (remote) {
			host_ssh_shown(&ssh, &via);
			dr.via = strvec_argv(&via);
		}
		o.host = &dr.host;
		o.here = &dr_here.host;
	}
	rc = cmd->run(&o, nargs, argv + optind);
	if (remote)
		host_ssh_close(&ssh);
	strvec_clear(&via);
	return finish(rc);
}
