#include "destroy.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "msg.h"
#include "owned.h"
#include "seed.h"
#include "strvec.h"
#include "tags.h"
#include "text.h"
#include "virsh.h"
#include "vm.h"
#include "zfs.h"

/* Snapshots named in a refusal, at most. */
#define SHOW_SNAPSHOTS 5

struct target {
	struct owned own;	/* the volume and its tags */
	char *base;		/* an image's DATASET@base, if it exists */
	bool domain;		/* a VM's domain is defined */
	bool running;		/* ... and not shut off */
};

static void target_free(struct target *t)
{
	owned_free(&t->own);
	free(t->base);
}

/* Refuses a volume with snapshots qvm did not make: destroying it would
 * take them (and anything cloned from them) along. except is the one
 * snapshot qvm made on it, or NULL. */
static int check_snapshots(const struct runner *r, const char *task,
			   const char *dataset, const char *except,
			   bool *has_except)
{
	struct zfs_result zr;
	struct strvec other = STRVEC_INIT;
	char *out = NULL, *save = NULL, *shown;
	size_t len = 0;
	int rc = 0;

	*has_except = false;
	if (zfs_snapshots(r, dataset, &out, &zr) < 0)
		return zfs_report(task, "list the snapshots of", dataset, &zr);
	for (char *l = strtok_r(out, "\n", &save); l;
	     l = strtok_r(NULL, "\n", &save)) {
		if (except && strcmp(l, except) == 0)
			*has_except = true;
		else
			strvec_push(&other, l);
	}
	free(out);
	if (other.n == 0)
		return 0;
	for (size_t i = 0; i < other.n && i < SHOW_SNAPSHOTS; i++)
		len += strlen(other.v[i]) + 2;
	shown = xmalloc(len + 1);
	shown[0] = '\0';
	for (size_t i = 0; i < other.n && i < SHOW_SNAPSHOTS; i++) {
		if (i)
			strcat(shown, ", ");
		strcat(shown, other.v[i]);
	}
	rc = msg_error(task, "%s has %zu snapshot%s qvm did not make (%s%s); "
		       "nothing was changed", dataset, other.n,
		       other.n == 1 ? "" : "s", shown,
		       other.n > SHOW_SNAPSHOTS ? ", ..." : "");
	free(shown);
	strvec_clear(&other);
	return rc;
}

/* Runs "virsh [-c URI] VERB NAME" (a read) into *res. */
static void virsh_read(const struct runner *r, const struct target *t,
		       const char *verb, struct run_result *res)
{
	struct strvec argv = STRVEC_INIT;

	virsh_argv(&argv, t->own.connect, verb, t->own.vm_name);
	runner_run(r, strvec_argv(&argv), RUN_READS, res);
	strvec_clear(&argv);
}

/* Does the domain use this volume as a disk? (libvirt keeps the path
 * virt-install was given: .../PARENT/NAME, the dataset's own name.) */
static bool uses_volume(const char *blklist, const char *dataset)
{
	size_t dlen = strlen(dataset);
	const char *line = blklist;

	while (*line) {
		const char *end = line + strcspn(line, "\n");
		const char *e = end;

		while (e > line && (e[-1] == ' ' || e[-1] == '\r'))
			e--;
		if ((size_t)(e - line) > dlen &&
		    memcmp(e - dlen, dataset, dlen) == 0 &&
		    *(e - dlen - 1) == '/')
			return true;
		line = *end ? end + 1 : end;
	}
	return false;
}

/* Before any change: is the domain there, and is it the one qvm made? */
static int check_domain(const struct runner *r, const char *task,
			struct target *t)
{
	struct run_result res;
	char last[512];
	int rc = 0;

	virsh_read(r, t, "domstate", &res);
	if (res.status != 0) {
		if (!virsh_domain_missing(&res))
			rc = msg_error(task, "could not query domain %s: %s; "
				       "nothing was changed", t->own.vm_name,
				       run_result_last_err(&res, last,
							   sizeof(last)));
		run_result_clear(&res);
		return rc;
	}
	t->domain = true;
	t->running = strncmp(res.out, "shut off", 8) != 0;
	run_result_clear(&res);

