#!/bin/bash
# make bench: qvm image against dd and qemu-img on a cloud-image-shaped raw
# file, and qvm's own overhead per "qvm vm" (issue 7). Run from the repo
# root after "make qvm". Writes bench/results.md and prints the same.
#
# Environment:
#   QVM_BENCH_CACHE  where the test images live (default /var/cache/qvm-bench;
#                    kept between runs, never in the repo). The targets are
#                    made in a temporary directory under it, so they are on
#                    the same file system as the image.
#   QVM_BENCH_REPS   repetitions of each import method (default 9: on a
#                    shared 2-core host single runs vary 2-4x, and the
#                    qemu-img target is a ratio near 1)
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

die() { echo "bench: $*" >&2; exit 1; }

[ -x "$QVM" ] || die "$QVM not found: run 'make qvm' first"
for t in cc qemu-img dd cat cmp stat sync df; do
	command -v "$t" >/dev/null || die "$t is not installed (make deps)"
done
mkdir -p "$CACHE" 2>/dev/null ||
	die "cannot create $CACHE (run as root, or set QVM_BENCH_CACHE)"
[ -w "$CACHE" ] || die "$CACHE is not writable (set QVM_BENCH_CACHE)"
mkdir -p "$ROOT/bench"

WORK=$(mktemp -d "$CACHE/run.XXXXXX")
cleanup() { rm -rf "$WORK"; }
trap cleanup EXIT
trap 'exit 130' INT TERM
mkdir -p "$WORK/bin" "$WORK/stubs" "$WORK/zvol" "$WORK/seed" "$WORK/tmp" \
	"$WORK/out"

# ---- tools ---------------------------------------------------------------
TOOLFLAGS="-O2 -std=c11 -D_GNU_SOURCE -Wall -Wextra"
cc $TOOLFLAGS -o "$WORK/bin/benchtool" tests/bench/benchtool.c -lm ||
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
# make_image SIZE: the image's path; generated and counted once.
make_image() {
	local size=$1
	local img="$CACHE/cloud-$size-s$SEED-d$DATA_PCT-z$ZERO_PCT-v$GEN_VERSION.raw"

	if [ ! -f "$img" ] || [ ! -s "$img.count" ]; then
		rm -f "$img" "$img.count"
		echo "bench: generating $img (once; cached)" >&2
		"$BT" gen "$img" "$size" "$SEED" "$DATA_PCT" "$ZERO_PCT" >&2
		"$BT" count "$img" > "$img.count.tmp"
		mv "$img.count.tmp" "$img.count"
	fi
	echo "$img"
}
IMG=$(make_image $BIG)
SMALL_IMG=$(make_image $SMALL)
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

# One run of METHOD into a fresh sparse target of the image's size; appends
# "WALL RSS_KIB ALLOC_BYTES" to $WORK/out/METHOD. The target is removed
# (and the removal synced) after measuring, outside the timing.
N_QVM=0
CHECKED=no
run_method() {
	local method=$1 img=$2 target res wall rss st cpu alloc
	local log="$WORK/out/$method.log"

	case $method in
	qvm)
		N_QVM=$((N_QVM + 1))
		# The zfs stub creates the sparse target at "zfs create".
		target="$QVM_ZVOL_DIR/bench/img$N_QVM"
		res=$("$BT" time "$log" "$QVM" image "$img" "bench/img$N_QVM")
		;;
	dd)
		target="$WORK/target.dd"
		truncate -s "$(stat -c %s "$img")" "$target"
		res=$("$BT" time "$log" dd if="$img" of="$target" bs=1M \
			conv=notrunc,fsync)
		;;
	qemu-img)
		target="$WORK/target.qemu-img"
		truncate -s "$(stat -c %s "$img")" "$target"
		res=$("$BT" time "$log" sh -c \
			'qemu-img convert -n -O raw "$1" "$2" && sync' \
			sh "$img" "$target")
		;;
	cat)
		target=
		res=$("$BT" time /dev/null cat "$img")
		;;
	esac
	read -r wall rss st cpu <<< "$res"
	[ "$st" -eq 0 ] || { tail -5 "$log" >&2; die "$method exited $st"; }
	alloc=-
	if [ -n "$target" ]; then
		alloc=$(( $(stat -c %b "$target") * 512 ))
		if [ "$method" = qvm ] && [ "$CHECKED" = no ] &&
		   [ "$img" = "$IMG" ]; then
			cmp "$img" "$target" ||
				die "qvm's target differs from the image"
			CHECKED=yes
		fi
		rm -f "$target"
		sync
	fi
	echo "$wall $rss $alloc $cpu" >> "$WORK/out/$method"
	printf '  %-9s %8.3f s  %6.3f s CPU  %6.1f MiB RSS  %s\n' "$method" \
		"$wall" "$cpu" \
		"$(awk -v k="$rss" 'BEGIN { print k / 1024 }')" \
		"$( [ "$alloc" = - ] && echo - || echo "$(mib "$alloc") MiB allocated")" >&2
}

