#!/bin/sh
# adm-readiness.sh - how long tlsrpt-adm readiness takes on a large
# history: tests/bench/adm-readiness.sql writes 1,000,000 reports for
# 10,000 domains into a private PostgreSQL (default settings, fsync on),
# then the command runs for every domain, for one, and for ten, each
# BENCH_RUNS times (default 3).  Prints figures; asserts nothing about
# speed.  Not part of make check.
#
#   sh tests/bench/adm-readiness.sh [SPREAD_DAYS...]
#
# Each SPREAD_DAYS (default: 60 365) is one database whose reports are
# spread over that many days before today; the window is 30 days.

. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/../integration/pg.sh"

R=${BENCH_RUNS:-3}
[ $# -gt 0 ] || set -- 60 365
PG_DURABLE=1
pg_start
trap 'pg_cleanup' EXIT

# ms_of COMMAND...: its wall time in milliseconds, output discarded
ms_of() {
	_t0=$(date +%s%N)
	"$@" >/dev/null || echo "adm-readiness.sh: $* failed" >&2
	_t1=$(date +%s%N)
	echo $(((_t1 - _t0) / 1000000))
}
# median of the numbers on stdin
median() {
	sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
}

echo "machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "PostgreSQL: $("$PG_BINDIR/postgres" --version | sed 's/.*) //'), Unix socket"
TEN=
for i in 0 1 2 3 4 5 6 7 8 9; do
	TEN="$TEN --domain d$((i * 997)).example"
done
for spread in "$@"; do
	db=spread$spread
	pg_newdb "$db" || exit 99
	t0=$(date +%s)
	"$PG_BINDIR/psql" -q -X -d "$db" -v spread="$spread" \
	    -f "$top_srcdir/tests/bench/adm-readiness.sql" || exit 99
	echo "spread over $spread days: generated in $(($(date +%s) - t0)) s;" \
	    "$(pg_q "$db" "SELECT count(*) FROM tlsrpt.report WHERE
	    start_datetime >= date_trunc('day', now()) - interval '30 days'")" \
	    "reports in the 30-day window"
	"$ADM" -d "dbname=$db" readiness >/dev/null	# warm the cache
	all=$(for i in $(seq "$R"); do
		ms_of "$ADM" -d "dbname=$db" readiness
	done | median)
	one=$(for i in $(seq "$R"); do
		ms_of "$ADM" -d "dbname=$db" readiness --domain d42.example
	done | median)
	# shellcheck disable=SC2086
	ten=$(for i in $(seq "$R"); do
		ms_of "$ADM" -d "dbname=$db" readiness $TEN
	done | median)
	echo "  every domain ($("$ADM" -d "dbname=$db" readiness | wc -l) lines): $all ms"
	echo "  one domain: $one ms; ten domains: $ten ms (medians of $R)"
done
