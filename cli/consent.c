/* The consent page: what Sesame keeps, who can use it and when, how to withdraw, how to see the
 * history, in plain words to be read to the person and printed, in the style of the recovery
 * sheet. Given at enrolment (sesame enroll --consent FILE) or on demand (sesame consent). With
 * the person's session open, it lists their choices as their vault records them. Its texts
 * carry the gettext context "consent": they speak to the person, not to the worker. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <locale.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "cli.h"

#define CONSENT_PAGE 50	    /* services asked of the agent at a time */
#define CONSENT_LANG_MAX 16 /* "fr", "en", "pt_BR": a catalogue's name */

static void html_text(FILE *f, const char *s)
{
	for (; *s != '\0'; s++) {
		if (*s == '<')
			fputs("&lt;", f);
		else if (*s == '>')
			fputs("&gt;", f);
		else if (*s == '&')
			fputs("&amp;", f);
		else if (*s == '"')
			fputs("&quot;", f);
		else
			fputc(*s, f);
	}
}

static void section(FILE *f, const char *title, const char *text)
{
	fputs("<h2>", f);
	html_text(f, title);
	fputs("</h2>\n<p>", f);
	html_text(f, text);
	fputs("</p>\n", f);
}

/* One row of the person's choices: the service, allowed or not, until when. */
static void choice_row(FILE *f, const cJSON *s)
{
	const char *service = proto_string(s, "service");
	long long until = 0;
	char date[64];

	proto_int(s, "consent_until", &until);
	fputs("<tr><td>", f);
	html_text(f, service != NULL ? service : "");
	fputs("</td><td>", f);
	if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(s, "consent"))) {
		html_text(f, C_("consent", "no"));
	} else if (until > 0) {
		char text[128];
		cli_date(until, date, sizeof(date));
		/* TRANSLATORS: the consent page, to the person: %s is a date */
		snprintf(text, sizeof(text), _("yes, until %s"), date);
		html_text(f, text);
	} else {
		html_text(f, C_("consent", "yes, until you withdraw it"));
	}
	fputs("</td></tr>\n", f);
}

/* The choices as the vault holds them, page by page; 0 if the session is not open. */
static int choices(FILE *f, const struct sesame_home *h, const char *user)
{
	long long next = 0;
	int rows = 0;

	do {
		cJSON *req = cJSON_CreateObject(), *reply, *s;
		cJSON_AddStringToObject(req, "op", "list");
		cJSON_AddStringToObject(req, "user", user);
		cJSON_AddNumberToObject(req, "limit", CONSENT_PAGE);
		cJSON_AddNumberToObject(req, "cursor", (double)next);
		if (client_call(h, req, &reply) != 0)
			return rows;
		if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(reply, "ok"))) {
			cJSON_Delete(reply);
			return rows;
		}
		if (rows == 0) {
			fputs("<table><tr><th>", f);
			html_text(f, C_("consent", "Service"));
			fputs("</th><th>", f);
			html_text(f, C_("consent", "The worker may log in for you"));
			fputs("</th></tr>\n", f);
		}
		cJSON_ArrayForEach(s, cJSON_GetObjectItemCaseSensitive(reply, "services"))
		{
			choice_row(f, s);
			rows++;
		}
		if (proto_int(reply, "next", &next) != 0)
			next = -1;
		cJSON_Delete(reply);
	} while (next > 0);
	if (rows > 0)
		fputs("</table>\n", f);
	return rows;
}

static void head(FILE *f, const char *name)
{
	char date[64], line[512];

	fputs("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Sesame</title><style>"
	      "body{font-family:sans-serif;margin:2cm;max-width:18cm}h1{font-size:24pt}"
	      "h2{font-size:17pt;margin-top:18pt}p,td,th{font-size:14pt;line-height:1.4}"
	      "table{border-collapse:collapse}td,th{border:1px solid #000;padding:4pt 8pt;"
	      "text-align:left}.sign{margin-top:30pt}</style></head><body>\n<h1>",
	      f);
	html_text(f, C_("consent", "Your logins in Sesame: what you agree to"));
	fputs("</h1>\n<p>", f);
	cli_date((long long)time(NULL), date, sizeof(date));
	/* TRANSLATORS: the consent page: the person's name, then today's date */
	if (snprintf(line, sizeof(line), _("For %s, on %s."), name, date) > 0)
		html_text(f, line);
	fputs("</p>\n", f);
}

