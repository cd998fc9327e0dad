#!/bin/sh
# fetch.sh - reports in a remote mailbox.  A real Dovecot, started with
# a configuration of its own, serves IMAPS on a loopback port with a
# self-signed certificate and one user; the corpus is put into its INBOX
# by IMAP APPEND, with a malformed message.  Then, once with mbsync
# (contrib/mbsync/mbsyncrc) and once with getmail6
# (contrib/getmail/getmailrc), each into its own Maildir and database,
# in rounds of fetch and sweep:
#   1. everything is fetched and stored: as many reports as the corpus
#      table says for those messages, the malformed one kept in
#      tlsrpt.rejected_message;
#   2. new mail on the server: only it is fetched and stored;
#   3. no new mail: nothing is fetched, nothing stored;
#   4. the database down during the sweep: the new mail stays in the
#      Maildir, is not fetched again, and is stored once it is back;
#   5. the examples' way of deleting mail on the server.
# The fetch commands are the ones in the systemd unit, and the configs
# the examples, changed by sed only where a host, port, path or the
# certificate must change.
#
# Needs dovecot (dovecot-imapd), mbsync (isync), getmail (getmail6),
# openssl and root (Dovecot hands the mailbox to an unprivileged user).
# Without them: skipped, unless CI=true or TLSRPT_INSTALL=1, which
# install the Debian packages; under CI=true what cannot be had is a
# failure (exit 99).

. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pg.sh"

PATH=$PATH:/usr/sbin:/sbin
export PATH
CONTRIB=$top_srcdir/contrib
C=$TI_TEST_DATA/corpus
TABLE=$TI_TEST_DATA/corpus-expected.txt
# The Unix user that owns the mailboxes and runs the fetchers.
U=nobody

[ -x "$BIN" ] || { echo "FAIL: $BIN not built" >&2; exit 99; }

missing() {
	if [ "${CI:-}" = true ]; then
		echo "FAIL: $1" >&2
		exit 99
	fi
	echo "SKIP: $1"
	exit 77
}

[ "$(id -u)" = 0 ] || missing "not root (Dovecot must change user)"
id "$U" >/dev/null 2>&1 || missing "no user $U"

# have COMMAND PACKAGE: COMMAND can be run, installing PACKAGE when
# allowed; otherwise skip (or fail under CI).
have() {
	command -v "$1" >/dev/null 2>&1 && return 0
	if [ "${CI:-}" = true ] || [ "${TLSRPT_INSTALL:-}" = 1 ]; then
		echo "# installing $2"
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
		    --no-install-recommends "$2" >/dev/null 2>&1
		command -v "$1" >/dev/null 2>&1 && return 0
	fi
	missing "$1 (Debian package $2) not installed"
}
have dovecot dovecot-imapd
have mbsync isync
have getmail getmail6
have openssl openssl
have python3 python3

TMP=$(mktemp -d)
chmod 755 "$TMP"
DC=$TMP/dovecot
DCPID=

cleanup() {
	dovecot_stop
	rm -rf "$TMP"
	pg_cleanup
}
pg_start
trap cleanup EXIT

count() { find "$@" -type f 2>/dev/null | wc -l | tr -d ' '; }

# ---- The messages: each corpus file (.eml as it is, a bare report
# wrapped in a multipart/report message), and what the table says of
# them: how many distinct reports, how many rejected.

# wrap FILE N: a bare report as a message
wrap() {
	printf 'From: reports@sender.example\nTo: tlsrpt@receiver.example\n'
	printf 'Subject: TLS report %s\nMessage-ID: <%s@sender.example>\n' "$2" "$2"
	printf 'Date: Tue, 02 Jan 2024 03:04:05 +0000\nMIME-Version: 1.0\n'
	printf 'Content-Type: multipart/report; report-type=tlsrpt; boundary="zz"\n\n'
	printf -- '--zz\nContent-Type: text/plain\n\nreport\n--zz\n'
	printf 'Content-Type: application/tlsrpt+gzip\nContent-Transfer-Encoding: base64\n\n'
	case $1 in
	*.gz) base64 <"$1" ;;
	*) gzip -c <"$1" | base64 ;;
	esac
	printf -- '--zz--\n'
}

