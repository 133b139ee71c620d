#!/bin/sh
# A worker's spreadsheet into a person's vault: French and English column names, semicolons;
# what will be imported is shown without a password; every bad row is named by its line and
# nothing is imported then, whether the command or the agent finds it; one credential_added
# per row; the passwords come back exactly through the CSV export.
#   import.sh SESAME SESAME_AGENT LOCALEDIR
. "$(dirname "$0")/lib.sh"
LOCALEDIR=${3:?usage: $0 SESAME SESAME_AGENT LOCALEDIR}

PIN=482916
P1='Caf;Secret,"9f3"' P2='Ünïcödé € été' P3='simple-pass'
conf 'kdf_passes = 1' 'kdf_memory_mib = 8' 'pin_retries = 5'
install_init
start_agent
enroll Alice "$PIN"

sheet="$tmp/carnet.csv"
{
	printf 'Site;Adresse;Identifiant;Mot de passe;Remarques\r\n'
	printf 'CAF;https://www.caf.fr/;1234567;"%s";"rdv le mardi"\r\n' "$(printf '%s' "$P1" | sed 's/"/""/g')"
	printf ';;;;\r\n'
	printf 'Ameli;https://assure.ameli.fr/;2850775;%s;\r\n' "$P2"
	printf ';https://www.impots.gouv.fr/connexion;jean.dupont;%s;\r\n' "$P3"
} >"$sheet"

run 5 no-session "$SESAME" import Alice --csv "$sheet" --yes
unlock_with 0 unlock Alice "$PIN"
run 7 unconfirmed "$SESAME" import Alice --csv "$sheet"
err unconfirmed | grep -q 'nothing was imported' || fail "unconfirmed: $(err unconfirmed)"

run 0 import "$SESAME" import Alice --csv "$sheet" --yes
out import | grep -q '3 logins to import' || fail "no preview: $(out import)"
out import | grep -q '^  5 .*www.impots.gouv.fr' || fail "the preview lacks line 5: $(out import)"
for p in "$P1" "$P2" "$P3"; do
	out import | grep -qF "$p" && fail "the preview shows a password"
done
out import | grep -q '3 logins imported' || fail "import says: $(out import)"
out import | grep -q 'destroy the spreadsheet' || fail "no advice to destroy the file"
expect_eq "records" "$(audit_field credential_added outcome | tr '\n' ' ')" \
	"intent ok intent ok intent ok "
"$SESAME" audit export --format jsonl | grep -qF "$P2" && fail "a password reached the log"

# The passwords as they were, through the export.
printf '%s\n' "$PIN" >"$tmp/pin"
run 0 export "$SESAME" export Alice --csv "$tmp/out/back.csv" --yes --pin-fd 3 3<"$tmp/pin"
python3 - "$tmp/out/back.csv" "$P1" "$P2" "$P3" <<'EOF' || fail "the passwords changed on the way"
import csv, sys
rows = {r["name"]: r for r in csv.DictReader(open(sys.argv[1], newline="", encoding="utf-8"))}
assert rows["CAF"]["password"] == sys.argv[2], rows["CAF"]
assert rows["Ameli"]["password"] == sys.argv[3]
assert rows["www.impots.gouv.fr"]["password"] == sys.argv[4]
assert rows["www.impots.gouv.fr"]["username"] == "jean.dupont"
EOF

# Bad rows found by the command: each named, nothing imported.
count() { "$SESAME" list Alice --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["total"])'; }
printf 'name,url,username,password\nA,https://a.fr/,u,\nB,https://b.fr/,u,p\nC,https://c.fr/\n' >"$tmp/bad.csv"
run 2 bad-rows "$SESAME" import Alice --csv "$tmp/bad.csv" --yes
err bad-rows | grep -q 'line 2: password: empty' || fail "line 2 not named: $(err bad-rows)"
err bad-rows | grep -q 'line 4: ' || fail "line 4 not named: $(err bad-rows)"
expect_eq "nothing imported" "$(count)" 3
printf 'service,login\nCAF,u\n' >"$tmp/nohead.csv"
run 2 no-header "$SESAME" import Alice --csv "$tmp/nohead.csv" --yes
err no-header | grep -q 'first line must name the columns' || fail "no-header: $(err no-header)"