# ---- part 1: import ------------------------------------------------------
echo "bench: warming the page cache: cat $IMG > /dev/null" >&2
cat "$IMG" > /dev/null
CACHED_BEFORE=$(fincore -n -b -o RES "$IMG" 2>/dev/null | tr -d ' ' || echo "?")

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
METHODS=(cat qvm dd qemu-img)
for ((r = 0; r < REPS; r++)); do
	echo "bench: import, repetition $((r + 1)) of $REPS" >&2
	for ((i = 0; i < ${#METHODS[@]}; i++)); do
		# Rotate the order each repetition: no method always runs
		# right after the same other one.
		run_method "${METHODS[(i + r) % ${#METHODS[@]}]}" "$IMG"
	done
done
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)
CACHED_AFTER=$(fincore -n -b -o RES "$IMG" 2>/dev/null | tr -d ' ' || echo "?")
[ "$CHECKED" = yes ] || die "qvm's target was never compared"

# RSS against image size: the same shape at 1/16 of the size, and qvm's
# start-up alone.
cat "$SMALL_IMG" > /dev/null
for ((r = 0; r < 3; r++)); do
	res=$("$BT" time "$WORK/out/small.log" "$QVM" image "$SMALL_IMG" \
		"bench/small$r")
	read -r wall rss st cpu <<< "$res"
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
for m in "${METHODS[@]}"; do
	declare "T_${m//-/_}=$(median "$WORK/out/$m" 1)"
	declare "R_${m//-/_}=$(median "$WORK/out/$m" 2)"
	declare "A_${m//-/_}=$(median "$WORK/out/$m" 3)"
	declare "C_${m//-/_}=$(median "$WORK/out/$m" 4)"
	awk '{ print $1 }' "$WORK/out/$m" > "$WORK/out/$m.t"
done
R_SMALL=$(median "$WORK/out/small" 2)
R_VERSION=$(median "$WORK/out/version-rss" 2)
ms() { awk -v s="$1" 'BEGIN { printf "%.2f", s * 1000 }'; }
VM_MED=$(median "$WORK/out/vm")
ST_MED=$(median "$WORK/out/stubs")
OWN=$(awk -v a="$VM_MED" -v b="$ST_MED" 'BEGIN { print a - b }')
OWN_PAIRED=$(median "$WORK/out/own")
# The figure judged: the larger of the two estimates of qvm's own share.
OWN_JUDGED=$(awk -v a="$OWN" -v b="$OWN_PAIRED" 'BEGIN { print (a > b ? a : b) }')
# Per repetition, qvm against the method run next to it: less sensitive to
# load that comes and goes than the ratio of medians (which is judged).
paired_ratio() {
	paste -d' ' "$WORK/out/qvm.t" "$WORK/out/$1.t" |
		awk '{ print $1 / $2 }' > "$WORK/out/ratio.$1"
	printf %.3f "$(median "$WORK/out/ratio.$1")"
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a / b }'; }
QVM_DD=$(ratio "$T_qvm" "$T_dd")
QVM_QEMU=$(ratio "$T_qvm" "$T_qemu_img")
QVM_CAT=$(ratio "$T_qvm" "$T_cat")
ALLOC_RATIO=$(ratio "$A_qvm" "$NZ4K")
RSS_MIB=$(awk -v k="$R_qvm" 'BEGIN { printf "%.2f", k / 1024 }')
RSS_SMALL_MIB=$(awk -v k="$R_SMALL" 'BEGIN { printf "%.2f", k / 1024 }')
RSS_VERSION_MIB=$(awk -v k="$R_VERSION" 'BEGIN { printf "%.2f", k / 1024 }')
RSS_MAX_MIB=$(awk -v a="$RSS_MIB" -v b="$RSS_SMALL_MIB" 'BEGIN { print (a > b ? a : b) }')
kib2mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }

# verdict VALUE LIMIT UNIT: PASS with the headroom, or FAIL by how much.
verdict() {
	awk -v v="$1" -v l="$2" -v u="$3" 'BEGIN {
		if (v <= l) printf "PASS (%.0f%% under the limit)", (l - v) / l * 100;
		else printf "**FAIL** by %.3g%s (%.0f%% over the limit)", v - l, u, (v - l) / l * 100 }'
}

