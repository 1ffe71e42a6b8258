#include "virsh.h"

#include <string.h>

void virsh_argv(struct strvec *argv, const char *connect, const char *verb,
		const char *domain)
{
	strvec_push(argv, "virsh");
	if (connect) {
		strvec_push(argv, "-c");
		strvec_push(argv, connect);
	}
	strvec_push(argv, verb);
	strvec_push(argv, domain);
}

bool virsh_domain_missing(const struct run_result *res)
{
	return strstr(res->err, "failed to get domain") ||
	       strstr(res->err, "Domain not found");
}
