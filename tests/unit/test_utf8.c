/*
 * test_utf8.c - the strict UTF-8 validator, the cleaner for stored text,
 * the byte-order mark, and log_sanitize() built on them.
 *
 * Table-driven: every boundary of RFC 3629 (overlongs, surrogates, the
 * last code point), every class of character a log line must escape, and
 * the caps of the cleaner and the sanitizer at N and N+1.
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
#include "log.h"
#include "status.h"
#include "testutil.h"
#include "utf8.h"

/* A byte string with its length: NUL may be part of it. */
#define B(s) s, sizeof(s) - 1

struct char_case {
	const char *name;
	const char *input;
	size_t len;
	size_t want_len;	/* 0: no character starts there */
	uint32_t want_cp;
};

static const struct char_case char_cases[] = {
	{ "ASCII", B("A"), 1, 0x41 },
	{ "NUL is a character", B("\0"), 1, 0 },
	{ "DEL", B("\x7f"), 1, 0x7f },
	{ "lowest 2-byte U+0080", B("\xc2\x80"), 2, 0x80 },
	{ "e acute", B("\xc3\xa9"), 2, 0xe9 },
	{ "highest 2-byte U+07FF", B("\xdf\xbf"), 2, 0x7ff },
	{ "overlong NUL C0 80", B("\xc0\x80"), 0, 0 },
	{ "overlong C1 BF", B("\xc1\xbf"), 0, 0 },
	{ "overlong E0 80 80", B("\xe0\x80\x80"), 0, 0 },
	{ "overlong E0 9F BF", B("\xe0\x9f\xbf"), 0, 0 },
	{ "lowest 3-byte U+0800", B("\xe0\xa0\x80"), 3, 0x800 },
	{ "last before surrogates U+D7FF", B("\xed\x9f\xbf"), 3, 0xd7ff },
	{ "surrogate ED A0 80", B("\xed\xa0\x80"), 0, 0 },
	{ "surrogate ED BF BF", B("\xed\xbf\xbf"), 0, 0 },
	{ "first after surrogates U+E000", B("\xee\x80\x80"), 3, 0xe000 },
	{ "U+FFFF", B("\xef\xbf\xbf"), 3, 0xffff },
	{ "overlong F0 80 80 80", B("\xf0\x80\x80\x80"), 0, 0 },
	{ "overlong F0 8F BF BF", B("\xf0\x8f\xbf\xbf"), 0, 0 },
	{ "lowest 4-byte U+10000", B("\xf0\x90\x80\x80"), 4, 0x10000 },
	{ "emoji", B("\xf0\x9f\x98\x80"), 4, 0x1f600 },
	{ "last code point U+10FFFF", B("\xf4\x8f\xbf\xbf"), 4, 0x10ffff },
	{ "past U+10FFFF F4 90 80 80", B("\xf4\x90\x80\x80"), 0, 0 },
	{ "F5 lead byte", B("\xf5\x80\x80\x80"), 0, 0 },
	{ "FF", B("\xff"), 0, 0 },
	{ "lone continuation byte", B("\x80"), 0, 0 },
	{ "3-byte cut short", B("\xe2\x82"), 0, 0 },
	{ "4-byte cut short", B("\xf0\x9f\x98"), 0, 0 },
	{ "ASCII where a continuation belongs", B("\xc3\x41"), 0, 0 },
	{ "bad third byte", B("\xe2\x82\x41"), 0, 0 },
	{ "nothing to read", B(""), 0, 0 },
};

struct log_case {
	const char *name;
	const char *input;	/* NUL-terminated, as log_sanitize reads it */
	const char *want;
};

