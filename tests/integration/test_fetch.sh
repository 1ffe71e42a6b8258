#!/bin/bash
# qvm image with images as distributions publish them (issue 15): by URL
# from a local HTTP server (tests/http-server.py on 127.0.0.1), by path and
# by file:// URL; raw, qcow2, compressed (xz, gzip, zstd, bzip2) and in tar
# archives; verified against SHA256SUMS (Ubuntu's binary-mode lines),
# SHA512SUMS (Debian's) and a clearsigned BSD CHECKSUM (Fedora's), or
# --sha256. Every import is byte-exact on the volume (the zfs test double);
# every failure says what happened and leaves nothing: no dataset, no file
# in QVM_CACHE_DIR or TMPDIR.
. "$(dirname "$0")/lib.sh"

SRV=$WORK/srv
CACHE=$WORK/cache
RUN_TMP=$WORK/tmp
mkdir -p "$SRV/bad" "$SRV/src" "$RUN_TMP"
export QVM_CACHE_DIR=$CACHE
export TMPDIR=$RUN_TMP

# --- the published files --------------------------------------------------
RAW=$WORK/disk.raw
make_raw "$RAW" 8
SIZE=$(stat -c %s "$RAW")
(
	cd "$SRV" || exit 1
	cp "$RAW" disk.raw
	qemu-img convert -f raw -O qcow2 disk.raw disk.qcow2
	cp disk.qcow2 disk.img		# Ubuntu's .img is a qcow2
	xz -T1 -c disk.raw > disk.raw.xz
	xz -T1 -c disk.qcow2 > disk.qcow2.xz
	gzip -c disk.raw > disk.raw.gz
	zstd -q -c disk.raw > disk.raw.zst
	bzip2 -c disk.raw > disk.raw.bz2
	# Debian's nocloud/generic .tar.xz: one member, disk.raw
	tar -cf disk.tar disk.raw
	xz -T1 -c disk.tar > disk.tar.xz
	# sparse members: GNU's old format and POSIX (pax 1.0)
	tar -S -cJf disk-sparse.tar.xz disk.raw
	tar -S --format=posix -czf disk-pax.tar.gz disk.raw
) || { not_ok "building the published files"; finish; exit 1; }
LAYOUTS="disk.raw disk.qcow2 disk.img disk.raw.xz disk.qcow2.xz disk.raw.gz
disk.raw.zst disk.raw.bz2 disk.tar disk.tar.xz disk-sparse.tar.xz
disk-pax.tar.gz"
check "tar -S made a sparse member (type S)" \
	eval '[ "$(xz -dc "$SRV/disk-sparse.tar.xz" | head -c 157 | tail -c 1)" = S ]'

(
	cd "$SRV" || exit 1
	# shellcheck disable=SC2086
	sha256sum -b $LAYOUTS > SHA256SUMS	# Ubuntu: " *NAME"
	# shellcheck disable=SC2086
	sha512sum $LAYOUTS > SHA512SUMS		# Debian: "  NAME"
	{
		printf -- '-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n\n'
		for f in $LAYOUTS; do
			printf '# %s: %s bytes\n' "$f" "$(stat -c %s "$f")"
			sha256sum --tag "$f"
		done
		printf -- '-----BEGIN PGP SIGNATURE-----\n\n'
		printf 'iQIzBAEBCAAdFiEE6PI6Ud2bBYFYlXzcdJ3DnFLodWIFAmcRbT0ACgkQdJ3DnFLo\n'
		printf '=Xk1v\n-----END PGP SIGNATURE-----\n'
	} > CHECKSUM
) || { not_ok "writing the checksum lists"; finish; exit 1; }

