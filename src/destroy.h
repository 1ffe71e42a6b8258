/*
 * destroy: "qvm destroy [-c URI] NAME": remove a VM or an image qvm made.
 *
 * NAME is a VM's name (found by its qvm:name tag) or a volume; a snapshot
 * is refused. Only a volume with qvm's tag (qvm:role) set on itself is
 * touched: snapshots and children inherit user properties, their tags are
 * not qvm's mark. Everything that can be checked is checked before any
 * change, and a refusal says "nothing was changed":
 *   VM     the volume has no snapshots (qvm makes none; theirs would be
 *          lost, with their clones and holds); the recorded seed is a qvm
 *          seed directory; the domain (virsh domstate) is either not
 *          defined or the VM qvm made: its UUID is the volume's qvm:uuid,
 *          or, on volumes made before that tag, it uses the volume as a
 *          disk (virsh domblklist).
 *   image  its only snapshot is @base; @base has no clones (they are
 *          listed) and no holds.
 * Then a VM's domain is stopped (virsh destroy, if running) and undefined,
 * its volume destroyed and its seed directory removed; the libvirt URI is
 * -c, else the one recorded at creation (qvm:connect), else virsh's
 * default. An image's @base is destroyed, then its volume (never
 * "destroy -r": a snapshot taken meanwhile makes that fail instead of
 * vanishing). Each removal is printed; the first one that fails stops the
 * rest (so a VM is never left without its disk while still defined) and is
 * reported with what remains. It touches zfs, libvirt and the seed
 * directory on the host h (host.h), nothing else.
 */
#ifndef QVM_DESTROY_H
#define QVM_DESTROY_H

#include "host.h"

int destroy_run(const struct host *h, const char *name,
		const char *connect);

#endif
