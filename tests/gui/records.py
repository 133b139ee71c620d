"""The person's history and the appointment's receipt in the application:

- events planted before (a wrong PIN, a session with a purpose, a service added, its end), then
  an appointment: "Historique" asks the person's PIN on the PIN screen and shows every record of
  theirs that sesame audit show --json holds, in the words of sesame history (what, when and by
  whom, why); saved as a PDF whose text says them too;
- "Fin du rendez-vous": the session is gone (sesame status), and the receipt is offered; saved as
  a PDF, each of its verification codes (pdftotext) is accepted by sesame audit check-receipt,
  and they prove exactly the records of this appointment.
Screenshots: the history, the receipt.
"""
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from guilib import Gui  # noqa: E402

NAME = "Mme Roux"
PIN = "284619"
WRONG = "501738"
PURPOSE = "dossier APL"
NOW = "rendez-vous CAF"
PROOF_HEAD = "c2sp.org/tlog-proof@v1"
HASH = re.compile(r"^[A-Za-z0-9+/]{43}=$")
BASE64 = re.compile(r"^[A-Za-z0-9+/=]+$")

t = Gui(sys.argv, "records")
t.init()
t.start_agent()
who = t.enroll(NAME, PIN)["user"]
# What the history must show: planted through the command before the application starts.
t.cli(["unlock", NAME, "--pin-fd", "0"], stdin=WRONG + "\n", want=None)
t.cli(["unlock", NAME, "--pin-fd", "0", "--purpose", PURPOSE], stdin=PIN + "\n")
t.cli(["add", NAME, "--service", "CAF", "--url", "https://caf.example.org/login",
       "--username", "roux", "--secret-fd", "0", "--no-consent"], stdin="mdp-caf\n")
t.cli(["lock", NAME])
t.launch(["--headless-browser"])


def save_pdf(path, saved):
    t.click(t.T("Save as _PDF…"))
    t.wait("the file dialog's name field to have the focus", t.focused_in_dialog, t.ui())
    t.chord("ctrl+a")
    t.type(path)
    t.key("Return")
    t.shows(re.escape(t.T(saved, path)))
    t.wait("the PDF file", lambda: os.path.exists(path) and os.path.getsize(path) > 0, t.ui())
    if os.stat(path).st_mode & 0o077:
        t.fail("%s is open to others: %o" % (path, os.stat(path).st_mode))
    return subprocess.run(["pdftotext", path, "-"], capture_output=True, text=True,
                          check=True).stdout


def entries(listname):
    """The entries of a history or receipt list: the texts of each entry's labels (those
    scrolled out of sight too)."""
    lst = t.get("panel", name=listname)
    return [[l.name for l in t.all(role="label", within=lst.getChildAtIndex(i), showing=False)]
            for i in range(lst.childCount)]


# The appointment, as in appointment.py.
t.pointer_click(t.get("panel", name=NAME))
t.fill(t.get("text", name=t.T("Purpose of the appointment (recorded in the log)")), NOW)
t.click(t.T("_Ask for the PIN"))
t.keypad(PIN)
t.shows(re.escape(t.T("Time left: %lld min %02lld s")).replace("%lld", r"\d+").replace(
    "%02lld", r"\d\d"), limit=t.ui() + t.budget("kdf"))

# The history: the person's PIN on the PIN screen, then their records in words.
t.click(t.T("_History"))
t.shows("^%s$" % re.escape(t.T("%s, your history", NAME)))
t.shows("^%s$" % re.escape(t.N("%lld attempt left", "%lld attempts left", 5)))
t.keypad(PIN)
t.shows("^%s$" % re.escape(t.T("History: %s", NAME)), limit=t.ui() + t.budget("kdf"))
t.expect_audit("pin_ok", count=3, user=who)  # the first unlock, the appointment, the history
logged = t.audit(user=who)
shown = entries(t.T("Entries of the history"))
if len(shown) != len(logged):
    t.fail("the history shows %d entries, the log holds %d of %s:\n%r\n%r"
           % (len(shown), len(logged), NAME, shown, logged))
whats = [e[0] for e in shown]
planted = [t.T("vault created"),
           t.N("wrong PIN (%d attempt left)", "wrong PIN (%d attempts left)", 4),
           t.T("right PIN"), t.T("vault opened"), t.T("login to %s recorded", "CAF"),
           t.T("vault closed at the end of the appointment")]
