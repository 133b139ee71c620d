/* sesame-gtk: the desktop application for appointments (docs/gui.md). It holds no stored
 * password and opens no vault file: everything goes through sesame-agent's protocol. */
#include <locale.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/resource.h>

#include <adwaita.h>
#include <glib-unix.h>
#include <glib/gi18n.h>
#include <sodium.h>

#include "proto.h"
#include "window.h"

#define GUI_APP_ID "fr.sesame.Sesame"

static const char css[] =
    ".keypad button { font-size: 2em; min-width: 3.2em; min-height: 2em; }\n"
    "entry.pin-dots { font-size: 2.5em; min-width: 7em; min-height: 1.4em; }\n"
    ".recovery-key { font-family: monospace; font-size: 2em; font-weight: bold;"
    " border: 2px solid currentColor; border-radius: 6px; padding: 0.5em; }\n"
    "entry.recovery-group { font-family: monospace; font-size: 1.5em; }\n";

static gboolean headless;

static void app_quit(GSimpleAction *action, GVariant *param, gpointer data)
{
	g_application_quit(G_APPLICATION(data));
}

/* SIGTERM and SIGINT end the application as its window's close does. */
static gboolean app_signal(gpointer data)
{
	g_application_quit(G_APPLICATION(data));
	return G_SOURCE_CONTINUE;
}

static void app_startup(GApplication *app, gpointer data)
{
	static const GActionEntry actions[] = {{.name = "quit", .activate = app_quit}};
	static const char *const quit_accels[] = {"<Control>q", NULL};
	static const char *const search_accels[] = {"<Control>f", NULL};
	static const char *const new_accels[] = {"<Control>n", NULL};
	GtkCssProvider *provider = gtk_css_provider_new();

	gtk_css_provider_load_from_data(provider, css, -1);
	gtk_style_context_add_provider_for_display(gdk_display_get_default(),
						   GTK_STYLE_PROVIDER(provider),
						   GTK_STYLE_PROVIDER_PRIORITY_APPLICATION);
	g_object_unref(provider);
	g_action_map_add_action_entries(G_ACTION_MAP(app), actions, G_N_ELEMENTS(actions), app);
	gtk_application_set_accels_for_action(GTK_APPLICATION(app), "app.quit", quit_accels);
	gtk_application_set_accels_for_action(GTK_APPLICATION(app), "win.search", search_accels);
	gtk_application_set_accels_for_action(GTK_APPLICATION(app), "win.new-person", new_accels);
}

static void app_activate(GApplication *app, gpointer data)
{
	GtkWindow *win = gtk_application_get_active_window(GTK_APPLICATION(app));

	if (win == NULL)
		win = GTK_WINDOW(gui_window_new(ADW_APPLICATION(app), headless));
	gtk_window_present(win);
}

/* PINs and passwords pass through this process: no core dump, no ptrace by the same uid. */
static void app_harden(void)
{
	struct rlimit none = {0, 0};

	setrlimit(RLIMIT_CORE, &none);
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
}

int main(int argc, char **argv)
{
	const char *dir = getenv("SESAME_LOCALEDIR");
	const GOptionEntry options[] = {{"headless-browser", 0, 0, G_OPTION_ARG_NONE, &headless,
					 N_("Run the browser of assisted logins without a window"),
					 NULL},
					{NULL, 0, 0, 0, NULL, NULL, NULL}};
	AdwApplication *app;
	int ret;

	setlocale(LC_ALL, "");
	bindtextdomain("sesame", dir != NULL && dir[0] == '/' ? dir : LOCALEDIR);
	bind_textdomain_codeset("sesame", "UTF-8");
	textdomain("sesame");
	app_harden();
	if (sodium_init() < 0) {
		g_printerr("sesame-gtk: %s\n", _("libsodium cannot start"));
		return 1;
	}
	proto_init();
	app = adw_application_new(GUI_APP_ID, G_APPLICATION_NON_UNIQUE);
	g_application_add_main_option_entries(G_APPLICATION(app), options);
	g_application_set_option_context_summary(
	    G_APPLICATION(app), _("Sesame: the person's logins during an appointment"));
	g_unix_signal_add(SIGTERM, app_signal, app);
	g_unix_signal_add(SIGINT, app_signal, app);
	g_signal_connect(app, "startup", G_CALLBACK(app_startup), NULL);
	g_signal_connect(app, "activate", G_CALLBACK(app_activate), NULL);
	ret = g_application_run(G_APPLICATION(app), argc, argv);
	g_object_unref(app);
	return ret;
}
