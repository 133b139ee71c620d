/* sesame audit: the auditor's commands over the audit log. Exit codes (sesame(1)): 0 intact or
 * done, 10 tampered, 11 cannot read, 2 usage. They work on the installation's log or, with
 * --dir, on a copy the auditor took away. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <sodium.h>

#include "audit.h"
#include "cli.h"
#include "error.h"

#define EXIT_INTACT EXIT_OK
#define FILE_MAX 65536

static const char *dir_opt;
static int json_opt;

static void usage(FILE *to)
{
	fputs(_("Usage: sesame audit [--dir DIR] COMMAND [options]\n"
		"  verify [--checkpoint FILE] [--key KEY|FILE] [--json]\n"
		"  show [--user U] [--worker W] [--event E] [--since T] [--until T] [--json]\n"
		"  export --format csv|jsonl\n"
		"  checkpoint                   print the current signed checkpoint\n"
		"  key                          print the log's verifier key\n"
		"  prove SEQ                    print a receipt (c2sp.org/tlog-proof) for record "
		"SEQ\n"
		"  check-receipt FILE [--key KEY|FILE]\n"
		"  consistency OLD [NEW]        consistency proof between two tree sizes\n"
		"The log directory is --dir, else the installation's ($SESAME_HOME/audit).\n"
		"Exit codes: 0 intact, 10 tampered, 11 cannot read, 2 usage.\n"),
	      to);
}

static int exit_for(int code)
{
	if (code == VAULT_OK)
		return EXIT_INTACT;
	return audit_verify_is_read_error(code) ? EXIT_UNREADABLE : EXIT_TAMPERED;
}

static int fail(int code, const char *what)
{
	fprintf(stderr, "sesame audit: %s: %s\n", what, cli_strerror(code));
	return exit_for(code);
}

static const char *log_dir(char buf[PATH_MAX])
{
	struct sesame_home h;

	if (dir_opt != NULL)
		return dir_opt;
	if (cli_home(&h) != 0)
		return NULL;
	snprintf(buf, PATH_MAX, "%s", h.audit);
	return buf;
}

/* Reads a small file into a malloc'd, NUL-terminated buffer. */
static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;

	if (f == NULL)
		return NULL;
	buf = malloc(FILE_MAX + 1);
	*len = buf ? fread(buf, 1, FILE_MAX + 1, f) : 0;
	fclose(f);
	if (buf == NULL || *len > FILE_MAX) {
		free(buf);
		return NULL;
	}
	buf[*len] = '\0';
	return buf;
}

/* A verifier key given as text, or as a file holding it. */
static int load_key(const char *arg, struct note_verifier *v)
{
	size_t len = strlen(arg);
	char *text;
	int ret;

	if (note_verifier_parse(arg, len, v) == VAULT_OK)
		return VAULT_OK;
	text = slurp(arg, &len);
	if (text == NULL)
		return VAULT_E_KEY;
	while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == '\r'))
		len--;
	ret = note_verifier_parse(text, len, v);
	free(text);
	return ret;
}

