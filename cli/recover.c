/* sesame recover USER: the recovery sheet unblocks the vault; the person sets a new PIN and gets
 * a new sheet, since the old one may have been seen. */
#include <unistd.h>

#include <sodium.h>

#include "cli.h"
#include "recovery.h"

static int usage(FILE *out)
{
	fprintf(out, _("Usage: sesame recover USER [--pin-fd N] [--json]\n"
		       "Unblock the vault with the recovery sheet and choose a new PIN. With "
		       "--pin-fd:\nthe recovery key, then the new PIN, one per line.\n"));
	return out == stdout ? EXIT_OK : EXIT_USAGE;
}

/* Ask for the sheet until its checksum holds, so a typo costs nothing. */
static int ask_recovery(int fd, const char *name, char **rec)
{
	char desc[512];
	struct secret_ask ask = {desc, _("Recovery key:"), NULL, 0};
	uint8_t key[VAULT_RECOVERY_RANDOM_BYTES];
	int ret;

	snprintf(desc, sizeof(desc),
		 _("%s, type the key of your recovery sheet (groups of four "
		   "letters and digits)."),
		 name);
	for (int tries = 0; tries < 3; tries++) {
		if ((ret = cli_secret(fd, &ask, rec)) != EXIT_OK)
			return ret;
		ret = recovery_decode(key, *rec);
		sodium_memzero(key, sizeof(key));
		if (ret == VAULT_OK)
			return EXIT_OK;
		sodium_free(*rec);
		*rec = NULL;
		ask.error = cli_strerror(ret);
		if (fd >= 0)
			break;
	}
	cli_error("%s", cli_strerror(VAULT_E_CHECKSUM));
	return EXIT_BADPIN;
}

static void show(const cJSON *reply, void *ctx)
{
	printf(_("The vault of %s is unblocked and has a new PIN.\n"
		 "NEW RECOVERY SHEET (the old one no longer works):\n\n    %s\n\n"),
	       (const char *)ctx, proto_string(reply, "recovery"));
}

static int recover(const struct sesame_home *h, const char *user, int fd, int json)
{
	char name[VAULT_NAME_MAX + 1], *rec = NULL;
	long long left;
	int ret;

	if ((ret = cli_user_lookup(h, user, name, sizeof(name), &left)) != EXIT_OK)
		return ret;
	if ((ret = ask_recovery(fd, name, &rec)) != EXIT_OK)
		return ret;
	return cli_send_new_pin(h, fd, "recover", user, "recovery", rec, name, json, show);
}

int cmd_recover(int argc, char **argv)
{
	struct cli_common opts;
	struct sesame_home h;
	enum cli_parsed parsed = cli_common_parse(argc, argv, CLI_OPT_PIN_FD | CLI_OPT_JSON, &opts);

	if (parsed != CLI_PARSED_OK || optind + 1 != argc)
		return usage(parsed == CLI_PARSED_HELP ? stdout : stderr);
	if (cli_home(&h) != 0)
		return EXIT_FAIL;
	return recover(&h, argv[optind], opts.pin_fd, opts.json);
}
