#!/bin/bash
# The command line: usage, help, version, exit statuses.
. "$(dirname "$0")/lib.sh"

run_qvm
check "no arguments: exit 1" [ "$RC" -eq 1 ]
check "no arguments: usage on stderr" contains "$ERR" "usage:"
check "no arguments: nothing on stdout" [ -z "$OUT" ]

run_qvm bogus
check "unknown command: exit 1" [ "$RC" -eq 1 ]
check "unknown command: named" contains "$ERR" "unknown command 'bogus'"
check "unknown command: usage" contains "$ERR" "usage:"

run_qvm vm
check "vm without a file: exit 1 with usage" \
	eval '[ "$RC" -eq 1 ] && contains "$ERR" "usage:"'
run_qvm image one
check "image with one argument: exit 1 with usage" \
	eval '[ "$RC" -eq 1 ] && contains "$ERR" "usage:"'
run_qvm image a b c
check "image with three arguments: exit 1" [ "$RC" -eq 1 ]
run_qvm --bogus
check "unknown option: exit 1 with usage" \
	eval '[ "$RC" -eq 1 ] && contains "$ERR" "usage:"'

run_qvm --help
check "--help: exit 0" [ "$RC" -eq 0 ]
check "--help: usage on stdout" contains "$OUT" "usage:"
check "--help: nothing on stderr" [ -z "$ERR" ]
for c in image vm check; do
	check "--help lists '$c'" contains "$OUT" " $c "
done

run_qvm --version
check "--version: prints the version" eval '[ "$RC" -eq 0 ] && contains "$OUT" "qvm "'

run_qvm vm "$WORK/missing.yaml"
check "missing qvm file: exit 1" [ "$RC" -eq 1 ]
check "missing qvm file: Error line" \
	contains "$ERR" "Error importing qvm file $WORK/missing.yaml: "

# check is local: -H for it is refused, a QVM_HOST in the environment (for
# the commands that act on a host) leaves it alone.
cp "$ROOT/fixtures/web1.qvm.yaml" "$WORK/web1.yaml"
run_qvm -H hv2.invalid check "$WORK/web1.yaml"
check "-H check: refused, check is local" \
	eval '[ "$RC" -eq 1 ] && contains "$ERR" "-H does not apply"'
QVM_HOST=hv2.invalid run_qvm check "$WORK/web1.yaml"
check "QVM_HOST set: check still runs here ($ERR)" [ "$RC" -eq 0 ]

finish
