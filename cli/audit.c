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

#include "audit-filter.h"
#include "audit.h"
#include "cli.h"
#include "error.h"
#include "proto.h"
#include "report.h"
#include "text.h"
#include "words.h"

#define EXIT_INTACT EXIT_OK
#define FILE_MAX 65536

/* What a subcommand works on: the log directory, and its own arguments from its name on. */
struct subcmd_args {
	const char *dir;
	int argc;
	char **argv;
};

static int usage(FILE *to)
{
	fputs(_("Usage: sesame audit [--dir DIR] COMMAND [options]\n"
		"  verify [--checkpoint FILE] [--key KEY|FILE] [--json]\n"
		"  show [--user U] [--worker W] [--event E] [--since T] [--until T] [--json]\n"
		"       [--lang fr|en]               in plain words, with names and local times\n"
		"  mine [show's options]        your own records, through the agent (system mode)\n"
		"  report --html FILE [--since T] [--until T] [--lang fr|en] [--key KEY|FILE]\n"
		"       [--checkpoint FILE] [--no-names]  the auditor's report, a page to print\n"
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
	return to == stdout ? EXIT_OK : EXIT_USAGE;
}

static int exit_for_code(int code)
{
	if (code == VAULT_OK)
		return EXIT_INTACT;
	return audit_verify_is_read_error(code) ? EXIT_UNREADABLE : EXIT_TAMPERED;
}

static int report_failure(int code, const char *what)
{
	fprintf(stderr, "sesame audit: %s: %s\n", what, cli_strerror(code));
	return exit_for_code(code);
}

/* --dir, else the installation's log; NULL when the installation cannot be resolved. */
static const char *log_dir(const char *dir_opt, char buf[PATH_MAX])
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
char *cli_audit_read_file(const char *path, size_t *len)
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
int cli_audit_load_key(const char *arg, struct note_verifier *v)
{
	size_t len = strlen(arg);
	char *text;
	int ret;

	if (note_verifier_parse(arg, len, v) == VAULT_OK)
		return VAULT_OK;
	text = cli_audit_read_file(arg, &len);
	if (text == NULL)
		return VAULT_E_KEY;
	while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == '\r'))
		len--;
	ret = note_verifier_parse(text, len, v);
	free(text);
	return ret;
}

struct verify_options {
	char *checkpoint; /* the kept checkpoint, malloc'd; NULL without --checkpoint */
	size_t checkpoint_len;
	struct note_verifier key;
	int have_key;
	int json;
};

/* EXIT_OK, or the exit code of the first wrong option, already reported. */
static int verify_parse(int argc, char **argv, struct verify_options *vo)
{
	static const struct option opts[] = {{"checkpoint", required_argument, NULL, 'c'},
					     {"key", required_argument, NULL, 'k'},
					     {"json", no_argument, NULL, 'j'},
					     {NULL, 0, NULL, 0}};
	int opt;

	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (opt == 'c') {
			free(vo->checkpoint);
			vo->checkpoint = cli_audit_read_file(optarg, &vo->checkpoint_len);
			if (vo->checkpoint == NULL)
				return report_failure(VAULT_E_IO, optarg);
		} else if (opt == 'k') {
			if (cli_audit_load_key(optarg, &vo->key) != VAULT_OK)
				return report_failure(VAULT_E_KEY, "--key");
			vo->have_key = 1;
		} else if (opt == 'j') {
			vo->json = 1;
		} else {
			return usage(stderr);
		}
	}
	return EXIT_OK;
}

/* The kinds of verify_sentence about a file that cannot be read or is refused, with why. */
static void verify_sentence_file(const struct audit_verify_report *rep, char *out, size_t cap)
{
	const char *what;

	switch (rep->kind) {
	case AUDIT_VERIFY_PROOF:
		snprintf(out, cap, "%s",
			 _("the consistency proof between the checkpoints does not verify"));
		return;
	case AUDIT_VERIFY_EMPTY_ROOT:
		snprintf(out, cap, "%s", _("the empty checkpoint's root is wrong"));
		return;
	case AUDIT_VERIFY_OPEN_DIR:
		what = _("cannot open the log directory");
		break;
	case AUDIT_VERIFY_OPEN_LOG:
		what = _("cannot open the log");
		break;
	case AUDIT_VERIFY_READ_LOG:
		what = _("cannot read the log");
		break;
	case AUDIT_VERIFY_KEY:
		what = _("cannot read the log's verifier key");
		break;
	case AUDIT_VERIFY_CHECKPOINT:
		what = _("the log's checkpoint");
		break;
	case AUDIT_VERIFY_KEPT_CHECKPOINT:
		what = _("the kept checkpoint");
		break;
	default:
		what = _("cannot check the log");
	}
	snprintf(out, cap, _("%s: %s"), what, cli_strerror(rep->code));
}

