/* The device secret: kept in the Secret Service through libsecret, or in a 0600 key file where no
 * Secret Service answers. Formats and schema are in devsecret.h and docs/format.md. */
#include "build-config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>
#if HAVE_LIBSECRET
#include <dlfcn.h>
#include <pthread.h>

#include <libsecret/secret.h>
#endif

#include "devsecret.h"
#include "error.h"
#include "fileio.h"
#include "text.h"

#define ID_HEX_LEN (DEVSECRET_ID_BYTES * 2)
#define ITEM_HEX_LEN (DEVSECRET_BYTES * 2)
#define FILE_HEADER_LEN (sizeof(DEVSECRET_FILE_HEADER) - 1)
#define FILE_MAGIC_LEN (sizeof(DEVSECRET_FILE_MAGIC) - 1)
#define FILE_B64_VARIANT sodium_base64_VARIANT_ORIGINAL

_Static_assert(sodium_base64_ENCODED_LEN(DEVSECRET_BYTES, FILE_B64_VARIANT) ==
		   DEVSECRET_FILE_B64_LEN + 1,
	       "DEVSECRET_FILE_B64_LEN must match the base64 length of the secret");

static int id_valid(const char *id)
{
	return id != NULL && strlen(id) == ID_HEX_LEN && text_hex_lower(id, ID_HEX_LEN);
}

/* Check only what the chosen backend will use, so FILE needs no id and SECRET_SERVICE no path. */
static int config_check(const struct devsecret_config *cfg)
{
	if (cfg == NULL)
		return VAULT_E_INVAL;
	if (cfg->backend != DEVSECRET_AUTO && cfg->backend != DEVSECRET_SECRET_SERVICE &&
	    cfg->backend != DEVSECRET_FILE)
		return VAULT_E_INVAL;
	if (cfg->backend != DEVSECRET_FILE && !id_valid(cfg->installation_id))
		return VAULT_E_INVAL;
	if (cfg->backend != DEVSECRET_SECRET_SERVICE &&
	    (cfg->key_file == NULL || cfg->key_file[0] != '/'))
		return VAULT_E_INVAL;
	return VAULT_OK;
}

/* ---- Secret Service ---- */

#if HAVE_LIBSECRET

/* Our own schema, so no other application's item can be mistaken for the device secret. */
static const SecretSchema devsecret_schema = {
    .name = DEVSECRET_SCHEMA_NAME,
    .flags = SECRET_SCHEMA_NONE,
    .attributes =
	{
	    {DEVSECRET_ATTR_INSTALLATION, SECRET_SCHEMA_ATTRIBUTE_STRING},
	    {DEVSECRET_ATTR_KIND, SECRET_SCHEMA_ATTRIBUTE_STRING},
	    {NULL, 0},
	},
};

/* The item's text is exactly the hex of 32 bytes; anything else is refused, not truncated. */
static int ss_item_parse(const char *text, uint8_t secret[DEVSECRET_BYTES])
{
	const char *end = NULL;
	size_t bin_len = 0;

	if (strlen(text) != ITEM_HEX_LEN)
		return VAULT_E_FORMAT;
	if (sodium_hex2bin(secret, DEVSECRET_BYTES, text, ITEM_HEX_LEN, NULL, &bin_len, &end) !=
		0 ||
	    bin_len != DEVSECRET_BYTES || end != text + ITEM_HEX_LEN) {
		sodium_memzero(secret, DEVSECRET_BYTES);
		return VAULT_E_FORMAT;
	}
	return VAULT_OK;
}

/* libsecret, and the GIO stack under it, are loaded at the first use of the Secret Service
 * rather than at every start of the command: mapping them is most of a command's own start-up
 * cost (about 9 ms against 3), and most commands never reach the device secret. Loaded once,
 * never unloaded: GIO cannot be. */
struct ss_api {
	gchar *(*lookup)(const SecretSchema *, GCancellable *, GError **, ...);
	gboolean (*store)(const SecretSchema *, const gchar *, const gchar *, const gchar *,
			  GCancellable *, GError **, ...);
	gboolean (*clear)(const SecretSchema *, GCancellable *, GError **, ...);
	void (*free_password)(gchar *);
};

