#include "wait.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "console.h"
#include "msg.h"
#include "owned.h"
#include "seed.h"
#include "signals.h"
#include "strvec.h"
#include "tags.h"
#include "text.h"
#include "virsh.h"

#define POLL_NS 250000000L	/* a quarter of a second between looks... */
#define POLLS_PER_STATE 4	/* ...and the domain's state once a second */

double wait_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int wait_parse_timeout(const char *s, unsigned *seconds, char *errbuf,
		       size_t errsize)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (*s < '0' || *s > '9' || *end || errno || v < 1 || v > 86400)
		return text_fail(errbuf, errsize, "--timeout '%s' is not a "
				 "number of seconds from 1 to 86400", s);
	*seconds = (unsigned)v;
	return 0;
}

/* The domain's state as virsh says it ("running", "shut off", ...), in
 * buf; -1 with a message when virsh cannot tell. */
static int domain_state(const struct runner *r, const struct wait_target *t,
			const char *task, char *buf, size_t size)
{
	switch (virsh_domain_state(r, t->connect, t->domain, buf, size)) {
	case 1:
		return 0;
	case 0:
		return msg_error(task, "domain %s is gone (it was undefined "
				 "while qvm waited)", t->name);
	default:
		return msg_error(task, "cannot read the state of domain %s: "
				 "%s; the VM stays as it is", t->name, buf);
	}
}

/* Addresses libvirt knows (a libvirt network's leases, the host's ARP
 * table), for a guest that printed none: "ADDR/PREFIX" in the fourth
 * column of virsh domifaddr's table. */
static void libvirt_addresses(const struct runner *r,
			      const struct wait_target *t,
			      struct strvec *addrs)
{
	static const char *const sources[] = { "lease", "arp" };

	for (size_t s = 0; s < 2 && addrs->n == 0; s++) {
		struct strvec argv = STRVEC_INIT;
		struct run_result res = RUN_RESULT_INIT;
		char *line, *save = NULL;

		virsh_argv(&argv, t->connect, "domifaddr", t->domain);
		strvec_push(&argv, "--source");
		strvec_push(&argv, sources[s]);
		if (runner_run(r, strvec_argv(&argv), RUN_READS, &res) == 0) {
			for (line = strtok_r(res.out, "\n", &save); line;
			     line = strtok_r(NULL, "\n", &save)) {
				char *f[5];
				size_t n = 0;
				char *tok, *save2 = NULL;

				for (tok = strtok_r(line, " \t", &save2);
				     tok && n < 5;
				     tok = strtok_r(NULL, " \t", &save2))
					f[n++] = tok;
				if (n == 4 && strchr(f[3], '/') &&
				    (strcmp(f[2], "ipv4") == 0 ||
				     strcmp(f[2], "ipv6") == 0))
					strvec_pushf(addrs, "%.*s",
						     (int)strcspn(f[3], "/"),
						     f[3]);
			}
		}
		run_result_clear(&res);
		strvec_clear(&argv);
	}
}

static void ready(const struct runner *r, const struct wait_target *t,
		  const struct console_status *st)
{
	struct strvec from_libvirt = STRVEC_INIT;
	const struct strvec *addrs = &st->addresses;
	char *line;
	size_t len;
	FILE *f;

	if (addrs->n == 0) {
		libvirt_addresses(r, t, &from_libvirt);
		addrs = &from_libvirt;
	}
	f = open_memstream(&line, &len);
	if (!f)
		abort();
	fprintf(f, "VM %s ready after %.0f s:", t->name,
		wait_now() - t->started);
	for (size_t i = 0; i < addrs->n; i++)
		fprintf(f, " %s", addrs->v[i]);
	if (addrs->n == 0)
		fprintf(f, " no address");
	fclose(f);
	msg_info("%s", line);
	free(line);
	strvec_clear(&from_libvirt);
}

