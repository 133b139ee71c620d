/* The agent's frame body parser: only a JSON object with "v": 1 is accepted. */
#include <stdint.h>
#include <stdlib.h>

#include "fuzz.h"
#include "proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	cJSON *msg;
	long long v;

	if (proto_parse(data, size, &msg) != 0)
		return 0;
	if (!cJSON_IsObject(msg) || proto_int(msg, "v", &v) != 0 || v != PROTO_VERSION)
		abort();
	proto_string(msg, "op");
	cJSON_Delete(msg);
	return 0;
}
