/* The person's history (the agent op "history", after their PIN) and the appointment's receipt
 * (the proofs of "lock" with "receipt": true), each shown in plain words and printable. The
 * words of a record are the sesame command's (common/recwords), so that the application's
 * screens and printouts say what sesame history and sesame lock --receipt say. */
#include <string.h>

#include <glib/gi18n.h>

#include "messages.h"
#include "print.h"
#include "proto.h"
#include "recwords.h"
#include "window-private.h"

#define RECORDS_FONT_TITLE "Sans Bold 20"
#define RECORDS_FONT_NAME "Sans 14"
#define RECORDS_FONT_TEXT "Sans 11"
#define RECORDS_FONT_WHAT "Sans Bold 12"
/* small enough for a checkpoint's signature line to fit the width of A4 or Letter: only the
 * record's line ("extra") wraps */
#define RECORDS_FONT_CODE "Monospace 5"
#define RECORDS_ENTRY_GAP_PT 10.0

void gui_records_forget(GuiWindow *win)
{
	GtkWidget *row;

	g_clear_pointer(&win->doc, gui_doc_unref);
	for (int i = 0; i < 2; i++) {
		GtkWidget *list = i == 0 ? win->hist_list : win->rcpt_list;
		while (list != NULL && (row = gtk_widget_get_first_child(list)) != NULL)
			gtk_box_remove(GTK_BOX(list), row);
	}
}

static GtkWidget *records_label(const char *text, const char *css)
{
	GtkWidget *l = gtk_label_new(text);

	gtk_label_set_wrap(GTK_LABEL(l), TRUE);
	gtk_label_set_wrap_mode(GTK_LABEL(l), PANGO_WRAP_WORD_CHAR);
	gtk_label_set_xalign(GTK_LABEL(l), 0.0);
	gtk_label_set_selectable(GTK_LABEL(l), FALSE);
	if (css != NULL)
		gtk_widget_add_css_class(l, css);
	return l;
}

/* One entry on screen and in the document: what, when and who, why; then extra lines (the
 * receipt's code) in the document only. */
static void records_entry(GuiWindow *win, GtkWidget *list, const struct words_row *row,
			  const char *code_title, const char *code)
{
	GtkWidget *box = gtk_box_new(GTK_ORIENTATION_VERTICAL, 2);
	char *by, *why = NULL;

	/* TRANSLATORS: when, then who: "Monday 30 November 2026 at 14:05, by Ana Dupont" */
	by = g_strdup_printf(_("%s, by %s"), row->when, row->who);
	if (row->why[0] != '\0')
		why = g_strdup_printf(_("Purpose: %s"), row->why);
	gtk_box_append(GTK_BOX(box), records_label(row->what, "heading"));
	gtk_box_append(GTK_BOX(box), records_label(by, NULL));
	if (why != NULL)
		gtk_box_append(GTK_BOX(box), records_label(why, "dim-label"));
	gtk_widget_set_margin_top(box, 6);
	gtk_widget_set_margin_bottom(box, 6);
	gtk_box_append(GTK_BOX(list), box);
	gui_doc_add(win->doc, RECORDS_FONT_WHAT, RECORDS_ENTRY_GAP_PT, row->what);
	gui_doc_add(win->doc, RECORDS_FONT_TEXT, 0, by);
	if (why != NULL)
		gui_doc_add(win->doc, RECORDS_FONT_TEXT, 0, why);
	if (code != NULL) {
		gui_doc_add(win->doc, RECORDS_FONT_TEXT, 0, code_title);
		gui_doc_add(win->doc, RECORDS_FONT_CODE, 0, code);
	}
	g_free(by);
	g_free(why);
}

static void records_say(GtkWindow *parent, const char *text)
{
	gui_window_toast(GUI_WINDOW(parent), text);
}

static void records_print(GtkButton *b, gpointer data)
{
	GuiWindow *win = data;

	if (win->doc != NULL)
		gui_doc_print(win->doc, GTK_WINDOW(win), records_say);
}

