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
 * DB_GROUP_REPORTS to a call (db_group.c).  A report the server refuses
 * aborts neither the
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
#include "db_group.h"
#include "db_private.h"

/* The schema step this program's statements need (sql/schema.sql). */
#define DB_SCHEMA_VERSION 4

/*
 * With no group at the server (a batch begins), one goes out at
 * DB_GROUP_EARLY reports, so that the server starts while the rest are
 * parsed; else at DB_GROUP_REPORTS or DB_GROUP_BYTES of parameters.
 */
#define DB_GROUP_EARLY 8
#define DB_GROUP_BYTES ((size_t)2 << 20)

/*
 * refused_state of a report tlsrpt.store_reports() refuses because none
 * of its policy domains is monitored (schema step 5).
 */
#define DB_STATE_UNMONITORED "22T01"

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

struct db_batch {
	bool open;			/* pipeline mode, inside BEGIN */
	bool prepared;			/* on this connection */
	struct db_group *group;		/* the reports of the next call */
	struct db_pending member[DB_GROUP_REPORTS];	/* and theirs */
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
	if (bp == NULL || *bp == NULL)
		return;
	db_group_free(&(*bp)->group);
	free((*bp)->q);
	free(*bp);
	*bp = NULL;
}

static struct db_batch *
db_batch_new(struct ti_err *err)
{
	struct db_batch *b = NULL;

	b = calloc(1, sizeof(*b));
	if (b == NULL) {
		ti_err_set(err, TI_KIND_TEMP, "out of memory");
		return NULL;
	}
	b->group = db_group_new(err);
	if (b->group == NULL)
		db_batch_free(&b);
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
	    PQsendPrepare(db->conn, DB_STMT_REPORTS, db_sql_reports,
	    DB_GROUP_PARAMS, NULL) != 1 ||
	    db_queue_sent(b, REQ_OTHER, NULL, err) != 0 ||
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

/* Send the open group, if any, and start an empty one. */
static int
db_group_send(struct db *db, struct ti_err *err)
{
	struct db_batch *b = db->batch;
	const char *values[DB_GROUP_PARAMS];
	int lengths[DB_GROUP_PARAMS];
	int formats[DB_GROUP_PARAMS];
	size_t i, n = db_group_count(b->group);

	if (n == 0)
		return 0;
	if (db_group_params(b->group, values, lengths, formats, err) != 0)
		return -1;
	/*
	 * Out at once, the server to store it while we parse the next, and
	 * to send its result as soon as it has it: left in the server's
	 * buffer, it would wait for the next group to be stored too.
	 */
	if (PQsendQueryPrepared(db->conn, DB_STMT_REPORTS, DB_GROUP_PARAMS,
	    values, lengths, formats, 0) != 1 ||
	    PQsendFlushRequest(db->conn) != 1 || PQflush(db->conn) != 0)
		return db_send_fail(db, "sending reports", err);
	b->unflushed = 0;
	b->groups_out++;
	b->member[0].group = (unsigned)n;
	for (i = 0; i < n; i++) {
		if (db_queue_push(b, &b->member[i], err) != 0)
			return -1;
	}
	db_group_clear(b->group);
	return 0;
}

int
db_batch_report(struct db *db, const struct report *r,
    const struct ti_bytes *json, const struct db_meta *meta, void *tag,
    struct ti_err *err)
{
	struct db_batch *b = db->batch;
	struct db_pending *m = NULL;
	size_t n;

	assert(db_batch_busy(b));
	n = db_group_count(b->group);
	if (db_group_add(b->group, r, json, meta, err) != 0)
		return -1;
	m = &b->member[n++];
	memset(m, 0, sizeof(*m));
	m->kind = REQ_GROUP;
	m->tag = tag;
	m->n_policies = r->n_policies;
	m->n_details = r->n_details_total;
	if (n == DB_GROUP_REPORTS ||
	    (b->groups_out == 0 && n >= DB_GROUP_EARLY) ||
	    db_group_bytes(b->group) >= DB_GROUP_BYTES)
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
	return db->batch != NULL ?
	    db->batch->q_len + db_group_count(db->batch->group) : 0;
}

/*
 * The server refused the report: the reason line kept with the message.
 * DB_STATE_UNMONITORED is the schema's own refusal (no policy domain of
 * the report is monitored): its message is the reason as it stands.
 * Every refusal, whatever its state, only keeps this message aside.
 */
static void
db_refusal(char *out, size_t size, const char *state, const char *msg)
{
	char line[TI_ERR_MSG_BYTES];

	if (strcmp(state, DB_STATE_UNMONITORED) == 0)
		(void)snprintf(line, sizeof(line), "%s",
		    msg != NULL ? msg : "");
	else
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
