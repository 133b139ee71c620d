/* The window: a stack of screens under one header bar, toasts for outcomes. This file holds the
 * people, the purpose of an appointment and a new person; pinflow.c uses the PIN screen. */
#include <string.h>

#include <glib/gi18n.h>
#include <sodium.h>

#include "agent.h"
#include "messages.h"
#include "proto.h"
#include "secretfield.h"
#include "window-private.h"

G_DEFINE_FINAL_TYPE(GuiWindow, gui_window, ADW_TYPE_APPLICATION_WINDOW)

void gui_label(GtkWidget *w, const char *label)
{
	gtk_accessible_update_property(GTK_ACCESSIBLE(w), GTK_ACCESSIBLE_PROPERTY_LABEL, label, -1);
}

/* A button named by its own text (GTK names it from its label: an accessible label as well
 * would make a screen reader say it twice). */
GtkWidget *gui_button(const char *text, const char *css)
{
	GtkWidget *b = gtk_button_new_with_mnemonic(text);

	/* GTK 4.8 sets the raw text, underscore included, as the label too: left to the child */
	gtk_accessible_reset_property(GTK_ACCESSIBLE(b), GTK_ACCESSIBLE_PROPERTY_LABEL);
	if (css != NULL)
		gtk_widget_add_css_class(b, css);
	return b;
}

void gui_buttons_named_by_text(GtkWidget *w)
{
	if (GTK_IS_BUTTON(w))
		gtk_accessible_reset_property(GTK_ACCESSIBLE(w), GTK_ACCESSIBLE_PROPERTY_LABEL);
	for (GtkWidget *c = gtk_widget_get_first_child(w); c != NULL;
	     c = gtk_widget_get_next_sibling(c))
		gui_buttons_named_by_text(c);
}

gboolean gui_reply_ok(const cJSON *reply)
{
	return reply != NULL && cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(reply, "ok"));
}

long long gui_reply_code(const cJSON *reply)
{
	long long code = VAULT_E_IO;

	proto_int(reply, "code", &code);
	return code;
}

struct call {
	GuiWindow *win;
	gui_reply_fn fn;
};

static void window_call_done(GObject *source, GAsyncResult *res, gpointer data)
{
	struct call *c = data;
	GError *error = NULL;
	cJSON *reply = gui_agent_call_finish(res, &error);

	c->fn(c->win, reply, error != NULL ? error->message : NULL);
	g_clear_error(&error);
	cJSON_Delete(reply);
	g_object_unref(c->win);
	g_free(c);
}

void gui_window_call(GuiWindow *win, cJSON *req, gui_reply_fn fn)
{
	struct call *c = g_new0(struct call, 1);

	c->win = g_object_ref(win);
	c->fn = fn;
	gui_agent_call_async(req, window_call_done, c);
}

void gui_window_page(GuiWindow *win, const char *page)
{
	GtkWidget *child;

	gtk_stack_set_visible_child_name(win->stack, page);
	child = gtk_stack_get_visible_child(win->stack);
	adw_window_title_set_subtitle(
	    ADW_WINDOW_TITLE(win->title),
	    gtk_stack_page_get_title(gtk_stack_get_page(win->stack, child)));
	gtk_widget_set_visible(win->back, strcmp(page, "people") != 0 && strcmp(page, "pin") != 0 &&
					      strcmp(page, "sheet") != 0 &&
					      strcmp(page, "appointment") != 0);
}

void gui_window_say(GuiWindow *win, const char *text)
{
	gtk_label_set_text(GTK_LABEL(win->message), text);
	gtk_accessible_update_property(GTK_ACCESSIBLE(win->message),
				       GTK_ACCESSIBLE_PROPERTY_DESCRIPTION, text, -1);
}

void gui_window_toast(GuiWindow *win, const char *text)
{
	char *escaped = g_markup_escape_text(text, -1);
	AdwToast *toast = adw_toast_new(escaped);

	gui_window_say(win, text);

	adw_toast_set_timeout(toast, 6);
	adw_toast_overlay_add_toast(win->toasts, toast);
	g_free(escaped);
}

