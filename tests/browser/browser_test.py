#!/usr/bin/env python3
"""Assisted login through the real sesame command, a real sesame-agent and headless Chromium,
against the pages of pages.py (standard library only). Exit 77 (skip) without Chromium.

    browser_test.py SESAME SESAME_AGENT

Shown: the six kinds of login page receive exactly the stored username and password; a stubborn
page whose clues mislead gets the wrong fields without selectors and exactly the credential with
the selectors recorded by `sesame add`, a selector that matches nothing falls back to the clues,
and when neither works the failure says so; a page or
a redirect to another origin gets nothing and the refusal is audited; no session and no PIN
starts nothing; no or expired consent is refused and audited; a canary password is absent from
the CLI's memory while it runs, from everything printed, the audit log, the temporary
directories, and the environment and command line of every process the CLI started; a browser
that crashes or never answers gives a clear error while the agent keeps serving.
"""
import json
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import pages  # noqa: E402

SESAME, AGENT = sys.argv[1], sys.argv[2]
PIN = "482916"
USERNAME = "alice.martin@example.org"
CANARY = "Canary-%s-Pw!" % os.urandom(8).hex()
# A login that has not ended within the command's own bound on a login's reply (sesame(1),
# "WAITS": 300 s) is wrong; the agent's bounds, which follow the machine's measured costs
# (docs/protocol.md, "Time bounds"), end every login before that.
LOGIN_TIMEOUT = 300 + 30

harness.need()
tmp, env = harness.private_env("sesame-bt.")
BROWSER, CONFIG = harness.BROWSER, harness.CONFIG

printed = []  # everything the CLI and the agent printed, for the canary search
agent = None
agent_log = open(tmp + "/agent.log", "wb")


def fail(msg):
    print("FAIL: " + msg, file=sys.stderr)
    agent_log.flush()
    with open(tmp + "/agent.log", "rb") as f:
        sys.stderr.write(f.read().decode(errors="replace")[-4000:])
    cleanup()
    sys.exit(1)


def cleanup():
    if agent is not None and agent.poll() is None:
        agent.terminate()
        try:
            agent.wait(10)
        except subprocess.TimeoutExpired:
            agent.kill()
    shutil.rmtree(tmp, ignore_errors=True)


def run(args, stdin=b"", want=0, extra_env=None, name=None):
    e = dict(env, **(extra_env or {}))
    p = subprocess.run([SESAME] + args, input=stdin, capture_output=True, env=e,
                       timeout=LOGIN_TIMEOUT + 30)
    printed.extend([p.stdout, p.stderr])
    if want is not None and p.returncode != want:
        fail("%s: exit %d, expected %d\nstdout: %s\nstderr: %s" % (
            name or " ".join(args), p.returncode, want, p.stdout.decode(errors="replace"),
            p.stderr.decode(errors="replace")))
    return p


