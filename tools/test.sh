#!/bin/sh
# Build Sesame twice (plain with warnings as errors, then with AddressSanitizer and
# UndefinedBehaviorSanitizer), run every test in both, and end with "N passed, N failed".
set -u
cd "$(dirname "$0")/.."
tools/deps.sh test || exit 1

setup() { # dir, options...
	dir=$1
	shift
	if [ -f "$dir/build.ninja" ]; then
		meson setup --reconfigure "$dir" "$@" >/dev/null
	else
		meson setup "$dir" "$@" >/dev/null
	fi
}

status=0
run() { # dir, options...
	dir=$1
	rm -f "$dir/meson-logs/testlog.json"
	setup "$@" || { status=1; return; }
	meson compile -C "$dir" || { status=1; return; }
	meson test -C "$dir" --print-errorlogs --num-processes 2 || status=1
}

run build-test -Dwerror=true
run build-sanitize -Dwerror=true -Db_sanitize=address,undefined -Db_lundef=false

python3 - build-test build-sanitize <<'PY'
import json, os, sys
passed = failed = 0
for d in sys.argv[1:]:
    log = os.path.join(d, "meson-logs", "testlog.json")
    if not os.path.exists(log):
        failed += 1
        continue
    for line in open(log):
        r = json.loads(line).get("result")
        if r in ("OK", "EXPECTEDFAIL"):
            passed += 1
        elif r != "SKIP":
            failed += 1
print(f"{passed} passed, {failed} failed")
PY
exit $status
