/*
 * owned: find a volume qvm made, by a VM's name or by its dataset, with
 * the tags qvm set on it.
 *
 * owned_resolve() takes NAME as destroy and wait do: a name with a '/' is
 * a dataset, a bare name is a VM's (the one volume whose qvm:role "vm"
 * and qvm:name NAME are set on the volume itself). Snapshots and
 * bookmarks are refused, and so is anything that is not a volume or does
 * not carry qvm:role set locally: snapshots and children inherit user
 * properties, so an inherited tag is not qvm's mark. A VM's qvm:name must
 * be a VM name as qvm gives it. connect (-c), when given, replaces the
 * recorded qvm:connect. Refusals are reported under task, saying what
 * qvm "only VERB"s (e.g. "destroys").
 *
 * It only reads (zfs get).
 */
#ifndef QVM_OWNED_H
#define QVM_OWNED_H

#include "runner.h"

struct owned {
	char *dataset;
	char *role;		/* "vm" or "image" */
	char *vm_name;		/* qvm:name, for VMs */
	char *seed;		/* qvm:seed, or NULL */
	char *connect;		/* -c, qvm:connect, or NULL */
	char *uuid;		/* qvm:uuid, or NULL (volumes made before it) */
	char *console;		/* qvm:console, or NULL (likewise) */
};

int owned_resolve(const struct runner *r, const char *task, const char *verb,
		  const char *name, const char *connect, struct owned *o);
void owned_free(struct owned *o);

#endif
