#include "signals.h"

#include <signal.h>
#include <string.h>

#include "msg.h"

static volatile sig_atomic_t pending;
static int held;

static void record(int sig)
{
	if (!pending)
		pending = sig;
}

void signals_install(void)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP };
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = record;
	sigemptyset(&sa.sa_mask);
	/* No SA_RESTART: a blocking wait must return EINTR so qvm can react. */
	sa.sa_flags = 0;
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaction(sigs[i], &sa, NULL);
	/* A reader that went away (qvm ... | head) must not kill qvm in the
	 * middle of a rollback; writes just fail with EPIPE. */
	signal(SIGPIPE, SIG_IGN);
}

int signals_pending(void)
{
	return (int)pending;
}

int signals_interrupting(void)
{
	return held ? 0 : (int)pending;
}

void signals_hold(void)
{
	held = 1;
}

int signals_check(const char *task)
{
	if (!pending)
		return 0;
	return msg_error(task, "interrupted by signal %d", (int)pending);
}

void signals_set_pending(int sig)
{
	pending = sig;
	held = 0;
}

void signals_reraise(void)
{
	int sig = (int)pending;

	if (!sig)
		return;
	signal(sig, SIG_DFL);
	raise(sig);
}
