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

static cJSON *check_request(const char *user, const char *pin)
{
	cJSON *req = cJSON_CreateObject();

	cJSON_AddStringToObject(req, "op", "pin_check");
	cJSON_AddStringToObject(req, "user", user);
	cJSON_AddStringToObject(req, "pin", pin);
	return req;
}

/* The current PIN, checked by the agent before the new one is asked: a wrong one is said at
 * once, not after the new PIN was typed twice. With a descriptor, one line is one attempt. */
static int current_pin(const struct sesame_home *h, const char *user, const char *name, int fd,
		       long long left, int json, char **pin)
{
	char desc[512], err[256];
	struct secret_ask ask = {desc, _("Current PIN:"), NULL, 0};
	cJSON *reply = NULL;
	int ret;

	for (;;) {
		snprintf(desc, sizeof(desc),
			 ngettext("%s, type your current PIN (%lld attempt left).",
				  "%s, type your current PIN (%lld attempts left).",
				  (unsigned long)left),
			 name, left);
		if ((ret = cli_secret(fd, &ask, pin)) != EXIT_OK)
			return ret;
		cli_progress(_("Checking the PIN…"), json);
		ret = client_call(h, check_request(user, *pin), &reply);
		cli_progress_done();
		if (ret != 0)
			ret = EXIT_AGENT;
		else if ((ret = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(reply, "ok"))
				    ? EXIT_OK
				    : EXIT_BADPIN) == EXIT_BADPIN &&
			 fd < 0 && proto_int(reply, "attempts_left", &left) == 0 && left > 0) {
			snprintf(err, sizeof(err),
				 ngettext("Wrong PIN: %lld attempt left.",
					  "Wrong PIN: %lld attempts left.", (unsigned long)left),
				 left);
			ask.error = err;
			sodium_free(*pin);
			*pin = NULL;
			cJSON_Delete(reply);
			continue;
		}
		break;
	}
	if (ret != EXIT_OK) {
		sodium_free(*pin);
		*pin = NULL;
		if (ret == EXIT_BADPIN)
			ret = client_failed(reply, json);
	}
	cJSON_Delete(reply);
	return ret;
}

static int change(const struct sesame_home *h, const char *user, int fd, int json)
{
	char name[VAULT_NAME_MAX + 1], *pin = NULL;
	long long left = 0;
	int ret;

	if ((ret = cli_user_lookup(h, user, name, sizeof(name), &left)) != EXIT_OK ||
	    (ret = cli_check_blocked(left, json)) != EXIT_OK ||
	    (ret = current_pin(h, user, name, fd, left, json, &pin)) != EXIT_OK)
		return ret;
	return cli_send_new_pin(h, fd, "pin", user, "pin", pin, name, json, show, NULL);
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
