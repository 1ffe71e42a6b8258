/*
 * list: "qvm list [-H]": what qvm made, straight from ZFS (no state file).
 *
 * One line per volume whose qvm:role is set on itself (zfs get -s local;
 * snapshots and children inherit it and are not listed): images
 * (qvm:role=image, with an @base snapshot) and VMs (qvm:role=vm, clones of
 * an image): dataset, role, VM name, origin, volsize, used, creation time,
 * and a VM's domain state: what "virsh domstate" says of the domain with
 * the volume's qvm:uuid (its name on older volumes) on its qvm:connect
 * ("running", "shut off", ...), "missing" when libvirt has no such domain,
 * "unknown" when libvirt cannot be asked; "-" for images.
 * zfs is asked about volumes only and the columns shown (plus, per image,
 * whether IMAGE@base exists), never for every snapshot on the host. With
 * scripted, fields are tab-separated, sizes in bytes, and there is no
 * header. It only reads: zfs and virsh on the host h (host.h).
 */
#ifndef QVM_LIST_H
#define QVM_LIST_H

#include <stdbool.h>

#include "host.h"

int list_run(const struct host *h, bool scripted);

#endif
