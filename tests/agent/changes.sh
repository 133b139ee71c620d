#!/bin/sh
# Changes of a vault and their records (docs/audit-log.md, "Changes and their records"): a dead
# KDF helper is replaced and costs no attempt; a PIN change racing a recovery fails clearly;
# a refused add is not recorded as added; an enrolment whose key cannot be delivered is undone;
# a change applied but never confirmed is put back at the next start; temporary copies of a
# vault go at start and at withdrawal.
. "$(dirname "$0")/lib.sh"

conf "kdf_passes = 1" "kdf_memory_mib = 8"
install_init
start_agent
PIN=284619
enroll Alice "$PIN"
ALICE=$USER_ID
ALICE_SHEET=$SHEET
VAULTS="$SESAME_HOME/vaults"

left() { # attempts left for Alice
	run 0 "left-$1" "$SESAME" list --json
	jget "left-$1" '[u["attempts_left"] for u in j["users"] if u["name"] == "Alice"][0]'
}

# records EVENT OUTCOME: how many EVENT records have OUTCOME.
records() {
	"$SESAME" audit export --format jsonl | python3 -c 'import json,sys
print(sum(1 for l in sys.stdin
          if json.loads(l)["event"] == sys.argv[1] and json.loads(l)["outcome"] == sys.argv[2]))' \
		"$1" "$2"
}

# --- item: a dead Argon2id helper is replaced, and the right PIN still opens
helpers=$(ps -o pid= --ppid "$AGENT_PID" | tr -d ' ')
[ -n "$helpers" ] || fail "no KDF helper under the agent"
# shellcheck disable=SC2086
kill -KILL $helpers
unlock_with 0 unlock-after-kill Alice "$PIN"
expect_eq "attempts after unlocking with dead helpers" "$(left 1)" 5
helpers=$(ps -o pid= --ppid "$AGENT_PID" | tr -d ' ')
# shellcheck disable=SC2086
kill -KILL $helpers
unlock_with 3 wrong-after-kill Alice 999111
expect_eq "attempts after one wrong PIN with dead helpers" "$(left 2)" 4
unlock_with 0 unlock-again Alice "$PIN"
[ "$(ps -o pid= --ppid "$AGENT_PID" | wc -l)" -ge 2 ] || fail "the helpers were not replaced"

# --- item: a refused add is recorded as nothing added
add() { # NAME SERVICE
	run "$1" "add-$2-$1" sh -c 'echo s3cret | "$0" add Alice --service "$1" \
		--url https://example.org --username alice --secret-fd 0' "$SESAME" "$2"
}
add 0 CAF
before=$(records credential_added ok)
# the raw request: the CLI refuses this one itself before asking for the password
python3 - "$SESAME_AGENT_SOCK" "$ALICE" >"$tmp/dup.out" <<'PY' || fail "add the same service"
import json, socket, struct, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(60)
s.connect(sys.argv[1])
b = json.dumps({"v": 1, "op": "add", "user": sys.argv[2], "service": "CAF",
                "url": "https://example.org", "username": "alice", "password": "x"}).encode()
s.sendall(struct.pack(">I", len(b)) + b)
n = struct.unpack(">I", s.recv(4, socket.MSG_WAITALL))[0]
print(json.loads(s.recv(n, socket.MSG_WAITALL)).get("code"))
PY
expect_eq "refused add" "$(cat "$tmp/dup.out")" -17
expect_eq "credential_added records after a refused add" "$(records credential_added ok)" "$before"
expect_eq "intents of a refused add" "$(records credential_added intent)" 1

# --- item: an enrolment whose recovery key cannot be delivered is undone and recorded
python3 - "$SESAME_AGENT_SOCK" <<'PY' || fail "enrol with the client gone"
import socket, struct, json, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
body = json.dumps({"v": 1, "op": "enroll", "name": "Gone", "pin": "730512"}).encode()
s.sendall(struct.pack(">I", len(body)) + body)
s.close()  # before the agent can answer
PY
for _ in $(seq 200); do
	[ "$(records user_enrolled undone)" = 1 ] && break
	sleep 0.05
done
expect_eq "undone enrolments" "$(records user_enrolled undone)" 1
run 0 users-gone "$SESAME" list --json
expect_eq "people after the undone enrolment" "$(jget users-gone 'len(j["users"])')" 1
expect_eq "vault files" "$(ls "$VAULTS" | grep -c '\.vault$')" 1
"$SESAME" audit export --format jsonl | grep '"undone"' |
	grep -q 'recovery key could not be delivered' || fail "the undone enrolment says no why"

