/*
 * Instant stand-ins for the programs qvm runs, for the benchmark only.
 * One binary, installed under four names; what it does depends on the
 * name it was run as. Each does the least that lets qvm go on, so that a
 * timing of qvm is qvm's own and not the test double's start-up:
 *
 *   zfs get -Hp -o value PROP NAME
 *       PROP "volsize": prints 4294967296.
 *       PROP "type": a snapshot (NAME has '@') exists and prints
 *       "snapshot"; anything else "does not exist" (OpenZFS's text,
 *       exit 1), as qvm expects for the dataset it is about to create.
 *   zfs create -V SIZE [-o P=V]... NAME
 *       creates $QVM_ZVOL_DIR/NAME as a sparse file of SIZE bytes (the
 *       new volume's "device"); an existing one is "dataset already
 *       exists", exit 1.
 *   zfs clone [-o P=V]... SNAPSHOT NAME
 *       creates $QVM_ZVOL_DIR/NAME (empty) if missing.
 *   zfs anything else (snapshot, destroy, set): exit 0.
 *   genisoimage ... -output ISO ...: creates ISO (empty).
 *   virt-install ...: exit 0.
 *   virsh [-c URI] dominfo NAME: no such domain ("failed to get domain",
 *       virsh's text, exit 1), as qvm expects for the VM it makes.
 *   virsh anything else: exit 0.
 *
 * If QVM_BENCH_STUB_LOG is set, each call appends its argv to that file,
 * one line, arguments separated by tabs (used once, untimed, to record
 * what qvm runs so the same calls can be replayed without qvm).
 *
 * Built static by bench.sh when libc.a is there: no dynamic loader.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void log_argv(int argc, char **argv)
{
	const char *path = getenv("QVM_BENCH_STUB_LOG");
	FILE *f;

	if (!path || !*path)
		return;
	f = fopen(path, "a");
	if (!f)
		return;
	for (int i = 0; i < argc; i++)
		fprintf(f, "%s%s", i ? "\t" : "", argv[i]);
	fputc('\n', f);
	fclose(f);
}

static const char *base_name(const char *p)
{
	const char *s = strrchr(p, '/');

	return s ? s + 1 : p;
}

/* $QVM_ZVOL_DIR/NAME, creating the directories on the way. */
static char *device_path(const char *name)
{
	const char *dir = getenv("QVM_ZVOL_DIR");
	size_t len;
	char *path;

	if (!dir || !*dir)
		dir = "/dev/zvol";
	len = strlen(dir) + strlen(name) + 2;
	path = malloc(len);
	if (!path)
		exit(1);
	snprintf(path, len, "%s/%s", dir, name);
	for (char *s = path + strlen(dir) + 1; (s = strchr(s, '/')); s++) {
		*s = '\0';
		if (mkdir(path, 0755) < 0 && errno != EEXIST) {
			fprintf(stderr, "zfs stub: mkdir %s: %s\n", path,
				strerror(errno));
			exit(1);
		}
		*s = '/';
	}
	return path;
}

static int zfs(int argc, char **argv)
{
	const char *name = argv[argc - 1];
	char *path;
	int fd;

	if (argc < 2)
		return 2;
	if (!strcmp(argv[1], "get") && argc >= 4) {
		const char *prop = argv[argc - 2];

		if (!strcmp(prop, "volsize")) {
			fputs("4294967296\n", stdout);
			return 0;
		}
		if (strchr(name, '@')) {
			fputs("snapshot\n", stdout);
			return 0;
		}
		fprintf(stderr, "cannot open '%s': dataset does not exist\n",
			name);
		return 1;
	}
	if (!strcmp(argv[1], "create")) {
		unsigned long long size = 0;

		for (int i = 2; i + 1 < argc; i++)
			if (!strcmp(argv[i], "-V"))
				size = strtoull(argv[i + 1], NULL, 10);
		path = device_path(name);
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
		if (fd < 0 && errno == EEXIST) {
			fprintf(stderr, "cannot create '%s': dataset already "
				"exists\n", name);
			return 1;
		}
		if (fd < 0 || ftruncate(fd, (off_t)size) < 0) {
			fprintf(stderr, "zfs stub: %s: %s\n", path,
				strerror(errno));
			return 1;
		}
		close(fd);
		free(path);
		return 0;
	}
	if (!strcmp(argv[1], "clone")) {
		path = device_path(name);
		fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
		if (fd < 0) {
			fprintf(stderr, "zfs stub: %s: %s\n", path,
				strerror(errno));
			return 1;
		}
		close(fd);
		free(path);
		return 0;
	}
	return 0;
}

static int genisoimage(int argc, char **argv)
{
	for (int i = 1; i + 1 < argc; i++) {
		int fd;

		if (strcmp(argv[i], "-output") && strcmp(argv[i], "-o"))
			continue;
		fd = open(argv[i + 1], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
			  0644);
		if (fd < 0) {
			fprintf(stderr, "genisoimage stub: %s: %s\n",
				argv[i + 1], strerror(errno));
			return 1;
		}
		close(fd);
		return 0;
	}
	fputs("genisoimage stub: no -output\n", stderr);
	return 1;
}

int main(int argc, char **argv)
{
	const char *me = base_name(argv[0]);

	log_argv(argc, argv);
	if (!strcmp(me, "zfs"))
		return zfs(argc, argv);
	if (!strcmp(me, "genisoimage"))
		return genisoimage(argc, argv);
	if (!strcmp(me, "virsh") && argc >= 3 &&
	    !strcmp(argv[argc - 2], "dominfo")) {
		fprintf(stderr, "error: failed to get domain '%s'\n",
			argv[argc - 1]);
		return 1;
	}
	return 0;	/* virt-install, and anything else */
}
