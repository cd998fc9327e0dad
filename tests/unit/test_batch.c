/*
 * test_batch.c - the batch driver over several messages: results reach
 * the caller's done function only after the commit, once per message,
 * in order, with what became of each; a report the database refuses
 * becomes a rejected message in the same batch; a failed batch reaches
 * done with nothing and ends the run with 75.
 *
 * The database stage is replaced at link time (fakedb.c); each message
 * logs under its own source.
 */
#include "autoconf.h"

#include <sysexits.h>

#include "testutil.h"
#include "logcap.h"

#include "batch.h"
#include "config.h"
#include "fakedb.h"
#include "run.h"

#define MOX "corpus/mjl-__mox/example.eml"
#define MSFT "corpus/mjl-__mox/microsoft.eml"
#define MISSING "corpus/YnkDK__tls_reporting/missing_required_field.json"
#define MOX_LINE "stored: organization=\"Google Inc.\" " \
	"report-id=\"2022-09-15T00:00:00Z_test.xmox.nl\" policies=1 ms=#"
#define MSFT_LINE "stored: organization=\"Microsoft Corporation\" " \
	"report-id=\"133198585438131172+test.xmox.nl\" policies=1 ms=#"

#define MAX_MESSAGES 200

/* What done() was told, in order. */
static struct {
	size_t n;
	int data[MAX_MESSAGES];
	enum run_result res[MAX_MESSAGES];
} done;

static struct config cfg;
static struct run *run;
static int ids[MAX_MESSAGES];

static void
on_done(void *arg, void *data, enum run_result res)
{
	assert_ptr_equal(arg, &done);
	assert_true(done.n < MAX_MESSAGES);
	done.data[done.n] = *(const int *)data;
	done.res[done.n] = res;
	done.n++;
}

static int
setup(void **state)
{
	struct run_settings set;
	struct ti_err err;
	size_t i;

	(void)state;
	fakedb_reset();
	logcap_start(LOG_LEVEL_INFO);
	memset(&done, 0, sizeof(done));
	for (i = 0; i < MAX_MESSAGES; i++)
		ids[i] = (int)i;
	assert_int_equal(config_init(&cfg, &err), 0);
	memset(&set, 0, sizeof(set));
	set.under_mta = true;
	run = run_new(&cfg, &set, &err);
	assert_non_null(run);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	run_free(&run);
	config_clear(&cfg);
	logcap_stop();
	return 0;
}

/* Message i of a batch, read from fixture name, logged as source "m<i>". */
static enum run_result
queue(struct batch *b, size_t i, const char *name)
{
	struct buf *in = test_read_data(name);
	char source[16];
	enum run_result res;

	(void)snprintf(source, sizeof(source), "m%zu", i);
	log_set_source(source);
	res = batch_message(b, &in, false, &ids[i]);
	log_set_source(NULL);
	assert_null(in);
	return res;
}

struct batch_case {
	const char *name;
	const char *input[4];
	enum db_outcome outcome[4];	/* the reports' answers, in order */
	/* what done must be told, message by message */
	enum run_result want[4];
	const char *want_line[4];	/* each message's line */
	enum log_level want_level[4];
	size_t want_reports, want_rejected;	/* requests queued */
};