M=$TMP/msgs
mkdir -p "$M"
keys=$TMP/keys
: >"$keys"
n_msgs=0
n_rejected=0
while IFS='	' read -r path want org rid rest; do
	case $path in
	'#'*|'') continue ;;
	shared/*) file=$SHARED_CORPUS/${path#shared/} ;;
	*) file=$C/$path ;;
	esac
	if [ ! -f "$file" ]; then
		echo "# skip $path: not present"
		continue
	fi
	n_msgs=$((n_msgs + 1))
	out=$M/$(printf '%03d' "$n_msgs").eml
	case $file in
	*.eml) cp "$file" "$out" ;;
	*) wrap "$file" "corpus-$n_msgs" >"$out" ;;
	esac
	if [ "$want" = rejected ]; then
		n_rejected=$((n_rejected + 1))
	else
		printf '%s\t%s\n' "$org" "$rid" >>"$keys"
	fi
done <"$TABLE"
n_reports=$(sort -u "$keys" | wc -l | tr -d ' ')

# A message that holds no report at all: kept as rejected.
n_msgs=$((n_msgs + 1))
n_rejected=$((n_rejected + 1))
{
	printf 'From: reports@sender.example\nTo: tlsrpt@receiver.example\n'
	printf 'Subject: Report Domain: example.com\n'
	printf 'Message-ID: <malformed@sender.example>\n'
	printf 'Date: Tue, 02 Jan 2024 03:04:05 +0000\nMIME-Version: 1.0\n'
	printf 'Content-Type: multipart/report; report-type=tlsrpt; boundary="zz"\n\n'
	printf -- '--zz\nContent-Type: application/tlsrpt+gzip\n'
	printf 'Content-Transfer-Encoding: base64\n\nbm90IGd6aXA=\n--zz--\n'
} >"$M/malformed.eml"
n_dup=$((n_msgs - n_reports - n_rejected))
check "corpus: messages, reports and rejected ones counted" \
    "$( [ "$n_msgs" -ge 40 ] && [ "$n_reports" -ge 10 ] &&
    [ "$n_dup" -gt 0 ] && echo yes)" yes

# new NAME...: a message per NAME, each with a report of its own
# (report-id "fetch-NAME"), in $TMP/new/NAME.eml
REPORT=$C/cry-inc__dmarc-report-viewer/google.json
mkdir -p "$TMP/new"
new() {
	for _n in "$@"; do
		sed "s/2025-05-22T00:00:00Z_foo-bar\\.io/fetch-$_n/" "$REPORT" \
		    >"$TMP/new/$_n.json"
		wrap "$TMP/new/$_n.json" "new-$_n" >"$TMP/new/$_n.eml"
	done
}
new probe
check "a new message carries its own report id" \
    "$("$BIN" -q --dry-run --json "$TMP/new/probe.eml" </dev/null |
    grep -c '"report-id": *"fetch-probe"')" 1

# ---- Dovecot: IMAPS on a free loopback port, a self-signed certificate
# (for "localhost": mbsync checks the name, not an address), one user
# whose mail is a Maildir owned by $U.

PASSWORD=fetch-s3cret
printf '%s\n' "$PASSWORD" >"$TMP/password"
chown "$U" "$TMP/password"
chmod 600 "$TMP/password"
mkdir -p "$DC"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=localhost \
    -addext subjectAltName=DNS:localhost,IP:127.0.0.1 \
    -keyout "$DC/key.pem" -out "$DC/cert.pem" >/dev/null 2>&1 ||
    { echo "FAIL: openssl req" >&2; exit 99; }
chmod 644 "$DC/cert.pem"

free_port() {
	python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}

# dovecot_start: a fresh, empty mailbox; PORT
dovecot_start() {
	PORT=$(free_port)
	rm -rf "$DC/run" "$DC/mail"
	mkdir -p "$DC/run" "$DC/mail"
	chown "$U" "$DC/mail"
	_uid=$(id -u "$U")
	_gid=$(id -g "$U")
	printf 'tlsrpt:{PLAIN}%s:%s:%s::%s/mail/tlsrpt::\n' \
	    "$PASSWORD" "$_uid" "$_gid" "$DC" >"$DC/users"
	cat >"$DC/dovecot.conf" <<EOF
base_dir = $DC/run
log_path = $DC/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = required
ssl_cert = <$DC/cert.pem
ssl_key = <$DC/key.pem
auth_mechanisms = plain
passdb {
  driver = passwd-file
  args = scheme=PLAIN $DC/users
}
userdb {
  driver = passwd-file
  args = $DC/users
}
mail_location = maildir:$DC/mail/%u
service imap-login {
  inet_listener imap {
    port = 0
  }
  inet_listener imaps {
    address = 127.0.0.1
    port = $PORT
    ssl = yes
  }
}
EOF
	if ! dovecot -c "$DC/dovecot.conf"; then
		cat "$DC/dovecot.log" >&2
		echo "FAIL: dovecot" >&2
		exit 99
	fi
	DCPID=$(cat "$DC/run/master.pid" 2>/dev/null)
	wait_until imap count >/dev/null ||
	    { cat "$DC/dovecot.log" >&2; echo "FAIL: no IMAPS" >&2; exit 99; }
}

dovecot_stop() {
	[ -n "$DCPID" ] || return 0
	kill -TERM "$DCPID" 2>/dev/null
	for _w in $(seq 100); do
		kill -0 "$DCPID" 2>/dev/null || break
		sleep 0.1
	done
	DCPID=
}

# imap count | imap append FILE...: the number of messages in INBOX
# (after appending the files), as an IMAP client sees it.
imap() {
	python3 - "$PORT" "$DC/cert.pem" "$PASSWORD" "$@" <<'EOF'
import imaplib, ssl, sys
port, cafile, password, cmd = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
ctx = ssl.create_default_context(cafile=cafile)
m = imaplib.IMAP4_SSL("localhost", port, ssl_context=ctx)
m.login("tlsrpt", password)
if cmd == "append":
    for f in sys.argv[5:]:
        with open(f, "rb") as fh:
            typ, _ = m.append("INBOX", None, None, fh.read())
        if typ != "OK":
            sys.exit("cannot append " + f)
typ, data = m.select("INBOX", readonly=True)
print(int(data[0]))
m.logout()
EOF
}

# ---- The examples: the fetch commands of the systemd unit; the cron
# file runs the same ones.

UNIT=$CONTRIB/systemd/tlsrpt-ingest-fetch.service.in
CRON=$CONTRIB/cron/tlsrpt-ingest-fetch.cron
CMD_MBSYNC=$(sed -n 's|^ExecStart=\(/usr/bin/mbsync .*\)$|\1|p' "$UNIT")
CMD_GETMAIL=$(sed -n 's|^#ExecStart=\(/usr/bin/getmail .*\)$|\1|p' "$UNIT")
check "unit: fetches with mbsync" "$CMD_MBSYNC" \
    "/usr/bin/mbsync --quiet --config /etc/tlsrpt-ingest/mbsyncrc tlsrpt"
check "unit: or with getmail" "$CMD_GETMAIL" \
    "/usr/bin/getmail --quiet --getmaildir /var/lib/tlsrpt-ingest/getmail --rcfile /etc/tlsrpt-ingest/getmailrc"
check "unit: sweeps before and after the fetch" \
    "$(grep -c '^ExecStart=@bindir@/tlsrpt-ingest .*--maildir /var/mail/tlsrpt/Maildir$' "$UNIT")" 2
check "cron: the unit's mbsync command, then a sweep" \
    "$(grep -c "^\*/10 \* \* \* \*  tlsrpt  $CMD_MBSYNC; /usr/local/bin/tlsrpt-ingest --quiet --maildir /var/mail/tlsrpt/Maildir\$" "$CRON")" 1