void gui_secret_free(char **p)
{
	sodium_free(*p); /* wipes; NULL is fine */
	*p = NULL;
}

void gui_window_forget(GuiWindow *win)
{
	gui_secret_free(&win->first_pin);
	gui_secret_free(&win->current_pin);
	gui_secret_free(&win->recovery);
	gui_secret_free(&win->generated);
	if (win->pad != NULL)
		gui_pin_pad_reset(win->pad);
	if (win->add_pw1 != NULL) { /* a password half typed when the appointment ends */
		gui_secret_field_clear(GUI_SECRET_FIELD(win->add_pw1));
		gui_secret_field_clear(GUI_SECRET_FIELD(win->add_pw2));
	}
}

void gui_window_home(GuiWindow *win, const char *message)
{
	gui_appointment_stop(win);
	gui_window_forget(win);
	gui_records_forget(win);
	gui_window_page(win, "people");
	gui_people_model_reload(win->people);
	if (message != NULL)
		gui_window_toast(win, message);
	gtk_widget_grab_focus(win->search);
}

void gui_window_set_person(GuiWindow *win, const char *user, const char *name, long long attempts)
{
	char *u = g_strdup(user), *n = g_strdup(name);

	g_free(win->user);
	g_free(win->name);
	win->user = u;
	win->name = n;
	win->attempts = attempts;
}

/* ---- The people ---- */

static void people_row_setup(GtkSignalListItemFactory *f, GtkListItem *item, gpointer data)
{
	GtkWidget *box = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 12);
	GtkWidget *name = gtk_label_new(NULL), *state = gtk_label_new(NULL);

	gtk_widget_set_margin_top(box, 8);
	gtk_widget_set_margin_bottom(box, 8);
	gtk_widget_set_margin_start(box, 12);
	gtk_widget_set_margin_end(box, 12);
	gtk_label_set_xalign(GTK_LABEL(name), 0);
	gtk_widget_set_hexpand(name, TRUE);
	gtk_widget_add_css_class(name, "title-4");
	gtk_widget_add_css_class(state, "dim-label");
	gtk_box_append(GTK_BOX(box), name);
	gtk_box_append(GTK_BOX(box), state);
	gtk_list_item_set_child(item, box);
}

/* "blocked", "appointment open", … as the row says it. */
static const char *people_state(GuiPerson *p)
{
	if (gui_person_unreadable(p))
		return _("cannot be read");
	if (gui_person_blocked(p))
		return _("blocked");
	if (gui_person_session(p))
		return _("appointment open");
	return "";
}

static void people_row_bind(GtkSignalListItemFactory *f, GtkListItem *item, gpointer data)
{
	GuiPerson *p = gtk_list_item_get_item(item);
	GtkWidget *box = gtk_list_item_get_child(item);
	GtkWidget *name = gtk_widget_get_first_child(box), *state = gtk_widget_get_last_child(box);
	const char *s = people_state(p);
	char *said = s[0] != '\0' ? g_strdup_printf("%s, %s", gui_person_name(p), s)
				  : g_strdup(gui_person_name(p));

	gtk_label_set_text(GTK_LABEL(name), gui_person_name(p));
	gtk_label_set_text(GTK_LABEL(state), s);
	gui_label(box, said);
	g_free(said);
}

/* The person's state as the agent has it now (the list may be older): their appointment, the
 * recovery when blocked, else the purpose and the PIN screen. */
