#!/bin/bash
# make bench: qvm image against dd, qemu-img and the read floor on
# cloud-image-shaped raw files, with a warm and with a cold page cache
# (issues 7 and 16), and qvm's own overhead per "qvm vm" (issue 7). Run as
# root (the cold runs drop the page cache) from the repo root after
# "make qvm". Writes bench/results.md and prints the same.
#
# Environment:
#   QVM_BENCH_CACHE  where the test images live (default /var/cache/qvm-bench;
#                    kept between runs, never in the repo). The targets are
#                    made in a temporary directory under it, so they are on
#                    the same file system as the image.
#   QVM_BENCH_REPS   repetitions of each import method in each cache state
#                    (default 9, at least 7: on a shared 2-core host single
#                    runs vary 2-4x, and the targets are ratios near 1)
#   QVM_BENCH_VM_RUNS  provisionings timed for qvm vm (default 200)
#   QVM              the qvm binary (default ./qvm)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
QVM=${QVM:-$ROOT/qvm}
CACHE=${QVM_BENCH_CACHE:-/var/cache/qvm-bench}
REPS=${QVM_BENCH_REPS:-9}
VM_RUNS=${QVM_BENCH_VM_RUNS:-200}
RESULTS=$ROOT/bench/results.md

# The test image: 4 GiB apparent, ~15 % random data in extents of 64 KiB to
# 8 MiB (log-uniform) at random 4 KiB-aligned offsets, ~5 % zeros written
# explicitly, the rest holes. The name holds every parameter: change one
# and a new image is made. GEN_VERSION changes with the generator.
GEN_VERSION=1
SEED=20240607
DATA_PCT=15
ZERO_PCT=5
BIG=$((4 * 1024 * 1024 * 1024))
SMALL=$((256 * 1024 * 1024))	# the same shape, for RSS against size
# The larger image (issue 16): 8 GiB apparent, ~1.5 GiB of data.
HUGE=$((8 * 1024 * 1024 * 1024))
HUGE_DATA_PCT=19

die() { echo "bench: $*" >&2; exit 1; }

[ -x "$QVM" ] || die "$QVM not found: run 'make qvm' first"
for t in cc qemu-img dd cat cmp stat sync df fincore; do
	command -v "$t" >/dev/null || die "$t is not installed (make deps)"
done
mkdir -p "$CACHE" 2>/dev/null ||
	die "cannot create $CACHE (run as root, or set QVM_BENCH_CACHE)"
[ -w "$CACHE" ] || die "$CACHE is not writable (set QVM_BENCH_CACHE)"
[ -w /proc/sys/vm/drop_caches ] ||
	die "cannot drop the page cache (/proc/sys/vm/drop_caches): run as root"
[ "$REPS" -ge 7 ] || die "QVM_BENCH_REPS must be at least 7"
mkdir -p "$ROOT/bench"

WORK=$(mktemp -d "$CACHE/run.XXXXXX")
# Targets in memory (tmpfs) for the "cold, target in RAM" state: the
# image is read from the device while the writes go elsewhere, as on a
# host whose pool is not the disk the image is on.
RAMDIR=$(mktemp -d /dev/shm/qvm-bench.XXXXXX)
mkdir -p "$RAMDIR/zvol"
cleanup() { rm -rf "$WORK" "$RAMDIR"; }
trap cleanup EXIT
trap 'exit 130' INT TERM
mkdir -p "$WORK/bin" "$WORK/stubs" "$WORK/zvol" "$WORK/seed" "$WORK/tmp" \
	"$WORK/out"

# ---- tools ---------------------------------------------------------------
TOOLFLAGS="-O2 -std=c11 -D_GNU_SOURCE -Wall -Wextra"
cc $TOOLFLAGS -Isrc -o "$WORK/bin/benchtool" tests/bench/benchtool.c -lm ||
	die "cannot build tests/bench/benchtool.c"
if cc $TOOLFLAGS -static -o "$WORK/stub" tests/bench/stub.c 2>/dev/null; then
	STUB_KIND="static C binary"
else
	cc $TOOLFLAGS -o "$WORK/stub" tests/bench/stub.c ||
		die "cannot build tests/bench/stub.c"
	STUB_KIND="dynamically linked C binary (no libc.a for -static)"
