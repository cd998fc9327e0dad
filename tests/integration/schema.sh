#!/bin/sh
# schema.sh - sql/schema.sql as numbered steps: a new database, loading it
# again, upgrades from the first release's schema (tests/data/schema-v1.sql)
# and from version 3 (tests/data/schema-v3.sql) with every row kept, the
# one writer as the only way in, and the program refusing a database
# older than it needs.

. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pg.sh"

C=$TI_TEST_DATA/corpus
MSG=$C/mjl-__mox/example.eml
pg_start
trap 'pg_cleanup' EXIT

load() {
	"$PG_BINDIR/psql" -q -X -v ON_ERROR_STOP=1 -d "$1" -f "$2" >/dev/null 2>&1
}
versions() {
	pg_q "$1" "SELECT string_agg(version::text, ',' ORDER BY version) FROM tlsrpt.schema_version"
}
# Every step schema.sql has, from its own lines.
ALL_STEPS=$(sed -n 's/^INSERT INTO tlsrpt.schema_version (version) VALUES (\([0-9]*\));$/\1/p' \
    "$top_srcdir/sql/schema.sql" | paste -sd, -)
functions() {
	pg_q "$1" "SELECT string_agg(proname, ',' ORDER BY proname) FROM pg_proc WHERE pronamespace = 'tlsrpt'::regnamespace"
}
# Every row of the four tables, as one digest each: every column that
# was there before (a step may add one).
rows_digest() {
	pg_q "$1" "SELECT (SELECT md5(coalesce(string_agg((to_jsonb(t) - 'authenticated')::text, '|' ORDER BY id), '')) FROM tlsrpt.report t)
	    || ' ' || (SELECT md5(coalesce(string_agg(t::text, '|' ORDER BY id), '')) FROM tlsrpt.policy t)
	    || ' ' || (SELECT md5(coalesce(string_agg(t::text, '|' ORDER BY id), '')) FROM tlsrpt.failure_detail t)
	    || ' ' || (SELECT md5(coalesce(string_agg(t::text, '|' ORDER BY id), '')) FROM tlsrpt.rejected_message t)"
}
counts() {
	pg_q "$1" "SELECT (SELECT count(*) FROM tlsrpt.report) || '/' ||
	    (SELECT count(*) FROM tlsrpt.policy) || '/' ||
	    (SELECT count(*) FROM tlsrpt.failure_detail) || '/' ||
	    (SELECT count(*) FROM tlsrpt.rejected_message)"
}
# Rows as the first release wrote them, with its own plain INSERTs.
v1_rows() {
	pg_q "$1" "WITH r AS (INSERT INTO tlsrpt.report (organization_name,
	    report_id, contact_info, start_datetime, end_datetime, source,
	    message_id, message_from, message_date, message_subject,
	    tls_report_domain, tls_report_submitter, dkim_result, dkim_domain,
	    dkim_authserv_id, submitter_match, report_sha256, report)
	    VALUES ('Old Org', 'old-$2', 'tls@old.example', '2019-04-01Z',
	    '2019-04-02Z', 'mail', '<m@old.example>', 'r@old.example',
	    '2019-04-02 01:00Z', 'Report', 'example.com', 'old.example', 'pass',
	    'old.example', 'mx.example.com', true, sha256('x'),
	    '{\"report-id\": \"old-$2\"}') RETURNING id),
	    p AS (INSERT INTO tlsrpt.policy (report_ref, policy_index,
	    policy_type, policy_domain, policy_string, mx_host,
	    total_successful_session_count, total_failure_session_count)
	    SELECT r.id, i, 'sts', 'example.com', '{\"version: STSv1\"}',
	    '{mx.example.com}', 10, 3 FROM r, generate_series(0, 1) i
	    RETURNING id, report_ref)
	    INSERT INTO tlsrpt.failure_detail (report_ref, policy_ref,
	    detail_index, result_type, sending_mta_ip, receiving_mx_hostname,
	    failed_session_count, failure_reason_code)
	    SELECT p.report_ref, p.id, 0, 'certificate-expired', '192.0.2.1',
	    'mx.example.com', 3, 'X509_V_ERR_CERT_HAS_EXPIRED' FROM p;
	    INSERT INTO tlsrpt.rejected_message (source, reason, raw_sha256,
	    raw_size, raw) VALUES ('mail', 'not a report $2',
	    sha256('raw $2'), 5, 'raw $2')" >/dev/null
}

