/* sesame lock [USER]: end this worker's sessions (all, or the person's); keys are wiped. */
#include <getopt.h>

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
	static const struct option opts[] = {
	    {"json", no_argument, NULL, 'j'}, {"help", no_argument, NULL, 'h'}, {0}};
	struct sesame_home h;
	int json = 0, opt;
	cJSON *req;

	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (opt == 'j')
			json = 1;
		else
			return usage(opt == 'h' ? stdout : stderr);
	}
	if (argc - optind > 1)
		return usage(stderr);
	if (cli_home(&h) != 0)
		return EXIT_FAIL;
	req = cJSON_CreateObject();
	cJSON_AddStringToObject(req, "op", "lock");
	if (optind < argc)
		cJSON_AddStringToObject(req, "user", argv[optind]);
	return cli_run(&h, req, json, show, NULL);
}
