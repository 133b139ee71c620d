/* sesame add USER --service S --url URL --username U: record a credential with the person,
 * during their session. The password is typed into a hidden prompt, read from --secret-fd, or
 * generated and shown once on the terminal. --username-selector and --password-selector record
 * where the fields are on a site the assisted login's clues get wrong, --submit-selector its
 * submit control, and --before-click (repeatable) what to click before the form shows. */
#include <fcntl.h>
#include <getopt.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "cli.h"
#include "fileio.h"

#define GENERATED_LENGTH 20

static int usage(FILE *out)
{
	fprintf(out,
		_("Usage: sesame add USER --service NAME --url URL --username LOGIN\n"
		  "                  [--secret-fd N | --generate] [--notes TEXT] [--replace]\n"
		  "                  [--username-selector CSS] [--password-selector CSS]\n"
		  "                  [--submit-selector CSS] [--before-click CSS]...\n"
		  "                  [--no-consent | --consent-until YYYY-MM-DD | --consent-for "
		  "1d|1m|6m|1y] [--json]\n"
		  "Record a credential in the person's vault (their session must be open). By "
		  "default the\nperson allows assisted logins with it, with no end date. The "
		  "selectors (CSS) say where\nthe fields are on a site where assisted logins do "
		  "not find them, and --before-click\nwhat to click, in order, before the form "
		  "shows (up to 4). \"HOST >>> CSS\" looks inside\nthe shadow root of HOST.\n"));
	return out == stdout ? EXIT_OK : EXIT_USAGE;
}

/* A mandate's end: a date (the end of that day where the person lives: local time, as the
 * date is shown back) or a length from now. */
static int parse_until(const char *arg, int is_length, long long *until)
{
	struct tm tm = {0};
	time_t now = time(NULL);
	char *end;

	if (!is_length) {
		end = strptime(arg, "%Y-%m-%d", &tm);
		if (end == NULL || *end != '\0')
			return -1;
		tm.tm_hour = 23;
		tm.tm_min = 59;
		tm.tm_sec = 59;
		tm.tm_isdst = -1;
		*until = (long long)mktime(&tm);
		return *until > (long long)now ? 0 : -1;
	}
	localtime_r(&now, &tm);
	tm.tm_isdst = -1;
	if (strcmp(arg, "1d") == 0)
		tm.tm_mday += 1;
	else if (strcmp(arg, "1m") == 0)
		tm.tm_mon += 1;
	else if (strcmp(arg, "6m") == 0)
		tm.tm_mon += 6;
	else if (strcmp(arg, "1y") == 0)
		tm.tm_year += 1;
	else
		return -1;
	*until = (long long)mktime(&tm);
	return 0;
}

static char *generate_password(void)
{
	static const char alphabet[] = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
				       "-_.!?";
	char *p = sodium_malloc(GENERATED_LENGTH + 1);

	if (p == NULL)
		return NULL;
	for (size_t i = 0; i < GENERATED_LENGTH; i++)
		p[i] = alphabet[randombytes_uniform(sizeof(alphabet) - 1)];
	p[GENERATED_LENGTH] = '\0';
	return p;
}

struct add_args {
	const char *user, *service, *url, *username, *notes;
	const char *user_sel, *pass_sel, *submit_sel;
	char clicks[VAULT_BEFORE_CLICKS_TEXT_MAX + 1]; /* --before-click selectors, one a line */
	size_t nclicks;
	int secret_fd, generate, consent, replace, json;
	long long until;
};

/* One more --before-click: a line of a->clicks. */
static int before_click(struct add_args *a, const char *arg)
{
	size_t used = strlen(a->clicks);

	if (a->nclicks >= VAULT_BEFORE_CLICKS_MAX || arg[0] == '\0' || strchr(arg, '\n') != NULL ||
	    strlen(arg) > VAULT_SELECTOR_MAX) {
		cli_error(_("--before-click takes one CSS selector of at most %d bytes, at most %d "
			    "times"),
			  VAULT_SELECTOR_MAX, VAULT_BEFORE_CLICKS_MAX);
		return -1;
	}
	snprintf(a->clicks + used, sizeof(a->clicks) - used, "%s%s", used > 0 ? "\n" : "", arg);
	a->nclicks++;
	return 0;
}

