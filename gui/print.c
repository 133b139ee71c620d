/* A document printed or saved as a PDF (print.h). */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <glib/gi18n.h>

#include "print.h"

struct block {
	char *font, *text;
	double gap;
	int page;
	double y;
};

struct gui_doc {
	char *job, *file;
	GArray *blocks; /* struct block */
};

static void doc_clear(gpointer data)
{
	GuiDoc *doc = data;

	for (guint i = 0; i < doc->blocks->len; i++) {
		struct block *b = &g_array_index(doc->blocks, struct block, i);
		g_free(b->font);
		g_free(b->text);
	}
	g_array_free(doc->blocks, TRUE);
	g_free(doc->job);
	g_free(doc->file);
}

GuiDoc *gui_doc_new(const char *job, const char *file)
{
	GuiDoc *doc = g_rc_box_new0(GuiDoc);

	doc->job = g_strdup(job);
	doc->file = g_strdup(file);
	doc->blocks = g_array_new(FALSE, TRUE, sizeof(struct block));
	return doc;
}

GuiDoc *gui_doc_ref(GuiDoc *doc)
{
	return g_rc_box_acquire(doc);
}

void gui_doc_unref(GuiDoc *doc)
{
	if (doc != NULL)
		g_rc_box_release_full(doc, doc_clear);
}

void gui_doc_add(GuiDoc *doc, const char *font, double gap, const char *text)
{
	struct block b = {g_strdup(font), g_strdup(text), gap, 0, 0};

	g_array_append_val(doc->blocks, b);
}

static PangoLayout *doc_layout(GtkPrintContext *ctx, const struct block *b)
{
	PangoLayout *layout = gtk_print_context_create_pango_layout(ctx);
	PangoFontDescription *font = pango_font_description_from_string(b->font);

	pango_layout_set_font_description(layout, font);
	pango_layout_set_width(
	    layout,
	    (int)((gtk_print_context_get_width(ctx) - 2 * GUI_PRINT_MARGIN_PT) * PANGO_SCALE));
	pango_layout_set_wrap(layout, PANGO_WRAP_WORD_CHAR);
	pango_layout_set_text(layout, b->text, -1);
	pango_font_description_free(font);
	return layout;
}

/* Each block's page and place: a block goes on the next page when it does not fit. */
static void doc_paginate(GtkPrintOperation *op, GtkPrintContext *ctx, gpointer data)
{
	GuiDoc *doc = data;
	double bottom = gtk_print_context_get_height(ctx) - GUI_PRINT_MARGIN_PT,
	       y = GUI_PRINT_MARGIN_PT;
	int page = 0, w, h;

	for (guint i = 0; i < doc->blocks->len; i++) {
		struct block *b = &g_array_index(doc->blocks, struct block, i);
		PangoLayout *layout = doc_layout(ctx, b);

		pango_layout_get_pixel_size(layout, &w, &h);
		g_object_unref(layout);
		y += i > 0 ? b->gap + GUI_PRINT_GAP_PT : 0;
		if (y + h > bottom && y > GUI_PRINT_MARGIN_PT) {
			page++;
			y = GUI_PRINT_MARGIN_PT;
		}
		b->page = page;
		b->y = y;
		y += h;
	}
	gtk_print_operation_set_n_pages(op, page + 1);
}

static void doc_draw(GtkPrintOperation *op, GtkPrintContext *ctx, int page, gpointer data)
{
	GuiDoc *doc = data;
	cairo_t *cr = gtk_print_context_get_cairo_context(ctx);

	cairo_set_source_rgb(cr, 0, 0, 0);
	for (guint i = 0; i < doc->blocks->len; i++) {
		const struct block *b = &g_array_index(doc->blocks, struct block, i);
		PangoLayout *layout;

		if (b->page != page)
			continue;
		layout = doc_layout(ctx, b);
		cairo_move_to(cr, GUI_PRINT_MARGIN_PT, b->y);
		pango_cairo_show_layout(cr, layout);
		g_object_unref(layout);
	}
}

static GtkPrintOperation *doc_operation(GuiDoc *doc)
{
	GtkPrintOperation *op = gtk_print_operation_new();

	gtk_print_operation_set_job_name(op, doc->job);
	gtk_print_operation_set_unit(op, GTK_UNIT_POINTS);
	gtk_print_operation_set_embed_page_setup(op, TRUE);
	g_signal_connect(op, "begin-print", G_CALLBACK(doc_paginate), doc);
	g_signal_connect(op, "draw-page", G_CALLBACK(doc_draw), doc);
	g_object_set_data_full(G_OBJECT(op), "doc", gui_doc_ref(doc),
			       (GDestroyNotify)gui_doc_unref);
	return op;
}

