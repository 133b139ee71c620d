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

# A value cannot pass for another field, nor rewrite the line; CSV cells cannot become formulas.
echo $KEY | "$W" "$D" append --event credential_added --service \
	'Impots outcome=refused reason="consent" purpose="x' --sealing-key-fd 0 >/dev/null || fail append
echo $KEY | "$W" "$D" append --event login_filled --service ' -1+2' \
	--purpose "$(printf 'a\342\200\250b\342\200\251c\342\200\217d\342\200\256e')" \
	--sealing-key-fd 0 >/dev/null || fail append
$BIN --dir "$D" show --event credential_added >"$T/show" || fail "show spoof"
grep -q ' service="Impots outcome=refused reason=\\"consent\\" purpose=\\"x" outcome="ok"$' \
	"$T/show" || fail "spoofed service shown as: $(cat "$T/show")"
$BIN --dir "$D" show --event login_filled | grep -q ' purpose="a?b?c?d?e"$' ||
	fail "separators and bidi marks in purpose: $($BIN --dir "$D" show --event login_filled)"
$BIN --dir "$D" export --format csv | grep -q ",\"' -1+2\"," || fail "csv guard after a space"
# A consent's last day: shown after the outcome, and the last column of the CSV.
echo $KEY | "$W" "$D" append --event credential_changed --service CAF --consent-until 2027-03-31 \
	--sealing-key-fd 0 >/dev/null || fail append
$BIN --dir "$D" show --event credential_changed | grep -q ' service="CAF" outcome="ok" consent_until="2027-03-31"$' ||
	fail "consent_until shown as: $($BIN --dir "$D" show --event credential_changed)"
$BIN --dir "$D" export --format csv | head -1 | grep -q ',attempts_left,consent_until$' ||
	fail "CSV header: $($BIN --dir "$D" export --format csv | head -1)"
$BIN --dir "$D" export --format csv | grep -q ',CAF,,ok,,,2027-03-31$' ||
	fail "CSV row: $($BIN --dir "$D" export --format csv | grep CAF)"
echo $KEY | "$W" "$D" append --event credential_changed --consent-until 2027-02-30 \
	--sealing-key-fd 0 >/dev/null 2>&1 && fail "a date that does not exist was written"

# Filters: times in every documented form, named events only, a word when nothing matches.
n_all=$($BIN --dir "$D" show | wc -l)
past=$(TZ=CET-1 date -d '-1 hour' +%Y-%m-%dT%H:%M:%S+01:00)
future=$(date -u -d '+1 hour' +%Y-%m-%dT%H:%M:%SZ)
[ "$($BIN --dir "$D" show --since "$past" | wc -l)" -eq "$n_all" ] || fail "--since with offset"
[ "$($BIN --dir "$D" show --until "$past" | wc -l)" -eq 0 ] || fail "--until with offset"
[ "$($BIN --dir "$D" show --since "$future" 2>"$T/err" | wc -l)" -eq 0 ] || fail "--since future"
grep -q 'no record matches' "$T/err" || fail "no word on stderr when nothing matches"
local_future=$(TZ=CET-1 date -d '+1 hour' '+%Y-%m-%d %H:%M')
[ "$(TZ=CET-1 $BIN --dir "$D" show --since "$local_future" 2>/dev/null | wc -l)" -eq 0 ] ||
	fail "--since local time"
local_past=$(TZ=CET-1 date -d '-2 hours' '+%Y-%m-%d %H:%M')
[ "$(TZ=CET-1 $BIN --dir "$D" show --since "$local_past" | wc -l)" -eq "$n_all" ] ||
	fail "--since local time in the past"
[ "$($BIN --dir "$D" show --since "$(date +%d/%m/%Y)" | wc -l)" -eq "$n_all" ] || fail "DD/MM/YYYY"
[ "$($BIN --dir "$D" show --until "$(date +%d/%m/%Y)" | wc -l)" -eq "$n_all" ] ||
	fail "--until a day takes in that day"
[ "$($BIN --dir "$D" show --since hier | wc -l)" -eq "$n_all" ] || fail "--since hier"
[ "$($BIN --dir "$D" show --since today | wc -l)" -eq "$n_all" ] || fail "--since today"
[ "$($BIN --dir "$D" show --until yesterday 2>/dev/null | wc -l)" -eq 0 ] || fail "--until yesterday"
$BIN --dir "$D" show --since 31/02/2026 2>"$T/err"; rc=$?
[ $rc -eq 2 ] && grep -q -- '--since 31/02/2026' "$T/err" || fail "impossible date: $rc"
$BIN --dir "$D" show --event foo 2>"$T/err"; rc=$?
[ $rc -eq 2 ] && grep -q 'pin_ok, pin_wrong' "$T/err" || fail "unknown event: $rc $(cat "$T/err")"
$BIN --dir "$D" show --worker nobody-such 2>"$T/err"; rc=$?
[ $rc -eq 2 ] && grep -q 'nobody-such' "$T/err" || fail "unknown worker: $rc"
[ "$($BIN --dir "$D" show --worker "$(id -un)" | wc -l)" -eq "$n_all" ] || fail "--worker login"

sed -i '3s/CAF/KAF/' "$D/audit.log"
$BIN --dir "$D" verify >"$T/out"; rc=$?
[ $rc -eq 10 ] || fail "tampered exit $rc"
grep -q 'line 3' "$T/out" || fail "line number: $(cat "$T/out")"
$BIN --dir "$T/nowhere" verify >/dev/null; rc=$?
[ $rc -eq 11 ] || fail "unreadable exit $rc"
echo ok
