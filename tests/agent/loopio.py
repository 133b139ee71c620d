#!/usr/bin/env python3
"""What the agent's loop does for a request that only reads (standard library and strace).

The agent runs under strace. Between two marker requests, clients read pages of people, resolve
each name and ask for status many times: the agent must open no vault file, and call getpid at
most once, for all of them (the people index holds the names and the retry counters, and a
page's guarded buffer is mapped once). An unlock makes exactly the syncs its durability needs
(UNLOCK_SYNCS). The counters those replies show must still be the ones
the vault files hold: a wrong PIN typed before the agent started, and one typed while it runs
(through a PIN job) are both seen.

    loopio.py SESAME SESAME_AGENT
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import agentproto as ap  # noqa: E402

SESAME, AGENT = sys.argv[1], sys.argv[2]
PINS = {"Alice": "482916", "Bob": "739164", "Chloe": "615283"}
WRONG = "111111"
RETRIES = 5
ROUNDS = 20
# An unlock's syncs: the counted attempt (the new file, then its directory), the counter back to
# zero (the new file only: its loss in a crash only brings the attempt back), and the log's one
# fdatasync for pin_ok and session_opened together.
UNLOCK_SYNCS = 4
tmp = tempfile.mkdtemp(prefix="sesame-loopio.")
trace = os.path.join(tmp, "agent.trace")
agent_log = os.path.join(tmp, "agent.log")
agent = None
agent_pid = None
env = ap.test_env(tmp)
SOCK = env["SESAME_AGENT_SOCK"]
fail = ap.failer(agent_log)


def sesame(args, stdin, want):
    p = subprocess.run([SESAME, *args], input=stdin, env=env, capture_output=True, text=True,
                       timeout=240)
    if (p.returncode == 0) != want:
        fail("sesame %s: exit %d\n%s%s" % (" ".join(args), p.returncode, p.stdout, p.stderr))


def start(prefix):
    """The agent, under prefix (strace) if any; returns once status answers."""
    global agent, agent_pid
    # agent_pid is the agent's own (strace's child), for SIGTERM; strace makes its start slow
    agent, agent_pid = ap.start_agent(AGENT, env, SOCK, agent_log, fail, prefix, 120)


def stop():
    """SIGTERM to the agent itself: strace then writes the rest of its trace and ends."""
    global agent
    agent = ap.stop_agent(agent, agent_pid)


def counters(s):
    """Every person's attempts left, from one page and from resolving each name."""
    ap.send(s, {"v": 1, "op": "users"})
    page = ap.recv(s)
    if not page.get("ok"):
        fail("users: %r" % page)
    seen = {u["name"]: u["attempts_left"] for u in page["users"]}
    for name in PINS:
        ap.send(s, {"v": 1, "op": "resolve", "user": name})
        r = ap.recv(s)
        if not r.get("ok") or r["attempts_left"] != seen.get(name):
            fail("resolve %s: %r against the page's %r" % (name, r, seen.get(name)))
    return seen


def marker(s, what):
    ap.send(s, {"v": 1, "op": "status", "marker": "loopio-" + what})
    if not ap.recv(s).get("ok"):
        fail("status")


def between_markers(lines, first, last):
    """The trace between two marker requests (strace shows their quotes escaped)."""
    def at(name):
        return next(i for i, l in enumerate(lines) if re.search(r'loopio-%s\\?"' % name, l))
    return lines[at(first):at(last)]


def main():
    with open(env["SESAME_CONFIG"], "w") as f:
        f.write("kdf_passes = 1\nkdf_memory_mib = 8\npin_retries = %d\n" % RETRIES)
    sesame(["init"], None, True)
    start([])
    for name, pin in PINS.items():
        sesame(["enroll", name, "--pin-fd", "0"], pin + "\n" + pin + "\n", True)
    sesame(["unlock", "Bob", "--pin-fd", "0"], WRONG + "\n", False)
    stop()

    start(["strace", "-f", "-qq", "-s", "128", "-e", "trace=openat,open,recvmsg,getpid,fsync,fdatasync",
           "-o", trace])
    with ap.connect(SOCK, 120) as s:
        want = {"Alice": RETRIES, "Bob": RETRIES - 1, "Chloe": RETRIES}
        if counters(s) != want:  # waits for the index, loaded on a thread
            fail("counters as loaded: %r, not %r" % (counters(s), want))
        marker(s, "begin")
        for _ in range(ROUNDS):
            counters(s)
            marker(s, "round")
        marker(s, "end")
        # a wrong PIN counted by a PIN job shows at once, without the file being read back
        sesame(["unlock", "Chloe", "--pin-fd", "0"], WRONG + "\n", False)
        want["Chloe"] = RETRIES - 1
        if counters(s) != want:
            fail("counters after a wrong PIN: %r, not %r" % (counters(s), want))
        marker(s, "unlock")
        sesame(["unlock", "Bob", "--pin-fd", "0"], PINS["Bob"] + "\n", True)
        marker(s, "unlocked")
        want["Bob"] = RETRIES
        if counters(s) != want:
            fail("counters after an unlock: %r, not %r" % (counters(s), want))
    stop()

    with open(trace) as f:
        all_lines = f.read().splitlines()
    syncs = [l for l in between_markers(all_lines, "unlock", "unlocked")
             if re.search(r"\b(fsync|fdatasync)\(", l)]
    if len(syncs) != UNLOCK_SYNCS:
        fail("%d syncs for an unlock, not %d:\n%s" % (len(syncs), UNLOCK_SYNCS, "\n".join(syncs)))
    lines = between_markers(all_lines, "begin", "end")
    reads = sum(1 for l in lines if "recvmsg(" in l and "loopio-round" in l)
    if reads != ROUNDS:
        fail("the trace does not show the %d rounds (%d): strace lost lines?" % (ROUNDS, reads))
    opened = [l for l in lines if re.search(r"open(at)?\(.*\.vault", l)]
    if opened:
        fail("%d vault files opened for %d reading requests, e.g. %s" %
             (len(opened), ROUNDS * (1 + len(PINS)), opened[0]))
    pids = [l for l in lines if "getpid(" in l]
    if len(pids) > 1:
        fail("getpid called %d times for %d status requests" % (len(pids), ROUNDS + 1))
    print("loopio: ok")


try:
    main()
finally:
    stop()
    shutil.rmtree(tmp, ignore_errors=True)
