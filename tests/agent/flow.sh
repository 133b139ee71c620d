#!/bin/sh
# The contract's whole flow through the sesame command and a real agent, secrets on descriptors:
# init, enroll, add, list, a wrong then the right PIN, status, lock, pin, recover, remove, revoke,
# then the audit log verifies and holds one record per event, in order. No password is ever
# printed nor written in clear under SESAME_HOME; every --help exits 0; every --json parses.
#   flow.sh SESAME SESAME_AGENT
. "$(dirname "$0")/lib.sh"

PIN1=482916 PIN2=739164 PIN3=615283 WRONG=000000
PASS1='Caf-Secret-9f3Kq!zz' PASS2='Ameli-Secret-Xw7#pp'
SHEET_RE='^([0-9A-Z]{4}-){7}[0-9A-Z]{4}$'
conf 'kdf_passes = 1' 'kdf_memory_mib = 8' 'pin_retries = 5'

# --help of the program and of every command: exit 0, usage on stdout.
run 0 help "$SESAME" --help
for c in init enroll add unlock list lock status pin recover remove revoke audit; do
	run 0 "help-$c" "$SESAME" "$c" --help
	out "help-$c" | grep -q "Usage: sesame $c" || fail "$c --help prints no usage"
done
run 0 help-agent "$AGENT" --help

# init, then the agent.
run 0 init-text "$SESAME" init
out init-text | grep -q 'Installation [0-9a-f]\{32\} created' || fail "init says nothing"
run 1 init-again "$SESAME" init # an installation is never created twice
rm -rf "$SESAME_HOME" "$XDG_CONFIG_HOME/sesame"
install_init
expect_eq "init device secret" "$(jget init 'j["device_secret"]')" file
[ -f "$XDG_CONFIG_HOME/sesame/device-secret-$INSTALLATION" ] || fail "no key file"
start_agent
run 0 status0 "$SESAME" status --json
is_json status0
expect_eq "status mode" "$(jget status0 'j["agent"]["mode"]')" user
expect_eq "status pid" "$(jget status0 'j["agent"]["pid"]')" "$AGENT_PID"
expect_eq "status sessions" "$(jget status0 'len(j["sessions"])')" 0

# enroll: the id and the recovery sheet, as text and as JSON.
run 0 enroll-alice sh -c 'echo "$1" | "$0" enroll Alice --pin-fd 0' "$SESAME" "$PIN1"
ALICE=$(out enroll-alice | sed -n 's/^Alice is enrolled. Person id: \([0-9a-f]\{32\}\)$/\1/p')
[ -n "$ALICE" ] || fail "enroll prints no person id: $(out enroll-alice)"
SHEET1=$(out enroll-alice | sed -n 's/^    \(.*\)$/\1/p')
echo "$SHEET1" | grep -Eq "$SHEET_RE" || fail "recovery sheet '$SHEET1' is not XXXX-x8"
enroll Bob "$PIN2"
is_json enroll-Bob
echo "$USER_ID" | grep -Eq '^[0-9a-f]{32}$' || fail "enroll --json: bad id $USER_ID"
echo "$SHEET" | grep -Eq "$SHEET_RE" || fail "enroll --json: bad sheet $SHEET"
[ "$SHEET" != "$SHEET1" ] || fail "two people got the same recovery sheet"
run 2 enroll-short sh -c 'echo 12 | "$0" enroll Carol --pin-fd 0' "$SESAME"
run 0 users "$SESAME" list --json
is_json users
expect_eq "users" "$(jget users '[u["name"] for u in j["users"]]')" "['Alice', 'Bob']"
expect_eq "attempts" "$(jget users '[u["attempts_left"] for u in j["users"]]')" "[5, 5]"

# No session: add and list USER are refused with exit 5.
run 5 add-nosession sh -c 'echo "$1" | "$0" add Alice --service CAF --url https://caf.fr \
	--username a1 --secret-fd 0' "$SESAME" "$PASS1"
run 5 list-nosession "$SESAME" list Alice

# A wrong PIN (exit 3, attempts left), then the right one.
unlock_with 3 unlock-wrong Alice "$WRONG"
err unlock-wrong | grep -q '4 attempts left' || fail "wrong PIN: no attempts left: $(err unlock-wrong)"
run 3 unlock-wrong-json sh -c 'echo 000000 | "$0" unlock Alice --pin-fd 0 --json' "$SESAME"
is_json unlock-wrong-json
expect_eq "attempts_left" "$(jget unlock-wrong-json 'j["attempts_left"]')" 3
unlock_with 0 unlock Alice "$PIN1"
out unlock | grep -q 'Session open for Alice' || fail "unlock: $(out unlock)"
run 0 status1 "$SESAME" status
out status1 | grep -q 'Session open for Alice: ends in' || fail "status shows no session: $(out status1)"
run 0 status1j "$SESAME" status --json
expect_eq "session" "$(jget status1j '[s["name"] for s in j["sessions"]]')" "['Alice']"
run 0 users1 "$SESAME" list --json
expect_eq "attempts reset" "$(jget users1 '[u["attempts_left"] for u in j["users"]]')" "[5, 5]"
expect_eq "session flag" "$(jget users1 '[u["session"] for u in j["users"]]')" "[True, False]"

