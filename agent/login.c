/* Assisted login: the agent fills the person's login page in the worker's browser, over the
 * DevTools pipe the CLI handed over with SCM_RIGHTS. The loop's thread checks the session and the
 * consent and writes "login_started" before anything reaches the browser; a dedicated thread
 * then speaks CDP (so the loop keeps serving), and posts its result through the pool's done
 * list; the loop writes "login_filled" or "login_failed" and replies. The password is filled
 * only into a frame whose origin (scheme, host, port) is the credential's. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "agent.h"
#include "cdp.h"
#include "proto.h"

#define LOGIN_ATTACH_MS 15000	   /* the browser starts and shows its first page */
#define LOGIN_LOAD_MS 20000	   /* a login page loads */
#define LOGIN_FIND_MS 15000	   /* scripts render the form */
#define LOGIN_STEP_MS 2000	   /* one command to the page */
#define LOGIN_AFTER_SUBMIT_MS 8000 /* the submission leaves and the next page loads */
#define LOGIN_POLL_MS 300
#define LOGIN_SELECTOR_GRACE_MS 3000 /* a recorded selector's field may render late */
#define LOGIN_FRAMES_MAX 32
#define LOGIN_KEEP_OPEN_S (12 * 3600) /* a kept browser is closed after a working day */
#define LOGIN_RUNNING_MAX 16	      /* browsers driven at once, kept ones included */
#define LOGIN_REASON_MAX 32
#define LOGIN_DETAIL_MAX 160

/* What a login thread reports to the loop: no secret in here. */
struct login_result {
	int filled, submitted, screenshot, by_selector;
	unsigned steps;
	char reason[LOGIN_REASON_MAX];
	char detail[LOGIN_DETAIL_MAX];
	char user[VAULT_USER_ID_HEX];
	char service[VAULT_NAME_MAX + 1];
	char credential[VAULT_ENTRY_ID_HEX];
	char purpose[AGENT_PURPOSE_MAX + 1];
};

/* A login thread's own copy of what it needs: it never touches the session or the vault. */
struct login_task {
	struct pool *pool;
	unsigned conn_id;
	uid_t worker;
	char worker_login[AGENT_LOGIN_MAX];
	char *url, *username, *password; /* sodium_malloc */
	char *user_sel, *pass_sel;	 /* the credential's field selectors, "" for none */
	struct cdp_origin origin;
	int rfd, wfd, shot_fd;
	int no_submit, keep_open;
	struct login_result res;
};

/* Each page's frame being examined: its isolated world holds the finder's state. sel_user and
 * sel_pass: 1 when the recorded selector found that field, -1 when it matched nothing usable, 0
 * when none is recorded. */
struct frame_hit {
	int context;
	int user, pass;
	int sel_user, sel_pass;
};

static pthread_mutex_t running_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t running_done = PTHREAD_COND_INITIALIZER;
static unsigned running;
static int cancel_pipe[2] = {-1, -1}; /* a byte on it ends every login thread's waits */

/* Runs in an isolated world, so the page's own scripts cannot replace the functions it calls.
 * Called with the credential's two selectors as arguments (data, never code). A selector that
 * finds a visible, enabled <input> (of type password for the password) gives that field;
 * otherwise the clues do: the password field (current-password first, never new-password), the
 * username-like field of the same form (or, without a password field, one that says it is a
 * username and is not a search box), and the form's submit button. */
