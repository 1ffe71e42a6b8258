/*
 * host_local: the host operations (host.h) on this machine, by system
 * calls. It touches only the paths it is given.
 */
#include "host.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "device.h"
#include "io.h"
#include "msg.h"
#include "progress.h"
#include "strvec.h"
#include "text.h"

static int local_exists(void *ctx, const char *path)
{
	struct stat st;

	(void)ctx;
	if (lstat(path, &st) == 0)
		return 1;
	return errno == ENOENT ? 0 : -1;
}

static int local_make_dir(void *ctx, const char *path, mode_t mode)
{
	int err;

	(void)ctx;
	if (mkdir(path, mode) < 0)
		return -1;
	/* qvm runs with umask 077; the mode asked for is the mode. */
	if (chmod(path, mode) == 0)
		return 0;
	err = errno;
	rmdir(path);
	errno = err;
	return -1;
}

/* A temporary file beside path, then link(): path appears whole, and only
 * if nothing was there (link never replaces). */
static int local_write_file(void *ctx, const char *path, const char *data,
			    size_t len, mode_t mode, char *errbuf,
			    size_t errsize)
{
	const char *slash = strrchr(path, '/');
	char *tmp = slash ? xasprintf("%.*s/.%s.XXXXXX", (int)(slash - path),
				      path, slash + 1)
			  : xasprintf(".%s.XXXXXX", path);
	int fd, err, rc = -1;

	(void)ctx;
	fd = mkstemp(tmp);
	if (fd < 0) {
		err = errno;
		text_fail(errbuf, errsize, "cannot create %s: %s", path,
			  strerror(err));
		free(tmp);
		errno = err;
		return -1;
	}
	if (fchmod(fd, mode) < 0 || io_write_all(fd, data, len) < 0) {
		err = errno;
		text_fail(errbuf, errsize, "cannot write %s: %s", path,
			  strerror(err));
		close(fd);
		goto done;
	}
	if (close(fd) < 0) {
		err = errno;
		text_fail(errbuf, errsize, "cannot write %s: %s", path,
			  strerror(err));
		goto done;
	}
	if (link(tmp, path) < 0) {
		err = errno;
		text_fail(errbuf, errsize, "cannot create %s: %s", path,
			  strerror(err));
		goto done;
	}
	err = 0;
	rc = 0;
done:
	unlink(tmp);	/* ours: mkstemp made it */
	free(tmp);
	errno = err;
	return rc;
}

static int local_set_mode(void *ctx, const char *path, mode_t mode)
{
	(void)ctx;
	return chmod(path, mode);
}

static void local_remove_files(void *ctx, const char *const *paths)
{
	(void)ctx;
	for (; *paths; paths++)
		unlink(*paths);
}

static int local_remove_dir(void *ctx, const char *dir,
			    const char *const *names, char *errbuf,
			    size_t errsize)
{
	(void)ctx;
	for (; *names; names++) {
		char *p = xasprintf("%s/%s", dir, *names);
		int err;

		if (unlink(p) < 0 && errno != ENOENT) {
			err = errno;
			text_fail(errbuf, errsize, "%s: %s", p, strerror(err));
			free(p);
			errno = err;
			return -1;
		}
		free(p);
	}
	if (rmdir(dir) < 0 && errno != ENOENT)
		return text_fail(errbuf, errsize, "%s: %s", dir,
				 strerror(errno));
	return 0;
}

static int local_wait_path(void *ctx, const char *path, unsigned timeout_ms)
{
	(void)ctx;
	return device_wait(path, timeout_ms);
}

static int local_copy_in(void *ctx, const struct copy_source *src,
			 const char *src_name,
			 const char *dest, uint64_t size,
			 struct copy_stats *stats, char *errbuf,
			 size_t errsize)
{
	struct progress p;
	int dst, rc, err;

	(void)ctx;
	(void)src_name;
	dst = open(dest, O_WRONLY | O_CLOEXEC);
	if (dst < 0)
		return text_fail(errbuf, errsize, "cannot open %s: %s", dest,
				 strerror(errno));
	progress_begin(&p, msg_out(), "Copying");
	rc = copy_sparse_from(src, dst, size, stats, progress_update, &p,
			      errbuf, errsize);
	err = errno;
	if (rc == 0)
		progress_end(&p, stats->written);
	else if (p.tty)
		fputc('\n', msg_out());
	if (close(dst) < 0 && rc == 0) {
		err = errno;
		rc = text_fail(errbuf, errsize, "closing %s: %s", dest,
			       strerror(err));
	}
	errno = err;
	return rc;
}

static int local_file_there(void *ctx, int src_fd, const char *src_name,
			    char **there, char *errbuf, size_t errsize)
{
	(void)ctx;
	(void)src_fd;
	(void)errbuf;
	(void)errsize;
	*there = xstrdup(src_name);
	return 0;
}

static ssize_t local_read_at(void *ctx, const char *path, uint64_t off,
			     void *buf, size_t len, uint64_t *size)
{
	struct stat sb;
	ssize_t r;
	int fd, err;

	(void)ctx;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return -1;
	if (fstat(fd, &sb) < 0)
		goto fail;
	if (!S_ISREG(sb.st_mode)) {
		errno = EINVAL;
		goto fail;
	}
	*size = (uint64_t)sb.st_size;
	do
		r = pread(fd, buf, len, (off_t)off);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		goto fail;
	close(fd);
	return r;
fail:
	err = errno;
	close(fd);
	errno = err;
	return -1;
}

static void local_end(void *ctx, const char *done)
{
	(void)ctx;
	msg_info("%s", done);
}

const struct host_ops host_local_ops = {
	.say = host_real_say,
	.sees_changes = host_real_sees_changes,
	.exists = local_exists,
	.make_dir = local_make_dir,
	.write_file = local_write_file,
	.set_mode = local_set_mode,
	.remove_files = local_remove_files,
	.remove_dir = local_remove_dir,
	.wait_path = local_wait_path,
	.copy_in = local_copy_in,
	.file_there = local_file_there,
	.read_at = local_read_at,
	.begin = host_real_begin,
	.end = local_end,
};

const struct host host_local = { &runner_real, &host_local_ops, NULL, NULL };
