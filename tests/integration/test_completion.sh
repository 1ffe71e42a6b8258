#!/bin/bash
# The bash completion (src/qvm.bash-completion), driven the way bash drives
# it: COMP_WORDS split as readline splits them (':' is a word of its own),
# COMP_CWORD, COMP_LINE, COMP_POINT, then the function; COMPREPLY is
# compared exactly. A fake zfs and a fake qvm print known lists; the last
# checks use the real qvm on the zfs test double.
. "$(dirname "$0")/lib.sh"
set +u	# bash-completion's helpers are not written for nounset

COMPLETION=${QVM_COMPLETION:-$ROOT/src/qvm.bash-completion}
HELPERS=${BASH_COMPLETION:-/usr/share/bash-completion/bash_completion}
if ! [ -r "$HELPERS" ]; then
	not_ok "bash-completion's helpers at $HELPERS (Debian: apt-get install bash-completion)"
	finish
	exit
fi
# shellcheck disable=SC1090
. "$HELPERS"
# shellcheck disable=SC1090
. "$COMPLETION"
check "the script registers _qvm for qvm" \
	[ "$(complete -p qvm 2>/dev/null)" = "complete -F _qvm qvm" ]

# compopt works only inside a real completion; record what is asked.
COMPOPTS=
compopt() { COMPOPTS="${COMPOPTS}[$*]"; }

FAKE=$WORK/fake
mkdir -p "$FAKE"
cat >"$FAKE/zfs" <<'EOF'
#!/bin/sh
echo "${LC_ALL:-unset} $*" >>"$FAKE_LOG"
[ "$*" = "list -H -o name,type -t filesystem,volume" ] || exit 2
printf 'tank\tfilesystem\n'
printf 'tank/images\tfilesystem\n'
printf 'tank/images/debian12\tvolume\n'
printf 'tank/web1\tvolume\n'
printf 'tank/web1@base\tsnapshot\n'
EOF
cat >"$FAKE/qvm" <<'EOF'
#!/bin/sh
echo "${LC_ALL:-unset} $*" >>"$FAKE_LOG"
[ "$*" = "list -H" ] || exit 2
printf 'tank/images/debian12\timage\t-\t-\t2147483648\t1024\t2026-11-23 10:00:00\n'
printf 'tank/images/web1\tvm\tweb1\ttank/images/debian12@base\t2147483648\t1024\t2026-11-23 10:01:00\n'
printf 'tank/images/db:1\tvm\tdb:1\ttank/images/debian12@base\t2147483648\t1024\t2026-11-23 10:02:00\n'
echo "qvm list: a warning nobody should see" >&2
EOF
chmod +x "$FAKE/zfs" "$FAKE/qvm"
export FAKE_LOG=$WORK/fake.log
SAVED_PATH=$PATH
PATH="$FAKE:$PATH"

# Files for the file arguments, in a directory of their own.
FILES=$WORK/files
mkdir -p "$FILES/sub.d"
touch "$FILES/web1.yaml" "$FILES/db.yml" "$FILES/notes.txt" \
	"$FILES/debian.qcow2" "$FILES/ubuntu.img" "$FILES/alpine.raw" \
	"$FILES/disk.vmdk" "$FILES/disk.raw.xz" "$FILES/SHA256SUMS"
cd "$FILES" || exit 1

