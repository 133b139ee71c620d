#!/bin/sh
# The README's demonstration on a machine without the tests' packages: its build is configured
# without them (here pkg-config cannot find cmocka), and when a step fails it says which one
# and shows why (here the compilation is made to fail), instead of exiting in silence.
#   demo-script.sh SOURCE_DIR
set -u
src=$1
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
real_meson=$(command -v meson) || fail "no meson"

# pkg-config sees every package of this machine but cmocka, as on a machine without it
mkdir -p "$tmp/pc" "$tmp/bin"
for d in $(pkg-config --variable pc_path pkg-config | tr ':' ' '); do
	[ -d "$d" ] || continue
	for f in "$d"/*.pc; do
		[ -e "$f" ] || continue
		case $f in */cmocka.pc) continue ;; esac
		[ -e "$tmp/pc/$(basename "$f")" ] || ln -s "$f" "$tmp/pc/"
	done
done
PKG_CONFIG_LIBDIR=$tmp/pc pkg-config --exists cmocka && fail "cmocka still visible"

# meson stands in: setup runs for real in a throw-away directory, compile fails loudly
cat >"$tmp/bin/meson" <<EOS
#!/bin/sh
case \$1 in
setup)
	shift
	[ "\$1" = --reconfigure ] && shift
	shift # the demo's build directory: ours instead
	PKG_CONFIG_LIBDIR="$tmp/pc" exec "$real_meson" setup "$tmp/build" "\$@" ;;
compile) echo "ERROR: the compiler ran out of disk space (simulated)"; exit 1 ;;
*) exec "$real_meson" "\$@" ;;
esac
EOS
chmod +x "$tmp/bin/meson"

PATH="$tmp/bin:$PATH" sh "$src/tools/demo.sh" >"$tmp/out" 2>&1
rc=$?
cat "$tmp/out"
[ "$rc" -ne 0 ] || fail "the demo did not fail"
[ -f "$tmp/build/build.ninja" ] || fail "the build could not be configured without cmocka"
grep -q "ran out of disk space (simulated)" "$tmp/out" || fail "the failure's cause is not shown"
grep -q "sesame demo: compiling (meson compile) failed" "$tmp/out" || fail "the step is not named"
echo PASS
