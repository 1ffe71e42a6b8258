#include "vm.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "device.h"
#include "dryrun.h"
#include "msg.h"
#include "qvmfile.h"
#include "seed.h"
#include "signals.h"
#include "strvec.h"
#include "text.h"
#include "undo.h"
#include "virsh.h"
#include "vmargs.h"
#include "wait.h"
#include "zfs.h"

/* Everything one provisioning run knows; freed in one place. */
struct vm_run {
	const struct runner *r;
	bool dry_run;
	struct qvmfile qf;
	char *task;
	char *snapshot;		/* BASE@base */
	char *target;		/* PARENT/NAME */
	char *device;		/* ZVOL_DIR/PARENT/NAME */
	char *seed_dir;		/* SEED_DIR/NAME */
	char *iso;		/* SEED_DIR/NAME/seed.iso */
	const char *connect;	/* libvirt URI from the vm document, or NULL */
	char *console;		/* the serial console's log, or NULL */
	bool console_ours;	/* qvm adds the serial console (and its log) */
	unsigned wait;		/* seconds to wait for cloud-init, or 0 */
	struct strvec props;	/* zfs clone -o arguments */
	char run_id[17];	/* qvm:run: this run's mark on what it makes */
	struct undo undo;
};

const char *vm_seed_dir(void)
{
	const char *d = getenv("QVM_SEED_DIR");

	return d && *d ? d : SEED_DIR_DEFAULT;
}

/* ---- undo actions; each owns a malloc'd argument ---- */

struct seed_undo {
	char *dir;
	char *iso;
	char *console;	/* the console log libvirt writes once it runs */
};

static int undo_seed(void *arg, char **why)
{
	struct seed_undo *s = arg;

	if (unlink(s->iso) < 0 && errno != ENOENT) {
		*why = xasprintf("%s: %s", s->iso, strerror(errno));
		return -1;
	}
	if (unlink(s->console) < 0 && errno != ENOENT) {
		*why = xasprintf("%s: %s", s->console, strerror(errno));
		return -1;
	}
	if (rmdir(s->dir) < 0) {
		*why = xasprintf("%s: %s", s->dir, strerror(errno));
		return -1;
	}
	return 0;
}

static void free_seed_undo(void *arg)
{
	struct seed_undo *s = arg;

	free(s->dir);
	free(s->iso);
	free(s->console);
	free(s);
}

struct domain_undo {
	const struct runner *r;
	char *name;
	char *connect;
};

static int undo_domain(void *arg, char **why)
{
	struct domain_undo *d = arg;
	struct strvec argv = STRVEC_INIT;
	struct run_result res;
	char last[512];
	int status;

	/* Stop it if it runs; "not running" is fine. */
	virsh_argv(&argv, d->connect, "destroy", d->name);
	runner_run(d->r, strvec_argv(&argv), RUN_CHANGES, &res);
	run_result_clear(&res);
	strvec_clear(&argv);

	virsh_argv(&argv, d->connect, "undefine", d->name);
	strvec_push(&argv, "--nvram");
	status = runner_run(d->r, strvec_argv(&argv), RUN_CHANGES, &res);
	strvec_clear(&argv);
	/* virt-install may have failed before defining it: nothing to undo. */
	if (status != 0 && !virsh_domain_missing(&res)) {
		*why = xstrdup(run_result_last_err(&res, last, sizeof(last)));
		run_result_clear(&res);
		return -1;
	}
	run_result_clear(&res);
	return 0;
}

static void free_domain_undo(void *arg)
{
	struct domain_undo *d = arg;

	free(d->name);
	free(d->connect);
	free(d);
}

/* ---- checks before any change ---- */

