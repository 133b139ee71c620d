#!/usr/bin/env python3
"""The auditor's report (sesame audit report) rendered by real headless Chromium: a log written
through the library with anomalies planted at known local times, then the page's text as the
browser renders it must say each one, with its records; hostile text stays text; a tampered log
says so first; the page loads nothing from the network. Exit 77 (skip) without Chromium.
Usage: report_test.py SESAME AUDIT_WRITER LOCALEDIR"""
import datetime
import html.parser
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zoneinfo

BROWSER = os.environ.get("SESAME_TEST_BROWSER", "/usr/bin/chromium")
SESAME, WRITER, LOCALEDIR = sys.argv[1:4]
KEY = "0123456789abcdef" * 4
TZ = "Europe/Paris"
U = ["%032x" % (0x7F3A0000 + i) for i in range(7)]
HOSTILE_PURPOSE = '<script>document.title="pwned"</script>'
HOSTILE_SERVICE = "<img src=x onerror=alert(1)>"

if not os.access(BROWSER, os.X_OK):
    print("SKIP: no Chromium at " + BROWSER)
    sys.exit(77)

tmp = tempfile.mkdtemp(prefix="sesame-report.")
LOG = os.path.join(tmp, "audit")
CONF = os.path.join(tmp, "sesame.conf")
with open(CONF, "w") as f:
    f.write("opening_hours = mon-fri 08:00-19:00\n"
            "audit_people_per_day = 3\n"
            "audit_long_session_seconds = 3600\n"
            "audit_consent_days = 20\n")
ENV = dict(os.environ, TZ=TZ, SESAME_CONFIG=CONF, SESAME_HOME=os.path.join(tmp, "home"),
           SESAME_LOCALEDIR=LOCALEDIR, LC_ALL="C.UTF-8", LANGUAGE="")


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


def utc(local):
    """'2026-11-23 10:00' in Paris time, as the log's RFC 3339 UTC."""
    t = datetime.datetime.strptime(local, "%Y-%m-%d %H:%M").replace(
        tzinfo=zoneinfo.ZoneInfo(TZ))
    return t.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def write(*args):
    p = subprocess.run([WRITER, LOG] + list(args) + ["--sealing-key-fd", "0"],
                       input=KEY + "\n", capture_output=True, text=True)
    if p.returncode != 0:
        fail("audit-writer %s: %s" % (args, p.stderr))


def rec(local, event, worker, user=None, **kw):
    uid = {"alice": 1001, "bob": 1002, "carol": 1003, "root": 0}[worker]
    args = ["append", "--event", event, "--time", utc(local), "--worker-uid", str(uid),
            "--worker-login", worker]
    if user is not None:
        args += ["--user", user]
    for k, v in kw.items():
        args += ["--" + k.replace("_", "-"), str(v)]
    write(*args)


TODAY = datetime.datetime.now(zoneinfo.ZoneInfo(TZ)).date()
EN_DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
EN_MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August",
             "September", "October", "November", "December"]
FR_DAYS = ["lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"]
FR_MONTHS = ["janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août",
             "septembre", "octobre", "novembre", "décembre"]


def in_days(n):
    return (TODAY + datetime.timedelta(days=n)).isoformat()


def day_words(iso, days, months):
    d = datetime.date.fromisoformat(iso)
    return "%s %d %s %d" % (days[d.weekday()], d.day, months[d.month - 1], d.year)


def session(day, start, end, worker, user, purpose, reason="lock"):
    rec(day + " " + start, "session_opened", worker, user, purpose=purpose)
    rec(day + " " + end, "session_closed", worker, user, reason=reason)


