#!/bin/sh
# serve.sh - the resident server (--serve) and pipe mode handing it
# messages (--socket): every corpus file gets the same exit code, line and
# rows as when pipe mode stores it itself; a server that is not there is
# stored around; one that goes wrong mid-message means exit 75, never a
# loss; a database outage is answered "retry" and survived; a hostile or
# stuck client does not stop the server.

. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pg.sh"

pg_start
pg_newdb viaserver || exit 99
pg_newdb direct || exit 99
W=$(mktemp -d "${TMPDIR:-/tmp}/tlsrpt-serve.XXXXXX")
S=$W/socket
SPID=
cleanup() {
	[ -n "$SPID" ] && kill -9 "$SPID" 2>/dev/null
	rm -rf "$W"
	pg_cleanup
}
trap cleanup EXIT

C=$TI_TEST_DATA/corpus
msg=$C/mjl-__mox/example.eml
serve_start viaserver || exit 99
check "socket: owner and group only" "$(stat -c %a "$S")" 660

# A second server on the same socket does not start.
run_bin --serve --socket "$S" -d dbname=viaserver
check "second server: exit 78" "$RC" 78
check_match "second server: says why" "$ERR" "already listens on $S"
check "second server: the first still answers" "$(test -S "$S" && echo yes)" yes

