/* A field that keeps what is typed in guarded memory and shows one dot per character. It takes
 * the keyboard itself (GtkEventControllerKey): no GtkText, whose buffer and layout would hold
 * the secret in ordinary memory. */
#include <string.h>

#include <glib/gi18n.h>
#include <libintl.h>
#include <sodium.h>

#include "format.h"
#include "secretfield.h"

struct _GuiSecretField {
	GtkWidget parent;
	GtkWidget *dots;
	char *buf; /* sodium_malloc, cap + 1 bytes, NUL-terminated */
	size_t len, cap;
	guint count;
	gboolean digits_only;
};

G_DEFINE_FINAL_TYPE(GuiSecretField, gui_secret_field, GTK_TYPE_WIDGET)

enum { SIGNAL_CHANGED, SIGNAL_ACTIVATE, N_SIGNALS };
static guint signals[N_SIGNALS];

static void secret_field_show(GuiSecretField *self)
{
	GString *dots = g_string_new(NULL);
	char said[64];

	for (guint i = 0; i < self->count; i++)
		g_string_append(dots, "●");
	gtk_label_set_text(GTK_LABEL(self->dots), dots->str);
	g_string_free(dots, TRUE);
	snprintf(said, sizeof(said),
		 ngettext("%u character typed", "%u characters typed", self->count), self->count);
	gtk_accessible_update_property(GTK_ACCESSIBLE(self), GTK_ACCESSIBLE_PROPERTY_DESCRIPTION,
				       said, -1);
	g_signal_emit(self, signals[SIGNAL_CHANGED], 0);
}

gboolean gui_secret_field_append(GuiSecretField *self, gunichar c)
{
	char utf8[6];
	int n;

	if (self->buf == NULL || (self->digits_only && !(c >= '0' && c <= '9')) ||
	    !g_unichar_isprint(c))
		return FALSE;
	n = g_unichar_to_utf8(c, utf8);
	if (self->len + (size_t)n > self->cap)
		return FALSE;
	memcpy(self->buf + self->len, utf8, (size_t)n);
	self->len += (size_t)n;
	self->buf[self->len] = '\0';
	self->count++;
	sodium_memzero(utf8, sizeof(utf8));
	secret_field_show(self);
	return TRUE;
}

void gui_secret_field_backspace(GuiSecretField *self)
{
	if (self->len == 0)
		return;
	do /* back over one UTF-8 character */
		self->buf[--self->len] = '\0';
	while (self->len > 0 && ((unsigned char)self->buf[self->len] & 0xC0) == 0x80);
	self->count--;
	secret_field_show(self);
}

void gui_secret_field_clear(GuiSecretField *self)
{
	if (self->buf != NULL)
		sodium_memzero(self->buf, self->cap + 1);
	self->len = 0;
	self->count = 0;
	secret_field_show(self);
}

guint gui_secret_field_count(GuiSecretField *self)
{
	return self->count;
}

char *gui_secret_field_steal(GuiSecretField *self)
{
	char *out = self->buf;

	self->buf = sodium_malloc(self->cap + 1);
	if (self->buf != NULL)
		sodium_memzero(self->buf, self->cap + 1);
	self->len = 0;
	self->count = 0;
	secret_field_show(self);
	return out;
}

static gboolean secret_field_key(GtkEventControllerKey *key, guint keyval, guint keycode,
				 GdkModifierType state, gpointer data)
{
	GuiSecretField *self = data;

	if (keyval == GDK_KEY_BackSpace) {
		gui_secret_field_backspace(self);
		return TRUE;
	}
	if (keyval == GDK_KEY_Return || keyval == GDK_KEY_KP_Enter || keyval == GDK_KEY_ISO_Enter) {
		g_signal_emit(self, signals[SIGNAL_ACTIVATE], 0);
		return TRUE;
	}
	if (state & (GDK_CONTROL_MASK | GDK_ALT_MASK | GDK_SUPER_MASK))
		return FALSE; /* shortcuts stay the window's */
	return gui_secret_field_append(self, gdk_keyval_to_unicode(keyval));
}

static void secret_field_pressed(GtkGestureClick *click, int n, double x, double y, gpointer data)
{
	gtk_widget_grab_focus(GTK_WIDGET(data));
}

static void gui_secret_field_dispose(GObject *object)
{
	GuiSecretField *self = GUI_SECRET_FIELD(object);

	sodium_free(self->buf); /* wipes */
	self->buf = NULL;
	g_clear_pointer(&self->dots, gtk_widget_unparent);
	G_OBJECT_CLASS(gui_secret_field_parent_class)->dispose(object);
}

static void gui_secret_field_class_init(GuiSecretFieldClass *klass)
{
	GtkWidgetClass *widget = GTK_WIDGET_CLASS(klass);

	G_OBJECT_CLASS(klass)->dispose = gui_secret_field_dispose;
	gtk_widget_class_set_layout_manager_type(widget, GTK_TYPE_BIN_LAYOUT);
	gtk_widget_class_set_css_name(widget, "entry"); /* looks like one, focus ring included */
	gtk_widget_class_set_accessible_role(widget, GTK_ACCESSIBLE_ROLE_TEXT_BOX);
	signals[SIGNAL_CHANGED] =
	    g_signal_new("changed", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
			 NULL, G_TYPE_NONE, 0);
	signals[SIGNAL_ACTIVATE] =
	    g_signal_new("activate", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
			 NULL, G_TYPE_NONE, 0);
}

static void gui_secret_field_init(GuiSecretField *self)
{
	GtkEventController *key = gtk_event_controller_key_new();
	GtkGesture *click = gtk_gesture_click_new();

	self->dots = gtk_label_new(NULL);
	gtk_widget_set_hexpand(self->dots, TRUE);
	gtk_widget_set_parent(self->dots, GTK_WIDGET(self));
	gtk_widget_set_focusable(GTK_WIDGET(self), TRUE);
	gtk_widget_set_cursor_from_name(GTK_WIDGET(self), "text");
	g_signal_connect(key, "key-pressed", G_CALLBACK(secret_field_key), self);
	gtk_widget_add_controller(GTK_WIDGET(self), key);
	g_signal_connect(click, "pressed", G_CALLBACK(secret_field_pressed), self);
	gtk_widget_add_controller(GTK_WIDGET(self), GTK_EVENT_CONTROLLER(click));
}

GtkWidget *gui_secret_field_new(gboolean digits_only, const char *label)
{
	GuiSecretField *self = g_object_new(GUI_TYPE_SECRET_FIELD, NULL);

	self->digits_only = digits_only;
	self->cap = digits_only ? VAULT_PIN_MAX : VAULT_PASSWORD_MAX;
	self->buf = sodium_malloc(self->cap + 1);
	if (self->buf != NULL)
		sodium_memzero(self->buf, self->cap + 1);
	gtk_accessible_update_property(GTK_ACCESSIBLE(self), GTK_ACCESSIBLE_PROPERTY_LABEL, label,
				       -1);
	return GTK_WIDGET(self);
}
