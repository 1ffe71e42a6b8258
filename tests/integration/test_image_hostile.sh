#!/bin/bash
# qvm image against images that are not what they seem: qcow2s naming host
# files, cut-off downloads, compressed files (taken apart since issue 15),
# absurd sizes, names qemu-img could read as options or protocols, FIFOs, a
# bad QVM_DEVICE_TIMEOUT.
# Each is refused before anything is created (no "zfs create" at all), with
# a message that says what was found; the names are imported byte for byte.
. "$(dirname "$0")/lib.sh"

# The test's own qemu-img; qvm finds a logging wrapper first in PATH.
real_qemu_img=$(command -v qemu-img)
make_raw "$WORK/cloud.raw" 8
"$real_qemu_img" convert -f raw -O qcow2 "$WORK/cloud.raw" "$WORK/cloud.qcow2"
printf 'SECRET host data\n' > "$WORK/secret"
truncate -s 1M "$WORK/secret"
printf '#!/bin/sh\nprintf "%%s\\n" "$*" >> "%s"\nexec "%s" "$@"\n' \
	"$WORK/qemu-img.log" "$real_qemu_img" > "$WORK/bin/qemu-img"
chmod +x "$WORK/bin/qemu-img"

creates() { grep -c "^zfs	create" "$ZFS_DOUBLE_DIR/log" 2>/dev/null; }

# refused WHAT EXPECTED-TEXT ARGS...: qvm ARGS fails, says EXPECTED-TEXT in
# its Error line, and creates nothing.
refused() {
	local what=$1 text=$2 before n
	shift 2
	before=$(state)
	n=$(creates)
	run_qvm "$@"
	check "$what: exit 1" [ "$RC" -eq 1 ]
	check "$what: says '$text'" \
		eval 'printf "%s\n" "$ERR" | grep -q "^Error importing image " &&
			contains "$ERR" "$text"'
	check "$what: zfs create never ran" [ "$(creates)" = "$n" ]
	check "$what: nothing created" [ "$(state)" = "$before" ]
	if [ "$RC" -ne 1 ] || ! contains "$ERR" "$text"; then
		printf '#   stdout: %s\n#   stderr: %s\n' "$OUT" "$ERR"
	fi
}

# --- 1. a qcow2 that names a host file -----------------------------------
"$real_qemu_img" create -q -f qcow2 -b "$WORK/secret" -F raw "$WORK/backed.qcow2" 1M
refused "backing file" \
	"qcow2 image names a backing file, '$WORK/secret'; qvm imports only self-contained images" \
	image "$WORK/backed.qcow2" tank/backed
refused "backing file, dry run" "names a backing file, '$WORK/secret'" \
	-n image "$WORK/backed.qcow2" tank/backed
# (qemu-img create rewrites the data file: a copy of the secret.)
cp "$WORK/secret" "$WORK/secret2"
"$real_qemu_img" create -q -f qcow2 -o "data_file=$WORK/secret2,data_file_raw=on" \
	"$WORK/datafile.qcow2" 1M
refused "external data file" \
	"qcow2 image names an external data file, '$WORK/secret2'" \
	image "$WORK/datafile.qcow2" tank/datafile
check "qemu-img never ran for them" [ ! -e "$WORK/qemu-img.log" ]
# What qvm relies on in qemu-img: given the image as qvm gives it, it does
# not open the backing file the header names (and without "backing": null
# it does: the control).
as_qvm="json:{\"driver\":\"qcow2\",\"file\":{\"driver\":\"file\",\"filename\":\"$WORK/backed.qcow2\"},\"backing\":null}"
truncate -s 1M "$WORK/out.raw"
check "qemu-img, backing null: converts without the backing file" \
	eval '"$real_qemu_img" convert -n "$as_qvm" -O raw "$WORK/out.raw" &&
		! grep -q SECRET "$WORK/out.raw"'
check "qemu-img, control: -f qcow2 alone reads the backing file" \
	eval '"$real_qemu_img" convert -n -f qcow2 "$WORK/backed.qcow2" -O raw "$WORK/out.raw" &&
		grep -q SECRET "$WORK/out.raw"'