static struct ss_api ss_api;
static int ss_api_ok;
static pthread_once_t ss_api_once = PTHREAD_ONCE_INIT;

static void ss_api_load(void)
{
	void *lib = dlopen(DEVSECRET_LIBSECRET_SONAME, RTLD_NOW | RTLD_LOCAL);

	if (lib == NULL)
		return;
	/* POSIX: a function pointer may be read from dlsym's object pointer this way */
	*(void **)&ss_api.lookup = dlsym(lib, "secret_password_lookup_nonpageable_sync");
	*(void **)&ss_api.store = dlsym(lib, "secret_password_store_sync");
	*(void **)&ss_api.clear = dlsym(lib, "secret_password_clear_sync");
	*(void **)&ss_api.free_password = dlsym(lib, "secret_password_free");
	ss_api_ok = ss_api.lookup != NULL && ss_api.store != NULL && ss_api.clear != NULL &&
		    ss_api.free_password != NULL;
}

/* The library's functions, or NULL when it cannot be loaded: then no Secret Service answers. */
static const struct ss_api *ss(void)
{
	pthread_once(&ss_api_once, ss_api_load);
	return ss_api_ok ? &ss_api : NULL;
}

static int ss_load(const char *id, uint8_t secret[DEVSECRET_BYTES])
{
	const struct ss_api *api = ss();
	GError *error = NULL;
	gchar *text;
	int ret;

	if (api == NULL)
		return VAULT_E_SECRET_SERVICE;
	/* nonpageable: the text stays in locked memory, and secret_password_free wipes it. */
	text = api->lookup(&devsecret_schema, NULL, &error, DEVSECRET_ATTR_INSTALLATION, id,
			   DEVSECRET_ATTR_KIND, DEVSECRET_KIND, NULL);
	if (error != NULL)
		ret = VAULT_E_SECRET_SERVICE;
	else if (text == NULL)
		ret = VAULT_E_NOSECRET;
	else
		ret = ss_item_parse(text, secret);
	if (text != NULL)
		api->free_password(text);
	g_clear_error(&error);
	return ret;
}

static int ss_store(const char *id, const uint8_t secret[DEVSECRET_BYTES])
{
	const struct ss_api *api = ss();
	GError *error = NULL;
	char *hex;
	gboolean ok;

	if (api == NULL)
		return VAULT_E_SECRET_SERVICE;
	hex = sodium_malloc(ITEM_HEX_LEN + 1);
	if (hex == NULL)
		return VAULT_E_NOMEM;
	sodium_bin2hex(hex, ITEM_HEX_LEN + 1, secret, DEVSECRET_BYTES);
	ok = api->store(&devsecret_schema, SECRET_COLLECTION_DEFAULT, DEVSECRET_LABEL, hex, NULL,
			&error, DEVSECRET_ATTR_INSTALLATION, id, DEVSECRET_ATTR_KIND,
			DEVSECRET_KIND, NULL);
	sodium_free(hex);
	g_clear_error(&error);
	return ok ? VAULT_OK : VAULT_E_SECRET_SERVICE;
}

static int ss_delete(const char *id)
{
	const struct ss_api *api = ss();
	GError *error = NULL;
	gboolean removed;
	int ret;

	if (api == NULL)
		return VAULT_E_SECRET_SERVICE;
	removed = api->clear(&devsecret_schema, NULL, &error, DEVSECRET_ATTR_INSTALLATION, id,
			     DEVSECRET_ATTR_KIND, DEVSECRET_KIND, NULL);
	if (error != NULL)
		ret = VAULT_E_SECRET_SERVICE;
	else
		ret = removed ? VAULT_OK : VAULT_E_NOTFOUND;
	g_clear_error(&error);
	return ret;
}

#else /* !HAVE_LIBSECRET: built without libsecret, so no Secret Service ever answers. */

static int ss_load(const char *id, uint8_t secret[DEVSECRET_BYTES])
{
	(void)id;
	(void)secret;
	return VAULT_E_SECRET_SERVICE;
}