static void records_save(GtkButton *b, gpointer data)
{
	GuiWindow *win = data;
	gboolean history = strcmp(gtk_stack_get_visible_child_name(win->stack), "history") == 0;

	if (win->doc == NULL)
		return;
	gui_doc_save(win->doc, GTK_WINDOW(win),
		     history ? _("Save the history as PDF") : _("Save the receipt as PDF"),
		     history ? _("The history is saved in %s.") : _("The receipt is saved in %s."),
		     records_say);
}

/* ---- The history ---- */

void gui_history_open(GuiWindow *win, const cJSON *reply)
{
	const char *name = proto_string(reply, "name");
	struct audit_record *recs;
	struct words_row row;
	long long earlier = 0;
	size_t n = 0;
	char *title, *text;

	gui_records_forget(win);
	if ((recs = words_history_records(reply, &n)) == NULL) {
		gui_window_toast(win, gui_strerror(VAULT_E_NOMEM));
		return;
	}
	name = name != NULL ? name : win->name;
	title = g_strdup_printf(_("History: %s"), name);
	gtk_label_set_text(GTK_LABEL(win->hist_title), title);
	/* TRANSLATORS: the printed history's file name, without .pdf */
	win->doc = gui_doc_new(title, _("history"));
	gui_doc_add(win->doc, RECORDS_FONT_TITLE, 0, title);
	proto_int(reply, "earlier", &earlier);
	if (earlier > 0) {
		/* the command's words, its line's end left out */
		text = g_strchomp(
		    g_strdup_printf(_("(%lld earlier records are not shown)\n"), earlier));
		gtk_box_append(GTK_BOX(win->hist_list), records_label(text, "dim-label"));
		gui_doc_add(win->doc, RECORDS_FONT_TEXT, 0, text);
		g_free(text);
	}
	for (size_t i = 0; i < n; i++) { /* in the log's order, as sesame history says them */
		words_row(&recs[i], &row);
		records_entry(win, win->hist_list, &row, NULL, NULL);
	}
	free(recs);
	gui_window_page(win, "history");
	text = g_strdup_printf(_("The history of %s is shown: print it or save it as PDF if the "
				 "person wants to keep it."),
			       name);
	gui_window_say(win, text);
	g_free(text);
	g_free(title);
}

/* ---- The receipt ---- */

gboolean gui_receipt_open(GuiWindow *win, const cJSON *reply)
{
	const char *name = proto_string(reply, "name");
	long long missing = 0, shown = 0;
	struct audit_record r;
	struct words_row row;
	const cJSON *p;
	char *code_title, *text;

	gui_records_forget(win);
	name = name != NULL ? name : win->name;
	win->doc = gui_doc_new(_("Appointment receipt"), _("receipt"));
	gui_doc_add(win->doc, RECORDS_FONT_TITLE, 0, _("Appointment receipt"));
	gui_doc_add(win->doc, RECORDS_FONT_NAME, 0, name);
	gui_doc_add(win->doc, RECORDS_FONT_TEXT, 0,
		    _("What was done with your vault during this appointment. Each entry has a "
		      "verification code: with it, you or an ombudsman can prove later that the "
		      "entry is in Sesame's log, unchanged."));
	cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(reply, "receipt"))
	{
		if (!cJSON_IsString(p) || words_proof_record(p->valuestring, &r) != 0) {
			missing++;
			continue;
		}
		words_row(&r, &row);
		code_title = g_strdup_printf("%s %llu", _("Verification code of entry"), row.seq);
		records_entry(win, win->rcpt_list, &row, code_title, p->valuestring);
		g_free(code_title);
		shown++;
	}
	proto_int(reply, "receipt_missing", &missing);
	if (shown == 0) {
		gui_records_forget(win);
		return FALSE;
	}
	if (missing > 0) {
		text = g_strdup_printf(ngettext("%lld entry could not be given a code.",
						"%lld entries could not be given a code.",
						(unsigned long)missing),
				       missing);
		gui_doc_add(win->doc, RECORDS_FONT_TEXT, RECORDS_ENTRY_GAP_PT, text);
		g_free(text);
	}
	gui_doc_add(win->doc, RECORDS_FONT_TEXT, RECORDS_ENTRY_GAP_PT,
		    _("To check a code: copy it into a file and run sesame audit check-receipt "
		      "FILE --key KEY, with the log's key kept by the structure."));
	text = g_strdup_printf(_("Appointment receipt: %s"), name);
	gtk_label_set_text(GTK_LABEL(win->rcpt_title), text);
	g_free(text);
	gui_window_page(win, "receipt");
	gui_window_say(win, _("The appointment has ended: the person's vault is locked."));
	return TRUE;
}

