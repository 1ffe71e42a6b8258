/*
 * steps: the chain every changing command runs, written once.
 *
 * steps_run() runs the steps in order, checking for an interrupt
 * (signals_check) before each; the first that fails, or an interrupt,
 * stops the chain and runs the undo journal (undo.h); when all succeed
 * the journal is forgotten. The steps make the changes (through their
 * host) and push their undos; this module touches nothing itself.
 */
#ifndef QVM_STEPS_H
#define QVM_STEPS_H

#include "undo.h"

/* One step of a run: 0, or -1 once it has reported why. */
typedef int (*step_fn)(void *run);

/* steps is NULL-terminated. Returns 0, or -1 (the undo has run). */
int steps_run(const step_fn *steps, void *run, struct undo *u,
	      const char *task);

#endif
