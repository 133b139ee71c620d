#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <sodium.h>

#include "audit.h"
#include "error.h"
#include "fileio.h"

#define B64 sodium_base64_VARIANT_ORIGINAL
#define HASH_B64_LEN 44 /* base64 of 32 bytes, with padding */

const char *const audit_event_names[] = {
    "installation_created",
    "user_enrolled",
    "pin_ok",
    "pin_wrong",
    "vault_blocked",
    "recovery_used",
    "pin_changed",
    "session_opened",
    "session_closed",
    "credential_added",
    "credential_changed",
    "credential_removed",
    "login_started",
    "browser_started",
    "login_filled",
    "login_failed",
    "export",
    "user_withdrawn",
    "agent_started",
    "agent_stopped",
    "log_recovered",
    NULL,
};

struct audit_log {
	int dirfd, fd, lockfd;
	int broken; /* a write or sync failed: the file's tail is unknown until reopened */
	int fast;
	uint64_t offset; /* bytes of complete records */
	struct merkle_range range;
	uint8_t last[MERKLE_HASH_LEN]; /* leaf hash of the last record, zeros for none */
	struct note_verifier v;
	char installation[AUDIT_INSTALLATION_MAX + 1];
	uint8_t *sk; /* sodium_malloc, NOTE_SK_LEN */
	char cp[AUDIT_CHECKPOINT_MAX];
	size_t cplen;
};

/* ---------- field checks ---------- */

/* C1 controls (U+0080..U+009F) and bidirectional overrides (U+202A..U+202E, U+2066..U+2069)
 * can rewrite what a terminal shows: the display of a log must not be spoofable. */
static int hostile_char(const uint8_t *s, size_t n)
{
	if (n == 2 && s[0] == 0xc2 && s[1] <= 0x9f)
		return 1;
	if (n == 3 && s[0] == 0xe2 && s[1] == 0x80 && s[2] >= 0xaa && s[2] <= 0xae)
		return 1;
	return n == 3 && s[0] == 0xe2 && s[1] == 0x81 && s[2] >= 0xa6 && s[2] <= 0xa9;
}

static size_t utf8_len(uint8_t c)
{
	return c < 0x80		    ? 1
	       : (c & 0xe0) == 0xc0 ? 2
	       : (c & 0xf0) == 0xe0 ? 3
	       : (c & 0xf8) == 0xf0 ? 4
				    : 0;
}

static int text_ok(const char *s, size_t max)
{
	size_t len = strlen(s);

	if (len > max)
		return VAULT_E_TOOLONG;
	if (!note_utf8_valid((const uint8_t *)s, len))
		return VAULT_E_NOTUTF8;
	for (size_t i = 0; i < len; i += utf8_len((uint8_t)s[i]))
		if ((uint8_t)s[i] < 0x20 || s[i] == 0x7f ||
		    hostile_char((const uint8_t *)s + i, utf8_len((uint8_t)s[i])))
			return VAULT_E_NOTUTF8;
	return VAULT_OK;
}

static int copy_field(char *dst, size_t cap, const char *src, int required)
{
	int ret;

	dst[0] = '\0';
	if (src == NULL || src[0] == '\0')
		return required ? VAULT_E_INVAL : VAULT_OK;
	ret = text_ok(src, cap - 1);
	if (ret == VAULT_OK)
		memcpy(dst, src, strlen(src) + 1);
	return ret;
}

/* Purpose is free text: control characters, bidirectional overrides and invalid UTF-8 become
 * '?', and it is cut at a character boundary to AUDIT_PURPOSE_MAX bytes. */
static void sanitise_purpose(const char *src, char out[AUDIT_PURPOSE_MAX + 1])
{
	size_t i = 0, o = 0, len = strlen(src);

	while (i < len && o < AUDIT_PURPOSE_MAX) {
		uint8_t c = (uint8_t)src[i];
		size_t n = utf8_len(c);
		if (n == 0 || i + n > len || !note_utf8_valid((const uint8_t *)src + i, n) ||
		    c < 0x20 || c == 0x7f || hostile_char((const uint8_t *)src + i, n)) {
			out[o++] = '?';
			i += n == 0 || i + n > len || !note_utf8_valid((const uint8_t *)src + i, n)
				 ? 1
				 : n;
			continue;
		}
		if (o + n > AUDIT_PURPOSE_MAX)
			break;
		memcpy(out + o, src + i, n);
		o += n;
		i += n;
	}
	out[o] = '\0';
}

static int time_ok(const char *t)
{
	static const char pat[] = "dddd-dd-ddTdd:dd:ddZ";
	int mon, day, hh, mm, ss;

	if (t == NULL || strlen(t) != AUDIT_TIME_LEN)
		return 0;
	for (size_t i = 0; i < AUDIT_TIME_LEN; i++)
		if (pat[i] == 'd' ? (t[i] < '0' || t[i] > '9') : t[i] != pat[i])
			return 0;
	mon = (t[5] - '0') * 10 + t[6] - '0';
	day = (t[8] - '0') * 10 + t[9] - '0';
	hh = (t[11] - '0') * 10 + t[12] - '0';
	mm = (t[14] - '0') * 10 + t[15] - '0';
	ss = (t[17] - '0') * 10 + t[18] - '0';
	return mon >= 1 && mon <= 12 && day >= 1 && day <= 31 && hh <= 23 && mm <= 59 && ss <= 60;
}

static int event_ok(const char *e)
{
	for (size_t i = 0; e != NULL && audit_event_names[i] != NULL; i++)
		if (strcmp(e, audit_event_names[i]) == 0)
			return 1;
	return 0;
}

static int installation_ok(const char *s)
{
	size_t len = strlen(s);

	if (len == 0 || len > AUDIT_INSTALLATION_MAX)
		return 0;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '-'))
			return 0;
	}
	return 1;
}

int audit_time_format(int64_t t, char out[AUDIT_TIME_LEN + 1])
{
	struct tm tm;
	time_t tt = (time_t)t;

	if (gmtime_r(&tt, &tm) == NULL || tm.tm_year + 1900 > 9999 || tm.tm_year + 1900 < 0)
		return VAULT_E_INVAL;
	if (strftime(out, AUDIT_TIME_LEN + 1, "%Y-%m-%dT%H:%M:%SZ", &tm) != AUDIT_TIME_LEN)
		return VAULT_E_INVAL;
	return VAULT_OK;
}

/* ---------- canonical serialisation ---------- */

static int add_str(cJSON *o, const char *k, const char *v)
{
	return cJSON_AddStringToObject(o, k, v) != NULL;
}

int audit_record_format(const struct audit_record *r, char *out, size_t cap, size_t *len)
{
	char prev[HASH_B64_LEN + 1];
	cJSON *o = cJSON_CreateObject(), *w;
	int ok, ret = VAULT_OK;

	*len = 0;
	if (o == NULL)
		return VAULT_E_NOMEM;
	sodium_bin2base64(prev, sizeof(prev), r->prev, MERKLE_HASH_LEN, B64);
	ok = cJSON_AddNumberToObject(o, "seq", (double)r->seq) != NULL &&
	     add_str(o, "prev", prev) && add_str(o, "time", r->time) &&
	     add_str(o, "event", r->event) && add_str(o, "installation", r->installation);
	w = ok ? cJSON_AddObjectToObject(o, "worker") : NULL;
	ok = w != NULL && cJSON_AddNumberToObject(w, "uid", (double)r->worker_uid) != NULL &&
	     add_str(w, "login", r->worker_login) && add_str(o, "host", r->host);
	if (ok && r->user[0])
		ok = add_str(o, "user", r->user);
	if (ok && r->credential[0])
		ok = add_str(o, "credential", r->credential);
	if (ok && r->service[0])
		ok = add_str(o, "service", r->service);
	if (ok && r->purpose[0])
		ok = add_str(o, "purpose", r->purpose);
	ok = ok && add_str(o, "outcome", r->outcome);
	if (ok && r->reason[0])
		ok = add_str(o, "reason", r->reason);
	if (ok && r->attempts_left >= 0)
		ok = cJSON_AddNumberToObject(o, "attempts_left", r->attempts_left) != NULL;
	if (ok && r->torn_sha256[0])
		ok = add_str(o, "torn_sha256", r->torn_sha256);
	if (ok && r->torn_length >= 0)
		ok = cJSON_AddNumberToObject(o, "torn_length", (double)r->torn_length) != NULL;
	if (ok && r->torn_offset >= 0)
		ok = cJSON_AddNumberToObject(o, "torn_offset", (double)r->torn_offset) != NULL;
	if (!ok) {
		ret = VAULT_E_NOMEM;
		goto out;
	}
	/* cJSON wants 5 spare bytes to be sure the output fits. */
	if (cap < 6 || cap > (size_t)INT32_MAX ||
	    !cJSON_PrintPreallocated(o, out, (int)cap - 5, 0)) {
		ret = VAULT_E_TOOLONG;
		goto out;
	}
	*len = strlen(out);
	if (*len > AUDIT_LINE_MAX)
		ret = VAULT_E_TOOLONG;
out:
	cJSON_Delete(o);
	return ret;
}

