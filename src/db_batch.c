/*
 * db_batch.c - stage 5: storing reports and rejected messages, the only
 * statements the program sends.
 *
 * Every report goes in through tlsrpt.store_reports() and every rejected
 * message through tlsrpt.store_rejected() (sql/schema.sql), both
 * prepared once per connection; a message on its own is a batch of one.
 * Requests go out in libpq's pipeline mode, inside one transaction, so
 * that parsing the next message overlaps the server storing this one and
 * one COMMIT covers many.  Reports travel in groups of up to
 * DB_GROUP_REPORTS, every parameter an array in PostgreSQL's binary
 * format (pgarray.c).  A report the server refuses aborts neither the
 * group nor the transaction: the function then answers with the refusal
 * for that report.  Any other error ends the batch: nothing of it is
 * committed and the caller closes the connection.
 *
 * Nothing from a message is ever spliced into SQL text: the statements
 * are constants and every value is a parameter.  The first request on a
 * connection reads tlsrpt.schema_version: a database older than
 * DB_SCHEMA_VERSION is refused with CONFIG before anything is stored.
 */
#include "autoconf.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "date.h"
#include "db_private.h"
#include "pgarray.h"
#include "utf8.h"

/* The schema step this program's statements need (sql/schema.sql). */
#define DB_SCHEMA_VERSION 5

/* An array parameter holds at most this (a report of 100k details). */
#define DB_PARAM_MAX_BYTES ((size_t)1 << 30)

/*
 * A group goes out once it holds this many reports or parameter bytes:
 * enough that the server's cost of a statement is spread thin, few
 * enough that the next group is being parsed while this one is stored.
 * With no group at the server (a batch begins), one goes out at
 * DB_GROUP_EARLY reports.
 */
#define DB_GROUP_REPORTS 64
#define DB_GROUP_EARLY 8
#define DB_GROUP_BYTES ((size_t)2 << 20)

/* The parameters of tlsrpt.store_reports(), in its order. */
enum db_param {
	P_ORG, P_RID, P_CONTACT, P_START, P_END, P_SOURCE, P_MSGID, P_FROM,
	P_MDATE, P_SUBJECT, P_RDOMAIN, P_SUBMITTER, P_DKIM, P_DKIMD,
	P_DKIMAS, P_SUBMATCH, P_JSON, P_AUTH,
	/* policies, their strings and mx-hosts */
	P_P_IDX, P_P_TYPE, P_P_DOMAIN, P_P_HASPS, P_P_HASMX, P_P_OK, P_P_FAIL,
	P_PS_IDX, P_PS_VAL, P_MX_IDX, P_MX_VAL,
	/* failure details */
	P_D_PIDX, P_D_IDX, P_D_TYPE, P_D_SIP, P_D_MXH, P_D_HELO, P_D_RIP,
	P_D_COUNT, P_D_INFO, P_D_CODE,
	/* the ordinal of each report, and of the report of each policy,
	 * policy string, mx-host and failure detail */
	P_ORD, P_P_ORD, P_PS_ORD, P_MX_ORD, P_D_ORD,
	P_COUNT
};

