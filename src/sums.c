#include "sums.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "text.h"

/* Names from a list are shown cut after this many characters. */
#define SHOW_MAX 120
#define SHOW_SIZE (4 * SHOW_MAX + 16)

static const size_t digits[] = { [SUMS_SHA256] = 64, [SUMS_SHA512] = 128 };

const char *sums_program(enum sums_kind kind)
{
	return kind == SUMS_SHA512 ? "sha512sum" : "sha256sum";
}

const char *sums_kind_name(enum sums_kind kind)
{
	return kind == SUMS_SHA512 ? "SHA-512" : "SHA-256";
}

/* A piece of the list's text, not NUL-terminated. */
struct span {
	const char *s;
	size_t n;
};

static bool is_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
	       (c >= 'A' && c <= 'F');
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static char lower(char c)
{
	return c >= 'A' && c <= 'F' ? (char)(c - 'A' + 'a') : c;
}

static bool starts_with(struct span l, const char *prefix)
{
	size_t n = strlen(prefix);

	return l.n >= n && memcmp(l.s, prefix, n) == 0;
}

static bool span_is(struct span l, const char *s)
{
	return l.n == strlen(s) && memcmp(l.s, s, l.n) == 0;
}

static struct span trim_end(struct span l)
{
	while (l.n && is_blank(l.s[l.n - 1]))
		l.n--;
	return l;
}

int sums_from_hex(const char *hex, enum sums_kind kind,
		  struct sums_entry *out, char *errbuf, size_t errsize)
{
	char shown[SHOW_SIZE];
	size_t want = digits[kind];
	size_t n = strnlen(hex, 1024);

	text_show(shown, sizeof(shown), hex, n, SHOW_MAX);
	for (size_t i = 0; i < n; i++)
		if (!is_hex(hex[i]))
			return text_fail(errbuf, errsize,
					 "%s is not a %s digest: character %zu is not a hexadecimal digit",
					 shown, sums_kind_name(kind), i + 1);
	if (n != want)
		return text_fail(errbuf, errsize,
				 "%s is not a %s digest: %zu%s hexadecimal digits, not %zu",
				 shown, sums_kind_name(kind), n,
				 n == 1024 ? " or more" : "", want);
	out->kind = kind;
	for (size_t i = 0; i < n; i++)
		out->hex[i] = lower(hex[i]);
	out->hex[n] = '\0';
	return 0;
}

/* The kind the list's own name says (the last path component, without a
 * URL's query), or -1. */
static int list_kind(const char *list_name)
{
	const char *base = strrchr(list_name, '/');
	size_t n;
	bool is256 = false, is512 = false;

	base = base ? base + 1 : list_name;
	n = strlen(base);
	if (strstr(list_name, "://"))
		n = strcspn(base, "?#");
	for (size_t i = 0; i + 6 <= n; i++) {
		if (strncasecmp(base + i, "sha256", 6) == 0)
			is256 = true;
		if (strncasecmp(base + i, "sha512", 6) == 0)
			is512 = true;
	}
	if (is256 == is512)
		return -1;
	return is256 ? SUMS_SHA256 : SUMS_SHA512;
}

enum line_type {
	LINE_SKIP,	/* blank, comment, or neither format */
	LINE_ENTRY,	/* a SHA-256 or SHA-512 entry */
	LINE_OTHER,	/* an entry of another hash (MD5, SHA-1, ...) */
	LINE_BAD,	/* shaped like an entry, but unreadable */
};

struct line {
	enum line_type type;
	enum sums_kind kind;
	struct span hex;
	struct span name;
	bool escaped;		/* the name has \\, \n, \r escapes */
	const char *other;	/* LINE_OTHER: the hash's name */
	char why[96];		/* LINE_BAD: what is wrong */
};

struct alg_name {
	const char *name;
	int kind;		/* enum sums_kind, or -1 */
};

