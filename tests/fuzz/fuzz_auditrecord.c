/* Audit record parser: an accepted line is canonical, so it formats back to the same bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct audit_record rec;
	static char again[AUDIT_LINE_MAX + 1];
	size_t len;

	if (audit_record_parse(data, size, &rec) != 0)
		return 0;
	if (audit_record_format(&rec, again, sizeof(again), &len) != 0 || len != size ||
	    memcmp(again, data, size) != 0)
		abort();
	return 0;
}
