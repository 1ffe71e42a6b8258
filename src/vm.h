/*
 * vm: "qvm vm QVMFILE" and "qvm check QVMFILE".
 *
 * vm_create() validates the file, checks the host (the base snapshot
 * exists and is not the VM's own volume, the clone does not exist, no
 * domain answers to the VM's name on its libvirt, the size is not smaller
 * than the base's), and only then changes anything, in this order, each
 * step with its undo:
 *   1. claim the name: create SEED_DIR/NAME exclusively and build the
 *      seed ISO in it (undo: remove both);
 *   2. zfs clone BASE@base PARENT/NAME with the zvol properties and qvm's
 *      ownership tags, qvm:uuid among them (undo: destroy the clone);
 *   3. wait for the clone's device;
 *   4. virt-install --dry-run (reads only; its complaint is shown);
 *   5. virt-install --uuid UUID, a random UUID of this run's (undo: virsh
 *      destroy and undefine that UUID, never a name; if no domain has it,
 *      there is nothing to undo).
 * Any failure, or an interrupt, runs the undo journal. Every effect goes
 * through the host h (host.h): it touches the seed directory, zfs and
 * libvirt there, and nothing else. On the dry-run host (dryrun.h) the
 * checks run for real, nothing is created or written, and every step is
 * printed instead as a shell command, in order (progress lines as '#'
 * comments): a script that does what the run would; step 4 and the wait
 * are left out there, having nothing to look at.
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

#include "host.h"
#include "seed.h"

#define SEED_DIR_DEFAULT "/var/lib/qvm"

/* QVM_SEED_DIR made absolute against the working directory, or
 * SEED_DIR_DEFAULT; malloc'd. NULL (errno set) when the working directory
 * cannot be read. */
char *vm_seed_dir(void);

int vm_create(const struct host *h, const char *path, unsigned wait);

/* Offline validation only: no zfs, no libvirt. */
int vm_check(const char *path);

#endif
