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
check "list: a STATE column" eval 'printf "%s\n" "$OUT" | head -1 | grep -q " STATE$" &&
	printf "%s\n" "$OUT" | grep -q "^tank/web1 .* missing$"'
check "list: not a volume qvm did not make" eval '! contains "$OUT" "tank/other"'
run_qvm list -H
check "list -H: no header, two lines" [ "$(printf '%s\n' "$OUT" | wc -l)" -eq 2 ]
check "list -H: tab-separated bytes" \
	eval 'printf "%s\n" "$OUT" | grep -qP "^tank/web1\tvm\tweb1\ttank/debian12\@base\t33554432\t\d+\t\d{4}-\d\d-\d\dT"'
# libvirt's test:///default keeps no domain from one process to the next.
check "list -H: the VM's domain state last (missing), an image's '-'" \
	eval 'printf "%s\n" "$OUT" | grep -qP "^tank/web1\t.*\tmissing$" &&
	      printf "%s\n" "$OUT" | grep -qP "^tank/debian12\t.*Z\t-$"'

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


# --- hardening: only what qvm made, checked before any change ---
# virsh, logged, and speaking German when the locale asks for it, as it
# does with libvirt-l10n installed (its own text for "failed to get
# domain"): LANGUAGE wins unless the locale is C.
REAL_VIRSH=$(command -v virsh)
cat > "$WORK/bin/virsh" <<VIRSH
#!/bin/bash
printf '%s\n' "\$*" >> "$WORK/virsh.log"
loc=\${LC_ALL:-\${LC_MESSAGES:-\${LANG:-}}}
case \$loc in ''|C|C.*|POSIX) lang= ;; *) lang=\${LANGUAGE:-\$loc} ;; esac
case \$lang in
de*)
	"$REAL_VIRSH" "\$@" 2>"$WORK/virsh.err"
	rc=\$?
	sed -e "s/^error: failed to get domain '\(.*\)'/Fehler: Abruf der Domain '\1' scheiterte/" \\
	    -e 's/^error: /Fehler: /' "$WORK/virsh.err" >&2
	exit \$rc ;;
esac
exec "$REAL_VIRSH" "\$@"
VIRSH
chmod +x "$WORK/bin/virsh"
"$QVM" image "$WORK/cloud.raw" tank/debian12 >/dev/null
run_qvm vm "$WORK/web1.yaml"
check "vm web1 made again" [ "$RC" -eq 0 ]
zfs snapshot tank/web1@mine
: > "$WORK/virsh.log"
run_qvm destroy tank/web1@mine
check "destroy VM@snapshot: refused as a snapshot" \
	eval '[ "$RC" -eq 1 ] && contains "$ERR" "tank/web1@mine is a snapshot or bookmark, not a volume"'
check "destroy VM@snapshot: snapshot, volume and seed all still there" \
	eval 'zfs list tank/web1@mine >/dev/null 2>&1 && zfs list tank/web1 >/dev/null 2>&1 && [ -e "$QVM_SEED_DIR/web1/seed.iso" ]'
check "destroy VM@snapshot: no virsh command ran" [ ! -s "$WORK/virsh.log" ]
run_qvm destroy web1
check "destroy VM with a user's snapshot: refused, nothing changed" \
	eval '[ "$RC" -eq 1 ] && contains "$ERR" "tank/web1 has 1 snapshot qvm did not make (tank/web1@mine); nothing was changed"'
check "destroy VM with a user's snapshot: the domain was not touched" \
	eval '! grep -qE "(^| )(destroy|undefine) " "$WORK/virsh.log"'
check "destroy VM with a user's snapshot: volume, snapshot and seed kept" \
	eval 'zfs list tank/web1@mine >/dev/null 2>&1 && [ -e "$QVM_SEED_DIR/web1/seed.iso" ]'
