/*
 * qvmfile: read and validate a qvm file.
 *
 * A qvm file is one YAML stream of three or four documents, each a mapping
 * with a "qvm" key saying what it is: "vm" (virt-install options plus the
 * disk's zvol), "user-data" and "meta-data" (cloud-init NoCloud), and the
 * optional "network-config". qvmfile_load() checks everything that can be
 * checked without touching the host; every problem is reported once, as
 * "Error importing qvm file PATH: <where>: <what>", naming the document and
 * key, and the call returns -1 having changed nothing.
 *
 * Rules (the man page's QVM FILE section says the same):
 *   - at most QVMFILE_MAX_SIZE bytes; valid YAML, read by YAML 1.1 as
 *     PyYAML (cloud-init) reads it (ynode_kind); an anchor name defined
 *     once per document;
 *   - each document a mapping with a scalar "qvm" key, one of the four
 *     values; vm, user-data and meta-data exactly once, network-config at
 *     most once; no other documents; an empty document is reported at its
 *     start;
 *   - no anchors or aliases in the vm document; in the others none on the
 *     "qvm" key or its value (left out of the seed, they would leave
 *     aliases dangling), and no top-level merge ("<<") bringing in a "qvm"
 *     key; only tags PyYAML's safe_load knows, and no plain "=" or "<<"
 *     other than as a key (cloud-init would drop the file);
 *   - vm: every top-level key one of virt-install 4.1.0's option names,
 *     exactly, and not one vmargs_refused_option() refuses (dry-run,
 *     install media, cloud-init, console, transient, what qvm adds);
 *   - vm: "name" a string (a plain false, null, 1_0 is not) of
 *     1..QVMFILE_MAX_NAME characters from A-Za-z0-9_.:- not starting with
 *     '-' or '.';
 *   - vm: "disk" present: a mapping, or a sequence of mappings; exactly one
 *     of them has a "zvol" mapping, and that one has no "path";
 *   - zvol: "base" a dataset name with a parent (pool/.../name, characters
 *     A-Za-z0-9_.:-, no '@'); "volsize" optional; every other key a zfs
 *     property name ([a-z0-9][a-z0-9_.:-]*) with a scalar value;
 *   - vm option keys match [a-z0-9][a-z0-9_-]*; sub-option keys (inside a
 *     mapping) match [a-z0-9][a-z0-9_.-]*; scalar values hold no control
 *     characters; lists only directly under a top-level key;
 *   - the whole vm document must turn into virt-install arguments
 *     (vmargs.h) without error;
 *   - user-data: with a "payload" key, only "qvm" and "payload", a string
 *     without NUL, which is the seed's user-data byte for byte;
 *   - meta-data without "local-hostname": the name must be an RFC 1123 host
 *     name (it is the default local-hostname).
 */
#ifndef QVM_QVMFILE_H
#define QVM_QVMFILE_H

#include <stddef.h>

#include "strvec.h"
#include "ynode.h"

#define QVMFILE_MAX_SIZE (1024 * 1024)
#define QVMFILE_MAX_NAME 64

enum qvm_doc {
	QVM_DOC_VM,
	QVM_DOC_USER_DATA,
	QVM_DOC_META_DATA,
	QVM_DOC_NETWORK_CONFIG,
	QVM_DOC__COUNT
};

struct qvmfile {
	char *path;
	struct ystream stream;			/* owns every node */
	struct ynode *doc[QVM_DOC__COUNT];	/* network-config may be NULL */

	/* Taken from the vm document, pointing into the tree. */
	const char *name;
	const struct ynode *zvol_disk;	/* the disk mapping holding "zvol" */
	const char *base;		/* zvol base dataset, e.g. tank/debian12 */
	const char *volsize;		/* as written, or NULL */
	struct strvec zvol_props;	/* "key=value" for the other zvol keys */

	/* user-data's "payload", written as is, or NULL. */
	const char *payload;
	size_t payload_len;
};

/* The document names as written after "qvm:" ("vm", "user-data", ...). */
const char *qvm_doc_name(enum qvm_doc d);

/* Reads and validates path into *qf. On failure reports and returns -1;
 * *qf needs no qvmfile_free() then. */
int qvmfile_load(const char *path, struct qvmfile *qf);

/* The same from a buffer; path is only used in messages. */
int qvmfile_parse(const char *path, const char *buf, size_t len,
		  struct qvmfile *qf);

void qvmfile_free(struct qvmfile *qf);

#endif
