/* Talking to the agent: connect to its socket, starting a per-user agent on demand as gpg does,
 * send one request and wait for its reply. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "proto.h"

#define CLIENT_START_WAIT_MS 10000
#define CLIENT_REPLY_WAIT_MS 120000 /* a PIN check may wait behind others */

static int connect_to(const char *path)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	int fd;

	if (strlen(path) >= sizeof(sun.sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(sun.sun_path, path, strlen(path) + 1);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

/* sesame-agent beside this program (the build tree, or the installed bindir), else PATH. */
static void agent_path(char *out, size_t cap)
{
	const char *env = getenv("SESAME_AGENT_PROGRAM");
	char self[PATH_MAX];
	ssize_t n;

	if (env != NULL && env[0] == '/') {
		snprintf(out, cap, "%s", env);
		return;
	}
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n > 0) {
		char *slash;
		self[n] = '\0';
		if ((slash = strrchr(self, '/')) != NULL) {
			*slash = '\0';
			snprintf(out, cap, "%s/sesame-agent", self);
			if (access(out, X_OK) == 0)
				return;
			snprintf(out, cap, "%s/../agent/sesame-agent", self);
			if (access(out, X_OK) == 0)
				return;
		}
	}
	snprintf(out, cap, "sesame-agent");
}

/* Start a detached agent, as gpg starts gpg-agent; it outlives this command. */
static int start_agent(void)
{
	char path[PATH_MAX + 32];
	pid_t pid;
	int status;

	agent_path(path, sizeof(path));
	if ((pid = fork()) < 0)
		return -1;
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR | O_CLOEXEC);
		if (fork() != 0)
			_exit(0);
		setsid();
		dup2(null, 0), dup2(null, 1), dup2(null, 2);
		close_range(3, ~0U, 0); /* --pin-fd pipes and the like stay with us */
		execlp(path, "sesame-agent", (char *)NULL);
		_exit(127);
	}
	return waitpid(pid, &status, 0) == pid ? 0 : -1;
}

static int connect_agent(const struct sesame_home *home)
{
	struct timespec pause = {0, 20 * 1000 * 1000};
	int fd = connect_to(home->socket);

	if (fd >= 0 || (errno != ENOENT && errno != ECONNREFUSED))
		return fd;
	if (getenv("SESAME_AGENT_SOCK") == NULL &&
	    (fd = connect_to(HOME_SYSTEM_SOCKET)) >= 0) /* a structure's shared agent */
		return fd;
	if (start_agent() != 0)
		return -1;
	for (int waited = 0; waited < CLIENT_START_WAIT_MS; waited += 20) {
		if ((fd = connect_to(home->socket)) >= 0)
			return fd;
		nanosleep(&pause, NULL);
	}
	return -1;
}

int client_call(const struct sesame_home *home, cJSON *req, cJSON **reply)
{
	return client_call_wait(home, req, reply, CLIENT_REPLY_WAIT_MS);
}

int client_call_wait(const struct sesame_home *home, cJSON *req, cJSON **reply, int wait_ms)
{
	int fd, ret = -1;

	*reply = NULL;
	cJSON_AddNumberToObject(req, "v", PROTO_VERSION);
	if ((fd = connect_agent(home)) < 0) {
		cli_error(_("cannot reach the agent at %s: %s"), home->socket, strerror(errno));
		goto out;
	}
	if (proto_send(fd, req) != 0 || proto_recv(fd, reply, wait_ms) != 0) {
		if (errno == EPIPE || errno == ECONNRESET)
			/* the agent hangs up before a reply on a peer it does not accept, or it
			 * died */
			cli_error(_("the agent refused this connection or stopped: is this account "
				    "in the structure's worker group? (else see the agent's log)"));
		else
			cli_error(_("the agent did not answer: %s"), strerror(errno));
	} else {
		ret = 0;
	}
	close(fd);
out:
	cJSON_Delete(req);
	return ret;
}

int client_failed(const cJSON *reply, int json)
{
	long long code = VAULT_E_IO;
	char text[CLI_MESSAGE_MAX];

	if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(reply, "ok")))
		return EXIT_OK;
	proto_int(reply, "code", &code);
	if (json)
		cli_json_print(cJSON_Duplicate(reply, 1));
	else if (cli_reply_message(reply, text, sizeof(text)) == 0)
		cli_error("%s", text);
	else
		cli_error("%s", cli_strerror((int)code));
	return cli_exit_for((int)code);
}

int cli_run(const struct sesame_home *home, cJSON *req, int json,
	    void (*show)(const cJSON *reply, void *ctx), void *ctx)
{
	cJSON *reply;
	int ret;

	if (client_call(home, req, &reply) != 0)
		return EXIT_AGENT;
	if ((ret = client_failed(reply, json)) == EXIT_OK) {
		if (json)
			cli_json_print(cJSON_Duplicate(reply, 1));
		else if (show != NULL)
			show(reply, ctx);
	}
	cJSON_Delete(reply);
	return ret;
}
