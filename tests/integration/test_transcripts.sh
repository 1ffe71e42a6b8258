#!/usr/bin/env bash
# The zfs double against real OpenZFS: replays every transcript recorded on
# real OpenZFS (tests/transcripts/VERSION/*.txt, made by make check-zfs with
# QVM_ZFS_SAVE=1) against tests/zfs-double, from the same empty pools, and
# fails on any difference in what qvm reads: exit status, stdout, stderr
# (up to zfs's usage text). qvm-suite-calls.txt holds every zfs call of the
# real-ZFS suite (qvm's and the suite's own), normalised; where real ZFS
# failed for a reason the double cannot know (a busy device, a full pool)
# the double is told to fail the same way (tests/zfs-real/transcript.py).
set -u
cd "$(dirname "$0")/../.."
PASSED=0
FAILED=0
files=$(find tests/transcripts -name '*.txt' 2>/dev/null | sort)
if [ -z "$files" ]; then
	echo "not ok - no transcripts under tests/transcripts"
	FAILED=1
fi
for f in $files; do
	out=$(python3 tests/zfs-real/transcript.py replay "$f" 2>&1)
	rc=$?
	printf '%s\n' "$out"
	p=$(printf '%s\n' "$out" | grep -c '^ok - ')
	n=$(printf '%s\n' "$out" | grep -c '^not ok - ')
	PASSED=$((PASSED + p))
	FAILED=$((FAILED + n))
	if [ "$rc" -ne 0 ] && [ "$n" -eq 0 ]; then
		echo "not ok - $f: could not be replayed (exit $rc)"
		FAILED=$((FAILED + 1))
	fi
done
echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
