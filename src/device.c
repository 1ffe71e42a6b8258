#include "device.h"

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "msg.h"
#include "signals.h"
#include "strvec.h"

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
 * person means by a timeout. Accepts DIGITS[.DIGITS] or .DIGITS; returns
 * milliseconds (at least 1 for a positive value, at most UINT_MAX), or 0
 * when s is not a positive number.
 */
static unsigned parse_seconds(const char *s)
{
	uint64_t ms = 0;
	uint64_t scale = 100;
	bool digits = false, nonzero = false;

	for (; *s >= '0' && *s <= '9'; s++) {
		digits = true;
		nonzero = nonzero || *s != '0';
		if (ms <= UINT_MAX)	/* stop growing once it is too big */
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
		return 0;
	if (ms > UINT_MAX)
		return UINT_MAX;
	return ms ? (unsigned)ms : 1;
}

unsigned device_timeout_ms(void)
{
	const char *s = getenv("QVM_DEVICE_TIMEOUT");
	unsigned ms = s ? parse_seconds(s) : 0;

	return ms ? ms : DEVICE_TIMEOUT_DEFAULT * 1000u;
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

int device_await(const char *task, const char *path)
{
	unsigned ms = device_timeout_ms();

	if (device_wait(path, ms) == 0)
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