/* The kinds of verify_sentence that are not about one altered line. */
static void verify_sentence_more(const struct audit_verify_report *rep, char *out, size_t cap)
{
	unsigned long long a = rep->n[0], b = rep->n[1], c = rep->n[2];

	switch (rep->kind) {
	case AUDIT_VERIFY_MALFORMED:
		snprintf(out, cap, _("line %llu is not a well-formed record"), a);
		break;
	case AUDIT_VERIFY_TOO_LONG:
		snprintf(out, cap, _("line %llu is longer than %llu bytes"), a, b);
		break;
	case AUDIT_VERIFY_TORN:
		snprintf(out, cap,
			 _("line %llu is incomplete (%llu bytes, a crash while writing): "
			   "opening the log for writing records and cuts it"),
			 a, b);
		break;
	case AUDIT_VERIFY_MISSING:
		snprintf(out, cap,
			 _("records from line %llu on are missing: the log has %llu "
			   "records, its checkpoint covers %llu"),
			 a, b, c);
		break;
	case AUDIT_VERIFY_MISSING_KEPT:
		snprintf(out, cap,
			 _("records from line %llu on are missing: the log has %llu "
			   "records, the kept checkpoint covers %llu (truncation or "
			   "rollback)"),
			 a, b, c);
		break;
	case AUDIT_VERIFY_ROLLED_BACK:
		snprintf(out, cap,
			 _("the log's checkpoint (size %llu) is older than the kept one "
			   "(size %llu): it was rolled back"),
			 a, b);
		break;
	default:
		verify_sentence_file(rep, out, cap);
	}
}

/* What audit_verify found, as a sentence in the auditor's language. */
void cli_audit_verify_sentence(const struct audit_verify_report *rep, char *out, size_t cap)
{
	unsigned long long a = rep->n[0], b = rep->n[1], c = rep->n[2];

	switch (rep->kind) {
	case AUDIT_VERIFY_INTACT:
		snprintf(out, cap, "%s", _("the log is intact"));
		break;
	case AUDIT_VERIFY_HASH:
		snprintf(out, cap,
			 _("line %llu was altered: its hash does not match the link in line "
			   "%llu"),
			 a, b);
		break;
	case AUDIT_VERIFY_HASH_OR_LINK:
		snprintf(out, cap,
			 _("line %llu (or the link in line %llu) was altered: they do not "
			   "match"),
			 a, b);
		break;
	case AUDIT_VERIFY_LINK:
		snprintf(out, cap, _("line %llu was altered: its link does not match line %llu"), a,
			 b);
		break;
	case AUDIT_VERIFY_FIRST_LINK:
		snprintf(out, cap, "%s", _("line 1 was altered: its link is not zero"));
		break;
	case AUDIT_VERIFY_INSERTED:
		snprintf(out, cap,
			 _("line %llu was inserted: line %llu repeats its sequence number "
			   "and links to line %llu"),
			 a, b, c);
		break;
	case AUDIT_VERIFY_SEQ_DELETED:
		snprintf(out, cap,
			 _("line %llu has sequence number %llu where %llu was expected: "
			   "records were deleted or reordered"),
			 a, b, c);
		break;
	case AUDIT_VERIFY_SEQ_INSERTED:
		snprintf(out, cap,
			 _("line %llu has sequence number %llu where %llu was expected: "
			   "records were inserted or reordered"),
			 a, b, c);
		break;
	case AUDIT_VERIFY_SIGNED_ROOT:
		snprintf(out, cap,
			 _("the first %llu records do not match the signed checkpoint: "
			   "line %llu (or lines rewritten up to it) was altered"),
			 a, b);
		break;
	case AUDIT_VERIFY_KEPT_ROOT:
		snprintf(out, cap,
			 _("the first %llu records do not match the kept checkpoint: the "
			   "log was rewritten or rolled back"),
			 a);
		break;
	default:
		verify_sentence_more(rep, out, cap);
	}
}

