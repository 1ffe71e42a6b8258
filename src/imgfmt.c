#include "imgfmt.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "text.h"

#define HEADER_SIZE 512

/* qcow2's header is 72 bytes in version 2 and at least 104 in version 3;
 * anything shorter was cut off (an interrupted download, say). */
#define QCOW2_V2_HEADER 72u
#define QCOW2_V3_HEADER 104u

/* What qemu accepts: 512-byte to 2 MiB clusters, a backing file name of
 * at most 1023 bytes, an L1 table of at most 32 MiB. */
#define QCOW2_MIN_CLUSTER_BITS 9u
#define QCOW2_MAX_CLUSTER_BITS 21u
#define QCOW2_MAX_NAME 1023u
#define QCOW2_MAX_L1_ENTRIES (32u * 1024 * 1024 / 8)

/* Incompatible feature bits (header byte 72). */
#define QCOW2_INCOMPAT_DIRTY (1ull << 0)
#define QCOW2_INCOMPAT_CORRUPT (1ull << 1)
#define QCOW2_INCOMPAT_DATA_FILE (1ull << 2)
#define QCOW2_INCOMPAT_COMPRESSION (1ull << 3)
#define QCOW2_INCOMPAT_EXTL2 (1ull << 4)
#define QCOW2_INCOMPAT_KNOWN 0x1full

/* Header extension types. */
#define QCOW2_EXT_END 0u
#define QCOW2_EXT_DATA_FILE 0x44415441u	/* "DATA" */

/* L1 and L2 entries: where the table or cluster is; compressed flag;
 * "reads as zeros" flag. */
#define QCOW2_OFFSET_MASK 0x00fffffffffffe00ull
#define QCOW2_COMPRESSED (1ull << 62)
#define QCOW2_ZERO 1ull

/* The tables are read this many bytes at a time. */
#define WALK_CHUNK 4096u

/* Why a qcow2 that names another file is refused. */
#define SELF_CONTAINED "qvm imports only self-contained images and never " \
	"opens a file an image names"


/*
 * Magic numbers of formats qemu-img reads but qvm does not import, as
 * qemu's own probes (block/<format>.c) look for them at the start of the
 * file. Found here only to refuse them with the right name.
 */
static const struct {
	const char *name;
	size_t offset;
	const char *magic;
	size_t len;
} unsupported[] = {
#define MAGIC(name, offset, magic) { name, offset, magic, sizeof(magic) - 1 }
	MAGIC("qed", 0, "QED\0"),
	MAGIC("vmdk", 0, "KDMV"),
	MAGIC("vmdk", 0, "COWD"),
	MAGIC("vmdk", 0, "# Disk DescriptorFile"),
	MAGIC("vdi", 0x40, "\x7f\x10\xda\xbe"),	/* 0xbeda107f, little-endian */
	MAGIC("vhdx", 0, "vhdxfile"),
	MAGIC("vpc", 0, "conectix"),
	MAGIC("luks", 0, "LUKS\xba\xbe"),
	MAGIC("parallels", 0, "WithoutFreeSpace"),
	MAGIC("parallels", 0, "WithouFreSpacExt"),
	MAGIC("cloop", 0, "#!/bin/sh\n#V2.0 Format\n"),
	MAGIC("bochs", 0, "Bochs Virtual HD Image"),
#undef MAGIC
};

/*
 * Files that are no disk at all but hold one: compressed data and
 * archives, by their formats' own magic numbers (a download saved as
 * "image.qcow2" may still be image.qcow2.xz). Each magic is long or
 * specific enough that no boot sector or file system starts with it.
 */
