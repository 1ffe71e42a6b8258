/* text: a message too long for its buffer is cut visibly, never silently. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "text.h"

static void a_message_that_fits_is_whole(void **state)
{
	char buf[64];

	(void)state;
	assert_int_equal(text_fail(buf, sizeof(buf), "%s: %d", "x", 42), -1);
	assert_string_equal(buf, "x: 42");
	assert_int_equal(text_fail(NULL, 0, "nothing"), -1);
}

/* A long URL in the middle: the start (what) and the end (why) stay. */
static void a_long_message_keeps_its_start_and_end(void **state)
{
	static const char why[] = "curl: (22) The requested URL returned "
				  "error: 404";
	char url[2000], buf[256];
	size_t len;

	(void)state;
	memset(url, 'q', sizeof(url) - 1);
	url[sizeof(url) - 1] = '\0';
	text_fail(buf, sizeof(buf), "downloading http://h/%s: %s", url, why);
	len = strlen(buf);
	assert_int_equal(len, sizeof(buf) - 1);
	assert_memory_equal(buf, "downloading http://h/qqq", 24);
	assert_non_null(strstr(buf, "qqq [...] qqq"));
	assert_string_equal(buf + len - strlen(why), why);
}

/* Exactly one byte too long is cut as visibly. */
static void one_byte_over_is_marked(void **state)
{
	char buf[32], text[33];

	(void)state;
	memset(text, 'a', 32);
	text[32] = '\0';
	text[31] = 'Z';
	text_fail(buf, sizeof(buf), "%s", text);
	assert_non_null(strstr(buf, " [...] "));
	assert_int_equal(buf[strlen(buf) - 1], 'Z');
}

/* A URL's password is masked; nothing else changes. */
static void a_urls_password_is_masked(void **state)
{
	static const char *const cases[][2] = {
		{ "https://u:pw@h/p/x.raw", "https://u:***@h/p/x.raw" },
		{ "http://u:p:w@h:8080/a@b", "http://u:***@h:8080/a@b" },
		{ "http://u@h/x", "http://u@h/x" },
		{ "http://h/x?a=b@c", "http://h/x?a=b@c" },
		{ "/srv/images/u:pw@x.raw", "/srv/images/u:pw@x.raw" },
		{ "file:///a:b@c", "file:///a:b@c" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *shown = text_url_shown(cases[i][0]);

		assert_string_equal(shown, cases[i][1]);
		free(shown);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(a_message_that_fits_is_whole),
		cmocka_unit_test(a_long_message_keeps_its_start_and_end),
		cmocka_unit_test(one_byte_over_is_marked),
		cmocka_unit_test(a_urls_password_is_masked),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
