/*
 * adm_summary_sql.c - tlsrpt-adm summary's questions to the database,
 * and the model the renderings read.
 *
 * One read-only transaction (one snapshot, one now()) asks: the domains'
 * sessions in the period and the one before it, their failures by result
 * type and MX host, the readiness verdicts (tlsrpt.readiness(), as
 * tlsrpt-adm readiness asks it: 30 days, 7 days, 2 reporters), check's
 * problems over the period (check_sql_run(): silence, reporters that
 * stopped, new result types, the rates' states), and the messages kept
 * aside.  Statements are constant text; the domains and the period go in
 * as parameters.  Every text column has its control characters replaced.
 */
#include "autoconf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "adm_check.h"
#include "adm_summary.h"

/* A text with its control characters replaced. */
#define SUM_CLEAN(x) "regexp_replace(" x ", '[[:cntrl:]]', '?', 'g')"

/*
 * The period ($2, seconds) and the domains: $1 the --domain values, one a
 * line, or NULL: the monitored domains, else every policy domain with
 * reports in the period or the one before (so that one that stopped
 * shows).  subs: its subdomains' policies count as its own.  map: each
 * policy domain of the two periods to its domain, the nearest.
 */
#define SUM_WITH \
	"WITH per AS MATERIALIZED (" \
	" SELECT now() - $2::bigint * interval '1 second' AS cur," \
	"  now() - 2 * $2::bigint * interval '1 second' AS prev)" \
	", pol AS MATERIALIZED (" \
	" SELECT rtrim(lower(p.policy_domain), '.') AS pd, p.id AS pid," \
	"  r.id AS rid, r.organization_name AS org," \
	"  r.end_datetime >= (SELECT cur FROM per) AS in_period," \
	"  p.total_successful_session_count AS ok," \
	"  p.total_failure_session_count AS fail" \
	" FROM tlsrpt.report r JOIN tlsrpt.policy p ON p.report_ref = r.id" \
	" WHERE r.end_datetime >= (SELECT prev FROM per))" \
	", dom AS MATERIALIZED (" \
	" SELECT DISTINCT ON (x.domain) x.domain, x.subs FROM (" \
	"  SELECT rtrim(lower(u), '.') AS domain," \
	"  coalesce(m.include_subdomains, false) AS subs" \
	"  FROM unnest(string_to_array($1::text, E'\\n')) u" \
	"  LEFT JOIN tlsrpt.monitored_domain m" \
	"  ON m.domain = rtrim(lower(u), '.')" \
	"  UNION ALL" \
	"  SELECT m.domain, m.include_subdomains" \
	"  FROM tlsrpt.monitored_domain m WHERE $1::text IS NULL" \
	"  UNION ALL" \
	"  SELECT DISTINCT pol.pd, false FROM pol WHERE $1::text IS NULL" \
	"  AND NOT EXISTS (SELECT FROM tlsrpt.monitored_domain)) x" \
	" ORDER BY x.domain, x.subs DESC)" \
	", map AS (" \
	" SELECT DISTINCT ON (x.pd) x.pd, d.domain" \
	" FROM (SELECT DISTINCT pd FROM pol) x JOIN dom d" \
	" ON d.domain = x.pd OR (d.subs" \
	"  AND right(x.pd, length(d.domain) + 1) = '.' || d.domain)" \
	" ORDER BY x.pd, length(d.domain) DESC)"

/* The period's bounds and the domains' counts, by name. */
static const char summary_sql_domains[] = SUM_WITH
    " SELECT " SUM_CLEAN("d.domain") ","
    " coalesce(sum(p.ok) FILTER (WHERE p.in_period), 0),"
    " coalesce(sum(p.fail) FILTER (WHERE p.in_period), 0),"
    " coalesce(sum(p.ok) FILTER (WHERE NOT p.in_period), 0),"
    " coalesce(sum(p.fail) FILTER (WHERE NOT p.in_period), 0),"
    " count(DISTINCT p.rid) FILTER (WHERE p.in_period),"
    " count(DISTINCT p.org) FILTER (WHERE p.in_period),"
    " to_char((SELECT cur FROM per), 'YYYY-MM-DD HH24:MI'),"
    " to_char(now(), 'YYYY-MM-DD HH24:MI'),"
    " extract(epoch FROM now())::bigint"
    " FROM dom d LEFT JOIN map m ON m.domain = d.domain"
    " LEFT JOIN pol p ON p.pd = m.pd"
    " GROUP BY d.domain ORDER BY d.domain COLLATE \"C\"";
