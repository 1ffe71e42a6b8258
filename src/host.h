/*
 * host: the machine that holds the VMs, and the one way qvm acts on it.
 *
 * Every effect of image, vm, destroy, list and wait on that machine goes
 * through a host: running a program (its runner, runner.h), writing a file,
 * making and removing a directory, waiting for a path, streaming an image
 * into a device and reading a growing file. The steps never ask whether
 * they are dry or real: the host decides. Three implementations:
 *   host_local   (host_local.c) does it here, with system calls;
 *   host_ssh     (host_ssh.h) does it on another machine, over OpenSSH;
 *   dry run      (dryrun.h) reads for real through another host, and
 *                prints every change as a shell command instead (a script
 *                that makes it), writing nothing anywhere.
 *
 * Each operation returns 0, or -1 with errno set (and, where it takes
 * one, a reason in errbuf naming the path).
 */
#ifndef QVM_HOST_H
#define QVM_HOST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "copy.h"
#include "runner.h"

struct host_ops {
	/* A progress line for the person watching. */
	void (*say)(void *ctx, const char *line);

	/* Whether reads see what this run changed: false when nothing is
	 * changed (a dry run), so checks of the changes are skipped. */
	bool (*sees_changes)(void *ctx);

	/* 1 if path exists (lstat), 0 if not, -1 with errno. */
	int (*exists)(void *ctx, const char *path);

	/* mkdir path with exactly mode (the umask does not apply); -1 with
	 * errno EEXIST if anything is there. */
	int (*make_dir)(void *ctx, const char *path, mode_t mode);

	/* Creates path, which must not exist, holding the len bytes of data
	 * with mode, atomically: path appears whole or not at all. */
	int (*write_file)(void *ctx, const char *path, const char *data,
			  size_t len, mode_t mode, char *errbuf,
			  size_t errsize);

	/* chmod; ENOENT is an error like any other. */
	int (*set_mode)(void *ctx, const char *path, mode_t mode);

	/* Removes the files (NULL-terminated); missing ones are fine;
	 * best effort (nothing to report: used on the way out). */
	void (*remove_files)(void *ctx, const char *const *paths);

	/* Removes the named files (NULL-terminated) in dir, then dir,
	 * missing ones fine; dir must then be empty. -1 with a reason in
	 * errbuf naming the path. */
	int (*remove_dir)(void *ctx, const char *dir,
			  const char *const *names, char *errbuf,
			  size_t errsize);

	/* Waits until path exists as a block device or a regular file:
	 * -1 with ETIMEDOUT, EINTR (signals_pending()), ENODEV (something
	 * else is there) or what stat said. */
	int (*wait_path)(void *ctx, const char *path, unsigned timeout_ms);

	/* Streams the size bytes of src (a file or pipe, or a decoder's
	 * ring: copy.h's struct copy_source; src_name for messages) into the
	 * device dest, which reads as zeros: holes and zero blocks are not
	 * written (copy.h). Shows its progress. */
	int (*copy_in)(void *ctx, const struct copy_source *src,
		       const char *src_name,
		       const char *dest, uint64_t size,
		       struct copy_stats *stats, char *errbuf,
		       size_t errsize);

	/* A path under which the programs run there read the file src_fd
	 * (src_name here), malloc'd in *there: src_name itself on this
	 * machine; on another, a temporary copy (mode 0600, holes and zero
	 * blocks not sent) that closing the host removes. */
	int (*file_there)(void *ctx, int src_fd, const char *src_name,
			  char **there, char *errbuf, size_t errsize);

	/* Up to len bytes of the regular file path at off (0 at its end),
	 * its current size in *size; -1 with errno (EINVAL: not a regular
	 * file). */
	ssize_t (*read_at)(void *ctx, const char *path, uint64_t off,
			   void *buf, size_t len, uint64_t *size);

	/* A run that is about to change the host (what: "create VM web1"),
	 * and its successful end (done: "VM web1 created"). */
	void (*begin)(void *ctx, const char *what);
	void (*end)(void *ctx, const char *done);
};

struct host {
	const struct runner *runner;	/* runs programs there */
	const struct host_ops *ops;
	void *ctx;
	const char *name;	/* another machine's, for messages; NULL
				 * for this one */
};

extern const struct host_ops host_local_ops;

/* The local machine, running programs with runner_real. */
extern const struct host host_local;

/* The local machine running programs through r (tests script r). */
#define HOST_LOCAL(r) { (r), &host_local_ops, NULL, NULL }

/* The say, sees_changes and begin of a host that acts for real (local,
 * SSH): progress lines on stdout, its changes seen, nothing to announce. */
void host_real_say(void *ctx, const char *line);
bool host_real_sees_changes(void *ctx);
void host_real_begin(void *ctx, const char *what);

/* A progress line through h->ops->say. */
void host_say(const struct host *h, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif
