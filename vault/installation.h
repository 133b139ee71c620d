/* An installation: the data directory, its device secret, its vault store and its audit log,
 * created together or not at all (docs/format.md, "The installation"). */
#ifndef SESAME_VAULT_INSTALLATION_H
#define SESAME_VAULT_INSTALLATION_H

#include "audit.h"
#include "devsecret.h"

#define VAULT_INSTALLATION_FILE "installation" /* "<32 hex>\n", written last */
#define VAULT_INSTALLATION_HEX (2 * DEVSECRET_ID_BYTES)

/* Where the parts go, as the caller resolved them (the key file's default path depends on the
 * id: draw the id first with vault_installation_id). */
struct vault_installation {
	const char *id; /* VAULT_INSTALLATION_HEX lowercase hex digits */
	const char *dir, *vaults, *audit, *key_file;
	enum devsecret_backend backend;
};

/* A fresh installation id. */
void vault_installation_id(char hex[VAULT_INSTALLATION_HEX + 1]);

/* Make the data directory (and the key file's parents), the device secret, the vault store,
 * the audit log opened by the record first (its "installation_created"), and last the
 * installation file. On any failure all of it is removed again, the installation file and the
 * device secret included: no half installation keeps a secret around or blocks the next try.
 * What an interrupted creation left (a crash, or a removal that failed too) is removed by the
 * next one, as long as it is no more than that: a log holding at most its first record and no
 * vault; anything more is VAULT_E_EXISTS. *used says where the device secret went. */
int vault_installation_create(const struct vault_installation *in, const struct audit_event *first,
			      enum devsecret_backend *used);

#endif
