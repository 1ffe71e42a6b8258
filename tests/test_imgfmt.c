/*
 * imgfmt_probe(): raw and qcow2 images are told apart and sized from
 * their header; formats qvm does not import are named, not mistaken for
 * raw disks; empty and cut-off images are errors.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "imgfmt.h"

struct image {
	char dir[256];
	char path[300];
};

static int setup(void **state)
{
	struct image *im = calloc(1, sizeof(*im));
	const char *tmp = getenv("TMPDIR");

	if (!im)
		return -1;
	snprintf(im->dir, sizeof(im->dir), "%s/qvm-imgfmt-XXXXXX",
		 tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(im->dir)) {
		free(im);
		return -1;
	}
	snprintf(im->path, sizeof(im->path), "%s/image", im->dir);
	*state = im;
	return 0;
}

static int teardown(void **state)
{
	struct image *im = *state;

	unlink(im->path);
	rmdir(im->dir);
	free(im);
	return 0;
}

/* Makes the image: size bytes (sparse), with header written at off. */
static void make_image(struct image *im, uint64_t size, uint64_t off,
		       const void *header, size_t len)
{
	int fd = open(im->path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, (off_t)size), 0);
	if (len)
		assert_int_equal(pwrite(fd, header, len, (off_t)off),
				 (ssize_t)len);
	close(fd);
}

struct probe {
	int ret;
	struct img_info info;
	char msg[256];
};

static void probe(struct image *im, struct probe *p)
{
	int fd = open(im->path, O_RDONLY | O_CLOEXEC);

	assert_true(fd >= 0);
	memset(p, 0, sizeof(*p));
	p->ret = imgfmt_probe(fd, &p->info, p->msg, sizeof(p->msg));
	close(fd);
}

static void put_be32(unsigned char *p, uint32_t v)
{
	for (int i = 3; i >= 0; i--, v >>= 8)
		p[i] = (unsigned char)v;
}

static void put_be64(unsigned char *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		p[i] = (unsigned char)v;
}

/* The fields qvm reads: magic, version, virtual size; and for version 3
 * the header length. */
static void qcow2_header(unsigned char *h, uint32_t version, uint64_t size)
{
	memset(h, 0, 512);
	memcpy(h, "QFI\xfb", 4);
	put_be32(h + 4, version);
	put_be32(h + 20, 16);		/* cluster_bits */
	put_be64(h + 24, size);
	if (version >= 3)
		put_be32(h + 100, 104);	/* header_length */
}

static void test_raw_is_its_file_size(void **state)
{
	struct image *im = *state;
	const char boot[] = "\xeb\x63\x90" "some boot sector";
	struct probe p;

	make_image(im, 10 * 1024 * 1024 + 512, 0, boot, sizeof(boot));
	probe(im, &p);
	assert_int_equal(p.ret, 0);
	assert_int_equal(p.info.format, IMG_RAW);
	assert_string_equal(p.info.name, "raw");
	assert_int_equal(p.info.virtual_size, 10 * 1024 * 1024 + 512);
	assert_int_equal(p.info.file_size, 10 * 1024 * 1024 + 512);
}

static void test_raw_smaller_than_a_header(void **state)
{
	struct image *im = *state;
	struct probe p;

	/* 100 bytes of something: still a (tiny) raw disk. */
	make_image(im, 100, 0, "hello", 5);
	probe(im, &p);
	assert_int_equal(p.ret, 0);
	assert_int_equal(p.info.format, IMG_RAW);
	assert_int_equal(p.info.virtual_size, 100);
}

static void test_qcow2_v3_size_comes_from_the_header(void **state)
{
	struct image *im = *state;
	unsigned char h[512];
	struct probe p;

	/* A 20 GiB disk in a 196 KiB file. */
	qcow2_header(h, 3, 20ull << 30);
	make_image(im, 196608, 0, h, sizeof(h));
	probe(im, &p);
	assert_int_equal(p.ret, 0);
	assert_int_equal(p.info.format, IMG_QCOW2);
	assert_string_equal(p.info.name, "qcow2");
	assert_int_equal(p.info.virtual_size, 20ull << 30);
	assert_int_equal(p.info.file_size, 196608);
}

