/*
 * test_buf.c - the bounded byte buffer every stage collects input in,
 * and the arena a report's strings and arrays live in.
 *
 * Table-driven: each case is a maximum and a script of appends and
 * reserves, each step with the outcome it must have.  The limit is tried
 * at N and N+1, alone and after earlier appends; the contents and the
 * terminating NUL are checked after every step, through the accessors
 * only.
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
#include "status.h"
#include "testutil.h"

#define MAX_STEPS 6

/*
 * Under AddressSanitizer a huge allocation must fail with NULL, as it
 * does without it, rather than stop the program.
 */
const char *__asan_default_options(void);

const char *
__asan_default_options(void)
{
	return "allocator_may_return_null=1";
}

enum op {
	OP_END = 0,
	OP_APPEND,		/* append n bytes of a pattern */
	OP_APPEND_NULL,		/* append n bytes from a NULL pointer */
	OP_RESERVE,
};

struct step {
	enum op op;
	size_t n;
	enum ti_kind want_kind;	/* TI_KIND_NONE: must succeed */
	const char *want_msg;
};

struct buf_case {
	const char *name;
	size_t max;
	struct step steps[MAX_STEPS];
};

#define OK(op, n) { op, n, TI_KIND_NONE, NULL }
#define FULL(op, n, msg) { op, n, TI_KIND_DATA, msg }

static const struct buf_case cases[] = {
	{ "append max bytes", 8, { OK(OP_APPEND, 8) } },
	{ "append max + 1 bytes", 8,
	    { FULL(OP_APPEND, 9, "more than 8 bytes") } },
	{ "append up to max in pieces", 8,
	    { OK(OP_APPEND, 5), OK(OP_APPEND, 3),
	    FULL(OP_APPEND, 1, "more than 8 bytes"), OK(OP_APPEND, 0) } },
	{ "append one past max after a piece", 8,
	    { OK(OP_APPEND, 5), FULL(OP_APPEND, 4, "more than 8 bytes"),
	    OK(OP_APPEND, 3) } },
	{ "reserve max bytes", 8, { OK(OP_RESERVE, 8), OK(OP_APPEND, 8) } },
	{ "reserve max + 1 bytes", 8,
	    { FULL(OP_RESERVE, 9, "more than 8 bytes"), OK(OP_APPEND, 8) } },
	{ "reserve the rest after a piece", 8,
	    { OK(OP_APPEND, 5), OK(OP_RESERVE, 3),
	    FULL(OP_RESERVE, 4, "more than 8 bytes") } },
	{ "reserve SIZE_MAX", 8,
	    { FULL(OP_RESERVE, SIZE_MAX, "more than 8 bytes") } },
	{ "reserve SIZE_MAX after a piece", 8,
	    { OK(OP_APPEND, 1),
	    FULL(OP_RESERVE, SIZE_MAX, "more than 8 bytes") } },
	{ "max 0: nothing fits, empty appends do", 0,
	    { OK(OP_APPEND, 0), FULL(OP_APPEND, 1, "more than 0 bytes"),
	    OK(OP_RESERVE, 0), FULL(OP_RESERVE, 1, "more than 0 bytes") } },
	{ "empty append from NULL", 8, { OK(OP_APPEND_NULL, 0) } },
	{ "growth past the first 4096 bytes", 100000,
	    { OK(OP_APPEND, 4095), OK(OP_APPEND, 1), OK(OP_APPEND, 1),
	    OK(OP_APPEND, 50000), OK(OP_APPEND, 45903),
	    FULL(OP_APPEND, 1, "more than 100000 bytes") } },
	{ "past the first allocation up to max", 5000,
	    { OK(OP_APPEND, 4096), OK(OP_APPEND, 904),
	    FULL(OP_APPEND, 1, "more than 5000 bytes") } },
	{ "out of memory is TEMP", SIZE_MAX - 1,
	    { OK(OP_APPEND, 3), { OP_RESERVE, SIZE_MAX - 4, TI_KIND_TEMP,
	    "out of memory" }, OK(OP_APPEND, 2) } },
};

struct state {
	struct buf *b;
	unsigned char *model;	/* what b must hold */
	size_t model_len;
	const void *tcase;
};