fi
for name in zfs genisoimage virt-install virsh; do
	ln "$WORK/stub" "$WORK/stubs/$name"
done
BT=$WORK/bin/benchtool

# Everything below runs with the stubs first in PATH, so qvm never reaches
# a real zfs, genisoimage, virt-install or virsh.
export PATH="$WORK/stubs:$PATH"
export QVM_ZVOL_DIR="$WORK/zvol"
export QVM_SEED_DIR="$WORK/seed"
export QVM_DEVICE_TIMEOUT=5
export TMPDIR="$WORK/tmp"
unset QVM_BENCH_STUB_LOG

# ---- the images (cached) -------------------------------------------------
# make_image SIZE [DATA_PCT]: the image's path; generated and counted once.
make_image() {
	local size=$1 pct=${2:-$DATA_PCT}
	local img="$CACHE/cloud-$size-s$SEED-d$pct-z$ZERO_PCT-v$GEN_VERSION.raw"

	if [ ! -f "$img" ] || [ ! -s "$img.count" ]; then
		rm -f "$img" "$img.count"
		echo "bench: generating $img (once; cached)" >&2
		"$BT" gen "$img" "$size" "$SEED" "$pct" "$ZERO_PCT" >&2
		"$BT" count "$img" > "$img.count.tmp"
		mv "$img.count.tmp" "$img.count"
	fi
	echo "$img"
}
IMG=$(make_image $BIG)
SMALL_IMG=$(make_image $SMALL)
HUGE_IMG=$(make_image $HUGE $HUGE_DATA_PCT)
read -r NZ4K NZ16K NZ64K EXT_BYTES EXTENTS < "$IMG.count"
IMG_ALLOC=$(( $(stat -c %b "$IMG") * 512 ))
[ "$(stat -c %s "$IMG")" -eq "$BIG" ] || die "$IMG has the wrong size"

# ---- helpers -------------------------------------------------------------
mib() { awk -v b="$1" 'BEGIN { printf "%.1f", b / 1048576 }'; }
# median FILE [COLUMN]: the median of a column of numbers.
median() {
	awk -v c="${2:-1}" '{ print $c }' "$1" | sort -g |
		awk '{ a[NR] = $1 } END {
			if (NR % 2) print a[(NR + 1) / 2];
			else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}
# pct FILE P: the P-th percentile (nearest rank) of column 1.
pct() {
	sort -g "$1" | awk -v p="$2" '{ a[NR] = $1 } END {
		i = int(p / 100 * NR + 0.999999); if (i < 1) i = 1; print a[i] }'
}
minmax() { sort -g "$1" | awk '{ a[NR] = $1 } END {
	printf "%.2f-%.2f", a[1], a[NR] }'; }

