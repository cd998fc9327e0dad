#!/bin/sh
# https.sh - reports POSTed by HTTP (RFC 8460 section 3) to the resident
# server (--serve --http), with curl as the sender (once exactly as
# Postfix's reporter sends), and through a real nginx with a self-signed
# certificate: every answer and the rows behind it, the per-client cap
# on bodies kept aside, a report that comes by mail and by HTTPS, the
# database going away, and slow clients that must delay nobody; then
# TLS in the server itself, its certificate replaced on SIGHUP.

. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pg.sh"

for p in curl openssl python3; do
	if ! command -v "$p" >/dev/null 2>&1; then
		[ "${CI:-}" = true ] && { echo "FAIL: $p not installed"; exit 99; }
		echo "SKIP: $p not installed"
		exit 77
	fi
done

C=$TI_TEST_DATA/corpus
pg_start
pg_newdb h || exit 99
W=$(mktemp -d "${TMPDIR:-/tmp}/tlsrpt-https.XXXXXX")
S=$W/socket
SPID=
NGINX_PID=
TO=
cleanup() {
	[ -n "$SPID" ] && kill -9 "$SPID" 2>/dev/null
	[ -n "$NGINX_PID" ] && kill -TERM "$NGINX_PID" 2>/dev/null
	rm -rf "$W"
	pg_cleanup
}
trap cleanup EXIT

# http_start DB ARGS...: a server on $S and on a free loopback port;
# $URL is its address.
http_start() {
	_db=$1
	shift
	serve_start "$_db" --http 127.0.0.1:0 "$@" || return 1
	wait_until grep -q 'listening for HTTP on' "$W/serve.err" || return 1
	PORT=$(sed -n 's/.*listening for HTTP on 127.0.0.1 port \([0-9]*\)$/\1/p' \
	    "$W/serve.err" | tail -n 1)
	URL=http://127.0.0.1:$PORT/tlsrpt
}

# post FILE TYPE [CURL ARGS...]: POST FILE's bytes as TYPE to $URL (or
# $TO when set); CODE, BODY and HDRS (the answer's headers) are set.
post() {
	_f=$1 _t=$2
	shift 2
	CODE=$(curl -s -m 30 -o "$W/body" -D "$W/hdrs" -w '%{http_code}' \
	    -A 'tlsrpt-test/1.0' ${_t:+--header "Content-Type: $_t"} \
	    --data-binary @"$_f" "$@" "${TO:-$URL}")
	BODY=$(cat "$W/body")
	HDRS=$(tr -d '\r' <"$W/hdrs")
}

# report OUT ID: a report with report-id ID (from the RFC's sample)
report() {
	sed -e "s/\"report-id\": *\"[^\"]*\"/\"report-id\": \"$2\"/" \
	    "$C/domainaware__parsedmarc/rfc8460.json" >"$1"
}

count() {
	pg_q "$1" "SELECT (SELECT count(*) FROM tlsrpt.report), (SELECT count(*) FROM tlsrpt.rejected_message)"
}

report "$W/r1.json" http-one
gzip -c "$W/r1.json" >"$W/r1.json.gz"
http_start h || exit 99

# ---- Exactly as Postfix's reporter sends (its curl command line).
out=$(cd "$W" && curl --silent --header 'Content-Type: application/tlsrpt+gzip' \
    --data-binary @r1.json.gz "$URL")
check "as Postfix sends: answered stored" "$out" stored
check "as Postfix sends: one report, source https, no DKIM verdict" \
    "$(pg_q h "SELECT report_id, source, dkim_result IS NULL, authenticated FROM tlsrpt.report")" \
    "http-one|https|t|f"
check "as Postfix sends: its policy rows" \
    "$(pg_q h "SELECT count(*) FROM tlsrpt.policy")" 1
post "$W/r1.json.gz" application/tlsrpt+gzip
check "the same again: 200" "$CODE" 200
check "the same again: a duplicate" "$BODY" "duplicate: already stored"
post "$W/r1.json.gz" application/tlsrpt+gzip
check "the same a third time: 201 only once" "$CODE $(count h)" "200 1|0"

