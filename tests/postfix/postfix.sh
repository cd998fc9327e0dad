#!/bin/sh
# postfix.sh - a real Postfix delivers reports through the pipe(8)
# transport of contrib/postfix into a private PostgreSQL.
#
# A private Postfix instance (its own configuration, queue and data
# directories under a temporary directory, no network listener at all)
# gets its tlsrpt service from contrib/postfix/master.cf.example, its
# main.cf settings from contrib/postfix/main.cf.example and its transport
# map from contrib/postfix/transport.example, each adapted by sed only
# where a path or a name must change.  Messages are submitted with
# sendmail -C.  Checked:
#   - the corpus messages and a malformed one are delivered (status=sent):
#     the reports are stored as a direct run of the program stores them,
#     the malformed message is kept in tlsrpt.rejected_message;
#   - with the database stopped, new reports are deferred and stay queued;
#     once it is back and the queue is flushed, each is stored once;
#   - with the resident server (--serve) on the service's --socket, the
#     same: reports are stored by the server, and deferred while the
#     database is down (until then nothing listens there, and the program
#     stores each message itself);
#   - a daily summary, tlsrpt-adm summary --format mime | sendmail -t,
#     arrives in a Maildir as multipart/alternative with its Subject;
#   - nothing bounces.
# The pipe runs as the unprivileged user "tlsrpt" (created when missing)
# and connects as a least-privilege role from sql/roles.sql.
#
# Run as root.  Without Postfix: exit 77 (skip), unless CI=true or
# TLSRPT_INSTALL=1, which install the Debian package (configured as "No
# configuration": the system instance listens nowhere and is not left
# running).  Under CI=true a missing prerequisite is a failure (99).
# TLSRPT_POSTFIX_WAIT: seconds to wait for the queue to drain (60).

. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/../integration/pg.sh"

PATH=$PATH:/usr/sbin:/sbin
# The pipe's user must reach the database socket and the program in the
# temporary directories: /tmp, whatever TMPDIR says.
TMPDIR=/tmp
export PATH TMPDIR
CONTRIB=$top_srcdir/contrib/postfix
C=$TI_TEST_DATA/corpus
WAIT=${TLSRPT_POSTFIX_WAIT:-60}

prereq_missing() {
	if [ "${CI:-}" = true ]; then
		echo "FAIL: $1" >&2
		exit 99
	fi
	echo "SKIP: $1"
	exit 77
}

# The system instance: its master's pid file names a live process.
sys_postfix_running() {
	_p=/var/spool/postfix/pid/master.pid
	[ -f "$_p" ] && kill -0 "$(tr -d ' \n' <"$_p")" 2>/dev/null
}

sys_postfix_stop() {
	if [ -d /run/systemd/system ] && command -v systemctl >/dev/null; then
		systemctl stop postfix >/dev/null 2>&1
	fi
	if sys_postfix_running; then
		postfix stop >/dev/null 2>&1
	fi
}

[ "$(id -u)" = 0 ] || prereq_missing "postfix.sh must run as root"
[ -x "$BIN" ] || prereq_missing "$BIN not built"
[ -x "$ADM" ] || prereq_missing "$ADM not built"

SYS_WAS_RUNNING=no
sys_postfix_running && SYS_WAS_RUNNING=yes
if ! command -v postfix >/dev/null || ! command -v postqueue >/dev/null; then
	if [ "${CI:-}" != true ] && [ "${TLSRPT_INSTALL:-}" != 1 ]; then
		prereq_missing "postfix not installed (TLSRPT_INSTALL=1 installs it)"
	fi
	echo "# installing postfix"
	echo "postfix postfix/main_mailer_type select No configuration" |
	    debconf-set-selections
	_log=$(mktemp)
	if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	    --no-install-recommends postfix >"$_log" 2>&1; then
		cat "$_log" >&2
		rm -f "$_log"
		echo "FAIL: apt-get install postfix" >&2
		exit 99
	fi
	rm -f "$_log"
	command -v postfix >/dev/null || prereq_missing "postfix not installed"
	[ "$SYS_WAS_RUNNING" = no ] && sys_postfix_stop
fi
v=$(postconf -d -h mail_version 2>/dev/null)
case $v in
[0-2].*|3.[0-3]|3.[0-3].*)
	prereq_missing "Postfix $v: 3.4 or later needed (maillog_file)" ;;
