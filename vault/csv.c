/* CSV export and import (docs/format.md, "CSV files"). The file to import is copied once into
 * guarded memory and its fields are unquoted there, in place: a password read from it never
 * lives anywhere else. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>

#include "csv.h"
#include "error.h"
#include "format.h"
#include "text.h"

/* ---- export ---- */

static size_t quoted_len(const char *v)
{
	size_t n = 2;

	for (; *v != '\0'; v++)
		n += *v == '"' ? 2 : 1;
	return n;
}

static size_t put_quoted(uint8_t *o, const char *v)
{
	size_t n = 0;

	o[n++] = '"';
	for (; *v != '\0'; v++) {
		if (*v == '"')
			o[n++] = '"';
		o[n++] = (uint8_t)*v;
	}
	o[n++] = '"';
	return n;
}

int csv_export(const struct kdbx_item *items, size_t n, uint8_t **out, size_t *out_len)
{
	static const char header[] = "name,url,username,password\r\n";
	size_t len = sizeof(header) - 1, o;
	uint8_t *b;

	*out = NULL, *out_len = 0;
	if (n > KDBX_ITEMS_MAX)
		return VAULT_E_INVAL;
	for (size_t i = 0; i < n; i++)
		len += quoted_len(items[i].title) + quoted_len(items[i].url) +
		       quoted_len(items[i].username) + quoted_len(items[i].password) + 5;
	if ((b = sodium_malloc(len)) == NULL)
		return VAULT_E_NOMEM;
	memcpy(b, header, sizeof(header) - 1);
	o = sizeof(header) - 1;
	for (size_t i = 0; i < n; i++) {
		const char *f[4] = {items[i].title, items[i].url, items[i].username,
				    items[i].password};
		for (int k = 0; k < 4; k++) {
			o += put_quoted(b + o, f[k]);
			b[o++] = k < 3 ? ',' : '\r';
		}
		b[o++] = '\n';
	}
	*out = b, *out_len = o;
	return VAULT_OK;
}

/* ---- import: columns ---- */

enum role { ROLE_NONE = -1, ROLE_SERVICE, ROLE_URL, ROLE_USERNAME, ROLE_PASSWORD, ROLE_NOTES };

static const char *const role_names[] = {"service", "url", "username", "password", "notes"};
static const size_t role_max[] = {VAULT_SERVICE_MAX, VAULT_URL_MAX, VAULT_USERNAME_MAX,
				  VAULT_PASSWORD_MAX, VAULT_NOTES_MAX};

/* Column names people give, in French and English, lowercase and without accents. */
static const struct {
	const char *name;
	enum role role;
} columns[] = {
    {"service", ROLE_SERVICE},
    {"site", ROLE_SERVICE},
    {"nom", ROLE_SERVICE},
    {"name", ROLE_SERVICE},
    {"title", ROLE_SERVICE},
    {"titre", ROLE_SERVICE},
    {"organisme", ROLE_SERVICE},
    {"compte", ROLE_SERVICE},
    {"account", ROLE_SERVICE},
    {"url", ROLE_URL},
    {"adresse", ROLE_URL},
    {"adresse web", ROLE_URL},
    {"lien", ROLE_URL},
    {"link", ROLE_URL},
    {"site web", ROLE_URL},
    {"site internet", ROLE_URL},
    {"website", ROLE_URL},
    {"uri", ROLE_URL},
    {"login_uri", ROLE_URL},
    {"identifiant", ROLE_USERNAME},
    {"login", ROLE_USERNAME},
    {"utilisateur", ROLE_USERNAME},
    {"nom d'utilisateur", ROLE_USERNAME},
    {"username", ROLE_USERNAME},
    {"user", ROLE_USERNAME},
    {"user name", ROLE_USERNAME},
    {"login_username", ROLE_USERNAME},
    {"email", ROLE_USERNAME},
    {"e-mail", ROLE_USERNAME},
    {"courriel", ROLE_USERNAME},
    {"mot de passe", ROLE_PASSWORD},
    {"mot_de_passe", ROLE_PASSWORD},
    {"motdepasse", ROLE_PASSWORD},
    {"mdp", ROLE_PASSWORD},
    {"password", ROLE_PASSWORD},
    {"pass", ROLE_PASSWORD},
    {"login_password", ROLE_PASSWORD},
    {"notes", ROLE_NOTES},
    {"note", ROLE_NOTES},
    {"remarque", ROLE_NOTES},
    {"remarques", ROLE_NOTES},
    {"commentaire", ROLE_NOTES},
    {"commentaires", ROLE_NOTES},
    {"comment", ROLE_NOTES},
    {"comments", ROLE_NOTES},
};

