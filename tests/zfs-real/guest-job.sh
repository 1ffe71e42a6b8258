#!/usr/bin/env bash
# The real-ZFS guest's job (run by qvm-zfs-job at boot, from the host's
# read-only share /qvm; results to the writable share /results):
#   1. load OpenZFS, make pools on the scratch disks: tank (vdb, 1 GiB),
#      other (vdc, 256 MiB), small (vdd, 96 MiB);
#   2. record the transcripts of scenarios.sh into /results/transcripts;
#   3. run the real-ZFS suite (test_real.sh) with a recording zfs in PATH:
#      /results/suite.log, and qvm's own zfs calls in /results/qvm-calls.txt.
# /results/only (written by check-zfs.sh from QVM_ZFS_ONLY) may say "suite"
# or "transcripts" to run only that step. Exit status 0 when every step
# passed.
set -u
export LC_ALL=C PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
Q=/qvm
R=/results
say() { echo "guest-job: $*"; echo "guest-job: $*" >/dev/console; }

say "kernel $(uname -r), zfsutils-linux $(cat /etc/qvm-zfs-version)"
modprobe zfs || { say "FAILED: modprobe zfs"; exit 1; }
zfs version
udevadm settle
zpool create -f tank /dev/vdb &&
	zpool create -f other /dev/vdc &&
	zpool create -f small /dev/vdd || { say "FAILED: zpool create"; exit 1; }
zpool list
zfs version >"$R/zfs-version"

rc=0
only=$(cat "$R/only" 2>/dev/null)
if [ "$only" != suite ]; then
	say "recording transcripts"
	zpool export small
	bash "$Q/tests/zfs-real/record-transcripts.sh" "$R/transcripts" ||
		{ say "FAILED: recording the transcripts"; rc=1; }
	zpool import small
fi
[ "$only" = transcripts ] && { say "done, status $rc"; exit "$rc"; }

say "running the real-ZFS suite"
mkdir -p /tmp/zbin
ln -sf "$Q/tests/zfs-real/zfs-record" /tmp/zbin/zfs
ZFS_REAL=$(command -v zfs) PATH=/tmp/zbin:$PATH ZFS_RECORD_LOG=$R/qvm-calls.txt \
	QVM=$Q/qvm timeout 1800 bash "$Q/tests/zfs-real/test_real.sh" >"$R/suite.log" 2>&1 || rc=1
tail -n 1 "$R/suite.log" >/dev/console
grep '^not ok' "$R/suite.log" >/dev/console
say "done, status $rc"
exit "$rc"
