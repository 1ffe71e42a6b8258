/*
 * vmargs: the vm document of a qvm file -> virt-install's argv. Pure.
 *
 * In document order, for each top-level key K other than "qvm":
 *   K: scalar              --K scalar
 *   K: true | K: (null)    --K
 *   K: false               (nothing)
 * where true, false and null are what YAML 1.1 says (ynode_kind(): yes,
 * on, True, ... are booleans, as cloud-init reads them); a quoted "yes"
 * is the word yes.
 *   K: {a: 1, b: {c: 2}}   --K a=1,b.c=2   (nested mappings: dotted names)
 *   K: [x, {a: 1}]         --K x --K a=1   (once per item)
 * A value starting with '-' is passed as one word, --K=-value, so that
 * virt-install cannot read it as an option of its own.
 * A sub-option value holding a comma, a quote or a backslash is written
 * in double quotes with '"' and '\' escaped by a backslash
 * (a="x,\"y\""): virt-install splits sub-options with Python's shlex,
 * and reads any value back exactly so. Other values, booleans included,
 * are passed as written. A sub-option whose value is null is written as
 * its bare name. The disk holding "zvol" becomes
 * --disk path=ZVOL_DEVICE,<its other options, zvol left out>.
 * Then always: --noautoconsole --import
 *              --disk path=SEED_ISO,device=cdrom
 * The seed is never passed as --cdrom: virt-install would treat the first
 * boot as an installation (on_reboot=destroy), and cloud-init's reboot
 * would kill the VM.
 *
 * argv[0] is "virt-install". On a document it cannot translate (a list
 * inside a sub-option, a sequence of sequences, an alias, an empty
 * mapping) it returns -1
 * and writes the reason, naming the key, to errbuf.
 */
#ifndef QVM_VMARGS_H
#define QVM_VMARGS_H

#include <stddef.h>

#include "strvec.h"
#include "ynode.h"

/* NULL when name (a top-level key of the vm document) may be used: one of
 * virt-install 4.1.0's options, spelled in full, that leaves the run an
 * import qvm can record and undo. Otherwise why not, for a message. */
const char *vmargs_refused_option(const char *name);

int vmargs_build(const struct ynode *vm_doc, const char *zvol_device,
		 const char *seed_iso, struct strvec *argv,
		 char *errbuf, size_t errsize);

#endif