write("init", "--installation", "poste-3")
rec("2026-11-23 08:00", "agent_started", "root", reason="system")
session("2026-11-23", "10:00", "10:10", "alice", U[1], "dossier CAF")
rec("2026-11-23 10:05", "login_filled", "alice", U[1], service="CAF", purpose="dossier CAF")
session("2026-11-23", "11:00", "11:05", "bob", U[2], "rendez-vous APL")
# consents: one ends within the configured 20 days, one in 25 (the default 30 would show it),
# one ended and was used after its end; one ending soon whose credential was removed, one of a
# person who withdrew, one only asked for (its intent), one ended and not used since: none shown
SOON, LATER, ENDED = in_days(10), in_days(25), "2026-11-24"
rec("2026-11-23 09:30", "credential_added", "alice", U[1], service="CAF", consent_until=SOON)
rec("2026-11-23 09:31", "credential_added", "alice", U[1], service="Ameli", consent_until=LATER)
rec("2026-11-23 09:32", "credential_added", "alice", U[3], service="France Travail",
    consent_until="2026-11-20")
rec("2026-11-23 09:33", "credential_changed", "alice", U[3], service="France Travail",
    consent_until=ENDED)
rec("2026-11-23 09:34", "credential_added", "alice", U[4], service="MSA", consent_until=SOON)
rec("2026-11-23 09:35", "credential_removed", "alice", U[4], service="MSA")
rec("2026-11-23 09:36", "credential_added", "alice", U[6], service="Retraite",
    consent_until=SOON)
rec("2026-11-23 09:37", "credential_added", "alice", U[2], service="Urssaf", outcome="intent",
    consent_until=in_days(2))
rec("2026-11-23 09:38", "credential_added", "alice", U[5], service="Impots",
    consent_until="2026-11-21")
rec("2026-11-24 12:00", "login_started", "alice", U[3], service="France Travail")
rec("2026-11-25 10:20", "login_started", "alice", U[3], service="France Travail",
    purpose="dossier chômage")
rec("2026-11-25 10:20", "login_failed", "alice", U[3], service="France Travail",
    outcome="refused", reason="consent", purpose="dossier chômage")
# a burst of wrong PINs, then the vault blocked
for i, m in enumerate(["09:00", "09:02", "09:04"]):
    rec("2026-11-24 " + m, "pin_wrong", "bob", U[3], attempts_left=2 - i, outcome="refused")
rec("2026-11-24 09:04", "vault_blocked", "bob", U[3], outcome="refused")
# logins refused: consent, and an insecure address under a hostile service name
rec("2026-11-24 14:00", "login_failed", "alice", U[1], service="Impots", outcome="refused",
    reason="consent")
rec("2026-11-24 14:05", "login_failed", "alice", U[1], service=HOSTILE_SERVICE,
    outcome="refused", reason="insecure_url", purpose=HOSTILE_PURPOSE)
# one worker, five people in a day (threshold 3)
for i in range(5):
    session("2026-11-25", "10:%02d" % (i * 10), "10:%02d" % (i * 10 + 5), "carol", U[1 + i],
            "accueil")
# a long session: 90 minutes
session("2026-11-26", "09:00", "10:30", "alice", U[5], "dossier retraite", reason="timeout")
# the agent started again without having recorded its stop
rec("2026-11-27 08:00", "agent_started", "root", reason="system")
rec("2026-11-27 11:00", "export", "bob", U[2], outcome="intent")
rec("2026-11-27 11:00", "export", "bob", U[2])
rec("2026-11-27 11:30", "user_withdrawn", "alice", U[6], outcome="intent")
rec("2026-11-27 11:30", "user_withdrawn", "alice", U[6])
# outside opening hours: a Saturday night, with the hostile purpose
session("2026-11-28", "22:30", "22:35", "carol", U[4], HOSTILE_PURPOSE)
# a crash in the middle of a write: the next open repairs the log and records it
with open(os.path.join(LOG, "audit.log"), "ab") as f:
    f.write(b'{"seq":99,"prev":"torn')
rec("2026-11-29 09:00", "agent_started", "root", reason="system")


