#!/bin/sh
# adm-metrics.sh - how long tlsrpt-adm metrics takes on a large database:
# adm-metrics.sql fills a private PostgreSQL (default durability) with
# BENCH_REPORTS reports for BENCH_DOMAINS policy domains, then metrics
# runs BENCH_RUNS times with every domain, and as many with half of them
# monitored.  Prints figures; asserts nothing about speed.  Not part of
# make check: the database takes a minute or two to fill, and some
# 1.5 GB for a million reports.
#
#   BENCH_REPORTS  reports (default 1000000)
#   BENCH_DOMAINS  policy domains (default 10000)
#   BENCH_RUNS     runs of each (default 5)
#
#   make bench-metrics [BENCH_REPORTS=N BENCH_DOMAINS=N BENCH_RUNS=N]

. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/../integration/pg.sh"

NR=${BENCH_REPORTS:-1000000}
ND=${BENCH_DOMAINS:-10000}
R=${BENCH_RUNS:-5}
W=$(mktemp -d "${TMPDIR:-/tmp}/tlsrpt-bench.XXXXXX")
PG_DURABLE=1
pg_start
trap 'rm -rf "$W"; pg_cleanup' EXIT

# secs COMMAND...: its wall-clock time in seconds, its output in $W/out.
secs() {
	_t0=$(date +%s.%N)
	"$@" >"$W/out" 2>"$W/err" || {
		echo "adm-metrics.sh: $*: exit $?: $(cat "$W/err")" >&2
		exit 1
	}
	_t1=$(date +%s.%N)
	awk "BEGIN { printf \"%.3f\", $_t1 - $_t0 }"
}
median() {
	tr ' ' '\n' | grep . | sort -n |
	    awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
}
q() { pg_q bench "$1"; }

echo "machine: $(nproc) cores, $(sed -n 's/^model name\t*: //p' /proc/cpuinfo | head -1), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "PostgreSQL: $("$PG_BINDIR/postgres" --version | sed 's/.*) //'), default settings, fsync on"
pg_newdb bench || exit 1
t=$(secs "$PG_BINDIR/psql" -q -X -v ON_ERROR_STOP=1 -v reports="$NR" \
    -v domains="$ND" -d bench -f "$top_srcdir/tests/bench/adm-metrics.sql")
echo "filled in $t s: $(q "SELECT format('%s reports, %s policies, %s failure details, %s',
    (SELECT count(*) FROM tlsrpt.report), (SELECT count(*) FROM tlsrpt.policy),
    (SELECT count(*) FROM tlsrpt.failure_detail),
    pg_size_pretty(pg_database_size('bench')))")"

# What metrics would cost without the running totals: the sums over the
# report tables that its three queries stand for.
t=$(secs q "SELECT count(*) FROM (SELECT lower(p.policy_domain),
    r.organization_name, p.policy_type,
    sum(p.total_successful_session_count), sum(p.total_failure_session_count),
    count(DISTINCT r.id), max(r.end_datetime)
    FROM tlsrpt.policy p JOIN tlsrpt.report r ON r.id = p.report_ref
    GROUP BY 1, 2, 3) a")
t2=$(secs q "SELECT count(*) FROM (SELECT lower(p.policy_domain),
    d.result_type, sum(d.failed_session_count)
    FROM tlsrpt.failure_detail d JOIN tlsrpt.policy p ON p.id = d.policy_ref
    GROUP BY 1, 2) a")
echo "summing the report tables instead: $t s + $t2 s"

echo "running totals: $(q "SELECT format('%s + %s + %s rows',
    (SELECT count(*) FROM tlsrpt.metrics_report),
    (SELECT count(*) FROM tlsrpt.metrics_session),
    (SELECT count(*) FROM tlsrpt.metrics_failure))")"
t=$(secs "$ADM" -q -d dbname=bench metrics --output "$W/first.prom")
echo "first run, folding every row the fill wrote: $t s"
# That fold rewrote every row: what autovacuum then does, before the
# figures of the steady state.
q "VACUUM ANALYZE tlsrpt.metrics_report, tlsrpt.metrics_session,
    tlsrpt.metrics_failure" >/dev/null

runs=
for i in $(seq "$R"); do
	runs="$runs $(secs "$ADM" -q -d dbname=bench metrics --output "$W/tlsrpt.prom")"
done
echo "metrics, every domain:$runs s; median $(echo "$runs" | median) s;" \
    "$(grep -c '^tlsrpt_' "$W/tlsrpt.prom") series," \
    "$(wc -c <"$W/tlsrpt.prom") bytes"
# A minute's worth of new rows to fold: 100 reports stored one by one.
q "DO \$\$ BEGIN FOR i IN 1..100 LOOP
    INSERT INTO tlsrpt.policy (report_ref, policy_index, policy_type,
	policy_domain, total_successful_session_count,
	total_failure_session_count)
    VALUES (i, 9, 'sts', 'd' || i || '.example', 10, 1);
    END LOOP; END \$\$" >/dev/null
t=$(secs "$ADM" -q -d dbname=bench metrics --output "$W/tlsrpt.prom")
echo "metrics after 100 single-row statements: $t s"

q "CREATE TABLE tlsrpt.monitored_domain (domain text PRIMARY KEY,
    include_subdomains boolean NOT NULL DEFAULT true,
    added_at timestamptz NOT NULL DEFAULT now());
    INSERT INTO tlsrpt.monitored_domain (domain)
    SELECT 'd' || i || '.example' FROM generate_series(0, $ND - 1, 2) i;
    ANALYZE tlsrpt.monitored_domain" >/dev/null
runs=
for i in $(seq "$R"); do
	runs="$runs $(secs "$ADM" -q -d dbname=bench metrics --output "$W/tlsrpt.prom")"
done
echo "metrics, $((ND / 2)) monitored domains:$runs s; median $(echo "$runs" | median) s;" \
    "$(grep -c '^tlsrpt_' "$W/tlsrpt.prom") series"
