/*
 * run.c - what every mode shares: open the database once, push each
 * message through job_run(), log one line per message, count outcomes and
 * keep the worst exit code.
 */
#include "autoconf.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "run.h"

void
run_begin(struct run *run)
{
	(void)clock_gettime(CLOCK_MONOTONIC, &run->t0);
}

long
run_elapsed_ms(const struct run *run)
{
	return run_ms_since(&run->t0);
}

void
run_exit(struct run *run, int code)
{
	run->exit_code = ti_exit_worse(run->exit_code, code);
}

void
run_fail(struct run *run, const struct ti_err *err)
{
	run_progress_clear(run);
	if (err->kind == TI_KIND_USAGE || err->kind == TI_KIND_IO)
		log_err("%s", err->msg);
	else
		log_err("%s; left for a later try", err->msg);
	run_exit(run, ti_kind_exit(err->kind, run->under_mta));
}

long
run_ms_since(const struct timespec *t0)
{
	struct timespec t1;

	(void)clock_gettime(CLOCK_MONOTONIC, &t1);
	return (long)(t1.tv_sec - t0->tv_sec) * 1000 +
	    (t1.tv_nsec - t0->tv_nsec) / 1000000;
}

/*
 * The line for one message's outcome, and its count.  sanitized: the
 * three strings are already fit for a log (they came from a server).
 */
static enum run_result
run_outcome_line(struct run *run, enum job_outcome o, const char *org_raw,
    const char *rid_raw, const char *why_raw, bool sanitized,
    size_t policies, long ms)
{
	char org_buf[LOG_SANITIZED_BYTES];
	char rid_buf[LOG_SANITIZED_BYTES];
	char why_buf[LOG_SANITIZED_BYTES];
	const char *org = org_buf, *rid = rid_buf, *why = why_buf;
	static const char *verb[] = { "", "stored", "duplicate", "", "valid",
	    "" };

	/* Sanitizing costs; skip it when the line is not written. */
	enum log_level level = o == JOB_REJECTED || o == JOB_INVALID ?
	    LOG_LEVEL_WARNING : run->progress ? LOG_LEVEL_DEBUG :
	    LOG_LEVEL_INFO;

	org_buf[0] = rid_buf[0] = why_buf[0] = '\0';
	if (sanitized) {
		org = org_raw;
		rid = rid_raw;
		why = why_raw;
	} else if (log_enabled(level)) {
		log_sanitize(org_raw, org_buf, sizeof(org_buf));
		log_sanitize(rid_raw, rid_buf, sizeof(rid_buf));
		log_sanitize(why_raw, why_buf, sizeof(why_buf));
	}
	if (log_enabled(level))
		run_progress_clear(run);
	switch (o) {
	case JOB_STORED:
	case JOB_DUPLICATE:
	case JOB_VALID:
		if (o == JOB_STORED)
			run->n_stored++;
		else if (o == JOB_DUPLICATE)
			run->n_duplicate++;
		else
			run->n_valid++;
		/* With a progress line, one line per message is for -v. */
		if (run->progress)
			log_debug("%s: organization=\"%s\" report-id=\"%s\" "
			    "policies=%zu ms=%ld", verb[o], org, rid, policies,
			    ms);
		else
			log_info("%s: organization=\"%s\" report-id=\"%s\" "
			    "policies=%zu ms=%ld", verb[o], org, rid, policies,
			    ms);
		return RUN_HANDLED;
	case JOB_REJECTED:
		run->n_rejected++;
		log_warning("rejected: %s (kept in tlsrpt.rejected_message) "
		    "ms=%ld", why, ms);
		if (run->cfg.bounce_malformed)
			run_exit(run, EX_DATAERR);
		return RUN_REJECTED;
	case JOB_INVALID:
		run->n_invalid++;
		log_warning("invalid: %s", why);
		run_exit(run, EX_DATAERR);
		return RUN_REJECTED;
	case JOB_NONE:
		break;
	}
	return RUN_RETRY;
}

/* The outcome of a job, and what a client is told of it (ans, or NULL). */
static enum run_result
run_outcome(struct run *run, const struct job *job, long ms,
    struct run_answer *ans)
{
	if (ans == NULL)
		return run_outcome_line(run, job_outcome(job),
		    job_organization(job), job_report_id(job),
		    job_reason(job), false, job_policy_count(job), ms);
	ans->outcome = job_outcome(job);
	ans->policies = job_policy_count(job);
	log_sanitize(job_organization(job), ans->org, sizeof(ans->org));
	log_sanitize(job_report_id(job), ans->rid, sizeof(ans->rid));
	log_sanitize(job_reason(job), ans->why, sizeof(ans->why));
	return run_outcome_line(run, ans->outcome, ans->org, ans->rid,
	    ans->why, true, ans->policies, ms);
}

