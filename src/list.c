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

/* Is NAME@base among the listed lines? */
static bool has_base(char *const *names, size_t n, const char *name)
{
	size_t len = strlen(name);

	for (size_t i = 0; i < n; i++)
		if (strncmp(names[i], name, len) == 0 &&
		    strcmp(names[i] + len, "@base") == 0)
			return true;
	return false;
}

int list_run(const struct runner *r, bool scripted)
{
	struct zfs_result zr;
	struct strvec lines = STRVEC_INIT, snaps = STRVEC_INIT;
	char *out = NULL, *save = NULL;

	if (zfs_list(r, LIST_PROPS, "volume,snapshot", NULL, &out, &zr) < 0)
		return zfs_report("listing", "list", "datasets", &zr);
	for (char *l = strtok_r(out, "\n", &save); l;
	     l = strtok_r(NULL, "\n", &save)) {
		char *f[F__COUNT];
		char *copy = xstrdup(l);

		if (text_split(copy, '\t', f, F__COUNT) == F__COUNT &&
		    strcmp(f[F_TYPE], "snapshot") == 0)
			strvec_push(&snaps, f[F_NAME]);
		free(copy);
		strvec_push(&lines, l);
	}
	free(out);

	if (!scripted)
		fprintf(msg_out(), "%-28s %-6s %-16s %-28s %8s %8s %s\n", "NAME", "ROLE",
		       "VM", "ORIGIN", "VOLSIZE", "USED", "CREATED");
	for (size_t i = 0; i < lines.n; i++) {
		char *f[F__COUNT], a[32], b[32], c[32];
		bool image, vm;

		if (text_split(lines.v[i], '\t', f, F__COUNT) != F__COUNT ||
		    strcmp(f[F_TYPE], "volume") != 0)
			continue;
		image = strcmp(f[F_ROLE], "image") == 0 &&
			has_base(snaps.v, snaps.n, f[F_NAME]);
		vm = strcmp(f[F_ROLE], "vm") == 0;
		if (!image && !vm)
			continue;
		if (scripted)
			fprintf(msg_out(), "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", f[F_NAME],
			       f[F_ROLE], f[F_VMNAME], f[F_ORIGIN],
			       f[F_VOLSIZE], f[F_USED],
			       when(f[F_CREATION], c, sizeof(c)));
		else
			fprintf(msg_out(), "%-28s %-6s %-16s %-28s %8s %8s %s\n",
			       f[F_NAME], f[F_ROLE], f[F_VMNAME], f[F_ORIGIN],
			       human(f[F_VOLSIZE], a, sizeof(a)),
			       human(f[F_USED], b, sizeof(b)),
			       when(f[F_CREATION], c, sizeof(c)));
	}
	fflush(msg_out());
	strvec_clear(&lines);
	strvec_clear(&snaps);
	return 0;
}
