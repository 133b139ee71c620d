/* Argon2id in helper processes. Each pool thread owns one helper; a helper is forked before any
 * secret is loaded and keeps nothing but the socket it serves. Running the KDF in another
 * address space keeps its 256 MiB of page faults and unmaps from stalling the event loop, which
 * shares the agent's memory map (and its lock) with the pool threads. */
#ifndef SESAME_AGENT_KDF_H
#define SESAME_AGENT_KDF_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define KDF_PIN_MAX 64 /* a PIN is at most VAULT_PIN_MAX digits; anything longer is refused */
/* A helper that has not answered within the longer of these is stuck (stopped, swapped out for
 * good): it is killed and replaced, and the request asked again of the new one. The factor
 * scales the slowest answer this thread has seen, so a slow machine is not taken for a stuck
 * helper. */
#define KDF_HELPER_WAIT_MIN_MS 30000
#define KDF_HELPER_WAIT_FACTOR 30

struct kdf_helpers {
	int n;
	int fd[8];
	pid_t pid[8];
};

/* Fork n helpers (n <= 8). Call before threads exist and before any secret is in memory. */
int kdf_helpers_start(struct kdf_helpers *h, int n);
void kdf_helpers_stop(struct kdf_helpers *h);

/* Make this thread's KDF calls go to helper slot of h. A helper that died or failed is
 * replaced (kdf_remote), and the request asked once more of the new one. */
void kdf_thread_bind(struct kdf_helpers *h, int slot);

/* A helper started by exec rather than fork: the agent's program with KDF_HELPER_ARG as its only
 * argument serves the socket on descriptor KDF_HELPER_FD. kdf_helper_main never returns. */
#define KDF_HELPER_ARG "--kdf-helper"
#define KDF_HELPER_FD 3
void kdf_helper_main(int fd);

/* A vault_kdf_fn that asks this thread's helper. */
int kdf_remote(void *ctx, uint8_t *out, const char *pin, size_t pin_len, const uint8_t *salt,
	       uint32_t ops, uint32_t mem_kib);

#endif
