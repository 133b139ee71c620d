/* Tests of the device secret module.
 *
 *   test_devsecret           key file backend, and both Secret Service modes with no D-Bus
 *   test_devsecret keyring   against a real Secret Service (run under run-with-keyring.sh)
 *
 * Nothing here mocks the Secret Service: the "no D-Bus" tests point GLib at a bus that does not
 * exist, and the keyring tests talk to a real gnome-keyring-daemon on a private session bus. */
#include "build-config.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>
#if HAVE_LIBSECRET
#include <libsecret/secret.h>
#endif

#include "devsecret.h"
#include "error.h"

#define NO_BUS_ADDRESS "unix:path=/nonexistent/sesame-test-bus"
#define OTHER_UID 65534 /* nobody: owner of a key file that is not ours (root only) */
#define SKIP_EXIT 77	/* meson reports this exit status as a skipped test */

/* The documented key file format, spelled out here rather than taken from devsecret.h, so a
 * change to the format in the library fails this test. */
#define KF_HEADER "sesame-device-secret-v1 "
#define KF_LEN 69
/* Golden vector: the bytes 0x00..0x1f. */
#define KF_GOLDEN "sesame-device-secret-v1 AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n"

struct fixture {
	char dir[PATH_MAX];	 /* private temporary directory */
	char key_dir[PATH_MAX];	 /* parent of the key file; created by the module */
	char key_file[PATH_MAX]; /* absolute key file path */
	char id[DEVSECRET_ID_BYTES * 2 + 1];
	struct devsecret_config cfg;
	uint8_t *secret; /* sodium_malloc, as the real callers do */
	uint8_t *again;
};

/* ---- helpers ---- */

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void rm_tree(const char *path)
{
	nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static void write_file(const char *path, const void *buf, size_t len, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, mode);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, buf, len), (ssize_t)len);
	assert_int_equal(fchmod(fd, mode), 0); /* not subject to the umask */
	assert_int_equal(close(fd), 0);
}

static size_t read_file(const char *path, uint8_t *buf, size_t cap)
{
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	ssize_t n;

	assert_true(fd >= 0);
	n = read(fd, buf, cap);
	assert_true(n >= 0);
	close(fd);
	return (size_t)n;
}

/* out = dir + "/" + name, failing the test rather than truncating. */
static void path_join(char *out, size_t cap, const char *dir, const char *name)
{
	int n = snprintf(out, cap, "%s/%s", dir, name);

	assert_true(n > 0 && (size_t)n < cap);
}

static mode_t mode_of(const char *path)
{
	struct stat st;

	assert_int_equal(lstat(path, &st), 0);
	return st.st_mode & 07777;
}

static int exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

static void random_id(char out[DEVSECRET_ID_BYTES * 2 + 1])
{
	uint8_t raw[DEVSECRET_ID_BYTES];

	randombytes_buf(raw, sizeof(raw));
	sodium_bin2hex(out, DEVSECRET_ID_BYTES * 2 + 1, raw, sizeof(raw));
}

static void use_no_bus(void)
{
	assert_int_equal(setenv("DBUS_SESSION_BUS_ADDRESS", NO_BUS_ADDRESS, 1), 0);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	const char *tmp = getenv("TMPDIR");

	assert_non_null(f);
	snprintf(f->dir, sizeof(f->dir), "%s/sesame-devsecret.XXXXXX", tmp ? tmp : "/tmp");
	assert_non_null(mkdtemp(f->dir));
	path_join(f->key_dir, sizeof(f->key_dir), f->dir, "keys");
	path_join(f->key_file, sizeof(f->key_file), f->key_dir, "device.key");
	random_id(f->id);
	f->cfg.backend = DEVSECRET_FILE;
	f->cfg.installation_id = f->id;
	f->cfg.key_file = f->key_file;
	f->secret = sodium_malloc(DEVSECRET_BYTES);
	f->again = sodium_malloc(DEVSECRET_BYTES);
	assert_non_null(f->secret);
	assert_non_null(f->again);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	rm_tree(f->dir);
	sodium_free(f->secret);
	sodium_free(f->again);
	free(f);
	return 0;
}

