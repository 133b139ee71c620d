/* The person takes their logins away (docs/protocol.md, "export"). The command creates the file
 * and hands its descriptor over; a pool thread opens the vault with the PIN typed for this
 * export and builds the file's bytes in guarded memory (a KDBX 4 database, or the browsers'
 * CSV); back on the loop the export is recorded, and only once the record is durable are the
 * bytes written and synced. The command never receives a stored password. */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "agent.h"
#include "csv.h"
#include "fileio.h"
#include "kdbx.h"
#include "proto.h"

int agent_export_file_ok(int fd)
{
	struct stat st;
	int fl = fcntl(fd, F_GETFL);

	return fl >= 0 && (fl & O_ACCMODE) != O_RDONLY && fstat(fd, &st) == 0 &&
	       S_ISREG(st.st_mode) && st.st_size == 0;
}

/* The KDBX key: Argon2id of the passphrase's composite key, in this thread's helper. */
static int export_key(const struct job *j, const struct kdbx_random *r, uint8_t key[KDBX_KEY_BYTES])
{
	uint8_t composite[KDBX_KEY_BYTES];
	int ret = kdbx_composite(j->passphrase, strlen(j->passphrase), composite);

	if (ret == VAULT_OK &&
	    kdf_remote(NULL, key, (const char *)composite, sizeof(composite), r->salt,
		       KDBX_ARGON2_PASSES, KDBX_ARGON2_MEMORY / 1024) != 0)
		ret = VAULT_E_CRYPTO;
	sodium_memzero(composite, sizeof(composite));
	return ret;
}

static int export_bytes(struct job *j, const struct kdbx_item *items, size_t n)
{
	struct kdbx_random r;
	uint8_t key[KDBX_KEY_BYTES];
	int ret;

	if (j->export_csv)
		return csv_export(items, n, &j->file, &j->file_len);
	kdbx_random_fill(&r);
	if ((ret = export_key(j, &r, key)) == VAULT_OK)
		ret = kdbx_build(&r, key, j->name, items, n, &j->file, &j->file_len);
	sodium_memzero(key, sizeof(key));
	sodium_memzero(&r, sizeof(r));
	return ret;
}

int agent_export_build(struct job *j)
{
	struct vault_entries *es;
	struct kdbx_item *items;
	int ret;

	if ((ret = vault_entry_list(j->vault, &es)) != VAULT_OK)
		return ret;
	if ((items = sodium_allocarray(es->n + 1, sizeof(*items))) == NULL) {
		vault_entries_free(es);
		return VAULT_E_NOMEM;
	}
	for (size_t i = 0; i < es->n; i++)
		items[i] = (struct kdbx_item){es->entry[i].service, es->entry[i].url,
					      es->entry[i].username, es->entry[i].password,
					      es->entry[i].notes};
	ret = export_bytes(j, items, es->n);
	j->count = es->n;
	sodium_free(items);
	vault_entries_free(es);
	vault_close(j->vault); /* the key is not kept: an export opens no session */
	j->vault = NULL;
	return ret;
}

static struct audit_event export_event(struct agent *a, const struct job *j, const char *event,
				       char t[AUDIT_TIME_LEN + 1], char *reason, size_t cap)
{
	struct audit_event ev = agent_event(a, event, j->worker, j->worker_login, t);

	ev.user = j->user;
	ev.outcome = "ok";
	if (reason != NULL) {
		snprintf(reason, cap, "%s %zu", j->export_csv ? "csv" : "kdbx", j->count);
		ev.reason = reason;
		ev.outcome = "intent";
	}
	return ev;
}

/* Write the bytes and make them durable. */
static int export_write(const struct job *j)
{
	int ret = fileio_write_all(j->file_fd, j->file, j->file_len);

	if (ret == VAULT_OK && fsync(j->file_fd) != 0)
		ret = VAULT_E_IO;
	return ret;
}

/* The PIN was right: pin_ok and the export's intent, durable; then the file; then its outcome.
 * A reply other than ok tells the command to remove the file. */
void agent_export_done(struct agent *a, struct conn *c, struct job *j)
{
	char t1[AUDIT_TIME_LEN + 1], t2[AUDIT_TIME_LEN + 1], reason[32];
	struct audit_event ev[2] = {export_event(a, j, "pin_ok", t1, NULL, 0),
				    export_event(a, j, "export", t2, reason, sizeof(reason))};
	int ret;
	cJSON *r;

	if (c == NULL) /* nobody to give the file to: nothing is written */
		return;
	if (audit_append_many(a->log, ev, 2, NULL) != VAULT_OK) {
		agent_reply_error(a, c, PROTO_E_AUDIT, NULL);
		return;
	}
	ret = export_write(j);
	ev[1].outcome = ret == VAULT_OK ? "ok" : "failed";
	ev[1].reason = ret == VAULT_OK ? reason : vault_strerror(ret);
	audit_time_format((int64_t)time(NULL), t2);
	if (agent_audit(a, &ev[1]) != VAULT_OK && ret == VAULT_OK)
		ret = PROTO_E_AUDIT;
	if (ret != VAULT_OK) {
		agent_reply_error(a, c, ret, NULL);
		return;
	}
	r = cJSON_CreateObject();
	cJSON_AddTrueToObject(r, "ok");
	cJSON_AddStringToObject(r, "user", j->user);
	cJSON_AddStringToObject(r, "format", j->export_csv ? "csv" : "kdbx");
	cJSON_AddNumberToObject(r, "count", (double)j->count);
	if (j->generated) /* the reply is framed in guarded memory (conn.c) */
		cJSON_AddStringToObject(r, "passphrase", j->passphrase);
	agent_reply(a, c, r);
}
