/*
 * test_job.c - what becomes of a message: stored, duplicate, rejected
 * (by a stage or by the database), valid or invalid in a dry run, or
 * left for a later try, and what is handed to the database for each.
 *
 * The database stage is replaced at link time (-Wl,--wrap of the
 * db_batch_* functions job.c calls): the fake records what was queued
 * and answers each request as the test's table says.  That the real
 * writer stores what is queued is the integration tests' business.
 */
#include "autoconf.h"

#include "testutil.h"

#include "config.h"
#include "db.h"
#include "job.h"

/* One request queued by job.c. */
struct fake_req {
	bool report;		/* else a rejected message */
	void *tag;
};

static struct {
	/* the test's script */
	enum db_outcome report_outcome;
	const char *refusal;
	enum ti_kind begin_fails, report_fails, commit_fails;
	/* what was queued */
	struct fake_req q[4];
	size_t n, head;
	size_t n_reports, n_rejected;
	char org[256];
	char source[16];
	char reason[512];
	char headers[256];
	size_t raw_len;
	bool raw_truncated;
} fake;

int __wrap_db_batch_begin(struct db *db, struct ti_err *err);
int __wrap_db_batch_report(struct db *db, const struct report *r,
    const struct ti_bytes *json, const struct db_meta *meta, void *tag,
    struct ti_err *err);
int __wrap_db_batch_rejected(struct db *db, const struct ti_bytes *raw,
    bool truncated, size_t raw_size, const char *reason,
    const struct db_meta *meta, void *tag, struct ti_err *err);
int __wrap_db_batch_commit(struct db *db, db_result_fn *fn, void *arg,
    struct ti_err *err);

int
__wrap_db_batch_begin(struct db *db, struct ti_err *err)
{
	(void)db;
	if (fake.begin_fails != TI_KIND_NONE)
		return ti_err_set(err, fake.begin_fails, "begin failed");
	return 0;
}

static void
fake_push(bool report, void *tag)
{
	assert_true(fake.n < NELEM(fake.q));
	fake.q[fake.n].report = report;
	fake.q[fake.n].tag = tag;
	fake.n++;
}

int
__wrap_db_batch_report(struct db *db, const struct report *r,
    const struct ti_bytes *json, const struct db_meta *meta, void *tag,
    struct ti_err *err)
{
	(void)db;
	assert_non_null(json->data);
	if (fake.report_fails != TI_KIND_NONE)
		return ti_err_set(err, fake.report_fails, "value too large");
	(void)snprintf(fake.org, sizeof(fake.org), "%s",
	    r->organization_name);
	(void)snprintf(fake.source, sizeof(fake.source), "%s", meta->source);
	fake.n_reports++;
	fake_push(true, tag);
	return 0;
}

int
__wrap_db_batch_rejected(struct db *db, const struct ti_bytes *raw,
    bool truncated, size_t raw_size, const char *reason,
    const struct db_meta *meta, void *tag, struct ti_err *err)
{
	(void)db;
	(void)err;
	assert_int_equal(raw->len, raw_size);
	(void)snprintf(fake.reason, sizeof(fake.reason), "%s", reason);
	(void)snprintf(fake.source, sizeof(fake.source), "%s", meta->source);
	(void)snprintf(fake.headers, sizeof(fake.headers), "%s",
	    meta->headers != NULL ? meta->headers : "");
	fake.raw_len = raw->len;
	fake.raw_truncated = truncated;
	fake.n_rejected++;
	fake_push(false, tag);
	return 0;
}

/* Answer every request in order, as the real batch does. */
int
__wrap_db_batch_commit(struct db *db, db_result_fn *fn, void *arg,
    struct ti_err *err)
{
	struct fake_req *req = NULL;
	enum db_outcome outcome;

	(void)db;
	while (fake.head < fake.n) {
		req = &fake.q[fake.head++];
		outcome = req->report ? fake.report_outcome : DB_STORED;
		if (fn(arg, req->tag, outcome, outcome == DB_REFUSED ?
		    fake.refusal : "", err) != 0)
			return -1;
	}
	if (fake.commit_fails != TI_KIND_NONE)
		return ti_err_set(err, fake.commit_fails, "commit failed");
	return 0;
}

