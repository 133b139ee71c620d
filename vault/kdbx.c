/* The KDBX 4 writer (docs/format.md, "The KDBX 4 export"). Every byte that holds a secret, the
 * XML before encryption included, lives in sodium_malloc buffers wiped when freed. The XML is
 * built twice: once to count its bytes, once to write them, so nothing is ever reallocated. */
#include <string.h>

#include <sodium.h>

#include "error.h"
#include "kdbx.h"

/* Little-endian, as KDBX stores every integer (Sesame's own formats are big-endian: bytes.h). */
static void le32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void le64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static const uint8_t KDBX_CIPHER_CHACHA20[16] = {0xd6, 0x03, 0x8a, 0x2b, 0x8b, 0x6f, 0x4c, 0xb5,
						 0xa5, 0x24, 0x33, 0x9a, 0x31, 0xdb, 0xb5, 0x9a};
static const uint8_t KDBX_KDF_ARGON2ID[16] = {0x9e, 0x29, 0x8b, 0x19, 0x56, 0xdb, 0x47, 0x73,
					      0xb2, 0x3d, 0xfc, 0x3e, 0xc6, 0xf0, 0xa1, 0xe6};

enum {
	HDR_END = 0,
	HDR_CIPHER = 2,
	HDR_COMPRESSION = 3,
	HDR_MASTER_SEED = 4,
	HDR_IV = 7,
	HDR_KDF = 11,
	INNER_END = 0,
	INNER_STREAM_ID = 1,
	INNER_STREAM_KEY = 2,
	INNER_CHACHA20 = 3,
	VD_UINT32 = 0x04,
	VD_UINT64 = 0x05,
	VD_BYTES = 0x42,
	ARGON2_VERSION = 0x13,
};

/* A byte sink that counts when p is NULL and writes when it is not. */
struct sink {
	uint8_t *p;
	size_t len, cap;
};

static void put(struct sink *s, const void *b, size_t n)
{
	if (n != 0 && s->p != NULL && s->len + n <= s->cap)
		memcpy(s->p + s->len, b, n);
	s->len += n;
}

static void put_str(struct sink *s, const char *str)
{
	put(s, str, strlen(str));
}

static void put_field(struct sink *s, uint8_t id, const void *b, uint32_t n)
{
	uint8_t h[5] = {id};

	le32(h + 1, n);
	put(s, h, sizeof(h));
	put(s, b, n);
}

static void put_vd_item(struct sink *s, uint8_t type, const char *key, const void *v, uint32_t n)
{
	uint8_t h[4];

	put(s, &type, 1);
	le32(h, (uint32_t)strlen(key));
	put(s, h, 4);
	put_str(s, key);
	le32(h, n);
	put(s, h, 4);
	put(s, v, n);
}

/* The KDF parameters: a VariantDictionary, version 1.0. */
static void put_kdf(struct sink *s, const uint8_t salt[KDBX_SALT_BYTES])
{
	uint8_t u32[4], u64[8], end = 0, version[2] = {0x00, 0x01};

	put(s, version, 2);
	put_vd_item(s, VD_BYTES, "$UUID", KDBX_KDF_ARGON2ID, 16);
	put_vd_item(s, VD_BYTES, "S", salt, KDBX_SALT_BYTES);
	le32(u32, 1);
	put_vd_item(s, VD_UINT32, "P", u32, 4);
	le64(u64, KDBX_ARGON2_MEMORY);
	put_vd_item(s, VD_UINT64, "M", u64, 8);
	le64(u64, KDBX_ARGON2_PASSES);
	put_vd_item(s, VD_UINT64, "I", u64, 8);
	le32(u32, ARGON2_VERSION);
	put_vd_item(s, VD_UINT32, "V", u32, 4);
	put(s, &end, 1);
}

