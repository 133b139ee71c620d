/* The audit record. One table lists its fields; it drives the canonical JSON line both ways, the
 * record built from a caller's event, and the CSV row. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>
#include <sodium.h>

#include "audit-internal.h"
#include "error.h"
#include "text.h"

#define ATTEMPTS_MAX 1000000
#define TORN_SHA256_LEN (2 * crypto_hash_sha256_BYTES) /* hex */
#define TORN_MAX 9007199254740992ULL		       /* 2^53: a JSON number stays exact */
#define NUMBER_TEXT_MAX 24			       /* a uint64_t in decimal, and a NUL */

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

/* ---------- the field table ---------- */

enum field_kind {
	FIELD_SEQ,	 /* uint64_t */
	FIELD_HASH,	 /* MERKLE_HASH_LEN bytes, base64 in the line */
	FIELD_TIME,	 /* text: RFC 3339 UTC */
	FIELD_DATE,	 /* text: YYYY-MM-DD */
	FIELD_EVENT,	 /* text: one of audit_event_names */
	FIELD_TEXT,	 /* text without controls or bidirectional overrides */
	FIELD_FREE_TEXT, /* text: the caller's is sanitised, never refused */
	FIELD_UID,	 /* uint32_t */
	FIELD_COUNT,	 /* int, -1 when absent */
	FIELD_LENGTH,	 /* int64_t, -1 when absent */
};

struct field {
	const char *name;   /* member of the JSON line */
	const char *parent; /* the JSON object holding it, NULL for the line itself */
	size_t offset;	    /* in struct audit_record */
	uint64_t max;	    /* bytes of text (the array holds one more), or the largest number */
	int required;	    /* optional fields are left out of the line when empty or negative */
	enum field_kind kind;
	size_t from; /* in struct audit_event, or NOT_FROM_EVENT */
	int csv;     /* a column of audit_record_csv, in table order */
};

#define REC(member) offsetof(struct audit_record, member)
#define EV(member) offsetof(struct audit_event, member)
#define NOT_FROM_EVENT SIZE_MAX

_Static_assert(sizeof(((struct audit_record *)0)->torn_sha256) == TORN_SHA256_LEN + 1,
	       "torn_sha256 holds a hex SHA-256");

/* In the order of the canonical line (docs/audit-log.md); worker's members are consecutive.
 * name, parent, offset, max, required, kind, from the event, CSV column. */
static const struct field fields[] = {
    {"seq", NULL, REC(seq), AUDIT_SEQ_MAX, 1, FIELD_SEQ, NOT_FROM_EVENT, 1},
    {"prev", NULL, REC(prev), AUDIT_HASH_B64_LEN, 1, FIELD_HASH, NOT_FROM_EVENT, 0},
    {"time", NULL, REC(time), AUDIT_TIME_LEN, 1, FIELD_TIME, EV(time), 1},
    {"event", NULL, REC(event), AUDIT_EVENT_MAX, 1, FIELD_EVENT, EV(event), 1},
    {"installation", NULL, REC(installation), AUDIT_INSTALLATION_MAX, 1, FIELD_TEXT, NOT_FROM_EVENT,
     1},
    {"uid", "worker", REC(worker_uid), UINT32_MAX, 1, FIELD_UID, EV(worker_uid), 1},
    {"login", "worker", REC(worker_login), AUDIT_FIELD_MAX, 1, FIELD_TEXT, EV(worker_login), 1},
    {"host", NULL, REC(host), AUDIT_FIELD_MAX, 1, FIELD_TEXT, EV(host), 1},
    {"user", NULL, REC(user), AUDIT_FIELD_MAX, 0, FIELD_TEXT, EV(user), 1},
    {"credential", NULL, REC(credential), AUDIT_FIELD_MAX, 0, FIELD_TEXT, EV(credential), 1},
    {"service", NULL, REC(service), AUDIT_FIELD_MAX, 0, FIELD_TEXT, EV(service), 1},
    {"purpose", NULL, REC(purpose), AUDIT_PURPOSE_MAX, 0, FIELD_FREE_TEXT, EV(purpose), 1},
    {"outcome", NULL, REC(outcome), AUDIT_FIELD_MAX, 1, FIELD_TEXT, EV(outcome), 1},
    {"reason", NULL, REC(reason), AUDIT_FIELD_MAX, 0, FIELD_TEXT, EV(reason), 1},
    {"attempts_left", NULL, REC(attempts_left), ATTEMPTS_MAX, 0, FIELD_COUNT, EV(attempts_left), 1},
    {"consent_until", NULL, REC(consent_until), AUDIT_DATE_LEN, 0, FIELD_DATE, EV(consent_until),
     1},
    {"torn_sha256", NULL, REC(torn_sha256), TORN_SHA256_LEN, 0, FIELD_TEXT, NOT_FROM_EVENT, 0},
    {"torn_length", NULL, REC(torn_length), TORN_MAX, 0, FIELD_LENGTH, NOT_FROM_EVENT, 0},
    {"torn_offset", NULL, REC(torn_offset), TORN_MAX, 0, FIELD_LENGTH, NOT_FROM_EVENT, 0},
};

