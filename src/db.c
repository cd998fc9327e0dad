/*
 * db.c - stage 5: PostgreSQL through libpq.
 *
 * Everything sent is a parameter of constant SQL text; nothing from a
 * message is ever spliced into a statement.  A report on its own (pipe
 * mode) goes in as one statement (its inserts as data-modifying CTEs), in
 * one round trip, so it is stored whole or not at all; the unique key on
 * (organization_name, report_id) with ON CONFLICT DO NOTHING makes a
 * second delivery, concurrent or not, a no-op that we report as a
 * duplicate.  Policies and failure details travel as array parameters in
 * PostgreSQL's binary format, which the server takes without parsing
 * text.  Batches send reports in groups, many to a call of
 * tlsrpt.ingest_reports() (sql/schema.sql), every parameter an array.
 * Errors are classified by SQLSTATE: connection and server trouble is
 * TEMP (the MTA retries), values the server refuses are DATA (the message
 * is kept as rejected), a missing schema or privilege is CONFIG.
 */
#include "autoconf.h"

#include <arpa/inet.h>
#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <libpq-fe.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "date.h"
#include "db.h"
#include "log.h"
#include "sha256.h"

/* Array parameters can be large (a report of 100k failure details). */
#define DB_PARAM_MAX_BYTES ((size_t)1 << 30)

/*
 * A group goes out once it holds this many reports or parameter bytes:
 * enough that the server's cost of a statement is spread thin, few
 * enough that the next group is being parsed while this one is stored.
 */
#define DB_GROUP_REPORTS 64
/* With no group at the server (a batch begins), one goes out at this
 * size: the server starts while the rest of its window is parsed. */
#define DB_GROUP_EARLY 8
#define DB_GROUP_BYTES ((size_t)2 << 20)
/* A group buffer grown past this by a large report is given back. */
#define DB_GROUP_KEEP_BYTES ((size_t)4 << 20)

/*
 * The parameters of tlsrpt.store_report(), in its order; those of
 * tlsrpt.ingest_reports() are the same as arrays, then the ordinals.
 */
enum db_param {
	P_ORG, P_RID, P_CONTACT, P_START, P_END, P_SOURCE, P_MSGID, P_FROM,
	P_MDATE, P_SUBJECT, P_RDOMAIN, P_SUBMITTER, P_DKIM, P_DKIMD,
	P_DKIMAS, P_SUBMATCH, P_JSON,
	/* policies */
	P_P_IDX, P_P_TYPE, P_P_DOMAIN, P_P_HASPS, P_P_HASMX, P_P_OK, P_P_FAIL,
	P_PS_IDX, P_PS_VAL, P_MX_IDX, P_MX_VAL,
	/* failure details */
	P_D_PIDX, P_D_IDX, P_D_TYPE, P_D_SIP, P_D_MXH, P_D_HELO, P_D_RIP,
	P_D_COUNT, P_D_INFO, P_D_CODE,
	P_COUNT,
	/* groups only: the ordinal of each report, and of the report of
	 * each policy, policy string, mx-host and failure detail */
	P_ORD = P_COUNT, P_P_ORD, P_PS_ORD, P_MX_ORD, P_D_ORD,
	P_GROUP_COUNT,
	/* single reports only: where a policy's strings and mx-hosts are
	 * in P_PS_VAL and P_MX_VAL, first and last (1-based; first > last
	 * when it has none, both NULL when it has no such list) */
	P_P_PSFIRST = P_GROUP_COUNT, P_P_PSLAST, P_P_MXFIRST, P_P_MXLAST,
	P_ALL_COUNT
};

/* The first array parameter of a single report. */
#define P_FIRST_ARRAY P_P_IDX

/*
 * One report on its own, as one statement: a new backend (pipe mode has
 * one for every message) looks up and plans what it is sent, and that,
 * not the writing, is most of its work.  Sent as it is, without a
 * function around it, and with a policy's policy-strings and mx-hosts as
 * slices of one array each rather than aggregates, it costs a new
 * backend about a millisecond less than tlsrpt.store_report().
 */
static const char db_sql_store[] =
    "WITH r AS ("
    " INSERT INTO tlsrpt.report (organization_name, report_id, contact_info,"
    " start_datetime, end_datetime, source, message_id, message_from,"
    " message_date, message_subject, tls_report_domain,"
    " tls_report_submitter, dkim_result, dkim_domain, dkim_authserv_id,"
    " submitter_match, report_sha256, report)"
    " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14,"
    " $15, $16, $17, $18)"
    " ON CONFLICT ON CONSTRAINT report_org_report_id_key DO NOTHING"
    " RETURNING id"
    "), p AS ("
    " INSERT INTO tlsrpt.policy (report_ref, policy_index, policy_type,"
    " policy_domain, policy_string, mx_host, total_successful_session_count,"
    " total_failure_session_count)"
    " SELECT r.id, u.i, u.t, u.d, $28[u.psf:u.psl], $29[u.mxf:u.mxl], u.ok,"
    " u.fail"
    " FROM r, unnest($19, $20, $21, $22, $23, $24, $25, $26, $27)"
    " AS u(i, t, d, psf, psl, mxf, mxl, ok, fail)"
    " RETURNING id, policy_index, report_ref"
    "), d AS ("
    " INSERT INTO tlsrpt.failure_detail (report_ref, policy_ref,"
    " detail_index, result_type, sending_mta_ip, receiving_mx_hostname,"
    " receiving_mx_helo, receiving_ip, failed_session_count,"
    " additional_information, failure_reason_code)"
    " SELECT p.report_ref, p.id, u.di, u.rt, u.sip, u.mxh, u.helo, u.rip,"
    " u.n, u.info, u.code"
    " FROM unnest($30, $31, $32, $33, $34, $35, $36, $37, $38, $39)"
    " AS u(pi, di, rt, sip, mxh, helo, rip, n, info, code)"
    " JOIN p ON p.policy_index = u.pi"
    " RETURNING 1"
    ")"
    " SELECT (SELECT id FROM r), (SELECT count(*) FROM p),"
    " (SELECT count(*) FROM d)";

/* Its array parameters, $19 on. */
static const enum db_param db_store_arrays[] = {
	P_P_IDX, P_P_TYPE, P_P_DOMAIN, P_P_PSFIRST, P_P_PSLAST, P_P_MXFIRST,
	P_P_MXLAST, P_P_OK, P_P_FAIL, P_PS_VAL, P_MX_VAL,
	P_D_PIDX, P_D_IDX, P_D_TYPE, P_D_SIP, P_D_MXH, P_D_HELO, P_D_RIP,
	P_D_COUNT, P_D_INFO, P_D_CODE
};
#define DB_STORE_ARRAYS (sizeof(db_store_arrays) / sizeof(db_store_arrays[0]))
/* The report's columns, its digest, its JSON, then the arrays. */
#define DB_STORE_PARAMS (P_JSON + 2 + DB_STORE_ARRAYS)

