/* sesame-agent: holds users' data keys for the length of an appointment, owns the vault
 * directory and the audit log, and answers the CLI over a Unix socket (docs/protocol.md). */
#ifndef SESAME_AGENT_AGENT_H
#define SESAME_AGENT_AGENT_H

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "audit.h"
#include "home.h"
#include "kdf.h"
#include "users.h"
#include "vault.h"

#define AGENT_MAX_CONNS 512 /* more clients wait in the listen backlog */
/* One worker cannot take every connection: beyond this many of its own, the next is answered
 * PROTO_E_LIMIT and closed. 64 parallel clients of one account are served (robust.py). */
#define AGENT_CONNS_PER_UID 64
/* A request must arrive whole, a reply be taken, and an idle connection send its next request
 * within this; then the connection is closed. PIN jobs and logins have their own bounds. */
#define AGENT_CONN_WAIT_MS 10000
/* After SIGTERM the agent has ended within this, whatever clients, logins or helpers do. */
#define AGENT_STOP_MAX_S 15
#define AGENT_KDF_THREADS 2    /* Argon2id runs at once; each takes 256 MiB by default */
#define AGENT_KDF_QUEUE_MAX 32 /* queued PIN checks beyond this are refused as busy */
#define AGENT_LOGIN_MAX 64
#define AGENT_NAMES_MAX 200    /* ids in one names request */
#define AGENT_RECEIPT_MAX 128  /* records a session's receipt proves (docs/protocol.md, lock) */
#define AGENT_HISTORY_MAX 1000 /* a person's latest records a history gives */
#define AGENT_HOST_MAX 64
#define AGENT_PURPOSE_MAX 200
/* PIN changes and recoveries under way: at most one per person, each a queued or running job */
#define AGENT_CHANGES_MAX (AGENT_KDF_QUEUE_MAX + AGENT_KDF_THREADS)
#define AGENT_USERS_PAGE 50	/* people in a page the client did not size */
#define AGENT_DAMAGED_LISTED 20 /* damaged vault files a reply names ("unreadable": all) */
#define AGENT_LIST_PAGE 50	/* credentials in a page the client did not size */
#define AGENT_LIST_PAGE_MAX 64	/* at the longest fields, a page stays under 1 MiB */
#define AGENT_PASSPHRASE_MIN 8	/* bytes of an export's passphrase at the least */
/* Queued requests run for at most this long before the loop polls again, so that a status
 * request waits for no more than one such slice, however many clients keep the agent busy. */
#define AGENT_SLICE_US 200

struct conn {
	unsigned id;
	int fd;
	uid_t uid;
	gid_t gid;
	pid_t pid;
	char login[AGENT_LOGIN_MAX];
	uint8_t head[4];
	size_t head_got;
	uint8_t *body; /* guarded (a pool's or sodium_malloc): requests carry PINs and passwords */
	size_t body_len, body_got;
	uint8_t *out; /* a framed reply: guarded when it carries a secret (out_guarded) */
	size_t out_len, out_sent;
	int out_guarded;
	size_t reply_max; /* the largest reply this request's client takes (docs/protocol.md) */
	cJSON *deferred;  /* a request that waits for the people index to be loaded */
	cJSON *queued;	  /* a request that waits its turn in the run queue (loop.c) */
	struct conn *queue_next;
	int busy;    /* a PIN job runs for this connection: read nothing more until it replies */
	int closing; /* close once the reply is sent */
	int auditor; /* may read people's names in the log (auditor.c) */
	int fds_refused;   /* descriptors came with the request: it is refused (docs/protocol.md) */
	int file_fd;	   /* an export's file, handed by the client; -1: none */
	int login_running; /* a login thread works for it: a hang-up interrupts the login */
	int interrupted;
	long long deadline_ms; /* proto_now_ms() by which the current wait must end; 0: none */
	/* an enrolment or recovery whose new recovery key was sent: undone unless the client's
	 * next request says the key is shown (docs/protocol.md, "recovery_shown") */
	struct job *pending;
	struct conn *next;
};

struct session {
	uid_t worker;
	char user[VAULT_USER_ID_HEX];
	char name[VAULT_NAME_MAX + 1];
	struct vault *vault; /* holds the data key */
	time_t opened, last_used;
	/* the records written for this session, for the person's receipt at lock (the first
	 * AGENT_RECEIPT_MAX; receipt_more counts the others) */
	uint64_t receipt[AGENT_RECEIPT_MAX];
	size_t nreceipt, receipt_more;
	struct session *next;
};

/* JOB_CHECK_PIN counts and checks a PIN as an unlock does, and opens nothing. */
/* JOB_EXPORT checks the PIN likewise and builds the export's bytes (export.c). */
/* JOB_HISTORY reads a person's latest records from the log (auditor.c), or the asking
 * worker's ("mine"): a read of the whole log, made on the pool (a person's after their PIN
 * check) so that the loop answers others meanwhile. */
