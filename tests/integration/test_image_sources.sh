#!/bin/bash
# qvm image from sources as distributions publish them, local files and
# file:// URLs (tests/integration/test_fetch.sh serves them over HTTP):
# every layout byte-exact on the volume, the failures leaving nothing.
. "$(dirname "$0")/lib.sh"

CACHE=$WORK/cache
export QVM_CACHE_DIR=$CACHE
D=$WORK/src
mkdir -p "$D"
make_raw "$D/disk.raw" 20
head -c 1500000 /dev/urandom > "$D/odd.raw"
(
	cd "$D" || exit 1
	xz -k -T1 disk.raw
	gzip -k disk.raw
	zstd -q -k disk.raw
	bzip2 -k disk.raw
	xz -k -T1 odd.raw
	tar -cf disk.tar disk.raw
	xz -k -T1 disk.tar
	qemu-img convert -f raw -O qcow2 disk.raw disk.qcow2
	xz -k -T1 disk.qcow2
	gzip -k disk.qcow2
	cp disk.raw.xz named-raw.img
)

n=0
# imports SOURCE RAW WHAT: SOURCE makes a volume holding RAW byte for byte,
# sized RAW's size in whole MiB, with its snapshot; the cache stays empty.
imports() {
	local src=$1 raw=$2 what=$3 size
	n=$((n + 1))
	run_qvm image "$src" "tank/v$n"
	check "$what: exit 0" [ "$RC" -eq 0 ]
	[ "$RC" -eq 0 ] || printf '#   %s\n' "$ERR"
	size=$(stat -c %s "$raw")
	check "$what: the volume holds the image byte for byte" \
		cmp -s -n "$size" "$raw" "$QVM_ZVOL_DIR/tank/v$n"
	check "$what: volsize is the image's size in whole MiB" \
		[ "$(zfs get -Hp -o value volsize "tank/v$n")" = \
		  $(( (size + 1048575) / 1048576 * 1048576 )) ]
	check "$what: the rest of the volume reads as zeros" \
		eval '[ "$(tail -c +$((size + 1)) "$QVM_ZVOL_DIR/tank/v$n" | tr -d "\0" | wc -c)" = 0 ]'
	check "$what: snapshot made" \
		eval "zfs list -H -o name tank/v$n@base >/dev/null 2>&1"
	check "$what: nothing left in the cache" \
		eval '[ -z "$(ls -A "$CACHE" 2>/dev/null)" ]'
}

imports "$D/disk.raw.xz" "$D/disk.raw" ".raw.xz"
imports "$D/disk.raw.gz" "$D/disk.raw" ".raw.gz"
imports "$D/disk.raw.zst" "$D/disk.raw" ".raw.zst"
imports "$D/disk.raw.bz2" "$D/disk.raw" ".raw.bz2"
imports "$D/odd.raw.xz" "$D/odd.raw" "odd-sized .raw.xz"
imports "$D/disk.tar" "$D/disk.raw" ".tar"
imports "$D/disk.tar.xz" "$D/disk.raw" ".tar.xz"
imports "$D/disk.qcow2.xz" "$D/disk.raw" ".qcow2.xz"
imports "$D/disk.qcow2.gz" "$D/disk.raw" ".qcow2.gz"
imports "$D/named-raw.img" "$D/disk.raw" "xz named .img (content, not name)"
imports "file://$D/disk.raw" "$D/disk.raw" "file:// .raw"
imports "file://$D/disk.tar.xz" "$D/disk.raw" "file:// .tar.xz"
imports "file://$D/disk.qcow2" "$D/disk.raw" "file:// .qcow2"
check "the stream's volume was created thin, then sized" \
	grep -qP '^zfs\tset\tvolsize=20971520\ttank/v1$' "$ZFS_DOUBLE_DIR/log"

