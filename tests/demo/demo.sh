#!/usr/bin/env bash
# The real-boot demo (make demo): build a small Debian 12 guest once (cached),
# "qvm image" it into a volume, "qvm vm" a VM from fixtures/demo.qvm.yaml,
# boot it under QEMU (TCG) through libvirt, wait for the marker its cloud-init
# user-data prints on the serial console, and clean everything up again.
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
#   QVM_DEMO_TIMEOUT seconds from "qvm vm" to the marker (default 300)
#   QVM_DEMO_MIRROR  Debian mirror for debootstrap (default: the one apt uses)
#   QVM_DEMO_REBUILD =1 rebuilds the cached guest image
#
# libvirt runs QEMU as the unprivileged user libvirt-qemu and chowns only the
# files it uses (disk, kernel, initrd, seed, serial log), not the directories
# on the way: every directory down to them must be traversable by that user
# (0711 here), while the seed ISO stays mode 0600.
set -euo pipefail
export LC_ALL=C

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
QVM=${QVM:-$ROOT/qvm}
FIXTURE=$ROOT/fixtures/demo.qvm.yaml
CACHE=${QVM_DEMO_CACHE:-/var/cache/qvm-demo}
WORK=${QVM_DEMO_WORK:-/var/lib/qvm-demo}
TIMEOUT=${QVM_DEMO_TIMEOUT:-300}
CONNECT=qemu:///system
VM=qvm-demo
QEMU_USER=libvirt-qemu
QEMU_LOG=/var/log/libvirt/qemu/$VM.log

# The guest image recipe. Change GUEST_KEY whenever the recipe changes, so
# that a cached image of an older recipe is not reused.
GUEST_KEY=debian12-minbase-v3
GUEST_SUITE=bookworm
GUEST_SIZE=2G
GUEST_PACKAGES=linux-image-amd64,initramfs-tools,cloud-init,systemd-sysv,udev,python3-cffi-backend,e2fsprogs,util-linux,mount,kmod
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

# ---------------------------------------------------------------------------
# cleanup: teardown removes what this run made, and only that. It runs at the
# end, and from the EXIT trap on failure or interrupt.

BUILD_TMP=          # the guest build's temporary directory, while building
BASE_CREATED=       # the base volume, from "qvm image" on (made by this run)
VM_CREATED=         # set from "qvm vm" on: the domain, clone and seed are ours
CLONE=              # the VM's volume
WATCH_PID=          # the serial log watcher
KVM_RESTORE=        # /dev/kvm's owner and mode before this run changed them
TEARDOWN_FAILED=

# umount_under DIR: unmounts whatever a failed debootstrap left mounted in DIR.
umount_under() {
	local m
	awk -v d="$1" '$2 == d || index($2, d "/") == 1 { print $2 }' /proc/mounts |
		sort -r | while read -r m; do umount -l "$m" || true; done
}

# zfs_destroy ARGS...: zfs destroy, retried while the volume is still busy.
zfs_destroy() {
	local i
	for i in 1 2 3 4 5; do
		zfs destroy "$@" && return 0
		sleep 1
	done
	return 1
}

domstate() { virsh -c "$CONNECT" domstate "$VM" 2>/dev/null; }
domain_exists() { virsh -c "$CONNECT" dominfo "$VM" >/dev/null 2>&1; }

remove_domain() {
	domain_exists || return 0
	if [ "$(domstate)" != "shut off" ]; then
		virsh -c "$CONNECT" destroy "$VM" >/dev/null || true
	fi
	virsh -c "$CONNECT" undefine "$VM" >/dev/null
}

