-- tlsrpt-ingest: the database schema, all in schema "tlsrpt".
--
-- Idempotent: loading it again changes nothing.  Column names are the
-- RFC 8460 field names with "-" turned into "_"; views, dashboards and
-- checks rely on them.
--
--   psql -v ON_ERROR_STOP=1 -f schema.sql DBNAME
--
-- Growth: report rows are keyed by an identity column and carry their
-- date range, so the three report tables can later be partitioned by
-- month of start_datetime (the unique key then gains start_datetime).

BEGIN;
SELECT pg_advisory_xact_lock(8460);

CREATE SCHEMA IF NOT EXISTS tlsrpt;

CREATE TABLE IF NOT EXISTS tlsrpt.schema_version (
	version integer PRIMARY KEY,
	applied_at timestamptz NOT NULL DEFAULT now()
);

-- One row per report: per (organization_name, report_id).
CREATE TABLE IF NOT EXISTS tlsrpt.report (
	id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	organization_name text NOT NULL,
	report_id text NOT NULL,
	contact_info text,
	start_datetime timestamptz NOT NULL,
	end_datetime timestamptz NOT NULL,
	received_at timestamptz NOT NULL DEFAULT now(),
	-- how it arrived: mail (a message), file (a bare report file), https
	source text NOT NULL CHECK (source IN ('mail', 'file', 'https')),
	message_id text,
	message_from text,
	message_date timestamptz,
	message_subject text,
	tls_report_domain text,
	tls_report_submitter text,
	-- the receiving MTA's DKIM verdict (Authentication-Results)
	dkim_result text,
	dkim_domain text,
	dkim_authserv_id text,
	-- TLS-Report-Submitter equals the domain of contact-info
	submitter_match boolean,
	report_sha256 bytea NOT NULL,
	report jsonb NOT NULL,
	CONSTRAINT report_org_report_id_key
	    UNIQUE (organization_name, report_id),
	CONSTRAINT report_date_range_check
	    CHECK (end_datetime >= start_datetime)
);
CREATE INDEX IF NOT EXISTS report_start_datetime_idx
    ON tlsrpt.report (start_datetime);
CREATE INDEX IF NOT EXISTS report_received_at_idx
    ON tlsrpt.report (received_at);

-- One row per policies[] entry.
CREATE TABLE IF NOT EXISTS tlsrpt.policy (
	id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	report_ref bigint NOT NULL
	    REFERENCES tlsrpt.report (id) ON DELETE CASCADE,
	policy_index integer NOT NULL,
	policy_type text NOT NULL,
	policy_domain text NOT NULL,
	policy_string text[],
	mx_host text[],
	total_successful_session_count bigint NOT NULL
	    CHECK (total_successful_session_count >= 0),
	total_failure_session_count bigint NOT NULL
	    CHECK (total_failure_session_count >= 0),
	CONSTRAINT policy_report_index_key UNIQUE (report_ref, policy_index)
);
CREATE INDEX IF NOT EXISTS policy_domain_idx
    ON tlsrpt.policy (policy_domain);

-- One row per failure-details[] entry.
CREATE TABLE IF NOT EXISTS tlsrpt.failure_detail (
	id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	report_ref bigint NOT NULL
	    REFERENCES tlsrpt.report (id) ON DELETE CASCADE,
	policy_ref bigint NOT NULL
	    REFERENCES tlsrpt.policy (id) ON DELETE CASCADE,
	detail_index integer NOT NULL,
	result_type text NOT NULL,
	-- NULL when absent or not an address (as sent in report.report)
	sending_mta_ip inet,
	receiving_mx_hostname text,
	receiving_mx_helo text,
	receiving_ip inet,
	failed_session_count bigint NOT NULL
	    CHECK (failed_session_count >= 0),
	-- also from the draft-era names additional-info-uri and
	-- failure-error-code
	additional_information text,
	failure_reason_code text
);
CREATE INDEX IF NOT EXISTS failure_detail_policy_ref_idx
    ON tlsrpt.failure_detail (policy_ref);
CREATE INDEX IF NOT EXISTS failure_detail_report_ref_idx
    ON tlsrpt.failure_detail (report_ref);

-- Messages that could not be ingested: the reason and the raw bytes, so
-- that nothing is lost and they can be replayed after a fix.
CREATE TABLE IF NOT EXISTS tlsrpt.rejected_message (
	id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	received_at timestamptz NOT NULL DEFAULT now(),
	source text NOT NULL CHECK (source IN ('mail', 'file', 'https')),
	reason text NOT NULL,
	message_id text,
	message_from text,
	message_subject text,
	message_date timestamptz,
	tls_report_domain text,
	tls_report_submitter text,
	dkim_result text,
	dkim_domain text,
	headers text,
	raw_sha256 bytea NOT NULL,
	raw_size bigint NOT NULL,
	-- the message was larger than max_message_size: raw holds its start
	raw_truncated boolean NOT NULL DEFAULT false,
	raw bytea NOT NULL,
	CONSTRAINT rejected_message_raw_sha256_key UNIQUE (raw_sha256)
);
CREATE INDEX IF NOT EXISTS rejected_message_received_at_idx
    ON tlsrpt.rejected_message (received_at);