/* Create a valid key file holding f->secret, its directory 0700, without the module. */
static void plant_key_file(struct fixture *f)
{
	char text[KF_LEN + 1];

	randombytes_buf(f->secret, DEVSECRET_BYTES);
	memcpy(text, KF_HEADER, strlen(KF_HEADER));
	sodium_bin2base64(text + strlen(KF_HEADER), sizeof(text) - strlen(KF_HEADER), f->secret,
			  DEVSECRET_BYTES, sodium_base64_VARIANT_ORIGINAL);
	text[KF_LEN - 1] = '\n';
	assert_int_equal(mkdir(f->key_dir, 0700), 0);
	write_file(f->key_file, text, KF_LEN, 0600);
}

/* ---- key file backend ---- */

static void test_file_round_trip(void **state)
{
	struct fixture *f = *state;
	enum devsecret_backend used = DEVSECRET_AUTO;
	uint8_t buf[KF_LEN + 8], decoded[DEVSECRET_BYTES];
	size_t len, bin_len = 0;
	const char *end = NULL;

	assert_int_equal(devsecret_create(&f->cfg, f->secret, &used), VAULT_OK);
	assert_int_equal(used, DEVSECRET_FILE);
	assert_int_equal(mode_of(f->key_file), 0600);
	assert_int_equal(mode_of(f->key_dir), 0700);

	/* The file holds exactly the documented text for this secret. */
	len = read_file(f->key_file, buf, sizeof(buf));
	assert_int_equal(len, KF_LEN);
	assert_memory_equal(buf, KF_HEADER, strlen(KF_HEADER));
	assert_int_equal(buf[KF_LEN - 1], '\n');
	assert_int_equal(sodium_base642bin(decoded, sizeof(decoded), (const char *)buf + 24, 44,
					   NULL, &bin_len, &end, sodium_base64_VARIANT_ORIGINAL),
			 0);
	assert_int_equal(bin_len, DEVSECRET_BYTES);
	assert_int_equal(sodium_memcmp(decoded, f->secret, DEVSECRET_BYTES), 0);

	used = DEVSECRET_AUTO;
	assert_int_equal(devsecret_load(&f->cfg, f->again, &used), VAULT_OK);
	assert_int_equal(used, DEVSECRET_FILE);
	assert_int_equal(sodium_memcmp(f->again, f->secret, DEVSECRET_BYTES), 0);
	assert_false(sodium_is_zero(f->secret, DEVSECRET_BYTES));
}

static void test_file_create_twice(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(devsecret_create(&f->cfg, f->secret, NULL), VAULT_OK);
	assert_int_equal(devsecret_create(&f->cfg, f->again, NULL), VAULT_E_EXISTS);
	assert_true(sodium_is_zero(f->again, DEVSECRET_BYTES)); /* wiped on failure */
	/* The first secret is still the stored one. */
	assert_int_equal(devsecret_load(&f->cfg, f->again, NULL), VAULT_OK);
	assert_int_equal(sodium_memcmp(f->again, f->secret, DEVSECRET_BYTES), 0);
}

static void test_file_load_missing(void **state)
{
	struct fixture *f = *state;

	/* Neither the directory nor the file exists. */
	assert_int_equal(devsecret_load(&f->cfg, f->secret, NULL), VAULT_E_NOSECRET);
	assert_int_equal(mkdir(f->key_dir, 0700), 0);
	assert_int_equal(devsecret_load(&f->cfg, f->secret, NULL), VAULT_E_NOSECRET);
}

static void test_file_refuses_open_modes(void **state)
{
	static const mode_t bad[] = {0644, 0640, 0604, 0620, 0602, 0700, 0610};
	struct fixture *f = *state;

	plant_key_file(f);
	assert_int_equal(devsecret_load(&f->cfg, f->again, NULL), VAULT_OK);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if ((bad[i] & 077) == 0)
			continue; /* 0700 is the owner's business, not a leak */
		assert_int_equal(chmod(f->key_file, bad[i]), 0);
		assert_int_equal(devsecret_load(&f->cfg, f->again, NULL), VAULT_E_PERM);
		assert_true(sodium_is_zero(f->again, DEVSECRET_BYTES));
	}
	assert_int_equal(chmod(f->key_file, 0400), 0);
	assert_int_equal(devsecret_load(&f->cfg, f->again, NULL), VAULT_OK);
	assert_int_equal(sodium_memcmp(f->again, f->secret, DEVSECRET_BYTES), 0);
}

