/* sesame-gtk's only way to the agent: one request and its reply over the agent's socket,
 * framed by common/proto, on a GTask thread so that the main loop never waits. The agent is
 * started on demand in per-user mode, as the sesame command does (docs/gui.md). */
#ifndef SESAME_GUI_AGENT_H
#define SESAME_GUI_AGENT_H

#include <gio/gio.h>

#include <cjson/cJSON.h>

#define GUI_AGENT_CONNECT_WAIT_MS 5000 /* a live agent accepts at once */
#define GUI_AGENT_START_WAIT_MS 10000  /* an agent started on demand opens its socket */
#define GUI_AGENT_ANSWER_WAIT_MS 15000 /* a request the agent's loop answers by itself */
#define GUI_AGENT_PIN_WAIT_MS 120000   /* a PIN check, which may wait behind others */
#define GUI_AGENT_LOGIN_WAIT_MS 300000 /* an assisted login: the agent's own waits end first */
#define GUI_AGENT_RETRY_MS 20
#define GUI_AGENT_SAID_MAX 1024 /* what a failing agent says on standard error */

#define GUI_AGENT_ERROR (gui_agent_error_quark())
GQuark gui_agent_error_quark(void);

enum gui_agent_error {
	GUI_AGENT_ERROR_CONFIG,	       /* sesame.conf cannot be read */
	GUI_AGENT_ERROR_NOT_INSTALLED, /* no installation: sesame init first */
	GUI_AGENT_ERROR_UNREACHABLE,   /* no agent and none could be started */
	GUI_AGENT_ERROR_SILENT,	       /* the agent accepted but did not answer in time */
	GUI_AGENT_ERROR_GONE,	       /* the agent closed the connection (stopped, restarted) */
};

/* Send req (consumed, and wiped when freed: proto_init's hooks) and call cb on the main loop;
 * gui_agent_call_finish gives the reply (ok or not), to free with cJSON_Delete, or NULL with
 * error saying in the person's language what could not be reached. */
void gui_agent_call_async(cJSON *req, GAsyncReadyCallback cb, gpointer data);
cJSON *gui_agent_call_finish(GAsyncResult *res, GError **error);

/* The worker's X display and its cookie for a login request, or NULL without a display. */
cJSON *gui_agent_display(void);

#endif
