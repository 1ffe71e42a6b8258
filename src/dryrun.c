#include "dryrun.h"

#include <string.h>

#include "strvec.h"

/* Characters that never need quoting in a POSIX shell word. */
static int is_safe(const char *s)
{
	if (!*s)
		return 0;
	return strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			 "0123456789@%+=:,./_-") == strlen(s);
}

static void print_word(FILE *out, const char *s)
{
	if (is_safe(s)) {
		fputs(s, out);
		return;
	}
	fputc('\'', out);
	for (; *s; s++) {
		if (*s == '\'')
			fputs("'\\''", out);
		else
			fputc(*s, out);
	}
	fputc('\'', out);
}

void dryrun_print(FILE *out, const char *const *argv)
{
	for (const char *const *a = argv; *a; a++) {
		if (a != argv)
			fputc(' ', out);
		print_word(out, *a);
	}
	fputc('\n', out);
	fflush(out);
}

void dryrun_print_write(FILE *out, const char *path, const char *data)
{
	fputs("printf %s ", out);
	/* Even an empty file: '' is a word. */
	print_word(out, data);
	fputs(" > ", out);
	print_word(out, path);
	fputc('\n', out);
	fflush(out);
}

int dryrun_run(void *ctx, const char *const *argv, enum run_effect effect,
	       struct run_result *res)
{
	struct dryrun *d = ctx;

	if (effect == RUN_READS)
		return d->reader->run(d->reader->ctx, argv, effect, res);
	dryrun_print(d->out, argv);
	res->out = xstrdup("");
	res->err = xstrdup("");
	res->status = 0;
	return 0;
}
