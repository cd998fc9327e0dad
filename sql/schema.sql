-- tlsrpt-ingest: the database schema, all in schema "tlsrpt".
--
--   psql -v ON_ERROR_STOP=1 -d DBNAME -f schema.sql
--
-- The schema is a list of numbered steps, oldest first.  Each runs once:
-- tlsrpt.schema_version records the steps a database has been through,
-- and loading this file runs the ones it has not, in order, in one
-- transaction.  So the same file creates a new database and brings an
-- old one up to date, and loading it again changes nothing.  A change to
-- the schema is a new step at the end; a step, once released, is never
-- edited.  tlsrpt-ingest reads the highest version at connect and refuses
-- to run on a database older than it needs (DB_SCHEMA_VERSION in
-- src/db.c).  It needs psql (\if) and PostgreSQL 14 or later.
--
-- Column names are the RFC 8460 field names with "-" turned into "_";
-- views, dashboards and checks rely on them.

\set ON_ERROR_STOP on
BEGIN;
SELECT pg_advisory_xact_lock(8460) AS locked \gset
SET LOCAL client_min_messages = warning;

CREATE SCHEMA IF NOT EXISTS tlsrpt;

CREATE TABLE IF NOT EXISTS tlsrpt.schema_version (
	version integer PRIMARY KEY,
	applied_at timestamptz NOT NULL DEFAULT now()
);

-- ---- Step 1: the tables (the first release)
SELECT NOT EXISTS (SELECT FROM tlsrpt.schema_version WHERE version = 1)
    AS step_due \gset
\if :step_due

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
	-- the report of policy_ref, repeated for simple joins
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

INSERT INTO tlsrpt.schema_version (version) VALUES (1);
\endif

-- ---- Step 2: the first batch writer (replaced)
SELECT NOT EXISTS (SELECT FROM tlsrpt.schema_version WHERE version = 2)
    AS step_due \gset
\if :step_due

-- Version 2 added the first batch writer, tlsrpt.ingest_reports().  Step
-- 4 replaced it; nothing of it is left to create.

INSERT INTO tlsrpt.schema_version (version) VALUES (2);
\endif

-- ---- Step 3: no foreign keys below report
SELECT NOT EXISTS (SELECT FROM tlsrpt.schema_version WHERE version = 3)
    AS step_due \gset
\if :step_due

-- No foreign keys below report: policy.report_ref,
-- failure_detail.policy_ref and failure_detail.report_ref name rows that
-- the writer (step 4) inserts in the same statement.  Deleting reports or
-- policies still deletes what hangs off them, one statement per table,
-- and TRUNCATE empties the tables below the one truncated.
ALTER TABLE tlsrpt.failure_detail
    DROP CONSTRAINT IF EXISTS failure_detail_report_ref_fkey,
    DROP CONSTRAINT IF EXISTS failure_detail_policy_ref_fkey;
ALTER TABLE tlsrpt.policy
    DROP CONSTRAINT IF EXISTS policy_report_ref_fkey;

CREATE FUNCTION tlsrpt.deleted() RETURNS trigger
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

CREATE FUNCTION tlsrpt.truncated() RETURNS trigger
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

CREATE TRIGGER report_deleted AFTER DELETE ON tlsrpt.report
    REFERENCING OLD TABLE AS gone
    FOR EACH STATEMENT EXECUTE FUNCTION tlsrpt.deleted();
CREATE TRIGGER policy_deleted AFTER DELETE ON tlsrpt.policy
    REFERENCING OLD TABLE AS gone
    FOR EACH STATEMENT EXECUTE FUNCTION tlsrpt.deleted();
CREATE TRIGGER report_truncated AFTER TRUNCATE ON tlsrpt.report
    FOR EACH STATEMENT EXECUTE FUNCTION tlsrpt.truncated();
CREATE TRIGGER policy_truncated AFTER TRUNCATE ON tlsrpt.policy
    FOR EACH STATEMENT EXECUTE FUNCTION tlsrpt.truncated();

-- A report's JSON is compressed with lz4 where the server has it.
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

INSERT INTO tlsrpt.schema_version (version) VALUES (3);
\endif