CPU=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
MEM=$(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)
FSTYPE=$(df --output=fstype "$CACHE" | tail -1)
QEMU_V=$(qemu-img --version | head -1)
DD_V=$(dd --version | head -1)
CC_V=$(cc --version | head -1)
QVM_V=$("$QVM" --version 2>&1 | head -1)

{
cat <<EOF
# qvm benchmark results

Produced by \`make bench\` (tests/bench/bench.sh) on $(date -u +%Y-%m-%dT%H:%M:%SZ).
Specification: issue 7.

## Machine

- $(nproc) CPUs: $CPU; $MEM RAM; kernel $(uname -r)
- cache and targets on $FSTYPE ($CACHE)
- $QVM_V; $QEMU_V; $DD_V; $CC_V
- stubs (zfs, genisoimage, virt-install, virsh): one $STUB_KIND

## Test image

\`$(basename "$IMG")\`: $BIG bytes apparent ($(mib "$BIG") MiB), made by
\`benchtool gen\` (seed $SEED, reproducible): random data in extents of
64 KiB..8 MiB (log-uniform) at random 4 KiB-aligned offsets, plus 1 MiB at
the start and 32 KiB at the end; explicitly written zero extents (allocated,
not holes); the rest holes.

| | bytes | MiB | of apparent |
|---|---:|---:|---:|
| non-zero data (4 KiB blocks holding a non-zero byte) | $NZ4K | $(mib "$NZ4K") | $(ratio "$((NZ4K * 100))" "$BIG")% |
| same, counted in 16 KiB blocks (the zvols' volblocksize) | $NZ16K | $(mib "$NZ16K") | |
| same, counted in 64 KiB blocks (qvm's zero-detection grain) | $NZ64K | $(mib "$NZ64K") | |
| data extents (SEEK_DATA), i.e. data + written zeros; $EXTENTS extents | $EXT_BYTES | $(mib "$EXT_BYTES") | $(ratio "$((EXT_BYTES * 100))" "$BIG")% |
| allocated on disk (st_blocks x 512) | $IMG_ALLOC | $(mib "$IMG_ALLOC") | |

Page cache: warm. The image was read once with \`cat IMAGE > /dev/null\`
before the first run, so every method reads it from memory (fincore:
${CACHED_BEFORE} bytes resident before the runs, ${CACHED_AFTER} after).
Caches were not dropped. Load average (1, 5, 15 min) before the import
runs: $LOAD_BEFORE; after: $LOAD_AFTER (the host is shared: anything
above 0 is other work competing for the $(nproc) CPUs and the disk).

## Import: $REPS repetitions each, alternating (order rotated every repetition)

Each run writes into a fresh sparse file of the image's size on the same
file system (a stand-in for a new zvol); the allocated bytes are read with
\`stat -c %b\` after the run, then the file is removed and the removal
synced, outside the timing. Wall time, CPU time and peak RSS come from
wait4() (\`benchtool time\`; CPU and RSS include the children a method
waits for: the zfs stub, sync), medians over the repetitions. Every
method's time includes making its data durable: qvm fsync()s the target,
dd has conv=fsync, qemu-img is followed by sync.

| method | wall, median (s) | min-max (s) | CPU user+sys, median (s) | peak RSS, median (MiB) | allocated in target, median (MiB) | allocated / non-zero data |
|---|---:|---:|---:|---:|---:|---:|
| \`qvm image IMG POOL/VOL\` (zfs stub) | $(printf %.3f "$T_qvm") | $(minmax "$WORK/out/qvm.t") | $(printf %.3f "$C_qvm") | $(kib2mib "$R_qvm") | $(mib "$A_qvm") | $ALLOC_RATIO |
| \`dd if=IMG of=TARGET bs=1M conv=notrunc,fsync\` | $(printf %.3f "$T_dd") | $(minmax "$WORK/out/dd.t") | $(printf %.3f "$C_dd") | $(kib2mib "$R_dd") | $(mib "$A_dd") | $(ratio "$A_dd" "$NZ4K") |
| \`qemu-img convert -n -O raw IMG TARGET && sync\` | $(printf %.3f "$T_qemu_img") | $(minmax "$WORK/out/qemu-img.t") | $(printf %.3f "$C_qemu_img") | $(kib2mib "$R_qemu_img") | $(mib "$A_qemu_img") | $(ratio "$A_qemu_img" "$NZ4K") |
| \`cat IMG > /dev/null\` (read floor) | $(printf %.3f "$T_cat") | $(minmax "$WORK/out/cat.t") | $(printf %.3f "$C_cat") | $(kib2mib "$R_cat") | - | - |

Ratios of the medians (judged): qvm/dd = **$QVM_DD**, qvm/qemu-img =
**$QVM_QEMU**, qvm/cat = $QVM_CAT. Medians of the per-repetition ratios
(qvm against the same method in the same repetition; shown, not judged):
qvm/dd = $(paired_ratio dd), qvm/qemu-img = $(paired_ratio qemu-img).

Correctness: the first qvm target was compared with the image (\`cmp\`): identical.

Peak RSS of \`qvm image\` against image size: $RSS_MIB MiB on the
$(mib "$BIG") MiB image, $RSS_SMALL_MIB MiB on a $(mib "$SMALL") MiB image of the
same shape (median of 3); \`qvm --version\` alone (process start-up, libc and
libyaml mapped): $RSS_VERSION_MIB MiB.

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
counts as qvm's. The total with the stubs is shown too, and is over 5 ms
whenever the bare exec of $N_STUB_CALLS programs is near it.

## Targets (issue 7)

| target | measured | result |
|---|---:|---|
| time(qvm) <= 0.5 x time(dd) | $QVM_DD x | $(verdict "$QVM_DD" 0.5 x) |
| time(qvm) <= 1.0 x time(qemu-img) | $QVM_QEMU x | $(verdict "$QVM_QEMU" 1.0 x) |
| peak RSS of qvm image <= 8 MiB (larger of the two image sizes) | $RSS_MAX_MIB MiB | $(verdict "$RSS_MAX_MIB" 8 " MiB") |
| allocated <= 1.05 x non-zero data | $ALLOC_RATIO x | $(verdict "$ALLOC_RATIO" 1.05 x) |
| qvm's own overhead per qvm vm <= 5 ms (total - stubs) | $(ms "$OWN_JUDGED") ms | $(verdict "$(ms "$OWN_JUDGED")" 5 " ms") |
| (not a target: qvm vm total incl. stubs, against 5 ms) | $(ms "$VM_MED") ms | $(awk -v v="$(ms "$VM_MED")" 'BEGIN { if (v <= 5) print "within 5 ms"; else printf "%.2f ms over 5 ms (the stubs alone take %s ms)", v - 5, "'"$(ms "$ST_MED")"'" }') |
EOF
} > "$RESULTS.tmp"
mv "$RESULTS.tmp" "$RESULTS"
cat "$RESULTS"
echo "bench: written to bench/results.md" >&2
