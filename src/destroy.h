/*
 * destroy: "qvm destroy [-c URI] NAME": remove a VM or an image qvm made.
 *
 * NAME is a VM's name (found by its qvm:name tag) or a dataset. Only a
 * volume carrying qvm's tag (qvm:role) is touched. A VM: its domain is
 * stopped (virsh destroy, if running) and undefined, then its clone is
 * destroyed, then its seed directory removed; the libvirt URI is -c, else
 * the one recorded at creation (qvm:connect), else virsh's default. An
 * image: refused while its @base snapshot has clones (they are listed),
 * else destroyed with its snapshot. Each removal is printed; the first one
 * that fails stops the rest (so a VM is never left without its disk while
 * still defined) and is reported with what remains.
 */
#ifndef QVM_DESTROY_H
#define QVM_DESTROY_H

#include "runner.h"

int destroy_run(const struct runner *r, const char *name,
		const char *connect);

#endif