struct job_case {
	const char *name;
	const char *input;		/* a file under tests/data */
	bool dry_run;
	bool require_dkim;
	size_t max_bytes;		/* 0: the default */
	enum db_outcome report_outcome;
	enum ti_kind begin_fails, report_fails, commit_fails;
	/* what must come of it */
	int want_rc;
	enum ti_kind want_kind;		/* when want_rc is -1 */
	enum job_outcome want;
	size_t want_reports, want_rejected;
	const char *want_reason;	/* start of the reason, or NULL */
	const char *want_source;	/* "mail" or "file", or NULL */
};

static const char *const refusal =
    "database refused the report: [22023] poisoned";

static const struct job_case cases[] = {
	{ "a report in a message, stored", "corpus/mjl-__mox/example.eml",
	    false, false, 0, DB_STORED, 0, 0, 0, 0, 0, JOB_STORED, 1, 0,
	    NULL, "mail" },
	{ "a bare report file, stored",
	    "corpus/domainaware__parsedmarc/rfc8460.json",
	    false, false, 0, DB_STORED, 0, 0, 0, 0, 0, JOB_STORED, 1, 0,
	    NULL, "file" },
	{ "already stored: a duplicate", "corpus/mjl-__mox/example.eml",
	    false, false, 0, DB_DUPLICATE, 0, 0, 0, 0, 0, JOB_DUPLICATE, 1, 0,
	    NULL, NULL },
	{ "refused by the database: kept as rejected, the server's reason",
	    "corpus/mjl-__mox/example.eml",
	    false, false, 0, DB_REFUSED, 0, 0, 0, 0, 0, JOB_REJECTED, 1, 1,
	    "database refused the report: [22023] poisoned", "mail" },
	{ "a value no column takes: kept as rejected, never sent",
	    "corpus/mjl-__mox/example.eml",
	    false, false, 0, DB_STORED, 0, TI_KIND_DATA, 0, 0, 0,
	    JOB_REJECTED, 0, 1, "value too large", "mail" },
	{ "a malformed report: kept as rejected with the path",
	    "corpus/YnkDK__tls_reporting/missing_required_field.json",
	    false, false, 0, DB_STORED, 0, 0, 0, 0, 0, JOB_REJECTED, 0, 1,
	    "policies[0].policy.policy-type: missing", "file" },
	{ "a truncated gzip: kept as rejected",
	    "corpus/YnkDK__tls_reporting/truncated.gz",
	    false, false, 0, DB_STORED, 0, 0, 0, 0, 0, JOB_REJECTED, 0, 1,
	    "truncated gzip", NULL },
	{ "larger than the limit: kept as rejected, truncated",
	    "corpus/mjl-__mox/example.eml",
	    false, false, 100, DB_STORED, 0, 0, 0, 0, 0, JOB_REJECTED, 0, 1,
	    "message larger than 100 bytes", NULL },
	{ "require_dkim and no verdict: kept as rejected",
	    "corpus/domainaware__parsedmarc/rfc8460.json",
	    false, true, 0, DB_STORED, 0, 0, 0, 0, 0, JOB_REJECTED, 0, 1,
	    "no passing DKIM signature", NULL },
	{ "database down at the start: temporary, nothing queued",
	    "corpus/mjl-__mox/example.eml",
	    false, false, 0, DB_STORED, TI_KIND_TEMP, 0, 0, -1, TI_KIND_TEMP,
	    JOB_NONE, 0, 0, NULL, NULL },
	{ "schema too old: a configuration error",
	    "corpus/mjl-__mox/example.eml",
	    false, false, 0, DB_STORED, TI_KIND_CONFIG, 0, 0, -1,
	    TI_KIND_CONFIG, JOB_NONE, 0, 0, NULL, NULL },
	{ "the commit fails: temporary",
	    "corpus/mjl-__mox/example.eml",
	    false, false, 0, DB_STORED, 0, 0, TI_KIND_TEMP, -1, TI_KIND_TEMP,
	    JOB_STORED, 1, 0, NULL, NULL },
	{ "the report fails for a reason of ours: temporary",
	    "corpus/mjl-__mox/example.eml",
	    false, false, 0, DB_STORED, 0, TI_KIND_TEMP, 0, -1, TI_KIND_TEMP,
	    JOB_NONE, 0, 0, NULL, NULL },
	{ "dry run: valid, nothing queued", "corpus/mjl-__mox/example.eml",
	    true, false, 0, DB_STORED, 0, 0, 0, 0, 0, JOB_VALID, 0, 0, NULL,
	    NULL },
	{ "dry run: invalid, nothing queued",
	    "corpus/YnkDK__tls_reporting/date_error.json",
	    true, false, 0, DB_STORED, 0, 0, 0, 0, 0, JOB_INVALID, 0, 0,
	    "date-range.start-datetime: ", NULL },
};

