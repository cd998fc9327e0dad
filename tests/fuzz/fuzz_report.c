/*
 * fuzz_report.c - libFuzzer target for stage 4, report_parse().
 *
 * The input is JSON text, hostile.  It is parsed under the default
 * limits.  A failure must be DATA (or TEMP); an accepted report must
 * respect every limit and invariant that struct report promises, and
 * report_to_json() of it must be a fixed point: its output is accepted
 * again and written out to the same bytes.
 */
#include "autoconf.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "buf.h"
#include "config.h"
#include "fuzzutil.h"
#include "report.h"
#include "status.h"
#include "ti_limits.h"

#define FUZZ_JSON_MAX_BYTES ((size_t)256 * 1024 * 1024)

/* A string that may be NULL only when optional, within its limit. */
static void
fuzz_str(const char *s, bool optional, size_t max, const char *what)
{
	if (s == NULL) {
		fuzz_check(optional, what);
		return;
	}
	fuzz_check(strlen(s) <= max, what);
}

static void
fuzz_strings(char *const *v, size_t n, const struct ti_limits *lim,
    const char *what)
{
	size_t i;

	fuzz_check(n <= lim->policy_strings, what);
	fuzz_check(n == 0 || v != NULL, what);
	for (i = 0; i < n; i++)
		fuzz_str(v[i], false, lim->string_bytes, what);
}

static void
fuzz_report_check(const struct report *r, const struct ti_limits *lim)
{
	const struct report_policy *p = NULL;
	const struct report_detail *d = NULL;
	size_t total = 0;
	size_t i;
	size_t j;

	fuzz_str(r->organization_name, false, lim->string_bytes,
	    "organization-name");
	fuzz_str(r->report_id, false, lim->string_bytes, "report-id");
	fuzz_str(r->contact_info, true, lim->string_bytes, "contact-info");
	fuzz_check(r->start_usec <= r->end_usec, "date-range");
	fuzz_check(r->n_policies <= lim->policies, "policies: count");
	fuzz_check(r->n_policies == 0 || r->policies != NULL, "policies");
	for (i = 0; i < r->n_policies; i++) {
		p = &r->policies[i];
		fuzz_str(p->policy_type, false, lim->string_bytes,
		    "policy-type");
		fuzz_str(p->policy_domain, false, TI_DOMAIN_BYTES,
		    "policy-domain");
		fuzz_check(p->has_policy_string || p->n_policy_string == 0,
		    "policy-string: absent but not empty");
		fuzz_strings(p->policy_string, p->n_policy_string, lim,
		    "policy-string");
		fuzz_check(p->has_mx_host || p->n_mx_host == 0,
		    "mx-host: absent but not empty");
		fuzz_strings(p->mx_host, p->n_mx_host, lim, "mx-host");
		fuzz_check(p->total_successful_session_count >= 0 &&
		    p->total_failure_session_count >= 0, "summary counts");
		fuzz_check(p->n_details == 0 || p->details != NULL,
		    "failure-details");
		for (j = 0; j < p->n_details; j++) {
			d = &p->details[j];
			fuzz_str(d->result_type, false, lim->string_bytes,
			    "result-type");
			fuzz_str(d->sending_mta_ip, true, lim->string_bytes,
			    "sending-mta-ip");
			fuzz_str(d->receiving_mx_hostname, true,
			    lim->string_bytes, "receiving-mx-hostname");
			fuzz_str(d->receiving_mx_helo, true,
			    lim->string_bytes, "receiving-mx-helo");
			fuzz_str(d->receiving_ip, true, lim->string_bytes,
			    "receiving-ip");
			fuzz_str(d->additional_information, true,
			    lim->string_bytes, "additional-information");
			fuzz_str(d->failure_reason_code, true,
			    lim->string_bytes, "failure-reason-code");
			fuzz_check(d->failed_session_count >= 0,
			    "failed-session-count");
		}
		total += p->n_details;
	}
	fuzz_check(total == r->n_details_total, "n_details_total");
	fuzz_check(total <= lim->failure_details, "failure-details: count");
}

/* report_to_json(r) is accepted again and written to the same bytes. */
static void
fuzz_fixed_point(const struct report *r, const struct ti_limits *lim)
{
	struct report *r2 = NULL;
	struct buf *out = NULL;
	struct buf *out2 = NULL;
	struct ti_bytes v;
	struct ti_err err;

	ti_err_clear(&err);
	out = fuzz_buf(NULL, 0, FUZZ_JSON_MAX_BYTES);
	out2 = fuzz_buf(NULL, 0, FUZZ_JSON_MAX_BYTES);
	if (report_to_json(r, out, &err) != 0) {
		fuzz_check_err(&err, FUZZ_KIND(TI_KIND_TEMP),
		    "report_to_json");
		goto out;
	}
	fuzz_check_buf(out, "report_to_json: buffer");
	v = buf_bytes(out);
	fuzz_check(memchr(v.data, '\n', v.len) == NULL,
	    "report_to_json: more than one line");
	r2 = report_parse(&v, lim, &err);
	if (r2 == NULL) {
		if (err.kind == TI_KIND_TEMP)
			goto out;
		fuzz_fail("report_to_json: own output refused", err.msg);
	}
	fuzz_report_check(r2, lim);
	if (report_to_json(r2, out2, &err) != 0) {
		fuzz_check_err(&err, FUZZ_KIND(TI_KIND_TEMP),
		    "report_to_json (second pass)");
		goto out;
	}
	fuzz_check(buf_len(out) == buf_len(out2) &&
	    memcmp(buf_str(out), buf_str(out2), buf_len(out)) == 0,
	    "report_to_json: not a fixed point");
out:
	report_free(&r2);
	buf_free(&out2);
	buf_free(&out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ti_limits lim;
	struct ti_bytes in = { data, size };
	struct report *r = NULL;
	struct ti_err err;

	ti_err_clear(&err);
	ti_limits_default(&lim);
	r = report_parse(&in, &lim, &err);
	if (r == NULL) {
		fuzz_check_err(&err, FUZZ_KIND(TI_KIND_DATA) |
		    FUZZ_KIND(TI_KIND_TEMP), "report_parse");
		return 0;
	}
	fuzz_report_check(r, &lim);
	fuzz_fixed_point(r, &lim);
	report_free(&r);
	fuzz_check(r == NULL, "report_free left the pointer");
	return 0;
}
