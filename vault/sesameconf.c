#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sesameconf.h"
#include "error.h"

void config_default(struct sesame_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	vault_policy_default(&cfg->policy);
	cfg->device_secret = DEVSECRET_AUTO;
	cfg->session_max_seconds = CONFIG_SESSION_MAX_DEFAULT;
	cfg->session_idle_seconds = CONFIG_SESSION_IDLE_DEFAULT;
	memcpy(cfg->worker_group, "sesame-workers", sizeof("sesame-workers"));
	memcpy(cfg->browser, CONFIG_BROWSER_DEFAULT, sizeof(CONFIG_BROWSER_DEFAULT));
	memcpy(cfg->browser_user, CONFIG_BROWSER_USER_DEFAULT, sizeof(CONFIG_BROWSER_USER_DEFAULT));
	memcpy(cfg->browser_socket, CONFIG_BROWSER_SOCKET_DEFAULT,
	       sizeof(CONFIG_BROWSER_SOCKET_DEFAULT));
	cfg->audit_people_per_day = CONFIG_PEOPLE_PER_DAY_DEFAULT;
	cfg->audit_long_session_seconds = CONFIG_LONG_SESSION_DEFAULT;
	cfg->audit_consent_days = CONFIG_CONSENT_DAYS_DEFAULT;
}

int config_hours_open(const struct config_hours *h, unsigned day, unsigned minute)
{
	if (!h->set)
		return 1;
	return day >= h->first_day && day <= h->last_day && minute >= h->open_min &&
	       minute < h->close_min;
}

/* "HH:MM" into minutes after midnight (24:00 allowed, as the end of the day). */
static int parse_clock(const char *v, unsigned *out)
{
	unsigned h, m;

	if (strlen(v) != 5 || v[2] != ':')
		return VAULT_E_FORMAT;
	for (int i = 0; i < 5; i++)
		if (i != 2 && (v[i] < '0' || v[i] > '9'))
			return VAULT_E_FORMAT;
	h = (unsigned)(v[0] - '0') * 10 + (unsigned)(v[1] - '0');
	m = (unsigned)(v[3] - '0') * 10 + (unsigned)(v[4] - '0');
	if (m > 59 || h > 24 || (h == 24 && m != 0))
		return VAULT_E_FORMAT;
	*out = h * 60 + m;
	return VAULT_OK;
}

/* A day's three-letter name, English or French, into 0 (Monday) to 6. */
static int parse_day(const char *v, size_t len, unsigned *out)
{
	static const char *const days[2][7] = {
	    {"mon", "tue", "wed", "thu", "fri", "sat", "sun"},
	    {"lun", "mar", "mer", "jeu", "ven", "sam", "dim"},
	};

	for (unsigned i = 0; i < 7; i++)
		for (int l = 0; l < 2; l++)
			if (len == 3 && strncmp(v, days[l][i], 3) == 0) {
				*out = i;
				return VAULT_OK;
			}
	return VAULT_E_FORMAT;
}

/* [DAY-DAY ]HH:MM-HH:MM, opening before closing: "mon-fri 08:30-18:00", "08:00-20:00". */
static int parse_hours(const char *v, struct config_hours *out)
{
	struct config_hours h = {.set = 1, .first_day = 0, .last_day = 6};
	char open[6], close[6];
	const char *sp = strchr(v, ' ');

	if (sp != NULL) {
		if (sp - v != 7 || v[3] != '-' || parse_day(v, 3, &h.first_day) != VAULT_OK ||
		    parse_day(v + 4, 3, &h.last_day) != VAULT_OK || h.first_day > h.last_day)
			return VAULT_E_FORMAT;
		v = sp + 1;
	}
	if (strlen(v) != 11 || v[5] != '-')
		return VAULT_E_FORMAT;
	memcpy(open, v, 5), open[5] = '\0';
	memcpy(close, v + 6, 5), close[5] = '\0';
	if (parse_clock(open, &h.open_min) != VAULT_OK ||
	    parse_clock(close, &h.close_min) != VAULT_OK || h.open_min >= h.close_min)
		return VAULT_E_FORMAT;
	*out = h;
	return VAULT_OK;
}