static void
run_case(const struct job_case *c)
{
	struct config cfg;
	struct job *job = NULL;
	struct buf *in = NULL;
	struct ti_err err;
	struct ti_bytes raw;
	bool truncated = false;
	int rc;

	memset(&fake, 0, sizeof(fake));
	fake.report_outcome = c->report_outcome;
	fake.refusal = refusal;
	fake.begin_fails = c->begin_fails;
	fake.report_fails = c->report_fails;
	fake.commit_fails = c->commit_fails;
	ti_err_clear(&err);
	assert_int_equal(config_init(&cfg, &err), 0);
	cfg.require_dkim = c->require_dkim;
	if (c->max_bytes > 0)
		cfg.lim.message_bytes = c->max_bytes;
	in = test_read_data(c->input);
	raw = buf_bytes(in);
	if (raw.len > cfg.lim.message_bytes) {
		truncated = true;
		buf_truncate(in, cfg.lim.message_bytes);
	}
	job = job_new(&err);
	assert_non_null(job);
	job_set_input(job, &in, truncated);
	assert_null(in);
	rc = job_run(job, c->dry_run ? NULL : (struct db *)&fake, &cfg, &err);
	if (rc != c->want_rc)
		fail_msg("%s: job_run %d, want %d (%s)", c->name, rc,
		    c->want_rc, err.msg);
	if (rc != 0 && err.kind != c->want_kind)
		fail_msg("%s: kind %d, want %d", c->name, err.kind,
		    c->want_kind);
	if (job_outcome(job) != c->want)
		fail_msg("%s: outcome %d, want %d", c->name, job_outcome(job),
		    c->want);
	if (fake.n_reports != c->want_reports ||
	    fake.n_rejected != c->want_rejected)
		fail_msg("%s: %zu reports and %zu rejected queued, want %zu "
		    "and %zu", c->name, fake.n_reports, fake.n_rejected,
		    c->want_reports, c->want_rejected);
	if (c->want_reason != NULL &&
	    strncmp(job_reason(job), c->want_reason,
	    strlen(c->want_reason)) != 0)
		fail_msg("%s: reason \"%s\", want \"%s...\"", c->name,
		    job_reason(job), c->want_reason);
	if (fake.n_rejected > 0) {
		assert_string_equal(fake.reason, job_reason(job));
		assert_int_equal(fake.raw_truncated, truncated);
		assert_int_equal(fake.raw_len, truncated ? c->max_bytes :
		    raw.len);
	}
	if (c->want_source != NULL)
		assert_string_equal(fake.source, c->want_source);
	job_free(&job);
	assert_null(job);
	config_clear(&cfg);
}

static void
test_cases(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(cases); i++)
		run_case(&cases[i]);
}

/* A report by HTTPS: the body is the report whatever it holds, source
 * https, the request's header text, and with keep_aside false nothing
 * that is not a usable report is queued. */
