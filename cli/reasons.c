/* The agent's refusals in the person's words. The agent answers with a code, a reason and the
 * fields that say what was wrong (docs/protocol.md); its "error" text is English for logs and
 * other clients, so the command never shows it: it says the thing and the remedy itself. */
#include <string.h>

#include "cli.h"

/* Messages that name one value from the reply: the field "arg" goes into the %s. */
static const struct {
	const char *reason, *arg, *text;
} named[] = {
    {"user_unknown", "user",
     N_("no enrolled person is named \"%s\": check the spelling (sesame list shows "
	"everyone)")},
    {"name_exists", "existing",
     N_("a person is already enrolled as \"%s\": if this is someone else, add what tells "
	"them apart (a middle name, an initial)")},
    {"service_exists", "existing",
     N_("a credential for \"%s\" is already recorded: to change it, add --replace")},
    {"service_unknown", "service",
     N_("no credential for \"%s\": sesame list PERSON shows the recorded services")},
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
};

/* Messages that give a limit: the reply's "max" goes into the %lld. */
static const struct {
	const char *reason, *text;
} limited[] = {
    {"name_too_long", N_("the name is too long: at most %lld bytes (an accented letter counts "
			 "as two)")},
    {"service_too_long", N_("the service name is too long: at most %lld bytes (an accented "
			    "letter counts as two)")},
};

static const struct {
	const char *reason, *text;
} plain[] = {
    {"name_empty", N_("the name is empty: type the person's name")},
    {"name_invalid", N_("the name holds invalid or control characters: type it again")},
    {"service_empty", N_("the service name is empty: give it a name, such as CAF")},
    {"service_invalid", N_("the service name holds invalid or control characters: type it again")},
    {"password_empty", N_("the password is empty: type it, or use --generate")},
    {"damaged_vaults",
     N_("enrolment refused: one of the vault files named above may be this person's, and a "
	"second vault would hide it for good; restore them, or enrol anyway with --force")},
};

/* text with its one conversion (%s or %lld) replaced by value: the texts come from the tables
 * above through gettext, so they are not format strings the compiler can check. */
static void put_value(char *out, size_t cap, const char *text, const char *value)
{
	const char *conv = strchr(text, '%');
	size_t skip = 0;

	if (conv != NULL)
		skip = strncmp(conv, "%lld", 4) == 0 ? 4 : strncmp(conv, "%s", 2) == 0 ? 2 : 0;
	if (skip == 0) {
		snprintf(out, cap, "%s", text);
		return;
	}
	snprintf(out, cap, "%.*s%s%s", (int)(conv - text), text, value, conv + skip);
}

int cli_reply_message(const cJSON *reply, char *out, size_t cap)
{
	const char *reason = proto_string(reply, "reason"), *arg;
	char number[24];
	long long max = 0;

	if (reason == NULL)
		return -1;
	for (size_t i = 0; i < sizeof(named) / sizeof(named[0]); i++)
		if (strcmp(reason, named[i].reason) == 0 &&
		    (arg = proto_string(reply, named[i].arg)) != NULL) {
			put_value(out, cap, _(named[i].text), arg);
			return 0;
		}
	for (size_t i = 0; i < sizeof(limited) / sizeof(limited[0]); i++)
		if (strcmp(reason, limited[i].reason) == 0 && proto_int(reply, "max", &max) == 0) {
			snprintf(number, sizeof(number), "%lld", max);
			put_value(out, cap, _(limited[i].text), number);
			return 0;
		}
	for (size_t i = 0; i < sizeof(plain) / sizeof(plain[0]); i++)
		if (strcmp(reason, plain[i].reason) == 0) {
			snprintf(out, cap, "%s", _(plain[i].text));
			return 0;
		}
	return -1;
}