static void receipt_done(GtkButton *b, gpointer data)
{
	GuiWindow *win = data;

	gui_records_forget(win);
	gui_window_home(win, _("The appointment has ended: the person's vault is locked."));
}

static void history_back(GtkButton *b, gpointer data)
{
	GuiWindow *win = data;

	gui_records_forget(win);
	gui_window_page(win, "appointment");
}

/* A page: its title, a list in a scrolled view, and its buttons. */
static GtkWidget *records_page(GuiWindow *win, GtkWidget **title, GtkWidget **list,
			       const char *list_name, const char *intro, const char *done,
			       GCallback done_cb)
{
	GtkWidget *box = gtk_box_new(GTK_ORIENTATION_VERTICAL, 12), *scroll, *actions, *b;

	gtk_widget_set_margin_start(box, 18);
	gtk_widget_set_margin_end(box, 18);
	gtk_widget_set_margin_top(box, 12);
	gtk_widget_set_margin_bottom(box, 12);
	*title = records_label(NULL, "title-1");
	gtk_box_append(GTK_BOX(box), *title);
	if (intro != NULL)
		gtk_box_append(GTK_BOX(box), records_label(intro, NULL));
	actions = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 12);
	gtk_widget_set_halign(actions, GTK_ALIGN_CENTER);
	b = gui_button(_("_Print…"), "suggested-action");
	g_signal_connect(b, "clicked", G_CALLBACK(records_print), win);
	gtk_box_append(GTK_BOX(actions), b);
	b = gui_button(_("Save as _PDF…"), NULL);
	g_signal_connect(b, "clicked", G_CALLBACK(records_save), win);
	gtk_box_append(GTK_BOX(actions), b);
	b = gui_button(done, NULL);
	g_signal_connect(b, "clicked", done_cb, win);
	gtk_box_append(GTK_BOX(actions), b);
	gtk_box_append(GTK_BOX(box), actions);
	*list = gtk_box_new(GTK_ORIENTATION_VERTICAL, 6);
	gui_label(*list, list_name);
	scroll = gtk_scrolled_window_new();
	gtk_scrolled_window_set_child(GTK_SCROLLED_WINDOW(scroll), *list);
	gtk_scrolled_window_set_policy(GTK_SCROLLED_WINDOW(scroll), GTK_POLICY_NEVER,
				       GTK_POLICY_AUTOMATIC);
	gtk_widget_set_vexpand(scroll, TRUE);
	gtk_box_append(GTK_BOX(box), scroll);
	return box;
}

GtkWidget *gui_history_page(GuiWindow *win)
{
	return records_page(win, &win->hist_title, &win->hist_list, _("Entries of the history"),
			    NULL, _("_Back to the appointment"), G_CALLBACK(history_back));
}

GtkWidget *gui_receipt_page(GuiWindow *win)
{
	return records_page(
	    win, &win->rcpt_title, &win->rcpt_list, _("Entries of the receipt"),
	    _("The appointment has ended: the person's vault is locked. Print the receipt or save "
	      "it as PDF if the person wants to keep what was done, with a code for each entry."),
	    _("_Done"), G_CALLBACK(receipt_done));
}
