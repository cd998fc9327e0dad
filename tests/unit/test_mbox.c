/*
 * test_mbox.c - splitting mboxes: From_ lines, mboxrd unescaping, the
 * separating blank line, CRLF, truncation at the size limit.
 *
 * Every case is read from memory a few bytes at a time, so that each
 * line is cut between two reads at every place, and then from a file.
 * A file that shrinks, grows or is rewritten while it is read is an IO
 * error that comes before any message it cuts.
 */
#include "autoconf.h"

#include <fcntl.h>
#include <stdbool.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "testutil.h"

#include "mbox.h"

struct mbox_case {
	const char *name;
	const char *in;
	size_t max;
	size_t want_n;
	const char *want[4];
	bool want_truncated[4];
};

static const struct mbox_case cases[] = {
	{ "empty file", "", 1024, 0, { NULL }, { false } },
	{ "one message", "From a@b Mon Jan  1 00:00:00 2024\nSubject: x\n\n"
	    "body\n", 1024, 1, { "Subject: x\n\nbody\n" }, { false } },
	{ "two messages, blank line between",
	    "From a Mon Jan  1 00:00:00 2024\nS: 1\n\nb1\n\n"
	    "From b Mon Jan  1 00:00:00 2024\nS: 2\n\nb2\n", 1024, 2,
	    { "S: 1\n\nb1\n", "S: 2\n\nb2\n" }, { false, false } },
	{ "no blank line before From_",
	    "From a x\nS: 1\n\nb1\nFrom b x\nS: 2\n\nb2\n", 1024, 2,
	    { "S: 1\n\nb1\n", "S: 2\n\nb2\n" }, { false, false } },
	{ "mboxrd unescaping", "From a x\nS: 1\n\n>From here\n>>From there\n"
	    ">Fromage\nFrom b x\n\n", 1024, 2,
	    { "S: 1\n\nFrom here\n>From there\n>Fromage\n", "\n" },
	    { false, false } },
	{ "a long run of '>'", "From a x\n>>>>>>>>>>>>>>>From y\n"
	    ">>>>>>>>>>>>>>>Frog\n>>>>>>>>", 1024, 1,
	    { ">>>>>>>>>>>>>>From y\n>>>>>>>>>>>>>>>Frog\n>>>>>>>>" },
	    { false } },
	{ "'>' runs cut at the limit", "From a x\n>>>>>>From y\n"
	    "From b x\n>>>>>>>From y\n", 6, 2, { ">>>>>F", ">>>>>>" },
	    { true, true } },
	{ "CRLF", "From a x\r\nS: 1\r\n\r\nb1\r\n\r\nFrom b x\r\nS: 2\r\n",
	    1024, 2, { "S: 1\r\n\r\nb1\r\n", "S: 2\r\n" }, { false, false } },
	{ "blank lines: only the last goes", "From a x\nS: 1\n\n\n\r\n\n"
	    "From b x\n\r\n\nFrom c x\n\n", 1024, 3,
	    { "S: 1\n\n\n\r\n", "\r\n", "\n" }, { false, false, false } },
	{ "a blank line at the end of the file goes",
	    "From a x\nS: 1\n\r\n", 1024, 1, { "S: 1\n" }, { false } },
	{ "From not at line start stays", "From a x\nS: 1\n\nsay From b\n",
	    1024, 1, { "S: 1\n\nsay From b\n" }, { false } },
	{ "From without its space", "From a x\nFrom\nFromage\nFrom", 1024,
	    1, { "From\nFromage\nFrom" }, { false } },
	{ "junk before the first From_ is skipped",
	    "junk\n>From x\n\nFrom a x\nS: 1\n", 1024, 1, { "S: 1\n" },
	    { false } },
	{ "only junk", "junk\nmore junk", 1024, 0, { NULL }, { false } },
	{ "empty messages", "From a x\nFrom b x\n\nFrom c x", 1024, 3,
	    { "", "\n", "" }, { false, false, false } },
	{ "no final newline", "From a x\nS: 1\n\nb", 1024, 1,
	    { "S: 1\n\nb" }, { false } },
	{ "message at the limit", "From a x\n12345\n", 6, 1, { "12345\n" },
	    { false } },
	{ "message at the limit, then its separator",
	    "From a x\n12345\n\nFrom b x\n", 6, 2, { "12345\n", "" },
	    { false, false } },
	{ "message over the limit", "From a x\n123456\nFrom b x\nok\n", 6, 2,
	    { "123456", "ok\n" }, { true, false } },
	{ "a limit of 0", "From a x\nS\nFrom b x\n", 0, 2, { "", "" },
	    { true, false } },
};

/* Chunk sizes: every cut of a line between two reads, then a file's. */
static const size_t chunks[] = { 1, 2, 3, 4, 5, 6, 7, 11, 64, 0 };

/* Read every message of mb and compare with c; what says how it was
 * read. */