static void verify_print_json(int ret, const struct audit_verify_report *rep, const char *root)
{
	cJSON *j = cJSON_CreateObject();
	char what[CLI_MESSAGE_MAX];

	cJSON_AddStringToObject(j, "result",
				ret == VAULT_OK			  ? "intact"
				: audit_verify_is_read_error(ret) ? "unreadable"
								  : "tampered");
	cJSON_AddNumberToObject(j, "code", ret);
	cJSON_AddNumberToObject(j, "line", (double)rep->line);
	cli_audit_verify_sentence(rep, what, sizeof(what));
	cJSON_AddNumberToObject(j, "kind", rep->kind);
	cJSON_AddStringToObject(j, "what", what);
	cJSON_AddNumberToObject(j, "records", (double)rep->records);
	cJSON_AddNumberToObject(j, "checkpoint_size", (double)rep->latest.size);
	if (rep->have_old)
		cJSON_AddNumberToObject(j, "kept_checkpoint_size", (double)rep->old.size);
	cJSON_AddNumberToObject(j, "uncovered", (double)rep->uncovered);
	if (ret == VAULT_OK)
		cJSON_AddStringToObject(j, "root", root);
	cli_json_print(j);
}

static void verify_print_intact(const struct audit_verify_report *rep, const char *root,
				int have_key)
{
	printf(_("intact: %llu records, checkpoint %s size %llu, root %s\n"),
	       (unsigned long long)rep->records, rep->latest.origin,
	       (unsigned long long)rep->latest.size, root);
	if (rep->have_old)
		printf(_("consistent with the kept checkpoint of size %llu\n"),
		       (unsigned long long)rep->old.size);
	if (rep->uncovered)
		printf(_("note: the last %llu records are not yet covered by a checkpoint\n"),
		       (unsigned long long)rep->uncovered);
	if (!have_key)
		printf(_("note: checked with the log's own key; pass --key to check it "
			 "against the key you kept\n"));
}

static void verify_print_broken(int ret, const struct audit_verify_report *rep)
{
	const char *verdict = audit_verify_is_read_error(ret) ? _("cannot read") : _("TAMPERED");
	char what[CLI_MESSAGE_MAX];

	cli_audit_verify_sentence(rep, what, sizeof(what));
	if (rep->line)
		printf(_("%s: line %llu: %s\n"), verdict, (unsigned long long)rep->line, what);
	else
		printf("%s: %s\n", verdict, what);
}

static int subcmd_verify(const struct subcmd_args *args)
{
	struct verify_options vo = {0};
	struct audit_verify_opts check = {0};
	struct audit_verify_report rep;
	char root[64];
	int ret;

	if ((ret = verify_parse(args->argc, args->argv, &vo)) != EXIT_OK) {
		free(vo.checkpoint);
		return ret;
	}
	check.old_checkpoint = (const uint8_t *)vo.checkpoint;
	check.old_len = vo.checkpoint_len;
	check.key = vo.have_key ? &vo.key : NULL;
	ret = audit_verify(args->dir, &check, &rep);
	free(vo.checkpoint);
	sodium_bin2base64(root, sizeof(root), rep.root, sizeof(rep.root),
			  sodium_base64_VARIANT_ORIGINAL);
	if (vo.json)
		verify_print_json(ret, &rep, root);
	else if (ret == VAULT_OK)
		verify_print_intact(&rep, root, vo.have_key);
	else
		verify_print_broken(ret, &rep);
	return exit_for_code(ret);
}

enum show_format {
	SHOW_TEXT,
	SHOW_JSONL, /* the log's own lines */
	SHOW_CSV,
	SHOW_WORDS, /* --lang: plain words, names, local times */
};

/* A value as the auditor reads it: always in quotes, a quote or backslash escaped, and anything
 * that could rewrite the line (controls, line separators, bidirectional controls, bytes that
 * are not UTF-8) shown as '?'. No text in a record can then pass for another field. */
