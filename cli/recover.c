/* sesame recover USER: the recovery sheet unblocks the vault; the person sets a new PIN and gets
 * a new sheet, since the old one may have been seen. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "cli.h"
#include "recovery.h"

#define SHEET_FLAGS (O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC)
#define RECOVERY_LINE_MAX 128 /* the key is 39 characters; room for spaces typed around it */

static int usage(FILE *out)
{
	fprintf(out, _("Usage: sesame recover USER [--pin-fd N] [--sheet FILE.html] [--json]\n"
		       "Unblock the vault with the recovery sheet and choose a new PIN. With "
		       "--pin-fd:\nthe recovery key, then the new PIN, one per line. --sheet "
		       "writes the new sheet as a page to print.\n"));
	return out == stdout ? EXIT_OK : EXIT_USAGE;
}

/* At a terminal the key is typed in the open, as it is read off the sheet: it is not a PIN,
 * and 39 masked characters are hard to get right. */
static int read_visible(const char *desc, const char *error, char **rec)
{
	char *line = sodium_malloc(RECOVERY_LINE_MAX + 2);
	size_t len;

	if (line == NULL)
		return EXIT_FAIL;
	if (error != NULL)
		printf("%s\n", error);
	printf("%s\n%s ", desc, _("Recovery key:"));
	fflush(stdout);
	if (fgets(line, RECOVERY_LINE_MAX + 2, stdin) == NULL) {
		sodium_free(line);
		cli_error(_("cancelled"));
		return EXIT_CANCELLED;
	}
	len = strcspn(line, "\r\n");
	line[len] = '\0';
	*rec = line;
	return EXIT_OK;
}

/* Ask for the sheet until its checksum holds, so a typo costs nothing. */
static int ask_recovery(int fd, const char *name, char **rec)
{
	char desc[512];
	struct secret_ask ask = {desc, _("Recovery key:"), NULL, 0};
	uint8_t key[VAULT_RECOVERY_RANDOM_BYTES];
	int visible = fd < 0 && isatty(STDIN_FILENO), ret;

	snprintf(desc, sizeof(desc),
		 _("%s, type the key of your recovery sheet (groups of four "
		   "letters and digits)."),
		 name);
	for (int tries = 0; tries < 3; tries++) {
		ret = visible ? read_visible(desc, ask.error, rec) : cli_secret(fd, &ask, rec);
		if (ret != EXIT_OK)
			return ret;
		ret = recovery_decode(key, *rec);
		sodium_memzero(key, sizeof(key));
		if (ret == VAULT_OK)
			return EXIT_OK;
		sodium_free(*rec);
		*rec = NULL;
		ask.error = cli_strerror(ret);
		if (fd >= 0)
			break;
	}
	cli_error("%s", cli_strerror(VAULT_E_CHECKSUM));
	return EXIT_BADPIN;
}

struct shown {
	const char *name, *sheet;
	int sheet_fd; /* opened before the key was asked; -1 once written, or none */
	int failed, written;
};

static void show(const cJSON *reply, void *ctx)
{
	struct shown *s = ctx;
	const char *rec = proto_string(reply, "recovery"), *id = proto_string(reply, "user");
	char of[VAULT_NAME_MAX + 32];

	/* TRANSLATORS: the first %s is "of NAME" (see "of %s") */
	printf(_("The vault %s is unblocked and has a new PIN.\n"
		 "NEW RECOVERY SHEET (the old one no longer works):\n\n    %s\n\n"),
	       cli_of(s->name, of, sizeof(of)), rec != NULL ? rec : "?");
	if (s->sheet_fd >= 0 && rec != NULL && id != NULL) {
		fflush(stdout);
		if (cli_sheet_write(s->sheet_fd, s->name, id, rec) != 0) {
			cli_error(_("the new sheet could not be written to %s: copy the key shown "
				    "above by hand"),
				  s->sheet);
			s->failed = 1;
		} else {
			printf(_("The new sheet is ready to print: %s\n"), s->sheet);
			s->written = 1;
		}
		s->sheet_fd = -1;
	}
}

static int recover(const struct sesame_home *h, const char *user, int fd, const char *sheet,
		   int json)
{
	char name[VAULT_NAME_MAX + 1], *rec = NULL;
	struct shown shown = {name, sheet, -1, 0, 0};
	long long left;
	int ret;

	if ((ret = cli_user_lookup(h, user, name, sizeof(name), &left)) != EXIT_OK)
		return ret;
	/* the page for the new sheet is made before the old sheet is typed */
	if (sheet != NULL && (shown.sheet_fd = open(sheet, SHEET_FLAGS, 0600)) < 0) {
		cli_error(_("cannot create the new sheet %s: %s; choose another file (nothing was "
			    "changed)"),
			  sheet, strerror(errno));
		return EXIT_USAGE;
	}
	if ((ret = ask_recovery(fd, name, &rec)) == EXIT_OK)
		ret = cli_send_new_pin(h, fd, "recover", user, "recovery", rec, name, json, show,
				       &shown);
	if (shown.sheet_fd >= 0) { /* nothing to write: no empty page left behind */
		close(shown.sheet_fd);
		unlink(sheet);
	} else if (shown.written && ret != EXIT_OK) { /* the agent undid it: a void sheet */
		unlink(sheet);
	}
	return ret == EXIT_OK && shown.failed ? EXIT_FAIL : ret;
}

int cmd_recover(int argc, char **argv)
{
	struct cli_common opts;
	struct sesame_home h;
	enum cli_parsed parsed =
	    cli_common_parse(argc, argv, CLI_OPT_PIN_FD | CLI_OPT_SHEET | CLI_OPT_JSON, &opts);

	if (parsed != CLI_PARSED_OK || optind + 1 != argc)
		return usage(parsed == CLI_PARSED_HELP ? stdout : stderr);
	if (opts.sheet != NULL && opts.json) {
		cli_error(_("--sheet prints a page, --json a record: choose one"));
		return EXIT_USAGE;
	}
	if (cli_home(&h) != 0)
		return EXIT_FAIL;
	return recover(&h, argv[optind], opts.pin_fd, opts.sheet, opts.json);
}
