-- adm-metrics.sql - a large database for timing tlsrpt-adm metrics: run
-- by tests/bench/adm-metrics.sh into a database that has sql/schema.sql.
--
--   psql -v ON_ERROR_STOP=1 -v reports=1000000 -v domains=10000 -f adm-metrics.sql
--
-- Rows go straight into the tables (as their owner), not through
-- tlsrpt.store_reports(): what is timed is reading them.  Each report is
-- one reporter's day for one policy domain: 12 reporters, dates spread
-- over 90 days, a second (tlsa) policy in one report of four, failure
-- details (1 to 3) under one policy of eight, a report JSON of some
-- 700 bytes as real ones are.  Deterministic: no random().

\set ON_ERROR_STOP on
SET client_min_messages = warning;
SET synchronous_commit = off;

BEGIN;
CREATE TEMP TABLE bench_reporter (n int PRIMARY KEY, org text,
    contact text) ON COMMIT DROP;
INSERT INTO bench_reporter VALUES
	(0, 'Google Inc.', 'smtp-tls-reporting@google.com'),
	(1, 'Microsoft Corporation', 'tlsrpt-noreply@microsoft.com'),
	(2, 'Yahoo Inc.', 'tlsrpt@yahooinc.com'),
	(3, 'Mail.ru', 'tls_support@corp.mail.ru'),
	(4, 'Mimecast', 'noreply@mimecast.org'),
	(5, 'Comcast', 'tlsrpt@comcast.net'),
	(6, 'Proofpoint', 'tlsrpt@proofpoint.com'),
	(7, 'Fastmail', 'tlsrpt@fastmail.com'),
	(8, 'GMX', 'tlsrpt@gmx.net'),
	(9, 'Zoho', 'tlsrpt@zoho.com'),
	(10, 'Apple Inc.', 'tlsrpt@apple.com'),
	(11, 'Example MTA', 'postmaster@mta.example.net');

-- Report i: domain i % domains, reporter (i / domains) % 12, day
-- (i / (domains * 12)) % 90 before 2026-12-01.
INSERT INTO tlsrpt.report (organization_name, report_id, contact_info,
    start_datetime, end_datetime, received_at, source, message_id,
    tls_report_domain, tls_report_submitter, dkim_result, dkim_domain,
    submitter_match, authenticated, report_sha256, report)
SELECT r.org, format('%s-%s-%s', to_char(t0, 'YYYY-MM-DD'), i, r.n),
    r.contact, t0, t0 + interval '86399 seconds',
    t0 + interval '1 day 2 hours' + (i % 3600) * interval '1 second',
    'mail', format('<%s@bench.example>', i), dom, split_part(r.contact,
    '@', 2), 'pass', split_part(r.contact, '@', 2), true, true,
    sha256(convert_to(i::text, 'UTF8')),
    jsonb_build_object('organization-name', r.org,
	'date-range', jsonb_build_object('start-datetime', t0,
	    'end-datetime', t0 + interval '86399 seconds'),
	'contact-info', r.contact,
	'report-id', format('%s-%s-%s', to_char(t0, 'YYYY-MM-DD'), i, r.n),
	'policies', jsonb_build_array(jsonb_build_object(
	    'policy', jsonb_build_object('policy-type', 'sts',
		'policy-domain', dom,
		'policy-string', jsonb_build_array('version: STSv1',
		    'mode: enforce', 'mx: mx1.' || dom, 'mx: mx2.' || dom,
		    'max_age: 604800'),
		'mx-host', jsonb_build_array('mx1.' || dom, 'mx2.' || dom)),
	    'summary', jsonb_build_object(
		'total-successful-session-count', i % 9973,
		'total-failure-session-count', i % 7))))
FROM generate_series(0, :reports - 1) AS i
CROSS JOIN LATERAL (SELECT format('d%s.example', i % :domains) AS dom,
    timestamptz '2026-12-01' - ((i / (:domains * 12)) % 90 + 1) *
    interval '1 day' AS t0) AS x
JOIN bench_reporter r ON r.n = (i / :domains) % 12;

-- One sts policy per report, and a tlsa one in one report of four.
INSERT INTO tlsrpt.policy (report_ref, policy_index, policy_type,
    policy_domain, policy_string, mx_host, total_successful_session_count,
    total_failure_session_count)
SELECT r.id, 0, 'sts', r.tls_report_domain,
    ARRAY['version: STSv1', 'mode: enforce', 'max_age: 604800'],
    ARRAY['mx1.' || r.tls_report_domain, 'mx2.' || r.tls_report_domain],
    r.id % 9973, r.id % 7
FROM tlsrpt.report r;
INSERT INTO tlsrpt.policy (report_ref, policy_index, policy_type,
    policy_domain, policy_string, mx_host, total_successful_session_count,
    total_failure_session_count)
SELECT r.id, 1, 'tlsa', r.tls_report_domain,
    ARRAY['3 1 1 ' || md5(r.id::text) || md5(r.tls_report_domain)],
    ARRAY['mx1.' || r.tls_report_domain],
    r.id % 4999, r.id % 5
FROM tlsrpt.report r WHERE r.id % 4 = 0;

-- Failure details under one policy of eight: 1 to 3 of them.
INSERT INTO tlsrpt.failure_detail (report_ref, policy_ref, detail_index,
    result_type, sending_mta_ip, receiving_mx_hostname, receiving_ip,
    failed_session_count, failure_reason_code)
SELECT p.report_ref, p.id, k,
    (ARRAY['certificate-expired', 'starttls-not-supported',
	'certificate-host-mismatch', 'validation-failure',
	'sts-policy-fetch-error', 'certificate-not-trusted',
	'tlsa-invalid', 'dnssec-invalid'])[1 + (p.id + k) % 8],
    ('192.0.2.' || 1 + p.id % 254)::inet,
    'mx1.' || p.policy_domain,
    ('198.51.100.' || 1 + (p.id + k) % 254)::inet,
    1 + (p.id + k) % 50, NULL
FROM tlsrpt.policy p
CROSS JOIN LATERAL generate_series(0, (p.id % 3)::int) AS k
WHERE p.id % 8 = 0;

INSERT INTO tlsrpt.rejected_message (source, reason, raw_sha256, raw_size,
    raw)
SELECT 'mail', 'no report found', sha256(convert_to('r' || i, 'UTF8')),
    10, convert_to('message ' || i, 'UTF8')
FROM generate_series(1, 1000) AS i;
COMMIT;

VACUUM ANALYZE tlsrpt.report, tlsrpt.policy, tlsrpt.failure_detail,
    tlsrpt.rejected_message;
