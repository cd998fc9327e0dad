/*
 * run.c - what every mode shares: open the database once, push each
 * message through job_run(), log one line per message, count outcomes and
 * keep the most urgent exit code.
 *
 * Organization, report id and reason come from the message: they are
 * sanitized (log_sanitize) before they reach a log line.
 */
#include "autoconf.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "run.h"

struct run {
	const struct config *cfg;
	struct run_settings set;
	struct db *db;
	struct timespec t0;
	unsigned long n_outcome[JOB_INVALID + 1];
	unsigned long n_failed;	/* left for a later try */
	unsigned long n_done, n_total;
	time_t progress_drawn;	/* when the progress line was last drawn */
	bool progress_shown;	/* it is on the screen */
	int exit_code;
};

/* How each outcome is named in its log line, and what it means to the
 * caller. */
static const struct {
	enum job_outcome outcome;
	const char *name;
	enum run_result result;
} run_outcomes[] = {
	{ JOB_STORED, "stored", RUN_HANDLED },
	{ JOB_DUPLICATE, "duplicate", RUN_HANDLED },
	{ JOB_VALID, "valid", RUN_HANDLED },
	{ JOB_REJECTED, "rejected", RUN_REJECTED },
	{ JOB_INVALID, "invalid", RUN_REJECTED },
};

struct run *
run_new(const struct config *cfg, const struct run_settings *set,
    struct ti_err *err)
{
	struct run *run = NULL;

	run = calloc(1, sizeof(*run));
	if (run == NULL) {
		ti_err_set(err, TI_KIND_TEMP, "out of memory");
		return NULL;
	}
	run->cfg = cfg;
	run->set = *set;
	(void)clock_gettime(CLOCK_MONOTONIC, &run->t0);
	return run;
}

void
run_free(struct run **runp)
{
	if (runp == NULL || *runp == NULL)
		return;
	db_close(&(*runp)->db);
	free(*runp);
	*runp = NULL;
}

const struct config *
run_config(const struct run *run)
{
	return run->cfg;
}

const struct run_settings *
run_settings(const struct run *run)
{
	return &run->set;
}

void
run_exit(struct run *run, int code)
{
	run->exit_code = ti_exit_worse(run->exit_code, code);
}

int
run_exit_code(const struct run *run)
{
	return run->exit_code;
}

void
run_exit_reset(struct run *run)
{
	run->exit_code = EX_OK;
}

void
run_set_total(struct run *run, unsigned long n)
{
	run->n_total = n;
}

void
run_total_drop(struct run *run)
{
	if (run->n_total > 0)
		run->n_total--;
}

void
run_fail(struct run *run, const struct ti_err *err)
{
	run_progress_clear(run);
	if (err->kind == TI_KIND_USAGE || err->kind == TI_KIND_IO)
		log_err("%s", err->msg);
	else
		log_err("%s; left for a later try", err->msg);
	run_exit(run, ti_kind_exit(err->kind, run->set.under_mta));
}

void
run_fail_message(struct run *run, const struct ti_err *err)
{
	run->n_failed++;
	run_fail(run, err);
}

long
run_ms_since(const struct timespec *t0)
{
	struct timespec t1;

	(void)clock_gettime(CLOCK_MONOTONIC, &t1);
	return (long)(t1.tv_sec - t0->tv_sec) * 1000 +
	    (t1.tv_nsec - t0->tv_nsec) / 1000000;
}

/* The outcome's entry in run_outcomes, or -1 (JOB_NONE). */
static int
run_outcome_index(enum job_outcome o)
{
	size_t i;

	for (i = 0; i < sizeof(run_outcomes) / sizeof(run_outcomes[0]); i++) {
		if (run_outcomes[i].outcome == o)
			return (int)i;
	}
	return -1;
}

/*
 * The line for one message's outcome, and its count.  sanitized: the
 * three strings are already fit for a log line.
 */