/* Each parameter's element type: the function's signature. */
static const enum pgarray_type db_param_type[P_COUNT] = {
	[P_ORG] = PGARRAY_TEXT, [P_RID] = PGARRAY_TEXT,
	[P_CONTACT] = PGARRAY_TEXT, [P_START] = PGARRAY_TIMESTAMPTZ,
	[P_END] = PGARRAY_TIMESTAMPTZ, [P_SOURCE] = PGARRAY_TEXT,
	[P_MSGID] = PGARRAY_TEXT, [P_FROM] = PGARRAY_TEXT,
	[P_MDATE] = PGARRAY_TIMESTAMPTZ, [P_SUBJECT] = PGARRAY_TEXT,
	[P_RDOMAIN] = PGARRAY_TEXT, [P_SUBMITTER] = PGARRAY_TEXT,
	[P_DKIM] = PGARRAY_TEXT, [P_DKIMD] = PGARRAY_TEXT,
	[P_DKIMAS] = PGARRAY_TEXT, [P_SUBMATCH] = PGARRAY_BOOL,
	[P_JSON] = PGARRAY_TEXT, [P_AUTH] = PGARRAY_BOOL,
	[P_P_IDX] = PGARRAY_INT4, [P_P_TYPE] = PGARRAY_TEXT,
	[P_P_DOMAIN] = PGARRAY_TEXT, [P_P_HASPS] = PGARRAY_BOOL,
	[P_P_HASMX] = PGARRAY_BOOL, [P_P_OK] = PGARRAY_INT8,
	[P_P_FAIL] = PGARRAY_INT8, [P_PS_IDX] = PGARRAY_INT4,
	[P_PS_VAL] = PGARRAY_TEXT, [P_MX_IDX] = PGARRAY_INT4,
	[P_MX_VAL] = PGARRAY_TEXT,
	[P_D_PIDX] = PGARRAY_INT4, [P_D_IDX] = PGARRAY_INT4,
	[P_D_TYPE] = PGARRAY_TEXT, [P_D_SIP] = PGARRAY_INET,
	[P_D_MXH] = PGARRAY_TEXT, [P_D_HELO] = PGARRAY_TEXT,
	[P_D_RIP] = PGARRAY_INET, [P_D_COUNT] = PGARRAY_INT8,
	[P_D_INFO] = PGARRAY_TEXT, [P_D_CODE] = PGARRAY_TEXT,
	[P_ORD] = PGARRAY_INT4, [P_P_ORD] = PGARRAY_INT4,
	[P_PS_ORD] = PGARRAY_INT4, [P_MX_ORD] = PGARRAY_INT4,
	[P_D_ORD] = PGARRAY_INT4
};

#define DB_STMT_REPORTS "tlsrpt_store_reports"
#define DB_STMT_REJECTED "tlsrpt_store_rejected"

static const char db_sql_version[] =
    "SELECT pg_catalog.max(version) FROM tlsrpt.schema_version";

static const char db_sql_reports[] =
    "SELECT ord, report, policies, details, refused_state, refused_message"
    " FROM tlsrpt.store_reports($1, $2, $3, $4, $5, $6, $7, $8, $9, $10,"
    " $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24,"
    " $25, $26, $27, $28, $29, $30, $31, $32, $33, $34, $35, $36, $37, $38,"
    " $39, $40, $41, $42, $43, $44)";

static const char db_sql_rejected[] =
    "SELECT tlsrpt.store_rejected($1, $2, $3, $4, $5, $6, $7, $8, $9, $10,"
    " $11, $12, $13, $14)";

#define DB_REJECTED_PARAMS 14

/* A request sent whose result has not been read yet. */
struct db_pending {
	enum { REQ_OTHER, REQ_VERSION, REQ_REJECTED, REQ_GROUP } kind;
	unsigned group;		/* REQ_GROUP, on the first: reports in it */
	void *tag;
	size_t n_policies;	/* REQ_GROUP: rows a stored report writes */
	size_t n_details;
};

/* The reports gathered for the next call of tlsrpt.store_reports(). */
struct db_group {
	struct buf *arr[P_COUNT];	/* every parameter, an array */
	struct db_pending member[DB_GROUP_REPORTS];
	size_t n;
};

struct db_batch {
	bool open;			/* pipeline mode, inside BEGIN */
	bool prepared;			/* on this connection */
	struct db_group group;
	struct db_pending *q;		/* requests awaiting results, FIFO */
	size_t q_head, q_len, q_cap;
	size_t groups_out;		/* groups sent, results not read */
	size_t unflushed;		/* requests sent since the last flush */
};

bool
db_batch_busy(const struct db_batch *batch)
{
	return batch != NULL && batch->open;
}

void
db_batch_free(struct db_batch **bp)
{
	size_t i;

	if (bp == NULL || *bp == NULL)
		return;
	for (i = 0; i < P_COUNT; i++)
		buf_free(&(*bp)->group.arr[i]);
	free((*bp)->q);
	free(*bp);
	*bp = NULL;
}

static struct db_batch *
db_batch_new(struct ti_err *err)
{
	struct db_batch *b = NULL;

	b = calloc(1, sizeof(*b));
	if (b == NULL)
		ti_err_set(err, TI_KIND_TEMP, "out of memory");
	return b;
}

static int
db_queue_push(struct db_batch *b, const struct db_pending *p,
    struct ti_err *err)
{
	struct db_pending *grown = NULL;
	size_t i, cap;

