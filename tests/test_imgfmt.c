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
		T(test_vdi_needs_its_signature),
		T(test_fixed_vhd_is_found_by_its_footer),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
