/* Argon2id off the event loop: a fixed number of threads take PIN jobs from a queue and hand the
 * results back through a pipe the loop polls. Only vault_* calls run here: the audit log, the
 * sessions and the connections belong to the loop's thread alone. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "agent.h"
#include "kdf.h"

struct job *job_new(enum job_kind kind)
{
	struct job *j = calloc(1, sizeof(*j));

	if (j != NULL) {
		j->kind = kind;
		j->file_fd = -1;
	}
	return j;
}

void job_free(struct job *j)
{
	if (j == NULL)
		return;
	sodium_free(j->pin);
	sodium_free(j->new_pin);
	sodium_free(j->recovery);
	sodium_free(j->recovery_out);
	vault_close(j->vault);
	vault_change_free(j->change);
	free(j->login); /* holds no secret */
	cJSON_Delete(j->records);
	sodium_free(j->passphrase);
	sodium_free(j->file);
	if (j->file_fd >= 0)
		close(j->file_fd);
	sodium_memzero(j, sizeof(*j));
	free(j);
}

static void job_run(struct pool *p, struct job *j)
{
	switch (j->kind) {
	case JOB_UNLOCK:
	case JOB_CHECK_PIN:
	case JOB_CHANGE_PIN:
		j->ret = vault_unlock_pin(p->store, j->user, j->pin, &j->vault, &j->attempts_left);
		if (j->ret == VAULT_OK && j->kind == JOB_CHANGE_PIN) {
			/* only prepared: the loop records, applies, records (jobs.c) */
			j->ret = vault_pin_prepare(j->vault, j->new_pin, &j->policy, &j->change);
			vault_close(j->vault);
			j->vault = NULL;
		}
		break;
	case JOB_ENROLL:
		if ((j->recovery_out = sodium_malloc(VAULT_RECOVERY_TEXT_BYTES)) == NULL) {
			j->ret = VAULT_E_NOMEM;
			break;
		}
		j->ret = vault_create_prepare(p->store, j->name, j->pin, &j->policy, j->user,
					      j->recovery_out, &j->change);
		break;
	case JOB_RECOVER:
		if ((j->recovery_out = sodium_malloc(VAULT_RECOVERY_TEXT_BYTES)) == NULL) {
			j->ret = VAULT_E_NOMEM;
			break;
		}
		j->ret = vault_recover_prepare(p->store, j->user, j->recovery, j->new_pin,
					       &j->policy, j->recovery_out, &j->change);
		break;
	case JOB_EXPORT:
		j->ret = vault_unlock_pin(p->store, j->user, j->pin, &j->vault, &j->attempts_left);
		if (j->ret == VAULT_OK)
			j->ret = agent_export_build(j);
		break;
	case JOB_HISTORY:
		j->ret = agent_history_build(j);
		break;
	case JOB_LOGIN: /* never queued: login threads post their result themselves */
		break;
	}
}

static void *worker(void *arg)
{
	struct pool_worker *w = arg;
	struct pool *p = w->pool;

	kdf_thread_bind(w->kdf, w->slot);
	pthread_mutex_lock(&p->lock);
	for (;;) {
		struct job *j;
		while (!p->stop && p->todo == NULL)
			pthread_cond_wait(&p->wake, &p->lock);
		if (p->stop)
			break;
		j = p->todo;
		p->todo = j->next;
		j->policy = *p->policy; /* under the lock that a reload takes to change it */
		pthread_mutex_unlock(&p->lock);
		job_run(p, j);
		pthread_mutex_lock(&p->lock);
		j->next = p->done;
		p->done = j;
		p->queued--;
		(void)!write(p->notify[1], "j", 1);
	}
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

/* Stop and join the first n threads, after a failed start. */
static void pool_unwind(struct pool *p, int n)
{
	pthread_mutex_lock(&p->lock);
	p->stop = 1;
	pthread_cond_broadcast(&p->wake);
	pthread_mutex_unlock(&p->lock);
	for (int i = 0; i < n; i++)
		pthread_join(p->threads[i], NULL);
	close(p->notify[0]);
	close(p->notify[1]);
}

int pool_start(struct pool *p, struct vault_store *store, const struct vault_policy *policy,
	       struct kdf_helpers *kdf)
{
	sigset_t all, old;
	int started = 0;

	memset(p, 0, sizeof(*p));
	p->store = store;
	p->policy = policy;
	if (pipe2(p->notify, O_CLOEXEC | O_NONBLOCK) != 0)
		return -1;
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->wake, NULL);
	/* Signals belong to the loop's thread: the workers block them all. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	for (int i = 0; i < AGENT_KDF_THREADS; i++)
		p->workers[i] = (struct pool_worker){p, kdf, i};
	while (started < AGENT_KDF_THREADS &&
	       pthread_create(&p->threads[started], NULL, worker, &p->workers[started]) == 0)
		started++;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (started < AGENT_KDF_THREADS) { /* out of memory or threads: the agent says so */
		pool_unwind(p, started);
		return -1;
	}
	return 0;
}

int pool_submit(struct pool *p, struct job *j)
{
	struct job **tail;

	pthread_mutex_lock(&p->lock);
	if (p->queued >= AGENT_KDF_QUEUE_MAX) {
		pthread_mutex_unlock(&p->lock);
		return -1;
	}
	for (tail = &p->todo; *tail != NULL; tail = &(*tail)->next)
		;
	j->next = NULL;
	*tail = j;
	p->queued++;
	pthread_cond_signal(&p->wake);
	pthread_mutex_unlock(&p->lock);
	return 0;
}

struct job *pool_take_done(struct pool *p)
{
	struct job *j;
	char drain[64];

	while (read(p->notify[0], drain, sizeof(drain)) > 0)
		;
	pthread_mutex_lock(&p->lock);
	j = p->done;
	p->done = NULL;
	pthread_mutex_unlock(&p->lock);
	return j;
}

/* A result computed elsewhere (a login thread), handed to the loop like a finished job. */
void pool_post_done(struct pool *p, struct job *j)
{
	pthread_mutex_lock(&p->lock);
	j->next = p->done;
	p->done = j;
	(void)!write(p->notify[1], "l", 1);
	pthread_mutex_unlock(&p->lock);
}

void pool_stop(struct pool *p)
{
	struct job *j;

	pthread_mutex_lock(&p->lock);
	p->stop = 1;
	pthread_cond_broadcast(&p->wake);
	pthread_mutex_unlock(&p->lock);
	for (int i = 0; i < AGENT_KDF_THREADS; i++)
		pthread_join(p->threads[i], NULL);
	while ((j = p->todo) != NULL) {
		p->todo = j->next;
		job_free(j);
	}
	while ((j = p->done) != NULL) {
		p->done = j->next;
		job_free(j);
	}
	close(p->notify[0]);
	close(p->notify[1]);
}