static const char db_sql_group[] =
    "SELECT ord, report, policies, details, refused_state, refused_message"
    " FROM tlsrpt.ingest_reports($1, $2, $3, $4, $5, $6, $7, $8, $9, $10,"
    " $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24,"
    " $25, $26, $27, $28, $29, $30, $31, $32, $33, $34, $35, $36, $37, $38,"
    " $39, $40, $41, $42, $43)";

#define DB_STMT_GROUP "tlsrpt_ingest_reports"
#define DB_STMT_REJECT "tlsrpt_ingest_rejected"

static const char db_sql_reject[] =
    "INSERT INTO tlsrpt.rejected_message (source, reason, message_id,"
    " message_from, message_subject, message_date, tls_report_domain,"
    " tls_report_submitter, dkim_result, dkim_domain, headers, raw_sha256,"
    " raw_size, raw_truncated, raw)"
    " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, sha256($14),"
    " $12, $13, $14)"
    " ON CONFLICT (raw_sha256) DO NOTHING RETURNING id";

/*
 * A message sent in a batch whose result has not been read yet.  The
 * reports of a group share one request: its first entry says how many
 * entries its result answers.
 */
struct db_pending {
	enum { REQ_OTHER, REQ_REJECT, REQ_GROUP } kind;
	unsigned group;		/* REQ_GROUP, on the first: reports in it */
	void *tag;
	size_t n_policies;	/* REQ_GROUP: rows a stored report writes */
	size_t n_details;
};

/* The reports gathered for the next call of tlsrpt.ingest_reports(). */
struct db_group {
	struct buf *arr[P_GROUP_COUNT];	/* every parameter, an array */
	struct db_pending member[DB_GROUP_REPORTS];
	size_t n;
};

struct db {
	PGconn *conn;
	struct buf *arr[P_ALL_COUNT];	/* a report's arrays (from
					 * P_FIRST_ARRAY on), reused */
	struct db_group group;
	bool connecting;		/* started, not yet finished */
	PostgresPollingStatusType poll_st;	/* where it stands */
	unsigned connect_timeout_s;
	bool in_batch;			/* pipeline mode, inside BEGIN */
	bool prepared;			/* statements prepared on conn */
	struct db_pending *q;		/* messages awaiting results, FIFO */
	size_t q_head, q_len, q_cap;
	size_t groups_out;		/* groups sent, results not read */
	size_t unflushed;		/* requests sent since the last flush */
};

static void
db_notice(void *arg, const char *message)
{
	char clean[LOG_SANITIZED_BYTES];

	(void)arg;
	log_debug("postgresql: %s", log_sanitize(message, clean,
	    sizeof(clean)));
}

/* libpq's messages span lines; make one line of them. */
static void
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

/* Classify a failed command by its SQLSTATE. */
static int
db_fail(struct db *db, const PGresult *res, const char *what,
    struct ti_err *err)
{
	const char *state = NULL;
	char msg[TI_ERR_MSG_BYTES];
	enum ti_kind kind = TI_KIND_TEMP;

	if (res != NULL)
		state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
	db_one_line(res != NULL && PQresultErrorMessage(res)[0] != '\0' ?
	    PQresultErrorMessage(res) : PQerrorMessage(db->conn), msg,
	    sizeof(msg));
	if (state == NULL || PQstatus(db->conn) != CONNECTION_OK)
		kind = TI_KIND_TEMP;
	else if (strncmp(state, "22", 2) == 0 || strncmp(state, "23", 2) == 0 ||
	    strncmp(state, "54", 2) == 0)
		kind = TI_KIND_DATA;
	else if (strncmp(state, "42", 2) == 0 || strncmp(state, "3F", 2) == 0)
		kind = TI_KIND_CONFIG;
	else
		kind = TI_KIND_TEMP;	/* 08, 40, 53, 57, 58, XX, ... */
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
static int
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
	char options[64];
	char msg[TI_ERR_MSG_BYTES];
	/* Ours before dbname may be overridden by the conninfo; the encoding
	 * after it may not: every string we send is UTF-8. */
	const char *keys[] = { "connect_timeout", "options",
	    "fallback_application_name", "dbname", "client_encoding", NULL };
	const char *values[6] = { NULL };
	size_t i;

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
	    "-c statement_timeout=%us", statement_timeout_s)) {
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
	for (i = P_FIRST_ARRAY; i < P_ALL_COUNT; i++) {
		if (i >= P_COUNT && i < P_GROUP_COUNT)
			continue;
		db->arr[i] = buf_new(DB_PARAM_MAX_BYTES, err);
		if (db->arr[i] == NULL)
			goto fail;
	}
	for (i = 0; i < P_GROUP_COUNT; i++) {
		db->group.arr[i] = buf_new(DB_PARAM_MAX_BYTES, err);
		if (db->group.arr[i] == NULL)
			goto fail;
	}
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

	if (db->connecting || db->in_batch)
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
	size_t i;

	if (dbp == NULL || *dbp == NULL)
		return;
	db = *dbp;
	if (db->conn != NULL)
		PQfinish(db->conn);
	for (i = 0; i < P_ALL_COUNT; i++)
		buf_free(&db->arr[i]);
	for (i = 0; i < P_GROUP_COUNT; i++)
		buf_free(&db->group.arr[i]);
	free(db->q);
	free(db);
	*dbp = NULL;
}

/*
 * Array parameters travel in PostgreSQL's binary array format (what
 * array_recv() reads), where a text literal had to be parsed by the
 * server character by character, every quote of a report's JSON
 * unescaped on the way.  An array is, all integers big-endian:
 *
 *	int32 ndim (1, or 0 when empty), int32 flags (1: holds a NULL),
 *	int32 element type; with ndim 1, int32 size and int32 lower bound
 *	(1); then each element as int32 length (-1: NULL) and its bytes.
 *
 * The header is reserved with the first element and filled in by
 * arr_close(), so an array cut back to an earlier length (a group giving
 * up a report) is still one.
 */
#define ARR_HEAD_BYTES 20
#define ARR_EMPTY_BYTES 12
#define ARR_NULL UINT32_MAX	/* int32 -1, the length of a NULL */

/* An element's length is an int32. */
_Static_assert(DB_PARAM_MAX_BYTES <= INT32_MAX, "array element too large");

/* Element type OIDs, fixed in PostgreSQL's catalog (pg_type.dat). */
enum db_oid {
	DB_OID_BOOL = 16,
	DB_OID_BYTEA = 17,
	DB_OID_INT8 = 20,
	DB_OID_INT4 = 23,
	DB_OID_TEXT = 25,
	DB_OID_INET = 869,
	DB_OID_TIMESTAMPTZ = 1184,
	DB_OID_JSONB = 3802
};