static int
setup(void **ts)
{
	struct state *st = NULL;
	const void *tcase = *ts;

	st = calloc(1, sizeof(*st));
	if (st == NULL)
		return -1;
	st->tcase = tcase;
	*ts = st;
	return 0;
}

static int
teardown(void **ts)
{
	struct state *st = *ts;

	buf_free(&st->b);
	free(st->model);
	free(st);
	return 0;
}

/* The pattern appended: byte i of the whole buffer is (i * 7 + 1). */
static unsigned char
pattern(size_t i)
{
	return (unsigned char)(i * 7 + 1);
}

static void
check_contents(const struct state *st)
{
	struct ti_bytes v = buf_bytes(st->b);
	const unsigned char *data = buf_data(st->b);
	size_t i;

	assert_int_equal(buf_len(st->b), st->model_len);
	assert_int_equal(v.len, st->model_len);
	assert_ptr_equal(v.data, data);
	assert_true(buf_len(st->b) <= buf_max(st->b));
	if (data == NULL) {
		/* Nothing was ever added or reserved. */
		assert_int_equal(buf_len(st->b), 0);
		assert_string_equal(buf_str(st->b), "");
		return;
	}
	assert_ptr_equal(buf_str(st->b), data);
	assert_int_equal(data[buf_len(st->b)], '\0');
	for (i = 0; i < st->model_len; i++) {
		if (data[i] != st->model[i])
			fail_msg("byte %zu: got 0x%02x, want 0x%02x", i,
			    data[i], st->model[i]);
	}
}

static void
test_script(void **ts)
{
	struct state *st = *ts;
	const struct buf_case *c = st->tcase;
	const struct step *s = NULL;
	struct ti_err err;
	unsigned char *chunk = NULL;
	size_t i;
	size_t k;
	int rc;

	ti_err_clear(&err);
	st->b = buf_new(c->max, &err);
	assert_non_null(st->b);
	assert_int_equal(buf_max(st->b), c->max);
	assert_int_equal(buf_len(st->b), 0);
	st->model = malloc(c->max < 200000 ? c->max + 1 : 200000);
	assert_non_null(st->model);
	check_contents(st);
	for (i = 0; i < MAX_STEPS && c->steps[i].op != OP_END; i++) {
		s = &c->steps[i];
		ti_err_clear(&err);
		switch (s->op) {
		case OP_APPEND:
			chunk = malloc(s->n + 1);
			assert_non_null(chunk);
			for (k = 0; k < s->n; k++)
				chunk[k] = pattern(buf_len(st->b) + k);
			rc = buf_append(st->b, chunk, s->n, &err);
			if (rc == 0) {
				memcpy(st->model + st->model_len, chunk, s->n);
				st->model_len += s->n;
			}
			free(chunk);
			chunk = NULL;
			break;
		case OP_APPEND_NULL:
			rc = buf_append(st->b, NULL, s->n, &err);
			break;
		case OP_RESERVE:
			rc = buf_reserve(st->b, s->n, &err);
			if (rc == 0) {
				/* The room asked for, at least. */
				(void)buf_spare(st->b, &k);
				assert_true(k >= s->n);
			}
			break;
		case OP_END:
		default:
			fail();
			return;
		}
		if (s->want_kind == TI_KIND_NONE) {
			if (rc != 0)
				fail_msg("step %zu: failed: %s", i, err.msg);
			assert_int_equal(err.kind, TI_KIND_NONE);
		} else {
			if (rc == 0)
				fail_msg("step %zu: succeeded, want \"%s\"", i,
				    s->want_msg);
			assert_int_equal(rc, -1);
			assert_int_equal(err.kind, s->want_kind);
			assert_string_equal(err.msg, s->want_msg);
		}
		/* A refused step leaves the contents as they were. */
		check_contents(st);
	}
}

/* Bytes are copied as they are: NULs inside, 8-bit values. */
static void
test_binary(void **ts)
{
	struct state *st = *ts;
	static const unsigned char bin[] = { 'a', 0, 0xff, 0, 'b' };
	struct ti_err err;

	st->b = buf_new(sizeof(bin), &err);
	assert_non_null(st->b);
	assert_int_equal(buf_append(st->b, bin, sizeof(bin), &err), 0);
	assert_int_equal(buf_len(st->b), sizeof(bin));
	assert_memory_equal(buf_data(st->b), bin, sizeof(bin));
	assert_int_equal(buf_data(st->b)[sizeof(bin)], '\0');
}

