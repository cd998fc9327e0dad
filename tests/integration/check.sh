#!/bin/sh
# check.sh - tlsrpt-adm check, the monitoring plugin, and the views of
# schema step 6, against a history of reports written relative to now():
# domains that are clean, failing (a certificate that expired the day
# before yesterday), silent, new, reported on once, exactly at the
# thresholds; reporters daily, on some days only (irregular), and one
# that stopped; messages kept aside; an empty database, an old schema,
# no server and bad options (UNKNOWN).  Exit code, status line,
# problem lines and performance data are asserted.

. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pg.sh"

pg_start
trap 'pg_cleanup' EXIT

DB=check
pg_newdb $DB || exit 99
# The monitored domains' table, as the step that adds it defines it.
MONITORED="CREATE TABLE IF NOT EXISTS tlsrpt.monitored_domain (domain text
    PRIMARY KEY, include_subdomains boolean NOT NULL DEFAULT true,
    added_at timestamptz NOT NULL DEFAULT now())"
pg_q $DB "$MONITORED" >/dev/null

first() { printf '%s\n' "$OUT" | head -n 1; }
# the performance data: every item after a "|", one a line
perf() {
	printf '%s\n' "$OUT" | sed -n 's/^[^|]*| *//p; /^'"'"'/p' |
	    sort -u | tr ' ' '\n' | sed '/^$/d' | sort -u
}
# the domains' performance data, one a line
dperf() { printf '%s\n' "$OUT" | sed -n '/ checked, /,$p' | sed 's/^.*| //'; }
line_for() { printf '%s\n' "$OUT" | grep -F -- "$1"; }
PERF_RE="^'[^'=]+'=([0-9]+(\\.[0-9]+)?%?|U)(;[0-9.]*){0,4}\$"

# ---- The history.  t_report(org, domain, days ago the report's range
# ended, successful, failed, result type, MX): one report of one policy
# (with one failure detail when a result type is given), as the writer
# would store it; the triggers of step 6 see the rows as they see the
# writer's.
pg_q $DB "CREATE SEQUENCE public.t_seq;
CREATE FUNCTION public.t_report(p_org text, p_dom text, p_ago numeric,
    p_ok bigint, p_fail bigint, p_rt text DEFAULT NULL,
    p_mx text DEFAULT NULL) RETURNS bigint LANGUAGE plpgsql AS \$\$
DECLARE v_r bigint; v_p bigint;
BEGIN
	INSERT INTO tlsrpt.report (organization_name, report_id,
	    start_datetime, end_datetime, source, report_sha256, report)
	VALUES (p_org, 't' || nextval('public.t_seq'),
	    now() - (p_ago + 1) * interval '1 day',
	    now() - p_ago * interval '1 day', 'mail', '\\x00', '{}')
	RETURNING id INTO v_r;
	INSERT INTO tlsrpt.policy (report_ref, policy_index, policy_type,
	    policy_domain, total_successful_session_count,
	    total_failure_session_count)
	VALUES (v_r, 0, 'sts', p_dom, p_ok, p_fail) RETURNING id INTO v_p;
	IF p_rt IS NOT NULL THEN
		INSERT INTO tlsrpt.failure_detail (report_ref, policy_ref,
		    detail_index, result_type, receiving_mx_hostname,
		    receiving_ip, sending_mta_ip, failed_session_count)
		VALUES (v_r, v_p, 0, p_rt, p_mx, '198.51.100.7', '192.0.2.9',
		    p_fail);
	END IF;
	RETURN v_r;
END \$\$" >/dev/null || exit 99

