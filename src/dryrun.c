#include "dryrun.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "device.h"
#include "msg.h"
#include "strvec.h"
#include "text.h"

static void print_word(FILE *out, const char *s)
{
	char *q = text_shell_quote(s);

	fputs(q, out);
	free(q);
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

/* "printf %s 'DATA' > PATH", malloc'd. */
static char *write_line(const char *path, const char *data)
{
	/* Even an empty file: '' is a word. */
	char *q = text_shell_quote(data), *p = text_shell_quote(path);
	char *line = xasprintf("printf %%s %s > %s", q, p);

	free(q);
	free(p);
	return line;
}

void dryrun_print_write(FILE *out, const char *path, const char *data)
{
	char *line = write_line(path, data);

	fprintf(out, "%s\n", line);
	free(line);
	fflush(out);
}

/* A change, as it would run where the host is: a shell command line,
 * then tail (local redirections, or NULL). */
static void print_line(struct dryrun *d, const char *line, const char *tail)
{
	if (d->via) {
		for (const char *const *a = d->via; *a; a++) {
			print_word(d->out, *a);
			fputc(' ', d->out);
		}
		print_word(d->out, line);
	} else {
		fputs(line, d->out);
	}
	fprintf(d->out, "%s\n", tail ? tail : "");
	fflush(d->out);
}

static void print_change(struct dryrun *d, const char *const *argv)
{
	char *line = text_shell_join(argv);

	print_line(d, line, NULL);
	free(line);
}

int dryrun_run(void *ctx, const char *const *argv, enum run_effect effect,
	       struct run_result *res)
{
	struct dryrun *d = ctx;
	const struct runner *r = d->reader->runner;

	if (effect == RUN_READS)
		return r->run(r->ctx, argv, effect, res);
	print_change(d, argv);
	res->out = xstrdup("");
	res->err = xstrdup("");
	res->status = 0;
	return 0;
}

/* ---- the dry host ---- */

static void dry_say(void *ctx, const char *line)
{
	struct dryrun *d = ctx;

	fprintf(d->out, "# %s\n", line);
	fflush(d->out);
}

static bool dry_sees_changes(void *ctx)
{
	(void)ctx;
	return false;
}

static int dry_exists(void *ctx, const char *path)
{
	struct dryrun *d = ctx;

	return d->reader->ops->exists(d->reader->ctx, path);
}

static char *mode_word(mode_t mode)
{
	return xasprintf("%04o", (unsigned)mode & 07777);
}

/* Refused as the real mkdir would be when something is there. */
static int dry_make_dir(void *ctx, const char *path, mode_t mode)
{
	struct dryrun *d = ctx;
	int rc = dry_exists(ctx, path);
	char *m;

	if (rc != 0) {
		if (rc > 0)
			errno = EEXIST;
		return -1;
	}
	m = mode_word(mode);
	print_change(d, (const char *const[]){ "mkdir", "-m", m, path,
						    NULL });
	free(m);
	return 0;
}

static int dry_write_file(void *ctx, const char *path, const char *data,
			  size_t len, mode_t mode, char *errbuf,
			  size_t errsize)
{
	struct dryrun *d = ctx;

	/* The script runs under "umask 077": 0600 needs no chmod. */
	(void)mode;
	if (strlen(data) != len)
		return text_fail(errbuf, errsize, "cannot show %s in a dry "
				 "run: it holds NUL bytes", path);
	if (d->via) {
		/* Each ssh runs its own shell: the umask goes with it. */
		char *w = write_line(path, data);
		char *line = xasprintf("umask 077 && %s", w);

		print_line(d, line, NULL);
		free(line);
		free(w);
	} else {
		dryrun_print_write(d->out, path, data);
	}
	return 0;
}

static int dry_set_mode(void *ctx, const char *path, mode_t mode)
{
	struct dryrun *d = ctx;
	char *m = mode_word(mode);

	print_change(d, (const char *const[]){ "chmod", m, path, NULL });
	free(m);
	return 0;
}

static void dry_remove_files(void *ctx, const char *const *paths)
{
	struct dryrun *d = ctx;
	struct strvec argv = STRVEC_INIT;

	if (!*paths)
		return;
	strvec_pushv(&argv, (const char *const[]){ "rm", "--", NULL });
	strvec_pushv(&argv, paths);
	print_change(d, strvec_argv(&argv));
	strvec_clear(&argv);
}

static int dry_remove_dir(void *ctx, const char *dir,
			  const char *const *names, char *errbuf,
			  size_t errsize)
{
	struct dryrun *d = ctx;
	struct strvec argv = STRVEC_INIT;

	(void)errbuf;
	(void)errsize;
	strvec_pushv(&argv, (const char *const[]){ "rm", "-f", "--", NULL });
	for (; *names; names++)
		strvec_pushf(&argv, "%s/%s", dir, *names);
	print_change(d, strvec_argv(&argv));
	strvec_clear(&argv);
	print_change(d, (const char *const[]){ "rmdir", "--", dir,
						    NULL });
	return 0;
}

/* udev makes it: the script waits as qvm would. */
static int dry_wait_path(void *ctx, const char *path, unsigned timeout_ms)
{
	struct dryrun *d = ctx;
	char *secs = xasprintf("%u.%03u", timeout_ms / 1000,
			       timeout_ms % 1000);

	print_change(d, (const char *const[]){
		"timeout", secs, "sh", "-c",
		"until [ -b \"$1\" ] || [ -f \"$1\" ]; do sleep 0.1; done",
		"sh", path, NULL });
	free(secs);
	return 0;
}

/* dd's conv=sparse seeks over all-zero blocks as qvm skips them. */
static int dry_copy_in(void *ctx, const struct copy_source *src,
		       const char *src_name,
		       const char *dest, uint64_t size,
		       struct copy_stats *stats, char *errbuf,
		       size_t errsize)
{
	struct dryrun *d = ctx;
	char *in = xasprintf("if=%s", src_name);
	char *out = xasprintf("of=%s", dest);
	char *bs = xasprintf("bs=%u", COPY_ZERO_BLOCK);

	(void)src;
	(void)errbuf;
	(void)errsize;
	memset(stats, 0, sizeof(*stats));
	stats->size = size;
	fprintf(d->out, "# copy the data of %s to %s (holes and zero blocks "
		"skipped)\n", src_name, dest);
	if (d->via) {
		/* The data goes to it over ssh's standard input. */
		char *q = text_shell_quote(src_name);
		char *tail = xasprintf(" < %s", q);
		char *line = text_shell_join((const char *const[]){
			"dd", out, bs, "iflag=fullblock",
			"conv=sparse,notrunc", "status=none", NULL });

		print_line(d, line, tail);
		free(line);
		free(tail);
		free(q);
	} else {
		print_change(d, (const char *const[]){ "dd", in, out, bs,
						    "conv=sparse,notrunc",
						    "status=none", NULL });
	}
	free(in);
	free(out);
	free(bs);
	return 0;
}

/* Read for real (the checks read it there); over ssh, the copy is
 * printed too, as the script needs it. */
static int dry_file_there(void *ctx, int src_fd, const char *src_name,
			  char **there, char *errbuf, size_t errsize)
{
	struct dryrun *d = ctx;
	FILE *out = msg_out(), *err = msg_err();
	char *q, *tail, *line;
	int rc;

	/* What the copy says is no line of the script: on stderr. */
	msg_set_streams(err, err);
	rc = d->reader->ops->file_there(d->reader->ctx, src_fd, src_name,
					there, errbuf, errsize);
	msg_set_streams(out, err);
	if (rc < 0)
		return -1;
	if (!d->via || strcmp(*there, src_name) == 0)
		return 0;
	q = text_shell_quote(*there);
	line = xasprintf("umask 077 && cat > %s", q);
	free(q);
	q = text_shell_quote(src_name);
	tail = xasprintf(" < %s", q);
	print_line(d, line, tail);
	free(q);
	free(tail);
	free(line);
	return 0;
}

static ssize_t dry_read_at(void *ctx, const char *path, uint64_t off,
			   void *buf, size_t len, uint64_t *size)
{
	struct dryrun *d = ctx;

	return d->reader->ops->read_at(d->reader->ctx, path, off, buf, len,
				       size);
}

static void dry_begin(void *ctx, const char *what)
{
	struct dryrun *d = ctx;

	fprintf(d->out, "# Dry run: these commands would %s\n", what);
	/* As qvm itself runs: what it writes is its user's alone. (Over
	 * ssh, each write says so itself.) */
	if (!d->via)
		print_change(d, (const char *const[]){ "umask", "077",
						       NULL });
}

static void dry_end(void *ctx, const char *done)
{
	(void)done;
	dry_say(ctx, "Dry run: nothing was changed");
}

static const struct host_ops dry_ops = {
	.say = dry_say,
	.sees_changes = dry_sees_changes,
	.exists = dry_exists,
	.make_dir = dry_make_dir,
	.write_file = dry_write_file,
	.set_mode = dry_set_mode,
	.remove_files = dry_remove_files,
	.remove_dir = dry_remove_dir,
	.wait_path = dry_wait_path,
	.copy_in = dry_copy_in,
	.file_there = dry_file_there,
	.read_at = dry_read_at,
	.begin = dry_begin,
	.end = dry_end,
};

void dryrun_init(struct dryrun *d, FILE *out, const struct host *reader)
{
	d->out = out;
	d->reader = reader;
	d->via = NULL;
	d->runner.run = dryrun_run;
	d->runner.ctx = d;
	d->host.runner = &d->runner;
	d->host.ops = &dry_ops;
	d->host.ctx = d;
	d->host.name = reader->name;
}

char *dryrun_there(const struct host *h, const char *line)
{
	const struct dryrun *d = h->ctx;
	struct strvec words = STRVEC_INIT;
	char *text;

	if (h->ops != &dry_ops || !d->via)
		return xstrdup(line);
	for (const char *const *a = d->via; *a; a++)
		strvec_push(&words, *a);
	strvec_push(&words, line);
	text = text_shell_join(strvec_argv(&words));
	strvec_clear(&words);
	return text;
}
