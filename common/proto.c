#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <sys/socket.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "bytes.h"
#include "proto.h"

/* A size header in front of every cJSON block, so free knows how much to wipe. */
#define HOOK_HEADER 16

static void *wiping_malloc(size_t n)
{
	uint8_t *p;

	if (n > SIZE_MAX - HOOK_HEADER || (p = malloc(n + HOOK_HEADER)) == NULL)
		return NULL;
	memcpy(p, &n, sizeof(n));
	return p + HOOK_HEADER;
}

static void wiping_free(void *ptr)
{
	uint8_t *p = ptr;
	size_t n;

	if (p == NULL)
		return;
	p -= HOOK_HEADER;
	memcpy(&n, p, sizeof(n));
	sodium_memzero(p, n + HOOK_HEADER);
	free(p);
}

void proto_init(void)
{
	cJSON_Hooks hooks = {wiping_malloc, wiping_free};

	cJSON_InitHooks(&hooks);
}

static pthread_mutex_t guarded_lock = PTHREAD_MUTEX_INITIALIZER;
static uint8_t *guarded_pool[PROTO_GUARDED_POOL];
static size_t guarded_n;

uint8_t *proto_guarded_take(void)
{
	uint8_t *buf = NULL;

	pthread_mutex_lock(&guarded_lock);
	if (guarded_n > 0)
		buf = guarded_pool[--guarded_n];
	pthread_mutex_unlock(&guarded_lock);
	return buf != NULL ? buf : sodium_malloc(PROTO_MESSAGE_MAX);
}

void proto_guarded_give(uint8_t *buf, size_t used)
{
	if (buf == NULL)
		return;
	sodium_memzero(buf, used < PROTO_MESSAGE_MAX ? used : PROTO_MESSAGE_MAX);
	pthread_mutex_lock(&guarded_lock);
	if (guarded_n < PROTO_GUARDED_POOL) {
		guarded_pool[guarded_n++] = buf;
		buf = NULL;
	}
	pthread_mutex_unlock(&guarded_lock);
	sodium_free(buf);
}

/* n bytes of guarded memory: pooled when they fit PROTO_MESSAGE_MAX. */
static uint8_t *guarded_alloc(size_t n)
{
	return n <= PROTO_MESSAGE_MAX ? proto_guarded_take() : sodium_malloc(n);
}

static void guarded_release(uint8_t *buf, size_t n)
{
	if (n <= PROTO_MESSAGE_MAX)
		proto_guarded_give(buf, n);
	else
		sodium_free(buf);
}

int proto_frame(const cJSON *msg, uint8_t **buf, size_t *len)
{
	char *text = cJSON_PrintUnformatted(msg);
	size_t n;
	uint8_t *out;

	*buf = NULL;
	if (text == NULL)
		return -1;
	n = strlen(text);
	if (n > PROTO_REPLY_MAX || (out = guarded_alloc(n + PROTO_HEADER_BYTES)) == NULL) {
		cJSON_free(text);
		errno = EMSGSIZE;
		return -1;
	}
	store_be32(out, (uint32_t)n);
	memcpy(out + PROTO_HEADER_BYTES, text, n);
	cJSON_free(text);
	*buf = out;
	*len = n + PROTO_HEADER_BYTES;
	return 0;
}

int proto_frame_plain(const cJSON *msg, size_t max, uint8_t **buf, size_t *len)
{
	char *text = cJSON_PrintUnformatted(msg);
	size_t n;
	uint8_t *out;

	*buf = NULL;
	if (text == NULL)
		return -1;
	n = strlen(text);
	if (n > max || n > PROTO_REPLY_MAX) {
		cJSON_free(text);
		errno = EMSGSIZE;
		return -1;
	}
	if ((out = malloc(n + PROTO_HEADER_BYTES)) != NULL) {
		store_be32(out, (uint32_t)n);
		memcpy(out + PROTO_HEADER_BYTES, text, n);
	}
	cJSON_free(text);
	if (out == NULL)
		return -1;
	*buf = out;
	*len = n + PROTO_HEADER_BYTES;
	return 0;
}

