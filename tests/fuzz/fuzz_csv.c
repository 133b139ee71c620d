/* The import's CSV reader: whatever it accepts holds rows within the vault's limits, each with
 * a URL, a username and a password, and re-exported reads back to the same fields. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "csv.h"
#include "format.h"
#include "fuzz.h"

static void check_row(const struct csv_row *r)
{
	if (r->url[0] == '\0' || r->username[0] == '\0' || r->password[0] == '\0' ||
	    strlen(r->service) > VAULT_SERVICE_MAX || strlen(r->password) > VAULT_PASSWORD_MAX ||
	    strlen(r->notes) > VAULT_NOTES_MAX || r->line < 2)
		abort();
}

/* Export what was read, read it again: the same rows. */
static void round_trip(const struct csv_table *t)
{
	struct kdbx_item items[CSV_ROWS_MAX];
	struct csv_error err[CSV_ERRORS_MAX];
	struct csv_table *back;
	uint8_t *out;
	size_t len, nerr;

	for (size_t i = 0; i < t->n; i++)
		items[i] = (struct kdbx_item){t->row[i].service, t->row[i].url, t->row[i].username,
					      t->row[i].password, NULL};
	if (csv_export(items, t->n, &out, &len) != 0)
		abort();
	if (len <= CSV_FILE_MAX) {
		if (csv_import_parse(out, len, &back, err, &nerr) != CSV_OK || back->n != t->n)
			abort();
		for (size_t i = 0; i < t->n; i++)
			if (strcmp(back->row[i].password, t->row[i].password) != 0 ||
			    strcmp(back->row[i].username, t->row[i].username) != 0 ||
			    strcmp(back->row[i].url, t->row[i].url) != 0)
				abort();
		csv_table_free(back);
	}
	sodium_free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct csv_error err[CSV_ERRORS_MAX];
	struct csv_table *t;
	size_t nerr;

	if (sodium_init() < 0)
		abort();
	if (csv_import_parse(data, size, &t, err, &nerr) != CSV_OK) {
		if (t != NULL || nerr == 0 || nerr > CSV_ERRORS_MAX)
			abort();
		return 0;
	}
	if (t->n == 0 || t->n > CSV_ROWS_MAX)
		abort();
	for (size_t i = 0; i < t->n; i++)
		check_row(&t->row[i]);
	round_trip(t);
	csv_table_free(t);
	return 0;
}
