/*
 * job.c - drives one message through the stages and decides its fate.
 *
 * The input is hostile; each stage bounds what it accepts.  A DATA error
 * from any stage, or from the database refusing a value, makes the
 * message "rejected": it is kept whole in tlsrpt.rejected_message with a
 * one-line reason.  Anything else (TEMP, CONFIG, INTERNAL) writes nothing
 * and is returned, so the caller can have the message tried again.
 */
#include "autoconf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "authres.h"
#include "domain.h"
#include "inflate.h"
#include "job.h"
#include "mime.h"
#include "report.h"

struct job {
	struct buf *input;		/* the message as received */
	bool truncated;
	bool bare;			/* a report file, not a message */
	bool mail;			/* read as a message (mime_extract) */
	const struct job_origin *origin;	/* by HTTPS; NULL: by mail */
	struct mime_info info;
	struct buf *part;		/* the report part, transfer-decoded */
	struct buf *json;		/* the report text */
	struct report *report;
	struct authres_dkim dkim;
	char *contact_domain;
	int submitter_match;		/* 1, 0, -1 unknown */
	bool usable;			/* a valid report, to be stored */
	enum job_outcome outcome;
	char reason[TI_ERR_MSG_BYTES + 64];
};

struct job *
job_new(struct ti_err *err)
{
	struct job *job = NULL;

	job = calloc(1, sizeof(*job));
	if (job == NULL) {
		ti_err_set(err, TI_KIND_TEMP, "out of memory");
		return NULL;
	}
	job->submitter_match = -1;
	return job;
}

void
job_free(struct job **jp)
{
	struct job *job = NULL;

	if (jp == NULL || *jp == NULL)
		return;
	job = *jp;
	free(job->contact_domain);
	authres_dkim_clear(&job->dkim);
	report_free(&job->report);
	buf_free(&job->json);
	buf_free(&job->part);
	mime_info_clear(&job->info);
	buf_free(&job->input);
	free(job);
	*jp = NULL;
}

void
job_set_input(struct job *job, struct buf **input, bool truncated)
{
	buf_free(&job->input);
	job->input = *input;
	*input = NULL;
	job->truncated = truncated;
}

void
job_set_origin(struct job *job, const struct job_origin *o)
{
	job->origin = o;
}

/* A bare report file rather than a message: JSON, gzip or zip bytes. */
static bool
job_is_bare(const struct ti_bytes *in)
{
	return inflate_is_report(in, NULL, 0);
}

/* Stages 2-4.  -1 with DATA means a bad message; other kinds are ours. */
static int
job_parse(struct job *job, const struct config *cfg, struct ti_err *err)
{
	struct ti_bytes in = buf_bytes(job->input);
	struct ti_bytes part;
	struct ti_bytes json;
	enum inflate_format fmt;

	if (job->truncated)
		return ti_err_set(err, TI_KIND_DATA,
		    "message larger than %zu bytes", cfg->lim.message_bytes);
	if (in.len == 0)
		return ti_err_set(err, TI_KIND_DATA, "empty message");
	/* A body by HTTPS is the report, whatever it starts with. */
	job->bare = job->origin != NULL || job_is_bare(&in);
	if (job->bare) {
		part = in;
	} else {
		job->mail = true;
		if (mime_extract(&in, &cfg->lim, &job->info, &job->part,
		    err) != 0)
			return -1;
		part = buf_bytes(job->part);
	}
	if (inflate_report(&part, cfg->lim.inflated_bytes, &job->json, &fmt,
	    err) != 0)
		return -1;
	json = buf_bytes(job->json);
	job->report = report_parse(&json, &cfg->lim, err);
	if (job->report == NULL)
		return -1;
	return 0;
}

