/*
 * vm: "qvm vm QVMFILE" and "qvm check QVMFILE".
 *
 * vm_create() validates the file, checks the host (the base snapshot
 * exists, the clone does not, the size is not smaller than the base's),
 * and only then changes anything, in this order, each step with its undo:
 *   1. claim the name: create SEED_DIR/NAME exclusively and build the
 *      seed ISO in it (undo: remove both);
 *   2. zfs clone BASE@base PARENT/NAME with the zvol properties and qvm's
 *      ownership tags (undo: destroy the clone);
 *   3. wait for the clone's device;
 *   4. virt-install --dry-run (reads only; its complaint is shown);
 *   5. virt-install (undo: virsh destroy and undefine the domain).
 * Any failure, or an interrupt, runs the undo journal. With dry_run the
 * runner prints what would change instead, and nothing is created.
 *
 * Unless the vm document has a "serial", the VM gets a serial console (a
 * pty: virsh console works) that libvirt logs to SEED_DIR/NAME/console.log.
 * With wait > 0, once the VM exists vm_create() waits up to wait seconds
 * for cloud-init to finish (wait.h), reading that log (or the log of the
 * document's own serial; without one, --wait is refused before any
 * change). A wait that fails leaves the VM as it is.
 */
#ifndef QVM_VM_H
#define QVM_VM_H

#include <stdbool.h>

#include "runner.h"

#define SEED_DIR_DEFAULT "/var/lib/qvm"
#define SEED_ISO_NAME "seed.iso"
#define CONSOLE_LOG_NAME "console.log"

/* QVM_SEED_DIR, or SEED_DIR_DEFAULT. */
const char *vm_seed_dir(void);

int vm_create(const struct runner *r, const char *path, bool dry_run,
	      unsigned wait);

/* Offline validation only: no zfs, no libvirt. */
int vm_check(const char *path);

#endif
