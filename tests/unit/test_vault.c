#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include "entry.h"
#include "testutil.h"
#include "vault.h"

#define PIN "284619"
#define PIN2 "730512"
#define WRONG "501738"

struct fixture {
	char dir[PATH_MAX];
	uint8_t *secret;
	struct vault_store *store;
	struct vault_policy policy;
	char id[VAULT_USER_ID_HEX];
	char *recovery;
};

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));

	testutil_tmpdir(fx->dir);
	fx->secret = sodium_malloc(32);
	fx->recovery = sodium_malloc(VAULT_RECOVERY_TEXT_BYTES);
	randombytes_buf(fx->secret, 32);
	testutil_fast_policy(&fx->policy);
	assert_int_equal(vault_store_open(fx->dir, fx->secret, &fx->store), VAULT_OK);
	assert_int_equal(
	    vault_user_create(fx->store, "Mme Lefèvre", PIN, &fx->policy, fx->id, fx->recovery),
	    VAULT_OK);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;

	vault_store_close(fx->store);
	testutil_rmtree(fx->dir);
	sodium_free(fx->secret);
	sodium_free(fx->recovery);
	free(fx);
	return 0;
}

static struct vault *unlock_ok(struct fixture *fx, const char *pin)
{
	struct vault *v;
	unsigned left;

	assert_int_equal(vault_unlock_pin(fx->store, fx->id, pin, &v, &left), VAULT_OK);
	assert_int_equal(left, fx->policy.retry_limit);
	return v;
}

static void expect_failures(struct fixture *fx, unsigned failures)
{
	struct vault_user_info info;

	assert_int_equal(vault_user_info(fx->store, fx->id, &info), VAULT_OK);
	assert_int_equal(info.failures, failures);
}

static const struct vault_entry_input caf = {
    .service = "CAF",
    .url = "https://wwwd.caf.fr/wps/portal/caffr/login",
    .username = "1234567",
    .password = "s3cret-CAF",
    .notes = "numéro allocataire",
    .consent = 1,
    .consent_until = 1893456000,
};

static const struct vault_entry_input ameli = {
    .service = "ameli",
    .url = "https://assure.ameli.fr",
    .username = "2800175123456",
    .password = "ameli-pass",
    .notes = NULL,
    .consent = 0,
};

static void enrol_open_and_manage_credentials(void **state)
{
	struct fixture *fx = *state;
	struct vault_entries *es;
	struct vault_entry_input changed = caf;
	const struct vault_entry *e;
	char id1[VAULT_ENTRY_ID_HEX], id2[VAULT_ENTRY_ID_HEX];
	struct vault *v = unlock_ok(fx, PIN);
	uint64_t created;

	assert_string_equal(vault_user_id(v), fx->id);
	assert_int_equal(vault_entry_add(v, &caf, id1), VAULT_OK);
	assert_int_equal(vault_entry_add(v, &ameli, id2), VAULT_OK);
	assert_int_equal(vault_entry_add(v, &ameli, id2), VAULT_E_EXISTS);
	assert_int_equal(vault_entry_list(v, &es), VAULT_OK);
	assert_int_equal(es->n, 2);
	assert_non_null(e = vault_entries_find(es, "caf"));
	assert_string_equal(e->id, id1);
	assert_string_equal(e->url, caf.url);
	assert_string_equal(e->username, caf.username);
	assert_string_equal(e->password, caf.password);
	assert_string_equal(e->notes, caf.notes);
	assert_true(e->consent);
	assert_int_equal(e->consent_until, caf.consent_until);
	created = e->created;
	assert_non_null(e = vault_entries_find(es, "AMELI"));
	assert_string_equal(e->notes, "");
	assert_false(e->consent);
	vault_entries_free(es);

	changed.password = "new-CAF-pass";
	changed.consent = 0;
	assert_int_equal(vault_entry_update(v, id1, &changed), VAULT_OK);
	changed.service = "ameli";
	assert_int_equal(vault_entry_update(v, id1, &changed), VAULT_E_EXISTS);
	assert_int_equal(vault_entry_remove(v, id2), VAULT_OK);
	assert_int_equal(vault_entry_remove(v, id2), VAULT_E_NOTFOUND);
	assert_int_equal(vault_entry_list(v, &es), VAULT_OK);
	assert_int_equal(es->n, 1);
	assert_string_equal(es->entry[0].password, "new-CAF-pass");
	assert_false(es->entry[0].consent);
	assert_int_equal(es->entry[0].created, created);
	assert_true(es->entry[0].updated >= created);
	vault_entries_free(es);
	vault_close(v);
}

