/* The arguments of sesame audit show's filters, turned into what the log holds: times into
 * RFC 3339 UTC (the form every record's time has, so that they compare as strings), a person's
 * name into their id (asked of the agent, which alone can read the names), events checked
 * against the list of events. Each wrong argument is reported here, naming it. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "audit-filter.h"
#include "text.h"

#define SECONDS_PER_DAY 86400

/* The words for today and yesterday, in the languages Sesame speaks; days back from today. */
static const struct {
	const char *word;
	int days_back;
} day_words[] = {
    {"today", 0}, {"aujourd'hui", 0}, {"aujourd’hui", 0}, {"yesterday", 1}, {"hier", 1},
};

/* Reads exactly n digits at *s into *v and moves past them. */
static int digits(const char **s, int n, int *v)
{
	*v = 0;
	for (int i = 0; i < n; i++, (*s)++) {
		if (!isdigit((unsigned char)**s))
			return -1;
		*v = *v * 10 + (**s - '0');
	}
	return 0;
}

/* YYYY-MM-DD or DD/MM/YYYY, into tm's date. */
static int parse_date(const char **s, struct tm *tm)
{
	int y, m, d;

	if (isdigit((unsigned char)(*s)[0]) && isdigit((unsigned char)(*s)[1]) && (*s)[2] == '/') {
		if (digits(s, 2, &d) != 0 || *(*s)++ != '/' || digits(s, 2, &m) != 0 ||
		    *(*s)++ != '/' || digits(s, 4, &y) != 0)
			return -1;
	} else if (digits(s, 4, &y) != 0 || *(*s)++ != '-' || digits(s, 2, &m) != 0 ||
		   *(*s)++ != '-' || digits(s, 2, &d) != 0) {
		return -1;
	}
	if (y < 1970 || m < 1 || m > 12 || d < 1 || d > 31)
		return -1;
	tm->tm_year = y - 1900, tm->tm_mon = m - 1, tm->tm_mday = d;
	return 0;
}

/* HH:MM or HH:MM:SS, into tm's time of day. */
static int parse_clock(const char **s, struct tm *tm)
{
	int h, mi, sec = 0;

	if (digits(s, 2, &h) != 0 || *(*s)++ != ':' || digits(s, 2, &mi) != 0)
		return -1;
	if (**s == ':' && ((*s)++, digits(s, 2, &sec) != 0))
		return -1;
	if (h > 23 || mi > 59 || sec > 59)
		return -1;
	tm->tm_hour = h, tm->tm_min = mi, tm->tm_sec = sec;
	return 0;
}

/* Z, +HH:MM, +HHMM or +HH (or -): the offset east of UTC in seconds. */
static int parse_offset(const char *s, long *east)
{
	int sign = s[0] == '-' ? -1 : 1, h, m = 0;

	if (strcmp(s, "Z") == 0 || strcmp(s, "z") == 0) {
		*east = 0;
		return 0;
	}
	if (s[0] != '+' && s[0] != '-')
		return -1;
	s++;
	if (digits(&s, 2, &h) != 0)
		return -1;
	if (*s == ':')
		s++;
	if (*s != '\0' && digits(&s, 2, &m) != 0)
		return -1;
	if (*s != '\0' || h > 23 || m > 59)
		return -1;
	*east = sign * (h * 3600L + m * 60L);
	return 0;
}

/* A local calendar time, or one with an offset, into Unix seconds; -1 when it does not exist
 * (the 31st of February, for one). */
static int tm_to_time(struct tm *tm, int has_offset, long east, time_t *t)
{
	struct tm check = *tm;

	if (has_offset) {
		*t = timegm(tm) - east;
	} else {
		tm->tm_isdst = -1;
		*t = mktime(tm);
	}
	return *t == (time_t)-1 || tm->tm_mday != check.tm_mday || tm->tm_mon != check.tm_mon ? -1
											      : 0;
}

/* Midnight, local time, days_back days before today. */
static time_t local_midnight(int days_back)
{
	time_t now = time(NULL);
	struct tm tm;

	localtime_r(&now, &tm);
	tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
	tm.tm_mday -= days_back;
	tm.tm_isdst = -1;
	return mktime(&tm);
}

