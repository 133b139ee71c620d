#!/bin/sh
# The person's appointment receipt at lock: what was done in their session, in plain words,
# each entry with a verification code that sesame audit check-receipt verifies (and that fails
# once altered); hostile text stays text; the lock happens even when the receipt cannot be
# written.
#   receipt.sh SESAME SESAME_AGENT
. "$(dirname "$0")/lib.sh"

PIN=482916
SERVICE='<i>CAF</i> & co'
conf 'kdf_passes = 1' 'kdf_memory_mib = 8'
install_init
start_agent
enroll Marie "$PIN"
run 0 unlock sh -c 'echo "$1" | "$0" unlock Marie --pin-fd 0 --purpose "dossier <APL>"' \
	"$SESAME" "$PIN"
run 0 add sh -c 'echo "$1" | "$0" add Marie --service "$2" --url https://caf.fr \
	--username marie --secret-fd 0' "$SESAME" 'Caf-Secret-9f3Kq!zz' "$SERVICE"
run 0 lock "$SESAME" lock Marie --receipt "$tmp/receipt.html"
out lock | grep -q "1 session(s) closed" || fail "lock with a receipt closed nothing"
expect_eq "receipt mode" "$(stat -c %a "$tmp/receipt.html")" 600
run 0 status "$SESAME" status --json
expect_eq "sessions after lock" "$(jget status 'len(j["sessions"])')" 0
run 0 key "$SESAME" audit key
cp "$tmp/out/key.out" "$tmp/key.txt"

# every code verifies; the entries say what was done; hostile text is escaped
python3 - "$tmp" "$SESAME" <<'PY' || fail "receipt: $(cat "$tmp/receipt.html")"
import html, re, subprocess, sys
tmp, sesame = sys.argv[1], sys.argv[2]
page = open(tmp + "/receipt.html").read()
codes = [html.unescape(c) for c in re.findall(r'<pre class="code">(.*?)</pre>', page, re.S)]
assert len(codes) == 5, codes  # pin_ok, session_opened, added (intent, outcome), closed
for what in ["vault opened", "login to &lt;i&gt;CAF&lt;/i&gt; &amp; co recorded",
             "vault closed at the end of the appointment", "Purpose: dossier &lt;APL&gt;",
             "Marie"]:
    assert what in page, what
assert "<i>CAF" not in page and "<APL>" not in page
for i, code in enumerate(codes):
    f = "%s/code%d" % (tmp, i)
    open(f, "w").write(code)
    p = subprocess.run([sesame, "audit", "check-receipt", f, "--key", tmp + "/key.txt"],
                       capture_output=True, text=True)
    assert p.returncode == 0 and "receipt valid" in p.stdout, (code, p.stdout, p.stderr)
# an altered code fails: the record's line, then a hash of the path
bad = codes[1].replace("extra ", "extra A", 1)
open(tmp + "/bad1", "w").write(bad)
lines = codes[1].split("\n")
h = lines[3]
lines[3] = ("B" if h[0] != "B" else "C") + h[1:]
open(tmp + "/bad2", "w").write("\n".join(lines))
for f in ("bad1", "bad2"):
    p = subprocess.run([sesame, "audit", "check-receipt", tmp + "/" + f, "--key",
                        tmp + "/key.txt"], capture_output=True, text=True)
    assert p.returncode != 0, (f, p.stdout)
PY

# no session: no receipt, exit 5, no file left
run 5 lock-none "$SESAME" lock Marie --receipt "$tmp/none.html"
[ -e "$tmp/none.html" ] && fail "a receipt was left without a session"
# a path that cannot take the receipt: said, and the session is closed all the same
run 0 unlock2 sh -c 'echo "$1" | "$0" unlock Marie --pin-fd 0' "$SESAME" "$PIN"
run 1 lock-badpath "$SESAME" lock Marie --receipt "$tmp/nowhere/r.html"
err lock-badpath | grep -q "cannot create the receipt" || fail "the receipt's failure is not said"
run 0 status2 "$SESAME" status --json
expect_eq "sessions after a failed receipt" "$(jget status2 'len(j["sessions"])')" 0
run 1 lock-exists "$SESAME" lock Marie --receipt "$tmp/receipt.html"
stop_agent
echo "PASS: receipt"
