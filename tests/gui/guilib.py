"""Shared by the UI tests: a desktop of their own, a real sesame-agent, the real sesame-gtk.

Each test runs under tests/keyring/run-with-keyring.sh, which gives it a private session bus
with a real gnome-keyring (the device secret lives there, as on a worker's desktop). Here:

- an X server (Xvfb) on a display it picks itself (-displayfd), whose frame buffer is a file
  (-fbdir) that the screenshots read;
- the AT-SPI bus, started by the session bus on the first request (org.a11y.Bus), through which
  the test sees and drives the application as a screen reader does (pyatspi);
- an installation in a temporary directory with a low KDF cost, and the build's own agent,
  started and stopped by the test (never on demand: a stray agent would outlive the test);
- the build's sesame-gtk, its stderr kept for the failure report.

Every wait polls a condition until a deadline scaled from what this machine measured in the same
run (the X server's and the agent's start, the application's start, a PIN's KDF), never a fixed
sleep: a slow machine gets longer deadlines, a wrong behaviour still fails.

Usage from a test: `t = Gui(sys.argv)`, then t.start_agent(), t.launch(), t.click(...), ...
and t.done() at the end. Needs Debian's python3 (pyatspi is a Debian package).
"""
import gettext
import json
import os
import re
import select
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time
import zlib

PIN_KDF = "kdf_passes = 1\nkdf_memory_mib = 8\n"  # the lowest cost a configuration allows
SLACK = 10      # a step may take this many times what its measured reference took
FLOOR_S = 5.0   # ... and never less than this: one-off costs (a font cache, a page fault storm)
POLL_S = 0.02
SCREEN = "1280x800x24"

# The agent's own bounds on an assisted login (agent/fill.h, agent/browser.h): it ends every
# login within them, so the test waits for the outcome that long and no longer.
LOGIN_BOUND_S = (10000 + 15000 + 20000 + 2500 + 5000 * 4 + 8000 + 15000) / 1000

KEYSYMS = {"Tab": 0xff09, "Return": 0xff0d, "Escape": 0xff1b, "BackSpace": 0xff08,
           "Down": 0xff54, "Up": 0xff52, "Left": 0xff51, "Right": 0xff53, "space": 0x20,
           "ISO_Left_Tab": 0xfe20, "Home": 0xff50, "End": 0xff57}


class Failure(Exception):
    pass


def monotonic():
    return time.monotonic()


