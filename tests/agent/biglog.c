/* Grows an installation's audit log by N records of other people, as years of an office's
 * appointments would, for the scenarios that need a log that takes long to read. Run with the
 * agent stopped (it holds the writer's lock); the environment names the installation as for
 * sesame. The records skip their syncs (audit_set_unsafe_fast): one sync and one signature at
 * the end. Usage: biglog N */
#include <stdio.h>
#include <stdlib.h>

#include <sodium.h>

#include "audit.h"
#include "devsecret.h"
#include "error.h"
#include "home.h"
#include "keys.h"

static int grow(const char *dir, const uint8_t key[VAULT_AUDIT_KEY_BYTES], unsigned long n)
{
	static const char *const events[] = {"pin_ok", "session_opened", "login_filled",
					     "session_closed"};
	struct audit_event evs[AUDIT_MAX_GROUP];
	char time[AUDIT_TIME_LEN + 1], users[AUDIT_MAX_GROUP][33];
	struct audit_log *log;
	int ret = audit_open(dir, key, NULL, &log);

	if (ret != VAULT_OK)
		return ret;
	audit_set_unsafe_fast(log, 1);
	for (unsigned long i = 0; i < n && ret == VAULT_OK; i += AUDIT_MAX_GROUP) {
		size_t k = n - i < AUDIT_MAX_GROUP ? (size_t)(n - i) : AUDIT_MAX_GROUP;
		for (size_t g = 0; g < k; g++) {
			evs[g] =
			    audit_event_now(events[(i + g) % 4], 2000, "worker", "poste-3", time);
			snprintf(users[g], sizeof(users[g]), "%032lx", 0x5000 + (i + g) / 4 % 997);
			evs[g].user = users[g];
			evs[g].service = "CAF";
			evs[g].purpose = "rendez-vous";
		}
		ret = audit_append_many(log, evs, k, NULL);
	}
	audit_close(log); /* syncs and signs */
	return ret;
}

int main(int argc, char **argv)
{
	struct sesame_home h;
	uint8_t *secret, key[VAULT_AUDIT_KEY_BYTES];
	enum devsecret_backend used = DEVSECRET_AUTO;
	unsigned long n = argc == 2 ? strtoul(argv[1], NULL, 10) : 0;
	int ret;

	if (n == 0 || sodium_init() < 0 || (secret = sodium_malloc(DEVSECRET_BYTES)) == NULL) {
		fputs("usage: biglog N\n", stderr);
		return 2;
	}
	if ((ret = home_resolve(&h, 0)) == VAULT_OK &&
	    (ret = home_read_installation(&h)) == VAULT_OK &&
	    (ret = home_device_secret(&h, secret, &used)) == VAULT_OK) {
		vault_audit_key(secret, key);
		ret = grow(h.audit, key, n);
		sodium_memzero(key, sizeof(key));
	}
	sodium_free(secret);
	if (ret != VAULT_OK)
		fprintf(stderr, "biglog: %s\n", vault_strerror(ret));
	return ret == VAULT_OK ? 0 : 1;
}
