/* sesame status: the agent, and this worker's open sessions with the time they have left. */
#include <string.h>
#include <unistd.h>

#include "cli.h"

static int usage(FILE *out)
{
	fprintf(out, _("Usage: sesame status [--json]\nShow the agent and your open sessions.\n"));
	return out == stdout ? EXIT_OK : EXIT_USAGE;
}

/* The agent, where its data and configuration are, then this worker's sessions. */
static void show(const cJSON *reply, void *ctx)
{
	const struct sesame_home *h = ctx;
	const cJSON *agent = cJSON_GetObjectItemCaseSensitive(reply, "agent"), *s;
	const char *mode = proto_string(agent, "mode"), *dir = proto_string(agent, "data_dir");
	const char *config = proto_string(agent, "config");
	long long pid = 0;

	proto_int(agent, "pid", &pid);
	printf(mode != NULL && strcmp(mode, "system") == 0
		   ? _("Agent %s, shared by the structure (system mode), process %lld\n")
		   : _("Agent %s, for this account (per-user mode), process %lld\n"),
	       proto_string(agent, "version"), pid);
	printf(_("  socket: %s\n"), h->socket);
	if (dir != NULL)
		printf(_("  data directory: %s\n"), dir);
	if (config != NULL)
		printf(access(config, F_OK) == 0 || mode == NULL || strcmp(mode, "system") == 0
			   ? _("  configuration: %s\n")
			   : _("  configuration: %s (absent: the defaults apply)\n"),
		       config);
	if (cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(reply, "sessions")) == 0)
		printf("%s\n", _("No open session."));
	cJSON_ArrayForEach(s, cJSON_GetObjectItemCaseSensitive(reply, "sessions"))
	{
		long long left = 0;
		proto_int(s, "expires_in", &left);
		printf(_("Session open for %s: ends in %lld min %02lld s\n"),
		       proto_string(s, "name"), left / 60, left % 60);
	}
}

int cmd_status(int argc, char **argv)
{
	struct cli_common opts;
	struct sesame_home h;
	enum cli_parsed parsed = cli_common_parse(argc, argv, CLI_OPT_JSON, &opts);
	cJSON *req;

	if (parsed != CLI_PARSED_OK || optind != argc)
		return usage(parsed == CLI_PARSED_HELP ? stdout : stderr);
	/* A wrong configuration is said, and the agent is still asked: status is where one looks
	 * when something is wrong. */
	if (cli_home(&h) != 0 && h.socket[0] == '\0')
		return EXIT_FAIL;
	req = cJSON_CreateObject();
	cJSON_AddStringToObject(req, "op", "status");
	return cli_run(&h, req, opts.json, show, &h);
}
