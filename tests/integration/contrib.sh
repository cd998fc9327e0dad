#!/bin/sh
# contrib.sh - the examples under contrib/ for procmail, systemd and cron
# work as they are written.  Each is taken from its file and changed by
# sed only where a path or the database must change:
#   - procmail: contrib/procmail/procmailrc.example, run by a real
#     procmail (-m, as a mail filter).  A report is stored; with the
#     database stopped a new report is filed in tlsrpt-hold/ and stored
#     when that folder is replayed as the example says; a message over
#     32 MiB is filed in tlsrpt-too-large/ and not piped to the program.
#   - systemd: the sweep and server services (made from their .in as make
#     does) and the timer pass systemd-analyze verify without a word; the
#     sweep's command line, with its Environment=, sweeps a Maildir, and
#     the server's stores a message that pipe mode hands it.
#   - cron: contrib/cron/tlsrpt-ingest.cron has 5 time fields and a user,
#     and its command line, with its TLSRPT_DB, sweeps a Maildir.
# A part whose tool (procmail, systemd-analyze) is missing is skipped
# with a "# skip" line, unless CI=true or TLSRPT_INSTALL=1, which install
# the Debian package (as root); under CI=true a tool that cannot be had
# is a failure (exit 99).

. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pg.sh"

PATH=$PATH:/usr/sbin:/sbin
export PATH
CONTRIB=$top_srcdir/contrib
C=$TI_TEST_DATA/corpus

[ -x "$BIN" ] || { echo "FAIL: $BIN not built" >&2; exit 99; }

TMP=$(mktemp -d)
pg_start
trap 'rm -rf "$TMP"; pg_cleanup' EXIT
# What the program is given instead of the examples' "dbname=tlsrpt".
conninfo() { echo "host=$PG_DIR user=tlsrpt dbname=$1"; }

# have COMMAND PACKAGE: 0 when COMMAND can be run, installing PACKAGE if
# allowed; 1 (the caller skips) when it cannot.
have() {
	command -v "$1" >/dev/null 2>&1 && return 0
	if [ "${CI:-}" != true ] && [ "${TLSRPT_INSTALL:-}" != 1 ]; then
		return 1
	fi
	echo "# installing $2"
	_log=$TMP/apt-$2.log
	if [ "$(id -u)" = 0 ] && DEBIAN_FRONTEND=noninteractive \
	    apt-get install -y -qq --no-install-recommends "$2" \
	    >"$_log" 2>&1 && command -v "$1" >/dev/null 2>&1; then
		return 0
	fi
	cat "$_log" >&2 2>/dev/null
	if [ "${CI:-}" = true ]; then
		echo "FAIL: $1 (Debian package $2) cannot be installed" >&2
		exit 99
	fi
	return 1
}

count() { find "$1" -type f 2>/dev/null | wc -l | tr -d ' '; }
reports() { pg_q "$1" "SELECT count(*) FROM tlsrpt.report"; }
has_report() {
	pg_q "$1" "SELECT count(*) FROM tlsrpt.report WHERE report_id = '$2'"
}
# The report id a message carries, as the program sees it.
report_id() {
	"$BIN" -q --dry-run --json "$1" </dev/null |
	    sed -n 's/.*"report-id": *"\([^"]*\)".*/\1/p' | head -n 1
}

# newmaildir DIR MESSAGE...: a fresh Maildir with the messages in new/.
newmaildir() {
	_d=$1
	shift
	rm -rf "$_d"
	mkdir -p "$_d/new" "$_d/cur" "$_d/tmp"
	for _m in "$@"; do
		cp "$_m" "$_d/new/$(basename "$_m").$$.host"
	done
}

M1=$C/mjl-__mox/example.eml
M2=$C/isseis__tlsrpt-digest/tlsrpt_failure.eml
M3=$C/isseis__tlsrpt-digest/tlsrpt_success_microsoft.eml
ID1=$(report_id "$M1")
ID2=$(report_id "$M2")
ID3=$(report_id "$M3")
[ -n "$ID1" ] && [ -n "$ID2" ] && [ -n "$ID3" ] &&
    [ "$ID1" != "$ID2" ] && [ "$ID1" != "$ID3" ] && [ "$ID2" != "$ID3" ] || {
	echo "FAIL: the corpus messages carry no distinct report ids" >&2
	exit 99
}