static void people_resolved(GuiWindow *win, const cJSON *reply, const char *error)
{
	long long attempts = -1;
	char *text;

	if (!gui_reply_ok(reply)) {
		text = error != NULL ? g_strdup(error) : gui_reply_message(reply);
		gui_window_toast(win, text);
		g_free(text);
		gui_people_model_reload(win->people);
		return;
	}
	proto_int(reply, "attempts_left", &attempts);
	win->attempts = attempts;
	if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(reply, "unreadable"))) {
		gui_window_toast(win, _("This person's vault cannot be read: ask the administrator "
					"(the agent's log names the file)."));
	} else if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(reply, "session"))) {
		gui_appointment_resume(win);
	} else if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(reply, "blocked"))) {
		gui_recovery_open(win, gui_strerror(VAULT_E_BLOCKED));
	} else {
		text = g_strdup_printf(_("Appointment with %s"), win->name);
		gtk_label_set_text(GTK_LABEL(win->purpose_title), text);
		g_free(text);
		gtk_editable_set_text(GTK_EDITABLE(win->purpose_entry), "");
		gui_window_page(win, "purpose");
		gtk_widget_grab_focus(win->purpose_entry);
	}
}

static void people_activate(GtkListView *list, guint position, gpointer data)
{
	GuiWindow *win = data;
	GuiPerson *p = g_list_model_get_item(G_LIST_MODEL(win->people), position);
	cJSON *req;

	if (p == NULL)
		return;
	gui_window_set_person(win, gui_person_id(p), gui_person_name(p), gui_person_attempts(p));
	g_object_unref(p);
	req = cJSON_CreateObject();
	cJSON_AddStringToObject(req, "op", "resolve");
	cJSON_AddStringToObject(req, "user", win->user);
	gui_window_call(win, req, people_resolved);
}

static void people_search_changed(GtkSearchEntry *entry, gpointer data)
{
	GuiWindow *win = data;

	gui_people_model_search(win->people, gtk_editable_get_text(GTK_EDITABLE(entry)));
}

static void people_failed(GuiPeopleModel *model, const char *message, gpointer data)
{
	GuiWindow *win = data;

	adw_status_page_set_description(ADW_STATUS_PAGE(win->people_error), message);
	gui_window_say(win, message);
	gtk_widget_set_visible(win->people_error, TRUE);
	gtk_widget_set_visible(win->people_main, FALSE);
}

static void people_loaded(GuiPeopleModel *model, int total, int unreadable, gpointer data)
{
	GuiWindow *win = data;
	char *text, *more = NULL;

	gtk_widget_set_visible(win->people_error, FALSE);
	gtk_widget_set_visible(win->people_main, TRUE);
	if (unreadable > 0)
		more = g_strdup_printf(ngettext("%d vault cannot be read: ask the administrator.",
						"%d vaults cannot be read: ask the administrator.",
						(unsigned long)unreadable),
				       unreadable);
	text = g_strdup_printf(
	    ngettext("%d person enrolled.", "%d people enrolled.", (unsigned long)total), total);
	if (more != NULL) {
		char *both = g_strconcat(text, " ", more, NULL);
		g_free(text);
		text = both;
	}
	gtk_label_set_text(GTK_LABEL(win->people_count), text);
	g_free(text);
	g_free(more);
}

static void people_retry(GtkButton *b, gpointer data)
{
	GuiWindow *win = data;

	gui_people_model_reload(win->people);
}

static void people_new(GtkButton *b, gpointer data)
{
	GuiWindow *win = data;

	gtk_editable_set_text(GTK_EDITABLE(win->enrol_name), "");
	gtk_label_set_text(GTK_LABEL(win->enrol_error), "");
	gui_window_page(win, "enrol");
	gtk_widget_grab_focus(win->enrol_name);
}

