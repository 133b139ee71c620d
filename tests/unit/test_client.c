/* common/client and common/loginreq, the exchange with the agent that the sesame command and
 * sesame-gtk share: against a socket served by a thread of this test, and an "agent" program
 * that cannot start. The real agent is exercised by the cli, agent and gui suites. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <fcntl.h>
#include <pthread.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "client.h"
#include "loginreq.h"
#include "proto.h"
#include "testutil.h"

#define SILENT_WAIT_MS 200 /* the bound under test; the silent server outwaits it */

enum behaviour { SERVE_ANSWER, SERVE_SILENT, SERVE_REFUSE };

struct server {
	char dir[PATH_MAX];
	struct sesame_home home;
	int listen_fd;
	enum behaviour how;
	long long v; /* the version the request carried */
	pthread_t thread;
};

static void *serve(void *data)
{
	struct server *s = data;
	int fd = accept(s->listen_fd, NULL, NULL);
	cJSON *req = NULL, *reply = cJSON_CreateObject();
	char buf[1];

	cJSON_AddNumberToObject(reply, "v", PROTO_VERSION);
	if (s->how == SERVE_REFUSE) { /* as an agent over its limit: answer, hang up unread */
		cJSON_AddFalseToObject(reply, "ok");
		cJSON_AddNumberToObject(reply, "code", PROTO_E_LIMIT);
		proto_send(fd, reply);
	} else if (proto_recv(fd, &req, 5000) == 0) {
		proto_int(req, "v", &s->v);
		cJSON_AddTrueToObject(reply, "ok");
		if (s->how == SERVE_ANSWER)
			proto_send(fd, reply);
		else
			while (read(fd, buf, 1) > 0) /* until the client gives up and closes */
				;
	}
	cJSON_Delete(req);
	cJSON_Delete(reply);
	close(fd);
	return NULL;
}

static void home_in(struct sesame_home *h, const char *dir)
{
	memset(h, 0, sizeof(*h));
	snprintf(h->dir, sizeof(h->dir), "%s", dir);
	snprintf(h->vaults, sizeof(h->vaults), "%s/vaults", dir);
	snprintf(h->audit, sizeof(h->audit), "%s/audit", dir);
	snprintf(h->key_file, sizeof(h->key_file), "%s/private/key", dir);
	snprintf(h->socket, sizeof(h->socket), "%s/agent.sock", dir);
}

static void server_start(struct server *s, enum behaviour how)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};

	testutil_tmpdir(s->dir);
	home_in(&s->home, s->dir);
	assert_true(strlen(s->home.socket) < sizeof(sun.sun_path));
	memcpy(sun.sun_path, s->home.socket, strlen(s->home.socket) + 1);
	s->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_int_equal(bind(s->listen_fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	assert_int_equal(listen(s->listen_fd, 4), 0);
	s->how = how;
	s->v = 0;
	assert_int_equal(pthread_create(&s->thread, NULL, serve, s), 0);
}

static void server_stop(struct server *s)
{
	pthread_join(s->thread, NULL);
	close(s->listen_fd);
	testutil_rmtree(s->dir);
}

static cJSON *request(const char *op)
{
	cJSON *req = cJSON_CreateObject();

	cJSON_AddStringToObject(req, "op", op);
	return req;
}

static void a_reply_comes_back_with_the_version_sent(void **state)
{
	struct server s;
	struct client_error e = {0};
	cJSON *req = request("status"), *reply;
	pid_t started = -1;

	(void)state;
	server_start(&s, SERVE_ANSWER);
	assert_int_equal(client_request(&s.home, req, &reply, -1, -1, &started, &e), 0);
	assert_true(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(reply, "ok")));
	assert_int_equal(started, 0); /* it was listening: nothing started */
	server_stop(&s);
	assert_int_equal(s.v, PROTO_VERSION);
	cJSON_Delete(reply);
	cJSON_Delete(req);
}

static void a_silent_agent_is_named_after_the_bound(void **state)
{
	struct server s;
	struct client_error e = {0};
	cJSON *req = request("status"), *reply;
	pid_t started;

	(void)state;
	server_start(&s, SERVE_SILENT);
	assert_int_equal(client_request(&s.home, req, &reply, SILENT_WAIT_MS, -1, &started, &e),
			 -1);
	assert_null(reply);
	assert_int_equal(e.what, CLIENT_FAIL_SILENT);
	assert_int_equal(e.wait_ms, SILENT_WAIT_MS);
	assert_int_equal(e.pid, (long)getpid()); /* the peer: this test's server */
	server_stop(&s);
	cJSON_Delete(req);
}

static void a_refusal_sent_before_reading_is_read(void **state)
{
	struct server s;
	struct client_error e = {0};
	cJSON *req = request("status"), *reply;
	long long code = 0;
	pid_t started;

	(void)state;
	server_start(&s, SERVE_REFUSE);
	assert_int_equal(client_request(&s.home, req, &reply, -1, -1, &started, &e), 0);
	assert_int_equal(proto_int(reply, "code", &code), 0);
	assert_int_equal(code, PROTO_E_LIMIT);
	server_stop(&s);
	cJSON_Delete(reply);
	cJSON_Delete(req);
}

static void waits_follow_the_op(void **state)
{
	static const struct {
		const char *op;
		int wait_ms;
	} cases[] = {{"status", CLIENT_ANSWER_WAIT_MS}, {"unlock", CLIENT_PIN_WAIT_MS},
		     {"pin_check", CLIENT_PIN_WAIT_MS}, {"export", CLIENT_PIN_WAIT_MS},
		     {"history", CLIENT_PIN_WAIT_MS},	{"login", CLIENT_LOGIN_WAIT_MS}};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cJSON *req = request(cases[i].op);
		assert_int_equal(client_reply_wait(req), cases[i].wait_ms);
		cJSON_Delete(req);
	}
}

