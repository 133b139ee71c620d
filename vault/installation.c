/* Creating an installation (installation.h). */
#include <dirent.h>
#include <fcntl.h>
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

/* Is name a file the log's creation makes: "audit.*" or a temporary ".audit.*.tmp"? */
static int log_file(const char *name)
{
	return strncmp(name, "audit.", 6) == 0 || strncmp(name, ".audit.", 7) == 0;
}

/* Remove every entry of dir that match() names, then fsync dir: VAULT_OK if all went. */
static int remove_in(const char *dir, int (*match)(const char *))
{
	int dfd, ret = fileio_dir_open(dir, 0, &dfd), fd;
	struct dirent *d;
	DIR *dh;

	if (ret != VAULT_OK)
		return ret == VAULT_E_NOTFOUND ? VAULT_OK : ret;
	if ((fd = dup(dfd)) < 0 || (dh = fdopendir(fd)) == NULL) {
		if (fd >= 0)
			close(fd);
		close(dfd);
		return VAULT_E_IO;
	}
	while ((d = readdir(dh)) != NULL)
		if (match(d->d_name) && unlinkat(dfd, d->d_name, 0) != 0)
			ret = VAULT_E_IO;
	closedir(dh);
	if (fsync(dfd) != 0 && ret == VAULT_OK)
		ret = VAULT_E_IO;
	close(dfd);
	return ret;
}

static int any_file(const char *name)
{
	return strcmp(name, ".") != 0 && strcmp(name, "..") != 0;
}

/* How many records the log at dir holds (complete lines), up to 2; 0 if there is none. */
static int log_records(const char *dir)
{
	uint8_t buf[2 * AUDIT_LINE_MAX + 2];
	size_t len = 0;
	int dfd, n = 0;

	if (fileio_dir_open(dir, 0, &dfd) != VAULT_OK)
		return 0;
	if (fileio_read(dfd, AUDIT_LOG_NAME, buf, sizeof(buf), &len) == VAULT_E_TOOLONG)
		n = 2;
	close(dfd);
	for (size_t i = 0; i < len && n < 2; i++)
		n += buf[i] == '\n';
	return n;
}

/* What an interrupted creation left (no installation file, which is written last): the log
 * holding at most its first record and no vault. Removed, so that creating again works; a log
 * with more, or any vault, is someone's data and is never touched (VAULT_E_EXISTS). */
static int clear_partial(const struct vault_installation *in)
{
	int dfd;

	if (fileio_dir_open(in->vaults, 0, &dfd) == VAULT_OK) {
		DIR *dh = fdopendir(dfd);
		struct dirent *d;
		int files = 0;
		if (dh == NULL) {
			close(dfd);
			return VAULT_E_IO;
		}
		while ((d = readdir(dh)) != NULL)
			files += strstr(d->d_name, ".vault") != NULL;
		closedir(dh);
		if (files > 0)
			return VAULT_E_EXISTS;
	}
	if (log_records(in->audit) > 1)
		return VAULT_E_EXISTS;
	return remove_in(in->audit, log_file);
}

/* Undo a creation that failed: the installation file (a failed directory fsync leaves it), the
 * log, and the device secret. What cannot be removed now, clear_partial removes next time. */
static void undo_create(const struct vault_installation *in, const struct devsecret_config *dc)
{
	int dfd;

	if (fileio_dir_open(in->dir, 0, &dfd) == VAULT_OK) {
		if (unlinkat(dfd, VAULT_INSTALLATION_FILE, 0) == 0)
			fsync(dfd);
		close(dfd);
	}
	remove_in(in->audit, log_file);
	remove_in(in->vaults, any_file);
	devsecret_delete(dc);
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
	if ((ret = make_dir(in->dir)) != VAULT_OK || (ret = clear_partial(in)) != VAULT_OK)
		goto out;
	make_parents(in->key_file);
	if ((ret = devsecret_create(&dc, secret, used)) != VAULT_OK)
		goto out;
	if ((ret = make_dir(in->vaults)) == VAULT_OK &&
	    (ret = audit_create(in, secret, first)) == VAULT_OK)
		ret = mark_complete(in);
	if (ret != VAULT_OK)
		undo_create(in, &dc);
out:
	sodium_free(secret);
	return ret;
}
