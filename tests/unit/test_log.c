/*
 * test_log.c - the log lines themselves: the queue id and source that
 * prefix them, level filtering, one line per call however long or
 * hostile its text, untrusted text escaped on its way through run_count
 * (organization, report id, reason), and errno kept across a call.
 */
#include "autoconf.h"

#include <errno.h>

#include "testutil.h"
#include "logcap.h"

#include "config.h"
#include "log.h"
#include "run.h"

static int
setup(void **state)
{
	(void)state;
	logcap_start(LOG_LEVEL_DEBUG);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	logcap_stop();
	return 0;
}

struct ctx_case {
	const char *name;
	const char *queue_id, *source;	/* NULL: not set */
	const char *want;
};

static const struct ctx_case ctx_cases[] = {
	{ "neither", NULL, NULL, "" },
	{ "queue id", "4XyZ1abc", NULL, "4XyZ1abc: " },
	{ "source", NULL, "new/1.a", "source=new/1.a: " },
	{ "both", "4XyZ1abc", "new/1.a", "4XyZ1abc source=new/1.a: " },
	{ "hostile queue id", "Q\nX", NULL, "Q\\x0aX: " },
	{ "hostile source", NULL, "a\x1b[2J\\b", "source=a\\x1b[2J\\x5cb: " },
};

static void
test_context(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(ctx_cases); i++) {
		logcap_reset();
		log_set_queue_id(ctx_cases[i].queue_id);
		log_set_source(ctx_cases[i].source);
		log_info("hello %d", 42);
		assert_int_equal(logcap.n, 1);
		if (strcmp(logcap.l[0].ctx, ctx_cases[i].want) != 0 ||
		    strcmp(logcap.l[0].line, "hello 42") != 0)
			fail_msg("%s: got \"%s\" \"%s\", want \"%s\"",
			    ctx_cases[i].name, logcap.l[0].ctx,
			    logcap.l[0].line, ctx_cases[i].want);
	}
	log_set_queue_id("Q1");
	assert_string_equal(log_get_queue_id(), "Q1");
	log_set_queue_id(NULL);
	log_set_source(NULL);
	assert_null(log_get_queue_id());
	assert_null(log_get_source());
}

/* Which of the four levels each maximum lets through. */
static void
test_levels(void **state)
{
	static const char *const want[] = {
		[LOG_LEVEL_ERR] = "E",
		[LOG_LEVEL_WARNING] = "EW",
		[LOG_LEVEL_INFO] = "EWI",
		[LOG_LEVEL_DEBUG] = "EWID",
	};
	char got[8];
	size_t i, k;
	int max;

	(void)state;
	for (max = LOG_LEVEL_ERR; max <= LOG_LEVEL_DEBUG; max++) {
		logcap_reset();
		log_init("test", 0, (enum log_level)max);
		log_err("E");
		log_warning("W");
		log_info("I");
		log_debug("D");
		for (i = 0; i < logcap.n; i++) {
			got[i] = logcap.l[i].line[0];
			assert_int_equal(logcap.l[i].level,
			    strchr("EWID", got[i]) - "EWID");
		}
		got[i] = '\0';
		if (strcmp(got, want[max]) != 0)
			fail_msg("max %d: got %s, want %s", max, got,
			    want[max]);
		for (k = LOG_LEVEL_ERR; k <= LOG_LEVEL_DEBUG; k++)
			assert_int_equal(log_enabled((enum log_level)k) != 0,
			    (int)k <= max);
		logcap_expect("levels", LOG_LEVEL_ERR, "", "E");
		if (max >= LOG_LEVEL_WARNING)
			logcap_expect("levels", LOG_LEVEL_WARNING, "", "W");
	}
	logcap_check("levels");
}

/* A call is one line, even past the line buffer. */
static void
test_one_line(void **state)
{
	static char big[5000];

	(void)state;
	memset(big, 'x', sizeof(big) - 1);
	log_info("%s", big);
	log_debug("a %s b", "c");
	assert_int_equal(logcap.calls, 2);
	assert_int_equal(logcap.n, 2);
	assert_true(strlen(logcap.l[0].line) > 1000);
	assert_string_equal(logcap.l[1].line, "a c b");
}

