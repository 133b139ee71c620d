/* Signed notes, checkpoints, verifier keys and receipts, all parsed from hostile bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "fuzz.h"

/* The golden log's verifier (tests/data/audit/golden), so signature paths run too: the seed
 * corpus holds its real checkpoint, which mutations then break. */
static const char vkey[] =
    "sesame.audit/fixture+63058120+ASYwABBsD3iqQCf5XdfrWKcmzZGRhg0UfNAbutOjxgLo";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct note_verifier v, w;
	struct checkpoint cp;
	size_t bodylen;
	uint64_t index;

	note_verifier_parse((const char *)data, size, &w);
	if (note_verifier_parse(vkey, strlen(vkey), &v) != 0)
		abort();
	note_body(data, size, &bodylen);
	checkpoint_body_parse(data, size, &cp);
	checkpoint_open(data, size, &v, "sesame.audit/fixture", &cp);
	audit_receipt_verify(data, size, &v, &index);
	return 0;
}
