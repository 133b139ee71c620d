/* Filling a login page (fill.h). The agent never types: in an isolated world, which the page's
 * scripts cannot reach, it sets the value of the very element it checked with the native
 * setter and fires the events front-end frameworks listen to, so no focus change can send a
 * secret to another frame. The worker's input is ignored from before the first value until the
 * secret has left the page or been wiped from it; a frame of another origin, or a new tab,
 * window or DevTools target while a secret is in the page, ends the login. */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "fill.h"
#include "proto.h"

/* Each page's frame being examined: its isolated world holds the finder's state. sel_user and
 * sel_pass: 1 when the recorded selector found that field, -1 when it matched nothing usable, 0
 * when none is recorded. foreign: frames in it whose document it cannot reach. hidden: login
 * fields present but not visible; inert: the fields are behind a modal dialog; keypad: the
 * password is typed on the page's virtual keypad. */
struct frame_hit {
	int context;
	int user, pass;
	int sel_user, sel_pass;
	int foreign, hidden, inert, keypad;
};

/* What the looks at the page saw, for the reason of a failure; seen: login fields, usable or
 * not (no opener is clicked then). */
struct scan_note {
	int hidden, inert, seen;
};

#include "finder_js.h"

/* A frame's password fields emptied, from a fresh isolated world: every input of type password
 * in the document and its open shadow roots (the filled document's closed roots are emptied by
 * the finder's own wipe). */
static const char wipe_js[] =
    "(function(){var set=Object.getOwnPropertyDescriptor(HTMLInputElement.prototype,'value')"
    ".set,n=0;(function walk(r){r.querySelectorAll('*').forEach(function(e){"
    "if(e.tagName==='INPUT'&&e.type==='password'&&e.value!==''){set.call(e,'');"
    "e.dispatchEvent(new Event('input',{bubbles:true,composed:true}));n++;}"
    "if(e.shadowRoot)walk(e.shadowRoot);});})(document);return n;})()";

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

static int is(const char *method, const char *name)
{
	return strcmp(method, name) == 0;
}

/* A submission leaving the page: a navigation, or a request of the page's own origin other
 * than a plain GET (a form's POST, a fetch or an XMLHttpRequest). Its request id is kept, so
 * that its answer can be told from others. */
static int leaves(struct login_task *t, const char *method, const cJSON *params)
{
	const cJSON *req = cJSON_GetObjectItemCaseSensitive(params, "request");
	const char *how = proto_string(req, "method"), *type = proto_string(params, "type");
	const char *id = proto_string(params, "requestId");

	if (is(method, "Page.frameRequestedNavigation"))
		return 1;
	if (!is(method, "Network.requestWillBeSent") ||
	    cJSON_GetObjectItemCaseSensitive(params, "redirectResponse") != NULL)
		return 0;
	if (!(type != NULL && strcmp(type, "Document") == 0) &&
	    !(how != NULL && strcmp(how, "GET") != 0 &&
	      cdp_origin_same(&t->origin, proto_string(params, "documentURL"))))
		return 0;
	if (id != NULL && strlen(id) < sizeof(t->request))
		snprintf(t->request, sizeof(t->request), "%s", id);
	return 1;
}

/* The submission's answer: its request's response or failure, or the next document. */
static int settles(const struct login_task *t, const char *method, const cJSON *params)
{
	const char *id = proto_string(params, "requestId");

	if (is(method, "Page.frameNavigated") || is(method, "Page.loadEventFired"))
		return 1;
	return (is(method, "Network.responseReceived") || is(method, "Network.loadingFailed") ||
		is(method, "Network.loadingFinished")) &&
	       id != NULL && strcmp(id, t->request) == 0;
}

/* Every event, whatever call is waiting. After the submit: did it leave, did the answer come?
 * Navigations and loads, for the clicks before the form. While a secret is in the page, a new
 * target: a tab, a window, DevTools (an anomaly), or a frame of another site (refused like any
 * foreign frame). Workers are the page's own. */