static void
check_case(struct mbox *mb, const struct mbox_case *c, const char *what)
{
	struct buf *msg = NULL;
	struct ti_err err;
	bool truncated;
	size_t k, n = 0;
	int rc;

	assert_int_equal(mbox_count(mb, &n, &err), 0);
	if (n != c->want_n)
		fail_msg("%s, %s: count got %zu want %zu", c->name, what, n,
		    c->want_n);
	for (k = 0;; k++) {
		rc = mbox_next(mb, c->max, &msg, &truncated, &err);
		assert_true(rc >= 0);
		if (rc == 0)
			break;
		if (k >= c->want_n)
			fail_msg("%s, %s: too many messages", c->name, what);
		if (buf_len(msg) != strlen(c->want[k]) || (buf_len(msg) > 0 &&
		    memcmp(buf_bytes(msg).data, c->want[k], buf_len(msg)) != 0))
			fail_msg("%s, %s: message %zu got '%.*s' want '%s'",
			    c->name, what, k, (int)buf_len(msg),
			    buf_str(msg),
			    c->want[k]);
		if (truncated != c->want_truncated[k])
			fail_msg("%s, %s: message %zu truncated %d", c->name,
			    what, k, truncated);
		buf_free(&msg);
	}
	if (k != c->want_n)
		fail_msg("%s, %s: got %zu messages want %zu", c->name, what, k,
		    c->want_n);
	assert_int_equal(mbox_next(mb, c->max, &msg, &truncated, &err), 0);
}

/* A throwaway directory for the files of a test, and its case. */
struct dir {
	char path[64];
	char file[96];
	const void *tcase;
};

static int
setup(void **state)
{
	struct dir *d = calloc(1, sizeof(*d));

	assert_non_null(d);
	d->tcase = *state;
	(void)snprintf(d->path, sizeof(d->path), "/tmp/tlsrpt-mbox.XXXXXX");
	assert_non_null(mkdtemp(d->path));
	(void)snprintf(d->file, sizeof(d->file), "%s/mbox", d->path);
	*state = d;
	return 0;
}

static int
teardown(void **state)
{
	struct dir *d = *state;
	char cmd[128];

	(void)snprintf(cmd, sizeof(cmd), "rm -rf '%s'", d->path);
	assert_int_equal(system(cmd), 0);
	free(d);
	return 0;
}

/* Write len bytes to path; returns a descriptor open for writing. */
static int
write_file(const char *path, const void *data, size_t len)
{
	int fd;

	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	if (len > 0)
		assert_int_equal(write(fd, data, len), (ssize_t)len);
	return fd;
}

static void
test_cases(void **state)
{
	struct dir *d = *state;
	struct mbox *mb = NULL;
	struct ti_bytes in;
	struct ti_err err;
	char what[32];
	size_t i, j;

	for (i = 0; i < NELEM(cases); i++) {
		in = test_bytes(cases[i].in);
		for (j = 0; j < NELEM(chunks); j++) {
			(void)snprintf(what, sizeof(what), "chunk %zu",
			    chunks[j]);
			mb = mbox_open_mem(&in, chunks[j], &err);
			assert_non_null(mb);
			check_case(mb, &cases[i], what);
			mbox_close(&mb);
			assert_null(mb);
		}
		(void)close(write_file(d->file, in.data, in.len));
		mb = mbox_open(d->file, &err);
		assert_non_null(mb);
		check_case(mb, &cases[i], "from a file");
		mbox_close(&mb);
	}
}

/* An mbox of many messages, a few chunks long; the i-th message. */
#define MANY 6000

static void
many_message(size_t i, char *out, size_t size)
{
	(void)snprintf(out, size, "Subject: %zu\n\nbody of message %zu\n", i,
	    i);
}

static struct buf *
many_mbox(void)
{
	struct buf *b = NULL;
	struct ti_err err;
	char msg[128];
	size_t i;

	b = buf_new((size_t)1 << 24, &err);
	assert_non_null(b);
	for (i = 0; i < MANY; i++) {
		many_message(i, msg, sizeof(msg));
		assert_int_equal(buf_append(b, "From x y\n", 9, &err), 0);
		assert_int_equal(buf_append(b, msg, strlen(msg), &err), 0);
		assert_int_equal(buf_append(b, "\n", 1, &err), 0);
	}
	return b;
}

/* Read messages until the end or an error; each must be whole.  Returns
 * mbox_next's last result, *n_r the messages read. */
static int
read_whole(struct mbox *mb, size_t *n_r, struct ti_err *err)
{
	struct buf *msg = NULL;
	char want[128];
	bool truncated;
	int rc;

	for (;;) {
		rc = mbox_next(mb, 1024, &msg, &truncated, err);
		if (rc != 1)
			return rc;
		many_message(*n_r, want, sizeof(want));
		assert_false(truncated);
		if (buf_len(msg) != strlen(want) ||
		    memcmp(buf_bytes(msg).data, want, buf_len(msg)) != 0)
			fail_msg("message %zu got '%.*s' want '%s'", *n_r,
			    (int)buf_len(msg), buf_str(msg), want);
		buf_free(&msg);
		(*n_r)++;
	}
}