static void bad_input_is_refused(void **state)
{
	struct fixture *fx = *state;
	struct vault_entry_input bad = caf;
	char id[VAULT_ENTRY_ID_HEX], longer[VAULT_PASSWORD_MAX + 2];
	struct vault *v = unlock_ok(fx, PIN);

	bad.service = "";
	assert_int_equal(vault_entry_add(v, &bad, id), VAULT_E_INVAL);
	bad.service = "CAF\n";
	assert_int_equal(vault_entry_add(v, &bad, id), VAULT_E_NOTUTF8);
	bad.service = "CAF\xc3";
	assert_int_equal(vault_entry_add(v, &bad, id), VAULT_E_NOTUTF8);
	bad = caf;
	memset(longer, 'x', sizeof(longer) - 1);
	longer[sizeof(longer) - 1] = '\0';
	bad.password = longer;
	assert_int_equal(vault_entry_add(v, &bad, id), VAULT_E_TOOLONG);
	assert_int_equal(vault_entry_update(v, "not-an-id", &caf), VAULT_E_INVAL);
	vault_close(v);
}

/* A stubborn site: the finder is told where the fields are. */
static const struct vault_entry_input stubborn = {
    .service = "France Travail",
    .url = "https://candidat.francetravail.fr/connexion",
    .username = "1234567A",
    .password = "pass-ft",
    .consent = 1,
    .username_selector = "form#login input[data-k=\"id\"]",
    .password_selector = "#mdp-2",
};

static void selectors_round_trip(void **state)
{
	struct fixture *fx = *state;
	struct vault_entry_input plain = stubborn;
	char id1[VAULT_ENTRY_ID_HEX], id2[VAULT_ENTRY_ID_HEX];
	struct vault *v = unlock_ok(fx, PIN);
	struct vault_entries *es;
	const struct vault_entry *e;

	assert_int_equal(vault_entry_add(v, &stubborn, id1), VAULT_OK);
	assert_int_equal(vault_entry_add(v, &caf, id2), VAULT_OK);
	assert_int_equal(vault_entry_list(v, &es), VAULT_OK);
	assert_non_null(e = vault_entries_find(es, "france travail"));
	assert_string_equal(e->username_selector, stubborn.username_selector);
	assert_string_equal(e->password_selector, stubborn.password_selector);
	assert_string_equal(e->password, stubborn.password);
	assert_string_equal(e->notes, "");
	assert_non_null(e = vault_entries_find(es, "CAF"));
	assert_string_equal(e->username_selector, "");
	assert_string_equal(e->password_selector, "");
	vault_entries_free(es);
	/* changed without selectors, it goes back to format 1 and has none */
	plain.username_selector = NULL;
	plain.password_selector = "";
	assert_int_equal(vault_entry_update(v, id1, &plain), VAULT_OK);
	assert_int_equal(vault_entry_list(v, &es), VAULT_OK);
	assert_non_null(e = vault_entries_find(es, "France Travail"));
	assert_string_equal(e->username_selector, "");
	assert_string_equal(e->password_selector, "");
	vault_entries_free(es);
	vault_close(v);
}

static void bad_selectors_are_refused(void **state)
{
	struct fixture *fx = *state;
	struct vault_entry_input bad = stubborn;
	char id[VAULT_ENTRY_ID_HEX], longer[VAULT_SELECTOR_MAX + 2];
	struct vault *v = unlock_ok(fx, PIN);

	memset(longer, 'a', sizeof(longer) - 1);
	longer[sizeof(longer) - 1] = '\0';
	bad.username_selector = longer;
	assert_int_equal(vault_entry_add(v, &bad, id), VAULT_E_TOOLONG);
	bad = stubborn;
	bad.password_selector = longer;
	assert_int_equal(vault_entry_add(v, &bad, id), VAULT_E_TOOLONG);
	bad.password_selector = "#a\n#b";
	assert_int_equal(vault_entry_add(v, &bad, id), VAULT_E_NOTUTF8);
	longer[VAULT_SELECTOR_MAX] = '\0'; /* exactly the limit */
	bad.password_selector = longer;
	assert_int_equal(vault_entry_add(v, &bad, id), VAULT_OK);
	vault_close(v);
}