# add (descriptor 0, then descriptor 3 with --json), list: services, never a password.
run 0 add1 sh -c 'echo "$1" | "$0" add Alice --service CAF --url https://wwwd.caf.fr \
	--username alice.caf --secret-fd 0' "$SESAME" "$PASS1"
run 0 add2 sh -c 'echo "$1" >"$2/p2"; "$0" add "$3" --service ameli --url https://ameli.fr \
	--username 1850599 --consent-for 6m --secret-fd 3 --json 3<"$2/p2"; rc=$?; rm -f "$2/p2";
	exit $rc' "$SESAME" "$PASS2" "$tmp" "$ALICE"
is_json add2
run 0 list "$SESAME" list Alice
out list | grep -q 'CAF *https://wwwd.caf.fr *alice.caf' || fail "list: $(out list)"
out list | grep -q 'ameli *https://ameli.fr *1850599 *assisted login allowed until' ||
	fail "list: $(out list)"
run 0 listj "$SESAME" list "$ALICE" --json
is_json listj
expect_eq "services" "$(jget listj 'sorted(s["service"] for s in j["services"])')" "['CAF', 'ameli']"
fields="['before_clicks', 'consent', 'consent_until', 'id', 'notes', 'password_selector',"
fields="$fields 'service', 'submit_selector', 'updated', 'url', 'username', 'username_selector']"
expect_eq "fields" "$(jget listj 'sorted(set(k for s in j["services"] for k in s))')" "$fields"

# lock: the same request needs the PIN again.
run 0 lock "$SESAME" lock
out lock | grep -q '1 session(s) closed' || fail "lock: $(out lock)"
run 5 list-locked "$SESAME" list Alice
run 0 lockj "$SESAME" lock --json
is_json lockj
expect_eq "closed" "$(jget lockj 'j["closed"]')" 0

# pin: the old PIN no longer opens, the new one does.
run 0 pin sh -c 'printf "%s\n%s\n" "$1" "$2" | "$0" pin Alice --pin-fd 0' "$SESAME" "$PIN1" "$PIN2"
unlock_with 3 unlock-oldpin Alice "$PIN1"
unlock_with 0 unlock-newpin Alice "$PIN2"
run 0 lock2 "$SESAME" lock Alice

# recover: the sheet sets a new PIN and prints a new sheet; the old sheet is refused after.
run 0 recover sh -c 'printf "%s\n%s\n" "$1" "$2" | "$0" recover Alice --pin-fd 0' \
	"$SESAME" "$SHEET1" "$PIN3"
SHEET2=$(out recover | sed -n 's/^    \(.*\)$/\1/p')
echo "$SHEET2" | grep -Eq "$SHEET_RE" || fail "recover prints no new sheet: $(out recover)"
[ "$SHEET2" != "$SHEET1" ] || fail "recover kept the old sheet"
run 3 recover-old sh -c 'printf "%s\n%s\n" "$1" "$2" | "$0" recover Alice --pin-fd 0 --json' \
	"$SESAME" "$SHEET1" "$PIN1"
run 0 recover-json sh -c 'printf "%s\n%s\n" "$1" "$2" | "$0" recover Bob --pin-fd 0 --json' \
	"$SESAME" "$SHEET" "$PIN1"
is_json recover-json
unlock_with 3 unlock-prerecover Alice "$PIN2"
run 0 unlockj sh -c 'echo "$1" | "$0" unlock Alice --pin-fd 0 --json' "$SESAME" "$PIN3"
is_json unlockj

# remove, then revoke: the vault file is gone.
run 7 remove-unconfirmed "$SESAME" remove Alice ameli # no terminal, no --yes: nothing done
run 0 remove "$SESAME" remove Alice ameli --yes
run 0 removej "$SESAME" remove Alice CAF --json --yes
is_json removej
run 0 list2 "$SESAME" list Alice --json
expect_eq "services left" "$(jget list2 'len(j["services"])')" 0
[ -f "$SESAME_HOME/vaults/$ALICE.vault" ] || fail "no vault file for Alice before revoke"
run 7 revoke-unconfirmed "$SESAME" revoke Alice </dev/null
run 0 revoke "$SESAME" revoke Alice --yes
[ ! -e "$SESAME_HOME/vaults/$ALICE.vault" ] || fail "revoke left the vault file"
run 0 users2 "$SESAME" list --json
expect_eq "users after revoke" "$(jget users2 '[u["name"] for u in j["users"]]')" "['Bob']"
run 1 unlock-revoked sh -c 'echo "$1" | "$0" unlock Alice --pin-fd 0' "$SESAME" "$PIN3"
run 0 status2 "$SESAME" status --json
expect_eq "sessions after revoke" "$(jget status2 'len(j["sessions"])')" 0
# --user by name: the agent resolves it to Bob's id; a name nobody has is an error.
BOB=$(jget users2 '[u["user"] for u in j["users"] if u["name"] == "Bob"][0]')
run 0 show-bob "$SESAME" audit show --user Bob --json
python3 -c 'import json,sys; u=[json.loads(l)["user"] for l in open(sys.argv[1])]
sys.exit(not u or set(u) != {sys.argv[2]})' "$tmp/out/show-bob.out" "$BOB" ||
	fail "audit show --user Bob: $(out show-bob)"
