#!/bin/bash
# The SSH part of "make bench" (issue 13); runnable alone, as root, from
# the repo root after "make qvm" (bash tests/bench/ssh.sh). Against a
# private sshd on 127.0.0.1 (tests/integration/sshd.sh), with bench.sh's
# instant stubs for zfs, genisoimage, virt-install and virsh on both sides:
#   1. qvm vm: "qvm -H 127.0.0.1:PORT vm" against local "qvm vm",
#      QVM_BENCH_SSH_VM_RUNS times each, interleaved (median wall);
#   2. qvm image of the 4 GiB benchmark image (bench.sh's, cached under
#      QVM_BENCH_CACHE), warm page cache: over SSH against local,
#      QVM_BENCH_SSH_REPS times each (median wall), and the bytes sent
#      over SSH against the image's non-zero data;
#   3. the parts of a run over SSH (QVM_BENCH_SSH_PART_RUNS times each):
#      the handshake, the executor's start, one command as qvm ran each
#      before its executor; and ssh alone carrying the image's data.
# Targets: each at most 1.5 x local wall. Prints a Markdown section.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
QVM=${QVM:-$ROOT/qvm}
CACHE=${QVM_BENCH_CACHE:-/var/cache/qvm-bench}
VM_RUNS=${QVM_BENCH_SSH_VM_RUNS:-30}
REPS=${QVM_BENCH_SSH_REPS:-3}
IMG=$CACHE/cloud-4294967296-s20240607-d15-z5-v1.raw

die() { echo "bench ssh: $*" >&2; exit 1; }
[ -x "$QVM" ] || die "$QVM not found: run 'make qvm' first"
[ -f "$IMG" ] && [ -s "$IMG.count" ] ||
	die "$IMG not found: run 'make bench' once (it makes it)"