static const char finder_js[] =
    "function(us,ps){"
    "function vis(e){if(!e||e.disabled||e.readOnly||e.type==='hidden')return false;"
    "var r=e.getBoundingClientRect();if(r.width<=0||r.height<=0)return false;"
    "var s=getComputedStyle(e);return s.visibility!=='hidden'&&s.display!=='none';}"
    "function ac(e){return(e.getAttribute('autocomplete')||'').toLowerCase();}"
    "function words(e){var t=[e.name,e.id,ac(e),e.placeholder,e.getAttribute('aria-label')]"
    ".join(' ');if(e.labels)for(var i=0;i<e.labels.length;i++)t+=' '+e.labels[i].textContent;"
    "return t.toLowerCase();}"
    "function searchy(e){var f=e.form;return e.type==='search'||/search|recherche|query/"
    ".test(words(e))||e.name==='q'||(f!=null&&(f.getAttribute('role')==='search'||"
    "/search|recherche/.test((f.getAttribute('action')||'')+' '+f.id+' '+f.className)));}"
    "function textual(e){var t=(e.getAttribute('type')||'text').toLowerCase();"
    "return t==='text'||t==='email'||t==='tel'||t==='number';}"
    "function button(sc){if(!sc)return null;var b=sc.querySelector('button[type=submit],"
    "input[type=submit],button:not([type])');return b&&vis(b)?b:null;}"
    "function uscore(e){if(searchy(e))return -1;var a=ac(e);if(/\\busername\\b/.test(a))"
    "return 10;if(/\\bemail\\b/.test(a)||e.type==='email')return 6;"
    "if(/user|login|e-?mail|identifi|account|compte|pseudo|nir|num/.test(words(e)))return 4;"
    "return 1;}"
    "function pick(sel,pw){if(typeof sel!=='string'||!sel)return null;var e=null;"
    "try{e=document.querySelector(sel);}catch(x){return null;}"
    "if(!e||e.tagName!=='INPUT'||!vis(e))return null;"
    "return(pw?e.type==='password':textual(e)||e.type==='search'||e.type==='url')?e:null;}"
    "var su=pick(us,false),sp=pick(ps,true);"
    "var ins=Array.prototype.slice.call(document.querySelectorAll('input')).filter(vis);"
    "var pws=ins.filter(function(e){return e.type==='password'&&!/new-password/.test(ac(e));});"
    "var p=sp||pws.filter(function(e){return /current-password/.test(ac(e));})[0]||pws[0]||null;"
    "var f=p?p.form:null,u=su,best=0;"
    "if(!u)ins.filter(textual).forEach(function(e){var sc=uscore(e);"
    "if(p){if(sc<1||(f&&e.form!==f)||!(e.compareDocumentPosition(p)&"
    "Node.DOCUMENT_POSITION_FOLLOWING))return;}"
    "else{if(sc<4)return;if(button(e.form||e.parentElement))sc+=1;}"
    "if(sc>best){best=sc;u=e;}});"
    "if(!p&&u)f=u.form;"
    "var S={u:u,p:p,f:f,s:button(f)||(u?button(u.parentElement):null)};"
    "S.focus=function(k){var e=S[k];e.focus();if(e.select)e.select();"
    "return document.activeElement===e&&e.isConnected?location.origin:'';};"
    "S.len=function(k){return S[k].value.length;};"
    "S.submit=function(){if(S.s){S.s.click();return 'click';}"
    "if(S.f){if(S.f.requestSubmit)S.f.requestSubmit();else S.f.submit();return 'form';}"
    "return 'enter';};"
    "window.__sesame=S;"
    "return{u:!!u,p:!!p,su:us?(su?1:-1):0,sp:ps?(sp?1:-1):0};}";

static void fail(struct login_task *t, const char *reason, const char *detail)
{
	if (t->res.reason[0] != '\0')
		return; /* the first failure is the cause */
	snprintf(t->res.reason, sizeof(t->res.reason), "%s", reason);
	snprintf(t->res.detail, sizeof(t->res.detail), "%s", detail);
}

static void fail_cdp(struct login_task *t, int ret)
{
	fail(t,
	     ret == CDP_E_TIMEOUT     ? "timeout"
	     : ret == CDP_E_CANCELLED ? "agent_stopping"
				      : "browser",
	     cdp_strerror(ret));
}

static cJSON *params_str(const char *k, const char *v)
{
	cJSON *p = cJSON_CreateObject();

	cJSON_AddStringToObject(p, k, v);
	return p;
}

static cJSON *params_bool(const char *k, int v)
{
	cJSON *p = cJSON_CreateObject();

	cJSON_AddBoolToObject(p, k, v);
	return p;
}

/* The first tab's target id, or a new tab's. */
static int find_page(struct cdp *c, long long dl, char target[64])
{
	cJSON *r = NULL, *ti;
	const char *id = NULL;
	int ret;

	if ((ret = cdp_call(c, "Target.getTargets", NULL, 0, dl, &r)) != CDP_OK)
		return ret;
	cJSON_ArrayForEach(ti, cJSON_GetObjectItemCaseSensitive(r, "targetInfos"))
	{
		const char *type = proto_string(ti, "type");
		if (type != NULL && strcmp(type, "page") == 0 &&
		    (id = proto_string(ti, "targetId")) != NULL)
			break;
	}
	if (id == NULL) {
		cJSON_Delete(r);
		ret =
		    cdp_call(c, "Target.createTarget", params_str("url", "about:blank"), 0, dl, &r);
		id = proto_string(r, "targetId");
	}
	if (ret == CDP_OK && (id == NULL || strlen(id) >= 64))
		ret = CDP_E_PROTO;
	if (ret == CDP_OK)
		snprintf(target, 64, "%s", id);
	cJSON_Delete(r);
	return ret;
}

/* Attach to the page with a flattened session; page events on, focus emulated so a headless or
 * background window still focuses the fields. */
