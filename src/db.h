/*
 * db.h - stage 5: store validated reports, and rejected messages, in
 * PostgreSQL.  Everything is stored in batches (a message on its own is a
 * batch of one) through the schema's two writers.  No libpq type leaves
 * db.c and db_batch.c.
 */
#ifndef TI_DB_H
#define TI_DB_H

#include <stdbool.h>
#include <stdint.h>

#include "buf.h"
#include "report.h"
#include "status.h"

struct db;

/* What is stored beside a report or a rejected message; all borrowed,
 * any string may be NULL. */
struct db_meta {
	const char *source;		/* "mail", "file" or "https" */
	const char *message_id;
	const char *from;
	const char *subject;
	bool has_date;
	int64_t date_usec;
	const char *report_domain;	/* TLS-Report-Domain */
	const char *report_submitter;	/* TLS-Report-Submitter */
	const char *dkim_result;
	const char *dkim_domain;
	const char *dkim_authserv_id;
	int submitter_match;		/* 1, 0, or -1 unknown */
	bool authenticated;		/* a trusted DKIM pass of the
					 * reporting domain */
	const char *headers;		/* for rejected messages */
};

enum db_outcome {
	DB_STORED = 1,
	DB_DUPLICATE,
	DB_REFUSED,		/* the server refused a value of the report */
};

/*
 * Connect.  conninfo may be NULL or "" (libpq defaults: PGHOST,
 * PGDATABASE, PGSERVICE, ~/.pgpass...).  With wait false the connection
 * is only started, so that the server forks its backend while we parse;
 * the first call that needs the server finishes it (and reports its
 * failure).  Returns owned, or NULL with TEMP (server unreachable) or
 * CONFIG (the conninfo does not parse).  The conninfo never appears in
 * err.
 */
struct db *db_open(const char *conninfo, unsigned connect_timeout_s,
    unsigned statement_timeout_s, bool wait, struct ti_err *err);

/*
 * For a connection kept open between messages (a server): false when it
 * is known to be gone (the server closed it while idle), so that it is
 * closed and opened again before the next message.  Waits for nothing.
 */
bool db_idle_ok(struct db *db);

/*
 * The kind of a failure from its SQLSTATE: DATA for what the report's
 * values caused (classes 22, 23, 54), CONFIG for a schema or privilege
 * problem (42, 3F), TEMP for everything else, and for NULL (no SQLSTATE:
 * the connection failed).
 */
enum ti_kind db_sqlstate_kind(const char *sqlstate);

/* NULL-safe; closes the connection, sets *dbp to NULL. */
void db_close(struct db **dbp);

/*
 * Batches: messages in one transaction, sent without waiting for each
 * answer (libpq pipeline mode), reports in groups of several to a
 * request.  Results arrive through fn, once for each message queued, in
 * the order the requests were sent: tag is the caller's, refusal is the
 * reason line when outcome is DB_REFUSED (the report was not stored, the
 * batch goes on; the caller may then queue the message as rejected).  fn
 * returns 0, or -1 with err to end the batch.  Any error (TEMP, CONFIG,
 * INTERNAL) ends the batch: nothing of it is committed, and the caller
 * closes the connection.  CONFIG includes a schema older than this
 * program needs ("database schema version N, need M: load schema.sql").
 */
typedef int db_result_fn(void *arg, void *tag, enum db_outcome outcome,
    const char *refusal, struct ti_err *err);

/* Enter pipeline mode and open a transaction (no-op when open). */
int db_batch_begin(struct db *db, struct ti_err *err) TI_MUST_CHECK;

/*
 * Queue a report: it joins the open group, which is sent once full, once
 * a result of it is waited for, or at the commit; its result comes
 * through fn later.  DATA: values no column can take (nothing queued; the
 * batch goes on).
 */
int db_batch_report(struct db *db, const struct report *r,
    const struct ti_bytes *json, const struct db_meta *meta, void *tag,
    struct ti_err *err) TI_MUST_CHECK;

/* Queue a rejected message (outcome DB_STORED, or DB_DUPLICATE). */
int db_batch_rejected(struct db *db, const struct ti_bytes *raw,
    bool truncated, size_t raw_size, const char *reason,
    const struct db_meta *meta, void *tag, struct ti_err *err)
    TI_MUST_CHECK;

/* Messages queued whose results have not been read, sent or not. */
size_t db_batch_pending(const struct db *db);

/* Read results until at most keep messages are outstanding. */
int db_batch_collect(struct db *db, size_t keep, db_result_fn *fn,
    void *arg, struct ti_err *err) TI_MUST_CHECK;

/* Read every result, then COMMIT and leave pipeline mode.  When this
 * returns 0 the batch is durable. */
int db_batch_commit(struct db *db, db_result_fn *fn, void *arg,
    struct ti_err *err) TI_MUST_CHECK;

#endif
