#include "list.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "msg.h"
#include "strvec.h"
#include "tags.h"
#include "text.h"
#include "virsh.h"
#include "zfs.h"

/* Volumes only (never snapshots: a host may have tens of thousands), and
 * only the columns shown; an image's clones name it in their origin. */
#define LIST_PROPS "name,origin,volsize,used,creation"

enum { F_NAME, F_ORIGIN, F_VOLSIZE, F_USED, F_CREATION, F__COUNT };

/* qvm's tags, read as they are set on each volume itself. */
#define LIST_TAGS TAG_ROLE "," TAG_NAME "," TAG_CONNECT "," TAG_UUID

/* A volume with qvm's tags set on itself (zfs get -s local). */
struct tagged {
	const char *name;
	const char *role;	/* "vm" or "image", else NULL */
	const char *vm_name;	/* qvm:name, else NULL */
	const char *connect;	/* qvm:connect, else NULL */
	const char *uuid;	/* qvm:uuid, else NULL */
};

struct tags {
	struct tagged *v;
	size_t n, alloc;
};

static const char *human(const char *bytes, char *buf, size_t size)
{
	static const char units[] = "BKMGTPE";
	double v = strtod(bytes, NULL);
	int u = 0;

	if (strcmp(bytes, "-") == 0)
		return "-";
	while (v >= 1024 && u < 6) {
		v /= 1024;
		u++;
	}
	if (u == 0)
		snprintf(buf, size, "%.0fB", v);
	else
		snprintf(buf, size, v < 10 ? "%.1f%c" : "%.0f%c", v, units[u]);
	return buf;
}

static const char *when(const char *epoch, char *buf, size_t size)
{
	return text_utc((time_t)strtoll(epoch, NULL, 10), buf, size);
}

static int by_name(const void *a, const void *b)
{
	return strcmp(((const struct tagged *)a)->name,
		      ((const struct tagged *)b)->name);
}

static struct tagged *find(struct tags *t, const char *name)
{
	struct tagged key = { name, NULL, NULL, NULL, NULL };

	if (!t->n)
		return NULL;
	return bsearch(&key, t->v, t->n, sizeof(*t->v), by_name);
}

/* "name<TAB>property<TAB>value" lines, split in place: one entry per
 * volume, pointing into out. */
static void parse_tags(char *out, struct tags *t)
{
	char *save = NULL;

	for (char *l = strtok_r(out, "\n", &save); l;
	     l = strtok_r(NULL, "\n", &save)) {
		char *f[3];
		struct tagged *e;

		if (text_split(l, '\t', f, 3) != 3)
			continue;
		/* zfs prints a volume's properties together. */
		e = t->n ? &t->v[t->n - 1] : NULL;
		if (!e || strcmp(e->name, f[0]) != 0) {
			if (t->n == t->alloc) {
				t->alloc = t->alloc ? 2 * t->alloc : 64;
				t->v = xrealloc(t->v,
						t->alloc * sizeof(*t->v));
			}
			e = &t->v[t->n++];
			e->name = f[0];
			e->role = e->vm_name = e->connect = e->uuid = NULL;
		}
		if (strcmp(f[1], TAG_ROLE) == 0 &&
		    (strcmp(f[2], ROLE_VM) == 0 ||
		     strcmp(f[2], ROLE_IMAGE) == 0))
			e->role = f[2];
		else if (strcmp(f[1], TAG_NAME) == 0)
			e->vm_name = f[2];
		else if (strcmp(f[1], TAG_CONNECT) == 0)
			e->connect = f[2];
		else if (strcmp(f[1], TAG_UUID) == 0)
			e->uuid = f[2];
	}
	if (t->n)
		qsort(t->v, t->n, sizeof(*t->v), by_name);
}

/* An image is complete once it has @base (an interrupted import has
 * not): asked of each image, not of every snapshot on the host. */