teardown() {
	if [ -n "$WATCH_PID" ]; then
		kill "$WATCH_PID" 2>/dev/null || true
		wait "$WATCH_PID" 2>/dev/null || true
		WATCH_PID=
	fi
	if [ -n "$BUILD_TMP" ]; then
		umount_under "$BUILD_TMP"
		rm -rf --one-file-system "$BUILD_TMP" || true
		BUILD_TMP=
	fi
	if [ -n "$VM_CREATED" ]; then
		if ! domain_exists; then
			:
		elif remove_domain; then
			info "domain $VM destroyed and undefined"
		else
			warn "could not undefine the domain $VM"
			TEARDOWN_FAILED=1
		fi
		if zfs list -H -o name "$CLONE" >/dev/null 2>&1; then
			if zfs_destroy "$CLONE"; then
				info "volume $CLONE destroyed"
			else
				warn "could not destroy $CLONE"
				TEARDOWN_FAILED=1
			fi
		fi
		if [ -e "${QVM_SEED_DIR:?}/$VM" ]; then
			rm -rf "${QVM_SEED_DIR:?}/$VM" && info "seed directory $QVM_SEED_DIR/$VM removed"
		fi
	fi
	if [ -n "$BASE_CREATED" ] && zfs list -H -o name "$BASE_CREATED" >/dev/null 2>&1; then
		if zfs_destroy -r "$BASE_CREATED"; then
			info "volume $BASE_CREATED and its @base snapshot destroyed"
		else
			warn "could not destroy $BASE_CREATED"
			TEARDOWN_FAILED=1
		fi
	fi
	if [ -n "$VM_CREATED$BASE_CREATED" ] && [ -d "$WORK" ]; then
		# Keep the serial log of the last run for a look afterwards.
		find "$WORK" -mindepth 1 -maxdepth 1 ! -name serial.log -exec rm -rf {} + || true
		info "work directory $WORK cleared (kept: serial.log)"
	fi
	VM_CREATED=
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
	if [ -n "$VM_CREATED$BASE_CREATED$KVM_RESTORE" ]; then
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
for tool in debootstrap mkfs.ext4 virsh virt-install genisoimage qemu-system-x86_64 libvirtd virtlogd setpriv; do
	command -v "$tool" >/dev/null ||
		die "$tool is missing: 'make demo' installs the Debian packages it needs"
done

# ---------------------------------------------------------------------------
# 1. the guest image

# debian_mirror: the Debian archive apt on this host uses for bookworm main.
debian_mirror() {
	local url
	if [ -n "${QVM_DEMO_MIRROR:-}" ]; then
		echo "$QVM_DEMO_MIRROR"
		return
	fi
	# From apt's own view: " 500 URL bookworm/main amd64 Packages" followed by
	# "release ...o=Debian,...,n=bookworm,l=Debian,c=main...".
	url=$(apt-cache policy 2>/dev/null | awk -v s="$GUEST_SUITE" '
		$1 ~ /^[0-9]+$/ && $3 == s "/main" { url = $2; next }
		url != "" && /release/ && /o=Debian,/ && index($0, "n=" s ",") && /l=Debian,/ { print url; exit }
		{ url = "" }')
	if [ -z "$url" ]; then
		# apt has no lists yet: read the sources files (one-line and deb822).
		url=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list \
			/etc/apt/sources.list.d/*.sources 2>/dev/null | awk -v s="$GUEST_SUITE" '
			function has(list, w,   n, a, i) { n = split(list, a, /[ \t]+/); for (i = 1; i <= n; i++) if (a[i] == w) return 1; return 0 }
			function stanza() { if (uris != "" && has(suites, s) && has(comps, "main") && has(types, "deb") && en !~ /^[ \t]*no/) { split(uris, u, /[ \t]+/); print u[1]; exit } uris = suites = comps = types = en = "" }
			/^[ \t]*#/ { next }
			/^deb[ \t]/ { line = $0; sub(/\[[^]]*\]/, "", line); n = split(line, f, /[ \t]+/); if (f[3] == s) for (i = 4; i <= n; i++) if (f[i] == "main") { print f[2]; exit } next }
			/^[ \t]*$/ { stanza(); next }
			/^Types:/ { types = $0; sub(/^Types:/, "", types) }
			/^URIs:/ { uris = $0; sub(/^URIs:[ \t]*/, "", uris) }
			/^Suites:/ { suites = $0; sub(/^Suites:/, "", suites) }
			/^Components:/ { comps = $0; sub(/^Components:/, "", comps) }
			/^Enabled:/ { en = $0; sub(/^Enabled:/, "", en) }
			END { stanza() }')
	fi
	[ -n "$url" ] || return 1
	echo "$url"
}

# check_initrd ROOTFS KVER: the initrd can mount an ext4 root on virtio-blk.
check_initrd() {
	local rootfs=$1 kver=$2 listing m
	listing=$(chroot "$rootfs" lsinitramfs "/boot/initrd.img-$kver")
	for m in virtio_pci virtio_blk ext4; do
		if grep -q "/$m\.ko" <<<"$listing"; then
			info "initrd has $m"
		elif grep -q "/$m\.ko" "$rootfs/lib/modules/$kver/modules.builtin"; then
			info "kernel has $m built in"
		else
			die "the guest's initrd lacks $m: it could not mount /dev/vda"
		fi
	done
}

