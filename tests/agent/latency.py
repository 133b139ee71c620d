#!/usr/bin/env python3
"""The Argon2id work does not freeze the agent (standard library only).

With the default KDF (3 passes, 256 MiB), two unlocks from two clients compute on the agent's
pool; meanwhile status, users and list (a third person's open session) from other clients must
each answer in under 50 ms, every time, over several rounds. The unlocks must take more than
200 ms, or the test proves nothing. A second scenario adds a credential to a person whose
vault is being unlocked at that moment by another client (one worker records, another opens the
same person's vault): the agent must still answer status in under 50 ms.

    latency.py SESAME SESAME_AGENT
"""
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import agentproto as ap  # noqa: E402

LIMIT_MS = 50.0
MIN_UNLOCK_MS = 200.0
ROUNDS = 3
PINS = {"Alice": "482916", "Bob": "739164", "Chloe": "615283"}

SESAME, AGENT = sys.argv[1], sys.argv[2]
tmp = tempfile.mkdtemp(prefix="sesame-at.")
agent = None
agent_log = os.path.join(tmp, "agent.log")
env = ap.test_env(tmp)
SOCK = env["SESAME_AGENT_SOCK"]
fail = ap.failer(agent_log)


# The command bounds each of its own waits (sesame(1), WAITS: 120 s for a PIN check); this only
# keeps a command that broke that promise from outliving the test.
CLI_BOUND_S = 2 * 120


def sesame(*args, stdin=None):
    p = subprocess.run([SESAME, *args], input=stdin, env=env, capture_output=True, text=True,
                       timeout=CLI_BOUND_S)
    if p.returncode != 0:
        fail("sesame %s: exit %d\n%s%s" % (" ".join(args), p.returncode, p.stdout, p.stderr))
    return p.stdout


def start_agent():
    global agent
    agent, _ = ap.start_agent(AGENT, env, SOCK, agent_log, fail)


# How long an answer may take: an unlock waits for Argon2id, whose cost on this machine (and
# under sanitizers) is measured by each enrolment (one KDF run); set in main, never below
# the time the first one took.
reply_wait_s = None


def timed(req):
    """One request on a fresh connection: (milliseconds, reply)."""
    t0 = ap.now_ms()
    r = ap.call(SOCK, req, reply_wait_s)
    return ap.now_ms() - t0, r


class Unlock(threading.Thread):
    def __init__(self, user):
        super().__init__()
        self.user, self.ms, self.reply = user, None, None

    def run(self):
        self.ms, self.reply = timed({"v": 1, "op": "unlock", "user": self.user,
                                     "pin": PINS[self.user]})


def probe_while(busy, requests, what):
    """Send each request in turn, on fresh connections, while any thread in busy runs."""
    samples = []
    time.sleep(0.03)  # the unlocks are on the pool by now
    while any(t.is_alive() for t in busy):
        for req, check in requests:
            during = any(t.is_alive() for t in busy)  # sent while the work ran
            ms, r = timed(req)
            if not check(r):
                fail("%s: %s replied %r" % (what, req["op"], r))
            if during:
                samples.append((ms, req["op"]))
        time.sleep(0.01)
    for t in busy:
        t.join()
    return samples