	if (t->own.uuid) {
		virsh_read(r, t, "domuuid", &res);
		res.out[strcspn(res.out, "\r\n")] = '\0';
		if (res.status != 0)
			rc = msg_error(task, "could not read the UUID of "
				       "domain %s: %s; nothing was changed",
				       t->own.vm_name,
				       run_result_last_err(&res, last,
							   sizeof(last)));
		else if (strcasecmp(res.out, t->own.uuid) != 0)
			rc = msg_error(task, "domain %s has UUID %s, not the "
				       "%s qvm gave it (qvm:uuid): it is not "
				       "the VM qvm made; nothing was changed",
				       t->own.vm_name, res.out, t->own.uuid);
		run_result_clear(&res);
		return rc;
	}
	/* Made before qvm:uuid: it must at least run on this volume. */
	virsh_read(r, t, "domblklist", &res);
	if (res.status != 0)
		rc = msg_error(task, "could not read the disks of domain %s: "
			       "%s; nothing was changed", t->own.vm_name,
			       run_result_last_err(&res, last, sizeof(last)));
	else if (!uses_volume(res.out, t->own.dataset))
		rc = msg_error(task, "domain %s does not use %s as a disk: it "
			       "is not the VM qvm made; nothing was changed",
			       t->own.vm_name, t->own.dataset);
	run_result_clear(&res);
	return rc;
}

/* The seed directory qvm made for this VM: SEED_DIR/NAME/seed.iso. */
static int check_seed(const char *task, const struct target *t)
{
	const char *base;

	if (!t->own.seed)
		return 0;
	base = strrchr(t->own.seed, '/');
	/* Only a directory named after the VM, as qvm makes it. */
	if (!base || strcmp(base + 1, t->own.vm_name) != 0)
		return msg_error(task, "the recorded seed %s is not a qvm seed "
				 "directory for %s; nothing was changed",
				 t->own.seed, t->own.vm_name);
	return 0;
}

static int remove_domain(const struct runner *r, const char *task,
			 const struct target *t)
{
	struct run_result res;
	const char *step;
	char last[512];
	int status;

	if (!t->domain) {
		msg_info("Domain %s is not defined", t->own.vm_name);
		return 0;
	}
	status = virsh_domain_remove(r, t->own.connect, t->own.vm_name,
				     t->running ? VIRSH_STOP_MUST :
				     VIRSH_STOP_NONE, &res, &step);
	if (status != 0 && strcmp(step, "stop") == 0) {
		msg_error(task, "could not stop domain %s: %s; nothing was "
			  "removed", t->own.vm_name,
			  run_result_last_err(&res, last, sizeof(last)));
		run_result_clear(&res);
		return -1;
	}
	if (t->running)
		msg_info("Stopped domain %s", t->own.vm_name);
	if (status != 0) {
		msg_error(task, "could not undefine domain %s: %s; its disk %s "
			  "and seed are left", t->own.vm_name,
			  run_result_last_err(&res, last, sizeof(last)),
			  t->own.dataset);
		run_result_clear(&res);
		return -1;
	}
	run_result_clear(&res);
	msg_info("Undefined domain %s", t->own.vm_name);
	return 0;
}

static int remove_seed(const struct host *h, const char *task,
		       const struct target *t)
{
	char *why = NULL;
	int rc;

	if (!t->own.seed)
		return 0;
	if (seed_dir_remove(h, t->own.seed, &why) == 0) {
		msg_info("Removed seed %s", t->own.seed);
		rc = 0;
	} else {
		rc = msg_error(task, "could not remove the seed %s", why);
	}
	free(why);
	return rc;
}