/*
 * The element type of each array parameter.  array_recv() refuses an
 * array whose element type is not the parameter's, so these follow the
 * signature of tlsrpt.ingest_reports() in sql/schema.sql and the columns
 * of the tables exactly.
 */
static const enum db_oid db_param_oid[P_ALL_COUNT] = {
	[P_ORG] = DB_OID_TEXT,
	[P_RID] = DB_OID_TEXT,
	[P_CONTACT] = DB_OID_TEXT,
	[P_START] = DB_OID_TIMESTAMPTZ,
	[P_END] = DB_OID_TIMESTAMPTZ,
	[P_SOURCE] = DB_OID_TEXT,
	[P_MSGID] = DB_OID_TEXT,
	[P_FROM] = DB_OID_TEXT,
	[P_MDATE] = DB_OID_TIMESTAMPTZ,
	[P_SUBJECT] = DB_OID_TEXT,
	[P_RDOMAIN] = DB_OID_TEXT,
	[P_SUBMITTER] = DB_OID_TEXT,
	[P_DKIM] = DB_OID_TEXT,
	[P_DKIMD] = DB_OID_TEXT,
	[P_DKIMAS] = DB_OID_TEXT,
	[P_SUBMATCH] = DB_OID_BOOL,
	[P_JSON] = DB_OID_TEXT,
	[P_P_IDX] = DB_OID_INT4,
	[P_P_TYPE] = DB_OID_TEXT,
	[P_P_DOMAIN] = DB_OID_TEXT,
	[P_P_HASPS] = DB_OID_BOOL,
	[P_P_HASMX] = DB_OID_BOOL,
	[P_P_OK] = DB_OID_INT8,
	[P_P_FAIL] = DB_OID_INT8,
	[P_PS_IDX] = DB_OID_INT4,
	[P_PS_VAL] = DB_OID_TEXT,
	[P_MX_IDX] = DB_OID_INT4,
	[P_MX_VAL] = DB_OID_TEXT,
	[P_D_PIDX] = DB_OID_INT4,
	[P_D_IDX] = DB_OID_INT4,
	[P_D_TYPE] = DB_OID_TEXT,
	[P_D_SIP] = DB_OID_INET,
	[P_D_MXH] = DB_OID_TEXT,
	[P_D_HELO] = DB_OID_TEXT,
	[P_D_RIP] = DB_OID_INET,
	[P_D_COUNT] = DB_OID_INT8,
	[P_D_INFO] = DB_OID_TEXT,
	[P_D_CODE] = DB_OID_TEXT,
	[P_ORD] = DB_OID_INT4,
	[P_P_ORD] = DB_OID_INT4,
	[P_PS_ORD] = DB_OID_INT4,
	[P_MX_ORD] = DB_OID_INT4,
	[P_D_ORD] = DB_OID_INT4,
	[P_P_PSFIRST] = DB_OID_INT4,
	[P_P_PSLAST] = DB_OID_INT4,
	[P_P_MXFIRST] = DB_OID_INT4,
	[P_P_MXLAST] = DB_OID_INT4
};

/* timestamptz counts microseconds from 2000-01-01 00:00:00 UTC. */
#define DB_PG_EPOCH_USEC INT64_C(946684800000000)

/* inet's address families: PostgreSQL's own, not the system's. */
#define DB_PGSQL_AF_INET 2
#define DB_PGSQL_AF_INET6 3

static inline void
arr_put32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

/* Append an element of n bytes at p, or a NULL when p is NULL. */
static int
arr_add(struct buf *b, const void *p, size_t n, struct ti_err *err)
{
	size_t head = b->len == 0 ? ARR_HEAD_BYTES : 0;
	unsigned char *w = NULL;

	if (p == NULL)
		n = 0;
	/* Within the buffer's maximum, n fits an int32. */
	if (buf_reserve(b, head + 4 + n, err) != 0)
		return -1;
	w = b->data + b->len;
	memset(w, 0, head);
	arr_put32(w + head, p != NULL ? (uint32_t)n : ARR_NULL);
	if (n > 0)
		memcpy(w + head + 4, p, n);
	b->len += head + 4 + n;
	b->data[b->len] = '\0';
	return 0;
}

/* An n-byte (at most 8) big-endian integer. */
static int
arr_add_be(struct buf *b, uint64_t v, size_t n, struct ti_err *err)
{
	unsigned char be[8];
	size_t i;

	for (i = n; i > 0; i--, v >>= 8)
		be[i - 1] = (unsigned char)v;
	return arr_add(b, be, n, err);
}

/* A C string: it cannot hold a NUL, which the server refuses in text. */
static int
arr_text(struct buf *const *arr, enum db_param p, const char *s,
    struct ti_err *err)
{
	assert(db_param_oid[p] == DB_OID_TEXT);
	return arr_add(arr[p], s, s != NULL ? strlen(s) : 0, err);
}

static int
arr_int(struct buf *const *arr, enum db_param p, int64_t v,
    struct ti_err *err)
{
	if (db_param_oid[p] == DB_OID_INT4) {
		assert(v >= INT32_MIN && v <= INT32_MAX);
		return arr_add_be(arr[p], (uint32_t)v, 4, err);
	}
	assert(db_param_oid[p] == DB_OID_INT8);
	return arr_add_be(arr[p], (uint64_t)v, 8, err);
}

static int
arr_bool(struct buf *const *arr, enum db_param p, bool v,
    struct ti_err *err)
{
	assert(db_param_oid[p] == DB_OID_BOOL);
	return arr_add_be(arr[p], v, 1, err);
}

/* usec: microseconds since the Unix epoch, in date_format_iso()'s range. */
static int
arr_time(struct buf *const *arr, enum db_param p, int64_t usec,
    struct ti_err *err)
{
	assert(db_param_oid[p] == DB_OID_TIMESTAMPTZ);
	return arr_add_be(arr[p], (uint64_t)(usec - DB_PG_EPOCH_USEC), 8, err);
}

/* An address PostgreSQL's inet takes, or NULL: a bad one must not sink
 * the report (it stays, as sent, in the report's jsonb). */
static int
arr_inet(struct buf *const *arr, enum db_param p, const char *s,
    struct ti_err *err)
{
	/* family, bits, is_cidr, address bytes, address */
	unsigned char in[4 + sizeof(struct in6_addr)];