check "cron: the unit's getmail command, then a sweep" \
    "$(grep -c "^#\*/10 \* \* \* \*  tlsrpt  $CMD_GETMAIL; /usr/local/bin/tlsrpt-ingest --quiet --maildir /var/mail/tlsrpt/Maildir\$" "$CRON")" 1
if command -v systemd-analyze >/dev/null 2>&1; then
	S=$TMP/systemd
	mkdir -p "$S"
	sed -e "s|@bindir[@]|$top_builddir|g" "$UNIT" \
	    >"$S/tlsrpt-ingest-fetch.service"
	cp "$CONTRIB/systemd/tlsrpt-ingest-fetch.timer" "$S/"
	_out=$(cd "$S" && systemd-analyze verify --man=no \
	    tlsrpt-ingest-fetch.service tlsrpt-ingest-fetch.timer 2>&1)
	check "unit: systemd-analyze verify exit 0" "$?" 0
	check "unit: systemd-analyze verify says nothing" "$_out" ""
elif [ "${CI:-}" = true ]; then
	not_ok "unit: systemd-analyze present"
else
	echo "# skip systemd-analyze verify: not installed"
fi

# config_mbsync FILE, config_getmail FILE: the example for this server
# and this Maildir in FILE.
config_mbsync() {
	sed -e "s|^Host imap\\.example\\.com\$|Host localhost|" \
	    -e "s|^Port 993\$|Port $PORT|" \
	    -e "s|^User tlsrpt@example\\.com\$|User tlsrpt|" \
	    -e "s|/etc/tlsrpt-ingest/imap-password|$TMP/password|" \
	    -e "s|^#CertificateFile .*|CertificateFile $DC/cert.pem|" \
	    -e "s|^Inbox /var/mail/tlsrpt/Maildir\$|Inbox $MD|" \
	    "$CONTRIB/mbsync/mbsyncrc" >"$1"
	check "$F: config for the test server" \
	    "$(grep -c -E "^(Host localhost|Port $PORT|User tlsrpt|PassCmd \"cat $TMP/password\"|CertificateFile $DC/cert.pem|Inbox $MD)\$" "$1")" 6
}
config_getmail() {
	sed -e "s|^server = imap\\.example\\.com\$|server = localhost|" \
	    -e "s|^port = 993\$|port = $PORT|" \
	    -e "s|^username = tlsrpt@example\\.com\$|username = tlsrpt|" \
	    -e "s|/etc/tlsrpt-ingest/imap-password|$TMP/password|" \
	    -e "s|^#ca_certs = .*|ca_certs = $DC/cert.pem|" \
	    -e "s|^path = /var/mail/tlsrpt/Maildir/\$|path = $MD/|" \
	    -e 's|^record_mailbox = false$|&\ntimeout = 5|' \
	    "$CONTRIB/getmail/getmailrc" >"$1"
	check "$F: config for the test server" \
	    "$(grep -c -E "^(server = localhost|port = $PORT|username = tlsrpt|password_command = \(\"/bin/cat\", \"$TMP/password\"\)|ca_certs = $DC/cert.pem|path = $MD/)\$" "$1")" 6
}

# fetch: the unit's fetch command for $F, as $U; FRC, FOUT.
#
# getmail6 (6.18.11 in Debian 12) may miss the signal that its delivery
# child has exited when the child is quicker than the parent (a busy
# machine): the run then fails after its timeout (5 s in the test's
# config) with "waiting child pid N timed out", though the message was
# delivered, and it writes no oldmail file, so the next run fetches
# again what this one delivered.  Here that next run follows at once,
# up to 8 runs, and LOST counts the messages now in the Maildir twice
# (the sweep finds duplicates).
LOST=0
fetch() {
	case $F in
	mbsync) _cmd=$(echo "$CMD_MBSYNC" |
	    sed "s|/etc/tlsrpt-ingest/mbsyncrc|$W/mbsyncrc|") ;;
	getmail) _cmd=$(echo "$CMD_GETMAIL" | sed -e \
	    "s|/var/lib/tlsrpt-ingest/getmail|$W/getmail|" -e \
	    "s|/etc/tlsrpt-ingest/getmailrc|$W/getmailrc|") ;;
	esac
	for _try in 1 2 3 4 5 6 7 8; do
		_before=$(waiting)
		# shellcheck disable=SC2086
		FOUT=$(cd / && runuser -u "$U" -- $_cmd 2>&1)
		FRC=$?
		case $F/$FRC/$FOUT in
		getmail/0/*) break ;;
		getmail/*/*"waiting child pid "*" timed out"*)
			LOST=$((LOST + $(waiting) - _before))
			echo "# getmail lost its delivery child; once more" ;;
		*) break ;;
		esac
	done
}