# ---- procmail
if ! have procmail procmail; then
	echo "# skip procmail: not installed (TLSRPT_INSTALL=1 installs it)"
else
	pg_newdb pm || exit 99
	P=$TMP/procmail
	mkdir -p "$P/mail"
	# The example, after a preamble that says where mail goes.  -m makes
	# procmail a mail filter: it runs as whoever calls it, and takes no
	# rcfile from a home directory.
	{
		echo "MAILDIR=$P/mail"
		echo "DEFAULT=$P/mail/default/"
		echo "LOGFILE=$P/procmail.log"
		echo "SHELL=/bin/sh"
		sed -e "s|/usr/local/bin/tlsrpt-ingest|$BIN|" \
		    -e "s|--db \"dbname=tlsrpt\"|--db \"$(conninfo pm)\"|" \
		    "$CONTRIB/procmail/procmailrc.example"
	} >"$P/rc"
	check "procmail: the example pipes to the program with --db" \
	    "$(grep -c "^| $BIN .*--db \"$(conninfo pm)\"" "$P/rc")" 1

	procmail -m "$P/rc" <"$M1"
	check "procmail: a report, exit 0" "$?" 0
	check "procmail: the report is stored" "$(has_report pm "$ID1")" 1
	check "procmail: nothing filed" \
	    "$(count "$P/mail/tlsrpt-hold")/$(count "$P/mail/default")" 0/0

	pg_ctl_stop fast
	procmail -m "$P/rc" <"$M2"
	check "procmail, database down: exit 0" "$?" 0
	check "procmail, database down: the program failed with 75" \
	    "$(grep -c 'Program failure (75)' "$P/procmail.log")" 1
	check "procmail, database down: the report is in tlsrpt-hold/new" \
	    "$(count "$P/mail/tlsrpt-hold/new")" 1
	check "procmail, database down: the hold copy is the message" \
	    "$(cat "$P"/mail/tlsrpt-hold/new/* | cksum)" "$(cksum <"$M2")"
	pg_ctl_start
	check "procmail, database back: not stored yet" \
	    "$(has_report pm "$ID2")" 0
	# The replay, as the example's comment says, from MAILDIR.
	_cmd=$(sed -n 's/^#  *\(tlsrpt-ingest tlsrpt-hold\/new\/\*\)$/\1/p' \
	    "$CONTRIB/procmail/procmailrc.example")
	check "procmail: the example says how to replay" "$_cmd" \
	    "tlsrpt-ingest tlsrpt-hold/new/*"
	(cd "$P/mail" && TLSRPT_DB=$(conninfo pm) &&
	    export TLSRPT_DB && eval "$top_builddir/$_cmd")
	check "procmail, replay: exit 0" "$?" 0
	check "procmail, replay: the held report is stored" \
	    "$(has_report pm "$ID2")" 1
	check "procmail: two reports in all" "$(reports pm)" 2

	# Over 32 MiB: filed, never piped.
	{
		printf 'From: reports@sender.example\n'
		printf 'To: tlsrpt@receiver.example\nSubject: large\n'
		printf 'Message-ID: <large@sender.example>\n'
		printf 'MIME-Version: 1.0\nContent-Type: text/plain\n\n'
		yes 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx' |
		    head -c 33554432
	} >"$P/large.eml"
	procmail -m "$P/rc" <"$P/large.eml"
	check "procmail, over 32 MiB: exit 0" "$?" 0
	check "procmail, over 32 MiB: filed in tlsrpt-too-large/new" \
	    "$(count "$P/mail/tlsrpt-too-large/new")" 1
	check "procmail, over 32 MiB: not given to the program" \
	    "$(pg_q pm "SELECT count(*) FROM tlsrpt.rejected_message")" 0
	check "procmail, over 32 MiB: still two reports" "$(reports pm)" 2
	check "procmail: nothing in DEFAULT" "$(count "$P/mail/default")" 0
	rm -f "$P/large.eml" "$P"/mail/tlsrpt-too-large/new/*
fi

# ---- systemd
if ! have systemd-analyze systemd; then
	echo "# skip systemd: systemd-analyze not installed" \
	    "(TLSRPT_INSTALL=1 installs it)"
else
	S=$TMP/systemd
	mkdir -p "$S"
	# As make does (Makefile.am), with the build directory for bindir.
	SVC=$S/tlsrpt-ingest-sweep.service
	sed -e "s|@bindir[@]|$top_builddir|g" \
	    "$CONTRIB/systemd/tlsrpt-ingest-sweep.service.in" >"$SVC"
	SRV=$S/tlsrpt-ingest-serve.service
	sed -e "s|@bindir[@]|$top_builddir|g" \
	    "$CONTRIB/systemd/tlsrpt-ingest-serve.service.in" >"$SRV"
	cp "$CONTRIB/systemd/tlsrpt-ingest-sweep.timer" "$S/"
	check "systemd: no @substitution@ left" \
	    "$(cat "$SVC" "$SRV" | grep -c '@[a-z_]*@')" 0
	# The manual pages are looked up in the tree, not with man(1).
	_out=$(cd "$S" && systemd-analyze verify --man=no \
	    tlsrpt-ingest-sweep.service tlsrpt-ingest-sweep.timer \
	    tlsrpt-ingest-serve.service 2>&1)
	check "systemd: verify exit 0" "$?" 0
	check "systemd: verify says nothing" "$_out" ""
	for _d in $(sed -n 's/^Documentation=//p' "$S"/*); do
		case $_d in
		man:*\(*\))
			_p=$(echo "$_d" | sed 's/^man:\(.*\)(\(.*\))$/\1.\2/')
			check "systemd: $_d is in man/" \
			    "$(test -f "$top_srcdir/man/$_p" && echo yes)" \
			    yes ;;
		*)	not_ok "systemd: $_d is a manual page" ;;
		esac
	done
	# A monotonic timer ignores Persistent=: only OnCalendar= uses it.
	check "systemd: Persistent= only with OnCalendar=" \
	    "$(grep -c '^Persistent=' "$S/tlsrpt-ingest-sweep.timer")" \
	    "$(grep -c '^OnCalendar=' "$S/tlsrpt-ingest-sweep.timer")"
	check "systemd: the timer starts the service" \
	    "$(sed -n 's/^Unit=//p' "$S/tlsrpt-ingest-sweep.timer")" ""

	# ExecStart=, with its Environment=, run against a Maildir.
	pg_newdb sd || exit 99
	_md=$(sed -n 's/^ReadWritePaths=//p' "$SVC")
	_exec=$(sed -n 's/^ExecStart=//p' "$SVC")
	_env=$(sed -n 's/^Environment=TLSRPT_DB=//p' "$SVC")
	check "systemd: the service sweeps the Maildir it may write" \
	    "$(echo "$_exec" | grep -c -- "--maildir $_md\$")" 1
	check "systemd: TLSRPT_DB is the examples' database" \
	    "$_env" dbname=tlsrpt
	newmaildir "$TMP/sd-Maildir" "$M1" "$M3"
	_exec=$(echo "$_exec" | sed "s|$_md|$TMP/sd-Maildir|")
	(TLSRPT_DB=$(conninfo sd) && export TLSRPT_DB && eval "$_exec")
	check "systemd: ExecStart exit 0" "$?" 0
	check "systemd: ExecStart stored both reports" \
	    "$(has_report sd "$ID1")/$(has_report sd "$ID3")" 1/1
	check "systemd: ExecStart moved both" "$(count "$TMP/sd-Maildir/new")/$(
	    count "$TMP/sd-Maildir/.Processed/cur")" 0/2
	pg_ctl_stop fast
	newmaildir "$TMP/sd-Maildir" "$M2"
	(TLSRPT_DB=$(conninfo sd) && export TLSRPT_DB && eval "$_exec")
	_rc=$?
	check "systemd, database down: the exit (75) is a SuccessExitStatus" \
	    "$_rc" "$(sed -n 's/^SuccessExitStatus=//p' "$SVC")"
	check "systemd, database down: the message stays" \
	    "$(count "$TMP/sd-Maildir/new")" 1
	pg_ctl_start

	# The server's ExecStart=, with its Environment=, serving pipe mode
	# on the socket that master.cf.example hands messages to.
	_sock=$(sed -n 's/^ExecStart=.*--socket \([^ ]*\).*/\1/p' "$SRV")
	check "systemd: the server's socket is in its RuntimeDirectory" \
	    "$_sock" "/run/$(sed -n 's/^RuntimeDirectory=//p' "$SRV")/socket"
	check "systemd: master.cf.example hands messages to that socket" \
	    "$(grep -c -- "--socket $_sock " \
	    "$top_srcdir/contrib/postfix/master.cf.example")" 1
	check "systemd: the server's TLSRPT_DB is the examples' database" \
	    "$(sed -n 's/^Environment=TLSRPT_DB=//p' "$SRV")" dbname=tlsrpt
	pg_newdb sds || exit 99
	_exec=$(sed -n 's/^ExecStart=//p' "$SRV" |
	    sed "s|$_sock|$TMP/sd-socket|")
	(TLSRPT_DB=$(conninfo sds) && export TLSRPT_DB &&
	    eval "exec $_exec") 2>/dev/null &
	_pid=$!
	wait_until test -S "$TMP/sd-socket"
	"$BIN" --socket "$TMP/sd-socket" -d "host=/nonexistent dbname=none" \
	    <"$M1" >/dev/null 2>&1
	check "systemd: pipe mode handed its message to the server" \
	    "$?/$(has_report sds "$ID1")" 0/1
	kill -TERM "$_pid"
	wait "$_pid"
	check "systemd: the server stops on SIGTERM with exit 0" "$?" 0
	check "systemd: and removes its socket" \
	    "$(test -e "$TMP/sd-socket" && echo left)" ""
