#include "vm.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "device.h"
#include "host.h"
#include "msg.h"
#include "qvmfile.h"
#include "seed.h"
#include "signals.h"
#include "steps.h"
#include "strvec.h"
#include "tags.h"
#include "text.h"
#include "undo.h"
#include "virsh.h"
#include "vmargs.h"
#include "wait.h"
#include "zfs.h"

/* Everything one provisioning run knows; freed in one place. */
struct vm_run {
	const struct host *h;
	const struct runner *r;	/* h->runner */
	struct qvmfile qf;
	char *task;
	char *snapshot;		/* BASE@base */
	char *target;		/* PARENT/NAME */
	char *device;		/* ZVOL_DIR/PARENT/NAME */
	char *seed_base;	/* SEED_DIR, absolute */
	char *seed_dir;		/* SEED_DIR/NAME */
	char *iso;		/* SEED_DIR/NAME/seed.iso */
	const char *connect;	/* libvirt URI from the vm document, or NULL */
	char *console;		/* the serial console's log, or NULL */
	bool console_ours;	/* qvm adds the serial console (and its log) */
	unsigned wait;		/* seconds to wait for cloud-init, or 0 */
	struct strvec props;	/* zfs clone -o arguments */
	char run_id[17];	/* qvm:run: this run's mark on what it makes */
	char uuid[VIRSH_UUID_SIZE];	/* the domain's: virt-install --uuid */
	struct undo undo;
};

char *vm_seed_dir(void)
{
	const char *d = getenv("QVM_SEED_DIR");
	char *cwd, *abs;

	if (!d || !*d)
		return xstrdup(SEED_DIR_DEFAULT);
	if (*d == '/')
		return xstrdup(d);
	/* Recorded in qvm:seed for destroy, which may run elsewhere. */
	cwd = getcwd(NULL, 0);
	if (!cwd)
		return NULL;
	while (d[0] == '.' && d[1] == '/')
		d += 2 + strspn(d + 2, "/");
	abs = *d && strcmp(d, ".") ?
		xasprintf("%s%s%s", cwd, strcmp(cwd, "/") ? "/" : "", d) :
		xstrdup(cwd);
	free(cwd);
	return abs;
}

/* ---- undo actions; each owns a malloc'd argument ---- */

struct seed_undo {
	const struct host *h;
	char *dir;
};

static int undo_seed(void *arg, char **why)
{
	struct seed_undo *su = arg;

	return seed_dir_remove(su->h, su->dir, why);
}

static void free_seed_undo(void *arg)
{
	struct seed_undo *su = arg;

	free(su->dir);
	free(su);
}

struct domain_undo {
	const struct runner *r;
	char *name;
	char *uuid;		/* the only domain this undo may touch */
	char *connect;
};

static int undo_domain(void *arg, char **why)
{
	struct domain_undo *d = arg;
	struct run_result res;
	const char *step;
	char last[512];
	int status;

	/* By UUID: a domain of the same name is someone else's. Stop it
	 * if it runs, then undefine it. */
	status = virsh_domain_remove(d->r, d->connect, d->uuid,
				     VIRSH_STOP_TRY, &res, &step);
	if (status == 0) {
		run_result_clear(&res);
		return 0;
	}
	/* virt-install failed before defining it: nothing to undo. */
	if (status > 0 && status < 128 && virsh_domain_missing(&res)) {
		*why = xasprintf("domain %s was not defined", d->name);
		run_result_clear(&res);
		return UNDO_NOTHING;
	}
	*why = xstrdup(run_result_last_err(&res, last, sizeof(last)));
	run_result_clear(&res);
	return -1;
}

static void free_domain_undo(void *arg)
{
	struct domain_undo *d = arg;

	free(d->name);
	free(d->uuid);
	free(d->connect);
	free(d);
}

/* ---- checks before any change ---- */

/* The target exists: say what it is, and what the user may do about
 * it, by qvm's own tag on it (set there, not inherited). */
