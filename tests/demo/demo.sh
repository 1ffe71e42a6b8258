#!/usr/bin/env bash
# The real-boot demo (make demo): build, once (cached), a Debian 12 guest
# image the way distributions build their generic cloud images (GPT, an EFI
# system partition with GRUB, an ext4 root that cloud-init grows on first
# boot; qcow2: tests/demo/build-guest.sh), "qvm image" it into a volume, and
# boot two VMs from it under QEMU (TCG, UEFI) through libvirt:
#   1. fixtures/demo.qvm.yaml: a 3G volume from the 2G image; cloud-init must
#      finish, and the marker its runcmd prints must show that the root
#      partition and file system grew beyond the image's;
#   2. fixtures/demo-fail.qvm.yaml: its runcmd exits 3; cloud-init must
#      finish and report that failure on the serial console.
# Then it cleans up everything it made, and only that.
#
# Run as root from the repository root, after "make qvm":
#     bash tests/demo/demo.sh
#
# Environment:
#   QVM              the qvm binary (default ./qvm)
#   QVM_DEMO_CACHE   where the guest image is cached (default /var/cache/qvm-demo)
#   QVM_DEMO_WORK    the run's work directory (default /var/lib/qvm-demo)
#   QVM_DEMO_POOL    a real ZFS pool: use the real zfs and /dev/zvol instead of
#                    the zfs test double (tests/zfs-double)
#   QVM_DEMO_TIMEOUT seconds from "qvm vm" to cloud-init's final message, per
#                    VM (default 900)
#   QVM_DEMO_MIRROR  Debian mirror for debootstrap (default: the one apt uses)
#   QVM_DEMO_REBUILD =1 rebuilds the cached guest image
#
# libvirt runs QEMU as the unprivileged user libvirt-qemu and chowns only the
# files it uses (disk, seed, serial log), not the directories on the way:
# every directory down to them must be traversable by that user (0711 here),
# while the seed ISO stays mode 0600.
set -euo pipefail
export LC_ALL=C

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
QVM=${QVM:-$ROOT/qvm}
FIXTURE=$ROOT/fixtures/demo.qvm.yaml
FIXTURE_FAIL=$ROOT/fixtures/demo-fail.qvm.yaml
CACHE=${QVM_DEMO_CACHE:-/var/cache/qvm-demo}
WORK=${QVM_DEMO_WORK:-/var/lib/qvm-demo}
TIMEOUT=${QVM_DEMO_TIMEOUT:-900}
CONNECT=qemu:///system
VM=qvm-demo             # the names in the two fixtures
VM_FAIL=qvm-demo-fail
QEMU_USER=libvirt-qemu
# libvirt's firmware description of Debian's OVMF without Secure Boot, which
# its autoselection picks for "boot: uefi" with secure-boot disabled.
OVMF_JSON=/usr/share/qemu/firmware/60-edk2-x86_64.json

# The guest image recipe is tests/demo/build-guest.sh: its cache key is the
# script's hash, so that an image of an older recipe is never reused.
GUEST_KEY=debian12-genericcloud-$(sha256sum <"$ROOT/tests/demo/build-guest.sh" | cut -c1-12)
GUEST_DIR=$CACHE/$GUEST_KEY

# ---------------------------------------------------------------------------
# messages and timing

T0=$EPOCHREALTIME
now() { echo "$EPOCHREALTIME"; }
# secs START [END]: seconds between two timestamps, one decimal.
secs() { awk -v a="$1" -v b="${2:-$EPOCHREALTIME}" 'BEGIN { printf "%.1f", b - a }'; }
stamp() { printf '[%6ss]' "$(secs "$T0")"; }
step() { echo; echo "$(stamp) ==> $*"; }
info() { echo "$(stamp)     $*"; }
warn() { echo "$(stamp) WARNING: $*" >&2; }
die() { echo "$(stamp) FAILED: $*" >&2; exit 1; }
# manifest KEY: a value from the cached guest image's manifest.
manifest() { sed -n "s/^$1: //p" "$GUEST_DIR/manifest"; }

# ---------------------------------------------------------------------------
# cleanup: teardown removes what this run made, and only that. It runs at the
# end, and from the EXIT trap on failure or interrupt.

