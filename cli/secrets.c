/* Secrets for a command: one line from --pin-fd/--secret-fd, or a pinentry prompt. */
#include <sodium.h>

#include "cli.h"
#include "proto.h"
#include "secret.h"

#define PIN_TRIES 3 /* chances to choose an acceptable new PIN at the prompt */

int cli_secret(int fd, const struct secret_ask *ask, char **secret)
{
	struct secret_prompt p = {
	    .title = "Sesame",
	    .description = ask->description,
	    .prompt = ask->prompt,
	    .error = ask->error,
	    .repeat = ask->twice ? _("Again:") : NULL,
	    .mismatch = _("The two entries differ."),
	    /* TRANSLATORS: the pinentry's buttons; an underscore marks the access key */
	    .ok = _("_OK"),
	    .cancel = _("_Cancel"),
	};
	int ret;

	*secret = NULL;
	ret = fd >= 0 ? secret_from_fd(fd, secret) : secret_pinentry(&p, secret);
	switch (ret) {
	case SECRET_OK:
		return EXIT_OK;
	case SECRET_CANCELLED:
		cli_error(_("cancelled"));
		return EXIT_CANCELLED;
	case SECRET_EOF:
		cli_error(_("no more secrets on descriptor %d"), fd);
		return EXIT_USAGE;
	case SECRET_MISMATCH:
		cli_error(_("the two entries differed three times"));
		return EXIT_CANCELLED;
	case SECRET_TOOLONG:
		cli_error(_("the secret is too long"));
		return EXIT_USAGE;
	default:
		if (fd >= 0)
			cli_error(_("cannot read descriptor %d: it is not open for reading (check "
				    "--pin-fd or --secret-fd)"),
				  fd);
		else
			cli_error(_("cannot ask for the secret: is pinentry installed? "
				    "(or use --pin-fd / --secret-fd)"));
		return EXIT_FAIL;
	}
}

/* The agent's PIN rules: in system mode they are the structure's, not this account's. */
static int agent_policy(const struct sesame_home *h, struct vault_policy *p)
{
	cJSON *req = cJSON_CreateObject(), *reply;
	long long min;

	*p = h->cfg.policy;
	cJSON_AddStringToObject(req, "op", "status");
	if (client_call(h, req, &reply) != 0)
		return -1;
	if (proto_int(cJSON_GetObjectItemCaseSensitive(reply, "agent"), "pin_min_length", &min) ==
		0 &&
	    min >= VAULT_PIN_MIN_FLOOR && min <= VAULT_PIN_MAX)
		p->pin_min_length = (unsigned)min;
	cJSON_Delete(reply);
	return 0;
}

/* Why a new PIN is refused, with the limits when its length is the reason. */
static const char *pin_refusal(int why, const struct vault_policy *policy, char *buf, size_t cap)
{
	if (why != VAULT_E_PIN_LENGTH)
		return cli_strerror(why);
	snprintf(buf, cap, _("the PIN must have %u to %u digits"), policy->pin_min_length,
		 VAULT_PIN_MAX);
	return buf;
}

/* A new PIN that the agent's rules accept: from the descriptor once, or through pinentry until
 * the person chooses an acceptable one. */
int cli_new_pin(const struct sesame_home *h, int fd, const char *description, char **pin)
{
	struct secret_ask ask = {description, _("New PIN:"), NULL, 1};
	struct vault_policy policy;
	char rule[256];
	int ret, why;

	if (agent_policy(h, &policy) != 0)
		return EXIT_AGENT;

	for (int i = 0; i < PIN_TRIES; i++) {
		if ((ret = cli_secret(fd, &ask, pin)) != EXIT_OK)
			return ret;
		if ((why = vault_pin_check(*pin, &policy)) == VAULT_OK)
			return EXIT_OK;
		sodium_free(*pin);
		*pin = NULL;
		if (fd >= 0)
			break;
		ask.error = pin_refusal(why, &policy, rule, sizeof(rule));
	}
	cli_error("%s", pin_refusal(why, &policy, rule, sizeof(rule)));
	return EXIT_USAGE;
}

int cli_send_new_pin(const struct sesame_home *h, int fd, const char *op, const char *user,
		     const char *key, char *secret, const char *name, int json,
		     void (*show)(const cJSON *reply, void *ctx), void *ctx)
{
	char desc[512], *new_pin = NULL;
	cJSON *req;
	int ret;

	snprintf(desc, sizeof(desc), _("%s, choose your new PIN."), name);
	if ((ret = cli_new_pin(h, fd, desc, &new_pin)) != EXIT_OK) {
		sodium_free(secret);
		return ret;
	}
	req = cJSON_CreateObject();
	cJSON_AddStringToObject(req, "op", op);
	cJSON_AddStringToObject(req, "user", user);
	cJSON_AddStringToObject(req, key, secret);
	cJSON_AddStringToObject(req, "new_pin", new_pin);
	sodium_free(secret);
	sodium_free(new_pin);
	cli_progress(_("Changing the PIN…"), json);
	ret = cli_run(h, req, json, show, ctx != NULL ? ctx : (void *)name);
	cli_progress_done();
	return ret;
}
