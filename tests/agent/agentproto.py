"""The agent protocol from the client's side, for the agent scenarios (standard library only).

A message is a 4-byte big-endian length and one JSON object with "v": 1 (docs/protocol.md).
As a program: agentproto.py SOCKET 'JSON' sends one request and prints the reply, or CLOSED if
the agent closed the connection without a reply (exit 0 either way, 1 on other errors). A reply
with a new recovery key is acknowledged (recovery_shown), as every client must for the change to
stand.
"""
import json
import os
import signal
import socket
import struct
import subprocess
import sys
import time


class Closed(Exception):
    """The agent closed the connection."""


def connect(path, timeout=30.0):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.connect(path)
    return s


def frame(obj):
    body = json.dumps(obj).encode()
    return struct.pack(">I", len(body)) + body


def send(s, obj):
    s.sendall(frame(obj))


def recv_exact(s, n):
    buf = b""
    while len(buf) < n:
        try:
            chunk = s.recv(n - len(buf))
        except ConnectionResetError:
            chunk = b""
        if not chunk:
            raise Closed()
        buf += chunk
    return buf


def recv(s):
    (n,) = struct.unpack(">I", recv_exact(s, 4))
    return json.loads(recv_exact(s, n))


def call(path, obj, timeout=30.0):
    """One request on a fresh connection; the reply (a dict)."""
    with connect(path, timeout) as s:
        send(s, obj)
        return recv(s)


def key_shown(s, reply):
    """Acknowledge a reply's new recovery key on s, as a client does once it has shown it; the
    acknowledgment's reply (None when the reply had no key)."""
    if not reply.get("ok") or "recovery" not in reply:
        return None
    send(s, {"v": 1, "op": "recovery_shown"})
    return recv(s)


def changed(s, obj):
    """An enroll or recover on s, acknowledged; the request's reply."""
    send(s, obj)
    reply = recv(s)
    ack = key_shown(s, reply)
    if ack is not None and not ack.get("ok"):
        return ack
    return reply


def closed_without_reply(s, timeout=5.0):
    """True if the agent closes s without sending a byte, within timeout."""
    s.settimeout(timeout)
    try:
        data = s.recv(1)
    except ConnectionResetError:
        return True
    except socket.timeout:
        return False
    return data == b""


def now_ms():
    return time.monotonic() * 1000.0


def test_env(tmp):
    """The environment of a throw-away installation under tmp, whose agent the test starts:
    never one on demand (it would outlive the test), and no D-Bus session."""
    env = dict(os.environ)
    env.update({
        "SESAME_HOME": os.path.join(tmp, "home"),
        "SESAME_CONFIG": os.path.join(tmp, "sesame.conf"),
        "SESAME_AGENT_SOCK": os.path.join(tmp, "run", "agent.sock"),
        "XDG_RUNTIME_DIR": os.path.join(tmp, "run"),
        "XDG_CONFIG_HOME": os.path.join(tmp, "config"),
        "HOME": tmp,
        "DBUS_SESSION_BUS_ADDRESS": "unix:path=/nonexistent",
        "SESAME_AGENT_PROGRAM": "/bin/false",
        "LC_ALL": "C.UTF-8",
    })
    return env


def failer(log_path):
    """A fail(msg) that prints msg and the agent log's tail, then exits 1."""
    def fail(msg):
        print("FAIL:", msg, file=sys.stderr)
        if os.path.exists(log_path):
            with open(log_path) as f:
                tail = f.read()[-4000:]
            if tail:
                print("--- agent log\n" + tail, file=sys.stderr)
        raise SystemExit(1)
    return fail


def start_agent(program, env, sock, log_path, fail, prefix=(), wait_s=10.0):
    """Start the agent (under prefix, e.g. strace, if any), its output to log_path; return
    (process, the agent's own pid from its status) once its status answers."""
    log = open(log_path, "ab")
    agent = subprocess.Popen([*prefix, program], env=env, stdout=log, stderr=log)
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        if agent.poll() is not None:
            fail("the agent exited at start with %d" % agent.returncode)
        try:
            r = call(sock, {"v": 1, "op": "status"}, 2)
            if r["ok"]:
                return agent, r["agent"]["pid"]
        except (OSError, Closed):
            pass
        time.sleep(0.05)
    fail("the agent does not answer")


def stop_agent(agent, pid, wait_s=60, stopped=False):
    """SIGTERM to the agent itself, pid (when agent is strace running it, strace then writes
    the rest of its trace and ends); SIGCONT first if the test stopped it. Kills what did not
    end within wait_s, and raises. Returns None, for the caller's variable."""
    if agent is not None and agent.poll() is None:
        try:
            if stopped:
                os.kill(pid, signal.SIGCONT)
            os.kill(pid, signal.SIGTERM)
            agent.wait(wait_s)
        except (OSError, subprocess.TimeoutExpired):
            agent.kill()
            raise
    return None


def main():
    if len(sys.argv) != 3:
        print("usage: agentproto.py SOCKET JSON", file=sys.stderr)
        return 2
    try:
        s = connect(sys.argv[1], 10)
    except OSError as e:
        print("ERROR", e)
        return 1
    with s:
        try:
            reply = changed(s, json.loads(sys.argv[2]))
            print(json.dumps(reply))
        except (Closed, BrokenPipeError, ConnectionResetError):
            print("CLOSED")  # the agent hung up, before or after the request was sent
    return 0


if __name__ == "__main__":
    sys.exit(main())
