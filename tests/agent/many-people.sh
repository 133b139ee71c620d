#!/bin/sh
# Many people: 2,000 enrolled at the lowest KDF cost; listing, paging, search and unlock by
# name; a person with the most credentials and the longest URLs; a reply too long for its
# client is an error with a code, and the connection stays; the index after a restart and a
# withdrawal.
. "$(dirname "$0")/lib.sh"
PEOPLE=2000
PIN=284619
PROTO="$(dirname "$0")/agentproto.py"

conf 'kdf_passes = 1' 'kdf_memory_mib = 8' 'pin_retries = 5'
install_init
start_agent

# Enrolled through the protocol, eight at a time (the CLI would ask for each PIN twice).
python3 - "$SESAME_AGENT_SOCK" "$PEOPLE" "$PIN" "$(dirname "$PROTO")" <<'PY' || fail "enrolment"
import sys, threading
sys.path.insert(0, sys.argv[4])
import agentproto as ap
sock, n, pin = sys.argv[1], int(sys.argv[2]), sys.argv[3]
names = ["Personne %04d" % i for i in range(n - 4)]
names += ["Élodie Durand", "Eloïse Martin", "émile Zola", "Œdipe Roi"]
errors = []
def work(part):
    with ap.connect(sock, 120) as s:
        for name in part:
            r = ap.changed(s, {"v": 1, "op": "enroll", "name": name, "pin": pin})
            if not r.get("ok"):
                errors.append((name, r))
threads = [threading.Thread(target=work, args=(names[k::8],)) for k in range(8)]
for t in threads: t.start()
for t in threads: t.join()
if errors:
    print(errors[:3], file=sys.stderr)
    sys.exit(1)
PY

# Everyone, through pages the command follows itself, sorted without case and accents.
run 0 list-all "$SESAME" list --json
expect_eq "people listed" "$(jget list-all 'len(j["users"])')" "$PEOPLE"
expect_eq "listed once each" "$(jget list-all 'len(set(u["user"] for u in j["users"]))')" "$PEOPLE"
expect_eq "first" "$(jget list-all 'j["users"][0]["name"]')" "Élodie Durand"
expect_eq "then" "$(jget list-all 'j["users"][1]["name"]')" "Eloïse Martin"
run 0 list-text "$SESAME" list
expect_eq "text lines" "$(out list-text | wc -l)" "$PEOPLE"

# Every page's request and reply pass through guarded memory, which the command reuses: locking
# fresh pages for each frame (mlock, one per sodium_malloc) would cost more than the exchange.
PAGES=$(( (PEOPLE + 49) / 50 ))
# (LeakSanitizer cannot run under ptrace: the listings above check leaks)
ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
	strace -f -qq -e trace=mlock -o "$tmp/list.trace" "$SESAME" list >/dev/null ||
	fail "sesame list under strace"
LOCKS=$(grep -c '^[0-9]* *mlock(' "$tmp/list.trace")
[ "$LOCKS" -lt "$PAGES" ] || fail "listing $PAGES pages locked guarded memory $LOCKS times"

# Pages by hand: no page is over its limit, each follows the last, and the last has no "next".
python3 - "$SESAME_AGENT_SOCK" "$PEOPLE" "$(dirname "$PROTO")" <<'PY' || fail "paging"
import sys
sys.path.insert(0, sys.argv[3])
import agentproto as ap
sock, n = sys.argv[1], int(sys.argv[2])
seen, cursor, pages = [], None, 0
with ap.connect(sock) as s:
    while True:
        req = {"v": 1, "op": "users", "limit": 37}
        if cursor: req["cursor"] = cursor
        ap.send(s, req)
        r = ap.recv(s)
        assert r["ok"] and len(r["users"]) <= 37 and r["total"] == n, r
        seen += [u["name"] for u in r["users"]]
        pages += 1
        cursor = r.get("next")
        if cursor is None: break
    assert len(seen) == n and len(set(seen)) == n, len(seen)
    assert pages == (n + 36) // 37, pages
    # the same name to a reader is refused through the index, naming who has it
    ap.send(s, {"v": 1, "op": "enroll", "name": "ELODIE  durand", "pin": "284619"})
    r = ap.recv(s)
    assert not r["ok"] and r.get("existing") == "Élodie Durand", r
    for bad in ({"limit": 0}, {"limit": 201}, {"limit": "5"}, {"cursor": "nonsense"}):
        ap.send(s, dict({"v": 1, "op": "users"}, **bad))
        r = ap.recv(s)
        assert not r["ok"] and r["code"] == -101, (bad, r)
