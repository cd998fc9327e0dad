-- rollups.sql - turn the insert triggers that keep the tables of
-- tlsrpt-adm check and metrics, readiness and the dashboard (schema steps
-- 6, 8 and 9) on or off, to measure what they cost a sweep:
--
--   psql -v state=ENABLE|DISABLE -f rollups.sql
ALTER TABLE tlsrpt.policy :state TRIGGER policy_seen_added;
ALTER TABLE tlsrpt.failure_detail :state TRIGGER failure_detail_seen_added;
ALTER TABLE tlsrpt.policy :state TRIGGER policy_added;
ALTER TABLE tlsrpt.failure_detail :state TRIGGER failure_detail_added;
ALTER TABLE tlsrpt.policy :state TRIGGER policy_daily_added;
ALTER TABLE tlsrpt.failure_detail :state TRIGGER failure_detail_daily_added;
