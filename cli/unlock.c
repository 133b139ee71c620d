/* sesame unlock USER: the person types their PIN; a session opens for this worker and person. */
#include <pwd.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "cli.h"

static int usage(FILE *out)
{
	fprintf(out, _("Usage: sesame unlock USER [--pin-fd N] [--purpose TEXT] [--json]\n"
		       "Open a session: the person types their PIN. The session ends with "
		       "\"sesame lock\",\nafter a time without use, or at the latest after the "
		       "configured length.\n"));
	return out == stdout ? EXIT_OK : EXIT_USAGE;
}

/* The vault files the agent could not read, named: their people may hold a name not found. */
static long long unreadable_vaults(const struct sesame_home *h)
{
	cJSON *req = cJSON_CreateObject(), *reply;
	long long n;

	cJSON_AddStringToObject(req, "op", "users");
	cJSON_AddNumberToObject(req, "limit", 1);
	if (client_call(h, req, &reply) != 0)
		return 0;
	n = cli_damaged_report(reply);
	cJSON_Delete(reply);
	return n;
}

/* Nobody of that name: said, with the vault files that may be theirs. */
static int unknown_person(const struct sesame_home *h, const char *user)
{
	long long damaged;

	cli_error(_("no enrolled person named \"%s\""), user);
	if ((damaged = unreadable_vaults(h)) > 0)
		cli_error(ngettext("the vault file above may be this person's",
				   "one of the vault files above may be this person's",
				   (unsigned long)damaged));
	return EXIT_FAIL;
}

/* The person's display name and attempts left, to tell them who asks and what is at stake: the
 * agent resolves the one name, whoever else is enrolled. */
int cli_user_lookup(const struct sesame_home *h, const char *user, char *name, size_t cap,
		    long long *attempts_left)
{
	cJSON *req = cJSON_CreateObject(), *reply;
	long long code = 0;
	const char *n;
	int ret = EXIT_OK;

	cJSON_AddStringToObject(req, "op", "resolve");
	cJSON_AddStringToObject(req, "user", user);
	if (client_call(h, req, &reply) != 0)
		return EXIT_AGENT;
	n = proto_string(reply, "name");
	if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(reply, "ok")) && n != NULL) {
		snprintf(name, cap, "%s", n);
		proto_int(reply, "attempts_left", attempts_left);
	} else if (proto_int(reply, "code", &code) == 0 && code == VAULT_E_NOTFOUND) {
		ret = unknown_person(h, user);
	} else {
		ret = client_failed(reply, 0);
	}
	cJSON_Delete(reply);
	return ret;
}

static void describe(char *out, size_t cap, const char *name, const char *purpose, long long left)
{
	struct passwd *pw = getpwuid(getuid());
	const char *worker = pw != NULL ? pw->pw_name : "?";
	char ask[512], tries[128];

	if (purpose != NULL)
		snprintf(ask, sizeof(ask), _("%s, %s asks to open your vault for: %s."), name,
			 worker, purpose);
	else
		snprintf(ask, sizeof(ask), _("%s, %s asks to open your vault."), name, worker);
	snprintf(tries, sizeof(tries),
		 ngettext("Type your PIN (%lld attempt left).",
			  "Type your PIN (%lld attempts left).", (unsigned long)left),
		 left);
	snprintf(out, cap, "%s\n%s", ask, tries);
}

static cJSON *unlock_request(const char *user, const char *pin, const char *purpose)
{
	cJSON *req = cJSON_CreateObject();

	cJSON_AddStringToObject(req, "op", "unlock");
	cJSON_AddStringToObject(req, "user", user);
	cJSON_AddStringToObject(req, "pin", pin);
	if (purpose != NULL)
		cJSON_AddStringToObject(req, "purpose", purpose);
	return req;
}

