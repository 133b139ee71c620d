/* sesame.conf parser. */
#include <stdint.h>

#include "sesameconf.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sesame_config cfg;

	config_default(&cfg);
	if (config_parse((const char *)data, size, &cfg) == 0 &&
	    vault_policy_check(&cfg.policy) != 0)
		__builtin_trap();
	return 0;
}