static int ss_store(const char *id, const uint8_t secret[DEVSECRET_BYTES])
{
	(void)id;
	(void)secret;
	return VAULT_E_SECRET_SERVICE;
}

static int ss_delete(const char *id)
{
	(void)id;
	return VAULT_E_SECRET_SERVICE;
}

#endif /* HAVE_LIBSECRET */

/* VAULT_OK if no item is stored. A malformed item counts as present: it is not ours to replace. */
static int ss_check_absent(const char *id)
{
	uint8_t tmp[DEVSECRET_BYTES];
	int ret;

	ret = ss_load(id, tmp);
	sodium_memzero(tmp, sizeof(tmp));
	if (ret == VAULT_E_NOSECRET)
		return VAULT_OK;
	if (ret == VAULT_OK || ret == VAULT_E_FORMAT)
		return VAULT_E_EXISTS;
	return ret;
}

/* The Secret Service cannot create an item only if absent, so this checks first; two concurrent
 * creations for one installation could still both store (the second replaces the first). */
static int ss_create(const char *id, const uint8_t secret[DEVSECRET_BYTES])
{
	int ret;

	ret = ss_check_absent(id);
	if (ret != VAULT_OK)
		return ret;
	return ss_store(id, secret);
}

/* ---- Key file ---- */

int devsecret_file_parse(const uint8_t *buf, size_t len, uint8_t secret[DEVSECRET_BYTES])
{
	const char *b64 = (const char *)buf + FILE_HEADER_LEN;
	const char *end = NULL;
	size_t bin_len = 0;
	int ret = VAULT_E_FORMAT;

	if (len < FILE_HEADER_LEN || memcmp(buf, DEVSECRET_FILE_HEADER, FILE_HEADER_LEN) != 0) {
		if (len >= FILE_MAGIC_LEN && memcmp(buf, DEVSECRET_FILE_MAGIC, FILE_MAGIC_LEN) == 0)
			ret = VAULT_E_VERSION;
		goto out;
	}
	if (len != DEVSECRET_FILE_LEN || buf[len - 1] != '\n')
		goto out;
	/* No ignored characters, padding required, and libsodium rejects non-zero spare bits, so
	 * each secret has exactly one accepted encoding. */
	if (sodium_base642bin(secret, DEVSECRET_BYTES, b64, DEVSECRET_FILE_B64_LEN, NULL, &bin_len,
			      &end, FILE_B64_VARIANT) != 0 ||
	    bin_len != DEVSECRET_BYTES || end != b64 + DEVSECRET_FILE_B64_LEN)
		goto out;
	ret = VAULT_OK;
out:
	if (ret != VAULT_OK)
		sodium_memzero(secret, DEVSECRET_BYTES); /* a failed decode may have written part */
	return ret;
}

/* out receives exactly DEVSECRET_FILE_LEN bytes, no terminating NUL. */
static void keyfile_encode(const uint8_t secret[DEVSECRET_BYTES], char out[DEVSECRET_FILE_LEN])
{
	memcpy(out, DEVSECRET_FILE_HEADER, FILE_HEADER_LEN);
	/* bin2base64 writes a NUL after the 44 characters; the newline then overwrites it. */
	sodium_bin2base64(out + FILE_HEADER_LEN, DEVSECRET_FILE_B64_LEN + 1, secret,
			  DEVSECRET_BYTES, FILE_B64_VARIANT);
	out[DEVSECRET_FILE_LEN - 1] = '\n';
}

/* Open the key file's parent directory (checked by fileio: ours, 0700) and name the file in it. */
static int keyfile_dir_open(const char *path, int create, int *dirfd, const char **name)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/');
	size_t dirlen;

	*dirfd = -1;
	*name = slash + 1;
	if (**name == '\0' || strcmp(*name, ".") == 0 || strcmp(*name, "..") == 0)
		return VAULT_E_INVAL;
	dirlen = slash == path ? 1 : (size_t)(slash - path);
	if (dirlen >= sizeof(dir))
		return VAULT_E_INVAL;
	memcpy(dir, path, dirlen);
	dir[dirlen] = '\0';
	return fileio_dir_open(dir, create, dirfd);
}

