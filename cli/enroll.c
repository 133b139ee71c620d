/* sesame enroll NAME: the person chooses a PIN; their vault is created; their recovery sheet is
 * shown, and optionally written as a printable page. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "cli.h"

static int usage(FILE *out)
{
	fprintf(out, _("Usage: sesame enroll NAME [--pin-fd N] [--sheet FILE.html] "
		       "[--consent FILE.html] [--json] [--force]\n"
		       "Enrol a person: they choose a PIN (typed twice), and take home the "
		       "recovery sheet\nand the consent page. --force enrols them although vault "
		       "files cannot be read\n(one may be theirs).\n"));
	return out == stdout ? EXIT_OK : EXIT_USAGE;
}

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

/* The sheet's file, created before anything is typed: a path that cannot take the sheet (a
 * missing directory, an existing file) is refused before a vault exists. 0600, created fresh,
 * never through a symbolic link. */
static int open_sheet(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);

	if (fd < 0)
		cli_error(_("cannot create the recovery sheet %s: %s; choose another file (nobody "
			    "was enrolled)"),
			  path, strerror(errno));
	return fd;
}

/* The sheet as a page to print, into the file open_sheet made. */
int cli_sheet_write(int fd, const char *name, const char *id, const char *recovery)
{
	FILE *f = fdopen(fd, "w");

	if (f == NULL) {
		close(fd);
		return -1;
	}
	fputs("<!DOCTYPE html>\n<html lang=\"fr\"><head><meta charset=\"utf-8\">"
	      "<title>Sesame</title><style>body{font-family:sans-serif;margin:2cm}"
	      "h1{font-size:28pt}.key{font-family:monospace;font-size:26pt;letter-spacing:2pt;"
	      "border:2px solid #000;padding:12pt;display:inline-block}p{font-size:16pt}"
	      "</style></head><body>\n<h1>",
	      f);
	html_text(f, _("Recovery sheet"));
	fputs("</h1>\n<p>", f);
	html_text(f, name);
	fputs("</p>\n<p class=\"key\">", f);
	html_text(f, recovery);
	fputs("</p>\n<p>", f);
	html_text(f,
		  _("Keep this sheet at home, never with the computer. If you forget your PIN or "
		    "it is blocked, this key opens your vault again and sets a new PIN."));
	fprintf(f, "</p>\n<p><small>%s</small></p>\n</body></html>\n", id);
	if (fflush(f) != 0 || fsync(fd) != 0) {
		fclose(f);
		return -1;
	}
	return fclose(f);
}

/* The key is shown first, whatever happens to the page: it exists nowhere else. Returns
 * whether it was shown, on the terminal (or the file standard output goes to) or the sheet. */
static int show(const cJSON *reply, const char *name, const char *sheet, int sheet_fd, int json)
{
	const char *id = proto_string(reply, "user"), *rec = proto_string(reply, "recovery");
	char of[VAULT_NAME_MAX + 32];
	int shown;

	if (id == NULL || rec == NULL) {
		if (sheet_fd >= 0)
			close(sheet_fd);
		return 0;
	}
	if (json) {
		cli_json_print(cJSON_Duplicate(reply, 1));
	} else {
		printf(_("%s is enrolled. Person id: %s\n\n"), name, id);
		/* TRANSLATORS: %s is "of NAME" (see "of %s") */
		printf(_("RECOVERY SHEET %s, to keep at home, never with the computer:\n\n"),
		       cli_of(name, of, sizeof(of)));
		printf("    %s\n\n", rec);
		printf(_("If the PIN is forgotten or blocked, this key opens the vault again "
			 "(sesame recover).\n"));
	}
	shown = client_stdout_ok();
	if (sheet_fd >= 0 && cli_sheet_write(sheet_fd, name, id, rec) != 0) {
		cli_error(
		    _("the recovery sheet could not be written to %s: %s; %s is enrolled and the "
		      "key is shown above: copy it by hand"),
		    sheet, strerror(errno), name);
		unlink(sheet);
	} else if (sheet_fd >= 0) {
		shown = 1;
	}
	return shown;
}

