# The real-ZFS guest, part 1 of its recipe: a Debian 12 root with a kernel and
# its headers (shared by every ZFS version). Sourced by build-guest.sh, which
# caches the result under a hash of this file: change it, and the base (and
# every guest built on it) is rebuilt.
#
# base_build ROOTFS MIRROR: debootstrap, then the kernel and its headers.
base_build() {
	local rootfs=$1 mirror=$2
	retry 3 debootstrap --variant=minbase --components=main,contrib \
		--include=systemd-sysv,udev,kmod,e2fsprogs,util-linux,mount,procps,ca-certificates \
		bookworm "$rootfs" "$mirror"
	umount_under "$rootfs"
	cat >"$rootfs/etc/apt/sources.list" <<-SRC
	deb $mirror bookworm main contrib
	SRC
	# No service starts inside the chroot.
	printf '#!/bin/sh\nexit 101\n' >"$rootfs/usr/sbin/policy-rc.d"
	chmod 0755 "$rootfs/usr/sbin/policy-rc.d"
	chroot_apt "$rootfs" update
	chroot_apt "$rootfs" install --no-install-recommends \
		linux-image-amd64 linux-headers-amd64 initramfs-tools
}