static int check_host(struct vm_run *v)
{
	struct zfs_result zr;
	char *value = NULL;
	uint64_t base_size, want;
	int rc;

	rc = zfs_exists(v->r, v->snapshot, &zr);
	if (rc < 0)
		return zfs_report(v->task, "look up", v->snapshot, &zr);
	if (rc == 0)
		return msg_error(v->task, "the base snapshot %s does not "
				 "exist; make it with 'qvm image IMAGE %s'",
				 v->snapshot, v->qf.base);

	rc = zfs_exists(v->r, v->target, &zr);
	if (rc < 0)
		return zfs_report(v->task, "look up", v->target, &zr);
	if (rc == 1)
		return msg_error(v->task, "%s already exists; qvm leaves it "
				 "untouched (choose another name, or 'qvm "
				 "destroy %s' if qvm made it)", v->target,
				 v->qf.name);

	if (!v->qf.volsize)
		return 0;
	if (zfs_get(v->r, v->snapshot, "volsize", &value, &zr) < 0)
		return zfs_report(v->task, "read the volsize of", v->snapshot,
				  &zr);
	rc = zfs_parse_size(value, &base_size);
	free(value);
	if (rc < 0)
		return msg_error(v->task, "zfs gave an unreadable volsize for "
				 "%s", v->snapshot);
	if (zfs_parse_size(v->qf.volsize, &want) < 0)
		return msg_error(v->task, "volsize '%s' is not a size",
				 v->qf.volsize);
	if (want < base_size)
		return msg_error(v->task, "volsize %s is smaller than the "
				 "base %s (%llu bytes); a clone cannot shrink "
				 "below its image", v->qf.volsize, v->snapshot,
				 (unsigned long long)base_size);
	return 0;
}

/* ---- the steps ---- */

static int make_dir(const char *path, mode_t mode)
{
	int err;

	if (mkdir(path, mode) < 0)
		return -1;
	/* qvm runs with umask 077; libvirt's QEMU user must traverse. */
	if (chmod(path, mode) == 0)
		return 0;
	err = errno;
	rmdir(path);
	errno = err;
	return -1;
}

static int step_seed(struct vm_run *v)
{
	const char *base = vm_seed_dir();
	struct seed_undo *su;
	char *what;

	msg_info("Creating seed %s", v->iso);
	if (v->dry_run) {
		dryrun_print(msg_out(), (const char *const[]){
			"mkdir", "-m", "0711", v->seed_dir, NULL });
		return seed_iso_build(v->r, &v->qf, v->iso, v->task);
	}
	if (make_dir(base, 0711) < 0 && errno != EEXIST)
		return msg_error(v->task, "cannot create %s: %s", base,
				 strerror(errno));
	/* Exclusive: whoever creates this directory owns the name. */
	if (make_dir(v->seed_dir, 0711) < 0) {
		if (errno == EEXIST)
			return msg_error(v->task, "%s already exists: another "
					 "VM or a running qvm owns the name "
					 "'%s'", v->seed_dir, v->qf.name);
		return msg_error(v->task, "cannot create %s: %s", v->seed_dir,
				 strerror(errno));
	}
	su = xmalloc(sizeof(*su));
	su->dir = xstrdup(v->seed_dir);
	su->iso = xstrdup(v->iso);
	su->console = xasprintf("%s/%s", v->seed_dir, CONSOLE_LOG_NAME);
	what = xasprintf("seed directory %s", v->seed_dir);
	undo_push(&v->undo, what, "remove", undo_seed, su, free_seed_undo);
	free(what);
	return seed_iso_build(v->r, &v->qf, v->iso, v->task);
}

static int step_clone(struct vm_run *v)
{
	struct zfs_result zr;

	msg_info("Cloning %s to %s", v->snapshot, v->target);
	if (zfs_clone(v->r, v->snapshot, v->target, &v->props, &zr) < 0) {
		if (zr.code == ZFS_ERR_EXISTS)
			return msg_error(v->task, "%s appeared while qvm was "
					 "working; it is not qvm's and is left "
					 "untouched (%s)", v->target,
					 zr.message);
		/* zfs may have died after making it: the run tag tells. */
		if (zfs_made_by_run(v->r, v->target, v->run_id))
			zfs_undo_push(&v->undo, v->r, v->target, false);
		return zfs_report(v->task, "clone to", v->target, &zr);
	}
	zfs_undo_push(&v->undo, v->r, v->target, false);
	return 0;
}

static int step_device(struct vm_run *v)
{
	if (v->dry_run)
		return 0;
	msg_info("Waiting for %s", v->device);
	return device_await(v->task, v->device);
}

/* virt-install's complaint, one line per line it printed. */
static int report_virt_install(struct vm_run *v, const char *what,
			       const struct run_result *res)
{
	char last[1024];
	const char *line, *end;

	if (res->status < 0)
		return msg_error(v->task, "%s", res->err);
	msg_error(v->task, "%s failed (%s %d): %s", what,
		  res->status > 128 ? "signal" : "exit status",
		  res->status > 128 ? res->status - 128 : res->status,
		  run_result_last_err(res, last, sizeof(last)));
	/* The rest of what it said, for context. */
	for (line = res->err; *line; line = *end ? end + 1 : end) {
		end = strchr(line, '\n');
		if (!end)
			end = line + strlen(line);
		if (end > line && strncmp(line, last, (size_t)(end - line)))
			fprintf(msg_err(), "  virt-install: %.*s\n",
				(int)(end - line), line);
	}
	return -1;
}