#define N_FIELDS (sizeof(fields) / sizeof(fields[0]))

static int field_is_number(const struct field *f)
{
	return f->kind == FIELD_SEQ || f->kind == FIELD_UID || f->kind == FIELD_COUNT ||
	       f->kind == FIELD_LENGTH;
}

static void *field_at(struct audit_record *r, const struct field *f)
{
	return (char *)r + f->offset;
}

static const void *field_get(const struct audit_record *r, const struct field *f)
{
	return (const char *)r + f->offset;
}

/* A number field's value; negative means absent. */
static double field_number(const struct audit_record *r, const struct field *f)
{
	switch (f->kind) {
	case FIELD_SEQ:
		return (double)*(const uint64_t *)field_get(r, f);
	case FIELD_UID:
		return (double)*(const uint32_t *)field_get(r, f);
	case FIELD_COUNT:
		return *(const int *)field_get(r, f);
	default:
		return (double)*(const int64_t *)field_get(r, f);
	}
}

static void field_set_number(struct audit_record *r, const struct field *f, int64_t v)
{
	switch (f->kind) {
	case FIELD_SEQ:
		*(uint64_t *)field_at(r, f) = (uint64_t)v;
		break;
	case FIELD_UID:
		*(uint32_t *)field_at(r, f) = (uint32_t)v;
		break;
	case FIELD_COUNT:
		*(int *)field_at(r, f) = (int)v;
		break;
	default:
		*(int64_t *)field_at(r, f) = v;
	}
}

/* Every text empty, every optional number absent. */
static void record_clear(struct audit_record *r)
{
	memset(r, 0, sizeof(*r));
	for (size_t i = 0; i < N_FIELDS; i++)
		if (fields[i].kind == FIELD_COUNT || fields[i].kind == FIELD_LENGTH)
			field_set_number(r, &fields[i], -1);
}

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

