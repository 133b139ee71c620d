/* Filling a login page (fill.h). The agent never types: in an isolated world, which the page's
 * scripts cannot reach, it sets the value of the very element it checked with the native
 * setter and fires the events front-end frameworks listen to, so no focus change can send a
 * secret to another frame. The worker's input is ignored from before the first value until the
 * secret has left the page or been wiped from it; a frame of another origin, or a new tab,
 * window or DevTools target while a secret is in the page, ends the login. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "fill.h"
#include "proto.h"

#define LOGIN_ATTACH_MS 15000	   /* the browser starts and shows its first page */
#define LOGIN_LOAD_MS 20000	   /* a login page loads */
#define LOGIN_FIND_MS 15000	   /* scripts render the form */
#define LOGIN_STEP_MS 2000	   /* one command to the page */
#define LOGIN_AFTER_SUBMIT_MS 8000 /* the submission leaves and the next page loads */
#define LOGIN_POLL_MS 300
#define LOGIN_SELECTOR_GRACE_MS 3000 /* a recorded selector's field may render late */
#define LOGIN_FRAMES_MAX 32
#define LOGIN_SCREENSHOT_MAX (6u * 1024 * 1024) /* base64, within a reply */

/* Each page's frame being examined: its isolated world holds the finder's state. sel_user and
 * sel_pass: 1 when the recorded selector found that field, -1 when it matched nothing usable, 0
 * when none is recorded. foreign: frames in it whose document it cannot reach. */
struct frame_hit {
	int context;
	int user, pass;
	int sel_user, sel_pass;
	int foreign;
};

/* Shared by the finder and the wiper: the isolated world's own value setter (the page cannot
 * replace it), events, frames whose document is out of reach (another origin), and the wipe of
 * every password field (and the chosen one, whatever type a "show" toggle gave it). */
#define COMMON_JS                                                                                  \
	"var setter=Object.getOwnPropertyDescriptor(HTMLInputElement.prototype,'value').set;"      \
	"function fire(e,t){e.dispatchEvent(new Event(t,{bubbles:true,composed:true}));}"          \
	"function foreign(){var n=0,l=document.querySelectorAll('iframe,frame,object,embed');"     \
	"for(var i=0;i<l.length;i++){var d=null;try{d=l[i].contentDocument;}catch(x){}"            \
	"if(!d)n++;}return n;}"                                                                    \
	"function wipe(x){var n=0,l=document.querySelectorAll('input');"                           \
	"for(var i=0;i<l.length;i++){var e=l[i];if((e.type==='password'||e===x)&&"                 \
	"e.value!==''){setter.call(e,'');fire(e,'input');fire(e,'change');n++;}}return n;}"

/* Runs in an isolated world. Called with the credential's two selectors as arguments (data,
 * never code). A selector that finds a visible, enabled <input> (of type password for the
 * password) gives that field; otherwise the clues do: the password field (current-password
 * first, never new-password), the username-like field of the same form (or, without a password
 * field, one that says it is a username and is not a search box), and the form's submit
 * button. */
static const char finder_js[] =
    "function(us,ps){" COMMON_JS
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
    "var S={u:u,p:p,f:f,s:button(f)||(u?button(u.parentElement):null),vals:{}};"
    "S.set=function(k,v){var e=S[k];if(!e||!e.isConnected)return false;setter.call(e,v);"
    "fire(e,'input');fire(e,'change');e.dispatchEvent(new KeyboardEvent('keyup',"
    "{bubbles:true,composed:true}));S.vals[k]=v;return e.value===v;};"
    "S.intact=function(){var n=0;for(var k in S.vals){n++;if(!S[k].isConnected||"
    "S[k].value!==S.vals[k])return false;}return n>0;};"
    "S.clear=function(){S.vals={};return wipe(S.p);};"
    "S.foreign=foreign;"
    "S.submit=function(){if(!S.intact())return 'changed';if(S.s){S.s.click();return 'click';}"
    "if(S.f){if(S.f.requestSubmit)S.f.requestSubmit();else S.f.submit();return 'form';}"
    "var e=S.p||S.u;['keydown','keypress','keyup'].forEach(function(t){e.dispatchEvent("
    "new KeyboardEvent(t,{bubbles:true,composed:true,key:'Enter',code:'Enter',"
    "keyCode:13}));});return 'enter';};"
    "window.__sesame=S;"
    "return{u:!!u,p:!!p,su:us?(su?1:-1):0,sp:ps?(sp?1:-1):0,foreign:foreign()};}";

