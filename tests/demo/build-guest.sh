#!/usr/bin/env bash
# Builds the demo's guest the way distributions build their generic cloud
# images, as a qcow2 file: a GPT disk with an EFI system partition (FAT) that
# holds a GRUB made by grub-mkstandalone as /EFI/BOOT/BOOTX64.EFI, and an ext4
# root partition, last on the disk so that cloud-init's growpart and resizefs
# can grow it on first boot, with Debian 12, its kernel and initrd, cloud-init
# (NoCloud) and growpart (cloud-guest-utils).
#
# No loop devices and no mounts (neither works on the machines this runs on):
# the root file system is made from the debootstrap tree with mkfs.ext4 -d
# and the ESP with mkfs.vfat and mtools, each in a partition-sized file, and
# both are written into the disk image that sfdisk partitioned.
#
#     bash tests/demo/build-guest.sh OUTDIR KEY
#
# OUTDIR must not exist; it appears (one rename) only when complete, with
# disk.qcow2 and a manifest (key: value lines; root_part_bytes is the root
# partition's size in the image). KEY names the recipe in the manifest.
# Run as root (debootstrap). Environment: QVM_DEMO_MIRROR (Debian mirror,
# default: the one apt on this host uses for bookworm main).
set -euo pipefail
export LC_ALL=C

OUT=${1:?usage: build-guest.sh OUTDIR KEY}
KEY=${2:?usage: build-guest.sh OUTDIR KEY}

SUITE=bookworm
DISK_MIB=2048       # the image's virtual size
ESP_START_MIB=1
ESP_MIB=63          # FAT16; GRUB's standalone image is a few MiB
ROOT_START_MIB=64   # root: from here to 1 MiB before the end (backup GPT)
ROOT_MIB=$((DISK_MIB - ROOT_START_MIB - 1))
PACKAGES=linux-image-amd64,initramfs-tools,cloud-init,cloud-guest-utils,fdisk,openssh-server,systemd-sysv,udev,python3-cffi-backend,e2fsprogs,util-linux,mount,kmod
# GPT partition types: EFI system; Linux root (x86-64).
TYPE_ESP=C12A7328-F81F-11D2-BA4B-00A0C93EC3B8
TYPE_ROOT=4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709