/* Format 1 without selectors (old entries keep their bytes), format 2 with; nothing else. */
static void entry_formats(void **state)
{
	static uint8_t plain[VAULT_ENTRY_PLAIN_MAX];
	static char strings[VAULT_ENTRY_PLAIN_MAX + VAULT_ENTRY_FIELDS];
	struct vault_entry e;
	char *p = strings;
	size_t len;

	(void)state;
	assert_int_equal(entry_encode(plain, &len, &caf, 1, 2), VAULT_OK);
	assert_int_equal(plain[0], VAULT_ENTRY_FORMAT_V1);
	assert_int_equal(entry_decode(plain, len, &e, &p), VAULT_OK);
	assert_string_equal(e.username_selector, "");
	assert_string_equal(e.password_selector, "");
	/* format 2 with both selectors empty has a format-1 encoding: refused */
	plain[0] = VAULT_ENTRY_FORMAT_V2;
	memset(plain + len, 0, 4);
	assert_int_equal(entry_decode(plain, len + 4, &e, &p), VAULT_E_FORMAT);
	assert_int_equal(entry_encode(plain, &len, &stubborn, 1, 2), VAULT_OK);
	assert_int_equal(plain[0], VAULT_ENTRY_FORMAT_V2);
	p = strings;
	assert_int_equal(entry_decode(plain, len, &e, &p), VAULT_OK);
	assert_string_equal(e.username_selector, stubborn.username_selector);
	assert_string_equal(e.password_selector, stubborn.password_selector);
	plain[0] = VAULT_ENTRY_FORMAT_V1; /* the selectors are then trailing bytes */
	assert_int_equal(entry_decode(plain, len, &e, &p), VAULT_E_FORMAT);
	plain[0] = VAULT_ENTRY_FORMAT_V3; /* two strings short */
	assert_int_equal(entry_decode(plain, len, &e, &p), VAULT_E_FORMAT);
	plain[0] = 4;
	assert_int_equal(entry_decode(plain, len, &e, &p), VAULT_E_FORMAT);
	plain[0] = 0;
	assert_int_equal(entry_decode(plain, len, &e, &p), VAULT_E_FORMAT);
}