# The schema's functions: the writers, the delete triggers', step 6's
# bookkeeping, step 7's readiness (and the dashboard's pick of its worst
# domains), step 8's running totals and step 9's daily totals.
FUNCS=bounces,capped,daily_added,daily_count,deleted,metrics_added
FUNCS=$FUNCS,metrics_fold,metrics_gone,metrics_label,metrics_truncated
FUNCS=$FUNCS,mx_match,readiness,readiness_worst,seen_added,seen_deleted
FUNCS=$FUNCS,seen_truncated,store_rejected,store_reports,truncated

# ---- A new database: every step, once, then the code.
pg_newdb fresh || exit 99
check "new: every step recorded" "$(versions fresh)" "$ALL_STEPS"
check "new: the writers and the delete triggers' functions" "$(functions fresh)" \
    "$FUNCS"
check "new: no foreign keys" "$(pg_q fresh "SELECT count(*) FROM pg_constraint
    WHERE connamespace = 'tlsrpt'::regnamespace AND contype = 'f'")" 0
check "new: the writers run with their owner's rights" "$(pg_q fresh "SELECT string_agg(proname || '=' || prosecdef, ',' ORDER BY proname)
    FROM pg_proc WHERE proname LIKE 'store_re%'")" "store_rejected=true,store_reports=true"
pipe_bin "$MSG" -d dbname=fresh
check "new: stores" "$RC $(counts fresh)" "0 1/1/0/0"
before=$(rows_digest fresh)
load fresh "$top_srcdir/sql/schema.sql"
check "new: loading again works" "$?" 0
check "new: loading again runs no step" "$(versions fresh)" "$ALL_STEPS"
check "new: loading again keeps every row" "$(rows_digest fresh)" "$before"

# ---- A database a step ahead of the file: left alone, with one line.
pg_q fresh "INSERT INTO tlsrpt.schema_version (version) VALUES (999);
    ALTER FUNCTION tlsrpt.mx_match(text, text) STABLE" >/dev/null
out=$("$PG_BINDIR/psql" -q -X -d fresh -f "$top_srcdir/sql/schema.sql" 2>&1)
check "newer: loading fails" "$?" 3
check_match "newer: and says why" "$out" \
    "ERROR:  the database schema is at version 999, newer than this schema.sql \\([0-9]+\\): nothing done"
check "newer: no function replaced" "$(pg_q fresh "SELECT provolatile FROM pg_proc
    WHERE proname = 'mx_match'")" s
pg_q fresh "DELETE FROM tlsrpt.schema_version WHERE version = 999" >/dev/null
check "newer: then at its own version it loads again" "$(load fresh "$top_srcdir/sql/schema.sql"; echo $?)" 0
check "code: replaced on every load" "$(pg_q fresh "SELECT provolatile FROM pg_proc
    WHERE proname = 'mx_match'")" i

# ---- The first release's schema, with rows: every row survives.
"$PG_BINDIR/createdb" v1 || exit 99
load v1 "$TI_TEST_DATA/schema-v1.sql"
check "v1: the first release's schema loads" "$?" 0
check "v1: it recorded version 1" "$(versions v1)" 1
v1_rows v1 a
v1_rows v1 b
check "v1: its rows" "$(counts v1)" 2/4/4/2
before=$(rows_digest v1)
load v1 "$top_srcdir/sql/schema.sql"
check "v1: upgrade loads" "$?" 0
check "v1: the later steps recorded" "$(versions v1)" "$ALL_STEPS"
check "v1: every row survives" "$(rows_digest v1)" "$before"
check "v1: rows from before count as not authenticated" \
    "$(pg_q v1 "SELECT count(*) FROM tlsrpt.report WHERE NOT authenticated")" 2
