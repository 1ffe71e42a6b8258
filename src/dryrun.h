/*
 * dryrun: the host behind "qvm --dry-run" (host.h).
 *
 * What only reads the host (programs run as RUN_READS, exists, read_at)
 * goes to the host in ->reader, for real, so the checks are genuine;
 * everything that would change it is printed instead, shell-quoted so it
 * can be pasted, and reported as successful (programs with empty output).
 * The printed lines, in order, are a script that makes the same change
 * ("sh -n" accepts it; progress lines are comments starting with '#').
 * On another host (via: "ssh -p 2222 host2 --"), each change is printed
 * as that prefix and the command as one quoted word, for the shell there:
 *   ssh -p 2222 host2 -- 'zfs clone -o qvm:role=vm tank/deb@base tank/web1'
 * It touches nothing but its output stream: no file is written anywhere
 * (but for a qcow2 image over SSH: the SSH host copies it there for
 * qemu-img's checks, and removes it at exit).
 */
#ifndef QVM_DRYRUN_H
#define QVM_DRYRUN_H

#include <stdio.h>

#include "host.h"
#include "runner.h"

struct dryrun {
	FILE *out;
	const struct host *reader;
	const char *const *via;	/* the command that runs one there, or
				 * NULL: here (NULL-terminated) */
	struct runner runner;	/* dryrun_run on this */
	struct host host;	/* the dry host: use this */
};

/* Sets up d to print to out and read through reader, here (via NULL). */
void dryrun_init(struct dryrun *d, FILE *out, const struct host *reader);

int dryrun_run(void *ctx, const char *const *argv, enum run_effect effect,
	       struct run_result *res);

/* How the shell command line would be typed here to run on h: itself,
 * or, for a dry run of another host, "ssh -p 2222 host2 -- 'LINE'"
 * (malloc'd). For a pipeline that runs here and ends there. */
char *dryrun_there(const struct host *h, const char *line);

/* Writes argv as one shell-quoted line (with a newline). */
void dryrun_print(FILE *out, const char *const *argv);

/* Writes the command that creates the file path holding exactly data:
 *   printf %s 'DATA' > PATH
 * (quoted, so any bytes but NUL come out as they are). */
void dryrun_print_write(FILE *out, const char *path, const char *data);

#endif
