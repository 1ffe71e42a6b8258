#include "host.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "strvec.h"

void host_say(const struct host *h, const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		abort();	/* out of memory, as xasprintf */
	va_end(ap);
	h->ops->say(h->ctx, s);
	free(s);
}