/* Open dirfd/name for reading; fstat on the very fd we read, so nothing can be swapped in between.
 * O_NONBLOCK keeps a FIFO planted there from blocking us; regular files ignore it. */
static int keyfile_open(int dirfd, const char *name, int *fdp)
{
	struct stat st;
	int fd;

	*fdp = -1;
	fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return VAULT_E_NOSECRET;
		return errno == ELOOP			   ? VAULT_E_SYMLINK
		       : errno == EACCES || errno == EPERM ? VAULT_E_ACCESS
							   : VAULT_E_IO;
	}
	if (fstat(fd, &st) != 0) {
		close(fd);
		return VAULT_E_IO;
	}
	if (!S_ISREG(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 077) != 0) {
		close(fd);
		return !S_ISREG(st.st_mode) ? VAULT_E_FILETYPE : VAULT_E_PERM;
	}
	*fdp = fd;
	return VAULT_OK;
}

/* Read at most cap bytes; the caller passes one more than the format allows to see extra bytes. */
static int keyfile_read(int fd, uint8_t *buf, size_t cap, size_t *len)
{
	size_t got = 0;

	while (got < cap) {
		ssize_t n = read(fd, buf + got, cap - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return VAULT_E_IO;
		if (n == 0)
			break;
		got += (size_t)n;
	}
	*len = got;
	return VAULT_OK;
}

static int keyfile_load(const char *path, uint8_t secret[DEVSECRET_BYTES])
{
	uint8_t buf[DEVSECRET_FILE_LEN + 1];
	const char *name;
	size_t len = 0;
	int dirfd = -1, fd = -1, ret;

	ret = keyfile_dir_open(path, 0, &dirfd, &name);
	if (ret == VAULT_E_NOTFOUND)
		ret = VAULT_E_NOSECRET;
	if (ret != VAULT_OK)
		goto out;
	ret = keyfile_open(dirfd, name, &fd);
	if (ret != VAULT_OK)
		goto out;
	ret = keyfile_read(fd, buf, sizeof(buf), &len);
	if (ret != VAULT_OK)
		goto out;
	ret = devsecret_file_parse(buf, len, secret);
out:
	sodium_memzero(buf, sizeof(buf));
	if (fd >= 0)
		close(fd);
	if (dirfd >= 0)
		close(dirfd);
	return ret;
}

static int keyfile_create(const char *path, const uint8_t secret[DEVSECRET_BYTES])
{
	char buf[DEVSECRET_FILE_LEN];
	const char *name;
	int dirfd = -1, ret;

	ret = keyfile_dir_open(path, 1, &dirfd, &name);
	if (ret != VAULT_OK)
		goto out;
	keyfile_encode(secret, buf);
	ret = fileio_create_atomic(dirfd, name, buf, sizeof(buf));
out:
	sodium_memzero(buf, sizeof(buf));
	if (dirfd >= 0)
		close(dirfd);
	return ret;
}

/* lstat, not the checked directory open: AUTO must not fail on a key file directory it will not
 * use when the Secret Service takes the secret. */
static int keyfile_check_absent(const char *path)
{
	struct stat st;

	if (lstat(path, &st) == 0)
		return VAULT_E_EXISTS;
	if (errno == ENOENT || errno == ENOTDIR)
		return VAULT_OK;
	return errno == EACCES ? VAULT_E_ACCESS : VAULT_E_IO;
}

static int keyfile_delete(const char *path)
{
	const char *name;
	int dirfd = -1, ret;

	ret = keyfile_dir_open(path, 0, &dirfd, &name);
	if (ret != VAULT_OK)
		return ret;
	ret = fileio_unlink(dirfd, name);
	close(dirfd);
	return ret;
}

/* ---- Backend choice ---- */

static int auto_create(const struct devsecret_config *cfg, const uint8_t secret[DEVSECRET_BYTES],
		       enum devsecret_backend *used)
{
	int ret;

	*used = DEVSECRET_FILE;
	ret = keyfile_check_absent(cfg->key_file);
	if (ret != VAULT_OK)
		return ret;
	*used = DEVSECRET_SECRET_SERVICE;
	ret = ss_create(cfg->installation_id, secret);
	if (ret != VAULT_E_SECRET_SERVICE)
		return ret;
	*used = DEVSECRET_FILE;
	return keyfile_create(cfg->key_file, secret);
}

static int auto_load(const struct devsecret_config *cfg, uint8_t secret[DEVSECRET_BYTES],
		     enum devsecret_backend *used)
{
	int ss_ret, ret;

	*used = DEVSECRET_SECRET_SERVICE;
	ss_ret = ss_load(cfg->installation_id, secret);
	/* Only absence or silence falls back; a malformed item fails closed. */
	if (ss_ret != VAULT_E_NOSECRET && ss_ret != VAULT_E_SECRET_SERVICE)
		return ss_ret;
	ret = keyfile_load(cfg->key_file, secret);
	if (ret == VAULT_E_NOSECRET && ss_ret == VAULT_E_SECRET_SERVICE)
		return ss_ret; /* the secret may well be in the Secret Service we could not reach */
	*used = DEVSECRET_FILE;
	return ret;
}

static int auto_delete(const struct devsecret_config *cfg)
{
	int ss_ret, file_ret;

	ss_ret = ss_delete(cfg->installation_id);
	file_ret = keyfile_delete(cfg->key_file);
	if (file_ret != VAULT_OK && file_ret != VAULT_E_NOTFOUND)
		return file_ret;
	if (ss_ret == VAULT_OK || file_ret == VAULT_OK)
		return VAULT_OK;
	return ss_ret;
}

int devsecret_create(const struct devsecret_config *cfg, uint8_t secret[DEVSECRET_BYTES],
		     enum devsecret_backend *used)
{
	enum devsecret_backend took = DEVSECRET_AUTO;
	int ret;

	if (secret == NULL)
		return VAULT_E_INVAL;
	ret = config_check(cfg);
	if (ret != VAULT_OK)
		goto out;
	randombytes_buf(secret, DEVSECRET_BYTES);
	took = cfg->backend;
	if (cfg->backend == DEVSECRET_SECRET_SERVICE)
		ret = ss_create(cfg->installation_id, secret);
	else if (cfg->backend == DEVSECRET_FILE)
		ret = keyfile_create(cfg->key_file, secret);
	else
		ret = auto_create(cfg, secret, &took);
out:
	if (ret != VAULT_OK)
		sodium_memzero(secret, DEVSECRET_BYTES);
	if (used != NULL)
		*used = took;
	return ret;
}

int devsecret_load(const struct devsecret_config *cfg, uint8_t secret[DEVSECRET_BYTES],
		   enum devsecret_backend *used)
{
	enum devsecret_backend took = DEVSECRET_AUTO;
	int ret;

	if (secret == NULL)
		return VAULT_E_INVAL;
	ret = config_check(cfg);
	if (ret != VAULT_OK)
		goto out;
	took = cfg->backend;
	if (cfg->backend == DEVSECRET_SECRET_SERVICE)
		ret = ss_load(cfg->installation_id, secret);
	else if (cfg->backend == DEVSECRET_FILE)
		ret = keyfile_load(cfg->key_file, secret);
	else
		ret = auto_load(cfg, secret, &took);
out:
	if (ret != VAULT_OK)
		sodium_memzero(secret, DEVSECRET_BYTES);
	if (used != NULL)
		*used = took;
	return ret;
}

int devsecret_delete(const struct devsecret_config *cfg)
{
	int ret;

	ret = config_check(cfg);
	if (ret != VAULT_OK)
		return ret;
	if (cfg->backend == DEVSECRET_SECRET_SERVICE)
		return ss_delete(cfg->installation_id);
	if (cfg->backend == DEVSECRET_FILE)
		return keyfile_delete(cfg->key_file);
	return auto_delete(cfg);
}
