/* The DevTools message splitter: a stream of NUL-terminated JSON objects, each parsed alone,
 * bounded by CDP_MESSAGE_MAX. Whatever the bytes, it consumes a message, waits, or refuses. */
#include <stdint.h>
#include <stdlib.h>

#include "cdp.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t off = 0;

	while (off < size) {
		cJSON *msg;
		size_t used;
		int ret = cdp_parse(data + off, size - off, &used, &msg);
		if (ret <= 0) {
			if (msg != NULL || used != 0)
				abort();
			break;
		}
		if (!cJSON_IsObject(msg) || used == 0 || used > size - off || data[off + used - 1])
			abort();
		cJSON_GetObjectItemCaseSensitive(msg, "id");
		cJSON_Delete(msg);
		off += used;
	}
	return 0;
}
