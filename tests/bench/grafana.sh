#!/bin/sh
# grafana.sh - make bench-grafana: how long each query of the Grafana
# dashboard (contrib/grafana/tlsrpt.json) takes on a large history.
# Prints figures; asserts nothing about speed.  Not part of make check.
#
# tests/bench/history.sql writes BENCH_REPORTS reports (default
# 1,000,000) for BENCH_REPORTS / 100 domains into a private PostgreSQL
# (default settings, fsync on), as for tests/bench/adm.sh.  Then every
# panel's query and the
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
    -f "$top_srcdir/tests/bench/history.sql" >/dev/null || exit 1
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
