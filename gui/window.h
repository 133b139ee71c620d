/* GuiWindow: sesame-gtk's one window, a stack of screens (docs/gui.md): the people, the PIN
 * screen, a new person, the recovery sheet, the appointment, a new service, recovery. */
#ifndef SESAME_GUI_WINDOW_H
#define SESAME_GUI_WINDOW_H

#include <adwaita.h>

#define GUI_TYPE_WINDOW (gui_window_get_type())
G_DECLARE_FINAL_TYPE(GuiWindow, gui_window, GUI, WINDOW, AdwApplicationWindow)

/* headless: assisted logins run the browser without a window (the agent's option). */
GuiWindow *gui_window_new(AdwApplication *app, gboolean headless);

#endif