/* A frame's password fields emptied, from a fresh isolated world. */
static const char wipe_js[] = "(function(){" COMMON_JS "return wipe(null);})()";

static void fail(struct login_task *t, const char *reason, const char *detail)
{
	if (t->res.reason[0] != '\0')
		return; /* the first failure is the cause */
	snprintf(t->res.reason, sizeof(t->res.reason), "%s", reason);
	snprintf(t->res.detail, sizeof(t->res.detail), "%s", detail);
}

static void fail_cdp(struct login_task *t, int ret)
{
	if (ret == CDP_E_EVENT) {
		t->res.anomaly = !t->foreign_target;
		fail(t, t->foreign_target ? "foreign_frame" : "new_target",
		     t->foreign_target ? "a frame of another site appeared in the page"
				       : vault_strerror(ret));
		return;
	}
	fail(t,
	     ret == CDP_E_TIMEOUT     ? "timeout"
	     : ret == CDP_E_CANCELLED ? "cancelled"
				      : "browser",
	     vault_strerror(ret));
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

/* Request types and events that show a submission leaving the page. */
static int leaves(const char *method, const cJSON *params)
{
	const cJSON *req = cJSON_GetObjectItemCaseSensitive(params, "request");
	const char *how = proto_string(req, "method"), *type = proto_string(params, "type");

	if (strcmp(method, "Page.frameRequestedNavigation") == 0 ||
	    strcmp(method, "Page.frameStartedLoading") == 0)
		return 1;
	return strcmp(method, "Network.requestWillBeSent") == 0 &&
	       ((how != NULL && strcmp(how, "GET") != 0) ||
		(type != NULL && strcmp(type, "Document") == 0));
}

static int settles(const char *method)
{
	return strcmp(method, "Page.frameStoppedLoading") == 0 ||
	       strcmp(method, "Network.loadingFinished") == 0 ||
	       strcmp(method, "Network.loadingFailed") == 0;
}

/* Every event, whatever call is waiting. After the submit: did it leave, did the answer come?
 * While a secret is in the page, a new target: a tab, a window, DevTools (an anomaly), or a
 * frame of another site (refused like any foreign frame). Workers are the page's own. */
static int on_event(void *ctx, const char *method, const cJSON *msg)
{
	struct login_task *t = ctx;
	const cJSON *params = cJSON_GetObjectItemCaseSensitive(msg, "params");
	const char *type;

	int wake = 0;

	if (t->submitting && !t->left && leaves(method, params))
		t->left = wake = 1;
	else if (t->left && !t->settled && settles(method))
		t->settled = wake = 1;
	if (strcmp(method, "Target.targetCreated") != 0 || !t->secret_in_page)
		return wake ? CDP_HOOK_WAKE : 0;
	type = proto_string(cJSON_GetObjectItemCaseSensitive(params, "targetInfo"), "type");
	if (type != NULL && (strcmp(type, "worker") == 0 || strcmp(type, "service_worker") == 0 ||
			     strcmp(type, "shared_worker") == 0))
		return wake ? CDP_HOOK_WAKE : 0;
	t->foreign_target = type != NULL && strcmp(type, "iframe") == 0;
	return CDP_HOOK_STOP;
}

/* Attach to the page with a flattened session. Before anything reaches it: targets watched,
 * the worker's input ignored; then page and network events on, focus emulated. */
static int attach(struct cdp *c, struct login_task *t)
{
	static const char *const domains[] = {"Page.enable", "Network.enable"};
	long long dl = proto_now_ms() + LOGIN_ATTACH_MS;
	char target[64];
	cJSON *r = NULL, *p;
	const char *sid;
	int ret;

	c->hook = on_event, c->hook_ctx = t;
	if ((ret = cdp_call(c, "Target.setDiscoverTargets", params_bool("discover", 1), 0, dl,
			    NULL)) != CDP_OK ||
	    (ret = find_page(c, dl, target)) != CDP_OK)
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
	ret = cdp_call(c, "Input.setIgnoreInputEvents", params_bool("ignore", 1), 1, dl, NULL);
	for (size_t i = 0; i < 2 && ret == CDP_OK; i++)
		ret = cdp_call(c, domains[i], NULL, 1, dl, NULL);
	if (ret == CDP_OK)
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
	long long dl = proto_now_ms() + LOGIN_LOAD_MS;
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
	ret = cdp_call(c, method, p, 1, proto_now_ms() + LOGIN_STEP_MS, &r);
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
	int ret = cdp_call(c, "Page.getFrameTree", NULL, 1, proto_now_ms() + LOGIN_STEP_MS, &r);

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
	ret = cdp_call(c, "Page.createIsolatedWorld", p, 1, proto_now_ms() + LOGIN_STEP_MS, &r);
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
		hit->foreign = json_int(v, "foreign");
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

/* Is there a frame of another site in the page? A frame whose origin is not the credential's
 * (about:blank and srcdoc frames inherit it), or a cross-site frame's own target. */
static int foreign_frames(struct cdp *c, struct login_task *t, const struct frame_ref *frames,
			  size_t n)
{
	char detail[LOGIN_DETAIL_MAX];
	cJSON *r = NULL, *ti;
	int found = 0;

	for (size_t i = 1; i < n && !found; i++)
		if (frames[i].origin[0] != '\0' && strcmp(frames[i].origin, "://") != 0 &&
		    !cdp_origin_same(&t->origin, frames[i].origin)) {
			snprintf(detail, sizeof(detail), "a frame of %.100s is in the page",
				 frames[i].origin);
			found = 1;
		}
	if (!found &&
	    cdp_call(c, "Target.getTargets", NULL, 0, proto_now_ms() + LOGIN_STEP_MS, &r) == CDP_OK)
		cJSON_ArrayForEach(ti, cJSON_GetObjectItemCaseSensitive(r, "targetInfos"))
		{
			const char *type = proto_string(ti, "type");
			if (type != NULL && strcmp(type, "iframe") == 0 && !found) {
				snprintf(detail, sizeof(detail),
					 "a frame of another site is in the "
					 "page");
				found = 1;
			}
		}
	cJSON_Delete(r);
	if (found)
		fail(t, "foreign_frame", detail);
	return found;
}

/* One look at the page. Returns 1 with *hit set (want_pass: a password field; otherwise a
 * username or password field), 0 when nothing yet, -1 on a refusal or a browser failure.
 * A page that left the credential's origin, or holds a frame of another one, refuses.
 * With selectors, every frame is looked at: a frame where they match wins over the clues. */
static int page_scan(struct cdp *c, struct login_task *t, int want_pass, int trust_clues,
		     struct frame_hit *hit)
{
	struct frame_ref frames[LOGIN_FRAMES_MAX];
	struct frame_hit h;
	size_t n;
	int ret, best = 0, enough = has_selectors(t) ? 2 : 1;

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
	if (foreign_frames(c, t, frames, n))
		return -1;
	for (size_t i = 0; i < n && best < enough; i++) {
		int rank;
		ret = frame_scan(c, t, frames[i].id, &h);
		if (ret == CDP_E_CLOSED || ret == CDP_E_CANCELLED || ret == CDP_E_EVENT) {
			fail_cdp(t, ret);
			return -1;
		}
		if (ret == CDP_OK && h.foreign > 0) {
			fail(t, "foreign_frame", "a frame of another site is in the page");
			return -1;
		}
		if (ret != CDP_OK || !(h.pass || (!want_pass && h.user)))
			continue; /* a frame that went away while we looked */
		if ((rank = hit_rank(&h, trust_clues)) > best) {
			*hit = h;
			best = rank;
		}
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
	long long start = proto_now_ms(), dl = start + LOGIN_FIND_MS;
	int ret;

	for (;;) {
		/* the clues wait a little while recorded selectors match nothing: their field may
		 * render late, and the clues are what the selectors were recorded to overrule */
		int trust_clues =
		    !has_selectors(t) || proto_now_ms() >= start + LOGIN_SELECTOR_GRACE_MS;
		if ((ret = page_scan(c, t, want_pass, trust_clues, hit)) != 0)
			return ret > 0 ? 0 : -1;
		if (proto_now_ms() >= dl)
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

/* Set the field's value in the isolated world; the element must then hold exactly that. */
static int field_set(struct cdp *c, struct login_task *t, const struct frame_hit *hit,
		     const char *key, const char *value)
{
	cJSON *p = params_str("functionDeclaration", "function(k,v){return __sesame.set(k,v);}");
	cJSON *args = cJSON_AddArrayToObject(p, "arguments"), *v = NULL;
	int ret;

	cJSON_AddItemToArray(args, params_str("value", key));
	cJSON_AddItemToArray(args, params_str("value", value)); /* the hooks wipe the tree */
	cJSON_AddNumberToObject(p, "executionContextId", hit->context);
	t->secret_in_page = 1;
	ret = runtime_call(c, "Runtime.callFunctionOn", p, &v);
	if (ret == CDP_OK && cJSON_IsTrue(v)) {
		cJSON_Delete(v);
		return 0;
	}
	cJSON_Delete(v);
	if (ret == CDP_E_CLOSED || ret == CDP_E_CANCELLED || ret == CDP_E_EVENT ||
	    ret == CDP_E_TIMEOUT)
		fail_cdp(t, ret);
	else
		fail(t, "not_filled", "the field did not keep the value set");
	return -1;
}

/* Wait for a flag the event hook sets, or the deadline. */
static int hook_wait(struct cdp *c, const int *flag, long long deadline)
{
	static const char *const none[] = {""};
	int ret = CDP_OK;

	while (!*flag && ret == CDP_OK)
		ret = cdp_wait_any(c, none, 1, deadline, NULL, NULL);
	return *flag ? CDP_OK : ret;
}

/* Wait until the submission leaves the page (a navigation, or a request that is not a plain
 * GET), then for the next page to load or the answer to arrive. */
static int submission_wait(struct cdp *c, struct login_task *t)
{
	int ret = hook_wait(c, &t->left, proto_now_ms() + LOGIN_AFTER_SUBMIT_MS);

	t->submitting = 0;
	if (ret != CDP_OK) {
		if (ret == CDP_E_TIMEOUT)
			fail(t, "not_submitted", "the page did not send the login form");
		else
			fail_cdp(t, ret);
		return -1;
	}
	t->res.submitted = 1;
	ret = hook_wait(c, &t->settled, proto_now_ms() + LOGIN_AFTER_SUBMIT_MS);
	if (ret != CDP_OK && ret != CDP_E_TIMEOUT) {
		fail_cdp(t, ret);
		return -1;
	}
	return 0;
}

/* Click the form's button, else submit the form, else Enter on the field, with the values
 * checked intact at that moment; then see the submission leave. */
static int form_submit(struct cdp *c, struct login_task *t, const struct frame_hit *hit)
{
	cJSON *v = NULL;
	const char *how;
	int ret;

	t->submitting = 1, t->left = t->settled = 0;
	ret = eval(c, hit->context, "__sesame.submit()", &v);
	how = cJSON_GetStringValue(v);

	if (ret == CDP_OK && how != NULL && strcmp(how, "changed") == 0) {
		cJSON_Delete(v);
		fail(t, "not_filled", "the page changed the values before they were sent");
		return -1;
	}
	cJSON_Delete(v);
	if (ret != CDP_OK && ret != CDP_E_COMMAND) { /* a navigation may cut the answer short */
		fail_cdp(t, ret);
		return -1;
	}
	return submission_wait(c, t);
}

/* The frames of the page again: none of another origin may have come while we filled. */
static int still_alone(struct cdp *c, struct login_task *t, const struct frame_hit *hit)
{
	struct frame_ref frames[LOGIN_FRAMES_MAX];
	cJSON *v = NULL;
	size_t n;
	int ret = frames_list(c, frames, &n);

	if (ret != CDP_OK) {
		fail_cdp(t, ret);
		return -1;
	}
	if (foreign_frames(c, t, frames, n))
		return -1;
	ret = eval(c, hit->context, "__sesame.foreign()", &v);
	if (ret == CDP_OK && cJSON_IsNumber(v) && v->valueint > 0) {
		cJSON_Delete(v);
		fail(t, "foreign_frame", "a frame of another site appeared in the page");
		return -1;
	}
	cJSON_Delete(v);
	return 0;
}

/* One page of the flow: fill what it shows, submit unless told not to. *more is set when the
 * page showed the username alone (step one of a two-step login). */
static int step_fill(struct cdp *c, struct login_task *t, int want_pass, struct frame_hit *hit,
		     int *more)
{
	*more = 0;
	if (fields_wait(c, t, want_pass, hit) != 0)
		return -1;
	t->res.steps++;
	if (hit->sel_user > 0 || hit->sel_pass > 0)
		t->res.by_selector = 1;
	if (hit->user && field_set(c, t, hit, "u", t->username) != 0)
		return -1;
	if (hit->pass && field_set(c, t, hit, "p", t->password) != 0)
		return -1;
	if (still_alone(c, t, hit) != 0)
		return -1;
	*more = !hit->pass;
	if (t->no_submit)
		return 0;
	return form_submit(c, t, hit);
}

/* Wipe the password fields of the filled document (if it is still there) and of every frame
 * now in the page; only then is the secret out of the page. */
static int wipe(struct cdp *c, struct login_task *t, const struct frame_hit *hit)
{
	struct frame_ref frames[LOGIN_FRAMES_MAX];
	struct frame_hit h;
	cJSON *v = NULL;
	size_t n;
	int ret;

	if (hit->context != 0) {
		eval(c, hit->context, "__sesame.clear()", &v); /* gone with its document: fine */
		cJSON_Delete(v);
	}
	if ((ret = frames_list(c, frames, &n)) != CDP_OK)
		return ret;
	for (size_t i = 0; i < n; i++) {
		cJSON *r = NULL, *p = params_str("frameId", frames[i].id);
		const cJSON *ctx;
		cJSON_AddStringToObject(p, "worldName", "sesame-wipe");
		ret = cdp_call(c, "Page.createIsolatedWorld", p, 1, proto_now_ms() + LOGIN_STEP_MS,
			       &r);
		ctx = cJSON_GetObjectItemCaseSensitive(r, "executionContextId");
		memset(&h, 0, sizeof(h));
		if (ret == CDP_OK && cJSON_IsNumber(ctx) &&
		    (ret = eval(c, ctx->valueint, wipe_js, &v)) == CDP_OK)
			cJSON_Delete(v);
		cJSON_Delete(r);
		if (ret == CDP_E_CLOSED || ret == CDP_E_CANCELLED || ret == CDP_E_EVENT)
			return ret;
	}
	t->secret_in_page = 0;
	return CDP_OK;
}

/* A PNG of the page, base64 as the browser gives it, for the reply. */
static void screenshot(struct cdp *c, struct login_task *t)
{
	cJSON *p = params_str("format", "png"), *r = NULL;
	const char *b64;

	if (t->secret_in_page) /* never a picture of a secret */
		return;
	if (cdp_call(c, "Page.captureScreenshot", p, 1, proto_now_ms() + LOGIN_LOAD_MS, &r) ==
		CDP_OK &&
	    (b64 = proto_string(r, "data")) != NULL && strlen(b64) <= LOGIN_SCREENSHOT_MAX)
		t->res.screenshot = strdup(b64);
	cJSON_Delete(r);
}

void fill_run(struct cdp *c, struct login_task *t)
{
	struct frame_hit hit = {0};
	int more = 0, ret;

	if (attach(c, t) != CDP_OK || navigate(c, t) != CDP_OK)
		return;
	ret = step_fill(c, t, 0, &hit, &more);
	if (ret == 0 && more && !t->no_submit)
		ret = step_fill(c, t, 1, &hit, &more);
	if (t->res.anomaly || strcmp(t->res.reason, "cancelled") == 0)
		return; /* the browser is closed at once: nothing to wipe */
	if (t->secret_in_page && wipe(c, t, &hit) != CDP_OK) {
		fail(t, "browser", "the password fields could not be emptied");
		return;
	}
	if (ret == 0)
		t->res.filled = 1;
	if (t->want_screenshot)
		screenshot(c, t);
}

void fill_release(struct cdp *c)
{
	cdp_call(c, "Input.setIgnoreInputEvents", params_bool("ignore", 0), 1,
		 proto_now_ms() + LOGIN_STEP_MS, NULL);
}