static int get_str(const cJSON *o, const char *k, char *dst, size_t cap, int required)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, k);

	dst[0] = '\0';
	if (it == NULL)
		return required ? -1 : 0;
	if (!cJSON_IsString(it) || it->valuestring == NULL || strlen(it->valuestring) >= cap)
		return -1;
	memcpy(dst, it->valuestring, strlen(it->valuestring) + 1);
	return 0;
}

static int get_int(const cJSON *o, const char *k, double max, int64_t *v, int required)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, k);

	*v = -1;
	if (it == NULL)
		return required ? -1 : 0;
	if (!cJSON_IsNumber(it) || it->valuedouble < 0 || it->valuedouble > max ||
	    it->valuedouble != (double)(int64_t)it->valuedouble)
		return -1;
	*v = (int64_t)it->valuedouble;
	return 0;
}

int audit_record_parse(const uint8_t *line, size_t len, struct audit_record *r)
{
	char again[AUDIT_LINE_MAX + 8], prev[HASH_B64_LEN + 8];
	const cJSON *w;
	cJSON *o = NULL;
	int64_t seq, uid, att;
	size_t alen, plen = 0;
	int ret = VAULT_E_LOG_RECORD;

	memset(r, 0, sizeof(*r));
	if (len == 0 || len > AUDIT_LINE_MAX)
		return VAULT_E_LOG_RECORD;
	o = cJSON_ParseWithLength((const char *)line, len);
	if (o == NULL || !cJSON_IsObject(o))
		goto out;
	w = cJSON_GetObjectItemCaseSensitive(o, "worker");
	if (get_int(o, "seq", (double)AUDIT_SEQ_MAX, &seq, 1) || !cJSON_IsObject(w) ||
	    get_int(w, "uid", (double)UINT32_MAX, &uid, 1) ||
	    get_str(o, "prev", prev, sizeof(prev), 1) ||
	    get_str(o, "time", r->time, sizeof(r->time), 1) ||
	    get_str(o, "event", r->event, sizeof(r->event), 1) ||
	    get_str(o, "installation", r->installation, sizeof(r->installation), 1) ||
	    get_str(w, "login", r->worker_login, sizeof(r->worker_login), 1) ||
	    get_str(o, "host", r->host, sizeof(r->host), 1) ||
	    get_str(o, "user", r->user, sizeof(r->user), 0) ||
	    get_str(o, "credential", r->credential, sizeof(r->credential), 0) ||
	    get_str(o, "service", r->service, sizeof(r->service), 0) ||
	    get_str(o, "purpose", r->purpose, sizeof(r->purpose), 0) ||
	    get_str(o, "outcome", r->outcome, sizeof(r->outcome), 1) ||
	    get_str(o, "reason", r->reason, sizeof(r->reason), 0) ||
	    get_int(o, "attempts_left", 1000000, &att, 0) ||
	    get_str(o, "torn_sha256", r->torn_sha256, sizeof(r->torn_sha256), 0) ||
	    get_int(o, "torn_length", 9007199254740992.0, &r->torn_length, 0) ||
	    get_int(o, "torn_offset", 9007199254740992.0, &r->torn_offset, 0))
		goto out;
	if (sodium_base642bin(r->prev, MERKLE_HASH_LEN, prev, strlen(prev), NULL, &plen, NULL,
			      B64) != 0 ||
	    plen != MERKLE_HASH_LEN || !time_ok(r->time) || !event_ok(r->event))
		goto out;
	r->seq = (uint64_t)seq;
	r->worker_uid = (uint32_t)uid;
	r->attempts_left = (int)att;
	/* Canonical means: serialising what was read gives back the very same bytes. */
	if (audit_record_format(r, again, sizeof(again), &alen) != VAULT_OK || alen != len ||
	    memcmp(again, line, len) != 0)
		goto out;
	ret = VAULT_OK;
out:
	cJSON_Delete(o);
	if (ret != VAULT_OK)
		memset(r, 0, sizeof(*r));
	return ret;
}

/* The fast path of verify: a canonical line starts {"seq":N,"prev":"B64", and ends with }. */
static int scan_line(const uint8_t *l, size_t len, uint64_t *seq, const uint8_t **prev)
{
	static const char pre[] = "{\"seq\":", mid[] = ",\"prev\":\"";
	size_t i = sizeof(pre) - 1, start;
	uint64_t v = 0;

	if (len > AUDIT_LINE_MAX || len < sizeof(pre) + sizeof(mid) + HASH_B64_LEN + 2 ||
	    memcmp(l, pre, sizeof(pre) - 1) != 0 || l[len - 1] != '}')
		return -1;
	start = i;
	while (i < len && l[i] >= '0' && l[i] <= '9' && i - start < 16)
		v = v * 10 + (uint64_t)(l[i++] - '0');
	if (i == start || (l[start] == '0' && i - start > 1) || v > AUDIT_SEQ_MAX)
		return -1;
	if (len - i < sizeof(mid) - 1 + HASH_B64_LEN + 2 ||
	    memcmp(l + i, mid, sizeof(mid) - 1) != 0)
		return -1;
	i += sizeof(mid) - 1;
	if (l[i + HASH_B64_LEN] != '"')
		return -1;
	*seq = v;
	*prev = l + i;
	return 0;
}

static int prev_matches(const uint8_t *b64, const uint8_t hash[MERKLE_HASH_LEN])
{
	char want[HASH_B64_LEN + 1];

	sodium_bin2base64(want, sizeof(want), hash, MERKLE_HASH_LEN, B64);
	return memcmp(want, b64, HASH_B64_LEN) == 0;
}

/* ---------- streaming line reader ---------- */

struct line_reader {
	int fd;
	uint8_t *buf;
	size_t cap, start, end;
	uint64_t offset;   /* file offset of buf[start] */
	uint64_t read_off; /* file offset of buf[end] */
	int eof;
};

static int reader_init(struct line_reader *r, int fd)
{
	memset(r, 0, sizeof(*r));
	r->fd = fd;
	r->cap = 2 * AUDIT_READ_CHUNK;
	r->buf = malloc(r->cap);
	return r->buf == NULL ? VAULT_E_NOMEM : VAULT_OK;
}

static void reader_free(struct line_reader *r)
{
	free(r->buf);
	r->buf = NULL;
}

/* 1 and a line (without '\n'), 0 at the end (a torn tail stays in buf[start..end]), or an
 * error: VAULT_E_IO, or VAULT_E_TOOLONG for a line over AUDIT_LINE_MAX. */
