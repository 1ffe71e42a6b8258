#!/bin/bash
# Runs every tests/integration/test_*.sh against $QVM (default ./qvm) and
# prints one total. Each script prints "ok - ..."/"not ok - ..." lines and
# its own "N passed, N failed" line.
set -u
cd "$(dirname "$0")/../.."
export QVM="${QVM:-$PWD/qvm}"
passed=0
failed=0
for t in tests/integration/test_*.sh; do
	# The double's own test does not run qvm: once is enough.
	case " ${SKIP_TESTS:-} " in *" $(basename "$t" .sh) "*) continue ;; esac
	echo "== $t"
	out=$(bash "$t" 2>&1)
	rc=$?
	printf '%s\n' "$out" | grep -v '^ok - ' || true
	line=$(printf '%s\n' "$out" | grep -E '^[0-9]+ passed, [0-9]+ failed$' | tail -1)
	p=${line%% passed*}
	f=${line#*, }
	f=${f%% failed*}
	if [ -z "$line" ]; then
		echo "FAILED: $t printed no summary (exit $rc)"
		failed=$((failed + 1))
		continue
	fi
	passed=$((passed + p))
	failed=$((failed + f))
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		echo "FAILED: $t exited $rc"
		failed=$((failed + 1))
	fi
done
echo "integration: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
