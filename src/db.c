/*
 * db.c - stage 5: the connection to PostgreSQL (libpq).
 *
 * db_open() starts a connection and may return before it is up, so that
 * the server sets up its backend while the message is read and parsed;
 * the first statement (db_batch.c) finishes it.  Errors are classified by
 * SQLSTATE: connection and server trouble is TEMP (the MTA retries),
 * values the server refuses are DATA (the message is kept as rejected),
 * a missing schema or privilege is CONFIG.  The conninfo may hold a
 * password: it never reaches an error or a log line.  The session's
 * search_path is pg_catalog alone, so that no function or operator that
 * a user created in another schema (public) can stand in for one the
 * statements name without a schema.
 */
#include "autoconf.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db_private.h"
#include "log.h"

static void
db_notice(void *arg, const char *message)
{
	char clean[LOG_SANITIZED_BYTES];

	(void)arg;
	log_debug("postgresql: %s", log_sanitize(message, clean,
	    sizeof(clean)));
}

/* libpq's messages span lines; make one line of them. */
void
db_one_line(const char *in, char *out, size_t size)
{
	size_t i = 0;

	if (size == 0)
		return;
	for (; *in != '\0' && i + 1 < size; in++) {
		if (*in == '\n' || *in == '\r' || *in == '\t') {
			if (in[1] == '\0')
				break;
			if (i > 0 && out[i - 1] != ' ') {
				if (i + 2 >= size)
					break;
				out[i++] = ';';
				out[i++] = ' ';
			}
			continue;
		}
		out[i++] = *in;
	}
	out[i] = '\0';
}

enum ti_kind
db_sqlstate_kind(const char *state)
{
	static const struct {
		const char *class;
		enum ti_kind kind;
	} classes[] = {
		{ "22", TI_KIND_DATA },		/* data exception */
		{ "23", TI_KIND_DATA },		/* integrity constraint */
		{ "54", TI_KIND_DATA },		/* program limit exceeded */
		{ "42", TI_KIND_CONFIG },	/* syntax, access, undefined */
		{ "3F", TI_KIND_CONFIG },	/* invalid schema name */
	};
	size_t i;

	if (state == NULL || strlen(state) != 5)
		return TI_KIND_TEMP;
	for (i = 0; i < sizeof(classes) / sizeof(classes[0]); i++) {
		if (strncmp(state, classes[i].class, 2) == 0)
			return classes[i].kind;
	}
	return TI_KIND_TEMP;	/* 08, 40, 53, 55, 57, 58, XX, ... */
}

/* Classify a failed command by its SQLSTATE. */
int
db_fail(struct db *db, const PGresult *res, const char *what,
    struct ti_err *err)
{
	const char *state = NULL;
	char msg[TI_ERR_MSG_BYTES];
	enum ti_kind kind;

	if (res != NULL)
		state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
	db_one_line(res != NULL && PQresultErrorMessage(res)[0] != '\0' ?
	    PQresultErrorMessage(res) : PQerrorMessage(db->conn), msg,
	    sizeof(msg));
	kind = PQstatus(db->conn) == CONNECTION_OK ?
	    db_sqlstate_kind(state) : TI_KIND_TEMP;
	if (kind == TI_KIND_CONFIG && strcmp(state, "42501") == 0)
		return ti_err_set(err, kind, "%s: permission denied (grant the "
		    "role tlsrpt_ingest, see sql/roles.sql): %s", what, msg);
	if (kind == TI_KIND_CONFIG)
		return ti_err_set(err, kind, "%s: database schema missing or "
		    "different (load sql/schema.sql): [%s] %s", what, state,
		    msg);
	return ti_err_set(err, kind, "%s: [%s] %s", what,
	    state != NULL ? state : "no SQLSTATE", msg);
}

/*
 * Take a connection started by db_open(..., false) as far as it goes
 * without waiting.  On a local socket that sends the startup packet at
 * once, so the server sets up its backend while we read and parse the
 * message; libpq would otherwise send it only when we come to wait.
 */
static void
db_advance(struct db *db)
{
	PostgresPollingStatusType st = PGRES_POLLING_WRITING;
	struct pollfd pfd;

	while (st == PGRES_POLLING_WRITING) {
		pfd.fd = PQsocket(db->conn);
		pfd.events = POLLOUT;
		pfd.revents = 0;
		if (pfd.fd < 0 || poll(&pfd, 1, 0) != 1)
			return;
		st = PQconnectPoll(db->conn);
	}
	db->poll_st = st;
}

/*
 * Finish a connection started by db_open(..., false).  Every entry point
 * that talks to the server calls this first.
 */
