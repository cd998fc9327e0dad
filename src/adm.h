/*
 * adm.h - tlsrpt-adm, the operator's program: what its subcommands
 * share (settings, the database, output) and the signature each one has.
 *
 * Every subcommand is a function adm_NAME(adm, argc, argv) in a file
 * adm_NAME.c, listed in adm.c's table.  argv[0] is the subcommand's name;
 * the subcommand parses its own options (getopt_long, optind reset by
 * adm.c) and returns its exit code: sysexits(3) codes, except check,
 * which speaks the monitoring-plugin convention (0 OK, 1 WARNING,
 * 2 CRITICAL, 3 UNKNOWN).
 */
#ifndef TI_ADM_H
#define TI_ADM_H

#include <stdbool.h>

#include <libpq-fe.h>

#include "config.h"
#include "status.h"

/* The schema version tlsrpt-adm needs (tlsrpt.schema_version). */
#define ADM_SCHEMA_VERSION 8

struct db;

struct adm {
	const struct config *cfg;	/* settings file, -o, -d, $TLSRPT_DB */
	int verbosity;			/* -v minus -q */
	struct db *db;			/* NULL until adm_connect() */
};

/*
 * Connect once (later calls return the same connection) and check that
 * the schema is at least ADM_SCHEMA_VERSION.  The connection is the
 * ingester's (db.c: timeouts, search_path pg_catalog), in UTC.  On
 * failure: NULL, with TEMP (no server), CONFIG (bad conninfo, no schema, a schema too old: "database
 * schema version N, need M: load schema.sql") in err; the conninfo never
 * appears in it.
 */
PGconn *adm_connect(struct adm *adm, struct ti_err *err);

/*
 * Run one statement with text parameters (NULL for SQL NULL) and text
 * results.  Returns the result (PQclear it), or NULL with err: its kind
 * from the SQLSTATE (db_sqlstate_kind), its message one line.
 */
PGresult *adm_query(struct adm *adm, const char *sql, int n_params,
    const char *const *params, struct ti_err *err);

/* Run statements that return nothing (BEGIN, COMMIT...): 0, or -1. */
int adm_exec(struct adm *adm, const char *sql, struct ti_err *err)
    TI_MUST_CHECK;

/* The exit code for err under the sysexits convention (CONFIG: 78), err
 * logged. */
int adm_fail(const struct ti_err *err);

/* A usage error of subcommand name: logged, with a hint; EX_USAGE. */
int adm_usage(const char *name, const char *what);

typedef int adm_command_fn(struct adm *adm, int argc, char **argv);

/* The subcommands, one file each (adm_NAME.c). */
adm_command_fn adm_check;
adm_command_fn adm_domains;
adm_command_fn adm_metrics;
adm_command_fn adm_readiness;
adm_command_fn adm_replay;
adm_command_fn adm_summary;

#endif
