# A private sshd on 127.0.0.1 for the tests and benchmarks of "qvm -H"
# (test_ssh.sh, tests/bench/ssh.sh). Sourced, not run.
#
# sshd_start DIR LOCALDIR ENV...: in DIR, a host key, a user key (and
# another host key, for a mismatch), an sshd on a free port ($PORT, its
# pid $SSHD_PID) whose sessions get ENV (NAME=VALUE words: the "remote"
# environment), and LOCALDIR/ssh: ssh with a config that uses that key and
# knows that host key (nothing of the user's own). Returns 1 when there is
# no sshd.
# sshd_restart: starts it again (same port, keys, environment).
# sshd_known_key PUBFILE: the host key the client expects.

SSHD=$(command -v sshd || echo /usr/sbin/sshd)

sshd_known_key() {
	cat > "$SSHD_DIR/ssh_config" <<EOF
Host *
  IdentityFile $SSHD_DIR/userkey
  IdentitiesOnly yes
  UserKnownHostsFile $SSHD_DIR/known_hosts
  StrictHostKeyChecking yes
  LogLevel ERROR
EOF
	echo "[127.0.0.1]:$PORT $(cat "$1")" > "$SSHD_DIR/known_hosts"
}

sshd_restart() {
	rm -f "$SSHD_DIR/sshd.pid"
	"$SSHD" -f "$SSHD_DIR/sshd_config" -E "$SSHD_DIR/sshd.log"
	for _ in $(seq 50); do
		[ -s "$SSHD_DIR/sshd.pid" ] && break
		sleep 0.1
	done
	SSHD_PID=$(cat "$SSHD_DIR/sshd.pid")
}

sshd_start() {
	SSHD_DIR=$1
	local localdir=$2
	shift 2
	[ -x "$SSHD" ] && command -v ssh >/dev/null || return 1
	mkdir -p "$SSHD_DIR" "$localdir"
	for k in hostkey userkey otherkey; do
		ssh-keygen -q -t ed25519 -N '' -f "$SSHD_DIR/$k"
	done
	cp "$SSHD_DIR/userkey.pub" "$SSHD_DIR/authorized_keys"
	chmod 600 "$SSHD_DIR/authorized_keys"
	PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	cat > "$SSHD_DIR/sshd_config" <<EOF
Port $PORT
ListenAddress 127.0.0.1
HostKey $SSHD_DIR/hostkey
AuthorizedKeysFile $SSHD_DIR/authorized_keys
PidFile $SSHD_DIR/sshd.pid
StrictModes no
UsePAM no
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
SetEnv $*
EOF
	sshd_known_key "$SSHD_DIR/hostkey.pub"
	mkdir -p /run/sshd 2>/dev/null
	sshd_restart
	cat > "$localdir/ssh" <<EOF
#!/bin/sh
exec /usr/bin/ssh -F "$SSHD_DIR/ssh_config" "\$@"
EOF
	chmod +x "$localdir/ssh"
}