struct hostile_case {
	const char *name;
	enum job_outcome outcome;
	const char *org, *rid, *why;
	enum log_level want_level;
	const char *want;
};

static const struct hostile_case hostile_cases[] = {
	{ "control characters in the organization", JOB_STORED,
	    "Evil\nInc\r\x1b[31m\\\xe2\x80\xae", "r1", NULL, LOG_LEVEL_INFO,
	    "stored: organization=\"Evil\\x0aInc\\x0d\\x1b[31m\\x5c\\u202e\" "
	    "report-id=\"r1\" policies=1 ms=5" },
	{ "an invalid byte in the report id", JOB_DUPLICATE,
	    "Caf\xc3\xa9 Inc.", "a\xff\x7f", NULL, LOG_LEVEL_INFO,
	    "duplicate: organization=\"Caf\xc3\xa9 Inc.\" "
	    "report-id=\"a\\xff\\x7f\" policies=1 ms=5" },
	{ "a forged line in the reason", JOB_REJECTED, NULL, NULL,
	    "bad\nstored: organization=\"x\"", LOG_LEVEL_WARNING,
	    "rejected: bad\\x0astored: organization=\"x\" "
	    "(kept in tlsrpt.rejected_message) ms=5" },
	{ "no organization yet", JOB_STORED, NULL, NULL, NULL,
	    LOG_LEVEL_INFO,
	    "stored: organization=\"-\" report-id=\"-\" policies=1 ms=5" },
};

static void
test_hostile(void **state)
{
	struct config cfg;
	struct run_settings set;
	struct run *run = NULL;
	struct ti_err err;
	size_t i;

	(void)state;
	assert_int_equal(config_init(&cfg, &err), 0);
	memset(&set, 0, sizeof(set));
	run = run_new(&cfg, &set, &err);
	assert_non_null(run);
	for (i = 0; i < NELEM(hostile_cases); i++) {
		const struct hostile_case *c = &hostile_cases[i];

		logcap_reset();
		(void)run_count(run, c->outcome, c->org, c->rid, c->why, 1, 5);
		assert_int_equal(logcap.calls, 1);
		if (logcap.l[0].level != c->want_level ||
		    strcmp(logcap.l[0].line, c->want) != 0)
			fail_msg("%s: got \"%s\", want \"%s\"", c->name,
			    logcap.l[0].line, c->want);
		assert_null(strpbrk(logcap.l[0].line, "\n\r\x1b"));
		logcap.l[0].claimed = true;
		logcap_check(c->name);
	}
	run_free(&run);
	config_clear(&cfg);
}

/* A sink that, like any writer, may change errno. */
static void
clobbering_sink(void *arg, enum log_level level, const char *ctx,
    const char *line)
{
	logcap_sink(arg, level, ctx, line);
	errno = EBADF;
}

/* A log call keeps errno, whether the line is kept, dropped or written
 * to stderr. */
static void
test_errno(void **state)
{
	(void)state;
	log_set_sink(clobbering_sink, NULL);
	errno = EAGAIN;
	log_err("to the sink: %s", "x");
	assert_int_equal(errno, EAGAIN);
	logcap_expect("errno", LOG_LEVEL_ERR, "", "to the sink: x");
	log_init("test", 0, LOG_LEVEL_ERR);
	errno = ENOSPC;
	log_info("dropped");
	assert_int_equal(errno, ENOSPC);
	log_set_sink(NULL, NULL);
	errno = EINTR;
	log_err("written to stderr (expected by test_log)");
	assert_int_equal(errno, EINTR);
	log_set_sink(logcap_sink, NULL);
	logcap_check("errno");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_context, setup, teardown),
		cmocka_unit_test_setup_teardown(test_levels, setup, teardown),
		cmocka_unit_test_setup_teardown(test_one_line, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_hostile, setup, teardown),
		cmocka_unit_test_setup_teardown(test_errno, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