static const struct log_case log_cases[] = {
	{ "plain", "queue 4AB2 done", "queue 4AB2 done" },
	{ "NULL", NULL, "-" },
	{ "backslash", "a\\b", "a\\x5cb" },
	{ "C0 controls", "a\tb\nc\rd\x1b[31m", "a\\x09b\\x0ac\\x0dd\\x1b[31m" },
	{ "DEL", "a\x7f", "a\\x7f" },
	{ "C1 U+0080", "\xc2\x80", "\\u0080" },
	{ "C1 NEL U+0085", "a\xc2\x85z", "a\\u0085z" },
	{ "C1 CSI U+009B", "\xc2\x9b" "31m", "\\u009b31m" },
	{ "C1 U+009F", "\xc2\x9f", "\\u009f" },
	{ "line separator U+2028", "a\xe2\x80\xa8z", "a\\u2028z" },
	{ "paragraph separator U+2029", "\xe2\x80\xa9", "\\u2029" },
	{ "LRM U+200E", "\xe2\x80\x8e", "\\u200e" },
	{ "RLM U+200F", "\xe2\x80\x8f", "\\u200f" },
	{ "LRE U+202A", "\xe2\x80\xaa", "\\u202a" },
	{ "RLE U+202B", "\xe2\x80\xab", "\\u202b" },
	{ "PDF U+202C", "\xe2\x80\xac", "\\u202c" },
	{ "LRO U+202D", "\xe2\x80\xad", "\\u202d" },
	{ "RLO U+202E", "evil\xe2\x80\xaegpj.exe", "evil\\u202egpj.exe" },
	{ "LRI U+2066", "\xe2\x81\xa6", "\\u2066" },
	{ "RLI U+2067", "\xe2\x81\xa7", "\\u2067" },
	{ "FSI U+2068", "\xe2\x81\xa8", "\\u2068" },
	{ "PDI U+2069", "\xe2\x81\xa9", "\\u2069" },
	{ "ZWJ U+200D is kept", "\xe2\x80\x8d", "\xe2\x80\x8d" },
	{ "NBSP U+00A0 is kept", "\xc2\xa0", "\xc2\xa0" },
	{ "U+202F is kept", "\xe2\x80\xaf", "\xe2\x80\xaf" },
	{ "U+206A is kept", "\xe2\x81\xaa", "\xe2\x81\xaa" },
	{ "valid UTF-8 is kept", "caf\xc3\xa9 \xf0\x9f\x98\x80",
	    "caf\xc3\xa9 \xf0\x9f\x98\x80" },
	{ "U+10FFFF is kept", "\xf4\x8f\xbf\xbf", "\xf4\x8f\xbf\xbf" },
	{ "past U+10FFFF", "\xf4\x90\x80\x80", "\\xf4\\x90\\x80\\x80" },
	{ "overlong C0 80", "\xc0\x80", "\\xc0\\x80" },
	{ "overlong E0 80 80", "\xe0\x80\x80", "\\xe0\\x80\\x80" },
	{ "overlong slash", "\xc0\xaf", "\\xc0\\xaf" },
	{ "surrogate ED A0 80", "\xed\xa0\x80", "\\xed\\xa0\\x80" },
	{ "stray bytes", "\xff\xfe", "\\xff\\xfe" },
	{ "cut short at the end", "a\xe2\x82", "a\\xe2\\x82" },
	{ "lead byte before ASCII", "\xc3" "A", "\\xc3A" },
};

struct clean_case {
	const char *name;
	const char *input;
	size_t len;
	size_t max;
	unsigned flags;
	const char *want;
};

#define ONE UTF8_CLEAN_ONE_LINE

static const struct clean_case clean_cases[] = {
	{ "plain", B("Subject: x"), 64, 0, "Subject: x" },
	{ "empty", B(""), 64, 0, "" },
	{ "invalid byte", B("a\xff" "b"), 64, 0, "a?b" },
	{ "NUL", B("a\0b"), 64, 0, "a?b" },
	{ "NUL in one line", B("a\0b"), 64, ONE, "a?b" },
	{ "CR LF in text", B("a\r\nb\r\n"), 64, 0, "a\nb\n" },
	{ "CR LF in one line", B("a\r\nb"), 64, ONE, "a  b" },
	{ "CR alone in text", B("a\rb"), 64, 0, "a\rb" },
	{ "tab and LF in text", B("a\tb\nc"), 64, 0, "a\tb\nc" },
	{ "tab and LF in one line", B("a\tb\nc"), 64, ONE, "a b c" },
	{ "control in text", B("a\x01" "b\x7f"), 64, 0, "a\x01" "b\x7f" },
	{ "control in one line", B("a\x01" "b\x7f"), 64, ONE, "a b " },
	{ "overlong", B("\xc0\x80"), 64, 0, "??" },
	{ "overlong 3 bytes", B("\xe0\x80\x80"), 64, 0, "???" },
	{ "surrogate", B("\xed\xa0\x80"), 64, 0, "???" },
	{ "past U+10FFFF", B("\xf4\x90\x80\x80"), 64, 0, "????" },
	{ "U+10FFFF", B("\xf4\x8f\xbf\xbf"), 64, 0, "\xf4\x8f\xbf\xbf" },
	{ "cut short", B("a\xe2\x82"), 64, 0, "a??" },
	{ "ASCII at max", B("abc"), 3, 0, "abc" },
	{ "ASCII one past max", B("abcd"), 3, 0, "abc" },
	{ "character at max", B("ab\xe2\x82\xac"), 5, 0, "ab\xe2\x82\xac" },
	{ "character one past max", B("ab\xe2\x82\xac"), 4, 0, "ab" },
	{ "nothing after a cut character", B("ab\xe2\x82\xac" "c"), 4, 0,
	    "ab" },
	{ "replacement at max", B("ab\xff"), 3, 0, "ab?" },
	{ "replacement past max", B("ab\xff"), 2, 0, "ab" },
	{ "max 0", B("abc"), 0, 0, "" },
};

