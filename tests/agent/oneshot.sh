#!/bin/sh
# A scripted unlock (the PIN on a descriptor) is one request: the name goes with the PIN, and the
# agent resolves it through its index. The command sends nothing else (strace counts its
# requests), says the same things as before for a wrong PIN, an unknown name and a blocked
# vault, and the log holds the same records. The id form keeps working. Nor does it load the
# Secret Service's library, which only the agent needs.
#   oneshot.sh SESAME SESAME_AGENT
. "$(dirname "$0")/lib.sh"

PIN=482916 WRONG=135792
conf 'kdf_passes = 1' 'kdf_memory_mib = 8' 'pin_retries = 3'

# requests NAME: the "op" of every request the traced command NAME sent, one per line.
requests() {
	grep -o '\\"op\\": *\\"[a-z_]*' "$tmp/$1.trace" | sed 's/.*"//' || true
}

# traced EXPECTED_EXIT NAME USER PIN [ARGS...]: unlock USER under strace, into $tmp/NAME.trace.
# LeakSanitizer cannot run under ptrace: the same unlocks without strace (retry.sh) check leaks.
traced() {
	want=$1 name=$2 user=$3 pin=$4
	shift 4
	run "$want" "$name" sh -c 'p=$1 t=$2 u=$3; shift 3; echo "$p" |
		ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" strace -f -qq -s 256 -e trace=write,sendmsg,sendto,openat -o "$t" "$0" unlock "$u" \
		--pin-fd 0 "$@"' "$SESAME" "$pin" "$tmp/$name.trace" "$user" "$@"
}

install_init
start_agent
enroll Alice "$PIN"

traced 0 ok Alice "$PIN"
expect_eq "requests of an unlock by name" "$(requests ok | tr '\n' ' ')" "unlock "
out ok | grep -q '^Session open for Alice\.$' || fail "unlock: $(out ok)"
# mapping libsecret and GIO was most of the command's own start-up, for nothing: the agent
# holds the device secret
! grep 'libsecret' "$tmp/ok.trace" || fail "an unlock loaded libsecret"

traced 0 by-id "$USER_ID" "$PIN" --json
expect_eq "requests of an unlock by id" "$(requests by-id | tr '\n' ' ')" "unlock "
expect_eq "the name, by id" "$(jget by-id 'j["name"]')" Alice

traced 1 unknown Nobody "$PIN"
err unknown | grep -q 'no enrolled person named "Nobody"' || fail "unknown: $(err unknown)"

traced 3 wrong Alice "$WRONG"
err wrong | grep -q '^2 attempts left' || fail "wrong PIN: $(err wrong)"
traced 3 wrong2 Alice "$WRONG"
traced 3 last Alice "$WRONG"
err last | grep -q 'blocked' || fail "last attempt: $(err last)"

# Blocked: refused before the PIN is used, as the command refused it when it asked first.
traced 4 blocked Alice "$PIN"
err blocked | grep -q 'blocked' || fail "blocked: $(err blocked)"
traced 4 blocked-json Alice "$PIN" --json
expect_eq "blocked --json" "$(jget blocked-json 'j["reason"]')" blocked
expect_eq "blocked --json attempts" "$(jget blocked-json 'j["attempts_left"]')" 0

expect_eq "records" "$(events | tr '\n' ' ')" \
	"installation_created agent_started user_enrolled user_enrolled pin_ok session_opened pin_ok session_opened pin_wrong pin_wrong pin_wrong vault_blocked "
stop_agent
echo "oneshot: ok"
