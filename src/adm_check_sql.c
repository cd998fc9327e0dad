/*
 * adm_check_sql.c - tlsrpt-adm check's questions to the database, in one
 * statement: which domains, their failure rate in the window, silence,
 * reporters overdue, result types not seen before, kept-aside messages.
 *
 * Trusts the database; the options arrive checked (adm_check.c) and go
 * in as parameters.  Reads the window's reports and the per-reporter and
 * per-result-type tables that triggers keep (schema step 6), never the
 * whole history, so that thousands of domains take well under a second.
 * The statement is constant text; only whether tlsrpt.monitored_domain
 * exists picks one of two ways to name the domains.
 */
#include "autoconf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adm_check.h"

/*
 * The domains checked: domain (compared form), subs (its subdomains'
 * policies count as its own), added (none of its silence before then).
 * $1: the --domain values, one a line, or NULL.
 */
#define CHECK_DOM_MONITORED \
	"dom AS (" \
	" SELECT DISTINCT rtrim(lower(m.domain), '.') AS domain," \
	"  m.include_subdomains AS subs, m.added_at AS added" \
	" FROM tlsrpt.monitored_domain m WHERE $1::text IS NULL" \
	" UNION ALL" \
	" SELECT u.d, coalesce(m.include_subdomains, false), m.added_at" \
	" FROM (SELECT DISTINCT rtrim(lower(x), '.') AS d" \
	"  FROM unnest(string_to_array($1::text, E'\\n')) x) u" \
	" LEFT JOIN tlsrpt.monitored_domain m" \
	"  ON rtrim(lower(m.domain), '.') = u.d" \
	" UNION ALL" \
	" SELECT DISTINCT s.policy_domain, false, NULL::timestamptz" \
	" FROM tlsrpt.reporter s WHERE $1::text IS NULL" \
	"  AND NOT EXISTS (SELECT FROM tlsrpt.monitored_domain))"

#define CHECK_DOM_PLAIN \
	"dom AS (" \
	" SELECT DISTINCT rtrim(lower(x), '.') AS domain, false AS subs," \
	"  NULL::timestamptz AS added" \
	" FROM unnest(string_to_array($1::text, E'\\n')) x" \
	" UNION ALL" \
	" SELECT DISTINCT s.policy_domain, false, NULL::timestamptz" \
	" FROM tlsrpt.reporter s WHERE $1::text IS NULL)"

/* Up to this many policy domains, their policies are read by domain. */
#define CHECK_FEW "200"

/*
 * The rest.  $2 window (seconds), $3 -w, $4 -c (percent), $5 --silence
 * and $6 --forget (days), $7 --rejected.  A rate reaches a threshold T
 * when failed * 100 >= T * sessions, in exact arithmetic.
 */
