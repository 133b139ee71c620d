/* sesame import USER --csv FILE: the rows of a worker's spreadsheet go into the person's vault,
 * during their session, all or nothing. The file is read into guarded memory; what will be
 * imported is shown without a password and confirmed; every bad row is named by its line. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "cli.h"
#include "csv.h"

struct import_opts {
	const char *user, *path;
	int json, yes, consent;
};

static int usage(FILE *out)
{
	fprintf(out, _("Usage: sesame import USER --csv FILE [--no-consent] [--yes] [--json]\n"
		       "Bring the logins of a spreadsheet into the person's vault (their session "
		       "open).\nThe first line names the columns: service, address, username, "
		       "password, notes,\nin French or English. Nothing is imported if a row is "
		       "wrong.\n"));
	return out == stdout ? EXIT_OK : EXIT_USAGE;
}

static int parse(int argc, char **argv, struct import_opts *o)
{
	static const struct option opts[] = {
	    {"csv", required_argument, NULL, 'c'}, {"no-consent", no_argument, NULL, 'N'},
	    {"yes", no_argument, NULL, 'y'},	   {"json", no_argument, NULL, 'j'},
	    {"help", no_argument, NULL, 'h'},	   {0}};
	int opt;

	*o = (struct import_opts){.consent = 1};
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (opt == 'c')
			o->path = optarg;
		else if (opt == 'N')
			o->consent = 0;
		else if (opt == 'y')
			o->yes = 1;
		else if (opt == 'j')
			o->json = 1;
		else
			return usage(opt == 'h' ? stdout : stderr);
	}
	if (optind + 1 != argc || o->path == NULL)
		return usage(stderr);
	o->user = argv[optind];
	return -1;
}

/* The whole file in guarded memory: it holds passwords. */
static int read_file(const char *path, uint8_t **buf, size_t *len)
{
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	struct stat st;
	ssize_t n = 0;

	*buf = NULL;
	if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		cli_error(_("cannot read %s: %s"), path,
			  fd < 0 ? strerror(errno) : _("not a regular file"));
		if (fd >= 0)
			close(fd);
		return EXIT_FAIL;
	}
	if (st.st_size > (off_t)CSV_FILE_MAX) {
		cli_error(_("%s is too large to import: at most %u KiB; split it into smaller "
			    "files"),
			  path, CSV_FILE_MAX / 1024);
		close(fd);
		return EXIT_USAGE;
	}
	if ((*buf = sodium_malloc((size_t)st.st_size + 1)) == NULL ||
	    (n = read(fd, *buf, (size_t)st.st_size + 1)) < 0 || n > st.st_size) {
		cli_error(_("cannot read %s: %s"), path, strerror(errno != 0 ? errno : EIO));
		sodium_free(*buf);
		close(fd);
		return EXIT_FAIL;
	}
	close(fd);
	*len = (size_t)n;
	return EXIT_OK;
}

static const char *column_name(const char *column)
{
	static const struct {
		const char *key, *text;
	} names[] = {{"service", N_("service")},
		     {"url", N_("address")},
		     {"username", N_("username")},
		     {"password", N_("password")},
		     {"notes", N_("notes")}};

	for (size_t i = 0; column != NULL && i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(column, names[i].key) == 0)
			return _(names[i].text);
	return "";
}

static const char *problem_text(enum csv_problem p)
{
	switch (p) {
	case CSV_TOO_BIG:
		return _("the file is too large: split it into smaller files");
	case CSV_TOO_MANY:
		return _("too many rows: a vault holds at most 256 logins");
	case CSV_NOT_UTF8:
		return _("invalid or control characters: save the file as CSV in UTF-8");
	case CSV_QUOTE:
		return _("a quote (\") is not closed, or text follows a closing quote");
	case CSV_NO_HEADER:
		return _("the first line must name the columns: at least an address (url, "
			 "adresse), a username (identifiant, login) and a password (mot de passe, "
			 "password)");
	case CSV_COLUMNS:
		return _("this row has another number of columns than the first line");
	case CSV_EMPTY_FIELD:
		return _("empty");
	case CSV_TOO_LONG:
		return _("too long");
	case CSV_NO_ROWS:
		return _("the file holds no login, only its first line");
	default:
		return cli_strerror(VAULT_E_NOMEM);
	}
}

