/* The recovery sheet after an enrolment or a recovery: the key shown in large type, printed
 * through GTK's print dialog or saved as a PDF (GtkPrintOperation's export, no dialog). The
 * key waits in guarded memory until "Done"; the page's layout and the PDF hold copies, as the
 * sesame command's sheet does, because the sheet exists to be printed. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <glib/gi18n.h>
#include <sodium.h>

#include "window-private.h"

#define SHEET_MARGIN_PT 56.0 /* 2 cm */

void gui_sheet_forget(GuiWindow *win)
{
	g_clear_pointer(&win->sheet_text, sodium_free);
	g_clear_pointer(&win->sheet_name, g_free);
	g_clear_pointer(&win->sheet_id, g_free);
	if (win->sheet_key != NULL)
		gtk_label_set_text(GTK_LABEL(win->sheet_key), "");
}

/* The agent keeps the enrolment or recovery once told the key is on screen; if it could not
 * (it stopped, or undid the change), the key shown is void and the person must not keep it. */
static void sheet_confirmed(GuiWindow *win, const cJSON *reply, const char *error)
{
	(void)error;
	if (gui_reply_ok(reply))
		return;
	gui_sheet_forget(win);
	gui_window_home(win, _("The agent did not keep the change, so that recovery key is void "
			       "and nothing changed: start again."));
}

void gui_sheet_open(GuiWindow *win, const char *name, const char *id, const char *key)
{
	cJSON *shown = cJSON_CreateObject();
	size_t n = strlen(key);
	char *title;

	gui_sheet_forget(win);
	gui_window_forget(win);
	if ((win->sheet_text = sodium_malloc(n + 1)) != NULL)
		memcpy(win->sheet_text, key, n + 1);
	win->sheet_name = g_strdup(name);
	win->sheet_id = g_strdup(id);
	title = g_strdup_printf(_("Recovery sheet: %s"), name);
	gtk_label_set_text(GTK_LABEL(win->sheet_title), title);
	gtk_label_set_text(GTK_LABEL(win->sheet_key), key);
	g_free(title);
	gui_window_page(win, "sheet");
	title = g_strdup_printf(_("Print the sheet or save it as PDF, then give it to %s."), name);
	gui_window_say(win, title);
	g_free(title);
	cJSON_AddStringToObject(shown, "op", "recovery_shown");
	gui_window_call(win, shown, sheet_confirmed);
}

/* One block of text at y, in the font desc; returns the y below it. */
static double sheet_text(GtkPrintContext *ctx, double y, const char *desc, const char *text)
{
	cairo_t *cr = gtk_print_context_get_cairo_context(ctx);
	PangoLayout *layout = gtk_print_context_create_pango_layout(ctx);
	PangoFontDescription *font = pango_font_description_from_string(desc);
	int w, h;

	pango_layout_set_font_description(layout, font);
	pango_layout_set_width(
	    layout, (int)((gtk_print_context_get_width(ctx) - 2 * SHEET_MARGIN_PT) * PANGO_SCALE));
	pango_layout_set_wrap(layout, PANGO_WRAP_WORD_CHAR);
	pango_layout_set_text(layout, text, -1);
	cairo_move_to(cr, SHEET_MARGIN_PT, y);
	pango_cairo_show_layout(cr, layout);
	pango_layout_get_pixel_size(layout, &w, &h);
	pango_font_description_free(font);
	g_object_unref(layout);
	return y + h + 18;
}

static void sheet_draw(GtkPrintOperation *op, GtkPrintContext *ctx, int page, gpointer data)
{
	GuiWindow *win = data;
	cairo_t *cr = gtk_print_context_get_cairo_context(ctx);
	double y = SHEET_MARGIN_PT, top;

	cairo_set_source_rgb(cr, 0, 0, 0);
	y = sheet_text(ctx, y, "Sans Bold 24", _("Recovery sheet"));
	y = sheet_text(ctx, y, "Sans 16", win->sheet_name);
	top = y;
	y = sheet_text(ctx, y + 12, "Monospace Bold 16", win->sheet_text);
	cairo_set_line_width(cr, 2);
	cairo_rectangle(cr, SHEET_MARGIN_PT - 8, top,
			gtk_print_context_get_width(ctx) - 2 * SHEET_MARGIN_PT + 16, y - top - 6);
	cairo_stroke(cr);
	y = sheet_text(ctx, y + 12, "Sans 14",
		       _("Keep this sheet at home, never with the computer. If you forget your PIN "
			 "or it is blocked, this key opens your vault again and sets a new PIN."));
	sheet_text(ctx, y, "Sans 9", win->sheet_id);
}

static GtkPrintOperation *sheet_operation(GuiWindow *win)
{
	GtkPrintOperation *op = gtk_print_operation_new();

	gtk_print_operation_set_n_pages(op, 1);
	gtk_print_operation_set_job_name(op, _("Recovery sheet"));
	gtk_print_operation_set_unit(op, GTK_UNIT_POINTS);
	gtk_print_operation_set_embed_page_setup(op, TRUE);
	g_signal_connect(op, "draw-page", G_CALLBACK(sheet_draw), win);
	return op;
}

