/*
 * signals: turn SIGINT, SIGTERM and SIGHUP into a flag.
 *
 * The handlers only record the signal; rollback happens at a safe point in
 * the main flow, which checks signals_pending() between steps (and the real
 * runner checks it while a child runs). After rolling back, main re-raises
 * the signal with signals_reraise() so the caller sees how qvm ended.
 */
#ifndef QVM_SIGNALS_H
#define QVM_SIGNALS_H

void signals_install(void);

/* The first signal received since signals_install(), or 0. */
int signals_pending(void);

/* The pending signal, unless signals_hold() was called: what a running
 * child should be stopped for. Rollback holds signals so that its own
 * commands (zfs destroy, virsh undefine) run to the end. */
int signals_interrupting(void);
void signals_hold(void);

/* Between steps: 0, or reports "interrupted by signal N" under task and
 * returns -1. */
int signals_check(const char *task);

/* For tests: pretend signal sig arrived (0 clears). */
void signals_set_pending(int sig);

/* Restore the default action and raise the pending signal, if any. */
void signals_reraise(void);

#endif
