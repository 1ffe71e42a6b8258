#!/bin/bash
# qvm -H: vm, list, destroy and wait on a "remote" host reached over a real
# sshd on 127.0.0.1 (its own host key, an authorized key, a free port).
# The remote side has the zfs double in its PATH; the local side has no
# zfs at all, so every ZFS call provably went over SSH.
. "$(dirname "$0")/lib.sh"

. "$(dirname "$0")/sshd.sh"

S=$WORK/ssh
REMOTE_PATH=$WORK/bin:/usr/sbin:/usr/bin:/sbin:/bin
# The remote HOME is the test's own: the remote login shell reads its
# ~/.bashrc, and the machine's own has no say in the test.
mkdir -p "$WORK/home"
if ! sshd_start "$S" "$WORK/local" PATH="$REMOTE_PATH" \
	ZFS_DOUBLE_DIR="$ZFS_DOUBLE_DIR" QVM_ZVOL_DIR="$QVM_ZVOL_DIR" \
	PYTHONPATH="$WORK/py" HOME="$WORK/home"; then
	echo "not ok - sshd and ssh are needed (make deps: openssh-server)"
	FAILED=1
	finish
	exit 1
fi
trap 'kill "$SSHD_PID" 2>/dev/null; rm -rf "$WORK"' EXIT
write_ssh_config() { sshd_known_key "$@"; }

# The local side: ssh (with the test's config) and nothing of ZFS.
LOCAL_PATH=$WORK/local:/usr/bin:/bin
H=127.0.0.1:$PORT

# The base image, made on the remote side (the double's state is there).
make_raw "$WORK/cloud.raw" 32
"$QVM" image "$WORK/cloud.raw" tank/debian12 >/dev/null
check "set-up: base image" eval "zfs list -H -o name tank/debian12@base >/dev/null"

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
password: s3cret
---
qvm: meta-data
EOF2

rq() { PATH=$LOCAL_PATH run_qvm "$@"; }

check "the local side has no zfs" eval '! PATH=$LOCAL_PATH command -v zfs'

# --- vm over SSH ---
calls=$(wc -l < "$ZFS_DOUBLE_DIR/log")
# Its private directory in a TMPDIR of the test's own: /tmp is shared
# with whatever else runs on the machine.
mkdir -p "$WORK/t0"
TMPDIR=$WORK/t0 rq -H "$H" vm "$WORK/web1.yaml"
check "vm over SSH: exit 0 ($ERR)" [ "$RC" -eq 0 ]
check "vm over SSH: says where" contains "$OUT" "VM web1 created on 127.0.0.1"
check "vm over SSH: the clone exists there" \
	eval "zfs list -H -o name tank/web1 >/dev/null"
check "vm over SSH: zfs ran there" \
	eval '[ "$(wc -l < "$ZFS_DOUBLE_DIR/log")" -gt "$calls" ]'
check "vm over SSH: the seed ISO is there, mode 0600" \
	eval '[ "$(stat -c %a "$QVM_SEED_DIR/web1/seed.iso")" = 600 ]'
check "vm over SSH: no seed file is left beside it" \
	eval '[ "$(ls -A "$QVM_SEED_DIR/web1")" = seed.iso ]'
check "vm over SSH: the seed directory is 0711" \
	eval '[ "$(stat -c %a "$QVM_SEED_DIR/web1")" = 711 ]'
check "vm over SSH: no control socket left" \
	eval '[ -z "$(ls -A "$WORK/t0")" ]'

# --- list over SSH ---
rq -H "$H" list -H
check "list over SSH: exit 0" [ "$RC" -eq 0 ]
check "list over SSH: the image" contains "$OUT" "tank/debian12	image"
check "list over SSH: the VM" contains "$OUT" "tank/web1	vm	web1"
rq --host="$H" list
check "list --host: exit 0" [ "$RC" -eq 0 ]
QVM_HOST=$H rq list -H
check "QVM_HOST: list there" contains "$OUT" "tank/web1	vm	web1"

# --- wait over SSH: the console log is read there ---
FINAL='[   45.7] cloud-init[901]: Cloud-init v. 22.4.2 finished at Thu, 26 Nov 2026 01:23:45 +0000. Datasource DataSourceNoCloud [seed=/dev/sr0][dsmode=net].  Up 45.67 seconds'
printf 'booting\r\n%s\r\n' "$FINAL" > "$QVM_SEED_DIR/web1/console.log"
rq -H "$H" wait -t 5 web1
check "wait over SSH: ready ($ERR)" \
	eval '[ "$RC" -eq 0 ] && contains "$OUT" "VM web1 ready after"'
