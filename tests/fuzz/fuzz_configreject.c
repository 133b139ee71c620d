/* sesame.conf refused at a line: every setting is as the lines before that line left it. A value
 * that does not parse, or parses out of range, must never reach the settings, not even in part. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sesameconf.h"
#include "fuzz.h"

/* The length of the first lines of data, up to and without line number `line` (1-based). */
static size_t lines_before(const uint8_t *data, size_t size, unsigned line)
{
	size_t off = 0;

	for (unsigned i = 1; i < line; i++) {
		const uint8_t *nl = memchr(data + off, '\n', size - off);
		if (nl == NULL)
			abort(); /* config_parse named a line the input does not have */
		off = (size_t)(nl - data) + 1;
	}
	return off;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sesame_config got, want;

	config_default(&got);
	/* line 0: the whole file was refused (too long), or every line was and the policy was not
	 */
	if (config_parse((const char *)data, size, &got) == 0 || got.line == 0)
		return 0;
	config_default(&want);
	config_parse((const char *)data, lines_before(data, size, got.line), &want);
	/* The settings only: the fields from `line` on describe the refusal, not a setting. */
	if (memcmp(&got, &want, offsetof(struct sesame_config, line)) != 0)
		abort();
	return 0;
}
