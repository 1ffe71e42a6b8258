#!/usr/bin/env bash
# Tests for tests/zfs-double, the OpenZFS `zfs` test double.
# Run from the repository root:  bash tests/integration/test_zfs_double.sh
# Prints "ok - ..." / "not ok - ..." lines, then "N passed, N failed";
# exits non-zero if anything failed.
set -u

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
DOUBLE="$REPO/tests/zfs-double"
WS=$(mktemp -d "${TMPDIR:-/tmp}/zfs-double-test.XXXXXX") || exit 1
cleanup() {
	local pids
	pids=$(jobs -p)
	# shellcheck disable=SC2086 # one word per pid
	[ -n "$pids" ] && wait $pids 2>/dev/null
	rm -rf "$WS"
}
trap cleanup EXIT

mkdir -p "$WS/bin" "$WS/state" "$WS/dev"
ln -s "$DOUBLE" "$WS/bin/zfs"
# Speed only: the double needs nothing outside the standard library, so run
# it with the same python3 minus wrappers (e.g. pyenv shims) and minus
# site-packages start-up (-S).  Each `zfs` call then costs ~40 ms, not ~100.
PY=$(python3 -c 'import sys; print(sys.executable)' 2>/dev/null)
if [ -n "$PY" ] && [ -x "$PY" ]; then
	printf '#!/bin/sh\nexec "%s" -S "$@"\n' "$PY" >"$WS/bin/python3"
	chmod +x "$WS/bin/python3"
fi
export PATH="$WS/bin:$PATH"
export ZFS_DOUBLE_DIR="$WS/state" QVM_ZVOL_DIR="$WS/dev"
printf 'tank\nother\n' >"$ZFS_DOUBLE_DIR/pools"
ST=$ZFS_DOUBLE_DIR
DEV=$QVM_ZVOL_DIR

