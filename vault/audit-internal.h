/* What the pieces of the audit log share: the record's fast checks, the line reader, the key
 * file. Private to vault/audit-*.c; the public API is audit.h. */
#ifndef SESAME_VAULT_AUDIT_INTERNAL_H
#define SESAME_VAULT_AUDIT_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include <sodium.h>

#include "audit.h"

#define AUDIT_B64 sodium_base64_VARIANT_ORIGINAL
#define AUDIT_HASH_B64_LEN 44 /* base64 of 32 bytes, with padding */

/* ---------- the record (audit-record.c) ---------- */

/* [A-Za-z0-9._-], 1..AUDIT_INSTALLATION_MAX bytes. */
int audit_installation_valid(const char *s);
/* The record a writer appends for ev: every field checked, purpose sanitised; seq and prev are
 * left for the writer. VAULT_E_INVAL, VAULT_E_TOOLONG or VAULT_E_NOTUTF8 if ev is refused. */
int audit_record_from_event(const struct audit_event *ev,
			    const char installation[AUDIT_INSTALLATION_MAX + 1],
			    struct audit_record *r);
/* The fast path of reading a log: a canonical line starts {"seq":N,"prev":"B64", and ends with
 * }. 0 with the sequence number and the base64 link, or -1. */
int audit_line_scan(const uint8_t *line, size_t len, uint64_t *seq, const uint8_t **prev);
/* Whether the base64 link prev (AUDIT_HASH_B64_LEN bytes) names hash. */
int audit_prev_matches(const uint8_t *prev, const uint8_t hash[MERKLE_HASH_LEN]);

/* ---------- reading the log (audit-reader.c) ---------- */

/* Streams a log's lines through a buffer of two read chunks. */
struct audit_reader {
	int fd;
	uint8_t *buf;
	size_t cap, start, end;
	uint64_t offset;   /* file offset of buf[start] */
	uint64_t read_off; /* file offset of buf[end] */
	int eof;
};

int audit_reader_init(struct audit_reader *r, int fd);
void audit_reader_free(struct audit_reader *r);
/* 1 and a line (without '\n'), 0 at the end, or an error: VAULT_E_IO, or VAULT_E_TOOLONG for a
 * line over AUDIT_LINE_MAX. */
int audit_reader_next(struct audit_reader *r, const uint8_t **line, size_t *len);
/* After the end: the bytes of a torn last line (no '\n'), and how many (0: none). */
size_t audit_reader_tail(const struct audit_reader *r, const uint8_t **tail);
/* Opens dir and its log for reading. */
int audit_log_open_read(const char *dir, int *dirfd, int *fd);

/* ---------- the key file (audit-key.c) ---------- */

/* AUDIT_PUB_NAME in the directory dirfd. */
int audit_key_read_at(int dirfd, struct note_verifier *v);
/* A new signing key named name: its verifier, its seed sealed under sealing_key as the key
 * file's bytes, and the secret key (sodium_malloc'd, for the caller to sodium_free). */
int audit_key_create(const char *name, const uint8_t sealing_key[AUDIT_SEALING_KEY_LEN],
		     struct note_verifier *v, uint8_t file[AUDIT_KEYFILE_LEN], uint8_t **sk);
/* Opens the key file in dirfd into *sk (sodium_malloc'd); its public half must be v's. */
int audit_key_unseal(int dirfd, const uint8_t sealing_key[AUDIT_SEALING_KEY_LEN],
		     const struct note_verifier *v, uint8_t **sk);

/* ---------- the stored tree (audit-tree.c) ---------- */

/* every node hash, in the order nodes are completed */
#define AUDIT_TREE_NAME "audit.tree"
/* where each record ends in the log: 8 bytes, big-endian */
#define AUDIT_INDEX_NAME "audit.index"
#define AUDIT_INDEX_ENTRY 8

/* The two files, and how many leaves both hold whole. Never synced: derived from the log. */
struct audit_tree {
	int tfd, ifd;
	uint64_t size;
};

uint64_t audit_tree_nodes(uint64_t leaves);
/* VAULT_E_NOTFOUND when either file is missing (and writable is 0). */
int audit_tree_open(int dirfd, int writable, struct audit_tree *t);
void audit_tree_close(struct audit_tree *t);
/* The root of the perfect subtree of 2^level leaves number index. */
int audit_tree_node(const struct audit_tree *t, unsigned level, uint64_t index,
		    uint8_t out[MERKLE_HASH_LEN]);
/* MTH(D[begin:end]) from O(log n) stored nodes; VAULT_E_INVAL for a span RFC 9162 never asks. */
int audit_tree_hash(const struct audit_tree *t, uint64_t begin, uint64_t end,
		    uint8_t out[MERKLE_HASH_LEN]);
/* The compact range of the first size leaves. */
int audit_tree_range(const struct audit_tree *t, uint64_t size, struct merkle_range *r);
/* The log offset just past record seq's '\n'. */
int audit_tree_end(const struct audit_tree *t, uint64_t seq, uint64_t *end);
int audit_tree_truncate(struct audit_tree *t, uint64_t leaves);
/* Stores leaf number before->size, ending at log offset end; before is the range without it. */
int audit_tree_append(struct audit_tree *t, const struct merkle_range *before,
		      const uint8_t leaf[MERKLE_HASH_LEN], uint64_t end);

#endif
