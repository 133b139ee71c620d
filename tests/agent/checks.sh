#!/bin/sh
# Check first, then ask for the secret: what the agent can refuse without a secret is refused
# before the person types one (the pinentry is never started), in words that name the thing and
# the remedy; the agent refuses the same things itself when a client skips the checks.
#   checks.sh SESAME SESAME_AGENT
. "$(dirname "$0")/lib.sh"

PIN1=482916 PIN2=739164 NEWPIN=615283 WRONG=000000
PROTO="$(dirname "$0")/agentproto.py"
conf 'kdf_passes = 1' 'kdf_memory_mib = 8' 'pin_retries = 3'
install_init
start_agent

# The spy stands in for pinentry: it says whether it was started and what it was asked.
export SESAME_PINENTRY="$(cd "$(dirname "$0")" && pwd)/pinentry-spy.sh"
export SPY_LOG="$tmp/spy.log" SPY_ANSWERS="$tmp/spy.answers"
spy() { # spy ANSWERS...: a fresh log, and the answers the next prompts give
	rm -f "$SPY_LOG" "$SPY_LOG.count"
	printf '%s\n' "$@" >"$SPY_ANSWERS"
}
spy_unused() { [ ! -e "$SPY_LOG" ] || fail "$1: the prompt was shown: $(cat "$SPY_LOG")"; }
getpins() { grep -c '^GETPIN' "$SPY_LOG" 2>/dev/null || echo 0; }
agent_call() { python3 "$PROTO" "$SESAME_AGENT_SOCK" "$1"; }
jfield() { printf '%s' "$1" | python3 -c 'import json,sys; print(json.load(sys.stdin).get(sys.argv[1]))' "$2"; }

# --- names: kept as NFC, trimmed, inner spaces collapsed
enroll "Jean Müller" "$PIN1"
# "  Aïcha   Ben " with a decomposed ï (i + U+0308)
run 0 enroll-aicha sh -c 'echo "$1" | "$0" enroll "$2" --pin-fd 0 --json' "$SESAME" "$PIN2" \
	"$(printf '  Ai\314\210cha   Ben ')"
run 0 users "$SESAME" list --json
names=$(jget users '"|".join(u["name"] for u in j["users"])')
expect_eq "names as kept" "$names" "$(printf 'A\303\257cha Ben|Jean M\303\274ller')"

# --- a near-duplicate name is refused before the PIN is asked, with the existing name
for dup in "jean müller" "Jean  Müller" "JEAN MULLER" " Jean Müller "; do
	spy "$NEWPIN" "$NEWPIN"
	run 2 dup-name "$SESAME" enroll "$dup"
	spy_unused "enroll \"$dup\""
	err dup-name | grep -qF 'a person is already enrolled as "Jean Müller"' ||
		fail "enroll \"$dup\": $(err dup-name)"
done
# ... and by the agent itself, whatever the client checked
reply=$(agent_call '{"v":1,"op":"enroll","name":"jean  MÜLLER","pin":"615283"}')
expect_eq "agent refuses a near-duplicate" "$(jfield "$reply" reason)" name_exists
expect_eq "agent names the existing person" "$(jfield "$reply" existing)" "Jean Müller"

# --- a name too long says the limit, not "malformed request"
long=$(python3 -c 'print("a" * 129)')
run 2 long-name "$SESAME" enroll "$long"
err long-name | grep -qF 'the name is too long: at most 128 bytes' ||
	fail "129-byte name: $(err long-name)"
reply=$(agent_call "{\"v\":1,\"op\":\"enroll\",\"name\":\"$long\",\"pin\":\"615283\"}")
expect_eq "agent: name too long" "$(jfield "$reply" reason)" name_too_long

# --- add: no session, bad address, duplicate service: refused before the password is asked
spy secret secret
run 5 add-nosession "$SESAME" add "Jean Müller" --service CAF --url https://caf.fr/ --username j
spy_unused "add without a session"
err add-nosession | grep -qF 'unlock first' || fail "add without a session: $(err add-nosession)"
unlock_with 0 unlock-jean "Jean Müller" "$PIN1"
for url in caf.fr 'javascript:alert(1)' ftp://caf.fr/ 'https://caf .fr/' http://caf.fr/ \
	'https://user@evil.example/'; do
	spy secret secret
	run 2 add-url "$SESAME" add "Jean Müller" --service CAF --url "$url" --username j
	spy_unused "add --url $url"
	err add-url | grep -qF "\"$url\"" || fail "add --url $url does not name it: $(err add-url)"
	reply=$(agent_call "{\"v\":1,\"op\":\"add\",\"user\":\"Jean Müller\",\"service\":\"CAF\",
		\"url\":\"$url\",\"username\":\"j\",\"password\":\"p\"}")
	expect_eq "agent refuses $url" "$(jfield "$reply" ok)" False