static const struct {
	const char *name;
	const char *advice;
	enum img_wrapper wrapper;
	size_t offset;
	const char *magic;
	size_t len;
} not_a_disk[] = {
#define MAGIC(name, advice, wrapper, offset, magic) \
	{ name, advice, wrapper, offset, magic, sizeof(magic) - 1 }
	MAGIC("xz-compressed", "decompress it first: xz -dk", IMG_XZ, 0,
	      "\xfd" "7zXZ\0"),
	/* gzip with deflate, its only compression method. */
	MAGIC("gzip-compressed", "decompress it first: gzip -dk", IMG_GZIP,
	      0, "\x1f\x8b\x08"),
	MAGIC("zstd-compressed", "decompress it first: zstd -d", IMG_ZSTD, 0,
	      "\x28\xb5\x2f\xfd"),
	/* "BZh", the block size 1-9, then a block's or the end's magic:
	 * matched by bzip2_magic() below. */
	MAGIC("a tar archive", "extract the disk image from it first: tar -xf",
	      IMG_TAR, 257, "ustar"),
	MAGIC("a zip archive", "extract the disk image from it first: unzip",
	      IMG_BARE, 0, "PK\x03\x04"),
#undef MAGIC
};

static uint32_t be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static uint64_t be64(const unsigned char *p)
{
	return (uint64_t)be32(p) << 32 | be32(p + 4);
}

/* Up to len bytes at off; returns how many (fewer only at end of file). */
static ssize_t read_at(int fd, unsigned char *buf, size_t len, uint64_t off)
{
	size_t got = 0;

	while (got < len) {
		ssize_t r = pread(fd, buf + got, len - got,
				  (off_t)(off + got));

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (r == 0)
			break;
		got += (size_t)r;
	}
	return (ssize_t)got;
}

/* A block device's fstat() size is 0; its end is where lseek() says. */
static int file_size(int fd, uint64_t *size)
{
	struct stat st;
	off_t here, end;

	if (fstat(fd, &st) < 0)
		return -1;
	if (!S_ISBLK(st.st_mode)) {
		*size = (uint64_t)st.st_size;
		return 0;
	}
	here = lseek(fd, 0, SEEK_CUR);
	end = lseek(fd, 0, SEEK_END);
	if (here < 0 || end < 0 || lseek(fd, here, SEEK_SET) < 0)
		return -1;
	*size = (uint64_t)end;
	return 0;
}

static bool has_magic(const unsigned char *buf, size_t n, size_t offset,
		      const char *magic, size_t len)
{
	return n >= offset + len && memcmp(buf + offset, magic, len) == 0;
}

/*
 * A web page where an image was expected (an error page sent with status
 * 200, a portal's login page): "<!DOCTYPE html" or "<html", in any case,
 * after an optional UTF-8 byte order mark and white space. No disk image
 * begins so: its first sector is a boot sector, a partition table or
 * zeros.
 */
static bool html_magic(const unsigned char *buf, size_t n)
{
	static const char *const starts[] = { "<!doctype html", "<html" };
	size_t i = 0;

	if (n >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0)
		i = 3;
	while (i < n && i < 64 && (buf[i] == ' ' || buf[i] == '\t' ||
				   buf[i] == '\r' || buf[i] == '\n'))
		i++;
	for (size_t k = 0; k < sizeof(starts) / sizeof(starts[0]); k++) {
		size_t len = strlen(starts[k]);

		if (n - i >= len && strncasecmp((const char *)buf + i,
						starts[k], len) == 0)
			return true;
	}
	return false;
}

static bool bzip2_magic(const unsigned char *buf, size_t n)
{
	return n >= 10 && memcmp(buf, "BZh", 3) == 0 && buf[3] >= '1' &&
	       buf[3] <= '9' &&
	       (memcmp(buf + 4, "\x31\x41\x59\x26\x53\x59", 6) == 0 ||
		memcmp(buf + 4, "\x17\x72\x45\x38\x50\x90", 6) == 0);
}

/*
 * A fixed-size VHD is a raw disk with a 512-byte footer, so its only mark
 * is "conectix" at the start of the last sector. Importing it as raw would
 * work but leave the footer in the guest's last sector; refuse it instead.
 */
static int vhd_footer(int fd, uint64_t size, bool *found)
{
	unsigned char tail[8];
	ssize_t n;

	*found = false;
	if (size < HEADER_SIZE)
		return 0;
	n = read_at(fd, tail, sizeof(tail), size - HEADER_SIZE);
	if (n < 0)
		return -1;
	*found = has_magic(tail, (size_t)n, 0, "conectix", 8);
	return 0;
}

/* A name the image gives (len bytes at off, at most QCOW2_MAX_NAME
 * shown), made safe to print, into out. */
