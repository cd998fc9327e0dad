/*
 * report.h - stage 4: a TLS-RPT JSON document (RFC 8460 section 4) checked
 * and copied into plain C structures (report.c), and written back as
 * normalized JSON (report_json.c).  No jansson type leaves them.
 */
#ifndef TI_REPORT_H
#define TI_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "ti_limits.h"
#include "status.h"

struct report_detail {
	char *result_type;		/* as sent, unknown values kept */
	char *sending_mta_ip;		/* as sent (may not parse), or NULL */
	char *receiving_mx_hostname;	/* or NULL */
	char *receiving_mx_helo;	/* or NULL */
	char *receiving_ip;		/* as sent, or NULL */
	int64_t failed_session_count;	/* >= 0 */
	char *additional_information;	/* or additional-info-uri, or NULL */
	char *failure_reason_code;	/* or failure-error-code, or NULL */
};

struct report_policy {
	char *policy_type;		/* as sent: sts, tlsa, no-policy-found... */
	char *policy_domain;
	bool has_policy_string;		/* false: the member was absent or null */
	size_t n_policy_string;
	char **policy_string;
	bool has_mx_host;		/* false: absent or null */
	size_t n_mx_host;
	char **mx_host;			/* a lone string becomes one element */
	int64_t total_successful_session_count;	/* >= 0 */
	int64_t total_failure_session_count;	/* >= 0 */
	size_t n_details;
	struct report_detail *details;
};

struct report {
	char *organization_name;
	char *report_id;
	char *contact_info;		/* NULL when null or missing */
	int64_t start_usec;		/* microseconds since the epoch, UTC */
	int64_t end_usec;
	size_t n_policies;
	struct report_policy *policies;
	size_t n_details_total;		/* sum of n_details over policies */
	struct buf_arena *arena;	/* holds the report and everything it
					 * points to; NULL if not parsed */
};

/*
 * Parse and validate json (UTF-8 JSON text, not NUL-terminated) under the
 * limits.  Returns owned, or NULL with err: DATA with a one-line message
 * naming the JSON path ("policies[0].summary: missing"), or TEMP when
 * memory runs out.
 */
struct report *report_parse(const struct ti_bytes *json,
    const struct ti_limits *lim, struct ti_err *err);

/* NULL-safe; releases everything the report owns, sets *rp to NULL. */
void report_free(struct report **rp);

/*
 * Write the normalized report as one line of JSON (no newline) into out.
 * Used by --json.  Returns 0, or -1 with TEMP (memory) / DATA (out->max).
 */
int report_to_json(const struct report *r, struct buf *out,
    struct ti_err *err) TI_MUST_CHECK;

#endif
