#include "image.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "copy.h"
#include "device.h"
#include "host.h"
#include "imgfmt.h"
#include "msg.h"
#include "signals.h"
#include "steps.h"
#include "strvec.h"
#include "tags.h"
#include "text.h"
#include "undo.h"
#include "zfs.h"

#define MIB (1024ULL * 1024)
/* The largest volume: INT64_MAX rounded down to whole MiB. */
#define IMAGE_MAX_SIZE (0x7fffffffffffffffULL / MIB * MIB)

struct image_run {
	const struct host *h;
	const struct runner *r;	/* h->runner */
	const char *image;
	const char *zvol;
	char *task;
	char *snapshot;
	char *device;
	int fd;
	bool blockdev;
	struct img_info info;
	char *qemu_image;	/* the image as qemu-img is told to open it */
	char *qemu_device;
	uint64_t volsize;
	struct undo undo;
};

static int check_zvol_name(const char *task, const char *name)
{
	if (!strchr(name, '/'))
		return msg_error(task, "'%s' names a pool, not a volume in one "
				 "(use POOL/NAME)", name);
	if (!zfs_volume_name_ok(name, strlen(name)))
		return msg_error(task, "'%s' is not a valid volume name (use "
				 "POOL/NAME: components of A-Za-z0-9_.:-, not "
				 "'.' or '..', the pool starting with a "
				 "letter)", name);
	return 0;
}

/* What a path that is no disk image is, for the message. */
static const char *file_type(mode_t mode)
{
	if (S_ISDIR(mode))
		return "a directory";
	if (S_ISCHR(mode))
		return "a character device";
	if (S_ISFIFO(mode))
		return "a FIFO (named pipe)";
	if (S_ISSOCK(mode))
		return "a socket";
	return "not a regular file";
}

/*
 * O_NONBLOCK: a FIFO must not block the open until a writer comes (it is
 * refused right after); O_NOCTTY: a terminal must not become qvm's. The
 * flag is cleared again for the reads.
 */
static int open_file(struct image_run *m)
{
	struct stat st;
	int flags;

	m->fd = open(m->image, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (m->fd < 0)
		return msg_error(m->task, "cannot open %s: %s", m->image,
				 strerror(errno));
	if (fstat(m->fd, &st) < 0)
		return msg_error(m->task, "cannot stat %s: %s", m->image,
				 strerror(errno));
	if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode))
		return msg_error(m->task, "%s is %s; an image is a regular "
				 "file or a block device", m->image,
				 file_type(st.st_mode));
	flags = fcntl(m->fd, F_GETFL);
	if (flags < 0 || fcntl(m->fd, F_SETFL, flags & ~O_NONBLOCK) < 0)
		return msg_error(m->task, "cannot read %s: %s", m->image,
				 strerror(errno));
	m->blockdev = S_ISBLK(st.st_mode);
	return 0;
}

static int open_image(struct image_run *m)
{
	char errbuf[1024];

	if (open_file(m) < 0)
		return -1;
	if (imgfmt_probe(m->fd, &m->info, errbuf, sizeof(errbuf)) < 0)
		return msg_error(m->task, "%s: %s", m->image, errbuf);
	if (m->info.format == IMG_UNSUPPORTED)
		return msg_error(m->task, "%s is a %s image; qvm imports raw "
				 "and qcow2 only: convert it first with "
				 "'qemu-img convert -O raw %s IMAGE.raw'",
				 m->image, m->info.name, m->image);
	if (m->info.format == IMG_NOT_A_DISK)
		return msg_error(m->task, "%s is %s, not a disk image; %s %s",
				 m->image, m->info.name, m->info.advice,
				 m->image);
	/* Rounding up to whole MiB must not wrap, and the volume's size
	 * must be one Linux (signed 64-bit offsets) and qemu can address. */
	if (m->info.virtual_size > IMAGE_MAX_SIZE)
		return msg_error(m->task, "%s: its virtual size, %llu bytes, "
				 "is larger than a volume can be: at most "
				 "%llu bytes (8 EiB - 1 MiB, the largest "
				 "signed 64-bit size in whole MiB)", m->image,
				 (unsigned long long)m->info.virtual_size,
				 (unsigned long long)IMAGE_MAX_SIZE);
	m->volsize = (m->info.virtual_size + MIB - 1) / MIB * MIB;
	if (m->info.format == IMG_QCOW2 &&
	    imgfmt_qcow2_intact(m->fd, &m->info, errbuf, sizeof(errbuf)) < 0)
		return msg_error(m->task, "%s: %s", m->image, errbuf);
	return 0;
}

/*
 * How qemu-img is told to read the image: as JSON, so the driver is
 * given (nothing is probed), the file name is taken literally (no
 * "nbd:" or "json:" protocol, no option, no "file:" prefix stripped) and
 * "backing": null keeps qemu from opening any backing file the image
 * might name. A relative name gets "./" all the same.
 */
