"""The application under the troubles of a working day, each said in clear words and none ending
it (the process still runs after each, and quits cleanly at the end):

- a refused login: a service without the person's consent; the refusal is shown, recorded
  (login_failed, reason consent) and no browser starts;
- the agent restarting: stopped under an open appointment, the next action says the agent
  cannot be reached; started again, the next action says the appointment has ended (the session
  went with the old agent: sesame status has none, session_closed reason agent_stop);
- a vault blocked while the PIN screen waits: the right PIN is refused for the block and the
  person is sent to recovery, no session opens, no pin_ok is recorded;
- an expired session: the appointment's maximum length passes with the appointment on screen;
  the application says the appointment has ended and goes back to the people.
"""
import os
import re
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from guilib import Gui  # noqa: E402

PIN = "284619"
GUI_STATUS_POLL_S = 10  # gui/window-private.h: the session's time is asked again this often

t = Gui(sys.argv, "robust")
t.init()
t.start_agent()
a = t.enroll("Mme Arnaud", PIN)["user"]
b = t.enroll("M. Benali", PIN)["user"]
c = t.enroll("Mme Chevalier", PIN)["user"]
t.cli(["unlock", "Mme Arnaud", "--pin-fd", "0"], stdin=PIN + "\n")
t.cli(["add", "Mme Arnaud", "--service", "CAF", "--url", "https://caf.example.org/login",
       "--username", "arnaud", "--secret-fd", "0", "--no-consent"], stdin="mdp-caf\n")
t.launch(["--headless-browser"])


def messages():
    """What the alerts and status lines on screen say (the foot's Message among them)."""
    return {a.name for a in t.all(role="alert") + t.all(role="status bar") if a.name}


def says(*texts, limit=None):
    """One of texts is said on screen, and the application still runs."""
    got = t.wait("one of %r to be said" % (texts,),
                 lambda: [m for m in messages() if m in texts], limit or t.ui())
    t.expect_alive("after saying %r" % got[0])
    return got[0]


# A refused login: no consent. Said, recorded, no browser.
t.pointer_click(t.get("panel", name="%s, %s" % ("Mme Arnaud", t.T("appointment open"))))
login = t.T("%s: %s", t.T("Assisted login"), "CAF")
t.click(login)
# said with the agent's code's words, or with the login's advice for its reason
refusals = (t.T("the person has not allowed assisted logins for this service"),
            t.T("The person has not allowed assisted logins for this service, or their "
                "consent has expired."))
says(*refusals)
t.expect_audit("login_failed", count=1, user=a, reason="consent", outcome="refused")
if t.audit("browser_started"):
    t.fail("a browser started for a login without consent")
print("ok refused login")

# The agent restarting under the open appointment.
t.stop_agent()
t.click(login)
says(t.T("the agent could not start: %s", t.T("it said nothing")))
t.start_agent()
# The application learns that the session is gone at its next action, or by its own status
# check (every few seconds), whichever comes first: each ends the appointment with these words.
ended = re.escape(t.T("The appointment has ended: the session timed out or was ended. Ask the "
                      "person for their PIN to open it again."))
def end_or_login():
    b = t.find("push button", login)
    return t.find(regex=ended) or (b if b is not None and t.sensitive(b) else None)


first = t.wait("the login button, or the appointment's end", end_or_login, t.ui())
if first.name == login:
    t.press(first)  # False when the status check ended the appointment meanwhile
t.shows(ended)
t.get("panel", name="Mme Arnaud")
if t.sessions():
    t.fail("a session after the agent's restart: %r" % t.status())
t.expect_audit("session_closed", count=1, user=a, reason="agent_stop")
print("ok agent restarted")

# A vault blocked while its PIN screen waits.
t.pointer_click(t.get("panel", name="M. Benali"))
t.click(t.T("_Ask for the PIN"))
t.shows("^%s$" % re.escape(t.T("%s, your vault", "M. Benali")))
for _ in range(5):
    t.cli(["unlock", "M. Benali", "--pin-fd", "0"], stdin="501738\n", want=None)
if not t.person("M. Benali")["blocked"]:
    t.fail("M. Benali is not blocked")
field = t.get("text", name=t.T("PIN"))
for i, d in enumerate(PIN):
    t.click(d)
    t.typed(field, i + 1)
t.click(t.T("Confirm"))
t.shows("^%s$" % re.escape(t.T("%s, your recovery sheet", "M. Benali")),
        limit=t.ui() + t.budget("kdf"))
blocked = says(t.T("too many wrong PINs: the vault is blocked; the person's recovery sheet opens "
                   "it again"))
if t.sessions() or t.audit("pin_ok", user=b):
    t.fail("the blocked vault opened: %r" % t.status())
print("ok blocked: %s" % blocked)
t.click(t.T("Back"))
t.get("panel", regex="^Mme Chevalier(, .*)?$")  # the people shown before the agent stops

# An expired session: the appointment's maximum length, derived from what opening one costs.
t.stop_agent()
max_s = int(t.budget("app_start", "kdf")) + 1
t.write_config("session_max_seconds = %d\n" % max_s)
t.start_agent()
t.cli(["unlock", "Mme Chevalier", "--pin-fd", "0"], stdin=PIN + "\n")
opened = time.monotonic()
# the list was read before this unlock: the row may not say it yet; choosing asks the agent
t.pointer_click(t.get("panel", regex="^Mme Chevalier(, .*)?$"))
left = re.escape(t.T("Time left: %lld min %02lld s")).replace("%lld", r"\d+").replace(
    "%02lld", r"\d\d")
t.shows(left)
if time.monotonic() - opened >= max_s:
    t.fail("the appointment took longer to show than the session lasts (%d s)" % max_s)
t.wait("the session's end in the agent", lambda: not t.sessions(), max_s + t.ui())
t.shows(re.escape(t.T("The appointment has ended: the session timed out or was ended. Ask the "
                      "person for their PIN to open it again.")),
        limit=t.ui() + GUI_STATUS_POLL_S)
t.get("panel", name="Mme Chevalier")
closed = t.audit("session_closed", user=c)
if len(closed) != 1 or not closed[0].get("reason", "").startswith("timeout"):
    t.fail("session_closed of the expired session: %r" % closed)
print("ok expired session")
t.done()