enum run_result
run_answered(struct run *run, const struct run_answer *ans, long ms)
{
	struct ti_err err;

	if (ans->outcome != JOB_NONE) {
		run->n_done++;
		return run_outcome_line(run, ans->outcome, ans->org, ans->rid,
		    ans->why, true, ans->policies, ms);
	}
	run->n_failed++;
	ti_err_set(&err, TI_KIND_TEMP, "%s", ans->why);
	run_fail(run, &err);
	return RUN_RETRY;
}

static void
run_print_json(struct run *run, const struct job *job)
{
	struct buf *line = NULL;
	struct ti_err err;

	line = buf_new(TI_HARD_INFLATED_BYTES, &err);
	if (line == NULL || job_report_json(job, line, &err) != 0) {
		log_err("printing the report: %s", err.msg);
		run_exit(run, EX_SOFTWARE);
	} else if (printf("%s\n", (const char *)line->data) < 0 ||
	    fflush(stdout) != 0) {
		log_err("writing standard output: %s", strerror(errno));
		run_exit(run, EX_IOERR);
	}
	buf_free(&line);
}

/*
 * alarm() is a system call, and a message takes some 50 microseconds: in
 * a batch the limit is re-armed at most once a second, one second
 * longer, so that every message still has at least the limit.
 */
void
run_arm(struct run *run)
{
	struct timespec now;

	(void)clock_gettime(CLOCK_MONOTONIC, &now);
	if (run->armed_at != 0 && now.tv_sec == run->armed_at)
		return;
	(void)alarm(run->cfg.lim.timeout_seconds + 1);
	/* CLOCK_MONOTONIC starts at boot: second 0 passes once. */
	run->armed_at = now.tv_sec != 0 ? now.tv_sec : 1;
}

void
run_disarm(struct run *run)
{
	(void)alarm(0);
	run->armed_at = 0;
}

/*
 * Start connecting to the database, so that the server starts its
 * backend while the message is read and parsed.  A failure here is met
 * again, and reported, when the message is stored.
 */
void
run_db_start(struct run *run)
{
	struct ti_err err;

	ti_err_clear(&err);
	if (!run->dry_run && run->db == NULL)
		run->db = db_open(run->cfg.db, run->cfg.connect_timeout_seconds,
		    run->cfg.statement_timeout_seconds, false, &err);
}

enum run_result
run_message(struct run *run, struct buf **input, bool truncated)
{
	return run_message_answer(run, input, truncated, NULL);
}

enum run_result
run_message_answer(struct run *run, struct buf **input, bool truncated,
    struct run_answer *ans)
{
	struct job *job = NULL;
	struct timespec t0;
	struct ti_err err;
	enum run_result res = RUN_RETRY;

	ti_err_clear(&err);
	(void)clock_gettime(CLOCK_MONOTONIC, &t0);
	job = job_new(&err);
	if (job == NULL) {
		buf_free(input);
		goto fail;
	}
	job_set_input(job, input, truncated);
	if (!run->dry_run && run->db == NULL) {
		run->db = db_open(run->cfg.db, run->cfg.connect_timeout_seconds,
		    run->cfg.statement_timeout_seconds, false, &err);
		if (run->db == NULL)
			goto fail;
	}
	if (job_run(job, run->db, &run->cfg, &err) != 0) {
		/* A connection that failed is not trusted again. */
		db_close(&run->db);
		goto fail;
	}
	res = run_outcome(run, job, run_ms_since(&t0), ans);
	if (run->print_json && res == RUN_HANDLED)
		run_print_json(run, job);
	run->n_done++;
	job_free(&job);
	return res;
fail:
	run->n_failed++;
	run_fail(run, &err);
	if (ans != NULL) {
		ans->outcome = JOB_NONE;
		ans->policies = 0;
		ans->org[0] = ans->rid[0] = '\0';
		log_sanitize(err.msg, ans->why, sizeof(ans->why));
	}
	job_free(&job);
	return RUN_RETRY;
}

/*
 * Batches.  A message is parsed, then sent; its answer is read later
 * (parsing overlaps the server's work); the batch commits every
 * RUN_BATCH_MESSAGES messages, RUN_BATCH_BYTES of input or RUN_BATCH_MS,
 * and only then are its messages counted, logged and handed to done:
 * a few with each message sent after the commit, so that the caller's
 * work on them (moving files) overlaps the server's on the next ones.
 * A Maildir sweep commits at the end of each chunk of 4000 names, so the
 * count here stays above that.  A commit waits for the server to finish
 * what it was sent, with nothing to parse meanwhile: at 1000 messages a
 * batch that wait was a tenth of a sweep's time.
 */
#define RUN_BATCH_MESSAGES 4096
#define RUN_BATCH_BYTES ((size_t)64 << 20)
#define RUN_BATCH_MS 2000
/*
 * Messages queued whose answers have not been read: the jobs held in
 * memory.  Two groups of reports (db.c): the server stores one while the
 * next is parsed.
 */