BUILD_PID=          # the guest build (its own process group), while it runs
BASE_CREATED=       # the base volume, from "qvm image" on (made by this run)
VMS_CREATED=()      # each VM from its "qvm vm" on: its domain, clone and seed are ours
KVM_RESTORE=        # /dev/kvm's owner and mode before this run changed them
TEARDOWN_FAILED=

# zfs_destroy ARGS...: zfs destroy, retried while the volume is still busy.
zfs_destroy() {
	local i
	for i in 1 2 3 4 5; do
		zfs destroy "$@" && return 0
		sleep 1
	done
	return 1
}

domstate() { virsh -c "$CONNECT" domstate "$1" 2>/dev/null; }
domain_exists() { virsh -c "$CONNECT" dominfo "$1" >/dev/null 2>&1; }

# remove_domain NAME: stops and undefines it, with the UEFI variable store
# libvirt made for it (virsh refuses to undefine a domain with one otherwise).
remove_domain() {
	domain_exists "$1" || return 0
	if [ "$(domstate "$1")" != "shut off" ]; then
		virsh -c "$CONNECT" destroy "$1" >/dev/null || true
	fi
	virsh -c "$CONNECT" undefine --nvram "$1" >/dev/null
}

# teardown_vm NAME: the domain, clone and seed of a VM this run created.
teardown_vm() {
	local name=$1 clone=$POOL/$1
	if ! domain_exists "$name"; then
		:
	elif remove_domain "$name"; then
		info "domain $name destroyed and undefined (with its UEFI variables)"
	else
		warn "could not undefine the domain $name"
		TEARDOWN_FAILED=1
	fi
	if zfs list -H -o name "$clone" >/dev/null 2>&1; then
		if zfs_destroy "$clone"; then
			info "volume $clone destroyed"
		else
			warn "could not destroy $clone"
			TEARDOWN_FAILED=1
		fi
	fi
	if [ -e "${QVM_SEED_DIR:?}/$name" ]; then
		rm -rf "${QVM_SEED_DIR:?}/$name" && info "seed directory $QVM_SEED_DIR/$name removed"
	fi
}

teardown() {
	local name
	if [ -n "$BUILD_PID" ]; then
		# All of it, debootstrap too; the build then removes its temporary
		# directory itself.
		kill -TERM -- "-$BUILD_PID" 2>/dev/null || true
		wait "$BUILD_PID" 2>/dev/null || true
		BUILD_PID=
		info "guest image build stopped"
	fi
	for name in ${VMS_CREATED[@]+"${VMS_CREATED[@]}"}; do
		teardown_vm "$name"
	done
	if [ -n "$BASE_CREATED" ] && zfs list -H -o name "$BASE_CREATED" >/dev/null 2>&1; then
		if zfs_destroy -r "$BASE_CREATED"; then
			info "volume $BASE_CREATED and its @base snapshot destroyed"
		else
			warn "could not destroy $BASE_CREATED"
			TEARDOWN_FAILED=1
		fi
	fi
	if [ "${#VMS_CREATED[@]}" -gt 0 ] || [ -n "$BASE_CREATED" ]; then
		if [ -d "$WORK" ]; then
			# Keep the serial logs of the last run for a look afterwards.
			find "$WORK" -mindepth 1 -maxdepth 1 ! -name '*.serial.log' -exec rm -rf {} + || true
			info "work directory $WORK cleared (kept: the serial logs)"
		fi
	fi
	VMS_CREATED=()
	BASE_CREATED=
	if [ -n "$KVM_RESTORE" ]; then
		# shellcheck disable=SC2086 # "UID:GID MODE"
		set -- $KVM_RESTORE
		chown "$1" /dev/kvm && chmod "$2" /dev/kvm &&
			info "/dev/kvm back to $(stat -c '%U:%G %a' /dev/kvm)"
		KVM_RESTORE=
	fi
}

