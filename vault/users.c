/* The people index (users.h). Records live in one guarded arena, which grows by doubling into
 * a new guarded buffer; two arrays of record numbers keep them sorted by name and by id. */
#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "peoplecache.h"
#include "text.h"
#include "users.h"

#define PEOPLE_INITIAL 64
#define PEOPLE_DAMAGED_INITIAL 8
#define LOAD_THREADS_MAX 8 /* threads reading the vaults at start */
#define LOAD_CHUNK 64	   /* files a loading thread takes at a time */

struct person {
	char id[VAULT_USER_ID_HEX];
	char name[VAULT_NAME_MAX + 1];
	char fold[VAULT_PEOPLE_KEY_MAX];
	uint8_t failures, retry_limit; /* the vault file's bytes 30 and 29 */
	struct people_ident ident;     /* of the file read at start (for the cache) */
};

struct vault_people {
	pthread_mutex_t lock;
	vault_people_key_fn key;
	struct person *rec; /* sodium_malloc: cap records, n used */
	uint32_t *by_name, *by_id;
	size_t n, cap;
	struct vault_damaged *damaged; /* the vault files that could not be read, unsorted */
	size_t n_damaged, cap_damaged;
};

/* ---------- folding ---------- */

/* Base letters of U+00C0..U+017F; '*' marks the two-letter ones, '.' those kept as they are. */
static const char latin1[] = "aaaaaa*ceeeeiiiidnooooo.ouuuuy.*aaaaaa*ceeeeiiiidnooooo.ouuuuy.y";
static const char latin_ext_a[] = "aaaaaaccccccccddddeeeeeeeeeegggggggghhhhiiiiiiiiii**jjkkkllll"
				  "llllllnnnnnnnnnoooooo**rrrrrrssssssssttttttuuuuuuuuuuuuwwyyyz"
				  "zzzzzs";
_Static_assert(sizeof(latin1) == 64 + 1, "a letter for each of U+00C0..U+00FF");
_Static_assert(sizeof(latin_ext_a) == 128 + 1, "a letter for each of U+0100..U+017F");

static const char *fold_pair(unsigned cp)
{
	switch (cp) {
	case 0xC6:
	case 0xE6:
		return "ae";
	case 0xDF:
		return "ss";
	case 0x132:
	case 0x133:
		return "ij";
	default:
		return "oe"; /* U+0152, U+0153 */
	}
}

/* Folds one two-byte sequence into out (room for 2); 0 if it is not a Latin letter. */
static size_t fold_latin(unsigned cp, char *out)
{
	char c;

	if (cp >= 0xC0 && cp <= 0xFF)
		c = latin1[cp - 0xC0];
	else if (cp >= 0x100 && cp <= 0x17F)
		c = latin_ext_a[cp - 0x100];
	else
		return 0;
	if (c == '.')
		return 0;
	if (c == '*') {
		memcpy(out, fold_pair(cp), 2);
		return 2;
	}
	out[0] = c;
	return 1;
}

void vault_people_fold(const char *name, char *out, size_t cap)
{
	const uint8_t *p = (const uint8_t *)name;
	size_t left = strlen(name), o = 0;

	while (left > 0) {
		size_t k = text_utf8_next(p, left), f = 0;
		if (k == 0)
			k = 1; /* malformed: copied byte by byte, it folds to itself */
		if (o + k >= cap)
			break; /* a fold is never longer than its name: only a short cap stops */
		if (k == 1)
			out[o++] = (char)(*p >= 'A' && *p <= 'Z' ? *p + ('a' - 'A') : *p);
		else if (k == 2)
			f = fold_latin(((unsigned)(p[0] & 0x1F) << 6) | (p[1] & 0x3F), out + o);
		if (k > 1 && f == 0) {
			memcpy(out + o, p, k);
			f = k;
		}
		o += k > 1 ? f : 0;
		p += k;
		left -= k;
	}
	out[o] = '\0';
}

