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

int cmd_remove(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"json", no_argument, NULL, 'j'}, {"help", no_argument, NULL, 'h'}, {0}};
	struct sesame_home h;
	int json = 0, opt, ret;
	cJSON *req, *reply;

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
	if (client_call(&h, req, &reply) != 0)
		return EXIT_AGENT;
	if ((ret = client_failed(reply, json)) == EXIT_OK) {
		if (json)
			cli_json_print(cJSON_Duplicate(reply, 1));
		else
			printf(_("%s removed.\n"), argv[optind + 1]);
	}
	cJSON_Delete(reply);
	return ret;
}