static enum run_result
run_line(struct run *run, enum job_outcome o, const char *org_raw,
    const char *rid_raw, const char *why_raw, bool sanitized,
    size_t policies, long ms)
{
	char org_buf[LOG_SANITIZED_BYTES];
	char rid_buf[LOG_SANITIZED_BYTES];
	char why_buf[LOG_SANITIZED_BYTES];
	const char *org = org_raw, *rid = rid_raw, *why = why_raw;
	int k = run_outcome_index(o);
	enum run_result res;
	enum log_level level;

	if (k < 0)
		return RUN_RETRY;
	res = run_outcomes[k].result;
	/* With a progress line, one line per handled message is for -v. */
	level = res == RUN_REJECTED ? LOG_LEVEL_WARNING :
	    run->set.progress ? LOG_LEVEL_DEBUG : LOG_LEVEL_INFO;
	run->n_outcome[o]++;
	run->n_done++;
	if (o == JOB_INVALID || (o == JOB_REJECTED &&
	    run->cfg->bounce_malformed))
		run_exit(run, EX_DATAERR);
	if (!log_enabled(level))
		return res;
	run_progress_clear(run);
	if (!sanitized) {
		org = log_sanitize(org_raw, org_buf, sizeof(org_buf));
		rid = log_sanitize(rid_raw, rid_buf, sizeof(rid_buf));
		why = log_sanitize(why_raw, why_buf, sizeof(why_buf));
	}
	if (o == JOB_REJECTED)
		log_warning("%s: %s (kept in tlsrpt.rejected_message) ms=%ld",
		    run_outcomes[k].name, why, ms);
	else if (o == JOB_INVALID)
		log_warning("%s: %s", run_outcomes[k].name, why);
	else if (level == LOG_LEVEL_DEBUG)
		log_debug("%s: organization=\"%s\" report-id=\"%s\" "
		    "policies=%zu ms=%ld", run_outcomes[k].name, org, rid,
		    policies, ms);
	else
		log_info("%s: organization=\"%s\" report-id=\"%s\" "
		    "policies=%zu ms=%ld", run_outcomes[k].name, org, rid,
		    policies, ms);
	return res;
}

enum run_result
run_count(struct run *run, enum job_outcome outcome, const char *org,
    const char *rid, const char *why, size_t policies, long ms)
{
	return run_line(run, outcome, org, rid, why, false, policies, ms);
}

enum run_result
run_handed_off(struct run *run, const struct run_outcome *o, long ms)
{
	struct ti_err err;

	if (o->outcome == JOB_NONE) {
		ti_err_set(&err, TI_KIND_TEMP, "%s", o->why);
		run_fail_message(run, &err);
		return RUN_RETRY;
	}
	return run_line(run, o->outcome, o->org, o->rid, o->why, true,
	    o->policies, ms);
}

void
run_print_report(struct run *run, const struct job *job)
{
	struct buf *line = NULL;
	struct ti_err err;

	line = buf_new(TI_HARD_INFLATED_BYTES, &err);
	if (line == NULL || job_report_json(job, line, &err) != 0) {
		log_err("printing the report: %s", err.msg);
		run_exit(run, EX_SOFTWARE);
	} else if (printf("%s\n", buf_str(line)) < 0 ||
	    fflush(stdout) != 0) {
		log_err("writing standard output: %s", strerror(errno));
		run_exit(run, EX_IOERR);
	}
	buf_free(&line);
}

void
run_arm(const struct run *run)
{
	(void)alarm(run->cfg->lim.timeout_seconds);
}

void
run_disarm(const struct run *run)
{
	(void)run;
	(void)alarm(0);
}

int
run_db_connect(struct run *run, bool wait, struct ti_err *err)
{
	if (run->set.dry_run || run->db != NULL)
		return 0;
	run->db = db_open(run->cfg->db, run->cfg->connect_timeout_seconds,
	    run->cfg->statement_timeout_seconds, wait, err);
	return run->db != NULL ? 0 : -1;
}

