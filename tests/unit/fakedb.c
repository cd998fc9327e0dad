/*
 * fakedb.c - see fakedb.h.
 */
#include "autoconf.h"

#include "testutil.h"

#include "fakedb.h"

struct fakedb fakedb;

struct db *__wrap_db_open(const char *conninfo, unsigned connect_timeout_s,
    unsigned statement_timeout_s, bool wait, struct ti_err *err);
void __wrap_db_close(struct db **dbp);
bool __wrap_db_idle_ok(struct db *db);
int __wrap_db_batch_begin(struct db *db, struct ti_err *err);
int __wrap_db_batch_report(struct db *db, const struct report *r,
    const struct ti_bytes *json, const struct db_meta *meta, void *tag,
    struct ti_err *err);
int __wrap_db_batch_rejected(struct db *db, const struct ti_bytes *raw,
    bool truncated, size_t raw_size, const char *reason,
    const struct db_meta *meta, void *tag, struct ti_err *err);
int __wrap_db_batch_collect(struct db *db, size_t keep, db_result_fn *fn,
    void *arg, struct ti_err *err);
int __wrap_db_batch_commit(struct db *db, db_result_fn *fn, void *arg,
    struct ti_err *err);

void
fakedb_reset(void)
{
	memset(&fakedb, 0, sizeof(fakedb));
	fakedb.refusal = "database refused the report: [22023] poisoned";
}

/* Whether the scripted failure happens at the n-th call. */
static bool
fakedb_fails(enum ti_kind kind, unsigned at, unsigned n)
{
	return kind != TI_KIND_NONE && (at == 0 || at == n);
}

struct db *
__wrap_db_open(const char *conninfo, unsigned connect_timeout_s,
    unsigned statement_timeout_s, bool wait, struct ti_err *err)
{
	(void)conninfo;
	(void)connect_timeout_s;
	(void)statement_timeout_s;
	(void)wait;
	fakedb.n_open++;
	if (fakedb.open_fails != TI_KIND_NONE) {
		ti_err_set(err, fakedb.open_fails, "cannot connect");
		return NULL;
	}
	return (struct db *)&fakedb;
}

void
__wrap_db_close(struct db **dbp)
{
	if (dbp == NULL || *dbp == NULL)
		return;
	assert_ptr_equal(*dbp, (struct db *)&fakedb);
	fakedb.n_close++;
	*dbp = NULL;
}

bool
__wrap_db_idle_ok(struct db *db)
{
	assert_ptr_equal(db, (struct db *)&fakedb);
	return !fakedb.idle_gone;
}

int
__wrap_db_batch_begin(struct db *db, struct ti_err *err)
{
	assert_ptr_equal(db, (struct db *)&fakedb);
	fakedb.n_begin++;
	if (fakedb_fails(fakedb.begin_fails, fakedb.begin_fails_at,
	    fakedb.n_begin))
		return ti_err_set(err, fakedb.begin_fails, "begin failed");
	return 0;
}

static struct fakedb_req *
fakedb_push(bool report, void *tag)
{
	struct fakedb_req *req = NULL;

	assert_true(fakedb.n < FAKEDB_REQS);
	req = &fakedb.q[fakedb.n++];
	memset(req, 0, sizeof(*req));
	req->report = report;
	req->tag = tag;
	return req;
}

int
__wrap_db_batch_report(struct db *db, const struct report *r,
    const struct ti_bytes *json, const struct db_meta *meta, void *tag,
    struct ti_err *err)
{
	struct fakedb_req *req = NULL;

	(void)meta;
	assert_ptr_equal(db, (struct db *)&fakedb);
	assert_non_null(json->data);
	fakedb.n_report++;
	if (fakedb_fails(fakedb.report_fails, fakedb.report_fails_at,
	    fakedb.n_report))
		return ti_err_set(err, fakedb.report_fails,
		    "value too large");
	req = fakedb_push(true, tag);
	(void)snprintf(req->org, sizeof(req->org), "%s",
	    r->organization_name);
	fakedb.n_reports++;
	return 0;
}

int
__wrap_db_batch_rejected(struct db *db, const struct ti_bytes *raw,
    bool truncated, size_t raw_size, const char *reason,
    const struct db_meta *meta, void *tag, struct ti_err *err)
{
	struct fakedb_req *req = NULL;

	(void)truncated;
	(void)meta;
	(void)err;
	assert_ptr_equal(db, (struct db *)&fakedb);
	assert_int_equal(raw->len, raw_size);
	req = fakedb_push(false, tag);
	(void)snprintf(req->reason, sizeof(req->reason), "%s", reason);
	fakedb.n_rejected++;
	return 0;
}

/* Answer the oldest request not answered. */
static int
fakedb_answer(db_result_fn *fn, void *arg, struct ti_err *err)
{
	struct fakedb_req *req = &fakedb.q[fakedb.head++];
	enum db_outcome outcome = DB_STORED;

	if (req->report) {
		if (fakedb.n_answered_reports < FAKEDB_SCRIPT &&
		    fakedb.outcome[fakedb.n_answered_reports] != 0)
			outcome = fakedb.outcome[fakedb.n_answered_reports];
		fakedb.n_answered_reports++;
	}
	return fn(arg, req->tag, outcome, outcome == DB_REFUSED ?
	    fakedb.refusal : "", err);
}

int
__wrap_db_batch_collect(struct db *db, size_t keep, db_result_fn *fn,
    void *arg, struct ti_err *err)
{
	assert_ptr_equal(db, (struct db *)&fakedb);
	while (fakedb.n - fakedb.head > keep) {
		fakedb.n_collect_answers++;
		if (fakedb_answer(fn, arg, err) != 0)
			return -1;
	}
	return 0;
}

/* Every result (what a refusal queues is answered too), then COMMIT. */
int
__wrap_db_batch_commit(struct db *db, db_result_fn *fn, void *arg,
    struct ti_err *err)
{
	assert_ptr_equal(db, (struct db *)&fakedb);
	fakedb.n_commit++;
	while (fakedb.head < fakedb.n) {
		if (fakedb_answer(fn, arg, err) != 0)
			return -1;
	}
	if (fakedb_fails(fakedb.commit_fails, fakedb.commit_fails_at,
	    fakedb.n_commit))
		return ti_err_set(err, fakedb.commit_fails, "commit failed");
	fakedb.n_commit_ok++;
	return 0;
}
