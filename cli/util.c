#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "fileio.h"
#include "proto.h"

const char *cli_program(void)
{
	return "sesame";
}

/* A progress line on the terminal, erased when the wait ends or a message comes. */
static int progress_shown;

void cli_progress(const char *text, int json)
{
	if (json || !isatty(STDERR_FILENO))
		return;
	fprintf(stderr, "%s", text);
	fflush(stderr);
	progress_shown = 1;
}

void cli_progress_done(void)
{
	if (progress_shown)
		fputs("\r\033[K", stderr); /* back to the line's start, and clear it */
	progress_shown = 0;
}

void cli_unsafe(const char *path)
{
	cli_error(_("%s has unsafe permissions: it must belong to this account and be closed to "
		    "group and others (chmod 700 for a directory, chmod 600 for a file)"),
		  path);
}

void cli_error(const char *fmt, ...)
{
	va_list ap;

	cli_progress_done();
	fprintf(stderr, "%s: ", cli_program());
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int cli_fd_arg(const char *arg, int *fd)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(arg, &end, 10);
	if (errno != 0 || *end != '\0' || end == arg || v < 0 || v > 65535) {
		cli_error(_("not a file descriptor: %s"), arg);
		return -1;
	}
	*fd = (int)v;
	return 0;
}

/* In the order the commands have always listed them, so that getopt's messages stay the same. */
static const struct {
	unsigned option;
	struct option getopt;
} common_options[] = {
    {CLI_OPT_PIN_FD, {"pin-fd", required_argument, NULL, 'p'}},
    {CLI_OPT_SECRET_FD, {"secret-fd", required_argument, NULL, 'f'}},
    {CLI_OPT_PURPOSE, {"purpose", required_argument, NULL, 'u'}},
    {CLI_OPT_JSON, {"json", no_argument, NULL, 'j'}},
    {CLI_OPT_SEARCH, {"search", required_argument, NULL, 's'}},
    {CLI_OPT_SHEET, {"sheet", required_argument, NULL, 'S'}},
    {CLI_OPT_FORCE, {"force", no_argument, NULL, 'F'}},
    {CLI_OPT_CONSENT, {"consent", required_argument, NULL, 'c'}},
};

#define COMMON_OPTIONS_COUNT (sizeof(common_options) / sizeof(common_options[0]))

/* The getopt table of the accepted options, then --help and the terminator. */
static void common_options_table(unsigned accepted, struct option *table)
{
	size_t n = 0;

	for (size_t i = 0; i < COMMON_OPTIONS_COUNT; i++)
		if (accepted & common_options[i].option)
			table[n++] = common_options[i].getopt;
	table[n++] = (struct option){"help", no_argument, NULL, 'h'};
	table[n] = (struct option){0};
}

enum cli_parsed cli_common_parse(int argc, char **argv, unsigned accepted,
				 struct cli_common *common)
{
	struct option table[COMMON_OPTIONS_COUNT + 2];
	int opt;

	*common = (struct cli_common){.pin_fd = -1, .secret_fd = -1};
	common_options_table(accepted, table);
	while ((opt = getopt_long(argc, argv, "", table, NULL)) != -1) {
		switch (opt) {
		case 'j':
			common->json = 1;
			break;
		case 'u':
			common->purpose = optarg;
			break;
		case 's':
			common->search = optarg;
			break;
		case 'S':
			common->sheet = optarg;
			break;
		case 'F':
			common->force = 1;
			break;
		case 'c':
			common->consent = optarg;
			break;
		case 'p':
			if (cli_fd_arg(optarg, &common->pin_fd) != 0)
				return CLI_PARSED_BAD;
			break;
		case 'f':
			if (cli_fd_arg(optarg, &common->secret_fd) != 0)
				return CLI_PARSED_BAD;
			break;
		case 'h':
			return CLI_PARSED_HELP;
		default:
			return CLI_PARSED_BAD;
		}
	}
	return CLI_PARSED_OK;
}

int cli_home(struct sesame_home *home)
{
	return cli_home_mode(home, 0);
}

int cli_home_mode(struct sesame_home *home, int system)
{
	int ret = home_resolve(home, system);

	if (ret != VAULT_OK) {
		if (home->config_path[0] != '\0')
			cli_config_error(home, ret);
		else if (fileio_failed_name()[0] != '\0') /* the file it is about */
			cli_error("%s: %s", fileio_failed_name(), cli_strerror(ret));
		else
			cli_error("%s", cli_strerror(ret));
		return -1;
	}
	return 0;
}