static GtkWidget *window_people_page(GuiWindow *win)
{
	GtkWidget *page = gtk_box_new(GTK_ORIENTATION_VERTICAL, 12), *top, *scroll, *add, *retry;
	GtkListItemFactory *factory = gtk_signal_list_item_factory_new();

	gtk_widget_set_margin_start(page, 12);
	gtk_widget_set_margin_end(page, 12);
	gtk_widget_set_margin_top(page, 12);
	win->people = gui_people_model_new();
	g_signal_connect(win->people, "failed", G_CALLBACK(people_failed), win);
	g_signal_connect(win->people, "loaded", G_CALLBACK(people_loaded), win);
	win->people_main = gtk_box_new(GTK_ORIENTATION_VERTICAL, 12);
	top = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 12);
	win->search = gtk_search_entry_new();
	gtk_widget_set_hexpand(win->search, TRUE);
	gui_label(win->search, _("Search for a person"));
	g_object_set(win->search, "placeholder-text", _("Search for a person"), NULL);
	g_signal_connect(win->search, "search-changed", G_CALLBACK(people_search_changed), win);
	add = gui_button(_("_New person"), "suggested-action");
	g_signal_connect(add, "clicked", G_CALLBACK(people_new), win);
	gtk_box_append(GTK_BOX(top), win->search);
	gtk_box_append(GTK_BOX(top), add);
	gtk_box_append(GTK_BOX(win->people_main), top);
	g_signal_connect(factory, "setup", G_CALLBACK(people_row_setup), win);
	g_signal_connect(factory, "bind", G_CALLBACK(people_row_bind), win);
	win->list = gtk_list_view_new(
	    GTK_SELECTION_MODEL(gtk_single_selection_new(G_LIST_MODEL(g_object_ref(win->people)))),
	    factory);
	gtk_list_view_set_single_click_activate(GTK_LIST_VIEW(win->list), TRUE);
	gtk_widget_add_css_class(win->list, "boxed-list");
	gui_label(win->list, _("People"));
	g_signal_connect(win->list, "activate", G_CALLBACK(people_activate), win);
	scroll = gtk_scrolled_window_new();
	gtk_scrolled_window_set_child(GTK_SCROLLED_WINDOW(scroll), win->list);
	gtk_widget_set_vexpand(scroll, TRUE);
	gtk_box_append(GTK_BOX(win->people_main), scroll);
	win->people_count = gtk_label_new(NULL);
	gtk_label_set_xalign(GTK_LABEL(win->people_count), 0);
	gtk_label_set_wrap(GTK_LABEL(win->people_count), TRUE);
	gtk_widget_add_css_class(win->people_count, "dim-label");
	gtk_box_append(GTK_BOX(win->people_main), win->people_count);
	gtk_box_append(GTK_BOX(page), win->people_main);
	win->people_error = adw_status_page_new();
	adw_status_page_set_icon_name(ADW_STATUS_PAGE(win->people_error),
				      "dialog-warning-symbolic");
	adw_status_page_set_title(ADW_STATUS_PAGE(win->people_error),
				  _("The people cannot be shown"));
	retry = gui_button(_("_Try again"), "pill");
	gtk_widget_set_halign(retry, GTK_ALIGN_CENTER);
	g_signal_connect(retry, "clicked", G_CALLBACK(people_retry), win);
	adw_status_page_set_child(ADW_STATUS_PAGE(win->people_error), retry);
	gtk_widget_set_visible(win->people_error, FALSE);
	gtk_widget_set_vexpand(win->people_error, TRUE);
	gtk_box_append(GTK_BOX(page), win->people_error);
	return page;
}

/* ---- A page's frame: centred, at a readable width ---- */

static GtkWidget *window_frame(GtkWidget *child)
{
	GtkWidget *clamp = adw_clamp_new(), *scroll = gtk_scrolled_window_new();

	adw_clamp_set_maximum_size(ADW_CLAMP(clamp), 720);
	adw_clamp_set_child(ADW_CLAMP(clamp), child);
	gtk_widget_set_margin_start(child, 12);
	gtk_widget_set_margin_end(child, 12);
	gtk_widget_set_margin_top(child, 12);
	gtk_widget_set_margin_bottom(child, 12);
	gtk_scrolled_window_set_child(GTK_SCROLLED_WINDOW(scroll), clamp);
	gtk_scrolled_window_set_policy(GTK_SCROLLED_WINDOW(scroll), GTK_POLICY_NEVER,
				       GTK_POLICY_AUTOMATIC);
	return scroll;
}