PASS=0
FAIL=0
ok() { PASS=$((PASS + 1)); printf 'ok - %s\n' "$1"; }
notok() {
	FAIL=$((FAIL + 1))
	printf 'not ok - %s\n' "$1"
	shift
	local l
	for l in "$@"; do printf '#   %s\n' "$l"; done
}
# run CMD...: sets RC, OUT, ERR
run() {
	# (the subshell keeps bash's "Aborted" job report out of the output)
	("$@" >"$WS/out" 2>"$WS/err"; rc=$?; exit $rc) 2>/dev/null
	RC=$?
	OUT=$(cat "$WS/out")
	ERR=$(cat "$WS/err")
}
ANY='<any>'
# check DESC RC STDOUT STDERR    (ANY skips a field; compared exactly)
check() {
	local d=$1 r=$2 o=$3 e=$4 bad=()
	[ "$r" = "$ANY" ] || [ "$RC" = "$r" ] || bad+=("status $RC, expected $r")
	[ "$o" = "$ANY" ] || [ "$OUT" = "$o" ] ||
		bad+=("stdout: $(printf '%q' "$OUT")" "wanted: $(printf '%q' "$o")")
	[ "$e" = "$ANY" ] || [ "$ERR" = "$e" ] ||
		bad+=("stderr: $(printf '%q' "$ERR")" "wanted: $(printf '%q' "$e")")
	if [ ${#bad[@]} -eq 0 ]; then ok "$d"; else notok "$d" "${bad[@]}"; fi
}
# check_usage DESC FIRSTLINE: status 2, stderr = FIRSTLINE, "usage:", ...
check_usage() {
	local d=$1 first=$2 l1 l2
	l1=${ERR%%$'\n'*}
	l2=$(printf '%s\n' "$ERR" | sed -n 2p)
	if [ "$RC" = 2 ] && [ "$l1" = "$first" ] && [ "$l2" = "usage:" ] &&
		[ -z "$OUT" ]; then
		ok "$d"
	else
		notok "$d" "status $RC" "stderr: $(printf '%q' "$ERR")" \
			"wanted first line: $first"
	fi
}
assert() { # DESC COMMAND...
	local d=$1
	shift
	if "$@"; then ok "$d"; else notok "$d" "failed: $*"; fi
}
now_ms() { date +%s%3N; }
fsize() { stat -c %s "$1"; }
falloc() { echo $(($(stat -c %b "$1") * 512)); }
poke() { printf '%s' "$2" | dd of="$1" bs=1 seek="$3" conv=notrunc 2>/dev/null; }
peek() { dd if="$1" bs=1 skip="$3" count="$2" 2>/dev/null; }
G=1073741824

# --- environment and command line -------------------------------------------
run env -u ZFS_DOUBLE_DIR zfs list
check "no ZFS_DOUBLE_DIR: modules not loaded, status 1" 1 "" \
	"The ZFS modules are not loaded.
Try running 'modprobe zfs' as root to load them."

run zfs
l2=$(printf '%s\n' "$ERR" | sed -n 2p)
if [ "$RC" = 2 ] && [ "${ERR%%$'\n'*}" = "missing command" ] &&
	[ "$l2" = "usage: zfs command args ..." ]; then
	ok "no arguments: missing command + general usage, status 2"
else notok "no arguments: missing command + general usage, status 2" "$RC $ERR"; fi

run env -u QVM_ZVOL_DIR zfs list
if [ "$RC" = 1 ] && [ -n "$ERR" ]; then ok "no QVM_ZVOL_DIR: status 1"
else notok "no QVM_ZVOL_DIR: status 1" "$RC $ERR"; fi

run zfs frobnicate
if [ "$RC" = 2 ] && [ "${ERR%%$'\n'*}" = "unrecognized command 'frobnicate'" ]; then
	ok "unknown subcommand: status 2"
else notok "unknown subcommand: status 2" "$RC $ERR"; fi

run zfs list -H -o name
check "pools from \$ZFS_DOUBLE_DIR/pools are filesystems" 0 "other
tank" ""

run zfs list -Z
check_usage "list: invalid option" "invalid option 'Z'"

# --- create -----------------------------------------------------------------
run zfs create tank/vms
check "create filesystem" 0 "" ""
run zfs list -H -o name,type tank/vms
check "filesystem listed with type filesystem" 0 "tank/vms	filesystem" ""

run zfs create -V 20G tank/vms/web1
check "create -V 20G" 0 "" ""
W=$DEV/tank/vms/web1
if [ -f "$W" ] && [ "$(fsize "$W")" = $((20 * G)) ] &&
	[ "$(stat -c %a "$W")" = 660 ] && [ "$(falloc "$W")" -lt 1048576 ]; then
	ok "device file: sparse, volsize bytes, mode 0660"
else notok "device file: sparse, volsize bytes, mode 0660" "$(ls -ls "$W" 2>&1)"; fi

run zfs get -Hp -o value volsize,refreservation,volblocksize tank/vms/web1
# refreservation: volsize plus the indirect blocks, as OpenZFS reserves
# (tests/transcripts/*/create.txt).
check "get -Hp: volsize, refreservation = volsize + metadata, volblocksize 16K" 0 \
	"$((20 * G))
21813002240
16384" ""
run zfs get -H -o value volsize,volblocksize,refreservation,type,origin tank/vms/web1
check "get -H: human sizes, type, origin '-'" 0 "20G
16K
20.3G
volume
-" ""
run zfs get volsize tank/vms/web1
check "get: header and aligned columns" 0 \
	"NAME           PROPERTY  VALUE    SOURCE
tank/vms/web1  volsize   20G      local" ""
run zfs get -H volblocksize,refreservation,qvm:none tank/vms/web1
check "get -H: sources default/local, unset user property - -" 0 \
	"tank/vms/web1	volblocksize	16K	default
tank/vms/web1	refreservation	20.3G	local
tank/vms/web1	qvm:none	-	-" ""

zfs create tank/r
for spec in 1000 1.5G 10m 1GiB 1gb 16385; do
	zfs create -s -V "$spec" "tank/r/v$spec"
done
run zfs get -Hp -o name,value -t volume volsize -r tank/r
check "create -V sizes: suffixes, decimals, rounded up to 16K" 0 \
	"tank/r/v1.5G	1610612736
tank/r/v1000	16384
tank/r/v10m	10485760
tank/r/v16385	32768
tank/r/v1GiB	$G
tank/r/v1gb	$G" ""
run zfs create -V 100K -b 64K tank/r/b64
run zfs get -Hp -o value volsize,volblocksize tank/r/b64
check "create -b 64K rounds volsize up to 64K multiples" 0 "131072
65536" ""
run zfs destroy -r tank/r
check "destroy -r" 0 "" ""

run zfs create -s -V 1G tank/vms/sp
check "create -s" 0 "" ""
run zfs get -H -o value,source refreservation tank/vms/sp
check "-s: refreservation none (default)" 0 "none	default" ""
run zfs get -Hp -o value refreservation tank/vms/sp
check "-s: refreservation -p 0" 0 "0" ""
run zfs create -V 1G -o refreservation=none tank/vms/sp2
run zfs get -Hp -o value refreservation tank/vms/sp2
check "-o refreservation=none: 0" 0 "0" ""

run zfs create -V 1G -b 8K tank/vms/b8
check "create -b 8K: warning on stderr, status 0" 0 "" \
	"Warning: volblocksize (8192) is less than the default minimum block size (16384).
To reduce wasted space a volblocksize of 16384 is recommended."
run zfs get -Hp -o value volblocksize tank/vms/b8
check "-b 8K stored" 0 "8192" ""
run zfs get -H -o value,source volblocksize tank/vms/b8
check "explicit volblocksize has source -" 0 "8K	-" ""
run zfs create -V 1G -b 3000 tank/vms/b2
check "volblocksize not a power of 2" 1 "" \
	"cannot create 'tank/vms/b2': 'volblocksize' must be power of 2 from 512B to 16M"
run zfs create -V 1G -o volblocksize=32M tank/vms/b2
check "volblocksize above 16M" 1 "" \
	"cannot create 'tank/vms/b2': 'volblocksize' must be power of 2 from 512B to 16M"
run zfs create -V 1G -b abc tank/vms/b2
check "bad -b value" 1 "" "bad volume block size 'abc': bad numeric value 'abc'"

run zfs create -V 0 tank/vms/z
check "zero size" 1 "" "cannot create 'tank/vms/z': volume size cannot be zero"
run zfs create -V abc tank/vms/z
check "bad size" 1 "" "bad volume size 'abc': bad numeric value 'abc'"
run zfs create -V 10Q tank/vms/z
check "bad size suffix" 1 "" "bad volume size '10Q': invalid numeric suffix 'Q'"
run zfs create -V 99999999999999999999 tank/vms/z
check "size too large" 1 "" \
	"bad volume size '99999999999999999999': numeric value is too large"

run zfs create -V 1G nopool/x
check "volume in missing pool: zpool_open error" 1 "" \
	"cannot open 'nopool': no such pool"
run zfs create nopool/x
check "filesystem in missing pool" 1 "" \
	"cannot create 'nopool/x': no such pool 'nopool'"
run zfs create -V 1G tank/a/b
check "missing parent (volume)" 1 "" \
	"cannot create 'tank/a/b': parent does not exist"
run zfs create tank/a/b
check "missing parent (filesystem)" 1 "" \
	"cannot create 'tank/a/b': parent does not exist"
run zfs create -V 1G tank/vms/web1/x
check "parent is a volume" 1 "" \
	"cannot create 'tank/vms/web1/x': parent is not a filesystem"
run zfs create -p -V 1G tank/p1/p2/vol
check "create -p makes parents" 0 "" ""
run zfs list -H -o name,type -r tank/p1
check "parents are filesystems" 0 "tank/p1	filesystem
tank/p1/p2	filesystem
tank/p1/p2/vol	volume" ""
run zfs create -V 1G tank/vms/web1
check "volume exists" 1 "" \
	"cannot create 'tank/vms/web1': dataset already exists"
run zfs create tank/vms
check "filesystem exists" 1 "" "cannot create 'tank/vms': dataset already exists"
run zfs create -p -V 1G tank/vms/web1
check "create -p of an existing volume: status 0" 0 "" ""

run zfs create -V 1G 'tank/a*b'
check "invalid character" 1 "" "cannot create 'tank/a*b': invalid character '*' in name"
run zfs create tank/x/
check "trailing slash" 1 "" "cannot create 'tank/x/': trailing slash in name"
run zfs create tank//x
check "empty component" 1 "" \
	"cannot create 'tank//x': empty component or misplaced '@' or '#' delimiter in name"
run zfs create /tank/x
check "leading slash" 1 "" "cannot create '/tank/x': leading slash in name"
run zfs create tank/x@s
check "'@' in a new dataset name" 1 "" \
	"cannot create 'tank/x@s': snapshot delimiter '@' is not expected here"

run zfs create -V 1G -o qvm:role=a -o qvm:role=b tank/vms/d
check "duplicate -o property" 1 "" "property 'qvm:role' specified multiple times"
run zfs create -V 1G -o foo=bar tank/vms/d
check "invalid property" 1 "" "cannot create 'tank/vms/d': invalid property 'foo'"
run zfs create -V 1G -o mountpoint=/x tank/vms/d
check "filesystem property on a volume" 1 "" \
	"cannot create 'tank/vms/d': 'mountpoint' does not apply to datasets of this type"
run zfs create -V 1G -o used=1 tank/vms/d
check "read-only property" 1 "" "cannot create 'tank/vms/d': 'used' is readonly"
run zfs create -V 1G -o compression=bogus tank/vms/d
case $ERR in
"cannot create 'tank/vms/d': 'compression' must be one of 'on | off | lzjb"*) r=ok ;;
*) r= ;;
esac
if [ "$RC" = 1 ] && [ -n "$r" ]; then ok "bad index value"; else notok "bad index value" "$RC $ERR"; fi
run zfs create -V 1G -o novalue tank/vms/d
check "-o without '='" 1 "" "missing '=' for property=value argument"
run zfs list -H -o name tank/vms/d
check "failed creates left nothing behind" 1 "" \
	"cannot open 'tank/vms/d': dataset does not exist"

