-- tlsrpt-ingest: the database schema, all in schema "tlsrpt".
--
--   psql -v ON_ERROR_STOP=1 -d DBNAME -f schema.sql
--
-- Two parts.  The data come first, as a list of numbered steps, oldest
-- first: tables, columns, indexes and the moving of rows.  Each step runs
-- once: tlsrpt.schema_version records the steps a database has been
-- through, and loading this file runs the ones it has not, in order, in
-- one transaction.  A change to the data is a new step at the end; a
-- step, once released, is never edited.  The code comes after the steps:
-- the functions, triggers and views as this release has them, each
-- written once and replaced on every load.  So the same file creates a
-- new database and brings an old one up to date, and loading it again
-- changes nothing.  A database that has been through a step this file
-- does not know is left alone (an older file would put older code back).
-- tlsrpt-ingest reads the highest version at connect and refuses to run
-- on a database older than it needs (DB_SCHEMA_VERSION in src/db.c).  It
-- needs psql (\if) and PostgreSQL 14 or later.
--
-- Column names are the RFC 8460 field names with "-" turned into "_";
-- views, dashboards and checks rely on them.

\set ON_ERROR_STOP on
-- The last step of this file.
\set last_step 9
BEGIN;
SELECT pg_advisory_xact_lock(8460) AS locked \gset
SET LOCAL client_min_messages = warning;

CREATE SCHEMA IF NOT EXISTS tlsrpt;

CREATE TABLE IF NOT EXISTS tlsrpt.schema_version (
	version integer PRIMARY KEY,
	applied_at timestamptz NOT NULL DEFAULT now()
);

SELECT set_config('tlsrpt.newer', format('the database schema is at '
    'version %s, newer than this schema.sql (%s): nothing done',
    max(version), :last_step), true) AS newer,
    coalesce(max(version), 0) > :last_step AS too_new
FROM tlsrpt.schema_version \gset
\if :too_new
DO $$ BEGIN RAISE EXCEPTION '%', current_setting('tlsrpt.newer'); END $$;
\endif

-- ---- Functions that steps use too