def call(obj):
    """One request straight to the agent (for what the CLI does not offer)."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(10)
    s.connect(env["SESAME_AGENT_SOCK"])
    body = json.dumps(dict(obj, v=1)).encode()
    s.sendall(struct.pack(">I", len(body)) + body)
    head = b""
    while len(head) < 4:
        head += s.recv(4 - len(head))
    (n,) = struct.unpack(">I", head)
    data = b""
    while len(data) < n:
        data += s.recv(n - len(data))
    s.close()
    return json.loads(data)


def audit():
    p = run(["audit", "export", "--format", "jsonl"])
    return [json.loads(line) for line in p.stdout.decode().splitlines() if line.strip()]


def descendants(pid):
    """Every live process below pid."""
    children = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open("/proc/%s/stat" % d) as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
                children.setdefault(ppid, []).append(int(d))
            except (OSError, IndexError, ValueError):
                pass
    out, todo = [], [pid]
    while todo:
        for c in children.get(todo.pop(), []):
            out.append(c)
            todo.append(c)
    return out


def memory_has(pid, needle):
    """Search the readable memory of pid for needle (root reads /proc/PID/mem): (found, bytes
    read)."""
    read = 0
    try:
        maps = open("/proc/%d/maps" % pid).read().splitlines()
        mem = open("/proc/%d/mem" % pid, "rb", 0)
    except OSError:
        return False, 0
    try:
        for line in maps:
            parts = line.split()
            lo, hi = (int(x, 16) for x in parts[0].split("-"))
            # ASan's shadow is terabytes of untouched mappings: the heap, stacks and data are
            # far smaller than this bound
            if "r" not in parts[1] or hi - lo > 64 << 20 or (len(parts) > 5 and
                                                                parts[5].startswith("[v")):
                continue
            try:
                mem.seek(lo)
                data = mem.read(hi - lo)
                read += len(data)
                if needle in data:
                    return True, read
            except (OSError, ValueError, OverflowError):
                continue
    finally:
        mem.close()
    return False, read


def processes():
    """Every live process: pid, and its command line."""
    out = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open("/proc/%s/cmdline" % d, "rb") as f:
                    out.append((int(d), f.read()))
            except OSError:
                pass
    return out


def browsers():
    """The browsers started for this test's logins (their profile is under tmp)."""
    return [p for p, cmd in processes()
            if tmp.encode() in cmd and b"--remote-debugging-pipe" in cmd]


class Watch(threading.Thread):
    """While the CLI runs: its memory, and the environ and cmdline of every process (the
    launcher and the browser the agent started among them)."""

    def __init__(self, pid):
        super().__init__(daemon=True)
        self.pid, self.found, self.seen, self.scans, self.read = pid, [], set(), 0, 0
        self.control = False
        self.stop = False

    def run(self):
        needle = CANARY.encode()
        while not self.stop:
            for c, cmdline in processes():
                if tmp.encode() in cmdline and b"--remote-debugging-pipe" in cmdline:
                    self.seen.add(c)  # the browser of this login, with its profile in tmp
                for what in ("environ", "cmdline"):
                    try:
                        with open("/proc/%d/%s" % (c, what), "rb") as f:
                            if needle in f.read():
                                self.found.append("%s of %d" % (what, c))
                    except OSError:
                        pass
            found, read = memory_has(self.pid, needle)
            if found:
                self.found.append("memory of the CLI")
            self.read = max(self.read, read)
            # a control: what the CLI does hold (its environment) is found the same way
            self.control = self.control or memory_has(self.pid, env["SESAME_HOME"].encode())[0]
            self.scans += 1
            time.sleep(0.05)


def login(service, want=0, watch=False, args=(), extra_env=None):
    e = dict(env, **(extra_env or {}))
    p = subprocess.Popen([SESAME, "login", "Alice", service, "--headless", "--json"] +
                         list(args), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, env=e)
    w = Watch(p.pid) if watch else None
    if w:
        w.start()
    try:
        out, err = p.communicate(timeout=LOGIN_TIMEOUT)
    except subprocess.TimeoutExpired:
        p.kill()
        fail("login %s did not end" % service)
    if w:
        w.stop = True
        w.join()
        if w.found:
            fail("canary found in " + ", ".join(sorted(set(w.found))))
        if w.scans == 0 or not w.seen:
            fail("the watcher never saw the browser of the login")
        if w.read == 0:
            if os.geteuid() == 0:
                fail("the CLI's memory could not be read")
        elif not w.control:
            fail("the memory search does not find what the CLI holds")
            print("note: the CLI's memory is not readable without root; not searched")
    printed.extend([out, err])
    if want is not None and p.returncode != want:
        fail("login %s: exit %d, expected %d\n%s%s" % (service, p.returncode, want,
                                                        out.decode(), err.decode()))
    return out.decode(), err.decode()


def add(service, url, consent=True, extra=()):
    args = ["add", "Alice", "--service", service, "--url", url, "--username", USERNAME,
            "--secret-fd", "0"] + list(extra)
    run(args + ([] if consent else ["--no-consent"]), stdin=(CANARY + "\n").encode())


USER_SEL = 'form#login input[data-k="l\'identifiant"]'  # both quotes: data, never code
PASS_SEL = "#mdp-2"


