/* People benchmark, in one run: an agent over 100,000 enrolled people beside one over 10, each
 * asked in turn (interleaved), with medians: the time to resolve a name (people_lookup_us) and
 * its ratio, a page of 50 people, a search, and the agent's start (status first answered, and
 * the index loaded, measured as a first `users` reply), without the index's cache
 * (agent_start_index_nocache_ms: the cache removed before the start) and with it
 * (agent_start_index_ms), medians of STARTS interleaved starts, each with the load average.
 * Usage: bench-people SESAME SESAME-AGENT [PEOPLE]. The populations are enrolled once, at the
 * lowest KDF cost a configuration allows, under $BENCH_PEOPLE_DIR (default /var/tmp), and kept
 * for the next run. With BENCH_PEOPLE_STANDIN_KDF=1 the population's PIN slots are wrapped with
 * a keyed BLAKE2b instead of Argon2id, for a machine where enrolling 100,000 people at the
 * lowest cost takes hours: nothing measured here runs the KDF, and the line
 * population_kdf=standin says so. With BENCH_PEOPLE_LOG=N the large population's audit log is
 * first brought to N records (synthetic, written without syncs, then synced and signed), so
 * that the agent's start is measured on a log of that length. Prints name=value lines. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "audit.h"
#include "benchutil.h"
#include "home.h"
#include "keys.h"
#include "proto.h"
#include "users.h"
#include "vault.h"

#define PIN "284619"
#define SMALL 10
#define LOOKUPS 2001
#define PAGES 501
#define ENROL_THREADS 4 /* the file syncs overlap */
#define READY_MARK "population-complete"
#define STARTS 3 /* starts measured with and without the cache */

struct population {
	char home[90];
	char sock[108];
	size_t n;
	pid_t agent;
	int fd;
};

static void use(const struct population *p)
{
	char path[PATH_MAX + 32];

	setenv("SESAME_HOME", p->home, 1);
	snprintf(path, sizeof(path), "%.90s/sesame.conf", p->home);
	setenv("SESAME_CONFIG", path, 1);
	setenv("SESAME_AGENT_SOCK", p->sock, 1);
	setenv("XDG_CONFIG_HOME", p->home, 1);
	setenv("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent", 1);
}

static int run(char *const argv[])
{
	pid_t pid = fork();
	int status;

	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);
		dup2(null, 0), dup2(null, 1);
		execv(argv[0], argv);
		_exit(127);
	}
	waitpid(pid, &status, 0);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

struct enrol_ctx {
	struct vault_store *store;
	struct vault_policy policy;
	size_t from, step, n;
	int failed;
};

static void name_of(size_t i, char *out, size_t cap)
{
	static const char *const first[] = {"Marie", "Élodie",	"Jean",	 "Fatou", "Łukasz",
					    "Anne",  "Mohamed", "Chloé", "Paul",  "Inès"};
	snprintf(out, cap, "%s Personne-%07zu", first[i % 10], i);
}

/* Not a KDF: a stand-in for enrolling a population whose PINs are never tried. */
static int standin_kdf(void *ctx, uint8_t *out, const char *pin, size_t pin_len,
		       const uint8_t *salt, uint32_t ops, uint32_t mem_kib)
{
	(void)ctx, (void)ops, (void)mem_kib;
	return crypto_generichash(out, VAULT_KEY_BYTES, (const uint8_t *)pin, pin_len, salt,
				  VAULT_SALT_BYTES);
}

static int standin(void)
{
	const char *e = getenv("BENCH_PEOPLE_STANDIN_KDF");
	return e != NULL && strcmp(e, "1") == 0;
}

static void *enrol_part(void *arg)
{
	struct enrol_ctx *c = arg;
	char *rec = sodium_malloc(VAULT_RECOVERY_TEXT_BYTES), id[VAULT_USER_ID_HEX], name[64];

	for (size_t i = c->from; i < c->n && !c->failed; i += c->step) {
		int ret;
		name_of(i, name, sizeof(name));
		do /* the enrolment lock is shared by the threads: busy is a turn to wait */
			ret = vault_user_create(c->store, name, PIN, &c->policy, id, rec);
		while (ret == VAULT_E_BUSY);
		if (ret != VAULT_OK && ret != VAULT_E_EXISTS) { /* EXISTS: a run resumed */
			fprintf(stderr, "bench-people: enrolling %s: %s\n", name,
				vault_strerror(ret));
			c->failed = 1;
		}
	}
	sodium_free(rec);
	return NULL;
}

/* Enrols p->n people at the lowest KDF cost, two at a time; the index keeps enrolment from
 * reading every vault for each new name. */
