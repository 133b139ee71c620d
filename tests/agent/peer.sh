#!/bin/sh
# Per-user mode: only the agent's own uid (or root) may talk to it. The socket directory and the
# socket are opened to everyone here, so only the agent's SO_PEERCRED check stands between
# another uid and the vaults: that uid's connection is closed without a reply (whatever its
# group), nothing is recorded, and the agent goes on serving its own user. Needs root.
#   peer.sh SESAME SESAME_AGENT
. "$(dirname "$0")/lib.sh"

PIN=482916
[ "$(id -u)" = 0 ] || { echo "SKIP: peer.sh needs root to act as another uid"; exit 77; }
command -v setpriv >/dev/null || { echo "SKIP: no setpriv"; exit 77; }
conf 'kdf_passes = 1' 'kdf_memory_mib = 8'

install_init
start_agent
enroll Alice "$PIN"

# Open the way: a world-traversable directory and a world-writable socket.
chmod 0755 "$tmp/run"
chmod 0666 "$SESAME_AGENT_SOCK"
cp "$(dirname "$0")/agentproto.py" "$tmp/agentproto.py"
chmod 0644 "$tmp/agentproto.py"

# An interpreter another uid can run (a version manager's lives in root's home).
as_nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
OTHER_PY=
for p in /usr/bin/python3 /usr/local/bin/python3 "$PYTHON"; do
	if [ -x "$p" ] && as_nobody "$p" -c pass 2>/dev/null; then
		OTHER_PY=$p
		break
	fi
done
[ -n "$OTHER_PY" ] || fail "no python3 that uid 65534 can run"

records() { events | wc -l; }
before=$(records)

# as UID GID REQUEST: what a client of that uid and group gets.
as() {
	setpriv --reuid="$1" --regid="$2" --clear-groups \
		"$OTHER_PY" "$tmp/agentproto.py" "$SESAME_AGENT_SOCK" "$3" 2>&1
}
for who in 65534:65534 65534:0 4242:4242; do
	uid=${who%:*} gid=${who#*:}
	got=$(as "$uid" "$gid" '{"v":1,"op":"status"}')
	case $got in
	CLOSED) ;;
	ERROR*) fail "uid $uid could not even connect ($got): the test does not reach the agent" ;;
	*) fail "uid $uid gid $gid got a reply: $got" ;;
	esac
	got=$(as "$uid" "$gid" "{\"v\":1,\"op\":\"unlock\",\"user\":\"Alice\",\"pin\":\"$PIN\"}")
	[ "$got" = CLOSED ] || fail "uid $uid unlock: $got"
	got=$(as "$uid" "$gid" '{"v":1,"op":"users"}')
	[ "$got" = CLOSED ] || fail "uid $uid users: $got"
done

# Refused connections changed nothing: no record, no session, no attempt spent.
kill -0 "$AGENT_PID" 2>/dev/null || fail "the agent died"
expect_eq "audit records after refused peers" "$(records)" "$before"
run 0 users "$SESAME" list --json
expect_eq "attempts" "$(jget users 'j["users"][0]["attempts_left"]')" 5
expect_eq "session" "$(jget users 'j["users"][0]["session"]')" False

# The agent's own uid (root) is still served, by the protocol and by the command.
got=$(python3 "$tmp/agentproto.py" "$SESAME_AGENT_SOCK" '{"v":1,"op":"status"}')
case $got in *'"ok": true'*) ;; *) fail "root got: $got" ;; esac
unlock_with 0 unlock Alice "$PIN"
run 0 status "$SESAME" status
out status | grep -q 'Session open for Alice' || fail "root's session: $(out status)"

# The sesame command run by another uid fails with "agent unreachable" (6), with a message,
# not killed by SIGPIPE (141) when the agent hangs up before the request is written.
if as_nobody test -x "$SESAME"; then
	for i in 1 2 3 4 5; do # the hang-up races the write: try it a few times
		code=0
		as_nobody env SESAME_CONFIG=/nonexistent SESAME_HOME=/nonexistent \
			SESAME_AGENT_SOCK="$SESAME_AGENT_SOCK" "$SESAME" status \
			>"$tmp/out/nobody.out" 2>&1 || code=$?
		[ "$code" = 6 ] ||
			fail "sesame status as nobody: exit $code, expected 6: $(cat "$tmp/out/nobody.out")"
	done
fi

stop_agent
run 0 verify "$SESAME" audit verify
echo "peer: ok"
