-- rollups.sql - turn on or off what storing a report does only for those
-- who read the reports: the insert triggers that keep the tables of
-- tlsrpt-adm check and metrics, readiness and the dashboard (schema steps
-- 6, 8 and 9), and, when off, step 6's two indexes (a fresh database has
-- them), to measure what they cost a sweep:
--
--   psql -v state=ENABLE|DISABLE -f rollups.sql
ALTER TABLE tlsrpt.policy :state TRIGGER policy_seen_added;
ALTER TABLE tlsrpt.failure_detail :state TRIGGER failure_detail_seen_added;
ALTER TABLE tlsrpt.policy :state TRIGGER policy_added;
ALTER TABLE tlsrpt.failure_detail :state TRIGGER failure_detail_added;
ALTER TABLE tlsrpt.policy :state TRIGGER policy_daily_added;
ALTER TABLE tlsrpt.failure_detail :state TRIGGER failure_detail_daily_added;
SELECT :'state' = 'DISABLE' AS rollups_off \gset
\if :rollups_off
DROP INDEX tlsrpt.policy_domain_norm_idx;
DROP INDEX tlsrpt.report_end_datetime_idx;
\endif
