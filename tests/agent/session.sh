#!/bin/sh
# Sessions end by themselves: at the latest session_max_seconds after they opened even if in use
# (reason timeout), or session_idle_seconds after their last use (reason idle), closed by the
# agent's own clock, not at the next request. After lock the same request needs the PIN again.
# SIGTERM closes every session (reason agent_stop), records agent_stopped, and the log verifies.
#   session.sh SESAME SESAME_AGENT
. "$(dirname "$0")/lib.sh"

PIN=482916 PIN2=739164

IDLE=2 MAX=5
conf 'kdf_passes = 1' 'kdf_memory_mib = 8' "session_idle_seconds = $IDLE" \
	"session_max_seconds = $MAX"
# Waits end when the agent's own records show the end; only a broken agent meets the bound,
# the configured time-out times a factor no load reaches.
SLACK=10

now() { date +%s.%N; }
past() { # T0 SECONDS [T]: T (default now) is at least T0 + SECONDS
	awk -v t0="$1" -v d="$2" -v t="${3:-$(now)}" 'BEGIN { exit !(t >= t0 + d) }'
}
closed_reasons() { audit_field session_closed reason | tr '\n' ' '; }
# wait_closed WANT T0 SECONDS: poll the audit log, without a request to the agent, until the
# session_closed reasons read WANT; fail after T0 + SECONDS * SLACK.
wait_closed() {
	while [ "$(closed_reasons)" != "$1" ]; do
		past "$2" "$(($3 * SLACK))" && fail "reasons '$(closed_reasons)', expected '$1'"
		sleep 0.1
	done
}
# lasted N: the last session_closed record is at least N s after the last session_opened one
# (the records' times are in whole seconds: an interval of N s never shows less than N).
lasted() {
	"$SESAME" audit export --format jsonl | python3 -c 'import json,sys,datetime
t = {}
for l in sys.stdin:
    r = json.loads(l)
    t[r["event"]] = datetime.datetime.fromisoformat(r["time"].replace("Z", "+00:00"))
d = (t["session_closed"] - t["session_opened"]).total_seconds()
sys.exit(0 if d >= int(sys.argv[1]) else "session lasted %g s, expected at least %s" % (d, sys.argv[1]))' "$1" ||
		fail "a session ended before its time-out"
}

install_init
start_agent
enroll Alice "$PIN"
enroll Bob "$PIN2"
run 5 add-nosession sh -c 'echo Secret-1234 | "$0" add Alice --service CAF --url https://caf.fr \
	--username a --secret-fd 0' "$SESAME"

# The maximum length: in use without a pause (never idle), the session still ends after MAX s.
# Uses go on until one starts MAX - IDLE s after the unlock returned: the idle close comes
# after the maximum whatever the machine's speed, and it ends with no request after it.
unlock_with 0 unlock1 Alice "$PIN"
t0=$(now)
i=0
while :; do
	i=$((i + 1))
	t=$(now)
	run 0 "use$i" "$SESAME" list Alice
	past "$t0" $((MAX - IDLE)) "$t" && break
done
wait_closed "timeout " "$t0" "$MAX"
lasted "$MAX"
run 0 st1 "$SESAME" status --json
expect_eq "sessions after timeout" "$(jget st1 'len(j["sessions"])')" 0
run 5 after-timeout "$SESAME" list Alice

# Idle: unused for more than IDLE s, the session ends although its maximum is far.
t1=$(now)
unlock_with 0 unlock2 Alice "$PIN"
run 0 st2 "$SESAME" status --json
if ! past "$t1" "$IDLE"; then # asked before the idle close could come: the session is open
	expect_eq "session open" "$(jget st2 '[s["name"] for s in j["sessions"]]')" "['Alice']"
	expires=$(jget st2 'j["sessions"][0]["expires_in"]')
	[ "$expires" -ge 0 ] && [ "$expires" -le "$IDLE" ] ||
		fail "expires_in $expires, expected the idle $IDLE s"
fi
wait_closed "timeout idle " "$t1" "$IDLE"
lasted "$IDLE"
run 5 after-idle "$SESAME" list Alice

# What follows needs sessions that stay open however slow the machine: the default time-outs.
stop_agent
conf 'kdf_passes = 1' 'kdf_memory_mib = 8'
start_agent

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
