/* sesame revoke USER: the person withdraws; their vault is destroyed. Needs their session (their
 * PIN) and, at a terminal, a typed confirmation. */
#include <getopt.h>

#include "cli.h"

static int usage(FILE *out)
{
	fprintf(out,
		_("Usage: sesame revoke USER [--yes] [--json]\n"
		  "The person withdraws: their vault and every credential in it are destroyed. "
		  "Their\nsession must be open (they typed their PIN).\n"));
	return out == stdout ? EXIT_OK : EXIT_USAGE;
}

static void show(const cJSON *reply, void *ctx)
{
	(void)reply;
	char of[VAULT_NAME_MAX + 32];

	/* TRANSLATORS: %s is "of NAME" (see "of %s") */
	printf(_("The vault %s is destroyed.\n"), cli_of(ctx, of, sizeof(of)));
}

int cmd_revoke(int argc, char **argv)
{
	static const struct option opts[] = {{"yes", no_argument, NULL, 'y'},
					     {"json", no_argument, NULL, 'j'},
					     {"help", no_argument, NULL, 'h'},
					     {0}};
	char question[CLI_MESSAGE_MAX], of[VAULT_NAME_MAX + 32];
	struct sesame_home h;
	int json = 0, yes = 0, opt;
	cJSON *req;

	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (opt == 'y')
			yes = 1;
		else if (opt == 'j')
			json = 1;
		else
			return usage(opt == 'h' ? stdout : stderr);
	}
	if (optind + 1 != argc)
		return usage(stderr);
	/* TRANSLATORS: %s is "of NAME" (see "of %s") */
	snprintf(question, sizeof(question), _("Destroy the vault %s and every credential in it?"),
		 cli_of(argv[optind], of, sizeof(of)));
	if (!yes && !cli_confirm(question)) {
		cli_error(_("not confirmed: nothing was destroyed (use --yes in scripts)"));
		return EXIT_CANCELLED;
	}
	if (cli_home(&h) != 0)
		return EXIT_FAIL;
	req = cJSON_CreateObject();
	cJSON_AddStringToObject(req, "op", "revoke");
	cJSON_AddStringToObject(req, "user", argv[optind]);
	return cli_run(&h, req, json, show, argv[optind]);
}