static int finished_with_errors(const struct wait_target *t,
				const struct console_status *st,
				const char *task)
{
	char *what = xstrdup("");

	for (size_t i = 0; i < st->failures.n; i++) {
		char *next = xasprintf("%s%s%s", what, i ? "; " : "",
				       st->failures.v[i]);

		free(what);
		what = next;
	}
	msg_error(task, "cloud-init finished with errors: %s%s (the VM was "
		  "created and stays; see %s, or in the guest "
		  "/var/log/cloud-init.log)", what,
		  st->n_failures > st->failures.n ? "; and more" : "",
		  t->console);
	free(what);
	return -1;
}

int wait_ready(const struct host *h, const struct wait_target *t,
	       const char *task)
{
	const struct runner *r = h->runner;
	struct console_reader *cr = xmalloc(sizeof(*cr));
	struct console_status st = CONSOLE_STATUS_INIT;
	double deadline = wait_now() + t->timeout;
	char state[512] = "";
	char err[512];
	bool seen_log = false;
	int rc = -1;

	*cr = (struct console_reader)CONSOLE_READER_INIT;
	for (unsigned poll = 0;; poll++) {
		int sig;

		/* No log yet: libvirt makes it when the domain starts. */
		if (console_read(cr, h, t->console, &st, err, sizeof(err)) == 0)
			seen_log = true;
		else if (errno != ENOENT) {
			msg_error(task, "cannot read the console log %s; the "
				  "VM stays as it is", err);
			goto done;
		}
		if (st.finished)
			break;
		sig = signals_pending();
		if (sig) {
			msg_error(task, "interrupted by signal %d: qvm stopped "
				  "waiting; VM %s stays as it is", sig,
				  t->name);
			goto done;
		}
		/* Once a second: the domain's state, and the clock. */
		if (poll % POLLS_PER_STATE)
			goto sleep;
		if (domain_state(r, t, task, state, sizeof(state)) < 0)
			goto done;
		if (strcmp(state, "shut off") == 0 ||
		    strcmp(state, "crashed") == 0) {
			/* It may have said its last words first. */
			console_read(cr, h, t->console, &st, err, sizeof(err));
			if (st.finished)
				break;
			msg_error(task, "domain %s is %s, and cloud-init had "
				  "not finished; the VM stays as it is; see %s",
				  t->name, state, t->console);
			goto done;
		}
		if (wait_now() >= deadline) {
			if (!seen_log)
				msg_error(task, "nothing after %u s: the console "
					  "log %s never appeared (domain %s); "
					  "the VM stays as it is", t->timeout,
					  t->console, state);
			else
				msg_error(task, "cloud-init had not finished "
					  "after %u s (domain %s); the VM stays "
					  "as it is; see %s, or wait longer "
					  "with 'qvm wait -t SECONDS %s'",
					  t->timeout, state, t->console,
					  t->name);
			goto done;
		}
sleep:
		nanosleep(&(struct timespec){ 0, POLL_NS }, NULL);
	}
	if (st.n_failures) {
		finished_with_errors(t, &st, task);
		goto done;
	}
	ready(r, t, &st);
	rc = 0;
done:
	console_status_clear(&st);
	free(cr);
	return rc;
}

int wait_vm(const struct host *h, const char *name, unsigned timeout)
{
	char *task = xasprintf("waiting for %s", name);
	struct owned o = { 0 };
	char *console = NULL;
	int rc = -1;

	if (owned_resolve(h->runner, task, "waits for", name, NULL, &o) < 0)
		goto done;
	if (strcmp(o.role, ROLE_VM) != 0) {
		msg_error(task, "%s is an image, not a VM", o.dataset);
		goto done;
	}
	if (o.console)
		console = xstrdup(o.console);
	else if (o.seed)
		console = xasprintf("%s/%s", o.seed, CONSOLE_LOG_NAME);
	else {
		msg_error(task, "%s records no console log (qvm:console) nor "
			  "seed directory (qvm:seed): qvm cannot tell where "
			  "its console is", o.dataset);
		goto done;
	}
	free(task);
	task = xasprintf("waiting for VM %s", o.vm_name);
	rc = wait_ready(h, &(struct wait_target){
		.name = o.vm_name, .domain = o.uuid ? o.uuid : o.vm_name,
		.connect = o.connect, .console = console, .timeout = timeout,
		.started = wait_now() }, task);
done:
	free(console);
	owned_free(&o);
	free(task);
	return rc;
}
