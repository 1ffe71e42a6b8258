#include "device.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "host.h"
#include "msg.h"
#include "signals.h"
#include "strvec.h"
#include "text.h"

#define POLL_FIRST_MS 50u
#define POLL_MAX_MS 250u

const char *device_zvol_dir(void)
{
	const char *dir = getenv("QVM_ZVOL_DIR");

	return dir && *dir ? dir : "/dev/zvol";
}

char *device_path(const char *dataset)
{
	const char *dir = device_zvol_dir();
	size_t len = strlen(dir);

	/* "/dev/zvol/" + "pool/vol" should not read "/dev/zvol//pool/vol"
	 * in messages; keep a lone "/" though. */
	while (len > 1 && dir[len - 1] == '/')
		len--;
	return xasprintf("%.*s/%s", (int)len, dir, dataset);
}

/*
 * Parsed by hand: strtod() would also take "inf", "nan", "1e9", hex
 * floats, leading spaces and the locale's decimal point, none of which a
 * person means by a timeout. Accepts DIGITS[.DIGITS] or .DIGITS; gives
 * milliseconds (at least 1 for a positive value; digits past the third
 * decimal only count towards that). Returns 0, 1 when s is not a positive
 * number, 2 when it is more than DEVICE_TIMEOUT_MAX seconds.
 */
static int parse_seconds(const char *s, unsigned *out)
{
	const uint64_t max_ms = DEVICE_TIMEOUT_MAX * 1000ull;
	uint64_t ms = 0;
	uint64_t scale = 100;
	bool digits = false, nonzero = false;

	for (; *s >= '0' && *s <= '9'; s++) {
		digits = true;
		nonzero = nonzero || *s != '0';
		if (ms <= max_ms)	/* stop growing once it is too big */
			ms = ms * 10 + (uint64_t)(*s - '0') * 1000;
	}
	if (*s == '.') {
		for (s++; *s >= '0' && *s <= '9'; s++) {
			digits = true;
			nonzero = nonzero || *s != '0';
			ms += (uint64_t)(*s - '0') * scale;
			scale /= 10;
		}
	}
	if (*s || !digits || !nonzero)
		return 1;
	if (ms > max_ms)
		return 2;
	*out = ms ? (unsigned)ms : 1;
	return 0;
}

int device_timeout_ms(unsigned *ms, char *errbuf, size_t errsize)
{
	const char *s = getenv("QVM_DEVICE_TIMEOUT");
	char shown[64];
	int rc;

	*ms = DEVICE_TIMEOUT_DEFAULT * 1000u;
	if (!s || !*s)
		return 0;
	rc = parse_seconds(s, ms);
	if (rc == 0)
		return 0;
	*ms = DEVICE_TIMEOUT_DEFAULT * 1000u;
	text_show(shown, sizeof(shown), s, strlen(s), 32);
	if (rc == 2)
		return text_fail(errbuf, errsize, "QVM_DEVICE_TIMEOUT is '%s': "
				 "more than the limit of %u seconds", shown,
				 DEVICE_TIMEOUT_MAX);
	return text_fail(errbuf, errsize, "QVM_DEVICE_TIMEOUT is '%s', not a "
			 "number of seconds (use a positive number up to %u, "
			 "e.g. 30 or 2.5)", shown, DEVICE_TIMEOUT_MAX);
}

int device_timeout_check(const char *task)
{
	char errbuf[256];
	unsigned ms;

	if (device_timeout_ms(&ms, errbuf, sizeof(errbuf)) < 0)
		return msg_error(task, "%s", errbuf);
	return 0;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

int device_wait(const char *path, unsigned timeout_ms)
{
	uint64_t deadline = now_ms() + timeout_ms;
	unsigned delay = POLL_FIRST_MS;
	struct stat st;

	for (;;) {
		uint64_t now, wait;
		struct timespec ts;

		if (signals_pending()) {
			errno = EINTR;
			return -1;
		}
		if (stat(path, &st) == 0) {
			if (S_ISBLK(st.st_mode) || S_ISREG(st.st_mode))
				return 0;
			errno = ENODEV;
			return -1;
		}
		/* ENOENT also covers the pool's directory not being there
		 * yet; anything else (EACCES, ENOTDIR) will not go away. */
		if (errno != ENOENT)
			return -1;

		now = now_ms();
		if (now >= deadline) {
			errno = ETIMEDOUT;
			return -1;
		}
		wait = deadline - now < delay ? deadline - now : delay;
		ts.tv_sec = (time_t)(wait / 1000);
		ts.tv_nsec = (long)(wait % 1000) * 1000000L;
		/* qvm's handlers record the signal, so an interrupted sleep
		 * ends the wait at the check above; any other signal (one
		 * qvm does not handle for rollback) only cuts a poll short. */
		(void)nanosleep(&ts, NULL);
		delay = delay * 2 > POLL_MAX_MS ? POLL_MAX_MS : delay * 2;
	}
}

int device_await(const struct host *h, const char *task, const char *path)
{
	char errbuf[256];
	unsigned ms;

	if (device_timeout_ms(&ms, errbuf, sizeof(errbuf)) < 0)
		return msg_error(task, "%s", errbuf);
	if (h->ops->wait_path(h->ctx, path, ms) == 0)
		return 0;
	if (errno == EINTR)
		return signals_check(task) < 0 ? -1
			: msg_error(task, "interrupted while waiting for %s",
				    path);
	if (errno == ETIMEDOUT)
		return msg_error(task, "%s did not appear within %u s (is udev "
				 "running? QVM_DEVICE_TIMEOUT sets the limit)",
				 path, (ms + 999) / 1000);
	if (errno == ENODEV)
		return msg_error(task, "%s is neither a block device nor a "
				 "file", path);
	return msg_error(task, "cannot reach %s: %s", path, strerror(errno));
}
