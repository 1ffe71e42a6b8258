/*
 * list: "qvm list [-H]": what qvm made, straight from ZFS (no state file).
 *
 * One line per volume carrying qvm's tag: images (qvm:role=image with an
 * @base snapshot) and VMs (qvm:role=vm, clones of an image): dataset, role,
 * VM name, origin, volsize, used, creation time. With scripted, fields are
 * tab-separated, sizes in bytes, and there is no header.
 */
#ifndef QVM_LIST_H
#define QVM_LIST_H

#include <stdbool.h>

#include "runner.h"

int list_run(const struct runner *r, bool scripted);

#endif
