#include "console.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "text.h"

#define MAX_CELLS 8

/* Adds s (len bytes) unless it is there already; counts it either way. */
static void keep(struct strvec *sv, size_t *seen, const char *s, size_t len)
{
	char *copy = xstrndup(s, len);

	for (size_t i = 0; i < sv->n; i++)
		if (strcmp(sv->v[i], copy) == 0) {
			free(copy);
			return;
		}
	if (seen)
		(*seen)++;
	if (sv->n < CONSOLE_KEEP_MAX)
		strvec_push(sv, copy);
	free(copy);
}

/* The text after "file.py[LEVEL]: " when the line has it, else NULL. */
static const char *cloud_init_says(const char *line, const char *level)
{
	char tag[32];
	const char *p;

	snprintf(tag, sizeof(tag), ".py[%s]: ", level);
	p = strstr(line, tag);
	return p ? p + strlen(tag) : NULL;
}

static void note_failure(struct console_status *st, const char *line)
{
	static const char *const levels[] = { "ERROR", "CRITICAL" };
	const char *msg = cloud_init_says(line, "WARNING");
	size_t len;

	if (msg && (strncmp(msg, "Running module ", 15) == 0 ||
		    strncmp(msg, "Failed to run module ", 21) == 0 ||
		    strncmp(msg, "Failed running ", 15) == 0)) {
		/* "Running module X (<module ...>) failed": the name will do. */
		const char *paren = strstr(msg, " (<module ");

		if (strncmp(msg, "Running module ", 15) == 0 && paren) {
			char *what = xasprintf("module %.*s failed",
					       (int)(paren - msg - 15),
					       msg + 15);

			keep(&st->failures, &st->n_failures, what,
			     strlen(what));
			free(what);
			return;
		}
		len = strlen(msg);
		keep(&st->failures, &st->n_failures, msg, len);
		return;
	}
	for (size_t i = 0; i < sizeof(levels) / sizeof(levels[0]); i++) {
		msg = cloud_init_says(line, levels[i]);
		if (msg) {
			keep(&st->failures, &st->n_failures, msg, strlen(msg));
			return;
		}
	}
}

/* "Cloud-init v. 22.4.2 finished at ... Up 45.67 seconds" */
static void note_final(struct console_status *st, const char *line)
{
	const char *p = strstr(line, "Cloud-init v. ");
	const char *up;

	if (!p || !strstr(p, " finished at "))
		return;
	st->finished = true;
	up = strstr(p, " Up ");
	if (up) {
		char *end;
		double d = strtod(up + 4, &end);

		if (end != up + 4 && strncmp(end, " seconds", 8) == 0)
			st->up = d;
	}
}

/* Splits a table row "| a | b |" into trimmed cells, in place. */
static size_t table_cells(char *row, char **cells, size_t max)
{
	size_t n = 0;
	char *p = strchr(row, '|');

	while (p && n < max) {
		char *start = p + 1;
		char *end = strchr(start, '|');

		if (!end)
			break;
		*end = '\0';
		while (*start == ' ' || *start == '\t')
			start++;
		for (char *e = end; e > start && (e[-1] == ' ' || e[-1] == '\t');)
			*--e = '\0';
		cells[n++] = start;
		p = end;
	}
	return n;
}

static void note_table(struct console_status *st, const char *line)
{
	const char *p = strstr(line, "ci-info: ");
	char row[CONSOLE_LINE_MAX];
	char *cells[MAX_CELLS];
	const char *addr;
	size_t n, len;

	if (!p)
		return;
	p += 9;
	/* A title: "+++++Net device info+++++" opens our table, any other
	 * closes it. */
	if (*p == '+' && strspn(p, "+-") < strlen(p)) {
		st->in_table = strstr(p, "Net device info") != NULL;
		st->col_address = st->col_scope = st->col_device = -1;
		return;
	}
	if (!st->in_table || *p != '|')
		return;
	snprintf(row, sizeof(row), "%s", p);
	n = table_cells(row, cells, MAX_CELLS);
	if (st->col_address < 0) {
		for (size_t i = 0; i < n; i++) {
			if (strcmp(cells[i], "Address") == 0)
				st->col_address = (int)i;
			else if (strcmp(cells[i], "Scope") == 0)
				st->col_scope = (int)i;
			else if (strcmp(cells[i], "Device") == 0)
				st->col_device = (int)i;
		}
		return;
	}
	if ((size_t)st->col_address >= n)
		return;
	if (st->col_device >= 0 && (size_t)st->col_device < n &&
	    strcmp(cells[st->col_device], "lo") == 0)
		return;
	if (st->col_scope >= 0 && (size_t)st->col_scope < n &&
	    (strcmp(cells[st->col_scope], "host") == 0 ||
	     strcmp(cells[st->col_scope], "link") == 0))
		return;
	addr = cells[st->col_address];
	len = strcspn(addr, "/");
	if (len == 0 || strcmp(addr, ".") == 0 ||
	    strncmp(addr, "127.", 4) == 0 || strncmp(addr, "::1", len) == 0 ||
	    strncmp(addr, "fe80:", 5) == 0)
		return;
	keep(&st->addresses, NULL, addr, len);
}

void console_line(struct console_status *st, const char *line)
{
	note_final(st, line);
	note_failure(st, line);
	note_table(st, line);
}

void console_status_clear(struct console_status *st)
{
	strvec_clear(&st->failures);
	strvec_clear(&st->addresses);
	*st = (struct console_status)CONSOLE_STATUS_INIT;
}

/* Takes the bytes of buf, line by line, into the reader's line. */
static void feed(struct console_reader *cr, struct console_status *st,
		 const char *buf, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char c = buf[i];

		if (c == '\n' || c == '\r') {
			if (!cr->overlong && cr->len) {
				cr->line[cr->len] = '\0';
				console_line(st, cr->line);
			}
			cr->len = 0;
			cr->overlong = false;
		} else if (cr->overlong) {
			continue;
		} else if (cr->len + 1 >= sizeof(cr->line)) {
			cr->overlong = true;	/* passed over whole */
		} else {
			cr->line[cr->len++] = c ? c : ' ';
		}
	}
}

int console_read(struct console_reader *cr, const struct host *h,
		 const char *path, struct console_status *st, char *errbuf,
		 size_t errsize)
{
	char buf[65536];
	uint64_t size;

	for (;;) {
		ssize_t r = h->ops->read_at(h->ctx, path, cr->off, buf,
					    sizeof(buf), &size);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int err = errno;

			if (err == EINVAL)
				text_fail(errbuf, errsize, "%s: not a regular "
					  "file", path);
			else
				text_fail(errbuf, errsize, "%s: %s", path,
					  strerror(err));
			errno = err;
			return -1;
		}
		if (size < cr->off) {
			/* A new log: read it from the start. */
			*cr = (struct console_reader)CONSOLE_READER_INIT;
			console_status_clear(st);
			continue;
		}
		if (r == 0)
			return 0;
		feed(cr, st, buf, (size_t)r);
		cr->off += (uint64_t)r;
	}
}
