#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "error.h"
#include "note.h"
#include "text.h"

#define B64 sodium_base64_VARIANT_ORIGINAL

/* Strict base64: the whole of s decodes to exactly want bytes and re-encodes to s. */
static int b64_decode_exact(const char *s, size_t len, uint8_t *out, size_t want)
{
	char again[128];
	const char *end = NULL;
	size_t got = 0;

	if (len == 0 || len != sodium_base64_ENCODED_LEN(want, B64) - 1 || len >= sizeof(again))
		return -1;
	if (sodium_base642bin(out, want, s, len, NULL, &got, &end, B64) != 0 || got != want ||
	    end != s + len)
		return -1;
	sodium_bin2base64(again, sizeof(again), out, want, B64);
	return memcmp(again, s, len) == 0 ? 0 : -1;
}

int note_name_valid(const char *name, size_t len)
{
	if (len == 0 || len > NOTE_NAME_MAX || !text_utf8_valid((const uint8_t *)name, len))
		return 0;
	for (size_t i = 0; i < len; i++) {
		uint8_t c = (uint8_t)name[i];
		if (c <= 0x20 || c == 0x7f || c == '+')
			return 0;
	}
	return 1;
}

void note_keyid(const char *name, const uint8_t pub[NOTE_PUB_LEN], uint8_t id[NOTE_KEYID_LEN])
{
	crypto_hash_sha256_state st;
	uint8_t h[crypto_hash_sha256_BYTES];
	const uint8_t sep[2] = {'\n', NOTE_ALG_ED25519};

	crypto_hash_sha256_init(&st);
	crypto_hash_sha256_update(&st, (const uint8_t *)name, strlen(name));
	crypto_hash_sha256_update(&st, sep, sizeof(sep));
	crypto_hash_sha256_update(&st, pub, NOTE_PUB_LEN);
	crypto_hash_sha256_final(&st, h);
	memcpy(id, h, NOTE_KEYID_LEN);
}

int note_verifier_init(struct note_verifier *v, const char *name, const uint8_t pub[NOTE_PUB_LEN])
{
	size_t len = strlen(name);

	memset(v, 0, sizeof(*v));
	if (!note_name_valid(name, len))
		return VAULT_E_KEY;
	memcpy(v->name, name, len);
	memcpy(v->pub, pub, NOTE_PUB_LEN);
	note_keyid(v->name, v->pub, v->keyid);
	return VAULT_OK;
}

int note_verifier_format(const struct note_verifier *v, char *out, size_t cap)
{
	uint8_t key[1 + NOTE_PUB_LEN];
	char b64[sodium_base64_ENCODED_LEN(1 + NOTE_PUB_LEN, B64)];
	int n;

	key[0] = NOTE_ALG_ED25519;
	memcpy(key + 1, v->pub, NOTE_PUB_LEN);
	sodium_bin2base64(b64, sizeof(b64), key, sizeof(key), B64);
	n = snprintf(out, cap, "%s+%02x%02x%02x%02x+%s", v->name, v->keyid[0], v->keyid[1],
		     v->keyid[2], v->keyid[3], b64);
	return n < 0 || (size_t)n >= cap ? VAULT_E_TOOLONG : VAULT_OK;
}

int note_verifier_parse(const char *text, size_t len, struct note_verifier *v)
{
	const char *p1, *p2;
	uint8_t key[1 + NOTE_PUB_LEN], id[NOTE_KEYID_LEN];
	size_t namelen;

	memset(v, 0, sizeof(*v));
	p1 = memchr(text, '+', len);
	if (p1 == NULL)
		return VAULT_E_KEY;
	namelen = (size_t)(p1 - text);
	p2 = memchr(p1 + 1, '+', len - namelen - 1);
	if (p2 == NULL || p2 - p1 - 1 != 8 || !note_name_valid(text, namelen))
		return VAULT_E_KEY;
	for (int i = 0; i < NOTE_KEYID_LEN; i++) {
		int hi = text_hex_digit(p1[1 + 2 * i]), lo = text_hex_digit(p1[2 + 2 * i]);
		if (hi < 0 || lo < 0)
			return VAULT_E_KEY;
		id[i] = (uint8_t)(hi << 4 | lo);
	}
	if (b64_decode_exact(p2 + 1, len - (size_t)(p2 + 1 - text), key, sizeof(key)) != 0 ||
	    key[0] != NOTE_ALG_ED25519)
		return VAULT_E_KEY;
	memcpy(v->name, text, namelen);
	memcpy(v->pub, key + 1, NOTE_PUB_LEN);
	note_keyid(v->name, v->pub, v->keyid);
	if (sodium_memcmp(v->keyid, id, NOTE_KEYID_LEN) != 0) {
		memset(v, 0, sizeof(*v));
		return VAULT_E_KEY;
	}
	return VAULT_OK;
}