static int reader_next(struct line_reader *r, const uint8_t **line, size_t *len)
{
	for (;;) {
		const uint8_t *nl =
		    r->end > r->start ? memchr(r->buf + r->start, '\n', r->end - r->start) : NULL;
		ssize_t n;
		if (nl != NULL) {
			*line = r->buf + r->start;
			*len = (size_t)(nl - *line);
			if (*len > AUDIT_LINE_MAX)
				return VAULT_E_TOOLONG;
			r->start += *len + 1;
			r->offset += *len + 1;
			return 1;
		}
		if (r->end - r->start > AUDIT_LINE_MAX)
			return VAULT_E_TOOLONG;
		if (r->eof)
			return 0;
		memmove(r->buf, r->buf + r->start, r->end - r->start);
		r->end -= r->start;
		r->start = 0;
		n = pread(r->fd, r->buf + r->end, r->cap - r->end, (off_t)r->read_off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return VAULT_E_IO;
		if (n == 0)
			r->eof = 1;
		r->end += (size_t)n;
		r->read_off += (uint64_t)n;
	}
}

/* ---------- keys ---------- */

static int read_text_file(int dirfd, const char *name, char *buf, size_t cap, size_t *len)
{
	int ret = fileio_read(dirfd, name, (uint8_t *)buf, cap - 1, len);

	if (ret == VAULT_OK)
		buf[*len] = '\0';
	return ret;
}

static int key_read_fd(int dirfd, struct note_verifier *v)
{
	char text[AUDIT_VKEY_MAX + 2];
	size_t len;
	int ret = read_text_file(dirfd, AUDIT_PUB_NAME, text, sizeof(text), &len);

	if (ret == VAULT_E_TOOLONG)
		return VAULT_E_KEY;
	if (ret != VAULT_OK)
		return ret;
	if (len > 0 && text[len - 1] == '\n')
		len--;
	return note_verifier_parse(text, len, v);
}

int audit_key_read(const char *dir, struct note_verifier *v)
{
	int dirfd, ret = fileio_dir_open(dir, 0, &dirfd);

	memset(v, 0, sizeof(*v));
	if (ret != VAULT_OK)
		return ret;
	ret = key_read_fd(dirfd, v);
	close(dirfd);
	return ret;
}

static int sealing_subkey(const uint8_t key[AUDIT_SEALING_KEY_LEN], uint8_t **sub)
{
	*sub = sodium_malloc(crypto_aead_xchacha20poly1305_ietf_KEYBYTES);
	if (*sub == NULL)
		return VAULT_E_NOMEM;
	if (crypto_kdf_derive_from_key(*sub, crypto_aead_xchacha20poly1305_ietf_KEYBYTES, 1,
				       AUDIT_KDF_CONTEXT, key) != 0) {
		sodium_free(*sub);
		*sub = NULL;
		return VAULT_E_CRYPTO;
	}
	return VAULT_OK;
}

static int key_seal(const uint8_t key[AUDIT_SEALING_KEY_LEN], const uint8_t pub[NOTE_PUB_LEN],
		    const uint8_t *seed, uint8_t file[AUDIT_KEYFILE_LEN])
{
	uint8_t *sub = NULL;
	int ret = sealing_subkey(key, &sub);

	if (ret != VAULT_OK)
		return ret;
	memset(file, 0, AUDIT_KEYFILE_LEN);
	memcpy(file, AUDIT_KEYFILE_MAGIC, 4);
	file[4] = AUDIT_KEYFILE_VERSION;
	file[5] = NOTE_ALG_ED25519;
	memcpy(file + 8, pub, NOTE_PUB_LEN);
	randombytes_buf(file + AUDIT_KEYFILE_HDR, crypto_aead_xchacha20poly1305_ietf_NPUBBYTES);
	crypto_aead_xchacha20poly1305_ietf_encrypt(
	    file + AUDIT_KEYFILE_HDR + crypto_aead_xchacha20poly1305_ietf_NPUBBYTES, NULL, seed,
	    NOTE_SEED_LEN, file, AUDIT_KEYFILE_HDR, NULL, file + AUDIT_KEYFILE_HDR, sub);
	sodium_free(sub);
	return VAULT_OK;
}

/* Opens the sealed key file into sk (sodium_malloc'd); its public half must be v's. */
static int key_unseal(int dirfd, const uint8_t key[AUDIT_SEALING_KEY_LEN],
		      const struct note_verifier *v, uint8_t **skp)
{
	uint8_t file[AUDIT_KEYFILE_LEN + 1], pub[NOTE_PUB_LEN];
	static const uint8_t zero[2];
	uint8_t *sub = NULL, *seed = NULL, *sk = NULL;
	size_t len;
	int ret;

	*skp = NULL;
	ret = fileio_read(dirfd, AUDIT_KEY_NAME, file, sizeof(file), &len);
	if (ret != VAULT_OK)
		return ret;
	if (len != AUDIT_KEYFILE_LEN || memcmp(file, AUDIT_KEYFILE_MAGIC, 4) != 0 ||
	    file[5] != NOTE_ALG_ED25519 || memcmp(file + 6, zero, 2) != 0)
		return VAULT_E_FORMAT;
	if (file[4] != AUDIT_KEYFILE_VERSION)
		return VAULT_E_VERSION;
	if (sodium_memcmp(file + 8, v->pub, NOTE_PUB_LEN) != 0)
		return VAULT_E_KEY;
	ret = sealing_subkey(key, &sub);
	if (ret != VAULT_OK)
		return ret;
	seed = sodium_malloc(NOTE_SEED_LEN);
	sk = sodium_malloc(NOTE_SK_LEN);
	if (seed == NULL || sk == NULL) {
		ret = VAULT_E_NOMEM;
		goto out;
	}
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(
		seed, NULL, NULL,
		file + AUDIT_KEYFILE_HDR + crypto_aead_xchacha20poly1305_ietf_NPUBBYTES,
		NOTE_SEED_LEN + crypto_aead_xchacha20poly1305_ietf_ABYTES, file, AUDIT_KEYFILE_HDR,
		file + AUDIT_KEYFILE_HDR, sub) != 0) {
		ret = VAULT_E_TAMPERED;
		goto out;
	}
	crypto_sign_seed_keypair(pub, sk, seed);
	if (sodium_memcmp(pub, v->pub, NOTE_PUB_LEN) != 0) {
		ret = VAULT_E_KEY;
		goto out;
	}
	*skp = sk;
	sk = NULL;
out:
	sodium_free(sub);
	sodium_free(seed);
	sodium_free(sk);
	return ret;
}

/* ---------- init ---------- */

static int write_checkpoint(int dirfd, const struct note_verifier *v, const uint8_t *sk,
			    const struct merkle_range *range, char *out, size_t cap, size_t *outlen)
{
	struct checkpoint cp;
	int ret;

	memset(&cp, 0, sizeof(cp));
	memcpy(cp.origin, v->name, strlen(v->name));
	cp.size = range->size;
	merkle_range_root(range, cp.root);
	ret = checkpoint_sign(&cp, v->name, sk, out, cap, outlen);
	if (ret == VAULT_OK)
		ret = fileio_write_atomic(dirfd, AUDIT_CHECKPOINT_NAME, out, *outlen);
	return ret;
}

int audit_init(const char *dir, const char *installation,
	       const uint8_t sealing_key[AUDIT_SEALING_KEY_LEN])
{
	char name[NOTE_NAME_MAX + 1], vkey[AUDIT_VKEY_MAX + 1], cp[AUDIT_CHECKPOINT_MAX];
	size_t vlen;
	uint8_t pub[NOTE_PUB_LEN], file[AUDIT_KEYFILE_LEN];
	uint8_t *seed = NULL, *sk = NULL;
	struct note_verifier v;
	struct merkle_range range;
	size_t cplen;
	int dirfd = -1, fd = -1, ret;

	if (!installation_ok(installation))
		return VAULT_E_INVAL;
	snprintf(name, sizeof(name), "%s%s", AUDIT_ORIGIN_PREFIX, installation);
	ret = fileio_dir_open(dir, 1, &dirfd);
	if (ret != VAULT_OK)
		return ret;
	seed = sodium_malloc(NOTE_SEED_LEN);
	sk = sodium_malloc(NOTE_SK_LEN);
	if (seed == NULL || sk == NULL) {
		ret = VAULT_E_NOMEM;
		goto out;
	}
	randombytes_buf(seed, NOTE_SEED_LEN);
	crypto_sign_seed_keypair(pub, sk, seed);
	ret = note_verifier_init(&v, name, pub);
	if (ret == VAULT_OK)
		ret = note_verifier_format(&v, vkey, sizeof(vkey) - 1);
	if (ret == VAULT_OK)
		ret = key_seal(sealing_key, pub, seed, file);
	if (ret != VAULT_OK)
		goto out;
	/* The log first: its O_EXCL creation is what makes a second init fail. */
	fd = openat(dirfd, AUDIT_LOG_NAME, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		    FILEIO_FILE_MODE);
	if (fd < 0) {
		ret = errno == EEXIST ? VAULT_E_EXISTS : VAULT_E_IO;
		goto out;
	}
	if (fsync(fd) != 0) {
		ret = VAULT_E_IO;
		goto out;
	}
	vlen = strlen(vkey); /* formatted into sizeof(vkey) - 1: there is room for the newline */
	vkey[vlen] = '\n';
	vkey[vlen + 1] = '\0';
	ret = fileio_write_atomic(dirfd, AUDIT_KEY_NAME, file, sizeof(file));
	if (ret == VAULT_OK)
		ret = fileio_write_atomic(dirfd, AUDIT_PUB_NAME, vkey, strlen(vkey));
	merkle_range_init(&range);
	if (ret == VAULT_OK)
		ret = write_checkpoint(dirfd, &v, sk, &range, cp, sizeof(cp), &cplen);
out:
	sodium_memzero(file, sizeof(file));
	sodium_free(seed);
	sodium_free(sk);
	if (fd >= 0)
		close(fd);
	if (dirfd >= 0) {
		fsync(dirfd);
		close(dirfd);
	}
	return ret;
}