static const struct batch_case cases[] = {
	{ .name = "three stored, in order",
	    .input = { MOX, MSFT, MOX },
	    .outcome = { DB_STORED, DB_STORED, DB_DUPLICATE },
	    .want = { RUN_HANDLED, RUN_HANDLED, RUN_HANDLED },
	    .want_line = { MOX_LINE, MSFT_LINE, "duplicate: organization="
	    "\"Google Inc.\" report-id=\"2022-09-15T00:00:00Z_test.xmox.nl\" "
	    "policies=1 ms=#" },
	    .want_level = { LOG_LEVEL_INFO, LOG_LEVEL_INFO, LOG_LEVEL_INFO },
	    .want_reports = 3 },
	{ .name = "refused in the middle: rejected in the same batch",
	    .input = { MOX, MSFT, MOX },
	    .outcome = { DB_STORED, DB_REFUSED, DB_DUPLICATE },
	    .want = { RUN_HANDLED, RUN_REJECTED, RUN_HANDLED },
	    .want_line = { MOX_LINE, "rejected: database refused the "
	    "report: [22023] poisoned (kept in tlsrpt.rejected_message) "
	    "ms=#", "duplicate: organization=\"Google Inc.\" report-id="
	    "\"2022-09-15T00:00:00Z_test.xmox.nl\" policies=1 ms=#" },
	    .want_level = { LOG_LEVEL_INFO, LOG_LEVEL_WARNING,
	    LOG_LEVEL_INFO },
	    .want_reports = 3, .want_rejected = 1 },
	{ .name = "malformed in the middle: rejected, the others stored",
	    .input = { MOX, MISSING, MSFT },
	    .want = { RUN_HANDLED, RUN_REJECTED, RUN_HANDLED },
	    .want_line = { MOX_LINE, "rejected: policies[0].policy."
	    "policy-type: missing (kept in tlsrpt.rejected_message) ms=#",
	    MSFT_LINE },
	    .want_level = { LOG_LEVEL_INFO, LOG_LEVEL_WARNING,
	    LOG_LEVEL_INFO },
	    .want_reports = 2, .want_rejected = 1 },
};

static void
test_case(void **state)
{
	const struct batch_case *c = *state;
	struct batch *b = NULL;
	struct ti_err err;
	char ctx[64];
	size_t i, n = 0;

	memcpy(fakedb.outcome, c->outcome, sizeof(c->outcome));
	b = batch_new(run, on_done, &done, &err);
	assert_non_null(b);
	for (i = 0; i < NELEM(c->input) && c->input[i] != NULL; i++)
		assert_int_equal(queue(b, i, c->input[i]), RUN_HANDLED);
	n = i;
	/* Nothing is told before the rows are durable. */
	assert_int_equal(done.n, 0);
	assert_int_equal(logcap.n, 0);
	assert_int_equal(batch_commit(b), 0);
	assert_int_equal(fakedb.n_commit, 1);
	assert_int_equal(fakedb.n_commit_ok, 1);
	if (fakedb.n_reports != c->want_reports ||
	    fakedb.n_rejected != c->want_rejected)
		fail_msg("%s: %zu reports and %zu rejected queued, want %zu "
		    "and %zu", c->name, fakedb.n_reports, fakedb.n_rejected,
		    c->want_reports, c->want_rejected);
	if (done.n != n)
		fail_msg("%s: done %zu times, want %zu", c->name, done.n, n);
	/* Each rejected request is tagged with a message told rejected. */
	for (i = 0; i < fakedb.n; i++) {
		if (!fakedb.q[i].report &&
		    c->want[(uintptr_t)fakedb.q[i].tag] != RUN_REJECTED)
			fail_msg("%s: request %zu rejects message %zu",
			    c->name, i, (size_t)(uintptr_t)fakedb.q[i].tag);
	}
	for (i = 0; i < n; i++) {
		if (done.data[i] != (int)i || done.res[i] != c->want[i])
			fail_msg("%s: done #%zu: message %d result %d, want "
			    "%zu and %d", c->name, i, done.data[i],
			    done.res[i], i, c->want[i]);
		(void)snprintf(ctx, sizeof(ctx), "source=m%zu: ", i);
		/* The lines come in the messages' order. */
		if (logcap.l[i].level != c->want_level[i] ||
		    strcmp(logcap.l[i].ctx, ctx) != 0)
			fail_msg("%s: line %zu is \"%s%s\", want level %d "
			    "and context %s", c->name, i, logcap.l[i].ctx,
			    logcap.l[i].line, c->want_level[i], ctx);
		logcap_expect(c->name, c->want_level[i], ctx,
		    c->want_line[i]);
	}
	assert_int_equal(logcap.n, n);
	logcap_check(c->name);
	assert_int_equal(run_exit_code(run), EX_OK);
	/* A second commit with nothing queued does nothing. */
	assert_int_equal(batch_commit(b), 0);
	assert_int_equal(fakedb.n_commit, 1);
	assert_int_equal(done.n, n);
	batch_free(&b);
	assert_null(b);
}

