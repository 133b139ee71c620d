/* sesame lock [USER] [--receipt FILE.html]: end this worker's sessions (all, or the person's);
 * keys are wiped. With --receipt, the person takes away what was done in their session, each
 * entry with its verification code (receipt.c). */
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "receipt.h"

static int usage(FILE *out)
{
	fprintf(out,
		_("Usage: sesame lock [USER [--receipt FILE.html]] [--json]\n"
		  "End your sessions (all of them, or only the person's): their keys are wiped "
		  "from memory.\n"
		  "--receipt writes the person's appointment receipt: what was done, with a "
		  "verification code for each entry.\n"));
	return out == stdout ? EXIT_OK : EXIT_USAGE;
}

static void show(const cJSON *reply, void *ctx)
{
	long long closed = 0;

	(void)ctx;
	proto_int(reply, "closed", &closed);
	printf(_("%lld session(s) closed.\n"), closed);
}

/* --receipt FILE taken out of argv (argc updated), for the common options to parse the rest. */
static const char *take_receipt(int *argc, char **argv)
{
	const char *path = NULL;
	int out = 0;

	for (int i = 0; i < *argc; i++) {
		if (strcmp(argv[i], "--receipt") == 0 && i + 1 < *argc) {
			path = argv[++i];
			continue;
		}
		argv[out++] = argv[i];
	}
	*argc = out;
	return path;
}

/* The lock happens whatever becomes of the receipt: ending the session is what protects the
 * person; a receipt that cannot be written is said, and the exit is 1. */
static int lock_with_receipt(const struct sesame_home *h, const char *user, const char *path,
			     int json)
{
	int fd = cli_receipt_open(path), ret;
	cJSON *req = cJSON_CreateObject(), *reply = NULL;
	long long closed = 0;

	cJSON_AddStringToObject(req, "op", "lock");
	cJSON_AddStringToObject(req, "user", user);
	cJSON_AddBoolToObject(req, "receipt", fd >= 0);
	if (client_call(h, req, &reply) != 0) {
		if (fd >= 0) {
			close(fd);
			unlink(path);
		}
		return EXIT_AGENT;
	}
	if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(reply, "ok"))) {
		ret = client_failed(reply, json);
		goto drop;
	}
	proto_int(reply, "closed", &closed);
	if (json)
		cli_json_print(cJSON_Duplicate(reply, 1));
	else
		show(reply, NULL);
	if (fd < 0) {
		ret = EXIT_FAIL; /* closed, and the receipt's failure said before */
	} else if (closed == 0) {
		cli_error(_("no session was open with %s: no receipt written"), user);
		ret = EXIT_NOSESSION;
		goto drop;
	} else if (cli_receipt_write(fd, reply) != 0) {
		cli_error(_("cannot write the receipt %s; the session is closed"), path);
		unlink(path);
		ret = EXIT_FAIL;
	} else {
		if (!json)
			printf(_("Receipt written to %s: give it to the person.\n"), path);
		ret = EXIT_OK;
	}
	cJSON_Delete(reply);
	return ret;
drop:
	if (fd >= 0) {
		close(fd);
		unlink(path);
	}
	cJSON_Delete(reply);
	return ret;
}

int cmd_lock(int argc, char **argv)
{
	struct cli_common opts;
	struct sesame_home h;
	const char *receipt = take_receipt(&argc, argv);
	enum cli_parsed parsed = cli_common_parse(argc, argv, CLI_OPT_JSON, &opts);
	cJSON *req;

	if (parsed != CLI_PARSED_OK || argc - optind > 1 || (receipt != NULL && argc - optind != 1))
		return usage(parsed == CLI_PARSED_HELP ? stdout : stderr);
	if (cli_home(&h) != 0)
		return EXIT_FAIL;
	if (receipt != NULL)
		return lock_with_receipt(&h, argv[optind], receipt, opts.json);
	req = cJSON_CreateObject();
	cJSON_AddStringToObject(req, "op", "lock");
	if (optind < argc)
		cJSON_AddStringToObject(req, "user", argv[optind]);
	return cli_run(&h, req, opts.json, show, NULL);
}