static int text_ok(const char *s, size_t max)
{
	size_t len = strlen(s);

	if (len > max)
		return VAULT_E_TOOLONG;
	for (size_t i = 0, n; i < len; i += n) {
		n = text_utf8_next((const uint8_t *)s + i, len - i);
		if (n == 0 || (uint8_t)s[i] < 0x20 || s[i] == 0x7f ||
		    hostile_char((const uint8_t *)s + i, n))
			return VAULT_E_NOTUTF8;
	}
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

/* Free text: control characters, line separators, bidirectional controls and invalid UTF-8
 * become '?' (text_char_unsafe), and it is cut at a character boundary to max bytes. */
static void sanitise_text(const char *src, char *out, size_t max)
{
	size_t i = 0, o = 0, len = strlen(src);

	while (i < len && o < max) {
		size_t n = text_utf8_next((const uint8_t *)src + i, len - i);
		if (n == 0 || text_char_unsafe((const uint8_t *)src + i, n)) {
			out[o++] = '?';
			i += n == 0 ? 1 : n; /* an invalid byte alone, a refused character whole */
			continue;
		}
		if (o + n > max)
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

/* A calendar date "YYYY-MM-DD" that exists (31/02 does not). */
static int date_ok(const char *d)
{
	static const int days[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	int year, mon, day;

	if (strlen(d) != AUDIT_DATE_LEN || d[4] != '-' || d[7] != '-')
		return 0;
	for (size_t i = 0; i < AUDIT_DATE_LEN; i++)
		if (i != 4 && i != 7 && (d[i] < '0' || d[i] > '9'))
			return 0;
	year = atoi(d);
	mon = (d[5] - '0') * 10 + d[6] - '0';
	day = (d[8] - '0') * 10 + d[9] - '0';
	if (mon < 1 || mon > 12 || day < 1 || day > days[mon - 1])
		return 0;
	return mon != 2 || day < 29 || (year % 4 == 0 && (year % 100 != 0 || year % 400 == 0));
}

static int event_ok(const char *e)
{
	for (size_t i = 0; e != NULL && audit_event_names[i] != NULL; i++)
		if (strcmp(e, audit_event_names[i]) == 0)
			return 1;
	return 0;
}

int audit_installation_valid(const char *s)
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

struct audit_event audit_event_now(const char *event, uint32_t worker_uid, const char *login,
				   const char *host, char time_buf[AUDIT_TIME_LEN + 1])
{
	struct audit_event ev;

	memset(&ev, 0, sizeof(ev));
	if (audit_time_format((int64_t)time(NULL), time_buf) != VAULT_OK)
		time_buf[0] = '\0';
	ev.event = event;
	ev.time = time_buf;
	ev.worker_uid = worker_uid;
	ev.worker_login = login;
	ev.host = host;
	ev.outcome = "ok";
	ev.attempts_left = -1;
	return ev;
}

/* ---------- from the caller's event ---------- */

static const char *event_text(const struct audit_event *ev, const struct field *f)
{
	return *(const char *const *)((const char *)ev + f->from);
}

/* Required text must be there and any text clean, or the event is refused; free text is
 * sanitised instead, since a caller cannot be trusted to clean it. */
static int field_from_event(const struct field *f, const struct audit_event *ev,
			    struct audit_record *r)
{
	const char *src = (const char *)ev + f->from;

	switch (f->kind) {
	case FIELD_UID:
		*(uint32_t *)field_at(r, f) = *(const uint32_t *)src;
		return VAULT_OK;
	case FIELD_COUNT:
		if (*(const int *)src >= 0)
			*(int *)field_at(r, f) = *(const int *)src;
		return VAULT_OK;
	case FIELD_FREE_TEXT:
		if (event_text(ev, f) != NULL)
			sanitise_text(event_text(ev, f), field_at(r, f), f->max);
		return VAULT_OK;
	case FIELD_DATE:
		if (event_text(ev, f) != NULL && event_text(ev, f)[0] != '\0' &&
		    !date_ok(event_text(ev, f)))
			return VAULT_E_INVAL;
		return copy_field(field_at(r, f), f->max + 1, event_text(ev, f), f->required);
	default:
		return copy_field(field_at(r, f), f->max + 1, event_text(ev, f), f->required);
	}
}

int audit_record_from_event(const struct audit_event *ev,
			    const char installation[AUDIT_INSTALLATION_MAX + 1],
			    struct audit_record *r)
{
	int ret = VAULT_OK;

	record_clear(r);
	/* Checked before any text, so that their VAULT_E_INVAL comes first. */
	if (ev == NULL || !event_ok(ev->event) || !time_ok(ev->time) ||
	    ev->attempts_left > ATTEMPTS_MAX)
		return VAULT_E_INVAL;
	memcpy(r->installation, installation, sizeof(r->installation));
	for (size_t i = 0; i < N_FIELDS && ret == VAULT_OK; i++)
		if (fields[i].from != NOT_FROM_EVENT)
			ret = field_from_event(&fields[i], ev, r);
	return ret;
}

/* ---------- to the canonical line ---------- */

/* The JSON object f belongs in, made when its first member is added. */
static cJSON *json_parent(cJSON *o, const struct field *f)
{
	cJSON *p;

	if (f->parent == NULL)
		return o;
	p = cJSON_GetObjectItemCaseSensitive(o, f->parent);
	return p != NULL ? p : cJSON_AddObjectToObject(o, f->parent);
}

/* Adds f to o, unless it is optional and absent: 0 when out of memory. */
static int field_to_json(cJSON *o, const struct field *f, const struct audit_record *r)
{
	char b64[AUDIT_HASH_B64_LEN + 1];
	const char *text = field_get(r, f);
	cJSON *p = json_parent(o, f);

	if (p == NULL)
		return 0;
	if (f->kind == FIELD_HASH) {
		sodium_bin2base64(b64, sizeof(b64), field_get(r, f), MERKLE_HASH_LEN, AUDIT_B64);
		return cJSON_AddStringToObject(p, f->name, b64) != NULL;
	}
	if (field_is_number(f)) {
		if (!f->required && field_number(r, f) < 0)
			return 1;
		return cJSON_AddNumberToObject(p, f->name, field_number(r, f)) != NULL;
	}
	if (!f->required && text[0] == '\0')
		return 1;
	return cJSON_AddStringToObject(p, f->name, text) != NULL;
}

int audit_record_format(const struct audit_record *r, char *out, size_t cap, size_t *len)
{
	cJSON *o = cJSON_CreateObject();
	int ok = o != NULL, ret = VAULT_OK;

	*len = 0;
	if (o == NULL)
		return VAULT_E_NOMEM;
	for (size_t i = 0; i < N_FIELDS && ok; i++)
		ok = field_to_json(o, &fields[i], r);
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

/* ---------- from the canonical line ---------- */

static int get_str(const cJSON *it, char *dst, size_t cap, int required)
{
	dst[0] = '\0';
	if (it == NULL)
		return required ? -1 : 0;
	if (!cJSON_IsString(it) || it->valuestring == NULL || strlen(it->valuestring) >= cap)
		return -1;
	memcpy(dst, it->valuestring, strlen(it->valuestring) + 1);
	return 0;
}

static int get_int(const cJSON *it, double max, int64_t *v, int required)
{
	*v = -1;
	if (it == NULL)
		return required ? -1 : 0;
	if (!cJSON_IsNumber(it) || it->valuedouble < 0 || it->valuedouble > max ||
	    it->valuedouble != (double)(int64_t)it->valuedouble)
		return -1;
	*v = (int64_t)it->valuedouble;
	return 0;
}

static int hash_from_b64(const char *b64, uint8_t hash[MERKLE_HASH_LEN])
{
	size_t len = 0;

	if (sodium_base642bin(hash, MERKLE_HASH_LEN, b64, strlen(b64), NULL, &len, NULL,
			      AUDIT_B64) != 0 ||
	    len != MERKLE_HASH_LEN)
		return -1;
	return 0;
}

/* Where the next member is: a canonical line holds the fields in table order, so each is
 * found where the last one ended, or is absent. A line with its members in another order, or
 * with others, reads as fields missing: it is refused, as it would be by the canonical check
 * (a line accepted reads the same as with a search by name). */
struct json_cursor {
	const cJSON *top;  /* the line's object */
	const cJSON *in;   /* the object the cursor is in */
	const cJSON *next; /* the member after the last one found there */
};

/* o's member named name. */
static const cJSON *member(struct json_cursor *c, const cJSON *o, const char *name)
{
	const cJSON *it;

	if (c->in != o) {
		/* into a nested object from its start; back out after the object just read */
		c->next = o != c->top ? o->child : c->in->next;
		c->in = o;
	}
	if (c->next == NULL || c->next->string == NULL || strcmp(c->next->string, name) != 0)
		return NULL;
	it = c->next;
	c->next = it->next;
	return it;
}

/* Reads f from the line into r: 0, or -1 if it is missing, of the wrong type or out of
 * bounds. */
static int field_from_json(struct json_cursor *c, const struct field *f, struct audit_record *r)
{
	char b64[AUDIT_HASH_B64_LEN + 1];
	char *text = field_at(r, f);
	const cJSON *o = c->top, *it;
	int64_t v;

	if (f->parent != NULL && c->in != c->top && strcmp(c->in->string, f->parent) == 0) {
		o = c->in; /* the next member of the nested object */
	} else if (f->parent != NULL) {
		o = member(c, c->top, f->parent);
		if (!cJSON_IsObject(o))
			return -1;
	}
	it = member(c, o, f->name);
	if (f->kind == FIELD_HASH)
		return get_str(it, b64, sizeof(b64), f->required) != 0
			   ? -1
			   : hash_from_b64(b64, field_at(r, f));
	if (field_is_number(f)) {
		if (get_int(it, (double)f->max, &v, f->required) != 0)
			return -1;
		field_set_number(r, f, v);
		return 0;
	}
	if (get_str(it, text, f->max + 1, f->required) != 0 ||
	    (f->kind == FIELD_TIME && !time_ok(text)) ||
	    (f->kind == FIELD_DATE && text[0] != '\0' && !date_ok(text)) ||
	    (f->kind == FIELD_EVENT && !event_ok(text)))
		return -1;
	return 0;
}

/* The fields of line into r; canonical: and the line is their canonical serialisation. */
static int record_parse(const uint8_t *line, size_t len, struct audit_record *r, int canonical)
{
	char again[AUDIT_LINE_MAX + 8];
	struct json_cursor c;
	cJSON *o = NULL;
	size_t alen;
	int ret = VAULT_E_LOG_RECORD;

	memset(r, 0, sizeof(*r));
	if (len == 0 || len > AUDIT_LINE_MAX)
		return VAULT_E_LOG_RECORD;
	o = cJSON_ParseWithLength((const char *)line, len);
	if (o == NULL || !cJSON_IsObject(o))
		goto out;
	c.top = c.in = o;
	c.next = o->child;
	for (size_t i = 0; i < N_FIELDS; i++)
		if (field_from_json(&c, &fields[i], r) != 0)
			goto out;
	/* Canonical means: serialising what was read gives back the very same bytes. */
	if (canonical && (audit_record_format(r, again, sizeof(again), &alen) != VAULT_OK ||
			  alen != len || memcmp(again, line, len) != 0))
		goto out;
	ret = VAULT_OK;
out:
	cJSON_Delete(o);
	if (ret != VAULT_OK)
		memset(r, 0, sizeof(*r));
	return ret;
}

int audit_record_parse(const uint8_t *line, size_t len, struct audit_record *r)
{
	return record_parse(line, len, r, 1);
}

int audit_record_parse_verified(const uint8_t *line, size_t len, struct audit_record *r)
{
	return record_parse(line, len, r, 0);
}

int audit_line_scan(const uint8_t *l, size_t len, uint64_t *seq, const uint8_t **prev)
{
	static const char pre[] = "{\"seq\":", mid[] = ",\"prev\":\"";
	size_t i = sizeof(pre) - 1, start;
	uint64_t v = 0;

	if (len > AUDIT_LINE_MAX || len < sizeof(pre) + sizeof(mid) + AUDIT_HASH_B64_LEN + 2 ||
	    memcmp(l, pre, sizeof(pre) - 1) != 0 || l[len - 1] != '}')
		return -1;
	start = i;
	while (i < len && l[i] >= '0' && l[i] <= '9' && i - start < 16)
		v = v * 10 + (uint64_t)(l[i++] - '0');
	if (i == start || (l[start] == '0' && i - start > 1) || v > AUDIT_SEQ_MAX)
		return -1;
	if (len - i < sizeof(mid) - 1 + AUDIT_HASH_B64_LEN + 2 ||
	    memcmp(l + i, mid, sizeof(mid) - 1) != 0)
		return -1;
	i += sizeof(mid) - 1;
	if (l[i + AUDIT_HASH_B64_LEN] != '"')
		return -1;
	*seq = v;
	*prev = l + i;
	return 0;
}

int audit_prev_matches(const uint8_t *prev, const uint8_t hash[MERKLE_HASH_LEN])
{
	char want[AUDIT_HASH_B64_LEN + 1];

	sodium_bin2base64(want, sizeof(want), hash, MERKLE_HASH_LEN, AUDIT_B64);
	return memcmp(want, prev, AUDIT_HASH_B64_LEN) == 0;
}

/* ---------- the CSV row ---------- */

/* f as a cell: its text, or its number in decimal (empty when absent) in num. */
static const char *field_cell(const struct audit_record *r, const struct field *f,
			      char num[NUMBER_TEXT_MAX])
{
	num[0] = '\0';
	switch (f->kind) {
	case FIELD_SEQ:
		snprintf(num, NUMBER_TEXT_MAX, "%llu",
			 (unsigned long long)*(const uint64_t *)field_get(r, f));
		return num;
	case FIELD_UID:
		snprintf(num, NUMBER_TEXT_MAX, "%u", (unsigned)*(const uint32_t *)field_get(r, f));
		return num;
	case FIELD_COUNT:
		if (*(const int *)field_get(r, f) >= 0)
			snprintf(num, NUMBER_TEXT_MAX, "%d", *(const int *)field_get(r, f));
		return num;
	case FIELD_LENGTH:
		if (*(const int64_t *)field_get(r, f) >= 0)
			snprintf(num, NUMBER_TEXT_MAX, "%lld",
				 (long long)*(const int64_t *)field_get(r, f));
		return num;
	default:
		return field_get(r, f);
	}
}

/* Would a spreadsheet read s as a formula? It does after leading blanks too, and a cell opening
 * with a tab or a carriage return is one more way in (OWASP's CSV injection rules). */
static int csv_formula(const char *s)
{
	if (s[0] == '\t' || s[0] == '\r')
		return 1;
	s += strspn(s, " \t\r\n");
	return s[0] != '\0' && strchr("=+-@", s[0]) != NULL;
}

static int csv_cell(char *out, size_t cap, size_t *pos, const char *s, int last)
{
	int quote = strpbrk(s, ",\"\r\n") != NULL, guard = csv_formula(s);

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
	char num[NUMBER_TEXT_MAX];
	size_t pos = 0, last = 0;
	int ret = VAULT_OK;

	if (cap == 0)
		return VAULT_E_TOOLONG;
	out[0] = '\0';
	for (size_t i = 0; i < N_FIELDS; i++)
		if (fields[i].csv)
			last = i;
	for (size_t i = 0; i <= last && ret == VAULT_OK; i++)
		if (fields[i].csv)
			ret = csv_cell(out, cap, &pos, field_cell(r, &fields[i], num), i == last);
	return ret;
}
