/* A test harness that writes audit logs directly through the library, so the auditor's commands
 * (sesame audit) can be tested on logs of known content: init a log, append a record. */
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "audit.h"
#include "error.h"

#define EXIT_DONE 0
#define EXIT_FAILED 1
#define EXIT_USAGE 64

static void usage(FILE *to)
{
	fputs(
	    "usage: audit-writer DIR init --installation ID --sealing-key-fd N\n"
	    "       audit-writer DIR append --event E --sealing-key-fd N [--user U] [--service S]\n"
	    "            [--credential C] [--purpose P] [--outcome O] [--reason R]\n"
	    "            [--attempts-left N] [--consent-until YYYY-MM-DD] [--time T] [--worker-uid "
	    "N --worker-login L]\n",
	    to);
}

static int fail(int code, const char *what)
{
	fprintf(stderr, "audit-writer: %s: %s\n", what, vault_strerror(code));
	return EXIT_FAILED;
}

static int print_file(const char *dir, const char *name)
{
	char path[PATH_MAX], buf[4096];
	size_t n;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((f = fopen(path, "rb")) == NULL)
		return EXIT_FAILED;
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		fwrite(buf, 1, n, stdout);
	fclose(f);
	return EXIT_DONE;
}

static int read_sealing_key(const char *fdarg, uint8_t key[AUDIT_SEALING_KEY_LEN])
{
	char hex[2 * AUDIT_SEALING_KEY_LEN + 2];
	size_t got = 0, binlen = 0;
	int fd = fdarg ? (int)strtol(fdarg, NULL, 10) : -1;
	ssize_t n;

	if (fd < 0)
		return VAULT_E_INVAL;
	while (got < sizeof(hex) && (n = read(fd, hex + got, sizeof(hex) - got)) > 0)
		got += (size_t)n;
	while (got > 0 && (hex[got - 1] == '\n' || hex[got - 1] == '\r'))
		got--;
	if (got != 2 * AUDIT_SEALING_KEY_LEN ||
	    sodium_hex2bin(key, AUDIT_SEALING_KEY_LEN, hex, got, NULL, &binlen, NULL) != 0 ||
	    binlen != AUDIT_SEALING_KEY_LEN) {
		sodium_memzero(hex, sizeof(hex));
		return VAULT_E_INVAL;
	}
	sodium_memzero(hex, sizeof(hex));
	return VAULT_OK;
}

static int cmd_init(const char *dir, int argc, char **argv)
{
	static const struct option opts[] = {{"installation", required_argument, NULL, 'i'},
					     {"sealing-key-fd", required_argument, NULL, 'k'},
					     {NULL, 0, NULL, 0}};
	const char *inst = NULL, *kfd = NULL;
	uint8_t key[AUDIT_SEALING_KEY_LEN];
	int c, ret;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'i')
			inst = optarg;
		else if (c == 'k')
			kfd = optarg;
		else
			return EXIT_USAGE;
	}
	if (inst == NULL || read_sealing_key(kfd, key) != VAULT_OK) {
		usage(stderr);
		return EXIT_USAGE;
	}
	ret = audit_init(dir, inst, key);
	sodium_memzero(key, sizeof(key));
	if (ret != VAULT_OK)
		return fail(ret, "init");
	return print_file(dir, AUDIT_PUB_NAME);
}

static int cmd_append(const char *dir, int argc, char **argv)
{
	static const struct option opts[] = {{"event", required_argument, NULL, 'e'},
					     {"user", required_argument, NULL, 'u'},
					     {"service", required_argument, NULL, 's'},
					     {"credential", required_argument, NULL, 'c'},
					     {"purpose", required_argument, NULL, 'p'},
					     {"outcome", required_argument, NULL, 'o'},
					     {"reason", required_argument, NULL, 'r'},
					     {"attempts-left", required_argument, NULL, 'a'},
					     {"consent-until", required_argument, NULL, 'C'},
					     {"sealing-key-fd", required_argument, NULL, 'k'},
					     {"time", required_argument, NULL, 't'},
					     {"worker-uid", required_argument, NULL, 'U'},
					     {"worker-login", required_argument, NULL, 'L'},
					     {NULL, 0, NULL, 0}};
	struct audit_event ev = {.outcome = "ok", .attempts_left = -1};
	const char *when = NULL, *login = NULL;
	long uid = -1;
	uint8_t key[AUDIT_SEALING_KEY_LEN];
	char now[AUDIT_TIME_LEN + 1], host[256];
	const char *kfd = NULL;
	struct passwd *pw;
	struct audit_log *log;
	uint64_t seq;
	int c, ret;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'e':
			ev.event = optarg;
			break;
		case 'u':
			ev.user = optarg;
			break;
		case 's':
			ev.service = optarg;
			break;
		case 'c':
			ev.credential = optarg;
			break;
		case 'p':
			ev.purpose = optarg;
			break;
		case 'o':
			ev.outcome = optarg;
			break;
		case 'r':
			ev.reason = optarg;
			break;
		case 'a':
			ev.attempts_left = (int)strtol(optarg, NULL, 10);
			break;
		case 'C':
			ev.consent_until = optarg;
			break;
		case 'k':
			kfd = optarg;
			break;
		case 't':
			when = optarg;
			break;
		case 'U':
			uid = strtol(optarg, NULL, 10);
			break;
		case 'L':
			login = optarg;
			break;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (ev.event == NULL || read_sealing_key(kfd, key) != VAULT_OK) {
		usage(stderr);
		return EXIT_USAGE;
	}
	/* The program, not the library, knows the clock, the worker and the host. */
	audit_time_format((int64_t)time(NULL), now);
	ev.time = when != NULL ? when : now;
	ev.worker_uid = uid >= 0 ? (uint32_t)uid : (uint32_t)getuid();
	pw = getpwuid(getuid());
	ev.worker_login = login != NULL ? login : pw != NULL ? pw->pw_name : "unknown";
	if (gethostname(host, sizeof(host)) != 0)
		snprintf(host, sizeof(host), "unknown");
	host[sizeof(host) - 1] = '\0';
	ev.host = host;
	ret = audit_open(dir, key, &ev, &log);
	sodium_memzero(key, sizeof(key));
	if (ret != VAULT_OK)
		return fail(ret, "open");
	ret = audit_append(log, &ev, &seq);
	audit_close(log);
	if (ret != VAULT_OK)
		return fail(ret, "append");
	printf("%llu\n", (unsigned long long)seq);
	return EXIT_DONE;
}

int main(int argc, char **argv)
{
	if (sodium_init() < 0)
		return EXIT_FAILED;
	if (argc < 3) {
		usage(stderr);
		return EXIT_USAGE;
	}
	optind = 1;
	if (strcmp(argv[2], "init") == 0)
		return cmd_init(argv[1], argc - 2, argv + 2);
	if (strcmp(argv[2], "append") == 0)
		return cmd_append(argv[1], argc - 2, argv + 2);
	usage(stderr);
	return EXIT_USAGE;
}
