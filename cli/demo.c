/* sesame-demo: walks a newcomer through what the vault does, in a throw-away directory.
 * Enrols a user, records a credential, shows a wrong PIN being counted and the right one
 * opening the vault, shows that a copied directory is useless without the device secret,
 * and withdraws the user. The password itself is never printed. */
#include <errno.h>
#include <stdarg.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ftw.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "devsecret.h"
#include "vault.h"

#define DEMO_NAME "Mme Martin"
#define DEMO_PIN "284619"
#define DEMO_WRONG_PIN "501738"

struct demo {
	char root[PATH_MAX];
	char data[PATH_MAX + 8];
	char key_file[PATH_MAX + 32];
	char installation[2 * DEVSECRET_ID_BYTES + 1];
	uint8_t *secret;
	struct vault_store *store;
	struct vault_policy policy;
	char id[VAULT_USER_ID_HEX];
};

static int step = 0;

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
	va_list ap;

	printf("\n[%d] ", ++step);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

static int check(int ret, const char *what)
{
	if (ret != VAULT_OK)
		fprintf(stderr, "sesame-demo: %s: %s\n", what, vault_strerror(ret));
	return ret;
}

static int setup(struct demo *d)
{
	const char *tmp = getenv("TMPDIR");
	uint8_t id[DEVSECRET_ID_BYTES];
	enum devsecret_backend used;
	struct devsecret_config cfg = {DEVSECRET_AUTO, d->installation, d->key_file};

	snprintf(d->root, sizeof(d->root), "%s/sesame-demo.XXXXXX", tmp ? tmp : "/tmp");
	if (mkdtemp(d->root) == NULL) {
		fprintf(stderr, "sesame-demo: %s: %s\n", d->root, strerror(errno));
		return -1;
	}
	snprintf(d->data, sizeof(d->data), "%s/data", d->root);
	snprintf(d->key_file, sizeof(d->key_file), "%s/device/device-secret", d->root);
	randombytes_buf(id, sizeof(id));
	sodium_bin2hex(d->installation, sizeof(d->installation), id, sizeof(id));
	say("Installation in %s: creating the device secret.", d->root);
	if (check(devsecret_create(&cfg, d->secret, &used), "device secret") != VAULT_OK)
		return -1;
	if (used == DEVSECRET_FILE)
		printf("    warning: no Secret Service answered; the device secret is in the 0600 "
		       "key\n"
		       "    file %s, outside the data directory.\n",
		       d->key_file);
	else
		printf(
		    "    The device secret is kept in the Secret Service (the desktop keyring).\n");
	return check(vault_store_open(d->data, d->secret, &d->store), "data directory");
}

static int enrol(struct demo *d)
{
	char *recovery = sodium_malloc(VAULT_RECOVERY_TEXT_BYTES);
	int ret;

	say("Enrolment: %s chooses a PIN (refused if too simple: 123456 -> \"%s\").", DEMO_NAME,
	    vault_strerror(vault_pin_check("123456", &d->policy)));
	ret = check(vault_user_create(d->store, DEMO_NAME, DEMO_PIN, &d->policy, d->id, recovery),
		    "enrol");
	if (ret == VAULT_OK)
		printf("    user id: %s\n    recovery sheet, to take home: %s\n", d->id, recovery);
	sodium_free(recovery);
	return ret;
}

static int record(struct demo *d)
{
	struct vault_entry_input in = {.service = "CAF",
				       .url = "https://wwwd.caf.fr/wps/portal/caffr/login",
				       .username = "1234567",
				       .consent = 1};
	char *password = sodium_malloc(33), eid[VAULT_ENTRY_ID_HEX];
	uint8_t *raw = sodium_malloc(16);
	struct vault *v;
	unsigned left;
	int ret;

	say("Recording a credential: the vault is opened with the PIN (Argon2id, about a second).");
	if ((ret = check(vault_unlock_pin(d->store, d->id, DEMO_PIN, &v, &left), "unlock")) != 0)
		goto out;
	randombytes_buf(raw, 16);
	sodium_bin2hex(password, 33, raw, 16);
	in.password = password;
	ret = check(vault_entry_add(v, &in, eid), "add");
	if (ret == VAULT_OK)
		printf(
		    "    CAF recorded with a generated password (never shown), consent given.\n");
	vault_close(v);
out:
	sodium_free(raw);
	sodium_free(password);
	return ret;
}

static int wrong_then_right(struct demo *d)
{
	struct vault_entries *es;
	struct vault *v;
	unsigned left;
	int ret;

	say("Next appointment: a wrong PIN is typed.");
	ret = vault_unlock_pin(d->store, d->id, DEMO_WRONG_PIN, &v, &left);
	printf("    -> %s, %u attempts left (the attempt was counted before it was tried).\n",
	       vault_strerror(ret), left);
	say("The right PIN opens the vault and resets the counter.");
	if ((ret = check(vault_unlock_pin(d->store, d->id, DEMO_PIN, &v, &left), "unlock")) != 0)
		return ret;
	if ((ret = check(vault_entry_list(v, &es), "list")) == VAULT_OK) {
		for (size_t i = 0; i < es->n; i++)
			printf("    %s  %s  user %s  assisted login: %s\n", es->entry[i].service,
			       es->entry[i].url, es->entry[i].username,
			       es->entry[i].consent ? "allowed" : "not allowed");
		vault_entries_free(es);
	}
	vault_close(v);
	return ret;
}

static int stolen_copy(struct demo *d)
{
	uint8_t *other = sodium_malloc(DEVSECRET_BYTES);
	struct vault_store *s;
	struct vault *v;
	unsigned left;
	int ret;

	say("A copy of the data directory without the device secret, even with the right PIN:");
	randombytes_buf(other, DEVSECRET_BYTES);
	if ((ret = check(vault_store_open(d->data, other, &s), "open")) == VAULT_OK) {
		ret = vault_unlock_pin(s, d->id, DEMO_PIN, &v, &left);
		printf("    -> %s\n", vault_strerror(ret));
		ret = ret == VAULT_OK ? -1 : VAULT_OK;
		vault_store_close(s);
	}
	sodium_free(other);
	return ret;
}

static int withdraw(struct demo *d)
{
	struct devsecret_config cfg = {DEVSECRET_AUTO, d->installation, d->key_file};
	int ret;

	say("%s withdraws: the vault file, and with it every wrapped key, is destroyed.",
	    DEMO_NAME);
	ret = check(vault_user_destroy(d->store, d->id), "withdraw");
	devsecret_delete(&cfg);
	return ret;
}

static int rm(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	return remove(path);
}

int main(void)
{
	struct demo d = {0};
	int ret = -1;

	if (sodium_init() < 0 || (d.secret = sodium_malloc(DEVSECRET_BYTES)) == NULL)
		return 1;
	vault_policy_default(&d.policy);
	printf("Sesame keeps each person's logins encrypted under their own PIN.\n");
	if (setup(&d) == 0 && enrol(&d) == 0 && record(&d) == 0 && wrong_then_right(&d) == 0 &&
	    stolen_copy(&d) == 0 && withdraw(&d) == 0) {
		printf("\nDone: everything above ran against real files, now removed.\n");
		ret = 0;
	}
	vault_store_close(d.store);
	if (d.root[0] != '\0')
		nftw(d.root, rm, 16, FTW_DEPTH | FTW_PHYS);
	sodium_free(d.secret);
	return ret == 0 ? 0 : 1;
}