static int read_name(int fd, uint64_t off, uint64_t len, char *out,
		     size_t outsize)
{
	char name[QCOW2_MAX_NAME];
	ssize_t n;

	if (len > sizeof(name))
		len = sizeof(name);
	n = read_at(fd, (unsigned char *)name, (size_t)len, off);
	if (n < 0)
		return -1;
	text_show(out, outsize, name, (size_t)n, 200);
	return 0;
}

/*
 * The external data file's name, from its header extension: the
 * extensions follow the header, each a 32-bit type, a 32-bit length and
 * the data padded to 8 bytes, until type 0 or the end of the first
 * cluster (or the backing file's name, which qemu puts after them).
 * Returns 1 with the name in out, 0 if there is none, -1 on a read error.
 */
static int data_file_name(int fd, const struct img_info *info,
			  uint64_t start, uint64_t end, char *out,
			  size_t outsize)
{
	unsigned char ext[8];

	if (end > info->file_size)
		end = info->file_size;
	for (uint64_t off = start; off + sizeof(ext) <= end;) {
		uint32_t type, len;
		ssize_t n = read_at(fd, ext, sizeof(ext), off);

		if (n < 0)
			return -1;
		if ((size_t)n < sizeof(ext))
			return 0;
		type = be32(ext);
		len = be32(ext + 4);
		if (type == QCOW2_EXT_END)
			return 0;
		if (type == QCOW2_EXT_DATA_FILE)
			return read_name(fd, off + 8, len, out, outsize) < 0
				? -1 : 1;
		off += 8 + ((uint64_t)len + 7) / 8 * 8;
	}
	return 0;
}

static int read_error(char *errbuf, size_t errsize)
{
	return text_fail(errbuf, errsize, "reading the qcow2 header: %s",
			 strerror(errno));
}

/*
 * What qemu would open besides the image itself, or could not read:
 * a backing file, an external data file, encryption; and the header's
 * own "corrupt" mark and features qvm does not know.
 */
static int qcow2_refusals(int fd, const unsigned char *buf,
			  struct img_info *info, uint32_t header_len,
			  uint64_t incompat, char *errbuf, size_t errsize)
{
	uint64_t backing_off = be64(buf + 8);
	uint32_t backing_len = be32(buf + 16);
	uint32_t crypt = be32(buf + 32);
	uint64_t cluster = 1ull << info->qcow2.cluster_bits;
	char name[256];
	int rc;

	if (backing_off && backing_len) {
		if (read_name(fd, backing_off, backing_len, name,
			      sizeof(name)) < 0)
			return read_error(errbuf, errsize);
		return text_fail(errbuf, errsize, "qcow2 image names a backing "
				 "file, '%s'; " SELF_CONTAINED, name);
	}
	rc = data_file_name(fd, info, header_len,
			    backing_off ? backing_off : cluster, name,
			    sizeof(name));
	if (rc < 0)
		return read_error(errbuf, errsize);
	if (rc == 1)
		return text_fail(errbuf, errsize, "qcow2 image names an "
				 "external data file, '%s'; " SELF_CONTAINED,
				 name);
	if (incompat & QCOW2_INCOMPAT_DATA_FILE)
		return text_fail(errbuf, errsize, "qcow2 image keeps its data "
				 "in an external file (its name is not in the "
				 "header); " SELF_CONTAINED);
	if (crypt)
		return text_fail(errbuf, errsize, "qcow2 image is encrypted "
				 "(%s); qvm imports only unencrypted images",
				 crypt == 1 ? "AES" : crypt == 2 ? "LUKS"
				 : "unknown method");
	if (incompat & QCOW2_INCOMPAT_CORRUPT)
		return text_fail(errbuf, errsize, "qcow2 image is marked "
				 "corrupt (qemu found its metadata "
				 "inconsistent); repair a copy with "
				 "'qemu-img check -r all' first");
	if (incompat & ~QCOW2_INCOMPAT_KNOWN)
		return text_fail(errbuf, errsize, "qcow2 image uses features "
				 "qvm does not know (incompatible feature bits "
				 "0x%llx)", (unsigned long long)
				 (incompat & ~QCOW2_INCOMPAT_KNOWN));
	return 0;
}