on_exit() {
	local rc=$?
	trap - EXIT INT TERM HUP
	set +e
	if [ "${#VMS_CREATED[@]}" -gt 0 ] || [ -n "$BUILD_PID$BASE_CREATED$KVM_RESTORE" ]; then
		case $rc in
		129 | 130 | 143) step "Cleaning up (interrupted)" ;;
		*) step "Cleaning up after the failure" ;;
		esac
	fi
	teardown
	[ -n "$TEARDOWN_FAILED" ] && [ "$rc" -eq 0 ] && rc=1
	exit "$rc"
}
trap on_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

# ---------------------------------------------------------------------------
# 0. preconditions

[ "$(id -u)" -eq 0 ] || die "run as root (debootstrap, libvirt's system instance)"
[ -x "$QVM" ] || die "$QVM not found: run 'make qvm' first (or use 'make demo')"
for tool in debootstrap virsh virt-install genisoimage qemu-system-x86_64 qemu-img libvirtd virtlogd setpriv; do
	command -v "$tool" >/dev/null ||
		die "$tool is missing: 'make demo' installs the Debian packages it needs"
done
[ -f "$OVMF_JSON" ] ||
	die "$OVMF_JSON is missing (Debian package ovmf): the guest boots with UEFI"

# ---------------------------------------------------------------------------
# 1. the guest image

step "1/6 Guest image ($GUEST_DIR)"
t=$(now)
if [ "${QVM_DEMO_REBUILD:-}" = 1 ] && [ -d "$GUEST_DIR" ]; then
	info "QVM_DEMO_REBUILD=1: removing the cached image"
	rm -rf "$GUEST_DIR"
fi
if [ -f "$GUEST_DIR/manifest" ] && [ -f "$GUEST_DIR/disk.qcow2" ]; then
	GUEST_TIME="cached (built $(manifest built) in $(manifest build_seconds) s)"
	info "reusing the cached guest image: kernel $(manifest kernel), $GUEST_TIME"
else
	mkdir -p "$CACHE"
	# In a process group of its own, which teardown stops as a whole if the
	# demo is interrupted or fails meanwhile.
	setsid bash "$ROOT/tests/demo/build-guest.sh" "$GUEST_DIR" "$GUEST_KEY" &
	BUILD_PID=$!
	wait "$BUILD_PID" || { BUILD_PID=; die "building the guest image failed (see above)"; }
	BUILD_PID=
	GUEST_TIME="$(secs "$t") s"
	info "guest image built in $GUEST_TIME (qcow2: $(manifest qcow2))"
fi
IMAGE=$GUEST_DIR/disk.qcow2
IMAGE_ROOT_BYTES=$(manifest root_part_bytes)
case $IMAGE_ROOT_BYTES in
'' | *[!0-9]*) die "$GUEST_DIR/manifest has no root_part_bytes: rebuild with QVM_DEMO_REBUILD=1" ;;
esac
info "the image: $(qemu-img info "$IMAGE" | sed -n 's/^virtual size: //p') virtual, GPT, ESP + ext4 root of $IMAGE_ROOT_BYTES bytes"

# ---------------------------------------------------------------------------
# 2. libvirt