enum job_kind {
	JOB_UNLOCK,
	JOB_ENROLL,
	JOB_CHANGE_PIN,
	JOB_RECOVER,
	JOB_LOGIN,
	JOB_CHECK_PIN,
	JOB_EXPORT,
	JOB_HISTORY,
};

struct agent;
struct conn;
struct job;
/* Ends a job on the loop's thread: records, replies (c is NULL when its client has gone). */
typedef void (*job_done_fn)(struct agent *a, struct conn *c, struct job *j);

/* Work that runs Argon2id, done on a pool thread so the loop keeps answering. */
struct job {
	enum job_kind kind;
	unsigned conn_id; /* the connection may be gone when the job ends */
	uid_t worker;
	char worker_login[AGENT_LOGIN_MAX];
	char user[VAULT_USER_ID_HEX];
	char name[VAULT_NAME_MAX + 1];
	char purpose[AGENT_PURPOSE_MAX + 1];
	size_t damaged; /* enrolment: unreadable vault files it was told to go past ("force") */
	char *pin, *new_pin, *recovery; /* sodium_malloc inputs */
	struct vault_policy
	    policy; /* the PIN rules when the job started (a reload may change them) */
	int ret;    /* results */
	unsigned attempts_left;
	struct vault *vault;
	struct vault_change *change; /* enrolment, PIN change, recovery: applied by the loop */
	char *recovery_out;	     /* sodium_malloc */
	struct login_result *login;  /* JOB_LOGIN: posted by a login thread (login.c) */
	/* JOB_EXPORT: the file the command created (-1: none), the KDBX passphrase
	 * (sodium_malloc) or CSV, and the bytes built (sodium_malloc) for count credentials */
	int file_fd;
	int export_csv, generated; /* generated: the reply gives the passphrase, once */
	char *passphrase;
	uint8_t *file;
	size_t file_len, count;
	job_done_fn done;      /* set by whoever made the job */
	int history;	       /* JOB_CHECK_PIN: the reply carries the person's records */
	int mine;	       /* JOB_HISTORY: the asking worker's records, not a person's */
	const char *audit_dir; /* JOB_HISTORY: the log to read */
	cJSON *records;	       /* JOB_HISTORY: the reply's "records" and "earlier" */
	struct job *next;
};

struct pool;
struct pool_worker {
	struct pool *pool;
	struct kdf_helpers *kdf; /* this thread's Argon2id helper process is kdf's slot (kdf.h) */
	int slot;
};

struct pool {
	pthread_t threads[AGENT_KDF_THREADS];
	struct pool_worker workers[AGENT_KDF_THREADS];
	pthread_mutex_t lock;
	pthread_cond_t wake;
	struct job *todo, *done;
	size_t queued;
	int notify[2]; /* a byte on notify[1] tells the loop that jobs are done */
	int stop;
	struct vault_store *store;
	const struct vault_policy *policy;
};

struct agent {
	struct sesame_home home;
	pid_t pid; /* for status: getpid is a system call in each request otherwise */
	int listen_fd;
	gid_t worker_gid;  /* system mode */
	gid_t auditor_gid; /* system mode, when auditor_group is set */
	int have_auditor_gid;
	int mine_running; /* a worker's own records are being read (one such read at a time) */
	struct vault_store *store;
	struct audit_log *log;
	struct session *sessions;
	struct conn *conns;
	size_t nconns;
	/* requests read but not yet run, oldest first: each connection has one at most, so the
	 * clients take turns (loop.c) */
	struct conn *queue_head, *queue_tail;
	unsigned next_conn_id;
	struct pool pool;
	struct kdf_helpers kdf;
	int bound; /* the socket file is ours to remove at exit */
	char changing[AGENT_CHANGES_MAX][VAULT_USER_ID_HEX]; /* ids; "" is a free slot */
	/* the people index (vault/users.h), read by a thread at start; status is answered while
	 * it loads, and requests that name people wait for it */
	struct vault_people *people, *people_loaded;
	pthread_t people_thread;
	int people_loading, people_ret;
	atomic_int people_done;
	struct vault_people_start people_start; /* what the load did, reported by the loop */
	/* a page of people (names: guarded), mapped once and wiped after each reply, since
	 * mapping guarded memory costs more than the whole page */
	struct vault_person *people_page;
	char host[AGENT_HOST_MAX];
};

extern volatile sig_atomic_t agent_quit;
extern volatile sig_atomic_t agent_reload; /* SIGHUP: read sesame.conf again */
/* Read sesame.conf again (main.c): a wrong file is reported and the settings stay as they were. */
void agent_reload_config(struct agent *a);

/* loop.c: the poll loop; finished jobs end through their completion function */
int agent_loop(struct agent *a);
void agent_jobs_finish(struct agent *a);
/* Queue req (kept) to run in its turn; status requests are never queued but answered at once. */
void agent_queue_add(struct agent *a, struct conn *c, cJSON *req);
void agent_queue_drop(struct agent *a, struct conn *c);

