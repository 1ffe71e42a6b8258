#include "testdir.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

int testdir_remove(const char *dir)
{
	char *cmd;
	int rc;

	if (asprintf(&cmd, "rm -rf '%s'", dir) < 0)
		return -1;
	rc = system(cmd);
	free(cmd);
	return rc;
}

void testdir_sh(const char *dir, const char *fmt, ...)
{
	char *line, *cmd;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&line, fmt, ap);
	va_end(ap);
	assert_true(n >= 0);
	assert_true(asprintf(&cmd, "cd '%s' && %s", dir, line) > 0);
	assert_int_equal(system(cmd), 0);
	free(cmd);
	free(line);
}
