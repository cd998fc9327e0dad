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
--
-- References: policy.report_ref, failure_detail.policy_ref and
-- failure_detail.report_ref name rows written in the same statement by
-- the functions below, the only writers, so they carry no foreign keys
-- (checking them was a quarter to a third of the server's work in a
-- sweep, and a month's partitions of the three tables are dropped
-- together anyway).
-- Deleting reports or policies still deletes what hangs off them, one
-- statement per table (see tlsrpt.deleted() below), and so does TRUNCATE.

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
	report_ref bigint NOT NULL,
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
	-- the report of policy_ref, repeated for simple joins
	report_ref bigint NOT NULL,
	policy_ref bigint NOT NULL,
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
-- Versions 1 and 2 had foreign keys (see References above).  (Not there
-- on a new database: no notice about it.)
SET LOCAL client_min_messages = warning;
ALTER TABLE tlsrpt.failure_detail
    DROP CONSTRAINT IF EXISTS failure_detail_report_ref_fkey,
    DROP CONSTRAINT IF EXISTS failure_detail_policy_ref_fkey;
ALTER TABLE tlsrpt.policy
    DROP CONSTRAINT IF EXISTS policy_report_ref_fkey;
RESET client_min_messages;

-- What ON DELETE CASCADE did, a statement at a time: deleting reports
-- deletes their policies, deleting policies deletes their failure
-- details.  TRUNCATE empties the tables below the one truncated.
CREATE OR REPLACE FUNCTION tlsrpt.deleted() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
	-- Deleting policies deletes their failure details in its turn.
	IF TG_TABLE_NAME = 'report' THEN
		DELETE FROM tlsrpt.policy p USING gone
		    WHERE p.report_ref = gone.id;
	ELSE
		DELETE FROM tlsrpt.failure_detail d USING gone
		    WHERE d.policy_ref = gone.id;
	END IF;
	RETURN NULL;
END
$fn$;

CREATE OR REPLACE FUNCTION tlsrpt.truncated() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
	-- Truncating policy truncates failure_detail in its turn.
	IF TG_TABLE_NAME = 'report' THEN
		TRUNCATE tlsrpt.policy;
	ELSE
		TRUNCATE tlsrpt.failure_detail;
	END IF;
	RETURN NULL;
END
$fn$;

CREATE OR REPLACE TRIGGER report_deleted AFTER DELETE ON tlsrpt.report
    REFERENCING OLD TABLE AS gone
    FOR EACH STATEMENT EXECUTE FUNCTION tlsrpt.deleted();
CREATE OR REPLACE TRIGGER policy_deleted AFTER DELETE ON tlsrpt.policy
    REFERENCING OLD TABLE AS gone
    FOR EACH STATEMENT EXECUTE FUNCTION tlsrpt.deleted();
CREATE OR REPLACE TRIGGER report_truncated AFTER TRUNCATE ON tlsrpt.report
    FOR EACH STATEMENT EXECUTE FUNCTION tlsrpt.truncated();
CREATE OR REPLACE TRIGGER policy_truncated AFTER TRUNCATE ON tlsrpt.policy
    FOR EACH STATEMENT EXECUTE FUNCTION tlsrpt.truncated();

-- A report's JSON is compressed with lz4 where the server was built with
-- it: several times faster than the default pglz, to write and to read.
DO $$
BEGIN
	IF (SELECT attcompression FROM pg_attribute
	    WHERE attrelid = 'tlsrpt.report'::regclass
	    AND attname = 'report') IS DISTINCT FROM 'l' THEN
		ALTER TABLE tlsrpt.report ALTER COLUMN report
		    SET COMPRESSION lz4;
	END IF;
EXCEPTION
	WHEN feature_not_supported THEN
		NULL;
END
$$;

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

