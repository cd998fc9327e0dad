/*
 * report.c - stage 4: a TLS-RPT report (RFC 8460 section 4) from JSON
 * text (jansson) to a plain struct report.
 *
 * Trust: the JSON is hostile.  report_load.c bounds its shape and has
 * jansson parse it.  The tree is checked strictly where a report
 * would be unusable (required members, types, counts >= 0, dates,
 * lim->policies, lim->failure_details over the whole report,
 * lim->policy_strings per array, lim->string_bytes per string,
 * TI_KEY_BYTES for organization-name and report-id, TI_DOMAIN_BYTES for
 * policy-domain) and leniently where real senders
 * differ from the RFC: draft member names (mx-host-pattern,
 * additional-info-uri, failure-error-code), a lone mx-host string,
 * zone-less date-times, null optional members, unknown members and
 * values, and detail counts that do not add up.  Every DATA error is
 * one line, "<JSON path>: <problem>", with no input text in the path.
 *
 * Every string and array of a report lives in the report's arena, which
 * report_free() releases.  The jansson tree is released before
 * report_parse() returns: nothing in struct report borrows from it.
 */
#include "autoconf.h"

#include <assert.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "date.h"
#include "report.h"
#include "report_load.h"

#define RP_PATH_BYTES 128		/* longest JSON path we name */
#define RP_PROBLEM_BYTES 128
#define RP_PATH_DEPTH 4			/* policies[i].policy.mx-host[k] */
#define RP_NO_INDEX SIZE_MAX		/* a path step without [index] */

/* One step of a JSON path: "key" or "key[index]". */
struct rp_step {
	const char *key;
	size_t index;
};

/* State of one parse. */
struct rp_ctx {
	const struct ti_limits *lim;
	struct buf_arena *arena;
	struct ti_err *err;
	size_t n_details;		/* failure details so far */
	size_t depth;			/* steps in path */
	struct rp_step path[RP_PATH_DEPTH];	/* where the check is */
};

/* Paths and errors. */

static void
rp_enter(struct rp_ctx *c, const char *key, size_t index)
{
	assert(c->depth < RP_PATH_DEPTH);
	c->path[c->depth].key = key;
	c->path[c->depth].index = index;
	c->depth++;
}

static void
rp_leave(struct rp_ctx *c)
{
	assert(c->depth > 0);
	c->depth--;
}

/* Append ".key" (no dot first) and "[index]" to out; cut if need be. */
static void
rp_path_add(char *out, size_t size, size_t *used, const char *key,
    size_t index)
{
	const char *dot = *used > 0 ? "." : "";
	int n;

	if (index == RP_NO_INDEX)
		n = snprintf(out + *used, size - *used, "%s%s", dot, key);
	else
		n = snprintf(out + *used, size - *used, "%s%s[%zu]", dot, key,
		    index);
	if (n < 0 || (size_t)n >= size - *used)
		*used = strlen(out);
	else
		*used += (size_t)n;
}

/*
 * "<path>[.<key>]: <problem>" as DATA, the path being where the check
 * is.  Returns -1.
 */
static int
rp_fail(struct rp_ctx *c, const char *key, const char *fmt, ...)
    TI_PRINTF(3, 4);

static int
rp_fail(struct rp_ctx *c, const char *key, const char *fmt, ...)
{
	char path[RP_PATH_BYTES];
	char problem[RP_PROBLEM_BYTES];
	size_t used = 0;
	size_t i;
	va_list ap;

	path[0] = '\0';
	for (i = 0; i < c->depth; i++)
		rp_path_add(path, sizeof(path), &used, c->path[i].key,
		    c->path[i].index);
	if (key != NULL)
		rp_path_add(path, sizeof(path), &used, key, RP_NO_INDEX);
	va_start(ap, fmt);
	/* Cutting the message is acceptable: it is for people. */
	(void)vsnprintf(problem, sizeof(problem), fmt, ap);
	va_end(ap);
	return ti_err_set(c->err, TI_KIND_DATA, "%s: %s", path, problem);
}

static int
rp_nomem(struct rp_ctx *c)
{
	return ti_err_set(c->err, TI_KIND_TEMP, "out of memory");
}

/* Members. */