# start_daemon CMD...: starts a daemon with no descriptor of ours but 0-2 on
# /dev/null, so that it holds no pipe open (make demo | tee would never end).
start_daemon() {
	(
		cd /
		for fd in "/proc/$BASHPID/fd/"*; do
			fd=${fd##*/}
			[ "$fd" -gt 2 ] && eval "exec $fd>&-"
		done
		exec "$@" </dev/null >/dev/null 2>&1
	)
}

libvirt_up() { virsh -c "$CONNECT" uri >/dev/null 2>&1 && [ -S /run/libvirt/virtlogd-sock ]; }

step "2/6 libvirt (virtlogd, libvirtd)"
if libvirt_up; then
	info "libvirtd and virtlogd are running"
else
	if [ -d /run/systemd/system ]; then
		info "starting virtlogd and libvirtd with systemctl"
		systemctl start virtlogd.socket libvirtd.socket virtlogd.service libvirtd.service
	else
		if [ ! -S /run/libvirt/virtlogd-sock ]; then
			info "starting virtlogd -d"
			start_daemon virtlogd -d
		fi
		if ! virsh -c "$CONNECT" uri >/dev/null 2>&1; then
			info "starting libvirtd -d"
			start_daemon libvirtd -d
		fi
	fi
	for i in $(seq 1 60); do
		libvirt_up && break
		[ "$i" -eq 60 ] && die "libvirtd/virtlogd did not answer within 30 s"
		sleep 0.5
	done
	info "libvirtd answers on $CONNECT"
fi

# libvirt checks on every call that the QEMU capabilities it probed still
# hold. Where /dev/kvm exists but its QEMU user cannot open it (root:root
# 0600: a host without udev), QEMU's probe still reports KVM, so every call
# re-probes QEMU (seconds each): virt-install then takes minutes and returns
# only after the guest has stopped. Give /dev/kvm the owner and mode Debian's
# udev rules give it (root:kvm 0660) for the run; it is restored at the end.
# The guest runs under TCG (virt-type: qemu) either way.
if [ -c /dev/kvm ] && id "$QEMU_USER" >/dev/null 2>&1 && getent group kvm >/dev/null &&
	[ "$(stat -c %G /dev/kvm)" != kvm ] &&
	! setpriv --reuid="$QEMU_USER" --regid="$(id -g "$QEMU_USER")" --init-groups \
		sh -c 'test -r /dev/kvm && test -w /dev/kvm' 2>/dev/null; then
	kvm_was=$(stat -c '%U:%G %a' /dev/kvm)
	KVM_RESTORE="$(stat -c '%u:%g %a' /dev/kvm)"
	chown root:kvm /dev/kvm
	chmod 0660 /dev/kvm
	info "/dev/kvm is $kvm_was, which $QEMU_USER cannot open (no udev?): root:kvm 0660 for this run, as udev sets it, or libvirt re-probes QEMU on every call"
fi

# ---------------------------------------------------------------------------
# 3. qvm image

step "3/6 qvm image"

# Which zfs: a real pool when QVM_DEMO_POOL names one, else the test double.
if [ -n "${QVM_DEMO_POOL:-}" ]; then
	command -v zfs >/dev/null ||
		die "QVM_DEMO_POOL=$QVM_DEMO_POOL but there is no zfs command on this host"
	zfs list -H -o name "$QVM_DEMO_POOL" >/dev/null ||
		die "QVM_DEMO_POOL=$QVM_DEMO_POOL: no such pool or dataset"
	POOL=$QVM_DEMO_POOL
	ZFS_MODE="real ZFS ($(command -v zfs), pool $POOL, zvols under ${QVM_ZVOL_DIR:-/dev/zvol})"
else
	POOL=tank
	ZFS_MODE="zfs test double (tests/zfs-double, pool tank, zvols as sparse files under $WORK/zvol)"
fi
BASE=$POOL/demo-base

# A domain left over by an interrupted run: remove it if it is ours (its disk
# is in our work directory or is our clone), refuse otherwise.
for name in "$VM" "$VM_FAIL"; do
	domain_exists "$name" || continue
	if virsh -c "$CONNECT" dumpxml "$name" | grep -q -e "$WORK/" -e "/$POOL/$name'"; then
		info "removing the domain $name left over by an earlier run"
		remove_domain "$name"
	else
		die "a libvirt domain named $name exists and is not the demo's: remove or rename it"
	fi
done

# The work directory, traversable by libvirt-qemu down to every file QEMU opens.
mkdir -p "$WORK"
find "$WORK" -mindepth 1 -maxdepth 1 -exec rm -rf {} +
chmod 0711 "$WORK"
install -d -m 0711 "$WORK/seed"
export QVM_SEED_DIR=$WORK/seed

if [ -z "${QVM_DEMO_POOL:-}" ]; then
	[ -x "$ROOT/tests/zfs-double" ] || die "tests/zfs-double is missing"
	install -d -m 0700 "$WORK/bin" "$WORK/zfs"
	install -d -m 0711 "$WORK/zvol" "$WORK/zvol/$POOL"
	ln -s "$ROOT/tests/zfs-double" "$WORK/bin/zfs"
	export PATH="$WORK/bin:$PATH"
	export ZFS_DOUBLE_DIR=$WORK/zfs
	export QVM_ZVOL_DIR=$WORK/zvol
	echo "$POOL" >"$ZFS_DOUBLE_DIR/pools"
fi
info "zfs: $ZFS_MODE"
# Whatever exists under these names now is not this run's: never touch it.
for ds in "$BASE" "$POOL/$VM" "$POOL/$VM_FAIL"; do
	if zfs list -H -o name "$ds" >/dev/null 2>&1; then
		die "$ds exists already; the demo destroys only what it creates: remove it first"
	fi
done

TOKEN=$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')
MARKER="QVM-DEMO-MARKER written by cloud-init, run $TOKEN"

# render FIXTURE NAME: the qvm file for this run, path on stdout; its serial
# console goes to $WORK/NAME.serial.log (made here, empty).
render() {
	local out=$WORK/$2.qvm.yaml serial=$WORK/$2.serial.log
	: >"$serial"
	sed -e "s|@SERIAL@|$serial|" -e "s|@TOKEN@|$TOKEN|" \
		-e "s|^\( *base: *\)tank/demo-base|\1$BASE|" "$1" >"$out"
	if grep -q '@[A-Z]*@' "$out"; then
		die "unfilled placeholder in $out"
	fi
	grep -q "^name: $2\$" "$out" || die "$1 does not name the VM $2"
	echo "$out"
}
QVMFILE=$(render "$FIXTURE" "$VM")
QVMFILE_FAIL=$(render "$FIXTURE_FAIL" "$VM_FAIL")

info "\$ qvm image $IMAGE $BASE"
t=$(now)
# From here on the names are ours (checked above): the EXIT trap removes
# whatever exists under them, even when a signal comes as qvm returns.
BASE_CREATED=$BASE
if ! "$QVM" image "$IMAGE" "$BASE"; then
	die "qvm image failed (it undid what it had made)"
fi
IMAGE_TIME=$(secs "$t")
IMAGE_SIZES="qcow2 $(du -h --apparent-size "$IMAGE" | cut -f1), $(qemu-img info "$IMAGE" | sed -n 's/^virtual size: \([^(]*[^ (]\) *(.*/\1/p') virtual"
info "qvm image took $IMAGE_TIME s; $BASE: volsize $(zfs get -H -o value volsize "$BASE")"

# ---------------------------------------------------------------------------
# waiting for a guest

# show_logs NAME: why a guest did not get where it should have.
show_logs() {
	local log=$WORK/$1.serial.log qemu_log=/var/log/libvirt/qemu/$1.log
	echo "---- last 40 lines of the serial log ($log) ----" >&2
	tail -n 40 "$log" | tr -d '\r' >&2 || true
	# What QEMU and libvirt said since this start, without its command line.
	echo "---- the QEMU log ($qemu_log) since the last start ----" >&2
	awk '/: starting up / { n = 0 } { l[++n] = $0 } END { for (i = 1; i <= n; i++) print l[i] }' \
		"$qemu_log" 2>/dev/null | grep -v -e ' \\$' -e '^-' | tail -n 40 >&2 || true
	echo "---- domain $1: $(domstate "$1" || echo gone) ----" >&2
}

# wait_ready NAME: what "qvm vm -w" (create_vm) said of cloud-init in the
# VM NAME. qvm waited, reading the serial log the qvm file gives the VM
# ($WORK/NAME.serial.log), until cloud-init's final message: exit 0 and its
# ready line, or exit 1 naming what failed. This is the one place the demo
# judges a guest. Sets READY_SECS ('qvm vm -w' start to its return),
# READY_LINE (qvm's ready line) and FAILURE (qvm's words for the failure).
# Returns 0: ready; 1: cloud-init finished with errors; 2: anything else
# (timeout, the guest stopped first, ...: qvm's message says which).
wait_ready() {
	READY_SECS=$VM_TIME
	READY_LINE=$(grep -a -m 1 -E "^VM $1 ready after [0-9]+ s: " "$WORK/$1.qvm.out" || true)
	FAILURE=$(grep -a -m 1 -o -E 'cloud-init finished with errors: .*' "$WORK/$1.qvm.err" || true)
	if [ "$VM_RC" -eq 0 ] && [ -n "$READY_LINE" ]; then
		return 0
	fi
	if [ "$VM_RC" -eq 1 ] && [ -n "$FAILURE" ]; then
		return 1
	fi
	return 2
}

# boot_secs NAME START END: seconds from QEMU's start of NAME (libvirt's log
# of the domain; START if that entry is older than START) to END.
boot_secs() {
	local qemu_start t_qemu
	# "2026-11-26 01:25:38.464+0000: starting up libvirt version: ..."
	qemu_start=$(sed -n 's/^\([0-9-]* [0-9:.]*+[0-9]*\): starting up .*/\1/p' \
		"/var/log/libvirt/qemu/$1.log" 2>/dev/null | tail -n 1)
	t_qemu=$(date -d "$qemu_start" +%s.%N 2>/dev/null || echo "$2")
	if awk -v q="$t_qemu" -v v="$2" 'BEGIN { exit !(q < v) }'; then
		t_qemu=$2
	fi
	secs "$t_qemu" "$3"
}

# create_vm NAME QVMFILE: "qvm vm -w": creates the VM, then waits until
# cloud-init has finished in it. Sets T_VM (its start), VM_RC (its exit
# status) and VM_TIME (start to return: creation and wait); what it printed
# is in $WORK/NAME.qvm.out and .err, and shown.
create_vm() {
	info "\$ qvm vm -w -t $TIMEOUT $2"
	T_VM=$(now)
	VMS_CREATED+=("$1")
	# Each line of qvm's stdout with the time it came: when "created" came
	# is the creation's time, the rest is the wait.
	set +e
	"$QVM" vm -w -t "$TIMEOUT" "$2" 2>"$WORK/$1.qvm.err" |
		while IFS= read -r line; do
			printf '%s %s\n' "$EPOCHREALTIME" "$line"
		done >"$WORK/$1.qvm.timed"
	VM_RC=${PIPESTATUS[0]}
	set -e
	VM_TIME=$(secs "$T_VM")
	cut -d' ' -f2- "$WORK/$1.qvm.timed" >"$WORK/$1.qvm.out"
	sed 's/^/    qvm: /' "$WORK/$1.qvm.out" "$WORK/$1.qvm.err"
	t_created=$(awk -v l="VM $1 created" 'substr($0, index($0, " ") + 1) == l { print $1; exit }' \
		"$WORK/$1.qvm.timed")
	[ -n "$t_created" ] ||
		die "qvm vm failed before the VM existed (it rolled back what it had made)"
	CREATE_TIME=$(secs "$T_VM" "$t_created")
	info "qvm vm -w took $VM_TIME s (exit status $VM_RC): the VM existed after $CREATE_TIME s"
	domain_exists "$1" || die "qvm vm succeeded but libvirt has no domain $1"
	info "domain $1: $(domstate "$1"); firmware: $(virsh -c "$CONNECT" dumpxml "$1" |
		sed -n 's|.*<loader[^>]*>\(.*\)</loader>.*|\1|p' | head -n 1)"
	info "its disk: $(virsh -c "$CONNECT" domblklist "$1" | awk '$1 == "vda" { print $2 }'), volsize $(zfs get -H -o value volsize "$POOL/$1")"
	info "its seed: $(stat -c '%A %U %n' "$QVM_SEED_DIR/$1/seed.iso") (directory $(stat -c %a "$QVM_SEED_DIR/$1"))"
}