class Gui:
    def __init__(self, argv, name):
        if len(argv) < 5:
            print("usage: %s SESAME SESAME_AGENT SESAME_GTK LOCALEDIR" % argv[0], file=sys.stderr)
            sys.exit(2)
        self.sesame, self.agent_bin, self.gtk_bin, self.localedir = argv[1:5]
        self.name = name
        self.costs = {}
        self.procs = []
        self.agent = None
        self.app = None
        self.xvfb = None
        self.root = None
        self.screens = []
        self.tmp = tempfile.mkdtemp(prefix="sesame-gui-%s." % name)
        os.chmod(self.tmp, 0o700)
        for d in ("run", "config", "home", "out", "fb", "shots"):
            os.mkdir(os.path.join(self.tmp, d), 0o700)
        signal.signal(signal.SIGTERM, lambda *_: self.fail("stopped by SIGTERM (time limit)"))
        self.env = dict(os.environ)
        for k in ("WAYLAND_DISPLAY", "NO_AT_BRIDGE", "LC_ALL", "LANGUAGE", "SESAME_BROWSER",
                  "SESAME_BROWSER_FLAGS", "GTK_THEME", "GDK_SCALE", "GDK_DPI_SCALE"):
            self.env.pop(k, None)
        self.env.update({
            "SESAME_HOME": self.tmp + "/data", "SESAME_CONFIG": self.tmp + "/sesame.conf",
            "SESAME_AGENT_SOCK": self.tmp + "/run/agent.sock",
            "SESAME_AGENT_PROGRAM": "/bin/false", "SESAME_LOCALEDIR": self.localedir,
            "XDG_RUNTIME_DIR": self.tmp + "/run", "XDG_CONFIG_HOME": self.tmp + "/config",
            "XDG_DATA_HOME": self.tmp + "/home/data", "XDG_CACHE_HOME": self.tmp + "/home/cache",
            "HOME": self.tmp + "/home",
            # a French desktop, as the people Sesame is for use it
            "LANG": "fr_FR.UTF-8",
            # GTK's own dialogs and settings, never a portal or dconf of the machine's
            "GTK_USE_PORTAL": "0", "ADW_DISABLE_PORTAL": "1",
            "GSETTINGS_BACKEND": "memory", "GDK_BACKEND": "x11", "GTK_A11Y": "atspi",
            "ASAN_OPTIONS": "detect_leaks=1:abort_on_error=1",
        })
        self.config = PIN_KDF
        self.agent_log = open(self.tmp + "/agent.log", "ab")
        self.app_log_path = self.tmp + "/app.log"
        self.site = None
        if not any(l.lower().replace("-", "") in ("fr_fr.utf8",) for l in
                   subprocess.run(["locale", "-a"], capture_output=True,
                                  text=True).stdout.split()):
            print("SKIP: no fr_FR.UTF-8 locale (tools/deps.sh test makes it)")
            self.cleanup()
            sys.exit(77)
        try:
            self.catalog = gettext.translation("sesame", self.localedir, ["fr"])
        except OSError:
            print("FAIL: no French catalogue under %s" % self.localedir, file=sys.stderr)
            sys.exit(1)
        self.start_display()

    def N(self, singular, plural, n):
        """T for a message with a plural form, formatted with n."""
        fr = self.catalog.ngettext(singular, plural, n)
        if fr in (singular, plural):
            self.fail("no French for %r in the catalogue" % singular)
        return cformat(fr) % n

    def T(self, msgid, *args, same=False):
        """What the French application shows for msgid (the build's catalogue, as the
        application reads it), a mnemonic's underscore removed. A message the catalogue leaves
        in English fails the test: the French desktop would show English (same=True for a
        word both languages write alike)."""
        fr = self.catalog.gettext(msgid)
        if fr == msgid and not same:
            self.fail("no French for %r in the catalogue" % msgid)
        if "_" in msgid:
            fr = fr.replace("_", "")
        return cformat(fr) % args if args else fr

    # ---- failure, cleanup -------------------------------------------------------------------

    def fail(self, msg):
        print("FAIL: %s: %s" % (self.name, msg), file=sys.stderr, flush=True)
        try:
            if self.root is not None and self.app_alive():
                print("--- what the application shows", file=sys.stderr)
                print(self.dump(), file=sys.stderr)
        except Exception as e:  # the tree may be gone with the application
            print("(no accessibility tree: %s)" % e, file=sys.stderr)
        for title, path in (("application", self.app_log_path),
                            ("agent", self.tmp + "/agent.log")):
            try:
                with open(path, "rb") as f:
                    text = f.read().decode(errors="replace")[-6000:]
                if text:
                    print("--- %s log\n%s" % (title, text), file=sys.stderr)
            except OSError:
                pass
        self.cleanup()
        os._exit(1)

    def cleanup(self):
        if self.app is not None and self.app.poll() is None:
            self.app.kill()
            self.app.wait()
        if self.agent is not None and self.agent.poll() is None:
            self.agent.terminate()
            try:
                self.agent.wait(30)
            except subprocess.TimeoutExpired:
                self.agent.kill()
                self.agent.wait()
        for p in self.procs:
            if p.poll() is None:
                p.kill()
                p.wait()
        if self.xvfb is not None and self.xvfb.poll() is None:
            self.xvfb.terminate()
            self.xvfb.wait()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def done(self):
        """The application must still run, then exit cleanly when asked (under ASan a leak
        makes that exit fail); the agent too."""
        self.stop_app()
        self.stop_agent()
        self.cleanup()
        print("ok %s" % self.name)
        sys.exit(0)

    # ---- time ------------------------------------------------------------------------------

    def measure(self, what, fn):
        t0 = monotonic()
        r = fn()
        self.costs[what] = max(self.costs.get(what, 0.0), monotonic() - t0)
        return r

    def budget(self, *refs, extra=0.0):
        """The deadline for a step comparable to the measured refs together."""
        return max(FLOOR_S, SLACK * sum(self.costs[r] for r in refs)) + extra

    def ui(self):
        """A step of the interface: a reaction to a click or a key, a page shown."""
        return self.budget("app_start")

    def wait(self, what, pred, limit):
        """Poll pred until it returns something true; fail naming what after limit seconds
        or as soon as the application has exited."""
        end = monotonic() + limit
        while True:
            self.pump()
            try:
                r = pred()
            except Failure:
                raise
            except Exception:  # an object that vanished while the tree changed
                r = None
            if r:
                return r
            if self.app is not None and self.app.poll() is not None:
                self.fail("the application exited (%d) while waiting for %s" %
                          (self.app.returncode, what))
            if monotonic() > end:
                self.fail("%s: not within %.1f s" % (what, limit))
            time.sleep(POLL_S)

    # ---- display -----------------------------------------------------------------------------

    def start_display(self):
        def start():
            r, w = os.pipe()
            self.xvfb = subprocess.Popen(
                ["Xvfb", "-displayfd", str(w), "-screen", "0", SCREEN, "-nolisten", "tcp",
                 "-fbdir", self.tmp + "/fb", "-noreset"], pass_fds=(w,),
                stdout=subprocess.DEVNULL, stderr=open(self.tmp + "/xvfb.log", "wb"))
            os.close(w)
            got = b""
            # Xvfb writes its display number once it accepts clients, or exits
            while not got.endswith(b"\n"):
                ready, _, _ = select.select([r], [], [], 1.0)
                if ready:
                    chunk = os.read(r, 16)
                    if not chunk:
                        break
                    got += chunk
                elif self.xvfb.poll() is not None:
                    break
            os.close(r)
            if not got.strip().isdigit():
                self.fail("Xvfb did not start: %s" % open(self.tmp + "/xvfb.log").read())
            return ":" + got.decode().strip()

        display = self.measure("xvfb", start)
        self.env["DISPLAY"] = os.environ["DISPLAY"] = display
        os.environ.pop("NO_AT_BRIDGE", None)
        # The AT-SPI bus and its registry are started by the session bus on first use, with
        # the bus's environment: without DISPLAY there, the registry's synthesised keys (XTest)
        # would reach no X server.
        p = subprocess.run(["dbus-send", "--session", "--type=method_call", "--print-reply",
                            "--dest=org.freedesktop.DBus", "/org/freedesktop/DBus",
                            "org.freedesktop.DBus.UpdateActivationEnvironment",
                            "dict:string:string:DISPLAY,%s" % display],
                           capture_output=True, text=True)
        if p.returncode != 0:
            self.fail("cannot give the session bus the display: %s" % p.stderr)
        global pyatspi
        import pyatspi  # noqa: E402  after DISPLAY: the AT-SPI bus is found through it
        self.CHECKED = pyatspi.STATE_CHECKED
        self.FOCUSED = pyatspi.STATE_FOCUSED
        # Where the keyboard focus is, from the toolkit's own events (a walk of the whole tree
        # after each key would cost seconds): the last object that said it gained the focus.
        self.last_focus = None
        pyatspi.Registry.registerEventListener(self._focus_event,
                                               "object:state-changed:focused")
        from gi.repository import GLib
        self.mainloop = GLib.MainContext.default()

    # ---- the agent -----------------------------------------------------------------------------

    def write_config(self, extra=""):
        with open(self.env["SESAME_CONFIG"], "w") as f:
            f.write(self.config + extra)

    def init(self, extra=""):
        self.write_config(extra)
        self.cli(["init"])

    def start_agent(self):
        def start():
            self.agent = subprocess.Popen([self.agent_bin], stdout=self.agent_log,
                                          stderr=self.agent_log, env=self.env)
            while True:
                if self.agent.poll() is not None:
                    self.fail("the agent exited at start (%d)" % self.agent.returncode)
                if os.path.exists(self.env["SESAME_AGENT_SOCK"]):
                    # list waits for the index of people, as the application does
                    p = subprocess.run([self.sesame, "list", "--json"], env=self.env,
                                       capture_output=True)
                    if p.returncode == 0:
                        return
                time.sleep(POLL_S)
        self.measure("agent_start", start)

    def stop_agent(self):
        if self.agent is None:
            return
        self.agent.terminate()
        rc = self.agent.wait(self.budget("agent_start"))
        self.agent = None
        if rc != 0:
            self.fail("the agent exited %d after SIGTERM" % rc)

    def kill_agent(self):
        self.agent.kill()
        self.agent.wait()
        self.agent = None

    def cli(self, args, stdin=None, want=0):
        p = subprocess.run([self.sesame] + args, input=stdin.encode() if stdin else None,
                           capture_output=True, env=self.env)
        if want is not None and p.returncode != want:
            self.fail("sesame %s: exit %d, expected %d\n%s%s" % (
                " ".join(args), p.returncode, want, p.stdout.decode(errors="replace"),
                p.stderr.decode(errors="replace")))
        return p

    def cli_json(self, args, want=0):
        return json.loads(self.cli(args + ["--json"], want=want).stdout)

    def enroll(self, name, pin):
        """Enrol through the command line; the measured KDF is the reference for a PIN."""
        return self.measure("kdf", lambda: json.loads(self.cli(
            ["enroll", name, "--pin-fd", "0", "--json"], stdin=pin + "\n").stdout))

    def status(self):
        return self.cli_json(["status"])

    def sessions(self):
        return [s["name"] for s in self.status()["sessions"]]

    def person(self, name):
        """The agent's view of one person: blocked, attempts_left, session."""
        users = self.cli_json(["list"])["users"]
        found = [u for u in users if u["name"] == name]
        return found[0] if found else None

    def services(self, name):
        return [s["service"] for s in self.cli_json(["list", name])["services"]]

    def audit(self, event=None, **fields):
        """The audit records (`sesame audit show --json`), of one event and with these fields."""
        args = ["audit", "show", "--json"] + (["--event", event] if event else [])
        p = self.cli(args)
        out = []
        for line in p.stdout.decode().splitlines():
            if not line.strip():
                continue
            r = json.loads(line)
            if all(r.get(k) == v for k, v in fields.items()):
                out.append(r)
        return out

    def expect_audit(self, event, count=None, **fields):
        got = self.audit(event, **fields)
        if (count is None and not got) or (count is not None and len(got) != count):
            self.fail("audit: %s %r: %d records, expected %s" % (
                event, fields, len(got), "some" if count is None else count))
        return got

    # ---- the application ---------------------------------------------------------------------

    def launch(self, args=()):
        """Start sesame-gtk and wait until its main window is in the accessibility tree."""
        self.app_log = open(self.app_log_path, "ab")
        t0 = monotonic()
        # Under AddressSanitizer the application's memory errors and undefined behaviour stay
        # fatal, but not its leaks at exit: GTK, GLib and fontconfig keep caches for the life
        # of the process, and as they are built without frame pointers their leak stacks stop
        # at g_malloc, where they cannot be told from the application's own (the agent, a
        # program of ours alone, keeps leak detection).
        env = dict(self.env, ASAN_OPTIONS="detect_leaks=0:abort_on_error=1")
        self.app = subprocess.Popen([self.gtk_bin] + list(args), env=env,
                                    stdout=self.app_log, stderr=self.app_log)
        first = "app_start" not in self.costs
        # Before any measure of the application, its start is bounded by the costs of the same
        # kind measured in this run: a process that starts and answers (the X server, the
        # agent), each far lighter than a GTK application, hence a wider factor.
        limit = (self.budget("xvfb", "agent_start", extra=0) * 6 if first else
                 self.budget("app_start"))
        self.root = self.wait("the application's window", self.find_app, limit)
        self.costs["app_start"] = max(self.costs.get("app_start", 0.0), monotonic() - t0)
        return self.root

    def find_app(self):
        desktop = pyatspi.Registry.getDesktop(0)
        for i in range(desktop.childCount):
            a = desktop.getChildAtIndex(i)
            try:
                if a is not None and a.get_process_id() == self.app.pid and a.childCount > 0:
                    frame = a.getChildAtIndex(0)
                    if frame is not None and frame.getState().contains(pyatspi.STATE_SHOWING):
                        return a
            except Exception:
                continue
        return None

    def app_alive(self):
        return self.app is not None and self.app.poll() is None

    def expect_alive(self, what):
        if not self.app_alive():
            self.fail("the application exited (%d) %s" % (self.app.returncode, what))

    def stop_app(self):
        """SIGTERM, as a desktop session ending sends it: the application must quit cleanly and
        exit 0 (under ASan, an error at exit fails it)."""
        if self.app is None:
            return
        self.expect_alive("before it was closed")
        self.app.terminate()
        try:
            rc = self.app.wait(self.ui())
        except subprocess.TimeoutExpired:
            self.fail("the application did not quit within %.1f s of SIGTERM" % self.ui())
        self.app = None
        self.root = None
        if rc != 0:
            self.fail("the application exited %d when closed" % rc)

    def window_id(self):
        p = subprocess.run(["xdotool", "search", "--onlyvisible", "--pid", str(self.app.pid)],
                           capture_output=True, text=True, env=self.env)
        ids = p.stdout.split()
        if not ids:
            self.fail("no visible window of the application")
        return ids[-1]

    # ---- the accessibility tree ------------------------------------------------------------------

    def _match(self, a, role, name, regex, showing):
        try:
            return self._match1(a, role, name, regex, showing)
        except Exception:  # gone while the tree changed, or no component (a stack page)
            return False

    def _match1(self, a, role, name, regex, showing):
        if a is None:
            return False
        if role is not None and a.getRoleName() != role:
            return False
        if name is not None and a.name != name:
            return False
        if regex is not None and not re.search(regex, a.name or ""):
            return False
        return not showing or self.showing(a)

    def showing(self, a):
        """On screen now. GTK 4.8 sets no SHOWING state below the window, and a widget on a
        stack page that was left keeps its last extents: Contains at its middle is what tells
        a mapped widget from a hidden one."""
        c = a.queryComponent()
        x, y, w, h = c.getExtents(pyatspi.WINDOW_COORDS)
        return w > 0 and h > 0 and c.contains(x + w // 2, y + h // 2, pyatspi.WINDOW_COORDS)

    def all(self, role=None, name=None, regex=None, showing=True, within=None):
        base = within or self.root
        return pyatspi.utils.findAllDescendants(
            base, lambda a: self._match(a, role, name, regex, showing))

    def find(self, role=None, name=None, regex=None, showing=True, within=None):
        base = within or self.root
        return pyatspi.utils.findDescendant(
            base, lambda a: self._match(a, role, name, regex, showing), breadth_first=True)

    def get(self, role=None, name=None, regex=None, within=None, limit=None):
        """Wait for a showing control and return it."""
        what = "%s %s" % (role or "control", name if name is not None else "/%s/" % regex)
        return self.wait(what, lambda: self.find(role, name, regex, within=within),
                         limit or self.ui())

    def gone(self, role=None, name=None, regex=None, limit=None):
        what = "%s %s to go" % (role or "control", name if name is not None else regex)
        self.wait(what, lambda: self.find(role, name, regex) is None, limit or self.ui())

    def texts(self, within=None):
        """Every showing label's text, in tree order."""
        return [a.name for a in self.all(role="label", within=within) if a.name]

    def shows(self, regex, limit=None, within=None):
        """Wait until a showing label (or any named control) says regex; return its text."""
        def look():
            for a in self.all(regex=regex, within=within):
                return a.name
            return None
        return self.wait("a text matching /%s/" % regex, look, limit or self.ui())

    def sensitive(self, a):
        return a.getState().contains(pyatspi.STATE_SENSITIVE)

    def click(self, name=None, role="push button", regex=None, within=None, limit=None):
        """Press a control through its accessible action, as an assistive technology does."""
        a = self.wait("%s %s to be usable" % (role, name if name is not None else regex),
                      lambda: (lambda b: b if b is not None and self.sensitive(b) else None)(
                          self.find(role, name, regex, within=within)), limit or self.ui())
        if not self.press(a):
            self.fail("%s %r went away as it was pressed" % (role, a.name))
        return a

    def press(self, a):
        """Press a through its accessible action; False when it went away meanwhile (the
        application changed its screen first)."""
        try:
            act = a.queryAction()
            names = [act.getName(i) for i in range(act.nActions)]
        except Exception:
            return False
        for wanted in ("click", "press", "activate", "toggle"):
            if wanted in names:
                try:
                    act.doAction(names.index(wanted))
                except Exception:
                    return False
                return True
        self.fail("%r has no action to press (%r)" % (a.name, names))

    def _focus_event(self, ev):
        try:
            if ev.detail1 == 1 and self.app is not None and \
                    ev.source.get_process_id() == self.app.pid:
                self.last_focus = ev.source
        except Exception:
            pass

    def focused_in_dialog(self, role="text"):
        """The focused control of role in a window other than the main one (a dialog of the
        toolkit's, whose focus may come before any event reaches the test)."""
        for i in range(1, self.root.childCount):
            w = self.root.getChildAtIndex(i)
            f = w and pyatspi.utils.findDescendant(
                w, lambda a: a is not None and a.getRoleName() == role and
                a.getState().contains(pyatspi.STATE_FOCUSED))
            if f is not None:
                return f
        return None

    def pump(self):
        while self.mainloop.iteration(False):
            pass

    def focused(self):
        """The control that has the keyboard focus (None before the first focus event)."""
        self.pump()
        f = self.last_focus
        try:
            return f if f is not None and f.getState().contains(pyatspi.STATE_FOCUSED) else None
        except Exception:
            return None

    def focus(self, a):
        """Give a control the keyboard focus: through AT-SPI when the toolkit allows it, else
        a pointer click at its middle (GTK 4.8 does not implement grabFocus)."""
        try:
            if a.queryComponent().grabFocus():
                return
        except Exception:
            pass
        self.pointer_click(a)
        self.wait("%s %r to take the focus" % (a.getRoleName(), a.name),
                  lambda: a.getState().contains(pyatspi.STATE_FOCUSED), self.ui())

    def text_of(self, a):
        """What an editable field holds (GTK 4.8 answers GetText(0, -1) with nothing)."""
        t = a.queryText()
        return t.getText(0, t.characterCount)

    def fill(self, entry, text):
        """Type text into entry, replacing what it holds, on the keyboard; wait until the
        field holds it (the keys reach the application through the X server, a separate path
        from the accessibility bus, so a click sent next could overtake them)."""
        self.focus(entry)
        self.chord("ctrl+a")
        self.key("BackSpace")
        self.type(text)
        self.wait("%r to hold %r" % (entry.name, text),
                  lambda: self.text_of(entry) == text, self.ui())

    def typed(self, field, n):
        """A secret field says how many characters it holds, never what they are."""
        said = self.N("%u character typed", "%u characters typed", n)
        self.wait("%r to say %r" % (field.name, said),
                  lambda: field.description == said, self.ui())

    def keypad(self, pin):
        """The PIN on the PIN screen's keypad, each digit seen counted, then Confirm."""
        field = self.get("text", name=self.T("PIN"))
        for i, d in enumerate(pin):
            self.click(d)
            self.typed(field, i + 1)
        self.click(self.T("Confirm"))

    def fill_secret(self, field, text):
        self.focus(field)
        self.type(text)
        self.typed(field, len(text))

    def pointer_click(self, a):
        x, y, w, h = a.queryComponent().getExtents(pyatspi.WINDOW_COORDS)
        geo = subprocess.run(["xdotool", "getwindowgeometry", "--shell", self.window_id()],
                             capture_output=True, text=True, env=self.env).stdout
        pos = dict(l.split("=", 1) for l in geo.split())
        subprocess.run(["xdotool", "mousemove", str(int(pos["X"]) + x + w // 2),
                        str(int(pos["Y"]) + y + h // 2), "click", "1"], env=self.env,
                       check=True)

    # ---- the keyboard --------------------------------------------------------------------------

    def key(self, name, times=1):
        for _ in range(times):
            pyatspi.Registry.generateKeyboardEvent(KEYSYMS[name], None, pyatspi.KEY_SYM)

    def chord(self, keys):
        """A key with modifiers, such as ctrl+a (xdotool, through XTest as the keys above)."""
        subprocess.run(["xdotool", "key", "--clearmodifiers", keys], env=self.env, check=True)

    def type(self, text):
        """Type text on the keyboard, one key per character (XTest, through the registry)."""
        for c in text:
            sym = ord(c) if ord(c) < 0x100 else 0x1000000 + ord(c)
            pyatspi.Registry.generateKeyboardEvent(sym, None, pyatspi.KEY_SYM)

    def tab_to(self, pred, what, back=False, most=80):
        """Press Tab (or shift-Tab) until the focused control satisfies pred: keyboard only."""
        for _ in range(most):
            f = self.focused()
            try:
                if f is not None and pred(f):
                    return f
            except Exception:
                pass
            before = self.last_focus
            if back:
                self.chord("shift+Tab")
            else:
                self.key("Tab")
            self.wait("the focus to move from %r" % (before.name if before else None),
                      lambda: self.last_focus is not before, self.ui())
        self.fail("Tab never reaches %s" % what)

    # ---- screenshots ----------------------------------------------------------------------------

    def screenshot(self, name):
        """The application's window as a PNG, read from the X server's frame buffer (an XWD
        image, -fbdir): tmp/shots/NAME.png, copied to $SESAME_GUI_SCREENSHOTS if set."""
        # the pointer out of the picture: Xvfb draws it into the frame buffer
        w, h = (int(v) for v in SCREEN.split("x")[:2])
        subprocess.run(["xdotool", "mousemove", str(w - 1), str(h - 1)], env=self.env, check=True)
        fb = os.path.join(self.tmp, "fb", "Xvfb_screen0")
        with open(fb, "rb") as f:
            data = f.read()
        width, height, rows, pixels = parse_xwd(data)
        geo = subprocess.run(["xdotool", "getwindowgeometry", "--shell", self.window_id()],
                             capture_output=True, text=True, env=self.env).stdout
        g = dict(l.split("=", 1) for l in geo.split())
        x, y = max(0, int(g["X"])), max(0, int(g["Y"]))
        w, h = min(int(g["WIDTH"]), width - x), min(int(g["HEIGHT"]), height - y)
        png = to_png(pixels, rows, x, y, w, h)
        path = os.path.join(self.tmp, "shots", name + ".png")
        with open(path, "wb") as f:
            f.write(png)
        if len(set(png_rows_sample(pixels, rows, x, y, w, h))) < 3:
            self.fail("screenshot %s: the window is blank" % name)
        out = os.environ.get("SESAME_GUI_SCREENSHOTS")
        if out:
            shutil.copy(path, os.path.join(out, name + ".png"))
        self.screens.append(path)
        return path

    def _shown_or_pageless(self, a):
        try:
            return self.showing(a)
        except Exception:  # a stack page has no extents: its children say
            return True

    def dump(self, a=None, depth=0):
        a = a or self.root
        lines = []
        try:
            st = a.getState()
            flags = "".join(c for c, s in (("F", pyatspi.STATE_FOCUSED),
                                           ("I", pyatspi.STATE_SENSITIVE)) if st.contains(s))
            lines.append("%s%s %r [%s]" % ("  " * depth, a.getRoleName(), a.name, flags))
            if depth < 40:
                for i in range(a.childCount):
                    c = a.getChildAtIndex(i)
                    if c is not None and self._shown_or_pageless(c):
                        lines.append(self.dump(c, depth + 1))
        except Exception as e:
            lines.append("%s(gone: %s)" % ("  " * depth, e))
        return "\n".join(lines)


def cformat(fmt):
    """A C format (%lld, %u, %02lld) as Python's % formats it."""
    return re.sub(r"%(\d*)(?:ll|l|z)?[du]", r"%\1d", fmt)


# ---- images, standard library only ---------------------------------------------------------------

def parse_xwd(data):
    """An XWD image as Xvfb keeps its screen: 32 bits per pixel, TrueColor, any byte order.
    Returns (width, height, bytes per line, pixel bytes as RGB rows)."""
    header_size, version = struct.unpack(">II", data[:8])
    order = ">"
    if version != 7:
        order = "<"
        header_size, version = struct.unpack("<II", data[:8])
    if version != 7:
        raise ValueError("not an XWD image")
    f = struct.unpack(order + "25I", data[:100])
    width, height = f[4], f[5]
    byte_order, bpp, bpl, ncolors = f[7], f[11], f[12], f[19]
    if bpp != 32:
        raise ValueError("XWD image of %d bits per pixel" % bpp)
    start = header_size + ncolors * 12
    return width, height, bpl, (data[start:start + bpl * height], byte_order)


def _rgb_row(pixels, bpl, x, y, w):
    raw, byte_order = pixels
    row = raw[y * bpl + x * 4:y * bpl + (x + w) * 4]
    if byte_order == 0:  # LSBFirst: B G R X
        b, g, r = row[0::4], row[1::4], row[2::4]
    else:  # MSBFirst: X R G B
        r, g, b = row[1::4], row[2::4], row[3::4]
    out = bytearray(w * 3)
    out[0::3], out[1::3], out[2::3] = r, g, b
    return bytes(out)


def png_rows_sample(pixels, bpl, x, y, w, h):
    return [_rgb_row(pixels, bpl, x, y + i, w) for i in range(0, h, max(1, h // 16))]


def to_png(pixels, bpl, x, y, w, h):
    def chunk(kind, body):
        c = struct.pack(">I", len(body)) + kind + body
        return c + struct.pack(">I", zlib.crc32(kind + body) & 0xffffffff)
    raw = b"".join(b"\x00" + _rgb_row(pixels, bpl, x, y + i, w) for i in range(h))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))
