#!/usr/bin/env bash
# Records real OpenZFS transcripts of tests/zfs-real/scenarios.sh, one file
# per section, into DIR (run in the real-ZFS guest, pools "tank" and
# "other" empty):
#     bash record-transcripts.sh DIR
# Each call is one record:
#     $ zfs ARG...            (shell-quoted where needed: bash's printf %q)
#     status N
#     stdout BYTES            then exactly BYTES bytes, then a newline
#     stderr BYTES            the same
# followed by an empty line. tests/zfs-real/replay.py reads them.
set -u
export LC_ALL=C
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
DIR=${1:?usage: record-transcripts.sh DIR}
mkdir -p "$DIR"
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
OUT=

# clean_pools: every dataset under tank and other destroyed (not recorded).
clean_pools() {
	local p d
	for p in tank other; do
		zfs list -H -o name -d 1 "$p" | tail -n +2 | while read -r d; do
			zfs destroy -R "$d" || echo "record: could not destroy $d" >&2
		done
	done
	udevadm settle
}

section() {
	clean_pools
	OUT=$DIR/$1.txt
	printf '# real OpenZFS %s: scenarios.sh section %s\n\n' \
		"$(zfs version 2>/dev/null | head -1)" "$1" >"$OUT"
}

# quote ARG...: each argument, shell-quoted only where it needs it.
quote() {
	local a
	for a in "$@"; do
		if [[ $a =~ ^[A-Za-z0-9_./:@=,+-]+$ ]]; then
			printf ' %s' "$a"
		else
			printf ' %q' "$a"
		fi
	done
}

z() {
	local q
	"$@" >"$TMP/out" 2>"$TMP/err" </dev/null
	local rc=$?
	q=$(quote "$@")
	{
		printf '$%s\n' "$q"
		printf 'status %d\n' "$rc"
		printf 'stdout %d\n' "$(stat -c %s "$TMP/out")"
		cat "$TMP/out"
		printf '\nstderr %d\n' "$(stat -c %s "$TMP/err")"
		cat "$TMP/err"
		printf '\n\n'
	} >>"$OUT"
}

# shellcheck source=scenarios.sh
. "$HERE/scenarios.sh"
clean_pools