static int on_event(void *ctx, const char *method, const cJSON *msg)
{
	struct login_task *t = ctx;
	const cJSON *params = cJSON_GetObjectItemCaseSensitive(msg, "params");
	const char *type;
	int wake = 0;

	if (is(method, "Page.frameRequestedNavigation") || is(method, "Page.frameStartedLoading"))
		t->nav_started = wake = 1;
	if (is(method, "Page.loadEventFired"))
		t->loaded = wake = 1;
	if (is(method, "Page.frameStoppedLoading"))
		t->stopped = wake = 1;
	if (t->submitting && !t->left && leaves(t, method, params))
		t->left = wake = 1;
	else if (t->left && !t->settled && settles(t, method, params))
		t->settled = wake = 1;
	if (!is(method, "Target.targetCreated") || !t->secret_in_page)
		return wake ? CDP_HOOK_WAKE : 0;
	type = proto_string(cJSON_GetObjectItemCaseSensitive(params, "targetInfo"), "type");
	if (type != NULL && (strcmp(type, "worker") == 0 || strcmp(type, "service_worker") == 0 ||
			     strcmp(type, "shared_worker") == 0))
		return wake ? CDP_HOOK_WAKE : 0;
	t->foreign_target = type != NULL && strcmp(type, "iframe") == 0;
	return CDP_HOOK_STOP;
}

/* What a browser's start costs on this machine: the latest starts measured, each divided by the
 * slowness it ran under, so that a start on a busy machine does not raise the bound of one on
 * an idle machine, and the reverse. */
static pthread_mutex_t cost_lock = PTHREAD_MUTEX_INITIALIZER;
static long long start_costs[LOGIN_START_COSTS];
static size_t start_next;
static atomic_int starting; /* browsers starting now: they share the cores */
/* this login's: the machine's slowness when it began, for every wait of its thread */
static _Thread_local double slowness = 1.0;

static double machine_slowness(void)
{
	double load;

	return getloadavg(&load, 1) == 1 ? login_slowness(load, sysconf(_SC_NPROCESSORS_ONLN))
					 : 1.0;
}

/* A bound measured on an idle machine, for this login's machine. */
static long long scaled(long long ms)
{
	return (long long)((double)ms * slowness);
}

static long long start_bound(int sharing)
{
	long long cost = 0;

	pthread_mutex_lock(&cost_lock);
	for (size_t i = 0; i < LOGIN_START_COSTS; i++)
		cost = start_costs[i] > cost ? start_costs[i] : cost;
	pthread_mutex_unlock(&cost_lock);
	return login_start_bound(cost, slowness, sharing, sysconf(_SC_NPROCESSORS_ONLN));
}

static void start_measured(long long took, int sharing)
{
	long long cost = login_start_cost(took, slowness, sharing, sysconf(_SC_NPROCESSORS_ONLN));

	pthread_mutex_lock(&cost_lock);
	start_costs[start_next++ % LOGIN_START_COSTS] = cost;
	pthread_mutex_unlock(&cost_lock);
}

/* Attach to the page with a flattened session. Before anything reaches it: targets watched,
 * the worker's input ignored; then page and network events on, focus emulated. */
