/*
 * dryrun: the runner behind "qvm --dry-run".
 *
 * Commands that only read the system run for real (through the runner in
 * ->reader), so the checks are genuine; commands that would change it are
 * printed, shell-quoted so they can be pasted, and reported as successful
 * with empty output.
 */
#ifndef QVM_DRYRUN_H
#define QVM_DRYRUN_H

#include <stdio.h>

#include "runner.h"

struct dryrun {
	FILE *out;
	const struct runner *reader;
};

int dryrun_run(void *ctx, const char *const *argv, enum run_effect effect,
	       struct run_result *res);

/* Writes argv as one shell-quoted line (with a newline). */
void dryrun_print(FILE *out, const char *const *argv);

#endif
