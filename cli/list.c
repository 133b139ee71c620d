/* sesame list [USER]: the enrolled people, or with USER (and an open session) their services.
 * Never a password: the agent does not send them. */
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

static int usage(FILE *out)
{
	fprintf(out, _("Usage: sesame list [USER] [--search TEXT] [--json]\n"
		       "Without USER: the enrolled people, or with --search those whose name "
		       "starts with TEXT\n(capitals and accents aside). With USER: that person's "
		       "services (session required).\n"));
	return out == stdout ? EXIT_OK : EXIT_USAGE;
}

/* Column widths on the terminal; longer values are cut with "…" (--json has them whole). */
#define NAME_COLUMNS 24
#define SERVICE_COLUMNS 16
#define URL_COLUMNS 40

static void print_users(const cJSON *reply, void *ctx)
{
	const cJSON *u, *users = cJSON_GetObjectItemCaseSensitive(reply, "users");
	long long damaged = 0;

	/* a vault that cannot be read cannot give its name: its person would vanish unsaid */
	if (ctx != NULL)
		damaged = cli_damaged_report(reply);
	if (cJSON_GetArraySize(users) == 0 && damaged == 0)
		printf("%s\n", _("No one is enrolled yet: sesame enroll NAME enrols a person."));
	cJSON_ArrayForEach(u, users)
	{
		long long left = 0;
		proto_int(u, "attempts_left", &left);
		printf("%s  ", proto_string(u, "user"));
		cli_print_cell(proto_string(u, "name"), NAME_COLUMNS);
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
		   *p = proto_string(s, "password_selector"),
		   *b = proto_string(s, "submit_selector"), *k = proto_string(s, "before_clicks");

	if (u != NULL && u[0] != '\0')
		printf(_("    username field: %s\n"), u);
	if (p != NULL && p[0] != '\0')
		printf(_("    password field: %s\n"), p);
	if (b != NULL && b[0] != '\0')
		printf(_("    submit control: %s\n"), b);
	for (size_t n; k != NULL && *k != '\0'; k += n + (k[n] == '\n')) {
		n = strcspn(k, "\n");
		printf(_("    click first: %.*s\n"), (int)n, k);
	}
}

/* Notes are the worker's and the person's own words: shown, since nothing else shows them. */
static void print_notes(const cJSON *s)
{
	const char *notes = proto_string(s, "notes");

	if (notes != NULL && notes[0] != '\0')
		printf(_("    notes: %s\n"), notes);
}

static void print_services(const cJSON *reply, void *ctx)
{
	const cJSON *s, *services = cJSON_GetObjectItemCaseSensitive(reply, "services");
	char of[VAULT_NAME_MAX + 32];

	if (ctx != NULL) { /* the first page */
		/* TRANSLATORS: %s is "of NAME" (see "of %s") */
		printf(_("Services %s:\n"), cli_of(proto_string(reply, "name"), of, sizeof(of)));
		if (cJSON_GetArraySize(services) == 0)
			printf(
			    _("  None recorded yet: sesame add \"%s\" --service NAME ... records "
			      "one.\n"),
			    proto_string(reply, "name"));
	}
	cJSON_ArrayForEach(s, services)
	{
		long long until = 0;
		char date[64] = "";
		proto_int(s, "consent_until", &until);
		if (until > 0)
			cli_date(until, date, sizeof(date));
		fputs("  ", stdout);
		cli_print_cell(proto_string(s, "service"), SERVICE_COLUMNS);
		putchar(' ');
		cli_print_cell(proto_string(s, "url"), URL_COLUMNS);
		printf(" %s  ", proto_string(s, "username"));
		if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(s, "consent")))
			printf("%s\n", _("no assisted login"));
		else if (until > 0)
			printf(_("assisted login allowed until %s\n"), date);
		else
			printf("%s\n", _("assisted login allowed"));
		print_notes(s);
		print_selectors(s);
	}
}

/* Asks for every page of op in turn: each shown as it comes, or, with --json, gathered into one
 * reply shaped like a page's. */
static int list_pages(const struct sesame_home *h, cJSON *req, const char *key, int json,
		      void (*show)(const cJSON *reply, void *ctx))
{
	cJSON *all = NULL, *reply = NULL;
	const cJSON *next;
	int ret = EXIT_OK, first = 1;

	for (;;) {
		if (client_call(h, cJSON_Duplicate(req, 1), &reply) != 0) {
			ret = EXIT_AGENT;
			break;
		}
		if ((ret = client_failed(reply, json)) != EXIT_OK)
			break;
		if (!json)
			show(reply, first ? (void *)reply : NULL);
		else if (all == NULL)
			all = cJSON_Duplicate(reply, 1);
		else
			cJSON_ArrayForEach(next, cJSON_GetObjectItemCaseSensitive(reply, key))
			    cJSON_AddItemToArray(cJSON_GetObjectItemCaseSensitive(all, key),
						 cJSON_Duplicate(next, 1));
		first = 0;
		if ((next = cJSON_GetObjectItemCaseSensitive(reply, "next")) == NULL)
			break;
		cJSON_DeleteItemFromObjectCaseSensitive(req, "cursor");
		cJSON_AddItemToObject(req, "cursor", cJSON_Duplicate(next, 1));
		cJSON_Delete(reply);
		reply = NULL;
	}
	if (all != NULL && ret == EXIT_OK) {
		cJSON_DeleteItemFromObjectCaseSensitive(all, "next");
		cli_json_print(all);
		all = NULL;
	}
	cJSON_Delete(all);
	cJSON_Delete(reply);
	cJSON_Delete(req);
	return ret;
}

int cmd_list(int argc, char **argv)
{
	struct cli_common opts;
	struct sesame_home h;
	enum cli_parsed parsed = cli_common_parse(argc, argv, CLI_OPT_JSON | CLI_OPT_SEARCH, &opts);
	int person;
	cJSON *req;

	if (parsed != CLI_PARSED_OK || argc - optind > 1 ||
	    (opts.search != NULL && argc - optind > 0))
		return usage(parsed == CLI_PARSED_HELP ? stdout : stderr);
	if (cli_home(&h) != 0)
		return EXIT_FAIL;
	person = optind < argc;
	req = cJSON_CreateObject();
	cJSON_AddStringToObject(req, "op", person ? "list" : "users");
	if (person)
		cJSON_AddStringToObject(req, "user", argv[optind]);
	if (opts.search != NULL)
		cJSON_AddStringToObject(req, "search", opts.search);
	return list_pages(&h, req, person ? "services" : "users", opts.json,
			  person ? print_services : print_users);
}
