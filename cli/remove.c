/* sesame remove USER SERVICE: remove a credential from the person's vault (session required). */
#include <unistd.h>

#include "cli.h"

static int usage(FILE *out)
{
	fprintf(out, _("Usage: sesame remove USER SERVICE [--json]\n"
		       "Remove a credential from the person's vault (their session must be "
		       "open).\n"));
	return out == stdout ? EXIT_OK : EXIT_USAGE;
}

static void show(const cJSON *reply, void *ctx)
{
	(void)reply;
	printf(_("%s removed.\n"), (const char *)ctx);
}

int cmd_remove(int argc, char **argv)
{
	struct cli_common opts;
	struct sesame_home h;
	enum cli_parsed parsed = cli_common_parse(argc, argv, CLI_OPT_JSON, &opts);
	cJSON *req;

	if (parsed != CLI_PARSED_OK || optind + 2 != argc)
		return usage(parsed == CLI_PARSED_HELP ? stdout : stderr);
	if (cli_home(&h) != 0)
		return EXIT_FAIL;
	req = cJSON_CreateObject();
	cJSON_AddStringToObject(req, "op", "remove");
	cJSON_AddStringToObject(req, "user", argv[optind]);
	cJSON_AddStringToObject(req, "service", argv[optind + 1]);
	return cli_run(&h, req, opts.json, show, argv[optind + 1]);
}
