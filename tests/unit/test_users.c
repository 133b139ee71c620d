/* The people index (vault/users.h): folding, order, pages and search, changes, and the store
 * that keeps it current on enrolment, withdrawal and every write of a retry counter. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "testutil.h"
#include "users.h"

#define PIN "284619"

static void fold_is(const char *name, const char *want)
{
	char out[VAULT_NAME_MAX + 1];

	vault_people_fold(name, out, sizeof(out));
	assert_string_equal(out, want);
}

static void test_fold(void **state)
{
	char name[VAULT_NAME_MAX + 1], out[VAULT_NAME_MAX + 1];

	(void)state;
	fold_is("Élodie DURAND", "elodie durand");
	fold_is("Œdipe, Ærø, Straße", "oedipe, aero, strasse");
	fold_is("Łukasz Żółć", "lukasz zolc");
	fold_is("Ĳssel ſ", "ijssel s");
	fold_is("× ÷ Þ", "× ÷ Þ");	 /* no letter to fold them to */
	fold_is("李 Ωmega", "李 Ωmega"); /* outside Latin: as they are */
	/* the longest name folds whole */
	memset(name, 'E', VAULT_NAME_MAX);
	name[VAULT_NAME_MAX] = '\0';
	vault_people_fold(name, out, sizeof(out));
	assert_int_equal(strlen(out), VAULT_NAME_MAX);
}

static void page_names(struct vault_people *p, const char *cursor, const char *prefix, size_t limit,
		       const char *want, int want_more, char *next)
{
	struct vault_person out[8];
	char got[512] = "";
	size_t n;
	int more;

	assert_int_equal(vault_people_page(p, cursor, prefix, limit, out, &n, &more, next),
			 VAULT_OK);
	for (size_t i = 0; i < n; i++) {
		strcat(got, i ? "," : "");
		strcat(got, out[i].name);
	}
	assert_string_equal(got, want);
	assert_int_equal(more, want_more);
}

struct fixture {
	char dir[PATH_MAX];
	uint8_t *secret;
	struct vault_store *store;
	struct vault_policy policy;
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
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;

	vault_store_set_people(fx->store, NULL);
	vault_store_close(fx->store);
	testutil_rmtree(fx->dir);
	sodium_free(fx->secret);
	sodium_free(fx->recovery);
	free(fx);
	return 0;
}

static void enrol(struct fixture *fx, const char *name, char id[VAULT_USER_ID_HEX])
{
	assert_int_equal(vault_user_create(fx->store, name, PIN, &fx->policy, id, fx->recovery),
			 VAULT_OK);
}

/* Loaded from the vaults, then kept current by the store: pages, cursors, search. */
static void test_index(void **state)
{
	struct fixture *fx = *state;
	char id[5][VAULT_USER_ID_HEX], next[VAULT_PEOPLE_CURSOR_MAX], other[VAULT_USER_ID_HEX];
	struct vault_people *p;
	struct vault_person who;
	size_t unreadable;
	int more;

	enrol(fx, "Zoé Blanc", id[0]);
	enrol(fx, "émile Martin", id[1]);
	enrol(fx, "Eloïse Petit", id[2]);
	assert_int_equal(vault_people_load(fx->store, NULL, &p, &unreadable), VAULT_OK);
	assert_int_equal(unreadable, 0);
	assert_int_equal(vault_people_count(p), 3);
	vault_store_set_people(fx->store, p);

	page_names(p, NULL, NULL, 8, "Eloïse Petit,émile Martin,Zoé Blanc", 0, next);
	page_names(p, NULL, NULL, 2, "Eloïse Petit,émile Martin", 1, next);
	page_names(p, next, NULL, 2, "Zoé Blanc", 0, next);
	page_names(p, NULL, "E", 8, "Eloïse Petit,émile Martin", 0, next);
	page_names(p, NULL, "EMI", 8, "émile Martin", 0, next);
	page_names(p, NULL, "zoe b", 8, "Zoé Blanc", 0, next);
	page_names(p, NULL, "x", 8, "", 0, next);

	/* enrolment and withdrawal through the store keep the index current */
	enrol(fx, "Anne Roux", id[3]);
	assert_int_equal(
	    vault_user_create(fx->store, "Anne Roux", PIN, &fx->policy, other, fx->recovery),
	    VAULT_E_EXISTS);
	assert_int_equal(vault_user_find(fx->store, "Anne Roux", other), VAULT_OK);
	assert_string_equal(other, id[3]);
	assert_int_equal(vault_people_find(p, id[1], &who), VAULT_OK);
	assert_string_equal(who.name, "émile Martin");
	/* a cursor whose person was withdrawn still says where the next page starts */
	page_names(p, NULL, NULL, 2, "Anne Roux,Eloïse Petit", 1, next);
	assert_int_equal(vault_user_destroy(fx->store, id[2]), VAULT_OK);
	page_names(p, next, NULL, 8, "émile Martin,Zoé Blanc", 0, next);
	assert_int_equal(vault_user_find(fx->store, "Eloïse Petit", other), VAULT_E_NOTFOUND);
	assert_int_equal(vault_people_find(p, id[2], &who), VAULT_E_NOTFOUND);
	assert_int_equal(vault_people_count(p), 3);

	/* malformed cursors and limits */
	assert_int_equal(vault_people_page(p, "nonsense", NULL, 1, &who, &unreadable, &more, next),
			 VAULT_E_INVAL);
	assert_int_equal(vault_people_page(p, NULL, NULL, VAULT_PEOPLE_PAGE_MAX + 1, &who,
					   &unreadable, &more, next),
			 VAULT_E_INVAL);
	vault_store_set_people(fx->store, NULL);
	vault_people_free(p);
}

