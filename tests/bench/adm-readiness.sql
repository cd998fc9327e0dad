-- adm-readiness.sql - a large history for timing tlsrpt-adm readiness:
-- 1,000,000 reports for 10,000 policy domains (d0.example ...), 100
-- each, spread evenly over the last :spread days (psql -v spread=N;
-- default 60), from 5 reporters, written straight into the tables (load as their
-- owner, into a database holding no reports).  tests/bench/adm-readiness.sh
-- runs it.
--
--   every report: one sts policy, 100 sessions; a domain in seven also
--   has a tlsa policy in each report
--   modes: d%10 = 0 enforce, d%10 = 1 none, the others testing; d%10 = 2
--   switched from testing to enforce 10 days ago
--   failures: every 20th policy certificate-expired on mx2.mx.dN.example, every
--   97th starttls-not-supported on other.dN.example (outside the mx lines),
--   every 50th tlsa policy dnssec-invalid on mx1.dN.example

\set ON_ERROR_STOP on
\if :{?spread}
\else
\set spread 60
\endif
BEGIN;
SET LOCAL synchronous_commit = off;

INSERT INTO tlsrpt.report (organization_name, report_id, start_datetime,
    end_datetime, source, report_sha256, report)
SELECT 'Reporter ' || (g.i / 10000) % 5, 'bench-' || g.i,
    date_trunc('day', now()) - ((g.i / 10000) * :spread / 100 + 1)
	* interval '1 day',
    date_trunc('day', now()) - ((g.i / 10000) * :spread / 100)
	* interval '1 day'
	- interval '1 second',
    'file', '\x00', '{}'
FROM generate_series(0, 999999) AS g(i);

INSERT INTO tlsrpt.policy (report_ref, policy_index, policy_type,
    policy_domain, policy_string, mx_host, total_successful_session_count,
    total_failure_session_count)
SELECT r.id, 0, 'sts', 'd' || x.d || '.example',
    ARRAY['version: STSv1',
	'mode: ' || CASE WHEN x.d % 10 = 0 THEN 'enforce'
	    WHEN x.d % 10 = 1 THEN 'none'
	    WHEN x.d % 10 = 2 AND x.day <= 10 THEN 'enforce'
	    ELSE 'testing' END,
	'mx: mx1.d' || x.d || '.example', 'mx: *.mx.d' || x.d || '.example',
	'max_age: 604800'],
    ARRAY['mx1.d' || x.d || '.example', '*.mx.d' || x.d || '.example'],
    100, 0
FROM tlsrpt.report r,
    LATERAL (SELECT substr(r.report_id, 7)::int % 10000 AS d,
	(substr(r.report_id, 7)::int / 10000) * :spread / 100 + 1 AS day) x;

INSERT INTO tlsrpt.policy (report_ref, policy_index, policy_type,
    policy_domain, policy_string, mx_host, total_successful_session_count,
    total_failure_session_count)
SELECT p.report_ref, 1, 'tlsa', p.policy_domain,
    ARRAY['3 1 1 0123456789abcdef'], p.mx_host, 100, 0
FROM tlsrpt.policy p
WHERE (substr(p.policy_domain, 2, strpos(p.policy_domain, '.') - 2))::int
    % 7 = 0;

INSERT INTO tlsrpt.failure_detail (report_ref, policy_ref, detail_index,
    result_type, sending_mta_ip, receiving_mx_hostname, receiving_ip,
    failed_session_count)
SELECT p.report_ref, p.id, 0,
    CASE WHEN p.policy_type = 'tlsa' THEN 'dnssec-invalid'
	WHEN p.id % 20 = 0 THEN 'certificate-expired'
	ELSE 'starttls-not-supported' END,
    '192.0.2.1',
    CASE WHEN p.policy_type = 'tlsa' THEN 'mx1.'
	WHEN p.id % 20 = 0 THEN 'mx2.mx.'
	ELSE 'other.' END || p.policy_domain,
    '198.51.100.2', 3
FROM tlsrpt.policy p
WHERE (p.policy_type = 'sts' AND (p.id % 20 = 0 OR p.id % 97 = 0))
    OR (p.policy_type = 'tlsa' AND p.id % 50 = 0);

UPDATE tlsrpt.policy p SET total_successful_session_count = 97,
    total_failure_session_count = 3
FROM tlsrpt.failure_detail d WHERE d.policy_ref = p.id;

COMMIT;
VACUUM ANALYZE tlsrpt.report, tlsrpt.policy, tlsrpt.failure_detail;