/* A caption above an entry, and the entry's accessible label. */
static GtkWidget *window_entry(GtkWidget *box, const char *caption)
{
	GtkWidget *label = gtk_label_new(caption), *entry = gtk_entry_new();

	gtk_label_set_xalign(GTK_LABEL(label), 0);
	gtk_box_append(GTK_BOX(box), label);
	gui_label(entry, caption);
	gtk_box_append(GTK_BOX(box), entry);
	return entry;
}

/* ---- The purpose, typed by the worker before the screen is turned to the person ---- */

static void purpose_next(GtkWidget *w, gpointer data)
{
	GuiWindow *win = data;

	g_free(win->purpose);
	win->purpose = g_strdup(gtk_editable_get_text(GTK_EDITABLE(win->purpose_entry)));
	gui_window_ask_pin(win, GUI_PIN_UNLOCK);
}

static GtkWidget *window_purpose_page(GuiWindow *win)
{
	GtkWidget *box = gtk_box_new(GTK_ORIENTATION_VERTICAL, 12), *next, *hint;

	win->purpose_title = gtk_label_new(NULL);
	gtk_widget_add_css_class(win->purpose_title, "title-1");
	gtk_label_set_wrap(GTK_LABEL(win->purpose_title), TRUE);
	gtk_box_append(GTK_BOX(box), win->purpose_title);
	win->purpose_entry =
	    window_entry(box, _("Purpose of the appointment (recorded in the log)"));
	g_signal_connect(win->purpose_entry, "activate", G_CALLBACK(purpose_next), win);
	hint = gtk_label_new(_("Then turn the screen toward the person: they type their PIN."));
	gtk_label_set_wrap(GTK_LABEL(hint), TRUE);
	gtk_label_set_xalign(GTK_LABEL(hint), 0);
	gtk_box_append(GTK_BOX(box), hint);
	next = gui_button(_("_Ask for the PIN"), "suggested-action");
	gtk_widget_add_css_class(next, "pill");
	gtk_widget_set_halign(next, GTK_ALIGN_CENTER);
	g_signal_connect(next, "clicked", G_CALLBACK(purpose_next), win);
	gtk_box_append(GTK_BOX(box), next);
	return window_frame(box);
}

/* ---- A new person: their name, then their PIN twice ---- */

static void enrol_error(GuiWindow *win, const char *text)
{
	gtk_label_set_text(GTK_LABEL(win->enrol_error), text);
	if (text[0] != '\0')
		gui_window_say(win, text);
}

static void enrol_resolved(GuiWindow *win, const cJSON *reply, const char *error)
{
	char *text;

	if (error != NULL) {
		enrol_error(win, error);
	} else if (gui_reply_ok(reply)) {
		text =
		    g_strdup_printf(_("a person is already enrolled as \"%s\": if this is someone "
				      "else, add what tells them apart (a middle name, an "
				      "initial)"),
				    proto_string(reply, "name"));
		enrol_error(win, text);
		g_free(text);
	} else if (gui_reply_code(reply) == VAULT_E_NOTFOUND) {
		gui_window_ask_pin(win, GUI_PIN_ENROL_FIRST);
	} else {
		text = gui_reply_message(reply);
		enrol_error(win, text);
		g_free(text);
	}
}

static void enrol_next(GtkWidget *w, gpointer data)
{
	GuiWindow *win = data;
	char *name = g_strstrip(g_strdup(gtk_editable_get_text(GTK_EDITABLE(win->enrol_name))));
	cJSON *req;

	if (name[0] == '\0') {
		gtk_label_set_text(GTK_LABEL(win->enrol_error),
				   _("the name is empty: type the person's name"));
		g_free(name);
		return;
	}
	gui_window_set_person(win, NULL, name, -1);
	g_free(name);
	req = cJSON_CreateObject();
	cJSON_AddStringToObject(req, "op", "resolve");
	cJSON_AddStringToObject(req, "user", win->name);
	gui_window_call(win, req, enrol_resolved);
}

