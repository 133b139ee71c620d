/* Agent benchmark, in one run: status latency over the socket (p50, p99), small requests per
 * second from 4 clients, and a full `sesame unlock` through the CLI and the agent against the
 * raw Argon2id run at the same parameters (medians).
 * Usage: bench-agent PATH/TO/sesame PATH/TO/sesame-agent. Prints name=value lines. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "format.h"
#include "proto.h"

#define STATUS_SAMPLES 5000
#define THROUGHPUT_CLIENTS 4
#define THROUGHPUT_SECONDS 2.0
#define UNLOCK_RUNS 7
#define PIN "284619"

static char home[] = "/tmp/sesame-bench-agent.XXXXXX";
static char sock[100]; /* fits sun_path */

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static int rm(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	return remove(path);
}

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

static int status_once(int fd)
{
	cJSON *req = cJSON_CreateObject(), *reply;
	int ok;

	cJSON_AddNumberToObject(req, "v", PROTO_VERSION);
	cJSON_AddStringToObject(req, "op", "status");
	ok = proto_send(fd, req) == 0 && proto_recv(fd, &reply, 5000) == 0 &&
	     cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(reply, "ok"));
	cJSON_Delete(req);
	if (ok)
		cJSON_Delete(reply);
	return ok ? 0 : -1;
}

static void status_latency(void)
{
	static double t[STATUS_SAMPLES];
	int fd = connect_agent();

	if (fd < 0)
		abort();
	for (int i = 0; i < STATUS_SAMPLES; i++) {
		double start = now();
		if (status_once(fd) != 0)
			abort();
		t[i] = now() - start;
	}
	close(fd);
	qsort(t, STATUS_SAMPLES, sizeof(t[0]), cmp_double);
	printf("agent_status_samples=%d\n", STATUS_SAMPLES);
	printf("agent_status_p50_us=%.0f\n", t[STATUS_SAMPLES / 2] * 1e6);
	printf("agent_status_p99_us=%.0f\n", t[STATUS_SAMPLES * 99 / 100] * 1e6);
}

static void *throughput_client(void *arg)
{
	long *count = arg;
	int fd = connect_agent();
	double end = now() + THROUGHPUT_SECONDS;

	while (fd >= 0 && now() < end && status_once(fd) == 0)
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

static double raw_kdf(void)
{
	uint8_t key[32], salt[crypto_pwhash_SALTBYTES] = {0};
	double start = now();

	if (crypto_pwhash(key, sizeof(key), PIN, strlen(PIN), salt, VAULT_KDF_OPS_DEFAULT,
			  (size_t)VAULT_KDF_MEM_KIB_DEFAULT * 1024,
			  crypto_pwhash_ALG_ARGON2ID13) != 0)
		abort();
	return now() - start;
}

static void unlock_ratio(char *sesame)
{
	char *unlock[] = {sesame, "unlock", "bench", "--pin-fd", "0", NULL};
	char *lock[] = {sesame, "lock", NULL};
	double kdf[UNLOCK_RUNS], cli[UNLOCK_RUNS];

	for (int i = 0; i < UNLOCK_RUNS; i++) { /* interleaved, so drift hits both alike */
		double start;
		kdf[i] = raw_kdf();
		start = now();
		if (run(unlock, PIN "\n") != 0)
			abort();
		cli[i] = now() - start;
		run(lock, NULL);
	}
	qsort(kdf, UNLOCK_RUNS, sizeof(double), cmp_double);
	qsort(cli, UNLOCK_RUNS, sizeof(double), cmp_double);
	printf("kdf_median_ms=%.1f\n", kdf[UNLOCK_RUNS / 2] * 1e3);
	printf("cli_unlock_median_ms=%.1f\n", cli[UNLOCK_RUNS / 2] * 1e3);
	printf("cli_unlock_overhead_ratio=%.3f\n", cli[UNLOCK_RUNS / 2] / kdf[UNLOCK_RUNS / 2]);
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

int main(int argc, char **argv)
{
	char *init[] = {argv[1], "init", NULL},
	     *enroll[] = {argv[1], "enroll", "bench", "--pin-fd", "0", NULL};
	char cfg[512];
	pid_t agent;

	if (argc != 3 || sodium_init() < 0 || mkdtemp(home) == NULL) {
		fprintf(stderr, "usage: bench-agent SESAME SESAME-AGENT\n");
		return 2;
	}
	proto_init();
	snprintf(sock, sizeof(sock), "%s/agent.sock", home);
	snprintf(cfg, sizeof(cfg), "%s/config", home);
	setenv("SESAME_HOME", home, 1);
	setenv("SESAME_AGENT_SOCK", sock, 1);
	setenv("XDG_CONFIG_HOME", cfg, 1);
	setenv("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent", 1);
	if (run(init, NULL) != 0 || (agent = start_agent(argv[2])) < 0 ||
	    run(enroll, PIN "\n") != 0) {
		fprintf(stderr, "bench-agent: cannot set up the installation\n");
		return 1;
	}
	status_latency();
	throughput();
	unlock_ratio(argv[1]);
	kill(agent, SIGTERM);
	waitpid(agent, NULL, 0);
	nftw(home, rm, 16, FTW_DEPTH | FTW_PHYS);
	return 0;
}
