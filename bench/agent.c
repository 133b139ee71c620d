/* Agent benchmark, in one run, with 1,000 people enrolled (at the lowest KDF cost a
 * configuration allows; the measured person at the default cost): status latency over the
 * socket (p50, p99) alone and while 63 more clients (64 in all, as many as one worker may hold)
 * resolve names and read pages of people, small
 * requests per second from 4 clients, and a full `sesame unlock` through the CLI and the agent
 * against the raw Argon2id run at the same parameters and at the priority of the agent's KDF
 * helpers (interleaved pairs; the ratio is the pairs' median).
 * Usage: bench-agent PATH/TO/sesame PATH/TO/sesame-agent. Prints name=value lines. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "benchutil.h"
#include "format.h"
#include "proto.h"

#define STATUS_SAMPLES 5000
#define PEOPLE 1000
#define BUSY_CLIENTS 63 /* with the one measuring status: the share one worker may hold */
#define KDF_NICE 10	/* the agent's helpers' (agent/kdf.c) */
#define THROUGHPUT_CLIENTS 4
#define THROUGHPUT_SECONDS 2.0
#define UNLOCK_RUNS 11
#define PIN "284619"

static char home[] = "/tmp/sesame-bench-agent.XXXXXX";
static char sock[100]; /* fits sun_path */

/* Run argv with "PIN\n" on standard input; returns the exit status. */
static int run(char *const argv[], const char *input)
{
	int p[2], status;
	pid_t pid;

	if (pipe(p) != 0 || (pid = fork()) < 0)
		return -1;
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);
		dup2(p[0], 0);
		dup2(null, 1);
		close(p[0]), close(p[1]);
		execv(argv[0], argv);
		_exit(127);
	}
	close(p[0]);
	if (input != NULL)
		(void)!write(p[1], input, strlen(input));
	close(p[1]);
	waitpid(pid, &status, 0);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static int connect_agent(void)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", sock);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0)
		return -1;
	return fd;
}

/* One request on fd; 0 if it was answered ok. */
static int call_ok(int fd, cJSON *req)
{
	cJSON *reply;
	int ok;

	cJSON_AddNumberToObject(req, "v", PROTO_VERSION);
	ok = proto_send(fd, req) == 0 && proto_recv(fd, &reply, 600000) == 0;
	cJSON_Delete(req);
	if (ok) {
		ok = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(reply, "ok"));
		cJSON_Delete(reply);
	}
	return ok ? 0 : -1;
}

static cJSON *op(const char *name)
{
	cJSON *req = cJSON_CreateObject();

	cJSON_AddStringToObject(req, "op", name);
	return req;
}

static int status_once(int fd)
{
	return call_ok(fd, op("status"));
}

static void status_latency(const char *prefix)
{
	static double t[STATUS_SAMPLES];
	int fd = connect_agent();

	if (fd < 0)
		abort();
	for (int i = 0; i < STATUS_SAMPLES; i++) {
		double start = bench_now_s();
		if (status_once(fd) != 0)
			abort();
		t[i] = bench_now_s() - start;
	}
	close(fd);
	qsort(t, STATUS_SAMPLES, sizeof(t[0]), bench_cmp_double);
	printf("%sstatus_samples=%d\n", prefix, STATUS_SAMPLES);
	printf("%sstatus_p50_us=%.0f\n", prefix, t[STATUS_SAMPLES / 2] * 1e6);
	printf("%sstatus_p99_us=%.0f\n", prefix, t[STATUS_SAMPLES * 99 / 100] * 1e6);
}

static void person_name(unsigned i, char *out, size_t cap)
{
	snprintf(out, cap, "Personne %04u", i);
}

/* PEOPLE people through the protocol, four connections at a time. */
static void *enrol_part(void *arg)
{
	unsigned from = *(unsigned *)arg;
	int fd = connect_agent();
	char name[32];

	for (unsigned i = from; fd >= 0 && i < PEOPLE; i += 4) {
		cJSON *req = op("enroll");
		person_name(i, name, sizeof(name));
		cJSON_AddStringToObject(req, "name", name);
		cJSON_AddStringToObject(req, "pin", PIN);
		/* the enrolment stands once the key is said to be shown (docs/protocol.md) */
		if (call_ok(fd, req) != 0 || call_ok(fd, op("recovery_shown")) != 0)
			abort();
	}
	if (fd >= 0)
		close(fd);
	return NULL;
}