/* conn.c: connections and replies */
void agent_conn_accept(struct agent *a);
int agent_conn_read(struct agent *a, struct conn *c);
int agent_conn_write(struct conn *c);
void agent_conn_close(struct agent *a, struct conn *c);
struct conn *agent_conn_find(struct agent *a, unsigned id);
void agent_reply(struct agent *a, struct conn *c, cJSON *reply);
void agent_reply_error(struct agent *a, struct conn *c, int code, const char *message);

/* limits.c: what one connection or one worker may hold, and for how long */
int agent_conn_admit(struct agent *a, struct conn *c);
void agent_conn_wait(struct conn *c);
int agent_conn_expire(struct agent *a, long long now);

/* handlers.c */
void agent_dispatch(struct agent *a, struct conn *c, cJSON *req);

/* auditor.c: who is an auditor, and the names request */
int agent_peer_auditor(const struct agent *a, uid_t uid, gid_t gid, const gid_t *groups,
		       size_t ngroups);
void agent_names(struct agent *a, struct conn *c, const cJSON *req);
/* The person's latest records (after their PIN), as the log's lines, into reply. */
/* JOB_HISTORY: on a pool thread, the person's records; on the loop's, the reply. */
int agent_history_build(struct job *j);
void agent_history_done(struct agent *a, struct conn *c, struct job *j);
/* "mine": the asking worker's own records, read on the pool (auditor.c). */
void agent_mine(struct agent *a, struct conn *c, const cJSON *req);

/* people.c: the index of people, loaded on a thread at start */
int agent_people_start(struct agent *a);
void agent_people_poll(struct agent *a);
int agent_people_defer(struct agent *a, struct conn *c, const cJSON *req);
void agent_people_stop(struct agent *a);
/* Adds "unreadable" and "damaged" (the vault files the index could not read; with recheck,
 * read again first) to r; returns how many there are. */
size_t agent_people_damaged(struct agent *a, cJSON *r, int recheck);

/* jobs.c: how a PIN job ends, on the loop's thread (c is NULL when its client has gone) */
void agent_pin_job_done(struct agent *a, struct conn *c, struct job *j);
/* -1 if a PIN change or recovery of user is already under way; else marks it until its end */
int agent_change_begin(struct agent *a, const char *user);
void agent_change_end(struct agent *a, const char *user);
/* The acknowledgment of a new recovery key (its change stands), or its absence (undone, with
 * why in the log); whether a change of user waits for one. */
void agent_key_shown(struct agent *a, struct conn *c, const cJSON *req);
void agent_key_unshown(struct agent *a, struct conn *c, const char *why);
int agent_change_pending(const struct agent *a, const char *user);

/* session.c */
struct session *session_find(struct agent *a, uid_t worker, const char *user);
int session_open(struct agent *a, uid_t worker, const char *user, const char *name,
		 struct vault *vault);
void session_close(struct agent *a, struct session *s, const char *reason, const char *login);
/* The same, keeping the session's records (its session_closed included) in out, *n of them. */
void session_close_receipt(struct agent *a, struct session *s, const char *reason,
			   const char *login, uint64_t out[AGENT_RECEIPT_MAX], size_t *n);
/* A record written for (worker, user): kept in that worker's session with them, if open. */
void session_note(struct agent *a, uid_t worker, const char *user, uint64_t seq);
int session_expire(struct agent *a, time_t now);
void session_close_all(struct agent *a, const char *reason);
void session_touch(struct session *s);

/* pool.c */
int pool_start(struct pool *p, struct vault_store *store, const struct vault_policy *policy,
	       struct kdf_helpers *kdf);
int pool_submit(struct pool *p, struct job *j);
struct job *pool_take_done(struct pool *p);
void pool_post_done(struct pool *p, struct job *j);
void pool_stop(struct pool *p);
struct job *job_new(enum job_kind kind);
void job_free(struct job *j);

/* login.c: assisted logins, each on its own thread (docs/protocol.md, "login") */
void agent_login(struct agent *a, struct conn *c, const cJSON *req);
void agent_login_done(struct agent *a, struct conn *c, struct job *j);
/* Ends every login and waits for them at most wait_s seconds: the number still running. */
int agent_login_stop(int wait_s);
void agent_login_interrupted(unsigned conn_id);
void agent_login_session_end(uid_t worker, const char *user);

/* export.c: a regular, empty file open for writing; the bytes (on a pool thread, after the PIN
 * opened j->vault); the record, the write and the reply (on the loop's thread) */
int agent_export_file_ok(int fd);
int agent_export_build(struct job *j);
void agent_export_done(struct agent *a, struct conn *c, struct job *j);

/* events.c: audit records, written before the action they guard */
struct audit_event agent_event(struct agent *a, const char *event, uid_t worker, const char *login,
			       char time_buf[AUDIT_TIME_LEN + 1]);
int agent_audit(struct agent *a, struct audit_event *ev);
const char *agent_login_of(uid_t uid, char *buf, size_t cap);

#endif