# --- item: a PIN change racing a recovery: one of them, and the other fails clearly
stop_agent
conf "kdf_passes = 3" "kdf_memory_mib = 64" # the new slot's KDF makes both jobs overlap
start_agent
NEWPIN=402719
RECPIN=615038
python3 - "$SESAME_AGENT_SOCK" "$ALICE" "$PIN" "$NEWPIN" "$ALICE_SHEET" "$RECPIN" \
	>"$tmp/race.out" <<'PY' || fail "race"
import json, socket, struct, sys
sock, user, pin, new, sheet, rec_pin = sys.argv[1:]
def conn():
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(120)
    s.connect(sock)
    return s
def send(s, o):
    b = json.dumps(dict(o, v=1)).encode()
    s.sendall(struct.pack(">I", len(b)) + b)
def recv(s):
    n = struct.unpack(">I", s.recv(4, socket.MSG_WAITALL))[0]
    return json.loads(s.recv(n, socket.MSG_WAITALL))
a, b = conn(), conn()
send(a, {"op": "pin", "user": user, "pin": pin, "new_pin": new})
send(b, {"op": "recover", "user": user, "recovery": sheet, "new_pin": rec_pin})
ra, rb = recv(a), recv(b)
# whichever the agent read first wins (both arrive at once); a recovery stands once its new key
# is acknowledged, as any client does
if rb.get("ok"):
    send(b, {"op": "recovery_shown"})
    assert recv(b).get("ok")
print("pin", ra.get("ok"), ra.get("code"))
print("recover", rb.get("ok"), rb.get("code"))
PY
if grep -q '^pin True None$' "$tmp/race.out"; then
	grep -q '^recover False -35$' "$tmp/race.out" ||
		fail "the racing recovery was not refused as such: $(cat "$tmp/race.out")"
	PIN=$NEWPIN
else
	grep -q '^recover True None$' "$tmp/race.out" || fail "neither change: $(cat "$tmp/race.out")"
	grep -q '^pin False -35$' "$tmp/race.out" ||
		fail "the racing PIN change was not refused as such: $(cat "$tmp/race.out")"
	PIN=$RECPIN
fi
unlock_with 0 unlock-after-race Alice "$PIN"

# --- item: a change applied but not confirmed when the agent stopped is put back at start
stop_agent
conf "kdf_passes = 1" "kdf_memory_mib = 8"
cp "$VAULTS/$ALICE.vault" "$tmp/before.vault"
start_agent
run 0 pin-change sh -c 'printf "%s\n%s\n" "$1" "$2" | "$0" pin Alice --pin-fd 0' \
	"$SESAME" "$PIN" 863207
stop_agent
cp "$tmp/before.vault" "$VAULTS/$ALICE.vault.undo" # as a SIGKILL before the commit leaves it
start_agent
[ ! -e "$VAULTS/$ALICE.vault.undo" ] || fail "the undo file is still there"
unlock_with 0 unlock-after-undo Alice "$PIN"
expect_eq "pin_changed undone at start" "$(records pin_changed undone)" 1

# --- item: temporary copies of a vault go at start and at withdrawal
stop_agent
cp "$VAULTS/$ALICE.vault" "$VAULTS/.$ALICE.vault.0123456789abcdef.tmp"
start_agent
[ ! -e "$VAULTS/.$ALICE.vault.0123456789abcdef.tmp" ] || fail "a stale copy survived the start"
cp "$VAULTS/$ALICE.vault" "$VAULTS/.$ALICE.vault.fedcba9876543210.tmp"
unlock_with 0 unlock-revoke Alice "$PIN"
run 0 revoke "$SESAME" revoke Alice --yes
# nothing that opens with her PIN is left; only her name, sealed, for the audit (format.md)
left_over=$(ls -A "$VAULTS" | grep "$ALICE" | grep -vc "^withdrawn\.$ALICE\$")
expect_eq "files of Alice after withdrawal" "$left_over" 0
[ -f "$VAULTS/withdrawn.$ALICE" ] || fail "the withdrawn name was not kept"

run 0 verify "$SESAME" audit verify
stop_agent
echo "changes: ok"