static void test_qcow2_v2(void **state)
{
	struct image *im = *state;
	unsigned char h[512];
	struct probe p;

	qcow2_header(h, 2, 0x0123456789abcdefull);
	make_image(im, 72, 0, h, 72);	/* exactly the version 2 header */
	probe(im, &p);
	assert_int_equal(p.ret, 0);
	assert_int_equal(p.info.format, IMG_QCOW2);
	assert_int_equal(p.info.virtual_size, 0x0123456789abcdefull);
}

static void test_truncated_qcow2_is_an_error(void **state)
{
	struct image *im = *state;
	unsigned char h[512];
	struct probe p;

	qcow2_header(h, 3, 1ull << 30);
	make_image(im, 64, 0, h, 64);
	probe(im, &p);
	assert_int_equal(p.ret, -1);
	assert_string_equal(p.msg, "qcow2 header is truncated "
			    "(64 of 104 bytes)");

	/* Cut off right after the magic. */
	make_image(im, 4, 0, h, 4);
	probe(im, &p);
	assert_int_equal(p.ret, -1);
	assert_non_null(strstr(p.msg, "truncated"));
}

static void test_qcow2_of_size_zero_is_empty(void **state)
{
	struct image *im = *state;
	unsigned char h[512];
	struct probe p;

	qcow2_header(h, 3, 0);
	make_image(im, 65536, 0, h, sizeof(h));
	probe(im, &p);
	assert_int_equal(p.ret, -1);
	assert_string_equal(p.msg, "image is empty");
}

static void test_unknown_qcow2_version_is_an_error(void **state)
{
	struct image *im = *state;
	unsigned char h[512];
	struct probe p;

	qcow2_header(h, 4, 1ull << 30);
	make_image(im, 65536, 0, h, sizeof(h));
	probe(im, &p);
	assert_int_equal(p.ret, -1);
	assert_string_equal(p.msg, "unknown qcow2 version 4");
}

static void test_qcow_version_1_is_unsupported(void **state)
{
	struct image *im = *state;
	unsigned char h[512];
	struct probe p;

	qcow2_header(h, 1, 1ull << 30);
	make_image(im, 65536, 0, h, sizeof(h));
	probe(im, &p);
	assert_int_equal(p.ret, 0);
	assert_int_equal(p.info.format, IMG_UNSUPPORTED);
	assert_string_equal(p.info.name, "qcow");
}

static void test_empty_file_is_an_error(void **state)
{
	struct image *im = *state;
	struct probe p;

	make_image(im, 0, 0, NULL, 0);
	probe(im, &p);
	assert_int_equal(p.ret, -1);
	assert_string_equal(p.msg, "image is empty");
}

static void test_formats_qvm_does_not_import_are_named(void **state)
{
	static const struct {
		const char *name;
		size_t offset;
		const char *magic;
		size_t len;
	} cases[] = {
#define CASE(name, offset, magic) { name, offset, magic, sizeof(magic) - 1 }
		CASE("vmdk", 0, "KDMV\x01\0\0\0"),
		CASE("vmdk", 0, "COWD"),
		CASE("vmdk", 0, "# Disk DescriptorFile\nversion=1\n"),
		CASE("vdi", 0, "<<< Oracle VM VirtualBox Disk Image >>>\n"),
		CASE("vhdx", 0, "vhdxfile"),
		CASE("vpc", 0, "conectix"),
		CASE("qed", 0, "QED\0"),
		CASE("luks", 0, "LUKS\xba\xbe\0\x01"),
		CASE("parallels", 0, "WithoutFreeSpace"),
		CASE("parallels", 0, "WithouFreSpacExt"),
		CASE("cloop", 0, "#!/bin/sh\n#V2.0 Format\nmodprobe cloop"),
		CASE("bochs", 0, "Bochs Virtual HD Image"),
#undef CASE
	};
	struct image *im = *state;
	struct probe p;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		unsigned char h[512];

		memset(h, 0, sizeof(h));
		memcpy(h + cases[i].offset, cases[i].magic, cases[i].len);
		if (strcmp(cases[i].name, "vdi") == 0)
			memcpy(h + 0x40, "\x7f\x10\xda\xbe", 4);
		make_image(im, 1 << 20, 0, h, sizeof(h));
		probe(im, &p);
		assert_int_equal(p.ret, 0);
		assert_int_equal(p.info.format, IMG_UNSUPPORTED);
		assert_string_equal(p.info.name, cases[i].name);
	}
}

