#include "destroy.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "msg.h"
#include "strvec.h"
#include "text.h"
#include "virsh.h"
#include "vm.h"
#include "zfs.h"

/* The tags qvm sets on a volume it makes; only those set on the volume
 * itself count (its snapshots and children inherit them). */
#define TAGS "qvm:role,qvm:name,qvm:seed,qvm:connect,qvm:uuid"

/* Snapshots named in a refusal, at most. */
#define SHOW_SNAPSHOTS 5

struct target {
	char *dataset;
	char *role;		/* "vm" or "image" */
	char *vm_name;		/* qvm:name, for VMs */
	char *seed;		/* qvm:seed, or NULL */
	char *connect;		/* -c, qvm:connect, or NULL */
	char *uuid;		/* qvm:uuid, or NULL (volumes made before it) */
	char *base;		/* an image's DATASET@base, if it exists */
	bool domain;		/* a VM's domain is defined */
	bool running;		/* ... and not shut off */
};

static void target_free(struct target *t)
{
	free(t->dataset);
	free(t->role);
	free(t->vm_name);
	free(t->seed);
	free(t->connect);
	free(t->uuid);
	free(t->base);
}

/* A bare name is a VM's: find the volume tagged with it. */
static int find_vm(const struct runner *r, const char *task, const char *name,
		   char **dataset)
{
	struct zfs_result zr;
	char *out = NULL, *save = NULL;
	struct strvec named = STRVEC_INIT, vms = STRVEC_INIT;
	size_t found = 0;

	if (zfs_get_local(r, "qvm:role,qvm:name", "volume", NULL, &out,
			  &zr) < 0)
		return zfs_report(task, "list", "volumes", &zr);
	for (char *l = strtok_r(out, "\n", &save); l;
	     l = strtok_r(NULL, "\n", &save)) {
		char *f[3];	/* name, property, value */

		if (text_split(l, '\t', f, 3) != 3)
			continue;
		if (strcmp(f[1], "qvm:name") == 0 && strcmp(f[2], name) == 0)
			strvec_push(&named, f[0]);
		else if (strcmp(f[1], "qvm:role") == 0 &&
			 strcmp(f[2], "vm") == 0)
			strvec_push(&vms, f[0]);
	}
	free(out);
	for (size_t i = 0; i < named.n; i++)
		for (size_t k = 0; k < vms.n; k++)
			if (strcmp(named.v[i], vms.v[k]) == 0 && !found++)
				*dataset = xstrdup(named.v[i]);
	strvec_clear(&named);
	strvec_clear(&vms);
	if (found == 1)
		return 0;
	if (found > 1) {
		free(*dataset);
		*dataset = NULL;
		return msg_error(task, "%zu volumes are tagged as VM '%s'; name "
				 "the dataset instead", found, name);
	}
	return msg_error(task, "qvm made no VM named '%s' ('qvm list' shows "
			 "what it made)", name);
}

/* The tags set on the dataset itself. */
static int read_tags(const struct runner *r, const char *task,
		     struct target *t)
{
	struct zfs_result zr;
	char *out = NULL, *save = NULL;

	if (zfs_get_local(r, TAGS, NULL, t->dataset, &out, &zr) < 0)
		return zfs_report(task, "read the properties of", t->dataset,
				  &zr);
	for (char *l = strtok_r(out, "\n", &save); l;
	     l = strtok_r(NULL, "\n", &save)) {
		char *f[3], **slot = NULL;

		if (text_split(l, '\t', f, 3) != 3 ||
		    strcmp(f[0], t->dataset) != 0)
			continue;
		if (strcmp(f[1], "qvm:role") == 0)
			slot = &t->role;
		else if (strcmp(f[1], "qvm:name") == 0)
			slot = &t->vm_name;
		else if (strcmp(f[1], "qvm:seed") == 0)
			slot = &t->seed;
		else if (strcmp(f[1], "qvm:connect") == 0)
			slot = &t->connect;
		else if (strcmp(f[1], "qvm:uuid") == 0)
			slot = &t->uuid;
		if (slot && !*slot && *f[2] && strcmp(f[2], "-") != 0)
			*slot = xstrdup(f[2]);
	}
	free(out);
	return 0;
}