static void test_file_refuses_open_parent(void **state)
{
	struct fixture *f = *state;

	plant_key_file(f);
	assert_int_equal(chmod(f->key_dir, 0755), 0);
	assert_int_equal(devsecret_load(&f->cfg, f->again, NULL), VAULT_E_PERM);
	assert_int_equal(devsecret_delete(&f->cfg), VAULT_E_PERM);
	assert_true(exists(f->key_file));
}

static void test_file_refuses_symlink(void **state)
{
	struct fixture *f = *state;
	char target[PATH_MAX];

	/* A perfectly valid key file, reached through a symlink. */
	plant_key_file(f);
	path_join(target, sizeof(target), f->dir, "elsewhere.key");
	assert_int_equal(rename(f->key_file, target), 0);
	assert_int_equal(symlink(target, f->key_file), 0);
	assert_int_equal(devsecret_load(&f->cfg, f->again, NULL), VAULT_E_SYMLINK);
	assert_true(sodium_is_zero(f->again, DEVSECRET_BYTES));
	/* Create must not write through it either. */
	assert_int_equal(devsecret_create(&f->cfg, f->again, NULL), VAULT_E_EXISTS);
}

static void test_file_refuses_non_regular(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(mkdir(f->key_dir, 0700), 0);
	assert_int_equal(mkfifo(f->key_file, 0600), 0); /* must not block the load */
	assert_int_equal(devsecret_load(&f->cfg, f->again, NULL), VAULT_E_FILETYPE);
}

static void test_file_refuses_other_owner(void **state)
{
	struct fixture *f = *state;

	if (geteuid() != 0)
		skip(); /* only root can give a file away */
	plant_key_file(f);
	assert_int_equal(chown(f->key_file, OTHER_UID, OTHER_UID), 0);
	assert_int_equal(devsecret_load(&f->cfg, f->again, NULL), VAULT_E_PERM);
}

struct bad_file {
	const char *text;
	size_t len;
	int want;
};

static void test_file_malformed(void **state)
{
	static const char good[] = KF_GOLDEN;
	static const struct bad_file cases[] = {
	    {"", 0, VAULT_E_FORMAT},
	    {good, KF_LEN - 1, VAULT_E_FORMAT}, /* no newline */
	    {good, 40, VAULT_E_FORMAT},		/* truncated */
	    {good, sizeof(KF_HEADER) - 1, VAULT_E_FORMAT},
	    {KF_GOLDEN "x", KF_LEN + 1, VAULT_E_FORMAT},  /* trailing byte */
	    {KF_GOLDEN "\n", KF_LEN + 1, VAULT_E_FORMAT}, /* trailing newline */
	    {"sesame-device-secret-v1 AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\r\n", KF_LEN + 1,
	     VAULT_E_FORMAT},
	    {"sesame-device-secret-v1 AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8 \n", KF_LEN,
	     VAULT_E_FORMAT}, /* padding replaced */
	    {"sesame-device-secret-v1 AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh9=\n", KF_LEN,
	     VAULT_E_FORMAT}, /* non-zero spare bits: a second encoding of the golden bytes */
	    {"sesame-device-secret-v1 AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwd*h8=\n", KF_LEN,
	     VAULT_E_FORMAT},
	    {"sesame-device-secret-v1 AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=AAAA\n",
	     KF_LEN + 4, VAULT_E_FORMAT}, /* a longer secret */
	    {"sesame-device-secret-v1 AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHg==\n", KF_LEN,
	     VAULT_E_FORMAT}, /* 31 bytes, padded to the same length */
	    {"Sesame-device-secret-v1 AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n", KF_LEN,
	     VAULT_E_FORMAT},
	    {"sesame-device-secret-v1\tAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n", KF_LEN,
	     VAULT_E_VERSION},
	    {"sesame-device-secret-v2 AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n", KF_LEN,
	     VAULT_E_VERSION},
	    {"\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f"
	     "\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f",
	     DEVSECRET_BYTES, VAULT_E_FORMAT}, /* raw bytes are not the format */
	};
	struct fixture *f = *state;

	assert_int_equal(mkdir(f->key_dir, 0700), 0);
	write_file(f->key_file, good, KF_LEN, 0600);
	assert_int_equal(devsecret_load(&f->cfg, f->secret, NULL), VAULT_OK);
	for (size_t i = 0; i < DEVSECRET_BYTES; i++)
		assert_int_equal(f->secret[i], i);

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		print_message("case %zu\n", i);
		write_file(f->key_file, cases[i].text, cases[i].len, 0600);
		memset(f->again, 0xa5, DEVSECRET_BYTES);
		assert_int_equal(devsecret_load(&f->cfg, f->again, NULL), cases[i].want);
		assert_true(sodium_is_zero(f->again, DEVSECRET_BYTES));
		memset(f->again, 0xa5, DEVSECRET_BYTES);
		assert_int_equal(
		    devsecret_file_parse((const uint8_t *)cases[i].text, cases[i].len, f->again),
		    cases[i].want);
		assert_true(sodium_is_zero(f->again, DEVSECRET_BYTES));
	}
}

