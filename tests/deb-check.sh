#!/bin/bash
# make deb's check of the built package: tests/deb-check.sh DEB VERSION.
# Its fields, then its files unpacked (dpkg -x) into an empty directory:
# qvm --version, the man page through man -l, the completion where
# bash-completion looks for it, nothing under /usr/local. Then the
# Makefile's install and uninstall, which the package uses, into a DESTDIR.
set -u
SRC=$(cd "$(dirname "$0")/.." && pwd)
DEB=$1
VERSION=$2
PASSED=0
FAILED=0
ok() { PASSED=$((PASSED + 1)); echo "ok - $*"; }
not_ok() { FAILED=$((FAILED + 1)); echo "not ok - $*"; }
check() {
	local what=$1
	shift
	if "$@"; then ok "$what"; else not_ok "$what"; fi
}
contains() { case $1 in *"$2"*) return 0 ;; esac; return 1; }

field() { dpkg-deb -f "$DEB" "$1"; }
check "Package: qvm" [ "$(field Package)" = qvm ]
check "Version: $VERSION (the Makefile's)" [ "$(field Version)" = "$VERSION" ]
check "Section: contrib/admin" [ "$(field Section)" = contrib/admin ]
DEPENDS=$(field Depends)
for p in zfsutils-linux genisoimage virtinst libvirt-clients libyaml-0-2 \
	liblzma5 libzstd1 libc6; do
	check "Depends on $p" contains "$DEPENDS" "$p"
done
check "Recommends qemu-utils, and what image sources need" \
	[ "$(field Recommends)" = "bzip2, curl, qemu-utils" ]
check "Suggests the xz and zstd programs (what qvm -n prints)" \
	[ "$(field Suggests)" = "xz-utils, zstd" ]

ROOT=$(mktemp -d "${TMPDIR:-/tmp}/qvm-deb.XXXXXX")
trap 'rm -rf "$ROOT"' EXIT
check "dpkg -x unpacks it" dpkg -x "$DEB" "$ROOT"
check "nothing under /usr/local" [ ! -e "$ROOT/usr/local" ]
for f in usr/bin/qvm usr/share/man/man1/qvm.1.gz \
	usr/share/bash-completion/completions/qvm \
	usr/share/doc/qvm/copyright usr/share/doc/qvm/changelog.gz; do
	check "ships /$f" [ -f "$ROOT/$f" ]
done

OUT=$(LC_ALL=C "$ROOT/usr/bin/qvm" --version 2>&1)
check "qvm --version says 'qvm $VERSION' (got '$OUT')" \
	[ "$OUT" = "qvm $VERSION" ]

# man -l formats the installed (compressed) page. (lintian has checked
# it with groff's warnings; at 80 columns groff still says it cannot break
# SEE ALSO's long URL.)
OUT=$(LC_ALL=C MANWIDTH=80 MANPAGER=cat PAGER=cat \
	man -l "$ROOT/usr/share/man/man1/qvm.1.gz" 2>/dev/null)
RC=$?
check "man -l on the installed page succeeds" [ "$RC" -eq 0 ]
check "man -l: the page's NAME line" \
	contains "$OUT" "qvm -- provision libvirt virtual machines"
check "man -l: its SYNOPSIS" contains "$OUT" "qvm [-H HOST] destroy [-c URI] NAME"

HELPERS=/usr/share/bash-completion/bash_completion
OUT=$(bash -c '. "$1" && . "$2" && complete -p qvm' sh "$HELPERS" \
	"$ROOT/usr/share/bash-completion/completions/qvm" 2>&1)
check "the installed completion registers _qvm ($OUT)" \
	[ "$OUT" = "complete -F _qvm qvm" ]

# make install: the program, its page, its completion; make uninstall: none.
files() { (cd "$1" && find . -type f | LC_ALL=C sort | tr '\n' ' '); }
for prefix in /usr /usr/local; do
	dest=$ROOT/install$prefix
	make -s --no-print-directory -C "$SRC" install PREFIX="$prefix" \
		DESTDIR="$dest" >/dev/null
	if [ "$prefix" = /usr ]; then
		comp=$(pkg-config --variable=completionsdir bash-completion)
	else
		comp=$prefix/share/bash-completion/completions
	fi
	want=".$prefix/bin/qvm .$comp/qvm .$prefix/share/man/man1/qvm.1 "
	got=$(files "$dest")
	check "make install PREFIX=$prefix: $got" [ "$got" = "$want" ]
	make -s --no-print-directory -C "$SRC" uninstall PREFIX="$prefix" \
		DESTDIR="$dest" >/dev/null
	got=$(files "$dest")
	check "make uninstall PREFIX=$prefix leaves no file ($got)" [ -z "$got" ]
done

echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