static GtkWidget *window_enrol_page(GuiWindow *win)
{
	GtkWidget *box = gtk_box_new(GTK_ORIENTATION_VERTICAL, 12), *title, *next;

	title = gtk_label_new(_("New person"));
	gtk_widget_add_css_class(title, "title-1");
	gtk_box_append(GTK_BOX(box), title);
	win->enrol_name = window_entry(box, _("The person's name, as they write it"));
	g_signal_connect(win->enrol_name, "activate", G_CALLBACK(enrol_next), win);
	win->enrol_error =
	    g_object_new(GTK_TYPE_LABEL, "accessible-role", GTK_ACCESSIBLE_ROLE_ALERT, "wrap", TRUE,
			 "xalign", 0.0, NULL);
	gtk_widget_add_css_class(win->enrol_error, "error");
	gtk_box_append(GTK_BOX(box), win->enrol_error);
	next = gui_button(_("_Continue"), "suggested-action");
	gtk_widget_add_css_class(next, "pill");
	gtk_widget_set_halign(next, GTK_ALIGN_CENTER);
	g_signal_connect(next, "clicked", G_CALLBACK(enrol_next), win);
	gtk_box_append(GTK_BOX(box), next);
	return window_frame(box);
}

/* ---- The window ---- */

/* win.search (Ctrl+F): the people, the focus in the search. */
static void window_action_search(GSimpleAction *a, GVariant *param, gpointer data)
{
	GuiWindow *win = data;
	const char *page = gtk_stack_get_visible_child_name(win->stack);

	if (strcmp(page, "people") == 0)
		gtk_widget_grab_focus(win->search);
}

/* win.new-person (Ctrl+N), from the people. */
static void window_action_new(GSimpleAction *a, GVariant *param, gpointer data)
{
	GuiWindow *win = data;

	if (strcmp(gtk_stack_get_visible_child_name(win->stack), "people") == 0)
		people_new(NULL, win);
}

static void window_back(GtkButton *b, gpointer data)
{
	GuiWindow *win = data;
	const char *page = gtk_stack_get_visible_child_name(win->stack);

	gui_records_forget(win);
	if (strcmp(page, "add") == 0 || strcmp(page, "history") == 0)
		gui_window_page(win, "appointment");
	else
		gui_window_home(win, NULL);
}

/* The agent's PIN length, for the words of the PIN screen. */
static void window_status_done(GuiWindow *win, const cJSON *reply, const char *error)
{
	const cJSON *agent = cJSON_GetObjectItemCaseSensitive(reply, "agent");
	long long min;

	if (agent != NULL && proto_int(agent, "pin_min_length", &min) == 0 && min >= 1 &&
	    min <= VAULT_PIN_MAX)
		win->pin_min = (unsigned)min;
}

static void gui_window_dispose(GObject *object)
{
	GuiWindow *win = GUI_WINDOW(object);

	gui_appointment_stop(win);
	gui_window_forget(win);
	gui_sheet_forget(win);
	gui_records_forget(win);
	g_clear_object(&win->people);
	G_OBJECT_CLASS(gui_window_parent_class)->dispose(object);
}

static void gui_window_finalize(GObject *object)
{
	GuiWindow *win = GUI_WINDOW(object);

	g_free(win->user);
	g_free(win->name);
	g_free(win->purpose);
	G_OBJECT_CLASS(gui_window_parent_class)->finalize(object);
}

static void gui_window_class_init(GuiWindowClass *klass)
{
	G_OBJECT_CLASS(klass)->dispose = gui_window_dispose;
	G_OBJECT_CLASS(klass)->finalize = gui_window_finalize;
}

static void window_add_page(GuiWindow *win, GtkWidget *page, const char *name, const char *title)
{
	gtk_stack_add_titled(win->stack, page, name, title);
}