build_guest() {
	local mirror rootfs out kver tool
	mirror=$(debian_mirror) ||
		die "no Debian $GUEST_SUITE main archive in apt's sources; set QVM_DEMO_MIRROR"
	info "mirror: $mirror (from apt's configuration)"
	mkdir -p "$CACHE"
	BUILD_TMP=$(mktemp -d "$CACHE/.build.XXXXXX")
	rootfs=$BUILD_TMP/rootfs
	out=$BUILD_TMP/out
	mkdir "$rootfs" "$out"

	info "debootstrap --variant=minbase $GUEST_SUITE (a few minutes; log: $BUILD_TMP/debootstrap.log)"
	debootstrap --variant=minbase --components=main \
		--include="$GUEST_PACKAGES" "$GUEST_SUITE" "$rootfs" "$mirror" \
		>"$BUILD_TMP/debootstrap.log" 2>&1 || {
		tail -n 40 "$BUILD_TMP/debootstrap.log" >&2
		[ -f "$rootfs/debootstrap/debootstrap.log" ] &&
			tail -n 40 "$rootfs/debootstrap/debootstrap.log" >&2
		die "debootstrap failed (log above)"
	}
	umount_under "$rootfs"

	info "configuring the guest"
	echo "/dev/vda / ext4 defaults 0 1" >"$rootfs/etc/fstab"
	echo "qvm-demo-guest" >"$rootfs/etc/hostname"
	printf '127.0.0.1\tlocalhost\n::1\t\tlocalhost ip6-localhost ip6-loopback\n' \
		>"$rootfs/etc/hosts"
	mkdir -p "$rootfs/etc/cloud/cloud.cfg.d"
	cat >"$rootfs/etc/cloud/cloud.cfg.d/90-qvm-demo.cfg" <<-'EOF'
	# qvm demo guest. The seed is a NoCloud CD (volume id cidata). With a
	# single data source (and None) ds-identify enables cloud-init without
	# probing the others, which is slow under TCG.
	datasource_list: [NoCloud, None]
	# No locales package in this image: C.UTF-8 needs no generation.
	locale: C.UTF-8
	EOF
	# Each clone makes its own machine-id on first boot.
	: >"$rootfs/etc/machine-id"
	rm -f "$rootfs/var/lib/dbus/machine-id"
	chroot "$rootfs" apt-get clean
	rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin

	kver=$(find "$rootfs/boot" -maxdepth 1 -name 'vmlinuz-*' -printf '%f\n' |
		sed 's/^vmlinuz-//' | sort -V | tail -n 1)
	if [ -z "$kver" ] || [ ! -f "$rootfs/boot/initrd.img-$kver" ]; then
		die "the guest has no kernel and initrd in /boot"
	fi
	check_initrd "$rootfs" "$kver"
	for tool in blkid mount; do
		[ -x "$rootfs/usr/sbin/$tool" ] || [ -x "$rootfs/sbin/$tool" ] ||
			[ -x "$rootfs/usr/bin/$tool" ] || [ -x "$rootfs/bin/$tool" ] ||
			die "the guest lacks $tool (cloud-init needs it to find the seed)"
	done
	cp "$rootfs/boot/vmlinuz-$kver" "$out/vmlinuz"
	cp "$rootfs/boot/initrd.img-$kver" "$out/initrd.img"

	info "mkfs.ext4 -d: $GUEST_SIZE raw image, the whole disk one ext4 file system"
	truncate -s "$GUEST_SIZE" "$out/disk.raw"
	mkfs.ext4 -q -F -L root -d "$rootfs" "$out/disk.raw" >"$BUILD_TMP/mkfs.log" 2>&1 || {
		cat "$BUILD_TMP/mkfs.log" >&2
		die "mkfs.ext4 -d failed"
	}
	{
		echo "recipe: $GUEST_KEY"
		echo "suite: $GUEST_SUITE"
		echo "kernel: $kver"
		echo "packages: $GUEST_PACKAGES"
		echo "mirror: $mirror"
		echo "built: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
		echo "data: $(du -h "$out/disk.raw" | cut -f1) of $GUEST_SIZE"
	} >"$out/manifest"
	# Complete: publish it with one rename.
	mv -T "$out" "$GUEST_DIR"
	umount_under "$BUILD_TMP"
	rm -rf --one-file-system "$BUILD_TMP"
	BUILD_TMP=
}

step "1/5 Guest image ($GUEST_DIR)"
t=$(now)
if [ "${QVM_DEMO_REBUILD:-}" = 1 ] && [ -d "$GUEST_DIR" ]; then
	info "QVM_DEMO_REBUILD=1: removing the cached image"
	rm -rf "$GUEST_DIR"