class Text(html.parser.HTMLParser):
    """The text a reader sees, and the elements the page holds."""

    def __init__(self):
        super().__init__()
        self.parts, self.tags = [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)

    def handle_data(self, data):
        self.parts.append(data)


def chromium(page, *extra):
    prof = tempfile.mkdtemp(dir=tmp)
    cmd = [BROWSER, "--headless", "--disable-gpu", "--user-data-dir=" + prof,
           "--no-first-run"] + (["--no-sandbox"] if os.geteuid() == 0 else []) + list(extra)
    p = subprocess.run(cmd + ["file://" + page], capture_output=True, timeout=120)
    if p.returncode != 0:
        fail("chromium exit %d: %s" % (p.returncode, p.stderr.decode()[-2000:]))
    return p.stdout.decode()


def report(name, *args, want=0, log=LOG):
    page = os.path.join(tmp, name + ".html")
    p = subprocess.run([SESAME, "audit", "--dir", log, "report", "--html", page, "--no-names"] +
                       list(args), env=ENV, capture_output=True, text=True)
    if p.returncode != want:
        fail("report %s: exit %d, expected %d: %s" % (name, p.returncode, want, p.stderr))
    if want == 2:
        if os.path.exists(page):
            fail("report %s: a refused report left a page behind" % name)
        return None
    if os.stat(page).st_mode & 0o777 != 0o600:
        fail("report %s is not 0600" % name)
    raw = open(page).read()
    # self-contained: the only address is the SVG namespace, which nothing fetches
    if set(re.findall(r"https?://[^\"' )]+", raw)) - {"http://www.w3.org/2000/svg"}:
        fail("the page names an address: " + str(re.findall(r"https?://\S+", raw)))
    dom = chromium(page, "--dump-dom")
    t = Text()
    t.feed(dom)
    text = re.sub(r"\s+", " ", "".join(t.parts))
    return page, dom, t.tags, text


def expect(text, what, name):
    for w in what:
        if w not in text:
            fail("%s: the rendered page does not say %r" % (name, w))


# a key that cannot be read: refused, no page left
report("en", "--lang", "en", "--key", os.path.join(tmp, "k"), want=2)
with open(os.path.join(tmp, "k"), "w") as f:
    f.write(subprocess.run([SESAME, "audit", "--dir", LOG, "key"], capture_output=True,
                           text=True, env=ENV).stdout)
page, dom, tags, text = report("en", "--lang", "en", "--key", os.path.join(tmp, "k"))
expect(text, [
    "The log is intact", "Checked against the key you kept.",
    "Wrong PINs in a row", "3 wrong PINs in a row for",
    "wrong PIN (0 attempts left)", "Blocked vaults", "vault blocked: too many wrong PINs",
    "Logins refused for their address, consent or origin",
    "login to Impots did not complete (refused)",
    "Vaults opened outside opening hours", "Saturday 28 November 2026 at 22:30",
    "A worker opening many people's vaults in one day",
    "5 people's vaults opened on Wednesday 25 November 2026 by one worker (more than 3):",
    "Long sessions", "a session of 90 minutes:", "vault closed after a time without use",
    "Sesame restarted without a clean stop", "Friday 27 November 2026 at 08:00",
    "Log repaired after a crash", "log repaired after a crash",
    "Exports", "logins exported", "Withdrawals", "withdrawal: vault destroyed",
    "Consents about to expire",
    "consent to assisted logins to CAF ends on %s for" % day_words(SOON, EN_DAYS, EN_MONTHS),
    "Logins asked for after the consent ended",
    "consent to assisted logins to France Travail ended on Tuesday 24 November 2026, "
    "2 logins asked for after it, for",
    "Vaults opened per day and per worker", "Who opened whose vault",
    "« dossier CAF » (1)", "« accueil » (1)", "People are shown by their id",
], "en")
# each consent shows the record that set it; the one used after its end, the logins after it
soon = text[text.index("Consents about to expire"):text.index("Logins asked for after")]
if soon.count("consent to assisted logins to") != 1 or "login to CAF recorded" not in soon:
    fail("the consents about to expire are not CAF's alone, with its record: " + soon)