static void test_file_delete(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(devsecret_delete(&f->cfg), VAULT_E_NOTFOUND);
	assert_int_equal(devsecret_create(&f->cfg, f->secret, NULL), VAULT_OK);
	assert_int_equal(devsecret_delete(&f->cfg), VAULT_OK);
	assert_false(exists(f->key_file));
	assert_int_equal(devsecret_load(&f->cfg, f->again, NULL), VAULT_E_NOSECRET);
	assert_int_equal(devsecret_delete(&f->cfg), VAULT_E_NOTFOUND);
	/* A new secret can be made after an uninstall, and it is a different one. */
	assert_int_equal(devsecret_create(&f->cfg, f->again, NULL), VAULT_OK);
	assert_int_not_equal(sodium_memcmp(f->again, f->secret, DEVSECRET_BYTES), 0);
}

static void test_config_invalid(void **state)
{
	struct fixture *f = *state;
	struct devsecret_config cfg = f->cfg;

	cfg.key_file = "relative/device.key";
	assert_int_equal(devsecret_create(&cfg, f->secret, NULL), VAULT_E_INVAL);
	assert_int_equal(devsecret_load(&cfg, f->secret, NULL), VAULT_E_INVAL);
	cfg.key_file = NULL;
	assert_int_equal(devsecret_delete(&cfg), VAULT_E_INVAL);
	cfg = f->cfg;
	path_join(f->key_file, sizeof(f->key_file), f->key_dir, "");
	assert_int_equal(devsecret_create(&cfg, f->secret, NULL), VAULT_E_INVAL);

	cfg = f->cfg;
	cfg.backend = DEVSECRET_SECRET_SERVICE;
	cfg.installation_id = "0123456789ABCDEF0123456789abcdef"; /* not lowercase */
	assert_int_equal(devsecret_load(&cfg, f->secret, NULL), VAULT_E_INVAL);
	cfg.installation_id = "0123456789abcdef"; /* too short */
	assert_int_equal(devsecret_load(&cfg, f->secret, NULL), VAULT_E_INVAL);
	cfg.installation_id = NULL;
	assert_int_equal(devsecret_create(&cfg, f->secret, NULL), VAULT_E_INVAL);
	cfg.backend = (enum devsecret_backend)7;
	assert_int_equal(devsecret_delete(&cfg), VAULT_E_INVAL);
	assert_int_equal(devsecret_load(NULL, f->secret, NULL), VAULT_E_INVAL);
}

/* A Unix socket posing as the session bus: it counts every connection made to it. */
struct bus_trap {
	int fd;
	atomic_int stop;
	atomic_int connections;
	pthread_t thread;
};

static void *bus_trap_run(void *arg)
{
	struct bus_trap *t = arg;

	while (!atomic_load(&t->stop)) {
		struct pollfd p = {.fd = t->fd, .events = POLLIN};
		if (poll(&p, 1, 20) <= 0)
			continue;
		int c = accept4(t->fd, NULL, NULL, SOCK_CLOEXEC);
		if (c >= 0) {
			atomic_fetch_add(&t->connections, 1);
			close(c); /* GDBus then fails at once instead of waiting for a reply */
		}
	}
	return NULL;
}

