/*
 * testutil.h - helpers shared by the cmocka unit tests: reading fixtures
 * from tests/data (through $TI_TEST_DATA, set by make check).
 */
#ifndef TI_TESTUTIL_H
#define TI_TESTUTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "buf.h"

/*
 * Path of a fixture; the returned string is static.  "shared:NAME" names
 * a file of the shared corpus kept out of the tree for its licence, found
 * through $TI_SHARED_CORPUS.
 */
static inline const char *
test_data_path(const char *name)
{
	static char path[4096];
	const char *dir = getenv("TI_TEST_DATA");

	if (strncmp(name, "shared:", 7) == 0) {
		dir = getenv("TI_SHARED_CORPUS");
		if (dir == NULL)
			dir = "../shared/corpus";
		name += 7;
	}
	if (dir == NULL)
		dir = "tests/data";
	if (snprintf(path, sizeof(path), "%s/%s", dir, name) >=
	    (int)sizeof(path))
		fail_msg("fixture path too long: %s", name);
	return path;
}

/*
 * True when an optional fixture is absent, so the caller skips; under
 * CI=true an absent file fails the test instead: CI never passes by
 * skipping.
 */
static inline int
test_file_absent(const char *name)
{
	const char *path = name[0] == '/' ? name : test_data_path(name);
	const char *ci = getenv("CI");

	if (access(path, R_OK) == 0)
		return 0;
	if (ci != NULL && strcmp(ci, "true") == 0)
		fail_msg("%s is missing (required under CI)", path);
	return 1;
}

/* Read a whole fixture into an owned buffer; fails the test if absent. */
static inline struct buf *
test_read_file(const char *path)
{
	struct buf *b = NULL;
	struct ti_err err;
	FILE *fp = NULL;
	char chunk[65536];
	size_t n;

	fp = fopen(path, "rb");
	if (fp == NULL)
		fail_msg("cannot open fixture %s", path);
	b = buf_new((size_t)1 << 30, &err);
	assert_non_null(b);
	while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0)
		assert_int_equal(buf_append(b, chunk, n, &err), 0);
	fclose(fp);
	return b;
}

static inline struct buf *
test_read_data(const char *name)
{
	return test_read_file(test_data_path(name));
}

#ifndef NELEM
#define NELEM(a) (sizeof(a) / sizeof((a)[0]))
#endif

/* Append a test with its fixtures and case to a table being built. */
static inline void
test_add(struct CMUnitTest *t, size_t *n, const char *name,
    CMUnitTestFunction f, CMFixtureFunction setup, CMFixtureFunction teardown,
    const void *tcase)
{
	t[*n].name = name;
	t[*n].test_func = f;
	t[*n].setup_func = setup;
	t[*n].teardown_func = teardown;
	t[*n].initial_state = (void *)(uintptr_t)tcase;
	(*n)++;
}

/* Borrowed view of a C string. */
static inline struct ti_bytes
test_bytes(const char *s)
{
	struct ti_bytes v;

	v.data = (const unsigned char *)s;
	v.len = strlen(s);
	return v;
}

#endif