def main():
    os.makedirs(os.path.join(tmp, "run"), mode=0o700)
    with open(env["SESAME_CONFIG"], "w") as f:
        f.write("# the default KDF: kdf_passes = 3, kdf_memory_mib = 256\n")
    sesame("init")
    start_agent()
    global reply_wait_s
    for name, pin in PINS.items():
        t0 = time.monotonic()
        sesame("enroll", name, "--pin-fd", "0", stdin=pin + "\n")
        # two unlocks share the pool, behind whatever else the machine runs
        reply_wait_s = max(reply_wait_s or 0, 10 * (time.monotonic() - t0))
    sesame("unlock", "Chloe", "--pin-fd", "0", stdin=PINS["Chloe"] + "\n")
    sesame("add", "Chloe", "--service", "CAF", "--url", "https://caf.fr", "--username", "c",
           "--secret-fd", "0", stdin="Latency-Secret-1\n")

    probes = [
        ({"v": 1, "op": "status"}, lambda r: r.get("ok") is True and "sessions" in r),
        ({"v": 1, "op": "users"}, lambda r: r.get("ok") is True and len(r["users"]) == 3),
        ({"v": 1, "op": "list", "user": "Chloe"},
         lambda r: r.get("ok") is True and r["services"][0]["service"] == "CAF"),
    ]
    # The same requests with nothing computing: what this machine (a sanitizer build, other
    # jobs) costs anyway. The limit is LIMIT_MS, or five times that when it is slower.
    idle = sorted(timed(req)[0] for _ in range(10) for req, _ in probes)
    limit = max(LIMIT_MS, 5 * idle[int(len(idle) * 0.95)])
    worst, unlock_ms, n, every = 0.0, [], 0, []
    for k in range(1, ROUNDS + 1):
        sesame("lock", "Alice")
        sesame("lock", "Bob")
        busy = [Unlock("Alice"), Unlock("Bob")]
        for t in busy:
            t.start()
        samples = probe_while(busy, probes, "round %d" % k)
        for t in busy:
            if t.reply.get("ok") is not True:
                fail("round %d: unlock %s: %r" % (k, t.user, t.reply))
            unlock_ms.append(t.ms)
        if len(samples) < 5:
            fail("round %d: only %d probes while the unlocks ran" % (k, len(samples)))
        top = max(samples)
        print("round %d: unlocks %.0f/%.0f ms; %d probes, max %.1f ms (%s)" %
              (k, busy[0].ms, busy[1].ms, len(samples), top[0], top[1]))
        worst, n = max(worst, top[0]), n + len(samples)
        every.extend(ms for ms, _ in samples)
    if min(unlock_ms) < MIN_UNLOCK_MS:
        fail("an unlock took only %.0f ms: the KDF is too cheap for this test to mean anything"
             % min(unlock_ms))
    every.sort()
    p95 = every[int(len(every) * 0.95)]
    print("two unlocks at once: %d probes, p95 %.1f ms, worst %.1f ms (limit %.1f ms)" %
          (n, p95, worst, limit))
    failures = []  # both scenarios run before the test fails
    # The loop must answer while the KDF runs: 95% of requests within the limit, and none
    # made to wait for a KDF (which would take about as long as an unlock). A busy machine
    # (other tests, a build) can delay a few requests through the scheduler alone.
    if p95 >= limit:
        failures.append("95%% of requests took up to %.1f ms while two unlocks computed "
                        "(limit %.0f ms)" % (p95, limit))
    if worst >= min(unlock_ms) / 2:
        failures.append("a request waited %.1f ms, as long as a KDF runs: the loop was "
                        "blocked" % worst)

    # A worker records a credential for Alice while another worker's unlock of Alice computes.
    sesame("unlock", "Alice", "--pin-fd", "0", stdin=PINS["Alice"] + "\n")
    busy = [Unlock("Alice")]
    busy[0].start()
    time.sleep(0.05)
    added = {}
    adder = threading.Thread(target=lambda: added.update(ap.call(SOCK, {
        "v": 1, "op": "add", "user": "Alice", "service": "ameli", "url": "https://ameli.fr",
        "username": "a", "password": "Latency-Secret-2"}, reply_wait_s)))
    adder.start()
    samples = probe_while(busy + [adder], probes[:1], "add during an unlock")
    if busy[0].reply.get("ok") is not True:
        fail("unlock of Alice during the add: %r" % busy[0].reply)
    if added.get("ok") is not True:
        fail("add during the unlock: %r" % added)
    top = max(samples) if samples else (0.0, "none")
    print("add during an unlock of the same person: %d probes, max %.1f ms" %
          (len(samples), top[0]))
    if top[0] >= min(unlock_ms) / 2:
        failures.append("status took %.1f ms while an add waited for the vault that an "
                        "unlock holds: the loop was blocked" % top[0])

    agent.send_signal(signal.SIGTERM)
    if agent.wait(30) != 0:
        fail("the agent exited %d after SIGTERM" % agent.returncode)
    if failures:
        fail("\n  ".join(failures))
    print("latency: ok")


# meson's time-out sends SIGTERM: leave through finally, which stops the agent.
signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
try:
    main()
finally:
    if agent is not None and agent.poll() is None:
        agent.kill()
        agent.wait()
    shutil.rmtree(tmp, ignore_errors=True)
