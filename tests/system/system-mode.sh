#!/bin/sh
# System mode with real, separate users: sesame-agent --system runs as a dedicated service
# user that alone can read the data directory and the device secret; workers of the configured
# group use sessions through the socket but cannot read, copy or reopen any file, so the retry
# counter holds against them; anyone outside the group is refused by the socket's permissions
# and, when those are opened up, by the agent's own peer check (SO_PEERCRED / SO_PEERGROUPS).
#
# Assisted logins in system mode: the browser runs under its own account, started by
# sesame-browser for the agent alone; a worker can neither hand the agent a browser, nor choose
# it, nor read or trace the one the agent started.
#
# Usage: system-mode.sh SESAME SESAME_AGENT SESAME_BROWSER. Needs root (useradd, setpriv);
# skips (77) otherwise; the browser part needs /usr/bin/chromium.
# Every user, group and directory it creates is removed at exit, on failure too.
set -u

SESAME_BIN=${1:?usage: system-mode.sh SESAME SESAME_AGENT}
AGENT_BIN=${2:?usage: system-mode.sh SESAME SESAME_AGENT SESAME_BROWSER}
LAUNCHER_BIN=${3:?usage: system-mode.sh SESAME SESAME_AGENT SESAME_BROWSER}
SESAME_BIN=$(readlink -f "$SESAME_BIN") && AGENT_BIN=$(readlink -f "$AGENT_BIN") &&
	LAUNCHER_BIN=$(readlink -f "$LAUNCHER_BIN") || exit 1
CHROMIUM=/usr/bin/chromium

if [ "$(id -u)" -ne 0 ]; then
	echo "SKIP: system mode needs root to create users and groups"
	exit 77
fi
for tool in useradd groupadd userdel groupdel setpriv; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		echo "SKIP: $tool is missing"
		exit 77
	fi
done

suffix=$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')
SVC=sesame-svc-$suffix   # the service user: runs the agent, owns every file
WKG=sesame-wk-$suffix    # worker_group
W1=sesame-w1-$suffix     # a worker whose primary group is the worker group
W2=sesame-w2-$suffix     # a worker with the worker group as a supplementary group only
AUD=sesame-au-$suffix    # auditor_group: W2 is a member, W1 is not
OUT=sesame-o-$suffix     # an outsider, not in the group
BRW=sesame-b-$suffix     # browser_user: runs sesame-browser and the browsers it starts
T=
AGENT_PID=
LAUNCHER_PID=
WEB_PID=
made_users=
made_group=
made_auditors=
steps=0

