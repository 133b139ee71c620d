/* The audit log: records, append and verify, every tampering of issue 3 reported at its line,
 * fail-closed appends, torn-tail recovery, receipts, consistency proofs, show and export. */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/resource.h>

#include <cmocka.h>
#include <sodium.h>

#include "audit.h"
#include "audit_testutil.h"
#include "error.h"

static uint8_t seal_key[AUDIT_SEALING_KEY_LEN];

struct fixture {
	char root[PATH_MAX];
	char dir[PATH_MAX];
};

static struct audit_event event_n(int i, char *purpose, size_t cap)
{
	static const char *const events[] = {"pin_ok",	     "session_opened", "login_started",
					     "login_filled", "session_closed", "pin_wrong"};
	struct audit_event ev = {
	    .event = events[i % 6],
	    .time = "2026-11-28T10:00:00Z",
	    .worker_uid = 1000 + (uint32_t)(i % 2),
	    .worker_login = i % 2 ? "bob" : "alice",
	    .host = "poste-3",
	    .user = i % 3 ? "u-marie" : "u-jean",
	    .service = "CAF",
	    .outcome = "ok",
	    .attempts_left = i % 6 == 5 ? 2 : -1,
	};
	snprintf(purpose, cap, "rendez-vous %d, dossier APL", i);
	ev.purpose = purpose;
	return ev;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	atu_tmpdir(f->root);
	atu_join(f->dir, f->root, "log");
	assert_int_equal(audit_init(f->dir, "test-install", seal_key), VAULT_OK);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	atu_rmtree(f->root);
	free(f);
	return 0;
}

static struct audit_event ctx_event(void)
{
	struct audit_event ev = {.time = "2026-11-28T11:00:00Z",
				 .worker_login = "alice",
				 .host = "poste-3",
				 .attempts_left = -1};
	return ev;
}

static void append_n(const char *dir, int from, int n, char *cp, size_t cap)
{
	struct audit_log *log;
	struct audit_event ctx = ctx_event();
	char purpose[64];

	assert_int_equal(audit_open(dir, seal_key, &ctx, &log), VAULT_OK);
	for (int i = from; i < from + n; i++) {
		struct audit_event ev = event_n(i, purpose, sizeof(purpose));
		uint64_t seq;
		assert_int_equal(audit_append(log, &ev, &seq), VAULT_OK);
		assert_int_equal(seq, (uint64_t)i);
	}
	if (cp != NULL)
		assert_int_equal(audit_checkpoint_text(log, cp, cap), VAULT_OK);
	audit_close(log);
}

static int verify(const char *dir, const struct note_verifier *key, const char *old,
		  struct audit_verify_report *rep)
{
	struct audit_verify_opts o = {
	    .key = key, .old_checkpoint = (const uint8_t *)old, .old_len = old ? strlen(old) : 0};
	return audit_verify(dir, &o, rep);
}

/* The log's lines, to edit them. */
struct lines {
	char *buf;
	char *l[64];
	size_t n;
};

static void lines_read(const char *dir, struct lines *ls)
{
	char path[PATH_MAX];
	char *p;

	atu_path(path, dir, AUDIT_LOG_NAME);
	ls->buf = atu_read(path, NULL);
	assert_non_null(ls->buf);
	ls->n = 0;
	for (p = ls->buf; *p; ls->n++) {
		char *nl = strchr(p, '\n');
		assert_non_null(nl);
		*nl = '\0';
		ls->l[ls->n] = p;
		p = nl + 1;
	}
}

static void lines_write(const char *dir, struct lines *ls)
{
	char path[PATH_MAX];
	FILE *f;

	atu_path(path, dir, AUDIT_LOG_NAME);
	f = fopen(path, "wb");
	assert_non_null(f);
	for (size_t i = 0; i < ls->n; i++)
		fprintf(f, "%s\n", ls->l[i]);
	fclose(f);
	free(ls->buf);
	ls->buf = NULL;
}

static void expect(const struct audit_verify_report *rep, int code, uint64_t line)
{
	if (rep->code != code || rep->line != line)
		print_error("got %s at line %llu (kind %d), want %s at line %llu\n",
			    vault_strerror(rep->code), (unsigned long long)rep->line,
			    (int)rep->kind, vault_strerror(code), (unsigned long long)line);
	assert_int_equal(rep->code, code);
	assert_int_equal(rep->line, line);
}

/* ---------- records ---------- */