static int attach(struct cdp *c, struct login_task *t)
{
	long long dl = cdp_now_ms() + LOGIN_ATTACH_MS;
	char target[64];
	cJSON *r = NULL, *p;
	const char *sid;
	int ret;

	if ((ret = find_page(c, dl, target)) != CDP_OK)
		goto out;
	p = params_str("targetId", target);
	cJSON_AddTrueToObject(p, "flatten");
	if ((ret = cdp_call(c, "Target.attachToTarget", p, 0, dl, &r)) != CDP_OK)
		goto out;
	if ((sid = proto_string(r, "sessionId")) == NULL || strlen(sid) >= sizeof(c->session)) {
		ret = CDP_E_PROTO;
		goto out;
	}
	snprintf(c->session, sizeof(c->session), "%s", sid);
	if ((ret = cdp_call(c, "Page.enable", NULL, 1, dl, NULL)) == CDP_OK)
		ret = cdp_call(c, "Emulation.setFocusEmulationEnabled", params_bool("enabled", 1),
			       1, dl, NULL);
out:
	cJSON_Delete(r);
	if (ret != CDP_OK)
		fail_cdp(t, ret);
	return ret;
}

/* Go to the login URL and wait for its load event (a slow page is looked at anyway). */
static int navigate(struct cdp *c, struct login_task *t)
{
	long long dl = cdp_now_ms() + LOGIN_LOAD_MS;
	cJSON *r = NULL;
	int ret = cdp_call(c, "Page.navigate", params_str("url", t->url), 1, dl, &r);

	if (ret == CDP_OK && proto_string(r, "errorText") != NULL) {
		fail(t, "unreachable", proto_string(r, "errorText"));
		ret = CDP_E_COMMAND;
	} else if (ret != CDP_OK) {
		fail_cdp(t, ret);
	} else if ((ret = cdp_wait_event(c, "Page.loadEventFired", dl, NULL)) == CDP_E_TIMEOUT) {
		ret = CDP_OK;
	} else if (ret != CDP_OK) {
		fail_cdp(t, ret);
	}
	cJSON_Delete(r);
	return ret;
}

/* The value of a Runtime call's result (by value) into *value; a thrown exception fails. */
static int runtime_call(struct cdp *c, const char *method, cJSON *p, cJSON **value)
{
	cJSON *r = NULL;
	int ret;

	*value = NULL;
	cJSON_AddTrueToObject(p, "returnByValue");
	ret = cdp_call(c, method, p, 1, cdp_now_ms() + LOGIN_STEP_MS, &r);
	if (ret == CDP_OK && cJSON_GetObjectItemCaseSensitive(r, "exceptionDetails") != NULL)
		ret = CDP_E_COMMAND;
	if (ret == CDP_OK)
		*value = cJSON_DetachItemFromObjectCaseSensitive(
		    cJSON_GetObjectItemCaseSensitive(r, "result"), "value");
	cJSON_Delete(r);
	return ret;
}

/* Evaluate expr (fixed text of ours) in an execution context. */
static int eval(struct cdp *c, int context, const char *expr, cJSON **value)
{
	cJSON *p = params_str("expression", expr);

	cJSON_AddNumberToObject(p, "contextId", context);
	return runtime_call(c, "Runtime.evaluate", p, value);
}

/* Call the finder with the selectors as call arguments: JSON values the page's parser never
 * sees as code, whatever quotes or script a selector holds. */
static int finder_call(struct cdp *c, int context, const struct login_task *t, cJSON **value)
{
	cJSON *p = params_str("functionDeclaration", finder_js);
	cJSON *args = cJSON_AddArrayToObject(p, "arguments");

	cJSON_AddItemToArray(args, params_str("value", t->user_sel));
	cJSON_AddItemToArray(args, params_str("value", t->pass_sel));
	cJSON_AddNumberToObject(p, "executionContextId", context);
	return runtime_call(c, "Runtime.callFunctionOn", p, value);
}

struct frame_ref {
	char id[64];
	char origin[CDP_HOST_MAX + 16];
};

static void frames_collect(const cJSON *tree, struct frame_ref *out, size_t *n)
{
	const cJSON *frame = cJSON_GetObjectItemCaseSensitive(tree, "frame"), *child;
	const char *id = proto_string(frame, "id"), *origin = proto_string(frame, "securityOrigin");

	if (*n >= LOGIN_FRAMES_MAX || id == NULL)
		return;
	snprintf(out[*n].id, sizeof(out[*n].id), "%s", id);
	snprintf(out[*n].origin, sizeof(out[*n].origin), "%s", origin != NULL ? origin : "");
	(*n)++;
	cJSON_ArrayForEach(child, cJSON_GetObjectItemCaseSensitive(tree, "childFrames"))
	    frames_collect(child, out, n);
}

