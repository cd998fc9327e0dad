-- summary-history.sql - ten days of reports, written relative to now(),
-- for tests/integration/summary.sh and make summary-screenshot.  Rows go
-- straight into the report tables, as the writer would store them; the
-- triggers of steps 6 and 8 see them as they see the writer's.
--
--   fail.example   Google and Microsoft daily; in the last day an
--                  expired certificate on mx1 (certificate-expired, the
--                  top failure) and STARTTLS missing on mx2: CRITICAL,
--                  and not ready for enforce.
--   stop.example   Google daily; Yahoo daily until five days ago: a
--                  reporter that went silent.
--   ok.example     Google and Microsoft daily, no failures, MTA-STS
--                  testing: healthy, ready.
--   dane.example   DANE, Google daily, no failures: healthy, enforced.
--   Messages kept aside: three in the last day, one five days ago.

CREATE SEQUENCE public.t_seq;

-- t_report(org, domain, days ago the report's range ended, successful,
-- failed, result type, MX, policy type): one report of one policy, with
-- one failure detail when a result type is given.
CREATE FUNCTION public.t_report(p_org text, p_dom text, p_ago numeric,
    p_ok bigint, p_fail bigint, p_rt text DEFAULT NULL,
    p_mx text DEFAULT NULL, p_type text DEFAULT 'sts')
RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE v_r bigint; v_p bigint;
BEGIN
	INSERT INTO tlsrpt.report (organization_name, report_id,
	    start_datetime, end_datetime, source, report_sha256, report)
	VALUES (p_org, 's' || nextval('public.t_seq'),
	    now() - (p_ago + 1) * interval '1 day',
	    now() - p_ago * interval '1 day', 'mail', '\x00', '{}')
	RETURNING id INTO v_r;
	INSERT INTO tlsrpt.policy (report_ref, policy_index, policy_type,
	    policy_domain, policy_string, mx_host,
	    total_successful_session_count, total_failure_session_count)
	VALUES (v_r, 0, p_type, p_dom,
	    CASE WHEN p_type = 'sts' THEN ARRAY['version: STSv1',
	    'mode: testing', 'mx: *.' || p_dom, 'max_age: 604800'] END,
	    ARRAY['*.' || p_dom], p_ok, p_fail)
	RETURNING id INTO v_p;
	IF p_rt IS NOT NULL THEN
		INSERT INTO tlsrpt.failure_detail (report_ref, policy_ref,
		    detail_index, result_type, receiving_mx_hostname,
		    receiving_ip, sending_mta_ip, failed_session_count)
		VALUES (v_r, v_p, 0, p_rt, p_mx, '198.51.100.7',
		    '192.0.2.9', p_fail);
	END IF;
	RETURN v_r;
END $$;

-- t_kept(reason, days ago): a message kept aside.
CREATE FUNCTION public.t_kept(p_reason text, p_ago numeric)
RETURNS void LANGUAGE sql AS $$
	INSERT INTO tlsrpt.rejected_message (received_at, source, reason,
	    raw_sha256, raw_size, raw)
	SELECT now() - p_ago * interval '1 day', 'mail', p_reason,
	    sha256(convert_to(p_reason || p_ago || nextval('public.t_seq'),
	    'UTF8')), 10, '\x00'
$$;

SELECT public.t_report('Google LLC', 'fail.example', d + 0.25, 4000, 0)
    FROM generate_series(1, 9) d;
SELECT public.t_report('Microsoft Corporation', 'fail.example', d + 0.3,
    1500, 0) FROM generate_series(1, 9) d;
SELECT public.t_report('Google LLC', 'fail.example', 0.25, 3400, 600,
    'certificate-expired', 'mx1.fail.example');
SELECT public.t_report('Microsoft Corporation', 'fail.example', 0.3, 1440,
    60, 'certificate-expired', 'mx1.fail.example');
SELECT public.t_report('Microsoft Corporation', 'fail.example', 0.35, 0,
    25, 'starttls-not-supported', 'mx2.fail.example');

SELECT public.t_report('Google LLC', 'stop.example', d + 0.25, 2000, 0)
    FROM generate_series(0, 9) d;
SELECT public.t_report('Yahoo Inc.', 'stop.example', d + 0.25, 700, 0)
    FROM generate_series(5, 9) d;

SELECT public.t_report('Google LLC', 'ok.example', d + 0.25, 5000, 0)
    FROM generate_series(0, 9) d;
SELECT public.t_report('Microsoft Corporation', 'ok.example', d + 0.3, 2500,
    0) FROM generate_series(0, 9) d;

SELECT public.t_report('Google LLC', 'dane.example', d + 0.25, 800, 0,
    NULL, NULL, 'tlsa') FROM generate_series(0, 9) d;

SELECT public.t_kept('no policy domain is monitored (other.example)', 0.2);
SELECT public.t_kept('no policy domain is monitored (other.example)', 0.4);
SELECT public.t_kept('not a TLS report: no report part', 0.6);
SELECT public.t_kept('not a TLS report: no report part', 5);