#define RUN_WINDOW 128

struct run_item {
	struct job *job;	/* until its answer arrives */
	bool refused;		/* re-sent as a rejected message */
	enum job_outcome outcome;
	char *org, *rid, *reason;
	size_t policies;
	long ms;
	struct timespec t0;
	void *data;
	char *source;		/* what its log lines are about */
};

static void
item_clear(struct run_item *it)
{
	job_free(&it->job);
	free(it->org);
	free(it->rid);
	free(it->reason);
	free(it->source);
	memset(it, 0, sizeof(*it));
}

static char *
dup_or_null(const char *s)
{
	return s != NULL ? strdup(s) : NULL;
}

/* An answer for the item at index tag. */
static int
run_answer(void *arg, void *tag, enum db_outcome outcome,
    const char *refusal, struct ti_err *err)
{
	struct run *run = arg;
	struct run_item *it = &run->items[(uintptr_t)tag];
	struct job *job = it->job;

	if (outcome == DB_REFUSED)
		return job_queue_refused(job, run->db, refusal, tag, err);
	if (job_usable(job))
		job_set_outcome(job, outcome == DB_STORED ? JOB_STORED :
		    JOB_DUPLICATE);
	else
		job_set_outcome(job, JOB_REJECTED);
	it->outcome = job_outcome(job);
	it->org = dup_or_null(job_organization(job));
	it->rid = dup_or_null(job_report_id(job));
	it->reason = dup_or_null(job_reason(job));
	it->policies = job_policy_count(job);
	it->ms = run_ms_since(&it->t0);
	if (run->print_json && (it->outcome == JOB_STORED ||
	    it->outcome == JOB_DUPLICATE))
		run_print_json(run, job);
	job_free(&it->job);
	return 0;
}

static void
run_batch_drop(struct run *run)
{
	size_t i;

	for (i = 0; i < run->n_items; i++)
		item_clear(&run->items[i]);
	run->n_items = 0;
	run->batch_bytes = 0;
}

static void run_finish_later(struct run *run, size_t max);

static void
run_batch_fail(struct run *run, const struct ti_err *err)
{
	/* What was committed before is done whatever happens now. */
	run_finish_later(run, SIZE_MAX);
	run_fail(run, err);
	run->n_failed += run->n_items;
	run_batch_drop(run);
	db_close(&run->db);
}

/* The line and done() of one committed message. */
static void
run_finish_item(struct run *run, struct run_item *it, run_done_fn *done)
{
	const char *source = log_get_source();
	enum run_result res;

	/* The line names the message's own source, not the current one. */
	log_set_source(it->source);
	res = run_outcome_line(run, it->outcome, it->org, it->rid, it->reason,
	    false, it->policies, it->ms);
	log_set_source(source);
	run->n_done++;
	if (done != NULL)
		done(run, it->data, res);
	item_clear(it);
}

/* Finish at most max of the messages committed earlier. */
static void
run_finish_later(struct run *run, size_t max)
{
	while (max-- > 0 && run->fin_next < run->n_fin)
		run_finish_item(run, &run->fin[run->fin_next++], run->fin_done);
	if (run->fin_next == run->n_fin) {
		run->n_fin = 0;
		run->fin_next = 0;
	}
}

static int
run_batch_commit_mode(struct run *run, run_done_fn *done, bool later)
{
	struct run_item *t = NULL;
	struct ti_err err;
	size_t i, cap;

	run_finish_later(run, SIZE_MAX);
	if (run->db == NULL || run->n_items == 0)
		return 0;
	ti_err_clear(&err);
	if (db_batch_commit(run->db, run_answer, run, &err) != 0) {
		run_batch_fail(run, &err);
		return -1;
	}
	if (!later) {
		for (i = 0; i < run->n_items; i++)
			run_finish_item(run, &run->items[i], done);
	} else {
		/* The committed items become the ones to finish; the two
		 * arrays trade places. */
		t = run->fin;
		cap = run->cap_fin;
		run->fin = run->items;
		run->cap_fin = run->cap_items;
		run->n_fin = run->n_items;
		run->fin_next = 0;
		run->fin_done = done;
		run->items = t;
		run->cap_items = cap;
	}
	run->n_items = 0;
	run->batch_bytes = 0;
	return 0;
}

int
run_batch_commit(struct run *run, run_done_fn *done)
{
	return run_batch_commit_mode(run, done, false);
}

int
run_batch_commit_later(struct run *run, run_done_fn *done)
{
	return run_batch_commit_mode(run, done, true);
}

void
run_batch_finish(struct run *run)
{
	run_finish_later(run, SIZE_MAX);
}