esac

if ! id tlsrpt >/dev/null 2>&1; then
	echo "# creating the system user tlsrpt"
	useradd --system --no-create-home --home-dir /nonexistent \
	    --shell /usr/sbin/nologin tlsrpt || exit 99
fi

pg_start

T=
PF=
SPID=
pf_cleanup() {
	[ -n "$SPID" ] && kill -9 "$SPID" 2>/dev/null
	if [ -n "$PF" ] && [ -f "$T/spool/pid/master.pid" ]; then
		postfix -c "$PF" stop >/dev/null 2>&1
	fi
	if [ "$T_FAIL" -ne 0 ] && [ -f "$T/maillog" ]; then
		echo "# maillog:"
		sed 's/^/#   /' "$T/maillog"
	fi
	[ -n "$T" ] && rm -rf "$T"
	pg_cleanup
	if [ "$SYS_WAS_RUNNING" = no ] && sys_postfix_running; then
		sys_postfix_stop
	fi
}
trap pf_cleanup EXIT
trap 'exit 99' INT TERM HUP

T=$(mktemp -d "${TMPDIR:-/tmp}/tlsrpt-postfix.XXXXXX") || exit 99
chmod 755 "$T"
PF=$T/etc
mkdir "$PF" "$T/spool" "$T/bin" "$T/msg"
# The pipe's user must reach the program whatever the build directory's
# permissions.
cp "$BIN" "$T/bin/tlsrpt-ingest" && chmod 755 "$T/bin/tlsrpt-ingest" ||
    exit 99

pg_newdb pf || exit 99
pg_newdb direct || exit 99
"$PG_BINDIR/psql" -q -X -v ON_ERROR_STOP=1 -d pf \
    -f "$top_srcdir/sql/roles.sql" >/dev/null || exit 99
pg_q pf "CREATE ROLE tlsrpt_mta LOGIN IN ROLE tlsrpt_ingest" >/dev/null ||
    exit 99
CONNINFO="host=$PG_DIR user=tlsrpt_mta dbname=pf"
# The resident server's socket, in a directory of the pipe's user, as
# systemd's RuntimeDirectory= makes it.
mkdir -m 750 "$T/run" && chown tlsrpt "$T/run" || exit 99
SOCK=$T/run/socket

# ---- The private instance.
# Outbound and local delivery are disabled: a bounce is only logged.
cat >"$PF/main.cf" <<EOF
compatibility_level = 3.6
queue_directory = $T/spool
data_directory = $T/data
maillog_file = $T/maillog
maillog_file_prefixes = $T
syslog_name = postfix-tlsrpt-test
myhostname = mx.receiver.test
mydomain = receiver.test
myorigin = \$mydomain
mydestination = receiver.test, localhost
inet_interfaces = loopback-only
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
relayhost =
alias_maps =
alias_database =
biff = no
default_transport = error:outbound mail disabled in this test
relay_transport = error:outbound mail disabled in this test
local_transport = error:local delivery disabled in this test
EOF
# The contrib main.cf settings, with the transport map moved.
sed -n -e '/^[a-z]/p' "$CONTRIB/main.cf.example" |
    sed -e "s|/etc/postfix/|$PF/|g" >>"$PF/main.cf"

# Only unix-domain services (no smtpd: nothing listens), none chrooted.
cat >"$PF/master.cf" <<'EOF'
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
EOF
# The contrib service: its lines (the service and its continuation),
# with the program's path and the conninfo replaced.  A conninfo with
# spaces is one argument when enclosed in "{ }".
sed -n -e '/^[a-z]/,/^[^ 	]/{/^#/d;/^$/d;p;}' "$CONTRIB/master.cf.example" |
    sed -e "s|/usr/local/bin/tlsrpt-ingest|$T/bin/tlsrpt-ingest|" \
	-e "s|--socket /run/tlsrpt-ingest/socket|--socket $SOCK|" \
	-e "s|--db dbname=tlsrpt|--db { $CONNINFO }|" >"$T/service"
cat "$T/service" >>"$PF/master.cf"
check "contrib service line used" \
    "$(grep -c "^tlsrpt .* pipe\$" "$T/service")" 1
check_match "contrib service: program and conninfo substituted" \
    "$(tr '\n' ' ' <"$T/service")" \
    "user=tlsrpt argv=$T/bin/tlsrpt-ingest .*--queue-id [\$]\{queue_id\} \
--socket $SOCK --db \{ $CONNINFO \}"