static int enrol(struct population *p)
{
	struct sesame_home h;
	struct vault_store *store = NULL;
	struct vault_people *people = NULL;
	struct enrol_ctx ctx[ENROL_THREADS];
	pthread_t th[ENROL_THREADS];
	uint8_t *secret = sodium_malloc(DEVSECRET_BYTES);
	size_t unreadable;
	int ret = -1;

	if (home_resolve(&h, 0) != VAULT_OK || home_read_installation(&h) != VAULT_OK ||
	    home_device_secret(&h, secret, NULL) != VAULT_OK ||
	    vault_store_open(h.vaults, secret, &store) != VAULT_OK ||
	    vault_people_load(store, NULL, &people, &unreadable) != VAULT_OK)
		goto out;
	vault_store_set_people(store, people);
	if (standin())
		vault_store_set_kdf(store, standin_kdf, NULL);
	for (int i = 0; i < ENROL_THREADS; i++) {
		ctx[i] = (struct enrol_ctx){store, h.cfg.policy, (size_t)i, ENROL_THREADS, p->n, 0};
		pthread_create(&th[i], NULL, enrol_part, &ctx[i]);
	}
	ret = 0;
	for (int i = 0; i < ENROL_THREADS; i++) {
		pthread_join(th[i], NULL);
		ret |= ctx[i].failed ? -1 : 0;
	}
out:
	if (store != NULL)
		vault_store_set_people(store, NULL);
	vault_people_free(people);
	vault_store_close(store);
	sodium_free(secret);
	return ret;
}

/* The installation's log brought to n records: what an agent finds after years of use. */
static int grow_log(const struct sesame_home *h, const uint8_t *secret, uint64_t n)
{
	uint8_t key[VAULT_AUDIT_KEY_BYTES];
	struct audit_event evs[AUDIT_MAX_GROUP];
	char purposes[AUDIT_MAX_GROUP][48];
	struct audit_log *log;
	int ret;

	vault_audit_key(secret, key);
	ret = audit_open(h->audit, key, NULL, &log);
	sodium_memzero(key, sizeof(key));
	if (ret != VAULT_OK)
		return -1;
	audit_set_unsafe_fast(log, 1);
	for (uint64_t i = audit_size(log); i < n && ret == VAULT_OK; i += AUDIT_MAX_GROUP) {
		size_t k = n - i < AUDIT_MAX_GROUP ? (size_t)(n - i) : AUDIT_MAX_GROUP;
		for (size_t j = 0; j < k; j++) {
			evs[j] = (struct audit_event){.event = "pin_ok",
						      .time = "2026-11-30T10:00:00Z",
						      .worker_uid = 1000,
						      .worker_login = "alice",
						      .host = "poste-3",
						      .user = "7f3a9c0e7f3a9c0e7f3a9c0e7f3a9c0e",
						      .purpose = purposes[j],
						      .outcome = "ok",
						      .attempts_left = -1};
			snprintf(purposes[j], sizeof(purposes[j]), "rendez-vous %llu",
				 (unsigned long long)(i + j));
		}
		ret = audit_append_many(log, evs, k, NULL);
	}
	audit_close(log);
	return ret == VAULT_OK ? 0 : -1;
}

static int log_to(uint64_t n)
{
	struct sesame_home h;
	uint8_t *secret = sodium_malloc(DEVSECRET_BYTES);
	int ret = -1;

	if (secret != NULL && home_resolve(&h, 0) == VAULT_OK &&
	    home_read_installation(&h) == VAULT_OK &&
	    home_device_secret(&h, secret, NULL) == VAULT_OK)
		ret = grow_log(&h, secret, n);
	sodium_free(secret);
	return ret;
}

static int populate(struct population *p, char *sesame)
{
	char mark[160], conf[160];
	char *init[] = {sesame, "init", NULL};
	FILE *f;

	snprintf(mark, sizeof(mark), "%.90s/" READY_MARK, p->home);
	if (access(mark, F_OK) == 0)
		return 0;
	if (mkdir(p->home, 0700) != 0 && errno != EEXIST)
		return -1;
	snprintf(conf, sizeof(conf), "%.90s/sesame.conf", p->home);
	if ((f = fopen(conf, "w")) == NULL)
		return -1;
	/* the lowest cost a configuration allows: the population is not what is measured */
	fprintf(f, "kdf_passes = %d\nkdf_memory_mib = %u\n", VAULT_KDF_OPS_MIN,
		VAULT_KDF_MEM_KIB_MIN / 1024);
	fclose(f);
	snprintf(mark, sizeof(mark), "%.90s/installation", p->home);
	if (access(mark, F_OK) != 0 && run(init) != 0) /* else a run that stopped resumes */
		return -1;
	if (enrol(p) != 0)
		return -1;
	snprintf(mark, sizeof(mark), "%.90s/" READY_MARK, p->home);
	return (f = fopen(mark, "w")) != NULL && fclose(f) == 0 ? 0 : -1;
}