/* A string appended in pieces reads back as a C string. */
static void
test_string(void **ts)
{
	struct state *st = *ts;
	struct ti_err err;

	st->b = buf_new(11, &err);
	assert_non_null(st->b);
	assert_int_equal(buf_append(st->b, "hello", 5, &err), 0);
	assert_string_equal(buf_str(st->b), "hello");
	assert_int_equal(buf_append(st->b, " world", 6, &err), 0);
	assert_string_equal(buf_str(st->b), "hello world");
	assert_int_equal(buf_append(st->b, "!", 1, &err), -1);
	assert_string_equal(buf_str(st->b), "hello world");
}

static void
test_buf_free(void **ts)
{
	struct state *st = *ts;
	struct buf *b = NULL;
	struct ti_err err;

	buf_free(NULL);
	buf_free(&b);
	assert_null(b);
	b = buf_new(4, &err);
	assert_non_null(b);
	buf_free(&b);
	assert_null(b);
	/* With contents, and twice through the same pointer. */
	b = buf_new(4, &err);
	assert_non_null(b);
	assert_int_equal(buf_append(b, "abcd", 4, &err), 0);
	buf_free(&b);
	assert_null(b);
	buf_free(&b);
	assert_null(b);
	(void)st;
}

/*
 * Reading into the room reserved: buf_spare() offers at most max - len
 * bytes, buf_commit() counts what was written and terminates it.
 */
static void
test_spare_commit(void **ts)
{
	struct state *st = *ts;
	struct ti_err err;
	unsigned char *room = NULL;
	size_t n;

	st->b = buf_new(6, &err);
	assert_non_null(st->b);
	assert_null(buf_spare(st->b, &n));
	assert_int_equal(n, 0);
	buf_commit(st->b, 0);
	assert_int_equal(buf_len(st->b), 0);
	assert_int_equal(buf_reserve(st->b, 4, &err), 0);
	room = buf_spare(st->b, &n);
	assert_non_null(room);
	/* Within the limit, whatever was allocated. */
	assert_int_equal(n, 6);
	memcpy(room, "abcd", 4);
	buf_commit(st->b, 4);
	assert_string_equal(buf_str(st->b), "abcd");
	room = buf_spare(st->b, &n);
	assert_int_equal(n, 2);
	memcpy(room, "ef", 2);
	buf_commit(st->b, 2);
	assert_string_equal(buf_str(st->b), "abcdef");
	assert_null(buf_spare(st->b, &n));
	assert_int_equal(n, 0);
}

static void
test_truncate_reset(void **ts)
{
	struct state *st = *ts;
	struct ti_err err;

	st->b = buf_new(100, &err);
	assert_non_null(st->b);
	buf_truncate(st->b, 0);
	assert_int_equal(buf_append(st->b, "hello world", 11, &err), 0);
	buf_truncate(st->b, 11);
	assert_string_equal(buf_str(st->b), "hello world");
	buf_truncate(st->b, 5);
	assert_int_equal(buf_len(st->b), 5);
	assert_string_equal(buf_str(st->b), "hello");
	/* Emptied, its memory kept. */
	buf_reset(st->b, SIZE_MAX);
	assert_int_equal(buf_len(st->b), 0);
	assert_non_null(buf_data(st->b));
	assert_string_equal(buf_str(st->b), "");
	assert_int_equal(buf_append(st->b, "x", 1, &err), 0);
	assert_string_equal(buf_str(st->b), "x");
	/* Emptied, its memory given back. */
	buf_reset(st->b, 0);
	assert_int_equal(buf_len(st->b), 0);
	assert_null(buf_data(st->b));
	assert_string_equal(buf_str(st->b), "");
	assert_int_equal(buf_append(st->b, "yz", 2, &err), 0);
	assert_string_equal(buf_str(st->b), "yz");
}