# ---- The body is sniffed: gzip or not, whatever the Content-Type says.
report "$W/r2.json" http-plain
post "$W/r2.json" application/tlsrpt+json
check "plain JSON as +json: 201" "$CODE $BODY" "201 stored"
report "$W/r3.json" http-gzip-said-json
gzip -c "$W/r3.json" >"$W/r3.json.gz"
post "$W/r3.json.gz" application/tlsrpt+json
check "gzip said to be +json: 201" "$CODE" 201
report "$W/r4.json" http-json-said-gzip
post "$W/r4.json" application/tlsrpt+gzip
check "JSON said to be +gzip: 201" "$CODE" 201
report "$W/r5.json" http-octet
post "$W/r5.json" application/octet-stream
check "a report under another Content-Type: stored all the same" "$CODE" 201
check "four more stored, nothing kept aside" "$(count h)" "5|0"

# ---- Not a usable report: kept aside as a bad mail is, 400 and why.
printf 'not a report at all' >"$W/bad1"
post "$W/bad1" 'application/tlsrpt+json; charset=utf-8' -A 'Bad Sender/2'
check "not JSON: 400" "$CODE" 400
check_match "not JSON: the one-line reason" "$BODY" "^invalid JSON at line 1"
check "not JSON: one line" "$(printf '%s\n' "$BODY" | wc -l | tr -d ' ')" 1
check "not JSON: kept, source https, the body as sent" \
    "$(pg_q h "SELECT source, raw = 'not a report at all'::bytea, raw_truncated, message_id IS NULL FROM tlsrpt.rejected_message")" \
    "https|t|f|t"
check "not JSON: the reason kept" \
    "$(pg_q h "SELECT reason FROM tlsrpt.rejected_message")" "$BODY"
check "not JSON: its header text" \
    "$(pg_q h "SELECT headers FROM tlsrpt.rejected_message")" \
    "POST /tlsrpt HTTP/1.1
Client-Address: 127.0.0.1
User-Agent: Bad Sender/2
Content-Type: application/tlsrpt+json; charset=utf-8"
printf '{"organization-name": "x"}' >"$W/bad2"
post "$W/bad2" application/tlsrpt+json
check_match "JSON but no report: 400 and why" "$CODE $BODY" '^400 .*date-range'
printf '\037\213\010\000garbage' >"$W/bad3"
post "$W/bad3" application/tlsrpt+gzip
check_match "broken gzip: 400 and why" "$CODE $BODY" '^400 .*(gzip|inflate|compressed)'
: >"$W/empty"
post "$W/empty" application/tlsrpt+gzip
check "empty body: 400" "$CODE $BODY" "400 empty message"
check "four kept aside, all https" \
    "$(pg_q h "SELECT count(*), string_agg(DISTINCT source, ',') FROM tlsrpt.rejected_message")" \
    "4|https"
# Control characters in a header are escaped in the kept text.
printf 'another bad body' >"$W/bad4"
post "$W/bad4" application/tlsrpt+json -A "$(printf 'evil\001agent')" \
    --header 'X-Other: x'
check "a control character in User-Agent: escaped" \
    "$(pg_q h "SELECT count(*) FROM tlsrpt.rejected_message WHERE headers LIKE '%User-Agent: evil\\\\x01agent%'")" 1

# ---- Neither a report nor said to be one: 415, nothing kept.
n=$(count h)
post "$W/bad1" text/plain
check "text/plain, not a report: 415" "$CODE" 415
post "$W/bad1" ''
check "no Content-Type, not a report: 415" "$CODE" 415
check "415: nothing kept" "$(count h)" "$n"

# ---- Wrong method: 405 with Allow.
CODE=$(curl -s -o /dev/null -D "$W/hdrs" -w '%{http_code}' "$URL")
check "GET: 405" "$CODE" 405
check_match "GET: Allow: POST" "$(tr -d '\r' <"$W/hdrs")" '^Allow: POST$'
CODE=$(curl -s -o /dev/null -w '%{http_code}' -X PUT --data-binary @"$W/r1.json" "$URL")
check "PUT: 405" "$CODE" 405
# Any path by default.
TO="http://127.0.0.1:$PORT/any/where"
post "$W/r1.json.gz" application/tlsrpt+gzip
TO=
check "any path by default: answered" "$CODE" 200

