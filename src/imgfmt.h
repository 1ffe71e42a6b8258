/*
 * imgfmt: what kind of disk image a file is, and how big a disk it holds.
 *
 * Reads only the header. qcow2 (magic "QFI\xfb") gives its virtual size
 * from the big-endian 64-bit field at byte 24. Other formats qemu knows
 * (vmdk, vdi, vhdx, vpc/vhd, qed, luks, ...) are recognised by their magic
 * so qvm can refuse them with advice; anything else is raw, whose size is
 * the file's size.
 */
#ifndef QVM_IMGFMT_H
#define QVM_IMGFMT_H

#include <stddef.h>
#include <stdint.h>

enum img_format {
	IMG_RAW,
	IMG_QCOW2,
	IMG_UNSUPPORTED,	/* known to qemu-img, not imported directly */
};

struct img_info {
	enum img_format format;
	const char *name;	/* "raw", "qcow2", "vmdk", ... */
	uint64_t virtual_size;	/* size of the disk it holds, in bytes */
	uint64_t file_size;
};

/* Returns 0, or -1 with the reason in errbuf (unreadable, truncated
 * header, zero size). An unsupported format is not an error here. */
int imgfmt_probe(int fd, struct img_info *info, char *errbuf,
		 size_t errsize);

#endif