static int has_base(const struct runner *r, const char *image, int *yes)
{
	struct zfs_result zr;
	char *snap = xasprintf("%s" TAG_AT_BASE, image);
	int rc;

	rc = zfs_exists(r, snap, &zr);
	if (rc < 0)
		zfs_report("listing", "read", snap, &zr);
	free(snap);
	*yes = rc == 1;
	return rc < 0 ? -1 : 0;
}

/*
 * A VM's domain state as libvirt says it ("running", "shut off", ...), by
 * the UUID qvm gave it (its name on volumes made before qvm:uuid):
 * "missing" when libvirt has no such domain, "unknown" when it cannot be
 * asked (the reason is not list's to report). Written into buf.
 */
static const char *domain_state(const struct runner *r,
				const struct tagged *e, char *buf, size_t size)
{
	int rc = virsh_domain_state(r, e->connect, e->uuid ? e->uuid :
				    e->vm_name, buf, size);

	if (rc == 0)
		snprintf(buf, size, "missing");
	else if (rc < 0 || !buf[0])
		snprintf(buf, size, "unknown");
	return buf;
}

static int show(const struct runner *r, bool scripted, char *volumes,
		struct tags *t)
{
	char *save = NULL;
	FILE *f = msg_out();

	if (!scripted)
		fprintf(f, "%-28s %-6s %-16s %-28s %8s %8s %-20s %s\n", "NAME",
			"ROLE", "VM", "ORIGIN", "VOLSIZE", "USED", "CREATED",
			"STATE");
	for (char *l = strtok_r(volumes, "\n", &save); l;
	     l = strtok_r(NULL, "\n", &save)) {
		char *v[F__COUNT], a[32], b[32], c[32], st[64] = "-";
		struct tagged *e;
		const char *vm;
		int base = 1;

		if (text_split(l, '\t', v, F__COUNT) != F__COUNT)
			continue;
		e = find(t, v[F_NAME]);
		if (!e || !e->role)
			continue;
		if (strcmp(e->role, ROLE_IMAGE) == 0 &&
		    (has_base(r, v[F_NAME], &base) < 0))
			return -1;
		if (!base)
			continue;
		vm = e->vm_name ? e->vm_name : "-";
		if (strcmp(e->role, ROLE_VM) == 0 && e->vm_name)
			domain_state(r, e, st, sizeof(st));
		if (scripted)
			fprintf(f, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n",
				v[F_NAME], e->role, vm, v[F_ORIGIN],
				v[F_VOLSIZE], v[F_USED],
				when(v[F_CREATION], c, sizeof(c)), st);
		else
			fprintf(f, "%-28s %-6s %-16s %-28s %8s %8s %-20s %s\n",
				v[F_NAME], e->role, vm, v[F_ORIGIN],
				human(v[F_VOLSIZE], a, sizeof(a)),
				human(v[F_USED], b, sizeof(b)),
				when(v[F_CREATION], c, sizeof(c)), st);
	}
	return 0;
}

int list_run(const struct host *h, bool scripted)
{
	const struct runner *r = h->runner;
	struct zfs_result zr;
	struct tags t = { NULL, 0, 0 };
	char *tags = NULL, *volumes = NULL;
	int rc = -1;

	if (zfs_get_local(r, LIST_TAGS, "volume", NULL, &tags, &zr) < 0) {
		zfs_report("listing", "read the tags of", "volumes", &zr);
		goto done;
	}
	parse_tags(tags, &t);
	if (t.n && zfs_list(r, LIST_PROPS, "volume", NULL, &volumes, &zr) < 0) {
		zfs_report("listing", "list", "volumes", &zr);
		goto done;
	}
	if (!volumes)
		volumes = xstrdup("");	/* nothing tagged: nothing to list */
	rc = show(r, scripted, volumes, &t);
done:
	fflush(msg_out());
	free(t.v);
	free(tags);
	free(volumes);
	return rc;
}