rm -f "$QVM_SEED_DIR/web1/console.log"

# --- a refusal over SSH changes nothing ---
before=$(state)
rq -H "$H" vm "$WORK/web1.yaml"
check "vm over SSH again: refused" \
	eval '[ "$RC" -eq 1 ] && contains "$ERR" "tank/web1 already exists"'
check "vm over SSH again: nothing changed" [ "$(state)" = "$before" ]

# --- a failure over SSH is undone there ---
fail_next clone '*' 1 "cannot create 'tank/web2': out of space"
sed 's/name: web1/name: web2/' "$WORK/web1.yaml" > "$WORK/web2.yaml"
before=$(state)
rq -H "$H" vm "$WORK/web2.yaml"
check "failed clone over SSH: exit 1" [ "$RC" -eq 1 ]
check "failed clone over SSH: the seed was removed there" \
	[ "$(state)" = "$before" ]
check "failed clone over SSH: says it undid it" \
	contains "$OUT" "Undid: removed seed directory $QVM_SEED_DIR/web2"

# --- destroy over SSH ---
rq -H "$H" destroy web1
check "destroy over SSH: exit 0 ($ERR)" [ "$RC" -eq 0 ]
check "destroy over SSH: the clone is gone" \
	eval '! zfs list -H -o name tank/web1 2>/dev/null'
check "destroy over SSH: the seed is gone" [ ! -e "$QVM_SEED_DIR/web1" ]

# --- -n over SSH: the reads done there, the changes printed as ssh lines ---
sed 's/name: web1/name: web4/' "$WORK/web1.yaml" > "$WORK/web4.yaml"
before=$(state)
rq -n -H "$H" vm "$WORK/web4.yaml"
check "-n -H vm: exit 0 ($ERR)" [ "$RC" -eq 0 ]
check "-n -H vm: each change as it would run there" \
	eval 'printf "%s\n" "$OUT" | grep -q "^ssh -p $PORT 127.0.0.1 -- '\''zfs clone .*tank/debian12@base tank/web4'\''$"'
check "-n -H vm: nothing changed" [ "$(state)" = "$before" ]
check "-n -H vm: a script (sh -n), no command of it meant for here" \
	eval 'printf "%s\n" "$OUT" | sh -n && ! printf "%s\n" "$OUT" | grep -E "^(zfs|mkdir|printf|virt-install|genisoimage|chmod|rm|rmdir|timeout|umask) "'
# Pasted, the lines do it: the VM is there, as qvm would have made it.
printf '%s\n' "$OUT" > "$WORK/web4.sh"
check "-n -H vm: the printed lines, run, make the VM there" \
	eval 'PATH=$LOCAL_PATH sh -e "$WORK/web4.sh" >/dev/null 2>&1 && zfs list -H -o name tank/web4 >/dev/null && [ -s "$QVM_SEED_DIR/web4/seed.iso" ]'
check "-n -H vm: the seed ISO made so is 0600" \
	eval '[ "$(stat -c %a "$QVM_SEED_DIR/web4/seed.iso")" = 600 ]'
rq -H "$H" destroy web4
check "-n -H vm: what the lines made, qvm destroy removes ($ERR)" \
	eval '[ "$RC" -eq 0 ] && [ "$(state)" = "$before" ]'
# The reads are real: a missing base is found there.
sed 's/base: tank\/debian12/base: tank\/nope/' "$WORK/web4.yaml" > "$WORK/nope.yaml"
rq -n -H "$H" vm "$WORK/nope.yaml"
check "-n -H vm: the checks ran there (missing base)" \
	eval '[ "$RC" -eq 1 ] && contains "$ERR" "tank/nope"'

