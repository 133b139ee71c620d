#!/usr/bin/env python3
"""A history is read off the agent's loop (standard library only).

A person's history reads the whole log; on a log of BIG records that takes long. Once the
history's PIN record is in the log (the read starts right after it), a status sent on another
connection must be answered before the history's reply: the loop answers while the log is
read. The history must still give the person's own records, and count the others as none of
theirs. Ordered events, no timing.

    history_loop.py SESAME SESAME_AGENT BIGLOG
"""
import os
import shutil
import socket
import subprocess
import sys
import tempfile

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import agentproto as ap  # noqa: E402

BIG = 400000  # records of other people: their read takes far longer than a status
PIN = "482916"
SESAME, AGENT, BIGLOG = sys.argv[1:4]
tmp = tempfile.mkdtemp(prefix="sesame-hl.")
agent = None
agent_log = os.path.join(tmp, "agent.log")
env = ap.test_env(tmp)
SOCK = env["SESAME_AGENT_SOCK"]
LOG = os.path.join(env["SESAME_HOME"], "audit", "audit.log")

fail = ap.failer(agent_log)


def run(*cmd, stdin=None):
    p = subprocess.run(list(cmd), input=stdin, env=env, capture_output=True, text=True,
                       timeout=600)
    if p.returncode != 0:
        fail("%s: exit %d\n%s%s" % (" ".join(cmd), p.returncode, p.stdout, p.stderr))
    return p.stdout


def stop_agent():
    agent.terminate()
    agent.wait(timeout=60)


def pin_ok_after(offset, user):
    """The history's own PIN record, past offset: the read of the log begins once it is in."""
    with open(LOG, "rb") as f:
        f.seek(offset)
        return any(b'"event":"pin_ok"' in line and user.encode() in line for line in f)


def main():
    global agent
    os.makedirs(os.path.join(tmp, "run"), mode=0o700)
    with open(env["SESAME_CONFIG"], "w") as f:
        f.write("kdf_passes = 1\nkdf_memory_mib = 8\n")
    run(SESAME, "init")
    agent, _ = ap.start_agent(AGENT, env, SOCK, agent_log, fail)
    run(SESAME, "enroll", "Marie", "--pin-fd", "0", stdin=PIN + "\n")
    user = ap.call(SOCK, {"v": 1, "op": "resolve", "user": "Marie"})["user"]
    stop_agent()
    run(BIGLOG, str(BIG))
    # its start reads the stored tree, not the records; the bound is for a loaded machine
    agent, _ = ap.start_agent(AGENT, env, SOCK, agent_log, fail, wait_s=120.0)

    offset = os.path.getsize(LOG)
    hist = ap.connect(SOCK, 600)
    ap.send(hist, {"v": 1, "op": "history", "user": user, "pin": PIN})
    while not pin_ok_after(offset, user):
        pass
    r = ap.call(SOCK, {"v": 1, "op": "status"}, 600)
    if not r.get("ok"):
        fail("status: %r" % r)
    # the status is answered: the history's reply must not be there yet
    hist.setblocking(False)
    try:
        early = hist.recv(1, socket.MSG_PEEK)
    except BlockingIOError:
        early = b""
    if early:
        fail("the history was answered before a status sent while the log was read: the "
             "loop read the log")
    hist.setblocking(True)
    hist.settimeout(600)
    reply = ap.recv(hist)
    if not reply.get("ok") or reply.get("name") != "Marie":
        fail("history: %r" % {k: reply.get(k) for k in ("ok", "code", "error", "name")})
    events = [r.split('"event":"')[1].split('"')[0] for r in reply["records"]]
    if events[0] != "user_enrolled" or events[-1] != "pin_ok" or reply["earlier"] != 0:
        fail("the history is not Marie's own records: %r, earlier %r"
             % (events, reply["earlier"]))
    if any(user not in r for r in reply["records"]):
        fail("the history holds another person's records")
    stop_agent()
    shutil.rmtree(tmp)
    print("PASS: history off the loop")


try:
    main()
finally:
    if agent is not None and agent.poll() is None:
        agent.kill()
        agent.wait()