# --- the server -------------------------------------------------------------
LOG=$WORK/http.log
: > "$LOG"
python3 "$ROOT/tests/http-server.py" "$SRV" "$WORK/port" "$LOG" &
SERVER=$!
trap 'kill "$SERVER" 2>/dev/null; rm -rf "$WORK"' EXIT
for _ in $(seq 1 500); do [ -s "$WORK/port" ] && break; sleep 0.01; done
PORT=$(cat "$WORK/port" 2>/dev/null)
[ -n "$PORT" ] || { not_ok "the HTTP server listens"; finish; exit 1; }
URL=http://127.0.0.1:$PORT
check "the HTTP server answers" curl -fsS -o /dev/null "$URL/SHA256SUMS"

# --- helpers ----------------------------------------------------------------
N=0
nothing_left() {
	[ -z "$(ls -A "$CACHE" 2>/dev/null)" ] && [ -z "$(ls -A "$RUN_TMP")" ]
}
snapshot_of() { zfs list -H -o name "$1@base" >/dev/null 2>&1; }

# imports WHAT ARGS...: "qvm image ARGS... tank/vN" succeeds and the volume
# holds the raw image exactly, at its size.
imports() {
	local what=$1 vol
	shift
	N=$((N + 1))
	vol=tank/v$N
	run_qvm image "$@" "$vol"
	if [ "$RC" -ne 0 ]; then
		not_ok "$what: exit $RC"
		printf '%s\n' "$ERR" | sed 's/^/#   stderr: /'
		return
	fi
	check "$what: byte-exact" \
		cmp -s -n "$SIZE" "$RAW" "$QVM_ZVOL_DIR/$vol"
	check "$what: volsize $SIZE" \
		[ "$(zfs get -Hp -o value volsize "$vol")" = "$SIZE" ]
	check "$what: snapshot $vol@base" snapshot_of "$vol"
	check "$what: no temporary file left" nothing_left
}

# refuses WHAT 'TEXT|TEXT...' ARGS...: "qvm image ARGS... tank/fN" fails
# (exit 1, an Error line holding every TEXT) and leaves nothing.
refuses() {
	local what=$1 texts=$2 vol before t
	shift 2
	N=$((N + 1))
	vol=tank/f$N
	before=$(state)
	run_qvm image "$@" "$vol"
	check "$what: exit 1" [ "$RC" -eq 1 ]
	[ -n "${USAGE:-}" ] || check "$what: an Error line" \
		eval 'printf "%s\n" "$ERR" | grep -q "^Error "'
	IFS='|' read -ra want <<<"$texts"
	for t in "${want[@]}"; do
		if contains "$ERR" "$t"; then
			ok "$what: says \"$t\""
		else
			not_ok "$what: says \"$t\""
			printf '%s\n' "$ERR" | sed 's/^/#   stderr: /'
		fi
	done
	check "$what: no volume left" [ "$(state)" = "$before" ]
	check "$what: no temporary file left" nothing_left
}

sha256_of() { sha256sum < "$1" | cut -d' ' -f1; }

# --- every layout, by URL with each list, by path, by file:// URL ----------
lists=(SHA256SUMS SHA512SUMS CHECKSUM)
i=0
for f in $LAYOUTS; do
	list=${lists[i % 3]}
	i=$((i + 1))
	imports "$f by URL, $list" --checksums "$URL/$list" "$URL/$f"
	imports "$f by path" "$SRV/$f"
	imports "$f by file:// URL, --sha256" \
		--sha256 "$(sha256_of "$SRV/$f")" "file://$SRV/$f"
done

# the other lists for the streamed and the temporary-file paths
for f in disk.raw.xz disk.qcow2.xz disk.tar.xz; do
	for list in "${lists[@]}"; do
		imports "$f by URL, $list (all lists)" \
			--checksums "$URL/$list" "$URL/$f"
	done
done
imports "a local list for a URL" --checksums "$SRV/SHA512SUMS" "$URL/disk.raw.zst"
imports "a file:// list for a path" --checksums "file://$SRV/CHECKSUM" "$SRV/disk.raw.bz2"
imports "--sha256 in upper case" \
	--sha256 "$(sha256_of "$SRV/disk.raw.gz" | tr a-f A-F)" "$URL/disk.raw.gz"
