#!/usr/bin/env bash
# qvm against real OpenZFS: the real zfs, real udev, real /dev/zvol devices.
# Runs in the real-ZFS guest (tests/zfs-real/guest-job.sh), as root, with
# pools tank (1 GiB), other (256 MiB) and small (96 MiB) and nothing in them.
# The checks of tests/integration: after every failure nothing qvm made is
# left, nothing that existed is gone, and the message is precise. Each
# failure's own words are printed ("# Error ...") for the record.
. "$(dirname "$0")/../integration/lib.sh"

# lib.sh put the double first in PATH: take it out; this is the real thing.
# (QVM_REAL_ZVOL_DIR: only to try this script itself out on another zfs.)
rm -f "$WORK/bin/zfs"
export QVM_ZVOL_DIR=${QVM_REAL_ZVOL_DIR:-/dev/zvol} QVM_DEVICE_TIMEOUT=60
Z=$QVM_ZVOL_DIR
case $(zfs version 2>&1) in
zfs-[0-9]*) ;;
*) echo "not ok - the real zfs is not in PATH"; echo "0 passed, 1 failed"; exit 1 ;;
esac

# show: the failure's words, for the record.
show() { printf '%s\n' "$ERR" | sed 's/^/#   /'; }
# settle: udev is done with every device.
settle() { udevadm settle; }
# same_state WHAT BEFORE: nothing made is left, nothing existing is gone.
same_state() {
	settle
	if [ "$(state)" = "$2" ]; then ok "$1: nothing left, nothing gone"; else
		not_ok "$1: nothing left, nothing gone"
		diff <(printf '%s\n' "$2") <(state) | sed 's/^/#   /'
	fi
}
# fails WHAT TEXT: exit 1 and TEXT in the error.
fails() {
	check "$1: exit 1" [ "$RC" -eq 1 ]
	check "$1: says '$2'" contains "$ERR" "$2"
	show
}
# vmfile NAME BASE [zvol lines]: a small qvm file on test:///default.
vmfile() {
	cat >"$WORK/$1.yaml" <<EOF2
---
qvm: vm
name: $1
connect: test:///default
memory: 512
os-variant: debian11
graphics: none
disk:
  bus: virtio
  zvol:
    base: $2
${3:-}
---
qvm: user-data
runcmd:
  - [touch, /root/hello]
---
qvm: meta-data
EOF2
}
prop() { zfs get -Hp -o value "$2" "$1"; }
# diagnose PID: what qvm and its children wait for, and the pools.
diagnose() {
	local p
	ps -eo pid,ppid,stat,etime,wchan:32,args | grep -v ' \[' | sed 's/^/#   /'
	for p in "$1" $(pgrep -P "$1"); do
		echo "#   /proc/$p/stack ($(cat /proc/$p/comm 2>/dev/null)):"
		sed 's/^/#     /' "/proc/$p/stack" 2>/dev/null
	done
	zpool list 2>&1 | sed 's/^/#   /'
	zpool status -x 2>&1 | sed 's/^/#   /'
}
# run_bounded SECS ARGS...: run_qvm, but a qvm still running after SECS s
# fails: what it waits for is printed, then it gets SIGTERM (and SIGKILL
# 120 s later).
run_bounded() {
	local secs=$1 pid i
	shift
	$QVM_WRAP "$QVM" "$@" >"$WORK/out" 2>"$WORK/err" &
	pid=$!
	for ((i = 0; i < secs * 10; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		not_ok "qvm $* finishes within $secs s"
		diagnose "$pid"
		kill -TERM "$pid"
		for ((i = 0; i < 1200; i++)); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -0 "$pid" 2>/dev/null && { echo "#   SIGTERM did not stop it"; diagnose "$pid"; kill -KILL "$pid"; }
	fi
	wait "$pid"
	RC=$?
	OUT=$(cat "$WORK/out")
	ERR=$(cat "$WORK/err")
}

MIB=1048576
IMG=$WORK/cloud.raw
make_raw "$IMG" 64
DEV=$Z/tank/debian12

# --- qvm image: raw, byte for byte on the real zvol ---------------------------
before=$(state)
run_qvm image "$IMG" tank/debian12
check "image raw: exit 0" [ "$RC" -eq 0 ]
[ "$RC" -eq 0 ] || show
check "image raw: completion line" \
	contains "$OUT" "Image tank/debian12 created with snapshot tank/debian12@base"
check "image raw: the zvol holds the image byte for byte" cmp -n $((64 * MIB)) "$IMG" "$DEV"
check "image raw: volsize = the image's size" [ "$(prop tank/debian12 volsize)" = $((64 * MIB)) ]
check "image raw: volblocksize 16K" [ "$(prop tank/debian12 volblocksize)" = 16384 ]
check "image raw: refreservation none" [ "$(prop tank/debian12 refreservation)" = 0 ]
check "image raw: tagged qvm:role=image" [ "$(prop tank/debian12 qvm:role)" = image ]
check "image raw: snapshot @base" eval 'zfs list -H -o name tank/debian12@base >/dev/null'
check "image raw: the snapshot holds the image" \
	[ "$(prop tank/debian12@base referenced)" -gt $((150 * 1024)) ]

# --- qvm image: qcow2 -----------------------------------------------------------
qemu-img convert -f raw -O qcow2 "$IMG" "$WORK/cloud.qcow2"
run_qvm image "$WORK/cloud.qcow2" tank/fromqcow
check "image qcow2: exit 0" [ "$RC" -eq 0 ]
[ "$RC" -eq 0 ] || show
check "image qcow2: the zvol holds its raw twin byte for byte" \
	cmp -n $((64 * MIB)) "$IMG" $Z/tank/fromqcow

# an odd size: rounded up to a MiB, the tail zero
head -c 1500000 /dev/urandom >"$WORK/odd.raw"
run_qvm image "$WORK/odd.raw" tank/odd
check "image odd size: volsize rounded up to a MiB" [ "$(prop tank/odd volsize)" = 2097152 ]
check "image odd size: content" cmp -n 1500000 "$WORK/odd.raw" $Z/tank/odd
check "image odd size: zero after the image" \
	cmp -n $((2097152 - 1500000)) -i 1500000:0 $Z/tank/odd /dev/zero

# --- qvm image: compressed and archived sources, streamed (issue 15) -----------
# The volume is made thin and large, then given the stream's size: exact on
# real ZFS, and the tail reads as zeros (the guest has xz and curl:
# guest-zfs.sh).
zip_cmd="xz -T1"; zx=xz
$zip_cmd -c "$WORK/odd.raw" >"$WORK/odd.raw.$zx"
tar -C "$WORK" -cf - odd.raw | $zip_cmd -c >"$WORK/odd.tar.$zx"
for src in "odd.raw.$zx" "odd.tar.$zx"; do
	vol=tank/s-${src//./-}
	run_qvm image "$WORK/$src" "$vol"
	check "image $src: exit 0" [ "$RC" -eq 0 ]
	[ "$RC" -eq 0 ] || show
	settle
	check "image $src: volsize the image's size in whole MiB" \
		[ "$(prop "$vol" volsize)" = 2097152 ]
	check "image $src: refreservation none" [ "$(prop "$vol" refreservation)" = 0 ]
	check "image $src: the zvol holds the image byte for byte" \
		cmp -n 1500000 "$WORK/odd.raw" "$Z/$vol"
	check "image $src: zero after the image" \
		cmp -n $((2097152 - 1500000)) -i 1500000:0 "$Z/$vol" /dev/zero
	check "image $src: snapshot @base of that size" \
		[ "$(prop "$vol@base" volsize)" = 2097152 ]
done
# A URL is hashed on the way: the volume is made, then undone when the
# digest differs (a local file is hashed before anything is made).
at=file://$WORK
before=$(state)
run_qvm image --sha256 "$(printf '%064d' 0)" "$at/odd.raw.$zx" tank/badsum
fails "image, checksum mismatch (streamed)" "checksum mismatch for odd.raw.$zx"
same_state "image, checksum mismatch" "$before"
run_qvm image --sha256 "$(sha256sum <"$WORK/odd.raw.$zx" | cut -d' ' -f1)" \
	"$at/odd.raw.$zx" tank/goodsum
check "image $at/odd.raw.$zx with --sha256: exit 0" [ "$RC" -eq 0 ]
[ "$RC" -eq 0 ] || show
check "image with --sha256: content" cmp -n 1500000 "$WORK/odd.raw" $Z/tank/goodsum

# --- qvm -n image: checks for real, changes nothing -------------------------------
before=$(state)
run_qvm -n image "$IMG" tank/dry
check "image -n: exit 0" [ "$RC" -eq 0 ]
check "image -n: prints the create" contains "$OUT" "zfs create -V $((64 * MIB))"
same_state "image -n" "$before"
run_qvm -n image "$IMG" tank/debian12
fails "image -n, existing name" "tank/debian12 already exists"

# --- qvm image failures -----------------------------------------------------------
old=$(md5sum <"$DEV")
before=$(state)
run_qvm image "$IMG" tank/debian12
fails "image, existing zvol" "tank/debian12 already exists"
check "image, existing zvol: its content untouched" [ "$(md5sum <"$DEV")" = "$old" ]
same_state "image, existing zvol" "$before"

zfs create tank/fs
before=$(state)
run_qvm image "$IMG" tank/fs
fails "image onto an existing filesystem" "tank/fs already exists"
same_state "image onto an existing filesystem" "$before"

run_qvm image "$IMG" tank/nope/x
fails "image, missing parent" "parent dataset does not exist"
same_state "image, missing parent" "$before"

run_qvm image "$IMG" nopool/x
fails "image, missing pool" "pool does not exist"
same_state "image, missing pool" "$before"

run_qvm image "$IMG" tank/debian12/x
fails "image, parent is a volume" "parent is not a filesystem"
same_state "image, parent is a volume" "$before"

# SIGINT during the copy
head -c $((200 * MIB)) /dev/urandom >"$WORK/slow.raw"
$QVM_WRAP "$QVM" image "$WORK/slow.raw" tank/sigint >"$WORK/out" 2>"$WORK/err" &
PID=$!
for _ in $(seq 600); do
	[ -e $Z/tank/sigint ] && break
	sleep 0.1
done
sleep 1
kill -s INT "$PID"
wait "$PID"
RC=$?
OUT=$(cat "$WORK/out")
ERR=$(cat "$WORK/err")
check "image, SIGINT during the copy: exit 130" [ "$RC" -eq 130 ]
check "image, SIGINT during the copy: undone" contains "$OUT" "Undid: destroyed zvol tank/sigint"
show
same_state "image, SIGINT during the copy" "$before"

# --- qvm vm -----------------------------------------------------------------------
vmfile web1 tank/debian12 "    volsize: 128M
    compression: lz4"
before=$(state)
run_qvm -n vm "$WORK/web1.yaml"
check "vm -n: exit 0" [ "$RC" -eq 0 ]
[ "$RC" -eq 0 ] || show
check "vm -n: prints the clone" contains "$OUT" "zfs clone -o volsize=128M -o compression=lz4"
same_state "vm -n" "$before"

run_qvm vm "$WORK/web1.yaml"
check "vm: exit 0" [ "$RC" -eq 0 ]
[ "$RC" -eq 0 ] || show
check "vm: completion line" contains "$OUT" "VM web1 created"
check "vm: a clone of the base" [ "$(prop tank/web1 origin)" = tank/debian12@base ]
check "vm: volsize 128M" [ "$(prop tank/web1 volsize)" = $((128 * MIB)) ]
check "vm: compression lz4" [ "$(prop tank/web1 compression)" = lz4 ]
check "vm: tagged qvm:role=vm, qvm:name=web1" \
	eval '[ "$(prop tank/web1 qvm:role)" = vm ] && [ "$(prop tank/web1 qvm:name)" = web1 ]'
check "vm: qvm:seed names the seed directory" [ "$(prop tank/web1 qvm:seed)" = "$QVM_SEED_DIR/web1" ]
check "vm: the device holds the base's bytes" cmp -n $((64 * MIB)) "$IMG" $Z/tank/web1
check "vm: the device has the new size" \
	[ "$(blockdev --getsize64 $Z/tank/web1)" = $((128 * MIB)) ]
check "vm: seed ISO, mode 0600" [ "$(stat -c %a "$QVM_SEED_DIR/web1/seed.iso")" = 600 ]

vmfile web2 tank/debian12
run_qvm vm "$WORK/web2.yaml"
check "vm without volsize: exit 0" [ "$RC" -eq 0 ]
[ "$RC" -eq 0 ] || show
check "vm without volsize: the base's size" [ "$(prop tank/web2 volsize)" = $((64 * MIB)) ]

# --- list -------------------------------------------------------------------------
zfs create -V 16M tank/notqvm
run_qvm list
check "list: exit 0" [ "$RC" -eq 0 ]
check "list: the image" eval 'printf "%s\n" "$OUT" | grep -q "^tank/debian12 *image "'
check "list: the VM with its origin" \
	eval 'printf "%s\n" "$OUT" | grep -q "^tank/web1 *vm *web1 *tank/debian12@base "'
check "list: not a volume qvm did not make" eval '! contains "$OUT" "tank/notqvm"'
check "list: not a filesystem" eval '! contains "$OUT" "tank/fs"'
run_qvm list -H
check "list -H: tab-separated bytes" \
	eval 'printf "%s\n" "$OUT" | grep -qP "^tank/web1\tvm\tweb1\ttank/debian12\@base\t134217728\t\d+\t\d{4}-\d\d-\d\dT"'

# --- qvm vm failures ----------------------------------------------------------------
before=$(state)
vmfile notqvm tank/debian12
run_qvm vm "$WORK/notqvm.yaml"
fails "vm, the zvol exists" "tank/notqvm already exists"
same_state "vm, the zvol exists" "$before"

vmfile nobase tank/nobase
run_qvm vm "$WORK/nobase.yaml"
fails "vm, missing base" "tank/nobase@base does not exist"
same_state "vm, missing base" "$before"

vmfile nopool nopool/debian12
run_qvm vm "$WORK/nopool.yaml"
fails "vm, missing pool" "nopool/debian12@base"
same_state "vm, missing pool" "$before"

vmfile tiny tank/debian12 "    volsize: 32M"
run_qvm vm "$WORK/tiny.yaml"
fails "vm, volsize smaller than the base" "smaller"
same_state "vm, volsize smaller than the base" "$before"

vmfile badprop tank/debian12 "    compression: bogus"
run_qvm vm "$WORK/badprop.yaml"
fails "vm, zfs refuses a property" "could not clone to tank/badprop: a property or its value is not valid"
same_state "vm, zfs refuses a property" "$before"

vmfile badsize tank/debian12 "    volsize: 100000001"
run_qvm vm "$WORK/badsize.yaml"
fails "vm, volsize not a multiple of volblocksize" "tank/badsize"
same_state "vm, volsize not a multiple of volblocksize" "$before"

# a clone that needs more space than the pool has
make_raw "$WORK/s.raw" 8
"$QVM" image "$WORK/s.raw" small/base >/dev/null 2>&1 ||
	not_ok "setting up small/base"
before=$(state)
vmfile fat small/base "    volsize: 1G
    refreservation: auto"
run_qvm vm "$WORK/fat.yaml"
fails "vm, pool out of space" "could not clone to small/fat: the pool is out of space"
same_state "vm, pool out of space" "$before"

# --- destroy ------------------------------------------------------------------------
before=$(state)
run_qvm destroy tank/notqvm
fails "destroy, a volume without qvm's tag" "does not carry qvm's tag"
same_state "destroy, a volume without qvm's tag" "$before"

run_qvm destroy tank/debian12
fails "destroy, an image with clones" "tank/debian12@base still has clones"
same_state "destroy, an image with clones" "$before"

# a busy volume: its device held open
exec 7<$Z/tank/web2
run_qvm destroy web2
exec 7<&-
fails "destroy, the volume is busy" "busy"
same_state "destroy, the volume is busy" "$before"

# a user's snapshot on a VM's volume
zfs snapshot tank/web2@mine
before=$(state)
run_qvm destroy web2
fails "destroy, a user's snapshot on the VM's volume" "tank/web2"
same_state "destroy, a user's snapshot on the VM's volume" "$before"
zfs destroy tank/web2@mine

before=$(state)
for vm in web1 web2; do
	run_qvm destroy $vm
	check "destroy $vm: exit 0" [ "$RC" -eq 0 ]
	[ "$RC" -eq 0 ] || show
	check "destroy $vm: the clone is gone" eval '! zfs list tank/$vm >/dev/null 2>&1'
	check "destroy $vm: the device is gone" eval 'settle; [ ! -e $Z/tank/$vm ]'
	check "destroy $vm: the seed is gone" [ ! -e "$QVM_SEED_DIR/$vm" ]
done
for img in tank/debian12 tank/fromqcow tank/odd tank/s-odd-raw-xz \
	tank/s-odd-tar-xz tank/goodsum small/base; do
	run_qvm destroy $img
	check "destroy image $img: exit 0" [ "$RC" -eq 0 ]
	[ "$RC" -eq 0 ] || show
	check "destroy image $img: gone with its snapshot" \
		eval '! zfs list -t all $img >/dev/null 2>&1'
done
run_qvm list -H
check "list: empty at the end" [ -z "$OUT" ]
check "the untagged volume and the filesystem survived it all" \
	eval 'zfs list tank/notqvm >/dev/null && zfs list tank/fs >/dev/null'

# --- last, as it may hang: a pool out of space ----------------------------------
# 96 MiB of random data into the 80 MiB pool small; bounded.
before_enospc=$(state)
head -c $((96 * MIB)) /dev/urandom >"$WORK/big.raw"
run_bounded 300 image "$WORK/big.raw" small/big
fails "image, pool out of space" "small/big"
check "image, pool out of space: the cause is named" \
	eval 'contains "$ERR" "space" || contains "$ERR" "No space left"'
same_state "image, pool out of space" "$before_enospc"


finish
