/* Every use of the person's PIN screen: unlock, the new PIN of an enrolment or a recovery
 * (typed twice, compared in constant time), and a PIN change (the current one checked first).
 * Each PIN is in guarded memory until its request is built, then wiped. */
#include <string.h>

#include <glib/gi18n.h>
#include <sodium.h>

#include "messages.h"
#include "proto.h"
#include "window-private.h"

static const char *window_worker(void)
{
	const char *real = g_get_real_name();

	return real != NULL && real[0] != '\0' && strcmp(real, "Unknown") != 0 ? real
									       : g_get_user_name();
}

/* The lines of the PIN screen for mode. */
static void pin_texts(GuiWindow *win, enum gui_pin_mode mode, char **whose, char **prompt)
{
	switch (mode) {
	case GUI_PIN_UNLOCK:
		*whose = g_strdup_printf(_("%s, your vault"), win->name);
		*prompt = g_strdup(_("Type your PIN"));
		break;
	case GUI_PIN_ENROL_FIRST:
	case GUI_PIN_RECOVER_FIRST:
	case GUI_PIN_CHANGE_FIRST:
		*whose = mode == GUI_PIN_ENROL_FIRST
			     ? g_strdup_printf(_("%s, choose your PIN"), win->name)
			     : g_strdup_printf(_("%s, choose your new PIN"), win->name);
		*prompt = g_strdup_printf(_("%u to 12 digits, easy for you to remember, hard to "
					    "guess (not 123456, not your birth year)"),
					  win->pin_min);
		break;
	case GUI_PIN_CHANGE_CURRENT:
		*whose = g_strdup_printf(_("%s, change your PIN"), win->name);
		*prompt = g_strdup(_("Type your current PIN"));
		break;
	case GUI_PIN_HISTORY:
		*whose = g_strdup_printf(_("%s, your history"), win->name);
		*prompt = g_strdup(_("Type your PIN to see who used your vault, when, and why"));
		break;
	default: /* the second time */
		*whose = mode == GUI_PIN_ENROL_SECOND
			     ? g_strdup_printf(_("%s, choose your PIN"), win->name)
			     : g_strdup_printf(_("%s, choose your new PIN"), win->name);
		*prompt = g_strdup(_("Type the same PIN again"));
		break;
	}
}

void gui_window_ask_pin(GuiWindow *win, enum gui_pin_mode mode)
{
	char *whose, *prompt, *asker = g_strdup_printf(_("Asked by %s"), window_worker());
	char *purpose = NULL;

	win->mode = mode;
	pin_texts(win, mode, &whose, &prompt);
	if (mode == GUI_PIN_UNLOCK && win->purpose != NULL && win->purpose[0] != '\0')
		purpose = g_strdup_printf(_("For: %s"), win->purpose);
	gui_pin_pad_set_text(win->pad, whose, asker, purpose, prompt);
	gui_pin_pad_set_busy(win->pad, FALSE);
	if (mode == GUI_PIN_UNLOCK || mode == GUI_PIN_CHANGE_CURRENT || mode == GUI_PIN_HISTORY)
		gui_pin_pad_set_attempts(win->pad, win->attempts);
	gui_window_page(win, "pin");
	gui_pin_pad_focus(win->pad);
	g_free(whose);
	g_free(prompt);
	g_free(asker);
	g_free(purpose);
}

/* A refusal on the PIN screen: the text, and the attempts left when the agent says them. */
static void pin_refused(GuiWindow *win, const cJSON *reply, const char *error)
{
	char *text = error != NULL ? g_strdup(error) : gui_reply_message(reply);
	long long left;

	gui_pin_pad_set_busy(win->pad, FALSE);
	if (reply != NULL && proto_int(reply, "attempts_left", &left) == 0) {
		win->attempts = left;
		gui_pin_pad_set_attempts(win->pad, left);
	}
	gui_pin_pad_set_error(win->pad, text);
	gui_window_say(win, text);
	gui_pin_pad_focus(win->pad);
	g_free(text);
}

/* A new PIN refused by the rules, or the two typings differ: choose it again. */
static void pin_again(GuiWindow *win, enum gui_pin_mode first, const char *text)
{
	g_clear_pointer(&win->first_pin, sodium_free);
	gui_window_ask_pin(win, first);
	gui_pin_pad_set_error(win->pad, text);
	gui_window_say(win, text);
}