-- Text from a report as a Prometheus label value: without the characters
-- no log line carries as they are (C0 and C1 controls but LF, DEL, the
-- line and paragraph separators, the bidi controls: utf8_is_control() in
-- src/utf8.c), at most 255 characters.
CREATE OR REPLACE FUNCTION tlsrpt.metrics_label(t text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN left(regexp_replace(t, '[\x01-\x09\x0b-\x1f\x7f-\x9f'
    '\u200e\u200f\u2028-\u202e\u2066-\u2069]', '', 'g'), 255);

-- Whether host name p_host matches an MTA-STS mx pattern: equal, or for
-- "*.example.net" one label and then "example.net" (RFC 8461 section
-- 4.1).  Case and a trailing dot do not matter.  (A body in standard SQL
-- is bound to its functions when created: no search_path can change it,
-- and the planner can inline it.)
CREATE OR REPLACE FUNCTION tlsrpt.mx_match(p_host text, p_pattern text)
RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE WHEN left(p_pattern, 2) = '*.' THEN
	strpos(p_host, '.') > 1 AND lower(rtrim(substr(p_host,
	    strpos(p_host, '.') + 1), '.')) = lower(rtrim(substr(p_pattern, 3),
	    '.'))
    ELSE lower(rtrim(p_host, '.')) = lower(rtrim(p_pattern, '.')) END;

-- A count added up, as a bigint: at most the largest one.  Each count of
-- a report may be up to 2^63 - 1, and a forged report's must not make
-- adding up fail, for the reports that come after it or for a reader.
CREATE OR REPLACE FUNCTION tlsrpt.capped(n numeric) RETURNS bigint
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN least(n, 9223372036854775807)::bigint;

-- Count step 9's daily totals again from the report tables, for the
-- policy domains p_domains (compared form), or for every domain when
-- NULL: what step 9 does to the reports stored before it, and
-- tlsrpt.seen_deleted() to the domains whose rows were deleted.
-- (PL/pgSQL: its statements are planned when it first runs, after step 9
-- made the tables.)
CREATE OR REPLACE FUNCTION tlsrpt.daily_count(p_domains text[])
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
	DELETE FROM tlsrpt.daily_policy
	    WHERE p_domains IS NULL OR policy_domain = ANY (p_domains);
	DELETE FROM tlsrpt.daily_failure
	    WHERE p_domains IS NULL OR policy_domain = ANY (p_domains);
	DELETE FROM tlsrpt.policy_reporter
	    WHERE p_domains IS NULL OR policy_domain = ANY (p_domains);
	INSERT INTO tlsrpt.daily_policy
	SELECT (r.start_datetime AT TIME ZONE 'UTC')::date,
	    rtrim(lower(p.policy_domain), '.'), p.policy_type, count(*),
	    tlsrpt.capped(sum(p.total_successful_session_count)),
	    tlsrpt.capped(sum(p.total_failure_session_count)),
	    min(p.id) FILTER (WHERE p.policy_string IS NOT NULL),
	    max(p.id) FILTER (WHERE p.policy_string IS NOT NULL)
	FROM tlsrpt.policy p JOIN tlsrpt.report r ON r.id = p.report_ref
	WHERE p_domains IS NULL
	    OR rtrim(lower(p.policy_domain), '.') = ANY (p_domains)
	GROUP BY 1, 2, 3;
	INSERT INTO tlsrpt.policy_reporter
	SELECT rtrim(lower(p.policy_domain), '.'), p.policy_type,
	    r.organization_name, min((r.start_datetime AT TIME ZONE 'UTC')::date),
	    max((r.start_datetime AT TIME ZONE 'UTC')::date)
	FROM tlsrpt.policy p JOIN tlsrpt.report r ON r.id = p.report_ref
	WHERE p_domains IS NULL
	    OR rtrim(lower(p.policy_domain), '.') = ANY (p_domains)
	GROUP BY 1, 2, 3;
	INSERT INTO tlsrpt.daily_failure
	SELECT (r.start_datetime AT TIME ZONE 'UTC')::date,
	    rtrim(lower(p.policy_domain), '.'), p.policy_type,
	    r.organization_name, d.result_type,
	    coalesce(rtrim(lower(d.receiving_mx_hostname), '.'), ''),
	    coalesce(host(d.receiving_ip), ''),
	    coalesce(host(d.sending_mta_ip), ''),
	    count(*), tlsrpt.capped(sum(d.failed_session_count))
	FROM tlsrpt.failure_detail d
	JOIN tlsrpt.policy p ON p.id = d.policy_ref
	JOIN tlsrpt.report r ON r.id = d.report_ref
	WHERE p_domains IS NULL
	    OR rtrim(lower(p.policy_domain), '.') = ANY (p_domains)
	GROUP BY 1, 2, 3, 4, 5, 6, 7, 8;
END
$fn$;

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

-- The old writers; the one way in, tlsrpt.store_reports(), is code
-- (below).
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

INSERT INTO tlsrpt.schema_version (version) VALUES (4);
\endif

-- ---- Step 5: monitored domains
SELECT NOT EXISTS (SELECT FROM tlsrpt.schema_version WHERE version = 5)
    AS step_due \gset
\if :step_due

-- The domains whose reports are wanted (tlsrpt-adm domains).  While the
-- table is empty every report is stored.  Once it holds a domain, a
-- report is stored only when one of its policies' policy_domain is a
-- monitored domain, or a subdomain of one with include_subdomains (the
-- comparison ignores case and a trailing dot); any other is refused by
-- tlsrpt.store_reports() and its message kept in rejected_message with
-- the reason.  Names are stored as DNS names in A-label form: lower case,
-- no trailing dot, labels of letters, digits and inner hyphens.  Only the
-- schema's owner changes the list: tlsrpt_ingest has no privilege on it
-- (the writer reads it with its owner's rights), tlsrpt_reader may read
-- it (sql/roles.sql).
CREATE TABLE tlsrpt.monitored_domain (
	domain text COLLATE "C" PRIMARY KEY
	    CONSTRAINT monitored_domain_name_check CHECK (
		octet_length(domain) <= 253 AND domain ~
		('^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)*'
		|| '[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$')),
	include_subdomains boolean NOT NULL DEFAULT true,
	added_at timestamptz NOT NULL DEFAULT now()
);

INSERT INTO tlsrpt.schema_version (version) VALUES (5);
\endif

-- ---- Step 6: the operator's views; what tlsrpt-adm check reads
SELECT NOT EXISTS (SELECT FROM tlsrpt.schema_version WHERE version = 6)
    AS step_due \gset
\if :step_due

-- A policy domain is compared lower-case with a trailing dot removed:
-- rtrim(lower(policy_domain), '.'), the expression of this index, which
-- the views, the tables below and tlsrpt-adm check use as written here.
CREATE INDEX IF NOT EXISTS policy_domain_norm_idx
    ON tlsrpt.policy ((rtrim(lower(policy_domain), '.')), report_ref);
-- Reports by the end of their date range: the window of a check.
CREATE INDEX IF NOT EXISTS report_end_datetime_idx
    ON tlsrpt.report (end_datetime);

-- Who reports on each policy domain: one row per policy domain and
-- organization_name, kept up to date by triggers as reports are stored
-- and deleted, so that a check of thousands of domains reads one row
-- per reporter instead of every report.  first_end and last_end are the
-- earliest and latest end_datetime of its reports, reports their number,
-- recent_ends the latest 10 distinct ends in ascending order (its cadence
-- of late, whatever order the reports arrived in).  Read it through
-- tlsrpt.reporter_last_seen.
CREATE TABLE tlsrpt.reporter (
	policy_domain text NOT NULL,
	organization_name text NOT NULL,
	first_end timestamptz NOT NULL,
	last_end timestamptz NOT NULL,
	reports bigint NOT NULL,
	recent_ends timestamptz[] NOT NULL,
	PRIMARY KEY (policy_domain, organization_name)
);

-- The result types each policy domain has had: first_end is the
-- earliest end_datetime of the reports that named it.
CREATE TABLE tlsrpt.result_type_seen (
	policy_domain text NOT NULL,
	result_type text NOT NULL,
	first_end timestamptz NOT NULL,
	PRIMARY KEY (policy_domain, result_type)
);

-- The reports stored before this step.
INSERT INTO tlsrpt.reporter
SELECT x.d, x.o, min(x.e), max(x.e), count(*),
    (SELECT array_agg(y.e ORDER BY y.e) FROM (SELECT DISTINCT z.e
    FROM unnest(array_agg(x.e)) z(e) ORDER BY z.e DESC LIMIT 10) y)
FROM (SELECT DISTINCT rtrim(lower(p.policy_domain), '.') AS d,
    r.organization_name AS o, r.id, r.end_datetime AS e
    FROM tlsrpt.policy p JOIN tlsrpt.report r ON r.id = p.report_ref) x
GROUP BY x.d, x.o;
INSERT INTO tlsrpt.result_type_seen
SELECT rtrim(lower(p.policy_domain), '.'), d.result_type,
    min(r.end_datetime)
FROM tlsrpt.failure_detail d
JOIN tlsrpt.policy p ON p.id = d.policy_ref
JOIN tlsrpt.report r ON r.id = d.report_ref
GROUP BY 1, 2;

INSERT INTO tlsrpt.schema_version (version) VALUES (6);
\endif

-- ---- Step 7: readiness for enforce
SELECT NOT EXISTS (SELECT FROM tlsrpt.schema_version WHERE version = 7)
    AS step_due \gset
\if :step_due

-- Version 7 added tlsrpt.readiness() and its view: code (below).

INSERT INTO tlsrpt.schema_version (version) VALUES (7);
\endif

-- ---- Step 8: running totals for tlsrpt-adm metrics
SELECT NOT EXISTS (SELECT FROM tlsrpt.schema_version WHERE version = 8)
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

INSERT INTO tlsrpt.schema_version (version) VALUES (8);
\endif

-- ---- Step 9: daily totals for readiness and the dashboard
SELECT NOT EXISTS (SELECT FROM tlsrpt.schema_version WHERE version = 9)
    AS step_due \gset
\if :step_due

-- What the reports of each UTC day say (day: the UTC date of a report's
-- start_datetime), added up per policy domain (compared form, step 6),
-- so that tlsrpt.readiness() and the dashboard's panels read a row per
-- day and domain instead of joining every report, policy and failure
-- detail of their range.  Triggers keep them as rows are stored
-- (tlsrpt.daily_added()) and deleted (tlsrpt.seen_deleted()).

-- Per day, domain and policy type: the policies (entries of policies[]),
-- their summaries' session counts, and the lowest and the highest id of
-- those that have a policy-string.
CREATE TABLE tlsrpt.daily_policy (
	day date NOT NULL,
	policy_domain text NOT NULL,
	policy_type text NOT NULL,
	policies bigint NOT NULL,
	successful bigint NOT NULL,
	failed bigint NOT NULL,
	first_string bigint,
	last_string bigint,
	PRIMARY KEY (day, policy_domain, policy_type)
);
CREATE INDEX daily_policy_domain_idx
    ON tlsrpt.daily_policy (policy_domain, day);

-- Per day, domain, policy type, reporter and where the sessions failed:
-- the failure details and their failed sessions.  receiving_mx is the
-- compared form of receiving_mx_hostname; receiving_ip and
-- sending_mta_ip are host() of the addresses; '' for what a detail does
-- not say.  Rows are only ever added (a statement's details, grouped):
-- those with the same key add up.
CREATE TABLE tlsrpt.daily_failure (
	day date NOT NULL,
	policy_domain text NOT NULL,
	policy_type text NOT NULL,
	organization_name text NOT NULL,
	result_type text NOT NULL,
	receiving_mx text NOT NULL,
	receiving_ip text NOT NULL,
	sending_mta_ip text NOT NULL,
	details bigint NOT NULL,
	sessions bigint NOT NULL
);
CREATE INDEX daily_failure_day_idx ON tlsrpt.daily_failure (day);
CREATE INDEX daily_failure_domain_idx
    ON tlsrpt.daily_failure (policy_domain, day);

-- Who reports on each domain and policy type: the first and the last
-- day of its reports.
CREATE TABLE tlsrpt.policy_reporter (
	policy_domain text NOT NULL,
	policy_type text NOT NULL,
	organization_name text NOT NULL,
	first_day date NOT NULL,
	last_day date NOT NULL,
	PRIMARY KEY (policy_domain, policy_type, organization_name)
);

-- The reports stored before this step: every domain counted.
DO $$ BEGIN PERFORM tlsrpt.daily_count(NULL); END $$;

INSERT INTO tlsrpt.schema_version (version) VALUES (9);
\endif

-- ---- The code: functions, triggers and views, replaced on every load
-- Only on a database this file has brought to its last step.
SELECT max(version) = :last_step AS code_due FROM tlsrpt.schema_version \gset
\if :code_due

-- .. Deleting and truncating below report (no foreign keys: step 3)
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

-- .. The writers

-- The one way in.  Every report, from every path (a message on its own,
-- a batch, the resident server), is stored by tlsrpt.store_reports(), and
-- every message that could not be ingested by tlsrpt.store_rejected().
-- Both run with their owner's rights (SECURITY DEFINER, search_path
-- pinned), so a role that may call them needs no privilege on the tables
-- (sql/roles.sql grants EXECUTE and nothing else), and nothing in another
-- schema can stand in for a function or operator they use.
--
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
-- (one element per report) is the report's authenticated column (step 4).
--
-- While any domain is monitored (step 5), a report none of whose policy
-- domains is one is refused: it comes back with refused_state 22T01 (a
-- code of this schema's own, in class 22, data exception: the report's
-- data are refused, the database is fine) and refused_message
-- "no policy domain is monitored (DOMAIN)", DOMAIN being its first
-- policy's.  tlsrpt-ingest keeps the message aside with that line as its
-- reason and goes on, as for any refused report.  The test is part of
-- the one INSERT statement: with the table empty it costs one look at an
-- empty table per call.
CREATE OR REPLACE FUNCTION tlsrpt.store_reports(
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
-- A plan costed past jit_above_cost (a disabled nested loop is costed so)
-- would be compiled on every call: 50 ms for a group that takes 3.
SET jit = off
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
	v_why text[];
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
			), o AS (
				-- When any domain is monitored: the reports
				-- none of whose policy domains is, each with
				-- its first policy domain.  With the table
				-- empty the scan of u is never started.  A
				-- policy domain (lower case, without a
				-- trailing dot) is looked up as it is and as
				-- each of its parents, all by equality: a
				-- join the planner could only do as a nested
				-- loop would be costed as disabled, and that
				-- cost would have the statement JIT-compiled.
				SELECT u.ord, (SELECT x.d FROM unnest(
				    p_pol_report, p_pol_index, p_pol_domain)
				    AS x(ro, i, d) WHERE x.ro = u.ord
				    ORDER BY x.i LIMIT 1) AS first
				FROM u
				WHERE EXISTS (SELECT FROM
				    tlsrpt.monitored_domain)
				AND u.ord NOT IN (SELECT c.ro FROM (
				    SELECT n.ro, n.l,
					generate_subscripts(n.l, 1) AS k
				    FROM (SELECT x.ro, string_to_array(lower(
					(CASE WHEN right(x.d, 1) = '.'
					THEN left(x.d, -1) ELSE x.d END)
					COLLATE "C"), '.') AS l
					FROM unnest(p_pol_report, p_pol_domain)
					AS x(ro, d)) AS n) AS c
				    JOIN tlsrpt.monitored_domain md
				    ON md.domain = array_to_string(c.l[c.k:],
					'.')
				    AND (c.k = 1 OR md.include_subdomains))
			), f AS (
				-- The first of each (organization_name,
				-- report_id) in the group that is not refused
				-- above, an authenticated one before any other.
				SELECT DISTINCT ON (u.org, u.rid) * FROM u
				WHERE u.ord NOT IN (SELECT o.ord FROM o)
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
			    array_agg(coalesce(dc.n, 0) ORDER BY u.ord),
			    array_agg(CASE WHEN o.ord IS NOT NULL THEN
				'no policy domain is monitored ('
				|| coalesce(o.first, 'the report has none')
				|| ')' END ORDER BY u.ord)
			INTO v_ord, v_id, v_np, v_nd, v_why
			FROM u
			LEFT JOIN o ON o.ord = u.ord
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
					JOIN unnest(v_ord, v_id, v_why)
					    AS s(ord, id, why)
					    ON s.ord = x.ord
					WHERE x.auth AND s.id IS NULL
					    AND s.why IS NULL
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
		RETURN QUERY SELECT a.o, a.id, a.np, a.nd,
		    CASE WHEN a.why IS NOT NULL THEN '22T01' END, a.why
		    FROM unnest(v_ord, v_id, v_np, v_nd, v_why)
		    AS a(o, id, np, nd, why)
		    WHERE a.o <> ALL (v_redo);
	END LOOP;
END
$fn$;

-- Keep a message that could not be ingested, once: the same bytes again
-- write nothing.  Returns the new row's id, or NULL for such a duplicate.
CREATE OR REPLACE FUNCTION tlsrpt.store_rejected(
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

-- .. Who reports on each domain, what failed: tlsrpt-adm check (step 6)

-- Add what new policies (or failure details) say to the two tables.
-- Rows are taken in key order, so that two writers lock them in the same
-- order.  The rows a statement wrote are few, and the reports and
-- policies they name are looked up by id: nested loops over indexes only
-- (the writer turns nested loops off, and a table's statistics from
-- before a sweep would have it read whole tables instead).
CREATE OR REPLACE FUNCTION tlsrpt.seen_added() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
SET enable_nestloop = on
SET enable_hashjoin = off
SET enable_mergejoin = off
SET enable_seqscan = off
AS $fn$
BEGIN
	IF TG_TABLE_NAME = 'policy' THEN
		INSERT INTO tlsrpt.reporter AS s
		SELECT x.d, x.o, min(x.e), max(x.e), count(*),
		    (SELECT array_agg(y.e ORDER BY y.e) FROM (SELECT DISTINCT
		    z.e FROM unnest(array_agg(x.e)) z(e)
		    ORDER BY z.e DESC LIMIT 10) y)
		FROM (SELECT DISTINCT rtrim(lower(b.policy_domain), '.') AS d,
		    r.organization_name AS o, r.id, r.end_datetime AS e
		    FROM born b JOIN tlsrpt.report r ON r.id = b.report_ref) x
		GROUP BY x.d, x.o
		ORDER BY x.d, x.o
		ON CONFLICT (policy_domain, organization_name) DO UPDATE SET
		    first_end = least(s.first_end, excluded.first_end),
		    last_end = greatest(s.last_end, excluded.last_end),
		    reports = s.reports + excluded.reports,
		    recent_ends = (SELECT array_agg(y.e ORDER BY y.e)
			FROM (SELECT DISTINCT z.e FROM unnest(s.recent_ends
			|| excluded.recent_ends) z(e)
			ORDER BY z.e DESC LIMIT 10) y);
	ELSE
		-- Only what is new, or earlier than known: a row is
		-- locked only then.
		INSERT INTO tlsrpt.result_type_seen AS s
		SELECT x.d, x.t, x.e FROM (
			SELECT rtrim(lower(p.policy_domain), '.') AS d,
			    b.result_type AS t, min(r.end_datetime) AS e
			FROM born b
			JOIN tlsrpt.policy p ON p.id = b.policy_ref
			JOIN tlsrpt.report r ON r.id = b.report_ref
			GROUP BY 1, 2) x
		WHERE NOT EXISTS (SELECT FROM tlsrpt.result_type_seen k
		    WHERE k.policy_domain = x.d AND k.result_type = x.t
		    AND k.first_end <= x.e)
		ORDER BY x.d, x.t
		ON CONFLICT (policy_domain, result_type) DO UPDATE
		    SET first_end = least(s.first_end, excluded.first_end);
	END IF;
	RETURN NULL;
END
$fn$;

-- Count again, from what is left, the domains whose policies or failure
-- details were deleted (a report deleted, or displaced by the writer):
-- these tables and the daily totals of step 9.
CREATE OR REPLACE FUNCTION tlsrpt.seen_deleted() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
SET enable_nestloop = on
SET enable_hashjoin = off
SET enable_mergejoin = off
SET enable_seqscan = off
AS $fn$
DECLARE
	v_domains text[];
BEGIN
	IF TG_TABLE_NAME = 'policy' THEN
		SELECT array_agg(DISTINCT rtrim(lower(g.policy_domain), '.'))
		INTO v_domains FROM gone g;
	ELSE
		SELECT array_agg(DISTINCT rtrim(lower(p.policy_domain), '.'))
		INTO v_domains
		FROM gone g JOIN tlsrpt.policy p ON p.id = g.policy_ref;
	END IF;
	IF v_domains IS NULL THEN
		RETURN NULL;
	END IF;
	IF TG_TABLE_NAME = 'policy' THEN
		DELETE FROM tlsrpt.reporter
		    WHERE policy_domain = ANY (v_domains);
		INSERT INTO tlsrpt.reporter
		SELECT x.d, x.o, min(x.e), max(x.e), count(*),
		    (SELECT array_agg(y.e ORDER BY y.e) FROM (SELECT DISTINCT
		    z.e FROM unnest(array_agg(x.e)) z(e)
		    ORDER BY z.e DESC LIMIT 10) y)
		FROM (SELECT DISTINCT rtrim(lower(p.policy_domain), '.') AS d,
		    r.organization_name AS o, r.id, r.end_datetime AS e
		    FROM tlsrpt.policy p
		    JOIN tlsrpt.report r ON r.id = p.report_ref
		    WHERE rtrim(lower(p.policy_domain), '.') = ANY (v_domains))
		    x
		GROUP BY x.d, x.o;
	END IF;
	DELETE FROM tlsrpt.result_type_seen
	    WHERE policy_domain = ANY (v_domains);
	INSERT INTO tlsrpt.result_type_seen
	SELECT rtrim(lower(p.policy_domain), '.'), d.result_type,
	    min(r.end_datetime)
	FROM tlsrpt.policy p
	JOIN tlsrpt.failure_detail d ON d.policy_ref = p.id
	JOIN tlsrpt.report r ON r.id = d.report_ref
	WHERE rtrim(lower(p.policy_domain), '.') = ANY (v_domains)
	GROUP BY 1, 2;
	-- And the daily totals (step 9).  (Failure details of a deleted
	-- policy have lost it: they count for nothing, before or after they
	-- go in their turn.)
	PERFORM tlsrpt.daily_count(v_domains);
	RETURN NULL;
END
$fn$;

CREATE OR REPLACE FUNCTION tlsrpt.seen_truncated() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
	IF TG_TABLE_NAME = 'policy' THEN
		TRUNCATE tlsrpt.reporter, tlsrpt.daily_policy,
		    tlsrpt.policy_reporter;
	END IF;
	TRUNCATE tlsrpt.result_type_seen, tlsrpt.daily_failure;
	RETURN NULL;
END
$fn$;

CREATE OR REPLACE TRIGGER policy_seen_added AFTER INSERT ON tlsrpt.policy
    REFERENCING NEW TABLE AS born
    FOR EACH STATEMENT EXECUTE FUNCTION tlsrpt.seen_added();
CREATE OR REPLACE TRIGGER failure_detail_seen_added AFTER INSERT
    ON tlsrpt.failure_detail REFERENCING NEW TABLE AS born
    FOR EACH STATEMENT EXECUTE FUNCTION tlsrpt.seen_added();
CREATE OR REPLACE TRIGGER policy_seen_deleted AFTER DELETE ON tlsrpt.policy
    REFERENCING OLD TABLE AS gone
    FOR EACH STATEMENT EXECUTE FUNCTION tlsrpt.seen_deleted();
CREATE OR REPLACE TRIGGER failure_detail_seen_deleted AFTER DELETE
    ON tlsrpt.failure_detail REFERENCING OLD TABLE AS gone
    FOR EACH STATEMENT EXECUTE FUNCTION tlsrpt.seen_deleted();
CREATE OR REPLACE TRIGGER policy_seen_truncated AFTER TRUNCATE ON tlsrpt.policy
    FOR EACH STATEMENT EXECUTE FUNCTION tlsrpt.seen_truncated();
CREATE OR REPLACE TRIGGER failure_detail_seen_truncated AFTER TRUNCATE
    ON tlsrpt.failure_detail
    FOR EACH STATEMENT EXECUTE FUNCTION tlsrpt.seen_truncated();

-- Sessions per day and policy domain.  day is the UTC date of the
-- report's start_datetime; successful_sessions and failed_sessions are
-- the policies' summaries added up; failure_rate is failed sessions in
-- percent of all (0 to 100, NULL without sessions); reports and reporters
-- count distinct reports and organization_names.
CREATE OR REPLACE VIEW tlsrpt.daily_sessions AS
SELECT (r.start_datetime AT TIME ZONE 'UTC')::date AS day,
    rtrim(lower(p.policy_domain), '.') AS policy_domain,
    sum(p.total_successful_session_count) AS successful_sessions,
    sum(p.total_failure_session_count) AS failed_sessions,
    round(100 * sum(p.total_failure_session_count)
	/ nullif(sum(p.total_successful_session_count)
	+ sum(p.total_failure_session_count), 0), 2) AS failure_rate,
    count(DISTINCT r.id) AS reports,
    count(DISTINCT r.organization_name) AS reporters
FROM tlsrpt.report r
JOIN tlsrpt.policy p ON p.report_ref = r.id
GROUP BY 1, 2;

-- Every failure detail with its report and policy: day (UTC date of the
-- report's start_datetime), policy_domain (compared form),
-- organization_name (the reporter), policy_type, result_type, where it
-- failed (receiving_mx_hostname, receiving_ip), from where
-- (sending_mta_ip), failed_session_count, failure_reason_code, and
-- report_ref (tlsrpt.report.id) to find the report itself.
CREATE OR REPLACE VIEW tlsrpt.failures AS
SELECT (r.start_datetime AT TIME ZONE 'UTC')::date AS day,
    rtrim(lower(p.policy_domain), '.') AS policy_domain,
    r.organization_name, p.policy_type, d.result_type,
    d.receiving_mx_hostname, d.receiving_ip, d.sending_mta_ip,
    d.failed_session_count, d.failure_reason_code, r.id AS report_ref
FROM tlsrpt.failure_detail d
JOIN tlsrpt.policy p ON p.id = d.policy_ref
JOIN tlsrpt.report r ON r.id = d.report_ref;

-- Who reports on each policy domain, and how regularly: per
-- policy_domain (compared form) and organization_name, first_report_end
-- and last_report_end (the earliest and latest end_datetime of its
-- reports), reports (their number), median_gap_days (the median gap, in
-- days, between consecutive distinct ends of its latest 10 reports: its
-- usual interval; NULL with fewer than two) and days_since_last (now()
-- minus last_report_end, in days).  tlsrpt-adm check takes a reporter
-- with at least 3 reports as overdue when days_since_last exceeds
-- greatest(3 * median_gap_days, 2).
CREATE OR REPLACE VIEW tlsrpt.reporter_last_seen AS
SELECT s.policy_domain, s.organization_name,
    s.first_end AS first_report_end, s.last_end AS last_report_end,
    s.reports,
    (SELECT round((percentile_cont(0.5) WITHIN GROUP (ORDER BY g.gap)
	/ 86400)::numeric, 2)
	FROM (SELECT extract(epoch FROM z.e - lag(z.e) OVER (ORDER BY z.e))
	AS gap FROM (SELECT DISTINCT e FROM unnest(s.recent_ends) e) z) g)
	AS median_gap_days,
    round(extract(epoch FROM now() - s.last_end) / 86400, 2)
	AS days_since_last
FROM tlsrpt.reporter s;

-- .. Daily totals (step 9)

-- Add what new policies (or failure details) say to the daily totals.
-- Rows are taken in key order, so that two writers lock them in the same
-- order; what the reports of a statement name is looked up by id, as in
-- tlsrpt.seen_added().
CREATE OR REPLACE FUNCTION tlsrpt.daily_added() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
SET enable_nestloop = on
SET enable_hashjoin = off
SET enable_mergejoin = off
SET enable_seqscan = off
AS $fn$
BEGIN
	IF TG_TABLE_NAME = 'policy' THEN
		INSERT INTO tlsrpt.daily_policy AS s
		SELECT (r.start_datetime AT TIME ZONE 'UTC')::date,
		    rtrim(lower(b.policy_domain), '.'), b.policy_type,
		    count(*),
		    tlsrpt.capped(sum(b.total_successful_session_count)),
		    tlsrpt.capped(sum(b.total_failure_session_count)),
		    min(b.id) FILTER (WHERE b.policy_string IS NOT NULL),
		    max(b.id) FILTER (WHERE b.policy_string IS NOT NULL)
		FROM born b JOIN tlsrpt.report r ON r.id = b.report_ref
		GROUP BY 1, 2, 3
		ORDER BY 1, 2, 3
		ON CONFLICT (day, policy_domain, policy_type) DO UPDATE SET
		    policies = s.policies + excluded.policies,
		    successful = tlsrpt.capped(s.successful::numeric
			+ excluded.successful),
		    failed = tlsrpt.capped(s.failed::numeric
			+ excluded.failed),
		    first_string = least(s.first_string,
			excluded.first_string),
		    last_string = greatest(s.last_string,
			excluded.last_string);
		-- Only a reporter new, or on a day before or after those
		-- known: a row is locked only then.
		INSERT INTO tlsrpt.policy_reporter AS s
		SELECT x.d, x.t, x.o, x.first_day, x.last_day FROM (
			SELECT rtrim(lower(b.policy_domain), '.') AS d,
			    b.policy_type AS t, r.organization_name AS o,
			    min((r.start_datetime AT TIME ZONE 'UTC')::date)
				AS first_day,
			    max((r.start_datetime AT TIME ZONE 'UTC')::date)
				AS last_day
			FROM born b JOIN tlsrpt.report r ON r.id = b.report_ref
			GROUP BY 1, 2, 3) x
		WHERE NOT EXISTS (SELECT FROM tlsrpt.policy_reporter k
		    WHERE k.policy_domain = x.d AND k.policy_type = x.t
		    AND k.organization_name = x.o
		    AND k.first_day <= x.first_day AND k.last_day >= x.last_day)
		ORDER BY 1, 2, 3
		ON CONFLICT (policy_domain, policy_type, organization_name)
		    DO UPDATE SET
		    first_day = least(s.first_day, excluded.first_day),
		    last_day = greatest(s.last_day, excluded.last_day);
	ELSE
		INSERT INTO tlsrpt.daily_failure
		SELECT (r.start_datetime AT TIME ZONE 'UTC')::date,
		    rtrim(lower(p.policy_domain), '.'), p.policy_type,
		    r.organization_name, b.result_type,
		    coalesce(rtrim(lower(b.receiving_mx_hostname), '.'), ''),
		    coalesce(host(b.receiving_ip), ''),
		    coalesce(host(b.sending_mta_ip), ''),
		    count(*), tlsrpt.capped(sum(b.failed_session_count))
		FROM born b
		JOIN tlsrpt.policy p ON p.id = b.policy_ref
		JOIN tlsrpt.report r ON r.id = b.report_ref
		GROUP BY 1, 2, 3, 4, 5, 6, 7, 8;
	END IF;
	RETURN NULL;
END
$fn$;

CREATE OR REPLACE TRIGGER policy_daily_added AFTER INSERT ON tlsrpt.policy
    REFERENCING NEW TABLE AS born
    FOR EACH STATEMENT EXECUTE FUNCTION tlsrpt.daily_added();
CREATE OR REPLACE TRIGGER failure_detail_daily_added AFTER INSERT
    ON tlsrpt.failure_detail REFERENCING NEW TABLE AS born
    FOR EACH STATEMENT EXECUTE FUNCTION tlsrpt.daily_added();
REVOKE ALL ON FUNCTION tlsrpt.daily_count, tlsrpt.daily_added FROM PUBLIC;

-- .. Readiness for enforce: tlsrpt-adm readiness

-- Whether enforce turns a failure of result type p_result_type under a
-- policy of type p_type (sts or tlsa) into mail not delivered: for sts,
-- sts-*, certificate-* and starttls-not-supported; for tlsa,
-- tlsa-invalid, dnssec-invalid, dane-required, validation-failure and
-- certificate-*.
CREATE OR REPLACE FUNCTION tlsrpt.bounces(p_type text, p_result_type text)
RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE WHEN p_type = 'sts' THEN
	p_result_type LIKE 'sts-%' OR p_result_type LIKE 'certificate-%'
	OR p_result_type = 'starttls-not-supported'
    ELSE p_result_type IN ('tlsa-invalid', 'dnssec-invalid',
	'dane-required', 'validation-failure')
	OR p_result_type LIKE 'certificate-%' END;

-- Is each domain ready to switch its MTA-STS policy to enforce?  One row
-- per policy domain (lower case, without a trailing dot) and policy type,
-- sts or tlsa, over the reports that began today or in the p_days days
-- before (UTC); all domains, or those named in p_domains (lower case):
--   mode            the mode in the policy-string of the newest report
--                   that has one (NULL for tlsa); mode_changed: the
--                   oldest such report of the window had another
--   days            UTC days on which reports began; first_day, last_day
--   reporters       organizations; reports: policy entries
--   sessions, failed_sessions  the summaries' totals
--   bounced_sessions  failures that enforce turns into mail not
--                   delivered (tlsrpt.bounces())
--   bounces, other_failures  those failures and the others, each
--                   'RESULT-TYPE SESSIONS on MX', most sessions first
--   mx_patterns     the mx lines of the newest policy (sts)
--   mx_outside      MX host names with failures that no mx line matches
--   verdict         enforced: the mode is enforce, or tlsa (DANE has no
--                   testing mode); not-ready: mode testing with bounced
--                   sessions or MX hosts outside the policy; unknown: mode
--                   none, no mode, or fewer than p_min_days days or
--                   p_min_reporters reporters; else ready
--   reason          why, in one line
CREATE OR REPLACE FUNCTION tlsrpt.readiness(p_days int DEFAULT 30,
    p_min_days int DEFAULT 7, p_min_reporters int DEFAULT 2,
    p_domains text[] DEFAULT NULL)
RETURNS TABLE (policy_domain text, policy_type text, verdict text,
    reason text, mode text, mode_changed boolean, days int, first_day date,
    last_day date, reporters int, reports bigint, sessions bigint,
    failed_sessions bigint, bounced_sessions bigint, bounces text[],
    other_failures text[], mx_patterns text[], mx_outside text[])
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
-- JIT compiling costs more than it saves here; a hash of every domain
-- is faster than sorting the days.
SET jit = off
SET work_mem = '64MB'
-- PL/pgSQL, so that the query is planned for the values it is given: a
-- pass over the window's days for every domain, their index for a few.
AS $fn$
#variable_conflict use_column
DECLARE
	-- The first day of the window, computed once rather than per row.
	v_since date := (now() AT TIME ZONE 'UTC')::date - p_days;
BEGIN
	RETURN QUERY
	WITH cover AS (
		-- Per domain and type, from the daily totals (step 9): the
		-- oldest and the newest policy that has a policy-string,
		-- the newer the later its day, then the higher its id, as
		-- days since 2000 * 2^40 + id.
		SELECT d.policy_domain AS dom, d.policy_type AS typ,
		    count(*) AS days, min(d.day) AS first_day,
		    max(d.day) AS last_day, sum(d.policies) AS reports,
		    sum(d.successful) + sum(d.failed) AS sessions,
		    sum(d.failed) AS failed,
		    min(((d.day - date '2000-01-01')::bigint << 40)
			+ d.first_string) & ((1::bigint << 40) - 1) AS oldest,
		    max(((d.day - date '2000-01-01')::bigint << 40)
			+ d.last_string) & ((1::bigint << 40) - 1) AS newest
		FROM tlsrpt.daily_policy d
		WHERE d.day >= v_since
		    AND d.policy_type IN ('sts', 'tlsa')
		    AND (p_domains IS NULL OR d.policy_domain = ANY (p_domains))
		GROUP BY 1, 2
	), rep AS (
		SELECT k.policy_domain AS dom, k.policy_type AS typ,
		    count(*) AS reporters
		FROM tlsrpt.policy_reporter k
		WHERE k.last_day >= v_since
		    AND k.policy_type IN ('sts', 'tlsa')
		    AND (p_domains IS NULL OR k.policy_domain = ANY (p_domains))
		GROUP BY 1, 2
	), latest AS (
		-- The newest policy-string's mode and mx lines, and the
		-- oldest one's mode (RFC 8461 section 3.2: "key: value"
		-- lines; keys and values taken without case).
		SELECT cover.dom,
		    lower(substring(array_to_string(pn.policy_string, E'\n')
			FROM '(?in)^[ \t]*mode[ \t]*:[ \t]*([^ \t\r]*)'))
			AS mode,
		    ARRAY(SELECT rtrim(lower(m[1]), '.')
			FROM regexp_matches(array_to_string(pn.policy_string,
			E'\n'), '(?in)^[ \t]*mx[ \t]*:[ \t]*([^ \t\r]+)',
			'g') AS m) AS mx,
		    lower(substring(array_to_string(po.policy_string, E'\n')
			FROM '(?in)^[ \t]*mode[ \t]*:[ \t]*([^ \t\r]*)'))
			AS mode_then
		FROM cover
		JOIN tlsrpt.policy pn ON pn.id = cover.newest
		JOIN tlsrpt.policy po ON po.id = cover.oldest
		WHERE cover.typ = 'sts'
	), fail AS (
		-- Where the sessions failed: the receiving MX, else its IP.
		SELECT f.policy_domain AS dom, f.policy_type AS typ,
		    f.result_type AS rt,
		    coalesce(nullif(f.receiving_mx, ''),
			nullif(f.receiving_ip, '')) AS mx,
		    f.receiving_mx <> '' AS named,
		    sum(f.sessions) AS n
		FROM tlsrpt.daily_failure f
		WHERE f.day >= v_since
		    AND f.policy_type IN ('sts', 'tlsa')
		    AND (p_domains IS NULL OR f.policy_domain = ANY (p_domains))
		GROUP BY 1, 2, 3, 4, 5
	), failc AS (
		SELECT fail.*,
		    tlsrpt.bounces(fail.typ, fail.rt) AS bounce,
		    fail.rt || ' ' || fail.n ||
		    coalesce(' on ' || fail.mx, '') AS txt
		FROM fail
	), fsum AS (
		SELECT failc.dom, failc.typ,
		    sum(failc.n) FILTER (WHERE failc.bounce) AS bounced,
		    array_agg(failc.txt ORDER BY failc.n DESC, failc.txt)
			FILTER (WHERE failc.bounce) AS bounces,
		    array_agg(failc.txt ORDER BY failc.n DESC, failc.txt)
			FILTER (WHERE NOT failc.bounce) AS others
		FROM failc GROUP BY failc.dom, failc.typ
	), outside AS (
		SELECT fail.dom, array_agg(DISTINCT fail.mx) AS hosts
		FROM fail JOIN latest ON latest.dom = fail.dom
		WHERE fail.typ = 'sts' AND fail.named
		    AND latest.mx IS NOT NULL
		    AND NOT EXISTS (SELECT FROM unnest(latest.mx) AS m(pat)
			WHERE tlsrpt.mx_match(fail.mx, m.pat))
		GROUP BY fail.dom
	), v AS (
		SELECT c.dom, c.typ, c.days, c.first_day, c.last_day,
		    coalesce(k.reporters, 0) AS reporters, c.reports,
		    c.sessions, c.failed,
		    CASE WHEN c.typ = 'sts' THEN l.mode END AS mode,
		    CASE WHEN c.typ = 'sts' THEN
			l.mode IS DISTINCT FROM l.mode_then END AS changed,
		    coalesce(f.bounced, 0) AS bounced,
		    coalesce(f.bounces, '{}') AS bounces,
		    coalesce(f.others, '{}') AS others,
		    CASE WHEN c.typ = 'sts' THEN l.mx END AS mx,
		    coalesce(o.hosts, '{}') AS outside
		FROM cover c
		LEFT JOIN rep k ON k.dom = c.dom AND k.typ = c.typ
		LEFT JOIN latest l ON l.dom = c.dom AND c.typ = 'sts'
		LEFT JOIN fsum f ON f.dom = c.dom AND f.typ = c.typ
		LEFT JOIN outside o ON o.dom = c.dom AND c.typ = 'sts'
	), w AS (
		SELECT v.*,
		    CASE WHEN v.typ = 'tlsa' OR v.mode = 'enforce' THEN
			'enforced'
		    WHEN v.mode IS DISTINCT FROM 'testing' THEN 'unknown'
		    WHEN v.bounced > 0 OR cardinality(v.outside) > 0 THEN
			'not-ready'
		    WHEN v.days < p_min_days OR v.reporters < p_min_reporters
			THEN 'unknown'
		    ELSE 'ready' END AS verdict,
		    -- The failures, the first three of them.
		    CASE WHEN v.bounced > 0 THEN
			format('%s of %s sessions: %s%s',
			v.bounced, v.sessions,
			array_to_string(v.bounces[1:3], ', '),
			CASE WHEN cardinality(v.bounces) > 3 THEN
			    format(' and %s more', cardinality(v.bounces) - 3)
			    END) END AS blist,
		    CASE WHEN cardinality(v.outside) > 0 THEN
			format('failing MX not in the policy: %s',
			array_to_string(v.outside, ', ')) END AS olist,
		    format('%s day%s, %s reporter%s, %s sessions', v.days,
			CASE WHEN v.days = 1 THEN '' ELSE 's' END, v.reporters,
			CASE WHEN v.reporters = 1 THEN '' ELSE 's' END,
			v.sessions) AS summary
		FROM v
	)
	SELECT w.dom, w.typ, w.verdict,
	    CASE w.verdict
	    WHEN 'enforced' THEN coalesce(nullif(concat_ws('; ',
		'failed ' || w.blist, w.olist), ''),
		w.summary || ', no failures')
	    WHEN 'not-ready' THEN concat_ws('; ', 'would bounce ' || w.blist,
		w.olist)
	    WHEN 'ready' THEN w.summary || ', none would bounce'
	    ELSE CASE
		WHEN w.mode IS NULL THEN
		    'no policy mode in the reports'' policy-string'
		WHEN w.mode = 'none' THEN
		    'policy mode none: senders ignore the policy'
		WHEN w.mode <> 'testing' THEN
		    format('unknown policy mode %s', w.mode)
		ELSE concat_ws('; ',
		    CASE WHEN w.days < p_min_days THEN
			format('only %s day%s of reports, need %s', w.days,
			CASE WHEN w.days = 1 THEN '' ELSE 's' END,
			p_min_days) END,
		    CASE WHEN w.reporters < p_min_reporters THEN
			format('only %s reporter%s, need %s', w.reporters,
			CASE WHEN w.reporters = 1 THEN '' ELSE 's' END,
			p_min_reporters) END) END
	    END,
	    w.mode, w.changed, w.days::int, w.first_day, w.last_day,
	    w.reporters::int, w.reports::bigint, tlsrpt.capped(w.sessions),
	    tlsrpt.capped(w.failed), tlsrpt.capped(w.bounced), w.bounces,
	    w.others, w.mx, w.outside
	FROM w
	ORDER BY w.dom, w.typ;
END
$fn$;

-- The same over the last 30 days, with at least 7 days and 2 reporters
-- for ready.
CREATE OR REPLACE VIEW tlsrpt.readiness AS
SELECT * FROM tlsrpt.readiness(30, 7, 2);

-- The policy domains (compared form, sts or tlsa) with reports that began
-- today or in the p_days days before (UTC), worst first: the most
-- sessions that enforce would bounce (tlsrpt.bounces()), then the most
-- failed sessions, then by name; at most p_limit of them.  What the
-- dashboard's readiness panel shows with All: the rows of every domain
-- cost more than a panel may take, and the worst are the ones to read.
CREATE OR REPLACE FUNCTION tlsrpt.readiness_worst(p_days int, p_limit int)
RETURNS text[]
LANGUAGE sql STABLE PARALLEL SAFE
RETURN ARRAY(
	SELECT d.dom
	FROM (SELECT DISTINCT k.policy_domain AS dom
	    FROM tlsrpt.policy_reporter k
	    WHERE k.last_day >= (now() AT TIME ZONE 'UTC')::date - p_days
		AND k.policy_type IN ('sts', 'tlsa')) d
	LEFT JOIN (SELECT f.policy_domain AS dom,
		sum(f.sessions) FILTER (WHERE tlsrpt.bounces(f.policy_type,
		    f.result_type)) AS bounced,
		sum(f.sessions) AS failed
	    FROM tlsrpt.daily_failure f
	    WHERE f.day >= (now() AT TIME ZONE 'UTC')::date - p_days
		AND f.policy_type IN ('sts', 'tlsa')
	    GROUP BY 1) b ON b.dom = d.dom
	ORDER BY coalesce(b.bounced, 0) DESC, coalesce(b.failed, 0) DESC,
	    d.dom
	LIMIT p_limit);

REVOKE ALL ON FUNCTION tlsrpt.capped, tlsrpt.mx_match, tlsrpt.bounces,
    tlsrpt.readiness, tlsrpt.readiness_worst FROM PUBLIC;

-- .. Running totals: tlsrpt-adm metrics (step 8)

-- Rows added: a policy counts with its report, a failure detail with its
-- policy; they come in the same statement as their report
-- (store_reports) or after it.  The few rows of a statement find theirs
-- through an index, in a nested loop, whatever the statistics of a table
-- that grows say (the plan is kept for the session): store_reports turns
-- nested loops off for its statements, and so for these triggers, and a
-- plan that reads the whole table costs a sweep of 10,000 messages twice
-- its time.
CREATE OR REPLACE FUNCTION tlsrpt.metrics_added() RETURNS trigger
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
CREATE OR REPLACE FUNCTION tlsrpt.metrics_gone() RETURNS trigger
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

CREATE OR REPLACE FUNCTION tlsrpt.metrics_truncated() RETURNS trigger
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

CREATE OR REPLACE TRIGGER policy_added AFTER INSERT ON tlsrpt.policy
    REFERENCING NEW TABLE AS added
    FOR EACH STATEMENT EXECUTE FUNCTION tlsrpt.metrics_added();
CREATE OR REPLACE TRIGGER failure_detail_added AFTER INSERT ON tlsrpt.failure_detail
    REFERENCING NEW TABLE AS added
    FOR EACH STATEMENT EXECUTE FUNCTION tlsrpt.metrics_added();
-- "counted_out" sorts before "deleted".
CREATE OR REPLACE TRIGGER report_counted_out AFTER DELETE ON tlsrpt.report
    REFERENCING OLD TABLE AS gone
    FOR EACH STATEMENT EXECUTE FUNCTION tlsrpt.metrics_gone();
CREATE OR REPLACE TRIGGER policy_counted_out AFTER DELETE ON tlsrpt.policy
    REFERENCING OLD TABLE AS gone
    FOR EACH STATEMENT EXECUTE FUNCTION tlsrpt.metrics_gone();
CREATE OR REPLACE TRIGGER failure_detail_counted_out
    AFTER DELETE ON tlsrpt.failure_detail
    REFERENCING OLD TABLE AS gone
    FOR EACH STATEMENT EXECUTE FUNCTION tlsrpt.metrics_gone();
CREATE OR REPLACE TRIGGER report_metrics_truncated AFTER TRUNCATE ON tlsrpt.report
    FOR EACH STATEMENT EXECUTE FUNCTION tlsrpt.metrics_truncated();
CREATE OR REPLACE TRIGGER policy_metrics_truncated AFTER TRUNCATE ON tlsrpt.policy
    FOR EACH STATEMENT EXECUTE FUNCTION tlsrpt.metrics_truncated();
CREATE OR REPLACE TRIGGER failure_detail_metrics_truncated
    AFTER TRUNCATE ON tlsrpt.failure_detail
    FOR EACH STATEMENT EXECUTE FUNCTION tlsrpt.metrics_truncated();

-- Fold the rows of each key that has rows not folded yet into one, and
-- drop the keys nothing counts for any more.  Rows of transactions not
-- committed yet are not seen, and stay as they are.  false when another
-- fold is under way.  Runs with its owner's rights: tlsrpt_reader may
-- call it (sql/roles.sql), as tlsrpt-adm metrics does before reading.
CREATE OR REPLACE FUNCTION tlsrpt.metrics_fold() RETURNS boolean
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

REVOKE ALL ON FUNCTION tlsrpt.metrics_added, tlsrpt.metrics_gone,
    tlsrpt.metrics_truncated, tlsrpt.metrics_fold FROM PUBLIC;
\endif

COMMIT;