run zfs create -Z tank/vms/d
check_usage "create: invalid option" "invalid option 'Z'"
run zfs create -V
check_usage "create -V without size" "missing size argument"
run zfs create -V 1G
check_usage "create without a name" "missing volume argument"
run zfs create -s tank/fs
check_usage "create -s of a filesystem" "'-s' and '-b' can only be used when creating a volume"
run zfs create -V 1G tank/vms/d1 tank/vms/d2
check_usage "create: too many arguments" "too many arguments"

run zfs create -V 1G -o qvm:role=image -o compress=lz4 tank/vms/img
run zfs get -H -o property,value,source qvm:role,compression tank/vms/img
check "user and native -o properties stored (column alias accepted)" 0 \
	"qvm:role	image	local
compression	lz4	local" ""
run zfs set qvm:pool=yes tank/vms
run zfs get -H -o value,source qvm:pool tank/vms/img
check "user property inherited" 0 "yes	inherited from tank/vms" ""
run zfs create -o mountpoint=/srv tank/fs1
run zfs create tank/fs1/c
run zfs get -H -o name,value,source mountpoint tank/fs1 tank/fs1/c tank/vms
check "mountpoint local/inherited/default" 0 "tank/fs1	/srv	local
tank/fs1/c	/srv/c	inherited from tank/fs1
tank/vms	/tank/vms	default" ""

