/*
 * test_hdr.c - the RFC 5322 header reader: where a block ends, what a
 * field is, and each limit at N and N+1.
 *
 * Table-driven: each case is an input and the fields read from it,
 * written as "name=value" joined by '|' ("-=" for a line that is no
 * field, "+cut" after a value cut short), then how reading ended
 * ("END@offset" or "LIMIT@offset").
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
#include "hdr.h"
#include "status.h"
#include "testutil.h"

/* A byte string with its length: NUL may be part of it. */
#define B(s) s, sizeof(s) - 1

#define BIG ((size_t)1 << 20)

struct hdr_case {
	const char *name;
	const char *input;
	size_t len;
	struct hdr_limits lim;	/* zero: BIG */
	const char *want;
	size_t want_len;
};

#define NOLIM { 0, 0, 0 }

static const struct hdr_case cases[] = {
	{ "LF", B("A: 1\nB: 2\n\nbody"), NOLIM, B("A= 1|B= 2|END@10") },
	{ "CR LF", B("A: 1\r\nB: 2\r\n\r\nbody"), NOLIM,
	    B("A= 1|B= 2|END@12") },
	{ "LF then CR LF empty line", B("A: 1\n\r\nbody"), NOLIM,
	    B("A= 1|END@5") },
	{ "folded", B("A: 1\n 2\n\tthree\nB:x\n\n"), NOLIM,
	    B("A= 1\n 2\n\tthree|B=x|END@19") },
	{ "folded CR LF", B("A: 1\r\n 2\r\n\r\n"), NOLIM,
	    B("A= 1\r\n 2|END@10") },
	{ "blank continuation line", B("A: 1\n \nB: 2\n\n"), NOLIM,
	    B("A= 1\n |B= 2|END@12") },
	{ "blanks before the colon", B("Subject \t: s\n\n"), NOLIM,
	    B("Subject= s|END@13") },
	{ "empty value", B("A:\n\n"), NOLIM, B("A=|END@3") },
	{ "colon in the value", B("A: b: c\n\n"), NOLIM, B("A= b: c|END@8") },
	{ "line without a colon", B("A: 1\nnot a field\nB: 2\n\n"), NOLIM,
	    B("A= 1|-=not a field|B= 2|END@22") },
	{ "blank inside a name", B("Bad Name: x\nA: 1\n\n"), NOLIM,
	    B("-=Bad Name: x|A= 1|END@17") },
	{ "empty name", B(": x\n\n"), NOLIM, B("-=: x|END@4") },
	{ "continuation first", B(" x\n y\nA: 1\n\n"), NOLIM,
	    B("-= x\n y|A= 1|END@11") },
	{ "mbox From_ line", B("From a@b Mon Jan 1\nA: 1\n\n"), NOLIM,
	    B("-=From a@b Mon Jan 1|A= 1|END@24") },
	{ "NUL in a value", B("A: a\0b\n\n"), NOLIM, B("A= a\0b|END@7") },
	{ "NUL in a name", B("A\0: x\n\n"), NOLIM, B("-=A\0: x|END@6") },
	{ "8-bit byte in a name", B("\xc3\xa9: x\n\n"), NOLIM,
	    B("-=\xc3\xa9: x|END@6") },
	{ "8-bit bytes in a value", B("A: caf\xc3\xa9\xff\n\n"), NOLIM,
	    B("A= caf\xc3\xa9\xff|END@10") },
	{ "CR alone is data", B("A: 1\rB: 2\n\n"), NOLIM,
	    B("A= 1\rB: 2|END@10") },
	{ "no end", B("A: 1\nB: 2"), NOLIM, B("A= 1|B= 2|END@9") },
	{ "no end after a line end", B("A: 1\n"), NOLIM, B("A= 1|END@5") },
	{ "no end after CR", B("A: 1\r"), NOLIM, B("A= 1|END@5") },
	{ "empty input", B(""), NOLIM, B("END@0") },
	{ "empty line first", B("\nA: 1\n"), NOLIM, B("END@0") },
	{ "CR LF first", B("\r\nA: 1\n"), NOLIM, B("END@0") },
	{ "CR alone first", B("\rA: 1\n\n"), NOLIM, B("-=\rA: 1|END@6") },
	/* Limits at N and N + 1. */
	{ "block_bytes at N", B("A: 1\nB: 2\n\n"), { 10, BIG, BIG },
	    B("A= 1|B= 2|END@10") },
	{ "block_bytes one short", B("A: 1\nB: 2\n\n"), { 9, BIG, BIG },
	    B("A= 1|LIMIT@5") },
	{ "block_bytes without an end", B("A: 1\nB: 2"), { 9, BIG, BIG },
	    B("A= 1|B= 2|END@9") },
	{ "block_bytes 0", B("A: 1\n\n"), { 0, BIG, BIG }, B("LIMIT@0") },
	{ "fields at N", B("A: 1\nB: 2\n\n"), { BIG, 2, BIG },
	    B("A= 1|B= 2|END@10") },
	{ "fields one short", B("A: 1\nB: 2\n\n"), { BIG, 1, BIG },
	    B("A= 1|LIMIT@5") },
	{ "nameless lines count as fields", B("x\nA: 1\n\n"), { BIG, 1, BIG },
	    B("-=x|LIMIT@2") },
	{ "value_bytes at N", B("A: 123\nB: 4\n\n"), { BIG, BIG, 4 },
	    B("A= 123|B= 4|END@12") },
	{ "value_bytes one short", B("A: 123\nB: 4\n\n"), { BIG, BIG, 3 },
	    B("A= 12+cut|B= 4|END@12") },
	{ "value_bytes cuts a folded value", B("A: 1\n 2\n\n"), { BIG, BIG, 3 },
	    B("A= 1\n+cut|END@8") },
};