fi
if [ -f "$GUEST_DIR/manifest" ] && [ -f "$GUEST_DIR/disk.raw" ] &&
	[ -f "$GUEST_DIR/vmlinuz" ] && [ -f "$GUEST_DIR/initrd.img" ]; then
	GUEST_TIME="cached (built $(sed -n 's/^built: //p' "$GUEST_DIR/manifest"))"
	info "reusing the cached guest image: kernel $(sed -n 's/^kernel: //p' "$GUEST_DIR/manifest"), $GUEST_TIME"
else
	build_guest
	GUEST_TIME="$(secs "$t") s"
	info "guest image built in $GUEST_TIME ($(sed -n 's/^data: //p' "$GUEST_DIR/manifest"))"
fi

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

step "2/5 libvirt (virtlogd, libvirtd)"
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
# 3. qvm image, qvm vm

step "3/5 qvm image and qvm vm"

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
CLONE=$POOL/$VM

# A domain left over by an interrupted run: remove it if it is ours (its disk
# is in our work directory or is our clone), refuse otherwise.
if domain_exists; then
	if virsh -c "$CONNECT" dumpxml "$VM" | grep -q -e "$WORK/" -e "/$CLONE'"; then
		info "removing the domain $VM left over by an earlier run"
		remove_domain
	else
		die "a libvirt domain named $VM exists and is not the demo's: remove or rename it"
	fi
fi

# The work directory, traversable by libvirt-qemu down to every file QEMU opens.
mkdir -p "$WORK"
find "$WORK" -mindepth 1 -maxdepth 1 -exec rm -rf {} +
chmod 0711 "$WORK"
install -d -m 0711 "$WORK/boot" "$WORK/seed"
install -m 0644 "$GUEST_DIR/vmlinuz" "$WORK/boot/vmlinuz"
install -m 0644 "$GUEST_DIR/initrd.img" "$WORK/boot/initrd.img"
export QVM_SEED_DIR=$WORK/seed
SERIAL=$WORK/serial.log
: >"$SERIAL"

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
for ds in "$BASE" "$CLONE"; do
	if zfs list -H -o name "$ds" >/dev/null 2>&1; then
		die "$ds exists already; the demo destroys only what it creates: remove it first"
	fi
done

TOKEN=$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')
MARKER="QVM-DEMO-MARKER written by cloud-init, run $TOKEN"
QVMFILE=$WORK/$VM.qvm.yaml
sed -e "s|@KERNEL@|$WORK/boot/vmlinuz|" -e "s|@INITRD@|$WORK/boot/initrd.img|" \
	-e "s|@SERIAL@|$SERIAL|" -e "s|@TOKEN@|$TOKEN|" \
	-e "s|^\( *base: *\)tank/demo-base|\1$BASE|" "$FIXTURE" >"$QVMFILE"
if grep -q '@[A-Z]*@' "$QVMFILE"; then
	die "unfilled placeholder in $QVMFILE"
fi

info "\$ qvm image $GUEST_DIR/disk.raw $BASE"
t=$(now)
# From here on the names are ours (checked above): the EXIT trap removes
# whatever exists under them, even when a signal comes as qvm returns.
BASE_CREATED=$BASE
if ! "$QVM" image "$GUEST_DIR/disk.raw" "$BASE"; then
	die "qvm image failed (it undid what it had made)"
fi
IMAGE_TIME=$(secs "$t")
IMAGE_SIZES="$(du -h --apparent-size "$GUEST_DIR/disk.raw" | cut -f1) raw image, $(du -h "$GUEST_DIR/disk.raw" | cut -f1) of data"
info "qvm image took $IMAGE_TIME s"

# Watch the serial log from now on, whatever qvm vm takes to return.
(
	until grep -aqF "$MARKER" "$SERIAL"; do sleep 0.2; done
	echo "$EPOCHREALTIME" >"$WORK/.marker-seen"
) &
WATCH_PID=$!

info "\$ qvm vm $QVMFILE"
t_vm=$(now)
VM_CREATED=1
if ! "$QVM" vm "$QVMFILE"; then
	die "qvm vm failed (it rolled back what it had made)"
fi
t_returned=$(now)
VM_TIME=$(secs "$t_vm" "$t_returned")
info "qvm vm took $VM_TIME s"
domain_exists || die "qvm vm succeeded but libvirt has no domain $VM"
info "domain $VM: $(domstate)"
info "its disk: $(virsh -c "$CONNECT" domblklist "$VM" | awk '$1 == "vda" { print $2 }')"
info "its seed: $(stat -c '%A %U %n' "$QVM_SEED_DIR/$VM/seed.iso") (directory $(stat -c %a "$QVM_SEED_DIR/$VM"))"

