/*
 * test_date.c - RFC 3339 date-times as TLS-RPT senders write them.
 *
 * Table-driven: valid forms with their exact value in microseconds,
 * invalid forms with the exact error, every day of every month across
 * leap and common years, and formatting round trips at the edges of the
 * supported range (1970-01-01 .. 9999-12-31).
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

#include "date.h"
#include "status.h"

#define SEC INT64_C(1000000)
#define DAY (INT64_C(86400) * SEC)

struct ok_case {
	const char *name;
	const char *input;
	int64_t want;
};

struct err_case {
	const char *name;
	const char *input;
	size_t len;		/* 0: strlen(input) */
	const char *want_msg;
};

struct fmt_case {
	const char *name;
	int64_t usec;
	const char *want;	/* NULL: must fail */
};

static const char SYNTAX[] = "not an RFC 3339 date-time";

static const struct ok_case ok_cases[] = {
	{ "RFC example start", "2016-04-01T00:00:00Z",
	    INT64_C(1459468800) * SEC },
	{ "RFC example end", "2016-04-01T23:59:59Z",
	    INT64_C(1459555199) * SEC },
	{ "lower-case z", "2016-04-01T00:00:00z",
	    INT64_C(1459468800) * SEC },
	{ "lower-case t", "2016-04-01t00:00:00Z",
	    INT64_C(1459468800) * SEC },
	{ "space for T", "2020-01-01 00:00:00Z",
	    INT64_C(1577836800) * SEC },
	{ "zone-less (Microsoft)", "2023-01-10T00:00:00",
	    INT64_C(1673308800) * SEC },
	{ "zone-less with fraction", "2025-03-01T00:00:00.5",
	    INT64_C(1740787200500000) },
	{ "millis Z", "2024-03-26T00:00:00.000Z",
	    INT64_C(1711411200) * SEC },
	{ "nanos with offset", "2019-07-30T00:00:00.123456789+02:00",
	    INT64_C(1564437600123456) },
	{ "fraction dropped not rounded", "2019-07-30T00:00:00.9999999Z",
	    INT64_C(1564444800999999) },
	{ "one fraction digit", "1970-01-01T00:00:00.1Z", 100000 },
	{ "micro", "1970-01-01T00:00:00.000001Z", 1 },
	{ "+00:00", "2016-04-01T00:00:00+00:00",
	    INT64_C(1459468800) * SEC },
	{ "-00:00", "2016-04-01T00:00:00-00:00",
	    INT64_C(1459468800) * SEC },
	{ "+01:00 next day", "2025-03-02T01:00:00+01:00",
	    INT64_C(1740873600) * SEC },
	{ "negative offset", "2016-03-31T19:00:00-05:00",
	    INT64_C(1459468800) * SEC },
	{ "offset +05:30 to epoch", "1970-01-01T05:30:00+05:30", 0 },
	{ "offset -23:59 at epoch", "1970-01-01T00:00:00-23:59",
	    INT64_C(86340) * SEC },
	{ "offset +23:59", "1970-01-02T00:00:00+23:59", 60 * SEC },
	{ "epoch", "1970-01-01T00:00:00Z", 0 },
	{ "last representable", "9999-12-31T23:59:59.999999Z",
	    INT64_C(253402300799999999) },
	{ "2^31 seconds", "2038-01-19T03:14:08Z",
	    INT64_C(2147483648) * SEC },
	{ "2^32 seconds", "2106-02-07T06:28:16Z",
	    INT64_C(4294967296) * SEC },
	{ "leap day 2024", "2024-02-29T12:00:00Z",
	    INT64_C(1709208000) * SEC },
	{ "leap day 2000", "2000-02-29T00:00:00Z",
	    INT64_C(951782400) * SEC },
	{ "leap day 2016", "2016-02-29T00:00:00Z",
	    INT64_C(1456704000) * SEC },
	{ "March 1st 2100", "2100-03-01T00:00:00Z",
	    INT64_C(4107542400) * SEC },
	{ "New Year's Eve", "2016-12-31T23:59:59Z",
	    INT64_C(1483228799) * SEC },
	{ "leap second folded", "1972-06-30T23:59:60Z",
	    INT64_C(78796799) * SEC },
	{ "leap second keeps fraction", "1972-06-30T23:59:60.5Z",
	    INT64_C(78796799500000) },
	{ "Microsoft end", "2024-03-26T23:59:59",
	    INT64_C(1711497599) * SEC },
};