struct text_case {
	const char *name;
	const char *input;
	size_t len;
	size_t fields;		/* lim.fields */
	size_t max;
	const char *want;	/* NULL: no text */
};

static const struct text_case text_cases[] = {
	{ "text: LF", B("A: 1\nB: 2\n\nbody"), BIG, BIG, "A: 1\nB: 2\n" },
	{ "text: CR LF becomes LF", B("A: 1\r\n 2\r\n\r\nbody"), BIG, BIG,
	    "A: 1\n 2\n" },
	{ "text: lines that are no field", B("x\nA: 1\n\n"), BIG, BIG,
	    "x\nA: 1\n" },
	{ "text: no end", B("A: 1"), BIG, BIG, "A: 1" },
	{ "text: empty line first", B("\nA: 1\n"), BIG, BIG, NULL },
	{ "text: empty input", B(""), BIG, BIG, NULL },
	{ "text: NUL and invalid bytes", B("A: \xff\0\n\n"), BIG, BIG,
	    "A: ??\n" },
	{ "text: ends where reading stops", B("A: 1\nB: 2\n\n"), 1, BIG,
	    "A: 1\n" },
	{ "text: max at N", B("A: 1\n\n"), BIG, 5, "A: 1\n" },
	{ "text: max one short", B("A: 1\n\n"), BIG, 4, "A: 1" },
	{ "text: max inside a character", B("A: \xc3\xa9\n"), BIG, 4, "A: " },
};

/* Per-test state, released by the teardown even when a check fails. */
struct state {
	struct buf *got;
	char *text;
	const void *tcase;
};

static int
setup(void **ts)
{
	struct state *st = NULL;
	struct ti_err err;

	st = calloc(1, sizeof(*st));
	if (st == NULL)
		return -1;
	st->tcase = *ts;
	st->got = buf_new(4096, &err);
	if (st->got == NULL) {
		free(st);
		return -1;
	}
	*ts = st;
	return 0;
}

static int
teardown(void **ts)
{
	struct state *st = *ts;

	buf_free(&st->got);
	free(st->text);
	free(st);
	return 0;
}

static void
put(struct buf *b, const void *p, size_t n)
{
	struct ti_err err;

	assert_int_equal(buf_append(b, p, n, &err), 0);
}