-- Store one report with its policies and failure details, all or nothing,
-- in one statement.  p_report is the report's JSON text as received: its
-- SHA-256 is taken here, and it is stored as jsonb.  The policies and
-- failure details travel as arrays, one element each: a policy by its
-- index in the report, a policy string, an mx-host or a failure detail by
-- the index of its policy.  A report already stored (same
-- organization_name and report_id) writes nothing.  Values the database
-- refuses raise their error (SQLSTATE classes 22 and 23), which ends the
-- caller's transaction.
--
-- Returns one row: report (the new report's id, or NULL for a duplicate),
-- policies and details (rows written).
--
-- Earlier versions of tlsrpt-ingest stored one report (pipe mode)
-- through here; it now sends the same statement itself, with a policy's
-- strings and mx-hosts as slices rather than aggregates, which costs a
-- new backend less.  Kept for other clients and older versions.  Plain
-- SQL with its body parsed here, once (so every name in it is resolved
-- now, whatever the caller's search_path).  Needs PostgreSQL 14 or
-- later.
CREATE OR REPLACE FUNCTION tlsrpt.store_report(
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
	OUT report bigint, OUT policies bigint, OUT details bigint)
LANGUAGE sql
BEGIN ATOMIC
	WITH r AS (
		INSERT INTO tlsrpt.report (organization_name, report_id,
		    contact_info, start_datetime, end_datetime, source,
		    message_id, message_from, message_date, message_subject,
		    tls_report_domain, tls_report_submitter, dkim_result,
		    dkim_domain, dkim_authserv_id, submitter_match,
		    report_sha256, report)
		VALUES (p_organization_name, p_report_id, p_contact_info,
		    p_start, p_end, p_source, p_message_id, p_message_from,
		    p_message_date, p_message_subject, p_tls_report_domain,
		    p_tls_report_submitter, p_dkim_result, p_dkim_domain,
		    p_dkim_authserv_id, p_submitter_match,
		    sha256(convert_to(p_report, 'UTF8')), p_report::jsonb)
		ON CONFLICT ON CONSTRAINT report_org_report_id_key DO NOTHING
		RETURNING id
	), p AS (
		INSERT INTO tlsrpt.policy (report_ref, policy_index,
		    policy_type, policy_domain, policy_string, mx_host,
		    total_successful_session_count,
		    total_failure_session_count)
		SELECT r.id, u.i, u.t, u.d,
		    CASE WHEN u.has_ps THEN coalesce(ps.a, '{}') END,
		    CASE WHEN u.has_mx THEN coalesce(mx.a, '{}') END,
		    u.ok, u.fail
		FROM r, unnest(p_pol_index, p_pol_type, p_pol_domain,
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
		RETURNING id, policy_index, report_ref
	), d AS (
		INSERT INTO tlsrpt.failure_detail (report_ref, policy_ref,
		    detail_index, result_type, sending_mta_ip,
		    receiving_mx_hostname, receiving_mx_helo, receiving_ip,
		    failed_session_count, additional_information,
		    failure_reason_code)
		SELECT p.report_ref, p.id, u.di, u.rt, u.sip, u.mxh, u.helo,
		    u.rip, u.n, u.info, u.code
		FROM unnest(p_det_policy, p_det_index, p_det_result_type,
		    p_det_sending_ip, p_det_mx_hostname, p_det_mx_helo,
		    p_det_receiving_ip, p_det_count, p_det_info, p_det_code)
		    AS u(pi, di, rt, sip, mxh, helo, rip, n, info, code)
		JOIN p ON p.policy_index = u.pi
		RETURNING 1
	)
	SELECT (SELECT id FROM r), (SELECT count(*) FROM p),
	    (SELECT count(*) FROM d);
END;

-- tlsrpt.store_report() that does not abort the caller's transaction
-- when the database refuses a value (SQLSTATE classes 22 and 23): it
-- returns the refusal instead, so one bad report never poisons a batch.
-- Kept for tlsrpt-ingest before schema version 2, which sent each report
-- of a batch through here.
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
	SELECT s.report, s.policies, s.details
	    INTO report, policies, details
	    FROM tlsrpt.store_report(p_organization_name, p_report_id,
		p_contact_info, p_start, p_end, p_source, p_message_id,
		p_message_from, p_message_date, p_message_subject,
		p_tls_report_domain, p_tls_report_submitter, p_dkim_result,
		p_dkim_domain, p_dkim_authserv_id, p_submitter_match, p_report,
		p_pol_index, p_pol_type, p_pol_domain, p_pol_has_string,
		p_pol_has_mx, p_pol_ok, p_pol_fail, p_str_policy, p_str_value,
		p_mx_policy, p_mx_value, p_det_policy, p_det_index,
		p_det_result_type, p_det_sending_ip, p_det_mx_hostname,
		p_det_mx_helo, p_det_receiving_ip, p_det_count, p_det_info,
		p_det_code) s;
EXCEPTION
	WHEN data_exception OR integrity_constraint_violation THEN
		report := NULL;
		policies := 0;
		details := 0;
		GET STACKED DIAGNOSTICS refused_state = RETURNED_SQLSTATE,
		    refused_message = MESSAGE_TEXT;
END
$fn$;

-- Store a group of reports (a batch sends up to a few dozen at a time) in
-- one statement: per report, the server then spends about half of what a
-- call for each report costs it (statement start-up, a subtransaction,
-- the function's own overhead).
--
-- The arguments are those of tlsrpt.store_report(), each an array: the
-- report-level ones with one element per report, the policy, policy
-- string, mx-host and failure detail ones with those of all the reports
-- one after the other.  Then come the ordinals: p_ord gives each report
-- its own (distinct, in the order the reports arrived), and p_pol_report,
-- p_str_report, p_mx_report and p_det_report give, for each element of
-- the arrays they are named after, the ordinal of its report.
--
-- Reports are inserted in ordinal order.  A report already stored, or
-- one that comes again in the same group (same organization_name and
-- report_id), writes nothing: of several in one group the first is
-- stored.  A value the database refuses (SQLSTATE classes 22 and 23)
-- anywhere in the group rolls back the group alone (one subtransaction
-- per group, not per report); the reports are then stored one by one, in
-- order, each in a subtransaction of its own, so that only the bad one is
-- refused, and the caller's transaction goes on either way.
--
-- Returns one row per report: ord, report (the new report's id, or NULL
-- for a duplicate or a refusal), policies and details (rows written), and
-- refused_state and refused_message (NULL unless refused).
CREATE OR REPLACE FUNCTION tlsrpt.ingest_reports(
	p_organization_name text[], p_report_id text[],
	p_contact_info text[], p_start timestamptz[], p_end timestamptz[],
	p_source text[], p_message_id text[], p_message_from text[],
	p_message_date timestamptz[], p_message_subject text[],
	p_tls_report_domain text[], p_tls_report_submitter text[],
	p_dkim_result text[], p_dkim_domain text[],
	p_dkim_authserv_id text[], p_submitter_match boolean[],
	p_report text[],
	p_pol_index int[], p_pol_type text[], p_pol_domain text[],
	p_pol_has_string bool[], p_pol_has_mx bool[], p_pol_ok int8[],
	p_pol_fail int8[], p_str_policy int[], p_str_value text[],
	p_mx_policy int[], p_mx_value text[],
	p_det_policy int[], p_det_index int[], p_det_result_type text[],
	p_det_sending_ip inet[], p_det_mx_hostname text[],
	p_det_mx_helo text[], p_det_receiving_ip inet[], p_det_count int8[],
	p_det_info text[], p_det_code text[],
	p_ord int[], p_pol_report int[], p_str_report int[],
	p_mx_report int[], p_det_report int[])
RETURNS TABLE (ord int, report bigint, policies bigint, details bigint,
    refused_state text, refused_message text)
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
-- The planner cannot know how many rows the joins of written reports and
-- policies give, guesses one, and would then compare every failure
-- detail with every policy: fine for a few, minutes for a report of
-- 10,000 policies once its plan is reused.  Hash joins take any size.
SET enable_nestloop = off
AS $fn$
DECLARE
	-- What to store: NULL for the whole group, else one ordinal.
	v_try int[] := ARRAY[NULL]::int[];
	v_only int;
	v_i int := 0;
	v_ord int[];
	v_id bigint[];
	v_np bigint[];
	v_nd bigint[];
	v_state text;
	v_msg text;
BEGIN
	WHILE v_i < cardinality(v_try) LOOP
		v_i := v_i + 1;
		v_only := v_try[v_i];
		BEGIN
			-- The answer is collected into arrays, and returned
			-- only once the statement, its triggers and checks
			-- included, has finished: a refusal never leaves rows
			-- behind.
			WITH u AS (
				SELECT * FROM unnest(p_ord, p_organization_name,
				    p_report_id, p_contact_info, p_start, p_end,
				    p_source, p_message_id, p_message_from,
				    p_message_date, p_message_subject,
				    p_tls_report_domain, p_tls_report_submitter,
				    p_dkim_result, p_dkim_domain,
				    p_dkim_authserv_id, p_submitter_match,
				    p_report)
				    AS u(ord, org, rid, contact, t0, t1, src,
				    mid, mfrom, mdate, subj, rdom, rsub, dkim,
				    dkimd, dkimas, smatch, rep)
				WHERE v_only IS NULL OR u.ord = v_only
			), f AS (
				-- The first of each (organization_name,
				-- report_id) in the group.
				SELECT DISTINCT ON (u.org, u.rid) * FROM u
				ORDER BY u.org, u.rid, u.ord
			), r AS (
				INSERT INTO tlsrpt.report (organization_name,
				    report_id, contact_info, start_datetime,
				    end_datetime, source, message_id,
				    message_from, message_date, message_subject,
				    tls_report_domain, tls_report_submitter,
				    dkim_result, dkim_domain, dkim_authserv_id,
				    submitter_match, report_sha256, report)
				SELECT f.org, f.rid, f.contact, f.t0, f.t1,
				    f.src, f.mid, f.mfrom, f.mdate, f.subj,
				    f.rdom, f.rsub, f.dkim, f.dkimd, f.dkimas,
				    f.smatch,
				    sha256(convert_to(f.rep, 'UTF8')),
				    f.rep::jsonb
				FROM f ORDER BY f.ord
				ON CONFLICT ON CONSTRAINT
				    report_org_report_id_key DO NOTHING
				RETURNING id, organization_name, report_id
			), m AS (
				-- Ordinal to id, for the reports written.
				SELECT f.ord, r.id FROM r
				JOIN f ON f.org = r.organization_name
				    AND f.rid = r.report_id
			), p AS (
				INSERT INTO tlsrpt.policy (report_ref,
				    policy_index, policy_type, policy_domain,
				    policy_string, mx_host,
				    total_successful_session_count,
				    total_failure_session_count)
				SELECT m.id, x.i, x.t, x.d,
				    CASE WHEN x.has_ps THEN
					coalesce(ps.a, '{}') END,
				    CASE WHEN x.has_mx THEN
					coalesce(mx.a, '{}') END,
				    x.ok, x.fail
				FROM unnest(p_pol_report, p_pol_index,
				    p_pol_type, p_pol_domain, p_pol_has_string,
				    p_pol_has_mx, p_pol_ok, p_pol_fail)
				    AS x(ro, i, t, d, has_ps, has_mx, ok, fail)
				JOIN m ON m.ord = x.ro
				LEFT JOIN (SELECT s.ro, s.pi,
				    array_agg(s.v ORDER BY s.o) AS a
				    FROM unnest(p_str_report, p_str_policy,
				    p_str_value) WITH ORDINALITY
				    AS s(ro, pi, v, o) GROUP BY s.ro, s.pi) ps
				    ON ps.ro = x.ro AND ps.pi = x.i
				LEFT JOIN (SELECT s.ro, s.pi,
				    array_agg(s.v ORDER BY s.o) AS a
				    FROM unnest(p_mx_report, p_mx_policy,
				    p_mx_value) WITH ORDINALITY
				    AS s(ro, pi, v, o) GROUP BY s.ro, s.pi) mx
				    ON mx.ro = x.ro AND mx.pi = x.i
				ORDER BY x.ro, x.i
				RETURNING id, report_ref, policy_index
			), d AS (
				INSERT INTO tlsrpt.failure_detail (report_ref,
				    policy_ref, detail_index, result_type,
				    sending_mta_ip, receiving_mx_hostname,
				    receiving_mx_helo, receiving_ip,
				    failed_session_count,
				    additional_information, failure_reason_code)
				SELECT p.report_ref, p.id, y.di, y.rt, y.sip,
				    y.mxh, y.helo, y.rip, y.n, y.info, y.code
				FROM unnest(p_det_report, p_det_policy,
				    p_det_index, p_det_result_type,
				    p_det_sending_ip, p_det_mx_hostname,
				    p_det_mx_helo, p_det_receiving_ip,
				    p_det_count, p_det_info, p_det_code)
				    WITH ORDINALITY AS y(ro, pi, di, rt, sip,
				    mxh, helo, rip, n, info, code, o)
				JOIN m ON m.ord = y.ro
				JOIN p ON p.report_ref = m.id
				    AND p.policy_index = y.pi
				ORDER BY y.o
				RETURNING report_ref
			)
			SELECT array_agg(u.ord ORDER BY u.ord),
			    array_agg(m.id ORDER BY u.ord),
			    array_agg(coalesce(pc.n, 0) ORDER BY u.ord),
			    array_agg(coalesce(dc.n, 0) ORDER BY u.ord)
			INTO v_ord, v_id, v_np, v_nd
			FROM u
			LEFT JOIN m ON m.ord = u.ord
			LEFT JOIN (SELECT p.report_ref, count(*) AS n FROM p
			    GROUP BY p.report_ref) pc ON pc.report_ref = m.id
			LEFT JOIN (SELECT d.report_ref, count(*) AS n FROM d
			    GROUP BY d.report_ref) dc ON dc.report_ref = m.id;
		EXCEPTION
			WHEN data_exception OR
			    integrity_constraint_violation THEN
				IF v_only IS NULL THEN
					-- Refused as a group: now one by one.
					v_try := v_try || p_ord;
				ELSE
					GET STACKED DIAGNOSTICS
					    v_state = RETURNED_SQLSTATE,
					    v_msg = MESSAGE_TEXT;
					RETURN QUERY SELECT v_only,
					    NULL::bigint, 0::bigint,
					    0::bigint, v_state, v_msg;
				END IF;
				CONTINUE;
		END;
		RETURN QUERY SELECT a.o, a.id, a.np, a.nd, NULL::text,
		    NULL::text
		    FROM unnest(v_ord, v_id, v_np, v_nd) AS a(o, id, np, nd);
	END LOOP;
END
$fn$;

INSERT INTO tlsrpt.schema_version (version) VALUES (1), (2), (3)
    ON CONFLICT (version) DO NOTHING;

COMMIT;