static const struct alg_name bsd_algs[] = {
	{ "SHA256", SUMS_SHA256 },  { "SHA-256", SUMS_SHA256 },
	{ "SHA2-256", SUMS_SHA256 }, { "SHA512", SUMS_SHA512 },
	{ "SHA-512", SUMS_SHA512 }, { "SHA2-512", SUMS_SHA512 },
	{ "MD5", -1 },		    { "SHA1", -1 },
	{ "SHA224", -1 },	    { "SHA384", -1 },
	{ "BLAKE2b", -1 },	    { "SM3", -1 },
};

/* Whether every character of the digest is a hex digit; if not, the line
 * is LINE_BAD with the position. */
static bool digest_is_hex(struct line *l)
{
	for (size_t i = 0; i < l->hex.n; i++)
		if (!is_hex(l->hex.s[i])) {
			l->type = LINE_BAD;
			snprintf(l->why, sizeof(l->why),
				 "the digest is not hexadecimal (character %zu)",
				 i + 1);
			return false;
		}
	return true;
}

/* Checks a digest of a known kind; LINE_BAD with a reason if it is not. */
static void check_digest(struct line *l)
{
	size_t want = digits[l->kind];

	if (!digest_is_hex(l))
		return;
	if (l->hex.n != want) {
		l->type = LINE_BAD;
		snprintf(l->why, sizeof(l->why),
			 "a %s digest of %zu hexadecimal digits, not %zu",
			 sums_kind_name(l->kind), l->hex.n, want);
		return;
	}
	l->type = LINE_ENTRY;
}

/* "ALG (NAME) = HEX" or "ALG(NAME)= HEX": true if the line has that
 * shape, l filled. NAME may hold parentheses: it ends at the last ')'. */
static bool parse_bsd(struct span s, struct line *l)
{
	size_t a = 0, open, close, end;

	while (a < s.n && (s.s[a] == '-' || (s.s[a] >= '0' && s.s[a] <= '9') ||
			   ((s.s[a] | 0x20) >= 'a' && (s.s[a] | 0x20) <= 'z')))
		a++;
	open = a;
	if (open < s.n && s.s[open] == ' ')
		open++;
	if (a == 0 || open >= s.n || s.s[open] != '(')
		return false;
	s = trim_end(s);
	end = s.n;
	while (end > open && !is_blank(s.s[end - 1]) && s.s[end - 1] != '=')
		end--;
	l->hex = (struct span){ s.s + end, s.n - end };
	while (end > open && is_blank(s.s[end - 1]))
		end--;
	if (end <= open || s.s[end - 1] != '=')
		return false;
	end--;
	while (end > open && is_blank(s.s[end - 1]))
		end--;
	if (end <= open + 1 || s.s[end - 1] != ')')
		return false;
	close = end - 1;
	l->name = (struct span){ s.s + open + 1, close - open - 1 };
	for (size_t i = 0; i < sizeof(bsd_algs) / sizeof(bsd_algs[0]); i++) {
		const char *n = bsd_algs[i].name;

		if (strlen(n) != a || strncasecmp(s.s, n, a) != 0)
			continue;
		if (bsd_algs[i].kind < 0) {
			l->type = LINE_OTHER;
			l->other = n;
			return true;
		}
		l->kind = (enum sums_kind)bsd_algs[i].kind;
		check_digest(l);
		return true;
	}
	l->type = LINE_BAD;
	snprintf(l->why, sizeof(l->why), "an unknown hash \"%.*s\"",
		 (int)(a > 32 ? 32 : a), s.s);
	return true;
}

