#!/usr/bin/env python3
"""Fault sweep and SIGKILL loop over Sesame's mutating operations (tests/fault/README.md).

Every case starts from a copy of one prepared installation, runs one operation of the real
sesame CLI against the real sesame-agent, with either the LD_PRELOAD shim failing the Nth call
of one kind (ENOSPC or EIO) in the process under test, or a SIGKILL of the agent or of the CLI
after a delay taken from the operation's measured length. Then a clean agent starts on what
is left and the case checks:
  - the vault opens with the PIN the person was told is valid;
  - no acknowledged change is lost;
  - no change exists without its record;
  - the counter is never below the acknowledged wrong PINs;
  - `sesame audit verify` says intact.
Prints name=value counts; exits 1 if any case broke one of them.
"""
import argparse
import json
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time

KINDS = ["write", "fsync", "fdatasync", "rename", "link", "unlink", "open"]
ERRNOS = ["ENOSPC", "EIO"]
PIN, NEWPIN, RECPIN, WRONG, BOBPIN = "284619", "402719", "615038", "999111", "730512"
UNSYNCED = "disk did not confirm"  # the CLI's words for VAULT_E_UNSYNCED (cli/util.c)
UNKNOWN = None  # what the person was told when the CLI got no answer


LIVE = []  # every Case made, so that no agent outlives the sweep whatever happens


class Case:
    """One installation under root, copied from the template."""

    def __init__(self, args, root):
        LIVE.append(self)
        self.args = args
        self.root = root
        self.agent = None
        self.env = dict(os.environ)
        self.env.update({
            "SESAME_HOME": f"{root}/home",
            "SESAME_CONFIG": f"{root}/sesame.conf",
            "SESAME_AGENT_SOCK": f"{root}/run/agent.sock",
            "XDG_RUNTIME_DIR": f"{root}/run",
            "XDG_CONFIG_HOME": f"{root}/config",
            "XDG_DATA_HOME": f"{root}/userhome/data",
            "HOME": f"{root}/userhome",
            "LC_ALL": "C.UTF-8", "LANG": "C.UTF-8", "LANGUAGE": "",
            "SESAME_AGENT_PROGRAM": "/bin/false",
            "DBUS_SESSION_BUS_ADDRESS": "unix:path=/nonexistent",
            # the shim comes after the sanitizer's runtime in an ASan build
            "ASAN_OPTIONS": "verify_asan_link_order=0:detect_leaks=0",
        })
        for k in ("SESAME_FAULT_OP", "SESAME_FAULT_N", "SESAME_FAULT_ERRNO",
                  "SESAME_FAULT_ARM", "SESAME_FAULT_LOG", "LD_PRELOAD"):
            self.env.pop(k, None)

    def shim_env(self, fault):
        """fault: None (count only, into the log), or (kind, n, errno)."""
        env = dict(self.env)
        env["LD_PRELOAD"] = self.args.shim
        env["SESAME_FAULT_ARM"] = f"{self.root}/armed"
        env["SESAME_FAULT_LOG"] = f"{self.root}/calls"
        if fault is not None:
            env["SESAME_FAULT_OP"], env["SESAME_FAULT_N"], env["SESAME_FAULT_ERRNO"] = (
                fault[0], str(fault[1]), fault[2])
        return env

    def sesame(self, *argv, stdin="", env=None, timeout=None):
        p = subprocess.run([self.args.sesame, *argv], input=stdin, env=env or self.env,
                           capture_output=True, text=True,
                           timeout=timeout or self.args.call_timeout)
        return p.returncode, p.stdout, p.stderr

    def start_agent(self, env=None):
        log = open(f"{self.root}/agent.log", "a")
        self.agent = subprocess.Popen([self.args.agent], env=env or self.env, stdout=log,
                                      stderr=log)
        log.close()
        for _ in range(self.args.start_polls):
            if self.agent.poll() is not None:
                return False
            if os.path.exists(self.env["SESAME_AGENT_SOCK"]) and \
                    self.sesame("status", timeout=self.args.call_timeout)[0] == 0:
                return True
            time.sleep(self.args.poll_s)
        return False

    def stop_agent(self, sig=signal.SIGTERM):
        if self.agent is None:
            return
        if self.agent.poll() is None:
            self.agent.send_signal(sig)
            try:
                self.agent.wait(self.args.call_timeout)
            except subprocess.TimeoutExpired:
                self.agent.kill()
                self.agent.wait()
        self.agent = None

    def arm(self, on):
        path = f"{self.root}/armed"
        if on:
            open(path, "w").close()
        elif os.path.exists(path):
            os.unlink(path)

    # --- what the clean agent sees
    def users(self):
        rc, out, _ = self.sesame("list", "--json")
        if rc != 0:
            return None
        return {u["name"]: u for u in json.loads(out)["users"]}

    def opens(self, name, pin):
        rc = self.sesame("unlock", name, "--pin-fd", "0", stdin=pin + "\n")[0]
        if rc == 0:
            self.sesame("lock", name)
        return rc == 0

    def services(self, name, pin):
        if self.sesame("unlock", name, "--pin-fd", "0", stdin=pin + "\n")[0] != 0:
            return None
        rc, out, _ = self.sesame("list", name, "--json")
        self.sesame("lock", name)
        return [s["service"] for s in json.loads(out)["services"]] if rc == 0 else None

    def records(self):
        rc, out, _ = self.sesame("audit", "export", "--format", "jsonl")
        return [json.loads(l) for l in out.splitlines()] if rc == 0 else []

    def verify(self):
        rc, out, _ = self.sesame("audit", "verify", "--json")
        try:
            return rc == 0 and json.loads(out)["result"] == "intact"
        except ValueError:
            return False

    def vault_files(self, user_id):
        d = f"{self.root}/home/vaults"
        return [f for f in os.listdir(d) if user_id in f and not f.endswith(".lock")
                and not f.startswith("withdrawn.")]

    def withdrawn_kept(self, user_id):
        """The sealed name a withdrawal keeps so that the person's records stay attributable."""
        return os.path.exists(f"{self.root}/home/vaults/withdrawn.{user_id}")


