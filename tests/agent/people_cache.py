#!/usr/bin/env python3
"""The people index's cache (docs/format.md, "People cache"), against a real agent under strace.

After a start that wrote the cache, the next start opens no vault file, and list and unlock by
name still work. A file changed meanwhile, replaced by a copy of itself or by an older copy, or
removed, is read again or dropped, and nothing else is read; a damaged cache, or another
installation's, is refused with one line and every file is read. A withdrawal removes the
cache. Each start's vault files are counted from the trace, up to a marker request sent once
the index answers.

    people_cache.py SESAME SESAME_AGENT
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import agentproto as ap  # noqa: E402

SESAME, AGENT = sys.argv[1], sys.argv[2]
PEOPLE = 30
PIN = "482916"
WRONG = "111111"
RETRIES = 5
tmp = tempfile.mkdtemp(prefix="sesame-pcache.")
trace = os.path.join(tmp, "agent.trace")
agent_log = os.path.join(tmp, "agent.log")
agent = None
agent_pid = None
env = ap.test_env(tmp)
SOCK = env["SESAME_AGENT_SOCK"]
VAULTS = os.path.join(env["SESAME_HOME"], "vaults")
CACHE = os.path.join(VAULTS, "people.cache")
CACHE_LINE = "people cache"
fail = ap.failer(agent_log)


def name_of(i):
    return "Élodie Personne %02d" % i


def sesame(args, stdin=None, want=True, e=None):
    p = subprocess.run([SESAME, *args], input=stdin, env=e or env, capture_output=True,
                       text=True, timeout=240)
    if (p.returncode == 0) != want:
        fail("sesame %s: exit %d\n%s%s" % (" ".join(args), p.returncode, p.stdout, p.stderr))
    return p.stdout


def start(traced):
    """The agent, under strace if traced; returns once status answers."""
    global agent, agent_pid
    prefix = ["strace", "-f", "-qq", "-s", "128", "-e", "trace=openat,open,recvmsg",
              "-o", trace] if traced else []
    agent, agent_pid = ap.start_agent(AGENT, env, SOCK, agent_log, fail, prefix, 120)


def stop():
    """SIGTERM to the agent itself: strace then writes the rest of its trace and ends."""
    global agent
    agent = ap.stop_agent(agent, agent_pid)


def index_then_marker(s):
    """Waits for the index (a page waits for it), then marks the trace."""
    ap.send(s, {"v": 1, "op": "users", "limit": 200})
    page = ap.recv(s)
    if not page.get("ok"):
        fail("users: %r" % page)
    ap.send(s, {"v": 1, "op": "status", "marker": "pcache-loaded"})
    if not ap.recv(s).get("ok"):
        fail("status")
    return {u["name"]: u for u in page["users"]}


def opened_at_start():
    """The vault files (ids) the agent opened before the marker; and whether it opened the
    cache."""
    with open(trace) as f:
        lines = f.read().splitlines()
    end = next((i for i, l in enumerate(lines) if re.search(r'pcache-loaded\\?"', l)), None)
    if end is None:
        fail("the trace does not show the marker: strace lost lines?")
    ids = set()
    for l in lines[:end]:
        m = re.search(r'open(?:at)?\(.*"([0-9a-f]{32})\.vault"', l)
        if m:
            ids.add(m.group(1))
    return ids, any("people.cache\"" in l for l in lines[:end])


def traced_start(want_opened, what):
    """A start under strace: the vault files read must be exactly want_opened; every name
    resolves to its person. Returns the page (name -> person)."""
    start(True)
    with ap.connect(SOCK, 120) as s:
        page = index_then_marker(s)
        for name, u in page.items():
            ap.send(s, {"v": 1, "op": "resolve", "user": name})
            r = ap.recv(s)
            if not r.get("ok") or r["user"] != u["user"] or r["user"] != ids[name]:
                fail("%s: %s resolves to %r, enrolled as %s" % (what, name, r, ids[name]))
    stop()
    opened, cache_opened = opened_at_start()
    if not cache_opened:
        fail("%s: the start did not even open the cache" % what)
    if opened != set(want_opened):
        fail("%s: the start read %d vault files %s, not %d %s" %
             (what, len(opened), sorted(opened), len(want_opened), sorted(want_opened)))
    return page


def cache_lines():
    with open(agent_log) as f:
        return [l for l in f.read().splitlines() if CACHE_LINE in l]


def other_installation_cache():
    """The cache of another installation (its own device secret), with one person."""
    other = os.path.join(tmp, "other")
    os.makedirs(os.path.join(other, "run"), mode=0o700)
    e = ap.test_env(other)
    with open(e["SESAME_CONFIG"], "w") as f:
        f.write("kdf_passes = 1\nkdf_memory_mib = 8\n")
    sesame(["init"], e=e)
    log = open(agent_log, "ab")
    p = subprocess.Popen([AGENT], env=e, stdout=log, stderr=log)
    try:
        for _ in range(1200):  # its index, loaded on a thread, before the enrolment
            try:
                if ap.call(e["SESAME_AGENT_SOCK"], {"v": 1, "op": "users"}, 2).get("ok"):
                    break
            except (OSError, ap.Closed):
                pass
            p.poll() is None or fail("the other installation's agent exited")
            time.sleep(0.05)
        sesame(["enroll", "Autre Personne", "--pin-fd", "0"], PIN + "\n", e=e)
    finally:
        p.terminate()
        p.wait(60)
    path = os.path.join(e["SESAME_HOME"], "vaults", "people.cache")
    if not os.path.exists(path):
        fail("the other installation wrote no cache")
    return path


ids = {}


def main():
    with open(env["SESAME_CONFIG"], "w") as f:
        f.write("kdf_passes = 1\nkdf_memory_mib = 8\npin_retries = %d\n" % RETRIES)
    sesame(["init"])
    start(False)
    for i in range(PEOPLE):
        out = sesame(["enroll", name_of(i), "--pin-fd", "0", "--json"], PIN + "\n")
        ids[name_of(i)] = json.loads(out)["user"]
    stop()
    every = set(ids.values())
    a, b, c = ids[name_of(5)], ids[name_of(7)], ids[name_of(9)]
    older = os.path.join(tmp, "older.vault")
    shutil.copy2(os.path.join(VAULTS, a + ".vault"), older)  # cp -p

    # The first start after the enrolments reads every file, and writes the cache.
    traced_start(every, "after enrolments")
    # Then none: list and unlock by name still work.
    traced_start(set(), "with a fresh cache")
    # A file replaced by a copy of itself (cp -p: the same bytes, size and mtime; another inode
    # and change time) is read again: only its whole identity vouches for its content.
    twin = os.path.join(tmp, "twin.vault")
    shutil.copy2(os.path.join(VAULTS, a + ".vault"), twin)
    os.rename(twin, os.path.join(VAULTS, a + ".vault"))
    traced_start({a}, "after a file was replaced by a copy of itself")
    start(False)
    listed = sesame(["list", "--json"])
    if len(json.loads(listed)["users"]) != PEOPLE:
        fail("sesame list: %s" % listed)
    sesame(["unlock", name_of(7), "--pin-fd", "0"], PIN + "\n")
    sesame(["lock"])
    sesame(["unlock", name_of(5), "--pin-fd", "0"], WRONG + "\n", want=False)
    stop()
    if cache_lines():
        fail("a missing or good cache was reported: %r" % cache_lines())

    # The two vault files the agent rewrote (an unlock, a wrong PIN) are read again.
    page = traced_start({a, b}, "after an unlock and a wrong PIN")
    if page[name_of(5)]["attempts_left"] != RETRIES - 1:
        fail("the wrong PIN is not counted: %r" % page[name_of(5)])
    # An older copy of a file put back (same mtime, same size), a vault file removed.
    os.rename(older, os.path.join(VAULTS, a + ".vault"))
    os.unlink(os.path.join(VAULTS, c + ".vault"))
    del ids[name_of(9)]
    page = traced_start({a}, "after an older copy put back and a file removed")
    if page[name_of(5)]["attempts_left"] != RETRIES or name_of(9) in page:
        fail("the older copy's counter or the removed person: %r" % page.get(name_of(5)))
    traced_start(set(), "after the cache was written again")

    # A withdrawal removes the cache (it holds the person's name); the next start reads all.
    d = ids.pop(name_of(3))
    start(False)
    sesame(["unlock", name_of(3), "--pin-fd", "0"], PIN + "\n")
    sesame(["revoke", name_of(3), "--yes"])
    if os.path.exists(CACHE):
        fail("the cache outlived a withdrawal")
    stop()
    every -= {c, d}
    traced_start(every, "after a withdrawal")

    # A byte flipped in the cache: refused, said once, every file read, the cache rewritten.
    with open(CACHE, "r+b") as f:
        f.seek(os.path.getsize(CACHE) // 2)
        byte = f.read(1)
        f.seek(-1, os.SEEK_CUR)
        f.write(bytes([byte[0] ^ 0x01]))
    traced_start(every, "with a byte of the cache flipped")
    if len(cache_lines()) != 1:
        fail("a damaged cache is not said once: %r" % cache_lines())
    traced_start(set(), "after a damaged cache")

    # Another installation's cache (another device secret) is refused.
    shutil.copyfile(other_installation_cache(), CACHE)
    traced_start(every, "with another installation's cache")
    if len(cache_lines()) != 2 or "another" not in cache_lines()[-1]:
        fail("another installation's cache is not refused as such: %r" % cache_lines())
    print("people_cache: ok")


try:
    main()
finally:
    stop()
    shutil.rmtree(tmp, ignore_errors=True)