# clean.example: Google daily for 20 days, Microsoft on some days only
# (gaps of 4, 3 and 8 days: median 4, so not due before 12 days), and
# policies written 'Clean.Example.' count as clean.example.
# cert.example: Google daily; its certificate expired 2 days ago: the
# two reports since carry certificate-expired failures (10%).
# stop.example: Google daily; Yahoo daily until 6 days ago.
# quiet.example: three reports, the last 8 days ago.  one.example: one
# report.  edge-w.example: exactly 1% failed; edge-c.example: exactly 5%
# (each had its failure's result type before, at a low rate).
pg_q $DB "SELECT public.t_report('Google LLC', 'clean.example', d + 0.5, 1000, 0)
	FROM generate_series(0, 19) d;
SELECT public.t_report('Microsoft Corporation', 'Clean.Example.', d, 500, 0)
	FROM unnest(ARRAY[18.5, 10.5, 7.5, 3.5]) d;
SELECT public.t_report('Google LLC', 'cert.example', d + 0.5, 1000, 0)
	FROM generate_series(2, 19) d;
SELECT public.t_report('Google LLC', 'cert.example', d + 0.5, 900, 100,
	'certificate-expired', 'mx1.cert.example') FROM generate_series(0, 1) d;
SELECT public.t_report('Google LLC', 'stop.example', d + 0.5, 1000, 0)
	FROM generate_series(0, 19) d;
SELECT public.t_report('Yahoo Inc.', 'stop.example', d + 0.5, 300, 0)
	FROM generate_series(6, 19) d;
SELECT public.t_report('Google LLC', 'stop.example', 12.5, 990, 10,
	'starttls-not-supported', 'mx2.stop.example');
SELECT public.t_report('Google LLC', 'stop.example', 0.25, 999, 1,
	'starttls-not-supported', 'mx2.stop.example');
SELECT public.t_report('Google LLC', 'quiet.example', d + 0.5, 100, 0)
	FROM generate_series(8, 10) d;
SELECT public.t_report('Google LLC', 'one.example', 0.5, 100, 0);
SELECT public.t_report('Google LLC', d, 5.5, 1000, 1, t, 'mx.' || d)
	FROM (VALUES ('edge-w.example', 'validation-failure'),
	('edge-c.example', 'sts-policy-fetch-error'),
	('edge-c2.example', 'sts-policy-fetch-error')) v(d, t);
SELECT public.t_report('Google LLC', 'edge-w.example', 0.5, 99, 1,
	'validation-failure', 'mx.edge-w.example');
SELECT public.t_report('Google LLC', 'edge-c.example', 0.5, 95, 5,
	'sts-policy-fetch-error', 'mx.edge-c.example');
SELECT public.t_report('Google LLC', 'edge-c2.example', 0.5, 96, 5,
	'sts-policy-fetch-error', 'mx.edge-c2.example')" >/dev/null || exit 99

# ---- The views.
check "daily_sessions: cert.example yesterday" "$(pg_q $DB "SELECT
    successful_sessions, failed_sessions, failure_rate, reports, reporters
    FROM tlsrpt.daily_sessions WHERE policy_domain = 'cert.example'
    AND day = ((now() - interval '2.5 days') AT TIME ZONE 'UTC')::date")" "900|100|10.00|1|1"
check "daily_sessions: 'Clean.Example.' counts as clean.example" "$(pg_q $DB "SELECT
    count(DISTINCT policy_domain), sum(reports), max(reporters)
    FROM tlsrpt.daily_sessions WHERE policy_domain LIKE '%lean%'")" "1|24|2"
check "failures: the expired certificate's rows" "$(pg_q $DB "SELECT count(*),
    sum(failed_session_count), min(organization_name), min(receiving_mx_hostname),
    min(host(receiving_ip)), min(host(sending_mta_ip)) FROM tlsrpt.failures
    WHERE policy_domain = 'cert.example' AND result_type = 'certificate-expired'")" \
    "2|200|Google LLC|mx1.cert.example|198.51.100.7|192.0.2.9"
check "reporter_last_seen: the irregular reporter's median gap" "$(pg_q $DB "SELECT
    reports, median_gap_days, round(days_since_last) FROM tlsrpt.reporter_last_seen
    WHERE policy_domain = 'clean.example' AND organization_name = 'Microsoft Corporation'")" "4|4.00|4"
