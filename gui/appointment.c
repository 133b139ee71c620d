/* The appointment: the person's services with "Connexion assistée", adding and removing one,
 * the consent and its end, the session's remaining time, and its end. */
#include <string.h>
#include <time.h>

#include <glib/gi18n.h>
#include <sodium.h>

#include "agent.h"
#include "loginreq.h"
#include "messages.h"
#include "proto.h"
#include "secretfield.h"
#include "window-private.h"

#define LIST_PAGE 64 /* the agent's largest page of services */

/* ---- The session's time ---- */

static void appointment_show_time(GuiWindow *win)
{
	long long left = (win->expires_at_ms - proto_now_ms()) / 1000;
	char *text;

	if (left < 0)
		left = 0;
	text = g_strdup_printf(_("Time left: %lld min %02lld s"), left / 60, left % 60);
	gtk_label_set_text(GTK_LABEL(win->appt_time), text);
	g_free(text);
}

static const char *appointment_ended_text(void)
{
	return _("The appointment has ended: the session timed out or was ended. Ask the person "
		 "for their PIN to open it again.");
}

/* The agent's word on the session: its time, or its end. */
static void appointment_status_done(GuiWindow *win, const cJSON *reply, const char *error)
{
	const cJSON *sessions = cJSON_GetObjectItemCaseSensitive(reply, "sessions"), *s;
	long long expires;

	if (win->user == NULL || win->tick == 0)
		return; /* the appointment ended meanwhile */
	if (!gui_reply_ok(reply)) {
		gtk_label_set_text(GTK_LABEL(win->appt_time),
				   error != NULL ? error : _("The agent does not answer."));
		return;
	}
	cJSON_ArrayForEach(s, sessions)
	{
		const char *id = proto_string(s, "user");
		if (id != NULL && strcmp(id, win->user) == 0 &&
		    proto_int(s, "expires_in", &expires) == 0) {
			win->expires_at_ms = proto_now_ms() + expires * 1000;
			appointment_show_time(win);
			return;
		}
	}
	gui_window_home(win, appointment_ended_text());
}

static void appointment_poll(GuiWindow *win)
{
	cJSON *req = cJSON_CreateObject();

	cJSON_AddStringToObject(req, "op", "status");
	gui_window_call(win, req, appointment_status_done);
}

static gboolean appointment_tick(gpointer data)
{
	GuiWindow *win = data;

	appointment_show_time(win);
	if (++win->poll >= GUI_STATUS_POLL_S || proto_now_ms() >= win->expires_at_ms) {
		win->poll = 0;
		appointment_poll(win);
	}
	return G_SOURCE_CONTINUE;
}

void gui_appointment_stop(GuiWindow *win)
{
	if (win->tick != 0)
		g_source_remove(win->tick);
	win->tick = 0;
}

/* ---- The services ---- */

/* The consent in words: none, until a date, ended. */
static char *appointment_consent(const cJSON *s)
{
	long long until = 0;
	GDateTime *when;
	char *date, *text;

	if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(s, "consent")))
		return g_strdup(_("no consent to assisted logins"));
	proto_int(s, "consent_until", &until);
	if (until == 0)
		return g_strdup(_("consent to assisted logins, with no end date"));
	when = g_date_time_new_from_unix_local(until);
	date = when != NULL ? g_date_time_format(when, "%e %B %Y") : g_strdup("?");
	g_strstrip(date);
	if (until < (long long)time(NULL))
		text = g_strdup_printf(_("consent to assisted logins ended on %s"), date);
	else
		text = g_strdup_printf(_("consent to assisted logins until %s"), date);
	g_free(date);
	if (when != NULL)
		g_date_time_unref(when);
	return text;
}

static void services_clear(GuiWindow *win)
{
	GtkListBoxRow *row; /* rows only: the placeholder stays */

	while ((row = gtk_list_box_get_row_at_index(GTK_LIST_BOX(win->services), 0)) != NULL)
		gtk_list_box_remove(GTK_LIST_BOX(win->services), GTK_WIDGET(row));
}

static void login_done(GuiWindow *win, const cJSON *reply, const char *error);
static void service_remove_ask(GtkButton *b, gpointer data);