/* A group name as useradd accepts it: letters, digits, '_', '-', '.', not starting with '-'. */
static int parse_group(const char *v, char out[CONFIG_GROUP_MAX])
{
	size_t len = strlen(v);

	if (len == 0 || len >= CONFIG_GROUP_MAX || v[0] == '-')
		return VAULT_E_FORMAT;
	for (const char *p = v; *p != '\0'; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '_' || *p == '-' || *p == '.'))
			return VAULT_E_FORMAT;
	memcpy(out, v, len + 1);
	return VAULT_OK;
}

/* An absolute path that fits CONFIG_PATH_MAX. */
static int parse_path(const char *v, char out[CONFIG_PATH_MAX])
{
	if (v[0] != '/' || strlen(v) >= CONFIG_PATH_MAX)
		return VAULT_E_FORMAT;
	memcpy(out, v, strlen(v) + 1);
	return VAULT_OK;
}

static char *trim(char *s)
{
	char *end;

	while (*s == ' ' || *s == '\t')
		s++;
	end = s + strlen(s);
	while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
		*--end = '\0';
	return s;
}

static int parse_uint(const char *v, unsigned long min, unsigned long max, uint32_t *out)
{
	unsigned long n = 0;

	if (*v == '\0' || strlen(v) > 10)
		return VAULT_E_FORMAT;
	for (const char *p = v; *p != '\0'; p++) {
		if (*p < '0' || *p > '9')
			return VAULT_E_FORMAT;
		n = n * 10 + (unsigned long)(*p - '0');
	}
	if (n < min || n > max)
		return VAULT_E_FORMAT;
	*out = (uint32_t)n;
	return VAULT_OK;
}

static int parse_backend(const char *v, enum devsecret_backend *out)
{
	if (strcmp(v, "auto") == 0)
		*out = DEVSECRET_AUTO;
	else if (strcmp(v, "secret-service") == 0)
		*out = DEVSECRET_SECRET_SERVICE;
	else if (strcmp(v, "file") == 0)
		*out = DEVSECRET_FILE;
	else
		return VAULT_E_FORMAT;
	return VAULT_OK;
}

/* French-speaking administrators write oui and non: both languages are accepted. */
static int parse_bool(const char *v, int *out)
{
	if (strcmp(v, "yes") == 0 || strcmp(v, "oui") == 0)
		*out = 1;
	else if (strcmp(v, "no") == 0 || strcmp(v, "non") == 0)
		*out = 0;
	else
		return VAULT_E_FORMAT;
	return VAULT_OK;
}

/* Every key, what it takes, and for numbers their bounds: refusals and suggestions read it. */
static const struct config_key {
	const char *key;
	enum config_kind kind;
	unsigned long min, max;
} config_keys[] = {
    {"device_secret", CONFIG_KIND_BACKEND, 0, 0},
    {"device_secret_file", CONFIG_KIND_PATH, 0, 0},
    {"browser", CONFIG_KIND_PATH, 0, 0},
    {"browser_socket", CONFIG_KIND_PATH, 0, 0},
    {"browser_flags", CONFIG_KIND_TEXT, 0, CONFIG_BROWSER_FLAGS_MAX - 1},
    {"worker_group", CONFIG_KIND_NAME, 0, 0},
    {"browser_user", CONFIG_KIND_NAME, 0, 0},
    {"auditor_group", CONFIG_KIND_NAME, 0, 0},
    {"opening_hours", CONFIG_KIND_HOURS, 0, 0},
    {"audit_people_per_day", CONFIG_KIND_NUMBER, 1, CONFIG_PEOPLE_PER_DAY_MAX},
    {"audit_long_session_seconds", CONFIG_KIND_NUMBER, CONFIG_SESSION_SECONDS_MIN,
     CONFIG_SESSION_SECONDS_MAX},
    {"audit_consent_days", CONFIG_KIND_NUMBER, 0, CONFIG_CONSENT_DAYS_MAX},
    {"allow_http_loopback", CONFIG_KIND_BOOL, 0, 0},
    {"session_max_seconds", CONFIG_KIND_NUMBER, CONFIG_SESSION_SECONDS_MIN,
     CONFIG_SESSION_SECONDS_MAX},
    {"session_idle_seconds", CONFIG_KIND_NUMBER, CONFIG_SESSION_SECONDS_MIN,
     CONFIG_SESSION_SECONDS_MAX},
    {"pin_min_length", CONFIG_KIND_NUMBER, VAULT_PIN_MIN_FLOOR, VAULT_PIN_MAX},
    {"pin_retries", CONFIG_KIND_NUMBER, VAULT_RETRY_MIN, VAULT_RETRY_MAX},
    {"kdf_passes", CONFIG_KIND_NUMBER, VAULT_KDF_OPS_MIN, VAULT_KDF_OPS_MAX},
    {"kdf_memory_mib", CONFIG_KIND_NUMBER, VAULT_KDF_MEM_KIB_MIN / 1024,
     VAULT_KDF_MEM_KIB_MAX / 1024},
};