static int attach(struct cdp *c, struct login_task *t)
{
	static const char *const domains[] = {"Page.enable", "Network.enable"};
	int sharing = atomic_fetch_add(&starting, 1) + 1;
	long long t0 = proto_now_ms(), dl = t0 + start_bound(sharing);
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
	atomic_fetch_sub(&starting, 1);
	cJSON_Delete(r);
	if (ret == CDP_OK) {
		start_measured(proto_now_ms() - t0, sharing);
	} else if (ret == CDP_E_TIMEOUT) { /* said with its bound: it is computed */
		char why[LOGIN_DETAIL_MAX];
		snprintf(why, sizeof(why), "the browser did not start within %lld s",
			 (dl - t0) / 1000);
		fail(t, "timeout", why);
	} else {
		fail_cdp(t, ret);
	}
	return ret;
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

/* Go to the login URL and wait for its load event (a slow page is looked at anyway). */
static int navigate(struct cdp *c, struct login_task *t)
{
	long long dl = proto_now_ms() + scaled(LOGIN_LOAD_MS);
	cJSON *r = NULL;
	int ret;

	t->loaded = 0;
	ret = cdp_call(c, "Page.navigate", params_str("url", t->url), 1, dl, &r);

	if (ret == CDP_OK && proto_string(r, "errorText") != NULL) {
		fail(t, "unreachable", proto_string(r, "errorText"));
		ret = CDP_E_COMMAND;
	} else if (ret != CDP_OK) {
		fail_cdp(t, ret);
	} else if ((ret = hook_wait(c, &t->loaded, dl)) == CDP_E_TIMEOUT) {
		ret = CDP_OK;
	} else if (ret != CDP_OK) {
		fail_cdp(t, ret);
	}
	cJSON_Delete(r);
	return ret;
}

/* The value of a Runtime call's result (by value) into *value; a thrown exception fails. A
 * promise is awaited. */
static int runtime_call(struct cdp *c, const char *method, cJSON *p, cJSON **value)
{
	cJSON *r = NULL;
	int ret;

	*value = NULL;
	cJSON_AddTrueToObject(p, "returnByValue");
	cJSON_AddTrueToObject(p, "awaitPromise");
	ret = cdp_call(c, method, p, 1,
		       proto_now_ms() + scaled(LOGIN_STEP_MS) + LOGIN_VALIDATION_MS, &r);
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

/* Call fn (fixed text of ours) in a context with string arguments: JSON values the page's
 * parser never sees as code. */
static int call_fn(struct cdp *c, int context, const char *fn, const char *const *args, size_t n,
		   cJSON **value)
{
	cJSON *p = params_str("functionDeclaration", fn);
	cJSON *a = cJSON_AddArrayToObject(p, "arguments");

	for (size_t i = 0; i < n; i++)
		cJSON_AddItemToArray(a, params_str("value", args[i]));
	cJSON_AddNumberToObject(p, "executionContextId", context);
	return runtime_call(c, "Runtime.callFunctionOn", p, value);
}

/* The closed shadow roots of the page: the backend ids DOM.getDocument shows with pierce (the
 * page's own scripts cannot reach them, the finder can once the agent resolves them). */
struct closed_roots {
	int id[LOGIN_CLOSED_ROOTS_MAX];
	size_t n;
};

static void closed_collect(const cJSON *node, struct closed_roots *cr, int depth)
{
	const char *kind = proto_string(node, "shadowRootType");
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(node, "backendNodeId"), *ch;
	static const char *const lists[] = {"children", "shadowRoots", "contentDocument"};

	if (depth > 256 || cr->n >= LOGIN_CLOSED_ROOTS_MAX)
		return;
	if (kind != NULL && strcmp(kind, "closed") == 0 && cJSON_IsNumber(id))
		cr->id[cr->n++] = id->valueint;
	for (size_t i = 0; i < 3; i++) {
		const cJSON *l = cJSON_GetObjectItemCaseSensitive(node, lists[i]);
		if (cJSON_IsObject(l))
			closed_collect(l, cr, depth + 1);
		else
			cJSON_ArrayForEach(ch, l) closed_collect(ch, cr, depth + 1);
	}
}

static void closed_roots(struct cdp *c, struct closed_roots *cr)
{
	cJSON *p = cJSON_CreateObject(), *r = NULL;

	cr->n = 0;
	cJSON_AddNumberToObject(p, "depth", -1);
	cJSON_AddTrueToObject(p, "pierce");
	if (cdp_call(c, "DOM.getDocument", p, 1, proto_now_ms() + scaled(LOGIN_STEP_MS), &r) ==
	    CDP_OK)
		closed_collect(cJSON_GetObjectItemCaseSensitive(r, "root"), cr, 0);
	cJSON_Delete(r);
}

/* The finder's arguments: the credential's selectors, then the closed roots resolved in this
 * context (a root of another frame fails to resolve here, or is left out by the finder). */
static cJSON *finder_args(struct cdp *c, int context, const struct login_task *t,
			  const struct closed_roots *cr)
{
	cJSON *args = cJSON_CreateArray(), *o = cJSON_CreateObject(), *v = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "user", t->user_sel);
	cJSON_AddStringToObject(o, "pass", t->pass_sel);
	cJSON_AddStringToObject(o, "submit", t->submit_sel);
	cJSON_AddItemToObject(v, "value", o);
	cJSON_AddItemToArray(args, v);
	for (size_t i = 0; cr != NULL && i < cr->n; i++) {
		cJSON *p = cJSON_CreateObject(), *r = NULL;
		const char *obj;
		cJSON_AddNumberToObject(p, "backendNodeId", cr->id[i]);
		cJSON_AddNumberToObject(p, "executionContextId", context);
		if (cdp_call(c, "DOM.resolveNode", p, 1, proto_now_ms() + scaled(LOGIN_STEP_MS),
			     &r) == CDP_OK &&
		    (obj = proto_string(cJSON_GetObjectItemCaseSensitive(r, "object"),
					"objectId")) != NULL)
			cJSON_AddItemToArray(args, params_str("objectId", obj));
		cJSON_Delete(r);
	}
	return args;
}

/* Run the finder in a context. */
static int finder_call(struct cdp *c, int context, const struct login_task *t,
		       const struct closed_roots *cr, cJSON **value)
{
	cJSON *p = params_str("functionDeclaration", finder_js);

	cJSON_AddItemToObject(p, "arguments", finder_args(c, context, t, cr));
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
	int ret =
	    cdp_call(c, "Page.getFrameTree", NULL, 1, proto_now_ms() + scaled(LOGIN_STEP_MS), &r);

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

/* A fresh isolated world of the frame: its context id, or 0. */
static int world(struct cdp *c, const char *frame, const char *name, int *context)
{
	cJSON *p = params_str("frameId", frame), *r = NULL;
	const cJSON *ctx;
	int ret;

	*context = 0;
	cJSON_AddStringToObject(p, "worldName", name);
	ret = cdp_call(c, "Page.createIsolatedWorld", p, 1, proto_now_ms() + scaled(LOGIN_STEP_MS),
		       &r);
	ctx = cJSON_GetObjectItemCaseSensitive(r, "executionContextId");
	if (ret == CDP_OK && !cJSON_IsNumber(ctx))
		ret = CDP_E_PROTO;
	if (ret == CDP_OK)
		*context = ctx->valueint;
	cJSON_Delete(r);
	return ret;
}

/* Run the finder in a fresh isolated world of the frame. */
static int frame_scan(struct cdp *c, const struct login_task *t, const char *frame,
		      const struct closed_roots *cr, struct frame_hit *hit)
{
	cJSON *v = NULL;
	int ret;

	memset(hit, 0, sizeof(*hit));
	if ((ret = world(c, frame, "sesame", &hit->context)) == CDP_OK)
		ret = finder_call(c, hit->context, t, cr, &v);
	if (ret == CDP_OK) {
		hit->user = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(v, "u"));
		hit->pass = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(v, "p"));
		hit->sel_user = json_int(v, "su");
		hit->sel_pass = json_int(v, "sp");
		hit->foreign = json_int(v, "foreign");
		hit->hidden = json_int(v, "hidden");
		hit->inert = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(v, "inert"));
		hit->keypad = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(v, "keypad"));
	}
	cJSON_Delete(v);
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
	if (!found && cdp_call(c, "Target.getTargets", NULL, 0,
			       proto_now_ms() + scaled(LOGIN_STEP_MS), &r) == CDP_OK)
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

