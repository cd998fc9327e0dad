/*
 * test_report.c - stage 4: TLS-RPT JSON checked and copied into struct
 * report.
 *
 * Table-driven: every JSON file of the corpus (tests/data/corpus, and
 * the GPL sample from the shared corpus when present) is accepted or
 * refused as expected, with exact values checked for several; the
 * fixtures tests/data/json-*.json (see tests/data/README.md); small inline
 * documents for every refusal rule (exact error line) and every
 * leniency; each limit at N (accepted) and N+1 (refused), both lowered
 * inline and at its default with documents generated at run time; and
 * report_to_json(), exactly for one report and as a fixed point for all.
 *
 * Inline documents are written with ' for " to stay readable; the test
 * swaps them before parsing (no document here needs a literal ').
 *
 * jansson's own words after "invalid JSON at line L column C: " are its
 * business: only that prefix, which says where, is compared.
 */
#include "autoconf.h"

#include <dirent.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "buf.h"
#include "date.h"
#include "ti_limits.h"
#include "report.h"
#include "report_scan.h"
#include "status.h"
#include "testutil.h"

#define SEC INT64_C(1000000)

/* A syntax error at pos ("line 1 column 4"); jansson's words follow. */
#define JANSSON_AT(pos) "invalid JSON at " pos ": "

/* Limits a case lowers; 0 keeps the default. */
struct lim_set {
	size_t json_depth;
	size_t policies;
	size_t failure_details;
	size_t policy_strings;
	size_t string_bytes;
};

struct doc_case {
	const char *name;
	const char *doc;	/* ' stands for " */
	struct lim_set lim;
	const char *want_msg;	/* NULL: accepted; see msg_matches() */
	void (*check)(const struct report *r);	/* accepted; or NULL */
};

struct file_case {
	const char *file;	/* under tests/data, or absolute */
	bool optional;		/* skip when absent */
	const char *want_msg;
	void (*check)(const struct report *r);
	bool seen;
};

/* Per-test state, released by the teardown even when a check fails. */
struct state {
	struct buf *in;
	char *doc;
	struct report *r;
	struct report *r2;
	struct buf *out;
	struct buf *out2;
};

static int
setup(void **sp)
{
	struct state *st = NULL;

	st = calloc(1, sizeof(*st));
	if (st == NULL)
		return -1;
	*sp = st;
	return 0;
}

static int
teardown(void **sp)
{
	struct state *st = *sp;

	buf_free(&st->in);
	free(st->doc);
	report_free(&st->r);
	report_free(&st->r2);
	buf_free(&st->out);
	buf_free(&st->out2);
	free(st);
	return 0;
}

static void
lim_apply(struct ti_limits *lim, const struct lim_set *set)
{
	ti_limits_default(lim);
	if (set == NULL)
		return;
	if (set->json_depth != 0)
		lim->json_depth = set->json_depth;
	if (set->policies != 0)
		lim->policies = set->policies;
	if (set->failure_details != 0)
		lim->failure_details = set->failure_details;
	if (set->policy_strings != 0)
		lim->policy_strings = set->policy_strings;
	if (set->string_bytes != 0)
		lim->string_bytes = set->string_bytes;
}

/* Swap ' for " in place. */
static void
unquote(char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		if (s[i] == '\'')
			s[i] = '"';
	}
}

/*
 * report_to_json() of r is a fixed point: parsing its output and
 * writing that again gives the same bytes.
 */
static void
check_to_json_fixed_point(struct state *st, const char *name)
{
	struct ti_limits lim;
	struct ti_bytes v;
	struct ti_err err;

	ti_limits_default(&lim);
	buf_free(&st->out);
	buf_free(&st->out2);
	report_free(&st->r2);
	st->out = buf_new(TI_MIB * 64, &err);
	st->out2 = buf_new(TI_MIB * 64, &err);
	assert_non_null(st->out);
	assert_non_null(st->out2);
	if (report_to_json(st->r, st->out, &err) != 0)
		fail_msg("%s: report_to_json: %s", name, err.msg);
	v = buf_bytes(st->out);
	if (memchr(v.data, '\n', v.len) != NULL)
		fail_msg("%s: report_to_json wrote more than one line", name);
	st->r2 = report_parse(&v, &lim, &err);
	if (st->r2 == NULL)
		fail_msg("%s: own output refused: %s", name, err.msg);
	assert_int_equal(report_to_json(st->r2, st->out2, &err), 0);
	if (strcmp(buf_str(st->out), buf_str(st->out2)) != 0 ||
	    buf_len(st->out) != buf_len(st->out2))
		fail_msg("%s: output changed on a second pass:\n%s\n%s", name,
		    buf_str(st->out), buf_str(st->out2));
	report_free(&st->r2);
}

/*
 * got is want, or, when want ends in ": " (JANSSON_AT), starts with want
 * and goes on.
 */
static bool
msg_matches(const char *got, const char *want)
{
	size_t n = strlen(want);

	if (n >= 2 && strcmp(want + n - 2, ": ") == 0)
		return strncmp(got, want, n) == 0 && got[n] != '\0';
	return strcmp(got, want) == 0;
}

/* Parse data under set and compare with the expectation. */
static void
run_one(struct state *st, const char *name, const void *data, size_t len,
    const struct lim_set *set, const char *want_msg,
    void (*check)(const struct report *r))
{
	struct ti_limits lim;
	struct ti_bytes v;
	struct ti_err err;

	lim_apply(&lim, set);
	v.data = data;
	v.len = len;
	ti_err_clear(&err);
	report_free(&st->r);
	st->r = report_parse(&v, &lim, &err);
	if (want_msg != NULL) {
		if (st->r != NULL)
			fail_msg("%s: accepted, want \"%s\"", name, want_msg);
		if (err.kind != TI_KIND_DATA)
			fail_msg("%s: kind %s, want data (%s)", name,
			    ti_kind_name(err.kind), err.msg);
		if (!msg_matches(err.msg, want_msg))
			fail_msg("%s:\n got \"%s\"\nwant \"%s\"", name, err.msg,
			    want_msg);
		return;
	}
	if (st->r == NULL)
		fail_msg("%s: refused: %s", name, err.msg);
	if (check != NULL)
		check(st->r);
	check_to_json_fixed_point(st, name);
	report_free(&st->r);
}

/* Checks of exact values. */

static void
check_rfc_example(const struct report *r)
{
	const struct report_policy *p = NULL;

	assert_string_equal(r->organization_name, "Company-X");
	assert_string_equal(r->report_id,
	    "5065427c-23d3-47ca-b6e0-946ea0e8c4be");
	assert_string_equal(r->contact_info, "sts-reporting@company-x.example");
	assert_int_equal(r->start_usec, INT64_C(1459468800) * SEC);
	assert_int_equal(r->end_usec, INT64_C(1459555199) * SEC);
	assert_int_equal(r->n_policies, 1);
	assert_int_equal(r->n_details_total, 3);
	p = &r->policies[0];
	assert_string_equal(p->policy_type, "sts");
	assert_string_equal(p->policy_domain, "company-y.example");
	assert_true(p->has_policy_string);
	assert_int_equal(p->n_policy_string, 4);
	assert_string_equal(p->policy_string[0], "version: STSv1");
	assert_string_equal(p->policy_string[3], "max_age: 86400");
	assert_true(p->has_mx_host);
	assert_int_equal(p->n_mx_host, 1);
	assert_string_equal(p->mx_host[0], "*.mail.company-y.example");
	assert_int_equal(p->total_successful_session_count, 5326);
	assert_int_equal(p->total_failure_session_count, 303);
	assert_int_equal(p->n_details, 3);
	assert_string_equal(p->details[0].result_type, "certificate-expired");
	assert_string_equal(p->details[0].sending_mta_ip,
	    "2001:db8:abcd:0012::1");
	assert_string_equal(p->details[0].receiving_mx_hostname,
	    "mx1.mail.company-y.example");
	assert_null(p->details[0].receiving_ip);
	assert_null(p->details[0].receiving_mx_helo);
	assert_null(p->details[0].additional_information);
	assert_null(p->details[0].failure_reason_code);
	assert_int_equal(p->details[0].failed_session_count, 100);
	assert_string_equal(p->details[1].receiving_ip, "203.0.113.56");
	assert_int_equal(p->details[1].failed_session_count, 200);
	assert_string_equal(p->details[2].result_type, "validation-failure");
	assert_int_equal(p->details[2].failed_session_count, 3);
	assert_string_equal(p->details[2].failure_reason_code,
	    "X509_V_ERR_PROXY_PATH_LENGTH_EXCEEDED");
}

/* YnkDK example.json and danmarg sample.json: draft failure-error-code. */
static void
check_ynkdk_example(const struct report *r)
{
	check_rfc_example(r);
	assert_string_equal(r->policies[0].details[1].additional_information,
	    "https://reports.company-x.example/report_info?id=5065427c-23d3"
	    "#StarttlsNotSupported");
}

static void
check_no_contact(const struct report *r)
{
	const struct report_policy *p = &r->policies[0];

	assert_string_equal(r->organization_name, "server.com");
	assert_string_equal(r->report_id, "123_456");
	assert_null(r->contact_info);
	assert_int_equal(r->start_usec, INT64_C(1768089600) * SEC);
	assert_int_equal(r->end_usec, INT64_C(1768176000) * SEC);
	assert_int_equal(r->n_policies, 1);
	assert_int_equal(r->n_details_total, 0);
	assert_int_equal(p->n_mx_host, 1);
	assert_string_equal(p->mx_host[0], "mx: mx.server.com");
	assert_int_equal(p->n_details, 0);
	assert_null(p->details);
	assert_int_equal(p->total_successful_session_count, 1);
}