enum { SD_DOMAIN, SD_OK, SD_FAIL, SD_PREV_OK, SD_PREV_FAIL, SD_REPORTS,
    SD_REPORTERS, SD_START, SD_END, SD_NOW };

/* The period's failures: the top result types and MX hosts per domain. */
static const char summary_sql_failures[] = SUM_WITH
    ", f AS (SELECT m.domain, d.result_type AS rt,"
    " coalesce(rtrim(lower(d.receiving_mx_hostname), '.'),"
    " host(d.receiving_ip), '-') AS mx,"
    " sum(d.failed_session_count) AS n, count(DISTINCT p.org) AS nrep,"
    " (array_agg(DISTINCT " SUM_CLEAN("p.org")
    " ORDER BY " SUM_CLEAN("p.org") "))[1:"
    " " SUMMARY_TOP_STR(SUMMARY_TOP_REPORTERS) "] AS reps,"
    " row_number() OVER (PARTITION BY m.domain"
    " ORDER BY sum(d.failed_session_count) DESC, d.result_type) AS i"
    " FROM pol p JOIN map m ON m.pd = p.pd"
    " JOIN tlsrpt.failure_detail d ON d.policy_ref = p.pid"
    " WHERE p.in_period AND p.fail > 0 GROUP BY 1, 2, 3)"
    " SELECT " SUM_CLEAN("domain") ", " SUM_CLEAN("rt") ", "
    SUM_CLEAN("mx") ", n, nrep,"
    " array_to_string(reps, E'\\n')"
    " FROM f WHERE i <= " SUMMARY_TOP_STR(SUMMARY_TOP_FAILURES)
    " ORDER BY domain COLLATE \"C\", i";

/*
 * tlsrpt-adm readiness's answer for the domains, with its defaults;
 * readiness reads its 30 days itself.  A few named domains without their
 * subdomains go in by name, as tlsrpt-adm readiness passes them.
 */
static const char summary_sql_ready[] = SUM_WITH
    " SELECT " SUM_CLEAN("m.domain") ", " SUM_CLEAN("r.policy_domain") ","
    " r.policy_type, r.verdict, " SUM_CLEAN("r.reason")
    " FROM tlsrpt.readiness(30, 7, 2, (SELECT array_agg(d.domain)"
    " FROM dom d HAVING NOT bool_or(d.subs))) r"
    " CROSS JOIN LATERAL (SELECT d.domain FROM dom d"
    " WHERE d.domain = r.policy_domain OR (d.subs"
    " AND right(r.policy_domain, length(d.domain) + 1) = '.' || d.domain)"
    " ORDER BY length(d.domain) DESC LIMIT 1) m"
    " ORDER BY m.domain COLLATE \"C\", r.policy_domain, r.policy_type";

/* The messages kept aside in the period, by reason. */
static const char summary_sql_kept[] =
    "SELECT reason, n, sum(n) OVER (), count(*) OVER () FROM ("
    " SELECT " SUM_CLEAN("reason") " AS reason, count(*) AS n"
    " FROM tlsrpt.rejected_message"
    " WHERE received_at >= now() - $1::bigint * interval '1 second'"
    " GROUP BY 1) x ORDER BY n DESC, reason"
    " LIMIT " SUMMARY_TOP_STR(SUMMARY_TOP_KEPT);

double
summary_rate(long long ok, long long fail)
{
	if (ok + fail <= 0)
		return -1;
	return 100.0 * (double)fail / (double)(ok + fail);
}

long long
summary_ll(const PGresult *res, int row, int col)
{
	long long v = strtoll(PQgetvalue(res, row, col), NULL, 10);

	if (v > SUMMARY_VALUE_MAX)
		return SUMMARY_VALUE_MAX;
	return v < -SUMMARY_VALUE_MAX ? -SUMMARY_VALUE_MAX : v;
}

static int
summary_by_name(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a,
	    ((const struct summary_domain *)b)->name);
}

const char *
summary_alert_text(const struct summary *s, int row)
{
	return PQgetvalue(s->check, row, 3);
}

