/*
 * test_mimescan.c - stage 2, the bounds checked before GMime parses.
 *
 * Table-driven: small messages written out, whose counts are checked, and
 * generated ones that put each bound at N and N+1.  The limits are set low
 * (4 parts, depth 2) so that the derived bounds stay small: 32 boundary
 * lines, 2000 fields a block, 2128 fields in all.
 */
#include "autoconf.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "buf.h"
#include "mimescan.h"
#include "status.h"
#include "testutil.h"
#include "ti_limits.h"

#define TEST_PARTS 4
#define TEST_DEPTH 2
#define TEST_BOUNDARIES (MIMESCAN_BOUNDARIES_PER_PART * TEST_PARTS)
#define TEST_FIELDS (MIMESCAN_BLOCK_FIELDS + \
	MIMESCAN_FIELDS_PER_PART * TEST_PARTS)

#define MP "Content-Type: multipart/mixed; boundary=\"b\"\n\n"

/* How a generated input is made, n being its size in units. */
enum gen {
	GEN_NONE = 0,		/* the literal input */
	GEN_DASHES,		/* n lines "--b" each with an empty block */
	GEN_TOP_FIELDS,		/* n fields in the top block */
	GEN_PART_FIELDS,	/* n fields in the block after "--b" */
	GEN_ALL_FIELDS,		/* n fields in the top block and parts */
	GEN_BLOCK_BYTES,	/* a top block of n bytes */
	GEN_NESTED,		/* n message/rfc822 blocks in a row */
};

struct scan_case {
	const char *name;
	const char *input;
	enum gen gen;
	size_t n;
	const char *want;	/* the error, or NULL: accepted */
	/* Checked when want_blocks > 0. */
	size_t want_boundaries;
	size_t want_blocks;
	size_t want_fields;
	size_t want_depth;
};

