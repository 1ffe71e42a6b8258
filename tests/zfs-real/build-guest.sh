#!/usr/bin/env bash
# Builds (once) the Debian 12 guest that runs qvm against real OpenZFS, and
# prints the directory that holds it (vmlinuz, initrd.img, disk.raw, manifest).
#
#     bash tests/zfs-real/build-guest.sh VERSION      # 2.1.11 or 2.3
#
# Cache (QVM_ZFS_CACHE, default /var/cache/qvm-zfs):
#   base-HASH/rootfs          debootstrap + kernel + headers (guest-base.sh)
#   VERSION-HASH/             the bootable guest for one ZFS version
# HASH covers the recipe files, so a changed recipe is rebuilt and an old
# cache entry is never reused. Every download is retried.
# Progress goes to stderr; the build's logs to the cache's .build.* directory.
set -euo pipefail
export LC_ALL=C

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
VERSION=${1:?usage: build-guest.sh 2.1.11|2.3}
CACHE=${QVM_ZFS_CACHE:-/var/cache/qvm-zfs}
MIRROR=${QVM_ZFS_MIRROR:-http://deb.debian.org/debian}

log() { echo "build-guest: $*" >&2; }
die() { echo "build-guest: FAILED: $*" >&2; exit 1; }

# retry N CMD...: runs CMD up to N times, 20 s apart (a flaky mirror).
retry() {
	local n=$1 i
	shift
	for ((i = 1; ; i++)); do
		"$@" && return 0
		[ "$i" -ge "$n" ] && return 1
		log "attempt $i of $n failed: $*; retrying in 20 s"
		sleep 20
	done
}

umount_under() {
	local m
	awk -v d="$1" '$2 == d || index($2, d "/") == 1 { print $2 }' /proc/mounts |
		sort -r | while read -r m; do umount -l "$m" || true; done
}

# chroot_apt ROOTFS ARGS...: apt-get in the chroot, with /proc, /sys, /dev.
chroot_apt() {
	local rootfs=$1 rc=0
	shift
	mount -t proc proc "$rootfs/proc"
	mount -t sysfs sys "$rootfs/sys"
	mount --bind /dev "$rootfs/dev"
	mount --bind /dev/pts "$rootfs/dev/pts"
	retry 3 chroot "$rootfs" env DEBIAN_FRONTEND=noninteractive LC_ALL=C \
		apt-get -y -o Acquire::Retries=5 "$@" || rc=$?
	umount_under "$rootfs/proc"
	umount_under "$rootfs/sys"
	umount_under "$rootfs/dev"
	return "$rc"
}

# shellcheck source=guest-base.sh
. "$HERE/guest-base.sh"
# shellcheck source=guest-zfs.sh
. "$HERE/guest-zfs.sh"

BASE_HASH=$(cat "$HERE/guest-base.sh" | sha256sum | cut -c1-12)
GUEST_HASH=$(cat "$HERE/guest-base.sh" "$HERE/guest-zfs.sh" "$HERE/build-guest.sh" |
	sha256sum | cut -c1-12)
BASE=$CACHE/base-$BASE_HASH
GUEST=$CACHE/$VERSION-$GUEST_HASH
case $VERSION in 2.1.11 | 2.3) ;; *) die "ZFS_VERSION=$VERSION: use 2.1.11 or 2.3" ;; esac

if [ -f "$GUEST/manifest" ]; then
	log "cached: $GUEST"
	echo "$GUEST"
	exit 0
fi
[ "$(id -u)" -eq 0 ] || die "run as root (debootstrap, chroot)"
command -v debootstrap >/dev/null || die "debootstrap is missing"
mkdir -p "$CACHE"
TMP=$(mktemp -d "$CACHE/.build.XXXXXX")
trap 'umount_under "$TMP"; rm -rf --one-file-system "$TMP"' EXIT

if [ ! -f "$BASE/done" ]; then
	log "base $BASE: debootstrap, kernel, headers (log: $TMP/base.log)"
	mkdir "$TMP/base"
	# (In the background, so that errexit holds inside the recipe.)
	rc=0
	base_build "$TMP/base/rootfs" "$MIRROR" >"$TMP/base.log" 2>&1 &
	wait $! || rc=$?
	if [ "$rc" -ne 0 ]; then
		tail -n 40 "$TMP/base.log" >&2
		die "the base did not build (log above)"
	fi
	touch "$TMP/base/done"
	rm -rf "$BASE"
	mv -T "$TMP/base" "$BASE"
fi

KVER=$(find "$BASE/rootfs/boot" -maxdepth 1 -name 'vmlinuz-*' -printf '%f\n' |
	sed 's/^vmlinuz-//' | sort -V | tail -n 1)
[ -n "$KVER" ] || die "the base has no kernel"
log "ZFS $VERSION for kernel $KVER: DKMS build, ~10 min (log: $TMP/zfs.log)"
mkdir "$TMP/out"
cp -a "$BASE/rootfs" "$TMP/rootfs"
rc=0
zfs_build "$TMP/rootfs" "$MIRROR" "$VERSION" "$KVER" >"$TMP/zfs.log" 2>&1 &
wait $! || rc=$?
if [ "$rc" -ne 0 ]; then
	tail -n 60 "$TMP/zfs.log" >&2
	die "ZFS $VERSION did not build (log above)"
fi
umount_under "$TMP/rootfs"
cp "$TMP/rootfs/boot/vmlinuz-$KVER" "$TMP/out/vmlinuz"
cp "$TMP/rootfs/boot/initrd.img-$KVER" "$TMP/out/initrd.img"
truncate -s 4G "$TMP/out/disk.raw"
mkfs.ext4 -q -F -L root -d "$TMP/rootfs" "$TMP/out/disk.raw"
{
	echo "zfs: $(cat "$TMP/rootfs/etc/qvm-zfs-version")"
	echo "kernel: $KVER"
	echo "mirror: $MIRROR"
	echo "recipe: $GUEST_HASH"
	echo "built: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
} >"$TMP/out/manifest"
rm -rf "$GUEST"
mv -T "$TMP/out" "$GUEST"
log "built: $GUEST"
echo "$GUEST"
