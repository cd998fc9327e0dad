/*
 * fakedb.h - the database stage replaced at link time for the driver
 * tests (-Wl,--wrap of db_open, db_close, db_idle_ok and db_batch_*):
 * no server is contacted.  The fake records what was queued and answers
 * each request as the test's script says, in order, as the real batch
 * does.  That the real writer stores what is queued is the integration
 * tests' business.
 */
#ifndef TI_FAKEDB_H
#define TI_FAKEDB_H

#include <stdbool.h>
#include <stddef.h>

#include "db.h"
#include "status.h"

#define FAKEDB_REQS 512
#define FAKEDB_SCRIPT 16

/* One request queued by job.c. */
struct fakedb_req {
	bool report;		/* else a rejected message */
	void *tag;
	char org[128];		/* a report's organization-name */
	char reason[512];	/* a rejected message's reason */
};

struct fakedb {
	/* The test's script.  A failure set with _at 0 happens at every
	 * call; with _at n only at the n-th call (from 1). */
	enum ti_kind open_fails, begin_fails, report_fails, commit_fails;
	unsigned begin_fails_at, report_fails_at, commit_fails_at;
	enum db_outcome outcome[FAKEDB_SCRIPT];	/* the n-th report's answer;
						 * 0: DB_STORED */
	const char *refusal;
	bool idle_gone;		/* db_idle_ok says the server closed it */
	/* What happened. */
	struct fakedb_req q[FAKEDB_REQS];
	size_t n, head;		/* queued; answered */
	size_t n_reports, n_rejected, n_answered_reports;
	unsigned n_open, n_close, n_begin, n_report, n_commit, n_commit_ok;
	unsigned n_collect_answers;	/* answered before the commit */
};

extern struct fakedb fakedb;

/* Forget the script and the record. */
void fakedb_reset(void);

#endif
