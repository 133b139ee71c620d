#!/bin/sh
# The Secret Service path, against a real gnome-keyring-daemon on a private session bus
# (tests/keyring/run-with-keyring.sh): with device_secret = secret-service, init says the
# secret is in the keyring, no key file exists, the agent loads the secret from the keyring for
# enroll/unlock/add/list, and secret-tool finds the item. Without the item the agent refuses to
# start rather than fall back to a key file.
#   keyring.sh SESAME SESAME_AGENT RUN_WITH_KEYRING
if [ -z "${SESAME_KEYRING_INNER:-}" ]; then
	keyring=${3:?usage: $0 SESAME SESAME_AGENT RUN_WITH_KEYRING}
	for p in gnome-keyring-daemon dbus-run-session dbus-send secret-tool; do
		command -v "$p" >/dev/null || { echo "SKIP: no $p"; exit 77; }
	done
	exec "$keyring" sh "$0" "$@"
fi

SESAME_KEEP_DBUS=1 # the private bus of run-with-keyring.sh
. "$(dirname "$0")/lib.sh"

PIN=482916
conf 'kdf_passes = 1' 'kdf_memory_mib = 8' 'device_secret = secret-service'

run 0 init-text "$SESAME" init
out init-text | grep -q 'kept in the Secret Service' || fail "init: $(out init-text)"
INSTALLATION=$(sed -n 1p "$SESAME_HOME/installation")
if find "$XDG_CONFIG_HOME" "$SESAME_HOME" -name 'device-secret*' | grep -q .; then
	fail "a device-secret key file exists: $(find "$XDG_CONFIG_HOME" -name 'device-secret*')"
fi
run 0 search secret-tool search --all kind device-secret
{ out search; err search; } >"$tmp/out/search.all"
grep -q "installation = $INSTALLATION" "$tmp/out/search.all" ||
	fail "secret-tool does not find the device secret of $INSTALLATION: $(cat "$tmp/out/search.all")"

start_agent
enroll Alice "$PIN"
unlock_with 0 unlock Alice "$PIN"
run 0 add sh -c 'echo Keyring-Secret-42 | "$0" add Alice --service CAF --url https://caf.fr \
	--username a --secret-fd 0' "$SESAME"
run 0 list "$SESAME" list Alice --json
expect_eq "services" "$(jget list '[s["service"] for s in j["services"]]')" "['CAF']"
stop_agent
if find "$XDG_CONFIG_HOME" "$SESAME_HOME" -name 'device-secret*' | grep -q .; then
	fail "a device-secret key file appeared"
fi

# A second agent opens the same vault with the secret from the keyring.
start_agent
unlock_with 0 unlock2 Alice "$PIN"
stop_agent
run 0 verify "$SESAME" audit verify

# No item, no agent: the secret is not silently replaced by a key file.
secret-tool clear kind device-secret installation "$INSTALLATION"
run 1 search-gone secret-tool lookup kind device-secret installation "$INSTALLATION"
"$AGENT" >>"$tmp/agent.log" 2>&1 &
AGENT_PID=$!
# It must exit before it answers anybody: a slow start is no failure, an answer is.
i=0
while kill -0 "$AGENT_PID" 2>/dev/null && [ "$i" -lt 600 ]; do
	"$SESAME" status >/dev/null 2>&1 && fail "the agent answers without its device secret"
	sleep 0.1
	i=$((i + 1))
done
if kill -0 "$AGENT_PID" 2>/dev/null; then
	fail "the agent runs without its device secret"
fi
wait "$AGENT_PID"
rc=$?
AGENT_PID=
[ "$rc" != 0 ] || fail "the agent exited 0 without its device secret"
echo "keyring: ok"
