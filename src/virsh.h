/*
 * virsh: the libvirt commands qvm runs, for its undo and for destroy.
 *
 * virsh_argv() builds "virsh [-c URI] VERB DOMAIN" (connect may be NULL:
 * virsh's own default). virsh_domain_missing() tells from a failed call's
 * stderr that the domain is not defined, which for removal means there
 * is nothing to do.
 */
#ifndef QVM_VIRSH_H
#define QVM_VIRSH_H

#include <stdbool.h>

#include "runner.h"
#include "strvec.h"

void virsh_argv(struct strvec *argv, const char *connect, const char *verb,
		const char *domain);

bool virsh_domain_missing(const struct run_result *res);

#endif
