/*
 * batch.c - the batch driver: a message is parsed, then queued on the
 * connection; its result is read later, while the next ones are parsed;
 * the batch commits every BATCH_MESSAGES messages, BATCH_BYTES of input
 * or BATCH_MS, and only then are its messages counted, logged and handed
 * to the caller's done function, in order.
 *
 * A failure of the database ends the batch: nothing of it is committed,
 * none of its messages reaches done, and the connection is closed.  The
 * jobs held in memory are bounded by BATCH_WINDOW; a message whose
 * result has arrived keeps only what its log line needs, as job.c gave
 * it: the strings come from the message and are sanitized when logged.
 */
#include "autoconf.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "batch.h"
#include "log.h"

#define BATCH_MESSAGES 4096
#define BATCH_BYTES ((size_t)64 << 20)
#define BATCH_MS 2000
/* Messages queued whose results have not been read. */
#define BATCH_WINDOW 128

struct batch_item {
	struct job *job;	/* until its result arrives */
	enum job_outcome outcome;
	char *org, *rid, *reason;
	size_t policies;
	long ms;
	struct timespec t0;
	void *data;
	char *source;		/* what its log line is about */
};

struct batch {
	struct run *run;
	batch_done_fn *done;
	void *arg;
	struct batch_item *items;	/* queued, not yet committed */
	size_t n_items, cap_items;
	size_t bytes;
	struct timespec t0;
};

static void
batch_item_clear(struct batch_item *it)
{
	job_free(&it->job);
	free(it->org);
	free(it->rid);
	free(it->reason);
	free(it->source);
	memset(it, 0, sizeof(*it));
}

static char *
batch_strdup(const char *s)
{
	return s != NULL ? strdup(s) : NULL;
}

struct batch *
batch_new(struct run *run, batch_done_fn *done, void *arg,
    struct ti_err *err)
{
	struct batch *b = NULL;

	b = calloc(1, sizeof(*b));
	if (b == NULL) {
		ti_err_set(err, TI_KIND_TEMP, "out of memory");
		return NULL;
	}
	b->run = run;
	b->done = done;
	b->arg = arg;
	return b;
}

static void
batch_drop(struct batch *b)
{
	size_t i;

	for (i = 0; i < b->n_items; i++)
		batch_item_clear(&b->items[i]);
	b->n_items = 0;
	b->bytes = 0;
}

void
batch_free(struct batch **bp)
{
	if (bp == NULL || *bp == NULL)
		return;
	batch_drop(*bp);
	free((*bp)->items);
	free(*bp);
	*bp = NULL;
}

/* The database's result for the item at index tag (a db_result_fn). */
static int
batch_result(void *arg, void *tag, enum db_outcome outcome,
    const char *refusal, struct ti_err *err)
{
	struct batch *b = arg;
	struct batch_item *it = &b->items[(uintptr_t)tag];
	struct job *job = it->job;

	if (outcome == DB_REFUSED)
		return job_queue_refused(job, run_db(b->run, err), refusal,
		    tag, err);
	if (job_usable(job))
		job_set_outcome(job, outcome == DB_STORED ? JOB_STORED :
		    JOB_DUPLICATE);
	else
		job_set_outcome(job, JOB_REJECTED);
	it->outcome = job_outcome(job);
	it->org = batch_strdup(job_organization(job));
	it->rid = batch_strdup(job_report_id(job));
	it->reason = batch_strdup(job_reason(job));
	it->policies = job_policy_count(job);
	it->ms = run_ms_since(&it->t0);
	if (run_settings(b->run)->print_json &&
	    (it->outcome == JOB_STORED || it->outcome == JOB_DUPLICATE))
		run_print_report(b->run, job);
	job_free(&it->job);
	return 0;
}

static void
batch_fail(struct batch *b, const struct ti_err *err)
{
	run_fail_message(b->run, err);
	batch_drop(b);
	run_db_close(b->run);
}

/* The line and done() of one committed message. */
static void
batch_finish_item(struct batch *b, struct batch_item *it)
{
	const char *source = log_get_source();
	enum run_result res;

	/* The line names the message's own source, not the current one. */
	log_set_source(it->source);
	res = run_count(b->run, it->outcome, it->org, it->rid, it->reason,
	    it->policies, it->ms);
	log_set_source(source);
	if (b->done != NULL)
		b->done(b->arg, it->data, res);
	batch_item_clear(it);
}

int
batch_commit(struct batch *b)
{
	struct db *db = NULL;
	struct ti_err err;
	size_t i;

	if (b->n_items == 0)
		return 0;
	ti_err_clear(&err);
	db = run_db(b->run, &err);
	if (db == NULL || db_batch_commit(db, batch_result, b, &err) != 0) {
		batch_fail(b, &err);
		return -1;
	}
	for (i = 0; i < b->n_items; i++)
		batch_finish_item(b, &b->items[i]);
	b->n_items = 0;
	b->bytes = 0;
	return 0;
}

/* A new item at the end of the batch, or NULL with TEMP. */
static struct batch_item *
batch_add(struct batch *b, void *data, struct ti_err *err)
{
	struct batch_item *grown = NULL;
	struct batch_item *it = NULL;
	size_t cap;

	if (b->n_items == b->cap_items) {
		cap = b->cap_items == 0 ? 256 : b->cap_items * 2;
		grown = realloc(b->items, cap * sizeof(*grown));
		if (grown == NULL) {
			ti_err_set(err, TI_KIND_TEMP, "out of memory");
			return NULL;
		}
		b->items = grown;
		b->cap_items = cap;
	}
	if (b->n_items == 0)
		(void)clock_gettime(CLOCK_MONOTONIC, &b->t0);
	it = &b->items[b->n_items];
	memset(it, 0, sizeof(*it));
	it->data = data;
	(void)clock_gettime(CLOCK_MONOTONIC, &it->t0);
	if (log_get_source() != NULL &&
	    (it->source = strdup(log_get_source())) == NULL) {
		ti_err_set(err, TI_KIND_TEMP, "out of memory");
		return NULL;
	}
	b->n_items++;
	return it;
}

enum run_result
batch_message(struct batch *b, struct buf **input, bool truncated,
    void *data)
{
	const struct config *cfg = run_config(b->run);
	struct batch_item *it = NULL;
	struct db *db = NULL;
	struct ti_err err;
	size_t bytes = *input != NULL ? buf_len(*input) : 0;

	ti_err_clear(&err);
	db = run_db(b->run, &err);
	if (db == NULL) {
		buf_free(input);
		run_fail_message(b->run, &err);
		return RUN_RETRY;
	}
	it = batch_add(b, data, &err);
	if (it == NULL || (it->job = job_new(&err)) == NULL) {
		buf_free(input);
		goto fail;
	}
	job_set_input(it->job, input, truncated);
	if (job_prepare(it->job, cfg, &err) != 0 ||
	    db_batch_begin(db, &err) != 0 ||
	    job_queue(it->job, db, (void *)(uintptr_t)(b->n_items - 1),
	    &err) != 0 ||
	    db_batch_collect(db, BATCH_WINDOW, batch_result, b, &err) != 0)
		goto fail;
	b->bytes += bytes;
	if (b->n_items >= BATCH_MESSAGES || b->bytes >= BATCH_BYTES ||
	    run_ms_since(&b->t0) >= BATCH_MS)
		return batch_commit(b) == 0 ? RUN_HANDLED : RUN_RETRY;
	return RUN_HANDLED;
fail:
	batch_fail(b, &err);
	return RUN_RETRY;
}