/* Every frame of the page, the top one first. */
static int frames_list(struct cdp *c, struct frame_ref *out, size_t *n)
{
	cJSON *r = NULL;
	int ret = cdp_call(c, "Page.getFrameTree", NULL, 1, cdp_now_ms() + LOGIN_STEP_MS, &r);

	*n = 0;
	if (ret == CDP_OK)
		frames_collect(cJSON_GetObjectItemCaseSensitive(r, "frameTree"), out, n);
	cJSON_Delete(r);
	return ret == CDP_OK && *n == 0 ? CDP_E_PROTO : ret;
}

/* The finder's small integers; anything else is 0 ("no selector"). */
static int json_int(const cJSON *o, const char *key)
{
	const cJSON *n = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsNumber(n) ? n->valueint : 0;
}

/* Run the finder in a fresh isolated world of the frame. */
static int frame_scan(struct cdp *c, const struct login_task *t, const char *frame,
		      struct frame_hit *hit)
{
	cJSON *p = params_str("frameId", frame), *r = NULL, *v = NULL;
	const cJSON *ctx;
	int ret;

	memset(hit, 0, sizeof(*hit));
	cJSON_AddStringToObject(p, "worldName", "sesame");
	ret = cdp_call(c, "Page.createIsolatedWorld", p, 1, cdp_now_ms() + LOGIN_STEP_MS, &r);
	ctx = cJSON_GetObjectItemCaseSensitive(r, "executionContextId");
	if (ret == CDP_OK && !cJSON_IsNumber(ctx))
		ret = CDP_E_PROTO;
	if (ret == CDP_OK) {
		hit->context = ctx->valueint;
		ret = finder_call(c, hit->context, t, &v);
	}
	if (ret == CDP_OK) {
		hit->user = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(v, "u"));
		hit->pass = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(v, "p"));
		hit->sel_user = json_int(v, "su");
		hit->sel_pass = json_int(v, "sp");
	}
	cJSON_Delete(v);
	cJSON_Delete(r);
	return ret;
}

static int has_selectors(const struct login_task *t)
{
	return t->user_sel[0] != '\0' || t->pass_sel[0] != '\0';
}

/* 2: a recorded selector found a field of this hit; 1: the clues found it and no recorded
 * selector says otherwise, or trust_clues (the selectors had their time); 0: not yet usable. */
static int hit_rank(const struct frame_hit *h, int trust_clues)
{
	if (h->sel_user > 0 || h->sel_pass > 0)
		return 2;
	if (!trust_clues && ((h->sel_user < 0 && h->user) || (h->sel_pass < 0 && h->pass)))
		return 0;
	return 1;
}

/* One look at the page. Returns 1 with *hit set (want_pass: a password field; otherwise a
 * username or password field), 0 when nothing yet, -1 on a refusal or a browser failure.
 * Fields in a frame of another origin, or a page that left the credential's origin, refuse.
 * With selectors, every frame is looked at: a frame where they match wins over the clues. */
static int page_scan(struct cdp *c, struct login_task *t, int want_pass, int trust_clues,
		     struct frame_hit *hit)
{
	struct frame_ref frames[LOGIN_FRAMES_MAX];
	struct frame_hit h;
	size_t n;
	int ret, best = 0, enough = has_selectors(t) ? 2 : 1, foreign = 0;

	if ((ret = frames_list(c, frames, &n)) != CDP_OK) {
		fail_cdp(t, ret);
		return -1;
	}
	if (!cdp_origin_same(&t->origin, frames[0].origin) &&
	    strcmp(frames[0].origin, "://") != 0 && frames[0].origin[0] != '\0') {
		char detail[LOGIN_DETAIL_MAX];
		snprintf(detail, sizeof(detail), "the page is on %.100s, not the credential's site",
			 frames[0].origin);
		fail(t, "origin", detail);
		return -1;
	}
	for (size_t i = 0; i < n && best < enough; i++) {
		int rank;
		ret = frame_scan(c, t, frames[i].id, &h);
		if (ret == CDP_E_CLOSED || ret == CDP_E_CANCELLED) {
			fail_cdp(t, ret);
			return -1;
		}
		if (ret != CDP_OK || !(h.pass || (!want_pass && h.user)))
			continue; /* a frame that went away while we looked */
		if (!cdp_origin_same(&t->origin, frames[i].origin)) {
			foreign = 1;
			continue;
		}
		if ((rank = hit_rank(&h, trust_clues)) > best) {
			*hit = h;
			best = rank;
		}
	}
	if (best == 0 && foreign) {
		fail(t, "origin", "the login form is in a frame of another site");
		return -1;
	}
	return best > 0;
}

static void pause_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

