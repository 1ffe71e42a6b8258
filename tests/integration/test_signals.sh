#!/bin/bash
# Interrupts: SIGINT, SIGTERM and SIGHUP delivered to qvm while it copies an
# image, waits for a device, runs genisoimage, qemu-img or virt-install.
# After each: the undo ran, nothing is left (datasets, devices, seed files,
# temporary files), and qvm ended by the signal (bash sees 128+N).
# Then the ways a terminal and a pipe deliver signals: to the whole process
# group (Ctrl-C, twice), and SIGPIPE when the reader of qvm's output is gone.
. "$(dirname "$0")/lib.sh"

SIGNALS=0
DOUBLE=$ROOT/tests/zfs-double
# The test's own zfs calls go straight to the double (-S: it needs no site
# packages and starts faster without them).
zfs() { python3 -S "$DOUBLE" "$@"; }

snap() {
	state
	echo "devices:"
	(cd "$QVM_ZVOL_DIR" && find . -mindepth 1 ! -name '.*' | sort)
}

signum() { kill -l "$1"; }

# start_qvm ARGS...: qvm in the background with its own TMPDIR ($RUN_TMP);
# $PID, output in $WORK/out and $WORK/err.
RUNS=0
start_qvm() {
	RUNS=$((RUNS + 1))
	RUN_TMP=$WORK/tmp.$RUNS
	mkdir -m 700 "$RUN_TMP"
	: > "$WORK/marks"
	TMPDIR=$RUN_TMP $QVM_WRAP "$QVM" "$@" >"$WORK/out" 2>"$WORK/err" &
	PID=$!
}

# start_qvm_group ARGS...: the same, as the leader of its own process group
# (as a shell with job control starts it): $PID is also the group's id.
start_qvm_group() {
	RUNS=$((RUNS + 1))
	RUN_TMP=$WORK/tmp.$RUNS
	mkdir -m 700 "$RUN_TMP"
	: > "$WORK/marks"
	( TMPDIR=$RUN_TMP exec setsid $QVM_WRAP "$QVM" "$@" \
		>"$WORK/out" 2>"$WORK/err" ) &
	PID=$!
}

# wait_until COMMAND...: polls (10 s at most).
wait_until() {
	local i
	for i in $(seq 1 1000); do
		"$@" && return 0
		kill -0 "$PID" 2>/dev/null || { "$@"; return; }
		sleep 0.01
	done
	return 1
}
said() { grep -q "$1" "$WORK/out"; }
marked() { grep -q "^$1" "$WORK/marks"; }

# finish_qvm: waits for it; $RC, $OUT, $ERR.
finish_qvm() {
	{ wait "$PID"; } 2>/dev/null	# not bash's "Hangup" job notice
	RC=$?
	OUT=$(cat "$WORK/out")
	ERR=$(cat "$WORK/err")
}

# expect_rolled_back WHAT SIG BEFORE [UNDID...]: the checks after an
# interrupt.
expect_rolled_back() {
	local what=$1 sig=$2 before=$3 after u
	shift 3
	sleep "${SETTLE:-0}"
	after=$(snap)
	check "$what: qvm ended by SIG$sig (exit $((128 + $(signum "$sig"))))" \
		[ "$RC" -eq $((128 + $(signum "$sig"))) ]
	[ "$RC" -eq $((128 + $(signum "$sig"))) ] || echo "#   exit $RC"
	check "$what: an Error line" \
		eval 'printf "%s\n" "$ERR" | grep -q "^Error "'
	check "$what: the undo did not fail" eval '! contains "$ERR" "by hand"'
	for u; do
		check "$what: $u" contains "$OUT" "$u"
	done
	if [ "$after" = "$before" ]; then
		ok "$what: nothing left, nothing removed"
	else
		not_ok "$what: nothing left, nothing removed"
		diff <(printf '%s\n' "$before") <(printf '%s\n' "$after") | sed 's/^/#   /'
		printf '%s\n' "$ERR" | sed 's/^/#   stderr: /'
	fi
	check "$what: no temporary files left" eval '[ -z "$(ls -A "$RUN_TMP")" ]'
}