/* Read the whole block, written down as the cases want it. */
static void
render(const struct hdr_case *c, struct buf *b)
{
	struct hdr_limits lim = c->lim;
	struct ti_bytes in = { (const unsigned char *)c->input, c->len };
	struct hdr_reader r;
	struct hdr_field f;
	enum hdr_status st;
	char tail[64];
	int n;

	if (lim.block_bytes == 0 && lim.fields == 0 && lim.value_bytes == 0)
		lim.block_bytes = lim.fields = lim.value_bytes = BIG;
	hdr_init(&r, &in, &lim);
	while ((st = hdr_next(&r, &f)) == HDR_FIELD) {
		/* raw is the field as written, ending where the next starts */
		assert_ptr_equal(f.raw + f.raw_len, c->input + hdr_offset(&r));
		if (f.name != NULL)
			put(b, f.name, f.name_len);
		else
			put(b, "-", 1);
		put(b, "=", 1);
		put(b, f.value, f.value_len);
		if (f.value_cut)
			put(b, "+cut", 4);
		put(b, "|", 1);
	}
	n = snprintf(tail, sizeof(tail), "%s@%zu", st == HDR_END ? "END" :
	    "LIMIT", hdr_offset(&r));
	put(b, tail, (size_t)n);
	/* Once ended, reading stays where it ended. */
	assert_int_equal(hdr_next(&r, &f), st);
	assert_null(f.name);
	assert_int_equal(hdr_offset(&r), strtoul(strchr(tail, '@') + 1, NULL,
	    10));
}

static void
test_case(void **ts)
{
	struct state *st = *ts;
	const struct hdr_case *c = st->tcase;
	struct ti_bytes got;

	render(c, st->got);
	got = buf_bytes(st->got);
	if (got.len != c->want_len || memcmp(got.data, c->want, got.len) != 0)
		fail_msg("\n got \"%.*s\"\nwant \"%.*s\"", (int)got.len,
		    (const char *)got.data, (int)c->want_len, c->want);
}

static void
test_text(void **ts)
{
	struct state *st = *ts;
	const struct text_case *c = st->tcase;
	struct hdr_limits lim = { BIG, c->fields, BIG };
	struct ti_bytes in = { (const unsigned char *)c->input, c->len };
	struct ti_err err;

	assert_int_equal(hdr_block_text(&in, &lim, c->max, &st->text, &err),
	    0);
	if (c->want == NULL) {
		assert_null(st->text);
		return;
	}
	assert_non_null(st->text);
	if (strcmp(st->text, c->want) != 0)
		fail_msg("got \"%s\", want \"%s\"", st->text, c->want);
}

static void
test_name_is(void **ts)
{
	struct hdr_field f;

	(void)ts;
	memset(&f, 0, sizeof(f));
	assert_false(hdr_name_is(&f, "Subject"));
	f.name = "SUBJECT: x";
	f.name_len = 7;
	assert_true(hdr_name_is(&f, "Subject"));
	assert_true(hdr_name_is(&f, "subject"));
	assert_false(hdr_name_is(&f, "Subjec"));
	assert_false(hdr_name_is(&f, "Subjects"));
}

/* A NULL message with no bytes is an empty block. */
static void
test_null_bytes(void **ts)
{
	struct hdr_limits lim = { BIG, BIG, BIG };
	struct ti_bytes in = { NULL, 0 };
	struct hdr_reader r;
	struct hdr_field f;

	(void)ts;
	hdr_init(&r, &in, &lim);
	assert_int_equal(hdr_next(&r, &f), HDR_END);
	assert_int_equal(hdr_offset(&r), 0);
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
	struct CMUnitTest tests[NELEM(cases) + NELEM(text_cases) + 2];
	size_t n = 0;
	size_t i;

	for (i = 0; i < NELEM(cases); i++)
		add_test(tests, &n, cases[i].name, test_case, &cases[i]);
	for (i = 0; i < NELEM(text_cases); i++)
		add_test(tests, &n, text_cases[i].name, test_text,
		    &text_cases[i]);
	add_test(tests, &n, "hdr_name_is", test_name_is, NULL);
	add_test(tests, &n, "NULL bytes", test_null_bytes, NULL);
	return _cmocka_run_group_tests("hdr", tests, n, NULL, NULL);
}
