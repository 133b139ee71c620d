#!/bin/sh
# A new recovery key stands only once its client says it is shown (docs/protocol.md,
# "recovery_shown"): a client that reads the key and hangs up, asks something else, or outlives
# an agent killed before its acknowledgment leaves no vault (or, for a recovery, the old sheet
# working), each undone with its reason in the log; an acknowledged one stands; while one waits,
# its person cannot be unlocked.
. "$(dirname "$0")/lib.sh"
PROTO="$(dirname "$0")/agentproto.py"

conf "kdf_passes = 1" "kdf_memory_mib = 8"
install_init
start_agent
PIN=284619
NEWPIN=402719
VAULTS="$SESAME_HOME/vaults"
enroll Alice "$PIN"
ALICE=$USER_ID
ALICE_SHEET=$SHEET

# undone EVENT REASON: how many EVENT records are undone with REASON.
undone() {
	"$SESAME" audit export --format jsonl | python3 -c 'import json,sys
print(sum(1 for l in sys.stdin for r in [json.loads(l)]
          if r["event"] == sys.argv[1] and r["outcome"] == "undone"
          and r.get("reason") == sys.argv[2]))' "$1" "$2"
}
vaults() { ls "$VAULTS" | grep -c '\.vault$'; }
# wait_undone EVENT REASON N: until N such records, within the agent's connection deadline.
wait_undone() {
	for _ in $(seq 300); do
		[ "$(undone "$1" "$2")" = "$3" ] && return 0
		sleep 0.05
	done
	fail "no $3th $1 undone with \"$2\""
}
GONE="the client did not confirm that the recovery key was shown"
KILLED="the agent stopped before the change was confirmed"

# keyclient MODE JSON: the request on a connection, its reply printed; then MODE: "close" hangs
# up without acknowledging, "other" asks for the status instead, "hold" waits until the agent
# goes, "ack" acknowledges (the acknowledgment's reply printed too).
keyclient() {
	python3 - "$SESAME_AGENT_SOCK" "$1" "$2" "$(dirname "$PROTO")" <<'PY'
import json, sys
sys.path.insert(0, sys.argv[4])
import agentproto as ap
sock, mode, req = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
with ap.connect(sock, 120) as s:
    ap.send(s, req)
    r = ap.recv(s)
    print(json.dumps(r), flush=True)
    if mode == "other":
        ap.send(s, {"v": 1, "op": "status"})
        print(json.dumps(ap.recv(s)), flush=True)
        assert ap.closed_without_reply(s, 30)
    elif mode == "hold":
        assert ap.closed_without_reply(s, 120)
    elif mode == "ack":
        print(json.dumps(ap.key_shown(s, r)), flush=True)
PY
}
enrol_req() { printf '{"v":1,"op":"enroll","name":"%s","pin":"%s"}' "$1" "$2"; }
recover_req() { printf '{"v":1,"op":"recover","user":"%s","recovery":"%s","new_pin":"%s"}' "$1" "$2" "$3"; }

# --- the key read, then a hang-up: the vault is removed, and the log says why
keyclient close "$(enrol_req Gone 730512)" >"$tmp/close.out" || fail "enrol and hang up"
head -n 1 "$tmp/close.out" | grep -q '"recovery"' || fail "no key: $(cat "$tmp/close.out")"
wait_undone user_enrolled "$GONE" 1
expect_eq "vaults after a hang-up" "$(vaults)" 1
run 0 list-close "$SESAME" list --json
expect_eq "people after a hang-up" "$(jget list-close 'len(j["users"])')" 1

# --- another request instead of the acknowledgment: refused, closed, undone
keyclient other "$(enrol_req Other 730512)" >"$tmp/other.out" || fail "enrol, then status"
expect_eq "the other request" "$(sed -n 2p "$tmp/other.out" | python3 -c 'import json,sys
print(json.load(sys.stdin)["code"])')" -101
wait_undone user_enrolled "another request came before the recovery key was shown" 1
expect_eq "vaults after another request" "$(vaults)" 1

