/* The DevTools client without a browser: the message splitter, origins, and conversations with
 * a fake browser on a pipe pair (answers, events, silence, a crash, a cancel); and the login's
 * time bounds derived from measured costs (bounds.h). */
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "bounds.h"
#include "cdp.h"
#include "proto.h"

#define MSG(s) ((const uint8_t *)(s)), (sizeof(s) - 1)

/* The start's bound follows the measured starts, the machine's load and the starts sharing the
 * processors, between the floor and the cap; a measured start is brought back to an idle
 * machine's scale, so that the bound it gives under the same conditions covers it. */
static void start_bound_follows_costs(void **state)
{
	long long took = 9000, cost;

	(void)state;
	assert_true(login_slowness(0.3, 2) == 1.0);
	assert_true(login_slowness(5.0, 2) == 2.5);
	assert_true(login_slowness(49.0, 2) == LOGIN_SLOWNESS_MAX);
	assert_true(login_slowness(3.0, 0) == 1.0);
	/* nothing measured: the floor, scaled */
	assert_int_equal(login_start_bound(0, 1.0, 1, 2), LOGIN_ATTACH_MS);
	assert_int_equal(login_start_bound(0, 2.0, 1, 2), 2 * LOGIN_ATTACH_MS);
	/* four starts on two processors: each has twice the time */
	assert_int_equal(login_start_bound(0, 1.0, 4, 2), 2 * LOGIN_ATTACH_MS);
	assert_int_equal(login_start_bound(0, 1.0, 2, 2), LOGIN_ATTACH_MS);
	/* a slow start measured raises the bound above the floor */
	assert_int_equal(login_start_bound(4000, 1.0, 1, 2), 4000 * LOGIN_START_FACTOR);
	assert_int_equal(login_start_bound(10000000, 1.0, 1, 2), LOGIN_ATTACH_MAX_MS);
	/* 9 s under slowness 3 with 4 starts on 2 processors: 1.5 s on an idle machine */
	cost = login_start_cost(took, 3.0, 4, 2);
	assert_int_equal(cost, 1500);
	assert_true(login_start_bound(cost, 3.0, 4, 2) >= took * 2);
	/* a start that took 20 s alone on an idle machine: the next one has 100 s */
	assert_int_equal(login_start_bound(login_start_cost(20000, 1.0, 1, 2), 1.0, 1, 2), 100000);
}

static void parse_splits_messages(void **state)
{
	cJSON *m;
	size_t used;

	(void)state;
	assert_int_equal(cdp_parse(MSG("{\"id\":1}\0{\"id\":2}\0"), &used, &m), 1);
	assert_int_equal(used, 9);
	assert_int_equal(cJSON_GetObjectItem(m, "id")->valueint, 1);
	cJSON_Delete(m);
	assert_int_equal(cdp_parse(MSG("{\"id\":1"), &used, &m), 0); /* wait for more */
	assert_null(m);
	assert_int_equal(used, 0);
	assert_int_equal(cdp_parse(MSG(""), &used, &m), 0);
}

static void parse_refuses_malformed(void **state)
{
	static const char big_prefix[] = "{\"a\":\"";
	uint8_t *big = malloc(CDP_MESSAGE_MAX + 8);
	cJSON *m;
	size_t used;

	(void)state;
	assert_int_equal(cdp_parse(MSG("\0"), &used, &m), -1);		/* empty message */
	assert_int_equal(cdp_parse(MSG("[1,2]\0"), &used, &m), -1);	/* not an object */
	assert_int_equal(cdp_parse(MSG("{\"id\":}\0"), &used, &m), -1); /* not JSON */
	assert_int_equal(cdp_parse(MSG("{}x\0"), &used, &m), -1);	/* trailing bytes */
	assert_non_null(big);
	memcpy(big, big_prefix, sizeof(big_prefix) - 1);
	memset(big + sizeof(big_prefix) - 1, 'x', CDP_MESSAGE_MAX + 8 - sizeof(big_prefix) + 1);
	assert_int_equal(cdp_parse(big, CDP_MESSAGE_MAX, &used, &m), 0);
	assert_int_equal(cdp_parse(big, CDP_MESSAGE_MAX + 1, &used, &m), -1); /* too long */
	free(big);
}