/* Format 3: a submit selector or clicks before filling; the clicks are checked line by line. */
static void entry_format3(void **state)
{
	static uint8_t plain[VAULT_ENTRY_PLAIN_MAX];
	static char strings[VAULT_ENTRY_PLAIN_MAX + VAULT_ENTRY_FIELDS];
	static char longest[VAULT_BEFORE_CLICKS_TEXT_MAX + 2];
	struct vault_entry_input in = caf;
	struct vault_entry e;
	char *p = strings;
	size_t len;

	(void)state;
	in.submit_selector = "app-shell >>> ds-button >>> button";
	in.before_clicks = "a#idp-ameli\n#consent-refuse";
	assert_int_equal(entry_encode(plain, &len, &in, 1, 2), VAULT_OK);
	assert_int_equal(plain[0], VAULT_ENTRY_FORMAT_V3);
	assert_int_equal(entry_decode(plain, len, &e, &p), VAULT_OK);
	assert_string_equal(e.submit_selector, in.submit_selector);
	assert_string_equal(e.before_clicks, in.before_clicks);
	assert_string_equal(e.username_selector, "");
	/* format 3 saying nothing more than format 1: refused */
	in.submit_selector = in.before_clicks = "";
	assert_int_equal(entry_encode(plain, &len, &in, 1, 2), VAULT_OK);
	assert_int_equal(plain[0], VAULT_ENTRY_FORMAT_V1);
	plain[0] = VAULT_ENTRY_FORMAT_V3;
	memset(plain + len, 0, 8);
	p = strings;
	assert_int_equal(entry_decode(plain, len + 8, &e, &p), VAULT_E_FORMAT);
	/* clicks: no empty line, no line feed at either end, at most four, each a selector */
	assert_int_equal(entry_clicks_check("a\n\nb", 4), VAULT_E_INVAL);
	assert_int_equal(entry_clicks_check("a\n", 2), VAULT_E_INVAL);
	assert_int_equal(entry_clicks_check("\na", 2), VAULT_E_INVAL);
	assert_int_equal(entry_clicks_check("a\nb\nc\nd", 7), VAULT_OK);
	assert_int_equal(entry_clicks_check("a\nb\nc\nd\ne", 9), VAULT_E_INVAL);
	assert_int_equal(entry_clicks_check("a\tb", 3), VAULT_E_NOTUTF8);
	for (size_t i = 0; i < VAULT_BEFORE_CLICKS_MAX; i++) { /* four selectors at the limit */
		memset(longest + i * (VAULT_SELECTOR_MAX + 1), 'x', VAULT_SELECTOR_MAX);
		longest[i * (VAULT_SELECTOR_MAX + 1) + VAULT_SELECTOR_MAX] = '\n';
	}
	longest[VAULT_BEFORE_CLICKS_TEXT_MAX] = '\0';
	in.before_clicks = longest;
	in.submit_selector = "#go";
	in.username_selector = in.password_selector = "x";
	assert_int_equal(entry_encode(plain, &len, &in, 1, 2), VAULT_OK);
	longest[VAULT_SELECTOR_MAX] = 'x'; /* a selector one byte too long */
	assert_int_equal(entry_clicks_check(longest, strlen(longest)), VAULT_E_TOOLONG);
}

static void names_find_users_and_are_unique(void **state)
{
	struct fixture *fx = *state;
	char id[VAULT_USER_ID_HEX], other[VAULT_USER_ID_HEX];
	struct vault_user_info *users;
	size_t n, skipped;

	assert_int_equal(vault_user_find(fx->store, "Mme Lefèvre", id), VAULT_OK);
	assert_string_equal(id, fx->id);
	assert_int_equal(vault_user_find(fx->store, fx->id, id), VAULT_OK);
	assert_int_equal(vault_user_find(fx->store, "M. Nobody", id), VAULT_E_NOTFOUND);
	assert_int_equal(
	    vault_user_create(fx->store, "Mme Lefèvre", PIN2, &fx->policy, other, fx->recovery),
	    VAULT_E_EXISTS);
	assert_int_equal(
	    vault_user_create(fx->store, "M. Diallo", "123456", &fx->policy, other, fx->recovery),
	    VAULT_E_PIN_SEQUENCE);
	assert_int_equal(
	    vault_user_create(fx->store, "M. Diallo", PIN2, &fx->policy, other, fx->recovery),
	    VAULT_OK);
	assert_int_equal(vault_user_list(fx->store, &users, &n, &skipped), VAULT_OK);
	assert_int_equal(n, 2);
	assert_int_equal(skipped, 0);
	assert_string_equal(users[0].name, "M. Diallo");
	assert_string_equal(users[1].name, "Mme Lefèvre");
	free(users);
}

static void change_pin(void **state)
{
	struct fixture *fx = *state;
	struct vault *v = unlock_ok(fx, PIN);
	unsigned left;

	assert_int_equal(vault_change_pin(v, "111111", &fx->policy), VAULT_E_PIN_REPEATED);
	assert_int_equal(vault_change_pin(v, PIN2, &fx->policy), VAULT_OK);
	vault_close(v);
	assert_int_equal(vault_unlock_pin(fx->store, fx->id, PIN, &v, &left), VAULT_E_BADPIN);
	assert_null(v);
	v = unlock_ok(fx, PIN2);
	vault_close(v);
}

