/*
 * job.h - one message through the pipeline: find the report, inflate
 * it, validate it, then store it or keep the message as rejected.
 * struct job owns every resource for that message.
 */
#ifndef TI_JOB_H
#define TI_JOB_H

#include <stdbool.h>

#include "buf.h"
#include "config.h"
#include "db.h"
#include "status.h"

struct job;

enum job_outcome {
	JOB_NONE = 0,
	JOB_STORED,		/* rows written */
	JOB_DUPLICATE,		/* already stored: nothing written */
	JOB_REJECTED,		/* not a usable report: kept in rejected_message */
	JOB_VALID,		/* dry run: a valid report */
	JOB_INVALID,		/* not a usable report, and nothing written:
				 * a dry run, or a body that may not be kept
				 * aside (job_set_origin) */
};

/*
 * A report that came by HTTPS rather than by mail: the body is the
 * report itself (gzip'd or not), it carries no DKIM verdict, and a
 * rejected one is kept with headers (the request's, as text) and source
 * 'https'.  keep_aside false: a body that is not a usable report is not
 * kept either (outcome JOB_INVALID).  Strings borrowed, valid until
 * job_free.
 */
struct job_origin {
	const char *headers;
	bool keep_aside;
};

/* Returns owned, or NULL with TEMP. */
struct job *job_new(struct ti_err *err);

/* NULL-safe; releases everything in reverse order, sets *jp to NULL. */
void job_free(struct job **jp);

/*
 * Hand the job its input (the job takes ownership of *input, and sets
 * it to NULL).  truncated: the message was longer than the size limit.
 */
void job_set_input(struct job *job, struct buf **input, bool truncated);

/* The input came by HTTPS (see struct job_origin; o borrowed, valid
 * until job_free). */
void job_set_origin(struct job *job, const struct job_origin *o);

/*
 * Run the pipeline.  db NULL means a dry run: nothing is written.
 * Returns 0 with the outcome (job_outcome, job_reason), or -1 with TEMP,
 * CONFIG or INTERNAL in err: then nothing was written and the message
 * must be tried again later.
 */
int job_run(struct job *job, struct db *db, const struct config *cfg,
    struct ti_err *err) TI_MUST_CHECK;

/*
 * The first half of job_run: parse and judge, touching no database.
 * Afterwards job_usable() tells whether there is a report to store or a
 * message to keep as rejected (job_reason says why).  Returns 0, or -1
 * with TEMP/INTERNAL.
 */
int job_prepare(struct job *job, const struct config *cfg,
    struct ti_err *err) TI_MUST_CHECK;
bool job_usable(const struct job *job);

/* After job_prepare: queue the report, or the rejected message, in the
 * database's current batch, with tag for its result.  A report with
 * values no column can take goes as a rejected message. */
int job_queue(struct job *job, struct db *db, void *tag,
    struct ti_err *err) TI_MUST_CHECK;

/* The database refused the report: queue the message as rejected, with
 * the refusal as reason. */
int job_queue_refused(struct job *job, struct db *db, const char *refusal,
    void *tag, struct ti_err *err) TI_MUST_CHECK;

/* Record what became of a queued job once its batch has an answer. */
void job_set_outcome(struct job *job, enum job_outcome outcome);

enum job_outcome job_outcome(const struct job *job);

/* Why the report was rejected or invalid ("" otherwise); borrowed. */
const char *job_reason(const struct job *job);

/* Borrowed, NULL before a successful parse. */
const char *job_organization(const struct job *job);
const char *job_report_id(const struct job *job);
size_t job_policy_count(const struct job *job);

/* The normalized report as one JSON line into out (for --json). */
int job_report_json(const struct job *job, struct buf *out,
    struct ti_err *err) TI_MUST_CHECK;

#endif