# ---- Monitored domains apply as for mail: kept aside, 400 and why.
pg_q h "INSERT INTO tlsrpt.monitored_domain (domain) VALUES ('example.org')" >/dev/null
report "$W/r6.json" http-unmonitored
post "$W/r6.json" application/tlsrpt+json
check_match "an unmonitored domain: 400 and why" "$CODE $BODY" \
    '^400 no policy domain is monitored \(company-y.example\)$'
check "an unmonitored domain: kept aside" \
    "$(pg_q h "SELECT source FROM tlsrpt.rejected_message WHERE reason LIKE 'no policy domain%'")" https
pg_q h "DELETE FROM tlsrpt.monitored_domain" >/dev/null

# ---- The database goes away: 503 with Retry-After, nothing stored;
# the sender's retry once it is back is stored.
report "$W/r7.json" http-outage
n=$(count h)
pg_ctl_stop fast
post "$W/r7.json" application/tlsrpt+json
check "database down: 503" "$CODE" 503
check_match "database down: Retry-After" "$HDRS" '^Retry-After: [0-9]+$'
check "database down: says to try later" "$BODY" "temporary failure; try again later"
post "$W/bad1" application/tlsrpt+json
check "database down, a bad body: 503 too" "$CODE" 503
pg_ctl_start
check "database down: nothing stored" "$(count h)" "$n"
post "$W/r7.json" application/tlsrpt+json
check "database back: the retry stored" "$CODE $BODY" "201 stored"
check "database back: once" \
    "$(pg_q h "SELECT count(*) FROM tlsrpt.report WHERE report_id = 'http-outage'")" 1

# ---- One report by mail and by HTTPS: one report, in either order.
report "$W/both1.json" mail-then-https
report_mail "$W/both1.eml" "$W/both1.json" company-y.example
pipe_bin "$W/both1.eml" --socket "$S"
check_match "mail first: stored" "$RC $ERR" '^0 .*stored: '
post "$W/both1.json" application/tlsrpt+json
check "then by HTTPS: 200, a duplicate" "$CODE" 200
check "mail first: one report, source mail" \
    "$(pg_q h "SELECT count(*), min(source) FROM tlsrpt.report WHERE report_id = 'mail-then-https'")" "1|mail"
report "$W/both2.json" https-then-mail
report_mail "$W/both2.eml" "$W/both2.json" company-y.example
post "$W/both2.json" application/tlsrpt+json
check "HTTPS first: 201" "$CODE" 201
pipe_bin "$W/both2.eml" --socket "$S"
check_match "then by mail: a duplicate" "$RC $ERR" '^0 .*duplicate: '
check "HTTPS first: one report, source https" \
    "$(pg_q h "SELECT count(*), min(source) FROM tlsrpt.report WHERE report_id = 'https-then-mail'")" "1|https"
serve_stop
check "stopped: exit 0" "$SRC" 0

# ---- Too large: kept, cut at the size limit, and 413.
pg_newdb small || exit 99
http_start small -o max_message_size=4K || exit 99
{ cat "$W/r1.json"; head -c 10000 /dev/zero | tr '\0' ' '; } >"$W/big.json"
post "$W/big.json" application/tlsrpt+json
check "over the size limit: 413" "$CODE" 413
check_match "over the size limit: why" "$BODY" 'larger than 4096 bytes'
check "over the size limit: kept, cut" \
    "$(pg_q small "SELECT source, raw_truncated, length(raw) FROM tlsrpt.rejected_message")" \
    "https|t|4096"
head -c 4096 "$W/big.json" >"$W/edge.json"
post "$W/edge.json" application/tlsrpt+json
check "at the size limit exactly: a report (with trailing spaces)" "$CODE" 201
serve_stop

# ---- The per-client cap on bodies kept aside (here 3 an hour), and
# the client address from a trusted proxy (loopback by default).
pg_newdb cap || exit 99
http_start cap -o http_rejects_per_hour=3 -o http_path=/tlsrpt || exit 99
for i in 1 2 3 4; do
	printf 'bad body %s' "$i" >"$W/cap.$i"
