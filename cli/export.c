/* sesame export USER --kdbx FILE | --csv FILE: the person takes their logins away. The command
 * creates the file (new, 0600, never through a link) and hands it to the agent, which writes
 * it after recording the export: the command never holds a stored password. Any failure after
 * the file was created removes it. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "cli.h"
#include "fileio.h"

#define PASSPHRASE_MIN 8 /* the agent's AGENT_PASSPHRASE_MIN */
#define PASSPHRASE_TRIES 3

struct export_opts {
	const char *user, *path;
	int csv, json, yes, generate, pin_fd, passphrase_fd;
	int tty; /* --generate: the terminal the passphrase is shown on */
};

static int usage(FILE *out)
{
	fprintf(
	    out,
	    _("Usage: sesame export USER --kdbx FILE [--passphrase-fd N | --generate] [--pin-fd N] "
	      "[--json]\n"
	      "       sesame export USER --csv FILE [--yes] [--pin-fd N] [--json]\n"
	      "The person takes their logins away, after typing their PIN: --kdbx writes a "
	      "KeePass\ndatabase that KeePassXC, KeePassDX, Strongbox or KeeWeb open with the "
	      "passphrase\nthe person chooses, or that --generate shows once; --csv writes the "
	      "columns browsers\nimport, unencrypted.\n"));
	return out == stdout ? EXIT_OK : EXIT_USAGE;
}

static int parse(int argc, char **argv, struct export_opts *o)
{
	static const struct option opts[] = {{"kdbx", required_argument, NULL, 'k'},
					     {"csv", required_argument, NULL, 'c'},
					     {"pin-fd", required_argument, NULL, 'p'},
					     {"passphrase-fd", required_argument, NULL, 'f'},
					     {"yes", no_argument, NULL, 'y'},
					     {"generate", no_argument, NULL, 'g'},
					     {"json", no_argument, NULL, 'j'},
					     {"help", no_argument, NULL, 'h'},
					     {0}};
	int opt, formats = 0;

	*o = (struct export_opts){.pin_fd = -1, .passphrase_fd = -1, .tty = -1};
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 'k':
		case 'c':
			o->path = optarg, o->csv = opt == 'c', formats++;
			break;
		case 'p':
			if (cli_fd_arg(optarg, &o->pin_fd) != 0)
				return usage(stderr);
			break;
		case 'f':
			if (cli_fd_arg(optarg, &o->passphrase_fd) != 0)
				return usage(stderr);
			break;
		case 'y':
			o->yes = 1;
			break;
		case 'g':
			o->generate = 1;
			break;
		case 'j':
			o->json = 1;
			break;
		default:
			return usage(opt == 'h' ? stdout : stderr);
		}
	}
	if (optind + 1 != argc || formats != 1 ||
	    (o->generate && (o->csv || o->passphrase_fd >= 0)))
		return usage(stderr);
	o->user = argv[optind];
	return -1;
}

/* The passphrase the person chooses, typed twice at the prompt. */
static int ask_passphrase(const struct export_opts *o, const char *name, char **pass)
{
	char desc[512], rule[128];
	struct secret_ask ask = {desc, _("Passphrase:"), NULL, 1};
	int ret;

	snprintf(desc, sizeof(desc),
		 _("%s, choose the passphrase that will open your file of logins. Write it "
		   "down and keep it apart from the file."),
		 name);
	snprintf(rule, sizeof(rule), _("the passphrase must have at least %d characters"),
		 PASSPHRASE_MIN);
	for (int i = 0; i < PASSPHRASE_TRIES; i++) {
		if ((ret = cli_secret(o->passphrase_fd, &ask, pass)) != EXIT_OK)
			return ret;
		if (strlen(*pass) >= PASSPHRASE_MIN)
			return EXIT_OK;
		sodium_free(*pass);
		*pass = NULL;
		if (o->passphrase_fd >= 0)
			break;
		ask.error = rule;
	}
	cli_error("%s", rule);
	return EXIT_USAGE;
}

static int ask_pin(const struct export_opts *o, const char *name, long long left, char **pin)
{
	char desc[512];
	struct secret_ask ask = {desc, _("PIN:"), NULL, 0};

	snprintf(desc, sizeof(desc),
		 ngettext("%s, type your PIN to take your logins away (%lld attempt left).",
			  "%s, type your PIN to take your logins away (%lld attempts left).",
			  (unsigned long)left),
		 name, left);
	return cli_secret(o->pin_fd, &ask, pin);
}

/* A generated passphrase is shown once, on the terminal only: never in a file that standard
 * output may be, never in --json. */
static int open_terminal(void)
{
	int fd = open("/dev/tty", O_WRONLY | O_NOCTTY | O_CLOEXEC);

	if (fd < 0)
		cli_error(_("--generate shows the passphrase once on the terminal, and there is no "
			    "terminal here: let the person choose it, or give it with "
			    "--passphrase-fd"));
	return fd;
}

