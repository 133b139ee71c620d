#!/usr/bin/env python3
"""The worker's input is off while a secret is in the page, with real Chromium on a real X
display (Xvfb) and real input events (xdotool). Exit 77 (skip) without them.

    input_test.py SESAME SESAME_AGENT

The agent runs without DISPLAY: the window appears on the display that `sesame login` hands
over with the worker's X cookie. While the login runs, xdotool clicks a page's "show password"
toggle and types, again and again; the page logs every trusted event with the length of the
password field at that moment. Shown: trusted events do reach the page (once input is back),
none of them saw the password in the field, the field of a page that stays on the form (a
failed login) is empty when input comes back, and lock closes the browser.
"""
import json
import os
import shutil
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import pages  # noqa: E402

SESAME, AGENT = sys.argv[1], sys.argv[2]
PIN = "482916"
SECRET = "Canary-%s-Pw" % os.urandom(6).hex()
harness.need("/usr/bin/Xvfb", "/usr/bin/xdotool", "/usr/bin/xauth")
tmp, env = harness.private_env("sesame-input.")
BROWSER = harness.BROWSER
procs = []


def cleanup():
    for p in reversed(procs):
        if p.poll() is None:
            p.terminate()
            try:
                p.wait(20)
            except subprocess.TimeoutExpired:
                p.kill()
    shutil.rmtree(tmp, ignore_errors=True)


def fail(msg):
    print("FAIL: " + msg, file=sys.stderr)
    try:
        sys.stderr.write(open(tmp + "/agent.log").read()[-3000:])
    except OSError:
        pass
    cleanup()
    sys.exit(1)


def run(args, stdin=b"", want=0, extra=None):
    p = subprocess.run([SESAME] + args, input=stdin, capture_output=True,
                       env=dict(env, **(extra or {})), timeout=240)
    if want is not None and p.returncode != want:
        fail("%s: exit %d\n%s%s" % (" ".join(args), p.returncode, p.stdout.decode(),
                                     p.stderr.decode()))
    return p


def free_display():
    for n in range(90, 190):
        if not os.path.exists("/tmp/.X11-unix/X%d" % n) and \
           not os.path.exists("/tmp/.X%d-lock" % n):
            return n
    fail("no free X display number")


def start_x():
    """Xvfb with cookie authentication: only a client with the worker's cookie gets in."""
    n = free_display()
    auth = tmp + "/Xauthority"
    open(auth, "wb").close()
    subprocess.run(["xauth", "-q", "-f", auth, "add", ":%d" % n, "MIT-MAGIC-COOKIE-1",
                    os.urandom(16).hex()], check=True, env=env)
    x = subprocess.Popen(["Xvfb", ":%d" % n, "-auth", auth, "-screen", "0", "1280x800x24",
                          "-nolisten", "tcp"], stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    procs.append(x)
    xenv = dict(env, DISPLAY=":%d" % n, XAUTHORITY=auth)
    for _ in range(400):
        if subprocess.run(["xdotool", "getmouselocation"], env=xenv, capture_output=True)\
                .returncode == 0:
            return xenv
        if x.poll() is not None:
            fail("Xvfb exited")
        time.sleep(0.05)
    fail("Xvfb did not answer")


class Clicker(threading.Thread):
    """The worker's hand on the mouse and keyboard: on the eye toggle, again and again."""

    def __init__(self, xenv):
        super().__init__(daemon=True)
        self.xenv, self.stop, self.sent = xenv, False, 0

    def run(self):
        while not self.stop:
            # the window fills the screen from (0,0): the toggle is the page's top-left
            # 200x200 px, below the browser's own bar
            subprocess.run(["xdotool", "mousemove", "100", "220", "click", "1", "key", "a"],
                           env=self.xenv, capture_output=True)
            self.sent += 1


def browsers():
    out = []
    for d in os.listdir("/proc"):
        try:
            if d.isdigit() and tmp.encode() in open("/proc/%s/cmdline" % d, "rb").read():
                if b"--remote-debugging-pipe" in open("/proc/%s/cmdline" % d, "rb").read():
                    out.append(int(d))
        except OSError:
            pass
    return out


def logged(site, name):
    return [json.loads(r["raw"]) for r in site.taken("/log/" + name)]


def login_with_hands(site, xenv, name, stays):
    """stays: the page keeps the form after the login, and goes on logging."""
    clicker = Clicker(xenv)
    clicker.start()
    t0 = time.time()
    p = run(["login", "Alice", name, "--json"], extra={
        "DISPLAY": xenv["DISPLAY"], "XAUTHORITY": xenv["XAUTHORITY"]})
    reply = json.loads(p.stdout.decode().splitlines()[-1])
    if not reply.get("ok") or not reply.get("kept_open"):
        fail("%s: %r" % (name, reply))
    # input is back: on a page that stays, the hands go on until it has logged some of them,
    # for at most ten times what the login itself took here
    end = time.time() + 10 * (time.time() - t0)
    while stays and len(logged(site, name)) < 3 and time.time() < end:
        time.sleep(0.05)
    clicker.stop = True
    clicker.join()
    events = logged(site, name)
    if stays and not events:
        fail("%s: no trusted event reached the page after the login (%d sent)" % (
            name, clicker.sent))
    seen = [e for e in events if e["len"] > 0]
    if seen:
        fail("%s: input reached the page while the password was in it: %r" % (name, seen))
    return events, clicker.sent


def main():
    site, _ = pages.start()
    xenv = start_x()
    with open(env["SESAME_CONFIG"], "w") as f:
        f.write("kdf_passes = 1\nkdf_memory_mib = 8\nallow_http_loopback = yes\n"
                "browser = %s\nbrowser_flags = --window-position=0,0 --window-size=1280,800\n"
                % BROWSER)
    run(["init"])
    # no DISPLAY of its own
    procs.append(harness.start_agent(AGENT, env, open(tmp + "/agent.log", "w"), fail))
    run(["enroll", "Alice", "--pin-fd", "0"], stdin=(PIN + "\n").encode())
    run(["unlock", "Alice", "--pin-fd", "0"], stdin=(PIN + "\n").encode())
    for name in ("toggle", "stay"):
        run(["add", "Alice", "--service", name, "--url", site.origin + "/" + name,
             "--username", "alice", "--secret-fd", "0"], stdin=(SECRET + "\n").encode())

    events, sent = login_with_hands(site, xenv, "toggle", False)
    if site.taken("/submit/toggle") != [{"username": "alice", "password": SECRET}]:
        fail("toggle: the server received %r" % site.taken("/submit/toggle"))
    print("ok toggle: %d clicks sent, %d reached the page, none with the password in it" % (
        sent, len(events)))

    events, sent = login_with_hands(site, xenv, "stay", True)
    if site.taken("/submit/stay") != [{"username": "alice", "password": SECRET}]:
        fail("stay: the server received %r" % site.taken("/submit/stay"))
    if not any(e["type"] == "click" for e in events):
        fail("stay: no click reached the page once input was back: %r" % events)
    print("ok stay: the form stayed, its password field was empty when input came back "
          "(%d events)" % len(events))

    if not browsers():
        fail("the kept browsers are not running")
    run(["lock", "Alice"])
    end = time.time() + 20  # the launcher's own bounds (agent/browser.h)
    while browsers() and time.time() < end:
        time.sleep(0.05)
    if browsers():
        fail("lock left the browsers running")
    print("ok lock closed the browsers")
    cleanup()
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except SystemExit:
        raise
    except BaseException as e:  # noqa: B902
        fail("exception: %r" % e)
