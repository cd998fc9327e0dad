/*
 * report_json.c - stage 4's output for --json: a struct report written
 * as one line of JSON (jansson), with the member names of RFC 8460 and
 * the values as report_parse() normalized them (RFC names for draft
 * ones, dates in UTC, absent optional members as null).
 *
 * Trust: the report was checked by report_parse(), or built by our own
 * code; its strings are valid UTF-8.  The output is bounded by the
 * caller's buffer (out->max).
 */
#include "autoconf.h"

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "date.h"
#include "report.h"

static json_t *
rj_string(const char *s)
{
	return s != NULL ? json_string(s) : json_null();
}

static json_t *
rj_strings(bool has, size_t n, char *const *v)
{
	json_t *a = NULL;
	size_t i;

	if (!has)
		return json_null();
	a = json_array();
	if (a == NULL)
		return NULL;
	for (i = 0; i < n; i++) {
		if (json_array_append_new(a, json_string(v[i])) != 0) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

static json_t *
rj_detail(const struct report_detail *d)
{
	json_t *o = NULL;

	o = json_object();
	if (o == NULL)
		return NULL;
	if (json_object_set_new(o, "result-type",
	    rj_string(d->result_type)) != 0 ||
	    json_object_set_new(o, "sending-mta-ip",
	    rj_string(d->sending_mta_ip)) != 0 ||
	    json_object_set_new(o, "receiving-mx-hostname",
	    rj_string(d->receiving_mx_hostname)) != 0 ||
	    json_object_set_new(o, "receiving-mx-helo",
	    rj_string(d->receiving_mx_helo)) != 0 ||
	    json_object_set_new(o, "receiving-ip",
	    rj_string(d->receiving_ip)) != 0 ||
	    json_object_set_new(o, "failed-session-count",
	    json_integer(d->failed_session_count)) != 0 ||
	    json_object_set_new(o, "additional-information",
	    rj_string(d->additional_information)) != 0 ||
	    json_object_set_new(o, "failure-reason-code",
	    rj_string(d->failure_reason_code)) != 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static json_t *
rj_policy(const struct report_policy *p)
{
	json_t *o = NULL;
	json_t *pol = NULL;
	json_t *sum = NULL;
	json_t *fds = NULL;
	size_t i;

	o = json_object();
	pol = json_object();
	sum = json_object();
	fds = json_array();
	if (o == NULL || pol == NULL || sum == NULL || fds == NULL)
		goto fail;
	if (json_object_set_new(pol, "policy-type",
	    rj_string(p->policy_type)) != 0 ||
	    json_object_set_new(pol, "policy-string",
	    rj_strings(p->has_policy_string, p->n_policy_string,
	    p->policy_string)) != 0 ||
	    json_object_set_new(pol, "policy-domain",
	    rj_string(p->policy_domain)) != 0 ||
	    json_object_set_new(pol, "mx-host",
	    rj_strings(p->has_mx_host, p->n_mx_host, p->mx_host)) != 0 ||
	    json_object_set_new(sum, "total-successful-session-count",
	    json_integer(p->total_successful_session_count)) != 0 ||
	    json_object_set_new(sum, "total-failure-session-count",
	    json_integer(p->total_failure_session_count)) != 0)
		goto fail;
	for (i = 0; i < p->n_details; i++) {
		if (json_array_append_new(fds, rj_detail(&p->details[i])) != 0)
			goto fail;
	}
	/* The _new setters own their value from here, even on failure. */
	if (json_object_set_new(o, "policy", pol) != 0) {
		pol = NULL;
		goto fail;
	}
	pol = NULL;
	if (json_object_set_new(o, "summary", sum) != 0) {
		sum = NULL;
		goto fail;
	}
	sum = NULL;
	if (json_object_set_new(o, "failure-details", fds) != 0) {
		fds = NULL;
		goto fail;
	}
	return o;
fail:
	json_decref(fds);
	json_decref(sum);
	json_decref(pol);
	json_decref(o);
	return NULL;
}

static json_t *
rj_report(const struct report *r)
{
	char start[DATE_ISO_BYTES];
	char end[DATE_ISO_BYTES];
	json_t *o = NULL;
	json_t *range = NULL;
	json_t *pols = NULL;
	size_t i;

	if (date_format_iso(r->start_usec, start, sizeof(start)) != 0 ||
	    date_format_iso(r->end_usec, end, sizeof(end)) != 0)
		return NULL;
	o = json_object();
	range = json_object();
	pols = json_array();
	if (o == NULL || range == NULL || pols == NULL)
		goto fail;
	if (json_object_set_new(range, "start-datetime",
	    json_string(start)) != 0 ||
	    json_object_set_new(range, "end-datetime", json_string(end)) != 0)
		goto fail;
	for (i = 0; i < r->n_policies; i++) {
		if (json_array_append_new(pols,
		    rj_policy(&r->policies[i])) != 0)
			goto fail;
	}
	if (json_object_set_new(o, "organization-name",
	    rj_string(r->organization_name)) != 0)
		goto fail;
	if (json_object_set_new(o, "date-range", range) != 0) {
		range = NULL;
		goto fail;
	}
	range = NULL;
	if (json_object_set_new(o, "contact-info",
	    rj_string(r->contact_info)) != 0 ||
	    json_object_set_new(o, "report-id",
	    rj_string(r->report_id)) != 0)
		goto fail;
	if (json_object_set_new(o, "policies", pols) != 0) {
		pols = NULL;
		goto fail;
	}
	return o;
fail:
	json_decref(pols);
	json_decref(range);
	json_decref(o);
	return NULL;
}

struct rj_sink {
	struct buf *out;
	struct ti_err *err;
	bool failed;		/* buf_append failed and filled err */
};

static int
rj_write(const char *buffer, size_t size, void *data)
{
	struct rj_sink *s = data;

	if (buf_append(s->out, buffer, size, s->err) != 0) {
		s->failed = true;
		return -1;
	}
	return 0;
}

int
report_to_json(const struct report *r, struct buf *out, struct ti_err *err)
{
	char iso[DATE_ISO_BYTES];
	json_t *root = NULL;
	struct rj_sink sink;
	size_t start_len;
	int rc = -1;

	if (r == NULL || out == NULL)
		return ti_err_set(err, TI_KIND_INTERNAL,
		    "report_to_json: no report");
	start_len = buf_len(out);
	if (date_format_iso(r->start_usec, iso, sizeof(iso)) != 0 ||
	    date_format_iso(r->end_usec, iso, sizeof(iso)) != 0) {
		ti_err_set(err, TI_KIND_INTERNAL, "report date out of range");
		goto out;
	}
	root = rj_report(r);
	if (root == NULL) {
		ti_err_set(err, TI_KIND_TEMP, "out of memory");
		goto out;
	}
	sink.out = out;
	sink.err = err;
	sink.failed = false;
	if (json_dump_callback(root, rj_write, &sink, JSON_COMPACT) != 0) {
		if (!sink.failed)
			ti_err_set(err, TI_KIND_TEMP, "out of memory");
		goto out;
	}
	rc = 0;
out:
	/* Leave the buffer as it was, as buf_append does. */
	if (rc != 0)
		buf_truncate(out, start_len);
	json_decref(root);
	return rc;
}