/* A string value, named key (NULL: the path names it already). */
static int
rp_string_value(struct rp_ctx *c, const json_t *v, const char *key,
    size_t max, char **out)
{
	if (!json_is_string(v))
		return rp_fail(c, key, "must be a string");
	if (json_string_length(v) > max)
		return rp_fail(c, key, "longer than %zu bytes", max);
	*out = buf_arena_strndup(c->arena, json_string_value(v),
	    json_string_length(v));
	if (*out == NULL)
		return rp_nomem(c);
	return 0;
}

/* A required string member; nonempty: "" is refused too. */
static int
rp_required(struct rp_ctx *c, const json_t *obj, const char *key,
    size_t max, bool nonempty, char **out)
{
	const json_t *v = json_object_get(obj, key);

	if (v == NULL)
		return rp_fail(c, key, "missing");
	if (nonempty && json_is_string(v) && json_string_length(v) == 0)
		return rp_fail(c, key, "must not be empty");
	return rp_string_value(c, v, key, max, out);
}

/* An optional string member: absent or null gives NULL. */
static int
rp_optional(struct rp_ctx *c, const json_t *obj, const char *key,
    char **out)
{
	const json_t *v = json_object_get(obj, key);

	*out = NULL;
	if (v == NULL || json_is_null(v))
		return 0;
	return rp_string_value(c, v, key, c->lim->string_bytes, out);
}

/* The RFC name, else the draft name; both are checked when present. */
static int
rp_optional_alt(struct rp_ctx *c, const json_t *obj, const char *key,
    const char *draft, char **out)
{
	char *a = NULL;
	char *b = NULL;

	if (rp_optional(c, obj, key, &a) != 0 ||
	    rp_optional(c, obj, draft, &b) != 0)
		return -1;
	*out = a != NULL ? a : b;
	return 0;
}

/* A required count: a JSON integer >= 0 (jansson: up to INT64_MAX). */
static int
rp_count(struct rp_ctx *c, const json_t *obj, const char *key,
    int64_t *out)
{
	const json_t *v = json_object_get(obj, key);

	if (v == NULL)
		return rp_fail(c, key, "missing");
	if (!json_is_integer(v) || json_integer_value(v) < 0)
		return rp_fail(c, key, "must be a non-negative integer");
	*out = (int64_t)json_integer_value(v);
	return 0;
}

/*
 * policy-string or mx-host: an array of strings, a lone string (one
 * element), or absent/null (*has_r false).
 */
static int
rp_strings(struct rp_ctx *c, const json_t *obj, const char *key,
    bool *has_r, size_t *n_r, char ***v_r)
{
	const json_t *v = json_object_get(obj, key);
	char **arr = NULL;
	size_t i, n;
	int rc;

	*has_r = false;
	*n_r = 0;
	*v_r = NULL;
	if (v == NULL || json_is_null(v))
		return 0;
	if (json_is_string(v)) {
		n = 1;
	} else if (json_is_array(v)) {
		n = json_array_size(v);
		if (n > c->lim->policy_strings)
			return rp_fail(c, key, "more than %zu elements",
			    c->lim->policy_strings);
	} else {
		return rp_fail(c, key, "must be an array of strings");
	}
	if (n > 0) {
		arr = buf_arena_array(c->arena, n, sizeof(*arr));
		if (arr == NULL)
			return rp_nomem(c);
	}
	if (json_is_string(v)) {
		if (rp_string_value(c, v, key, c->lim->string_bytes,
		    &arr[0]) != 0)
			return -1;
	} else {
		for (i = 0; i < n; i++) {
			rp_enter(c, key, i);
			rc = rp_string_value(c, json_array_get(v, i), NULL,
			    c->lim->string_bytes, &arr[i]);
			rp_leave(c);
			if (rc != 0)
				return -1;
		}
	}
	*has_r = true;
	*n_r = n;
	*v_r = arr;
	return 0;
}

/* Structure. */

/* A date-time member of date-range, which the path names. */
static int
rp_date(struct rp_ctx *c, const json_t *range, const char *key,
    int64_t *usec_r)
{
	const json_t *v = json_object_get(range, key);
	struct ti_err derr;

	if (v == NULL)
		return rp_fail(c, key, "missing");
	if (!json_is_string(v))
		return rp_fail(c, key, "must be a string");
	ti_err_clear(&derr);
	if (date_parse_rfc3339(json_string_value(v), json_string_length(v),
	    usec_r, &derr) != 0)
		return rp_fail(c, key, "%s", derr.msg);
	return 0;
}

