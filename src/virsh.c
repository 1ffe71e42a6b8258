#include "virsh.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

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

/* n random bytes, or -1 with errno. */
static int random_bytes(unsigned char *buf, size_t n)
{
	size_t got = 0;
	int fd;

	while (got < n) {
		ssize_t k = getrandom(buf + got, n - got, 0);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			break;
		got += (size_t)k;
	}
	if (got == n)
		return 0;
	/* An old kernel without getrandom: the device. */
	fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	for (got = 0; got < n;) {
		ssize_t k = read(fd, buf + got, n - got);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0) {
			int err = k < 0 ? errno : EIO;

			close(fd);
			errno = err;
			return -1;
		}
		got += (size_t)k;
	}
	close(fd);
	return 0;
}

int virsh_new_uuid(char *buf)
{
	unsigned char b[16];
	char *p = buf;

	if (random_bytes(b, sizeof(b)) < 0)
		return -1;
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);	/* version 4 */
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);	/* RFC 4122 variant */
	for (size_t i = 0; i < sizeof(b); i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			*p++ = '-';
		snprintf(p, 3, "%02x", b[i]);
		p += 2;
	}
	return 0;
}

/* The value of dominfo's "Name:" line, malloc'd, or NULL. */
static char *dominfo_name(const char *out)
{
	for (const char *line = out; *line;) {
		size_t len = strcspn(line, "\n");

		if (strncmp(line, "Name:", 5) == 0) {
			const char *v = line + 5;
			size_t n;

			v += strspn(v, " \t");
			n = len - (size_t)(v - line);
			while (n > 0 && (v[n - 1] == ' ' || v[n - 1] == '\t' ||
					 v[n - 1] == '\r'))
				n--;
			return n ? xstrndup(v, n) : NULL;
		}
		line += len;
		if (*line)
			line++;
	}
	return NULL;
}

int virsh_domain_state(const struct runner *r, const char *connect,
		       const char *domain, char *buf, size_t size)
{
	struct strvec argv = STRVEC_INIT;
	struct run_result res = RUN_RESULT_INIT;
	int rc = 1;

	virsh_argv(&argv, connect, "domstate", domain);
	runner_run(r, strvec_argv(&argv), RUN_READS, &res);
	if (res.status != 0) {
		rc = virsh_domain_missing(&res) ? 0 : -1;
		run_result_last_err(&res, buf, size);
	} else {
		size_t n = strcspn(res.out, "\n");

		while (n && (res.out[n - 1] == ' ' || res.out[n - 1] == '\r'))
			n--;
		snprintf(buf, size, "%.*s", (int)n, res.out);
	}
	run_result_clear(&res);
	strvec_clear(&argv);
	return rc;
}

int virsh_domain_lookup(const struct runner *r, const char *connect,
			const char *name, char **found, char *errbuf,
			size_t errsize)
{
	struct strvec argv = STRVEC_INIT;
	struct run_result res;
	int rc;

	*found = NULL;
	virsh_argv(&argv, connect, "dominfo", name);
	runner_run(r, strvec_argv(&argv), RUN_READS, &res);
	strvec_clear(&argv);
	if (res.status == 0) {
		*found = dominfo_name(res.out);
		rc = 1;
	} else if (res.status > 0 && res.status < 128 &&
		   virsh_domain_missing(&res)) {
		rc = 0;
	} else {
		run_result_last_err(&res, errbuf, errsize);
		rc = -1;
	}
	run_result_clear(&res);
	return rc;
}

int virsh_domain_remove(const struct runner *r, const char *connect,
			const char *domain, enum virsh_stop stop,
			struct run_result *res, const char **step)
{
	struct strvec argv = STRVEC_INIT;
	int status = 0;

	*res = (struct run_result)RUN_RESULT_INIT;
	if (stop != VIRSH_STOP_NONE) {
		*step = "stop";
		virsh_argv(&argv, connect, "destroy", domain);
		status = runner_run(r, strvec_argv(&argv), RUN_CHANGES, res);
		strvec_clear(&argv);
		if (status != 0 && stop == VIRSH_STOP_MUST &&
		    !strstr(res->err, "not running"))
			return status;
		run_result_clear(res);
	}
	*step = "undefine";
	virsh_argv(&argv, connect, "undefine", domain);
	strvec_push(&argv, "--nvram");
	status = runner_run(r, strvec_argv(&argv), RUN_CHANGES, res);
	strvec_clear(&argv);
	return status;
}
