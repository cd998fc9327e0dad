/*
 * db.c - stage 5: PostgreSQL through libpq.
 *
 * Everything sent is a parameter of constant SQL text; nothing from a
 * message is ever spliced into a statement.  A report goes in as one
 * statement (data-modifying CTEs), so it is stored whole or not at all
 * without an explicit transaction, in a single round trip; the unique
 * key on (organization_name, report_id) with ON CONFLICT DO NOTHING
 * makes a second delivery, concurrent or not, a no-op that we report as
 * a duplicate.  Errors are classified by SQLSTATE: connection and server
 * trouble is TEMP (the MTA retries), values the server refuses are DATA
 * (the message is kept as rejected), a missing or different schema is
 * CONFIG.
 */
#include "autoconf.h"

#include <arpa/inet.h>
#include <inttypes.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "date.h"
#include "db.h"
#include "digest.h"
#include "log.h"

/* Array parameters can be large (a report of 100k failure details). */
#define DB_PARAM_MAX_BYTES ((size_t)1 << 30)

enum db_param {
	P_ORG, P_RID, P_CONTACT, P_START, P_END, P_SOURCE, P_MSGID, P_FROM,
	P_MDATE, P_SUBJECT, P_RDOMAIN, P_SUBMITTER, P_DKIM, P_DKIMD,
	P_DKIMAS, P_SUBMATCH, P_SHA, P_JSON,
	/* policies */
	P_P_IDX, P_P_TYPE, P_P_DOMAIN, P_P_HASPS, P_P_HASMX, P_P_OK, P_P_FAIL,
	P_PS_IDX, P_PS_VAL, P_MX_IDX, P_MX_VAL,
	/* failure details */
	P_D_PIDX, P_D_IDX, P_D_TYPE, P_D_SIP, P_D_MXH, P_D_HELO, P_D_RIP,
	P_D_COUNT, P_D_INFO, P_D_CODE,
	P_COUNT
};

/* The first array parameter: those from here on live in db->arr[]. */
#define P_FIRST_ARRAY P_P_IDX
#define DB_NARRAYS (P_COUNT - P_FIRST_ARRAY)

static const char db_sql_store[] =
    "WITH r AS ("
    " INSERT INTO tlsrpt.report (organization_name, report_id,"
    "  contact_info, start_datetime, end_datetime, source, message_id,"
    "  message_from, message_date, message_subject, tls_report_domain,"
    "  tls_report_submitter, dkim_result, dkim_domain, dkim_authserv_id,"
    "  submitter_match, report_sha256, report)"
    " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14,"
    "  $15, $16, decode($17, 'hex'), $18)"
    " ON CONFLICT ON CONSTRAINT report_org_report_id_key DO NOTHING"
    " RETURNING id),"
    " p AS ("
    " INSERT INTO tlsrpt.policy (report_ref, policy_index, policy_type,"
    "  policy_domain, policy_string, mx_host,"
    "  total_successful_session_count, total_failure_session_count)"
    " SELECT r.id, u.i, u.t, u.d,"
    "  CASE WHEN u.has_ps THEN coalesce(ps.a, '{}') END,"
    "  CASE WHEN u.has_mx THEN coalesce(mx.a, '{}') END,"
    "  u.ok, u.fail"
    " FROM r CROSS JOIN unnest($19::int[], $20::text[], $21::text[],"
    "  $22::bool[], $23::bool[], $24::int8[], $25::int8[])"
    "  AS u(i, t, d, has_ps, has_mx, ok, fail)"
    " LEFT JOIN (SELECT x.pi, array_agg(x.v ORDER BY x.o) AS a"
    "  FROM unnest($26::int[], $27::text[]) WITH ORDINALITY AS x(pi, v, o)"
    "  GROUP BY x.pi) ps ON ps.pi = u.i"
    " LEFT JOIN (SELECT x.pi, array_agg(x.v ORDER BY x.o) AS a"
    "  FROM unnest($28::int[], $29::text[]) WITH ORDINALITY AS x(pi, v, o)"
    "  GROUP BY x.pi) mx ON mx.pi = u.i"
    " RETURNING id, policy_index),"
    " d AS ("
    " INSERT INTO tlsrpt.failure_detail (report_ref, policy_ref,"
    "  detail_index, result_type, sending_mta_ip, receiving_mx_hostname,"
    "  receiving_mx_helo, receiving_ip, failed_session_count,"
    "  additional_information, failure_reason_code)"
    " SELECT (SELECT id FROM r), p.id, u.di, u.rt, u.sip, u.mxh, u.helo,"
    "  u.rip, u.n, u.info, u.code"
    " FROM unnest($30::int[], $31::int[], $32::text[], $33::inet[],"
    "  $34::text[], $35::text[], $36::inet[], $37::int8[], $38::text[],"
    "  $39::text[]) AS u(pi, di, rt, sip, mxh, helo, rip, n, info, code)"
    " JOIN p ON p.policy_index = u.pi"
    " RETURNING 1)"
    " SELECT (SELECT id FROM r), (SELECT count(*) FROM p),"
    "  (SELECT count(*) FROM d)";