static void test_file_never_touches_dbus(void **state)
{
	struct fixture *f = *state;
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct bus_trap trap = {.fd = -1};
	char address[sizeof(sa.sun_path) + 16];

	assert_true((size_t)snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/bus", f->dir) <
		    sizeof(sa.sun_path));
	trap.fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(trap.fd >= 0);
	assert_int_equal(bind(trap.fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(trap.fd, 8), 0);
	assert_true((size_t)snprintf(address, sizeof(address), "unix:path=%s", sa.sun_path) <
		    sizeof(address));
	assert_int_equal(setenv("DBUS_SESSION_BUS_ADDRESS", address, 1), 0);
	assert_int_equal(pthread_create(&trap.thread, NULL, bus_trap_run, &trap), 0);

	/* Had any of these connected, it would have waited for the trap to hang up, so the count
	 * is final when they return. */
	assert_int_equal(devsecret_create(&f->cfg, f->secret, NULL), VAULT_OK);
	assert_int_equal(devsecret_load(&f->cfg, f->again, NULL), VAULT_OK);
	assert_int_equal(devsecret_delete(&f->cfg), VAULT_OK);
	int file_connections = atomic_load(&trap.connections);

	/* Prove the trap works: the Secret Service backend does knock on it. */
	f->cfg.backend = DEVSECRET_SECRET_SERVICE;
	assert_int_equal(devsecret_load(&f->cfg, f->again, NULL), VAULT_E_SECRET_SERVICE);

	atomic_store(&trap.stop, 1);
	assert_int_equal(pthread_join(trap.thread, NULL), 0);
	close(trap.fd);
	use_no_bus();
	assert_int_equal(file_connections, 0);
	if (HAVE_LIBSECRET)
		assert_true(atomic_load(&trap.connections) >= 1);
}

/* ---- Secret Service modes with no session bus ---- */

static void test_auto_falls_back_without_dbus(void **state)
{
	struct fixture *f = *state;
	enum devsecret_backend used = DEVSECRET_SECRET_SERVICE;

	use_no_bus();
	f->cfg.backend = DEVSECRET_AUTO;
	assert_int_equal(devsecret_create(&f->cfg, f->secret, &used), VAULT_OK);
	assert_int_equal(used, DEVSECRET_FILE);
	assert_int_equal(mode_of(f->key_file), 0600);
	assert_int_equal(mode_of(f->key_dir), 0700);

	used = DEVSECRET_SECRET_SERVICE;
	assert_int_equal(devsecret_load(&f->cfg, f->again, &used), VAULT_OK);
	assert_int_equal(used, DEVSECRET_FILE);
	assert_int_equal(sodium_memcmp(f->again, f->secret, DEVSECRET_BYTES), 0);

	assert_int_equal(devsecret_create(&f->cfg, f->again, &used), VAULT_E_EXISTS);
	assert_int_equal(devsecret_delete(&f->cfg), VAULT_OK);
	assert_false(exists(f->key_file));
	/* Nothing anywhere, and the Secret Service was silent: say so, it may hold the secret. */
	assert_int_equal(devsecret_load(&f->cfg, f->again, &used), VAULT_E_SECRET_SERVICE);
	assert_int_equal(devsecret_delete(&f->cfg), VAULT_E_SECRET_SERVICE);
}

static void test_auto_without_dbus_keeps_file_errors(void **state)
{
	struct fixture *f = *state;

	use_no_bus();
	f->cfg.backend = DEVSECRET_AUTO;
	plant_key_file(f);
	assert_int_equal(chmod(f->key_file, 0644), 0);
	assert_int_equal(devsecret_load(&f->cfg, f->again, NULL), VAULT_E_PERM);
}

static void test_secret_service_without_dbus(void **state)
{
	struct fixture *f = *state;
	enum devsecret_backend used = DEVSECRET_FILE;

	use_no_bus();
	f->cfg.backend = DEVSECRET_SECRET_SERVICE;
	assert_int_equal(devsecret_create(&f->cfg, f->secret, &used), VAULT_E_SECRET_SERVICE);
	assert_int_equal(used, DEVSECRET_SECRET_SERVICE);
	assert_true(sodium_is_zero(f->secret, DEVSECRET_BYTES));
	assert_int_equal(devsecret_load(&f->cfg, f->secret, NULL), VAULT_E_SECRET_SERVICE);
	assert_int_equal(devsecret_delete(&f->cfg), VAULT_E_SECRET_SERVICE);
	assert_false(exists(f->key_dir)); /* never falls back */
}

static int run_unit(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_file_round_trip, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_file_create_twice, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_file_load_missing, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_file_refuses_open_modes, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_file_refuses_open_parent, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_file_refuses_symlink, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_file_refuses_non_regular, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_file_refuses_other_owner, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_file_malformed, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_file_delete, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_config_invalid, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_file_never_touches_dbus, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_auto_falls_back_without_dbus, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_auto_without_dbus_keeps_file_errors, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_secret_service_without_dbus, setup, teardown),
	};

	return cmocka_run_group_tests_name("devsecret", tests, NULL, NULL);
}