int
summary_alert_cat(const struct summary *s, int row)
{
	return (int)summary_ll(s->check, row, 4);
}

/* Row ranges of a result sorted by domain, into each domain. */
static void
summary_ranges(struct summary *s, const PGresult *res, int col, bool ready)
{
	struct summary_domain *d = NULL;
	const char *name = NULL;
	int i;

	for (i = 0; i < PQntuples(res); i++) {
		name = PQgetvalue(res, i, col);
		d = bsearch(&name, s->dom, s->n, sizeof(*s->dom),
		    summary_by_name);
		if (d == NULL)
			continue;
		if (ready ? d->ready_n++ == 0 : d->fail_n++ == 0)
			*(ready ? &d->ready_first : &d->fail_first) = i;
	}
}

/* Check's problems about the domains, chained per domain in order, and
 * their states. */
static void
summary_alerts(struct summary *s)
{
	struct summary_domain *d = NULL;
	const char *name = NULL;
	int i, state, cat;

	for (i = PQntuples(s->check) - 1; i >= 0; i--) {
		s->alert_next[i] = -1;
		if (PQgetvalue(s->check, i, 0)[0] != 'p' ||
		    PQgetisnull(s->check, i, 2))
			continue;
		name = PQgetvalue(s->check, i, 2);
		d = bsearch(&name, s->dom, s->n, sizeof(*s->dom),
		    summary_by_name);
		if (d == NULL)
			continue;
		state = (int)summary_ll(s->check, i, 1);
		cat = summary_alert_cat(s, i);
		if (state > (int)d->state) {
			d->state = state >= SUMMARY_CRITICAL ?
			    SUMMARY_CRITICAL : SUMMARY_WARNING;
			d->why = NULL;
		}
		if (state == (int)d->state && state > 0 &&
		    (d->why == NULL || cat == 1)) {
			d->why = cat == 1 ? "failed" : cat == 2 ?
			    "no reports" : cat == 3 ? "a reporter stopped" :
			    "a new result type";
		}
		s->alert_next[i] = d->alert_first;
		d->alert_first = i;
	}
}

/* A domain not ready for enforce is a WARNING at least. */
static void
summary_readiness_state(struct summary *s)
{
	size_t k;
	int i;

	for (k = 0; k < s->n; k++) {
		for (i = 0; i < s->dom[k].ready_n; i++) {
			if (strcmp(PQgetvalue(s->ready, s->dom[k].ready_first +
			    i, SR_VERDICT), "not-ready") != 0 ||
			    s->dom[k].state != SUMMARY_OK)
				continue;
			s->dom[k].state = SUMMARY_WARNING;
			s->dom[k].why = "not ready for enforce";
		}
	}
}

/* Worst first: state, failure rate, sessions, name. */
static int
summary_worst_first(const void *a, const void *b)
{
	const struct summary_domain *x = a, *y = b;
	double rx = summary_rate(x->ok, x->fail), ry = summary_rate(y->ok,
	    y->fail);

	if (x->state != y->state)
		return x->state > y->state ? -1 : 1;
	if (rx != ry)
		return rx > ry ? -1 : 1;
	if (x->ok + x->fail != y->ok + y->fail)
		return x->ok + x->fail > y->ok + y->fail ? -1 : 1;
	return strcmp(x->name, y->name);
}

/* The domains from the first answer, sorted by name. */
static int
summary_domains(struct summary *s, struct ti_err *err)
{
	PGresult *r = s->info;
	struct summary_domain *d = NULL;
	time_t now;
	struct tm tm;
	size_t k;

	s->n = (size_t)PQntuples(r);
	s->dom = calloc(s->n + 1, sizeof(*s->dom));
	s->alert_next = calloc((size_t)PQntuples(s->check) + 1, sizeof(int));
	if (s->dom == NULL || s->alert_next == NULL)
		return ti_err_set(err, TI_KIND_TEMP, "out of memory");
	for (k = 0; k < s->n; k++) {
		d = &s->dom[k];
		d->name = PQgetvalue(r, (int)k, SD_DOMAIN);
		d->ok = summary_ll(r, (int)k, SD_OK);
		d->fail = summary_ll(r, (int)k, SD_FAIL);
		d->prev_ok = summary_ll(r, (int)k, SD_PREV_OK);
		d->prev_fail = summary_ll(r, (int)k, SD_PREV_FAIL);
		d->reports = summary_ll(r, (int)k, SD_REPORTS);
		d->reporters = summary_ll(r, (int)k, SD_REPORTERS);
		d->alert_first = -1;
	}
	if (s->n > 0) {
		(void)snprintf(s->start, sizeof(s->start), "%s",
		    PQgetvalue(r, 0, SD_START));
		(void)snprintf(s->end, sizeof(s->end), "%s",
		    PQgetvalue(r, 0, SD_END));
		now = (time_t)summary_ll(r, 0, SD_NOW);
	} else {
		now = time(NULL);
	}
	if (gmtime_r(&now, &tm) == NULL || strftime(s->date, sizeof(s->date),
	    "%a, %d %b %Y %H:%M:%S +0000", &tm) == 0)
		return ti_err_set(err, TI_KIND_INTERNAL, "the date");
	return 0;
}