static int
rp_detail(struct rp_ctx *c, const json_t *v, struct report_detail *d)
{
	if (!json_is_object(v))
		return rp_fail(c, NULL, "must be an object");
	if (rp_required(c, v, "result-type", c->lim->string_bytes, false,
	    &d->result_type) != 0 ||
	    rp_optional(c, v, "sending-mta-ip", &d->sending_mta_ip) != 0 ||
	    rp_optional(c, v, "receiving-mx-hostname",
	    &d->receiving_mx_hostname) != 0 ||
	    rp_optional(c, v, "receiving-mx-helo",
	    &d->receiving_mx_helo) != 0 ||
	    rp_optional(c, v, "receiving-ip", &d->receiving_ip) != 0 ||
	    rp_count(c, v, "failed-session-count",
	    &d->failed_session_count) != 0 ||
	    rp_optional_alt(c, v, "additional-information",
	    "additional-info-uri", &d->additional_information) != 0 ||
	    rp_optional_alt(c, v, "failure-reason-code",
	    "failure-error-code", &d->failure_reason_code) != 0)
		return -1;
	return 0;
}

/* The members of a policy entry's "policy", which the path names. */
static int
rp_policy_member(struct rp_ctx *c, const json_t *pol,
    struct report_policy *p)
{
	size_t dmax = c->lim->string_bytes;
	bool has_pat = false;
	size_t n_pat = 0;
	char **pat = NULL;

	if (dmax > TI_DOMAIN_BYTES)
		dmax = TI_DOMAIN_BYTES;
	if (rp_required(c, pol, "policy-type", c->lim->string_bytes, false,
	    &p->policy_type) != 0 ||
	    rp_required(c, pol, "policy-domain", dmax, false,
	    &p->policy_domain) != 0 ||
	    rp_strings(c, pol, "policy-string", &p->has_policy_string,
	    &p->n_policy_string, &p->policy_string) != 0 ||
	    rp_strings(c, pol, "mx-host", &p->has_mx_host, &p->n_mx_host,
	    &p->mx_host) != 0 ||
	    rp_strings(c, pol, "mx-host-pattern", &has_pat, &n_pat,
	    &pat) != 0)
		return -1;
	if (!p->has_mx_host && has_pat) {
		p->has_mx_host = true;
		p->n_mx_host = n_pat;
		p->mx_host = pat;
	}
	return 0;
}

/* An object member of a policy entry, checked by check. */
static int
rp_policy_part(struct rp_ctx *c, const json_t *entry, const char *key,
    struct report_policy *p,
    int (*check)(struct rp_ctx *, const json_t *, struct report_policy *))
{
	const json_t *v = json_object_get(entry, key);
	int rc;

	if (v == NULL)
		return rp_fail(c, key, "missing");
	if (!json_is_object(v))
		return rp_fail(c, key, "must be an object");
	rp_enter(c, key, RP_NO_INDEX);
	rc = check(c, v, p);
	rp_leave(c);
	return rc;
}

/* The members of a policy entry's "summary", which the path names. */
static int
rp_summary(struct rp_ctx *c, const json_t *sum, struct report_policy *p)
{
	if (rp_count(c, sum, "total-successful-session-count",
	    &p->total_successful_session_count) != 0 ||
	    rp_count(c, sum, "total-failure-session-count",
	    &p->total_failure_session_count) != 0)
		return -1;
	return 0;
}

/* A policy entry's failure-details: absent, null or an array. */
static int
rp_details(struct rp_ctx *c, const json_t *entry, struct report_policy *p)
{
	const json_t *fds = json_object_get(entry, "failure-details");
	size_t j, n;
	int rc;

	if (fds == NULL || json_is_null(fds))
		return 0;
	if (!json_is_array(fds))
		return rp_fail(c, "failure-details", "must be an array");
	n = json_array_size(fds);
	if (n > c->lim->failure_details - c->n_details)
		return rp_fail(c, "failure-details",
		    "more than %zu failure details in the report",
		    c->lim->failure_details);
	c->n_details += n;
	if (n == 0)
		return 0;
	p->details = buf_arena_array(c->arena, n, sizeof(*p->details));
	if (p->details == NULL)
		return rp_nomem(c);
	p->n_details = n;
	for (j = 0; j < n; j++) {
		rp_enter(c, "failure-details", j);
		rc = rp_detail(c, json_array_get(fds, j), &p->details[j]);
		rp_leave(c);
		if (rc != 0)
			return -1;
	}
	return 0;
}