static int probe_qcow(int fd, const unsigned char *buf, size_t n,
		      struct img_info *info, char *errbuf, size_t errsize)
{
	struct qcow2_layout *q = &info->qcow2;
	uint32_t version;
	uint32_t need;
	uint64_t incompat;

	if (n < 8)
		return text_fail(errbuf, errsize, "qcow2 header is truncated "
			    "(%zu of %u bytes)", n, QCOW2_V2_HEADER);
	version = be32(buf + 4);
	if (version == 1) {
		/* qcow's first version: obsolete, convert it first. */
		info->format = IMG_UNSUPPORTED;
		info->name = "qcow";
		info->virtual_size = n >= 32 ? be64(buf + 24) : 0;
		return 0;
	}
	if (version != 2 && version != 3)
		return text_fail(errbuf, errsize, "unknown qcow2 version %u",
			    version);
	need = version == 2 ? QCOW2_V2_HEADER : QCOW2_V3_HEADER;
	if (version == 3 && n >= QCOW2_V3_HEADER && be32(buf + 100) > need)
		need = be32(buf + 100);	/* header_length */
	if (info->file_size < need)
		return text_fail(errbuf, errsize, "qcow2 header is truncated "
			    "(%llu of %u bytes)",
			    (unsigned long long)info->file_size, need);
	q->cluster_bits = be32(buf + 20);
	if (q->cluster_bits < QCOW2_MIN_CLUSTER_BITS ||
	    q->cluster_bits > QCOW2_MAX_CLUSTER_BITS)
		return text_fail(errbuf, errsize, "qcow2 image is corrupt: "
				 "cluster_bits %u is out of range (%u to %u)",
				 q->cluster_bits, QCOW2_MIN_CLUSTER_BITS,
				 QCOW2_MAX_CLUSTER_BITS);
	incompat = version == 3 ? be64(buf + 72) : 0;
	q->l1_size = be32(buf + 36);
	q->l1_offset = be64(buf + 40);
	q->refcount_offset = be64(buf + 48);
	q->refcount_clusters = be32(buf + 56);
	q->extended_l2 = (incompat & QCOW2_INCOMPAT_EXTL2) != 0;
	if (qcow2_refusals(fd, buf, info, need, incompat, errbuf,
			   errsize) < 0)
		return -1;
	info->format = IMG_QCOW2;
	info->name = "qcow2";
	info->virtual_size = be64(buf + 24);
	return 0;
}

static void probe_other(const unsigned char *buf, size_t n,
			struct img_info *info)
{
	for (size_t i = 0; i < sizeof(unsupported) / sizeof(unsupported[0]);
	     i++) {
		if (has_magic(buf, n, unsupported[i].offset,
			      unsupported[i].magic, unsupported[i].len)) {
			info->format = IMG_UNSUPPORTED;
			info->name = unsupported[i].name;
			/* Its disk size is in a header qvm does not
			 * parse: unknown. */
			return;
		}
	}
	for (size_t i = 0; i < sizeof(not_a_disk) / sizeof(not_a_disk[0]);
	     i++) {
		if (has_magic(buf, n, not_a_disk[i].offset,
			      not_a_disk[i].magic, not_a_disk[i].len)) {
			info->format = IMG_NOT_A_DISK;
			info->name = not_a_disk[i].name;
			info->advice = not_a_disk[i].advice;
			info->wrapper = not_a_disk[i].wrapper;
			return;
		}
	}
	if (bzip2_magic(buf, n)) {
		info->format = IMG_NOT_A_DISK;
		info->name = "bzip2-compressed";
		info->advice = "decompress it first: bzip2 -dk";
		info->wrapper = IMG_BZIP2;
	} else if (html_magic(buf, n)) {
		info->format = IMG_NOT_A_DISK;
		info->name = "an HTML page";
		info->advice = "was it fetched from the right address? look at "
			       "it: less";
		info->wrapper = IMG_BARE;
	}
}

