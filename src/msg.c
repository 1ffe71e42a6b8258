#include "msg.h"

#include <stdarg.h>

static FILE *out_stream;
static FILE *err_stream;

void msg_set_streams(FILE *out, FILE *err)
{
	out_stream = out;
	err_stream = err;
}

FILE *msg_out(void)
{
	return out_stream ? out_stream : stdout;
}

FILE *msg_err(void)
{
	return err_stream ? err_stream : stderr;
}

int msg_error(const char *task, const char *fmt, ...)
{
	FILE *f = msg_err();
	va_list ap;

	fflush(msg_out());
	fprintf(f, "Error %s: ", task);
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	fputc('\n', f);
	fflush(f);
	return -1;
}

void msg_info(const char *fmt, ...)
{
	FILE *f = msg_out();
	va_list ap;

	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	fputc('\n', f);
	fflush(f);
}
