/* The log in plain words (words.h). */
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "cli.h"
#include "text.h"
#include "vault.h"
#include "words.h"

#define NAMES_PAGE 200 /* ids in one names request: the agent's AGENT_NAMES_MAX */

int words_lang_set(const char *lang)
{
	if (words_lang_use(lang) != 0) {
		cli_error(_("--lang %s: the languages are fr and en"), lang);
		return -1;
	}
	return 0;
}

void words_plain(FILE *f, const char *s)
{
	size_t len = strlen(s);

	for (size_t i = 0, n; i < len; i += n) {
		n = text_utf8_next((const uint8_t *)s + i, len - i);
		if (n == 0 || text_char_unsafe((const uint8_t *)s + i, n)) {
			fputc('?', f);
			n = n == 0 ? 1 : n;
		} else {
			fwrite(s + i, 1, n, f);
		}
	}
}

void words_html(FILE *f, const char *s)
{
	size_t len = strlen(s);

	for (size_t i = 0, n; i < len; i += n) {
		n = text_utf8_next((const uint8_t *)s + i, len - i);
		if (n == 1 && s[i] == '\n') { /* white space in a page; a receipt's code keeps it */
			fputc('\n', f);
		} else if (n == 0 || text_char_unsafe((const uint8_t *)s + i, n)) {
			fputc('?', f);
			n = n == 0 ? 1 : n;
		} else if (s[i] == '<') {
			fputs("&lt;", f);
		} else if (s[i] == '>') {
			fputs("&gt;", f);
		} else if (s[i] == '&') {
			fputs("&amp;", f);
		} else if (s[i] == '"') {
			fputs("&quot;", f);
		} else if (s[i] == '\'') {
			fputs("&#39;", f);
		} else {
			fwrite(s + i, 1, n, f);
		}
	}
}

/* --- names --- */

struct name {
	char name[VAULT_NAME_MAX + 1]; /* "" until the agent names it */
	int withdrawn;
};

struct words_names {
	GHashTable *by_id; /* id -> struct name */
};

struct words_names *words_names_new(void)
{
	struct words_names *n = g_new0(struct words_names, 1);

	n->by_id = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	return n;
}

void words_names_free(struct words_names *n)
{
	if (n == NULL)
		return;
	g_hash_table_destroy(n->by_id);
	g_free(n);
}

void words_names_want(struct words_names *n, const char *id)
{
	if (strlen(id) != VAULT_USER_ID_HEX - 1 || !text_hex_lower(id, strlen(id)) ||
	    g_hash_table_contains(n->by_id, id))
		return;
	g_hash_table_insert(n->by_id, g_strdup(id), g_new0(struct name, 1));
}

/* One page's names into the table; -1 with why when the agent refused. */
static int names_take(struct words_names *n, const cJSON *reply, char *why, size_t cap)
{
	const cJSON *e;

	if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(reply, "ok"))) {
		const char *reason = proto_string(reply, "reason");
		snprintf(why, cap, "%s",
			 reason != NULL && strcmp(reason, "not_auditor") == 0
			     ? _("only members of the auditor group (auditor_group in sesame.conf) "
				 "may read people's names")
			     : _("the agent refused to give people's names"));
		return -1;
	}
	cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(reply, "names"))
	{
		const char *id = proto_string(e, "user"), *name = proto_string(e, "name");
		struct name *slot = id != NULL ? g_hash_table_lookup(n->by_id, id) : NULL;
		if (slot == NULL || name == NULL)
			continue;
		snprintf(slot->name, sizeof(slot->name), "%s", name);
		slot->withdrawn = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(e, "withdrawn"));
	}
	return 0;
}

static int names_page(struct words_names *n, const struct sesame_home *h, cJSON *ids, char *why,
		      size_t cap)
{
	cJSON *req = cJSON_CreateObject(), *reply = NULL;
	int ret;

	cJSON_AddStringToObject(req, "op", "names");
	cJSON_AddItemToObject(req, "users", ids);
	if (client_call(h, req, &reply) != 0) {
		snprintf(why, cap, "%s", _("the agent could not be reached"));
		return -1;
	}
	ret = names_take(n, reply, why, cap);
	cJSON_Delete(reply);
	return ret;
}

int words_names_fetch(struct words_names *n, char *why, size_t cap)
{
	struct sesame_home h;
	GHashTableIter it;
	gpointer key;
	cJSON *ids = NULL;
	int ret = 0;

	if (g_hash_table_size(n->by_id) == 0)
		return 0;
	if (cli_home(&h) != 0) {
		snprintf(why, cap, "%s", _("the installation could not be found"));
		return -1;
	}
	g_hash_table_iter_init(&it, n->by_id);
	while (ret == 0 && g_hash_table_iter_next(&it, &key, NULL)) {
		if (ids == NULL)
			ids = cJSON_CreateArray();
		cJSON_AddItemToArray(ids, cJSON_CreateString(key));
		if (cJSON_GetArraySize(ids) == NAMES_PAGE) {
			ret = names_page(n, &h, ids, why, cap);
			ids = NULL;
		}
	}
	if (ret == 0 && ids != NULL)
		return names_page(n, &h, ids, why, cap);
	cJSON_Delete(ids);
	return ret;
}

const char *words_names_get(const struct words_names *n, const char *id, int *withdrawn)
{
	const struct name *slot = n != NULL ? g_hash_table_lookup(n->by_id, id) : NULL;

	if (withdrawn != NULL)
		*withdrawn = slot != NULL && slot->withdrawn;
	return slot != NULL ? slot->name : "";
}
