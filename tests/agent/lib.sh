# Shared by the agent scenarios: a throw-away installation, a real sesame-agent started and
# stopped by the test, and helpers that fail with "FAIL: ...". Sourced with $1 = sesame,
# $2 = sesame-agent (meson passes the build's own binaries).
set -u

SESAME=${1:?usage: $0 SESAME SESAME_AGENT}
AGENT=${2:?usage: $0 SESAME SESAME_AGENT}
AGENT_PID=

umask 077
tmp=$(mktemp -d "${TMPDIR:-/tmp}/sesame-at.XXXXXX") || exit 1
chmod 0711 "$tmp" # peer.sh lets another uid reach the socket below it
mkdir -m 0700 "$tmp/run" "$tmp/config" "$tmp/userhome" "$tmp/out"

export SESAME_HOME="$tmp/home"
export SESAME_CONFIG="$tmp/sesame.conf"
export SESAME_AGENT_SOCK="$tmp/run/agent.sock"
export XDG_RUNTIME_DIR="$tmp/run"
export XDG_CONFIG_HOME="$tmp/config"
export XDG_DATA_HOME="$tmp/userhome/data"
export HOME="$tmp/userhome"
export LC_ALL=C.UTF-8 LANG=C.UTF-8 LANGUAGE=
# The agent is started by the test, never on demand: a stray agent would outlive the test.
export SESAME_AGENT_PROGRAM=/bin/false
[ -n "${SESAME_KEEP_DBUS:-}" ] || export DBUS_SESSION_BUS_ADDRESS=unix:path=/nonexistent
: >"$tmp/agent.log"

# The interpreter itself: a version manager's shim costs most of a second per call.
PYTHON=$(python3 -c 'import sys; print(sys.executable)') || exit 1
python3() { "$PYTHON" "$@"; }

fail() {
	echo "FAIL: $*" >&2
	if [ -s "$tmp/agent.log" ]; then
		echo "--- agent log" >&2
		tail -n 40 "$tmp/agent.log" >&2
	fi
	exit 1
}

cleanup() {
	if [ -n "$AGENT_PID" ] && kill -0 "$AGENT_PID" 2>/dev/null; then
		kill -TERM "$AGENT_PID" 2>/dev/null
		for _ in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
			kill -0 "$AGENT_PID" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$AGENT_PID" 2>/dev/null
		wait "$AGENT_PID" 2>/dev/null
	fi
	AGENT_PID=
	stop_answering_agent
	rm -rf "$tmp"
}

# stop_answering_agent: an agent the test started on demand (or one a failed step left running)
# answers on the test's socket; ask its pid and stop it, so that no agent outlives its test.
stop_answering_agent() {
	[ -S "$SESAME_AGENT_SOCK" ] || return 0
	pid=$(python3 "$(dirname "$0")/agentproto.py" "$SESAME_AGENT_SOCK" '{"v":1,"op":"status"}' |
		python3 -c 'import json,sys
try: print(json.loads(sys.stdin.read())["agent"]["pid"])
except Exception: pass' 2>/dev/null)
	case $pid in '' | *[!0-9]*) return 0 ;; esac
	kill -TERM "$pid" 2>/dev/null || return 0
	for _ in $(seq 50); do
		kill -0 "$pid" 2>/dev/null || return 0
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null
}
trap cleanup EXIT
trap 'exit 143' TERM INT HUP

# conf LINES...: the installation's sesame.conf (small KDF unless the test says otherwise).
conf() {
	printf '%s\n' "$@" >"$SESAME_CONFIG"
}

# run EXPECTED_EXIT NAME CMD...: stdout to $tmp/out/NAME.out, stderr to NAME.err.
run() {
	want=$1 name=$2
	shift 2
	"$@" >"$tmp/out/$name.out" 2>"$tmp/out/$name.err"
	got=$?
	if [ "$got" != "$want" ]; then
		echo "--- stdout of $name" >&2
		cat "$tmp/out/$name.out" >&2
		echo "--- stderr of $name" >&2
		cat "$tmp/out/$name.err" >&2
		fail "$name: exit $got, expected $want"
	fi
}

out() { cat "$tmp/out/$1.out"; }
err() { cat "$tmp/out/$1.err"; }

# is_json NAME: the command's stdout is one JSON document.
is_json() {
	python3 -c 'import json,sys; json.load(sys.stdin)' <"$tmp/out/$1.out" ||
		fail "$1: --json output is not JSON: $(out "$1")"
}

# jget NAME PYEXPR: evaluate PYEXPR over the JSON output j of NAME, print the result.
jget() {
	python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' \
		"$tmp/out/$1.out" "$2" || fail "$1: cannot evaluate $2 over $(out "$1")"
}

expect_eq() { # what got want
	[ "$2" = "$3" ] || fail "$1: got '$2', expected '$3'"
}

start_agent() {
	"$AGENT" >>"$tmp/agent.log" 2>&1 &
	AGENT_PID=$!
	for _ in $(seq 100); do
		kill -0 "$AGENT_PID" 2>/dev/null || fail "the agent exited at start"
		if [ -S "$SESAME_AGENT_SOCK" ] && "$SESAME" status >/dev/null 2>&1; then
			return 0
		fi
		sleep 0.05
	done
	fail "the agent does not answer on $SESAME_AGENT_SOCK"
}

# stop_agent: SIGTERM, and the agent must exit 0 (under ASan, LeakSanitizer makes a leak fail).
stop_agent() {
	kill -TERM "$AGENT_PID" || fail "no agent to stop"
	wait "$AGENT_PID"
	rc=$?
	AGENT_PID=
	[ "$rc" = 0 ] || fail "the agent exited $rc after SIGTERM"
}

kill9_agent() {
	kill -KILL "$AGENT_PID" || fail "no agent to kill"
	wait "$AGENT_PID" 2>/dev/null
	AGENT_PID=
}

# events: the audit log's event names, one per line, in order.
events() {
	"$SESAME" audit export --format jsonl |
		python3 -c 'import json,sys
for l in sys.stdin: print(json.loads(l)["event"])'
}

# audit_field EVENT FIELD: FIELD of every EVENT record, one per line, in order.
audit_field() {
	"$SESAME" audit export --format jsonl |
		python3 -c 'import json,sys
for l in sys.stdin:
    r = json.loads(l)
    if r["event"] == sys.argv[1]: print(r.get(sys.argv[2], ""))' "$1" "$2"
}

# install_init: a fresh installation with the key-file device secret.
install_init() {
	run 0 init "$SESAME" init --json
	is_json init
	INSTALLATION=$(jget init 'j["installation"]')
}

# enroll NAME PIN: enrol through the CLI; sets USER_ID and SHEET.
enroll() {
	run 0 "enroll-$1" sh -c 'echo "$1" | "$0" enroll "$2" --pin-fd 0 --json' "$SESAME" "$2" "$1"
	USER_ID=$(jget "enroll-$1" 'j["user"]')
	SHEET=$(jget "enroll-$1" 'j["recovery"]')
}

# unlock_with EXPECTED_EXIT NAME USER PIN
unlock_with() {
	run "$1" "$2" sh -c 'echo "$1" | "$0" unlock "$2" --pin-fd 0' "$SESAME" "$4" "$3"
}
