/*
 * db_private.h - what db.c (the connection) and db_batch.c (the
 * statements sent on it) share, and tlsrpt-adm's queries (adm_db.c)
 * use.  Included by those three files only.
 */
#ifndef TI_DB_PRIVATE_H
#define TI_DB_PRIVATE_H

#include <libpq-fe.h>

#include "db.h"

struct db_batch;

struct db {
	PGconn *conn;
	bool connecting;		/* started, not yet finished */
	PostgresPollingStatusType poll_st;	/* where it stands */
	unsigned connect_timeout_s;
	struct db_batch *batch;		/* db_batch.c's state, or NULL */
};

/* Finish a connection that db_open() only started; TEMP if it fails. */
int db_ready(struct db *db, struct ti_err *err) TI_MUST_CHECK;

/* Set err from a failed result (NULL: the connection's own error),
 * classified by its SQLSTATE; returns -1. */
int db_fail(struct db *db, const PGresult *res, const char *what,
    struct ti_err *err);

/* Set err (TEMP) from the connection's error after a send failed;
 * returns -1. */
int db_send_fail(struct db *db, const char *what, struct ti_err *err);

/* libpq's messages span lines: one line of in, cut to size. */
void db_one_line(const char *in, char *out, size_t size);

/* True inside a batch's transaction. */
bool db_batch_busy(const struct db_batch *batch);

/* NULL-safe; sets *bp to NULL. */
void db_batch_free(struct db_batch **bp);

#endif
