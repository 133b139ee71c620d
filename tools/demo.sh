#!/bin/sh
# Install what is missing, build, and run the demonstration of Sesame's vault.
set -eu
cd "$(dirname "$0")/.."
tools/deps.sh build
if [ -f build/build.ninja ]; then meson setup --reconfigure build >/dev/null; else meson setup build >/dev/null; fi
meson compile -C build sesame-demo >/dev/null
exec build/cli/sesame-demo