void proto_frame_free(uint8_t *buf, size_t len)
{
	guarded_release(buf, len);
}

int proto_parse(const uint8_t *body, size_t len, cJSON **msg)
{
	const char *end = NULL;
	cJSON *m;
	const cJSON *v;

	*msg = NULL;
	if (len == 0 || len > PROTO_REPLY_MAX) /* requests are bounded by the agent's reader */
		return -1;
	/* one object and nothing after it: trailing bytes make the frame malformed */
	m = cJSON_ParseWithLengthOpts((const char *)body, len, &end, 0);
	if (m == NULL || end != (const char *)body + len || !cJSON_IsObject(m) ||
	    (v = cJSON_GetObjectItemCaseSensitive(m, "v")) == NULL || !cJSON_IsNumber(v) ||
	    v->valuedouble != PROTO_VERSION) {
		cJSON_Delete(m);
		return -1;
	}
	*msg = m;
	return 0;
}

const char *proto_string(const cJSON *msg, const char *key)
{
	const cJSON *item = cJSON_GetObjectItemCaseSensitive(msg, key);

	return cJSON_IsString(item) ? item->valuestring : NULL;
}

int proto_int(const cJSON *msg, const char *key, long long *out)
{
	const cJSON *item = cJSON_GetObjectItemCaseSensitive(msg, key);

	if (!cJSON_IsNumber(item) || item->valuedouble < -9e15 || item->valuedouble > 9e15 ||
	    item->valuedouble != (double)(long long)item->valuedouble)
		return -1;
	*out = (long long)item->valuedouble;
	return 0;
}

int proto_send_all(int fd, const void *buf, size_t n)
{
	const uint8_t *p = buf;

	while (n > 0) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int proto_send(int fd, const cJSON *msg)
{
	uint8_t *buf;
	size_t len;
	int ret;

	if (proto_frame(msg, &buf, &len) != 0)
		return -1;
	ret = proto_send_all(fd, buf, len);
	proto_frame_free(buf, len);
	return ret;
}

long long proto_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Read exactly n bytes before the deadline (timeout_ms < 0: no deadline). */
static int read_full(int fd, uint8_t *p, size_t n, long long deadline)
{
	while (n > 0) {
		struct pollfd pfd = {fd, POLLIN, 0};
		int wait = deadline < 0 ? -1 : (int)(deadline - proto_now_ms());
		ssize_t r;
		if (deadline >= 0 && wait <= 0) {
			errno = ETIMEDOUT;
			return -1;
		}
		switch (poll(&pfd, 1, wait)) {
		case -1:
			if (errno == EINTR)
				continue;
			return -1;
		case 0: /* nothing yet: the deadline above ends it, never a read that blocks */
			continue;
		default:
			break;
		}
		r = read(fd, p, n);
		if (r < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (r <= 0) {
			if (r == 0)
				errno = ECONNRESET;
			return -1;
		}
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

int proto_recv(int fd, cJSON **msg, int timeout_ms)
{
	long long deadline = timeout_ms < 0 ? -1 : proto_now_ms() + timeout_ms;
	uint8_t head[PROTO_HEADER_BYTES], *body;
	size_t len;
	int ret = -1;

	*msg = NULL;
	if (read_full(fd, head, sizeof(head), deadline) != 0)
		return -1;
	len = load_be32(head);
	if (len == 0 || len > PROTO_REPLY_MAX) {
		errno = EMSGSIZE;
		return -1;
	}
	if ((body = guarded_alloc(len)) == NULL)
		return -1;
	if (read_full(fd, body, len, deadline) == 0) {
		ret = proto_parse(body, len, msg);
		if (ret != 0)
			errno = EPROTO;
	}
	guarded_release(body, len);
	return ret;
}
