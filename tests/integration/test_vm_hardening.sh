#!/bin/bash
# qvm vm, hardened (issue 11): a run never stops, undefines or destroys
# what it did not create; -n writes nothing and prints a script that does
# what qvm would; the seed directory is recorded absolute; virt-install's
# ERROR line is the reason given; the undo says what really happened; the
# "already exists" hint never offers to destroy what is not a qvm VM.
. "$(dirname "$0")/lib.sh"

make_raw "$WORK/cloud.raw" 32
"$QVM" image "$WORK/cloud.raw" tank/debian12 >/dev/null ||
	{ not_ok "setting up the base image"; finish; exit 1; }

vmfile() {	# vmfile NAME [CONNECT]: a minimal valid qvm file
	cat > "$WORK/$1.yaml" <<EOF2
---
qvm: vm
name: $1
connect: ${2:-test:///default}
memory: 512
os-variant: debian11
graphics: none
disk:
  bus: virtio
  zvol:
    base: tank/debian12
---
qvm: user-data
users:
  - name: admin
    passwd: "it's a secret"
write_files:
  - path: /etc/motd
    content: |
      \$HOME is 'here'
      \`not a command\`
---
qvm: meta-data
EOF2
}

# Every virsh call is logged, then the real virsh runs.
REAL_VIRSH=$(command -v virsh)
cat > "$WORK/bin/virsh" <<EOF2
#!/bin/sh
echo "\$*" >> "$WORK/virsh.log"
exec "$REAL_VIRSH" "\$@"
EOF2
chmod +x "$WORK/bin/virsh"
: > "$WORK/virsh.log"

# A virt-install that passes the --dry-run check and fails the real run
# the way the real one does, logging its arguments.
fake_virt_install() {
	cat > "$WORK/bin/virt-install" <<'EOF2'
#!/bin/sh
for a; do [ "$a" = --dry-run ] && exec /usr/bin/virt-install "$@"; done
printf '%s\n' "$@" > "$(dirname "$0")/../virt-install.args"
echo "Starting install..."
cat >&2 <<'EOF3'
WARNING  Requested memory 512 MiB is less than the recommended 1024 MiB for OS debian11
ERROR    internal error: process exited while connecting to monitor
Domain installation does not appear to have been successful.
If it was, you can restart your domain by running:
  virsh --connect test:///default start NAME
otherwise, please restart your installation.
EOF3
exit 1
EOF2
	chmod +x "$WORK/bin/virt-install"
}

uuid_v4() { printf '%s\n' "$1" | grep -Eqx '[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}'; }
iso_file() { isoinfo -R -i "$1" -x "/$2" 2>/dev/null; }

# --- 1. someone else's domain of the same name ----------------------------
# test:///default always holds a running domain named "test".
vmfile test
before=$(state)
: > "$WORK/virsh.log"
run_qvm vm "$WORK/test.yaml"
check "existing domain: exit 1" [ "$RC" -eq 1 ]
check "existing domain: refused, saying so" \
	contains "$ERR" "Error creating VM test: domain test already exists on test:///default; qvm leaves it untouched"
check "existing domain: nothing created" [ "$(state)" = "$before" ]
check "existing domain: never stopped nor undefined" \
	eval '! grep -Eq "(destroy|undefine)" "$WORK/virsh.log"'
[ "$RC" -eq 1 ] || printf '%s\n' "$OUT" "$ERR" | sed 's/^/#   /'

# The same on a libvirt of its own (the test driver, from a file).
cat > "$WORK/host.xml" <<'EOF2'
<node>
  <domain type='test'>
    <name>keep</name>
    <uuid>0b6a3a6c-3e5f-4c4b-9d7c-1c2b3a4d5e6f</uuid>
    <memory unit='MiB'>64</memory>
    <os><type arch='x86_64'>hvm</type></os>
  </domain>
</node>
EOF2
vmfile keep "test://$WORK/host.xml"
: > "$WORK/virsh.log"
run_qvm vm "$WORK/keep.yaml"
check "existing domain (test://FILE): refused, nothing created" \
	eval '[ "$RC" -eq 1 ] && contains "$ERR" "domain keep already exists" && [ "$(state)" = "$before" ]'
check "existing domain (test://FILE): never stopped nor undefined" \
	eval '! grep -Eq "(destroy|undefine)" "$WORK/virsh.log"'

# A libvirt qvm cannot ask: nothing is created either.
vmfile nolibvirt "test://$WORK/no-such-host.xml"
run_qvm vm "$WORK/nolibvirt.yaml"
check "libvirt cannot be asked: exit 1, saying why" \
	eval '[ "$RC" -eq 1 ] && contains "$ERR" "could not look up domain nolibvirt on test://$WORK/no-such-host.xml: "'
check "libvirt cannot be asked: nothing created" [ "$(state)" = "$before" ]

# --- 1, 4, 5. virt-install fails: the undo is by this run's UUID ---------
fake_virt_install
vmfile failing
: > "$WORK/virsh.log"
run_qvm vm "$WORK/failing.yaml"
rm "$WORK/bin/virt-install"
uuid=$(grep -A1 -x -- --uuid "$WORK/virt-install.args" | tail -1)
check "virt-install fails: exit 1, all undone" \
	eval '[ "$RC" -eq 1 ] && [ "$(state)" = "$before" ]'
check "virt-install got a random UUID (--uuid, version 4)" uuid_v4 "$uuid"
check "the undo names the domain by that UUID only" \
	eval '[ "$(grep -Ec "^-c test:///default (destroy $uuid|undefine $uuid --nvram)$" "$WORK/virsh.log")" -eq 2 ] &&
	      ! grep -Eq "(destroy|undefine) failing" "$WORK/virsh.log"'
check "virt-install fails: its ERROR line is the reason" \
	eval 'printf "%s\n" "$ERR" | grep -qx "Error creating VM failing: virt-install failed (exit status 1): ERROR    internal error: process exited while connecting to monitor"'
check "virt-install fails: the rest is context" \
	eval 'printf "%s\n" "$ERR" | grep -qx "  virt-install: otherwise, please restart your installation."'
check "virt-install fails: no domain was defined, and the undo says so" \
	eval 'contains "$OUT" "Nothing to undo: domain failing was not defined" && ! contains "$OUT" "Undid: undefined"'

# A good run: the clone records the UUID virt-install got.
vmfile good
run_qvm vm "$WORK/good.yaml"
check "good run: exit 0" [ "$RC" -eq 0 ]
[ "$RC" -eq 0 ] || printf '%s\n' "$ERR" | sed 's/^/#   /'
check "good run: the clone records the domain's UUID (qvm:uuid)" \
	uuid_v4 "$(zfs get -H -o value qvm:uuid tank/good)"

# --- 2. -n writes nothing and prints a script of the run -----------------
vmfile dry
mkdir -m 700 "$WORK/drytmp"
before=$(state)
calls=$(wc -l < "$ZFS_DOUBLE_DIR/log")
TMPDIR=$WORK/drytmp run_qvm -n vm "$WORK/dry.yaml"
tail -n +$((calls + 1)) "$ZFS_DOUBLE_DIR/log" > "$WORK/dry.zfs"
printf '%s\n' "$OUT" > "$WORK/dry.sh"
check "dry run: exit 0" [ "$RC" -eq 0 ]
[ "$RC" -eq 0 ] || printf '%s\n' "$ERR" | sed 's/^/#   /'
check "dry run: nothing written under TMPDIR" eval '[ -z "$(ls -A "$WORK/drytmp")" ]'
check "dry run: nothing created (datasets, seeds)" [ "$(state)" = "$before" ]
check "dry run: zfs only read" \
	eval '[ -s "$WORK/dry.zfs" ] && ! grep -qvP "^zfs\tget\t" "$WORK/dry.zfs"'
if command -v strace >/dev/null; then
	TMPDIR=$WORK/drytmp strace -qq -o "$WORK/strace.log" \
		-e trace=open,openat,creat,mkdir,mkdirat,unlink,unlinkat,rmdir,rename,renameat,renameat2,chmod,fchmodat,link,linkat,symlink,symlinkat,truncate \
		"$QVM" -n vm "$WORK/dry.yaml" >/dev/null 2>&1
	check "dry run: qvm itself made no file system change (strace)" \
		eval '! grep -v "/dev/null" "$WORK/strace.log" | grep -Eq "O_WRONLY|O_RDWR|O_CREAT|^(creat|mkdir|unlink|rmdir|rename|chmod|fchmodat|link|symlink|truncate)"'
else
	ok "dry run: qvm itself made no file system change # SKIP no strace"
fi
: > "$WORK/not-a-dir"
# (Not under $QVM_WRAP: valgrind needs a TMPDIR for itself.)
TMPDIR=$WORK/not-a-dir "$QVM" -n vm "$WORK/dry.yaml" >/dev/null 2>"$WORK/err"
check "dry run: needs no TMPDIR (TMPDIR is not a directory)" [ $? -eq 0 ]
check "dry run: the output is a shell script (sh -n)" sh -n "$WORK/dry.sh"
check "dry run: every line a command or a comment" \
	eval '! grep -Eq "^(Creating|Cloning|Dry run|Undid|VM )" "$WORK/dry.sh"'
# Run as printed, from elsewhere, it makes the VM as qvm would have.
(cd / && sh -e "$WORK/dry.sh") >"$WORK/dry.out" 2>&1
check "dry run's script runs as printed" [ $? -eq 0 ]
ISO=$QVM_SEED_DIR/dry/seed.iso
check "script: the seed ISO, 0600, alone in its 0711 directory" \
	eval '[ "$(stat -c %a "$ISO")" = 600 ] && [ "$(stat -c %a "$QVM_SEED_DIR/dry")" = 711 ] &&
	      [ "$(ls -A "$QVM_SEED_DIR/dry")" = seed.iso ]'
check "script: the clone, tagged as qvm's" \
	eval '[ "$(zfs get -H -o value qvm:role tank/dry)" = vm ] && uuid_v4 "$(zfs get -H -o value qvm:uuid tank/dry)"'
script_ud=$(iso_file "$ISO" user-data)
script_md=$(iso_file "$ISO" meta-data)
zfs destroy tank/dry
rm -rf "$QVM_SEED_DIR/dry"
run_qvm vm "$WORK/dry.yaml"
check "the real run of the same file succeeds" [ "$RC" -eq 0 ]
check "script and real run: the same user-data, byte for byte" \
	eval '[ -n "$script_ud" ] && [ "$script_ud" = "$(iso_file "$ISO" user-data)" ]'
check "script and real run: the same meta-data but the instance-id" \
	eval '[ -n "$script_md" ] &&
	      [ "$(printf "%s\n" "$script_md" | grep -v instance-id)" = "$(iso_file "$ISO" meta-data | grep -v instance-id)" ]'
check "user-data kept its quotes, \$ and backquotes" \
	eval 'contains "$script_ud" "\$HOME is '"'"'here'"'"'" && contains "$script_ud" "\`not a command\`"'

# --- 3. a relative QVM_SEED_DIR is recorded absolute ----------------------
vmfile rel
(cd "$WORK" && QVM_SEED_DIR=seed run_qvm vm "$WORK/rel.yaml" && echo "$RC" > "$WORK/rc")
check "relative QVM_SEED_DIR: created" [ "$(cat "$WORK/rc")" = 0 ]
check "relative QVM_SEED_DIR: qvm:seed is absolute" \
	[ "$(zfs get -H -o value qvm:seed tank/rel)" = "$WORK/seed/rel" ]
(cd / && "$QVM" destroy rel >/dev/null 2>&1)
check "relative QVM_SEED_DIR: destroy from elsewhere removes the seed" \
	[ ! -e "$WORK/seed/rel" ]
zfs destroy tank/rel 2>/dev/null

# --- 6. what already exists, and what qvm suggests -----------------------
before=$(state)
vmfile debian12
run_qvm vm "$WORK/debian12.yaml"
check "VM named like its base: refused" \
	eval '[ "$RC" -eq 1 ] && contains "$ERR" "the VM'"'"'s volume would be tank/debian12, its base image itself"'
check "VM named like its base: no advice to destroy the image" \
	eval '! contains "$ERR" "qvm destroy"'
"$QVM" image "$WORK/cloud.raw" tank/other-image >/dev/null
vmfile other-image
run_qvm vm "$WORK/other-image.yaml"
check "VM named like another image: it is an image, not to be destroyed" \
	eval '[ "$RC" -eq 1 ] && contains "$ERR" "it is an image qvm made" && ! contains "$ERR" "qvm destroy"'
zfs create -V 16M tank/theirs
vmfile theirs
run_qvm vm "$WORK/theirs.yaml"
check "a volume qvm did not make: said so, no advice to destroy it" \
	eval '[ "$RC" -eq 1 ] && contains "$ERR" "qvm did not make it" && ! contains "$ERR" "qvm destroy"'
run_qvm vm "$WORK/good.yaml"
check "a VM qvm made: 'qvm destroy' of that dataset is suggested" \
	eval '[ "$RC" -eq 1 ] && contains "$ERR" "'"'"'qvm destroy tank/good'"'"'"'
check "the base, the images and the volumes are untouched" \
	eval 'zfs list -H tank/theirs >/dev/null && zfs list -H tank/other-image@base >/dev/null &&
	      cmp -s "$WORK/cloud.raw" "$QVM_ZVOL_DIR/tank/debian12"'

# --- an invalid QVM_DEVICE_TIMEOUT: refused before anything changes ---
vmfile devtimeout
before=$(state)
for bad in abc -1 10x 0 99999; do
	QVM_DEVICE_TIMEOUT=$bad run_qvm vm "$WORK/devtimeout.yaml"
	check "QVM_DEVICE_TIMEOUT=$bad: refused, nothing changed" \
		eval '[ "$RC" -eq 1 ] && contains "$ERR" "QVM_DEVICE_TIMEOUT is" && [ "$(state)" = "$before" ]'
done

finish
