#include "owned.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "msg.h"
#include "strvec.h"
#include "tags.h"
#include "text.h"
#include "zfs.h"

/* The tags qvm sets on a volume it makes; only those set on the volume
 * itself count (its snapshots and children inherit them). */
#define TAGS TAG_ROLE "," TAG_NAME "," TAG_SEED "," TAG_CONNECT "," \
	TAG_UUID "," TAG_CONSOLE

/* A bare name is a VM's: find the volume tagged with it. */
static int find_vm(const struct runner *r, const char *task, const char *name,
		   char **dataset)
{
	struct zfs_result zr;
	char *out = NULL, *save = NULL;
	struct strvec named = STRVEC_INIT, vms = STRVEC_INIT;
	size_t found = 0;

	if (zfs_get_local(r, TAG_ROLE "," TAG_NAME, "volume", NULL, &out,
			  &zr) < 0)
		return zfs_report(task, "list", "volumes", &zr);
	for (char *l = strtok_r(out, "\n", &save); l;
	     l = strtok_r(NULL, "\n", &save)) {
		char *f[3];	/* name, property, value */

		if (text_split(l, '\t', f, 3) != 3)
			continue;
		if (strcmp(f[1], TAG_NAME) == 0 && strcmp(f[2], name) == 0)
			strvec_push(&named, f[0]);
		else if (strcmp(f[1], TAG_ROLE) == 0 &&
			 strcmp(f[2], ROLE_VM) == 0)
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
		     struct owned *t)
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
		if (strcmp(f[1], TAG_ROLE) == 0)
			slot = &t->role;
		else if (strcmp(f[1], TAG_NAME) == 0)
			slot = &t->vm_name;
		else if (strcmp(f[1], TAG_SEED) == 0)
			slot = &t->seed;
		else if (strcmp(f[1], TAG_CONNECT) == 0)
			slot = &t->connect;
		else if (strcmp(f[1], TAG_UUID) == 0)
			slot = &t->uuid;
		else if (strcmp(f[1], TAG_CONSOLE) == 0)
			slot = &t->console;
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

int owned_resolve(const struct runner *r, const char *task, const char *verb,
		  const char *name, const char *connect, struct owned *t)
{
	struct zfs_result zr;
	char *type = NULL;
	int rc;

	if (strpbrk(name, "@#"))
		return msg_error(task, "%s is a snapshot or bookmark, not a "
				 "volume; qvm %s only the volumes it made "
				 "(name the VM, or the image's volume)",
				 name, verb);
	if (strchr(name, '/'))
		t->dataset = xstrdup(name);
	else if (find_vm(r, task, name, &t->dataset) < 0)
		return -1;
	if (zfs_get(r, t->dataset, "type", &type, &zr) < 0)
		return zfs_report(task, "read the properties of", t->dataset,
				  &zr);
	rc = strcmp(type, "volume");
	if (rc != 0)
		msg_error(task, "%s is a %s, not a volume; qvm %s only the "
			  "volumes it made", t->dataset, type, verb);
	free(type);
	if (rc != 0 || read_tags(r, task, t) < 0)
		return -1;
	if (!t->role || (strcmp(t->role, ROLE_VM) != 0 &&
			 strcmp(t->role, ROLE_IMAGE) != 0))
		return msg_error(task, "%s does not carry qvm's tag (qvm:role); "
				 "qvm %s only what it made", t->dataset, verb);
	if (strcmp(t->role, ROLE_IMAGE) == 0)
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

void owned_free(struct owned *o)
{
	free(o->dataset);
	free(o->role);
	free(o->vm_name);
	free(o->seed);
	free(o->connect);
	free(o->uuid);
	free(o->console);
	memset(o, 0, sizeof(*o));
}
