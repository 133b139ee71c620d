#!/bin/sh
# Install, from Debian 12's archive, whatever Sesame needs and the machine lacks.
# Usage: tools/deps.sh build|demo|test. Idempotent: installs nothing when all is present.
set -eu

build_pkgs="gcc pkg-config meson ninja-build python3 gettext libsodium-dev libsecret-1-dev libglib2.0-dev libcjson-dev scdoc bash-completion systemd libgtk-4-dev libadwaita-1-dev"
# The UI tests (tests/gui) drive sesame-gtk through the AT-SPI bus (at-spi2-core) with pyatspi,
# read the saved sheet with pdftotext and validate the menu entry and metadata.
test_pkgs="$build_pkgs libcmocka-dev dbus dbus-daemon gnome-keyring libsecret-tools pinentry-tty chromium xvfb xauth xdotool locales keepassxc strace at-spi2-core python3-pyatspi gir1.2-atspi-2.0 poppler-utils desktop-file-utils appstream"

case "${1:-build}" in
build) want=$build_pkgs ;;
demo) want="$build_pkgs chromium" ;;
test) want=$test_pkgs ;;
*) echo "usage: $0 build|demo|test" >&2; exit 2 ;;
esac

missing=
for p in $want; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
		missing="$missing $p"
done
need_locale=
if [ "${1:-build}" = test ] && ! locale -a 2>/dev/null | grep -qix 'fr_FR\.utf-\{0,1\}8'; then
	need_locale=yes # the French tests speak as a French desktop does
fi
[ -z "$missing$need_locale" ] && exit 0

if [ "$(id -u)" -eq 0 ]; then
	as_root=
elif command -v sudo >/dev/null; then
	as_root=sudo
else
	echo "sesame: missing:$missing ${need_locale:+fr_FR.UTF-8}; run this as root or install sudo" >&2
	exit 1
fi
if [ -n "$missing" ]; then
	echo "sesame: installing$missing" >&2
	$as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
	# shellcheck disable=SC2086
	$as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing
fi
if [ -n "$need_locale" ]; then
	echo "sesame: generating the fr_FR.UTF-8 locale" >&2
	$as_root sed -i 's/^# *\(fr_FR\.UTF-8 UTF-8\)$/\1/' /etc/locale.gen
	grep -qx 'fr_FR\.UTF-8 UTF-8' /etc/locale.gen ||
		echo 'fr_FR.UTF-8 UTF-8' | $as_root tee -a /etc/locale.gen >/dev/null
	$as_root locale-gen >/dev/null
fi