static int connect_to(const char *path)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0) {
		close(fd);
		fd = -1;
	}
	return fd;
}

/* One request on fd: its reply (to free), or NULL. */
static cJSON *call(int fd, cJSON *req)
{
	cJSON *reply = NULL;

	cJSON_AddNumberToObject(req, "v", PROTO_VERSION);
	if (proto_send(fd, req) != 0 || proto_recv(fd, &reply, 600000) != 0)
		reply = NULL;
	cJSON_Delete(req);
	if (reply != NULL && !cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(reply, "ok"))) {
		cJSON_Delete(reply);
		reply = NULL;
	}
	return reply;
}

static cJSON *op(const char *name)
{
	cJSON *req = cJSON_CreateObject();

	cJSON_AddStringToObject(req, "op", name);
	return req;
}

/* Starts the agent; status_s and ready_s: when status, then the index, first answered. */
static int start(struct population *p, char *agent, double *status_s, double *ready_s)
{
	double t0 = bench_now_s();
	cJSON *r;

	use(p);
	unlink(p->sock);
	if ((p->agent = fork()) == 0) {
		int null = open("/dev/null", O_RDWR);
		dup2(null, 1), dup2(null, 2);
		execl(agent, "sesame-agent", (char *)NULL);
		_exit(127);
	}
	while ((p->fd = connect_to(p->sock)) < 0 && bench_now_s() - t0 < 60)
		usleep(1000);
	if (p->fd < 0 || (r = call(p->fd, op("status"))) == NULL)
		return -1;
	cJSON_Delete(r);
	*status_s = bench_now_s() - t0;
	if ((r = call(p->fd, op("users"))) == NULL)
		return -1;
	cJSON_Delete(r);
	*ready_s = bench_now_s() - t0;
	return 0;
}

static void stop(struct population *p)
{
	close(p->fd);
	kill(p->agent, SIGTERM);
	waitpid(p->agent, NULL, 0);
}

/* The load average, beside each start's figures: the machine is shared. */
static double loadavg(void)
{
	FILE *f = fopen("/proc/loadavg", "r");
	double l = -1;

	if (f != NULL) {
		if (fscanf(f, "%lf", &l) != 1)
			l = -1;
		fclose(f);
	}
	return l;
}

/* STARTS starts without the index's cache (removed first) and with it, interleaved; medians. */
static int start_figures(struct population *p, char *agent, double *status_ms, double *nocache_ms,
			 double *cached_ms)
{
	double st[2 * STARTS], nocache[STARTS], cached[STARTS];
	char cache[PATH_MAX];

	snprintf(cache, sizeof(cache), "%.90s/vaults/%s", p->home, VAULT_PEOPLE_CACHE_FILE);
	for (int r = 0; r < STARTS; r++) {
		double load = loadavg();
		if (unlink(cache) != 0 && errno != ENOENT)
			return -1;
		if (start(p, agent, &st[2 * r], &nocache[r]) != 0)
			return -1;
		stop(p);
		if (start(p, agent, &st[2 * r + 1], &cached[r]) != 0)
			return -1;
		stop(p);
		printf("start_%d_nocache_ms=%.1f start_%d_ms=%.1f loadavg_1m=%.2f\n", r,
		       nocache[r] * 1e3, r, cached[r] * 1e3, load);
	}
	*status_ms = bench_median(st, 2 * STARTS) * 1e3;
	*nocache_ms = bench_median(nocache, STARTS) * 1e3;
	*cached_ms = bench_median(cached, STARTS) * 1e3;
	return 0;
}

static struct population *running[2];

/* A request failed: say which, and stop the agents this run started. */
static void fail(const char *what)
{
	fprintf(stderr, "bench-people: %s failed\n", what);
	for (int i = 0; i < 2; i++)
		if (running[i] != NULL && running[i]->agent > 0)
			kill(running[i]->agent, SIGTERM);
	exit(1);
}

static double lookup_once(struct population *p, size_t i)
{
	char name[64];
	cJSON *req = op("resolve"), *r;
	double t0;

	name_of(i % p->n, name, sizeof(name));
	cJSON_AddStringToObject(req, "user", name);
	t0 = bench_now_s();
	if ((r = call(p->fd, req)) == NULL)
		fail(name);
	t0 = bench_now_s() - t0;
	cJSON_Delete(r);
	return t0;
}

/* A page of 50 from person i on (the cursor is the one the agent gives: "<id>:<name>"), or
 * the first page of a search. */
