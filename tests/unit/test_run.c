/*
 * test_run.c - what run_message() makes of a message: its result, the
 * one line logged for it, and the exit code the run ends with, at a
 * terminal and under a mail system; and the closing summary of a run of
 * several messages.
 *
 * Real fixture messages go through the whole pipeline; only the
 * database stage is replaced at link time (fakedb.c), so every outcome,
 * stored, duplicate, rejected, refused, left for a later try, is met
 * without a server.
 */
#include "autoconf.h"

#include <sysexits.h>

#include "testutil.h"
#include "logcap.h"

#include "config.h"
#include "fakedb.h"
#include "run.h"

#define MOX "corpus/mjl-__mox/example.eml"
#define MOX_LINE "organization=\"Google Inc.\" " \
	"report-id=\"2022-09-15T00:00:00Z_test.xmox.nl\" policies=1 ms=#"
#define MISSING "corpus/YnkDK__tls_reporting/missing_required_field.json"
#define MISSING_WHY "policies[0].policy.policy-type: missing"
#define KEPT " (kept in tlsrpt.rejected_message) ms=#"

struct run_case {
	const char *name;
	const char *input;		/* a file under tests/data */
	bool dry_run;
	bool progress;
	bool bounce_malformed;
	size_t max_bytes;		/* 0: the default */
	enum db_outcome outcome;	/* the report's answer; 0: stored */
	enum ti_kind open_fails, begin_fails, commit_fails;
	/* what must come of it */
	enum run_result want;
	enum job_outcome want_outcome;
	enum log_level want_level;
	const char *want_line;		/* a logcap pattern */
	int want_exit_tty, want_exit_mta;
	unsigned want_close;		/* connections closed by the message */
};