/* The login of one service: progress shown, the other logins waiting for it. */
static void service_login(GtkButton *b, gpointer data)
{
	GuiWindow *win = data;
	const char *service = g_object_get_data(G_OBJECT(b), "service");
	struct login_ask ask = {.user = win->user,
				.service = service,
				.purpose = win->purpose,
				.headless = win->headless};
	char *text;

	if (win->login_running)
		return;
	win->login_running = TRUE;
	text = g_strdup_printf(_("Assisted login to %s: the browser opens and fills in the page…"),
			       service);
	gtk_label_set_text(GTK_LABEL(win->login_label), text);
	gui_window_say(win, text);
	g_free(text);
	gtk_widget_set_visible(win->login_box, TRUE);
	gtk_widget_set_visible(win->login_spinner, TRUE);
	gtk_spinner_set_spinning(GTK_SPINNER(win->login_spinner), TRUE);
	gtk_widget_set_sensitive(win->services, FALSE);
	g_object_set_data_full(G_OBJECT(win), "login-service", g_strdup(service), g_free);
	gui_window_call(win, login_request(&ask), login_done);
}

static void login_done(GuiWindow *win, const cJSON *reply, const char *error)
{
	const char *service = g_object_get_data(G_OBJECT(win), "login-service");
	struct login_outcome out;
	char *text;

	login_outcome_read(reply, &out);
	win->login_running = FALSE;
	gtk_widget_set_sensitive(win->services, TRUE);
	gtk_spinner_set_spinning(GTK_SPINNER(win->login_spinner), FALSE);
	gtk_widget_set_visible(win->login_spinner, FALSE);
	if (reply != NULL && out.ok) {
		text = g_strdup_printf(out.submitted
					   ? _("The login page of %s was filled in and sent.")
					   : _("The login page of %s was filled in (not sent)."),
				       service != NULL ? service : "");
		if (out.kept_open) {
			char *more = g_strconcat(text, " ",
						 _("The browser stays open until the end of the "
						   "appointment."),
						 NULL);
			g_free(text);
			text = more;
		}
	} else if (reply != NULL && out.code == PROTO_E_NOSESSION) {
		gui_window_home(win, appointment_ended_text());
		return;
	} else if (reply != NULL && out.code == PROTO_E_LOGIN) {
		text = g_strdup(gui_login_advice(out.reason));
	} else {
		text = error != NULL ? g_strdup(error) : gui_reply_message(reply);
	}
	gtk_label_set_text(GTK_LABEL(win->login_label), text);
	gui_window_toast(win, text);
	g_free(text);
}

static GtkWidget *service_action(GuiWindow *win, const char *text, const char *service,
				 const char *css, GCallback cb)
{
	GtkWidget *b = gtk_button_new();
	/* TRANSLATORS: a service's button for a screen reader: "Assisted login: CAF" */
	char *said = g_strdup_printf(_("%s: %s"), text, service);

	/* A child label, not the button's own, so that the accessible name is the label below
	 * alone ("Assisted login: CAF"), which tells the services' buttons apart. */
	gtk_button_set_child(GTK_BUTTON(b), gtk_label_new(text));
	gui_label(b, said);
	g_free(said);
	gtk_widget_set_valign(b, GTK_ALIGN_CENTER);
	if (css != NULL)
		gtk_widget_add_css_class(b, css);
	g_object_set_data_full(G_OBJECT(b), "service", g_strdup(service), g_free);
	g_signal_connect(b, "clicked", cb, win);
	return b;
}

static void services_add(GuiWindow *win, const cJSON *s)
{
	const char *service = proto_string(s, "service"), *username = proto_string(s, "username");
	GtkWidget *row = adw_action_row_new();
	char *consent = appointment_consent(s), *sub, *title;

	if (service == NULL)
		return;
	title = g_markup_escape_text(service, -1);
	/* TRANSLATORS: a service's line: the person's login on the site, then the consent */
	sub =
	    g_markup_printf_escaped(_("login %s · %s"), username != NULL ? username : "", consent);
	adw_preferences_row_set_title(ADW_PREFERENCES_ROW(row), title);
	adw_action_row_set_subtitle(ADW_ACTION_ROW(row), sub);
	adw_action_row_add_suffix(ADW_ACTION_ROW(row),
				  service_action(win, _("Assisted login"), service,
						 "suggested-action", G_CALLBACK(service_login)));
	adw_action_row_add_suffix(ADW_ACTION_ROW(row),
				  service_action(win, _("Remove"), service, "destructive-action",
						 G_CALLBACK(service_remove_ask)));
	gtk_list_box_append(GTK_LIST_BOX(win->services), row);
	g_free(title);
	g_free(sub);
	g_free(consent);
}