static void gui_window_init(GuiWindow *win)
{
	GtkWidget *view = gtk_box_new(GTK_ORIENTATION_VERTICAL, 0), *header = adw_header_bar_new();

	static const GActionEntry actions[] = {
	    {.name = "search", .activate = window_action_search},
	    {.name = "new-person", .activate = window_action_new}};

	win->pin_min = VAULT_PIN_MIN_DEFAULT;
	g_action_map_add_action_entries(G_ACTION_MAP(win), actions, G_N_ELEMENTS(actions), win);
	gtk_window_set_title(GTK_WINDOW(win), _("Sesame"));
	gtk_window_set_default_size(GTK_WINDOW(win), 900, 760);
	win->back = gtk_button_new_from_icon_name("go-previous-symbolic");
	gui_label(win->back, _("Back"));
	g_signal_connect(win->back, "clicked", G_CALLBACK(window_back), win);
	adw_header_bar_pack_start(ADW_HEADER_BAR(header), win->back);
	win->title = adw_window_title_new(_("Sesame"), NULL);
	adw_header_bar_set_title_widget(ADW_HEADER_BAR(header), win->title);
	gtk_box_append(GTK_BOX(view), header);
	win->stack = GTK_STACK(gtk_stack_new());
	gtk_stack_set_transition_type(win->stack, GTK_STACK_TRANSITION_TYPE_CROSSFADE);
	gtk_widget_set_vexpand(GTK_WIDGET(win->stack), TRUE);
	win->pad = GUI_PIN_PAD(gui_pin_pad_new());
	g_signal_connect(win->pad, "submitted", G_CALLBACK(gui_pin_submitted), win);
	g_signal_connect(win->pad, "cancelled", G_CALLBACK(gui_pin_cancelled), win);
	window_add_page(win, window_people_page(win), "people", _("People"));
	window_add_page(win, window_purpose_page(win), "purpose", _("Appointment"));
	window_add_page(win, window_frame(GTK_WIDGET(win->pad)), "pin", _("PIN"));
	window_add_page(win, window_enrol_page(win), "enrol", _("New person"));
	window_add_page(win, gui_sheet_page(win), "sheet", _("Recovery sheet"));
	window_add_page(win, gui_appointment_page(win), "appointment", _("Appointment"));
	window_add_page(win, gui_add_page(win), "add", _("New service"));
	window_add_page(win, gui_recovery_page(win), "recovery", _("Recovery"));
	window_add_page(win, gui_history_page(win), "history", _("History"));
	window_add_page(win, gui_receipt_page(win), "receipt", _("Receipt"));
	gtk_box_append(GTK_BOX(view), GTK_WIDGET(win->stack));
	win->message = g_object_new(GTK_TYPE_LABEL, "accessible-role", GTK_ACCESSIBLE_ROLE_ALERT,
				    "wrap", TRUE, "xalign", 0.0, NULL);
	gtk_widget_add_css_class(win->message, "dim-label");
	gtk_widget_set_margin_start(win->message, 12);
	gtk_widget_set_margin_end(win->message, 12);
	gtk_widget_set_margin_bottom(win->message, 6);
	gui_label(win->message, _("Message"));
	gtk_box_append(GTK_BOX(view), win->message);
	win->toasts = ADW_TOAST_OVERLAY(adw_toast_overlay_new());
	adw_toast_overlay_set_child(win->toasts, view);
	adw_application_window_set_content(ADW_APPLICATION_WINDOW(win), GTK_WIDGET(win->toasts));
}

GuiWindow *gui_window_new(AdwApplication *app, gboolean headless)
{
	GuiWindow *win = g_object_new(GUI_TYPE_WINDOW, "application", app, NULL);
	cJSON *req = cJSON_CreateObject();

	win->headless = headless;
	gui_window_page(win, "people");
	gui_people_model_search(win->people, "");
	cJSON_AddStringToObject(req, "op", "status");
	gui_window_call(win, req, window_status_done);
	return win;
}
