#include "imgfmt.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "text.h"

#define HEADER_SIZE 512

/* qcow2's header is 72 bytes in version 2 and at least 104 in version 3;
 * anything shorter was cut off (an interrupted download, say). */
#define QCOW2_V2_HEADER 72u
#define QCOW2_V3_HEADER 104u

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
	MAGIC("qed", 0, "QFI\0"),
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
static ssize_t read_at(int fd, unsigned char *buf, size_t len, off_t off)
{
	size_t got = 0;

	while (got < len) {
		ssize_t r = pread(fd, buf + got, len - got,
				  off + (off_t)got);

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
	n = read_at(fd, tail, sizeof(tail), (off_t)(size - HEADER_SIZE));
	if (n < 0)
		return -1;
	*found = has_magic(tail, (size_t)n, 0, "conectix", 8);
	return 0;
}

static int probe_qcow(const unsigned char *buf, size_t n,
		      struct img_info *info, char *errbuf, size_t errsize)
{
	uint32_t version;
	uint32_t need;

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
	info->format = IMG_QCOW2;
	info->name = "qcow2";
	info->virtual_size = be64(buf + 24);
	return 0;
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
		if (probe_qcow(buf, n, info, errbuf, errsize) < 0)
			return -1;
	} else {
		for (size_t i = 0; i < sizeof(unsupported) /
		     sizeof(unsupported[0]); i++) {
			if (has_magic(buf, n, unsupported[i].offset,
				      unsupported[i].magic,
				      unsupported[i].len)) {
				info->format = IMG_UNSUPPORTED;
				info->name = unsupported[i].name;
				/* Its disk size is in a header qvm does
				 * not parse: unknown. */
				return 0;
			}
		}
		if (vhd_footer(fd, info->file_size, &footer) < 0)
			return text_fail(errbuf, errsize, "reading the image "
				    "footer: %s", strerror(errno));
		if (footer) {
			info->format = IMG_UNSUPPORTED;
			info->name = "vpc";
			return 0;
		}
		info->format = IMG_RAW;
		info->name = "raw";
		info->virtual_size = info->file_size;
	}
	if (info->format != IMG_UNSUPPORTED && info->virtual_size == 0)
		return text_fail(errbuf, errsize, "image is empty");
	return 0;
}
