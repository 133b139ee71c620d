/* sesame lock [USER]: end this worker's sessions (all, or the person's); keys are wiped. */
#include <unistd.h>

#include "cli.h"

static int usage(FILE *out)
{
	fprintf(out,
		_("Usage: sesame lock [USER] [--json]\n"
		  "End your sessions (all of them, or only the person's): their keys are wiped "
		  "from memory.\n"));
	return out == stdout ? EXIT_OK : EXIT_USAGE;
}

static void show(const cJSON *reply, void *ctx)
{
	long long closed = 0;

	(void)ctx;
	proto_int(reply, "closed", &closed);
	printf(_("%lld session(s) closed.\n"), closed);
}

int cmd_lock(int argc, char **argv)
{
	struct cli_common opts;
	struct sesame_home h;
	enum cli_parsed parsed = cli_common_parse(argc, argv, CLI_OPT_JSON, &opts);
	cJSON *req;

	if (parsed != CLI_PARSED_OK || argc - optind > 1)
		return usage(parsed == CLI_PARSED_HELP ? stdout : stderr);
	if (cli_home(&h) != 0)
		return EXIT_FAIL;
	req = cJSON_CreateObject();
	cJSON_AddStringToObject(req, "op", "lock");
	if (optind < argc)
		cJSON_AddStringToObject(req, "user", argv[optind]);
	return cli_run(&h, req, opts.json, show, NULL);
}