done
codes=
for i in 1 2 3; do
	post "$W/cap.$i" application/tlsrpt+json
	codes="$codes$CODE "
done
check "cap: three kept" "$codes$(count cap)" "400 400 400 0|3"
post "$W/cap.4" application/tlsrpt+json
check "cap: the fourth 429" "$CODE" 429
check_match "cap: with Retry-After within the hour" "$HDRS" \
    '^Retry-After: ([1-9][0-9]{0,2}|[1-2][0-9]{3}|3[0-5][0-9]{2}|3600)$'
check "cap: the fourth not kept" "$(count cap)" "0|3"
post "$W/big.json" application/tlsrpt+json
check "cap: a good report from the capped client still stored" "$CODE" 201
post "$W/cap.4" application/tlsrpt+json --header 'X-Real-IP: 192.0.2.7'
check "cap: another client (via the proxy) has its own" "$CODE" 400
check "cap: its address kept, with the proxy's" \
    "$(pg_q cap "SELECT headers FROM tlsrpt.rejected_message WHERE raw = 'bad body 4'::bytea")" \
    "POST /tlsrpt HTTP/1.1
Client-Address: 192.0.2.7
Proxy-Address: 127.0.0.1
User-Agent: tlsrpt-test/1.0
Content-Type: application/tlsrpt+json"
printf 'bad body 5' >"$W/cap.5"
post "$W/cap.5" application/tlsrpt+json --header 'X-Forwarded-For: 198.51.100.1, 203.0.113.9'
check "X-Forwarded-For: its last address is the client" \
    "$(pg_q cap "SELECT count(*) FROM tlsrpt.rejected_message WHERE headers LIKE '%Client-Address: 203.0.113.9%'")" 1
post "$W/cap.2" application/tlsrpt+json --header 'X-Real-IP: not-an-address'
check "X-Real-IP not an address: the peer is the client, capped" "$CODE" 429
TO="http://127.0.0.1:$PORT/other"
post "$W/r1.json" application/tlsrpt+json
TO=
check "http_path set: another path 404" "$CODE" 404
check "429 and 404: nothing more kept" "$(count cap)" "1|5"
serve_stop
# Only a trusted proxy is believed.
http_start cap -o http_trusted_proxies=192.0.2.1,2001:db8::/32 || exit 99
printf 'untrusted proxy' >"$W/untrusted"
post "$W/untrusted" application/tlsrpt+json --header 'X-Real-IP: 192.0.2.99'
check "untrusted peer: its X-Real-IP ignored" \
    "$(pg_q cap "SELECT headers LIKE '%Client-Address: 127.0.0.1%' AND headers NOT LIKE '%192.0.2.99%' FROM tlsrpt.rejected_message WHERE raw = 'untrusted proxy'::bytea")" t
serve_stop
run_bin --serve --http 127.0.0.1:0 -d dbname=cap -o http_trusted_proxies=10.0.0.1/33
check "a bad proxy list: exit 78" "$RC" 78
check_match "a bad proxy list: says so" "$ERR" "http_trusted_proxies: '10.0.0.1/33': bad prefix length"
run_bin --serve --http 127.0.0.1:99999 -d dbname=cap
check "a bad port: exit 78" "$RC" 78
run_bin --http 127.0.0.1:0 -d dbname=cap "$W/r1.json"
check "--http without --serve: usage" "$RC" 64
check_match "--http without --serve: says so" "$ERR" '--http goes with --serve'

# ---- HTTP only, no socket: stores, and stops on SIGTERM.
"$BIN" --serve --http 127.0.0.1:0 -d dbname=cap >"$W/only.out" 2>"$W/only.err" &
OPID=$!
wait_until grep -q 'listening for HTTP' "$W/only.err"
URL=http://127.0.0.1:$(sed -n 's/.*port \([0-9]*\)$/\1/p' "$W/only.err")/tlsrpt
report "$W/only.json" http-only
post "$W/only.json" application/tlsrpt+json
check "HTTP only: 201" "$CODE" 201
kill -TERM "$OPID"
wait "$OPID"
check "HTTP only: SIGTERM, exit 0" "$?" 0

