# The real-ZFS guest, part 2 of its recipe: OpenZFS (built by DKMS for the
# base's kernel) and what qvm needs at run time. Sourced by build-guest.sh;
# the guest for a version is cached under a hash of this file and
# guest-base.sh.
#
# zfs_build ROOTFS MIRROR VERSION KVER: VERSION is 2.1.11 (bookworm) or 2.3
# (bookworm-backports).
zfs_build() {
	local rootfs=$1 mirror=$2 version=$3 kver=$4 target=() got
	case $version in
	2.1.11) ;;
	2.3)
		echo "deb $mirror bookworm-backports main contrib" \
			>>"$rootfs/etc/apt/sources.list"
		target=(-t bookworm-backports)
		;;
	*) die "ZFS_VERSION=$version: use 2.1.11 or 2.3" ;;
	esac
	chroot_apt "$rootfs" update
	# DKMS builds for every kernel whose headers are installed: the chroot's
	# (the host's "uname -r" has no headers there). Checked below.
	chroot_apt "$rootfs" install --no-install-recommends "${target[@]}" \
		zfs-dkms zfsutils-linux
	if [ ! -e "$rootfs/lib/modules/$kver/updates/dkms/zfs.ko" ]; then
		got=$(chroot "$rootfs" dpkg-query -W -f '${Version}' zfs-dkms)
		chroot "$rootfs" dkms install -m zfs -v "${got%%-*}" -k "$kver"
	fi
	[ -e "$rootfs/lib/modules/$kver/updates/dkms/zfs.ko" ] ||
		die "DKMS built no zfs.ko for the guest's kernel $kver"
	got=$(chroot "$rootfs" dpkg-query -W -f '${Version}' zfsutils-linux)
	case $got in
	"$version"*) ;;
	*) die "zfsutils-linux $got installed, wanted $version" ;;
	esac
	chroot_apt "$rootfs" install --no-install-recommends \
		libyaml-0-2 genisoimage virtinst libvirt-clients qemu-utils python3 \
		xz-utils curl
	# The build tree is not needed to run; keep the image small.
	rm -rf "$rootfs"/var/lib/dkms/zfs/*/build "$rootfs"/var/cache/apt/archives/*.deb
	rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin
	echo "$got" >"$rootfs/etc/qvm-zfs-version"

	echo "/dev/vda / ext4 defaults 0 1" >"$rootfs/etc/fstab"
	echo "qvm-zfs-guest" >"$rootfs/etc/hostname"
	printf '127.0.0.1\tlocalhost\n' >"$rootfs/etc/hosts"
	: >"$rootfs/etc/machine-id"
	passwd_root_empty "$rootfs"
	# The job: mount the 9p shares, run the suite, power off.
	cat >"$rootfs/usr/local/sbin/qvm-zfs-job" <<-'JOB'
	#!/bin/sh
	# Runs once per boot: the host's tests/zfs-real/guest-job.sh from the
	# read-only share, results to the writable one; then power off.
	modprobe 9pnet_virtio
	modprobe 9p
	mkdir -p /qvm /results
	if mount -t 9p -o trans=virtio,version=9p2000.L,ro qvmrepo /qvm &&
		mount -t 9p -o trans=virtio,version=9p2000.L qvmresults /results; then
		bash /qvm/tests/zfs-real/guest-job.sh >/results/guest.log 2>&1
		echo "$?" >/results/status
	else
		echo "qvm-zfs-job: the 9p shares did not mount" >/dev/console
	fi
	sync
	systemctl poweroff --no-block
	JOB
	chmod 0755 "$rootfs/usr/local/sbin/qvm-zfs-job"
	cat >"$rootfs/etc/systemd/system/qvm-zfs-job.service" <<-'UNIT'
	[Unit]
	Description=qvm real-ZFS suite
	After=systemd-udev-settle.service systemd-udevd.service local-fs.target
	Wants=systemd-udevd.service

	[Service]
	Type=oneshot
	ExecStart=/usr/local/sbin/qvm-zfs-job
	StandardOutput=journal+console
	StandardError=journal+console

	[Install]
	WantedBy=multi-user.target
	UNIT
	chroot "$rootfs" systemctl enable qvm-zfs-job.service
	# Pools are made by the job, not imported at boot; no ZED.
	chroot "$rootfs" systemctl disable zfs-zed.service zfs-import-cache.service \
		zfs-import-scan.service zfs-mount.service zfs-share.service 2>/dev/null || true
	chroot "$rootfs" systemctl mask getty@tty1.service serial-getty@ttyS0.service \
		apt-daily.timer apt-daily-upgrade.timer e2scrub_reap.service 2>/dev/null || true
}

passwd_root_empty() { chroot "$1" passwd -d root >/dev/null; }
