#!/bin/bash
# Races: two qvm runs for the same name, started together. Exactly one
# succeeds; the other fails saying the name is taken, and destroys nothing
# of the winner's (its clone, its seed, its volume's data).
# Rounds: started at once; with the checks slowed down, so that both pass
# them before either has claimed the name; and one started while the
# other is half-way.
. "$(dirname "$0")/lib.sh"

RACES=0
DOUBLE=$ROOT/tests/zfs-double
zfs() { python3 -S "$DOUBLE" "$@"; }

# The zfs the runs see: straight, or with every "zfs get" (the checks
# before any change) taking 1.5 s: longer than the two runs' start can
# drift apart on a loaded 2-core machine (0.6 s was not, at load 10), so
# both are past the checks before either changes anything.
zfs_plain() { rm -f "$WORK/bin/zfs"; ln -s "$DOUBLE" "$WORK/bin/zfs"; }
zfs_slow_checks() {
	rm -f "$WORK/bin/zfs"
	cat > "$WORK/bin/zfs" <<EOF
#!/bin/sh
[ "\$1" = get ] && sleep 1.5
exec python3 -S "$DOUBLE" "\$@"
EOF
	chmod +x "$WORK/bin/zfs"
}

# start TAG ARGS...: qvm in the background, output in $WORK/TAG.out/.err,
# its own TMPDIR $WORK/TAG.tmp; pid in PID_TAG.
start() {
	local tag=$1
	shift
	rm -rf "$WORK/$tag.tmp"
	mkdir -m 700 "$WORK/$tag.tmp"
	TMPDIR=$WORK/$tag.tmp $QVM_WRAP "$QVM" "$@" \
		>"$WORK/$tag.out" 2>"$WORK/$tag.err" &
	eval "PID_$tag=\$!"
}

# judge WHAT: waits for runs a and b, then checks that exactly one won and
# the loser left the winner alone. Sets WINNER/LOSER (a or b).
judge() {
	local what=$1 rca rcb
	wait "$PID_a"; rca=$?
	wait "$PID_b"; rcb=$?
	RACES=$((RACES + 1))
	if [ "$rca" -eq 0 ] && [ "$rcb" -ne 0 ]; then
		WINNER=a; LOSER=b
	elif [ "$rcb" -eq 0 ] && [ "$rca" -ne 0 ]; then
		WINNER=b; LOSER=a
	else
		not_ok "$what: exactly one succeeds (exits $rca and $rcb)"
		sed 's/^/#   a: /' "$WORK/a.err"; sed 's/^/#   b: /' "$WORK/b.err"
		WINNER=; LOSER=
		return 1
	fi
	ok "$what: exactly one succeeds ($WINNER)"
	check "$what: the other exits 1" eval '[ "$rca" -eq 1 ] || [ "$rcb" -eq 1 ]'
	check "$what: the other says the name is taken" \
		grep -Eq "already exists|owns the name|appeared while qvm was working" \
		"$WORK/$LOSER.err"
	grep -Eq "already exists|owns the name|appeared while qvm was working" \
		"$WORK/$LOSER.err" || sed 's/^/#   /' "$WORK/$LOSER.err"
	# Which check the loser trips is timing: under valgrind (QVM_WRAP)
	# qvm starts too slowly for both runs to be sure to pass the checks.
	if [ -n "${EXPECT:-}" ] && [ -z "$QVM_WRAP" ]; then
		check "$what: the other says: $EXPECT" grep -q "$EXPECT" "$WORK/$LOSER.err"
	fi
	check "$what: the other undid nothing" \
		eval '! grep -q "^Undid" "$WORK/$LOSER.out"'
	check "$what: no temporary files left by either" \
		eval '[ -z "$(find "$WORK/a.tmp" "$WORK/b.tmp" -mindepth 1)" ]'
}

# --- the stage -----------------------------------------------------------
make_raw "$WORK/cloud.raw" 32
"$QVM" image "$WORK/cloud.raw" tank/debian12 >/dev/null ||
	{ not_ok "setting up the base image"; finish; exit 1; }

