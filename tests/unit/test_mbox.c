/*
 * test_mbox.c - splitting mboxes: From_ lines, mboxrd unescaping, the
 * separating blank line, CRLF, truncation at the size limit.
 */
#include "autoconf.h"

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
	{ "CRLF", "From a x\r\nS: 1\r\n\r\nb1\r\n\r\nFrom b x\r\nS: 2\r\n",
	    1024, 2, { "S: 1\r\n\r\nb1\r\n", "S: 2\r\n" }, { false, false } },
	{ "From not at line start stays", "From a x\nS: 1\n\nsay From b\n",
	    1024, 1, { "S: 1\n\nsay From b\n" }, { false } },
	{ "junk before the first From_ is skipped", "junk\nFrom a x\nS: 1\n",
	    1024, 1, { "S: 1\n" }, { false } },
	{ "no final newline", "From a x\nS: 1\n\nb", 1024, 1,
	    { "S: 1\n\nb" }, { false } },
	{ "message at the limit", "From a x\n12345\n", 6, 1, { "12345\n" },
	    { false } },
	{ "message over the limit", "From a x\n123456\nFrom b x\nok\n", 6, 2,
	    { "123456", "ok\n" }, { true, false } },
};

static void
test_cases(void **state)
{
	struct mbox *mb = NULL;
	struct buf *msg = NULL;
	struct ti_bytes in;
	struct ti_err err;
	bool truncated;
	size_t i, k;
	int rc;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		in = test_bytes(cases[i].in);
		mb = mbox_open_mem(&in, &err);
		assert_non_null(mb);
		if (mbox_count(mb) != cases[i].want_n)
			fail_msg("%s: count got %zu want %zu", cases[i].name,
			    mbox_count(mb), cases[i].want_n);
		for (k = 0;; k++) {
			rc = mbox_next(mb, cases[i].max, &msg, &truncated,
			    &err);
			assert_true(rc >= 0);
			if (rc == 0)
				break;
			if (k >= cases[i].want_n)
				fail_msg("%s: too many messages", cases[i].name);
			if (buf_len(msg) != strlen(cases[i].want[k]) ||
			    memcmp(buf_bytes(msg).data, cases[i].want[k], buf_len(msg)) != 0)
				fail_msg("%s: message %zu got '%.*s' want '%s'",
				    cases[i].name, k, (int)buf_len(msg),
				    buf_str(msg),
				    cases[i].want[k]);
			if (truncated != cases[i].want_truncated[k])
				fail_msg("%s: message %zu truncated %d",
				    cases[i].name, k, truncated);
			buf_free(&msg);
		}
		if (k != cases[i].want_n)
			fail_msg("%s: got %zu messages want %zu", cases[i].name,
			    k, cases[i].want_n);
		mbox_close(&mb);
		assert_null(mb);
	}
}

static void
test_open_errors(void **state)
{
	struct ti_err err;

	(void)state;
	assert_null(mbox_open("/nonexistent/mbox", &err));
	assert_int_equal(err.kind, TI_KIND_IO);
	assert_null(mbox_open("/", &err));
	assert_int_equal(err.kind, TI_KIND_IO);
	mbox_close(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cases),
		cmocka_unit_test(test_open_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
