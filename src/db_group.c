/*
 * db_group.c - stage 5: a group of reports as the parameters of one call
 * of tlsrpt.store_reports() (sql/schema.sql): every parameter an array,
 * in PostgreSQL's binary format (pgarray.c), one element per report,
 * policy, policy string, mx-host or failure detail, each tied to its
 * report by an ordinal.
 *
 * Trust: the reports were checked by report.c; what no column can take
 * (a NUL in the JSON, a date out of range) is refused here with DATA
 * before anything is added, and a report that would pass an array's
 * maximum leaves the group as it was.
 */
#include "autoconf.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "date.h"
#include "db_group.h"
#include "pgarray.h"
#include "utf8.h"

/* An array parameter holds at most this (a report of 100k details). */
#define DB_PARAM_MAX_BYTES ((size_t)1 << 30)

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

/* The reports gathered for the next call of tlsrpt.store_reports(). */
struct db_group {
	struct buf *arr[P_COUNT];	/* every parameter, an array */
	size_t n;			/* reports in it */
};

_Static_assert(P_COUNT == DB_GROUP_PARAMS, "the writer's parameters");

struct db_group *
db_group_new(struct ti_err *err)
{
	struct db_group *g = NULL;

	g = calloc(1, sizeof(*g));
	if (g == NULL)
		ti_err_set(err, TI_KIND_TEMP, "out of memory");
	return g;
}

void
db_group_free(struct db_group **gp)
{
	if (gp == NULL || *gp == NULL)
		return;
	db_group_clear(*gp);
	free(*gp);
	*gp = NULL;
}

void
db_group_clear(struct db_group *g)
{
	size_t i;

	/* Each group its own arrays: a large one keeps no memory. */
	for (i = 0; i < P_COUNT; i++)
		buf_free(&g->arr[i]);
	g->n = 0;
}

size_t
db_group_count(const struct db_group *g)
{
	return g->n;
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

int
db_group_add(struct db_group *g, const struct report *r,
    const struct ti_bytes *json, const struct db_meta *meta,
    struct ti_err *err)
{
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
	g->n++;
	return 0;
undo:
	for (i = 0; i < P_COUNT; i++)
		buf_truncate(g->arr[i], len[i]);
	if (err->kind != TI_KIND_DATA)
		return -1;
	return ti_err_prefix(err, "report too large to store");
}

size_t
db_group_bytes(const struct db_group *g)
{
	size_t i, n = 0;

	for (i = 0; i < P_COUNT; i++)
		n += buf_bytes(g->arr[i]).len;
	return n;
}

int
db_group_params(struct db_group *g, const char **values, int *lengths,
    int *formats, struct ti_err *err)
{
	struct ti_bytes v;
	size_t i;

	for (i = 0; i < P_COUNT; i++) {
		if (pgarray_close(g->arr[i], db_param_type[i], err) != 0)
			return -1;
		v = buf_bytes(g->arr[i]);
		values[i] = (const char *)v.data;
		lengths[i] = (int)v.len;
		formats[i] = 1;
	}
	return 0;
}