	assert(db_param_oid[p] == DB_OID_INET);
	in[2] = 0;
	if (s != NULL && inet_pton(AF_INET, s, in + 4) == 1) {
		in[0] = DB_PGSQL_AF_INET;
		in[1] = 32;
		in[3] = 4;
		return arr_add(arr[p], in, 4 + 4, err);
	}
	if (s != NULL && inet_pton(AF_INET6, s, in + 4) == 1) {
		in[0] = DB_PGSQL_AF_INET6;
		in[1] = 128;
		in[3] = 16;
		return arr_add(arr[p], in, 4 + 16, err);
	}
	return arr_add(arr[p], NULL, 0, err);
}

/*
 * A policy's n values after the first before in an array of them: its
 * slice's bounds, 1-based, in arr[p] and arr[p + 1]; NULL in both when it
 * has no such list (has is false).
 */
static int
arr_slice(struct buf *const *arr, enum db_param p, bool has, size_t before,
    size_t n, struct ti_err *err)
{
	if (!has)
		return arr_add(arr[p], NULL, 0, err) ||
		    arr_add(arr[p + 1], NULL, 0, err) ? -1 : 0;
	if (before + n > INT32_MAX - 1)
		return ti_err_set(err, TI_KIND_DATA, "too many values");
	return arr_int(arr, p, (int64_t)before + 1, err) ||
	    arr_int(arr, p + 1, (int64_t)(before + n), err) ? -1 : 0;
}

/*
 * Fill in the header of arr[p], which then is the parameter's value.  It
 * takes no more elements: the caller empties it (len 0) for the next use.
 */
static int
arr_close(struct buf *const *arr, enum db_param p, struct ti_err *err)
{
	struct buf *b = arr[p];
	size_t off;
	uint32_t len, n = 0, flags = 0;

	assert(db_param_oid[p] != 0);
	if (b->len == 0) {
		if (buf_reserve(b, ARR_EMPTY_BYTES, err) != 0)
			return -1;
		b->len = ARR_EMPTY_BYTES;
		b->data[b->len] = '\0';
	}
	/* One step an element: cheap beside building them. */
	for (off = ARR_HEAD_BYTES; off < b->len; n++) {
		len = (uint32_t)b->data[off] << 24 |
		    (uint32_t)b->data[off + 1] << 16 |
		    (uint32_t)b->data[off + 2] << 8 | b->data[off + 3];
		off += 4;
		if (len == ARR_NULL)
			flags = 1;
		else
			off += len;
	}
	assert(off == b->len || b->len == ARR_EMPTY_BYTES);
	arr_put32(b->data, n > 0 ? 1 : 0);
	arr_put32(b->data + 4, flags);
	arr_put32(b->data + 8, (uint32_t)db_param_oid[p]);
	if (n > 0) {
		arr_put32(b->data + 12, n);
		arr_put32(b->data + 16, 1);
	}
	return 0;
}

/*
 * Append the policies and failure details of r to the arrays arr[P_P_IDX]
 * to arr[P_D_CODE]; with ord > 0 (a group), also the report's ordinal to
 * arr[P_P_ORD] to arr[P_D_ORD].  The arrays are left open.
 */
static int
db_add_policies(struct buf *const *arr, const struct report *r, int64_t ord,
    struct ti_err *err)
{
	const struct report_policy *pol = NULL;
	const struct report_detail *d = NULL;
	size_t i, j, n_ps = 0, n_mx = 0;

	for (i = 0; i < r->n_policies; i++) {
		pol = &r->policies[i];
		if (ord == 0 && (arr_slice(arr, P_P_PSFIRST,
		    pol->has_policy_string, n_ps, pol->n_policy_string, err) ||
		    arr_slice(arr, P_P_MXFIRST, pol->has_mx_host, n_mx,
		    pol->n_mx_host, err)))
			return -1;
		n_ps += pol->n_policy_string;
		n_mx += pol->n_mx_host;
		if ((ord > 0 && arr_int(arr, P_P_ORD, ord, err)) ||
		    arr_int(arr, P_P_IDX, (int64_t)i, err) ||
		    arr_text(arr, P_P_TYPE, pol->policy_type, err) ||
		    arr_text(arr, P_P_DOMAIN, pol->policy_domain, err) ||
		    arr_bool(arr, P_P_HASPS, pol->has_policy_string, err) ||
		    arr_bool(arr, P_P_HASMX, pol->has_mx_host, err) ||
		    arr_int(arr, P_P_OK, pol->total_successful_session_count,
		    err) ||
		    arr_int(arr, P_P_FAIL, pol->total_failure_session_count,
		    err))
			return -1;
		for (j = 0; j < pol->n_policy_string; j++) {
			if ((ord > 0 && arr_int(arr, P_PS_ORD, ord, err)) ||
			    arr_int(arr, P_PS_IDX, (int64_t)i, err) ||
			    arr_text(arr, P_PS_VAL, pol->policy_string[j],
			    err))
				return -1;
		}
		for (j = 0; j < pol->n_mx_host; j++) {
			if ((ord > 0 && arr_int(arr, P_MX_ORD, ord, err)) ||
			    arr_int(arr, P_MX_IDX, (int64_t)i, err) ||
			    arr_text(arr, P_MX_VAL, pol->mx_host[j], err))
				return -1;
		}
		for (j = 0; j < pol->n_details; j++) {
			d = &pol->details[j];
			if ((ord > 0 && arr_int(arr, P_D_ORD, ord, err)) ||
			    arr_int(arr, P_D_PIDX, (int64_t)i, err) ||
			    arr_int(arr, P_D_IDX, (int64_t)j, err) ||
			    arr_text(arr, P_D_TYPE, d->result_type, err) ||
			    arr_inet(arr, P_D_SIP, d->sending_mta_ip, err) ||
			    arr_text(arr, P_D_MXH, d->receiving_mx_hostname,
			    err) ||
			    arr_text(arr, P_D_HELO, d->receiving_mx_helo,
			    err) ||
			    arr_inet(arr, P_D_RIP, d->receiving_ip, err) ||
			    arr_int(arr, P_D_COUNT, d->failed_session_count,
			    err) ||
			    arr_text(arr, P_D_INFO, d->additional_information,
			    err) ||
			    arr_text(arr, P_D_CODE, d->failure_reason_code,
			    err))
				return -1;
		}
	}
	return 0;
}

/* The parameters of one request, with the storage they point into. */
struct db_params {
	const char *values[P_ALL_COUNT];
	int lengths[P_ALL_COUNT];
	int formats[P_ALL_COUNT];
	int n;
	struct buf *text;	/* the report JSON, NUL-terminated */
	const char *json;	/* the report JSON as it is sent */
	size_t json_len;
	char start[DATE_ISO_BYTES];
	char end[DATE_ISO_BYTES];
	char mdate[DATE_ISO_BYTES];
	bool has_mdate;		/* a message date in range */
	char size[32];
};

