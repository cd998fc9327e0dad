/*
 * adm_readiness.c - tlsrpt-adm readiness: is each MTA-STS (or DANE)
 * domain ready to switch its policy to enforce?
 *
 * The verdicts are the database's (tlsrpt.readiness(), schema step 7):
 * this file picks the domains (--domain, else the monitored domains when
 * there are any, else every domain in the reports), adds a line for each
 * picked domain the reports say nothing about, and prints.  Everything
 * printed comes from reports, hence from strangers: the query replaces
 * control characters, so that one line stays one line.
 *
 * Exit: 0 when the query worked, whatever the verdicts; 64 usage, 75 no
 * database, 78 a schema too old or another configuration problem.
 */
#include "autoconf.h"

#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "adm.h"
#include "buf.h"
#include "log.h"

#define READINESS_MAX_DAYS 3650
#define READINESS_MAX_REPORTERS 1000
#define READINESS_MAX_DOMAINS 1000
#define READINESS_MAX_DOMAIN_BYTES 253

struct readiness_opts {
	char days[16];
	char min_days[16];
	char min_reporters[16];
	bool verbose;
	struct buf *domains;	/* --domain values, one a line */
};

/* A text with its control characters replaced. */
#define RD_CLEAN(x) "regexp_replace(" x ", '[[:cntrl:]]', '?', 'g')"
/* A text[] as one text, its elements cleaned, one a line. */
#define RD_LINES(x) "(SELECT string_agg(" RD_CLEAN("u.e") ", E'\\n' " \
	"ORDER BY u.n) FROM unnest(" x ") WITH ORDINALITY AS u(e, n))"

/* Which domains: $4 the --domain list; the monitored ones; every one. */
static const char readiness_want_args[] =
    "WITH want AS (SELECT DISTINCT rtrim(lower(d), '.') AS domain, "
    "false AS sub FROM unnest(string_to_array($4::text, E'\\n')) AS d), ";
static const char readiness_want_monitored[] =
    "WITH want AS (SELECT rtrim(lower(m.domain), '.') AS domain, "
    "m.include_subdomains AS sub FROM tlsrpt.monitored_domain m), ";
static const char readiness_want_all[] =
    "WITH want AS (SELECT NULL::text AS domain, true AS sub "
    "WHERE false), ";

/* The rest, the same for the three. */
static const char readiness_sql[] =
    "r AS (SELECT * FROM tlsrpt.readiness($1::int, $2::int, $3::int, "
    "(SELECT array_agg(w.domain) FROM want w HAVING NOT bool_or(w.sub)))), "
    "picked AS ("
    "SELECT r.* FROM r WHERE NOT EXISTS (SELECT FROM want) "
    "OR EXISTS (SELECT FROM want w WHERE r.policy_domain = w.domain "
    "OR (w.sub AND right(r.policy_domain, length(w.domain) + 1) "
    "= '.' || w.domain)) "
    "UNION ALL "
    "SELECT w.domain, 'sts', 'unknown', "
    "CASE WHEN EXISTS (SELECT FROM tlsrpt.policy p "
    "JOIN tlsrpt.report rp ON rp.id = p.report_ref "
    "WHERE rtrim(lower(p.policy_domain), '.') = w.domain "
    "AND rp.start_datetime >= now() - make_interval(days => $1::int)) "
    "THEN 'no MTA-STS policy in the reports' "
    "ELSE format('no reports in the last %s days', $1::int) END, "
    "NULL, NULL, 0, NULL, NULL, 0, 0, 0, 0, 0, "
    "'{}', '{}', NULL, '{}' "
    "FROM want w WHERE NOT EXISTS (SELECT FROM r "
    "WHERE r.policy_domain = w.domain)) "
    "SELECT " RD_CLEAN("policy_domain") ", policy_type, verdict, "
    RD_CLEAN("reason") ", " RD_CLEAN("mode") ", mode_changed, days, "
    "first_day, last_day, reporters, reports, sessions, failed_sessions, "
    "bounced_sessions, " RD_LINES("bounces") ", "
    RD_LINES("other_failures") ", " RD_LINES("mx_patterns") ", "
    RD_LINES("mx_outside") " "
    "FROM picked ORDER BY 1, 2";

enum {
	COL_DOMAIN, COL_TYPE, COL_VERDICT, COL_REASON, COL_MODE, COL_CHANGED,
	COL_DAYS, COL_FIRST, COL_LAST, COL_REPORTERS, COL_REPORTS,
	COL_SESSIONS, COL_FAILED, COL_BOUNCED, COL_BOUNCES, COL_OTHERS,
	COL_MX, COL_OUTSIDE, COL_N
};

