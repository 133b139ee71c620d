#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "bytes.h"
#include "error.h"
#include "vaultfile.h"

/* A bounded reader: every take checks the remaining length first. */
struct reader {
	const uint8_t *p;
	size_t left;
};

static int take(struct reader *r, void *out, size_t n)
{
	if (r->left < n)
		return VAULT_E_FORMAT;
	if (out != NULL)
		memcpy(out, r->p, n);
	r->p += n;
	r->left -= n;
	return VAULT_OK;
}

static int take_ref(struct reader *r, const uint8_t **out, size_t n)
{
	*out = r->p;
	return take(r, NULL, n);
}

static int parse_header(struct reader *r, struct vault_file *f)
{
	uint8_t h[VAULT_HEADER_BYTES];
	uint32_t version;
	int ret;

	if ((ret = take(r, h, sizeof(h))) != VAULT_OK)
		return ret;
	if (memcmp(h, VAULT_MAGIC, VAULT_MAGIC_BYTES) != 0)
		return VAULT_E_FORMAT;
	version = load_be16(h + 8);
	if (version != VAULT_FORMAT_VERSION)
		return VAULT_E_VERSION;
	if (load_be16(h + 10) != 0 || h[28] != VAULT_KDF_ARGON2ID13 || h[31] != 0)
		return VAULT_E_FORMAT;
	memcpy(f->user_id, h + 12, VAULT_USER_ID_BYTES);
	f->retry_limit = h[29];
	f->failures = h[30];
	f->kdf_ops = load_be32(h + 32);
	f->kdf_mem_kib = load_be32(h + 36);
	memcpy(f->pin_salt, h + 40, VAULT_SALT_BYTES);
	f->created = load_be64(h + 56);
	if (f->retry_limit < VAULT_RETRY_MIN || f->retry_limit > VAULT_RETRY_MAX ||
	    f->failures > f->retry_limit)
		return VAULT_E_FORMAT;
	if (f->kdf_ops < VAULT_KDF_OPS_MIN || f->kdf_ops > VAULT_KDF_OPS_MAX ||
	    f->kdf_mem_kib < VAULT_KDF_MEM_KIB_MIN || f->kdf_mem_kib > VAULT_KDF_MEM_KIB_MAX)
		return VAULT_E_FORMAT;
	return VAULT_OK;
}

static int parse_entry(struct reader *r, struct vault_file_entry *e)
{
	uint8_t len[4];
	int ret;

	if ((ret = take(r, e->id, sizeof(e->id))) != VAULT_OK ||
	    (ret = take(r, e->nonce, sizeof(e->nonce))) != VAULT_OK ||
	    (ret = take(r, len, sizeof(len))) != VAULT_OK)
		return ret;
	e->box_len = load_be32(len);
	if (e->box_len < VAULT_ENTRY_BOX_MIN || e->box_len > VAULT_ENTRY_BOX_MAX)
		return VAULT_E_FORMAT;
	return take_ref(r, &e->box, e->box_len);
}

int vault_file_parse(const uint8_t *buf, size_t len, struct vault_file *f)
{
	struct reader r = {buf, len};
	uint8_t n[2];
	int ret;

	memset(f, 0, sizeof(*f));
	if (len < VAULT_FILE_MIN || len > VAULT_FILE_MAX)
		return len >= VAULT_HEADER_BYTES &&
			       memcmp(buf, VAULT_MAGIC, VAULT_MAGIC_BYTES) == 0 &&
			       load_be16(buf + 8) != VAULT_FORMAT_VERSION
			   ? VAULT_E_VERSION
			   : VAULT_E_FORMAT;
	if ((ret = parse_header(&r, f)) != VAULT_OK)
		return ret;
	if ((ret = take(&r, f->pin_nonce, VAULT_NONCE_BYTES)) != VAULT_OK ||
	    (ret = take(&r, f->pin_box, VAULT_SLOT_BOX_BYTES)) != VAULT_OK ||
	    (ret = take(&r, f->rec_nonce, VAULT_NONCE_BYTES)) != VAULT_OK ||
	    (ret = take(&r, f->rec_box, VAULT_SLOT_BOX_BYTES)) != VAULT_OK ||
	    (ret = take(&r, f->name_nonce, VAULT_NONCE_BYTES)) != VAULT_OK ||
	    (ret = take(&r, n, 2)) != VAULT_OK)
		return ret;
	f->name_box_len = load_be16(n);
	if (f->name_box_len <= VAULT_TAG_BYTES || f->name_box_len > VAULT_NAME_BOX_MAX)
		return VAULT_E_FORMAT;
	if ((ret = take_ref(&r, &f->name_box, f->name_box_len)) != VAULT_OK ||
	    (ret = take(&r, n, 2)) != VAULT_OK)
		return ret;
	f->n_entries = load_be16(n);
	if (f->n_entries > VAULT_ENTRIES_MAX)
		return VAULT_E_FORMAT;
	for (size_t i = 0; i < f->n_entries; i++)
		if ((ret = parse_entry(&r, &f->entries[i])) != VAULT_OK)
			return ret;
	if (r.left != VAULT_MAC_BYTES)
		return VAULT_E_FORMAT; /* truncated, or trailing bytes */
	return VAULT_OK;
}

