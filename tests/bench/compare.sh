#!/bin/sh
# compare.sh - make bench-compare: two builds of the program, OLD and NEW,
# on the same synthetic messages and the same private PostgreSQL (default
# durability, as in make bench).  Prints figures; asserts nothing about
# speed.
#
#   make bench-compare OLD=/path/to/old/tlsrpt-ingest [NEW=/path/to/new]
#   compare.sh OLD [NEW]
#
# NEW defaults to this tree's build.  gen.py writes BENCH_N messages once;
# then, for BENCH_RUNS rounds, OLD and NEW take turns at
#   - a Maildir sweep of a fresh copy of the messages into a fresh
#     database, and
#   - a --dry-run over the messages, on one core.
#   - pipe mode, one process per message for BENCH_PIPE of them, storing
#     each message itself, and handed to a resident server of the same
#     binary (--serve, --socket).
# Each run prints its messages per second (pipe mode: the median time per
# message); at the end, per binary, the medians, and NEW/OLD (above 1:
# NEW is faster; for pipe mode, below 1), also as the median of the
# rounds' own NEW/OLD.  Autovacuum is off: a worker analysing one round's
# tables while the clock runs, and not the next round's, would decide
# the ratio more than the builds do.  Both load this tree's
# sql/schema.sql unless OLD_SCHEMA names another one for OLD
# (tests/data/schema-v3.sql for a build before schema step 4).
#
#   BENCH_N      messages (default 10000)
#   BENCH_PIPE   messages for pipe mode (default 300)
#   BENCH_RUNS   rounds (default 3)
#   OLD_SCHEMA   schema file for OLD's databases
#   BENCH_ROLLUPS  off: the insert triggers of schema steps 6, 8 and 9
#                disabled, and step 6's indexes for readers dropped
#                (tests/bench/rollups.sql), in the databases of this
#                tree's schema, to compare the writers alone

. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/../integration/pg.sh"

OLD=${1:-}
NEW=${2:-$BIN}
if [ -z "$OLD" ]; then
	echo "usage: compare.sh OLD [NEW]  (make bench-compare OLD=...)" >&2
	exit 64
fi
for b in "$OLD" "$NEW"; do
	if [ ! -x "$b" ]; then
		echo "compare.sh: $b: not an executable" >&2
		exit 64
	fi
done
N=${BENCH_N:-10000}
NP=${BENCH_PIPE:-300}
R=${BENCH_RUNS:-3}
NEW_SCHEMA=$top_srcdir/sql/schema.sql
OLD_SCHEMA=${OLD_SCHEMA:-$NEW_SCHEMA}
B=$top_builddir/tests/bench/bench
ONE_CORE=
command -v taskset >/dev/null 2>&1 && ONE_CORE="taskset -c 0"
W=$(mktemp -d "${TMPDIR:-/tmp}/tlsrpt-compare.XXXXXX")
PG_DURABLE=1
pg_start
trap 'rm -rf "$W"; pg_cleanup' EXIT
pg_q postgres "ALTER SYSTEM SET autovacuum = off" >/dev/null &&
    pg_q postgres "SELECT pg_reload_conf()" >/dev/null || exit 1
chmod 755 "$W"

echo "machine: $(nproc) cores, $(sed -n 's/^model name\t*: //p' /proc/cpuinfo | head -1)"
echo "PostgreSQL: $("$PG_BINDIR/postgres" --version | sed 's/.*) //'), Unix socket, fsync on"
echo "OLD: $OLD ($("$OLD" --version))"
echo "NEW: $NEW ($("$NEW" --version))"
python3 "$top_srcdir/tests/bench/gen.py" "$N" "$W/msgs" || exit 1
mkdir -p "$W/pipe"
ls "$W/msgs/new" | head -n "$NP" | while read -r f; do cp "$W/msgs/new/$f" "$W/pipe/"; done
bytes=$(du -sk "$W/msgs/new" | cut -f1)
echo "messages: $N, $((bytes / N)) KiB each on average; $R rounds"

rate() { awk "BEGIN {printf \"%.0f\", $1 * 1000 / ($2 > 0 ? $2 : 1)}"; }

# newdb NAME SCHEMA
newdb() {
	"$PG_BINDIR/createdb" "$1" &&
	"$PG_BINDIR/psql" -q -X -v ON_ERROR_STOP=1 -d "$1" -f "$2" \
	    >/dev/null || exit 1
	if [ "${BENCH_ROLLUPS:-on}" = off ] && [ "$2" = "$NEW_SCHEMA" ]; then
		"$PG_BINDIR/psql" -q -X -v ON_ERROR_STOP=1 -v state=DISABLE \
		    -d "$1" -f "$top_srcdir/tests/bench/rollups.sql" || exit 1
	fi
}

# sweep NAME BIN SCHEMA: a fresh copy, a fresh database; prints the rate.
sweep() {
	rm -rf "$W/run"
	cp -r "$W/msgs" "$W/run"
	newdb "$1" "$3"
	# Nothing of the copy is left to write back while the clock runs.
	sync
	t=$("$B" rusage "$2" -q -d "dbname=$1" --maildir "$W/run") ||
	    echo "compare.sh: sweep $1: $2 exited $?" >&2
	set -- "$1" $t
	stored=$(pg_q "$1" "SELECT count(*) FROM tlsrpt.report")
	if [ "$stored" != "$N" ]; then
		echo "compare.sh: sweep $1 stored $stored of $N" >&2
		exit 1
	fi
	"$PG_BINDIR/dropdb" "$1"
	rate "$N" "$2"
}