sed -n -e '/^[a-z]/p' "$CONTRIB/transport.example" |
    sed -e 's/@example\.com/@receiver.test/' >"$PF/transport"
check "contrib transport map used" \
    "$(cat "$PF/transport")" "tlsrpt@receiver.test	tlsrpt:"
postmap -c "$PF" "hash:$PF/transport" || exit 99
check "main.cf: transport_maps from contrib" \
    "$(postconf -c "$PF" -h transport_maps)" "hash:$PF/transport"
check "main.cf: tlsrpt_destination_recipient_limit from contrib" \
    "$(postconf -c "$PF" -h tlsrpt_destination_recipient_limit)" 1
check "postconf: the address goes to the tlsrpt service" \
    "$(postmap -c "$PF" -q tlsrpt@receiver.test "hash:$PF/transport")" \
    "tlsrpt:"
# At Postfix's limit pipe(8) bounces; the program must give up (75) first.
limit=$(postconf -c "$PF" -h tlsrpt_time_limit)
case $limit in
*s)	limit=${limit%s} ;;
*m)	limit=$((${limit%m} * 60)) ;;
*h)	limit=$((${limit%h} * 3600)) ;;
*d)	limit=$((${limit%d} * 86400)) ;;
esac
own=$("$BIN" --print-config | sed -n 's/^timeout = //p')
check "tlsrpt-ingest's timeout ($own s) below tlsrpt_time_limit ($limit s)" \
    "$([ "${own:-0}" -gt 0 ] && [ "$own" -lt "$limit" ] && echo yes)" yes

if ! postfix -c "$PF" start >"$T/start.log" 2>&1; then
	cat "$T/start.log" >&2
	echo "FAIL: postfix start" >&2
	exit 99
fi
check "postfix started" "$(postfix -c "$PF" status >/dev/null 2>&1; echo $?)" 0
MASTER=$(tr -d ' \n' <"$T/spool/pid/master.pid")
if command -v ss >/dev/null; then
	check "no TCP listener of the private instance" \
	    "$(ss -ltnpH | grep -c "pid=$MASTER,")" 0
fi

# ---- Helpers
# submit FILE: as a remote reporter's message to the rua address.
submit() {
	sendmail -C "$PF" -i -f reports@sender.test tlsrpt@receiver.test <"$1"
}

# count PATTERN: maillog lines matching (grep -E).
count() {
	grep -cE -- "$1" "$T/maillog" 2>/dev/null || true
}

queue_empty() {
	postqueue -c "$PF" -p 2>/dev/null | grep -q '^Mail queue is empty'
}

# ids PATTERN: the queue ids of the maillog lines matching, once each.
ids() {
	grep -E -- "$1" "$T/maillog" 2>/dev/null |
	    sed -n 's/.*\]: \([0-9A-Za-z]*\): to=.*/\1/p' | sort -u
}

# wait_for PATTERN N [EMPTY]: until the maillog names N messages with
# lines matching and, with EMPTY, the queue is empty.  Bounded by $WAIT
# seconds.
wait_for() {
	_i=0
	while [ "$_i" -lt $((WAIT * 4)) ]; do
		if [ "$(ids "$1" | wc -l)" -ge "$2" ] &&
		    { [ -z "${3:-}" ] || queue_empty; }; then
			return 0
		fi
		sleep 0.25
		_i=$((_i + 1))
	done
	return 1
}

TO='to=<tlsrpt@receiver.test>, relay=tlsrpt,'
SENT="$TO .*status=sent"
DEFERRED="$TO .*status=deferred"

# ---- First run: the corpus messages and a malformed one.
emls=$(find "$C" -name '*.eml' | LC_ALL=C sort)
n=0
for f in $emls; do
	submit "$f" || not_ok "sendmail $f"
	n=$((n + 1))
done
cat >"$T/msg/plain.eml" <<'EOF'
From: Someone <someone@sender.test>
To: tlsrpt@receiver.test
Subject: hello
Message-ID: <plain-text-1@sender.test>
Date: Mon, 1 Jan 2024 00:00:00 +0000

This is not a TLS report.
EOF
submit "$T/msg/plain.eml" || not_ok "sendmail plain.eml"
n=$((n + 1))
postqueue -c "$PF" -f