static void origins(void **state)
{
	struct cdp_origin o;

	(void)state;
	assert_int_equal(cdp_origin_parse("https://Wwwd.CAF.fr/wps/portal?x=1", &o), 0);
	assert_string_equal(o.scheme, "https");
	assert_string_equal(o.host, "wwwd.caf.fr");
	assert_int_equal(o.port, 443);
	assert_true(cdp_origin_same(&o, "https://wwwd.caf.fr"));
	assert_true(cdp_origin_same(&o, "https://wwwd.caf.fr:443/"));
	assert_false(cdp_origin_same(&o, "http://wwwd.caf.fr"));
	assert_false(cdp_origin_same(&o, "https://wwwd.caf.fr:8443"));
	assert_false(cdp_origin_same(&o, "https://wwwd.caf.fr.evil.example"));
	assert_false(cdp_origin_same(&o, "https://evil.example\\@wwwd.caf.fr/"));
	assert_false(cdp_origin_same(&o, "null"));
	assert_false(cdp_origin_same(&o, NULL));
	assert_true(cdp_origin_same(&o, "https://someone@wwwd.caf.fr/"));
	assert_int_equal(cdp_origin_parse("http://127.0.0.1:8080/login", &o), 0);
	assert_int_equal(o.port, 8080);
	assert_true(cdp_origin_loopback(&o));
	assert_int_equal(cdp_origin_parse("http://[::1]:9/", &o), 0);
	assert_true(cdp_origin_loopback(&o));
	assert_int_equal(cdp_origin_parse("http://127.0.0.1.evil.example/", &o), 0);
	assert_false(cdp_origin_loopback(&o));
	assert_int_equal(cdp_origin_parse("ftp://example.org/", &o), -1);
	assert_int_equal(cdp_origin_parse("javascript:alert(1)", &o), -1);
	assert_int_equal(cdp_origin_parse("https://", &o), -1);
	assert_int_equal(cdp_origin_parse("https://a:0/", &o), -1);
	assert_int_equal(cdp_origin_parse("https://a:65536/", &o), -1);
	assert_int_equal(cdp_origin_parse("https://a:8x/", &o), -1);
	assert_int_equal(cdp_origin_parse("https://[::1/", &o), -1);
}

/* A fake browser: the other ends of the pipes. */
struct fake {
	int to_agent[2], from_agent[2];
	struct cdp c;
};

static void fake_open(struct fake *f, int cancel)
{
	assert_int_equal(pipe(f->to_agent), 0);
	assert_int_equal(pipe(f->from_agent), 0);
	assert_int_equal(cdp_open(&f->c, f->to_agent[0], f->from_agent[1], cancel), CDP_OK);
}

static void fake_close(struct fake *f)
{
	cdp_close(&f->c);
	if (f->to_agent[1] >= 0)
		close(f->to_agent[1]);
	close(f->from_agent[0]);
}

static void fake_say(struct fake *f, const char *text)
{
	assert_int_equal(write(f->to_agent[1], text, strlen(text) + 1), (ssize_t)strlen(text) + 1);
}

static void call_gets_its_answer(void **state)
{
	struct fake f;
	cJSON *r;
	char sent[256] = "";

	(void)state;
	fake_open(&f, -1);
	/* answers may come after events and after answers to other ids */
	fake_say(&f, "{\"method\":\"Page.frameStartedLoading\",\"params\":{}}");
	fake_say(&f, "{\"id\":99,\"result\":{}}");
	fake_say(&f, "{\"id\":1,\"result\":{\"targetInfos\":[]}}");
	assert_int_equal(cdp_call(&f.c, "Target.getTargets", NULL, 0, proto_now_ms() + 2000, &r),
			 CDP_OK);
	assert_non_null(cJSON_GetObjectItem(r, "targetInfos"));
	cJSON_Delete(r);
	assert_true(read(f.from_agent[0], sent, sizeof(sent) - 1) > 0);
	assert_string_equal(sent, "{\"id\":1,\"method\":\"Target.getTargets\"}");
	fake_say(&f, "{\"id\":2,\"error\":{\"code\":-32000,\"message\":\"no\"}}");
	assert_int_equal(cdp_call(&f.c, "Page.enable", NULL, 1, proto_now_ms() + 2000, NULL),
			 CDP_E_COMMAND);
	fake_close(&f);
}