int
db_ready(struct db *db, struct ti_err *err)
{
	PostgresPollingStatusType st = db->poll_st;
	struct pollfd pfd;
	char msg[TI_ERR_MSG_BYTES];
	int n;

	if (!db->connecting)
		return 0;
	while (st != PGRES_POLLING_OK) {
		if (st == PGRES_POLLING_FAILED)
			goto fail;
		pfd.fd = PQsocket(db->conn);
		pfd.events = st == PGRES_POLLING_READING ? POLLIN : POLLOUT;
		pfd.revents = 0;
		n = poll(&pfd, 1, (int)db->connect_timeout_s * 1000);
		if (n == 0) {
			return ti_err_set(err, TI_KIND_TEMP, "database "
			    "unavailable: no answer in %u s",
			    db->connect_timeout_s);
		}
		if (n < 0 && errno != EINTR)
			return ti_err_set(err, TI_KIND_TEMP, "database "
			    "unavailable: poll: %s", strerror(errno));
		st = PQconnectPoll(db->conn);
	}
	db->connecting = false;
	(void)PQsetNoticeProcessor(db->conn, db_notice, NULL);
	return 0;
fail:
	db_one_line(PQerrorMessage(db->conn), msg, sizeof(msg));
	return ti_err_set(err, TI_KIND_TEMP, "database unavailable: %s", msg);
}

struct db *
db_open(const char *conninfo, unsigned connect_timeout_s,
    unsigned statement_timeout_s, bool wait, struct ti_err *err)
{
	struct db *db = NULL;
	PQconninfoOption *opts = NULL;
	char *perr = NULL;
	char timeout[32];
	char options[96];
	char msg[TI_ERR_MSG_BYTES];
	/* Ours before dbname may be overridden by the conninfo; the encoding
	 * after it may not: every string we send is UTF-8. */
	const char *keys[] = { "connect_timeout", "options",
	    "fallback_application_name", "dbname", "client_encoding", NULL };
	const char *values[6] = { NULL };

	if (conninfo != NULL && conninfo[0] != '\0') {
		/* Its error text may quote the conninfo, secrets included. */
		opts = PQconninfoParse(conninfo, &perr);
		if (opts == NULL) {
			PQfreemem(perr);
			ti_err_set(err, TI_KIND_CONFIG,
			    "the database conninfo does not parse");
			goto fail;
		}
		PQconninfoFree(opts);
	}
	if (ti_snprintf(timeout, sizeof(timeout), "%u", connect_timeout_s) ||
	    ti_snprintf(options, sizeof(options),
	    "-c statement_timeout=%us -c search_path=pg_catalog,pg_temp",
	    statement_timeout_s)) {
		ti_err_set(err, TI_KIND_INTERNAL, "option text too long");
		goto fail;
	}
	values[0] = timeout;
	values[1] = options;
	values[2] = "tlsrpt-ingest";
	values[3] = conninfo != NULL ? conninfo : "";
	values[4] = "UTF8";
	db = calloc(1, sizeof(*db));
	if (db == NULL) {
		ti_err_set(err, TI_KIND_TEMP, "out of memory");
		goto fail;
	}
	db->connect_timeout_s = connect_timeout_s;
	db->conn = PQconnectStartParams(keys, values, 1);
	if (db->conn == NULL) {
		ti_err_set(err, TI_KIND_TEMP, "out of memory");
		goto fail;
	}
	if (PQstatus(db->conn) == CONNECTION_BAD) {
		db_one_line(PQerrorMessage(db->conn), msg, sizeof(msg));
		ti_err_set(err, TI_KIND_TEMP, "database unavailable: %s", msg);
		goto fail;
	}
	db->connecting = true;
	db->poll_st = PGRES_POLLING_WRITING;
	if (!wait)
		db_advance(db);
	if (wait && db_ready(db, err) != 0)
		goto fail;
	return db;
fail:
	db_close(&db);
	return NULL;
}

bool
db_idle_ok(struct db *db)
{
	struct pollfd pfd;

	if (db->connecting || db_batch_busy(db->batch))
		return true;
	if (PQstatus(db->conn) != CONNECTION_OK)
		return false;
	/*
	 * An idle connection has nothing to say unless the server is
	 * closing it (a shutdown, a restart, a terminated backend): its
	 * last words are readable before the end of the stream is, so
	 * anything readable means a new connection.  (A parameter change
	 * reported after a reload costs one needless reconnection.)
	 */
	pfd.fd = PQsocket(db->conn);
	pfd.events = POLLIN;
	pfd.revents = 0;
	if (pfd.fd < 0)
		return false;
	return poll(&pfd, 1, 0) == 0;
}

void
db_close(struct db **dbp)
{
	struct db *db = NULL;

	if (dbp == NULL || *dbp == NULL)
		return;
	db = *dbp;
	if (db->conn != NULL)
		PQfinish(db->conn);
	db_batch_free(&db->batch);
	free(db);
	*dbp = NULL;
}

int
db_send_fail(struct db *db, const char *what, struct ti_err *err)
{
	char msg[TI_ERR_MSG_BYTES];

	db_one_line(PQerrorMessage(db->conn), msg, sizeof(msg));
	return ti_err_set(err, TI_KIND_TEMP, "%s: %s", what, msg);
}
