#!/bin/sh
# A full disk under the audit log: while no record can be written, PIN checks are refused before
# they run (the failure counter does not move, right PIN or wrong), the agent keeps serving,
# and once there is room again the same agent writes its log again, with no restart: also after
# an append that failed half-way. Needs root, for a small tmpfs in a private mount namespace.
#   diskfull.sh SESAME SESAME_AGENT
if [ -z "${SESAME_DISKFULL_NS:-}" ]; then
	if [ "$(id -u)" != 0 ] || ! unshare -m true 2>/dev/null; then
		echo "SKIP: needs root and mount namespaces for a small tmpfs"
		exit 77
	fi
	SESAME_DISKFULL_NS=1 exec unshare -m sh "$0" "$@"
fi
. "$(dirname "$0")/lib.sh"
PIN=284619 WRONG=501738

conf 'kdf_passes = 1' 'kdf_memory_mib = 8' 'pin_retries = 5'
install_init
start_agent
enroll Alice "$PIN"
stop_agent

# The log moves onto a tmpfs of its own, so that it alone is full.
audit="$SESAME_HOME/audit"
mv "$audit" "$audit.disk" && mkdir -m 0700 "$audit" || fail "cannot move the log"
mount -t tmpfs -o size=512k,mode=0700 tmpfs "$audit" || fail "cannot mount a tmpfs"
trap 'umount "$audit" 2>/dev/null; cleanup' EXIT
cp -a "$audit.disk/." "$audit/" && rm -rf "$audit.disk" || fail "cannot copy the log"
start_agent
attempts() {
	run 0 "$1" "$SESAME" list --json
	jget "$1" '[u["attempts_left"] for u in j["users"] if u["name"] == "Alice"][0]'
}
fill() { dd if=/dev/zero of="$audit/filler" bs=4096 2>/dev/null; sync; }

unlock_with 0 before Alice "$PIN"

# Appends that fail (add writes its record without asking first): the record or its checkpoint
# finds no room, and the credential is refused.
fill
python3 - "$SESAME_AGENT_SOCK" "$(dirname "$0")" <<'PY' || fail "no append failed on a full disk"
import sys
sys.path.insert(0, sys.argv[2])
import agentproto as ap
with ap.connect(sys.argv[1]) as s:
    for i in range(2000):
        ap.send(s, {"v": 1, "op": "add", "user": "Alice", "service": "S%d" % i,
                    "url": "https://a.fr/" + "x" * 200, "username": "u", "password": "p"})
        r = ap.recv(s)
        if not r["ok"]:
            assert r["code"] == -103, r
            # the reply says what -103 is, never "unknown error"
            assert "audit record could not be written" in r["error"], r
            sys.exit(0)
sys.exit(1)
PY
# Refused before the PIN is tried: wrong or right, the counter stays where it was.
unlock_with 1 right-full Alice "$PIN"
err right-full | grep -q "audit" || fail "right PIN on a full disk: $(err right-full)"
unlock_with 1 wrong-full Alice "$WRONG"
expect_eq "counter on a full disk" "$(attempts a1)" 5
run 0 status-full "$SESAME" status

# Room again: the same agent writes its log again.
rm -f "$audit/filler"
unlock_with 3 wrong-room Alice "$WRONG"
expect_eq "counter with room" "$(attempts a2)" 4
unlock_with 0 right-room Alice "$PIN"
expect_eq "counter reset" "$(attempts a3)" 5
run 0 lock-room "$SESAME" lock Alice
stop_agent
run 0 verify "$SESAME" audit verify
expect_eq "wrong PINs recorded" "$(audit_field pin_wrong outcome | wc -l)" 1
echo "diskfull: ok"
