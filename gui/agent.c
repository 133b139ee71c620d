/* One request to sesame-agent on a worker thread. The socket, the start on demand and the
 * bounded waits are the sesame command's (common/client); the failures come back as a GError in
 * the person's words instead of a line on standard error. */
#include <string.h>
#include <unistd.h>

#include <glib/gi18n.h>

#include "agent.h"
#include "client.h"
#include "home.h"
#include "messages.h"
#include "proto.h"

G_DEFINE_QUARK(sesame - gui - agent - error - quark, gui_agent_error)

static void agent_reaped(GPid pid, gint status, gpointer data)
{
	g_spawn_close_pid(pid);
}

/* What could not be reached, in the person's words. */
static void agent_failed(const struct sesame_home *home, const struct client_error *e,
			 GError **error)
{
	int code = GUI_AGENT_ERROR_UNREACHABLE;
	char *text;

	switch (e->what) {
	case CLIENT_FAIL_NOT_INSTALLED:
		code = GUI_AGENT_ERROR_NOT_INSTALLED;
		text = g_strdup_printf(
		    _("Sesame is not installed in %s yet: run \"sesame init\" first"), home->dir);
		break;
	case CLIENT_FAIL_UNSAFE:
		text = g_strdup_printf("%s: %s", e->path, gui_strerror(VAULT_E_PERM));
		break;
	case CLIENT_FAIL_START:
		text = g_strdup_printf(_("the agent could not start: %s"),
				       e->said[0] != '\0' ? e->said : _("it said nothing"));
		break;
	case CLIENT_FAIL_START_WAIT:
		text = g_strdup_printf(
		    _("the agent started (pid %ld) but did not open %s within %d s"), e->pid,
		    home->socket, CLIENT_START_WAIT_MS / 1000);
		break;
	case CLIENT_FAIL_SILENT:
		code = GUI_AGENT_ERROR_SILENT;
		text = g_strdup_printf(_("the agent does not answer: no reply within %d s; it is "
					 "stopped or stuck"),
				       e->wait_ms / 1000);
		break;
	case CLIENT_FAIL_HUNG_UP:
	case CLIENT_FAIL_EXCHANGE:
		code = GUI_AGENT_ERROR_GONE;
		text = g_strdup(_("the agent stopped before it answered: try again (it is "
				  "started again on demand)"));
		break;
	default: /* BACKLOG, UNREACHABLE */
		text = g_strdup_printf(_("cannot reach the agent at %s: %s"), home->socket,
				       g_strerror(e->err));
	}
	g_set_error_literal(error, GUI_AGENT_ERROR, code, text);
	g_free(text);
}

/* The connection of a reply that carried a new recovery key: the agent undoes that change unless
 * told on it that the key is shown (docs/protocol.md, "recovery_shown"). One at a time: a newer
 * one hangs up the older, whose change is then undone. */
static GMutex held_lock;
static int held_fd = -1;

static void agent_hold(int fd)
{
	g_mutex_lock(&held_lock);
	if (held_fd >= 0)
		close(held_fd);
	held_fd = fd;
	g_mutex_unlock(&held_lock);
}

static int agent_take_held(void)
{
	int fd;

	g_mutex_lock(&held_lock);
	fd = held_fd;
	held_fd = -1;
	g_mutex_unlock(&held_lock);
	return fd;
}

/* As client_request, but a reply with a new recovery key keeps its connection (agent_hold). */
static int agent_request(const struct sesame_home *home, cJSON *req, cJSON **reply, pid_t *started,
			 struct client_error *e)
{
	int fd, ret;

	cJSON_AddNumberToObject(req, "v", PROTO_VERSION);
	if ((fd = client_connect(home, started, e)) < 0)
		return -1;
	ret = client_exchange(fd, req, reply, client_reply_wait(req), -1, e);
	if (ret == 0 && proto_string(*reply, "recovery") != NULL)
		agent_hold(fd);
	else
		close(fd);
	return ret;
}

/* "recovery_shown", on the connection the key came on; without one, the key is void. */
static void agent_key_shown(GTask *task, cJSON *req)
{
	struct client_error e = {0};
	cJSON *reply = NULL;
	int fd = agent_take_held();

	cJSON_AddNumberToObject(req, "v", PROTO_VERSION);
	if (fd >= 0 && client_exchange(fd, req, &reply, CLIENT_ANSWER_WAIT_MS, -1, &e) == 0) {
		close(fd);
		g_task_return_pointer(task, reply, (GDestroyNotify)cJSON_Delete);
		return;
	}
	if (fd >= 0)
		close(fd);
	g_task_return_new_error(task, GUI_AGENT_ERROR, GUI_AGENT_ERROR_GONE, "%s",
				_("the agent no longer waits for this recovery key: it is void"));
}

static void agent_thread(GTask *task, gpointer source, gpointer data, GCancellable *cancel)
{
	cJSON *req = data, *reply = NULL;
	const char *op = proto_string(req, "op");
	struct sesame_home home;
	struct client_error e = {0};
	GError *error = NULL;
	pid_t started = 0;

	if (op != NULL && strcmp(op, "recovery_shown") == 0) {
		agent_key_shown(task, req);
		return;
	}
	if (home_resolve(&home, 0) != VAULT_OK) {
		g_task_return_new_error(task, GUI_AGENT_ERROR, GUI_AGENT_ERROR_CONFIG,
					_("%s cannot be read: correct it (man sesame-agent lists "
					  "the settings)"),
					home.config_path[0] != '\0' ? home.config_path
								    : "sesame.conf");
		return;
	}
	if (agent_request(&home, req, &reply, &started, &e) != 0)
		agent_failed(&home, &e, &error);
	if (started > 0) /* it outlives this request: reaped by the main loop when it ends */
		g_child_watch_add(started, agent_reaped, NULL);
	if (reply != NULL)
		g_task_return_pointer(task, reply, (GDestroyNotify)cJSON_Delete);
	else
		g_task_return_error(task, error);
}

void gui_agent_call_async(cJSON *req, GAsyncReadyCallback cb, gpointer data)
{
	GTask *task = g_task_new(NULL, NULL, cb, data);

	g_task_set_task_data(task, req, (GDestroyNotify)cJSON_Delete);
	g_task_run_in_thread(task, agent_thread);
	g_object_unref(task);
}

cJSON *gui_agent_call_finish(GAsyncResult *res, GError **error)
{
	return g_task_propagate_pointer(G_TASK(res), error);
}