	if (b->q_len == b->q_cap) {
		cap = b->q_cap == 0 ? 256 : b->q_cap * 2;
		grown = malloc(cap * sizeof(*grown));
		if (grown == NULL)
			return ti_err_set(err, TI_KIND_TEMP, "out of memory");
		for (i = 0; i < b->q_len; i++)
			grown[i] = b->q[(b->q_head + i) % b->q_cap];
		free(b->q);
		b->q = grown;
		b->q_cap = cap;
		b->q_head = 0;
	}
	b->q[(b->q_head + b->q_len) % b->q_cap] = *p;
	b->q_len++;
	return 0;
}

/* Take the oldest n entries off the queue. */
static void
db_queue_pop(struct db_batch *b, struct db_pending *out, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		out[i] = b->q[(b->q_head + i) % b->q_cap];
	b->q_head = (b->q_head + n) % b->q_cap;
	b->q_len -= n;
}

/* A request was sent: remember what its result answers. */
static int
db_queue_sent(struct db_batch *b, int kind, void *tag, struct ti_err *err)
{
	struct db_pending p;

	memset(&p, 0, sizeof(p));
	p.kind = kind;
	p.tag = tag;
	b->unflushed++;
	return db_queue_push(b, &p, err);
}

/* The version check and the two statements, once per connection. */
static int
db_batch_prepare(struct db *db, struct ti_err *err)
{
	struct db_batch *b = db->batch;

	if (PQsendQueryParams(db->conn, db_sql_version, 0, NULL, NULL, NULL,
	    NULL, 0) != 1 || db_queue_sent(b, REQ_VERSION, NULL, err) != 0 ||
	    PQsendPrepare(db->conn, DB_STMT_REPORTS, db_sql_reports, P_COUNT,
	    NULL) != 1 || db_queue_sent(b, REQ_OTHER, NULL, err) != 0 ||
	    PQsendPrepare(db->conn, DB_STMT_REJECTED, db_sql_rejected,
	    DB_REJECTED_PARAMS, NULL) != 1 ||
	    db_queue_sent(b, REQ_OTHER, NULL, err) != 0)
		return db_send_fail(db, "preparing statements", err);
	b->prepared = true;
	return 0;
}

int
db_batch_begin(struct db *db, struct ti_err *err)
{
	if (db->batch == NULL && (db->batch = db_batch_new(err)) == NULL)
		return -1;
	if (db->batch->open)
		return 0;
	if (db_ready(db, err) != 0)
		return -1;
	if (PQenterPipelineMode(db->conn) != 1)
		return db_send_fail(db, "entering pipeline mode", err);
	db->batch->open = true;
	if (!db->batch->prepared && db_batch_prepare(db, err) != 0)
		return -1;
	if (PQsendQueryParams(db->conn, "BEGIN", 0, NULL, NULL, NULL, NULL,
	    0) != 1 || db_queue_sent(db->batch, REQ_OTHER, NULL, err) != 0)
		return db_send_fail(db, "starting a transaction", err);
	return 0;
}

/* What no column can take, whatever the group's room: DATA. */
static int
db_report_check(const struct report *r, const struct ti_bytes *json,
    struct ti_err *err)
{
	if (memchr(json->data, '\0', json->len) != NULL)
		return ti_err_set(err, TI_KIND_DATA, "report holds a NUL byte");
	if (!date_in_range(r->start_usec) || !date_in_range(r->end_usec))
		return ti_err_set(err, TI_KIND_DATA, "date-range out of range");
	return 0;
}

/* The scalar values of a report, each as the next element of its array. */
static int
db_group_add_report(struct buf *const *arr, const struct report *r,
    const struct ti_bytes *json, const struct db_meta *m, int32_t ord,
    struct ti_err *err)
{
	const char *text[] = {
		[P_ORG] = r->organization_name, [P_RID] = r->report_id,
		[P_CONTACT] = r->contact_info, [P_SOURCE] = m->source,
		[P_MSGID] = m->message_id, [P_FROM] = m->from,
		[P_SUBJECT] = m->subject, [P_RDOMAIN] = m->report_domain,
		[P_SUBMITTER] = m->report_submitter, [P_DKIM] = m->dkim_result,
		[P_DKIMD] = m->dkim_domain, [P_DKIMAS] = m->dkim_authserv_id
	};
	/* jsonb takes no byte order mark; the parser skipped it too. */
	size_t bom = utf8_bom_len(json->data, json->len);
	size_t i;