/* One option's value into a: 0, 1 for a bad descriptor (the usage follows), or -1 when the
 * message was said already. */
static int add_option(struct add_args *a, int opt, const char *arg)
{
	switch (opt) {
	case 's':
		a->service = arg;
		return 0;
	case 'u':
		a->url = arg;
		return 0;
	case 'n':
		a->username = arg;
		return 0;
	case 'o':
		a->notes = arg;
		return 0;
	case 'S':
		a->user_sel = arg;
		return 0;
	case 'P':
		a->pass_sel = arg;
		return 0;
	case 'B':
		a->submit_sel = arg;
		return 0;
	case 'C':
		return before_click(a, arg);
	case 'f':
		return cli_fd_arg(arg, &a->secret_fd) != 0;
	case 'g':
		a->generate = 1;
		return 0;
	case 'N':
		a->consent = 0;
		return 0;
	case 'r':
		a->replace = 1;
		return 0;
	case 'j':
		a->json = 1;
		return 0;
	default: /* 'U', 'F' */
		if (parse_until(arg, opt == 'F', &a->until) == 0)
			return 0;
		cli_error(_("not a future date (YYYY-MM-DD) or length (1d, 1m, 6m, 1y): %s"), arg);
		return -1;
	}
}

/* What the command line lacks, said before the usage: the option and what to type. */
static int missing(const struct add_args *a, int operands)
{
	if (operands == 0)
		cli_error(
		    _("the person is missing: name them first, as in sesame add \"Mme Martin\" "
		      "--service CAF …"));
	else if (operands > 1)
		cli_error(_("one person at a time: put a name with spaces between quotes"));
	else if (a->service == NULL)
		cli_error(_("--service is missing: name the service as the person knows it, as in "
			    "--service CAF"));
	else if (a->url == NULL)
		cli_error(_("--url is missing: give the address of the login page, as in "
			    "--url https://www.caf.fr/"));
	else
		cli_error(_("--username is missing: give the person's login on that site, as in "
			    "--username 1234567"));
	return usage(stderr);
}

/* The command line into a. *done is set when the command ends here (--help, or a mistake
 * that was said): the return value is then its exit code. */
static int parse(int argc, char **argv, struct add_args *a, int *done)
{
	static const struct option opts[] = {{"service", required_argument, NULL, 's'},
					     {"url", required_argument, NULL, 'u'},
					     {"username", required_argument, NULL, 'n'},
					     {"notes", required_argument, NULL, 'o'},
					     {"username-selector", required_argument, NULL, 'S'},
					     {"password-selector", required_argument, NULL, 'P'},
					     {"submit-selector", required_argument, NULL, 'B'},
					     {"before-click", required_argument, NULL, 'C'},
					     {"secret-fd", required_argument, NULL, 'f'},
					     {"generate", no_argument, NULL, 'g'},
					     {"no-consent", no_argument, NULL, 'N'},
					     {"consent-until", required_argument, NULL, 'U'},
					     {"consent-for", required_argument, NULL, 'F'},
					     {"replace", no_argument, NULL, 'r'},
					     {"json", no_argument, NULL, 'j'},
					     {"help", no_argument, NULL, 'h'},
					     {0}};
	int opt, bad;

	memset(a, 0, sizeof(*a));
	a->secret_fd = -1, a->consent = 1;
	*done = 1;
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (opt == 'h' || opt == '?')
			return usage(opt == 'h' ? stdout : stderr);
		if ((bad = add_option(a, opt, optarg)) != 0)
			return bad > 0 ? usage(stderr) : EXIT_USAGE;
	}
	if (optind + 1 != argc || a->service == NULL || a->url == NULL || a->username == NULL)
		return missing(a, argc - optind);
	a->user = argv[optind];
	*done = 0;
	return EXIT_OK;
}