# ---------------------------------------------------------------------------
# 4. the first VM: cloud-init finishes, the root has grown

step "4/6 qvm vm $VM (3G volume from the 2G image), UEFI boot under TCG; waiting up to $TIMEOUT s for cloud-init"
create_vm "$VM" "$QVMFILE"
VM_TIME1=$CREATE_TIME
rc=0
wait_ready "$VM" || rc=$?
t_ready=$(now)
case $rc in
0) ;;
1) show_logs "$VM"; die "cloud-init in $VM reported a failure: $FAILURE" ;;
*) show_logs "$VM"; die "cloud-init in $VM did not finish" ;;
esac
READY_SECS1=$READY_SECS
READY_LINE1=$READY_LINE
BOOT_SECS1=$(boot_secs "$VM" "$T_VM" "$t_ready")
info "cloud-init finished: qvm vm -w returned $READY_SECS1 s after it started, $BOOT_SECS1 s after QEMU started"
echo "    qvm says:   $READY_LINE"
echo "    guest says: $(grep -a -o -m 1 -E 'Cloud-init v\. [^ ]+ finished at .*' "$WORK/$VM.serial.log" | tr -d '\r')"
said=$(grep -a -m 1 -F "$MARKER" "$WORK/$VM.serial.log" | tr -d '\r' || true)
[ -n "$said" ] || { show_logs "$VM"; die "cloud-init finished but the marker of its runcmd is not on the console"; }
echo "    guest says: $said"
part=$(sed -n 's/.* root_part_bytes=\([0-9][0-9]*\).*/\1/p' <<<"$said")
fs=$(sed -n 's/.* root_fs_bytes=\([0-9][0-9]*\).*/\1/p' <<<"$said")
if [ -z "$part" ] || [ -z "$fs" ]; then
	die "the marker does not give the root's sizes"