static void wrong_pins_count_and_survive_reopening(void **state)
{
	struct fixture *fx = *state;
	struct vault *v;
	unsigned left;

	assert_int_equal(vault_unlock_pin(fx->store, fx->id, WRONG, &v, &left), VAULT_E_BADPIN);
	assert_int_equal(left, 4);
	assert_int_equal(vault_unlock_pin(fx->store, fx->id, "12a4", &v, &left),
			 VAULT_E_PIN_DIGITS);
	assert_int_equal(vault_unlock_pin(fx->store, fx->id, WRONG, &v, &left), VAULT_E_BADPIN);
	assert_int_equal(left, 3);
	vault_store_close(fx->store);
	assert_int_equal(vault_store_open(fx->dir, fx->secret, &fx->store), VAULT_OK);
	expect_failures(fx, 2);
	v = unlock_ok(fx, PIN);
	vault_close(v);
	expect_failures(fx, 0);
}

static void limit_blocks_until_recovery(void **state)
{
	struct fixture *fx = *state;
	char *old = sodium_malloc(VAULT_RECOVERY_TEXT_BYTES);
	char *fresh = sodium_malloc(VAULT_RECOVERY_TEXT_BYTES);
	struct vault_user_info info;
	struct vault *v;
	unsigned left;

	memcpy(old, fx->recovery, VAULT_RECOVERY_TEXT_BYTES);
	for (unsigned i = 0; i < fx->policy.retry_limit; i++)
		assert_int_equal(vault_unlock_pin(fx->store, fx->id, WRONG, &v, &left),
				 VAULT_E_BADPIN);
	assert_int_equal(left, 0);
	assert_int_equal(vault_unlock_pin(fx->store, fx->id, PIN, &v, &left), VAULT_E_BLOCKED);
	assert_null(v);
	assert_int_equal(vault_user_info(fx->store, fx->id, &info), VAULT_OK);
	assert_true(info.blocked);

	/* a typo in the sheet, then a new PIN that is too weak: nothing changes */
	old[0] = old[0] == 'A' ? 'B' : 'A';
	assert_int_equal(
	    vault_unlock_recovery(fx->store, fx->id, old, PIN2, &fx->policy, fresh, &v),
	    VAULT_E_CHECKSUM);
	memcpy(old, fx->recovery, VAULT_RECOVERY_TEXT_BYTES);
	assert_int_equal(
	    vault_unlock_recovery(fx->store, fx->id, old, "000000", &fx->policy, fresh, &v),
	    VAULT_E_PIN_REPEATED);
	assert_int_equal(
	    vault_unlock_recovery(fx->store, fx->id, old, PIN2, &fx->policy, fresh, &v), VAULT_OK);
	assert_string_not_equal(fresh, old);
	vault_close(v);
	expect_failures(fx, 0);
	v = unlock_ok(fx, PIN2);
	vault_close(v);
	/* the old sheet may have been seen: it opens nothing any more */
	assert_int_equal(
	    vault_unlock_recovery(fx->store, fx->id, old, PIN, &fx->policy, fx->recovery, &v),
	    VAULT_E_BADRECOVERY);
	assert_int_equal(
	    vault_unlock_recovery(fx->store, fx->id, fresh, PIN, &fx->policy, fx->recovery, &v),
	    VAULT_OK);
	vault_close(v);
	sodium_free(old);
	sodium_free(fresh);
}

static void another_users_recovery_key_opens_nothing(void **state)
{
	struct fixture *fx = *state;
	char other[VAULT_USER_ID_HEX];
	char *rec = sodium_malloc(VAULT_RECOVERY_TEXT_BYTES);
	char *fresh = sodium_malloc(VAULT_RECOVERY_TEXT_BYTES);
	struct vault *v;

	assert_int_equal(vault_user_create(fx->store, "M. Diallo", PIN2, &fx->policy, other, rec),
			 VAULT_OK);
	assert_int_equal(
	    vault_unlock_recovery(fx->store, fx->id, rec, PIN2, &fx->policy, fresh, &v),
	    VAULT_E_BADRECOVERY);
	sodium_free(rec);
	sodium_free(fresh);
}

/* A KDF that says on gate->started when it begins, then waits for a byte (or end of file) on
 * gate->go before computing: the test decides when the KDF may end, so what it checks while
 * the KDF runs does not depend on how fast the machine is. */
struct kdf_gate {
	int started[2];
	int go[2];
};

