/* GuiPinPad: the screen the worker turns toward the person. In large type: whose vault, who
 * asks, for what; the typed digits as dots; the attempts left; a keypad of ten digits with
 * "Effacer" and "Valider". The physical keyboard's digits work too. */
#ifndef SESAME_GUI_PINPAD_H
#define SESAME_GUI_PINPAD_H

#include <gtk/gtk.h>

#define GUI_TYPE_PIN_PAD (gui_pin_pad_get_type())
G_DECLARE_FINAL_TYPE(GuiPinPad, gui_pin_pad, GUI, PIN_PAD, GtkBox)

GtkWidget *gui_pin_pad_new(void);
/* The lines above the keypad; NULL leaves a line empty and hidden. */
void gui_pin_pad_set_text(GuiPinPad *self, const char *whose, const char *asker,
			  const char *purpose, const char *prompt);
/* attempts < 0 hides the line. */
void gui_pin_pad_set_attempts(GuiPinPad *self, long long attempts);
/* A message in the error style, NULL for none. */
void gui_pin_pad_set_error(GuiPinPad *self, const char *message);
/* While the agent checks: the keypad is insensitive and a spinner turns. */
void gui_pin_pad_set_busy(GuiPinPad *self, gboolean busy);
/* The typed PIN in a sodium_malloc buffer (sodium_free it); the pad is empty afterwards. */
char *gui_pin_pad_steal(GuiPinPad *self);
void gui_pin_pad_reset(GuiPinPad *self);
/* Give the keyboard to the pad. */
void gui_pin_pad_focus(GuiPinPad *self);

#endif
