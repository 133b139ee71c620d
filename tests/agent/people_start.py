#!/usr/bin/env python3
"""Status is answered while the index of people loads (standard library and strace).

The agent starts without the index's cache, under strace, each of its openings of a vault file
delayed, so that loading the index takes several times what one unhindered start took. A
resolve is sent on one connection, then status on another: status is answered first, saying
the index still loads, and the resolve is then answered with the right person. If the load
ended before status was read (a machine stalled that long), the delay doubles and the run is
repeated: the test fails for a wrong order, never for a slow machine.

    people_start.py SESAME SESAME_AGENT
"""
import json
import os
import select
import shutil
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import agentproto as ap  # noqa: E402

SESAME, AGENT = sys.argv[1], sys.argv[2]
PEOPLE = 12
PIN = "482916"
SLOWER = 8        # the delayed load takes at least this many unhindered starts
TRIES = 8         # each one doubling the delay
tmp = tempfile.mkdtemp(prefix="sesame-pstart.")
agent_log = os.path.join(tmp, "agent.log")
agent = None
agent_pid = None
env = ap.test_env(tmp)
SOCK = env["SESAME_AGENT_SOCK"]
VAULTS = os.path.join(env["SESAME_HOME"], "vaults")
CACHE = os.path.join(VAULTS, "people.cache")
fail = ap.failer(agent_log)


def sesame(args, stdin=None):
    p = subprocess.run([SESAME, *args], input=stdin, env=env, capture_output=True, text=True,
                       timeout=240)
    if p.returncode != 0:
        fail("sesame %s: exit %d\n%s%s" % (" ".join(args), p.returncode, p.stdout, p.stderr))
    return p.stdout


def start(prefix):
    global agent, agent_pid
    if os.path.exists(CACHE):
        os.unlink(CACHE)  # every vault file is then read
    agent, agent_pid = ap.start_agent(AGENT, env, SOCK, agent_log, fail, prefix, 600)


def stop():
    global agent
    agent = ap.stop_agent(agent, agent_pid, 120)


def traced(files, delay_us):
    """strace delaying each opening of one of files (by the name the loader opens)."""
    cmd = ["strace", "-f", "-qq", "-o", os.devnull, "-e", "trace=openat"]
    if delay_us:
        cmd += ["-e", "inject=openat:delay_enter=%d" % delay_us]
    for f in files:
        cmd += ["-P", f]
    return cmd


def unhindered_load_s(files):
    """How long one start under strace, no delay, takes until the index answers."""
    t0 = time.monotonic()
    start(traced(files, 0))
    with ap.connect(SOCK, 60) as s:
        ap.send(s, {"v": 1, "op": "users"})
        if not ap.recv(s).get("ok"):
            fail("users")
    took = time.monotonic() - t0
    stop()
    return took


def once(ids, files, delay_us):
    """One delayed start: True if status was answered while the index loaded (and first),
    False if the load ended before status was read."""
    start(traced(files, delay_us))
    name = sorted(ids)[len(ids) // 2]
    with ap.connect(SOCK, 60) as r, ap.connect(SOCK, 60) as s:
        ap.send(r, {"v": 1, "op": "resolve", "user": name})
        ap.send(s, {"v": 1, "op": "status"})
        ready, _, _ = select.select([r, s], [], [], 600)
        resolve_first = r in ready and s not in ready
        status = ap.recv(s)
        if not status.get("ok"):
            fail("status: %r" % status)
        loading = status["agent"]["people_loading"]
        if loading and resolve_first:
            fail("the resolve was answered before status, which the loading index delayed")
        got = ap.recv(r)
        if not got.get("ok") or got["user"] != ids[name]:
            fail("resolve %s: %r, enrolled as %s" % (name, got, ids[name]))
    stop()
    return loading


def main():
    with open(env["SESAME_CONFIG"], "w") as f:
        f.write("kdf_passes = 1\nkdf_memory_mib = 8\n")
    sesame(["init"])
    agent_start = ap.start_agent(AGENT, env, SOCK, agent_log, fail, (), 60)
    global agent, agent_pid
    agent, agent_pid = agent_start
    ids = {}
    for i in range(PEOPLE):
        name = "Personne %02d" % i
        ids[name] = json.loads(sesame(["enroll", name, "--pin-fd", "0", "--json"],
                                      PIN + "\n"))["user"]
    stop()
    files = [u + ".vault" for u in ids.values()]
    delay_us = int(SLOWER * unhindered_load_s(files) * 1e6 / PEOPLE) + 1
    for _ in range(TRIES):
        if once(ids, files, delay_us):
            print("people_start: ok (%d us per vault file)" % delay_us)
            return
        delay_us *= 2
    fail("the index never loaded slower than status was answered, even %d us per file" %
         delay_us)


try:
    main()
finally:
    stop()
    shutil.rmtree(tmp, ignore_errors=True)