static void
check_no_policies(const struct report *r)
{
	assert_string_equal(r->organization_name, "Company-X");
	assert_int_equal(r->n_policies, 0);
	assert_null(r->policies);
	assert_int_equal(r->n_details_total, 0);
}

static void
check_cry_microsoft(const struct report *r)
{
	assert_string_equal(r->report_id, "133925885310113267+random.net");
	assert_int_equal(r->n_policies, 2);
	assert_string_equal(r->policies[0].policy_type, "sts");
	assert_string_equal(r->policies[1].policy_type, "tlsa");
	assert_false(r->policies[1].has_mx_host);
	assert_int_equal(r->policies[1].n_policy_string, 1);
	/* A JSON array in a string, kept as sent. */
	assert_int_equal(r->policies[1].policy_string[0][0], '[');
	assert_int_equal(r->start_usec, INT64_C(1747958400) * SEC);
}

static void
check_microsoft_zoneless(const struct report *r)
{
	assert_string_equal(r->organization_name, "Microsoft Corporation");
	assert_int_equal(r->start_usec, INT64_C(1711411200) * SEC);
	assert_int_equal(r->end_usec, INT64_C(1711497599) * SEC);
	assert_false(r->policies[0].has_mx_host);
	assert_int_equal(r->policies[0].n_mx_host, 0);
	assert_null(r->policies[0].mx_host);
	assert_int_equal(r->policies[0].total_successful_session_count, 7);
}

static void
check_mailru(const struct report *r)
{
	const struct report_policy *p = &r->policies[0];

	assert_string_equal(r->organization_name, "Mail.ru");
	assert_string_equal(r->contact_info, "tls_support@corp.mail.ru");
	assert_int_equal(r->start_usec, INT64_C(1708560000) * SEC);
	assert_int_equal(r->end_usec, INT64_C(1708646400) * SEC);
	assert_false(p->has_policy_string);
	assert_false(p->has_mx_host);
	/* The details add up to more than the summary: kept as sent. */
	assert_int_equal(p->total_failure_session_count, 1);
	assert_int_equal(p->n_details, 2);
	assert_int_equal(p->details[0].failed_session_count +
	    p->details[1].failed_session_count, 2);
	assert_string_equal(p->details[0].failure_reason_code,
	    "bad https response code: 404");
	assert_string_equal(p->details[1].failure_reason_code,
	    "bad https response code: 500");
	assert_null(p->details[0].sending_mta_ip);
	assert_null(p->details[0].receiving_mx_hostname);
}

static void
check_google_mx_array(const struct report *r)
{
	const struct report_policy *p = &r->policies[0];

	assert_string_equal(r->organization_name, "Google Inc.");
	assert_string_equal(r->report_id, "2025-05-13T00:00:00Z_example.com");
	assert_int_equal(r->start_usec, INT64_C(1747094400) * SEC);
	assert_int_equal(r->end_usec, INT64_C(1747180799) * SEC);
	assert_int_equal(p->n_policy_string, 6);
	assert_int_equal(p->n_mx_host, 3);
	assert_string_equal(p->mx_host[0], "incoming-smtp-1.example.com");
	assert_string_equal(p->mx_host[2], "incoming-smtp-3.example.com");
	assert_int_equal(p->total_successful_session_count, 48);
}

static void
check_no_ip_and_mx(const struct report *r)
{
	const struct report_detail *d = &r->policies[0].details[0];

	assert_string_equal(r->report_id, "1234567890+");
	assert_int_equal(r->n_details_total, 1);
	assert_string_equal(d->result_type, "sts-policy-fetch-error");
	assert_int_equal(d->failed_session_count, 3);
	assert_null(d->sending_mta_ip);
	assert_null(d->receiving_mx_hostname);
	assert_null(d->receiving_ip);
}

static void
check_neztore(const struct report *r)
{
	const struct report_detail *d = &r->policies[0].details[0];

	assert_string_equal(r->report_id, "133988091029006454+josh.scot");
	assert_string_equal(d->result_type, "Testing");
	assert_string_equal(d->sending_mta_ip, "x.x.x.x");
	assert_string_equal(d->additional_information, "testing.josh.scot");
	assert_string_equal(d->failure_reason_code, "123");
	assert_int_equal(d->failed_session_count, 3);
}

static void
check_odd_values(const struct report *r)
{
	const struct report_policy *p = &r->policies[0];

	assert_int_equal(r->start_usec, INT64_C(1740787200500000));
	assert_int_equal(r->end_usec, INT64_C(1740873600) * SEC);
	assert_int_equal(p->total_successful_session_count, INT64_MAX);
	assert_int_equal(p->n_mx_host, 1);
	assert_string_equal(p->mx_host[0], "mx.odd.example");
	assert_string_equal(p->details[0].additional_information,
	    "not a uri");
	assert_string_equal(p->details[0].failure_reason_code, "draft-code");
	assert_string_equal(p->details[0].sending_mta_ip, "x.x.x.x");
	assert_string_equal(p->details[1].receiving_mx_helo,
	    "helo.odd.example");
	assert_int_equal(r->policies[1].n_details, 0);
	assert_int_equal(r->n_details_total, 2);
}

static void
check_bom_crlf(const struct report *r)
{
	assert_string_equal(r->organization_name, "Example Sender");
	assert_string_equal(r->report_id, "fixture-1");
	assert_int_equal(r->policies[0].n_policy_string, 2);
	assert_string_equal(r->policies[0].policy_string[1], "mode: enforce");
}

static void
check_draft_names(const struct report *r)
{
	const struct report_policy *p = &r->policies[0];

	assert_null(r->contact_info);
	assert_int_equal(r->start_usec, INT64_C(1564437600123456));
	assert_int_equal(r->end_usec, INT64_C(1564531199500000));
	assert_true(p->has_mx_host);
	assert_int_equal(p->n_mx_host, 1);
	assert_string_equal(p->mx_host[0], "*.mx.example.net");
	assert_false(p->has_policy_string);
	assert_string_equal(p->details[0].additional_information,
	    "https://sender.example/info");
	assert_string_equal(p->details[0].failure_reason_code,
	    "X509_V_ERR_CERT_HAS_EXPIRED");
}

/* The corpus. */

static const char neztore_json[] =
    "shared:Neztore__tls-rpt-monitor/microsoft-report.json";

/* Files not listed here must be accepted. */
static struct file_case corpus_cases[] = {
	{ "YnkDK__tls_reporting/date_error.json", false,
	    "date-range.start-datetime: not an RFC 3339 date-time", NULL,
	    false },
	{ "YnkDK__tls_reporting/missing_required_field.json", false,
	    "policies[0].policy.policy-type: missing", NULL, false },
	{ "stalwartlabs__mail-auth/rpt03.json", false,
	    "policies[0].policy.policy-domain: missing", NULL, false },
	{ "YnkDK__tls_reporting/example.json", false, NULL,
	    check_ynkdk_example, false },
	{ "danmarg__tlsrpt_processor/sample.json", false, NULL,
	    check_ynkdk_example, false },
	{ "domainaware__parsedmarc/rfc8460.json", false, NULL,
	    check_rfc_example, false },
	{ "phi-ag__mta-sts-exporter/rfc-errata-6241.json", false, NULL,
	    check_rfc_example, false },
	{ "YnkDK__tls_reporting/no-policies.json", false, NULL,
	    check_no_policies, false },
	{ "cry-inc__dmarc-report-viewer/no-contact.json", false, NULL,
	    check_no_contact, false },
	{ "cry-inc__dmarc-report-viewer/microsoft.json", false, NULL,
	    check_cry_microsoft, false },
	{ "cry-inc__dmarc-report-viewer/no_ip_and_mx.json", false, NULL,
	    check_no_ip_and_mx, false },
	{ "phi-ag__mta-sts-exporter/microsoft-2.json", false, NULL,
	    check_microsoft_zoneless, false },
	{ "domainaware__parsedmarc/mail.ru.json", false, NULL, check_mailru,
	    false },
	{ "aldy505__mailweave/google.com_example.com_1747094400_1747180799_"
	    "001.json", false, NULL, check_google_mx_array, false },
};

static struct file_case *
corpus_lookup(const char *rel)
{
	size_t i;

	for (i = 0; i < sizeof(corpus_cases) / sizeof(corpus_cases[0]); i++) {
		if (strcmp(corpus_cases[i].file, rel) == 0)
			return &corpus_cases[i];
	}
	return NULL;
}

