/*
 * run.c - what every mode shares: open the database once, push each
 * message through job_run(), log one line per message, count outcomes and
 * keep the worst exit code.
 */
#include "autoconf.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sysexits.h>

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
	struct timespec t1;

	(void)clock_gettime(CLOCK_MONOTONIC, &t1);
	return (long)(t1.tv_sec - run->t0.tv_sec) * 1000 +
	    (t1.tv_nsec - run->t0.tv_nsec) / 1000000;
}

void
run_exit(struct run *run, int code)
{
	static const int rank[] = { EX_OK, EX_DATAERR, EX_USAGE, EX_CONFIG,
	    EX_IOERR, EX_SOFTWARE, EX_TEMPFAIL };
	size_t i, cur = 0, want = 0;

	for (i = 0; i < sizeof(rank) / sizeof(rank[0]); i++) {
		if (rank[i] == run->exit_code)
			cur = i;
		if (rank[i] == code)
			want = i;
	}
	if (want > cur)
		run->exit_code = code;
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

static long
ms_since(const struct timespec *t0)
{
	struct timespec t1;

	(void)clock_gettime(CLOCK_MONOTONIC, &t1);
	return (long)(t1.tv_sec - t0->tv_sec) * 1000 +
	    (t1.tv_nsec - t0->tv_nsec) / 1000000;
}

static enum run_result
run_outcome(struct run *run, const struct job *job, long ms)
{
	char org[LOG_SANITIZED_BYTES];
	char rid[LOG_SANITIZED_BYTES];
	char why[LOG_SANITIZED_BYTES];
	static const char *verb[] = { "", "stored", "duplicate", "", "valid",
	    "" };
	enum job_outcome o = job_outcome(job);

	log_sanitize(job_organization(job), org, sizeof(org));
	log_sanitize(job_report_id(job), rid, sizeof(rid));
	log_sanitize(job_reason(job), why, sizeof(why));
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
		log_info("%s: organization=\"%s\" report-id=\"%s\" "
		    "policies=%zu ms=%ld", verb[o], org, rid,
		    job_policy_count(job), ms);
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

enum run_result
run_message(struct run *run, struct buf **input, bool truncated)
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
		    run->cfg.statement_timeout_seconds, &err);
		if (run->db == NULL)
			goto fail;
	}
	if (job_run(job, run->db, &run->cfg, &err) != 0) {
		/* A connection that failed is not trusted again. */
		db_close(&run->db);
		goto fail;
	}
	run_progress_clear(run);
	res = run_outcome(run, job, ms_since(&t0));
	if (run->print_json && res == RUN_HANDLED)
		run_print_json(run, job);
	run->n_done++;
	job_free(&job);
	return res;
fail:
	run->n_failed++;
	run_fail(run, &err);
	job_free(&job);
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
	if (run->progress && run->progress_drawn != 0) {
		(void)fputs("\r\033[K", stderr);
		run->progress_drawn = 0;
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
	db_close(&run->db);
	config_clear(&run->cfg);
}
