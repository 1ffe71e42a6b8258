#!/bin/bash
# Fault injection, exhaustively: for qvm vm and qvm image (raw and qcow2),
# every external command qvm runs is made, in turn, to fail and to be
# killed by a signal. After each: exit 1, an "Error ..." line, nothing left
# that was not there before (datasets, zvol devices, seed files, temporary
# files), nothing removed that was. Then the undo itself is made to fail,
# and the message must name what is left.
#
# The sequence of calls is not written down here: it is read from a good
# run, so a new call in qvm is faulted without touching this file.
. "$(dirname "$0")/lib.sh"

FAULTS=0
# The test's own zfs calls go straight to the double, never through the
# fault wrapper that qvm finds in PATH.
# (-S: the double needs no site packages, and starts faster without them.)
zfs() { python3 -S "$ROOT/tests/zfs-double" "$@"; }

# --- the fault wrapper --------------------------------------------------
# $WORK/bin/PROG -> $FAULT_DIR/wrapper for every program qvm runs. It logs
# each call to $FAULT_DIR/calls, counts them per program, and on the call
# numbered in $FAULT_DIR/at.PROG ("N MODE MESSAGE", N may be '*') does:
#   exit:S        print MESSAGE on stderr, exit with status S
#   kill:N        kill itself with signal N
#   zfs:STATUS    (zfs only) have the double fail this call (STATUS: an exit
#                 status or signal:N) with MESSAGE, through its own fail file
#   after:N       run the real program, then kill itself with signal N (the
#                 change is made, but the caller sees a death)
#   litter        run the real program, then leave a stray file next to
#                 genisoimage's output (so the seed directory cannot be
#                 removed)
#   pass          nothing: the fault is elsewhere (marks the run as faulted)
#   spy           no fault: record the mode of every argument that is a
#                 path (and of its directory) in $FAULT_DIR/spy, then run
# and records the hit in $FAULT_DIR/hit.
export FAULT_DIR=$WORK/fault
mkdir -p "$FAULT_DIR/real"
for prog in genisoimage virt-install qemu-img virsh; do
	real=$(command -v "$prog") ||
		{ not_ok "$prog is installed"; finish; exit 1; }
	ln -s "$real" "$FAULT_DIR/real/$prog"
done
printf '#!/bin/sh\nexec python3 -S "%s" "$@"\n' "$ROOT/tests/zfs-double" \
	> "$FAULT_DIR/real/zfs"
chmod +x "$FAULT_DIR/real/zfs"
cat > "$FAULT_DIR/wrapper" <<'EOF'
#!/bin/sh
prog=${0##*/}
d=$FAULT_DIR
# A test may lower qvm's file size limit; the tools keep the hard one.
ulimit -S -f "$(ulimit -H -f)" 2>/dev/null
n=$(( $(cat "$d/n.$prog" 2>/dev/null || echo 0) + 1 ))
echo "$n" > "$d/n.$prog"
echo "$prog $*" >> "$d/calls"
if [ -f "$d/at.$prog" ]; then
	read -r at mode msg < "$d/at.$prog"
	if [ "$at" = "$n" ] || [ "$at" = "*" ]; then
		echo "$prog $n $mode" >> "$d/hit"
		case $mode in
		exit:*)
			printf '%s\n' "$msg" >&2
			exit "${mode#exit:}" ;;
		kill:*)
			kill -"${mode#kill:}" $$
			sleep 5
			exit 99 ;;
		zfs:*)
			printf '%s\t*\t%s\t%s\n' "$1" "${mode#zfs:}" "$msg" \
				>> "$ZFS_DOUBLE_DIR/fail" ;;
		after:*)
			"$d/real/$prog" "$@"
			kill -"${mode#after:}" $$
			sleep 5
			exit 99 ;;
		spy)
			for a; do
				[ -e "$a" ] || continue
				stat -c '%a %n' "$a" "$(dirname "$a")" >> "$d/spy"
			done ;;
		litter)
			"$d/real/$prog" "$@"
			rc=$?
			: > "$(dirname "$2")/stray"
			exit $rc ;;
		esac
	fi
fi
exec "$d/real/$prog" "$@"
EOF
chmod +x "$FAULT_DIR/wrapper"
rm -f "$WORK/bin/zfs"
for prog in zfs genisoimage virt-install qemu-img virsh; do
	ln -s "$FAULT_DIR/wrapper" "$WORK/bin/$prog"