#define TRIM (UTF8_CLEAN_ONE_LINE | UTF8_CLEAN_TRIM)

static const struct clean_case dup_cases[] = {
	{ "dup: blanks trimmed", B("  a b \t\r\n"), 64, TRIM, "a b" },
	{ "dup: control at the end trimmed", B("a\x01"), 64, TRIM, "a" },
	{ "dup: control at the start stays a space", B("\x01" "a"), 64, TRIM,
	    " a" },
	{ "dup: blanks only", B(" \t\r\n "), 64, TRIM, "" },
	{ "dup: without TRIM", B(" a "), 64, ONE, " a " },
	{ "dup: cut, then trimmed", B("ab c"), 3, TRIM, "ab" },
	{ "dup: text", B("a\r\nb\xff"), 64, 0, "a\nb?" },
	{ "dup: NUL", B("a\0"), 64, TRIM, "a?" },
};

/* Per-test state, released by the teardown even when a check fails. */
struct state {
	struct buf *b;
	char *text;
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
	free(st->text);
	free(st);
	return 0;
}

static void
test_char(void **ts)
{
	struct state *st = *ts;
	const struct char_case *c = st->tcase;
	uint32_t cp = 0xdeadbeef;
	size_t got;

	got = utf8_char_len((const unsigned char *)c->input, c->len, &cp);
	if (got != c->want_len)
		fail_msg("length: got %zu, want %zu", got, c->want_len);
	if (got != 0 && cp != c->want_cp)
		fail_msg("code point: got U+%04X, want U+%04X", (unsigned)cp,
		    (unsigned)c->want_cp);
	/* utf8_valid agrees with the validator on a single character. */
	assert_int_equal(utf8_valid((const unsigned char *)c->input, c->len),
	    got != 0 || c->len == 0);
}

static void
test_log(void **ts)
{
	struct state *st = *ts;
	const struct log_case *c = st->tcase;
	char out[LOG_SANITIZED_BYTES];
	const char *got = NULL;

	got = log_sanitize(c->input, out, sizeof(out));
	assert_ptr_equal(got, out);
	if (strcmp(got, c->want) != 0)
		fail_msg("got \"%s\", want \"%s\"", got, c->want);
}

static void
test_clean(void **ts)
{
	struct state *st = *ts;
	const struct clean_case *c = st->tcase;
	struct ti_err err;
	struct ti_bytes got;

	st->b = buf_new(c->max, &err);
	assert_non_null(st->b);
	assert_int_equal(utf8_clean(st->b, c->input, c->len, c->max, c->flags,
	    &err), 0);
	got = buf_bytes(st->b);
	assert_non_null(got.data);
	if (got.len != strlen(c->want) || memcmp(got.data, c->want,
	    got.len) != 0)
		fail_msg("got \"%.*s\", want \"%s\"", (int)got.len,
		    (const char *)got.data, c->want);
	assert_true(utf8_valid(got.data, got.len));
	assert_null(memchr(got.data, '\0', got.len));
}

static void
test_clean_dup(void **ts)
{
	struct state *st = *ts;
	const struct clean_case *c = st->tcase;
	struct ti_err err;

	assert_int_equal(utf8_clean_dup(c->input, c->len, c->max, c->flags,
	    &st->text, &err), 0);
	assert_non_null(st->text);
	if (strcmp(st->text, c->want) != 0)
		fail_msg("got \"%s\", want \"%s\"", st->text, c->want);
}

/* A second call appends after the first, within the same cap. */
static void
test_clean_appends(void **ts)
{
	struct state *st = *ts;
	struct ti_err err;
	struct ti_bytes got;

	st->b = buf_new(6, &err);
	assert_non_null(st->b);
	assert_int_equal(utf8_clean(st->b, "abc", 3, 6, 0, &err), 0);
	assert_int_equal(utf8_clean(st->b, "d\xffxyz", 5, 6, 0, &err), 0);
	got = buf_bytes(st->b);
	assert_int_equal(got.len, 6);
	assert_memory_equal(got.data, "abcd?x", 6);
}

static void
test_bom(void **ts)
{
	static const struct {
		const char *name;
		const char *input;
		size_t len;
		size_t want;
	} cases[] = {
		{ "BOM then JSON", B("\xef\xbb\xbf{}"), 3 },
		{ "BOM alone", B("\xef\xbb\xbf"), 3 },
		{ "two bytes of a BOM", B("\xef\xbb"), 0 },
		{ "other U+FEFF encoding", B("\xfe\xff{}"), 0 },
		{ "JSON", B("{}"), 0 },
		{ "empty", B(""), 0 },
	};
	size_t i;
	size_t got;

	(void)ts;
	for (i = 0; i < NELEM(cases); i++) {
		got = utf8_bom_len((const unsigned char *)cases[i].input,
		    cases[i].len);
		if (got != cases[i].want)
			fail_msg("%s: got %zu, want %zu", cases[i].name, got,
			    cases[i].want);
	}
	assert_int_equal(utf8_bom_len(NULL, 3), 0);
}

