#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "entry.h"
#include "fileio.h"
#include "keys.h"
#include "peoplecache.h"
#include "recovery.h"
#include "text.h"
#include "users.h"
#include "vault.h"
#include "vaultfile.h"

#define STORE_LOCK ".enroll.lock"
#define FILE_NAME_MAX (VAULT_USER_ID_HEX + 16)

enum { KEY_MAC, KEY_PIN, KEY_RECOVERY, KEY_NAME, KEY_PEOPLE_CACHE, KEY_COUNT };
/* Each store key's subkey number (keys.h); the audit key (5) is the audit writer's. */
static const uint64_t store_subkeys[KEY_COUNT] = {VAULT_SUBKEY_FILE_MAC, VAULT_SUBKEY_PIN,
						  VAULT_SUBKEY_RECOVERY, VAULT_SUBKEY_NAME,
						  VAULT_SUBKEY_PEOPLE_CACHE};

struct vault_store {
	int dirfd;
	uint8_t *keys; /* sodium_malloc: KEY_COUNT device-derived subkeys */
	vault_kdf_fn kdf;
	void *kdf_ctx;
	struct vault_people *people; /* NULL: names are found by reading every vault */
};

struct vault {
	struct vault_store *store;
	uint8_t user_id[VAULT_USER_ID_BYTES];
	char id[VAULT_USER_ID_HEX];
	uint8_t *data_key; /* sodium_malloc */
};

/* A vault file as read: the bytes and the struct whose pointers refer into them. */
struct loaded {
	uint8_t *buf;
	size_t len;
	struct vault_file *f;
};

static const uint8_t *store_key(const struct vault_store *s, int which)
{
	return s->keys + (size_t)which * VAULT_KEY_BYTES;
}

void vault_policy_default(struct vault_policy *policy)
{
	policy->pin_min_length = VAULT_PIN_MIN_DEFAULT;
	policy->retry_limit = VAULT_RETRY_DEFAULT;
	policy->kdf_ops = VAULT_KDF_OPS_DEFAULT;
	policy->kdf_mem_kib = VAULT_KDF_MEM_KIB_DEFAULT;
}

int vault_policy_check(const struct vault_policy *p)
{
	if (p->pin_min_length < VAULT_PIN_MIN_FLOOR || p->pin_min_length > VAULT_PIN_MAX ||
	    p->retry_limit < VAULT_RETRY_MIN || p->retry_limit > VAULT_RETRY_MAX ||
	    p->kdf_ops < VAULT_KDF_OPS_MIN || p->kdf_ops > VAULT_KDF_OPS_MAX ||
	    p->kdf_mem_kib < VAULT_KDF_MEM_KIB_MIN || p->kdf_mem_kib > VAULT_KDF_MEM_KIB_MAX)
		return VAULT_E_INVAL;
	return VAULT_OK;
}

int vault_store_open(const char *dir, const uint8_t *device_secret, struct vault_store **out)
{
	struct vault_store *s;
	int ret;

	*out = NULL;
	if (sodium_init() < 0)
		return VAULT_E_CRYPTO;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return VAULT_E_NOMEM;
	s->dirfd = -1;
	if ((s->keys = sodium_malloc(KEY_COUNT * VAULT_KEY_BYTES)) == NULL) {
		ret = VAULT_E_NOMEM;
		goto fail;
	}
	for (int i = 0; i < KEY_COUNT; i++)
		crypto_kdf_derive_from_key(s->keys + (size_t)i * VAULT_KEY_BYTES, VAULT_KEY_BYTES,
					   store_subkeys[i], VAULT_KDF_CONTEXT, device_secret);
	if ((ret = fileio_dir_open(dir, 1, &s->dirfd)) != VAULT_OK)
		goto fail;
	vault_store_set_kdf(s, NULL, NULL);
	*out = s;
	return VAULT_OK;
fail:
	vault_store_close(s);
	return ret;
}

static int local_kdf(void *ctx, uint8_t *out, const char *pin, size_t pin_len, const uint8_t *salt,
		     uint32_t ops, uint32_t mem_kib)
{
	(void)ctx;
	return crypto_pwhash(out, VAULT_KEY_BYTES, pin, pin_len, salt, ops, (size_t)mem_kib * 1024,
			     crypto_pwhash_ALG_ARGON2ID13);
}

void vault_store_set_kdf(struct vault_store *s, vault_kdf_fn fn, void *ctx)
{
	s->kdf = fn != NULL ? fn : local_kdf;
	s->kdf_ctx = ctx;
}

void vault_store_set_people(struct vault_store *s, struct vault_people *people)
{
	s->people = people;
}

const uint8_t *vault_store_people_cache_key(const struct vault_store *s)
{
	return store_key(s, KEY_PEOPLE_CACHE);
}

int vault_store_dirfd(const struct vault_store *s)
{
	return s->dirfd;
}

