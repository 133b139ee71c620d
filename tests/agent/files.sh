#!/bin/sh
# What stands where a file of the installation must be is named, and nothing hangs: a FIFO in
# place of the installation file, sesame.conf, the log, the checkpoint or a vault; a symbolic
# link in place of the log; a file this account may not read. The agent (or the command) says
# which file and what is wrong with it, at once, instead of blocking on the FIFO forever.
#   files.sh SESAME SESAME_AGENT
. "$(dirname "$0")/lib.sh"

conf 'kdf_passes = 1' 'kdf_memory_mib = 8'
install_init
start_agent
enroll Alice 482916
ALICE=$USER_ID
stop_agent

# start_fails NAME PATTERN: the agent must exit at once with a message matching PATTERN. A hung
# agent is killed by timeout(1) and fails the check, whatever the machine's speed: it is ended,
# not waited for.
start_fails() {
	timeout -k 1 20 "$AGENT" >"$tmp/out/$1.err" 2>&1
	rc=$?
	[ "$rc" -ne 124 ] && [ "$rc" -ne 137 ] || fail "$1: the agent hangs"
	[ "$rc" -ne 0 ] || fail "$1: the agent started"
	grep -q -- "$2" "$tmp/out/$1.err" || fail "$1: $(cat "$tmp/out/$1.err")"
}

# swap_fifo PATH / swap_back PATH: put a FIFO in the file's place, and the file back.
swap_fifo() { mv "$1" "$1.kept" && mkfifo -m 0600 "$1"; }
swap_back() { rm -f "$1" && mv "$1.kept" "$1"; }

INST=$SESAME_HOME/installation
swap_fifo "$INST"
start_fails inst-fifo "$INST: not a regular file"
swap_back "$INST"

LOG=$SESAME_HOME/audit/audit.log
swap_fifo "$LOG"
start_fails log-fifo "audit.log: not a regular file"
swap_back "$LOG"
mv "$LOG" "$LOG.kept" && ln -s "$LOG.kept" "$LOG"
start_fails log-link "audit.log: a symbolic link"
swap_back "$LOG"

CP=$SESAME_HOME/audit/audit.checkpoint
swap_fifo "$CP"
start_fails cp-fifo "audit.checkpoint: not a regular file"
swap_back "$CP"

# sesame.conf is read by the command too: it names the file before reaching any agent.
swap_fifo "$SESAME_CONFIG"
start_fails conf-fifo "not a regular file"
timeout -k 1 20 "$SESAME" status >"$tmp/out/conf-fifo-cli.out" 2>"$tmp/out/conf-fifo-cli.err" &&
	fail "sesame.conf as a FIFO: status succeeded"
[ $? -ne 124 ] || fail "sesame.conf as a FIFO: the command hangs"
err conf-fifo-cli | grep -q "$SESAME_CONFIG: not a regular file" ||
	fail "sesame.conf as a FIFO, the command: $(err conf-fifo-cli)"
swap_back "$SESAME_CONFIG"

# An unreadable log is a permission problem, said as such (not "unsafe permissions"); root reads
# anything, so only another account can see it.
if [ "$(id -u)" -ne 0 ]; then
	chmod 0 "$LOG"
	start_fails log-eacces "audit.log: permission denied"
	chmod 0600 "$LOG"
fi

# A key file damaged in place is said to be damaged, with its path: not missing, not a wrong
# secret. One character of the base64 changed to another letter still decodes, to another secret.
KEY=$(jget init 'j["device_secret_file"]')
cp "$KEY" "$KEY.kept"
python3 - "$KEY" <<'PY'
import sys
b = bytearray(open(sys.argv[1], "rb").read())
i = len(b"sesame-device-secret-v1 ") + 3
b[i] = ord("B") if b[i] != ord("B") else ord("C")
open(sys.argv[1], "wb").write(b)
PY
start_fails key-flip "$KEY: the key file is damaged or belongs to another installation"
# The same agent started on demand by a command: its reason reaches the command, at once, rather
# than "cannot reach the agent" after the wait.
run 6 key-flip-ondemand env SESAME_AGENT_PROGRAM="$AGENT" timeout -k 1 20 "$SESAME" status
err key-flip-ondemand | grep -q "the agent could not start: .*$KEY: the key file is damaged" ||
	fail "the started agent's reason did not reach the command: $(err key-flip-ondemand)"
