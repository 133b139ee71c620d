#!/usr/bin/env python3
"""The kinds of login page people meet, built with real libraries (tests/data/pages), through
the real sesame command, a real sesame-agent and headless Chromium (standard library only).
Exit 77 (skip) without Chromium.

    kinds_test.py SESAME SESAME_AGENT

Shown: every kind is filled and sent, and the server received exactly the username and the
password; the patterns where nothing can be sent (a button that does nothing, no login field,
hidden fields, a modal window over the form, a keypad for a password that is not digits) give
login_failed with their reason and never login_filled; the eye toggle is never clicked and the
password never shown; a new-password field is filled as the password, never sent empty; a link
to another origin is never followed; the credential's --submit-selector and --before-click
(shadow-crossing selectors included) are used.
"""
import json
import os
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import pages  # noqa: E402

SESAME, AGENT = sys.argv[1], sys.argv[2]
PIN = "482916"
USERNAME = "alice.martin@example.org"
PASSWORD = "Kinds-%s-Pw!" % os.urandom(6).hex()
DIGITS = "%08d" % (int.from_bytes(os.urandom(4), "big") % 10**8)
NIR = "185057512345678"
TAXNUM = "1234567890123"
CAFNUM = "7654321"

harness.need()
tmp, env = harness.private_env("sesame-kt.")
CONFIG = harness.CONFIG
agent = None
agent_log = open(tmp + "/agent.log", "wb")
# The longest a login may take here: the agent's own bounds (agent/fill.h) end every wait
# well before; this only keeps a hung test from hanging the suite.
LOGIN_LIMIT = 120


def fail(msg):
    print("FAIL: " + msg, file=sys.stderr)
    agent_log.flush()
    with open(tmp + "/agent.log", "rb") as f:
        sys.stderr.write(f.read().decode(errors="replace")[-3000:])
    cleanup()
    sys.exit(1)


def cleanup():
    if agent is not None and agent.poll() is None:
        agent.terminate()
        try:
            agent.wait(30)
        except subprocess.TimeoutExpired:
            agent.kill()
    shutil.rmtree(tmp, ignore_errors=True)


def run(args, stdin=b"", want=0):
    p = subprocess.run([SESAME] + args, input=stdin, capture_output=True, env=env,
                       timeout=LOGIN_LIMIT)
    if want is not None and p.returncode != want:
        fail("%s: exit %d\n%s%s" % (" ".join(args), p.returncode, p.stdout.decode(),
                                    p.stderr.decode()))
    return p


def audit():
    p = run(["audit", "export", "--format", "jsonl"])
    return [json.loads(x) for x in p.stdout.decode().splitlines() if x.strip()]


def add(service, url, username=USERNAME, password=PASSWORD, extra=()):
    run(["add", "Alice", "--service", service, "--url", url, "--username", username,
         "--secret-fd", "0"] + list(extra), stdin=(password + "\n").encode())


def login(service, want=0, args=()):
    t0 = time.time()
    p = run(["login", "Alice", service, "--headless", "--json"] + list(args), want=want)
    return json.loads(p.stdout.decode().splitlines()[-1]), time.time() - t0


def start_agent():
    global agent
    with open(env["SESAME_CONFIG"], "w") as f:
        f.write(CONFIG)
    run(["init", "--json"])
    agent = harness.start_agent(AGENT, env, agent_log, fail)
    run(["enroll", "Alice", "--pin-fd", "0"], stdin=(PIN + "\n").encode())
    run(["unlock", "Alice", "--pin-fd", "0"], stdin=(PIN + "\n").encode())


# name: (page, submission path, username, password, extra add options)
GOOD = {
    "react": ("react", "/submit/react", USERNAME, PASSWORD, ()),
    "vue": ("vue", "/submit/vue", USERNAME, PASSWORD, ()),
    "reactive": ("reactive", "/submit/reactive", USERNAME, PASSWORD, ()),
    "lit-open": ("lit-open", "/submit/lit-open", USERNAME, PASSWORD, ()),
    "lit-closed": ("lit-closed", "/submit/lit-closed", USERNAME, PASSWORD, ()),
    "lit-nested": ("lit-nested", "/submit/lit-nested", USERNAME, PASSWORD, ()),
    "jquery": ("jquery", "/submit/jquery", USERNAME, PASSWORD, ()),
    "button-handler": ("button-handler", "/submit/button-handler", USERNAME, PASSWORD, ()),
    "div-button": ("div-button", "/submit/div-button", USERNAME, PASSWORD, ()),
    "eye": ("eye", "/submit/eye", USERNAME, PASSWORD, ()),
    "newpw": ("newpw", "/submit/newpw", USERNAME, PASSWORD, ()),
    "modal": ("modal", "/submit/modal", USERNAME, PASSWORD, ()),
    "idp": ("idp", "/submit/idp", NIR, PASSWORD, ("--before-click", "a#idp-ameli")),
    "consent-step": ("consent", "/submit/consent", USERNAME, PASSWORD,
                     ("--before-click", "#consent-refuse")),
    "keypad": ("keypad", "/submit/keypad", USERNAME, DIGITS, ()),
    "fetch": ("fetch", "/submit/fetch", USERNAME, PASSWORD, ()),
    "spa-twostep": ("spa-twostep", "/submit/spa-twostep", USERNAME, PASSWORD, ()),
    "local-twostep": ("local-twostep", "/submit/local-twostep", USERNAME, PASSWORD, ()),
    "tax": ("tax", "/submit/tax", TAXNUM, PASSWORD, ()),
    "nir": ("nir", "/submit/nir", NIR, PASSWORD, ()),
    "caf": ("caf", "/submit/caf", CAFNUM, DIGITS, ()),
    "icon-submit": ("icon-submit", "/submit/icon-submit", USERNAME, PASSWORD,
                    ("--submit-selector", "#go")),
    "lit-selectors": ("lit-closed", "/submit/lit-closed", USERNAME, PASSWORD,
                      ("--username-selector", "login-closed >>> input[name=u]",
                       "--password-selector", "login-closed >>> input[name=p]")),
    "plain": (None, "/submit/plain", USERNAME, PASSWORD, ()),
}