# ---- Slow clients hold a connection each and delay nobody: hand-offs
# on the socket and other POSTs go through meanwhile; an idle one is
# dropped after http_timeout.
pg_newdb slow || exit 99
http_start slow -o http_timeout=6 || exit 99
python3 -c '
import socket, sys, time
port = int(sys.argv[1])
held = []
# idle; half a request line; headers and part of a body
for send in (b"", b"POST /tlsrpt HT",
             b"POST /tlsrpt HTTP/1.1\r\nHost: x\r\nContent-Type: application/tlsrpt+json\r\nContent-Length: 100000\r\n\r\n{\"a\":"):
    for i in range(3):
        s = socket.create_connection(("127.0.0.1", port))
        if send:
            s.sendall(send)
        held.append(s)
open(sys.argv[2], "w").close()
t0 = time.time()
closed = 0
while time.time() - t0 < 15 and closed < len(held):
    closed = 0
    for s in held:
        s.setblocking(False)
        try:
            b = s.recv(4096)
            closed += b == b""
        except BlockingIOError:
            pass
        except OSError:
            closed += 1
    time.sleep(0.1)
open(sys.argv[3], "w").write("%d %.0f" % (closed, time.time() - t0))
' "$PORT" "$W/slow.up" "$W/slow.done" &
SLOW=$!
wait_until test -e "$W/slow.up"
t0=$(date +%s%N)
rcs=
for f in $(find "$C" -name '*.eml' | sort | head -n 3); do
	"$BIN" --socket "$S" -d "host=/nonexistent dbname=none" <"$f" \
	    >/dev/null 2>&1
	rcs="$rcs$? "
done
codes=
for i in 1 2 3; do
	report "$W/slow.$i.json" "while-slow-$i"
	post "$W/slow.$i.json" application/tlsrpt+json
	codes="$codes$CODE "
done
ms=$((($(date +%s%N) - t0) / 1000000))
check "nine slow clients: three hand-offs exit 0" "$rcs" "0 0 0 "
check "nine slow clients: three POSTs stored" "$codes" "201 201 201 "
check "nine slow clients: all within 5 s (took $ms ms)" \
    "$([ "$ms" -lt 5000 ] && echo yes)" yes
check "nine slow clients: still connected meanwhile" \
    "$(test -e "$W/slow.done" && echo gone)" ""
wait "$SLOW"
check_match "nine slow clients: all dropped once idle for 6 s" \
    "$(cat "$W/slow.done")" '^9 ([6-9]|1[0-4])$'
check "nine slow clients: the stored rows" "$(count slow)" "6|0"
serve_stop