printf '!' | dd of="$KEY" bs=1 seek=30 conv=notrunc 2>/dev/null
start_fails key-bad "$KEY: the key file is damaged: restore"
rm -f "$KEY"
conf 'kdf_passes = 1' 'kdf_memory_mib = 8' 'device_secret = file'
start_fails key-missing "$KEY: the device secret is missing"
grep -q damaged "$tmp/out/key-missing.err" && fail "a missing key file said to be damaged"
conf 'kdf_passes = 1' 'kdf_memory_mib = 8'
mv "$KEY.kept" "$KEY"

# A FIFO in place of a vault: the agent starts and serves; that vault is unreadable, and its
# file is named wherever its person would otherwise vanish unsaid.
VAULT=$SESAME_HOME/vaults/$ALICE.vault
swap_fifo "$VAULT"
start_agent
run 0 users timeout -k 1 20 "$SESAME" list --json
expect_eq "unreadable vaults" "$(jget users 'j["unreadable"]')" 1
expect_eq "damaged vault named" "$(jget users 'j["damaged"][0]["file"]')" "$VAULT"
expect_eq "damaged vault's id" "$(jget users 'j["damaged"][0]["user"]')" "$ALICE"
expect_eq "damaged vault's code" "$(jget users 'j["damaged"][0]["code"]')" -38
# Without --json too: the person is not listed, and the command names the file and the remedy.
run 0 users-text timeout -k 1 20 "$SESAME" list
err users-text | grep -qF "the vault file $VAULT cannot be read" ||
	fail "list does not name the unreadable vault: $(err users-text)"
err users-text | grep -q "restore it from a backup" || fail "list gives no remedy: $(err users-text)"
out users-text | grep -q "No one is enrolled" && fail "list says no one is enrolled"
unlock_with 1 unlock-fifo Alice 482916
err unlock-fifo | grep -qF "the vault file $VAULT cannot be read" ||
	fail "unlock of a person whose vault cannot be read: $(err unlock-fifo)"
err unlock-fifo | grep -q "may be this person's" || fail "unlock-fifo: $(err unlock-fifo)"
# Enrolling while a vault cannot be read: refused, naming the file, before any PIN is typed
# (nothing on the descriptor), unless --force. The agent refuses it too, whoever asks.
run 1 enroll-damaged "$SESAME" enroll Alice --pin-fd 0 </dev/null
err enroll-damaged | grep -qF "$VAULT" || fail "enroll-damaged: $(err enroll-damaged)"
err enroll-damaged | grep -q -- "--force" || fail "enroll-damaged: $(err enroll-damaged)"
python3 "$(dirname "$0")/agentproto.py" "$SESAME_AGENT_SOCK" \
	'{"v":1,"op":"enroll","name":"Alice","pin":"482916"}' >"$tmp/out/enroll-raw.out"
expect_eq "the agent's refusal" "$(jget enroll-raw 'j["reason"]')" damaged_vaults
expect_eq "the agent names the file" "$(jget enroll-raw 'j["damaged"][0]["file"]')" "$VAULT"
[ "$(ls "$SESAME_HOME/vaults" | grep -c '\.vault$')" = 1 ] || fail "a vault was made despite the refusal"
run 0 enroll-forced sh -c 'echo 604913 | "$0" enroll Bob --pin-fd 0 --force --json' "$SESAME"
expect_eq "forced enrolment recorded" "$(audit_field user_enrolled reason | tail -n 1)" \
	"forced past 1 unreadable vault files"
# The file put back is read again at the next list: Alice is there without a restart.
swap_back "$VAULT"
run 0 users-back timeout -k 1 20 "$SESAME" list --json
expect_eq "unreadable after the file is back" "$(jget users-back 'j["unreadable"]')" 0
expect_eq "people after the file is back" "$(jget users-back 'sorted(u["name"] for u in j["users"])')" \
	"['Alice', 'Bob']"
unlock_with 0 unlock-back Alice 482916
stop_agent
# A file that no longer exists is forgotten; one damaged in place is named with its cause.
cp "$VAULT" "$VAULT.kept"
printf 'garbage' | dd of="$VAULT" bs=1 seek=40 conv=notrunc 2>/dev/null
start_agent
run 0 users-flip timeout -k 1 20 "$SESAME" list --json
expect_eq "a vault damaged in place" "$(jget users-flip 'j["damaged"][0]["file"]')" "$VAULT"
rm -f "$VAULT"
run 0 users-gone timeout -k 1 20 "$SESAME" list --json
expect_eq "a removed vault is forgotten" "$(jget users-gone 'j["unreadable"]')" 0
mv "$VAULT.kept" "$VAULT"
stop_agent
echo "files: ok"