cleanup() {
	status=$?
	trap - EXIT INT TERM HUP
	if [ -n "$AGENT_PID" ] && kill -0 "$AGENT_PID" 2>/dev/null; then
		kill -TERM "$AGENT_PID" 2>/dev/null
		i=0
		while kill -0 "$AGENT_PID" 2>/dev/null && [ "$i" -lt 50 ]; do
			i=$((i + 1))
			sleep 0.1
		done
		kill -KILL "$AGENT_PID" 2>/dev/null
		wait "$AGENT_PID" 2>/dev/null
	fi
	for p in $LAUNCHER_PID $WEB_PID; do
		kill -TERM "$p" 2>/dev/null
	done
	if [ -n "$made_users" ]; then # a browser left behind must not keep its user alive
		for u in $made_users; do
			pkill -KILL -u "$u" 2>/dev/null
		done
	fi
	for u in $made_users; do
		userdel -r "$u" >/dev/null 2>&1 || userdel -f "$u" >/dev/null 2>&1
	done
	[ -n "$made_group" ] && groupdel "$made_group" >/dev/null 2>&1
	[ -n "$made_auditors" ] && groupdel "$made_auditors" >/dev/null 2>&1
	for u in $made_users; do # user-private groups userdel may have left behind
		getent group "$u" >/dev/null 2>&1 && groupdel "$u" >/dev/null 2>&1
	done
	[ -n "$T" ] && rm -rf "$T"
	exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

fail() {
	echo "FAIL: $*"
	if [ -n "$T" ] && [ -f "$T/out" ]; then
		echo "--- last command output:"
		cat "$T/out"
	fi
	if [ -n "$T" ] && [ -f "$T/agent.log" ]; then
		echo "--- agent log:"
		cat "$T/agent.log"
	fi
	exit 1
}

ok() {
	steps=$((steps + 1))
	echo "ok $steps - $*"
}

# --- users, groups and directories -----------------------------------------------------------

T=$(mktemp -d /tmp/sesame-system.XXXXXX) || fail "mktemp"
chmod 0755 "$T" # mktemp makes it 0700 root: the users must be able to traverse it
cd "$T" || fail "cd $T"
mkdir -p "$T/home" && chmod 0755 "$T/home"

NOLOGIN=/usr/sbin/nologin
[ -x "$NOLOGIN" ] || NOLOGIN=/bin/false

groupadd "$WKG" || fail "groupadd $WKG"
made_group=$WKG
groupadd "$AUD" || fail "groupadd $AUD"
made_auditors=$AUD
# The service user is a member of the worker group (SupplementaryGroups= in a unit): an
# unprivileged owner may give its socket only to a group it belongs to (chown(2)).
useradd --system --user-group --groups "$WKG" --no-create-home --home-dir "$T/svchome" \
	--shell "$NOLOGIN" "$SVC" || fail "useradd $SVC"
made_users="$SVC"
useradd --create-home --home-dir "$T/home/$W1" --gid "$WKG" --shell /bin/sh "$W1" ||
	fail "useradd $W1"
made_users="$made_users $W1"
useradd --create-home --home-dir "$T/home/$W2" --user-group --groups "$WKG,$AUD" --shell /bin/sh \
	"$W2" || fail "useradd $W2"
made_users="$made_users $W2"
useradd --create-home --home-dir "$T/home/$OUT" --user-group --shell /bin/sh "$OUT" ||
	fail "useradd $OUT"
made_users="$made_users $OUT"
# The browser account: its own uid and group, in neither the worker group nor the service's.
useradd --system --user-group --no-create-home --home-dir "$T/brhome" --shell "$NOLOGIN" \
	"$BRW" || fail "useradd $BRW"
made_users="$made_users $BRW"
[ "$(id -gn "$W1")" = "$WKG" ] || fail "$W1's primary group is not $WKG"
if [ "$(id -gn "$W2")" = "$WKG" ] || ! id -Gn "$W2" | tr ' ' '\n' | grep -qx "$WKG"; then
	fail "$W2 should have $WKG as a supplementary group only"
fi
id -Gn "$OUT" | tr ' ' '\n' | grep -qx "$WKG" && fail "$OUT must not be in $WKG"
ok "created service user $SVC, group $WKG, workers $W1 (primary) and $W2 (supplementary), outsider $OUT"

# The layout of a real installation, under $T: StateDirectory, RuntimeDirectory, /etc/sesame.
HOMEDIR=$T/lib/sesame        # /var/lib/sesame: the service user's, 0700
KEYDIR=$T/private            # /etc/sesame/private: the service user's, 0700
KEYFILE=$KEYDIR/device-secret
RUNDIR=$T/run                # /run/sesame: the agent makes it 0750, group $WKG
SOCK=$RUNDIR/agent.sock
CONF=$T/etc/sesame.conf      # /etc/sesame/sesame.conf: root's, readable
BRHOME=$T/brhome             # /var/lib/sesame-browser: the browser account's, 0700
BRRUN=$T/brrun               # the launcher's socket: reachable by the service user alone
BRSOCK=$BRRUN/launcher.sock
mkdir -p "$T/lib" "$T/etc" "$HOMEDIR" "$KEYDIR" "$RUNDIR" "$T/svchome" "$BRHOME" "$BRRUN"
chmod 0755 "$T/lib" "$T/etc" "$RUNDIR"
chmod 0700 "$HOMEDIR" "$KEYDIR" "$T/svchome" "$BRHOME"
chown "$SVC:$SVC" "$HOMEDIR" "$KEYDIR" "$RUNDIR" "$T/svchome"
chown "$BRW:$BRW" "$BRHOME"
chown "$BRW:$SVC" "$BRRUN" && chmod 0710 "$BRRUN" # SocketGroup= in the unit
cat >"$CONF" <<EOF
# sesame.conf for the system-mode test
device_secret = file
device_secret_file = $KEYFILE
worker_group = $WKG
auditor_group = $AUD
browser = $CHROMIUM
browser_user = $BRW
browser_socket = $BRSOCK
allow_http_loopback = yes
kdf_passes = 1
kdf_memory_mib = 8
pin_retries = 3
EOF
chmod 0644 "$CONF"

# The binaries must be readable and executable by the other users; a build tree under a
# private directory is not, so the test then runs copies from its own 0755 directory.
SESAME=$SESAME_BIN
AGENT=$AGENT_BIN
if ! setpriv --reuid="$(id -u "$OUT")" --regid="$(id -g "$OUT")" --clear-groups \
	sh -c 'test -x "$1" && test -r "$1" && test -x "$2" && test -r "$2" && test -x "$3"' sh \
	"$SESAME_BIN" "$AGENT_BIN" "$LAUNCHER_BIN"; then
	mkdir -p "$T/bin"
	cp "$SESAME_BIN" "$T/bin/sesame" && cp "$AGENT_BIN" "$T/bin/sesame-agent" &&
		cp "$LAUNCHER_BIN" "$T/bin/sesame-browser" || fail "cannot copy the binaries"
	chmod 0755 "$T/bin" "$T/bin/sesame" "$T/bin/sesame-agent" "$T/bin/sesame-browser"
	SESAME=$T/bin/sesame
	AGENT=$T/bin/sesame-agent
	LAUNCHER_BIN=$T/bin/sesame-browser
	echo "# the build tree is not reachable by other users: running copies in $T/bin"
fi

PY=
for p in /usr/bin/python3 /usr/local/bin/python3; do
	if [ -x "$p" ]; then
		PY=$p
		break
	fi
done

# as USER COMMAND...: run as USER, with USER's groups, a clean environment for sesame (the
# sanitizer options of the test environment are kept: setpriv does not reset it). as_exec
# replaces the shell, so that a background ( as_exec ... ) & has the program's pid in $!.
as_exec() {
	u=$1
	shift
	set -- setpriv --reuid="$(id -u "$u")" --regid="$(id -g "$u")" --init-groups \
		env -u XDG_RUNTIME_DIR -u XDG_DATA_HOME -u XDG_CONFIG_HOME -u SESAME_HOME \
		-u SESAME_CONFIG -u SESAME_AGENT_SOCK -u SESAME_AGENT_PROGRAM -u LANGUAGE \
		LC_ALL=C PATH=/usr/local/bin:/usr/bin:/bin USER="$u" LOGNAME="$u" \
		HOME="$(getent passwd "$u" | cut -d: -f6)" "$@"
	# a hung command fails its step (exit 124) long before meson's SIGKILL, which would
	# leave the users behind
	[ -n "${step_limit:-}" ] && set -- timeout -k 5 "$step_limit" "$@"
	exec "$@"
}
as() (
	step_limit=60
	as_exec "$@"
)
# as the service user, with the installation's paths
svc() {
	as "$SVC" SESAME_HOME="$HOMEDIR" SESAME_CONFIG="$CONF" SESAME_AGENT_SOCK="$SOCK" "$@"
}
# as a worker: only the socket is named
worker() {
	u=$1
	shift
	as "$u" SESAME_AGENT_SOCK="$SOCK" "$@"
}

# run [--in LINE] CMD...: run CMD with LINE (a PIN, a password) on its standard input, else
# /dev/null, its output in $T/out; return its status.
run() {
	if [ "$1" = --in ]; then
		line=$2
		shift 2
		printf '%s\n' "$line" | "$@" >"$T/out" 2>&1
	else
		"$@" </dev/null >"$T/out" 2>&1
	fi
}

# expect [--in LINE] CODE DESCRIPTION CMD...: the command must exit with CODE
expect() {
	if [ "$1" = --in ]; then
		code=$3
		what=$4
		input=$2
		shift 4
		run --in "$input" "$@"
	else
		code=$1
		what=$2
		shift 2
		run "$@"
	fi
	got=$?
	[ "$got" -eq "$code" ] || fail "$what: exit $got, expected $code"
	ok "$what"
}

# denied DESCRIPTION CMD...: the command must fail with "Permission denied"
denied() {
	what=$1
	shift
	if run "$@"; then
		fail "$what: succeeded, it must be refused"
	fi
	grep -q "Permission denied" "$T/out" || fail "$what: failed, but not with EACCES"
	ok "$what: Permission denied"
}

start_agent() {
	(step_limit='' as_exec "$SVC" SESAME_HOME="$HOMEDIR" SESAME_CONFIG="$CONF" SESAME_AGENT_SOCK="$SOCK" \
		"$AGENT" --system) >>"$T/agent.log" 2>&1 &
	AGENT_PID=$!
	i=0
	while [ ! -S "$SOCK" ] || ! svc "$SESAME" status >/dev/null 2>&1; do
		kill -0 "$AGENT_PID" 2>/dev/null || fail "the agent exited at start"
		i=$((i + 1))
		[ "$i" -lt 200 ] || fail "the agent did not answer within 10 s"
		sleep 0.05
	done
	[ "$(readlink /proc/"$AGENT_PID"/exe)" = "$AGENT" ] || fail "pid $AGENT_PID is not the agent"
	[ "$(stat -c %U /proc/"$AGENT_PID")" = "$SVC" ] || fail "the agent does not run as $SVC"
}

# stop_agent: SIGTERM, and the agent must end cleanly (status 0) within 10 s
stop_agent() {
	kill -TERM "$AGENT_PID" || fail "kill the agent"
	i=0
	while kill -0 "$AGENT_PID" 2>/dev/null && [ "$i" -lt 100 ]; do
		i=$((i + 1))
		sleep 0.1
	done
	if kill -0 "$AGENT_PID" 2>/dev/null; then
		kill -KILL "$AGENT_PID"
		wait "$AGENT_PID"
		AGENT_PID=
		fail "the agent did not stop within 10 s of SIGTERM"
	fi
	wait "$AGENT_PID"
	rc=$?
	AGENT_PID=
	[ "$rc" -eq 0 ] || fail "the agent exited with $rc on SIGTERM"
}

# --- the installation, made by the service user ----------------------------------------------

expect 0 "sesame init as the service user" svc "$SESAME" init
grep -q "$KEYFILE" "$T/out" || fail "init did not use the key file $KEYFILE"
[ -f "$KEYFILE" ] || fail "no key file at $KEYFILE"
bad=$(find "$HOMEDIR" "$KEYDIR" \( ! -user "$SVC" -o -perm /077 \) -print)
[ -z "$bad" ] || fail "files not private to $SVC: $bad"
ok "every file of the installation and the key file belongs to $SVC, mode without group/other bits"

start_agent
ok "sesame-agent --system started as $SVC"
[ "$(stat -c '%U %G %a' "$RUNDIR")" = "$SVC $WKG 750" ] ||
	fail "socket directory: $(stat -c '%U %G %a' "$RUNDIR"), expected $SVC $WKG 750"
[ "$(stat -c '%U %G %a' "$SOCK")" = "$SVC $WKG 660" ] ||
	fail "socket: $(stat -c '%U %G %a' "$SOCK"), expected $SVC $WKG 660"
ok "socket directory 0750 and socket 0660, group $WKG"

# --- a worker's appointment through the socket -----------------------------------------------

expect 0 "status as $W1" worker "$W1" "$SESAME" status
grep -q "system mode" "$T/out" || fail "status does not say system mode"
expect --in 274916 0 "enroll Marie as $W1" worker "$W1" "$SESAME" enroll Marie --pin-fd 0
expect --in 581302 0 "enroll Jeanne as $W1" worker "$W1" "$SESAME" enroll Jeanne --pin-fd 0
# a new PIN meets the agent's rules, not those of the worker's own sesame.conf
printf 'pin_min_length = 10\n' >"$T/home/$W1/strict.conf"
printf 'pin_min_length = 4\n' >"$T/home/$W1/lax.conf"
chmod 0644 "$T/home/$W1/strict.conf" "$T/home/$W1/lax.conf"
expect --in 592817 0 "enroll Paul as $W1, whose own sesame.conf asks 10 digits" \
	worker "$W1" SESAME_CONFIG="$T/home/$W1/strict.conf" "$SESAME" enroll Paul --pin-fd 0
expect --in 59281 2 "a 5-digit PIN is refused, though $W1's own sesame.conf allows 4" \
	worker "$W1" SESAME_CONFIG="$T/home/$W1/lax.conf" "$SESAME" enroll Pierre --pin-fd 0
expect --in 274916 0 "unlock Marie as $W1" worker "$W1" "$SESAME" unlock Marie --pin-fd 0
expect --in caf-secret-123 0 "add a credential for Marie as $W1" \
	worker "$W1" "$SESAME" add Marie --service CAF --url https://caf.fr/ --username marie \
	--secret-fd 0
expect 0 "list Marie's services as $W1" worker "$W1" "$SESAME" list Marie
grep -q CAF "$T/out" || fail "list Marie does not show CAF"
grep -q caf-secret-123 "$T/out" && fail "list shows the password"
expect 0 "list people as $W1" worker "$W1" "$SESAME" list
grep -q Jeanne "$T/out" || fail "list does not show Jeanne"
expect 0 "status as $W1 shows the session" worker "$W1" "$SESAME" status
grep -q "Session open for Marie" "$T/out" || fail "no session shown for Marie"

# People's names in the log are for auditors: W2 is in auditor_group, W1 is not.
if [ -n "$PY" ]; then
	cat >"$T/names.py" <<'PY'
import json, socket, struct, sys
def ask(s, req):
    body = json.dumps(dict(req, v=1)).encode()
    s.sendall(struct.pack(">I", len(body)) + body)
    head = s.recv(4, socket.MSG_WAITALL)
    return json.loads(s.recv(struct.unpack(">I", head)[0], socket.MSG_WAITALL))
s = socket.socket(socket.AF_UNIX)
s.settimeout(10)
s.connect(sys.argv[1])
marie = ask(s, {"op": "resolve", "user": "Marie"})["user"]
r = ask(s, {"op": "names", "users": [marie]})
print(json.dumps(r))
if sys.argv[2] == "auditor":
    sys.exit(0 if r.get("ok") and r["names"][0]["name"] == "Marie" else 1)
sys.exit(0 if not r.get("ok") and r.get("reason") == "not_auditor" and "Marie" not in json.dumps(r) else 1)
PY
	chmod 0644 "$T/names.py"
	run as "$W1" "$PY" "$T/names.py" "$SOCK" refused ||
		fail "$W1, not in auditor_group, is given names: $(cat "$T/out")"
	ok "$W1 (not in auditor_group) is refused people's names: $(cat "$T/out")"
	run as "$W2" "$PY" "$T/names.py" "$SOCK" auditor ||
		fail "$W2, in auditor_group, is refused names: $(cat "$T/out")"
	ok "$W2 (in auditor_group) reads people's names"
fi

# sessions belong to the connecting uid: W2 does not get W1's session
expect 0 "status as $W2 (worker group as a supplementary group: SO_PEERGROUPS)" \
	worker "$W2" "$SESAME" status
grep -q "No open session" "$T/out" || fail "$W2 sees $W1's session"
expect 5 "list Marie as $W2 needs its own session" worker "$W2" "$SESAME" list Marie
expect --in 274916 0 "unlock Marie as $W2" worker "$W2" "$SESAME" unlock Marie --pin-fd 0
expect 0 "list Marie as $W2" worker "$W2" "$SESAME" list Marie
grep -q CAF "$T/out" || fail "list Marie as $W2 does not show CAF"
expect 0 "lock as $W2" worker "$W2" "$SESAME" lock
expect 0 "lock as $W1" worker "$W1" "$SESAME" lock
expect 5 "after lock, list Marie as $W1 needs the PIN again" worker "$W1" "$SESAME" list Marie

# --- what the worker cannot read ---------------------------------------------------------------

[ -n "$(find "$HOMEDIR/vaults" -type f)" ] || fail "no vault file was written"
denied "$W1 lists the data directory" as "$W1" ls "$HOMEDIR"
denied "$W1 lists the vault directory" as "$W1" ls "$HOMEDIR/vaults"
for f in $(find "$HOMEDIR" -type f) "$KEYFILE"; do
	denied "$W1 reads ${f#"$T"/}" as "$W1" cat "$f"
done
denied "$W1 lists the key file's directory" as "$W1" ls "$KEYDIR"
denied "$W1 copies the vault directory" as "$W1" cp -r "$HOMEDIR/vaults" "$T/home/$W1/copy"
denied "$W2 reads the audit log" as "$W2" cat "$HOMEDIR/audit/audit.log"
denied "$W2 reads the key file" as "$W2" cat "$KEYFILE"
expect 11 "$W1 cannot verify the audit log (cannot read it)" \
	as "$W1" SESAME_HOME="$HOMEDIR" SESAME_CONFIG="$CONF" "$SESAME" audit verify

# a worker's own agent over the service user's data: it cannot open anything
mkdir -p "$T/home/$W1/run" && chown "$W1" "$T/home/$W1/run" && chmod 0700 "$T/home/$W1/run"
for mode in --system ""; do
	run as "$W1" SESAME_HOME="$HOMEDIR" SESAME_CONFIG="$CONF" \
		SESAME_AGENT_SOCK="$T/home/$W1/run/agent.sock" timeout 20 "$AGENT" $mode
	rc=$?
	[ "$rc" -eq 1 ] || fail "$W1's own agent ${mode:-(user mode)}: exit $rc, expected 1"
	grep -qi "permission\|unsafe" "$T/out" || fail "$W1's own agent failed, not on permissions"
	[ ! -e "$T/home/$W1/run/agent.sock" ] || fail "$W1's own agent made a socket"
	ok "$W1 cannot run its own agent ${mode:-(user mode)} on the service user's data: $(head -n1 "$T/out")"
done

# --- the retry counter holds against the workers ---------------------------------------------

expect --in 111111 3 "wrong PIN 1 for Jeanne as $W1" \
	worker "$W1" "$SESAME" unlock Jeanne --pin-fd 0
expect --in 222222 3 "wrong PIN 2 for Jeanne as $W2" \
	worker "$W2" "$SESAME" unlock Jeanne --pin-fd 0
run --in 333333 worker "$W1" "$SESAME" unlock Jeanne --pin-fd 0
rc=$?
[ "$rc" -eq 3 ] || [ "$rc" -eq 4 ] || fail "wrong PIN 3: exit $rc, expected 3 or 4"
grep -q "blocked" "$T/out" || fail "after the third wrong PIN the vault is not said blocked"
ok "wrong PIN 3 for Jeanne as $W1: the vault is blocked"
expect --in 581302 4 "the right PIN for Jeanne is refused: blocked ($W1)" \
	worker "$W1" "$SESAME" unlock Jeanne --pin-fd 0
expect --in 581302 4 "the right PIN for Jeanne is refused: blocked ($W2)" \
	worker "$W2" "$SESAME" unlock Jeanne --pin-fd 0
denied "$W1 copies the vault files to reset the counter" \
	as "$W1" cp -r "$HOMEDIR/vaults" "$T/home/$W1/copy"
for f in $(find "$HOMEDIR/vaults" -type f); do
	denied "$W1 overwrites ${f#"$T"/}" as "$W1" sh -c ': >"$1"' sh "$f"
done
stop_agent
start_agent
expect --in 581302 4 "after an agent restart Jeanne is still blocked" \
	worker "$W1" "$SESAME" unlock Jeanne --pin-fd 0
expect --in 274916 0 "Marie is not affected" worker "$W1" "$SESAME" unlock Marie --pin-fd 0
expect 0 "lock as $W1" worker "$W1" "$SESAME" lock

# --- the outsider -------------------------------------------------------------------------------

expect 6 "$OUT cannot reach the agent (socket directory 0750)" worker "$OUT" "$SESAME" status
grep -q "Permission denied" "$T/out" || fail "$OUT: not refused with EACCES"
ok "$OUT: $(head -n1 "$T/out")"
denied "$OUT lists the socket directory" as "$OUT" ls "$RUNDIR"

# The probe, a raw client: "eacces" = connect() is refused by the file system; "refused" = the
# agent closes the connection before a single byte is exchanged; "accepted" = the agent keeps
# the connection open and answers a status request.
cat >"$T/probe.py" <<'PY'
import json, socket, struct, sys
path, want = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
try:
    s.connect(path)
except PermissionError:
    print("connect: EACCES")
    sys.exit(0 if want == "eacces" else 1)
if want == "eacces":
    print("connect succeeded")
    sys.exit(1)
s.settimeout(5 if want == "refused" else 0.5)
try:
    data = s.recv(1)
    closed = data == b""
    print("recv before any request:", "EOF (closed by the agent)" if closed else repr(data))
except socket.timeout:
    closed = False
    print("recv before any request: nothing, the connection stays open;")
except ConnectionResetError:
    closed = True
    print("recv before any request: ECONNRESET (closed by the agent)")
if want == "refused":
    sys.exit(0 if closed else 1)
if closed:
    sys.exit(1)
s.settimeout(10)
body = json.dumps({"v": 1, "op": "status"}).encode()
s.sendall(struct.pack(">I", len(body)) + body)
head = s.recv(4, socket.MSG_WAITALL)
reply = json.loads(s.recv(struct.unpack(">I", head)[0], socket.MSG_WAITALL))
print("status reply: ok =", reply.get("ok"), "mode =", reply.get("agent", {}).get("mode"))
sys.exit(0 if reply.get("ok") is True else 1)
PY
chmod 0644 "$T/probe.py"
probe() { # user, expectation
	as "$1" "$PY" "$T/probe.py" "$SOCK" "$2"
}

if [ -n "$PY" ]; then
	run probe "$OUT" eacces || fail "$OUT connect is not refused with EACCES"
	ok "$OUT connect(): $(cat "$T/out")"
	run probe "$W1" accepted || fail "$W1 raw connection is not served"
	ok "$W1 raw connection: $(tr '\n' ' ' <"$T/out")"
	run probe "$W2" accepted || fail "$W2 raw connection is not served"
	ok "$W2 raw connection: $(tr '\n' ' ' <"$T/out")"
	run probe "$W1" refused && fail "probe control: $W1 seen as refused"
	ok "probe control: $W1 is not seen as refused"
else
	echo "# note: no python3 for every user, the raw-socket probes are skipped"
fi

# Open the file permissions up: now only the agent's own peer check stands in the way.
chmod 0755 "$RUNDIR" && chmod 0666 "$SOCK" || fail "chmod the socket"
if [ -n "$PY" ]; then
	run probe "$OUT" refused || fail "$OUT is not refused by the agent's peer check"
	ok "$OUT with the socket 0666: $(cat "$T/out")"
	# W2 without its supplementary groups is an outsider too: the group, not the uid, counts
	run setpriv --reuid="$(id -u "$W2")" --regid="$(id -g "$W2")" --clear-groups \
		"$PY" "$T/probe.py" "$SOCK" refused ||
		fail "$W2 without the worker group is not refused"
	ok "$W2 with its supplementary groups cleared is refused by the agent"
fi
# The CLI must fail without a reply and say why: exit 6 (EXIT_AGENT), never a silent SIGPIPE.
run worker "$OUT" "$SESAME" status
rc=$?
[ "$rc" -eq 6 ] || fail "$OUT: sesame status exit $rc, expected 6"
grep -q "system mode\|No open session" "$T/out" && fail "$OUT got a reply"
grep -q "refused this connection" "$T/out" || fail "$OUT: no clear refusal: $(cat "$T/out")"
ok "$OUT: sesame status fails without a reply (exit $rc: $(head -n1 "$T/out"))"
expect 0 "$W1 is still served" worker "$W1" "$SESAME" status
chmod 0750 "$RUNDIR" && chmod 0660 "$SOCK" || fail "chmod the socket back"

# --- assisted logins: the browser belongs to the agent, under its own account -----------------

if [ ! -x "$CHROMIUM" ] || [ -z "$PY" ]; then
	echo "# note: no $CHROMIUM or python3: the system-mode browser checks are skipped"
else
	# the login page, on loopback: it records what it receives
	cat >"$T/web.py" <<'PY'
import http.server, sys
out = sys.argv[1]
PAGE = b"""<!doctype html><title>Connexion</title><form method="post" action="/submit">
<input name="username" autocomplete="username"><input type="password" name="password">
<button type="submit">Se connecter</button></form>"""
class H(http.server.BaseHTTPRequestHandler):
    def log_message(self, *a):
        pass
    def reply(self, body):
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def do_GET(self):
        self.reply(PAGE)
    def do_POST(self):
        data = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        with open(out, "ab") as f:
            f.write(data + b"\n")
        self.reply(b"<!doctype html><p>Bienvenue</p>")
# a thread per connection: a kept browser's idle connection must not hold up the next login's
s = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
s.daemon_threads = True
with open(out + ".port", "w") as f:
    f.write(str(s.server_address[1]))
s.serve_forever()
PY
	"$PY" "$T/web.py" "$T/posted" >/dev/null 2>&1 &
	WEB_PID=$!
	i=0
	while [ ! -s "$T/posted.port" ]; do
		i=$((i + 1))
		[ "$i" -lt 200 ] || fail "the test's web server did not start"
		sleep 0.05
	done
	URL="http://127.0.0.1:$(cat "$T/posted.port")/login"

	# a profile left by a launcher that was killed: the next one removes it at start
	mkdir -p "$BRHOME/sesame-browser-stale/Default" && echo cookie >"$BRHOME/sesame-browser-stale/Default/Cookies"
	chown -R "$BRW:$BRW" "$BRHOME/sesame-browser-stale"
	(step_limit='' as_exec "$BRW" "$LAUNCHER_BIN" --serve --socket "$BRSOCK" \
		--agent-user "$SVC" --profiles "$BRHOME") >>"$T/launcher.log" 2>&1 &
	LAUNCHER_PID=$!
	i=0
	while [ ! -S "$BRSOCK" ]; do
		kill -0 "$LAUNCHER_PID" 2>/dev/null || fail "sesame-browser --serve exited"
		i=$((i + 1))
		[ "$i" -lt 200 ] || fail "sesame-browser --serve made no socket"
		sleep 0.05
	done
	[ ! -e "$BRHOME/sesame-browser-stale" ] || fail "a stale profile survived the launcher's start"
	ok "sesame-browser --serve runs as $BRW and removed a profile left behind"

	CANARY="Canary-$suffix-Pw"
	expect --in 274916 0 "unlock Marie as $W1 for a login" \
		worker "$W1" "$SESAME" unlock Marie --pin-fd 0
	expect --in "$CANARY" 0 "add a login page on loopback for Marie" \
		worker "$W1" "$SESAME" add Marie --service Local --url "$URL" --username marie \
		--secret-fd 0

	# a worker's own fake browser, named in the environment, is never started
	printf '#!/bin/sh\ntouch %s/fake-ran\nexec sleep 30\n' "$T" >"$T/fake-browser"
	chmod 0755 "$T/fake-browser"
	expect 0 "assisted login as $W1, kept open" worker "$W1" \
		SESAME_BROWSER="$T/fake-browser" SESAME_BROWSER_FLAGS=--remote-debugging-port=9 \
		"$SESAME" login Marie Local --headless --keep-open --json
	grep -q "username=marie&password=$CANARY" "$T/posted" ||
		fail "the page did not receive the credential: $(cat "$T/posted" 2>/dev/null)"
	[ ! -e "$T/fake-ran" ] || fail "the worker's SESAME_BROWSER was started"
	ok "the page received the credential; the worker's SESAME_BROWSER was ignored"
	BPID=$(sed -n 's/.*"browser":{"pid":\([0-9]*\).*/\1/p' "$T/out")
	[ -n "$BPID" ] && [ -d "/proc/$BPID" ] || fail "no running browser in the reply: $(cat "$T/out")"
	[ "$(stat -c %U "/proc/$BPID")" = "$BRW" ] ||
		fail "the browser runs as $(stat -c %U "/proc/$BPID"), not $BRW"
	tr '\0' ' ' <"/proc/$BPID/cmdline" | grep -q remote-debugging-port &&
		fail "the worker's SESAME_BROWSER_FLAGS reached the browser"
	ok "the browser (pid $BPID) runs as $BRW"
	PROFILE=$(tr '\0' '\n' <"/proc/$BPID/cmdline" | sed -n 's/^--user-data-dir=//p')
	[ -d "$PROFILE" ] || fail "no profile directory for the browser"
	denied "$W1 reads the browser's environment" as "$W1" cat "/proc/$BPID/environ"
	denied "$W1 lists the browser's profile" as "$W1" ls "$PROFILE"
	denied "$SVC (the agent's account) lists the browser's profile" as "$SVC" ls "$PROFILE"
	run as "$W1" "$PY" -c '
import sys
pid = int(sys.argv[1])
maps = open("/proc/%d/maps" % pid).read()
' "$BPID" && fail "$W1 could read the browser's memory map"
	grep -q "Permission denied\|PermissionError" "$T/out" ||
		fail "$W1 reading /proc/$BPID/maps: $(cat "$T/out")"
	run as "$W1" "$PY" -c '
import sys
f = open("/proc/%s/mem" % sys.argv[1], "rb")
' "$BPID" && fail "$W1 could open the browser's memory"
	grep -q "Permission denied\|PermissionError" "$T/out" ||
		fail "$W1 opening /proc/$BPID/mem: $(cat "$T/out")"
	ok "$W1 can open neither /proc/$BPID/mem nor /proc/$BPID/maps"
	
	# a hostile client of the worker's hands the agent its own "browser"
	cat >"$T/hostile.py" <<'PY'
import json, os, socket, struct, sys
cmd_r, cmd_w = os.pipe()
ev_r, ev_w = os.pipe()
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(30)
s.connect(sys.argv[1])
body = json.dumps({"v": 1, "op": "login", "user": "Marie", "service": "Local"}).encode()
s.sendmsg([struct.pack(">I", len(body)) + body],
          [(socket.SOL_SOCKET, socket.SCM_RIGHTS, struct.pack("ii", cmd_r, ev_w))])
os.close(cmd_r)
os.close(ev_w)
head = s.recv(4, socket.MSG_WAITALL)
reply = json.loads(s.recv(struct.unpack(">I", head)[0], socket.MSG_WAITALL))
print(reply)
got = os.read(ev_r, 65536)
print("written into the client's pipe:", got)
sys.exit(0 if reply.get("code") == -101 and got == b"" else 1)
PY
	chmod 0644 "$T/hostile.py"
	run as "$W1" "$PY" "$T/hostile.py" "$SOCK" || fail "hostile client: $(cat "$T/out")"
	ok "$W1's client with its own pipes is refused, and nothing is written to them"
	grep -c "$CANARY" "$T/posted" | grep -qx 1 || fail "the hostile client caused a login"

	expect 1 "--no-submit is refused in system mode" worker "$W1" "$SESAME" login Marie Local \
		--headless --no-submit
	grep -q "not offered in system mode" "$T/out" || fail "--no-submit: $(cat "$T/out")"

	# the launcher answers the agent's uid alone; its socket is closed to the workers
	denied "$W1 connects to the launcher" as "$W1" "$PY" -c '
import socket, sys
socket.socket(socket.AF_UNIX).connect(sys.argv[1])' "$BRSOCK"
	chmod 0711 "$BRRUN"
	run as "$W1" "$PY" "$T/probe.py" "$BRSOCK" refused ||
		fail "the launcher served $W1: $(cat "$T/out")"
	ok "with its directory opened, the launcher still refuses $W1: $(head -n1 "$T/out")"
	chmod 0710 "$BRRUN"

	# the end of the session ends the browser and removes its profile
	expect 0 "lock Marie as $W1" worker "$W1" "$SESAME" lock Marie
	i=0
	while [ -d "/proc/$BPID" ] || [ -d "$PROFILE" ]; do
		i=$((i + 1)) # the launcher's own bounds: 3 s of grace, then SIGKILL
		[ "$i" -lt 400 ] || fail "after lock the browser or its profile is still there"
		sleep 0.05
	done
	ok "lock closed the browser and removed its profile"

	# A share of the logins: W1 keeps 4 browsers open (the login done, each browser kept for
	# the procedure); a 5th and a 6th are refused with -108 at once, before any browser starts,
	# while W2 still gets its login. Each start is bounded from the machine's measured costs
	# (docs/protocol.md, "Time bounds"), so a busy machine delays the logins without failing
	# them; a command's own limit here is the agent's longest wait for a login.
	long_worker() (
		step_limit=300
		u=$1
		shift
		as_exec "$u" SESAME_AGENT_SOCK="$SOCK" "$@"
	)
	expect --in 274916 0 "unlock Marie as $W1 for kept logins" \
		worker "$W1" "$SESAME" unlock Marie --pin-fd 0
	KEPT=
	for n in 1 2 3 4; do
		expect 0 "kept login $n of $W1" long_worker "$W1" \
			"$SESAME" login Marie Local --headless --keep-open --json
		p=$(sed -n 's/.*"browser":{"pid":\([0-9]*\).*/\1/p' "$T/out")
		grep -q '"kept_open":true' "$T/out" && [ -n "$p" ] && [ -d "/proc/$p" ] ||
			fail "login $n of $W1 was not kept open: $(cat "$T/out")"
		KEPT="$KEPT $p"
	done
	for n in 5 6; do
		run long_worker "$W1" "$SESAME" login Marie Local --headless --keep-open --json
		[ $? -ne 0 ] && grep -q '"code":-108' "$T/out" &&
			grep -q 'as many assisted logins as one worker may' "$T/out" ||
			fail "login $n of $W1 beyond its share: $(cat "$T/out")"
	done
	ok "$W1 keeps 4 browsers open; its 5th and 6th logins are refused with -108"
	expect --in 274916 0 "unlock Marie as $W2" worker "$W2" "$SESAME" unlock Marie --pin-fd 0
	expect 0 "assisted login as $W2 while $W1 holds its share" long_worker "$W2" \
		"$SESAME" login Marie Local --headless --json
	grep -q '"ok":true' "$T/out" || fail "$W2's login: $(cat "$T/out")"
	ok "$W2 is served while $W1 holds its share of the logins"
	expect 0 "lock Marie as $W2" worker "$W2" "$SESAME" lock Marie
	expect 0 "lock Marie as $W1 (its kept browsers)" worker "$W1" "$SESAME" lock Marie
	i=0
	for p in $KEPT; do
		while [ -d "/proc/$p" ]; do
			i=$((i + 1))
			[ "$i" -lt 800 ] || fail "after lock the kept browser $p still runs"
			sleep 0.05
		done
	done
	ok "lock closed $W1's 4 kept browsers"
fi

# --- one worker cannot lock the others out -----------------------------------------------------

# W1 holds as many connections as it can (300 tried), two of them stuck in a frame that never
# completes (a header cut short; a header announcing 64 KiB and ten bytes of body). Those beyond
# its share are answered -108 at once; the rest are closed by the agent once their wait is over.
# W2 is served all along. hold.py prints what came of them as JSON.
cat >"$T/hold.py" <<'PY'
import json, select, socket, struct, sys, time
path, tries, ready = sys.argv[1], int(sys.argv[2]), sys.argv[3]
socks = []
for i in range(tries):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    if i == 0:
        s.sendall(b"\0\1")
    elif i == 1:
        s.sendall(struct.pack(">I", 65536) + b"0123456789")
    socks.append(s)
t0 = time.monotonic()
refused, closed, pending = 0, [], set(socks)
announced = False
while pending and time.monotonic() - t0 < 90:
    if not announced and refused + len(closed) + 64 >= tries:
        open(ready, "w").write("%d\n" % refused)
        announced = True
    r, _, _ = select.select(list(pending), [], [], 1.0)
    for s in r:
        data = s.recv(65536)
        if len(data) > 4 and json.loads(data[4:]).get("code") == -108:
            refused += 1
        else:
            closed.append(time.monotonic() - t0)
        pending.discard(s)
        s.close()
if not announced:
    open(ready, "w").write("%d\n" % refused)
print(json.dumps({"refused": refused, "closed": len(closed), "still_open": len(pending),
                  "first_close": min(closed) if closed else None,
                  "last_close": max(closed) if closed else None}))
PY
chmod 0644 "$T/hold.py"
HELD="$T/home/$W1/held"
rm -f "$HELD"
(as_exec "$W1" "$PY" "$T/hold.py" "$SOCK" 300 "$HELD") >"$T/hold.out" 2>&1 &
HOLD_PID=$!
i=0
while [ ! -s "$HELD" ]; do # W1's share is taken, the rest refused
	kill -0 "$HOLD_PID" 2>/dev/null || fail "hold.py ended early: $(cat "$T/hold.out")"
	i=$((i + 1))
	[ "$i" -lt 600 ] || fail "$W1's 300 connections were neither held nor refused in 30 s"
	sleep 0.05
done
expect 0 "$W2's status is answered while $W1 holds its connections and two half frames" \
	worker "$W2" "$SESAME" status
expect --in 274916 0 "$W2 unlocks Marie meanwhile" worker "$W2" "$SESAME" unlock Marie --pin-fd 0
expect 0 "$W2 locks" worker "$W2" "$SESAME" lock
expect 1 "$W1's own next request is refused: its share is used" worker "$W1" "$SESAME" status
grep -q "as many agent connections" "$T/out" || fail "$W1 over its share: $(cat "$T/out")"
wait "$HOLD_PID" || fail "hold.py: $(cat "$T/hold.out")"
"$PY" - "$T/hold.out" <<'PY' || fail "$W1's connections: $(cat "$T/hold.out")"
import json, sys
r = json.loads(open(sys.argv[1]).read().splitlines()[-1])
# 64 held (the two half frames among them), the rest refused; every held one closed by the
# agent's deadline (10 s), neither at once nor never
ok = (r["refused"] == 300 - 64 and r["closed"] == 64 and r["still_open"] == 0
      and r["first_close"] >= 5 and r["last_close"] <= 60)
sys.exit(0 if ok else 1)
PY
ok "$W1 held 64 connections, 236 were refused with -108, the held ones closed at their deadline: $(tail -n1 "$T/hold.out")"
expect 0 "$W1 is served again once its connections are closed" worker "$W1" "$SESAME" status

# The stop is bounded whatever is under way: W2's unlock waits on a KDF helper that was
# stopped (SIGSTOP), W1 holds a half frame; SIGTERM still ends the agent within 15 s.
helpers=$(ps -o pid= --ppid "$AGENT_PID" | tr -d ' ')
[ -n "$helpers" ] || fail "no KDF helper under the agent (pid $AGENT_PID)"
kill -STOP $helpers
(printf '592817\n' | as_exec "$W2" SESAME_AGENT_SOCK="$SOCK" "$SESAME" unlock Paul --pin-fd 0) \
	>"$T/stuck.out" 2>&1 &
STUCK_PID=$!
(as_exec "$W1" "$PY" -c '
import socket, struct, sys, time
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.sendall(struct.pack(">I", 100))
time.sleep(120)' "$SOCK") >/dev/null 2>&1 &
HALF_PID=$!
i=0
# a pool thread waits in poll(2) on the stopped helper beside the loop's own poll (idle pool
# threads wait on a futex): the unlock is under way
until [ "$(cat /proc/"$AGENT_PID"/task/*/syscall 2>/dev/null | grep -c '^7 ')" -ge 2 ]; do
	i=$((i + 1))
	[ "$i" -lt 600 ] || fail "the unlock never reached the KDF helper"
	sleep 0.05
done
t0=$(date +%s.%N)
kill -TERM "$AGENT_PID"
i=0
while kill -0 "$AGENT_PID" 2>/dev/null; do
	i=$((i + 1))
	[ "$i" -lt 600 ] || fail "the agent did not end within 30 s of SIGTERM"
	sleep 0.05
done
wait "$AGENT_PID"
took=$(awk -v t0="$t0" -v t1="$(date +%s.%N)" 'BEGIN { printf "%.1f", t1 - t0 }')
AGENT_PID=
awk -v t="$took" 'BEGIN { exit !(t <= 15 + 5) }' || fail "the stop took $took s, the bound is 15 s"
grep -q "the stop took too long" "$T/agent.log" || fail "the agent did not say why it left"
wait "$STUCK_PID"
rc=$?
[ "$rc" -eq 6 ] || fail "$W2's unlock during the stop: exit $rc, expected 6: $(cat "$T/stuck.out")"
kill "$HALF_PID" 2>/dev/null
kill -CONT $helpers 2>/dev/null
ok "SIGTERM ended the agent in $took s despite a stopped KDF helper and a half frame; $W2's unlock was told"
start_agent

# --- a worker's own records, through the agent: workers cannot read the log ------------------

for w in "$W1" "$W2"; do
	expect 0 "sesame audit mine as $w" worker "$w" "$SESAME" audit mine --format jsonl
	grep '^{' "$T/out" >"$T/mine-$w"
done
expect 0 "sesame audit mine as $W1, in plain words" worker "$W1" "$SESAME" audit mine --lang en
grep -q "Marie" "$T/out" && fail "$W1, not an auditor, is given a person's name: $(cat "$T/out")"

# --- the audit log, read by the service user ---------------------------------------------------

stop_agent
expect 0 "sesame audit verify as $SVC: intact" svc "$SESAME" audit verify
expect 0 "sesame audit show --worker $W1" svc "$SESAME" audit show --worker "$W1" --json
for ev in user_enrolled pin_ok session_opened credential_added session_closed pin_wrong \
	vault_blocked; do
	grep "\"event\":\"$ev\"" "$T/out" | grep -q "\"login\":\"$W1\"" ||
		fail "no $ev record naming $W1"
done
ok "the log names $W1 (worker.login) in its enrol, unlock, add, lock, wrong-PIN, blocked records"
expect 0 "sesame audit show --worker $W2" svc "$SESAME" audit show --worker "$W2" --json
for ev in pin_ok session_opened session_closed pin_wrong; do
	grep "\"event\":\"$ev\"" "$T/out" | grep -q "\"login\":\"$W2\"" ||
		fail "no $ev record naming $W2"
done
ok "the log names $W2 in its unlock, lock and wrong-PIN records"
# each worker was given exactly their own records: those of their uid, every one of them
for w in "$W1" "$W2"; do
	svc "$SESAME" audit show --json >"$T/all" 2>&1 || fail "audit show as $SVC: $(cat "$T/all")"
	"${PY:-python3}" - "$T/mine-$w" "$T/all" "$(id -u "$w")" <<'PY' || fail "audit mine as $w"
import json, sys
mine = [json.loads(l) for l in open(sys.argv[1])]
theirs = [r for r in map(json.loads, open(sys.argv[2])) if r["worker"]["uid"] == int(sys.argv[3])]
others = [r for r in mine if r["worker"]["uid"] != int(sys.argv[3])]
if others or not mine:
    sys.exit("%d records, %d of another worker" % (len(mine), len(others)))
want = [r["seq"] for r in theirs if r["seq"] <= mine[-1]["seq"]]
if [r["seq"] for r in mine] != want:
    sys.exit("records %s, not %s" % ([r["seq"] for r in mine], want))
PY
done
ok "sesame audit mine gives $W1 and $W2 every record of their own and none of the other's"
for w in "$W1" "$W2"; do
	grep -q "\"worker\":{\"uid\":$(id -u "$w"),\"login\":\"$w\"}" "$HOMEDIR/audit/audit.log" ||
		fail "no record with worker {uid, login} of $w in audit.log"
done
ok "audit.log records carry worker.uid and worker.login of $W1 and $W2"
grep '"event":"agent_started"' "$HOMEDIR/audit/audit.log" | grep -q "\"login\":\"$SVC\"" ||
	fail "no agent_started record by $SVC"
ok "agent_started is recorded under the service user $SVC"
grep "\"login\":\"$OUT\"" "$HOMEDIR/audit/audit.log" >/dev/null &&
	fail "the outsider $OUT appears in the log"
ok "the outsider left no record"
if [ -n "${BPID:-}" ]; then
	grep '"event":"browser_started"' "$HOMEDIR/audit/audit.log" | grep -q "pid $BPID $CHROMIUM" ||
		fail "browser_started does not name the browser's pid $BPID and program"
	grep '"event":"login_filled"' "$HOMEDIR/audit/audit.log" | grep -q "\"login\":\"$W1\"" ||
		fail "no login_filled for $W1"
	ok "the log names the browser the agent started (pid $BPID) and the filled login"
fi

echo "PASS: $steps checks"