/* Run every *.json under dir (rel is its path below the corpus). */
static size_t
corpus_walk(struct state *st, const char *root, const char *rel)
{
	char path[4096];
	char sub[4096];
	struct dirent *de = NULL;
	struct file_case *fc = NULL;
	struct stat sb;
	DIR *dir = NULL;
	size_t n = 0, len;

	if (snprintf(path, sizeof(path), "%s%s%s", root, rel[0] ? "/" : "",
	    rel) >= (int)sizeof(path))
		fail_msg("path too long");
	dir = opendir(path);
	if (dir == NULL)
		fail_msg("cannot open %s", path);
	while ((de = readdir(dir)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if (snprintf(sub, sizeof(sub), "%s%s%s", rel, rel[0] ? "/" :
		    "", de->d_name) >= (int)sizeof(sub) ||
		    snprintf(path, sizeof(path), "%s/%s", root, sub) >=
		    (int)sizeof(path))
			fail_msg("path too long");
		if (stat(path, &sb) != 0)
			fail_msg("cannot stat %s", path);
		if (S_ISDIR(sb.st_mode)) {
			n += corpus_walk(st, root, sub);
			continue;
		}
		len = strlen(de->d_name);
		if (len < 5 || strcmp(de->d_name + len - 5, ".json") != 0)
			continue;
		fc = corpus_lookup(sub);
		buf_free(&st->in);
		st->in = test_read_file(path);
		if (fc != NULL) {
			fc->seen = true;
			run_one(st, sub, buf_data(st->in), buf_len(st->in),
			    NULL, fc->want_msg, fc->check);
		} else {
			run_one(st, sub, buf_data(st->in), buf_len(st->in),
			    NULL, NULL, NULL);
		}
		n++;
	}
	closedir(dir);
	return n;
}

static void
test_corpus(void **sp)
{
	struct state *st = *sp;
	size_t i, n;

	n = corpus_walk(st, test_data_path("corpus"), "");
	/* 30 JSON files were copied; more may come, none may go. */
	assert_true(n >= 30);
	for (i = 0; i < sizeof(corpus_cases) / sizeof(corpus_cases[0]); i++) {
		if (!corpus_cases[i].seen)
			fail_msg("%s: not found", corpus_cases[i].file);
	}
}

/* GPL-3.0 sample kept out of the tree: used when present. */
static void
test_corpus_shared(void **sp)
{
	struct state *st = *sp;
	FILE *fp = NULL;

	(void)fp;
	if (test_file_absent(neztore_json)) {
		skip();
		return;
	}
	st->in = test_read_data(neztore_json);
	run_one(st, "Neztore microsoft-report.json", buf_data(st->in),
	    buf_len(st->in), NULL, NULL, check_neztore);
}

/* Fixtures. */

static struct file_case fixture_cases[] = {
	{ "json-bom-crlf.json", false, NULL, check_bom_crlf, false },
	{ "json-bom-syntax-error.json", false,
	    JANSSON_AT("line 5 column 13"), NULL, false },
	{ "json-dup-keys.json", false,
	    JANSSON_AT("line 4 column 13"), NULL, false },
	{ "json-draft-names.json", false, NULL, check_draft_names, false },
	{ "json-depth-32.json", false, NULL, NULL, false },
	{ "json-depth-33.json", false, "JSON nesting deeper than 32", NULL,
	    false },
	{ "json-trailing-garbage.json", false,
	    JANSSON_AT("line 2 column 1"), NULL, false },
	{ "json-invalid-utf8.json", false,
	    JANSSON_AT("line 1 column 26"), NULL, false },
	{ "json-int-overflow.json", false,
	    JANSSON_AT("line 1 column 277"), NULL, false },
	{ "json-nul-escape.json", false,
	    JANSSON_AT("line 1 column 40"), NULL, false },
	{ "report-odd-values.json", false, NULL, check_odd_values, false },
};

static void
test_fixtures(void **sp)
{
	struct state *st = *sp;
	size_t i;

	for (i = 0; i < sizeof(fixture_cases) / sizeof(fixture_cases[0]);
	    i++) {
		const struct file_case *fc = &fixture_cases[i];

		buf_free(&st->in);
		st->in = test_read_data(fc->file);
		run_one(st, fc->file, buf_data(st->in), buf_len(st->in), NULL,
		    fc->want_msg, fc->check);
	}
}

/* Inline documents. */

#define DR(s, e) "'date-range':{'start-datetime':'" s "','end-datetime':'" \
	e "'}"
#define DATES DR("2016-04-01T00:00:00Z", "2016-04-01T23:59:59Z")
#define ORG "'organization-name':'Org'"
#define RID "'report-id':'r1'"
#define CONTACT "'contact-info':'c@x'"
#define HEAD ORG "," DATES "," CONTACT "," RID
#define REPORT(pols) "{" HEAD ",'policies':[" pols "]}"
#define TOP(members) "{" members "}"
#define PTYPE "'policy-type':'sts'"
#define PDOM "'policy-domain':'example.com'"
#define POLICY "'policy':{" PTYPE "," PDOM "}"
#define SUMMARY "'summary':{'total-successful-session-count':1," \
	"'total-failure-session-count':0}"
/* A policy entry; extra members start with a comma. */
#define ENTRY(extra) "{" POLICY "," SUMMARY extra "}"
/* An entry whose policy object has these members. */
#define WITH_POLICY(members) "{'policy':{" members "}," SUMMARY "}"
/* An entry whose summary object has these members. */
#define WITH_SUMMARY(members) "{" POLICY ",'summary':{" members "}}"
#define DETAILS(d) ENTRY(",'failure-details':[" d "]")
#define DETAIL(extra) "{'result-type':'certificate-expired'," \
	"'failed-session-count':1" extra "}"
#define OK_COUNT "'total-successful-session-count':1"
#define FAIL_COUNT "'total-failure-session-count':0"

#define NOLIM { 0, 0, 0, 0, 0 }
#define P0 "policies[0].policy."
#define S0 "policies[0].summary."
#define D0 "policies[0].failure-details[0]."

static const struct doc_case refuse_cases[] = {
	/* The document itself. */
	{ "not JSON", "nope", NOLIM, JANSSON_AT("line 1 column 4"), NULL },
	{ "empty", "", NOLIM, JANSSON_AT("line 1 column 0"), NULL },
	{ "white space only", " \n\t", NOLIM, JANSSON_AT("line 2 column 1"),
	    NULL },
	{ "cut short", "{'a':1,", NOLIM, JANSSON_AT("line 1 column 7"),
	    NULL },
	{ "control byte in the message", "{'a':\x01}", NOLIM,
	    JANSSON_AT("line 1 column 6"), NULL },
	{ "top-level array", "[]", NOLIM, "top level: must be an object",
	    NULL },
	{ "duplicate nested key", REPORT(WITH_POLICY(PTYPE "," PDOM ","
	    PDOM)), NOLIM, JANSSON_AT("line 1 column 246"), NULL },
	/* organization-name and report-id. */
	{ "organization-name missing", TOP(DATES "," RID ",'policies':[]"),
	    NOLIM, "organization-name: missing", NULL },
	{ "organization-name number", TOP("'organization-name':5," DATES
	    "," RID ",'policies':[]"), NOLIM,
	    "organization-name: must be a string", NULL },
	{ "organization-name null", TOP("'organization-name':null," DATES
	    "," RID ",'policies':[]"), NOLIM,
	    "organization-name: must be a string", NULL },
	{ "organization-name empty", TOP("'organization-name':''," DATES
	    "," RID ",'policies':[]"), NOLIM,
	    "organization-name: must not be empty", NULL },
	{ "report-id missing", TOP(ORG "," DATES ",'policies':[]"), NOLIM,
	    "report-id: missing", NULL },
	{ "report-id number", TOP(ORG "," DATES ",'report-id':1,"
	    "'policies':[]"), NOLIM, "report-id: must be a string", NULL },
	{ "report-id empty", TOP(ORG "," DATES ",'report-id':'',"
	    "'policies':[]"), NOLIM, "report-id: must not be empty", NULL },
	{ "contact-info number", TOP(ORG "," DATES ",'contact-info':5,"
	    RID ",'policies':[]"), NOLIM, "contact-info: must be a string",
	    NULL },
	{ "contact-info array", TOP(ORG "," DATES ",'contact-info':[],"
	    RID ",'policies':[]"), NOLIM, "contact-info: must be a string",
	    NULL },
	/* date-range. */
	{ "date-range missing", TOP(ORG "," RID ",'policies':[]"), NOLIM,
	    "date-range: missing", NULL },
	{ "date-range string", TOP(ORG ",'date-range':'2016'," RID
	    ",'policies':[]"), NOLIM, "date-range: must be an object", NULL },
	{ "start missing", TOP(ORG ",'date-range':{'end-datetime':"
	    "'2016-04-01T23:59:59Z'}," RID ",'policies':[]"), NOLIM,
	    "date-range.start-datetime: missing", NULL },
	{ "end missing", TOP(ORG ",'date-range':{'start-datetime':"
	    "'2016-04-01T23:59:59Z'}," RID ",'policies':[]"), NOLIM,
	    "date-range.end-datetime: missing", NULL },
	{ "start number", TOP(ORG ",'date-range':{'start-datetime':"
	    "1459468800,'end-datetime':'2016-04-01T23:59:59Z'}," RID
	    ",'policies':[]"), NOLIM,
	    "date-range.start-datetime: must be a string", NULL },
	{ "end null", TOP(ORG ",'date-range':{'start-datetime':"
	    "'2016-04-01T23:59:59Z','end-datetime':null}," RID
	    ",'policies':[]"), NOLIM,
	    "date-range.end-datetime: must be a string", NULL },
	{ "start words", TOP(ORG "," DR("April fools",
	    "2016-04-01T23:59:59Z") "," RID ",'policies':[]"), NOLIM,
	    "date-range.start-datetime: not an RFC 3339 date-time", NULL },
	{ "end date only", TOP(ORG "," DR("2016-04-01T00:00:00Z",
	    "2016-04-01") "," RID ",'policies':[]"), NOLIM,
	    "date-range.end-datetime: not an RFC 3339 date-time", NULL },
	{ "start month 13", TOP(ORG "," DR("2016-13-01T00:00:00Z",
	    "2016-04-01T00:00:00Z") "," RID ",'policies':[]"), NOLIM,
	    "date-range.start-datetime: month out of range", NULL },
	{ "end trailing garbage", TOP(ORG "," DR("2016-04-01T00:00:00Z",
	    "2016-04-01T23:59:59Zx") "," RID ",'policies':[]"), NOLIM,
	    "date-range.end-datetime: not an RFC 3339 date-time", NULL },
	{ "end before start", TOP(ORG "," DR("2016-04-02T00:00:00Z",
	    "2016-04-01T23:59:59.999999Z") "," RID ",'policies':[]"), NOLIM,
	    "date-range: end-datetime is before start-datetime", NULL },
	{ "end before start by zone", TOP(ORG "," DR("2016-04-01T00:00:00Z",
	    "2016-04-01T00:30:00+01:00") "," RID ",'policies':[]"), NOLIM,
	    "date-range: end-datetime is before start-datetime", NULL },
	/* policies. */
	{ "policies missing", TOP(HEAD), NOLIM, "policies: missing", NULL },
	{ "policies object", TOP(HEAD ",'policies':{}"), NOLIM,
	    "policies: must be an array", NULL },
	{ "policies null", TOP(HEAD ",'policies':null"), NOLIM,
	    "policies: must be an array", NULL },
	{ "policy entry number", REPORT(ENTRY("") ",5"), NOLIM,
	    "policies[1]: must be an object", NULL },
	{ "policy entry array", REPORT("[]"), NOLIM,
	    "policies[0]: must be an object", NULL },
	{ "policy missing", REPORT("{" SUMMARY "}"), NOLIM,
	    "policies[0].policy: missing", NULL },
	{ "policy array", REPORT("{'policy':[]," SUMMARY "}"), NOLIM,
	    "policies[0].policy: must be an object", NULL },
	{ "policy-type missing", REPORT(ENTRY("") "," WITH_POLICY(PDOM)),
	    NOLIM, "policies[1].policy.policy-type: missing", NULL },
	{ "policy-type number", REPORT(WITH_POLICY("'policy-type':1," PDOM)),
	    NOLIM, P0 "policy-type: must be a string", NULL },
	{ "policy-domain missing", REPORT(WITH_POLICY(PTYPE)), NOLIM,
	    P0 "policy-domain: missing", NULL },
	{ "policy-domain null", REPORT(WITH_POLICY(PTYPE
	    ",'policy-domain':null")), NOLIM,
	    P0 "policy-domain: must be a string", NULL },
	{ "policy-string object", REPORT(WITH_POLICY(PTYPE "," PDOM
	    ",'policy-string':{}")), NOLIM,
	    P0 "policy-string: must be an array of strings", NULL },
	{ "policy-string number element", REPORT(WITH_POLICY(PTYPE "," PDOM
	    ",'policy-string':['version: STSv1',1]")), NOLIM,
	    P0 "policy-string[1]: must be a string", NULL },
	{ "policy-string null element", REPORT(WITH_POLICY(PTYPE "," PDOM
	    ",'policy-string':[null]")), NOLIM,
	    P0 "policy-string[0]: must be a string", NULL },
	{ "mx-host number", REPORT(WITH_POLICY(PTYPE "," PDOM
	    ",'mx-host':5")), NOLIM,
	    P0 "mx-host: must be an array of strings", NULL },
	{ "mx-host non-string element", REPORT(WITH_POLICY(PTYPE "," PDOM
	    ",'mx-host':['a','b',{}]")), NOLIM,
	    P0 "mx-host[2]: must be a string", NULL },
	{ "mx-host-pattern non-string element", REPORT(WITH_POLICY(PTYPE ","
	    PDOM ",'mx-host-pattern':[true]")), NOLIM,
	    P0 "mx-host-pattern[0]: must be a string", NULL },
	{ "mx-host-pattern bad beside mx-host", REPORT(WITH_POLICY(PTYPE ","
	    PDOM ",'mx-host':['a'],'mx-host-pattern':7")), NOLIM,
	    P0 "mx-host-pattern: must be an array of strings", NULL },
	/* summary. */
	{ "summary missing", REPORT("{" POLICY "}"), NOLIM,
	    "policies[0].summary: missing", NULL },
	{ "summary array", REPORT("{" POLICY ",'summary':[]}"), NOLIM,
	    "policies[0].summary: must be an object", NULL },
	{ "successful count missing", REPORT(WITH_SUMMARY(FAIL_COUNT)),
	    NOLIM, S0 "total-successful-session-count: missing", NULL },
	{ "failure count missing", REPORT(WITH_SUMMARY(OK_COUNT)), NOLIM,
	    S0 "total-failure-session-count: missing", NULL },
	{ "failure count negative", REPORT(WITH_SUMMARY(OK_COUNT ","
	    "'total-failure-session-count':-1")), NOLIM,
	    S0 "total-failure-session-count: must be a non-negative integer",
	    NULL },
	{ "failure count real", REPORT(WITH_SUMMARY(OK_COUNT ","
	    "'total-failure-session-count':5.0")), NOLIM,
	    S0 "total-failure-session-count: must be a non-negative integer",
	    NULL },
	{ "successful count string", REPORT(WITH_SUMMARY(
	    "'total-successful-session-count':'5'," FAIL_COUNT)), NOLIM,
	    S0 "total-successful-session-count: must be a non-negative "
	    "integer", NULL },
	{ "successful count null", REPORT(WITH_SUMMARY(
	    "'total-successful-session-count':null," FAIL_COUNT)), NOLIM,
	    S0 "total-successful-session-count: must be a non-negative "
	    "integer", NULL },
	{ "successful count exponent", REPORT(WITH_SUMMARY(
	    "'total-successful-session-count':1e3," FAIL_COUNT)), NOLIM,
	    S0 "total-successful-session-count: must be a non-negative "
	    "integer", NULL },
	{ "count INT64_MIN", REPORT(WITH_SUMMARY(OK_COUNT ","
	    "'total-failure-session-count':-9223372036854775808")), NOLIM,
	    S0 "total-failure-session-count: must be a non-negative integer",
	    NULL },
	/* failure-details. */
	{ "failure-details object", REPORT(ENTRY(",'failure-details':{}")),
	    NOLIM, "policies[0].failure-details: must be an array", NULL },
	{ "failure-details string", REPORT(ENTRY(",'failure-details':''")),
	    NOLIM, "policies[0].failure-details: must be an array", NULL },
	{ "detail not an object", REPORT(DETAILS(DETAIL("") ",'x'")), NOLIM,
	    "policies[0].failure-details[1]: must be an object", NULL },
	{ "result-type missing", REPORT(DETAILS("{'failed-session-count':1}")),
	    NOLIM, D0 "result-type: missing", NULL },
	{ "result-type number", REPORT(DETAILS("{'result-type':1,"
	    "'failed-session-count':1}")), NOLIM,
	    D0 "result-type: must be a string", NULL },
	{ "failed-session-count missing", REPORT(DETAILS(
	    "{'result-type':'x'}")), NOLIM,
	    D0 "failed-session-count: missing", NULL },
	{ "failed-session-count negative", REPORT(DETAILS(
	    "{'result-type':'x','failed-session-count':-3}")), NOLIM,
	    D0 "failed-session-count: must be a non-negative integer", NULL },
	{ "failed-session-count real", REPORT(DETAILS(
	    "{'result-type':'x','failed-session-count':2.5}")), NOLIM,
	    D0 "failed-session-count: must be a non-negative integer", NULL },
	{ "second policy's detail", REPORT(ENTRY("") "," DETAILS(DETAIL("")
	    "," DETAIL("") ",{'result-type':'x'}")), NOLIM,
	    "policies[1].failure-details[2].failed-session-count: missing",
	    NULL },
	{ "sending-mta-ip number", REPORT(DETAILS(DETAIL(
	    ",'sending-mta-ip':1"))), NOLIM,
	    D0 "sending-mta-ip: must be a string", NULL },
	{ "receiving-mx-hostname object", REPORT(DETAILS(DETAIL(
	    ",'receiving-mx-hostname':{}"))), NOLIM,
	    D0 "receiving-mx-hostname: must be a string", NULL },
	{ "receiving-mx-helo bool", REPORT(DETAILS(DETAIL(
	    ",'receiving-mx-helo':false"))), NOLIM,
	    D0 "receiving-mx-helo: must be a string", NULL },
	{ "receiving-ip array", REPORT(DETAILS(DETAIL(
	    ",'receiving-ip':['192.0.2.1']"))), NOLIM,
	    D0 "receiving-ip: must be a string", NULL },
	{ "additional-information number", REPORT(DETAILS(DETAIL(
	    ",'additional-information':1"))), NOLIM,
	    D0 "additional-information: must be a string", NULL },
	{ "additional-info-uri number beside RFC name", REPORT(DETAILS(DETAIL(
	    ",'additional-information':'u','additional-info-uri':1"))),
	    NOLIM, D0 "additional-info-uri: must be a string", NULL },
	{ "failure-reason-code number", REPORT(DETAILS(DETAIL(
	    ",'failure-reason-code':404"))), NOLIM,
	    D0 "failure-reason-code: must be a string", NULL },
	{ "failure-error-code number", REPORT(DETAILS(DETAIL(
	    ",'failure-error-code':404"))), NOLIM,
	    D0 "failure-error-code: must be a string", NULL },
	/* Limits lowered: N+1. */
	{ "string bytes 9 of 8", TOP("'organization-name':'abcdefghi',"
	    DATES "," RID ",'policies':[]"), { 0, 0, 0, 0, 8 },
	    "organization-name: longer than 8 bytes", NULL },
	{ "report-id 9 of 8", TOP(ORG "," DATES ",'report-id':'123456789',"
	    "'policies':[]"), { 0, 0, 0, 0, 8 },
	    "report-id: longer than 8 bytes", NULL },
	{ "contact-info 9 of 8", TOP(ORG "," DATES ",'contact-info':"
	    "'c@x.examp'," RID ",'policies':[]"), { 0, 0, 0, 0, 8 },
	    "contact-info: longer than 8 bytes", NULL },
	{ "policy-string element 9 of 8", REPORT(WITH_POLICY(PTYPE
	    ",'policy-domain':'a.b','policy-string':['12345678',"
	    "'123456789']")), { 0, 0, 0, 0, 8 },
	    P0 "policy-string[1]: longer than 8 bytes", NULL },
	{ "lone mx-host 9 of 8", REPORT(WITH_POLICY(PTYPE
	    ",'policy-domain':'a.b','mx-host':'123456789'")),
	    { 0, 0, 0, 0, 8 }, P0 "mx-host: longer than 8 bytes", NULL },
	{ "policy-domain 9 of 8", REPORT(WITH_POLICY(PTYPE
	    ",'policy-domain':'123456789'")), { 0, 0, 0, 0, 8 },
	    P0 "policy-domain: longer than 8 bytes", NULL },
	{ "detail field 9 of 8", REPORT("{'policy':{" PTYPE
	    ",'policy-domain':'a.b'}," SUMMARY ",'failure-details':["
	    "{'result-type':'x','failed-session-count':1,"
	    "'receiving-ip':'123456789'}]}"), { 0, 0, 0, 0, 8 },
	    D0 "receiving-ip: longer than 8 bytes", NULL },
	{ "multi-byte characters count as bytes", TOP(
	    "'organization-name':'\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9',"
	    DATES "," RID ",'policies':[]"), { 0, 0, 0, 0, 9 },
	    "organization-name: longer than 9 bytes", NULL },
	{ "3 policies of 2", REPORT(ENTRY("") "," ENTRY("") "," ENTRY("")),
	    { 0, 2, 0, 0, 0 }, "policies: more than 2 policies", NULL },
	{ "4 failure details of 3", REPORT(DETAILS(DETAIL("") "," DETAIL(""))
	    "," DETAILS(DETAIL("") "," DETAIL(""))), { 0, 0, 3, 0, 0 },
	    "policies[1].failure-details: more than 3 failure details in the "
	    "report", NULL },
	{ "3 policy-strings of 2", REPORT(WITH_POLICY(PTYPE "," PDOM
	    ",'policy-string':['a','b','c']")), { 0, 0, 0, 2, 0 },
	    P0 "policy-string: more than 2 elements", NULL },
	{ "3 mx-hosts of 2", REPORT(WITH_POLICY(PTYPE "," PDOM
	    ",'mx-host':['a','b','c']")), { 0, 0, 0, 2, 0 },
	    P0 "mx-host: more than 2 elements", NULL },
	{ "3 mx-host-patterns of 2", REPORT(WITH_POLICY(PTYPE "," PDOM
	    ",'mx-host-pattern':['a','b','c']")), { 0, 0, 0, 2, 0 },
	    P0 "mx-host-pattern: more than 2 elements", NULL },
	{ "depth 6 of 5", REPORT(DETAILS(DETAIL(",'x':[]"))),
	    { 5, 0, 0, 0, 0 }, "JSON nesting deeper than 5", NULL },
	{ "depth 2 of 1", "{'a':{}}", { 1, 0, 0, 0, 0 },
	    "JSON nesting deeper than 1", NULL },
	{ "depth: brackets after an escaped backslash count",
	    "{'a':'\\\\','b':[[]]}", { 2, 0, 0, 0, 0 },
	    "JSON nesting deeper than 2", NULL },
	{ "depth: stray closers are left to jansson", "]]{}",
	    { 1, 0, 0, 0, 0 }, JANSSON_AT("line 1 column 1"), NULL },
	{ "depth: stray closers do not hide depth", "]]{'a':[]}",
	    { 1, 0, 0, 0, 0 }, "JSON nesting deeper than 1", NULL },
};

/* Leniencies: what real senders get wrong, accepted and kept. */

static void
check_empty_policies(const struct report *r)
{
	assert_int_equal(r->n_policies, 0);
	assert_string_equal(r->organization_name, "Org");
	assert_string_equal(r->report_id, "r1");
}

static void
check_contact_null(const struct report *r)
{
	assert_null(r->contact_info);
}

static void
check_zoneless(const struct report *r)
{
	assert_int_equal(r->start_usec, INT64_C(1673308800) * SEC);
	assert_int_equal(r->end_usec, INT64_C(1673395199) * SEC);
}

static void
check_offset_fraction(const struct report *r)
{
	assert_int_equal(r->start_usec, INT64_C(1564437600123456));
	assert_int_equal(r->end_usec, INT64_C(1711411200) * SEC);
}

static void
check_same_instant(const struct report *r)
{
	assert_int_equal(r->start_usec, r->end_usec);
	assert_int_equal(r->start_usec, INT64_C(1459468800) * SEC);
}

static void
check_both_codes(const struct report *r)
{
	const struct report_detail *d = &r->policies[0].details[0];

	assert_string_equal(d->failure_reason_code, "rfc");
	assert_string_equal(d->additional_information, "rfc-info");
}

static void
check_draft_codes(const struct report *r)
{
	const struct report_detail *d = &r->policies[0].details[0];

	assert_string_equal(d->failure_reason_code, "draft");
	assert_string_equal(d->additional_information, "draft-info");
}

static void
check_null_codes(const struct report *r)
{
	const struct report_detail *d = &r->policies[0].details[0];

	assert_string_equal(d->failure_reason_code, "draft");
	assert_null(d->additional_information);
	assert_null(d->sending_mta_ip);
	assert_null(d->receiving_ip);
}

static void
check_lone_mx(const struct report *r)
{
	const struct report_policy *p = &r->policies[0];

	assert_true(p->has_mx_host);
	assert_int_equal(p->n_mx_host, 1);
	assert_string_equal(p->mx_host[0], "*.mx.example.com");
}

static void
check_mx_array(const struct report *r)
{
	const struct report_policy *p = &r->policies[0];

	assert_true(p->has_mx_host);
	assert_int_equal(p->n_mx_host, 2);
	assert_string_equal(p->mx_host[0], "a");
	assert_string_equal(p->mx_host[1], "b");
}

static void
check_mx_pattern_array(const struct report *r)
{
	const struct report_policy *p = &r->policies[0];

	assert_true(p->has_mx_host);
	assert_int_equal(p->n_mx_host, 2);
	assert_string_equal(p->mx_host[1], "pat-b");
}

static void
check_mx_wins(const struct report *r)
{
	const struct report_policy *p = &r->policies[0];

	assert_int_equal(p->n_mx_host, 1);
	assert_string_equal(p->mx_host[0], "mx");
}

static void
check_nulls_absent(const struct report *r)
{
	const struct report_policy *p = &r->policies[0];

	assert_false(p->has_mx_host);
	assert_false(p->has_policy_string);
	assert_int_equal(p->n_mx_host, 0);
	assert_int_equal(p->n_policy_string, 0);
	assert_null(p->mx_host);
	assert_null(p->policy_string);
	assert_int_equal(p->n_details, 0);
}

static void
check_empty_arrays(const struct report *r)
{
	const struct report_policy *p = &r->policies[0];

	assert_true(p->has_mx_host);
	assert_true(p->has_policy_string);
	assert_int_equal(p->n_mx_host, 0);
	assert_int_equal(p->n_policy_string, 0);
}

static void
check_lone_policy_string(const struct report *r)
{
	const struct report_policy *p = &r->policies[0];

	assert_true(p->has_policy_string);
	assert_int_equal(p->n_policy_string, 1);
	assert_string_equal(p->policy_string[0], "version: STSv1");
}

static void
check_unknowns(const struct report *r)
{
	const struct report_policy *p = &r->policies[0];

	assert_string_equal(p->policy_type, "invalid-policy-type");
	assert_string_equal(p->details[0].result_type, "Testing");
	assert_string_equal(p->details[0].sending_mta_ip, "x.x.x.x");
	assert_string_equal(p->details[0].receiving_ip, "not an ip");
	/* 1 + 7 failed sessions under a summary of 0: kept. */
	assert_int_equal(p->total_failure_session_count, 0);
	assert_int_equal(p->details[1].failed_session_count, 7);
	assert_int_equal(r->n_details_total, 2);
}

static void
check_big_counts(const struct report *r)
{
	assert_int_equal(r->policies[0].total_successful_session_count,
	    INT64_MAX);
	assert_int_equal(r->policies[0].total_failure_session_count, 0);
	assert_int_equal(r->policies[0].details[0].failed_session_count, 0);
}

static void
check_unicode(const struct report *r)
{
	assert_string_equal(r->organization_name,
	    "\xc3\xa9t\xc3\xa9 \xf0\x9f\x93\xa7 \"q\" \\ /");
	assert_string_equal(r->report_id, "line\nbreak\ttab");
}

static void
check_two_policies_details(const struct report *r)
{
	assert_int_equal(r->n_policies, 2);
	assert_int_equal(r->policies[0].n_details, 2);
	assert_int_equal(r->policies[1].n_details, 1);
	assert_int_equal(r->n_details_total, 3);
}

static void
check_string_8(const struct report *r)
{
	assert_string_equal(r->organization_name, "abcdefgh");
	assert_string_equal(r->policies[0].policy_string[1], "12345678");
	assert_string_equal(r->policies[0].mx_host[0], "12345678");
}

static void
check_unicode_8(const struct report *r)
{
	assert_int_equal(strlen(r->organization_name), 8);
}

static void
check_brackets_in_strings(const struct report *r)
{
	assert_string_equal(r->report_id, "[[[[{{{{");
}

static const struct doc_case accept_cases[] = {
	{ "policies empty", REPORT(""), NOLIM, NULL, check_empty_policies },
	{ "contact-info null", TOP(ORG "," DATES ",'contact-info':null," RID
	    ",'policies':[]"), NOLIM, NULL, check_contact_null },
	{ "contact-info missing", TOP(ORG "," DATES "," RID ",'policies':[]"),
	    NOLIM, NULL, check_contact_null },
	{ "zone-less dates", TOP(ORG "," DR("2023-01-10T00:00:00",
	    "2023-01-10T23:59:59") "," RID ",'policies':[]"), NOLIM, NULL,
	    check_zoneless },
	{ "offset, fraction, space", TOP(ORG "," DR(
	    "2019-07-30T00:00:00.123456789+02:00", "2024-03-26 00:00:00.000Z")
	    "," RID ",'policies':[]"), NOLIM, NULL, check_offset_fraction },
	{ "start equals end", TOP(ORG "," DR("2016-04-01T00:00:00Z",
	    "2016-04-01T02:00:00+02:00") "," RID ",'policies':[]"), NOLIM,
	    NULL, check_same_instant },
	{ "RFC and draft codes: RFC wins", REPORT(DETAILS(DETAIL(
	    ",'failure-error-code':'draft','failure-reason-code':'rfc',"
	    "'additional-info-uri':'draft-info',"
	    "'additional-information':'rfc-info'"))), NOLIM, NULL,
	    check_both_codes },
	{ "draft codes only", REPORT(DETAILS(DETAIL(
	    ",'failure-error-code':'draft',"
	    "'additional-info-uri':'draft-info'"))), NOLIM, NULL,
	    check_draft_codes },
	{ "null RFC code falls back to draft", REPORT(DETAILS(DETAIL(
	    ",'failure-reason-code':null,'failure-error-code':'draft',"
	    "'additional-information':null,'sending-mta-ip':null,"
	    "'receiving-ip':null"))), NOLIM, NULL, check_null_codes },
	{ "lone mx-host string", REPORT(WITH_POLICY(PTYPE "," PDOM
	    ",'mx-host':'*.mx.example.com'")), NOLIM, NULL, check_lone_mx },
	{ "mx-host array", REPORT(WITH_POLICY(PTYPE "," PDOM
	    ",'mx-host':['a','b']")), NOLIM, NULL, check_mx_array },
	{ "lone mx-host-pattern", REPORT(WITH_POLICY(PTYPE "," PDOM
	    ",'mx-host-pattern':'*.mx.example.com'")), NOLIM, NULL,
	    check_lone_mx },
	{ "mx-host-pattern array", REPORT(WITH_POLICY(PTYPE "," PDOM
	    ",'mx-host-pattern':['pat-a','pat-b']")), NOLIM, NULL,
	    check_mx_pattern_array },
	{ "mx-host wins over mx-host-pattern", REPORT(WITH_POLICY(PTYPE ","
	    PDOM ",'mx-host-pattern':['p1','p2'],'mx-host':'mx'")), NOLIM,
	    NULL, check_mx_wins },
	{ "null mx-host falls back to pattern", REPORT(WITH_POLICY(PTYPE ","
	    PDOM ",'mx-host':null,'mx-host-pattern':'*.mx.example.com'")),
	    NOLIM, NULL, check_lone_mx },
	{ "null mx-host, policy-string, failure-details",
	    REPORT("{'policy':{" PTYPE "," PDOM ",'mx-host':null,"
	    "'policy-string':null}," SUMMARY ",'failure-details':null}"),
	    NOLIM, NULL, check_nulls_absent },
	{ "empty mx-host and policy-string", REPORT(WITH_POLICY(PTYPE ","
	    PDOM ",'mx-host':[],'policy-string':[]")), NOLIM, NULL,
	    check_empty_arrays },
	{ "lone policy-string", REPORT(WITH_POLICY(PTYPE "," PDOM
	    ",'policy-string':'version: STSv1'")), NOLIM, NULL,
	    check_lone_policy_string },
	{ "unknown values and fields, counts that do not add up",
	    "{'x-top':{'deep':[1,2]}," HEAD ",'policies':[{'policy':{"
	    "'policy-type':'invalid-policy-type'," PDOM ",'x-p':1},"
	    "'summary':{'total-successful-session-count':0,"
	    "'total-failure-session-count':0,'x-s':null},"
	    "'failure-details':[{'result-type':'Testing',"
	    "'sending-mta-ip':'x.x.x.x','receiving-ip':'not an ip',"
	    "'failed-session-count':1,'x-d':[]},{'result-type':'x',"
	    "'failed-session-count':7}],'x-e':true}],'x-end':0}", NOLIM,
	    NULL, check_unknowns },
	{ "counts 0 and INT64_MAX", REPORT(WITH_SUMMARY(
	    "'total-successful-session-count':9223372036854775807,"
	    FAIL_COUNT)), NOLIM, NULL, NULL },
	{ "detail count 0, INT64_MAX total", REPORT("{" POLICY ",'summary':{"
	    "'total-successful-session-count':9223372036854775807,"
	    FAIL_COUNT "},'failure-details':[{'result-type':'x',"
	    "'failed-session-count':0}]}"), NOLIM, NULL, check_big_counts },
	{ "escapes and UTF-8", TOP("'organization-name':"
	    "'\\u00e9t\xc3\xa9 \\ud83d\\udce7 \\'q\\' \\\\ \\/',"
	    DATES ",'report-id':'line\\nbreak\\ttab','policies':[]"), NOLIM,
	    NULL, check_unicode },
	{ "details over two policies", REPORT(DETAILS(DETAIL("") ","
	    DETAIL("")) "," DETAILS(DETAIL(""))), NOLIM, NULL,
	    check_two_policies_details },
	{ "empty policy-type and policy-domain kept", REPORT(WITH_POLICY(
	    "'policy-type':'','policy-domain':''")), NOLIM, NULL, NULL },
	/* Limits lowered: N. */
	{ "string bytes 8 of 8", "{'organization-name':'abcdefgh',"
	    DATES ",'report-id':'12345678','policies':[" WITH_POLICY(PTYPE
	    ",'policy-domain':'12345678','policy-string':['1','12345678'],"
	    "'mx-host':'12345678'") "]}", { 0, 0, 0, 0, 8 }, NULL,
	    check_string_8 },
	{ "multi-byte 8 bytes of 8", TOP(
	    "'organization-name':'\\u00e9\\u00e9\\u00e9\\u00e9',"
	    DATES "," RID ",'policies':[]"), { 0, 0, 0, 0, 8 }, NULL,
	    check_unicode_8 },
	{ "2 policies of 2", REPORT(ENTRY("") "," ENTRY("")),
	    { 0, 2, 0, 0, 0 }, NULL, NULL },
	{ "3 failure details of 3", REPORT(DETAILS(DETAIL("") "," DETAIL(""))
	    "," DETAILS(DETAIL(""))), { 0, 0, 3, 0, 0 }, NULL,
	    check_two_policies_details },
	{ "2 policy-strings and mx-hosts of 2", REPORT(WITH_POLICY(PTYPE ","
	    PDOM ",'policy-string':['a','b'],'mx-host':['a','b']")),
	    { 0, 0, 0, 2, 0 }, NULL, check_mx_array },
	{ "depth 5 of 5", REPORT(DETAILS(DETAIL("")) "," WITH_POLICY(PTYPE
	    "," PDOM ",'policy-string':['a']")), { 5, 0, 0, 0, 0 }, NULL,
	    NULL },
	{ "depth: brackets inside strings do not count", "{" ORG "," DATES
	    ",'report-id':'[[[[{{{{','policies':[],'x':'\\'[[[[]'}",
	    { 2, 0, 0, 0, 0 }, NULL, check_brackets_in_strings },
};

static void
run_doc_cases(struct state *st, const struct doc_case *cases, size_t n)
{
	size_t i, len;

	for (i = 0; i < n; i++) {
		free(st->doc);
		len = strlen(cases[i].doc);
		st->doc = malloc(len + 1);
		assert_non_null(st->doc);
		memcpy(st->doc, cases[i].doc, len + 1);
		unquote(st->doc, len);
		run_one(st, cases[i].name, st->doc, len, &cases[i].lim,
		    cases[i].want_msg, cases[i].check);
	}
}

static void
test_refusals(void **sp)
{
	run_doc_cases(*sp, refuse_cases,
	    sizeof(refuse_cases) / sizeof(refuse_cases[0]));
}

static void
test_leniencies(void **sp)
{
	run_doc_cases(*sp, accept_cases,
	    sizeof(accept_cases) / sizeof(accept_cases[0]));
}

/* Limits at their defaults, with documents generated here. */

static void
gen(struct buf *b, const char *s)
{
	struct ti_err err;

	if (buf_append(b, s, strlen(s), &err) != 0)
		fail_msg("generating: %s", err.msg);
}

static void
gen_repeat(struct buf *b, const char *s, size_t n, const char *sep)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (i > 0)
			gen(b, sep);
		gen(b, s);
	}
}