static void test_record_roundtrip(void **state)
{
	struct fixture *f = *state;
	struct lines ls;
	struct audit_record rec;
	char again[AUDIT_LINE_MAX + 8], purpose[64];
	size_t len;

	(void)purpose;
	append_n(f->dir, 0, 6, NULL, 0);
	lines_read(f->dir, &ls);
	assert_int_equal(ls.n, 6);
	{
		const char *want =
		    "{\"seq\":0,\"prev\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\","
		    "\"time\":\"2026-11-28T10:00:00Z\",\"event\":\"pin_ok\",";
		assert_memory_equal(ls.l[0], want, strlen(want));
	}
	assert_int_equal(audit_record_parse((uint8_t *)ls.l[5], strlen(ls.l[5]), &rec), VAULT_OK);
	assert_int_equal(rec.seq, 5);
	assert_string_equal(rec.event, "pin_wrong");
	assert_int_equal(rec.attempts_left, 2);
	assert_string_equal(rec.worker_login, "bob");
	assert_string_equal(rec.installation, "test-install");
	assert_int_equal(audit_record_format(&rec, again, sizeof(again), &len), VAULT_OK);
	assert_int_equal(len, strlen(ls.l[5]));
	assert_memory_equal(again, ls.l[5], len);
	/* Not canonical: a space, reordered keys, an unknown key. */
	{
		char alt[AUDIT_LINE_MAX];
		snprintf(alt, sizeof(alt), "%s", ls.l[5]);
		alt[strlen(alt) - 1] = ' ';
		strcat(alt, "}");
		assert_int_equal(audit_record_parse((uint8_t *)alt, strlen(alt), &rec),
				 VAULT_E_LOG_RECORD);
		/* the reader of a verified log reads the fields without the canonical check */
		assert_int_equal(audit_record_parse_verified((uint8_t *)alt, strlen(alt), &rec),
				 VAULT_OK);
		assert_int_equal(rec.seq, 5);
		assert_int_equal(rec.attempts_left, 2);
		assert_string_equal(rec.worker_login, "bob");
		assert_string_equal(rec.purpose, "rendez-vous 5, dossier APL");
		snprintf(alt, sizeof(alt), "%.*s,\"x\":1}", (int)strlen(ls.l[5]) - 1, ls.l[5]);
		assert_int_equal(audit_record_parse((uint8_t *)alt, strlen(alt), &rec),
				 VAULT_E_LOG_RECORD);
		assert_int_equal(audit_record_parse((const uint8_t *)"{}", 2, &rec),
				 VAULT_E_LOG_RECORD);
		/* but still the types and the bounds of every field */
		assert_int_equal(audit_record_parse_verified((const uint8_t *)"{}", 2, &rec),
				 VAULT_E_LOG_RECORD);
		{
			const char *at = strstr(ls.l[5], "\"attempts_left\":2");
			snprintf(alt, sizeof(alt), "%.*s\"attempts_left\":\"2\"%s",
				 (int)(at - ls.l[5]), ls.l[5], at + strlen("\"attempts_left\":2"));
		}
		assert_int_equal(audit_record_parse_verified((uint8_t *)alt, strlen(alt), &rec),
				 VAULT_E_LOG_RECORD);
	}
	/* read with or without the canonical check, a canonical line's fields are the same */
	for (size_t i = 0; i < ls.n; i++) {
		struct audit_record strict;
		assert_int_equal(audit_record_parse((uint8_t *)ls.l[i], strlen(ls.l[i]), &strict),
				 VAULT_OK);
		assert_int_equal(
		    audit_record_parse_verified((uint8_t *)ls.l[i], strlen(ls.l[i]), &rec),
		    VAULT_OK);
		assert_memory_equal(&rec, &strict, sizeof(rec));
	}
	{
		const char *shuffled =
		    "{\"host\":\"h\",\"worker\":{\"login\":\"bob\",\"uid\":7},\"seq\":3,"
		    "\"prev\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\",\"outcome\":\"ok\","
		    "\"time\":\"2026-11-28T10:00:00Z\",\"event\":\"pin_ok\","
		    "\"installation\":\"i\"}";
		assert_int_equal(
		    audit_record_parse((const uint8_t *)shuffled, strlen(shuffled), &rec),
		    VAULT_E_LOG_RECORD);
		/* nor by the reader of a verified log: a member out of its place reads as absent */
		assert_int_equal(
		    audit_record_parse_verified((const uint8_t *)shuffled, strlen(shuffled), &rec),
		    VAULT_E_LOG_RECORD);
	}
	free(ls.buf);
}

static void test_event_checks(void **state)
{
	struct fixture *f = *state;
	struct audit_log *log;
	struct audit_event ctx = ctx_event(), ev;
	struct lines ls;
	struct audit_record rec;
	char purpose[600], longer[300];

	assert_int_equal(audit_open(f->dir, seal_key, &ctx, &log), VAULT_OK);
	ev = event_n(0, purpose, sizeof(purpose));
	ev.event = "no_such_event";
	assert_int_equal(audit_append(log, &ev, NULL), VAULT_E_INVAL);
	ev = event_n(0, purpose, sizeof(purpose));
	ev.time = "2026-11-28 10:00:00";
	assert_int_equal(audit_append(log, &ev, NULL), VAULT_E_INVAL);
	ev = event_n(0, purpose, sizeof(purpose));
	ev.host = "poste\n3";
	assert_int_equal(audit_append(log, &ev, NULL), VAULT_E_NOTUTF8);
	memset(longer, 'x', sizeof(longer) - 1);
	longer[sizeof(longer) - 1] = '\0';
	ev = event_n(0, purpose, sizeof(purpose));
	ev.service = longer;
	assert_int_equal(audit_append(log, &ev, NULL), VAULT_E_TOOLONG);
	/* Purpose is cut and sanitised, never refused. */
	ev = event_n(0, purpose, sizeof(purpose));
	memset(purpose, 'p', sizeof(purpose) - 1);
	purpose[sizeof(purpose) - 1] = '\0';
	purpose[3] = '\n';
	purpose[4] = '\xff';
	assert_int_equal(audit_append(log, &ev, NULL), VAULT_OK);
	assert_int_equal(audit_size(log), 1);
	audit_close(log);
	lines_read(f->dir, &ls);
	assert_int_equal(audit_record_parse((uint8_t *)ls.l[0], strlen(ls.l[0]), &rec), VAULT_OK);
	assert_int_equal(strlen(rec.purpose), AUDIT_PURPOSE_MAX);
	assert_memory_equal(rec.purpose, "ppp??ppp", 8);
	free(ls.buf);
	/* A right-to-left override would let a purpose rewrite how the line displays. */
	assert_int_equal(audit_open(f->dir, seal_key, &ctx, &log), VAULT_OK);
	ev = event_n(0, purpose, sizeof(purpose));
	strcpy(purpose, "ab\xe2\x80\xae"
			"cd\xc2\x9b"
			"e\xc3\xa9");
	assert_int_equal(audit_append(log, &ev, NULL), VAULT_OK);
	ev.user = "u-\xe2\x80\xae"
		  "evil";
	assert_int_equal(audit_append(log, &ev, NULL), VAULT_E_NOTUTF8);
	audit_close(log);
	lines_read(f->dir, &ls);
	assert_int_equal(audit_record_parse((uint8_t *)ls.l[1], strlen(ls.l[1]), &rec), VAULT_OK);
	assert_string_equal(rec.purpose, "ab?cd?e\xc3\xa9");
	free(ls.buf);
}

