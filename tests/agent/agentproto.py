"""The agent protocol from the client's side, for the agent scenarios (standard library only).

A message is a 4-byte big-endian length and one JSON object with "v": 1 (docs/protocol.md).
As a program: agentproto.py SOCKET 'JSON' sends one request and prints the reply, or CLOSED if
the agent closed the connection without a reply (exit 0 either way, 1 on other errors).
"""
import json
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


def start_agent(program, env, sock, log_path, fail):
    """Start the agent, its output to log_path, and return it once its status answers."""
    log = open(log_path, "ab")
    agent = subprocess.Popen([program], env=env, stdout=log, stderr=log)
    for _ in range(200):
        if agent.poll() is not None:
            fail("the agent exited at start with %d" % agent.returncode)
        try:
            if call(sock, {"v": 1, "op": "status"}, 2)["ok"]:
                return agent
        except (OSError, Closed):
            pass
        time.sleep(0.05)
    fail("the agent does not answer")


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
            send(s, json.loads(sys.argv[2]))
            print(json.dumps(recv(s)))
        except (Closed, BrokenPipeError, ConnectionResetError):
            print("CLOSED")  # the agent hung up, before or after the request was sent
    return 0


if __name__ == "__main__":
    sys.exit(main())
