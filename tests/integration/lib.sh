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

# run_prog PROGRAM ARGS... : sets RC, OUT (stdout) and ERR (stderr)
run_prog() {
	_o=$(mktemp)
	_e=$(mktemp)
	"$@" >"$_o" 2>"$_e" </dev/null
	RC=$?
	OUT=$(cat "$_o")
	ERR=$(cat "$_e")
	rm -f "$_o" "$_e"
}

# run_bin ARGS... : tlsrpt-ingest; run_adm ARGS... : tlsrpt-adm
run_bin() {
	run_prog "$BIN" "$@"
}
run_adm() {
	run_prog "$ADM" "$@"
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

# ---- The resident server (--serve) on the socket $S, its output in $W.

# serve_start DB ARGS...: a server on $S in the background, $SPID
serve_start() {
	_db=$1
	shift
	"$BIN" --serve --socket "$S" -d "dbname=$_db" "$@" \
	    >"$W/serve.out" 2>"$W/serve.err" &
	SPID=$!
	wait_until serve_ready && return 0
	echo "# the server did not start:" && sed 's/^/#   /' "$W/serve.err"
	return 1
}

serve_ready() {
	[ -S "$S" ] && grep -q listening "$W/serve.err"
}

# serve_stop: SIGTERM, wait; SRC is its exit code
serve_stop() {
	kill -TERM "$SPID"
	wait "$SPID"
	SRC=$?
	SPID=
}

# attack N idle|trickle [again]: a client of $S in the background that
# connects and sends nothing, or its request a byte every half second,
# and waits at most 20 s for an answer; $W/attack.N.up once it is
# connected, then what it was answered in $W/attack.N.  With "again" it
# connects again each time it is dropped, until $W/attack.stop exists,
# and $W/attack.N holds every answer.
attack() {
	python3 -c '
import os, socket, sys, time
path, out, mode = sys.argv[1], sys.argv[2], sys.argv[3]
again = len(sys.argv) > 4
stop = os.path.join(os.path.dirname(out), "attack.stop")
answers = b""
while True:
    s = socket.socket(socket.AF_UNIX)
    try:
        s.connect(path)
    except OSError:
        break
    if not os.path.exists(out + ".up"):
        open(out + ".up", "w").close()
    s.settimeout(0.5)
    req = b"TLSRPT-INGEST/1 message 100 - -\n"
    got = b""
    end = time.time() + 20
    while time.time() < end:
        if mode == "trickle" and req:
            try:
                s.send(req[:1])
                req = req[1:]
            except OSError:
                pass
        try:
            b = s.recv(4096)
        except socket.timeout:
            continue
        except OSError:
            break
        if not b:
            break
        got += b
    s.close()
    answers += got
    if not again or os.path.exists(stop):
        break
open(out, "wb").write(answers)
' "$S" "$W/attack.$1" "$2" ${3:+"$3"} &
}

# attackers_up N, attackers_gone N: whether N attack clients have
# connected, and have left their answers.
attackers_up() {
	[ "$(ls "$W" | grep -c '^attack\.[0-9][0-9]*\.up$')" -ge "$1" ]
}
attackers_gone() {
	[ "$(ls "$W" | grep -c '^attack\.[0-9][0-9]*$')" -ge "$1" ]
}

# report_mail OUT REPORT DOMAIN [AUTHRES...]: write to OUT a
# multipart/report message from google.com to tlsrpt@DOMAIN carrying the
# JSON file REPORT gzip'd and base64'd, as Google sends it, with the
# Authentication-Results lines given on top, topmost first.
report_mail() {
	_rm_out=$1 _rm_rep=$2 _rm_dom=$3
	shift 3
	{
		for _rm_ar in "$@"; do
			printf 'Authentication-Results: %s\n' "$_rm_ar"
		done
		cat <<MSG
From: noreply-smtp-tls-reporting@google.com
To: tlsrpt@$_rm_dom
Subject: Report Domain: $_rm_dom Submitter: google.com
Message-ID: <$(basename "$_rm_out")@google.com>
Date: Sat, 05 Dec 2026 10:00:00 +0000
TLS-Report-Domain: $_rm_dom
TLS-Report-Submitter: google.com
MIME-Version: 1.0
Content-Type: multipart/report; report-type="tlsrpt"; boundary="b1"

--b1
Content-Type: text/plain

A report.
--b1
Content-Type: application/tlsrpt+gzip; name="google.com!$_rm_dom!1!2.json.gz"
Content-Transfer-Encoding: base64

$(gzip -c <"$_rm_rep" | base64)
--b1--
MSG
	} >"$_rm_out"
}

# median [FORMAT]: the median of the numbers on standard input (of the
# two middle ones, their mean), printed as FORMAT (default %.0f).
median() {
	sort -n | awk -v f="${1:-%.0f}" '{ v[NR] = $1 }
	    END { m = int((NR + 1) / 2); printf f, NR % 2 ? v[m] : (v[m] + v[m + 1]) / 2 }'
}

finish() {
	echo "$T_PASS passed, $T_FAIL failed"
	[ "$T_FAIL" -eq 0 ]
	exit $?
}