/* Note text: non-empty, ends in '\n', UTF-8, no control character but '\n', no empty line. */
static int text_valid(const uint8_t *s, size_t len)
{
	if (len == 0 || s[len - 1] != '\n' || s[0] == '\n' || !text_utf8_valid(s, len))
		return 0;
	for (size_t i = 0; i < len; i++) {
		if ((s[i] < 0x20 && s[i] != '\n') || s[i] == 0x7f)
			return 0;
		if (s[i] == '\n' && i + 1 < len && s[i + 1] == '\n')
			return 0;
	}
	return 1;
}

int note_sign(const char *body, size_t bodylen, const char *name, const uint8_t sk[NOTE_SK_LEN],
	      char *out, size_t cap, size_t *outlen)
{
	uint8_t blob[NOTE_KEYID_LEN + NOTE_SIG_LEN], pub[NOTE_PUB_LEN];
	char b64[sodium_base64_ENCODED_LEN(NOTE_KEYID_LEN + NOTE_SIG_LEN, B64)];
	size_t namelen = strlen(name), need;
	int ret = VAULT_OK;

	*outlen = 0;
	if (!text_valid((const uint8_t *)body, bodylen) || !note_name_valid(name, namelen))
		return VAULT_E_INVAL;
	crypto_sign_ed25519_sk_to_pk(pub, sk);
	note_keyid(name, pub, blob);
	if (crypto_sign_detached(blob + NOTE_KEYID_LEN, NULL, (const uint8_t *)body, bodylen, sk) !=
	    0) {
		ret = VAULT_E_CRYPTO;
		goto out;
	}
	sodium_bin2base64(b64, sizeof(b64), blob, sizeof(blob), B64);
	need = bodylen + 1 + strlen(NOTE_SIG_PREFIX) + namelen + 1 + strlen(b64) + 1;
	if (need > cap || need > NOTE_MAX) {
		ret = VAULT_E_TOOLONG;
		goto out;
	}
	memcpy(out, body, bodylen);
	snprintf(out + bodylen, cap - bodylen, "\n" NOTE_SIG_PREFIX "%s %s\n", name, b64);
	*outlen = need;
out:
	sodium_memzero(blob, sizeof(blob));
	return ret;
}

/* One signature line: "— name base64(keyid || signature)". */
struct sigline {
	const char *name;
	size_t namelen;
	uint8_t keyid[NOTE_KEYID_LEN];
	uint8_t sig[NOTE_SIG_LEN];
	int sig_ok_len; /* the base64 held keyid || 64 bytes (an Ed25519 signature) */
};

