/* sesame login USER SERVICE: the assisted login. The agent starts, drives and closes the
 * browser itself; this command only asks for the login, and hands over the worker's X display
 * (DISPLAY and its cookie) so that the window appears on the worker's desktop. No password,
 * and no descriptor of the browser, ever passes through this process. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "cli.h"
#include "fileio.h"
#include "loginreq.h"
#include "proto.h"

struct login_opts {
	const char *user, *service, *purpose, *screenshot;
	int headless, no_submit, keep_open, json, pin_fd;
};

static int usage(FILE *out)
{
	fprintf(out,
		_("Usage: sesame login USER SERVICE [--headless] [--purpose TEXT] "
		  "[--no-submit]\n"
		  "                    [--keep-open] [--screenshot FILE] [--pin-fd N] "
		  "[--json]\n"
		  "Open the service's login page in a browser that the agent starts and fills "
		  "in:\nthe password goes from the vault to the page, never through your hands. "
		  "The person\ntypes their PIN first if no session is open.\n"
		  "With a display the browser opens on your desktop and stays open for the "
		  "procedure,\nuntil the session ends; headless, it closes after the login unless "
		  "--keep-open.\nThe browser and its flags are set in sesame.conf, never by this "
		  "command.\n"));
	return out == stdout ? EXIT_OK : EXIT_USAGE;
}

/* Is a session open with this person (id or enrolled name)? */
static int has_session(const struct sesame_home *h, const char *user)
{
	cJSON *req = cJSON_CreateObject(), *reply, *s;
	int found = 0;

	cJSON_AddStringToObject(req, "op", "status");
	if (client_call(h, req, &reply) != 0)
		return -1;
	cJSON_ArrayForEach(s, cJSON_GetObjectItemCaseSensitive(reply, "sessions"))
	{
		const char *id = proto_string(s, "user"), *name = proto_string(s, "name");
		if ((id != NULL && strcmp(id, user) == 0) ||
		    (name != NULL && strcmp(name, user) == 0))
			found = 1;
	}
	cJSON_Delete(reply);
	return found;
}

static cJSON *request(const struct login_opts *o)
{
	struct login_ask ask = {.user = o->user,
				.service = o->service,
				.purpose = o->purpose,
				.headless = o->headless,
				.no_submit = o->no_submit,
				.keep_open = o->keep_open,
				.screenshot = o->screenshot != NULL};

	return login_request(&ask);
}

/* The agent's PNG into the file the worker named. */
static int screenshot_write(const char *path, const char *b64)
{
	size_t cap = strlen(b64) / 4 * 3 + 3, len = 0;
	unsigned char *png = malloc(cap);
	int fd = -1, ret = -1;

	if (png == NULL || sodium_base642bin(png, cap, b64, strlen(b64), NULL, &len, NULL,
					     sodium_base64_VARIANT_ORIGINAL) != 0)
		goto out;
	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600)) < 0)
		goto out;
	if (fileio_write_all(fd, png, len) != VAULT_OK)
		goto out;
	ret = fsync(fd);
out:
	if (fd >= 0)
		close(fd);
	free(png);
	return ret;
}

/* What the worker should do now, for each reason the agent gives. */
static const char *advice(const char *reason)
{
	static const struct {
		const char *reason, *text;
	} table[] = {
	    {"origin", N_("the page is not on the site recorded for this service: nothing was "
			  "filled.\nCheck the address with the person before going on.")},
	    {"foreign_frame",
	     N_("the login page holds a frame of another site, which could catch what is "
		"typed:\nnothing was filled. Fill it in by hand with the person.")},
	    {"new_target", N_("a new tab, window or developer tool opened while the password was "
			      "in the page:\nthe browser was closed and this was recorded.")},
	    {"no_fields",
	     N_("no login form was found on the page: nothing was filled.\nIf the form appears "
		"after a click, record that click with the person\n(sesame add --replace "
		"--before-click CSS); otherwise fill it in by hand.")},
	    {"field_hidden",
	     N_("the login fields are in the page but hidden: a step must show them "
		"first.\nRecord that click with the person (sesame add --replace --before-click "
		"CSS),\nor fill it in by hand.")},
	    {"page_inert",
	     N_("a window covers the login page (consent, information): nothing was "
		"filled.\nClose the window that covers the page, then try again; or record the "
		"click\nthat closes it (sesame add --replace --before-click CSS).")},
	    {"keypad_unsupported",
	     N_("the page asks for the code on a keypad of digits, and the recorded password is "
		"not\nmade of digits: nothing was filled. Fill it in by hand with the person.")},
	    {"step_missing",
	     N_("a click recorded for this service (--before-click) found nothing to click: the "
		"page\nhas changed. Fill it in by hand with the person, then correct the steps\n"
		"(sesame add --replace).")},
	    {"not_filled", N_("the login page has changed: fill it in by hand with the person.")},
	    {"not_submitted",
	     N_("the page was filled but did not send the login: nothing was sent, and the "
		"fields\nwere emptied. Fill it in by hand with the person, or record the page's "
		"send button\n(sesame add --replace --submit-selector CSS).")},
	    {"selectors", N_("the login page has changed and its recorded field selectors find "
			     "nothing:\nfill it in by hand with the person, then correct them "
			     "(sesame add --replace).")},
	    {"insecure_url",
	     N_("the recorded login address is not https: Sesame does not fill "
		"it.\nCorrect the address with the person (sesame add --replace).")},
	    {"unreachable", N_("the login page could not be opened: check the network and the "
			       "recorded address.")},
	    {"timeout", N_("the browser did not answer in time: nothing more was filled.")},
	    {"browser", N_("the browser closed or stopped answering: nothing more was filled.")},
	    {"browser_flags", N_("sesame.conf asks for a browser flag that Sesame refuses: ask "
				 "the administrator\nto remove it (the message below names it).")},
	    {"browser_unavailable",
	     N_("the browser could not be started: ask the administrator to check the "
		"browser\nsetting of sesame.conf (the message below says why).")},
	    {"session_closed", N_("the session ended during the login: unlock again with the "
				  "person.")},
	    {"interrupted", N_("the login was interrupted: nothing was sent.")},
	};

	for (size_t i = 0; reason != NULL && i < sizeof(table) / sizeof(table[0]); i++)
		if (strcmp(reason, table[i].reason) == 0)
			return _(table[i].text);
	return _("the login could not be completed: fill it in by hand with the person.");
}

