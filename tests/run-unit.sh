#!/bin/sh
# Runs each cmocka test binary given as an argument (under $VALGRIND when
# set), prints each runner's own summary, and a total at the end.
# Exits non-zero if any binary fails.
failed=0
passed=0
for t in "$@"; do
	echo "== $t"
	if $VALGRIND "$t"; then
		passed=$((passed + 1))
	else
		echo "FAILED: $t (exit $?)"
		failed=$((failed + 1))
	fi
done
echo "units: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
