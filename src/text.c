#include "text.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "strvec.h"

/* What replaces the middle of a message too long for its buffer. */
#define CUT " [...] "

int text_fail(char *errbuf, size_t errsize, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (!errbuf || !errsize)
		return -1;
	va_start(ap, fmt);
	n = vsnprintf(errbuf, errsize, fmt, ap);
	va_end(ap);
	if (n >= 0 && (size_t)n >= errsize && errsize > 2 * sizeof(CUT)) {
		/* Too long (a long URL in it, say): its start says what,
		 * its end why; the middle gives way, visibly. */
		char *all = malloc((size_t)n + 1);
		size_t head = (errsize - sizeof(CUT)) / 2;
		size_t tail = errsize - sizeof(CUT) - head;

		if (!all) {
			memcpy(errbuf + errsize - 4, "...", 4);
			return -1;
		}
		va_start(ap, fmt);
		vsnprintf(all, (size_t)n + 1, fmt, ap);
		va_end(ap);
		memcpy(errbuf, all, head);
		memcpy(errbuf + head, CUT, sizeof(CUT) - 1);
		memcpy(errbuf + head + sizeof(CUT) - 1, all + (size_t)n - tail,
		       tail);
		errbuf[errsize - 1] = '\0';
		free(all);
	}
	return -1;
}

const char *text_show(char *dst, size_t size, const char *s, size_t len,
		      size_t max)
{
	size_t o = 0;

	for (size_t i = 0; i < len && o + 8 < size; i++) {
		unsigned char c = (unsigned char)s[i];

		if (i == max) {
			memcpy(dst + o, "...", 3);
			o += 3;
			break;
		}
		if (c == '\n' || c == '\t') {
			dst[o++] = '\\';
			dst[o++] = c == '\n' ? 'n' : 't';
		} else if (c < 0x20 || c == 0x7f) {
			o += (size_t)snprintf(dst + o, size - o, "\\x%02x", c);
		} else {
			dst[o++] = (char)c;
		}
	}
	if (size)
		dst[o] = '\0';
	return dst;
}

size_t text_split(char *line, char sep, char **fields, size_t max)
{
	size_t n = 0;

	for (char *p = line; n < max; n++) {
		fields[n] = p;
		p = strchr(p, sep);
		if (!p)
			return n + 1;
		*p++ = '\0';
	}
	return n;
}

const char *text_utc(time_t t, char *buf, size_t size)
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
	return buf;
}

const char *text_random_hex(char *buf, size_t n)
{
	unsigned char r[16] = { 0 };
	ssize_t got;

	if (n > sizeof(r))
		n = sizeof(r);
	do
		got = getrandom(r, n, 0);
	while (got < 0 && errno == EINTR);
	if (got != (ssize_t)n) {
		/* Unique enough on one host: the time and our pid. */
		unsigned long v = (unsigned long)time(NULL) ^
				  ((unsigned long)getpid() << 20);

		memcpy(r, &v, n < sizeof(v) ? n : sizeof(v));
	}
	for (size_t i = 0; i < n; i++)
		snprintf(buf + 2 * i, 3, "%02x", r[i]);
	buf[2 * n] = '\0';
	return buf;
}

/* Characters that never need quoting in a POSIX shell word. */
static int shell_safe(const char *s)
{
	if (!*s)
		return 0;
	return strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			 "0123456789@%+=:,./_-") == strlen(s);
}

char *text_shell_quote(const char *s)
{
	size_t n = 3;
	char *q, *p;

	if (shell_safe(s))
		return xstrdup(s);
	for (const char *c = s; *c; c++)
		n += *c == '\'' ? 4 : 1;
	q = p = xmalloc(n);
	*p++ = '\'';
	for (; *s; s++) {
		if (*s == '\'') {
			memcpy(p, "'\\''", 4);
			p += 4;
		} else {
			*p++ = *s;
		}
	}
	*p++ = '\'';
	*p = '\0';
	return q;
}

char *text_shell_join(const char *const *argv)
{
	struct strvec words = STRVEC_INIT;
	size_t n = 1;
	char *line, *p;

	for (const char *const *a = argv; *a; a++) {
		char *w = text_shell_quote(*a);

		n += strlen(w) + 1;
		strvec_push(&words, w);
		free(w);
	}
	line = p = xmalloc(n);
	*p = '\0';
	for (size_t i = 0; i < words.n; i++) {
		size_t len = strlen(words.v[i]);

		if (i)
			*p++ = ' ';
		memcpy(p, words.v[i], len);
		p += len;
	}
	*p = '\0';
	strvec_clear(&words);
	return line;
}

char *text_url_shown(const char *url)
{
	const char *sep = strstr(url, "://");
	const char *host, *end, *at, *colon;
	char *shown;

	if (!sep)
		return xstrdup(url);
	host = sep + 3;
	end = host + strcspn(host, "/?#");
	at = NULL;
	for (const char *p = host; p < end; p++)
		if (*p == '@')
			at = p;
	if (!at)
		return xstrdup(url);
	colon = memchr(host, ':', (size_t)(at - host));
	if (!colon)
		return xstrdup(url);	/* a user name alone is no secret */
	shown = xmalloc(strlen(url) + 4);
	memcpy(shown, url, (size_t)(colon + 1 - url));
	strcpy(shown + (colon + 1 - url), "***");
	strcat(shown, at);
	return shown;
}
