/* People, a page at a time: the agent's "users" op with its cursor and search
 * (docs/protocol.md). A reply for an older search is dropped by its generation number. */
#include <string.h>

#include <glib/gi18n.h>

#include "agent.h"
#include "messages.h"
#include "people.h"
#include "proto.h"

struct _GuiPerson {
	GObject parent;
	char *id, *name;
	gboolean blocked, session, unreadable;
	long long attempts;
};

G_DEFINE_FINAL_TYPE(GuiPerson, gui_person, G_TYPE_OBJECT)

static void gui_person_finalize(GObject *object)
{
	GuiPerson *self = GUI_PERSON(object);

	g_free(self->id);
	g_free(self->name);
	G_OBJECT_CLASS(gui_person_parent_class)->finalize(object);
}

static void gui_person_class_init(GuiPersonClass *klass)
{
	G_OBJECT_CLASS(klass)->finalize = gui_person_finalize;
}

static void gui_person_init(GuiPerson *self)
{
}

/* One entry of a "users" page, or NULL if it lacks its id or name. */
static GuiPerson *person_from_json(const cJSON *o)
{
	const char *id = proto_string(o, "user"), *name = proto_string(o, "name");
	GuiPerson *p;

	if (id == NULL || name == NULL)
		return NULL;
	p = g_object_new(GUI_TYPE_PERSON, NULL);
	p->id = g_strdup(id);
	p->name = g_strdup(name);
	p->blocked = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "blocked"));
	p->session = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "session"));
	p->unreadable = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "unreadable"));
	if (proto_int(o, "attempts_left", &p->attempts) != 0)
		p->attempts = -1;
	return p;
}

const char *gui_person_id(GuiPerson *self)
{
	return self->id;
}

const char *gui_person_name(GuiPerson *self)
{
	return self->name;
}

gboolean gui_person_blocked(GuiPerson *self)
{
	return self->blocked;
}

gboolean gui_person_session(GuiPerson *self)
{
	return self->session;
}

gboolean gui_person_unreadable(GuiPerson *self)
{
	return self->unreadable;
}

long long gui_person_attempts(GuiPerson *self)
{
	return self->attempts;
}

struct _GuiPeopleModel {
	GObject parent;
	GPtrArray *people;
	char *search, *next;
	guint generation;
	gboolean loading;
};

static void people_model_iface_init(GListModelInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE(GuiPeopleModel, gui_people_model, G_TYPE_OBJECT,
			      G_IMPLEMENT_INTERFACE(G_TYPE_LIST_MODEL, people_model_iface_init))

enum { SIGNAL_FAILED, SIGNAL_LOADED, N_SIGNALS };
static guint signals[N_SIGNALS];

/* A page on its way: the model and the generation it was asked for. */
struct page_ask {
	GuiPeopleModel *model;
	guint generation;
};

static void people_page_add(GuiPeopleModel *self, const cJSON *reply)
{
	const cJSON *users = cJSON_GetObjectItemCaseSensitive(reply, "users"), *o;
	guint before = self->people->len;
	long long total = 0, unreadable = 0;
	const char *next = proto_string(reply, "next");

	cJSON_ArrayForEach(o, users)
	{
		GuiPerson *p = person_from_json(o);
		if (p != NULL)
			g_ptr_array_add(self->people, p);
	}
	g_free(self->next);
	self->next = g_strdup(next);
	proto_int(reply, "total", &total);
	proto_int(reply, "unreadable", &unreadable);
	if (self->people->len > before)
		g_list_model_items_changed(G_LIST_MODEL(self), before, 0,
					   self->people->len - before);
	g_signal_emit(self, signals[SIGNAL_LOADED], 0, (int)total, (int)unreadable);
}

static void people_page_done(GObject *source, GAsyncResult *res, gpointer data)
{
	struct page_ask *ask = data;
	GuiPeopleModel *self = ask->model;
	GError *error = NULL;
	cJSON *reply = gui_agent_call_finish(res, &error);

	if (ask->generation != self->generation) /* a newer search took over */
		goto out;
	self->loading = FALSE;
	if (reply == NULL) {
		g_signal_emit(self, signals[SIGNAL_FAILED], 0, error->message);
	} else if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(reply, "ok"))) {
		char *text = gui_reply_message(reply);
		g_signal_emit(self, signals[SIGNAL_FAILED], 0, text);
		g_free(text);
	} else {
		people_page_add(self, reply);
	}