static int cmd_verify(const char *dir, int argc, char **argv)
{
	static const struct option opts[] = {{"checkpoint", required_argument, NULL, 'c'},
					     {"key", required_argument, NULL, 'k'},
					     {"json", no_argument, NULL, 'j'},
					     {NULL, 0, NULL, 0}};
	struct audit_verify_opts o = {0};
	struct audit_verify_report rep;
	struct note_verifier v;
	char *old = NULL, root[64];
	size_t oldlen = 0;
	int c, ret;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'c') {
			old = slurp(optarg, &oldlen);
			if (old == NULL)
				return fail(VAULT_E_IO, optarg);
		} else if (c == 'k') {
			if (load_key(optarg, &v) != VAULT_OK) {
				free(old);
				return fail(VAULT_E_KEY, "--key");
			}
			o.key = &v;
		} else if (c == 'j') {
			json_opt = 1;
		} else {
			free(old);
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	o.old_checkpoint = (const uint8_t *)old;
	o.old_len = oldlen;
	ret = audit_verify(dir, &o, &rep);
	free(old);
	sodium_bin2base64(root, sizeof(root), rep.root, sizeof(rep.root),
			  sodium_base64_VARIANT_ORIGINAL);
	if (json_opt) {
		cJSON *j = cJSON_CreateObject();
		cJSON_AddStringToObject(j, "result",
					ret == VAULT_OK			  ? "intact"
					: audit_verify_is_read_error(ret) ? "unreadable"
									  : "tampered");
		cJSON_AddNumberToObject(j, "code", ret);
		cJSON_AddNumberToObject(j, "line", (double)rep.line);
		cJSON_AddStringToObject(j, "what", rep.what);
		cJSON_AddNumberToObject(j, "records", (double)rep.records);
		cJSON_AddNumberToObject(j, "checkpoint_size", (double)rep.latest.size);
		if (rep.have_old)
			cJSON_AddNumberToObject(j, "kept_checkpoint_size", (double)rep.old.size);
		cJSON_AddNumberToObject(j, "uncovered", (double)rep.uncovered);
		if (ret == VAULT_OK)
			cJSON_AddStringToObject(j, "root", root);
		cli_json_print(j);
	} else if (ret == VAULT_OK) {
		printf(_("intact: %llu records, checkpoint %s size %llu, root %s\n"),
		       (unsigned long long)rep.records, rep.latest.origin,
		       (unsigned long long)rep.latest.size, root);
		if (rep.have_old)
			printf(_("consistent with the kept checkpoint of size %llu\n"),
			       (unsigned long long)rep.old.size);
		if (rep.uncovered)
			printf(
			    _("note: the last %llu records are not yet covered by a checkpoint\n"),
			    (unsigned long long)rep.uncovered);
		if (o.key == NULL)
			printf(_("note: checked with the log's own key; pass --key to check it "
				 "against the key you kept\n"));
	} else if (rep.line) {
		printf(_("%s: line %llu: %s\n"),
		       audit_verify_is_read_error(ret) ? _("cannot read") : _("TAMPERED"),
		       (unsigned long long)rep.line, rep.what);
	} else {
		printf("%s: %s\n",
		       audit_verify_is_read_error(ret) ? _("cannot read") : _("TAMPERED"),
		       rep.what);
	}
	return exit_for(ret);
}

struct show_ctx {
	int mode; /* 0 text, 1 jsonl, 2 csv */
};

static int show_cb(void *ctx, const struct audit_record *r, const uint8_t *line, size_t len)
{
	struct show_ctx *s = ctx;
	char csv[AUDIT_CSV_MAX];

	if (s->mode == 1) {
		fwrite(line, 1, len, stdout);
		putchar('\n');
	} else if (s->mode == 2) {
		if (audit_record_csv(r, csv, sizeof(csv)) == VAULT_OK)
			puts(csv);
	} else {
		printf("%6llu %s %-18s worker=%s(%u) host=%s", (unsigned long long)r->seq, r->time,
		       r->event, r->worker_login, (unsigned)r->worker_uid, r->host);
		if (r->user[0])
			printf(" user=%s", r->user);
		if (r->service[0])
			printf(" service=%s", r->service);
		if (r->credential[0])
			printf(" credential=%s", r->credential);
		printf(" outcome=%s", r->outcome);
		if (r->reason[0])
			printf(" reason=\"%s\"", r->reason);
		if (r->attempts_left >= 0)
			printf(" attempts_left=%d", r->attempts_left);
		if (r->purpose[0])
			printf(" purpose=\"%s\"", r->purpose);
		putchar('\n');
	}
	return ferror(stdout) ? 1 : 0;
}