static void
test_https_origin(void **state)
{
	static const struct {
		const char *name;
		const char *input;
		bool keep_aside;
		bool require_dkim;
		enum db_outcome report_outcome;
		enum job_outcome want;
		size_t want_reports, want_rejected;
		const char *want_reason;
	} https_cases[] = {
		{ "a report: stored", "corpus/domainaware__parsedmarc/rfc8460.json",
		    true, false, DB_STORED, JOB_STORED, 1, 0, "" },
		{ "a gzip'd report: stored",
		    "corpus/aldy505__mailweave/google.com_example.com_1747094400_1747180799_001.json.gz",
		    true, false, DB_STORED, JOB_STORED, 1, 0, "" },
		{ "a mail message is not a report body: kept",
		    "corpus/mjl-__mox/example.eml", true, false, DB_STORED,
		    JOB_REJECTED, 0, 1, "invalid JSON" },
		{ "not usable, not to be kept: invalid, nothing queued",
		    "corpus/YnkDK__tls_reporting/missing_required_field.json",
		    false, false, DB_STORED, JOB_INVALID, 0, 0,
		    "policies[0].policy.policy-type: missing" },
		{ "refused by the database, not to be kept: invalid",
		    "corpus/domainaware__parsedmarc/rfc8460.json", false, false,
		    DB_REFUSED, JOB_INVALID, 1, 0,
		    "database refused the report: [22023] poisoned" },
		{ "require_dkim: kept, no signature by HTTPS",
		    "corpus/domainaware__parsedmarc/rfc8460.json", true, true,
		    DB_STORED, JOB_REJECTED, 0, 1,
		    "a report by HTTPS carries no DKIM signature" },
	};
	struct job_origin origin;
	struct config cfg;
	struct job *job = NULL;
	struct buf *in = NULL;
	struct ti_err err;
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(https_cases); i++) {
		memset(&fake, 0, sizeof(fake));
		fake.report_outcome = https_cases[i].report_outcome;
		fake.refusal = refusal;
		assert_int_equal(config_init(&cfg, &err), 0);
		cfg.require_dkim = https_cases[i].require_dkim;
		origin.headers = "Client-Address: 192.0.2.1\n";
		origin.keep_aside = https_cases[i].keep_aside;
		in = test_read_data(https_cases[i].input);
		job = job_new(&err);
		assert_non_null(job);
		job_set_input(job, &in, false);
		job_set_origin(job, &origin);
		if (job_run(job, (struct db *)&fake, &cfg, &err) != 0)
			fail_msg("%s: %s", https_cases[i].name, err.msg);
		if (job_outcome(job) != https_cases[i].want ||
		    fake.n_reports != https_cases[i].want_reports ||
		    fake.n_rejected != https_cases[i].want_rejected ||
		    strncmp(job_reason(job), https_cases[i].want_reason,
		    strlen(https_cases[i].want_reason)) != 0)
			fail_msg("%s: outcome %d, %zu reports and %zu rejected "
			    "queued, reason \"%s\"", https_cases[i].name,
			    job_outcome(job), fake.n_reports, fake.n_rejected,
			    job_reason(job));
		if (fake.n_reports + fake.n_rejected > 0)
			assert_string_equal(fake.source, "https");
		if (fake.n_rejected > 0)
			assert_string_equal(fake.headers, origin.headers);
		job_free(&job);
		config_clear(&cfg);
	}
}

/* What a stored report tells its log line. */
static void
test_stored_names(void **state)
{
	struct config cfg;
	struct job *job = NULL;
	struct buf *in = NULL;
	struct ti_err err;

	(void)state;
	memset(&fake, 0, sizeof(fake));
	fake.report_outcome = DB_STORED;
	assert_int_equal(config_init(&cfg, &err), 0);
	in = test_read_data("corpus/domainaware__parsedmarc/rfc8460.json");
	job = job_new(&err);
	assert_non_null(job);
	job_set_input(job, &in, false);
	assert_int_equal(job_run(job, (struct db *)&fake, &cfg, &err), 0);
	assert_int_equal(job_outcome(job), JOB_STORED);
	assert_string_equal(job_organization(job), "Company-X");
	assert_string_equal(fake.org, "Company-X");
	assert_string_equal(job_report_id(job),
	    "5065427c-23d3-47ca-b6e0-946ea0e8c4be");
	assert_int_equal(job_policy_count(job), 1);
	assert_string_equal(job_reason(job), "");
	job_free(&job);
	config_clear(&cfg);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cases),
		cmocka_unit_test(test_stored_names),
		cmocka_unit_test(test_https_origin),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