# slow_wrapper PROG SLOW-PATTERN MARK: a PROG that, when " ARGS " matches
# the case pattern, records MARK in $WORK/marks and its pid in
# $WORK/MARK.pid and sleeps (as a long copy or install would); else it runs
# the real program.
slow_wrapper() {
	local real
	real=$(command -v "$1")
	cat > "$WORK/bin/$1" <<EOF
#!/bin/sh
case " \$* " in
$2)
	echo \$\$ > "$WORK/$3.pid"
	echo $3 >> "$WORK/marks"
	exec sleep 30 ;;
esac
exec "$real" "\$@"
EOF
	chmod +x "$WORK/bin/$1"
}
# stopped MARK: the slow child that recorded MARK is gone.
stopped() { ! kill -0 "$(cat "$WORK/$1.pid")" 2>/dev/null; }

# --- the stage -----------------------------------------------------------
make_raw "$WORK/cloud.raw" 32
"$QVM" image "$WORK/cloud.raw" tank/debian12 >/dev/null ||
	{ not_ok "setting up the base image"; finish; exit 1; }
zfs create -V 16M tank/other
vmfile() {	# vmfile NAME: a minimal valid qvm file at $WORK/NAME.yaml
	cat > "$WORK/$1.yaml" <<EOF
---
qvm: vm
name: $1
connect: test:///default
memory: 512
os-variant: debian11
graphics: none
disk:
  zvol:
    base: tank/debian12
---
qvm: user-data
runcmd:
  - [touch, /root/hello]
---
qvm: meta-data
EOF
}

# --- during the copy of a raw image -------------------------------------
# 2 GiB with 4 KiB of data every 256 KiB: 8192 extents, each written as a
# 64 KiB block, so the copy takes long enough to be caught in the middle.
python3 -S - "$WORK/big.raw" <<'EOF'
import os, sys
size, step = 2 << 30, 256 << 10
buf = os.urandom(4096)
fd = os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
os.ftruncate(fd, size)
for off in range(0, size, step):
    os.pwrite(fd, buf, off)
os.close(fd)
EOF
allocated() { [ -e "$1" ] && [ "$(stat -c %b "$1")" -gt 0 ]; }
mid_copy=0
for sig in INT TERM HUP; do
	before=$(snap)
	start_qvm image "$WORK/big.raw" "tank/copy$sig"
	wait_until allocated "$QVM_ZVOL_DIR/tank/copy$sig"
	kill -s "$sig" "$PID"
	SIGNALS=$((SIGNALS + 1))
	finish_qvm
	expect_rolled_back "image raw, SIG$sig during the copy" "$sig" "$before" \
		"Undid: destroyed zvol tank/copy$sig"
	contains "$ERR" "interrupted" && mid_copy=$((mid_copy + 1))
	check "image raw, SIG$sig during the copy: no snapshot was made" \
		eval '! grep -q "^zfs	snapshot	tank/copy$sig@" "$ZFS_DOUBLE_DIR/log"'
done
check "the copy stopped in the middle at least once ($mid_copy of 3)" \
	[ "$mid_copy" -ge 1 ]
rm -f "$WORK/big.raw"

# --- during qemu-img convert ---------------------------------------------
qemu-img convert -f raw -O qcow2 "$WORK/cloud.raw" "$WORK/cloud.qcow2"
slow_wrapper qemu-img '*" convert "*' convert
for sig in INT TERM; do
	before=$(snap)
	start_qvm image "$WORK/cloud.qcow2" "tank/conv$sig"
	wait_until marked convert
	kill -s "$sig" "$PID"
	SIGNALS=$((SIGNALS + 1))
	finish_qvm
	expect_rolled_back "image qcow2, SIG$sig during qemu-img convert" "$sig" \
		"$before" "Undid: destroyed zvol tank/conv$sig"
	check "image qcow2, SIG$sig during qemu-img convert: qemu-img was stopped" \
		stopped convert
done
rm "$WORK/bin/qemu-img"

# --- while waiting for the device ---------------------------------------
echo 3 > "$ZFS_DOUBLE_DIR/device_delay"
before=$(snap)
QVM_DEVICE_TIMEOUT=20 start_qvm image "$WORK/cloud.raw" tank/devwait
wait_until said "Waiting for"
sleep 0.2
kill -s TERM "$PID"
SIGNALS=$((SIGNALS + 1))
finish_qvm
expect_rolled_back "image, SIGTERM while waiting for the device" TERM \
	"$before" "Undid: destroyed zvol tank/devwait"