-- ---- Step 4: one writer
SELECT NOT EXISTS (SELECT FROM tlsrpt.schema_version WHERE version = 4)
    AS step_due \gset
\if :step_due

-- The one way in.  Every report, from every path (a message on its own,
-- a batch, the resident server), is stored by tlsrpt.store_reports(), and
-- every message that could not be ingested by tlsrpt.store_rejected().
-- Both run with their owner's rights (SECURITY DEFINER, search_path
-- pinned), so a role that may call them needs no privilege on the tables
-- (sql/roles.sql grants EXECUTE and nothing else), and nothing in another
-- schema can stand in for a function or operator they use.
DROP FUNCTION IF EXISTS tlsrpt.store_report;
DROP FUNCTION IF EXISTS tlsrpt.ingest_report;
DROP FUNCTION IF EXISTS tlsrpt.ingest_reports;

-- Anyone can mail a report claiming any organization and a predictable
-- report-id.  authenticated is true when the receiving MTA's own
-- Authentication-Results header (its authserv-id configured) gave a
-- passing DKIM signature of the reporting domain.  A report that is
-- authenticated takes the place of a stored one with the same key that
-- is not; the displaced one goes to rejected_message with a reason.  Of
-- two in one group, the authenticated one is stored.  Rows from before
-- this step count as not authenticated: a genuine report delivered again
-- takes its own earlier copy's place.
ALTER TABLE tlsrpt.report
    ADD COLUMN authenticated boolean NOT NULL DEFAULT false;