static void
gen_bytes(struct buf *b, char c, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		gen(b, (char[2]){ c, '\0' });
}

/* Run the generated document in st->in (with ' for "). */
static void
gen_run(struct state *st, const char *name, const char *want_msg)
{
	unquote((char *)buf_data(st->in), buf_len(st->in));
	run_one(st, name, buf_data(st->in), buf_len(st->in), NULL, want_msg,
	    NULL);
	buf_free(&st->in);
}

static struct buf *
gen_new(void)
{
	struct buf *b = NULL;
	struct ti_err err;

	b = buf_new(TI_MIB * 256, &err);
	assert_non_null(b);
	return b;
}

static void
gen_policies(struct state *st, size_t n, const char *want_msg)
{
	st->in = gen_new();
	gen(st->in, "{" HEAD ",'policies':[");
	gen_repeat(st->in, ENTRY(""), n, ",");
	gen(st->in, "]}");
	gen_run(st, "policies at the default limit", want_msg);
}

static void
gen_details(struct state *st, size_t n, const char *want_msg)
{
	size_t half = n / 2;

	st->in = gen_new();
	gen(st->in, "{" HEAD ",'policies':[{" POLICY "," SUMMARY
	    ",'failure-details':[");
	gen_repeat(st->in, "{'result-type':'x','failed-session-count':1}",
	    half, ",");
	gen(st->in, "]},{" POLICY "," SUMMARY ",'failure-details':[");
	gen_repeat(st->in, "{'result-type':'x','failed-session-count':1}",
	    n - half, ",");
	gen(st->in, "]}]}");
	gen_run(st, "failure details at the default limit", want_msg);
}