def stubborn(site):
    """Selectors for a site whose clues mislead: recorded with add, shown by list, used first."""
    url = site.origin + "/stubborn"
    add("stubborn", url)
    out, _ = login("stubborn")
    forms = site.taken("/submit/stubborn")
    if len(forms) != 1 or forms[0].get("c3") == USERNAME or forms[0].get("c4") == CANARY:
        fail("stubborn without selectors: the clues found the right fields: %r" % forms)
    if json.loads(out.splitlines()[-1]).get("by_selector"):
        fail("stubborn without selectors: reported as found by selector: %s" % out)
    add("stubborn", url, extra=["--replace", "--username-selector", USER_SEL,
                                "--password-selector", PASS_SEL])
    listed = run(["list", "Alice"]).stdout.decode()
    if USER_SEL not in listed or PASS_SEL not in listed:
        fail("list does not show the selectors:\n" + listed)
    entry = [s for s in json.loads(run(["list", "Alice", "--json"]).stdout)["services"]
             if s["service"] == "stubborn"]
    if [(s["username_selector"], s["password_selector"]) for s in entry] != [(USER_SEL,
                                                                              PASS_SEL)]:
        fail("list --json selectors: %r" % entry)
    out, _ = login("stubborn", watch=True)
    forms = site.taken("/submit/stubborn")
    if len(forms) != 2 or forms[1] != {"c1": "", "c2": "", "c3": USERNAME, "c4": CANARY}:
        fail("stubborn with selectors: the server received %r" % forms[1:])
    if not json.loads(out.splitlines()[-1]).get("by_selector"):
        fail("stubborn with selectors: not reported as found by selector: %s" % out)
    print("ok stubborn")
    # a selector that matches nothing: the clues, after a short wait for the selector's field
    add("stale", site.origin + "/twoforms", extra=["--username-selector", "#gone",
                                                   "--password-selector", "#gone-too"])
    before = len(site.taken("/submit/twoforms"))
    login("stale")
    forms = site.taken("/submit/twoforms")
    if len(forms) != before + 1 or forms[-1] != {"nir": USERNAME, "code": CANARY}:
        fail("stale selectors: the clues did not fill: %r" % forms[before:])
    if site.taken("/submit/search"):
        fail("stale selectors: the search form received %r" % site.taken("/submit/search"))
    print("ok stale selectors")
    # neither the selectors nor the clues: the failure says which
    add("nothing", site.origin + "/inner-missing", extra=["--password-selector", "#gone"])
    out, _ = login("nothing", want=1)
    if json.loads(out.splitlines()[-1]).get("reason") != "selectors":
        fail("no field at all: %s" % out)
    print("ok selectors not found")


# The launcher's own bounds (agent/browser.h): SIGTERM, its grace, then SIGKILL and the
# profile's removal. A browser still there after them is a defect, not a slow machine.
TEARDOWN_LIMIT = 15 + 3 + 2


def gone(what, limit=TEARDOWN_LIMIT):
    """Wait until no browser of the test runs and no profile is left."""
    end = time.time() + limit
    while time.time() < end:
        if not browsers() and not profiles_left():
            return
        time.sleep(0.05)
    fail("%s: browser %r or profile %r left" % (what, browsers(), profiles_left()))


def records(event, **fields):
    return [r for r in audit() if r["event"] == event and
            all(r.get(k) == v for k, v in fields.items())]