static void put_header(struct sink *s, const struct kdbx_random *r)
{
	static const uint8_t sig[12] = {0x03, 0xd9, 0xa2, 0x9a, 0x67, 0xfb,
					0x4b, 0xb5, 0x00, 0x00, 0x04, 0x00};
	static const uint8_t eoh[4] = {0x0d, 0x0a, 0x0d, 0x0a};
	uint8_t none[4] = {0}, kdf[128];
	struct sink k = {kdf, 0, sizeof(kdf)};

	put_kdf(&k, r->salt);
	put(s, sig, sizeof(sig));
	put_field(s, HDR_CIPHER, KDBX_CIPHER_CHACHA20, 16);
	put_field(s, HDR_COMPRESSION, none, 4);
	put_field(s, HDR_MASTER_SEED, r->master_seed, 32);
	put_field(s, HDR_IV, r->iv, 12);
	put_field(s, HDR_KDF, kdf, (uint32_t)k.len);
	put_field(s, HDR_END, eoh, 4);
}

/* Characters XML 1.0 cannot carry even as references: C0 controls but tab, LF and CR. */
static int xml_ok(const char *v)
{
	for (const unsigned char *p = (const unsigned char *)v; *p != '\0'; p++)
		if (*p < 0x20 && *p != '\t' && *p != '\n' && *p != '\r')
			return 0;
	return 1;
}

static void put_escaped(struct sink *s, const char *v)
{
	for (; *v != '\0'; v++) {
		switch (*v) {
		case '&':
			put_str(s, "&amp;");
			break;
		case '<':
			put_str(s, "&lt;");
			break;
		case '>':
			put_str(s, "&gt;");
			break;
		case '"':
			put_str(s, "&quot;");
			break;
		case '\'':
			put_str(s, "&apos;");
			break;
		case '\r':
			put_str(s, "&#13;");
			break; /* XML readers turn a bare CR into LF */
		default:
			put(s, v, 1);
		}
	}
}

static void put_uuid(struct sink *s, const struct kdbx_random *r, uint32_t index)
{
	uint8_t uuid[16], idx[4];
	char b64[sodium_base64_ENCODED_LEN(16, sodium_base64_VARIANT_ORIGINAL)];

	le32(idx, index);
	crypto_generichash(uuid, sizeof(uuid), idx, sizeof(idx), r->uuid_key, sizeof(r->uuid_key));
	sodium_bin2base64(b64, sizeof(b64), uuid, sizeof(uuid), sodium_base64_VARIANT_ORIGINAL);
	put_str(s, "<UUID>");
	put_str(s, b64);
	put_str(s, "</UUID>");
}

static void put_string(struct sink *s, const char *key, const char *value)
{
	put_str(s, "<String><Key>");
	put_str(s, key);
	put_str(s, "</Key><Value>");
	put_escaped(s, value != NULL ? value : "");
	put_str(s, "</Value></String>");
}

/* The inner stream's keystream for every protected value, in document order. */
struct inner {
	uint8_t *ks;
	size_t used;
};

/* A protected value: XOR'd with the inner stream, in place in the keystream's guarded buffer,
 * then base64 straight into the sink (its NUL lands where the closing tag goes next). */
static void put_protected(struct sink *s, struct inner *in, const char *value)
{
	size_t n = strlen(value),
	       cap = sodium_base64_ENCODED_LEN(n, sodium_base64_VARIANT_ORIGINAL);
	uint8_t *x = in->ks + in->used;

	put_str(s, "<String><Key>Password</Key><Value Protected=\"True\">");
	if (s->p != NULL && s->len + cap <= s->cap) {
		for (size_t i = 0; i < n; i++)
			x[i] ^= (uint8_t)value[i];
		sodium_bin2base64((char *)s->p + s->len, cap, x, n, sodium_base64_VARIANT_ORIGINAL);
	}
	s->len += cap - 1;
	in->used += n;
	put_str(s, "</Value></String>");
}

static void put_xml(struct sink *s, struct inner *in, const struct kdbx_random *r,
		    const char *title, const struct kdbx_item *items, size_t n)
{

	put_str(s, "<?xml version=\"1.0\" encoding=\"utf-8\" standalone=\"yes\"?>\n<KeePassFile>"
		   "<Meta><Generator>Sesame</Generator><DatabaseName>");
	put_escaped(s, title);
	put_str(s, "</DatabaseName><MemoryProtection><ProtectPassword>True</ProtectPassword>"
		   "</MemoryProtection></Meta><Root><Group>");
	put_uuid(s, r, 0);
	put_str(s, "<Name>");
	put_escaped(s, title);
	put_str(s, "</Name>");
	for (size_t i = 0; i < n; i++) {
		put_str(s, "<Entry>");
		put_uuid(s, r, (uint32_t)i + 1);
		put_string(s, "Title", items[i].title);
		put_string(s, "URL", items[i].url);
		put_string(s, "UserName", items[i].username);
		put_string(s, "Notes", items[i].notes);
		put_protected(s, in, items[i].password);
		put_str(s, "</Entry>");
	}
	put_str(s, "</Group></Root></KeePassFile>\n");
}