static gboolean pin_rule_refusal(long long code)
{
	return code == VAULT_E_PIN_DIGITS || code == VAULT_E_PIN_LENGTH ||
	       code == VAULT_E_PIN_REPEATED || code == VAULT_E_PIN_SEQUENCE ||
	       code == VAULT_E_PIN_COMMON;
}

/* The vault is blocked now: by this refusal, or by the wrong PIN that used the last attempt. */
static gboolean pin_blocked(const cJSON *reply)
{
	long long left = -1;

	if (reply == NULL)
		return FALSE;
	proto_int(reply, "attempts_left", &left);
	return gui_reply_code(reply) == VAULT_E_BLOCKED ||
	       (gui_reply_code(reply) == VAULT_E_BADPIN && left == 0);
}

static void unlock_done(GuiWindow *win, const cJSON *reply, const char *error)
{
	long long expires = 0;

	if (gui_reply_ok(reply)) {
		proto_int(reply, "expires_in", &expires);
		gui_appointment_open(win, expires);
	} else if (pin_blocked(reply)) {
		gui_recovery_open(win, gui_strerror(VAULT_E_BLOCKED));
	} else {
		pin_refused(win, reply, error);
	}
}

static void enrol_done(GuiWindow *win, const cJSON *reply, const char *error)
{
	char *text;

	if (gui_reply_ok(reply) && proto_string(reply, "user") != NULL &&
	    proto_string(reply, "recovery") != NULL) {
		gui_sheet_open(win, win->name, proto_string(reply, "user"),
			       proto_string(reply, "recovery"));
		return;
	}
	text = error != NULL ? g_strdup(error) : gui_reply_message(reply);
	pin_again(win, GUI_PIN_ENROL_FIRST, text);
	g_free(text);
}

static void recover_done(GuiWindow *win, const cJSON *reply, const char *error)
{
	char *text;

	if (gui_reply_ok(reply) && proto_string(reply, "recovery") != NULL) {
		gui_sheet_open(win, win->name, win->user, proto_string(reply, "recovery"));
		return;
	}
	/* the key was wiped once sent: it is typed again, with the new PIN */
	text = error != NULL ? g_strdup(error) : gui_reply_message(reply);
	gui_recovery_open(win, text);
	g_free(text);
}

static void pin_check_done(GuiWindow *win, const cJSON *reply, const char *error)
{
	if (gui_reply_ok(reply)) {
		gui_window_ask_pin(win, GUI_PIN_CHANGE_FIRST);
		return;
	}
	gui_secret_free(&win->current_pin);
	if (pin_blocked(reply))
		gui_recovery_open(win, gui_strerror(VAULT_E_BLOCKED));
	else
		pin_refused(win, reply, error);
}

static void pin_change_done(GuiWindow *win, const cJSON *reply, const char *error)
{
	char *text;

	gui_secret_free(&win->current_pin);
	if (gui_reply_ok(reply)) {
		gui_window_page(win, "appointment");
		gui_window_toast(win, _("The PIN is changed."));
		return;
	}
	text = error != NULL ? g_strdup(error) : gui_reply_message(reply);
	if (reply != NULL && pin_rule_refusal(gui_reply_code(reply))) {
		gui_window_ask_pin(win, GUI_PIN_CHANGE_CURRENT);
		gui_pin_pad_set_error(win->pad, text);
		gui_window_say(win, text);
	} else {
		gui_window_page(win, "appointment");
		gui_window_toast(win, text);
	}
	g_free(text);
}

/* The request of a PIN screen's last step; pin is consumed (wiped). */
static void pin_send(GuiWindow *win, const char *op, char *pin, gui_reply_fn fn)
{
	cJSON *req = cJSON_CreateObject();
	const gboolean is_new = win->mode == GUI_PIN_ENROL_SECOND ||
				win->mode == GUI_PIN_RECOVER_SECOND ||
				win->mode == GUI_PIN_CHANGE_SECOND;

	cJSON_AddStringToObject(req, "op", op);
	if (win->mode == GUI_PIN_ENROL_SECOND)
		cJSON_AddStringToObject(req, "name", win->name);
	else
		cJSON_AddStringToObject(req, "user", win->user);
	if (win->mode == GUI_PIN_UNLOCK && win->purpose != NULL && win->purpose[0] != '\0')
		cJSON_AddStringToObject(req, "purpose", win->purpose);
	if (win->mode == GUI_PIN_RECOVER_SECOND) {
		cJSON_AddStringToObject(req, "recovery", win->recovery);
		gui_secret_free(&win->recovery);
	}
	if (win->mode == GUI_PIN_CHANGE_SECOND) {
		cJSON_AddStringToObject(req, "pin", win->current_pin);
		gui_secret_free(&win->current_pin);
	}
	/* the tree's copy is wiped when freed (proto_init's hooks), ours at once */
	cJSON_AddStringToObject(
	    req, is_new && win->mode != GUI_PIN_ENROL_SECOND ? "new_pin" : "pin", pin);
	sodium_free(pin);
	g_clear_pointer(&win->first_pin, sodium_free);
	gui_pin_pad_set_busy(win->pad, TRUE);
	gui_window_call(win, req, fn);
}