# --- the connection dropped mid-run: the undo reconnects, there ---
# A virt-install on the remote side that takes its time; the test kills
# the master ssh (found through its control socket) while it runs.
T=$WORK/t	# qvm's private directory goes here: only this test's
mkdir -p "$T"
slow_virt_install() {
	cat > "$WORK/bin/virt-install" <<EOF
#!/bin/sh
case " \$* " in *" --dry-run "*) exit 0 ;; esac
echo \$\$ > "$WORK/vi-pid"
touch "$WORK/vi-started"
sleep 4
EOF
	chmod +x "$WORK/bin/virt-install"
}
# drop_during NAME ARGS...: runs qvm -H HOST ARGS in the background, kills
# the master once $WORK/NAME-started exists (with KILL_SSHD, the sshd
# too; with KILL_PID, the process whose pid that file names instead);
# leaves RC, OUT, ERR.
drop_during() {
	local marker=$WORK/$1-started sock pid
	shift
	rm -f "$marker"
	(TMPDIR=$T PATH=$LOCAL_PATH $QVM_WRAP "$QVM" -H "$H" "$@" >"$WORK/out" \
		2>"$WORK/err"; echo $? > "$WORK/rc") &
	for _ in $(seq 100); do [ -e "$marker" ] && break; sleep 0.1; done
	sock=$(ls "$T"/qvm-ssh-*/control 2>/dev/null | head -n 1)
	pid=$(ssh -O check -o ControlPath="$sock" x 2>&1 |
		sed -n 's/.*pid=\([0-9]*\).*/\1/p')
	[ -n "${KILL_PID:-}" ] && pid=$(cat "$KILL_PID") && KILL_SIG=-KILL
	[ -n "${KILL_SSHD:-}" ] && kill "$SSHD_PID"
	[ -n "$pid" ] && kill ${KILL_SIG:-} "$pid"
	wait
	RC=$(cat "$WORK/rc")
	OUT=$(cat "$WORK/out")
	ERR=$(cat "$WORK/err")
}
slow_virt_install
sed 's/name: web1/name: web3/' "$WORK/web1.yaml" > "$WORK/web3.yaml"
before=$(state)
drop_during vi vm "$WORK/web3.yaml"
check "dropped during virt-install: exit 1 ($ERR)" [ "$RC" -eq 1 ]
check "dropped during virt-install: says the connection was lost" \
	contains "$ERR" "ssh: the connection to 127.0.0.1 was lost while 'virt-install' ran"
check "dropped during virt-install: it connects again for the undo" \
	contains "$OUT" "The connection to 127.0.0.1 was lost; connecting again"
check "dropped during virt-install: the clone was destroyed there" \
	contains "$OUT" "Undid: destroyed zvol tank/web3"
check "dropped during virt-install: nothing is left on the remote" \
	[ "$(state)" = "$before" ]
check "dropped during virt-install: no control socket left" \
	eval '[ -z "$(ls -A "$T")" ]'
# The executor there saw its input end: it stopped virt-install's process
# group (which would have slept for 4 s).
gone() { for _ in $(seq 20); do kill -0 "$1" 2>/dev/null || return 0; sleep 0.1; done; return 1; }
check "dropped during virt-install: the remote virt-install was stopped" \
	gone "$(cat "$WORK/vi-pid")"

# qvm itself killed (SIGKILL: no undo, no close) during virt-install: its
# master connection does not outlive it, and the command there stops.
sed 's/name: web1/name: web4/' "$WORK/web1.yaml" > "$WORK/web4.yaml"
rm -f "$WORK/vi-started"
TMPDIR=$T PATH=$LOCAL_PATH "$QVM" -H "$H" vm "$WORK/web4.yaml" \
	>/dev/null 2>&1 &
qpid=$!
for _ in $(seq 100); do [ -e "$WORK/vi-started" ] && break; sleep 0.1; done
sock=$(ls "$T"/qvm-ssh-*/control 2>/dev/null | head -n 1)
mpid=$(ssh -O check -o ControlPath="$sock" x 2>&1 |
	sed -n 's/.*pid=\([0-9]*\).*/\1/p')
kill -KILL "$qpid"
wait "$qpid" 2>/dev/null
check "qvm killed: its master connection was running" [ -n "$mpid" ]
check "qvm killed: its master connection ends with it" gone "${mpid:-0}"
check "qvm killed: the remote virt-install was stopped" \
	gone "$(cat "$WORK/vi-pid")"
zfs destroy -r tank/web4 2>/dev/null
rm -rf "$QVM_SEED_DIR/web4" "$T"/qvm-ssh-*

# qvm's executor killed there (not the connection): the command fails
# with that reason, a new executor runs the undo.
cat > "$WORK/bin/virt-install" <<EOF
#!/bin/sh
case " \$* " in *" --dry-run "*) exit 0 ;; esac
echo \$PPID > "$WORK/exec-pid"
touch "$WORK/ex-started"
sleep 4
EOF
before=$(state)
KILL_PID=$WORK/exec-pid drop_during ex vm "$WORK/web3.yaml"
check "executor killed there: exit 1, says so ($ERR)" \
	eval '[ "$RC" -eq 1 ] && contains "$ERR" "qvm'\''s executor on 127.0.0.1 ended while '\''virt-install'\'' ran"'