/* ---------- appending ---------- */

static int event_to_record(const struct audit_log *log, const struct audit_event *ev,
			   struct audit_record *r)
{
	int ret;

	memset(r, 0, sizeof(*r));
	r->attempts_left = -1;
	r->torn_length = r->torn_offset = -1;
	if (ev == NULL || !event_ok(ev->event) || !time_ok(ev->time) ||
	    (ev->attempts_left > 1000000))
		return VAULT_E_INVAL;
	memcpy(r->event, ev->event, strlen(ev->event) + 1);
	memcpy(r->time, ev->time, AUDIT_TIME_LEN + 1);
	memcpy(r->installation, log->installation, sizeof(r->installation));
	r->worker_uid = ev->worker_uid;
	ret = copy_field(r->worker_login, sizeof(r->worker_login), ev->worker_login, 1);
	if (ret == VAULT_OK)
		ret = copy_field(r->host, sizeof(r->host), ev->host, 1);
	if (ret == VAULT_OK)
		ret = copy_field(r->user, sizeof(r->user), ev->user, 0);
	if (ret == VAULT_OK)
		ret = copy_field(r->credential, sizeof(r->credential), ev->credential, 0);
	if (ret == VAULT_OK)
		ret = copy_field(r->service, sizeof(r->service), ev->service, 0);
	if (ret == VAULT_OK)
		ret = copy_field(r->outcome, sizeof(r->outcome), ev->outcome, 1);
	if (ret == VAULT_OK)
		ret = copy_field(r->reason, sizeof(r->reason), ev->reason, 0);
	if (ret == VAULT_OK && ev->purpose != NULL)
		sanitise_purpose(ev->purpose, r->purpose);
	if (ret == VAULT_OK && ev->attempts_left >= 0)
		r->attempts_left = ev->attempts_left;
	return ret;
}

static int write_once(int fd, const char *buf, size_t len)
{
	ssize_t n;

	/* One write() per record: a short write leaves a torn line that open repairs. */
	do {
		n = write(fd, buf, len);
	} while (n < 0 && errno == EINTR);
	return n == (ssize_t)len ? VAULT_OK : VAULT_E_IO;
}

static int append_records(struct audit_log *log, struct audit_record *recs, size_t n,
			  uint64_t *first)
{
	struct merkle_range *range = NULL;
	uint8_t last[MERKLE_HASH_LEN];
	char *lines = NULL;
	size_t lens[AUDIT_MAX_GROUP], total = 0;
	int ret = VAULT_OK;

	if (log->broken)
		return VAULT_E_IO;
	if (n == 0 || n > AUDIT_MAX_GROUP)
		return VAULT_E_INVAL;
	if (log->range.size + n > AUDIT_SEQ_MAX)
		return VAULT_E_FULL;
	range = malloc(sizeof(*range));
	lines = malloc(n * (AUDIT_LINE_MAX + 8));
	if (range == NULL || lines == NULL) {
		ret = VAULT_E_NOMEM;
		goto out;
	}
	*range = log->range;
	memcpy(last, log->last, sizeof(last));
	for (size_t i = 0; i < n && ret == VAULT_OK; i++) {
		char *l = lines + i * (AUDIT_LINE_MAX + 8);
		recs[i].seq = range->size;
		memcpy(recs[i].prev, last, MERKLE_HASH_LEN);
		ret = audit_record_format(&recs[i], l, AUDIT_LINE_MAX + 7, &lens[i]);
		if (ret != VAULT_OK)
			break;
		merkle_leaf_hash((const uint8_t *)l, lens[i], last);
		merkle_range_append(range, last);
		l[lens[i]++] = '\n';
	}
	if (ret != VAULT_OK)
		goto out;
	for (size_t i = 0; i < n && ret == VAULT_OK; i++) {
		ret = write_once(log->fd, lines + i * (AUDIT_LINE_MAX + 8), lens[i]);
		total += lens[i];
	}
	if (ret == VAULT_OK && !log->fast && fdatasync(log->fd) != 0)
		ret = VAULT_E_IO;
	if (ret != VAULT_OK) {
		/* Not durable, so not reported: take the bytes back if we can, and in any case
		 * refuse further appends on this handle, whose idea of the tail is now unsure. */
		if (ftruncate(log->fd, (off_t)log->offset) == 0)
			fdatasync(log->fd);
		log->broken = 1;
		goto out;
	}
	if (first != NULL)
		*first = log->range.size;
	log->range = *range;
	memcpy(log->last, last, sizeof(last));
	log->offset += total;
	/* The records are durable; without a signed checkpoint the caller still refuses. */
	if (!log->fast)
		ret = write_checkpoint(log->dirfd, &log->v, log->sk, &log->range, log->cp,
				       sizeof(log->cp), &log->cplen);
out:
	free(range);
	free(lines);
	return ret;
}

int audit_append_many(struct audit_log *log, const struct audit_event *evs, size_t n,
		      uint64_t *first_seq)
{
	struct audit_record *recs;
	int ret = VAULT_OK;

	if (log == NULL || evs == NULL || n == 0 || n > AUDIT_MAX_GROUP)
		return VAULT_E_INVAL;
	recs = calloc(n, sizeof(*recs));
	if (recs == NULL)
		return VAULT_E_NOMEM;
	for (size_t i = 0; i < n && ret == VAULT_OK; i++)
		ret = event_to_record(log, &evs[i], &recs[i]);
	if (ret == VAULT_OK)
		ret = append_records(log, recs, n, first_seq);
	free(recs);
	return ret;
}

int audit_append(struct audit_log *log, const struct audit_event *ev, uint64_t *seq)
{
	return audit_append_many(log, ev, 1, seq);
}

uint64_t audit_size(const struct audit_log *log)
{
	return log->range.size;
}

int audit_checkpoint_text(const struct audit_log *log, char *out, size_t cap)
{
	if (log->cplen + 1 > cap)
		return VAULT_E_TOOLONG;
	memcpy(out, log->cp, log->cplen);
	out[log->cplen] = '\0';
	return VAULT_OK;
}

int audit_set_unsafe_fast(struct audit_log *log, int on)
{
	int ret = VAULT_OK;

	if (log->fast && !on) {
		if (fdatasync(log->fd) != 0)
			ret = VAULT_E_IO;
		if (ret == VAULT_OK)
			ret = write_checkpoint(log->dirfd, &log->v, log->sk, &log->range, log->cp,
					       sizeof(log->cp), &log->cplen);
	}
	log->fast = on;
	return ret;
}

/* ---------- open and recovery ---------- */

static int record_recovery(struct audit_log *log, const struct audit_event *ctx,
			   const uint8_t *torn, size_t len, uint64_t offset)
{
	struct audit_event ev;
	struct audit_record rec;
	uint8_t h[crypto_hash_sha256_BYTES];
	int ret;

	if (ctx == NULL)
		return VAULT_E_LOG_TORN;
	ev = *ctx;
	ev.event = "log_recovered";
	ev.outcome = "ok";
	ev.reason = "torn last line kept in " AUDIT_TORN_PREFIX "<torn_offset>";
	ev.user = ev.credential = ev.service = ev.purpose = NULL;
	ev.attempts_left = -1;
	ret = event_to_record(log, &ev, &rec);
	if (ret != VAULT_OK)
		return ret;
	crypto_hash_sha256(h, torn, len);
	sodium_bin2hex(rec.torn_sha256, sizeof(rec.torn_sha256), h, sizeof(h));
	rec.torn_length = (int64_t)len;
	rec.torn_offset = (int64_t)offset;
	return append_records(log, &rec, 1, NULL);
}

/* A torn tail is kept in a side file, and only then cut from the log. */
static int recover_torn(struct audit_log *log, const struct audit_event *ctx, const uint8_t *torn,
			size_t len, uint64_t offset)
{
	char name[64];
	uint8_t old[AUDIT_LINE_MAX + 1];
	size_t oldlen;
	int ret;

	snprintf(name, sizeof(name), AUDIT_TORN_PREFIX "%llu", (unsigned long long)offset);
	ret = fileio_create_atomic(log->dirfd, name, torn, len);
	if (ret == VAULT_E_EXISTS) {
		/* A crash after the copy and before the cut: the copy must be these bytes. */
		ret = fileio_read(log->dirfd, name, old, sizeof(old), &oldlen);
		if (ret == VAULT_OK && (oldlen != len || memcmp(old, torn, len) != 0))
			ret = VAULT_E_LOG_TORN;
	}
	if (ret != VAULT_OK)
		return ret;
	if (ftruncate(log->fd, (off_t)offset) != 0 || fdatasync(log->fd) != 0)
		return VAULT_E_IO;
	return record_recovery(log, ctx, torn, len, offset);
}