/* The second typing equals the first (constant time, lengths first). */
static gboolean pin_same(const char *a, const char *b)
{
	size_t n = strlen(a);

	return n == strlen(b) && sodium_memcmp(a, b, n) == 0;
}

static void pin_second(GuiWindow *win, char *pin, enum gui_pin_mode first)
{
	static const struct {
		enum gui_pin_mode mode;
		const char *op;
		gui_reply_fn fn;
	} last[] = {{GUI_PIN_ENROL_SECOND, "enroll", enrol_done},
		    {GUI_PIN_RECOVER_SECOND, "recover", recover_done},
		    {GUI_PIN_CHANGE_SECOND, "pin", pin_change_done}};

	if (win->first_pin == NULL || !pin_same(win->first_pin, pin)) {
		sodium_free(pin);
		pin_again(win, first, _("The two PINs differ: choose it again."));
		return;
	}
	for (size_t i = 0; i < G_N_ELEMENTS(last); i++)
		if (last[i].mode == win->mode) {
			pin_send(win, last[i].op, pin, last[i].fn);
			return;
		}
	sodium_free(pin);
}

static void history_done(GuiWindow *win, const cJSON *reply, const char *error)
{
	if (gui_reply_ok(reply))
		gui_history_open(win, reply);
	else if (pin_blocked(reply))
		gui_recovery_open(win, gui_strerror(VAULT_E_BLOCKED));
	else
		pin_refused(win, reply, error);
}

/* The person's history after their PIN (checked and counted as any other); pin is wiped. */
static void history_send(GuiWindow *win, char *pin)
{
	cJSON *req = cJSON_CreateObject();

	cJSON_AddStringToObject(req, "op", "history");
	cJSON_AddStringToObject(req, "user", win->user);
	cJSON_AddStringToObject(req, "pin", pin); /* the tree's copy is wiped when freed */
	sodium_free(pin);
	gui_pin_pad_set_busy(win->pad, TRUE);
	gui_window_call(win, req, history_done);
}

/* The current PIN, checked (and counted) before the new one is asked; kept for the change. */
static void pin_check_send(GuiWindow *win, char *pin)
{
	cJSON *req = cJSON_CreateObject();

	gui_secret_free(&win->current_pin);
	win->current_pin = pin;
	cJSON_AddStringToObject(req, "op", "pin_check");
	cJSON_AddStringToObject(req, "user", win->user);
	cJSON_AddStringToObject(req, "pin", pin);
	gui_pin_pad_set_busy(win->pad, TRUE);
	gui_window_call(win, req, pin_check_done);
}

void gui_pin_submitted(GuiPinPad *pad, gpointer data)
{
	GuiWindow *win = data;
	char *pin = gui_pin_pad_steal(pad);

	if (pin == NULL) {
		gui_pin_pad_set_error(pad, gui_strerror(VAULT_E_NOMEM));
		return;
	}
	gui_pin_pad_set_error(pad, NULL);
	switch (win->mode) {
	case GUI_PIN_UNLOCK:
		pin_send(win, "unlock", pin, unlock_done);
		break;
	case GUI_PIN_CHANGE_CURRENT:
		pin_check_send(win, pin);
		break;
	case GUI_PIN_HISTORY:
		history_send(win, pin);
		break;
	case GUI_PIN_ENROL_FIRST:
	case GUI_PIN_RECOVER_FIRST:
	case GUI_PIN_CHANGE_FIRST:
		gui_secret_free(&win->first_pin);
		win->first_pin = pin;
		gui_window_ask_pin(win, win->mode + 1);
		break;
	default:
		pin_second(win, pin, win->mode - 1);
		break;
	}
}

void gui_pin_cancelled(GuiPinPad *pad, gpointer data)
{
	GuiWindow *win = data;

	if (win->mode >= GUI_PIN_CHANGE_CURRENT) {
		gui_window_forget(win);
		gui_window_page(win, "appointment");
	} else {
		gui_window_home(win, NULL);
	}
}