done

# Forget the counters and faults of the last run.
reset_faults() {
	rm -f "$FAULT_DIR"/n.* "$FAULT_DIR"/at.* "$FAULT_DIR/calls" \
		"$FAULT_DIR/hit" "$ZFS_DOUBLE_DIR/fail"
}

# inject PROG N MODE [MESSAGE]
inject() { echo "$2 $3 ${4:-}" > "$FAULT_DIR/at.$1"; }

# What exists: datasets, seed files, zvol devices (not the double's
# temporaries, which start with '.').
snap() {
	state
	echo "devices:"
	(cd "$QVM_ZVOL_DIR" && find . -mindepth 1 ! -name '.*' | sort)
}

# run_faulted ARGS...: qvm with its own empty TMPDIR, as $RUN_TMP.
RUNS=0
run_faulted() {
	RUNS=$((RUNS + 1))
	RUN_TMP=$WORK/tmp.$RUNS
	mkdir -m 700 "$RUN_TMP"
	TMPDIR=$RUN_TMP run_qvm "$@"
}

# The double makes delayed devices from a detached child; when the run made
# a volume, give its device time to show up (or, as it should, not) before
# comparing.
settle() {
	grep -Eq '^zfs (create|clone) ' "$FAULT_DIR/calls" 2>/dev/null &&
		sleep "${SETTLE:-0}"
	return 0
}

# expect_clean_failure WHAT TASK BEFORE: the checks after each fault.
expect_clean_failure() {
	local what=$1 task=$2 before=$3 after
	settle
	after=$(snap)
	LAST_SNAP=$after
	check "$what: exit 1" [ "$RC" -eq 1 ]
	check "$what: an Error line" \
		eval 'printf "%s\n" "$ERR" | grep -q "^Error $task: "'
	check "$what: the fault was injected" [ -s "$FAULT_DIR/hit" ]
	check "$what: the undo did not fail" eval '! contains "$ERR" "by hand"'
	case $what in *", kill")
		check "$what: says it was killed" contains "$ERR" "signal 9"
	esac
	if [ "$after" = "$before" ]; then
		ok "$what: nothing left, nothing removed"
	else
		not_ok "$what: nothing left, nothing removed"
		diff <(printf '%s\n' "$before") <(printf '%s\n' "$after") | sed 's/^/#   /'
		printf '%s\n' "$ERR" | sed 's/^/#   stderr: /'
	fi
	check "$what: no temporary files left" \
		eval '[ -z "$(ls -A "$RUN_TMP")" ]'
}

# good_sequence: the calls of the last run, one "PROG ARGS" a line.
good_sequence() { cat "$FAULT_DIR/calls"; }

# fault_matrix LABEL TASK SEQUENCE-FILE COMMAND...: for each call in the
# sequence, a run where it fails and one where it is killed. The command's
# arguments may use @N@, replaced by a name unique to the run.
fault_matrix() {
	local label=$1 task=$2 seqfile=$3
	shift 3
	local i=0 line prog nth mode msg before
	LAST_SNAP=$(snap)
	while IFS= read -r line; do
		i=$((i + 1))
		prog=${line%% *}
		nth=$(head -n "$i" "$seqfile" | grep -c "^$prog ")
		for mode in fail kill; do
			case $prog:$mode in
			zfs:fail) m=zfs:1
				msg="internal error: Input/output error" ;;
			*:fail) m=exit:1; msg="$prog: injected failure" ;;
			*:kill) m=kill:9; msg="" ;;
			esac
			reset_faults
			inject "$prog" "$nth" "$m" "$msg"
			# What the last run left is what this one starts from
			# (so one leak is reported once).
			before=$LAST_SNAP
			name=f$((RUNS + 1))
			local args=()
			local a
			for a in "$@"; do args+=("${a//@N@/$name}"); done
			run_faulted "${args[@]}"
			FAULTS=$((FAULTS + 1))
			expect_clean_failure \
				"$label, call $i ($prog #$nth: ${line:0:60}), $mode" \
				"${task//@N@/$name}" "$before"
		done
	done < "$seqfile"
}