/* Many changes in any order: both orders stay right (the last record moves into a hole). */
static void test_churn(void **state)
{
	struct vault_people *p;
	struct fixture *fx = *state;
	struct vault_person out[VAULT_PEOPLE_PAGE_MAX], who;
	char id[VAULT_USER_ID_HEX], name[32], next[VAULT_PEOPLE_CURSOR_MAX];
	size_t n, unreadable, total = 0;
	int more = 1;

	assert_int_equal(vault_people_load(fx->store, NULL, &p, &unreadable), VAULT_OK);
	for (unsigned i = 0; i < 1000; i++) {
		snprintf(id, sizeof(id), "%032x", i * 7919u);
		snprintf(name, sizeof(name), "Name %04u", (i * 613u) % 1000u);
		assert_int_equal(vault_people_add(p, id, name, 0, 5), VAULT_OK);
	}
	assert_int_equal(vault_people_add(p, id, "Other", 0, 5), VAULT_E_EXISTS);
	for (unsigned i = 0; i < 1000; i += 3) {
		snprintf(id, sizeof(id), "%032x", i * 7919u);
		assert_int_equal(vault_people_remove(p, id), VAULT_OK);
	}
	for (unsigned i = 0; i < 1000; i++) {
		snprintf(id, sizeof(id), "%032x", i * 7919u);
		snprintf(name, sizeof(name), "Name %04u", (i * 613u) % 1000u);
		assert_int_equal(vault_people_find(p, id, &who),
				 i % 3 ? VAULT_OK : VAULT_E_NOTFOUND);
		if (i % 3)
			assert_string_equal(who.name, name);
		assert_int_equal(vault_people_find(p, name, &who),
				 i % 3 ? VAULT_OK : VAULT_E_NOTFOUND);
	}
	next[0] = '\0';
	while (more) {
		assert_int_equal(
		    vault_people_page(p, next, NULL, VAULT_PEOPLE_PAGE_MAX, out, &n, &more, next),
		    VAULT_OK);
		for (size_t i = 1; i < n; i++)
			assert_true(strcmp(out[i - 1].name, out[i].name) < 0);
		total += n;
	}
	assert_int_equal(total, vault_people_count(p));
	assert_int_equal(total, 666);
	vault_people_free(p);
}

static void counter_is(struct vault_people *p, const char *id, unsigned failures,
		       unsigned retry_limit)
{
	struct vault_person who;

	assert_int_equal(vault_people_find(p, id, &who), VAULT_OK);
	assert_int_equal(who.failures, failures);
	assert_int_equal(who.retry_limit, retry_limit);
}

/* The counter a page shows is the file's after every write the store makes: wrong PINs, the
 * reset on success, blocking, recovery, enrolment; never read back from the file. */