fi

# ---- cron
CR=$CONTRIB/cron/tlsrpt-ingest.cron
_line=$(grep -v -e '^#' -e '^[A-Za-z_][A-Za-z_0-9]*=' -e '^[ 	]*$' "$CR")
check "cron: one job" "$(printf '%s\n' "$_line" | wc -l | tr -d ' ')" 1
_f='([0-9]+(-[0-9]+)?(/[0-9]+)?|\*(/[0-9]+)?)(,([0-9]+(-[0-9]+)?(/[0-9]+)?))*'
check_match "cron: 5 time fields and a user" "$_line" \
    "^($_f[ 	]+){5}[a-z_][a-z0-9_-]*[ 	]+/"
check "cron: runs as tlsrpt" "$(echo "$_line" | awk '{ print $6 }')" tlsrpt
check "cron: no % (cron makes it a newline)" "$(grep -c '%' "$CR")" 0
check "cron: the file ends with a newline" \
    "$(tail -c 1 "$CR" | od -An -c | tr -d ' ')" '\n'
# The command: what follows the 6th field, as it is.
_cmd=$(echo "$_line" | sed -E 's/^([^ 	]+[ 	]+){6}//')
_env=$(sed -n 's/^TLSRPT_DB="\(.*\)"$/\1/p' "$CR")
check "cron: TLSRPT_DB is the examples' database" "$_env" dbname=tlsrpt
_md=$(echo "$_cmd" | sed -n 's/.*--maildir \([^ ]*\).*/\1/p')
check "cron: sweeps the Maildir of the systemd example" \
    "$_md" /var/mail/tlsrpt/Maildir
