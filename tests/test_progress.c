/*
 * progress: the line a person watching a terminal sees. Drawn on a real
 * pseudo-terminal (progress draws only on a terminal), read back from its
 * other side.
 */
#include <fcntl.h>
#include <pty.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <cmocka.h>

#include "copy.h"
#include "progress.h"

#define MIB (1024u * 1024)

struct tty {
	int master;
	FILE *out;	/* the terminal's side qvm writes to */
	char text[4096];
};

static int setup(void **state)
{
	struct tty *t = calloc(1, sizeof(*t));
	struct termios raw;
	int slave;

	assert_int_equal(openpty(&t->master, &slave, NULL, NULL, NULL), 0);
	/* No newline translation, no echo: read back what was written. */
	assert_int_equal(tcgetattr(slave, &raw), 0);
	cfmakeraw(&raw);
	assert_int_equal(tcsetattr(slave, TCSANOW, &raw), 0);
	t->out = fdopen(slave, "w");
	assert_non_null(t->out);
	*state = t;
	progress_follow(NULL, NULL, 0);
	return 0;
}

static int teardown(void **state)
{
	struct tty *t = *state;

	fclose(t->out);
	close(t->master);
	free(t);
	progress_follow(NULL, NULL, 0);
	return 0;
}

/* What the terminal has been shown since the last call. */
static const char *shown(struct tty *t)
{
	size_t got = 0;
	int flags = fcntl(t->master, F_GETFL);

	fflush(t->out);
	fcntl(t->master, F_SETFL, flags | O_NONBLOCK);
	for (;;) {
		ssize_t r = read(t->master, t->text + got,
				 sizeof(t->text) - 1 - got);

		if (r <= 0)
			break;
		got += (size_t)r;
	}
	fcntl(t->master, F_SETFL, flags);
	t->text[got] = '\0';
	return t->text;
}

static uint64_t at_value;

static uint64_t where(void *ctx)
{
	return *(uint64_t *)ctx;
}

static void a_stream_alone_shows_bytes_and_rate_only(void **state)
{
	struct tty *t = *state;
	struct progress p;

	progress_begin(&p, t->out, "Copying");
	progress_update(&p, 3 * MIB, COPY_SIZE_STREAM);
	assert_non_null(strstr(shown(t), "Copying: 3.0 MiB"));
	assert_null(strstr(t->text, "%"));
	assert_null(strstr(t->text, "left"));
}

/* Half of the compressed source read after (at least) the time it took:
 * the other half takes about as long again. */
static void a_followed_source_gives_the_share_and_time_left(void **state)
{
	struct tty *t = *state;
	struct progress p;

	at_value = 50;
	progress_follow(where, &at_value, 100);
	progress_begin(&p, t->out, "Copying");
	p.start -= 10.0;	/* as if it began ten seconds ago */
	progress_update(&p, 700 * MIB, COPY_SIZE_STREAM);
	shown(t);
	assert_non_null(strstr(t->text, "Copying: 700.0 MiB"));
	assert_non_null(strstr(t->text, "50%"));
	assert_non_null(strstr(t->text, "0:10 left"));

	/* Read to its end: nothing left. */
	at_value = 100;
	p.last = -1.0;
	progress_update(&p, 1400 * MIB, COPY_SIZE_STREAM);
	shown(t);
	assert_non_null(strstr(t->text, "100%"));
	assert_non_null(strstr(t->text, "0:00 left"));
}

static void nothing_read_yet_has_no_estimate(void **state)
{
	struct tty *t = *state;
	struct progress p;

	at_value = 0;
	progress_follow(where, &at_value, 100);
	progress_begin(&p, t->out, "Copying");
	progress_update(&p, 0, COPY_SIZE_STREAM);
	shown(t);
	assert_non_null(strstr(t->text, " 0%"));
	assert_non_null(strstr(t->text, "-:-- left"));
}

/* Following ends when it is cleared: the next copy knows nothing of it. */
static void a_cleared_follow_is_forgotten(void **state)
{
	struct tty *t = *state;
	struct progress p;

	at_value = 10;
	progress_follow(where, &at_value, 100);
	progress_follow(NULL, NULL, 0);
	progress_begin(&p, t->out, "Copying");
	progress_update(&p, MIB, COPY_SIZE_STREAM);
	shown(t);
	assert_null(strstr(t->text, "left"));
}

/* A copy of known size ignores what is followed: its own share counts. */
static void a_known_size_uses_its_own_share(void **state)
{
	struct tty *t = *state;
	struct progress p;

	at_value = 90;
	progress_follow(where, &at_value, 100);
	progress_begin(&p, t->out, "Copying");
	progress_update(&p, 25 * MIB, 100 * MIB);
	shown(t);
	assert_non_null(strstr(t->text, " 25%"));
	assert_null(strstr(t->text, "90%"));
}

/* Not a terminal: nothing until the end, then one plain line. */
static void no_terminal_no_line(void **state)
{
	char *text = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&text, &len);
	struct progress p;

	(void)state;
	at_value = 50;
	progress_follow(where, &at_value, 100);
	progress_begin(&p, mem, "Copying");
	progress_update(&p, MIB, COPY_SIZE_STREAM);
	fflush(mem);
	assert_int_equal(len, 0);
	progress_end(&p, 2 * MIB);
	fclose(mem);
	assert_non_null(strstr(text, "Copying: 2.0 MiB of data in"));
	assert_null(strstr(text, "\r"));
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
			a_stream_alone_shows_bytes_and_rate_only, setup,
			teardown),
		cmocka_unit_test_setup_teardown(
			a_followed_source_gives_the_share_and_time_left, setup,
			teardown),
		cmocka_unit_test_setup_teardown(
			nothing_read_yet_has_no_estimate, setup, teardown),
		cmocka_unit_test_setup_teardown(a_cleared_follow_is_forgotten,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			a_known_size_uses_its_own_share, setup, teardown),
		cmocka_unit_test_setup_teardown(no_terminal_no_line, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