void imgfmt_identify(const unsigned char *buf, size_t n,
		     struct img_info *info)
{
	memset(info, 0, sizeof(*info));
	if (has_magic(buf, n, 0, "QFI\xfb", 4)) {
		uint32_t version = n >= 8 ? be32(buf + 4) : 0;

		info->format = version == 2 || version == 3 ? IMG_QCOW2
							    : IMG_UNSUPPORTED;
		info->name = version == 2 || version == 3 ? "qcow2" : "qcow";
		info->virtual_size = n >= 32 ? be64(buf + 24) : 0;
		return;
	}
	probe_other(buf, n, info);
	if (info->format == IMG_RAW)
		info->name = "raw";
}

int imgfmt_probe(int fd, struct img_info *info, char *errbuf,
		 size_t errsize)
{
	unsigned char buf[HEADER_SIZE];
	ssize_t got;
	size_t n;
	bool footer;

	memset(info, 0, sizeof(*info));
	if (errbuf && errsize)
		errbuf[0] = '\0';
	if (file_size(fd, &info->file_size) < 0)
		return text_fail(errbuf, errsize, "cannot get the image's size: %s",
			    strerror(errno));
	got = read_at(fd, buf, sizeof(buf), 0);
	if (got < 0)
		return text_fail(errbuf, errsize, "reading the image header: %s",
			    strerror(errno));
	n = (size_t)got;

	if (has_magic(buf, n, 0, "QFI\xfb", 4)) {
		if (probe_qcow(fd, buf, n, info, errbuf, errsize) < 0)
			return -1;
	} else {
		probe_other(buf, n, info);
		if (info->format != IMG_RAW)
			return 0;
		if (vhd_footer(fd, info->file_size, &footer) < 0)
			return text_fail(errbuf, errsize, "reading the image "
				    "footer: %s", strerror(errno));
		if (footer) {
			info->format = IMG_UNSUPPORTED;
			info->name = "vpc";
			return 0;
		}
		info->name = "raw";
		info->virtual_size = info->file_size;
	}
	if (info->format != IMG_UNSUPPORTED && info->virtual_size == 0)
		return text_fail(errbuf, errsize, "image is empty");
	return 0;
}

/* True if len bytes at off do not all lie within size bytes. */
static bool past_end(uint64_t off, uint64_t len, uint64_t size)
{
	return off > size || len > size - off;
}

static int missing(char *errbuf, size_t errsize, const char *what,
		   uint64_t off, uint64_t len, uint64_t size)
{
	return text_fail(errbuf, errsize, "qcow2 image is truncated or "
			 "corrupt: %s at bytes %llu to %llu is past the end "
			 "of the file (%llu bytes; an interrupted download?)",
			 what, (unsigned long long)off,
			 (unsigned long long)(off + len - 1),
			 (unsigned long long)size);
}

static int corrupt(char *errbuf, size_t errsize, const char *what,
		   uint64_t off)
{
	return text_fail(errbuf, errsize, "qcow2 image is truncated or "
			 "corrupt: %s at byte %llu is not aligned to a "
			 "cluster", what, (unsigned long long)off);
}

/* Every cluster one L2 table maps must be in the file. */
static int walk_l2(int fd, const struct img_info *info, uint64_t l2,
		   char *errbuf, size_t errsize)
{
	const struct qcow2_layout *q = &info->qcow2;
	uint64_t cluster = 1ull << q->cluster_bits;
	size_t entry = q->extended_l2 ? 16 : 8;
	size_t chunk = cluster < WALK_CHUNK ? (size_t)cluster : WALK_CHUNK;
	/* Compressed: offset in the low x bits, then the number of 512-byte
	 * sectors after the first that hold its data. */
	unsigned x = 62 - (q->cluster_bits - 8);
	unsigned char buf[WALK_CHUNK];

	for (uint64_t done = 0; done < cluster; done += chunk) {
		ssize_t n = read_at(fd, buf, chunk, l2 + done);

		if (n < 0)
			return text_fail(errbuf, errsize, "reading an L2 "
					 "table: %s", strerror(errno));
		for (size_t i = 0; i + entry <= (size_t)n; i += entry) {
			uint64_t e = be64(buf + i);
			uint64_t off, last;

			if (e & QCOW2_COMPRESSED) {
				off = e & ((1ull << x) - 1);
				last = ((off >> 9) + ((e & ~(3ull << 62)) >>
						      x)) << 9;
				/* Its last sector holds at least one byte
				 * of it. */
				if (off >= info->file_size ||
				    last >= info->file_size)
					return missing(errbuf, errsize,
						       "compressed data", off,
						       last + 1 - off,
						       info->file_size);
				continue;
			}
			off = e & QCOW2_OFFSET_MASK;
			if (!off || (e & QCOW2_ZERO))
				continue;
			if (off % cluster)
				return corrupt(errbuf, errsize,
					       "a data cluster", off);
			if (past_end(off, cluster, info->file_size))
				return missing(errbuf, errsize,
					       "a data cluster", off, cluster,
					       info->file_size);
		}
	}
	return 0;
}