check "reporter_last_seen: the reporter that stopped" "$(pg_q $DB "SELECT
    reports, median_gap_days, round(days_since_last, 1) FROM tlsrpt.reporter_last_seen
    WHERE policy_domain = 'stop.example' AND organization_name = 'Yahoo Inc.'")" "14|1.00|6.5"
check "reporter_last_seen: one report, no gap" "$(pg_q $DB "SELECT reports,
    coalesce(median_gap_days::text, 'null') FROM tlsrpt.reporter_last_seen
    WHERE policy_domain = 'one.example'")" "1|null"

# The tables the triggers keep agree with the report tables.
AGREE="SELECT count(*) FROM (SELECT rtrim(lower(p.policy_domain), '.') AS d,
    r.organization_name AS o, min(r.end_datetime) AS f, max(r.end_datetime) AS l,
    count(DISTINCT r.id) AS n FROM tlsrpt.report r
    JOIN tlsrpt.policy p ON p.report_ref = r.id GROUP BY 1, 2) x
    FULL JOIN tlsrpt.reporter s ON s.policy_domain = x.d AND s.organization_name = x.o
    AND s.first_end = x.f AND s.last_end = x.l AND s.reports = x.n
    AND cardinality(s.recent_ends) = least(x.n, 10)
    WHERE s.policy_domain IS NULL OR x.d IS NULL"
AGREE_RT="SELECT count(*) FROM (SELECT rtrim(lower(p.policy_domain), '.') AS d,
    f.result_type AS t, min(r.end_datetime) AS e FROM tlsrpt.failure_detail f
    JOIN tlsrpt.policy p ON p.id = f.policy_ref
    JOIN tlsrpt.report r ON r.id = f.report_ref GROUP BY 1, 2) x
    FULL JOIN tlsrpt.result_type_seen s ON s.policy_domain = x.d
    AND s.result_type = x.t AND s.first_end = x.e
    WHERE s.policy_domain IS NULL OR x.d IS NULL"
# The daily totals (schema step 9) agree with the report tables: the
# rows of each of the three tables that differ from those counted here.
AGREE_DAY="SELECT (SELECT count(*) FROM (SELECT
    (r.start_datetime AT TIME ZONE 'UTC')::date AS day,
    rtrim(lower(p.policy_domain), '.') AS d, p.policy_type AS t, count(*) AS n,
    sum(p.total_successful_session_count) AS ok,
    sum(p.total_failure_session_count) AS nf,
    min(p.id) FILTER (WHERE p.policy_string IS NOT NULL) AS fs,
    max(p.id) FILTER (WHERE p.policy_string IS NOT NULL) AS ls
    FROM tlsrpt.report r JOIN tlsrpt.policy p ON p.report_ref = r.id
    GROUP BY 1, 2, 3) x
    FULL JOIN tlsrpt.daily_policy s ON s.day = x.day AND s.policy_domain = x.d
    AND s.policy_type = x.t AND s.policies = x.n AND s.successful = x.ok
    AND s.failed = x.nf AND s.first_string IS NOT DISTINCT FROM x.fs
    AND s.last_string IS NOT DISTINCT FROM x.ls
    WHERE s.day IS NULL OR x.day IS NULL)
    + (SELECT count(*) FROM (SELECT rtrim(lower(p.policy_domain), '.') AS d,
    p.policy_type AS t, r.organization_name AS o,
    min((r.start_datetime AT TIME ZONE 'UTC')::date) AS f,
    max((r.start_datetime AT TIME ZONE 'UTC')::date) AS l
    FROM tlsrpt.report r JOIN tlsrpt.policy p ON p.report_ref = r.id
    GROUP BY 1, 2, 3) x
    FULL JOIN tlsrpt.policy_reporter s ON s.policy_domain = x.d
    AND s.policy_type = x.t AND s.organization_name = x.o
    AND s.first_day = x.f AND s.last_day = x.l
    WHERE s.policy_domain IS NULL OR x.d IS NULL)
    + (SELECT count(*) FROM (SELECT
    (r.start_datetime AT TIME ZONE 'UTC')::date AS day,
    rtrim(lower(p.policy_domain), '.') AS d, p.policy_type AS t,
    r.organization_name AS o, f.result_type AS rt,
    coalesce(rtrim(lower(f.receiving_mx_hostname), '.'), '') AS mx,
    coalesce(host(f.receiving_ip), '') AS ip,
    coalesce(host(f.sending_mta_ip), '') AS src,
    count(*) AS n, sum(f.failed_session_count) AS fs
    FROM tlsrpt.failure_detail f
    JOIN tlsrpt.policy p ON p.id = f.policy_ref
    JOIN tlsrpt.report r ON r.id = f.report_ref
    GROUP BY 1, 2, 3, 4, 5, 6, 7, 8) x
    FULL JOIN (SELECT day, policy_domain, policy_type, organization_name,
    result_type, receiving_mx, receiving_ip, sending_mta_ip,
    sum(details) AS details, sum(sessions) AS sessions
    FROM tlsrpt.daily_failure GROUP BY 1, 2, 3, 4, 5, 6, 7, 8) s
    ON s.day = x.day AND s.policy_domain = x.d
    AND s.policy_type = x.t AND s.organization_name = x.o
    AND s.result_type = x.rt AND s.receiving_mx = x.mx
    AND s.receiving_ip = x.ip AND s.sending_mta_ip = x.src
    AND s.details = x.n AND s.sessions = x.fs
    WHERE s.day IS NULL OR x.day IS NULL)"