static void test_counters(void **state)
{
	struct fixture *fx = *state;
	char id[2][VAULT_USER_ID_HEX], *recovery = sodium_malloc(VAULT_RECOVERY_TEXT_BYTES);
	unsigned limit = fx->policy.retry_limit, left;
	struct vault_people *p;
	struct vault *v;
	size_t unreadable;

	enrol(fx, "Anne Roux", id[0]);
	assert_int_equal(vault_unlock_pin(fx->store, id[0], "111111", &v, &left), VAULT_E_BADPIN);
	assert_int_equal(vault_people_load(fx->store, NULL, &p, &unreadable), VAULT_OK);
	vault_store_set_people(fx->store, p);
	counter_is(p, id[0], 1, limit); /* as loaded */
	enrol(fx, "Marc Petit", id[1]);
	counter_is(p, id[1], 0, limit);
	assert_int_equal(vault_unlock_pin(fx->store, id[0], "111111", &v, &left), VAULT_E_BADPIN);
	counter_is(p, id[0], 2, limit);
	assert_int_equal(vault_unlock_pin(fx->store, id[0], PIN, &v, &left), VAULT_OK);
	vault_close(v);
	counter_is(p, id[0], 0, limit);
	for (unsigned i = 0; i < limit; i++)
		assert_int_equal(vault_unlock_pin(fx->store, id[1], "111111", &v, &left),
				 VAULT_E_BADPIN);
	counter_is(p, id[1], limit, limit); /* blocked */
	assert_int_equal(vault_unlock_recovery(fx->store, id[1], fx->recovery, "582914",
					       &fx->policy, recovery, &v),
			 VAULT_OK);
	vault_close(v);
	counter_is(p, id[1], 0, limit);
	counter_is(p, id[0], 0, limit);
	assert_int_equal(vault_people_set_counter(p, id[0], limit + 1, limit), VAULT_E_INVAL);
	assert_int_equal(vault_people_set_counter(p, "00000000000000000000000000000000", 0, limit),
			 VAULT_E_NOTFOUND);
	vault_store_set_people(fx->store, NULL);
	vault_people_free(p);
	sodium_free(recovery);
}

/* More files than one loading thread takes at a time, some damaged: every readable one is
 * indexed once, with its own name, and the damaged ones are counted, not indexed. */
static void test_load_damaged(void **state)
{
	enum { PEOPLE = 100, EVERY = 9 };
	struct fixture *fx = *state;
	char id[PEOPLE][VAULT_USER_ID_HEX], name[32], path[PATH_MAX + 64];
	struct vault_people *p;
	struct vault_person who;
	size_t unreadable, damaged = 0;

	for (unsigned i = 0; i < PEOPLE; i++) {
		snprintf(name, sizeof(name), "Personne %03u", i);
		enrol(fx, name, id[i]);
	}
	for (unsigned i = 0; i < PEOPLE; i += EVERY, damaged++) {
		FILE *f;
		snprintf(path, sizeof(path), "%.*s/%.32s.vault", PATH_MAX, fx->dir, id[i]);
		assert_non_null(f = fopen(path, "r+"));
		fputs("damaged", f);
		fclose(f);
	}
	assert_int_equal(vault_people_load(fx->store, NULL, &p, &unreadable), VAULT_OK);
	assert_int_equal(unreadable, damaged);
	assert_int_equal(vault_people_count(p), PEOPLE - damaged);
	for (unsigned i = 0; i < PEOPLE; i++) {
		snprintf(name, sizeof(name), "Personne %03u", i);
		assert_int_equal(vault_people_find(p, id[i], &who),
				 i % EVERY ? VAULT_OK : VAULT_E_NOTFOUND);
		if (i % EVERY)
			assert_string_equal(who.name, name);
	}
	vault_people_free(p);
}

/* A key of the caller's: every lookup, page and sameness goes through it. */
static void upper_key(const char *name, char *out, size_t cap)
{
	size_t i;

	for (i = 0; name[i] != '\0' && i + 1 < cap; i++)
		out[i] = (char)(name[i] >= 'a' && name[i] <= 'z' ? name[i] - 32 : name[i]);
	out[i] = '\0';
}

static void test_custom_key(void **state)
{
	struct fixture *fx = *state;
	char id[VAULT_USER_ID_HEX], next[VAULT_PEOPLE_CURSOR_MAX];
	struct vault_people *p;
	struct vault_person who;
	size_t unreadable;

	enrol(fx, "Łukasz Nowak", id);
	enrol(fx, "anne roux", id);
	assert_int_equal(vault_people_load(fx->store, upper_key, &p, &unreadable), VAULT_OK);
	assert_int_equal(vault_people_find(p, "Łukasz Nowak", &who), VAULT_OK);
	assert_int_equal(vault_people_find(p, "anne roux", &who), VAULT_OK);
	assert_string_equal(who.id, id);
	assert_int_equal(vault_people_find(p, "Anne Roux", &who), VAULT_E_NOTFOUND); /* exact */
	assert_int_equal(vault_people_find_same(p, "ANNE ROUX", &who), VAULT_OK);
	assert_string_equal(who.name, "anne roux");
	assert_int_equal(vault_people_find_same(p, "anne rous", &who), VAULT_E_NOTFOUND);
	page_names(p, NULL, "ann", 8, "anne roux", 0, next);
	page_names(p, NULL, NULL, 8, "anne roux,Łukasz Nowak", 0, next);
	vault_people_free(p);
}

