/*
 * adm_db.c - tlsrpt-adm's connection and queries: the ingester's
 * connection (db.c), a schema version check, and one way to run a
 * statement with parameters.
 */
#include "autoconf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "adm.h"
#include "db_private.h"
#include "log.h"

PGconn *
adm_connect(struct adm *adm, struct ti_err *err)
{
	const struct config *cfg = adm->cfg;
	PGresult *res = NULL;
	long version;

	if (adm->db != NULL)
		return adm->db->conn;
	adm->db = db_open(cfg->db, cfg->connect_timeout_seconds,
	    cfg->statement_timeout_seconds, true, err);
	if (adm->db == NULL)
		return NULL;
	if (adm_exec(adm, "SET TIME ZONE 'UTC'", err) != 0)
		goto fail;
	res = adm_query(adm, "SELECT pg_catalog.max(version) "
	    "FROM tlsrpt.schema_version", 0, NULL, err);
	if (res == NULL)
		goto fail;
	version = PQgetisnull(res, 0, 0) ? 0 :
	    strtol(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);
	if (version < ADM_SCHEMA_VERSION) {
		ti_err_set(err, TI_KIND_CONFIG, "database schema version %ld, "
		    "need %d: load schema.sql", version, ADM_SCHEMA_VERSION);
		goto fail;
	}
	return adm->db->conn;
fail:
	db_close(&adm->db);
	return NULL;
}

PGresult *
adm_query(struct adm *adm, const char *sql, int n_params,
    const char *const *params, struct ti_err *err)
{
	PGresult *res = NULL;

	if (adm->db == NULL && adm_connect(adm, err) == NULL)
		return NULL;
	res = PQexecParams(adm->db->conn, sql, n_params, NULL, params, NULL,
	    NULL, 0);
	if (res != NULL && (PQresultStatus(res) == PGRES_TUPLES_OK ||
	    PQresultStatus(res) == PGRES_COMMAND_OK))
		return res;
	(void)db_fail(adm->db, res, "query", err);
	PQclear(res);
	return NULL;
}

int
adm_exec(struct adm *adm, const char *sql, struct ti_err *err)
{
	PGresult *res = adm_query(adm, sql, 0, NULL, err);

	if (res == NULL)
		return -1;
	PQclear(res);
	return 0;
}

int
adm_fail(const struct ti_err *err)
{
	log_err("%s", err->msg);
	/* The ingester defers on CONFIG; a person is told to fix it. */
	if (err->kind == TI_KIND_CONFIG)
		return EX_CONFIG;
	return ti_kind_exit(err->kind, 0);
}

int
adm_usage(const char *name, const char *what)
{
	log_err("%s: %s", name, what);
	(void)fprintf(stderr, "Try 'tlsrpt-adm %s --help'.\n", name);
	return EX_USAGE;
}