static void services_ask(GuiWindow *win, long long cursor);

static void services_done(GuiWindow *win, const cJSON *reply, const char *error)
{
	const cJSON *list = cJSON_GetObjectItemCaseSensitive(reply, "services"), *s;
	long long next;
	char *text;

	if (!gui_reply_ok(reply)) {
		if (reply != NULL && gui_reply_code(reply) == PROTO_E_NOSESSION) {
			gui_window_home(win, appointment_ended_text());
			return;
		}
		text = error != NULL ? g_strdup(error) : gui_reply_message(reply);
		gui_window_toast(win, text);
		g_free(text);
		return;
	}
	cJSON_ArrayForEach(s, list) services_add(win, s);
	if (proto_int(reply, "next", &next) == 0 && next > 0)
		services_ask(win, next);
}

static void services_ask(GuiWindow *win, long long cursor)
{
	cJSON *req = cJSON_CreateObject();

	cJSON_AddStringToObject(req, "op", "list");
	cJSON_AddStringToObject(req, "user", win->user);
	cJSON_AddNumberToObject(req, "limit", LIST_PAGE);
	cJSON_AddNumberToObject(req, "cursor", (double)cursor);
	gui_window_call(win, req, services_done);
}

static void services_reload(GuiWindow *win)
{
	services_clear(win);
	services_ask(win, 0);
}

/* ---- Removing a service, after a confirmation ---- */

static void remove_done(GuiWindow *win, const cJSON *reply, const char *error)
{
	char *text;

	if (gui_reply_ok(reply))
		text = g_strdup(_("The service is removed."));
	else
		text = error != NULL ? g_strdup(error) : gui_reply_message(reply);
	gui_window_toast(win, text);
	g_free(text);
	services_reload(win);
}

static void remove_response(AdwMessageDialog *dialog, const char *response, gpointer data)
{
	GuiWindow *win = data;
	cJSON *req;

	if (strcmp(response, "remove") != 0)
		return;
	req = cJSON_CreateObject();
	cJSON_AddStringToObject(req, "op", "remove");
	cJSON_AddStringToObject(req, "user", win->user);
	cJSON_AddStringToObject(req, "service", g_object_get_data(G_OBJECT(dialog), "service"));
	gui_window_call(win, req, remove_done);
}

static void service_remove_ask(GtkButton *b, gpointer data)
{
	GuiWindow *win = data;
	const char *service = g_object_get_data(G_OBJECT(b), "service");
	char *heading = g_strdup_printf(_("Remove %s?"), service);
	GtkWidget *dialog = adw_message_dialog_new(
	    GTK_WINDOW(win), heading,
	    _("The person's login and password for this service are deleted from their vault. "
	      "This cannot be undone."));

	adw_message_dialog_add_responses(ADW_MESSAGE_DIALOG(dialog), "cancel", _("_Cancel"),
					 "remove", _("_Remove"), NULL);
	adw_message_dialog_set_response_appearance(ADW_MESSAGE_DIALOG(dialog), "remove",
						   ADW_RESPONSE_DESTRUCTIVE);
	adw_message_dialog_set_default_response(ADW_MESSAGE_DIALOG(dialog), "cancel");
	adw_message_dialog_set_close_response(ADW_MESSAGE_DIALOG(dialog), "cancel");
	g_object_set_data_full(G_OBJECT(dialog), "service", g_strdup(service), g_free);
	g_signal_connect(dialog, "response", G_CALLBACK(remove_response), win);
	gui_buttons_named_by_text(dialog);
	gtk_window_present(GTK_WINDOW(dialog));
	g_free(heading);
}

/* ---- The end of the appointment ---- */

static void lock_done(GuiWindow *win, const cJSON *reply, const char *error)
{
	char *text;

	long long closed = 0;

	if (gui_reply_ok(reply)) {
		gui_appointment_stop(win); /* no session's time to show or ask any more */
		proto_int(reply, "closed", &closed);
		if (closed == 0)
			gui_window_home(win, appointment_ended_text());
		else if (!gui_receipt_open(win, reply)) /* no entry to give a code to */
			gui_window_home(
			    win, _("The appointment has ended: the person's vault is locked."));
		return;
	}
	text = error != NULL ? g_strdup(error) : gui_reply_message(reply);
	gui_window_toast(win, text);
	g_free(text);
}

