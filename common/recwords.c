/* A record of the log in plain words (recwords.h). */
#include <libintl.h>
#include <locale.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "proto.h"
#include "recwords.h"

#define _(s) gettext(s)
#define N_(s) (s)

extern int _nl_msg_cat_cntr; /* GNU gettext: bumped, cached translations are looked up again */

static const char *lang_now = NULL;

int words_lang_use(const char *lang)
{
	const char *cur;

	if (strcmp(lang, "fr") != 0 && strcmp(lang, "en") != 0)
		return -1;
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

void words_row(const struct audit_record *r, struct words_row *row)
{
	row->seq = (unsigned long long)r->seq;
	words_when(r->time, row->when, sizeof(row->when));
	words_worker(r->worker_uid, r->worker_login, row->who, sizeof(row->who));
	words_what(r, row->what, sizeof(row->what));
	snprintf(row->why, sizeof(row->why), "%s", r->purpose);
}

struct audit_record *words_history_records(const cJSON *reply, size_t *n)
{
	const cJSON *list = cJSON_GetObjectItemCaseSensitive(reply, "records"), *l;
	struct audit_record *recs = calloc((size_t)cJSON_GetArraySize(list) + 1, sizeof(*recs));

	*n = 0;
	if (recs == NULL)
		return NULL;
	cJSON_ArrayForEach(l, list)
	{
		if (cJSON_IsString(l) &&
		    audit_record_parse((const uint8_t *)l->valuestring, strlen(l->valuestring),
				       &recs[*n]) == VAULT_OK)
			(*n)++;
	}
	return recs;
}

#define PROOF_PREFIX "c2sp.org/tlog-proof@v1\nextra "

int words_proof_record(const char *proof, struct audit_record *r)
{
	const char *b64 = proof + strlen(PROOF_PREFIX), *end;
	uint8_t line[AUDIT_LINE_MAX];
	size_t len;

	if (strncmp(proof, PROOF_PREFIX, strlen(PROOF_PREFIX)) != 0 ||
	    (end = strchr(b64, '\n')) == NULL ||
	    sodium_base642bin(line, sizeof(line), b64, (size_t)(end - b64), NULL, &len, NULL,
			      sodium_base64_VARIANT_ORIGINAL) != 0)
		return -1;
	return audit_record_parse(line, len, r) == VAULT_OK ? 0 : -1;
}
