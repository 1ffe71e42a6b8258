#!/bin/bash
# make fuzz: coverage-guided fuzzing of the qvm-file reader, the argv
# builder and the seed's YAML writer (tests/fuzz/fuzz_qvmfile.c, rules in
# tests/fuzz/oracle.h) with clang's libFuzzer, for $FUZZ_SECONDS (60).
#
# Installs nothing. Needs clang and the libFuzzer runtime
# (Debian 12: apt-get install clang libclang-rt-14-dev).
#
# Builds into build/fuzz/, first replays every file under fixtures/ (so a
# fixture that once crashed stays fixed), seeds build/fuzz/corpus from
# fixtures/ (the corpus is kept between runs), fuzzes, and prints the
# number of inputs executed. Exits non-zero on a crash, a broken rule, or
# a fixture that still breaks one; a new input is left in
# build/fuzz/artifacts/: make it a fixture under fixtures/fuzz/ (with a
# comment saying what it found), which tests/test_hostile.c replays in
# make check.
set -u
cd "$(dirname "$0")/../.."
FUZZ_SECONDS=${FUZZ_SECONDS:-60}
CLANG=${CLANG:-clang}
OUT=build/fuzz

command -v "$CLANG" >/dev/null 2>&1 ||
	{ echo "fuzz: $CLANG not found (Debian: apt-get install clang)" >&2; exit 2; }
mkdir -p "$OUT/obj" "$OUT/corpus" "$OUT/artifacts"
printf 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n)\n{ (void)d; (void)n; return 0; }\n' \
	> "$OUT/probe.c"
if ! "$CLANG" -fsanitize=fuzzer -o "$OUT/probe" "$OUT/probe.c" 2>"$OUT/probe.err"; then
	echo "fuzz: $CLANG cannot link libFuzzer (libclang_rt.fuzzer is missing;" \
	     "Debian 12: apt-get install libclang-rt-14-dev)" >&2
	sed 's/^/  /' "$OUT/probe.err" >&2
	exit 2
fi

CFLAGS="-g -O1 -std=c11 -D_GNU_SOURCE -DQVM_VERSION=\"fuzz\" -Isrc
	$(pkg-config --cflags yaml-0.1 2>/dev/null)
	-fno-omit-frame-pointer -fsanitize=address,undefined
	-fno-sanitize-recover=all"
# liblzma and libzstd: src/decode.c, linked with everything in src.
LIBS="$(pkg-config --libs yaml-0.1 2>/dev/null || echo -lyaml) \
$(pkg-config --libs liblzma libzstd 2>/dev/null || echo -llzma -lzstd) -pthread"
objs=()
for src in src/*.c; do
	[ "$src" = src/main.c ] && continue
	obj=$OUT/obj/$(basename "${src%.c}").o
	if [ ! -e "$obj" ] || [ "$src" -nt "$obj" ] || [ src -nt "$obj" ] ||
	   [ -n "$(find src -name '*.h' -newer "$obj")" ]; then
		# shellcheck disable=SC2086
		"$CLANG" $CFLAGS -fsanitize=fuzzer-no-link -c -o "$obj" "$src" ||
			exit 2
	fi
	objs+=("$obj")
done
# shellcheck disable=SC2086
"$CLANG" $CFLAGS -fsanitize=fuzzer -o "$OUT/fuzz_qvmfile" \
	tests/fuzz/fuzz_qvmfile.c "${objs[@]}" $LIBS || exit 2

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

# Replay every fixture: those that once broke a rule must stay fixed. One
# that still breaks one is reported (and the run fails) but kept out of
# the corpus, so the fuzzer can look for something new meanwhile.
failed=0
replayed=0
rm -f "$OUT"/corpus/fixture-*
while IFS= read -r f; do
	replayed=$((replayed + 1))
	if "$OUT/fuzz_qvmfile" -runs=0 "$f" >"$OUT/replay.log" 2>&1; then
		cp "$f" "$OUT/corpus/fixture-$(echo "$f" | tr / _)"
	else
		failed=$((failed + 1))
		echo "fuzz: $f still breaks a rule:" >&2
		grep -m1 -A6 -E '^oracle:|ERROR: (Address|Leak)Sanitizer|runtime error' \
			"$OUT/replay.log" | sed 's/^/  /' >&2
	fi
done < <(find fixtures -type f | sort)
echo "fuzz: replayed $replayed fixtures, $failed still failing"

"$OUT/fuzz_qvmfile" "$OUT/corpus" \
	-dict=tests/fuzz/qvmfile.dict \
	-max_total_time="$FUZZ_SECONDS" \
	-max_len=4096 -timeout=10 -rss_limit_mb=2048 \
	-artifact_prefix="$OUT/artifacts/" \
	-print_final_stats=1 >"$OUT/fuzz.log" 2>&1
rc=$?
execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$OUT/fuzz.log" | tail -1)
echo "fuzz: ${execs:-0} executions in ${FUZZ_SECONDS} s," \
     "corpus $(find "$OUT/corpus" -type f | wc -l) inputs"
if [ "$rc" -ne 0 ]; then
	echo "fuzz: FAILED (exit $rc); the input is in $OUT/artifacts/:" >&2
	grep -m1 -A12 -E '^oracle:|ERROR: (Address|Leak)Sanitizer|runtime error' \
		"$OUT/fuzz.log" | sed 's/^/  /' >&2
	ls -t "$OUT/artifacts/" | head -1 | sed "s#^#  $OUT/artifacts/#" >&2
	exit 1
fi
[ "$failed" -eq 0 ] || exit 1
