#!/bin/sh
# run.sh - run the libFuzzer targets of tests/fuzz for a while each.
#
# Usage: tests/fuzz/run.sh SECONDS [HARNESS...]
#
# HARNESS is message, mimescan, inflate, report, authres, mbox or handoff (or
# fuzz_message ...); none means all of them.  The targets are looked for in
# $top_builddir/tests/fuzz (default: .), the seeds in
# $top_srcdir/tests/data (default: two levels above this script).
# Each target gets a fresh corpus in a temporary directory, seeded from
# the fixtures at run time:
#   message  every .eml
#   mimescan every .eml
#   mbox     every .eml behind a From_ line, and all of them in one mbox
#   inflate  every .gz, .zip and .json
#   report   every .json
#   authres  the Authentication-Results values of each .eml, one a line
#   handoff  a request header and an answer of each kind
# Prints one line per target:
#   fuzz_X: N executions, cov C, ft F, crashes K
# Crash, leak, timeout and out-of-memory inputs are kept in
# $FUZZ_ARTIFACTS (default: $top_builddir/tests/fuzz/artifacts) with
# libFuzzer's log; the directory is named at the end.  Exits 1 when any
# target failed (libFuzzer's exit code), 2 on a usage or setup error.
# Extra libFuzzer options may be given in $FUZZ_FLAGS.

set -u

usage() {
	echo "usage: $0 SECONDS [message|mimescan|inflate|report|authres|mbox|handoff ...]" >&2
	exit 2
}

[ $# -ge 1 ] || usage
seconds=$1
shift
case $seconds in
''|*[!0-9]*) usage ;;
esac

here=$(cd "$(dirname "$0")" && pwd) || exit 2
: "${top_srcdir:=$here/../..}"
: "${top_builddir:=.}"
: "${FUZZ_ARTIFACTS:=$top_builddir/tests/fuzz/artifacts}"
: "${FUZZ_FLAGS:=}"
data=$top_srcdir/tests/data
if [ ! -d "$data" ]; then
	echo "$0: no fixtures in $data (set top_srcdir)" >&2
	exit 2
fi

if [ $# -eq 0 ]; then
	set -- message mimescan inflate report authres mbox handoff
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/tlsrpt-fuzz.XXXXXX") || exit 2
trap 'rm -rf "$work"' EXIT
trap 'exit 130' INT TERM
mkdir -p "$FUZZ_ARTIFACTS" || exit 2
artifacts=$(cd "$FUZZ_ARTIFACTS" && pwd) || exit 2

# Copy the fixtures matching the find(1) name tests into $1, named by
# their path so that files with the same name do not clash.
seed_copy() {
	dir=$1
	shift
	find "$data" -type f \( "$@" \) -print | sort |
	while IFS= read -r f; do
		name=$(printf '%s' "${f#"$data"/}" | tr '/' '_')
		cp "$f" "$dir/$name" || exit 1
	done
}

seed_mbox() {
	dir=$1
	all=$dir/all.mbox
	: >"$all"
	find "$data" -type f -name '*.eml' -print | sort |
	while IFS= read -r f; do
		name=$(printf '%s' "${f#"$data"/}" | tr '/' '_')
		{
			echo 'From MAILER-DAEMON Thu Jan  1 00:00:00 1970'
			# mboxrd: quote From_ lines (quoted ones once more).
			sed -e 's/^\(>*From \)/>\1/' "$f"
			echo
		} >"$dir/$name.mbox" || exit 1
		cat "$dir/$name.mbox" >>"$all" || exit 1
	done
}

# The Authentication-Results values of each .eml (header block only,
# continuation lines joined), one per line; one seed per message.
seed_authres() {
	dir=$1
	find "$data" -type f -name '*.eml' -print | sort |
	while IFS= read -r f; do
		name=$(printf '%s' "${f#"$data"/}" | tr '/' '_')
		tr -d '\r' <"$f" | awk '
			/^$/ { exit }
			/^[ \t]/ { if (keep) v = v " " $0; next }
			{
				if (keep) print v
				keep = tolower($0) ~ /^authentication-results[ \t]*:/
				if (keep) { v = $0; sub(/^[^:]*:[ \t]*/, "", v) }
			}
			END { if (keep) print v }' >"$dir/$name.ar" || exit 1
		[ -s "$dir/$name.ar" ] || rm -f "$dir/$name.ar"
	done
}

# Request and answer lines, one pair a seed (handoff.h).
seed_handoff() {
	dir=$1
	i=0
	for a in 'stored	2	Google Inc.	2023-11-14T00:00:00Z_example.com	' \
	    'duplicate	1	Microsoft Corporation	133	' \
	    'rejected	0	-	-	no TLS report found' \
	    'retry	0			database unavailable: no answer in 10 s'; do
		i=$((i + 1))
		printf 'TLSRPT-INGEST/1 message %d %s %s\n%s' $((i * 4711)) \
		    "$([ $i = 2 ] && echo t || echo -)" \
		    "$([ $i = 3 ] && echo - || echo 4Xk9Zq$i)" "$a" \
		    >"$dir/pair-$i" || exit 1
	done
}

# The number of inputs kept for target $1 (logs aside).
artifact_count() {
	n=0
	for f in "$artifacts/fuzz_$1-"*; do
		case $f in
		*.log) ;;
		*) [ -e "$f" ] && n=$((n + 1)) ;;
		esac
	done
	echo $n
}