def recorded(recs, event, **fields):
    """Records of event (intent or ok) with these fields."""
    return [r for r in recs if r["event"] == event and r["outcome"] in ("intent", "ok")
            and all(r.get(k) == v for k, v in fields.items())]


# --- the operations: pre (unarmed), act (armed: returns rc, out, err), check (clean agent)

def pre_unlock(c):
    return c.sesame("unlock", "Alice", "--pin-fd", "0", stdin=PIN + "\n")[0] == 0


def told_ok(res):
    return res[0] == 0


def told_failed(res):
    """An explicit refusal (not: no answer)."""
    return res[0] is not UNKNOWN and res[0] not in (0, 6)


def unconfirmed(res):
    return res[0] != 0 and UNSYNCED in res[2]


def check_alice_pin(c, res, bad, new_pin, event):
    """PIN change and recovery: which PIN opens, and its record."""
    old_opens = c.opens("Alice", PIN)
    new_opens = not old_opens and c.opens("Alice", new_pin)
    if told_ok(res) and not new_opens:
        bad.append("acknowledged %s lost" % event)
    if told_failed(res) and not old_opens:
        bad.append("%s told refused, yet the old PIN does not open" % event)
    if not old_opens and not new_opens:
        bad.append("neither PIN opens")
    if new_opens and not recorded(c.records(), event, user=c.alice):
        bad.append("%s with no record" % event)


def act_enroll(c):
    return c.sesame("enroll", "Bob", "--pin-fd", "0", "--json", stdin=f"{BOBPIN}\n{BOBPIN}\n")


def check_enroll(c, res, bad):
    users = c.users() or {}
    if told_ok(res):
        if "Bob" not in users or not c.opens("Bob", BOBPIN):
            bad.append("acknowledged enrolment lost")
        elif "recovery" not in json.loads(res[1]):
            bad.append("enrolled without the recovery key")
    if "Bob" in users and not told_ok(res) and res[0] is not UNKNOWN and told_failed(res):
        bad.append("enrolment told refused, yet the vault exists")
    if "Bob" in users and not recorded(c.records(), "user_enrolled", user=users["Bob"]["user"]):
        bad.append("vault with no user_enrolled record")


def act_unlock(c):
    return c.sesame("unlock", "Alice", "--pin-fd", "0", stdin=PIN + "\n")


def check_unlock(c, res, bad):
    if not c.opens("Alice", PIN):
        bad.append("the right PIN no longer opens")
    if told_ok(res) and not [r for r in c.records() if r["event"] == "session_opened"]:
        bad.append("session with no record")


def act_wrong(c):
    return c.sesame("unlock", "Alice", "--pin-fd", "0", stdin=WRONG + "\n")