/*
 * The values of a report's own columns, P_ORG to P_JSON (P_JSON is left
 * to the caller: pp->json and pp->json_len); the dates as text only with
 * text_dates.  Every check that can refuse the report is made here,
 * before anything is added to a group.
 */
static int
db_report_values(const struct report *r, const struct ti_bytes *json,
    const struct db_meta *meta, bool text_dates, struct db_params *pp,
    struct ti_err *err)
{
	size_t skip;

	memset(pp, 0, sizeof(*pp));
	/* A text parameter ends at a NUL, and the server refuses one in a
	 * binary array: the JSON must not hold one. */
	if (memchr(json->data, '\0', json->len) != NULL)
		return ti_err_set(err, TI_KIND_DATA, "report holds a NUL byte");
	/* jsonb takes no byte order mark; the parser skipped it too. */
	skip = json->len >= 3 && memcmp(json->data, "\xef\xbb\xbf", 3) == 0 ?
	    3 : 0;
	pp->json = (const char *)json->data + skip;
	pp->json_len = json->len - skip;
	if (!date_in_range(r->start_usec) || !date_in_range(r->end_usec))
		return ti_err_set(err, TI_KIND_DATA, "date-range out of range");
	pp->has_mdate = meta->has_date && date_in_range(meta->date_usec);
	/* Text for scalar parameters only: arrays take the numbers. */
	if (text_dates) {
		if (date_format_iso(r->start_usec, pp->start,
		    sizeof(pp->start)) != 0 || date_format_iso(r->end_usec,
		    pp->end, sizeof(pp->end)) != 0 || (pp->has_mdate &&
		    date_format_iso(meta->date_usec, pp->mdate,
		    sizeof(pp->mdate)) != 0))
			return ti_err_set(err, TI_KIND_INTERNAL,
			    "cannot format a date");
		pp->values[P_START] = pp->start;
		pp->values[P_END] = pp->end;
		if (pp->has_mdate)
			pp->values[P_MDATE] = pp->mdate;
	}
	pp->values[P_ORG] = r->organization_name;
	pp->values[P_RID] = r->report_id;
	pp->values[P_CONTACT] = r->contact_info;
	pp->values[P_SOURCE] = meta->source;
	pp->values[P_MSGID] = meta->message_id;
	pp->values[P_FROM] = meta->from;
	pp->values[P_SUBJECT] = meta->subject;
	pp->values[P_RDOMAIN] = meta->report_domain;
	pp->values[P_SUBMITTER] = meta->report_submitter;
	pp->values[P_DKIM] = meta->dkim_result;
	pp->values[P_DKIMD] = meta->dkim_domain;
	pp->values[P_DKIMAS] = meta->dkim_authserv_id;
	pp->values[P_SUBMATCH] = meta->submitter_match < 0 ? NULL :
	    meta->submitter_match ? "t" : "f";
	return 0;
}

/* Close arr[from] to arr[to - 1], the binary parameters from..to of pp. */
static int
db_arrays_close(struct buf *const *arr, size_t from, size_t to,
    struct db_params *pp, struct ti_err *err)
{
	size_t i;

	for (i = from; i < to; i++) {
		if (arr_close(arr, (enum db_param)i, err) != 0)
			return -1;
		pp->values[i] = (const char *)arr[i]->data;
		pp->lengths[i] = (int)arr[i]->len;
		pp->formats[i] = 1;
	}
	return 0;
}

/* The parameters of tlsrpt.store_report() for one report. */
static int
db_report_params(struct db *db, const struct report *r,
    const struct ti_bytes *json, const struct db_meta *meta,
    struct db_params *pp, struct ti_err *err)
{
	size_t i;

	if (db_report_values(r, json, meta, true, pp, err) != 0)
		return -1;
	for (i = P_FIRST_ARRAY; i < P_ALL_COUNT; i++) {
		if (db->arr[i] != NULL)
			db->arr[i]->len = 0;
	}
	if (db_add_policies(db->arr, r, 0, err) != 0)
		return ti_err_prefix(err, "report too large to store");
	if (db_arrays_close(db->arr, P_FIRST_ARRAY, P_COUNT, pp, err) != 0 ||
	    db_arrays_close(db->arr, P_P_PSFIRST, P_ALL_COUNT, pp, err) != 0)
		return -1;
	pp->text = buf_new(pp->json_len, err);
	if (pp->text == NULL || buf_append(pp->text, pp->json, pp->json_len,
	    err) != 0)
		return -1;
	pp->values[P_JSON] = (const char *)pp->text->data;
	pp->n = P_COUNT;
	return 0;
}

static int
db_reject_params(const struct ti_bytes *raw, bool truncated, size_t raw_size,
    const char *reason, const struct db_meta *meta, struct db_params *pp,
    struct ti_err *err)
{
	static const unsigned char empty[1] = { 0 };

	memset(pp, 0, sizeof(*pp));
	if (raw->len > (size_t)INT32_MAX)
		return ti_err_set(err, TI_KIND_DATA,
		    "message too large to keep");
	if (ti_snprintf(pp->size, sizeof(pp->size), "%zu", raw_size) != 0)
		return ti_err_set(err, TI_KIND_INTERNAL, "size text too long");
	pp->values[0] = meta->source;
	pp->values[1] = reason;
	pp->values[2] = meta->message_id;
	pp->values[3] = meta->from;
	pp->values[4] = meta->subject;
	if (meta->has_date &&
	    date_format_iso(meta->date_usec, pp->mdate, sizeof(pp->mdate)) == 0)
		pp->values[5] = pp->mdate;
	pp->values[6] = meta->report_domain;
	pp->values[7] = meta->report_submitter;
	pp->values[8] = meta->dkim_result;
	pp->values[9] = meta->dkim_domain;
	pp->values[10] = meta->headers;
	pp->values[11] = pp->size;
	pp->values[12] = truncated ? "t" : "f";
	pp->values[13] = raw->data != NULL ? (const char *)raw->data :
	    (const char *)empty;
	pp->lengths[13] = (int)raw->len;
	pp->formats[13] = 1;	/* binary: the bytes as they are */
	pp->n = 14;
	return 0;
}

/*
 * The server refused a value of the report (SQLSTATE class 22 or 23): the
 * reason line kept with the message.
 */
static void
db_refusal(char *out, size_t size, const char *state, const char *msg)
{
	char line[TI_ERR_MSG_BYTES];

	/* Cut to fit, like every reason line. */
	(void)snprintf(line, sizeof(line),
	    "database refused the report: [%s] %s", state,
	    msg != NULL ? msg : "");
	db_one_line(line, out, size);
}

