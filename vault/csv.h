/* Spreadsheets of logins (docs/format.md, "CSV files"): the export browsers import
 * (name,url,username,password, RFC 4180), and the rows of a worker's notebook read for an
 * import, with French and English column names. Never prints. */
#ifndef SESAME_VAULT_CSV_H
#define SESAME_VAULT_CSV_H

#include <stddef.h>
#include <stdint.h>

#include "kdbx.h"

#define CSV_FILE_MAX (256u * 1024) /* bytes of a file to import */
#define CSV_ROWS_MAX 256	   /* rows of a file to import: a vault's credentials at most */
#define CSV_COLUMNS_MAX 32	   /* columns of its header */
#define CSV_HEADER_MAX 64	   /* bytes of a column's name that is recognised */
#define CSV_ERRORS_MAX 20	   /* problems reported at most, each with its line */

/* An export: a header line, then one line per item, every field quoted, CRLF line ends (RFC
 * 4180), in a sodium_malloc buffer (free with sodium_free). Notes are not in the browsers'
 * format and are left out. */
int csv_export(const struct kdbx_item *items, size_t n, uint8_t **out, size_t *out_len);

/* A row to import: fields point into the table's guarded copy of the file. */
struct csv_row {
	size_t line; /* the line it starts on, from 1 (the header is line 1) */
	const char *service, *url, *username, *password, *notes; /* notes "" when none */
};

struct csv_table {
	size_t n;
	struct csv_row row[CSV_ROWS_MAX];
	char *text; /* sodium_malloc: the fields, NUL-terminated */
	size_t text_len;
	char separator; /* ',' or ';' (the French spreadsheets' default) */
};

/* Why a file is refused, and where. */
enum csv_problem {
	CSV_OK = 0,
	CSV_TOO_BIG,   /* the file is longer than CSV_FILE_MAX */
	CSV_TOO_MANY,  /* more than CSV_ROWS_MAX rows */
	CSV_NOT_UTF8,  /* invalid UTF-8 or a control character in a field */
	CSV_QUOTE,     /* a quoted field not closed, or text after its closing quote */
	CSV_NO_HEADER, /* the first line names no column of a service, a username and a password */
	CSV_COLUMNS,   /* a row has another number of fields than the header */
	CSV_EMPTY_FIELD, /* a row lacks its service, username or password (column names it) */
	CSV_TOO_LONG,	 /* a field is longer than the vault keeps (column names it) */
	CSV_NO_ROWS,	 /* a header and nothing else */
	CSV_NOMEM,
};

struct csv_error {
	enum csv_problem problem;
	size_t line;	    /* 0 when the file as a whole is refused */
	const char *column; /* "service", "url", "username", "password", "notes", or NULL */
};

/* Parse an import. On CSV_OK *out holds every row (free with csv_table_free); otherwise *out
 * is NULL and err[0..*nerr) says what is wrong: every bad row up to CSV_ERRORS_MAX, or the one
 * problem that stops the reading. Rows of empty fields only are skipped. A row without a
 * service takes its address's host name. */
enum csv_problem csv_import_parse(const uint8_t *buf, size_t len, struct csv_table **out,
				  struct csv_error err[CSV_ERRORS_MAX], size_t *nerr);
void csv_table_free(struct csv_table *t);

#endif