	for (i = 0; i < sizeof(text) / sizeof(text[0]); i++) {
		if (db_param_type[i] == PGARRAY_TEXT &&
		    pgarray_add_text(arr[i], text[i], err) != 0)
			return -1;
	}
	if (pgarray_add_time(arr[P_START], r->start_usec, err) != 0 ||
	    pgarray_add_time(arr[P_END], r->end_usec, err) != 0 ||
	    (m->has_date && date_in_range(m->date_usec) ?
	    pgarray_add_time(arr[P_MDATE], m->date_usec, err) :
	    pgarray_add_null(arr[P_MDATE], err)) != 0 ||
	    (m->submitter_match >= 0 ?
	    pgarray_add_bool(arr[P_SUBMATCH], m->submitter_match > 0, err) :
	    pgarray_add_null(arr[P_SUBMATCH], err)) != 0 ||
	    pgarray_add_bytes(arr[P_JSON], json->data + bom, json->len - bom,
	    err) != 0 ||
	    pgarray_add_bool(arr[P_AUTH], m->authenticated, err) != 0 ||
	    pgarray_add_int4(arr[P_ORD], ord, err) != 0)
		return -1;
	return 0;
}

/* A failure detail of policy i, as the next element of each array. */
static int
db_group_add_detail(struct buf *const *arr, const struct report_detail *d,
    int32_t ord, int32_t i, int32_t j, struct ti_err *err)
{
	if (pgarray_add_int4(arr[P_D_ORD], ord, err) != 0 ||
	    pgarray_add_int4(arr[P_D_PIDX], i, err) != 0 ||
	    pgarray_add_int4(arr[P_D_IDX], j, err) != 0 ||
	    pgarray_add_text(arr[P_D_TYPE], d->result_type, err) != 0 ||
	    pgarray_add_inet(arr[P_D_SIP], d->sending_mta_ip, err) != 0 ||
	    pgarray_add_text(arr[P_D_MXH], d->receiving_mx_hostname,
	    err) != 0 ||
	    pgarray_add_text(arr[P_D_HELO], d->receiving_mx_helo, err) != 0 ||
	    pgarray_add_inet(arr[P_D_RIP], d->receiving_ip, err) != 0 ||
	    pgarray_add_int8(arr[P_D_COUNT], d->failed_session_count,
	    err) != 0 ||
	    pgarray_add_text(arr[P_D_INFO], d->additional_information,
	    err) != 0 ||
	    pgarray_add_text(arr[P_D_CODE], d->failure_reason_code, err) != 0)
		return -1;
	return 0;
}

/* Policy i of report ord, with its strings, mx-hosts and details. */
static int
db_group_add_policy(struct buf *const *arr, const struct report_policy *p,
    int32_t ord, int32_t i, struct ti_err *err)
{
	size_t j;

	if (pgarray_add_int4(arr[P_P_ORD], ord, err) != 0 ||
	    pgarray_add_int4(arr[P_P_IDX], i, err) != 0 ||
	    pgarray_add_text(arr[P_P_TYPE], p->policy_type, err) != 0 ||
	    pgarray_add_text(arr[P_P_DOMAIN], p->policy_domain, err) != 0 ||
	    pgarray_add_bool(arr[P_P_HASPS], p->has_policy_string, err) != 0 ||
	    pgarray_add_bool(arr[P_P_HASMX], p->has_mx_host, err) != 0 ||
	    pgarray_add_int8(arr[P_P_OK], p->total_successful_session_count,
	    err) != 0 ||
	    pgarray_add_int8(arr[P_P_FAIL], p->total_failure_session_count,
	    err) != 0)
		return -1;
	for (j = 0; j < p->n_policy_string; j++) {
		if (pgarray_add_int4(arr[P_PS_ORD], ord, err) != 0 ||
		    pgarray_add_int4(arr[P_PS_IDX], i, err) != 0 ||
		    pgarray_add_text(arr[P_PS_VAL], p->policy_string[j],
		    err) != 0)
			return -1;
	}
	for (j = 0; j < p->n_mx_host; j++) {
		if (pgarray_add_int4(arr[P_MX_ORD], ord, err) != 0 ||
		    pgarray_add_int4(arr[P_MX_IDX], i, err) != 0 ||
		    pgarray_add_text(arr[P_MX_VAL], p->mx_host[j], err) != 0)
			return -1;
	}
	for (j = 0; j < p->n_details; j++) {
		if (db_group_add_detail(arr, &p->details[j], ord, i,
		    (int32_t)j, err) != 0)
			return -1;
	}
	return 0;
}

