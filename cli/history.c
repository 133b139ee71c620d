/* sesame history PERSON [--html FILE] [--lang fr|en]: the person, after typing their PIN for
 * this request, sees what happened to their vault: when (local time, written out), who (the
 * worker's name), what and why, as text and as a page to print in the style of the recovery
 * sheet. The agent gives their records (it holds the names; the log holds ids). */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "audit.h"
#include "cli.h"
#include "words.h"

struct history_options {
	const char *html, *lang;
};

static int usage(FILE *out)
{
	fprintf(out,
		_("Usage: sesame history PERSON [--html FILE] [--lang fr|en] [--pin-fd N] "
		  "[--json]\n"
		  "The person types their PIN and sees who used their vault, when, and why.\n"));
	return out == stdout ? EXIT_OK : EXIT_USAGE;
}

/* --html FILE and --lang L taken out of argv, for the common options to parse the rest. */
static void take_options(int *argc, char **argv, struct history_options *o)
{
	int out = 0;

	for (int i = 0; i < *argc; i++) {
		if (strcmp(argv[i], "--html") == 0 && i + 1 < *argc) {
			o->html = argv[++i];
			continue;
		}
		if (strcmp(argv[i], "--lang") == 0 && i + 1 < *argc) {
			o->lang = argv[++i];
			continue;
		}
		argv[out++] = argv[i];
	}
	*argc = out;
}

static void print_text(const char *name, const struct audit_record *recs, size_t n,
		       long long earlier)
{
	char of[VAULT_NAME_MAX + 32], line[CLI_MESSAGE_MAX];
	struct words_row row;

	/* TRANSLATORS: %s is "of NAME" (see "of %s") */
	printf(_("History of the vault %s:\n"), cli_of(name, of, sizeof(of)));
	if (earlier > 0)
		printf(_("(%lld earlier records are not shown)\n"), earlier);
	for (size_t i = 0; i < n; i++) {
		words_row(&recs[i], &row);
		fputs("\n", stdout);
		words_plain(stdout, row.when);
		fputs("\n  ", stdout);
		words_plain(stdout, row.what);
		fputs("\n  ", stdout);
		snprintf(line, sizeof(line), _("by %s"), row.who);
		words_plain(stdout, line);
		if (row.why[0]) {
			fputs("\n  ", stdout);
			snprintf(line, sizeof(line), _("purpose: %s"), row.why);
			words_plain(stdout, line);
		}
		fputs("\n", stdout);
	}
}

static void html_row(FILE *f, const struct audit_record *r)
{
	struct words_row row;

	words_row(r, &row);
	fputs("<tr><td>", f);
	words_html(f, row.when);
	fputs("</td><td>", f);
	words_html(f, row.who);
	fputs("</td><td>", f);
	words_html(f, row.what);
	fputs("</td><td>", f);
	words_html(f, row.why);
	fputs("</td></tr>\n", f);
}

/* The page, in the style of the recovery sheet: large print, nothing to load. */
static int write_html(int fd, const char *name, const struct audit_record *recs, size_t n)
{
	FILE *f = fdopen(fd, "w");
	char of[VAULT_NAME_MAX + 32], title[CLI_MESSAGE_MAX];

	if (f == NULL) {
		close(fd);
		return -1;
	}
	fprintf(f, "<!DOCTYPE html>\n<html lang=\"%s\"><head><meta charset=\"utf-8\"><title>",
		words_lang());
	snprintf(title, sizeof(title), _("History of the vault %s"), cli_of(name, of, sizeof(of)));
	words_html(f, title);
	fputs("</title><style>body{font-family:sans-serif;margin:2cm;font-size:14pt}"
	      "h1{font-size:24pt}table{border-collapse:collapse;width:100%}"
	      "th,td{border:1px solid #888;padding:4pt;text-align:left;vertical-align:top;"
	      "overflow-wrap:anywhere}th{background:#eee}tr{page-break-inside:avoid}"
	      "</style></head><body>\n<h1>",
	      f);
	words_html(f, title);
	fputs("</h1>\n<table><tr><th>", f);
	words_html(f, _("when"));
	fputs("</th><th>", f);
	words_html(f, _("who"));
	fputs("</th><th>", f);
	words_html(f, _("what"));
	fputs("</th><th>", f);
	words_html(f, _("why"));
	fputs("</th></tr>\n", f);
	for (size_t i = 0; i < n; i++)
		html_row(f, &recs[i]);
	fputs("</table>\n</body></html>\n", f);
	if (fflush(f) != 0 || fsync(fd) != 0) {
		fclose(f);
		return -1;
	}
	return fclose(f);
}

