#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include "testutil.h"
#include "fileio.h"

static int count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

static void atomic_write_replaces_and_is_private(void **state)
{
	char dir[PATH_MAX], path[PATH_MAX + 16];
	uint8_t buf[64];
	size_t len;
	struct stat st;
	int dfd;

	(void)state;
	testutil_tmpdir(dir);
	snprintf(path, sizeof(path), "%s/d", dir);
	assert_int_equal(fileio_dir_open(path, 1, &dfd), VAULT_OK);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	assert_int_equal(fileio_create_atomic(dfd, "f", "one", 3), VAULT_OK);
	assert_int_equal(fileio_create_atomic(dfd, "f", "two", 3), VAULT_E_EXISTS);
	assert_int_equal(fileio_write_atomic(dfd, "f", "three", 5), VAULT_OK);
	assert_int_equal(fileio_read(dfd, "f", buf, sizeof(buf), &len), VAULT_OK);
	assert_int_equal(len, 5);
	assert_memory_equal(buf, "three", 5);
	assert_int_equal(fileio_read(dfd, "f", buf, 4, &len), VAULT_E_TOOLONG);
	assert_int_equal(fileio_read(dfd, "missing", buf, 4, &len), VAULT_E_NOTFOUND);
	assert_int_equal(fstatat(dfd, "f", &st, 0), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(count_entries(path), 1); /* no temporary file left behind */
	close(dfd);
	testutil_rmtree(dir);
}

static void symlinks_and_open_directories_are_refused(void **state)
{
	char dir[PATH_MAX], path[PATH_MAX + 16];
	uint8_t buf[8];
	size_t len;
	int dfd;

	(void)state;
	testutil_tmpdir(dir);
	assert_int_equal(fileio_dir_open(dir, 0, &dfd), VAULT_OK);
	assert_int_equal(symlinkat("/etc/passwd", dfd, "link"), 0);
	assert_int_equal(fileio_read(dfd, "link", buf, sizeof(buf), &len), VAULT_E_SYMLINK);
	assert_string_equal(fileio_failed_name(), "link");
	close(dfd);
	snprintf(path, sizeof(path), "%s/open", dir);
	assert_int_equal(mkdir(path, 0755), 0);
	assert_int_equal(fileio_dir_open(path, 1, &dfd), VAULT_E_PERM);
	snprintf(path, sizeof(path), "%s/dirlink", dir);
	assert_int_equal(symlink(dir, path), 0);
	assert_int_equal(fileio_dir_open(path, 0, &dfd), VAULT_E_SYMLINK);
	testutil_rmtree(dir);
}

/* A FIFO, a directory or an unreadable file where a file must be: a clear error at once, never a
 * read that blocks, and the name kept for the message. */
static void fifos_and_unreadable_files_are_named(void **state)
{
	char dir[PATH_MAX];
	uint8_t buf[8];
	size_t len;
	int dfd, lock;

	(void)state;
	testutil_tmpdir(dir);
	assert_int_equal(fileio_dir_open(dir, 0, &dfd), VAULT_OK);
	assert_int_equal(mkfifoat(dfd, "fifo", 0600), 0);
	assert_int_equal(fileio_read(dfd, "fifo", buf, sizeof(buf), &len), VAULT_E_FILETYPE);
	assert_string_equal(fileio_failed_name(), "fifo");
	assert_int_equal(fileio_lock(dfd, "fifo", &lock), VAULT_E_FILETYPE);
	assert_int_equal(mkdirat(dfd, "sub", 0700), 0);
	assert_int_equal(fileio_read(dfd, "sub", buf, sizeof(buf), &len), VAULT_E_FILETYPE);
	assert_int_equal(fileio_create_atomic(dfd, "secret", "x", 1), VAULT_OK);
	assert_int_equal(fchmodat(dfd, "secret", 0, 0), 0);
	if (geteuid() != 0) /* root reads anything */
		assert_int_equal(fileio_read(dfd, "secret", buf, sizeof(buf), &len),
				 VAULT_E_ACCESS);
	close(dfd);
	testutil_rmtree(dir);
}

static void crash_before_rename(void)
{
	_exit(42);
}

/* A writer that dies after its temporary file is durable leaves the old file untouched. */
static void crash_before_rename_keeps_old_file(void **state)
{
	char dir[PATH_MAX];
	uint8_t buf[16];
	size_t len;
	int dfd, status;
	pid_t pid;

	(void)state;
	testutil_tmpdir(dir);
	assert_int_equal(fileio_dir_open(dir, 0, &dfd), VAULT_OK);
	assert_int_equal(fileio_create_atomic(dfd, "f", "old", 3), VAULT_OK);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		fileio_before_rename_hook = crash_before_rename;
		fileio_write_atomic(dfd, "f", "new!", 4);
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_int_equal(WEXITSTATUS(status), 42);
	assert_int_equal(fileio_read(dfd, "f", buf, sizeof(buf), &len), VAULT_OK);
	assert_int_equal(len, 3);
	assert_memory_equal(buf, "old", 3);
	close(dfd);
	testutil_rmtree(dir);
}

/* Two writers are serialised: the second gets the lock only after the first said, just before
 * releasing it, that it would. The holder keeps it a while so that a lock that does not exclude
 * is caught; nothing is measured, so a slow machine cannot fail the test. */
static void lock_serialises_writers(void **state)
{
	char dir[PATH_MAX];
	int dfd, fd, pipefd[2], status;
	char c;
	pid_t pid;

	(void)state;
	testutil_tmpdir(dir);
	assert_int_equal(fileio_dir_open(dir, 0, &dfd), VAULT_OK);
	assert_int_equal(pipe(pipefd), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		if (fileio_lock(dfd, "x.lock", &fd) != VAULT_OK)
			_exit(1);
		(void)!write(pipefd[1], "L", 1);
		usleep(300 * 1000);
		(void)!write(pipefd[1], "R", 1); /* releasing now */
		fileio_unlock(fd);
		_exit(0);
	}
	close(pipefd[1]);
	assert_int_equal(read(pipefd[0], &c, 1), 1);
	assert_int_equal(c, 'L');
	assert_int_equal(fileio_lock(dfd, "x.lock", &fd), VAULT_OK);
	assert_int_equal(fcntl(pipefd[0], F_SETFL, O_NONBLOCK), 0);
	assert_int_equal(read(pipefd[0], &c, 1), 1); /* already said, so the lock waited for it */
	assert_int_equal(c, 'R');
	fileio_unlock(fd);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_int_equal(WEXITSTATUS(status), 0);
	close(pipefd[0]);
	close(dfd);
	testutil_rmtree(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(atomic_write_replaces_and_is_private),
	    cmocka_unit_test(symlinks_and_open_directories_are_refused),
	    cmocka_unit_test(fifos_and_unreadable_files_are_named),
	    cmocka_unit_test(crash_before_rename_keeps_old_file),
	    cmocka_unit_test(lock_serialises_writers),
	};
	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