check "v1: foreign keys gone" "$(pg_q v1 "SELECT count(*) FROM pg_constraint
    WHERE connamespace = 'tlsrpt'::regnamespace AND contype = 'f'")" 0
check "v1: functions" "$(functions v1)" "$FUNCS"
check "v1: the report's JSON compressed with lz4" "$(pg_q v1 "SELECT attcompression FROM pg_attribute
    WHERE attrelid = 'tlsrpt.report'::regclass AND attname = 'report'")" l
pipe_bin "$MSG" -d dbname=v1
check "v1: the program stores into it" "$RC $(counts v1)" "0 3/5/4/2"
pipe_bin "$C/YnkDK__tls_reporting/truncated.gz" -d dbname=v1
check "v1: and keeps a rejected message" "$RC $(counts v1)" "0 3/5/4/3"
# Deletes go down the tables as ON DELETE CASCADE did, and no further.
pg_q v1 "DELETE FROM tlsrpt.report WHERE report_id = 'old-a'" >/dev/null
check "v1: deleting a report deletes its policies and details only" "$(counts v1)" 2/3/2/3
pg_q v1 "DELETE FROM tlsrpt.policy WHERE policy_index = 1 AND report_ref =
    (SELECT id FROM tlsrpt.report WHERE report_id = 'old-b')" >/dev/null
check "v1: deleting a policy deletes its details only" "$(counts v1)" 2/2/1/3
check "v1: no orphans" "$(pg_q v1 "SELECT count(*) FROM tlsrpt.failure_detail d
    LEFT JOIN tlsrpt.policy p ON p.id = d.policy_ref AND p.report_ref = d.report_ref
    WHERE p.id IS NULL")" 0
pg_q v1 "TRUNCATE tlsrpt.report" >/dev/null
check "v1: truncating reports empties the tables below" "$(counts v1)" 0/0/0/3

# ---- Version 3, the last before the one writer.
"$PG_BINDIR/createdb" v3 || exit 99
load v3 "$TI_TEST_DATA/schema-v3.sql"
check "v3: loads" "$(versions v3)" 1,2,3
load v3 "$top_srcdir/sql/roles.sql"
v1_rows v3 c
before=$(rows_digest v3)
# The program needs step 4: one line, nothing written, and exit 75: the
# message is stored once the operator loads the schema.
pipe_bin "$MSG" -d dbname=v3
check "v3: the program refuses it: exit 75" "$RC" 75
check_match "v3: one line, which version and what to do" "$ERR" \
    "^tlsrpt-ingest: error: source=stdin: database schema version 3, need 4: load schema.sql; left for a later try$"
run_bin -d dbname=v3 "$MSG"
check "v3: at a terminal too: exit 75 (it works once the schema is loaded)" "$RC" 75
check "v3: nothing written" "$(rows_digest v3)" "$before"
load v3 "$top_srcdir/sql/schema.sql"
check "v3: upgrade loads" "$?" 0
check "v3: the later steps recorded" "$(versions v3)" "$ALL_STEPS"
check "v3: the old writers are gone" "$(functions v3)" "$FUNCS"
check "v3: every row survives" "$(rows_digest v3)" "$before"
pipe_bin "$MSG" -d dbname=v3
check "v3: then stores" "$RC $(counts v3)" "0 2/3/2/1"

# ---- A database without the schema: one line, 75.
"$PG_BINDIR/createdb" none || exit 99
pipe_bin "$MSG" -d dbname=none
check "no schema: exit 75" "$RC" 75
check_match "no schema: says to load it" "$ERR" "reading the schema version: database schema missing or different \\(load sql/schema.sql\\)"