imports "a redirect is followed" --checksums "$URL/SHA256SUMS" "$URL/redirect/disk.raw.xz"
imports "a server ignoring Range: raw.xz" "$URL/norange/disk.raw.xz"
imports "a server ignoring Range: qcow2" "$URL/norange/disk.qcow2"
imports "a server ignoring Range: raw" "$URL/norange/disk.raw"
imports "a relative path" "$(realpath --relative-to=. "$SRV/disk.raw.xz")"

# --- checksums that do not match; entries that are not there ---------------
WRONG=$(printf 'not the image\n' | sha256sum | cut -d' ' -f1)
(cd "$SRV" && sed "s/^[0-9a-f]*\( \*disk\.raw\.xz\)$/$WRONG\1/; s/^[0-9a-f]*\( \*disk\.qcow2\.xz\)$/$WRONG\1/; s/^[0-9a-f]*\( \*disk\.raw\)$/$WRONG\1/" \
	SHA256SUMS > bad/SHA256SUMS)
check "the bad list differs" eval '! cmp -s "$SRV/SHA256SUMS" "$SRV/bad/SHA256SUMS"'
refuses "mismatch, streamed raw.xz" "mismatch|disk.raw.xz|$WRONG" \
	--checksums "$URL/bad/SHA256SUMS" "$URL/disk.raw.xz"
refuses "mismatch, plain raw by URL" "mismatch|$WRONG" \
	--checksums "$URL/bad/SHA256SUMS" "$URL/disk.raw"
refuses "mismatch, qcow2.xz through the cache" "mismatch|$WRONG" \
	--checksums "$URL/bad/SHA256SUMS" "$URL/disk.qcow2.xz"
refuses "mismatch, --sha256 on a local raw.gz" "mismatch|$WRONG" \
	--sha256 "$WRONG" "$SRV/disk.raw.gz"
refuses "mismatch, --sha256 on a local raw" "mismatch|$WRONG" \
	--sha256 "$WRONG" "$SRV/disk.raw"
cp "$SRV/disk.raw.xz" "$SRV/unlisted.raw.xz"
refuses "no entry in the list" \
	"no entry for unlisted.raw.xz in $URL/SHA256SUMS" \
	--checksums "$URL/SHA256SUMS" "$URL/unlisted.raw.xz"
# (the command line's mistakes may be usage errors, without "Error ")
USAGE=1
refuses "--sha256 that is not a digest" "not a SHA-256 digest" \
	--sha256 "${WRONG%?}" "$URL/disk.raw.xz"
refuses "--sha256 and --checksums together" "--sha256|--checksums" \
	--sha256 "$WRONG" --checksums "$URL/SHA256SUMS" "$URL/disk.raw.xz"
USAGE=
check "--sha256 and --checksums together: not as an unknown option" \
	eval '! contains "$ERR" "unknown option"'

# --- what the network and the files can do ----------------------------------
refuses "404 for the image" "404" "$URL/missing.raw.xz"
refuses "404 for the list" "404|SHA256SUMS" \
	--checksums "$URL/404/SHA256SUMS" "$URL/disk.raw.xz"
refuses "a server that closes halfway: raw" "transfer closed" "$URL/cut/disk.raw"
refuses "a server that closes halfway: raw.xz" "transfer closed" \
	"$URL/cut/disk.raw.xz"
refuses "a server that closes halfway: qcow2" "transfer closed" \
	"$URL/cut/disk.qcow2"
refuses "nothing listens" "Failed to connect" "http://127.0.0.1:1/disk.raw.xz"
head -c $(($(stat -c %s "$SRV/disk.raw.xz") / 2)) "$SRV/disk.raw.xz" \
	> "$SRV/trunc.raw.xz"
