/* The log in plain words (words.h). */
#include <locale.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "cli.h"
#include "text.h"
#include "vault.h"
#include "words.h"

#define NAMES_PAGE 200 /* ids in one names request: the agent's AGENT_NAMES_MAX */

extern int _nl_msg_cat_cntr; /* GNU gettext: bumped, cached translations are looked up again */

static const char *lang_now = NULL;

int words_lang_set(const char *lang)
{
	const char *cur;

	if (strcmp(lang, "fr") != 0 && strcmp(lang, "en") != 0) {
		cli_error(_("--lang %s: the languages are fr and en"), lang);
		return -1;
	}
	/* glibc honours LANGUAGE unless the messages' locale is "C": C.UTF-8 then */
	setenv("LANGUAGE", lang, 1);
	cur = setlocale(LC_MESSAGES, NULL);
	if (cur == NULL || strcmp(cur, "C") == 0 || strcmp(cur, "POSIX") == 0)
		setlocale(LC_MESSAGES, "C.UTF-8");
	++_nl_msg_cat_cntr;
	lang_now = lang;
	return 0;
}

const char *words_lang(void)
{
	/* TRANSLATORS: the language of this translation, as an HTML lang attribute */
	return lang_now != NULL ? lang_now : _("en");
}

static const char *const weekdays[] = {
    N_("Sunday"),   N_("Monday"), N_("Tuesday"),  N_("Wednesday"),
    N_("Thursday"), N_("Friday"), N_("Saturday"),
};
static const char *const months[] = {
    N_("January"), N_("February"), N_("March"),	    N_("April"),   N_("May"),	   N_("June"),
    N_("July"),	   N_("August"),   N_("September"), N_("October"), N_("November"), N_("December"),
};

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian; H. Hinnant's days_from_civil). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m + (m > 2 ? (unsigned)-3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

/* n digits of s as a number, or -1. */
static int digits(const char *s, int n)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

int words_utc(const char *s, time_t *t)
{
	int y, mo, d, h, mi, se;

	/* the log's one form, "YYYY-MM-DDTHH:MM:SSZ": read by hand, a report reads millions */
	if (strlen(s) != AUDIT_TIME_LEN || s[4] != '-' || s[7] != '-' || s[10] != 'T' ||
	    s[13] != ':' || s[16] != ':' || s[19] != 'Z')
		return -1;
	y = digits(s, 4), mo = digits(s + 5, 2), d = digits(s + 8, 2);
	h = digits(s + 11, 2), mi = digits(s + 14, 2), se = digits(s + 17, 2);
	if (y < 0 || mo < 1 || mo > 12 || d < 1 || d > 31 || h < 0 || h > 23 || mi < 0 || mi > 59 ||
	    se < 0 || se > 60)
		return -1;
	*t = (time_t)(days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 + h * 3600 + mi * 60 +
		      se);
	return 0;
}

/* Local time changes its offset only at multiples of 15 minutes: one localtime_r a quarter. */
#define QUARTER 900

int words_local(const char *rfc3339, struct tm *tm, time_t *t)
{
	static time_t cached_quarter = -1;
	static struct tm cached;
	time_t q, in;

	if (words_utc(rfc3339, t) != 0)
		return -1;
	q = *t - ((*t % QUARTER) + QUARTER) % QUARTER;
	if (q != cached_quarter) {
		if (localtime_r(&q, &cached) == NULL)
			return -1;
		cached_quarter = q;
	}
	*tm = cached;
	in = *t - q; /* under 15 minutes past a quarter that starts a local quarter too */
	tm->tm_min += (int)(in / 60);
	tm->tm_sec += (int)(in % 60);
	return 0;
}

void words_day(const struct tm *tm, char *out, size_t cap)
{
	/* TRANSLATORS: a day: the weekday, the day, the month, the year ("Monday 30 November
	 * 2026"); in French « lundi 30 novembre 2026 » */
	snprintf(out, cap, _("%s %d %s %d"), _(weekdays[tm->tm_wday]), tm->tm_mday,
		 _(months[tm->tm_mon]), tm->tm_year + 1900);
}

void words_when(const char *rfc3339, char *out, size_t cap)
{
	char day[128];
	struct tm tm;
	time_t t;

	if (words_local(rfc3339, &tm, &t) != 0) {
		snprintf(out, cap, "%s", rfc3339);
		return;
	}
	words_day(&tm, day, sizeof(day));
	/* TRANSLATORS: a day, then the time: "Monday 30 November 2026 at 14:05"; in French
	 * « lundi 30 novembre 2026 à 14 h 05 » */
	snprintf(out, cap, _("%s at %02d:%02d"), day, tm.tm_hour, tm.tm_min);
}

void words_worker(uint32_t uid, const char *login, char *out, size_t cap)
{
	struct passwd *pw = getpwuid((uid_t)uid);
	size_t len;

	/* the account must still be the one the record names: a uid given to someone else since
	 * would put a wrong name on the record */
	if (pw != NULL && strcmp(pw->pw_name, login) == 0 && pw->pw_gecos != NULL &&
	    (len = strcspn(pw->pw_gecos, ",")) > 0) {
		snprintf(out, cap, "%.*s", (int)len, pw->pw_gecos);
		return;
	}
	snprintf(out, cap, "%s", login[0] != '\0' ? login : "?");
}