T0=$EPOCHREALTIME
secs() { awk -v a="$1" -v b="${2:-$EPOCHREALTIME}" 'BEGIN { printf "%.1f", b - a }'; }
info() { printf '[%6ss]     build: %s\n' "$(secs "$T0")" "$*"; }
die() { printf '[%6ss] FAILED: build: %s\n' "$(secs "$T0")" "$*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || die "run as root (debootstrap)"
[ ! -e "$OUT" ] || die "$OUT exists already"
for tool in debootstrap mkfs.ext4 sfdisk mkfs.vfat mmd mcopy grub-mkstandalone qemu-img; do
	command -v "$tool" >/dev/null ||
		die "$tool is missing: 'make demo' installs the Debian packages it needs"
done
[ -d /usr/lib/grub/x86_64-efi ] ||
	die "GRUB's x86_64-efi modules are missing (Debian package grub-efi-amd64-bin)"

# umount_under DIR: unmounts whatever a failed debootstrap left mounted in DIR.
umount_under() {
	local m
	awk -v d="$1" '$2 == d || index($2, d "/") == 1 { print $2 }' /proc/mounts |
		sort -r | while read -r m; do umount -l "$m" || true; done
}

# The build's temporary directory, next to OUT (same file system: the final
# rename is atomic); removed on any exit.
TMP=$(mktemp -d "$(dirname "$OUT")/.build.XXXXXX")
cleanup() {
	umount_under "$TMP"
	rm -rf --one-file-system "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

# debian_mirror: the Debian archive apt on this host uses for bookworm main.
debian_mirror() {
	local url
	if [ -n "${QVM_DEMO_MIRROR:-}" ]; then
		echo "$QVM_DEMO_MIRROR"
		return
	fi
	# From apt's own view: " 500 URL bookworm/main amd64 Packages" followed by
	# "release ...o=Debian,...,n=bookworm,l=Debian,c=main...".
	url=$(apt-cache policy 2>/dev/null | awk -v s="$SUITE" '
		$1 ~ /^[0-9]+$/ && $3 == s "/main" { url = $2; next }
		url != "" && /release/ && /o=Debian,/ && index($0, "n=" s ",") && /l=Debian,/ { print url; exit }
		{ url = "" }')
	if [ -z "$url" ]; then
		# apt has no lists yet: read the sources files (one-line and deb822).
		url=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list \
			/etc/apt/sources.list.d/*.sources 2>/dev/null | awk -v s="$SUITE" '
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
			:
		elif grep -q "/$m\.ko" "$rootfs/lib/modules/$kver/modules.builtin"; then
			:
		else
			die "the guest's initrd lacks $m: it could not mount its root"
		fi
	done
}

# run LOG CMD...: runs CMD with its output in $TMP/LOG, shown on failure.
run() {
	local log=$TMP/$1
	shift
	"$@" >"$log" 2>&1 || {
		tail -n 40 "$log" >&2
		die "$1 failed (its output above)"
	}
}

mirror=$(debian_mirror) ||
	die "no Debian $SUITE main archive in apt's sources; set QVM_DEMO_MIRROR"
rootfs=$TMP/rootfs
mkdir "$rootfs" "$TMP/out"

info "debootstrap --variant=minbase $SUITE from $mirror (a few minutes; log: $TMP/debootstrap.log)"
debootstrap --variant=minbase --components=main --include="$PACKAGES" \
	"$SUITE" "$rootfs" "$mirror" >"$TMP/debootstrap.log" 2>&1 || {
	tail -n 40 "$TMP/debootstrap.log" >&2
	[ -f "$rootfs/debootstrap/debootstrap.log" ] &&
		tail -n 40 "$rootfs/debootstrap/debootstrap.log" >&2
	die "debootstrap failed (log above)"
}
umount_under "$rootfs"

kver=$(find "$rootfs/boot" -maxdepth 1 -name 'vmlinuz-*' -printf '%f\n' |
	sed 's/^vmlinuz-//' | sort -V | tail -n 1)
if [ -z "$kver" ] || [ ! -f "$rootfs/boot/initrd.img-$kver" ]; then
	die "the guest has no kernel and initrd in /boot"
fi
check_initrd "$rootfs" "$kver"
for tool in blkid mount growpart sfdisk resize2fs; do
	[ -x "$rootfs/usr/sbin/$tool" ] || [ -x "$rootfs/sbin/$tool" ] ||
		[ -x "$rootfs/usr/bin/$tool" ] || [ -x "$rootfs/bin/$tool" ] ||
		die "the guest lacks $tool"
done

info "configuring the guest (kernel $kver)"
ROOT_UUID=$(cat /proc/sys/kernel/random/uuid)
# Debian keeps /vmlinuz and /initrd.img pointing at the newest kernel; GRUB
# boots those, so a kernel upgrade in the guest keeps it bootable.
ln -sfn "boot/vmlinuz-$kver" "$rootfs/vmlinuz"
ln -sfn "boot/initrd.img-$kver" "$rootfs/initrd.img"
echo "UUID=$ROOT_UUID / ext4 defaults,errors=remount-ro 0 1" >"$rootfs/etc/fstab"
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
# Each clone makes its own machine-id and SSH host keys on first boot
# (cloud-init's ssh module; without keys or sshd it warns on the console).
: >"$rootfs/etc/machine-id"
rm -f "$rootfs"/etc/ssh/ssh_host_*
rm -f "$rootfs/var/lib/dbus/machine-id"
chroot "$rootfs" apt-get clean
rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin

info "root file system: mkfs.ext4 -d, $ROOT_MIB MiB, UUID $ROOT_UUID"
truncate -s "${ROOT_MIB}M" "$TMP/root.ext4"
run mkfs.log mkfs.ext4 -q -F -L root -U "$ROOT_UUID" -d "$rootfs" "$TMP/root.ext4"
umount_under "$rootfs"
rm -rf --one-file-system "$rootfs"

info "boot loader: grub-mkstandalone x86_64-efi, finds the root by its UUID"
cat >"$TMP/grub.cfg" <<EOF
set timeout=0
serial --unit=0 --speed=115200
terminal_input serial console
terminal_output serial console
search --no-floppy --fs-uuid --set=root $ROOT_UUID
linux /vmlinuz root=UUID=$ROOT_UUID ro console=tty0 console=ttyS0,115200n8
initrd /initrd.img
boot
EOF
run grub.log grub-mkstandalone -O x86_64-efi -o "$TMP/BOOTX64.EFI" \
	--locales= --fonts= --themes= \
	--modules="part_gpt ext2 search_fs_uuid linux serial terminal" \
	"boot/grub/grub.cfg=$TMP/grub.cfg"

info "EFI system partition: mkfs.vfat, $ESP_MIB MiB, /EFI/BOOT/BOOTX64.EFI (mtools)"
truncate -s "${ESP_MIB}M" "$TMP/esp.fat"
run mkfs-vfat.log mkfs.vfat -n EFI "$TMP/esp.fat"
export MTOOLS_SKIP_CHECK=1
run mtools.log mmd -i "$TMP/esp.fat" ::/EFI ::/EFI/BOOT
run mtools.log mcopy -i "$TMP/esp.fat" "$TMP/BOOTX64.EFI" ::/EFI/BOOT/BOOTX64.EFI

info "disk: GPT (sfdisk), $DISK_MIB MiB, partitions written with dd"
truncate -s "${DISK_MIB}M" "$TMP/disk.raw"
# Root is partition 1 and last on the disk (as in Debian's cloud images).
run sfdisk.log sfdisk --no-reread --no-tell-kernel "$TMP/disk.raw" <<EOF
label: gpt
start=$((ROOT_START_MIB * 2048)), size=$((ROOT_MIB * 2048)), type=$TYPE_ROOT, name=root
start=$((ESP_START_MIB * 2048)), size=$((ESP_MIB * 2048)), type=$TYPE_ESP, name=esp
EOF
run dd.log dd if="$TMP/esp.fat" of="$TMP/disk.raw" bs=1M seek="$ESP_START_MIB" conv=notrunc,sparse status=none
run dd.log dd if="$TMP/root.ext4" of="$TMP/disk.raw" bs=1M seek="$ROOT_START_MIB" conv=notrunc,sparse status=none
rm -f "$TMP/esp.fat" "$TMP/root.ext4"

info "qemu-img convert -O qcow2"
run qemu-img.log qemu-img convert -f raw -O qcow2 "$TMP/disk.raw" "$TMP/out/disk.qcow2"
{
	echo "recipe: $KEY"
	echo "suite: $SUITE"
	echo "kernel: $kver"
	echo "packages: $PACKAGES"
	echo "mirror: $mirror"
	echo "built: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
	echo "build_seconds: $(secs "$T0")"
	echo "virtual_bytes: $((DISK_MIB * 1048576))"
	echo "root_uuid: $ROOT_UUID"
	echo "root_part_bytes: $((ROOT_MIB * 1048576))"
	echo "qcow2: $(du -h --apparent-size "$TMP/out/disk.qcow2" | cut -f1)"
} >"$TMP/out/manifest"
mv -T "$TMP/out" "$OUT"
info "done: $OUT ($(secs "$T0") s)"