static int report_target_exists(struct vm_run *v)
{
	struct zfs_result zr;
	char *role = NULL;
	char *hint;
	int rc;

	if (zfs_get_local_value(v->r, v->target, TAG_ROLE, &role, &zr) < 0)
		hint = xstrdup("choose another name");
	else if (strcmp(role, ROLE_VM) == 0)
		hint = xasprintf("it is a VM qvm made: choose another name, "
				 "or remove that VM first with 'qvm destroy "
				 "%s'", v->target);
	else if (strcmp(role, ROLE_IMAGE) == 0)
		hint = xstrdup("it is an image qvm made: choose another name");
	else
		hint = xstrdup("qvm did not make it: choose another name");
	rc = msg_error(v->task, "%s already exists; qvm leaves it untouched "
		       "(%s)", v->target, hint);
	free(hint);
	free(role);
	return rc;
}

/* A domain that answers to the VM's name, on the VM's libvirt, is someone
 * else's: virt-install --dry-run does not notice it, and the real run
 * would fail only after the clone. */
static int check_domain_free(struct vm_run *v)
{
	char errbuf[512];
	char *found = NULL;
	int rc;

	rc = virsh_domain_lookup(v->r, v->connect, v->qf.name, &found,
				 errbuf, sizeof(errbuf));
	if (rc < 0)
		return msg_error(v->task, "could not look up domain %s%s%s: "
				 "%s", v->qf.name, v->connect ? " on " : "",
				 v->connect ? v->connect : "", errbuf);
	if (rc == 0)
		return 0;
	if (found && strcmp(found, v->qf.name) != 0)
		rc = msg_error(v->task, "virsh takes '%s' for domain %s (by "
			       "its id or UUID); qvm could not tell that "
			       "domain from this VM: choose another name",
			       v->qf.name, found);
	else
		rc = msg_error(v->task, "domain %s already exists%s%s; qvm "
			       "leaves it untouched (choose another name)",
			       v->qf.name, v->connect ? " on " : "",
			       v->connect ? v->connect : "");
	free(found);
	return rc;
}

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
	if (strcmp(v->target, v->qf.base) == 0)
		return msg_error(v->task, "the VM's volume would be %s, its "
				 "base image itself (a VM's volume is its "
				 "name beside its base): choose another name",
				 v->target);

	rc = zfs_exists(v->r, v->target, &zr);
	if (rc < 0)
		return zfs_report(v->task, "look up", v->target, &zr);
	if (rc == 1)
		return report_target_exists(v);
	if (check_domain_free(v) < 0)
		return -1;

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

/* Step 1. */
static int step_seed(void *run)
{
	struct vm_run *v = run;
	const struct host *h = v->h;
	struct seed_undo *su;
	char *what;

	host_say(h, "Creating seed %s", v->iso);
	/* 0711: libvirt's QEMU user must traverse. */
	if (h->ops->make_dir(h->ctx, v->seed_base, 0711) < 0 &&
	    errno != EEXIST)
		return msg_error(v->task, "cannot create %s: %s", v->seed_base,
				 strerror(errno));
	/* Exclusive: whoever creates this directory owns the name. */
	if (h->ops->make_dir(h->ctx, v->seed_dir, 0711) < 0) {
		if (errno == EEXIST)
			return msg_error(v->task, "%s already exists: another "
					 "VM or a running qvm owns the name "
					 "'%s'", v->seed_dir, v->qf.name);
		return msg_error(v->task, "cannot create %s: %s", v->seed_dir,
				 strerror(errno));
	}
	su = xmalloc(sizeof(*su));
	su->h = h;
	su->dir = xstrdup(v->seed_dir);
	what = xasprintf("seed directory %s", v->seed_dir);
	undo_push(&v->undo, what, "remove", undo_seed, su, free_seed_undo);
	free(what);
	return seed_iso_build(h, &v->qf, v->seed_dir, v->iso, v->task);
}