t0=$(date +%s)
wait_for "$SENT" "$n" empty
check "first run: queue empty within ${WAIT}s" \
    "$(queue_empty && echo empty)" empty
echo "# first run: $n messages delivered in $(($(date +%s) - t0))s"
check "first run: status=sent for each message" "$(count "$SENT")" "$n"
check "first run: nothing deferred" "$(count "$DEFERRED")" 0
check "first run: pipe ran as the contrib service" \
    "$(count 'postfix-tlsrpt-test/pipe\[[0-9]+\]: .*relay=tlsrpt, .*'\
'status=sent \(delivered via tlsrpt service\)')" "$n"

# What the program stores from the same files, run directly.
run_bin -d dbname=direct $emls
check "direct run: exit 0" "$RC" 0
want=$(pg_q direct "SELECT count(*) FROM tlsrpt.report")
check_match "direct run: reports stored" "$want" '^[1-9][0-9]*$'
check "first run: reports as in the direct run" \
    "$(pg_q pf "SELECT count(*) FROM tlsrpt.report")" "$want"
# Not the digest: two corpus messages carry different reports under one
# report-id, and with parallel deliveries either may be stored first.
q="SELECT organization_name, report_id FROM tlsrpt.report ORDER BY 1, 2"
pg_q pf "$q" >"$T/pf.rows"
pg_q direct "$q" >"$T/direct.rows"
diff "$T/direct.rows" "$T/pf.rows" | sed 's/^/# /'
check "first run: the same reports" \
    "$(diff "$T/direct.rows" "$T/pf.rows" | grep -c '^[<>]')" 0
check "first run: policies as in the direct run" \
    "$(pg_q pf "SELECT count(*) FROM tlsrpt.policy")" \
    "$(pg_q direct "SELECT count(*) FROM tlsrpt.policy")"
check "first run: failure details as in the direct run" \
    "$(pg_q pf "SELECT count(*) FROM tlsrpt.failure_detail")" \
    "$(pg_q direct "SELECT count(*) FROM tlsrpt.failure_detail")"
check "first run: stored as mail" \
    "$(pg_q pf "SELECT count(*) FROM tlsrpt.report WHERE source <> 'mail'")" 0
check "first run: the malformed message kept" \
    "$(pg_q pf "SELECT count(*) FROM tlsrpt.rejected_message
    WHERE message_id = 'plain-text-1@sender.test' AND source = 'mail'")" 1
check "first run: nothing else rejected" \
    "$(pg_q pf "SELECT count(*) FROM tlsrpt.rejected_message")" 1
check_match "first run: the kept message carries the Return-Path (flags=R)" \
    "$(pg_q pf "SELECT convert_from(raw, 'UTF8')
    FROM tlsrpt.rejected_message" | head -n 1)" \
    '^Return-Path: <reports@sender\.test>'

# tlsrpt-ingest --syslog: only where a syslog daemon is reachable.
if [ -S /dev/log ] && [ -r /var/log/mail.log ]; then
	check_match "first run: tlsrpt-ingest logged to syslog" \
	    "$(grep 'tlsrpt-ingest' /var/log/mail.log | tail -n "$n")" \
	    'tlsrpt-ingest\[[0-9]+\]'
else
	echo "# no syslog to read: tlsrpt-ingest --syslog lines not checked"
fi

# ---- Second run: the database is down; two new reports wait in the queue.
mkmsg() {
	sed -e "s/\"report-id\": *\"[^\"]*\"/\"report-id\": \"$1\"/" \
	    "$C/cry-inc__dmarc-report-viewer/rfc-example.json" >"$T/msg/$1.json"
	{
		cat <<EOF
From: TLS Reports <reports@sender.test>
To: tlsrpt@receiver.test
Subject: Report Domain: company-y.example Submitter: sender.test Report-ID: <$1>
Message-ID: <$1@sender.test>
Date: Mon, 1 Jan 2024 00:00:00 +0000
TLS-Report-Domain: company-y.example
TLS-Report-Submitter: sender.test
MIME-Version: 1.0
Content-Type: multipart/report; report-type="tlsrpt"; boundary="b-$1"

--b-$1
Content-Type: text/plain

This is an aggregate TLS report.

--b-$1
Content-Type: application/tlsrpt+json
Content-Transfer-Encoding: base64
Content-Disposition: attachment; filename="$1.json"

EOF
		base64 "$T/msg/$1.json"
		printf '\n--b-%s--\n' "$1"
	} >"$T/msg/$1.eml"
}
new_ids="postfix-dbdown-1 postfix-dbdown-2"
for id in $new_ids; do
	mkmsg "$id"
	run_bin --dry-run "$T/msg/$id.eml"
	check "$id: a valid report" "$RC" 0