/* Poll the page until the fields appear (scripts may render them after the load event). */
static int fields_wait(struct cdp *c, struct login_task *t, int want_pass, struct frame_hit *hit)
{
	long long start = cdp_now_ms(), dl = start + LOGIN_FIND_MS;
	int ret;

	for (;;) {
		/* the clues wait a little while recorded selectors match nothing: their field may
		 * render late, and the clues are what the selectors were recorded to overrule */
		int trust_clues =
		    !has_selectors(t) || cdp_now_ms() >= start + LOGIN_SELECTOR_GRACE_MS;
		if ((ret = page_scan(c, t, want_pass, trust_clues, hit)) != 0)
			return ret > 0 ? 0 : -1;
		if (cdp_now_ms() >= dl)
			break;
		pause_ms(LOGIN_POLL_MS);
	}
	if (has_selectors(t))
		fail(t, "selectors",
		     "the recorded selectors matched no usable field, and the usual clues found "
		     "no login form either");
	else
		fail(t, "not_found", "no login form was found on the page");
	return -1;
}

/* Focus the field, check it is still in a frame of the credential's origin, and type the text
 * as the keyboard would (input events that front-end frameworks listen to). */
static int field_fill(struct cdp *c, struct login_task *t, const struct frame_hit *hit,
		      const char *key, const char *text)
{
	char expr[64];
	cJSON *v = NULL;
	int ret;

	snprintf(expr, sizeof(expr), "__sesame.focus('%s')", key);
	if ((ret = eval(c, hit->context, expr, &v)) != CDP_OK) {
		fail(t, "not_found", "the field disappeared before it was filled");
		return -1;
	}
	if (!cdp_origin_same(&t->origin, cJSON_GetStringValue(v))) {
		cJSON_Delete(v);
		fail(t, "origin", "the field is not on the credential's site");
		return -1;
	}
	cJSON_Delete(v);
	ret = cdp_call(c, "Input.insertText", params_str("text", text), 1,
		       cdp_now_ms() + LOGIN_STEP_MS, NULL);
	if (ret != CDP_OK) {
		fail_cdp(t, ret);
		return -1;
	}
	snprintf(expr, sizeof(expr), "__sesame.len('%s')", key);
	if (eval(c, hit->context, expr, &v) != CDP_OK || !cJSON_IsNumber(v) || v->valuedouble < 1) {
		cJSON_Delete(v);
		fail(t, "not_filled", "the page did not take the typed text");
		return -1;
	}
	cJSON_Delete(v);
	return 0;
}

static int key_enter(struct cdp *c)
{
	static const char *const types[] = {"keyDown", "keyUp"};
	int ret = CDP_OK;

	for (size_t i = 0; i < 2 && ret == CDP_OK; i++) {
		cJSON *p = params_str("type", types[i]);
		cJSON_AddStringToObject(p, "key", "Enter");
		cJSON_AddStringToObject(p, "code", "Enter");
		cJSON_AddNumberToObject(p, "windowsVirtualKeyCode", 13);
		if (i == 0)
			cJSON_AddStringToObject(p, "text", "\r");
		ret =
		    cdp_call(c, "Input.dispatchKeyEvent", p, 1, cdp_now_ms() + LOGIN_STEP_MS, NULL);
	}
	return ret;
}

/* Click the form's button, else submit the form, else press Enter in the focused field; then
 * let the submission leave and the next page load. */
static int form_submit(struct cdp *c, struct login_task *t, const struct frame_hit *hit)
{
	cJSON *v = NULL;
	int ret = eval(c, hit->context, "__sesame.submit()", &v);
	const char *how = cJSON_GetStringValue(v);

	if (ret == CDP_OK && how != NULL && strcmp(how, "enter") == 0)
		ret = key_enter(c);
	cJSON_Delete(v);
	if (ret != CDP_OK && ret != CDP_E_COMMAND) {
		fail_cdp(t, ret);
		return -1;
	}
	/* any frame's: a form in an iframe navigates that frame only */
	ret = cdp_wait_event(c, "Page.frameStoppedLoading", cdp_now_ms() + LOGIN_AFTER_SUBMIT_MS,
			     NULL);
	if (ret == CDP_E_CLOSED || ret == CDP_E_CANCELLED) {
		fail_cdp(t, ret);
		return -1;
	}
	t->res.submitted = 1;
	return 0;
}

/* One page of the flow: fill what it shows, submit unless told not to. *more is set when the
 * page showed the username alone (step one of a two-step login). */
static int step_fill(struct cdp *c, struct login_task *t, int want_pass, int *more)
{
	struct frame_hit hit;

	*more = 0;
	if (fields_wait(c, t, want_pass, &hit) != 0)
		return -1;
	t->res.steps++;
	if (hit.sel_user > 0 || hit.sel_pass > 0)
		t->res.by_selector = 1;
	if (hit.user && field_fill(c, t, &hit, "u", t->username) != 0)
		return -1;
	if (hit.pass && field_fill(c, t, &hit, "p", t->password) != 0)
		return -1;
	*more = !hit.pass;
	if (t->no_submit)
		return 0;
	return form_submit(c, t, &hit);
}