# --- snapshot ---------------------------------------------------------------
poke "$W" hello $((1024 * 1024))
run zfs snapshot tank/vms/web1@base
check "snapshot" 0 "" ""
run zfs snapshot tank/vms/web1@base
check "snapshot exists" 1 "" \
	"cannot create snapshot 'tank/vms/web1@base': dataset already exists"
run zfs snapshot tank/nope@x
check_usage "snapshot of a missing dataset: error then usage" \
	"cannot open 'tank/nope': dataset does not exist"
run zfs snapshot tank/vms/web1
if [ "$RC" = 2 ] && [ "${ERR%%$'\n'*}" = "usage:" ]; then
	ok "snapshot without '@': usage only"
else notok "snapshot without '@': usage only" "$RC $ERR"; fi
run zfs snapshot 'tank/vms/web1@a*b'
check "snapshot name with invalid character" 1 "" \
	"cannot create snapshot 'tank/vms/web1@a*b': invalid character '*' in name"
run zfs snapshot -o compression=off tank/vms/web1@c
check "native property on a snapshot" 1 "" \
	"cannot create snapshots : this property can not be modified for snapshots"
run zfs snapshot -o qvm:note=x tank/vms/web1@u
check "snapshot -o user property" 0 "" ""
run zfs get -H -o value,source qvm:note,type,volsize tank/vms/web1@u
check "snapshot user property, type, volsize" 0 "x	local
snapshot	-
20G	local" ""
run zfs snapshot tank/vms/web1@u tank/vms/web1@u2
check "several snapshots of one dataset: refused, none created" 1 "" \
	"cannot create snapshots : multiple snapshots of same fs not allowed
no snapshots were created"

# --- clone ------------------------------------------------------------------
poke "$W" XXXXX $((1024 * 1024))
run zfs clone tank/vms/web1@base tank/vms/c1
check "clone" 0 "" ""
C1=$DEV/tank/vms/c1
if [ "$(peek "$C1" 5 $((1024 * 1024)))" = hello ] && [ "$(fsize "$C1")" = $((20 * G)) ]; then
	ok "clone device has the snapshot's content, volsize bytes"