#define CHECK_REST \
	/* Each policy domain of a report, to the domain it counts for:
	 * itself, or its nearest parent checked with its subdomains. */ \
	", pds AS (SELECT DISTINCT policy_domain AS pd FROM tlsrpt.reporter)" \
	", pdmap AS MATERIALIZED (" \
	" SELECT DISTINCT ON (y.pd) y.pd, y.domain FROM (" \
	"  SELECT x.pd, d.domain, 1 AS k FROM pds x" \
	"  JOIN dom d ON d.domain = x.pd" \
	"  UNION ALL" \
	"  SELECT x.pd, d.domain, s.k FROM pds x," \
	"  unnest(string_to_array(x.pd, '.')) WITH ORDINALITY s(label, k)," \
	"  LATERAL (SELECT array_to_string(" \
	"  (string_to_array(x.pd, '.'))[s.k:], '.') AS suf) f" \
	"  JOIN dom d ON d.domain = f.suf AND d.subs" \
	"  WHERE s.k > 1 AND EXISTS (SELECT FROM dom WHERE dom.subs)) y" \
	" ORDER BY y.pd, y.k)" \
	/* The window's policies.  For many domains: the window's reports,
	 * then their policies by report id; for a few: their policies by
	 * domain, then those policies' reports (OFFSET 0 keeps the planner
	 * from reading whole tables instead). */ \
	", winp AS MATERIALIZED (" \
	" SELECT r.id, p.pid, p.ok, p.fail, p.pd" \
	" FROM tlsrpt.report r CROSS JOIN LATERAL (" \
	"  SELECT p.id AS pid, p.total_successful_session_count AS ok," \
	"  p.total_failure_session_count AS fail," \
	"  rtrim(lower(p.policy_domain), '.') AS pd" \
	"  FROM tlsrpt.policy p WHERE p.report_ref = r.id OFFSET 0) p" \
	" WHERE r.end_datetime >= now() - $2::bigint * interval '1 second'" \
	"  AND (SELECT count(*) FROM pdmap) > " CHECK_FEW \
	" UNION ALL" \
	" SELECT r.id, p.pid, p.ok, p.fail, p.pd" \
	" FROM pdmap m CROSS JOIN LATERAL (" \
	"  SELECT p.id AS pid, p.report_ref," \
	"  p.total_successful_session_count AS ok," \
	"  p.total_failure_session_count AS fail, m.pd" \
	"  FROM tlsrpt.policy p" \
	"  WHERE rtrim(lower(p.policy_domain), '.') = m.pd OFFSET 0) p" \
	" CROSS JOIN LATERAL (SELECT r.id FROM tlsrpt.report r" \
	"  WHERE r.id = p.report_ref" \
	"  AND r.end_datetime >= now() - $2::bigint * interval '1 second'" \
	"  OFFSET 0) r" \
	" WHERE (SELECT count(*) FROM pdmap) <= " CHECK_FEW ")" \
	", rate AS (" \
	" SELECT d.domain, coalesce(w.ok, 0) AS ok," \
	"  coalesce(w.fail, 0) AS fail" \
	" FROM dom d LEFT JOIN (SELECT m.domain, sum(x.ok) AS ok," \
	"  sum(x.fail) AS fail FROM (SELECT pd, sum(ok) AS ok," \
	"  sum(fail) AS fail FROM winp GROUP BY pd) x" \
	"  JOIN pdmap m ON m.pd = x.pd GROUP BY m.domain) w" \
	"  ON w.domain = d.domain)" \
	", bad AS (" \
	" SELECT r.*, CASE WHEN r.fail * 100 >= $4::numeric" \
	"  * (r.ok + r.fail) THEN 2 ELSE 1 END AS state," \
	"  trunc(100.0 * r.fail / (r.ok + r.fail), 2) AS pct" \
	" FROM rate r" \
	" WHERE r.fail > 0 AND r.fail * 100 >= $3::numeric * (r.ok + r.fail))" \
	/* What failed, for the domains whose rate is a problem. */ \
	", det AS (" \
	" SELECT m.domain, d.result_type," \
	"  coalesce(d.receiving_mx_hostname, host(d.receiving_ip)," \
	"  'no MX named') AS mx, d.failed_session_count AS n" \
	" FROM winp w JOIN pdmap m ON m.pd = w.pd" \
	" CROSS JOIN LATERAL (SELECT * FROM tlsrpt.failure_detail d" \
	"  WHERE d.policy_ref = w.pid OFFSET 0) d" \
	" WHERE w.fail > 0 AND m.domain IN (SELECT domain FROM bad))" \
	", types AS (" \
	" SELECT t.domain, string_agg(t.result_type || ' ' || t.n, ', '" \
	"  ORDER BY t.n DESC, t.result_type) AS what FROM (" \
	"  SELECT domain, result_type, sum(n) AS n, row_number() OVER" \
	"  (PARTITION BY domain ORDER BY sum(n) DESC, result_type) AS i" \
	"  FROM det GROUP BY domain, result_type) t" \
	" WHERE t.i <= 3 GROUP BY t.domain)" \
	", mxs AS (" \
	" SELECT t.domain, string_agg(t.mx || ' ' || t.n, ', '" \
	"  ORDER BY t.n DESC, t.mx) AS what FROM (" \
	"  SELECT domain, mx, sum(n) AS n, row_number() OVER" \
	"  (PARTITION BY domain ORDER BY sum(n) DESC, mx) AS i" \
	"  FROM det GROUP BY domain, mx) t" \
	" WHERE t.i <= 2 GROUP BY t.domain)" \
	/* Silence: measured from the last report's end, or from when the
	 * domain was added if that is later. */ \
	", quiet AS (" \
	" SELECT d.domain, l.last_end, d.added" \
	" FROM dom d LEFT JOIN (SELECT m.domain, max(s.last_end) AS last_end" \
	"  FROM tlsrpt.reporter s JOIN pdmap m ON m.pd = s.policy_domain" \
	"  GROUP BY m.domain) l ON l.domain = d.domain" \
	" WHERE l.last_end IS NULL OR greatest(l.last_end, d.added)" \
	"  < now() - $5::int * interval '1 day')" \
	/* A reporter with 3 reports or more, silent for longer than three
	 * times its median gap, and at least 2 days. */ \
	", late AS (" \
	" SELECT m.domain, r.policy_domain, r.organization_name," \
	"  r.last_end, g.med" \
	" FROM tlsrpt.reporter r JOIN pdmap m ON m.pd = r.policy_domain" \
	" CROSS JOIN LATERAL (" \
	"  SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY z.gap) AS med" \
	"  FROM (SELECT e - lag(e) OVER (ORDER BY e) AS gap" \
	"  FROM (SELECT DISTINCT e FROM unnest(r.recent_ends) e) u) z) g" \
	" WHERE r.reports >= 3 AND r.last_end < now() - interval '2 days'" \
	"  AND ($6::int = 0" \
	"  OR r.last_end >= now() - $6::int * interval '1 day')" \
	"  AND now() - r.last_end > greatest(3 * g.med, interval '2 days'))" \
	", newtype AS (" \
	" SELECT m.domain, t.result_type, min(t.first_end) AS first_end" \
	" FROM tlsrpt.result_type_seen t" \
	" JOIN pdmap m ON m.pd = t.policy_domain" \
	" GROUP BY m.domain, t.result_type" \
	" HAVING min(t.first_end)" \
	"  >= now() - $2::bigint * interval '1 second')" \
	", kept AS (" \
	" SELECT count(*) AS n FROM tlsrpt.rejected_message" \
	" WHERE received_at >= now() - $2::bigint * interval '1 second')" \
	", out AS (" \
	" SELECT 'p' AS kind, b.state, 1 AS cat, b.pct AS key, b.domain," \
	"  format('%s: %s%% of %s sessions failed (%s: %s%%): %s; %s'," \
	"  b.domain, b.pct, b.ok + b.fail," \
	"  CASE b.state WHEN 2 THEN 'critical' ELSE 'warning' END," \
	"  CASE b.state WHEN 2 THEN $4::numeric ELSE $3::numeric END," \
	"  coalesce(t.what, 'no failure details'), coalesce(x.what, '-'))" \
	"  AS text" \
	" FROM bad b LEFT JOIN types t ON t.domain = b.domain" \
	" LEFT JOIN mxs x ON x.domain = b.domain" \
	" UNION ALL" \
	" SELECT 'p', CASE WHEN q.last_end IS NULL AND q.added" \
	"  >= now() - $5::int * interval '1 day' THEN 0 ELSE 2 END, 2," \
	"  coalesce(extract(epoch FROM now()" \
	"  - coalesce(q.last_end, q.added))," \
	"  1e12)::numeric, q.domain," \
	"  CASE WHEN q.last_end IS NULL AND q.added IS NOT NULL" \
	"  THEN format('%s: no report %s (monitored since %s)', q.domain," \
	"  CASE WHEN q.added >= now() - $5::int * interval '1 day'" \
	"  THEN 'yet' ELSE 'ever' END," \
	"  to_char(q.added, 'YYYY-MM-DD HH24:MI'))" \
	"  WHEN q.last_end IS NULL" \
	"  THEN format('%s: no report ever', q.domain)" \
	"  ELSE format('%s: no report for %s days (the last ended %s)'," \
	"  q.domain, round(extract(epoch FROM now() - q.last_end)" \
	"  / 86400, 1), to_char(q.last_end, 'YYYY-MM-DD HH24:MI')) END" \
	" FROM quiet q" \
	" UNION ALL" \
	" SELECT 'p', 1, 3, extract(epoch FROM now() - l.last_end)::numeric," \
	"  l.domain, format('%s: %s has not reported for %s days (usually" \
	" every %s days; the last ended %s)', l.policy_domain," \
	"  l.organization_name, round(extract(epoch FROM now() - l.last_end)" \
	"  / 86400, 1), round(extract(epoch FROM l.med) / 86400, 1)," \
	"  to_char(l.last_end, 'YYYY-MM-DD HH24:MI'))" \
	" FROM late l" \
	" UNION ALL" \
	" SELECT 'p', 1, 4, 0, n.domain, format('%s: new result type %s" \
	" (first in a report ending %s)', n.domain, n.result_type," \
	"  to_char(n.first_end, 'YYYY-MM-DD HH24:MI'))" \
	" FROM newtype n" \
	" UNION ALL" \
	" SELECT 'p', 1, 5, k.n, NULL, format('%s messages kept aside in" \
	" tlsrpt.rejected_message in the window (more than %s)', k.n," \
	"  $7::bigint)" \
	" FROM kept k WHERE k.n > $7::bigint" \
	" UNION ALL" \
	" SELECT 's', 0, 0, 0, (SELECT count(*) FROM dom)::text," \
	"  (SELECT coalesce(sum(ok) + sum(fail), 0) || ' ' ||" \
	"  coalesce(sum(fail), 0)" \
	"  FROM rate)" \
	" UNION ALL" \
	" SELECT 'r', 0, 0, 0, NULL, k.n::text FROM kept k" \
	" UNION ALL" \
	" SELECT 'd', 0, 0, 0, r.domain, CASE WHEN r.ok + r.fail > 0" \
	"  THEN trunc(100.0 * r.fail / (r.ok + r.fail), 2)::text" \
	"  ELSE 'U' END" \
	" FROM rate r)" \
	" SELECT kind, state, domain, text, cat FROM out" \
	" ORDER BY position(kind IN 'psrd'), state DESC, cat, key DESC," \
	"  domain"