def hostile_client():
    """A client that hands the agent its own "browser" pipes: refused, nothing written."""
    cmd_r, cmd_w = os.pipe()
    ev_r, ev_w = os.pipe()
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(30)
    s.connect(env["SESAME_AGENT_SOCK"])
    body = json.dumps({"v": 1, "op": "login", "user": "Alice", "service": "plain",
                       "no_submit": True}).encode()
    frame = struct.pack(">I", len(body)) + body
    s.sendmsg([frame], [(socket.SOL_SOCKET, socket.SCM_RIGHTS,
                         struct.pack("ii", cmd_r, ev_w))])
    os.close(cmd_r)
    os.close(ev_w)
    head = s.recv(4, socket.MSG_WAITALL)
    reply = json.loads(s.recv(struct.unpack(">I", head)[0], socket.MSG_WAITALL))
    s.close()
    if reply.get("ok") is not False or reply.get("code") != -101:
        fail("a login with descriptors was not refused: %r" % reply)
    if b"descriptor" not in json.dumps(reply).encode():
        fail("the refusal does not say why: %r" % reply)
    os.set_blocking(ev_r, False)
    try:
        got = os.read(ev_r, 65536)  # EOF: the agent closed its copy and wrote nothing
    except BlockingIOError:
        fail("the agent kept the client's pipe open")
    os.close(ev_r)
    os.close(cmd_w)
    if got:
        fail("the agent wrote into the client's pipe: %r" % got[:200])
    if records("login_started", service="plain") != started_plain:
        fail("a refused request was recorded as a login")
    print("ok hostile client: refused with %r" % reply.get("error"))


def client_environment(site):
    """SESAME_BROWSER and SESAME_BROWSER_FLAGS of the client decide nothing."""
    marker = tmp + "/fake-ran"
    fake = tmp + "/fake-browser"
    with open(fake, "w") as f:
        f.write("#!/bin/sh\ntouch %s\nexec sleep 60\n" % marker)
    os.chmod(fake, 0o755)
    before = len(site.taken("/submit/plain"))
    out, _ = login("plain", args=["--keep-open"],
                   extra_env={"SESAME_BROWSER": fake,
                              "SESAME_BROWSER_FLAGS": "--remote-debugging-port=9"})
    if os.path.exists(marker):
        fail("the client's SESAME_BROWSER was started")
    if len(site.taken("/submit/plain")) != before + 1:
        fail("the login with a client environment did not fill")
    reply = json.loads(out.splitlines()[-1])
    pid = reply.get("browser", {}).get("pid")
    if reply["browser"].get("program") != BROWSER or pid not in browsers():
        fail("the reply does not name the browser the agent started: %r" % reply)
    cmdline = open("/proc/%d/cmdline" % pid, "rb").read()
    if b"remote-debugging-port" in cmdline:
        fail("the client's SESAME_BROWSER_FLAGS reached the browser")
    started = records("browser_started")
    if not started or started[-1].get("reason") != "pid %d %s" % (pid, BROWSER):
        fail("browser_started does not record the program and pid: %r" % started[-1:])
    run(["lock", "Alice"])
    gone("lock with a kept browser")
    run(["unlock", "Alice", "--pin-fd", "0"], stdin=(PIN + "\n").encode())
    print("ok client environment ignored; lock closes the kept browser")


def refused_flags():
    """Flags that open the browser to others are refused, with the flag named."""
    for flag in ("--remote-debugging-port=9333", "--load-extension=/tmp/x",
                 "--user-data-dir=/tmp/y", "--remote-debugging-address=0.0.0.0"):
        start_agent("browser_flags = --lang=fr %s\n" % flag)
        out, err = login("plain", want=1)
        reply = json.loads(out.splitlines()[-1])
        if reply.get("reason") != "browser_flags" or flag.split("=")[0] not in reply["error"]:
            fail("flag %s: %r" % (flag, reply))
        if browsers() or profiles_left():
            fail("flag %s: a browser was started" % flag)
    if len(records("login_failed", reason="browser_flags", outcome="refused")) != 4:
        fail("refused flags are not recorded")
    print("ok refused flags")


def foreign_frames(site, other):
    """A cross-origin frame grabbing focus: nothing reaches it, nothing is sent."""
    for name in ("grab", "grabstep"):
        out, _ = login(name, want=1)
        if json.loads(out.splitlines()[-1]).get("reason") != "foreign_frame":
            fail("%s: %s" % (name, out))
    if other.taken("/capture"):
        fail("the other origin received %r" % other.taken("/capture"))
    if site.taken("/submit/grab") or site.taken("/submit/grabstep"):
        fail("a page with a foreign frame was submitted")
    if len(records("login_failed", reason="foreign_frame", outcome="refused")) < 2:
        fail("foreign frames are not recorded as refusals")
    print("ok foreign focus-grabbing frame")


