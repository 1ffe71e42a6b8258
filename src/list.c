#include "list.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "msg.h"
#include "strvec.h"
#include "text.h"
#include "zfs.h"

#define LIST_PROPS "name,type,qvm:role,qvm:name,origin,volsize,used,creation"

enum { F_NAME, F_TYPE, F_ROLE, F_VMNAME, F_ORIGIN, F_VOLSIZE, F_USED,
       F_CREATION, F__COUNT };

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

typedef char *row[F__COUNT];

/* Is NAME@base among the listed snapshots? */
static bool has_base(row *rows, size_t n, const char *name)
{
	size_t len = strlen(name);

	for (size_t i = 0; i < n; i++)
		if (strcmp(rows[i][F_TYPE], "snapshot") == 0 &&
		    strncmp(rows[i][F_NAME], name, len) == 0 &&
		    strcmp(rows[i][F_NAME] + len, "@base") == 0)
			return true;
	return false;
}

int list_run(const struct runner *r, bool scripted)
{
	struct zfs_result zr;
	char *out = NULL, *save = NULL;
	row *rows = NULL;
	size_t n = 0, alloc = 0;

	if (zfs_list(r, LIST_PROPS, "volume,snapshot", NULL, &out, &zr) < 0)
		return zfs_report("listing", "list", "datasets", &zr);
	/* Each line split once, in place; rows point into out. */
	for (char *l = strtok_r(out, "\n", &save); l;
	     l = strtok_r(NULL, "\n", &save)) {
		if (n == alloc) {
			alloc = alloc ? 2 * alloc : 64;
			rows = xrealloc(rows, alloc * sizeof(*rows));
		}
		if (text_split(l, '\t', rows[n], F__COUNT) == F__COUNT)
			n++;
	}

	if (!scripted)
		fprintf(msg_out(), "%-28s %-6s %-16s %-28s %8s %8s %s\n",
			"NAME", "ROLE", "VM", "ORIGIN", "VOLSIZE", "USED",
			"CREATED");
	for (size_t i = 0; i < n; i++) {
		char **f = rows[i], a[32], b[32], c[32];
		bool image, vm;

		if (strcmp(f[F_TYPE], "volume") != 0)
			continue;
		image = strcmp(f[F_ROLE], "image") == 0 &&
			has_base(rows, n, f[F_NAME]);
		vm = strcmp(f[F_ROLE], "vm") == 0;
		if (!image && !vm)
			continue;
		if (scripted)
			fprintf(msg_out(), "%s\t%s\t%s\t%s\t%s\t%s\t%s\n",
				f[F_NAME], f[F_ROLE], f[F_VMNAME],
				f[F_ORIGIN], f[F_VOLSIZE], f[F_USED],
				when(f[F_CREATION], c, sizeof(c)));
		else
			fprintf(msg_out(),
				"%-28s %-6s %-16s %-28s %8s %8s %s\n",
				f[F_NAME], f[F_ROLE], f[F_VMNAME],
				f[F_ORIGIN], human(f[F_VOLSIZE], a, sizeof(a)),
				human(f[F_USED], b, sizeof(b)),
				when(f[F_CREATION], c, sizeof(c)));
	}
	free(rows);
	free(out);
	fflush(msg_out());
	return 0;
}