static void show_value(const char *name, const char *v)
{
	size_t len = strlen(v);

	printf(" %s=\"", name);
	for (size_t i = 0, n; i < len; i += n) {
		n = text_utf8_next((const uint8_t *)v + i, len - i);
		if (n == 0 || text_char_unsafe((const uint8_t *)v + i, n)) {
			putchar('?');
			n = n == 0 ? 1 : n;
			continue;
		}
		if (v[i] == '"' || v[i] == '\\')
			putchar('\\');
		fwrite(v + i, 1, n, stdout);
	}
	putchar('"');
}

static void show_record_text(const struct audit_record *r)
{
	printf("%6llu %s %-18s", (unsigned long long)r->seq, r->time, r->event);
	show_value("worker", r->worker_login);
	printf(" uid=%u", (unsigned)r->worker_uid);
	show_value("host", r->host);
	if (r->user[0])
		show_value("user", r->user);
	if (r->service[0])
		show_value("service", r->service);
	if (r->credential[0])
		show_value("credential", r->credential);
	show_value("outcome", r->outcome);
	if (r->reason[0])
		show_value("reason", r->reason);
	if (r->attempts_left >= 0)
		printf(" attempts_left=%d", r->attempts_left);
	if (r->consent_until[0])
		show_value("consent_until", r->consent_until);
	if (r->purpose[0])
		show_value("purpose", r->purpose);
	putchar('\n');
}

/* What show and export were asked for, in the log's own forms. */
struct show_options {
	struct audit_filter filter;
	enum show_format format;
	char since[AUDIT_TIME_LEN + 1], until[AUDIT_TIME_LEN + 1], user[VAULT_USER_ID_HEX];
	uint64_t matched;
	int worker_seen;	   /* some record, matching or not, names the --worker */
	struct words_names *names; /* SHOW_WORDS */
	int naming;		   /* SHOW_WORDS: the first pass, that gathers the ids */
};

/* A record in plain words: number, local time, worker, person, what, why. */
static void show_record_words(const struct show_options *o, const struct audit_record *r)
{
	char when[256], who[256], what[WORDS_MAX];
	const char *name = r->user[0] ? words_names_get(o->names, r->user, NULL) : "";

	words_when(r->time, when, sizeof(when));
	words_worker(r->worker_uid, r->worker_login, who, sizeof(who));
	words_what(r, what, sizeof(what));
	printf("%6llu  %s  ", (unsigned long long)r->seq, when);
	words_plain(stdout, who);
	if (r->user[0]) {
		fputs("  ", stdout);
		words_plain(stdout, name[0] ? name : r->user);
	}
	fputs("  ", stdout);
	words_plain(stdout, what);
	if (r->purpose[0]) {
		fputs("  « ", stdout);
		words_plain(stdout, r->purpose);
		fputs(" »", stdout);
	}
	putchar('\n');
}

static int show_record(void *ctx, const struct audit_record *r, const uint8_t *line, size_t len)
{
	struct show_options *o = ctx;
	char csv[AUDIT_CSV_MAX];

	if (o->filter.worker != NULL && strcmp(o->filter.worker, r->worker_login) == 0)
		o->worker_seen = 1;
	if (!audit_filter_match(&o->filter, r))
		return 0;
	if (o->naming) {
		words_names_want(o->names, r->user);
		return 0;
	}
	o->matched++;
	if (o->format == SHOW_JSONL) {
		fwrite(line, 1, len, stdout);
		putchar('\n');
	} else if (o->format == SHOW_CSV) {
		if (audit_record_csv(r, csv, sizeof(csv)) == VAULT_OK)
			puts(csv);
	} else if (o->format == SHOW_WORDS) {
		show_record_words(o, r);
	} else {
		show_record_text(r);
	}
	return ferror(stdout) ? 1 : 0;
}

/* One filter option into o; -1 once it is reported. */
static int show_option(int opt, const char *arg, struct show_options *o)
{
	switch (opt) {
	case 'u':
		o->filter.user = o->user;
		return audit_filter_user(arg, o->user);
	case 'w':
		o->filter.worker = arg;
		return 0;
	case 'e':
		o->filter.event = arg;
		return audit_filter_event(arg);
	case 's':
		o->filter.since = o->since;
		return audit_filter_time("--since", arg, 0, o->since);
	case 't':
		o->filter.until = o->until;
		return audit_filter_time("--until", arg, 1, o->until);
	default:
		return -1;
	}
}

