/* Recovery: the key of the person's sheet typed in its groups of four, checked as it is typed
 * (a symbol the sheet cannot hold at once, the checksum once every group is there: vault's
 * recovery_decode), then a new PIN twice and a new sheet. */
#include <string.h>

#include <glib/gi18n.h>
#include <sodium.h>

#include "messages.h"
#include "error.h"
#include "recovery.h"
#include "window-private.h"

/* The sheet's symbols (Crockford base32), and O, I, L that recovery_decode reads as 0, 1, 1. */
static const char symbols[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZOIL";

#define KEY_TEXT_MAX (GUI_RECOVERY_GROUPS * (VAULT_RECOVERY_GROUP + 1))

static void recovery_error(GuiWindow *win, const char *text)
{
	gtk_label_set_text(GTK_LABEL(win->rec_error), text != NULL ? text : "");
	gui_window_say(win, text != NULL ? text : "");
}

/* The groups as typed, dash-separated, into a sodium_malloc buffer; NULL if one is short. */
static char *recovery_text(GuiWindow *win)
{
	char *text = sodium_malloc(KEY_TEXT_MAX);
	size_t n = 0;

	if (text == NULL)
		return NULL;
	for (int i = 0; i < GUI_RECOVERY_GROUPS; i++) {
		const char *g = gtk_editable_get_text(GTK_EDITABLE(win->rec_groups[i]));
		if (strlen(g) != VAULT_RECOVERY_GROUP) {
			sodium_free(text);
			return NULL;
		}
		memcpy(text + n, g, VAULT_RECOVERY_GROUP);
		n += VAULT_RECOVERY_GROUP;
		text[n++] = i + 1 < GUI_RECOVERY_GROUPS ? '-' : '\0';
	}
	return text;
}

/* Every group typed: does the checksum hold? */
static void recovery_check(GuiWindow *win)
{
	uint8_t key[VAULT_RECOVERY_RANDOM_BYTES];
	char *text = recovery_text(win);
	int ok;

	if (text == NULL) {
		gtk_widget_set_sensitive(win->rec_next, FALSE);
		return;
	}
	ok = recovery_decode(key, text) == VAULT_OK;
	sodium_memzero(key, sizeof(key));
	sodium_free(text);
	recovery_error(win, ok ? NULL : gui_strerror(VAULT_E_CHECKSUM));
	gtk_widget_set_sensitive(win->rec_next, ok);
}

static void recovery_changed(GtkEditable *group, gpointer data)
{
	GuiWindow *win = data;
	const char *text = gtk_editable_get_text(group);
	int i = GPOINTER_TO_INT(g_object_get_data(G_OBJECT(group), "group"));
	GtkWidget *focus;

	for (const char *p = text; *p != '\0'; p++)
		if (strchr(symbols, g_ascii_toupper(*p)) == NULL) {
			char *said = g_strdup_printf(_("Group %d holds \"%c\", which is not on a "
						       "recovery sheet: check it"),
						     i + 1, *p);
			recovery_error(win, said);
			g_free(said);
			gtk_widget_set_sensitive(win->rec_next, FALSE);
			return;
		}
	recovery_error(win, NULL);
	focus = gtk_root_get_focus(gtk_widget_get_root(GTK_WIDGET(group)));
	if (strlen(text) == VAULT_RECOVERY_GROUP && i + 1 < GUI_RECOVERY_GROUPS && focus != NULL &&
	    gtk_widget_is_ancestor(focus, GTK_WIDGET(group))) /* typed here: on to the next */
		gtk_widget_grab_focus(win->rec_groups[i + 1]);
	recovery_check(win);
}

static void recovery_next(GtkWidget *w, gpointer data)
{
	GuiWindow *win = data;
	char *text = recovery_text(win);

	if (text == NULL)
		return;
	g_clear_pointer(&win->recovery, sodium_free);
	win->recovery = text;
	for (int i = 0; i < GUI_RECOVERY_GROUPS; i++)
		gtk_editable_set_text(GTK_EDITABLE(win->rec_groups[i]), "");
	gui_window_ask_pin(win, GUI_PIN_RECOVER_FIRST);
}

void gui_recovery_open(GuiWindow *win, const char *message)
{
	char *title = g_strdup_printf(_("%s, your recovery sheet"), win->name);

	gtk_label_set_text(GTK_LABEL(win->rec_title), title);
	g_free(title);
	for (int i = 0; i < GUI_RECOVERY_GROUPS; i++)
		gtk_editable_set_text(GTK_EDITABLE(win->rec_groups[i]), "");
	recovery_error(win, message);
	gtk_widget_set_sensitive(win->rec_next, FALSE);
	gui_window_page(win, "recovery");
	gtk_widget_grab_focus(win->rec_groups[0]);
}

GtkWidget *gui_recovery_page(GuiWindow *win)
{
	GtkWidget *box = gtk_box_new(GTK_ORIENTATION_VERTICAL, 18), *hint, *row;

	gtk_widget_set_margin_top(box, 24);
	gtk_widget_set_margin_start(box, 18);
	gtk_widget_set_margin_end(box, 18);
	win->rec_title = gtk_label_new(NULL);
	gtk_widget_add_css_class(win->rec_title, "title-1");
	gtk_label_set_wrap(GTK_LABEL(win->rec_title), TRUE);
	gtk_box_append(GTK_BOX(box), win->rec_title);
	hint = gtk_label_new(_("Type the key of your recovery sheet, four characters in each "
			       "box. It opens your vault again; then you choose a new PIN."));
	gtk_label_set_wrap(GTK_LABEL(hint), TRUE);
	gtk_widget_add_css_class(hint, "title-4");
	gtk_box_append(GTK_BOX(box), hint);
	row = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 6);
	gtk_widget_set_halign(row, GTK_ALIGN_CENTER);
	for (int i = 0; i < GUI_RECOVERY_GROUPS; i++) {
		GtkEntryBuffer *buf = gtk_password_entry_buffer_new(); /* non-pageable memory */
		GtkWidget *e = gtk_entry_new_with_buffer(buf);
		char *said = g_strdup_printf(_("Group %d of the key"), i + 1);

		g_object_unref(buf);
		gtk_entry_set_max_length(GTK_ENTRY(e), VAULT_RECOVERY_GROUP);
		gtk_editable_set_width_chars(GTK_EDITABLE(e), VAULT_RECOVERY_GROUP);
		gtk_widget_add_css_class(e, "recovery-group");
		gui_label(e, said);
		g_free(said);
		g_object_set_data(G_OBJECT(e), "group", GINT_TO_POINTER(i));
		g_signal_connect(e, "changed", G_CALLBACK(recovery_changed), win);
		g_signal_connect(e, "activate", G_CALLBACK(recovery_next), win);
		win->rec_groups[i] = e;
		gtk_box_append(GTK_BOX(row), e);
	}
	gtk_box_append(GTK_BOX(box), row);
	win->rec_error = g_object_new(GTK_TYPE_LABEL, "accessible-role", GTK_ACCESSIBLE_ROLE_ALERT,
				      "wrap", TRUE, NULL);
	gtk_widget_add_css_class(win->rec_error, "error");
	gtk_widget_add_css_class(win->rec_error, "title-4");
	gtk_box_append(GTK_BOX(box), win->rec_error);
	win->rec_next = gui_button(_("_Continue"), "suggested-action");
	gtk_widget_add_css_class(win->rec_next, "pill");
	gtk_widget_set_halign(win->rec_next, GTK_ALIGN_CENTER);
	g_signal_connect(win->rec_next, "clicked", G_CALLBACK(recovery_next), win);
	gtk_box_append(GTK_BOX(box), win->rec_next);
	return box;
}
