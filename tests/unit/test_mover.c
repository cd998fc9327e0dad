/*
 * test_mover.c - a sweep's file moves, done by the mover process.
 *
 * A throwaway Maildir with its done and .Rejected folders: messages from
 * new/ gain ":2,", those from cur/ keep their flags, rejected ones go to
 * .Rejected, and without a done folder handled ones are deleted.  Enough
 * names to fill the parent's buffer many times over are all moved, in
 * order.  A move that fails (the message is gone) is reported by
 * mover_free() and leaves the others done.
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

/* Enough names of NAME_BYTES to fill the 8 KiB buffer about 60 times. */
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
	struct mover *m = NULL;
	struct ti_err err;

	touch(b->dirs.sub[0], "1.a");
	touch(b->dirs.sub[1], "2.b:2,S");
	touch(b->dirs.sub[0], "3.c");
	touch(b->dirs.sub[1], "4.d");
	m = mover_new(&b->dirs, &err);
	assert_non_null(m);
	mover_move(m, 0, "1.a", true);
	mover_move(m, 1, "2.b:2,S", true);
	mover_move(m, 0, "3.c", false);
	mover_move(m, 1, "4.d", false);
	assert_int_equal(mover_free(&m), 0);
	assert_null(m);
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
	struct mover *m = NULL;
	struct ti_err err;

	d.done_fd = -1;
	touch(b->dirs.sub[0], "1.a");
	touch(b->dirs.sub[0], "2.b");
	m = mover_new(&d, &err);
	assert_non_null(m);
	mover_move(m, 0, "1.a", true);
	mover_move(m, 0, "2.b", false);
	assert_int_equal(mover_free(&m), 0);
	assert_false(exists(b, "new/1.a"));
	assert_false(exists(b, ".Processed/cur/1.a:2,"));
	assert_true(exists(b, ".Rejected/cur/2.b:2,"));
}

static void
test_many(void **state)
{
	struct box *b = *state;
	struct mover *m = NULL;
	struct ti_err err;
	char name[NAME_BYTES + 1];
	char path[NAME_BYTES + 32];
	size_t i;

	for (i = 0; i < MANY; i++) {
		(void)snprintf(name, sizeof(name), "%0*zu", NAME_BYTES, i);
		touch(b->dirs.sub[0], name);
	}
	m = mover_new(&b->dirs, &err);
	assert_non_null(m);
	for (i = 0; i < MANY; i++) {
		(void)snprintf(name, sizeof(name), "%0*zu", NAME_BYTES, i);
		mover_move(m, 0, name, i % 3 != 0);
	}
	assert_int_equal(mover_free(&m), 0);
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
	struct mover *m = NULL;
	struct ti_err err;

	touch(b->dirs.sub[0], "1.a");
	touch(b->dirs.sub[0], "3.c");
	m = mover_new(&b->dirs, &err);
	assert_non_null(m);
	mover_move(m, 0, "1.a", true);
	mover_move(m, 0, "2.gone", true);
	mover_move(m, 0, "3.c", true);
	assert_int_equal(mover_free(&m), -1);
	assert_true(exists(b, ".Processed/cur/1.a:2,"));
	assert_true(exists(b, ".Processed/cur/3.c:2,"));
}

/* Names no directory lists are refused before they reach the child. */
static void
test_bad_names(void **state)
{
	struct box *b = *state;
	struct mover *m = NULL;
	struct ti_err err;
	char longname[NAME_MAX + 2];

	memset(longname, 'x', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	touch(b->dirs.sub[0], "1.a");
	m = mover_new(&b->dirs, &err);
	assert_non_null(m);
	mover_move(m, 0, "", true);
	mover_move(m, 0, longname, true);
	mover_move(m, 2, "1.a", true);
	mover_move(m, 0, "../1.a", true);
	mover_move(m, 0, "1.a", true);
	assert_int_equal(mover_free(&m), -1);
	assert_true(exists(b, ".Processed/cur/1.a:2,"));
	assert_int_equal(mover_free(&m), 0);	/* NULL-safe */
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
	};

	log_init("test_mover", 0, LOG_LEVEL_ERR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
