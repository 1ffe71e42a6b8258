#include "image.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "checksum.h"
#include "copy.h"
#include "device.h"
#include "dryrun.h"
#include "host.h"
#include "imgfmt.h"
#include "msg.h"
#include "progress.h"
#include "signals.h"
#include "source.h"
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
	const struct host *here;	/* this machine: the cache is here */
	const struct runner *r;	/* h->runner */
	const char *image;	/* SOURCE, as given */
	const char *path;	/* the file read: the image or its cache copy */
	const char *zvol;
	const struct image_expect *expect;	/* NULL: no checksum */
	struct source src;
	bool dry;		/* the host does not see changes */
	bool plain;		/* a local file read as it is */
	bool stream;		/* a raw image streamed into the volume */
	char *cache;		/* a qcow2's copy under the cache dir */
	uint64_t streamed;	/* bytes of a streamed raw image */
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
	if (S_ISLNK(mode))
		return "a symbolic link";
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

	m->fd = open(m->path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
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

static char *qcow2_json(const char *path, bool blockdev);

static int open_image(struct image_run *m)
{
	char errbuf[1024];

	if (m->fd < 0 && open_file(m) < 0)
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
	m->qemu_image = qcow2_json(m->path, m->blockdev);
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

	if (m->h->ops->file_there(m->h->ctx, m->fd, m->path, &there, errbuf,
				  sizeof(errbuf)) < 0)
		return msg_error(m->task, "%s", errbuf);
	free(m->qemu_image);
	m->qemu_image = qcow2_json(there, m->blockdev &&
				   strcmp(there, m->path) == 0);
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

	if (m->stream)
		host_say(m->h, "Creating volume %s (thin, %llu MiB until the "
			 "stream's end gives the image's size)", m->zvol,
			 (unsigned long long)(m->volsize / MIB));
	else
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

/* The copy into the volume failed with err and reason: says so, with what
 * ZFS says of its space when the failure may owe to it. */
static int copy_failed(const struct image_run *m, int err,
		       const char *reason)
{
	char note[256] = "";

	if (err == EIO || err == ENOSPC || err == EDQUOT)
		space_note(m, note, sizeof(note));
	return msg_error(m->task, "copying %s to %s: %s%s", m->image,
			 m->device, reason, note);
}

static int copy_raw(struct image_run *m)
{
	struct copy_stats stats;
	char errbuf[512];
	int rc;

	rc = m->h->ops->copy_in(m->h->ctx, &COPY_SOURCE_FD(m->fd), m->image,
				m->device, m->info.virtual_size, &stats,
				errbuf, sizeof(errbuf));
	if (rc < 0)
		return copy_failed(m, errno, errbuf);
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

/* ---- what the source holds, and its checksum ---- */

static bool mismatch(const struct image_run *m, const char *got)
{
	if (strcmp(got, m->expect->hex) == 0)
		return false;
	msg_error(m->task, "checksum mismatch for %s: expected %s %s, got %s "
		  "(nothing was kept)", m->src.name, m->expect->kind,
		  m->expect->hex, got);
	return true;
}

/* A local file is hashed before anything changes, from the descriptor
 * qvm imports from (not by its name again, which may meanwhile name
 * another file): the hash program reads it as published. */
static int verify_file(struct image_run *m)
{
	const char *const *argvs[1] = {
		(const char *const[]){ m->expect->program, NULL } };
	struct run_pipeline p;
	struct run_result res;
	char last[512], digest[129];
	int rc;

	host_say(m->h, "Checking the %s of %s (%s)", m->expect->kind, m->image,
		 m->expect->program);
	if (lseek(m->fd, 0, SEEK_SET) < 0)
		return msg_error(m->task, "cannot read %s: %s", m->image,
				 strerror(errno));
	if (runner_spawn(argvs, 1, m->fd, 1, &p, &res) == 0)
		runner_pipeline_wait(&p, &res);
	/* The stream reads it again from the start. */
	if (lseek(m->fd, 0, SEEK_SET) < 0) {
		run_result_clear(&res);
		return msg_error(m->task, "cannot read %s: %s", m->image,
				 strerror(errno));
	}
	if (signals_pending()) {
		run_result_clear(&res);
		return signals_check(m->task);
	}
	if (res.status != 0) {
		msg_error(m->task, "could not hash %s: %s", m->image,
			  run_result_last_err(&res, last, sizeof(last)));
		run_result_clear(&res);
		return -1;
	}
	rc = source_parse_digest(res.out, digest, sizeof(digest));
	run_result_clear(&res);
	if (rc < 0)
		return msg_error(m->task, "could not hash %s: %s printed no "
				 "digest", m->image, m->expect->program);
	if (mismatch(m, digest))
		return -1;
	return 0;
}

#define ACCEPTED "qvm imports raw and qcow2 images, as they are or " \
	"compressed with xz, gzip, zstd or bzip2, alone or in a tar archive"

static int probe_source(struct image_run *m)
{
	char errbuf[1024];

	if (source_probe(&m->src, m->fd, errbuf, sizeof(errbuf)) < 0)
		return msg_error(m->task, "%s", errbuf);
	m->plain = !m->src.url && m->src.codec == IMG_BARE && !m->src.tar;
	if (m->plain)
		return 0;
	if (m->src.disk.format != IMG_RAW && m->src.disk.format != IMG_QCOW2)
		return msg_error(m->task, "%s is %s; " ACCEPTED, m->image,
				 m->src.what);
	if (m->src.disk.format == IMG_QCOW2 &&
	    m->src.disk.virtual_size > IMAGE_MAX_SIZE)
		return msg_error(m->task, "%s: its virtual size, %llu bytes, "
				 "is larger than a volume can be", m->image,
				 (unsigned long long)m->src.disk.virtual_size);
	return 0;
}

/* ---- a qcow2 that is not a plain local file: a copy in the cache ---- */

static const char *cache_dir(void)
{
	const char *d = getenv("QVM_CACHE_DIR");

	return d && *d ? d : IMAGE_CACHE_DIR;
}

static int remove_cache(void *arg, char **why)
{
	if (unlink(arg) == 0)
		return 0;
	if (errno == ENOENT)
		return UNDO_NOTHING;
	*why = xstrdup(strerror(errno));
	return -1;
}

/*
 * The cache is on this machine, whichever host gets the volume: the
 * directory (made 0700 if missing) must be a directory of qvm's user that
 * no one else can write to (a file put there by another must not become
 * the image), and have room: a qcow2 file holds at most its virtual size
 * of data (plus its tables), which is what must fit.
 */
static int check_cache(struct image_run *m)
{
	const char *dir = cache_dir();
	struct statvfs sv;
	struct stat st;
	uint64_t have, need = m->src.disk.virtual_size;
	int rc = m->here->ops->exists(m->here->ctx, dir);

	if (rc < 0)
		return msg_error(m->task, "cannot look at the cache directory "
				 "%s: %s", dir, strerror(errno));
	if (rc == 0 && m->here->ops->make_dir(m->here->ctx, dir, 0700) < 0 &&
	    errno != EEXIST)
		return msg_error(m->task, "cannot make the cache directory %s "
				 "(QVM_CACHE_DIR): %s", dir, strerror(errno));
	if (lstat(dir, &st) < 0) {
		if (m->dry && errno == ENOENT)
			return 0;
		return msg_error(m->task, "cannot look at the cache directory "
				 "%s: %s", dir, strerror(errno));
	}
	if (!S_ISDIR(st.st_mode))
		return msg_error(m->task, "the cache directory %s "
				 "(QVM_CACHE_DIR) is %s, not a directory", dir,
				 file_type(st.st_mode));
	if (st.st_uid != geteuid() || (st.st_mode & 022))
		return msg_error(m->task, "the cache directory %s "
				 "(QVM_CACHE_DIR) %s: others could put files "
				 "there", dir, st.st_uid != geteuid() ?
				 "belongs to another user" :
				 "is writable by its group or by others");
	if (statvfs(dir, &sv) < 0)
		return msg_error(m->task, "cannot look at the cache directory "
				 "%s: %s", dir, strerror(errno));
	have = (uint64_t)sv.f_bavail * sv.f_frsize;
	if (have < need)
		return msg_error(m->task, "not enough space in %s: need %llu "
				 "bytes (the qcow2 image's virtual size, the "
				 "most its file holds), have %llu", dir,
				 (unsigned long long)need,
				 (unsigned long long)have);
	return 0;
}

/* The chain as one shell pipeline, for the dry run. A URL's checksum is
 * checked in it as qvm checks it: the bytes as published teed (through a
 * FIFO) into the hash program, whose digest must then be the one
 * expected. */
static char *pipeline_text(const struct image_run *m, const char *sink)
{
	bool hash = m->expect && m->src.url;
	struct strvec stages = STRVEC_INIT;
	struct strvec words = STRVEC_INIT;
	char *text;
	size_t len = 0;

	if (m->src.url) {
		source_curl_argv(&words, m->src.shown);
		text = text_shell_join(strvec_argv(&words));
		strvec_push(&stages, text);
		free(text);
		strvec_clear(&words);
		if (hash)
			strvec_push(&stages, "tee \"$d/published\"");
	}
	if (m->src.codec != IMG_BARE) {
		text = text_shell_join(source_unwrap_argv(m->src.codec));
		strvec_push(&stages, text);
		free(text);
	}
	if (m->src.tar) {
		text = text_shell_join(source_unwrap_argv(IMG_TAR));
		strvec_push(&stages, text);
		free(text);
	}
	if (!m->src.url) {
		char *q = text_shell_quote(m->image);
		char *first = xasprintf("%s < %s", stages.v[0], q);

		free(stages.v[0]);
		stages.v[0] = first;
		free(q);
	}
	for (size_t i = 0; i < stages.n; i++)
		len += strlen(stages.v[i]) + 3;
	text = xmalloc(len + strlen(sink) + 2);
	text[0] = '\0';
	for (size_t i = 0; i < stages.n; i++) {
		if (i)
			strcat(text, " | ");
		strcat(text, stages.v[i]);
	}
	strcat(text, " ");
	strcat(text, sink);
	strvec_clear(&stages);
	if (hash) {
		char *inner = text;

		text = xasprintf("set -e; d=$(mktemp -d); mkfifo "
				 "\"$d/published\"; %s < \"$d/published\" > "
				 "\"$d/sum\" & h=$!; %s; wait \"$h\"; read -r "
				 "sum rest < \"$d/sum\"; rm -r \"$d\"; test "
				 "\"$sum\" = %s",
				 m->expect->program, inner, m->expect->hex);
		free(inner);
	}
	return text;
}

static void say_plan(const struct image_run *m, const char *into)
{
	char check[96] = "";

	if (m->expect && m->src.url)
		snprintf(check, sizeof(check), ", checking its %s as "
			 "published on the way (%s)", m->expect->kind,
			 m->expect->program);
	host_say(m->h, "%s %s (%s)%s, into %s",
		 m->src.url ? "Downloading" : "Reading", m->image, m->src.what,
		 check, into);
}

/* The dry run prints the stream as the shell pipeline that does it. It
 * runs here, where qvm would run it (with -H, its sink is the part that
 * runs there). */
static int print_pipeline(struct image_run *m, const char *sink)
{
	struct run_result res;
	char *text = pipeline_text(m, sink);
	int rc;

	rc = runner_run(m->here->runner, (const char *const[]){ "sh", "-c",
								 text, NULL },
			RUN_CHANGES, &res);
	run_result_clear(&res);
	free(text);
	return rc == 0 ? 0 : -1;
}

/* How much of a local source has been read: its decompressor reads it
 * through the same open file, whose offset says how far it got. */
static uint64_t file_read_so_far(void *ctx)
{
	const struct image_run *m = ctx;
	off_t at = lseek(m->fd, 0, SEEK_CUR);

	return at < 0 ? 0 : (uint64_t)at;
}

static uint64_t url_fetched(void *ctx)
{
	return source_stream_fetched(ctx);
}

/* A stream's progress follows the source as published where its size is
 * known (a local file; a download whose server gives its length, asked
 * only when the line is shown: on a terminal), for the share done and the
 * time left. */
static void follow_source(struct image_run *m, struct source_stream *st)
{
	struct stat sb;
	uint64_t length;

	if (!m->src.url && m->fd >= 0 && fstat(m->fd, &sb) == 0 &&
	    S_ISREG(sb.st_mode)) {
		progress_follow(file_read_so_far, m, (uint64_t)sb.st_size);
	} else if (m->src.url && isatty(fileno(msg_out())) == 1) {
		length = source_url_length(&m->src);
		if (length)
			progress_follow(url_fetched, st, length);
	}
}

/* Ends a stream: 0 once every program exited 0 and the checksum matched. */
static int end_stream(struct image_run *m, struct source_stream *st)
{
	char errbuf[1024], digest[129];

	if (source_stream_finish(&m->src, st, digest, errbuf,
				 sizeof(errbuf)) < 0)
		return msg_error(m->task, "%s", errbuf);
	if (st->tee && mismatch(m, digest))
		return -1;
	return 0;
}

/*
 * The most a qcow2 file of the source's virtual size can hold: its data,
 * plus its tables at their largest (512-byte clusters: 8 bytes of L2 and
 * 2 of refcount per cluster, under 1/32 of the size) and room for the
 * header and the rest. A stream that goes on past it is no such qcow2,
 * and must not fill the cache's file system.
 */
static uint64_t qcow2_file_max(const struct image_run *m)
{
	uint64_t v = m->src.disk.virtual_size;

	return v + v / 32 + 64 * MIB;
}

static int step_fetch(void *run)
{
	struct image_run *m = run;
	struct source_stream st;
	struct copy_stats stats;
	struct progress p;
	char errbuf[1024], *tmpl, *sink;
	int fd, rc, err;

	if (check_cache(m) < 0)
		return -1;
	tmpl = xasprintf("%s/qvm-%s.XXXXXX", cache_dir(), m->zvol);
	for (char *c = tmpl + strlen(cache_dir()) + 1; *c; c++)
		if (*c == '/')
			*c = '_';
	say_plan(m, "a temporary qcow2 file");
	if (m->dry) {
		char *q = text_shell_quote(tmpl);

		m->cache = tmpl;
		m->path = m->cache;
		m->qemu_image = qcow2_json(m->path, false);
		sink = xasprintf("> %s", q);
		free(q);
		rc = print_pipeline(m, sink);
		free(sink);
		return rc;
	}
	fd = mkostemp(tmpl, O_CLOEXEC);
	if (fd < 0) {
		err = errno;
		msg_error(m->task, "cannot create a file in %s: %s",
			  cache_dir(), strerror(err));
		free(tmpl);
		return -1;
	}
	m->cache = tmpl;
	m->path = m->cache;
	undo_push(&m->undo, m->cache, "remove", remove_cache, m->cache, NULL);
	if (source_stream_start(&m->src, m->fd, m->expect && m->src.url ?
				m->expect->program : NULL, &st, errbuf,
				sizeof(errbuf)) < 0) {
		close(fd);
		return msg_error(m->task, "%s", errbuf);
	}
	follow_source(m, &st);
	progress_begin(&p, msg_out(), m->src.url ? "Downloading"
						 : "Decompressing");
	progress_follow(NULL, NULL, 0);
	rc = copy_sparse_within(&st.src, fd, COPY_SIZE_STREAM,
				qcow2_file_max(m), &stats, progress_update, &p,
				errbuf, sizeof(errbuf));
	if (rc == 0) {
		progress_end(&p, stats.written);
	} else {
		if (p.tty)
			fputc('\n', msg_out());
		source_stream_stop(&st);
	}
	/* Zero blocks at the end were skipped: the file gets its length. */
	if (rc == 0 && ftruncate(fd, (off_t)stats.size) < 0)
		rc = text_fail(errbuf, sizeof(errbuf), "%s", strerror(errno));
	if (close(fd) < 0 && rc == 0)
		rc = text_fail(errbuf, sizeof(errbuf), "%s",
			       strerror(errno));
	if (rc < 0) {
		char ignored[129], why[16];

		msg_error(m->task, "writing %s to %s: %s", m->image, m->cache,
			  errbuf);
		source_stream_finish(&m->src, &st, ignored, why, sizeof(why));
		return -1;
	}
	return end_stream(m, &st);
}

/* The copy in the cache, checked as any local qcow2. */
static int step_inspect(void *run)
{
	struct image_run *m = run;

	if (m->dry) {
		/* Nothing to look at: the copy would be a qcow2 (its
		 * header said so). */
		m->info.format = IMG_QCOW2;
		m->info.name = "qcow2";
		return 0;
	}
	if (m->fd >= 0)
		close(m->fd);
	m->fd = -1;
	if (open_image(m) < 0)
		return -1;
	if (m->info.format != IMG_QCOW2)
		return msg_error(m->task, "%s: its copy is no longer a qcow2 "
				 "image", m->image);
	if (stage_qcow2(m) < 0 || check_qcow2(m) < 0)
		return -1;
	if (m->info.virtual_size > m->volsize)
		m->volsize = (m->info.virtual_size + MIB - 1) / MIB * MIB;
	return 0;
}

/* ---- a raw image streamed into the volume ---- */

static int step_stream(void *run)
{
	struct image_run *m = run;
	struct source_stream st;
	struct copy_stats stats;
	char errbuf[1024];
	int rc;

	say_plan(m, m->device);
	if (m->dry) {
		char *bs = xasprintf("bs=%u", COPY_ZERO_BLOCK);
		char *of = xasprintf("of=%s", m->device);
		char *words = text_shell_join((const char *const[]){
			"dd", of, bs, "iflag=fullblock", "conv=sparse,notrunc",
			"status=none", NULL });
		char *there = dryrun_there(m->h, words);
		char *dd = xasprintf("| %s", there);

		free(words);
		free(there);

		rc = print_pipeline(m, dd);
		free(bs);
		free(of);
		free(dd);
		return rc;
	}
	if (source_stream_start(&m->src, m->fd, m->expect && m->src.url ?
				m->expect->program : NULL, &st, errbuf,
				sizeof(errbuf)) < 0)
		return msg_error(m->task, "%s", errbuf);
	follow_source(m, &st);
	rc = m->h->ops->copy_in(m->h->ctx, &st.src, m->image, m->device,
				COPY_SIZE_STREAM, &stats, errbuf,
				sizeof(errbuf));
	progress_follow(NULL, NULL, 0);
	if (rc < 0) {
		char ignored[129], why[16];
		int err = errno;

		source_stream_stop(&st);
		source_stream_finish(&m->src, &st, ignored, why, sizeof(why));
		return copy_failed(m, err, errbuf);
	}
	if (end_stream(m, &st) < 0)
		return -1;
	m->streamed = stats.size;
	if (m->streamed == 0)
		return msg_error(m->task, "%s holds an empty image", m->image);
	if (m->streamed > m->volsize)
		return msg_error(m->task, "%s holds %llu bytes, more than the "
				 "%llu a streamed image may have", m->image,
				 (unsigned long long)m->streamed,
				 (unsigned long long)m->volsize);
	return 0;
}

/* The stream's size is known at its end: the volume gets it, in whole
 * MiB, before the snapshot. */
static int step_resize(void *run)
{
	struct image_run *m = run;
	struct zfs_result zr;
	uint64_t size = (m->streamed + MIB - 1) / MIB * MIB;
	char *prop;
	int rc;

	if (m->dry) {
		host_say(m->h, "Then %s gets the image's size, in whole MiB "
			 "(zfs set volsize=SIZE %s)", m->zvol, m->zvol);
		return 0;
	}
	host_say(m->h, "Setting the size of %s to %llu MiB (%llu bytes of "
		 "image)", m->zvol, (unsigned long long)(size / MIB),
		 (unsigned long long)m->streamed);
	prop = xasprintf("volsize=%llu", (unsigned long long)size);
	rc = zfs_set(m->r, m->zvol, prop, &zr);
	free(prop);
	if (rc < 0)
		return zfs_report(m->task, "set the size of", m->zvol, &zr);
	m->volsize = size;
	return 0;
}

int image_import(const struct host *h, const struct host *here,
		 const char *image, const char *zvol,
		 const struct image_sums *sums)
{
	static const step_fn plain_steps[] = { step_create, step_device,
						step_copy, step_snapshot,
						NULL };
	static const step_fn stream_steps[] = { step_create, step_device,
						 step_stream, step_resize,
						 step_snapshot, NULL };
	static const step_fn fetch_steps[] = { step_fetch, step_inspect,
						step_create, step_device,
						step_copy, step_snapshot,
						NULL };
	const step_fn *steps = plain_steps;
	struct checksum sum;
	struct image_run m;
	char errbuf[512];
	char *s, *shown;
	int rc = -1;

	memset(&m, 0, sizeof(m));
	m.h = h;
	m.here = here;
	m.r = h->runner;
	m.image = image;
	m.path = image;
	m.zvol = zvol;
	m.dry = !h->ops->sees_changes(h->ctx);
	m.fd = -1;
	m.undo.where = h->name;
	/* Until the source is parsed: a URL's password is never shown. */
	shown = text_url_shown(image);
	m.image = shown;
	m.task = xasprintf("importing image %s", shown);
	m.snapshot = xasprintf("%s" TAG_AT_BASE, zvol);
	m.device = device_path(zvol);
	m.qemu_device = qemu_path(m.device);

	if (check_zvol_name(m.task, zvol) < 0 ||
	    device_timeout_check(m.task) < 0)
		goto done;
	if (source_parse(image, &m.src, errbuf, sizeof(errbuf)) < 0) {
		msg_error(m.task, "%s", errbuf);
		goto done;
	}
	if (sums && (sums->sha256 || sums->list)) {
		if (checksum_expected(m.r, sums->sha256, sums->list,
				      m.src.name, &sum, errbuf,
				      sizeof(errbuf)) < 0) {
			msg_error(m.task, "%s", errbuf);
			goto done;
		}
		m.expect = &sum.expect;
	}
	if (!m.src.url && open_file(&m) < 0)
		goto done;
	if (probe_source(&m) < 0)
		goto done;
	if (m.expect && !m.src.url && verify_file(&m) < 0)
		goto done;
	if (m.plain) {
		if (open_image(&m) < 0)
			goto done;
	} else if (m.src.disk.format == IMG_QCOW2) {
		steps = fetch_steps;
		m.volsize = (m.src.disk.virtual_size + MIB - 1) / MIB * MIB;
	} else {
		steps = stream_steps;
		m.stream = true;
		m.volsize = IMAGE_STREAM_VOLSIZE;
	}
	if (check_host(&m) < 0)
		goto done;
	if (m.plain)
		host_say(h, "Importing %s (%s, %llu bytes) into %s", shown,
			 m.info.name, (unsigned long long)m.info.virtual_size,
			 zvol);
	else
		host_say(h, "Importing %s (%s) into %s", shown, m.src.what,
			 zvol);
	s = xasprintf("import %s into %s", shown, zvol);
	h->ops->begin(h->ctx, s);
	free(s);
	if (steps_run(steps, &m, &m.undo, m.task) < 0)
		goto done;
	/* The copy in the cache served its purpose (on failure, the undo
	 * removed it). */
	if (m.cache)
		here->ops->remove_files(here->ctx, (const char *const[]){
			m.cache, NULL });
	rc = 0;
	s = xasprintf("Image %s created with snapshot %s", zvol, m.snapshot);
	h->ops->end(h->ctx, s);
	free(s);
done:
	if (m.fd >= 0)
		close(m.fd);
	free(shown);
	free(m.cache);
	source_clear(&m.src);
	free(m.task);
	free(m.snapshot);
	free(m.device);
	free(m.qemu_image);
	free(m.qemu_device);
	return rc;
}