static void events_are_waited_for(void **state)
{
	struct fake f;
	cJSON *ev;

	(void)state;
	fake_open(&f, -1);
	snprintf(f.c.session, sizeof(f.c.session), "S1");
	fake_say(&f, "{\"method\":\"Page.loadEventFired\",\"params\":{},\"sessionId\":\"S2\"}");
	fake_say(&f,
		 "{\"method\":\"Page.loadEventFired\",\"params\":{\"t\":1},\"sessionId\":\"S1\"}");
	assert_int_equal(cdp_wait_event(&f.c, "Page.loadEventFired", proto_now_ms() + 2000, &ev),
			 CDP_OK);
	assert_non_null(cJSON_GetObjectItem(ev, "t"));
	cJSON_Delete(ev);
	fake_say(&f, "{\"method\":\"Inspector.targetCrashed\",\"params\":{},\"sessionId\":\"S1\"}");
	assert_int_equal(cdp_wait_event(&f.c, "Page.loadEventFired", proto_now_ms() + 2000, NULL),
			 CDP_E_CLOSED);
	fake_close(&f);
}

static void silence_crash_and_garbage(void **state)
{
	struct fake f;
	long long t0;

	(void)state;
	fake_open(&f, -1);
	t0 = proto_now_ms();
	assert_int_equal(cdp_call(&f.c, "Target.getTargets", NULL, 0, t0 + 300, NULL),
			 CDP_E_TIMEOUT);
	assert_true(proto_now_ms() - t0 >= 290 && proto_now_ms() - t0 < 2000);
	fake_say(&f, "not json");
	assert_int_equal(cdp_call(&f.c, "Target.getTargets", NULL, 0, proto_now_ms() + 2000, NULL),
			 CDP_E_PROTO);
	fake_close(&f);

	fake_open(&f, -1);
	close(f.to_agent[1]); /* the browser died */
	f.to_agent[1] = -1;
	assert_int_equal(cdp_call(&f.c, "Target.getTargets", NULL, 0, proto_now_ms() + 2000, NULL),
			 CDP_E_CLOSED);
	fake_close(&f);

	fake_open(&f, -1);
	close(f.from_agent[0]); /* nobody reads commands: EPIPE, not SIGPIPE (ignored here) */
	f.from_agent[0] = open("/dev/null", O_RDONLY);
	assert_int_equal(cdp_call(&f.c, "Target.getTargets", NULL, 0, proto_now_ms() + 2000, NULL),
			 CDP_E_CLOSED);
	fake_close(&f);
}

static void cancel_ends_waits(void **state)
{
	struct fake f;
	int cancel[2];
	long long t0;

	(void)state;
	assert_int_equal(pipe(cancel), 0);
	fake_open(&f, cancel[0]);
	assert_int_equal(write(cancel[1], "q", 1), 1);
	t0 = proto_now_ms();
	assert_int_equal(cdp_drain(&f.c, t0 + 5000), CDP_E_CANCELLED);
	assert_true(proto_now_ms() - t0 < 1000);
	fake_close(&f);
	close(cancel[0]);
	close(cancel[1]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(start_bound_follows_costs), cmocka_unit_test(parse_splits_messages),
	    cmocka_unit_test(parse_refuses_malformed),	 cmocka_unit_test(origins),
	    cmocka_unit_test(call_gets_its_answer),	 cmocka_unit_test(events_are_waited_for),
	    cmocka_unit_test(silence_crash_and_garbage), cmocka_unit_test(cancel_ends_waits),
	};

	if (sodium_init() < 0)
		return 1;
	proto_init();
	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