/* ---- against a real Secret Service ---- */

#if HAVE_LIBSECRET

/* The schema as documented, written out independently of the library. */
static const SecretSchema doc_schema = {
    .name = "org.sesame.DeviceSecret",
    .flags = SECRET_SCHEMA_NONE,
    .attributes =
	{
	    {"installation", SECRET_SCHEMA_ATTRIBUTE_STRING},
	    {"kind", SECRET_SCHEMA_ATTRIBUTE_STRING},
	    {NULL, 0},
	},
};

/* The item's text through a plain libsecret lookup, or NULL; free with secret_password_free. */
static gchar *raw_lookup(const char *id)
{
	GError *error = NULL;
	gchar *text = secret_password_lookup_sync(&doc_schema, NULL, &error, "installation", id,
						  "kind", "device-secret", NULL);

	if (error != NULL)
		fail_msg("raw lookup: %s", error->message);
	return text;
}

static void raw_store(const char *id, const char *text)
{
	GError *error = NULL;
	gboolean ok = secret_password_store_sync(&doc_schema, SECRET_COLLECTION_DEFAULT,
						 "test item", text, NULL, &error, "installation",
						 id, "kind", "device-secret", NULL);

	if (error != NULL)
		fail_msg("raw store: %s", error->message);
	assert_true(ok);
}

static void raw_clear(const char *id)
{
	GError *error = NULL;

	secret_password_clear_sync(&doc_schema, NULL, &error, "installation", id, "kind",
				   "device-secret", NULL);
	if (error != NULL)
		fail_msg("raw clear: %s", error->message);
}

static void assert_item_holds(const char *id, const uint8_t secret[DEVSECRET_BYTES])
{
	char hex[DEVSECRET_BYTES * 2 + 1];
	gchar *text = raw_lookup(id);

	assert_non_null(text);
	sodium_bin2hex(hex, sizeof(hex), secret, DEVSECRET_BYTES);
	assert_string_equal(text, hex);
	secret_password_free(text);
	sodium_memzero(hex, sizeof(hex));
}

/* A second opinion from another program: secret-tool (libsecret-tools). */
static void assert_secret_tool_sees(const char *id, const uint8_t secret[DEVSECRET_BYTES])
{
	char cmd[256], out[256] = "", hex[DEVSECRET_BYTES * 2 + 1];
	FILE *p;
	size_t n;

	snprintf(cmd, sizeof(cmd),
		 "secret-tool lookup xdg:schema org.sesame.DeviceSecret installation %s "
		 "kind device-secret",
		 id);
	p = popen(cmd, "r");
	assert_non_null(p);
	n = fread(out, 1, sizeof(out) - 1, p);
	assert_int_equal(pclose(p), 0);
	out[n] = '\0';
	out[strcspn(out, "\n")] = '\0';
	sodium_bin2hex(hex, sizeof(hex), secret, DEVSECRET_BYTES);
	assert_string_equal(out, hex);
}

