#!/bin/sh
# replay.sh - tlsrpt-adm replay against the real PostgreSQL: kept-aside
# messages that now ingest leave rejected_message for the report tables,
# the others get their new reason; an interrupted or repeated replay
# loses and doubles nothing; the filters, --dry-run, the lock, and the
# failures (usage, data, database, schema).

. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pg.sh"

C=$TI_TEST_DATA/corpus
TMP=$(mktemp -d)
pg_start
trap 'rm -rf "$TMP"; pg_cleanup' EXIT

# keep DB FILE REASON AGE [TRUNCATED]: FILE's bytes in rejected_message,
# as an older version kept them AGE ago.
keep() {
	_b64=$(base64 -w 0 <"$2")
	"$PG_BINDIR/psql" -X -At -q -v ON_ERROR_STOP=1 -d "$1" -c "INSERT INTO tlsrpt.rejected_message (source, reason,
	    raw_sha256, raw_size, raw_truncated, raw, received_at)
	    SELECT 'file', '$3', sha256(r), length(r), ${5:-false}, r,
	    now() - interval '$4'
	    FROM decode('$_b64', 'base64') AS r RETURNING id"
}

count() {
	pg_q "$1" "SELECT (SELECT count(*) FROM tlsrpt.report) || ' ' ||
	    (SELECT count(*) FROM tlsrpt.rejected_message)"
}

GOOD1=$C/danmarg__tlsrpt_processor/sample.json
GOOD2=$C/cry-inc__dmarc-report-viewer/google.json
GOOD3=$C/cry-inc__dmarc-report-viewer/microsoft.json
BAD=$C/YnkDK__tls_reporting/missing_required_field.json

pg_newdb r || exit 99
g1=$(keep r "$GOOD1" 'not understood then' '10 days')
g2=$(keep r "$GOOD2" 'not understood then' '1 hour')
b1=$(keep r "$BAD" 'stale reason' '2 days')
t1=$(keep r "$GOOD3" 'larger than max_message_size' '1 hour' true)

run_adm -d dbname=r replay --dry-run
check "dry run: exit 0" "$RC" 0
check "dry run: what would happen" "$OUT" \
    "dry run: 2 would ingest, 1 still rejected, 1 truncated (left alone)"
check "dry run: nothing changed" "$(count r)" "0 4"
check "dry run: no reason changed" \
    "$(pg_q r "SELECT reason FROM tlsrpt.rejected_message WHERE id = $b1")" \
    "stale reason"

run_adm -d dbname=r replay --since 3d
check "--since 3d: exit 0" "$RC" 0
check "--since 3d: only the recent ones" "$OUT" \
    "1 stored, 0 duplicate, 1 still rejected, 1 truncated (left alone)"
check "--since 3d: the old one still kept" \
    "$(pg_q r "SELECT count(*) FROM tlsrpt.rejected_message WHERE id = $g1")" 1
check "--since 3d: the stored one gone" \
    "$(pg_q r "SELECT count(*) FROM tlsrpt.rejected_message WHERE id = $g2")" 0
check_match "--since 3d: the bad one has its new reason" \
    "$(pg_q r "SELECT reason FROM tlsrpt.rejected_message WHERE id = $b1")" \
    'policy-type: missing'
check "--since 3d: the truncated one untouched" \
    "$(pg_q r "SELECT reason FROM tlsrpt.rejected_message WHERE id = $t1")" \
    "larger than max_message_size"
check_match "--since 3d: one log line each" "$ERR" \
    'rejected_message [0-9]+.*stored'

# Interrupted after the report was committed, before its row went: the
# report is there and so is the row.  The next replay finds a duplicate.
"$BIN" -q -d dbname=r "$GOOD1" || not_ok "store $GOOD1 directly"
run_adm -d dbname=r replay --reason '^not understood'
check "interrupted, again: exit 0" "$RC" 0
check "interrupted, again: a duplicate" "$OUT" \
    "0 stored, 1 duplicate, 0 still rejected, 0 truncated (left alone)"
check "interrupted, again: one report each, the row gone" "$(count r)" "2 2"

run_adm -d dbname=r replay
check "twice: exit 0" "$RC" 0
check "twice: nothing new" "$OUT" \
    "0 stored, 0 duplicate, 1 still rejected, 1 truncated (left alone)"
check "twice: nothing doubled" "$(count r)" "2 2"

run_adm -d dbname=r replay --since 2026-01-01T00:00:00Z --reason 'nomatch'
check "no match: exit 0" "$RC" 0
check "no match: nothing" "$OUT" \
    "0 stored, 0 duplicate, 0 still rejected, 0 truncated (left alone)"

# One replay at a time.
"$PG_BINDIR/psql" -X -q -d r -c "SELECT pg_advisory_lock(8460, 2);
    SELECT pg_sleep(30)" >/dev/null 2>&1 &
holder=$!
wait_until pg_q r "SELECT 1 FROM pg_locks WHERE locktype = 'advisory'
    AND objid = 2 AND granted" >/dev/null
wait_until test -n "$(pg_q r "SELECT 1 FROM pg_locks
    WHERE locktype = 'advisory' AND objid = 2 AND granted")"
run_adm -d dbname=r replay
check "locked: exit 75" "$RC" 75
check "locked: says why" "$ERR" \
    "tlsrpt-adm: error: another replay is running; try again later"
kill "$holder" 2>/dev/null
pg_q r "SELECT pg_terminate_backend(pid) FROM pg_locks
    WHERE locktype = 'advisory' AND objid = 2" >/dev/null
wait "$holder" 2>/dev/null

run_adm -d dbname=r replay --reason '('
check "bad pattern: exit 65" "$RC" 65
check_match "bad pattern: says why" "$ERR" \
    '^tlsrpt-adm: error: .*invalid regular expression'
check "bad pattern: one line" "$(printf '%s\n' "$ERR" | wc -l)" 1
run_adm -d dbname=r replay --since yesterdayish
check "bad --since: exit 65" "$RC" 65
run_adm -d dbname=r replay --since 9999999d
check "bad age: exit 64" "$RC" 64
run_adm -d dbname=r replay extra
check "an argument: exit 64" "$RC" 64

# The rejected message lives on for the ingester's role too: replay is
# the owner's (it deletes and updates rejected_message).
"$PG_BINDIR/psql" -X -q -v ON_ERROR_STOP=1 -d r \
    -f "$top_srcdir/sql/roles.sql" >/dev/null &&
    pg_q r "CREATE ROLE ingest LOGIN IN ROLE tlsrpt_ingest" >/dev/null
run_adm -d "dbname=r user=ingest" replay
check "the ingest role: exit 78" "$RC" 78

"$PG_BINDIR/createdb" old && pg_q old "CREATE SCHEMA tlsrpt;
    CREATE TABLE tlsrpt.schema_version (version int PRIMARY KEY);
    INSERT INTO tlsrpt.schema_version VALUES (1), (2), (3)" >/dev/null
run_adm -d dbname=old replay
check "schema too old: exit 78" "$RC" 78
check_match "schema too old: says so" "$ERR" \
    'database schema version 3, need [0-9]+: load schema.sql$'

run_adm -d "dbname=r host=$TMP/nowhere" replay
check "no server: exit 75" "$RC" 75

finish
