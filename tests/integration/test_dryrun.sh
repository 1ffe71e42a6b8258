#!/bin/bash
# qvm -n: what it prints is a script that does what the run would; it
# changes nothing itself. Run here against the zfs test double.
. "$(dirname "$0")/lib.sh"

IMG=$WORK/cloud.raw
make_raw "$IMG" 64
DEV=$QVM_ZVOL_DIR/tank/dry

before=$(state)
run_qvm -n image "$IMG" tank/dry
check "image -n: exit 0" [ "$RC" -eq 0 ]
check "image -n: nothing created" [ "$(state)" = "$before" ]
check "image -n: waits for the device as qvm would" \
	contains "$OUT" "timeout "
check "image -n: the copy is a dd that skips zero blocks" \
	contains "$OUT" "dd if=$IMG of=$DEV bs=16384 conv=sparse,notrunc"
check "image -n: every line is a command or a comment" \
	eval '! printf "%s\n" "$OUT" | grep -q "^Importing\|^Creating\|^Waiting\|^Snapshotting"'
printf '%s\n' "$OUT" > "$WORK/import.sh"
check "image -n: the script passes sh -n" sh -n "$WORK/import.sh"

# The printed script, run, makes the same image qvm would.
sh -e "$WORK/import.sh" > "$WORK/script.out" 2>&1
check "image -n: the script runs" [ $? -eq 0 ]
check "image -n: the script's volume holds the image" cmp -s "$IMG" "$DEV"
check "image -n: the script made the snapshot" \
	eval "zfs list -H -o name tank/dry@base >/dev/null"

finish