/* 0; 1 after a wrong option (getopt has said which, except for --format's value); -1 after a
 * wrong filter, reported. */
static int show_parse(int argc, char **argv, struct show_options *o)
{
	static const struct option opts[] = {{"user", required_argument, NULL, 'u'},
					     {"worker", required_argument, NULL, 'w'},
					     {"event", required_argument, NULL, 'e'},
					     {"since", required_argument, NULL, 's'},
					     {"until", required_argument, NULL, 't'},
					     {"json", no_argument, NULL, 'j'},
					     {"format", required_argument, NULL, 'f'},
					     {"lang", required_argument, NULL, 'l'},
					     {NULL, 0, NULL, 0}};
	int opt;

	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (opt == 'j' || (opt == 'f' && strcmp(optarg, "jsonl") == 0))
			o->format = SHOW_JSONL;
		else if (opt == 'f' && strcmp(optarg, "csv") == 0)
			o->format = SHOW_CSV;
		else if (opt == 'f' || opt == '?')
			return 1;
		else if (opt == 'l' && words_lang_set(optarg) != 0)
			return -1;
		else if (opt == 'l')
			o->format = o->format == SHOW_TEXT ? SHOW_WORDS : o->format;
		else if (show_option(opt, optarg, o) != 0)
			return -1;
	}
	return 0;
}

/* A --worker that is neither a uid, nor an account here, nor in any record is a mistake. */
static int worker_unknown(const struct show_options *o)
{
	const char *w = o->filter.worker;

	return w != NULL && !o->worker_seen && w[strspn(w, "0123456789")] != '\0' &&
	       getpwnam(w) == NULL;
}

/* --lang: the names of the people the matching records name, from the agent. Without them
 * (no agent, not an auditor) the ids are shown, and the reader told why. */
static void show_names(const char *dir, struct show_options *o)
{
	char why[CLI_MESSAGE_MAX];

	o->names = words_names_new();
	o->naming = 1;
	audit_scan(dir, NULL, show_record, o);
	o->naming = 0;
	if (words_names_fetch(o->names, why, sizeof(why)) != 0)
		fprintf(stderr, _("sesame audit: people are shown by their id: %s\n"), why);
}

/* show and export: the same records; export insists on a machine format. */
static int show_records(const struct subcmd_args *args, int export)
{
	struct show_options o = {.format = SHOW_TEXT};
	int ret = show_parse(args->argc, args->argv, &o);

	if (ret != 0)
		return ret > 0 ? usage(stderr) : EXIT_USAGE;
	if (export && (o.format == SHOW_TEXT || o.format == SHOW_WORDS)) {
		fputs(_("sesame audit: export needs --format csv|jsonl\n"), stderr);
		return EXIT_USAGE;
	}
	if (o.format == SHOW_CSV)
		puts(AUDIT_CSV_HEADER);
	if (o.format == SHOW_WORDS)
		show_names(args->dir, &o);
	ret = audit_scan(args->dir, NULL, show_record, &o);
	words_names_free(o.names);
	if (ret == VAULT_E_LOG_TORN) {
		fputs(_("sesame audit: warning: the log ends in an incomplete line\n"), stderr);
		ret = VAULT_OK;
	}
	if (fflush(stdout) != 0)
		ret = VAULT_E_IO;
	if (ret != VAULT_OK)
		return report_failure(ret, "show");
	if (worker_unknown(&o)) {
		cli_error(_("--worker %s: no such account, and no record names it"),
			  o.filter.worker);
		return EXIT_USAGE;
	}
	if (o.matched == 0)
		fputs(_("sesame audit: no record matches\n"), stderr);
	return EXIT_INTACT;
}

static int subcmd_show(const struct subcmd_args *args)
{
	return show_records(args, 0);
}

/* Every record line of a "mine" reply through show_record; 1 when one is not a record. */
static int show_lines(const cJSON *reply, struct show_options *o)
{
	const cJSON *l;
	struct audit_record rec;

	cJSON_ArrayForEach(l, cJSON_GetObjectItemCaseSensitive(reply, "records"))
	{
		size_t len = cJSON_IsString(l) ? strlen(l->valuestring) : 0;

		if (len == 0 ||
		    audit_record_parse((const uint8_t *)l->valuestring, len, &rec) != VAULT_OK)
			return 1;
		if (show_record(o, &rec, (const uint8_t *)l->valuestring, len) != 0)
			return 1;
	}
	return 0;
}