/* A consent's last day: a date that exists, after the attempts count in the line, and absent
 * from a record that gives none (every record written before it existed). */
static void test_consent_until(void **state)
{
	static const char *const wrong[] = {"2027-02-29", "2027-13-01",		  "2027-1-01",
					    "27-01-01",	  "2027-01-01T00:00:00Z", "2027/01/01",
					    "2027-04-31"};
	struct fixture *f = *state;
	struct audit_log *log;
	struct audit_event ctx = ctx_event(), ev;
	struct audit_record rec;
	struct lines ls;
	char purpose[64], alt[AUDIT_LINE_MAX], *at;

	assert_int_equal(audit_open(f->dir, seal_key, &ctx, &log), VAULT_OK);
	for (size_t i = 0; i < sizeof(wrong) / sizeof(wrong[0]); i++) {
		ev = event_n(0, purpose, sizeof(purpose));
		ev.consent_until = wrong[i];
		assert_int_equal(audit_append(log, &ev, NULL), VAULT_E_INVAL);
	}
	ev = event_n(0, purpose, sizeof(purpose));
	ev.event = "credential_added";
	ev.consent_until = "2028-02-29";
	assert_int_equal(audit_append(log, &ev, NULL), VAULT_OK);
	ev.consent_until = NULL;
	assert_int_equal(audit_append(log, &ev, NULL), VAULT_OK);
	audit_close(log);
	lines_read(f->dir, &ls);
	assert_int_equal(ls.n, 2);
	assert_non_null(strstr(ls.l[0], "\"outcome\":\"ok\",\"consent_until\":\"2028-02-29\"}"));
	assert_null(strstr(ls.l[1], "consent_until"));
	assert_int_equal(audit_record_parse((uint8_t *)ls.l[0], strlen(ls.l[0]), &rec), VAULT_OK);
	assert_string_equal(rec.consent_until, "2028-02-29");
	assert_int_equal(audit_record_parse((uint8_t *)ls.l[1], strlen(ls.l[1]), &rec), VAULT_OK);
	assert_string_equal(rec.consent_until, "");
	/* a line whose date does not exist is not a record */
	snprintf(alt, sizeof(alt), "%s", ls.l[0]);
	at = strstr(alt, "2028-02-29");
	memcpy(at, "2027-02-29", 10);
	assert_int_equal(audit_record_parse((uint8_t *)alt, strlen(alt), &rec), VAULT_E_LOG_RECORD);
	free(ls.buf);
}

/* ---------- verify: intact and tampered ---------- */

static void test_intact(void **state)
{
	struct fixture *f = *state;
	struct audit_verify_report rep;
	struct note_verifier v;
	char old[AUDIT_CHECKPOINT_MAX];

	assert_int_equal(verify(f->dir, NULL, NULL, &rep), VAULT_OK);
	assert_int_equal(rep.records, 0);
	append_n(f->dir, 0, 4, old, sizeof(old));
	append_n(f->dir, 4, 6, NULL, 0);
	assert_int_equal(audit_key_read(f->dir, &v), VAULT_OK);
	assert_int_equal(verify(f->dir, &v, old, &rep), VAULT_OK);
	assert_int_equal(rep.records, 10);
	assert_int_equal(rep.latest.size, 10);
	assert_int_equal(rep.old.size, 4);
	assert_int_equal(rep.uncovered, 0);
}

/* Replaces the first from in line i (0-based) of the log by to, of the same length. */
static void edit(const char *dir, size_t i, const char *from, const char *to)
{
	struct lines ls;
	char *at;

	lines_read(dir, &ls);
	at = strstr(ls.l[i], from);
	assert_non_null(at);
	memcpy(at, to, strlen(to));
	lines_write(dir, &ls);
}

static void test_flipped_byte(void **state)
{
	struct fixture *f = *state;
	struct audit_verify_report rep;

	append_n(f->dir, 0, 10, NULL, 0);
	/* In the content of line 4: its hash no longer matches line 5's link. */
	edit(f->dir, 3, "poste-3", "Poste-3");
	verify(f->dir, NULL, NULL, &rep);
	expect(&rep, VAULT_E_TAMPERED, 4);
	edit(f->dir, 3, "Poste-3", "poste-3");
	assert_int_equal(verify(f->dir, NULL, NULL, &rep), VAULT_OK);

	/* In line 7's link: line 7 itself is to blame. */
	edit(f->dir, 6, "\"prev\":\"", "\"prev\":\"+");
	verify(f->dir, NULL, NULL, &rep);
	expect(&rep, VAULT_E_TAMPERED, 7);
	{
		struct lines ls;
		lines_read(f->dir, &ls);
		free(ls.buf);
	}

	/* Put it back from a fresh log instead: new fixture state. */
	teardown(state);
	setup(state);
	f = *state;
	append_n(f->dir, 0, 10, NULL, 0);

	/* In the last line: only the signed root covers it. */
	edit(f->dir, 9, "CAF", "KAF");
	verify(f->dir, NULL, NULL, &rep);
	expect(&rep, VAULT_E_TAMPERED, 10);
	edit(f->dir, 9, "KAF", "CAF");

	/* In the second to last line. */
	edit(f->dir, 8, "CAF", "KAF");
	verify(f->dir, NULL, NULL, &rep);
	expect(&rep, VAULT_E_TAMPERED, 9);
	edit(f->dir, 8, "KAF", "CAF");

	/* In the JSON syntax of line 2. */
	edit(f->dir, 1, "{", "[");
	verify(f->dir, NULL, NULL, &rep);
	expect(&rep, VAULT_E_LOG_RECORD, 2);
}