# ---- The writers are the only way in: the ingest role executes them and
# has no privilege on the tables.
load fresh "$top_srcdir/sql/roles.sql"
pg_q fresh "CREATE ROLE ingester LOGIN IN ROLE tlsrpt_ingest" >/dev/null
check "roles: the ingest role's table privileges" "$(pg_q fresh "SELECT coalesce(string_agg(table_name || ':' || privilege_type, ',' ORDER BY table_name), 'none')
    FROM information_schema.role_table_grants WHERE grantee = 'tlsrpt_ingest'")" "schema_version:SELECT"
for sql in "INSERT INTO tlsrpt.report (organization_name, report_id, start_datetime, end_datetime, source, report_sha256, report) VALUES ('o', 'r', now(), now(), 'mail', '\\x00', '{}')" \
    "INSERT INTO tlsrpt.policy (report_ref, policy_index, policy_type, policy_domain, total_successful_session_count, total_failure_session_count) VALUES (1, 9, 'sts', 'x', 0, 0)" \
    "INSERT INTO tlsrpt.failure_detail (report_ref, policy_ref, detail_index, result_type, failed_session_count) VALUES (1, 1, 9, 'x', 1)" \
    "INSERT INTO tlsrpt.rejected_message (source, reason, raw_sha256, raw_size, raw) VALUES ('mail', 'x', '\\x00', 1, '\\x00')"; do
	out=$("$PG_BINDIR/psql" -X -At -d fresh -U ingester -c "$sql" 2>&1)
	check_match "ingest role may not write past the writers: ${sql%% (*}" "$out" "permission denied"
done
pipe_bin "$C/domainaware__parsedmarc/rfc8460.json" -d "dbname=fresh user=ingester"
check "roles: the ingest role stores through the writer" "$RC $(counts fresh)" "0 2/2/3/0"

# ---- Functions a user creates in public stand in for nothing the
# program's statements or the writers use.
pg_newdb decoy || exit 99
load decoy "$top_srcdir/sql/roles.sql"
pg_q decoy "CREATE FUNCTION public.decoy() RETURNS bytea LANGUAGE plpgsql AS
    \$\$BEGIN RAISE EXCEPTION 'decoy called'; END\$\$;
    CREATE FUNCTION public.sha256(text) RETURNS bytea LANGUAGE sql AS 'SELECT public.decoy()';
    CREATE FUNCTION public.convert_to(text, text) RETURNS bytea LANGUAGE sql AS 'SELECT public.decoy()';
    CREATE FUNCTION public.unnest(text[]) RETURNS SETOF text LANGUAGE sql AS 'SELECT public.decoy()::text';
    CREATE FUNCTION public.max_step(integer, integer) RETURNS integer LANGUAGE sql AS 'SELECT length(public.decoy())';
    CREATE AGGREGATE public.max(integer) (SFUNC = public.max_step, STYPE = integer);
    CREATE ROLE decoyer LOGIN IN ROLE tlsrpt_ingest" >/dev/null
pipe_bin "$MSG" -d "dbname=decoy user=decoyer"
check "decoys: a report stored" "$RC $(counts decoy)" "0 1/1/0/0"
pipe_bin "$C/YnkDK__tls_reporting/truncated.gz" -d "dbname=decoy user=decoyer"
check "decoys: a message kept as rejected" "$RC $(counts decoy)" "0 1/1/0/1"
check "decoys: its digest is the server's own" "$(pg_q decoy "SELECT count(*) FROM tlsrpt.rejected_message WHERE raw_sha256 = pg_catalog.sha256(raw)")" 1
run_bin -d "dbname=decoy user=decoyer" "$C/domainaware__parsedmarc/rfc8460.json" "$C/YnkDK__tls_reporting/date_error.json"
check "decoys: a batch stored" "$RC $(counts decoy)" "0 2/2/3/2"

finish