# Bad rows found by the agent (already recorded, twice in the file, http): all or nothing.
before=$(audit_field credential_added outcome | wc -l)
printf 'name,url,username,password\nNew,https://new.fr/,u,p\nCAF,https://www.caf.fr/,u,p\n' >"$tmp/dup.csv"
run 1 dup "$SESAME" import Alice --csv "$tmp/dup.csv" --yes
err dup | grep -q 'line 3: .*"CAF" is already recorded' || fail "dup: $(err dup)"
printf 'name,url,username,password\nX,https://x.fr/,u,p\nx,https://x.fr/,u,p\n' >"$tmp/twice.csv"
run 1 twice "$SESAME" import Alice --csv "$tmp/twice.csv" --yes
err twice | grep -q 'line 3: .*named twice' || fail "twice: $(err twice)"
printf 'name,url,username,password\nY,http://y.fr/,u,p\n' >"$tmp/http.csv"
run 1 http "$SESAME" import Alice --csv "$tmp/http.csv" --yes
err http | grep -q 'line 2: .*not encrypted (http)' || fail "http: $(err http)"
expect_eq "nothing imported" "$(count)" 3
expect_eq "no record" "$(audit_field credential_added outcome | wc -l)" "$before"

printf 'name,url,username,password\nZ,https://z.fr/,u,p\n' >"$tmp/one.csv"
run 0 import-json "$SESAME" import Alice --csv "$tmp/one.csv" --yes --json --no-consent
is_json import-json
expect_eq "json count" "$(jget import-json 'j["count"]')" 1
expect_eq "now" "$(count)" 4
# The consent page: on demand, with the choices of the open session; at enrolment, without.
page="$tmp/out/consent.html"
run 0 consent "$SESAME" consent Alice --html "$page"
expect_eq "mode of the page" "$(stat -c %a "$page")" 600
for t in 'What Sesame keeps' 'Who can use it, and when' 'How to withdraw' \
	'How to see the history' 'For Alice, on ' '<td>CAF</td><td>yes, until you withdraw it</td>' \
	'<td>Z</td><td>no</td>' 'Signature of the person'; do
	grep -qF "$t" "$page" || fail "the consent page lacks '$t'"
done
run 1 consent-exists "$SESAME" consent Alice --html "$page"
# In the person's language, whatever the worker's; the worker is told in theirs.
run 0 consent-fr env SESAME_LOCALEDIR="$LOCALEDIR" "$SESAME" consent Alice --lang fr \
	--html "$tmp/out/fr.html"
for t in 'Ce que Sesame garde' 'Comment vous retirer' 'Pour Alice, le ' \
	"<td>CAF</td><td>oui, jusqu'à ce que vous le retiriez</td>" '<td>Z</td><td>non</td>'; do
	grep -qF "$t" "$tmp/out/fr.html" || fail "the French page lacks '$t'"
done
out consent-fr | grep -q '^Consent page: ' || fail "the worker was not told in English"
run 0 consent-en env SESAME_LOCALEDIR="$LOCALEDIR" LANGUAGE=fr "$SESAME" consent Alice \
	--lang en --html "$tmp/out/en.html"
grep -qF 'What Sesame keeps' "$tmp/out/en.html" || fail "--lang en under French gave no English"
out consent-en | grep -q '^Page de consentement : ' || fail "the worker was not told in French"
run 2 consent-badlang "$SESAME" consent Alice --lang '../x' --html "$tmp/out/x.html"
run 0 lock "$SESAME" lock Alice
run 0 consent-locked "$SESAME" consent Alice --html "$tmp/out/locked.html"
grep -q '<table>' "$tmp/out/locked.html" && fail "the page lists choices without a session"
grep -qF 'Your choices are recorded in your vault' "$tmp/out/locked.html" ||
	fail "the page does not say where the choices are recorded"
run 0 enroll-consent sh -c 'echo 739164 | "$0" enroll Bob --pin-fd 0 --consent "$1"' \
	"$SESAME" "$tmp/out/bob.html"
grep -qF 'For Bob, on ' "$tmp/out/bob.html" || fail "enroll --consent wrote no page"
run 1 enroll-consent-exists sh -c 'echo 739164 | "$0" enroll Carol --pin-fd 0 --consent "$1"' \
	"$SESAME" "$tmp/out/bob.html"
run 1 carol-absent sh -c 'echo 739164 | "$0" unlock Carol --pin-fd 0' "$SESAME"
err carol-absent | grep -q "Carol" || fail "the refusal does not name Carol: $(err carol-absent)"

run 0 verify "$SESAME" audit verify
stop_agent
echo "import: ok"