/* One damaged vault file: which, why, and what to do. */
static void damaged_one(const cJSON *d)
{
	const char *file = proto_string(d, "file");
	long long code = VAULT_E_IO;

	if (file == NULL)
		return;
	proto_int(d, "code", &code);
	if (code == VAULT_E_EXISTS)
		cli_error(
		    _("the vault file %s holds the name of another enrolled person, so it is "
		      "not listed: if it is a stray copy, move it out of the vaults directory"),
		    file);
	else
		cli_error(
		    _("the vault file %s cannot be read (%s), so its person is not listed: "
		      "restore it from a backup; if it cannot be restored, move it out of the "
		      "vaults directory and enrol the person again"),
		    file, cli_strerror((int)code));
}

long long cli_damaged_report(const cJSON *reply)
{
	const cJSON *d, *list = cJSON_GetObjectItemCaseSensitive(reply, "damaged");
	long long n = 0, shown = 0;

	proto_int(reply, "unreadable", &n);
	cJSON_ArrayForEach(d, list)
	{
		damaged_one(d);
		shown++;
	}
	if (n > shown)
		cli_error(ngettext("and %lld more vault file cannot be read",
				   "and %lld more vault files cannot be read",
				   (unsigned long)(n - shown)),
			  n - shown);
	return n;
}

/* What a key takes, in words, for a refusal of its value. */
static void config_allowed(const struct sesame_config *cfg, char *out, size_t cap)
{
	switch (cfg->problem_kind) {
	case CONFIG_KIND_NUMBER:
		snprintf(out, cap, _("a whole number from %lu to %lu"), cfg->problem_min,
			 cfg->problem_max);
		break;
	case CONFIG_KIND_BOOL:
		snprintf(out, cap, "%s", _("yes or no (oui or non)"));
		break;
	case CONFIG_KIND_PATH:
		snprintf(out, cap, "%s", _("an absolute path, starting with /"));
		break;
	case CONFIG_KIND_NAME:
		snprintf(out, cap, "%s",
			 _("an account or group name: letters, digits, _ - and ., not starting "
			   "with -"));
		break;
	case CONFIG_KIND_BACKEND:
		snprintf(out, cap, "%s", _("auto, secret-service or file"));
		break;
	case CONFIG_KIND_HOURS:
		snprintf(out, cap, "%s",
			 _("opening hours: optional days, then times, such as mon-fri "
			   "08:30-18:00 or 08:00-20:00"));
		break;
	default:
		snprintf(out, cap, _("text of at most %lu bytes"), cfg->problem_max);
		break;
	}
}

void cli_config_error(const struct sesame_home *h, int code)
{
	const struct sesame_config *cfg = &h->cfg;
	char allowed[256];

	switch (cfg->line > 0 ? cfg->problem : CONFIG_PROBLEM_NONE) {
	case CONFIG_PROBLEM_KEY:
		if (cfg->suggestion != NULL)
			cli_error(_("%s, line %u: unknown setting \"%s\": did you mean \"%s\"?"),
				  h->config_path, cfg->line, cfg->problem_key, cfg->suggestion);
		else
			cli_error(_("%s, line %u: unknown setting \"%s\" (the settings are listed "
				    "in man sesame-agent)"),
				  h->config_path, cfg->line, cfg->problem_key);
		break;
	case CONFIG_PROBLEM_VALUE:
		config_allowed(cfg, allowed, sizeof(allowed));
		cli_error(_("%s, line %u: wrong value for \"%s\": it takes %s"), h->config_path,
			  cfg->line, cfg->problem_key, allowed);
		break;
	case CONFIG_PROBLEM_SYNTAX:
		cli_error(_("%s, line %u: write one setting per line, as \"key = value\""),
			  h->config_path, cfg->line);
		break;
	default:
		if (cfg->line > 0)
			cli_error(_("%s, line %u: %s"), h->config_path, cfg->line,
				  cli_strerror(code));
		else
			cli_error(_("%s: %s"), h->config_path, cli_strerror(code));
	}
}