static void
gen_strings(struct state *st, const char *key, size_t n,
    const char *want_msg)
{
	st->in = gen_new();
	gen(st->in, "{" HEAD ",'policies':[{'policy':{" PTYPE "," PDOM ",'");
	gen(st->in, key);
	gen(st->in, "':[");
	gen_repeat(st->in, "'s'", n, ",");
	gen(st->in, "]}," SUMMARY "}]}");
	gen_run(st, key, want_msg);
}

/* A string member of n bytes: org (top level) or domain (policy). */
static void
gen_long(struct state *st, bool domain, size_t n, const char *want_msg)
{
	st->in = gen_new();
	if (domain) {
		gen(st->in, "{" HEAD ",'policies':[{'policy':{" PTYPE
		    ",'policy-domain':'");
		gen_bytes(st->in, 'd', n);
		gen(st->in, "'}," SUMMARY "}]}");
	} else {
		gen(st->in, "{'organization-name':'");
		gen_bytes(st->in, 'o', n);
		gen(st->in, "'," DATES "," RID ",'policies':[]}");
	}
	gen_run(st, domain ? "long policy-domain" : "long organization-name",
	    want_msg);
}

static void
gen_depth(struct state *st, size_t n, const char *want_msg)
{
	st->in = gen_new();
	gen(st->in, "{" HEAD ",'policies':[],'x':");
	gen_bytes(st->in, '[', n - 1);
	gen_bytes(st->in, ']', n - 1);
	gen(st->in, "}");
	gen_run(st, "depth at the default limit", want_msg);
}