/* ---------- ordering ---------- */

static int name_order(const struct person *x, const char *fold, const char *name, const char *id)
{
	int c = strcmp(x->fold, fold);

	if (c == 0)
		c = strcmp(x->name, name);
	return c != 0 ? c : strcmp(x->id, id);
}

/* The first place in by_name whose record is not before (fold, name, id). */
static size_t name_bound(const struct vault_people *p, const char *fold, const char *name,
			 const char *id)
{
	size_t lo = 0, hi = p->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (name_order(&p->rec[p->by_name[mid]], fold, name, id) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static size_t id_bound(const struct vault_people *p, const char *id)
{
	size_t lo = 0, hi = p->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (strcmp(p->rec[p->by_id[mid]].id, id) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* The record number of id, or -1. */
static long find_id(const struct vault_people *p, const char *id)
{
	size_t i = id_bound(p, id);

	return i < p->n && strcmp(p->rec[p->by_id[i]].id, id) == 0 ? (long)p->by_id[i] : -1;
}

static long find_name(const struct vault_people *p, const char *name)
{
	char fold[VAULT_PEOPLE_KEY_MAX];
	size_t i;

	p->key(name, fold, sizeof(fold));
	i = name_bound(p, fold, name, "");
	return i < p->n && strcmp(p->rec[p->by_name[i]].name, name) == 0 ? (long)p->by_name[i] : -1;
}

/* ---------- changes ---------- */

/* Room for cap records: a new guarded arena, which sodium_malloc fills and locks whole, so the
 * load sizes it once rather than doubling its way there. */
static int grow_to(struct vault_people *p, size_t cap)
{
	struct person *rec = sodium_malloc(cap * sizeof(*rec));
	uint32_t *by_name = realloc(p->by_name, cap * sizeof(uint32_t));
	uint32_t *by_id;

	if (by_name != NULL)
		p->by_name = by_name;
	by_id = realloc(p->by_id, cap * sizeof(uint32_t));
	if (by_id != NULL)
		p->by_id = by_id;
	if (rec == NULL || by_name == NULL || by_id == NULL || cap > UINT32_MAX) {
		sodium_free(rec);
		return VAULT_E_NOMEM;
	}
	if (p->rec != NULL)
		memcpy(rec, p->rec, p->n * sizeof(*rec));
	sodium_free(p->rec);
	p->rec = rec;
	p->cap = cap;
	return VAULT_OK;
}

static int grow(struct vault_people *p)
{
	return grow_to(p, p->cap ? 2 * p->cap : PEOPLE_INITIAL);
}

static void insert_at(uint32_t *a, size_t n, size_t at, uint32_t v)
{
	memmove(a + at + 1, a + at, (n - at) * sizeof(*a));
	a[at] = v;
}

static void remove_at(uint32_t *a, size_t n, size_t at)
{
	memmove(a + at, a + at + 1, (n - at - 1) * sizeof(*a));
}

static void person_out(const struct person *r, struct vault_person *out)
{
	memcpy(out->id, r->id, sizeof(out->id));
	memcpy(out->name, r->name, sizeof(out->name));
	out->failures = r->failures;
	out->retry_limit = r->retry_limit;
}

static int counter_check(unsigned failures, unsigned retry_limit)
{
	return retry_limit <= UINT8_MAX && failures <= retry_limit ? VAULT_OK : VAULT_E_INVAL;
}

static int add_locked(struct vault_people *p, const char *id, const char *name, unsigned failures,
		      unsigned retry_limit)
{
	struct person *r;
	size_t at;
	int ret;

	if (strlen(id) != VAULT_USER_ID_HEX - 1 || strlen(name) > VAULT_NAME_MAX ||
	    counter_check(failures, retry_limit) != VAULT_OK)
		return VAULT_E_INVAL;
	if (find_id(p, id) >= 0 || find_name(p, name) >= 0)
		return VAULT_E_EXISTS;
	if (p->n == p->cap && (ret = grow(p)) != VAULT_OK)
		return ret;
	r = &p->rec[p->n];
	snprintf(r->id, sizeof(r->id), "%s", id);
	snprintf(r->name, sizeof(r->name), "%s", name);
	p->key(name, r->fold, sizeof(r->fold));
	r->failures = (uint8_t)failures;
	r->retry_limit = (uint8_t)retry_limit;
	at = name_bound(p, r->fold, r->name, r->id);
	insert_at(p->by_name, p->n, at, (uint32_t)p->n);
	insert_at(p->by_id, p->n, id_bound(p, r->id), (uint32_t)p->n);
	p->n++;
	return VAULT_OK;
}

/* Drops record k from both orders; the last record moves into its place. */
static void remove_record(struct vault_people *p, uint32_t k)
{
	struct person *r = &p->rec[k], *last = &p->rec[p->n - 1];
	uint32_t moved = (uint32_t)(p->n - 1);

	remove_at(p->by_name, p->n, name_bound(p, r->fold, r->name, r->id));
	remove_at(p->by_id, p->n, id_bound(p, r->id));
	p->n--;
	if (k != moved) {
		p->by_name[name_bound(p, last->fold, last->name, last->id)] = k;
		p->by_id[id_bound(p, last->id)] = k;
		memcpy(r, last, sizeof(*r));
	}
	sodium_memzero(last, sizeof(*last));
}

int vault_people_add(struct vault_people *p, const char *id, const char *name, unsigned failures,
		     unsigned retry_limit)
{
	int ret;

	pthread_mutex_lock(&p->lock);
	ret = add_locked(p, id, name, failures, retry_limit);
	pthread_mutex_unlock(&p->lock);
	return ret;
}

int vault_people_remove(struct vault_people *p, const char *id)
{
	long k;

	pthread_mutex_lock(&p->lock);
	if ((k = find_id(p, id)) >= 0)
		remove_record(p, (uint32_t)k);
	pthread_mutex_unlock(&p->lock);
	return k >= 0 ? VAULT_OK : VAULT_E_NOTFOUND;
}

int vault_people_set_counter(struct vault_people *p, const char *id, unsigned failures,
			     unsigned retry_limit)
{
	long k;

	if (counter_check(failures, retry_limit) != VAULT_OK)
		return VAULT_E_INVAL;
	pthread_mutex_lock(&p->lock);
	if ((k = find_id(p, id)) >= 0) {
		p->rec[k].failures = (uint8_t)failures;
		p->rec[k].retry_limit = (uint8_t)retry_limit;
	}
	pthread_mutex_unlock(&p->lock);
	return k >= 0 ? VAULT_OK : VAULT_E_NOTFOUND;
}

/* ---------- reading ---------- */

static int is_id(const char *s)
{
	return strlen(s) == VAULT_USER_ID_HEX - 1 && text_hex_lower(s, VAULT_USER_ID_HEX - 1);
}

int vault_people_find(struct vault_people *p, const char *name_or_id, struct vault_person *out)
{
	long k;

	pthread_mutex_lock(&p->lock);
	k = is_id(name_or_id) ? find_id(p, name_or_id) : find_name(p, name_or_id);
	if (k >= 0)
		person_out(&p->rec[k], out);
	pthread_mutex_unlock(&p->lock);
	return k >= 0 ? VAULT_OK : VAULT_E_NOTFOUND;
}

int vault_people_find_same(struct vault_people *p, const char *name, struct vault_person *out)
{
	char fold[VAULT_PEOPLE_KEY_MAX];
	const struct person *r = NULL;
	size_t i;

	p->key(name, fold, sizeof(fold));
	pthread_mutex_lock(&p->lock);
	i = name_bound(p, fold, "", "");
	if (i < p->n && strcmp(p->rec[p->by_name[i]].fold, fold) == 0) {
		r = &p->rec[p->by_name[i]];
		person_out(r, out);
	}
	pthread_mutex_unlock(&p->lock);
	return r != NULL ? VAULT_OK : VAULT_E_NOTFOUND;
}

size_t vault_people_count(struct vault_people *p)
{
	size_t n;

	pthread_mutex_lock(&p->lock);
	n = p->n;
	pthread_mutex_unlock(&p->lock);
	return n;
}

size_t vault_people_unreadable(struct vault_people *p)
{
	size_t n;

	pthread_mutex_lock(&p->lock);
	n = p->n_damaged;
	pthread_mutex_unlock(&p->lock);
	return n;
}

/* Where the page after cursor ("<id>:<name>") starts. */
static int cursor_start(const struct vault_people *p, const char *cursor, size_t *start)
{
	char id[VAULT_USER_ID_HEX], fold[VAULT_PEOPLE_KEY_MAX];
	const char *name;

	*start = 0;
	if (cursor == NULL || cursor[0] == '\0')
		return VAULT_OK;
	name = cursor + VAULT_USER_ID_HEX;
	if (strlen(cursor) < VAULT_USER_ID_HEX || cursor[VAULT_USER_ID_HEX - 1] != ':' ||
	    strlen(name) > VAULT_NAME_MAX)
		return VAULT_E_INVAL;
	memcpy(id, cursor, VAULT_USER_ID_HEX - 1);
	id[VAULT_USER_ID_HEX - 1] = '\0';
	if (!is_id(id))
		return VAULT_E_INVAL;
	p->key(name, fold, sizeof(fold));
	*start = name_bound(p, fold, name, id);
	if (*start < p->n && name_order(&p->rec[p->by_name[*start]], fold, name, id) == 0)
		(*start)++;
	return VAULT_OK;
}

static int page_locked(struct vault_people *p, const char *cursor, const char *prefix, size_t limit,
		       struct vault_person *out, size_t *n, int *more, char *next)
{
	char fold[VAULT_PEOPLE_KEY_MAX] = "";
	size_t i, plen, from;
	int ret = cursor_start(p, cursor, &i);

	if (ret != VAULT_OK)
		return ret;
	if (prefix != NULL)
		p->key(prefix, fold, sizeof(fold));
	plen = strlen(fold);
	from = name_bound(p, fold, "", "");
	i = i > from ? i : from;
	for (; i < p->n && *n < limit; i++) {
		const struct person *r = &p->rec[p->by_name[i]];
		if (strncmp(r->fold, fold, plen) != 0)
			break;
		person_out(r, &out[(*n)++]);
	}
	*more = i < p->n && strncmp(p->rec[p->by_name[i]].fold, fold, plen) == 0;
	if (*n > 0)
		snprintf(next, VAULT_PEOPLE_CURSOR_MAX, "%s:%s", out[*n - 1].id, out[*n - 1].name);
	return VAULT_OK;
}

int vault_people_page(struct vault_people *p, const char *cursor, const char *prefix, size_t limit,
		      struct vault_person *out, size_t *n, int *more, char *next)
{
	int ret;

	char after[VAULT_PEOPLE_CURSOR_MAX] = ""; /* next may be the cursor's own buffer */

	*n = 0;
	*more = 0;
	if (limit > VAULT_PEOPLE_PAGE_MAX)
		return VAULT_E_INVAL;
	pthread_mutex_lock(&p->lock);
	ret = page_locked(p, cursor, prefix, limit, out, n, more, after);
	pthread_mutex_unlock(&p->lock);
	if (ret == VAULT_OK)
		memcpy(next, after, sizeof(after));
	sodium_memzero(after, sizeof(after));
	return ret;
}

/* ---------- damaged vaults ---------- */

/* Vault file names are not secret (random ids): plain memory. */
static int damaged_add(struct vault_people *p, const char *id, int code)
{
	struct vault_damaged *d;

	if (p->n_damaged == p->cap_damaged) {
		size_t cap = p->cap_damaged ? 2 * p->cap_damaged : PEOPLE_DAMAGED_INITIAL;
		if ((d = realloc(p->damaged, cap * sizeof(*d))) == NULL)
			return VAULT_E_NOMEM;
		p->damaged = d;
		p->cap_damaged = cap;
	}
	d = &p->damaged[p->n_damaged++];
	snprintf(d->id, sizeof(d->id), "%s", id);
	d->code = code;
	return VAULT_OK;
}

size_t vault_people_damaged(struct vault_people *p, struct vault_damaged *out, size_t max)
{
	size_t n;

	pthread_mutex_lock(&p->lock);
	n = p->n_damaged;
	if (n > 0 && max > 0) /* none yet: no array */
		memcpy(out, p->damaged, (n < max ? n : max) * sizeof(*out));
	pthread_mutex_unlock(&p->lock);
	return n;
}

/* What reading one damaged file says now: its person joins the index once it reads and holds a
 * name nobody else holds. */
static void recheck_one(struct vault_people *p, struct vault_store *s, struct vault_damaged *d,
			struct vault_user_info *info)
{
	d->code = vault_user_info(s, d->id, info);
	if (d->code != VAULT_OK)
		return;
	pthread_mutex_lock(&p->lock);
	if (find_id(p, d->id) >= 0)
		d->code = VAULT_OK; /* another recheck added it */
	else if (find_name(p, info->name) >= 0)
		d->code = VAULT_E_EXISTS;
	else
		d->code = add_locked(p, info->id, info->name, info->failures,
				     info->retry_limit); /* a failure: read again next time */
	pthread_mutex_unlock(&p->lock);
}

/* Replaces the damaged list by what reading its files again says. */
static void damaged_replace(struct vault_people *p, struct vault_damaged *now, size_t n)
{
	size_t kept = 0;

	pthread_mutex_lock(&p->lock);
	for (size_t i = 0; i < p->n_damaged; i++) {
		size_t j = 0;
		while (j < n && strcmp(now[j].id, p->damaged[i].id) != 0)
			j++;
		if (j == n) /* appeared meanwhile (another recheck): kept as it is */
			p->damaged[kept++] = p->damaged[i];
		else if (now[j].code != VAULT_OK && now[j].code != VAULT_E_NOTFOUND)
			p->damaged[kept++] = now[j];
	}
	p->n_damaged = kept;
	pthread_mutex_unlock(&p->lock);
}

int vault_people_recheck(struct vault_people *p, struct vault_store *s)
{
	struct vault_user_info *info;
	struct vault_damaged *now = NULL;
	size_t n;

	pthread_mutex_lock(&p->lock);
	n = p->n_damaged;
	if (n > 0 && (now = malloc(n * sizeof(*now))) != NULL)
		memcpy(now, p->damaged, n * sizeof(*now));
	pthread_mutex_unlock(&p->lock);
	if (n == 0) /* the usual case, on every first page: no guarded buffer mapped for nothing */
		return VAULT_OK;
	if ((info = sodium_malloc(sizeof(*info))) == NULL || now == NULL) {
		sodium_free(info);
		free(now);
		return VAULT_E_NOMEM;
	}
	for (size_t i = 0; i < n; i++)
		recheck_one(p, s, &now[i], info);
	damaged_replace(p, now, n);
	sodium_free(info);
	free(now);
	return VAULT_OK;
}

/* ---------- loading ---------- */

static int vault_file_id(const char *file, char id[VAULT_USER_ID_HEX])
{
	size_t hex = VAULT_USER_ID_HEX - 1;

	if (strlen(file) != hex + strlen(VAULT_FILE_SUFFIX) ||
	    strcmp(file + hex, VAULT_FILE_SUFFIX) != 0)
		return 0;
	memcpy(id, file, hex);
	id[hex] = '\0';
	return is_id(id);
}

static int by_name_cmp(const void *a, const void *b, void *ctx)
{
	const struct person *rec = ctx, *y = &rec[*(const uint32_t *)b];

	return name_order(&rec[*(const uint32_t *)a], y->fold, y->name, y->id);
}

static int by_id_cmp(const void *a, const void *b, void *ctx)
{
	const struct person *rec = ctx;

	return strcmp(rec[*(const uint32_t *)a].id, rec[*(const uint32_t *)b].id);
}

/* Both orders in O(n log n), then a second vault claiming a name already taken is dropped, and
 * kept among the damaged ones, so that someone sees it. */
static int sort_all(struct vault_people *p)
{
	int ret = VAULT_OK;

	if (p->n == 0) /* no arrays yet */
		return VAULT_OK;
	qsort_r(p->by_name, p->n, sizeof(uint32_t), by_name_cmp, p->rec);
	qsort_r(p->by_id, p->n, sizeof(uint32_t), by_id_cmp, p->rec);
	for (size_t i = 1; ret == VAULT_OK && i < p->n; i++)
		if (strcmp(p->rec[p->by_name[i]].name, p->rec[p->by_name[i - 1]].name) == 0) {
			ret = damaged_add(p, p->rec[p->by_name[i]].id, VAULT_E_EXISTS);
			remove_record(p, p->by_name[i]);
			i--;
		}
	return ret;
}

/* Every vault file's id, in directory order. Ids are not secret: they are the files' names. */
static int list_ids(DIR *dir, char (**ids)[VAULT_USER_ID_HEX], size_t *n)
{
	char(*list)[VAULT_USER_ID_HEX] = NULL, (*grown)[VAULT_USER_ID_HEX];
	size_t cap = 0;
	struct dirent *d;

	*n = 0;
	while ((d = readdir(dir)) != NULL) {
		if (*n == cap) {
			cap = cap ? 2 * cap : PEOPLE_INITIAL;
			if ((grown = realloc(list, cap * sizeof(*list))) == NULL) {
				free(list);
				return VAULT_E_NOMEM;
			}
			list = grown;
		}
		if (vault_file_id(d->d_name, list[*n]))
			(*n)++;
	}
	*ids = list;
	return VAULT_OK;
}

/* The files are read and their names decrypted by several threads, each taking the next chunk
 * of files: reading is mostly the MAC and the decryption, which the machine's cores share. */
struct load_work {
	struct vault_people *p;
	struct vault_store *s;
	const struct people_cache *cache; /* NULL: every file is read */
	char (*ids)[VAULT_USER_ID_HEX];
	int *why; /* for each file, why it could not be read, or VAULT_OK */
	size_t n;
	atomic_size_t next;
	atomic_size_t from_cache, from_files;
	atomic_int nomem;
};

/* Record i from the cache, if the file's identity (fstatat: the file is not opened) is the one
 * cached with it. */
static int load_cached(struct load_work *w, size_t i, struct person *r)
{
	char file[VAULT_USER_ID_HEX + sizeof(VAULT_FILE_SUFFIX)];
	unsigned failures, retry_limit;
	struct stat st;

	if (w->cache == NULL)
		return 0;
	snprintf(file, sizeof(file), "%s%s", w->ids[i], VAULT_FILE_SUFFIX);
	if (fstatat(vault_store_dirfd(w->s), file, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
	    !S_ISREG(st.st_mode))
		return 0;
	people_ident_of(&st, &r->ident);
	if (people_cache_find(w->cache, w->ids[i], &r->ident, r->name, &failures, &retry_limit) !=
	    VAULT_OK)
		return 0;
	memcpy(r->id, w->ids[i], sizeof(r->id));
	r->failures = (uint8_t)failures; /* checked when the cache was read */
	r->retry_limit = (uint8_t)retry_limit;
	return 1;
}

/* Record i from its file, and the identity of the descriptor it was read from. */
static int load_file(struct load_work *w, size_t i, struct person *r, struct vault_user_info *info)
{
	struct stat st;
	int ret = vault_user_info_stat(w->s, w->ids[i], info, &st);

	if (ret != VAULT_OK)
		return ret;
	people_ident_of(&st, &r->ident);
	snprintf(r->id, sizeof(r->id), "%s", info->id);
	snprintf(r->name, sizeof(r->name), "%s", info->name);
	r->failures = (uint8_t)info->failures; /* checked by the vault file's parser */
	r->retry_limit = (uint8_t)info->retry_limit;
	return VAULT_OK;
}

/* Record i of the arena from file i; an empty name marks a file that could not be read. */
static void load_one(struct load_work *w, size_t i, struct vault_user_info *info)
{
	struct person *r = &w->p->rec[i];

	if (load_cached(w, i, r)) {
		atomic_fetch_add(&w->from_cache, 1);
		w->why[i] = VAULT_OK;
	} else if ((w->why[i] = load_file(w, i, r, info)) == VAULT_OK) {
		atomic_fetch_add(&w->from_files, 1);
	} else {
		r->name[0] = '\0';
		return;
	}
	w->p->key(r->name, r->fold, sizeof(r->fold));
}

static void *load_part(void *arg)
{
	struct load_work *w = arg;
	struct vault_user_info *info = sodium_malloc(sizeof(*info));
	size_t i;

	if (info == NULL) {
		atomic_store(&w->nomem, 1);
		return NULL;
	}
	while ((i = atomic_fetch_add(&w->next, LOAD_CHUNK)) < w->n)
		for (size_t k = i; k < w->n && k < i + LOAD_CHUNK; k++)
			load_one(w, k, info);
	sodium_free(info);
	return NULL;
}

static size_t load_threads(void)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);

	return cpus < 1 ? 1 : cpus > LOAD_THREADS_MAX ? LOAD_THREADS_MAX : (size_t)cpus;
}

/* Runs load_part on this thread and on up to LOAD_THREADS_MAX - 1 more. */
static int load_parallel(struct load_work *w)
{
	pthread_t th[LOAD_THREADS_MAX];
	size_t started = 0, want = load_threads();

	while (started + 1 < want && pthread_create(&th[started], NULL, load_part, w) == 0)
		started++;
	load_part(w);
	for (size_t t = 0; t < started; t++)
		pthread_join(th[t], NULL);
	return atomic_load(&w->nomem) ? VAULT_E_NOMEM : VAULT_OK;
}

/* Moves the unreadable records to the damaged list, wiping them, and gives the rest both
 * orders. */
static int compact(struct vault_people *p, const struct load_work *w)
{
	size_t kept = 0;
	int ret = VAULT_OK;

	for (size_t i = 0; i < w->n; i++) {
		if (w->why[i] != VAULT_OK) {
			if (ret == VAULT_OK)
				ret = damaged_add(p, w->ids[i], w->why[i]);
			continue;
		}
		if (kept != i)
			memcpy(&p->rec[kept], &p->rec[i], sizeof(p->rec[i]));
		p->by_name[kept] = p->by_id[kept] = (uint32_t)kept;
		kept++;
	}
	if (w->n > kept)
		sodium_memzero(p->rec + kept, (w->n - kept) * sizeof(*p->rec));
	p->n = kept;
	return ret;
}

/* A fresh cache of every person indexed, in id order, with the identity of the file each was
 * read from; written before the index is handed over, so never beside a change. */
static int cache_write(struct vault_people *p, struct vault_store *s)
{
	struct people_cache_writer *w;
	int ret = people_cache_writer_new(p->n, &w);

	if (ret != VAULT_OK)
		return ret;
	for (size_t i = 0; i < p->n; i++) {
		const struct person *r = &p->rec[p->by_id[i]];
		people_cache_writer_add(w, r->id, r->name, r->failures, r->retry_limit, &r->ident);
	}
	return people_cache_commit(w, vault_store_dirfd(s), vault_store_people_cache_key(s));
}

/* The cache is written again when anything was read from a file rather than from it, or when
 * some of its entries stand for files gone or changed; damaged files are never cached. */
static void cache_update(struct vault_people *p, struct vault_store *s, const struct load_work *w,
			 struct vault_people_start *rep)
{
	size_t cached = w->cache != NULL ? people_cache_count(w->cache) : 0;

	rep->from_cache = atomic_load(&w->from_cache);
	rep->from_files = atomic_load(&w->from_files);
	if (rep->from_files == 0 && rep->from_cache == cached && rep->cache_read == VAULT_OK)
		return;
	if (p->n > PEOPLE_CACHE_PEOPLE_MAX) /* beyond the cache's bound: every start reads all */
		return;
	rep->cache_written = 1;
	rep->cache_write = cache_write(p, s);
}

static int load_dir(struct vault_people *p, struct vault_store *s, DIR *dir,
		    const struct people_cache *cache, struct vault_people_start *start)
{
	struct load_work *w = calloc(1, sizeof(*w));
	int ret = w == NULL ? VAULT_E_NOMEM : list_ids(dir, &w->ids, &w->n);

	if (ret == VAULT_OK && w->n > 0)
		ret = grow_to(p, w->n);
	if (ret == VAULT_OK && w->n > 0 && (w->why = calloc(w->n, sizeof(*w->why))) == NULL)
		ret = VAULT_E_NOMEM;
	if (ret == VAULT_OK) {
		w->p = p;
		w->s = s;
		w->cache = cache;
		ret = load_parallel(w);
	}
	if (ret == VAULT_OK)
		ret = compact(p, w);
	if (ret == VAULT_OK)
		ret = sort_all(p);
	if (ret == VAULT_OK && start != NULL)
		cache_update(p, s, w, start);
	if (w != NULL) {
		free(w->ids);
		free(w->why);
	}
	free(w);
	return ret;
}

static int load(struct vault_store *s, vault_people_key_fn key, struct vault_people **out,
		struct vault_people_start *start)
{
	struct vault_people *p = calloc(1, sizeof(*p));
	struct people_cache *cache = NULL;
	DIR *dir = NULL;
	int fd = -1, ret;

	*out = NULL;
	if (p == NULL)
		return VAULT_E_NOMEM;
	p->key = key != NULL ? key : vault_people_fold;
	pthread_mutex_init(&p->lock, NULL);
	if ((fd = vault_store_dirfd_dup(s)) < 0 || (dir = fdopendir(fd)) == NULL) {
		if (fd >= 0)
			close(fd);
		vault_people_free(p);
		return VAULT_E_IO;
	}
	if (start != NULL)
		start->cache_read = people_cache_read(vault_store_dirfd(s),
						      vault_store_people_cache_key(s), &cache);
	ret = load_dir(p, s, dir, cache, start);
	people_cache_free(cache);
	closedir(dir);
	if (ret != VAULT_OK) {
		vault_people_free(p);
		return ret;
	}
	*out = p;
	return VAULT_OK;
}

int vault_people_load(struct vault_store *s, vault_people_key_fn key, struct vault_people **out,
		      size_t *unreadable)
{
	int ret = load(s, key, out, NULL);

	*unreadable = ret == VAULT_OK ? (*out)->n_damaged : 0;
	return ret;
}

int vault_people_start(struct vault_store *s, vault_people_key_fn key, struct vault_people **out,
		       struct vault_people_start *start)
{
	int ret;

	memset(start, 0, sizeof(*start));
	ret = load(s, key, out, start);
	start->unreadable = ret == VAULT_OK ? (*out)->n_damaged : 0;
	return ret;
}

void vault_people_free(struct vault_people *p)
{
	if (p == NULL)
		return;
	sodium_free(p->rec);
	free(p->by_name);
	free(p->by_id);
	free(p->damaged);
	pthread_mutex_destroy(&p->lock);
	free(p);
}