/* A PNG of the page after the login, written to the descriptor the CLI sent. */
static void screenshot(struct cdp *c, struct login_task *t)
{
	cJSON *p = params_str("format", "png"), *r = NULL;
	const char *b64;
	unsigned char *png = NULL;
	size_t len = 0, cap;

	if (cdp_call(c, "Page.captureScreenshot", p, 1, cdp_now_ms() + LOGIN_LOAD_MS, &r) !=
		CDP_OK ||
	    (b64 = proto_string(r, "data")) == NULL)
		goto out;
	cap = strlen(b64) / 4 * 3 + 3;
	if ((png = malloc(cap)) == NULL ||
	    sodium_base642bin(png, cap, b64, strlen(b64), NULL, &len, NULL,
			      sodium_base64_VARIANT_ORIGINAL) != 0)
		goto out;
	for (size_t off = 0; off < len;) {
		ssize_t w = write(t->shot_fd, png + off, len - off);
		if (w <= 0 && errno != EINTR)
			goto out;
		off += w > 0 ? (size_t)w : 0;
	}
	t->res.screenshot = 1;
out:
	free(png);
	cJSON_Delete(r);
}

static void login_run(struct cdp *c, struct login_task *t)
{
	int more = 0;

	if (attach(c, t) != CDP_OK || navigate(c, t) != CDP_OK)
		return;
	if (step_fill(c, t, 0, &more) != 0)
		return;
	if (more && !t->no_submit && step_fill(c, t, 1, &more) != 0)
		return;
	t->res.filled = 1;
	if (t->shot_fd >= 0)
		screenshot(c, t);
}

static void task_free(struct login_task *t)
{
	if (t == NULL)
		return;
	sodium_free(t->url);
	sodium_free(t->username);
	sodium_free(t->password);
	free(t->user_sel);
	free(t->pass_sel);
	if (t->rfd >= 0)
		close(t->rfd);
	if (t->wfd >= 0)
		close(t->wfd);
	if (t->shot_fd >= 0)
		close(t->shot_fd);
	sodium_memzero(t, sizeof(*t));
	free(t);
}

/* Hand the result to the loop, which audits it and replies. */
static void post_result(struct login_task *t)
{
	struct job *j = job_new(JOB_LOGIN);

	if (j == NULL || (j->login = malloc(sizeof(*j->login))) == NULL) {
		free(j);
		return; /* the connection stays busy until it closes; nothing was leaked */
	}
	*j->login = t->res;
	j->conn_id = t->conn_id;
	j->worker = t->worker;
	snprintf(j->worker_login, sizeof(j->worker_login), "%s", t->worker_login);
	pool_post_done(t->pool, j);
}

static void *login_thread(void *arg)
{
	struct login_task *t = arg;
	struct cdp c;

	if (cdp_open(&c, t->rfd, t->wfd, cancel_pipe[0]) == CDP_OK)
		login_run(&c, t);
	else
		fail(t, "browser", "the browser's pipe is unusable");
	t->rfd = t->wfd = -1; /* c owns them now */
	/* the secrets go before anything else happens */
	sodium_free(t->password);
	t->password = NULL;
	post_result(t);
	if (t->keep_open && strcmp(t->res.reason, "browser") != 0) {
		/* the browser closes with its pipe: hold it until the worker closes the browser */
		cdp_call(&c, "Target.detachFromTarget", params_str("sessionId", c.session), 0,
			 cdp_now_ms() + LOGIN_STEP_MS, NULL);
		cdp_drain(&c, cdp_now_ms() + (long long)LOGIN_KEEP_OPEN_S * 1000);
	}
	cdp_close(&c);
	task_free(t);
	pthread_mutex_lock(&running_lock);
	running--;
	pthread_cond_broadcast(&running_done);
	pthread_mutex_unlock(&running_lock);
	return NULL;
}

/* A copy of a string in guarded memory. */
static char *guarded_dup(const char *s)
{
	size_t len = strlen(s);
	char *d = sodium_malloc(len + 1);

	if (d != NULL)
		memcpy(d, s, len + 1);
	return d;
}

static int is_pipe(int fd)
{
	struct stat st;

	return fstat(fd, &st) == 0 && S_ISFIFO(st.st_mode);
}

/* The login's audit record, for this worker, user and credential. */
static struct audit_event login_event(struct agent *a, struct conn *c, const char *event,
				      const struct login_result *r, char t[AUDIT_TIME_LEN + 1])
{
	struct audit_event ev = agent_event(a, event, c->uid, c->login, t);

	ev.user = r->user;
	ev.service = r->service;
	ev.credential = r->credential[0] != '\0' ? r->credential : NULL;
	ev.purpose = r->purpose[0] != '\0' ? r->purpose : NULL;
	return ev;
}

