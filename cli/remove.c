/* sesame remove USER SERVICE: remove a credential from the person's vault (session required). */
#include <getopt.h>

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
	if (optind + 2 != argc)
		return usage(stderr);
	if (cli_home(&h) != 0)
		return EXIT_FAIL;
	req = cJSON_CreateObject();
	cJSON_AddStringToObject(req, "op", "remove");
	cJSON_AddStringToObject(req, "user", argv[optind]);
	cJSON_AddStringToObject(req, "service", argv[optind + 1]);
	return cli_run(&h, req, json, show, argv[optind + 1]);
}