/* Who sent it: the DKIM verdict and whether the submitter lines up. */
static int
job_sender(struct job *job, const struct config *cfg, struct ti_err *err)
{
	const char *reporting = NULL;

	if (job->report != NULL && job->report->contact_info != NULL)
		job->contact_domain =
		    domain_of_contact(job->report->contact_info);
	reporting = job->info.report_submitter != NULL ?
	    job->info.report_submitter : job->contact_domain;
	if (job->info.report_submitter != NULL && job->contact_domain != NULL)
		job->submitter_match = domain_covers(
		    job->info.report_submitter, job->contact_domain) &&
		    domain_covers(job->contact_domain,
		    job->info.report_submitter);
	/* Anyone can write an Authentication-Results header: only our
	 * own MTA's, named by its authserv-id, is believed. */
	if (job->bare || cfg->authserv_id == NULL)
		return 0;
	return authres_dkim(job->info.authres, job->info.n_authres,
	    cfg->authserv_id, reporting, &job->dkim, err);
}

static bool
job_dkim_ok(const struct job *job)
{
	const char *reporting = job->info.report_submitter != NULL ?
	    job->info.report_submitter : job->contact_domain;

	return job->dkim.result != NULL &&
	    strcasecmp(job->dkim.result, "pass") == 0 &&
	    job->dkim.domain != NULL && reporting != NULL &&
	    domain_covers(job->dkim.domain, reporting);
}

static void
job_meta(const struct job *job, struct db_meta *m)
{
	memset(m, 0, sizeof(*m));
	m->source = job->origin != NULL ? "https" : job->bare ? "file" :
	    "mail";
	m->message_id = job->info.message_id;
	m->from = job->info.from;
	m->subject = job->info.subject;
	m->has_date = job->info.has_date_usec;
	m->date_usec = job->info.date_usec;
	m->report_domain = job->info.report_domain;
	m->report_submitter = job->info.report_submitter;
	m->dkim_result = job->dkim.result;
	m->dkim_domain = job->dkim.domain;
	m->dkim_authserv_id = job->dkim.authserv_id;
	m->submitter_match = job->submitter_match;
	m->authenticated = job_dkim_ok(job);
	m->headers = job->origin != NULL ? job->origin->headers :
	    job->info.headers;
}

/* A message to be kept as rejected gets its header block as text. */
static int
job_headers(struct job *job, struct ti_err *err)
{
	struct ti_bytes in = buf_bytes(job->input);

	return job->mail ? mime_headers(&in, &job->info, err) : 0;
}

int
job_prepare(struct job *job, const struct config *cfg, struct ti_err *err)
{
	struct ti_err perr;
	int rc;

	ti_err_clear(&perr);
	job->outcome = JOB_NONE;
	job->reason[0] = '\0';
	job->usable = false;
	rc = job_parse(job, cfg, &perr);
	if (rc != 0 && perr.kind != TI_KIND_DATA) {
		*err = perr;
		return -1;
	}
	if (job_sender(job, cfg, err) != 0)
		return -1;
	if (rc != 0) {
		memcpy(job->reason, perr.msg, sizeof(perr.msg));
	} else if (cfg->require_dkim && job->origin != NULL) {
		(void)snprintf(job->reason, sizeof(job->reason),
		    "a report by HTTPS carries no DKIM signature "
		    "(require_dkim is set)");
	} else if (cfg->require_dkim && cfg->authserv_id == NULL) {
		(void)snprintf(job->reason, sizeof(job->reason),
		    "no passing DKIM signature from the reporting domain "
		    "(authserv_id not set: no verdict is trusted)");
	} else if (cfg->require_dkim && !job_dkim_ok(job)) {
		(void)snprintf(job->reason, sizeof(job->reason),
		    "no passing DKIM signature from the reporting domain "
		    "(dkim=%s, header.d=%s)",
		    job->dkim.result != NULL ? job->dkim.result : "none",
		    job->dkim.domain != NULL ? job->dkim.domain : "none");
	} else {
		job->usable = true;
	}
	return 0;
}