static int cmd_show(const char *dir, int argc, char **argv, int export)
{
	static const struct option opts[] = {
	    {"user", required_argument, NULL, 'u'},   {"worker", required_argument, NULL, 'w'},
	    {"event", required_argument, NULL, 'e'},  {"since", required_argument, NULL, 's'},
	    {"until", required_argument, NULL, 't'},  {"json", no_argument, NULL, 'j'},
	    {"format", required_argument, NULL, 'f'}, {NULL, 0, NULL, 0}};
	struct audit_filter f = {0};
	struct show_ctx s = {0};
	int c, ret;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'u':
			f.user = optarg;
			break;
		case 'w':
			f.worker = optarg;
			break;
		case 'e':
			f.event = optarg;
			break;
		case 's':
			f.since = optarg;
			break;
		case 't':
			f.until = optarg;
			break;
		case 'j':
			s.mode = 1;
			break;
		case 'f':
			if (strcmp(optarg, "csv") == 0)
				s.mode = 2;
			else if (strcmp(optarg, "jsonl") == 0)
				s.mode = 1;
			else {
				usage(stderr);
				return EXIT_USAGE;
			}
			break;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (export && s.mode == 0) {
		fputs(_("sesame audit: export needs --format csv|jsonl\n"), stderr);
		return EXIT_USAGE;
	}
	if (s.mode == 2)
		puts(AUDIT_CSV_HEADER);
	ret = audit_scan(dir, &f, show_cb, &s);
	if (ret == VAULT_E_LOG_TORN) {
		fputs(_("sesame audit: warning: the log ends in an incomplete line\n"), stderr);
		ret = VAULT_OK;
	}
	if (fflush(stdout) != 0)
		ret = VAULT_E_IO;
	return ret == VAULT_OK ? EXIT_INTACT : fail(ret, "show");
}

static int print_file(const char *dir, const char *name)
{
	char path[PATH_MAX];
	size_t len;
	char *text;

	if (snprintf(path, sizeof(path), "%s/%s", dir, name) >= (int)sizeof(path))
		return fail(VAULT_E_INVAL, dir);
	text = slurp(path, &len);
	if (text == NULL)
		return fail(errno == ENOENT ? VAULT_E_NOTFOUND : VAULT_E_IO, name);
	fwrite(text, 1, len, stdout);
	free(text);
	return EXIT_INTACT;
}

static int cmd_checkpoint(const char *dir)
{
	struct note_verifier v;
	struct checkpoint cp;
	char path[PATH_MAX];
	size_t len;
	char *text;
	int ret = audit_key_read(dir, &v);

	if (ret != VAULT_OK)
		return fail(ret, "verifier key");
	if (snprintf(path, sizeof(path), "%s/%s", dir, AUDIT_CHECKPOINT_NAME) >= (int)sizeof(path))
		return fail(VAULT_E_INVAL, dir);
	text = slurp(path, &len);
	if (text == NULL)
		return fail(VAULT_E_CHECKPOINT, "checkpoint");
	ret = checkpoint_open((const uint8_t *)text, len, &v, v.name, &cp);
	if (ret == VAULT_OK)
		fwrite(text, 1, len, stdout);
	free(text);
	return ret == VAULT_OK ? EXIT_INTACT : fail(ret, "checkpoint");
}

static int parse_u64(const char *s, uint64_t *v)
{
	char *end;

	errno = 0;
	if (s == NULL || s[0] < '0' || s[0] > '9')
		return -1;
	*v = strtoull(s, &end, 10);
	return errno != 0 || *end != '\0' ? -1 : 0;
}

static int cmd_prove(const char *dir, int argc, char **argv)
{
	char *out;
	size_t len;
	uint64_t seq;
	int ret;

	if (argc != 2 || parse_u64(argv[1], &seq) != 0) {
		usage(stderr);
		return EXIT_USAGE;
	}
	out = malloc(AUDIT_PROOF_MAX);
	if (out == NULL)
		return fail(VAULT_E_NOMEM, "prove");
	ret = audit_prove(dir, seq, out, AUDIT_PROOF_MAX, &len);
	if (ret == VAULT_OK)
		fwrite(out, 1, len, stdout);
	free(out);
	return ret == VAULT_OK ? EXIT_INTACT : fail(ret, "prove");
}

