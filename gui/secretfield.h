/* GuiSecretField: where a PIN or a password is typed. The characters go into a sodium_malloc
 * buffer, never into a GtkEntry's text or a GString, and only dots are shown. The owner takes
 * the buffer with gui_secret_field_steal, sends it and frees it with sodium_free. */
#ifndef SESAME_GUI_SECRETFIELD_H
#define SESAME_GUI_SECRETFIELD_H

#include <gtk/gtk.h>

#define GUI_TYPE_SECRET_FIELD (gui_secret_field_get_type())
G_DECLARE_FINAL_TYPE(GuiSecretField, gui_secret_field, GUI, SECRET_FIELD, GtkWidget)

/* digits_only: a PIN (at most VAULT_PIN_MAX digits); else a password of at most
 * VAULT_PASSWORD_MAX bytes. label: what a screen reader says for it. */
GtkWidget *gui_secret_field_new(gboolean digits_only, const char *label);

/* Type one character (a key of the on-screen keypad); FALSE when refused (full, not a digit). */
gboolean gui_secret_field_append(GuiSecretField *self, gunichar c);
void gui_secret_field_backspace(GuiSecretField *self);
/* Wipe what was typed. */
void gui_secret_field_clear(GuiSecretField *self);
/* Characters typed so far. */
guint gui_secret_field_count(GuiSecretField *self);
/* The typed text, NUL-terminated in a sodium_malloc buffer that the caller frees with
 * sodium_free; the field is empty afterwards. NULL when out of guarded memory. */
char *gui_secret_field_steal(GuiSecretField *self);

#endif