# sweep: the Maildir into the database of this fetcher
sweep() {
	run_bin -d "dbname=$DB" --maildir "$MD"
}

waiting() { count "$MD/new" "$MD/cur"; }
handled() { count "$MD/.Processed/cur" "$MD/.Rejected/cur"; }
reports() { pg_q "$DB" "SELECT count(*) FROM tlsrpt.report"; }
rejected() { pg_q "$DB" "SELECT count(*) FROM tlsrpt.rejected_message"; }
has() {
	pg_q "$DB" "SELECT count(*) FROM tlsrpt.report WHERE report_id = 'fetch-$1'"
}

# ---- One fetcher's rounds.  L is LOST after the last sweep: the
# messages that may have come twice since.
rounds() {
	F=$1
	W=$TMP/$F
	MD=$W/Maildir
	DB=fetch_$F
	LOST=0
	L=0
	mkdir -p "$W"
	chown "$U" "$W"
	pg_newdb "$DB" || exit 99
	dovecot_start
	check "$F: corpus on the server" \
	    "$(imap append "$M"/*.eml)" "$n_msgs"
	if [ "$F" = mbsync ]; then
		config_mbsync "$W/mbsyncrc"
	else
		config_getmail "$W/getmailrc"
		# getmail creates neither the Maildir nor its own directory.
		runuser -u "$U" -- mkdir -p "$MD/new" "$MD/cur" "$MD/tmp" \
		    "$W/getmail"
	fi

	# 1. Everything.
	fetch
	check "$F 1: fetch exit 0" "$FRC" 0
	check "$F 1: every message fetched" "$(waiting)" "$((n_msgs + LOST))"
	sweep
	check "$F 1: sweep exit 0" "$RC" 0
	if [ "$LOST" = 0 ]; then
		check_match "$F 1: sweep summary" "$ERR" \
		    "stored $n_reports, duplicates $n_dup, rejected $n_rejected, left for retry 0"
		check "$F 1: handled messages moved to .Processed and .Rejected" \
		    "$(count "$MD/.Processed/cur")/$(count "$MD/.Rejected/cur")" \
		    "$((n_msgs - n_rejected))/$n_rejected"
	else
		check_match "$F 1: sweep summary" "$ERR" \
		    "stored $n_reports, duplicates [0-9]+, rejected [0-9]+, left for retry 0"
		check "$F 1: handled messages moved" "$(handled)" \
		    "$((n_msgs + LOST))"
	fi
	L=$LOST
	check "$F 1: reports stored" "$(reports)" "$n_reports"
	check "$F 1: rejected messages kept" "$(rejected)" "$n_rejected"
	# Whole, but for the header field the fetcher adds (mbsync X-TUID:,
	# getmail Return-Path:).
	check "$F 1: the malformed message is one, kept whole" \
	    "$(pg_q "$DB" "SELECT count(*) FROM tlsrpt.rejected_message WHERE message_id = 'malformed@sender.example' AND position(convert_to(E'\\n\\nbm90IGd6aXA=\\n--zz--\\n', 'UTF8') in raw) = raw_size - 22 + 1 AND NOT raw_truncated")" 1
	check "$F 1: nothing left in new/ and cur/" "$(waiting)" 0

	# 2. New mail: only it is fetched and stored.
	new "$F-2a" "$F-2b" "$F-2c"
	check "$F 2: new mail on the server" "$(imap append \
	    "$TMP/new/$F-2a.eml" "$TMP/new/$F-2b.eml" "$TMP/new/$F-2c.eml")" \
	    "$((n_msgs + 3))"
	fetch
	check "$F 2: fetch exit 0" "$FRC" 0
	check "$F 2: only the new messages fetched" "$(waiting)" \
	    "$((3 + LOST - L))"
	sweep
	check "$F 2: sweep exit 0" "$RC" 0
	check_match "$F 2: sweep stores them" "$ERR" \
	    "stored 3, duplicates $((LOST - L)), rejected 0, left for retry 0"
	L=$LOST
	check "$F 2: each new report stored once" \
	    "$(has "$F-2a")$(has "$F-2b")$(has "$F-2c")" 111
	check "$F 2: reports" "$(reports)" "$((n_reports + 3))"

	# 3. No new mail: nothing fetched, nothing stored.
	fetch
	check "$F 3: fetch exit 0" "$FRC" 0
	check "$F 3: nothing fetched" "$(waiting)" 0
	sweep
	check "$F 3: sweep exit 0" "$RC" 0
	check_match "$F 3: sweep stores nothing" "$ERR" \
	    "stored 0, duplicates 0, rejected 0, left for retry 0"
	check "$F 3: reports unchanged" "$(reports)" "$((n_reports + 3))"
	check "$F 3: nothing handled twice" "$(handled)" \
	    "$((n_msgs + 3 + LOST))"

	# 4. The database down during the sweep.
	new "$F-4a" "$F-4b"
	imap append "$TMP/new/$F-4a.eml" "$TMP/new/$F-4b.eml" >/dev/null
	fetch
	check "$F 4: fetch exit 0" "$FRC" 0
	check "$F 4: the new messages fetched" "$(waiting)" "$((2 + LOST - L))"
	pg_ctl_stop fast
	sweep
	check "$F 4, database down: sweep exit 75" "$RC" 75
	check "$F 4, database down: the messages stay" "$(waiting)" \
	    "$((2 + LOST - L))"
	pg_ctl_start
	check "$F 4, database down: nothing stored" "$(reports)" \
	    "$((n_reports + 3))"
	fetch
	check "$F 4, database back: fetch exit 0" "$FRC" 0
	check "$F 4, database back: nothing fetched twice" "$(waiting)" \
	    "$((2 + LOST - L))"
	sweep
	check "$F 4, database back: sweep exit 0" "$RC" 0
	check_match "$F 4, database back: sweep stores them" "$ERR" \
	    "stored 2, duplicates $((LOST - L)), rejected 0, left for retry 0"
	L=$LOST
	check "$F 4, database back: each stored once" \
	    "$(has "$F-4a")$(has "$F-4b")" 11
	check "$F 4: reports" "$(reports)" "$((n_reports + 5))"
	check "$F 4: rejected messages unchanged" "$(rejected)" "$n_rejected"
	check "$F 4: each message fetched and handled once" \
	    "$(waiting)/$(handled)" "0/$((n_msgs + 5 + LOST))"
	check "$F 4: everything still on the server" "$(imap count)" \
	    "$((n_msgs + 5))"

	# 5. Deleting on the server, as the example's comment says.
	if [ "$F" = mbsync ]; then
		rounds_delete_mbsync
	else
		rounds_delete_getmail
	fi
	check "$F 5: reports" "$(reports)" "$((n_reports + 6))"
	check "$F 5: nothing fetched twice" "$(waiting)/$(handled)" \
	    "0/$((n_msgs + 6 + LOST))"
	[ "$LOST" = 0 ] || echo "# $F: $LOST message(s) delivered twice by a lost child"
	dovecot_stop
}