def check_wrong(c, res, bad):
    users = c.users() or {}
    left = users.get("Alice", {}).get("attempts_left")
    if res[0] == 3 and (left is None or left > 4):
        bad.append("acknowledged wrong PIN not counted (attempts left %s)" % left)
    if res[0] == 0:
        bad.append("a wrong PIN opened")
    if not c.opens("Alice", PIN):
        bad.append("the right PIN no longer opens")


def act_add(c):
    return c.sesame("add", "Alice", "--service", "ameli", "--url", "https://ameli.fr",
                    "--username", "a1", "--secret-fd", "0", stdin="s3cret\n")


def check_add(c, res, bad):
    svc = c.services("Alice", PIN)
    if svc is None:
        bad.append("Alice does not open")
        return
    if told_ok(res) and "ameli" not in svc:
        bad.append("acknowledged add lost")
    if "ameli" in svc and told_failed(res) and not unconfirmed(res):
        bad.append("add told refused, yet done")
    if "ameli" in svc and not recorded(c.records(), "credential_added", service="ameli"):
        bad.append("credential with no record")


def act_remove(c):
    return c.sesame("remove", "Alice", "CAF", "--yes")


def check_remove(c, res, bad):
    svc = c.services("Alice", PIN)
    if svc is None:
        bad.append("Alice does not open")
        return
    if told_ok(res) and "CAF" in svc:
        bad.append("acknowledged removal lost")
    if "CAF" not in svc and told_failed(res) and not unconfirmed(res):
        bad.append("removal told refused, yet done")
    if "CAF" not in svc and not recorded(c.records(), "credential_removed", service="CAF"):
        bad.append("removal with no record")


def act_pin(c):
    return c.sesame("pin", "Alice", "--pin-fd", "0", stdin=f"{PIN}\n{NEWPIN}\n{NEWPIN}\n")


def check_pin(c, res, bad):
    check_alice_pin(c, res, bad, NEWPIN, "pin_changed")


def act_recover(c):
    return c.sesame("recover", "Alice", "--pin-fd", "0", "--json",
                    stdin=f"{c.sheet}\n{RECPIN}\n{RECPIN}\n")


def check_recover(c, res, bad):
    check_alice_pin(c, res, bad, RECPIN, "recovery_used")
    if told_ok(res) and "recovery" not in res[1]:
        bad.append("recovered without a new recovery key")


def act_revoke(c):
    return c.sesame("revoke", "Alice", "--yes")


def check_revoke(c, res, bad):
    users = c.users() or {}
    gone = "Alice" not in users
    if told_ok(res) and (not gone or c.vault_files(c.alice)):
        bad.append("acknowledged withdrawal left files: %s" % c.vault_files(c.alice))
    if gone and told_failed(res) and not unconfirmed(res):
        bad.append("withdrawal told refused, yet done")
    if gone and not c.withdrawn_kept(c.alice):
        bad.append("withdrawn without its sealed name: the records lost their person")
    if not gone and not c.opens("Alice", PIN):
        bad.append("Alice neither withdrawn nor opening")
    if gone and not recorded(c.records(), "user_withdrawn", user=c.alice):
        bad.append("withdrawal with no record")


def act_lock(c):
    return c.sesame("lock", "Alice")


def check_lock(c, res, bad):
    if told_ok(res) and not [r for r in c.records() if r["event"] == "session_closed"]:
        bad.append("lock with no record")
    if not c.opens("Alice", PIN):
        bad.append("the right PIN no longer opens")


OPS = {  # name: (needs a session first, act, check)
    "enroll": (False, act_enroll, check_enroll),
    "unlock": (False, act_unlock, check_unlock),
    "wrong-pin": (False, act_wrong, check_wrong),
    "add": (True, act_add, check_add),
    "remove": (True, act_remove, check_remove),
    "pin": (False, act_pin, check_pin),
    "recover": (False, act_recover, check_recover),
    "revoke": (True, act_revoke, check_revoke),
    "lock": (True, act_lock, check_lock),
}