static void show_passphrase(int tty, const char *passphrase)
{
	char line[CLI_MESSAGE_MAX];
	int n = snprintf(line, sizeof(line),
			 _("The passphrase of the file, shown only this once: write it down now "
			   "and keep it apart from the file.\n\n    %s\n\n"),
			 passphrase);

	if (n > 0)
		fileio_write_all(tty, line,
				 (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
	sodium_memzero(line, sizeof(line));
}

/* The file, new: an existing one is never overwritten. */
static int create_file(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);

	if (fd < 0 && errno == EEXIST)
		cli_error(_("%s already exists: choose a new file name (nothing is overwritten)"),
			  path);
	else if (fd < 0)
		cli_error(_("cannot create %s: %s"), path, strerror(errno));
	return fd;
}

/* The new name made durable in its directory. */
static void sync_dir(const char *path)
{
	char copy[PATH_MAX];
	int fd;

	snprintf(copy, sizeof(copy), "%s", path);
	if ((fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
		(void)fsync(fd);
		close(fd);
	}
}

static cJSON *export_request(const struct export_opts *o, const char *pin, const char *pass)
{
	cJSON *req = cJSON_CreateObject();

	cJSON_AddStringToObject(req, "op", "export");
	cJSON_AddStringToObject(req, "user", o->user);
	cJSON_AddStringToObject(req, "format", o->csv ? "csv" : "kdbx");
	cJSON_AddStringToObject(req, "pin", pin);
	if (pass != NULL)
		cJSON_AddStringToObject(req, "passphrase", pass);
	if (o->generate)
		cJSON_AddTrueToObject(req, "generate");
	return req;
}

static void show(const struct export_opts *o, const char *name, const cJSON *reply)
{
	long long n = 0;

	proto_int(reply, "count", &n);
	printf(ngettext("%lld login of %s is in %s.\n", "%lld logins of %s are in %s.\n",
			(unsigned long)n),
	       n, name, o->path);
	if (o->csv)
		printf(
		    _("This file is NOT encrypted: whoever reads it has the passwords. Import it "
		      "into the browser at once, then delete it and empty the bin.\n"));
	else
		printf(_("Open it in KeePassXC, KeePassDX, Strongbox or KeeWeb with the "
			 "passphrase.\n"));
}

/* Create the file, hand it over, keep it only if the agent wrote it. */
static int run(const struct sesame_home *h, const struct export_opts *o, const char *name,
	       char *pin, char *pass)
{
	cJSON *reply = NULL;
	int fd = create_file(o->path), ret;

	if (fd < 0) {
		sodium_free(pin);
		sodium_free(pass);
		return EXIT_FAIL;
	}
	cli_progress(_("Preparing the file…"), o->json);
	ret = client_call_file(h, export_request(o, pin, pass), &reply, -1, fd);
	cli_progress_done();
	sodium_free(pin);
	sodium_free(pass);
	close(fd);
	ret = ret != 0 ? EXIT_AGENT : client_failed(reply, o->json);
	if (ret != EXIT_OK) {
		unlink(o->path);
	} else {
		sync_dir(o->path);
		if (o->generate && proto_string(reply, "passphrase") != NULL)
			show_passphrase(o->tty, proto_string(reply, "passphrase"));
		cJSON_DeleteItemFromObjectCaseSensitive(reply, "passphrase"); /* wiped (hooks) */
		if (o->json)
			cli_json_print(cJSON_Duplicate(reply, 1));
		else
			show(o, name, reply);
	}
	cJSON_Delete(reply);
	return ret;
}

int cmd_export(int argc, char **argv)
{
	char name[VAULT_NAME_MAX + 1], *pin = NULL, *pass = NULL;
	struct export_opts o;
	struct sesame_home h;
	long long left = 0;
	int ret = parse(argc, argv, &o);

	if (ret >= 0)
		return ret;
	if (cli_home(&h) != 0)
		return EXIT_FAIL;
	if ((ret = cli_user_lookup(&h, o.user, name, sizeof(name), &left)) != EXIT_OK ||
	    (ret = cli_check_blocked(left, o.json)) != EXIT_OK)
		return ret;
	if (o.csv && !o.yes &&
	    !cli_confirm(_("The CSV file will NOT be encrypted: whoever reads it has every "
			   "password. Write it?"))) {
		cli_error(_("not confirmed: nothing was written (use --yes in scripts)"));
		return EXIT_CANCELLED;
	}
	if (o.generate && (o.tty = open_terminal()) < 0)
		return EXIT_USAGE;
	if (!o.csv && !o.generate && (ret = ask_passphrase(&o, name, &pass)) != EXIT_OK)
		return ret;
	if ((ret = ask_pin(&o, name, left, &pin)) != EXIT_OK)
		sodium_free(pass);
	else
		ret = run(&h, &o, name, pin, pass);
	if (o.tty >= 0)
		close(o.tty);
	return ret;
}