-- Store one report with its policies and failure details, all or nothing.
-- p_report is the report's JSON text as received: its SHA-256 is taken
-- here, and it is stored as jsonb.
-- Called by tlsrpt-ingest with every value as a parameter; array
-- parameters carry the policies and failure details.  A report already
-- stored (same organization_name and report_id) writes nothing.  Values
-- the database refuses (SQLSTATE classes 22 and 23) do not abort the
-- caller's transaction: the function returns the refusal instead, so one
-- bad report never poisons a batch.
--
-- Returns one row: report (the new report's id, or NULL for a duplicate
-- or a refusal), policies and details (rows written), and refused_state
-- and refused_message (NULL unless refused).
CREATE OR REPLACE FUNCTION tlsrpt.ingest_report(
	p_organization_name text, p_report_id text, p_contact_info text,
	p_start timestamptz, p_end timestamptz, p_source text,
	p_message_id text, p_message_from text, p_message_date timestamptz,
	p_message_subject text, p_tls_report_domain text,
	p_tls_report_submitter text, p_dkim_result text, p_dkim_domain text,
	p_dkim_authserv_id text, p_submitter_match boolean,
	p_report text,
	p_pol_index int[], p_pol_type text[], p_pol_domain text[],
	p_pol_has_string bool[], p_pol_has_mx bool[], p_pol_ok int8[],
	p_pol_fail int8[], p_str_policy int[], p_str_value text[],
	p_mx_policy int[], p_mx_value text[],
	p_det_policy int[], p_det_index int[], p_det_result_type text[],
	p_det_sending_ip inet[], p_det_mx_hostname text[],
	p_det_mx_helo text[], p_det_receiving_ip inet[], p_det_count int8[],
	p_det_info text[], p_det_code text[],
	OUT report bigint, OUT policies bigint, OUT details bigint,
	OUT refused_state text, OUT refused_message text)
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
	INSERT INTO tlsrpt.report (organization_name, report_id, contact_info,
	    start_datetime, end_datetime, source, message_id, message_from,
	    message_date, message_subject, tls_report_domain,
	    tls_report_submitter, dkim_result, dkim_domain, dkim_authserv_id,
	    submitter_match, report_sha256, report)
	VALUES (p_organization_name, p_report_id, p_contact_info, p_start,
	    p_end, p_source, p_message_id, p_message_from, p_message_date,
	    p_message_subject, p_tls_report_domain, p_tls_report_submitter,
	    p_dkim_result, p_dkim_domain, p_dkim_authserv_id,
	    p_submitter_match, sha256(convert_to(p_report, 'UTF8')),
	    p_report::jsonb)
	ON CONFLICT ON CONSTRAINT report_org_report_id_key DO NOTHING
	RETURNING id INTO report;
	policies := 0;
	details := 0;
	IF report IS NULL THEN
		RETURN;
	END IF;

	WITH p AS (
		INSERT INTO tlsrpt.policy (report_ref, policy_index,
		    policy_type, policy_domain, policy_string, mx_host,
		    total_successful_session_count,
		    total_failure_session_count)
		SELECT report, u.i, u.t, u.d,
		    CASE WHEN u.has_ps THEN coalesce(ps.a, '{}') END,
		    CASE WHEN u.has_mx THEN coalesce(mx.a, '{}') END,
		    u.ok, u.fail
		FROM unnest(p_pol_index, p_pol_type, p_pol_domain,
		    p_pol_has_string, p_pol_has_mx, p_pol_ok, p_pol_fail)
		    AS u(i, t, d, has_ps, has_mx, ok, fail)
		LEFT JOIN (SELECT x.pi, array_agg(x.v ORDER BY x.o) AS a
		    FROM unnest(p_str_policy, p_str_value)
		    WITH ORDINALITY AS x(pi, v, o) GROUP BY x.pi) ps
		    ON ps.pi = u.i
		LEFT JOIN (SELECT x.pi, array_agg(x.v ORDER BY x.o) AS a
		    FROM unnest(p_mx_policy, p_mx_value)
		    WITH ORDINALITY AS x(pi, v, o) GROUP BY x.pi) mx
		    ON mx.pi = u.i
		RETURNING id, policy_index
	), d AS (
		INSERT INTO tlsrpt.failure_detail (report_ref, policy_ref,
		    detail_index, result_type, sending_mta_ip,
		    receiving_mx_hostname, receiving_mx_helo, receiving_ip,
		    failed_session_count, additional_information,
		    failure_reason_code)
		SELECT report, p.id, u.di, u.rt, u.sip, u.mxh, u.helo, u.rip,
		    u.n, u.info, u.code
		FROM unnest(p_det_policy, p_det_index, p_det_result_type,
		    p_det_sending_ip, p_det_mx_hostname, p_det_mx_helo,
		    p_det_receiving_ip, p_det_count, p_det_info, p_det_code)
		    AS u(pi, di, rt, sip, mxh, helo, rip, n, info, code)
		JOIN p ON p.policy_index = u.pi
		RETURNING 1
	)
	SELECT (SELECT count(*) FROM p), (SELECT count(*) FROM d)
	    INTO policies, details;
EXCEPTION
	WHEN data_exception OR integrity_constraint_violation THEN
		report := NULL;
		policies := 0;
		details := 0;
		GET STACKED DIAGNOSTICS refused_state = RETURNED_SQLSTATE,
		    refused_message = MESSAGE_TEXT;
END
$fn$;

INSERT INTO tlsrpt.schema_version (version) VALUES (1)
    ON CONFLICT (version) DO NOTHING;

COMMIT;