# One run of METHOD on IMG with the page cache in STATE (warm: left as it
# is; cold: everything written is synced and the page cache dropped just
# before, untimed; coldram: the same, and the target is in memory, on
# tmpfs, not on the image's device) into a fresh sparse target of the
# image's size; appends
# "WALL RSS_KIB ALLOC_BYTES CPU_S IN_BYTES OUT_BYTES" to
# $WORK/out/TAG.STATE.METHOD. The target is removed (and the removal
# synced) after measuring, outside the timing. The first qvm target of each
# image and state is compared with the image.
N_QVM=0
run_method() {
	local method=$1 img=$2 tag=$3 state=$4 target res wall rss st cpu
	local in out alloc tdir=$WORK zdir=$QVM_ZVOL_DIR
	local log="$WORK/out/$method.log"

	if [ "$state" = coldram ]; then
		tdir=$RAMDIR
		zdir=$RAMDIR/zvol
	fi
	if [ "$state" != warm ]; then
		sync
		echo 1 > /proc/sys/vm/drop_caches
	fi
	case $method in
	qvm)
		N_QVM=$((N_QVM + 1))
		# The zfs stub creates the sparse target at "zfs create".
		target="$zdir/bench/img$N_QVM"
		res=$(QVM_ZVOL_DIR=$zdir "$BT" time "$log" "$QVM" image "$img" \
			"bench/img$N_QVM")
		;;
	dd)
		target="$WORK/target.dd"
		truncate -s "$(stat -c %s "$img")" "$target"
		res=$("$BT" time "$log" dd if="$img" of="$target" bs=1M \
			conv=notrunc,fsync)
		;;
	qemu-img)
		target="$tdir/target.qemu-img"
		truncate -s "$(stat -c %s "$img")" "$target"
		res=$("$BT" time "$log" sh -c \
			'qemu-img convert -n -f raw -O raw "$1" "$2" && sync' \
			sh "$img" "$target")
		;;
	cat)
		target=
		res=$("$BT" time /dev/null cat "$img")
		;;
	floor)
		target=
		res=$("$BT" time "$log" "$BT" floor "$img")
		;;
	esac
	read -r wall rss st cpu in out <<< "$res"
	[ "$st" -eq 0 ] || { tail -5 "$log" >&2; die "$method exited $st"; }
	alloc=-
	if [ -n "$target" ]; then
		alloc=$(( $(stat -c %b "$target") * 512 ))
		if [ "$method" = qvm ] && [ ! -e "$WORK/out/$tag.$state.cmp" ]; then
			cmp "$img" "$target" ||
				die "qvm's target differs from the image"
			echo identical > "$WORK/out/$tag.$state.cmp"
		fi
		rm -f "$target"
		sync
	fi
	echo "$wall $rss $alloc $cpu $in $out" >> "$WORK/out/$tag.$state.$method"
	printf '  %-5s %-9s %8.3f s  %6.3f s CPU  %6.1f MiB RSS  %8.1f MiB read  %s\n' \
		"$state" "$method" "$wall" "$cpu" \
		"$(awk -v k="$rss" 'BEGIN { print k / 1024 }')" "$(mib "$in")" \
		"$( [ "$alloc" = - ] && echo - || echo "$(mib "$alloc") MiB allocated")" >&2
}