static const struct err_case err_cases[] = {
	{ "words", "April fools", 0, SYNTAX },
	{ "empty", "", 0, SYNTAX },
	{ "date only", "2016-04-01", 0, SYNTAX },
	{ "date and T", "2016-04-01T", 0, SYNTAX },
	{ "no seconds", "2016-04-01T00:00Z", 0, SYNTAX },
	{ "one-digit month", "2016-4-01T00:00:00Z", 0, SYNTAX },
	{ "two-digit year", "16-04-01T00:00:00Z", 0, SYNTAX },
	{ "five-digit year", "12016-04-01T00:00:00Z", 0, SYNTAX },
	{ "slashes", "2016/04/01T00:00:00Z", 0, SYNTAX },
	{ "bad separator", "2016-04-01X00:00:00Z", 0, SYNTAX },
	{ "two spaces", "2016-04-01  00:00:00Z", 0, SYNTAX },
	{ "trailing garbage", "2016-04-01T00:00:00Zjunk", 0, SYNTAX },
	{ "trailing space", "2016-04-01T00:00:00Z ", 0, SYNTAX },
	{ "leading space", " 2016-04-01T00:00:00Z", 0, SYNTAX },
	{ "dot without digits", "2016-04-01T00:00:00.Z", 0, SYNTAX },
	{ "dot at the end", "2016-04-01T00:00:00.", 0, SYNTAX },
	{ "comma fraction", "2016-04-01T00:00:00,5Z", 0, SYNTAX },
	{ "offset without colon", "2016-04-01T00:00:00+0000", 0, SYNTAX },
	{ "offset hours only", "2016-04-01T00:00:00+00", 0, SYNTAX },
	{ "offset cut", "2016-04-01T00:00:00+00:0", 0, SYNTAX },
	{ "zone name", "2016-04-01T00:00:00 UTC", 0, SYNTAX },
	{ "Z and offset", "2016-04-01T00:00:00Z+01:00", 0, SYNTAX },
	{ "sign in year", "+2016-04-01T00:00:00Z", 0, SYNTAX },
	{ "NUL inside", "2016-04-01T00:00:00\0Z", 21, SYNTAX },
	{ "cut by len", "2016-04-01T00:00:00Z", 18, SYNTAX },
	{ "month 13", "2016-13-01T00:00:00Z", 0, "month out of range" },
	{ "month 00", "2016-00-01T00:00:00Z", 0, "month out of range" },
	{ "day 00", "2016-04-00T00:00:00Z", 0, "day out of range" },
	{ "April 31", "2016-04-31T00:00:00Z", 0, "day out of range" },
	{ "Jan 32", "2016-01-32T00:00:00Z", 0, "day out of range" },
	{ "Feb 29 2023", "2023-02-29T00:00:00Z", 0, "day out of range" },
	{ "Feb 29 1900-like 2100", "2100-02-29T00:00:00Z", 0,
	    "day out of range" },
	{ "Feb 30 2024", "2024-02-30T00:00:00Z", 0, "day out of range" },
	{ "hour 24", "2016-04-01T24:00:00Z", 0, "hour out of range" },
	{ "minute 60", "2016-04-01T00:60:00Z", 0, "minute out of range" },
	{ "second 61", "2016-04-01T00:00:61Z", 0, "second out of range" },
	{ "offset hour 24", "2016-04-01T00:00:00+24:00", 0,
	    "zone offset out of range" },
	{ "offset minute 60", "2016-04-01T00:00:00-00:60", 0,
	    "zone offset out of range" },
	{ "year 1969", "1969-12-31T23:59:59Z", 0,
	    "year out of range (1970-9999)" },
	{ "year 0000", "0000-01-01T00:00:00Z", 0,
	    "year out of range (1970-9999)" },
	{ "before the epoch by offset", "1970-01-01T00:00:00+00:01", 0,
	    "before 1970 in UTC" },
	{ "after 9999 by offset", "9999-12-31T23:59:59-00:01", 0,
	    "after 9999 in UTC" },
};

