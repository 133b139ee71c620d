#!/bin/sh
# Sessions end by themselves: at the latest session_max_seconds after they opened even if in use
# (reason timeout), or session_idle_seconds after their last use (reason idle), closed by the
# agent's own clock, not at the next request. After lock the same request needs the PIN again.
# SIGTERM closes every session (reason agent_stop), records agent_stopped, and the log verifies.
#   session.sh SESAME SESAME_AGENT
. "$(dirname "$0")/lib.sh"

PIN=482916 PIN2=739164
conf 'kdf_passes = 1' 'kdf_memory_mib = 8' 'session_idle_seconds = 2' 'session_max_seconds = 5'

now() { date +%s.%N; }
sleep_until() { # T0 SECONDS: sleep until T0 + SECONDS
	s=$(awk -v t0="$1" -v d="$2" -v now="$(now)" 'BEGIN { s = t0 + d - now; if (s < 0) s = 0;
		printf "%.3f", s }')
	sleep "$s"
}
closed_reasons() { audit_field session_closed reason | tr '\n' ' '; }

install_init
start_agent
enroll Alice "$PIN"
enroll Bob "$PIN2"
run 5 add-nosession sh -c 'echo Secret-1234 | "$0" add Alice --service CAF --url https://caf.fr \
	--username a --secret-fd 0' "$SESAME"

# The maximum length: in use every 0.8 s (never idle), the session still ends after 5 s.
t0=$(now)
unlock_with 0 unlock1 Alice "$PIN"
for i in 1 2 3 4; do
	sleep_until "$t0" "$(awk -v i="$i" 'BEGIN { print i * 0.8 }')"
	run 0 "use$i" "$SESAME" list Alice
done
sleep_until "$t0" 6.3
expect_eq "closed by the agent itself, before any request" "$(closed_reasons)" "timeout "
run 0 st1 "$SESAME" status --json
expect_eq "sessions after timeout" "$(jget st1 'len(j["sessions"])')" 0
run 5 after-timeout "$SESAME" list Alice

# Idle: unused for more than 2 s, the session ends although its maximum is far.
t1=$(now)
unlock_with 0 unlock2 Alice "$PIN"
run 0 st2 "$SESAME" status --json
expect_eq "session open" "$(jget st2 '[s["name"] for s in j["sessions"]]')" "['Alice']"
expires=$(jget st2 'j["sessions"][0]["expires_in"]')
[ "$expires" -ge 1 ] && [ "$expires" -le 2 ] || fail "expires_in $expires, expected the idle 2 s"
sleep_until "$t1" 3.3
expect_eq "idle close recorded" "$(closed_reasons)" "timeout idle "
run 5 after-idle "$SESAME" list Alice

# lock: the session ends at once; the same request needs the PIN again, and no PIN, no session.
unlock_with 0 unlock3 Alice "$PIN"
run 0 list-open "$SESAME" list Alice
run 0 lock "$SESAME" lock Alice
run 5 list-locked "$SESAME" list Alice
run 2 unlock-nopin "$SESAME" unlock Alice --pin-fd 0 </dev/null
run 5 still-locked "$SESAME" list Alice
unlock_with 0 unlock4 Alice "$PIN"
run 0 list-again "$SESAME" list Alice
expect_eq "lock recorded" "$(closed_reasons)" "timeout idle lock "

# SIGTERM with two sessions open: both closed with reason agent_stop, then agent_stopped.
unlock_with 0 unlock5 Bob "$PIN2"
run 0 st3 "$SESAME" status --json
expect_eq "two sessions" "$(jget st3 'sorted(s["name"] for s in j["sessions"])')" "['Alice', 'Bob']"
stop_agent
expect_eq "last records" "$(events | tail -n 3 | tr '\n' ' ')" \
	"session_closed session_closed agent_stopped "
expect_eq "agent_stop reasons" "$(closed_reasons)" "timeout idle lock agent_stop agent_stop "
run 0 verify "$SESAME" audit verify

# A new agent starts with no session: the keys did not survive.
start_agent
run 5 list-restarted "$SESAME" list Alice
run 5 list-restarted-bob "$SESAME" list Bob
stop_agent
run 0 verify2 "$SESAME" audit verify
echo "session: ok"