# rounds TAG IMG STATE METHOD...: $REPS repetitions of each method,
# alternating, the order rotated every repetition so that no method always
# runs right after the same other one.
rounds() {
	local tag=$1 img=$2 state=$3
	shift 3
	local methods=("$@") r i
	local n=${#methods[@]}

	if [ "$state" = warm ]; then
		echo "bench: warming the page cache: cat $img > /dev/null" >&2
		cat "$img" > /dev/null
		fincore -n -b -o RES "$img" | tr -d ' ' > "$WORK/out/$tag.cached-before"
	fi
	echo "$(cut -d' ' -f1-3 /proc/loadavg)" > "$WORK/out/$tag.$state.load-before"
	for ((r = 0; r < REPS; r++)); do
		echo "bench: $tag, $state cache, repetition $((r + 1)) of $REPS" >&2
		for ((i = 0; i < n; i++)); do
			run_method "${methods[(i + r) % n]}" "$img" "$tag" "$state"
		done
	done
	echo "$(cut -d' ' -f1-3 /proc/loadavg)" > "$WORK/out/$tag.$state.load-after"
	if [ "$state" = warm ]; then
		fincore -n -b -o RES "$img" | tr -d ' ' > "$WORK/out/$tag.cached-after"
	fi
	[ -e "$WORK/out/$tag.$state.cmp" ] || die "qvm's $tag target was never compared"
}

# ---- part 1: import ------------------------------------------------------
# The 4 GiB image warm (issue 7: against dd and qemu-img, cat as the floor)
# and cold (issue 16: against qemu-img and the read floor); the 8 GiB image
# in both states, for the trend with size. Warm rounds first: the cold
# ones empty the cache.
rounds img4 "$IMG" warm cat qvm dd qemu-img floor
rounds img4 "$IMG" cold qvm qemu-img floor
rounds img4 "$IMG" coldram qvm qemu-img floor
rounds img8 "$HUGE_IMG" warm qvm qemu-img floor
rounds img8 "$HUGE_IMG" cold qvm qemu-img floor
rounds img8 "$HUGE_IMG" coldram qvm qemu-img floor

# RSS against image size: the same shape at 1/16 of the size, and qvm's
# start-up alone.
cat "$SMALL_IMG" > /dev/null
for ((r = 0; r < 3; r++)); do
	res=$("$BT" time "$WORK/out/small.log" "$QVM" image "$SMALL_IMG" \
		"bench/small$r")
	read -r wall rss st cpu _ <<< "$res"
	[ "$st" -eq 0 ] || die "qvm image of the small image exited $st"
	rm -f "$QVM_ZVOL_DIR/bench/small$r"
	echo "$wall $rss" >> "$WORK/out/small"
	res=$("$BT" time /dev/null "$QVM" --version)
	echo "$res" >> "$WORK/out/version-rss"
done

# ---- part 2: qvm vm ------------------------------------------------------
VMFILE=$ROOT/tests/bench/bench.qvm.yaml
VMNAME=benchvm
"$QVM" check "$VMFILE" > /dev/null || die "$VMFILE is not valid"
# Once, untimed: record what qvm runs, and check it all went through.
QVM_BENCH_STUB_LOG="$WORK/cmds" "$QVM" vm "$VMFILE" > "$WORK/out/vm.log" 2>&1 ||
	{ cat "$WORK/out/vm.log" >&2; die "qvm vm failed against the stubs"; }
[ -f "$QVM_SEED_DIR/$VMNAME/seed.iso" ] || die "no seed ISO after qvm vm"
N_STUB_CALLS=$(wc -l < "$WORK/cmds")
STUB_CALLS=$(awk -F'\t' '{ print $1 " " $2 }' "$WORK/cmds" |
	sed 's/ -.*//; s/ \/.*//' | sort | uniq -c |
	awk '{ n = $1; $1 = ""; printf "%s%s x%d", sep, substr($0, 2), n; sep = ", " }')

echo "bench: qvm vm and its $N_STUB_CALLS stub calls alone, interleaved," \
	"$VM_RUNS times each (+20 untimed warm-up)" >&2
"$BT" vm 20 "$QVM_SEED_DIR/$VMNAME" "$WORK/out/vm.log" "$WORK/cmds" \
	"$WORK/out/warm" "$QVM" vm "$VMFILE"
"$BT" vm "$VM_RUNS" "$QVM_SEED_DIR/$VMNAME" "$WORK/out/vm.log" "$WORK/cmds" \
	"$WORK/out/vmpairs" "$QVM" vm "$VMFILE"
awk '{ print $1 }' "$WORK/out/vmpairs" > "$WORK/out/vm"
awk '{ print $2 }' "$WORK/out/vmpairs" > "$WORK/out/stubs"
awk '{ print $1 - $2 }' "$WORK/out/vmpairs" > "$WORK/out/own"
echo "bench: qvm start-up and qvm check, $VM_RUNS times each" >&2
"$BT" loop "$VM_RUNS" "$WORK/none" /dev/null "$WORK/out/version" \
	"$QVM" --version
"$BT" loop "$VM_RUNS" "$WORK/none" /dev/null "$WORK/out/check" \
	"$QVM" check "$VMFILE"

# ---- figures -------------------------------------------------------------
# med TAG STATE METHOD COLUMN: the median of a column of one series.
med() { median "$WORK/out/$1.$2.$3" "$4"; }
# spread TAG STATE METHOD: "min-max" of its wall times.
spread() {
	awk '{ print $1 }' "$WORK/out/$1.$2.$3" > "$WORK/out/t"
	minmax "$WORK/out/t"
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a / b }'; }
# tratio TAG STATE M1 M2: median wall of M1 / median wall of M2.
tratio() { ratio "$(med "$1" "$2" "$3" 1)" "$(med "$1" "$2" "$4" 1)"; }
# pratio TAG STATE M1 M2: the median of the per-repetition ratios M1/M2
# (each run against the one next to it: less sensitive to load that comes
# and goes; shown, not judged) and their min-max.
pratio() {
	paste -d' ' "$WORK/out/$1.$2.$3" "$WORK/out/$1.$2.$4" |
		awk '{ print $1 / $7 }' > "$WORK/out/pr"
	printf '%.3f (%s)' "$(median "$WORK/out/pr")" "$(minmax "$WORK/out/pr")"
}
kib2mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
ms() { awk -v s="$1" 'BEGIN { printf "%.2f", s * 1000 }'; }

# One table row per method: wall (median, min-max), CPU, RSS, MiB read
# from the device, MiB written, allocated in the target.
row() {
	local tag=$1 state=$2 method=$3 label=$4 nz=$5 a
	a=$(med "$tag" "$state" "$method" 3)
	printf '| %s | %.3f | %s | %.3f | %s | %s | %s | %s | %s |\n' "$label" \
		"$(med "$tag" "$state" "$method" 1)" "$(spread "$tag" "$state" "$method")" \
		"$(med "$tag" "$state" "$method" 4)" \
		"$(kib2mib "$(med "$tag" "$state" "$method" 2)")" \
		"$(mib "$(med "$tag" "$state" "$method" 5)")" \
		"$(mib "$(med "$tag" "$state" "$method" 6)")" \
		"$( [ "$a" = - ] && echo - || mib "$a")" \
		"$( [ "$a" = - ] && echo - || ratio "$a" "$nz")"
}
HDR='| method | wall, median (s) | min-max (s) | CPU, median (s) | peak RSS (MiB) | read from device (MiB) | written (MiB) | allocated in target (MiB) | allocated / non-zero data |
|---|---:|---:|---:|---:|---:|---:|---:|---:|'
L_QVM='`qvm image IMG POOL/VOL` (zfs stub)'
L_DD='`dd if=IMG of=TARGET bs=1M conv=notrunc,fsync`'
L_QEMU='`qemu-img convert -n -f raw -O raw IMG TARGET && sync`'
L_CAT='`cat IMG > /dev/null`'
L_FLOOR='`benchtool floor IMG` (read floor: the data extents, read as qvm reads them)'

read -r NZ8 _ _ EXT8 EXTENTS8 < "$HUGE_IMG.count"
R_SMALL=$(median "$WORK/out/small" 2)
R_VERSION=$(median "$WORK/out/version-rss" 2)
RSS_MAX_KIB=$(cat "$WORK"/out/img*.*.qvm "$WORK/out/small" | awk '{ print $2 }' |
	sort -g | tail -1)
RSS_MAX_MIB=$(kib2mib "$RSS_MAX_KIB")
RSS_VERSION_MIB=$(kib2mib "$R_VERSION")
VM_MED=$(median "$WORK/out/vm")
ST_MED=$(median "$WORK/out/stubs")
OWN=$(awk -v a="$VM_MED" -v b="$ST_MED" 'BEGIN { print a - b }')
OWN_PAIRED=$(median "$WORK/out/own")
# The figure judged: the larger of the two estimates of qvm's own share.
OWN_JUDGED=$(awk -v a="$OWN" -v b="$OWN_PAIRED" 'BEGIN { print (a > b ? a : b) }')

QVM_DD=$(tratio img4 warm qvm dd)
QVM_QEMU=$(tratio img4 warm qvm qemu-img)
QVM_CAT=$(tratio img4 warm qvm cat)
COLD_QEMU=$(tratio img4 cold qvm qemu-img)
COLD_FLOOR=$(tratio img4 cold qvm floor)
COLD8_QEMU=$(tratio img8 cold qvm qemu-img)
COLD8_FLOOR=$(tratio img8 cold qvm floor)
RAM_QEMU=$(tratio img4 coldram qvm qemu-img)
RAM_FLOOR=$(tratio img4 coldram qvm floor)
RAM8_QEMU=$(tratio img8 coldram qvm qemu-img)
RAM8_FLOOR=$(tratio img8 coldram qvm floor)
WARM8_QEMU=$(tratio img8 warm qvm qemu-img)
ALLOC_RATIO=$(ratio "$(med img4 cold qvm 3)" "$NZ4K")
ALLOC8_RATIO=$(ratio "$(med img8 cold qvm 3)" "$NZ8")
ALLOC_MAX=$(awk -v a="$ALLOC_RATIO" -v b="$ALLOC8_RATIO" 'BEGIN { print (a > b ? a : b) }')

# verdict VALUE LIMIT UNIT: PASS with the headroom, or FAIL by how much.
verdict() {
	awk -v v="$1" -v l="$2" -v u="$3" 'BEGIN {
		if (v <= l) printf "PASS (%.0f%% under the limit)", (l - v) / l * 100;
		else printf "**FAIL** by %.3g%s (%.0f%% over the limit)", v - l, u, (v - l) / l * 100 }'
}

