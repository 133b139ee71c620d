/* CSV export (RFC 4180, the browsers' columns) and the import's reading of a worker's notebook. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <sodium.h>

#include "csv.h"
#include "error.h"

static enum csv_problem parse(const char *text, struct csv_table **t, struct csv_error *err,
			      size_t *nerr)
{
	return csv_import_parse((const uint8_t *)text, strlen(text), t, err, nerr);
}

static void export_quotes_every_field(void **state)
{
	struct kdbx_item items[] = {
	    {"CAF", "https://www.caf.fr/", "12,34", "p\"w,\nx", "never exported"},
	    {"ameli", "https://ameli.fr/", "u", "été", NULL},
	};
	const char want[] = "name,url,username,password\r\n"
			    "\"CAF\",\"https://www.caf.fr/\",\"12,34\",\"p\"\"w,\nx\"\r\n"
			    "\"ameli\",\"https://ameli.fr/\",\"u\",\"été\"\r\n";
	uint8_t *out;
	size_t len;

	(void)state;
	assert_int_equal(csv_export(items, 2, &out, &len), VAULT_OK);
	assert_int_equal(len, sizeof(want) - 1);
	assert_memory_equal(out, want, len);
	sodium_free(out);
}

/* What the export writes, the import reads back. */
static void export_round_trip(void **state)
{
	struct kdbx_item items[] = {{"CAF", "https://www.caf.fr/", "a\"b", "x;y,\"z\" w", NULL}};
	struct csv_error err[CSV_ERRORS_MAX];
	struct csv_table *t;
	uint8_t *out;
	size_t len, nerr;

	(void)state;
	assert_int_equal(csv_export(items, 1, &out, &len), VAULT_OK);
	assert_int_equal(csv_import_parse(out, len, &t, err, &nerr), CSV_OK);
	assert_int_equal(t->n, 1);
	assert_string_equal(t->row[0].service, "CAF");
	assert_string_equal(t->row[0].username, "a\"b");
	assert_string_equal(t->row[0].password, "x;y,\"z\" w");
	csv_table_free(t);
	sodium_free(out);
}

/* A French spreadsheet: semicolons, a BOM, accents and capitals in the header, notes. */
static void french_notebook(void **state)
{
	const char *text = "\xef\xbb\xbfSite;Adresse;Identifiant;Mot de passe;Remarques\r\n"
			   "CAF;https://www.caf.fr/;1234567;s3cr3t;\"rdv le mardi\nà 10 h\"\r\n"
			   ";;;;\r\n"
			   "ameli;https://assure.ameli.fr/;2850775;Été 2024;\r\n";
	struct csv_error err[CSV_ERRORS_MAX];
	struct csv_table *t;
	size_t nerr;

	(void)state;
	assert_int_equal(parse(text, &t, err, &nerr), CSV_OK);
	assert_int_equal(t->separator, ';');
	assert_int_equal(t->n, 2);
	assert_string_equal(t->row[0].service, "CAF");
	assert_string_equal(t->row[0].notes, "rdv le mardi\nà 10 h");
	assert_int_equal(t->row[0].line, 2);
	assert_string_equal(t->row[1].password, "Été 2024");
	assert_int_equal(t->row[1].line, 5);
	csv_table_free(t);
}

/* Firefox's export has no service: it is the address's host. Unknown columns are ignored. */
static void firefox_columns(void **state)
{
	const char *text = "\"url\",\"username\",\"password\",\"httpRealm\",\"guid\"\n"
			   "\"https://www.impots.gouv.fr:443/login\",\"jd\",\"pw\",,\"{x}\"\n";
	struct csv_error err[CSV_ERRORS_MAX];
	struct csv_table *t;
	size_t nerr;

	(void)state;
	assert_int_equal(parse(text, &t, err, &nerr), CSV_OK);
	assert_string_equal(t->row[0].service, "www.impots.gouv.fr");
	assert_string_equal(t->row[0].notes, "");
	csv_table_free(t);
}

/* Every bad row is named with its line, and nothing is kept. */
static void bad_rows_named(void **state)
{
	const char *text = "name,url,username,password\n"
			   "CAF,https://www.caf.fr/,u,\n"
			   "ok,https://ok.fr/,u,p\n"
			   "two,fields\n"
			   "bad,https://x.fr/,u\x01,p\n";
	struct csv_error err[CSV_ERRORS_MAX];
	struct csv_table *t = (struct csv_table *)1;
	size_t nerr;

	(void)state;
	assert_int_equal(parse(text, &t, err, &nerr), CSV_EMPTY_FIELD);
	assert_null(t);
	assert_int_equal(nerr, 3);
	assert_int_equal(err[0].line, 2);
	assert_string_equal(err[0].column, "password");
	assert_int_equal(err[1].problem, CSV_COLUMNS);
	assert_int_equal(err[1].line, 4);
	assert_int_equal(err[2].problem, CSV_NOT_UTF8);
	assert_int_equal(err[2].line, 5);
	assert_string_equal(err[2].column, "username");
}

static void whole_file_refusals(void **state)
{
	struct csv_error err[CSV_ERRORS_MAX];
	struct csv_table *t;
	size_t nerr;

	(void)state;
	assert_int_equal(parse("service,login\nCAF,u\n", &t, err, &nerr), CSV_NO_HEADER);
	assert_int_equal(parse("url,user,mdp\n", &t, err, &nerr), CSV_NO_ROWS);
	assert_int_equal(parse("url,user,mdp\n\"https://a.fr/,u,p\n", &t, err, &nerr), CSV_QUOTE);
	assert_int_equal(err[0].line, 2);
	assert_int_equal(parse("url,user,mdp\n\"x\"y,u,p\n", &t, err, &nerr), CSV_QUOTE);
	assert_int_equal(parse("url,user,mdp\n\xff,u,p\n", &t, err, &nerr), CSV_NOT_UTF8);
	assert_int_equal(csv_import_parse((const uint8_t *)"", CSV_FILE_MAX + 1, &t, err, &nerr),
			 CSV_TOO_BIG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(export_quotes_every_field),
	    cmocka_unit_test(export_round_trip),
	    cmocka_unit_test(french_notebook),
	    cmocka_unit_test(firefox_columns),
	    cmocka_unit_test(bad_rows_named),
	    cmocka_unit_test(whole_file_refusals),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