class Sweep:
    def __init__(self, args):
        self.args = args
        self.base = tempfile.mkdtemp(prefix="sesame-fault.")
        self.template = f"{self.base}/template"
        self.n = 0
        self.cases = 0
        self.failures = []
        self.counts = {}

    def new_root(self):
        self.n += 1
        root = f"{self.base}/c{self.n}"
        os.mkdir(root, 0o700)
        return root

    def fresh(self, name):
        """A Case with an empty installation directory (sesame.conf only)."""
        c = Case(self.args, self.new_root())
        for d in ("run", "config", "userhome"):
            os.mkdir(f"{c.root}/{d}", 0o700)
        with open(f"{c.root}/sesame.conf", "w") as f:
            f.write("kdf_passes = 1\nkdf_memory_mib = 8\n")
        return c

    def copy(self):
        c = Case(self.args, self.new_root())
        shutil.copytree(self.template, c.root, symlinks=True, dirs_exist_ok=True)
        with open(f"{self.template}/facts.json") as f:
            facts = json.load(f)
        c.alice, c.sheet = facts["alice"], facts["sheet"]
        return c

    def make_template(self):
        c = self.fresh("template")
        os.rename(c.root, self.template)
        c = Case(self.args, self.template)
        assert c.sesame("init")[0] == 0, "init"
        assert c.start_agent(), "agent start"
        rc, out, err = c.sesame("enroll", "Alice", "--pin-fd", "0", "--json",
                                stdin=f"{PIN}\n{PIN}\n")
        assert rc == 0, err
        j = json.loads(out)
        assert pre_unlock(c)
        rc, _, err = c.sesame("add", "Alice", "--service", "CAF", "--url", "https://caf.fr",
                              "--username", "a1", "--secret-fd", "0", stdin="s3cret\n")
        assert rc == 0, err
        c.sesame("lock", "Alice")
        c.stop_agent()
        with open(f"{self.template}/facts.json", "w") as f:
            json.dump({"alice": j["user"], "sheet": j["recovery"]}, f)
        shutil.rmtree(f"{self.template}/run")
        os.mkdir(f"{self.template}/run", 0o700)
        open(f"{self.template}/agent.log", "w").close()

    def finish(self, c, what, res, check):
        """Stop what runs, start a clean agent, check, clean up."""
        c.stop_agent(signal.SIGKILL)
        c.arm(False)
        bad = []
        if not c.start_agent():
            bad.append("a clean agent does not start")
        else:
            check(c, res, bad)
            c.stop_agent()
        if not c.verify():
            bad.append("audit verify is not intact")
        self.cases += 1
        if bad:
            self.failures.append((what, res[0], bad, c.root))
            if self.args.verbose:
                print("BROKEN", what, res[0], bad, c.root, file=sys.stderr)
        else:
            shutil.rmtree(c.root, ignore_errors=True)

    # --- injected faults
    def points(self, op):
        """How many calls of each kind the operation makes, counted without a fault."""
        c = self.copy()
        needs, act, _ = OPS[op]
        assert c.start_agent(c.shim_env(None)), "agent under the shim"
        if needs:
            assert pre_unlock(c)
        if os.path.exists(f"{c.root}/calls"):
            os.unlink(f"{c.root}/calls")
        c.arm(True)
        t0 = time.monotonic()
        res = act(c)
        took = time.monotonic() - t0
        c.arm(False)
        assert res[0] == (3 if op == "wrong-pin" else 0), (op, res)
        calls = open(f"{c.root}/calls").read().split() if os.path.exists(f"{c.root}/calls") else []
        c.stop_agent()
        shutil.rmtree(c.root, ignore_errors=True)
        return {k: calls.count(k) for k in KINDS}, took

    def fault_case(self, op, kind, n, err):
        c = self.copy()
        needs, act, check = OPS[op]
        if not c.start_agent(c.shim_env((kind, n, err))):
            self.failures.append(((op, kind, n, err), None, ["agent under the shim"], c.root))
            return
        if needs and not pre_unlock(c):
            self.failures.append(((op, kind, n, err), None, ["unlock before"], c.root))
            return
        c.arm(True)
        res = act(c)
        c.arm(False)
        self.finish(c, (op, kind, n, err), res, check)

    def init_points(self):
        c = self.fresh("init")
        env = c.shim_env(None)
        env.pop("SESAME_FAULT_ARM")
        assert c.sesame("init", env=env)[0] == 0
        calls = open(f"{c.root}/calls").read().split()
        shutil.rmtree(c.root, ignore_errors=True)
        return {k: calls.count(k) for k in KINDS}

    def init_case(self, kind, n, err):
        c = self.fresh("init")
        env = c.shim_env((kind, n, err))
        env.pop("SESAME_FAULT_ARM")
        res = c.sesame("init", env=env)
        bad = []
        if res[0] != 0:  # undone or resumable: init again succeeds
            again = c.sesame("init")
            if again[0] != 0:
                bad.append("init after a failed init: " + again[2].strip())
        if not bad and not c.start_agent():
            bad.append("the agent does not start after init")
        if not bad:
            rc, out, _ = c.sesame("enroll", "Bob", "--pin-fd", "0", stdin=f"{BOBPIN}\n{BOBPIN}\n")
            if rc != 0 or not c.opens("Bob", BOBPIN):
                bad.append("no enrolment after init")
            c.stop_agent()
        if not bad and not c.verify():
            bad.append("audit verify is not intact")
        self.cases += 1
        if bad:
            self.failures.append((("init", kind, n, err), res[0], bad, c.root))
            if self.args.verbose:
                print("BROKEN", "init", kind, n, err, res[0], bad, c.root, file=sys.stderr)
        else:
            shutil.rmtree(c.root, ignore_errors=True)

    def pick(self, total, op=None, kind=None):
        """Which points to fail: all of them, or (the subset) the last, which for most kinds is
        the one that makes the change durable; and for the credential and withdrawal changes
        every fsync, among which the directory's after the vault's rename (a change in place
        whose durability is in doubt must not be reported refused)."""
        if total == 0:
            return []
        if not self.args.subset or (kind == "fsync" and op in ("add", "remove", "revoke")):
            return list(range(1, total + 1))
        return [total]

    def faults(self):
        errnos = ERRNOS if not self.args.subset else ["EIO"]
        if self.args.ops is None or "init" in self.args.ops.split(","):
            pts = self.init_points()
            self.counts["points_init"] = sum(pts.values())
            for kind in KINDS:
                for n in self.pick(pts[kind]):
                    for err in errnos:
                        self.init_case(kind, n, err)
        self.durations = {}
        for op in OPS:
            pts, took = self.points(op)
            self.durations[op] = took
            self.counts["points_" + op] = sum(pts.values())
            for kind in KINDS:
                for n in self.pick(pts[kind], op, kind):
                    for err in errnos:
                        self.fault_case(op, kind, n, err)

    # --- SIGKILL at instants spread over the operation's measured length
    def kill_case(self, op, i, iterations, victim):
        c = self.copy()
        needs, act, check = OPS[op]
        if not c.start_agent() or (needs and not pre_unlock(c)):
            self.failures.append(((op, "kill", i), None, ["setup"], c.root))
            return
        delay = self.durations[op] * (i + 0.5) / iterations
        argv, stdin = act_argv(c, op)
        p = subprocess.Popen([self.args.sesame, *argv], env=c.env, stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        p.stdin.write(stdin)
        p.stdin.close()
        p.stdin = None  # communicate() must not flush it again
        time.sleep(delay)
        if victim == "agent":
            c.agent.kill()
        else:
            p.kill()
        try:
            out, err = p.communicate(timeout=self.args.call_timeout)
        except subprocess.TimeoutExpired:
            p.kill()
            out, err = p.communicate()
        rc = p.returncode if p.returncode >= 0 else UNKNOWN
        self.finish(c, (op, "kill-" + victim, i), (rc, out, err), check)

    # --- SIGKILL of the agent at one named instant: the new recovery key sent, its
    # acknowledgment (recovery_shown) not yet
    def unshown_case(self, op):
        c = self.copy()
        if not c.start_agent():
            self.failures.append(((op, "kill-unshown"), None, ["setup"], c.root))
            return
        s, reply = key_exchange(c.env["SESAME_AGENT_SOCK"], key_request(c, op),
                                self.args.call_timeout)
        c.agent.kill()
        c.agent.wait()
        s.close()
        res = (UNKNOWN, json.dumps(reply), "")
        if not reply.get("ok") or "recovery" not in reply:
            self.failures.append(((op, "kill-unshown"), None, ["no key: %s" % reply], c.root))
            return
        self.finish(c, (op, "kill-unshown"), res, check_unshown(op))

    def kills(self):
        if not hasattr(self, "durations"):
            self.durations = {op: self.points(op)[1] for op in OPS}
        for op in OPS:
            for i in range(self.args.kill_iterations):
                self.kill_case(op, i, self.args.kill_iterations, ("agent", "cli")[i % 2])
            if op in ("enroll", "recover"):
                self.unshown_case(op)


def key_request(c, op):
    """The raw request of an operation that makes a new recovery key (docs/protocol.md)."""
    if op == "enroll":
        return {"v": 1, "op": "enroll", "name": "Bob", "pin": BOBPIN}
    return {"v": 1, "op": "recover", "user": c.alice, "recovery": c.sheet, "new_pin": RECPIN}


def key_exchange(path, req, timeout):
    """req on a new connection; its reply, the connection left open and returned with it."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.connect(path)
    body = json.dumps(req).encode()
    s.sendall(struct.pack(">I", len(body)) + body)
    head = s.recv(4, socket.MSG_WAITALL)
    (n,) = struct.unpack(">I", head)
    return s, json.loads(s.recv(n, socket.MSG_WAITALL))


def check_unshown(op):
    """After a kill between the key and its acknowledgment: the change was undone at start."""
    def check(c, res, bad):
        undone = [r for r in c.records() if r["outcome"] == "undone"
                  and r["event"] == ("user_enrolled" if op == "enroll" else "recovery_used")]
        if not undone:
            bad.append("no undone record for the unacknowledged key")
        if op == "enroll" and "Bob" in (c.users() or {}):
            bad.append("an enrolment whose key was never acknowledged stands")
        if op == "recover" and not c.opens("Alice", PIN):
            bad.append("the old PIN does not open after an unacknowledged recovery")
    return check


def act_argv(c, op):
    """The CLI call of op, for the SIGKILL loop, which needs it as a process of its own."""
    table = {
        "enroll": (["enroll", "Bob", "--pin-fd", "0", "--json"], f"{BOBPIN}\n{BOBPIN}\n"),
        "unlock": (["unlock", "Alice", "--pin-fd", "0"], PIN + "\n"),
        "wrong-pin": (["unlock", "Alice", "--pin-fd", "0"], WRONG + "\n"),
        "add": (["add", "Alice", "--service", "ameli", "--url", "https://ameli.fr",
                 "--username", "a1", "--secret-fd", "0"], "s3cret\n"),
        "remove": (["remove", "Alice", "CAF", "--yes"], ""),
        "pin": (["pin", "Alice", "--pin-fd", "0"], f"{PIN}\n{NEWPIN}\n{NEWPIN}\n"),
        "recover": (["recover", "Alice", "--pin-fd", "0", "--json"],
                    f"{c.sheet}\n{RECPIN}\n{RECPIN}\n"),
        "revoke": (["revoke", "Alice", "--yes"], ""),
        "lock": (["lock", "Alice"], ""),
    }
    return table[op]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sesame", required=True)
    ap.add_argument("--agent", required=True)
    ap.add_argument("--shim", required=True)
    ap.add_argument("--subset", action="store_true",
                    help="the last point of each kind, EIO only, 2 kills per operation")
    ap.add_argument("--kill-iterations", type=int, default=None)
    ap.add_argument("--no-faults", action="store_true")
    ap.add_argument("--ops", default=None, help="comma-separated operations (default: all)")
    ap.add_argument("--verbose", action="store_true")
    ap.add_argument("--keep", action="store_true", help="keep the directories of broken cases")
    args = ap.parse_args()
    if os.environ.get("SESAME_FAULT_FULL") == "1":
        args.subset = False
    if args.kill_iterations is None:
        args.kill_iterations = 2 if args.subset else 20
    # Waits: each CLI call is bounded by the CLI's own limits; these bound the polling only.
    args.call_timeout = 120
    args.start_polls = 400
    args.poll_s = 0.025
    if args.ops is not None:
        for op in set(OPS) - set(args.ops.split(",")):
            del OPS[op]
    s = Sweep(args)
    # meson's time-out sends SIGTERM: end through the finally below, which stops the agents
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        s.make_template()
        t0 = time.monotonic()
        if not args.no_faults:
            s.faults()
        fault_cases = s.cases
        s.kills()
        for k, v in s.counts.items():
            print(f"{k}={v}")
        print(f"fault_cases={fault_cases}")
        print(f"kill_cases={s.cases - fault_cases}")
        print(f"broken_cases={len(s.failures)}")
        print(f"sweep_seconds={time.monotonic() - t0:.0f}")
        for what, rc, bad, root in s.failures:
            print("BROKEN", what, "exit", rc, "; ".join(bad), root if args.keep else "",
                  file=sys.stderr)
    finally:
        for c in LIVE:
            c.stop_agent(signal.SIGKILL)
        if not args.keep or not s.failures:
            shutil.rmtree(s.base, ignore_errors=True)
    return 1 if s.failures else 0


if __name__ == "__main__":
    sys.exit(main())
