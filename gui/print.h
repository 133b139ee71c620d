/* A document of blocks of text, printed through GTK's print dialog or saved as a PDF without
 * one (GtkPrintOperation's export), paged to fit: the person's history and the appointment's
 * receipt (records.c). */
#ifndef SESAME_GUI_PRINT_H
#define SESAME_GUI_PRINT_H

#include <gtk/gtk.h>

#define GUI_PRINT_MARGIN_PT 56.0 /* 2 cm */
#define GUI_PRINT_GAP_PT 6.0	 /* between two blocks */

typedef struct gui_doc GuiDoc;

/* job: the print job's name; file: the PDF's file name offered (without ".pdf"). */
GuiDoc *gui_doc_new(const char *job, const char *file);
/* Counted: a dialog that is still open keeps the document it prints. */
GuiDoc *gui_doc_ref(GuiDoc *doc);
void gui_doc_unref(GuiDoc *doc);
/* A block of text in a Pango font ("Sans Bold 20"), wrapped to the page; gap: space above it,
 * in points (a new entry starts further down than its own lines). */
void gui_doc_add(GuiDoc *doc, const char *font, double gap, const char *text);

/* A PDF's file made fresh, 0600 and never through a link, before an export writes it (the
 * chooser has asked before replacing a file): 0, or -1 with errno. */
int gui_print_file_create(const char *path);
/* A modal file chooser to save a PDF, offering file.pdf. */
GtkFileChooserNative *gui_print_chooser(GtkWindow *parent, const char *title, const char *file);

/* The print dialog, on parent. */
void gui_doc_print(GuiDoc *doc, GtkWindow *parent, void (*say)(GtkWindow *, const char *));
/* The file dialog, then the PDF in a fresh 0600 file; say(parent, text) tells the outcome:
 * saved, made of the translated "%s" text saved_fmt with the path. */
void gui_doc_save(GuiDoc *doc, GtkWindow *parent, const char *dialog_title, const char *saved_fmt,
		  void (*say)(GtkWindow *, const char *));

#endif