done
# http on loopback is the agent's to allow: sesame.conf does not here
reply=$(agent_call '{"v":1,"op":"add","user":"Jean Müller","service":"Local",
	"url":"http://127.0.0.1:8080/login","username":"j","password":"p"}')
expect_eq "agent: http on loopback not allowed" "$(jfield "$reply" reason)" url_http_disabled

# --- the password: never empty; typed twice at the prompt, a mismatch caught
run 2 add-empty sh -c 'echo "" | "$0" add "Jean Müller" --service CAF --url https://caf.fr/ \
	--username j --secret-fd 0' "$SESAME"
err add-empty | grep -qF 'the password is empty' || fail "empty password: $(err add-empty)"
reply=$(agent_call '{"v":1,"op":"add","user":"Jean Müller","service":"CAF",
	"url":"https://caf.fr/","username":"j","password":""}')
expect_eq "agent refuses an empty password" "$(jfield "$reply" reason)" password_empty
spy first-try second-try Caf-Secret-1 Caf-Secret-1
run 0 add-twice "$SESAME" add "Jean Müller" --service CAF --url https://caf.fr/ --username j
expect_eq "password prompts (a mismatch, then twice the same)" "$(getpins)" 4
grep -q '^SETERROR' "$SPY_LOG" || fail "the mismatch was not said: $(cat "$SPY_LOG")"
# one line per secret on a descriptor: the second line is the next command's
run 0 add-fd sh -c 'printf "%s\n%s\n" Ameli-1 Other | "$0" add "Jean Müller" --service Ameli \
	--url https://ameli.fr/ --username j --secret-fd 0' "$SESAME"

for dup in caf " CAF " "Cäf"; do
	spy secret secret
	run 2 add-dup "$SESAME" add "Jean Müller" --service "$dup" --url https://caf.fr/ --username j
	spy_unused "add --service \"$dup\""
	err add-dup | grep -qF 'a credential for "CAF" is already recorded: to change it, add --replace' ||
		fail "duplicate service \"$dup\": $(err add-dup)"
done
reply=$(agent_call '{"v":1,"op":"add","user":"Jean Müller","service":"caf",
	"url":"https://caf.fr/","username":"j","password":"p"}')
expect_eq "agent refuses a duplicate service" "$(jfield "$reply" existing)" CAF

# --- an unknown person is named, in lock, add and remove
for cmd in lock remove list; do
	extra=
	[ "$cmd" != remove ] || extra=CAF
	# shellcheck disable=SC2086
	run 1 "unknown-$cmd" "$SESAME" "$cmd" "Personne Inconnue" $extra
	err "unknown-$cmd" | grep -qF 'no enrolled person is named "Personne Inconnue"' ||
		fail "$cmd of an unknown person: $(err "unknown-$cmd")"
done
run 1 rm-unknown "$SESAME" remove "Jean Müller" Impots --yes
err rm-unknown | grep -qF 'no credential for "Impots"' || fail "remove: $(err rm-unknown)"

# --- sesame pin: a wrong current PIN is said before the new one is asked
run 3 pin-wrong-fd sh -c 'printf "%s\n" "$1" | "$0" pin "Jean Müller" --pin-fd 0' "$SESAME" "$WRONG"
err pin-wrong-fd | grep -qi 'wrong PIN' || fail "pin with a wrong current PIN: $(err pin-wrong-fd)"
spy "$WRONG" "$PIN1" "$NEWPIN" "$NEWPIN"
run 0 pin-retry "$SESAME" pin "Jean Müller"
grep -q '^SETERROR Wrong PIN' "$SPY_LOG" || fail "the wrong PIN was not said: $(cat "$SPY_LOG")"
expect_eq "pin prompts (wrong, right, new twice)" "$(getpins)" 4
unlock_with 0 unlock-new "Jean Müller" "$NEWPIN"

# --- a blocked vault is said before the PIN is asked
for _ in 1 2 3; do unlock_with 3 block "Aïcha Ben" "$WRONG" || true; done
unlock_with 4 blocked-check "Aïcha Ben" "$WRONG"
for cmd in unlock pin; do
	spy "$PIN2" "$PIN2"
	run 4 "blocked-$cmd" "$SESAME" "$cmd" "Aïcha Ben"
	spy_unused "$cmd of a blocked vault"
	err "blocked-$cmd" | grep -qF 'sesame recover' || fail "$cmd blocked: $(err "blocked-$cmd")"
done

# --- a descriptor that is not open is named, not taken for a missing pinentry
run 1 closed-fd "$SESAME" unlock "Jean Müller" --pin-fd 9
err closed-fd | grep -qF 'cannot read descriptor 9' || fail "closed descriptor: $(err closed-fd)"
# --- a PIN of the wrong length is told the limits
run 2 short-pin sh -c 'echo 123 | "$0" enroll "Nouvelle Personne" --pin-fd 0' "$SESAME"
err short-pin | grep -qF 'the PIN must have 6 to 12 digits' || fail "short PIN: $(err short-pin)"

stop_agent
echo PASS
