/* sesame-gtk's only way to the agent: one request and its reply through common/client, as the
 * sesame command makes it, on a GTask thread so that the main loop never waits. The agent is
 * started on demand in per-user mode, as the sesame command does (docs/gui.md); its waits are
 * common/client.h's. */
#ifndef SESAME_GUI_AGENT_H
#define SESAME_GUI_AGENT_H

#include <gio/gio.h>

#include <cjson/cJSON.h>

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

#endif
