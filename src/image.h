/*
 * image: "qvm image [--sha256 HEX | --checksums SUMS] SOURCE ZVOL".
 *
 * First, before anything is changed, it checks: ZVOL's name and that it
 * does not exist (only a volume tagged as qvm's image gets the hint to
 * "qvm destroy" it); QVM_DEVICE_TIMEOUT; SOURCE (source.h: a path, or an
 * http, https or file URL); the expected checksum (checksum.h: the list
 * read and the entry found); that a local SOURCE is a regular file or
 * block device (opened with O_NONBLOCK, so a FIFO cannot hang qvm); what
 * it holds, from its first bytes (source_probe: [compression] [tar] raw
 * or qcow2; anything else refused with what it is); a local file's
 * checksum (hashed as published, before anything changes).
 *
 * A plain local file (neither compressed nor archived) is imported as
 * before issue 15: its format from its content (imgfmt.h: a qcow2 naming a
 * backing or data file, other disk formats refused); its virtual size (at
 * most 8 EiB - 1 MiB, so the rounding cannot wrap); for a qcow2, that its
 * tables and clusters lie within the file and that "qemu-img check" finds
 * no corruption. qemu-img always gets the image as
 * json:{"driver":"qcow2","file":{...},"backing":null} (the format given,
 * the name literal, no backing file opened), and relative paths as
 * ./PATH. Then, each step with its undo:
 *   1. zfs create -V SIZE -o volblocksize=16K -o refreservation=none
 *      (plus qvm's ownership tags) ZVOL, SIZE the image's virtual size
 *      rounded up to whole MiB (undo: destroy it);
 *   2. wait for its device;
 *   3. copy the data: raw by the host's copy_in (holes and zero blocks
 *      are not written), qcow2 by qemu-img convert -n --target-is-zero;
 *   4. zfs snapshot ZVOL@base.
 * A raw image that is compressed, archived or at a URL is streamed: the
 * volume is created thin at IMAGE_STREAM_VOLSIZE, the chain (curl, the
 * decompressor, tar -xO; a URL's bytes teed into the hash program) flows
 * into it through copy_in, every program's exit status and the checksum
 * are checked at its end, then "zfs set volsize" gives the volume the
 * image's size in whole MiB, then the snapshot. A qcow2 that is
 * compressed or at a URL is first written (the same chain) to a temporary
 * file in QVM_CACHE_DIR, its free space checked first against the qcow2's
 * virtual size; the file is removed afterwards and by the undo; then it is
 * checked and converted as a local qcow2. An existing ZVOL is an error
 * and is never touched. Any failure, or an interrupt, runs the undo
 * journal. Every effect on the host (zfs, the device, qemu-img) goes
 * through h (host.h), which may be the dry run's: then each step is
 * printed instead, the stream as the shell pipeline that makes it, and
 * the image's body is never read.
 */
#ifndef QVM_IMAGE_H
#define QVM_IMAGE_H

#include <stdbool.h>

#include "host.h"

#define IMAGE_VOLBLOCKSIZE "16K"
/* Where a qcow2 that is not a plain local file is copied to first
 * (QVM_CACHE_DIR). */
#define IMAGE_CACHE_DIR "/var/cache/qvm"
/* A streamed raw image's volume until the stream's end tells its size:
 * thin (refreservation=none), so it costs nothing; then set to the
 * image's size in whole MiB. The most a stream may hold. */
#define IMAGE_STREAM_VOLSIZE (1ULL << 40)

/* The checksum an import must match, over the image as published. */
struct image_expect {
	const char *program;	/* "sha256sum", "sha512sum" */
	const char *kind;	/* "SHA-256", for messages */
	const char *hex;	/* lowercase */
};

/* What the image is checked against: --sha256 HEX or --checksums SUMS
 * (at most one; both NULL: no checksum). */
struct image_sums {
	const char *sha256;
	const char *list;
};

/* Imports image into the new volume zvol on h. here is this machine,
 * where a qcow2 that must be copied first is cached (QVM_CACHE_DIR):
 * host_local, or a dry run of it. */
int image_import(const struct host *h, const struct host *here,
		 const char *image, const char *zvol,
		 const struct image_sums *sums);

#endif