# comp LINE: complete at the end of LINE; GOT is COMPREPLY, sorted, one
# space between words.
comp() {
	local word rest
	COMP_LINE=$1
	COMP_POINT=${#COMP_LINE}
	COMP_WORDS=()
	for word in $COMP_LINE; do
		# readline makes each ':' a word of its own (COMP_WORDBREAKS).
		while [[ $word == *:* ]]; do
			rest=${word#*:}
			[ -n "${word%%:*}" ] && COMP_WORDS+=("${word%%:*}")
			COMP_WORDS+=(":")
			word=$rest
		done
		[ -n "$word" ] && COMP_WORDS+=("$word")
	done
	[[ $COMP_LINE == *" " ]] && COMP_WORDS+=("")
	COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
	COMPREPLY=()
	COMPOPTS=
	_qvm qvm "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}" \
		2>"$WORK/comp.err"
	# command -p: PATH may be empty here.
	GOT=$(printf '%s\n' "${COMPREPLY[@]}" | command -p sort |
		command -p tr '\n' ' ')
	GOT=${GOT% }
}

# expect LINE WANTED: COMPREPLY for LINE is exactly WANTED (sorted).
expect() {
	comp "$1"
	if [ "$GOT" = "$2" ] && ! [ -s "$WORK/comp.err" ]; then
		ok "'$1' -> '$2'"
	else
		not_ok "'$1' -> '$GOT', wanted '$2' (stderr: $(cat "$WORK/comp.err"))"
	fi
}

# Commands and global options (src/main.c's table).
expect "qvm " "check destroy image list vm wait"
expect "qvm d" "destroy"
expect "qvm -" "--dry-run --help --host --version -H -V -h -n"
expect "qvm -H host2 " "check destroy image list vm wait"
expect "qvm --host root@host2:2222 destroy " "db:1 tank/images/debian12 web1"
expect "qvm --d" "--dry-run"
expect "qvm -n " "image vm"
expect "qvm --dry-run v" "vm"
expect "qvm -V " ""
expect "qvm --help " ""
expect "qvm nosuch " ""

# Per-command options, only before the operands.
expect "qvm list -" "-H"
expect "qvm list -H " ""
expect "qvm destroy -" "-c"
expect "qvm image -" "--checksums --sha256"
expect "qvm image --sha256 " ""
expect "qvm image --checksums S" "SHA256SUMS"
expect "qvm image --sha256 abc d" "debian.qcow2 disk.raw.xz"
expect "qvm vm -" "--timeout --wait -t -w"
expect "qvm vm -w -" "--timeout --wait -t -w"
expect "qvm vm -w -t " ""
expect "qvm wait -" "--timeout -t"
expect "qvm wait --timeout " ""
expect "qvm destroy -c " "qemu:///session qemu:///system"
# After "qemu:" readline replaces only what follows the ':'.
expect "qvm destroy -c qemu:///sy" "///system"

# Files: qvm files for vm and check, images for image (and directories).
expect "qvm vm " "db.yml sub.d web1.yaml"
expect "qvm -n vm w" "web1.yaml"
expect "qvm check " "db.yml sub.d web1.yaml"
expect "qvm image " "alpine.raw debian.qcow2 disk.raw.xz sub.d ubuntu.img"
expect "qvm -n image d" "debian.qcow2 disk.raw.xz"
expect "qvm vm web1.yaml " ""
expect "qvm vm -w -t 60 " "db.yml sub.d web1.yaml"
expect "qvm vm --wait --timeout 60 w" "web1.yaml"
expect "qvm check db.yml " ""

# image's ZVOL: volumes, and filesystems as parents (no space after '/').
: >"$FAKE_LOG"
expect "qvm image debian.qcow2 " \
	"tank/ tank/images/ tank/images/debian12 tank/web1"
check "ZVOL: no space after a parent's '/'" \
	contains "$COMPOPTS" "[-o nospace]"
check "zfs ran once, in the C locale" \
	[ "$(cat "$FAKE_LOG")" = "C list -H -o name,type -t filesystem,volume" ]
expect "qvm image debian.qcow2 tank/images/d" "tank/images/debian12"
check "ZVOL: a volume alone gets its space" \
	[ -z "$COMPOPTS" ]
expect "qvm image debian.qcow2 tank/images/debian12 " ""

# destroy's NAME: VM names and image datasets from "qvm list -H".
: >"$FAKE_LOG"
expect "qvm destroy " "db:1 tank/images/debian12 web1"
check "qvm list -H ran once, in the C locale" \
	[ "$(cat "$FAKE_LOG")" = "C list -H" ]
expect "qvm destroy w" "web1"
expect "qvm destroy -c qemu:///system " "db:1 tank/images/debian12 web1"
expect "qvm destroy -- " "db:1 tank/images/debian12 web1"
expect "qvm destroy db:" "1"
expect "qvm destroy web1 " ""
expect "qvm destroy web1 -" ""

# wait's NAME: the VM names alone.
expect "qvm wait " "db:1 web1"
expect "qvm wait -t 30 w" "web1"
expect "qvm wait web1 " ""

# Missing or failing programs: no candidates, no noise.
# An empty search path on purpose: no zfs, no qvm.
# shellcheck disable=SC2123
PATH=$WORK/empty
expect "qvm image debian.qcow2 " ""
expect "qvm destroy " ""
printf '#!/bin/sh\necho "cannot open: permission denied" >&2\nexit 1\n' \
	>"$FAKE/zfs"
PATH="$FAKE:$SAVED_PATH"
expect "qvm image debian.qcow2 t" ""

# The real qvm on the zfs test double: an image and a VM's clone.
mkdir -p "$WORK/real"
ln -s "$QVM" "$WORK/real/qvm"
PATH="$WORK/real:$SAVED_PATH"
make_raw "$WORK/base.raw" 4
run_qvm image "$WORK/base.raw" tank/deb12
check "real: qvm image made tank/deb12" [ "$RC" -eq 0 ]
zfs clone -o qvm:role=vm -o qvm:name=web:2 tank/deb12@base tank/web2 &&
	zfs create -V 16M tank/notqvm
check "real: the double made a VM clone and a foreign volume" [ $? -eq 0 ]
expect "qvm destroy " "tank/deb12 web:2"
expect "qvm wait " "web:2"
expect "qvm image x.raw tank/" "tank/ tank/deb12 tank/notqvm tank/web2"

finish