/*
 * Add a report to the open group, as the next ordinal.  On failure the
 * group is left as it was: every array is cut back to its length before.
 */
static int
db_group_add(struct db_group *g, const struct report *r,
    const struct ti_bytes *json, const struct db_meta *meta, void *tag,
    struct ti_err *err)
{
	struct db_pending *m = NULL;
	size_t len[P_COUNT];
	int32_t ord = (int32_t)g->n + 1;
	size_t i;

	assert(g->n < DB_GROUP_REPORTS);
	if (db_report_check(r, json, err) != 0)
		return -1;
	for (i = 0; i < P_COUNT; i++) {
		if (g->arr[i] == NULL &&
		    (g->arr[i] = buf_new(DB_PARAM_MAX_BYTES, err)) == NULL)
			return -1;
		len[i] = buf_bytes(g->arr[i]).len;
	}
	if (db_group_add_report(g->arr, r, json, meta, ord, err) != 0)
		goto undo;
	for (i = 0; i < r->n_policies; i++) {
		if (db_group_add_policy(g->arr, &r->policies[i], ord,
		    (int32_t)i, err) != 0)
			goto undo;
	}
	m = &g->member[g->n++];
	memset(m, 0, sizeof(*m));
	m->kind = REQ_GROUP;
	m->tag = tag;
	m->n_policies = r->n_policies;
	m->n_details = r->n_details_total;
	return 0;
undo:
	for (i = 0; i < P_COUNT; i++)
		buf_truncate(g->arr[i], len[i]);
	if (err->kind != TI_KIND_DATA)
		return -1;
	return ti_err_prefix(err, "report too large to store");
}

/* Bytes of parameters the open group holds. */
static size_t
db_group_bytes(const struct db_group *g)
{
	size_t i, n = 0;

	for (i = 0; i < P_COUNT; i++)
		n += buf_bytes(g->arr[i]).len;
	return n;
}

/* Send the open group, if any, and start an empty one. */
static int
db_group_send(struct db *db, struct ti_err *err)
{
	struct db_batch *b = db->batch;
	struct db_group *g = &b->group;
	const char *values[P_COUNT];
	int lengths[P_COUNT];
	int formats[P_COUNT];
	struct ti_bytes v;
	size_t i;

	if (g->n == 0)
		return 0;
	for (i = 0; i < P_COUNT; i++) {
		if (pgarray_close(g->arr[i], db_param_type[i], err) != 0)
			return -1;
		v = buf_bytes(g->arr[i]);
		values[i] = (const char *)v.data;
		lengths[i] = (int)v.len;
		formats[i] = 1;
	}
	/*
	 * Out at once, the server to store it while we parse the next, and
	 * to send its result as soon as it has it: left in the server's
	 * buffer, it would wait for the next group to be stored too.
	 */
	if (PQsendQueryPrepared(db->conn, DB_STMT_REPORTS, P_COUNT, values,
	    lengths, formats, 0) != 1 || PQsendFlushRequest(db->conn) != 1 ||
	    PQflush(db->conn) != 0)
		return db_send_fail(db, "sending reports", err);
	b->unflushed = 0;
	b->groups_out++;
	g->member[0].group = (unsigned)g->n;
	for (i = 0; i < g->n; i++) {
		if (db_queue_push(b, &g->member[i], err) != 0)
			return -1;
	}
	/* Each group its own arrays: a large one keeps no memory. */
	g->n = 0;
	for (i = 0; i < P_COUNT; i++)
		buf_free(&g->arr[i]);
	return 0;
}

int
db_batch_report(struct db *db, const struct report *r,
    const struct ti_bytes *json, const struct db_meta *meta, void *tag,
    struct ti_err *err)
{
	struct db_batch *b = db->batch;

