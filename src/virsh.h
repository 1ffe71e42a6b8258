/*
 * virsh: the libvirt commands qvm runs, and the identity of the domains it
 * defines.
 *
 * virsh_argv() builds "virsh [-c URI] VERB DOMAIN" (connect may be NULL:
 * virsh's own default). DOMAIN may be a name or a UUID; virsh takes
 * either. virsh_domain_missing() tells from a failed call's stderr that
 * the domain is not defined, which for removal means there is nothing to
 * do.
 *
 * qvm gives each domain it defines a UUID of its own (virsh_new_uuid,
 * passed as virt-install --uuid) and removes it by that UUID, never by
 * name: a domain of the same name that someone else defined cannot be
 * touched by qvm's undo.
 */
#ifndef QVM_VIRSH_H
#define QVM_VIRSH_H

#include <stdbool.h>
#include <stddef.h>

#include "runner.h"
#include "strvec.h"

/* "xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx" and its NUL. */
#define VIRSH_UUID_SIZE 37

void virsh_argv(struct strvec *argv, const char *connect, const char *verb,
		const char *domain);

bool virsh_domain_missing(const struct run_result *res);

/* A random version 4 UUID (RFC 4122) from getrandom(2), else
 * /dev/urandom, into buf (VIRSH_UUID_SIZE bytes). Returns 0, or -1 with
 * errno when no random bytes could be read. */
int virsh_new_uuid(char *buf);

/* Is a domain known to libvirt by NAME? Runs "virsh [-c URI] dominfo
 * NAME" (a read). Returns 1 if one answers, with its own name (as
 * "Name:" shows it; virsh also takes NAME as an id or a UUID) in *found,
 * malloc'd, or NULL if virsh did not show one; 0 if virsh says no domain
 * answers; -1 on any other failure, with virsh's reason in errbuf. */
int virsh_domain_lookup(const struct runner *r, const char *connect,
			const char *name, char **found, char *errbuf,
			size_t errsize);

/* The state of domain (a name or UUID) as "virsh [-c URI] domstate" says
 * it ("running", "shut off", ...; its first line, trailing blanks cut),
 * in buf. Returns 1; 0 if virsh says no such domain; -1 on any other
 * failure, with its reason ("exit status N" or virsh's last line) in
 * buf. */
int virsh_domain_state(const struct runner *r, const char *connect,
		       const char *domain, char *buf, size_t size);

/* How virsh_domain_remove() treats the domain's stop. */
enum virsh_stop {
	VIRSH_STOP_NONE,	/* it does not run: undefine only */
	VIRSH_STOP_TRY,		/* stop it if it runs, whatever virsh says */
	VIRSH_STOP_MUST,	/* stop it; a failure but "not running" stops
				 * the removal */
};

/* Removes domain (a name or UUID) from libvirt: "virsh destroy" as stop
 * says, then "virsh undefine --nvram". Returns 0; or the status of the
 * command that failed, its output in *res (cleared by the caller) and in
 * *step "stop" or "undefine". */
int virsh_domain_remove(const struct runner *r, const char *connect,
			const char *domain, enum virsh_stop stop,
			struct run_result *res, const char **step);

#endif