static void test_deleted_record(void **state)
{
	struct fixture *f = *state;
	struct audit_verify_report rep;
	struct lines ls;

	append_n(f->dir, 0, 10, NULL, 0);
	lines_read(f->dir, &ls);
	memmove(&ls.l[4], &ls.l[5], 5 * sizeof(char *));
	ls.n--;
	lines_write(f->dir, &ls);
	verify(f->dir, NULL, NULL, &rep);
	expect(&rep, VAULT_E_LOG_SEQUENCE, 5);
}

static void test_swapped_records(void **state)
{
	struct fixture *f = *state;
	struct audit_verify_report rep;
	struct lines ls;
	char *t;

	append_n(f->dir, 0, 10, NULL, 0);
	lines_read(f->dir, &ls);
	t = ls.l[2];
	ls.l[2] = ls.l[3];
	ls.l[3] = t;
	lines_write(f->dir, &ls);
	verify(f->dir, NULL, NULL, &rep);
	expect(&rep, VAULT_E_LOG_SEQUENCE, 3);
}

static void test_inserted_record(void **state)
{
	struct fixture *f = *state;
	struct audit_verify_report rep;
	struct audit_record rec;
	struct lines ls;
	char forged[AUDIT_LINE_MAX + 8];
	size_t len;

	append_n(f->dir, 0, 10, NULL, 0);
	lines_read(f->dir, &ls);
	/* A well-made forgery: the right sequence number and a correct link to line 6. */
	assert_int_equal(audit_record_parse((uint8_t *)ls.l[6], strlen(ls.l[6]), &rec), VAULT_OK);
	strcpy(rec.user, "u-victim");
	strcpy(rec.event, "export");
	assert_int_equal(audit_record_format(&rec, forged, sizeof(forged), &len), VAULT_OK);
	memmove(&ls.l[7], &ls.l[6], 4 * sizeof(char *));
	ls.l[6] = forged;
	ls.n++;
	lines_write(f->dir, &ls);
	verify(f->dir, NULL, NULL, &rep);
	expect(&rep, VAULT_E_LOG_SEQUENCE, 7);

	/* A clumsy one: garbage in the middle. */
	lines_read(f->dir, &ls);
	ls.l[6] = "{\"seq\":6,\"note\":\"hello\"}";
	lines_write(f->dir, &ls);
	verify(f->dir, NULL, NULL, &rep);
	expect(&rep, VAULT_E_LOG_RECORD, 7);
}

static void test_truncated(void **state)
{
	struct fixture *f = *state;
	struct audit_verify_report rep;
	struct note_verifier v;
	struct audit_log *log;
	struct audit_event ctx = ctx_event();
	struct lines ls;
	char old[AUDIT_CHECKPOINT_MAX], path[PATH_MAX];

	append_n(f->dir, 0, 6, old, sizeof(old)); /* the auditor keeps this checkpoint */
	append_n(f->dir, 6, 4, NULL, 0);
	assert_int_equal(audit_key_read(f->dir, &v), VAULT_OK);

	/* The last two records cut: the log's own checkpoint still says 10. */
	lines_read(f->dir, &ls);
	char *keep = strdup(ls.buf), *l8 = strdup(ls.l[8]), *l9 = strdup(ls.l[9]);
	(void)keep;
	ls.n = 8;
	lines_write(f->dir, &ls);
	verify(f->dir, &v, NULL, &rep);
	expect(&rep, VAULT_E_INCONSISTENT, 9);
	/* Opening it for writing refuses to go on from there. */
	assert_int_equal(audit_open(f->dir, seal_key, &ctx, &log), VAULT_E_INCONSISTENT);

	/* Worse: the agent's own key re-signs a checkpoint at 4 records (checkpoint deleted,
	 * log reopened). Only the kept checkpoint tells. */
	lines_read(f->dir, &ls);
	ls.n = 4;
	lines_write(f->dir, &ls);
	atu_path(path, f->dir, AUDIT_CHECKPOINT_NAME);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(audit_open(f->dir, seal_key, &ctx, &log), VAULT_OK);
	audit_close(log);
	verify(f->dir, &v, NULL, &rep);
	expect(&rep, VAULT_OK, 0);
	verify(f->dir, &v, old, &rep);
	expect(&rep, VAULT_E_INCONSISTENT, 5);

	/* Truncated then regrown past the kept size: the old root no longer matches. */
	assert_int_equal(audit_open(f->dir, seal_key, &ctx, &log), VAULT_OK);
	for (int i = 0; i < 5; i++) {
		char purpose[64];
		struct audit_event ev = event_n(99, purpose, sizeof(purpose));
		assert_int_equal(audit_append(log, &ev, NULL), VAULT_OK);
	}
	audit_close(log);
	verify(f->dir, &v, old, &rep);
	assert_int_equal(rep.code, VAULT_E_INCONSISTENT);
	assert_int_equal(rep.line, 6);
	free(keep);
	free(l8);
	free(l9);
}

