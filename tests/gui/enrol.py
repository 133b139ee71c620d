"""Enrolment in the application: "Nouvelle personne", the name, the PIN typed twice on the
on-screen keypad (a mismatch said and asked again), then the recovery sheet shown and saved as a
PDF through GTK's file dialog. Checked through the agent (the person is enrolled, not blocked,
no session) and the audit log (user_enrolled, once), the PDF by its bytes and its text (the
person's name and the very key the screen shows); the key then opens the vault through the
command line (recover), so the screen showed the real one. Screenshots: the people, the PIN
screen, the sheet.
"""
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from guilib import Gui  # noqa: E402

NAME = "Mme Élodie Martin"
PIN = "284619"
OTHER = "739164"

t = Gui(sys.argv, "enrol")
t.init()
t.start_agent()
t.enroll("Jean Dupont", "561938")  # someone already there: the list is not empty
t.launch()

t.get("label", name="Jean Dupont")
t.shows(re.escape(t.N("%d person enrolled.", "%d people enrolled.", 1)))
t.screenshot("people")

t.click(t.T("_New person"))
name_entry = t.get("text", name=t.T("The person's name, as they write it"))
t.fill(name_entry, NAME)
t.click(t.T("_Continue"))


def keypad(pin):
    field = t.get("text", name=t.T("PIN"))
    for i, d in enumerate(pin):
        t.click(d)
        t.typed(field, i + 1)
    t.click(t.T("Confirm"))


# First PIN, then a different one: said, and asked again from the start.
t.shows(re.escape(t.T("%s, choose your PIN", NAME)))
t.screenshot("pin-new")
keypad(PIN)
t.shows(re.escape(t.T("Type the same PIN again")))
keypad(OTHER)
t.shows(re.escape(t.T("The two PINs differ: choose it again.")))
if t.person(NAME) is not None:
    t.fail("a person is enrolled after two different PINs")
keypad(PIN)
t.shows(re.escape(t.T("Type the same PIN again")))
keypad(PIN)

# The sheet: the key in groups, as the command line prints it.
t.shows(re.escape(t.T("Recovery sheet: %s", NAME)), limit=t.ui() + t.budget("kdf"))


def shown_key():
    for text in t.texts():
        m = re.search(r"([0-9A-Z]{4}(?:[- ][0-9A-Z]{4}){7})", text)
        if m:
            return m.group(1).replace(" ", "-")
    return None


key = t.wait("the recovery key on the sheet", shown_key, t.ui())
t.screenshot("sheet")

p = t.person(NAME)
if p is None or p["blocked"] or p["session"]:
    t.fail("the agent's view after enrolment: %r" % p)
t.expect_audit("user_enrolled", count=1, user=p["user"], outcome="intent")
t.expect_audit("user_enrolled", count=1, user=p["user"], outcome="ok")
# The app said the key is on screen (recovery_shown): the agent dropped the undo file, so the
# enrolment stands however long the sheet stays open.
vault = os.path.join(t.tmp, "data", "vaults", p["user"] + ".vault")
t.wait("the enrolment confirmed (no undo file)", lambda: not os.path.exists(vault + ".undo"),
       t.ui())
if not os.path.exists(vault):
    t.fail("the enrolment was undone: the app did not say the key was shown")

# Saved as a PDF through GTK's own file dialog: the path typed into its name field.
pdf = os.path.join(t.tmp, "out", "feuille Élodie.pdf")
t.click(t.T("Save as _PDF…"))
t.wait("the file dialog's name field to have the focus", t.focused_in_dialog, t.ui())
t.chord("ctrl+a")  # the proposed name, replaced by a whole path
t.type(pdf)
t.key("Return")
t.shows(re.escape(t.T("The recovery sheet is saved in %s.", pdf)))
t.wait("the PDF file", lambda: os.path.exists(pdf) and os.path.getsize(pdf) > 0, t.ui())
with open(pdf, "rb") as f:
    head = f.read(8)
if not head.startswith(b"%PDF-"):
    t.fail("the saved sheet is not a PDF: %r" % head)
text = subprocess.run(["pdftotext", "-layout", pdf, "-"], capture_output=True,
                      text=True).stdout
if NAME not in text:
    t.fail("the PDF does not name %s:\n%s" % (NAME, text))
if key not in re.sub(r"\s+", "", text):  # the page may wrap the key between its groups
    t.fail("the PDF does not hold the key the screen shows (%s):\n%s" % (key, text))
print("ok PDF %d bytes, name and key in its text" % os.path.getsize(pdf))

t.click(t.T("_Done"))
t.get("label", name=NAME)

# The key the screen showed is the person's: it unblocks and sets a PIN through the CLI.
t.cli(["recover", NAME, "--pin-fd", "0"], stdin="%s\n%s\n" % (key, OTHER))
t.expect_audit("recovery_used", count=1, user=p["user"], outcome="ok")
t.done()