static void
test_default_limits(void **sp)
{
	struct state *st = *sp;
	char want[128];

	gen_depth(st, TI_DEFAULT_JSON_DEPTH, NULL);
	assert_int_equal(ti_snprintf(want, sizeof(want),
	    "JSON nesting deeper than %d", TI_DEFAULT_JSON_DEPTH), 0);
	gen_depth(st, TI_DEFAULT_JSON_DEPTH + 1, want);
	/* Hostile depth, refused before it is parsed. */
	gen_depth(st, 100000, want);

	gen_policies(st, TI_DEFAULT_POLICIES, NULL);
	assert_int_equal(ti_snprintf(want, sizeof(want),
	    "policies: more than %d policies", TI_DEFAULT_POLICIES), 0);
	gen_policies(st, TI_DEFAULT_POLICIES + 1, want);

	gen_details(st, TI_DEFAULT_FAILURE_DETAILS, NULL);
	assert_int_equal(ti_snprintf(want, sizeof(want),
	    "policies[1].failure-details: more than %d failure details in "
	    "the report", TI_DEFAULT_FAILURE_DETAILS), 0);
	gen_details(st, TI_DEFAULT_FAILURE_DETAILS + 1, want);

	gen_strings(st, "policy-string", TI_DEFAULT_POLICY_STRINGS, NULL);
	gen_strings(st, "mx-host", TI_DEFAULT_POLICY_STRINGS, NULL);
	assert_int_equal(ti_snprintf(want, sizeof(want),
	    "policies[0].policy.policy-string: more than %d elements",
	    TI_DEFAULT_POLICY_STRINGS), 0);
	gen_strings(st, "policy-string", TI_DEFAULT_POLICY_STRINGS + 1, want);
	assert_int_equal(ti_snprintf(want, sizeof(want),
	    "policies[0].policy.mx-host: more than %d elements",
	    TI_DEFAULT_POLICY_STRINGS), 0);
	gen_strings(st, "mx-host", TI_DEFAULT_POLICY_STRINGS + 1, want);

	/* The report's key is bounded below the other strings, so that
	 * no sender can make its index entry too large. */
	gen_long(st, false, TI_KEY_BYTES, NULL);
	assert_int_equal(ti_snprintf(want, sizeof(want),
	    "organization-name: longer than %d bytes", TI_KEY_BYTES), 0);
	gen_long(st, false, TI_KEY_BYTES + 1, want);

	gen_long(st, true, TI_DOMAIN_BYTES, NULL);
	assert_int_equal(ti_snprintf(want, sizeof(want),
	    "policies[0].policy.policy-domain: longer than %d bytes",
	    TI_DOMAIN_BYTES), 0);
	gen_long(st, true, TI_DOMAIN_BYTES + 1, want);
}