/* A header name as the table spells it: trimmed, ASCII lowercase, é è ê É È Ê as e. */
static void header_key(const char *in, char out[CSV_HEADER_MAX + 1])
{
	size_t o = 0;

	while (*in == ' ' || *in == '\t')
		in++;
	for (; *in != '\0' && o < CSV_HEADER_MAX; in++) {
		const unsigned char *u = (const unsigned char *)in;
		if (u[0] == 0xc3 && (u[1] == 0xa8 || u[1] == 0xa9 || u[1] == 0xaa || u[1] == 0x88 ||
				     u[1] == 0x89 || u[1] == 0x8a)) {
			out[o++] = 'e';
			in++;
		} else {
			out[o++] = (char)(*u >= 'A' && *u <= 'Z' ? *u + 32 : *u);
		}
	}
	while (o > 0 && (out[o - 1] == ' ' || out[o - 1] == '\t'))
		o--;
	out[o] = '\0';
}

static enum role header_role(const char *name)
{
	char key[CSV_HEADER_MAX + 1];

	header_key(name, key);
	for (size_t i = 0; i < sizeof(columns) / sizeof(columns[0]); i++)
		if (strcmp(key, columns[i].name) == 0)
			return columns[i].role;
	return ROLE_NONE;
}

/* ---- import: records ---- */

struct reader {
	char *t; /* the guarded copy, unquoted in place: w never passes r */
	size_t len, r, w, line;
	char sep;
};

static int at_end_of_field(const struct reader *rd)
{
	return rd->r >= rd->len || rd->t[rd->r] == rd->sep || rd->t[rd->r] == '\n' ||
	       rd->t[rd->r] == '\r';
}

static enum csv_problem quoted_field(struct reader *rd)
{
	for (rd->r++;; rd->r++) {
		if (rd->r >= rd->len)
			return CSV_QUOTE;
		if (rd->t[rd->r] == '"') {
			if (rd->r + 1 < rd->len && rd->t[rd->r + 1] == '"') {
				rd->t[rd->w++] = '"';
				rd->r++;
				continue;
			}
			rd->r++;
			return at_end_of_field(rd) ? CSV_OK : CSV_QUOTE;
		}
		if (rd->t[rd->r] == '\n')
			rd->line++;
		rd->t[rd->w++] = rd->t[rd->r];
	}
}

/* One record's fields into f; *nf their number. */
static enum csv_problem record(struct reader *rd, char *f[CSV_COLUMNS_MAX], size_t *nf)
{
	enum csv_problem p;
	char end;

	for (*nf = 0;;) {
		char *start = rd->t + rd->w;
		if (rd->r < rd->len && rd->t[rd->r] == '"') {
			if ((p = quoted_field(rd)) != CSV_OK)
				return p;
		} else {
			while (!at_end_of_field(rd))
				rd->t[rd->w++] = rd->t[rd->r++];
		}
		/* the NUL may land on the character that ends the field: read it first */
		end = rd->r < rd->len ? rd->t[rd->r] : '\n';
		rd->t[rd->w++] = '\0';
		if (*nf == CSV_COLUMNS_MAX)
			return CSV_COLUMNS;
		f[(*nf)++] = start;
		if (rd->r < rd->len)
			rd->r++;
		if (end == rd->sep)
			continue;
		if (end == '\r' && rd->r < rd->len && rd->t[rd->r] == '\n')
			rd->r++;
		rd->line++;
		return CSV_OK;
	}
}

/* The spreadsheet's separator: ';' when the header holds more of them than commas. */
static char separator(const char *t, size_t len)
{
	size_t commas = 0, semis = 0;
	int quoted = 0;

	for (size_t i = 0; i < len && (quoted || t[i] != '\n'); i++) {
		quoted ^= t[i] == '"';
		commas += !quoted && t[i] == ',';
		semis += !quoted && t[i] == ';';
	}
	return semis > commas ? ';' : ',';
}

/* ---- import: rows ---- */

struct parse {
	struct csv_table *t;
	int col[5]; /* the column of each role, or -1 */
	size_t ncols;
	char *hosts; /* after the text: the host names of rows without a service */
	struct csv_error *err;
	size_t nerr;
};

static void problem(struct parse *ps, enum csv_problem p, size_t line, const char *column)
{
	if (ps->nerr < CSV_ERRORS_MAX)
		ps->err[ps->nerr] = (struct csv_error){p, line, column};
	ps->nerr++;
}

static int field_safe(const char *v, int notes)
{
	const uint8_t *p = (const uint8_t *)v;
	size_t left = strlen(v), n;

	for (; left > 0; p += n, left -= n) {
		n = text_utf8_next(p, left);
		if (n == 0)
			return 0;
		if (notes && n == 1 && (*p == '\n' || *p == '\t'))
			continue;
		if (text_char_unsafe(p, n))
			return 0;
	}
	return 1;
}

/* The host of an https or http address, copied to ps->hosts, as a service's name. */
static const char *host_of(struct parse *ps, const char *url)
{
	const char *h = strstr(url, "://"), *out = ps->hosts;
	size_t n;

	if (h == NULL)
		return "";
	h += 3;
	n = strcspn(h, "/:?#");
	if (n > VAULT_SERVICE_MAX)
		n = VAULT_SERVICE_MAX;
	memcpy(ps->hosts, h, n);
	ps->hosts[n] = '\0';
	ps->hosts += n + 1;
	return out;
}