# qemu-img is told the format and the file, and that there is no backing
# file, whatever the header says: in the check and in the conversion.
json="json:{\"driver\":\"qcow2\",\"file\":{\"driver\":\"file\",\"filename\":\"$WORK/cloud.qcow2\"},\"backing\":null}"
run_qvm -n image "$WORK/cloud.qcow2" tank/dry
check "dry run: qemu-img convert gets the image as json: with backing null" \
	contains "$OUT" "qemu-img convert -n --target-is-zero '$json' -O raw $QVM_ZVOL_DIR/tank/dry"
check "dry run: qemu-img check ran, the same way" \
	[ "$(cat "$WORK/qemu-img.log")" = "check $json" ]
rm -f "$WORK/qemu-img.log"
run_qvm image "$WORK/cloud.qcow2" tank/fromqcow2
check "qcow2: check, then convert, both with backing null" \
	[ "$(cat "$WORK/qemu-img.log")" = "check $json
convert -n --target-is-zero $json -O raw $QVM_ZVOL_DIR/tank/fromqcow2" ]
check "qcow2: the same bytes" \
	cmp -s "$WORK/cloud.raw" "$QVM_ZVOL_DIR/tank/fromqcow2"

# --- 2. a download cut short, a corrupt qcow2 ----------------------------
size=$(stat -c %s "$WORK/cloud.qcow2")
for cut in 1 10 50 90 99; do
	head -c $((size * cut / 100)) "$WORK/cloud.qcow2" > "$WORK/cut.qcow2"
	refused "qcow2 cut at $cut%" "qcow2 image is truncated or corrupt" \
		image "$WORK/cut.qcow2" tank/cut
done
head -c $((size - 1)) "$WORK/cloud.qcow2" > "$WORK/cut.qcow2"
refused "qcow2 one byte short" "qcow2 image is truncated or corrupt" \
	image "$WORK/cut.qcow2" tank/cut
# Refcounts zeroed: every table is in the file, qemu-img check finds it.
cp "$WORK/cloud.qcow2" "$WORK/norefs.qcow2"
rt=$(od -A n -t u8 --endian=big -j 48 -N 8 "$WORK/cloud.qcow2")
rb=$(od -A n -t u8 --endian=big -j "$rt" -N 8 "$WORK/cloud.qcow2")
dd if=/dev/zero of="$WORK/norefs.qcow2" bs=65536 count=1 \
	seek=$((rb / 65536)) conv=notrunc status=none
refused "qcow2 with zeroed refcounts" \
	"qcow2 image is truncated or corrupt (qemu-img check: ERROR" \
	image "$WORK/norefs.qcow2" tank/norefs

# --- 3. compressed files and archives, by content, not name ---------------
# (Issue 15: they are taken apart and imported, whatever their names say.)
# imported WHAT FILE ZVOL: FILE makes ZVOL holding cloud.raw byte for byte.
imported() {
	run_qvm image "$2" "$3"
	check "$1: imported" [ "$RC" -eq 0 ]
	[ "$RC" -eq 0 ] || printf '#   %s\n' "$ERR"
	check "$1: the same bytes as the raw image" \
		cmp -s "$WORK/cloud.raw" "$QVM_ZVOL_DIR/$3"
}
export QVM_CACHE_DIR=$WORK/cache
xz -c "$WORK/cloud.raw" > "$WORK/xz.raw"
imported "xz, named .raw" "$WORK/xz.raw" tank/xz
gzip -c "$WORK/cloud.qcow2" > "$WORK/gz.qcow2"
imported "gzip of a qcow2, named .qcow2" "$WORK/gz.qcow2" tank/gz
zstd -q -c "$WORK/cloud.raw" > "$WORK/img.zst"
imported "zstd" "$WORK/img.zst" tank/zst
bzip2 -c "$WORK/cloud.raw" > "$WORK/img.bz2"
imported "bzip2" "$WORK/img.bz2" tank/bz2
tar -C "$WORK" -cf "$WORK/img.tar" cloud.raw
imported "tar" "$WORK/img.tar" tank/tar
(cd "$WORK" && zip -q img.zip cloud.raw 2>/dev/null) ||
	printf 'PK\003\004zip' > "$WORK/img.zip"
refused "zip" "is a zip archive, not a disk image; extract the disk image from it first: unzip" \
	image "$WORK/img.zip" tank/zip
"$real_qemu_img" create -q -f qed "$WORK/disk.qed" 8M
refused "qed" "is a qed image; qvm imports raw and qcow2 only" \
	image "$WORK/disk.qed" tank/qed

# --- 4. a virtual size the rounding would wrap ---------------------------
for big in ffffffffffffffff fffffffffff00001 8000000000000000; do
	cp "$WORK/cloud.qcow2" "$WORK/huge.qcow2"
	printf "$(printf '%s' "$big" | sed 's/../\\x&/g')" |
		dd of="$WORK/huge.qcow2" bs=1 seek=24 conv=notrunc status=none
	refused "virtual size 0x$big" \
		"is larger than a volume can be: at most 9223372036853727232 bytes" \
		image "$WORK/huge.qcow2" tank/huge
done

# --- 5. names qemu-img could take for options or protocols ---------------
# Relative (from the image's directory) and absolute, raw and qcow2.
n=0
for name in '-x' 'debian:12' 'nbd:localhost:10809' 'json:{"driver":"raw"}' \
	'file:x' 'a,b"c\d'; do
	for fmt in raw qcow2; do
		n=$((n + 1))
		cp "$WORK/cloud.$fmt" "$WORK/$name.$fmt"
		cd "$WORK" || exit 1
		run_qvm image -- "$name.$fmt" "tank/name$n"
		cd - >/dev/null || exit 1
		check "relative '$name.$fmt': imported, the same bytes" \
			eval '[ "$RC" -eq 0 ] && cmp -s "$WORK/cloud.raw" "$QVM_ZVOL_DIR/tank/name$n"'
		[ "$RC" -eq 0 ] || printf '#   %s\n' "$ERR"
		n=$((n + 1))
		run_qvm image "$WORK/$name.$fmt" "tank/name$n"
		check "absolute '$name.$fmt': imported, the same bytes" \
			eval '[ "$RC" -eq 0 ] && cmp -s "$WORK/cloud.raw" "$QVM_ZVOL_DIR/tank/name$n"'
		[ "$RC" -eq 0 ] || printf '#   %s\n' "$ERR"
		rm -f "$WORK/$name.$fmt"
	done
done

# --- 6. QVM_DEVICE_TIMEOUT -------------------------------------------------
for t in abc -1 10x 0 99999999999999999999; do
	QVM_DEVICE_TIMEOUT=$t refused "QVM_DEVICE_TIMEOUT=$t" \
		"QVM_DEVICE_TIMEOUT is '$t'" image "$WORK/cloud.raw" tank/timeout
done

# --- 7. not a file: a FIFO must not hang the open -------------------------
mkfifo "$WORK/fifo"
start=$SECONDS
QVM_WRAP="timeout 20 $QVM_WRAP" refused "FIFO" \
	"$WORK/fifo is a FIFO (named pipe); an image is a regular file or a block device" \
	image "$WORK/fifo" tank/fifo
check "FIFO: refused at once" [ $((SECONDS - start)) -lt 10 ]
refused "directory" "$WORK is a directory" image "$WORK" tank/dir
refused "character device" "/dev/null is a character device" \
	image /dev/null tank/null

# --- 8. "already exists" suggests destroying only what qvm made -----------
zfs create -V 16M tank/theirs
refused "someone else's volume" \
	"tank/theirs already exists; qvm leaves it untouched (choose another name)" \
	image "$WORK/cloud.raw" tank/theirs
check "someone else's volume: no destroy suggested" \
	eval '! contains "$ERR" destroy'
run_qvm image "$WORK/cloud.raw" tank/mine
refused "qvm's own image" \
	"tank/mine already exists: an image qvm made earlier ('qvm destroy tank/mine' removes it when no VM uses it)" \
	image "$WORK/cloud.raw" tank/mine

finish
