#include "steps.h"

#include "signals.h"

int steps_run(const step_fn *steps, void *run, struct undo *u,
	      const char *task)
{
	for (; *steps; steps++) {
		if (signals_check(task) < 0 || (*steps)(run) < 0) {
			undo_run(u, task);
			return -1;
		}
	}
	undo_forget(u);
	return 0;
}