static void test_checkpoint_rolled_back(void **state)
{
	struct fixture *f = *state;
	struct audit_verify_report rep;
	char cp5[AUDIT_CHECKPOINT_MAX], cp8[AUDIT_CHECKPOINT_MAX], path[PATH_MAX];

	append_n(f->dir, 0, 5, cp5, sizeof(cp5));
	append_n(f->dir, 5, 3, cp8, sizeof(cp8));
	/* The checkpoint file put back to an older, validly signed one. Alone, this looks like a
	 * crash before the checkpoint was written: intact, 3 records not yet covered. */
	atu_join(path, f->dir, AUDIT_CHECKPOINT_NAME);
	atu_write(path, cp5, strlen(cp5));
	verify(f->dir, NULL, NULL, &rep);
	expect(&rep, VAULT_OK, 0);
	assert_int_equal(rep.uncovered, 3);
	/* The auditor's kept checkpoint shows it went backwards. */
	verify(f->dir, NULL, cp8, &rep);
	expect(&rep, VAULT_E_INCONSISTENT, 0);
}

static void copy_file(const char *from_dir, const char *to_dir, const char *name)
{
	char a[PATH_MAX], b[PATH_MAX];
	size_t len;
	char *buf;

	atu_path(a, from_dir, name);
	atu_path(b, to_dir, name);
	buf = atu_read(a, &len);
	assert_non_null(buf);
	atu_write(b, buf, len);
	free(buf);
}

static void test_replaced_by_other_key(void **state)
{
	struct fixture *f = *state;
	struct audit_verify_report rep;
	struct note_verifier v;
	char other[PATH_MAX], old[AUDIT_CHECKPOINT_MAX];
	const char *names[] = {AUDIT_LOG_NAME, AUDIT_CHECKPOINT_NAME, AUDIT_PUB_NAME,
			       AUDIT_KEY_NAME};

	append_n(f->dir, 0, 8, old, sizeof(old));
	assert_int_equal(audit_key_read(f->dir, &v), VAULT_OK);
	/* A fresh log, same installation name, another key, fewer records. */
	atu_join(other, f->root, "other");
	assert_int_equal(audit_init(other, "test-install", seal_key), VAULT_OK);
	append_n(other, 0, 3, NULL, 0);
	for (size_t i = 0; i < 4; i++)
		copy_file(other, f->dir, names[i]);
	/* On its own it is a perfectly good log... */
	assert_int_equal(verify(f->dir, NULL, NULL, &rep), VAULT_OK);
	/* ...but not by the key the auditor kept, nor consistent with the checkpoint kept. */
	verify(f->dir, &v, NULL, &rep);
	expect(&rep, VAULT_E_KEY, 0);
	verify(f->dir, NULL, old, &rep);
	expect(&rep, VAULT_E_KEY, 0);
	assert_int_equal(verify(f->dir, &v, old, &rep), VAULT_E_KEY);
}

static void test_checkpoint_signature_altered(void **state)
{
	struct fixture *f = *state;
	struct audit_verify_report rep;
	char path[PATH_MAX], *cp, *sig;
	size_t len;

	append_n(f->dir, 0, 5, NULL, 0);
	atu_path(path, f->dir, AUDIT_CHECKPOINT_NAME);
	cp = atu_read(path, &len);
	sig = strstr(cp, "\xe2\x80\x94 ");
	sig = strchr(sig + 4, ' ') + 20;
	*sig = *sig == 'A' ? 'B' : 'A';
	atu_write(path, cp, len);
	verify(f->dir, NULL, NULL, &rep);
	expect(&rep, VAULT_E_SIGNATURE, 0);
	/* The root altered instead, signature untouched. */
	*sig = *sig == 'A' ? 'B' : 'A';
	sig = strstr(cp, "\n5\n") + 3;
	*sig = *sig == 'A' ? 'B' : 'A';
	atu_write(path, cp, len);
	verify(f->dir, NULL, NULL, &rep);
	expect(&rep, VAULT_E_SIGNATURE, 0);
	free(cp);
}

static void test_checkpoint_from_other_log(void **state)
{
	struct fixture *f = *state;
	struct audit_verify_report rep;
	char other[PATH_MAX], oldother[AUDIT_CHECKPOINT_MAX];

	append_n(f->dir, 0, 5, NULL, 0);
	atu_join(other, f->root, "other");
	assert_int_equal(audit_init(other, "elsewhere", seal_key), VAULT_OK);
	append_n(other, 0, 5, oldother, sizeof(oldother));
	/* Handed to the auditor as the checkpoint to compare with. */
	verify(f->dir, NULL, oldother, &rep);
	expect(&rep, VAULT_E_CHECKPOINT, 0);
	/* Put in place of the log's own. */
	copy_file(other, f->dir, AUDIT_CHECKPOINT_NAME);
	verify(f->dir, NULL, NULL, &rep);
	expect(&rep, VAULT_E_CHECKPOINT, 0);
}

/* ---------- fail closed ---------- */

static int guarded_actions;

/* What the agent does: the action happens only after the record is durable. */
static int guarded_unlock(struct audit_log *log)
{
	char purpose[64];
	struct audit_event ev = event_n(1, purpose, sizeof(purpose));
	int ret = audit_append(log, &ev, NULL);

	if (ret == VAULT_OK)
		guarded_actions++;
	return ret;
}