for sig in HUP INT; do
	vmfile "dev$sig"
	before=$(snap)
	QVM_DEVICE_TIMEOUT=20 start_qvm vm "$WORK/dev$sig.yaml"
	wait_until said "Waiting for"
	sleep 0.2
	kill -s "$sig" "$PID"
	SIGNALS=$((SIGNALS + 1))
	finish_qvm
	expect_rolled_back "vm, SIG$sig while waiting for the device" "$sig" \
		"$before" "Undid: destroyed zvol tank/dev$sig" \
		"Undid: removed seed directory $QVM_SEED_DIR/dev$sig"
done
rm -f "$ZFS_DOUBLE_DIR/device_delay"

# --- while genisoimage runs ---------------------------------------------
slow_wrapper genisoimage '*' iso
vmfile iso
before=$(snap)
start_qvm vm "$WORK/iso.yaml"
wait_until marked iso
kill -s TERM "$PID"
SIGNALS=$((SIGNALS + 1))
finish_qvm
expect_rolled_back "vm, SIGTERM while genisoimage runs" TERM "$before" \
	"Undid: removed seed directory $QVM_SEED_DIR/iso"
rm "$WORK/bin/genisoimage"

# --- while waiting for virt-install --------------------------------------
# The --dry-run check runs for real; the install itself takes its time.
slow_wrapper virt-install '*" --dry-run "*) exec /usr/bin/virt-install "$@" ;;
*' install
for sig in INT TERM HUP; do
	vmfile "inst$sig"
	before=$(snap)
	start_qvm vm "$WORK/inst$sig.yaml"
	wait_until marked install
	kill -s "$sig" "$PID"
	SIGNALS=$((SIGNALS + 1))
	finish_qvm
	# The stand-in virt-install defined no domain: the undo says so.
	expect_rolled_back "vm, SIG$sig while virt-install runs" "$sig" "$before" \
		"Nothing to undo: domain inst$sig was not defined" \
		"Undid: destroyed zvol tank/inst$sig" \
		"Undid: removed seed directory $QVM_SEED_DIR/inst$sig"
	check "vm, SIG$sig while virt-install runs: virt-install was stopped" \
		stopped install
done

# A second signal while the undo runs does not cut it short.
zfs_slow_destroy() {	# destroy takes a while, as on a busy pool
	rm -f "$WORK/bin/zfs"
	cat > "$WORK/bin/zfs" <<EOF
#!/bin/sh
[ "\$1" = destroy ] && { echo destroy >> "$WORK/marks"; sleep 0.6; }
exec python3 -S "$DOUBLE" "\$@"
EOF
	chmod +x "$WORK/bin/zfs"
}
zfs_plain() { rm -f "$WORK/bin/zfs"; ln -s "$DOUBLE" "$WORK/bin/zfs"; }

zfs_slow_destroy
vmfile twice
before=$(snap)
start_qvm vm "$WORK/twice.yaml"
wait_until marked install
kill -s TERM "$PID"
wait_until marked destroy
kill -s TERM "$PID"
SIGNALS=$((SIGNALS + 2))
finish_qvm
expect_rolled_back "vm, SIGTERM twice (the second during the undo)" TERM \
	"$before" "Undid: destroyed zvol tank/twice"

# --- as a terminal delivers them: to the whole process group -------------
vmfile ctrlc
before=$(snap)
start_qvm_group vm "$WORK/ctrlc.yaml"
wait_until marked install
kill -s INT -- "-$PID"
SIGNALS=$((SIGNALS + 1))
finish_qvm
expect_rolled_back "vm, Ctrl-C (SIGINT to the process group) during virt-install" \
	INT "$before" "Undid: destroyed zvol tank/ctrlc"

# Ctrl-C again while the undo runs: the undo's own commands must not die
# with qvm's process group (signals.h: "Rollback holds signals so that its
# own commands (zfs destroy, virsh undefine) run to the end").
vmfile ctrlc2
before=$(snap)
start_qvm_group vm "$WORK/ctrlc2.yaml"
wait_until marked install
kill -s INT -- "-$PID"
wait_until marked destroy
sleep 0.1
kill -s INT -- "-$PID"
SIGNALS=$((SIGNALS + 2))
finish_qvm
expect_rolled_back "vm, Ctrl-C twice, the second during the undo's zfs destroy" \
	INT "$before" "Undid: destroyed zvol tank/ctrlc2"
