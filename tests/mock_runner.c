#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mock_runner.h"
#include "strvec.h"

#define MOCK_MAX 64

struct expected {
	struct strvec argv;
	char *out;
	char *err;
	int status;
	mock_hook hook;
	void *arg;
};

static struct expected script[MOCK_MAX];
static int n_script;
static int next;
static int calls;

static char *join(const char *const *argv)
{
	size_t len = 1;
	char *s;

	for (const char *const *a = argv; *a; a++)
		len += strlen(*a) + 3;
	s = xmalloc(len);
	s[0] = '\0';
	for (const char *const *a = argv; *a; a++) {
		if (a != argv)
			strcat(s, " ");
		if (strchr(*a, ' ') || !**a) {
			strcat(s, "'");
			strcat(s, *a);
			strcat(s, "'");
		} else {
			strcat(s, *a);
		}
	}
	return s;
}

static int matches(const char *const *want, const char *const *got)
{
	for (; *want && *got; want++, got++)
		if (strcmp(*want, "*") != 0 && strcmp(*want, *got) != 0)
			return 0;
	return !*want && !*got;
}

static int mock_run(void *ctx, const char *const *argv,
		    enum run_effect effect, struct run_result *res)
{
	struct expected *e;
	char *got, *want;

	(void)ctx;
	(void)effect;
	calls++;
	got = join(argv);
	if (next >= n_script) {
		print_error("unexpected command: %s\n", got);
		free(got);
		fail();
	}
	e = &script[next++];
	want = join(strvec_argv(&e->argv));
	if (!matches(strvec_argv(&e->argv), argv)) {
		print_error("command %d\n  expected: %s\n  got:      %s\n",
			    next, want, got);
		free(want);
		free(got);
		fail();
	}
	free(want);
	free(got);
	if (e->hook)
		e->hook(argv, e->arg);
	res->out = xstrdup(e->out);
	res->out_len = strlen(e->out);
	res->err = xstrdup(e->err);
	res->err_len = strlen(e->err);
	res->status = e->status;
	if (e->status == -1) {
		res->spawn_errno = ENOENT;
		free(res->err);
		res->err = xasprintf("%s: command not found", argv[0]);
		res->err_len = strlen(res->err);
		errno = ENOENT;
	}
	return e->status;
}

const struct runner mock_runner = { mock_run, NULL };
const struct host mock_host = HOST_LOCAL(&mock_runner);

void mock_runner_reset(void)
{
	for (int i = 0; i < n_script; i++) {
		strvec_clear(&script[i].argv);
		free(script[i].out);
		free(script[i].err);
	}
	memset(script, 0, sizeof(script));
	n_script = next = calls = 0;
}

void expect_run_hook(const char *const *argv, const char *out,
		     const char *err, int status, mock_hook hook, void *arg)
{
	struct expected *e;

	assert_true(n_script < MOCK_MAX);
	e = &script[n_script++];
	strvec_pushv(&e->argv, argv);
	e->out = xstrdup(out ? out : "");
	e->err = xstrdup(err ? err : "");
	e->status = status;
	e->hook = hook;
	e->arg = arg;
}

void expect_run(const char *const *argv, const char *out, const char *err,
		int status)
{
	expect_run_hook(argv, out, err, status, NULL, NULL);
}

void mock_runner_verify(void)
{
	if (next < n_script) {
		char *want = join(strvec_argv(&script[next].argv));

		print_error("expected command never ran: %s\n", want);
		free(want);
		fail();
	}
}

int mock_runner_calls(void)
{
	return calls;
}