#define CONFIG_KEYS_COUNT (sizeof(config_keys) / sizeof(config_keys[0]))
#define SUGGEST_DISTANCE_MAX 3 /* edits beyond which a key is not taken for a typo */

/* Edit distance (Levenshtein) of two short keys, capped at CONFIG_KEY_MAX. */
static size_t distance(const char *a, const char *b)
{
	size_t la = strnlen(a, CONFIG_KEY_MAX - 1), lb = strnlen(b, CONFIG_KEY_MAX - 1);
	size_t prev[CONFIG_KEY_MAX], cur[CONFIG_KEY_MAX];

	for (size_t j = 0; j <= lb; j++)
		prev[j] = j;
	for (size_t i = 1; i <= la; i++) {
		cur[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t sub = prev[j - 1] + (a[i - 1] != b[j - 1]);
			size_t del = prev[j] + 1, ins = cur[j - 1] + 1;
			cur[j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
		}
		memcpy(prev, cur, (lb + 1) * sizeof(size_t));
	}
	return prev[lb];
}

static const char *nearest_key(const char *key)
{
	size_t best = SUGGEST_DISTANCE_MAX + 1;
	const char *found = NULL;

	for (size_t i = 0; i < CONFIG_KEYS_COUNT; i++) {
		size_t d = distance(key, config_keys[i].key);
		if (d < best) {
			best = d;
			found = config_keys[i].key;
		}
	}
	return found;
}

static int set_value(struct sesame_config *cfg, const char *key, const char *v)
{
	struct vault_policy *p = &cfg->policy;
	uint32_t n = 0;
	int ret;

	if (strcmp(key, "device_secret") == 0)
		return parse_backend(v, &cfg->device_secret);
	if (strcmp(key, "device_secret_file") == 0)
		return parse_path(v, cfg->device_secret_file);
	if (strcmp(key, "browser") == 0)
		return parse_path(v, cfg->browser);
	if (strcmp(key, "browser_socket") == 0)
		return parse_path(v, cfg->browser_socket);
	if (strcmp(key, "browser_flags") == 0) {
		if (strlen(v) >= sizeof(cfg->browser_flags))
			return VAULT_E_FORMAT;
		memcpy(cfg->browser_flags, v, strlen(v) + 1);
		return VAULT_OK;
	}
	if (strcmp(key, "worker_group") == 0)
		return parse_group(v, cfg->worker_group);
	if (strcmp(key, "browser_user") == 0)
		return parse_group(v, cfg->browser_user);
	if (strcmp(key, "auditor_group") == 0)
		return parse_group(v, cfg->auditor_group);
	if (strcmp(key, "opening_hours") == 0)
		return parse_hours(v, &cfg->opening_hours);
	if (strcmp(key, "audit_people_per_day") == 0)
		return parse_uint(v, 1, CONFIG_PEOPLE_PER_DAY_MAX, &cfg->audit_people_per_day);
	if (strcmp(key, "audit_long_session_seconds") == 0)
		return parse_uint(v, CONFIG_SESSION_SECONDS_MIN, CONFIG_SESSION_SECONDS_MAX,
				  &cfg->audit_long_session_seconds);
	if (strcmp(key, "audit_consent_days") == 0)
		return parse_uint(v, 0, CONFIG_CONSENT_DAYS_MAX, &cfg->audit_consent_days);
	if (strcmp(key, "allow_http_loopback") == 0)
		return parse_bool(v, &cfg->allow_http_loopback);
	if (strcmp(key, "session_max_seconds") == 0)
		return parse_uint(v, CONFIG_SESSION_SECONDS_MIN, CONFIG_SESSION_SECONDS_MAX,
				  &cfg->session_max_seconds);
	if (strcmp(key, "session_idle_seconds") == 0)
		return parse_uint(v, CONFIG_SESSION_SECONDS_MIN, CONFIG_SESSION_SECONDS_MAX,
				  &cfg->session_idle_seconds);
	/* n is stored only once it parsed: a refused line leaves the policy as it was. */
	if (strcmp(key, "pin_min_length") == 0) {
		if ((ret = parse_uint(v, VAULT_PIN_MIN_FLOOR, VAULT_PIN_MAX, &n)) == VAULT_OK)
			p->pin_min_length = n;
	} else if (strcmp(key, "pin_retries") == 0) {
		if ((ret = parse_uint(v, VAULT_RETRY_MIN, VAULT_RETRY_MAX, &n)) == VAULT_OK)
			p->retry_limit = n;
	} else if (strcmp(key, "kdf_passes") == 0) {
		ret = parse_uint(v, VAULT_KDF_OPS_MIN, VAULT_KDF_OPS_MAX, &p->kdf_ops);
	} else {
		ret = parse_uint(v, VAULT_KDF_MEM_KIB_MIN / 1024, VAULT_KDF_MEM_KIB_MAX / 1024, &n);
		if (ret == VAULT_OK)
			p->kdf_mem_kib = n * 1024;
	}
	return ret;
}

/* A known key's value, or the refusal's details in cfg: which key, what it takes. */
static int set_key(struct sesame_config *cfg, const char *key, const char *v)
{
	int ret;

	snprintf(cfg->problem_key, sizeof(cfg->problem_key), "%s", key);
	for (size_t i = 0; i < CONFIG_KEYS_COUNT; i++) {
		if (strcmp(key, config_keys[i].key) != 0)
			continue;
		if ((ret = set_value(cfg, key, v)) != VAULT_OK) {
			cfg->problem = CONFIG_PROBLEM_VALUE;
			cfg->problem_kind = config_keys[i].kind;
			cfg->problem_min = config_keys[i].min;
			cfg->problem_max = config_keys[i].max;
		}
		return ret;
	}
	cfg->problem = CONFIG_PROBLEM_KEY;
	cfg->suggestion = nearest_key(key);
	return VAULT_E_FORMAT;
}

static int parse_line(struct sesame_config *cfg, char *line)
{
	char *eq, *key;

	if ((eq = strchr(line, '#')) != NULL)
		*eq = '\0';
	key = trim(line);
	if (*key == '\0')
		return VAULT_OK;
	if ((eq = strchr(key, '=')) == NULL) {
		cfg->problem = CONFIG_PROBLEM_SYNTAX;
		return VAULT_E_FORMAT;
	}
	*eq = '\0';
	return set_key(cfg, trim(key), trim(eq + 1));
}

int config_parse(const char *buf, size_t len, struct sesame_config *cfg)
{
	char line[CONFIG_LINE_MAX + 1];
	size_t start = 0;
	int ret = VAULT_OK;

	cfg->line = 0;
	cfg->problem = CONFIG_PROBLEM_NONE;
	cfg->suggestion = NULL;
	if (len > CONFIG_FILE_MAX)
		return VAULT_E_TOOLONG;
	while (start < len && ret == VAULT_OK) {
		const char *nl = memchr(buf + start, '\n', len - start);
		size_t end = nl != NULL ? (size_t)(nl - buf) : len;
		cfg->line++;
		if (end - start > CONFIG_LINE_MAX ||
		    memchr(buf + start, '\0', end - start) != NULL) {
			cfg->problem = CONFIG_PROBLEM_SYNTAX;
			return VAULT_E_FORMAT;
		}
		memcpy(line, buf + start, end - start);
		line[end - start] = '\0';
		ret = parse_line(cfg, line);
		start = end + 1;
	}
	if (ret == VAULT_OK)
		cfg->line = 0;
	return ret == VAULT_OK ? vault_policy_check(&cfg->policy) : ret;
}