# name: (page, reason, extra add options)
NOTHING = {
    "deadend": ("/deadend", "not_submitted", ()),
    "icon-nosel": ("/p/icon-submit", "not_submitted", ()),
    "nothing": ("/p/nothing", "no_fields", ()),
    "hidden": ("/p/hidden", "field_hidden", ()),
    "consent": ("/p/consent", "page_inert", ()),
    "keypad-letters": ("/p/keypad", "keypad_unsupported", ()),
}


def good(site):
    times = {}
    for name, (page, path, user, pw, extra) in GOOD.items():
        add(name, site.origin + ("/p/" + page if page else "/plain"), user, pw, extra)
        before = len(site.taken(path))
        reply, took = login(name)
        got = site.taken(path)[before:]
        if len(got) != 1 or got[0].get("username") != user or got[0].get("password") != pw:
            fail("%s: the server received %r" % (name, got))
        if not reply.get("submitted") or not reply.get("ok"):
            fail("%s: reply %r" % (name, reply))
        times[name] = took
        print("ok %s (%.1fs)" % (name, took))
    return times


def recorded_steps():
    """--submit-selector and --before-click are kept, listed, and bounded."""
    listed = run(["list", "Alice"]).stdout.decode()
    for want in ("click first: a#idp-ameli", "submit control: #go",
                 "username field: login-closed >>> input[name=u]"):
        if want not in listed:
            fail("list does not show %r:\n%s" % (want, listed))
    entry = [s for s in json.loads(run(["list", "Alice", "--json"]).stdout)["services"]
             if s["service"] == "consent-step"]
    if [(s["before_clicks"], s["submit_selector"]) for s in entry] != [("#consent-refuse", "")]:
        fail("list --json: %r" % entry)
    five = []
    for i in range(5):
        five += ["--before-click", "#b%d" % i]
    p = run(["add", "Alice", "--service", "five", "--url", "http://127.0.0.1/", "--username",
             "x", "--secret-fd", "0"] + five, stdin=b"pw\n", want=None)
    if p.returncode == 0 or b"--before-click" not in p.stderr:
        fail("five --before-click were accepted: %r" % p.stderr)
    print("ok steps recorded, listed and bounded")


def specifics(site, other):
    eye = site.taken("/submit/eye")[-1]
    if eye.get("ptype") != "password" or eye.get("eye") != "0" or site.taken("/log/eye"):
        fail("eye: the toggle was clicked or the password shown: %r" % eye)
    shot = tmp + "/out/eye.png"
    reply, _ = login("eye", args=["--screenshot", shot])
    eye = site.taken("/submit/eye")[-1]
    if eye.get("ptype") != "password" or eye.get("eye") != "0" or site.taken("/log/eye"):
        fail("eye with a screenshot: %r" % eye)
    if open(shot, "rb").read(8) != b"\x89PNG\r\n\x1a\n":
        fail("eye: no screenshot")
    if any(f.get("password") == "" for f in site.taken("/submit/newpw")):
        fail("newpw: an empty password was sent")
    if site.taken("/submit/idp-wrong"):
        fail("idp: the wrong provider was chosen")
    if site.taken("/submit/lit-closed")[-1] and not reply.get("ok"):
        fail("lit")
    if [p for p, _ in other.all()]:
        fail("the other origin received %r" % other.all())
    print("ok eye toggle never clicked, new-password never empty, no other origin")


def nothing(site, other):
    filled = len([r for r in audit() if r["event"] == "login_filled"])
    times = {}
    for name, (page, reason, extra) in NOTHING.items():
        pw = "letters-" + PASSWORD if name == "keypad-letters" else PASSWORD
        add(name, site.origin + page, USERNAME, pw, extra)
        before = len(site.all()) + len(other.all())
        reply, took = login(name, want=1)
        if reply.get("reason") != reason or reply.get("ok") is not False:
            fail("%s: %r, expected reason %s" % (name, reply, reason))
        sent = [x for x in site.all()[before:] if x[0].startswith("/submit/")]
        if sent or other.all():
            fail("%s: something was sent: %r %r" % (name, sent, other.all()))
        p = run(["login", "Alice", name, "--headless"], want=1)
        if b"Sesame" not in p.stderr and len(p.stderr) < 40:
            fail("%s: no explanation: %r" % (name, p.stderr))
        times[name] = took
        print("ok %s: %s (%.1fs)" % (name, reason, took))
    recs = audit()
    if len([r for r in recs if r["event"] == "login_filled"]) != filled:
        fail("a page where nothing was sent was recorded as filled")
    for name, (_, reason, _) in NOTHING.items():
        if not [r for r in recs if r["event"] == "login_failed" and r.get("service") == name
                and r.get("reason") == reason]:
            fail("%s: no login_failed/%s record" % (name, reason))
    return times


def main():
    site, other = pages.start()
    start_agent()
    times = good(site)
    recorded_steps()
    specifics(site, other)
    times.update(nothing(site, other))
    print("times: " + " ".join("%s=%.1f" % kv for kv in sorted(times.items())))
    cleanup()
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except SystemExit:
        raise
    except BaseException as e:  # noqa: B902
        fail("exception: %r" % e)
