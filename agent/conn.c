/* Connections to the agent, in the manner of ssh-agent: the peer's credentials checked on
 * every accept, a frame longer than PROTO_MESSAGE_MAX or not a JSON object closes that
 * connection and nothing else, no descriptor taken from a client, and the replies. */
#include <errno.h>
#include <grp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <sodium.h>

#include "bytes.h"
#include "agent.h"
#include "proto.h"

struct conn *agent_conn_find(struct agent *a, unsigned id)
{
	for (struct conn *c = a->conns; c != NULL; c = c->next)
		if (c->id == id)
			return c;
	return NULL;
}

static void out_free(struct conn *c)
{
	if (c->out != NULL && c->out_guarded)
		proto_frame_free(c->out, c->out_len);
	else
		free(c->out);
	c->out = NULL;
}

static void conn_free_input(struct conn *c)
{
	proto_guarded_give(c->body, c->body_got);
	c->body = NULL;
	c->body_len = c->body_got = c->head_got = 0;
}

void agent_conn_close(struct agent *a, struct conn *c)
{
	agent_key_unshown(a, c, "the client did not confirm that the recovery key was shown");
	for (struct conn **p = &a->conns; *p != NULL; p = &(*p)->next)
		if (*p == c) {
			*p = c->next;
			break;
		}
	close(c->fd);
	if (c->file_fd >= 0)
		close(c->file_fd);
	conn_free_input(c);
	out_free(c);
	agent_queue_drop(a, c);
	cJSON_Delete(c->deferred);
	free(c);
	a->nconns--;
}

/* Is this peer allowed? Per-user mode: our own uid or root. System mode: root, the service
 * user, or a member of the configured worker group (supplementary groups included). */
static int peer_allowed(struct agent *a, int fd, struct conn *c)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);
	gid_t groups[NGROUPS_MAX];
	socklen_t glen = sizeof(groups);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0)
		return 0;
	c->uid = cred.uid, c->gid = cred.gid, c->pid = cred.pid;
	if (cred.uid == 0 || cred.uid == getuid()) {
		c->auditor = 1;
		return 1;
	}
	if (!a->home.system)
		return 0;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &glen) != 0)
		glen = 0;
	c->auditor = agent_peer_auditor(a, cred.uid, cred.gid, groups, glen / sizeof(gid_t));
	if (cred.gid == a->worker_gid)
		return 1;
	for (size_t i = 0; i < glen / sizeof(gid_t); i++)
		if (groups[i] == a->worker_gid)
			return 1;
	return 0;
}

void agent_conn_accept(struct agent *a)
{
	struct conn *c;
	int fd = accept4(a->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

	if (fd < 0)
		return;
	if (a->nconns >= AGENT_MAX_CONNS || (c = calloc(1, sizeof(*c))) == NULL) {
		close(fd);
		return;
	}
	if (!peer_allowed(a, fd, c)) {
		free(c);
		close(fd); /* another uid: refused before a single byte is read */
		return;
	}
	c->fd = fd;
	c->file_fd = -1;
	c->id = ++a->next_conn_id;
	agent_login_of(c->uid, c->login, sizeof(c->login));
	c->next = a->conns;
	a->conns = c;
	a->nconns++;
	agent_conn_admit(a, c);
}

/* Fields that hold a secret: a reply with one is framed in guarded memory. */
static int reply_secret(const cJSON *reply)
{
	static const char *const secret[] = {"recovery", "password", "pin", "new_pin",
					     "passphrase"};

	for (size_t i = 0; i < sizeof(secret) / sizeof(secret[0]); i++)
		if (cJSON_GetObjectItemCaseSensitive(reply, secret[i]) != NULL)
			return 1;
	return 0;
}

static int reply_frame(struct conn *c, const cJSON *reply)
{
	size_t max = c->reply_max > 0 ? c->reply_max : PROTO_REPLY_MAX;

	c->out_guarded = reply_secret(reply);
	if (!c->out_guarded)
		return proto_frame_plain(reply, max, &c->out, &c->out_len);
	if (proto_frame(reply, &c->out, &c->out_len) != 0)
		return -1;
	if (c->out_len - PROTO_HEADER_BYTES > max) {
		out_free(c);
		errno = EMSGSIZE;
		return -1;
	}
	return 0;
}

void agent_reply(struct agent *a, struct conn *c, cJSON *reply)
{
	char path[PATH_MAX];
	long long code = 0;

	if (proto_int(reply, "code", &code) == 0 &&
	    (code == VAULT_E_PERM || code == VAULT_E_SYMLINK) &&
	    home_unsafe_path(&a->home, path, sizeof(path))) /* the file, for the person to fix */
		cJSON_AddStringToObject(reply, "path", path);
	cJSON_AddNumberToObject(reply, "v", PROTO_VERSION);
	if (c->out != NULL) {
		c->closing = 1;
	} else if (reply_frame(c, reply) == 0) {
		c->out_sent = 0;
	} else if (errno == EMSGSIZE && !cJSON_HasObjectItem(reply, "code")) {
		/* never a closed connection for a reply that does not fit: say so */
		c->reply_max = 0;
		agent_reply_error(a, c, PROTO_E_TOOBIG, NULL);
	} else {
		c->closing = 1;
	}
	agent_conn_wait(c); /* the client must take its reply in time */
	cJSON_Delete(reply);
}

void agent_reply_error(struct agent *a, struct conn *c, int code, const char *message)
{
	cJSON *r = cJSON_CreateObject();

	cJSON_AddFalseToObject(r, "ok");
	cJSON_AddNumberToObject(r, "code", code);
	cJSON_AddStringToObject(r, "error", message != NULL ? message : vault_strerror(code));
	agent_reply(a, c, r);
}

/* Keep the one descriptor an export request carries (docs/protocol.md, "export"); any other
 * is closed at once and the request is answered with an error. */
static void conn_take_fds(struct conn *c, int *fds, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (n == 1 && c->file_fd < 0 && !c->fds_refused) {
			c->file_fd = fds[i];
			continue;
		}
		close(fds[i]);
		c->fds_refused = 1;
	}
}

