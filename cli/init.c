/* sesame init: create the installation. Runs without the agent: it makes what the agent needs. */
#include <getopt.h>
#include <pwd.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "audit.h"
#include "cli.h"
#include "installation.h"

static int usage(FILE *out)
{
	fprintf(out,
		_("Usage: sesame init [--system] [--json]\n"
		  "Create the installation in $SESAME_HOME: the data directory, the device "
		  "secret\n(in the Secret Service, or a key file outside the data directory), and "
		  "the\nsigned audit log. --system: for sesame-agent --system, run as its service "
		  "user\n(/var/lib/sesame, /etc/sesame/sesame.conf, "
		  "/etc/sesame/private/device-secret).\n"));
	return out == stdout ? EXIT_OK : EXIT_USAGE;
}

/* The first record, installation_created, by whoever runs init, here and now. */
static struct audit_event first_record(char t[AUDIT_TIME_LEN + 1], char *host, size_t cap)
{
	struct passwd *pw = getpwuid(getuid());

	snprintf(host, cap, "localhost");
	gethostname(host, cap - 1);
	return audit_event_now("installation_created", (uint32_t)getuid(),
			       pw != NULL ? pw->pw_name : "unknown", host, t);
}

static int create(struct sesame_home *h, enum devsecret_backend *used)
{
	char id[VAULT_INSTALLATION_HEX + 1], t[AUDIT_TIME_LEN + 1], host[64];
	struct audit_event ev = first_record(t, host, sizeof(host));
	struct vault_installation in;
	int ret;

	vault_installation_id(id);
	if ((ret = home_set_installation(h, id)) != VAULT_OK) /* the key file's path needs it */
		return ret;
	in = (struct vault_installation){id,	   h->dir,	h->vaults,
					 h->audit, h->key_file, h->cfg.device_secret};
	return vault_installation_create(&in, &ev, used);
}

static void report(struct sesame_home *h, enum devsecret_backend used, int json)
{
	struct note_verifier v;
	char key[AUDIT_VKEY_MAX] = "";
	cJSON *o;

	if (audit_key_read(h->audit, &v) == VAULT_OK)
		note_verifier_format(&v, key, sizeof(key));
	if (json) {
		o = cJSON_CreateObject();
		cJSON_AddTrueToObject(o, "ok");
		cJSON_AddStringToObject(o, "installation", h->installation);
		cJSON_AddStringToObject(o, "home", h->dir);
		cJSON_AddStringToObject(o, "device_secret",
					used == DEVSECRET_FILE ? "file" : "secret-service");
		if (used == DEVSECRET_FILE)
			cJSON_AddStringToObject(o, "device_secret_file", h->key_file);
		cJSON_AddStringToObject(o, "audit_key", key);
		cli_json_print(o);
		return;
	}
	printf(_("Installation %s created in %s.\n"), h->installation, h->dir);
	if (used == DEVSECRET_FILE)
		printf(
		    _("Warning: no Secret Service answered. The device secret is in the key file\n"
		      "%s (mode 0600, outside the data directory). Anyone who can read it\n"
		      "and a copy of the data directory can try PINs offline.\n"),
		    h->key_file);
	else
		printf(_("The device secret is kept in the Secret Service (keyring).\n"));
	printf(_("Audit log verifier key (give it to the auditor):\n%s\n"), key);
}

int cmd_init(int argc, char **argv)
{
	static const struct option opts[] = {{"system", no_argument, NULL, 's'},
					     {"json", no_argument, NULL, 'j'},
					     {"help", no_argument, NULL, 'h'},
					     {0}};
	struct sesame_home h;
	enum devsecret_backend used = DEVSECRET_FILE;
	int json = 0, system = 0, opt, ret;

	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (opt == 'j')
			json = 1;
		else if (opt == 's')
			system = 1;
		else
			return usage(opt == 'h' ? stdout : stderr);
	}
	if (optind != argc)
		return usage(stderr);
	if (cli_home_mode(&h, system) != 0)
		return EXIT_FAIL;
	if (home_read_installation(&h) == VAULT_OK) {
		cli_error(_("%s is already initialised (installation %s)"), h.dir, h.installation);
		return EXIT_FAIL;
	}
	if ((ret = create(&h, &used)) != VAULT_OK) {
		cli_error(_("cannot create the installation in %s: %s"), h.dir, cli_strerror(ret));
		return EXIT_FAIL;
	}
	report(&h, used, json);
	return EXIT_OK;
}
