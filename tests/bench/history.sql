-- history.sql - a large history for timing what reads the reports
-- (tlsrpt-adm check, readiness, metrics; the Grafana panels): run by
-- tests/bench/adm.sh into a database that has sql/schema.sql and holds
-- no reports.
--
--   psql -v ON_ERROR_STOP=1 -v n=1000000 -v d=10000 -f history.sql
--
-- Rows go straight into the tables (as their owner), not through
-- tlsrpt.store_reports(): what is timed is reading them; the schema's
-- triggers keep their tables as they would.  Deterministic: no random().
--
-- n reports for d policy domains (d0.example ...), n / d slots each;
-- slot k of domain dom is one report of one reporter, whose date range
-- ended ago days before today (UTC), ids in the order of the ends:
--   Google, slots 0-39: daily, the last 40 days
--   Microsoft, slots 40-69: 30 of the last 40 days (only days with mail)
--   Yahoo, slots 70-89: every other day; for 1% of the domains it
--     stopped 10 days ago
--   Mimecast, slots 90-99: every 4 days
-- Every report has an sts policy.  Its policy-string's mode: dom % 10 =
-- 0 enforce, 1 none, 2 testing until 10 days ago and enforce since, else
-- testing; its mx lines mx1.dN.example and *.mx.dN.example.  A domain in
-- seven also has a tlsa policy in each report.
-- Failures: one sts policy in 20 (1 to 30 sessions), every report of
-- 0.1% of the domains (100 sessions), each with one failure detail on
-- mx1.dN.example, the result types taking turns; one sts policy in 97
-- also starttls-not-supported on other.dN.example, outside the mx lines;
-- one tlsa policy in 50 dnssec-invalid.  Receiving IPs 198.51.100.1-200
-- by domain, sending IPs 192.0.2.1-250.  And n / 50 kept-aside messages
-- over the last 40 days, for three reasons.

\set ON_ERROR_STOP on
SET client_min_messages = warning;

BEGIN;
SET LOCAL synchronous_commit = off;

CREATE TEMP TABLE g ON COMMIT DROP AS
SELECT row_number() OVER (ORDER BY ago DESC, i) AS id, * FROM (
	SELECT i, dom, k, 'd' || dom || '.example' AS name,
	    CASE WHEN k < 40 THEN 'Google LLC'
		WHEN k < 70 THEN 'Microsoft Corporation'
		WHEN k < 90 THEN 'Yahoo Inc.' ELSE 'Mimecast' END AS org,
	    CASE WHEN k < 40 THEN k
		WHEN k < 70 THEN ((k - 40) * 4) / 3 + dom % 2
		WHEN k < 90 THEN (k - 70) * 2
		    + CASE WHEN dom % 100 = 7 THEN 10 ELSE 0 END
		ELSE (k - 90) * 4 END AS ago
	FROM (SELECT i, i % :d AS dom, i / :d AS k
	    FROM generate_series(0, :n - 1) i) s) x;

INSERT INTO tlsrpt.report (id, organization_name, report_id,
    start_datetime, end_datetime, source, report_sha256, report)
OVERRIDING SYSTEM VALUE
SELECT id, org, 'r' || i,
    date_trunc('day', now()) - (ago + 1) * interval '1 day',
    date_trunc('day', now()) - ago * interval '1 day' - interval '1 second',
    'mail', '\x00', '{}'
FROM g ORDER BY id;

INSERT INTO tlsrpt.policy (id, report_ref, policy_index, policy_type,
    policy_domain, policy_string, mx_host, total_successful_session_count,
    total_failure_session_count)
OVERRIDING SYSTEM VALUE
SELECT id, id, 0, 'sts', name,
    ARRAY['version: STSv1',
	'mode: ' || CASE WHEN dom % 10 = 0 THEN 'enforce'
	    WHEN dom % 10 = 1 THEN 'none'
	    WHEN dom % 10 = 2 AND ago < 10 THEN 'enforce'
	    ELSE 'testing' END,
	'mx: mx1.' || name, 'mx: *.mx.' || name, 'max_age: 604800'],
    ARRAY['mx1.' || name, '*.mx.' || name],
    1000 + i % 500,
    CASE WHEN i % 20 = 3 THEN 1 + i % 30 WHEN dom % 1000 = 5 THEN 100
	ELSE 0 END + CASE WHEN i % 97 = 0 THEN 2 ELSE 0 END
FROM g ORDER BY id;

INSERT INTO tlsrpt.policy (id, report_ref, policy_index, policy_type,
    policy_domain, policy_string, mx_host, total_successful_session_count,
    total_failure_session_count)
OVERRIDING SYSTEM VALUE
SELECT :n + row_number() OVER (ORDER BY id), id, 1, 'tlsa', name,
    ARRAY['3 1 1 ' || md5(name)], ARRAY['mx1.' || name],
    100, CASE WHEN id % 50 = 0 THEN 4 ELSE 0 END
FROM g WHERE dom % 7 = 0 ORDER BY id;

INSERT INTO tlsrpt.failure_detail (report_ref, policy_ref, detail_index,
    result_type, receiving_mx_hostname, receiving_ip, sending_mta_ip,
    failed_session_count)
SELECT id, id, 0, (ARRAY['certificate-expired', 'starttls-not-supported',
    'validation-failure', 'sts-policy-fetch-error'])[1 + (i / 20) % 4],
    'mx1.' || name, ('198.51.100.' || 1 + dom % 200)::inet,
    ('192.0.2.' || 1 + i % 250)::inet,
    CASE WHEN i % 20 = 3 THEN 1 + i % 30 ELSE 100 END
FROM g WHERE i % 20 = 3 OR dom % 1000 = 5
UNION ALL
SELECT id, id, 1, 'starttls-not-supported', 'other.' || name,
    '198.51.100.2', '192.0.2.1', 2
FROM g WHERE i % 97 = 0
UNION ALL
SELECT p.report_ref, p.id, 0, 'dnssec-invalid', 'mx1.' || p.policy_domain,
    '198.51.100.1', '192.0.2.1', 4
FROM tlsrpt.policy p
WHERE p.policy_type = 'tlsa' AND p.total_failure_session_count > 0
ORDER BY 1, 2, 3;

SELECT setval(pg_get_serial_sequence('tlsrpt.report', 'id'), :n),
    setval(pg_get_serial_sequence('tlsrpt.policy', 'id'),
    (SELECT max(id) FROM tlsrpt.policy)) \gset

INSERT INTO tlsrpt.rejected_message (received_at, source, reason,
    tls_report_domain, raw_sha256, raw_size, raw)
SELECT now() - (i % 40) * interval '1 day' - (i % 86400) * interval '1 second',
    'mail', (ARRAY['no report',
    'no TLS-RPT report part found (3 MIME parts)',
    'no policy domain is monitored (other.example)'])[1 + i % 3],
    'd' || i % :d || '.example', sha256(int8send(i)), 8, int8send(i)
FROM generate_series(1, :n / 50) AS i;
COMMIT;

VACUUM ANALYZE;