else notok "clone device has the snapshot's content, volsize bytes" "$(peek "$C1" 5 $((1024 * 1024)))"; fi
run zfs get -H -o value origin,volsize,refreservation tank/vms/c1
check "clone: origin, volsize, no refreservation (as OpenZFS)" 0 "tank/vms/web1@base
20G
none" ""
run zfs get -H -o value clones tank/vms/web1@base
check "snapshot clones property" 0 "tank/vms/c1" ""
run zfs get -H -o value clones tank/vms/web1@u
check "clones '-' when none" 0 "-" ""
run zfs clone -o volsize=30G -o qvm:role=vm -o refreservation=auto \
	tank/vms/web1@base tank/vms/c2
check "clone -o volsize -o user -o refreservation=auto" 0 "" ""
run zfs get -Hp -o value volsize,refreservation,qvm:role tank/vms/c2
check "clone properties applied" 0 "$((30 * G))
32718192640
vm" ""
if [ "$(fsize "$DEV/tank/vms/c2")" = $((30 * G)) ] &&
	[ "$(peek "$DEV/tank/vms/c2" 5 $((1024 * 1024)))" = hello ]; then
	ok "clone -o volsize: device extended, content kept"
else notok "clone -o volsize: device extended, content kept" "$(fsize "$DEV/tank/vms/c2")"; fi
run zfs clone tank/vms/web1 tank/vms/c3
check "clone of a non-snapshot" 1 "" \
	"cannot open 'tank/vms/web1': missing '@' delimiter in snapshot name"
run zfs clone tank/vms/web1@nope tank/vms/c3
check "clone of a missing snapshot" 1 "" \
	"cannot open 'tank/vms/web1@nope': dataset does not exist"
run zfs clone tank/vms/web1@base tank/vms/c1
check "clone target exists" 1 "" "cannot create 'tank/vms/c1': dataset already exists"
run zfs clone tank/vms/web1@base other/c
check "clone across pools" 1 "" "cannot create 'other/c': source and target pools differ"
run zfs clone tank/vms/web1@base tank/nope/c
check "clone: missing parent" 1 "" "cannot create 'tank/nope/c': parent does not exist"
run zfs clone -o volblocksize=8K tank/vms/web1@base tank/vms/c3
check "clone -o volblocksize" 1 "" "cannot create 'tank/vms/c3': 'volblocksize' is readonly"
run zfs clone -o volsize=1000 tank/vms/web1@base tank/vms/c3
check "clone -o volsize not a multiple of volblocksize" 1 "" \
	"cannot create 'tank/vms/c3': 'volsize' must be a multiple of volume block size (16K)"
run zfs clone -o qvm:a=1 -o qvm:a=2 tank/vms/web1@base tank/vms/c3
check "clone: duplicate -o (status 1 as zfs_do_clone)" 1 "" \
	"property 'qvm:a' specified multiple times"
run zfs clone tank/vms/web1@base
check_usage "clone: missing target" "missing target dataset argument"
run zfs clone -p tank/vms/web1@base tank/deep/er/c3
check "clone -p creates parents" 0 "" ""
run zfs list -H -o name,origin tank/deep/er/c3
check "clone -p result" 0 "tank/deep/er/c3	tank/vms/web1@base" ""

# concurrent clones to one target
zfs snapshot tank/vms/web1@race
zfs clone tank/vms/web1@race tank/vms/race >"$WS/r1.out" 2>"$WS/r1.err" &
p1=$!
zfs clone tank/vms/web1@race tank/vms/race >"$WS/r2.out" 2>"$WS/r2.err" &
p2=$!
wait $p1
s1=$?
wait $p2
s2=$?
e="cannot create 'tank/vms/race': dataset already exists"
if { [ $s1 = 0 ] && [ $s2 = 1 ] && [ "$(cat "$WS/r2.err")" = "$e" ]; } ||
	{ [ $s2 = 0 ] && [ $s1 = 1 ] && [ "$(cat "$WS/r1.err")" = "$e" ]; }; then
	ok "two concurrent clones: exactly one succeeds"
else notok "two concurrent clones: exactly one succeeds" "$s1 $s2 $(cat "$WS/r1.err" "$WS/r2.err")"; fi

# --- destroy ----------------------------------------------------------------
run zfs destroy tank/nope
check "destroy missing" 1 "" "cannot open 'tank/nope': dataset does not exist"
run zfs destroy tank/nope@x
check "destroy snapshot of missing dataset" 1 "" \
	"cannot open 'tank/nope': dataset does not exist"