static const struct fmt_case fmt_cases[] = {
	{ "epoch", 0, "1970-01-01T00:00:00Z" },
	{ "one microsecond", 1, "1970-01-01T00:00:00.000001Z" },
	{ "half a second", 500000, "1970-01-01T00:00:00.500000Z" },
	{ "RFC example", INT64_C(1459468800) * SEC,
	    "2016-04-01T00:00:00Z" },
	{ "leap day", INT64_C(1709208000) * SEC, "2024-02-29T12:00:00Z" },
	{ "day after leap day", INT64_C(1709208000) * SEC + DAY / 2,
	    "2024-03-01T00:00:00Z" },
	{ "end of 2016", INT64_C(1483228799) * SEC, "2016-12-31T23:59:59Z" },
	{ "fraction", INT64_C(1564437600123456),
	    "2019-07-29T22:00:00.123456Z" },
	{ "last", INT64_C(253402300799999999),
	    "9999-12-31T23:59:59.999999Z" },
	{ "one past the last", INT64_C(253402300800000000), NULL },
	{ "negative", -1, NULL },
	{ "INT64_MIN", INT64_MIN, NULL },
	{ "INT64_MAX", INT64_MAX, NULL },
};

static void
test_parse_ok(void **state)
{
	struct ti_err err;
	int64_t got;
	size_t i;
	int rc;

	(void)state;
	for (i = 0; i < sizeof(ok_cases) / sizeof(ok_cases[0]); i++) {
		const struct ok_case *tc = &ok_cases[i];

		ti_err_clear(&err);
		got = -42;
		rc = date_parse_rfc3339(tc->input, strlen(tc->input), &got,
		    &err);
		if (rc != 0)
			fail_msg("%s: \"%s\" refused: %s", tc->name,
			    tc->input, err.msg);
		if (got != tc->want)
			fail_msg("%s: got %lld, want %lld", tc->name,
			    (long long)got, (long long)tc->want);
	}
}

static void
test_parse_err(void **state)
{
	struct ti_err err;
	int64_t got;
	size_t i, len;
	int rc;

	(void)state;
	for (i = 0; i < sizeof(err_cases) / sizeof(err_cases[0]); i++) {
		const struct err_case *tc = &err_cases[i];

		ti_err_clear(&err);
		got = -42;
		len = tc->len != 0 ? tc->len : strlen(tc->input);
		rc = date_parse_rfc3339(tc->input, len, &got, &err);
		if (rc != -1)
			fail_msg("%s: \"%s\" accepted as %lld", tc->name,
			    tc->input, (long long)got);
		if (got != -42)
			fail_msg("%s: output written on failure", tc->name);
		if (err.kind != TI_KIND_DATA)
			fail_msg("%s: kind %d, want DATA", tc->name,
			    (int)err.kind);
		if (strcmp(err.msg, tc->want_msg) != 0)
			fail_msg("%s: got \"%s\", want \"%s\"", tc->name,
			    err.msg, tc->want_msg);
	}
}

/* Not NUL-terminated: the parser must stop at len. */
static void
test_parse_unterminated(void **state)
{
	const char text[] = "2016-04-01T00:00:00Z";
	char *copy = NULL;
	struct ti_err err;
	int64_t got = 0;

	(void)state;
	copy = malloc(sizeof(text) - 1);
	assert_non_null(copy);
	memcpy(copy, text, sizeof(text) - 1);
	assert_int_equal(date_parse_rfc3339(copy, sizeof(text) - 1, &got,
	    &err), 0);
	assert_int_equal(got, INT64_C(1459468800) * SEC);
	/* Zone-less and cut just after the seconds. */
	assert_int_equal(date_parse_rfc3339(copy, sizeof(text) - 2, &got,
	    &err), 0);
	assert_int_equal(got, INT64_C(1459468800) * SEC);
	free(copy);
	/* A NULL pointer and an error record that is NULL. */
	assert_int_equal(date_parse_rfc3339(NULL, 0, &got, &err), -1);
	assert_string_equal(err.msg, SYNTAX);
	assert_int_equal(date_parse_rfc3339("x", 1, &got, NULL), -1);
}

/*
 * Every day from 1970 to 2400 (and the years around 9999): parsing its
 * midnight gives consecutive days, month lengths follow the leap rule,
 * and formatting gives the same text back.
 */