static int step_virt_install(struct vm_run *v)
{
	struct strvec argv = STRVEC_INIT;
	struct run_result res = RUN_RESULT_INIT;
	struct domain_undo *du;
	char errbuf[512];
	char *what;
	int rc = -1;

	if (vmargs_build(v->qf.doc[QVM_DOC_VM], v->device, v->iso, &argv,
			 errbuf, sizeof(errbuf)) < 0) {
		msg_error(v->task, "%s", errbuf);
		goto done;
	}
	if (v->console_ours) {
		strvec_push(&argv, "--serial");
		strvec_pushf(&argv, "pty,log.file=%s", v->console);
	}
	if (!v->dry_run) {
		/* It checks names, networks and paths without changing
		 * anything; a refusal here leaves no domain to clean up. */
		msg_info("Checking the VM definition (virt-install --dry-run)");
		strvec_push(&argv, "--dry-run");
		runner_run(v->r, strvec_argv(&argv), RUN_READS, &res);
		if (res.status != 0) {
			report_virt_install(v, "virt-install --dry-run", &res);
			goto done;
		}
		run_result_clear(&res);
		strvec_pop(&argv);	/* --dry-run */
		if (signals_check(v->task) < 0)
			goto done;
	}

	msg_info("Creating domain %s (virt-install)", v->qf.name);
	du = xmalloc(sizeof(*du));
	du->r = v->r;
	du->name = xstrdup(v->qf.name);
	du->connect = v->connect ? xstrdup(v->connect) : NULL;
	what = xasprintf("domain %s", v->qf.name);
	undo_push(&v->undo, what, "undefine", undo_domain, du,
		  free_domain_undo);
	free(what);
	runner_run(v->r, strvec_argv(&argv), RUN_CHANGES, &res);
	if (res.status != 0) {
		report_virt_install(v, "virt-install", &res);
		goto done;
	}
	rc = 0;
done:
	run_result_clear(&res);
	strvec_clear(&argv);
	return rc;
}

/* ---- the serial console ---- */

/* The file a serial device of the vm document logs to, or NULL: its
 * log.file (log: {file: X} or "log.file": X), or the path of a file-type
 * serial. */
static const char *serial_log(const struct ynode *serial)
{
	const struct ynode *log, *type, *path;

	if (!serial || serial->type != YNODE_MAP)
		return NULL;
	log = ynode_map_get(serial, "log");
	if (log && log->type == YNODE_MAP)
		log = ynode_map_get(log, "file");
	else
		log = ynode_map_get(serial, "log.file");
	if (log && log->type == YNODE_SCALAR && log->len)
		return log->value;
	type = ynode_map_get(serial, "type");
	path = ynode_map_get(serial, "path");
	if (type && ynode_is_plain(type, "file") && path &&
	    path->type == YNODE_SCALAR && path->len)
		return path->value;
	return NULL;
}

/*
 * Where the guest's console is logged. Without "serial" in the vm
 * document qvm gives the VM a serial console (a pty, so virsh console
 * works) that libvirt logs to SEED_DIR/NAME/console.log; with one, its
 * log when it has one. Without a log --wait cannot work: refused before
 * anything changes.
 */
static int find_console(struct vm_run *v)
{
	const struct ynode *serial = ynode_map_get(v->qf.doc[QVM_DOC_VM],
						   "serial");
	const char *log = NULL;

	if (!serial) {
		v->console = xasprintf("%s/%s", v->seed_dir, CONSOLE_LOG_NAME);
		v->console_ours = true;
		return 0;
	}
	if (serial->type == YNODE_SEQ) {
		for (size_t i = 0; i < serial->n && !log; i++)
			log = serial_log(serial->items[i]);
	} else {
		log = serial_log(serial);
	}
	if (log)
		v->console = xstrdup(log);
	else if (v->wait)
		return msg_error(v->task, "--wait cannot work for this VM: "
				 "the serial console of its vm document is not "
				 "logged to a file (give it log.file: PATH, or "
				 "leave 'serial' out and qvm adds one)");
	return 0;
}