static const struct run_case cases[] = {
	{ .name = "stored",
	    .input = MOX,
	    .want = RUN_HANDLED, .want_outcome = JOB_STORED,
	    .want_level = LOG_LEVEL_INFO,
	    .want_line = "stored: " MOX_LINE },
	{ .name = "a bare report file, two policies, stored",
	    .input = "corpus/cry-inc__dmarc-report-viewer/microsoft.json",
	    .want = RUN_HANDLED, .want_outcome = JOB_STORED,
	    .want_level = LOG_LEVEL_INFO,
	    .want_line = "stored: organization=\"Microsoft Corporation\" "
	    "report-id=\"133925885310113267+random.net\" policies=2 ms=#" },
	{ .name = "already stored: a duplicate",
	    .input = MOX, .outcome = DB_DUPLICATE,
	    .want = RUN_HANDLED, .want_outcome = JOB_DUPLICATE,
	    .want_level = LOG_LEVEL_INFO,
	    .want_line = "duplicate: " MOX_LINE },
	{ .name = "with a progress line, the stored line is for -v",
	    .input = MOX, .progress = true,
	    .want = RUN_HANDLED, .want_outcome = JOB_STORED,
	    .want_level = LOG_LEVEL_DEBUG,
	    .want_line = "stored: " MOX_LINE },
	{ .name = "malformed: kept as rejected, a warning, exit 0",
	    .input = MISSING,
	    .want = RUN_REJECTED, .want_outcome = JOB_REJECTED,
	    .want_level = LOG_LEVEL_WARNING,
	    .want_line = "rejected: " MISSING_WHY KEPT },
	{ .name = "malformed with --bounce-malformed: exit 65 everywhere",
	    .input = MISSING, .bounce_malformed = true,
	    .want = RUN_REJECTED, .want_outcome = JOB_REJECTED,
	    .want_level = LOG_LEVEL_WARNING,
	    .want_line = "rejected: " MISSING_WHY KEPT,
	    .want_exit_tty = EX_DATAERR, .want_exit_mta = EX_DATAERR },
	{ .name = "a truncated gzip: rejected",
	    .input = "corpus/YnkDK__tls_reporting/truncated.gz",
	    .want = RUN_REJECTED, .want_outcome = JOB_REJECTED,
	    .want_level = LOG_LEVEL_WARNING,
	    .want_line = "rejected: truncated gzip*" KEPT },
	{ .name = "larger than the limit: rejected",
	    .input = MOX, .max_bytes = 100,
	    .want = RUN_REJECTED, .want_outcome = JOB_REJECTED,
	    .want_level = LOG_LEVEL_WARNING,
	    .want_line = "rejected: message larger than 100 bytes*" KEPT },
	{ .name = "refused by the database: rejected with its reason",
	    .input = MOX, .outcome = DB_REFUSED,
	    .want = RUN_REJECTED, .want_outcome = JOB_REJECTED,
	    .want_level = LOG_LEVEL_WARNING,
	    .want_line = "rejected: database refused the report: [22023] "
	    "poisoned" KEPT },
	{ .name = "dry run, valid",
	    .input = MOX, .dry_run = true,
	    .want = RUN_HANDLED, .want_outcome = JOB_VALID,
	    .want_level = LOG_LEVEL_INFO,
	    .want_line = "valid: " MOX_LINE },
	{ .name = "dry run, invalid: exit 65 everywhere",
	    .input = "corpus/YnkDK__tls_reporting/date_error.json",
	    .dry_run = true,
	    .want = RUN_REJECTED, .want_outcome = JOB_INVALID,
	    .want_level = LOG_LEVEL_WARNING,
	    .want_line = "invalid: date-range.start-datetime: *",
	    .want_exit_tty = EX_DATAERR, .want_exit_mta = EX_DATAERR },
	{ .name = "database down at the start: 75, left for a later try",
	    .input = MOX, .begin_fails = TI_KIND_TEMP,
	    .want = RUN_RETRY, .want_outcome = JOB_NONE,
	    .want_level = LOG_LEVEL_ERR,
	    .want_line = "begin failed; left for a later try",
	    .want_exit_tty = EX_TEMPFAIL, .want_exit_mta = EX_TEMPFAIL,
	    .want_close = 1 },
	{ .name = "schema too old: a configuration error, 75",
	    .input = MOX, .begin_fails = TI_KIND_CONFIG,
	    .want = RUN_RETRY, .want_outcome = JOB_NONE,
	    .want_level = LOG_LEVEL_ERR,
	    .want_line = "begin failed; left for a later try",
	    .want_exit_tty = EX_TEMPFAIL, .want_exit_mta = EX_TEMPFAIL,
	    .want_close = 1 },
	{ .name = "an internal error: 70 at a terminal, 75 under a mail system",
	    .input = MOX, .begin_fails = TI_KIND_INTERNAL,
	    .want = RUN_RETRY, .want_outcome = JOB_NONE,
	    .want_level = LOG_LEVEL_ERR,
	    .want_line = "begin failed; left for a later try",
	    .want_exit_tty = EX_SOFTWARE, .want_exit_mta = EX_TEMPFAIL,
	    .want_close = 1 },
	{ .name = "no connection: 75",
	    .input = MOX, .open_fails = TI_KIND_TEMP,
	    .want = RUN_RETRY, .want_outcome = JOB_NONE,
	    .want_level = LOG_LEVEL_ERR,
	    .want_line = "cannot connect; left for a later try",
	    .want_exit_tty = EX_TEMPFAIL, .want_exit_mta = EX_TEMPFAIL },
	{ .name = "a conninfo that does not parse: 75",
	    .input = MOX, .open_fails = TI_KIND_CONFIG,
	    .want = RUN_RETRY, .want_outcome = JOB_NONE,
	    .want_level = LOG_LEVEL_ERR,
	    .want_line = "cannot connect; left for a later try",
	    .want_exit_tty = EX_TEMPFAIL, .want_exit_mta = EX_TEMPFAIL },
	{ .name = "the commit fails: 75, the connection closed",
	    .input = MOX, .commit_fails = TI_KIND_TEMP,
	    .want = RUN_RETRY, .want_outcome = JOB_NONE,
	    .want_level = LOG_LEVEL_ERR,
	    .want_line = "commit failed; left for a later try",
	    .want_exit_tty = EX_TEMPFAIL, .want_exit_mta = EX_TEMPFAIL,
	    .want_close = 1 },
};