/* The period's bounds when no domain gave them. */
static int
summary_bounds(struct adm *adm, struct summary *s, const char *secs,
    struct ti_err *err)
{
	PGresult *res = NULL;

	res = adm_query(adm, "SELECT to_char(now() - $1::bigint"
	    " * interval '1 second', 'YYYY-MM-DD HH24:MI'),"
	    " to_char(now(), 'YYYY-MM-DD HH24:MI')", 1, &secs, err);
	if (res == NULL)
		return -1;
	(void)snprintf(s->start, sizeof(s->start), "%s",
	    PQgetvalue(res, 0, 0));
	(void)snprintf(s->end, sizeof(s->end), "%s", PQgetvalue(res, 0, 1));
	PQclear(res);
	return 0;
}

/* The statements, in one snapshot. */
static int
summary_ask(struct adm *adm, struct summary *s, const char *domains,
    const char *secs, struct ti_err *err)
{
	struct check_opts co;
	const char *params[2];

	params[0] = domains;
	params[1] = secs;
	if (adm_exec(adm, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
	    err) != 0)
		return -1;
	if ((s->info = adm_query(adm, summary_sql_domains, 2, params,
	    err)) == NULL ||
	    (s->failures = adm_query(adm, summary_sql_failures, 2, params,
	    err)) == NULL ||
	    (s->ready = adm_query(adm, summary_sql_ready, 2, params,
	    err)) == NULL ||
	    (s->kept = adm_query(adm, summary_sql_kept, 1, &secs,
	    err)) == NULL ||
	    (PQntuples(s->info) == 0 && summary_bounds(adm, s, secs,
	    err) != 0))
		return -1;
	memset(&co, 0, sizeof(co));
	co.domains = domains;
	co.window_s = s->days * 86400;
	co.warn = SUMMARY_WARN_PCT;
	co.crit = SUMMARY_CRIT_PCT;
	co.silence_d = 7;
	co.forget_d = 30;
	co.rejected = 0;
	s->check = check_sql_run(adm, &co, err);
	if (s->check == NULL)
		return -1;
	return adm_exec(adm, "COMMIT", err);
}

int
summary_load(struct adm *adm, struct summary *s, const char *domains,
    struct ti_err *err)
{
	char secs[32];
	size_t k;

	(void)snprintf(secs, sizeof(secs), "%ld", s->days * 86400);
	if (summary_ask(adm, s, domains, secs, err) != 0 ||
	    summary_domains(s, err) != 0)
		return -1;
	summary_ranges(s, s->failures, SF_DOMAIN, false);
	summary_ranges(s, s->ready, SR_DOMAIN, true);
	summary_alerts(s);
	summary_readiness_state(s);
	qsort(s->dom, s->n, sizeof(*s->dom), summary_worst_first);
	for (k = 0; k < s->n; k++)
		s->n_state[s->dom[k].state]++;
	if (PQntuples(s->kept) > 0)
		s->n_kept = summary_ll(s->kept, 0, SK_TOTAL);
	return 0;
}

void
summary_clear(struct summary *s)
{
	PQclear(s->info);
	PQclear(s->failures);
	PQclear(s->ready);
	PQclear(s->check);
	PQclear(s->kept);
	free(s->dom);
	free(s->alert_next);
	s->info = s->failures = s->ready = s->check = s->kept = NULL;
	s->dom = NULL;
	s->alert_next = NULL;
}
