/* strvec: argv is built by pushing words, never by formatting a line. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "strvec.h"

static void empty_vector_gives_an_empty_argv(void **state)
{
	struct strvec sv = STRVEC_INIT;

	(void)state;
	assert_non_null(strvec_argv(&sv));
	assert_null(strvec_argv(&sv)[0]);
	strvec_clear(&sv);
}

static void push_keeps_order_and_null_terminates(void **state)
{
	struct strvec sv = STRVEC_INIT;

	(void)state;
	strvec_push(&sv, "zfs");
	strvec_pushf(&sv, "-V%d", 16);
	strvec_pushv(&sv, (const char *const[]){ "a b", "", NULL });
	assert_int_equal(sv.n, 4);
	assert_string_equal(sv.v[0], "zfs");
	assert_string_equal(sv.v[1], "-V16");
	assert_string_equal(sv.v[2], "a b");
	assert_string_equal(sv.v[3], "");
	assert_null(sv.v[4]);
	strvec_clear(&sv);
	assert_int_equal(sv.n, 0);
	assert_null(sv.v);
}

static void push_copies_the_string(void **state)
{
	struct strvec sv = STRVEC_INIT;
	char buf[] = "original";

	(void)state;
	strvec_push(&sv, buf);
	buf[0] = 'X';
	assert_string_equal(sv.v[0], "original");
	strvec_clear(&sv);
}

static void grows_past_its_first_allocation(void **state)
{
	struct strvec sv = STRVEC_INIT;

	(void)state;
	for (int i = 0; i < 1000; i++)
		strvec_pushf(&sv, "%d", i);
	assert_int_equal(sv.n, 1000);
	assert_string_equal(sv.v[999], "999");
	assert_null(sv.v[1000]);
	strvec_clear(&sv);
}

static void pop_drops_the_last_and_keeps_the_terminator(void **state)
{
	struct strvec sv = STRVEC_INIT;

	(void)state;
	strvec_pop(&sv);	/* empty: nothing to drop */
	strvec_pushv(&sv, (const char *const[]){ "a", "--dry-run", NULL });
	strvec_pop(&sv);
	assert_int_equal(sv.n, 1);
	assert_string_equal(sv.v[0], "a");
	assert_null(sv.v[1]);
	strvec_clear(&sv);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(empty_vector_gives_an_empty_argv),
		cmocka_unit_test(push_keeps_order_and_null_terminates),
		cmocka_unit_test(push_copies_the_string),
		cmocka_unit_test(grows_past_its_first_allocation),
		cmocka_unit_test(pop_drops_the_last_and_keeps_the_terminator),
	};

	return cmocka_run_group_tests_name("strvec", tests, NULL, NULL);
}