# ---- Connection limits: past http_client_connections from one address
# a connection is refused at once; the others are still served.
http_start slow -o http_client_connections=2 -o http_timeout=5 || exit 99
got=$(python3 -c '
import socket, sys
port = int(sys.argv[1])
held = [socket.create_connection(("127.0.0.1", port)) for i in range(2)]
s = socket.create_connection(("127.0.0.1", port))
s.settimeout(3)
try:
    print("closed" if s.recv(100) == b"" else "answered")
except socket.timeout:
    print("held")
except OSError:
    print("closed")
' "$PORT")
check "a third connection from one address: closed at once" "$got" closed
serve_stop
http_start slow -o http_connections=3 -o http_client_connections=10 || exit 99
got=$(python3 -c '
import socket, sys
port = int(sys.argv[1])
held = [socket.create_connection(("127.0.0.1", port)) for i in range(3)]
s = socket.create_connection(("127.0.0.1", port))
s.sendall(b"GET /tlsrpt HTTP/1.0\r\n\r\n")
s.settimeout(2)
try:
    print("answered" if s.recv(100) else "closed", end=" ")
except socket.timeout:
    print("held", end=" ")
for h in held:
    h.close()
s.settimeout(5)
try:
    print(s.recv(100).split(b"\r\n")[0].decode())
except socket.timeout:
    print("still held")
' "$PORT")
check "past http_connections: held until one closes, then served" "$got" \
    "held HTTP/1.1 405 Method Not Allowed"
# A header block past 32 KiB: refused by libmicrohttpd, nothing read on.
big=$(head -c 40000 /dev/zero | tr '\0' a)
post "$W/r1.json" application/tlsrpt+json --header "X-Flood: $big"
check_match "40 KB of headers: refused" "$CODE" '^(413|431)$'
report "$W/after-flood.json" after-flood
post "$W/after-flood.json" application/tlsrpt+json
check "after a header flood: still serving" "$CODE" 201
serve_stop

# ---- Through nginx, over TLS with a self-signed certificate: the
# shipped site, its certificate and upstream swapped for the test's.
if ! command -v nginx >/dev/null 2>&1 && [ ! -x /usr/sbin/nginx ]; then
	if [ "${CI:-}" = true ]; then
		not_ok "nginx installed"
	else
		echo "# nginx not installed: its part skipped"
	fi
	finish
fi
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
pg_newdb viaproxy || exit 99
http_start viaproxy || exit 99
N=$W/nginx
mkdir -p "$N/logs" "$N/tmp"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=localhost \
    -keyout "$N/key.pem" -out "$N/cert.pem" >/dev/null 2>&1 ||
	not_ok "openssl: a self-signed certificate"
NPORT=$(python3 -c '
import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])')
sed -e "s|listen 443 ssl;|listen 127.0.0.1:$NPORT ssl;|" \
    -e '/listen \[::\]:443 ssl;/d' \
    -e "s|ssl_certificate .*|ssl_certificate $N/cert.pem;|" \
    -e "s|ssl_certificate_key .*|ssl_certificate_key $N/key.pem;|" \
    -e "s|proxy_pass http://127.0.0.1:8461;|proxy_pass http://127.0.0.1:$PORT;|" \
    "$top_srcdir/contrib/nginx/tlsrpt.conf" >"$N/site.conf"
cat >"$N/nginx.conf" <<CONF
$( [ "$(id -u)" = 0 ] && echo 'user root;')
worker_processes 1;
pid $N/nginx.pid;
error_log $N/logs/error.log;
events {}
http {
	access_log $N/logs/access.log;
	client_body_temp_path $N/tmp/body;
	proxy_temp_path $N/tmp/proxy;
	fastcgi_temp_path $N/tmp/fastcgi;
	uwsgi_temp_path $N/tmp/uwsgi;
	scgi_temp_path $N/tmp/scgi;
	include $N/site.conf;
}
CONF
if ! "$NGINX" -p "$N" -c "$N/nginx.conf" -e "$N/logs/error.log" 2>"$N/start.err"; then
	not_ok "nginx starts" "$(cat "$N/start.err" "$N/logs/error.log" 2>/dev/null)"
	finish
fi
wait_until test -s "$N/nginx.pid"
NGINX_PID=$(cat "$N/nginx.pid")
URL=https://localhost:$NPORT/tlsrpt
# The sender comes from 127.0.0.2; nginx passes that on from 127.0.0.1.
report "$W/px.json" via-nginx
gzip -c "$W/px.json" >"$W/px.json.gz"
post "$W/px.json.gz" application/tlsrpt+gzip -k --interface 127.0.0.2 \
    --resolve "localhost:$NPORT:127.0.0.1"
check "through nginx: 201" "$CODE $BODY" "201 stored"
check "through nginx: stored, source https" \
    "$(pg_q viaproxy "SELECT report_id, source FROM tlsrpt.report")" "via-nginx|https"
post "$W/px.json.gz" application/tlsrpt+gzip -k --interface 127.0.0.2 \
    --resolve "localhost:$NPORT:127.0.0.1"
check "through nginx: again, 200" "$CODE" 200
post "$W/bad1" application/tlsrpt+json -k --interface 127.0.0.2 \
    --resolve "localhost:$NPORT:127.0.0.1"
check_match "through nginx: a bad body, 400 and why" "$CODE $BODY" '^400 invalid JSON'
check "through nginx: the sender's address kept, and the proxy's" \
    "$(pg_q viaproxy "SELECT headers FROM tlsrpt.rejected_message")" \
    "POST /tlsrpt HTTP/1.0
Client-Address: 127.0.0.2
Proxy-Address: 127.0.0.1
User-Agent: tlsrpt-test/1.0
Content-Type: application/tlsrpt+json"
CODE=$(curl -s -k -o /dev/null -w '%{http_code}' \
    --resolve "localhost:$NPORT:127.0.0.1" "$URL")
check "through nginx: GET, 405 from the server" "$CODE" 405
CODE=$(curl -s -k -o /dev/null -w '%{http_code}' \
    --resolve "localhost:$NPORT:127.0.0.1" "https://localhost:$NPORT/other")
check "through nginx: another path, 404 from nginx" "$CODE" 404
pg_ctl_stop fast
post "$W/px.json" application/tlsrpt+json -k \
    --resolve "localhost:$NPORT:127.0.0.1"
check "through nginx, database down: 503" "$CODE" 503
check_match "through nginx, database down: Retry-After passed on" "$HDRS" \
    '^Retry-After: [0-9]+$'
pg_ctl_start
kill -TERM "$NGINX_PID"
NGINX_PID=
serve_stop
check "through nginx: the server stops, exit 0" "$SRC" 0

# ---- TLS in the server itself (http_tls_certificate, http_tls_key):
# HTTPS only on its port; SIGHUP reads both files again and serves the
# new certificate on the same socket, or keeps the old one if they do
# not load; a file that cannot be read at start is a configuration error.
T=$W/tls
mkdir -p "$T"
for i in 1 2; do
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 \
	    -subj "/CN=tlsrpt-test-$i" -addext "subjectAltName=IP:127.0.0.1" \
	    -keyout "$T/key$i.pem" -out "$T/cert$i.pem" >/dev/null 2>&1 ||
		not_ok "openssl: self-signed certificate $i"
	openssl x509 -in "$T/cert$i.pem" -noout -fingerprint -sha256 \
	    >"$T/fp$i"
done
cp "$T/cert1.pem" "$T/cert.pem"
cp "$T/key1.pem" "$T/key.pem"
# served: the fingerprint of the certificate the server presents
served() {
	openssl s_client -connect "127.0.0.1:$PORT" </dev/null 2>/dev/null |
	    openssl x509 -noout -fingerprint -sha256 2>/dev/null
}
# tls_post CA FILE: as Postfix's reporter sends, over HTTPS; CODE
tls_post() {
	CODE=$(cd "$W" && curl --silent -m 30 --cacert "$1" -o /dev/null \
	    -w '%{http_code}' --header 'Content-Type: application/tlsrpt+gzip' \
	    --data-binary @"$2" "https://127.0.0.1:$PORT/")
}
pg_newdb tls || exit 99
serve_start tls --http 127.0.0.1:0 -o "http_tls_certificate=$T/cert.pem" \
    -o "http_tls_key=$T/key.pem" || exit 99
wait_until grep -q 'listening for HTTPS on' "$W/serve.err" || exit 99
PORT=$(sed -n 's/.*listening for HTTPS on 127.0.0.1 port \([0-9]*\)$/\1/p' \
    "$W/serve.err")
check "TLS: the first certificate served" "$(served)" "$(cat "$T/fp1")"
report "$W/t1.json" tls-one
gzip -c "$W/t1.json" >"$W/t1.json.gz"
tls_post "$T/cert1.pem" t1.json.gz
check "TLS: as Postfix sends, 201" "$CODE" 201
check "TLS: stored, source https" \
    "$(pg_q tls "SELECT report_id, source FROM tlsrpt.report")" "tls-one|https"
CODE=$(curl -s -m 10 -o /dev/null -w '%{http_code}' \
    --header 'Content-Type: application/tlsrpt+gzip' \
    --data-binary @"$W/t1.json.gz" "http://127.0.0.1:$PORT/")
check "TLS: plain HTTP to its port gets no answer" "$CODE" 000
tls_post "$T/cert2.pem" t1.json.gz
check "TLS: not yet the second certificate (curl refuses)" "$CODE" 000
cp "$T/cert2.pem" "$T/cert.pem"
cp "$T/key2.pem" "$T/key.pem"
kill -HUP "$SPID"
wait_until grep -q 'TLS certificate reloaded' "$W/serve.err"
check "SIGHUP: reloaded, one line" \
    "$(grep -c 'TLS certificate reloaded' "$W/serve.err")" 1
check "SIGHUP: the second certificate served" "$(served)" "$(cat "$T/fp2")"
report "$W/t2.json" tls-two
gzip -c "$W/t2.json" >"$W/t2.json.gz"
tls_post "$T/cert2.pem" t2.json.gz
check "SIGHUP: a POST still stored" \
    "$CODE $(pg_q tls "SELECT count(*) FROM tlsrpt.report WHERE report_id = 'tls-two'")" \
    "201 1"
printf -- '-----BEGIN PRIVATE KEY-----\nbroken\n-----END PRIVATE KEY-----\n' \
    >"$T/key.pem"
kill -HUP "$SPID"
wait_until grep -q 'still serving the old certificate' "$W/serve.err"
check "a broken key: one line says so" \
    "$(grep -c 'still serving the old certificate' "$W/serve.err")" 1
check_match "a broken key: and why" \
    "$(grep 'still serving the old certificate' "$W/serve.err")" \
    'SIGHUP: .*(key|certificate).*; still serving the old certificate$'
check "a broken key: still the second certificate" "$(served)" \
    "$(cat "$T/fp2")"
report "$W/t3.json" tls-three
gzip -c "$W/t3.json" >"$W/t3.json.gz"
tls_post "$T/cert2.pem" t3.json.gz
check "a broken key: a POST still stored" "$CODE" 201
rm "$T/key.pem"
kill -HUP "$SPID"
stale() {
	test "$(grep -c 'still serving the old certificate' "$W/serve.err")" = "$1"
}
wait_until stale 2
check_match "a missing key: says which file" \
    "$(grep 'still serving the old certificate' "$W/serve.err" | tail -n 1)" \
    "SIGHUP: http_tls_key: $T/key.pem: No such file or directory; still"
check "a missing key: still the second certificate" "$(served)" \
    "$(cat "$T/fp2")"
serve_stop
check "TLS: the server stops, exit 0" "$SRC" 0
check "TLS: three reports" "$(count tls)" "3|0"
run_bin --serve -q --http 127.0.0.1:0 -d dbname=tls \
    -o "http_tls_certificate=$T/none.pem" -o "http_tls_key=$T/key1.pem"
check "a missing certificate at start: exit 78" "$RC" 78
check "a missing certificate at start: one line" \
    "$(printf '%s\n' "$ERR" | wc -l | tr -d ' ')" 1
check_match "a missing certificate at start: says so" "$ERR" \
    "http_tls_certificate: $T/none.pem: No such file or directory"
run_bin --serve -q --http 127.0.0.1:0 -d dbname=tls \
    -o "http_tls_certificate=$T" -o "http_tls_key=$T/key1.pem"
check_match "a directory as the certificate: exit 78, says so" "$RC $ERR" \
    "^78 .*http_tls_certificate: $T: not a regular file"
run_bin --serve -q --http 127.0.0.1:0 -d dbname=tls \
    -o "http_tls_certificate=$T/cert1.pem"
check_match "a certificate without a key: exit 78, says so" "$RC $ERR" \
    '^78 .*http_tls_certificate is set without http_tls_key'
run_bin --serve -q --http 127.0.0.1:0 -d dbname=tls \
    -o "http_tls_certificate=$T/cert1.pem" -o "http_tls_key=$T/key2.pem"
check_match "a key that is not the certificate's: exit 78" "$RC $ERR" \
    '^78 .*TLS certificate or key refused: .*(key|certificate)'
# Without TLS, SIGHUP neither stops the server nor changes anything.
http_start tls || exit 99
kill -HUP "$SPID"
wait_until grep -q 'no TLS certificate to reload' "$W/serve.err"
report "$W/t4.json" tls-none
post "$W/t4.json" application/tlsrpt+json
check "no TLS: SIGHUP, still serving" "$CODE" 201
serve_stop
check "no TLS: the server stops, exit 0" "$SRC" 0

finish
