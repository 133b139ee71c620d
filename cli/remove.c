/* sesame remove USER SERVICE: remove a credential from the person's vault (session required),
 * once the worker has confirmed it at the terminal, or with --yes in scripts. */
#include <getopt.h>
#include <unistd.h>

#include "cli.h"

static int usage(FILE *out)
{
	fprintf(out, _("Usage: sesame remove USER SERVICE [--yes] [--json]\n"
		       "Remove a credential from the person's vault (their session must be "
		       "open).\nAt a terminal it asks for confirmation; --yes confirms in "
		       "scripts.\n"));
	return out == stdout ? EXIT_OK : EXIT_USAGE;
}

static void show(const cJSON *reply, void *ctx)
{
	(void)reply;
	printf(_("%s removed.\n"), (const char *)ctx);
}

int cmd_remove(int argc, char **argv)
{
	static const struct option opts[] = {{"yes", no_argument, NULL, 'y'},
					     {"json", no_argument, NULL, 'j'},
					     {"help", no_argument, NULL, 'h'},
					     {0}};
	char question[CLI_MESSAGE_MAX], of[VAULT_NAME_MAX + 32];
	struct sesame_home h;
	int json = 0, yes = 0, opt, ret;
	const char *user, *service;
	cJSON *req;

	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (opt == 'y')
			yes = 1;
		else if (opt == 'j')
			json = 1;
		else
			return usage(opt == 'h' ? stdout : stderr);
	}
	if (optind + 2 != argc)
		return usage(stderr);
	user = argv[optind];
	service = argv[optind + 1];
	if (cli_home(&h) != 0)
		return EXIT_FAIL;
	/* nothing to confirm for a person or a service that is not there */
	if ((ret = cli_check_service(&h, user, service, json)) != EXIT_OK)
		return ret;
	/* TRANSLATORS: the second %s is "of NAME" (see "of %s") */
	snprintf(question, sizeof(question), _("Remove the credential for %s from the vault %s?"),
		 service, cli_of(user, of, sizeof(of)));
	if (!yes && !cli_confirm(question)) {
		cli_error(_("not confirmed: nothing was removed (use --yes in scripts)"));
		return EXIT_CANCELLED;
	}
	req = cJSON_CreateObject();
	cJSON_AddStringToObject(req, "op", "remove");
	cJSON_AddStringToObject(req, "user", user);
	cJSON_AddStringToObject(req, "service", service);
	return cli_run(&h, req, json, show, (void *)service);
}
