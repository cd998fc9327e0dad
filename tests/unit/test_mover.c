/*
 * test_mover.c - a sweep's file moves.
 *
 * A throwaway Maildir with its done and .Rejected folders: messages from
 * new/ gain ":2,", those from cur/ keep their flags, rejected ones go to
 * .Rejected, and without a done folder handled ones are deleted.  Many
 * names are all moved.  A move that fails (the message is gone, a name
 * no directory lists) is reported and leaves the others done.  A
 * symbolic link is moved or deleted itself, never followed.
 */
#include "autoconf.h"

#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "log.h"
#include "mover.h"
#include "status.h"
#include "testutil.h"

/* Many names of NAME_BYTES. */
#define MANY 8000
#define NAME_BYTES 64

struct box {
	char root[64];
	int dir;
	struct mover_dirs dirs;
};

static int
dir_open(int at, const char *name)
{
	int fd;

	if (mkdirat(at, name, 0700) != 0)
		fail_msg("mkdir %s", name);
	fd = openat(at, name, O_RDONLY | O_DIRECTORY);
	assert_true(fd >= 0);
	return fd;
}

static int
setup(void **state)
{
	struct box *b = calloc(1, sizeof(*b));
	int done, rej;

	assert_non_null(b);
	(void)snprintf(b->root, sizeof(b->root), "/tmp/tlsrpt-mover.XXXXXX");
	assert_non_null(mkdtemp(b->root));
	b->dir = open(b->root, O_RDONLY | O_DIRECTORY);
	assert_true(b->dir >= 0);
	b->dirs.sub[0] = dir_open(b->dir, "new");
	b->dirs.sub[1] = dir_open(b->dir, "cur");
	done = dir_open(b->dir, ".Processed");
	rej = dir_open(b->dir, ".Rejected");
	b->dirs.done_fd = dir_open(done, "cur");
	b->dirs.rej_fd = dir_open(rej, "cur");
	(void)close(done);
	(void)close(rej);
	*state = b;
	return 0;
}

static int
teardown(void **state)
{
	struct box *b = *state;
	char cmd[128];

	(void)close(b->dirs.sub[0]);
	(void)close(b->dirs.sub[1]);
	(void)close(b->dirs.done_fd);
	(void)close(b->dirs.rej_fd);
	(void)close(b->dir);
	(void)snprintf(cmd, sizeof(cmd), "rm -rf '%s'", b->root);
	assert_int_equal(system(cmd), 0);
	free(b);
	return 0;
}

static void
touch(int dir, const char *name)
{
	int fd = openat(dir, name, O_WRONLY | O_CREAT | O_EXCL, 0600);

	if (fd < 0)
		fail_msg("create %s", name);
	(void)close(fd);
}

static bool
exists(const struct box *b, const char *path)
{
	return faccessat(b->dir, path, F_OK, 0) == 0;
}

static void
test_where_they_go(void **state)
{
	struct box *b = *state;

	touch(b->dirs.sub[0], "1.a");
	touch(b->dirs.sub[1], "2.b:2,S");
	touch(b->dirs.sub[0], "3.c");
	touch(b->dirs.sub[1], "4.d");
	assert_int_equal(mover_move(&b->dirs, 0, "1.a", true), 0);
	assert_int_equal(mover_move(&b->dirs, 1, "2.b:2,S", true), 0);
	assert_int_equal(mover_move(&b->dirs, 0, "3.c", false), 0);
	assert_int_equal(mover_move(&b->dirs, 1, "4.d", false), 0);
	assert_true(exists(b, ".Processed/cur/1.a:2,"));
	assert_true(exists(b, ".Processed/cur/2.b:2,S"));
	assert_true(exists(b, ".Rejected/cur/3.c:2,"));
	assert_true(exists(b, ".Rejected/cur/4.d"));
	assert_false(exists(b, "new/1.a"));
	assert_false(exists(b, "cur/4.d"));
}