static void appointment_end(GtkButton *b, gpointer data)
{
	GuiWindow *win = data;
	cJSON *req = cJSON_CreateObject();

	cJSON_AddStringToObject(req, "op", "lock");
	cJSON_AddStringToObject(req, "user", win->user);
	cJSON_AddTrueToObject(req, "receipt"); /* offered to the person once the vault is locked */
	gui_window_call(win, req, lock_done);
}

static void appointment_add(GtkButton *b, gpointer data);

static void appointment_pin(GtkButton *b, gpointer data)
{
	gui_window_ask_pin(data, GUI_PIN_CHANGE_CURRENT);
}

static void appointment_history(GtkButton *b, gpointer data)
{
	gui_window_ask_pin(data, GUI_PIN_HISTORY);
}

void gui_appointment_open(GuiWindow *win, long long expires_in)
{
	char *text;

	gui_window_forget(win);
	gtk_label_set_text(GTK_LABEL(win->appt_title), win->name);
	gtk_widget_set_visible(win->login_box, FALSE);
	win->expires_at_ms = proto_now_ms() + expires_in * 1000;
	win->poll = 0;
	appointment_show_time(win);
	if (win->tick == 0)
		win->tick = g_timeout_add_seconds(1, appointment_tick, win);
	services_reload(win);
	gui_window_page(win, "appointment");
	text = g_strdup_printf(_("The appointment with %s is open."), win->name);
	gui_window_say(win, text);
	g_free(text);
}

static void resume_done(GuiWindow *win, const cJSON *reply, const char *error)
{
	const cJSON *sessions = cJSON_GetObjectItemCaseSensitive(reply, "sessions"), *s;
	long long expires;
	char *text;

	cJSON_ArrayForEach(s, sessions)
	{
		const char *id = proto_string(s, "user");
		if (id != NULL && strcmp(id, win->user) == 0 &&
		    proto_int(s, "expires_in", &expires) == 0) {
			gui_appointment_open(win, expires);
			return;
		}
	}
	text = error != NULL ? g_strdup(error) : g_strdup(appointment_ended_text());
	gui_window_home(win, text);
	g_free(text);
}

void gui_appointment_resume(GuiWindow *win)
{
	cJSON *req = cJSON_CreateObject();

	cJSON_AddStringToObject(req, "op", "status");
	gui_window_call(win, req, resume_done);
}