zfs_plain

# --- SIGPIPE: the reader of qvm's output is gone (qvm ... | tee log, and
# Ctrl-C stopped tee) when qvm is interrupted: the undo's "Undid:" lines
# must not kill it half-way.
vmfile pipe
before=$(snap)
RUNS=$((RUNS + 1)); RUN_TMP=$WORK/tmp.$RUNS; mkdir -m 700 "$RUN_TMP"
: > "$WORK/marks"
mkfifo "$WORK/fifo"
TMPDIR=$RUN_TMP $QVM_WRAP "$QVM" vm "$WORK/pipe.yaml" >"$WORK/fifo" 2>"$WORK/err" &
PID=$!
exec 3<"$WORK/fifo"
while IFS= read -r line <&3; do
	case $line in "Creating domain"*) break ;; esac
done
exec 3<&-
wait_until marked install
kill -s INT "$PID"
SIGNALS=$((SIGNALS + 1))
{ wait "$PID"; } 2>/dev/null
RC=$?
OUT=""
ERR=$(cat "$WORK/err")
rm -f "$WORK/fifo"
after=$(snap)
check "vm, SIGINT with its stdout reader gone: ended by SIGINT, not SIGPIPE (exit $RC)" \
	[ "$RC" -eq 130 ]
if [ "$after" = "$before" ]; then
	ok "vm, SIGINT with its stdout reader gone: nothing left"
else
	not_ok "vm, SIGINT with its stdout reader gone: nothing left"
	diff <(printf '%s\n' "$before") <(printf '%s\n' "$after") | sed 's/^/#   /'
fi
rm "$WORK/bin/virt-install"
rm -rf "$QVM_SEED_DIR/pipe"; zfs destroy tank/pipe 2>/dev/null

# --- SIGTERM while zfs clone runs, after it made the clone ----------------
# qvm stops a running child when interrupted; zfs may already have made
# the clone (its ioctl is done; it dies on its way out). qvm must not leave
# it behind without a word.
rm -f "$WORK/bin/zfs"
cat > "$WORK/bin/zfs" <<EOF
#!/bin/sh
if [ "\$1" = clone ]; then
	python3 -S "$DOUBLE" "\$@" || exit
	echo cloned >> "$WORK/marks"
	exec sleep 30
fi
exec python3 -S "$DOUBLE" "\$@"
EOF
chmod +x "$WORK/bin/zfs"
vmfile midclone
before=$(snap)
start_qvm vm "$WORK/midclone.yaml"
wait_until marked cloned
kill -s TERM "$PID"
SIGNALS=$((SIGNALS + 1))
finish_qvm
zfs_plain
expect_rolled_back "vm, SIGTERM while zfs clone finishes" TERM "$before"
zfs destroy tank/midclone 2>/dev/null

# --- before anything changed ---------------------------------------------
rm -f "$WORK/bin/zfs"
cat > "$WORK/bin/zfs" <<EOF
#!/bin/sh
[ "\$1" = get ] && { echo get >> "$WORK/marks"; sleep 0.5; }
exec python3 -S "$DOUBLE" "\$@"
EOF
chmod +x "$WORK/bin/zfs"
vmfile early
before=$(snap)
calls=$(wc -l < "$ZFS_DOUBLE_DIR/log")
start_qvm vm "$WORK/early.yaml"
wait_until marked get
kill -s HUP "$PID"
SIGNALS=$((SIGNALS + 1))
finish_qvm
zfs_plain
expect_rolled_back "vm, SIGHUP during the checks" HUP "$before"
check "vm, SIGHUP during the checks: nothing was created" \
	eval '! tail -n +$((calls + 1)) "$ZFS_DOUBLE_DIR/log" | grep -q "^zfs	clone"'

check "nothing of what was there before was touched" \
	eval 'zfs list -H tank/other >/dev/null && cmp -s "$WORK/cloud.raw" "$QVM_ZVOL_DIR/tank/debian12"'

echo "# signals tried: $SIGNALS ($SECONDS s)"
finish
