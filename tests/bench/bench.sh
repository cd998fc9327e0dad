#!/bin/sh
# bench.sh - make bench: synthetic report messages through the built
# program against a private PostgreSQL with default durability (fsync on;
# a Maildir message is moved only after its rows are committed).
# Prints figures; asserts nothing about speed.
#
#   BENCH_N      messages for the sweep and the dry run (default 10000)
#   BENCH_PIPE   messages for pipe mode, one process each (default 300),
#                stored by the process itself and handed to a server
#   BENCH_RUNS   runs of the sweep of N and of the dry run (default 3):
#                a shared machine's speed drifts, so each prints its
#                runs and their median

. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/../integration/pg.sh"

N=${BENCH_N:-10000}
NP=${BENCH_PIPE:-300}
R=${BENCH_RUNS:-3}
B=$top_builddir/tests/bench/bench
W=$(mktemp -d "${TMPDIR:-/tmp}/tlsrpt-bench.XXXXXX")
PG_DURABLE=1
pg_start
spid=
trap '[ -n "$spid" ] && kill "$spid" 2>/dev/null; rm -rf "$W"; pg_cleanup' EXIT
chmod 755 "$W"

echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(sed -n 's/^model name\t*: //p' /proc/cpuinfo | head -1)"
echo "PostgreSQL: $("$PG_BINDIR/postgres" --version | sed 's/.*) //'), Unix socket, fsync on, synchronous_commit on"

echo "generating $((N * 10)) messages..."
python3 "$top_srcdir/tests/bench/gen.py" "$((N * 10))" "$W/big" || exit 1
mkdir -p "$W/small/new" "$W/small/cur" "$W/small/tmp" "$W/pipe"
ls "$W/big/new" | head -n "$N" | while read -r f; do cp "$W/big/new/$f" "$W/small/new/"; done
ls "$W/big/new" | tail -n "$NP" | while read -r f; do cp "$W/big/new/$f" "$W/pipe/"; done
bytes=$(du -sk "$W/small/new" | cut -f1)
echo "messages: $N, $((bytes / N)) KiB each on average"
# Nothing of the files just written is left to write back while the
# figures are taken.
sync

# 1. pipe mode against the connect floor.
pg_newdb bp || exit 1
"$B" floor "dbname=bp" 50 >/dev/null
floor=$("$B" floor "dbname=bp" "$NP")
pfloor=$("$B" pipe "$W"/pipe/* -- "$B" floor "dbname=bp" 1)
pipe=$("$B" pipe "$W"/pipe/* -- "$BIN" -q -d dbname=bp)
# The same messages handed to a resident server (--serve), into a
# database of its own.
pg_newdb bps || exit 1
"$BIN" -q --serve --socket "$W/socket" -d dbname=bps &
spid=$!
wait_until test -S "$W/socket"
pserve=$("$B" pipe "$W"/pipe/* -- "$BIN" -q --socket "$W/socket")
kill -TERM "$spid"
wait "$spid"
spid=
stored=$(pg_q bps "SELECT count(*) FROM tlsrpt.report")
[ "$stored" = "$NP" ] || { echo "the server stored $stored of $NP" >&2; exit 1; }
ms() { awk "BEGIN {printf \"%.2f\", $1 / 1000}"; }
ratio() { awk "BEGIN {printf \"%.2f\", $1 / $2}"; }
echo
echo "1. pipe mode (one process per message, $NP messages):"
echo "   median $(ms "$pipe") ms per message"
echo "   bare libpq connect + SELECT 1 + disconnect: $(ms "$floor") ms in one process" \
    "(ratio $(ratio "$pipe" "$floor")), $(ms "$pfloor") ms as a process of its own" \
    "(ratio $(ratio "$pipe" "$pfloor"))"
echo "   handed to a resident server (--socket, --serve): median $(ms "$pserve") ms" \
    "per message (ratio $(ratio "$pserve" "$pfloor") to the process of its own)"

# 2. Maildir sweeps: N, R times (each into a new database, the messages
# moved back in between), then 10 N once, for memory.
rate() { awk "BEGIN {printf \"%.0f\", $1 * 1000 / $2}"; }
runs=
rss=0
for r in $(seq "$R"); do
	pg_newdb "bs$r" || exit 1
	set -- $("$B" rusage "$BIN" -q -d "dbname=bs$r" --maildir "$W/small")
	stored=$(pg_q "bs$r" "SELECT count(*) FROM tlsrpt.report")
	[ "$stored" = "$N" ] || { echo "sweep $r stored $stored of $N" >&2; exit 1; }
	runs="$runs $1"
	[ "$2" -gt "$rss" ] && rss=$2
	mv "$W/small/.Processed/cur/"* "$W/small/new/"
done
m=$(for t in $runs; do echo "$t"; done | median)
echo
echo "2. Maildir sweep of $N messages: median $m ms, $(rate "$N" "$m") reports/s" \
    "(runs: $(for t in $runs; do printf '%s ' "$(rate "$N" "$t")"; done | sed 's/ $//') reports/s)," \
    "peak RSS $(awk "BEGIN {printf \"%.1f\", $rss / 1024}") MiB"
n=$((N * 10))
pg_newdb "bs$n" || exit 1
set -- $("$B" rusage "$BIN" -q -d "dbname=bs$n" --maildir "$W/big")
stored=$(pg_q "bs$n" "SELECT count(*) FROM tlsrpt.report")
echo "   Maildir sweep of $n messages: $1 ms, $(rate "$n" "$1") reports/s," \
    "peak RSS $(awk "BEGIN {printf \"%.1f\", $2 / 1024}") MiB ($stored stored)"

# 3. Dry run over the messages of the sweep of N, R times.
runs=
for r in $(seq "$R"); do
	set -- $("$B" rusage taskset -c 0 "$BIN" -q --dry-run --maildir "$W/small")
	runs="$runs $1"
	rss=$2
done
m=$(for t in $runs; do echo "$t"; done | median)
echo
echo "3. --dry-run over $N messages on one core: median $m ms, $(rate "$N" "$m") messages/s" \
    "(runs: $(for t in $runs; do printf '%s ' "$(rate "$N" "$t")"; done | sed 's/ $//') messages/s)," \
    "peak RSS $(awk "BEGIN {printf \"%.1f\", $rss / 1024}") MiB"