/* One entry of policies, which the path names. */
static int
rp_policy(struct rp_ctx *c, const json_t *entry, struct report_policy *p)
{
	if (!json_is_object(entry))
		return rp_fail(c, NULL, "must be an object");
	if (rp_policy_part(c, entry, "policy", p, rp_policy_member) != 0 ||
	    rp_policy_part(c, entry, "summary", p, rp_summary) != 0 ||
	    rp_details(c, entry, p) != 0)
		return -1;
	return 0;
}

static int
rp_date_range(struct rp_ctx *c, const json_t *root, struct report *r)
{
	const json_t *range = json_object_get(root, "date-range");
	int rc = -1;

	if (range == NULL)
		return rp_fail(c, "date-range", "missing");
	if (!json_is_object(range))
		return rp_fail(c, "date-range", "must be an object");
	rp_enter(c, "date-range", RP_NO_INDEX);
	if (rp_date(c, range, "start-datetime", &r->start_usec) != 0 ||
	    rp_date(c, range, "end-datetime", &r->end_usec) != 0)
		goto out;
	if (r->end_usec < r->start_usec) {
		rp_fail(c, NULL, "end-datetime is before start-datetime");
		goto out;
	}
	rc = 0;
out:
	rp_leave(c);
	return rc;
}

static int
rp_report(struct rp_ctx *c, const json_t *root, struct report *r)
{
	const json_t *pols = NULL;
	size_t kmax = c->lim->string_bytes < TI_KEY_BYTES ?
	    c->lim->string_bytes : TI_KEY_BYTES;
	size_t i, n;
	int rc;

	if (!json_is_object(root))
		return rp_fail(c, "top level", "must be an object");
	if (rp_required(c, root, "organization-name", kmax, true,
	    &r->organization_name) != 0 ||
	    rp_date_range(c, root, r) != 0 ||
	    rp_optional(c, root, "contact-info", &r->contact_info) != 0 ||
	    rp_required(c, root, "report-id", kmax, true, &r->report_id) != 0)
		return -1;

	pols = json_object_get(root, "policies");
	if (pols == NULL)
		return rp_fail(c, "policies", "missing");
	if (!json_is_array(pols))
		return rp_fail(c, "policies", "must be an array");
	n = json_array_size(pols);
	if (n > c->lim->policies)
		return rp_fail(c, "policies", "more than %zu policies",
		    c->lim->policies);
	if (n > 0) {
		r->policies = buf_arena_array(c->arena, n,
		    sizeof(*r->policies));
		if (r->policies == NULL)
			return rp_nomem(c);
	}
	r->n_policies = n;
	for (i = 0; i < n; i++) {
		rp_enter(c, "policies", i);
		rc = rp_policy(c, json_array_get(pols, i), &r->policies[i]);
		rp_leave(c);
		if (rc != 0)
			return -1;
	}
	r->n_details_total = c->n_details;
	return 0;
}

struct report *
report_parse(const struct ti_bytes *json, const struct ti_limits *lim,
    struct ti_err *err)
{
	struct buf_arena *arena = NULL;
	struct report *r = NULL;
	json_t *root = NULL;
	struct rp_ctx c;

	if (json == NULL || lim == NULL || (json->data == NULL &&
	    json->len > 0)) {
		ti_err_set(err, TI_KIND_INTERNAL, "report_parse: no input");
		goto out;
	}
	root = report_load(json, lim, err);
	if (root == NULL)
		goto out;
	/* Strings and arrays take at most about the size of the text. */
	arena = buf_arena_new(json->len / 2, err);
	if (arena == NULL)
		goto out;
	r = buf_arena_array(arena, 1, sizeof(*r));
	if (r == NULL) {
		ti_err_set(err, TI_KIND_TEMP, "out of memory");
		goto out;
	}
	memset(&c, 0, sizeof(c));
	c.lim = lim;
	c.arena = arena;
	c.err = err;
	if (rp_report(&c, root, r) != 0) {
		r = NULL;
		goto out;
	}
	r->arena = arena;
	arena = NULL;
out:
	buf_arena_free(&arena);
	report_unload(root);
	return r;
}

void
report_free(struct report **rp)
{
	struct buf_arena *arena = NULL;

	if (rp == NULL || *rp == NULL)
		return;
	/* The report itself lives in its arena. */
	arena = (*rp)->arena;
	*rp = NULL;
	buf_arena_free(&arena);
}