static void body(FILE *f, const struct sesame_home *h, const char *user)
{
	section(f, C_("consent", "What Sesame keeps"),
		C_("consent", "Sesame keeps the logins you choose for online services (CAF, ameli, "
			      "impots.gouv…): the name of the service, its address, your "
			      "username and your password. They are locked in your own vault on "
			      "this computer, and only your PIN opens it. Nobody keeps your PIN: "
			      "only you know it. Sesame also writes in a journal each time your "
			      "vault is opened or used."));
	section(f, C_("consent", "Who can use it, and when"),
		C_("consent",
		   "A worker of this service can use your logins only during an "
		   "appointment, with you, after you have typed your PIN. The worker "
		   "never sees your passwords: Sesame fills in the website itself. For "
		   "each service, you say whether the worker may log in for you, and "
		   "until when. When the appointment ends, your vault is locked again."));
	fputs("<h2>", f);
	html_text(f, C_("consent", "Your choices"));
	fputs("</h2>\n<p>", f);
	html_text(f, C_("consent", "Your choices are recorded in your vault, service by service, "
				   "with their end date, and each change is written in the "
				   "journal. You can change them at any appointment."));
	fputs("</p>\n", f);
	choices(f, h, user);
	section(f, C_("consent", "How to withdraw"),
		C_("consent", "You can withdraw at any time, without giving a reason, for one "
			      "service or for all of them. Ask the worker and type your PIN: your "
			      "vault and everything in it are then destroyed. Before that, you can "
			      "take your logins with you in a file that you open with KeePassXC or "
			      "a similar application."));
	section(f, C_("consent", "How to see the history"),
		C_("consent", "At any time you can ask to see who used your vault, when and why. "
			      "Nobody can change or erase the journal without it showing. For a "
			      "question or a complaint, ask the service's data-protection officer; "
			      "you may also contact the CNIL (www.cnil.fr)."));
	fputs("<p class=\"sign\">", f);
	html_text(f, C_("consent", "Read to the person by: ____________________   Date: "
				   "____________"));
	fputs("</p>\n<p class=\"sign\">", f);
	html_text(f, C_("consent", "Signature of the person: ____________________"));
	fputs("</p>\n</body></html>\n", f);
}

int cli_consent_write(int fd, const struct sesame_home *h, const char *name, const char *user)
{
	FILE *f = fdopen(fd, "w");

	if (f == NULL) {
		close(fd);
		return -1;
	}
	head(f, name);
	body(f, h, user);
	if (fflush(f) != 0 || fsync(fd) != 0) {
		fclose(f);
		return -1;
	}
	return fclose(f);
}

int cli_consent_open(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);

	if (fd < 0)
		cli_error(_("cannot create the consent page %s: %s; choose another file"), path,
			  strerror(errno));
	return fd;
}

/* The page in the person's language, whatever the worker's: gettext takes LANGUAGE from the
 * environment at each call once setlocale has run again (glibc), in any locale but C, so a C
 * locale becomes C.UTF-8 for the page. A language with no catalogue gives the English text. */
struct lang_saved {
	char language[256];
	int had_language;
	char messages[64];
};

static int lang_valid(const char *lang)
{
	size_t n = strlen(lang);

	if (n < 2 || n > CONSENT_LANG_MAX)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((lang[i] >= 'a' && lang[i] <= 'z') || (lang[i] >= 'A' && lang[i] <= 'Z') ||
		      (i > 0 && (lang[i] == '_' || lang[i] == '@'))))
			return 0;
	return 1;
}

static void lang_enter(const char *lang, struct lang_saved *saved)
{
	const char *old = getenv("LANGUAGE"), *cur = setlocale(LC_MESSAGES, NULL);

	saved->had_language = old != NULL;
	snprintf(saved->language, sizeof(saved->language), "%s", old != NULL ? old : "");
	snprintf(saved->messages, sizeof(saved->messages), "%s", cur != NULL ? cur : "C");
	setenv("LANGUAGE", lang, 1);
	if (setlocale(LC_MESSAGES, "") == NULL || strcmp(setlocale(LC_MESSAGES, NULL), "C") == 0 ||
	    strcmp(setlocale(LC_MESSAGES, NULL), "POSIX") == 0)
		setlocale(LC_MESSAGES, "C.UTF-8");
}

static void lang_leave(const struct lang_saved *saved)
{
	if (saved->had_language)
		setenv("LANGUAGE", saved->language, 1);
	else
		unsetenv("LANGUAGE");
	setlocale(LC_MESSAGES, saved->messages);
}

static int usage(FILE *out)
{
	fprintf(out, _("Usage: sesame consent USER --html FILE [--lang LANGUAGE]\n"
		       "The consent page to read to the person and print: what Sesame keeps, who "
		       "can use it\nand when, how to withdraw, how to see the history. With their "
		       "session open, it lists\ntheir choices service by service. --lang writes "
		       "it in the person's language\n(fr, en, …), whatever the command's.\n"));
	return out == stdout ? EXIT_OK : EXIT_USAGE;
}

int cmd_consent(int argc, char **argv)
{
	static const struct option opts[] = {{"html", required_argument, NULL, 'H'},
					     {"lang", required_argument, NULL, 'l'},
					     {"help", no_argument, NULL, 'h'},
					     {0}};
	struct lang_saved saved;
	const char *lang = NULL;
	char name[VAULT_NAME_MAX + 1];
	const char *path = NULL;
	struct sesame_home h;
	long long left;
	int opt, fd, ret;

	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (opt == 'H')
			path = optarg;
		else if (opt == 'l' && lang_valid(optarg))
			lang = optarg;
		else
			return usage(opt == 'h' ? stdout : stderr);
	}
	if (optind + 1 != argc || path == NULL)
		return usage(stderr);
	if (cli_home(&h) != 0)
		return EXIT_FAIL;
	if ((ret = cli_user_lookup(&h, argv[optind], name, sizeof(name), &left)) != EXIT_OK)
		return ret;
	if ((fd = cli_consent_open(path)) < 0)
		return EXIT_FAIL;
	if (lang != NULL)
		lang_enter(lang, &saved);
	ret = cli_consent_write(fd, &h, name, argv[optind]);
	if (lang != NULL)
		lang_leave(&saved);
	if (ret != 0) {
		cli_error(_("the consent page could not be written to %s: %s"), path,
			  strerror(errno));
		unlink(path);
		return EXIT_FAIL;
	}
	printf(_("Consent page: %s. Read it to the person, and give them the printed copy.\n"),
	       path);
	return EXIT_OK;
}
