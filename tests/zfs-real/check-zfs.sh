#!/usr/bin/env bash
# make check-zfs: qvm against real OpenZFS in a QEMU (TCG) guest.
#
#     ZFS_VERSION=2.1.11 bash tests/zfs-real/check-zfs.sh     # or 2.3
#
# Builds the guest once (build-guest.sh; cached), boots it with three
# scratch disks (pools tank, other, small), no NIC, and the repository
# shared read-only over 9p; the guest runs guest-job.sh and powers off.
# The results land in build/zfs-real/VERSION/: suite.log (the real-ZFS
# suite), transcripts/ (scenarios.sh recorded), qvm-calls.txt (every zfs
# call qvm made), console.log. The run fails, with the console's tail, when
# the guest did not finish or anything failed, and when a transcript
# differs from the one kept in tests/transcripts/VERSION (QVM_ZFS_SAVE=1
# stores the new ones there instead).
# QVM_ZFS_TIMEOUT: seconds the guest may run (default 2400).
# QVM_ZFS_ONLY=suite or =transcripts runs only that part.
set -euo pipefail
export LC_ALL=C
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
VERSION=${ZFS_VERSION:-2.1.11}
TIMEOUT=${QVM_ZFS_TIMEOUT:-2400}
RES=$ROOT/build/zfs-real/$VERSION
KEEP=$ROOT/tests/transcripts/$VERSION
T0=$SECONDS

say() { echo "check-zfs [$((SECONDS - T0))s]: $*"; }
die() {
	echo "check-zfs: FAILED: $*" >&2
	if [ -f "$RES/console.log" ]; then
		echo "---- the guest's console (last 40 lines) ----" >&2
		tail -n 40 "$RES/console.log" | tr -d '\r' >&2
	fi
	exit 1
}

[ "$(id -u)" -eq 0 ] || die "run as root (debootstrap, chroot)"
[ -x "$ROOT/qvm" ] || die "$ROOT/qvm is missing: make qvm"
sh "$ROOT/tests/deps.sh" debootstrap qemu-system-x86 >/dev/null ||
	die "could not install debootstrap and qemu-system-x86"

say "guest for ZFS $VERSION"
GUEST=$(bash "$ROOT/tests/zfs-real/build-guest.sh" "$VERSION") ||
	die "the guest did not build"
say "guest: $GUEST ($(tr '\n' ' ' <"$GUEST/manifest"))"

rm -rf "$RES"
mkdir -p "$RES"
ONLY=${QVM_ZFS_ONLY:-}
[ -n "$ONLY" ] && echo "$ONLY" >"$RES/only"
DISKS=$(mktemp -d "${TMPDIR:-/tmp}/qvm-zfs-disks.XXXXXX")
trap 'rm -rf "$DISKS"' EXIT
truncate -s 1G "$DISKS/tank.raw"
truncate -s 256M "$DISKS/other.raw"
truncate -s 96M "$DISKS/small.raw"

say "booting (TCG, 2 vCPUs, 2 GiB; log: $RES/console.log)"
rc=0
timeout "$TIMEOUT" qemu-system-x86_64 -accel tcg,thread=multi -smp 2 -m 2048 \
	-nic none -display none -no-reboot -monitor none \
	-serial "file:$RES/console.log" \
	-kernel "$GUEST/vmlinuz" -initrd "$GUEST/initrd.img" \
	-append "root=/dev/vda rw console=ttyS0 panic=-1 quiet systemd.show_status=0" \
	-drive "file=$GUEST/disk.raw,format=raw,if=virtio,snapshot=on" \
	-drive "file=$DISKS/tank.raw,format=raw,if=virtio" \
	-drive "file=$DISKS/other.raw,format=raw,if=virtio" \
	-drive "file=$DISKS/small.raw,format=raw,if=virtio" \
	-virtfs "local,path=$ROOT,mount_tag=qvmrepo,security_model=none,readonly=on" \
	-virtfs "local,path=$RES,mount_tag=qvmresults,security_model=none" ||
	rc=$?
[ "$rc" -eq 124 ] && die "the guest did not finish within $TIMEOUT s"
[ "$rc" -eq 0 ] || die "qemu-system-x86_64 exited $rc"
[ -f "$RES/status" ] || die "the guest wrote no status (its job did not run)"
say "guest finished"
[ -f "$RES/suite.log" ] && tail -n 1 "$RES/suite.log"
[ -f "$RES/suite.log" ] && grep -A3 '^not ok' "$RES/suite.log" >&2 || true
failed=
[ "$(cat "$RES/status")" = 0 ] ||
	failed="the guest's job failed (status $(cat "$RES/status")); see $RES/guest.log and $RES/suite.log"

# The transcripts: kept (QVM_ZFS_SAVE=1) or compared with the kept ones.
if [ "$ONLY" != suite ] && [ -d "$RES/transcripts" ]; then
	# qvm's own calls, with what varies from run to run normalised.
	touch "$RES/qvm-calls.txt"
	python3 "$ROOT/tests/zfs-real/transcript.py" normalise "$RES/qvm-calls.txt" \
		>"$RES/qvm-calls.normalised.txt"
	if [ "${QVM_ZFS_SAVE:-}" = 1 ]; then
		rm -rf "$KEEP"
		mkdir -p "$KEEP"
		cp "$RES"/transcripts/*.txt "$KEEP/"
		cp "$RES/qvm-calls.normalised.txt" "$KEEP/qvm-suite-calls.txt"
		cp "$RES/zfs-version" "$KEEP/zfs-version"
		say "transcripts stored in $KEEP"
	else
		: >"$RES/transcripts.diff"
		for f in "$KEEP"/*.txt; do
			[ "${f##*/}" = qvm-suite-calls.txt ] && continue
			python3 "$ROOT/tests/zfs-real/transcript.py" same "$f" \
				"$RES/transcripts/${f##*/}" >>"$RES/transcripts.diff" 2>&1
		done
		if [ -s "$RES/transcripts.diff" ]; then
			head -n 40 "$RES/transcripts.diff" >&2
			failed="${failed:+$failed; }real OpenZFS $VERSION now answers differently from tests/transcripts/$VERSION (above; QVM_ZFS_SAVE=1 stores the new transcripts)"
		fi
	fi
fi
[ -z "$failed" ] || die "$failed"
say "passed: ZFS $VERSION${ONLY:+ ($ONLY only)}, $((SECONDS - T0)) s"