def honest_records(site):
    """No login_filled unless the submission left; a page that stays is wiped."""
    filled = len(records("login_filled"))
    out, _ = login("deadend", want=1)
    if json.loads(out.splitlines()[-1]).get("reason") != "not_submitted":
        fail("deadend: %s" % out)
    if len(records("login_filled")) != filled or not records("login_failed",
                                                               reason="not_submitted"):
        fail("deadend was recorded as filled")
    shot = tmp + "/out/stay.png"
    out, _ = login("stay", args=["--screenshot", shot])
    if site.taken("/submit/stay") != [{"username": USERNAME, "password": CANARY}]:
        fail("stay: the server received %r" % site.taken("/submit/stay"))
    if open(shot, "rb").read(8) != b"\x89PNG\r\n\x1a\n" or os.stat(shot).st_mode & 0o077:
        fail("stay: no private screenshot")
    print("ok records: not_submitted, and a page that stays")


def interrupted(site):
    """Ctrl-C of sesame login, or the CLI killed: login_failed, reason interrupted, never
    login_filled; the browser and its profile gone; and the page never filled nor sent, even
    once it would have loaded."""
    for service, sig in (("hang", signal.SIGINT), ("slowload", signal.SIGINT),
                         ("slowload", signal.SIGKILL)):
        n = len(records("browser_started", service=service))  # before: the login may be quick
        filled = len(records("login_filled"))
        failed = len(records("login_failed", service=service, reason="interrupted"))
        p = subprocess.Popen([SESAME, "login", "Alice", service, "--headless"],
                             stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, env=env)
        end = time.time() + LOGIN_TIMEOUT
        while len(records("browser_started", service=service)) == n and time.time() < end:
            time.sleep(0.1)
        p.send_signal(sig)
        p.communicate(timeout=LOGIN_TIMEOUT)
        end = time.time() + TEARDOWN_LIMIT
        while len(records("login_failed", service=service, reason="interrupted")) == failed:
            if time.time() > end:
                fail("%s of the CLI was not recorded as interrupted: %r" % (sig, audit()[-3:]))
            time.sleep(0.1)
        gone("interrupted login")  # the browser is gone: nothing can fill the page any more
        if len(records("login_filled")) != filled:
            fail("an interrupted login was recorded as filled")
        if site.taken("/submit/slowload"):
            fail("the page of an interrupted login was sent: %r" % site.taken("/submit/slowload"))
    print("ok Ctrl-C and a killed CLI: login_failed/interrupted, nothing sent")


def agent_stopping(site):
    """SIGTERM of the agent during a login: login_failed/agent_stopping, the browser gone,
    nothing sent."""
    n = len(records("browser_started", service="slowload"))
    p = subprocess.Popen([SESAME, "login", "Alice", "slowload", "--headless"],
                         stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, env=env)
    end = time.time() + LOGIN_TIMEOUT
    while len(records("browser_started", service="slowload")) == n and time.time() < end:
        time.sleep(0.1)
    stop_agent()  # SIGTERM; the agent waits for its logins and records how they ended
    p.communicate(timeout=LOGIN_TIMEOUT)
    if p.returncode == 0:
        fail("a login cut by the agent's stop succeeded")
    if browsers() or profiles_left():
        fail("SIGTERM during a login left %r %r" % (browsers(), profiles_left()))
    if not records("login_failed", service="slowload", reason="agent_stopping"):
        fail("SIGTERM during a login: no login_failed/agent_stopping: %r" % audit()[-4:])
    if site.taken("/submit/slowload"):
        fail("the page of a login cut by SIGTERM was sent")
    start_agent()
    print("ok SIGTERM during a login: login_failed/agent_stopping")


