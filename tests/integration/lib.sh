# lib.sh - assertions for the integration tests.  Each test counts its
# checks and prints "N passed, N failed" at the end; any failure makes
# the script exit 1.

: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
: "${TI_TEST_DATA:=$top_srcdir/tests/data}"
BIN=$top_builddir/tlsrpt-ingest
ADM=$top_builddir/tlsrpt-adm
SHARED_CORPUS=${TI_SHARED_CORPUS:-$top_srcdir/../shared/corpus}
T_PASS=0
T_FAIL=0

ok() {
	T_PASS=$((T_PASS + 1))
	echo "ok $((T_PASS + T_FAIL)) - $1"
}

not_ok() {
	T_FAIL=$((T_FAIL + 1))
	echo "not ok $((T_PASS + T_FAIL)) - $1"
	shift
	for l in "$@"; do
		echo "#   $l"
	done
}

# check NAME GOT WANT
check() {
	if [ "$2" = "$3" ]; then
		ok "$1"
	else
		not_ok "$1" "got:  $2" "want: $3"
	fi
}

# check_match NAME GOT PATTERN (grep -E)
check_match() {
	if printf '%s\n' "$2" | grep -Eq -- "$3"; then
		ok "$1"
	else
		not_ok "$1" "got:  $2" "want: /$3/"
	fi
}

# run_bin ARGS... : sets RC, OUT (stdout) and ERR (stderr)
run_bin() {
	_o=$(mktemp)
	_e=$(mktemp)
	"$BIN" "$@" >"$_o" 2>"$_e" </dev/null
	RC=$?
	OUT=$(cat "$_o")
	ERR=$(cat "$_e")
	rm -f "$_o" "$_e"
}

# pipe_bin FILE ARGS... : the message on standard input, as Postfix does
pipe_bin() {
	_f=$1
	shift
	_o=$(mktemp)
	_e=$(mktemp)
	"$BIN" "$@" <"$_f" >"$_o" 2>"$_e"
	RC=$?
	OUT=$(cat "$_o")
	ERR=$(cat "$_e")
	rm -f "$_o" "$_e"
}

# wait_until COMMAND...: run it every 0.05 s until it succeeds, for at
# most 30 s; its last status.
wait_until() {
	for _w in $(seq 600); do
		"$@" && return 0
		sleep 0.05
	done
	return 1
}

finish() {
	echo "$T_PASS passed, $T_FAIL failed"
	[ "$T_FAIL" -eq 0 ]
	exit $?
}