static void show(const cJSON *reply, void *ctx)
{
	printf(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(reply, "replaced"))
		   ? _("%s changed.\n")
		   : _("%s recorded.\n"),
	       (const char *)ctx);
}

/* A generated password is shown once, on the terminal only (never in a pipe or a log), so the
 * person can set it on the website; without a terminal it could never be read, so none is made. */
static int open_terminal(void)
{
	int fd = open("/dev/tty", O_WRONLY | O_NOCTTY | O_CLOEXEC);

	if (fd < 0)
		cli_error(_("--generate shows the new password once on the terminal, and there is "
			    "no terminal here: type the password, or give it with --secret-fd"));
	return fd;
}

static void show_generated(int tty, const char *service, const char *password)
{
	char line[CLI_MESSAGE_MAX];
	int n = snprintf(line, sizeof(line),
			 _("New password for %s, shown only this once: set it on the website "
			   "now.\n\n    %s\n\n"),
			 service, password);

	if (n > 0)
		fileio_write_all(tty, line,
				 (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
	sodium_memzero(line, sizeof(line));
}

/* The password: generated, from the descriptor, or typed twice at the prompt. Never empty. */
static int ask_password(const struct add_args *a, char *desc, char **password)
{
	struct secret_ask ask = {desc, _("Password:"), NULL, a->secret_fd < 0};
	int ret;

	if (a->generate)
		*password = generate_password();
	else if ((ret = cli_secret(a->secret_fd, &ask, password)) != EXIT_OK)
		return ret;
	if (*password == NULL)
		return EXIT_FAIL;
	if ((*password)[0] == '\0') {
		sodium_free(*password);
		*password = NULL;
		cli_error("%s", _("the password is empty: type it, or use --generate"));
		return EXIT_USAGE;
	}
	return EXIT_OK;
}

int cmd_add(int argc, char **argv)
{
	struct add_args a;
	struct sesame_home h;
	char desc[512], *password = NULL;
	cJSON *req;
	int ret, done, tty = -1;

	if ((ret = parse(argc, argv, &a, &done)) != EXIT_OK || done)
		return ret;
	if (cli_home(&h) != 0)
		return EXIT_FAIL;
	if ((ret = cli_check_add(&h, a.user, a.service, a.url, a.replace, a.json)) != EXIT_OK)
		return ret;
	snprintf(desc, sizeof(desc), _("Password for %s (it is stored encrypted and never shown)"),
		 a.service);
	if (a.generate && (tty = open_terminal()) < 0)
		return EXIT_USAGE;
	if ((ret = ask_password(&a, desc, &password)) != EXIT_OK) {
		if (tty >= 0)
			close(tty);
		return ret;
	}
	req = cJSON_CreateObject();
	cJSON_AddStringToObject(req, "op", "add");
	cJSON_AddStringToObject(req, "user", a.user);
	cJSON_AddStringToObject(req, "service", a.service);
	cJSON_AddStringToObject(req, "url", a.url);
	cJSON_AddStringToObject(req, "username", a.username);
	cJSON_AddStringToObject(req, "password", password);
	if (a.notes != NULL)
		cJSON_AddStringToObject(req, "notes", a.notes);
	if (a.user_sel != NULL)
		cJSON_AddStringToObject(req, "username_selector", a.user_sel);
	if (a.pass_sel != NULL)
		cJSON_AddStringToObject(req, "password_selector", a.pass_sel);
	if (a.submit_sel != NULL)
		cJSON_AddStringToObject(req, "submit_selector", a.submit_sel);
	if (a.nclicks > 0)
		cJSON_AddStringToObject(req, "before_clicks", a.clicks);
	cJSON_AddBoolToObject(req, "consent", a.consent);
	cJSON_AddNumberToObject(req, "consent_until", (double)a.until);
	cJSON_AddBoolToObject(req, "replace", a.replace);
	ret = cli_run(&h, req, a.json, show, (void *)a.service);
	if (ret == EXIT_OK && tty >= 0)
		show_generated(tty, a.service, password);
	sodium_free(password);
	if (tty >= 0)
		close(tty);
	return ret;
}