static void reply_failed(struct agent *a, struct conn *c, const struct login_result *r)
{
	cJSON *rep = cJSON_CreateObject();

	cJSON_AddFalseToObject(rep, "ok");
	cJSON_AddNumberToObject(rep, "code", CDP_E_LOGIN);
	cJSON_AddStringToObject(rep, "reason", r->reason);
	cJSON_AddStringToObject(rep, "error", r->detail);
	cJSON_AddBoolToObject(rep, "submitted", r->submitted);
	agent_reply(a, c, rep);
}

/* A refusal before the browser is touched: recorded, then answered. */
static void refuse(struct agent *a, struct conn *c, struct login_result *r, const char *reason,
		   const char *detail, int code)
{
	char t[AUDIT_TIME_LEN + 1];
	struct audit_event ev = login_event(a, c, "login_failed", r, t);

	snprintf(r->reason, sizeof(r->reason), "%s", reason);
	snprintf(r->detail, sizeof(r->detail), "%s", detail);
	ev.outcome = "refused";
	ev.reason = reason;
	agent_audit(a, &ev); /* nothing is released: a failed record does not change the answer */
	if (code == CDP_E_LOGIN)
		reply_failed(a, c, r);
	else
		agent_reply_error(a, c, code, detail);
}

/* This worker's session with the request's user, the credential, and its consent. Replies
 * itself and returns -1 when the login cannot go on. */
static int login_check(struct agent *a, struct conn *c, const cJSON *req, struct login_task *t,
		       struct vault_entries **es)
{
	const char *user = proto_string(req, "user"), *service = proto_string(req, "service");
	const char *purpose = proto_string(req, "purpose");
	char id[VAULT_USER_ID_HEX];
	const struct vault_entry *e;
	struct session *s;
	int ret;

	if (user == NULL || service == NULL || c->nfds < 2 || !is_pipe(c->fds[0]) ||
	    !is_pipe(c->fds[1])) {
		agent_reply_error(a, c, PROTO_E_REQUEST,
				  "login needs \"user\", \"service\" and the browser's pipes");
		return -1;
	}
	if ((ret = vault_user_find(a->store, user, id)) != VAULT_OK) {
		agent_reply_error(a, c, ret, NULL);
		return -1;
	}
	if ((s = session_find(a, c->uid, id)) == NULL) {
		agent_reply_error(a, c, PROTO_E_NOSESSION, "no open session for this user");
		return -1;
	}
	session_touch(s);
	snprintf(t->res.user, sizeof(t->res.user), "%s", id);
	snprintf(t->res.service, sizeof(t->res.service), "%s", service);
	snprintf(t->res.purpose, sizeof(t->res.purpose), "%s", purpose != NULL ? purpose : "");
	if ((ret = vault_entry_list(s->vault, es)) != VAULT_OK ||
	    (e = vault_entries_find(*es, service)) == NULL) {
		agent_reply_error(a, c, ret != VAULT_OK ? ret : VAULT_E_NOTFOUND,
				  ret != VAULT_OK ? NULL : "no such service");
		return -1;
	}
	snprintf(t->res.service, sizeof(t->res.service), "%s", e->service);
	snprintf(t->res.credential, sizeof(t->res.credential), "%s", e->id);
	if (!e->consent || (e->consent_until != 0 && e->consent_until <= (uint64_t)time(NULL))) {
		refuse(a, c, &t->res, "consent",
		       !e->consent ? "the person has not allowed assisted logins for this service"
				   : "the person's consent for assisted logins has expired",
		       PROTO_E_CONSENT);
		return -1;
	}
	if (cdp_origin_parse(e->url, &t->origin) != 0 ||
	    (strcmp(t->origin.scheme, "https") != 0 &&
	     !(a->home.cfg.allow_http_loopback && cdp_origin_loopback(&t->origin)))) {
		refuse(a, c, &t->res, "insecure_url",
		       "the credential's login address is not https: Sesame fills only https pages",
		       CDP_E_LOGIN);
		return -1;
	}
	t->url = guarded_dup(e->url);
	t->username = guarded_dup(e->username);
	t->password = guarded_dup(e->password);
	t->user_sel = strdup(e->username_selector); /* not secret: plain memory */
	t->pass_sel = strdup(e->password_selector);
	if (t->url == NULL || t->username == NULL || t->password == NULL || t->user_sel == NULL ||
	    t->pass_sel == NULL)
		return -2;
	return 0;
}