static int gated_kdf(void *ctx, uint8_t *out, const char *pin, size_t pin_len, const uint8_t *salt,
		     uint32_t ops, uint32_t mem_kib)
{
	struct kdf_gate *gate = ctx;
	char c;

	if (write(gate->started[1], "S", 1) != 1 || read(gate->go[0], &c, 1) < 0)
		return -1;
	return crypto_pwhash(out, VAULT_KEY_BYTES, pin, pin_len, salt, ops, (size_t)mem_kib * 1024,
			     crypto_pwhash_ALG_ARGON2ID13);
}

/* In a child: a guess whose KDF is held at gate; exits 0 if it ends with BADPIN. */
static pid_t guess_behind_gate(struct fixture *fx, struct kdf_gate *gate, const char *pin)
{
	pid_t pid;

	assert_int_equal(pipe(gate->started), 0);
	assert_int_equal(pipe(gate->go), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct vault *w;
		unsigned left;
		close(gate->started[0]);
		close(gate->go[1]);
		vault_store_set_kdf(fx->store, gated_kdf, gate);
		_exit(vault_unlock_pin(fx->store, fx->id, pin, &w, &left) == VAULT_E_BADPIN ? 0
											    : 1);
	}
	close(gate->started[1]);
	close(gate->go[0]);
	return pid;
}

/* True if nobody holds id's vault lock (probed without waiting). */
static bool vault_lock_free(const struct fixture *fx)
{
	char path[PATH_MAX + 64];
	bool free_now;
	int fd;

	snprintf(path, sizeof(path), "%s/%s.lock", fx->dir, fx->id);
	fd = open(path, O_RDWR | O_CLOEXEC);
	assert_true(fd >= 0);
	free_now = flock(fd, LOCK_EX | LOCK_NB) == 0;
	close(fd);
	return free_now;
}

/* Kill the process while the KDF runs on the right PIN: the attempt stays counted, so killing
 * a guess before it can fail never gives a free try. */
static void kill_during_kdf_keeps_attempt_counted(void **state)
{
	struct fixture *fx = *state;
	struct kdf_gate gate;
	int status;
	char c;
	pid_t pid;

	pid = guess_behind_gate(fx, &gate, PIN);
	assert_int_equal(read(gate.started[0], &c, 1), 1); /* inside the KDF */
	kill(pid, SIGKILL);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status)); /* it died inside the KDF, before any reset */
	close(gate.started[0]);
	close(gate.go[1]);
	vault_store_close(fx->store);
	assert_int_equal(vault_store_open(fx->dir, fx->secret, &fx->store), VAULT_OK);
	expect_failures(fx, 1);
}

/* A PIN check holds the vault's lock only to count the attempt, not during the KDF: while the
 * KDF of a guess is running (and kept running), the lock is free and a write by another session
 * (here, the same person's open vault) goes through. */
static void pin_check_does_not_block_writers(void **state)
{
	struct fixture *fx = *state;
	char eid[VAULT_ENTRY_ID_HEX], c;
	struct kdf_gate gate;
	struct vault *v;
	int status;
	pid_t pid;

	v = unlock_ok(fx, PIN);
	pid = guess_behind_gate(fx, &gate, WRONG);
	assert_int_equal(read(gate.started[0], &c, 1), 1); /* the guess's KDF has begun */
	expect_failures(fx, 1);				   /* counted before it */
	assert_true(vault_lock_free(fx));
	assert_int_equal(vault_entry_add(v, &caf, eid), VAULT_OK);
	assert_int_equal(write(gate.go[1], "G", 1), 1); /* only now may the KDF end */
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0); /* the guess ran its KDF to the end */
	close(gate.started[0]);
	close(gate.go[1]);
	vault_close(v);
	expect_failures(fx, 1);
}