/* The page's frames, refused when the page left the credential's origin or holds a frame of
 * another one. 0, or -1 with the failure set. */
static int frames_checked(struct cdp *c, struct login_task *t, struct frame_ref *frames, size_t *n)
{
	int ret;

	if ((ret = frames_list(c, frames, n)) != CDP_OK) {
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
	return foreign_frames(c, t, frames, *n) ? -1 : 0;
}

static int fatal(int ret)
{
	return ret == CDP_E_CLOSED || ret == CDP_E_CANCELLED || ret == CDP_E_EVENT;
}

/* One look at the page. Returns 1 with *hit set (want_pass: a password field; otherwise a
 * username or password field), 0 when nothing usable yet (what was seen goes to *note), -1 on
 * a refusal or a browser failure. With selectors, every frame is looked at: a frame where they
 * match wins over the clues. Fields behind a modal dialog are not usable. */
static int page_scan(struct cdp *c, struct login_task *t, int want_pass, int trust_clues,
		     struct frame_hit *hit, struct scan_note *note)
{
	struct frame_ref frames[LOGIN_FRAMES_MAX];
	struct closed_roots cr;
	struct frame_hit h;
	size_t n;
	int ret, best = 0, enough = has_selectors(t) ? 2 : 1;

	if (frames_checked(c, t, frames, &n) != 0)
		return -1;
	closed_roots(c, &cr);
	for (size_t i = 0; i < n && best < enough; i++) {
		int rank;
		ret = frame_scan(c, t, frames[i].id, &cr, &h);
		if (fatal(ret)) {
			fail_cdp(t, ret);
			return -1;
		}
		if (ret == CDP_OK && h.foreign > 0) {
			fail(t, "foreign_frame", "a frame of another site is in the page");
			return -1;
		}
		if (ret != CDP_OK)
			continue; /* a frame that went away while we looked */
		note->hidden |= h.hidden > 0;
		note->seen |= h.user || h.pass;
		if (!(h.pass || (!want_pass && h.user)))
			continue;
		if (h.inert) {
			note->inert = 1;
			continue;
		}
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

/* After a click that may navigate: if a navigation starts, wait until a frame stops loading
 * (the main frame's own, or the frame that navigated). */
static int click_settle(struct cdp *c, struct login_task *t)
{
	int ret = hook_wait(c, &t->nav_started, proto_now_ms() + LOGIN_NAV_START_MS);

	if (ret == CDP_E_TIMEOUT)
		return CDP_OK;
	if (ret == CDP_OK &&
	    (ret = hook_wait(c, &t->stopped, proto_now_ms() + scaled(LOGIN_LOAD_MS))) ==
		CDP_E_TIMEOUT)
		ret = CDP_OK; /* a slow page is looked at anyway */
	return ret;
}

/* Call the finder's fn(arg) in each frame of the page until one says it clicked: 1, 0 when
 * none did, -1 on a refusal or a browser failure. Nothing secret is in the page. */
static int click_somewhere(struct cdp *c, struct login_task *t, const char *fn, const char *arg)
{
	struct frame_ref frames[LOGIN_FRAMES_MAX];
	struct closed_roots cr;
	struct frame_hit h;
	size_t n;

	if (frames_checked(c, t, frames, &n) != 0)
		return -1;
	closed_roots(c, &cr);
	for (size_t i = 0; i < n; i++) {
		cJSON *v = NULL;
		int ret = frame_scan(c, t, frames[i].id, &cr, &h);
		if (ret == CDP_OK) {
			t->nav_started = t->stopped = 0;
			ret = call_fn(c, h.context, fn, &arg, 1, &v);
		}
		if (fatal(ret)) {
			fail_cdp(t, ret);
			return -1;
		}
		if (ret == CDP_OK && cJSON_IsTrue(v)) {
			cJSON_Delete(v);
			if ((ret = click_settle(c, t)) != CDP_OK) {
				fail_cdp(t, ret);
				return -1;
			}
			return 1;
		}
		cJSON_Delete(v);
	}
	return 0;
}

/* The credential's recorded clicks before the form (an identity-provider chooser, a consent
 * window's close button), in order: each waits for its control like a field. */
static int before_clicks(struct cdp *c, struct login_task *t)
{
	char sel[VAULT_SELECTOR_MAX + 1];
	const char *p = t->before_clicks;
	unsigned k = 0;

	while (*p != '\0') {
		size_t len = strcspn(p, "\n");
		long long dl = proto_now_ms() + LOGIN_FIND_MS;
		int r;
		snprintf(sel, sizeof(sel), "%.*s", (int)len, p);
		p += len + (p[len] == '\n');
		k++;
		while ((r = click_somewhere(c, t, "function(s){return __sesame.step(s);}", sel)) ==
			   0 &&
		       proto_now_ms() < dl)
			pause_ms(LOGIN_POLL_MS);
		if (r < 0)
			return -1;
		if (r == 0) {
			char detail[LOGIN_DETAIL_MAX];
			snprintf(detail, sizeof(detail),
				 "the recorded step %u (--before-click) found nothing to click", k);
			fail(t, "step_missing", detail);
			return -1;
		}
	}
	return 0;
}

/* Why no field could be used, from what the looks saw. */
static void fields_missing(struct login_task *t, const struct scan_note *note)
{
	if (note->inert)
		fail(t, "page_inert",
		     "a window in front of the page (a modal dialog) blocks the "
		     "login form");
	else if (note->hidden)
		fail(t, "field_hidden",
		     "the login fields are in the page but hidden: a step "
		     "before them was not done");
	else if (has_selectors(t))
		fail(t, "selectors",
		     "the recorded selectors matched no usable field, and the usual clues found "
		     "no login form either");
	else
		fail(t, "no_fields", "no login form was found on the page");
}

/* Poll the page until the fields appear (scripts may render them after the load event). With
 * nothing to fill after a moment on the first page, a visible "Se connecter" control of this
 * origin is clicked: it may open the form. */
static int fields_wait(struct cdp *c, struct login_task *t, int want_pass, struct frame_hit *hit)
{
	long long start = proto_now_ms(), dl = start + LOGIN_FIND_MS;
	struct scan_note note = {0, 0, 0};
	int ret, openers = 0;

	for (;;) {
		/* the clues wait a little while recorded selectors match nothing: their field may
		 * render late, and the clues are what the selectors were recorded to overrule */
		int trust_clues =
		    !has_selectors(t) || proto_now_ms() >= start + LOGIN_SELECTOR_GRACE_MS;
		memset(&note, 0, sizeof(note));
		if ((ret = page_scan(c, t, want_pass, trust_clues, hit, &note)) != 0)
			return ret > 0 ? 0 : -1;
		if (!want_pass && !note.seen && openers < LOGIN_OPENERS_MAX &&
		    proto_now_ms() >= start + LOGIN_OPENER_AFTER_MS) {
			if ((ret = click_somewhere(c, t, "function(){return __sesame.opener();}",
						   "")) < 0)
				return -1;
			if (ret > 0) {
				openers++;
				dl = proto_now_ms() + LOGIN_FIND_MS;
				continue;
			}
		}
		if (proto_now_ms() >= dl)
			break;
		pause_ms(LOGIN_POLL_MS);
	}
	/* a last look with the clues trusted, however slow the looks before were */
	memset(&note, 0, sizeof(note));
	if ((ret = page_scan(c, t, want_pass, 1, hit, &note)) != 0)
		return ret > 0 ? 0 : -1;
	fields_missing(t, &note);
	return -1;
}

/* Set the field's value in the isolated world; the element must then hold exactly that. */
static int field_set(struct cdp *c, struct login_task *t, const struct frame_hit *hit,
		     const char *key, const char *value)
{
	const char *args[2] = {key, value}; /* the hooks wipe the command's tree */
	cJSON *v = NULL;
	int ret;

	t->secret_in_page = 1;
	ret = call_fn(c, hit->context, "function(k,v){return __sesame.set(k,v);}", args, 2, &v);
	if (ret == CDP_OK && cJSON_IsTrue(v)) {
		cJSON_Delete(v);
		return 0;
	}
	cJSON_Delete(v);
	if (fatal(ret) || ret == CDP_E_TIMEOUT)
		fail_cdp(t, ret);
	else
		fail(t, "not_filled", "the field did not keep the value set");
	return -1;
}

/* The answer to a submission that left: its response, or the next document. */
static int answer_wait(struct cdp *c, struct login_task *t)
{
	int ret = hook_wait(c, &t->settled, proto_now_ms() + LOGIN_ANSWER_MS);

	t->submitting = 0;
	if (ret != CDP_OK && ret != CDP_E_TIMEOUT) {
		fail_cdp(t, ret);
		return -1;
	}
	return 0; /* a next page is looked at by polling, as it renders */
}

enum effect { EFFECT_NONE, EFFECT_LEFT, EFFECT_CHANGED, EFFECT_ERROR };

/* What one way of submitting did within LOGIN_EFFECT_MS: the submission left, or the page moved
 * on without a request (the fields went away, or a password field came), or nothing. */
static enum effect effect_wait(struct cdp *c, struct login_task *t, const struct frame_hit *hit)
{
	long long dl = proto_now_ms() + LOGIN_EFFECT_MS;

	while (proto_now_ms() < dl) {
		long long slice = proto_now_ms() + LOGIN_POLL_MS;
		cJSON *v = NULL;
		int changed, ret = hook_wait(c, &t->left, slice < dl ? slice : dl);
		if (ret == CDP_OK)
			return EFFECT_LEFT;
		if (ret != CDP_E_TIMEOUT) {
			fail_cdp(t, ret);
			return EFFECT_ERROR;
		}
		ret = eval(c, hit->context, "__sesame.changed()", &v);
		changed = ret != CDP_OK || cJSON_IsTrue(v); /* an error: the document went away */
		cJSON_Delete(v);
		if (fatal(ret)) {
			fail_cdp(t, ret);
			return EFFECT_ERROR;
		}
		if (changed)
			return EFFECT_CHANGED;
	}
	return t->left ? EFFECT_LEFT : EFFECT_NONE;
}

/* One way of submitting: what the finder did ("none" when that way does not apply). */
static int submit_way(struct cdp *c, struct login_task *t, const struct frame_hit *hit,
		      const char *way, char *done, size_t cap)
{
	char wait[16];
	const char *args[2] = {way, wait};
	cJSON *v = NULL;
	int ret;

	snprintf(wait, sizeof(wait), "%d", strcmp(way, "click") == 0 ? LOGIN_VALIDATION_MS : 0);
	ret =
	    call_fn(c, hit->context, "function(w,ms){return __sesame.submit(w,+ms);}", args, 2, &v);
	snprintf(done, cap, "%s", cJSON_IsString(v) ? v->valuestring : "none");
	cJSON_Delete(v);
	if (ret != CDP_OK && ret != CDP_E_COMMAND) {
		fail_cdp(t, ret);
		return -1;
	}
	if (strcmp(done, "changed") == 0) {
		fail(t, "not_filled", "the page changed the values before they were sent");
		return -1;
	}
	if (strcmp(done, "empty") == 0) {
		fail(t, "not_filled",
		     "the page shows a password field that Sesame did not fill: "
		     "nothing was sent, so that no empty password goes out");
		return -1;
	}
	return 0;
}

/* Send what was filled the way a person would, each way checked for its effect before the next
 * is tried: the submit control found after filling, then requestSubmit(), then Enter. 0 when the
 * submission left the page (or, on a username-only step, when the page moved on to the
 * password); -1 otherwise, with the reason. */
static int form_submit(struct cdp *c, struct login_task *t, const struct frame_hit *hit)
{
	static const char *const ways[] = {"click", "request", "enter"};
	enum effect e = EFFECT_NONE;

	t->submitting = 1, t->left = t->settled = t->nav_started = 0;
	t->request[0] = '\0';
	for (size_t i = 0; i < sizeof(ways) / sizeof(ways[0]) && e == EFFECT_NONE; i++) {
		char done[16];
		if (submit_way(c, t, hit, ways[i], done, sizeof(done)) != 0)
			return -1;
		if (strcmp(done, "none") != 0)
			e = effect_wait(c, t, hit);
	}
	if (e == EFFECT_CHANGED &&
	    !hit->pass) { /* a single-page two-step login: the password next */
		t->submitting = 0;
		return 0;
	}
	if (e == EFFECT_CHANGED &&
	    hook_wait(c, &t->left, proto_now_ms() + LOGIN_EFFECT_MS) == CDP_OK)
		e = EFFECT_LEFT; /* the page hid its form, then sent it */
	if (e == EFFECT_LEFT) {
		t->res.submitted = 1;
		return answer_wait(c, t);
	}
	t->submitting = 0;
	if (e != EFFECT_ERROR)
		fail(t, "not_submitted", "the page did not send the login form");
	return -1;
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

/* Only digits go through a virtual keypad; anything else is refused before it is in the page. */
static int keypad_fits(const char *password)
{
	size_t n = strspn(password, "0123456789");

	return n > 0 && password[n] == '\0';
}

/* One page of the flow: fill what it shows, submit unless told not to. *more is set when the
 * page showed the username alone (step one of a two-step login). */
static int step_fill(struct cdp *c, struct login_task *t, int want_pass, struct frame_hit *hit,
		     int *more)
{
	*more = 0;
	if (fields_wait(c, t, want_pass, hit) != 0)
		return -1;
	if (hit->pass && hit->keypad && !keypad_fits(t->password)) {
		fail(t, "keypad_unsupported",
		     "the page asks for the code on a keypad of digits, "
		     "and this password is not made of digits");
		return -1;
	}
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
	cJSON *v = NULL;
	size_t n;
	int ret;

	if (hit->context != 0) {
		eval(c, hit->context, "__sesame.wipe()", &v); /* gone with its document: fine */
		cJSON_Delete(v);
	}
	if ((ret = frames_list(c, frames, &n)) != CDP_OK)
		return ret;
	for (size_t i = 0; i < n; i++) {
		int context;
		v = NULL;
		if ((ret = world(c, frames[i].id, "sesame-wipe", &context)) == CDP_OK)
			ret = eval(c, context, wipe_js, &v);
		cJSON_Delete(v);
		if (fatal(ret))
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
	if (cdp_call(c, "Page.captureScreenshot", p, 1, proto_now_ms() + scaled(LOGIN_LOAD_MS),
		     &r) == CDP_OK &&
	    (b64 = proto_string(r, "data")) != NULL && strlen(b64) <= LOGIN_SCREENSHOT_MAX)
		t->res.screenshot = strdup(b64);
	cJSON_Delete(r);
}

void fill_run(struct cdp *c, struct login_task *t)
{
	struct frame_hit hit = {0};
	int more = 0, ret;

	slowness = machine_slowness();
	if (attach(c, t) != CDP_OK || navigate(c, t) != CDP_OK || before_clicks(c, t) != 0)
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
		 proto_now_ms() + scaled(LOGIN_STEP_MS), NULL);
}