PY

# Search: a prefix, whatever the capitals and accents.
run 0 search-elo "$SESAME" list --search "ELO" --json
expect_eq "search elo" "$(jget search-elo '",".join(u["name"] for u in j["users"])')" \
	"Élodie Durand,Eloïse Martin"
run 0 search-oe "$SESAME" list --search "œDIPE"
out search-oe | grep -q "Œdipe Roi" || fail "search oedipe: $(out search-oe)"
run 0 search-many "$SESAME" list --search "personne 01" --json
expect_eq "search personne 01" "$(jget search-many 'len(j["users"])')" 100
run 0 search-none "$SESAME" list --search "Zzz" --json
expect_eq "search nothing" "$(jget search-none 'len(j["users"])')" 0
run 2 search-and-user "$SESAME" list "Personne 0001" --search x

# Unlock by name: the agent resolves the one name.
unlock_with 0 unlock-name "Personne 1234" "$PIN"
unlock_with 0 unlock-accent "Élodie Durand" "$PIN"
unlock_with 1 unlock-nobody "Personne 9999" "$PIN"
err unlock-nobody | grep -q 'no enrolled person named "Personne 9999"' ||
	fail "unknown name: $(err unlock-nobody)"

# The most credentials a vault holds, each with the longest URL, all listed.
python3 - "$SESAME_AGENT_SOCK" "$(dirname "$PROTO")" <<'PY' || fail "the longest list"
import sys
sys.path.insert(0, sys.argv[2])
import agentproto as ap
sock = sys.argv[1]
with ap.connect(sock, 120) as s:
    for i in range(256):
        url = "https://impots.gouv.fr/" + ("%03d" % i) + "/" + "a" * (2048 - 27)
        ap.send(s, {"v": 1, "op": "add", "user": "Personne 1234", "service": "Service %03d" % i,
                    "url": url, "username": "u" * 256, "password": "secret-%d" % i})
        r = ap.recv(s)
        assert r["ok"], (i, len(url), r)
    ap.send(s, {"v": 1, "op": "add", "user": "Personne 1234", "service": "One too many",
                "url": "https://a.fr", "username": "u", "password": "p"})
    r = ap.recv(s)
    assert not r["ok"], r
    # a reply longer than the client takes: an error with a code, and the connection serves on
    ap.send(s, {"v": 1, "op": "list", "user": "Personne 1234", "reply_max": 4096})
    r = ap.recv(s)
    assert not r["ok"] and r["code"] == -107, r
    ap.send(s, {"v": 1, "op": "status"})
    assert ap.recv(s)["ok"]
PY
run 0 list-long "$SESAME" list "Personne 1234" --json
expect_eq "credentials listed" "$(jget list-long 'len(j["services"])')" 256
expect_eq "longest url" "$(jget list-long 'max(len(x["url"]) for x in j["services"])')" 2048
run 0 list-long-text "$SESAME" list "Personne 1234"
expect_eq "credential lines" "$(out list-long-text | grep -c 'Service ')" 256

# After a restart the index is read again; a withdrawal leaves it at once.
stop_agent
start_agent
run 0 list-again "$SESAME" list --json
expect_eq "people after restart" "$(jget list-again 'len(j["users"])')" "$PEOPLE"
unlock_with 0 unlock-revoke "Eloïse Martin" "$PIN"
run 0 revoke "$SESAME" revoke "Eloïse Martin" --yes
run 0 search-gone "$SESAME" list --search "elo" --json
expect_eq "withdrawn" "$(jget search-gone '",".join(u["name"] for u in j["users"])')" "Élodie Durand"
stop_agent
echo "people: ok"