done

pg_ctl_stop fast
for id in $new_ids; do
	submit "$T/msg/$id.eml" || not_ok "sendmail $id"
done
postqueue -c "$PF" -f
wait_for "$DEFERRED" 2
# The flush may retry them: count messages, not attempts.
check "database down: status=deferred for both" \
    "$(ids "$DEFERRED" | wc -l | tr -d ' ')" 2
# Exit 75: EX_TEMPFAIL.  With --syslog the program's own line goes to
# syslog, not into Postfix's reason.
check "database down: deferred as a temporary failure (exit 75)" \
    "$(grep -E -- "$DEFERRED" "$T/maillog" |
    grep -vc 'dsn=4\.3\.0, status=deferred (temporary failure')" 0
# The listing can name a message twice while a retry moves it between
# queues: compare queue ids, once the flush's retries are done.
queued_ids() {
	postqueue -c "$PF" -p 2>/dev/null |
	    sed -n 's/^\([0-9A-Za-z]\{6,\}\)[*!]\{0,1\} .*/\1/p' | sort -u
}
_i=0
while [ "$_i" -lt $((WAIT * 4)) ] &&
    [ "$(queued_ids)" != "$(ids "$DEFERRED")" ]; do
	sleep 0.25
	_i=$((_i + 1))
done
check "database down: both queued" "$(queued_ids | wc -l | tr -d ' ')" 2
check "database down: the queued ones are the deferred ones" \
    "$(queued_ids | tr '\n' ' ')" "$(ids "$DEFERRED" | tr '\n' ' ')"
check "database down: no further delivery" "$(count "$SENT")" "$n"

pg_ctl_start
postqueue -c "$PF" -f
t0=$(date +%s)
wait_for "$SENT" $((n + 2)) empty
check "database back: queue empty within ${WAIT}s" \
    "$(queue_empty && echo empty)" empty
echo "# database back: delivered in $(($(date +%s) - t0))s"
check "database back: status=sent for both" "$(count "$SENT")" $((n + 2))
check "database back: the deferred ones were delivered" \
    "$(ids "$DEFERRED" | grep -cxF "$(ids "$SENT")")" 2
for id in $new_ids; do
	check "$id: stored once" \
	    "$(pg_q pf "SELECT count(*) FROM tlsrpt.report
	    WHERE organization_name = 'Company-X' AND report_id = '$id'")" 1
done
check "database back: the reports in all" \
    "$(pg_q pf "SELECT count(*) FROM tlsrpt.report")" $((want + 2))
check "database back: nothing more rejected" \
    "$(pg_q pf "SELECT count(*) FROM tlsrpt.rejected_message")" 1

# ---- Third run: the resident server (contrib/systemd), as the pipe's
# user.  The first two runs had no server on the socket, so the program
# stored each message itself; now it hands them over.
# setpriv execs the program: $! is the server itself.
setpriv --reuid=tlsrpt --regid="$(id -g tlsrpt)" --init-groups -- \
    "$T/bin/tlsrpt-ingest" --serve --socket "$SOCK" --db "$CONNINFO" \
    2>"$T/serve.log" &
SPID=$!
wait_until grep -qs listening "$T/serve.log"
check "server: listening" "$(test -S "$SOCK" && echo yes)" yes
serve_ids="postfix-serve-1 postfix-serve-2"
for id in $serve_ids; do
	mkmsg "$id"
	submit "$T/msg/$id.eml" || not_ok "sendmail $id"
done
postqueue -c "$PF" -f
wait_for "$SENT" $((n + 4)) empty
check "server: status=sent for both" "$(count "$SENT")" $((n + 4))
for id in $serve_ids; do
	check "$id: stored once" \
	    "$(pg_q pf "SELECT count(*) FROM tlsrpt.report
	    WHERE organization_name = 'Company-X' AND report_id = '$id'")" 1
	check_match "$id: stored by the server, under its queue id" \
	    "$(grep "report-id=\"$id\"" "$T/serve.log")" \
	    "^tlsrpt-ingest: info: [0-9A-Za-z]+: stored: "