-- Store a group of reports (one, or up to a few dozen) in one statement.
--
-- Every argument is an array: the report-level ones with one element per
-- report, the policy, policy string, mx-host and failure detail ones with
-- those of all the reports one after the other.  p_report is each
-- report's JSON text as received: its SHA-256 is taken here, and it is
-- stored as jsonb.  Then come the ordinals: p_ord gives each report its
-- own (distinct, in the order the reports arrived), and p_pol_report,
-- p_str_report, p_mx_report and p_det_report give, for each element of
-- the arrays they are named after, the ordinal of its report; a policy
-- string, an mx-host or a failure detail also names its policy by index.
--
-- Reports are inserted in ordinal order.  A report already stored, or
-- one that comes again in the same group (same organization_name and
-- report_id), writes nothing: of several in one group the first is
-- stored.  A value the database refuses (SQLSTATE classes 22, 23 and 54)
-- anywhere in the group rolls back the group alone (one subtransaction
-- per group); the reports are then stored one by one, each in a
-- subtransaction of its own, so that only the bad one is refused, and the
-- caller's transaction goes on either way.
--
-- Returns one row per report: ord, report (the new report's id, or NULL
-- for a duplicate or a refusal), policies and details (rows written), and
-- refused_state and refused_message (NULL unless refused).  p_authenticated
-- (one element per report) is the authenticated column above.
CREATE FUNCTION tlsrpt.store_reports(
	p_organization_name text[], p_report_id text[],
	p_contact_info text[], p_start timestamptz[], p_end timestamptz[],
	p_source text[], p_message_id text[], p_message_from text[],
	p_message_date timestamptz[], p_message_subject text[],
	p_tls_report_domain text[], p_tls_report_submitter text[],
	p_dkim_result text[], p_dkim_domain text[],
	p_dkim_authserv_id text[], p_submitter_match boolean[],
	p_report text[], p_authenticated boolean[],
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
SECURITY DEFINER
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
	-- Ordinals stored again, alone, after a displacement.
	v_redo int[];
	v_redone int[] := '{}';
	v_o int;
	v_org text;
	v_rid text;
	v_gone tlsrpt.report;
BEGIN
	WHILE v_i < cardinality(v_try) LOOP
		v_i := v_i + 1;
		v_only := v_try[v_i];
		v_redo := '{}';
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
				    p_report, p_authenticated)
				    AS u(ord, org, rid, contact, t0, t1, src,
				    mid, mfrom, mdate, subj, rdom, rsub, dkim,
				    dkimd, dkimas, smatch, rep, auth)
				WHERE v_only IS NULL OR u.ord = v_only
			), f AS (
				-- The first of each (organization_name,
				-- report_id) in the group, an authenticated
				-- one before any other.
				SELECT DISTINCT ON (u.org, u.rid) * FROM u
				ORDER BY u.org, u.rid, u.auth DESC, u.ord
			), r AS (
				INSERT INTO tlsrpt.report (organization_name,
				    report_id, contact_info, start_datetime,
				    end_datetime, source, message_id,
				    message_from, message_date, message_subject,
				    tls_report_domain, tls_report_submitter,
				    dkim_result, dkim_domain, dkim_authserv_id,
				    submitter_match, authenticated,
				    report_sha256, report)
				SELECT f.org, f.rid, f.contact, f.t0, f.t1,
				    f.src, f.mid, f.mfrom, f.mdate, f.subj,
				    f.rdom, f.rsub, f.dkim, f.dkimd, f.dkimas,
				    f.smatch, f.auth,
				    pg_catalog.sha256(
					pg_catalog.convert_to(f.rep, 'UTF8')),
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

			-- A report with a passing DKIM signature of the
			-- reporting domain that found its key taken by a
			-- stored report without one (stored earlier, or by a
			-- delivery that committed while this one waited for
			-- it) takes that report's place: the other is kept
			-- aside, and this one is stored again, alone.  The
			-- test comes first: looking for such reports costs a
			-- fifth of the time of a group without any.
			IF array_position(v_id, NULL) IS NOT NULL
			    AND true = ANY (p_authenticated) THEN
				FOR v_o, v_org, v_rid IN
					SELECT x.ord, x.org, x.rid
					FROM unnest(p_ord, p_organization_name,
					    p_report_id, p_authenticated)
					    AS x(ord, org, rid, auth)
					JOIN unnest(v_ord, v_id) AS s(ord, id)
					    ON s.ord = x.ord
					WHERE x.auth AND s.id IS NULL
					    AND x.ord <> ALL (v_redone)
				LOOP
					DELETE FROM tlsrpt.report r
					WHERE r.organization_name = v_org
					    AND r.report_id = v_rid
					    AND NOT r.authenticated
					RETURNING r.* INTO v_gone;
					CONTINUE WHEN NOT FOUND;
					INSERT INTO tlsrpt.rejected_message (
					    source, reason, message_id,
					    message_from, message_subject,
					    message_date, tls_report_domain,
					    tls_report_submitter, dkim_result,
					    dkim_domain, raw_sha256, raw_size,
					    raw)
					SELECT v_gone.source, 'displaced by a '
					    'report with the same '
					    'organization-name and report-id '
					    'and a passing DKIM signature of '
					    'the reporting domain',
					    v_gone.message_id,
					    v_gone.message_from,
					    v_gone.message_subject,
					    v_gone.message_date,
					    v_gone.tls_report_domain,
					    v_gone.tls_report_submitter,
					    v_gone.dkim_result,
					    v_gone.dkim_domain,
					    sha256(raw), octet_length(raw), raw
					FROM convert_to(v_gone.report::text,
					    'UTF8') AS raw
					ON CONFLICT (raw_sha256) DO NOTHING;
					v_redo := v_redo || v_o;
				END LOOP;
			END IF;
			v_redone := v_redone || v_redo;
			v_try := v_try || v_redo;
		EXCEPTION
			WHEN data_exception OR integrity_constraint_violation
			    OR program_limit_exceeded THEN
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
		    FROM unnest(v_ord, v_id, v_np, v_nd) AS a(o, id, np, nd)
		    WHERE a.o <> ALL (v_redo);
	END LOOP;
END
$fn$;

-- Keep a message that could not be ingested, once: the same bytes again
-- write nothing.  Returns the new row's id, or NULL for such a duplicate.
CREATE FUNCTION tlsrpt.store_rejected(
	p_source text, p_reason text, p_message_id text, p_message_from text,
	p_message_subject text, p_message_date timestamptz,
	p_tls_report_domain text, p_tls_report_submitter text,
	p_dkim_result text, p_dkim_domain text, p_headers text,
	p_raw_size bigint, p_raw_truncated boolean, p_raw bytea)
RETURNS bigint
LANGUAGE sql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
	INSERT INTO tlsrpt.rejected_message (source, reason, message_id,
	    message_from, message_subject, message_date, tls_report_domain,
	    tls_report_submitter, dkim_result, dkim_domain, headers,
	    raw_sha256, raw_size, raw_truncated, raw)
	VALUES (p_source, p_reason, p_message_id, p_message_from,
	    p_message_subject, p_message_date, p_tls_report_domain,
	    p_tls_report_submitter, p_dkim_result, p_dkim_domain, p_headers,
	    pg_catalog.sha256(p_raw), p_raw_size, p_raw_truncated, p_raw)
	ON CONFLICT (raw_sha256) DO NOTHING
	RETURNING id;
END;

REVOKE ALL ON FUNCTION tlsrpt.store_reports, tlsrpt.store_rejected
    FROM PUBLIC;

INSERT INTO tlsrpt.schema_version (version) VALUES (4);
\endif

-- ---- Step 7: running totals for tlsrpt-adm metrics
SELECT NOT EXISTS (SELECT FROM tlsrpt.schema_version WHERE version = 7)
    AS step_due \gset
\if :step_due

-- tlsrpt-adm metrics reads its totals from these tables instead of
-- summing every report ever stored, so that its time follows the number
-- of series, not the length of the history.  Triggers on the report
-- tables add rows of differences, one per key and statement: inserts
-- only, so that concurrent writers never wait for each other, and a
-- transaction that rolls back takes its rows with it.  The total of a
-- key is the sum of its rows; tlsrpt.metrics_fold() makes them one
-- (folded).  Rows of the report tables are inserted and deleted, never
-- updated: an UPDATE of a counted column is not followed.
--
-- Each key has at most one folded row; the rows not folded yet are
-- found through an index of their own.
--
-- The keys are label values, as tlsrpt.metrics_label() makes them:
-- domain from the lower-cased policy_domain, the others as sent.

-- Text from a report as a Prometheus label value: without the characters
-- no log line carries as they are (C0 and C1 controls but LF, DEL, the
-- line and paragraph separators, the bidi controls: utf8_is_control() in
-- src/utf8.c), at most 255 characters.
CREATE FUNCTION tlsrpt.metrics_label(t text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN left(regexp_replace(t, '[\x01-\x09\x0b-\x1f\x7f-\x9f'
    '\u200e\u200f\u2028-\u202e\u2066-\u2069]', '', 'g'), 255);

CREATE TABLE tlsrpt.metrics_report (
	domain text NOT NULL,
	reporter text NOT NULL,
	-- reports with a policy for domain
	reports bigint NOT NULL,
	-- the newest end of a date range, but never after the report was
	-- received (no report can hold off an alert by claiming the future);
	-- deleting that report leaves it as it is
	last_end timestamptz,
	folded boolean NOT NULL DEFAULT false
);
CREATE INDEX metrics_report_key_idx
    ON tlsrpt.metrics_report (domain, reporter);
CREATE INDEX metrics_report_unfolded_idx
    ON tlsrpt.metrics_report (domain, reporter) WHERE NOT folded;
CREATE TABLE tlsrpt.metrics_session (
	domain text NOT NULL,
	reporter text NOT NULL,
	policy_type text NOT NULL,
	policies bigint NOT NULL,
	successful numeric NOT NULL,
	failed numeric NOT NULL,
	folded boolean NOT NULL DEFAULT false
);
CREATE INDEX metrics_session_key_idx
    ON tlsrpt.metrics_session (domain, reporter, policy_type);
CREATE INDEX metrics_session_unfolded_idx
    ON tlsrpt.metrics_session (domain, reporter, policy_type) WHERE NOT folded;
CREATE TABLE tlsrpt.metrics_failure (
	domain text NOT NULL,
	result_type text NOT NULL,
	details bigint NOT NULL,
	sessions numeric NOT NULL,
	folded boolean NOT NULL DEFAULT false
);
CREATE INDEX metrics_failure_key_idx
    ON tlsrpt.metrics_failure (domain, result_type);
CREATE INDEX metrics_failure_unfolded_idx
    ON tlsrpt.metrics_failure (domain, result_type) WHERE NOT folded;

-- Rows added: a policy counts with its report, a failure detail with its
-- policy; they come in the same statement as their report
-- (store_reports) or after it.  The few rows of a statement find theirs
-- through an index, in a nested loop, whatever the statistics of a table
-- that grows say (the plan is kept for the session): store_reports turns
-- nested loops off for its statements, and so for these triggers, and a
-- plan that reads the whole table costs a sweep of 10,000 messages twice
-- its time.
CREATE FUNCTION tlsrpt.metrics_added() RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET enable_nestloop = on
SET enable_seqscan = off
AS $fn$
BEGIN
	IF TG_TABLE_NAME = 'policy' THEN
		WITH j AS (
			SELECT tlsrpt.metrics_label(lower(a.policy_domain))
			    AS domain,
			    tlsrpt.metrics_label(r.organization_name)
			    AS reporter,
			    tlsrpt.metrics_label(a.policy_type) AS policy_type,
			    a.report_ref,
			    least(r.end_datetime, r.received_at) AS last_end,
			    a.total_successful_session_count AS successful,
			    a.total_failure_session_count AS failed
			FROM added a JOIN tlsrpt.report r ON r.id = a.report_ref
		), s AS (
			INSERT INTO tlsrpt.metrics_session (domain, reporter,
			    policy_type, policies, successful, failed)
			SELECT domain, reporter, policy_type, count(*),
			    sum(successful), sum(failed)
			FROM j GROUP BY 1, 2, 3
		)
		INSERT INTO tlsrpt.metrics_report (domain, reporter, reports,
		    last_end)
		SELECT domain, reporter, count(DISTINCT report_ref),
		    max(last_end)
		FROM j GROUP BY 1, 2;
	ELSE
		INSERT INTO tlsrpt.metrics_failure (domain, result_type,
		    details, sessions)
		SELECT tlsrpt.metrics_label(lower(p.policy_domain)),
		    tlsrpt.metrics_label(a.result_type), count(*),
		    sum(a.failed_session_count)
		FROM added a JOIN tlsrpt.policy p ON p.id = a.policy_ref
		GROUP BY 1, 2;
	END IF;
	RETURN NULL;
END
$fn$;

-- Rows deleted: the table a DELETE names takes off what its rows and the
-- rows below them counted.  Its trigger fires before the one that
-- deletes the rows below (report_deleted, policy_deleted: triggers of one
-- event fire in name order), so those are still there; when they go in
-- their turn they have lost their parent, and count for nothing here.
-- Indexes and nested loops, as above.
CREATE FUNCTION tlsrpt.metrics_gone() RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET enable_nestloop = on
SET enable_seqscan = off
AS $fn$
BEGIN
	IF TG_TABLE_NAME = 'report' THEN
		INSERT INTO tlsrpt.metrics_report (domain, reporter, reports)
		SELECT tlsrpt.metrics_label(lower(p.policy_domain)),
		    tlsrpt.metrics_label(g.organization_name),
		    -count(DISTINCT g.id)
		FROM gone g JOIN tlsrpt.policy p ON p.report_ref = g.id
		GROUP BY 1, 2;
		INSERT INTO tlsrpt.metrics_session (domain, reporter,
		    policy_type, policies, successful, failed)
		SELECT tlsrpt.metrics_label(lower(p.policy_domain)),
		    tlsrpt.metrics_label(g.organization_name),
		    tlsrpt.metrics_label(p.policy_type), -count(*),
		    -sum(p.total_successful_session_count),
		    -sum(p.total_failure_session_count)
		FROM gone g JOIN tlsrpt.policy p ON p.report_ref = g.id
		GROUP BY 1, 2, 3;
		INSERT INTO tlsrpt.metrics_failure (domain, result_type,
		    details, sessions)
		SELECT tlsrpt.metrics_label(lower(p.policy_domain)),
		    tlsrpt.metrics_label(d.result_type), -count(*),
		    -sum(d.failed_session_count)
		FROM gone g
		JOIN tlsrpt.failure_detail d ON d.report_ref = g.id
		JOIN tlsrpt.policy p ON p.id = d.policy_ref
		GROUP BY 1, 2;
	ELSIF TG_TABLE_NAME = 'policy' THEN
		-- A report still counts for a domain it has another policy
		-- for.
		INSERT INTO tlsrpt.metrics_report (domain, reporter, reports)
		SELECT x.domain, x.reporter, -count(*)
		FROM (SELECT DISTINCT
		    tlsrpt.metrics_label(lower(g.policy_domain)) AS domain,
		    tlsrpt.metrics_label(r.organization_name) AS reporter,
		    g.report_ref
		    FROM gone g JOIN tlsrpt.report r ON r.id = g.report_ref) x
		WHERE NOT EXISTS (SELECT FROM tlsrpt.policy p
		    WHERE p.report_ref = x.report_ref
		    AND tlsrpt.metrics_label(lower(p.policy_domain)) =
			x.domain)
		GROUP BY 1, 2;
		INSERT INTO tlsrpt.metrics_session (domain, reporter,
		    policy_type, policies, successful, failed)
		SELECT tlsrpt.metrics_label(lower(g.policy_domain)),
		    tlsrpt.metrics_label(r.organization_name),
		    tlsrpt.metrics_label(g.policy_type), -count(*),
		    -sum(g.total_successful_session_count),
		    -sum(g.total_failure_session_count)
		FROM gone g JOIN tlsrpt.report r ON r.id = g.report_ref
		GROUP BY 1, 2, 3;
		INSERT INTO tlsrpt.metrics_failure (domain, result_type,
		    details, sessions)
		SELECT tlsrpt.metrics_label(lower(g.policy_domain)),
		    tlsrpt.metrics_label(d.result_type), -count(*),
		    -sum(d.failed_session_count)
		FROM gone g
		JOIN tlsrpt.report r ON r.id = g.report_ref
		JOIN tlsrpt.failure_detail d ON d.policy_ref = g.id
		GROUP BY 1, 2;
	ELSE
		INSERT INTO tlsrpt.metrics_failure (domain, result_type,
		    details, sessions)
		SELECT tlsrpt.metrics_label(lower(p.policy_domain)),
		    tlsrpt.metrics_label(g.result_type), -count(*),
		    -sum(g.failed_session_count)
		FROM gone g JOIN tlsrpt.policy p ON p.id = g.policy_ref
		GROUP BY 1, 2;
	END IF;
	RETURN NULL;
END
$fn$;

CREATE FUNCTION tlsrpt.metrics_truncated() RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
	IF TG_TABLE_NAME = 'failure_detail' THEN
		TRUNCATE tlsrpt.metrics_failure;
	ELSE
		TRUNCATE tlsrpt.metrics_report, tlsrpt.metrics_session,
		    tlsrpt.metrics_failure;
	END IF;
	RETURN NULL;
END
$fn$;

CREATE TRIGGER policy_added AFTER INSERT ON tlsrpt.policy
    REFERENCING NEW TABLE AS added
    FOR EACH STATEMENT EXECUTE FUNCTION tlsrpt.metrics_added();
CREATE TRIGGER failure_detail_added AFTER INSERT ON tlsrpt.failure_detail
    REFERENCING NEW TABLE AS added
    FOR EACH STATEMENT EXECUTE FUNCTION tlsrpt.metrics_added();
-- "counted_out" sorts before "deleted".
CREATE TRIGGER report_counted_out AFTER DELETE ON tlsrpt.report
    REFERENCING OLD TABLE AS gone
    FOR EACH STATEMENT EXECUTE FUNCTION tlsrpt.metrics_gone();
CREATE TRIGGER policy_counted_out AFTER DELETE ON tlsrpt.policy
    REFERENCING OLD TABLE AS gone
    FOR EACH STATEMENT EXECUTE FUNCTION tlsrpt.metrics_gone();
CREATE TRIGGER failure_detail_counted_out
    AFTER DELETE ON tlsrpt.failure_detail
    REFERENCING OLD TABLE AS gone
    FOR EACH STATEMENT EXECUTE FUNCTION tlsrpt.metrics_gone();
CREATE TRIGGER report_metrics_truncated AFTER TRUNCATE ON tlsrpt.report
    FOR EACH STATEMENT EXECUTE FUNCTION tlsrpt.metrics_truncated();
CREATE TRIGGER policy_metrics_truncated AFTER TRUNCATE ON tlsrpt.policy
    FOR EACH STATEMENT EXECUTE FUNCTION tlsrpt.metrics_truncated();
CREATE TRIGGER failure_detail_metrics_truncated
    AFTER TRUNCATE ON tlsrpt.failure_detail
    FOR EACH STATEMENT EXECUTE FUNCTION tlsrpt.metrics_truncated();

-- Fold the rows of each key that has rows not folded yet into one, and
-- drop the keys nothing counts for any more.  Rows of transactions not
-- committed yet are not seen, and stay as they are.  false when another
-- fold is under way.  Runs with its owner's rights: tlsrpt_reader may
-- call it (sql/roles.sql), as tlsrpt-adm metrics does before reading.
CREATE FUNCTION tlsrpt.metrics_fold() RETURNS boolean
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
	IF NOT pg_try_advisory_xact_lock(8460, 7) THEN
		RETURN false;
	END IF;
	WITH k AS (
		SELECT DISTINCT domain, reporter FROM tlsrpt.metrics_report
		WHERE NOT folded
	), g AS (
		DELETE FROM tlsrpt.metrics_report m USING k
		WHERE m.domain = k.domain AND m.reporter = k.reporter
		RETURNING m.*
	)
	INSERT INTO tlsrpt.metrics_report
	SELECT domain, reporter, sum(reports), max(last_end), true FROM g
	GROUP BY 1, 2 HAVING sum(reports) <> 0;
	WITH k AS (
		SELECT DISTINCT domain, reporter, policy_type
		FROM tlsrpt.metrics_session WHERE NOT folded
	), g AS (
		DELETE FROM tlsrpt.metrics_session m USING k
		WHERE m.domain = k.domain AND m.reporter = k.reporter
		    AND m.policy_type = k.policy_type
		RETURNING m.*
	)
	INSERT INTO tlsrpt.metrics_session
	SELECT domain, reporter, policy_type, sum(policies),
	    sum(successful), sum(failed), true FROM g
	GROUP BY 1, 2, 3 HAVING sum(policies) <> 0;
	WITH k AS (
		SELECT DISTINCT domain, result_type FROM tlsrpt.metrics_failure
		WHERE NOT folded
	), g AS (
		DELETE FROM tlsrpt.metrics_failure m USING k
		WHERE m.domain = k.domain AND m.result_type = k.result_type
		RETURNING m.*
	)
	INSERT INTO tlsrpt.metrics_failure
	SELECT domain, result_type, sum(details), sum(sessions), true FROM g
	GROUP BY 1, 2 HAVING sum(details) <> 0;
	RETURN true;
END
$fn$;

-- What is stored already, folded.
INSERT INTO tlsrpt.metrics_report
SELECT tlsrpt.metrics_label(lower(p.policy_domain)),
    tlsrpt.metrics_label(r.organization_name), count(DISTINCT r.id),
    max(least(r.end_datetime, r.received_at)), true
FROM tlsrpt.policy p JOIN tlsrpt.report r ON r.id = p.report_ref
GROUP BY 1, 2;
INSERT INTO tlsrpt.metrics_session
SELECT tlsrpt.metrics_label(lower(p.policy_domain)),
    tlsrpt.metrics_label(r.organization_name),
    tlsrpt.metrics_label(p.policy_type), count(*),
    sum(p.total_successful_session_count),
    sum(p.total_failure_session_count), true
FROM tlsrpt.policy p JOIN tlsrpt.report r ON r.id = p.report_ref
GROUP BY 1, 2, 3;
INSERT INTO tlsrpt.metrics_failure
SELECT tlsrpt.metrics_label(lower(p.policy_domain)),
    tlsrpt.metrics_label(d.result_type), count(*),
    sum(d.failed_session_count), true
FROM tlsrpt.failure_detail d JOIN tlsrpt.policy p ON p.id = d.policy_ref
GROUP BY 1, 2;

REVOKE ALL ON FUNCTION tlsrpt.metrics_added, tlsrpt.metrics_gone,
    tlsrpt.metrics_truncated, tlsrpt.metrics_fold FROM PUBLIC;

INSERT INTO tlsrpt.schema_version (version) VALUES (7);
\endif

COMMIT;