static int items_ok(const char *title, const struct kdbx_item *items, size_t n)
{
	if (n > KDBX_ITEMS_MAX || strlen(title) > KDBX_TITLE_MAX || !xml_ok(title))
		return VAULT_E_INVAL;
	for (size_t i = 0; i < n; i++) {
		const struct kdbx_item *it = &items[i];
		if (it->title == NULL || it->url == NULL || it->username == NULL ||
		    it->password == NULL)
			return VAULT_E_INVAL;
		if (!xml_ok(it->title) || !xml_ok(it->url) || !xml_ok(it->username) ||
		    (it->notes != NULL && !xml_ok(it->notes)))
			return VAULT_E_NOTUTF8;
	}
	return VAULT_OK;
}

/* The plaintext the outer cipher encrypts: the inner header, then the XML. */
static int build_plain(const struct kdbx_random *r, const char *title,
		       const struct kdbx_item *items, size_t n, struct sink *plain)
{
	uint8_t id[4], sk[crypto_hash_sha512_BYTES];
	struct inner in = {NULL, 0};
	size_t secret = 0;
	int ret = VAULT_OK;

	for (size_t i = 0; i < n; i++)
		secret += strlen(items[i].password);
	if ((in.ks = sodium_malloc(secret + 1)) == NULL)
		return VAULT_E_NOMEM;
	crypto_hash_sha512(sk, r->inner_key, sizeof(r->inner_key));
	crypto_stream_chacha20_ietf(in.ks, secret + 1, sk + 32, sk); /* key 0..31, nonce 32..43 */
	sodium_memzero(sk, sizeof(sk));
	for (int pass = 0; pass < 2; pass++) {
		if (pass == 1 && (plain->p = sodium_malloc(plain->cap = plain->len)) == NULL) {
			ret = VAULT_E_NOMEM;
			break;
		}
		plain->len = 0, in.used = 0;
		le32(id, INNER_CHACHA20);
		put_field(plain, INNER_STREAM_ID, id, 4);
		put_field(plain, INNER_STREAM_KEY, r->inner_key, sizeof(r->inner_key));
		put_field(plain, INNER_END, NULL, 0);
		put_xml(plain, &in, r, title, items, n);
	}
	sodium_free(in.ks);
	return ret;
}

/* HMAC-SHA-256 under the key of block index: SHA-512(LE64(index) || base). */
static void block_hmac(const uint8_t base[64], uint64_t index, const uint8_t *data, size_t n,
		       int with_header, uint8_t mac[32])
{
	crypto_hash_sha512_state h;
	crypto_auth_hmacsha256_state a;
	uint8_t key[64], idx[8], len[4];

	le64(idx, index);
	crypto_hash_sha512_init(&h);
	crypto_hash_sha512_update(&h, idx, 8);
	crypto_hash_sha512_update(&h, base, 64);
	crypto_hash_sha512_final(&h, key);
	crypto_auth_hmacsha256_init(&a, key, sizeof(key));
	if (with_header) {
		le32(len, (uint32_t)n);
		crypto_auth_hmacsha256_update(&a, idx, 8);
		crypto_auth_hmacsha256_update(&a, len, 4);
	}
	crypto_auth_hmacsha256_update(&a, data, n);
	crypto_auth_hmacsha256_final(&a, mac);
	sodium_memzero(key, sizeof(key));
	sodium_memzero(&a, sizeof(a));
}

