-- tlsrpt-ingest: least-privilege roles.  Load after schema.sql, as the
-- owner of schema tlsrpt (or a superuser).  Loading it again changes
-- nothing.
--
--   tlsrpt_ingest  what the ingester needs and nothing more: EXECUTE on
--                  the two writers, tlsrpt.store_reports() and
--                  tlsrpt.store_rejected(), and reading the schema
--                  version.  No privilege on the report tables at all:
--                  the writers are the only way in.
--   tlsrpt_reader  read-only, for dashboards, views and alert checks.
--
-- Give them to login roles, e.g. for the Postfix pipe user "tlsrpt"
-- connecting over the Unix socket with peer authentication:
--
--   CREATE ROLE tlsrpt LOGIN IN ROLE tlsrpt_ingest;
--   CREATE ROLE grafana LOGIN PASSWORD '...' IN ROLE tlsrpt_reader;

\set ON_ERROR_STOP on
BEGIN;
SELECT pg_advisory_xact_lock(8460) AS locked \gset

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
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA tlsrpt FROM PUBLIC;
GRANT USAGE ON SCHEMA tlsrpt TO tlsrpt_ingest, tlsrpt_reader;
-- Nothing the project's roles create can stand in for a function the
-- writers or dashboards use.  (On PostgreSQL 14 PUBLIC itself may still
-- create in public: REVOKE CREATE ON SCHEMA public FROM PUBLIC is the
-- operator's call, and the default from 15 on.)
REVOKE CREATE ON SCHEMA public FROM tlsrpt_ingest, tlsrpt_reader;

REVOKE ALL ON ALL TABLES IN SCHEMA tlsrpt FROM tlsrpt_ingest;
GRANT SELECT ON tlsrpt.schema_version TO tlsrpt_ingest;
GRANT EXECUTE ON FUNCTION tlsrpt.store_reports, tlsrpt.store_rejected
    TO tlsrpt_ingest;

REVOKE ALL ON ALL TABLES IN SCHEMA tlsrpt FROM tlsrpt_reader;
GRANT SELECT ON ALL TABLES IN SCHEMA tlsrpt TO tlsrpt_reader;
-- What the reader may call: the readiness view's functions (with the
-- reader's rights), the dashboard's pick of its worst domains, and the
-- fold of tlsrpt-adm metrics' running totals (which changes no total).
-- A database not yet upgraded (schema steps 7 and 8) has none of them.
DO $$
BEGIN
	IF to_regproc('tlsrpt.readiness') IS NOT NULL THEN
		GRANT EXECUTE ON FUNCTION tlsrpt.readiness, tlsrpt.mx_match
		    TO tlsrpt_reader;
	END IF;
	IF to_regproc('tlsrpt.readiness_worst') IS NOT NULL THEN
		GRANT EXECUTE ON FUNCTION tlsrpt.readiness_worst,
		    tlsrpt.bounces TO tlsrpt_reader;
	END IF;
	IF to_regproc('tlsrpt.capped') IS NOT NULL THEN
		GRANT EXECUTE ON FUNCTION tlsrpt.capped TO tlsrpt_reader;
	END IF;
	IF to_regproc('tlsrpt.metrics_fold') IS NOT NULL THEN
		GRANT EXECUTE ON FUNCTION tlsrpt.metrics_fold TO tlsrpt_reader;
	END IF;
END
$$;

COMMIT;