check "reporter: one row per domain and reporter, as counted" "$(pg_q $DB "$AGREE")" 0
check "result_type_seen: as counted" "$(pg_q $DB "$AGREE_RT")" 0
check "daily totals: as counted" "$(pg_q $DB "$AGREE_DAY")" 0
check "daily totals: not empty" "$(pg_q $DB "SELECT (SELECT count(*) > 0
    FROM tlsrpt.daily_policy) AND (SELECT count(*) > 0 FROM tlsrpt.daily_failure)
    AND (SELECT count(*) > 0 FROM tlsrpt.policy_reporter)")" t
check "reporter: the latest 10 ends only" "$(pg_q $DB "SELECT cardinality(recent_ends),
    recent_ends[10] = last_end FROM tlsrpt.reporter WHERE policy_domain = 'clean.example'
    AND organization_name = 'Google LLC'")" "10|t"

# ---- Every domain with reports (none monitored).
run_adm -d dbname=$DB check
check "all: CRITICAL" "$RC" 2
check_match "all: the status line names the worst domain, why, what and where" "$(first)" \
    "^TLSRPT CRITICAL - cert\\.example: 10\\.00% of 2000 sessions failed \\(critical: 5%\\): certificate-expired 200; mx1\\.cert\\.example 200 \\(and [0-9]+ more\\) \\| "
check_match "all: the status line's performance data" "$(first)" \
    "\\| 'sessions'=[0-9]+;;;0 'failed_sessions'=[0-9]+;;;0 'rejected'=0;0;;0\$"
check_match "all: silence is CRITICAL" "$(line_for quiet.example:)" \
    "^CRITICAL quiet\\.example: no report for 8\\.[0-9] days \\(the last ended "
check_match "all: a reporter that stopped is WARNING, with its cadence" "$(line_for 'Yahoo Inc.')" \
    "^WARNING stop\\.example: Yahoo Inc\\. has not reported for 6\\.[0-9] days \\(usually every 1\\.0 days; "