enum run_result
run_batch_message(struct run *run, struct buf **input, bool truncated,
    void *data, run_done_fn *done)
{
	struct run_item *it = NULL;
	struct run_item *grown = NULL;
	struct job *job = NULL;
	struct ti_err err;
	size_t bytes = *input != NULL ? (*input)->len : 0;
	size_t cap;

	ti_err_clear(&err);
	if (run->db == NULL) {
		run->db = db_open(run->cfg.db, run->cfg.connect_timeout_seconds,
		    run->cfg.statement_timeout_seconds, false, &err);
		if (run->db == NULL) {
			buf_free(input);
			run->n_failed++;
			run_fail(run, &err);
			return RUN_RETRY;
		}
	}
	if (run->n_items == run->cap_items) {
		cap = run->cap_items == 0 ? 256 : run->cap_items * 2;
		grown = realloc(run->items, cap * sizeof(*grown));
		if (grown == NULL) {
			buf_free(input);
			ti_err_set(&err, TI_KIND_TEMP, "out of memory");
			goto fail;
		}
		run->items = grown;
		run->cap_items = cap;
	}
	if (run->n_items == 0)
		(void)clock_gettime(CLOCK_MONOTONIC, &run->batch_t0);
	it = &run->items[run->n_items++];
	memset(it, 0, sizeof(*it));
	it->data = data;
	(void)clock_gettime(CLOCK_MONOTONIC, &it->t0);
	if (log_get_source() != NULL &&
	    (it->source = strdup(log_get_source())) == NULL) {
		buf_free(input);
		ti_err_set(&err, TI_KIND_TEMP, "out of memory");
		goto fail;
	}
	job = job_new(&err);
	if (job == NULL) {
		buf_free(input);
		goto fail;
	}
	it->job = job;
	job_set_input(job, input, truncated);
	if (job_prepare(job, &run->cfg, &err) != 0 ||
	    db_batch_begin(run->db, &err) != 0 ||
	    job_queue(job, run->db, (void *)(uintptr_t)(run->n_items - 1),
	    &err) != 0 ||
	    db_batch_collect(run->db, RUN_WINDOW, run_answer, run, &err) != 0)
		goto fail;
	run->batch_bytes += bytes;
	/* Two finished for each one sent: a batch is through long before
	 * the next commits. */
	run_finish_later(run, 2);
	if (run->n_items >= RUN_BATCH_MESSAGES ||
	    run->batch_bytes >= RUN_BATCH_BYTES ||
	    run_ms_since(&run->batch_t0) >= RUN_BATCH_MS)
		return run_batch_commit_later(run, done) == 0 ?
		    RUN_HANDLED : RUN_RETRY;
	return RUN_HANDLED;
fail:
	run->n_failed++;
	if (run->n_items > 0 && it != NULL && it->job == NULL) {
		item_clear(it);
		run->n_items--;
	}
	run_batch_fail(run, &err);
	return RUN_RETRY;
}

void
run_progress(struct run *run)
{
	time_t now = time(NULL);
	double secs, rate;
	long eta;

	if (!run->progress || now == run->progress_drawn)
		return;
	run->progress_drawn = now;
	run->progress_shown = true;
	secs = (double)run_elapsed_ms(run) / 1000.0;
	rate = secs > 0 ? (double)run->n_done / secs : 0;
	eta = rate > 0 && run->n_total > run->n_done ?
	    (long)((double)(run->n_total - run->n_done) / rate) : 0;
	(void)fprintf(stderr, "\r%lu/%lu messages, %.0f/s, ETA %ld:%02ld   ",
	    run->n_done, run->n_total, rate, eta / 60, eta % 60);
}

void
run_progress_clear(struct run *run)
{
	if (run->progress_shown) {
		(void)fputs("\r\033[K", stderr);
		run->progress_shown = false;
	}
}

void
run_summary(struct run *run, const char *what)
{
	char label[LOG_SANITIZED_BYTES];

	run_progress_clear(run);
	log_sanitize(what, label, sizeof(label));
	if (run->dry_run)
		log_info("%s: valid %lu, invalid %lu, failed %lu, %ld ms",
		    label, run->n_valid, run->n_invalid, run->n_failed,
		    run_elapsed_ms(run));
	else
		log_info("%s: stored %lu, duplicates %lu, rejected %lu, "
		    "left for retry %lu, %ld ms", label, run->n_stored,
		    run->n_duplicate, run->n_rejected,
		    run->n_total > run->n_done ? run->n_total - run->n_done :
		    run->n_failed, run_elapsed_ms(run));
}

void
run_end(struct run *run)
{
	run_finish_later(run, SIZE_MAX);
	run_batch_drop(run);
	free(run->items);
	run->items = NULL;
	free(run->fin);
	run->fin = NULL;
	db_close(&run->db);
	config_clear(&run->cfg);
	buf_shutdown();
}