refuses "a truncated .xz by path" "Unexpected end of input" "$SRV/trunc.raw.xz"
refuses "a truncated .xz by URL" "Unexpected end of input" "$URL/trunc.raw.xz"
mkdir "$WORK/two"
make_raw "$WORK/two/a.raw" 1
make_raw "$WORK/two/b.raw" 1
tar -C "$WORK/two" -cJf "$SRV/two.tar.xz" a.raw b.raw
refuses "a tar with two disks" "a.raw|b.raw" "$URL/two.tar.xz"
{ printf 'KDMV'; head -c 4092 /dev/zero; } | xz -c > "$SRV/disk.vmdk.xz"
refuses "an unknown format (vmdk in xz)" "vmdk" "$URL/disk.vmdk.xz"
python3 - "$SRV/disk.zip" "$RAW" <<'EOF'
import sys, zipfile
with zipfile.ZipFile(sys.argv[1], "w") as z:
    z.write(sys.argv[2], "disk.raw")
EOF
refuses "an unknown format (zip)" "zip" "$URL/disk.zip"

# Nothing, or a web page, where an image was expected: refused before a
# volume is made for it.
: > "$SRV/empty.raw"
refuses "an empty download" "$URL/empty.raw is empty" "$URL/empty.raw"
xz -c < /dev/null > "$SRV/empty.raw.xz"
refuses "an .xz of nothing" "$URL/empty.raw.xz: it holds no data" \
	"$URL/empty.raw.xz"
printf '\n  <!DOCTYPE HTML>\n<html><body>Sign in</body></html>\n' > "$SRV/portal.raw"
refuses "a web page served as .raw" "is an HTML page" "$URL/portal.raw"
gzip -c "$SRV/portal.raw" > "$SRV/portal.raw.gz"
refuses "a gzip'd web page" "is a gzip-compressed HTML page" \
	"$URL/portal.raw.gz"

# On a terminal a download's line shows its share and time left, from the
# length the server gives (asked with one HEAD request, only then).
if command -v script >/dev/null; then
	for name in disk.raw.xz disk.qcow2.xz; do
		N=$((N + 1))
		progress_on_terminal "$name by URL" image "$URL/$name" "tank/v$N"
		check "terminal, $name by URL: its length asked with HEAD" \
			grep -q "^HEAD /$name " "$LOG"
	done
fi

# A password in a URL is never shown: not in the progress, not in an
# Error line, not in the dry run's script.
AUTH=http://alice:s3cret@127.0.0.1:$PORT
N=$((N + 1))
run_qvm image "$AUTH/disk.raw.xz" "tank/v$N"
check "a URL with a password: imported ($ERR)" [ "$RC" -eq 0 ]
check "a URL with a password: shown masked" \
	eval 'contains "$OUT" "alice:***@127.0.0.1" && ! contains "$OUT$ERR" s3cret'
run_qvm image "$AUTH/nope.raw.xz" tank/nope
check "a URL with a password, 404: masked in the Error line" \
	eval '[ "$RC" -eq 1 ] && contains "$ERR" "alice:***@" && ! contains "$OUT$ERR" s3cret'
run_qvm -n image --checksums "$AUTH/SHA256SUMS" "$AUTH/disk.raw.xz" tank/nope
check "a URL with a password, -n: masked in the script" \
	eval '[ "$RC" -eq 0 ] && contains "$OUT" "alice:***@" && ! contains "$OUT$ERR" s3cret'
run_qvm image --checksums "$AUTH/NOSUMS" "$AUTH/disk.raw.xz" tank/nope
check "a URL with a password, list 404: masked in the Error line" \
	eval '[ "$RC" -eq 1 ] && contains "$ERR" "alice:***@" && ! contains "$OUT$ERR" s3cret'

# A URL longer than the message's buffer: the reason at its end is kept.
long=$(printf 'q%.0s' $(seq 1100))
refuses "a 404 on a 1100-character URL" "[...]|returned error: 404" \
	"$URL/missing.raw?$long"