/* The outcome of the last attempt, said; the reply is freed. */
static int unlock_outcome(cJSON *reply, const char *name, int json, int announce)
{
	long long left = 0;
	int ret;

	if ((ret = client_failed(reply, json)) == EXIT_OK && announce) {
		if (json)
			cli_json_print(cJSON_Duplicate(reply, 1));
		else
			printf(_("Session open for %s.\n"), name);
	} else if (!json && proto_int(reply, "attempts_left", &left) == 0) {
		if (left > 0)
			fprintf(stderr,
				ngettext("%lld attempt left.\n", "%lld attempts left.\n",
					 (unsigned long)left),
				left);
		else
			fputs(_("The vault is now blocked: only the recovery sheet can open it.\n"),
			      stderr);
	}
	cJSON_Delete(reply);
	return ret;
}

/* With the PIN on a descriptor nobody reads a prompt, so nothing needs the person's name before
 * the PIN: the name goes with it, in one request. The agent's refusals before the work (nobody
 * of that name, a blocked vault: the PIN unused, nothing recorded) are said as the lookup would
 * say them. */
static int unlock_from_fd(const struct sesame_home *h, const char *user, int fd,
			  const char *purpose, int json, int announce)
{
	struct secret_ask ask = {"", _("PIN:"), NULL, 0};
	const char *reason, *name;
	cJSON *reply;
	char *pin;
	int ret;

	if ((ret = cli_secret(fd, &ask, &pin)) != EXIT_OK)
		return ret;
	cli_progress(_("Checking the PIN…"), json);
	ret = client_call(h, unlock_request(user, pin, purpose), &reply);
	sodium_free(pin);
	if (ret != 0)
		return EXIT_AGENT;
	cli_progress_done();
	reason = proto_string(reply, "reason");
	if (reason != NULL && strcmp(reason, "user_unknown") == 0) {
		cJSON_Delete(reply);
		return unknown_person(h, user);
	}
	if (reason != NULL && strcmp(reason, "blocked") == 0) {
		cJSON_Delete(reply);
		return cli_check_blocked(0, json);
	}
	name = proto_string(reply, "name");
	return unlock_outcome(reply, name != NULL ? name : user, json, announce);
}

/* Ask and try until the PIN opens the vault, the person cancels, or the vault blocks. With a
 * descriptor, one line is one attempt. */
int cli_unlock(const struct sesame_home *h, const char *user, int fd, const char *purpose, int json,
	       int announce)
{
	char name[VAULT_NAME_MAX + 1], desc[1024], err[256], *pin;
	struct secret_ask ask = {desc, _("PIN:"), NULL, 0};
	long long left = 0;
	cJSON *reply = NULL;
	int ret;

	if (fd >= 0)
		return unlock_from_fd(h, user, fd, purpose, json, announce);
	if ((ret = cli_user_lookup(h, user, name, sizeof(name), &left)) != EXIT_OK ||
	    (ret = cli_check_blocked(left, json)) != EXIT_OK)
		return ret;
	for (;;) {
		describe(desc, sizeof(desc), name, purpose, left);
		if ((ret = cli_secret(fd, &ask, &pin)) != EXIT_OK)
			return ret;
		cli_progress(_("Checking the PIN…"), json);
		if (client_call(h, unlock_request(user, pin, purpose), &reply) != 0) {
			sodium_free(pin);
			return EXIT_AGENT;
		}
		cli_progress_done();
		sodium_free(pin);
		if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(reply, "ok")) ||
		    proto_int(reply, "attempts_left", &left) != 0 || left == 0)
			break;
		snprintf(err, sizeof(err),
			 ngettext("Wrong PIN: %lld attempt left.", "Wrong PIN: %lld attempts left.",
				  (unsigned long)left),
			 left);
		ask.error = err;
		cJSON_Delete(reply);
	}
	return unlock_outcome(reply, name, json, announce);
}

int cmd_unlock(int argc, char **argv)
{
	struct cli_common opts;
	struct sesame_home h;
	enum cli_parsed parsed =
	    cli_common_parse(argc, argv, CLI_OPT_PIN_FD | CLI_OPT_PURPOSE | CLI_OPT_JSON, &opts);

	if (parsed != CLI_PARSED_OK || optind + 1 != argc)
		return usage(parsed == CLI_PARSED_HELP ? stdout : stderr);
	if (cli_home(&h) != 0)
		return EXIT_FAIL;
	return cli_unlock(&h, argv[optind], opts.pin_fd, opts.purpose, opts.json, 1);
}
