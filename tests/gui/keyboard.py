"""The whole unlock-and-login flow with the keyboard alone: no pointer event and no accessible
action, only key presses (XTest, through the AT-SPI registry) and Tab to move. From the people:
type the name into the search, Tab to the person's row and Enter, type the purpose and Enter,
type the PIN on the physical keyboard's digits and Enter, Tab to "Connexion assistée" and
Enter; headless Chromium fills a local login page and the page's server receives the
credential. Then Tab to "Fin du rendez-vous" and Enter. Checked through the agent (session
opened then closed) and the audit log (pin_ok, session_opened with the purpose, login_filled,
session_closed). The pointer never moves: its position is the same at the end.
"""
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "browser"))
from guilib import Gui, LOGIN_BOUND_S  # noqa: E402
import pages  # noqa: E402

NAME = "Mme Keller"
PIN = "284619"
PURPOSE = "impots"
USERNAME = "keller@example.org"
PASSWORD = "Clavier-%s" % os.urandom(4).hex()
BROWSER = "/usr/bin/chromium"

if not os.access(BROWSER, os.X_OK):
    print("SKIP: no browser at %s" % BROWSER)
    sys.exit(77)

t = Gui(sys.argv, "keyboard")
site, _ = pages.start()
t.init("allow_http_loopback = yes\nbrowser = %s\n" % BROWSER)
t.start_agent()
who = t.enroll(NAME, PIN)["user"]
t.enroll("M. Autre", "561938")
t.cli(["unlock", NAME, "--pin-fd", "0"], stdin=PIN + "\n")
t.cli(["add", NAME, "--service", "Impots", "--url", site.origin + "/plain", "--username",
       USERNAME, "--secret-fd", "0"], stdin=PASSWORD + "\n")
t.cli(["lock"])
closed_before = len(t.audit("session_closed", user=who, reason="lock"))  # the set-up's own


def pointer():
    return subprocess.run(["xdotool", "getmouselocation"], capture_output=True, text=True,
                          env=t.env).stdout.split()[:2]


before = pointer()
t.launch(["--headless-browser"])


def focused_is(role, name=None, regex=None):
    def pred(f):
        return f.getRoleName() == role and (name is None or f.name == name) and (
            regex is None or re.search(regex, f.name or ""))
    return pred


# The search has the focus at start (or is reached by Tab); the name narrows the list.
t.tab_to(focused_is("entry", t.T("Search for a person")), "the search")
t.type("Mme K")  # the search keeps the names that begin with what is typed
t.wait("the list to hold Mme Keller alone",
       lambda: t.find("panel", name=NAME) and not t.find("panel", name="M. Autre"), t.ui())
t.tab_to(lambda f: t.find("panel", name=NAME, within=f) is not None or f.name == NAME,
         "the row of %s" % NAME)
t.key("Return")

# The purpose, then Enter: the PIN screen; the digits on the keyboard, then Enter.
purpose = t.get("text", name=t.T("Purpose of the appointment (recorded in the log)"))
t.wait("the purpose to have the focus",
       lambda: purpose.getState().contains(t.FOCUSED), t.ui())
t.type(PURPOSE)
t.wait("the purpose typed", lambda: t.text_of(purpose) == PURPOSE, t.ui())
t.key("Return")
t.shows("^%s$" % re.escape(t.T("%s, your vault", NAME)))
field = t.get("text", name=t.T("PIN"))
for i, d in enumerate(PIN):
    t.type(d)
    t.typed(field, i + 1)
t.key("Return")
left = re.escape(t.T("Time left: %lld min %02lld s")).replace("%lld", r"\d+").replace(
    "%02lld", r"\d\d")
t.shows(left, limit=t.ui() + t.budget("kdf"))
if t.sessions() != [NAME]:
    t.fail("no session after the PIN typed on the keyboard: %r" % t.status())
t.expect_audit("session_opened", count=1, user=who, purpose=PURPOSE)

# Tab to the service's "Connexion assistée", Enter: the server receives the credential.
login = t.T("%s: %s", t.T("Assisted login"), "Impots")
t.tab_to(focused_is("push button", login), login)
t.key("Return")
t.shows(re.escape(t.T("The login page of %s was filled in and sent.", "Impots")),
        limit=t.ui() + LOGIN_BOUND_S)
if site.taken("/submit/plain") != [{"username": USERNAME, "password": PASSWORD}]:
    t.fail("the login page's server received %r" % site.taken("/submit/plain"))
t.expect_audit("login_filled", count=1, user=who, service="Impots")

# Tab to "Fin du rendez-vous", Enter: the session ends.
end = t.T("_End of appointment")
t.tab_to(focused_is("push button", end), end, back=True)
t.key("Return")
t.shows(re.escape(t.T("The appointment has ended: the person's vault is locked.")))
if t.sessions():
    t.fail("a session after the end of the appointment: %r" % t.status())
t.expect_audit("session_closed", count=closed_before + 1, user=who, reason="lock")
if pointer() != before:
    t.fail("the pointer moved: %r then %r" % (before, pointer()))
print("ok keyboard only, pointer untouched at %s" % " ".join(before))
t.done()
