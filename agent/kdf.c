#include <errno.h>
#include <poll.h>
#include <sched.h>
#include <spawn.h>
#include <signal.h>
#include <sys/resource.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sodium.h>

#include "bytes.h"
#include "format.h"
#include "kdf.h"
#include "proto.h"

/* A request: ops (4 bytes), memory in KiB (4), salt (16), PIN length (1), PIN.
 * A reply: status (1: 0 ok), then the 32-byte output when ok. */
#define REQ_HEAD (4 + 4 + VAULT_SALT_BYTES + 1)
#define REPLY_LEN (1 + VAULT_KEY_BYTES)
#define KDF_NICE 10

extern char **environ;

static __thread struct kdf_helpers *thread_helpers;
static __thread int thread_slot = -1;
static __thread long long thread_slowest_ms; /* the slowest answer of this thread's helpers */

static int read_full(int fd, void *buf, size_t n)
{
	uint8_t *p = buf;

	while (n > 0) {
		ssize_t r = read(fd, p, n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

/* One request; returns -1 when the agent has gone. */
static int serve_one(int fd, uint8_t *buf)
{
	uint8_t *head = buf, *pin = buf + REQ_HEAD, *reply = pin + KDF_PIN_MAX;
	uint32_t ops, mem;
	int ret = 0;

	if (read_full(fd, head, REQ_HEAD) != 0 || head[REQ_HEAD - 1] > KDF_PIN_MAX ||
	    read_full(fd, pin, head[REQ_HEAD - 1]) != 0)
		return -1;
	ops = load_be32(head), mem = load_be32(head + 4);
	reply[0] = 1;
	if (ops >= VAULT_KDF_OPS_MIN && ops <= VAULT_KDF_OPS_MAX && mem >= VAULT_KDF_MEM_KIB_MIN &&
	    mem <= VAULT_KDF_MEM_KIB_MAX &&
	    crypto_pwhash(reply + 1, VAULT_KEY_BYTES, (const char *)pin, head[REQ_HEAD - 1],
			  head + 8, ops, (size_t)mem * 1024, crypto_pwhash_ALG_ARGON2ID13) == 0)
		reply[0] = 0;
	if (proto_send_all(fd, reply, reply[0] == 0 ? REPLY_LEN : 1) != 0)
		ret = -1;
	sodium_memzero(buf, REQ_HEAD + KDF_PIN_MAX + REPLY_LEN);
	return ret;
}

void kdf_helper_main(int fd)
{
	struct sched_param batch = {0};
	uint8_t *buf;

	prctl(PR_SET_PDEATHSIG, SIGKILL); /* never outlive the agent */
	/* A second of hashing yields to the loop at once: on two cores, two helpers at the loop's
	 * own priority would make a status request wait for the scheduler. */
	sched_setscheduler(0, SCHED_BATCH, &batch);
	setpriority(PRIO_PROCESS, 0, KDF_NICE);
	signal(SIGTERM, SIG_DFL);
	signal(SIGINT, SIG_IGN); /* a Ctrl-C reaches the agent, which then closes our socket */
	signal(SIGHUP, SIG_IGN);
	if (fd != KDF_HELPER_FD && dup2(fd, KDF_HELPER_FD) < 0)
		_exit(1);
	close_range(4, ~0U, 0); /* keep nothing of the agent's but stdio */
	if ((buf = sodium_malloc(REQ_HEAD + KDF_PIN_MAX + REPLY_LEN)) == NULL)
		_exit(1);
	while (serve_one(KDF_HELPER_FD, buf) == 0)
		;
	sodium_free(buf);
	_exit(0);
}

int kdf_helpers_start(struct kdf_helpers *h, int n)
{
	memset(h, 0, sizeof(*h));
	for (int i = 0; i < n && i < 8; i++) {
		int sv[2];
		pid_t pid;
		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0 ||
		    (pid = fork()) < 0)
			return -1;
		if (pid == 0) {
			close(sv[0]);
			kdf_helper_main(sv[1]);
		}
		close(sv[1]);
		h->fd[i] = sv[0];
		h->pid[i] = pid;
		h->n++;
	}
	return 0;
}

void kdf_helpers_stop(struct kdf_helpers *h)
{
	for (int i = 0; i < h->n; i++) {
		if (h->fd[i] >= 0)
			close(h->fd[i]); /* the helper sees EOF and exits */
		if (h->pid[i] > 0)
			waitpid(h->pid[i], NULL, 0);
	}
	h->n = 0;
}

void kdf_thread_bind(struct kdf_helpers *h, int slot)
{
	thread_helpers = h;
	thread_slot = slot;
}

/* Replace this thread's helper, which died or hung up (the OOM killer takes the biggest process
 * first, and a helper running Argon2id is it). The agent holds secrets and threads by now, so
 * the new helper is not a fork of it but a fresh exec of the agent's program in helper mode. */
static int helper_respawn(struct kdf_helpers *h, int slot)
{
	char *argv[] = {(char *)"sesame-agent", (char *)KDF_HELPER_ARG, NULL};
	posix_spawn_file_actions_t fa;
	int sv[2], ret;
	pid_t pid;

	close(h->fd[slot]);
	h->fd[slot] = -1;
	if (h->pid[slot] > 0) {
		kill(h->pid[slot], SIGKILL);
		waitpid(h->pid[slot], NULL, 0);
		h->pid[slot] = 0;
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
		return -1;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, sv[1], KDF_HELPER_FD);
	ret = posix_spawn(&pid, "/proc/self/exe", &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(sv[1]);
	if (ret != 0) {
		close(sv[0]);
		return -1;
	}
	h->fd[slot] = sv[0];
	h->pid[slot] = pid;
	return 0;
}

/* One request to the helper on fd: 0 with out filled, -1 if the helper failed or is gone.
 * The reply goes to its own part of buf, so the request can be sent again. */
/* read_full, giving up at deadline (proto_now_ms): a stopped helper must not hold a PIN check. */
static int read_until(int fd, uint8_t *p, size_t n, long long deadline)
{
	while (n > 0) {
		struct pollfd pfd = {fd, POLLIN, 0};
		long long left = deadline - proto_now_ms();
		int ready = left > 0 ? poll(&pfd, 1, (int)left) : 0;
		ssize_t r;
		if (ready < 0 && errno == EINTR)
			continue;
		if (ready <= 0)
			return -1;
		if ((r = read(fd, p, n)) < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

static int ask(int fd, uint8_t *buf, size_t req_len, uint8_t *out)
{
	uint8_t *reply = buf + REQ_HEAD + KDF_PIN_MAX;
	long long start = proto_now_ms(), wait = KDF_HELPER_WAIT_FACTOR * thread_slowest_ms;
	long long deadline =
	    start + (wait > KDF_HELPER_WAIT_MIN_MS ? wait : KDF_HELPER_WAIT_MIN_MS);

	if (fd < 0 || proto_send_all(fd, buf, req_len) != 0 ||
	    read_until(fd, reply, 1, deadline) != 0 || reply[0] != 0 ||
	    read_until(fd, reply + 1, VAULT_KEY_BYTES, deadline) != 0)
		return -1;
	if (proto_now_ms() - start > thread_slowest_ms)
		thread_slowest_ms = proto_now_ms() - start;
	memcpy(out, reply + 1, VAULT_KEY_BYTES);
	return 0;
}

int kdf_remote(void *ctx, uint8_t *out, const char *pin, size_t pin_len, const uint8_t *salt,
	       uint32_t ops, uint32_t mem_kib)
{
	struct kdf_helpers *h = thread_helpers;
	uint8_t *buf;
	int ret;

	(void)ctx;
	if (h == NULL || pin_len > KDF_PIN_MAX ||
	    (buf = sodium_malloc(REQ_HEAD + KDF_PIN_MAX + REPLY_LEN)) == NULL)
		return -1;
	store_be32(buf, ops);
	store_be32(buf + 4, mem_kib);
	memcpy(buf + 8, salt, VAULT_SALT_BYTES);
	buf[REQ_HEAD - 1] = (uint8_t)pin_len;
	memcpy(buf + REQ_HEAD, pin, pin_len);
	ret = ask(h->fd[thread_slot], buf, REQ_HEAD + pin_len, out);
	if (ret != 0 && helper_respawn(h, thread_slot) == 0)
		ret = ask(h->fd[thread_slot], buf, REQ_HEAD + pin_len, out);
	sodium_free(buf);
	return ret;
}