/* A web page where an image was expected (an error page sent with 200):
 * not a disk, in any case, after a byte order mark and white space; a
 * boot sector holding the same words further in is still raw. */
static void test_a_web_page_is_not_a_disk(void **state)
{
	static const char *const pages[] = {
		"<!DOCTYPE html>\n<html><body>404</body></html>\n",
		"\xef\xbb\xbf\r\n  <!doctype HTML><title>Sign in</title>",
		"<HTML>\n<HEAD><TITLE>Moved</TITLE></HEAD></HTML>",
	};
	struct image *im = *state;
	unsigned char sector[512];
	struct probe p;

	for (size_t i = 0; i < sizeof(pages) / sizeof(pages[0]); i++) {
		make_image(im, strlen(pages[i]), 0, pages[i],
			   strlen(pages[i]));
		probe(im, &p);
		assert_int_equal(p.ret, 0);
		assert_int_equal(p.info.format, IMG_NOT_A_DISK);
		assert_string_equal(p.info.name, "an HTML page");
	}
	memset(sector, 0, sizeof(sector));
	sector[0] = 0xeb;	/* a jump, as boot sectors begin */
	memcpy(sector + 3, "<html>", 6);
	make_image(im, 1 << 20, 0, sector, sizeof(sector));
	probe(im, &p);
	assert_int_equal(p.ret, 0);
	assert_int_equal(p.info.format, IMG_RAW);
}

static void test_vdi_needs_its_signature(void **state)
{
	struct image *im = *state;
	const char text[] = "<<< Oracle VM VirtualBox Disk Image >>>\n";
	struct probe p;

	/* The text alone is not the signature qemu checks: raw. */
	make_image(im, 1 << 20, 0, text, sizeof(text) - 1);
	probe(im, &p);
	assert_int_equal(p.ret, 0);
	assert_int_equal(p.info.format, IMG_RAW);
}

static void test_fixed_vhd_is_found_by_its_footer(void **state)
{
	struct image *im = *state;
	struct probe p;

	/* A fixed VHD: a raw disk plus a 512-byte footer. */
	make_image(im, (1 << 20) + 512, 1 << 20, "conectix", 8);
	probe(im, &p);
	assert_int_equal(p.ret, 0);
	assert_int_equal(p.info.format, IMG_UNSUPPORTED);
	assert_string_equal(p.info.name, "vpc");

	/* The same word anywhere else is just data. */
	make_image(im, (1 << 20) + 512, 1 << 19, "conectix", 8);
	probe(im, &p);
	assert_int_equal(p.ret, 0);
	assert_int_equal(p.info.format, IMG_RAW);
}

/* --- what a qcow2 names: backing file, external data file ------------- */

static void expect_refused(struct image *im, const char *msg)
{
	struct probe p;

	probe(im, &p);
	assert_int_equal(p.ret, -1);
	assert_string_equal(p.msg, msg);
}

