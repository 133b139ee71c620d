#!/bin/sh
# sesame audit end to end on a log written by the test harness: exit codes 0 intact,
# 10 tampered, 11 cannot read.
set -u
W=$1
BIN="$2 audit"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
D=$T/audit
KEY=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
fail() { echo "FAIL: $*"; exit 1; }

echo $KEY | "$W" "$D" init --installation cli-test --sealing-key-fd 0 >"$T/key.txt" || fail init
grep -q '^sesame.audit/cli-test+[0-9a-f]\{8\}+' "$T/key.txt" || fail "verifier key form"
for e in pin_ok session_opened login_started login_filled; do
	echo $KEY | "$W" "$D" append --event $e --user u-1 --service CAF \
		--purpose "dossier, APL" --sealing-key-fd 0 >/dev/null || fail append
done
$BIN --dir "$D" checkpoint >"$T/old.cp" || fail checkpoint
echo $KEY | "$W" "$D" append --event pin_wrong --attempts-left 2 --sealing-key-fd 0 >/dev/null || fail append
$BIN --dir "$D" verify --key "$T/key.txt" --checkpoint "$T/old.cp"; [ $? -eq 0 ] || fail "verify intact"
$BIN --dir "$D" verify --json | grep -q '"result":"intact"' || fail "verify --json"
[ "$($BIN --dir "$D" show --event pin_ok | wc -l)" -eq 1 ] || fail "show filter"
[ "$($BIN --dir "$D" export --format csv | wc -l)" -eq 6 ] || fail "export csv"
[ "$($BIN --dir "$D" export --format jsonl | wc -l)" -eq 5 ] || fail "export jsonl"
$BIN --dir "$D" prove 2 >"$T/r.txt" || fail prove
$BIN --dir "$D" check-receipt "$T/r.txt" --key "$T/key.txt" >/dev/null || fail check-receipt
$BIN --dir "$D" consistency 4 | grep -q '^size2 5$' || fail consistency
SESAME_HOME=$T SESAME_CONFIG=/nonexistent $BIN key | cmp -s - "$T/key.txt" || fail "SESAME_HOME"

sed -i '3s/CAF/KAF/' "$D/audit.log"
$BIN --dir "$D" verify >"$T/out"; rc=$?
[ $rc -eq 10 ] || fail "tampered exit $rc"
grep -q 'line 3' "$T/out" || fail "line number: $(cat "$T/out")"
$BIN --dir "$T/nowhere" verify >/dev/null; rc=$?
[ $rc -eq 11 ] || fail "unreadable exit $rc"
echo ok
