/* sesame pin USER: the person changes their PIN (current, then new twice). */
#include <unistd.h>

#include <sodium.h>

#include "cli.h"

static int usage(FILE *out)
{
	fprintf(out, _("Usage: sesame pin USER [--pin-fd N] [--json]\n"
		       "Change the person's PIN. With --pin-fd: the current PIN, then the new one, "
		       "one per line.\n"));
	return out == stdout ? EXIT_OK : EXIT_USAGE;
}

static void show(const cJSON *reply, void *ctx)
{
	(void)reply;
	printf(_("PIN changed for %s.\n"), (const char *)ctx);
}

static int change(const struct sesame_home *h, const char *user, int fd, int json)
{
	char name[VAULT_NAME_MAX + 1], desc[512], *pin = NULL;
	struct secret_ask ask = {desc, _("Current PIN:"), NULL, 0};
	long long left = 0;
	int ret;

	if ((ret = cli_user_lookup(h, user, name, sizeof(name), &left)) != EXIT_OK)
		return ret;
	snprintf(desc, sizeof(desc),
		 ngettext("%s, type your current PIN (%lld attempt left).",
			  "%s, type your current PIN (%lld attempts left).", (unsigned long)left),
		 name, left);
	if ((ret = cli_secret(fd, &ask, &pin)) != EXIT_OK)
		return ret;
	return cli_send_new_pin(h, fd, "pin", user, "pin", pin, name, json, show);
}

int cmd_pin(int argc, char **argv)
{
	struct cli_common opts;
	struct sesame_home h;
	enum cli_parsed parsed = cli_common_parse(argc, argv, CLI_OPT_PIN_FD | CLI_OPT_JSON, &opts);

	if (parsed != CLI_PARSED_OK || optind + 1 != argc)
		return usage(parsed == CLI_PARSED_HELP ? stdout : stderr);
	if (cli_home(&h) != 0)
		return EXIT_FAIL;
	return change(&h, argv[optind], opts.pin_fd, opts.json);
}