# --- the stage: a base image, a VM and a volume that are not ours to touch
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
  bus: virtio
  zvol:
    base: tank/debian12
    volsize: 48M
    compression: lz4
---
qvm: user-data
users:
  - name: admin
    passwd: secret
---
qvm: meta-data
EOF
}

# --- qvm vm -------------------------------------------------------------
# The double's devices appear late, as udev's do.
echo 0.05 > "$ZFS_DOUBLE_DIR/device_delay"
SETTLE=0.15
# The good run doubles as the secrets test: under a umask of 000, with no
# seed directory yet, the seed must still be its owner's alone.
rmdir "$QVM_SEED_DIR"
reset_faults
inject genisoimage 1 spy
vmfile good
: > "$ZFS_DOUBLE_DIR/log"
RUNS=$((RUNS + 1)); RUN_TMP=$WORK/tmp.$RUNS; mkdir -m 700 "$RUN_TMP"
( umask 000; TMPDIR=$RUN_TMP exec $QVM_WRAP "$QVM" vm "$WORK/good.yaml" \
	>"$WORK/out" 2>"$WORK/err" )
RC=$?; ERR=$(cat "$WORK/err")
check "vm: the good run succeeds (umask 000)" [ "$RC" -eq 0 ]
[ "$RC" -eq 0 ] || printf '%s\n' "$ERR"
check "umask 000: the seed directory qvm made is 0711 (traversable, not listable)" \
	[ "$(stat -c %a "$QVM_SEED_DIR")" = 711 ]
check "umask 000: the VM's seed directory is 0711" \
	[ "$(stat -c %a "$QVM_SEED_DIR/good")" = 711 ]
check "umask 000: the ISO is 0600" \
	[ "$(stat -c %a "$QVM_SEED_DIR/good/seed.iso")" = 600 ]
check "umask 000: the ISO holds the secret (so the mode matters)" \
	grep -q 'passwd: secret' "$QVM_SEED_DIR/good/seed.iso"
check "umask 000: user-data was written 0600" \
	eval 'grep -q "^600 $QVM_SEED_DIR/good/user-data$" "$FAULT_DIR/spy"'
check "umask 000: meta-data was written 0600" \
	eval 'grep -q "^600 $QVM_SEED_DIR/good/meta-data$" "$FAULT_DIR/spy"'
check "umask 000: they were written in the VM's own seed directory, 0711 (not listable)" \
	eval 'grep -q "^711 $QVM_SEED_DIR/good$" "$FAULT_DIR/spy"'
check "umask 000: no file in the seed tree is readable by others" \
	[ -z "$(find "$QVM_SEED_DIR" -perm -o=r)" ]
check "umask 000: user-data and meta-data are gone, only the ISO stays" \
	[ "$(ls -A "$QVM_SEED_DIR/good")" = seed.iso ]
check "umask 000: nothing was written in TMPDIR" \
	eval '[ -z "$(ls -A "$RUN_TMP")" ]'
mkdir -m 700 "$QVM_SEED_DIR/someone-else"
echo keep > "$QVM_SEED_DIR/someone-else/seed.iso"
good_sequence > "$WORK/vm.seq"
check "vm: the wrapper saw every zfs call the double logged" \
	[ "$(grep -c '^zfs ' "$WORK/vm.seq")" -eq "$(wc -l < "$ZFS_DOUBLE_DIR/log")" ]
check "vm: a good run calls zfs, genisoimage, virt-install twice" \
	eval 'grep -q "^zfs clone" "$WORK/vm.seq" && grep -q "^genisoimage" "$WORK/vm.seq" &&
	      [ "$(grep -c "^virt-install" "$WORK/vm.seq")" -eq 2 ] &&
	      grep -q "^virt-install .*--dry-run" "$WORK/vm.seq"'
sed 's/^/# vm sequence: /' "$WORK/vm.seq" | cut -c1-110
for n in $(seq 1 60); do vmfile "f$n"; done
fault_matrix "vm" "creating VM @N@" "$WORK/vm.seq" vm "$WORK/@N@.yaml"

# --- qvm vm: the undo itself fails -------------------------------------
# A fault late enough to undo everything: the real virt-install fails.
real_install=$(grep -c '^virt-install' "$WORK/vm.seq")