# The last value of "KEY: N" or "KEY N" on libFuzzer's status lines.
stat_of() {
	sed -n "s/.*[ 	]$1:\{0,1\} \{1,\}\([0-9][0-9]*\).*/\1/p" "$2" |
	tail -n 1
}

status=0
failed=
for h in "$@"; do
	h=${h#fuzz_}
	bin=$top_builddir/tests/fuzz/fuzz_$h
	corpus=$work/corpus-$h
	log=$work/fuzz_$h.log
	mkdir "$corpus" || exit 2
	case $h in
	message|mimescan) seed_copy "$corpus" -name '*.eml' ;;
	mbox) seed_mbox "$corpus" ;;
	inflate) seed_copy "$corpus" -name '*.gz' -o -name '*.zip' \
	    -o -name '*.json' ;;
	report) seed_copy "$corpus" -name '*.json' ;;
	authres) seed_authres "$corpus" ;;
	handoff) seed_handoff "$corpus" ;;
	*) echo "$0: unknown harness $h" >&2; exit 2 ;;
	esac || { echo "$0: cannot seed $corpus" >&2; exit 2; }
	if [ ! -x "$bin" ]; then
		echo "$0: $bin not built (configure --enable-fuzzing)" >&2
		exit 2
	fi
	case $h in
	inflate) dict=-dict=$top_srcdir/tests/fuzz/inflate.dict ;;
	message|mimescan) dict=-dict=$top_srcdir/tests/fuzz/mime.dict ;;
	*) dict= ;;
	esac
	before=$(artifact_count "$h")
	# shellcheck disable=SC2086 # FUZZ_FLAGS and dict are lists
	"$bin" -max_total_time="$seconds" -max_len=262144 $dict \
	    -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 \
	    -artifact_prefix="$artifacts/fuzz_$h-" $FUZZ_FLAGS \
	    "$corpus" >"$log" 2>&1
	rc=$?
	crashes=$(($(artifact_count "$h") - before))
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" |
	    tail -n 1)
	[ -n "$execs" ] || execs=$(sed -n 's/^#\([0-9][0-9]*\).*/\1/p' \
	    "$log" | tail -n 1)
	cov=$(stat_of cov "$log")
	ft=$(stat_of ft "$log")
	if [ $rc -ne 0 ] && [ $crashes -eq 0 ]; then
		crashes=1
	fi
	echo "fuzz_$h: ${execs:-0} executions, cov ${cov:-0}," \
	    "ft ${ft:-0}, crashes $crashes"
	if [ $rc -ne 0 ]; then
		status=1
		failed="$failed fuzz_$h"
		cp "$log" "$artifacts/fuzz_$h-$(date +%Y%m%dT%H%M%S).log"
		grep -m 1 -E 'ERROR: |runtime error:|contract broken' \
		    "$log" | sed 's/^/  /'
	fi
done

if [ $status -ne 0 ]; then
	echo "failed:$failed; inputs and logs kept in $artifacts"
else
	rmdir "$artifacts" 2>/dev/null || true
fi
exit $status