static int step_clone(void *run)
{
	struct vm_run *v = run;
	struct zfs_result zr;

	host_say(v->h, "Cloning %s to %s", v->snapshot, v->target);
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

static int step_device(void *run)
{
	struct vm_run *v = run;
	host_say(v->h, "Waiting for %s", v->device);
	return device_await(v->h, v->task, v->device);
}

/* Splits text into lines: the next one starting at *p, its length in
 * *len; 0 at the end. */
static int next_line(const char **p, const char **line, size_t *len)
{
	if (!**p)
		return 0;
	*line = *p;
	*len = strcspn(*p, "\n");
	*p += *len + ((*p)[*len] == '\n');
	return 1;
}

static bool blank(const char *line, size_t len)
{
	size_t n = strspn(line, " \t\r");

	return n >= len;
}

/* virt-install's complaint: its ERROR line (else its last line) as the
 * error, every other line it printed as context. */
static int report_virt_install(struct vm_run *v, const char *what,
			       const struct run_result *res)
{
	const char *p, *line, *error = NULL, *last = NULL, *summary;
	size_t len, error_len = 0, last_len = 0, summary_len;
	char why[64];

	if (res->status < 0)
		return msg_error(v->task, "%s", res->err);
	for (p = res->err; next_line(&p, &line, &len);) {
		if (blank(line, len))
			continue;
		if (!error && strncmp(line, "ERROR", 5) == 0) {
			error = line;
			error_len = len;
		}
		last = line;
		last_len = len;
	}
	summary = error ? error : last;
	summary_len = error ? error_len : last_len;
	if (!summary) {
		summary = run_result_last_err(res, why, sizeof(why));
		summary_len = strlen(summary);
	}
	msg_error(v->task, "%s failed (%s %d): %.*s", what,
		  res->status > 128 ? "signal" : "exit status",
		  res->status > 128 ? res->status - 128 : res->status,
		  (int)summary_len, summary);
	/* The rest of what it said, for context. */
	for (p = res->err; next_line(&p, &line, &len);)
		if (line != summary && !blank(line, len))
			fprintf(msg_err(), "  virt-install: %.*s\n", (int)len,
				line);
	fflush(msg_err());
	return -1;
}

static int step_virt_install(void *run)
{
	struct vm_run *v = run;
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
	/* The domain's identity: its undo removes this UUID, nothing else. */
	strvec_push(&argv, "--uuid");
	strvec_push(&argv, v->uuid);
	if (v->console_ours) {
		strvec_push(&argv, "--serial");
		strvec_pushf(&argv, "pty,log.file=%s", v->console);
	}
	/* It checks names, networks and paths (the clone's device among
	 * them, so not where nothing was made) without changing anything;
	 * a refusal here leaves no domain to clean up. */
	if (v->h->ops->sees_changes(v->h->ctx)) {
		host_say(v->h, "Checking the VM definition (virt-install --dry-run)");
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

	host_say(v->h, "Creating domain %s (virt-install)", v->qf.name);
	du = xmalloc(sizeof(*du));
	du->r = v->r;
	du->name = xstrdup(v->qf.name);
	du->uuid = xstrdup(v->uuid);
	du->connect = v->connect ? xstrdup(v->connect) : NULL;
	what = xasprintf("domain %s", v->qf.name);
	undo_push(&v->undo, what, "undefine", undo_domain, du,
		  free_domain_undo);
	free(what);
	what = xasprintf("uuid %s", v->uuid);
	undo_detail(&v->undo, what);
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

/* Where the console is logged, for "qvm wait" later. */
static void tag_console(struct vm_run *v)
{
	if (v->console)
		strvec_pushf(&v->props, TAG_CONSOLE "=%s", v->console);
}

static int step_wait(struct vm_run *v)
{
	struct wait_target t = {
		.name = v->qf.name, .domain = v->uuid,
		.connect = v->connect, .console = v->console,
		.timeout = v->wait, .started = wait_now(),
	};
	char *task = xasprintf("waiting for VM %s", v->qf.name);
	int rc;

	msg_info("Waiting for cloud-init in %s (at most %u s; Ctrl-C stops "
		 "the wait only)", v->qf.name, v->wait);
	rc = wait_ready(v->h, &t, task);
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
	free(v->seed_base);
	free(v->seed_dir);
	free(v->iso);
	free(v->console);
	strvec_clear(&v->props);
}

static int prepare(struct vm_run *v)
{
	const char *slash = strrchr(v->qf.base, '/');
	const struct ynode *c = ynode_map_get(v->qf.doc[QVM_DOC_VM],
					      "connect");
	char now[32];

	v->task = xasprintf("creating VM %s", v->qf.name);
	v->seed_base = vm_seed_dir();
	if (!v->seed_base)
		return msg_error(v->task, "cannot resolve QVM_SEED_DIR: the "
				 "working directory: %s", strerror(errno));
	if (virsh_new_uuid(v->uuid) < 0)
		return msg_error(v->task, "cannot make a UUID for the domain: "
				 "no random bytes: %s", strerror(errno));
	v->snapshot = xasprintf("%s" TAG_AT_BASE, v->qf.base);
	v->target = xasprintf("%.*s/%s", (int)(slash - v->qf.base),
			      v->qf.base, v->qf.name);
	v->device = device_path(v->target);
	v->seed_dir = xasprintf("%s/%s", v->seed_base, v->qf.name);
	v->iso = xasprintf("%s/%s", v->seed_dir, SEED_ISO_NAME);
	v->connect = c && c->type == YNODE_SCALAR ? c->value : NULL;

	if (v->qf.volsize)
		strvec_pushf(&v->props, "volsize=%s", v->qf.volsize);
	for (size_t i = 0; i < v->qf.zvol_props.n; i++)
		strvec_push(&v->props, v->qf.zvol_props.v[i]);
	/* qvm's ownership tags: list and destroy act only on these. */
	strvec_push(&v->props, TAG_ROLE "=" ROLE_VM);
	strvec_pushf(&v->props, TAG_NAME "=%s", v->qf.name);
	strvec_pushf(&v->props, TAG_CREATED "=%s",
		     text_utc(time(NULL), now, sizeof(now)));
	strvec_pushf(&v->props, TAG_RUN "=%s",
		     text_random_hex(v->run_id, 8));
	/* The domain made with the clone: destroy can check it is that one. */
	strvec_pushf(&v->props, TAG_UUID "=%s", v->uuid);
	strvec_pushf(&v->props, TAG_SEED "=%s", v->seed_dir);
	if (v->connect)
		strvec_pushf(&v->props, TAG_CONNECT "=%s", v->connect);
	return 0;
}

int vm_create(const struct host *h, const char *path, unsigned wait)
{
	static const step_fn steps[] = { step_seed, step_clone, step_device,
					  step_virt_install, NULL };
	struct vm_run v;
	char *s;
	int rc = -1;

	memset(&v, 0, sizeof(v));
	v.h = h;
	v.r = h->runner;
	v.wait = wait;
	v.undo.where = h->name;
	if (qvmfile_load(path, &v.qf) < 0)
		return -1;
	if (prepare(&v) < 0 || find_console(&v) < 0 ||
	    device_timeout_check(v.task) < 0 || check_host(&v) < 0)
		goto done;
	tag_console(&v);
	s = xasprintf("create VM %s", v.qf.name);
	h->ops->begin(h->ctx, s);
	free(s);

	if (steps_run(steps, &v, &v.undo, v.task) < 0)
		goto done;
	rc = 0;
	s = xasprintf("VM %s created", v.qf.name);
	h->ops->end(h->ctx, s);
	free(s);
done:
	/* The VM is made and stays, whatever the wait finds; where nothing
	 * was made, there is nothing to wait for. */
	if (rc == 0 && wait) {
		if (h->ops->sees_changes(h->ctx))
			rc = step_wait(&v);
		else
			host_say(h, "qvm would then wait for cloud-init in %s",
				 v.qf.name);
	}
	vm_run_free(&v);
	return rc;
}

int vm_check(const char *path)
{
	struct qvmfile qf;

	if (qvmfile_load(path, &qf) < 0)
		return -1;
	msg_info("%s: VM %s from %s" TAG_AT_BASE " is valid", path, qf.name,
		 qf.base);
	qvmfile_free(&qf);
	return 0;
}