/* The master key for the cipher and the HMAC base key, from the seed and the KDF's key. */
static void file_keys(const struct kdbx_random *r, const uint8_t key[KDBX_KEY_BYTES],
		      uint8_t cipher[32], uint8_t base[64])
{
	crypto_hash_sha256_state h2;
	crypto_hash_sha512_state h5;
	const uint8_t one = 1;

	crypto_hash_sha256_init(&h2);
	crypto_hash_sha256_update(&h2, r->master_seed, 32);
	crypto_hash_sha256_update(&h2, key, KDBX_KEY_BYTES);
	crypto_hash_sha256_final(&h2, cipher);
	crypto_hash_sha512_init(&h5);
	crypto_hash_sha512_update(&h5, r->master_seed, 32);
	crypto_hash_sha512_update(&h5, key, KDBX_KEY_BYTES);
	crypto_hash_sha512_update(&h5, &one, 1);
	crypto_hash_sha512_final(&h5, base);
	sodium_memzero(&h5, sizeof(h5));
}

/* Header, its SHA-256 and HMAC, then the encrypted plaintext in HMAC'd blocks. */
static int assemble(const struct kdbx_random *r, const uint8_t key[KDBX_KEY_BYTES],
		    struct sink *plain, uint8_t **out, size_t *out_len)
{
	uint8_t head[256], cipher[32], base[64], mac[32], len[4], *o;
	struct sink h = {head, 0, sizeof(head)}, f;
	size_t nblocks = (plain->len + KDBX_BLOCK_BYTES - 1) / KDBX_BLOCK_BYTES, off = 0;

	put_header(&h, r);
	f.cap = h.len + 64 + (nblocks + 1) * 36 + plain->len;
	if ((o = sodium_malloc(f.cap)) == NULL)
		return VAULT_E_NOMEM;
	f.p = o, f.len = 0;
	file_keys(r, key, cipher, base);
	crypto_stream_chacha20_ietf_xor(plain->p, plain->p, plain->len, r->iv, cipher);
	put(&f, head, h.len);
	crypto_hash_sha256(mac, head, h.len);
	put(&f, mac, 32);
	block_hmac(base, UINT64_MAX, head, h.len, 0, mac);
	put(&f, mac, 32);
	for (uint64_t i = 0; i <= nblocks; i++) {
		size_t n =
		    plain->len - off < KDBX_BLOCK_BYTES ? plain->len - off : KDBX_BLOCK_BYTES;
		block_hmac(base, i, plain->p + off, n, 1, mac);
		le32(len, (uint32_t)n);
		put(&f, mac, 32);
		put(&f, len, 4);
		put(&f, plain->p + off, n);
		off += n;
	}
	sodium_memzero(cipher, sizeof(cipher));
	sodium_memzero(base, sizeof(base));
	*out = o, *out_len = f.len;
	return VAULT_OK;
}

void kdbx_random_fill(struct kdbx_random *r)
{
	randombytes_buf(r, sizeof(*r));
}

int kdbx_composite(const char *passphrase, size_t len, uint8_t composite[KDBX_KEY_BYTES])
{
	if (len > KDBX_PASSPHRASE_MAX)
		return VAULT_E_TOOLONG;
	crypto_hash_sha256(composite, (const uint8_t *)passphrase, len);
	crypto_hash_sha256(composite, composite, KDBX_KEY_BYTES);
	return VAULT_OK;
}

int kdbx_derive(const char *passphrase, size_t len, const uint8_t salt[KDBX_SALT_BYTES],
		uint8_t key[KDBX_KEY_BYTES])
{
	uint8_t composite[KDBX_KEY_BYTES];
	int ret;

	if ((ret = kdbx_composite(passphrase, len, composite)) != VAULT_OK)
		return ret;
	ret = crypto_pwhash(key, KDBX_KEY_BYTES, (const char *)composite, sizeof(composite), salt,
			    KDBX_ARGON2_PASSES, KDBX_ARGON2_MEMORY, crypto_pwhash_ALG_ARGON2ID13);
	sodium_memzero(composite, sizeof(composite));
	return ret == 0 ? VAULT_OK : VAULT_E_CRYPTO;
}

int kdbx_build(const struct kdbx_random *r, const uint8_t key[KDBX_KEY_BYTES], const char *title,
	       const struct kdbx_item *items, size_t n, uint8_t **out, size_t *out_len)
{
	struct sink plain = {NULL, 0, 0};
	int ret;

	*out = NULL, *out_len = 0;
	if ((ret = items_ok(title, items, n)) != VAULT_OK)
		return ret;
	ret = build_plain(r, title, items, n, &plain);
	if (ret == VAULT_OK)
		ret = assemble(r, key, &plain, out, out_len);
	sodium_free(plain.p);
	return ret;
}