static const char db_sql_reject[] =
    "INSERT INTO tlsrpt.rejected_message (source, reason, message_id,"
    " message_from, message_subject, message_date, tls_report_domain,"
    " tls_report_submitter, dkim_result, dkim_domain, headers, raw_sha256,"
    " raw_size, raw_truncated, raw)"
    " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11,"
    " decode($12, 'hex'), $13, $14, $15)"
    " ON CONFLICT (raw_sha256) DO NOTHING RETURNING id";

struct db {
	PGconn *conn;
	struct buf *arr[DB_NARRAYS];	/* reused between reports */
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

struct db *
db_open(const char *conninfo, unsigned connect_timeout_s,
    unsigned statement_timeout_s, struct ti_err *err)
{
	struct db *db = NULL;
	PQconninfoOption *opts = NULL;
	char *perr = NULL;
	char timeout[32];
	char options[64];
	char msg[TI_ERR_MSG_BYTES];
	const char *keys[] = { "connect_timeout", "options",
	    "fallback_application_name", "dbname", NULL };
	const char *values[5] = { NULL };
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
	db = calloc(1, sizeof(*db));
	if (db == NULL) {
		ti_err_set(err, TI_KIND_TEMP, "out of memory");
		goto fail;
	}
	db->conn = PQconnectdbParams(keys, values, 1);
	if (db->conn == NULL) {
		ti_err_set(err, TI_KIND_TEMP, "out of memory");
		goto fail;
	}
	if (PQstatus(db->conn) != CONNECTION_OK) {
		db_one_line(PQerrorMessage(db->conn), msg, sizeof(msg));
		ti_err_set(err, TI_KIND_TEMP, "database unavailable: %s", msg);
		goto fail;
	}
	(void)PQsetNoticeProcessor(db->conn, db_notice, NULL);
	for (i = 0; i < DB_NARRAYS; i++) {
		db->arr[i] = buf_new(DB_PARAM_MAX_BYTES, err);
		if (db->arr[i] == NULL)
			goto fail;
	}
	return db;
fail:
	db_close(&db);
	return NULL;
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
	for (i = 0; i < DB_NARRAYS; i++)
		buf_free(&db->arr[i]);
	free(db);
	*dbp = NULL;
}

/*
 * Array literals for text-format parameters: {"a","b\"c",NULL}.  Every
 * element is quoted, with backslash and double quote escaped, so any
 * UTF-8 text round-trips exactly.
 */
static int
arr_sep(struct buf *b, struct ti_err *err)
{
	if (b->len == 0)
		return buf_append(b, "{", 1, err);
	return buf_append(b, ",", 1, err);
}

static int
arr_text(struct buf *b, const char *s, struct ti_err *err)
{
	const char *p = NULL;
	const char *run = NULL;

	if (arr_sep(b, err) != 0)
		return -1;
	if (s == NULL)
		return buf_append(b, "NULL", 4, err);
	if (buf_append(b, "\"", 1, err) != 0)
		return -1;
	for (run = p = s; *p != '\0'; p++) {
		if (*p != '"' && *p != '\\')
			continue;
		if (buf_append(b, run, (size_t)(p - run), err) != 0 ||
		    buf_append(b, "\\", 1, err) != 0)
			return -1;
		run = p;
	}
	if (buf_append(b, run, (size_t)(p - run), err) != 0)
		return -1;
	return buf_append(b, "\"", 1, err);
}

static int
arr_int(struct buf *b, int64_t v, struct ti_err *err)
{
	char num[32];
	int n;

	if (arr_sep(b, err) != 0)
		return -1;
	n = snprintf(num, sizeof(num), "%" PRId64, v);
	return buf_append(b, num, (size_t)n, err);
}

static int
arr_bool(struct buf *b, bool v, struct ti_err *err)
{
	if (arr_sep(b, err) != 0)
		return -1;
	return buf_append(b, v ? "t" : "f", 1, err);
}

/* An address PostgreSQL's inet takes, or NULL: a bad one must not sink
 * the report (it stays, as sent, in the report's jsonb). */
static int
arr_inet(struct buf *b, const char *s, struct ti_err *err)
{
	unsigned char addr[sizeof(struct in6_addr)];

	if (s != NULL && (inet_pton(AF_INET, s, addr) == 1 ||
	    inet_pton(AF_INET6, s, addr) == 1))
		return arr_text(b, s, err);
	return arr_text(b, NULL, err);
}

static int
arr_close(struct buf *b, struct ti_err *err)
{
	if (b->len == 0)
		return buf_append(b, "{}", 2, err);
	return buf_append(b, "}", 1, err);
}

#define DB_ARR(db, p) ((db)->arr[(p) - P_FIRST_ARRAY])

static int
db_build_arrays(struct db *db, const struct report *r, struct ti_err *err)
{
	const struct report_policy *pol = NULL;
	const struct report_detail *d = NULL;
	size_t i, j;

	for (i = 0; i < DB_NARRAYS; i++)
		db->arr[i]->len = 0;
	for (i = 0; i < r->n_policies; i++) {
		pol = &r->policies[i];
		if (arr_int(DB_ARR(db, P_P_IDX), (int64_t)i, err) ||
		    arr_text(DB_ARR(db, P_P_TYPE), pol->policy_type, err) ||
		    arr_text(DB_ARR(db, P_P_DOMAIN), pol->policy_domain, err) ||
		    arr_bool(DB_ARR(db, P_P_HASPS), pol->has_policy_string,
		    err) ||
		    arr_bool(DB_ARR(db, P_P_HASMX), pol->has_mx_host, err) ||
		    arr_int(DB_ARR(db, P_P_OK),
		    pol->total_successful_session_count, err) ||
		    arr_int(DB_ARR(db, P_P_FAIL),
		    pol->total_failure_session_count, err))
			return -1;
		for (j = 0; j < pol->n_policy_string; j++) {
			if (arr_int(DB_ARR(db, P_PS_IDX), (int64_t)i, err) ||
			    arr_text(DB_ARR(db, P_PS_VAL),
			    pol->policy_string[j], err))
				return -1;
		}
		for (j = 0; j < pol->n_mx_host; j++) {
			if (arr_int(DB_ARR(db, P_MX_IDX), (int64_t)i, err) ||
			    arr_text(DB_ARR(db, P_MX_VAL), pol->mx_host[j],
			    err))
				return -1;
		}
		for (j = 0; j < pol->n_details; j++) {
			d = &pol->details[j];
			if (arr_int(DB_ARR(db, P_D_PIDX), (int64_t)i, err) ||
			    arr_int(DB_ARR(db, P_D_IDX), (int64_t)j, err) ||
			    arr_text(DB_ARR(db, P_D_TYPE), d->result_type,
			    err) ||
			    arr_inet(DB_ARR(db, P_D_SIP), d->sending_mta_ip,
			    err) ||
			    arr_text(DB_ARR(db, P_D_MXH),
			    d->receiving_mx_hostname, err) ||
			    arr_text(DB_ARR(db, P_D_HELO), d->receiving_mx_helo,
			    err) ||
			    arr_inet(DB_ARR(db, P_D_RIP), d->receiving_ip,
			    err) ||
			    arr_int(DB_ARR(db, P_D_COUNT),
			    d->failed_session_count, err) ||
			    arr_text(DB_ARR(db, P_D_INFO),
			    d->additional_information, err) ||
			    arr_text(DB_ARR(db, P_D_CODE),
			    d->failure_reason_code, err))
				return -1;
		}
	}
	for (i = 0; i < DB_NARRAYS; i++) {
		if (arr_close(db->arr[i], err) != 0)
			return -1;
	}
	return 0;
}

int
db_store_report(struct db *db, const struct report *r,
    const struct ti_bytes *json, const struct db_meta *meta,
    enum db_outcome *outcome_r, struct ti_err *err)
{
	const char *values[P_COUNT] = { NULL };
	PGresult *res = NULL;
	struct buf *text = NULL;
	char start[DATE_ISO_BYTES];
	char end[DATE_ISO_BYTES];
	char mdate[DATE_ISO_BYTES];
	char sha[DIGEST_SHA256_HEX_BYTES];
	long long np, nd;
	size_t i;
	int rc = -1;