def anomaly(site):
    """A new window while the password is in the page closes the browser: an anomaly."""
    start_agent("browser_flags = --disable-popup-blocking\n")
    out, _ = login("popup", want=1)
    if json.loads(out.splitlines()[-1]).get("reason") != "new_target":
        fail("popup: %s" % out)
    if not records("login_failed", reason="new_target", outcome="anomaly"):
        fail("the new target is not recorded as an anomaly")
    gone("anomaly")
    if site.taken("/submit/popup"):
        fail("the popup page was submitted")
    print("ok new target while the password is in the page")


def session_bound():
    """The idle time-out and the agent stopping close kept browsers and remove profiles."""
    idle = int(3 * measured["plain"]) + 2  # the login itself must end well before
    start_agent("session_idle_seconds = %d\n" % idle)
    login("plain", args=["--keep-open"])
    if not browsers():
        fail("no kept browser")
    gone("idle time-out", limit=idle + TEARDOWN_LIMIT)
    if not records("login_filled", service="plain"):
        fail("the kept login was not recorded")
    start_agent()
    login("plain", args=["--keep-open"])
    stop_agent()  # SIGTERM: the agent waits for its browsers' end before it exits
    if browsers() or profiles_left():
        fail("SIGTERM left %r %r" % (browsers(), profiles_left()))
    start_agent()
    login("plain", args=["--keep-open"])
    agent.kill()  # SIGKILL: its end of the launcher's connection closes with it
    agent.wait()
    gone("SIGKILL of the agent")
    start_agent()
    print("ok idle time-out, SIGTERM and SIGKILL of the agent close the browser")


def parent(pid):
    with open("/proc/%d/stat" % pid) as f:
        return int(f.read().rsplit(")", 1)[1].split()[1])


def user_launcher(site):
    """With the user's launcher service running (sesame-browser.socket), the agent asks it for
    the browser instead of starting one inside its own sandbox."""
    launcher = subprocess.Popen([os.path.join(os.path.dirname(AGENT), "sesame-browser"),
                                 "--serve", "--socket", tmp + "/run/browser.sock",
                                 "--profiles", tmp + "/run"], env=env)
    for _ in range(400):
        if os.path.exists(tmp + "/run/browser.sock"):
            break
        time.sleep(0.05)
    before = len(site.taken("/submit/plain"))
    out, _ = login("plain", args=["--keep-open"])
    pid = json.loads(out.splitlines()[-1])["browser"]["pid"]
    served = parent(pid)
    if parent(served) != launcher.pid or len(site.taken("/submit/plain")) != before + 1:
        fail("the browser %d was not started by the user's launcher %d" % (pid, launcher.pid))
    run(["lock", "Alice"])
    gone("lock, with the user's launcher")
    launcher.terminate()
    launcher.wait(10)
    run(["unlock", "Alice", "--pin-fd", "0"], stdin=(PIN + "\n").encode())
    print("ok the user's launcher service starts the browser when it runs")


def agent_owned(site, other):
    global started_plain
    started_plain = records("login_started", service="plain")
    for name in ("grab", "grabstep", "deadend", "stay", "popup", "slowload"):
        add(name, site.origin + "/" + name)
    hostile_client()
    client_environment(site)
    foreign_frames(site, other)
    honest_records(site)
    interrupted(site)
    agent_stopping(site)
    refused_flags()
    anomaly(site)
    session_bound()
    user_launcher(site)


started_plain = []
measured = {}  # seconds each kind of login took here, for the waits that depend on it


def status_ok():
    r = call({"op": "status"})
    if not r.get("ok"):
        fail("the agent does not answer status: %r" % r)


def profiles_left():
    return [d for d in os.listdir(tmp + "/run") if d.startswith("sesame-browser-")]


def stop_agent():
    global agent
    if agent.poll() is not None:  # killed on purpose
        agent = None
        return
    agent.terminate()
    if agent.wait(60) != 0:
        fail("the agent exited %d" % agent.returncode)
    agent = None


