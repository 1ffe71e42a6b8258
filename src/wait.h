/*
 * wait: until a VM is ready — cloud-init has finished in it — and its
 * addresses.
 *
 * wait_ready() reads the VM's console log (console.h) about once a second
 * and asks libvirt for the domain's state (virsh domstate) each time. It
 * ends when
 *   - cloud-init printed its final message with no failure: one line
 *     "VM NAME ready after N s: ADDRESS..." ("no address" when the guest
 *     showed none and libvirt knows none: virsh domifaddr, lease then arp);
 *     returns 0;
 *   - cloud-init finished with failures: "Error TASK: cloud-init finished
 *     with errors: WHAT; ..." in the guest's words, and where to look;
 *   - the domain stopped or crashed first, or is gone;
 *   - timeout seconds passed;
 *   - qvm was interrupted (signals.h): it stops waiting, nothing else;
 * each of those returns -1. A wait never changes the VM: whatever it says,
 * the VM stays as it is, and the messages say so.
 *
 * wait_vm() is "qvm wait NAME": it finds the VM qvm made (owned.h), and
 * waits for it as above, reading the console log recorded in the volume's
 * qvm:console tag (SEED/console.log on volumes made before the tag) and
 * asking libvirt by the domain's UUID (qvm:uuid; its name on older
 * volumes), on the recorded qvm:connect.
 *
 * It touches nothing but the console log (read), zfs and virsh (reads
 * only), all on the host h (host.h).
 */
#ifndef QVM_WAIT_H
#define QVM_WAIT_H

#include "host.h"

struct wait_target {
	const char *name;	/* the VM, for messages */
	const char *domain;	/* what virsh is given: UUID or name */
	const char *connect;	/* libvirt URI, or NULL */
	const char *console;	/* the console log's path */
	unsigned timeout;	/* seconds */
	double started;		/* wait_now() when the VM was started */
};

#define WAIT_TIMEOUT_DEFAULT 600u

/* CLOCK_MONOTONIC, in seconds. */
double wait_now(void);

int wait_ready(const struct host *h, const struct wait_target *t,
	       const char *task);

int wait_vm(const struct host *h, const char *name, unsigned timeout);

/* The timeout option's value: whole seconds, 1 to 86400. Returns 0, or -1
 * with a message naming the option in errbuf. */
int wait_parse_timeout(const char *s, unsigned *seconds, char *errbuf,
		       size_t errsize);

#endif