# ---------------------------------------------------------------------------
# 4. the marker

# show_logs: why there is no marker.
show_logs() {
	echo "---- last 40 lines of the serial log ($SERIAL) ----" >&2
	tail -n 40 "$SERIAL" | tr -d '\r' >&2 || true
	# What QEMU and libvirt said since this start, without its command line.
	echo "---- the QEMU log ($QEMU_LOG) since the last start ----" >&2
	awk '/: starting up / { n = 0 } { l[++n] = $0 } END { for (i = 1; i <= n; i++) print l[i] }' \
		"$QEMU_LOG" 2>/dev/null | grep -v -e ' \\$' -e '^-' | tail -n 40 >&2 || true
	echo "---- domain $VM: $(domstate || echo gone) ----" >&2
}

step "4/5 Booting under TCG; waiting up to $TIMEOUT s from 'qvm vm' for the marker on the serial console"
info "expecting: $MARKER"
deadline=$(awk -v a="$t_vm" -v b="$TIMEOUT" 'BEGIN { printf "%d", a + b }')
progress=$((${EPOCHREALTIME%.*} + 30))
stopped_at=
while [ ! -s "$WORK/.marker-seen" ]; do
	if [ "${EPOCHREALTIME%.*}" -ge "$deadline" ]; then
		show_logs
		die "no marker on the serial console within $TIMEOUT s of 'qvm vm'"
	fi
	if [ "$(domstate)" = "shut off" ]; then
		# The watcher may be a moment behind a guest that powered off.
		stopped_at=${stopped_at:-${EPOCHREALTIME%.*}}
		if [ $((${EPOCHREALTIME%.*} - stopped_at)) -ge 3 ]; then
			show_logs
			die "the guest stopped without printing the marker"
		fi
	fi
	if [ "${EPOCHREALTIME%.*}" -ge "$progress" ]; then
		info "... $(secs "$t_vm") s; console: $(tail -n 1 "$SERIAL" | tr -d '\r' | cut -c1-90)"
		progress=$((progress + 30))
	fi
	sleep 0.5
done
wait "$WATCH_PID" || true
WATCH_PID=
t_marker=$(cat "$WORK/.marker-seen")
TOTAL_TIME=$(secs "$t_vm" "$t_marker")
# The boot: from QEMU's start (libvirt's log of this domain) to the marker.
qemu_start=$(grep ': starting up ' "$QEMU_LOG" 2>/dev/null | tail -n 1 | cut -d' ' -f1,2)
t_qemu=$(date -d "$qemu_start" +%s.%N 2>/dev/null || echo "$t_returned")
if awk -v q="$t_qemu" -v v="$t_vm" 'BEGIN { exit !(q < v) }'; then
	t_qemu=$t_returned    # an older run's entry: use qvm's return instead
fi
BOOT_TIME=$(secs "$t_qemu" "$t_marker")
echo
grep -aF "$MARKER" "$SERIAL" | tr -d '\r' | head -n 1 | sed 's/^/    guest says: /'
echo
info "marker seen $TOTAL_TIME s after 'qvm vm' started, $BOOT_TIME s after QEMU started"
virsh -c "$CONNECT" dominfo "$VM" >/dev/null || die "the domain $VM is gone"
info "domain $VM exists: $(domstate)"

# power_state: poweroff in the user-data. Shown, not required.
for i in $(seq 1 60); do
	[ "$(domstate)" = "shut off" ] && break
	sleep 1
done
if [ "$(domstate)" = "shut off" ]; then
	POWEROFF="the guest powered itself off ($(secs "$t_marker") s after the marker was seen)"
else
	POWEROFF="the guest was still running 60 s after the marker (destroyed)"
fi
info "$POWEROFF"

# ---------------------------------------------------------------------------
# 5. clean up (the EXIT trap does the same on failure or interrupt), summary

step "5/5 Cleaning up"
teardown
[ -z "$TEARDOWN_FAILED" ] || die "cleanup left something behind (see above)"
echo
cat <<EOF
========================= qvm demo: PASSED =========================
  guest image build : $GUEST_TIME
  qvm image         : $IMAGE_TIME s  ($BASE, $IMAGE_SIZES)
  qvm vm            : $VM_TIME s  (clone, seed ISO, virt-install)
  boot to marker    : $BOOT_TIME s  (TCG, 1 vCPU; $TOTAL_TIME s from 'qvm vm' start)
  power off         : $POWEROFF
  zfs used          : $ZFS_MODE
  total             : $(secs "$T0") s
====================================================================
EOF
