/* sesame init: create the installation. Runs without the agent: it makes what the agent needs. */
#include <fcntl.h>
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
#include "fileio.h"

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

/* Written last: an installation file means everything else is in place. */
static int write_installation(struct sesame_home *h)
{
	char line[HOME_INSTALLATION_HEX + 2];
	int dfd, ret;

	if ((ret = fileio_dir_open(h->dir, 0, &dfd)) != VAULT_OK)
		return ret;
	snprintf(line, sizeof(line), "%s\n", h->installation);
	ret = fileio_create_atomic(dfd, HOME_INSTALLATION_FILE, line, HOME_INSTALLATION_HEX + 1);
	close(dfd);
	return ret;
}

/* mkdir -p for the parents of path, each new one 0700 (the key file's, under XDG_CONFIG_HOME). */
static void make_parents(const char *path)
{
	char dir[PATH_MAX];

	snprintf(dir, sizeof(dir), "%s", path);
	for (char *p = dir + 1; (p = strchr(p, '/')) != NULL; p++) {
		*p = '\0';
		mkdir(dir, 0700);
		*p = '/';
	}
}

static int new_installation(struct sesame_home *h)
{
	uint8_t id[DEVSECRET_ID_BYTES];
	char hex[HOME_INSTALLATION_HEX + 1];
	int dfd, ret;

	make_parents(h->dir);
	if ((ret = fileio_dir_open(h->dir, 1, &dfd)) != VAULT_OK)
		return ret;
	close(dfd);
	randombytes_buf(id, sizeof(id));
	sodium_bin2hex(hex, sizeof(hex), id, sizeof(id));
	if ((ret = home_set_installation(h, hex)) == VAULT_OK)
		make_parents(h->key_file);
	return ret;
}

static int first_record(struct sesame_home *h, const uint8_t *secret)
{
	uint8_t key[32];
	char t[AUDIT_TIME_LEN + 1], host[64] = "localhost";
	struct passwd *pw = getpwuid(getuid());
	struct audit_event ev = {0};
	struct audit_log *log;
	int ret;

	home_audit_key(secret, key);
	gethostname(host, sizeof(host) - 1);
	audit_time_format((int64_t)time(NULL), t);
	ev.event = "installation_created";
	ev.time = t;
	ev.worker_uid = (uint32_t)getuid();
	ev.worker_login = pw != NULL ? pw->pw_name : "unknown";
	ev.host = host;
	ev.outcome = "ok";
	ev.attempts_left = -1;
	if ((ret = audit_init(h->audit, h->installation, key)) == VAULT_OK &&
	    (ret = audit_open(h->audit, key, &ev, &log)) == VAULT_OK) {
		ret = audit_append(log, &ev, NULL);
		audit_close(log);
	}
	sodium_memzero(key, sizeof(key));
	return ret;
}

static int create(struct sesame_home *h, enum devsecret_backend *used)
{
	uint8_t *secret = sodium_malloc(DEVSECRET_BYTES);
	struct devsecret_config dc;
	int dfd, ret;

	if (secret == NULL)
		return VAULT_E_NOMEM;
	if ((ret = new_installation(h)) != VAULT_OK)
		goto out;
	dc = (struct devsecret_config){h->cfg.device_secret, h->installation, h->key_file};
	if ((ret = devsecret_create(&dc, secret, used)) != VAULT_OK)
		goto out;
	if ((ret = fileio_dir_open(h->vaults, 1, &dfd)) == VAULT_OK) {
		close(dfd);
		ret = first_record(h, secret);
	}
	if (ret == VAULT_OK)
		ret = write_installation(h);
	if (ret != VAULT_OK)
		devsecret_delete(&dc); /* no half installation keeps a secret around */
out:
	sodium_free(secret);
	return ret;
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