zfs destroy tank/web1@mine
run_qvm destroy tank/debian12@base
check "destroy IMAGE@base: refused, the snapshot named once" \
	eval '[ "$RC" -eq 1 ] && contains "$ERR" "Error destroying tank/debian12@base: tank/debian12@base is a snapshot" && ! contains "$ERR" "@base@base"'
check "destroy IMAGE@base: the image is intact" eval 'zfs list tank/debian12@base >/dev/null 2>&1'
zfs snapshot tank/debian12@mine
run_qvm destroy tank/debian12
check "destroy image with a user's snapshot: refused" \
	eval '[ "$RC" -eq 1 ] && contains "$ERR" "snapshot qvm did not make (tank/debian12@mine)"'
zfs destroy tank/debian12@mine

# Tags inherited from a filesystem are not qvm's.
zfs create -o qvm:role=vm -o qvm:name=web1 tank/vms
zfs create -V 16M tank/vms/data
run_qvm list -H
check "list: a volume that only inherits qvm's tags is not listed" \
	eval '[ "$RC" -eq 0 ] && ! contains "$OUT" "tank/vms" && [ "$(printf "%s\n" "$OUT" | wc -l)" -eq 2 ]'
run_qvm destroy tank/vms/data
check "destroy: a volume that only inherits qvm's tags is refused" \
	eval '[ "$RC" -eq 1 ] && contains "$ERR" "tank/vms/data does not carry qvm'"'"'s tag"'

# A German user: virsh's "domain not found" must still be understood.
env LANGUAGE=de LC_ALL=de_DE.UTF-8 virsh -c test:///default domstate nosuch \
	>/dev/null 2>"$WORK/de.err"
check "the fake virsh speaks German when asked" \
	grep -q "^Fehler: Abruf der Domain 'nosuch' scheiterte" "$WORK/de.err"
env LANG=de_DE.UTF-8 LC_ALL=de_DE.UTF-8 LANGUAGE=de_DE:de $QVM_WRAP "$QVM" \
	destroy web1 >"$WORK/out" 2>"$WORK/err"
RC=$?
OUT=$(cat "$WORK/out")
ERR=$(cat "$WORK/err")
check "destroy under a German locale: exit 0, the domain seen as gone" \
	eval '[ "$RC" -eq 0 ] && contains "$OUT" "Domain web1 is not defined" && contains "$OUT" "VM web1 destroyed"'
[ "$RC" -eq 0 ] || echo "$ERR"
check "destroy by name: only tank/web1 went, found by its own tags" \
	eval '! zfs list tank/web1 >/dev/null 2>&1 && zfs list tank/vms/data >/dev/null 2>&1'

# A failed write to stdout is an error.
"$QVM" list -H >/dev/full 2>"$WORK/err"
RC=$?
check "list -H > /dev/full: exit 1, says so" \
	eval '[ "$RC" -eq 1 ] && grep -q "^Error writing the output: could not write to stdout" "$WORK/err"'
"$QVM" --help >/dev/full 2>/dev/null
check "--help > /dev/full: exit 1" [ $? -eq 1 ]

# Tens of thousands of snapshots (an auto-snapshot tool), sorting before
# the image: list asks zfs for volumes only, and finds it.
zfs create tank/aaa
zfs snapshot $(seq -f 'tank/aaa@auto-%05g' 1 30000)
calls=$(wc -l < "$ZFS_DOUBLE_DIR/log")
run_qvm list -H
check "list with 30000 snapshots on the host: still shows the image" \
	eval '[ "$RC" -eq 0 ] && printf "%s\n" "$OUT" | grep -qP "^tank/debian12\timage\t"'
[ "$RC" -eq 0 ] || echo "$ERR"
check "list with 30000 snapshots on the host: never lists snapshots" \
	eval '! tail -n +$((calls + 1)) "$ZFS_DOUBLE_DIR/log" | grep -qP "\t-t\t[^\t]*(snapshot|all)"'

finish