check "executor killed there: a new one runs the undo" \
	eval 'contains "$OUT" "qvm'\''s executor on 127.0.0.1 ended; starting it again" && contains "$OUT" "Undid: destroyed zvol tank/web3"'
check "executor killed there: nothing is left on the remote" \
	[ "$(state)" = "$before" ]
check "executor killed there: no control socket left" \
	eval '[ -z "$(ls -A "$T")" ]'

# A command there with large output on both streams and a non-zero
# status: all of it comes back, its last words are the reason.
cat > "$WORK/bin/virt-install" <<'EOF'
#!/bin/sh
case " $* " in *" --dry-run "*) exit 0 ;; esac
head -c 3000000 /dev/zero | tr '\0' x
head -c 300000 /dev/zero | tr '\0' y >&2
printf '\nERROR    the loud virt-install fails\n' >&2
exit 3
EOF
rq -H "$H" vm "$WORK/web3.yaml"
check "large output there, status 3: its last words come back" \
	eval '[ "$RC" -eq 1 ] && contains "$ERR" "the loud virt-install fails" && [ "$(state)" = "$before" ]'

# Ctrl-C while a command runs there: it is stopped there, the run undone.
slow_virt_install
rm -f "$WORK/vi-started"
TMPDIR=$T PATH=$LOCAL_PATH $QVM_WRAP "$QVM" -H "$H" vm "$WORK/web3.yaml" \
	>"$WORK/out" 2>"$WORK/err" &
qpid=$!
for _ in $(seq 100); do [ -e "$WORK/vi-started" ] && break; sleep 0.1; done
kill -INT "$qpid"
wait "$qpid"
RC=$?
OUT=$(cat "$WORK/out")
check "Ctrl-C during virt-install there: the remote virt-install was stopped" \
	gone "$(cat "$WORK/vi-pid")"
check "Ctrl-C during virt-install there: interrupted, undone there ($RC)" \
	eval '[ "$RC" -ne 0 ] && contains "$OUT" "Undid: destroyed zvol tank/web3" && [ "$(state)" = "$before" ]'

# The connection dropped before the undo: virt-install fails on its own
# (exit 1) while qvm is stopped; the master is killed before qvm goes on
# to the undo, which connects again and removes everything there.
cat > "$WORK/bin/virt-install" <<EOF
#!/bin/sh
case " \$* " in *" --dry-run "*) exit 0 ;; esac
touch "$WORK/fail-started"
sleep 1
echo "ERROR    the test's virt-install fails" >&2
touch "$WORK/fail-ended"
exit 1
EOF
chmod +x "$WORK/bin/virt-install"
rm -f "$WORK/fail-started" "$WORK/fail-ended"
before=$(state)
TMPDIR=$T PATH=$LOCAL_PATH $QVM_WRAP "$QVM" -H "$H" vm "$WORK/web3.yaml" \
	>"$WORK/out" 2>"$WORK/err" &
qpid=$!
for _ in $(seq 100); do [ -e "$WORK/fail-started" ] && break; sleep 0.1; done
sock=$(ls "$T"/qvm-ssh-*/control 2>/dev/null | head -n 1)
mpid=$(ssh -O check -o ControlPath="$sock" x 2>&1 |
	sed -n 's/.*pid=\([0-9]*\).*/\1/p')
kill -STOP "$qpid"
for _ in $(seq 100); do [ -e "$WORK/fail-ended" ] && break; sleep 0.1; done
sleep 0.5	# its status has reached qvm's side (qvm is stopped)
[ -n "$mpid" ] && kill "$mpid"
sleep 0.2
kill -CONT "$qpid"
wait "$qpid"
RC=$?
OUT=$(cat "$WORK/out")
ERR=$(cat "$WORK/err")
slow_virt_install
check "dropped before the undo: virt-install's own failure is reported ($ERR)" \
	eval '[ "$RC" -eq 1 ] && contains "$ERR" "the test'\''s virt-install fails"'
check "dropped before the undo: the undo connects again" \
	contains "$OUT" "The connection to 127.0.0.1 was lost; connecting again"
check "dropped before the undo: nothing is left on the remote" \
	eval 'contains "$OUT" "Undid: destroyed zvol tank/web3" && [ "$(state)" = "$before" ]'