/* A copied data directory is useless without the device secret, even with the right PIN. */
static void copy_without_device_secret_does_not_open(void **state)
{
	struct fixture *fx = *state;
	uint8_t *other = sodium_malloc(32);
	struct vault_store *thief;
	struct vault_user_info *users;
	struct vault *v;
	size_t n, skipped;
	unsigned left;
	char id[VAULT_USER_ID_HEX];

	randombytes_buf(other, 32);
	assert_int_equal(vault_store_open(fx->dir, other, &thief), VAULT_OK);
	assert_int_equal(vault_unlock_pin(thief, fx->id, PIN, &v, &left), VAULT_E_TAMPERED);
	assert_null(v);
	assert_int_equal(vault_user_find(thief, "Mme Lefèvre", id), VAULT_E_NOTFOUND);
	assert_int_equal(vault_user_list(thief, &users, &n, &skipped), VAULT_OK);
	assert_int_equal(n, 0);
	assert_int_equal(skipped, 1);
	free(users);
	vault_store_close(thief);
	sodium_free(other);
	expect_failures(fx, 0); /* and it could not even spend the user's attempts */
}

static void destroy_removes_the_vault(void **state)
{
	struct fixture *fx = *state;
	char path[PATH_MAX + 64];
	struct vault *v;
	unsigned left;

	assert_int_equal(vault_user_destroy(fx->store, fx->id), VAULT_OK);
	snprintf(path, sizeof(path), "%s/%s.vault", fx->dir, fx->id);
	assert_int_equal(access(path, F_OK), -1);
	snprintf(path, sizeof(path), "%s/%s.lock", fx->dir, fx->id);
	assert_int_equal(access(path, F_OK), -1);
	assert_int_equal(vault_unlock_pin(fx->store, fx->id, PIN, &v, &left), VAULT_E_NOTFOUND);
	assert_int_equal(vault_user_destroy(fx->store, fx->id), VAULT_E_NOTFOUND);
}

/* Writers in separate processes add entries at once; the lock loses none. */
static void concurrent_writers_lose_nothing(void **state)
{
	struct fixture *fx = *state;
	struct vault_entries *es;
	struct vault *v;
	pid_t pids[2];
	int status;

	for (int p = 0; p < 2; p++) {
		pids[p] = fork();
		assert_true(pids[p] >= 0);
		if (pids[p] == 0) {
			struct vault_entry_input in = ameli;
			char service[32], id[VAULT_ENTRY_ID_HEX];
			unsigned left;
			int bad = 0;
			if (vault_unlock_pin(fx->store, fx->id, PIN, &v, &left) != VAULT_OK)
				_exit(2);
			for (int i = 0; i < 10; i++) {
				snprintf(service, sizeof(service), "service-%d-%d", p, i);
				in.service = service;
				bad |= vault_entry_add(v, &in, id) != VAULT_OK;
			}
			vault_close(v);
			_exit(bad);
		}
	}
	for (int p = 0; p < 2; p++) {
		assert_int_equal(waitpid(pids[p], &status, 0), pids[p]);
		assert_int_equal(WEXITSTATUS(status), 0);
	}
	v = unlock_ok(fx, PIN);
	assert_int_equal(vault_entry_list(v, &es), VAULT_OK);
	assert_int_equal(es->n, 20);
	vault_entries_free(es);
	vault_close(v);
}

/* Kill writers at random instants: the vault always opens, with the old or the new content. */
static void crash_at_any_instant_leaves_a_valid_vault(void **state)
{
	struct fixture *fx = *state;
	struct vault_entries *es;
	struct vault *v;
	size_t before = 0;

	for (int round = 0; round < 40; round++) {
		int status;
		pid_t pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			struct vault_entry_input in = ameli;
			char service[32], id[VAULT_ENTRY_ID_HEX];
			unsigned left;
			if (vault_unlock_pin(fx->store, fx->id, PIN, &v, &left) != VAULT_OK)
				_exit(2);
			for (int i = 0;; i++) {
				snprintf(service, sizeof(service), "s-%d-%d", round, i);
				in.service = service;
				if (vault_entry_add(v, &in, id) != VAULT_OK)
					_exit(3);
				if (i < 3)
					continue;
				vault_entry_remove(v, id);
			}
		}
		usleep((useconds_t)randombytes_uniform(30000));
		kill(pid, SIGKILL);
		assert_int_equal(waitpid(pid, &status, 0), pid);
		v = unlock_ok(fx, PIN);
		assert_int_equal(vault_entry_list(v, &es), VAULT_OK);
		assert_true(es->n >= before);
		before = es->n;
		vault_entries_free(es);
		vault_close(v);
	}
}