/* The commit fails: none of the batch reaches done, the run exits 75. */
static void
test_commit_fails(void **state)
{
	struct batch *b = NULL;
	struct ti_err err;
	size_t i;

	(void)state;
	fakedb.commit_fails = TI_KIND_TEMP;
	b = batch_new(run, on_done, &done, &err);
	assert_non_null(b);
	run_set_total(run, 3);
	for (i = 0; i < 3; i++)
		assert_int_equal(queue(b, i, i == 1 ? MISSING : MOX),
		    RUN_HANDLED);
	assert_int_equal(batch_commit(b), -1);
	assert_int_equal(done.n, 0);
	assert_int_equal(fakedb.n_close, 1);
	logcap_expect("commit", LOG_LEVEL_ERR, "",
	    "commit failed; left for a later try");
	assert_int_equal(logcap.n, 1);
	run_summary(run, "3 files");
	logcap_expect("summary", LOG_LEVEL_INFO, "", "3 files: stored 0, "
	    "duplicates 0, rejected 0, left for retry 3, # ms");
	logcap_check("commit fails");
	assert_int_equal(run_exit_code(run), EX_TEMPFAIL);
	batch_free(&b);
}

/* The database goes away at the third message: the batch is dropped,
 * and what was queued before it never reaches done. */
static void
test_begin_fails(void **state)
{
	struct batch *b = NULL;
	struct ti_err err;

	(void)state;
	fakedb.begin_fails = TI_KIND_TEMP;
	fakedb.begin_fails_at = 3;
	b = batch_new(run, on_done, &done, &err);
	assert_non_null(b);
	assert_int_equal(queue(b, 0, MOX), RUN_HANDLED);
	assert_int_equal(queue(b, 1, MSFT), RUN_HANDLED);
	assert_int_equal(queue(b, 2, MOX), RUN_RETRY);
	assert_int_equal(fakedb.n_close, 1);
	logcap_expect("begin", LOG_LEVEL_ERR, "source=m2: ",
	    "begin failed; left for a later try");
	/* Nothing is left to commit. */
	assert_int_equal(batch_commit(b), 0);
	assert_int_equal(fakedb.n_commit, 0);
	assert_int_equal(done.n, 0);
	assert_int_equal(logcap.n, 1);
	logcap_check("begin fails");
	assert_int_equal(run_exit_code(run), EX_TEMPFAIL);
	batch_free(&b);
}

/*
 * More messages than the window of results outstanding: the fake
 * answers the oldest while the batch is still open, yet done and the
 * log lines still wait for the commit.
 */
static void
test_window(void **state)
{
	struct batch *b = NULL;
	struct ti_err err;
	size_t i;

	(void)state;
	log_init("test", 0, LOG_LEVEL_WARNING);
	b = batch_new(run, on_done, &done, &err);
	assert_non_null(b);
	for (i = 0; i < 150; i++)
		assert_int_equal(queue(b, i, MOX), RUN_HANDLED);
	assert_true(fakedb.n_collect_answers > 0);
	assert_int_equal(done.n, 0);
	assert_int_equal(batch_commit(b), 0);
	assert_int_equal(done.n, 150);
	for (i = 0; i < 150; i++) {
		assert_int_equal(done.data[i], (int)i);
		assert_int_equal(done.res[i], RUN_HANDLED);
	}
	assert_int_equal(fakedb.n_commit, 1);
	run_summary(run, "window");
	logcap_check("window");
	batch_free(&b);
}

int
main(void)
{
	struct CMUnitTest tests[NELEM(cases) + 3];
	size_t i, n = 0;

	for (i = 0; i < NELEM(cases); i++)
		test_add(tests, &n, cases[i].name, test_case, setup, teardown,
		    &cases[i]);
	test_add(tests, &n, "a failed commit reaches done with nothing",
	    test_commit_fails, setup, teardown, NULL);
	test_add(tests, &n, "a failure mid-batch drops the batch",
	    test_begin_fails, setup, teardown, NULL);
	test_add(tests, &n, "results read early still wait for the commit",
	    test_window, setup, teardown, NULL);
	return _cmocka_run_group_tests("batch", tests, n, NULL, NULL);
}
