/* Where an installation lives: the data directory, its configuration, the device secret and the
 * agent's socket, from the environment and sesame.conf. Shared by sesame and sesame-agent. */
#ifndef SESAME_COMMON_HOME_H
#define SESAME_COMMON_HOME_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#include "sesameconf.h"
#include "devsecret.h"
#include "installation.h"

#define HOME_VAULTS_DIR "vaults"
#define HOME_AUDIT_DIR "audit"
#define HOME_CONFIG_FILE "sesame.conf"
#define HOME_SYSTEM_DIR "/var/lib/sesame"
#define HOME_SYSTEM_CONFIG "/etc/sesame/sesame.conf"
#define HOME_SYSTEM_KEY_FILE "/etc/sesame/private/device-secret"
#define HOME_SYSTEM_SOCKET "/run/sesame/agent.sock"

struct sesame_home {
	int system;
	char dir[PATH_MAX];    /* SESAME_HOME */
	char vaults[PATH_MAX]; /* the vault store */
	char audit[PATH_MAX];  /* the audit log */
	char config_path[PATH_MAX];
	char socket[PATH_MAX];
	char key_file[PATH_MAX];
	char installation[VAULT_INSTALLATION_HEX + 1]; /* empty until init */
	struct sesame_config cfg;
};

/* Fill h from the environment (SESAME_HOME, SESAME_AGENT_SOCK, SESAME_CONFIG, XDG_*) and read
 * the configuration file if there is one. Returns 0, or a VAULT_E_* code (bad configuration:
 * h->cfg.line says where). */
int home_resolve(struct sesame_home *h, int system);

/* Read the installation id written by init: VAULT_E_NOTFOUND before init. */
int home_read_installation(struct sesame_home *h);

/* Name the installation (32 lowercase hex) and derive the default key file path from it. */
int home_set_installation(struct sesame_home *h, const char *id);

/* Load the device secret into secret (a sodium_malloc buffer of DEVSECRET_BYTES). */
int home_device_secret(const struct sesame_home *h, uint8_t *secret, enum devsecret_backend *used);

/* VAULT_E_PERM names no file: the first of the installation's directories and key file (with
 * its directory) that is a link, another account's, or open to group or others, into out.
 * Returns 1 when one is found, else 0. */
int home_unsafe_path(const struct sesame_home *h, char *out, size_t cap);

#endif
