#!/bin/bash
# qvm vm: the real binary with the zfs test double, real genisoimage and
# real virt-install against libvirt's test:///default driver.
. "$(dirname "$0")/lib.sh"

make_raw "$WORK/cloud.raw" 32
"$QVM" image "$WORK/cloud.raw" tank/debian12 >/dev/null ||
	{ not_ok "setting up the base image"; finish; exit 1; }

iso_file() { isoinfo -R -i "$1" -x "/$2" 2>/dev/null; }

# --- the example file, end to end ---
run_qvm vm "$ROOT/fixtures/web1.qvm.yaml"
check "web1: exit 0" [ "$RC" -eq 0 ]
[ "$RC" -eq 0 ] || echo "$ERR"
check "web1: completion line" contains "$OUT" "VM web1 created"
check "web1: clone of the base exists" \
	[ "$(zfs get -H -o value origin tank/web1)" = tank/debian12@base ]
check "web1: clone tagged as qvm's vm" \
	[ "$(zfs get -H -o value qvm:role tank/web1)" = vm ]
check "web1: zvol properties passed to the clone" \
	grep -qP '^zfs\tclone\t-o\tvolsize=20G\t-o\tcompression=lz4\t' "$ZFS_DOUBLE_DIR/log"
ISO=$QVM_SEED_DIR/web1/seed.iso
check "web1: seed ISO kept under QVM_SEED_DIR" [ -f "$ISO" ]
check "web1: seed ISO readable by its owner only" [ "$(stat -c %a "$ISO")" = 600 ]
check "web1: seed directory traversable by libvirt" \
	[ "$(stat -c %a "$QVM_SEED_DIR/web1")" = 711 ]
check "web1: ISO volume id is cidata" \
	eval 'isoinfo -d -i "$ISO" | grep -q "^Volume id: cidata$"'
ud=$(iso_file "$ISO" user-data)
check "web1: user-data starts with #cloud-config" \
	[ "$(printf '%s\n' "$ud" | head -1)" = "#cloud-config" ]
check "web1: user-data has no qvm key" eval '! printf "%s\n" "$ud" | grep -q "^qvm:"'
check "web1: user-data keeps the users" contains "$ud" "ssh_authorized_keys"
md=$(iso_file "$ISO" meta-data)
check "web1: meta-data has an instance-id" contains "$md" 'instance-id: "web1-'
check "web1: meta-data keeps the hostname" contains "$md" "local-hostname: web1"
check "web1: no temporary seed files left" \
	eval '! ls -d "${TMPDIR:-/tmp}"/qvm-seed.* 2>/dev/null | grep -q .'

# --- two disks and two NICs ---
run_qvm -n vm "$ROOT/fixtures/multi.qvm.yaml"
check "multi: dry run passes" [ "$RC" -eq 0 ]
check "multi: two --network options" \
	[ "$(printf '%s\n' "$OUT" | grep virt-install | grep -o -- '--network' | wc -l)" -eq 2 ]
check "multi: three --disk options (zvol, data disk, seed)" \
	[ "$(printf '%s\n' "$OUT" | grep virt-install | grep -o -- '--disk' | wc -l)" -eq 3 ]
check "multi: seed is a cdrom disk, never --cdrom" \
	eval 'contains "$OUT" "device=cdrom" && ! contains "$OUT" "--cdrom"'
run_qvm vm "$ROOT/fixtures/multi.qvm.yaml"
check "multi: created" eval '[ "$RC" -eq 0 ] && contains "$OUT" "VM multi1 created"'
[ "$RC" -eq 0 ] || echo "$ERR"

# --- failures: each step, and nothing left behind ---
vmfile() {	# vmfile NAME [extra vm lines]: a minimal valid qvm file
	cat > "$WORK/$1.yaml" <<EOF2
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
    base: tank/debian12
${2:-}
---
qvm: user-data
runcmd:
  - [touch, /root/hello]
---
qvm: meta-data
EOF2
}

before=$(state)

vmfile taken
mkdir -m 700 "$QVM_SEED_DIR/taken"
before_taken=$(state)
run_qvm vm "$WORK/taken.yaml"
check "step 1, seed dir exists: exit 1" [ "$RC" -eq 1 ]
check "step 1, seed dir exists: says who owns it" contains "$ERR" "owns the name 'taken'"
check "step 1, seed dir exists: left as it was" [ "$(state)" = "$before_taken" ]
rmdir "$QVM_SEED_DIR/taken"

vmfile isofail
printf '#!/bin/sh\necho "genisoimage: Permission denied" >&2\nexit 1\n' > "$WORK/bin/genisoimage"
chmod +x "$WORK/bin/genisoimage"
run_qvm vm "$WORK/isofail.yaml"
rm "$WORK/bin/genisoimage"
check "step 1, genisoimage fails: exit 1" [ "$RC" -eq 1 ]
check "step 1, genisoimage fails: its words shown" \
	contains "$ERR" "genisoimage failed to make"
