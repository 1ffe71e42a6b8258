/*
 * imgfmt: what kind of disk image a file is, and how big a disk it holds.
 *
 * imgfmt_probe() reads only the header. qcow2 (magic "QFI\xfb") gives its
 * virtual size from the big-endian 64-bit field at byte 24; a qcow2 that
 * names another file (a backing file, an external data file) or is
 * encrypted or marked corrupt is an error, with the name it gives, since
 * importing it would read that file or fail half-way. Other formats qemu
 * knows (vmdk, vdi, vhdx, vpc/vhd, qed, luks, ...) are recognised by their
 * magic so qvm can refuse them with advice, and so are compressed files
 * (xz, gzip, zstd, bzip2) and archives (tar, zip), which are not disks at
 * all. Anything else is raw, whose size is the file's size: a raw disk may
 * start with any bytes, so only unmistakable magics are refused (not an
 * ISO 9660 file system, say, which a hybrid ISO boots from as a disk).
 *
 * imgfmt_qcow2_intact() then walks a qcow2's tables (L1, refcount table,
 * every L2 table) with one small buffer and checks that everything they
 * point to lies within the file: a download cut short anywhere after the
 * header shows up there, where qemu would read the missing part as zeros.
 */
#ifndef QVM_IMGFMT_H
#define QVM_IMGFMT_H

#include <stddef.h>
#include <stdint.h>

enum img_format {
	IMG_RAW,
	IMG_QCOW2,
	IMG_UNSUPPORTED,	/* a disk format qemu-img reads; not imported
				 * directly */
	IMG_NOT_A_DISK,		/* compressed data or an archive */
};

/* What an IMG_NOT_A_DISK holds its content in, when qvm can take it
 * out: a compression (xz, gzip, zstd, bzip2) or a tar archive. */
enum img_wrapper {
	IMG_BARE,		/* none qvm opens (zip), or not wrapped */
	IMG_XZ,
	IMG_GZIP,
	IMG_ZSTD,
	IMG_BZIP2,
	IMG_TAR,
};

/* Where a qcow2's tables are (from its header), for imgfmt_qcow2_intact. */
struct qcow2_layout {
	uint32_t cluster_bits;
	uint32_t l1_size;		/* entries */
	uint64_t l1_offset;
	uint64_t refcount_offset;
	uint32_t refcount_clusters;
	int extended_l2;		/* 16-byte L2 entries */
};

struct img_info {
	enum img_format format;
	const char *name;	/* "raw", "qcow2", "vmdk", "xz-compressed",
				 * "a tar archive", ... */
	const char *advice;	/* IMG_NOT_A_DISK: what to do, ending in the
				 * command to run on the file ("decompress
				 * it first: xz -dk") */
	enum img_wrapper wrapper;	/* IMG_NOT_A_DISK: what it is */
	uint64_t virtual_size;	/* size of the disk it holds, in bytes */
	uint64_t file_size;
	struct qcow2_layout qcow2;
};

/* Returns 0, or -1 with the reason in errbuf (unreadable, truncated
 * header, zero size, a qcow2 naming other files, encrypted or marked
 * corrupt). An unsupported format or a file that is not a disk is not an
 * error here: info->format says so. */
int imgfmt_probe(int fd, struct img_info *info, char *errbuf,
		 size_t errsize);

/* What the first n bytes of a stream are, by their magic only (nothing
 * else is read): qcow2 (virtual_size from its header when n >= 32),
 * another disk format, a compression or archive (info->wrapper), or raw
 * (virtual_size 0: a stream's size is known at its end). For the layers
 * of a source that is not a plain file (source.h). */
void imgfmt_identify(const unsigned char *buf, size_t n,
		     struct img_info *info);

/* For an IMG_QCOW2 info from imgfmt_probe() on the same fd: 0 if every
 * table and every cluster the image maps lies within the file, else -1
 * with "qcow2 image is truncated or corrupt: ..." in errbuf saying what
 * is missing or wrong. */
int imgfmt_qcow2_intact(int fd, const struct img_info *info, char *errbuf,
			size_t errsize);

#endif
