# Shared set-up for the integration tests: a private workspace with the zfs
# test double first in PATH as "zfs", zvol "devices" under $QVM_ZVOL_DIR,
# seeds under $QVM_SEED_DIR, and a pool named "tank". Sourced, not run.
set -u
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
QVM=${QVM:-$ROOT/qvm}
# QVM_WRAP runs qvm under a checker (valgrind) when set.
QVM_WRAP=${QVM_WRAP:-}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/qvm-it.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$WORK/bin" "$WORK/zfs" "$WORK/zvol" "$WORK/seed"
ln -s "$ROOT/tests/zfs-double" "$WORK/bin/zfs"
export PATH="$WORK/bin:$PATH"
export ZFS_DOUBLE_DIR="$WORK/zfs"
export QVM_ZVOL_DIR="$WORK/zvol"
export QVM_SEED_DIR="$WORK/seed"
export QVM_DEVICE_TIMEOUT=5
echo tank > "$ZFS_DOUBLE_DIR/pools"

PASSED=0
FAILED=0

ok() { PASSED=$((PASSED + 1)); echo "ok - $*"; }
not_ok() { FAILED=$((FAILED + 1)); echo "not ok - $*"; }

# check DESCRIPTION COMMAND...: passes when the command succeeds.
check() {
	local what=$1
	shift
	if "$@"; then ok "$what"; else not_ok "$what"; fi
}

# run_qvm ARGS...: runs qvm, leaving $OUT, $ERR and $RC.
run_qvm() {
	$QVM_WRAP "$QVM" "$@" >"$WORK/out" 2>"$WORK/err"
	RC=$?
	OUT=$(cat "$WORK/out")
	ERR=$(cat "$WORK/err")
}

contains() { case $1 in *"$2"*) return 0 ;; esac; return 1; }

# progress_on_terminal WHAT ARGS...: "qvm ARGS" with a terminal (script(1);
# QVM_WRAP is left out: the line is what is checked, not memory) exits 0
# and its progress line shows a share and the time left (a stream's, of
# the source as published). Its output stays in $WORK/tty.out.
progress_on_terminal() {
	local what=$1
	shift
	script -qec "$(printf '%q ' "$QVM" "$@")" /dev/null \
		> "$WORK/tty.out" 2>&1
	check "terminal, $what: exit 0" [ $? -eq 0 ]
	check "terminal, $what: the progress line has the share and time left" \
		grep -Eq '(Copying|Downloading|Decompressing): [0-9.]+ MiB +[0-9.]+ MiB/s +[0-9]+% +([0-9]+:[0-9][0-9]|-:--) left' \
		"$WORK/tty.out"
}

# What exists: every dataset, and every file under the seed directory.
state() {
	zfs list -H -o name -t all 2>/dev/null
	(cd "$QVM_SEED_DIR" && find . | sort)
}

# fail_next SUBCOMMAND GLOB STATUS MESSAGE: one-shot zfs failure.
fail_next() {
	printf '%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" >>"$ZFS_DOUBLE_DIR/fail"
}

# A raw image: SIZE MiB apparent, with data at a few places.
make_raw() {
	local path=$1 mib=$2
	truncate -s "${mib}M" "$path"
	head -c 65536 /dev/urandom | dd of="$path" conv=notrunc status=none
	head -c 100000 /dev/urandom |
		dd of="$path" bs=1 seek=$((mib * 1048576 / 2)) conv=notrunc status=none
	printf 'END' | dd of="$path" bs=1 seek=$((mib * 1048576 - 3)) \
		conv=notrunc status=none
}

finish() {
	echo "$PASSED passed, $FAILED failed"
	[ "$FAILED" -eq 0 ]
}
