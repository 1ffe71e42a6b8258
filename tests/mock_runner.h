/*
 * mock_runner: a scripted runner for cmocka tests.
 *
 * Each test scripts the external commands it expects, in order, with what
 * each prints and returns; the mock fails the test on any call that was not
 * expected next (showing both command lines), and mock_runner_verify()
 * fails it if expected calls never came. An expected argument "*" matches
 * any argument. A status of -1 imitates a spawn failure (ENOENT), exactly as
 * the real runner reports it. It keeps the same return contract as
 * runner_real.
 */
#ifndef QVM_MOCK_RUNNER_H
#define QVM_MOCK_RUNNER_H

#include "host.h"
#include "runner.h"

extern const struct runner mock_runner;

/* The local host running programs through mock_runner. */
extern const struct host mock_host;

typedef void (*mock_hook)(const char *const *argv, void *arg);

void mock_runner_reset(void);

/* argv is NULL-terminated. */
void expect_run(const char *const *argv, const char *out, const char *err,
		int status);

/* The same, calling hook(argv, arg) when the call happens (e.g. to make a
 * device file appear after a clone). */
void expect_run_hook(const char *const *argv, const char *out,
		     const char *err, int status, mock_hook hook, void *arg);

/* Fails the test unless every expected call has happened. */
void mock_runner_verify(void);

/* How many calls were made since mock_runner_reset(). */
int mock_runner_calls(void);

#define ARGV(...) ((const char *const[]){ __VA_ARGS__, NULL })

#endif
