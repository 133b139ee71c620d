"""An appointment in the application, from the person's name to its end:

- the PIN screen says whose vault, who asks and why, and the attempts left;
- one wrong PIN on the keypad: refused, one attempt fewer on the screen and in the agent,
  recorded pin_wrong; then the right one opens the session (sesame status) with the purpose
  recorded (pin_ok, session_opened); the time left is shown;
- a service added with the password typed twice by the person and consent: in sesame list,
  recorded credential_added;
- "Connexion assistée": headless Chromium, started by the agent, fills a local login page and
  the page's server receives exactly the username and password (login_started, login_filled);
- "Fin du rendez-vous": no session in sesame status, session_closed (reason lock), the receipt
  offered (records.py checks it), then back to the people.
Screenshots: the PIN screen, the appointment, the new service form.
"""
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "browser"))
from guilib import Gui, LOGIN_BOUND_S  # noqa: E402
import pages  # noqa: E402

NAME = "Mme Martin"
PIN = "284619"
WRONG = "501738"
PURPOSE = "dossier CAF"
USERNAME = "martin.c@example.org"
PASSWORD = "Caf-%s-mdp" % os.urandom(4).hex()
BROWSER = "/usr/bin/chromium"

if not os.access(BROWSER, os.X_OK):
    print("SKIP: no browser at %s" % BROWSER)
    sys.exit(77)

t = Gui(sys.argv, "appointment")
site, _ = pages.start()
t.init("allow_http_loopback = yes\nbrowser = %s\n" % BROWSER)
t.start_agent()
who = t.enroll(NAME, PIN)["user"]
t.launch(["--headless-browser"])

# The person, then the purpose, then the PIN screen turned toward the person.
t.pointer_click(t.get("panel", name=NAME))
t.fill(t.get("text", name=t.T("Purpose of the appointment (recorded in the log)")), PURPOSE)
t.click(t.T("_Ask for the PIN"))
t.shows("^%s$" % re.escape(t.T("%s, your vault", NAME)))
t.shows("^%s$" % re.escape(t.T("Asked by %s", "root")))
t.shows("^%s$" % re.escape(t.T("For: %s", PURPOSE)))
t.shows("^%s$" % re.escape(t.N("%lld attempt left", "%lld attempts left", 5)))
t.screenshot("pin")


def keypad(pin):
    field = t.get("text", name=t.T("PIN"))
    for i, d in enumerate(pin):
        t.click(d)
        t.typed(field, i + 1)
    t.click(t.T("Confirm"))


# One wrong PIN: refused, counted in the agent and on the screen, recorded.
keypad(WRONG)
t.shows("^%s$" % re.escape(t.N("%lld attempt left", "%lld attempts left", 4)),
        limit=t.ui() + t.budget("kdf"))
t.get("alert", regex=re.escape(t.T("wrong PIN")))
p = t.person(NAME)
if p["attempts_left"] != 4 or p["session"] or t.sessions():
    t.fail("after one wrong PIN, the agent says %r, sessions %r" % (p, t.sessions()))
wrong = t.expect_audit("pin_wrong", count=1, user=who)
if wrong[0].get("attempts_left") != 4:
    t.fail("pin_wrong: %r" % wrong)
if t.audit("session_opened", user=who):
    t.fail("a session was recorded after a wrong PIN")

# The right PIN: the appointment, its time, the session in the agent with the purpose.
keypad(PIN)
left = re.escape(t.T("Time left: %lld min %02lld s")).replace("%lld", r"(\d+)").replace("%02lld", r"(\d\d)")
shown = re.match(left, t.shows(left, limit=t.ui() + t.budget("kdf")))
t.get("label", name=NAME)
if not 0 < int(shown.group(1)) * 60 + int(shown.group(2)) <= 1800:
    t.fail("time left shown: %s" % shown.group(0))
if t.sessions() != [NAME]:
    t.fail("sesame status after the right PIN: %r" % t.status())
t.expect_audit("pin_ok", count=1, user=who, purpose=PURPOSE)
t.expect_audit("session_opened", count=1, user=who, purpose=PURPOSE)
if t.person(NAME)["attempts_left"] != 5:
    t.fail("the counter was not reset: %r" % t.person(NAME))
t.screenshot("appointment")

# A service, the password typed twice by the person, consent given.
t.click(t.T("_Add a service"))
t.fill(t.get("text", name=t.T("Service (as the person knows it, such as CAF)")), "CAF")
t.fill(t.get("text", name=t.T("Address of the login page")), site.origin + "/plain")
t.fill(t.get("text", name=t.T("The person's login on that site")), USERNAME)
t.fill_secret(t.get("text", name=t.T("Password, typed by the person")), PASSWORD)
t.fill_secret(t.get("text", name=t.T("The same password again")), PASSWORD)
consent = t.get("check box", name=t.T("The person allows assisted logins with this service"))
if not consent.getState().contains(t.CHECKED):
    t.click(role="check box", name=consent.name)
    t.wait("consent checked", lambda: consent.getState().contains(t.CHECKED), t.ui())
t.screenshot("add-service")
t.click(t.T("_Save"))
t.shows(re.escape(t.T("%s recorded.", "CAF")), limit=t.ui() + t.budget("kdf"))
listed = t.cli_json(["list", NAME])["services"]
if [(s["service"], s["username"], s["consent"]) for s in listed] != [("CAF", USERNAME, True)]:
    t.fail("sesame list after adding: %r" % listed)
t.expect_audit("credential_added", count=1, user=who, service="CAF", outcome="ok")

# The assisted login: the agent's browser fills the page, the server receives the credential.
login = t.T("%s: %s", t.T("Assisted login"), "CAF")
t.click(login)
t.shows(re.escape(t.T("The login page of %s was filled in and sent.", "CAF")),
        limit=t.ui() + LOGIN_BOUND_S)
forms = site.taken("/submit/plain")
if forms != [{"username": USERNAME, "password": PASSWORD}]:
    t.fail("the login page's server received %r" % forms)
t.expect_audit("login_started", count=1, user=who, service="CAF")
t.expect_audit("login_filled", count=1, user=who, service="CAF")
if t.audit("login_failed"):
    t.fail("login_failed recorded: %r" % t.audit("login_failed"))
print("ok assisted login: the server received the username and password")

# The end of the appointment: no session left, recorded, back to the people.
t.click(t.T("_End of appointment"))
t.shows(re.escape(t.T("The appointment has ended: the person's vault is locked.")))
t.shows("^%s$" % re.escape(t.T("Appointment receipt: %s", NAME)))
t.click(t.T("_Done"))
t.get("panel", name=NAME)
if t.sessions():
    t.fail("sesame status after the end of the appointment: %r" % t.status())
t.expect_audit("session_closed", count=1, user=who, reason="lock")
t.done()