void gui_doc_print(GuiDoc *doc, GtkWindow *parent, void (*say)(GtkWindow *, const char *))
{
	GtkPrintOperation *op = doc_operation(doc);
	GError *error = NULL;

	gtk_print_operation_set_allow_async(op, TRUE);
	if (gtk_print_operation_run(op, GTK_PRINT_OPERATION_ACTION_PRINT_DIALOG, parent, &error) ==
	    GTK_PRINT_OPERATION_RESULT_ERROR) {
		say(parent, error->message);
		g_clear_error(&error);
	}
	g_object_unref(op);
}

struct save {
	GuiDoc *doc;
	GtkWindow *parent;
	char *saved_fmt;
	void (*say)(GtkWindow *, const char *);
};

int gui_print_file_create(const char *path)
{
	int fd;

	if (unlink(path) != 0 && errno != ENOENT)
		return -1;
	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600)) < 0)
		return -1;
	return close(fd);
}

/* fmt, a translated text, with its one %s replaced by value: not a format string the compiler
 * can check. */
static char *doc_put(const char *fmt, const char *value)
{
	const char *conv = strstr(fmt, "%s");

	if (conv == NULL)
		return g_strdup(fmt);
	return g_strdup_printf("%.*s%s%s", (int)(conv - fmt), fmt, value, conv + 2);
}

static void doc_export(struct save *s, const char *path)
{
	GtkPrintOperation *op;
	GError *error = NULL;
	char *text;

	if (gui_print_file_create(path) != 0) {
		text = g_strdup_printf(_("cannot create %s: %s"), path, g_strerror(errno));
		s->say(s->parent, text);
		g_free(text);
		return;
	}
	op = doc_operation(s->doc);
	gtk_print_operation_set_export_filename(op, path);
	if (gtk_print_operation_run(op, GTK_PRINT_OPERATION_ACTION_EXPORT, s->parent, &error) ==
	    GTK_PRINT_OPERATION_RESULT_ERROR) {
		text = g_strdup_printf(_("cannot create %s: %s"), path, error->message);
		g_clear_error(&error);
		unlink(path);
	} else {
		text = doc_put(s->saved_fmt, path);
	}
	s->say(s->parent, text);
	g_free(text);
	g_object_unref(op);
}

static void doc_chosen(GtkNativeDialog *dialog, int response, gpointer data)
{
	struct save *s = data;
	GFile *file;
	char *path;

	if (response == GTK_RESPONSE_ACCEPT &&
	    (file = gtk_file_chooser_get_file(GTK_FILE_CHOOSER(dialog))) != NULL) {
		if ((path = g_file_get_path(file)) != NULL)
			doc_export(s, path);
		g_free(path);
		g_object_unref(file);
	}
	gui_doc_unref(s->doc);
	g_free(s->saved_fmt);
	g_free(s);
	g_object_unref(dialog);
}

GtkFileChooserNative *gui_print_chooser(GtkWindow *parent, const char *title, const char *file)
{
	GtkFileChooserNative *chooser = gtk_file_chooser_native_new(
	    title, parent, GTK_FILE_CHOOSER_ACTION_SAVE, _("_Save"), _("_Cancel"));
	char *name = g_strdup_printf("%s.pdf", file);

	gtk_native_dialog_set_modal(GTK_NATIVE_DIALOG(chooser), TRUE);
	gtk_file_chooser_set_current_name(GTK_FILE_CHOOSER(chooser), name);
	g_free(name);
	return chooser;
}

void gui_doc_save(GuiDoc *doc, GtkWindow *parent, const char *dialog_title, const char *saved_fmt,
		  void (*say)(GtkWindow *, const char *))
{
	GtkFileChooserNative *chooser = gui_print_chooser(parent, dialog_title, doc->file);
	struct save *s = g_new0(struct save, 1);

	s->doc = gui_doc_ref(doc);
	s->parent = parent;
	s->saved_fmt = g_strdup(saved_fmt);
	s->say = say;
	g_signal_connect(chooser, "response", G_CALLBACK(doc_chosen), s);
	gtk_native_dialog_show(GTK_NATIVE_DIALOG(chooser));
}
