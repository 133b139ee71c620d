#!/bin/sh
# Install what is missing, build, and show Sesame at work in a throw-away installation:
# init, enrol a person, record a credential, a wrong PIN then the right one, lock, audit verify.
set -eu
cd "$(dirname "$0")/.."
say_failure() { printf '\nsesame demo: %s\n' "$*" >&2; }
# Whatever step fails, the person learns which one: nothing ends in silence.
trap 'rc=$?; [ "$rc" -eq 0 ] || say_failure "stopped with status $rc (see the messages above)"' EXIT
tools/deps.sh demo || { say_failure "the packages it needs could not be installed"; exit 1; }
# The build's messages are kept out of the way, and shown when the build fails. The demo needs
# neither the tests nor the benchmarks (nor their packages, such as libcmocka-dev).
log=$(mktemp "${TMPDIR:-/tmp}/sesame-demo-build.XXXXXX")
build() { # what, command...
	what=$1
	shift
	if ! "$@" >"$log" 2>&1; then
		cat "$log" >&2
		rm -f "$log"
		say_failure "$what failed: its messages are above"
		trap - EXIT
		exit 1
	fi
}
if [ -f build/build.ninja ]; then
	build "configuring the build (meson setup)" meson setup --reconfigure build -Dtests=false -Dbench=false
else
	build "configuring the build (meson setup)" meson setup build -Dtests=false -Dbench=false
fi
build "compiling (meson compile)" meson compile -C build sesame sesame-agent sesame-browser
rm -f "$log"

bin=$PWD/build/cli/sesame
demo=$(mktemp -d "${TMPDIR:-/tmp}/sesame-demo.XXXXXX")
export SESAME_HOME="$demo/home" SESAME_AGENT_SOCK="$demo/agent.sock" XDG_CONFIG_HOME="$demo/config"
# Where no Secret Service answers (a server, a container), the key file stands in for it.
[ -n "${DBUS_SESSION_BUS_ADDRESS:-}" ] || export DBUS_SESSION_BUS_ADDRESS=unix:path=/nonexistent
server=
cleanup() {
	[ -z "$server" ] || kill "$server" 2>/dev/null || true
	# stop this demonstration's agent (started on demand by the first command), not others
	if [ -S "$SESAME_AGENT_SOCK" ]; then
		pid=$("$bin" status --json 2>/dev/null | sed -n 's/.*"pid":\([0-9]*\).*/\1/p')
		[ -z "$pid" ] || kill -TERM "$pid" 2>/dev/null || true
	fi
	rm -rf "$demo"
}
trap cleanup EXIT INT TERM

step() { printf '\n\033[1m== %s\033[0m\n$ %s\n' "$1" "$2"; }

mkdir -p "$SESAME_HOME" && chmod 700 "$SESAME_HOME"
# The demonstration's login page is served on loopback over http, which must be allowed.
echo "allow_http_loopback = yes" >"$SESAME_HOME/sesame.conf"
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
python3 -m http.server --bind 127.0.0.1 --directory web "$port" >/dev/null 2>&1 &
server=$!

step "The structure installs Sesame" "sesame init"
"$bin" init
step "Mme Martin is enrolled: she chooses her PIN, and takes her recovery sheet home" \
	"sesame enroll \"Mme Martin\"          (PIN typed twice; here from a pipe)"
echo 284619 | "$bin" enroll "Mme Martin" --pin-fd 0
step "She types her PIN to open a session" "sesame unlock \"Mme Martin\""
echo 284619 | "$bin" unlock "Mme Martin" --pin-fd 0 --purpose "inscription CAF"
step "Her CAF login is recorded; the password is typed in a hidden prompt and never shown" \
	"sesame add \"Mme Martin\" --service CAF --url https://wwwd.caf.fr --username 1234567"
echo 'mot-de-passe-CAF' | "$bin" add "Mme Martin" --service CAF \
	--url https://wwwd.caf.fr/wps/portal/caffr/login --username 1234567 --secret-fd 0
echo 'mot-de-passe-demo' | "$bin" add "Mme Martin" --service "Démo" \
	--url "http://127.0.0.1:$port/demo-login.html" --username martin.demo --secret-fd 0
step "The worker sees her services, never her passwords" "sesame list \"Mme Martin\""
"$bin" list "Mme Martin"
step "End of the appointment: the keys are wiped" "sesame lock"
"$bin" lock
step "Next appointment: a wrong PIN is counted" "sesame unlock \"Mme Martin\""
echo 501738 | "$bin" unlock "Mme Martin" --pin-fd 0 || true
step "The right PIN opens the session again" "sesame unlock \"Mme Martin\""
echo 284619 | "$bin" unlock "Mme Martin" --pin-fd 0
if [ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ]; then
	step "Assisted login: the agent fills the demo page in a browser window" \
		"sesame login \"Mme Martin\" Démo"
	"$bin" login "Mme Martin" "Démo" --purpose "démonstration"
else
	shot=$PWD/sesame-demo-login.png
	step "Assisted login: the agent fills the demo page (headless: see the screenshot)" \
		"sesame login \"Mme Martin\" Démo --headless --screenshot sesame-demo-login.png"
	rm -f "$shot"
	"$bin" login "Mme Martin" "Démo" --purpose "démonstration" --headless --screenshot "$shot"
	echo "Screenshot of the filled page: $shot"
fi
"$bin" lock
step "The auditor checks that the log of every unlock and use is intact" "sesame audit verify"
"$bin" audit verify
step "What the log recorded" "sesame audit show"
"$bin" audit show