static void test_qcow2_with_a_backing_file_is_refused(void **state)
{
	struct image *im = *state;
	unsigned char h[1024];

	/* What "qemu-img create -f qcow2 -b /etc/shadow -F raw" writes:
	 * the name's offset and length at bytes 8 and 16, the name after
	 * the header. */
	memset(h, 0, sizeof(h));
	qcow2_header(h, 3, 1ull << 30);
	put_be64(h + 8, 512);
	put_be32(h + 16, 11);
	memcpy(h + 512, "/etc/shadow", 11);
	make_image(im, 65536 * 4, 0, h, sizeof(h));
	expect_refused(im, "qcow2 image names a backing file, '/etc/shadow'; "
		       "qvm imports only self-contained images and never "
		       "opens a file an image names");

	/* Version 2 too, and a name made to forge a line is shown
	 * escaped. */
	qcow2_header(h, 2, 1ull << 30);
	put_be64(h + 8, 72);
	put_be32(h + 16, 11);
	memcpy(h + 72, "a\nError: b\x1b", 11);
	make_image(im, 65536 * 4, 0, h, sizeof(h));
	expect_refused(im, "qcow2 image names a backing file, "
		       "'a\\nError: b\\x1b'; qvm imports only self-contained "
		       "images and never opens a file an image names");
}

static void test_qcow2_with_an_external_data_file_is_refused(void **state)
{
	struct image *im = *state;
	unsigned char h[512];

	/* Incompatible feature bit 2, and the name in header extension
	 * 0x44415441 ("DATA") after another extension. */
	qcow2_header(h, 3, 1ull << 30);
	put_be64(h + 72, 1ull << 2);
	put_be32(h + 104, 0x6803f857);	/* feature name table */
	put_be32(h + 108, 3);
	put_be32(h + 120, 0x44415441);
	put_be32(h + 124, 8);
	memcpy(h + 128, "/dev/sda", 8);
	make_image(im, 65536 * 4, 0, h, sizeof(h));
	expect_refused(im, "qcow2 image names an external data file, "
		       "'/dev/sda'; qvm imports only self-contained images "
		       "and never opens a file an image names");

	/* The extension alone (the bit clear) is refused as well. */
	put_be64(h + 72, 0);
	make_image(im, 65536 * 4, 0, h, sizeof(h));
	expect_refused(im, "qcow2 image names an external data file, "
		       "'/dev/sda'; qvm imports only self-contained images "
		       "and never opens a file an image names");

	/* The bit without a name: qemu would want one from the user. */
	qcow2_header(h, 3, 1ull << 30);
	put_be64(h + 72, 1ull << 2);
	make_image(im, 65536 * 4, 0, h, sizeof(h));
	expect_refused(im, "qcow2 image keeps its data in an external file "
		       "(its name is not in the header); qvm imports only "
		       "self-contained images and never opens a file an "
		       "image names");
}

static void test_encrypted_or_marked_corrupt_qcow2_is_refused(void **state)
{
	struct image *im = *state;
	unsigned char h[512];

	qcow2_header(h, 3, 1ull << 30);
	put_be32(h + 32, 2);
	make_image(im, 65536 * 4, 0, h, sizeof(h));
	expect_refused(im, "qcow2 image is encrypted (LUKS); qvm imports only "
		       "unencrypted images");

	qcow2_header(h, 2, 1ull << 30);
	put_be32(h + 32, 1);
	make_image(im, 65536 * 4, 0, h, sizeof(h));
	expect_refused(im, "qcow2 image is encrypted (AES); qvm imports only "
		       "unencrypted images");

	qcow2_header(h, 3, 1ull << 30);
	put_be64(h + 72, 1ull << 1);
	make_image(im, 65536 * 4, 0, h, sizeof(h));
	expect_refused(im, "qcow2 image is marked corrupt (qemu found its "
		       "metadata inconsistent); repair a copy with 'qemu-img "
		       "check -r all' first");

	qcow2_header(h, 3, 1ull << 30);
	put_be64(h + 72, (1ull << 7) | 1);
	make_image(im, 65536 * 4, 0, h, sizeof(h));
	expect_refused(im, "qcow2 image uses features qvm does not know "
		       "(incompatible feature bits 0x80)");

	qcow2_header(h, 3, 1ull << 30);
	put_be32(h + 20, 22);
	make_image(im, 65536 * 4, 0, h, sizeof(h));
	expect_refused(im, "qcow2 image is corrupt: cluster_bits 22 is out of "
		       "range (9 to 21)");
}

/* --- files that hold a disk but are none ------------------------------ */

