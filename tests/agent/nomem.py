#!/usr/bin/env python3
"""Allocation failures never leave a connection busy forever nor end the agent.

The agent runs under failalloc.so (LD_PRELOAD): while a trigger file exists, one allocation in
N fails (N = 7, 23, 61 in turn, so that failures land at many points of a request). Meanwhile clients send status, users and list requests, and malformed frames, on
fresh connections: each must get a reply (an error is fine) or see its connection closed, within
the agent's own bound for a wait (10 s) and twice that for slack; the agent must stay alive. With
the trigger gone, the agent serves as before and stops on SIGTERM.
Requests that write the audit log or count PIN attempts are left out: a failed record or a lost
attempt is the subject of other tests.

    nomem.py SESAME SESAME_AGENT FAILALLOC_SO
"""
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import agentproto as ap  # noqa: E402

PIN = "482916"
REQUESTS = 150  # per rate
RATES = (7, 23, 61)
AGENT_WAIT_S = 10  # AGENT_CONN_WAIT_MS: the agent's bound on any wait for a client
ANSWER_S = 2 * AGENT_WAIT_S

SESAME, AGENT, SHIM = sys.argv[1], sys.argv[2], os.path.abspath(sys.argv[3])
tmp = tempfile.mkdtemp(prefix="sesame-at.")
agent = None
agent_log = os.path.join(tmp, "agent.log")
trigger = os.path.join(tmp, "fail-now")
env = ap.test_env(tmp)
SOCK = env["SESAME_AGENT_SOCK"]
fail = ap.failer(agent_log)


def sesame(*args, stdin=None):
    p = subprocess.run([SESAME, *args], input=stdin, env=env, capture_output=True, text=True,
                       timeout=240)
    if p.returncode != 0:
        fail("sesame %s: exit %d\n%s%s" % (" ".join(args), p.returncode, p.stdout, p.stderr))
    return p.stdout


def one(i):
    """Request i under allocation failures: 'reply' or 'closed', never a hang."""
    reqs = [{"v": 1, "op": "status"}, {"v": 1, "op": "users"},
            {"v": 1, "op": "list", "user": "Alice"}]
    try:
        s = ap.connect(SOCK, ANSWER_S)
    except OSError as e:
        fail("request %d: cannot connect: %s" % (i, e))
    with s:
        try:
            if i % 10 == 9:
                s.sendall(struct.pack(">I", 3) + b"{x}")  # malformed: closed
            else:
                ap.send(s, reqs[i % len(reqs)])
            ap.recv(s)
            return "reply"
        except (ap.Closed, BrokenPipeError, ConnectionResetError):
            return "closed"
        except socket.timeout:
            fail("request %d: neither a reply nor a close within %d s: the connection is "
                 "stuck" % (i, ANSWER_S))


def main():
    global agent
    os.makedirs(os.path.join(tmp, "run"), mode=0o700)
    with open(env["SESAME_CONFIG"], "w") as f:
        f.write("kdf_passes = 1\nkdf_memory_mib = 8\n")
    sesame("init")
    for rate in RATES:
        env["LD_PRELOAD"] = SHIM
        env["SESAME_FAILALLOC_WHEN"] = trigger
        env["SESAME_FAILALLOC_EVERY"] = str(rate)
        agent, _ = ap.start_agent(AGENT, env, SOCK, agent_log, fail)
        del env["LD_PRELOAD"]
        if rate == RATES[0]:
            sesame("enroll", "Alice", "--pin-fd", "0", stdin=PIN + "\n")
        sesame("unlock", "Alice", "--pin-fd", "0", stdin=PIN + "\n")
        fault_phase(rate)
        out = sesame("list", "Alice")
        if "Services of Alice" not in out:
            fail("after the failures, list Alice: %s" % out)
        sesame("lock", "Alice")
        stop()
    print("nomem: ok")


def fault_phase(rate):
    open(trigger, "w").close()
    seen = {"reply": 0, "closed": 0}
    for i in range(REQUESTS):
        seen[one(i)] += 1
        if agent.poll() is not None:
            fail("the agent ended (%d) under allocation failures (1 in %d), at request %d" %
                 (agent.returncode, rate, i))
    os.unlink(trigger)
    print("1 allocation in %d failing: %d replies, %d connections closed" %
          (rate, seen["reply"], seen["closed"]))
    if seen["closed"] == 0 and seen["reply"] == 0:
        fail("no request was answered or closed")


def stop():
    agent.send_signal(signal.SIGTERM)
    try:
        agent.wait(2 * 15)  # AGENT_STOP_MAX_S, doubled
    except subprocess.TimeoutExpired:
        fail("the agent did not stop after SIGTERM")


try:
    main()
finally:
    if agent is not None and agent.poll() is None:
        agent.kill()
        agent.wait()
    shutil.rmtree(tmp, ignore_errors=True)