static int thread_start(struct login_task *t)
{
	pthread_attr_t attr;
	pthread_t th;
	sigset_t all, old;
	int ret;

	if (cancel_pipe[0] < 0 && pipe2(cancel_pipe, O_CLOEXEC | O_NONBLOCK) != 0)
		return -1;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	sigfillset(&all); /* signals belong to the loop's thread */
	pthread_sigmask(SIG_BLOCK, &all, &old);
	pthread_mutex_lock(&running_lock);
	if ((ret = pthread_create(&th, &attr, login_thread, t)) == 0)
		running++;
	pthread_mutex_unlock(&running_lock);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_attr_destroy(&attr);
	return ret == 0 ? 0 : -1;
}

void agent_login(struct agent *a, struct conn *c, const cJSON *req)
{
	struct login_task *t = calloc(1, sizeof(*t));
	struct vault_entries *es = NULL;
	char tm[AUDIT_TIME_LEN + 1];
	struct audit_event ev;
	int ret;

	if (t == NULL) {
		agent_reply_error(a, c, VAULT_E_NOMEM, NULL);
		goto out;
	}
	t->rfd = t->wfd = t->shot_fd = -1;
	pthread_mutex_lock(&running_lock);
	ret = running >= LOGIN_RUNNING_MAX;
	pthread_mutex_unlock(&running_lock);
	if (ret) {
		agent_reply_error(a, c, PROTO_E_BUSY, "too many assisted logins at once");
		goto out;
	}
	if ((ret = login_check(a, c, req, t, &es)) != 0) {
		if (ret == -2)
			agent_reply_error(a, c, VAULT_E_NOMEM, NULL);
		goto out;
	}
	vault_entries_free(es); /* the thread has its own copies */
	es = NULL;
	ev = login_event(a, c, "login_started", &t->res, tm);
	if (agent_audit(a, &ev) != VAULT_OK) { /* no record, no login */
		agent_reply_error(a, c, PROTO_E_AUDIT, NULL);
		goto out;
	}
	t->pool = &a->pool;
	t->conn_id = c->id;
	t->worker = c->uid;
	snprintf(t->worker_login, sizeof(t->worker_login), "%s", c->login);
	t->no_submit = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(req, "no_submit"));
	t->keep_open = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(req, "keep_open"));
	/* the pipes as the CLI sent them: [0] reads the browser's fd 4, [1] writes its fd 3 */
	t->rfd = c->fds[0], t->wfd = c->fds[1];
	t->shot_fd = c->nfds > 2 ? c->fds[2] : -1;
	for (unsigned i = 3; i < c->nfds; i++)
		close(c->fds[i]);
	c->nfds = 0;
	if (thread_start(t) != 0) {
		fail(t, "agent", "the agent could not start the login");
		refuse(a, c, &t->res, "agent", "the agent could not start the login", CDP_E_LOGIN);
		goto out;
	}
	c->busy = 1;
	t = NULL; /* the thread owns it */
out:
	vault_entries_free(es);
	task_free(t);
}

void agent_login_done(struct agent *a, struct conn *c, struct job *j)
{
	struct login_result *r = j->login;
	char t[AUDIT_TIME_LEN + 1];
	struct audit_event ev = agent_event(a, r->filled ? "login_filled" : "login_failed",
					    j->worker, j->worker_login, t);
	cJSON *rep;

	ev.user = r->user;
	ev.service = r->service;
	ev.credential = r->credential;
	ev.purpose = r->purpose[0] != '\0' ? r->purpose : NULL;
	if (!r->filled) {
		ev.outcome = strcmp(r->reason, "origin") == 0 ? "refused" : "failed";
		ev.reason = r->reason;
	}
	agent_audit(a, &ev); /* login_started is durable; this records how it ended */
	if (c == NULL)
		return;
	if (!r->filled) {
		reply_failed(a, c, r);
		return;
	}
	rep = cJSON_CreateObject();
	cJSON_AddTrueToObject(rep, "ok");
	cJSON_AddStringToObject(rep, "user", r->user);
	cJSON_AddStringToObject(rep, "service", r->service);
	cJSON_AddBoolToObject(rep, "submitted", r->submitted);
	cJSON_AddNumberToObject(rep, "steps", r->steps);
	cJSON_AddBoolToObject(rep, "by_selector", r->by_selector);
	cJSON_AddBoolToObject(rep, "screenshot", r->screenshot);
	agent_reply(a, c, rep);
}

void agent_login_stop(void)
{
	if (cancel_pipe[1] < 0)
		return;
	(void)!write(cancel_pipe[1], "q", 1); /* never read: every wait sees it */
	pthread_mutex_lock(&running_lock);
	while (running > 0)
		pthread_cond_wait(&running_done, &running_lock);
	pthread_mutex_unlock(&running_lock);
	close(cancel_pipe[0]);
	close(cancel_pipe[1]);
	cancel_pipe[0] = cancel_pipe[1] = -1;
}
