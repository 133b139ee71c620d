/* sesame.conf: the one configuration file an administrator edits. A parser from a buffer to a
 * struct, so it can be fuzzed; the caller finds and reads the file. */
#ifndef SESAME_VAULT_SESAMECONF_H
#define SESAME_VAULT_SESAMECONF_H

#include <stddef.h>

#include "devsecret.h"
#include "vault.h"

#define CONFIG_FILE_MAX 65536
#define CONFIG_LINE_MAX 1024
#define CONFIG_PATH_MAX 1024
#define CONFIG_GROUP_MAX 64
#define CONFIG_SESSION_MAX_DEFAULT 1800 /* an appointment: at most 30 minutes */
#define CONFIG_SESSION_IDLE_DEFAULT 600 /* 10 minutes without use end it sooner */
#define CONFIG_SESSION_SECONDS_MIN 1
#define CONFIG_SESSION_SECONDS_MAX 86400
#define CONFIG_BROWSER_DEFAULT "/usr/bin/chromium"
#define CONFIG_BROWSER_USER_DEFAULT "sesame-browser"
#define CONFIG_BROWSER_SOCKET_DEFAULT "/run/sesame-browser.sock"
#define CONFIG_BROWSER_FLAGS_MAX 512
#define CONFIG_KEY_MAX 64 /* the longest key a refusal repeats; longer ones are cut */
#define CONFIG_PEOPLE_PER_DAY_DEFAULT 20 /* audit report: more people in a day stand out */
#define CONFIG_PEOPLE_PER_DAY_MAX 100000
#define CONFIG_LONG_SESSION_DEFAULT 1200 /* audit report: sessions this long stand out */
#define CONFIG_CONSENT_DAYS_DEFAULT 30	 /* audit report: consents ending this soon stand out */
#define CONFIG_CONSENT_DAYS_MAX 3660

/* What kind of value a key takes, for a refusal to say what is allowed. */
enum config_kind {
	CONFIG_KIND_NONE = 0,
	CONFIG_KIND_NUMBER,  /* a whole number from problem_min to problem_max */
	CONFIG_KIND_BOOL,    /* yes or no (oui or non) */
	CONFIG_KIND_PATH,    /* an absolute path */
	CONFIG_KIND_NAME,    /* a group or account name */
	CONFIG_KIND_BACKEND, /* auto, secret-service or file */
	CONFIG_KIND_TEXT,    /* text of at most problem_max bytes */
	CONFIG_KIND_HOURS,   /* opening hours: [DAY-DAY ]HH:MM-HH:MM */
};

/* Opening hours (opening_hours = mon-fri 08:30-18:00): days are 0 (Monday) to 6 (Sunday),
 * times minutes after midnight, open <= t < close. set is 0 when the key is absent. */
struct config_hours {
	int set;
	unsigned first_day, last_day;
	unsigned open_min, close_min;
};

/* Whether a local time (day 0 = Monday, minutes after midnight) is within the hours; always
 * 1 when no hours are set. */
int config_hours_open(const struct config_hours *h, unsigned day, unsigned minute);

/* Why a line was refused (cfg->line > 0). */
enum config_problem {
	CONFIG_PROBLEM_NONE = 0,
	CONFIG_PROBLEM_SYNTAX, /* no "key = value", or a line too long or holding a NUL */
	CONFIG_PROBLEM_KEY,    /* an unknown key: problem_key, and the nearest known one */
	CONFIG_PROBLEM_VALUE,  /* a value the key does not take: problem_kind says what it takes */
};

struct sesame_config {
	struct vault_policy policy;
	enum devsecret_backend device_secret;
	char device_secret_file[CONFIG_PATH_MAX]; /* empty: the caller's default */
	uint32_t session_max_seconds;		  /* a session ends this long after it opened */
	uint32_t session_idle_seconds;		  /* ... or this long after its last use */
	char worker_group[CONFIG_GROUP_MAX];	  /* system mode: the group allowed to connect */
	int allow_http_loopback;       /* assisted logins may fill http pages on 127.0.0.0/8, ::1 */
	char browser[CONFIG_PATH_MAX]; /* the program the agent starts for a login */
	char browser_flags[CONFIG_BROWSER_FLAGS_MAX]; /* extra flags, checked at each login */
	char browser_user[CONFIG_GROUP_MAX];	      /* system mode: the launcher's account */
	char browser_socket[CONFIG_PATH_MAX];	      /* system mode: the launcher's socket */
	char auditor_group[CONFIG_GROUP_MAX]; /* system mode: who may read names in the log */
	struct config_hours opening_hours;    /* audit report: sessions outside stand out */
	uint32_t audit_people_per_day;	      /* audit report: a worker opening more vaults */
	uint32_t audit_long_session_seconds;  /* audit report: sessions at least this long */
	uint32_t audit_consent_days;	  /* audit report: consents ending within this many days */
	unsigned line;			  /* on error, the offending line (1-based) */
	enum config_problem problem;	  /* on error, what is wrong with it */
	char problem_key[CONFIG_KEY_MAX]; /* the key as written */
	const char *suggestion;		  /* CONFIG_PROBLEM_KEY: the nearest known key, or NULL */
	enum config_kind problem_kind;	  /* CONFIG_PROBLEM_VALUE: what the key takes */
	unsigned long problem_min, problem_max;
};

void config_default(struct sesame_config *cfg);

/* Parse "key = value" lines ('#' starts a comment) over cfg's current values. Unknown keys,
 * bad values and out-of-range numbers are errors (VAULT_E_FORMAT, cfg->line and cfg->problem
 * set, with the key, the nearest known key, and what the key takes), so a typo in a security
 * setting is never silently ignored. Booleans are yes/no or oui/non. */
int config_parse(const char *buf, size_t len, struct sesame_config *cfg);

#endif