static int parse_sigline(const char *s, size_t len, struct sigline *sl)
{
	size_t plen = strlen(NOTE_SIG_PREFIX);
	const char *sp;
	uint8_t blob[NOTE_KEYID_LEN + NOTE_SIG_LEN];
	const char *end = NULL;
	size_t got = 0, b64len;

	memset(sl, 0, sizeof(*sl));
	if (len < plen || memcmp(s, NOTE_SIG_PREFIX, plen) != 0)
		return VAULT_E_CHECKPOINT;
	s += plen;
	len -= plen;
	sp = memchr(s, ' ', len);
	if (sp == NULL || !note_name_valid(s, (size_t)(sp - s)))
		return VAULT_E_CHECKPOINT;
	sl->name = s;
	sl->namelen = (size_t)(sp - s);
	b64len = len - sl->namelen - 1;
	if (b64len == 0 || b64len > sodium_base64_ENCODED_LEN(NOTE_MAX, B64))
		return VAULT_E_CHECKPOINT;
	/* Any signature type may appear; only its first four bytes (the key id) must exist. */
	if (b64_decode_exact(sp + 1, b64len, blob, sizeof(blob)) == 0) {
		memcpy(sl->keyid, blob, NOTE_KEYID_LEN);
		memcpy(sl->sig, blob + NOTE_KEYID_LEN, NOTE_SIG_LEN);
		sl->sig_ok_len = 1;
		return VAULT_OK;
	}
	{
		uint8_t big[(NOTE_MAX / 4 + 1) * 3];
		if (sodium_base642bin(big, sizeof(big), sp + 1, b64len, NULL, &got, &end, B64) !=
			0 ||
		    end != sp + 1 + b64len || got < NOTE_KEYID_LEN)
			return VAULT_E_CHECKPOINT;
		memcpy(sl->keyid, big, NOTE_KEYID_LEN);
	}
	return VAULT_OK;
}

static int split_note(const uint8_t *msg, size_t len, size_t *bodylen)
{
	size_t split = 0;
	int found = 0;

	*bodylen = 0;
	if (len < 2 || len > NOTE_MAX || msg[len - 1] != '\n')
		return VAULT_E_CHECKPOINT;
	/* The body ends at the last blank line. */
	for (size_t i = len - 1; i > 0; i--) {
		if (msg[i] == '\n' && msg[i - 1] == '\n') {
			split = i;
			found = 1;
			break;
		}
	}
	if (!found || !text_valid(msg, split))
		return VAULT_E_CHECKPOINT;
	*bodylen = split;
	return VAULT_OK;
}

int note_body(const uint8_t *msg, size_t len, size_t *bodylen)
{
	size_t split, pos, nsig = 0;
	struct sigline sl;
	int ret = split_note(msg, len, &split);

	if (ret != VAULT_OK)
		return ret;
	if (!text_utf8_valid(msg, len))
		return VAULT_E_CHECKPOINT;
	for (pos = split + 1; pos < len;) {
		const uint8_t *nl = memchr(msg + pos, '\n', len - pos);
		size_t l = (size_t)(nl - (msg + pos));
		if (++nsig > NOTE_MAX_SIGS)
			return VAULT_E_CHECKPOINT;
		ret = parse_sigline((const char *)msg + pos, l, &sl);
		if (ret != VAULT_OK)
			return ret;
		pos += l + 1;
	}
	if (nsig == 0)
		return VAULT_E_CHECKPOINT;
	*bodylen = split;
	return VAULT_OK;
}

int note_open(const uint8_t *msg, size_t len, const struct note_verifier *v, size_t *bodylen)
{
	size_t split, pos;
	struct sigline sl;
	int ret = note_body(msg, len, &split);

	*bodylen = 0;
	if (ret != VAULT_OK)
		return ret;
	/* As sumdb/note: the first line by (name, key id) decides; a bad one rejects the note. */
	for (pos = split + 1; pos < len;) {
		const uint8_t *nl = memchr(msg + pos, '\n', len - pos);
		size_t l = (size_t)(nl - (msg + pos));
		parse_sigline((const char *)msg + pos, l, &sl);
		pos += l + 1;
		if (sl.namelen != strlen(v->name) || memcmp(sl.name, v->name, sl.namelen) != 0 ||
		    sodium_memcmp(sl.keyid, v->keyid, NOTE_KEYID_LEN) != 0)
			continue;
		if (!sl.sig_ok_len || crypto_sign_verify_detached(sl.sig, msg, split, v->pub) != 0)
			return VAULT_E_SIGNATURE;
		*bodylen = split;
		return VAULT_OK;
	}
	return VAULT_E_KEY;
}

