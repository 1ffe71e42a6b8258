/*
 * tags: qvm's mark on what it makes, in one place.
 *
 * qvm keeps no state file: ZFS user properties on each volume it makes
 * say what it is (set on the volume itself; its snapshots and children
 * inherit them, and inherited ones are never qvm's mark). Every module
 * that sets or reads them names them from here, and an image's snapshot,
 * the one VMs are cloned from, is always DATASET@TAG_BASE_SNAPSHOT.
 * A header of constants: it touches nothing.
 */
#ifndef QVM_TAGS_H
#define QVM_TAGS_H

#define TAG_ROLE	"qvm:role"	/* ROLE_VM or ROLE_IMAGE */
#define TAG_NAME	"qvm:name"	/* a VM's name */
#define TAG_CREATED	"qvm:created"	/* UTC, when qvm made it */
#define TAG_RUN		"qvm:run"	/* the run that made it */
#define TAG_UUID	"qvm:uuid"	/* a VM's domain */
#define TAG_SEED	"qvm:seed"	/* a VM's seed directory */
#define TAG_CONNECT	"qvm:connect"	/* a VM's libvirt URI */
#define TAG_CONSOLE	"qvm:console"	/* a VM's console log */

#define ROLE_VM		"vm"
#define ROLE_IMAGE	"image"

/* Without "@": "pool/img" TAG_AT_BASE is the snapshot's name. */
#define TAG_BASE_SNAPSHOT	"base"
#define TAG_AT_BASE		"@" TAG_BASE_SNAPSHOT

#endif
