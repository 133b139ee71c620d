/* The person's appointment receipt, written at lock (receipt.c). */
#ifndef SESAME_CLI_RECEIPT_H
#define SESAME_CLI_RECEIPT_H

#include <cjson/cJSON.h>

/* The receipt's file, made before the lock: 0600, fresh, never through a link; -1 said. */
int cli_receipt_open(const char *path);
/* The page from the lock's reply (its "receipt" proofs), into fd, which it closes. */
int cli_receipt_write(int fd, const cJSON *reply);

#endif