/* The worker's records as show prints them: with --lang, their people's names first. */
static int show_mine(const cJSON *reply, struct show_options *o)
{
	char why[CLI_MESSAGE_MAX];
	long long earlier = 0;

	if (o->format == SHOW_WORDS) {
		o->names = words_names_new();
		o->naming = 1;
		show_lines(reply, o);
		o->naming = 0;
		if (words_names_fetch(o->names, why, sizeof(why)) != 0)
			fprintf(stderr, _("sesame audit: people are shown by their id: %s\n"), why);
	}
	if (o->format == SHOW_CSV)
		puts(AUDIT_CSV_HEADER);
	if (show_lines(reply, o) != 0) {
		cli_error(_("the agent's reply holds a line that is not a record of the log"));
		return EXIT_FAIL;
	}
	if (proto_int(reply, "earlier", &earlier) == 0 && earlier > 0)
		fprintf(stderr, _("sesame audit: %lld earlier records of yours are not shown\n"),
			earlier);
	if (o->matched == 0)
		fputs(_("sesame audit: no record matches\n"), stderr);
	return fflush(stdout) == 0 ? EXIT_OK : EXIT_FAIL;
}

/* mine: the records of the worker who asks, through the agent, which reads the log for them:
 * in system mode a worker cannot read the log itself. The filters of show apply. */
static int subcmd_mine(const struct subcmd_args *args)
{
	struct show_options o = {.format = SHOW_TEXT};
	struct sesame_home h;
	cJSON *req, *reply = NULL;
	int ret = show_parse(args->argc, args->argv, &o);

	if (ret != 0)
		return ret > 0 ? usage(stderr) : EXIT_USAGE;
	if (cli_home(&h) != 0)
		return EXIT_FAIL;
	req = cJSON_CreateObject();
	cJSON_AddStringToObject(req, "op", "mine");
	if (client_call(&h, req, &reply) != 0)
		return EXIT_AGENT;
	if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(reply, "ok")))
		ret = show_mine(reply, &o);
	else
		ret = client_failed(reply, 0);
	words_names_free(o.names);
	cJSON_Delete(reply);
	return ret;
}

static int subcmd_report(const struct subcmd_args *args)
{
	return cli_audit_report(args->dir, args->argc, args->argv);
}

static int subcmd_export(const struct subcmd_args *args)
{
	return show_records(args, 1);
}

static int subcmd_key(const struct subcmd_args *args)
{
	char path[PATH_MAX];
	size_t len;
	char *text;

	if (snprintf(path, sizeof(path), "%s/%s", args->dir, AUDIT_PUB_NAME) >= (int)sizeof(path))
		return report_failure(VAULT_E_INVAL, args->dir);
	text = cli_audit_read_file(path, &len);
	if (text == NULL)
		return report_failure(errno == ENOENT ? VAULT_E_NOTFOUND : VAULT_E_IO,
				      AUDIT_PUB_NAME);
	fwrite(text, 1, len, stdout);
	free(text);
	return EXIT_INTACT;
}