/* A side file named for the current end of the log was cut but its record never written. */
static int recover_pending(struct audit_log *log, const struct audit_event *ctx)
{
	char name[64];
	uint8_t torn[AUDIT_LINE_MAX + 1];
	size_t len;
	int ret;

	snprintf(name, sizeof(name), AUDIT_TORN_PREFIX "%llu", (unsigned long long)log->offset);
	ret = fileio_read(log->dirfd, name, torn, sizeof(torn), &len);
	if (ret == VAULT_E_NOTFOUND)
		return VAULT_OK;
	if (ret != VAULT_OK)
		return ret;
	return record_recovery(log, ctx, torn, len, log->offset);
}

/* Reads the whole log, checking sequence, links and the checkpoint's root at its size. */
static int load_log(struct audit_log *log, const struct checkpoint *cp, uint8_t *torn,
		    size_t *tornlen)
{
	struct line_reader rd;
	const uint8_t *line, *prev;
	size_t len;
	uint64_t seq;
	uint8_t root[MERKLE_HASH_LEN];
	int ret, r;

	*tornlen = 0;
	ret = reader_init(&rd, log->fd);
	if (ret != VAULT_OK)
		return ret;
	if (cp->size == 0) {
		merkle_range_root(&log->range, root);
		if (sodium_memcmp(root, cp->root, MERKLE_HASH_LEN) != 0) {
			ret = VAULT_E_INCONSISTENT;
			goto out;
		}
	}
	while ((r = reader_next(&rd, &line, &len)) == 1) {
		if (scan_line(line, len, &seq, &prev) != 0) {
			ret = VAULT_E_LOG_RECORD;
			goto out;
		}
		if (seq != log->range.size) {
			ret = VAULT_E_LOG_SEQUENCE;
			goto out;
		}
		if (!prev_matches(prev, log->last)) {
			ret = VAULT_E_TAMPERED;
			goto out;
		}
		merkle_leaf_hash(line, len, log->last);
		merkle_range_append(&log->range, log->last);
		if (log->range.size == cp->size) {
			merkle_range_root(&log->range, root);
			if (sodium_memcmp(root, cp->root, MERKLE_HASH_LEN) != 0) {
				ret = VAULT_E_INCONSISTENT;
				goto out;
			}
		}
	}
	if (r < 0) {
		ret = r == VAULT_E_TOOLONG ? VAULT_E_LOG_TORN : r;
		goto out;
	}
	log->offset = rd.offset;
	*tornlen = rd.end - rd.start;
	memcpy(torn, rd.buf + rd.start, *tornlen);
	if (cp->size > log->range.size)
		ret = VAULT_E_INCONSISTENT;
out:
	reader_free(&rd);
	return ret;
}

int audit_open(const char *dir, const uint8_t sealing_key[AUDIT_SEALING_KEY_LEN],
	       const struct audit_event *ctx, struct audit_log **out)
{
	struct audit_log *log;
	struct checkpoint cp;
	uint8_t *torn = NULL;
	size_t tornlen = 0;
	int ret, have_cp = 1;

	*out = NULL;
	log = calloc(1, sizeof(*log));
	torn = malloc(AUDIT_LINE_MAX + 1);
	if (log == NULL || torn == NULL) {
		free(log);
		free(torn);
		return VAULT_E_NOMEM;
	}
	log->dirfd = log->fd = log->lockfd = -1;
	merkle_range_init(&log->range);
	ret = fileio_dir_open(dir, 0, &log->dirfd);
	if (ret == VAULT_OK)
		ret = fileio_lock(log->dirfd, AUDIT_LOCK_NAME, &log->lockfd);
	if (ret == VAULT_OK)
		ret = key_read_fd(log->dirfd, &log->v);
	if (ret != VAULT_OK)
		goto out;
	if (strncmp(log->v.name, AUDIT_ORIGIN_PREFIX, strlen(AUDIT_ORIGIN_PREFIX)) != 0 ||
	    !installation_ok(log->v.name + strlen(AUDIT_ORIGIN_PREFIX))) {
		ret = VAULT_E_KEY;
		goto out;
	}
	snprintf(log->installation, sizeof(log->installation), "%s",
		 log->v.name + strlen(AUDIT_ORIGIN_PREFIX));
	ret = key_unseal(log->dirfd, sealing_key, &log->v, &log->sk);
	if (ret != VAULT_OK)
		goto out;
	ret = fileio_read(log->dirfd, AUDIT_CHECKPOINT_NAME, (uint8_t *)log->cp, sizeof(log->cp),
			  &log->cplen);
	if (ret == VAULT_E_NOTFOUND) {
		/* Whoever could delete it could also have rolled it back: auditors' kept
		 * checkpoints, not this file, are the defence. Start from an empty claim. */
		have_cp = 0;
		memset(&cp, 0, sizeof(cp));
		ret = VAULT_OK;
	} else if (ret == VAULT_OK) {
		ret = checkpoint_open((const uint8_t *)log->cp, log->cplen, &log->v, log->v.name,
				      &cp);
	}
	if (ret != VAULT_OK)
		goto out;
	if (!have_cp)
		crypto_hash_sha256(cp.root, NULL, 0);
	log->fd = openat(log->dirfd, AUDIT_LOG_NAME, O_RDWR | O_APPEND | O_NOFOLLOW | O_CLOEXEC);
	if (log->fd < 0) {
		ret = errno == ENOENT ? VAULT_E_NOTFOUND : VAULT_E_IO;
		goto out;
	}
	ret = load_log(log, &cp, torn, &tornlen);
	if (ret != VAULT_OK)
		goto out;
	if (tornlen > 0)
		ret = recover_torn(log, ctx, torn, tornlen, log->offset);
	else
		ret = recover_pending(log, ctx);
	if (ret == VAULT_OK && (!have_cp || log->range.size != cp.size))
		ret = write_checkpoint(log->dirfd, &log->v, log->sk, &log->range, log->cp,
				       sizeof(log->cp), &log->cplen);
out:
	free(torn);
	if (ret != VAULT_OK) {
		audit_close(log);
		return ret;
	}
	*out = log;
	return VAULT_OK;
}

void audit_close(struct audit_log *log)
{
	if (log == NULL)
		return;
	if (log->fast && !log->broken)
		audit_set_unsafe_fast(log, 0);
	sodium_free(log->sk);
	if (log->fd >= 0)
		close(log->fd);
	fileio_unlock(log->lockfd);
	if (log->dirfd >= 0)
		close(log->dirfd);
	sodium_memzero(log, sizeof(*log));
	free(log);
}

/* ---------- verify ---------- */

int audit_verify_is_read_error(int code)
{
	return code == VAULT_E_IO || code == VAULT_E_NOTFOUND || code == VAULT_E_PERM ||
	       code == VAULT_E_NOMEM || code == VAULT_E_INVAL || code == VAULT_E_BUSY;
}

__attribute__((format(printf, 4, 5))) static int report(struct audit_verify_report *rep, int code,
							uint64_t line, const char *fmt, ...)
{
	va_list ap;

	rep->code = code;
	rep->line = line;
	va_start(ap, fmt);
	vsnprintf(rep->what, sizeof(rep->what), fmt, ap);
	va_end(ap);
	return code;
}

/* Record j's link did not match record j-1. If record j+1 links to record j correctly
 * (next > 0), record j is intact and j-1 was altered; if not (next == 0), j itself was. With no
 * usable record j+1 (next < 0) either may be: blame j-1, whose content is the likelier edit. */
static int blame_link(struct audit_verify_report *rep, uint64_t j, int next)
{
	if (next > 0)
		return report(
		    rep, VAULT_E_TAMPERED, j,
		    "line %llu was altered: its hash does not match the link in line %llu",
		    (unsigned long long)j, (unsigned long long)j + 1);
	if (next < 0)
		return report(rep, VAULT_E_TAMPERED, j,
			      "line %llu (or the link in line %llu) was altered: they do not match",
			      (unsigned long long)j, (unsigned long long)j + 1);
	return report(rep, VAULT_E_TAMPERED, j + 1,
		      "line %llu was altered: its link does not match line %llu",
		      (unsigned long long)j + 1, (unsigned long long)j);
}

struct verify_state {
	struct line_reader rd;
	struct merkle_range range;
	struct merkle_prover prover;
	uint8_t h1[MERKLE_HASH_LEN], h2[MERKLE_HASH_LEN]; /* leaf hashes of lines p-1, p-2 */
	uint64_t pending;				  /* 1 + j of a broken link, or 0 */
};

