/*
 * db.h - stage 5: store a validated report, or a rejected message, in
 * PostgreSQL.  No libpq type leaves db.c.
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
	const char *source;		/* "mail" or "file" */
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
	const char *headers;		/* for rejected messages */
};

enum db_outcome {
	DB_STORED = 1,
	DB_DUPLICATE,
};

/*
 * Connect.  conninfo may be NULL or "" (libpq defaults: PGHOST,
 * PGDATABASE, PGSERVICE, ~/.pgpass...).  Returns owned, or NULL with
 * TEMP (server unreachable) or CONFIG (the conninfo does not parse).
 * The conninfo never appears in err.
 */
struct db *db_open(const char *conninfo, unsigned connect_timeout_s,
    unsigned statement_timeout_s, struct ti_err *err);

/* NULL-safe; closes the connection, sets *dbp to NULL. */
void db_close(struct db **dbp);

/*
 * Store a report with its policies and failure details, all or nothing,
 * in one statement.  json is the report text (stored as jsonb).  An
 * already stored (organization_name, report_id) gives DB_DUPLICATE and
 * writes nothing.  Errors: TEMP (connection, server trouble), DATA (the
 * server refuses these values), CONFIG (schema missing or different).
 */
int db_store_report(struct db *db, const struct report *r,
    const struct ti_bytes *json, const struct db_meta *meta,
    enum db_outcome *outcome_r, struct ti_err *err) TI_MUST_CHECK;

/*
 * Keep a message that could not be ingested, with the reason line.
 * The same bytes kept twice give DB_DUPLICATE.  Errors as above.
 */
int db_store_rejected(struct db *db, const struct ti_bytes *raw,
    bool truncated, size_t raw_size, const char *reason,
    const struct db_meta *meta, enum db_outcome *outcome_r,
    struct ti_err *err) TI_MUST_CHECK;

#endif
