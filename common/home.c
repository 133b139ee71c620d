#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "fileio.h"
#include "format.h"
#include "home.h"
#include "text.h"

static int join(char *out, size_t cap, const char *a, const char *b)
{
	return snprintf(out, cap, "%s/%s", a, b) < (int)cap ? VAULT_OK : VAULT_E_TOOLONG;
}

static const char *user_home(void)
{
	const char *h = getenv("HOME");
	struct passwd *pw;

	if (h != NULL && h[0] == '/')
		return h;
	pw = getpwuid(getuid());
	return pw != NULL ? pw->pw_dir : "/";
}

/* $VAR if it is an absolute path, else $HOME/fallback. */
static int xdg(char *out, size_t cap, const char *var, const char *fallback)
{
	const char *v = getenv(var);

	if (v != NULL && v[0] == '/')
		return snprintf(out, cap, "%s", v) < (int)cap ? VAULT_OK : VAULT_E_TOOLONG;
	return join(out, cap, user_home(), fallback);
}

static int resolve_dir(struct sesame_home *h)
{
	const char *env = getenv("SESAME_HOME");
	char base[PATH_MAX];
	int ret;

	if (env != NULL && env[0] != '\0')
		return snprintf(h->dir, sizeof(h->dir), "%s", env) < (int)sizeof(h->dir)
			   ? VAULT_OK
			   : VAULT_E_TOOLONG;
	if (h->system) {
		snprintf(h->dir, sizeof(h->dir), "%s", HOME_SYSTEM_DIR);
		return VAULT_OK;
	}
	if ((ret = xdg(base, sizeof(base), "XDG_DATA_HOME", ".local/share")) != VAULT_OK)
		return ret;
	return join(h->dir, sizeof(h->dir), base, "sesame");
}

static int resolve_socket(struct sesame_home *h)
{
	const char *env = getenv("SESAME_AGENT_SOCK"), *run = getenv("XDG_RUNTIME_DIR");
	int n;

	if (env != NULL && env[0] != '\0')
		n = snprintf(h->socket, sizeof(h->socket), "%s", env);
	else if (h->system)
		n = snprintf(h->socket, sizeof(h->socket), "%s", HOME_SYSTEM_SOCKET);
	else if (run != NULL && run[0] == '/')
		n = snprintf(h->socket, sizeof(h->socket), "%s/sesame/agent.sock", run);
	else
		n = snprintf(h->socket, sizeof(h->socket), "/tmp/sesame-%u/agent.sock",
			     (unsigned)getuid());
	return n < (int)sizeof(h->socket) ? VAULT_OK : VAULT_E_TOOLONG;
}

static int read_config(struct sesame_home *h)
{
	const char *env = getenv("SESAME_CONFIG");
	char *buf;
	size_t len;
	int ret;

	if (env != NULL && env[0] != '\0')
		snprintf(h->config_path, sizeof(h->config_path), "%s", env);
	else if (h->system)
		snprintf(h->config_path, sizeof(h->config_path), "%s", HOME_SYSTEM_CONFIG);
	else if (join(h->config_path, sizeof(h->config_path), h->dir, HOME_CONFIG_FILE) != 0)
		return VAULT_E_TOOLONG;
	if ((buf = malloc(CONFIG_FILE_MAX)) == NULL)
		return VAULT_E_NOMEM;
	ret = fileio_read(AT_FDCWD, h->config_path, (uint8_t *)buf, CONFIG_FILE_MAX, &len);
	if (ret == VAULT_OK)
		ret = config_parse(buf, len, &h->cfg);
	else if (ret == VAULT_E_NOTFOUND)
		ret = VAULT_OK; /* no file: the defaults */
	free(buf);
	return ret;
}