check "all: the irregular reporter is not overdue" "$(line_for 'Microsoft')" ""
check "all: nor a domain's single reporter with one report" "$(line_for 'one.example:')" ""
check_match "all: a result type new in the window is WARNING" "$(line_for 'new result type')" \
    "^WARNING cert\\.example: new result type certificate-expired \\(first in a report ending "
check "all: the new result types (starttls-not-supported came before)" \
    "$(line_for 'new result type' | cut -d' ' -f2,6 | tr '\n' ' ')" \
    "cert.example: certificate-expired "
check_match "all: exactly at -c is CRITICAL" "$(line_for 'edge-c.example:')" \
    "^CRITICAL edge-c\\.example: 5\\.00% of 100 sessions failed \\(critical: 5%\\): sts-policy-fetch-error 5; mx\\.edge-c\\.example 5\$"
check_match "all: just below -c is WARNING" "$(line_for 'edge-c2.example:')" \
    "^WARNING edge-c2\\.example: 4\\.95% of 101 sessions failed \\(warning: 1%\\)"
check_match "all: exactly at -w is WARNING" "$(line_for 'edge-w.example:')" \
    "^WARNING edge-w\\.example: 1\\.00% of 100 sessions failed \\(warning: 1%\\): validation-failure 1; mx\\.edge-w\\.example 1\$"
check_match "all: a rate under -w is no problem" "$(line_for 'stop.example:' | grep -v Yahoo)" "^\$"
check "all: clean.example is no problem" "$(line_for 'clean.example:')" ""
check "all: problem lines, worst first" "$(printf '%s\n' "$OUT" | sed -n '2,$p' |
    grep -E '^(OK|WARNING|CRITICAL) ' | cut -d' ' -f1 | uniq | tr '\n' ' ')" "CRITICAL WARNING "
check_match "all: the summary line, then one item per domain" "$(printf '%s\n' "$OUT" | grep 'domains checked')" \
    "^8 domains checked, reports ending in the last 2d \\| '[a-z0-9.-]+'="
check "all: one performance item per domain" "$(printf '%s\n' "$OUT" | grep -c "^'\\|domains checked")" 8
bad=$(perf | grep -Ev "$PERF_RE")
check "all: every performance item is 'label'=value[UOM];warn;crit;min;max" "$bad" ""
check "all: a domain's failure rate in %" "$(dperf | grep "^'cert.example'=")" "'cert.example'=10.00%;1;5;0;100"
check "all: no sessions in the window: U" "$(dperf | grep "^'quiet.example'=")" "'quiet.example'=U;1;5;0;100"

# ---- The thresholds, one domain at a time.
run_adm -d dbname=$DB check --domain edge-w.example
check_match "-w 1 at 1.00%: WARNING" "$RC $(first)" "^1 TLSRPT WARNING - edge-w\\.example: 1\\.00% of 100"
run_adm -d dbname=$DB check --domain edge-w.example -w 1.01
check_match "-w 1.01 at 1.00%: OK" "$RC $(first)" "^0 TLSRPT OK - 1 domain, 1 of 100 sessions failed in the last 2d \\| "
run_adm -d dbname=$DB check --domain edge-c.example
check_match "-c 5 at 5.00%: CRITICAL" "$RC $(first)" "^2 TLSRPT CRITICAL - edge-c\\.example: 5\\.00%"
run_adm -d dbname=$DB check --domain edge-c.example -c 5.01
check_match "-c 5.01 at 5.00%: WARNING" "$RC $(first)" "^1 TLSRPT WARNING - edge-c\\.example: 5\\.00% of 100 sessions failed \\(warning: 1%\\)"
run_adm -d dbname=$DB check --domain edge-c.example -w 0 -c 0
check_match "-w 0 -c 0: any failure is CRITICAL" "$RC $(first)" "^2 TLSRPT CRITICAL - edge-c"
run_adm -d dbname=$DB check --domain clean.example -w 0 -c 0
check_match "-w 0 -c 0: no failure is OK" "$RC $(first)" "^0 TLSRPT OK - 1 domain, 0 of 2000 sessions failed"
check "--domain: the domain's perf data" "$(dperf)" "'clean.example'=0.00%;0;0;0;100"
run_adm -d dbname=$DB check --domain CLEAN.Example. --domain clean.example
check "--domain: compared lower-case without the dot, once" "$RC $(dperf)" "0 'clean.example'=0.00%;1;5;0;100"
run_adm -d dbname=$DB check --domain one.example
check_match "a domain with one report: OK" "$RC $(first)" "^0 TLSRPT OK - 1 domain, 0 of 100 sessions failed in the last 2d"
run_adm -d dbname=$DB check --domain nowhere.example
check_match "a domain never reported on (not monitored): CRITICAL" "$RC $(first)" \
    "^2 TLSRPT CRITICAL - nowhere\\.example: no report ever \\| "
