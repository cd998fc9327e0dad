/*
 * test_handoff.c - the hand-off's wire format: requests and replies
 * written and read back, every malformed line refused, and the time a
 * request may take.  The socket itself is covered by
 * tests/integration/serve.sh.
 */
#include "autoconf.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "handoff.h"

static void
test_request_round_trip(void **state)
{
	char line[HANDOFF_HEADER_BYTES];
	struct handoff_request req;
	struct ti_err err;
	size_t n;

	(void)state;
	n = handoff_format_request(line, sizeof(line), 4711, false, "4Xk9Zq1");
	assert_string_equal(line, "TLSRPT-INGEST/1 message 4711 - 4Xk9Zq1\n");
	assert_int_equal(n, strlen(line));
	line[n - 1] = '\0';
	assert_int_equal(handoff_parse_request(line, &req, &err), 0);
	assert_int_equal(req.len, 4711);
	assert_false(req.truncated);
	assert_string_equal(req.queue_id, "4Xk9Zq1");

	/* No queue id, or one that is not a plain token: "-". */
	(void)handoff_format_request(line, sizeof(line), 0, true, NULL);
	assert_string_equal(line, "TLSRPT-INGEST/1 message 0 t -\n");
	(void)handoff_format_request(line, sizeof(line), 7, false,
	    "bad id\n");
	assert_string_equal(line, "TLSRPT-INGEST/1 message 7 - -\n");
	line[strlen(line) - 1] = '\0';
	assert_int_equal(handoff_parse_request(line, &req, &err), 0);
	assert_string_equal(req.queue_id, "");

	/* The largest length there is still fits the header. */
	n = handoff_format_request(line, sizeof(line), SIZE_MAX, true,
	    "0123456789012345678901234567890123456789012345678901234567890123");
	assert_true(n > 0);
	line[n - 1] = '\0';
	assert_int_equal(handoff_parse_request(line, &req, &err), 0);
	assert_true(req.len == SIZE_MAX);
	assert_true(req.truncated);
	assert_int_equal(strlen(req.queue_id), HANDOFF_QUEUE_ID_BYTES);
}

static void
test_request_refused(void **state)
{
	static const char *bad[] = {
		"",
		"GET / HTTP/1.1",
		"TLSRPT-INGEST/2 message 5 - -",
		"TLSRPT-INGEST/1 report 5 - -",
		"TLSRPT-INGEST/1 message -5 - -",
		"TLSRPT-INGEST/1 message 05 - -",
		"TLSRPT-INGEST/1 message 5x - -",
		"TLSRPT-INGEST/1 message  5 - -",
		"TLSRPT-INGEST/1 message 18446744073709551616 - -",
		"TLSRPT-INGEST/1 message 5 x -",
		"TLSRPT-INGEST/1 message 5 -",
		"TLSRPT-INGEST/1 message 5 - ",
		"TLSRPT-INGEST/1 message 5 - a b",
		"TLSRPT-INGEST/1 message 5 - a\tb",
		"TLSRPT-INGEST/1 message 5 - "
		    "01234567890123456789012345678901234567890123456789012345678901234",
	};
	struct handoff_request req;
	struct ti_err err;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ti_err_clear(&err);
		if (handoff_parse_request(bad[i], &req, &err) != -1)
			fail_msg("accepted: \"%s\"", bad[i]);
		assert_int_equal(err.kind, TI_KIND_DATA);
	}
}

static void
test_reply_round_trip(void **state)
{
	static const enum job_outcome outcomes[] = { JOB_STORED,
	    JOB_DUPLICATE, JOB_REJECTED, JOB_NONE };
	char line[HANDOFF_REPLY_BYTES];
	struct run_outcome a, b;
	struct ti_err err;
	size_t i, n;

	(void)state;
	for (i = 0; i < sizeof(outcomes) / sizeof(outcomes[0]); i++) {
		memset(&a, 0, sizeof(a));
		a.outcome = outcomes[i];
		a.policies = i * 3;
		(void)snprintf(a.org, sizeof(a.org), "Google Inc.");
		(void)snprintf(a.rid, sizeof(a.rid), "%s",
		    "2023-11-14T00:00:00Z_example.com");
		(void)snprintf(a.why, sizeof(a.why), "%s",
		    a.outcome == JOB_NONE ? "database unavailable" : "");
		n = handoff_format_reply(line, sizeof(line), &a);
		assert_true(n > 0 && line[n - 1] == '\n');
		line[n - 1] = '\0';
		assert_int_equal(handoff_parse_reply(line, &b, &err), 0);
		assert_int_equal(b.outcome, a.outcome);
		assert_int_equal(b.policies, a.policies);
		assert_string_equal(b.org, a.org);
		assert_string_equal(b.rid, a.rid);
		assert_string_equal(b.why, a.why);
	}
	(void)handoff_format_reply(line, sizeof(line), &a);
	assert_string_equal(line, "retry\t9\tGoogle Inc.\t"
	    "2023-11-14T00:00:00Z_example.com\tdatabase unavailable\n");

	/* The longest strings a server sends still fit. */
	memset(&a, 0, sizeof(a));
	a.outcome = JOB_REJECTED;
	memset(a.org, 'o', sizeof(a.org) - 1);
	memset(a.rid, 'r', sizeof(a.rid) - 1);
	memset(a.why, 'w', sizeof(a.why) - 1);
	n = handoff_format_reply(line, sizeof(line), &a);
	assert_true(n > 0 && line[n - 1] == '\n');
	line[n - 1] = '\0';
	assert_int_equal(handoff_parse_reply(line, &b, &err), 0);
	assert_int_equal(strlen(b.why), sizeof(b.why) - 1);
}