/* The messages that start in the first len bytes of b. */
static size_t
starts(const struct buf *b, size_t len)
{
	size_t i, n = 0;

	for (i = 0; i + 5 <= len; i++) {
		if ((i == 0 || buf_bytes(b).data[i - 1] == '\n') &&
		    memcmp(buf_bytes(b).data + i, "From ", 5) == 0)
			n++;
	}
	return n;
}

enum change {
	CHANGE_NONE,
	CHANGE_SHRINK,		/* cut to half its size */
	CHANGE_GROW,		/* a message appended */
	CHANGE_REWRITE,		/* same size, written again */
};

struct change_case {
	const char *name;
	enum change change;
	bool before_count;	/* changed before counting, or after */
};

static const struct change_case changes[] = {
	{ "unchanged", CHANGE_NONE, false },
	{ "shrinks while read", CHANGE_SHRINK, false },
	{ "grows while read", CHANGE_GROW, false },
	{ "rewritten while read", CHANGE_REWRITE, false },
	{ "shrinks before the count", CHANGE_SHRINK, true },
	{ "grows before the count", CHANGE_GROW, true },
};

static void
change_file(int fd, const struct buf *b, enum change change)
{
	struct timespec ts[2] = { { 1, 0 }, { 1, 0 } };

	switch (change) {
	case CHANGE_NONE:
		break;
	case CHANGE_SHRINK:
		assert_int_equal(ftruncate(fd, (off_t)(buf_len(b) / 2)), 0);
		break;
	case CHANGE_GROW:
		assert_int_equal(write(fd, "From z\nS: 1\n", 12), 12);
		break;
	case CHANGE_REWRITE:
		assert_int_equal(pwrite(fd, buf_bytes(b).data, buf_len(b), 0),
		    (ssize_t)buf_len(b));
		assert_int_equal(futimens(fd, ts), 0);
		break;
	}
}

/*
 * The file changes after the first message was read (or before it is
 * counted): the messages read are whole, and the change is an IO error,
 * where a shrunk file ends and at the latest at its end.
 */
static void
test_changes(void **state)
{
	struct dir *d = *state;
	const struct change_case *c = d->tcase;
	struct buf *b = NULL;
	struct buf *msg = NULL;
	struct mbox *mb = NULL;
	struct ti_err err;
	bool truncated;
	size_t n = 0;
	int fd, rc;

	b = many_mbox();
	fd = write_file(d->file, buf_bytes(b).data, buf_len(b));
	mb = mbox_open(d->file, &err);
	assert_non_null(mb);
	if (c->before_count) {
		change_file(fd, b, c->change);
		assert_int_equal(mbox_count(mb, &n, &err), -1);
		assert_int_equal(err.kind, TI_KIND_IO);
		assert_non_null(strstr(err.msg, "changed while"));
		goto out;
	}
	assert_int_equal(mbox_count(mb, &n, &err), 0);
	assert_int_equal(n, MANY);
	assert_int_equal(mbox_next(mb, 1024, &msg, &truncated, &err), 1);
	buf_free(&msg);
	n = 1;
	change_file(fd, b, c->change);
	rc = read_whole(mb, &n, &err);
	if (c->change == CHANGE_NONE) {
		assert_int_equal(rc, 0);
		assert_int_equal(n, MANY);
		goto out;
	}
	assert_int_equal(rc, -1);
	assert_int_equal(err.kind, TI_KIND_IO);
	assert_non_null(strstr(err.msg, "changed while"));
	assert_true(n < (c->change == CHANGE_SHRINK ? starts(b, buf_len(b) / 2) :
	    MANY));
out:
	mbox_close(&mb);
	(void)close(fd);
	buf_free(&b);
}

static void
test_open_errors(void **state)
{
	struct dir *d = *state;
	struct ti_err err;

	assert_null(mbox_open("/nonexistent/mbox", &err));
	assert_int_equal(err.kind, TI_KIND_IO);
	assert_null(mbox_open("/", &err));
	assert_int_equal(err.kind, TI_KIND_IO);
	/* A FIFO is refused without waiting for a writer. */
	assert_int_equal(mkfifo(d->file, 0600), 0);
	assert_null(mbox_open(d->file, &err));
	assert_int_equal(err.kind, TI_KIND_IO);
	mbox_close(NULL);
}

int
main(void)
{
	struct CMUnitTest t[NELEM(changes) + 2];
	size_t n = 0;
	size_t i;

	test_add(t, &n, "cases", test_cases, setup, teardown, NULL);
	test_add(t, &n, "open errors", test_open_errors, setup, teardown,
	    NULL);
	for (i = 0; i < NELEM(changes); i++)
		test_add(t, &n, changes[i].name, test_changes, setup, teardown,
		    &changes[i]);
	return _cmocka_run_group_tests("test_mbox", t, n, NULL, NULL);
}