check "step 1, genisoimage fails: nothing left" [ "$(state)" = "$before" ]

vmfile clonefail
fail_next clone 'tank/clonefail' 1 "cannot create 'tank/clonefail': out of space"
run_qvm vm "$WORK/clonefail.yaml"
check "step 2, clone fails: exit 1" [ "$RC" -eq 1 ]
check "step 2, clone fails: Error line" \
	contains "$ERR" "Error creating VM clonefail: could not clone to tank/clonefail: the pool is out of space"
check "step 2, clone fails: seed removed" [ "$(state)" = "$before" ]

vmfile nodev
echo 30 > "$ZFS_DOUBLE_DIR/device_delay"
QVM_DEVICE_TIMEOUT=0.5 run_qvm vm "$WORK/nodev.yaml"
rm -f "$ZFS_DOUBLE_DIR/device_delay"
check "step 3, device never appears: exit 1" [ "$RC" -eq 1 ]
check "step 3, device never appears: says so" contains "$ERR" "did not appear within"
check "step 3, device never appears: clone and seed removed" [ "$(state)" = "$before" ]

# (An unknown option is refused by qvm itself: a sub-option it is.)
vmfile badopt "network: {nosuch-subopt: x}"
run_qvm vm "$WORK/badopt.yaml"
check "step 4, virt-install --dry-run refuses: exit 1" [ "$RC" -eq 1 ]
check "step 4, virt-install --dry-run refuses: its words shown" \
	contains "$ERR" "Unknown --network options: ['nosuch-subopt']"
check "step 4: clone and seed removed" [ "$(state)" = "$before" ]

vmfile installfail
cat > "$WORK/bin/virt-install" <<'EOF2'
#!/bin/sh
# Passes the --dry-run check, fails the real run.
for a; do [ "$a" = --dry-run ] && exec /usr/bin/virt-install "$@"; done
echo "ERROR    internal error: process exited while connecting to monitor" >&2
exit 1
EOF2
chmod +x "$WORK/bin/virt-install"
run_qvm vm "$WORK/installfail.yaml"
rm "$WORK/bin/virt-install"
check "step 5, virt-install fails: exit 1" [ "$RC" -eq 1 ]
check "step 5, virt-install fails: its words shown" \
	contains "$ERR" "process exited while connecting to monitor"
check "step 5, virt-install fails: clone and seed removed" [ "$(state)" = "$before" ]
# It never defined the domain: the undo says so, and claims nothing.
check "step 5: the undo is reported in order, as it happened" \
	eval 'printf "%s\n" "$OUT" | grep -E "^(Undid|Nothing to undo)" | tr "\n" "|" |
	      grep -q "^Nothing to undo: domain installfail was not defined|Undid: destroyed zvol tank/installfail|Undid: removed"'

# --- host checks before any change ---
vmfile exists
zfs create -V 16M tank/exists
before_exists=$(state)
run_qvm vm "$WORK/exists.yaml"
check "existing clone target: exit 1" [ "$RC" -eq 1 ]
check "existing clone target: reported" contains "$ERR" "tank/exists already exists"
check "existing clone target: untouched, nothing created" [ "$(state)" = "$before_exists" ]
zfs destroy tank/exists

vmfile nobase
sed -i 's#base: tank/debian12#base: tank/nothere#' "$WORK/nobase.yaml"
run_qvm vm "$WORK/nobase.yaml"
check "missing base: exit 1 with advice" \
	eval '[ "$RC" -eq 1 ] && contains "$ERR" "tank/nothere@base does not exist"'
check "missing base: nothing created" [ "$(state)" = "$before" ]

vmfile small
sed -i 's#base: tank/debian12#base: tank/debian12\n    volsize: 16M#' "$WORK/small.yaml"
run_qvm vm "$WORK/small.yaml"
check "volsize below the base's: exit 1" \
	eval '[ "$RC" -eq 1 ] && contains "$ERR" "is smaller than the base"'
check "volsize below the base's: nothing created" [ "$(state)" = "$before" ]

printf 'qvm: vm\nname: [unclosed\n' > "$WORK/broken.yaml"
calls=$(wc -l < "$ZFS_DOUBLE_DIR/log")
run_qvm vm "$WORK/broken.yaml"
check "not YAML: exit 1, line and column" \
	eval '[ "$RC" -eq 1 ] && contains "$ERR" "line 2, column 16: did not find expected"'
check "not YAML: no zfs command ran" \
	[ "$(wc -l < "$ZFS_DOUBLE_DIR/log")" -eq "$calls" ]

run_qvm check "$ROOT/fixtures/web1.qvm.yaml"
check "qvm check on a valid file: exit 0" [ "$RC" -eq 0 ]

finish