/* The CLI's own words for every code, so that they are translated. */
static const struct {
	int code;
	const char *text;
} messages[] = {
    {VAULT_E_NOMEM, N_("out of memory")},
    {VAULT_E_IO, N_("a file could not be read or written")},
    {VAULT_E_INVAL, N_("invalid value")},
    {VAULT_E_FORMAT, N_("a file is damaged (malformed)")},
    {VAULT_E_VERSION, N_("a file was written by a newer version of Sesame")},
    {VAULT_E_TAMPERED, N_("a file was altered or belongs to another installation")},
    {VAULT_E_BADPIN, N_("wrong PIN")},
    {VAULT_E_BLOCKED, N_("too many wrong PINs: the vault is blocked; unblock it with the "
			 "recovery sheet (sesame recover)")},
    {VAULT_E_BADRECOVERY, N_("this recovery key does not open this vault")},
    {VAULT_E_CHECKSUM, N_("the recovery key was mistyped: check each group of four")},
    {VAULT_E_PIN_DIGITS, N_("the PIN must contain digits only")},
    {VAULT_E_PIN_LENGTH, N_("the PIN is too short or too long")},
    {VAULT_E_PIN_REPEATED, N_("the PIN repeats one digit: choose another")},
    {VAULT_E_PIN_SEQUENCE, N_("the PIN is a run of consecutive digits: choose another")},
    {VAULT_E_PIN_COMMON, N_("the PIN is too common: choose another")},
    {VAULT_E_NOTFOUND, N_("not found")},
    {VAULT_E_EXISTS, N_("already exists")},
    {VAULT_E_BUSY, N_("the vault is in use; try again")},
    {VAULT_E_TOOLONG, N_("a value is too long")},
    {VAULT_E_FULL, N_("this vault holds the maximum number of credentials")},
    {VAULT_E_NOSECRET, N_("the device secret is missing: was \"sesame init\" run?")},
    {VAULT_E_SECRET_SERVICE, N_("the Secret Service (keyring) does not answer")},
    {VAULT_E_CRYPTO, N_("a cryptographic operation failed")},
    {VAULT_E_NOTUTF8, N_("a value holds invalid characters")},
    {VAULT_E_PERM, N_("a file or directory has unsafe permissions")},
    {VAULT_E_LOG_SEQUENCE, N_("a record of the audit log is out of sequence")},
    {VAULT_E_LOG_RECORD, N_("a record of the audit log is malformed")},
    {VAULT_E_LOG_TORN, N_("the audit log ends in an incomplete record")},
    {VAULT_E_SIGNATURE, N_("a signature does not verify")},
    {VAULT_E_INCONSISTENT, N_("the audit log is not consistent with the kept checkpoint")},
    {VAULT_E_PROOF, N_("a proof does not verify")},
    {VAULT_E_KEY, N_("a key is malformed or unknown")},
    {VAULT_E_CHECKPOINT, N_("a checkpoint is malformed or from another log")},
    {VAULT_E_UNSYNCED, N_("the change was made and recorded, but the disk did not confirm it: "
			  "it may be lost if the computer stops now; check the disk, then check "
			  "the change is there")},
    {VAULT_E_CHANGING, N_("another PIN change or recovery of this person is under way: nothing "
			  "was changed; try again when it has ended")},
    {VAULT_E_ACCESS, N_("permission denied: this account may not open the file")},
    {VAULT_E_SYMLINK, N_("a symbolic link stands where a file must be: replace it with the file "
			 "itself")},
    {VAULT_E_FILETYPE, N_("not a regular file: a FIFO, a device or a directory stands in its "
			  "place; remove it")},
    {PROTO_E_NOSESSION, N_("no open session for this person: unlock first (sesame unlock)")},
    {PROTO_E_REQUEST, N_("malformed request")},
    {PROTO_E_UNKNOWN_OP, N_("the agent does not know this request")},
    {PROTO_E_AUDIT, N_("the audit log cannot be written: the action was refused")},
    {PROTO_E_BUSY, N_("the agent is busy (too many PIN checks or logins at once); try again")},
    {PROTO_E_TOOBIG, N_("the agent's reply would be too long: ask for fewer people or "
			"credentials at once")},
    {PROTO_E_CONSENT, N_("the person has not allowed assisted logins for this service")},
    {PROTO_E_LOGIN, N_("the login page could not be filled: fill it in by hand with the person")},
    {PROTO_E_LIMIT,
     N_("this account already holds as many agent connections or assisted logins "
	"as one worker may: end some (sesame lock closes kept browsers) and try again")},
};

const char *cli_strerror(int code)
{
	for (size_t i = 0; i < sizeof(messages) / sizeof(messages[0]); i++)
		if (messages[i].code == code)
			return _(messages[i].text);
	return _(vault_strerror(code));
}

int cli_exit_for(int code)
{
	switch (code) {
	case VAULT_OK:
		return EXIT_OK;
	case VAULT_E_BADPIN:
	case VAULT_E_BADRECOVERY:
	case VAULT_E_CHECKSUM:
		return EXIT_BADPIN;
	case VAULT_E_BLOCKED:
		return EXIT_BLOCKED;
	case PROTO_E_NOSESSION:
		return EXIT_NOSESSION;
	default:
		return EXIT_FAIL;
	}
}

void cli_json_print(cJSON *obj)
{
	char *text = cJSON_PrintUnformatted(obj);

	if (text != NULL) {
		puts(text);
		cJSON_free(text);
	}
	cJSON_Delete(obj);
}