def start_agent(extra=""):
    """(Re)start the agent with CONFIG and extra lines, and open Alice's session."""
    global agent
    if agent is not None:
        stop_agent()
    with open(env["SESAME_CONFIG"], "w") as f:
        f.write(CONFIG + extra)
    agent = harness.start_agent(AGENT, env, agent_log, fail)
    if not os.path.exists(tmp + "/enrolled"):
        run(["enroll", "Alice", "--pin-fd", "0"], stdin=(PIN + "\n").encode())
        open(tmp + "/enrolled", "w").close()
    run(["unlock", "Alice", "--pin-fd", "0"], stdin=(PIN + "\n").encode())


def main():
    site, other = pages.start()
    with open(env["SESAME_CONFIG"], "w") as f:
        f.write(CONFIG)
    run(["init", "--json"])
    start_agent()
    good = {"plain": ("/plain", "/submit/plain", ("username", "password")),
            "scripted": ("/scripted", "/submit/scripted", ("login", "pw")),
            "twostep": ("/twostep", "/submit/twostep", ("user", "pass")),
            "framework": ("/framework", "/submit/framework", ("email", "secret")),
            "iframe": ("/iframe", "/submit/iframe", ("username", "password")),
            "twoforms": ("/twoforms", "/submit/twoforms", ("nir", "code"))}
    for name, (path, _, _) in good.items():
        add(name, site.origin + path)
    add("foreign", site.origin + "/foreign")
    add("redirect", site.origin + "/redirect")
    add("hang", site.origin + "/hang")
    add("noconsent", site.origin + "/plain", consent=False)

    # The six kinds of login page: exactly the stored username and password arrive.
    for name, (_, submit, (ukey, pkey)) in good.items():
        t0 = time.time()
        out, _ = login(name, watch=(name in ("plain", "twostep")))
        measured[name] = time.time() - t0
        forms = site.taken(submit)
        if len(forms) != 1 or forms[0] != {ukey: USERNAME, pkey: CANARY}:
            fail("%s: the server received %r" % (name, forms))
        if not json.loads(out.splitlines()[-1]).get("submitted"):
            fail("%s: not reported as submitted: %s" % (name, out))
        print("ok %s (%.1fs)" % (name, time.time() - t0))
    if site.taken("/submit/search"):
        fail("the search form received %r" % site.taken("/submit/search"))
    stubborn(site)

    # Another origin: nothing filled, the refusal audited with the reason.
    before = len(site.all()) + len(other.all())
    for name, reason in (("foreign", "foreign_frame"), ("redirect", "origin")):
        out, err = login(name, want=1)
        if json.loads(out.splitlines()[-1]).get("reason") != reason:
            fail("%s: not refused for its origin: %s %s" % (name, out, err))
    if len(site.all()) + len(other.all()) != before:
        fail("a page of another origin received something: %r" % other.all())
    refused = [r for r in audit() if r["event"] == "login_failed" and
               r.get("reason") in ("origin", "foreign_frame") and r.get("outcome") == "refused"]
    if len(refused) != 2:
        fail("origin refusals audited: %r" % refused)
    print("ok origin")

    # The text a worker reads when the page is refused.
    p = run(["login", "Alice", "redirect", "--headless"], want=1)
    if b"not on the site recorded" not in p.stderr:
        fail("origin refusal message: %r" % p.stderr)

    # No consent, expired consent: refused, audited, no browser started.
    run(["login", "Alice", "noconsent", "--headless"], want=1)
    r = call({"op": "add", "user": "Alice", "service": "expired", "url": site.origin + "/plain",
              "username": USERNAME, "password": CANARY, "consent": True,
              "consent_until": int(time.time()) + 1})
    if not r.get("ok"):
        fail("add with a short consent: %r" % r)
    time.sleep(2.2)
    p = run(["login", "Alice", "expired", "--headless"], want=1)
    if b"consent" not in p.stderr and b"allowed" not in p.stderr:
        fail("expired consent message: %r" % p.stderr)
    consent = [r for r in audit() if r["event"] == "login_failed" and r.get("reason") == "consent"]
    if len(consent) != 2:
        fail("consent refusals audited: %r" % consent)
    print("ok consent")

    # No session and no PIN: nothing starts, nothing is recorded as started.
    run(["lock", "Alice"])
    started = len([r for r in audit() if r["event"] == "login_started"])
    before = len(site.all())
    p = run(["login", "Alice", "plain", "--headless", "--pin-fd", "0"], want=None)
    if p.returncode == 0:
        fail("a login without a PIN succeeded")
    if len([r for r in audit() if r["event"] == "login_started"]) != started:
        fail("a login started without a session")
    if len(site.all()) != before or profiles_left():
        fail("something happened without a PIN: %r %r" % (site.all()[before:], profiles_left()))
    # with the PIN on the descriptor, login opens the session itself
    shot = tmp + "/out/after.png"
    p = run(["login", "Alice", "plain", "--headless", "--pin-fd", "0", "--screenshot", shot,
             "--json"], stdin=(PIN + "\n").encode())
    if len(site.taken("/submit/plain")) != 2:
        fail("login after its own unlock did not fill")
    lines = p.stdout.decode().splitlines()  # --json: one document, the login's, even so
    if len(lines) != 1 or json.loads(lines[0]).get("ok") is not True:
        fail("login --json after its own unlock printed %r" % lines)
    if open(shot, "rb").read(8) != b"\x89PNG\r\n\x1a\n":
        fail("no screenshot of the result")
    print("ok session")

    # --no-submit: filled, not sent.
    out, _ = login("plain", args=["--no-submit"])
    if json.loads(out.splitlines()[-1]).get("submitted") is not False:
        fail("--no-submit: %s" % out)
    if len(site.taken("/submit/plain")) != 2:
        fail("--no-submit sent the form")
    print("ok no-submit")

    # --keep-open: the CLI returns and the browser stays; once it is closed, the profile goes.
    login("plain", args=["--keep-open"])
    left = profiles_left()
    if len(left) != 1:
        fail("kept browser's profile: %r" % left)
    status_ok()
    kept = [p for p, cmd in processes() if left[0].encode() in cmd]
    if not kept:
        fail("the kept browser is not running")
    for pid in kept:
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    for _ in range(100):
        if not profiles_left():
            break
        time.sleep(0.1)
    if profiles_left():
        fail("the kept browser's profile outlived it")
    status_ok()
    print("ok keep-open")

    # A browser that crashes mid-login: a clear error, the agent keeps serving.
    def killer():
        time.sleep(3)
        for pid in browsers():
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
    threading.Thread(target=killer, daemon=True).start()
    t0 = time.time()
    out, err = login("hang", want=1)
    if json.loads(out.splitlines()[-1]).get("reason") not in ("browser", "timeout"):
        fail("crash: %s %s" % (out, err))
    status_ok()
    print("ok crash (%.1fs)" % (time.time() - t0))

    agent_owned(site, other)

    # A "browser" that never speaks (set in sesame.conf, the only place a browser is named):
    # a timeout, and meanwhile the agent answers.
    fake = tmp + "/mute-browser"
    with open(fake, "w") as f:
        f.write("#!/bin/sh\nexec sleep 120\n")
    os.chmod(fake, 0o755)
    start_agent("browser = %s\n" % fake)
    t0 = time.time()
    th = threading.Thread(target=lambda: login("plain", want=1))
    th.start()
    time.sleep(2)
    status_ok()
    th.join()
    print("ok mute browser (%.1fs)" % (time.time() - t0))

    # The canary: nowhere in what was printed, the audit log, the temporary directories.
    for _ in range(100):
        if not profiles_left():
            break
        time.sleep(0.1)
    if profiles_left():
        fail("profile directories left: %r" % profiles_left())
    stop_agent()
    agent_log.flush()
    needle = CANARY.encode()
    printed.append(open(tmp + "/agent.log", "rb").read())
    if any(needle in p for p in printed):
        fail("canary printed")
    for root, _, files in os.walk(tmp):
        for fn in files:
            path = os.path.join(root, fn)
            if os.path.isfile(path) and needle in open(path, "rb").read():
                fail("canary in " + path)
    print("ok canary")
    cleanup()
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except SystemExit:
        raise
    except BaseException as e:  # noqa: B902
        fail("exception: %r" % e)