int vault_store_dirfd_dup(const struct vault_store *s)
{
	return openat(s->dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

void vault_store_close(struct vault_store *s)
{
	if (s == NULL)
		return;
	if (s->dirfd >= 0)
		close(s->dirfd);
	sodium_free(s->keys);
	free(s);
}

/* --- names of things --- */

static int id_parse(const char *hex, uint8_t id[VAULT_USER_ID_BYTES])
{
	size_t bin_len;

	if (strlen(hex) != 2 * VAULT_USER_ID_BYTES || !text_hex_lower(hex, strlen(hex)))
		return VAULT_E_INVAL;
	if (sodium_hex2bin(id, VAULT_USER_ID_BYTES, hex, strlen(hex), NULL, &bin_len, NULL) != 0 ||
	    bin_len != VAULT_USER_ID_BYTES)
		return VAULT_E_INVAL;
	return VAULT_OK;
}

static void file_name(char out[FILE_NAME_MAX], const char *id, const char *suffix)
{
	snprintf(out, FILE_NAME_MAX, "%s%s", id, suffix);
}

static uint64_t now(void)
{
	time_t t = time(NULL);
	return t < 0 ? 0 : (uint64_t)t;
}

/* --- reading and writing one vault file --- */

static void loaded_free(struct loaded *l)
{
	free(l->buf);
	free(l->f);
	l->buf = NULL;
	l->f = NULL;
}

/* st (or NULL): the file's identity, from the descriptor its bytes were read from. */
static int load_stat(struct vault_store *s, const char *id, struct loaded *l, struct stat *st)
{
	uint8_t user_id[VAULT_USER_ID_BYTES];
	char name[FILE_NAME_MAX];
	int ret;

	memset(l, 0, sizeof(*l));
	if ((ret = id_parse(id, user_id)) != VAULT_OK)
		return ret;
	l->buf = malloc(VAULT_FILE_MAX);
	l->f = malloc(sizeof(*l->f));
	if (l->buf == NULL || l->f == NULL) {
		ret = VAULT_E_NOMEM;
		goto out;
	}
	file_name(name, id, VAULT_FILE_SUFFIX);
	if ((ret = fileio_read_stat(s->dirfd, name, l->buf, VAULT_FILE_MAX, &l->len, st)) !=
	    VAULT_OK) {
		if (ret == VAULT_E_TOOLONG)
			ret = VAULT_E_FORMAT;
		goto out;
	}
	if ((ret = vault_file_parse(l->buf, l->len, l->f)) != VAULT_OK)
		goto out;
	if ((ret = vault_file_check_mac(l->buf, l->len, store_key(s, KEY_MAC))) != VAULT_OK)
		goto out;
	/* A file renamed to another user's name is that user's file no longer. */
	if (sodium_memcmp(l->f->user_id, user_id, VAULT_USER_ID_BYTES) != 0)
		ret = VAULT_E_TAMPERED;
out:
	if (ret != VAULT_OK)
		loaded_free(l);
	return ret;
}

static int load(struct vault_store *s, const char *id, struct loaded *l)
{
	return load_stat(s, id, l, NULL);
}

static void counter_publish(struct vault_store *s, const char *id, const struct vault_file *f,
			    int written)
{
	struct vault_person p;

	if (written == VAULT_OK)
		vault_people_set_counter(s->people, id, f->failures, f->retry_limit);
	else if (vault_people_find(s->people, id, &p) == VAULT_OK && f->failures > p.failures)
		vault_people_set_counter(s->people, id, f->failures, f->retry_limit);
	sodium_memzero(&p, sizeof(p));
}

enum save_mode { SAVE_REPLACE, SAVE_CREATE, SAVE_RESET };

/* SAVE_RESET: a counter going back to zero, whose loss in a crash only brings back the counted
 * attempt (fileio_write_atomic_lazy): one fsync fewer per unlock. */
static int save(struct vault_store *s, const struct vault_file *f, enum save_mode mode)
{
	char id[VAULT_USER_ID_HEX], name[FILE_NAME_MAX];
	uint8_t *buf;
	size_t len;
	int ret;

	if ((ret = vault_file_build(f, store_key(s, KEY_MAC), &buf, &len)) != VAULT_OK)
		return ret;
	sodium_bin2hex(id, sizeof(id), f->user_id, VAULT_USER_ID_BYTES);
	file_name(name, id, VAULT_FILE_SUFFIX);
	ret = mode == SAVE_CREATE  ? fileio_create_atomic(s->dirfd, name, buf, len)
	      : mode == SAVE_RESET ? fileio_write_atomic_lazy(s->dirfd, name, buf, len)
				   : fileio_write_atomic(s->dirfd, name, buf, len);
	free(buf);
	/* the index shows the counter the file holds; a failed write may have left either file,
	 * and then the larger count is the one that fails closed */
	if (s->people != NULL)
		counter_publish(s, id, f, ret);
	return ret;
}

static int lock_user(struct vault_store *s, const char *id, int *lockfd)
{
	char name[FILE_NAME_MAX];

	file_name(name, id, VAULT_LOCK_SUFFIX);
	return fileio_lock(s->dirfd, name, lockfd);
}

/* Lock the user's file and load it: the start of every read-modify-write. */
static int lock_and_load(struct vault_store *s, const char *id, int *lockfd, struct loaded *l)
{
	uint8_t user_id[VAULT_USER_ID_BYTES];
	int ret;

	*lockfd = -1;
	if ((ret = id_parse(id, user_id)) != VAULT_OK)
		return ret;
	if ((ret = lock_user(s, id, lockfd)) != VAULT_OK)
		return ret;
	if ((ret = load(s, id, l)) != VAULT_OK) {
		fileio_unlock(*lockfd);
		*lockfd = -1;
	}
	return ret;
}

/* --- keys --- */

static int seal(const uint8_t *key, const uint8_t *plain, size_t len, uint8_t *nonce, uint8_t *box,
		const uint8_t *ad, size_t ad_len)
{
	randombytes_buf(nonce, VAULT_NONCE_BYTES);
	crypto_aead_xchacha20poly1305_ietf_encrypt(box, NULL, plain, len, ad, ad_len, NULL, nonce,
						   key);
	return VAULT_OK;
}

static int unseal(const uint8_t *key, uint8_t *plain, const uint8_t *box, size_t box_len,
		  const uint8_t *nonce, const uint8_t *ad, size_t ad_len)
{
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(plain, NULL, NULL, box, box_len, ad, ad_len,
						       nonce, key) != 0)
		return VAULT_E_TAMPERED;
	return VAULT_OK;
}

/* The PIN wrapping key: Argon2id over the PIN, then keyed BLAKE2b under the device secret's PIN
 * subkey, so the KDF output alone (the PIN guessed offline) unwraps nothing. */
static int pin_key(const struct vault_store *s, const struct vault_file *f, const char *pin,
		   uint8_t out[VAULT_KEY_BYTES])
{
	uint8_t *stretched = sodium_malloc(VAULT_KEY_BYTES + VAULT_USER_ID_BYTES);
	int ret = VAULT_OK;

	if (stretched == NULL)
		return VAULT_E_NOMEM;
	if (s->kdf(s->kdf_ctx, stretched, pin, strlen(pin), f->pin_salt, f->kdf_ops,
		   f->kdf_mem_kib) != 0) {
		ret = VAULT_E_CRYPTO;
		goto out;
	}
	memcpy(stretched + VAULT_KEY_BYTES, f->user_id, VAULT_USER_ID_BYTES);
	crypto_generichash(out, VAULT_KEY_BYTES, stretched, VAULT_KEY_BYTES + VAULT_USER_ID_BYTES,
			   store_key(s, KEY_PIN), VAULT_KEY_BYTES);
out:
	sodium_free(stretched);
	return ret;
}

/* The recovery wrapping key: 144 random bits need no stretching, only the device secret. */
static void recovery_key(const struct vault_store *s, const struct vault_file *f,
			 const uint8_t *rec, uint8_t out[VAULT_KEY_BYTES])
{
	crypto_generichash_state st;

	crypto_generichash_init(&st, store_key(s, KEY_RECOVERY), VAULT_KEY_BYTES, VAULT_KEY_BYTES);
	crypto_generichash_update(&st, f->user_id, VAULT_USER_ID_BYTES);
	crypto_generichash_update(&st, rec, VAULT_RECOVERY_RANDOM_BYTES);
	crypto_generichash_final(&st, out, VAULT_KEY_BYTES);
	sodium_memzero(&st, sizeof(st));
}

static int slot_seal(const uint8_t *wrap, const uint8_t *data_key, const struct vault_file *f,
		     uint8_t tag, uint8_t *nonce, uint8_t *box)
{
	uint8_t ad[VAULT_AD_MAX];
	size_t ad_len = vault_file_ad(ad, f->user_id, tag, NULL);

	return seal(wrap, data_key, VAULT_KEY_BYTES, nonce, box, ad, ad_len);
}

static int slot_open(const uint8_t *wrap, uint8_t *data_key, const struct vault_file *f,
		     uint8_t tag)
{
	uint8_t ad[VAULT_AD_MAX];
	size_t ad_len = vault_file_ad(ad, f->user_id, tag, NULL);
	const uint8_t *nonce = tag == VAULT_AD_PIN_SLOT ? f->pin_nonce : f->rec_nonce;
	const uint8_t *box = tag == VAULT_AD_PIN_SLOT ? f->pin_box : f->rec_box;

	return unseal(wrap, data_key, box, VAULT_SLOT_BOX_BYTES, nonce, ad, ad_len);
}

/* Wrap data_key under a fresh salt and the new PIN, at the policy's KDF cost. */
static int pin_slot_set(const struct vault_store *s, struct vault_file *f, const char *pin,
			const struct vault_policy *policy, const uint8_t *data_key)
{
	uint8_t *wrap = sodium_malloc(VAULT_KEY_BYTES);
	int ret;

	if (wrap == NULL)
		return VAULT_E_NOMEM;
	f->kdf_ops = policy->kdf_ops;
	f->kdf_mem_kib = policy->kdf_mem_kib;
	randombytes_buf(f->pin_salt, sizeof(f->pin_salt));
	if ((ret = pin_key(s, f, pin, wrap)) == VAULT_OK)
		ret = slot_seal(wrap, data_key, f, VAULT_AD_PIN_SLOT, f->pin_nonce, f->pin_box);
	sodium_free(wrap);
	return ret;
}

/* Wrap data_key under a fresh recovery key, whose text goes to text. */
static int recovery_slot_set(const struct vault_store *s, struct vault_file *f,
			     const uint8_t *data_key, char *text)
{
	uint8_t *rec = sodium_malloc(VAULT_RECOVERY_RANDOM_BYTES + VAULT_KEY_BYTES);
	int ret;

	if (rec == NULL)
		return VAULT_E_NOMEM;
	randombytes_buf(rec, VAULT_RECOVERY_RANDOM_BYTES);
	recovery_key(s, f, rec, rec + VAULT_RECOVERY_RANDOM_BYTES);
	ret = slot_seal(rec + VAULT_RECOVERY_RANDOM_BYTES, data_key, f, VAULT_AD_RECOVERY_SLOT,
			f->rec_nonce, f->rec_box);
	if (ret == VAULT_OK)
		recovery_encode(text, rec);
	sodium_free(rec);
	return ret;
}

/* --- users --- */

static int name_check(const char *name)
{
	size_t len = strnlen(name, VAULT_NAME_MAX + 1);

	if (len == 0)
		return VAULT_E_INVAL;
	return entry_text_check(name, len, VAULT_NAME_MAX, 0);
}

static int name_seal(const struct vault_store *s, struct vault_file *f, const char *name,
		     uint8_t *box)
{
	uint8_t ad[VAULT_AD_MAX];
	size_t ad_len = vault_file_ad(ad, f->user_id, VAULT_AD_NAME, NULL);
	size_t len = strlen(name);

	f->name_box = box;
	f->name_box_len = (uint16_t)(len + VAULT_TAG_BYTES);
	return seal(store_key(s, KEY_NAME), (const uint8_t *)name, len, f->name_nonce, box, ad,
		    ad_len);
}

static int name_open(const struct vault_store *s, const struct vault_file *f,
		     char name[VAULT_NAME_MAX + 1])
{
	uint8_t ad[VAULT_AD_MAX];
	size_t ad_len = vault_file_ad(ad, f->user_id, VAULT_AD_NAME, NULL);
	size_t len = f->name_box_len - VAULT_TAG_BYTES;
	int ret;

	ret = unseal(store_key(s, KEY_NAME), (uint8_t *)name, f->name_box, f->name_box_len,
		     f->name_nonce, ad, ad_len);
	if (ret != VAULT_OK)
		return ret;
	name[len] = '\0';
	return name_check(name) == VAULT_OK ? VAULT_OK : VAULT_E_FORMAT;
}

static void info_fill(const struct vault_file *f, const char *id, const char *name,
		      struct vault_user_info *info)
{
	snprintf(info->id, sizeof(info->id), "%s", id);
	snprintf(info->name, sizeof(info->name), "%s", name);
	info->failures = f->failures;
	info->retry_limit = f->retry_limit;
	info->blocked = f->failures >= f->retry_limit;
	info->created = f->created;
}

int vault_user_info(struct vault_store *s, const char *id, struct vault_user_info *info)
{
	return vault_user_info_stat(s, id, info, NULL);
}

int vault_user_info_stat(struct vault_store *s, const char *id, struct vault_user_info *info,
			 struct stat *st)
{
	char name[VAULT_NAME_MAX + 1];
	struct loaded l;
	int ret;

	if ((ret = load_stat(s, id, &l, st)) != VAULT_OK)
		return ret;
	if ((ret = name_open(s, l.f, name)) == VAULT_OK)
		info_fill(l.f, id, name, info);
	loaded_free(&l);
	return ret;
}

static int is_vault_file(const char *name)
{
	uint8_t id[VAULT_USER_ID_BYTES];
	char hex[VAULT_USER_ID_HEX];

	if (strlen(name) != 2 * VAULT_USER_ID_BYTES + strlen(VAULT_FILE_SUFFIX) ||
	    strcmp(name + 2 * VAULT_USER_ID_BYTES, VAULT_FILE_SUFFIX) != 0)
		return 0;
	memcpy(hex, name, 2 * VAULT_USER_ID_BYTES);
	hex[2 * VAULT_USER_ID_BYTES] = '\0';
	return id_parse(hex, id) == VAULT_OK;
}

static int info_cmp(const void *a, const void *b)
{
	const struct vault_user_info *x = a, *y = b;
	int c = strcmp(x->name, y->name);
	return c != 0 ? c : strcmp(x->id, y->id);
}

int vault_user_list(struct vault_store *s, struct vault_user_info **users, size_t *n,
		    size_t *skipped)
{
	struct vault_user_info *list = NULL, *grown;
	size_t count = 0, cap = 0;
	struct dirent *d;
	DIR *dir;
	int fd, ret = VAULT_OK;

	*users = NULL;
	*n = *skipped = 0;
	if ((fd = openat(s->dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 ||
	    (dir = fdopendir(fd)) == NULL) {
		if (fd >= 0)
			close(fd);
		return VAULT_E_IO;
	}
	while ((d = readdir(dir)) != NULL) {
		char id[VAULT_USER_ID_HEX];
		if (!is_vault_file(d->d_name))
			continue;
		if (count == cap) {
			cap = cap ? 2 * cap : 16;
			if ((grown = realloc(list, cap * sizeof(*list))) == NULL) {
				ret = VAULT_E_NOMEM;
				break;
			}
			list = grown;
		}
		snprintf(id, sizeof(id), "%.*s", 2 * VAULT_USER_ID_BYTES, d->d_name);
		if (vault_user_info(s, id, &list[count]) == VAULT_OK)
			count++;
		else
			(*skipped)++;
	}
	closedir(dir);
	if (ret != VAULT_OK) {
		free(list);
		return ret;
	}
	if (count > 0)
		qsort(list, count, sizeof(*list), info_cmp);
	*users = list;
	*n = count;
	return VAULT_OK;
}

int vault_user_find(struct vault_store *s, const char *name_or_id, char id[VAULT_USER_ID_HEX])
{
	uint8_t bin[VAULT_USER_ID_BYTES];
	struct vault_user_info *users;
	size_t n, skipped;
	int ret;

	if (s->people != NULL) {
		struct vault_person p;
		if ((ret = vault_people_find(s->people, name_or_id, &p)) == VAULT_OK)
			snprintf(id, VAULT_USER_ID_HEX, "%s", p.id);
		sodium_memzero(&p, sizeof(p));
		return ret;
	}
	if (id_parse(name_or_id, bin) == VAULT_OK) {
		struct vault_user_info info;
		if ((ret = vault_user_info(s, name_or_id, &info)) == VAULT_OK)
			snprintf(id, VAULT_USER_ID_HEX, "%s", name_or_id);
		return ret;
	}
	if ((ret = vault_user_list(s, &users, &n, &skipped)) != VAULT_OK)
		return ret;
	ret = VAULT_E_NOTFOUND;
	for (size_t i = 0; i < n && ret != VAULT_OK; i++)
		if (strcmp(users[i].name, name_or_id) == 0) {
			snprintf(id, VAULT_USER_ID_HEX, "%s", users[i].id);
			ret = VAULT_OK;
		}
	free(users);
	return ret;
}

int vault_user_create(struct vault_store *s, const char *name, const char *pin,
		      const struct vault_policy *policy, char id[VAULT_USER_ID_HEX], char *recovery)
{
	struct vault_change *c;
	int ret = vault_create_prepare(s, name, pin, policy, id, recovery, &c);

	if (ret == VAULT_OK && (ret = vault_change_apply(c)) == VAULT_OK &&
	    (ret = vault_change_commit(c)) != VAULT_OK)
		vault_change_undo(c);
	vault_change_free(c);
	if (ret != VAULT_OK && recovery != NULL)
		sodium_memzero(recovery, VAULT_RECOVERY_TEXT_BYTES);
	return ret;
}

/* Is name one of id's files: "<id>.vault", "<id>.vault.undo", a temporary ".<id>.….tmp"? */
static int file_of(const char *name, const char *id)
{
	size_t n = 2 * VAULT_USER_ID_BYTES;

	if (name[0] == '.')
		return strncmp(name + 1, id, n) == 0 && name[n + 1] == '.' && strlen(name) > 4 &&
		       strcmp(name + strlen(name) - 4, ".tmp") == 0;
	return strncmp(name, id, n) == 0 && name[n] == '.';
}

/* Remove every file of id's but the lock; VAULT_OK if none is left. */
static int remove_files_of(struct vault_store *s, const char *id)
{
	int fd = openat(s->dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC), ret = VAULT_OK;
	char lock[FILE_NAME_MAX];
	struct dirent *d;
	DIR *dir;

	if (fd < 0 || (dir = fdopendir(fd)) == NULL) {
		if (fd >= 0)
			close(fd);
		return VAULT_E_IO;
	}
	file_name(lock, id, VAULT_LOCK_SUFFIX);
	while ((d = readdir(dir)) != NULL)
		if (file_of(d->d_name, id) && strcmp(d->d_name, lock) != 0 &&
		    unlinkat(s->dirfd, d->d_name, 0) != 0)
			ret = VAULT_E_IO;
	closedir(dir);
	return ret;
}

int vault_user_destroy(struct vault_store *s, const char *id)
{
	char name[FILE_NAME_MAX];
	struct loaded l;
	int lockfd, ret;

	/* Loading first makes sure only a real vault of this store is removed. */
	if ((ret = lock_and_load(s, id, &lockfd, &l)) != VAULT_OK)
		return ret;
	loaded_free(&l);
	/* The vault first, then what a crash left (a temporary file is a whole copy of the vault,
	 * an undo file the vault as it was): nothing that opens with the PIN may outlive it. */
	file_name(name, id, VAULT_FILE_SUFFIX);
	ret = fileio_unlink(s->dirfd, name);
	if (ret != VAULT_OK && ret != VAULT_E_UNSYNCED) { /* still there: nothing was removed */
		fileio_unlock(lockfd);
		return ret;
	}
	if (s->people != NULL) /* gone from the directory: gone from the index */
		vault_people_remove(s->people, id);
	/* the vault is gone: what follows cannot make the withdrawal not have happened, at most
	 * leave it unconfirmed on disk */
	if (remove_files_of(s, id) != VAULT_OK)
		ret = VAULT_E_UNSYNCED;
	/* the index's cache holds the name: it goes too, and the next start writes one without
	 * them (only withdrawn.<id> keeps the name, docs/format.md) */
	(void)unlinkat(s->dirfd, PEOPLE_CACHE_FILE, 0);
	file_name(name, id, VAULT_LOCK_SUFFIX);
	unlinkat(s->dirfd, name, 0);
	if (fsync(s->dirfd) != 0)
		ret = VAULT_E_UNSYNCED;
	fileio_unlock(lockfd);
	return ret;
}

/* --- withdrawn names --- */

/* The associated data of a withdrawn name: the magic, the version and the person's id, so that
 * a file renamed to another id does not open. */
static size_t withdrawn_ad(uint8_t ad[4 + 1 + VAULT_USER_ID_BYTES],
			   const uint8_t id[VAULT_USER_ID_BYTES])
{
	memcpy(ad, VAULT_WITHDRAWN_MAGIC, 4);
	ad[4] = VAULT_WITHDRAWN_VERSION;
	memcpy(ad + 5, id, VAULT_USER_ID_BYTES);
	return 4 + 1 + VAULT_USER_ID_BYTES;
}

static void withdrawn_file(char name[FILE_NAME_MAX], const char *id)
{
	snprintf(name, FILE_NAME_MAX, "%s%s", VAULT_WITHDRAWN_PREFIX, id);
}

int vault_withdrawn_write(struct vault_store *s, const char *id, const char *name)
{
	uint8_t buf[VAULT_WITHDRAWN_MAX], ad[4 + 1 + VAULT_USER_ID_BYTES], uid[VAULT_USER_ID_BYTES];
	size_t len = strlen(name), ad_len;
	char file[FILE_NAME_MAX];
	int ret;

	if (id_parse(id, uid) != VAULT_OK || name_check(name) != VAULT_OK)
		return VAULT_E_INVAL;
	ad_len = withdrawn_ad(ad, uid);
	memcpy(buf, ad, 5);
	seal(store_key(s, KEY_NAME), (const uint8_t *)name, len, buf + 5,
	     buf + 5 + VAULT_NONCE_BYTES, ad, ad_len);
	withdrawn_file(file, id);
	ret =
	    fileio_write_atomic(s->dirfd, file, buf, 5 + VAULT_NONCE_BYTES + len + VAULT_TAG_BYTES);
	sodium_memzero(buf, sizeof(buf));
	return ret;
}

int vault_withdrawn_read(struct vault_store *s, const char *id, char name[VAULT_NAME_MAX + 1])
{
	uint8_t buf[VAULT_WITHDRAWN_MAX + 1], ad[4 + 1 + VAULT_USER_ID_BYTES],
	    uid[VAULT_USER_ID_BYTES];
	size_t len, ad_len;
	char file[FILE_NAME_MAX];
	int ret;

	if (id_parse(id, uid) != VAULT_OK)
		return VAULT_E_INVAL;
	withdrawn_file(file, id);
	if ((ret = fileio_read(s->dirfd, file, buf, sizeof(buf), &len)) != VAULT_OK)
		return ret;
	ad_len = withdrawn_ad(ad, uid);
	if (len < 5 + VAULT_NONCE_BYTES + VAULT_TAG_BYTES || len > VAULT_WITHDRAWN_MAX ||
	    memcmp(buf, ad, 5) != 0)
		return VAULT_E_FORMAT;
	len -= 5 + VAULT_NONCE_BYTES;
	ret = unseal(store_key(s, KEY_NAME), (uint8_t *)name, buf + 5 + VAULT_NONCE_BYTES, len,
		     buf + 5, ad, ad_len);
	if (ret != VAULT_OK)
		return ret;
	name[len - VAULT_TAG_BYTES] = '\0';
	return name_check(name) == VAULT_OK ? VAULT_OK : VAULT_E_FORMAT;
}

/* --- unlocking --- */

static int vault_new(struct vault_store *s, const struct vault_file *f, uint8_t **data_key,
		     struct vault **out)
{
	struct vault *v = calloc(1, sizeof(*v));

	if (v == NULL)
		return VAULT_E_NOMEM;
	v->store = s;
	memcpy(v->user_id, f->user_id, VAULT_USER_ID_BYTES);
	sodium_bin2hex(v->id, sizeof(v->id), f->user_id, VAULT_USER_ID_BYTES);
	v->data_key = *data_key; /* ownership moves to the vault */
	*data_key = NULL;
	*out = v;
	return VAULT_OK;
}

void vault_close(struct vault *v)
{
	if (v == NULL)
		return;
	sodium_free(v->data_key);
	free(v);
}

const char *vault_user_id(const struct vault *v)
{
	return v->id;
}

/* A typed PIN that cannot be a PIN at all is refused before it costs an attempt. */
static int pin_plausible(const char *pin)
{
	size_t len = strnlen(pin, VAULT_PIN_MAX + 1);

	if (len < VAULT_PIN_MIN_FLOOR || len > VAULT_PIN_MAX)
		return VAULT_E_PIN_LENGTH;
	for (size_t i = 0; i < len; i++)
		if (pin[i] < '0' || pin[i] > '9')
			return VAULT_E_PIN_DIGITS;
	return VAULT_OK;
}

/* Try the PIN against a file whose failure counter is already durably incremented. */
static int pin_try(struct vault_store *s, struct vault_file *f, const char *pin, uint8_t *data_key)
{
	uint8_t *wrap = sodium_malloc(VAULT_KEY_BYTES);
	int ret;

	if (wrap == NULL)
		return VAULT_E_NOMEM;
	if ((ret = pin_key(s, f, pin, wrap)) == VAULT_OK &&
	    slot_open(wrap, data_key, f, VAULT_AD_PIN_SLOT) != VAULT_OK)
		ret = VAULT_E_BADPIN;
	sodium_free(wrap);
	return ret;
}

/* Count the attempt durably, under the lock, before anything is tried. On success l holds the
 * file as counted, for the KDF to run on without the lock. */
static int attempt_count(struct vault_store *s, const char *id, struct loaded *l,
			 unsigned *attempts_left)
{
	int lockfd, ret;

	if ((ret = lock_and_load(s, id, &lockfd, l)) != VAULT_OK)
		return ret;
	if (l->f->failures >= l->f->retry_limit) {
		ret = VAULT_E_BLOCKED;
	} else {
		l->f->failures++;
		ret = save(s, l->f, SAVE_REPLACE);
		*attempts_left = (unsigned)(l->f->retry_limit - l->f->failures);
	}
	fileio_unlock(lockfd);
	if (ret != VAULT_OK)
		loaded_free(l);
	return ret;
}

/* After a success: the failure counter goes back to zero. */
static int attempt_reset(struct vault_store *s, const char *id, unsigned *attempts_left)
{
	struct loaded l;
	int lockfd, ret;

	if ((ret = lock_and_load(s, id, &lockfd, &l)) != VAULT_OK)
		return ret;
	l.f->failures = 0;
	*attempts_left = l.f->retry_limit;
	ret = save(s, l.f, SAVE_RESET);
	loaded_free(&l);
	fileio_unlock(lockfd);
	return ret;
}

/* The KDF itself failed (a helper killed, memory refused): no slot was tried, so the attempt
 * counted for it is given back. Other attempts counted meanwhile stay counted. */
static void attempt_uncount(struct vault_store *s, const char *id, unsigned *attempts_left)
{
	struct loaded l;
	int lockfd;

	if (lock_and_load(s, id, &lockfd, &l) != VAULT_OK)
		return;
	if (l.f->failures > 0) {
		l.f->failures--;
		if (save(s, l.f, SAVE_REPLACE) == VAULT_OK)
			*attempts_left = (unsigned)(l.f->retry_limit - l.f->failures);
	}
	loaded_free(&l);
	fileio_unlock(lockfd);
}

/* The lock is held only while the file is read and written, never during the KDF, so other
 * writers of this vault wait milliseconds, not a second. Concurrent guesses are each counted. */
int vault_unlock_pin(struct vault_store *s, const char *id, const char *pin, struct vault **out,
		     unsigned *attempts_left)
{
	uint8_t *data_key = NULL;
	struct loaded l = {0};
	int ret;

	*out = NULL;
	*attempts_left = 0;
	if ((ret = pin_plausible(pin)) != VAULT_OK)
		return ret;
	if ((ret = attempt_count(s, id, &l, attempts_left)) != VAULT_OK)
		return ret;
	if ((data_key = sodium_malloc(VAULT_KEY_BYTES)) == NULL) {
		ret = VAULT_E_NOMEM;
		goto out;
	}
	if ((ret = pin_try(s, l.f, pin, data_key)) != VAULT_OK) {
		if (ret == VAULT_E_CRYPTO || ret == VAULT_E_NOMEM)
			attempt_uncount(s, id, attempts_left);
		goto out;
	}
	if ((ret = attempt_reset(s, id, attempts_left)) == VAULT_OK)
		ret = vault_new(s, l.f, &data_key, out);
out:
	sodium_free(data_key);
	loaded_free(&l);
	return ret;
}

static int recovery_open(struct vault_store *s, const struct vault_file *f, const char *text,
			 uint8_t *data_key)
{
	uint8_t *rec = sodium_malloc(VAULT_RECOVERY_RANDOM_BYTES + VAULT_KEY_BYTES);
	int ret;

	if (rec == NULL)
		return VAULT_E_NOMEM;
	if ((ret = recovery_decode(rec, text)) == VAULT_OK) {
		recovery_key(s, f, rec, rec + VAULT_RECOVERY_RANDOM_BYTES);
		if (slot_open(rec + VAULT_RECOVERY_RANDOM_BYTES, data_key, f,
			      VAULT_AD_RECOVERY_SLOT) != VAULT_OK)
			ret = VAULT_E_BADRECOVERY;
	}
	sodium_free(rec);
	return ret;
}

/* A fresh PIN slot for data_key, computed without any lock (it runs the KDF). */
static int pin_slot_new(const struct vault_store *s, const uint8_t *user_id, const char *pin,
			const struct vault_policy *policy, const uint8_t *data_key,
			struct vault_file **slot)
{
	int ret;

	if ((*slot = calloc(1, sizeof(**slot))) == NULL)
		return VAULT_E_NOMEM;
	memcpy((*slot)->user_id, user_id, VAULT_USER_ID_BYTES);
	if ((ret = pin_slot_set(s, *slot, pin, policy, data_key)) != VAULT_OK) {
		free(*slot);
		*slot = NULL;
	}
	return ret;
}

static void pin_slot_copy(struct vault_file *dst, const struct vault_file *src)
{
	dst->kdf_ops = src->kdf_ops;
	dst->kdf_mem_kib = src->kdf_mem_kib;
	memcpy(dst->pin_salt, src->pin_salt, VAULT_SALT_BYTES);
	memcpy(dst->pin_nonce, src->pin_nonce, VAULT_NONCE_BYTES);
	memcpy(dst->pin_box, src->pin_box, VAULT_SLOT_BOX_BYTES);
}

/* Check the recovery key against the file as it is now, returning the data key. */
static int recovery_check(struct vault_store *s, const char *id, const char *recovery,
			  uint8_t *data_key, uint8_t rec_nonce[VAULT_NONCE_BYTES],
			  uint8_t pin_nonce[VAULT_NONCE_BYTES])
{
	struct loaded l;
	int ret;

	if ((ret = load(s, id, &l)) != VAULT_OK)
		return ret;
	ret = recovery_open(s, l.f, recovery, data_key);
	memcpy(rec_nonce, l.f->rec_nonce, VAULT_NONCE_BYTES);
	memcpy(pin_nonce, l.f->pin_nonce, VAULT_NONCE_BYTES);
	loaded_free(&l);
	return ret;
}

/* --- changes of a vault's keys in steps: prepare (the KDF), apply, then commit or undo --- */

/* Beside "<id>.vault" while a change is applied but not committed: the vault as it was, or
 * empty for a vault that did not exist. vault_store_tidy puts it back after a crash. */
#define UNDO_SUFFIX ".vault.undo"

enum change_kind { CHANGE_PIN, CHANGE_RECOVERY, CHANGE_CREATE };

struct vault_change {
	struct vault_store *store;
	enum change_kind kind;
	char id[VAULT_USER_ID_HEX];
	char name[VAULT_NAME_MAX + 1];	      /* CHANGE_CREATE */
	struct vault_file *next;	      /* the new slots, or the whole new file */
	uint8_t name_box[VAULT_NAME_BOX_MAX]; /* next->name_box for CHANGE_CREATE */
	uint8_t base_pin[VAULT_NONCE_BYTES], base_rec[VAULT_NONCE_BYTES]; /* the slots replaced */
	uint8_t *old; /* the file before apply; NULL for CHANGE_CREATE */
	size_t old_len;
	uint8_t *data_key; /* sodium_malloc; CHANGE_RECOVERY, for vault_change_open */
	int applied;
};

static struct vault_change *change_new(struct vault_store *s, enum change_kind kind, const char *id)
{
	struct vault_change *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return NULL;
	c->store = s;
	c->kind = kind;
	snprintf(c->id, sizeof(c->id), "%s", id);
	return c;
}

void vault_change_free(struct vault_change *c)
{
	if (c == NULL)
		return;
	free(c->next);
	free(c->old);
	sodium_free(c->data_key);
	free(c);
}

int vault_pin_prepare(struct vault *v, const char *new_pin, const struct vault_policy *policy,
		      struct vault_change **out)
{
	struct vault_change *c;
	struct loaded l;
	int ret;

	*out = NULL;
	if ((ret = vault_policy_check(policy)) != VAULT_OK ||
	    (ret = vault_pin_check(new_pin, policy)) != VAULT_OK)
		return ret;
	if ((c = change_new(v->store, CHANGE_PIN, v->id)) == NULL)
		return VAULT_E_NOMEM;
	if ((ret = load(v->store, v->id, &l)) == VAULT_OK) {
		memcpy(c->base_pin, l.f->pin_nonce, VAULT_NONCE_BYTES);
		memcpy(c->base_rec, l.f->rec_nonce, VAULT_NONCE_BYTES);
		loaded_free(&l);
		ret = pin_slot_new(v->store, v->user_id, new_pin, policy, v->data_key, &c->next);
	}
	if (ret != VAULT_OK)
		vault_change_free(c);
	else
		*out = c;
	return ret;
}

/* The recovery key checked and the new slots made, with nothing written. */
static int recover_slots(struct vault_change *c, const char *recovery, const char *new_pin,
			 const struct vault_policy *policy, char *new_recovery)
{
	uint8_t user_id[VAULT_USER_ID_BYTES];
	int ret;

	if ((ret = id_parse(c->id, user_id)) != VAULT_OK)
		return ret;
	if ((c->data_key = sodium_malloc(VAULT_KEY_BYTES)) == NULL)
		return VAULT_E_NOMEM;
	if ((ret = recovery_check(c->store, c->id, recovery, c->data_key, c->base_rec,
				  c->base_pin)) != VAULT_OK ||
	    (ret = pin_slot_new(c->store, user_id, new_pin, policy, c->data_key, &c->next)) !=
		VAULT_OK)
		return ret;
	return recovery_slot_set(c->store, c->next, c->data_key, new_recovery);
}

int vault_recover_prepare(struct vault_store *s, const char *id, const char *recovery,
			  const char *new_pin, const struct vault_policy *policy,
			  char *new_recovery, struct vault_change **out)
{
	uint8_t check[VAULT_RECOVERY_RANDOM_BYTES];
	struct vault_change *c;
	int ret;

	*out = NULL;
	/* A mistyped sheet is caught here, before any file is read or key derived. */
	ret = recovery_decode(check, recovery);
	sodium_memzero(check, sizeof(check));
	if (ret != VAULT_OK || (ret = vault_policy_check(policy)) != VAULT_OK ||
	    (ret = vault_pin_check(new_pin, policy)) != VAULT_OK)
		return ret;
	if ((c = change_new(s, CHANGE_RECOVERY, id)) == NULL)
		return VAULT_E_NOMEM;
	if ((ret = recover_slots(c, recovery, new_pin, policy, new_recovery)) != VAULT_OK) {
		sodium_memzero(new_recovery, VAULT_RECOVERY_TEXT_BYTES);
		vault_change_free(c);
		return ret;
	}
	*out = c;
	return VAULT_OK;
}

/* A whole new file: random id and data key, the PIN and recovery slots, the sealed name. */
static int create_file(struct vault_change *c, const char *pin, const struct vault_policy *policy,
		       char *recovery)
{
	struct vault_file *f = c->next;
	uint8_t *data_key = sodium_malloc(VAULT_KEY_BYTES);
	int ret;

	if (data_key == NULL)
		return VAULT_E_NOMEM;
	randombytes_buf(f->user_id, sizeof(f->user_id));
	randombytes_buf(data_key, VAULT_KEY_BYTES);
	f->retry_limit = (uint8_t)policy->retry_limit;
	f->created = now();
	if ((ret = pin_slot_set(c->store, f, pin, policy, data_key)) == VAULT_OK &&
	    (ret = recovery_slot_set(c->store, f, data_key, recovery)) == VAULT_OK)
		ret = name_seal(c->store, f, c->name, c->name_box);
	sodium_bin2hex(c->id, sizeof(c->id), f->user_id, VAULT_USER_ID_BYTES);
	sodium_free(data_key);
	return ret;
}

/* VAULT_E_EXISTS if name is enrolled; the caller holds the store's lock or checks again. */
static int name_free(struct vault_store *s, const char *name)
{
	char existing[VAULT_USER_ID_HEX];
	int ret = vault_user_find(s, name, existing);

	return ret == VAULT_E_NOTFOUND ? VAULT_OK : ret == VAULT_OK ? VAULT_E_EXISTS : ret;
}

int vault_create_prepare(struct vault_store *s, const char *name, const char *pin,
			 const struct vault_policy *policy, char id[VAULT_USER_ID_HEX],
			 char *recovery, struct vault_change **out)
{
	struct vault_change *c;
	int ret;

	*out = NULL;
	if ((ret = vault_policy_check(policy)) != VAULT_OK ||
	    (ret = name_check(name)) != VAULT_OK ||
	    (ret = vault_pin_check(pin, policy)) != VAULT_OK ||
	    (ret = name_free(s, name)) != VAULT_OK)
		return ret;
	if ((c = change_new(s, CHANGE_CREATE, "")) == NULL)
		return VAULT_E_NOMEM;
	snprintf(c->name, sizeof(c->name), "%s", name);
	if ((c->next = calloc(1, sizeof(*c->next))) == NULL)
		ret = VAULT_E_NOMEM;
	else
		ret = create_file(c, pin, policy, recovery);
	if (ret != VAULT_OK) {
		sodium_memzero(recovery, VAULT_RECOVERY_TEXT_BYTES);
		vault_change_free(c);
		return ret;
	}
	snprintf(id, VAULT_USER_ID_HEX, "%s", c->id);
	*out = c;
	return VAULT_OK;
}

static int undo_write(struct vault_store *s, const char *id, const uint8_t *buf, size_t len)
{
	char name[FILE_NAME_MAX];

	file_name(name, id, UNDO_SUFFIX);
	return fileio_write_atomic(s->dirfd, name, buf, len);
}

static int undo_remove(struct vault_store *s, const char *id)
{
	char name[FILE_NAME_MAX];
	int ret;

	file_name(name, id, UNDO_SUFFIX);
	ret = fileio_unlink(s->dirfd, name);
	return ret == VAULT_E_NOTFOUND ? VAULT_OK : ret;
}

/* Put old back under the lock the caller holds, keeping the larger failure counter: wrong PINs
 * counted against the new slot since stay counted. Then the undo file goes. */
static int restore_locked(struct vault_store *s, const char *id, const uint8_t *old, size_t old_len)
{
	struct vault_file *f = malloc(sizeof(*f));
	struct loaded cur;
	int ret;

	if (f == NULL)
		return VAULT_E_NOMEM;
	if ((ret = vault_file_parse(old, old_len, f)) == VAULT_OK &&
	    (ret = vault_file_check_mac(old, old_len, store_key(s, KEY_MAC))) == VAULT_OK) {
		if (load(s, id, &cur) == VAULT_OK) {
			if (cur.f->failures > f->failures)
				f->failures = cur.f->failures;
			loaded_free(&cur);
		}
		ret = save(s, f, SAVE_REPLACE);
	}
	free(f);
	return ret == VAULT_OK ? undo_remove(s, id) : ret;
}

/* Remove a created vault under the store's lock the caller holds, then its undo file. */
static int uncreate_locked(struct vault_store *s, const char *id)
{
	char name[FILE_NAME_MAX];
	int ret;

	file_name(name, id, VAULT_FILE_SUFFIX);
	ret = fileio_unlink(s->dirfd, name);
	if (ret != VAULT_OK && ret != VAULT_E_NOTFOUND)
		return ret;
	if (s->people != NULL)
		vault_people_remove(s->people, id);
	file_name(name, id, VAULT_LOCK_SUFFIX);
	unlinkat(s->dirfd, name, 0);
	return undo_remove(s, id);
}

static int apply_create(struct vault_change *c)
{
	int lockfd, ret;

	if ((ret = fileio_lock(c->store->dirfd, STORE_LOCK, &lockfd)) != VAULT_OK)
		return ret;
	if ((ret = name_free(c->store, c->name)) == VAULT_OK &&
	    (ret = undo_write(c->store, c->id, (const uint8_t *)"", 0)) == VAULT_OK &&
	    (ret = save(c->store, c->next, SAVE_CREATE)) != VAULT_OK)
		ret = uncreate_locked(c->store, c->id) == VAULT_OK ? VAULT_E_IO : ret;
	/* in the index under the store's lock, so that no second enrolment of the name comes
	 * between; an undo takes it out again */
	if (ret == VAULT_OK && c->store->people != NULL &&
	    (ret = vault_people_add(c->store->people, c->id, c->name, c->next->failures,
				    c->next->retry_limit)) != VAULT_OK)
		uncreate_locked(c->store, c->id);
	fileio_unlock(lockfd);
	return ret;
}

static int apply_slots(struct vault_change *c)
{
	struct loaded l;
	int lockfd, ret;

	if ((ret = lock_and_load(c->store, c->id, &lockfd, &l)) != VAULT_OK)
		return ret;
	/* another PIN change or recovery came between prepare and apply: it wins, this one fails */
	if (sodium_memcmp(l.f->pin_nonce, c->base_pin, VAULT_NONCE_BYTES) != 0 ||
	    sodium_memcmp(l.f->rec_nonce, c->base_rec, VAULT_NONCE_BYTES) != 0) {
		ret = VAULT_E_CHANGING;
		goto out;
	}
	if ((c->old = malloc(l.len)) == NULL) {
		ret = VAULT_E_NOMEM;
		goto out;
	}
	memcpy(c->old, l.buf, l.len);
	c->old_len = l.len;
	if ((ret = undo_write(c->store, c->id, c->old, c->old_len)) != VAULT_OK)
		goto out;
	pin_slot_copy(l.f, c->next);
	if (c->kind == CHANGE_RECOVERY) {
		memcpy(l.f->rec_nonce, c->next->rec_nonce, VAULT_NONCE_BYTES);
		memcpy(l.f->rec_box, c->next->rec_box, VAULT_SLOT_BOX_BYTES);
	}
	l.f->failures = 0;
	/* a failed save may have left either file in place: put the old one back to be sure (if
	 * that fails too, the undo file stays for vault_store_tidy) */
	if ((ret = save(c->store, l.f, SAVE_REPLACE)) != VAULT_OK)
		ret = restore_locked(c->store, c->id, c->old, c->old_len) == VAULT_OK ? VAULT_E_IO
										      : ret;
out:
	loaded_free(&l);
	fileio_unlock(lockfd);
	return ret;
}

int vault_change_apply(struct vault_change *c)
{
	int ret = c->kind == CHANGE_CREATE ? apply_create(c) : apply_slots(c);

	c->applied = ret == VAULT_OK;
	return ret;
}

int vault_change_commit(struct vault_change *c)
{
	return c->applied ? undo_remove(c->store, c->id) : VAULT_E_INVAL;
}

int vault_change_undo(struct vault_change *c)
{
	int lockfd, ret;

	if (!c->applied)
		return VAULT_OK;
	if (c->kind == CHANGE_CREATE) {
		if ((ret = fileio_lock(c->store->dirfd, STORE_LOCK, &lockfd)) != VAULT_OK)
			return ret;
		ret = uncreate_locked(c->store, c->id);
	} else {
		if ((ret = lock_user(c->store, c->id, &lockfd)) != VAULT_OK)
			return ret;
		ret = restore_locked(c->store, c->id, c->old, c->old_len);
	}
	fileio_unlock(lockfd);
	if (ret == VAULT_OK)
		c->applied = 0;
	return ret;
}

int vault_change_open(struct vault_change *c, struct vault **out)
{
	struct vault_file f;

	*out = NULL;
	if (c->kind != CHANGE_RECOVERY || !c->applied || c->data_key == NULL)
		return VAULT_E_INVAL;
	memcpy(f.user_id, c->next->user_id, VAULT_USER_ID_BYTES);
	return vault_new(c->store, &f, &c->data_key, out);
}

int vault_snapshot(struct vault_store *s, const char *id, uint8_t **buf, size_t *len)
{
	struct loaded l;
	int ret;

	*buf = NULL;
	*len = 0;
	if ((ret = load(s, id, &l)) != VAULT_OK)
		return ret;
	*buf = l.buf; /* the file's bytes: no secret in clear */
	*len = l.len;
	l.buf = NULL;
	loaded_free(&l);
	return VAULT_OK;
}

int vault_snapshot_restore(struct vault_store *s, const char *id, const uint8_t *buf, size_t len)
{
	int lockfd, ret;

	if ((ret = lock_user(s, id, &lockfd)) != VAULT_OK)
		return ret;
	ret = restore_locked(s, id, buf, len);
	fileio_unlock(lockfd);
	return ret;
}

/* --- what a crash left in the directory --- */

/* "<32 hex>" then suffix: the id in id. */
static int name_with_id(const char *name, const char *suffix, char id[VAULT_USER_ID_HEX])
{
	uint8_t bin[VAULT_USER_ID_BYTES];
	size_t n = 2 * VAULT_USER_ID_BYTES;

	if (strlen(name) != n + strlen(suffix) || strcmp(name + n, suffix) != 0)
		return 0;
	snprintf(id, VAULT_USER_ID_HEX, "%.*s", (int)n, name);
	return id_parse(id, bin) == VAULT_OK;
}

/* Put back the vault an undo file holds: what kind of change it was undoes goes to *kind. */
static int tidy_undo(struct vault_store *s, const char *id, const char **what)
{
	char name[FILE_NAME_MAX];
	uint8_t *old = malloc(VAULT_FILE_MAX);
	struct vault_file *f = malloc(sizeof(*f));
	struct loaded cur;
	size_t len = 0;
	int lockfd = -1, ret = VAULT_E_NOMEM;

	file_name(name, id, UNDO_SUFFIX);
	if (old == NULL || f == NULL || (ret = lock_user(s, id, &lockfd)) != VAULT_OK ||
	    (ret = fileio_read(s->dirfd, name, old, VAULT_FILE_MAX, &len)) != VAULT_OK) {
		ret = old == NULL || f == NULL ? VAULT_E_NOMEM : ret;
		goto out;
	}
	*what = "pin_changed";
	if (len == 0) {
		*what = "user_enrolled";
		ret = uncreate_locked(s, id);
	} else {
		if (vault_file_parse(old, len, f) == VAULT_OK && load(s, id, &cur) == VAULT_OK) {
			if (sodium_memcmp(cur.f->rec_nonce, f->rec_nonce, VAULT_NONCE_BYTES) != 0)
				*what = "recovery_used";
			loaded_free(&cur);
		}
		ret = restore_locked(s, id, old, len);
	}
out:
	fileio_unlock(lockfd);
	free(old);
	free(f);
	return ret;
}

/* ".<anything>.tmp": a temporary file of fileio's, left by a crash before its rename. */
static int is_temp_file(const char *name)
{
	size_t len = strlen(name);

	return name[0] == '.' && len > 5 && strcmp(name + len - 4, ".tmp") == 0;
}

int vault_store_tidy(struct vault_store *s, vault_tidy_fn cb, void *ctx)
{
	int fd = openat(s->dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC), ret = VAULT_OK;
	struct dirent *d;
	DIR *dir;

	if (fd < 0 || (dir = fdopendir(fd)) == NULL) {
		if (fd >= 0)
			close(fd);
		return VAULT_E_IO;
	}
	while ((d = readdir(dir)) != NULL) {
		char id[VAULT_USER_ID_HEX];
		const char *what = "pin_changed";
		if (is_temp_file(d->d_name)) {
			if (unlinkat(s->dirfd, d->d_name, 0) != 0)
				ret = VAULT_E_IO;
		} else if (name_with_id(d->d_name, UNDO_SUFFIX, id)) {
			int r = tidy_undo(s, id, &what);
			if (r != VAULT_OK)
				ret = r;
			if (cb != NULL)
				cb(ctx, id, what, r);
		}
	}
	closedir(dir);
	if (fsync(s->dirfd) != 0 && ret == VAULT_OK)
		ret = VAULT_E_IO;
	return ret;
}

int vault_unlock_recovery(struct vault_store *s, const char *id, const char *recovery,
			  const char *new_pin, const struct vault_policy *policy,
			  char *new_recovery, struct vault **out)
{
	struct vault_change *c;
	int ret = vault_recover_prepare(s, id, recovery, new_pin, policy, new_recovery, &c);

	*out = NULL;
	if (ret == VAULT_OK && (ret = vault_change_apply(c)) == VAULT_OK &&
	    (ret = vault_change_commit(c)) != VAULT_OK)
		vault_change_undo(c);
	if (ret == VAULT_OK)
		ret = vault_change_open(c, out);
	vault_change_free(c);
	if (ret != VAULT_OK && new_recovery != NULL)
		sodium_memzero(new_recovery, VAULT_RECOVERY_TEXT_BYTES);
	return ret;
}

int vault_change_pin(struct vault *v, const char *new_pin, const struct vault_policy *policy)
{
	struct vault_change *c;
	int ret = vault_pin_prepare(v, new_pin, policy, &c);

	if (ret == VAULT_OK && (ret = vault_change_apply(c)) == VAULT_OK &&
	    (ret = vault_change_commit(c)) != VAULT_OK)
		vault_change_undo(c);
	vault_change_free(c);
	return ret;
}

/* --- credentials --- */

static size_t entry_ad(uint8_t ad[VAULT_AD_MAX], const struct vault *v, const uint8_t *entry_id)
{
	return vault_file_ad(ad, v->user_id, VAULT_AD_ENTRY, entry_id);
}

static int entry_open(const struct vault *v, const struct vault_file_entry *fe, uint8_t *plain,
		      size_t *len)
{
	uint8_t ad[VAULT_AD_MAX];
	size_t ad_len = entry_ad(ad, v, fe->id);

	*len = fe->box_len - VAULT_TAG_BYTES;
	return unseal(v->data_key, plain, fe->box, fe->box_len, fe->nonce, ad, ad_len);
}

/* Decrypt every entry of f; one guarded buffer holds all the strings. */
static int entries_decrypt(const struct vault *v, const struct vault_file *f,
			   struct vault_entries **out)
{
	struct vault_entries *es;
	uint8_t *scratch = NULL;
	size_t total = 1;
	char *strings;
	int ret = VAULT_OK;

	*out = NULL;
	/* an entry's strings are shorter than its plaintext, itself shorter than its box; each
	 * string adds a NUL (format 1's missing selectors take none) */
	for (size_t i = 0; i < f->n_entries; i++)
		total += f->entries[i].box_len + VAULT_ENTRY_FIELDS;
	if ((es = calloc(1, sizeof(*es))) == NULL)
		return VAULT_E_NOMEM;
	es->entry = calloc(f->n_entries + 1, sizeof(*es->entry));
	es->plain = sodium_malloc(total);
	scratch = sodium_malloc(VAULT_ENTRY_BOX_MAX);
	if (es->entry == NULL || es->plain == NULL || scratch == NULL) {
		ret = VAULT_E_NOMEM;
		goto out;
	}
	strings = (char *)es->plain;
	for (size_t i = 0; i < f->n_entries && ret == VAULT_OK; i++) {
		size_t len;
		struct vault_entry *e = &es->entry[i];
		if ((ret = entry_open(v, &f->entries[i], scratch, &len)) == VAULT_OK)
			ret = entry_decode(scratch, len, e, &strings);
		sodium_bin2hex(e->id, sizeof(e->id), f->entries[i].id, VAULT_ENTRY_ID_BYTES);
		es->n++;
	}
out:
	sodium_free(scratch);
	if (ret != VAULT_OK)
		vault_entries_free(es);
	else
		*out = es;
	return ret;
}

void vault_entries_free(struct vault_entries *es)
{
	if (es == NULL)
		return;
	sodium_free(es->plain);
	if (es->entry != NULL)
		sodium_memzero(es->entry, es->n * sizeof(*es->entry));
	free(es->entry);
	free(es);
}

const struct vault_entry *vault_entries_find(const struct vault_entries *es, const char *service)
{
	for (size_t i = 0; i < es->n; i++)
		if (strcasecmp(es->entry[i].service, service) == 0)
			return &es->entry[i];
	return NULL;
}

int vault_entry_list(struct vault *v, struct vault_entries **out)
{
	struct loaded l;
	int ret;

	*out = NULL;
	if ((ret = load(v->store, v->id, &l)) != VAULT_OK)
		return ret;
	ret = entries_decrypt(v, l.f, out);
	loaded_free(&l);
	return ret;
}

static int entry_index(const struct vault_file *f, const char *id, size_t *index)
{
	uint8_t bin[VAULT_ENTRY_ID_BYTES];

	if (id_parse(id, bin) != VAULT_OK)
		return VAULT_E_INVAL;
	for (size_t i = 0; i < f->n_entries; i++)
		if (sodium_memcmp(f->entries[i].id, bin, VAULT_ENTRY_ID_BYTES) == 0) {
			*index = i;
			return VAULT_OK;
		}
	return VAULT_E_NOTFOUND;
}

/* Encrypt in as entry fe (whose id is set), into a malloc'd box that fe then points to. */
static int entry_seal(const struct vault *v, struct vault_file_entry *fe,
		      const struct vault_entry_input *in, uint64_t created)
{
	uint8_t ad[VAULT_AD_MAX], *box = NULL;
	uint8_t *plain = sodium_malloc(VAULT_ENTRY_PLAIN_MAX);
	size_t ad_len = entry_ad(ad, v, fe->id), len;
	int ret;

	if (plain == NULL)
		return VAULT_E_NOMEM;
	if ((ret = entry_encode(plain, &len, in, created, now())) != VAULT_OK)
		goto out;
	if ((box = malloc(len + VAULT_TAG_BYTES)) == NULL) {
		ret = VAULT_E_NOMEM;
		goto out;
	}
	seal(v->data_key, plain, len, fe->nonce, box, ad, ad_len);
	fe->box = box;
	fe->box_len = (uint32_t)(len + VAULT_TAG_BYTES);
out:
	sodium_free(plain);
	return ret;
}

/* Refuse a second credential with the same service name (skip is the entry being changed). */
static int service_unique(const struct vault *v, const struct vault_file *f, const char *service,
			  const char *skip)
{
	struct vault_entries *es;
	int ret;

	if ((ret = entries_decrypt(v, f, &es)) != VAULT_OK)
		return ret;
	for (size_t i = 0; i < es->n && ret == VAULT_OK; i++)
		if (strcasecmp(es->entry[i].service, service) == 0 &&
		    (skip == NULL || strcmp(es->entry[i].id, skip) != 0))
			ret = VAULT_E_EXISTS;
	vault_entries_free(es);
	return ret;
}

int vault_entry_add(struct vault *v, const struct vault_entry_input *in,
		    char id[VAULT_ENTRY_ID_HEX])
{
	struct vault_file_entry *fe;
	struct loaded l;
	int lockfd, ret;

	if ((ret = entry_input_check(in)) != VAULT_OK)
		return ret;
	if ((ret = lock_and_load(v->store, v->id, &lockfd, &l)) != VAULT_OK)
		return ret;
	if (l.f->n_entries >= VAULT_ENTRIES_MAX) {
		ret = VAULT_E_FULL;
		goto out;
	}
	if ((ret = service_unique(v, l.f, in->service, NULL)) != VAULT_OK)
		goto out;
	fe = &l.f->entries[l.f->n_entries];
	randombytes_buf(fe->id, sizeof(fe->id));
	if ((ret = entry_seal(v, fe, in, now())) != VAULT_OK)
		goto out;
	l.f->n_entries++;
	if ((ret = save(v->store, l.f, SAVE_REPLACE)) == VAULT_OK)
		sodium_bin2hex(id, VAULT_ENTRY_ID_HEX, fe->id, VAULT_ENTRY_ID_BYTES);
	free((void *)fe->box);
out:
	loaded_free(&l);
	fileio_unlock(lockfd);
	return ret;
}

static int entry_created(const struct vault *v, const struct vault_file_entry *fe,
			 uint64_t *created)
{
	uint8_t *plain = sodium_malloc(VAULT_ENTRY_BOX_MAX);
	size_t len;
	int ret;

	if (plain == NULL)
		return VAULT_E_NOMEM;
	if ((ret = entry_open(v, fe, plain, &len)) == VAULT_OK) {
		if (len < VAULT_ENTRY_FIXED_BYTES)
			ret = VAULT_E_FORMAT;
		for (size_t i = 1; i <= 8 && ret == VAULT_OK; i++)
			*created = (*created << 8) | plain[i];
	}
	sodium_free(plain);
	return ret;
}

int vault_entry_update(struct vault *v, const char *id, const struct vault_entry_input *in)
{
	struct loaded l;
	uint64_t created = 0;
	size_t i;
	int lockfd, ret;

	if ((ret = entry_input_check(in)) != VAULT_OK)
		return ret;
	if ((ret = lock_and_load(v->store, v->id, &lockfd, &l)) != VAULT_OK)
		return ret;
	if ((ret = entry_index(l.f, id, &i)) != VAULT_OK ||
	    (ret = service_unique(v, l.f, in->service, id)) != VAULT_OK ||
	    (ret = entry_created(v, &l.f->entries[i], &created)) != VAULT_OK ||
	    (ret = entry_seal(v, &l.f->entries[i], in, created)) != VAULT_OK)
		goto out;
	ret = save(v->store, l.f, SAVE_REPLACE);
	free((void *)l.f->entries[i].box);
out:
	loaded_free(&l);
	fileio_unlock(lockfd);
	return ret;
}

int vault_entry_remove(struct vault *v, const char *id)
{
	struct loaded l;
	size_t i;
	int lockfd, ret;

	if ((ret = lock_and_load(v->store, v->id, &lockfd, &l)) != VAULT_OK)
		return ret;
	if ((ret = entry_index(l.f, id, &i)) == VAULT_OK) {
		memmove(&l.f->entries[i], &l.f->entries[i + 1],
			(l.f->n_entries - i - 1) * sizeof(l.f->entries[0]));
		l.f->n_entries--;
		ret = save(v->store, l.f, SAVE_REPLACE);
	}
	loaded_free(&l);
	fileio_unlock(lockfd);
	return ret;
}
