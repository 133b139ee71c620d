#!/bin/sh
# How the agent comes to life: started on demand by the first sesame command (as gpg starts
# gpg-agent), and through systemd's socket activation (the listening socket passed as fd 3).
# Also: enroll writes the printable recovery sheet.
. "$(dirname "$0")/lib.sh"

conf "kdf_passes = 1" "kdf_memory_mib = 8"
install_init

# On demand: no agent runs, the socket does not exist; sesame starts one and is served.
unset SESAME_AGENT_PROGRAM
[ ! -e "$SESAME_AGENT_SOCK" ] || fail "a socket exists before any agent"
export SESAME_AGENT_PROGRAM="$AGENT"
run 0 ondemand "$SESAME" status --json
is_json ondemand
pid=$(jget ondemand 'j["agent"]["pid"]')
kill -0 "$pid" 2>/dev/null || fail "no agent process $pid"
[ "$(readlink "/proc/$pid/exe")" = "$(readlink -f "$AGENT")" ] || fail "pid $pid is not the agent"
run 0 sheet sh -c 'echo 284619 | "$0" enroll "Mme Martin" --pin-fd 0 --sheet "$1"' \
	"$SESAME" "$tmp/sheet.html"
[ "$(stat -c %a "$tmp/sheet.html")" = 600 ] || fail "the sheet page is not 0600"
grep -q 'class="key"' "$tmp/sheet.html" || fail "the sheet page has no key"
key=$(grep -Eo '([0-9A-Z]{4}-){7}[0-9A-Z]{4}' "$tmp/out/sheet.out")
grep -qF "$key" "$tmp/sheet.html" || fail "the page does not carry the printed key"
grep -qF "Mme Martin" "$tmp/sheet.html" || fail "the page does not name the person"
# A sheet path that cannot take the page is refused before the PIN is typed, and nobody is
# enrolled: a vault whose recovery key nobody saw could never be recovered.
run 1 sheet-again sh -c 'echo 730512 | "$0" enroll "M. Diallo" --pin-fd 0 --sheet "$1"' \
	"$SESAME" "$tmp/sheet.html" # never overwrites a file
grep -q "nobody was enrolled" "$tmp/out/sheet-again.err" || fail "sheet-again: $(err sheet-again)"
run 1 sheet-nodir sh -c 'echo 730512 | "$0" enroll "M. Diallo" --pin-fd 0 --sheet "$1"' \
	"$SESAME" "$tmp/missing/dir/sheet.html"
grep -q "nobody was enrolled" "$tmp/out/sheet-nodir.err" || fail "sheet-nodir: $(err sheet-nodir)"
run 0 sheet-users "$SESAME" list --json
n=$(jget sheet-users 'len(j["users"])')
expect_eq "people enrolled after two refused sheets" "$n" 1
[ "$(ls "$SESAME_HOME/vaults" | grep -c '\.vault$')" = 1 ] || fail "a vault was made for a refused sheet"
# A second agent says at once that one answers: it asks before opening the vaults and the log,
# whose locks the running agent holds (waiting on them first ended in a "busy" refusal).
run 1 second "$AGENT"
grep -q "an agent already answers on" "$tmp/out/second.err" || fail "second: $(err second)"
run 0 still "$SESAME" status --json
expect_eq "the running agent still serves" "$(jget still 'j["agent"]["pid"]')" "$pid"
kill -TERM "$pid"
# The exit is checked, not its speed: up to 30 s, for a loaded machine.
for _ in $(seq 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
kill -0 "$pid" 2>/dev/null && fail "the on-demand agent did not stop on SIGTERM"
[ ! -e "$SESAME_AGENT_SOCK" ] || fail "the agent left its socket behind"

# Socket activation: systemd-socket-activate listens and starts the agent on the first client.
if command -v systemd-socket-activate >/dev/null; then
	export SESAME_AGENT_PROGRAM=/bin/false
	systemd-socket-activate -l "$SESAME_AGENT_SOCK" -E SESAME_HOME -E SESAME_CONFIG \
		-E XDG_CONFIG_HOME -E XDG_RUNTIME_DIR -E HOME -E DBUS_SESSION_BUS_ADDRESS \
		"$AGENT" >>"$tmp/agent.log" 2>&1 &
	AGENT_PID=$!
	for _ in $(seq 100); do [ -S "$SESAME_AGENT_SOCK" ] && break; sleep 0.05; done
	run 0 activated "$SESAME" status --json
	[ "$(jget activated 'j["agent"]["pid"]')" = "$AGENT_PID" ] ||
		fail "the activated agent is not the one systemd-socket-activate started"
	run 0 list "$SESAME" list
	grep -q "Mme Martin" "$tmp/out/list.out" || fail "the activated agent does not see the vaults"
	stop_agent
fi
# With no installation, the command says so at once: it checks before starting an agent, and an
# agent started on demand that cannot start says why.
export SESAME_AGENT_PROGRAM="$AGENT"
t0=$(date +%s)
run 6 nohome env SESAME_HOME="$tmp/nowhere" "$SESAME" status
grep -Eq 'the agent could not start: .*sesame init|run "sesame init" first' "$tmp/out/nohome.err" ||
	fail "the failing agent's reason did not reach the command: $(err nohome)"
[ $(($(date +%s) - t0)) -lt 10 ] || fail "the command waited out its bound for a dead agent"

# A stopped agent (SIGSTOP): the command gives up after its bound for a request answered at
# once (15 s, sesame(1) WAITS) and names the agent's pid and what to do.
export SESAME_AGENT_PROGRAM=/bin/false
start_agent
kill -STOP "$AGENT_PID"
t0=$(date +%s)
run 6 stopped "$SESAME" status
took=$(($(date +%s) - t0))
kill -CONT "$AGENT_PID"
grep -q "the agent (pid $AGENT_PID) does not answer: no reply within 15 s" \
	"$tmp/out/stopped.err" || fail "stopped agent: $(err stopped)"
[ "$took" -ge 14 ] && [ "$took" -le 40 ] || fail "stopped agent: gave up after $took s"

# A stopped KDF helper (SIGSTOP) does not hang an unlock: after KDF_HELPER_WAIT_MIN_MS (30 s:
# the KDF here takes milliseconds) the agent kills it, asks a new one, and the right PIN opens
# the vault; no attempt is lost.
helpers=$(ps -o pid= --ppid "$AGENT_PID" | tr -d ' ')
[ -n "$helpers" ] || fail "no KDF helper under the agent"
kill -STOP $helpers
t0=$(date +%s)
run 0 unlock-stuck sh -c 'echo 284619 | "$0" unlock "Mme Martin" --pin-fd 0' "$SESAME"
took=$(($(date +%s) - t0))
[ "$took" -ge 29 ] && [ "$took" -le 90 ] || fail "stuck helper: the unlock took $took s"
killed=0
for p in $helpers; do # the one the unlock waited on is gone; the idle one wakes up
	kill -0 "$p" 2>/dev/null && kill -CONT "$p" || killed=$((killed + 1))
done
[ "$killed" -ge 1 ] || fail "no stuck helper was killed"
run 0 users-stuck "$SESAME" list --json
expect_eq "attempts after a stuck helper" \
	"$(jget users-stuck '[u["attempts_left"] for u in j["users"] if u["name"] == "Mme Martin"][0]')" 5
stop_agent
echo "start: ok"