	if (db_build_arrays(db, r, err) != 0) {
		ti_err_prefix(err, "report too large to store");
		goto out;
	}
	/* Text parameters end at a NUL: the JSON must not hold one. */
	if (memchr(json->data, '\0', json->len) != NULL) {
		ti_err_set(err, TI_KIND_DATA, "report holds a NUL byte");
		goto out;
	}
	text = buf_new(json->len, err);
	if (text == NULL || buf_append(text, json->data, json->len, err) != 0)
		goto out;
	if (date_format_iso(r->start_usec, start, sizeof(start)) != 0 ||
	    date_format_iso(r->end_usec, end, sizeof(end)) != 0) {
		ti_err_set(err, TI_KIND_DATA, "date-range out of range");
		goto out;
	}
	digest_sha256_hex(json->data, json->len, sha);
	values[P_ORG] = r->organization_name;
	values[P_RID] = r->report_id;
	values[P_CONTACT] = r->contact_info;
	values[P_START] = start;
	values[P_END] = end;
	values[P_SOURCE] = meta->source;
	values[P_MSGID] = meta->message_id;
	values[P_FROM] = meta->from;
	if (meta->has_date &&
	    date_format_iso(meta->date_usec, mdate, sizeof(mdate)) == 0)
		values[P_MDATE] = mdate;
	values[P_SUBJECT] = meta->subject;
	values[P_RDOMAIN] = meta->report_domain;
	values[P_SUBMITTER] = meta->report_submitter;
	values[P_DKIM] = meta->dkim_result;
	values[P_DKIMD] = meta->dkim_domain;
	values[P_DKIMAS] = meta->dkim_authserv_id;
	values[P_SUBMATCH] = meta->submitter_match < 0 ? NULL :
	    meta->submitter_match ? "t" : "f";
	values[P_SHA] = sha;
	values[P_JSON] = (const char *)text->data;
	for (i = P_FIRST_ARRAY; i < P_COUNT; i++)
		values[i] = (const char *)DB_ARR(db, i)->data;