/* Why a session ended, as the person understands it. */
static const char *closed_why(const char *reason)
{
	if (strcmp(reason, "lock") == 0)
		return _("vault closed at the end of the appointment");
	if (strcmp(reason, "timeout") == 0)
		return _("vault closed after a time without use");
	if (strcmp(reason, "agent_stop") == 0)
		return _("vault closed when Sesame stopped");
	if (strcmp(reason, "withdrawn") == 0)
		return _("vault closed for the withdrawal");
	return _("vault closed");
}

/* Phrases that name the service: "logged in to CAF"; -1 for another event. */
static int service_phrase(const char *event, const char *service, char *out, size_t cap)
{
	if (strcmp(event, "credential_added") == 0)
		snprintf(out, cap, _("login to %s recorded"), service);
	else if (strcmp(event, "credential_changed") == 0)
		snprintf(out, cap, _("login to %s changed"), service);
	else if (strcmp(event, "credential_removed") == 0)
		snprintf(out, cap, _("login to %s removed"), service);
	else if (strcmp(event, "login_started") == 0)
		snprintf(out, cap, _("login to %s asked for"), service);
	else if (strcmp(event, "browser_started") == 0)
		snprintf(out, cap, _("browser started for %s"), service);
	else if (strcmp(event, "login_filled") == 0)
		snprintf(out, cap, _("logged in to %s"), service);
	else if (strcmp(event, "login_failed") == 0)
		snprintf(out, cap, _("login to %s did not complete"), service);
	else
		return -1;
	return 0;
}

static const char *plain_phrase(const char *event)
{
	static const struct {
		const char *event, *text;
	} phrases[] = {
	    {"installation_created", N_("Sesame installed")},
	    {"user_enrolled", N_("vault created")},
	    {"pin_ok", N_("right PIN")},
	    {"vault_blocked", N_("vault blocked: too many wrong PINs")},
	    {"recovery_used", N_("vault opened again with the recovery sheet")},
	    {"pin_changed", N_("PIN changed")},
	    {"session_opened", N_("vault opened")},
	    {"export", N_("logins exported")},
	    {"user_withdrawn", N_("withdrawal: vault destroyed")},
	    {"agent_started", N_("Sesame started")},
	    {"agent_stopped", N_("Sesame stopped")},
	    {"log_recovered", N_("log repaired after a crash")},
	};

	for (size_t i = 0; i < sizeof(phrases) / sizeof(phrases[0]); i++)
		if (strcmp(event, phrases[i].event) == 0)
			return _(phrases[i].text);
	return NULL;
}

/* The outcome, when it is not plain success, after the phrase. */
static const char *outcome_words(const char *outcome)
{
	if (strcmp(outcome, "intent") == 0)
		return _("asked for");
	if (strcmp(outcome, "refused") == 0)
		return _("refused");
	if (strcmp(outcome, "failed") == 0)
		return _("failed");
	if (strcmp(outcome, "undone") == 0)
		return _("undone");
	if (strcmp(outcome, "anomaly") == 0)
		return _("stopped: something unexpected in the page");
	return NULL;
}

void words_what(const struct audit_record *r, char *out, size_t cap)
{
	const char *fmt, *how;
	char base[WORDS_MAX];

	if (strcmp(r->event, "pin_wrong") == 0 && r->attempts_left >= 0)
		snprintf(base, sizeof(base),
			 ngettext("wrong PIN (%d attempt left)", "wrong PIN (%d attempts left)",
				  (unsigned long)r->attempts_left),
			 r->attempts_left);
	else if (strcmp(r->event, "pin_wrong") == 0)
		snprintf(base, sizeof(base), "%s", _("wrong PIN"));
	else if (strcmp(r->event, "session_closed") == 0)
		snprintf(base, sizeof(base), "%s", closed_why(r->reason));
	else if (service_phrase(r->event, r->service[0] ? r->service : "?", base, sizeof(base)) ==
		 0)
		;
	else if ((fmt = plain_phrase(r->event)) != NULL)
		snprintf(base, sizeof(base), "%s", fmt);
	else
		snprintf(base, sizeof(base), "%s", r->event);
	/* a closed session, a wrong PIN and a blocked vault say their outcome already */
	how = strcmp(r->event, "session_closed") == 0 || strcmp(r->event, "pin_wrong") == 0 ||
		      strcmp(r->event, "vault_blocked") == 0
		  ? NULL
		  : outcome_words(r->outcome);
	if (how != NULL)
		/* TRANSLATORS: what happened, then its outcome: "vault created (failed)" */
		snprintf(out, cap, _("%s (%s)"), base, how);
	else
		snprintf(out, cap, "%s", base);
}

