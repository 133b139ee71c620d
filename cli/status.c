/* sesame status: the agent, and this worker's open sessions with the time they have left. */
#include <unistd.h>

#include "cli.h"

static int usage(FILE *out)
{
	fprintf(out, _("Usage: sesame status [--json]\nShow the agent and your open sessions.\n"));
	return out == stdout ? EXIT_OK : EXIT_USAGE;
}

static void show(const cJSON *reply, void *ctx)
{
	const struct sesame_home *h = ctx;
	const cJSON *agent = cJSON_GetObjectItemCaseSensitive(reply, "agent"), *s;

	printf(_("Agent %s (%s mode) on %s\n"), proto_string(agent, "version"),
	       proto_string(agent, "mode"), h->socket);
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
	if (cli_home(&h) != 0)
		return EXIT_FAIL;
	req = cJSON_CreateObject();
	cJSON_AddStringToObject(req, "op", "status");
	return cli_run(&h, req, opts.json, show, &h);
}