static void enrol_people(void)
{
	pthread_t th[4];
	unsigned from[4] = {0, 1, 2, 3};

	for (int i = 0; i < 4; i++)
		pthread_create(&th[i], NULL, enrol_part, &from[i]);
	for (int i = 0; i < 4; i++)
		pthread_join(th[i], NULL);
}

static volatile int busy_stop;

/* A client that resolves names and reads pages of people until told to stop. */
static void *busy_client(void *arg)
{
	unsigned seed = (unsigned)(uintptr_t)arg;
	int fd = connect_agent();
	char name[32];

	while (fd >= 0 && !busy_stop) {
		cJSON *req = op("resolve");
		person_name(rand_r(&seed) % PEOPLE, name, sizeof(name));
		cJSON_AddStringToObject(req, "user", name);
		if (call_ok(fd, req) != 0)
			abort();
		req = op("users");
		cJSON_AddStringToObject(req, "search", name);
		if (call_ok(fd, req) != 0)
			abort();
	}
	if (fd >= 0)
		close(fd);
	return NULL;
}

static void status_under_load(void)
{
	pthread_t th[BUSY_CLIENTS];

	busy_stop = 0;
	for (uintptr_t i = 0; i < BUSY_CLIENTS; i++)
		pthread_create(&th[i], NULL, busy_client, (void *)(i + 1));
	status_latency("agent_busy_");
	busy_stop = 1;
	for (int i = 0; i < BUSY_CLIENTS; i++)
		pthread_join(th[i], NULL);
	printf("agent_busy_clients=%d\nagent_concurrent_clients=%d\nagent_people=%d\n",
	       BUSY_CLIENTS, BUSY_CLIENTS + 1, PEOPLE);
}

static void *throughput_client(void *arg)
{
	long *count = arg;
	int fd = connect_agent();
	double end = bench_now_s() + THROUGHPUT_SECONDS;

	while (fd >= 0 && bench_now_s() < end && status_once(fd) == 0)
		(*count)++;
	if (fd >= 0)
		close(fd);
	return NULL;
}

static void throughput(void)
{
	pthread_t th[THROUGHPUT_CLIENTS];
	long count[THROUGHPUT_CLIENTS] = {0}, total = 0;

	for (int i = 0; i < THROUGHPUT_CLIENTS; i++)
		pthread_create(&th[i], NULL, throughput_client, &count[i]);
	for (int i = 0; i < THROUGHPUT_CLIENTS; i++) {
		pthread_join(th[i], NULL);
		total += count[i];
	}
	printf("agent_clients=%d\n", THROUGHPUT_CLIENTS);
	printf("agent_requests_per_s=%.0f\n", (double)total / THROUGHPUT_SECONDS);
}

/* Argon2id at the vault's default parameters, on a thread at the priority of the agent's KDF
 * helpers (SCHED_BATCH, nice KDF_NICE), as an unlock runs it. */
static void *kdf_thread(void *arg)
{
	struct sched_param batch = {0};
	uint8_t key[32], salt[crypto_pwhash_SALTBYTES] = {0};
	pid_t tid = (pid_t)syscall(SYS_gettid);
	double *t = arg, start;

	sched_setscheduler(tid, SCHED_BATCH, &batch);
	setpriority(PRIO_PROCESS, (id_t)tid, KDF_NICE);
	start = bench_now_s();
	if (crypto_pwhash(key, sizeof(key), PIN, strlen(PIN), salt, VAULT_KDF_OPS_DEFAULT,
			  (size_t)VAULT_KDF_MEM_KIB_DEFAULT * 1024,
			  crypto_pwhash_ALG_ARGON2ID13) != 0)
		abort();
	*t = bench_now_s() - start;
	return NULL;
}

static double raw_kdf(void)
{
	pthread_t th;
	double t = 0;

	pthread_create(&th, NULL, kdf_thread, &t);
	pthread_join(th, NULL);
	return t;
}

