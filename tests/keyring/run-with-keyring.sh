#!/bin/sh
# Run a command against a real, throw-away gnome-keyring-daemon on a private session bus.
#
#   run-with-keyring.sh PROGRAM [ARGS...]
#
# The outer invocation makes a temporary HOME and XDG directories (so the real user's keyring is
# never touched) and re-runs this script under dbus-run-session. The inner invocation starts
# gnome-keyring-daemon with a throw-away password on stdin, which creates and unlocks the "login"
# collection, makes "login" the default collection so storing never prompts, waits for the
# org.freedesktop.secrets name, and runs PROGRAM. Everything is removed at exit.
set -eu

SECRETS_NAME=org.freedesktop.secrets
SECRETS_PATH=/org/freedesktop/secrets
LOGIN_COLLECTION=/org/freedesktop/secrets/collection/login
WAIT_TRIES=100 # 100 x 0.1 s

if [ $# -lt 1 ]; then
	echo "usage: $0 PROGRAM [ARGS...]" >&2
	exit 2
fi

# dbus-send exits 0 if the call succeeded; print-reply output goes to stdout.
bus_call() {
	dbus-send --session --print-reply "$@"
}

name_has_owner() {
	bus_call --dest=org.freedesktop.DBus /org/freedesktop/DBus \
		org.freedesktop.DBus.NameHasOwner "string:$SECRETS_NAME" 2>/dev/null |
		grep -q 'boolean true'
}

inner() {
	keyring_pid=
	trap 'if [ -n "$keyring_pid" ]; then kill "$keyring_pid" 2>/dev/null || true; fi' EXIT
	trap 'exit 143' TERM INT HUP # run the EXIT trap when meson's timeout kills us

	# --foreground keeps the daemon our child so we know its pid and can stop it; --unlock reads
	# the password from stdin up to EOF and creates the login collection if it is missing.
	printf '%s' "sesame-test-keyring-password" |
		gnome-keyring-daemon --foreground --unlock --components=secrets \
			>"$SESAME_KEYRING_TMP/daemon.log" 2>&1 &
	keyring_pid=$!

	tries=0
	until name_has_owner; do
		tries=$((tries + 1))
		if [ "$tries" -ge "$WAIT_TRIES" ] || ! kill -0 "$keyring_pid" 2>/dev/null; then
			echo "$0: gnome-keyring-daemon did not take $SECRETS_NAME" >&2
			cat "$SESAME_KEYRING_TMP/daemon.log" >&2 || true
			exit 1
		fi
		sleep 0.1
	done

	# Storing to the "default" alias prompts to create a collection when the alias is unset;
	# point it at the unlocked login collection so no prompt can ever appear.
	if ! bus_call --dest="$SECRETS_NAME" "$SECRETS_PATH" org.freedesktop.Secret.Service.SetAlias \
		string:default "objpath:$LOGIN_COLLECTION" >/dev/null; then
		echo "$0: cannot make the login collection the default" >&2
		cat "$SESAME_KEYRING_TMP/daemon.log" >&2 || true
		exit 1
	fi

	status=0
	"$@" || status=$?
	exit "$status"
}

if [ -n "${SESAME_KEYRING_INNER:-}" ]; then
	inner "$@"
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/sesame-keyring.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
trap 'exit 143' TERM INT HUP
mkdir -m 700 "$tmp/home" "$tmp/data" "$tmp/config" "$tmp/cache" "$tmp/run"

status=0
env -u DISPLAY -u WAYLAND_DISPLAY -u DBUS_SESSION_BUS_ADDRESS -u GNOME_KEYRING_CONTROL \
	HOME="$tmp/home" XDG_DATA_HOME="$tmp/data" XDG_CONFIG_HOME="$tmp/config" \
	XDG_CACHE_HOME="$tmp/cache" XDG_RUNTIME_DIR="$tmp/run" \
	SESAME_KEYRING_TMP="$tmp" SESAME_KEYRING_INNER=1 \
	dbus-run-session -- "$0" "$@" || status=$?
exit "$status"
