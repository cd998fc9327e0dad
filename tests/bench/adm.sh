#!/bin/sh
# adm.sh - make bench-adm: tlsrpt-adm check over a large history, and
# what schema step 6 (its indexes and the tables its triggers keep) costs
# a Maildir sweep.  Prints figures; asserts nothing about speed.
#
# 1. BENCH_REPORTS reports (default 1,000,000) for BENCH_REPORTS / 100
#    domains, written in SQL (generate_series) into a private PostgreSQL:
#    per domain, Google daily for 40 days, Microsoft on 30 of 40 days,
#    Yahoo every other day (1% of the domains' Yahoo stopped 10 days
#    ago), Mimecast every 4 days; one policy each, failure details on 5%
#    of them and on every report of 0.1% of the domains.  Then
#    tlsrpt-adm check, BENCH_RUNS times: every domain with reports, then
#    every domain monitored (with subdomains).
# 2. A sweep of BENCH_N messages (default 10000, tests/bench/gen.py) into
#    a fresh database, BENCH_RUNS times each, with the schema before step
#    6 and with it, in turns.

. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/../integration/pg.sh"

NR=${BENCH_REPORTS:-1000000}
ND=$((NR / 100))
N=${BENCH_N:-10000}
R=${BENCH_RUNS:-3}
B=$top_builddir/tests/bench/bench
W=$(mktemp -d "${TMPDIR:-/tmp}/tlsrpt-bench-adm.XXXXXX")
PG_DURABLE=1
pg_start
trap 'rm -rf "$W"; pg_cleanup' EXIT
chmod 755 "$W"

median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
echo "machine: $(nproc) cores, $(sed -n 's/^model name\t*: //p' /proc/cpuinfo | head -1), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "PostgreSQL: $("$PG_BINDIR/postgres" --version | sed 's/.*) //'), Unix socket, fsync on"

# ---- 1. The history.
pg_newdb big || exit 1
pg_q big "CREATE TABLE IF NOT EXISTS tlsrpt.monitored_domain (domain text
    PRIMARY KEY, include_subdomains boolean NOT NULL DEFAULT true,
    added_at timestamptz NOT NULL DEFAULT now())" >/dev/null
t0=$(date +%s)
"$PG_BINDIR/psql" -q -X -v ON_ERROR_STOP=1 -v n="$NR" -v d="$ND" -d big <<'SQL' || exit 1
BEGIN;
-- Slot k (0-99) of domain dom: which reporter, and how many days ago
-- its report's range ended.  Ids in the order of the ends, as reports
-- arrive.
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
SELECT id, org, 'r' || i, date_trunc('day', now()) - (ago + 1) * interval '1 day',
    date_trunc('day', now()) - ago * interval '1 day' - interval '1 second',
    'mail', '\x00', '{}'
FROM g ORDER BY id;
INSERT INTO tlsrpt.policy (id, report_ref, policy_index, policy_type,
    policy_domain, total_successful_session_count,
    total_failure_session_count)
OVERRIDING SYSTEM VALUE
SELECT id, id, 0, 'sts', 'd' || dom || '.example', 1000 + i % 500,
    CASE WHEN i % 20 = 3 THEN 1 + i % 30 WHEN dom % 1000 = 5 THEN 100
    ELSE 0 END
FROM g ORDER BY id;
INSERT INTO tlsrpt.failure_detail (report_ref, policy_ref, detail_index,
    result_type, receiving_mx_hostname, receiving_ip, sending_mta_ip,
    failed_session_count)
SELECT id, id, 0, (ARRAY['certificate-expired', 'starttls-not-supported',
    'validation-failure', 'sts-policy-fetch-error'])[1 + (i / 20) % 4],
    'mx1.d' || dom || '.example', '198.51.100.1', '192.0.2.1',
    CASE WHEN i % 20 = 3 THEN 1 + i % 30 ELSE 100 END