run_adm -d dbname=$DB check --domain quiet.example --silence 9
check_match "--silence 9: 8.5 days is not silent; its reporter is late" "$RC $(first)" \
    "^1 TLSRPT WARNING - quiet\\.example: Google LLC has not reported for 8\\.[0-9] days"
run_adm -d dbname=$DB check --domain quiet.example --silence 9 --forget 8
check_match "--forget 8: nor is it expected any more" "$RC $(first)" "^0 TLSRPT OK"
run_adm -d dbname=$DB check --domain cert.example --window 13h
check_match "--window 13h: one report (10%), CRITICAL" "$RC $(first)" \
    "^2 TLSRPT CRITICAL - cert\\.example: 10\\.00% of 1000 sessions"
run_adm -d dbname=$DB check --domain stop.example --forget 5
check_match "--forget 5: a reporter gone 6 days is no longer expected" "$RC $(first)" "^0 TLSRPT OK"
run_adm -d dbname=$DB check --domain stop.example --forget 0
check_match "--forget 0: never forgotten" "$RC $(first)" "^1 TLSRPT WARNING - stop\\.example: Yahoo Inc\\."
check "default window: the failure 12 days ago is not new" "$(line_for 'new result type')" ""
run_adm -d dbname=$DB check --domain stop.example --window 13d
check_match "--window 13d: it is" "$(line_for 'new result type')" \
    "^WARNING stop\\.example: new result type starttls-not-supported "

# ---- Kept-aside messages.
pg_q $DB "INSERT INTO tlsrpt.rejected_message (source, reason, raw_sha256,
    raw_size, raw) VALUES ('mail', 'no report', sha256('a'), 1, 'a'),
    ('mail', 'no report', sha256('b'), 1, 'b');
    INSERT INTO tlsrpt.rejected_message (received_at, source, reason,
    raw_sha256, raw_size, raw) VALUES (now() - interval '3 days', 'mail',
    'old', sha256('c'), 1, 'c')" >/dev/null
run_adm -d dbname=$DB check --domain clean.example
check_match "--rejected 0: two kept aside in the window: WARNING" "$RC $(first)" \
    "^1 TLSRPT WARNING - 2 messages kept aside in tlsrpt\\.rejected_message in the window \\(more than 0\\) \\| .*'rejected'=2;0;;0\$"
run_adm -d dbname=$DB check --domain clean.example --rejected 2
check_match "--rejected 2: two are not more than 2" "$RC $(first)" "^0 TLSRPT OK.*'rejected'=2;2;;0\$"
run_adm -d dbname=$DB check --domain clean.example --rejected 1
check "--rejected 1: WARNING" "$RC" 1

# ---- Monitored domains: only they are checked, with their subdomains.
pg_q $DB "INSERT INTO tlsrpt.monitored_domain VALUES
    ('clean.example', true, now() - interval '30 days'),
    ('new.example', true, now()),
    ('old.example', true, now() - interval '10 days'),
    ('cert.example', false, now() - interval '30 days');
    SELECT public.t_report('Google LLC', 'mx.Clean.example', 0.5, 0, 50,
	'certificate-host-mismatch', 'mx.clean.example');
    SELECT public.t_report('Google LLC', 'sub.cert.example', 0.5, 0, 50,
	'certificate-host-mismatch', 'mx.sub.cert.example')" >/dev/null