# Every corpus file, handed over and stored directly: same exit code, same
# line, same rows.
table=$TI_TEST_DATA/corpus-expected.txt
n=0
while IFS='	' read -r path want reason; do
	case $path in
	'#'*|'') continue ;;
	shared/*) file=$SHARED_CORPUS/${path#shared/}
		[ -f "$file" ] || continue ;;
	*) file=$C/$path ;;
	esac
	n=$((n + 1))
	pipe_bin "$file" --socket "$S" -d "host=/nonexistent dbname=none"
	rc_s=$RC
	line_s=$(printf '%s\n' "$ERR" | sed 's/ ms=[0-9]*$//')
	pipe_bin "$file" -d dbname=direct
	line_d=$(printf '%s\n' "$ERR" | sed 's/ ms=[0-9]*$//')
	if [ "$rc_s" != "$RC" ] || [ "$line_s" != "$line_d" ]; then
		not_ok "$path: as stored directly" \
		    "handed over: $rc_s $line_s" "direct:      $RC $line_d"
	else
		ok "$path: as stored directly ($want)"
	fi
done <"$table"
[ "$n" -ge 40 ] || not_ok "corpus: at least 40 files" "got $n"

# The rows, column by column (ids and arrival times aside).
digest() {
	pg_q "$1" "SELECT md5(string_agg(concat_ws('|', organization_name,
	    report_id, contact_info, start_datetime, end_datetime, source,
	    message_id, message_from, message_date, message_subject,
	    tls_report_domain, tls_report_submitter, dkim_result, dkim_domain,
	    dkim_authserv_id, submitter_match, encode(report_sha256, 'hex'),
	    report::text), ',' ORDER BY organization_name, report_id))
	    FROM tlsrpt.report"
	pg_q "$1" "SELECT count(*), md5(string_agg(concat_ws('|',
	    r.organization_name, r.report_id, p.policy_index, p.policy_type,
	    p.policy_domain, p.policy_string::text, p.mx_host::text,
	    p.total_successful_session_count, p.total_failure_session_count),
	    ',' ORDER BY r.organization_name, r.report_id, p.policy_index))
	    FROM tlsrpt.policy p JOIN tlsrpt.report r ON r.id = p.report_ref"
	pg_q "$1" "SELECT count(*), md5(string_agg(concat_ws('|',
	    r.organization_name, r.report_id, p.policy_index, d.detail_index,
	    d.result_type, d.sending_mta_ip, d.receiving_mx_hostname,
	    d.receiving_mx_helo, d.receiving_ip, d.failed_session_count,
	    d.additional_information, d.failure_reason_code), ','
	    ORDER BY r.organization_name, r.report_id, p.policy_index,
	    d.detail_index))
	    FROM tlsrpt.failure_detail d JOIN tlsrpt.policy p
	    ON p.id = d.policy_ref JOIN tlsrpt.report r ON r.id = d.report_ref"
	pg_q "$1" "SELECT count(*), md5(string_agg(concat_ws('|', source,
	    reason, message_id, message_from, message_subject, message_date,
	    tls_report_domain, tls_report_submitter, dkim_result, dkim_domain,
	    md5(headers), encode(raw_sha256, 'hex'), raw_size, raw_truncated,
	    md5(raw)), ',' ORDER BY raw_sha256))
	    FROM tlsrpt.rejected_message"
}
check "corpus: the same rows as stored directly" \
    "$(digest viaserver)" "$(digest direct)"
check_match "corpus: reports stored" \
    "$(pg_q viaserver "SELECT count(*) FROM tlsrpt.report")" '^[1-9][0-9]+$'

# The client's own --bounce-malformed decides its exit code.
printf 'Subject: not a report\n\nhello\n' >"$W/bad.eml"
pipe_bin "$W/bad.eml" --socket "$S" --bounce-malformed
check "malformed, --bounce-malformed: exit 65" "$RC" 65
check_match "malformed: the reason" "$ERR" 'rejected: .*kept in tlsrpt.rejected_message'

# The queue id reaches the server's log line.
pipe_bin "$msg" --socket "$S" --queue-id 4Xk9Zq1
check "queue id: exit 0" "$RC" 0
check_match "queue id: in the server's line" "$(tail -n 1 "$W/serve.err")" \
    '4Xk9Zq1.*duplicate: organization='

# A message larger than the server's limit is kept truncated, as pipe mode
# itself would.
serve_stop
check "SIGTERM: exit 0" "$SRC" 0
check "SIGTERM: socket removed" "$(test -e "$S" && echo there)" ""
check_match "SIGTERM: a summary" "$(tail -n 1 "$W/serve.err")" \
    'server: stored [1-9][0-9]*, duplicates [0-9]+, rejected [0-9]+'
pg_newdb small || exit 99
serve_start small -o max_message_size=2K || exit 99
big=$C/mjl-__mox/microsoft.eml
pipe_bin "$big" --socket "$S"
check "over the server's limit: exit 0" "$RC" 0
check_match "over the server's limit: rejected" "$ERR" 'rejected: .*larger than'
check "over the server's limit: kept truncated" \
    "$(pg_q small "SELECT raw_truncated, length(raw) FROM tlsrpt.rejected_message")" \
    "t|2048"
serve_stop

# rc_put RC: client $i's exit code into $W/rc.$i, whole or not at all
rc_put() {
	echo "$1" >"$W/rc.$i.new" && mv "$W/rc.$i.new" "$W/rc.$i"
}

# Twenty clients at once: each waits its turn, each is stored.
pg_newdb many || exit 99
serve_start many || exit 99
i=0
for f in $(find "$C" -name '*.eml' | sort | head -n 20); do
	i=$((i + 1))
	( "$BIN" --socket "$S" <"$f" >/dev/null 2>&1; rc_put $? ) &
done
# wait_clients N: until N clients have left their exit code in $W/rc.*
clients_done() {
	[ "$(ls "$W" | grep -c '^rc\.[0-9]*$')" -ge "$1" ]
}
wait_clients() {
	wait_until clients_done "$1"
}
wait_clients "$i"
check "twenty at once: all exit 0" "$(cat "$W"/rc.* | sort -u | tr '\n' ' ')" "0 "
pg_newdb many_direct || exit 99
for f in $(find "$C" -name '*.eml' | sort | head -n 20); do
	"$BIN" -d dbname=many_direct <"$f" >/dev/null 2>&1
done
counts="SELECT (SELECT count(*) FROM tlsrpt.report), (SELECT count(*) FROM tlsrpt.rejected_message)"
check "twenty at once: as many rows as one by one" "$(pg_q many "$counts")" \
    "$(pg_q many_direct "$counts")"
rm -f "$W"/rc.*

# Hostile and broken clients: refused with a reason, and the server goes
# on.
client() {
	python3 -c '
import socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.sendall(sys.argv[2].encode().decode("unicode_escape").encode("latin-1"))
if sys.argv[3] == "close":
    s.shutdown(socket.SHUT_WR)
elif sys.argv[3] == "stall":
    time.sleep(float(sys.argv[4]))
elif sys.argv[3] == "trickle":
    for i in range(int(float(sys.argv[4]) / 0.25)):
        time.sleep(0.25)
        try:
            s.send(b"x")
        except OSError:
            break
print(s.recv(65536).decode("latin-1"), end="")
' "$S" "$@"
}
check_match "not a request: answered retry" "$(client 'GET / HTTP/1.0\r\n\r\n' close)" \
    '^retry	0			not a hand-off request$'
check_match "request cut short: answered retry" \
    "$(client 'TLSRPT-INGEST/1 message 1000 - -\nFrom: x\n' close)" \
    '^retry	0			request cut short$'
check_match "request longer than it says: answered retry" \
    "$(client 'TLSRPT-INGEST/1 message 3 - -\nFrom: x\n' close)" \
    '^retry	0			request longer than it says$'
check_match "header with no end: answered retry" \
    "$(client "$(printf 'x%.0s' $(seq 200))" close)" \
    '^retry	0			request header too long$'
n_before=$(pg_q many "SELECT count(*) FROM tlsrpt.rejected_message")
check "broken requests: nothing stored" \
    "$(pg_q many "SELECT count(*) FROM tlsrpt.rejected_message")" "$n_before"
pipe_bin "$msg" --socket "$S"
check "after broken requests: still serving" "$RC" 0
serve_stop

# Stopped with clients waiting in the listen queue: those are served
# before it exits, so a restart defers none.  (SIGSTOP holds the server
# while they connect, which each says with -v before it sends; SIGTERM is
# then taken before SIGCONT.)
pg_newdb drain || exit 99
serve_start drain || exit 99
kill -STOP "$SPID"
i=0
for f in $(find "$C" -name '*.eml' | sort | head -n 3); do
	i=$((i + 1))
	( "$BIN" -v --socket "$S" -d "host=/nonexistent dbname=none" <"$f" \
	    >/dev/null 2>"$W/err.$i"; rc_put $? ) &
done
clients_queued() {
	[ "$(cat "$W"/err.* 2>/dev/null |
	    grep -c 'handing the message to the server')" -ge "$1" ]
}
wait_until clients_queued 3 ||
	not_ok "stopped with three queued: the three connect" \
	    "they said: $(cat "$W"/err.* | tr '\n' ' ')"
kill -TERM "$SPID"
kill -CONT "$SPID"
wait "$SPID"
SRC=$?
SPID=
wait_clients 3
check "stopped with three queued: exit 0" "$SRC" 0
check "stopped with three queued: each answered with exit 0" \
    "$(cat "$W"/rc.* | tr '\n' ' ')" "0 0 0 "
check "stopped with three queued: each stored or kept" \
    "$(pg_q drain "SELECT (SELECT count(*) FROM tlsrpt.report) + (SELECT count(*) FROM tlsrpt.rejected_message)")" 3
check "stopped with three queued: socket removed" \
    "$(test -e "$S" && echo there)" ""
rm -f "$W"/rc.* "$W"/err.*

# A client that stops sending, or trickles its bytes, is dropped after the
# time limit (here 1 s), and the next one is served.
serve_start many -o timeout=1 || exit 99
check_match "stalled client: dropped" \
    "$(client 'TLSRPT-INGEST/1 message 100 - -\n' stall 3)" \
    '^retry	0			request cut short: too slow$'
check_match "trickling client: dropped" \
    "$(client 'TLSRPT-INGEST/1 message 100 - -\n' trickle 4)" \
    '^retry	0			request cut short: too slow$'
pipe_bin "$msg" --socket "$S"
check "after a stalled client: still serving" "$RC" 0

# Clients that connect and send nothing, or trickle their request a byte
# at a time (attack, lib.sh), hold a reader each for a few seconds and
# delay nobody: five deliveries go through, each handed over (the
# clients themselves could not store: no database), while three of each
# stay connected; then each of those is dropped with the reason.
serve_stop
pg_newdb busy || exit 99
serve_start busy || exit 99
for a in 1:idle 2:idle 3:idle 4:trickle 5:trickle 6:trickle; do
	attack "${a%%:*}" "${a#*:}"
done
wait_until attackers_up 6 || not_ok "attackers: all connected"
sleep 0.5
t0=$(date +%s%N)
rcs=
dropped=
for f in $(find "$C" -name '*.eml' | sort | head -n 5); do
	"$BIN" --socket "$S" -d "host=/nonexistent dbname=none" <"$f" \
	    >/dev/null 2>&1
	rcs="$rcs$? "
	# After the first: the slow clients held their readers meanwhile
	# (later ones may be past their few seconds on a slow build).
	[ -n "$dropped" ] || dropped=$(ls "$W" | grep -c '^attack\.[0-9]$')
done
ms=$((($(date +%s%N) - t0) / 1000000))
check "six slow clients: five deliveries exit 0" "$rcs" "0 0 0 0 0 "
check "six slow clients: five deliveries within 5 s (took $ms ms)" \
    "$([ "$ms" -lt 5000 ] && echo yes)" yes
check "six slow clients: still connected during a delivery" "$dropped" 0
check "six slow clients: five stored or kept" \
    "$(pg_q busy "SELECT (SELECT count(*) FROM tlsrpt.report) + (SELECT count(*) FROM tlsrpt.rejected_message)")" 5
wait_until attackers_gone 6 || not_ok "six slow clients: all dropped"
check "six slow clients: each answered retry, too slow" \
    "$(cat "$W"/attack.[0-9] | sort -u)" \
    "$(printf 'retry\t0\t\t\trequest cut short: too slow')"
check "six slow clients: each refusal logged" \
    "$(grep -c 'hand-off refused: request cut short: too slow' "$W/serve.err")" 6
rm -f "$W"/attack.*

# The database goes away under a running server: "retry", exit 75, one
# line; once it is back, the server connects again by itself.
pg_newdb outage || exit 99
serve_stop
serve_start outage || exit 99
pg_ctl_stop fast
pipe_bin "$msg" --socket "$S" -d "host=/nonexistent dbname=none"
check "database down: exit 75" "$RC" 75
check "database down: one line" "$(printf '%s\n' "$ERR" | wc -l | tr -d ' ')" 1
check_match "database down: says so" "$ERR" 'database unavailable.*left for a later try'
check "database down: the server is still there" "$(kill -0 "$SPID" 2>/dev/null && echo yes)" yes
pg_ctl_start
pipe_bin "$msg" --socket "$S" -d "host=/nonexistent dbname=none"
check "database back: exit 0" "$RC" 0
check_match "database back: stored" "$ERR" 'stored: organization='
check "database back: stored once" "$(pg_q outage "SELECT count(*) FROM tlsrpt.report")" 1
# A restart closes the server's idle connection; it notices and reconnects.
pg_ctl_stop fast
pg_ctl_start
pipe_bin "$C/mjl-__mox/microsoft.eml" --socket "$S" -d "host=/nonexistent dbname=none"
check "database restarted: exit 0" "$RC" 0
check "database restarted: reconnected" \
    "$(grep -c 'connection lost while idle' "$W/serve.err")" 2

# The server killed: its socket is left behind.  Pipe mode stores the
# message itself (-v says why); a new server replaces the stale socket.
kill -9 "$SPID"
wait "$SPID" 2>/dev/null
SPID=
pg_newdb fallback || exit 99
pipe_bin "$msg" -v --socket "$S" -d dbname=fallback
check "no server (stale socket): exit 0" "$RC" 0
check_match "no server (stale socket): says so with -v" "$ERR" "no server on $S"
check "no server (stale socket): stored directly" \
    "$(pg_q fallback "SELECT count(*) FROM tlsrpt.report")" 1
rm -f "$S"
pipe_bin "$C/mjl-__mox/microsoft.eml" --socket "$S" -d dbname=fallback
check "no socket: stored directly" \
    "$(pg_q fallback "SELECT count(*) FROM tlsrpt.report")" 2
: >"$S.tmp" && ln -s "$S.tmp" "$S.link"
run_bin --serve --socket "$S.link" -d dbname=fallback
check "not a socket: exit 78" "$RC" 78
check_match "not a socket: says so" "$ERR" 'exists and is not a socket'
check "not a socket: left alone" "$(test -L "$S.link" && echo yes)" yes

# A server that goes wrong mid-message: exit 75 and one line, never 0,
# and pipe mode does not store the message behind its back.
# via_fake FILE ANSWER [header]: pipe mode hands FILE to a fake server on
# $S, which reads the whole request (to the client's end of sending), or
# with "header" only its first line, then answers ANSWER ("-": nothing)
# and closes.
via_fake() {
	rm -f "$S" "$S.ready"
	python3 -c '
import os, socket, sys
s = socket.socket(socket.AF_UNIX)
s.bind(sys.argv[1])
s.listen(1)
open(sys.argv[1] + ".ready", "w").close()
c, _ = s.accept()
got = b""
while True:
    b = c.recv(1 << 16)
    got += b
    if not b or (sys.argv[3] == "header" and b"\n" in got):
        break
if sys.argv[2] != "-":
    c.sendall(sys.argv[2].encode().decode("unicode_escape").encode())
c.close()
' "$S" "$2" "${3:-all}" &
	_fpid=$!
	wait_until test -e "$S.ready"
	pipe_bin "$1" --socket "$S" -d dbname=lost
	wait "$_fpid"
}
pg_newdb lost || exit 99
for case in 'closes:-' 'no newline:stored	1	x	y' 'bad count:stored	one	x	y	\n' \
    'bad word:kept	1	x	y	\n'; do
	name=${case%%:*}
	via_fake "$msg" "${case#*:}"
	check "broken server ($name): exit 75" "$RC" 75
	check "broken server ($name): one line" "$(printf '%s\n' "$ERR" | wc -l | tr -d ' ')" 1
	check_match "broken server ($name): says so" "$ERR" "server on $S: (no answer|not an answer); left for a later try"
done
# A server that refuses the request at its header answers "retry" and
# closes without reading the rest: a message larger than the socket's
# buffer meets a closed socket, and the client still gives the reason.
{ cat "$msg"; head -c 4194304 /dev/zero | tr '\0' x; } >"$W/big.eml"
via_fake "$W/big.eml" 'retry\t0\t\t\tnot a hand-off request\n' header
check "refused at the header: exit 75" "$RC" 75
check "refused at the header: one line" "$(printf '%s\n' "$ERR" | wc -l | tr -d ' ')" 1
check_match "refused at the header: gives the server's reason" "$ERR" \
    "server on $S: refused the message: not a hand-off request; left for a later try"
via_fake "$W/big.eml" 'stored\t1\tx\ty\t\n' header
check "\"stored\" before the whole message: exit 75" "$RC" 75
check_match "\"stored\" before the whole message: not believed" "$ERR" \
    "server on $S: sending the message: (Broken pipe|Connection reset by peer); left for a later try"
check "broken server: nothing stored behind its back" \
    "$(pg_q lost "SELECT count(*) FROM tlsrpt.report")" 0

# A server that accepts the connection but never reads: pipe mode stores
# the message itself once its few seconds to hand it over are up, well
# within its own time limit (here 20 s), and the message is stored once.
rm -f "$S" "$S.ready"
python3 -c '
import socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.bind(sys.argv[1])
s.listen(1)
open(sys.argv[1] + ".ready", "w").close()
c, _ = s.accept()
time.sleep(30)
' "$S" &
_fpid=$!
wait_until test -e "$S.ready"
pg_newdb unread || exit 99
t0=$(date +%s%N)
pipe_bin "$msg" --socket "$S" -d dbname=unread -o timeout=20
ms=$((($(date +%s%N) - t0) / 1000000))
kill "$_fpid" 2>/dev/null
wait "$_fpid" 2>/dev/null
check "server that does not read: exit 0" "$RC" 0
check_match "server that does not read: stored directly" "$ERR" \
    "server on $S: message not read in 5 s; storing it directly"
check "server that does not read: within 10 s (took $ms ms)" \
    "$([ "$ms" -lt 10000 ] && echo yes)" yes
check "server that does not read: stored once" \
    "$(pg_q unread "SELECT count(*) FROM tlsrpt.report")" 1

# --serve takes no messages of its own, and needs a socket.
run_bin --serve -d dbname=lost
check "--serve without a socket: exit 78" "$RC" 78
check_match "--serve without a socket: says so" "$ERR" 'socket: not set'
run_bin --serve --socket "$S" --maildir "$W"
check "--serve with --maildir: usage" "$RC" 64
run_bin --serve --socket "$S" --dry-run
check "--serve with --dry-run: usage" "$RC" 64

finish
