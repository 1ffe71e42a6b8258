#!/bin/bash
# Beyond the paper: dry run, check, list, destroy; ZFS is the inventory.
. "$(dirname "$0")/lib.sh"

make_raw "$WORK/cloud.raw" 32
cat > "$WORK/web1.yaml" <<'EOF2'
---
qvm: vm
name: web1
connect: test:///default
memory: 512
os-variant: debian11
graphics: none
disk:
  bus: virtio
  zvol:
    base: tank/debian12
---
qvm: user-data
packages: [nginx]
---
qvm: meta-data
EOF2

# --- dry runs change nothing, but check for real ---
before=$(state)
run_qvm -n vm "$WORK/web1.yaml"
check "dry run without the base: refused like the real run" \
	eval '[ "$RC" -eq 1 ] && contains "$ERR" "tank/debian12@base does not exist"'
"$QVM" image "$WORK/cloud.raw" tank/debian12 >/dev/null
before=$(state)
run_qvm --dry-run vm "$WORK/web1.yaml"
check "dry run: exit 0" [ "$RC" -eq 0 ]
check "dry run: prints the clone" \
	contains "$OUT" "zfs clone -o qvm:role=vm -o qvm:name=web1 -o qvm:created="
check "dry run: prints genisoimage" contains "$OUT" "genisoimage -output $QVM_SEED_DIR/web1/seed.iso -volid cidata"
check "dry run: prints virt-install with the seed as a cdrom disk" \
	contains "$OUT" "virt-install --name web1 --connect test:///default --memory 512"
check "dry run: created nothing" [ "$(state)" = "$before" ]

# --- check: offline, no zfs ---
calls=$(wc -l < "$ZFS_DOUBLE_DIR/log")
run_qvm check "$WORK/web1.yaml"
check "check: valid file, exit 0" [ "$RC" -eq 0 ]
printf -- '---\nqvm: vm\nname: a/b\n' > "$WORK/bad.yaml"
run_qvm check "$WORK/bad.yaml"
check "check: invalid file, exit 1 and the same error as vm" \
	eval '[ "$RC" -eq 1 ] && contains "$ERR" "Error importing qvm file $WORK/bad.yaml: "'
run_qvm vm "$WORK/bad.yaml"
check "vm: the same error" contains "$ERR" "Error importing qvm file $WORK/bad.yaml: "
check "check: ran no zfs command" [ "$(wc -l < "$ZFS_DOUBLE_DIR/log")" -eq "$calls" ]

# --- list ---
run_qvm vm "$WORK/web1.yaml"
check "vm web1 created" [ "$RC" -eq 0 ]
zfs create -V 16M tank/other
run_qvm list
check "list: exit 0" [ "$RC" -eq 0 ]
check "list: a header" contains "$OUT" "NAME"
check "list: the image" eval 'printf "%s\n" "$OUT" | grep -q "^tank/debian12 *image "'
check "list: the VM with its origin" \
	eval 'printf "%s\n" "$OUT" | grep -q "^tank/web1 *vm *web1 *tank/debian12@base "'
check "list: not a volume qvm did not make" eval '! contains "$OUT" "tank/other"'
run_qvm list -H
check "list -H: no header, two lines" [ "$(printf '%s\n' "$OUT" | wc -l)" -eq 2 ]
check "list -H: tab-separated bytes" \
	eval 'printf "%s\n" "$OUT" | grep -qP "^tank/web1\tvm\tweb1\ttank/debian12\@base\t33554432\t\d+\t\d{4}-\d\d-\d\dT"'

# --- destroy ---
run_qvm destroy tank/other
check "destroy: refuses a volume without qvm's tag" \
	eval '[ "$RC" -eq 1 ] && contains "$ERR" "does not carry qvm'"'"'s tag"'
check "destroy: the untagged volume is still there" eval 'zfs list tank/other >/dev/null 2>&1'
run_qvm destroy tank/debian12
check "destroy: refuses an image with clones, listing them" \
	eval '[ "$RC" -eq 1 ] && contains "$ERR" "tank/debian12@base still has clones: tank/web1"'
check "destroy: the image is still there" eval 'zfs list tank/debian12@base >/dev/null 2>&1'
run_qvm destroy web1
check "destroy VM: exit 0" [ "$RC" -eq 0 ]
[ "$RC" -eq 0 ] || echo "$ERR"
check "destroy VM: says what it removed" \
	eval 'contains "$OUT" "Destroyed zvol tank/web1" && contains "$OUT" "Removed seed $QVM_SEED_DIR/web1" && contains "$OUT" "VM web1 destroyed"'
check "destroy VM: the clone is gone" eval '! zfs list tank/web1 >/dev/null 2>&1'
check "destroy VM: the seed is gone" [ ! -e "$QVM_SEED_DIR/web1" ]
run_qvm destroy web1
check "destroy VM twice: qvm made no such VM" \
	eval '[ "$RC" -eq 1 ] && contains "$ERR" "qvm made no VM named '"'"'web1'"'"'"'
run_qvm destroy tank/debian12
check "destroy image: exit 0" eval '[ "$RC" -eq 0 ] && contains "$OUT" "Image tank/debian12 destroyed"'
[ "$RC" -eq 0 ] || echo "$ERR"
check "destroy image: gone with its snapshot" eval '! zfs list -t all tank/debian12 >/dev/null 2>&1'
check "destroy: the untagged volume survived it all" eval 'zfs list tank/other >/dev/null 2>&1'

finish