static void
readiness_help(FILE *fp)
{
	(void)fputs("usage: tlsrpt-adm readiness [--domain D]... "
	    "[--window DAYS] [-v]\n"
	    "Is each MTA-STS (or DANE) domain ready to switch to enforce?\n"
	    "One line per domain and policy type:\n"
	    "  DOMAIN<TAB>sts|tlsa<TAB>ready|not-ready|unknown|enforced<TAB>"
	    "why\n"
	    "\n"
	    "  --domain D           this domain (repeatable; default: the\n"
	    "                       monitored domains, else all in the "
	    "reports)\n"
	    "  --window DAYS        reports that began in the last DAYS "
	    "days (30)\n"
	    "  --min-days N         ready needs reports on N days (7)\n"
	    "  --min-reporters N    ready needs N reporters (2)\n"
	    "  -v, --verbose        the details under each line\n"
	    "  -h, --help           this text\n", fp);
}

/* A whole number from 1 to max into out (as text), or -1. */
static int
readiness_number(const char *s, long max, char *out, size_t size)
{
	char *end = NULL;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < 1 || v > max)
		return -1;
	return ti_snprintf(out, size, "%ld", v);
}

/* Add one --domain value, checked, to the list. */
static int
readiness_add_domain(struct readiness_opts *o, const char *d,
    struct ti_err *err)
{
	size_t i, n = strlen(d);

	if (n == 0 || n > READINESS_MAX_DOMAIN_BYTES) {
		ti_err_set(err, TI_KIND_USAGE, "--domain: 1 to %d bytes",
		    READINESS_MAX_DOMAIN_BYTES);
		return -1;
	}
	for (i = 0; i < n; i++) {
		if ((unsigned char)d[i] <= ' ' || d[i] == 0x7f) {
			ti_err_set(err, TI_KIND_USAGE,
			    "--domain: no blanks or control characters");
			return -1;
		}
	}
	if (o->domains == NULL) {
		o->domains = buf_new(READINESS_MAX_DOMAINS *
		    (READINESS_MAX_DOMAIN_BYTES + 1) + 1, err);
		if (o->domains == NULL)
			return -1;
	}
	if ((buf_len(o->domains) > 0 &&
	    buf_append(o->domains, "\n", 1, err) != 0) ||
	    buf_append(o->domains, d, n, err) != 0) {
		/* DATA: the buffer's maximum; else out of memory. */
		if (err->kind == TI_KIND_DATA)
			ti_err_set(err, TI_KIND_USAGE, "at most %d domains",
			    READINESS_MAX_DOMAINS);
		return -1;
	}
	return 0;
}