# --- failures: said exactly, nothing stays -------------------------------
# fails WHAT TEXT ARGS...: exit 1, TEXT in the Error line, no volume left,
# the cache empty.
fails() {
	local what=$1 text=$2 before
	shift 2
	before=$(state)
	run_qvm "$@"
	check "$what: exit 1" [ "$RC" -eq 1 ]
	check "$what: says '$text'" contains "$ERR" "$text"
	[ "$RC" -eq 1 ] && contains "$ERR" "$text" ||
		printf '#   stdout: %s\n#   stderr: %s\n' "$OUT" "$ERR"
	check "$what: nothing stays" [ "$(state)" = "$before" ]
	check "$what: nothing left in the cache" \
		eval '[ -z "$(ls -A "$CACHE" 2>/dev/null)" ]'
}

size=$(stat -c %s "$D/disk.raw.xz")
head -c $((size - 100)) "$D/disk.raw.xz" > "$D/cut.raw.xz"
fails "truncated .xz" "decompressing $D/cut.raw.xz: xz: Unexpected end of input" \
	image "$D/cut.raw.xz" tank/cut
head -c 300000 /dev/urandom > "$D/b.raw"
tar -C "$D" -cf "$D/two.tar" disk.raw b.raw
xz -T1 "$D/two.tar"
fails "tar with two disks" \
	"two.tar.xz holds 2 files (disk.raw, b.raw); qvm imports an archive of exactly one disk image" \
	image "$D/two.tar.xz" tank/two
printf 'KDMV' > "$D/disk.vmdk"
head -c 8192 /dev/urandom >> "$D/disk.vmdk"
xz -T1 "$D/disk.vmdk"
fails "xz of a vmdk" "$D/disk.vmdk.xz is an xz-compressed vmdk image; qvm imports raw and qcow2" \
	image "$D/disk.vmdk.xz" tank/vmdk
xz -T1 -c "$D/disk.raw.xz" > "$D/twice.xz"
fails "xz of an xz" "is an xz-compressed xz-compressed data; qvm imports raw and qcow2" \
	image "$D/twice.xz" tank/twice
fails "missing file:// URL" "downloading file://$D/nope.raw.xz: curl: (37)" \
	image "file://$D/nope.raw.xz" tank/nope
fails "ftp:// URL" "'ftp' URLs are not supported" \
	image "ftp://127.0.0.1/x.raw" tank/ftp
mkdir -p "$QVM_CACHE_DIR"
QVM_CACHE_DIR=/proc fails "no room in the cache" \
	"not enough space in /proc: need 20971520 bytes" \
	image "$D/disk.qcow2.xz" tank/nospace
# A qcow2 whose stream goes on far past what its virtual size can hold
# (1 MiB, then 70 MiB more) is stopped before it fills the cache's disk.
qemu-img create -q -f qcow2 "$WORK/small.qcow2" 1M
{ cat "$WORK/small.qcow2"; head -c $((70 * 1048576)) /dev/urandom; } |
	gzip -1 > "$D/padded.qcow2.gz"
fails "a qcow2 stream far longer than its virtual size" \
	"goes on past byte 68190208, the most there can be" \
	image "$D/padded.qcow2.gz" tank/padded
{ cat "$WORK/small.qcow2"; head -c $((70 * 1048576)) /dev/zero; } |
	gzip -1 > "$D/zeros.qcow2.gz"
fails "a qcow2 stream with 70 MiB of zeros after it" \
	"goes on past byte 68190208, the most there can be" \
	image "$D/zeros.qcow2.gz" tank/zeros
# The cache must be qvm's user's alone: a file another put there must not
# become the image.
mkdir -p "$WORK/opencache" && chmod 1777 "$WORK/opencache"
QVM_CACHE_DIR=$WORK/opencache fails "a cache others can write to" \
	"the cache directory $WORK/opencache (QVM_CACHE_DIR) is writable by its group or by others" \
	image "$D/disk.qcow2.xz" tank/opencache
check "a cache others can write to: nothing written there" \
	eval '[ -z "$(ls -A "$WORK/opencache")" ]'
ln -s "$CACHE" "$WORK/linkcache"
QVM_CACHE_DIR=$WORK/linkcache fails "a cache that is a symbolic link" \
	"the cache directory $WORK/linkcache (QVM_CACHE_DIR) is a symbolic link, not a directory" \
	image "$D/disk.qcow2.xz" tank/linkcache
