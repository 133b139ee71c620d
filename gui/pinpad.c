/* The person's PIN screen. Every control has an accessible label (the keypad's keys say their
 * digit, "Effacer", "Valider"), the sizes are in em so that the text follows the desktop's
 * scale, and the colours are the theme's, so a high-contrast theme applies. */
#include <glib/gi18n.h>
#include <libintl.h>

#include "pinpad.h"
#include "secretfield.h"

struct _GuiPinPad {
	GtkBox parent;
	GtkWidget *whose, *asker, *purpose, *prompt, *field, *attempts, *error;
	GtkWidget *keypad, *spinner, *submit;
	gboolean busy;
};

G_DEFINE_FINAL_TYPE(GuiPinPad, gui_pin_pad, GTK_TYPE_BOX)

enum { SIGNAL_SUBMITTED, SIGNAL_CANCELLED, N_SIGNALS };
static guint signals[N_SIGNALS];

static void pin_pad_line(GtkWidget *label, const char *text)
{
	gtk_label_set_text(GTK_LABEL(label), text != NULL ? text : "");
	gtk_widget_set_visible(label, text != NULL && text[0] != '\0');
}

void gui_pin_pad_set_text(GuiPinPad *self, const char *whose, const char *asker,
			  const char *purpose, const char *prompt)
{
	pin_pad_line(self->whose, whose);
	pin_pad_line(self->asker, asker);
	pin_pad_line(self->purpose, purpose);
	pin_pad_line(self->prompt, prompt);
	gui_pin_pad_set_error(self, NULL);
	gui_pin_pad_set_attempts(self, -1);
	gui_pin_pad_reset(self);
}

void gui_pin_pad_set_attempts(GuiPinPad *self, long long attempts)
{
	char *text;

	if (attempts < 0) {
		pin_pad_line(self->attempts, NULL);
		return;
	}
	text = g_strdup_printf(
	    ngettext("%lld attempt left", "%lld attempts left", (unsigned long)attempts), attempts);
	pin_pad_line(self->attempts, text);
	g_free(text);
}

void gui_pin_pad_set_error(GuiPinPad *self, const char *message)
{
	pin_pad_line(self->error, message); /* an alert: said at once by a screen reader */
}

void gui_pin_pad_set_busy(GuiPinPad *self, gboolean busy)
{
	self->busy = busy;
	gtk_widget_set_sensitive(self->keypad, !busy);
	gtk_widget_set_sensitive(self->field, !busy);
	gtk_widget_set_visible(self->spinner, busy);
	gtk_spinner_set_spinning(GTK_SPINNER(self->spinner), busy);
}

char *gui_pin_pad_steal(GuiPinPad *self)
{
	return gui_secret_field_steal(GUI_SECRET_FIELD(self->field));
}

void gui_pin_pad_reset(GuiPinPad *self)
{
	gui_secret_field_clear(GUI_SECRET_FIELD(self->field));
}

void gui_pin_pad_focus(GuiPinPad *self)
{
	gtk_widget_grab_focus(self->field);
}

static void pin_pad_submit(GuiPinPad *self)
{
	if (self->busy || gui_secret_field_count(GUI_SECRET_FIELD(self->field)) == 0)
		return;
	g_signal_emit(self, signals[SIGNAL_SUBMITTED], 0);
}

static void pin_pad_digit(GtkButton *button, gpointer data)
{
	GuiPinPad *self = data;
	const char *digit = g_object_get_data(G_OBJECT(button), "digit");

	gui_secret_field_append(GUI_SECRET_FIELD(self->field), (gunichar)digit[0]);
}

static void pin_pad_erase(GtkButton *button, gpointer data)
{
	GuiPinPad *self = data;

	gui_secret_field_backspace(GUI_SECRET_FIELD(self->field));
}

static void pin_pad_validate(GtkButton *button, gpointer data)
{
	pin_pad_submit(data);
}

static void pin_pad_field_activate(GuiSecretField *field, gpointer data)
{
	pin_pad_submit(data);
}

static void pin_pad_cancel(GtkButton *button, gpointer data)
{
	g_signal_emit(data, signals[SIGNAL_CANCELLED], 0);
}

/* The physical keyboard's digits wherever the focus is on the pad; then the focus goes to the
 * field, so that Enter validates. */
static gboolean pin_pad_key(GtkEventControllerKey *key, guint keyval, guint keycode,
			    GdkModifierType state, gpointer data)
{
	GuiPinPad *self = data;
	gunichar c = gdk_keyval_to_unicode(keyval);

	if (self->busy || (state & (GDK_CONTROL_MASK | GDK_ALT_MASK)))
		return FALSE;
	if (keyval == GDK_KEY_Escape) {
		g_signal_emit(self, signals[SIGNAL_CANCELLED], 0);
		return TRUE;
	}
	if (keyval == GDK_KEY_BackSpace)
		gui_secret_field_backspace(GUI_SECRET_FIELD(self->field));
	else if (c >= '0' && c <= '9')
		gui_secret_field_append(GUI_SECRET_FIELD(self->field), c);
	else
		return FALSE;
	gtk_widget_grab_focus(self->field);
	return TRUE;
}

static GtkWidget *pin_pad_key_button(GuiPinPad *self, const char *text, GCallback cb)
{
	GtkWidget *b = gtk_button_new_with_label(text); /* named by its text: "1", "Effacer" */

	gtk_widget_set_hexpand(b, TRUE);
	gtk_widget_set_vexpand(b, TRUE);
	g_signal_connect(b, "clicked", cb, self);
	return b;
}