static void
test_delete(void **state)
{
	struct box *b = *state;
	struct mover_dirs d = b->dirs;

	d.done_fd = -1;
	touch(b->dirs.sub[0], "1.a");
	touch(b->dirs.sub[0], "2.b");
	assert_int_equal(mover_move(&d, 0, "1.a", true), 0);
	assert_int_equal(mover_move(&d, 0, "2.b", false), 0);
	assert_false(exists(b, "new/1.a"));
	assert_false(exists(b, ".Processed/cur/1.a:2,"));
	assert_true(exists(b, ".Rejected/cur/2.b:2,"));
}

static void
test_many(void **state)
{
	struct box *b = *state;
	char name[NAME_BYTES + 1];
	char path[NAME_BYTES + 32];
	size_t i;

	for (i = 0; i < MANY; i++) {
		(void)snprintf(name, sizeof(name), "%0*zu", NAME_BYTES, i);
		touch(b->dirs.sub[0], name);
	}
	for (i = 0; i < MANY; i++) {
		(void)snprintf(name, sizeof(name), "%0*zu", NAME_BYTES, i);
		assert_int_equal(mover_move(&b->dirs, 0, name, i % 3 != 0),
		    0);
	}
	for (i = 0; i < MANY; i++) {
		(void)snprintf(path, sizeof(path), "%s/cur/%0*zu:2,",
		    i % 3 != 0 ? ".Processed" : ".Rejected", NAME_BYTES, i);
		if (!exists(b, path))
			fail_msg("%s not there", path);
	}
}

/* A message gone before its move: reported, the rest still done. */
static void
test_failure(void **state)
{
	struct box *b = *state;

	touch(b->dirs.sub[0], "1.a");
	touch(b->dirs.sub[0], "3.c");
	assert_int_equal(mover_move(&b->dirs, 0, "1.a", true), 0);
	assert_int_equal(mover_move(&b->dirs, 0, "2.gone", true), -1);
	assert_int_equal(mover_move(&b->dirs, 0, "3.c", true), 0);
	assert_true(exists(b, ".Processed/cur/1.a:2,"));
	assert_true(exists(b, ".Processed/cur/3.c:2,"));
}

/* Names no directory lists are refused, and nothing is moved. */
static void
test_bad_names(void **state)
{
	struct box *b = *state;
	char longname[NAME_MAX + 2];

	memset(longname, 'x', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	touch(b->dirs.sub[0], "1.a");
	assert_int_equal(mover_move(&b->dirs, 0, "", true), -1);
	assert_int_equal(mover_move(&b->dirs, 0, longname, true), -1);
	assert_int_equal(mover_move(&b->dirs, 2, "1.a", true), -1);
	assert_int_equal(mover_move(&b->dirs, 0, "../1.a", true), -1);
	assert_int_equal(mover_move(&b->dirs, 0, "1.a", true), 0);
	assert_true(exists(b, ".Processed/cur/1.a:2,"));
}

/*
 * A message that was a symbolic link when it was moved (swapped in after
 * it was read): the link itself moves or goes, never what it names.
 */
static void
test_symlink(void **state)
{
	struct box *b = *state;
	struct mover_dirs d = b->dirs;
	struct stat st;

	touch(b->dir, "target");
	assert_int_equal(symlinkat("../target", b->dirs.sub[0], "1.l"), 0);
	assert_int_equal(symlinkat("../target", b->dirs.sub[1], "2.l"), 0);
	assert_int_equal(mover_move(&b->dirs, 0, "1.l", true), 0);
	assert_int_equal(fstatat(b->dir, ".Processed/cur/1.l:2,", &st,
	    AT_SYMLINK_NOFOLLOW), 0);
	assert_true(S_ISLNK(st.st_mode));
	d.done_fd = -1;
	assert_int_equal(mover_move(&d, 1, "2.l", true), 0);
	assert_false(exists(b, "cur/2.l"));
	assert_int_equal(fstatat(b->dir, "target", &st, AT_SYMLINK_NOFOLLOW),
	    0);
	assert_true(S_ISREG(st.st_mode));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_where_they_go, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_delete, setup, teardown),
		cmocka_unit_test_setup_teardown(test_many, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failure, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_bad_names, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_symlink, setup, teardown),
	};

	log_init("test_mover", 0, LOG_LEVEL_ERR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
