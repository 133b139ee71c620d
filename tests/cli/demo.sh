#!/bin/sh
# The README's main job: the demonstration runs to the end and shows what it claims.
set -eu
out=$("$1")
echo "$out"
fail() { echo "FAIL: $*" >&2; exit 1; }
echo "$out" | grep -q 'wrong PIN, 4 attempts left' || fail "wrong PIN not counted"
echo "$out" | grep -q 'CAF  https://wwwd.caf.fr' || fail "credential not listed"
echo "$out" | grep -q 'belongs to another installation' || fail "stolen copy opened"
echo "$out" | grep -Eq 'recovery sheet, to take home: ([0-9A-Z]{4}-){7}[0-9A-Z]{4}$' ||
	fail "no recovery sheet"
root=$(echo "$out" | sed -n 's/.*Installation in \([^:]*\):.*/\1/p')
[ -n "$root" ] && [ ! -e "$root" ] || fail "demo directory $root left behind"