static GtkWidget *pin_pad_keypad(GuiPinPad *self)
{
	static const char *const digits[] = {"1", "2", "3", "4", "5", "6", "7", "8", "9"};
	GtkWidget *grid = gtk_grid_new(), *b;

	gtk_widget_add_css_class(grid, "keypad");
	gtk_grid_set_row_spacing(GTK_GRID(grid), 12);
	gtk_grid_set_column_spacing(GTK_GRID(grid), 12);
	gtk_grid_set_row_homogeneous(GTK_GRID(grid), TRUE);
	gtk_grid_set_column_homogeneous(GTK_GRID(grid), TRUE);
	gtk_widget_set_halign(grid, GTK_ALIGN_CENTER);
	for (int i = 0; i < 9; i++) {
		b = pin_pad_key_button(self, digits[i], G_CALLBACK(pin_pad_digit));
		g_object_set_data(G_OBJECT(b), "digit", (gpointer)digits[i]);
		gtk_grid_attach(GTK_GRID(grid), b, i % 3, i / 3, 1, 1);
	}
	/* TRANSLATORS: the keypad's key that erases the last digit */
	b = pin_pad_key_button(self, _("Erase"), G_CALLBACK(pin_pad_erase));
	gtk_grid_attach(GTK_GRID(grid), b, 0, 3, 1, 1);
	b = pin_pad_key_button(self, "0", G_CALLBACK(pin_pad_digit));
	g_object_set_data(G_OBJECT(b), "digit", (gpointer) "0");
	gtk_grid_attach(GTK_GRID(grid), b, 1, 3, 1, 1);
	/* TRANSLATORS: the keypad's key that sends the PIN */
	self->submit = pin_pad_key_button(self, _("Confirm"), G_CALLBACK(pin_pad_validate));
	gtk_widget_add_css_class(self->submit, "suggested-action");
	gtk_grid_attach(GTK_GRID(grid), self->submit, 2, 3, 1, 1);
	return grid;
}

static GtkWidget *pin_pad_label(GuiPinPad *self, const char *css, GtkAccessibleRole role)
{
	GtkWidget *l = g_object_new(GTK_TYPE_LABEL, "accessible-role", role, NULL);

	gtk_label_set_wrap(GTK_LABEL(l), TRUE);
	gtk_label_set_justify(GTK_LABEL(l), GTK_JUSTIFY_CENTER);
	gtk_widget_add_css_class(l, css);
	gtk_box_append(GTK_BOX(self), l);
	return l;
}

static void gui_pin_pad_class_init(GuiPinPadClass *klass)
{
	signals[SIGNAL_SUBMITTED] =
	    g_signal_new("submitted", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
			 NULL, G_TYPE_NONE, 0);
	signals[SIGNAL_CANCELLED] =
	    g_signal_new("cancelled", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
			 NULL, G_TYPE_NONE, 0);
}

static void gui_pin_pad_init(GuiPinPad *self)
{
	GtkEventController *key = gtk_event_controller_key_new();
	GtkWidget *cancel;

	gtk_orientable_set_orientation(GTK_ORIENTABLE(self), GTK_ORIENTATION_VERTICAL);
	gtk_box_set_spacing(GTK_BOX(self), 12);
	gtk_widget_add_css_class(GTK_WIDGET(self), "pin-pad");
	gtk_widget_set_margin_top(GTK_WIDGET(self), 24);
	gtk_widget_set_margin_bottom(GTK_WIDGET(self), 24);
	self->whose = pin_pad_label(self, "title-1", GTK_ACCESSIBLE_ROLE_LABEL);
	self->asker = pin_pad_label(self, "title-3", GTK_ACCESSIBLE_ROLE_LABEL);
	self->purpose = pin_pad_label(self, "title-3", GTK_ACCESSIBLE_ROLE_LABEL);
	self->prompt = pin_pad_label(self, "title-2", GTK_ACCESSIBLE_ROLE_LABEL);
	self->field = gui_secret_field_new(TRUE, _("PIN"));
	gtk_widget_add_css_class(self->field, "pin-dots");
	gtk_widget_set_halign(self->field, GTK_ALIGN_CENTER);
	g_signal_connect(self->field, "activate", G_CALLBACK(pin_pad_field_activate), self);
	gtk_box_append(GTK_BOX(self), self->field);
	self->attempts = pin_pad_label(self, "title-4", GTK_ACCESSIBLE_ROLE_LABEL);
	self->error = pin_pad_label(self, "error", GTK_ACCESSIBLE_ROLE_ALERT);
	gtk_widget_add_css_class(self->error, "title-4");
	self->spinner = gtk_spinner_new();
	gtk_widget_set_visible(self->spinner, FALSE);
	gtk_box_append(GTK_BOX(self), self->spinner);
	self->keypad = pin_pad_keypad(self);
	gtk_box_append(GTK_BOX(self), self->keypad);
	cancel = gtk_button_new_with_label(_("Cancel"));
	gtk_widget_set_halign(cancel, GTK_ALIGN_CENTER);
	g_signal_connect(cancel, "clicked", G_CALLBACK(pin_pad_cancel), self);
	gtk_box_append(GTK_BOX(self), cancel);
	gtk_event_controller_set_propagation_phase(key, GTK_PHASE_CAPTURE);
	g_signal_connect(key, "key-pressed", G_CALLBACK(pin_pad_key), self);
	gtk_widget_add_controller(GTK_WIDGET(self), key);
}

GtkWidget *gui_pin_pad_new(void)
{
	return g_object_new(GUI_TYPE_PIN_PAD, NULL);
}
