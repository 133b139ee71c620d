"""What the browser tests share (standard library only): the browser they drive, skipping
without it; a private directory and the environment that points sesame and its agent into it;
and the agent's start, ready once its socket answers status.
"""
import json
import os
import socket
import struct
import subprocess
import sys
import tempfile
import time

BROWSER = os.environ.get("SESAME_TEST_BROWSER", "/usr/bin/chromium")
# kdf costs for tests; loopback http for pages.py's servers
CONFIG = "kdf_passes = 1\nkdf_memory_mib = 8\nallow_http_loopback = yes\nbrowser = %s\n" % BROWSER
# The agent's start: a socket that answers status within this (a busy machine starts slowly;
# the bound only keeps an agent that never listens from hanging the suite).
AGENT_START_S = 30


def need(*tools):
    """Exit 77 (skip) unless the browser and every tool can be run."""
    missing = [t for t in (BROWSER,) + tools if not os.access(t, os.X_OK)]
    if missing:
        print("SKIP: missing " + " ".join(missing))
        sys.exit(77)


def private_env(prefix, dirs=("run", "config", "home", "out")):
    """A 0700 directory with dirs in it, and an environment whose installation, socket and
    homes are there; no display, no session bus, no browser of the caller's."""
    tmp = tempfile.mkdtemp(prefix=prefix)
    os.chmod(tmp, 0o700)
    for d in dirs:
        os.mkdir(os.path.join(tmp, d), 0o700)
    env = {k: v for k, v in os.environ.items()
           if k not in ("DISPLAY", "WAYLAND_DISPLAY", "XAUTHORITY", "SESAME_BROWSER",
                        "SESAME_BROWSER_FLAGS")}
    env.update({
        "SESAME_HOME": tmp + "/data", "SESAME_CONFIG": tmp + "/sesame.conf",
        "SESAME_AGENT_SOCK": tmp + "/run/agent.sock", "XDG_RUNTIME_DIR": tmp + "/run",
        "XDG_CONFIG_HOME": tmp + "/config", "XDG_DATA_HOME": tmp + "/home/data",
        "HOME": tmp + "/home", "LC_ALL": "C.UTF-8", "LANG": "C.UTF-8", "LANGUAGE": "",
        "SESAME_AGENT_PROGRAM": "/bin/false",
        "DBUS_SESSION_BUS_ADDRESS": "unix:path=/nonexistent",
    })
    return tmp, env


def status_ok(sock):
    """True when the agent at sock answers status."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(10)
    try:
        s.connect(sock)
        body = json.dumps({"v": 1, "op": "status"}).encode()
        s.sendall(struct.pack(">I", len(body)) + body)
        head = s.recv(4, socket.MSG_WAITALL)
        if len(head) != 4:
            return False
        return json.loads(s.recv(struct.unpack(">I", head)[0], socket.MSG_WAITALL)).get("ok")
    except (OSError, ValueError):
        return False
    finally:
        s.close()


def start_agent(program, env, log, fail):
    """The agent, its output to log (a file), once it answers status; fail(message) else."""
    agent = subprocess.Popen([program], stdout=log, stderr=subprocess.STDOUT, env=env)
    end = time.monotonic() + AGENT_START_S
    while time.monotonic() < end:
        if agent.poll() is not None:
            fail("the agent exited at start with %d" % agent.returncode)
        if os.path.exists(env["SESAME_AGENT_SOCK"]) and status_ok(env["SESAME_AGENT_SOCK"]):
            return agent
        time.sleep(0.05)
    fail("the agent does not answer on %s" % env["SESAME_AGENT_SOCK"])
