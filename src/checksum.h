/*
 * checksum: the checksum "qvm image" must find over SOURCE as published,
 * known before anything changes.
 *
 * From --sha256 HEX, or from --checksums SUMS: a checksum list (a path, or
 * an http://, https:// or file:// URL that curl fetches, at most
 * RUN_CAPTURE_MAX bytes) in which sums_find() (sums.h) looks up the
 * image's file name. Reading the list changes nothing, so a dry run reads
 * it too.
 */
#ifndef QVM_CHECKSUM_H
#define QVM_CHECKSUM_H

#include <stddef.h>

#include "image.h"
#include "runner.h"
#include "sums.h"

struct checksum {
	struct sums_entry entry;
	struct image_expect expect;	/* points into entry */
};

/* Exactly one of sha256 and list is non-NULL; name is the image's file
 * name. 0, or -1 with a reason in errbuf ("no entry for NAME in LIST",
 * "downloading LIST: curl: (22) ...", "SHA-256 digest '...': ..."). */
int checksum_expected(const struct runner *r, const char *sha256,
		      const char *list, const char *name, struct checksum *c,
		      char *errbuf, size_t errsize);

#endif