static int row_empty(char **f, size_t nf)
{
	for (size_t i = 0; i < nf; i++)
		if (f[i][0] != '\0')
			return 0;
	return 1;
}

/* One data row: checked field by field; kept if nothing is wrong with it. */
static void row(struct parse *ps, char **f, size_t nf, size_t line)
{
	const char *v[5];
	size_t before = ps->nerr;
	struct csv_row *r;

	if (nf != ps->ncols) {
		problem(ps, CSV_COLUMNS, line, NULL);
		return;
	}
	for (int k = 0; k < 5; k++) {
		v[k] = ps->col[k] >= 0 ? f[ps->col[k]] : "";
		if (strlen(v[k]) > role_max[k])
			problem(ps, CSV_TOO_LONG, line, role_names[k]);
		else if (!field_safe(v[k], k == ROLE_NOTES))
			problem(ps, CSV_NOT_UTF8, line, role_names[k]);
		else if (v[k][0] == '\0' && k != ROLE_NOTES && k != ROLE_SERVICE)
			problem(ps, CSV_EMPTY_FIELD, line, role_names[k]);
	}
	if (ps->nerr != before)
		return;
	if (ps->t->n == CSV_ROWS_MAX) {
		problem(ps, CSV_TOO_MANY, line, NULL);
		return;
	}
	r = &ps->t->row[ps->t->n++];
	*r = (struct csv_row){line, v[0], v[1], v[2], v[3], v[4]};
	if (r->service[0] == '\0')
		r->service = host_of(ps, r->url);
}

static enum csv_problem header(struct parse *ps, char **f, size_t nf)
{
	for (int k = 0; k < 5; k++)
		ps->col[k] = -1;
	for (size_t i = 0; i < nf; i++) {
		enum role r = header_role(f[i]);
		if (r != ROLE_NONE && ps->col[r] < 0)
			ps->col[r] = (int)i;
	}
	ps->ncols = nf;
	if (ps->col[ROLE_URL] < 0 || ps->col[ROLE_USERNAME] < 0 || ps->col[ROLE_PASSWORD] < 0)
		return CSV_NO_HEADER;
	return CSV_OK;
}

static enum csv_problem parse_rows(struct parse *ps, struct reader *rd)
{
	char *f[CSV_COLUMNS_MAX];
	size_t nf, line;
	enum csv_problem p;

	if ((p = record(rd, f, &nf)) != CSV_OK || (p = header(ps, f, nf)) != CSV_OK)
		return p;
	while (rd->r < rd->len) {
		line = rd->line;
		if ((p = record(rd, f, &nf)) != CSV_OK) {
			problem(ps, p, line, NULL);
			return p;
		}
		if (!row_empty(f, nf))
			row(ps, f, nf, line);
	}
	if (ps->nerr == 0 && ps->t->n == 0)
		return CSV_NO_ROWS;
	return ps->nerr == 0 ? CSV_OK : ps->err[0].problem;
}

static struct csv_table *table_new(const uint8_t *buf, size_t len)
{
	struct csv_table *t = calloc(1, sizeof(*t));

	/* the text, then room for the host names, each shorter than its row */
	if (t == NULL || (t->text = sodium_malloc(2 * len + 2)) == NULL) {
		free(t);
		return NULL;
	}
	t->text_len = 2 * len + 2;
	if (len > 0)
		memcpy(t->text, buf, len);
	return t;
}

enum csv_problem csv_import_parse(const uint8_t *buf, size_t len, struct csv_table **out,
				  struct csv_error err[CSV_ERRORS_MAX], size_t *nerr)
{
	struct parse ps = {.err = err};
	struct reader rd = {.line = 1};
	enum csv_problem p;

	*out = NULL, *nerr = 0;
	if (len > CSV_FILE_MAX)
		p = CSV_TOO_BIG;
	else if (len >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0) /* a spreadsheet's BOM */
		return csv_import_parse(buf + 3, len - 3, out, err, nerr);
	else if (!text_utf8_valid(buf, len))
		p = CSV_NOT_UTF8;
	else if ((ps.t = table_new(buf, len)) == NULL)
		p = CSV_NOMEM;
	else
		p = CSV_OK;
	if (p != CSV_OK) {
		err[0] = (struct csv_error){p, 0, NULL};
		*nerr = 1;
		return p;
	}
	rd.t = ps.t->text, rd.len = len;
	rd.sep = ps.t->separator = separator(rd.t, len);
	ps.hosts = ps.t->text + len + 1;
	p = parse_rows(&ps, &rd);
	if (p != CSV_OK) {
		if (ps.nerr == 0)
			problem(&ps, p, p == CSV_NO_HEADER || p == CSV_NO_ROWS ? 1 : rd.line, NULL);
		*nerr = ps.nerr < CSV_ERRORS_MAX ? ps.nerr : CSV_ERRORS_MAX;
		csv_table_free(ps.t);
		return p;
	}
	*out = ps.t;
	return CSV_OK;
}

void csv_table_free(struct csv_table *t)
{
	if (t == NULL)
		return;
	sodium_free(t->text);
	sodium_memzero(t, sizeof(*t));
	free(t);
}