for what in planted:
    if what not in whats:
        t.fail("the history does not say %r: %r" % (what, whats))
by = t.T("%s, by %s", "", "root")
for e in shown:  # when and by whom on each, in words; the purpose where one was given
    if len(e) < 2 or not e[1].endswith(by) or len(e[1]) <= len(by):
        t.fail("an entry does not say when and by whom: %r" % e)
purposes = {e[2] for e in shown if len(e) > 2}
if purposes != {t.T("Purpose: %s", PURPOSE), t.T("Purpose: %s", NOW)}:
    t.fail("the purposes shown: %r" % purposes)
t.screenshot("history")
text = save_pdf(os.path.join(t.tmp, "out", "historique.pdf"), "The history is saved in %s.")
for what in planted + [t.T("History: %s", NAME), t.T("Purpose: %s", PURPOSE)]:
    if what not in text:
        t.fail("the history's PDF does not say %r:\n%s" % (what, text))
print("ok history: %d entries, as in the log and in its PDF" % len(shown))
t.click(t.T("_Back to the appointment"))
t.shows(re.escape(t.T("Time left: %lld min %02lld s")).replace("%lld", r"\d+").replace(
    "%02lld", r"\d\d"))


def codes_of(text):
    """The proofs in a PDF's text: the extra line, wrapped on the page, joined again."""
    lines = [l for l in text.splitlines() if l.strip()]
    out = []
    while PROOF_HEAD in lines:
        i = lines.index(PROOF_HEAD)
        rest = lines[i + 1:]
        extra = rest.pop(0)
        while not rest[0].startswith("index "):
            extra += rest.pop(0)
        proof = [PROOF_HEAD, "extra " + extra[len("extra"):].lstrip(), rest.pop(0)]
        while HASH.match(rest[0]):
            proof.append(rest.pop(0))
        proof += [""] + rest[:3] + [""]  # the checkpoint: origin, size, root; its signatures
        rest = rest[3:]
        while rest and rest[0].startswith("— "):
            proof.append(rest.pop(0))
            while rest and BASE64.match(rest[0]):  # should the page have wrapped it
                proof[-1] += rest.pop(0)
        out.append("\n".join(proof) + "\n")
        lines = rest
    return out


# The end of the appointment: the session gone, the receipt offered, its codes valid.
t.click(t.T("_End of appointment"))
t.shows("^%s$" % re.escape(t.T("Appointment receipt: %s", NAME)))
if t.sessions():
    t.fail("sesame status after the end of the appointment: %r" % t.status())
closed = t.expect_audit("session_closed", count=2, user=who, reason="lock")
t.screenshot("receipt")
receipt = entries(t.T("Entries of the receipt"))
text = save_pdf(os.path.join(t.tmp, "out", "recu.pdf"), "The receipt is saved in %s.")
codes = codes_of(text)
if not codes or len(codes) != len(receipt):
    t.fail("%d codes in the PDF for %d entries on screen:\n%s" % (len(codes), len(receipt), text))
key = os.path.join(t.tmp, "key.txt")
with open(key, "w") as f:
    f.write(t.cli(["audit", "key"]).stdout.decode())
proved = []
for i, code in enumerate(codes):
    path = os.path.join(t.tmp, "code%d" % i)
    with open(path, "w") as f:
        f.write(code)
    p = t.cli(["audit", "check-receipt", path, "--key", key], want=None)
    if p.returncode != 0:
        t.fail("check-receipt refused code %d:\n%s\n%s" % (i, code, p.stderr.decode()))
    proved.append(int(re.search(r"^index (\d+)$", code, re.M).group(1)))
# exactly this appointment's records: from its PIN to its end
since = max(r["seq"] for r in t.audit("pin_ok", user=who, purpose=NOW))
mine = [r["seq"] for r in t.audit(user=who) if since <= r["seq"] <= closed[-1]["seq"]]
if sorted(proved) != mine:
    t.fail("the receipt proves %r, the appointment's records are %r" % (proved, mine))
print("ok receipt: %d codes accepted by sesame audit check-receipt" % len(codes))
t.click(t.T("_Done"))
t.get("panel", name=NAME)
t.done()