/* The options; 0, or the exit code (-1: --help done, exit 0). */
static int
readiness_options(struct readiness_opts *o, int argc, char **argv)
{
	static const struct option longs[] = {
		{ "domain", required_argument, NULL, 'D' },
		{ "window", required_argument, NULL, 'w' },
		{ "min-days", required_argument, NULL, 'm' },
		{ "min-reporters", required_argument, NULL, 'r' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct ti_err err;
	int c;

	while ((c = getopt_long(argc, argv, "vh", longs, NULL)) != -1) {
		switch (c) {
		case 'D':
			if (readiness_add_domain(o, optarg, &err) != 0)
				return err.kind == TI_KIND_USAGE ?
				    adm_usage(argv[0], err.msg) :
				    adm_fail(&err);
			break;
		case 'w':
			if (readiness_number(optarg, READINESS_MAX_DAYS,
			    o->days, sizeof(o->days)) != 0)
				return adm_usage(argv[0],
				    "--window: 1 to 3650 days");
			break;
		case 'm':
			if (readiness_number(optarg, READINESS_MAX_DAYS,
			    o->min_days, sizeof(o->min_days)) != 0)
				return adm_usage(argv[0],
				    "--min-days: 1 to 3650");
			break;
		case 'r':
			if (readiness_number(optarg, READINESS_MAX_REPORTERS,
			    o->min_reporters, sizeof(o->min_reporters)) != 0)
				return adm_usage(argv[0],
				    "--min-reporters: 1 to 1000");
			break;
		case 'v':
			o->verbose = true;
			break;
		case 'h':
			readiness_help(stdout);
			return -1;
		default:
			return adm_usage(argv[0], "unknown option");
		}
	}
	if (optind < argc)
		return adm_usage(argv[0], "no arguments, only options");
	return 0;
}

/* Whether the monitored domains decide: the table exists, with rows. */
static int
readiness_monitored(struct adm *adm, bool *yes_r, struct ti_err *err)
{
	PGresult *res = NULL;

	*yes_r = false;
	res = adm_query(adm, "SELECT to_regclass('tlsrpt.monitored_domain') "
	    "IS NOT NULL", 0, NULL, err);
	if (res == NULL)
		return -1;
	*yes_r = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
	PQclear(res);
	if (!*yes_r)
		return 0;
	res = adm_query(adm, "SELECT EXISTS (SELECT FROM "
	    "tlsrpt.monitored_domain)", 0, NULL, err);
	if (res == NULL)
		return -1;
	*yes_r = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
	PQclear(res);
	return 0;
}

/* Each line of text (lines of the query's making), after a label. */
static void
readiness_lines(const char *label, const char *text)
{
	const char *p = text, *nl = NULL;

	while (*p != '\0') {
		nl = strchr(p, '\n');
		if (nl == NULL)
			nl = p + strlen(p);
		(void)printf("\t%s %.*s\n", label, (int)(nl - p), p);
		p = *nl == '\n' ? nl + 1 : nl;
	}
}

/* The details under row i, for -v. */
static void
readiness_details(const PGresult *res, int i)
{
	const char *v[COL_N];
	const char *mx = NULL;
	int c;

	for (c = 0; c < COL_N; c++)
		v[c] = PQgetvalue(res, i, c);
	if (strcmp(v[COL_REPORTS], "0") == 0)
		return;
	if (strcmp(v[COL_TYPE], "sts") == 0) {
		(void)printf("\tmode %s%s\n", v[COL_MODE][0] != '\0' ?
		    v[COL_MODE] : "unknown",
		    strcmp(v[COL_CHANGED], "t") == 0 ?
		    " (changed within the window)" : "");
	}
	(void)printf("\t%s day%s (%s to %s), %s reporter%s, %s reports, "
	    "%s sessions, %s failed, %s %s\n", v[COL_DAYS],
	    strcmp(v[COL_DAYS], "1") == 0 ? "" : "s", v[COL_FIRST],
	    v[COL_LAST], v[COL_REPORTERS],
	    strcmp(v[COL_REPORTERS], "1") == 0 ? "" : "s", v[COL_REPORTS],
	    v[COL_SESSIONS], v[COL_FAILED], v[COL_BOUNCED],
	    strcmp(v[COL_VERDICT], "enforced") == 0 ? "not delivered" :
	    "would bounce");
	if (strcmp(v[COL_TYPE], "sts") == 0) {
		mx = PQgetisnull(res, i, COL_MX) ? NULL : v[COL_MX];
		if (mx == NULL)
			(void)printf("\tpolicy mx: none in the reports\n");
		else
			readiness_lines("policy mx:", mx);
	}
	readiness_lines(strcmp(v[COL_VERDICT], "enforced") == 0 ?
	    "failing:" : "would bounce:", v[COL_BOUNCES]);
	readiness_lines("other failure:", v[COL_OTHERS]);
	readiness_lines("not in the policy's mx lines:", v[COL_OUTSIDE]);
}

static int
readiness_run(struct adm *adm, const struct readiness_opts *o)
{
	struct ti_err err;
	PGresult *res = NULL;
	const char *params[4];
	const char *want = readiness_want_all;
	char *sql = NULL;
	size_t n;
	bool monitored = false;
	int i, code = EX_OK;

	params[0] = o->days;
	params[1] = o->min_days;
	params[2] = o->min_reporters;
	params[3] = NULL;
	if (o->domains != NULL) {
		params[3] = buf_str(o->domains);
		want = readiness_want_args;
	} else {
		if (readiness_monitored(adm, &monitored, &err) != 0)
			return adm_fail(&err);
		if (monitored)
			want = readiness_want_monitored;
	}
	n = strlen(want);
	sql = malloc(n + sizeof(readiness_sql));
	if (sql == NULL) {
		log_err("out of memory");
		return EX_TEMPFAIL;
	}
	memcpy(sql, want, n);
	memcpy(sql + n, readiness_sql, sizeof(readiness_sql));
	res = adm_query(adm, sql, o->domains != NULL ? 4 : 3, params, &err);
	free(sql);
	if (res == NULL)
		return adm_fail(&err);
	if (PQnfields(res) != COL_N) {
		log_err("readiness: %d columns, expected %d", PQnfields(res),
		    COL_N);
		PQclear(res);
		return EX_SOFTWARE;
	}
	for (i = 0; i < PQntuples(res); i++) {
		(void)printf("%s\t%s\t%s\t%s\n", PQgetvalue(res, i, COL_DOMAIN),
		    PQgetvalue(res, i, COL_TYPE),
		    PQgetvalue(res, i, COL_VERDICT),
		    PQgetvalue(res, i, COL_REASON));
		if (o->verbose)
			readiness_details(res, i);
	}
	PQclear(res);
	if (fflush(stdout) != 0) {
		log_err("standard output: %s", strerror(errno));
		code = EX_IOERR;
	}
	return code;
}

int
adm_readiness(struct adm *adm, int argc, char **argv)
{
	struct readiness_opts o;
	int code;

	memset(&o, 0, sizeof(o));
	memcpy(o.days, "30", sizeof("30"));
	memcpy(o.min_days, "7", sizeof("7"));
	memcpy(o.min_reporters, "2", sizeof("2"));
	o.verbose = adm->verbosity > 0;
	code = readiness_options(&o, argc, argv);
	if (code == 0)
		code = readiness_run(adm, &o);
	else if (code < 0)
		code = EX_OK;
	buf_free(&o.domains);
	return code;
}