static int failing_kdf(void *ctx, uint8_t *out, const char *pin, size_t pin_len,
		       const uint8_t *salt, uint32_t ops, uint32_t mem_kib)
{
	(void)ctx, (void)out, (void)pin, (void)pin_len, (void)salt, (void)ops, (void)mem_kib;
	return -1;
}

static void write_file(const char *path, const uint8_t *buf, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, buf, len), (ssize_t)len);
	close(fd);
}

/* The KDF failing (a helper killed, memory refused) tried no slot: the attempt is given back. */
static void kdf_failure_gives_the_attempt_back(void **state)
{
	struct fixture *fx = *state;
	struct vault_user_info info;
	struct vault *v = NULL;
	unsigned left = 0;

	vault_store_set_kdf(fx->store, failing_kdf, NULL);
	for (int i = 0; i < 7; i++)
		assert_int_equal(vault_unlock_pin(fx->store, fx->id, PIN, &v, &left),
				 VAULT_E_CRYPTO);
	assert_int_equal(vault_user_info(fx->store, fx->id, &info), VAULT_OK);
	assert_int_equal(info.failures, 0);
	vault_store_set_kdf(fx->store, NULL, NULL);
	vault_close(unlock_ok(fx, PIN));
}

/* What a crash leaves goes: a temporary copy of the vault, and a change never committed. */
static void tidy_puts_back_and_removes_copies(void **state)
{
	struct fixture *fx = *state;
	char name[PATH_MAX + 64], undo[PATH_MAX + 64], tmp[PATH_MAX + 64];
	uint8_t *snap;
	size_t len;
	struct vault *v = unlock_ok(fx, PIN);

	assert_int_equal(vault_snapshot(fx->store, fx->id, &snap, &len), VAULT_OK);
	assert_int_equal(vault_change_pin(v, PIN2, &fx->policy), VAULT_OK);
	vault_close(v);
	snprintf(undo, sizeof(undo), "%s/%s.vault.undo", fx->dir, fx->id);
	snprintf(tmp, sizeof(tmp), "%s/.%s.vault.00112233aabbccdd.tmp", fx->dir, fx->id);
	snprintf(name, sizeof(name), "%s/%s.vault", fx->dir, fx->id);
	write_file(undo, snap, len);
	write_file(tmp, snap, len);
	free(snap);
	assert_int_equal(vault_store_tidy(fx->store, NULL, NULL), VAULT_OK);
	assert_int_equal(access(undo, F_OK), -1);
	assert_int_equal(access(tmp, F_OK), -1);
	assert_int_equal(access(name, F_OK), 0);
	vault_close(unlock_ok(fx, PIN)); /* the change was put back */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(enrol_open_and_manage_credentials, setup, teardown),
	    cmocka_unit_test_setup_teardown(bad_input_is_refused, setup, teardown),
	    cmocka_unit_test_setup_teardown(selectors_round_trip, setup, teardown),
	    cmocka_unit_test_setup_teardown(bad_selectors_are_refused, setup, teardown),
	    cmocka_unit_test(entry_formats),
	    cmocka_unit_test(entry_format3),
	    cmocka_unit_test_setup_teardown(names_find_users_and_are_unique, setup, teardown),
	    cmocka_unit_test_setup_teardown(change_pin, setup, teardown),
	    cmocka_unit_test_setup_teardown(wrong_pins_count_and_survive_reopening, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(limit_blocks_until_recovery, setup, teardown),
	    cmocka_unit_test_setup_teardown(another_users_recovery_key_opens_nothing, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(kill_during_kdf_keeps_attempt_counted, setup, teardown),
	    cmocka_unit_test_setup_teardown(pin_check_does_not_block_writers, setup, teardown),
	    cmocka_unit_test_setup_teardown(copy_without_device_secret_does_not_open, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(destroy_removes_the_vault, setup, teardown),
	    cmocka_unit_test_setup_teardown(concurrent_writers_lose_nothing, setup, teardown),
	    cmocka_unit_test_setup_teardown(crash_at_any_instant_leaves_a_valid_vault, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(kdf_failure_gives_the_attempt_back, setup, teardown),
	    cmocka_unit_test_setup_teardown(tidy_puts_back_and_removes_copies, setup, teardown),
	};
	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