/* No agent listens on these homes, and none may be started by accident. */
static int connect_nowhere(struct sesame_home *h, pid_t *started, struct client_error *e)
{
	setenv("SESAME_AGENT_SOCK", h->socket, 1); /* not the system's shared agent */
	return client_connect(h, started, e);
}

static void write_file(const char *dir, const char *name, const char *text, mode_t mode)
{
	char path[PATH_MAX];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

/* Before init, and with a directory open to others, an agent could only exit: nothing starts. */
static void what_stops_a_start_is_said_before_it(void **state)
{
	char dir[PATH_MAX];
	struct sesame_home h;
	struct client_error e = {0};
	pid_t started = -1;

	(void)state;
	home_in(&h, testutil_tmpdir(dir));
	setenv("SESAME_AGENT_PROGRAM", "/bin/false", 1);
	assert_int_equal(connect_nowhere(&h, &started, &e), -1);
	assert_int_equal(e.what, CLIENT_FAIL_NOT_INSTALLED);
	assert_int_equal(started, 0);

	write_file(dir, VAULT_INSTALLATION_FILE, "x\n", 0600);
	assert_int_equal(chmod(dir, 0755), 0);
	assert_int_equal(connect_nowhere(&h, &started, &e), -1);
	assert_int_equal(e.what, CLIENT_FAIL_UNSAFE);
	assert_string_equal(e.path, dir);
	assert_int_equal(started, 0);
	testutil_rmtree(dir);
}

static void an_agent_that_cannot_start_says_why(void **state)
{
	char dir[PATH_MAX], program[PATH_MAX + 16];
	struct sesame_home h;
	struct client_error e = {0};
	pid_t started = -1;

	(void)state;
	home_in(&h, testutil_tmpdir(dir));
	write_file(dir, VAULT_INSTALLATION_FILE, "x\n", 0600);
	write_file(dir, "agent", "#!/bin/sh\necho 'the key file is damaged' >&2\nexit 3\n", 0700);
	snprintf(program, sizeof(program), "%s/agent", dir);
	setenv("SESAME_AGENT_PROGRAM", program, 1);
	assert_int_equal(connect_nowhere(&h, &started, &e), -1);
	assert_int_equal(e.what, CLIENT_FAIL_START);
	assert_string_equal(e.said, "the key file is damaged");
	assert_true(WIFEXITED(e.status) && WEXITSTATUS(e.status) == 3);
	assert_int_equal(started, 0); /* reaped already */

	snprintf(program, sizeof(program), "%s/absent", dir);
	setenv("SESAME_AGENT_PROGRAM", program, 1);
	assert_int_equal(connect_nowhere(&h, &started, &e), -1);
	assert_int_equal(e.what, CLIENT_FAIL_START);
	assert_non_null(strstr(e.said, program));
	testutil_rmtree(dir);
}

static void login_request_hands_over_the_display_only_with_a_window(void **state)
{
	struct login_ask ask = {.user = "Mme Martin", .service = "CAF", .purpose = ""};
	cJSON *req, *display;

	(void)state;
	setenv("DISPLAY", ":7", 1);
	setenv("XAUTHORITY", "/nonexistent/.Xauthority", 1);
	req = login_request(&ask);
	display = cJSON_GetObjectItemCaseSensitive(req, "display");
	assert_string_equal(proto_string(display, "x11"), ":7");
	assert_null(proto_string(display, "xauth")); /* no cookie to hand over */
	assert_true(cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(req, "headless")));
	assert_true(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(req, "keep_open")));
	assert_null(cJSON_GetObjectItemCaseSensitive(req, "purpose"));
	cJSON_Delete(req);

	ask.headless = 1, ask.purpose = "RSA";
	req = login_request(&ask);
	assert_null(cJSON_GetObjectItemCaseSensitive(req, "display"));
	assert_true(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(req, "headless")));
	assert_true(cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(req, "keep_open")));
	assert_string_equal(proto_string(req, "purpose"), "RSA");
	cJSON_Delete(req);

	unsetenv("DISPLAY");
	ask.headless = 0;
	req = login_request(&ask);
	assert_true(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(req, "headless")));
	cJSON_Delete(req);
}

static void login_outcome_reads_a_refusal_and_no_reply(void **state)
{
	cJSON *reply = cJSON_Parse("{\"ok\": false, \"code\": -106, \"reason\": \"origin\", "
				   "\"error\": \"elsewhere\", \"submitted\": false}");
	struct login_outcome out;

	(void)state;
	login_outcome_read(reply, &out);
	assert_false(out.ok);
	assert_int_equal(out.code, PROTO_E_LOGIN);
	assert_string_equal(out.reason, "origin");
	assert_string_equal(out.detail, "elsewhere");
	cJSON_Delete(reply);
	login_outcome_read(NULL, &out);
	assert_false(out.ok);
	assert_int_equal(out.code, VAULT_E_IO);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(a_reply_comes_back_with_the_version_sent),
	    cmocka_unit_test(a_silent_agent_is_named_after_the_bound),
	    cmocka_unit_test(a_refusal_sent_before_reading_is_read),
	    cmocka_unit_test(waits_follow_the_op),
	    cmocka_unit_test(what_stops_a_start_is_said_before_it),
	    cmocka_unit_test(an_agent_that_cannot_start_says_why),
	    cmocka_unit_test(login_request_hands_over_the_display_only_with_a_window),
	    cmocka_unit_test(login_outcome_reads_a_refusal_and_no_reply),
	};

	if (sodium_init() < 0)
		return 1;
	proto_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
