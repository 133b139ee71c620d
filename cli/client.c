/* Talking to the agent: common/client does the exchange, starting a per-user agent on demand as
 * gpg does; this says its failures on the command's standard error. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"
#include "client.h"
#include "proto.h"

/* Say what did not answer, naming the wait (sesame(1), "WAITS") and the remedy. */
static void report(const struct sesame_home *home, const struct client_error *e)
{
	switch (e->what) {
	case CLIENT_FAIL_NOT_INSTALLED:
		cli_error(_("Sesame is not installed in %s yet: run \"sesame init\" first"),
			  home->dir);
		break;
	case CLIENT_FAIL_UNSAFE:
		cli_unsafe(e->path);
		break;
	case CLIENT_FAIL_BACKLOG:
		cli_error(_("the agent at %s accepts no connection within %d s: it is stopped, or "
			    "too many connections wait"),
			  home->socket, e->wait_ms / 1000);
		break;
	case CLIENT_FAIL_START:
		if (e->said[0] != '\0')
			cli_error(_("the agent could not start: %s"), e->said);
		else
			cli_error(_("the agent could not start (exit status %d) and said nothing"),
				  WIFEXITED(e->status) ? WEXITSTATUS(e->status)
						       : 128 + WTERMSIG(e->status));
		break;
	case CLIENT_FAIL_START_WAIT:
		cli_error(
		    _("the agent started (pid %ld) but did not open %s within %d s; it may be "
		      "stuck on a file of the installation (stop it with kill %ld)"),
		    e->pid, home->socket, CLIENT_START_WAIT_MS / 1000, e->pid);
		break;
	case CLIENT_FAIL_SILENT:
		if (e->pid > 0)
			cli_error(_("the agent (pid %ld) does not answer: no reply within %d s; it "
				    "is stopped or stuck (kill -CONT %ld, or restart it)"),
				  e->pid, e->wait_ms / 1000, e->pid);
		else
			cli_error(
			    _("the agent does not answer: no reply within %d s; it is stopped "
			      "or stuck"),
			    e->wait_ms / 1000);
		break;
	case CLIENT_FAIL_HUNG_UP:
		cli_error(_("the agent refused this connection or stopped: is this account in the "
			    "structure's worker group? (else see the agent's log)"));
		break;
	case CLIENT_FAIL_EXCHANGE:
		cli_error(_("the agent did not answer: %s"), strerror(e->err));
		break;
	default:
		cli_error(_("cannot reach the agent at %s: %s"), home->socket, strerror(e->err));
	}
}

int client_call(const struct sesame_home *home, cJSON *req, cJSON **reply)
{
	return client_call_wait(home, req, reply, -1);
}

int client_call_wait(const struct sesame_home *home, cJSON *req, cJSON **reply, int wait_ms)
{
	return client_call_file(home, req, reply, wait_ms, -1);
}

int client_call_file(const struct sesame_home *home, cJSON *req, cJSON **reply, int wait_ms,
		     int file)
{
	struct client_error e = {0};
	pid_t started;
	int ret = client_request(home, req, reply, wait_ms, file, &started, &e);

	if (ret != 0)
		report(home, &e);
	cJSON_Delete(req);
	return ret;
}

int client_call_held(const struct sesame_home *home, cJSON *req, cJSON **reply, int *held)
{
	struct client_error e = {0};
	pid_t started;
	int fd, ret = -1;

	*reply = NULL;
	*held = -1;
	cJSON_AddNumberToObject(req, "v", PROTO_VERSION);
	if ((fd = client_connect(home, &started, &e)) >= 0 &&
	    (ret = client_exchange(fd, req, reply, client_reply_wait(req), -1, &e)) == 0 &&
	    proto_string(*reply, "recovery") != NULL) {
		*held = fd; /* the agent undoes the change unless told on it the key is shown */
		fd = -1;
	}
	if (fd >= 0)
		close(fd);
	if (ret != 0)
		report(home, &e);
	cJSON_Delete(req);
	return ret;
}

/* Whether the key reached the terminal or the file standard output goes to. */
int client_stdout_ok(void)
{
	return fflush(stdout) == 0 && !ferror(stdout) &&
	       (fsync(STDOUT_FILENO) == 0 || errno == EINVAL || errno == EROFS);
}

int client_key_shown(int held, int shown)
{
	struct client_error e = {0};
	cJSON *req, *reply = NULL;
	int ret = -1;

	if (!shown) { /* hanging up undoes the change: nobody saw the key */
		close(held);
		return -1;
	}
	req = cJSON_CreateObject();
	cJSON_AddStringToObject(req, "op", "recovery_shown");
	cJSON_AddNumberToObject(req, "v", PROTO_VERSION);
	if (client_exchange(held, req, &reply, CLIENT_ANSWER_WAIT_MS, -1, &e) == 0 &&
	    cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(reply, "ok")))
		ret = 0;
	else if (reply != NULL)
		ret = -2; /* refused: the agent undid the change */
	cJSON_Delete(reply);
	cJSON_Delete(req);
	close(held);
	return ret;
}

int client_failed(const cJSON *reply, int json)
{
	long long code = VAULT_E_IO;
	char text[CLI_MESSAGE_MAX];

	if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(reply, "ok")))
		return EXIT_OK;
	proto_int(reply, "code", &code);
	if (!json)
		cli_damaged_report(reply); /* the files a refusal is about come first */
	if (json)
		cli_json_print(cJSON_Duplicate(reply, 1));
	else if (code == VAULT_E_PERM && proto_string(reply, "path") != NULL)
		cli_unsafe(proto_string(reply, "path"));
	else if (proto_string(reply, "path") != NULL)
		cli_error("%s: %s", proto_string(reply, "path"), cli_strerror((int)code));
	else if (cli_reply_message(reply, text, sizeof(text)) == 0)
		cli_error("%s", text);
	else
		cli_error("%s", cli_strerror((int)code));
	return cli_exit_for((int)code);
}

int cli_run(const struct sesame_home *home, cJSON *req, int json,
	    void (*show)(const cJSON *reply, void *ctx), void *ctx)
{
	cJSON *reply;
	int ret, held;

	if (client_call_held(home, req, &reply, &held) != 0)
		return EXIT_AGENT;
	if ((ret = client_failed(reply, json)) == EXIT_OK) {
		if (json)
			cli_json_print(cJSON_Duplicate(reply, 1));
		else if (show != NULL)
			show(reply, ctx);
	}
	cJSON_Delete(reply);
	if (held >= 0 && client_key_shown(held, client_stdout_ok()) != 0) {
		cli_key_void();
		ret = EXIT_FAIL;
	}
	return ret;
}

void cli_key_void(void)
{
	cli_error(_("the agent did not confirm the change: the recovery key shown above is void "
		    "and nothing changed, unless the agent stopped at that very moment (sesame "
		    "audit show --event recovery_used says which); try again"));
}
