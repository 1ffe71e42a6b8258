/*
 * testdir: a unit test's scratch directory, and shell lines run in it.
 */
#ifndef QVM_TESTDIR_H
#define QVM_TESTDIR_H

/* rm -rf dir: 0, or what system() gave. */
int testdir_remove(const char *dir);

/* Runs "cd DIR && LINE" with sh, LINE made from fmt, and fails the test
 * unless it exits 0. */
void testdir_sh(const char *dir, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif
