#!/bin/bash
# qvm vm -w: the real binary, the zfs double, real genisoimage and
# virt-install (test:///default), then the wait against a fake virsh (its
# domain state and addresses set by the test) and a fake guest that writes
# the console log libvirt would write, a moment after the domain exists.
. "$(dirname "$0")/lib.sh"

make_raw "$WORK/cloud.raw" 32
"$QVM" image "$WORK/cloud.raw" tank/debian12 >/dev/null ||
	{ not_ok "setting up the base image"; finish; exit 1; }

# The fake virsh: domstate prints $WORK/state (running unless told),
# domifaddr prints $WORK/domifaddr.SOURCE if there is one; every call is
# logged. Other verbs (the undo's) succeed.
REAL_VIRSH=$(command -v virsh)
cat > "$WORK/bin/virsh" <<EOF
#!/bin/bash
echo "\$*" >> "$WORK/virsh.log"
args=("\$@")
[ "\$1" = -c ] && args=("\${args[@]:2}")
case \${args[0]} in
domstate) cat "$WORK/state" 2>/dev/null || echo running; echo ;;
domifaddr) f="$WORK/domifaddr.\${args[3]}"; [ -f "\$f" ] && cat "\$f"; exit 0 ;;
*) exec "$REAL_VIRSH" "\$@" ;;
esac
EOF
chmod +x "$WORK/bin/virsh"

FINAL='[   45.7] cloud-init[901]: Cloud-init v. 22.4.2 finished at Thu, 26 Nov 2026 01:23:45 +0000. Datasource DataSourceNoCloud [seed=/dev/sr0][dsmode=net].  Up 45.67 seconds'
NET='ci-info: ++++++++++++++++++++++++++Net device info+++++++++++++++++++++++++++
ci-info: +--------+------+------------+---------------+--------+-------------------+
ci-info: | Device |  Up  |  Address   |      Mask     | Scope  |     Hw-Address    |
ci-info: +--------+------+------------+---------------+--------+-------------------+
ci-info: |  eth0  | True | 10.0.2.15  | 255.255.255.0 | global | 52:54:00:12:34:56 |
ci-info: |   lo   | True | 127.0.0.1  |   255.0.0.0   |  host  |         .         |'

vmfile() {	# vmfile NAME [extra vm lines]
	cat > "$WORK/$1.yaml" <<EOF2
---
qvm: vm
name: $1
connect: test:///default
memory: 512
os-variant: debian11
${2:-}
disk:
  zvol:
    base: tank/debian12
---
qvm: user-data
runcmd: [[true]]
---
qvm: meta-data
EOF2
}

# guest NAME DELAY TEXT: DELAY seconds after qvm started waiting, the
# "guest" writes TEXT to the console log libvirt keeps for it (appending,
# a line at a time).
guest() {
	local log="$QVM_SEED_DIR/$1/console.log"
	rm -f "$WORK/out"
	(
		for _ in $(seq 600); do
			grep -q "Waiting for cloud-init" "$WORK/out" 2>/dev/null && break
			sleep 0.1
		done
		sleep "$2"
		printf '%s\n' "$3" | while IFS= read -r line; do
			printf '%s\r\n' "$line" >> "$log"
		done
	) &
	GUEST=$!
}

reset() { rm -f "$WORK/state" "$WORK"/domifaddr.* "$WORK/virsh.log"; }

# --- finished, address from cloud-init's table ---
reset
vmfile w1
guest w1 1.5 "booting
$NET
$FINAL"
run_qvm vm -w -t 60 "$WORK/w1.yaml"
wait "$GUEST"
check "finished: exit 0" [ "$RC" -eq 0 ]
[ "$RC" -eq 0 ] || echo "$ERR" >&2
check "finished: created, then ready with the guest's address" \
	eval 'printf "%s\n" "$OUT" | grep -qE "^VM w1 ready after [0-9]+ s: 10\.0\.2\.15$"'