static void
test_reply_refused(void **state)
{
	static const char *bad[] = {
		"",
		"stored",
		"stored\t1\torg\trid",
		"stored\t1\torg\trid\twhy\textra",
		"kept\t1\torg\trid\t",
		"stored\tone\torg\trid\t",
		"stored\t-1\torg\trid\t",
		"stored\t\torg\trid\t",
		"retry\t0\t\t\t",
	};
	struct run_outcome a;
	struct ti_err err;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ti_err_clear(&err);
		if (handoff_parse_reply(bad[i], &a, &err) != -1)
			fail_msg("accepted: \"%s\"", bad[i]);
		assert_int_equal(err.kind, TI_KIND_DATA);
		assert_int_equal(a.outcome, JOB_NONE);
	}
}

static void
test_reply_field_too_long(void **state)
{
	char *line = NULL;
	struct run_outcome a;
	struct ti_err err;
	size_t n = LOG_SANITIZED_BYTES;

	(void)state;
	/* An organization one byte past what a server could send. */
	line = malloc(n + 64);
	assert_non_null(line);
	memcpy(line, "stored\t1\t", 9);
	memset(line + 9, 'o', n);
	memcpy(line + 9 + n, "\trid\t", 6);
	assert_int_equal(handoff_parse_reply(line, &a, &err), -1);
	free(line);
}

static void
test_check_path(void **state)
{
	char path[200];
	struct ti_err err;

	(void)state;
	assert_int_equal(handoff_check_path("/run/tlsrpt-ingest/socket",
	    &err), 0);
	assert_int_equal(handoff_check_path(NULL, &err), -1);
	assert_int_equal(err.kind, TI_KIND_CONFIG);
	assert_int_equal(handoff_check_path("", &err), -1);
	memset(path, 'p', sizeof(path) - 1);
	path[sizeof(path) - 1] = '\0';
	path[0] = '/';
	assert_int_equal(handoff_check_path(path, &err), -1);
	assert_int_equal(err.kind, TI_KIND_CONFIG);
	assert_non_null(strstr(err.msg, "longer than 107 bytes"));
	path[107] = '\0';
	assert_int_equal(handoff_check_path(path, &err), 0);
}

/* A request's time: a few seconds plus its length at the minimum rate,
 * never past the timeout setting. */
static void
test_send_ms(void **state)
{
	static const struct {
		const char *name;
		size_t len;
		unsigned timeout;
		long want;
	} cases[] = {
		{ "empty", 0, 300, HANDOFF_SEND_SECONDS * 1000L },
		{ "under the rate", HANDOFF_SEND_BYTES_PER_SECOND - 1, 300,
		    HANDOFF_SEND_SECONDS * 1000L },
		{ "at the rate", HANDOFF_SEND_BYTES_PER_SECOND, 300,
		    (HANDOFF_SEND_SECONDS + 1) * 1000L },
		{ "10 MiB", 10485760, 300, 45000 },
		{ "cut at the timeout", 10485760, 20, 20000 },
		{ "short timeout", 0, 1, 1000 },
	};
	size_t i;
	long got;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		got = handoff_send_ms(cases[i].len, cases[i].timeout);
		if (got != cases[i].want)
			fail_msg("%s: got %ld, want %ld", cases[i].name, got,
			    cases[i].want);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_request_round_trip),
		cmocka_unit_test(test_request_refused),
		cmocka_unit_test(test_reply_round_trip),
		cmocka_unit_test(test_reply_refused),
		cmocka_unit_test(test_reply_field_too_long),
		cmocka_unit_test(test_check_path),
		cmocka_unit_test(test_send_ms),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