/* report_to_json(). */

static const char draft_names_json[] =
    "{\"organization-name\":\"Draft Sender\",\"date-range\":{"
    "\"start-datetime\":\"2019-07-29T22:00:00.123456Z\","
    "\"end-datetime\":\"2019-07-30T23:59:59.500000Z\"},"
    "\"contact-info\":null,\"report-id\":\"draft-1\",\"policies\":[{"
    "\"policy\":{\"policy-type\":\"sts\",\"policy-string\":null,"
    "\"policy-domain\":\"example.net\","
    "\"mx-host\":[\"*.mx.example.net\"]},"
    "\"summary\":{\"total-successful-session-count\":4,"
    "\"total-failure-session-count\":2},"
    "\"failure-details\":[{\"result-type\":\"certificate-expired\","
    "\"sending-mta-ip\":\"192.0.2.7\","
    "\"receiving-mx-hostname\":\"a.mx.example.net\","
    "\"receiving-mx-helo\":null,\"receiving-ip\":null,"
    "\"failed-session-count\":2,"
    "\"additional-information\":\"https://sender.example/info\","
    "\"failure-reason-code\":\"X509_V_ERR_CERT_HAS_EXPIRED\"}]}]}";

static void
parse_fixture(struct state *st, const char *name)
{
	struct ti_limits lim;
	struct ti_bytes v;
	struct ti_err err;

	ti_limits_default(&lim);
	st->in = test_read_data(name);
	v = buf_bytes(st->in);
	st->r = report_parse(&v, &lim, &err);
	if (st->r == NULL)
		fail_msg("%s: %s", name, err.msg);
}

static void
test_to_json_exact(void **sp)
{
	struct state *st = *sp;
	struct ti_err err;

	parse_fixture(st, "json-draft-names.json");
	st->out = buf_new(TI_MIB, &err);
	assert_non_null(st->out);
	/* Appends after what the buffer holds. */
	assert_int_equal(buf_append(st->out, "> ", 2, &err), 0);
	assert_int_equal(report_to_json(st->r, st->out, &err), 0);
	assert_string_equal(buf_str(st->out) + 2, draft_names_json);
	assert_int_equal(buf_len(st->out), 2 + strlen(draft_names_json));
	assert_memory_equal(buf_str(st->out), "> ", 2);
}