GtkWidget *gui_appointment_page(GuiWindow *win)
{
	GtkWidget *box = gtk_box_new(GTK_ORIENTATION_VERTICAL, 12), *actions, *b, *scroll, *empty;

	gtk_widget_set_margin_start(box, 18);
	gtk_widget_set_margin_end(box, 18);
	gtk_widget_set_margin_top(box, 12);
	gtk_widget_set_margin_bottom(box, 12);
	win->appt_title = gtk_label_new(NULL);
	gtk_widget_add_css_class(win->appt_title, "title-1");
	gtk_box_append(GTK_BOX(box), win->appt_title);
	win->appt_time = gtk_label_new(NULL);
	gtk_widget_add_css_class(win->appt_time, "title-3");
	gui_label(win->appt_time, _("Time left"));
	gtk_box_append(GTK_BOX(box), win->appt_time);
	actions = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 12);
	gtk_widget_set_halign(actions, GTK_ALIGN_CENTER);
	b = gui_button(_("_Add a service"), "suggested-action");
	g_signal_connect(b, "clicked", G_CALLBACK(appointment_add), win);
	gtk_box_append(GTK_BOX(actions), b);
	b = gui_button(_("_Change the PIN"), NULL);
	g_signal_connect(b, "clicked", G_CALLBACK(appointment_pin), win);
	gtk_box_append(GTK_BOX(actions), b);
	b = gui_button(_("_History"), NULL);
	g_signal_connect(b, "clicked", G_CALLBACK(appointment_history), win);
	gtk_box_append(GTK_BOX(actions), b);
	b = gui_button(_("_End of appointment"), "destructive-action");
	g_signal_connect(b, "clicked", G_CALLBACK(appointment_end), win);
	gtk_box_append(GTK_BOX(actions), b);
	gtk_box_append(GTK_BOX(box), actions);
	win->login_box = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 12);
	win->login_spinner = gtk_spinner_new();
	win->login_label =
	    g_object_new(GTK_TYPE_LABEL, "accessible-role", GTK_ACCESSIBLE_ROLE_STATUS, "wrap",
			 TRUE, "xalign", 0.0, NULL);
	gtk_widget_add_css_class(win->login_label, "title-4");
	gtk_box_append(GTK_BOX(win->login_box), win->login_spinner);
	gtk_box_append(GTK_BOX(win->login_box), win->login_label);
	gtk_box_append(GTK_BOX(box), win->login_box);
	win->services = gtk_list_box_new();
	gtk_list_box_set_selection_mode(GTK_LIST_BOX(win->services), GTK_SELECTION_NONE);
	gtk_widget_add_css_class(win->services, "boxed-list");
	gtk_widget_set_valign(win->services, GTK_ALIGN_START);
	empty = gtk_label_new(_("No service recorded yet: add one with the person."));
	gtk_label_set_wrap(GTK_LABEL(empty), TRUE);
	gtk_widget_add_css_class(empty, "dim-label");
	gtk_widget_set_margin_top(empty, 18);
	gtk_widget_set_margin_bottom(empty, 18);
	gtk_list_box_set_placeholder(GTK_LIST_BOX(win->services), empty);
	gui_label(win->services, _("Services"));
	scroll = gtk_scrolled_window_new();
	gtk_scrolled_window_set_child(GTK_SCROLLED_WINDOW(scroll), win->services);
	gtk_scrolled_window_set_policy(GTK_SCROLLED_WINDOW(scroll), GTK_POLICY_NEVER,
				       GTK_POLICY_AUTOMATIC);
	gtk_widget_set_vexpand(scroll, TRUE);
	gtk_box_append(GTK_BOX(box), scroll);
	return box;
}

/* ---- A new service ---- */

/* The end of the consent chosen in the list: 0 for none, else the moment it ends. */
static long long add_until(guint choice)
{
	time_t now = time(NULL);
	struct tm tm;

	if (choice == 0)
		return 0;
	localtime_r(&now, &tm);
	tm.tm_isdst = -1;
	if (choice == 1)
		tm.tm_mday += 1;
	else if (choice == 2)
		tm.tm_mon += 1;
	else if (choice == 3)
		tm.tm_mon += 6;
	else
		tm.tm_year += 1;
	return (long long)mktime(&tm);
}

static char *add_generate(void)
{
	static const char alphabet[] = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
				       "-_.!?";
	char *p = sodium_malloc(GUI_GENERATED_LENGTH + 1);

	if (p == NULL)
		return NULL;
	for (size_t i = 0; i < GUI_GENERATED_LENGTH; i++)
		p[i] = alphabet[randombytes_uniform(sizeof(alphabet) - 1)];
	p[GUI_GENERATED_LENGTH] = '\0';
	return p;
}

static void add_error(GuiWindow *win, const char *text)
{
	gtk_label_set_text(GTK_LABEL(win->add_error), text);
	gui_window_say(win, text);
	gtk_widget_set_sensitive(win->add_save, TRUE);
}

/* A generated password is shown once, in a dialog, so the person sets it on the site: in large
 * monospace, where 0 and O, 1 and l are told apart. */
static void add_show_generated(GuiWindow *win, const char *service)
{
	char *heading = g_strdup_printf(_("New password for %s"), service);
	GtkWidget *dialog = adw_message_dialog_new(
	    GTK_WINDOW(win), heading, _("Shown only this once: set it on the website now."));
	GtkWidget *shown = gtk_label_new(win->generated);

	gtk_widget_add_css_class(shown, "recovery-key");
	gtk_label_set_selectable(GTK_LABEL(shown), FALSE);
	gui_label(shown, _("New password"));
	adw_message_dialog_set_extra_child(ADW_MESSAGE_DIALOG(dialog), shown);
	adw_message_dialog_add_response(ADW_MESSAGE_DIALOG(dialog), "close", _("_Done"));
	gui_buttons_named_by_text(dialog);
	gtk_window_present(GTK_WINDOW(dialog));
	g_free(heading);
}

