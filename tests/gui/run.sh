#!/bin/sh
# Runs one UI test: on a private session bus with a real gnome-keyring
# (tests/keyring/run-with-keyring.sh), with a Python that has pyatspi (Debian's python3-pyatspi
# is installed for the system's interpreter only, which a version manager's python3 does not see).
#   run.sh RUN_WITH_KEYRING TEST.py SESAME SESAME_AGENT SESAME_GTK LOCALEDIR
# Exit 77 (skip) when the desktop pieces are missing: tools/deps.sh test installs them.
keyring=${1:?usage: $0 RUN_WITH_KEYRING TEST.py SESAME SESAME_AGENT SESAME_GTK LOCALEDIR}
shift
for p in Xvfb xdotool dbus-run-session gnome-keyring-daemon; do
	command -v "$p" >/dev/null || { echo "SKIP: no $p (tools/deps.sh test)"; exit 77; }
done
for py in /usr/bin/python3 python3; do
	if "$py" -c 'import pyatspi' 2>/dev/null; then
		exec "$keyring" "$py" "$@"
	fi
done
echo "SKIP: no python3 with pyatspi (python3-pyatspi; tools/deps.sh test)"
exit 77