run 2 show-nobody "$SESAME" audit show --user "Nobody Here"
err show-nobody | grep -q 'Nobody Here' || fail "unknown --user name: $(err show-nobody)"
stop_agent

# No password anywhere: not in any output, not in any file of the installation, not in the log.
for p in "$PASS1" "$PASS2"; do
	if grep -rlF -- "$p" "$tmp/out" "$SESAME_HOME" "$XDG_CONFIG_HOME" "$tmp/agent.log"; then
		fail "a password appears in clear in the files above"
	fi
done

# The audit log: intact, and one record per event in order.
run 0 verify "$SESAME" audit verify
out verify | grep -q '^intact' || fail "verify: $(out verify)"
run 0 verifyj "$SESAME" audit verify --json
is_json verifyj
expect_eq "verify result" "$(jget verifyj 'j["result"]')" intact
run 0 show "$SESAME" audit show --json
run 0 export "$SESAME" audit export --format jsonl
cmp -s "$tmp/out/show.out" "$tmp/out/export.out" || fail "show --json and export jsonl differ"
python3 - "$tmp/out/export.out" "$ALICE" <<'PY' || fail "the audit log does not tell the flow"
import json, sys
every = [json.loads(l) for l in open(sys.argv[1])]
alice = sys.argv[2]
# Each change is recorded twice: its intent before, its outcome after (docs/audit-log.md).
recs = [r for r in every if r["outcome"] != "intent"]
got = [r["event"] for r in recs]
want = ["installation_created", "agent_started",
        "user_enrolled", "user_enrolled",          # Alice, Bob
        "pin_wrong", "pin_wrong",                  # two wrong PINs
        "pin_ok", "session_opened",                # the right one
        "credential_added", "credential_added",    # CAF, ameli
        "session_closed",                          # lock
        "pin_ok", "pin_changed",                   # the current PIN checked first, then changed
        "pin_wrong", "pin_ok", "session_opened",   # old PIN refused, new PIN
        "session_closed",                          # lock Alice
        "recovery_used",                           # Alice
        "recovery_used",                           # her old sheet, refused
        "recovery_used",                           # Bob
        "pin_wrong", "pin_ok", "session_opened",   # the PIN before recovery is refused
        "credential_removed", "credential_removed",
        "session_closed", "user_withdrawn",        # revoke: the session ends, then the vault
        "agent_stopped"]
ok = True
def check(cond, what):
    global ok
    if not cond:
        print("FAIL:", what, file=sys.stderr)
        ok = False
check(got == want, "events\n  got  %s\n  want %s" % (got, want))
check([r["seq"] for r in every] == list(range(len(every))), "seq is not 0..n-1")
changes = ("user_enrolled", "pin_changed", "recovery_used", "credential_added",
           "credential_removed", "user_withdrawn")
pending = {}
for r in every:
    if r["event"] not in changes:
        continue
    key = (r["event"], r.get("user"), r.get("service"))
    if r["outcome"] == "intent":
        check(key not in pending, "two intents of %s" % (key,))
        pending[key] = r["seq"]
    elif r["outcome"] == "ok":
        check(key in pending or r["event"] == "user_enrolled", "%s ok with no intent" % (key,))
        pending.pop(key, None)
check(len([r for r in every if r["outcome"] == "intent"]) == 10, "intent records")
check([r["attempts_left"] for r in recs if r["event"] == "pin_wrong"] == [4, 3, 4, 4],
      "pin_wrong attempts_left")
check([r.get("reason") for r in recs if r["event"] == "session_closed"] ==
      ["lock", "lock", "withdrawn"], "session_closed reasons")
check([r.get("service") for r in recs if r["event"].startswith("credential_")] ==
      ["CAF", "ameli", "ameli", "CAF"], "credential services")
check(all(r.get("user") == alice for r in recs
          if r["event"] in ("pin_ok", "session_opened", "credential_added", "user_withdrawn")),
      "records name Alice")
check([r["outcome"] for r in recs if r["event"] == "recovery_used"] == ["ok", "refused", "ok"],
      "recovery outcomes")
check(all(r["worker"]["uid"] == __import__("os").getuid() for r in recs), "worker uid")
sys.exit(0 if ok else 1)
PY

# --json of the auditor's commands parses too (verify above, show/export line by line).
python3 -c 'import json,sys
for l in sys.stdin: json.loads(l)' <"$tmp/out/show.out" || fail "audit show --json"
echo "flow: ok"