int checkpoint_body_format(const struct checkpoint *cp, char *out, size_t cap, size_t *len)
{
	char b64[sodium_base64_ENCODED_LEN(MERKLE_HASH_LEN, B64)];
	int n;

	*len = 0;
	if (!note_name_valid(cp->origin, strlen(cp->origin)))
		return VAULT_E_INVAL;
	sodium_bin2base64(b64, sizeof(b64), cp->root, MERKLE_HASH_LEN, B64);
	n = snprintf(out, cap, "%s\n%llu\n%s\n", cp->origin, (unsigned long long)cp->size, b64);
	if (n < 0 || (size_t)n >= cap)
		return VAULT_E_TOOLONG;
	*len = (size_t)n;
	return VAULT_OK;
}

int note_next_line(const uint8_t *s, size_t len, size_t *pos, const char **line, size_t *linelen)
{
	const uint8_t *nl;

	if (*pos >= len)
		return 0;
	nl = memchr(s + *pos, '\n', len - *pos);
	if (nl == NULL)
		return 0;
	*line = (const char *)s + *pos;
	*linelen = (size_t)(nl - (s + *pos));
	*pos += *linelen + 1;
	return 1;
}

int checkpoint_body_parse(const uint8_t *body, size_t len, struct checkpoint *cp)
{
	const char *l;
	size_t ll, pos = 0, ext = 0;
	uint64_t size = 0;

	memset(cp, 0, sizeof(*cp));
	if (!text_valid(body, len))
		return VAULT_E_CHECKPOINT;
	/* The origin is any non-empty line; ours are key names, so hold it to the same bound. */
	if (!note_next_line(body, len, &pos, &l, &ll) || ll == 0 || ll > CHECKPOINT_ORIGIN_MAX)
		return VAULT_E_CHECKPOINT;
	memcpy(cp->origin, l, ll);
	if (!note_next_line(body, len, &pos, &l, &ll) || ll == 0 || ll > 20 ||
	    (l[0] == '0' && ll > 1))
		goto bad;
	for (size_t i = 0; i < ll; i++) {
		if (l[i] < '0' || l[i] > '9' || size > (UINT64_MAX - (uint64_t)(l[i] - '0')) / 10)
			goto bad;
		size = size * 10 + (uint64_t)(l[i] - '0');
	}
	cp->size = size;
	if (!note_next_line(body, len, &pos, &l, &ll) ||
	    b64_decode_exact(l, ll, cp->root, MERKLE_HASH_LEN) != 0)
		goto bad;
	while (note_next_line(body, len, &pos, &l, &ll))
		if (++ext > CHECKPOINT_EXT_MAX)
			goto bad;
	return VAULT_OK;
bad:
	memset(cp, 0, sizeof(*cp));
	return VAULT_E_CHECKPOINT;
}

int checkpoint_sign(const struct checkpoint *cp, const char *name, const uint8_t sk[NOTE_SK_LEN],
		    char *out, size_t cap, size_t *outlen)
{
	char body[CHECKPOINT_ORIGIN_MAX + 128];
	size_t bodylen;
	int ret = checkpoint_body_format(cp, body, sizeof(body), &bodylen);

	*outlen = 0;
	if (ret != VAULT_OK)
		return ret;
	return note_sign(body, bodylen, name, sk, out, cap, outlen);
}

int checkpoint_open(const uint8_t *msg, size_t len, const struct note_verifier *v,
		    const char *origin, struct checkpoint *cp)
{
	size_t bodylen;
	int ret;

	memset(cp, 0, sizeof(*cp));
	ret = note_body(msg, len, &bodylen);
	if (ret == VAULT_OK)
		ret = checkpoint_body_parse(msg, bodylen, cp);
	if (ret == VAULT_OK && origin != NULL && strcmp(cp->origin, origin) != 0)
		ret = VAULT_E_CHECKPOINT;
	if (ret == VAULT_OK)
		ret = note_open(msg, len, v, &bodylen);
	if (ret != VAULT_OK)
		memset(cp, 0, sizeof(*cp));
	return ret;
}
