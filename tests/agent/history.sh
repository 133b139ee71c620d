#!/bin/sh
# The person's own history: after their PIN, typed for this request, what happened to their
# vault in plain words, in English and French, as text and as a page where hostile text stays
# text; a wrong PIN shows nothing and leaves no page.
#   history.sh SESAME SESAME_AGENT LOCALEDIR
. "$(dirname "$0")/lib.sh"
export SESAME_LOCALEDIR=${3:?usage: $0 SESAME SESAME_AGENT LOCALEDIR}

PIN=482916 WRONG=000000
SERVICE='<script>alert(1)</script>'
conf 'kdf_passes = 1' 'kdf_memory_mib = 8' 'pin_retries = 5'
install_init
start_agent
enroll Marie "$PIN"
run 0 unlock sh -c 'echo "$1" | "$0" unlock Marie --pin-fd 0 --purpose "dossier <CAF> & APL"' \
	"$SESAME" "$PIN"
run 0 add sh -c 'echo "$1" | "$0" add Marie --service "$2" --url https://caf.fr \
	--username marie --secret-fd 0' "$SESAME" 'Caf-Secret-9f3Kq!zz' "$SERVICE"
run 0 lock "$SESAME" lock Marie
WHO=$(getent passwd "$(id -u)" | cut -d: -f5 | cut -d, -f1)
[ -n "$WHO" ] || WHO=$(id -un)

run 3 history-wrong sh -c 'echo "$1" | "$0" history Marie --pin-fd 0 --html "$2"' \
	"$SESAME" "$WRONG" "$tmp/wrong.html"
[ -e "$tmp/wrong.html" ] && fail "a wrong PIN left a page"
out history-wrong | grep -q "vault" && fail "a wrong PIN showed the history"

run 0 history-en sh -c 'echo "$1" | "$0" history Marie --pin-fd 0 --lang en --html "$2"' \
	"$SESAME" "$PIN" "$tmp/history.html"
for w in "History of the vault of Marie:" "vault opened" "purpose: dossier <CAF> & APL" \
	"login to $SERVICE recorded" "vault closed at the end of the appointment" \
	"wrong PIN (4 attempts left)" "by $WHO"; do
	out history-en | grep -qF "$w" || fail "history --lang en does not say '$w': $(out history-en)"
done
out history-en | grep -Eq '^(Mon|Tues|Wednes|Thurs|Fri|Satur|Sun)day [0-9]+ [A-Z][a-z]+ 20[0-9]{2} at [0-9]{2}:[0-9]{2}$' ||
	fail "history writes no local time out: $(out history-en)"
out history-en | grep -Eq '[0-9a-f]{32}' && fail "history shows ids: $(out history-en)"
expect_eq "page mode" "$(stat -c %a "$tmp/history.html")" 600
grep -qF '&lt;script&gt;alert(1)&lt;/script&gt;' "$tmp/history.html" || fail "service not escaped"
grep -qF 'dossier &lt;CAF&gt; &amp; APL' "$tmp/history.html" || fail "purpose not escaped"
grep -q '<script' "$tmp/history.html" && fail "hostile text reached the page as markup"
grep -q '<html lang="en">' "$tmp/history.html" || fail "the page does not say its language"

run 0 history-fr sh -c 'echo "$1" | "$0" history Marie --pin-fd 0 --lang fr' "$SESAME" "$PIN"
for w in "Historique du coffre de Marie :" "coffre ouvert" "motif : dossier <CAF> & APL" \
	"code secret incorrect (4 essais restants)" "par $WHO"; do
	out history-fr | grep -qF "$w" || fail "history --lang fr does not say '$w': $(out history-fr)"
done
out history-fr | grep -Eq '^(lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche) [0-9]+ [a-zéû]+ 20[0-9]{2} à [0-9]+ h [0-9]{2}$' ||
	fail "history --lang fr writes no local time out: $(out history-fr)"

# The worker's own records through the agent: here every record is the worker's, so the same
# lines as the log holds; the filters of show apply to them.
run 0 mine "$SESAME" audit mine --format jsonl
run 0 all "$SESAME" audit show --json
expect_eq "audit mine" "$(out mine | grep -c '^{')" "$(out all | grep -c '^{')"
[ "$(out mine)" = "$(out all)" ] || fail "audit mine differs from the log: $(out mine)"
run 0 mine-pin "$SESAME" audit mine --event pin_wrong --format jsonl
expect_eq "audit mine --event pin_wrong" "$(out mine-pin | grep -c pin_wrong)" \
	"$(out all | grep -c '"event":"pin_wrong"')"
stop_agent
echo "PASS: history"
