/* What can be known before the person types a secret is checked first: a secret typed for
 * nothing (twice, for a new PIN) teaches people that the tool wastes their effort. The agent
 * checks the same things again, and its word is final; these checks only say it sooner. */
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "cli.h"
#include "names.h"
#include "url.h"

/* A refusal as the agent would send it, shown the same way (and as JSON with --json). */
static int refuse(int code, const char *reason, const char *field, const char *value, int json)
{
	cJSON *r = cJSON_CreateObject();
	int ret;

	cJSON_AddFalseToObject(r, "ok");
	cJSON_AddNumberToObject(r, "code", code);
	cJSON_AddStringToObject(r, "reason", reason);
	cJSON_AddStringToObject(r, "error", vault_strerror(code));
	if (field != NULL)
		cJSON_AddStringToObject(r, field, value);
	if (code == VAULT_E_BLOCKED)
		cJSON_AddNumberToObject(r, "attempts_left", 0);
	ret = client_failed(r, json);
	cJSON_Delete(r);
	return ret == EXIT_FAIL ? EXIT_USAGE : ret;
}

static int refuse_name(int why, const char *what, size_t max, int json)
{
	char reason[32];
	cJSON *r;

	snprintf(reason, sizeof(reason), "%s%s", what,
		 why == VAULT_E_INVAL	  ? "_empty"
		 : why == VAULT_E_TOOLONG ? "_too_long"
					  : "_invalid");
	r = cJSON_CreateObject();
	cJSON_AddFalseToObject(r, "ok");
	cJSON_AddNumberToObject(r, "code", why);
	cJSON_AddStringToObject(r, "reason", reason);
	cJSON_AddStringToObject(r, "error", vault_strerror(why));
	cJSON_AddNumberToObject(r, "max", (double)max);
	client_failed(r, json);
	cJSON_Delete(r);
	return EXIT_USAGE;
}

/* A refusal of an enrolment while vault files cannot be read, naming them as the agent would. */
static int refuse_damaged(const cJSON *users, int json)
{
	cJSON *r = cJSON_CreateObject();
	int ret;

	cJSON_AddFalseToObject(r, "ok");
	cJSON_AddNumberToObject(r, "code", VAULT_E_EXISTS);
	cJSON_AddStringToObject(r, "reason", "damaged_vaults");
	cJSON_AddStringToObject(r, "error",
				"vault files cannot be read, and one may be this person's");
	cJSON_AddItemToObject(
	    r, "unreadable",
	    cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(users, "unreadable"), 1));
	cJSON_AddItemToObject(
	    r, "damaged", cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(users, "damaged"), 1));
	ret = client_failed(r, json);
	cJSON_Delete(r);
	return ret;
}

int cli_check_new_name(const struct sesame_home *h, const char *name, char *clean, size_t cap,
		       int json, int force)
{
	long long damaged = 0;

	cJSON *req = cJSON_CreateObject(), *reply, *u;
	int why = name_normalise(name, VAULT_NAME_MAX, clean, cap), ret = EXIT_OK;

	if (why != VAULT_OK) {
		cJSON_Delete(req);
		return refuse_name(why, "name", VAULT_NAME_MAX, json);
	}
	/* the agent sorts and searches names by name_same's key: anyone the same comes first
	 * among those whose names start like this one */
	cJSON_AddStringToObject(req, "op", "users");
	cJSON_AddStringToObject(req, "search", clean);
	cJSON_AddNumberToObject(req, "limit", CLI_SAME_NAMES_PAGE);
	if (client_call(h, req, &reply) != 0)
		return EXIT_AGENT;
	if ((ret = client_failed(reply, json)) == EXIT_OK)
		cJSON_ArrayForEach(u, cJSON_GetObjectItemCaseSensitive(reply, "users"))
		{
			const char *n = proto_string(u, "name");
			if (n != NULL && name_same(n, clean)) {
				ret = refuse(VAULT_E_EXISTS, "name_exists", "existing", n, json);
				break;
			}
		}
	proto_int(reply, "unreadable", &damaged);
	if (ret == EXIT_OK && damaged > 0 && !force)
		ret = refuse_damaged(reply, json);
	cJSON_Delete(reply);
	return ret;
}