/* read(), taking descriptors aside: no client hands the agent a browser or a pipe, and only an
 * export hands it the one file it writes (agent_conn_read checks which request came). */
static ssize_t conn_recv(struct conn *c, void *buf, size_t len)
{
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int) * 4)];
	} control;
	struct iovec iov = {buf, len};
	struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};
	struct cmsghdr *cm;
	ssize_t n;

	msg.msg_control = control.buf;
	msg.msg_controllen = sizeof(control.buf);
	if ((n = recvmsg(c->fd, &msg, MSG_CMSG_CLOEXEC)) <= 0)
		return n;
	if (msg.msg_flags & MSG_CTRUNC) /* more than fit: the kernel closed the rest */
		c->fds_refused = 1;
	for (cm = CMSG_FIRSTHDR(&msg); cm != NULL; cm = CMSG_NXTHDR(&msg, cm)) {
		size_t nfds = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		int fds[4];
		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		memcpy(fds, CMSG_DATA(cm), (nfds < 4 ? nfds : 4) * sizeof(int));
		conn_take_fds(c, fds, nfds < 4 ? nfds : 4);
	}
	return n;
}

/* A descriptor on anything but an export, or more than one: the request is refused. */
static int conn_fds_wrong(struct conn *c, const cJSON *req)
{
	const char *op = proto_string(req, "op");

	if (c->file_fd >= 0 && (op == NULL || strcmp(op, "export") != 0)) {
		close(c->file_fd);
		c->file_fd = -1;
		c->fds_refused = 1;
	}
	if (c->fds_refused && c->file_fd >= 0) {
		close(c->file_fd);
		c->file_fd = -1;
	}
	return c->fds_refused;
}

/* Status costs the same whatever the load: answered as soon as it is read, it never waits
 * behind the requests of other clients (docs/protocol.md, "Order of replies"). */
static int request_at_once(const cJSON *req)
{
	const char *op = proto_string(req, "op");

	return op != NULL && strcmp(op, "status") == 0;
}

/* Read what is there; dispatch a complete frame. Returns -1 to close the connection. */
int agent_conn_read(struct agent *a, struct conn *c)
{
	ssize_t n;
	cJSON *req;

	if (c->head_got < sizeof(c->head)) {
		n = conn_recv(c, c->head + c->head_got, sizeof(c->head) - c->head_got);
		if (n <= 0)
			return n < 0 && (errno == EAGAIN || errno == EINTR) ? 0 : -1;
		c->head_got += (size_t)n;
		if (c->head_got < sizeof(c->head))
			return 0;
		c->body_len = load_be32(c->head);
		if (c->body_len == 0 || c->body_len > PROTO_MESSAGE_MAX ||
		    (c->body = proto_guarded_take()) == NULL)
			return -1;
	}
	n = conn_recv(c, c->body + c->body_got, c->body_len - c->body_got);
	if (n <= 0)
		return n < 0 && (errno == EAGAIN || errno == EINTR) ? 0 : -1;
	c->body_got += (size_t)n;
	if (c->body_got < c->body_len)
		return 0;
	if (proto_parse(c->body, c->body_len, &req) != 0)
		return -1;
	conn_free_input(c);
	if (conn_fds_wrong(c, req)) {
		agent_reply_error(a, c, PROTO_E_REQUEST,
				  "requests carry no descriptors but an export's one file: the "
				  "agent starts the browser itself");
		c->closing = 1;
	} else {
		long long max = 0;
		c->reply_max = proto_int(req, "reply_max", &max) == 0 && max > 0 ? (size_t)max : 0;
		if (request_at_once(req)) {
			agent_dispatch(a, c, req);
		} else if (!agent_people_defer(a, c, req)) {
			agent_queue_add(a, c, req); /* it keeps req */
			return 0;
		}
	}
	cJSON_Delete(req);
	return 0;
}

int agent_conn_write(struct conn *c)
{
	ssize_t n = write(c->fd, c->out + c->out_sent, c->out_len - c->out_sent);

	if (n < 0)
		return errno == EAGAIN || errno == EINTR ? 0 : -1;
	c->out_sent += (size_t)n;
	if (c->out_sent == c->out_len) {
		out_free(c);
		if (c->closing)
			return -1;
		agent_conn_wait(c); /* and send its next request in time */
	}
	return 0;
}
