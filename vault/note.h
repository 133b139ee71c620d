/* C2SP signed-note (Ed25519) and C2SP tlog-checkpoint, as golang.org/x/mod/sumdb/note does. */
#ifndef SESAME_VAULT_NOTE_H
#define SESAME_VAULT_NOTE_H

#include <stddef.h>
#include <stdint.h>

#include "merkle.h"

#define NOTE_NAME_MAX 128 /* bytes in a key name (our bound; the spec sets none) */
#define NOTE_KEYID_LEN 4
#define NOTE_PUB_LEN 32	 /* Ed25519 public key */
#define NOTE_SEED_LEN 32 /* Ed25519 seed */
#define NOTE_SK_LEN 64	 /* libsodium expanded Ed25519 secret key */
#define NOTE_SIG_LEN 64
#define NOTE_ALG_ED25519 0x01
#define NOTE_MAX 8192	  /* bytes in a whole signed note we accept */
#define NOTE_MAX_SIGS 100 /* as sumdb/note: more signature lines is malformed */
/* name + '+' + 8 hex + '+' + base64(33 bytes) + NUL */
#define NOTE_VKEY_MAX (NOTE_NAME_MAX + 1 + 8 + 1 + 44 + 1)
#define NOTE_SIG_PREFIX "\xe2\x80\x94 " /* U+2014 EM DASH, then a space */

struct note_verifier {
	char name[NOTE_NAME_MAX + 1];
	uint8_t keyid[NOTE_KEYID_LEN];
	uint8_t pub[NOTE_PUB_LEN];
};

/* A key name: 1..NOTE_NAME_MAX bytes, none of them a space, a control character or '+'. */
int note_name_valid(const char *name, size_t len);
/* key id = SHA-256(name || 0x0A || 0x01 || pub)[0:4] */
void note_keyid(const char *name, const uint8_t pub[NOTE_PUB_LEN], uint8_t id[NOTE_KEYID_LEN]);
int note_verifier_init(struct note_verifier *v, const char *name, const uint8_t pub[NOTE_PUB_LEN]);
/* "name+hex8(keyid)+base64(0x01 || pub)", NUL-terminated. */
int note_verifier_format(const struct note_verifier *v, char *out, size_t cap);
/* Parses the text form (no trailing newline); VAULT_E_KEY if malformed or the id is wrong. */
int note_verifier_parse(const char *text, size_t len, struct note_verifier *v);

/* Signs body (non-empty, UTF-8 without control characters but '\n', ending in '\n', no empty
 * line) with sk as name: writes body, an empty line and one signature line to out. */
int note_sign(const char *body, size_t bodylen, const char *name, const uint8_t sk[NOTE_SK_LEN],
	      char *out, size_t cap, size_t *outlen);
/* The line of s that starts at *pos, without its '\n': 1, and *pos moved past the '\n', or 0
 * when no complete line is left. */
int note_next_line(const uint8_t *s, size_t len, size_t *pos, const char **line, size_t *linelen);
/* Checks the note's syntax and finds its body: VAULT_E_CHECKPOINT if malformed. */
int note_body(const uint8_t *msg, size_t len, size_t *bodylen);
/* Verifies msg: VAULT_OK if it carries a valid signature by v, VAULT_E_SIGNATURE if v's
 * signature is there but wrong, VAULT_E_KEY if v did not sign it, VAULT_E_CHECKPOINT if
 * malformed. */
int note_open(const uint8_t *msg, size_t len, const struct note_verifier *v, size_t *bodylen);

/* C2SP tlog-checkpoint: "origin\nsize\nbase64(root)\n" then optional extension lines. */
#define CHECKPOINT_ORIGIN_MAX NOTE_NAME_MAX
#define CHECKPOINT_EXT_MAX 16 /* extension lines accepted (and ignored) */

struct checkpoint {
	char origin[CHECKPOINT_ORIGIN_MAX + 1];
	uint64_t size;
	uint8_t root[MERKLE_HASH_LEN];
};

int checkpoint_body_format(const struct checkpoint *cp, char *out, size_t cap, size_t *len);
/* VAULT_E_CHECKPOINT if malformed (size with leading zeros or signs, root not 32 bytes...). */
int checkpoint_body_parse(const uint8_t *body, size_t len, struct checkpoint *cp);
int checkpoint_sign(const struct checkpoint *cp, const char *name, const uint8_t sk[NOTE_SK_LEN],
		    char *out, size_t cap, size_t *outlen);
/* Parses and verifies a signed checkpoint: VAULT_E_CHECKPOINT if malformed or its origin is not
 * origin (when origin is not NULL), else the codes of note_open. */
int checkpoint_open(const uint8_t *msg, size_t len, const struct note_verifier *v,
		    const char *origin, struct checkpoint *cp);

#endif