done
# The database goes away under the server: deferred, then stored once.
pg_ctl_stop fast
mkmsg postfix-serve-3
submit "$T/msg/postfix-serve-3.eml" || not_ok "sendmail postfix-serve-3"
postqueue -c "$PF" -f
wait_for "$DEFERRED" 3
check "server, database down: deferred" \
    "$(ids "$DEFERRED" | wc -l | tr -d ' ')" 3
check "server, database down: still running" \
    "$(kill -0 "$SPID" 2>/dev/null && echo yes)" yes
pg_ctl_start
postqueue -c "$PF" -f
wait_for "$SENT" $((n + 5)) empty
check "server, database back: delivered" "$(count "$SENT")" $((n + 5))
check "server, database back: stored once" \
    "$(pg_q pf "SELECT count(*) FROM tlsrpt.report
    WHERE report_id = 'postfix-serve-3'")" 1
check_match "server, database back: stored by the server" \
    "$(grep 'report-id="postfix-serve-3"' "$T/serve.log")" ': stored: '
kill -TERM "$SPID"
wait "$SPID"
check "server: SIGTERM, exit 0" "$?" 0
SPID=

# ---- A daily summary (tlsrpt-adm summary --format mime | sendmail -t)
# reaches a mailbox: the virtual(8) agent files it in a Maildir.
mkdir -m 755 "$T/vmail" && chown tlsrpt "$T/vmail" || exit 99
postconf -c "$PF" -e "virtual_mailbox_base = $T/vmail" \
    "virtual_mailbox_maps = inline:{ summary@receiver.test=summary/ }" \
    "virtual_uid_maps = static:$(id -u tlsrpt)" \
    "virtual_gid_maps = static:$(id -g tlsrpt)" \
    "virtual_minimum_uid = 1" || exit 99
printf 'virtual   unix  -       n       n       -       -       virtual\n' \
    >>"$PF/master.cf"
printf 'summary@receiver.test\tvirtual:\n' >>"$PF/transport"
postmap -c "$PF" "hash:$PF/transport" && postfix -c "$PF" reload \
    >/dev/null 2>&1 || exit 99
SUMMARY="$ADM -d dbname=pf summary --since 365d --format mime \
--to summary@receiver.test --from postmaster@receiver.test"
$SUMMARY | sendmail -C "$PF" -t
check "summary: tlsrpt-adm and sendmail -t exit 0" "$?" 0
postqueue -c "$PF" -f
wait_for 'to=<summary@receiver\.test>, relay=virtual, .*status=sent' 1 empty
check "summary: delivered to the Maildir" \
    "$(count 'to=<summary@receiver\.test>, relay=virtual, .*status=sent')" 1
check "summary: one message in new/" \
    "$(ls "$T/vmail/summary/new" 2>/dev/null | wc -l | tr -d ' ')" 1
python3 - "$T/vmail/summary/new/"* >"$T/summary.out" 2>&1 <<'EOF'
import email, email.policy, sys
msg = email.message_from_bytes(open(sys.argv[1], 'rb').read(),
    policy=email.policy.default)
print('type=' + msg.get_content_type())
print('parts=' + ' '.join(p.get_content_type() for p in msg.iter_parts()))
print('subject=' + msg['Subject'])
EOF
check "summary: python3 read it" "$?" 0
got() { sed -n "s/^$1=//p" "$T/summary.out"; }
check "summary: multipart/alternative" "$(got type)" multipart/alternative
check "summary: a text and an HTML part" "$(got parts)" "text/plain text/html"
check_match "summary: the Subject" "$(got subject)" \
    '^TLS-RPT summary for the last 365 days: [0-9]+ domains?, '
check "summary: the Subject the command writes" "$(got subject)" \
    "$($SUMMARY | sed -n 's/^Subject: //p')"

# ---- Nothing bounced, nothing went back to the sender.
check "no bounce" "$(count 'status=bounced|non-delivery notification')" 0
check "no mail to the sender" "$(count 'to=<reports@sender\.test>')" 0
check "no fatal or panic" "$(count '(fatal|panic):')" 0

postfix -c "$PF" stop >/dev/null 2>&1
check "postfix stopped" "$(postfix -c "$PF" status >/dev/null 2>&1; echo $?)" 1

finish