static const char check_sql_monitored[] =
    "WITH " CHECK_DOM_MONITORED CHECK_REST;
static const char check_sql_plain[] =
    "WITH " CHECK_DOM_PLAIN CHECK_REST;

PGresult *
check_sql_run(struct adm *adm, const struct check_opts *o,
    struct ti_err *err)
{
	char window[32], silence[32], forget[32], rejected[32];
	const char *params[7];
	PGresult *res = NULL;
	bool monitored;

	res = adm_query(adm, "SELECT to_regclass('tlsrpt.monitored_domain')"
	    " IS NOT NULL", 0, NULL, err);
	if (res == NULL)
		return NULL;
	monitored = PQntuples(res) == 1 &&
	    strcmp(PQgetvalue(res, 0, 0), "t") == 0;
	PQclear(res);
	/*
	 * The planner's guesses for the arrays and CTEs are far too high,
	 * which would buy seconds of JIT compilation for a statement that
	 * runs in a fraction of one, and nested loops over thousands of
	 * rows (the statement asks for the few it needs: LATERAL ...
	 * OFFSET 0); no parallel workers to start either, and sorts in
	 * memory.
	 */
	if (adm_exec(adm, "SET jit = off", err) != 0 ||
	    adm_exec(adm, "SET enable_nestloop = off", err) != 0 ||
	    adm_exec(adm, "SET max_parallel_workers_per_gather = 0", err)
	    != 0 || adm_exec(adm, "SET work_mem = '64MB'", err) != 0)
		return NULL;
	(void)snprintf(window, sizeof(window), "%ld", o->window_s);
	(void)snprintf(silence, sizeof(silence), "%ld", o->silence_d);
	(void)snprintf(forget, sizeof(forget), "%ld", o->forget_d);
	(void)snprintf(rejected, sizeof(rejected), "%ld", o->rejected);
	params[0] = o->domains;
	params[1] = window;
	params[2] = o->warn;
	params[3] = o->crit;
	params[4] = silence;
	params[5] = forget;
	params[6] = rejected;
	return adm_query(adm, monitored ? check_sql_monitored :
	    check_sql_plain, 7, params, err);
}
