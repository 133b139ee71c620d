#!/bin/sh
# The retry counter, like a bank card's: wrong PINs count down (in the messages and in --json),
# the limit blocks the vault (exit 4, even for the right PIN), SIGKILL of the agent between
# attempts, or during one, does not give attempts back, and the recovery sheet unblocks.
#   retry.sh SESAME SESAME_AGENT
. "$(dirname "$0")/lib.sh"

PIN=482916 NEWPIN=739164 WRONG=135792
conf 'kdf_passes = 1' 'kdf_memory_mib = 8' 'pin_retries = 3'

left() { # NAME: Alice's attempts_left as the agent reports it
	run 0 "$1" "$SESAME" list --json
	jget "$1" '[u["attempts_left"] for u in j["users"] if u["name"] == "Alice"][0]'
}
blocked() {
	run 0 "$1" "$SESAME" list --json
	jget "$1" '[u["blocked"] for u in j["users"] if u["name"] == "Alice"][0]'
}

install_init
start_agent
enroll Alice "$PIN"
expect_eq "attempts at enrolment" "$(left l0)" 3

# 1st wrong PIN: the text says 2 left; --json and the listing agree.
unlock_with 3 w1 Alice "$WRONG"
err w1 | grep -q '^2 attempts left' || fail "1st wrong PIN: $(err w1)"
expect_eq "after 1 wrong PIN" "$(left l1)" 2

# SIGKILL between attempts: the count survives the agent.
kill9_agent
start_agent
expect_eq "after SIGKILL and restart" "$(left l2)" 2

# 2nd wrong PIN, as JSON.
run 3 w2 sh -c 'echo "$1" | "$0" unlock Alice --pin-fd 0 --json' "$SESAME" "$WRONG"
is_json w2
expect_eq "2nd wrong PIN, --json" "$(jget w2 'j["attempts_left"]')" 1
expect_eq "2nd wrong PIN, --json code" "$(jget w2 'j["ok"]')" False
kill9_agent
start_agent
expect_eq "after a 2nd SIGKILL" "$(left l3)" 1

# 3rd wrong PIN: the vault blocks.
unlock_with 3 w3 Alice "$WRONG"
err w3 | grep -q 'blocked' || fail "3rd wrong PIN does not say blocked: $(err w3)"
expect_eq "blocked" "$(blocked b1)" True
expect_eq "attempts when blocked" "$(left l4)" 0
run 0 listtext "$SESAME" list
out listtext | grep -q 'Alice.*BLOCKED' || fail "list does not show BLOCKED: $(out listtext)"

# Blocked: even the right PIN is refused with exit 4, also after a restart, and a PIN change too.
unlock_with 4 right-blocked Alice "$PIN"
run 4 right-blocked-json sh -c 'echo "$1" | "$0" unlock Alice --pin-fd 0 --json' "$SESAME" "$PIN"
expect_eq "blocked --json" "$(jget right-blocked-json 'j["attempts_left"]')" 0
kill9_agent
start_agent
unlock_with 4 right-blocked-restart Alice "$PIN"
run 4 pin-blocked sh -c 'printf "%s\n%s\n" "$1" "$2" | "$0" pin Alice --pin-fd 0' \
	"$SESAME" "$PIN" "$NEWPIN"
run 5 list-blocked "$SESAME" list Alice

# The recovery sheet unblocks, with a new PIN; the counter is full again.
run 0 recover sh -c 'printf "%s\n%s\n" "$1" "$2" | "$0" recover Alice --pin-fd 0' \
	"$SESAME" "$SHEET" "$NEWPIN"
expect_eq "unblocked" "$(blocked b2)" False
expect_eq "attempts after recovery" "$(left l5)" 3
unlock_with 3 old-pin Alice "$PIN"
expect_eq "a wrong PIN counts again" "$(left l6)" 2
unlock_with 0 new-pin Alice "$NEWPIN"
expect_eq "success resets the counter" "$(left l7)" 3
stop_agent

# SIGKILL during an attempt: the attempt is counted before the KDF runs. Carol's vault has a
# costly KDF (the policy at her enrolment), so the agent can be killed while it computes.
conf 'kdf_passes = 4' 'kdf_memory_mib = 256' 'pin_retries = 3'
start_agent
enroll Carol "$PIN"
stop_agent
conf 'kdf_passes = 1' 'kdf_memory_mib = 8' 'pin_retries = 3'
start_agent
t0=$(date +%s%N)
unlock_with 3 carol-timed Carol "$WRONG"
t1=$(date +%s%N)
ms=$(((t1 - t0) / 1000000))
echo "Carol's unlock took $ms ms"
echo "$WRONG" | "$SESAME" unlock Carol --pin-fd 0 >/dev/null 2>&1 &
cli=$!
sleep "$(awk -v ms="$ms" 'BEGIN { printf "%.3f", ms / 3000 }')"
kill9_agent
wait "$cli" # the command loses its agent: it fails, and no session opened
start_agent
run 0 lc "$SESAME" list --json
expect_eq "attempt counted despite SIGKILL during the KDF" \
	"$(jget lc '[u["attempts_left"] for u in j["users"] if u["name"] == "Carol"][0]')" 1
stop_agent

# The audit log after all these kills: intact; refusals recorded with the attempts left.
run 0 verify "$SESAME" audit verify
expect_eq "pin_wrong attempts_left" "$(audit_field pin_wrong attempts_left | tr '\n' ' ')" \
	"2 1 0 2 2 "
# one: once blocked, the command says so before asking a PIN, and the agent uses none it is sent
expect_eq "vault_blocked" "$(events | grep -c "^vault_blocked$")" 1
events | grep -q '^recovery_used$' || fail "no recovery_used record"
echo "retry: ok"