reset_faults
vmfile u1
before=$(snap)
inject virt-install "$real_install" exit:1 "ERROR    injected"
printf '*destroy\t*\t1\tcannot destroy '"'"'tank/u1'"'"': permission denied\n' \
	> "$ZFS_DOUBLE_DIR/fail"
run_faulted vm "$WORK/u1.yaml"
FAULTS=$((FAULTS + 1))
rm -f "$ZFS_DOUBLE_DIR/fail"
settle
check "vm, zfs destroy fails in the undo: exit 1" [ "$RC" -eq 1 ]
check "vm, zfs destroy fails in the undo: names what is left" \
	contains "$ERR" "Error creating VM u1: zvol tank/u1 was created but could not be destroyed: "
check "vm, zfs destroy fails in the undo: zfs's reason and advice" \
	eval 'printf "%s\n" "$ERR" | grep -q "could not be destroyed: .*permission denied.*; destroy it by hand$"'
check "vm, zfs destroy fails in the undo: the rest is still undone" \
	eval 'contains "$OUT" "Undid: removed seed directory $QVM_SEED_DIR/u1"'
check "vm, zfs destroy fails in the undo: only the clone is left" \
	[ "$(snap | grep -v '^tank/u1$' | grep -v '^./tank/u1$')" = "$before" ]
check "vm, zfs destroy fails in the undo: no temporary files" \
	eval '[ -z "$(ls -A "$RUN_TMP")" ]'
zfs destroy tank/u1

reset_faults
vmfile u2
before=$(snap)
inject virt-install "$real_install" exit:1 "ERROR    injected"
# virsh's calls: the good run's (the domain check), then the undo's
# destroy, then its undefine.
echo "$(($(grep -c '^virsh ' "$WORK/vm.seq") + 2)) exit:1 error: failed to connect to the hypervisor" \
	> "$FAULT_DIR/at.virsh"
run_faulted vm "$WORK/u2.yaml"
FAULTS=$((FAULTS + 1))
settle
check "vm, virsh undefine fails in the undo: exit 1" [ "$RC" -eq 1 ]
check "vm, virsh undefine fails in the undo: names the domain" \
	contains "$ERR" "Error creating VM u2: domain u2 was created but could not be undefined: error: failed to connect to the hypervisor; undefine it by hand"
check "vm, virsh undefine fails in the undo: clone and seed still undone" \
	[ "$(snap)" = "$before" ]

reset_faults
vmfile u3
before=$(snap)
inject genisoimage 1 litter
inject zfs "$(grep '^zfs ' "$WORK/vm.seq" | grep -n '^zfs clone' | cut -d: -f1)" \
	zfs:1 "cannot create 'tank/u3': out of space"
run_faulted vm "$WORK/u3.yaml"
FAULTS=$((FAULTS + 1))
check "vm, seed directory cannot be removed: exit 1" [ "$RC" -eq 1 ]
check "vm, seed directory cannot be removed: names it" \
	eval 'printf "%s\n" "$ERR" | grep -q "^Error creating VM u3: seed directory $QVM_SEED_DIR/u3 was created but could not be removed: .*; remove it by hand$"'
check "vm, seed directory cannot be removed: only it is left" \
	[ "$(snap | grep -v '^\./u3')" = "$before" ]
check "vm, seed directory cannot be removed: the ISO in it was removed" \
	[ ! -e "$QVM_SEED_DIR/u3/seed.iso" ]
rm -rf "$QVM_SEED_DIR/u3"

# --- the file system says no ---------------------------------------------
# TMPDIR is not a directory: qvm vm does not need one (the seed's files
# are written in the VM's own seed directory). Not under valgrind, which
# needs TMPDIR for itself and would not start.
if [ -z "$QVM_WRAP" ]; then
reset_faults
vmfile notmp
: > "$WORK/not-a-dir"
TMPDIR=$WORK/not-a-dir run_qvm vm "$WORK/notmp.yaml"
check "vm, TMPDIR is not a directory: not needed, the run succeeds" [ "$RC" -eq 0 ]
[ "$RC" -eq 0 ] || printf '%s\n' "$ERR"
zfs destroy tank/notmp 2>/dev/null
rm -rf "$QVM_SEED_DIR/notmp" "$WORK/not-a-dir"
else
	echo "# skipped under $QVM_WRAP: TMPDIR not a directory (valgrind needs TMPDIR)"
fi