static void add_done(GuiWindow *win, const cJSON *reply, const char *error)
{
	const char *service = gtk_editable_get_text(GTK_EDITABLE(win->add_service));
	char *text;

	if (!gui_reply_ok(reply)) {
		g_clear_pointer(&win->generated, sodium_free);
		if (reply != NULL && gui_reply_code(reply) == PROTO_E_NOSESSION) {
			gui_window_home(win, appointment_ended_text());
			return;
		}
		text = error != NULL ? g_strdup(error) : gui_reply_message(reply);
		add_error(win, text);
		g_free(text);
		return;
	}
	text = g_strdup_printf(_("%s recorded."), service);
	gui_window_toast(win, text);
	g_free(text);
	if (win->generated != NULL)
		add_show_generated(win, service);
	g_clear_pointer(&win->generated, sodium_free);
	gtk_widget_set_sensitive(win->add_save, TRUE);
	gui_window_page(win, "appointment");
	services_reload(win);
}

/* The password: generated, or typed twice by the person (the same both times). */
static char *add_password(GuiWindow *win)
{
	char *a, *b;
	size_t n;

	if (gtk_check_button_get_active(GTK_CHECK_BUTTON(win->add_generate))) {
		/* whatever was typed before the choice goes */
		gui_secret_field_clear(GUI_SECRET_FIELD(win->add_pw1));
		gui_secret_field_clear(GUI_SECRET_FIELD(win->add_pw2));
		g_clear_pointer(&win->generated, sodium_free);
		if ((a = add_generate()) == NULL ||
		    (win->generated = sodium_malloc(GUI_GENERATED_LENGTH + 1)) == NULL) {
			sodium_free(a);
			return NULL;
		}
		memcpy(win->generated, a, GUI_GENERATED_LENGTH + 1); /* shown once it is recorded */
		return a;
	}
	a = gui_secret_field_steal(GUI_SECRET_FIELD(win->add_pw1));
	b = gui_secret_field_steal(GUI_SECRET_FIELD(win->add_pw2));
	n = a != NULL ? strlen(a) : 0;
	if (a == NULL || b == NULL || n == 0 || n != strlen(b) || sodium_memcmp(a, b, n) != 0) {
		add_error(win,
			  a != NULL && n == 0
			      ? _("the password is empty: type it, or generate one")
			      : _("The two passwords differ: the person types it again, twice."));
		sodium_free(a);
		sodium_free(b);
		return NULL;
	}
	sodium_free(b);
	return a;
}

static void add_save(GtkButton *button, gpointer data)
{
	GuiWindow *win = data;
	gboolean consent = gtk_check_button_get_active(GTK_CHECK_BUTTON(win->add_consent));
	guint until = gtk_drop_down_get_selected(GTK_DROP_DOWN(win->add_until));
	cJSON *req;
	char *password;

	gtk_label_set_text(GTK_LABEL(win->add_error), "");
	if ((password = add_password(win)) == NULL)
		return;
	req = cJSON_CreateObject();
	cJSON_AddStringToObject(req, "op", "add");
	cJSON_AddStringToObject(req, "user", win->user);
	cJSON_AddStringToObject(req, "service",
				gtk_editable_get_text(GTK_EDITABLE(win->add_service)));
	cJSON_AddStringToObject(req, "url", gtk_editable_get_text(GTK_EDITABLE(win->add_url)));
	cJSON_AddStringToObject(req, "username",
				gtk_editable_get_text(GTK_EDITABLE(win->add_username)));
	cJSON_AddStringToObject(req, "password", password); /* wiped with the tree */
	sodium_free(password);
	cJSON_AddBoolToObject(req, "consent", consent);
	cJSON_AddNumberToObject(req, "consent_until", consent ? (double)add_until(until) : 0);
	gtk_widget_set_sensitive(win->add_save, FALSE);
	gui_window_call(win, req, add_done);
}

static void add_generate_toggled(GtkCheckButton *check, gpointer data)
{
	GuiWindow *win = data;
	gboolean typed = !gtk_check_button_get_active(check);

	gtk_widget_set_sensitive(win->add_pw1, typed);
	gtk_widget_set_sensitive(win->add_pw2, typed);
}