static void
test_every_day(void **state)
{
	static const int mdays[12] = {
		31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31
	};
	static const int spans[][2] = { { 1970, 2400 }, { 9990, 9999 } };
	char text[DATE_ISO_BYTES];
	char back[DATE_ISO_BYTES];
	struct ti_err err;
	int64_t got, prev;
	int y, m, d, last, s;
	bool leap;

	(void)state;
	for (s = 0; s < 2; s++) {
		/* 1970-01-01 must be 0; the later span is only chained. */
		prev = s == 0 ? -DAY : -1;
		for (y = spans[s][0]; y <= spans[s][1]; y++) {
			leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
			for (m = 1; m <= 12; m++) {
				last = mdays[m - 1] + (m == 2 && leap);
				for (d = 1; d <= last + 1; d++) {
					if (snprintf(text, sizeof(text),
					    "%04d-%02d-%02dT00:00:00Z", y, m,
					    d) >= (int)sizeof(text))
						fail_msg("text too long");
					ti_err_clear(&err);
					if (d == last + 1) {
						if (date_parse_rfc3339(text,
						    strlen(text), &got,
						    &err) != -1)
							fail_msg("%s accepted",
							    text);
						assert_string_equal(err.msg,
						    "day out of range");
						continue;
					}
					if (date_parse_rfc3339(text,
					    strlen(text), &got, &err) != 0)
						fail_msg("%s: %s", text,
						    err.msg);
					if (prev != -1 && got != prev + DAY)
						fail_msg("%s: got %lld, want "
						    "%lld", text,
						    (long long)got,
						    (long long)(prev + DAY));
					prev = got;
					assert_int_equal(date_format_iso(got,
					    back, sizeof(back)), 0);
					assert_string_equal(back, text);
				}
			}
		}
		if (s == 0)
			assert_int_equal(prev, INT64_C(13601001600) * SEC);
	}
}

static void
test_format(void **state)
{
	char out[DATE_ISO_BYTES];
	struct ti_err err;
	int64_t again;
	size_t i;
	int rc;

	(void)state;
	for (i = 0; i < sizeof(fmt_cases) / sizeof(fmt_cases[0]); i++) {
		const struct fmt_case *tc = &fmt_cases[i];

		memset(out, 'x', sizeof(out));
		rc = date_format_iso(tc->usec, out, sizeof(out));
		/* The range check alone agrees with formatting. */
		if (date_in_range(tc->usec) != (tc->want != NULL))
			fail_msg("%s: date_in_range says %d", tc->name,
			    date_in_range(tc->usec));
		if (tc->want == NULL) {
			if (rc != -1)
				fail_msg("%s: formatted as %s", tc->name, out);
			continue;
		}
		if (rc != 0)
			fail_msg("%s: refused", tc->name);
		if (strcmp(out, tc->want) != 0)
			fail_msg("%s: got %s, want %s", tc->name, out,
			    tc->want);
		/* And back. */
		assert_int_equal(date_parse_rfc3339(out, strlen(out), &again,
		    &err), 0);
		assert_int_equal(again, tc->usec);
	}
}

/* Every valid input formats and parses back to the same value. */
static void
test_round_trip(void **state)
{
	char out[DATE_ISO_BYTES];
	struct ti_err err;
	int64_t again;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(ok_cases) / sizeof(ok_cases[0]); i++) {
		assert_int_equal(date_format_iso(ok_cases[i].want, out,
		    sizeof(out)), 0);
		assert_int_equal(date_parse_rfc3339(out, strlen(out), &again,
		    &err), 0);
		if (again != ok_cases[i].want)
			fail_msg("%s: %s gave %lld", ok_cases[i].name, out,
			    (long long)again);
	}
}

/* The output size is honoured: one byte short fails. */
static void
test_format_size(void **state)
{
	char out[DATE_ISO_BYTES];

	(void)state;
	assert_int_equal(date_format_iso(0, out,
	    sizeof("1970-01-01T00:00:00Z")), 0);
	assert_string_equal(out, "1970-01-01T00:00:00Z");
	assert_int_equal(date_format_iso(0, out,
	    sizeof("1970-01-01T00:00:00Z") - 1), -1);
	assert_int_equal(date_format_iso(1, out,
	    sizeof("1970-01-01T00:00:00.000001Z")), 0);
	assert_int_equal(date_format_iso(1, out,
	    sizeof("1970-01-01T00:00:00.000001Z") - 1), -1);
	assert_int_equal(date_format_iso(0, NULL, 0), -1);
	assert_true(sizeof("9999-12-31T23:59:59.999999Z") <= DATE_ISO_BYTES);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_ok),
		cmocka_unit_test(test_parse_err),
		cmocka_unit_test(test_parse_unterminated),
		cmocka_unit_test(test_every_day),
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_format_size),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
