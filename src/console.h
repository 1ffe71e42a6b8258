/*
 * console: what cloud-init said on a guest's serial console.
 *
 * libvirt logs the console to a file (the VM's console.log). This module
 * reads that file as it grows and keeps what qvm's wait needs:
 *
 *   - whether cloud-init has finished: its final message, "Cloud-init v.
 *     VERSION finished at ...  Up N seconds" (the default final_message;
 *     a user-data that replaces final_message is never seen as finished);
 *   - what failed, in cloud-init's own words: "Running module NAME (...)
 *     failed", "Failed to run module ...", "Failed running ...", and every
 *     [ERROR] or [CRITICAL] line of cloud-init's (file.py[LEVEL]: ...);
 *   - the guest's addresses, from the "Net device info" table cloud-init
 *     prints with ci-info: prefixes (every address but loopback, host and
 *     link scope, without its prefix length).
 *
 * The kernel and systemd may prefix lines ("[  18.9] cloud-init[777]: "),
 * carriage returns end lines too, and lines from other writers interleave:
 * every pattern is searched for within the line. Memory is bounded: a line
 * longer than CONSOLE_LINE_MAX is passed over whole (none of the lines above
 * is that long), and at most CONSOLE_KEEP_MAX failures and addresses are
 * kept (the number seen is counted).
 *
 * console_line() is pure: one line in, the status updated. console_read()
 * feeds it what was appended to the file since its last call, read on
 * host h (host.h); when the file became shorter (a new log), it starts
 * again from its beginning. It only reads that file.
 */
#ifndef QVM_CONSOLE_H
#define QVM_CONSOLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "host.h"
#include "strvec.h"

#define CONSOLE_LINE_MAX 4096
#define CONSOLE_KEEP_MAX 16

struct console_status {
	bool finished;		/* cloud-init's final message was seen */
	double up;		/* its "Up N seconds", or -1 */
	struct strvec failures;	/* what failed, oldest first */
	size_t n_failures;	/* how many were seen (may exceed failures.n) */
	struct strvec addresses;	/* the guest's addresses, no repeats */
	/* inside the Net device info table: the Address and Scope columns */
	bool in_table;
	int col_address, col_scope, col_device;
};

#define CONSOLE_STATUS_INIT { false, -1, STRVEC_INIT, 0, STRVEC_INIT, \
			      false, -1, -1, -1 }

void console_line(struct console_status *st, const char *line);
void console_status_clear(struct console_status *st);

struct console_reader {
	uint64_t off;			/* read up to here */
	char line[CONSOLE_LINE_MAX];	/* an unfinished last line */
	size_t len;
	bool overlong;			/* passing over a long line */
};

#define CONSOLE_READER_INIT { 0, "", 0, false }

/* Reads what path gained since the last call. Returns 0, or -1 with a
 * message in errbuf ("PATH: No such file or directory") and errno set. */
int console_read(struct console_reader *cr, const struct host *h,
		 const char *path, struct console_status *st, char *errbuf,
		 size_t errsize);

#endif
