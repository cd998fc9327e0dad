/*
 * test_input.c - stage 1: a message read whole, at most max bytes kept.
 *
 * Table-driven over sizes around the limit and around the first guess at
 * a pipe's size, each read from a regular file (sized by fstat, ended by
 * a short read) and from a pipe (grown as it fills, drained past the
 * limit so the writer is never cut off).  The bytes kept are compared
 * with what was written, and the terminating NUL is checked.
 */
#include "autoconf.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "buf.h"
#include "input.h"
#include "status.h"
#include "testutil.h"

#define KIB 1024

struct input_case {
	const char *name;
	size_t size;		/* bytes written */
	size_t max;		/* bytes kept at most */
};

static const struct input_case cases[] = {
	{ "empty", 0, 100 },
	{ "one byte", 1, 100 },
	{ "a typical report", 4123, 32 * KIB * KIB },
	{ "exactly max", 100, 100 },
	{ "max + 1", 101, 100 },
	{ "far past max", 300 * KIB, 100 },
	{ "max of 0", 10, 0 },
	{ "a pipe's first guess, exactly", 64 * KIB, 1024 * KIB },
	{ "a pipe's first guess + 1", 64 * KIB + 1, 1024 * KIB },
	{ "many chunks", 1000 * KIB + 7, 1024 * KIB },
	{ "many chunks past max", 1100 * KIB, 1024 * KIB },
};

/* The byte at offset i of every input: no run repeats at a power of 2. */
static unsigned char
pattern(size_t i)
{
	return (unsigned char)(i % 251);
}

static void
check_read(const struct input_case *c, struct buf *b, bool truncated)
{
	size_t keep = c->size < c->max ? c->size : c->max;
	struct ti_bytes v;
	size_t i;

	assert_non_null(b);
	v = buf_bytes(b);
	if (v.len != keep)
		fail_msg("%s: kept %zu bytes, want %zu", c->name, v.len, keep);
	for (i = 0; i < keep; i++) {
		if (v.data[i] != pattern(i))
			fail_msg("%s: byte %zu differs", c->name, i);
	}
	/* Nothing kept may mean nothing allocated (see buf.h). */
	if (v.data != NULL)
		assert_int_equal(v.data[v.len], '\0');
	else
		assert_int_equal(keep, 0);
	if (truncated != (c->size > c->max))
		fail_msg("%s: truncated %d", c->name, truncated);
}