static int verify_stream(struct verify_state *s, struct audit_verify_report *rep)
{
	const struct checkpoint *L = &rep->latest, *O = &rep->old;
	const uint8_t *line, *prev;
	uint8_t h[MERKLE_HASH_LEN], root[MERKLE_HASH_LEN];
	uint64_t p = 0, seq;
	size_t len;
	int r;

	while ((r = reader_next(&s->rd, &line, &len)) == 1) {
		if (scan_line(line, len, &seq, &prev) != 0) {
			if (s->pending)
				return blame_link(rep, s->pending - 1, -1);
			return report(rep, VAULT_E_LOG_RECORD, p + 1,
				      "line %llu is not a well-formed record",
				      (unsigned long long)p + 1);
		}
		if (seq != p) {
			if (s->pending)
				return blame_link(rep, s->pending - 1, -1);
			if (p > 0 && seq == p - 1 && prev_matches(prev, s->h2))
				return report(
				    rep, VAULT_E_LOG_SEQUENCE, p,
				    "line %llu was inserted: line %llu repeats its sequence "
				    "number and links to line %llu",
				    (unsigned long long)p, (unsigned long long)p + 1,
				    (unsigned long long)p - 1);
			return report(rep, VAULT_E_LOG_SEQUENCE, p + 1,
				      "line %llu has sequence number %llu where %llu was expected: "
				      "records were %s",
				      (unsigned long long)p + 1, (unsigned long long)seq,
				      (unsigned long long)p,
				      seq > p ? "deleted or reordered" : "inserted or reordered");
		}
		if (s->pending)
			return blame_link(rep, s->pending - 1, prev_matches(prev, s->h1));
		if (!prev_matches(prev, s->h1)) {
			if (p == 0)
				return report(rep, VAULT_E_TAMPERED, 1,
					      "line 1 was altered: its link is not zero");
			s->pending = p + 1;
		}
		merkle_leaf_hash(line, len, h);
		merkle_range_append(&s->range, h);
		if (rep->have_old)
			merkle_prover_leaf(&s->prover, p, h);
		if (s->range.size == L->size || (rep->have_old && s->range.size == O->size)) {
			merkle_range_root(&s->range, root);
			if (s->range.size == L->size &&
			    sodium_memcmp(root, L->root, MERKLE_HASH_LEN) != 0) {
				if (s->pending)
					return blame_link(rep, s->pending - 1, -1);
				return report(
				    rep, VAULT_E_TAMPERED, p + 1,
				    "the first %llu records do not match the signed checkpoint: "
				    "line %llu (or lines rewritten up to it) was altered",
				    (unsigned long long)L->size, (unsigned long long)p + 1);
			}
			if (rep->have_old && s->range.size == O->size &&
			    sodium_memcmp(root, O->root, MERKLE_HASH_LEN) != 0) {
				if (s->pending)
					return blame_link(rep, s->pending - 1, -1);
				return report(
				    rep, VAULT_E_INCONSISTENT, p + 1,
				    "the first %llu records do not match the kept checkpoint: "
				    "the log was rewritten or rolled back",
				    (unsigned long long)O->size);
			}
		}
		memcpy(s->h2, s->h1, MERKLE_HASH_LEN);
		memcpy(s->h1, h, MERKLE_HASH_LEN);
		p++;
	}
	if (s->pending)
		return blame_link(rep, s->pending - 1, -1);
	rep->records = p;
	if (r == VAULT_E_TOOLONG)
		return report(rep, VAULT_E_LOG_RECORD, p + 1, "line %llu is longer than %d bytes",
			      (unsigned long long)p + 1, AUDIT_LINE_MAX);
	if (r < 0)
		return report(rep, r, 0, "cannot read the log");
	if (s->rd.end > s->rd.start)
		return report(rep, VAULT_E_LOG_TORN, p + 1,
			      "line %llu is incomplete (%zu bytes, a crash while writing): opening "
			      "the log for writing records and cuts it",
			      (unsigned long long)p + 1, s->rd.end - s->rd.start);
	return VAULT_OK;
}

int audit_verify(const char *dir, const struct audit_verify_opts *opts,
		 struct audit_verify_report *rep)
{
	struct note_verifier v;
	struct verify_state *s = NULL;
	uint8_t cpbuf[AUDIT_CHECKPOINT_MAX];
	uint8_t proof[MERKLE_MAX_PROOF][MERKLE_HASH_LEN];
	struct merkle_span spans[MERKLE_MAX_PROOF];
	size_t cplen, nspans = 0;
	int dirfd = -1, fd = -1, ret;

	memset(rep, 0, sizeof(*rep));
	ret = fileio_dir_open(dir, 0, &dirfd);
	if (ret != VAULT_OK) {
		report(rep, ret, 0, "cannot open the log directory");
		goto out;
	}
	if (opts != NULL && opts->key != NULL)
		v = *opts->key;
	else if ((ret = key_read_fd(dirfd, &v)) != VAULT_OK) {
		report(rep, ret, 0, "cannot read the log's verifier key");
		goto out;
	}
	ret = fileio_read(dirfd, AUDIT_CHECKPOINT_NAME, cpbuf, sizeof(cpbuf), &cplen);
	if (ret == VAULT_E_NOTFOUND || ret == VAULT_E_TOOLONG)
		ret = VAULT_E_CHECKPOINT;
	if (ret == VAULT_OK)
		ret = checkpoint_open(cpbuf, cplen, &v, v.name, &rep->latest);
	if (ret != VAULT_OK) {
		report(rep, ret, 0, "the log's checkpoint: %s", vault_strerror(ret));
		goto out;
	}
	if (opts != NULL && opts->old_checkpoint != NULL) {
		ret = checkpoint_open(opts->old_checkpoint, opts->old_len, &v, v.name, &rep->old);
		if (ret != VAULT_OK) {
			report(rep, ret, 0, "the kept checkpoint: %s", vault_strerror(ret));
			goto out;
		}
		rep->have_old = 1;
	}
	s = calloc(1, sizeof(*s));
	if (s == NULL) {
		ret = report(rep, VAULT_E_NOMEM, 0, "out of memory");
		goto out;
	}
	merkle_range_init(&s->range);
	if (rep->have_old && rep->old.size <= rep->latest.size) {
		merkle_consistency_spans(rep->old.size, rep->latest.size, spans, &nspans);
		merkle_prover_init(&s->prover, spans, nspans);
	}
	fd = openat(dirfd, AUDIT_LOG_NAME, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		ret = report(rep, errno == ENOENT ? VAULT_E_NOTFOUND : VAULT_E_IO, 0,
			     "cannot open the log");
		goto out;
	}
	ret = reader_init(&s->rd, fd);
	if (ret != VAULT_OK) {
		report(rep, ret, 0, "out of memory");
		goto out;
	}
	if (rep->latest.size == 0) {
		merkle_range_root(&s->range, rep->root);
		if (sodium_memcmp(rep->root, rep->latest.root, MERKLE_HASH_LEN) != 0) {
			ret = report(rep, VAULT_E_CHECKPOINT, 0,
				     "the empty checkpoint's root is wrong");
			goto out;
		}
	}
	ret = verify_stream(s, rep);
	if (ret != VAULT_OK)
		goto out;
	merkle_range_root(&s->range, rep->root);
	if (rep->records < rep->latest.size) {
		ret = report(rep, VAULT_E_INCONSISTENT, rep->records + 1,
			     "records from line %llu on are missing: the log has %llu records, its "
			     "checkpoint covers %llu",
			     (unsigned long long)rep->records + 1, (unsigned long long)rep->records,
			     (unsigned long long)rep->latest.size);
		goto out;
	}
	if (rep->have_old && rep->records < rep->old.size) {
		ret = report(rep, VAULT_E_INCONSISTENT, rep->records + 1,
			     "records from line %llu on are missing: the log has %llu records, the "
			     "kept checkpoint covers %llu (truncation or rollback)",
			     (unsigned long long)rep->records + 1, (unsigned long long)rep->records,
			     (unsigned long long)rep->old.size);
		goto out;
	}
	if (rep->have_old && rep->old.size > rep->latest.size) {
		ret =
		    report(rep, VAULT_E_INCONSISTENT, 0,
			   "the log's checkpoint (size %llu) is older than the kept one (size "
			   "%llu): it was rolled back",
			   (unsigned long long)rep->latest.size, (unsigned long long)rep->old.size);
		goto out;
	}
	if (rep->have_old) {
		/* Belt and braces: the RFC 9162 consistency proof between the two checkpoints,
		 * computed from the log, verifies against their signed roots. */
		ret = merkle_prover_finish(&s->prover, proof);
		if (ret == VAULT_OK)
			ret = merkle_verify_consistency(rep->old.size, rep->latest.size,
							rep->old.root, rep->latest.root, proof[0],
							nspans);
		if (ret != VAULT_OK) {
			ret =
			    report(rep, VAULT_E_PROOF, 0,
				   "the consistency proof between the checkpoints does not verify");
			goto out;
		}
	}
	rep->uncovered = rep->records - rep->latest.size;
	ret = report(rep, VAULT_OK, 0, "the log is intact");
out:
	if (s != NULL)
		reader_free(&s->rd);
	free(s);
	if (fd >= 0)
		close(fd);
	if (dirfd >= 0)
		close(dirfd);
	return ret;
}

