/* What the screens of GuiWindow share: window.c (the people, a new person), pinflow.c (every
 * use of the PIN screen), appointment.c (the appointment and a new service), recovery.c (the
 * recovery key), sheet.c (the recovery sheet, printed or saved as PDF). */
#ifndef SESAME_GUI_WINDOW_PRIVATE_H
#define SESAME_GUI_WINDOW_PRIVATE_H

#include <cjson/cJSON.h>

#include "format.h"
#include "people.h"
#include "pinpad.h"
#include "print.h"
#include "window.h"

#define GUI_STATUS_POLL_S 10	/* how often the session's remaining time is asked again */
#define GUI_GENERATED_LENGTH 20 /* a generated password, as sesame add --generate makes */
#define GUI_RECOVERY_GROUPS 8	/* groups of VAULT_RECOVERY_GROUP symbols on the sheet */

/* What the PIN screen is asking for. */
enum gui_pin_mode {
	GUI_PIN_UNLOCK,
	GUI_PIN_ENROL_FIRST,
	GUI_PIN_ENROL_SECOND,
	GUI_PIN_RECOVER_FIRST,
	GUI_PIN_RECOVER_SECOND,
	GUI_PIN_CHANGE_CURRENT,
	GUI_PIN_CHANGE_FIRST,
	GUI_PIN_CHANGE_SECOND,
	GUI_PIN_HISTORY, /* the person's own history, shown after their PIN */
};

struct _GuiWindow {
	AdwApplicationWindow parent;
	AdwToastOverlay *toasts;
	GtkStack *stack;
	GtkWidget *back, *message, *title; /* the title says which screen this is */
	gboolean headless;
	unsigned pin_min;

	/* the people */
	GuiPeopleModel *people;
	GtkWidget *search, *list, *people_count, *people_error, *people_main;

	/* the person the screens are about */
	char *user, *name, *purpose;
	long long attempts;

	/* the PIN screen; secrets in sodium_malloc buffers, freed (wiped) once sent */
	GuiPinPad *pad;
	enum gui_pin_mode mode;
	char *first_pin, *current_pin, *recovery;

	/* a new person */
	GtkWidget *enrol_name, *enrol_error;
	/* the purpose, before the PIN screen */
	GtkWidget *purpose_title, *purpose_entry;

	/* the recovery sheet: its key in guarded memory until "Done" */
	GtkWidget *sheet_title, *sheet_key;
	char *sheet_text, *sheet_name, *sheet_id;

	/* the appointment */
	GtkWidget *appt_title, *appt_time, *services, *login_box, *login_spinner, *login_label;
	long long expires_at_ms;
	guint tick, poll;
	gboolean login_running;

	/* a new service */
	GtkWidget *add_service, *add_url, *add_username, *add_consent, *add_until;
	GtkWidget *add_pw1, *add_pw2, *add_generate, *add_error, *add_save;
	char *generated; /* a generated password, shown once after it is recorded */

	/* recovery */
	GtkWidget *rec_title, *rec_groups[GUI_RECOVERY_GROUPS], *rec_error, *rec_next;

	/* the history and the receipt, and the document that prints the one shown */
	GtkWidget *hist_title, *hist_list, *rcpt_title, *rcpt_list;
	GuiDoc *doc;
};

/* A reply on the main loop: reply (ok or not), or NULL and error (the agent unreachable). */
typedef void (*gui_reply_fn)(GuiWindow *win, const cJSON *reply, const char *error);
void gui_window_call(GuiWindow *win, cJSON *req, gui_reply_fn fn);
gboolean gui_reply_ok(const cJSON *reply);
long long gui_reply_code(const cJSON *reply);

void gui_window_page(GuiWindow *win, const char *page);
void gui_window_toast(GuiWindow *win, const char *text);
/* The latest outcome or refusal, in the one label named "Message" at the window's foot. */
void gui_window_say(GuiWindow *win, const char *text);
/* Back to the people, with a message for the worker (NULL: none). */
void gui_window_home(GuiWindow *win, const char *message);
void gui_window_set_person(GuiWindow *win, const char *user, const char *name, long long attempts);
/* The PIN screen for the current person in mode. */
void gui_window_ask_pin(GuiWindow *win, enum gui_pin_mode mode);
/* sodium_free *p (which wipes it) and set it to NULL. */
void gui_secret_free(char **p);
/* Wipe and free every secret the window holds. */
void gui_window_forget(GuiWindow *win);
/* A widget's accessible label (what the UI tests and screen readers find). */
void gui_label(GtkWidget *w, const char *label);
GtkWidget *gui_button(const char *text, const char *css);
/* Every button under w named by its text alone: a dialog's responses are made with mnemonics,
 * whose raw text GTK 4.8 also sets as their label (a screen reader would say both). */
void gui_buttons_named_by_text(GtkWidget *w);

/* pinflow.c: the PIN screen's signals */
void gui_pin_submitted(GuiPinPad *pad, gpointer data);
void gui_pin_cancelled(GuiPinPad *pad, gpointer data);

/* appointment.c */
GtkWidget *gui_appointment_page(GuiWindow *win);
GtkWidget *gui_add_page(GuiWindow *win);
void gui_appointment_open(GuiWindow *win, long long expires_in);
/* The appointment of a person whose session is open already: its time asked of the agent. */
void gui_appointment_resume(GuiWindow *win);
void gui_appointment_stop(GuiWindow *win);

/* recovery.c */
GtkWidget *gui_recovery_page(GuiWindow *win);
void gui_recovery_open(GuiWindow *win, const char *message);

/* records.c: the person's history and the appointment's receipt */
GtkWidget *gui_history_page(GuiWindow *win);
GtkWidget *gui_receipt_page(GuiWindow *win);
/* The history of a "history" reply, shown. */
void gui_history_open(GuiWindow *win, const cJSON *reply);
/* The receipt of a "lock" reply, shown; FALSE (nothing shown) when it holds no entry. */
gboolean gui_receipt_open(GuiWindow *win, const cJSON *reply);
void gui_records_forget(GuiWindow *win);

/* sheet.c */
GtkWidget *gui_sheet_page(GuiWindow *win);
/* Show the sheet of name (id) with the key text (copied into guarded memory). */
void gui_sheet_open(GuiWindow *win, const char *name, const char *id, const char *key);
void gui_sheet_forget(GuiWindow *win);

#endif
