/*
 * dryrun: the runner behind "qvm --dry-run".
 *
 * Commands that only read the system run for real (through the runner in
 * ->reader), so the checks are genuine; commands that would change it are
 * printed, shell-quoted so they can be pasted, and reported as successful
 * with empty output. The printed lines, in order, are a script that
 * makes the same change ("sh -n" accepts it; comments start with '#').
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

/* Writes the command that creates the file path holding exactly data:
 *   printf %s 'DATA' > PATH
 * (quoted, so any bytes but NUL come out as they are). */
void dryrun_print_write(FILE *out, const char *path, const char *data);

#endif