static void
test_to_json_policies_empty(void **sp)
{
	struct state *st = *sp;
	struct ti_err err;

	parse_fixture(st, "corpus/YnkDK__tls_reporting/no-policies.json");
	st->out = buf_new(TI_MIB, &err);
	assert_non_null(st->out);
	assert_int_equal(report_to_json(st->r, st->out, &err), 0);
	assert_string_equal(buf_str(st->out),
	    "{\"organization-name\":\"Company-X\",\"date-range\":{"
	    "\"start-datetime\":\"2016-04-01T00:00:00Z\","
	    "\"end-datetime\":\"2016-04-01T23:59:59Z\"},"
	    "\"contact-info\":\"sts-reporting@company-x.example\","
	    "\"report-id\":\"5065427c-23d3-47ca-b6e0-946ea0e8c4be\","
	    "\"policies\":[]}");
}

/* out->max: N bytes fit, N-1 fail with DATA and leave out unchanged. */
static void
test_to_json_max(void **sp)
{
	struct state *st = *sp;
	struct ti_err err;
	size_t need = strlen(draft_names_json);

	parse_fixture(st, "json-draft-names.json");
	st->out = buf_new(need + 2, &err);
	assert_non_null(st->out);
	assert_int_equal(buf_append(st->out, "> ", 2, &err), 0);
	assert_int_equal(report_to_json(st->r, st->out, &err), 0);
	assert_int_equal(buf_len(st->out), need + 2);
	buf_free(&st->out);

	st->out = buf_new(need + 1, &err);
	assert_non_null(st->out);
	assert_int_equal(buf_append(st->out, "> ", 2, &err), 0);
	ti_err_clear(&err);
	assert_int_equal(report_to_json(st->r, st->out, &err), -1);
	assert_int_equal(err.kind, TI_KIND_DATA);
	assert_int_equal(buf_len(st->out), 2);
	assert_string_equal(buf_str(st->out), "> ");
}

/* A report not made by report_parse(): dates out of range. */
static void
test_to_json_bad_date(void **sp)
{
	struct state *st = *sp;
	char org[] = "o";
	char id[] = "i";
	struct report r;
	struct ti_err err;

	memset(&r, 0, sizeof(r));
	r.organization_name = org;
	r.report_id = id;
	r.start_usec = -1;
	st->out = buf_new(TI_MIB, &err);
	assert_non_null(st->out);
	assert_int_equal(report_to_json(&r, st->out, &err), -1);
	assert_int_equal(err.kind, TI_KIND_INTERNAL);
	assert_int_equal(buf_len(st->out), 0);
	r.start_usec = 0;
	assert_int_equal(report_to_json(&r, st->out, &err), 0);
	assert_string_equal(buf_str(st->out),
	    "{\"organization-name\":\"o\",\"date-range\":{"
	    "\"start-datetime\":\"1970-01-01T00:00:00Z\","
	    "\"end-datetime\":\"1970-01-01T00:00:00Z\"},"
	    "\"contact-info\":null,\"report-id\":\"i\",\"policies\":[]}");
	assert_int_equal(report_to_json(NULL, st->out, &err), -1);
	assert_int_equal(err.kind, TI_KIND_INTERNAL);
}

/* Arguments and ownership. */
static void
test_api_edges(void **sp)
{
	struct state *st = *sp;
	struct report *none = NULL;
	struct ti_limits lim;
	struct ti_bytes v;
	struct ti_err err;

	ti_limits_default(&lim);
	report_free(NULL);
	report_free(&none);
	assert_null(none);

	assert_null(report_parse(NULL, &lim, &err));
	assert_int_equal(err.kind, TI_KIND_INTERNAL);
	v.data = NULL;
	v.len = 0;
	assert_null(report_parse(&v, NULL, &err));
	assert_int_equal(err.kind, TI_KIND_INTERNAL);
	v.len = 3;
	assert_null(report_parse(&v, &lim, &err));
	assert_int_equal(err.kind, TI_KIND_INTERNAL);
	/* No bytes at all is malformed input, not a bug. */
	v.len = 0;
	assert_null(report_parse(&v, &lim, &err));
	assert_int_equal(err.kind, TI_KIND_DATA);
	assert_true(msg_matches(err.msg, JANSSON_AT("line 1 column 0")));
	/* A NULL error record is allowed. */
	v = test_bytes("[]");
	assert_null(report_parse(&v, &lim, NULL));

	/* The report owns its strings: the input may go away. */
	st->in = test_read_data("json-draft-names.json");
	v = buf_bytes(st->in);
	st->r = report_parse(&v, &lim, &err);
	assert_non_null(st->r);
	memset(buf_data(st->in), 'x', buf_len(st->in));
	buf_free(&st->in);
	assert_string_equal(st->r->organization_name, "Draft Sender");
	assert_string_equal(st->r->policies[0].details[0].result_type,
	    "certificate-expired");
	report_free(&st->r);
	assert_null(st->r);
}

/* Not NUL-terminated: the parser must stop at len. */
static void
test_unterminated(void **sp)
{
	struct state *st = *sp;
	const char *doc = "{'organization-name':'Org'," DATES ",'report-id':"
	    "'r1','policies':[]}";
	size_t len = strlen(doc);

	st->doc = malloc(len);
	assert_non_null(st->doc);
	memcpy(st->doc, doc, len);
	unquote(st->doc, len);
	run_one(st, "unterminated", st->doc, len, NULL, NULL,
	    check_empty_policies);
	run_one(st, "cut by one", st->doc, len - 1, NULL,
	    JANSSON_AT("line 1 column 150"), NULL);
}

/*
 * A document of many small values is refused by the pre-scan, before
 * the parser allocates them: at the bound it parses, one past it not.
 */
static void
test_value_count(void **sp)
{
	struct ti_limits lim;
	struct ti_err err;
	struct report *r = NULL;
	struct ti_bytes in;
	char want[64];
	char *doc = NULL;
	size_t max, pad, k, i, len;
	static const char head[] = "{\"organization-name\":\"o\","
	    "\"report-id\":\"r\",\"date-range\":{\"start-datetime\":"
	    "\"2024-01-01T00:00:00Z\",\"end-datetime\":"
	    "\"2024-01-01T23:59:59Z\"},\"policies\":[],\"x-pad\":[";

	(void)sp;
	ti_limits_default(&lim);
	lim.failure_details = 1;
	lim.policies = 1;
	lim.policy_strings = 1;
	max = report_scan_max_values(&lim);
	/*
	 * head holds 4 opening brackets and 5 commas, and pad zeros add
	 * pad - 1 commas: 8 + pad values in all.
	 */
	for (k = 0; k < 2; k++) {
		pad = max - 8 + k;
		len = sizeof(head) + 8 * pad + 4;
		doc = malloc(len);
		assert_non_null(doc);
		memcpy(doc, head, sizeof(head) - 1);
		len = sizeof(head) - 1;
		for (i = 0; i < pad; i++) {
			if (i > 0)
				doc[len++] = ',';
			/* Room enough that the size does not bind. */
			memcpy(doc + len, "      0", 7);
			len += 7;
		}
		doc[len++] = ']';
		doc[len++] = '}';
		in.data = (const unsigned char *)doc;
		in.len = len;
		ti_err_clear(&err);
		r = report_parse(&in, &lim, &err);
		if (k == 0) {
			if (r == NULL)
				fail_msg("at the bound: got error \"%s\"",
				    err.msg);
			report_free(&r);
		} else {
			assert_null(r);
			assert_int_equal(err.kind, TI_KIND_DATA);
			assert_int_equal(ti_snprintf(want, sizeof(want),
			    "JSON holds more than %zu values", max), 0);
			assert_string_equal(err.msg, want);
		}
		free(doc);
	}
}

/* Values and objects in proportion to the text: "{},{},..." and
 * "0,0,..." cannot make the parser's tree a large multiple of it. */
static void
test_value_density(void **sp)
{
	static const struct {
		const char *item;
		const char *want;
	} dense[] = {
		{ "{}", "objects and arrays for its" },
		{ "[]", "objects and arrays for its" },
		{ "0", "values for its" },
	};
	struct ti_limits lim;
	struct ti_err err;
	struct report *r = NULL;
	struct buf *doc = NULL;
	struct ti_bytes in;
	size_t i, j;

	(void)sp;
	ti_limits_default(&lim);
	for (i = 0; i < NELEM(dense); i++) {
		doc = buf_new(1 << 24, &err);
		assert_non_null(doc);
		assert_int_equal(buf_append(doc, "{\"x\":[", 6, &err), 0);
		for (j = 0; j < 1100000; j++) {
			if (j > 0)
				assert_int_equal(buf_append(doc, ",", 1, &err),
				    0);
			assert_int_equal(buf_append(doc, dense[i].item,
			    strlen(dense[i].item), &err), 0);
		}
		assert_int_equal(buf_append(doc, "]}", 2, &err), 0);
		in = buf_bytes(doc);
		ti_err_clear(&err);
		r = report_parse(&in, &lim, &err);
		assert_null(r);
		assert_int_equal(err.kind, TI_KIND_DATA);
		if (strstr(err.msg, dense[i].want) == NULL)
			fail_msg("%s: \"%s\"", dense[i].item, err.msg);
		buf_free(&doc);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_corpus, setup, teardown),
		cmocka_unit_test(test_value_count),
		cmocka_unit_test(test_value_density),
		cmocka_unit_test_setup_teardown(test_corpus_shared, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_fixtures, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_refusals, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_leniencies, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_default_limits, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_to_json_exact, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_to_json_policies_empty,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_to_json_max, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_to_json_bad_date, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_api_edges, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_unterminated, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
