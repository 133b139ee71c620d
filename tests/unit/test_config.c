#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "sesameconf.h"

static int parse(const char *text, struct sesame_config *cfg)
{
	config_default(cfg);
	return config_parse(text, strlen(text), cfg);
}

static void settings_are_read(void **state)
{
	struct sesame_config cfg;
	const char *text = "# Sesame\n"
			   "device_secret = file   # no Secret Service on these machines\n"
			   "device_secret_file=/var/lib/sesame-key/device-secret\n"
			   "\n"
			   "pin_min_length = 4\r\n"
			   "pin_retries = 3\n"
			   "kdf_passes = 2\n"
			   "kdf_memory_mib = 64\n"
			   "session_max_seconds = 900\n"
			   "session_idle_seconds = 120\n"
			   "allow_http_loopback = yes\n"
			   "worker_group = cias-paris";

	(void)state;
	assert_int_equal(parse(text, &cfg), VAULT_OK);
	assert_int_equal(cfg.device_secret, DEVSECRET_FILE);
	assert_string_equal(cfg.device_secret_file, "/var/lib/sesame-key/device-secret");
	assert_int_equal(cfg.policy.pin_min_length, 4);
	assert_int_equal(cfg.policy.retry_limit, 3);
	assert_int_equal(cfg.policy.kdf_ops, 2);
	assert_int_equal(cfg.policy.kdf_mem_kib, 64 * 1024);
	assert_int_equal(cfg.session_max_seconds, 900);
	assert_int_equal(cfg.session_idle_seconds, 120);
	assert_string_equal(cfg.worker_group, "cias-paris");
	assert_int_equal(cfg.allow_http_loopback, 1);
}

static void defaults_hold_without_a_file(void **state)
{
	struct sesame_config cfg;

	(void)state;
	assert_int_equal(parse("", &cfg), VAULT_OK);
	assert_int_equal(cfg.device_secret, DEVSECRET_AUTO);
	assert_int_equal(cfg.policy.pin_min_length, VAULT_PIN_MIN_DEFAULT);
	assert_int_equal(cfg.policy.retry_limit, VAULT_RETRY_DEFAULT);
	assert_int_equal(cfg.session_max_seconds, 1800);
	assert_string_equal(cfg.worker_group, "sesame-workers");
	assert_int_equal(cfg.allow_http_loopback, 0);
}

static void report_settings_are_read(void **state)
{
	struct sesame_config cfg;
	const char *text = "auditor_group = cias-audit\n"
			   "opening_hours = lun-ven 08:30-18:00\n"
			   "audit_people_per_day = 12\n"
			   "audit_long_session_seconds = 900\n"
			   "audit_consent_days = 45\n";

	(void)state;
	assert_int_equal(parse("", &cfg), VAULT_OK);
	assert_string_equal(cfg.auditor_group, "");
	assert_int_equal(cfg.opening_hours.set, 0);
	assert_int_equal(config_hours_open(&cfg.opening_hours, 6, 23 * 60), 1);
	assert_int_equal(cfg.audit_people_per_day, CONFIG_PEOPLE_PER_DAY_DEFAULT);
	assert_int_equal(cfg.audit_consent_days, CONFIG_CONSENT_DAYS_DEFAULT);
	assert_int_equal(parse(text, &cfg), VAULT_OK);
	assert_string_equal(cfg.auditor_group, "cias-audit");
	assert_int_equal(cfg.audit_people_per_day, 12);
	assert_int_equal(cfg.audit_long_session_seconds, 900);
	assert_int_equal(cfg.audit_consent_days, 45);
	assert_int_equal(config_hours_open(&cfg.opening_hours, 0, 8 * 60 + 30), 1);
	assert_int_equal(config_hours_open(&cfg.opening_hours, 0, 8 * 60 + 29), 0);
	assert_int_equal(config_hours_open(&cfg.opening_hours, 4, 18 * 60 - 1), 1);
	assert_int_equal(config_hours_open(&cfg.opening_hours, 4, 18 * 60), 0);
	assert_int_equal(config_hours_open(&cfg.opening_hours, 5, 10 * 60), 0);
	assert_int_equal(parse("opening_hours = 07:00-24:00", &cfg), VAULT_OK);
	assert_int_equal(config_hours_open(&cfg.opening_hours, 6, 23 * 60 + 59), 1);
	assert_int_equal(config_hours_open(&cfg.opening_hours, 6, 6 * 60 + 59), 0);

	static const char *const wrong[] = {
	    "opening_hours = 18:00-08:00",	   "opening_hours = 8:30-18:00",
	    "opening_hours = fri-mon 08:00-18:00", "opening_hours = mon-fri08:00-18:00",
	    "opening_hours = mon-fri 08:00-18:60", "opening_hours = 24:30-25:00",
	    "opening_hours = mon-xyz 08:00-18:00", "audit_people_per_day = 0",
	    "audit_consent_days = 3661",	   "audit_consent_days = -1",
	};
	for (size_t i = 0; i < sizeof(wrong) / sizeof(wrong[0]); i++) {
		assert_int_equal(parse(wrong[i], &cfg), VAULT_E_FORMAT);
		assert_int_equal(cfg.problem, CONFIG_PROBLEM_VALUE);
	}
	assert_int_equal(parse("opening_hours = 18:00-08:00", &cfg), VAULT_E_FORMAT);
	assert_int_equal(cfg.problem_kind, CONFIG_KIND_HOURS);
}