/* One `sesame unlock`, timed from the command's start to its exit. */
static double timed_unlock(char **unlock)
{
	double start = bench_now_s();

	if (run(unlock, PIN "\n") != 0)
		abort();
	return bench_now_s() - start;
}

static void unlock_ratio(char *sesame)
{
	char *unlock[] = {sesame, "unlock", "bench", "--pin-fd", "0", NULL};
	char *lock[] = {sesame, "lock", NULL};
	double kdf[UNLOCK_RUNS], cli[UNLOCK_RUNS], ratio[UNLOCK_RUNS];

	/* interleaved, each pair in turn in either order, so that drift hits both alike; the
	 * ratio is the median of the pairs' ratios */
	for (int i = 0; i < UNLOCK_RUNS; i++) {
		if (i % 2 == 0)
			kdf[i] = raw_kdf();
		cli[i] = timed_unlock(unlock);
		if (i % 2 != 0)
			kdf[i] = raw_kdf();
		run(lock, NULL);
		ratio[i] = cli[i] / kdf[i];
	}
	printf("kdf_median_ms=%.1f\n", bench_median(kdf, UNLOCK_RUNS) * 1e3);
	printf("cli_unlock_median_ms=%.1f\n", bench_median(cli, UNLOCK_RUNS) * 1e3);
	printf("cli_unlock_overhead_ratio=%.3f\n", bench_median(ratio, UNLOCK_RUNS));
}

static pid_t start_agent(char *agent)
{
	pid_t pid = fork();

	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);
		dup2(null, 1), dup2(null, 2);
		execl(agent, "sesame-agent", (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 500; i++) {
		int fd = connect_agent();
		if (fd >= 0) {
			close(fd);
			return pid;
		}
		usleep(10000);
	}
	return -1;
}

static void write_conf(const char *path, int lowest)
{
	FILE *f = fopen(path, "w");

	if (f == NULL)
		abort();
	if (lowest) /* the population's cost: what is measured never runs their KDF */
		fprintf(f, "kdf_passes = %d\nkdf_memory_mib = %u\n", VAULT_KDF_OPS_MIN,
			VAULT_KDF_MEM_KIB_MIN / 1024);
	fclose(f);
}

static void stop_agent(pid_t agent)
{
	kill(agent, SIGTERM);
	waitpid(agent, NULL, 0);
}

int main(int argc, char **argv)
{
	char *init[] = {argv[1], "init", NULL},
	     *enroll[] = {argv[1], "enroll", "bench", "--pin-fd", "0", NULL};
	char cfg[512], conf[512];
	pid_t agent;

	if (argc != 3 || sodium_init() < 0 || mkdtemp(home) == NULL) {
		fprintf(stderr, "usage: bench-agent SESAME SESAME-AGENT\n");
		return 2;
	}
	proto_init();
	snprintf(sock, sizeof(sock), "%s/agent.sock", home);
	snprintf(cfg, sizeof(cfg), "%s/config", home);
	snprintf(conf, sizeof(conf), "%s/sesame.conf", home);
	setenv("SESAME_HOME", home, 1);
	setenv("SESAME_CONFIG", conf, 1);
	setenv("SESAME_AGENT_SOCK", sock, 1);
	setenv("XDG_CONFIG_HOME", cfg, 1);
	setenv("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent", 1);
	write_conf(conf, 1);
	if (run(init, NULL) != 0 || (agent = start_agent(argv[2])) < 0) {
		fprintf(stderr, "bench-agent: cannot set up the installation\n");
		return 1;
	}
	enrol_people();
	stop_agent(agent);
	write_conf(conf, 0); /* the measured person: the default cost */
	if ((agent = start_agent(argv[2])) < 0 || run(enroll, PIN "\n") != 0) {
		fprintf(stderr, "bench-agent: cannot enrol the measured person\n");
		return 1;
	}
	status_latency("agent_");
	status_under_load();
	throughput();
	unlock_ratio(argv[1]);
	stop_agent(agent);
	bench_rmtree(home);
	return 0;
}