fi
# The file system can only be larger than the image's whole root partition
# if growpart grew the partition and resizefs the file system.
[ "$part" -gt "$IMAGE_ROOT_BYTES" ] ||
	die "the root partition did not grow: $part bytes, as in the image ($IMAGE_ROOT_BYTES)"
[ "$fs" -gt "$IMAGE_ROOT_BYTES" ] ||
	die "the root file system did not grow: $fs bytes, the image's root partition has $IMAGE_ROOT_BYTES"
GROWTH="root partition $IMAGE_ROOT_BYTES -> $part bytes, file system $fs bytes"
info "the root grew on first boot: $GROWTH"

# power_state: poweroff in the user-data. Shown, not required.
for i in $(seq 1 60); do
	[ "$(domstate "$VM")" = "shut off" ] && break
	sleep 1
done
if [ "$(domstate "$VM")" = "shut off" ]; then
	POWEROFF="the guest powered itself off ($(secs "$t_ready") s after cloud-init's final message was seen)"
else
	POWEROFF="the guest was still running 60 s after cloud-init finished (destroyed)"
fi
info "$POWEROFF"

# ---------------------------------------------------------------------------
# 5. the second VM: its runcmd fails, and that must be seen

step "5/6 qvm vm $VM_FAIL (its runcmd exits 3); waiting up to $TIMEOUT s for cloud-init to report the failure"
create_vm "$VM_FAIL" "$QVMFILE_FAIL"
VM_TIME2=$CREATE_TIME
rc=0
wait_ready "$VM_FAIL" || rc=$?
case $rc in
0) show_logs "$VM_FAIL"; die "cloud-init in $VM_FAIL finished without reporting its failing runcmd" ;;
1) ;;
*) show_logs "$VM_FAIL"; die "cloud-init in $VM_FAIL did not finish" ;;
esac
READY_SECS2=$READY_SECS
info "qvm vm -w exited $VM_RC after $READY_SECS2 s, naming the failure:"
echo "    qvm says:   $FAILURE"
grep -a -F 'run '"$TOKEN"': this runcmd exits 3' "$WORK/$VM_FAIL.serial.log" >/dev/null ||
	die "the failing runcmd's own line is not on the console: another failure?"

# ---------------------------------------------------------------------------
# 6. clean up (the EXIT trap does the same on failure or interrupt), summary

step "6/6 Cleaning up"
teardown
[ -z "$TEARDOWN_FAILED" ] || die "cleanup left something behind (see above)"
echo
cat <<SUMMARY
========================= qvm demo: PASSED =========================
  guest image build : $GUEST_TIME
  qvm image         : $IMAGE_TIME s  ($BASE from $IMAGE_SIZES)
  $VM:
    qvm vm          : $VM_TIME1 s  (seed ISO, clone with volsize 3G, virt-install)
    qvm vm -w ready : $READY_SECS1 s after 'qvm vm -w' started ($BOOT_SECS1 s after QEMU started; UEFI, TCG, 1 vCPU)
                      $READY_LINE1
    growth          : $GROWTH
    power off       : $POWEROFF
  $VM_FAIL:
    qvm vm          : $VM_TIME2 s
    qvm vm -w exit 1: $READY_SECS2 s after it started: $FAILURE
  zfs used          : $ZFS_MODE
  total             : $(secs "$T0") s
====================================================================
SUMMARY