uuid=$(zfs get -H -o value qvm:uuid tank/w1)
check "finished: virsh was asked the state of the domain by its UUID" \
	grep -q "^-c test:///default domstate $uuid$" "$WORK/virsh.log"

reset
vmfile d1
run_qvm -n vm -w "$WORK/d1.yaml"
check "dry run: the serial console is logged beside the seed" \
	contains "$OUT" "--serial pty,log.file=$QVM_SEED_DIR/d1/console.log"
check "dry run: says it would wait, waits not" \
	eval 'contains "$OUT" "qvm would then wait for cloud-init" && ! grep -q domstate "$WORK/virsh.log"'

# --- long options; address from libvirt when the guest printed none ---
reset
vmfile w2
printf '%s\n' ' Name       MAC address          Protocol     Address' \
	'-------------------------------------------------------------------------------' \
	' vnet0      52:54:00:aa:bb:cc    ipv4         198.51.100.9/24' \
	> "$WORK/domifaddr.lease"
guest w2 1 "$FINAL"
run_qvm vm --wait --timeout 60 "$WORK/w2.yaml"
wait "$GUEST"
check "domifaddr: exit 0" [ "$RC" -eq 0 ]
check "domifaddr: the lease's address" \
	eval 'printf "%s\n" "$OUT" | grep -qE "^VM w2 ready after [0-9]+ s: 198\.51\.100\.9$"'

# --- no network at all ---
reset
vmfile w3
guest w3 1 "$FINAL"
run_qvm vm -w "$WORK/w3.yaml"
wait "$GUEST"
check "no address: exit 0, said so" \
	eval '[ "$RC" -eq 0 ] && printf "%s\n" "$OUT" | grep -qE "^VM w3 ready after [0-9]+ s: no address$"'

# --- finished with errors: exit 1 in cloud-init's words, the VM stays ---
reset
vmfile w4
guest w4 1 "2026-11-26 01:23:40,123 - util.py[WARNING]: Failed running /var/lib/cloud/instance/scripts/runcmd [3]
2026-11-26 01:23:40,125 - util.py[WARNING]: Running module scripts-user (<module 'cloudinit.config.cc_scripts_user' from '/usr/lib/python3/dist-packages/cloudinit/config/cc_scripts_user.py'>) failed
$FINAL"
run_qvm vm -w -t 60 "$WORK/w4.yaml"
wait "$GUEST"
check "errors: exit 1" [ "$RC" -eq 1 ]
check "errors: what failed, in cloud-init's words" contains "$ERR" \
	"Error waiting for VM w4: cloud-init finished with errors: Failed running /var/lib/cloud/instance/scripts/runcmd [3]; module scripts-user failed (the VM was created and stays; see $QVM_SEED_DIR/w4/console.log"
check "errors: nothing undone" eval '! contains "$ERR" "Undid"'
check "errors: the clone stays" eval 'zfs list tank/w4 >/dev/null 2>&1'
check "errors: the seed stays" [ -f "$QVM_SEED_DIR/w4/seed.iso" ]

# --- the domain stops before cloud-init finished ---
reset
vmfile w5
echo "shut off" > "$WORK/state"
guest w5 0.5 "[    3.1] Kernel panic - not syncing: VFS: Unable to mount root fs"
run_qvm vm -w -t 60 "$WORK/w5.yaml"
wait "$GUEST"
check "stopped: exit 1, said so" eval '[ "$RC" -eq 1 ] && contains "$ERR" "Error waiting for VM w5: domain w5 is shut off, and cloud-init had not finished; the VM stays as it is; see $QVM_SEED_DIR/w5/console.log"'
check "stopped: the clone stays" eval 'zfs list tank/w5 >/dev/null 2>&1'

# --- timeout ---
reset
vmfile w6
guest w6 0.5 "booting, and booting"
run_qvm vm -w -t 2 "$WORK/w6.yaml"
wait "$GUEST"
check "timeout: exit 1, said so" eval '[ "$RC" -eq 1 ] && contains "$ERR" "Error waiting for VM w6: cloud-init had not finished after 2 s (domain running); the VM stays as it is"'
check "timeout: the clone stays" eval 'zfs list tank/w6 >/dev/null 2>&1'