static void compute_mac(uint8_t mac[VAULT_MAC_BYTES], const uint8_t *buf, size_t len,
			const uint8_t key[VAULT_KEY_BYTES])
{
	crypto_generichash(mac, VAULT_MAC_BYTES, buf, len, key, VAULT_KEY_BYTES);
}

int vault_file_check_mac(const uint8_t *buf, size_t len, const uint8_t mac_key[VAULT_KEY_BYTES])
{
	uint8_t mac[VAULT_MAC_BYTES];
	int ok;

	if (len < VAULT_MAC_BYTES)
		return VAULT_E_FORMAT;
	compute_mac(mac, buf, len - VAULT_MAC_BYTES, mac_key);
	ok = crypto_verify_32(mac, buf + len - VAULT_MAC_BYTES) == 0;
	return ok ? VAULT_OK : VAULT_E_TAMPERED;
}

static size_t file_size(const struct vault_file *f)
{
	size_t n = VAULT_HEADER_BYTES + VAULT_SLOTS_BYTES + VAULT_NONCE_BYTES + 2 +
		   f->name_box_len + 2 + VAULT_MAC_BYTES;

	for (size_t i = 0; i < f->n_entries; i++)
		n += VAULT_ENTRY_HEAD_BYTES + f->entries[i].box_len;
	return n;
}

static uint8_t *put(uint8_t *p, const void *src, size_t n)
{
	memcpy(p, src, n);
	return p + n;
}

static uint8_t *put_header(uint8_t *p, const struct vault_file *f)
{
	memset(p, 0, VAULT_HEADER_BYTES);
	memcpy(p, VAULT_MAGIC, VAULT_MAGIC_BYTES);
	store_be16(p + 8, VAULT_FORMAT_VERSION);
	memcpy(p + 12, f->user_id, VAULT_USER_ID_BYTES);
	p[28] = VAULT_KDF_ARGON2ID13;
	p[29] = f->retry_limit;
	p[30] = f->failures;
	store_be32(p + 32, f->kdf_ops);
	store_be32(p + 36, f->kdf_mem_kib);
	memcpy(p + 40, f->pin_salt, VAULT_SALT_BYTES);
	store_be64(p + 56, f->created);
	return p + VAULT_HEADER_BYTES;
}

int vault_file_build(const struct vault_file *f, const uint8_t mac_key[VAULT_KEY_BYTES],
		     uint8_t **out, size_t *out_len)
{
	size_t len = file_size(f);
	uint8_t *buf, *p;

	*out = NULL;
	if (f->n_entries > VAULT_ENTRIES_MAX || len > VAULT_FILE_MAX)
		return VAULT_E_FULL;
	if ((buf = malloc(len)) == NULL)
		return VAULT_E_NOMEM;
	p = put_header(buf, f);
	p = put(p, f->pin_nonce, VAULT_NONCE_BYTES);
	p = put(p, f->pin_box, VAULT_SLOT_BOX_BYTES);
	p = put(p, f->rec_nonce, VAULT_NONCE_BYTES);
	p = put(p, f->rec_box, VAULT_SLOT_BOX_BYTES);
	p = put(p, f->name_nonce, VAULT_NONCE_BYTES);
	store_be16(p, f->name_box_len);
	p = put(p + 2, f->name_box, f->name_box_len);
	store_be16(p, f->n_entries);
	p += 2;
	for (size_t i = 0; i < f->n_entries; i++) {
		const struct vault_file_entry *e = &f->entries[i];
		p = put(p, e->id, VAULT_ENTRY_ID_BYTES);
		p = put(p, e->nonce, VAULT_NONCE_BYTES);
		store_be32(p, e->box_len);
		p = put(p + 4, e->box, e->box_len);
	}
	compute_mac(p, buf, (size_t)(p - buf), mac_key);
	*out = buf;
	*out_len = len;
	return VAULT_OK;
}

size_t vault_file_ad(uint8_t ad[VAULT_AD_MAX], const uint8_t user_id[VAULT_USER_ID_BYTES],
		     uint8_t tag, const uint8_t *entry_id)
{
	size_t n = 0;

	memcpy(ad, VAULT_MAGIC, VAULT_MAGIC_BYTES);
	n += VAULT_MAGIC_BYTES;
	store_be16(ad + n, VAULT_FORMAT_VERSION);
	n += 2;
	memcpy(ad + n, user_id, VAULT_USER_ID_BYTES);
	n += VAULT_USER_ID_BYTES;
	ad[n++] = tag;
	if (entry_id != NULL) {
		memcpy(ad + n, entry_id, VAULT_ENTRY_ID_BYTES);
		n += VAULT_ENTRY_ID_BYTES;
	}
	return n;
}