/* Each class at its edges: the code point before and after is not one. */
static void
test_is_control(void **ts)
{
	static const struct {
		uint32_t cp;
		bool want;
	} cases[] = {
		{ 0x00, true }, { 0x1f, true }, { 0x20, false },
		{ 0x7e, false }, { 0x7f, true }, { 0x80, true },
		{ 0x9f, true }, { 0xa0, false }, { 0x200d, false },
		{ 0x200e, true }, { 0x200f, true }, { 0x2010, false },
		{ 0x2027, false }, { 0x2028, true }, { 0x2029, true },
		{ 0x202a, true }, { 0x202e, true }, { 0x202f, false },
		{ 0x2065, false }, { 0x2066, true }, { 0x2069, true },
		{ 0x206a, false }, { 0x10ffff, false },
	};
	size_t i;

	(void)ts;
	for (i = 0; i < NELEM(cases); i++) {
		if (utf8_is_control(cases[i].cp) != cases[i].want)
			fail_msg("U+%04X: got %d, want %d",
			    (unsigned)cases[i].cp, !cases[i].want,
			    cases[i].want);
	}
}

/* log_sanitize shows at most 256 input bytes, whole characters only. */
static void
test_log_cut(void **ts)
{
	char in[600];
	char want[600];
	char out[LOG_SANITIZED_BYTES];
	char small[16];
	size_t i;

	(void)ts;
	memset(in, 'a', 256);
	in[256] = '\0';
	assert_string_equal(log_sanitize(in, out, sizeof(out)), in);
	in[256] = 'a';
	in[257] = '\0';
	memcpy(want, in, 256);
	memcpy(want + 256, "...", 4);
	assert_string_equal(log_sanitize(in, out, sizeof(out)), want);
	/* A character that starts at byte 255 is shown whole. */
	memcpy(in + 255, "\xc3\xa9", 3);
	assert_string_equal(log_sanitize(in, out, sizeof(out)), in);
	/* The longest output still fits: 256 escaped bytes. */
	memset(in, 0x01, 300);
	in[300] = '\0';
	log_sanitize(in, out, sizeof(out));
	assert_int_equal(strlen(out), 256 * 4 + 3);
	for (i = 0; i < 256; i++)
		assert_memory_equal(out + 4 * i, "\\x01", 4);
	/* 86 separators: the 86th starts at byte 255, so all are shown. */
	for (i = 0; i < 86; i++)
		memcpy(in + 3 * i, "\xe2\x80\xa8", 3);
	in[258] = '\0';
	log_sanitize(in, out, sizeof(out));
	assert_int_equal(strlen(out), 86 * 6);
	/* A small out: no escape and no character is split. */
	assert_string_equal(log_sanitize("\x01\x01\x01\x01", small,
	    sizeof(small)), "\\x01\\x01...");
	assert_string_equal(log_sanitize("\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
	    "\xc3\xa9\xc3\xa9\xc3\xa9", small, sizeof(small)),
	    "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9...");
	assert_string_equal(log_sanitize("\xe2\x80\xa8\xe2\x80\xa8", small,
	    sizeof(small)), "\\u2028...");
	/* Below 8 bytes nothing is written but the NUL. */
	small[0] = 'x';
	assert_string_equal(log_sanitize("abc", small, 7), "");
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
	struct CMUnitTest tests[NELEM(char_cases) + NELEM(log_cases) +
	    NELEM(clean_cases) + NELEM(dup_cases) + 8];
	size_t n = 0;
	size_t i;

	for (i = 0; i < NELEM(char_cases); i++)
		add_test(tests, &n, char_cases[i].name, test_char,
		    &char_cases[i]);
	for (i = 0; i < NELEM(log_cases); i++)
		add_test(tests, &n, log_cases[i].name, test_log,
		    &log_cases[i]);
	for (i = 0; i < NELEM(clean_cases); i++)
		add_test(tests, &n, clean_cases[i].name, test_clean,
		    &clean_cases[i]);
	for (i = 0; i < NELEM(dup_cases); i++)
		add_test(tests, &n, dup_cases[i].name, test_clean_dup,
		    &dup_cases[i]);
	add_test(tests, &n, "utf8_clean appends", test_clean_appends, NULL);
	add_test(tests, &n, "utf8_bom_len", test_bom, NULL);
	add_test(tests, &n, "utf8_is_control", test_is_control, NULL);
	add_test(tests, &n, "log_sanitize cuts", test_log_cut, NULL);
	return _cmocka_run_group_tests("utf8", tests, n, NULL, NULL);
}