/* "HEX  NAME", "HEX *NAME" or "HEX NAME". */
static void parse_gnu(struct span s, struct line *l)
{
	size_t t = 0;

	while (t < s.n && !is_blank(s.s[t]))
		t++;
	if (t == 0 || t + 1 >= s.n)
		return;		/* one word: not an entry */
	l->hex = (struct span){ s.s, t };
	t++;
	if (s.s[t] == ' ' || s.s[t] == '*')
		t++;
	if (t >= s.n)
		return;
	l->name = (struct span){ s.s + t, s.n - t };
	if (!digest_is_hex(l))
		return;
	switch (l->hex.n) {
	case 64:
		l->kind = SUMS_SHA256;
		l->type = LINE_ENTRY;
		return;
	case 128:
		l->kind = SUMS_SHA512;
		l->type = LINE_ENTRY;
		return;
	case 32:
		l->other = "MD5";
		break;
	case 40:
		l->other = "SHA-1";
		break;
	case 56:
		l->other = "SHA-224";
		break;
	case 96:
		l->other = "SHA-384";
		break;
	default:
		l->type = LINE_BAD;
		snprintf(l->why, sizeof(l->why),
			 "a digest of %zu hexadecimal digits, neither 64 (SHA-256) nor 128 (SHA-512)",
			 l->hex.n);
		return;
	}
	l->type = LINE_OTHER;
}

static void parse_line(struct span s, struct line *l)
{
	memset(l, 0, sizeof(*l));
	l->type = LINE_SKIP;
	while (s.n && is_blank(*s.s)) {
		s.s++;
		s.n--;
	}
	if (!s.n || *s.s == '#')
		return;
	if (*s.s == '\\') {
		l->escaped = true;
		s.s++;
		s.n--;
	}
	if (!parse_bsd(s, l))
		parse_gnu(s, l);
}

/* 1 if the entry's name (its escapes decoded) is want, after any leading
 * "./"; 0 if not; -1 for an escape sha256sum does not write. */
static int name_is(struct span name, bool escaped, const char *want)
{
	size_t i = 0;
	const char *w = want;

	while (name.n - i >= 2 && name.s[i] == '.' && name.s[i + 1] == '/')
		i += 2;
	for (; i < name.n; i++, w++) {
		char c = name.s[i];

		if (escaped && c == '\\') {
			if (++i == name.n)
				return -1;
			switch (name.s[i]) {
			case '\\':
				break;
			case 'n':
				c = '\n';
				break;
			case 'r':
				c = '\r';
				break;
			default:
				return -1;
			}
		}
		if (!*w || *w != c)
			return 0;
	}
	return *w == '\0';
}

/* The name's last path component, for an entry of another directory. */
static struct span last_component(struct span name)
{
	const char *slash = NULL;

	for (size_t i = 0; i < name.n; i++)
		if (name.s[i] == '/')
			slash = name.s + i;
	if (!slash)
		return (struct span){ name.s + name.n, 0 };
	return (struct span){ slash + 1, (size_t)(name.s + name.n - slash - 1) };
}

struct found {
	bool have;
	size_t line;
	char hex[129];
};

struct search {
	const char *list;
	const char *want;
	int list_kind;
	size_t entries;		/* SHA-256/SHA-512 lines seen */
	struct found found[2];
	size_t other_line;	/* first entry of another hash for want */
	const char *other;
	size_t near_line;	/* first entry for want in another dir */
	struct span near;
};

/* An entry line: -1 with the reason when it is for want and wrong. */
static int take(struct search *sr, const struct line *l, size_t lineno,
		char *errbuf, size_t errsize)
{
	char shown[SHOW_SIZE];
	int is = name_is(l->name, l->escaped, sr->want);
	struct found *f;

	if (l->type == LINE_ENTRY)
		sr->entries++;
	if (is <= 0) {
		if (!sr->near_line &&
		    name_is(last_component(l->name), l->escaped, sr->want) > 0) {
			sr->near_line = lineno;
			sr->near = l->name;
		}
		return 0;
	}
	text_show(shown, sizeof(shown), sr->want, strlen(sr->want), SHOW_MAX);
	if (l->type == LINE_BAD)
		return text_fail(errbuf, errsize,
				 "%s line %zu: the entry for %s is unreadable: %s",
				 sr->list, lineno, shown, l->why);
	if (l->type == LINE_OTHER) {
		if (!sr->other_line) {
			sr->other_line = lineno;
			sr->other = l->other;
		}
		return 0;
	}
	if (sr->list_kind >= 0 && (int)l->kind != sr->list_kind)
		return text_fail(errbuf, errsize,
				 "%s line %zu: a %s digest for %s in a list named for %s",
				 sr->list, lineno, sums_kind_name(l->kind), shown,
				 sums_kind_name((enum sums_kind)sr->list_kind));
	f = &sr->found[l->kind];
	if (f->have) {
		for (size_t i = 0; i < l->hex.n; i++)
			if (lower(l->hex.s[i]) != f->hex[i])
				return text_fail(errbuf, errsize,
						 "%s has two different %s digests for %s (lines %zu and %zu)",
						 sr->list, sums_kind_name(l->kind),
						 shown, f->line, lineno);
		return 0;
	}
	f->have = true;
	f->line = lineno;
	for (size_t i = 0; i < l->hex.n; i++)
		f->hex[i] = lower(l->hex.s[i]);
	f->hex[l->hex.n] = '\0';
	return 0;
}

