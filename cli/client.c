/* Talking to the agent: common/client does the exchange, starting a per-user agent on demand as
 * gpg does; this says its failures on the command's standard error. */
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

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
	int ret;

	if (client_call(home, req, &reply) != 0)
		return EXIT_AGENT;
	if ((ret = client_failed(reply, json)) == EXIT_OK) {
		if (json)
			cli_json_print(cJSON_Duplicate(reply, 1));
		else if (show != NULL)
			show(reply, ctx);
	}
	cJSON_Delete(reply);
	return ret;
}
