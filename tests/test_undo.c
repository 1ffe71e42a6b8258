/* undo: the journal runs backwards, and names what it could not undo. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "msg.h"
#include "signals.h"
#include "strvec.h"
#include "undo.h"

static char order[64];
static char one[] = "1", two[] = "2", three[] = "3";
static int freed;

static int record(void *arg, char **why)
{
	(void)why;
	strcat(order, (const char *)arg);
	return 0;
}

static int refuse(void *arg, char **why)
{
	strcat(order, (const char *)arg);
	*why = xstrdup("dataset is busy");
	return -1;
}

/* The change never happened: nothing to undo, and it says why. */
static int was_never_made(void *arg, char **why)
{
	strcat(order, (const char *)arg);
	*why = xstrdup("domain a was not defined");
	return UNDO_NOTHING;
}

static void count_free(void *arg)
{
	(void)arg;
	freed++;
}

struct captured {
	char *out, *err;
	size_t out_len, err_len;
	FILE *fout, *ferr;
};

static int setup(void **state)
{
	struct captured *c = calloc(1, sizeof(*c));

	c->fout = open_memstream(&c->out, &c->out_len);
	c->ferr = open_memstream(&c->err, &c->err_len);
	msg_set_streams(c->fout, c->ferr);
	order[0] = '\0';
	freed = 0;
	*state = c;
	return 0;
}

static int teardown(void **state)
{
	struct captured *c = *state;

	msg_set_streams(NULL, NULL);
	fclose(c->fout);
	fclose(c->ferr);
	free(c->out);
	free(c->err);
	free(c);
	signals_set_pending(0);
	return 0;
}

static void runs_in_reverse_order(void **state)
{
	struct captured *c = *state;
	struct undo u = UNDO_INIT;

	undo_push(&u, "seed /s", "remove", record, one, count_free);
	undo_push(&u, "zvol tank/a", "destroy", record, two, count_free);
	undo_push(&u, "domain a", "undefine", record, three, count_free);
	assert_int_equal(undo_run(&u, "creating VM a"), 0);
	assert_string_equal(order, "321");
	assert_int_equal(freed, 3);
	fflush(c->fout);
	assert_string_equal(c->out, "Undid: undefined domain a\n"
				    "Undid: destroyed zvol tank/a\n"
				    "Undid: removed seed /s\n");
	assert_int_equal(u.n, 0);
}

static void failure_is_named_and_the_rest_still_runs(void **state)
{
	struct captured *c = *state;
	struct undo u = UNDO_INIT;

	undo_push(&u, "seed /s", "remove", record, one, NULL);
	undo_push(&u, "zvol tank/vm1", "destroy", refuse, two, NULL);
	assert_int_equal(undo_run(&u, "creating VM vm1"), 1);
	assert_string_equal(order, "21");
	fflush(c->ferr);
	assert_string_equal(c->err,
		"Error creating VM vm1: zvol tank/vm1 was created but could "
		"not be destroyed: dataset is busy; destroy it by hand\n");
}

/* On another host, a last line names all that is left there. */
static void what_is_left_on_a_remote_host_is_summed_up(void **state)
{
	struct captured *c = *state;
	struct undo u = UNDO_INIT;

	u.where = "host2";
	undo_push(&u, "seed directory /s", "remove", refuse, one, NULL);
	undo_push(&u, "zvol tank/vm1", "destroy", record, two, NULL);
	undo_push(&u, "domain vm1", "undefine", refuse, three, NULL);
	undo_detail(&u, "uuid 0e1f");
	assert_int_equal(undo_run(&u, "creating VM vm1"), 2);
	assert_string_equal(order, "321");
	fflush(c->ferr);
	assert_string_equal(c->err,
		"Error creating VM vm1: domain vm1 was created but could not "
		"be undefined: dataset is busy; undefine it by hand\n"
		"Error creating VM vm1: seed directory /s was created but "
		"could not be removed: dataset is busy; remove it by hand\n"
		"Error creating VM vm1: left on host2: domain vm1 (uuid 0e1f), "
		"seed directory /s\n");
}

static void nothing_to_undo_is_not_claimed_undone(void **state)
{
	struct captured *c = *state;
	struct undo u = UNDO_INIT;

	undo_push(&u, "zvol tank/a", "destroy", record, one, count_free);
	undo_push(&u, "domain a", "undefine", was_never_made, two,
		  count_free);
	assert_int_equal(undo_run(&u, "creating VM a"), 0);
	assert_string_equal(order, "21");
	assert_int_equal(freed, 2);
	fflush(c->fout);
	assert_string_equal(c->out, "Nothing to undo: domain a was not "
				    "defined\n"
				    "Undid: destroyed zvol tank/a\n");
	fflush(c->ferr);
	assert_string_equal(c->err, "");
}

static void forget_runs_nothing(void **state)
{
	struct undo u = UNDO_INIT;

	(void)state;
	undo_push(&u, "zvol tank/a", "destroy", record, one, count_free);
	undo_forget(&u);
	assert_string_equal(order, "");
	assert_int_equal(freed, 1);
	assert_int_equal(undo_run(&u, "t"), 0);
}

static void empty_journal_is_fine(void **state)
{
	struct undo u = UNDO_INIT;

	(void)state;
	assert_int_equal(undo_run(&u, "t"), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(runs_in_reverse_order, setup,
						teardown),
		cmocka_unit_test_setup_teardown(
			what_is_left_on_a_remote_host_is_summed_up, setup,
			teardown),
		cmocka_unit_test_setup_teardown(
			failure_is_named_and_the_rest_still_runs, setup,
			teardown),
		cmocka_unit_test_setup_teardown(
			nothing_to_undo_is_not_claimed_undone, setup,
			teardown),
		cmocka_unit_test_setup_teardown(forget_runs_nothing, setup,
						teardown),
		cmocka_unit_test_setup_teardown(empty_journal_is_fine, setup,
						teardown),
	};

	return cmocka_run_group_tests_name("undo", tests, NULL, NULL);
}
