"""Recovery after a block, in the application. The vault is blocked by wrong PINs (through the
command line); the list says so and the person's name leads to the recovery screen. The sheet's
key is typed in its groups: a symbol that is on no sheet is named as it is typed, a mistyped
group is said by the checksum and "Continuer" stays off, the right key lets the person choose a
new PIN twice, and a new sheet is shown. Checked through the agent (not blocked, all attempts
back, the new PIN opens a session, the old sheet no longer does) and the audit log
(vault_blocked, recovery_used). Screenshot: the recovery screen.
"""
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from guilib import Gui  # noqa: E402

NAME = "M. Diallo"
PIN = "284619"
NEW_PIN = "640273"
RETRIES = 3

t = Gui(sys.argv, "recovery")
t.init("pin_retries = %d\n" % RETRIES)
t.start_agent()
enrolled = t.enroll(NAME, PIN)
who, sheet = enrolled["user"], enrolled["recovery"]
for _ in range(RETRIES):
    t.cli(["unlock", NAME, "--pin-fd", "0"], stdin="501738\n", want=None)
if not t.person(NAME)["blocked"]:
    t.fail("the vault is not blocked after %d wrong PINs" % RETRIES)
t.expect_audit("vault_blocked", count=1, user=who)

t.launch()
t.pointer_click(t.get("panel", name="%s, %s" % (NAME, t.T("blocked"))))
t.shows("^%s$" % re.escape(t.T("%s, your recovery sheet", NAME)))
groups = [t.get("text", name=t.T("Group %d of the key", i + 1)) for i in range(8)]
proceed = t.get("push button", name=t.T("_Continue"))
t.screenshot("recovery")
parts = sheet.split("-")

# A symbol that is on no sheet (U): named at once, with its group.
t.focus(groups[0])
t.type(parts[0][:3] + "U")
said = t.T('Group %d holds "%c", which is not on a recovery sheet: check it')
said = said.replace("%d", "1").replace("%c", "U")
t.get("alert", name=said)
t.fill(groups[0], parts[0])
t.gone("alert", name=said)

# Every group typed, one of them wrong: the checksum says it, "Continuer" stays off.
typo = parts[7][:3] + ("2" if parts[7][3] != "2" else "3")
for i in range(1, 7):
    t.fill(groups[i], parts[i])
t.fill(groups[7], typo)
t.get("alert", name=t.T("the recovery key was mistyped: check each group of four"))
if t.sensitive(proceed):
    t.fail("Continue is on with a mistyped key")
t.fill(groups[7], parts[7])
t.wait("Continue to be on with the right key", lambda: t.sensitive(proceed), t.ui())
if t.find("alert", regex="."):
    t.fail("an error is still shown with the right key: %r" % t.find("alert", regex=".").name)
t.click(t.T("_Continue"))


def keypad(pin):
    field = t.get("text", name=t.T("PIN"))
    for i, d in enumerate(pin):
        t.click(d)
        t.typed(field, i + 1)
    t.click(t.T("Confirm"))


t.shows("^%s$" % re.escape(t.T("%s, choose your new PIN", NAME)))
keypad(NEW_PIN)
t.shows(re.escape(t.T("Type the same PIN again")))
keypad(NEW_PIN)
t.shows(re.escape(t.T("Recovery sheet: %s", NAME)), limit=t.ui() + 2 * t.budget("kdf"))


def shown_key():
    for text in t.texts():
        m = re.search(r"([0-9A-Z]{4}(?:-[0-9A-Z]{4}){7})", text)
        if m:
            return m.group(1)
    return None


new_sheet = t.wait("the new recovery key", shown_key, t.ui())
if new_sheet == sheet:
    t.fail("the new sheet shows the old key")

p = t.person(NAME)
if p["blocked"] or p["attempts_left"] != RETRIES:
    t.fail("after recovery the agent says %r" % p)
t.expect_audit("recovery_used", count=1, user=who, outcome="ok")
t.click(t.T("_Done"))
t.get("panel", name=NAME)

# The new PIN opens the vault; the old sheet no longer does, the new one does.
t.cli(["unlock", NAME, "--pin-fd", "0"], stdin=NEW_PIN + "\n")
if t.sessions() != [NAME]:
    t.fail("the new PIN opens no session: %r" % t.status())
t.cli(["lock"])
old = t.cli(["recover", NAME, "--pin-fd", "0"], stdin="%s\n%s\n" % (sheet, PIN), want=None)
if old.returncode == 0:
    t.fail("the old sheet still opens the vault")
t.cli(["recover", NAME, "--pin-fd", "0"], stdin="%s\n%s\n" % (new_sheet, PIN))
t.done()
