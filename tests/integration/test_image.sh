#!/bin/bash
# qvm image: the real binary against the zfs test double.
. "$(dirname "$0")/lib.sh"

IMG=$WORK/cloud.raw
make_raw "$IMG" 64
DEV=$QVM_ZVOL_DIR/tank/debian12

# --- a raw image imports byte for byte, thin, and gets its snapshot ---
run_qvm image "$IMG" tank/debian12
check "raw import succeeds" [ "$RC" -eq 0 ]
check "completion line names volume and snapshot" \
	contains "$OUT" "Image tank/debian12 created with snapshot tank/debian12@base"
check "no error output" [ -z "$ERR" ]
check "device content equals the image" cmp -s "$IMG" "$DEV"
check "snapshot tank/debian12@base exists" eval "zfs list -H -o name tank/debian12@base >/dev/null"
check "volblocksize 16K and refreservation none were asked for" \
	grep -qP '^zfs\tcreate\t-V\t67108864\t-o\tvolblocksize=16K\t-o\trefreservation=none\t' \
	"$ZFS_DOUBLE_DIR/log"
check "the volume carries qvm's tag" \
	[ "$(zfs get -H -o value qvm:role tank/debian12)" = image ]
data=$(( 65536 + 100000 + 3 ))
alloc=$(( $(stat -c %b "$DEV") * 512 ))
# Allocation is in file system blocks: allow the rounding of three extents.
check "device holds about the image's data ($alloc bytes for $data)" \
	[ "$alloc" -le $(( data * 105 / 100 + 3 * 65536 )) ]

# --- the size is rounded up to whole MiB ---
head -c 1500000 /dev/urandom > "$WORK/odd.raw"
run_qvm image "$WORK/odd.raw" tank/odd
check "odd-sized image imports" [ "$RC" -eq 0 ]
check "volsize is the size rounded up to a MiB" \
	[ "$(zfs get -Hp -o value volsize tank/odd)" = 2097152 ]
check "odd-sized content equals the image" \
	cmp -s -n 1500000 "$WORK/odd.raw" "$QVM_ZVOL_DIR/tank/odd"

# --- a device that appears late (as udev does) still works ---
echo 1.5 > "$ZFS_DOUBLE_DIR/device_delay"
run_qvm image "$IMG" tank/late
rm -f "$ZFS_DOUBLE_DIR/device_delay"
check "device appearing 1.5 s late: success" [ "$RC" -eq 0 ]
check "device appearing late: content equal" cmp -s "$IMG" "$QVM_ZVOL_DIR/tank/late"

# --- qcow2: the same bytes as its raw twin ---
qemu-img convert -f raw -O qcow2 "$IMG" "$WORK/cloud.qcow2"
run_qvm image "$WORK/cloud.qcow2" tank/fromqcow
check "qcow2 import succeeds" [ "$RC" -eq 0 ]
check "qcow2 import equals its raw twin" cmp -s "$IMG" "$QVM_ZVOL_DIR/tank/fromqcow"

# --- failures leave the system as it was ---
before=$(state)
old=$(md5sum < "$DEV")
run_qvm image "$IMG" tank/debian12
check "existing zvol: exit 1" [ "$RC" -eq 1 ]
check "existing zvol: says so" contains "$ERR" "tank/debian12 already exists"
check "existing zvol: untouched" [ "$(md5sum < "$DEV")" = "$old" ]
check "existing zvol: nothing else changed" [ "$(state)" = "$before" ]

run_qvm image "$WORK/nope.raw" tank/new
check "missing image: exit 1" [ "$RC" -eq 1 ]
check "missing image: Error line" \
	contains "$ERR" "Error importing image $WORK/nope.raw: cannot open $WORK/nope.raw: No such file or directory"
check "missing image: nothing created" [ "$(state)" = "$before" ]

fail_next snapshot 'tank/new@base' 1 "cannot create snapshot 'tank/new@base': out of space"
run_qvm image "$IMG" tank/new
check "failing snapshot: exit 1" [ "$RC" -eq 1 ]
check "failing snapshot: zfs's reason shown" contains "$ERR" "out of space"
check "failing snapshot: the new volume is destroyed" [ "$(state)" = "$before" ]
check "failing snapshot: the undo is reported" \
	contains "$OUT" "Undid: destroyed zvol tank/new"

fail_next create 'tank/new' 1 "cannot create 'tank/new': out of space"
run_qvm image "$IMG" tank/new
check "failing create: exit 1" [ "$RC" -eq 1 ]
check "failing create: Error line" \
	contains "$ERR" "Error importing image $IMG: could not create volume tank/new: the pool is out of space"
check "failing create: nothing created" [ "$(state)" = "$before" ]

run_qvm image "$IMG" nopool/new
check "missing pool: exit 1, zfs's words" \
	eval '[ "$RC" -eq 1 ] && contains "$ERR" "its pool does not exist"'

printf 'KDMV' > "$WORK/disk.vmdk"; head -c 4096 /dev/zero >> "$WORK/disk.vmdk"
run_qvm image "$WORK/disk.vmdk" tank/vmdk
check "vmdk: refused with advice" \
	eval '[ "$RC" -eq 1 ] && contains "$ERR" "qemu-img convert -O raw"'
check "vmdk: nothing created" [ "$(state)" = "$before" ]

run_qvm image "$IMG" tank
check "a pool as target: refused before zfs" \
	eval '[ "$RC" -eq 1 ] && contains "$ERR" "names a pool"'

# --- dry run: checks for real, prints, changes nothing ---
run_qvm -n image "$IMG" tank/dry
check "dry run: exit 0" [ "$RC" -eq 0 ]
check "dry run: prints zfs create" \
	contains "$OUT" "zfs create -V 67108864 -o volblocksize=16K -o refreservation=none"
check "dry run: prints the copy" contains "$OUT" "copy the data of $IMG"
check "dry run: prints zfs snapshot" contains "$OUT" "zfs snapshot tank/dry@base"
check "dry run: nothing created" [ "$(state)" = "$before" ]
run_qvm -n image "$IMG" tank/debian12
check "dry run still checks: existing zvol refused" [ "$RC" -eq 1 ]

finish
