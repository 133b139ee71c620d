#!/bin/sh
# sesame.conf mistakes are said with the key, what it takes and the key that was meant; oui and
# non are booleans; status still answers with a wrong file, and says where everything is; the
# agent reads the file again on SIGHUP or sesame-agent --reload, and keeps its settings when
# the new file is wrong.
#   config.sh SESAME SESAME_AGENT
. "$(dirname "$0")/lib.sh"

base1='kdf_passes = 1' base2='kdf_memory_mib = 8'
conf "$base1" "$base2"
install_init
start_agent

# says NAME TEXT: the command's stderr holds TEXT
says() { grep -qF -- "$2" "$tmp/out/$1.err" || fail "$1: no \"$2\" in: $(err "$1")"; }

conf "$base1" "$base2" 'pin_retrys = 5'
run 1 typo "$SESAME" list
says typo "$SESAME_CONFIG, line 3: unknown setting \"pin_retrys\": did you mean \"pin_retries\"?"
conf "$base1" "$base2" 'pin_retries = 30'
run 1 range "$SESAME" list
says range "line 3: wrong value for \"pin_retries\": it takes a whole number from 3 to 10"
conf "$base1" "$base2" 'allow_http_loopback = peut-être'
run 1 bool "$SESAME" list
says bool "wrong value for \"allow_http_loopback\": it takes yes or no (oui or non)"
conf "$base1" "$base2" 'allow_http_loopback = oui'
run 0 oui "$SESAME" list

# status: with a wrong file it says so, and still shows the agent, its process, its files
conf "$base1" "$base2" 'pin_retrys = 5'
run 0 status-bad "$SESAME" status
says status-bad 'unknown setting "pin_retrys"'
out status-bad | grep -qF "process $AGENT_PID" || fail "status: no pid: $(out status-bad)"
out status-bad | grep -qF "data directory: $SESAME_HOME" || fail "status: $(out status-bad)"
out status-bad | grep -qF "configuration: $SESAME_CONFIG" || fail "status: $(out status-bad)"
run 0 status-bad-json "$SESAME" status --json
is_json status-bad-json
expect_eq "status --json data_dir" "$(jget status-bad-json 'j["agent"]["data_dir"]')" "$SESAME_HOME"

# pin_min_length as the agent applies it
min_length() {
	"$SESAME" status --json 2>/dev/null |
		python3 -c 'import json,sys; print(json.load(sys.stdin)["agent"]["pin_min_length"])'
}
# wait_min_length N: the agent takes the new file when it handles the signal; bounded wait
wait_min_length() {
	for _ in $(seq 200); do
		[ "$(min_length)" = "$1" ] && return 0
		sleep 0.05
	done
	fail "pin_min_length stays $(min_length), expected $1: $(tail -n 5 "$tmp/agent.log")"
}
before=$(min_length)

# sesame-agent --reload: a wrong file is refused there, and the agent keeps its settings
run 1 reload-bad "$AGENT" --reload
grep -qF 'unknown setting "pin_retrys" (did you mean "pin_retries"?)' "$tmp/out/reload-bad.err" ||
	fail "reload of a wrong file: $(err reload-bad)"
conf "$base1" "$base2" 'pin_min_length = 8'
run 0 reload "$AGENT" --reload
out reload | grep -qF "process $AGENT_PID" || fail "reload: $(out reload)"
wait_min_length 8
[ "$before" != 8 ] || fail "the default is already 8: the test proves nothing"

# SIGHUP (systemctl reload): a wrong file is logged, the agent goes on with what it had
conf "$base1" "$base2" 'pin_min_length = 99'
kill -HUP "$AGENT_PID"
for _ in $(seq 200); do
	grep -q 'not reloaded' "$tmp/agent.log" && break
	sleep 0.05
done
grep -qF "wrong value" "$tmp/agent.log" || grep -qF '"pin_min_length" takes' "$tmp/agent.log" ||
	fail "SIGHUP with a wrong file: $(tail -n 5 "$tmp/agent.log")"
kill -0 "$AGENT_PID" || fail "the agent stopped on SIGHUP"
expect_eq "settings kept" "$(min_length)" 8
conf "$base1" "$base2" 'pin_min_length = 7'
kill -HUP "$AGENT_PID"
wait_min_length 7

stop_agent
echo PASS