static bool
db_refused(const PGresult *res, char *out, size_t size)
{
	const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);

	if (state == NULL || (strncmp(state, "22", 2) != 0 &&
	    strncmp(state, "23", 2) != 0))
		return false;
	db_refusal(out, size, state,
	    PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY));
	return true;
}

/*
 * What became of a report, from its columns report, policies, details
 * (from col on) in row: a duplicate writes nothing, a stored report all
 * of its policies and failure details.
 */
static int
db_row_outcome(const PGresult *res, int row, int col, size_t n_policies,
    size_t n_details, enum db_outcome *outcome_r, struct ti_err *err)
{
	long long np, nd;

	if (PQgetisnull(res, row, col)) {
		*outcome_r = DB_DUPLICATE;
		return 0;
	}
	np = strtoll(PQgetvalue(res, row, col + 1), NULL, 10);
	nd = strtoll(PQgetvalue(res, row, col + 2), NULL, 10);
	if (np != (long long)n_policies || nd != (long long)n_details)
		return ti_err_set(err, TI_KIND_INTERNAL, "stored %lld "
		    "policies and %lld failure details, expected %zu and %zu",
		    np, nd, n_policies, n_details);
	*outcome_r = DB_STORED;
	return 0;
}

static int
db_send_fail(struct db *db, const char *what, struct ti_err *err)
{
	char msg[TI_ERR_MSG_BYTES];

	db_one_line(PQerrorMessage(db->conn), msg, sizeof(msg));
	return ti_err_set(err, TI_KIND_TEMP, "%s: %s", what, msg);
}

/* The array type of each element type. */
static Oid
db_array_oid(enum db_oid elem)
{
	switch (elem) {
	case DB_OID_BOOL:
		return 1000;
	case DB_OID_INT8:
		return 1016;
	case DB_OID_INT4:
		return 1007;
	case DB_OID_TEXT:
		return 1009;
	case DB_OID_INET:
		return 1041;
	case DB_OID_TIMESTAMPTZ:
		return 1185;
	case DB_OID_BYTEA:
	case DB_OID_JSONB:
		break;
	}
	return 0;
}

/*
 * One report on its own, in a transaction of its own: the cheapest form
 * for a new connection.  A refusal by the server rolls it back whole and
 * comes back as DATA with the server's reason.
 */
int
db_store_report(struct db *db, const struct report *r,
    const struct ti_bytes *json, const struct db_meta *meta,
    enum db_outcome *outcome_r, struct ti_err *err)
{
	struct db_params pp;
	PGresult *res = NULL;
	Oid types[DB_STORE_PARAMS];
	const char *values[DB_STORE_PARAMS];
	int lengths[DB_STORE_PARAMS];
	int formats[DB_STORE_PARAMS];
	unsigned char digest[SHA256_BYTES];
	char refusal[TI_ERR_MSG_BYTES];
	enum db_param p;
	size_t i;
	int rc = -1;

	memset(&pp, 0, sizeof(pp));
	if (db_ready(db, err) != 0)
		goto out;
	if (db_report_params(db, r, json, meta, &pp, err) != 0)
		goto out;
	memset(lengths, 0, sizeof(lengths));
	memset(formats, 0, sizeof(formats));
	for (i = 0; i < P_JSON; i++) {
		types[i] = db_param_oid[i];
		values[i] = pp.values[i];
	}
	sha256(pp.json, pp.json_len, digest);
	types[P_JSON] = DB_OID_BYTEA;
	values[P_JSON] = (const char *)digest;
	lengths[P_JSON] = SHA256_BYTES;
	formats[P_JSON] = 1;
	types[P_JSON + 1] = DB_OID_JSONB;
	values[P_JSON + 1] = pp.values[P_JSON];
	for (i = 0; i < DB_STORE_ARRAYS; i++) {
		p = db_store_arrays[i];
		types[P_JSON + 2 + i] = db_array_oid(db_param_oid[p]);
		values[P_JSON + 2 + i] = pp.values[p];
		lengths[P_JSON + 2 + i] = pp.lengths[p];
		formats[P_JSON + 2 + i] = 1;
	}
	res = PQexecParams(db->conn, db_sql_store, (int)DB_STORE_PARAMS,
	    types, values, lengths, formats, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		if (db_refused(res, refusal, sizeof(refusal)))
			ti_err_set(err, TI_KIND_DATA, "%s", refusal);
		else
			db_fail(db, res, "storing report", err);
		goto out;
	}
	if (PQntuples(res) != 1 || PQnfields(res) != 3) {
		ti_err_set(err, TI_KIND_INTERNAL, "unexpected result shape");
		goto out;
	}
	if (db_row_outcome(res, 0, 0, r->n_policies, r->n_details_total,
	    outcome_r, err) != 0)
		goto out;
	rc = 0;
out:
	PQclear(res);
	buf_free(&pp.text);
	return rc;
}

int
db_store_rejected(struct db *db, const struct ti_bytes *raw, bool truncated,
    size_t raw_size, const char *reason, const struct db_meta *meta,
    enum db_outcome *outcome_r, struct ti_err *err)
{
	struct db_params pp;
	PGresult *res = NULL;
	int rc = -1;

	if (db_ready(db, err) != 0)
		return -1;
	if (db_reject_params(raw, truncated, raw_size, reason, meta, &pp,
	    err) != 0)
		goto out;
	res = PQexecParams(db->conn, db_sql_reject, pp.n, NULL, pp.values,
	    pp.lengths, pp.formats, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		db_fail(db, res, "keeping rejected message", err);
		goto out;
	}
	*outcome_r = PQntuples(res) == 1 ? DB_STORED : DB_DUPLICATE;
	rc = 0;
out:
	PQclear(res);
	return rc;
}

/*
 * Batches.  In libpq's pipeline mode requests go out without waiting for
 * the previous one's answer, inside one transaction, so parsing the next
 * message overlaps with the server storing this one, and one COMMIT (one
 * WAL flush) covers many reports.  Reports go in groups: one call of
 * tlsrpt.ingest_reports() stores up to DB_GROUP_REPORTS of them in a few
 * statements, where a call per report would cost the server a statement
 * start-up, a subtransaction and its function's overhead each time.  A
 * report the server refuses aborts neither the group nor the transaction:
 * the function then stores the group's reports one by one and answers
 * with the refusal for that one.  Any other error ends the batch: nothing
 * of it is committed and the caller closes the connection.
 */
static int
db_queue_push(struct db *db, const struct db_pending *p, struct ti_err *err)
{
	struct db_pending *grown = NULL;
	size_t i, cap;

	if (db->q_len == db->q_cap) {
		cap = db->q_cap == 0 ? 256 : db->q_cap * 2;
		grown = malloc(cap * sizeof(*grown));
		if (grown == NULL)
			return ti_err_set(err, TI_KIND_TEMP, "out of memory");
		for (i = 0; i < db->q_len; i++)
			grown[i] = db->q[(db->q_head + i) % db->q_cap];
		free(db->q);
		db->q = grown;
		db->q_cap = cap;
		db->q_head = 0;
	}
	db->q[(db->q_head + db->q_len) % db->q_cap] = *p;
	db->q_len++;
	return 0;
}