/* ---------- show and export ---------- */

int audit_filter_match(const struct audit_filter *f, const struct audit_record *r)
{
	char uid[16];

	if (f == NULL)
		return 1;
	if (f->user != NULL && strcmp(f->user, r->user) != 0)
		return 0;
	if (f->event != NULL && strcmp(f->event, r->event) != 0)
		return 0;
	if (f->worker != NULL) {
		snprintf(uid, sizeof(uid), "%u", (unsigned)r->worker_uid);
		if (strcmp(f->worker, r->worker_login) != 0 && strcmp(f->worker, uid) != 0)
			return 0;
	}
	if (f->since != NULL && strcmp(r->time, f->since) < 0)
		return 0;
	if (f->until != NULL && strcmp(r->time, f->until) >= 0)
		return 0;
	return 1;
}

static int open_log_ro(const char *dir, int *dirfd, int *fd)
{
	int ret = fileio_dir_open(dir, 0, dirfd);

	*fd = -1;
	if (ret != VAULT_OK)
		return ret;
	*fd = openat(*dirfd, AUDIT_LOG_NAME, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (*fd < 0) {
		ret = errno == ENOENT ? VAULT_E_NOTFOUND : VAULT_E_IO;
		close(*dirfd);
		*dirfd = -1;
	}
	return ret;
}

int audit_scan(const char *dir, const struct audit_filter *f,
	       int (*cb)(void *ctx, const struct audit_record *rec, const uint8_t *line,
			 size_t len),
	       void *ctx)
{
	struct line_reader rd;
	struct audit_record *rec = NULL;
	const uint8_t *line;
	size_t len;
	int dirfd, fd, ret, r;

	ret = open_log_ro(dir, &dirfd, &fd);
	if (ret != VAULT_OK)
		return ret;
	ret = reader_init(&rd, fd);
	rec = malloc(sizeof(*rec));
	if (ret == VAULT_OK && rec == NULL)
		ret = VAULT_E_NOMEM;
	while (ret == VAULT_OK && (r = reader_next(&rd, &line, &len)) == 1) {
		ret = audit_record_parse(line, len, rec);
		if (ret == VAULT_OK && audit_filter_match(f, rec) && cb(ctx, rec, line, len) != 0)
			break;
	}
	if (ret == VAULT_OK && r < 0)
		ret = r == VAULT_E_TOOLONG ? VAULT_E_LOG_RECORD : r;
	else if (ret == VAULT_OK && r == 0 && rd.end > rd.start)
		ret = VAULT_E_LOG_TORN;
	free(rec);
	reader_free(&rd);
	close(fd);
	close(dirfd);
	return ret;
}

static int csv_cell(char *out, size_t cap, size_t *pos, const char *s, int last)
{
	int quote = strpbrk(s, ",\"\r\n") != NULL, guard = strchr("=+-@", s[0]) != NULL && s[0];

	if (*pos + 2 * strlen(s) + 5 > cap)
		return VAULT_E_TOOLONG;
	if (quote || guard)
		out[(*pos)++] = '"';
	if (guard)
		out[(*pos)++] = '\'';
	for (; *s; s++) {
		if (*s == '"')
			out[(*pos)++] = '"';
		out[(*pos)++] = *s;
	}
	if (quote || guard)
		out[(*pos)++] = '"';
	if (!last)
		out[(*pos)++] = ',';
	out[*pos] = '\0';
	return VAULT_OK;
}

int audit_record_csv(const struct audit_record *r, char *out, size_t cap)
{
	char seq[24], uid[16], att[16];
	const char *cells[14];
	size_t pos = 0;
	int ret = VAULT_OK;

	snprintf(seq, sizeof(seq), "%llu", (unsigned long long)r->seq);
	snprintf(uid, sizeof(uid), "%u", (unsigned)r->worker_uid);
	att[0] = '\0';
	if (r->attempts_left >= 0)
		snprintf(att, sizeof(att), "%d", r->attempts_left);
	cells[0] = seq;
	cells[1] = r->time;
	cells[2] = r->event;
	cells[3] = r->installation;
	cells[4] = uid;
	cells[5] = r->worker_login;
	cells[6] = r->host;
	cells[7] = r->user;
	cells[8] = r->credential;
	cells[9] = r->service;
	cells[10] = r->purpose;
	cells[11] = r->outcome;
	cells[12] = r->reason;
	cells[13] = att;
	if (cap == 0)
		return VAULT_E_TOOLONG;
	out[0] = '\0';
	for (size_t i = 0; i < 14 && ret == VAULT_OK; i++)
		ret = csv_cell(out, cap, &pos, cells[i], i == 13);
	return ret;
}

/* ---------- proofs ---------- */

/* The verifier key and current checkpoint of dir, and the log opened for reading. */
static int load_for_proof(const char *dir, struct note_verifier *v, struct checkpoint *cp,
			  char *cptext, size_t cpcap, size_t *cplen, int *fd)
{
	int dirfd, ret = open_log_ro(dir, &dirfd, fd);

	if (ret != VAULT_OK)
		return ret;
	ret = key_read_fd(dirfd, v);
	if (ret == VAULT_OK)
		ret = fileio_read(dirfd, AUDIT_CHECKPOINT_NAME, (uint8_t *)cptext, cpcap, cplen);
	if (ret == VAULT_OK)
		ret = checkpoint_open((const uint8_t *)cptext, *cplen, v, v->name, cp);
	close(dirfd);
	if (ret != VAULT_OK) {
		close(*fd);
		*fd = -1;
	}
	return ret;
}

/* Streams leaves [0, upto) into prover, keeping the root at size1 (if non-zero) and at upto;
 * copies line keep (if < upto) into keepline. */
static int stream_leaves(int fd, struct merkle_prover *prover, uint64_t size1,
			 uint8_t root1[MERKLE_HASH_LEN], uint64_t upto,
			 uint8_t root[MERKLE_HASH_LEN], uint64_t keep, uint8_t *keepline,
			 size_t *keeplen)
{
	struct line_reader rd;
	struct merkle_range *range = malloc(sizeof(*range));
	const uint8_t *line;
	uint8_t h[MERKLE_HASH_LEN];
	size_t len;
	int ret = reader_init(&rd, fd), r = 0;

	if (range == NULL)
		ret = VAULT_E_NOMEM;
	if (ret != VAULT_OK)
		goto out;
	merkle_range_init(range);
	while (range->size < upto && (r = reader_next(&rd, &line, &len)) == 1) {
		merkle_leaf_hash(line, len, h);
		merkle_prover_leaf(prover, range->size, h);
		if (range->size == keep && keepline != NULL) {
			memcpy(keepline, line, len);
			*keeplen = len;
		}
		merkle_range_append(range, h);
		if (range->size == size1 && root1 != NULL)
			merkle_range_root(range, root1);
	}
	if (r < 0)
		ret = r == VAULT_E_TOOLONG ? VAULT_E_LOG_RECORD : r;
	else if (range->size < upto)
		ret = VAULT_E_INCONSISTENT;
	else
		merkle_range_root(range, root);
out:
	free(range);
	reader_free(&rd);
	return ret;
}

static int append_b64(char *out, size_t cap, size_t *pos, const char *pre, const uint8_t *bin,
		      size_t len)
{
	size_t need = strlen(pre) + sodium_base64_ENCODED_LEN(len, B64) + 1;

	if (*pos + need > cap)
		return VAULT_E_TOOLONG;
	*pos += (size_t)snprintf(out + *pos, cap - *pos, "%s", pre);
	sodium_bin2base64(out + *pos, cap - *pos, bin, len, B64);
	*pos += strlen(out + *pos);
	out[(*pos)++] = '\n';
	out[*pos] = '\0';
	return VAULT_OK;
}

int audit_prove(const char *dir, uint64_t seq, char *out, size_t cap, size_t *len)
{
	struct note_verifier v;
	struct checkpoint cp;
	struct merkle_prover *prover = malloc(sizeof(*prover));
	struct merkle_span spans[MERKLE_MAX_PROOF];
	uint8_t proof[MERKLE_MAX_PROOF][MERKLE_HASH_LEN], root[MERKLE_HASH_LEN];
	uint8_t *line = malloc(AUDIT_LINE_MAX + 1);
	char cptext[AUDIT_CHECKPOINT_MAX];
	size_t cplen, n = 0, linelen = 0, pos = 0;
	int fd = -1, ret;

	*len = 0;
	ret = prover == NULL || line == NULL ? VAULT_E_NOMEM : VAULT_OK;
	if (ret == VAULT_OK)
		ret = load_for_proof(dir, &v, &cp, cptext, sizeof(cptext), &cplen, &fd);
	if (ret == VAULT_OK && seq >= cp.size)
		ret = VAULT_E_NOTFOUND;
	if (ret == VAULT_OK)
		ret = merkle_inclusion_spans(seq, cp.size, spans, &n);
	if (ret == VAULT_OK)
		ret = merkle_prover_init(prover, spans, n);
	if (ret == VAULT_OK)
		ret = stream_leaves(fd, prover, 0, NULL, cp.size, root, seq, line, &linelen);
	if (ret == VAULT_OK && sodium_memcmp(root, cp.root, MERKLE_HASH_LEN) != 0)
		ret = VAULT_E_INCONSISTENT;
	if (ret == VAULT_OK)
		ret = merkle_prover_finish(prover, proof);
	if (ret != VAULT_OK)
		goto out;
	if (cap < 64) {
		ret = VAULT_E_TOOLONG;
		goto out;
	}
	pos = (size_t)snprintf(out, cap, "c2sp.org/tlog-proof@v1\n");
	ret = append_b64(out, cap, &pos, "extra ", line, linelen);
	if (ret == VAULT_OK && pos + 32 < cap)
		pos +=
		    (size_t)snprintf(out + pos, cap - pos, "index %llu\n", (unsigned long long)seq);
	for (size_t i = 0; i < n && ret == VAULT_OK; i++)
		ret = append_b64(out, cap, &pos, "", proof[i], MERKLE_HASH_LEN);
	if (ret == VAULT_OK && pos + 1 + cplen + 1 > cap)
		ret = VAULT_E_TOOLONG;
	if (ret == VAULT_OK) {
		out[pos++] = '\n';
		memcpy(out + pos, cptext, cplen);
		pos += cplen;
		out[pos] = '\0';
		*len = pos;
	}
out:
	if (fd >= 0)
		close(fd);
	free(prover);
	free(line);
	return ret;
}

static int take_line(const uint8_t *s, size_t len, size_t *pos, const char **l, size_t *ll)
{
	const uint8_t *nl;

	if (*pos >= len || (nl = memchr(s + *pos, '\n', len - *pos)) == NULL)
		return 0;
	*l = (const char *)s + *pos;
	*ll = (size_t)(nl - (s + *pos));
	*pos += *ll + 1;
	return 1;
}

int audit_receipt_verify(const uint8_t *receipt, size_t len, const struct note_verifier *v,
			 uint64_t *index)
{
	static const char head[] = "c2sp.org/tlog-proof@v1";
	uint8_t proof[MERKLE_MAX_PROOF][MERKLE_HASH_LEN], leaf[MERKLE_HASH_LEN];
	uint8_t *line = malloc(AUDIT_LINE_MAX + 1);
	struct checkpoint cp;
	const char *l;
	const uint8_t *prevp;
	size_t ll, pos = 0, n = 0, linelen = 0;
	uint64_t idx = 0, seq;
	int ret = VAULT_E_PROOF;

	*index = 0;
	if (line == NULL)
		return VAULT_E_NOMEM;
	if (len > AUDIT_PROOF_MAX || !take_line(receipt, len, &pos, &l, &ll) ||
	    ll != sizeof(head) - 1 || memcmp(l, head, ll) != 0)
		goto out;
	if (!take_line(receipt, len, &pos, &l, &ll) || ll < 6 || memcmp(l, "extra ", 6) != 0 ||
	    sodium_base642bin(line, AUDIT_LINE_MAX, l + 6, ll - 6, NULL, &linelen, NULL, B64) != 0)
		goto out;
	if (!take_line(receipt, len, &pos, &l, &ll) || ll < 7 || ll > 6 + 20 ||
	    memcmp(l, "index ", 6) != 0)
		goto out;
	for (size_t i = 6; i < ll; i++) {
		if (l[i] < '0' || l[i] > '9' || (i == 6 && l[i] == '0' && ll > 7) ||
		    idx > (UINT64_MAX - 9) / 10)
			goto out;
		idx = idx * 10 + (uint64_t)(l[i] - '0');
	}
	while (take_line(receipt, len, &pos, &l, &ll) && ll > 0) {
		size_t got = 0;
		if (n >= MERKLE_MAX_PROOF ||
		    sodium_base642bin(proof[n], MERKLE_HASH_LEN, l, ll, NULL, &got, NULL, B64) !=
			0 ||
		    got != MERKLE_HASH_LEN)
			goto out;
		n++;
	}
	/* The record itself must say it is number index. */
	if (scan_line(line, linelen, &seq, &prevp) != 0 || seq != idx)
		goto out;
	ret = checkpoint_open(receipt + pos, len - pos, v, v->name, &cp);
	if (ret != VAULT_OK)
		goto out;
	merkle_leaf_hash(line, linelen, leaf);
	ret = merkle_verify_inclusion(idx, cp.size, leaf, proof[0], n, cp.root);
	if (ret == VAULT_OK)
		*index = idx;
out:
	free(line);
	return ret;
}

int audit_consistency(const char *dir, uint64_t size1, uint64_t size2, char *out, size_t cap,
		      size_t *len)
{
	struct note_verifier v;
	struct checkpoint cp;
	struct merkle_prover *prover = malloc(sizeof(*prover));
	struct merkle_span spans[MERKLE_MAX_PROOF];
	uint8_t proof[MERKLE_MAX_PROOF][MERKLE_HASH_LEN], root1[MERKLE_HASH_LEN],
	    root2[MERKLE_HASH_LEN];
	char cptext[AUDIT_CHECKPOINT_MAX];
	size_t cplen, n = 0, pos = 0;
	int fd = -1, ret;

	*len = 0;
	ret = prover == NULL ? VAULT_E_NOMEM : VAULT_OK;
	if (ret == VAULT_OK)
		ret = load_for_proof(dir, &v, &cp, cptext, sizeof(cptext), &cplen, &fd);
	if (ret == VAULT_OK && size2 == 0)
		size2 = cp.size;
	if (ret == VAULT_OK && (size1 > size2 || size2 > cp.size))
		ret = VAULT_E_INVAL;
	if (ret == VAULT_OK)
		ret = merkle_consistency_spans(size1, size2, spans, &n);
	if (ret == VAULT_OK)
		ret = merkle_prover_init(prover, spans, n);
	crypto_hash_sha256(root1, NULL, 0);
	if (ret == VAULT_OK)
		ret = stream_leaves(fd, prover, size1, root1, size2, root2, UINT64_MAX, NULL, NULL);
	if (ret == VAULT_OK && size2 == cp.size &&
	    sodium_memcmp(root2, cp.root, MERKLE_HASH_LEN) != 0)
		ret = VAULT_E_INCONSISTENT;
	if (ret == VAULT_OK)
		ret = merkle_prover_finish(prover, proof);
	if (ret == VAULT_OK && cap > 64)
		pos = (size_t)snprintf(out, cap, "size1 %llu\nsize2 %llu\n",
				       (unsigned long long)size1, (unsigned long long)size2);
	else if (ret == VAULT_OK)
		ret = VAULT_E_TOOLONG;
	if (ret == VAULT_OK)
		ret = append_b64(out, cap, &pos, "root1 ", root1, MERKLE_HASH_LEN);
	if (ret == VAULT_OK)
		ret = append_b64(out, cap, &pos, "root2 ", root2, MERKLE_HASH_LEN);
	for (size_t i = 0; i < n && ret == VAULT_OK; i++)
		ret = append_b64(out, cap, &pos, "", proof[i], MERKLE_HASH_LEN);
	if (ret == VAULT_OK)
		*len = pos;
	if (fd >= 0)
		close(fd);
	free(prover);
	return ret;
}