static void mistakes_are_errors_with_a_line(void **state)
{
	static const struct {
		const char *text;
		unsigned line;
	} bad[] = {
	    {"pin_retries = 11\n", 1},
	    {"pin_retries = 2\n", 1},
	    {"\npin_min_length = 3\n", 2},
	    {"device_secret = keyring\n", 1},
	    {"device_secret_file = relative/path\n", 1},
	    {"pin_retrys = 5\n", 1},
	    {"kdf_passes\n", 1},
	    {"kdf_passes = -1\n", 1},
	    {"kdf_passes = 99999999999999\n", 1},
	    {"kdf_memory_mib = 4\n", 1},
	    {"allow_http_loopback = maybe\n", 1},
	};
	struct sesame_config cfg;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(parse(bad[i].text, &cfg), VAULT_E_FORMAT);
		assert_int_equal(cfg.line, bad[i].line);
	}
	assert_int_equal(config_parse("a\0b", 3, &cfg), VAULT_E_FORMAT);
}

/* A refusal says which key, what it takes, and the known key a typo was meant to be. */
static void refusals_name_the_key_and_what_it_takes(void **state)
{
	struct sesame_config cfg;

	(void)state;
	assert_int_equal(parse("# a comment\nkdf_passes = 1\npin_retrys = 5\n", &cfg),
			 VAULT_E_FORMAT);
	assert_int_equal(cfg.line, 3);
	assert_int_equal(cfg.problem, CONFIG_PROBLEM_KEY);
	assert_string_equal(cfg.problem_key, "pin_retrys");
	assert_non_null(cfg.suggestion);
	assert_string_equal(cfg.suggestion, "pin_retries");

	assert_int_equal(parse("colour = blue\n", &cfg), VAULT_E_FORMAT);
	assert_int_equal(cfg.problem, CONFIG_PROBLEM_KEY);
	assert_null(cfg.suggestion); /* nothing near: no guess */

	assert_int_equal(parse("pin_retries = 30\n", &cfg), VAULT_E_FORMAT);
	assert_int_equal(cfg.problem, CONFIG_PROBLEM_VALUE);
	assert_string_equal(cfg.problem_key, "pin_retries");
	assert_int_equal(cfg.problem_kind, CONFIG_KIND_NUMBER);
	assert_int_equal(cfg.problem_min, VAULT_RETRY_MIN);
	assert_int_equal(cfg.problem_max, VAULT_RETRY_MAX);

	assert_int_equal(parse("allow_http_loopback = peut-être\n", &cfg), VAULT_E_FORMAT);
	assert_int_equal(cfg.problem_kind, CONFIG_KIND_BOOL);

	assert_int_equal(parse("pin_retries 5\n", &cfg), VAULT_E_FORMAT);
	assert_int_equal(cfg.problem, CONFIG_PROBLEM_SYNTAX);
}

/* French-speaking administrators write oui and non. */
static void booleans_in_french(void **state)
{
	struct sesame_config cfg;

	(void)state;
	assert_int_equal(parse("allow_http_loopback = oui\n", &cfg), VAULT_OK);
	assert_int_equal(cfg.allow_http_loopback, 1);
	assert_int_equal(parse("allow_http_loopback = non\n", &cfg), VAULT_OK);
	assert_int_equal(cfg.allow_http_loopback, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(settings_are_read),
	    cmocka_unit_test(defaults_hold_without_a_file),
	    cmocka_unit_test(report_settings_are_read),
	    cmocka_unit_test(mistakes_are_errors_with_a_line),
	    cmocka_unit_test(refusals_name_the_key_and_what_it_takes),
	    cmocka_unit_test(booleans_in_french),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