used = text[text.index("Logins asked for after"):text.index("Vaults opened per day")]
if (used.count("consent to assisted logins to") != 1 or
        "login to France Travail changed" not in used or
        used.count("login to France Travail asked for") != 1 or
        "Wednesday 25 November 2026 at 10:20" not in used or
        "Tuesday 24 November 2026 at 12:00" in used):
    fail("the logins after the consent's end are not shown with their records: " + used)
for other in ["Ameli", "MSA", "Retraite", "Urssaf", "to Impots"]:
    if other in soon or other in used:
        fail("a consent that should not stand out does: " + other)
# each anomaly shows its records: the burst's three wrong PINs are rows of its table
burst = text[text.index("3 wrong PINs in a row for"):text.index("Blocked vaults")]
if burst.count("wrong PIN (") != 3:
    fail("the burst does not show its three records: " + burst)
# hostile text is text: no element made of it, the title untouched
if HOSTILE_PURPOSE not in text or HOSTILE_SERVICE not in text:
    fail("the hostile purpose or service is not shown as text")
if "script" in tags or "img" in tags:
    fail("hostile text became an element: %s" % sorted(set(tags)))
if "<title>Sesame audit report</title>" not in dom:
    fail("the page's title changed: a script ran")
if tags.count("rect") != 5 or "svg" not in tags:  # 4 days, 2 workers on the first
    fail("the chart has %d bars, 5 expected" % tags.count("rect"))
shot = os.path.join(tmp, "report.png")
chromium(page, "--screenshot=" + shot, "--window-size=1000,1400", "--hide-scrollbars")
if open(shot, "rb").read(8) != b"\x89PNG\r\n\x1a\n":
    fail("no screenshot")
if os.environ.get("SESAME_REPORT_SHOT"):
    shutil.copy(shot, os.environ["SESAME_REPORT_SHOT"])

# The same in French.
page, dom, tags, text = report("fr", "--lang", "fr")
expect(text, [
    "Le journal est intact", "Codes secrets incorrects à la suite",
    "code secret incorrect (0 essai restant)", "Coffres bloqués",
    "samedi 28 novembre 2026 à 22 h 30", "Sessions longues", "une session de 90 minutes :",
    "Qui a ouvert le coffre de qui", "Retraits du service",
    "Consentements sur le point d'expirer",
    "le consentement aux connexions assistées à CAF prend fin le %s pour"
    % day_words(SOON, FR_DAYS, FR_MONTHS),
    "Connexions demandées après la fin du consentement",
    "le consentement aux connexions assistées à France Travail a pris fin le mardi 24 novembre "
    "2026, 2 connexions demandées après, pour",
], "fr")
if '<html lang="fr">' not in dom:
    fail("the French page does not say its language")

# A period: only what happened in it.
page, dom, tags, text = report("period", "--lang", "en", "--since", "2026-11-26",
                               "--until", "2026-11-26")
expect(text, ["Long sessions"], "period")
for w in ["Blocked vaults", "Vaults opened outside opening hours"]:
    if w in text:
        fail("period: %r is outside the period" % w)

# A tampered copy: said first, and the report exits 10.
bad = os.path.join(tmp, "tampered")
shutil.copytree(LOG, bad)
with open(os.path.join(bad, "audit.log"), "r+b") as f:
    data = f.read()
    i = data.index(b"dossier CAF")
    f.seek(i)
    f.write(b"dossier CAX")
page, dom, tags, text = report("tampered", "--lang", "en", log=bad, want=10)
if text.index("WARNING: the log was altered") > text.index("In short"):
    fail("the tampering is not said first")
expect(text, ["was altered", "Do not rely on this report"], "tampered")

shutil.rmtree(tmp)
print("PASS: report")