# The seed directory cannot be made (QVM_SEED_DIR is a file).
reset_faults
inject zfs '*' pass
vmfile noseed
: > "$WORK/seed-file"
before=$(snap)
QVM_SEED_DIR=$WORK/seed-file run_faulted vm "$WORK/noseed.yaml"
FAULTS=$((FAULTS + 1))
expect_clean_failure "vm, the seed directory cannot be made" \
	"creating VM noseed" "$before"
check "vm, the seed directory cannot be made: the file is left alone" \
	eval '[ -f "$WORK/seed-file" ] && [ ! -s "$WORK/seed-file" ]'

# --- a zfs command that made its change, then died ----------------------
# (the OOM killer, a kill -9, or qvm's own SIGTERM on an interrupt, can end
# zfs after its ioctl has committed the change: exit 137/143, dataset made)
reset_faults
vmfile late
before=$(snap)
inject zfs "$(grep '^zfs ' "$WORK/vm.seq" | grep -n '^zfs clone' | cut -d: -f1)" after:9
run_faulted vm "$WORK/late.yaml"
FAULTS=$((FAULTS + 1))
expect_clean_failure "vm, zfs clone made the clone and was then killed" \
	"creating VM late" "$before"
zfs destroy tank/late 2>/dev/null

rm -f "$ZFS_DOUBLE_DIR/device_delay"
SETTLE=0

# --- qvm image, raw -----------------------------------------------------
reset_faults
run_faulted image "$WORK/cloud.raw" tank/good-raw
check "image raw: the good run succeeds" [ "$RC" -eq 0 ]
good_sequence > "$WORK/raw.seq"
sed 's/^/# image raw sequence: /' "$WORK/raw.seq" | cut -c1-110
fault_matrix "image raw" "importing image $WORK/cloud.raw" "$WORK/raw.seq" \
	image "$WORK/cloud.raw" tank/@N@

# --- qvm image, qcow2 ---------------------------------------------------
qemu-img convert -f raw -O qcow2 "$WORK/cloud.raw" "$WORK/cloud.qcow2"
reset_faults
run_faulted image "$WORK/cloud.qcow2" tank/good-qcow2
check "image qcow2: the good run succeeds" [ "$RC" -eq 0 ]
good_sequence > "$WORK/qcow2.seq"
check "image qcow2: qemu-img converts" grep -q '^qemu-img convert' "$WORK/qcow2.seq"
sed 's/^/# image qcow2 sequence: /' "$WORK/qcow2.seq" | cut -c1-110
fault_matrix "image qcow2" "importing image $WORK/cloud.qcow2" "$WORK/qcow2.seq" \
	image "$WORK/cloud.qcow2" tank/@N@

# --- qvm image: faults that are not a command failing --------------------
TASK="importing image $WORK/cloud.raw"

# The copy cannot write: a file size limit makes pwrite() fail (EFBIG).
reset_faults
inject zfs '*' pass
before=$(snap)
RUNS=$((RUNS + 1)); RUN_TMP=$WORK/tmp.$RUNS; mkdir -m 700 "$RUN_TMP"
( trap '' XFSZ; ulimit -S -f 1024; TMPDIR=$RUN_TMP \
	exec $QVM_WRAP "$QVM" image "$WORK/cloud.raw" tank/efbig \
	>"$WORK/out" 2>"$WORK/err" )
RC=$?; OUT=$(cat "$WORK/out"); ERR=$(cat "$WORK/err")
FAULTS=$((FAULTS + 1))
expect_clean_failure "image raw, the copy cannot write" "$TASK" "$before"
check "image raw, the copy cannot write: says where" \
	contains "$ERR" "writing the volume at byte"

# The device path is not a device (a directory stands there).
reset_faults
inject zfs '*' pass
echo 0.2 > "$ZFS_DOUBLE_DIR/device_delay"
mkdir -p "$QVM_ZVOL_DIR/tank/nodev"
before=$(snap)
run_faulted image "$WORK/cloud.raw" tank/nodev
FAULTS=$((FAULTS + 1))
SETTLE=0.3 expect_clean_failure "image raw, device is not a device" "$TASK" "$before"
check "image raw, device is not a device: says so" \
	contains "$ERR" "is neither a block device nor a file"
rmdir "$QVM_ZVOL_DIR/tank/nodev"