struct db *
run_db(struct run *run, struct ti_err *err)
{
	if (run->db == NULL)
		run->db = db_open(run->cfg->db,
		    run->cfg->connect_timeout_seconds,
		    run->cfg->statement_timeout_seconds, false, err);
	return run->db;
}

void
run_db_close(struct run *run)
{
	db_close(&run->db);
}

void
run_db_check_idle(struct run *run)
{
	if (run->db != NULL && !db_idle_ok(run->db)) {
		log_info("database connection lost while idle; connecting "
		    "again");
		db_close(&run->db);
	}
}

/* What became of a job, for a caller that asked (out). */
static void
run_outcome_fill(struct run_outcome *out, const struct job *job)
{
	out->outcome = job_outcome(job);
	out->policies = job_policy_count(job);
	log_sanitize(job_organization(job), out->org, sizeof(out->org));
	log_sanitize(job_report_id(job), out->rid, sizeof(out->rid));
	log_sanitize(job_reason(job), out->why, sizeof(out->why));
}

/* One message, or one report by HTTPS (origin not NULL). */
static enum run_result
run_one(struct run *run, struct buf **input, bool truncated,
    const struct job_origin *origin, struct run_outcome *out)
{
	struct job *job = NULL;
	struct db *db = NULL;
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
	if (origin != NULL)
		job_set_origin(job, origin);
	if (!run->set.dry_run && (db = run_db(run, &err)) == NULL)
		goto fail;
	if (job_run(job, db, run->cfg, &err) != 0) {
		run_db_close(run);
		goto fail;
	}
	if (out != NULL) {
		run_outcome_fill(out, job);
		res = run_line(run, out->outcome, out->org, out->rid, out->why,
		    true, out->policies, run_ms_since(&t0));
	} else
		res = run_count(run, job_outcome(job), job_organization(job),
		    job_report_id(job), job_reason(job),
		    job_policy_count(job), run_ms_since(&t0));
	if (run->set.print_json && res == RUN_HANDLED)
		run_print_report(run, job);
	job_free(&job);
	return res;
fail:
	run_fail_message(run, &err);
	if (out != NULL) {
		memset(out, 0, sizeof(*out));
		out->outcome = JOB_NONE;
		log_sanitize(err.msg, out->why, sizeof(out->why));
	}
	job_free(&job);
	return RUN_RETRY;
}

enum run_result
run_message(struct run *run, struct buf **input, bool truncated,
    struct run_outcome *out)
{
	return run_one(run, input, truncated, NULL, out);
}

enum run_result
run_report_body(struct run *run, struct buf **input, bool truncated,
    const struct job_origin *origin, struct run_outcome *out)
{
	return run_one(run, input, truncated, origin, out);
}

void
run_progress(struct run *run)
{
	time_t now = time(NULL);
	double secs, rate;
	long eta;

	if (!run->set.progress || now == run->progress_drawn)
		return;
	run->progress_drawn = now;
	run->progress_shown = true;
	secs = (double)run_ms_since(&run->t0) / 1000.0;
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
	const unsigned long *n = run->n_outcome;

	run_progress_clear(run);
	log_sanitize(what, label, sizeof(label));
	if (run->set.dry_run)
		log_info("%s: valid %lu, invalid %lu, failed %lu, %ld ms",
		    label, n[JOB_VALID], n[JOB_INVALID], run->n_failed,
		    run_ms_since(&run->t0));
	else
		log_info("%s: stored %lu, duplicates %lu, rejected %lu, "
		    "left for retry %lu, %ld ms", label, n[JOB_STORED],
		    n[JOB_DUPLICATE], n[JOB_REJECTED],
		    run->n_total > run->n_done ? run->n_total - run->n_done :
		    run->n_failed, run_ms_since(&run->t0));
}