	assert(db_batch_busy(b));
	if (db_group_add(&b->group, r, json, meta, tag, err) != 0)
		return -1;
	if (b->group.n == DB_GROUP_REPORTS ||
	    (b->groups_out == 0 && b->group.n >= DB_GROUP_EARLY) ||
	    db_group_bytes(&b->group) >= DB_GROUP_BYTES)
		return db_group_send(db, err);
	return 0;
}

int
db_batch_rejected(struct db *db, const struct ti_bytes *raw, bool truncated,
    size_t raw_size, const char *reason, const struct db_meta *m,
    void *tag, struct ti_err *err)
{
	static const unsigned char empty[1];
	const char *values[DB_REJECTED_PARAMS] = {
		m->source, reason, m->message_id, m->from, m->subject, NULL,
		m->report_domain, m->report_submitter, m->dkim_result,
		m->dkim_domain, m->headers, NULL, truncated ? "t" : "f",
		raw->data != NULL ? (const char *)raw->data :
		    (const char *)empty
	};
	int lengths[DB_REJECTED_PARAMS] = { 0 };
	int formats[DB_REJECTED_PARAMS] = { 0 };
	char mdate[DATE_ISO_BYTES];
	char size[32];

	assert(db_batch_busy(db->batch));
	if (raw->len > (size_t)INT32_MAX)
		return ti_err_set(err, TI_KIND_DATA,
		    "message too large to keep");
	if (m->has_date && date_in_range(m->date_usec) &&
	    date_format_iso(m->date_usec, mdate, sizeof(mdate)) == 0)
		values[5] = mdate;
	(void)snprintf(size, sizeof(size), "%zu", raw_size);
	values[11] = size;
	lengths[13] = (int)raw->len;
	formats[13] = 1;	/* binary: the bytes as they are */
	if (PQsendQueryPrepared(db->conn, DB_STMT_REJECTED,
	    DB_REJECTED_PARAMS, values, lengths, formats, 0) != 1)
		return db_send_fail(db, "sending a rejected message", err);
	return db_queue_sent(db->batch, REQ_REJECTED, tag, err);
}

size_t
db_batch_pending(const struct db *db)
{
	return db->batch != NULL ? db->batch->q_len + db->batch->group.n : 0;
}

/*
 * The server refused a value of the report: the reason line kept with
 * the message.
 */
static void
db_refusal(char *out, size_t size, const char *state, const char *msg)
{
	char line[TI_ERR_MSG_BYTES];

	(void)snprintf(line, sizeof(line),
	    "database refused the report: [%s] %s", state,
	    msg != NULL ? msg : "");
	db_one_line(line, out, size);
}

/*
 * What became of a report, from its columns report, policies, details
 * in row: a duplicate writes nothing, a stored report all of its
 * policies and failure details.
 */
static int
db_row_outcome(const PGresult *res, int row, const struct db_pending *m,
    enum db_outcome *outcome_r, struct ti_err *err)
{
	long long np, nd;

	if (PQgetisnull(res, row, 1)) {
		*outcome_r = DB_DUPLICATE;
		return 0;
	}
	np = strtoll(PQgetvalue(res, row, 2), NULL, 10);
	nd = strtoll(PQgetvalue(res, row, 3), NULL, 10);
	if (np != (long long)m->n_policies || nd != (long long)m->n_details)
		return ti_err_set(err, TI_KIND_INTERNAL, "stored %lld "
		    "policies and %lld failure details, expected %zu and %zu",
		    np, nd, m->n_policies, m->n_details);
	*outcome_r = DB_STORED;
	return 0;
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
		} else if (db_row_outcome(res, row, &member[ord - 1], &outcome,
		    err) != 0)
			return -1;
		if (fn(arg, member[ord - 1].tag, outcome, refusal, err) != 0)
			return -1;
	}
	return 0;
}

/* The schema's version, from the first request on a connection. */
static int
db_version_result(struct db *db, const PGresult *res, struct ti_err *err)
{
	long version = 0;

	if (PQresultStatus(res) != PGRES_TUPLES_OK)
		return db_fail(db, res, "reading the schema version", err);
	if (PQntuples(res) == 1 && !PQgetisnull(res, 0, 0))
		version = strtol(PQgetvalue(res, 0, 0), NULL, 10);
	if (version < DB_SCHEMA_VERSION)
		return ti_err_set(err, TI_KIND_CONFIG, "database schema "
		    "version %ld, need %d: load schema.sql", version,
		    DB_SCHEMA_VERSION);
	return 0;
}

