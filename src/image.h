/*
 * image: "qvm image CLOUD_IMAGE ZVOL".
 *
 * Reads the image's format from its header (raw or qcow2), then, each
 * step with its undo:
 *   1. zfs create -V SIZE -o volblocksize=16K -o refreservation=none
 *      (plus qvm's ownership tags) ZVOL, SIZE the image's virtual size
 *      rounded up to whole MiB (undo: destroy it);
 *   2. wait for its device;
 *   3. copy the data: raw by copy_sparse() (holes and zero blocks are not
 *      written), qcow2 by qemu-img convert -n --target-is-zero;
 *   4. zfs snapshot ZVOL@base.
 * An existing ZVOL is an error and is never touched. Any failure, or an
 * interrupt, runs the undo journal.
 */
#ifndef QVM_IMAGE_H
#define QVM_IMAGE_H

#include <stdbool.h>

#include "runner.h"

#define IMAGE_VOLBLOCKSIZE "16K"
#define IMAGE_SNAPSHOT "base"

int image_import(const struct runner *r, const char *image, const char *zvol,
		 bool dry_run);

#endif