static void test_fail_closed_disk_full(void **state)
{
	struct fixture *f = *state;
	struct audit_log *log;
	struct audit_event ctx = ctx_event();
	struct audit_verify_report rep;
	struct rlimit saved, lim;
	char path[PATH_MAX];
	struct stat st;

	append_n(f->dir, 0, 3, NULL, 0);
	assert_int_equal(audit_open(f->dir, seal_key, &ctx, &log), VAULT_OK);
	guarded_actions = 0;
	assert_int_equal(guarded_unlock(log), VAULT_OK);
	assert_int_equal(guarded_actions, 1);
	/* The disk is full for the log: writes past its current size fail (EFBIG). */
	atu_path(path, f->dir, AUDIT_LOG_NAME);
	assert_int_equal(stat(path, &st), 0);
	signal(SIGXFSZ, SIG_IGN);
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &saved), 0);
	lim = saved;
	lim.rlim_cur = (rlim_t)st.st_size + 40;
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
	assert_int_equal(guarded_unlock(log), VAULT_E_IO);
	assert_int_equal(guarded_actions, 1);
	/* While the disk stays full the writer stays refused, and nothing half-written stays. */
	assert_int_equal(audit_writable(log), VAULT_OK); /* the cut-back frees what it took */
	assert_int_equal(guarded_unlock(log), VAULT_E_IO);
	assert_int_equal(guarded_actions, 1);
	/* Once space is back the same handle writes again: no restart needed. */
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &saved), 0);
	assert_int_equal(guarded_unlock(log), VAULT_OK);
	assert_int_equal(guarded_actions, 2);
	audit_close(log);
	/* The log is intact, with the records that were acknowledged and no other. */
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(verify(f->dir, NULL, NULL, &rep), VAULT_OK);
	assert_int_equal(rep.records, 5);
	assert_int_equal(audit_open(f->dir, seal_key, &ctx, &log), VAULT_OK);
	assert_int_equal(guarded_unlock(log), VAULT_OK);
	assert_int_equal(guarded_actions, 3);
	audit_close(log);
}

static void test_fail_closed_checkpoint(void **state)
{
	struct fixture *f = *state;
	struct audit_log *log;
	struct audit_event ctx = ctx_event();
	struct audit_verify_report rep;
	char path[PATH_MAX], moved[PATH_MAX];

	assert_int_equal(audit_open(f->dir, seal_key, &ctx, &log), VAULT_OK);
	guarded_actions = 0;
	/* The checkpoint cannot be replaced (a directory stands in its way). */
	atu_path(path, f->dir, AUDIT_CHECKPOINT_NAME);
	atu_path(moved, f->dir, "moved");
	assert_int_equal(rename(path, moved), 0);
	assert_int_equal(mkdir(path, 0700), 0);
	assert_int_not_equal(guarded_unlock(log), VAULT_OK);
	assert_int_equal(guarded_actions, 0);
	assert_int_equal(rmdir(path), 0);
	assert_int_equal(rename(moved, path), 0);
	/* The record was durable all along: the next checkpoint covers it. */
	assert_int_equal(guarded_unlock(log), VAULT_OK);
	assert_int_equal(guarded_actions, 1);
	audit_close(log);
	assert_int_equal(verify(f->dir, NULL, NULL, &rep), VAULT_OK);
	assert_int_equal(rep.records, 2);
}

/* ---------- torn tail ---------- */

static void test_torn_tail(void **state)
{
	struct fixture *f = *state;
	struct audit_log *log;
	struct audit_event ctx = ctx_event();
	struct audit_verify_report rep;
	struct lines ls;
	struct audit_record rec;
	char path[PATH_MAX], side[PATH_MAX], hex[65];
	const char torn[] = "{\"seq\":5,\"prev\":\"ab";
	uint8_t h[32];
	size_t len, sidelen;
	char *buf, *copy;
	FILE *fp;

	append_n(f->dir, 0, 5, NULL, 0);
	atu_path(path, f->dir, AUDIT_LOG_NAME);
	buf = atu_read(path, &len);
	free(buf);
	fp = fopen(path, "ab");
	fputs(torn, fp);
	fclose(fp);
	verify(f->dir, NULL, NULL, &rep);
	expect(&rep, VAULT_E_LOG_TORN, 6);
	/* Without a context to record the repair, open refuses rather than drop bytes. */
	assert_int_equal(audit_open(f->dir, seal_key, NULL, &log), VAULT_E_LOG_TORN);
	assert_int_equal(audit_open(f->dir, seal_key, &ctx, &log), VAULT_OK);
	assert_int_equal(audit_size(log), 6);
	audit_close(log);
	{
		char name[64];
		snprintf(name, sizeof(name), AUDIT_TORN_PREFIX "%zu", len);
		atu_join(side, f->dir, name);
	}
	copy = atu_read(side, &sidelen);
	assert_non_null(copy);
	assert_int_equal(sidelen, strlen(torn));
	assert_memory_equal(copy, torn, sidelen);
	free(copy);
	lines_read(f->dir, &ls);
	assert_int_equal(ls.n, 6);
	assert_int_equal(audit_record_parse((uint8_t *)ls.l[5], strlen(ls.l[5]), &rec), VAULT_OK);
	assert_string_equal(rec.event, "log_recovered");
	crypto_hash_sha256(h, (const uint8_t *)torn, strlen(torn));
	sodium_bin2hex(hex, sizeof(hex), h, sizeof(h));
	assert_string_equal(rec.torn_sha256, hex);
	assert_int_equal(rec.torn_length, (int64_t)strlen(torn));
	assert_int_equal(rec.torn_offset, (int64_t)len);
	free(ls.buf);
	assert_int_equal(verify(f->dir, NULL, NULL, &rep), VAULT_OK);

	/* A torn line inside what the checkpoint covers is not a crash: refuse, touch nothing. */
	buf = atu_read(path, &len);
	atu_write(path, buf, len - 10);
	assert_int_equal(audit_open(f->dir, seal_key, &ctx, &log), VAULT_E_INCONSISTENT);
	free(atu_read(path, &sidelen));
	assert_int_equal(sidelen, len - 10);
	free(buf);
}