/* The agent's details are in English: shown as they are only to a person who reads the
 * messages in English (gettext returns the very msgid it was given when nothing translates). */
static void say_detail(const char *detail)
{
	const char *label = N_("the agent says:");

	if (detail == NULL)
		return;
	if (_(label) == label)
		fprintf(stderr, "%s %s\n", label, detail);
	else
		fputs(_("The agent's log, and sesame login --json, give the details.\n"), stderr);
}

static int report(const struct login_opts *o, cJSON *reply)
{
	struct login_outcome out;
	const char *png;
	int ok;

	login_outcome_read(reply, &out);
	ok = out.ok, png = out.screenshot_png;
	if (!ok && out.code == PROTO_E_REQUEST && o->no_submit && !o->json) {
		cli_error(_("--no-submit is not offered in system mode: the password would stay in "
			    "a page\nthat you could use. Leave it out."));
		return cli_exit_for((int)out.code);
	}
	if (!ok && out.code != PROTO_E_LOGIN)
		return client_failed(reply, o->json);
	if (ok && o->screenshot != NULL && png != NULL && screenshot_write(o->screenshot, png)) {
		cli_error(_("cannot write the screenshot %s: %s"), o->screenshot, strerror(errno));
		return EXIT_FAIL;
	}
	cJSON_DeleteItemFromObjectCaseSensitive(reply, "screenshot_png"); /* in the file */
	if (o->json) {
		cli_json_print(cJSON_Duplicate(reply, 1));
	} else if (ok) {
		printf(out.submitted ? _("The login page of %s was filled in and sent.\n")
				     : _("The login page of %s was filled in (not sent).\n"),
		       o->service);
		if (o->screenshot != NULL && png != NULL)
			printf(_("Screenshot: %s\n"), o->screenshot);
		if (o->keep_open)
			printf(_("The browser stays open until the session ends (sesame lock).\n"));
	} else {
		cli_error("%s", advice(out.reason));
		say_detail(out.detail); /* the agent's words: never a secret */
	}
	return ok ? EXIT_OK : EXIT_FAIL;
}

static int parse_opts(int argc, char **argv, struct login_opts *o)
{
	static const struct option opts[] = {{"headless", no_argument, NULL, 'H'},
					     {"purpose", required_argument, NULL, 'u'},
					     {"no-submit", no_argument, NULL, 'n'},
					     {"keep-open", no_argument, NULL, 'k'},
					     {"screenshot", required_argument, NULL, 's'},
					     {"pin-fd", required_argument, NULL, 'p'},
					     {"json", no_argument, NULL, 'j'},
					     {"help", no_argument, NULL, 'h'},
					     {0}};
	int opt;

	memset(o, 0, sizeof(*o));
	o->pin_fd = -1;
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (opt == 'p' && cli_fd_arg(optarg, &o->pin_fd) == 0)
			continue;
		if (opt == 'H')
			o->headless = 1;
		else if (opt == 'u')
			o->purpose = optarg;
		else if (opt == 'n')
			o->no_submit = 1;
		else if (opt == 'k')
			o->keep_open = 1;
		else if (opt == 's')
			o->screenshot = optarg;
		else if (opt == 'j')
			o->json = 1;
		else
			return opt == 'h' ? 1 : -1;
	}
	if (optind + 2 != argc)
		return -1;
	o->user = argv[optind];
	o->service = argv[optind + 1];
	if (getenv("DISPLAY") == NULL) /* Wayland desktops: through XWayland's DISPLAY */
		o->headless = 1;
	if (!o->headless) /* with a display, the browser is the worker's for the procedure */
		o->keep_open = 1;
	return 0;
}

int cmd_login(int argc, char **argv)
{
	struct login_opts o;
	struct sesame_home h;
	cJSON *reply = NULL;
	int ret, open_session;

	if ((ret = parse_opts(argc, argv, &o)) != 0)
		return usage(ret > 0 ? stdout : stderr);
	if (cli_home(&h) != 0)
		return EXIT_FAIL;
	if ((open_session = has_session(&h, o.user)) < 0)
		return EXIT_AGENT;
	if (!open_session &&
	    (ret = cli_unlock(&h, o.user, o.pin_fd, o.purpose, o.json, !o.json)) != EXIT_OK)
		return ret; /* no PIN, no browser */
	cli_progress(_("Starting the browser and filling the page…"), o.json);
	ret = client_call(&h, request(&o), &reply); /* client_reply_wait: a login's bound */
	cli_progress_done();
	if (ret != 0)
		return EXIT_AGENT;
	ret = report(&o, reply);
	cJSON_Delete(reply);
	return ret;
}