static void test_compressed_files_and_archives_are_named(void **state)
{
	static const struct {
		const char *name;
		const char *advice;
		size_t offset;
		const char *magic;
		size_t len;
	} cases[] = {
#define CASE(name, advice, offset, magic) \
	{ name, advice, offset, magic, sizeof(magic) - 1 }
		CASE("xz-compressed", "decompress it first: xz -dk", 0,
		     "\xfd\x37\x7a\x58\x5a\x00\x00\x04"),
		CASE("gzip-compressed", "decompress it first: gzip -dk", 0,
		     "\x1f\x8b\x08\x08"),
		CASE("zstd-compressed", "decompress it first: zstd -d", 0,
		     "\x28\xb5\x2f\xfd\x04"),
		CASE("bzip2-compressed", "decompress it first: bzip2 -dk", 0,
		     "BZh91AY&SY"),
		CASE("bzip2-compressed", "decompress it first: bzip2 -dk", 0,
		     "BZh1\x17\x72\x45\x38\x50\x90"),
		CASE("a tar archive",
		     "extract the disk image from it first: tar -xf", 257,
		     "ustar\0" "00"),
		CASE("a tar archive",
		     "extract the disk image from it first: tar -xf", 257,
		     "ustar  \0"),
		CASE("a zip archive",
		     "extract the disk image from it first: unzip", 0,
		     "PK\x03\x04\x14\0"),
#undef CASE
	};
	struct image *im = *state;
	struct probe p;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		unsigned char h[512];

		memset(h, 0, sizeof(h));
		memcpy(h + cases[i].offset, cases[i].magic, cases[i].len);
		make_image(im, 1 << 20, 0, h, sizeof(h));
		probe(im, &p);
		assert_int_equal(p.ret, 0);
		assert_int_equal(p.info.format, IMG_NOT_A_DISK);
		assert_string_equal(p.info.name, cases[i].name);
		assert_string_equal(p.info.advice, cases[i].advice);
	}
}

/* Near misses stay raw disks: a raw disk may start with anything. */
static void test_near_misses_are_raw(void **state)
{
	static const struct {
		size_t offset;
		const char *bytes;
		size_t len;
	} cases[] = {
#define CASE(offset, bytes) { offset, bytes, sizeof(bytes) - 1 }
		CASE(0, "QFI\0"),		/* not QED's magic */
		CASE(0, "\x1f\x8b\x07"),	/* gzip has only method 8 */
		CASE(0, "BZhx1AY&SY"),		/* no block size */
		CASE(0, "BZh9garbage"),		/* no block magic */
		CASE(0, "ustar"),		/* tar's magic is at 257 */
		CASE(0x8001, "CD001"),		/* ISO 9660: may be a hybrid */
		CASE(0, "\xfd" "7zX"),
#undef CASE
	};
	struct image *im = *state;
	struct probe p;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		make_image(im, 1 << 20, cases[i].offset, cases[i].bytes,
			   cases[i].len);
		probe(im, &p);
		assert_int_equal(p.ret, 0);
		if (p.info.format != IMG_RAW)
			fail_msg("case %zu: %s, not raw", i, p.info.name);
	}
}

/* --- a qcow2 cut short ------------------------------------------------ */

/*
 * A small qcow2 with 64 KiB clusters (C) and a 1 GiB disk (two L1
 * entries, each L2 table mapping 512 MiB): refcount table at C, L1 table
 * at 3C, one L2 table at 4C mapping a data cluster at 5C and a
 * compressed cluster at 6C+100 whose data ends in the sector at 6C+1024.
 * Complete, the file is 6C+1500 bytes.
 */
#define C 65536ull
#define FULL (6 * C + 1500)

struct layout {
	uint32_t l1_size;
	uint64_t l1_entry;
	uint32_t refcount_clusters;
	uint64_t incompat;
	uint64_t l2[4];		/* the L2 table's first entries */
};

