// The finder of an assisted login (agent/fill.c), embedded in sesame-agent at build time by
// tools/embed-js.py. It runs in an isolated world of one frame (Page.createIsolatedWorld), which
// the page's scripts cannot reach: they cannot replace the functions used here. It is called
// with Runtime.callFunctionOn: its first argument holds the credential's selectors (JSON data,
// never code), the others are the frame's closed shadow roots, which the agent reaches through
// DOM.getDocument with pierce. It leaves its state in window.__sesame for the later calls
// (set, submit, changed, clear) and returns what it found. Whole-line comments are dropped when
// it is embedded. docs/protocol.md ("login") describes what it looks for.
function (opts, ...closed) {
  var setter = Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value').set;
  var LOGIN_WORDS = /^(se connecter|me connecter|je me connecte|poursuivre|connexion|s'identifier|m'identifier|identification|valider|continuer|suivant|envoyer|ok|entrer|acc[e\u00e9]der|log ?in|sign ?in|login|next|continue|submit|verify)\b/i;
  var OPENER_WORDS = /^(se connecter|me connecter|connexion|s'identifier|m'identifier|identification|mon compte|mon espace|espace personnel|log ?in|sign ?in|login)$/i;
  var EYE_WORDS = /afficher|masquer|montrer|cacher|voir|show|hide|reveal|toggle|visib|eye|oeil|\u0153il|\ud83d\udc41/i;

  // Hosts of closed shadow roots, for the walk.
  var closedOf = new Map();
  closed.forEach(function (r) {
    if (r && r.host && r.host.ownerDocument === document) closedOf.set(r.host, r);
  });
  function shadow(e) { return e.shadowRoot || closedOf.get(e) || null; }

  // Every element of the document in the order a person sees them, shadow content included
  // (open roots, and the closed roots the agent handed over).
  function composed() {
    var out = [];
    (function walk(node) {
      for (var c = node.firstElementChild; c; c = c.nextElementSibling) {
        out.push(c);
        var r = shadow(c);
        if (r) walk(r);
        walk(c);
      }
    })(document);
    return out;
  }
  var all = composed();
  var order = new Map();
  all.forEach(function (e, i) { order.set(e, i); });
  function roots() {
    var out = [document];
    all.forEach(function (e) { var r = shadow(e); if (r) out.push(r); });
    return out;
  }

  // "host >>> inner": each part after a ">>>" is looked up in the shadow roots of what the part
  // before it matched. A selector without ">>>" is tried in the document, then in every shadow
  // root. Invalid CSS matches nothing.
  function deep(sel) {
    if (typeof sel !== 'string' || !sel) return [];
    var parts = sel.split('>>>').map(function (s) { return s.trim(); });
    try {
      var found = parts.length > 1 ? Array.from(document.querySelectorAll(parts[0])) :
        [].concat.apply([], roots().map(function (r) {
          return Array.from(r.querySelectorAll(parts[0]));
        }));
      for (var i = 1; i < parts.length; i++) {
        var next = [];
        found.forEach(function (h) {
          var r = shadow(h);
          if (r) next = next.concat(Array.from(r.querySelectorAll(parts[i])));
        });
        found = next;
      }
      return found;
    } catch (x) {
      return [];
    }
  }

  function shown(e) {
    if (!e || !e.isConnected) return false;
    var r = e.getBoundingClientRect();
    if (r.width <= 0 || r.height <= 0) return false;
    if (e.checkVisibility && !e.checkVisibility({checkOpacity: true, checkVisibilityCSS: true}))
      return false;
    var s = getComputedStyle(e);
    return s.visibility !== 'hidden' && s.display !== 'none';
  }
  function vis(e) { return e && !e.disabled && !e.readOnly && e.type !== 'hidden' && shown(e); }
  // A modal dialog (showModal) or an inert ancestor keeps a person from reaching the element.
  function inert(e) {
    for (var n = e; n; n = n.parentNode || n.host) {
      if (n.nodeType === 1 && n.hasAttribute('inert')) return true;
    }
    var m = null;
    try { m = document.querySelector('dialog:modal'); } catch (x) { m = null; }
    if (!m) return false;
    for (var k = e; k; k = k.parentNode || k.host) if (k === m) return false;
    return true;
  }
  function ac(e) { return (e.getAttribute('autocomplete') || '').toLowerCase(); }
  // What a control shows, slotted content included (a design system's <button><slot>).
  function flat(n) {
    var t = '';
    n.childNodes.forEach(function (c) {
      if (c.nodeType === 3) t += c.data;
      else if (c.tagName === 'SLOT') c.assignedNodes({flatten: true}).forEach(function (a) {
        t += a.nodeType === 3 ? a.data : a.textContent;
      });
      else if (c.nodeType === 1) t += flat(c);
    });
    return t;
  }
  function text(e) {
    return (e.innerText || flat(e) || e.value || '').replace(/\s+/g, ' ').trim();
  }
  function label(e) {
    var t = [e.getAttribute('aria-label'), e.getAttribute('title'), e.getAttribute('alt')];
    var by = e.getAttribute('aria-labelledby');
    var root = e.getRootNode();
    if (by && root.getElementById) by.split(/\s+/).forEach(function (id) {
      var l = root.getElementById(id);
      if (l) t.push(text(l));
    });
    if (e.labels) for (var i = 0; i < e.labels.length; i++) t.push(text(e.labels[i]));
    return t.filter(Boolean).join(' ');
  }
  function words(e) {
    return [e.name, e.id, ac(e), e.placeholder, label(e)].join(' ').toLowerCase();
  }
  function form(e) {
    if (e.form) return e.form;
    for (var n = e.parentNode || e.host; n; n = n.parentNode || n.host)
      if (n.tagName === 'FORM') return n;
    return null;
  }
  function searchy(e) {
    var f = form(e);
    return e.type === 'search' || /search|recherche|query/.test(words(e)) || e.name === 'q' ||
      (f !== null && (f.getAttribute('role') === 'search' ||
        /search|recherche/.test((f.getAttribute('action') || '') + ' ' + f.id + ' ' +
          f.className)));
  }
  function textual(e) {
    var t = (e.getAttribute('type') || 'text').toLowerCase();
    return t === 'text' || t === 'email' || t === 'tel' || t === 'number';
  }
  function before(a, b) { return order.get(a) < order.get(b); }

  // A control about showing the password: never clicked.
  function eye(e) {
    var pwIds = inputs.filter(function (i) { return i.type === 'password' || i === S.p; })
      .map(function (i) { return i.id; }).filter(Boolean);
    var ctl = (e.getAttribute('aria-controls') || '').split(/\s+/);
    if (e.hasAttribute('aria-pressed') || ctl.some(function (c) { return pwIds.includes(c); }))
      return true;
    var all = [text(e), label(e), e.id, String(e.className && e.className.baseVal !== undefined ?
      e.className.baseVal : e.className), e.getAttribute('data-action') || ''].join(' ');
    if (EYE_WORDS.test(all)) return true;
    // an icon alone next to the password field
    return text(e) === '' && label(e) === '' && S.p !== null && e.parentNode !== null &&
      e.parentNode.contains(S.p);
  }
  function enabled(e) {
    return !e.disabled && e.getAttribute('aria-disabled') !== 'true' && shown(e) && !inert(e);
  }
  function sameOrigin(a) {
    if (a.tagName !== 'A') return true;
    var h = a.getAttribute('href') || '';
    if (/^\s*javascript:/i.test(h) || h === '' || h[0] === '#') return a.target !== '_blank';
    try {
      return new URL(a.href, location.href).origin === location.origin && a.target !== '_blank';
    } catch (x) {
      return false;
    }
  }
  function named(e, re) {
    var n = (label(e) || text(e) || e.value || '').replace(/\s+/g, ' ').trim();
    return n !== '' && n.length < 60 && re.test(n);
  }
  function clickables() {
    return all.filter(function (e) {
      return e.matches('button,input[type=button],input[type=submit],input[type=image],' +
        '[role=button],a[href]');
    });
  }

  function pick(sel, pw) {
    var l = deep(sel);
    for (var i = 0; i < l.length; i++) {
      var e = l[i];
      if (e.tagName !== 'INPUT') continue;
      if (!vis(e)) { S.hidden++; continue; }
      if (pw ? e.type === 'password' : textual(e) || e.type === 'search' || e.type === 'url')
        return e;
    }
    return null;
  }

  var S = {hidden: 0, vals: {}, p: null, u: null, keypad: null};
  var inputs = all.filter(function (e) { return e.tagName === 'INPUT'; });
  var su = pick(opts.user, false), sp = pick(opts.pass, true);
  var ins = inputs.filter(vis);
  var pws = ins.filter(function (e) { return e.type === 'password' && !/new-password/.test(ac(e)); });
  // a page whose only password field says new-password (a trick against browsers) is still a
  // password step: never send it empty
  var fresh = ins.filter(function (e) { return e.type === 'password' && /new-password/.test(ac(e)); });
  if (!pws.length && fresh.length === 1) pws = fresh;
  var p = sp || pws.filter(function (e) { return /current-password/.test(ac(e)); })[0] ||
    pws[0] || null;
  S.p = p;

  // A virtual keypad: a read-only code field, and buttons carrying one digit each.
  if (!p) {
    var code = inputs.filter(function (e) {
      return shown(e) && !e.disabled && e.readOnly && (e.type === 'password' ||
        /code|mot de passe|password|secret|pin/.test(words(e)));
    })[0];
    if (code) {
      var keys = {};
      clickables().forEach(function (b) {
        var d = b.getAttribute('data-digit') || b.getAttribute('data-value') ||
          b.getAttribute('data-key') || text(b);
        if (/^[0-9]$/.test(d) && shown(b) && !keys[d]) keys[d] = b;
      });
      if (Object.keys(keys).length === 10) { p = S.p = code; S.keypad = keys; }
    }
  }

  var f = p ? form(p) : null, u = su, best = 0;
  function uscore(e) {
    if (searchy(e)) return -1;
    var a = ac(e);
    if (/\busername\b/.test(a)) return 10;
    if (/\bemail\b/.test(a) || e.type === 'email') return 6;
    if (/user|login|e-?mail|identifi|account|compte|pseudo|nir|num|fiscal|siret|allocataire/
      .test(words(e))) return 4;
    return 1;
  }
  if (!u) ins.filter(textual).forEach(function (e) {
    var sc = uscore(e);
    if (p) {
      if (sc < 1 || (f && form(e) !== f) || !before(e, p)) return;
    } else {
      if (sc < 4) return;
    }
    if (sc > best) { best = sc; u = e; }
  });
  S.u = u;
  S.f = p ? f : (u ? form(u) : null);
  // login fields that exist but cannot be seen: a form that needs a step first
  inputs.forEach(function (e) {
    if (!shown(e) && e.type !== 'hidden' && (e.type === 'password' || /username|current-password/.test(ac(e))))
      S.hidden++;
  });
  var fields = [u, p].filter(Boolean);

  function fire(e, t) { e.dispatchEvent(new Event(t, {bubbles: true, composed: true})); }
  function key(e, t, k) {
    e.dispatchEvent(new KeyboardEvent(t, {bubbles: true, composed: true, key: k,
      code: k === 'Enter' ? 'Enter' : 'Digit' + k, keyCode: k === 'Enter' ? 13 : k.charCodeAt(0)}));
  }
  function press(e) {
    ['pointerdown', 'mousedown', 'pointerup', 'mouseup'].forEach(function (t) {
      e.dispatchEvent(new (t[0] === 'p' ? PointerEvent : MouseEvent)(t,
        {bubbles: true, composed: true, cancelable: true, button: 0}));
    });
    e.click();
  }
  S.set = function (k, v) {
    var e = S[k];
    if (!e || !e.isConnected) return false;
    if (k === 'p' && S.keypad) {
      if (!/^[0-9]+$/.test(v)) return 'keypad';
      for (var i = 0; i < v.length; i++) press(S.keypad[v[i]]);
      S.vals[k] = e.value;
      return e.value.length === v.length;
    }
    e.focus && e.focus({preventScroll: true});
    setter.call(e, v);
    fire(e, 'input');
    fire(e, 'change');
    key(e, 'keyup', v.slice(-1) || 'a');
    S.vals[k] = e.value;
    // an input mask may space or punctuate a number as it shows it (1 85 05 75 123 456 78):
    // the username is the same once those are left out; the password must be exact
    return k === 'u' ? bare(e.value) === bare(v) && bare(v) !== '' || e.value === v : e.value === v;
  };
  function bare(t) { return t.replace(/[\s.\-\/()]/g, ''); }
  S.intact = function () {
    var n = 0;
    for (var k in S.vals) {
      n++;
      if (!S[k].isConnected || S[k].value !== S.vals[k]) return false;
    }
    return n > 0;
  };
  // The control that sends the form, looked for once the values are set and the page's
  // validation has run: the recorded selector; the form's own submit button; a button, a
  // role=button or a same-origin link named like a login; never a password-showing toggle.
  S.control = function () {
    var l = deep(opts.submit).filter(function (e) { return enabled(e) && !eye(e); });
    if (l.length) return l[0];
    var last = fields[fields.length - 1];
    var keys = S.keypad ? Object.keys(S.keypad).map(function (d) { return S.keypad[d]; }) : [];
    var c = clickables().filter(function (e) {
      return enabled(e) && !eye(e) && sameOrigin(e) && !keys.includes(e);
    });
    var sub = c.filter(function (e) {
      return S.f && form(e) === S.f && (e.type === 'submit' || e.type === 'image');
    });
    var typeless = c.filter(function (e) {
      return S.f && form(e) === S.f && e.tagName === 'BUTTON' && !e.hasAttribute('type') &&
        (text(e) !== '' || label(e) !== '');
    });
    var namedc = c.filter(function (e) { return named(e, LOGIN_WORDS); });
    var after = function (e) { return !last || !before(e, last); };
    return sub.filter(after)[0] || sub[0] || typeless.filter(function (e) {
      return named(e, LOGIN_WORDS);
    })[0] || namedc.filter(function (e) { return S.f && form(e) === S.f; })[0] ||
      namedc.filter(after)[0] || typeless[0] || null;
  };
  // A disabled submit button of the form: the page's validation has not let it go yet.
  S.pending = function () {
    return !!S.f && Array.from(S.f.querySelectorAll('button,input[type=submit]'))
      .some(function (e) { return shown(e) && e.disabled && !eye(e); });
  };
  // One way to send, in order: 'click', then 'request' (requestSubmit), then 'enter'.
  // Resolves with what was done ('none' when that way does not apply), once the validation
  // has had up to wait ms to enable a control; the action itself runs just after, so the
  // answer leaves before a navigation.
  S.submit = function (how, wait) {
    return new Promise(function (resolve) {
      if (!S.intact()) return resolve('changed');
      // a visible password field left empty would be sent empty: never
      if (!S.p && S.f && Array.from(S.f.querySelectorAll('input[type=password]'))
        .some(function (e) { return shown(e) && e.value === ''; })) return resolve('empty');
      var end = Date.now() + wait;
      (function attempt() {
        var act = null, what = 'none';
        if (how === 'click') {
          var b = S.control();
          if (!b && S.pending() && Date.now() < end) return setTimeout(attempt, 50);
          if (b) { act = function () { press(b); }; what = 'click'; }
        } else if (how === 'request' && S.f && S.f.requestSubmit) {
          act = function () { S.f.requestSubmit(); };
          what = 'request';
        } else if (how === 'enter') {
          var e = fields[fields.length - 1];
          act = function () { ['keydown', 'keypress', 'keyup'].forEach(function (t) {
            key(e, t, 'Enter'); }); };
          what = 'enter';
        }
        resolve(what);
        if (act) setTimeout(act, 0);
      })();
    });
  };
  // Did the page move on without a request: the filled fields gone or hidden, or a password
  // field where there was none (a single-page two-step login)?
  S.changed = function () {
    for (var k in S.vals) if (!S[k].isConnected || !shown(S[k])) return true;
    return !S.p && composed().some(function (e) {
      return e.tagName === 'INPUT' && e.type === 'password' && vis(e);
    });
  };
  S.wipe = function () {
    var n = 0;
    composed().forEach(function (e) {
      if (e.tagName === 'INPUT' && (e.type === 'password' || e === S.p) && e.value !== '') {
        setter.call(e, '');
        fire(e, 'input');
        fire(e, 'change');
        n++;
      }
    });
    S.vals = {};
    return n;
  };
  // Frames whose document cannot be reached (another origin).
  S.foreign = function () {
    var n = 0;
    all.filter(function (e) { return e.matches('iframe,frame,object,embed'); })
      .forEach(function (e) {
        var d = null;
        try { d = e.contentDocument; } catch (x) { d = null; }
        if (!d) n++;
      });
    return n;
  };
  // Before any field: a visible control that opens the login form ("Se connecter"), on this
  // origin. Clicked by the agent only while nothing is in the page.
  // Never a control of a form with fields (it would send that form empty), and not at all when
  // the clues see login fields (they wait for a recorded selector, or behind a window).
  S.opener = function () {
    if (u || p) return false;
    var b = clickables().filter(function (e) {
      var f = form(e);
      return enabled(e) && sameOrigin(e) && named(e, OPENER_WORDS) &&
        !(f && Array.from(f.elements).some(function (i) {
          return i.tagName === 'INPUT' && i.type !== 'hidden';
        }));
    })[0];
    if (!b) return false;
    setTimeout(function () { press(b); }, 0);
    return true;
  };
  // A recorded step before the form (--before-click): the first visible match, clicked.
  S.step = function (sel) {
    var b = deep(sel).filter(function (e) { return shown(e) && !e.disabled; })[0];
    if (!b) return false;
    setTimeout(function () { press(b); }, 0);
    return true;
  };
  window.__sesame = S;
  return {
    u: !!u, p: !!p, su: opts.user ? (su ? 1 : -1) : 0, sp: opts.pass ? (sp ? 1 : -1) : 0,
    foreign: S.foreign(), hidden: S.hidden, keypad: !!S.keypad,
    inert: fields.some(inert)
  };
}