/* @base may hold clones (VMs) or holds (zfs hold): either keeps it. */
static int check_base(const struct runner *r, const char *task,
		      const struct target *t)
{
	struct zfs_result zr;
	char *clones = NULL, *refs = NULL;
	int rc = 0;

	if (zfs_get(r, t->base, "clones", &clones, &zr) < 0)
		return zfs_report(task, "read the clones of", t->base, &zr);
	if (*clones && strcmp(clones, "-") != 0)
		rc = msg_error(task, "%s still has clones: %s; destroy those "
			       "VMs first", t->base, clones);
	else if (zfs_get(r, t->base, "userrefs", &refs, &zr) < 0)
		rc = zfs_report(task, "read the holds of", t->base, &zr);
	else if (strcmp(refs, "0") != 0)
		rc = msg_error(task, "%s is held (%s hold%s; 'zfs holds %s' "
			       "names them); nothing was changed", t->base,
			       refs, strcmp(refs, "1") ? "s" : "", t->base);
	free(clones);
	free(refs);
	return rc;
}

static int destroy_image(const struct runner *r, const char *task,
			 struct target *t)
{
	struct zfs_result zr;
	char *base = xasprintf("%s" TAG_AT_BASE, t->own.dataset);
	bool has_base;
	int rc;

	rc = check_snapshots(r, task, t->own.dataset, base, &has_base);
	if (rc == 0 && has_base) {
		t->base = base;
		base = NULL;
		rc = check_base(r, task, t);
	}
	free(base);
	if (rc < 0)
		return -1;
	/* One at a time, not "destroy -r": a snapshot someone takes in
	 * between must make the volume's destroy fail, not vanish with it. */
	if (t->base) {
		if (zfs_destroy(r, t->base, false, &zr) < 0)
			return zfs_report(task, "destroy", t->base, &zr);
		msg_info("Destroyed snapshot %s", t->base);
	}
	if (zfs_destroy(r, t->own.dataset, false, &zr) < 0) {
		zfs_report(task, "destroy", t->own.dataset, &zr);
		if (t->base)
			msg_error(task, "its snapshot %s was destroyed; zvol "
				  "%s is left", t->base, t->own.dataset);
		return -1;
	}
	msg_info("Destroyed zvol %s", t->own.dataset);
	msg_info("Image %s destroyed", t->own.dataset);
	return 0;
}

static int destroy_vm(const struct host *h, const char *task,
		      struct target *t)
{
	const struct runner *r = h->runner;
	struct zfs_result zr;
	bool none;

	/* Everything that can be known first, so a refusal changes nothing:
	 * snapshots (with their clones and holds) would make the volume's
	 * destroy fail after the domain is gone. */
	if (check_snapshots(r, task, t->own.dataset, NULL, &none) < 0 ||
	    check_seed(task, t) < 0 || check_domain(r, task, t) < 0)
		return -1;
	if (remove_domain(r, task, t) < 0)
		return -1;
	if (zfs_destroy(r, t->own.dataset, false, &zr) < 0) {
		zfs_report(task, "destroy", t->own.dataset, &zr);
		return msg_error(task, "domain %s was undefined; its zvol %s "
				 "and seed are left", t->own.vm_name, t->own.dataset);
	}
	msg_info("Destroyed zvol %s", t->own.dataset);
	if (remove_seed(h, task, t) < 0)
		return -1;
	msg_info("VM %s destroyed", t->own.vm_name);
	return 0;
}

int destroy_run(const struct host *h, const char *name, const char *connect)
{
	const struct runner *r = h->runner;
	struct target t;
	char *task = xasprintf("destroying %s", name);
	int rc = -1;

	memset(&t, 0, sizeof(t));
	if (owned_resolve(r, task, "destroys", name, connect, &t.own) == 0) {
		if (strcmp(t.own.role, ROLE_IMAGE) == 0)
			rc = destroy_image(r, task, &t);
		else
			rc = destroy_vm(h, task, &t);
	}
	target_free(&t);
	free(task);
	return rc;
}