run_adm -d dbname=$DB check --rejected 5
check "monitored: CRITICAL" "$RC" 2
check "monitored: these domains only" "$(dperf | sed "s/=.*//" | tr '\n' ' ')" \
    "'cert.example' 'clean.example' 'new.example' 'old.example' "
check_match "monitored: added today, no report yet: a note, not a problem" "$(line_for 'new.example:')" \
    "^OK new\\.example: no report yet \\(monitored since "
check_match "monitored: added 10 days ago, no report: CRITICAL" "$(line_for 'old.example:')" \
    "^CRITICAL old\\.example: no report ever \\(monitored since "
check_match "monitored: a subdomain's policies count when included" "$(line_for 'clean.example:')" \
    "^WARNING clean\\.example: 2\\.43% of 2050 sessions failed \\(warning: 1%\\): certificate-host-mismatch 50; mx\\.clean\\.example 50\$"
check "monitored: and not when not" "$(dperf | grep "^'cert.example'=")" "'cert.example'=10.00%;1;5;0;100"
run_adm -d dbname=$DB check --domain new.example --rejected 5
check_match "--domain of a monitored domain added today: OK" "$RC $(first)" \
    "^0 TLSRPT OK - 1 domain, 0 of 0 sessions failed in the last 2d \\| "
check_match "with its note in the long output" "$(printf '%s\n' "$OUT" | sed -n 2p)" "^OK new\\.example: no report yet"

# ---- contrib/nagios/tlsrpt.cfg: its command line, as Nagios runs it.
cmd=$(sed -n 's/^[[:space:]]*command_line[[:space:]]*//p' "$top_srcdir/contrib/nagios/tlsrpt.cfg" |
    sed -e "s|/usr/local/bin/tlsrpt-adm|$ADM|" -e "s|dbname=tlsrpt|dbname=$DB|" \
    -e 's|\$ARG1\$|--domain one.example --rejected 5|')
OUT=$(eval "$cmd" 2>/dev/null)
check_match "contrib/nagios: its command line runs the check" "$? $OUT" \
    "^0 TLSRPT OK - 1 domain, 0 of 100 sessions failed in the last 2d"

# ---- A reader may run it; deleting reports keeps the tables in step.
"$PG_BINDIR/psql" -q -X -v ON_ERROR_STOP=1 -d $DB -f "$top_srcdir/sql/roles.sql" >/dev/null
pg_q $DB "CREATE ROLE nagios LOGIN IN ROLE tlsrpt_reader" >/dev/null
"$ADM" -d "dbname=$DB user=nagios" check --domain clean.example >/dev/null 2>&1
check "as a tlsrpt_reader: runs" "$?" 1
check "as a tlsrpt_reader: reads the views" "$(pg_q "$DB" "SET ROLE nagios;
    SELECT count(*) > 0 FROM tlsrpt.daily_sessions, (SELECT count(*) FROM tlsrpt.failures) f,
    (SELECT count(*) FROM tlsrpt.reporter_last_seen) r" | tail -n 1)" "t"
pg_q $DB "DELETE FROM tlsrpt.report WHERE id IN (SELECT report_ref FROM tlsrpt.failures
    WHERE policy_domain = 'cert.example')" >/dev/null