static int cmd_check_receipt(const char *dir, int argc, char **argv)
{
	static const struct option opts[] = {{"key", required_argument, NULL, 'k'},
					     {NULL, 0, NULL, 0}};
	struct note_verifier v;
	int c, have_key = 0, ret;
	uint64_t idx;
	size_t len;
	char *text;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c != 'k' || load_key(optarg, &v) != VAULT_OK)
			return c == 'k' ? fail(VAULT_E_KEY, "--key") : EXIT_USAGE;
		have_key = 1;
	}
	if (optind != argc - 1) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (!have_key && (ret = audit_key_read(dir, &v)) != VAULT_OK)
		return fail(ret, "verifier key");
	text = slurp(argv[optind], &len);
	if (text == NULL)
		return fail(VAULT_E_IO, argv[optind]);
	ret = audit_receipt_verify((const uint8_t *)text, len, &v, &idx);
	free(text);
	if (ret != VAULT_OK)
		return fail(ret, "receipt");
	printf(_("receipt valid: record %llu is in the log signed by %s\n"),
	       (unsigned long long)idx, v.name);
	return EXIT_INTACT;
}

static int cmd_consistency(const char *dir, int argc, char **argv)
{
	char out[8192];
	uint64_t a, b = 0;
	size_t len;
	int ret;

	if (argc < 2 || argc > 3 || parse_u64(argv[1], &a) != 0 ||
	    (argc == 3 && parse_u64(argv[2], &b) != 0)) {
		usage(stderr);
		return EXIT_USAGE;
	}
	ret = audit_consistency(dir, a, b, out, sizeof(out), &len);
	if (ret == VAULT_OK)
		fwrite(out, 1, len, stdout);
	return ret == VAULT_OK ? EXIT_INTACT : fail(ret, "consistency");
}

int cmd_audit(int argc, char **argv)
{
	char buf[PATH_MAX];
	const char *dir, *cmd;
	int i = 1;

	dir_opt = NULL;
	if (i + 1 < argc && strcmp(argv[i], "--dir") == 0) {
		dir_opt = argv[i + 1];
		i += 2;
	}
	if (i >= argc || strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
		usage(i >= argc ? stderr : stdout);
		return i >= argc ? EXIT_USAGE : EXIT_INTACT;
	}
	if ((dir = log_dir(buf)) == NULL)
		return EXIT_USAGE;
	cmd = argv[i];
	argc -= i;
	argv += i;
	for (int k = 1; k < argc; k++)
		if (strcmp(argv[k], "--help") == 0 || strcmp(argv[k], "-h") == 0) {
			usage(stdout);
			return EXIT_OK;
		}
	optind = 1;
	if (strcmp(cmd, "verify") == 0)
		return cmd_verify(dir, argc, argv);
	if (strcmp(cmd, "show") == 0)
		return cmd_show(dir, argc, argv, 0);
	if (strcmp(cmd, "export") == 0)
		return cmd_show(dir, argc, argv, 1);
	if (strcmp(cmd, "checkpoint") == 0)
		return cmd_checkpoint(dir);
	if (strcmp(cmd, "key") == 0)
		return print_file(dir, AUDIT_PUB_NAME);
	if (strcmp(cmd, "prove") == 0)
		return cmd_prove(dir, argc, argv);
	if (strcmp(cmd, "check-receipt") == 0)
		return cmd_check_receipt(dir, argc, argv);
	if (strcmp(cmd, "consistency") == 0)
		return cmd_consistency(dir, argc, argv);
	usage(stderr);
	return EXIT_USAGE;
}