vmfile() {	# vmfile FILE NAME MARKER: the marker goes into user-data
	cat > "$WORK/$1.yaml" <<EOF
---
qvm: vm
name: $2
connect: test:///default
memory: 512
os-variant: debian11
graphics: none
disk:
  zvol:
    base: tank/debian12
---
qvm: user-data
runcmd:
  - [echo, $3]
---
qvm: meta-data
EOF
}

# vm_round NAME WHAT [STAGGER]: runs a and b for NAME; b starts when a has
# printed STAGGER (a pattern), or at once.
vm_round() {
	local name=$1 what=$2 stagger=${3:-}
	vmfile "$name-a" "$name" "marker-a-$name"
	vmfile "$name-b" "$name" "marker-b-$name"
	start a vm "$WORK/$name-a.yaml"
	if [ -n "$stagger" ]; then
		local i
		for i in $(seq 1 500); do
			grep -q "$stagger" "$WORK/a.out" && break
			sleep 0.01
		done
	fi
	start b vm "$WORK/$name-b.yaml"
	judge "$what" || return
	check "$what: the winner's clone is there" \
		eval '[ "$(zfs get -H -o value qvm:name "tank/$name")" = "$name" ]'
	check "$what: the winner's clone device is there" \
		[ -f "$QVM_ZVOL_DIR/tank/$name" ]
	check "$what: the winner's seed is there, and it is the winner's" \
		grep -q "marker-$WINNER-$name" "$QVM_SEED_DIR/$name/seed.iso"
	check "$what: the winner's seed is intact (mode 0600)" \
		[ "$(stat -c %a "$QVM_SEED_DIR/$name/seed.iso")" = 600 ]
	check "$what: only one clone was made" \
		[ "$(grep -c "^zfs	clone	.*	tank/$name\$" "$ZFS_DOUBLE_DIR/log")" -le 2 ]
	check "$what: no zfs destroy ran" \
		eval '! grep -q "^zfs	destroy	.*tank/$name$" "$ZFS_DOUBLE_DIR/log"'
}

# --- qvm vm --------------------------------------------------------------
zfs_plain
vm_round race1 "vm, started together"
vm_round race2 "vm, started together (again)"
zfs_slow_checks
EXPECT="owns the name"
vm_round race3 "vm, both past the checks before either claims the name"
vm_round race4 "vm, both past the checks (again)"
zfs_plain
EXPECT="already exists"
vm_round race5 "vm, the second started while the first installs" \
	"Checking the VM definition"
EXPECT=

# --- qvm image -----------------------------------------------------------
# Two different images, so the volume's data tells whose it is.
make_raw "$WORK/a.raw" 8
make_raw "$WORK/b.raw" 8

# image_round ZVOL WHAT [STAGGER]
image_round() {
	local zvol=$1 what=$2 stagger=${3:-}
	start a image "$WORK/a.raw" "$zvol"
	if [ -n "$stagger" ]; then
		local i
		for i in $(seq 1 500); do
			grep -q "$stagger" "$WORK/a.out" && break
			sleep 0.01
		done
	fi
	start b image "$WORK/b.raw" "$zvol"
	judge "$what" || return
	check "$what: the volume and its snapshot are there" \
		eval 'zfs list -H "$zvol@base" >/dev/null 2>&1'
	check "$what: the volume holds the winner's image" \
		cmp -s "$WORK/$WINNER.raw" "$QVM_ZVOL_DIR/$zvol"
	check "$what: no zfs destroy ran" \
		eval '! grep -q "^zfs	destroy	.*$zvol$" "$ZFS_DOUBLE_DIR/log"'
}

zfs_plain
image_round tank/img1 "image, started together"
image_round tank/img2 "image, started together (again)"
zfs_slow_checks
EXPECT="appeared while qvm was working"
image_round tank/img3 "image, both past the checks before either creates"
image_round tank/img4 "image, both past the checks (again)"
zfs_plain
echo 0.5 > "$ZFS_DOUBLE_DIR/device_delay"
EXPECT="already exists"
image_round tank/img5 "image, the second started while the first waits for its device" \
	"Waiting for"
EXPECT=
rm -f "$ZFS_DOUBLE_DIR/device_delay"

echo "# races run: $RACES ($SECONDS s)"
finish
