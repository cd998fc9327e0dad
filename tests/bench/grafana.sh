#!/bin/sh
# grafana.sh - make bench-grafana: how long each query of the Grafana
# dashboard (contrib/grafana/tlsrpt.json) takes on a large history.
# Prints figures; asserts nothing about speed.  Not part of make check.
#
# BENCH_REPORTS reports (default 1,000,000) for BENCH_REPORTS / 100
# domains are written in SQL into a private PostgreSQL (default
# settings, fsync on), as tests/bench/adm.sh writes them: per domain,
# Google daily for 40 days, Microsoft on 30 of 40 days, Yahoo every other
# day, Mimecast every 4 days; one policy each, failure details on 5% of
# them and on every report of 0.1% of the domains; and BENCH_REPORTS / 50
# kept-aside messages over 40 days.  Then every panel's query and the
# domain variable's, expanded as Grafana does
# (tests/integration/grafana-expand.py), run as a tlsrpt_reader login
# over the last 7 and the last 30 days, for one domain and for All: the
# best of BENCH_RUNS runs (default 3), client included (psql \timing,
# rows read and thrown away).

. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/../integration/pg.sh"

NR=${BENCH_REPORTS:-1000000}
ND=$((NR / 100))
R=${BENCH_RUNS:-3}
DASH=$top_srcdir/contrib/grafana/tlsrpt.json
EXPAND="python3 $top_srcdir/tests/integration/grafana-expand.py"
W=$(mktemp -d "${TMPDIR:-/tmp}/tlsrpt-bench-grafana.XXXXXX")
PG_DURABLE=1
pg_start
trap 'rm -rf "$W"; pg_cleanup' EXIT

echo "machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "PostgreSQL: $("$PG_BINDIR/postgres" --version | sed 's/.*) //'), Unix socket, fsync on"

pg_newdb big || exit 1
"$PG_BINDIR/psql" -q -X -v ON_ERROR_STOP=1 -d big \
    -f "$top_srcdir/sql/roles.sql" >/dev/null || exit 1
# As the README has it: JIT compiling costs a dashboard more than it saves.
pg_q big "CREATE ROLE grafana LOGIN IN ROLE tlsrpt_reader;
    ALTER ROLE grafana SET jit = off" >/dev/null
t0=$(date +%s)
"$PG_BINDIR/psql" -q -X -v ON_ERROR_STOP=1 -v n="$NR" -v d="$ND" -d big \
    >/dev/null <<'SQL' || exit 1
BEGIN;
CREATE TEMP TABLE g ON COMMIT DROP AS
SELECT row_number() OVER (ORDER BY ago DESC, i) AS id, * FROM (
	SELECT i, dom, k,
	    CASE WHEN k < 40 THEN 'Google LLC'
		WHEN k < 70 THEN 'Microsoft Corporation'
		WHEN k < 90 THEN 'Yahoo Inc.' ELSE 'Mimecast' END AS org,
	    CASE WHEN k < 40 THEN k
		WHEN k < 70 THEN ((k - 40) * 4) / 3 + dom % 2
		WHEN k < 90 THEN (k - 70) * 2
		    + CASE WHEN dom % 100 = 7 THEN 10 ELSE 0 END
		ELSE (k - 90) * 4 END AS ago
	FROM (SELECT i, i % :d AS dom, i / :d AS k
	    FROM generate_series(0, :n - 1) i) s) x;
INSERT INTO tlsrpt.report (id, organization_name, report_id,
    start_datetime, end_datetime, source, report_sha256, report)
OVERRIDING SYSTEM VALUE
SELECT id, org, 'r' || i,
    date_trunc('day', now()) - (ago + 1) * interval '1 day',
    date_trunc('day', now()) - ago * interval '1 day' - interval '1 second',
    'mail', '\x00', '{}'
FROM g ORDER BY id;
INSERT INTO tlsrpt.policy (id, report_ref, policy_index, policy_type,
    policy_domain, policy_string, total_successful_session_count,
    total_failure_session_count)
OVERRIDING SYSTEM VALUE
SELECT id, id, 0, 'sts', 'd' || dom || '.example',
    ARRAY['version: STSv1', 'mode: testing', 'mx: mx1.d' || dom || '.example',
    'max_age: 86400'], 1000 + i % 500,
    CASE WHEN i % 20 = 3 THEN 1 + i % 30 WHEN dom % 1000 = 5 THEN 100
    ELSE 0 END