# A URL's [] and {} are its own characters (curl --globoff), never a
# pattern that fetches a1.raw and a2.raw and imports them as one disk.
cp "$SRV/disk.raw" "$SRV/a1.raw"
cp "$SRV/disk.raw" "$SRV/a2.raw"
refuses "a URL with [1-2] names one file" "404" "$URL/a[1-2].raw"
refuses "a URL with {1,2} names one file" "404" "$URL/a{1,2}.raw"
# The user's ~/.curlrc is not read (curl -q): an "output" line there would
# send the image elsewhere and leave the volume empty.
mkdir -p "$WORK/home"
printf 'output = "%s"\n' "$WORK/grabbed" > "$WORK/home/.curlrc"
HOME=$WORK/home imports "a ~/.curlrc with an output line is not read" \
	"$URL/disk.raw.xz"
check "a ~/.curlrc with an output line is not read: nothing went there" \
	[ ! -e "$WORK/grabbed" ]

# --- out of space in the cache directory ------------------------------------
# A qcow2 needs a temporary copy; the cache is a 1 MiB tmpfs in a private
# mount namespace, the qcow2 3 MiB of random data.
truncate -s 8M "$WORK/big.raw"
head -c 3145728 /dev/urandom | dd of="$WORK/big.raw" conv=notrunc status=none
qemu-img convert -f raw -O qcow2 "$WORK/big.raw" "$WORK/big.qcow2"
xz -T1 -0 -c "$WORK/big.qcow2" > "$SRV/big.qcow2.xz"
cp "$WORK/big.qcow2" "$SRV/big.qcow2"
gzip -1 -c "$WORK/big.raw" > "$SRV/big.raw.gz"
if ! unshare -m true 2>/dev/null; then
	echo "# skipped: out of space in the cache (unshare -m needs root)"
else
	before=$(state)
	mkdir -p "$CACHE"
	unshare -m bash -c '
		mount -t tmpfs -o size=1m,mode=0700 qvm-test-cache "$QVM_CACHE_DIR" ||
			exit 99
		$4 "$3" image "$1" tank/nospace >"$2/out" 2>"$2/err"
		echo $? > "$2/rc"
		ls -A "$QVM_CACHE_DIR" > "$2/leftover"
	' nospace "$URL/big.qcow2.xz" "$WORK" "$QVM" "$QVM_WRAP"
	RC=$(cat "$WORK/rc" 2>/dev/null || echo none)
	ERR=$(cat "$WORK/err")
	check "cache out of space: exit 1" [ "$RC" = 1 ]
	check "cache out of space: says so, and where" \
		eval 'contains "$ERR" "space" && contains "$ERR" "$CACHE"'
	check "cache out of space: nothing left in the cache" \
		[ ! -s "$WORK/leftover" ]
	check "cache out of space: no volume left" [ "$(state)" = "$before" ]
	[ "$RC" = 1 ] || printf '%s\n' "$ERR" | sed 's/^/#   stderr: /'
fi