/* A request was sent: remember what its result answers. */
static int
db_queue_sent(struct db *db, int kind, void *tag, struct ti_err *err)
{
	struct db_pending p;

	memset(&p, 0, sizeof(p));
	p.kind = kind;
	p.tag = tag;
	db->unflushed++;
	return db_queue_push(db, &p, err);
}

int
db_batch_begin(struct db *db, struct ti_err *err)
{
	if (db->in_batch)
		return 0;
	if (db_ready(db, err) != 0)
		return -1;
	if (PQenterPipelineMode(db->conn) != 1)
		return db_send_fail(db, "entering pipeline mode", err);
	db->in_batch = true;
	if (!db->prepared) {
		if (PQsendPrepare(db->conn, DB_STMT_GROUP, db_sql_group,
		    P_GROUP_COUNT, NULL) != 1 ||
		    db_queue_sent(db, REQ_OTHER, NULL, err) != 0 ||
		    PQsendPrepare(db->conn, DB_STMT_REJECT, db_sql_reject, 14,
		    NULL) != 1 ||
		    db_queue_sent(db, REQ_OTHER, NULL, err) != 0)
			return db_send_fail(db, "preparing statements", err);
		db->prepared = true;
	}
	if (PQsendQueryParams(db->conn, "BEGIN", 0, NULL, NULL, NULL, NULL,
	    0) != 1 || db_queue_sent(db, REQ_OTHER, NULL, err) != 0)
		return db_send_fail(db, "starting a transaction", err);
	return 0;
}

/* Bytes of parameters the open group holds. */
static size_t
db_group_bytes(const struct db_group *g)
{
	size_t i, n = 0;

	for (i = 0; i < P_GROUP_COUNT; i++)
		n += g->arr[i]->len;
	return n;
}

/*
 * Add a report to the open group, as the next ordinal.  On failure the
 * group is left as it was: every array is cut back to its length before.
 */
static int
db_group_add(struct db *db, const struct report *r,
    const struct ti_bytes *json, const struct db_meta *meta, void *tag,
    struct ti_err *err)
{
	struct db_group *g = &db->group;
	struct db_pending *m = NULL;
	struct db_params pp;
	size_t len[P_GROUP_COUNT];
	int64_t ord = (int64_t)g->n + 1;
	size_t i;

	assert(g->n < DB_GROUP_REPORTS);
	if (db_report_values(r, json, meta, false, &pp, err) != 0)
		return -1;
	for (i = 0; i < P_GROUP_COUNT; i++)
		len[i] = g->arr[i]->len;
	for (i = P_ORG; i < P_JSON; i++) {
		if (db_param_oid[i] == DB_OID_TEXT &&
		    arr_text(g->arr, (enum db_param)i, pp.values[i], err) != 0)
			goto undo;
	}
	/* A message date out of range is NULL, as for one report. */
	if (arr_time(g->arr, P_START, r->start_usec, err) != 0 ||
	    arr_time(g->arr, P_END, r->end_usec, err) != 0 ||
	    (pp.has_mdate ?
	    arr_time(g->arr, P_MDATE, meta->date_usec, err) :
	    arr_add(g->arr[P_MDATE], NULL, 0, err)) != 0 ||
	    (meta->submitter_match >= 0 ?
	    arr_bool(g->arr, P_SUBMATCH, meta->submitter_match > 0, err) :
	    arr_add(g->arr[P_SUBMATCH], NULL, 0, err)) != 0 ||
	    arr_add(g->arr[P_JSON], pp.json, pp.json_len, err) != 0 ||
	    arr_int(g->arr, P_ORD, ord, err) != 0 ||
	    db_add_policies(g->arr, r, ord, err) != 0)
		goto undo;
	m = &g->member[g->n++];
	memset(m, 0, sizeof(*m));
	m->kind = REQ_GROUP;
	m->tag = tag;
	m->n_policies = r->n_policies;
	m->n_details = r->n_details_total;
	return 0;
undo:
	for (i = 0; i < P_GROUP_COUNT; i++) {
		g->arr[i]->len = len[i];
		if (g->arr[i]->data != NULL)
			g->arr[i]->data[len[i]] = '\0';
	}
	return ti_err_prefix(err, "report too large to store");
}

/* Send the open group, if any, and start an empty one. */
static int
db_group_send(struct db *db, struct ti_err *err)
{
	struct db_group *g = &db->group;
	struct db_params pp;
	size_t i;

	if (g->n == 0)
		return 0;
	memset(&pp, 0, sizeof(pp));
	if (db_arrays_close(g->arr, 0, P_GROUP_COUNT, &pp, err) != 0)
		return -1;
	/*
	 * Out at once, the server to store it while we parse the next, and
	 * to send its result as soon as it has it: left in the server's
	 * buffer, it would wait for the next group to be stored too, and we
	 * with it.
	 */
	if (PQsendQueryPrepared(db->conn, DB_STMT_GROUP, P_GROUP_COUNT,
	    pp.values, pp.lengths, pp.formats, 0) != 1 ||
	    PQsendFlushRequest(db->conn) != 1 || PQflush(db->conn) != 0)
		return db_send_fail(db, "sending reports", err);
	db->unflushed = 0;
	db->groups_out++;
	g->member[0].group = (unsigned)g->n;
	for (i = 0; i < g->n; i++) {
		if (db_queue_push(db, &g->member[i], err) != 0)
			return -1;
	}
	g->n = 0;
	for (i = 0; i < P_GROUP_COUNT; i++) {
		g->arr[i]->len = 0;
		/* One large report must not keep its memory for the run. */
		if (g->arr[i]->cap > DB_GROUP_KEEP_BYTES) {
			free(g->arr[i]->data);
			g->arr[i]->data = NULL;
			g->arr[i]->cap = 0;
		}
	}
	return 0;
}

int
db_batch_report(struct db *db, const struct report *r,
    const struct ti_bytes *json, const struct db_meta *meta, void *tag,
    struct ti_err *err)
{
	if (db_group_add(db, r, json, meta, tag, err) != 0)
		return -1;
	if (db->group.n == DB_GROUP_REPORTS ||
	    (db->groups_out == 0 && db->group.n >= DB_GROUP_EARLY) ||
	    db_group_bytes(&db->group) >= DB_GROUP_BYTES)
		return db_group_send(db, err);
	return 0;
}