/* The vault file id's path under the fixture's store. */
static void vault_path(struct fixture *fx, const char *id, const char *suffix, char *out)
{
	snprintf(out, PATH_MAX + 64, "%s/%s.vault%s", fx->dir, id, suffix);
}

/* Unreadable vault files are kept by id with their cause, and read again on demand: one put back
 * joins the index, one removed is forgotten. */
static void test_damaged(void **state)
{
	struct fixture *fx = *state;
	char id[2][VAULT_USER_ID_HEX], path[PATH_MAX + 64], kept[PATH_MAX + 64];
	struct vault_damaged d[4];
	struct vault_people *p;
	struct vault_person who;
	size_t unreadable;
	FILE *f;

	enrol(fx, "Anne Roux", id[0]);
	enrol(fx, "Paul Martin", id[1]);
	vault_path(fx, id[0], "", path);
	vault_path(fx, id[0], ".kept", kept);
	assert_int_equal(rename(path, kept), 0);
	assert_non_null(f = fopen(path, "w")); /* a truncated vault */
	fputs("SESAME", f);
	fclose(f);
	assert_int_equal(vault_people_load(fx->store, NULL, &p, &unreadable), VAULT_OK);
	assert_int_equal(unreadable, 1);
	assert_int_equal(vault_people_unreadable(p), 1);
	assert_int_equal(vault_people_damaged(p, d, 4), 1);
	assert_string_equal(d[0].id, id[0]);
	assert_int_equal(d[0].code, VAULT_E_FORMAT);
	assert_int_equal(vault_people_find(p, "Anne Roux", &who), VAULT_E_NOTFOUND);
	assert_int_equal(vault_people_damaged(p, d, 0), 1); /* counted, none copied */

	/* still damaged: stays, with its cause */
	assert_int_equal(vault_people_recheck(p, fx->store), VAULT_OK);
	assert_int_equal(vault_people_damaged(p, d, 4), 1);
	/* put back: found again */
	assert_int_equal(rename(kept, path), 0);
	assert_int_equal(vault_people_recheck(p, fx->store), VAULT_OK);
	assert_int_equal(vault_people_damaged(p, d, 4), 0);
	assert_int_equal(vault_people_find(p, "Anne Roux", &who), VAULT_OK);
	assert_string_equal(who.id, id[0]);
	vault_people_free(p);

	/* a second vault under Paul's name (his first one was away meanwhile): one of the two is
	 * kept as damaged (-17), so that someone sees it */
	vault_path(fx, id[1], "", kept);
	vault_path(fx, id[1], ".away", path);
	assert_int_equal(rename(kept, path), 0);
	enrol(fx, "Paul Martin", id[1]);
	assert_int_equal(rename(path, kept), 0);
	vault_path(fx, id[0], "", path);
	assert_int_equal(vault_people_load(fx->store, NULL, &p, &unreadable), VAULT_OK);
	assert_int_equal(unreadable, 1);
	assert_int_equal(vault_people_damaged(p, d, 4), 1);
	assert_int_equal(d[0].code, VAULT_E_EXISTS);
	assert_int_equal(vault_people_recheck(p, fx->store), VAULT_OK); /* still the same name */
	assert_int_equal(vault_people_damaged(p, d, 4), 1);
	assert_int_equal(d[0].code, VAULT_E_EXISTS);
	vault_people_free(p);
	/* Anne's file removed: no person, and no damage either */
	assert_int_equal(unlink(path), 0);
	assert_int_equal(vault_people_load(fx->store, NULL, &p, &unreadable), VAULT_OK);
	assert_int_equal(vault_people_count(p), 1);
	assert_int_equal(vault_people_unreadable(p), 1); /* Paul's second vault only */
	vault_people_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_fold),
	    cmocka_unit_test_setup_teardown(test_index, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_churn, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_counters, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_load_damaged, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_custom_key, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_damaged, setup, teardown),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