/* One page of the person's credentials from cursor: the exit code, and *next (-1: the last). */
static int check_services_page(const struct sesame_home *h, const char *user, const char *service,
			       int replace, int json, long long *next)
{
	cJSON *req = cJSON_CreateObject(), *reply, *s;
	int ret;

	cJSON_AddStringToObject(req, "op", "list");
	cJSON_AddStringToObject(req, "user", user);
	cJSON_AddNumberToObject(req, "cursor", (double)*next);
	if (client_call(h, req, &reply) != 0)
		return EXIT_AGENT;
	if (proto_int(reply, "next", next) != 0)
		*next = -1;
	if ((ret = client_failed(reply, json)) == EXIT_OK && !replace)
		cJSON_ArrayForEach(s, cJSON_GetObjectItemCaseSensitive(reply, "services"))
		{
			const char *n = proto_string(s, "service");
			if (n != NULL && name_same(n, service)) {
				ret = refuse(VAULT_E_EXISTS, "service_exists", "existing", n, json);
				break;
			}
		}
	cJSON_Delete(reply);
	return ret;
}

/* The person's credentials (their session must be open), page by page: refused now rather
 * than after the password is typed. Without replace, a service a reader would confuse with
 * this one too. */
static int check_services(const struct sesame_home *h, const char *user, const char *service,
			  int replace, int json)
{
	long long next = 0;
	int ret;

	do
		ret = check_services_page(h, user, service, replace, json, &next);
	while (ret == EXIT_OK && next > 0 && !replace);
	return ret;
}

/* The person's credentials, and whether service is one of them, exactly as the agent finds it
 * (ASCII case aside); found receives the service's name as recorded. */
static int find_service(const struct sesame_home *h, const char *user, const char *service,
			int json, int *found)
{
	cJSON *req = cJSON_CreateObject(), *reply, *s;
	int ret;

	*found = 0;
	cJSON_AddStringToObject(req, "op", "list");
	cJSON_AddStringToObject(req, "user", user);
	if (client_call(h, req, &reply) != 0)
		return EXIT_AGENT;
	if ((ret = client_failed(reply, json)) == EXIT_OK)
		cJSON_ArrayForEach(s, cJSON_GetObjectItemCaseSensitive(reply, "services"))
		{
			const char *n = proto_string(s, "service");
			if (n != NULL && strcasecmp(n, service) == 0)
				*found = 1;
		}
	cJSON_Delete(reply);
	return ret;
}

int cli_check_service(const struct sesame_home *h, const char *user, const char *service, int json)
{
	int found, ret = find_service(h, user, service, json, &found);

	if (ret != EXIT_OK || found)
		return ret;
	ret = refuse(VAULT_E_NOTFOUND, "service_unknown", "service", service, json);
	return ret == EXIT_USAGE ? EXIT_FAIL : ret;
}

int cli_confirm(const char *question)
{
	char line[64];

	if (!isatty(STDIN_FILENO))
		return 0;
	/* TRANSLATORS: the first %s is a question, the second the word to type, "yes" */
	printf(_("%s Type \"%s\": "), question, _("yes"));
	fflush(stdout);
	if (fgets(line, sizeof(line), stdin) == NULL)
		return 0;
	line[strcspn(line, "\n")] = '\0';
	return strcmp(line, _("yes")) == 0 || strcmp(line, "yes") == 0;
}

int cli_check_add(const struct sesame_home *h, const char *user, const char *service,
		  const char *url, int replace, int json)
{
	static const char *const url_reasons[] = {
	    [URL_MALFORMED] = "url_malformed",
	    [URL_SCHEME] = "url_scheme",
	    [URL_HTTP] = "url_http",
	    [URL_HTTP_DISABLED] = "url_http_disabled",
	};
	char clean[VAULT_SERVICE_MAX + 1];
	/* whether http on loopback is allowed is the agent's configuration: it decides that */
	enum url_verdict v = url_check(url, 1);
	int why = name_normalise(service, VAULT_SERVICE_MAX, clean, sizeof(clean));

	if (why != VAULT_OK)
		return refuse_name(why, "service", VAULT_SERVICE_MAX, json);
	if (v != URL_OK)
		return refuse(VAULT_E_INVAL, url_reasons[v], "url", url, json);
	return check_services(h, user, clean, replace, json);
}

int cli_check_blocked(long long attempts_left, int json)
{
	if (attempts_left > 0)
		return EXIT_OK;
	return refuse(VAULT_E_BLOCKED, "blocked", NULL, NULL, json);
}