/* fd (the page's file, -1 for none) is closed here once the records are in. */
static int show(const cJSON *reply, const struct history_options *o, int *fd, int json)
{
	const char *name = proto_string(reply, "name");
	long long earlier = 0;
	struct audit_record *recs;
	size_t n;
	int ret = EXIT_OK;

	proto_int(reply, "earlier", &earlier);
	if ((recs = words_history_records(reply, &n)) == NULL)
		return EXIT_FAIL;
	if (*fd >= 0) {
		int page = *fd;
		*fd = -1;
		if (write_html(page, name != NULL ? name : "", recs, n) != 0) {
			cli_error(_("cannot write the history %s: %s"), o->html, strerror(errno));
			unlink(o->html);
			ret = EXIT_FAIL;
		}
	}
	if (json)
		cli_json_print(cJSON_Duplicate(reply, 1));
	else
		print_text(name != NULL ? name : "", recs, n, earlier);
	free(recs);
	return ret;
}

static int history(const struct sesame_home *h, const char *user, const struct history_options *o,
		   int pin_fd, int json, int *fd)
{
	char name[VAULT_NAME_MAX + 1], desc[512], *pin = NULL;
	struct secret_ask ask = {desc, _("PIN:"), NULL, 0};
	cJSON *req, *reply = NULL;
	long long left = 0;
	int ret;

	if ((ret = cli_user_lookup(h, user, name, sizeof(name), &left)) != EXIT_OK ||
	    (ret = cli_check_blocked(left, json)) != EXIT_OK)
		return ret;
	snprintf(desc, sizeof(desc), _("%s, type your PIN to see the history of your vault."),
		 name);
	if ((ret = cli_secret(pin_fd, &ask, &pin)) != EXIT_OK)
		return ret;
	req = cJSON_CreateObject();
	cJSON_AddStringToObject(req, "op", "history");
	cJSON_AddStringToObject(req, "user", user);
	cJSON_AddStringToObject(req, "pin", pin);
	sodium_free(pin);
	cli_progress(_("Checking the PIN…"), json);
	ret = client_call(h, req, &reply);
	cli_progress_done();
	if (ret != 0)
		return EXIT_AGENT;
	ret = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(reply, "ok"))
		  ? show(reply, o, fd, json)
		  : client_failed(reply, json);
	cJSON_Delete(reply);
	return ret;
}

int cmd_history(int argc, char **argv)
{
	struct history_options o = {0};
	struct cli_common opts;
	struct sesame_home h;
	enum cli_parsed parsed;
	int fd = -1, ret;

	take_options(&argc, argv, &o);
	parsed = cli_common_parse(argc, argv, CLI_OPT_PIN_FD | CLI_OPT_JSON, &opts);
	if (parsed != CLI_PARSED_OK || optind + 1 != argc)
		return usage(parsed == CLI_PARSED_HELP ? stdout : stderr);
	if (o.lang != NULL && words_lang_set(o.lang) != 0)
		return EXIT_USAGE;
	if (cli_home(&h) != 0)
		return EXIT_FAIL;
	/* the page's file first: a path that cannot take it is said before the PIN is asked */
	if (o.html != NULL &&
	    (fd = open(o.html, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600)) < 0) {
		cli_error(_("cannot create the page %s: %s; choose a file that does not exist"),
			  o.html, strerror(errno));
		return EXIT_FAIL;
	}
	ret = history(&h, argv[optind], &o, opts.pin_fd, opts.json, &fd);
	if (fd >= 0) { /* no history came: no page left behind */
		close(fd);
		unlink(o.html);
	}
	return ret;
}