run zfs destroy tank/vms/web1@nope
check "destroy missing snapshot" 1 "" \
	"could not find any snapshots to destroy; check snapshot names."
run zfs destroy tank/vms/web1@base
check "destroy snapshot with clones" 1 "" \
	"cannot destroy 'tank/vms/web1@base': snapshot has dependent clones
use '-R' to destroy the following datasets:
tank/vms/c1
tank/vms/c2
tank/deep/er/c3"
run zfs destroy tank/vms/web1
check "destroy volume with snapshots" 1 "" \
	"cannot destroy 'tank/vms/web1': volume has children
use '-r' to destroy the following datasets:
tank/vms/web1@base
tank/vms/web1@u
tank/vms/web1@race"
run zfs destroy -r tank/vms/web1
check "destroy -r volume whose snapshots have clones" 1 "" \
	"cannot destroy 'tank/vms/web1': volume has dependent clones
use '-R' to destroy the following datasets:
tank/vms/c1
tank/vms/c2
tank/deep/er/c3
tank/vms/race"
run zfs destroy tank/fs1
check "destroy filesystem with children" 1 "" \
	"cannot destroy 'tank/fs1': filesystem has children
use '-r' to destroy the following datasets:
tank/fs1/c"
run zfs destroy tank
check "destroy pool" 1 "" "cannot destroy 'tank': operation does not apply to pools
use 'zfs destroy -r tank' to destroy all datasets in the pool
use 'zpool destroy tank' to destroy the pool itself"
run zfs destroy -x tank/vms/c1
check_usage "destroy: invalid option" "invalid option 'x'"
run zfs destroy tank/vms/c1
check "destroy clone" 0 "" ""
assert "clone device removed" test ! -e "$C1"
run zfs get -H -o value clones tank/vms/web1@base
check "origin's clones updated" 0 "tank/vms/c2,tank/deep/er/c3" ""
run zfs destroy -R tank/vms/web1@base
check "destroy -R snapshot" 0 "" ""
run zfs list -H -o name tank/vms/c2 tank/deep/er/c3 tank/vms/web1@base
check "destroy -R removed the clones" 1 "" \
	"cannot open 'tank/vms/c2': dataset does not exist
cannot open 'tank/deep/er/c3': dataset does not exist
cannot open 'tank/vms/web1@base': dataset does not exist"
run zfs destroy -r tank/fs1
check "destroy -r filesystem" 0 "" ""
zfs create -V 1M tank/vms/tmpv
zfs snapshot tank/vms/tmpv@a
n0=$(find "$ST/snapdata" -type f | wc -l)
run zfs destroy -r tank/vms/tmpv
check "destroy -r volume with a snapshot" 0 "" ""
n1=$(find "$ST/snapdata" -type f | wc -l)
if [ ! -e "$DEV/tank/vms/tmpv" ] && [ "$n1" = $((n0 - 1)) ]; then
	ok "destroy -r removed the device and the snapshot's data"
else notok "destroy -r removed the device and the snapshot's data" "$n0 $n1"; fi
run zfs list -H -o name -t all tank/vms/tmpv@a
check "destroy -r removed the snapshot" 1 "" "cannot open 'tank/vms/tmpv@a': dataset does not exist"
run zfs destroy -r tank/p1
check "destroy -r tree with a volume" 0 "" ""
assert "volume device removed by destroy -r" test ! -e "$DEV/tank/p1/p2/vol"

# --- get --------------------------------------------------------------------
run zfs get -H -o name,value volsize tank/vms/web1 tank/nope
check "get: missing dataset" 1 "tank/vms/web1	20G" \
	"cannot open 'tank/nope': dataset does not exist"
run zfs get bogus tank/vms/web1
check_usage "get: invalid property" "bad property list: invalid property 'bogus'"
run zfs get
check_usage "get: missing property" "missing property argument"
run zfs get -Hp -o value used,referenced tank/vms/sp
check "get used/referenced of a sparse volume" 0 "$(falloc "$DEV/tank/vms/sp")
$(falloc "$DEV/tank/vms/sp")" ""
poke "$DEV/tank/vms/sp" data $((300 * 1024 * 1024))
run zfs get -Hp -o value referenced tank/vms/sp
check "referenced follows allocated bytes of the device" 0 "$(falloc "$DEV/tank/vms/sp")" ""
t0=$(date +%s)
run zfs get -Hp -o value creation tank/vms/sp
if [ "$RC" = 0 ] && [ "$OUT" -le "$t0" ] && [ "$OUT" -gt $((t0 - 600)) ]; then
	ok "creation -p is epoch seconds"
