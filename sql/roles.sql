-- tlsrpt-ingest: least-privilege roles.  Load after schema.sql, as the
-- owner of schema tlsrpt (or a superuser).  Idempotent.
--
--   tlsrpt_ingest  what the ingester needs and nothing more: INSERT into
--                  the four report tables, and SELECT on the columns its
--                  statements return.  No UPDATE, DELETE, TRUNCATE or DDL.
--   tlsrpt_reader  read-only, for dashboards, views and alert checks.
--
-- Give them to login roles, e.g. for the Postfix pipe user "tlsrpt"
-- connecting over the Unix socket with peer authentication:
--
--   CREATE ROLE tlsrpt LOGIN IN ROLE tlsrpt_ingest;
--   CREATE ROLE grafana LOGIN PASSWORD '...' IN ROLE tlsrpt_reader;

BEGIN;
SELECT pg_advisory_xact_lock(8460);

DO $$
BEGIN
	IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'tlsrpt_ingest') THEN
		CREATE ROLE tlsrpt_ingest NOLOGIN;
	END IF;
	IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'tlsrpt_reader') THEN
		CREATE ROLE tlsrpt_reader NOLOGIN;
	END IF;
END
$$;

REVOKE ALL ON SCHEMA tlsrpt FROM PUBLIC;
REVOKE ALL ON ALL TABLES IN SCHEMA tlsrpt FROM PUBLIC;
GRANT USAGE ON SCHEMA tlsrpt TO tlsrpt_ingest, tlsrpt_reader;

REVOKE ALL ON ALL TABLES IN SCHEMA tlsrpt FROM tlsrpt_ingest;
GRANT INSERT ON tlsrpt.report, tlsrpt.policy, tlsrpt.failure_detail,
    tlsrpt.rejected_message TO tlsrpt_ingest;
-- RETURNING and ON CONFLICT read these columns, and nothing else.
GRANT SELECT (id, organization_name, report_id) ON tlsrpt.report
    TO tlsrpt_ingest;
GRANT SELECT (id, policy_index, report_ref) ON tlsrpt.policy
    TO tlsrpt_ingest;
GRANT SELECT (report_ref) ON tlsrpt.failure_detail TO tlsrpt_ingest;
GRANT SELECT (id, raw_sha256) ON tlsrpt.rejected_message TO tlsrpt_ingest;

REVOKE ALL ON FUNCTION tlsrpt.store_report, tlsrpt.ingest_report,
    tlsrpt.ingest_reports FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tlsrpt.store_report, tlsrpt.ingest_report,
    tlsrpt.ingest_reports TO tlsrpt_ingest;

REVOKE ALL ON ALL TABLES IN SCHEMA tlsrpt FROM tlsrpt_reader;
GRANT SELECT ON ALL TABLES IN SCHEMA tlsrpt TO tlsrpt_reader;

COMMIT;