static int subcmd_checkpoint(const struct subcmd_args *args)
{
	struct note_verifier v;
	struct checkpoint cp;
	char path[PATH_MAX];
	size_t len;
	char *text;
	int ret = audit_key_read(args->dir, &v);

	if (ret != VAULT_OK)
		return report_failure(ret, "verifier key");
	if (snprintf(path, sizeof(path), "%s/%s", args->dir, AUDIT_CHECKPOINT_NAME) >=
	    (int)sizeof(path))
		return report_failure(VAULT_E_INVAL, args->dir);
	text = cli_audit_read_file(path, &len);
	if (text == NULL)
		return report_failure(VAULT_E_CHECKPOINT, "checkpoint");
	ret = checkpoint_open((const uint8_t *)text, len, &v, v.name, &cp);
	if (ret == VAULT_OK)
		fwrite(text, 1, len, stdout);
	free(text);
	return ret == VAULT_OK ? EXIT_INTACT : report_failure(ret, "checkpoint");
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

static int subcmd_prove(const struct subcmd_args *args)
{
	char *out;
	size_t len;
	uint64_t seq;
	int ret;

	if (args->argc != 2 || parse_u64(args->argv[1], &seq) != 0)
		return usage(stderr);
	out = malloc(AUDIT_PROOF_MAX);
	if (out == NULL)
		return report_failure(VAULT_E_NOMEM, "prove");
	ret = audit_prove(args->dir, seq, out, AUDIT_PROOF_MAX, &len);
	if (ret == VAULT_OK)
		fwrite(out, 1, len, stdout);
	free(out);
	return ret == VAULT_OK ? EXIT_INTACT : report_failure(ret, "prove");
}

static int subcmd_check_receipt(const struct subcmd_args *args)
{
	static const struct option opts[] = {{"key", required_argument, NULL, 'k'},
					     {NULL, 0, NULL, 0}};
	struct note_verifier v;
	int opt, have_key = 0, ret;
	uint64_t idx;
	size_t len;
	char *text;

	while ((opt = getopt_long(args->argc, args->argv, "", opts, NULL)) != -1) {
		if (opt != 'k')
			return EXIT_USAGE; /* getopt has said which option */
		if (cli_audit_load_key(optarg, &v) != VAULT_OK)
			return report_failure(VAULT_E_KEY, "--key");
		have_key = 1;
	}
	if (optind != args->argc - 1)
		return usage(stderr);
	if (!have_key && (ret = audit_key_read(args->dir, &v)) != VAULT_OK)
		return report_failure(ret, "verifier key");
	text = cli_audit_read_file(args->argv[optind], &len);
	if (text == NULL)
		return report_failure(VAULT_E_IO, args->argv[optind]);
	ret = audit_receipt_verify((const uint8_t *)text, len, &v, &idx);
	free(text);
	if (ret != VAULT_OK)
		return report_failure(ret, "receipt");
	printf(_("receipt valid: record %llu is in the log signed by %s\n"),
	       (unsigned long long)idx, v.name);
	return EXIT_INTACT;
}

static int subcmd_consistency(const struct subcmd_args *args)
{
	char out[8192];
	uint64_t old_size, new_size = 0;
	size_t len;
	int ret;

	if (args->argc < 2 || args->argc > 3 || parse_u64(args->argv[1], &old_size) != 0 ||
	    (args->argc == 3 && parse_u64(args->argv[2], &new_size) != 0))
		return usage(stderr);
	ret = audit_consistency(args->dir, old_size, new_size, out, sizeof(out), &len);
	if (ret == VAULT_OK)
		fwrite(out, 1, len, stdout);
	return ret == VAULT_OK ? EXIT_INTACT : report_failure(ret, "consistency");
}

static const struct {
	const char *name;
	int (*run)(const struct subcmd_args *args);
} subcommands[] = {
    {"verify", subcmd_verify},
    {"show", subcmd_show},
    {"mine", subcmd_mine},
    {"export", subcmd_export},
    {"checkpoint", subcmd_checkpoint},
    {"key", subcmd_key},
    {"prove", subcmd_prove},
    {"check-receipt", subcmd_check_receipt},
    {"consistency", subcmd_consistency},
    {"report", subcmd_report},
};

static int is_help(const char *arg)
{
	return strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0;
}

/* --help anywhere after the subcommand's name wins over everything else. */
static int asks_help(const struct subcmd_args *args)
{
	for (int i = 1; i < args->argc; i++)
		if (is_help(args->argv[i]))
			return 1;
	return 0;
}

int cmd_audit(int argc, char **argv)
{
	struct subcmd_args args;
	char home_audit[PATH_MAX];
	const char *dir_opt = NULL;
	int first = 1;

	if (first + 1 < argc && strcmp(argv[first], "--dir") == 0) {
		dir_opt = argv[first + 1];
		first += 2;
	}
	if (first >= argc)
		return usage(stderr);
	if (is_help(argv[first]))
		return usage(stdout);
	if ((args.dir = log_dir(dir_opt, home_audit)) == NULL)
		return EXIT_USAGE;
	args.argc = argc - first;
	args.argv = argv + first;
	if (asks_help(&args))
		return usage(stdout);
	optind = 1;
	for (size_t i = 0; i < sizeof(subcommands) / sizeof(subcommands[0]); i++)
		if (strcmp(args.argv[0], subcommands[i].name) == 0)
			return subcommands[i].run(&args);
	return usage(stderr);
}
