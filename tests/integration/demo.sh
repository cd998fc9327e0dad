#!/bin/sh
# demo.sh - the main job on the bundled samples: start a private
# PostgreSQL, load the schema, ingest every sample message and report
# file in tests/data, and print what an operator would want to know per
# policy domain.  KEEP=1 leaves the server running and says how to reach it.

. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pg.sh"

pg_start
pg_newdb tlsrpt || exit 1
export TLSRPT_DB="dbname=tlsrpt"

echo "== Ingesting the sample reports in tests/data"
find "$TI_TEST_DATA/corpus" -type f ! -name '*.md' | sort |
    tr '\n' '\0' | xargs -0 "$BIN"
rc=$?
if [ "$rc" -ne 0 ]; then
	echo "tlsrpt-ingest exited $rc" >&2
	exit 1
fi

echo
echo "== Per policy domain"
"$PG_BINDIR/psql" -X -q -d tlsrpt -P footer=off <<'SQL'
WITH pol AS (
	SELECT p.policy_domain, count(DISTINCT p.report_ref) AS reports,
	    sum(p.total_successful_session_count) AS successful,
	    sum(p.total_failure_session_count) AS failed
	FROM tlsrpt.policy p GROUP BY p.policy_domain
), det AS (
	SELECT policy_domain, string_agg(result_type || ' ' || n, ', '
	    ORDER BY n DESC, result_type) AS by_type
	FROM (SELECT p.policy_domain, d.result_type,
	    sum(d.failed_session_count) AS n
	    FROM tlsrpt.failure_detail d JOIN tlsrpt.policy p ON p.id = d.policy_ref
	    GROUP BY 1, 2) x GROUP BY policy_domain
)
SELECT pol.policy_domain AS "policy domain", pol.reports,
    pol.successful AS "sessions ok", pol.failed AS "sessions failed",
    coalesce(det.by_type, '') AS "failures by result-type"
FROM pol LEFT JOIN det USING (policy_domain)
ORDER BY pol.failed DESC, pol.policy_domain;
SQL
echo "== Reporters"
"$PG_BINDIR/psql" -X -q -d tlsrpt -P footer=off -c "SELECT organization_name AS reporter,
    count(*) AS reports, max(end_datetime)::date AS \"latest day covered\"
    FROM tlsrpt.report GROUP BY 1 ORDER BY 2 DESC, 1"
echo "== Kept aside (not ingestible)"
"$PG_BINDIR/psql" -X -q -d tlsrpt -P footer=off -c "SELECT reason, count(*)
    FROM tlsrpt.rejected_message GROUP BY 1 ORDER BY 1"
if [ "${KEEP:-0}" = 1 ]; then
	trap - EXIT
	echo "The database is still running: psql -h $PG_DIR -U tlsrpt tlsrpt"
	echo "Stop it with: ${PG_AS:+runuser -u postgres -- }$PG_BINDIR/pg_ctl -D $PG_DIR/data stop"
fi