/* ---------- proofs, show, export ---------- */

static void test_receipt_and_consistency(void **state)
{
	struct fixture *f = *state;
	struct note_verifier v, other;
	char receipt[AUDIT_PROOF_MAX], proof[AUDIT_PROOF_MAX], old[AUDIT_CHECKPOINT_MAX];
	size_t len;
	uint64_t idx;
	uint8_t pub[32], sk[64];

	append_n(f->dir, 0, 7, old, sizeof(old));
	append_n(f->dir, 7, 6, NULL, 0);
	assert_int_equal(audit_key_read(f->dir, &v), VAULT_OK);
	for (uint64_t seq = 0; seq < 13; seq++) {
		assert_int_equal(audit_prove(f->dir, seq, receipt, sizeof(receipt), &len),
				 VAULT_OK);
		assert_memory_equal(receipt, "c2sp.org/tlog-proof@v1\nextra ", 29);
		assert_int_equal(audit_receipt_verify((uint8_t *)receipt, len, &v, &idx), VAULT_OK);
		assert_int_equal(idx, seq);
	}
	assert_int_equal(audit_prove(f->dir, 13, receipt, sizeof(receipt), &len), VAULT_E_NOTFOUND);
	/* A receipt whose index was changed, or checked with another key, fails. */
	assert_int_equal(audit_prove(f->dir, 3, receipt, sizeof(receipt), &len), VAULT_OK);
	*strstr(receipt, "index 3") = 'i';
	*(strstr(receipt, "index 3") + 6) = '4';
	assert_int_not_equal(audit_receipt_verify((uint8_t *)receipt, len, &v, &idx), VAULT_OK);
	assert_int_equal(audit_prove(f->dir, 3, receipt, sizeof(receipt), &len), VAULT_OK);
	crypto_sign_keypair(pub, sk);
	assert_int_equal(note_verifier_init(&other, v.name, pub), VAULT_OK);
	assert_int_equal(audit_receipt_verify((uint8_t *)receipt, len, &other, &idx), VAULT_E_KEY);

	/* Consistency proof 7 -> 13, checked against the two signed roots. */
	assert_int_equal(audit_consistency(f->dir, 7, 0, proof, sizeof(proof), &len), VAULT_OK);
	{
		struct checkpoint c1;
		uint8_t hashes[MERKLE_MAX_PROOF][MERKLE_HASH_LEN], r2[32];
		char *save = NULL, *line;
		size_t n = 0, got;
		struct audit_verify_report rep;
		assert_int_equal(checkpoint_open((uint8_t *)old, strlen(old), &v, v.name, &c1),
				 VAULT_OK);
		assert_int_equal(verify(f->dir, &v, NULL, &rep), VAULT_OK);
		memcpy(r2, rep.latest.root, 32);
		for (line = strtok_r(proof, "\n", &save); line;
		     line = strtok_r(NULL, "\n", &save)) {
			if (strchr(line, ' '))
				continue;
			assert_int_equal(sodium_base642bin(hashes[n++], 32, line, strlen(line),
							   NULL, &got, NULL,
							   sodium_base64_VARIANT_ORIGINAL),
					 0);
		}
		assert_int_equal(merkle_verify_consistency(7, 13, c1.root, r2, hashes[0], n),
				 VAULT_OK);
		assert_int_not_equal(merkle_verify_consistency(7, 13, r2, c1.root, hashes[0], n),
				     VAULT_OK);
	}
	sodium_memzero(sk, sizeof(sk));
}

struct collect {
	int n;
	char csv[8][AUDIT_CSV_MAX];
};

static int collect_cb(void *ctx, const struct audit_record *rec, const uint8_t *line, size_t len)
{
	struct collect *c = ctx;

	(void)line, (void)len;
	if (c->n < 8)
		assert_int_equal(audit_record_csv(rec, c->csv[c->n], AUDIT_CSV_MAX), VAULT_OK);
	c->n++;
	return 0;
}

static void test_show_filters(void **state)
{
	struct fixture *f = *state;
	struct collect c;
	struct audit_filter flt;

	append_n(f->dir, 0, 12, NULL, 0);
	memset(&c, 0, sizeof(c));
	assert_int_equal(audit_scan(f->dir, NULL, collect_cb, &c), VAULT_OK);
	assert_int_equal(c.n, 12);
	memset(&flt, 0, sizeof(flt));
	flt.worker = "bob";
	memset(&c, 0, sizeof(c));
	assert_int_equal(audit_scan(f->dir, &flt, collect_cb, &c), VAULT_OK);
	assert_int_equal(c.n, 6);
	flt.worker = "1001";
	flt.event = "session_opened";
	memset(&c, 0, sizeof(c));
	assert_int_equal(audit_scan(f->dir, &flt, collect_cb, &c), VAULT_OK);
	assert_int_equal(c.n, 2);
	assert_non_null(strstr(c.csv[0], ",session_opened,test-install,1001,bob,poste-3,"));
	assert_non_null(strstr(c.csv[0], "\"rendez-vous 1, dossier APL\""));
	memset(&flt, 0, sizeof(flt));
	flt.user = "u-jean";
	flt.since = "2026-11-28T10:00:00Z";
	flt.until = "2026-11-28T10:00:01Z";
	memset(&c, 0, sizeof(c));
	assert_int_equal(audit_scan(f->dir, &flt, collect_cb, &c), VAULT_OK);
	assert_int_equal(c.n, 4);
	flt.until = "2026-11-28T10:00:00Z";
	memset(&c, 0, sizeof(c));
	assert_int_equal(audit_scan(f->dir, &flt, collect_cb, &c), VAULT_OK);
	assert_int_equal(c.n, 0);
}