# --- Ctrl-C during the download ----------------------------------------------
# interrupted WHAT TARGET URL: SIGINT while the server trickles URL, to
# qvm alone (TARGET qvm: qvm must stop its children itself) or to its
# process group (TARGET group: Ctrl-C on a terminal).
interrupted() {
	local what=$1 target=$2 url=$3 pid
	before=$(state)
	if [ "$target" = group ]; then
		setsid "$QVM" image "$url" tank/int >"$WORK/out" 2>"$WORK/err" &
	else
		"$QVM" image "$url" tank/int >"$WORK/out" 2>"$WORK/err" &
	fi
	pid=$!
	sleep 1.5
	check "$what: still downloading after 1.5 s" \
		eval 'kill -0 "$pid" 2>/dev/null'
	if [ "$target" = group ]; then
		kill -INT -- "-$pid" 2>/dev/null
	else
		kill -INT "$pid" 2>/dev/null
	fi
	# Within 5 s, even when the server sends nothing more.
	for _ in $(seq 50); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		not_ok "$what: ended within 5 s of SIGINT"
		kill -KILL "$pid" 2>/dev/null
	else
		ok "$what: ended within 5 s of SIGINT"
	fi
	{ wait "$pid"; } 2>/dev/null
	RC=$?
	ERR=$(cat "$WORK/err")
	check "$what: ended by SIGINT (exit 130)" [ "$RC" -eq 130 ]
	check "$what: an Error line" \
		eval 'printf "%s\n" "$ERR" | grep -q "^Error "'
	check "$what: no volume left" [ "$(state)" = "$before" ]
	check "$what: no temporary file left" nothing_left
	sleep 0.3
	check "$what: no curl left behind" \
		eval '! pgrep -f -- "$url" >/dev/null'
}
# (3 MiB or more of data at 160 KiB/s: still running when interrupted)
interrupted "SIGINT to qvm, streaming raw" qvm "$URL/slow/disk.raw"
interrupted "SIGINT to qvm, raw.gz" qvm "$URL/slow/big.raw.gz"
interrupted "Ctrl-C, qcow2 into the cache" group "$URL/slow/big.qcow2"
# qvm killed outright (SIGKILL: no undo): its download does not go on
# without it.
"$QVM" image "$URL/stall/disk.raw" tank/killed >/dev/null 2>&1 &
kpid=$!
sleep 1.5
kill -KILL "$kpid"
wait "$kpid" 2>/dev/null
for _ in $(seq 20); do
	pgrep -f -- "$URL/stall/disk.raw" >/dev/null || break
	sleep 0.1
done
check "qvm killed: its curl ends with it" \
	eval '! pgrep -f -- "$URL/stall/disk.raw" >/dev/null'
pkill -f -- "$URL/stall/disk.raw" 2>/dev/null
zfs destroy -r tank/killed 2>/dev/null

# A download that hangs halfway: Ctrl-C still ends it at once.
interrupted "SIGINT to qvm, a raw download that hangs" qvm "$URL/stall/disk.raw"
interrupted "SIGINT to qvm, a .raw.gz download that hangs" qvm \
	"$URL/stall/big.raw.gz"
interrupted "SIGINT to qvm, a .qcow2.xz download that hangs" qvm \
	"$URL/stall/big.qcow2.xz"

# --- -n: the plan, without the image's body ----------------------------------
: > "$LOG"
before=$(state)
run_qvm -n image --checksums "$URL/SHA256SUMS" "$URL/disk.raw" tank/dry
check "-n: exit 0" [ "$RC" -eq 0 ]
# The plan is a script (as every -n output is): each step a command, not
# only a comment; the verification too.
commands=$(printf '%s\n' "$OUT" | grep -v '^#')
for w in curl sha256sum "zfs create" "zfs snapshot"; do
	check "-n: the plan runs $w" contains "$commands" "$w"
done
check "-n: the plan passes sh -n" eval 'printf "%s\n" "$OUT" | sh -n'
check "-n: nothing created" [ "$(state)" = "$before" ]
check "-n: no temporary file left" nothing_left
sleep 0.2
sent=$(awk '$2 ~ /\/disk\.raw$/ { n += substr($5, 6) } END { print n + 0 }' "$LOG")
check "-n: the body was not fetched ($sent of $SIZE bytes sent)" \
	[ "$sent" -lt "$SIZE" ]
[ "$sent" -lt "$SIZE" ] || sed 's/^/#   log: /' "$LOG"
run_qvm -n image "$URL/disk.raw.xz" tank/dry
check "-n raw.xz: exit 0" [ "$RC" -eq 0 ]
check "-n raw.xz: the plan decompresses with xz" contains "$OUT" "xz -dc"
check "-n raw.xz: nothing created" [ "$(state)" = "$before" ]

finish