static const struct scan_case scan_cases[] = {
	{ "empty message", "", GEN_NONE, 0, NULL, 0, 1, 0, 0 },
	{ "headers only", "From: a\nTo: b\n", GEN_NONE, 0, NULL, 0, 1, 2, 0 },
	{ "continuation is no field", "A: 1\n\t2\n 3\nB: 4\n\nbody\n",
	    GEN_NONE, 0, NULL, 0, 1, 2, 0 },
	{ "body lines are no fields", "A: 1\n\nb: 2\nc: 3\n", GEN_NONE, 0,
	    NULL, 0, 1, 1, 0 },
	{ "CRLF empty line ends the block", "A: 1\r\n\r\nb: 2\r\n",
	    GEN_NONE, 0, NULL, 0, 1, 1, 0 },
	{ "two parts", MP "--b\nContent-Type: text/plain\n\nx: y\n"
	    "--b\nA: 1\nB: 2\n\nbody\n--b--\n", GEN_NONE, 0, NULL,
	    3, 4, 4, 0 },
	{ "any -- line counts", "A: 1\n\n-- \nsig: x\n\n----\n",
	    GEN_NONE, 0, NULL, 2, 3, 2, 0 },
	{ "-- in a header block", "A: 1\n--x\nB: 2\n\n", GEN_NONE, 0,
	    NULL, 1, 2, 2, 0 },
	{ "message/rfc822 headers", "Content-Type: message/rfc822\n\n"
	    "From: a\n\nbody\n", GEN_NONE, 0, NULL, 0, 2, 2, 1 },
	{ "message named on a continuation", "Content-Type:\n"
	    " MESSAGE/rfc822\n\nFrom: a\n\n", GEN_NONE, 0, NULL, 0, 2, 2, 1 },
	{ "message outside Content-Type", "Subject: message/rfc822\n\n"
	    "From: a\n\n", GEN_NONE, 0, NULL, 0, 1, 1, 0 },
	{ "digest parts are messages", "Content-Type: multipart/digest;"
	    " boundary=b\n\n--b\n\nFrom: a\n\nbody\n--b--\n", GEN_NONE, 0,
	    NULL, 2, 4, 2, 1 },
	{ "nested message resets at --", "Content-Type: message/rfc822\n\n"
	    "Content-Type: multipart/mixed; boundary=b\n\n--b\n"
	    "Content-Type: message/rfc822\n\nA: 1\n\n", GEN_NONE, 0, NULL,
	    1, 4, 4, 1 },
	{ "boundary lines at N", NULL, GEN_DASHES, TEST_BOUNDARIES, NULL,
	    TEST_BOUNDARIES, TEST_BOUNDARIES + 1, 1, 0 },
	{ "boundary lines at N+1", NULL, GEN_DASHES, TEST_BOUNDARIES + 1,
	    "more than 32 MIME boundary lines", 0, 0, 0, 0 },
	{ "top fields at N", NULL, GEN_TOP_FIELDS, MIMESCAN_BLOCK_FIELDS,
	    NULL, 0, 1, MIMESCAN_BLOCK_FIELDS, 0 },
	{ "top fields at N+1", NULL, GEN_TOP_FIELDS,
	    MIMESCAN_BLOCK_FIELDS + 1,
	    "more than 2000 header fields in one header block", 0, 0, 0, 0 },
	{ "part fields at N", NULL, GEN_PART_FIELDS, MIMESCAN_BLOCK_FIELDS,
	    NULL, 1, 2, MIMESCAN_BLOCK_FIELDS + 1, 0 },
	{ "part fields at N+1", NULL, GEN_PART_FIELDS,
	    MIMESCAN_BLOCK_FIELDS + 1,
	    "more than 2000 header fields in one header block", 0, 0, 0, 0 },
	{ "all fields at N", NULL, GEN_ALL_FIELDS, TEST_FIELDS, NULL,
	    2, 3, TEST_FIELDS, 0 },
	{ "all fields at N+1", NULL, GEN_ALL_FIELDS, TEST_FIELDS + 1,
	    "more than 2128 header fields", 0, 0, 0, 0 },
	{ "block bytes at N", NULL, GEN_BLOCK_BYTES, MIMESCAN_BLOCK_BYTES,
	    NULL, 0, 1, 1, 0 },
	{ "block bytes at N+1", NULL, GEN_BLOCK_BYTES,
	    MIMESCAN_BLOCK_BYTES + 1,
	    "header block larger than 2097152 bytes", 0, 0, 0, 0 },
	{ "nested messages at N", NULL, GEN_NESTED, TEST_DEPTH, NULL,
	    0, TEST_DEPTH + 1, TEST_DEPTH + 1, TEST_DEPTH },
	{ "nested messages at N+1", NULL, GEN_NESTED, TEST_DEPTH + 1,
	    "MIME nesting deeper than 2", 0, 0, 0, 0 },
};

struct state {
	struct buf *b;
	const void *tcase;
};

static int
setup(void **ts)
{
	struct state *st = NULL;

	st = calloc(1, sizeof(*st));
	if (st == NULL)
		return -1;
	st->tcase = *ts;
	*ts = st;
	return 0;
}

static int
teardown(void **ts)
{
	struct state *st = *ts;

	buf_free(&st->b);
	free(st);
	return 0;
}

static void
put(struct buf *b, const char *s)
{
	struct ti_err err;

	assert_int_equal(buf_append(b, s, strlen(s), &err), 0);
}

static void
put_n(struct buf *b, const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		put(b, s);
}