FROM g ORDER BY id;
INSERT INTO tlsrpt.failure_detail (report_ref, policy_ref, detail_index,
    result_type, receiving_mx_hostname, receiving_ip, sending_mta_ip,
    failed_session_count)
SELECT id, id, 0, (ARRAY['certificate-expired', 'starttls-not-supported',
    'validation-failure', 'sts-policy-fetch-error'])[1 + (i / 20) % 4],
    'mx1.d' || dom || '.example', ('198.51.100.' || 1 + dom % 200)::inet,
    ('192.0.2.' || 1 + i % 250)::inet,
    CASE WHEN i % 20 = 3 THEN 1 + i % 30 ELSE 100 END
FROM g WHERE i % 20 = 3 OR dom % 1000 = 5 ORDER BY id;
SELECT setval(pg_get_serial_sequence('tlsrpt.report', 'id'), :n);
SELECT setval(pg_get_serial_sequence('tlsrpt.policy', 'id'), :n);
INSERT INTO tlsrpt.rejected_message (received_at, source, reason,
    tls_report_domain, raw_sha256, raw_size, raw)
SELECT now() - (i % 40) * interval '1 day' - (i % 86400) * interval '1 second',
    'mail', (ARRAY['no report', 'no TLS-RPT report part found (3 MIME parts)',
    'no policy domain is monitored (other.example)'])[1 + i % 3],
    'd' || i % :d || '.example', sha256(int8send(i)), 8, int8send(i)
FROM generate_series(1, :n / 50) i;
COMMIT;
VACUUM ANALYZE;
SQL
echo "history: $(pg_q big "SELECT count(*) FROM tlsrpt.report") reports," \
    "$(pg_q big "SELECT count(*) FROM tlsrpt.failure_detail") failure details," \
    "$(pg_q big "SELECT count(*) FROM tlsrpt.rejected_message") kept aside," \
    "$ND domains, written in $(($(date +%s) - t0)) s;" \
    "database $(pg_q big "SELECT pg_size_pretty(pg_database_size('big'))")"

# best SQLFILE: the best of R runs of the query, in ms, as the reader
best() {
	{
		printf '%s\n' '\o /dev/null' '\timing on'
		for _r in $(seq "$R"); do
			cat "$1"
			echo ';'
		done
	} >"$W/run.sql"
	PGUSER=grafana "$PG_BINDIR/psql" -X -q -v ON_ERROR_STOP=1 -d big \
	    -f "$W/run.sql" | sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' |
	    sort -n | head -n 1
}

now=$(date -u +%Y-%m-%dT%H:%M:%SZ)
week=$(date -u -d '7 days ago' +%Y-%m-%dT%H:%M:%SZ)
month=$(date -u -d '30 days ago' +%Y-%m-%dT%H:%M:%SZ)
printf '\n%-40s %10s %10s %10s %10s\n' "best of $R, ms" "7d, one" \
    "7d, All" "30d, one" "30d, All"
$EXPAND list "$DASH" >"$W/list" || exit 1
: >"$W/all"
while IFS='	' read -r id ref fmt type title; do
	if [ "$id" = var ]; then
		what="var $ref"
		title="variable $ref"
	else
		what="panel $id"
		title="$id. $title"
	fi
	line=
	for from in "$week" "$month"; do
		for dom in d42.example '$__all'; do
			# shellcheck disable=SC2086
			$EXPAND sql "$DASH" $what --from "$from" --to "$now" \
			    --var "domain=$dom" >"$W/q.sql" || exit 1
			ms=$(best "$W/q.sql")
			[ -n "$ms" ] || { echo "$title: failed" >&2; exit 1; }
			line="$line $ms"
			echo "$ms $title ($from, $dom)" >>"$W/all"
		done
	done
	# shellcheck disable=SC2086
	printf '%-40.40s %10s %10s %10s %10s\n' "$title" $line
done <"$W/list"
echo
echo "slowest, one domain: $(grep -v '__all' "$W/all" | sort -rn | head -n 1 |
    awk '{ $1 = $1 " ms:"; print }')"
echo "slowest, All: $(grep '__all' "$W/all" | sort -rn | head -n 1 |
    awk '{ $1 = $1 " ms:"; print }')"