int
db_batch_rejected(struct db *db, const struct ti_bytes *raw, bool truncated,
    size_t raw_size, const char *reason, const struct db_meta *meta,
    void *tag, struct ti_err *err)
{
	struct db_params pp;

	if (db_reject_params(raw, truncated, raw_size, reason, meta, &pp,
	    err) != 0)
		return -1;
	if (PQsendQueryPrepared(db->conn, DB_STMT_REJECT, pp.n, pp.values,
	    pp.lengths, pp.formats, 0) != 1)
		return db_send_fail(db, "sending a rejected message", err);
	return db_queue_sent(db, REQ_REJECT, tag, err);
}

size_t
db_batch_pending(const struct db *db)
{
	return db->q_len + db->group.n;
}

/* Take the oldest n entries off the queue. */
static void
db_queue_pop(struct db *db, struct db_pending *out, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		out[i] = db->q[(db->q_head + i) % db->q_cap];
	db->q_head = (db->q_head + n) % db->q_cap;
	db->q_len -= n;
}

/*
 * The rows of a group's result, one per report, to fn.  member[] was
 * taken off the queue first: fn may queue more.
 */
static int
db_group_result(struct db *db, const PGresult *res,
    const struct db_pending *member, size_t n, db_result_fn *fn, void *arg,
    struct ti_err *err)
{
	bool seen[DB_GROUP_REPORTS];
	enum db_outcome outcome = DB_STORED;
	char refusal[TI_ERR_MSG_BYTES];
	long ord;
	int row;

	if (PQresultStatus(res) != PGRES_TUPLES_OK)
		return db_fail(db, res, "storing reports", err);
	if (PQnfields(res) != 6 || PQntuples(res) != (int)n)
		return ti_err_set(err, TI_KIND_INTERNAL,
		    "unexpected result shape");
	memset(seen, 0, sizeof(seen));
	for (row = 0; row < (int)n; row++) {
		refusal[0] = '\0';
		ord = PQgetisnull(res, row, 0) ? 0 :
		    strtol(PQgetvalue(res, row, 0), NULL, 10);
		if (ord < 1 || ord > (long)n || seen[ord - 1])
			return ti_err_set(err, TI_KIND_INTERNAL,
			    "unexpected report ordinal in a result");
		seen[ord - 1] = true;
		if (!PQgetisnull(res, row, 4)) {
			outcome = DB_REFUSED;
			db_refusal(refusal, sizeof(refusal),
			    PQgetvalue(res, row, 4), PQgetvalue(res, row, 5));
		} else if (db_row_outcome(res, row, 1,
		    member[ord - 1].n_policies, member[ord - 1].n_details,
		    &outcome, err) != 0)
			return -1;
		if (fn(arg, member[ord - 1].tag, outcome, refusal, err) != 0)
			return -1;
	}
	return 0;
}

/* Read the result of the oldest request and hand it to fn. */
static int
db_batch_read_one(struct db *db, db_result_fn *fn, void *arg,
    struct ti_err *err)
{
	struct db_pending member[DB_GROUP_REPORTS];
	PGresult *res = NULL;
	PGresult *extra = NULL;
	enum db_outcome outcome = DB_STORED;
	size_t n = 1;
	int rc = -1;

	if (db->q[db->q_head].kind == REQ_GROUP)
		n = db->q[db->q_head].group;
	assert(n >= 1 && n <= DB_GROUP_REPORTS && n <= db->q_len);
	db_queue_pop(db, member, n);
	res = PQgetResult(db->conn);
	if (res == NULL) {
		db_send_fail(db, "reading a result", err);
		goto out;
	}
	/* Each request's results end with a NULL. */
	while ((extra = PQgetResult(db->conn)) != NULL)
		PQclear(extra);
	switch (member[0].kind) {
	case REQ_OTHER:
		if (PQresultStatus(res) != PGRES_COMMAND_OK) {
			db_fail(db, res, "batch", err);
			goto out;
		}
		rc = 0;
		goto out;
	case REQ_GROUP:
		db->groups_out--;
		rc = db_group_result(db, res, member, n, fn, arg, err);
		goto out;
	case REQ_REJECT:
		if (PQresultStatus(res) != PGRES_TUPLES_OK) {
			db_fail(db, res, "keeping rejected message", err);
			goto out;
		}
		outcome = PQntuples(res) == 1 ? DB_STORED : DB_DUPLICATE;
		break;
	}
	PQclear(res);
	res = NULL;
	if (fn(arg, member[0].tag, outcome, "", err) != 0)
		goto out;
	rc = 0;
out:
	PQclear(res);
	return rc;
}

int
db_batch_collect(struct db *db, size_t keep, db_result_fn *fn, void *arg,
    struct ti_err *err)
{
	while (db->q_len + db->group.n > keep) {
		/* The oldest message waits in the open group: send it. */
		if (db->q_len == 0 && db_group_send(db, err) != 0)
			return -1;
		/* Ask the server to send what it has, then push ours out
		 * (fn may have queued more since). */
		if (db->unflushed > 0) {
			if (PQsendFlushRequest(db->conn) != 1 ||
			    PQflush(db->conn) != 0)
				return db_send_fail(db, "sending", err);
			db->unflushed = 0;
		}
		if (db_batch_read_one(db, fn, arg, err) != 0)
			return -1;
	}
	return 0;
}

int
db_batch_commit(struct db *db, db_result_fn *fn, void *arg,
    struct ti_err *err)
{
	PGresult *res = NULL;
	int rc = -1;

	if (!db->in_batch)
		return 0;
	/* Refusals queue rejected messages: collect until none is left. */
	while (db_batch_pending(db) > 0) {
		if (db_batch_collect(db, 0, fn, arg, err) != 0)
			goto out;
	}
	if (PQsendQueryParams(db->conn, "COMMIT", 0, NULL, NULL, NULL, NULL,
	    0) != 1 || PQpipelineSync(db->conn) != 1) {
		db_send_fail(db, "committing", err);
		goto out;
	}
	res = PQgetResult(db->conn);
	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		db_fail(db, res, "committing", err);
		goto out;
	}
	PQclear(res);
	/* COMMIT's results end with a NULL; then comes the sync point. */
	while ((res = PQgetResult(db->conn)) != NULL)
		PQclear(res);
	res = PQgetResult(db->conn);
	if (PQresultStatus(res) != PGRES_PIPELINE_SYNC) {
		db_send_fail(db, "committing", err);
		goto out;
	}
	PQclear(res);
	res = NULL;
	if (PQexitPipelineMode(db->conn) != 1) {
		db_send_fail(db, "leaving pipeline mode", err);
		goto out;
	}
	db->in_batch = false;
	db->unflushed = 0;
	rc = 0;
out:
	PQclear(res);
	return rc;
}