/* The result of a request that answers no message. */
static int
db_other_result(struct db *db, const struct db_pending *p,
    const PGresult *res, struct ti_err *err)
{
	if (p->kind == REQ_VERSION)
		return db_version_result(db, res, err);
	if (PQresultStatus(res) != PGRES_COMMAND_OK)
		return db_fail(db, res, "batch", err);
	return 0;
}

/* Read the result of the oldest request and hand it to fn. */
static int
db_batch_read_one(struct db *db, db_result_fn *fn, void *arg,
    struct ti_err *err)
{
	struct db_batch *b = db->batch;
	struct db_pending member[DB_GROUP_REPORTS];
	PGresult *res = NULL;
	PGresult *extra = NULL;
	enum db_outcome outcome;
	size_t n = 1;
	int rc = -1;

	if (b->q[b->q_head].kind == REQ_GROUP)
		n = b->q[b->q_head].group;
	assert(n >= 1 && n <= DB_GROUP_REPORTS && n <= b->q_len);
	db_queue_pop(b, member, n);
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
	case REQ_VERSION:
		rc = db_other_result(db, &member[0], res, err);
		break;
	case REQ_GROUP:
		b->groups_out--;
		rc = db_group_result(db, res, member, n, fn, arg, err);
		break;
	case REQ_REJECTED:
		if (PQresultStatus(res) != PGRES_TUPLES_OK ||
		    PQntuples(res) != 1) {
			db_fail(db, res, "keeping rejected message", err);
			break;
		}
		outcome = PQgetisnull(res, 0, 0) ? DB_DUPLICATE : DB_STORED;
		rc = fn(arg, member[0].tag, outcome, "", err);
		break;
	}
out:
	PQclear(res);
	return rc;
}

int
db_batch_collect(struct db *db, size_t keep, db_result_fn *fn, void *arg,
    struct ti_err *err)
{
	struct db_batch *b = db->batch;

	while (db_batch_pending(db) > keep) {
		/* The oldest message waits in the open group: send it. */
		if (b->q_len == 0 && db_group_send(db, err) != 0)
			return -1;
		/* Ask the server to send what it has, then push ours out
		 * (fn may have queued more since). */
		if (b->unflushed > 0) {
			if (PQsendFlushRequest(db->conn) != 1 ||
			    PQflush(db->conn) != 0)
				return db_send_fail(db, "sending", err);
			b->unflushed = 0;
		}
		if (db_batch_read_one(db, fn, arg, err) != 0)
			return -1;
	}
	return 0;
}

/* COMMIT, and the sync point that ends the pipeline. */
static int
db_batch_sync(struct db *db, struct ti_err *err)
{
	PGresult *res = NULL;

	if (PQsendQueryParams(db->conn, "COMMIT", 0, NULL, NULL, NULL, NULL,
	    0) != 1 || PQpipelineSync(db->conn) != 1)
		return db_send_fail(db, "committing", err);
	res = PQgetResult(db->conn);
	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		db_fail(db, res, "committing", err);
		PQclear(res);
		return -1;
	}
	PQclear(res);
	/* COMMIT's results end with a NULL; then comes the sync point. */
	while ((res = PQgetResult(db->conn)) != NULL)
		PQclear(res);
	res = PQgetResult(db->conn);
	if (PQresultStatus(res) != PGRES_PIPELINE_SYNC) {
		PQclear(res);
		return db_send_fail(db, "committing", err);
	}
	PQclear(res);
	return 0;
}

int
db_batch_commit(struct db *db, db_result_fn *fn, void *arg,
    struct ti_err *err)
{
	struct db_batch *b = db->batch;

	if (!db_batch_busy(b))
		return 0;
	/* Refusals queue rejected messages: collect until none is left. */
	while (db_batch_pending(db) > 0) {
		if (db_batch_collect(db, 0, fn, arg, err) != 0)
			return -1;
	}
	if (db_batch_sync(db, err) != 0)
		return -1;
	if (PQexitPipelineMode(db->conn) != 1)
		return db_send_fail(db, "leaving pipeline mode", err);
	b->open = false;
	b->unflushed = 0;
	return 0;
}