# dry BIN: prints the rate.
dry() {
	t=$("$B" rusage $ONE_CORE "$1" -q --dry-run --maildir "$W/msgs") || {
		echo "compare.sh: dry run: $1 exited $?" >&2
		exit 1
	}
	set -- $t
	rate "$N" "$1"
}

# pipe NAME BIN SCHEMA [serve]: the median microseconds per message.
pipe() {
	newdb "$1" "$3"
	if [ "${4:-}" = serve ]; then
		"$2" -q --serve --socket "$W/socket" -d "dbname=$1" &
		spid=$!
		wait_until test -S "$W/socket"
		t=$("$B" pipe "$W"/pipe/* -- "$2" -q --socket "$W/socket")
		kill -TERM "$spid"
		wait "$spid"
	else
		t=$("$B" pipe "$W"/pipe/* -- "$2" -q -d "dbname=$1")
	fi
	stored=$(pg_q "$1" "SELECT count(*) FROM tlsrpt.report")
	if [ "$stored" != "$NP" ]; then
		echo "compare.sh: pipe $1 stored $stored of $NP" >&2
		exit 1
	fi
	"$PG_BINDIR/dropdb" "$1"
	echo "$t"
}

# round R FIRST FIRST_SCHEMA SECOND SECOND_SCHEMA: each measure, the two
# binaries in turn; prints the eight figures, first's then second's.
round() {
	a1=$(sweep "a$1" "$2" "$3") || exit 1
	b1=$(sweep "b$1" "$4" "$5") || exit 1
	a2=$(dry "$2") || exit 1
	b2=$(dry "$4") || exit 1
	a3=$(pipe "pa$1" "$2" "$3") || exit 1
	b3=$(pipe "pb$1" "$4" "$5") || exit 1
	a4=$(pipe "va$1" "$2" "$3" serve) || exit 1
	b4=$(pipe "vb$1" "$4" "$5" serve) || exit 1
	echo "$a1 $a2 $a3 $a4 $b1 $b2 $b3 $b4"
}

# OLD goes first in odd rounds, NEW in even ones, so that a machine
# speeding up or slowing down within a round favours neither.
s_old= s_new= d_old= d_new= p_old= p_new= v_old= v_new=
for r in $(seq "$R"); do
	if [ $((r % 2)) -eq 1 ]; then
		set -- $(round "$r" "$OLD" "$OLD_SCHEMA" "$NEW" "$NEW_SCHEMA")
	else
		set -- $(round "$r" "$NEW" "$NEW_SCHEMA" "$OLD" "$OLD_SCHEMA")
		set -- $5 $6 $7 $8 $1 $2 $3 $4
	fi
	[ $# -eq 8 ] || exit 1
	echo "round $r: sweep OLD $1 NEW $5 messages/s;" \
	    "--dry-run OLD $2 NEW $6 messages/s;" \
	    "pipe mode OLD $3 NEW $7 us; served OLD $4 NEW $8 us"
	s_old="$s_old $1" s_new="$s_new $5"
	d_old="$d_old $2" d_new="$d_new $6"
	p_old="$p_old $3" p_new="$p_new $7"
	v_old="$v_old $4" v_new="$v_new $8"
done

# ratios OLD-RUNS NEW-RUNS: the median of the rounds' NEW/OLD.
ratios() {
	echo "$1" "$2" | awk '{ n = NF / 2
	    for (i = 1; i <= n; i++) printf "%.4f\n", $(n + i) / $i }' |
	    median %.2f
}

# line WHAT OLD-RUNS NEW-RUNS
line() {
	mo=$(for v in $2; do echo "$v"; done | median)
	mn=$(for v in $3; do echo "$v"; done | median)
	echo "$1: median OLD $mo, NEW $mn messages/s; NEW/OLD" \
	    "$(awk "BEGIN {printf \"%.2f\", $mn / $mo}")," \
	    "per round $(ratios "$2" "$3")"
}
# lineus WHAT OLD-RUNS NEW-RUNS: times, lower is better
lineus() {
	mo=$(for v in $2; do echo "$v"; done | median)
	mn=$(for v in $3; do echo "$v"; done | median)
	echo "$1: median OLD $(awk "BEGIN {printf \"%.2f\", $mo / 1000}")," \
	    "NEW $(awk "BEGIN {printf \"%.2f\", $mn / 1000}") ms per message;" \
	    "NEW/OLD $(awk "BEGIN {printf \"%.2f\", $mn / $mo}")," \
	    "per round $(ratios "$2" "$3")"
}
echo
line "Maildir sweep of $N" "$s_old" "$s_new"
line "--dry-run over $N, one core" "$d_old" "$d_new"
lineus "pipe mode, storing itself, $NP messages" "$p_old" "$p_new"
lineus "pipe mode, handed to a resident server" "$v_old" "$v_new"