static int parse_time(const char *arg, int until, time_t *t)
{
	struct tm tm = {0};
	const char *s = arg;
	long east = 0;
	int has_offset = 0, date_only;

	for (size_t i = 0; i < sizeof(day_words) / sizeof(day_words[0]); i++)
		if (strcasecmp(arg, day_words[i].word) == 0) {
			*t = local_midnight(day_words[i].days_back - (until ? 1 : 0));
			return 0;
		}
	if (parse_date(&s, &tm) != 0)
		return -1;
	date_only = *s == '\0';
	if (!date_only) {
		if (*s != 'T' && *s != 't' && *s != ' ')
			return -1;
		s++;
		if (parse_clock(&s, &tm) != 0)
			return -1;
		if (*s != '\0' && (has_offset = 1, parse_offset(s, &east) != 0))
			return -1;
	}
	if (tm_to_time(&tm, has_offset, east, t) != 0)
		return -1;
	if (date_only && until) { /* --until a day takes in the whole of that day */
		tm.tm_mday++;
		tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
		tm.tm_isdst = -1;
		*t = mktime(&tm);
	}
	return 0;
}

int audit_filter_time(const char *option, const char *arg, int until, char out[AUDIT_TIME_LEN + 1])
{
	time_t t;

	if (parse_time(arg, until, &t) != 0 || t < 0 || audit_time_format((int64_t)t, out) != 0) {
		cli_error(_("%s %s: not a date or time; write 2026-11-30, 30/11/2026, "
			    "\"2026-11-30 09:13\", 2026-11-30T09:13:00+01:00, today or "
			    "yesterday (local time unless an offset is given)"),
			  option, arg);
		return -1;
	}
	return 0;
}

int audit_filter_event(const char *arg)
{
	char list[1024] = "";
	size_t len = 0;

	for (size_t i = 0; audit_event_names[i] != NULL; i++) {
		if (strcmp(arg, audit_event_names[i]) == 0)
			return 0;
		len += (size_t)snprintf(list + len, sizeof(list) - len, "%s%s", i ? ", " : "",
					audit_event_names[i]);
		if (len >= sizeof(list))
			len = sizeof(list) - 1;
	}
	cli_error(_("--event %s: no such event; the events are: %s"), arg, list);
	return -1;
}

/* A person's id from the agent's list of enrolled people; 1 when several share the name. */
static int user_from_list(const cJSON *reply, const char *name, char id[VAULT_USER_ID_HEX])
{
	const cJSON *u;
	int found = 0;

	cJSON_ArrayForEach(u, cJSON_GetObjectItemCaseSensitive(reply, "users"))
	{
		const char *n = proto_string(u, "name"), *i = proto_string(u, "user");
		if (n == NULL || i == NULL || strcmp(n, name) != 0 ||
		    strlen(i) != VAULT_USER_ID_HEX - 1)
			continue;
		snprintf(id, VAULT_USER_ID_HEX, "%s", i);
		found++;
	}
	return found;
}

int audit_filter_user(const char *arg, char id[VAULT_USER_ID_HEX])
{
	struct sesame_home home;
	cJSON *req, *reply = NULL;
	int found;

	if (strlen(arg) == VAULT_USER_ID_HEX - 1 && text_hex_lower(arg, strlen(arg))) {
		snprintf(id, VAULT_USER_ID_HEX, "%s", arg);
		return 0;
	}
	if (cli_home(&home) != 0 || (req = cJSON_CreateObject()) == NULL)
		return -1;
	cJSON_AddStringToObject(req, "op", "users");
	if (client_call(&home, req, &reply) != 0) {
		cli_error(_("--user %s: the agent is needed to find a person by name; give the "
			    "person's id (sesame list) instead"),
			  arg);
		return -1;
	}
	found = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(reply, "ok"))
		    ? user_from_list(reply, arg, id)
		    : 0;
	cJSON_Delete(reply);
	if (found == 1)
		return 0;
	cli_error(found == 0 ? _("--user %s: no enrolled person has this name (sesame list shows "
				 "them; a withdrawn person is found by id only)")
			     : _("--user %s: several people have this name: give the id "
				 "(sesame list)"),
		  arg);
	return -1;
}