void words_plain(FILE *f, const char *s)
{
	size_t len = strlen(s);

	for (size_t i = 0, n; i < len; i += n) {
		n = text_utf8_next((const uint8_t *)s + i, len - i);
		if (n == 0 || text_char_unsafe((const uint8_t *)s + i, n)) {
			fputc('?', f);
			n = n == 0 ? 1 : n;
		} else {
			fwrite(s + i, 1, n, f);
		}
	}
}

void words_html(FILE *f, const char *s)
{
	size_t len = strlen(s);

	for (size_t i = 0, n; i < len; i += n) {
		n = text_utf8_next((const uint8_t *)s + i, len - i);
		if (n == 1 && s[i] == '\n') { /* white space in a page; a receipt's code keeps it */
			fputc('\n', f);
		} else if (n == 0 || text_char_unsafe((const uint8_t *)s + i, n)) {
			fputc('?', f);
			n = n == 0 ? 1 : n;
		} else if (s[i] == '<') {
			fputs("&lt;", f);
		} else if (s[i] == '>') {
			fputs("&gt;", f);
		} else if (s[i] == '&') {
			fputs("&amp;", f);
		} else if (s[i] == '"') {
			fputs("&quot;", f);
		} else if (s[i] == '\'') {
			fputs("&#39;", f);
		} else {
			fwrite(s + i, 1, n, f);
		}
	}
}

/* --- names --- */

struct name {
	char name[VAULT_NAME_MAX + 1]; /* "" until the agent names it */
	int withdrawn;
};

struct words_names {
	GHashTable *by_id; /* id -> struct name */
};

struct words_names *words_names_new(void)
{
	struct words_names *n = g_new0(struct words_names, 1);

	n->by_id = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	return n;
}

void words_names_free(struct words_names *n)
{
	if (n == NULL)
		return;
	g_hash_table_destroy(n->by_id);
	g_free(n);
}

void words_names_want(struct words_names *n, const char *id)
{
	if (strlen(id) != VAULT_USER_ID_HEX - 1 || !text_hex_lower(id, strlen(id)) ||
	    g_hash_table_contains(n->by_id, id))
		return;
	g_hash_table_insert(n->by_id, g_strdup(id), g_new0(struct name, 1));
}

/* One page's names into the table; -1 with why when the agent refused. */
static int names_take(struct words_names *n, const cJSON *reply, char *why, size_t cap)
{
	const cJSON *e;

	if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(reply, "ok"))) {
		const char *reason = proto_string(reply, "reason");
		snprintf(why, cap, "%s",
			 reason != NULL && strcmp(reason, "not_auditor") == 0
			     ? _("only members of the auditor group (auditor_group in sesame.conf) "
				 "may read people's names")
			     : _("the agent refused to give people's names"));
		return -1;
	}
	cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(reply, "names"))
	{
		const char *id = proto_string(e, "user"), *name = proto_string(e, "name");
		struct name *slot = id != NULL ? g_hash_table_lookup(n->by_id, id) : NULL;
		if (slot == NULL || name == NULL)
			continue;
		snprintf(slot->name, sizeof(slot->name), "%s", name);
		slot->withdrawn = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(e, "withdrawn"));
	}
	return 0;
}

static int names_page(struct words_names *n, const struct sesame_home *h, cJSON *ids, char *why,
		      size_t cap)
{
	cJSON *req = cJSON_CreateObject(), *reply = NULL;
	int ret;

	cJSON_AddStringToObject(req, "op", "names");
	cJSON_AddItemToObject(req, "users", ids);
	if (client_call(h, req, &reply) != 0) {
		snprintf(why, cap, "%s", _("the agent could not be reached"));
		return -1;
	}
	ret = names_take(n, reply, why, cap);
	cJSON_Delete(reply);
	return ret;
}

int words_names_fetch(struct words_names *n, char *why, size_t cap)
{
	struct sesame_home h;
	GHashTableIter it;
	gpointer key;
	cJSON *ids = NULL;
	int ret = 0;

	if (g_hash_table_size(n->by_id) == 0)
		return 0;
	if (cli_home(&h) != 0) {
		snprintf(why, cap, "%s", _("the installation could not be found"));
		return -1;
	}
	g_hash_table_iter_init(&it, n->by_id);
	while (ret == 0 && g_hash_table_iter_next(&it, &key, NULL)) {
		if (ids == NULL)
			ids = cJSON_CreateArray();
		cJSON_AddItemToArray(ids, cJSON_CreateString(key));
		if (cJSON_GetArraySize(ids) == NAMES_PAGE) {
			ret = names_page(n, &h, ids, why, cap);
			ids = NULL;
		}
	}
	if (ret == 0 && ids != NULL)
		return names_page(n, &h, ids, why, cap);
	cJSON_Delete(ids);
	return ret;
}

const char *words_names_get(const struct words_names *n, const char *id, int *withdrawn)
{
	const struct name *slot = n != NULL ? g_hash_table_lookup(n->by_id, id) : NULL;

	if (withdrawn != NULL)
		*withdrawn = slot != NULL && slot->withdrawn;
	return slot != NULL ? slot->name : "";
}