bool
job_usable(const struct job *job)
{
	return job->usable;
}

/* May a body that is no usable report be kept aside? */
static bool
job_may_keep(const struct job *job)
{
	return job->origin == NULL || job->origin->keep_aside;
}

/* A message stored on its own: its job and connection. */
struct job_alone {
	struct job *job;
	struct db *db;
};

/* Its batch's one answer. */
static int
job_alone_result(void *arg, void *tag, enum db_outcome outcome,
    const char *refusal, struct ti_err *err)
{
	struct job_alone *a = arg;

	if (outcome == DB_REFUSED && !job_may_keep(a->job)) {
		(void)snprintf(a->job->reason, sizeof(a->job->reason), "%s",
		    refusal);
		a->job->usable = false;
		a->job->outcome = JOB_INVALID;
		return 0;
	}
	if (outcome == DB_REFUSED)
		return job_queue_refused(a->job, a->db, refusal, tag, err);
	if (a->job->usable)
		a->job->outcome = outcome == DB_STORED ? JOB_STORED :
		    JOB_DUPLICATE;
	else
		a->job->outcome = JOB_REJECTED;
	return 0;
}

int
job_run(struct job *job, struct db *db, const struct config *cfg,
    struct ti_err *err)
{
	struct job_alone alone = { job, db };

	if (job_prepare(job, cfg, err) != 0)
		return -1;
	if (db == NULL) {
		job->outcome = job->usable ? JOB_VALID : JOB_INVALID;
		return 0;
	}
	if (!job->usable && !job_may_keep(job)) {
		job->outcome = JOB_INVALID;
		return 0;
	}
	if (db_batch_begin(db, err) != 0 || job_queue(job, db, NULL, err) != 0 ||
	    db_batch_commit(db, job_alone_result, &alone, err) != 0)
		return -1;
	return 0;
}

int
job_queue(struct job *job, struct db *db, void *tag, struct ti_err *err)
{
	struct ti_err perr;
	struct ti_bytes json;
	struct ti_bytes raw;
	struct db_meta meta;

	if (job->usable) {
		job_meta(job, &meta);
		json = buf_bytes(job->json);
		ti_err_clear(&perr);
		if (db_batch_report(db, job->report, &json, &meta, tag,
		    &perr) == 0)
			return 0;
		if (perr.kind != TI_KIND_DATA) {
			*err = perr;
			return -1;
		}
		/* Values no column can take: kept aside. */
		return job_queue_refused(job, db, perr.msg, tag, err);
	}
	if (job_headers(job, err) != 0)
		return -1;
	job_meta(job, &meta);
	raw = buf_bytes(job->input);
	return db_batch_rejected(db, &raw, job->truncated, raw.len,
	    job->reason, &meta, tag, err);
}

int
job_queue_refused(struct job *job, struct db *db, const char *refusal,
    void *tag, struct ti_err *err)
{
	(void)snprintf(job->reason, sizeof(job->reason), "%s", refusal);
	job->usable = false;
	return job_queue(job, db, tag, err);
}

void
job_set_outcome(struct job *job, enum job_outcome outcome)
{
	job->outcome = outcome;
}

enum job_outcome
job_outcome(const struct job *job)
{
	return job->outcome;
}

const char *
job_reason(const struct job *job)
{
	return job->reason;
}

const char *
job_organization(const struct job *job)
{
	return job->report != NULL ? job->report->organization_name : NULL;
}

const char *
job_report_id(const struct job *job)
{
	return job->report != NULL ? job->report->report_id : NULL;
}

size_t
job_policy_count(const struct job *job)
{
	return job->report != NULL ? job->report->n_policies : 0;
}

int
job_report_json(const struct job *job, struct buf *out, struct ti_err *err)
{
	if (job->report == NULL)
		return ti_err_set(err, TI_KIND_INTERNAL, "no report");
	return report_to_json(job->report, out, err);
}
