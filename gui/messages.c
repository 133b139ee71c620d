/* Every refusal the application can meet, translated (docs/protocol.md, "Errors"): the codes
 * in common/errtext.c's words, but for those whose words name a command. */
#include <string.h>

#include <glib/gi18n.h>

#include "errtext.h"
#include "messages.h"
#include "proto.h"

/* The codes whose words in common/errtext.c name a command (sesame recover, sesame unlock,
 * sesame lock): the application says what to do on its own screens instead. */
static const struct {
	int code;
	const char *text;
} codes[] = {
    {VAULT_E_BLOCKED, N_("too many wrong PINs: the vault is blocked; the person's recovery "
			 "sheet opens it again")},
    {PROTO_E_NOSESSION, N_("the appointment has ended (time-out or end of appointment): ask "
			   "the person for their PIN again")},
    {PROTO_E_LIMIT, N_("this account already holds as many agent connections or assisted "
		       "logins as one worker may: end an appointment and try again")},
};

const char *gui_strerror(int code)
{
	for (size_t i = 0; i < G_N_ELEMENTS(codes); i++)
		if (codes[i].code == code)
			return _(codes[i].text);
	return sesame_strerror(code);
}

/* Refusals that carry a reason and the field naming the value (docs/protocol.md). */
static const struct {
	const char *reason, *field, *text;
} reasons[] = {
    {"user_unknown", "user", N_("no enrolled person is named \"%s\": check the spelling")},
    {"name_exists", "existing",
     N_("a person is already enrolled as \"%s\": if this is someone else, add what tells "
	"them apart (a middle name, an initial)")},
    {"service_exists", "existing",
     N_("a credential for \"%s\" is already recorded: remove it first to record it again")},
    {"service_unknown", "service", N_("no credential for \"%s\"")},
    {"url_malformed", "url",
     N_("\"%s\" is not a complete web address: write it in full, as "
	"https://www.example.fr/login")},
    {"url_scheme", "url",
     N_("\"%s\" is not the address of a web page: only https:// addresses can be recorded")},
    {"url_http", "url",
     N_("\"%s\" is not encrypted (http): only https:// addresses can be recorded")},
    {"url_http_disabled", "url",
     N_("\"%s\" uses http on this computer, which is allowed only with "
	"\"allow_http_loopback = yes\" in sesame.conf")},
    {"name_empty", NULL, N_("the name is empty: type the person's name")},
    {"name_too_long", NULL, N_("the name is too long: at most 128 bytes")},
    {"name_invalid", NULL, N_("the name holds invalid or control characters: type it again")},
    {"service_empty", NULL, N_("the service name is empty: give it a name, such as CAF")},
    {"service_too_long", NULL, N_("the service name is too long: at most 128 bytes")},
    {"service_invalid", NULL,
     N_("the service name holds invalid or control characters: type it again")},
    {"password_empty", NULL, N_("the password is empty: type it, or generate one")},
};

/* text with its one %s replaced by value: the texts come from the table through gettext, so
 * they are not format strings the compiler can check. */
static char *messages_put(const char *text, const char *value)
{
	const char *conv = strstr(text, "%s");

	if (conv == NULL)
		return g_strdup(text);
	return g_strdup_printf("%.*s%s%s", (int)(conv - text), text, value, conv + 2);
}

char *gui_reply_message(const cJSON *reply)
{
	const char *reason = proto_string(reply, "reason"), *value;
	long long code = VAULT_E_IO;

	for (size_t i = 0; reason != NULL && i < G_N_ELEMENTS(reasons); i++) {
		if (strcmp(reason, reasons[i].reason) != 0)
			continue;
		if (reasons[i].field == NULL)
			return g_strdup(_(reasons[i].text));
		if ((value = proto_string(reply, reasons[i].field)) != NULL)
			return messages_put(_(reasons[i].text), value);
	}
	proto_int(reply, "code", &code);
	if (code == PROTO_E_LOGIN)
		return g_strdup(gui_login_advice(reason));
	if (proto_string(reply, "path") != NULL)
		return g_strdup_printf("%s: %s", proto_string(reply, "path"),
				       gui_strerror((int)code));
	return g_strdup(gui_strerror((int)code));
}

/* The command's advice names its options (--before-click …); these say it for the screen. */
static const struct {
	const char *reason, *text;
} advice[] = {
    {"origin", N_("The page is not on the site recorded for this service: nothing was filled. "
		  "Check the address with the person before going on.")},
    {"foreign_frame", N_("The login page holds a frame of another site, which could catch what "
			 "is typed: nothing was filled. Fill it in by hand with the person.")},
    {"new_target", N_("A new tab, window or developer tool opened while the password was in "
		      "the page: the browser was closed and this was recorded.")},
    {"no_fields", N_("No login form was found on the page: nothing was filled. Fill it in by "
		     "hand with the person.")},
    {"field_hidden", N_("The login fields are in the page but hidden: a step must show them "
			"first. Fill it in by hand with the person.")},
    {"page_inert", N_("A window covers the login page (consent, information): nothing was "
		      "filled. Close it, then try again.")},
    {"keypad_unsupported",
     N_("The page asks for the code on a keypad of digits, and the recorded password is not "
	"made of digits: nothing was filled. Fill it in by hand with the person.")},
    {"step_missing", N_("A click recorded for this service found nothing to click: the page has "
			"changed. Fill it in by hand with the person.")},
    {"not_filled", N_("The login page has changed: fill it in by hand with the person.")},
    {"not_submitted", N_("The page was filled but did not send the login: nothing was sent, "
			 "and the fields were emptied. Fill it in by hand with the person.")},
    {"selectors", N_("The login page has changed and its recorded field selectors find "
		     "nothing: fill it in by hand with the person.")},
    {"insecure_url", N_("The recorded login address is not https: Sesame does not fill it. "
			"Record the service again with its https address.")},
    {"unreachable", N_("The login page could not be opened: check the network and the recorded "
		       "address.")},
    {"timeout", N_("The browser did not answer in time: nothing more was filled.")},
    {"browser", N_("The browser closed or stopped answering: nothing more was filled.")},
    {"browser_flags", N_("sesame.conf asks for a browser flag that Sesame refuses: ask the "
			 "administrator to remove it.")},
    {"browser_unavailable", N_("The browser could not be started: ask the administrator to "
			       "check the browser setting of sesame.conf.")},
    {"session_closed", N_("The appointment ended during the login: ask the person for their "
			  "PIN again.")},
    {"interrupted", N_("The login was interrupted: nothing was sent.")},
    {"agent_stopping", N_("The agent is stopping: nothing more was filled. Try again.")},
    {"consent", N_("The person has not allowed assisted logins for this service, or their "
		   "consent has expired.")},
};

const char *gui_login_advice(const char *reason)
{
	for (size_t i = 0; reason != NULL && i < G_N_ELEMENTS(advice); i++)
		if (strcmp(reason, advice[i].reason) == 0)
			return _(advice[i].text);
	return _("The login could not be completed: fill it in by hand with the person.");
}