# --- acknowledged: the enrolment stands; while it waits, its person cannot be unlocked
python3 - "$SESAME_AGENT_SOCK" "$(dirname "$PROTO")" >"$tmp/wait.out" <<'PY' || fail "pending"
import sys
sys.path.insert(0, sys.argv[2])
import agentproto as ap
sock = sys.argv[1]
with ap.connect(sock, 120) as a, ap.connect(sock, 120) as b:
    ap.send(a, {"v": 1, "op": "enroll", "name": "Dora", "pin": "615038"})
    r = ap.recv(a)
    assert r["ok"] and r["recovery"], r
    ap.send(b, {"v": 1, "op": "unlock", "user": r["user"], "pin": "615038"})
    u = ap.recv(b)
    assert not u["ok"] and u["code"] == -35, u
    k = ap.key_shown(a, r)
    assert k.get("ok"), k
    ap.send(b, {"v": 1, "op": "unlock", "user": r["user"], "pin": "615038"})
    u = ap.recv(b)
    assert u["ok"], u
PY
expect_eq "vaults after an acknowledged enrolment" "$(vaults)" 2

# --- the agent killed between the key and its acknowledgment: gone at the next start
keyclient hold "$(enrol_req Killed 730512)" >"$tmp/hold.out" &
HOLDER=$!
for _ in $(seq 600); do
	[ -s "$tmp/hold.out" ] && break
	sleep 0.05
done
grep -q '"recovery"' "$tmp/hold.out" || fail "no key before the kill: $(cat "$tmp/hold.out")"
expect_eq "vaults while the key waits" "$(vaults)" 3
kill9_agent
wait "$HOLDER" || fail "the holding client"
start_agent
expect_eq "vaults after the kill" "$(vaults)" 2
expect_eq "enrolment undone at start" "$(undone user_enrolled "$KILLED")" 1
run 0 list-killed "$SESAME" list --json
expect_eq "Killed is not listed" "$(jget list-killed '[u for u in j["users"] if u["name"] == "Killed"]')" "[]"

# --- a recovery whose new key was not acknowledged: the old PIN and the old sheet still work
keyclient close "$(recover_req "$ALICE" "$ALICE_SHEET" "$NEWPIN")" >"$tmp/rclose.out" ||
	fail "recover and hang up"
grep -q '"recovery"' "$tmp/rclose.out" || fail "no new key: $(cat "$tmp/rclose.out")"
wait_undone recovery_used "$GONE" 1
unlock_with 0 unlock-old-pin Alice "$PIN"
keyclient hold "$(recover_req "$ALICE" "$ALICE_SHEET" "$NEWPIN")" >"$tmp/rhold.out" &
HOLDER=$!
for _ in $(seq 600); do
	[ -s "$tmp/rhold.out" ] && break
	sleep 0.05
done
grep -q '"recovery"' "$tmp/rhold.out" || fail "no new key before the kill: $(cat "$tmp/rhold.out")"
kill9_agent
wait "$HOLDER" || fail "the holding client"
start_agent
expect_eq "recovery undone at start" "$(undone recovery_used "$KILLED")" 1
unlock_with 0 unlock-after-kill Alice "$PIN"
# the old sheet still opens the vault, through the command, which acknowledges the new key
run 0 recover-cli sh -c 'printf "%s\n%s\n" "$1" "$2" | "$0" recover Alice --pin-fd 0 --json' \
	"$SESAME" "$ALICE_SHEET" "$NEWPIN"
unlock_with 0 unlock-new-pin Alice "$NEWPIN"
NEW_SHEET=$(jget recover-cli 'j["recovery"]')
[ "$NEW_SHEET" != "$ALICE_SHEET" ] || fail "the recovery gave the old key back"

run 0 verify "$SESAME" audit verify
stop_agent
echo "keyshown: ok"
