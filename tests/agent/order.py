#!/usr/bin/env python3
"""Status never waits behind other clients' requests (standard library and strace).

The agent runs under strace and is stopped (SIGSTOP). One connection, the oldest, sends status;
CLIENTS newer ones each send a page of people. The agent is let go (SIGCONT): it finds every
request waiting at once, and must write the status reply before any page, although it reads
the oldest connection last. Without the run queue it answered each request as it read it, the
status last of all. Then every client must still have its own reply, and those first pages,
with no damaged vault file to read again, must have mapped and unmapped no guarded memory.

    order.py SESAME SESAME_AGENT
"""
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import agentproto as ap  # noqa: E402

SESAME, AGENT = sys.argv[1], sys.argv[2]
CLIENTS = 32  # under the share of connections one worker may hold (AGENT_CONNS_PER_UID)
tmp = tempfile.mkdtemp(prefix="sesame-order.")
trace = os.path.join(tmp, "agent.trace")
agent_log = os.path.join(tmp, "agent.log")
agent = None
agent_pid = None
env = ap.test_env(tmp)
SOCK = env["SESAME_AGENT_SOCK"]
fail = ap.failer(agent_log)


def start():
    """The agent under strace; returns once status answers."""
    global agent, agent_pid
    # agent_pid is the agent's own (strace's child), for the signals; strace makes its start slow
    agent, agent_pid = ap.start_agent(
        AGENT, env, SOCK, agent_log, fail,
        ["strace", "-f", "-qq", "-s", "48", "-e", "trace=write,recvmsg,munmap", "-o", trace], 120)


def stop():
    """SIGTERM to the agent itself, which the test may have stopped: strace then writes the
    rest of its trace and ends."""
    global agent
    agent = ap.stop_agent(agent, agent_pid, stopped=True)


def stopped(pid):
    """True once the process is in the stopped state (T in /proc/PID/stat)."""
    with open("/proc/%d/stat" % pid) as f:
        return f.read().rsplit(")", 1)[1].split()[0] in ("T", "t")


def main():
    p = subprocess.run([SESAME, "init"], env=env, capture_output=True, text=True, timeout=120)
    if p.returncode != 0:
        fail("sesame init: %s%s" % (p.stdout, p.stderr))
    start()
    first = ap.connect(SOCK)
    others = [ap.connect(SOCK) for _ in range(CLIENTS)]
    for s in [first] + others:  # every connection accepted, the index loaded, before the stop
        ap.send(s, {"v": 1, "op": "users", "limit": 1})
        if not ap.recv(s).get("ok"):
            fail("users before the stop")
    ap.send(first, {"v": 1, "op": "status", "marker": "order-stop"})
    ap.recv(first)
    os.kill(agent_pid, signal.SIGSTOP)
    while not stopped(agent_pid):
        time.sleep(0.01)
    ap.send(first, {"v": 1, "op": "status"})
    for s in others:
        ap.send(s, {"v": 1, "op": "users", "limit": 1})
    os.kill(agent_pid, signal.SIGCONT)
    if not ap.recv(first).get("ok"):
        fail("status after the stop")
    for s in others:
        if "users" not in ap.recv(s):
            fail("a page went to the wrong client, or none came")
    ap.send(first, {"v": 1, "op": "status", "marker": "order-end"})
    ap.recv(first)
    stop()
    with open(trace) as f:
        lines = f.read().splitlines()
    start_at = next((i for i, l in enumerate(lines) if "order-stop" in l), None)
    if start_at is None:
        fail("the trace does not show the marker")
    end_at = next((i for i, l in enumerate(lines) if "order-end" in l), None)
    if end_at is None:
        fail("the trace does not show the end marker")
    lines = lines[:end_at]
    replies = [l for l in lines[start_at + 1:] if re.search(r'write\(\d+, "\\0', l)]
    kinds = ["status" if '\\"agent\\":' in l else "page" for l in replies]
    if kinds.count("status") < 2 or kinds.count("page") < CLIENTS:  # the marker's, then ours
        fail("the trace shows %d replies, not the %d sent: %r" % (len(kinds), CLIENTS + 2, kinds))
    if kinds[1] != "status":
        fail("status was answered after %d pages of other clients" %
             kinds[1:].index("status"))
    unmapped = [l for l in lines[start_at + 1:] if "munmap(" in l]
    if unmapped:
        fail("%d first pages unmapped memory %d times, e.g. %s" %
             (CLIENTS, len(unmapped), unmapped[0]))
    print("order: ok")


try:
    main()
finally:
    stop()
    shutil.rmtree(tmp, ignore_errors=True)