# The device never appears.
reset_faults
inject zfs '*' pass
echo 3 > "$ZFS_DOUBLE_DIR/device_delay"
before=$(snap)
QVM_DEVICE_TIMEOUT=0.3 run_faulted image "$WORK/cloud.raw" tank/late-dev
FAULTS=$((FAULTS + 1))
expect_clean_failure "image raw, device never appears" "$TASK" "$before"
rm -f "$ZFS_DOUBLE_DIR/device_delay"

# --- qvm image: the undo itself fails -----------------------------------
reset_faults
before=$(snap)
printf 'snapshot\t*\t1\tcannot create snapshot '"'"'tank/u4@base'"'"': out of space\n*destroy\t*\t1\tcannot destroy '"'"'tank/u4'"'"': permission denied\n' \
	> "$ZFS_DOUBLE_DIR/fail"
run_faulted image "$WORK/cloud.raw" tank/u4
FAULTS=$((FAULTS + 1))
rm -f "$ZFS_DOUBLE_DIR/fail"
check "image, zfs destroy fails in the undo: exit 1" [ "$RC" -eq 1 ]
check "image, zfs destroy fails in the undo: names what is left" \
	eval 'printf "%s\n" "$ERR" | grep -q "^Error $TASK: zvol tank/u4 was created but could not be destroyed: .*permission denied.*; destroy it by hand$"'
check "image, zfs destroy fails in the undo: only the volume is left" \
	[ "$(snap | grep -v '^tank/u4$' | grep -v '^\./tank/u4$')" = "$before" ]
zfs destroy tank/u4

reset_faults
before=$(snap)
# The snapshot fails; the destroy of the undo is killed.
printf 'snapshot\t*\t1\tcannot create snapshot: out of space\ndestroy\t*\tsignal:15\t\n' \
	> "$ZFS_DOUBLE_DIR/fail"
run_faulted image "$WORK/cloud.raw" tank/u5
FAULTS=$((FAULTS + 1))
check "image, zfs destroy killed in the undo: exit 1" [ "$RC" -eq 1 ]
check "image, zfs destroy killed in the undo: names what is left" \
	eval 'printf "%s\n" "$ERR" | grep -q "^Error $TASK: zvol tank/u5 was created but could not be destroyed: .*signal 15.*; destroy it by hand$"'
check "image, zfs destroy killed in the undo: only the volume is left" \
	[ "$(snap | grep -v '^tank/u5$' | grep -v '^\./tank/u5$')" = "$before" ]
zfs destroy tank/u5

# A new volume can be busy for a moment (udev probing it): retried.
reset_faults
before=$(snap)
printf 'snapshot\t*\t1\tcannot create snapshot: out of space\ndestroy\t*\t1\tcannot destroy '"'"'tank/u6'"'"': dataset is busy\n' \
	> "$ZFS_DOUBLE_DIR/fail"
run_faulted image "$WORK/cloud.raw" tank/u6
FAULTS=$((FAULTS + 1))
check "image, zfs destroy busy once in the undo: retried, nothing left" \
	eval '[ "$RC" -eq 1 ] && [ "$(snap)" = "$before" ] && contains "$OUT" "Undid: destroyed zvol tank/u6"'

# --- a zfs create that made the volume, then died -----------------------
reset_faults
before=$(snap)
inject zfs "$(grep '^zfs ' "$WORK/raw.seq" | grep -n '^zfs create' | cut -d: -f1)" after:9
run_faulted image "$WORK/cloud.raw" tank/late
FAULTS=$((FAULTS + 1))
expect_clean_failure "image raw, zfs create made the volume and was then killed" \
	"$TASK" "$before"
zfs destroy tank/late 2>/dev/null

# --- what was there before is still there, as it was ---------------------
check "the other VM, volume and seed directory are untouched" \
	eval 'zfs list -H tank/good tank/other >/dev/null &&
	      [ "$(cat "$QVM_SEED_DIR/someone-else/seed.iso")" = keep ] &&
	      [ -f "$QVM_SEED_DIR/good/seed.iso" ]'
check "the base image still holds its data" \
	cmp -s "$WORK/cloud.raw" "$QVM_ZVOL_DIR/tank/debian12"

echo "# faults injected: $FAULTS ($SECONDS s)"
finish
