/* Creating an installation (installation.h). */
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "error.h"
#include "fileio.h"
#include "installation.h"
#include "keys.h"

void vault_installation_id(char hex[VAULT_INSTALLATION_HEX + 1])
{
	uint8_t id[DEVSECRET_ID_BYTES];

	randombytes_buf(id, sizeof(id));
	sodium_bin2hex(hex, VAULT_INSTALLATION_HEX + 1, id, sizeof(id));
}

/* mkdir -p for the parents of path, each new one 0700. */
static void make_parents(const char *path)
{
	char dir[PATH_MAX];

	snprintf(dir, sizeof(dir), "%s", path);
	for (char *p = dir + 1; (p = strchr(p, '/')) != NULL; p++) {
		*p = '\0';
		mkdir(dir, 0700);
		*p = '/';
	}
}

static int make_dir(const char *path)
{
	int dfd, ret = fileio_dir_open(path, 1, &dfd);

	if (ret == VAULT_OK)
		close(dfd);
	return ret;
}

/* The audit log, with its first record, under the key sealed by the device secret. */
static int audit_create(const struct vault_installation *in, const uint8_t *secret,
			const struct audit_event *first)
{
	uint8_t key[VAULT_AUDIT_KEY_BYTES];
	struct audit_log *log;
	int ret;

	vault_audit_key(secret, key);
	if ((ret = audit_init(in->audit, in->id, key)) == VAULT_OK &&
	    (ret = audit_open(in->audit, key, first, &log)) == VAULT_OK) {
		ret = audit_append(log, first, NULL);
		audit_close(log);
	}
	sodium_memzero(key, sizeof(key));
	return ret;
}

/* Written last: an installation file means everything else is in place. */
static int mark_complete(const struct vault_installation *in)
{
	char line[VAULT_INSTALLATION_HEX + 2];
	int dfd, ret;

	if (strlen(in->id) != VAULT_INSTALLATION_HEX)
		return VAULT_E_FORMAT;
	if ((ret = fileio_dir_open(in->dir, 0, &dfd)) != VAULT_OK)
		return ret;
	snprintf(line, sizeof(line), "%s\n", in->id);
	ret = fileio_create_atomic(dfd, VAULT_INSTALLATION_FILE, line, VAULT_INSTALLATION_HEX + 1);
	close(dfd);
	return ret;
}

int vault_installation_create(const struct vault_installation *in, const struct audit_event *first,
			      enum devsecret_backend *used)
{
	uint8_t *secret = sodium_malloc(DEVSECRET_BYTES);
	struct devsecret_config dc = {in->backend, in->id, in->key_file};
	int ret;

	if (secret == NULL)
		return VAULT_E_NOMEM;
	make_parents(in->dir);
	if ((ret = make_dir(in->dir)) != VAULT_OK)
		goto out;
	make_parents(in->key_file);
	if ((ret = devsecret_create(&dc, secret, used)) != VAULT_OK)
		goto out;
	if ((ret = make_dir(in->vaults)) == VAULT_OK &&
	    (ret = audit_create(in, secret, first)) == VAULT_OK)
		ret = mark_complete(in);
	if (ret != VAULT_OK)
		devsecret_delete(&dc);
out:
	sodium_free(secret);
	return ret;
}
