/* The agent protocol's framing and JSON helpers, shared by sesame-agent and the sesame CLI.
 * A message is a 4-byte big-endian length followed by that many bytes of one JSON object.
 * docs/protocol.md specifies every request and reply. */
#ifndef SESAME_COMMON_PROTO_H
#define SESAME_COMMON_PROTO_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "error.h" /* PROTO_E_*, with every other code */

#define PROTO_VERSION 1
#define PROTO_HEADER_BYTES 4
#define PROTO_MESSAGE_MAX 65536		   /* a longer request closes the connection */
#define PROTO_REPLY_MAX (8u * 1024 * 1024) /* a reply: a login's screenshot fits */
#define PROTO_GUARDED_POOL 8 /* guarded buffers of PROTO_MESSAGE_MAX bytes kept for reuse */

/* Make every cJSON allocation wipe itself when freed: requests carry PINs and passwords, and
 * replies carry recovery keys. Call once, before any cJSON use. */
void proto_init(void);

/* Blocking send and receive of one message, for the CLI (fd is a connected socket).
 * proto_recv returns 0 and a tree to free with cJSON_Delete, or -1 (errno set; EPROTO for a
 * malformed frame, EMSGSIZE for an oversized one). */
int proto_send(int fd, const cJSON *msg);
int proto_recv(int fd, cJSON **msg, int timeout_ms);

/* Send all of buf on a connected socket, again after EINTR and short sends: 0 or -1 (errno
 * set). MSG_NOSIGNAL: a peer that hung up is an error to report, not a SIGPIPE that kills the
 * process, which is why this is not fileio_write_all. */
int proto_send_all(int fd, const void *buf, size_t len);

/* CLOCK_MONOTONIC in milliseconds: the scale of every deadline in the command and the agent. */
long long proto_now_ms(void);

/* A guarded buffer of PROTO_MESSAGE_MAX bytes (sodium_malloc), taken from a pool shared by the
 * process's threads when one is there: mapping a fresh one costs more than a whole status
 * exchange, and in a process with many threads each unmapping also interrupts the others.
 * proto_guarded_give wipes the first used bytes and keeps the buffer, or frees it when the
 * pool is full. NULL when memory is refused. */
uint8_t *proto_guarded_take(void);
void proto_guarded_give(uint8_t *buf, size_t used);

/* Serialise msg with its length header into guarded memory: a frame of at most
 * PROTO_MESSAGE_MAX bytes comes from the pool above; proto_frame_free wipes it. */
int proto_frame(const cJSON *msg, uint8_t **buf, size_t *len);
void proto_frame_free(uint8_t *buf, size_t len);
/* The same in plain memory (free with free()), for a message that holds no secret: a guarded
 * mapping costs more than the whole of a small request. -1 with errno EMSGSIZE when the body
 * would pass max bytes. */
int proto_frame_plain(const cJSON *msg, size_t max, uint8_t **buf, size_t *len);

/* Parse a frame body (without header): a JSON object with "v" equal to PROTO_VERSION. */
int proto_parse(const uint8_t *body, size_t len, cJSON **msg);

/* Field access that tolerates absence; strings are returned as borrowed pointers. */
const char *proto_string(const cJSON *msg, const char *key);
int proto_int(const cJSON *msg, const char *key, long long *out);

#endif