CPU=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
MEM=$(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)
FSTYPE=$(df --output=fstype "$CACHE" | tail -1)
DEV=$(df --output=source "$CACHE" | tail -1)
QEMU_V=$(qemu-img --version | head -1)
DD_V=$(dd --version | head -1)
CC_V=$(cc --version | head -1)
QVM_V=$("$QVM" --version 2>&1 | head -1)
load() { printf '%s before, %s after' "$(cat "$WORK/out/$1.$2.load-before")" \
	"$(cat "$WORK/out/$1.$2.load-after")"; }

{
cat <<EOF2
# qvm benchmark results

Produced by \`make bench\` (tests/bench/bench.sh) on $(date -u +%Y-%m-%dT%H:%M:%SZ).
Specification: issues 7 and 16.

## Machine

- $(nproc) CPUs: $CPU; $MEM RAM; kernel $(uname -r)
- images, cache and targets on $FSTYPE ($CACHE, device $DEV)
- $QVM_V; $QEMU_V; $DD_V; $CC_V
- stubs (zfs, genisoimage, virt-install, virsh): one $STUB_KIND
- qvm's copy: a reader thread and the writing thread, $(awk -v b="$(grep -o 'COPY_BUFS [0-9]*' src/copy.h | awk '{print $2}')" 'BEGIN{print b}') buffers of
  $(grep -o 'COPY_BUF_SIZE ([0-9]*u' src/copy.h | tr -dc 0-9) MiB, $(grep -o 'COPY_READ_AHEAD ([0-9]*u' src/copy.h | tr -dc 0-9) MiB of data requested ahead (src/copy.h)

## Test images

Made by \`benchtool gen\` (seed $SEED, reproducible): random data in extents
of 64 KiB..8 MiB (log-uniform) at random 4 KiB-aligned offsets, plus 1 MiB
at the start and 32 KiB at the end; explicitly written zero extents
(allocated, not holes, $ZERO_PCT% of the blocks); the rest holes.

| image | apparent (MiB) | non-zero data, 4 KiB blocks (MiB) | in 16 KiB blocks (MiB) | data extents (MiB; count) |
|---|---:|---:|---:|---:|
| img4: \`$(basename "$IMG")\` | $(mib "$BIG") | $(mib "$NZ4K") ($(ratio "$((NZ4K * 100))" "$BIG")%) | $(mib "$NZ16K") | $(mib "$EXT_BYTES"); $EXTENTS |
| img8: \`$(basename "$HUGE_IMG")\` | $(mib "$HUGE") | $(mib "$NZ8") ($(ratio "$((NZ8 * 100))" "$HUGE")%) | | $(mib "$EXT8"); $EXTENTS8 |

## Method

$REPS repetitions of each method per image and cache state, alternating,
the order rotated every repetition. Each import writes into a fresh sparse
file of the image's size on the same file system (a stand-in for a new
zvol); the allocated bytes are read with \`stat -c %b\` after the run, then
the file is removed and the removal synced, outside the timing. Every
method's time includes making its data durable: qvm fsync()s the target,
dd has conv=fsync, qemu-img is followed by sync. Wall time, CPU time, peak
RSS and block I/O come from wait4() (\`benchtool time\`; they include the
children a method waits for: the zfs stub, sync); "read from device" is
ru_inblock (what did not come from the page cache), "written" ru_oublock.

- **warm**: the image was read once with \`cat\` before the runs and stays
  in the page cache (img4, fincore: $(cat "$WORK/out/img4.cached-before") bytes
  resident before, $(cat "$WORK/out/img4.cached-after") after).
- **cold**: before every run, of every method: \`sync; echo 1 >
  /proc/sys/vm/drop_caches\` (untimed), so each reads the image from the
  device.

The read floor (\`benchtool floor\`) reads just the image's data extents
once, with qvm's buffer size and read-ahead window, and writes nothing: no
import can be faster than it on the same device.

## img4 ($(mib "$BIG") MiB apparent, $(mib "$NZ4K") MiB data), warm cache

Load average (1, 5, 15 min): $(load img4 warm).

$HDR
$(row img4 warm qvm "$L_QVM" "$NZ4K")
$(row img4 warm dd "$L_DD" "$NZ4K")
$(row img4 warm qemu-img "$L_QEMU" "$NZ4K")
$(row img4 warm cat "$L_CAT" "$NZ4K")
$(row img4 warm floor "$L_FLOOR" "$NZ4K")

Ratios of the medians (judged): qvm/dd = **$QVM_DD**, qvm/qemu-img =
**$QVM_QEMU**, qvm/cat = $QVM_CAT. Per repetition (shown, not judged):
qvm/dd = $(pratio img4 warm qvm dd), qvm/qemu-img = $(pratio img4 warm qvm qemu-img).

## img4, cold cache

Load average: $(load img4 cold).

$HDR
$(row img4 cold qvm "$L_QVM" "$NZ4K")
$(row img4 cold qemu-img "$L_QEMU" "$NZ4K")
$(row img4 cold floor "$L_FLOOR" "$NZ4K")

Ratios of the medians (judged): qvm/qemu-img = **$COLD_QEMU**, qvm/floor =
**$COLD_FLOOR**. Per repetition: qvm/qemu-img = $(pratio img4 cold qvm qemu-img),
qvm/floor = $(pratio img4 cold qvm floor).

## img4, cold cache, target in RAM

The same, but every target (qvm's stand-in zvol, qemu-img's file) is on
tmpfs ($RAMDIR), so the writes do not share the device the image is read
from: on this machine the image, the targets and everything else are on
one virtual disk, where writing the data costs about as much device time
as reading it (the warm rows above are nearly all write). A host whose
pool is not on the disk that holds the image is closer to this row.
Load average: $(load img4 coldram).

$HDR
$(row img4 coldram qvm "$L_QVM" "$NZ4K")
$(row img4 coldram qemu-img "$L_QEMU" "$NZ4K")
$(row img4 coldram floor "$L_FLOOR" "$NZ4K")

Ratios of the medians (judged): qvm/qemu-img = **$RAM_QEMU**, qvm/floor =
**$RAM_FLOOR**. Per repetition: qvm/qemu-img = $(pratio img4 coldram qvm qemu-img),
qvm/floor = $(pratio img4 coldram qvm floor).

## img8 ($(mib "$HUGE") MiB apparent, $(mib "$NZ8") MiB data), warm and cold

Load average: warm $(load img8 warm); cold $(load img8 cold).

$HDR
$(row img8 warm qvm "warm: $L_QVM" "$NZ8")
$(row img8 warm qemu-img "warm: $L_QEMU" "$NZ8")
$(row img8 warm floor "warm: $L_FLOOR" "$NZ8")
$(row img8 cold qvm "cold: $L_QVM" "$NZ8")
$(row img8 cold qemu-img "cold: $L_QEMU" "$NZ8")
$(row img8 cold floor "cold: $L_FLOOR" "$NZ8")
$(row img8 coldram qvm "cold, target in RAM: $L_QVM" "$NZ8")
$(row img8 coldram qemu-img "cold, target in RAM: $L_QEMU" "$NZ8")
$(row img8 coldram floor "cold, target in RAM: $L_FLOOR" "$NZ8")

Ratios of the medians: warm qvm/qemu-img = **$WARM8_QEMU**; cold
qvm/qemu-img = **$COLD8_QEMU**, qvm/floor = **$COLD8_FLOOR**. Per repetition:
cold qvm/qemu-img = $(pratio img8 cold qvm qemu-img), qvm/floor = $(pratio img8 cold qvm floor).
Cold, target in RAM: qvm/qemu-img = **$RAM8_QEMU**, qvm/floor = **$RAM8_FLOOR**.

Correctness: the first qvm target of each image and cache state was
compared with the image (\`cmp\`): identical.

Peak RSS of \`qvm image\`: at most $RSS_MAX_MIB MiB over every run above and
3 runs on a $(mib "$SMALL") MiB image of the same shape
($(kib2mib "$R_SMALL") MiB there); \`qvm --version\` alone (process start-up,
libc and libyaml mapped): $RSS_VERSION_MIB MiB.
EOF2

cat <<EOF2

## qvm vm: overhead per provisioning ($VM_RUNS runs, after 20 untimed)

Every external command is an instant stub. One provisioning of
\`tests/bench/bench.qvm.yaml\` makes $N_STUB_CALLS calls ($STUB_CALLS); the seed
directory is removed between runs, untimed. "Stubs alone" replays those
same $N_STUB_CALLS recorded command lines with posix_spawnp() (stdout and
stderr on /dev/null, no pipes), without qvm. The two alternate, one of
each per iteration (which goes first alternates too), $VM_RUNS iterations.

| measurement | median (ms) | p10 (ms) | p90 (ms) |
|---|---:|---:|---:|
| \`qvm vm FILE\`, stubs included (total) | $(ms "$VM_MED") | $(ms "$(pct "$WORK/out/vm" 10)") | $(ms "$(pct "$WORK/out/vm" 90)") |
| the $N_STUB_CALLS stub calls alone | $(ms "$ST_MED") | $(ms "$(pct "$WORK/out/stubs" 10)") | $(ms "$(pct "$WORK/out/stubs" 90)") |
| qvm's own = total - stubs: difference of the medians | $(ms "$OWN") | | |
| qvm's own = total - stubs: median of the per-iteration differences | $(ms "$OWN_PAIRED") | $(ms "$(pct "$WORK/out/own" 10)") | $(ms "$(pct "$WORK/out/own" 90)") |
| for scale: \`qvm --version\` (start-up) | $(ms "$(median "$WORK/out/version")") | $(ms "$(pct "$WORK/out/version" 10)") | $(ms "$(pct "$WORK/out/version" 90)") |
| for scale: \`qvm check FILE\` (start-up, parse, validate) | $(ms "$(median "$WORK/out/check")") | $(ms "$(pct "$WORK/out/check" 10)") | $(ms "$(pct "$WORK/out/check" 90)") |

The 5 ms target is judged on qvm's own share, total - stubs (the larger of
the two estimates above): on a real host the stubs' place is taken by zfs,
genisoimage and virt-install, whose cost is not qvm's. The stubs-alone
figure has no pipes to read, so piping and reading the children's output
counts as qvm's.

## Targets

| target | measured | result |
|---|---:|---|
| issue 7: warm, time(qvm) <= 0.5 x time(dd) (img4) | $QVM_DD x | $(verdict "$QVM_DD" 0.5 x) |
| issue 16: warm, time(qvm) <= 0.5 x time(qemu-img) (img4) | $QVM_QEMU x | $(verdict "$QVM_QEMU" 0.5 x) |
| issue 16: cold, time(qvm) <= 0.8 x time(qemu-img) (img4) | $COLD_QEMU x | $(verdict "$COLD_QEMU" 0.8 x) |
| issue 16: cold, time(qvm) <= 1.15 x read floor (img4) | $COLD_FLOOR x | $(verdict "$COLD_FLOOR" 1.15 x) |
| issue 16: cold, time(qvm) <= 0.8 x time(qemu-img) (img8) | $COLD8_QEMU x | $(verdict "$COLD8_QEMU" 0.8 x) |
| issue 16: cold, time(qvm) <= 1.15 x read floor (img8) | $COLD8_FLOOR x | $(verdict "$COLD8_FLOOR" 1.15 x) |
| issue 16: cold, target in RAM, time(qvm) <= 0.8 x time(qemu-img) (img4) | $RAM_QEMU x | $(verdict "$RAM_QEMU" 0.8 x) |
| issue 16: cold, target in RAM, time(qvm) <= 1.15 x read floor (img4) | $RAM_FLOOR x | $(verdict "$RAM_FLOOR" 1.15 x) |
| issue 16: cold, target in RAM, time(qvm) <= 0.8 x time(qemu-img) (img8) | $RAM8_QEMU x | $(verdict "$RAM8_QEMU" 0.8 x) |
| issue 16: cold, target in RAM, time(qvm) <= 1.15 x read floor (img8) | $RAM8_FLOOR x | $(verdict "$RAM8_FLOOR" 1.15 x) |
| peak RSS of qvm image <= 8 MiB (every run) | $RSS_MAX_MIB MiB | $(verdict "$RSS_MAX_MIB" 8 " MiB") |
| allocated <= 1.02 x non-zero data (larger of img4, img8) | $ALLOC_MAX x | $(verdict "$ALLOC_MAX" 1.02 x) |
| issue 7: qvm's own overhead per qvm vm <= 5 ms (total - stubs) | $(ms "$OWN_JUDGED") ms | $(verdict "$(ms "$OWN_JUDGED")" 5 " ms") |
EOF2
} > "$RESULTS.tmp"
mv "$RESULTS.tmp" "$RESULTS"
cat "$RESULTS"
QVM=$QVM QVM_BENCH_CACHE=$CACHE bash tests/bench/ssh.sh | tee -a "$RESULTS"
echo "bench: written to bench/results.md" >&2
