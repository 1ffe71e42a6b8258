/*
 * device: where a zvol's block device is, and waiting for it to appear.
 *
 * zvol devices live under QVM_ZVOL_DIR (default /dev/zvol) as POOL/NAME.
 * udev creates them asynchronously after "zfs create -V" or "zfs clone"
 * returns, so device_wait() polls. A regular file is accepted as well as a
 * block device (the zfs test double's devices are files).
 *
 * It touches nothing: device_wait() only looks at the local path it is
 * given; device_await() looks through a host.
 */
#ifndef QVM_DEVICE_H
#define QVM_DEVICE_H

#include <stddef.h>

#define DEVICE_TIMEOUT_DEFAULT 30	/* seconds */
#define DEVICE_TIMEOUT_MAX 3600u	/* seconds */

/* QVM_ZVOL_DIR, or /dev/zvol. */
const char *device_zvol_dir(void);

/* malloc'd "ZVOL_DIR/DATASET". */
char *device_path(const char *dataset);

/* QVM_DEVICE_TIMEOUT (seconds: a positive number, fractions allowed, at
 * most DEVICE_TIMEOUT_MAX) as milliseconds in *ms; unset or empty, it is
 * DEVICE_TIMEOUT_DEFAULT. Returns 0, or -1 with *ms the default and the
 * reason, naming the variable and its value, in errbuf. */
int device_timeout_ms(unsigned *ms, char *errbuf, size_t errsize);

/* device_timeout_ms() reported under task: for checking the variable
 * before anything is changed. Returns 0 or -1. */
int device_timeout_check(const char *task);

/* Polls (every 50 ms at first, then up to every 250 ms) until path exists
 * as a block device or regular file. Returns 0, or -1 with errno:
 * ETIMEDOUT after timeout_ms; EINTR if signals_pending(); ENODEV if path
 * exists but is neither. */
int device_wait(const char *path, unsigned timeout_ms);

/* The wait of host h (host.h: device_wait() on the local host) with
 * device_timeout_ms(), reporting under task why the device is not there
 * ("did not appear within N s", interrupted, not a device) or that
 * QVM_DEVICE_TIMEOUT is invalid. Returns 0 or -1. */
struct host;
int device_await(const struct host *h, const char *task, const char *path);

#endif