static void say_problems(const char *path, const struct csv_error *err, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (err[i].line == 0)
			cli_error("%s: %s", path, problem_text(err[i].problem));
		else if (err[i].column != NULL)
			/* TRANSLATORS: file, line number, column ("password"), problem ("empty") */
			cli_error(_("%s, line %zu: %s: %s"), path, err[i].line,
				  column_name(err[i].column), problem_text(err[i].problem));
		else
			cli_error(_("%s, line %zu: %s"), path, err[i].line,
				  problem_text(err[i].problem));
	}
	cli_error(_("nothing was imported: correct the file and try again"));
}

/* What will be imported, with no password. */
static void preview(const struct csv_table *t, const char *name)
{
	char of[VAULT_NAME_MAX + 32];

	/* TRANSLATORS: %s is "of NAME" (see "of %s") */
	printf(ngettext("%zu login to import into the vault %s:\n",
			"%zu logins to import into the vault %s:\n", (unsigned long)t->n),
	       t->n, cli_of(name, of, sizeof(of)));
	printf("  %-6s ", _("Line"));
	cli_print_cell(_("Service"), 24);
	cli_print_cell(_("Username"), 24);
	printf("%s\n", _("Address"));
	for (size_t i = 0; i < t->n; i++) {
		printf("  %-6zu ", t->row[i].line);
		cli_print_cell(t->row[i].service, 24);
		cli_print_cell(t->row[i].username, 24);
		printf("%s\n", t->row[i].url);
	}
}

static cJSON *import_request(const struct import_opts *o, const struct csv_table *t)
{
	cJSON *req = cJSON_CreateObject(), *rows = NULL;

	cJSON_AddStringToObject(req, "op", "import");
	cJSON_AddStringToObject(req, "user", o->user);
	rows = cJSON_AddArrayToObject(req, "rows");
	for (size_t i = 0; i < t->n; i++) {
		cJSON *r = cJSON_CreateObject();
		cJSON_AddStringToObject(r, "service", t->row[i].service);
		cJSON_AddStringToObject(r, "url", t->row[i].url);
		cJSON_AddStringToObject(r, "username", t->row[i].username);
		cJSON_AddStringToObject(r, "password", t->row[i].password);
		if (t->row[i].notes[0] != '\0')
			cJSON_AddStringToObject(r, "notes", t->row[i].notes);
		cJSON_AddBoolToObject(r, "consent", o->consent);
		cJSON_AddItemToArray(rows, r);
	}
	return req;
}

/* A request longer than the agent reads is refused here, with the remedy. */
static int request_fits(const cJSON *req)
{
	char *text = cJSON_PrintUnformatted(req);
	size_t n = text != NULL ? strlen(text) : SIZE_MAX;

	cJSON_free(text); /* wiped: it holds the passwords */
	if (n + 64 <= PROTO_MESSAGE_MAX)
		return 1;
	cli_error(_("the file holds too much for one import: split it into smaller files"));
	return 0;
}

