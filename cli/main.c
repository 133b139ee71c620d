/* sesame: the table of commands and the dispatch, in the manner of wg(8). */
#include <locale.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "build-config.h"
#include "cli.h"
#include "proto.h"

static const struct {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *help;
} commands[] = {
    {"init", cmd_init, N_("create the installation: data directory, device secret, audit log")},
    {"enroll", cmd_enroll, N_("enrol a person: their PIN, their vault, their recovery sheet")},
    {"add", cmd_add, N_("record a credential for a person (session required)")},
    {"unlock", cmd_unlock, N_("open a session with the person's PIN")},
    {"list", cmd_list, N_("list people, or a person's services (never passwords)")},
    {"lock", cmd_lock, N_("end sessions: the keys are wiped from memory")},
    {"status", cmd_status, N_("show the agent and the open sessions")},
    {"pin", cmd_pin, N_("change a person's PIN")},
    {"recover", cmd_recover, N_("unblock a vault with the recovery sheet and set a new PIN")},
    {"remove", cmd_remove, N_("remove a credential (session required)")},
    {"revoke", cmd_revoke, N_("withdrawal: destroy the person's vault (session required)")},
    {"audit", cmd_audit, N_("verify, show, export and prove the audit log")},
    {"history", cmd_history, N_("the person's own history: who used their vault, when, why")},
    {"login", cmd_login, N_("assisted login: the agent fills the service's page in a browser")},
    {"export", cmd_export, N_("the person takes their logins away: KeePass file or CSV")},
    {"import", cmd_import, N_("bring a spreadsheet's logins into a vault (session required)")},
    {"consent", cmd_consent, N_("the consent page to read to the person and print")},
};

static int usage(FILE *out)
{
	fprintf(out, _("Usage: %s COMMAND [OPTIONS]\n\nCommands:\n"), cli_program());
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(out, "  %-8s %s\n", commands[i].name, _(commands[i].help));
	fprintf(out, _("\nEvery command takes --help and --json. SESAME_HOME selects the data "
		       "directory,\nSESAME_AGENT_SOCK the agent's socket.\n"));
	return out == stdout ? EXIT_OK : EXIT_USAGE;
}

static void i18n_init(void)
{
	const char *dir = getenv("SESAME_LOCALEDIR");

	setlocale(LC_ALL, "");
	bindtextdomain("sesame", dir != NULL && dir[0] == '/' ? dir : LOCALEDIR);
	bind_textdomain_codeset("sesame", "UTF-8");
	textdomain("sesame");
}

int main(int argc, char **argv)
{
	i18n_init();
	if (sodium_init() < 0)
		return EXIT_FAIL;
	proto_init();
	if (argc < 2)
		return usage(stderr);
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0)
		return usage(stdout);
	if (strcmp(argv[1], "--version") == 0)
		return printf("sesame %s\n", SESAME_VERSION) < 0 ? EXIT_FAIL : EXIT_OK;
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(argv[1], commands[i].name) == 0)
			return commands[i].fn(argc - 1, argv + 1);
	cli_error(_("unknown command \"%s\""), argv[1]);
	return usage(stderr);
}