static void test_ss_create_load(void **state)
{
	struct fixture *f = *state;
	enum devsecret_backend used = DEVSECRET_FILE;

	f->cfg.backend = DEVSECRET_SECRET_SERVICE;
	f->cfg.key_file = NULL; /* SECRET_SERVICE needs no key file */
	gchar *none = raw_lookup(f->id);
	assert_null(none);

	assert_int_equal(devsecret_create(&f->cfg, f->secret, &used), VAULT_OK);
	assert_int_equal(used, DEVSECRET_SECRET_SERVICE);
	assert_false(sodium_is_zero(f->secret, DEVSECRET_BYTES));
	assert_item_holds(f->id, f->secret);
	assert_secret_tool_sees(f->id, f->secret);

	used = DEVSECRET_FILE;
	assert_int_equal(devsecret_load(&f->cfg, f->again, &used), VAULT_OK);
	assert_int_equal(used, DEVSECRET_SECRET_SERVICE);
	assert_int_equal(sodium_memcmp(f->again, f->secret, DEVSECRET_BYTES), 0);

	assert_int_equal(devsecret_create(&f->cfg, f->again, &used), VAULT_E_EXISTS);
	assert_true(sodium_is_zero(f->again, DEVSECRET_BYTES));
	assert_item_holds(f->id, f->secret); /* not replaced */
	raw_clear(f->id);
}

static void test_ss_items_are_per_installation(void **state)
{
	struct fixture *f = *state;
	char other[DEVSECRET_ID_BYTES * 2 + 1];
	struct devsecret_config cfg2;

	f->cfg.backend = DEVSECRET_SECRET_SERVICE;
	random_id(other);
	cfg2 = f->cfg;
	cfg2.installation_id = other;
	assert_int_equal(devsecret_create(&f->cfg, f->secret, NULL), VAULT_OK);
	assert_int_equal(devsecret_load(&cfg2, f->again, NULL), VAULT_E_NOSECRET);
	assert_int_equal(devsecret_create(&cfg2, f->again, NULL), VAULT_OK);
	assert_int_not_equal(sodium_memcmp(f->again, f->secret, DEVSECRET_BYTES), 0);
	assert_int_equal(devsecret_delete(&cfg2), VAULT_OK);
	assert_int_equal(devsecret_load(&f->cfg, f->again, NULL), VAULT_OK);
	assert_int_equal(sodium_memcmp(f->again, f->secret, DEVSECRET_BYTES), 0);
	raw_clear(f->id);
}

static void test_ss_delete(void **state)
{
	struct fixture *f = *state;

	f->cfg.backend = DEVSECRET_SECRET_SERVICE;
	assert_int_equal(devsecret_delete(&f->cfg), VAULT_E_NOTFOUND);
	assert_int_equal(devsecret_create(&f->cfg, f->secret, NULL), VAULT_OK);
	assert_int_equal(devsecret_delete(&f->cfg), VAULT_OK);
	gchar *gone = raw_lookup(f->id);
	assert_null(gone);
	assert_int_equal(devsecret_load(&f->cfg, f->again, NULL), VAULT_E_NOSECRET);
	assert_int_equal(devsecret_delete(&f->cfg), VAULT_E_NOTFOUND);
}

static void test_auto_prefers_secret_service(void **state)
{
	struct fixture *f = *state;
	enum devsecret_backend used = DEVSECRET_FILE;

	f->cfg.backend = DEVSECRET_AUTO;
	assert_int_equal(devsecret_create(&f->cfg, f->secret, &used), VAULT_OK);
	assert_int_equal(used, DEVSECRET_SECRET_SERVICE);
	assert_false(exists(f->key_file));
	assert_false(exists(f->key_dir));
	assert_item_holds(f->id, f->secret);

	used = DEVSECRET_FILE;
	assert_int_equal(devsecret_load(&f->cfg, f->again, &used), VAULT_OK);
	assert_int_equal(used, DEVSECRET_SECRET_SERVICE);
	assert_int_equal(sodium_memcmp(f->again, f->secret, DEVSECRET_BYTES), 0);

	assert_int_equal(devsecret_create(&f->cfg, f->again, &used), VAULT_E_EXISTS);
	assert_int_equal(devsecret_delete(&f->cfg), VAULT_OK);
	gchar *gone = raw_lookup(f->id);
	assert_null(gone);
	assert_int_equal(devsecret_load(&f->cfg, f->again, &used), VAULT_E_NOSECRET);
}