static void sheet_print(GtkButton *b, gpointer data)
{
	GuiWindow *win = data;
	GtkPrintOperation *op = sheet_operation(win);
	GError *error = NULL;

	gtk_print_operation_set_allow_async(op, TRUE);
	if (gtk_print_operation_run(op, GTK_PRINT_OPERATION_ACTION_PRINT_DIALOG, GTK_WINDOW(win),
				    &error) == GTK_PRINT_OPERATION_RESULT_ERROR) {
		gui_window_toast(win, error->message);
		g_clear_error(&error);
	}
	g_object_unref(op);
}

static void sheet_export(GuiWindow *win, const char *path)
{
	GtkPrintOperation *op;
	GError *error = NULL;
	char *text;

	if (gui_print_file_create(path) != 0) { /* it holds the key */
		text = g_strdup_printf(_("cannot create the recovery sheet %s: %s"), path,
				       g_strerror(errno));
		gui_window_toast(win, text);
		g_free(text);
		return;
	}
	op = sheet_operation(win);
	gtk_print_operation_set_export_filename(op, path);
	if (gtk_print_operation_run(op, GTK_PRINT_OPERATION_ACTION_EXPORT, GTK_WINDOW(win),
				    &error) == GTK_PRINT_OPERATION_RESULT_ERROR) {
		text = g_strdup_printf(_("cannot create the recovery sheet %s: %s"), path,
				       error->message);
		g_clear_error(&error);
		unlink(path);
	} else {
		text = g_strdup_printf(_("The recovery sheet is saved in %s."), path);
	}
	gui_window_toast(win, text);
	g_free(text);
	g_object_unref(op);
}

static void sheet_chosen(GtkNativeDialog *dialog, int response, gpointer data)
{
	GuiWindow *win = data;
	GFile *file;
	char *path;

	if (response == GTK_RESPONSE_ACCEPT &&
	    (file = gtk_file_chooser_get_file(GTK_FILE_CHOOSER(dialog))) != NULL) {
		if ((path = g_file_get_path(file)) != NULL)
			sheet_export(win, path);
		g_free(path);
		g_object_unref(file);
	}
	g_object_unref(dialog);
}

static void sheet_save(GtkButton *b, gpointer data)
{
	GuiWindow *win = data;
	/* TRANSLATORS: the file name offered for the recovery sheet's PDF, without .pdf */
	GtkFileChooserNative *chooser = gui_print_chooser(
	    GTK_WINDOW(win), _("Save the recovery sheet as PDF"), _("recovery-sheet"));

	g_signal_connect(chooser, "response", G_CALLBACK(sheet_chosen), win);
	gtk_native_dialog_show(GTK_NATIVE_DIALOG(chooser));
}

static void sheet_done(GtkButton *b, gpointer data)
{
	GuiWindow *win = data;
	char *text = g_strdup_printf(_("%s can now open their vault with their PIN."),
				     win->sheet_name != NULL ? win->sheet_name : "");

	gui_sheet_forget(win);
	gui_window_home(win, text);
	g_free(text);
}

GtkWidget *gui_sheet_page(GuiWindow *win)
{
	GtkWidget *box = gtk_box_new(GTK_ORIENTATION_VERTICAL, 18), *hint, *actions, *b;

	gtk_widget_set_margin_top(box, 24);
	gtk_widget_set_margin_start(box, 18);
	gtk_widget_set_margin_end(box, 18);
	win->sheet_title = gtk_label_new(NULL);
	gtk_widget_add_css_class(win->sheet_title, "title-1");
	gtk_label_set_wrap(GTK_LABEL(win->sheet_title), TRUE);
	gtk_box_append(GTK_BOX(box), win->sheet_title);
	win->sheet_key = gtk_label_new(NULL);
	gtk_widget_add_css_class(win->sheet_key, "recovery-key");
	gtk_label_set_wrap(GTK_LABEL(win->sheet_key), TRUE);
	gtk_label_set_wrap_mode(GTK_LABEL(win->sheet_key), PANGO_WRAP_WORD_CHAR);
	gui_label(win->sheet_key, _("Recovery key"));
	gtk_box_append(GTK_BOX(box), win->sheet_key);
	hint = gtk_label_new(_("Keep this sheet at home, never with the computer. If you forget "
			       "your PIN or it is blocked, this key opens your vault again and "
			       "sets a new PIN."));
	gtk_label_set_wrap(GTK_LABEL(hint), TRUE);
	gtk_widget_add_css_class(hint, "title-4");
	gtk_box_append(GTK_BOX(box), hint);
	actions = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 12);
	gtk_widget_set_halign(actions, GTK_ALIGN_CENTER);
	b = gui_button(_("_Print the sheet…"), "suggested-action");
	g_signal_connect(b, "clicked", G_CALLBACK(sheet_print), win);
	gtk_box_append(GTK_BOX(actions), b);
	b = gui_button(_("Save as _PDF…"), NULL);
	g_signal_connect(b, "clicked", G_CALLBACK(sheet_save), win);
	gtk_box_append(GTK_BOX(actions), b);
	b = gui_button(_("_Done"), NULL);
	g_signal_connect(b, "clicked", G_CALLBACK(sheet_done), win);
	gtk_box_append(GTK_BOX(actions), b);
	gtk_box_append(GTK_BOX(box), actions);
	return box;
}