/* The agent's refusal of one row, with its line. */
static int refused(const char *path, const struct csv_table *t, const cJSON *reply, int json)
{
	char text[CLI_MESSAGE_MAX];
	long long row = -1;

	if (json || proto_int(reply, "row", &row) != 0 || row < 0 || (size_t)row >= t->n)
		return client_failed(reply, json);
	if (strcmp(proto_string(reply, "reason") ? proto_string(reply, "reason") : "",
		   "service_twice") == 0)
		snprintf(text, sizeof(text), _("\"%s\" is named twice in the file"),
			 proto_string(reply, "existing") ? proto_string(reply, "existing") : "");
	else if (cli_reply_message(reply, text, sizeof(text)) != 0) {
		long long code = VAULT_E_INVAL;
		proto_int(reply, "code", &code);
		snprintf(text, sizeof(text), "%s", cli_strerror((int)code));
	}
	cli_error(_("%s, line %zu: %s"), path, t->row[row].line, text);
	cli_error(_("nothing was imported: correct the file and try again"));
	return EXIT_FAIL;
}

static int send_rows(const struct sesame_home *h, const struct import_opts *o,
		     const struct csv_table *t, const char *name)
{
	cJSON *req = import_request(o, t), *reply;
	char of[VAULT_NAME_MAX + 32];
	int ret;

	if (!request_fits(req)) {
		cJSON_Delete(req);
		return EXIT_USAGE;
	}
	if (client_call(h, req, &reply) != 0)
		return EXIT_AGENT;
	if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(reply, "ok"))) {
		ret = refused(o->path, t, reply, o->json);
	} else {
		ret = EXIT_OK;
		if (o->json)
			cli_json_print(cJSON_Duplicate(reply, 1));
		else
			/* TRANSLATORS: %s is "of NAME" (see "of %s") */
			printf(ngettext("%zu login imported into the vault %s.\n",
					"%zu logins imported into the vault %s.\n",
					(unsigned long)t->n),
			       t->n, cli_of(name, of, sizeof(of)));
		fprintf(o->json ? stderr : stdout,
			_("Now destroy the spreadsheet %s: delete it, empty the bin, and tear up "
			  "any printed copy. Its passwords are in the vault and nowhere else "
			  "should keep them.\n"),
			o->path);
	}
	cJSON_Delete(reply);
	return ret;
}

/* The person's session, asked before anything is shown: the import needs it. */
static int session_open(const struct sesame_home *h, const char *user, int json)
{
	cJSON *req = cJSON_CreateObject(), *reply;
	int ret;

	cJSON_AddStringToObject(req, "op", "list");
	cJSON_AddStringToObject(req, "user", user);
	cJSON_AddNumberToObject(req, "limit", 1);
	if (client_call(h, req, &reply) != 0)
		return EXIT_AGENT;
	ret = client_failed(reply, json);
	cJSON_Delete(reply);
	return ret;
}

int cmd_import(int argc, char **argv)
{
	struct csv_error err[CSV_ERRORS_MAX];
	char name[VAULT_NAME_MAX + 1], question[CLI_MESSAGE_MAX];
	struct csv_table *t = NULL;
	struct import_opts o;
	struct sesame_home h;
	long long left;
	uint8_t *buf;
	size_t len, nerr;
	int ret = parse(argc, argv, &o);

	if (ret >= 0)
		return ret;
	if (cli_home(&h) != 0)
		return EXIT_FAIL;
	if ((ret = cli_user_lookup(&h, o.user, name, sizeof(name), &left)) != EXIT_OK ||
	    (ret = session_open(&h, o.user, o.json)) != EXIT_OK ||
	    (ret = read_file(o.path, &buf, &len)) != EXIT_OK)
		return ret;
	if (csv_import_parse(buf, len, &t, err, &nerr) != CSV_OK) {
		sodium_free(buf);
		say_problems(o.path, err, nerr);
		return EXIT_USAGE;
	}
	sodium_free(buf);
	if (!o.json)
		preview(t, name);
	snprintf(question, sizeof(question), "%s", _("Import these logins?"));
	if (!o.yes && !cli_confirm(question)) {
		cli_error(_("not confirmed: nothing was imported (use --yes in scripts)"));
		ret = EXIT_CANCELLED;
	} else {
		ret = send_rows(&h, &o, t, name);
	}
	csv_table_free(t);
	return ret;
}