out:
	g_clear_error(&error);
	cJSON_Delete(reply);
	g_object_unref(ask->model);
	g_free(ask);
}

static void people_page_ask(GuiPeopleModel *self)
{
	struct page_ask *ask = g_new0(struct page_ask, 1);
	cJSON *req = cJSON_CreateObject();

	self->loading = TRUE;
	ask->model = g_object_ref(self);
	ask->generation = self->generation;
	cJSON_AddStringToObject(req, "op", "users");
	cJSON_AddNumberToObject(req, "limit", GUI_PEOPLE_PAGE);
	if (self->search != NULL && self->search[0] != '\0')
		cJSON_AddStringToObject(req, "search", self->search);
	if (self->next != NULL)
		cJSON_AddStringToObject(req, "cursor", self->next);
	gui_agent_call_async(req, people_page_done, ask);
}

void gui_people_model_search(GuiPeopleModel *self, const char *search)
{
	guint removed = self->people->len;

	g_free(self->search);
	self->search = g_strdup(search);
	g_clear_pointer(&self->next, g_free);
	self->generation++;
	g_ptr_array_set_size(self->people, 0);
	if (removed > 0)
		g_list_model_items_changed(G_LIST_MODEL(self), 0, removed, 0);
	people_page_ask(self);
}

void gui_people_model_reload(GuiPeopleModel *self)
{
	char *search = g_strdup(self->search);

	gui_people_model_search(self, search != NULL ? search : "");
	g_free(search);
}

static GType people_model_item_type(GListModel *model)
{
	return GUI_TYPE_PERSON;
}

static guint people_model_n_items(GListModel *model)
{
	return GUI_PEOPLE_MODEL(model)->people->len;
}

/* The list shows a row near the end of what is loaded: the next page is asked for. */
static gpointer people_model_get_item(GListModel *model, guint position)
{
	GuiPeopleModel *self = GUI_PEOPLE_MODEL(model);

	if (position >= self->people->len)
		return NULL;
	if (self->next != NULL && !self->loading &&
	    position + GUI_PEOPLE_PREFETCH >= self->people->len)
		people_page_ask(self);
	return g_object_ref(g_ptr_array_index(self->people, position));
}

static void people_model_iface_init(GListModelInterface *iface)
{
	iface->get_item_type = people_model_item_type;
	iface->get_n_items = people_model_n_items;
	iface->get_item = people_model_get_item;
}

static void gui_people_model_finalize(GObject *object)
{
	GuiPeopleModel *self = GUI_PEOPLE_MODEL(object);

	g_ptr_array_unref(self->people);
	g_free(self->search);
	g_free(self->next);
	G_OBJECT_CLASS(gui_people_model_parent_class)->finalize(object);
}

static void gui_people_model_class_init(GuiPeopleModelClass *klass)
{
	G_OBJECT_CLASS(klass)->finalize = gui_people_model_finalize;
	signals[SIGNAL_FAILED] = g_signal_new("failed", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST,
					      0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_STRING);
	signals[SIGNAL_LOADED] =
	    g_signal_new("loaded", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
			 G_TYPE_NONE, 2, G_TYPE_INT, G_TYPE_INT);
}

static void gui_people_model_init(GuiPeopleModel *self)
{
	self->people = g_ptr_array_new_with_free_func(g_object_unref);
}

GuiPeopleModel *gui_people_model_new(void)
{
	return g_object_new(GUI_TYPE_PEOPLE_MODEL, NULL);
}
