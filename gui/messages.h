/* The agent's answers in the person's words, for the application. The texts are the sesame
 * command's where they name nothing of the command line (the same msgid, so one translation in
 * po/fr.po serves both); where the command's text names a command or an option, the
 * application says what to do on its own screens instead. */
#ifndef SESAME_GUI_MESSAGES_H
#define SESAME_GUI_MESSAGES_H

#include <cjson/cJSON.h>

/* A refused reply ("ok": false) as a sentence, to g_free. */
char *gui_reply_message(const cJSON *reply);
/* What the worker should do after an assisted login that failed with reason (may be NULL). */
const char *gui_login_advice(const char *reason);
/* A code of the agent or the vault as a sentence. */
const char *gui_strerror(int code);

#endif
