/* sesame.conf: the one configuration file an administrator edits. A parser from a buffer to a
 * struct, so it can be fuzzed; the caller finds and reads the file. */
#ifndef SESAME_VAULT_CONFIG_H
#define SESAME_VAULT_CONFIG_H

#include <stddef.h>

#include "devsecret.h"
#include "vault.h"

#define CONFIG_FILE_MAX 65536
#define CONFIG_LINE_MAX 1024
#define CONFIG_PATH_MAX 1024

struct sesame_config {
	struct vault_policy policy;
	enum devsecret_backend device_secret;
	char device_secret_file[CONFIG_PATH_MAX]; /* empty: the caller's default */
	unsigned line;				  /* on error, the offending line (1-based) */
};

void config_default(struct sesame_config *cfg);

/* Parse "key = value" lines ('#' starts a comment) over cfg's current values. Unknown keys,
 * bad values and out-of-range numbers are errors (VAULT_E_FORMAT, cfg->line set), so a typo in
 * a security setting is never silently ignored. */
int config_parse(const char *buf, size_t len, struct sesame_config *cfg);

#endif