static int verdict(const struct search *sr, struct sums_entry *out,
		   char *errbuf, size_t errsize)
{
	char shown[SHOW_SIZE], near[SHOW_SIZE];

	for (int k = SUMS_SHA512; k >= SUMS_SHA256; k--)
		if (sr->found[k].have) {
			out->kind = (enum sums_kind)k;
			memcpy(out->hex, sr->found[k].hex, sizeof(out->hex));
			return 0;
		}
	text_show(shown, sizeof(shown), sr->want, strlen(sr->want), SHOW_MAX);
	if (sr->other_line)
		return text_fail(errbuf, errsize,
				 "%s has no SHA-256 or SHA-512 checksum for %s, only %s (line %zu)",
				 sr->list, shown, sr->other, sr->other_line);
	if (!sr->entries)
		return text_fail(errbuf, errsize,
				 "%s holds no SHA-256 or SHA-512 checksums (lines \"HEX  NAME\" or \"SHA256 (NAME) = HEX\")",
				 sr->list);
	if (sr->near_line) {
		text_show(near, sizeof(near), sr->near.s, sr->near.n, SHOW_MAX);
		return text_fail(errbuf, errsize,
				 "no entry for %s in %s (line %zu is for %s, a file in another directory)",
				 shown, sr->list, sr->near_line, near);
	}
	return text_fail(errbuf, errsize, "no entry for %s in %s", shown,
			 sr->list);
}

int sums_find(const char *text, size_t len, const char *list_name,
	      const char *name, struct sums_entry *out, char *errbuf,
	      size_t errsize)
{
	enum { PLAIN, ARMOR_HEADERS, SIGNED, PGP_BLOCK } state = PLAIN;
	struct search sr = { .list = list_name, .want = name };
	const char *p = text, *end = text + len;
	size_t lineno = 0;
	struct line l;

	if (!*name)
		return text_fail(errbuf, errsize,
				 "no file name to look up in %s", list_name);
	sr.list_kind = list_kind(list_name);
	if (len >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0)
		p += 3;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		struct span s = { p, nl ? (size_t)(nl - p) : (size_t)(end - p) };
		struct span t;

		p = nl ? nl + 1 : end;
		lineno++;
		if (s.n && s.s[s.n - 1] == '\r')
			s.n--;
		t = trim_end(s);
		switch (state) {
		case PGP_BLOCK:
			if (starts_with(t, "-----END PGP "))
				state = PLAIN;
			continue;
		case ARMOR_HEADERS:
			if (!t.n)
				state = SIGNED;
			continue;
		case SIGNED:
			if (starts_with(s, "- ")) {
				s.s += 2;
				s.n -= 2;
				goto parse;
			}
			break;
		case PLAIN:
			break;
		}
		if (span_is(t, "-----BEGIN PGP SIGNED MESSAGE-----")) {
			state = ARMOR_HEADERS;
			continue;
		}
		if (starts_with(t, "-----BEGIN PGP ")) {
			state = PGP_BLOCK;
			continue;
		}
parse:
		parse_line(s, &l);
		if (l.type != LINE_SKIP &&
		    take(&sr, &l, lineno, errbuf, errsize) < 0)
			return -1;
	}
	return verdict(&sr, out, errbuf, errsize);
}