WORK=$(mktemp -d "$CACHE/ssh.XXXXXX")
SSHD_PID=
cleanup() {
	[ -n "$SSHD_PID" ] && kill "$SSHD_PID" 2>/dev/null
	rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
mkdir -p "$WORK/stubs" "$WORK/zvol" "$WORK/seed" "$WORK/tmp" "$WORK/out"

FLAGS="-O2 -std=c11 -D_GNU_SOURCE -Wall -Wextra"
cc $FLAGS -static -o "$WORK/stub" tests/bench/stub.c 2>/dev/null ||
	cc $FLAGS -o "$WORK/stub" tests/bench/stub.c || die "cannot build the stub"
for name in zfs genisoimage virt-install virsh; do
	ln "$WORK/stub" "$WORK/stubs/$name"
done
export PATH="$WORK/stubs:$PATH"
export QVM_ZVOL_DIR="$WORK/zvol"
export QVM_SEED_DIR="$WORK/seed"
export QVM_DEVICE_TIMEOUT=5
export TMPDIR="$WORK/tmp"

. "$ROOT/tests/integration/sshd.sh"
# The remote sessions get an empty HOME: bash run by sshd reads
# ~/.bashrc for every command, and a heavy one (a version manager's
# set-up: 0.15 s here) would be timed as if it were qvm's. A hypervisor's
# root has a light one, if any. QVM_BENCH_SSH_HOME=1 keeps the real one.
mkdir -p "$WORK/home"
RHOME=$WORK/home
[ "${QVM_BENCH_SSH_HOME:-}" = 1 ] && RHOME=$HOME
sshd_start "$WORK/ssh" "$WORK/local" HOME="$RHOME" \
	PATH="$WORK/stubs:/usr/sbin:/usr/bin:/sbin:/bin" \
	QVM_ZVOL_DIR="$QVM_ZVOL_DIR" || die "sshd and ssh are needed (make deps)"
H=127.0.0.1:$PORT
# Locally: the test's ssh first; the stubs stay (the local runs use them).
RPATH=$WORK/local:$PATH

now() { date +%s.%N; }
median() {
	sort -g "$1" | awk '{ a[NR] = $1 } END {
		if (NR % 2) print a[(NR + 1) / 2];
		else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
verdict() { awk -v m="$1" -v t="$2" 'BEGIN { print (m <= t ? "met" : "NOT met") }'; }

# ---- 1. qvm vm ----------------------------------------------------------
VMFILE=$ROOT/tests/bench/bench.qvm.yaml
vm_once() {	# OUTFILE [-H HOST]
	local out=$1 t0 t1
	shift
	rm -rf "$QVM_SEED_DIR/benchvm" "$QVM_ZVOL_DIR/bench/benchvm"
	t0=$(now)
	PATH=$RPATH "$QVM" "$@" vm "$VMFILE" > "$WORK/out/vm.log" 2>&1 ||
		{ cat "$WORK/out/vm.log" >&2; die "qvm $* vm failed"; }
	t1=$(now)
	awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }' >> "$out"
}
echo "bench ssh: qvm vm, local and over SSH, $VM_RUNS times each" >&2
for _ in 1 2 3; do vm_once /dev/null; vm_once /dev/null -H "$H"; done
for _ in $(seq "$VM_RUNS"); do
	vm_once "$WORK/out/vm.local"
	vm_once "$WORK/out/vm.ssh" -H "$H"
done
VM_LOCAL=$(median "$WORK/out/vm.local")
VM_SSH=$(median "$WORK/out/vm.ssh")
VM_RATIO=$(ratio "$VM_SSH" "$VM_LOCAL")

# ---- 2. qvm image -------------------------------------------------------
read -r _ NZ16K _ < "$IMG.count"
cat "$IMG" > /dev/null	# warm
N=0
image_once() {	# OUTFILE [-H HOST]
	local out=$1 t0 t1 sent
	shift
	N=$((N + 1))
	t0=$(now)
	PATH=$RPATH "$QVM" "$@" image "$IMG" "bench/img$N" > "$WORK/out/img.log" 2>&1 ||
		{ cat "$WORK/out/img.log" >&2; die "qvm $* image failed"; }
	t1=$(now)
	sent=$(sed -n 's/^Sent \([0-9]*\) bytes over SSH.*/\1/p' "$WORK/out/img.log")
	if [ "$N" -le 2 ]; then
		cmp "$IMG" "$QVM_ZVOL_DIR/bench/img$N" ||
			die "qvm $* image: the target differs from the image"
	fi
	rm -f "$QVM_ZVOL_DIR/bench/img$N"
	echo "$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }') ${sent:-0}" >> "$out"
}
echo "bench ssh: qvm image of $IMG, local and over SSH, $REPS times each" >&2
for _ in $(seq "$REPS"); do
	image_once "$WORK/out/img.local"
	image_once "$WORK/out/img.ssh" -H "$H"
done
IMG_LOCAL=$(median "$WORK/out/img.local")
IMG_SSH=$(median "$WORK/out/img.ssh")
IMG_RATIO=$(ratio "$IMG_SSH" "$IMG_LOCAL")
SENT=$(awk '{ print $2 }' "$WORK/out/img.ssh" | sort -g | tail -n 1)
SENT_RATIO=$(awk -v s="$SENT" -v d="$NZ16K" 'BEGIN { printf "%.4f", s / d }')

# ---- 3. where "qvm -H vm" spends its time --------------------------------
# The parts of a run over SSH, each alone (medians of PART_RUNS): the
# master's handshake (until its control socket is there), the same with
# the classic key exchange instead of OpenSSH's default post-quantum
# hybrid (for comparison only: qvm keeps the user's choice), the first
# session on a new master with a python3 that answers (qvm's executor's
# start), and one command the way qvm ran each before its executor (ssh
# client through the master, a channel, the remote login shell).
PART_RUNS=${QVM_BENCH_SSH_PART_RUNS:-10}
SSH="$WORK/local/ssh -o BatchMode=yes -p $PORT"
CTL=$WORK/ctl
ms() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f\n", (b - a) * 1000 }'; }
master_up() {	# [SSH OPTIONS...]: starts a master, waits for its socket
	rm -f "$CTL"
	$SSH "$@" -M -N -o ControlPath="$CTL" -o ControlPersist=no 127.0.0.1 &
	MPID=$!
	while [ ! -S "$CTL" ]; do sleep 0.001; done
}
master_down() { kill "$MPID"; wait "$MPID" 2>/dev/null || true; }
echo "bench ssh: the parts of a run, $PART_RUNS times each" >&2
: > "$WORK/out/hs"; : > "$WORK/out/hs-classic"; : > "$WORK/out/first"
: > "$WORK/out/cmd"
for _ in $(seq "$PART_RUNS"); do
	t0=$(now); master_up; t1=$(now)
	$SSH -o ControlPath="$CTL" 127.0.0.1 -- \
		"python3 -I -S -c 'import os; os.write(1, b\"P\")'" > /dev/null
	t2=$(now)
	for _ in 1 2 3; do
		a=$(now)
		$SSH -o ControlPath="$CTL" 127.0.0.1 -- env LC_ALL=C true
		b=$(now)
		ms "$a" "$b" >> "$WORK/out/cmd"
	done
	master_down
	ms "$t0" "$t1" >> "$WORK/out/hs"
	ms "$t1" "$t2" >> "$WORK/out/first"
	t0=$(now); master_up -o KexAlgorithms=curve25519-sha256; t1=$(now)
	master_down
	ms "$t0" "$t1" >> "$WORK/out/hs-classic"
done
# What bounds the import: ssh alone carrying as many bytes as the image's
# data (zeros, into cat > /dev/null there), with qvm's cipher choice.
master_up -o Ciphers=^aes128-gcm@openssh.com,aes256-gcm@openssh.com
: > "$WORK/out/carry"
for _ in 1 2 3; do
	a=$(now)
	head -c "$NZ16K" /dev/zero |
		$SSH -o ControlPath="$CTL" 127.0.0.1 -- 'cat > /dev/null'
	b=$(now)
	ms "$a" "$b" >> "$WORK/out/carry"
done
master_down
CARRY=$(awk -v m="$(median "$WORK/out/carry")" 'BEGIN { printf "%.2f", m / 1000 }')
HS=$(median "$WORK/out/hs")
HS_CLASSIC=$(median "$WORK/out/hs-classic")
FIRST=$(median "$WORK/out/first")
CMD=$(median "$WORK/out/cmd")

cat <<EOF

## qvm -H over SSH (loopback, instant stubs)

$(nproc) cores, $(ssh -V 2>&1), sshd on 127.0.0.1 (both ends of
the encryption on this machine), the remote HOME $([ "$RHOME" = "$HOME" ] &&
echo "the real one" || echo "empty (no ~/.bashrc)"); medians.

| what | local | over SSH | ratio |
|---|---:|---:|---:|
| \`qvm vm\` ($VM_RUNS runs each) | $(awk -v s="$VM_LOCAL" 'BEGIN { printf "%.1f ms", s * 1000 }') | $(awk -v s="$VM_SSH" 'BEGIN { printf "%.1f ms", s * 1000 }') | $VM_RATIO x |
| \`qvm image\` 4 GiB image, warm ($REPS runs each) | $(awk -v s="$IMG_LOCAL" 'BEGIN { printf "%.2f s", s }') | $(awk -v s="$IMG_SSH" 'BEGIN { printf "%.2f s", s }') | $IMG_RATIO x |

Bytes sent over SSH for the image: $SENT (its non-zero 16 KiB blocks:
$NZ16K bytes; $SENT_RATIO x, the rest is framing, 16 bytes a run).

Where a run over SSH goes ($PART_RUNS times each, medians; the bench's
ssh is a wrapper script, about 1 ms of each ssh start):

| part | ms |
|---|---:|
| the master's handshake, until its control socket | $HS |
| the same, classic key exchange (curve25519-sha256) | $HS_CLASSIC |
| the executor's start: a first session, python3 answers | $FIRST |
| one command as before the executor (ssh client, channel, shell) | $CMD |

The import's data alone through ssh (the same bytes, into cat > /dev/null
there, 3 times, median): $CARRY s, against $(awk -v s="$IMG_LOCAL" 'BEGIN { printf "%.2f", s }') s for the whole local import.

| target | measured | result |
|---|---:|---|
| issue 13: \`qvm -H\` vm <= 1.5 x local wall | $VM_RATIO x | $(verdict "$VM_RATIO" 1.5) |
| issue 13: remote import <= 1.5 x local wall | $IMG_RATIO x | $(verdict "$IMG_RATIO" 1.5) |
| issue 13: bytes sent <= 1.1 x non-zero data + framing | $SENT_RATIO x | $(verdict "$SENT_RATIO" 1.1) |
EOF
