#!/bin/sh
# bench.sh - make bench: synthetic report messages through the built
# program against a private PostgreSQL with default durability (fsync on;
# a Maildir message is moved only after its rows are committed).
# Prints figures; asserts nothing about speed.
#
#   BENCH_N      messages for the sweep and the dry run (default 10000)
#   BENCH_PIPE   messages for pipe mode, one process each (default 300)

. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/../integration/pg.sh"

N=${BENCH_N:-10000}
NP=${BENCH_PIPE:-300}
B=$top_builddir/tests/bench/bench
W=$(mktemp -d "${TMPDIR:-/tmp}/tlsrpt-bench.XXXXXX")
PG_DURABLE=1
pg_start
trap 'rm -rf "$W"; pg_cleanup' EXIT
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

# 1. pipe mode against the connect floor.
pg_newdb bp || exit 1
"$B" floor "dbname=bp" 50 >/dev/null
floor=$("$B" floor "dbname=bp" "$NP")
pfloor=$("$B" pipe "$W"/pipe/* -- "$B" floor "dbname=bp" 1)
pipe=$("$B" pipe "$W"/pipe/* -- "$BIN" -q -d dbname=bp)
ms() { awk "BEGIN {printf \"%.2f\", $1 / 1000}"; }
echo
echo "1. pipe mode (one process per message, $NP messages):"
echo "   median $(ms "$pipe") ms per message"
echo "   bare libpq connect + SELECT 1 + disconnect: $(ms "$floor") ms in one process" \
    "(ratio $(awk "BEGIN {printf \"%.2f\", $pipe / $floor}")), $(ms "$pfloor") ms as a process of its own" \
    "(ratio $(awk "BEGIN {printf \"%.2f\", $pipe / $pfloor}"))"

# 2. Maildir sweeps, N and 10 N.
for n in "$N" "$((N * 10))"; do
	pg_newdb "bs$n" || exit 1
	if [ "$n" = "$N" ]; then d=$W/small; else d=$W/big; fi
	set -- $("$B" rusage "$BIN" -q -d "dbname=bs$n" --maildir "$d")
	stored=$(pg_q "bs$n" "SELECT count(*) FROM tlsrpt.report")
	echo
	echo "2. Maildir sweep of $n messages: $1 ms, $(awk "BEGIN {printf \"%.0f\", $n * 1000 / $1}") reports/s," \
	    "peak RSS $(awk "BEGIN {printf \"%.1f\", $2 / 1024}") MiB ($stored stored)"
done

# 3. Dry run over the same messages.
mv "$W/small/.Processed/cur/"* "$W/small/new/" 2>/dev/null
set -- $("$B" rusage taskset -c 0 "$BIN" -q --dry-run --maildir "$W/small")
echo
echo "3. --dry-run over $N messages on one core: $1 ms, $(awk "BEGIN {printf \"%.0f\", $N * 1000 / $1}") messages/s," \
    "peak RSS $(awk "BEGIN {printf \"%.1f\", $2 / 1024}") MiB"