static int step_wait(struct vm_run *v)
{
	struct wait_target t = {
		.name = v->qf.name, .domain = v->qf.name,
		.connect = v->connect, .console = v->console,
		.timeout = v->wait, .started = wait_now(),
	};
	char *task = xasprintf("waiting for VM %s", v->qf.name);
	int rc;

	msg_info("Waiting for cloud-init in %s (at most %u s; Ctrl-C stops "
		 "the wait only)", v->qf.name, v->wait);
	rc = wait_ready(v->r, &t, task);
	free(task);
	return rc;
}

/* ---- putting it together ---- */

static void vm_run_free(struct vm_run *v)
{
	qvmfile_free(&v->qf);
	free(v->task);
	free(v->snapshot);
	free(v->target);
	free(v->device);
	free(v->seed_dir);
	free(v->iso);
	free(v->console);
	strvec_clear(&v->props);
}

static void prepare(struct vm_run *v)
{
	const char *slash = strrchr(v->qf.base, '/');
	const struct ynode *c = ynode_map_get(v->qf.doc[QVM_DOC_VM],
					      "connect");
	char now[32];

	v->task = xasprintf("creating VM %s", v->qf.name);
	v->snapshot = xasprintf("%s@base", v->qf.base);
	v->target = xasprintf("%.*s/%s", (int)(slash - v->qf.base),
			      v->qf.base, v->qf.name);
	v->device = device_path(v->target);
	v->seed_dir = xasprintf("%s/%s", vm_seed_dir(), v->qf.name);
	v->iso = xasprintf("%s/%s", v->seed_dir, SEED_ISO_NAME);
	v->connect = c && c->type == YNODE_SCALAR ? c->value : NULL;

	if (v->qf.volsize)
		strvec_pushf(&v->props, "volsize=%s", v->qf.volsize);
	for (size_t i = 0; i < v->qf.zvol_props.n; i++)
		strvec_push(&v->props, v->qf.zvol_props.v[i]);
	/* qvm's ownership tags: list and destroy act only on these. */
	strvec_push(&v->props, "qvm:role=vm");
	strvec_pushf(&v->props, "qvm:name=%s", v->qf.name);
	strvec_pushf(&v->props, "qvm:created=%s",
		     text_utc(time(NULL), now, sizeof(now)));
	strvec_pushf(&v->props, "qvm:run=%s",
		     text_random_hex(v->run_id, 8));
	strvec_pushf(&v->props, "qvm:seed=%s", v->seed_dir);
	if (v->connect)
		strvec_pushf(&v->props, "qvm:connect=%s", v->connect);
}

int vm_create(const struct runner *r, const char *path, bool dry_run,
	      unsigned wait)
{
	struct vm_run v;
	int rc = -1;

	memset(&v, 0, sizeof(v));
	v.r = r;
	v.dry_run = dry_run;
	v.wait = wait;
	if (qvmfile_load(path, &v.qf) < 0)
		return -1;
	prepare(&v);
	if (find_console(&v) < 0 || check_host(&v) < 0)
		goto done;
	if (dry_run)
		msg_info("Dry run: these commands would create VM %s:",
			 v.qf.name);

	if (signals_check(v.task) < 0 || step_seed(&v) < 0 ||
	    signals_check(v.task) < 0 || step_clone(&v) < 0 ||
	    signals_check(v.task) < 0 || step_device(&v) < 0 ||
	    signals_check(v.task) < 0 || step_virt_install(&v) < 0)
		goto done;
	rc = 0;
	if (dry_run)
		msg_info("Dry run: nothing was changed%s", wait ? " (qvm would "
			 "then wait for cloud-init)" : "");
	else
		msg_info("VM %s created", v.qf.name);
done:
	if (rc == 0)
		undo_forget(&v.undo);
	else
		undo_run(&v.undo, v.task);
	/* The VM is made and stays, whatever the wait finds. */
	if (rc == 0 && wait && !dry_run)
		rc = step_wait(&v);
	vm_run_free(&v);
	return rc;
}

int vm_check(const char *path)
{
	struct qvmfile qf;

	if (qvmfile_load(path, &qf) < 0)
		return -1;
	msg_info("%s: VM %s from %s@base is valid", path, qf.name, qf.base);
	qvmfile_free(&qf);
	return 0;
}