static char *qcow2_json(const char *path, bool blockdev)
{
	size_t len = strlen(path);
	char *json = xmalloc(len * 6 + 128);
	char *o = json;

	o += sprintf(o, "json:{\"driver\":\"qcow2\",\"file\":{\"driver\":"
		     "\"%s\",\"filename\":\"%s", blockdev ? "host_device"
		     : "file", path[0] == '/' ? "" : "./");
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)path[i];

		if (c == '"' || c == '\\') {
			*o++ = '\\';
			*o++ = (char)c;
		} else if (c < 0x20 || c == 0x7f) {
			o += sprintf(o, "\\u%04x", c);
		} else {
			*o++ = (char)c;
		}
	}
	strcpy(o, "\"},\"backing\":null}");
	return json;
}

/* A file name qemu-img cannot take for an option or a protocol. */
static char *qemu_path(const char *path)
{
	return path[0] == '/' ? xstrdup(path) : xasprintf("./%s", path);
}

/*
 * qemu-img check reads every table of the image: refcounts that do not
 * add up, tables that overlap. Exit 0 is clean, 3 only leaked clusters
 * (space lost, no data), 2 corruption, 1 could not check.
 */
static int check_qcow2(struct image_run *m)
{
	struct run_result res;
	char last[512];
	int rc;

	rc = runner_run(m->r, (const char *const[]){ "qemu-img", "check",
						     m->qemu_image, NULL },
			RUN_READS, &res);
	run_result_last_err(&res, last, sizeof(last));
	if (rc < 0)
		msg_error(m->task, "%s is qcow2, which needs qemu-img: %s",
			  m->image, last);
	else if (rc == 2)
		msg_error(m->task, "%s: qcow2 image is truncated or corrupt "
			  "(qemu-img check: %s)", m->image, last);
	else if (rc != 0 && rc != 3)
		msg_error(m->task, "qemu-img could not check %s: %s",
			  m->image, last);
	run_result_clear(&res);
	return rc == 0 || rc == 3 ? 0 : -1;
}

/* Where qemu-img, run on the host, reads the image: the file itself
 * here, a temporary copy on another host (host.h). */
static int stage_qcow2(struct image_run *m)
{
	char errbuf[512], *there;

	if (m->h->ops->file_there(m->h->ctx, m->fd, m->image, &there, errbuf,
				  sizeof(errbuf)) < 0)
		return msg_error(m->task, "%s", errbuf);
	m->qemu_image = qcow2_json(there, m->blockdev &&
				   strcmp(there, m->image) == 0);
	free(there);
	return 0;
}

static int check_host(struct image_run *m)
{
	struct zfs_result zr;
	char *role = NULL;
	int rc;

	rc = zfs_exists(m->r, m->zvol, &zr);
	if (rc < 0)
		return zfs_report(m->task, "look up", m->zvol, &zr);
	if (rc == 1) {
		/* Only a volume qvm tagged as its image may be pointed at
		 * "qvm destroy"; anything else is someone else's. */
		if (zfs_get(m->r, m->zvol, TAG_ROLE, &role, &zr) == 0 &&
		    strcmp(role, ROLE_IMAGE) == 0)
			msg_error(m->task, "%s already exists: an image qvm "
				  "made earlier ('qvm destroy %s' removes it "
				  "when no VM uses it); qvm leaves it "
				  "untouched", m->zvol, m->zvol);
		else
			msg_error(m->task, "%s already exists; qvm leaves it "
				  "untouched (choose another name)", m->zvol);
		free(role);
		return -1;
	}
	if (m->info.format != IMG_QCOW2)
		return 0;
	return stage_qcow2(m) < 0 ? -1 : check_qcow2(m);
}

static int step_create(void *arg)
{
	struct image_run *m = arg;
	struct strvec props = STRVEC_INIT;
	struct zfs_result zr;
	char now[32], run[17];
	int rc;

	host_say(m->h, "Creating volume %s (%llu MiB)", m->zvol,
		 (unsigned long long)(m->volsize / MIB));
	strvec_push(&props, "volblocksize=" IMAGE_VOLBLOCKSIZE);
	strvec_push(&props, "refreservation=none");
	strvec_push(&props, TAG_ROLE "=" ROLE_IMAGE);
	strvec_pushf(&props, TAG_CREATED "=%s",
		     text_utc(time(NULL), now, sizeof(now)));
	strvec_pushf(&props, TAG_RUN "=%s", text_random_hex(run, 8));
	rc = zfs_create_volume(m->r, m->zvol, m->volsize, &props, &zr);
	strvec_clear(&props);
	if (rc < 0) {
		if (zr.code == ZFS_ERR_EXISTS)
			return msg_error(m->task, "%s appeared while qvm was "
					 "working (not made by this run); it is "
					 "left untouched (%s)", m->zvol,
					 zr.message);
		/* zfs may have died after making it: the run tag tells. */
		if (zfs_made_by_run(m->r, m->zvol, run))
			zfs_undo_push(&m->undo, m->r, m->zvol, true);
		return zfs_report(m->task, "create volume", m->zvol, &zr);
	}
	/* -r: a snapshot of it can only be the one this run made. */
	zfs_undo_push(&m->undo, m->r, m->zvol, true);
	return 0;
}