# --- no console log ever ---
reset
vmfile w7
run_qvm vm -w -t 2 "$WORK/w7.yaml"
check "no log: exit 1, said so" eval '[ "$RC" -eq 1 ] && contains "$ERR" "the console log $QVM_SEED_DIR/w7/console.log never appeared"'

# --- Ctrl-C during the wait stops the wait only ---
reset
vmfile w8
$QVM_WRAP "$QVM" vm -w -t 120 "$WORK/w8.yaml" >"$WORK/out" 2>"$WORK/err" &
pid=$!
for _ in $(seq 100); do grep -q "Waiting for cloud-init" "$WORK/out" 2>/dev/null && break; sleep 0.1; done
sleep 0.5
kill -INT "$pid"
wait "$pid"
RC=$?
ERR=$(cat "$WORK/err")
check "Ctrl-C: qvm ends by the signal" [ "$RC" -eq 130 ]
check "Ctrl-C: the wait stopped, the VM stays" contains "$ERR" \
	"Error waiting for VM w8: interrupted by signal 2: qvm stopped waiting; VM w8 stays as it is"
check "Ctrl-C: nothing undone" eval '! grep -q Undid "$WORK/out" "$WORK/err"'
check "Ctrl-C: the clone stays" eval 'zfs list tank/w8 >/dev/null 2>&1'

# --- a serial console of the document's own ---
reset
vmfile w9 "serial: pty"
before=$(state)
run_qvm vm -w "$WORK/w9.yaml"
check "unlogged serial: refused" eval '[ "$RC" -eq 1 ] && contains "$ERR" "--wait cannot work for this VM"'
check "unlogged serial: nothing changed" [ "$(state)" = "$before" ]
vmfile w10 "serial:
  type: file
  path: $WORK/w10-serial.log"
printf '%s\n' "$FINAL" > "$WORK/w10-serial.log"
run_qvm vm -w -t 30 "$WORK/w10.yaml"
check "logged serial: its log is read" \
	eval '[ "$RC" -eq 0 ] && printf "%s\n" "$OUT" | grep -qE "^VM w10 ready after [0-9]+ s: no address$"'

# --- qvm wait NAME: the same wait for a VM that exists ---
reset
run_qvm wait w1
check "wait: a finished VM is ready" \
	eval '[ "$RC" -eq 0 ] && printf "%s\n" "$OUT" | grep -qE "^VM w1 ready after [0-9]+ s: 10\.0\.2\.15$"'
run_qvm wait tank/w4
check "wait: cloud-init's errors, by dataset too" eval '[ "$RC" -eq 1 ] &&
	contains "$ERR" "Error waiting for VM w4: cloud-init finished with errors: Failed running"'
run_qvm wait --timeout 1 w6
check "wait: the timeout" eval '[ "$RC" -eq 1 ] && contains "$ERR" "cloud-init had not finished after 1 s"'
uuid=$(zfs get -H -o value qvm:uuid tank/w6)
check "wait: libvirt asked by the recorded UUID and URI" \
	grep -q "^-c test:///default domstate $uuid$" "$WORK/virsh.log"
run_qvm wait w10
check "wait: the document's own serial log, from qvm:console" \
	eval '[ "$RC" -eq 0 ] && contains "$OUT" "VM w10 ready after"'
run_qvm wait tank/debian12
check "wait: an image is no VM" eval '[ "$RC" -eq 1 ] && contains "$ERR" "tank/debian12 is an image, not a VM"'
run_qvm wait nosuch
check "wait: a name qvm did not make" eval '[ "$RC" -eq 1 ] && contains "$ERR" "qvm made no VM named '"'"'nosuch'"'"'"'
run_qvm wait tank/w1@snap
check "wait: a snapshot is refused" eval '[ "$RC" -eq 1 ] && contains "$ERR" "qvm waits for only the volumes it made"'

finish