static void make_qcow2(struct image *im, const struct layout *l,
		       uint64_t file_size)
{
	unsigned char h[512], e[64];
	int fd;

	qcow2_header(h, 3, 1ull << 30);
	put_be32(h + 36, l->l1_size);
	put_be64(h + 40, 3 * C);
	put_be64(h + 48, C);
	put_be32(h + 56, l->refcount_clusters);
	put_be64(h + 72, l->incompat);
	make_image(im, file_size, 0, h, sizeof(h));
	fd = open(im->path, O_WRONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	/* Past the cut, nothing is written. */
	put_be64(e, l->l1_entry);
	if (file_size >= 3 * C + 8)
		assert_int_equal(pwrite(fd, e, 8, 3 * C), 8);
	for (int i = 0; i < 4; i++)
		put_be64(e + 8 * i, l->l2[i]);
	if (file_size >= 4 * C + 32)
		assert_int_equal(pwrite(fd, e, 32, 4 * C), 32);
	close(fd);
}

static const struct layout good = {
	.l1_size = 2,
	.l1_entry = (1ull << 63) | 4 * C,
	.refcount_clusters = 1,
	.l2 = {
		(1ull << 63) | 5 * C,
		/* compressed: offset in bits 0..53, then 2 more sectors */
		(1ull << 62) | (2ull << 54) | (6 * C + 100),
		/* reads as zeros: its place is never read */
		100 * C | 1,
		0,
	},
};

static int intact(struct image *im, char *msg, size_t size)
{
	struct img_info info;
	int fd = open(im->path, O_RDONLY | O_CLOEXEC);
	int rc;

	assert_true(fd >= 0);
	assert_int_equal(imgfmt_probe(fd, &info, msg, size), 0);
	assert_int_equal(info.format, IMG_QCOW2);
	rc = imgfmt_qcow2_intact(fd, &info, msg, size);
	close(fd);
	return rc;
}

static void expect_cut(struct image *im, const struct layout *l,
		       uint64_t file_size, const char *what)
{
	char msg[512], want[512];

	make_qcow2(im, l, file_size);
	if (intact(im, msg, sizeof(msg)) != -1)
		fail_msg("cut at %llu: taken as intact",
			 (unsigned long long)file_size);
	snprintf(want, sizeof(want), "qcow2 image is truncated or corrupt: "
		 "%s is past the end of the file (%llu bytes; an interrupted "
		 "download?)", what, (unsigned long long)file_size);
	assert_string_equal(msg, want);
}

static void test_complete_qcow2_is_intact(void **state)
{
	struct image *im = *state;
	char msg[512];

	make_qcow2(im, &good, FULL);
	assert_int_equal(intact(im, msg, sizeof(msg)), 0);
	/* The compressed data needs only a byte in its last sector. */
	make_qcow2(im, &good, 6 * C + 1025);
	assert_int_equal(intact(im, msg, sizeof(msg)), 0);
}

static void test_qcow2_cut_anywhere_is_found(void **state)
{
	struct image *im = *state;
	struct layout l = good;

	expect_cut(im, &good, 6 * C + 1024,
		   "compressed data at bytes 393316 to 394240");
	expect_cut(im, &good, 6 * C + 100,
		   "compressed data at bytes 393316 to 394240");
	expect_cut(im, &good, 6 * C - 1,
		   "a data cluster at bytes 327680 to 393215");
	expect_cut(im, &good, 5 * C + 1,
		   "a data cluster at bytes 327680 to 393215");
	expect_cut(im, &good, 4 * C + 4096,
		   "an L2 table at bytes 262144 to 327679");
	expect_cut(im, &good, 3 * C + 8,
		   "the L1 table at bytes 196608 to 196623");
	expect_cut(im, &good, 3 * C,
		   "the L1 table at bytes 196608 to 196623");
	expect_cut(im, &good, 512,
		   "the L1 table at bytes 196608 to 196623");
	l.refcount_clusters = 10;
	expect_cut(im, &l, FULL,
		   "the refcount table at bytes 65536 to 720895");
}

static void test_qcow2_tables_that_do_not_fit_are_corrupt(void **state)
{
	struct image *im = *state;
	struct layout l = good;
	char msg[512];

	/* One L1 entry maps 512 MiB: too few for a 1 GiB disk. */
	l.l1_size = 1;
	make_qcow2(im, &l, FULL);
	assert_int_equal(intact(im, msg, sizeof(msg)), -1);
	assert_string_equal(msg, "qcow2 image is corrupt: its L1 table has 1 "
			    "entries; its virtual size needs 2 (at most "
			    "4194304)");

	l = good;
	l.l1_entry = 4 * C + 512;
	make_qcow2(im, &l, FULL);
	assert_int_equal(intact(im, msg, sizeof(msg)), -1);
	assert_string_equal(msg, "qcow2 image is truncated or corrupt: an L2 "
			    "table at byte 262656 is not aligned to a "
			    "cluster");
}

/* Every L1 entry naming the same L2 table: more tables than the file
 * has clusters, refused before reading them all again and again. */
static void test_qcow2_with_more_l2_tables_than_clusters(void **state)
{
	struct image *im = *state;
	struct layout l = good;
	unsigned char e[8 * 16];
	char msg[512];
	int fd;

	l.l1_size = 16;
	make_qcow2(im, &l, FULL);
	/* A 16 GiB disk: 32 entries needed; the file has 7 clusters. */
	fd = open(im->path, O_WRONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	put_be64(e, 1ull << 34);
	assert_int_equal(pwrite(fd, e, 8, 24), 8);
	put_be32(e, 32);
	assert_int_equal(pwrite(fd, e, 4, 36), 4);
	for (int i = 0; i < 16; i++)
		put_be64(e + 8 * i, (1ull << 63) | 4 * C);
	assert_int_equal(pwrite(fd, e, sizeof(e), 3 * C), sizeof(e));
	close(fd);
	assert_int_equal(intact(im, msg, sizeof(msg)), -1);
	assert_string_equal(msg, "qcow2 image is corrupt: it has more L2 "
			    "tables than its 394716 bytes can hold");
}

/* With extended L2 entries (16 bytes), the second half of each is a
 * bitmap, not an offset. */
static void test_extended_l2_entries_are_16_bytes(void **state)
{
	struct image *im = *state;
	struct layout l = good;
	char msg[512];

	l.incompat = 1ull << 4;
	l.l1_size = 4;		/* an L2 table maps half as much */
	l.l2[0] = (1ull << 63) | 5 * C;
	l.l2[1] = 0x00ffffffffff0000ull;	/* bitmap: not an offset */
	l.l2[2] = 0;
	l.l2[3] = 0;
	make_qcow2(im, &l, FULL);
	assert_int_equal(intact(im, msg, sizeof(msg)), 0);
	expect_cut(im, &l, 6 * C - 1,
		   "a data cluster at bytes 327680 to 393215");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(test_raw_is_its_file_size),
		T(test_raw_smaller_than_a_header),
		T(test_qcow2_v3_size_comes_from_the_header),
		T(test_qcow2_v2),
		T(test_truncated_qcow2_is_an_error),
		T(test_qcow2_of_size_zero_is_empty),
		T(test_unknown_qcow2_version_is_an_error),
		T(test_qcow_version_1_is_unsupported),
		T(test_empty_file_is_an_error),
		T(test_formats_qvm_does_not_import_are_named),
		T(test_a_web_page_is_not_a_disk),
		T(test_vdi_needs_its_signature),
		T(test_fixed_vhd_is_found_by_its_footer),
		T(test_qcow2_with_a_backing_file_is_refused),
		T(test_qcow2_with_an_external_data_file_is_refused),
		T(test_encrypted_or_marked_corrupt_qcow2_is_refused),
		T(test_compressed_files_and_archives_are_named),
		T(test_near_misses_are_raw),
		T(test_complete_qcow2_is_intact),
		T(test_qcow2_cut_anywhere_is_found),
		T(test_qcow2_tables_that_do_not_fit_are_corrupt),
		T(test_extended_l2_entries_are_16_bytes),
		T(test_qcow2_with_more_l2_tables_than_clusters),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