static void
generate(struct buf *b, enum gen gen, size_t n)
{
	size_t left;
	size_t k;

	switch (gen) {
	case GEN_NONE:
		break;
	case GEN_DASHES:
		put(b, MP);
		put_n(b, "--b\n\n", n);
		break;
	case GEN_TOP_FIELDS:
		put_n(b, "a:b\n", n);
		put(b, "\nbody\n");
		break;
	case GEN_PART_FIELDS:
		put(b, MP "--b\n");
		put_n(b, "a:b\n", n);
		put(b, "\nbody\n");
		break;
	case GEN_ALL_FIELDS:
		put(b, MP);
		for (left = n - 1; left > 0; left -= k) {
			k = left < MIMESCAN_BLOCK_FIELDS ? left :
			    MIMESCAN_BLOCK_FIELDS;
			put(b, "--b\n");
			put_n(b, "a:b\n", k);
			put(b, "\n");
		}
		break;
	case GEN_BLOCK_BYTES:
		put(b, "X: ");
		put_n(b, "x", n - 4);
		put(b, "\n\nbody\n");
		break;
	case GEN_NESTED:
		put_n(b, "Content-Type: message/rfc822\n\n", n);
		put(b, "body\n");
		break;
	}
}

static void
test_scan(void **ts)
{
	struct state *st = *ts;
	const struct scan_case *c = st->tcase;
	struct mimescan_counts got;
	struct ti_limits lim;
	struct ti_bytes in;
	struct ti_err err;
	int rc;

	ti_limits_default(&lim);
	lim.mime_parts = TEST_PARTS;
	lim.mime_depth = TEST_DEPTH;
	ti_err_clear(&err);
	if (c->input != NULL) {
		in = test_bytes(c->input);
	} else {
		st->b = buf_new((size_t)16 * 1024 * 1024, &err);
		assert_non_null(st->b);
		generate(st->b, c->gen, c->n);
		in = buf_bytes(st->b);
	}
	rc = mimescan_check(&in, &lim, &got, &err);
	if (c->want != NULL) {
		assert_int_equal(rc, -1);
		assert_int_equal(err.kind, TI_KIND_DATA);
		assert_string_equal(err.msg, c->want);
		return;
	}
	assert_int_equal(rc, 0);
	if (c->want_blocks == 0)
		return;
	assert_int_equal(got.boundaries, c->want_boundaries);
	assert_int_equal(got.blocks, c->want_blocks);
	assert_int_equal(got.fields, c->want_fields);
	assert_int_equal(got.depth, c->want_depth);
}

static void
test_bad_arguments(void **ts)
{
	struct ti_limits lim;
	struct ti_bytes in = { NULL, 1 };
	struct ti_err err;

	(void)ts;
	ti_limits_default(&lim);
	assert_int_equal(mimescan_check(&in, &lim, NULL, &err), -1);
	assert_int_equal(err.kind, TI_KIND_INTERNAL);
	in.len = 0;
	assert_int_equal(mimescan_check(&in, NULL, NULL, &err), -1);
	assert_int_equal(err.kind, TI_KIND_INTERNAL);
	assert_int_equal(mimescan_check(&in, &lim, NULL, &err), 0);
}

/* Every fixture is within the default bounds, as mime.c needs. */
static void
test_fixtures(void **ts)
{
	static const char *const names[] = {
		"mime-depth-8.eml",
		"mime-depth-9.eml",
		"mime-forwarded-rfc822.eml",
		"mime-parts-64.eml",
		"mime-parts-65.eml",
	};
	struct state *st = *ts;
	struct ti_limits lim;
	struct ti_bytes in;
	struct ti_err err;
	size_t i;

	ti_limits_default(&lim);
	for (i = 0; i < NELEM(names); i++) {
		buf_free(&st->b);
		st->b = test_read_data(names[i]);
		in = buf_bytes(st->b);
		assert_int_equal(mimescan_check(&in, &lim, NULL, &err), 0);
	}
}

int
main(void)
{
	struct CMUnitTest tests[NELEM(scan_cases) + 2];
	size_t n = 0;
	size_t i;

	for (i = 0; i < NELEM(scan_cases); i++)
		test_add(tests, &n, scan_cases[i].name, test_scan, setup,
		    teardown, &scan_cases[i]);
	test_add(tests, &n, "bad arguments", test_bad_arguments, setup,
	    teardown, NULL);
	test_add(tests, &n, "fixtures within the bounds", test_fixtures,
	    setup, teardown, NULL);
	return _cmocka_run_group_tests("mimescan", tests, n, NULL, NULL);
}