int imgfmt_qcow2_intact(int fd, const struct img_info *info, char *errbuf,
			size_t errsize)
{
	const struct qcow2_layout *q = &info->qcow2;
	uint64_t cluster = 1ull << q->cluster_bits;
	uint64_t size = info->file_size;
	uint64_t per_l2 = cluster / (q->extended_l2 ? 16 : 8) * cluster;
	uint64_t need = info->virtual_size / per_l2 +
			(info->virtual_size % per_l2 != 0);
	uint64_t tables = 0;
	unsigned char buf[WALK_CHUNK];

	if (errbuf && errsize)
		errbuf[0] = '\0';
	if (q->l1_size < need || q->l1_size > QCOW2_MAX_L1_ENTRIES)
		return text_fail(errbuf, errsize, "qcow2 image is corrupt: "
				 "its L1 table has %u entries; its virtual "
				 "size needs %llu (at most %u)", q->l1_size,
				 (unsigned long long)need,
				 QCOW2_MAX_L1_ENTRIES);
	if (q->l1_offset % cluster)
		return corrupt(errbuf, errsize, "the L1 table", q->l1_offset);
	if (q->l1_size && past_end(q->l1_offset, (uint64_t)q->l1_size * 8,
				   size))
		return missing(errbuf, errsize, "the L1 table", q->l1_offset,
			       (uint64_t)q->l1_size * 8, size);
	if (q->refcount_offset % cluster)
		return corrupt(errbuf, errsize, "the refcount table",
			       q->refcount_offset);
	if (!q->refcount_clusters ||
	    past_end(q->refcount_offset, q->refcount_clusters * cluster,
		     size))
		return missing(errbuf, errsize, "the refcount table",
			       q->refcount_offset,
			       (q->refcount_clusters ? q->refcount_clusters
				: 1) * cluster, size);
	/* Only the entries that map the disk are used. Each L2 table is a
	 * cluster of its own in the file, so there cannot be more of them
	 * than the file has clusters: that bounds the reading to the file's
	 * size, whatever a hostile L1 table says. */
	for (uint64_t i = 0; i < need; i += WALK_CHUNK / 8) {
		uint64_t want = need - i < WALK_CHUNK / 8
			? need - i : WALK_CHUNK / 8;
		ssize_t n = read_at(fd, buf, (size_t)want * 8,
				    q->l1_offset + i * 8);

		if (n < 0)
			return text_fail(errbuf, errsize, "reading the L1 "
					 "table: %s", strerror(errno));
		for (size_t j = 0; j + 8 <= (size_t)n; j += 8) {
			uint64_t l2 = be64(buf + j) & QCOW2_OFFSET_MASK;

			if (!l2)
				continue;
			if (++tables > size / cluster)
				return text_fail(errbuf, errsize, "qcow2 image "
						 "is corrupt: it has more L2 "
						 "tables than its %llu bytes "
						 "can hold",
						 (unsigned long long)size);
			if (l2 % cluster)
				return corrupt(errbuf, errsize, "an L2 table",
					       l2);
			if (past_end(l2, cluster, size))
				return missing(errbuf, errsize, "an L2 table",
					       l2, cluster, size);
			if (walk_l2(fd, info, l2, errbuf, errsize) < 0)
				return -1;
		}
	}
	return 0;
}