static int
setup(void **state)
{
	(void)state;
	fakedb_reset();
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

/* Every line up to info the test did not claim (debug ones aside). */
static size_t
unclaimed_lines(void)
{
	size_t i, n = 0;

	for (i = 0; i < logcap.n; i++) {
		if (!logcap.l[i].claimed &&
		    logcap.l[i].level <= LOG_LEVEL_INFO)
			n++;
	}
	return n;
}

/* One message through a run of its own; with_out: ask for the outcome. */
static void
run_one(const struct run_case *c, bool under_mta, bool with_out)
{
	struct config cfg;
	struct run_settings set;
	struct run_outcome out;
	struct run *run = NULL;
	struct buf *in = NULL;
	struct ti_err err;
	enum run_result got;
	bool truncated = false;
	int want_exit = under_mta ? c->want_exit_mta : c->want_exit_tty;

	fakedb_reset();
	fakedb.outcome[0] = c->outcome;
	fakedb.open_fails = c->open_fails;
	fakedb.begin_fails = c->begin_fails;
	fakedb.commit_fails = c->commit_fails;
	logcap_reset();
	ti_err_clear(&err);
	assert_int_equal(config_init(&cfg, &err), 0);
	cfg.bounce_malformed = c->bounce_malformed;
	if (c->max_bytes > 0)
		cfg.lim.message_bytes = c->max_bytes;
	memset(&set, 0, sizeof(set));
	set.dry_run = c->dry_run;
	set.progress = c->progress;
	set.under_mta = under_mta;
	run = run_new(&cfg, &set, &err);
	assert_non_null(run);
	in = test_read_data(c->input);
	if (buf_bytes(in).len > cfg.lim.message_bytes) {
		truncated = true;
		buf_truncate(in, cfg.lim.message_bytes);
	}
	memset(&out, 0xa5, sizeof(out));
	got = run_message(run, &in, truncated, with_out ? &out : NULL);
	assert_null(in);
	if (got != c->want)
		fail_msg("%s: result %d, want %d", c->name, got, c->want);
	logcap_expect(c->name, c->want_level, "", c->want_line);
	if (unclaimed_lines() != 0) {
		logcap_dump();
		fail_msg("%s: more than one line", c->name);
	}
	logcap_check(c->name);
	if (run_exit_code(run) != want_exit)
		fail_msg("%s (%s): exit %d, want %d", c->name,
		    under_mta ? "mail system" : "terminal",
		    run_exit_code(run), want_exit);
	if (fakedb.n_close != c->want_close)
		fail_msg("%s: %u connections closed, want %u", c->name,
		    fakedb.n_close, c->want_close);
	if (c->dry_run && fakedb.n_open != 0)
		fail_msg("%s: a dry run connected", c->name);
	if (with_out && out.outcome != c->want_outcome)
		fail_msg("%s: outcome %d, want %d", c->name, out.outcome,
		    c->want_outcome);
	if (with_out && c->want_outcome == JOB_NONE &&
	    strstr(c->want_line, out.why) != c->want_line)
		fail_msg("%s: why \"%s\"", c->name, out.why);
	if (with_out && c->want_outcome == JOB_STORED &&
	    strstr(c->want_line, out.org) == NULL)
		fail_msg("%s: org \"%s\"", c->name, out.org);
	run_free(&run);
	assert_null(run);
	config_clear(&cfg);
}

static void
test_case(void **state)
{
	const struct run_case *c = *state;

	run_one(c, false, true);
	run_one(c, true, false);
}

/*
 * A run of several messages, as FILE arguments are: each outcome counted
 * once, the most urgent exit code kept, and the closing line.
 */
static void
test_summary(void **state)
{
	static const char *const inputs[] = { MOX, MOX, MISSING, MOX };
	struct config cfg;
	struct run_settings set;
	struct run *run = NULL;
	struct buf *in = NULL;
	struct ti_err err;
	enum run_result got[4];
	size_t i;

	(void)state;
	/* The second is already stored; the fourth meets the database
	 * down (each message opens a batch: the fourth begin). */
	fakedb.outcome[1] = DB_DUPLICATE;
	fakedb.begin_fails = TI_KIND_TEMP;
	fakedb.begin_fails_at = 4;
	assert_int_equal(config_init(&cfg, &err), 0);
	memset(&set, 0, sizeof(set));
	run = run_new(&cfg, &set, &err);
	assert_non_null(run);
	run_set_total(run, NELEM(inputs));
	for (i = 0; i < NELEM(inputs); i++) {
		in = test_read_data(inputs[i]);
		got[i] = run_message(run, &in, false, NULL);
	}
	assert_int_equal(got[0], RUN_HANDLED);
	assert_int_equal(got[1], RUN_HANDLED);
	assert_int_equal(got[2], RUN_REJECTED);
	assert_int_equal(got[3], RUN_RETRY);
	run_summary(run, "4 files");
	logcap_expect("first", LOG_LEVEL_INFO, "", "stored: " MOX_LINE);
	logcap_expect("second", LOG_LEVEL_INFO, "", "duplicate: " MOX_LINE);
	logcap_expect("third", LOG_LEVEL_WARNING, "",
	    "rejected: " MISSING_WHY KEPT);
	logcap_expect("fourth", LOG_LEVEL_ERR, "",
	    "begin failed; left for a later try");
	logcap_expect("summary", LOG_LEVEL_INFO, "", "4 files: stored 1, "
	    "duplicates 1, rejected 1, left for retry 1, # ms");
	assert_int_equal(unclaimed_lines(), 0);
	logcap_check("summary");
	assert_int_equal(run_exit_code(run), EX_TEMPFAIL);
	/* The failed batch's connection is not trusted again. */
	assert_int_equal(fakedb.n_close, 1);
	run_free(&run);
	config_clear(&cfg);
}

/* A dry run counts valid and invalid reports, and exits 65. */
static void
test_summary_dry(void **state)
{
	static const char *const inputs[] = { MOX,
	    "corpus/YnkDK__tls_reporting/date_error.json" };
	struct config cfg;
	struct run_settings set;
	struct run *run = NULL;
	struct buf *in = NULL;
	struct ti_err err;
	size_t i;

	(void)state;
	assert_int_equal(config_init(&cfg, &err), 0);
	memset(&set, 0, sizeof(set));
	set.dry_run = true;
	set.under_mta = true;
	run = run_new(&cfg, &set, &err);
	assert_non_null(run);
	for (i = 0; i < NELEM(inputs); i++) {
		in = test_read_data(inputs[i]);
		(void)run_message(run, &in, false, NULL);
	}
	run_summary(run, "2 files");
	logcap_expect("valid", LOG_LEVEL_INFO, "", "valid: " MOX_LINE);
	logcap_expect("invalid", LOG_LEVEL_WARNING, "",
	    "invalid: date-range.start-datetime: *");
	logcap_expect("summary", LOG_LEVEL_INFO, "",
	    "2 files: valid 1, invalid 1, failed 0, # ms");
	assert_int_equal(unclaimed_lines(), 0);
	logcap_check("dry summary");
	assert_int_equal(run_exit_code(run), EX_DATAERR);
	assert_int_equal(fakedb.n_open, 0);
	run_free(&run);
	config_clear(&cfg);
}

int
main(void)
{
	struct CMUnitTest tests[NELEM(cases) + 2];
	size_t i, n = 0;

	for (i = 0; i < NELEM(cases); i++)
		test_add(tests, &n, cases[i].name, test_case, setup, teardown,
		    &cases[i]);
	test_add(tests, &n, "summary of a run of four", test_summary, setup,
	    teardown, NULL);
	test_add(tests, &n, "summary of a dry run", test_summary_dry, setup,
	    teardown, NULL);
	return _cmocka_run_group_tests("run", tests, n, NULL, NULL);
}