	res = PQexecParams(db->conn, db_sql_store, P_COUNT, NULL, values,
	    NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		db_fail(db, res, "storing report", err);
		goto out;
	}
	if (PQntuples(res) != 1 || PQnfields(res) != 3) {
		ti_err_set(err, TI_KIND_INTERNAL, "unexpected result shape");
		goto out;
	}
	if (PQgetisnull(res, 0, 0)) {
		*outcome_r = DB_DUPLICATE;
		rc = 0;
		goto out;
	}
	np = strtoll(PQgetvalue(res, 0, 1), NULL, 10);
	nd = strtoll(PQgetvalue(res, 0, 2), NULL, 10);
	if (np != (long long)r->n_policies ||
	    nd != (long long)r->n_details_total) {
		ti_err_set(err, TI_KIND_INTERNAL, "stored %lld policies and "
		    "%lld failure details, expected %zu and %zu", np, nd,
		    r->n_policies, r->n_details_total);
		goto out;
	}
	*outcome_r = DB_STORED;
	rc = 0;
out:
	PQclear(res);
	buf_free(&text);
	return rc;
}

int
db_store_rejected(struct db *db, const struct ti_bytes *raw, bool truncated,
    size_t raw_size, const char *reason, const struct db_meta *meta,
    enum db_outcome *outcome_r, struct ti_err *err)
{
	const char *values[15] = { NULL };
	int lengths[15] = { 0 };
	int formats[15] = { 0 };
	PGresult *res = NULL;
	char sha[DIGEST_SHA256_HEX_BYTES];
	char size[32];
	char mdate[DATE_ISO_BYTES];
	static const unsigned char empty[1] = { 0 };
	int rc = -1;

	if (raw->len > (size_t)INT32_MAX) {
		ti_err_set(err, TI_KIND_DATA, "message too large to keep");
		goto out;
	}
	digest_sha256_hex(raw->data, raw->len, sha);
	if (ti_snprintf(size, sizeof(size), "%zu", raw_size) != 0) {
		ti_err_set(err, TI_KIND_INTERNAL, "size text too long");
		goto out;
	}
	values[0] = meta->source;
	values[1] = reason;
	values[2] = meta->message_id;
	values[3] = meta->from;
	values[4] = meta->subject;
	if (meta->has_date &&
	    date_format_iso(meta->date_usec, mdate, sizeof(mdate)) == 0)
		values[5] = mdate;
	values[6] = meta->report_domain;
	values[7] = meta->report_submitter;
	values[8] = meta->dkim_result;
	values[9] = meta->dkim_domain;
	values[10] = meta->headers;
	values[11] = sha;
	values[12] = size;
	values[13] = truncated ? "t" : "f";
	values[14] = raw->data != NULL ? (const char *)raw->data :
	    (const char *)empty;
	lengths[14] = (int)raw->len;
	formats[14] = 1;	/* binary: the bytes as they are */
	res = PQexecParams(db->conn, db_sql_reject, 15, NULL, values, lengths,
	    formats, 0);
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
