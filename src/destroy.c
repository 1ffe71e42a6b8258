#include "destroy.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "msg.h"
#include "strvec.h"
#include "text.h"
#include "virsh.h"
#include "vm.h"
#include "zfs.h"

struct target {
	char *dataset;
	char *role;		/* "vm" or "image" */
	char *vm_name;		/* qvm:name, for VMs */
	char *seed;		/* qvm:seed, or "-" */
	char *connect;		/* -c, qvm:connect, or NULL */
};

static void target_free(struct target *t)
{
	free(t->dataset);
	free(t->role);
	free(t->vm_name);
	free(t->seed);
	free(t->connect);
}

/* A bare name is a VM's: find the volume tagged with it. */
static int find_vm(const struct runner *r, const char *task, const char *name,
		   char **dataset)
{
	struct zfs_result zr;
	char *out = NULL, *save = NULL;
	size_t found = 0;

	if (zfs_list(r, "name,qvm:role,qvm:name", "volume", NULL, &out,
		     &zr) < 0)
		return zfs_report(task, "list", "volumes", &zr);
	for (char *l = strtok_r(out, "\n", &save); l;
	     l = strtok_r(NULL, "\n", &save)) {
		char *f[3];	/* name, qvm:role, qvm:name */

		if (text_split(l, '\t', f, 3) == 3 &&
		    strcmp(f[1], "vm") == 0 && strcmp(f[2], name) == 0 &&
		    !found++)
			*dataset = xstrdup(f[0]);
	}
	free(out);
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

static int get_prop(const struct runner *r, const char *task,
		    const char *dataset, const char *prop, char **value)
{
	struct zfs_result zr;

	if (zfs_get(r, dataset, prop, value, &zr) == 0)
		return 0;
	return zfs_report(task, "read the properties of", dataset, &zr);
}

static int resolve(const struct runner *r, const char *task,
		   const char *name, const char *connect, struct target *t)
{
	if (strchr(name, '/'))
		t->dataset = xstrdup(name);
	else if (find_vm(r, task, name, &t->dataset) < 0)
		return -1;
	if (get_prop(r, task, t->dataset, "qvm:role", &t->role) < 0)
		return -1;
	if (strcmp(t->role, "vm") != 0 && strcmp(t->role, "image") != 0)
		return msg_error(task, "%s does not carry qvm's tag (qvm:role); "
				 "qvm destroys only what it made", t->dataset);
	if (strcmp(t->role, "image") == 0)
		return 0;
	if (get_prop(r, task, t->dataset, "qvm:name", &t->vm_name) < 0 ||
	    get_prop(r, task, t->dataset, "qvm:seed", &t->seed) < 0)
		return -1;
	if (connect) {
		t->connect = xstrdup(connect);
	} else {
		char *c = NULL;

		if (get_prop(r, task, t->dataset, "qvm:connect", &c) < 0)
			return -1;
		if (strcmp(c, "-") != 0)
			t->connect = c;
		else
			free(c);
	}
	return 0;
}

static int remove_domain(const struct runner *r, const char *task,
			 const struct target *t)
{
	struct strvec argv = STRVEC_INIT;
	struct run_result res;
	char last[512];
	int rc = -1;

	virsh_argv(&argv, t->connect, "domstate", t->vm_name);
	runner_run(r, strvec_argv(&argv), RUN_READS, &res);
	strvec_clear(&argv);
	if (res.status != 0) {
		if (virsh_domain_missing(&res)) {
			msg_info("Domain %s is not defined", t->vm_name);
			rc = 0;
		} else {
			msg_error(task, "could not query domain %s: %s",
				  t->vm_name,
				  run_result_last_err(&res, last,
						      sizeof(last)));
		}
		run_result_clear(&res);
		return rc;
	}
	if (strncmp(res.out, "shut off", 8) != 0) {
		run_result_clear(&res);
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
		msg_info("Stopped domain %s", t->vm_name);
	}
	run_result_clear(&res);
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

/* The seed directory qvm made for this VM: SEED_DIR/NAME/seed.iso. */
static int remove_seed(const char *task, const struct target *t)
{
	char *iso;
	const char *base;
	int rc = 0;

	if (strcmp(t->seed, "-") == 0)
		return 0;
	base = strrchr(t->seed, '/');
	/* Only a directory named after the VM, as qvm makes it. */
	if (!base || strcmp(base + 1, t->vm_name) != 0)
		return msg_error(task, "the recorded seed %s is not a qvm seed "
				 "directory for %s; left alone", t->seed,
				 t->vm_name);
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

static int destroy_image(const struct runner *r, const char *task,
			 const struct target *t)
{
	struct zfs_result zr;
	char *snap = xasprintf("%s@base", t->dataset);
	char *clones = NULL;
	int rc = -1;

	if (zfs_get(r, snap, "clones", &clones, &zr) < 0 &&
	    zr.code != ZFS_ERR_NOENT) {
		zfs_report(task, "read the clones of", snap, &zr);
		goto done;
	}
	if (clones && *clones && strcmp(clones, "-") != 0) {
		msg_error(task, "%s still has clones: %s; destroy those VMs "
			  "first", snap, clones);
		goto done;
	}
	if (zfs_destroy(r, t->dataset, true, &zr) < 0) {
		zfs_report(task, "destroy", t->dataset, &zr);
		goto done;
	}
	msg_info("Destroyed zvol %s and its snapshot", t->dataset);
	msg_info("Image %s destroyed", t->dataset);
	rc = 0;
done:
	free(snap);
	free(clones);
	return rc;
}

static int destroy_vm(const struct runner *r, const char *task,
		      const struct target *t)
{
	struct zfs_result zr;

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
