#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "errtext.h"
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

const char *cli_strerror(int code)
{
	return sesame_strerror(code);
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