/* A domain name as qvm gives it (qvmfile's rule): it goes to virsh as an
 * argument, so nothing that could read as an option. */
static bool vm_name_ok(const char *s)
{
	return *s && *s != '-' && *s != '.' &&
	       strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
			 "0123456789_.:-") == strlen(s);
}

static int resolve(const struct runner *r, const char *task,
		   const char *name, const char *connect, struct target *t)
{
	struct zfs_result zr;
	char *type = NULL;
	int rc;

	if (strpbrk(name, "@#"))
		return msg_error(task, "%s is a snapshot or bookmark, not a "
				 "volume; qvm destroys only the volumes it "
				 "made (name the VM, or the image's volume)",
				 name);
	if (strchr(name, '/'))
		t->dataset = xstrdup(name);
	else if (find_vm(r, task, name, &t->dataset) < 0)
		return -1;
	if (zfs_get(r, t->dataset, "type", &type, &zr) < 0)
		return zfs_report(task, "read the properties of", t->dataset,
				  &zr);
	rc = strcmp(type, "volume");
	if (rc != 0)
		msg_error(task, "%s is a %s, not a volume; qvm destroys only "
			  "the volumes it made", t->dataset, type);
	free(type);
	if (rc != 0 || read_tags(r, task, t) < 0)
		return -1;
	if (!t->role || (strcmp(t->role, "vm") != 0 &&
			 strcmp(t->role, "image") != 0))
		return msg_error(task, "%s does not carry qvm's tag (qvm:role); "
				 "qvm destroys only what it made", t->dataset);
	if (strcmp(t->role, "image") == 0)
		return 0;
	if (!t->vm_name || !vm_name_ok(t->vm_name))
		return msg_error(task, "%s is tagged as a VM but its qvm:name "
				 "is %s; left alone", t->dataset,
				 t->vm_name ? "not a VM name" : "not set");
	if (connect) {
		free(t->connect);
		t->connect = xstrdup(connect);
	}
	return 0;
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

	virsh_argv(&argv, t->connect, verb, t->vm_name);
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
				       "nothing was changed", t->vm_name,
				       run_result_last_err(&res, last,
							   sizeof(last)));
		run_result_clear(&res);
		return rc;
	}
	t->domain = true;
	t->running = strncmp(res.out, "shut off", 8) != 0;
	run_result_clear(&res);

	if (t->uuid) {
		virsh_read(r, t, "domuuid", &res);
		res.out[strcspn(res.out, "\r\n")] = '\0';
		if (res.status != 0)
			rc = msg_error(task, "could not read the UUID of "
				       "domain %s: %s; nothing was changed",
				       t->vm_name,
				       run_result_last_err(&res, last,
							   sizeof(last)));
		else if (strcasecmp(res.out, t->uuid) != 0)
			rc = msg_error(task, "domain %s has UUID %s, not the "
				       "%s qvm gave it (qvm:uuid): it is not "
				       "the VM qvm made; nothing was changed",
				       t->vm_name, res.out, t->uuid);
		run_result_clear(&res);
		return rc;
	}
	/* Made before qvm:uuid: it must at least run on this volume. */
	virsh_read(r, t, "domblklist", &res);
	if (res.status != 0)
		rc = msg_error(task, "could not read the disks of domain %s: "
			       "%s; nothing was changed", t->vm_name,
			       run_result_last_err(&res, last, sizeof(last)));
	else if (!uses_volume(res.out, t->dataset))
		rc = msg_error(task, "domain %s does not use %s as a disk: it "
			       "is not the VM qvm made; nothing was changed",
			       t->vm_name, t->dataset);
	run_result_clear(&res);
	return rc;
}

/* The seed directory qvm made for this VM: SEED_DIR/NAME/seed.iso. */
static int check_seed(const char *task, const struct target *t)
{
	const char *base;

	if (!t->seed)
		return 0;
	base = strrchr(t->seed, '/');
	/* Only a directory named after the VM, as qvm makes it. */
	if (!base || strcmp(base + 1, t->vm_name) != 0)
		return msg_error(task, "the recorded seed %s is not a qvm seed "
				 "directory for %s; nothing was changed",
				 t->seed, t->vm_name);
	return 0;
}