else notok "creation -p is epoch seconds" "$OUT"; fi
run zfs get -H -o value creation tank/vms/sp
case $OUT in
[A-Z][a-z][a-z]" "[A-Z][a-z][a-z]" "*[0-9]":"[0-9][0-9]" "[0-9][0-9][0-9][0-9]) ok "creation is a date" ;;
*) notok "creation is a date" "$OUT" ;;
esac
run zfs get -H -o name -t snapshot name tank/vms/web1
check "get -t snapshot lists the snapshots" 0 "tank/vms/web1@u
tank/vms/web1@race" ""
run zfs get -H -o value volsize tank/vms
check "get volsize of a filesystem: -" 0 "-" ""

# --- list -------------------------------------------------------------------
run zfs list -o name,volsize tank/vms/web1
check "list: header and right-aligned sizes" 0 "NAME           VOLSIZE
tank/vms/web1      20G" ""
run zfs list -H -r -o name tank/vms
check "list -r sorted by name, no snapshots" 0 "tank/vms
tank/vms/b8
tank/vms/img
tank/vms/race
tank/vms/sp
tank/vms/sp2
tank/vms/web1" ""
run zfs list -H -d 1 -o name tank
check "list -d 1" 0 "tank
tank/deep
tank/vms" ""
run zfs list -H -t snapshot -o name
check "list -t snapshot" 0 "tank/vms/web1@u
tank/vms/web1@race" ""
run zfs list -H -t all -o name -r tank/vms/web1
check "list -t all: snapshots after their dataset" 0 "tank/vms/web1
tank/vms/web1@u
tank/vms/web1@race" ""
run zfs list -H -o name tank/vms/web1@u
check "list of a named snapshot" 0 "tank/vms/web1@u" ""
run zfs list -Hp -o name,volsize -s volsize -t volume -r tank/vms
check "list -s volsize, ties by name" 0 "tank/vms/b8	1073741824
tank/vms/img	1073741824
tank/vms/sp	1073741824
tank/vms/sp2	1073741824
tank/vms/race	$((20 * G))
tank/vms/web1	$((20 * G))" ""
run zfs list -H -o name,qvm:role -t volume -r tank/vms
check "list user property column" 0 "tank/vms/b8	-
tank/vms/img	image
tank/vms/race	-
tank/vms/sp	-
tank/vms/sp2	-
tank/vms/web1	-" ""
run zfs list -H tank/nope
check "list missing dataset" 1 "" "cannot open 'tank/nope': dataset does not exist"
run zfs list -H -t snapshot tank/vms/img
check "list -H with nothing to show: no output" 0 "" ""
run zfs list -t snapshot tank/vms/img
check "list with nothing to show: no datasets available" 0 "" "no datasets available"
run zfs list -o bogus
check_usage "list -o bogus" "bad property list: invalid property 'bogus'"

# --- set --------------------------------------------------------------------
run zfs set qvm:x=1 tank/vms/web1
check "set user property" 0 "" ""
run zfs get -H -o value qvm:x tank/vms/web1
check "user property set" 0 "1" ""
run zfs set volsize=40G tank/vms/web1
check "set volsize" 0 "" ""
run zfs get -Hp -o value volsize,refreservation tank/vms/web1
check "volsize and (thick) refreservation updated" 0 "$((40 * G))
43623645184" ""
assert "set volsize resized the device" test "$(fsize "$W")" = $((40 * G))
run zfs set volsize=1000 tank/vms/web1
# OpenZFS 2.3 exits 255 when a property cannot be set (2.1: 1).
check "set volsize not a multiple: status 255" 255 "" \
	"cannot set property for 'tank/vms/web1': 'volsize' must be a multiple of volume block size (16K)"
run zfs set bogus=1 tank/vms/web1
check "set invalid property: status 255" 255 "" \
	"cannot set property for 'tank/vms/web1': invalid property 'bogus'"
run zfs set qvm:x=1 tank/nope
check "set on a missing dataset" 1 "" "cannot open 'tank/nope': dataset does not exist"
run zfs set qvm:x=1
check_usage "set without dataset" "missing dataset name(s)"

# --- failure injection --------------------------------------------------------
printf '# comment\n\nclone\ttank/vms/f*\t1\tcannot create '\''tank/vms/f1'\'': out of space\n' \
	>"$ST/fail"
