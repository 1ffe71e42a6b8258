/*
 * seed: the cloud-init NoCloud seed of a VM, as an ISO image.
 *
 * user-data is "#cloud-config" followed by the user-data document without
 * its "qvm" key, styles and key order kept (ynode_emit), or, when the
 * document has a "payload", that string byte for byte. meta-data is the
 * meta-data document without "qvm", plus "instance-id" and
 * "local-hostname: NAME" where the user gave none (qvmfile made sure
 * NAME is then a valid host name). network-config, when
 * given, is written the same way. The files are written, mode 0600, into
 * the VM's own seed directory (which the caller created for this run, so
 * nothing else is in it, and no temporary directory is needed), and are
 * removed from it on every path once genisoimage has made the ISO (volume
 * id "cidata", Joliet and Rock Ridge) at iso_path, mode 0600 (user-data
 * can hold secrets).
 *
 * It touches, through the host, only the seed directory it is given.
 */
#ifndef QVM_SEED_H
#define QVM_SEED_H

#include <stddef.h>
#include <stdio.h>

#include "host.h"
#include "qvmfile.h"
#include "strvec.h"

/* The files' contents (malloc'd, NUL-terminated), or NULL with errbuf. */
char *seed_user_data(const struct qvmfile *qf, char *errbuf, size_t errsize);
char *seed_meta_data(const struct qvmfile *qf, const char *instance_id,
		     char *errbuf, size_t errsize);
char *seed_network_config(const struct qvmfile *qf, char *errbuf,
			  size_t errsize);

/* "NAME-" and 8 random hex digits, malloc'd. */
char *seed_instance_id(const char *name);

/* genisoimage's argv for the files in dir. */
void seed_iso_argv(struct strvec *argv, const char *iso_path,
		   const char *dir, int with_network_config);

/* Builds the ISO on host h from files written into dir; reports under
 * task and returns -1 on failure (a partial ISO may be left at iso_path:
 * the caller owns its removal). */
int seed_iso_build(const struct host *h, const struct qvmfile *qf,
		   const char *dir, const char *iso_path, const char *task);

/* The files of a VM's seed directory: the ISO, the console log libvirt
 * writes beside it, and any seed file left by an interrupted build. */
#define SEED_ISO_NAME "seed.iso"
#define CONSOLE_LOG_NAME "console.log"

/* Removes those files and the directory (missing ones are fine), which
 * must then be empty: anything else in it is not qvm's, and stays.
 * Returns 0, or -1 with *why (malloc'd) naming the path and the reason. */
int seed_dir_remove(const struct host *h, const char *dir, char **why);

#endif