/* The agent keeps the enrolment only once told the key was shown (docs/protocol.md). */
static int confirm(int held, int shown, const char *name, const char *sheet)
{
	int ret = client_key_shown(held, shown);

	if (ret == 0)
		return EXIT_OK;
	if (ret == -2 || !shown)
		cli_error(_("%s is not enrolled after all: the agent undid the enrolment, and the "
			    "recovery key shown above is void; enrol them again"),
			  name);
	else
		cli_error(
		    _("the agent did not confirm the enrolment of %s: the recovery key shown "
		      "above is void unless sesame list shows them; if it does not, enrol them "
		      "again"),
		    name);
	if (sheet != NULL && (ret == -2 || !shown))
		unlink(sheet);
	return EXIT_FAIL;
}

int cmd_enroll(int argc, char **argv)
{
	struct cli_common opts;
	enum cli_parsed parsed = cli_common_parse(
	    argc, argv,
	    CLI_OPT_PIN_FD | CLI_OPT_SHEET | CLI_OPT_CONSENT | CLI_OPT_JSON | CLI_OPT_FORCE, &opts);
	const char *sheet = opts.sheet, *consent = opts.consent;
	char name[VAULT_NAME_MAX + 1];
	struct sesame_home h;
	int json = opts.json, fd = opts.pin_fd, sheet_fd = -1, consent_fd = -1, held = -1, ret;
	char desc[512], *pin = NULL;
	cJSON *req, *reply;

	if (parsed != CLI_PARSED_OK || optind + 1 != argc)
		return usage(parsed == CLI_PARSED_HELP ? stdout : stderr);
	if (cli_home(&h) != 0)
		return EXIT_FAIL;
	if ((ret = cli_check_new_name(&h, argv[optind], name, sizeof(name), json, opts.force)) !=
	    EXIT_OK)
		return ret;
	snprintf(
	    desc, sizeof(desc),
	    _("%s, choose your PIN: %u to 12 digits, easy for you to remember, hard to "
	      "guess (not 123456, not your birth year). You will type it at each appointment."),
	    name, h.cfg.policy.pin_min_length);
	if (sheet != NULL && (sheet_fd = open_sheet(sheet)) < 0)
		return EXIT_FAIL;
	if (consent != NULL && (consent_fd = cli_consent_open(consent)) < 0) {
		ret = EXIT_FAIL;
		goto fail;
	}
	if ((ret = cli_new_pin(&h, fd, desc, &pin)) != EXIT_OK)
		goto fail;
	req = cJSON_CreateObject();
	cJSON_AddStringToObject(req, "op", "enroll");
	cJSON_AddStringToObject(req, "name", name);
	cJSON_AddStringToObject(req, "pin", pin);
	if (opts.force)
		cJSON_AddTrueToObject(req, "force");
	sodium_free(pin);
	cli_progress(_("Making the vault…"), json);
	if (client_call_held(&h, req, &reply, &held) != 0) {
		ret = EXIT_AGENT;
		goto fail;
	}
	cli_progress_done();
	ret = client_failed(reply, json);
	if (ret == EXIT_OK && held < 0) /* a reply without its key */
		ret = EXIT_FAIL;
	if (ret == EXIT_OK) {
		int shown = show(reply, name, sheet, sheet_fd, json);
		sheet_fd = -1; /* show closed it */
		ret = confirm(held, shown, name, sheet);
	}
	if (ret == EXIT_OK && consent_fd >= 0) {
		if (cli_consent_write(consent_fd, &h, name, proto_string(reply, "user")) != 0) {
			cli_error(_("the consent page could not be written to %s: %s"), consent,
				  strerror(errno));
			unlink(consent);
		}
		consent_fd = -1; /* closed */
	}
	cJSON_Delete(reply);
	if (ret == EXIT_OK)
		return ret;
fail:
	if (consent_fd >= 0) {
		close(consent_fd);
		unlink(consent);
	}
	if (sheet_fd >= 0) { /* nobody enrolled: the empty page goes */
		close(sheet_fd);
		unlink(sheet);
	}
	return ret;
}