static int step_device(void *run)
{
	struct image_run *m = run;
	host_say(m->h, "Waiting for %s", m->device);
	return device_await(m->h, m->task, m->device);
}

/*
 * What a failed write may owe to space: a zvol whose pool is full fails
 * writes with EIO (ENOSPC only sometimes), after a while, and its message
 * never says why. So qvm asks: "; the pool is out of space (...)" when
 * ZFS has no space left for the volume, else how much it still has. Empty
 * when zfs cannot tell.
 */
static void space_note(const struct image_run *m, char *buf, size_t size)
{
	struct zfs_result zr;
	char *avail = NULL;
	uint64_t bytes;

	buf[0] = '\0';
	if (zfs_get(m->r, m->zvol, "available", &avail, &zr) < 0)
		return;
	if (zfs_parse_size(avail, &bytes) == 0) {
		if (bytes < 1024 * 1024)
			snprintf(buf, size, "; the pool is out of space (%s "
				 "has %llu bytes available)", m->zvol,
				 (unsigned long long)bytes);
		else
			snprintf(buf, size, "; ZFS still has %llu bytes of "
				 "space available to %s",
				 (unsigned long long)bytes, m->zvol);
	}
	free(avail);
}

static int copy_raw(struct image_run *m)
{
	struct copy_stats stats;
	char errbuf[512];
	int rc;

	rc = m->h->ops->copy_in(m->h->ctx, m->fd, m->image, m->device,
				m->info.virtual_size, &stats, errbuf,
				sizeof(errbuf));
	if (rc < 0) {
		char note[256] = "";
		int err = errno;

		if (err == EIO || err == ENOSPC || err == EDQUOT)
			space_note(m, note, sizeof(note));
		return msg_error(m->task, "copying %s to %s: %s%s", m->image,
				 m->device, errbuf, note);
	}
	return 0;
}

static int copy_qcow2(struct image_run *m)
{
	struct run_result res;
	char last[512];
	int rc;

	host_say(m->h, "Converting %s to raw on %s (qemu-img)", m->image,
		 m->device);
	/* The new volume reads as zeros: --target-is-zero keeps it thin. */
	rc = runner_run(m->r, (const char *const[]){
				"qemu-img", "convert", "-n", "--target-is-zero",
				m->qemu_image, "-O", "raw", m->qemu_device,
				NULL }, RUN_CHANGES, &res);
	if (rc != 0) {
		char note[256] = "";

		/* Not when qemu-img was stopped: an interrupt is no write
		 * error. */
		if (rc > 0 && rc < 128)
			space_note(m, note, sizeof(note));
		msg_error(m->task, "qemu-img could not convert %s: %s%s",
			  m->image, run_result_last_err(&res, last,
							sizeof(last)), note);
	}
	run_result_clear(&res);
	return rc == 0 ? 0 : -1;
}

static int step_copy(void *run)
{
	struct image_run *m = run;

	return m->info.format == IMG_QCOW2 ? copy_qcow2(m) : copy_raw(m);
}

static int step_snapshot(void *run)
{
	struct image_run *m = run;
	struct zfs_result zr;

	host_say(m->h, "Snapshotting %s", m->snapshot);
	if (zfs_snapshot(m->r, m->snapshot, &zr) < 0)
		return zfs_report(m->task, "snapshot", m->snapshot, &zr);
	return 0;
}

int image_import(const struct host *h, const char *image, const char *zvol)
{
	static const step_fn steps[] = { step_create, step_device, step_copy,
					  step_snapshot, NULL };
	struct image_run m;
	char *s;
	int rc = -1;

	memset(&m, 0, sizeof(m));
	m.h = h;
	m.r = h->runner;
	m.image = image;
	m.zvol = zvol;
	m.fd = -1;
	m.undo.where = h->name;
	m.task = xasprintf("importing image %s", image);
	m.snapshot = xasprintf("%s" TAG_AT_BASE, zvol);
	m.device = device_path(zvol);
	m.qemu_device = qemu_path(m.device);

	if (check_zvol_name(m.task, zvol) < 0 ||
	    device_timeout_check(m.task) < 0 || open_image(&m) < 0)
		goto done;
	if (check_host(&m) < 0)
		goto done;
	host_say(h, "Importing %s (%s, %llu bytes) into %s", image,
		 m.info.name, (unsigned long long)m.info.virtual_size, zvol);
	s = xasprintf("import %s into %s", image, zvol);
	h->ops->begin(h->ctx, s);
	free(s);
	if (steps_run(steps, &m, &m.undo, m.task) < 0)
		goto done;
	rc = 0;
	s = xasprintf("Image %s created with snapshot %s", zvol, m.snapshot);
	h->ops->end(h->ctx, s);
	free(s);
done:
	if (m.fd >= 0)
		close(m.fd);
	free(m.task);
	free(m.snapshot);
	free(m.device);
	free(m.qemu_image);
	free(m.qemu_device);
	return rc;
}