check "delete: reporter recounted" "$(pg_q $DB "$AGREE")" 0
check "delete: result types recounted" "$(pg_q $DB "$AGREE_RT")" 0
check "delete: daily totals recounted" "$(pg_q $DB "$AGREE_DAY")" 0
run_adm -d dbname=$DB check --domain cert.example --rejected 5
check_match "delete: the failures are gone" "$RC $(first)" "^0 TLSRPT OK"
pg_q $DB "DELETE FROM tlsrpt.failure_detail WHERE result_type = 'validation-failure'" >/dev/null
check "delete of details alone: result types recounted" "$(pg_q $DB "$AGREE_RT")" 0
check "delete of details alone: daily totals recounted" "$(pg_q $DB "$AGREE_DAY")" 0
# A report stored by the writer itself (about a monitored domain, or
# the writer keeps it aside).
pg_q $DB "INSERT INTO tlsrpt.monitored_domain (domain)
    VALUES ('company-y.example')" >/dev/null
run_bin -q -d "dbname=$DB" "$TI_TEST_DATA/corpus/domainaware__parsedmarc/rfc8460.json"
check "writer: stores" "$RC" 0
check "writer: its report counted" "$(pg_q $DB "SELECT reports, organization_name
    FROM tlsrpt.reporter WHERE policy_domain = 'company-y.example'")" "1|Company-X"
check "writer: and its result types" "$(pg_q $DB "SELECT count(*) FROM
    tlsrpt.result_type_seen WHERE policy_domain = 'company-y.example'")" 3
check "writer: all agree" "$(pg_q $DB "$AGREE") $(pg_q $DB "$AGREE_RT") $(pg_q $DB "$AGREE_DAY")" "0 0 0"
pg_q $DB "TRUNCATE tlsrpt.report" >/dev/null
check "truncate: the tables emptied" "$(pg_q $DB "SELECT (SELECT count(*) FROM tlsrpt.reporter)
    + (SELECT count(*) FROM tlsrpt.result_type_seen)
    + (SELECT count(*) FROM tlsrpt.daily_policy)
    + (SELECT count(*) FROM tlsrpt.daily_failure)
    + (SELECT count(*) FROM tlsrpt.policy_reporter)")" 0

# ---- UNKNOWN: nothing to check, an old schema, no server, bad options.
pg_newdb empty || exit 99
run_adm -d dbname=empty check
check "empty database: UNKNOWN" "$RC" 3
check "empty database: says so in one line" "$OUT" \
    "TLSRPT UNKNOWN - no reports and no monitored domains: nothing to check"
pg_q empty "$MONITORED" >/dev/null
run_adm -d dbname=empty check
check "empty database, monitored table empty: UNKNOWN" "$RC" 3
"$PG_BINDIR/createdb" v3 || exit 99
"$PG_BINDIR/psql" -q -X -v ON_ERROR_STOP=1 -d v3 -f "$TI_TEST_DATA/schema-v3.sql" >/dev/null
run_adm -d dbname=v3 check
check "old schema: UNKNOWN" "$RC" 3
check "old schema: one line that says what to do" "$OUT" \
    "TLSRPT UNKNOWN - database schema version 3, need 8: load schema.sql"
_o=$(mktemp)
"$ADM" -d "host=$PG_DIR/none dbname=x" check >"$_o" 2>/dev/null
RC=$?
OUT=$(cat "$_o")
rm -f "$_o"
check "no server: UNKNOWN" "$RC" 3
check_match "no server: one line" "$(printf '%s\n' "$OUT" | wc -l | tr -d ' ') $OUT" "^1 TLSRPT UNKNOWN - "
for args in "--window 3x" "--window 0d" "-w 6 -c 5" "-w 101" "-w 1.234" "--silence 0" \
    "--rejected -1" "--domain a|b" "--bogus" "extra"; do
	run_adm -d dbname=$DB check $args
	check_match "bad option ($args): UNKNOWN, usage on stderr" "$RC $OUT $(printf '%s\n' "$ERR" | grep -c usage:)" \
	    "^3 TLSRPT UNKNOWN - [^|]* 1\$"
done
run_adm -d dbname=$DB check --help
check_match "--help: usage on stdout, exit 0" "$RC $OUT" "^0 usage: tlsrpt-adm check"

finish