# The host cannot be reached again: everything left is named, with where.
KILL_SSHD=1 drop_during vi vm "$WORK/web3.yaml"
check "unreachable after the drop: exit 1" [ "$RC" -eq 1 ]
check "unreachable after the drop: each thing left is named" \
	eval 'contains "$ERR" "zvol tank/web3 was created but could not be destroyed: zfs failed (the connection to 127.0.0.1 port $PORT was lost and cannot be made again" && contains "$ERR" "seed directory $QVM_SEED_DIR/web3 was created but could not be removed: the connection to 127.0.0.1 port $PORT was lost and cannot be made again"'
check "unreachable after the drop: what is left, and where" \
	eval 'printf "%s\n" "$ERR" | grep -Eq "left on 127\.0\.0\.1: domain web3 \(uuid [0-9a-f-]{36}\), zvol tank/web3, seed directory $QVM_SEED_DIR/web3\$"'
check "unreachable after the drop: it is indeed there" \
	eval 'zfs list -H -o name tank/web3 >/dev/null && [ -d "$QVM_SEED_DIR/web3" ]'
zfs destroy tank/web3
rm -rf "$QVM_SEED_DIR/web3"
rm -f "$WORK/bin/virt-install"
sshd_restart

# --- image over SSH: the data streamed into the remote volume ---
# data only: not the image's size (holes and zero blocks are not sent).
make_raw "$WORK/img.raw" 64
nonzero=$(python3 -c '
import sys
n = 0
with open(sys.argv[1], "rb") as f:
    while True:
        b = f.read(16384)
        if not b: break
        if b.count(0) != len(b): n += len(b)
print(n)' "$WORK/img.raw")
rq -H "$H" image "$WORK/img.raw" tank/img
check "image over SSH: exit 0 ($ERR)" [ "$RC" -eq 0 ]
check "image over SSH: says where" \
	contains "$OUT" "Image tank/img created with snapshot tank/img@base on 127.0.0.1"
check "image over SSH: the snapshot is there" \
	eval "zfs list -H -o name tank/img@base >/dev/null"
check "image over SSH: the remote volume holds the image, byte for byte" \
	cmp -s "$WORK/img.raw" "$QVM_ZVOL_DIR/tank/img"
sent=$(printf '%s\n' "$OUT" | sed -n 's/^Sent \([0-9]*\) bytes over SSH: \([0-9]*\) bytes of data, \([0-9]*\) of framing$/\1 \2 \3/p')
read -r s_all s_data s_frame <<< "${sent:-0 0 0}"
echo "# image over SSH: $s_all bytes sent for a $((64 * 1048576))-byte image with $nonzero bytes of non-zero 16 KiB blocks ($s_data of data, $s_frame of framing)"
check "image over SSH: data sent at most 1.1x the image's non-zero data" \
	eval '[ "$s_data" -gt 0 ] && [ $((s_data * 10)) -le $((nonzero * 11)) ]'
check "image over SSH: bytes on the wire are data plus a little framing" \
	eval '[ "$s_data" -gt 0 ] && [ "$s_all" -eq $((s_data + s_frame)) ] && [ "$s_frame" -le 1024 ]'
rq -H "$H" destroy tank/img
check "image over SSH: destroy removes it there" \
	eval '[ "$RC" -eq 0 ] && ! zfs list -H -o name tank/img 2>/dev/null'

# -n -H image: the copy printed as ssh reading the image on its stdin;
# pasted, the lines import it.
before=$(state)
rq -n -H "$H" image "$WORK/img.raw" tank/dry
check "-n -H image: exit 0 ($ERR)" [ "$RC" -eq 0 ]
check "-n -H image: the copy as it would run there" \
	contains "$OUT" "ssh -p $PORT 127.0.0.1 -- 'dd of=$QVM_ZVOL_DIR/tank/dry bs=16384 iflag=fullblock conv=sparse,notrunc status=none' < $WORK/img.raw"
check "-n -H image: nothing changed" [ "$(state)" = "$before" ]
printf '%s\n' "$OUT" > "$WORK/dry.sh"
check "-n -H image: the printed lines, run, import it there" \
	eval 'PATH=$LOCAL_PATH sh -e "$WORK/dry.sh" >/dev/null 2>&1 && zfs list -H -o name tank/dry@base >/dev/null && cmp -s "$WORK/img.raw" "$QVM_ZVOL_DIR/tank/dry"'
zfs destroy -r tank/dry

# -n -H with a stream: decompressed here, as qvm would, and piped into dd
# there (not a pipeline run there: the remote needs no xz, and a file://
# or 127.0.0.1 URL would name its own files).
xz -T1 -c "$WORK/img.raw" > "$WORK/dry.raw.xz"
rq -n -H "$H" image "$WORK/dry.raw.xz" tank/drys
check "-n -H .raw.xz: exit 0 ($ERR)" [ "$RC" -eq 0 ]
check "-n -H .raw.xz: decompressed here, into dd there" \
	eval 'printf "%s\n" "$OUT" | grep "^sh -c " | grep -F "xz -dc < $WORK/dry.raw.xz | ssh -p $PORT 127.0.0.1 -- " | grep -qF "dd of=$QVM_ZVOL_DIR/tank/drys bs=16384 iflag=fullblock conv=sparse,notrunc status=none"'
check "-n -H .raw.xz: no pipeline sent to run there" \
	eval '! printf "%s\n" "$OUT" | grep -q "^ssh .*xz -dc"'
printf '%s\n' "$OUT" > "$WORK/drys.sh"
check "-n -H .raw.xz: the printed lines, run here, import it there" \
	eval 'PATH=$LOCAL_PATH sh -e "$WORK/drys.sh" >/dev/null 2>&1 && cmp -s -n "$(stat -c %s "$WORK/img.raw")" "$WORK/img.raw" "$QVM_ZVOL_DIR/tank/drys"'
zfs destroy -r tank/drys 2>/dev/null

# --- a qcow2 image over SSH: sent to a temporary file there, converted
# there by qemu-img (the remote's: a wrapper logs its calls) ---
cat > "$WORK/bin/qemu-img" <<EOF
#!/bin/sh
echo "\$*" >> "$WORK/qemu-img.log"
exec /usr/bin/qemu-img "\$@"
EOF
chmod +x "$WORK/bin/qemu-img"
qemu-img convert -f raw -O qcow2 "$WORK/img.raw" "$WORK/img.qcow2"
rq -H "$H" image "$WORK/img.qcow2" tank/q
check "qcow2 over SSH: exit 0 ($ERR)" [ "$RC" -eq 0 ]
check "qcow2 over SSH: the remote volume holds the image's data, byte for byte" \
	cmp -s "$WORK/img.raw" "$QVM_ZVOL_DIR/tank/q"
tmpq=$(sed -n 's/.*"filename":"\([^"]*\)".*/\1/p' "$WORK/qemu-img.log" | head -n 1)
check "qcow2 over SSH: qemu-img checked and converted it there, from a temporary copy" \
	eval 'grep -q "^check json:" "$WORK/qemu-img.log" && grep -q "^convert -n --target-is-zero json:" "$WORK/qemu-img.log" && contains "$tmpq" "/qvm-image."'
check "qcow2 over SSH: the temporary copy is removed" [ ! -e "$tmpq" ]
rm -f "$WORK/bin/qemu-img"
rq -H "$H" destroy tank/q

# --- images as published, over SSH (issue 15 with issue 13): the source is
# read, downloaded and decompressed here; only the image's data goes there ---
xz -T1 -c "$WORK/img.raw" > "$WORK/img.raw.xz"
rq -H "$H" image "$WORK/img.raw.xz" tank/sx
check "raw.xz over SSH: exit 0 ($ERR)" [ "$RC" -eq 0 ]
check "raw.xz over SSH: the remote volume holds the image, byte for byte" \
	eval 'cmp -s "$WORK/img.raw" "$QVM_ZVOL_DIR/tank/sx" && [ "$(zfs get -Hp -o value volsize tank/sx)" = $((64 * 1048576)) ]'
check "raw.xz over SSH: the snapshot is there" \
	eval "zfs list -H -o name tank/sx@base >/dev/null"
sent=$(printf '%s\n' "$OUT" | sed -n 's/^Sent \([0-9]*\) bytes over SSH: \([0-9]*\) bytes of data, \([0-9]*\) of framing$/\2/p')
check "raw.xz over SSH: data sent at most 1.1x the image's non-zero data" \
	eval '[ "${sent:-0}" -gt 0 ] && [ $((sent * 10)) -le $((nonzero * 11)) ]'
rq -H "$H" destroy tank/sx

good=$(sha256sum < "$WORK/img.raw.xz" | cut -d' ' -f1)
rq -H "$H" image --sha256 "$good" "file://$WORK/img.raw.xz" tank/su
check "file:// URL with --sha256 over SSH: exit 0 ($ERR)" [ "$RC" -eq 0 ]
check "file:// URL with --sha256 over SSH: byte for byte there" \
	cmp -s "$WORK/img.raw" "$QVM_ZVOL_DIR/tank/su"
rq -H "$H" destroy tank/su
before=$(state)
rq -H "$H" image --sha256 "$(printf '%064d' 0)" "file://$WORK/img.raw.xz" tank/su
check "file:// URL, wrong --sha256, over SSH: refused, undone there" \
	eval '[ "$RC" -eq 1 ] && contains "$ERR" "checksum mismatch" && [ "$(state)" = "$before" ]'

# A temporary file there that cannot be given its size: the reason is
# said, and the file is not left there.
cat > "$WORK/bin/truncate" <<'EOF'
#!/bin/sh
echo "truncate: cannot truncate: No space left on device" >&2
exit 1
EOF
chmod +x "$WORK/bin/truncate"
left_before=$(ls -d /var/tmp/qvm-image.* 2>/dev/null | wc -l)
before=$(state)
rq -H "$H" image "$WORK/img.qcow2" tank/qt
/bin/rm -f "$WORK/bin/truncate"
check "qcow2 over SSH, no room there: the reason is said" \
	eval '[ "$RC" -eq 1 ] && contains "$ERR" "cannot make a temporary file" && contains "$ERR" "No space left on device"'
check "qcow2 over SSH, no room there: no temporary file left there" \
	[ "$(ls -d /var/tmp/qvm-image.* 2>/dev/null | wc -l)" = "$left_before" ]
check "qcow2 over SSH, no room there: nothing changed" [ "$(state)" = "$before" ]

gzip -c "$WORK/img.qcow2" > "$WORK/img.qcow2.gz"
# The cache is this machine's: it does not exist yet, and what the remote
# runs (mkdir, rm logged there) never names it.
cache=$WORK/cache
cat > "$WORK/bin/qemu-img" <<EOF
#!/bin/sh
echo "\$*" >> "$WORK/qemu-img-z.log"
exec /usr/bin/qemu-img "\$@"
EOF
for prog in mkdir rm; do
	cat > "$WORK/bin/$prog" <<EOF
#!/bin/sh
echo "$prog \$*" >> "$WORK/remote-files.log"
exec /bin/$prog "\$@"
EOF
done
chmod +x "$WORK/bin/qemu-img" "$WORK/bin/mkdir" "$WORK/bin/rm"
QVM_CACHE_DIR=$cache rq -H "$H" image "$WORK/img.qcow2.gz" tank/qz
/bin/rm -f "$WORK/bin/qemu-img" "$WORK/bin/mkdir" "$WORK/bin/rm"
check "qcow2.gz over SSH: exit 0 ($ERR)" [ "$RC" -eq 0 ]
check "qcow2.gz over SSH: the cache is made here, mode 0700" \
	[ "$(stat -c %a "$cache" 2>/dev/null)" = 700 ]
check "qcow2.gz over SSH: the remote never touched the local cache" \
	eval '[ -s "$WORK/remote-files.log" ] && ! grep -q "$cache" "$WORK/remote-files.log"'
# The copy in the local cache is sent there: qemu-img never reads a path
# of this machine's cache.
check "qcow2.gz over SSH: qemu-img there read a copy there, not the local cache" \
	eval 'grep -q "^convert -n --target-is-zero json:.*/qvm-image\." "$WORK/qemu-img-z.log" && ! grep -q "$cache" "$WORK/qemu-img-z.log"'
check "qcow2.gz over SSH: the remote volume holds the image's data, byte for byte" \
	cmp -s "$WORK/img.raw" "$QVM_ZVOL_DIR/tank/qz"
check "qcow2.gz over SSH: no copy left in the local cache" \
	eval '[ -z "$(ls -A "$cache")" ]'
rq -H "$H" destroy tank/qz

# -n -H with a qcow2 image: the copy there is printed as a line of the
# script (the checks read it there for real); nothing else on stdout.
before=$(state)
rq -n -H "$H" image "$WORK/img.qcow2" tank/dryq
check "-n -H qcow2: exit 0 ($ERR)" [ "$RC" -eq 0 ]
check "-n -H qcow2: its copy there, a line of the script (sh -n)" \
	eval 'printf "%s\n" "$OUT" | grep -q "^ssh -p $PORT 127.0.0.1 -- '\''umask 077 && cat > .*/qvm-image\.[A-Za-z0-9]*'\'' < $WORK/img.qcow2$" && printf "%s\n" "$OUT" | sh -n && ! printf "%s\n" "$OUT" | grep -E "^(Sending|Sent|Copying)"'
check "-n -H qcow2: nothing changed" [ "$(state)" = "$before" ]

# The remote volume is too small for what comes: the writer's reason
# (ENOSPC) comes back, and the volume is destroyed there.
before=$(state)
# The remote side's python3 may come first in its shell's own PATH: the
# faults are injected when python starts (sitecustomize), into qvm's
# writer only (the one that pwrites), as $WORK/py/fault says.
mkdir -p "$WORK/py"
cat > "$WORK/py/sitecustomize.py" <<EOF
import os, resource, sys, time
a = getattr(sys, "orig_argv", [])
f = "$WORK/py/fault"
if len(a) > 2 and a[1] == "-c" and "pwrite" in a[2] and os.path.exists(f):
    fault = open(f).read().strip()
    if fault == "efbig":
        # Files of 1 MiB at most: a write beyond fails with EFBIG.
        resource.setrlimit(resource.RLIMIT_FSIZE, (1 << 20, 1 << 20))
    elif fault == "slow":
        open("$WORK/copy-started", "w").close()
        time.sleep(3)
EOF
echo efbig > "$WORK/py/fault"
rq -H "$H" image "$WORK/img.raw" tank/img
rm "$WORK/py/fault"
check "image over SSH, a write fails there: exit 1" [ "$RC" -eq 1 ]
check "image over SSH, a write fails there: its reason comes back" \
	contains "$ERR" "on 127.0.0.1: writing $QVM_ZVOL_DIR/tank/img at byte 33554432: File too large"
check "image over SSH, a write fails there: undone there" \
	eval 'contains "$OUT" "Undid: destroyed zvol tank/img" && [ "$(state)" = "$before" ]'

# The connection dropped during the copy: the undo reconnects.
echo slow > "$WORK/py/fault"
drop_during copy image "$WORK/img.raw" tank/img
rm "$WORK/py/fault"
check "dropped during the copy: exit 1, says so ($ERR)" \
	eval '[ "$RC" -eq 1 ] && contains "$ERR" "the connection to 127.0.0.1 was lost"'
check "dropped during the copy: the undo connects again" \
	contains "$OUT" "The connection to 127.0.0.1 was lost; connecting again"
check "dropped during the copy: nothing is left on the remote" \
	eval 'contains "$OUT" "Undid: destroyed zvol tank/img" && [ "$(state)" = "$before" ]'

# --- check stays local ---
rq -H "$H" check "$WORK/web1.yaml"
check "check with -H: refused (it is local)" \
	eval '[ "$RC" -eq 1 ] && contains "$ERR" "check"'

# --- the host key does not match ---
write_ssh_config "$S/otherkey.pub"
before=$(state)
rq -H "$H" list
check "host key mismatch: exit 1" [ "$RC" -eq 1 ]
check "host key mismatch: says so" \
	eval 'contains "$ERR" "cannot reach 127.0.0.1 port $PORT over SSH" && contains "$ERR" "key"'
rq -H "$H" vm "$WORK/web1.yaml"
check "host key mismatch: vm changes nothing" \
	eval '[ "$RC" -eq 1 ] && [ "$(state)" = "$before" ]'
write_ssh_config "$S/hostkey.pub"

# --- a login script there that prints: no command could be read ---
echo 'echo "Welcome to hv2"' > "$WORK/home/.bashrc"
before=$(state)
rq -H "$H" vm "$WORK/web1.yaml"
rm -f "$WORK/home/.bashrc"
check "a login script that prints there: a clear error, nothing changed" \
	eval '[ "$RC" -eq 1 ] && contains "$ERR" "cannot run commands on 127.0.0.1 port $PORT over SSH: something there printed before python3 answered" && [ "$(state)" = "$before" ]'

# --- an unreachable host ---
DEAD=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
rq -H "127.0.0.1:$DEAD" vm "$WORK/web1.yaml"
check "unreachable: exit 1, clear error" \
	eval '[ "$RC" -eq 1 ] && contains "$ERR" "cannot reach 127.0.0.1 port $DEAD over SSH" && contains "$ERR" "nothing was changed"'
check "unreachable: nothing changed" [ "$(state)" = "$before" ]
rq -H "bad host:x" list
check "a malformed host: refused" \
	eval '[ "$RC" -eq 1 ] && contains "$ERR" "bad host:x"'

kill "$SSHD_PID"
finish