if [ "$(id -u)" = 0 ] && id nobody >/dev/null 2>&1; then
	mkdir -p "$WORK/theircache" && chown nobody "$WORK/theircache" &&
		chmod 0700 "$WORK/theircache"
	QVM_CACHE_DIR=$WORK/theircache fails "a cache of another user" \
		"the cache directory $WORK/theircache (QVM_CACHE_DIR) belongs to another user" \
		image "$D/disk.qcow2.xz" tank/theircache
fi
QVM_CACHE_DIR=$WORK/newcache imports "$D/disk.qcow2.gz" "$D/disk.raw" \
	"a missing cache directory"
check "a missing cache directory: made, mode 0700" \
	[ "$(stat -c %a "$WORK/newcache")" = 700 ]

# --- checksums: over the file as published, before the snapshot ----------
(cd "$D" && sha256sum disk.raw.xz disk.qcow2.xz > SHA256SUMS &&
	sha512sum disk.tar.xz > SHA512SUMS)
sum=$(sha256sum < "$D/disk.raw.xz" | cut -d' ' -f1)
upper=$(printf '%s' "$sum" | tr a-f A-F)
imports_with() {
	local what=$1
	shift
	n=$((n + 1))
	run_qvm image "$@" "tank/v$n"
	check "$what: exit 0" [ "$RC" -eq 0 ]
	[ "$RC" -eq 0 ] || printf '#   %s\n' "$ERR"
	check "$what: the volume holds the image" \
		cmp -s "$D/disk.raw" "$QVM_ZVOL_DIR/tank/v$n"
}
imports_with "--sha256 (upper case), local .raw.xz" --sha256 "$upper" "$D/disk.raw.xz"
imports_with "--sha256, file:// .raw.xz (hashed on the way)" --sha256 "$sum" "file://$D/disk.raw.xz"
imports_with "--checksums SHA256SUMS, .qcow2.xz" --checksums "$D/SHA256SUMS" "$D/disk.qcow2.xz"
imports_with "--checksums file:// SHA512SUMS, file:// .tar.xz" \
	--checksums "file://$D/SHA512SUMS" "file://$D/disk.tar.xz"
bad=$(printf '%064d' 0)
fails "mismatch, local" "checksum mismatch for disk.raw.xz: expected SHA-256 $bad, got $sum (nothing was kept)" \
	image --sha256 "$bad" "$D/disk.raw.xz" tank/bad
check "mismatch, local: known before any zfs create" \
	eval '! grep -q "tank/bad" "$ZFS_DOUBLE_DIR/log"'
fails "mismatch, file:// URL" "checksum mismatch for disk.raw.xz: expected SHA-256 $bad, got $sum (nothing was kept)" \
	image --sha256 "$bad" "file://$D/disk.raw.xz" tank/bad2
check "mismatch, file:// URL: no snapshot was ever taken" \
	eval '! grep -q "snapshot.tank/bad2" "$ZFS_DOUBLE_DIR/log"'
fails "mismatch, .qcow2.xz from a URL" "checksum mismatch for disk.qcow2.xz" \
	image --sha256 "$bad" "file://$D/disk.qcow2.xz" tank/bad3
fails "no entry in the list" "no entry for disk.raw.gz in $D/SHA256SUMS" \
	image --checksums "$D/SHA256SUMS" "$D/disk.raw.gz" tank/noentry
check "no entry: known before any zfs create" \
	eval '! grep -q "tank/noentry" "$ZFS_DOUBLE_DIR/log"'
run_qvm image --sha256 "$sum" --checksums "$D/SHA256SUMS" "$D/disk.raw.xz" tank/both
check "--sha256 and --checksums together: refused" \
	eval '[ "$RC" -eq 1 ] && contains "$ERR" "--sha256 or --checksums, once"'

run_qvm image --sha256
check "--sha256 without HEX: refused" \
	eval '[ "$RC" -eq 1 ] && contains "$ERR" "qvm image: --sha256 needs an argument"'