run zfs clone tank/vms/web1@u tank/vms/g1
check "injection: no match for another name" 0 "" ""
run zfs clone tank/vms/web1@u tank/vms/f1
check "injection: one-shot failure applied" 1 "" "cannot create 'tank/vms/f1': out of space"
run zfs list -H -o name tank/vms/f1
check "injection: state unchanged" 1 "" "cannot open 'tank/vms/f1': dataset does not exist"
assert "injection: one-shot line removed" sh -c "! grep -q clone '$ST/fail'"
run zfs clone tank/vms/web1@u tank/vms/f1
check "injection: next call succeeds" 0 "" ""
printf '*destroy\ttank/vms/f1\t1\tcannot destroy '\''tank/vms/f1'\'': dataset is busy\n' >"$ST/fail"
run zfs destroy tank/vms/f1
check "injection: persistent (1)" 1 "" "cannot destroy 'tank/vms/f1': dataset is busy"
run zfs destroy tank/vms/f1
check "injection: persistent (2)" 1 "" "cannot destroy 'tank/vms/f1': dataset is busy"
assert "injection: persistent line kept" grep -q '^\*destroy' "$ST/fail"
printf 'get\t*\tsignal:6\tinternal error: Unknown error 524\n' >"$ST/fail"
run zfs get -H -o value volsize tank/vms/web1
check "injection: signal:6 gives status 134" 134 "" "internal error: Unknown error 524"
printf 'create\ttank/*\t1\tline one\\nline two\nlist\t*\t2\t\n' >"$ST/fail"
run zfs create -V 1G tank/vms/m
check "injection: \\n in message" 1 "" "line one
line two"
run zfs list
check "injection: list without operands, empty message" 2 "" ""
rm -f "$ST/fail"
run zfs destroy tank/vms/f1
check "destroy after removing the fail file" 0 "" ""

# --- device delay -------------------------------------------------------------
echo 0.7 >"$ST/device_delay"
t0=$(now_ms)
run zfs create -V 1G tank/vms/late
t1=$(now_ms)
if [ "$RC" = 0 ] && [ ! -e "$DEV/tank/vms/late" ] && [ $((t1 - t0)) -lt 600 ]; then
	ok "device_delay: create returns at once, device not there yet"
else notok "device_delay: create returns at once, device not there yet" "$RC $((t1 - t0))ms"; fi
zfs snapshot tank/vms/web1@d
run zfs clone tank/vms/web1@d tank/vms/late2
assert "device_delay: clone device not there yet" test ! -e "$DEV/tank/vms/late2"
rm -f "$ST/device_delay"
for _ in $(seq 40); do
	[ -e "$DEV/tank/vms/late" ] && [ -e "$DEV/tank/vms/late2" ] && break
	sleep 0.1
done
if [ "$(fsize "$DEV/tank/vms/late" 2>/dev/null)" = "$G" ] &&
	[ "$(peek "$DEV/tank/vms/late2" 5 $((1024 * 1024)))" = XXXXX ]; then
	ok "device_delay: devices appear later with full content"
else notok "device_delay: devices appear later with full content" "$(ls -la "$DEV/tank/vms")"; fi

# --- sparse copies are fast -------------------------------------------------------
zfs create -s -V 4G tank/vms/big
poke "$DEV/tank/vms/big" bigdata $((3 * G))
t0=$(now_ms)
zfs snapshot tank/vms/big@s && zfs clone tank/vms/big@s tank/vms/bigc
t1=$(now_ms)
BC=$DEV/tank/vms/bigc
if [ $((t1 - t0)) -lt 3000 ] && [ "$(falloc "$BC")" -lt $((16 * 1024 * 1024)) ] &&
	[ "$(peek "$BC" 7 $((3 * G)))" = bigdata ]; then
	ok "snapshot + clone of a 4 GiB sparse volume is fast and sparse"
else notok "snapshot + clone of a 4 GiB sparse volume is fast and sparse" "$((t1 - t0))ms $(falloc "$BC")"; fi

# --- log ----------------------------------------------------------------------
if grep -qxF "zfs	create	-V	20G	tank/vms/web1" "$ST/log" &&
	grep -qxF "zfs	clone	tank/vms/web1@u	tank/vms/f1" "$ST/log"; then
	ok "log: one tab-separated line per invocation"
else notok "log: one tab-separated line per invocation" "$(tail -3 "$ST/log")"; fi

echo "$PASS passed, $FAIL failed"
[ "$FAIL" -eq 0 ]