static void appointment_add(GtkButton *b, gpointer data)
{
	GuiWindow *win = data;

	gtk_editable_set_text(GTK_EDITABLE(win->add_service), "");
	gtk_editable_set_text(GTK_EDITABLE(win->add_url), "");
	gtk_editable_set_text(GTK_EDITABLE(win->add_username), "");
	gui_secret_field_clear(GUI_SECRET_FIELD(win->add_pw1));
	gui_secret_field_clear(GUI_SECRET_FIELD(win->add_pw2));
	gtk_check_button_set_active(GTK_CHECK_BUTTON(win->add_consent), TRUE);
	gtk_check_button_set_active(GTK_CHECK_BUTTON(win->add_generate), FALSE);
	gtk_drop_down_set_selected(GTK_DROP_DOWN(win->add_until), 0);
	gtk_label_set_text(GTK_LABEL(win->add_error), "");
	gui_window_page(win, "add");
	gtk_widget_grab_focus(win->add_service);
}

/* A caption and its control, the caption naming the control for screen readers. */
static GtkWidget *add_field(GtkWidget *box, const char *caption, GtkWidget *w)
{
	GtkWidget *label = gtk_label_new(caption);

	gtk_label_set_xalign(GTK_LABEL(label), 0);
	gtk_box_append(GTK_BOX(box), label);
	gui_label(w, caption);
	gtk_box_append(GTK_BOX(box), w);
	return w;
}

GtkWidget *gui_add_page(GuiWindow *win)
{
	const char *const durations[] = {_("with no end date"), _("for one day"),
					 _("for one month"),	_("for six months"),
					 _("for one year"),	NULL};
	GtkWidget *box = gtk_box_new(GTK_ORIENTATION_VERTICAL, 8), *title, *scroll, *clamp;

	title = gtk_label_new(_("New service"));
	gtk_widget_add_css_class(title, "title-1");
	gtk_box_append(GTK_BOX(box), title);
	win->add_service =
	    add_field(box, _("Service (as the person knows it, such as CAF)"), gtk_entry_new());
	win->add_url = add_field(box, _("Address of the login page"), gtk_entry_new());
	win->add_username = add_field(box, _("The person's login on that site"), gtk_entry_new());
	win->add_pw1 = add_field(box, _("Password, typed by the person"),
				 gui_secret_field_new(FALSE, _("Password, typed by the person")));
	win->add_pw2 = add_field(box, _("The same password again"),
				 gui_secret_field_new(FALSE, _("The same password again")));
	win->add_generate = gtk_check_button_new_with_label(
	    _("Generate a password instead (shown once, to set on the site)"));
	g_signal_connect(win->add_generate, "toggled", G_CALLBACK(add_generate_toggled), win);
	gtk_box_append(GTK_BOX(box), win->add_generate);
	win->add_consent = gtk_check_button_new_with_label(
	    _("The person allows assisted logins with this service"));
	gtk_box_append(GTK_BOX(box), win->add_consent);
	win->add_until = add_field(box, _("Consent"), gtk_drop_down_new_from_strings(durations));
	win->add_error = g_object_new(GTK_TYPE_LABEL, "accessible-role", GTK_ACCESSIBLE_ROLE_ALERT,
				      "wrap", TRUE, "xalign", 0.0, NULL);
	gtk_widget_add_css_class(win->add_error, "error");
	gtk_box_append(GTK_BOX(box), win->add_error);
	win->add_save = gui_button(_("_Save"), "suggested-action");
	gtk_widget_add_css_class(win->add_save, "pill");
	gtk_widget_set_halign(win->add_save, GTK_ALIGN_CENTER);
	g_signal_connect(win->add_save, "clicked", G_CALLBACK(add_save), win);
	gtk_box_append(GTK_BOX(box), win->add_save);
	gtk_widget_set_margin_start(box, 12);
	gtk_widget_set_margin_end(box, 12);
	gtk_widget_set_margin_top(box, 12);
	gtk_widget_set_margin_bottom(box, 12);
	clamp = adw_clamp_new();
	adw_clamp_set_maximum_size(ADW_CLAMP(clamp), 720);
	adw_clamp_set_child(ADW_CLAMP(clamp), box);
	scroll = gtk_scrolled_window_new();
	gtk_scrolled_window_set_child(GTK_SCROLLED_WINDOW(scroll), clamp);
	return scroll;
}
