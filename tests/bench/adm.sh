#!/bin/sh
# adm.sh - make bench-adm (and the second half of make bench): what
# reads the reports, over a large history, and what keeping the tables
# they read costs a Maildir sweep.  Prints figures; asserts nothing about
# speed.
#
# 1. tests/bench/history.sql writes BENCH_REPORTS reports (default
#    1,000,000) for BENCH_REPORTS / 100 domains into a private PostgreSQL
#    (default durability, fsync on).  Then, each BENCH_RUNS times (default
#    3), the clock around the whole process: tlsrpt-adm check (every
#    domain with reports, every domain monitored, one domain), readiness
#    (every domain, one, ten) and metrics (every domain).
# 2. A sweep of BENCH_N messages (default 10000, tests/bench/gen.py) into
#    a fresh database, BENCH_RUNS times each, with the triggers that keep
#    the tables of check, metrics, readiness and the dashboard (schema
#    steps 6, 8 and 9) disabled, with step 6's indexes dropped
#    (tests/bench/rollups.sql), and enabled, in turns; and the writer's
#    time in each step's triggers.

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

echo "machine: $(nproc) cores, $(sed -n 's/^model name\t*: //p' /proc/cpuinfo | head -1), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "PostgreSQL: $("$PG_BINDIR/postgres" --version | sed 's/.*) //'), Unix socket, fsync on"

# ---- 1. The history, and what reads it.
pg_newdb big || exit 1
t0=$(date +%s)
"$PG_BINDIR/psql" -q -X -v ON_ERROR_STOP=1 -v n="$NR" -v d="$ND" -d big \
    -f "$top_srcdir/tests/bench/history.sql" || exit 1
t1=$(date +%s)
echo
echo "1. $(pg_q big "SELECT format('%s reports, %s policies, %s failure details, %s domains, %s domain-reporter pairs',
    (SELECT count(*) FROM tlsrpt.report), (SELECT count(*) FROM tlsrpt.policy),
    (SELECT count(*) FROM tlsrpt.failure_detail),
    (SELECT count(DISTINCT policy_domain) FROM tlsrpt.reporter),
    (SELECT count(*) FROM tlsrpt.reporter))")," \
    "written in $((t1 - t0)) s; database $(pg_q big "SELECT pg_size_pretty(pg_database_size('big'))")"

# timed LABEL ADM-ARGS...: tlsrpt-adm, R times, the clock around the
# whole process; its runs and median, and its first line of output.
timed() {
	_label=$1
	shift
	_runs=
	for _r in $(seq "$R"); do
		_t0=$(date +%s%N)
		"$ADM" -d dbname=big "$@" >"$W/out"
		_rc=$?
		_t1=$(date +%s%N)
		_runs="$_runs $(((_t1 - _t0) / 1000000))"
	done
	echo "   $_label: median $(for t in $_runs; do echo "$t"; done | median) ms" \
	    "(runs:$_runs ms), exit $_rc, $(wc -l <"$W/out") lines:"
	echo "     $(head -n 1 "$W/out" | cut -c1-110)..."
}
TEN=
for i in 0 1 2 3 4 5 6 7 8 9; do
	TEN="$TEN --domain d$((i * ND / 10 + 42)).example"
done
# The first run of metrics folds every row the fill wrote; then vacuum,
# as autovacuum would: the figures are of the steady state.
"$ADM" -q -d dbname=big metrics --max-series 100000 \
    --output "$W/first.prom" || exit 1
pg_q big "VACUUM ANALYZE tlsrpt.metrics_report, tlsrpt.metrics_session,
    tlsrpt.metrics_failure" >/dev/null

timed "check, every domain with reports" check
# shellcheck disable=SC2086
timed "readiness, ten domains" readiness $TEN
timed "readiness, one domain" readiness --domain d42.example
timed "readiness, every domain" readiness
timed "metrics, every domain" metrics --max-series 100000 \
    --output "$W/tlsrpt.prom"
echo "     $(grep -c '^tlsrpt_' "$W/tlsrpt.prom") series, $(wc -c <"$W/tlsrpt.prom") bytes"
pg_q big "INSERT INTO tlsrpt.monitored_domain (domain)
    SELECT DISTINCT policy_domain FROM tlsrpt.reporter" >/dev/null
timed "check, every domain monitored, with subdomains" check
timed "check --domain d42.example" check --domain d42.example

# ---- 2. What the triggers of steps 6, 8 and 9 (and step 6's indexes) cost
# a sweep.
python3 "$top_srcdir/tests/bench/gen.py" "$N" "$W/msgs" || exit 1
# sweep DB ENABLE|DISABLE: messages per second
sweep() {
	rm -rf "$W/run"
	cp -r "$W/msgs" "$W/run"
	pg_newdb "$1" || exit 1
	"$PG_BINDIR/psql" -q -X -v ON_ERROR_STOP=1 -v state="$2" -d "$1" \
	    -f "$top_srcdir/tests/bench/rollups.sql" || exit 1
	pg_q "$1" "ALTER DATABASE $1 SET track_functions = 'pl'" >/dev/null
	sync
	set -- "$1" $("$B" rusage "$BIN" -q -d "dbname=$1" --maildir "$W/run")
	stored=$(pg_q "$1" "SELECT count(*) FROM tlsrpt.report")
	[ "$stored" = "$N" ] || { echo "sweep $1 stored $stored of $N" >&2; exit 1; }
	sleep 1
	pg_q "$1" "SELECT coalesce(sum(total_time) FILTER (WHERE funcname
	    = 'seen_added'), 0)::int || ' ' || coalesce(sum(total_time)
	    FILTER (WHERE funcname = 'metrics_added'), 0)::int || ' ' ||
	    coalesce(sum(total_time) FILTER (WHERE funcname
	    = 'daily_added'), 0)::int || ' ' ||
	    coalesce(sum(total_time) FILTER (WHERE funcname
	    = 'store_reports'), 0)::int
	    FROM pg_stat_user_functions" >>"$W/triggers"
	"$PG_BINDIR/dropdb" "$1"
	awk "BEGIN {printf \"%.0f\", $N * 1000 / $2}"
}
off= on=
for r in $(seq "$R"); do
	o=$(sweep "off$r" DISABLE) || exit 1
	a=$(sweep "on$r" ENABLE) || exit 1
	off="$off $o" on="$on $a"
done
mo=$(for v in $off; do echo "$v"; done | median)
ma=$(for v in $on; do echo "$v"; done | median)
echo
echo "2. Maildir sweep of $N messages into a fresh database: triggers" \
    "(and step 6's indexes) off median $mo messages/s (runs:$off)," \
    "enabled $ma messages/s (runs:$on); enabled/off $(awk "BEGIN {printf \"%.2f\", $ma / $mo}")"
echo "   with them enabled, of the writer's time:" \
    "$(awk '$1 > 0 { s6 += $1; s8 += $2; s9 += $3; w += $4 } END { printf "step 6 %.0f ms, step 8 %.0f ms, step 9 %.0f ms of %.0f ms (%.0f%%, %.0f%%, %.0f%%)", s6, s8, s9, w, 100 * s6 / w, 100 * s8 / w, 100 * s9 / w }' "$W/triggers")" \
    "(a shared machine's speed drifts: these shares are the steadier figures)"
