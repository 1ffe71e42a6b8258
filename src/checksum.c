#include "checksum.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "source.h"
#include "strvec.h"
#include "text.h"

/* The list's text: curl for a URL (as the image), else the file. */
static int read_list(const struct runner *r, const char *list, char **text,
		     size_t *len, char *errbuf, size_t errsize)
{
	struct source where;
	struct strvec argv = STRVEC_INIT;
	struct run_result res;
	char last[512];
	struct stat st;
	ssize_t got = 0;
	int fd, rc;

	if (source_parse(list, &where, errbuf, errsize) < 0)
		return -1;
	if (where.url) {
		source_clear(&where);
		source_curl_argv(&argv, list);
		rc = runner_run(r, strvec_argv(&argv), RUN_READS, &res);
		strvec_clear(&argv);
		if (rc != 0) {
			char *shown = text_url_shown(list);

			text_fail(errbuf, errsize, "downloading %s: %s", shown,
				  run_result_last_err(&res, last,
						      sizeof(last)));
			free(shown);
			run_result_clear(&res);
			return -1;
		}
		*text = res.out;
		*len = res.out_len;
		res.out = NULL;
		run_result_clear(&res);
		return 0;
	}
	source_clear(&where);
	fd = open(list, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd < 0)
		return text_fail(errbuf, errsize, "cannot open %s: %s", list,
				 strerror(errno));
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return text_fail(errbuf, errsize, "%s is not a regular file",
				 list);
	}
	if (st.st_size > RUN_CAPTURE_MAX) {
		close(fd);
		return text_fail(errbuf, errsize, "%s is larger than a "
				 "checksum list can be (%d bytes)", list,
				 RUN_CAPTURE_MAX);
	}
	*text = xmalloc((size_t)st.st_size + 1);
	*len = 0;
	while (*len < (size_t)st.st_size) {
		got = read(fd, *text + *len, (size_t)st.st_size - *len);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			break;
		*len += (size_t)got;
	}
	rc = got < 0 ? errno : 0;
	close(fd);
	(*text)[*len] = '\0';
	if (rc) {
		free(*text);
		return text_fail(errbuf, errsize, "reading %s: %s", list,
				 strerror(rc));
	}
	return 0;
}

int checksum_expected(const struct runner *r, const char *sha256,
		      const char *list, const char *name, struct checksum *c,
		      char *errbuf, size_t errsize)
{
	char *text = NULL;
	size_t len = 0;
	int rc;

	memset(c, 0, sizeof(*c));
	if (sha256) {
		if (sums_from_hex(sha256, SUMS_SHA256, &c->entry, errbuf,
				  errsize) < 0)
			return -1;
	} else {
		if (read_list(r, list, &text, &len, errbuf, errsize) < 0)
			return -1;
		char *shown = text_url_shown(list);

		rc = sums_find(text, len, shown, name, &c->entry, errbuf,
			       errsize);
		free(shown);
		free(text);
		if (rc < 0)
			return -1;
	}
	c->expect.program = sums_program(c->entry.kind);
	c->expect.kind = sums_kind_name(c->entry.kind);
	c->expect.hex = c->entry.hex;
	return 0;
}
