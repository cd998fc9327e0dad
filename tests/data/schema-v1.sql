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

INSERT INTO tlsrpt.schema_version (version) VALUES (1)
    ON CONFLICT (version) DO NOTHING;

COMMIT;