static void test_csv_injection(void **state)
{
	struct audit_record rec;
	char out[AUDIT_CSV_MAX];

	(void)state;
	memset(&rec, 0, sizeof(rec));
	rec.attempts_left = -1;
	strcpy(rec.purpose, "=HYPERLINK(\"x\")");
	strcpy(rec.event, "pin_ok");
	assert_int_equal(audit_record_csv(&rec, out, sizeof(out)), VAULT_OK);
	assert_non_null(strstr(out, ",\"'=HYPERLINK(\"\"x\"\")\","));
}

static void test_append_group(void **state)
{
	struct fixture *f = *state;
	struct audit_log *log;
	struct audit_event ctx = ctx_event(), evs[5];
	struct audit_verify_report rep;
	char purposes[5][64];
	uint64_t first;

	append_n(f->dir, 0, 2, NULL, 0);
	assert_int_equal(audit_open(f->dir, seal_key, &ctx, &log), VAULT_OK);
	for (int i = 0; i < 5; i++)
		evs[i] = event_n(i, purposes[i], sizeof(purposes[i]));
	assert_int_equal(audit_append_many(log, evs, 5, &first), VAULT_OK);
	assert_int_equal(first, 2);
	assert_int_equal(audit_size(log), 7);
	/* One bad event refuses the whole group. */
	evs[3].event = "nope";
	assert_int_equal(audit_append_many(log, evs, 5, &first), VAULT_E_INVAL);
	assert_int_equal(audit_size(log), 7);
	audit_close(log);
	assert_int_equal(verify(f->dir, NULL, NULL, &rep), VAULT_OK);
	assert_int_equal(rep.records, 7);
	assert_int_equal(rep.latest.size, 7);
}

/* Copies tests/data/audit/<name>/ into a fresh 0700 directory (git keeps no modes). */
static void fixture_dir(const char *name, char dir[PATH_MAX], char root[PATH_MAX])
{
	const char *files[] = {AUDIT_LOG_NAME, AUDIT_CHECKPOINT_NAME, AUDIT_PUB_NAME};
	char rel[128], to[PATH_MAX];

	atu_tmpdir(root);
	atu_join(dir, root, "log");
	assert_int_equal(mkdir(dir, 0700), 0);
	for (size_t i = 0; i < 3; i++) {
		size_t len;
		char *buf;
		snprintf(rel, sizeof(rel), "%s/%s", name, files[i]);
		buf = atu_data(rel, &len);
		assert_non_null(buf);
		atu_join(to, dir, files[i]);
		atu_write(to, buf, len);
		free(buf);
	}
}

static int count_cb(void *ctx, const struct audit_record *rec, const uint8_t *line, size_t len)
{
	(void)rec, (void)line, (void)len;
	(*(int *)ctx)++;
	return 0;
}

static void test_fixtures(void **state)
{
	char root[PATH_MAX], dir[PATH_MAX];
	struct audit_verify_report rep;
	struct note_verifier v;
	int n = 0;

	(void)state;
	fixture_dir("golden", dir, root);
	assert_int_equal(audit_key_read(dir, &v), VAULT_OK);
	assert_string_equal(v.name, "sesame.audit/fixture");
	verify(dir, &v, NULL, &rep);
	expect(&rep, VAULT_OK, 0);
	assert_int_equal(rep.records, 8);
	assert_int_equal(audit_scan(dir, NULL, count_cb, &n), VAULT_OK);
	assert_int_equal(n, 8);
	atu_rmtree(root);

	fixture_dir("forged", dir, root);
	verify(dir, &v, NULL, &rep);
	expect(&rep, VAULT_E_TAMPERED, 3);
	n = 0;
	assert_int_equal(audit_scan(dir, NULL, count_cb, &n), VAULT_E_LOG_RECORD);
	atu_rmtree(root);
}

static void test_wrong_sealing_key(void **state)
{
	struct fixture *f = *state;
	struct audit_log *log;
	struct audit_event ctx = ctx_event();
	uint8_t wrong[AUDIT_SEALING_KEY_LEN];

	memcpy(wrong, seal_key, sizeof(wrong));
	wrong[0] ^= 1;
	assert_int_equal(audit_open(f->dir, wrong, &ctx, &log), VAULT_E_TAMPERED);
	assert_int_equal(audit_init(f->dir, "test-install", seal_key), VAULT_E_EXISTS);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    T(test_record_roundtrip),
	    T(test_event_checks),
	    T(test_consent_until),
	    T(test_intact),
	    T(test_flipped_byte),
	    T(test_deleted_record),
	    T(test_swapped_records),
	    T(test_inserted_record),
	    T(test_truncated),
	    T(test_checkpoint_rolled_back),
	    T(test_replaced_by_other_key),
	    T(test_checkpoint_signature_altered),
	    T(test_checkpoint_from_other_log),
	    T(test_fail_closed_disk_full),
	    T(test_fail_closed_checkpoint),
	    T(test_torn_tail),
	    T(test_receipt_and_consistency),
	    T(test_show_filters),
	    cmocka_unit_test(test_csv_injection),
	    T(test_append_group),
	    cmocka_unit_test(test_fixtures),
	    T(test_wrong_sealing_key),
	};

	if (sodium_init() < 0)
		return 1;
	randombytes_buf(seal_key, sizeof(seal_key));
	return cmocka_run_group_tests(tests, NULL, NULL);
}