FROM g WHERE i % 20 = 3 OR dom % 1000 = 5 ORDER BY id;
SELECT setval(pg_get_serial_sequence('tlsrpt.report', 'id'), :n);
SELECT setval(pg_get_serial_sequence('tlsrpt.policy', 'id'), :n);
COMMIT;
VACUUM ANALYZE;
SQL
t1=$(date +%s)
echo
echo "1. $(pg_q big "SELECT count(*) FROM tlsrpt.report") reports," \
    "$(pg_q big "SELECT count(*) FROM tlsrpt.failure_detail") failure details," \
    "$(pg_q big "SELECT count(DISTINCT policy_domain) FROM tlsrpt.reporter") domains," \
    "$(pg_q big "SELECT count(*) FROM tlsrpt.reporter") domain-reporter pairs," \
    "written in $((t1 - t0)) s; database $(pg_q big "SELECT pg_size_pretty(pg_database_size('big'))")"

# timed LABEL ARGS...: tlsrpt-adm check, R times, the clock around the
# whole process; its runs and median.
timed() {
	_label=$1
	shift
	_runs=
	for _r in $(seq "$R"); do
		_t0=$(date +%s%N)
		"$ADM" -d dbname=big check "$@" >"$W/out"
		_rc=$?
		_t1=$(date +%s%N)
		_runs="$_runs $(((_t1 - _t0) / 1000000))"
	done
	echo "   $_label: median $(for t in $_runs; do echo "$t"; done | median) ms" \
	    "(runs:$_runs ms), exit $_rc, $(wc -l <"$W/out") lines:"
	echo "     $(head -n 1 "$W/out" | cut -c1-110)..."
}
timed "check, every domain with reports"
pg_q big "INSERT INTO tlsrpt.monitored_domain (domain)
    SELECT DISTINCT policy_domain FROM tlsrpt.reporter" >/dev/null
timed "check, every domain monitored, with subdomains"
timed "check --domain d42.example" --domain d42.example

# ---- 2. What step 6 costs a sweep.
python3 "$top_srcdir/tests/bench/gen.py" "$N" "$W/msgs" || exit 1
# The schema without step 6.
sed '/^-- ---- Step 6:/,/^\\endif$/d' "$top_srcdir/sql/schema.sql" >"$W/before.sql"
sweep() {
	rm -rf "$W/run"
	cp -r "$W/msgs" "$W/run"
	"$PG_BINDIR/createdb" "$1" &&
	"$PG_BINDIR/psql" -q -X -v ON_ERROR_STOP=1 -d "$1" -f "$2" \
	    >/dev/null || exit 1
	pg_q "$1" "ALTER DATABASE $1 SET track_functions = 'pl'" >/dev/null
	sync
	set -- "$1" $("$B" rusage "$BIN" -q -d "dbname=$1" --maildir "$W/run")
	stored=$(pg_q "$1" "SELECT count(*) FROM tlsrpt.report")
	[ "$stored" = "$N" ] || { echo "sweep $1 stored $stored of $N" >&2; exit 1; }
	# The time in step 6's triggers, of the time in the writer.
	sleep 1
	pg_q "$1" "SELECT coalesce(sum(total_time) FILTER (WHERE funcname
	    = 'seen_added'), 0)::int || ' ' || coalesce(sum(total_time)
	    FILTER (WHERE funcname = 'store_reports'), 0)::int
	    FROM pg_stat_user_functions" >>"$W/triggers"
	"$PG_BINDIR/dropdb" "$1"
	awk "BEGIN {printf \"%.0f\", $N * 1000 / $2}"
}
before= after=
for r in $(seq "$R"); do
	b=$(sweep "before$r" "$W/before.sql") || exit 1
	a=$(sweep "after$r" "$top_srcdir/sql/schema.sql") || exit 1
	before="$before $b" after="$after $a"
done
mb=$(for v in $before; do echo "$v"; done | median)
ma=$(for v in $after; do echo "$v"; done | median)
echo
echo "2. Maildir sweep of $N messages into a fresh database: without step 6" \
    "median $mb messages/s (runs:$before), with it $ma messages/s (runs:$after);" \
    "with/without $(awk "BEGIN {printf \"%.2f\", $ma / $mb}")"
echo "   in the sweeps with step 6, its triggers took" \
    "$(awk '$1 > 0 { t += $1; s += $2 } END { printf "%.0f ms of the writer'"'"'s %.0f ms (%.0f%%)", t, s, 100 * t / s }' "$W/triggers")" \
    "(a shared machine's speed drifts: this share is the steadier figure)"
