#!/bin/sh
# The log in plain words with people's names, through a real agent: audit show --lang and the
# auditor's report name enrolled and withdrawn people (a withdrawn person's name is kept sealed
# in the store, "withdrawn.<id>", and read back by a restarted agent); the names request refuses
# what is not a list of ids.
#   names.sh SESAME SESAME_AGENT LOCALEDIR
. "$(dirname "$0")/lib.sh"
export SESAME_LOCALEDIR=${3:?usage: $0 SESAME SESAME_AGENT LOCALEDIR}

PIN1=482916 PIN2=739164
HOSTILE='Aïcha <b>Ben</b>'
conf 'kdf_passes = 1' 'kdf_memory_mib = 8'
install_init
start_agent
run 0 enroll-a sh -c 'echo "$1" | "$0" enroll "$2" --pin-fd 0 --json' "$SESAME" "$PIN1" "$HOSTILE"
AICHA=$(jget enroll-a 'j["user"]')
enroll Bob "$PIN2"
BOB=$USER_ID
run 0 unlock-a sh -c 'echo "$1" | "$0" unlock "$2" --pin-fd 0 --purpose "dossier CAF"' \
	"$SESAME" "$PIN1" "$HOSTILE"
run 0 unlock-b sh -c 'echo "$1" | "$0" unlock Bob --pin-fd 0 --purpose "rendez-vous APL"' \
	"$SESAME" "$PIN2"
run 0 revoke "$SESAME" revoke "$HOSTILE" --yes

# The name outlives the vault, sealed: the file holds no clear name.
W="$SESAME_HOME/vaults/withdrawn.$AICHA"
[ -f "$W" ] || fail "no withdrawn name kept at $W"
expect_eq "withdrawn name mode" "$(stat -c %a "$W")" 600
grep -q 'Aïcha' "$W" && fail "the withdrawn name is kept in clear"
[ -e "$SESAME_HOME/vaults/$AICHA.vault" ] && fail "the vault outlived the withdrawal"

check_show() {
	run 0 show-en "$SESAME" audit show --lang en
	out show-en | grep -q "Aïcha <b>Ben</b>  vault opened  « dossier CAF »" ||
		fail "show --lang en does not name the withdrawn person: $(out show-en)"
	out show-en | grep -q "Bob  vault opened  « rendez-vous APL »" ||
		fail "show --lang en does not name Bob: $(out show-en)"
	out show-en | grep -q "withdrawal: vault destroyed" || fail "no withdrawal in words"
	out show-en | grep -Eq '(Mon|Tues|Wednes|Thurs|Fri|Satur|Sun)day [0-9]+ [A-Z][a-z]+ 20[0-9]{2} at [0-9]{2}:[0-9]{2}' ||
		fail "show --lang en writes no local time out: $(out show-en)"
	out show-en | grep -q "$AICHA" && fail "show --lang en shows an id where a name is known"
	run 0 show-fr "$SESAME" audit show --lang fr
	out show-fr | grep -q "Bob  coffre ouvert  « rendez-vous APL »" ||
		fail "show --lang fr is not in French: $(out show-fr)"
	out show-fr | grep -Eq '(lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche) [0-9]+ [a-zéû]+ 20[0-9]{2} à [0-9]+ h [0-9]{2}' ||
		fail "show --lang fr writes no local time out: $(out show-fr)"
}
check_show
# a restarted agent reads the withdrawn name back from the store
stop_agent
start_agent
check_show

# The report names them too, escaped.
run 0 report "$SESAME" audit report --html "$tmp/report.html" --lang en
grep -q 'Aïcha &lt;b&gt;Ben&lt;/b&gt;</b> <i>(withdrawn)</i>' "$tmp/report.html" ||
	fail "the report does not name the withdrawn person, escaped"
grep -q '<b>Bob</b>' "$tmp/report.html" || fail "the report does not name Bob"
grep -q 'Ben</b>' "$tmp/report.html" && grep -q '<b>Ben</b>' "$tmp/report.html" &&
	fail "a name reached the page unescaped"
expect_eq "report mode" "$(stat -c %a "$tmp/report.html")" 600
run 1 report-again "$SESAME" audit report --html "$tmp/report.html"
err report-again | grep -q "cannot create the report" || fail "an existing report is replaced"

# names: ids only, at most 200, and an id nobody has is left out.
python3 - "$SESAME_AGENT_SOCK" "$BOB" <<'PY' || fail "names request"
import json, socket, struct, sys
def ask(req):
    s = socket.socket(socket.AF_UNIX)
    s.connect(sys.argv[1])
    body = json.dumps(dict(req, v=1)).encode()
    s.sendall(struct.pack(">I", len(body)) + body)
    head = s.recv(4, socket.MSG_WAITALL)
    return json.loads(s.recv(struct.unpack(">I", head)[0], socket.MSG_WAITALL))
bob = sys.argv[2]
r = ask({"op": "names", "users": [bob, "0" * 32]})
assert r["ok"] and r["names"] == [{"user": bob, "name": "Bob", "withdrawn": False}], r
for bad in ([], ["Bob"], [1], [bob] * 201, "x"):
    r = ask({"op": "names", "users": bad})
    assert not r["ok"] and r["code"] == -101, (bad, r)
PY
stop_agent
echo "PASS: names"