static void
test_take_str(void **ts)
{
	struct state *st = *ts;
	struct ti_err err;
	char *s = NULL;

	st->b = buf_new(100, &err);
	assert_non_null(st->b);
	/* Nothing held yet: an empty string all the same. */
	s = buf_take_str(st->b, &err);
	assert_non_null(s);
	assert_string_equal(s, "");
	free(s);
	assert_int_equal(buf_append(st->b, "abc", 3, &err), 0);
	s = buf_take_str(st->b, &err);
	assert_non_null(s);
	assert_string_equal(s, "abc");
	free(s);
	/* The buffer is left empty and works on. */
	assert_int_equal(buf_len(st->b), 0);
	assert_null(buf_data(st->b));
	assert_int_equal(buf_append(st->b, "de", 2, &err), 0);
	assert_string_equal(buf_str(st->b), "de");
}

/*
 * The arena: objects aligned for any type, zeroed arrays, copied
 * strings, requests larger than a block, overflow refused, reset and
 * free.  Run under ASan and valgrind, this also checks that every block
 * is released.
 */
static void
test_arena(void **ts)
{
	struct buf_arena *a = NULL;
	struct ti_err err;
	unsigned char *big = NULL;
	long double *ld = NULL;
	char *s = NULL;
	int *arr = NULL;
	size_t i;

	(void)ts;
	buf_arena_free(NULL);
	buf_arena_free(&a);
	a = buf_arena_new(0, &err);
	assert_non_null(a);
	for (i = 0; i < 1000; i++) {
		s = buf_arena_strndup(a, "abcdef", 3);
		assert_non_null(s);
		assert_string_equal(s, "abc");
		ld = buf_arena_alloc(a, sizeof(*ld));
		assert_non_null(ld);
		assert_int_equal((uintptr_t)ld % _Alignof(max_align_t), 0);
		*ld = (long double)i;
	}
	arr = buf_arena_array(a, 100, sizeof(*arr));
	assert_non_null(arr);
	for (i = 0; i < 100; i++)
		assert_int_equal(arr[i], 0);
	/* Larger than any block: one of its own. */
	big = buf_arena_alloc(a, 3 * 1024 * 1024);
	assert_non_null(big);
	memset(big, 'x', 3 * 1024 * 1024);
	assert_null(buf_arena_array(a, SIZE_MAX / 2, 4));
	assert_null(buf_arena_strndup(a, "", SIZE_MAX));
	buf_arena_reset(a);
	s = buf_arena_strndup(a, "after reset", 11);
	assert_non_null(s);
	assert_string_equal(s, "after reset");
	buf_arena_free(&a);
	assert_null(a);
	/* Reset of an arena that holds nothing yet. */
	a = buf_arena_new(SIZE_MAX, &err);
	assert_non_null(a);
	buf_arena_reset(a);
	assert_non_null(buf_arena_alloc(a, 0));
	buf_arena_free(&a);
}

static void
test_bytes_view(void **ts)
{
	struct ti_bytes v;

	(void)ts;
	v = buf_bytes(NULL);
	assert_null(v.data);
	assert_int_equal(v.len, 0);
}

static void
add_test(struct CMUnitTest *t, size_t *n, const char *name,
    CMUnitTestFunction f, const void *tcase)
{
	test_add(t, n, name, f, setup, teardown, tcase);
}

int
main(void)
{
	struct CMUnitTest tests[NELEM(cases) + 10];
	size_t n = 0;
	size_t i;

	for (i = 0; i < NELEM(cases); i++)
		add_test(tests, &n, cases[i].name, test_script, &cases[i]);
	add_test(tests, &n, "binary contents", test_binary, NULL);
	add_test(tests, &n, "string contents", test_string, NULL);
	add_test(tests, &n, "buf_free", test_buf_free, NULL);
	add_test(tests, &n, "buf_spare and buf_commit", test_spare_commit,
	    NULL);
	add_test(tests, &n, "buf_truncate and buf_reset", test_truncate_reset,
	    NULL);
	add_test(tests, &n, "buf_take_str", test_take_str, NULL);
	add_test(tests, &n, "arena", test_arena, NULL);
	add_test(tests, &n, "buf_bytes(NULL)", test_bytes_view, NULL);
	return _cmocka_run_group_tests("buf", tests, n, NULL, NULL);
}