static int resolve_key_file(struct sesame_home *h)
{
	char base[PATH_MAX];
	int ret;

	if (h->cfg.device_secret_file[0] != '\0')
		return snprintf(h->key_file, sizeof(h->key_file), "%s", h->cfg.device_secret_file) <
			       (int)sizeof(h->key_file)
			   ? VAULT_OK
			   : VAULT_E_TOOLONG;
	if (h->system) {
		snprintf(h->key_file, sizeof(h->key_file), "%s", HOME_SYSTEM_KEY_FILE);
		return VAULT_OK;
	}
	/* Outside the data directory, so a copy or backup of it does not carry the secret. */
	if ((ret = xdg(base, sizeof(base), "XDG_CONFIG_HOME", ".config")) != VAULT_OK)
		return ret;
	return snprintf(h->key_file, sizeof(h->key_file), "%s/sesame/device-secret-%s", base,
			h->installation) < (int)sizeof(h->key_file)
		   ? VAULT_OK
		   : VAULT_E_TOOLONG;
}

int home_resolve(struct sesame_home *h, int system)
{
	int ret;

	memset(h, 0, sizeof(*h));
	h->system = system;
	config_default(&h->cfg);
	if ((ret = resolve_dir(h)) != VAULT_OK || (ret = resolve_socket(h)) != VAULT_OK ||
	    (ret = join(h->vaults, sizeof(h->vaults), h->dir, HOME_VAULTS_DIR)) != VAULT_OK ||
	    (ret = join(h->audit, sizeof(h->audit), h->dir, HOME_AUDIT_DIR)) != VAULT_OK)
		return ret;
	return read_config(h);
}

int home_read_installation(struct sesame_home *h)
{
	char path[PATH_MAX + 32], buf[VAULT_INSTALLATION_HEX + 2];
	size_t len;
	int ret;

	if ((ret = join(path, sizeof(path), h->dir, VAULT_INSTALLATION_FILE)) != VAULT_OK)
		return ret;
	ret = fileio_read(AT_FDCWD, path, (uint8_t *)buf, sizeof(buf), &len);
	if (ret != VAULT_OK)
		return ret == VAULT_E_TOOLONG ? VAULT_E_FORMAT : ret;
	if (len != VAULT_INSTALLATION_HEX + 1 || buf[VAULT_INSTALLATION_HEX] != '\n' ||
	    !text_hex_lower(buf, VAULT_INSTALLATION_HEX))
		return VAULT_E_FORMAT;
	buf[VAULT_INSTALLATION_HEX] = '\0';
	return home_set_installation(h, buf);
}

int home_set_installation(struct sesame_home *h, const char *id)
{
	snprintf(h->installation, sizeof(h->installation), "%s", id);
	return resolve_key_file(h);
}

int home_device_secret(const struct sesame_home *h, uint8_t *secret, enum devsecret_backend *used)
{
	struct devsecret_config dc = {h->cfg.device_secret, h->installation, h->key_file};

	return devsecret_load(&dc, secret, used);
}

/* path is unsafe: a link, or not this account's, or open to group or others. Absent: safe. */
static int unsafe(const char *path)
{
	struct stat st;

	if (path[0] == '\0' || lstat(path, &st) != 0)
		return 0;
	return S_ISLNK(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 077) != 0;
}

/* A file of the vault store that is unsafe (a link where a vault must be, for instance). */
static int unsafe_vault(const struct sesame_home *h, char *out, size_t cap)
{
	char path[PATH_MAX];
	struct dirent *d;
	DIR *dir = opendir(h->vaults);
	int found = 0;

	while (dir != NULL && !found && (d = readdir(dir)) != NULL) {
		if (d->d_name[0] == '.' || snprintf(path, sizeof(path), "%s/%s", h->vaults,
						    d->d_name) >= (int)sizeof(path))
			continue;
		if ((found = unsafe(path)) != 0)
			snprintf(out, cap, "%s", path);
	}
	if (dir != NULL)
		closedir(dir);
	return found;
}

int home_unsafe_path(const struct sesame_home *h, char *out, size_t cap)
{
	char key_dir[PATH_MAX];
	const char *paths[] = {h->dir, h->vaults, h->audit, key_dir, h->key_file};
	char *slash;

	snprintf(key_dir, sizeof(key_dir), "%s", h->key_file);
	if ((slash = strrchr(key_dir, '/')) != NULL && slash != key_dir)
		*slash = '\0';
	else
		key_dir[0] = '\0';
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
		if (unsafe(paths[i])) {
			snprintf(out, cap, "%s", paths[i]);
			return 1;
		}
	return unsafe_vault(h, out, cap);
}