static void test_auto_key_file_blocks_create(void **state)
{
	struct fixture *f = *state;
	enum devsecret_backend used = DEVSECRET_SECRET_SERVICE;

	/* An installation that fell back to the file earlier keeps using it. */
	plant_key_file(f);
	f->cfg.backend = DEVSECRET_AUTO;
	assert_int_equal(devsecret_create(&f->cfg, f->again, &used), VAULT_E_EXISTS);
	gchar *none = raw_lookup(f->id);
	assert_null(none);

	assert_int_equal(devsecret_load(&f->cfg, f->again, &used), VAULT_OK);
	assert_int_equal(used, DEVSECRET_FILE);
	assert_int_equal(sodium_memcmp(f->again, f->secret, DEVSECRET_BYTES), 0);
}

static void test_auto_delete_removes_both(void **state)
{
	struct fixture *f = *state;

	plant_key_file(f);
	f->cfg.backend = DEVSECRET_SECRET_SERVICE;
	assert_int_equal(devsecret_create(&f->cfg, f->again, NULL), VAULT_OK);
	f->cfg.backend = DEVSECRET_AUTO;
	assert_int_equal(devsecret_delete(&f->cfg), VAULT_OK);
	assert_false(exists(f->key_file));
	gchar *gone = raw_lookup(f->id);
	assert_null(gone);
	assert_int_equal(devsecret_delete(&f->cfg), VAULT_E_NOTFOUND);
}

static void test_ss_malformed_item(void **state)
{
	static const char *const bad[] = {
	    "",
	    "00112233",
	    "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f00", /* 33 */
	    "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1g",
	    "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n",
	    "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
	};
	struct fixture *f = *state;

	plant_key_file(f);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		print_message("case %zu\n", i);
		raw_store(f->id, bad[i]);
		f->cfg.backend = DEVSECRET_SECRET_SERVICE;
		memset(f->again, 0xa5, DEVSECRET_BYTES);
		assert_int_equal(devsecret_load(&f->cfg, f->again, NULL), VAULT_E_FORMAT);
		assert_true(sodium_is_zero(f->again, DEVSECRET_BYTES));
		assert_int_equal(devsecret_create(&f->cfg, f->again, NULL), VAULT_E_EXISTS);
		/* AUTO fails closed: a bad item is not a reason to use the key file. */
		f->cfg.backend = DEVSECRET_AUTO;
		assert_int_equal(devsecret_load(&f->cfg, f->again, NULL), VAULT_E_FORMAT);
	}
	raw_store(f->id, "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f");
	f->cfg.backend = DEVSECRET_SECRET_SERVICE;
	assert_int_equal(devsecret_load(&f->cfg, f->again, NULL), VAULT_OK);
	for (size_t i = 0; i < DEVSECRET_BYTES; i++)
		assert_int_equal(f->again[i], i);
	raw_clear(f->id);
}

static int run_keyring(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_ss_create_load, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_ss_items_are_per_installation, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_ss_delete, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_auto_prefers_secret_service, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_auto_key_file_blocks_create, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_auto_delete_removes_both, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_ss_malformed_item, setup, teardown),
	};
	int failed;

	failed = cmocka_run_group_tests_name("devsecret-keyring", tests, NULL, NULL);
	/* Drop libsecret's cached connection so the leak checker sees a clean exit. */
	secret_service_disconnect();
	return failed;
}

#endif /* HAVE_LIBSECRET */

int main(int argc, char **argv)
{
	if (sodium_init() < 0)
		return 1;
	if (argc > 1 && strcmp(argv[1], "keyring") == 0) {
#if HAVE_LIBSECRET
		/* Never write test items into a real user's keyring: only the wrapper's own. */
		if (getenv("SESAME_KEYRING_INNER") == NULL) {
			fprintf(stderr, "%s keyring: run me under run-with-keyring.sh\n", argv[0]);
			return 1;
		}
		return run_keyring();
#else
		return SKIP_EXIT; /* built without libsecret */
#endif
	}
	if (argc > 1) {
		fprintf(stderr, "usage: %s [keyring]\n", argv[0]);
		return 2;
	}
	return run_unit();
}