# mbsync with "Sync PullNew PushDelete" and "Expunge Far": what the sweep
# moved away is deleted on the server at the next fetch; what waits in
# new/ stays there.
rounds_delete_mbsync() {
	_c=$W/mbsyncrc
	sed -e 's/^Sync PullNew$/Sync PullNew PushDelete/' \
	    -e 's/^Expunge None$/Expunge Far/' "$_c" >"$_c.new" &&
	    mv "$_c.new" "$_c"
	check "$F 5: the example's lines for deleting" \
	    "$(grep -c -E '^(Sync PullNew PushDelete|Expunge Far)$' "$_c")/$(grep -c -E '^#     (Sync PullNew PushDelete|Expunge Far)$' "$CONTRIB/mbsync/mbsyncrc")" 2/2
	new "$F-5"
	imap append "$TMP/new/$F-5.eml" >/dev/null
	fetch
	check "$F 5: fetch exit 0" "$FRC" 0
	check "$F 5: the new message fetched" "$(waiting)" 1
	check "$F 5: handled messages deleted on the server, not the new one" \
	    "$(imap count)" 1
	sweep
	check "$F 5: sweep stores it" "$(has "$F-5")" 1
	fetch
	check "$F 5: fetch after the sweep exit 0" "$FRC" 0
	check "$F 5: then it is deleted on the server too" "$(imap count)" 0
}

# getmail with delete = true: a message is deleted on the server once it
# is in the Maildir, and so are those it fetched before.
rounds_delete_getmail() {
	_c=$W/getmailrc
	sed 's/^delete = false$/delete = true/' "$_c" >"$_c.new" &&
	    mv "$_c.new" "$_c"
	check "$F 5: delete = true" "$(grep -c '^delete = true$' "$_c")" 1
	new "$F-5"
	imap append "$TMP/new/$F-5.eml" >/dev/null
	fetch
	check "$F 5: fetch exit 0" "$FRC" 0
	check "$F 5: the new message fetched" "$(waiting)" "$((1 + LOST - L))"
	check "$F 5: it and those fetched before deleted on the server" \
	    "$(imap count)" 0
	sweep
	check "$F 5: sweep stores it" "$(has "$F-5")" 1
}

rounds mbsync
rounds getmail

finish
