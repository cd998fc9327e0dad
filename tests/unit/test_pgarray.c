/*
 * test_pgarray.c - arrays in PostgreSQL's binary format, byte by byte.
 *
 * The expected bytes follow array_send() in PostgreSQL's arrayfuncs.c
 * and the element types' send functions (int4send, int8send, boolsend,
 * textsend, inet_send, timestamptz_send); that the server takes them is
 * shown by every integration test that stores a report.
 */
#include "autoconf.h"

#include "testutil.h"

#include "pgarray.h"

static struct buf *
new_array(void)
{
	struct ti_err err;
	struct buf *b = buf_new(1024, &err);

	assert_non_null(b);
	return b;
}

/* got must be the want_len bytes of want. */
static void
assert_bytes(const struct buf *b, const unsigned char *want, size_t want_len)
{
	struct ti_bytes got = buf_bytes(b);

	assert_int_equal(got.len, want_len);
	assert_memory_equal(got.data, want, want_len);
}

static void
test_empty(void **state)
{
	static const unsigned char want[] = {
		0, 0, 0, 0,	/* no dimension */
		0, 0, 0, 0,	/* no NULL */
		0, 0, 0, 23,	/* int4 */
	};
	struct buf *b = new_array();
	struct ti_err err;

	(void)state;
	assert_int_equal(pgarray_close(b, PGARRAY_INT4, &err), 0);
	assert_bytes(b, want, sizeof(want));
	buf_free(&b);
}

static void
test_integers(void **state)
{
	static const unsigned char want[] = {
		0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 20,
		0, 0, 0, 2, 0, 0, 0, 1,	/* two elements from index 1 */
		0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0x01, 0x02,
		0, 0, 0, 8, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	};
	struct buf *b = new_array();
	struct ti_err err;

	(void)state;
	assert_int_equal(pgarray_add_int8(b, 258, &err), 0);
	assert_int_equal(pgarray_add_int8(b, -1, &err), 0);
	assert_int_equal(pgarray_close(b, PGARRAY_INT8, &err), 0);
	assert_bytes(b, want, sizeof(want));
	buf_free(&b);
}

static void
test_text_and_null(void **state)
{
	static const unsigned char want[] = {
		0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 25,	/* holds a NULL */
		0, 0, 0, 3, 0, 0, 0, 1,
		0, 0, 0, 2, 'm', 'x',
		0xff, 0xff, 0xff, 0xff,			/* NULL */
		0, 0, 0, 0,				/* "" */
	};
	struct buf *b = new_array();
	struct ti_err err;

	(void)state;
	assert_int_equal(pgarray_add_text(b, "mx", &err), 0);
	assert_int_equal(pgarray_add_text(b, NULL, &err), 0);
	assert_int_equal(pgarray_add_text(b, "", &err), 0);
	assert_int_equal(pgarray_close(b, PGARRAY_TEXT, &err), 0);
	assert_bytes(b, want, sizeof(want));
	buf_free(&b);
}

static void
test_inet(void **state)
{
	static const unsigned char want[] = {
		0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0x03, 0x65,	/* 869 */
		0, 0, 0, 3, 0, 0, 0, 1,
		0, 0, 0, 8, 2, 32, 0, 4, 192, 0, 2, 1,
		0, 0, 0, 20, 3, 128, 0, 16, 0x20, 0x01, 0x0d, 0xb8,
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1,
		0xff, 0xff, 0xff, 0xff,		/* not an address: NULL */
	};
	struct buf *b = new_array();
	struct ti_err err;

	(void)state;
	assert_int_equal(pgarray_add_inet(b, "192.0.2.1", &err), 0);
	assert_int_equal(pgarray_add_inet(b, "2001:db8::1", &err), 0);
	assert_int_equal(pgarray_add_inet(b, "mx.example.com", &err), 0);
	assert_int_equal(pgarray_close(b, PGARRAY_INET, &err), 0);
	assert_bytes(b, want, sizeof(want));
	buf_free(&b);
}

static void
test_time_and_bool(void **state)
{
	/* 2000-01-01T00:00:01Z is one second after PostgreSQL's epoch. */
	static const unsigned char want_time[] = {
		0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0x04, 0xa0,	/* 1184 */
		0, 0, 0, 1, 0, 0, 0, 1,
		0, 0, 0, 8, 0, 0, 0, 0, 0, 0x0f, 0x42, 0x40,
	};
	static const unsigned char want_bool[] = {
		0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 16,
		0, 0, 0, 2, 0, 0, 0, 1,
		0, 0, 0, 1, 1, 0, 0, 0, 1, 0,
	};
	struct buf *b = new_array();
	struct ti_err err;

	(void)state;
	assert_int_equal(pgarray_add_time(b, INT64_C(946684801000000), &err),
	    0);
	assert_int_equal(pgarray_close(b, PGARRAY_TIMESTAMPTZ, &err), 0);
	assert_bytes(b, want_time, sizeof(want_time));
	buf_truncate(b, 0);
	assert_int_equal(pgarray_add_bool(b, true, &err), 0);
	assert_int_equal(pgarray_add_bool(b, false, &err), 0);
	assert_int_equal(pgarray_close(b, PGARRAY_BOOL, &err), 0);
	assert_bytes(b, want_bool, sizeof(want_bool));
	buf_free(&b);
}

/* An array cut back to an earlier length (a group giving up a report)
 * closes to the elements before the cut. */
static void
test_cut_back(void **state)
{
	static const unsigned char want[] = {
		0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 23,
		0, 0, 0, 1, 0, 0, 0, 1,
		0, 0, 0, 4, 0, 0, 0, 7,
	};
	struct buf *b = new_array();
	struct ti_err err;
	size_t len;

	(void)state;
	assert_int_equal(pgarray_add_int4(b, 7, &err), 0);
	len = buf_bytes(b).len;
	assert_int_equal(pgarray_add_int4(b, 8, &err), 0);
	assert_int_equal(pgarray_add_null(b, &err), 0);
	buf_truncate(b, len);
	assert_int_equal(pgarray_close(b, PGARRAY_INT4, &err), 0);
	assert_bytes(b, want, sizeof(want));
	buf_free(&b);
}

/* An element past the buffer's maximum fails with DATA and leaves the
 * array as it was. */
static void
test_full(void **state)
{
	char big[64];
	struct ti_err err;
	struct buf *b = buf_new(40, &err);
	size_t len;

	(void)state;
	assert_non_null(b);
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(pgarray_add_text(b, "ok", &err), 0);
	len = buf_bytes(b).len;
	assert_int_equal(pgarray_add_text(b, big, &err), -1);
	assert_int_equal(err.kind, TI_KIND_DATA);
	assert_int_equal(buf_bytes(b).len, len);
	buf_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_integers),
		cmocka_unit_test(test_text_and_null),
		cmocka_unit_test(test_inet),
		cmocka_unit_test(test_time_and_bool),
		cmocka_unit_test(test_cut_back),
		cmocka_unit_test(test_full),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
