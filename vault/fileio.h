/* Durable, race-free file primitives shared by the vault, the device secret and the audit log. */
#ifndef SESAME_VAULT_FILEIO_H
#define SESAME_VAULT_FILEIO_H

#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

/* Files are 0600, directories 0700; every open uses O_NOFOLLOW and O_CLOEXEC. */
#define FILEIO_NAME_MAX 4096 /* the longest name fileio_failed_name keeps */
#define FILEIO_FILE_MODE 0600
#define FILEIO_DIR_MODE 0700
/* How long a writer waits for another writer's lock before giving up with VAULT_E_BUSY. A vault
 * file's lock is held only while the file is read and rewritten (a PIN check runs Argon2id
 * outside it); the store's lock is held across vault_user_create's one Argon2id run, which this
 * wait covers. The running agent holds the audit log's lock for its whole life. */
#define FILEIO_LOCK_WAIT_MS 20000
#define FILEIO_LOCK_POLL_MS 10

/* Create path as a 0700 directory if it is missing, then open it. An existing directory must be
 * owned by the caller and closed to group and others, or VAULT_E_PERM. */
int fileio_dir_open(const char *path, int create, int *dirfd);

/* Open dirfd/name (flags: O_RDONLY, O_RDWR, maybe O_CREAT, O_APPEND) as a regular file only: with
 * O_NONBLOCK, so that a FIFO put in its place cannot block the caller, and O_NOFOLLOW.
 * VAULT_E_FILETYPE for a FIFO, device or directory, VAULT_E_SYMLINK for a symbolic link,
 * VAULT_E_ACCESS when the account may not open it, VAULT_E_NOTFOUND. O_NONBLOCK stays set:
 * regular files ignore it. */
int fileio_open(int dirfd, const char *name, int flags, int *fd);

/* The path or name (relative to its directory) of the last file a fileio call of this thread
 * failed on, so that a message can name it; "" if none. */
const char *fileio_failed_name(void);

/* Read all of dirfd/name into buf (capacity cap). VAULT_E_NOTFOUND if absent,
 * VAULT_E_TOOLONG if the file holds more than cap bytes. */
int fileio_read(int dirfd, const char *name, uint8_t *buf, size_t cap, size_t *len);
/* The same, and *st from fstat on the descriptor the bytes were read from, so that the file's
 * identity always describes the content read (never a path looked at another time). */
int fileio_read_stat(int dirfd, const char *name, uint8_t *buf, size_t cap, size_t *len,
		     struct stat *st);

/* Write all of buf to fd, again after EINTR and short writes: VAULT_OK or a VAULT_E_* code. */
int fileio_write_all(int fd, const void *buf, size_t len);

/* Replace dirfd/name by buf atomically: temporary file, fsync, rename, fsync of the directory.
 * A crash at any instant leaves the old file or the new one, never a mix. VAULT_E_UNSYNCED: the
 * new file is in place, but the directory's fsync failed, so a power cut may bring the old one
 * back; every other error leaves the old file. */
int fileio_write_atomic(int dirfd, const char *name, const void *buf, size_t len);

/* The same, without the directory's fsync: for a change whose loss in a crash is safe, the old
 * file then coming back whole (a retry counter going back to zero after a success). The rename
 * is made durable by the next fsync of the directory, whoever makes it. */
int fileio_write_atomic_lazy(int dirfd, const char *name, const void *buf, size_t len);

/* Create dirfd/name with exactly buf, failing with VAULT_E_EXISTS if it exists; same durability. */
int fileio_create_atomic(int dirfd, const char *name, const void *buf, size_t len);

/* Remove dirfd/name and fsync the directory. VAULT_E_NOTFOUND if absent; VAULT_E_UNSYNCED if
 * removed but the directory's fsync failed. */
int fileio_unlink(int dirfd, const char *name);

/* Take an exclusive lock on dirfd/name (created 0600 if missing), waiting at most
 * FILEIO_LOCK_WAIT_MS: VAULT_E_BUSY if another open file description still holds it. */
int fileio_lock(int dirfd, const char *name, int *lockfd);
void fileio_unlock(int lockfd);

/* Test hook: when set, fileio_write_atomic and fileio_create_atomic call it after the temporary
 * file is durable and before the rename, so crash tests can stop a process at that instant. */
extern void (*fileio_before_rename_hook)(void);

#endif