/* Write size bytes of the pattern to fd; false on a short write. */
static bool
write_pattern(int fd, size_t size)
{
	unsigned char chunk[8192];
	size_t off = 0;
	size_t n, i;
	ssize_t w;

	while (off < size) {
		n = size - off < sizeof(chunk) ? size - off : sizeof(chunk);
		for (i = 0; i < n; i++)
			chunk[i] = pattern(off + i);
		w = write(fd, chunk, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return false;
		off += (size_t)w;
	}
	return true;
}

static void
test_regular_file(void **state)
{
	const struct input_case *c = *state;
	char path[] = "/tmp/tlsrpt-test-input.XXXXXX";
	struct buf *b = NULL;
	struct ti_err err;
	bool truncated = true;
	int fd;

	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_true(write_pattern(fd, c->size));
	(void)close(fd);
	if (input_read_file(path, c->max, &b, &truncated, &err) != 0)
		fail_msg("%s: %s", c->name, err.msg);
	(void)unlink(path);
	check_read(c, b, truncated);
	buf_free(&b);
	assert_null(b);
}

static void
test_pipe(void **state)
{
	const struct input_case *c = *state;
	struct buf *b = NULL;
	struct ti_err err;
	bool truncated = true;
	int status = 0;
	int fds[2];
	pid_t pid;

	assert_int_equal(pipe(fds), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		/* The writer: exits 0 only when every byte went out. */
		(void)close(fds[0]);
		_exit(write_pattern(fds[1], c->size) ? 0 : 1);
	}
	(void)close(fds[1]);
	if (input_read_fd(fds[0], c->max, TI_KIND_TEMP, false, &b, &truncated,
	    &err) != 0)
		fail_msg("%s: %s", c->name, err.msg);
	(void)close(fds[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		fail_msg("%s: the writer was cut off", c->name);
	check_read(c, b, truncated);
	buf_free(&b);
}

/* A read error is the caller's kind, with the reason. */
static void
test_read_error(void **state)
{
	struct buf *b = NULL;
	struct ti_err err;
	bool truncated;
	int fd;

	(void)state;
	fd = open("/", O_RDONLY | O_DIRECTORY);
	assert_true(fd >= 0);
	assert_int_equal(input_read_fd(fd, 100, TI_KIND_TEMP, false, &b,
	    &truncated, &err), -1);
	(void)close(fd);
	assert_null(b);
	assert_int_equal(err.kind, TI_KIND_TEMP);
	assert_non_null(strstr(err.msg, "read error: "));
}

static void
test_not_regular(void **state)
{
	struct buf *b = NULL;
	struct ti_err err;
	bool truncated;

	(void)state;
	assert_int_equal(input_read_file("/dev/null", 100, &b, &truncated,
	    &err), -1);
	assert_null(b);
	assert_int_equal(err.kind, TI_KIND_IO);
	assert_string_equal(err.msg, "not a regular file");
	assert_int_equal(input_read_file("/nonexistent/x", 100, &b,
	    &truncated, &err), -1);
	assert_non_null(strstr(err.msg, "cannot open: "));
}

/* regular_only refuses a pipe (a FIFO in a Maildir) without reading it. */
static void
test_regular_only(void **state)
{
	struct buf *b = NULL;
	struct ti_err err;
	bool truncated;
	char c = 0;
	int fds[2];

	(void)state;
	assert_int_equal(pipe(fds), 0);
	assert_int_equal(write(fds[1], "x", 1), 1);
	assert_int_equal(input_read_fd(fds[0], 100, TI_KIND_IO, true, &b,
	    &truncated, &err), -1);
	assert_null(b);
	assert_int_equal(err.kind, TI_KIND_IO);
	assert_string_equal(err.msg, "not a regular file");
	assert_int_equal(read(fds[0], &c, 1), 1);
	assert_int_equal(c, 'x');
	(void)close(fds[0]);
	(void)close(fds[1]);
}

/*
 * A sparse file of a terabyte: its size says it is over the limit, and
 * nothing past the limit is read (reading the rest to find out would
 * take hours and every sweep would stop there).
 */
static void
test_sparse_file(void **state)
{
	char path[] = "/tmp/tlsrpt-sparse.XXXXXX";
	struct buf *b = NULL;
	struct ti_err err;
	bool truncated = false;
	off_t read_to;
	int fd;

	(void)state;
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "From: x\n", 8), 8);
	assert_int_equal(ftruncate(fd, (off_t)1 << 40), 0);
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	assert_int_equal(input_read_fd(fd, 1 << 20, TI_KIND_IO, true, &b,
	    &truncated, &err), 0);
	read_to = lseek(fd, 0, SEEK_CUR);
	(void)close(fd);
	(void)unlink(path);
	assert_true(truncated);
	assert_int_equal(buf_len(b), 1 << 20);
	assert_memory_equal(buf_bytes(b).data, "From: x\n", 8);
	/* Not a byte past the limit was read. */
	assert_int_equal(read_to, 1 << 20);
	buf_free(&b);
}

int
main(void)
{
	static char names[2 * NELEM(cases)][64];
	struct CMUnitTest t[2 * NELEM(cases) + 4];
	size_t n = 0, i;

	/* A reader that stops early must not kill the writer's test. */
	(void)signal(SIGPIPE, SIG_IGN);
	for (i = 0; i < NELEM(cases); i++) {
		(void)snprintf(names[2 * i], sizeof(names[0]), "file: %s",
		    cases[i].name);
		(void)snprintf(names[2 * i + 1], sizeof(names[0]),
		    "pipe: %s", cases[i].name);
		test_add(t, &n, names[2 * i], test_regular_file, NULL, NULL,
		    &cases[i]);
		test_add(t, &n, names[2 * i + 1], test_pipe, NULL, NULL,
		    &cases[i]);
	}
	test_add(t, &n, "read error", test_read_error, NULL, NULL, NULL);
	test_add(t, &n, "not a regular file", test_not_regular, NULL, NULL,
	    NULL);
	test_add(t, &n, "regular files only", test_regular_only, NULL, NULL,
	    NULL);
	test_add(t, &n, "a sparse file of a terabyte", test_sparse_file, NULL,
	    NULL, NULL);
	return _cmocka_run_group_tests("input", t, n, NULL, NULL);
}