run_qvm vm --checksums "$D/SHA256SUMS" x.yaml
check "--checksums is image's only" \
	eval '[ "$RC" -eq 1 ] && contains "$ERR" "qvm vm: unknown option '"'"'--checksums'"'"'"'
fails "--sha256 that is no digest" "abc is not a SHA-256 digest" \
	image --sha256 abc "$D/disk.raw.xz" tank/abc

# --- dry run: the plan, and a script that makes the same volume ----------
before=$(state)
run_qvm -n image "$D/disk.raw.xz" tank/dry
check "dry run: exit 0" [ "$RC" -eq 0 ]
check "dry run: nothing created" [ "$(state)" = "$before" ]
check "dry run: the pipeline into the volume" \
	contains "$OUT" "xz -dc < $D/disk.raw.xz | dd of=$QVM_ZVOL_DIR/tank/dry bs=16384 iflag=fullblock conv=sparse,notrunc status=none"
check "dry run: says the size comes at the end" \
	contains "$OUT" "zfs set volsize=SIZE tank/dry"
printf '%s\n' "$OUT" > "$WORK/import.sh"
check "dry run: the script passes sh -n" sh -n "$WORK/import.sh"
sh -e "$WORK/import.sh" > "$WORK/script.out" 2>&1
check "dry run: the script runs" [ $? -eq 0 ]
check "dry run: the script's volume holds the image" \
	cmp -s -n "$(stat -c %s "$D/disk.raw")" "$D/disk.raw" "$QVM_ZVOL_DIR/tank/dry"
# A URL's checksum: the script checks it as qvm would, on the way.
run_qvm -n image --sha256 "$sum" "file://$D/disk.raw.xz" tank/dryurl
check "dry run, URL with --sha256: exit 0" [ "$RC" -eq 0 ]
check "dry run, URL with --sha256: the script hashes the bytes as published" \
	contains "$OUT" "sha256sum < \"\$d/published\""
printf '%s\n' "$OUT" > "$WORK/import-url.sh"
check "dry run, URL with --sha256: sh -n" sh -n "$WORK/import-url.sh"
sh -e "$WORK/import-url.sh" > "$WORK/script.out" 2>&1
check "dry run, URL with --sha256: the script runs" [ $? -eq 0 ]
check "dry run, URL with --sha256: the script's volume holds the image" \
	cmp -s -n "$(stat -c %s "$D/disk.raw")" "$D/disk.raw" "$QVM_ZVOL_DIR/tank/dryurl"
check "dry run, URL with --sha256: the script made the snapshot" \
	eval "zfs list -H -o name tank/dryurl@base >/dev/null 2>&1"
run_qvm -n image --sha256 "$bad" "file://$D/disk.raw.xz" tank/dryurl2
printf '%s\n' "$OUT" > "$WORK/import-bad.sh"
sh -e "$WORK/import-bad.sh" > "$WORK/script.out" 2>&1
check "dry run, URL with a wrong --sha256: the script stops" [ $? -ne 0 ]
check "dry run, URL with a wrong --sha256: no snapshot" \
	eval "! zfs list -H -o name tank/dryurl2@base >/dev/null 2>&1"
run_qvm -n image "$D/disk.qcow2.xz" tank/dryq
check "dry run, .qcow2.xz: the copy into the cache, then qemu-img" \
	eval 'contains "$OUT" "xz -dc < $D/disk.qcow2.xz > $CACHE/qvm-tank_dryq." &&
		contains "$OUT" "qemu-img convert -n --target-is-zero"'
check "dry run, .qcow2.xz: nothing in the cache" \
	eval '[ -z "$(ls -A "$CACHE" 2>/dev/null)" ]'


# On a terminal, a stream's progress follows the compressed file: its share
# read and the time left, though the image's own size is known at its end
# only.
if command -v script >/dev/null; then
	for src in disk.raw.xz disk.qcow2.gz; do
		n=$((n + 1))
		progress_on_terminal "$src" image "$D/$src" "tank/v$n"
	done
fi

finish
