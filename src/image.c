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
#include "dryrun.h"
#include "imgfmt.h"
#include "msg.h"
#include "progress.h"
#include "signals.h"
#include "strvec.h"
#include "text.h"
#include "undo.h"
#include "zfs.h"

#define MIB (1024ULL * 1024)

struct image_run {
	const struct runner *r;
	bool dry_run;
	const char *image;
	const char *zvol;
	char *task;
	char *snapshot;
	char *device;
	int fd;
	struct img_info info;
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

static int open_image(struct image_run *m)
{
	char errbuf[256];
	struct stat st;

	m->fd = open(m->image, O_RDONLY | O_CLOEXEC);
	if (m->fd < 0)
		return msg_error(m->task, "cannot open %s: %s", m->image,
				 strerror(errno));
	if (fstat(m->fd, &st) < 0)
		return msg_error(m->task, "cannot stat %s: %s", m->image,
				 strerror(errno));
	if (!S_ISREG(st.st_mode))
		return msg_error(m->task, "%s is not a regular file",
				 m->image);
	if (imgfmt_probe(m->fd, &m->info, errbuf, sizeof(errbuf)) < 0)
		return msg_error(m->task, "%s: %s", m->image, errbuf);
	if (m->info.format == IMG_UNSUPPORTED)
		return msg_error(m->task, "%s is a %s image; qvm imports raw "
				 "and qcow2 only: convert it first with "
				 "'qemu-img convert -O raw %s IMAGE.raw'",
				 m->image, m->info.name, m->image);
	m->volsize = (m->info.virtual_size + MIB - 1) / MIB * MIB;
	return 0;
}

static int check_host(struct image_run *m)
{
	struct zfs_result zr;
	struct run_result res;
	char last[512];
	int rc;

	rc = zfs_exists(m->r, m->zvol, &zr);
	if (rc < 0)
		return zfs_report(m->task, "look up", m->zvol, &zr);
	if (rc == 1)
		return msg_error(m->task, "%s already exists; qvm leaves it "
				 "untouched", m->zvol);
	if (m->info.format != IMG_QCOW2)
		return 0;
	/* Before anything is created: is the converter there at all? */
	rc = runner_run(m->r, (const char *const[]){ "qemu-img", "--version",
						     NULL }, RUN_READS, &res);
	if (rc != 0)
		msg_error(m->task, "%s is qcow2, which needs qemu-img: %s",
			  m->image, run_result_last_err(&res, last,
							sizeof(last)));
	run_result_clear(&res);
	return rc == 0 ? 0 : -1;
}

static int step_create(struct image_run *m)
{
	struct strvec props = STRVEC_INIT;
	struct zfs_result zr;
	char now[32], run[17];
	int rc;

	msg_info("Creating volume %s (%llu MiB)", m->zvol,
		 (unsigned long long)(m->volsize / MIB));
	strvec_push(&props, "volblocksize=" IMAGE_VOLBLOCKSIZE);
	strvec_push(&props, "refreservation=none");
	strvec_push(&props, "qvm:role=image");
	strvec_pushf(&props, "qvm:created=%s",
		     text_utc(time(NULL), now, sizeof(now)));
	strvec_pushf(&props, "qvm:run=%s", text_random_hex(run, 8));
	rc = zfs_create_volume(m->r, m->zvol, m->volsize, &props, &zr);
	strvec_clear(&props);
	if (rc < 0) {
		if (zr.code == ZFS_ERR_EXISTS)
			return msg_error(m->task, "%s appeared while qvm was "
					 "working; it is not qvm's and is left "
					 "untouched (%s)", m->zvol, zr.message);
		/* zfs may have died after making it: the run tag tells. */
		if (zfs_made_by_run(m->r, m->zvol, run))
			zfs_undo_push(&m->undo, m->r, m->zvol, true);
		return zfs_report(m->task, "create volume", m->zvol, &zr);
	}
	/* -r: a snapshot of it can only be the one this run made. */
	zfs_undo_push(&m->undo, m->r, m->zvol, true);
	return 0;
}

static int step_device(struct image_run *m)
{
	if (m->dry_run)
		return 0;
	msg_info("Waiting for %s", m->device);
	return device_await(m->task, m->device);
}

static int copy_raw(struct image_run *m)
{
	struct copy_stats stats;
	struct progress p;
	char errbuf[512];
	int dst, rc;

	if (m->dry_run) {
		msg_info("copy the data of %s to %s (holes and zero blocks "
			 "skipped)", m->image, m->device);
		return 0;
	}
	dst = open(m->device, O_WRONLY | O_CLOEXEC);
	if (dst < 0)
		return msg_error(m->task, "cannot open %s: %s", m->device,
				 strerror(errno));
	progress_begin(&p, msg_out(), "Copying");
	rc = copy_sparse(m->fd, dst, m->info.virtual_size, &stats,
			 progress_update, &p, errbuf, sizeof(errbuf));
	if (rc == 0)
		progress_end(&p, stats.written);
	else if (p.tty)
		fputc('\n', msg_out());
	if (close(dst) < 0 && rc == 0) {
		rc = -1;
		snprintf(errbuf, sizeof(errbuf), "closing %s: %s", m->device,
			 strerror(errno));
	}
	if (rc < 0)
		return msg_error(m->task, "copying %s to %s: %s", m->image,
				 m->device, errbuf);
	return 0;
}

static int copy_qcow2(struct image_run *m)
{
	struct run_result res;
	char last[512];
	int rc;

	msg_info("Converting %s to raw on %s (qemu-img)", m->image, m->device);
	/* The new volume reads as zeros: --target-is-zero keeps it thin. */
	rc = runner_run(m->r, (const char *const[]){
				"qemu-img", "convert", "-n", "--target-is-zero",
				"-f", "qcow2", "-O", "raw", m->image, m->device,
				NULL }, RUN_CHANGES, &res);
	if (rc != 0)
		msg_error(m->task, "qemu-img could not convert %s: %s",
			  m->image, run_result_last_err(&res, last,
							sizeof(last)));
	run_result_clear(&res);
	return rc == 0 ? 0 : -1;
}

static int step_snapshot(struct image_run *m)
{
	struct zfs_result zr;

	msg_info("Snapshotting %s", m->snapshot);
	if (zfs_snapshot(m->r, m->snapshot, &zr) < 0)
		return zfs_report(m->task, "snapshot", m->snapshot, &zr);
	return 0;
}

int image_import(const struct runner *r, const char *image, const char *zvol,
		 bool dry_run)
{
	struct image_run m;
	int rc = -1;

	memset(&m, 0, sizeof(m));
	m.r = r;
	m.dry_run = dry_run;
	m.image = image;
	m.zvol = zvol;
	m.fd = -1;
	m.task = xasprintf("importing image %s", image);
	m.snapshot = xasprintf("%s@" IMAGE_SNAPSHOT, zvol);
	m.device = device_path(zvol);

	if (check_zvol_name(m.task, zvol) < 0 || open_image(&m) < 0 || check_host(&m) < 0)
		goto done;
	msg_info("Importing %s (%s, %llu bytes) into %s", image, m.info.name,
		 (unsigned long long)m.info.virtual_size, zvol);
	if (dry_run)
		msg_info("Dry run: these commands would import it:");
	if (signals_check(m.task) < 0 || step_create(&m) < 0 ||
	    signals_check(m.task) < 0 || step_device(&m) < 0 ||
	    signals_check(m.task) < 0 ||
	    (m.info.format == IMG_QCOW2 ? copy_qcow2(&m) : copy_raw(&m)) < 0 ||
	    signals_check(m.task) < 0 || step_snapshot(&m) < 0)
		goto done;
	rc = 0;
	if (dry_run)
		msg_info("Dry run: nothing was changed");
	else
		msg_info("Image %s created with snapshot %s", zvol, m.snapshot);
done:
	if (rc == 0)
		undo_forget(&m.undo);
	else
		undo_run(&m.undo, m.task);
	if (m.fd >= 0)
		close(m.fd);
	free(m.task);
	free(m.snapshot);
	free(m.device);
	return rc;
}
