/* sesame list [USER]: the enrolled people, or with USER (and an open session) their services.
 * Never a password: the agent does not send them. */
#include <unistd.h>
#include <time.h>

#include "cli.h"

static int usage(FILE *out)
{
	fprintf(out, _("Usage: sesame list [USER] [--json]\n"
		       "Without USER: the enrolled people. With USER: that person's services "
		       "(session required).\n"));
	return out == stdout ? EXIT_OK : EXIT_USAGE;
}

static void print_users(const cJSON *reply, void *ctx)
{
	const cJSON *u;

	(void)ctx;
	cJSON_ArrayForEach(u, cJSON_GetObjectItemCaseSensitive(reply, "users"))
	{
		long long left = 0;
		proto_int(u, "attempts_left", &left);
		printf("%s  %-24s", proto_string(u, "user"), proto_string(u, "name"));
		if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(u, "blocked")))
			printf("  %s", _("BLOCKED"));
		else
			printf(ngettext("  %lld attempt left", "  %lld attempts left",
					(unsigned long)left),
			       left);
		if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(u, "session")))
			printf("  %s", _("session open"));
		putchar('\n');
	}
}

/* Selectors are not secret: shown so the worker can see why a site is filled as it is. */
static void print_selectors(const cJSON *s)
{
	const char *u = proto_string(s, "username_selector"),
		   *p = proto_string(s, "password_selector");

	if (u != NULL && u[0] != '\0')
		printf(_("    username field: %s\n"), u);
	if (p != NULL && p[0] != '\0')
		printf(_("    password field: %s\n"), p);
}

static void print_services(const cJSON *reply, void *ctx)
{
	const cJSON *s;

	(void)ctx;
	printf(_("Services of %s:\n"), proto_string(reply, "name"));
	cJSON_ArrayForEach(s, cJSON_GetObjectItemCaseSensitive(reply, "services"))
	{
		long long until = 0;
		char date[32] = "";
		proto_int(s, "consent_until", &until);
		if (until > 0) {
			time_t t = (time_t)until;
			struct tm tm;
			strftime(date, sizeof(date), "%Y-%m-%d", gmtime_r(&t, &tm));
		}
		printf("  %-16s %-40s %s  ", proto_string(s, "service"), proto_string(s, "url"),
		       proto_string(s, "username"));
		if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(s, "consent")))
			printf("%s\n", _("no assisted login"));
		else if (until > 0)
			printf(_("assisted login allowed until %s\n"), date);
		else
			printf("%s\n", _("assisted login allowed"));
		print_selectors(s);
	}
}

int cmd_list(int argc, char **argv)
{
	struct cli_common opts;
	struct sesame_home h;
	enum cli_parsed parsed = cli_common_parse(argc, argv, CLI_OPT_JSON, &opts);
	cJSON *req;

	if (parsed != CLI_PARSED_OK || argc - optind > 1)
		return usage(parsed == CLI_PARSED_HELP ? stdout : stderr);
	if (cli_home(&h) != 0)
		return EXIT_FAIL;
	req = cJSON_CreateObject();
	cJSON_AddStringToObject(req, "op", optind < argc ? "list" : "users");
	if (optind < argc)
		cJSON_AddStringToObject(req, "user", argv[optind]);
	return cli_run(&h, req, opts.json, optind < argc ? print_services : print_users, NULL);
}