static int remove_domain(const struct runner *r, const char *task,
			 const struct target *t)
{
	struct strvec argv = STRVEC_INIT;
	struct run_result res;
	char last[512];

	if (!t->domain) {
		msg_info("Domain %s is not defined", t->vm_name);
		return 0;
	}
	if (t->running) {
		virsh_argv(&argv, t->connect, "destroy", t->vm_name);
		runner_run(r, strvec_argv(&argv), RUN_CHANGES, &res);
		strvec_clear(&argv);
		if (res.status != 0 && !strstr(res.err, "not running")) {
			msg_error(task, "could not stop domain %s: %s; nothing "
				  "was removed", t->vm_name,
				  run_result_last_err(&res, last,
						      sizeof(last)));
			run_result_clear(&res);
			return -1;
		}
		run_result_clear(&res);
		msg_info("Stopped domain %s", t->vm_name);
	}
	virsh_argv(&argv, t->connect, "undefine", t->vm_name);
	strvec_push(&argv, "--nvram");
	runner_run(r, strvec_argv(&argv), RUN_CHANGES, &res);
	strvec_clear(&argv);
	if (res.status != 0) {
		msg_error(task, "could not undefine domain %s: %s; its disk %s "
			  "and seed are left", t->vm_name,
			  run_result_last_err(&res, last, sizeof(last)),
			  t->dataset);
		run_result_clear(&res);
		return -1;
	}
	run_result_clear(&res);
	msg_info("Undefined domain %s", t->vm_name);
	return 0;
}

static int remove_seed(const char *task, const struct target *t)
{
	char *iso;
	int rc = 0;

	if (!t->seed)
		return 0;
	iso = xasprintf("%s/" SEED_ISO_NAME, t->seed);
	if ((unlink(iso) < 0 && errno != ENOENT) ||
	    (rmdir(t->seed) < 0 && errno != ENOENT)) {
		rc = msg_error(task, "could not remove the seed %s: %s",
			       t->seed, strerror(errno));
	} else {
		msg_info("Removed seed %s", t->seed);
	}
	free(iso);
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
	char *base = xasprintf("%s@base", t->dataset);
	bool has_base;
	int rc;

	rc = check_snapshots(r, task, t->dataset, base, &has_base);
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
	if (zfs_destroy(r, t->dataset, false, &zr) < 0) {
		zfs_report(task, "destroy", t->dataset, &zr);
		if (t->base)
			msg_error(task, "its snapshot %s was destroyed; zvol "
				  "%s is left", t->base, t->dataset);
		return -1;
	}
	msg_info("Destroyed zvol %s", t->dataset);
	msg_info("Image %s destroyed", t->dataset);
	return 0;
}

static int destroy_vm(const struct runner *r, const char *task,
		      struct target *t)
{
	struct zfs_result zr;
	bool none;

	/* Everything that can be known first, so a refusal changes nothing:
	 * snapshots (with their clones and holds) would make the volume's
	 * destroy fail after the domain is gone. */
	if (check_snapshots(r, task, t->dataset, NULL, &none) < 0 ||
	    check_seed(task, t) < 0 || check_domain(r, task, t) < 0)
		return -1;
	if (remove_domain(r, task, t) < 0)
		return -1;
	if (zfs_destroy(r, t->dataset, false, &zr) < 0) {
		zfs_report(task, "destroy", t->dataset, &zr);
		return msg_error(task, "domain %s was undefined; its zvol %s "
				 "and seed are left", t->vm_name, t->dataset);
	}
	msg_info("Destroyed zvol %s", t->dataset);
	if (remove_seed(task, t) < 0)
		return -1;
	msg_info("VM %s destroyed", t->vm_name);
	return 0;
}

int destroy_run(const struct runner *r, const char *name, const char *connect)
{
	struct target t;
	char *task = xasprintf("destroying %s", name);
	int rc = -1;

	memset(&t, 0, sizeof(t));
	if (resolve(r, task, name, connect, &t) == 0) {
		if (strcmp(t.role, "image") == 0)
			rc = destroy_image(r, task, &t);
		else
			rc = destroy_vm(r, task, &t);
	}
	target_free(&t);
	free(task);
	return rc;
}
