#include "host.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "msg.h"
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

void host_real_say(void *ctx, const char *line)
{
	(void)ctx;
	msg_info("%s", line);
}

bool host_real_sees_changes(void *ctx)
{
	(void)ctx;
	return true;
}

void host_real_begin(void *ctx, const char *what)
{
	(void)ctx;
	(void)what;
}
