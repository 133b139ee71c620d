#!/bin/sh
# The menu entry, icon and AppStream metadata of sesame-gtk (gui/data): each passes its
# format's own validator (desktop-file-validate, appstreamcli validate), they name each other
# and the program consistently, and `meson install` puts all four where desktops look.
#   data.sh DATA_DIR BUILD_ROOT MESON PREFIX DATADIR BINDIR
set -u
data=${1:?usage: $0 DATA_DIR BUILD_ROOT MESON PREFIX DATADIR BINDIR}
build_root=$2 meson=$3 prefix=$4 datadir=$5 bindir=$6
id=fr.sesame.Sesame
desktop=$data/$id.desktop metainfo=$data/$id.metainfo.xml icon=$data/$id.svg

fail() {
	echo "FAIL: $*" >&2
	exit 1
}
for p in desktop-file-validate appstreamcli; do
	command -v "$p" >/dev/null || { echo "SKIP: no $p (tools/deps.sh test)"; exit 77; }
done

out=$(desktop-file-validate "$desktop" 2>&1) && [ -z "$out" ] ||
	fail "desktop-file-validate $desktop: $out"
# --no-net: the test must not depend on the network; any warning fails as an error does
out=$(appstreamcli validate --no-net --no-color "$metainfo" 2>&1) ||
	fail "appstreamcli validate $metainfo: $out"
echo "$out" | grep -q '^[EW]:' && fail "appstreamcli validate $metainfo: $out"
echo "ok validators"

# The names agree: the desktop id the metadata launches, the binary, the icon's name.
grep -qx "Exec=sesame-gtk" "$desktop" || fail "$desktop does not run sesame-gtk"
grep -qx "Icon=$id" "$desktop" || fail "$desktop does not name the icon $id"
grep -q "<id>$id</id>" "$metainfo" || fail "$metainfo: not the component $id"
grep -q "<launchable type=\"desktop-id\">$id.desktop</launchable>" "$metainfo" ||
	fail "$metainfo does not launch $id.desktop"
grep -q "<binary>sesame-gtk</binary>" "$metainfo" || fail "$metainfo does not provide sesame-gtk"
grep -q '^Name\[fr\]=\|^GenericName\[fr\]=' "$desktop" || fail "$desktop has no French name"
grep -q '^Comment\[fr\]=' "$desktop" || fail "$desktop has no French comment"
echo "ok names"

# The icon: well-formed SVG, square, hand-written (no raster image embedded).
python3 - "$icon" <<'PY' || fail "$icon is not a usable icon"
import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
assert root.tag == "{http://www.w3.org/2000/svg}svg", root.tag
box = [float(v) for v in root.get("viewBox").split()]
assert box[2] == box[3] and box[2] >= 16, box
assert not list(root.iter("{http://www.w3.org/2000/svg}image")), "embedded raster image"
PY
echo "ok icon"

# Installed: meson install into a temporary DESTDIR, keeping the build's install log as it was.
tmp=$(mktemp -d) || fail "cannot make a temporary directory"
trap 'rm -rf "$tmp"' EXIT
log=$build_root/meson-logs/install-log.txt
[ ! -e "$log" ] || cp -p "$log" "$tmp/install-log.txt" || fail "cannot save $log"
"$meson" install -C "$build_root" --destdir "$tmp/root" --no-rebuild --quiet >"$tmp/out" 2>&1
status=$?
if [ -e "$tmp/install-log.txt" ]; then
	cp -p "$tmp/install-log.txt" "$log" || fail "cannot restore $log"
else
	rm -f "$log"
fi
[ $status -eq 0 ] || { cat "$tmp/out"; fail "meson install --destdir failed"; }
case $datadir in /*) share=$datadir ;; *) share=$prefix/$datadir ;; esac
case $bindir in /*) bin=$bindir ;; *) bin=$prefix/$bindir ;; esac
root=$tmp/root
for f in "$share/applications/$id.desktop" "$share/metainfo/$id.metainfo.xml" \
	"$share/icons/hicolor/scalable/apps/$id.svg"; do
	[ -f "$root$f" ] || fail "$f is not installed"
done
[ -x "$root$bin/sesame-gtk" ] || fail "$bin/sesame-gtk is not installed"
# the installed entry, as a menu reads it from the installed tree
out=$(desktop-file-validate "$root$share/applications/$id.desktop" 2>&1) && [ -z "$out" ] ||
	fail "installed $id.desktop: $out"
echo "ok installed under $share and $bin"
