/* The list of people as a GListModel that pages lazily through the agent's "users" op: a page
 * is asked for when the list shows the end of what is loaded, so thousands of people cost one
 * page at start. */
#ifndef SESAME_GUI_PEOPLE_H
#define SESAME_GUI_PEOPLE_H

#include <gio/gio.h>

#define GUI_PEOPLE_PAGE 100    /* people per request (the agent takes 1 to 200) */
#define GUI_PEOPLE_PREFETCH 20 /* ask for the next page this many rows before the end */

#define GUI_TYPE_PERSON (gui_person_get_type())
G_DECLARE_FINAL_TYPE(GuiPerson, gui_person, GUI, PERSON, GObject)

const char *gui_person_id(GuiPerson *self);
const char *gui_person_name(GuiPerson *self);
gboolean gui_person_blocked(GuiPerson *self);
gboolean gui_person_session(GuiPerson *self);
gboolean gui_person_unreadable(GuiPerson *self);
long long gui_person_attempts(GuiPerson *self);

#define GUI_TYPE_PEOPLE_MODEL (gui_people_model_get_type())
G_DECLARE_FINAL_TYPE(GuiPeopleModel, gui_people_model, GUI, PEOPLE_MODEL, GObject)

/* Signals: "failed" (const char *message) when a page cannot be had; "loaded" (int total,
 * int unreadable) after each page. */
GuiPeopleModel *gui_people_model_new(void);
/* Start again from the first page, keeping the names that start like search ("" for all). */
void gui_people_model_search(GuiPeopleModel *self, const char *search);
void gui_people_model_reload(GuiPeopleModel *self);

#endif