static double page_once(struct population *p, size_t i, const char *search)
{
	char name[64], cursor[VAULT_PEOPLE_CURSOR_MAX];
	cJSON *req = op("users"), *r;
	double t0;

	cJSON_AddNumberToObject(req, "limit", 50);
	if (search != NULL) {
		cJSON_AddStringToObject(req, "search", search);
	} else {
		cJSON *q = op("resolve");
		name_of(i % p->n, name, sizeof(name));
		cJSON_AddStringToObject(q, "user", name);
		if ((r = call(p->fd, q)) == NULL)
			fail("resolve");
		snprintf(cursor, sizeof(cursor), "%s:%s", proto_string(r, "user"), name);
		cJSON_Delete(r);
		cJSON_AddStringToObject(req, "cursor", cursor);
	}
	t0 = bench_now_s();
	if ((r = call(p->fd, req)) == NULL)
		fail("users");
	t0 = bench_now_s() - t0;
	cJSON_Delete(r);
	return t0;
}

int main(int argc, char **argv)
{
	const char *dir = getenv("BENCH_PEOPLE_DIR") ? getenv("BENCH_PEOPLE_DIR") : "/var/tmp";
	size_t big = argc > 3 ? strtoul(argv[3], NULL, 10) : 100000;
	struct population pop[2];
	static double small_t[LOOKUPS], big_t[LOOKUPS], page_t[PAGES], search_t[PAGES];
	double st[2], ready[2], status_ms, nocache_ms, cached_ms, load;

	if (argc < 3 || sodium_init() < 0 || big < SMALL) {
		fprintf(stderr, "usage: bench-people SESAME SESAME-AGENT [PEOPLE]\n");
		return 2;
	}
	proto_init();
	for (int i = 0; i < 2; i++) {
		struct population *p = &pop[i];
		p->n = i == 0 ? SMALL : big;
		snprintf(p->home, sizeof(p->home), "%s/sesame-bench-people-%zu", dir, p->n);
		snprintf(p->sock, sizeof(p->sock), "%.90s/agent.sock", p->home);
		use(p);
		running[i] = p;
		if (populate(p, argv[1]) != 0 ||
		    (i == 1 && getenv("BENCH_PEOPLE_LOG") != NULL &&
		     log_to(strtoull(getenv("BENCH_PEOPLE_LOG"), NULL, 10)) != 0)) {
			fprintf(stderr, "bench-people: cannot set up %zu people in %s\n", p->n,
				p->home);
			fail("start");
		}
	}
	/* the starts are measured before the agents that answer the lookups start: a connection
	 * left idle meanwhile would be closed */
	if (start_figures(&pop[1], argv[2], &status_ms, &nocache_ms, &cached_ms) != 0)
		fail("start");
	for (int i = 0; i < 2; i++)
		if (start(&pop[i], argv[2], &st[i], &ready[i]) != 0)
			fail("start");
	for (size_t i = 0; i < LOOKUPS; i++) { /* interleaved: drift hits both alike */
		size_t k = (i * 7919) % big;
		small_t[i] = lookup_once(&pop[0], k);
		big_t[i] = lookup_once(&pop[1], k);
	}
	for (size_t i = 0; i < PAGES; i++) {
		page_t[i] = page_once(&pop[1], (i * 7919) % big, NULL);
		search_t[i] = page_once(&pop[1], i, "élodie personne-00");
	}
	load = loadavg();
	printf("people=%zu\n", big);
	printf("population_kdf=%s\n", standin() ? "standin" : "lowest");
	if (getenv("BENCH_PEOPLE_LOG") != NULL)
		printf("audit_records=%s\n", getenv("BENCH_PEOPLE_LOG"));
	printf("agent_start_status_ms=%.1f\n", status_ms);
	printf("agent_start_index_nocache_ms=%.1f\n", nocache_ms);
	printf("agent_start_index_ms=%.1f\n", cached_ms);
	printf("loadavg_1m=%.2f\n", load);
	printf("people_lookup_us_%d=%.1f\n", SMALL, bench_median(small_t, LOOKUPS) * 1e6);
	printf("people_lookup_us=%.1f\n", bench_median(big_t, LOOKUPS) * 1e6);
	printf("people_lookup_ratio=%.3f\n",
	       bench_median(big_t, LOOKUPS) / bench_median(small_t, LOOKUPS));
	printf("users_page50_ms=%.3f\n", bench_median(page_t, PAGES) * 1e3);
	printf("users_search50_ms=%.3f\n", bench_median(search_t, PAGES) * 1e3);
	stop(&pop[0]);
	stop(&pop[1]);
	return 0;
}