pg_newdb cr || exit 99
newmaildir "$TMP/cr-Maildir" "$M1" "$M2" "$M3"
_cmd=$(echo "$_cmd" | sed -e "s|^/usr/local/bin/tlsrpt-ingest |$BIN |" \
    -e "s|$_md|$TMP/cr-Maildir|")
check "cron: the command is the installed program" \
    "$(echo "$_cmd" | grep -c "^$BIN ")" 1
# As cron runs it: /bin/sh -c, the file's variables in the environment.
_o=$(TLSRPT_DB=$(conninfo cr) /bin/sh -c "$_cmd" 2>&1 </dev/null)
check "cron: exit 0" "$?" 0
check "cron: --quiet: nothing for cron to mail" "$_o" ""
check "cron: all three reports stored" "$(has_report cr "$ID1")/$(
    has_report cr "$ID2")/$(has_report cr "$ID3")" 1/1/1
check "cron: the Maildir is swept" "$(count "$TMP/cr-Maildir/new")/$(
    count "$TMP/cr-Maildir/.Processed/cur")" 0/3
_o=$(TLSRPT_DB=$(conninfo cr) /bin/sh -c "$_cmd" 2>&1 </dev/null)
check "cron: a second run, exit 0 and quiet" "$?/$_o" 0/

finish
