#!/bin/sh
# metrics.sh - tlsrpt-adm metrics against the real ingester's rows: the
# corpus and reports with hostile names stored by tlsrpt-ingest, every
# series compared with sums over the report tables, label escaping, the
# running totals through deletes, folding and a role that may not fold,
# the monitored domains, the series cap, --output replacing its file
# whole or not at all, and the text read by the real promtool and a real
# node exporter's textfile collector.
#
# promtool (Debian package prometheus), prometheus-node-exporter and curl
# are skipped with a "# skip" line when missing, unless CI=true, where a
# missing one is a failure.

. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pg.sh"

PATH=$PATH:/usr/sbin:/sbin
export PATH
C=$TI_TEST_DATA/corpus

[ -x "$BIN" ] && [ -x "$ADM" ] || { echo "FAIL: programs not built" >&2; exit 99; }

TMP=$(mktemp -d)
chmod 755 "$TMP"
EXP_PID=
pg_start
trap '[ -n "$EXP_PID" ] && kill "$EXP_PID" 2>/dev/null; rm -rf "$TMP"; pg_cleanup' EXIT

# need COMMAND PACKAGE: 0 when COMMAND is there; else a skip line, or a
# failure under CI=true; 1.
need() {
	command -v "$1" >/dev/null 2>&1 && return 0
	if [ "${CI:-}" = true ]; then
		not_ok "$1 (Debian package $2) is installed"
	else
		echo "# skip: $1 not installed (Debian package $2)"
	fi
	return 1
}

# As an unprivileged user when run as root (PostgreSQL's socket and the
# files here are open to it).
if [ "$(id -u)" = 0 ]; then
	AS_USER="setpriv --reuid=nobody --regid=nogroup --clear-groups"
else
	AS_USER=
fi

# adm DB ARGS...: tlsrpt-adm metrics; sets RC, OUT, ERR.
adm() {
	_db=$1
	shift
	"$ADM" -d "dbname=$_db" metrics "$@" >"$TMP/out" 2>"$TMP/err" \
	    </dev/null
	RC=$?
	OUT=$(cat "$TMP/out")
	ERR=$(cat "$TMP/err")
}

# series NAME [FILE]: the samples of one metric, sorted bytewise.
series() {
	grep "^$1[{ ]" "${2:-$TMP/out}" | LC_ALL=C sort
}

# The exposition format's escaping of a label value, done in SQL over the
# report tables: the characters no label carries dropped, at most 255
# characters, then backslash, double quote and LF escaped.
sql_helpers() {
	pg_q "$1" "CREATE FUNCTION public.esc(t text) RETURNS text
	    LANGUAGE sql IMMUTABLE RETURN replace(replace(replace(left(
	    regexp_replace(t, '[\\x01-\\x09\\x0b-\\x1f\\x7f-\\x9f\\u200e\\u200f\\u2028-\\u202e\\u2066-\\u2069]',
	    '', 'g'), 255), '\\', '\\\\'), '\"', '\\\"'), E'\\n', '\\n')" \
	    >/dev/null
}

# want NAME DB: what metric NAME should hold, from the report tables.
want() {
	case $1 in
	tlsrpt_sessions_total)
		pg_q "$2" "SELECT format('tlsrpt_sessions_total{domain=\"%s\",reporter=\"%s\",policy_type=\"%s\",result=\"%s\"} %s',
		    d, o, t, x.r, x.n)
		    FROM (SELECT esc(lower(p.policy_domain)) d,
			esc(r.organization_name) o, esc(p.policy_type) t,
			sum(p.total_successful_session_count) ok,
			sum(p.total_failure_session_count) ko
			FROM tlsrpt.policy p JOIN tlsrpt.report r
			ON r.id = p.report_ref GROUP BY 1, 2, 3) s
		    CROSS JOIN LATERAL (VALUES ('success', s.ok),
			('failure', s.ko)) x(r, n)" ;;
	tlsrpt_failed_sessions_total)
		pg_q "$2" "SELECT format('tlsrpt_failed_sessions_total{domain=\"%s\",result_type=\"%s\"} %s',
		    esc(lower(p.policy_domain)), esc(d.result_type),
		    sum(d.failed_session_count))
		    FROM tlsrpt.failure_detail d JOIN tlsrpt.policy p
		    ON p.id = d.policy_ref
		    GROUP BY esc(lower(p.policy_domain)), esc(d.result_type)" ;;
	tlsrpt_reports_total)
		pg_q "$2" "SELECT format('tlsrpt_reports_total{domain=\"%s\",reporter=\"%s\"} %s',
		    esc(lower(p.policy_domain)), esc(r.organization_name),
		    count(DISTINCT r.id))
		    FROM tlsrpt.policy p JOIN tlsrpt.report r
		    ON r.id = p.report_ref GROUP BY esc(lower(p.policy_domain)),
		    esc(r.organization_name)" ;;
	tlsrpt_last_report_timestamp_seconds)
		pg_q "$2" "SELECT format('tlsrpt_last_report_timestamp_seconds{domain=\"%s\",reporter=\"%s\"} %s',
		    esc(lower(p.policy_domain)), esc(r.organization_name),
		    floor(extract(epoch FROM
			max(least(r.end_datetime, r.received_at)))))
		    FROM tlsrpt.policy p JOIN tlsrpt.report r
		    ON r.id = p.report_ref GROUP BY esc(lower(p.policy_domain)),
		    esc(r.organization_name)" ;;
	tlsrpt_rejected_messages_total)
		echo "tlsrpt_rejected_messages_total $(pg_q "$2" \
		    "SELECT count(*) FROM tlsrpt.rejected_message")" ;;
	tlsrpt_last_received_timestamp_seconds)
		pg_q "$2" "SELECT 'tlsrpt_last_received_timestamp_seconds ' ||
		    floor(extract(epoch FROM max(received_at)))
		    FROM tlsrpt.report WHERE EXISTS (SELECT FROM tlsrpt.report)" ;;
	esac | LC_ALL=C sort
}

FAMILIES="tlsrpt_sessions_total tlsrpt_failed_sessions_total
tlsrpt_reports_total tlsrpt_last_report_timestamp_seconds
tlsrpt_rejected_messages_total tlsrpt_last_received_timestamp_seconds"

# compare WHAT DB [METRIC...]: each metric (default: all) of the last
# output against the tables.
compare() {
	_what=$1 _db=$2
	shift 2
	[ $# -gt 0 ] || set -- $FAMILIES
	for f in "$@"; do
		_got=$(series "$f")
		_want=$(want "$f" "$_db")
		if [ "$_got" = "$_want" ]; then
			ok "$_what: $f as the report tables say"
		else
			not_ok "$_what: $f as the report tables say" \
			    "$(printf '%s\n' "$_want" >"$TMP/want"
			    printf '%s\n' "$_got" >"$TMP/got"
			    diff "$TMP/want" "$TMP/got" | head -n 20)"
		fi
	done
}

# ---- Reports with hostile names, and the corpus, by the real ingester.
# report N ORG: a report whose organization-name is the JSON string ORG.
report() {
	cat >"$TMP/hostile-$1.json" <<JSON
{"organization-name": $2,
 "date-range": {"start-datetime": "2026-11-0${1}T00:00:00Z",
  "end-datetime": "2026-11-0${1}T23:59:59Z"},
 "contact-info": "tlsrpt@reporter.example", "report-id": "hostile-$1",
 "policies": [
  {"policy": {"policy-type": "sts", "policy-domain": "Mon.Example",
    "mx-host": ["mx.secret-host.example"]},
   "summary": {"total-successful-session-count": 100$1,
    "total-failure-session-count": 7},
   "failure-details": [
    {"result-type": "certificate-expired", "sending-mta-ip": "192.0.2.77",
     "receiving-mx-hostname": "mx.secret-host.example",
     "receiving-ip": "198.51.100.9", "failed-session-count": 5},
    {"result-type": "weird \"type\"\n\\\\x\u0007",
     "failed-session-count": 2}]},
  {"policy": {"policy-type": "tl\"sa", "policy-domain": "sub.mon.example"},
   "summary": {"total-successful-session-count": 50,
    "total-failure-session-count": 0}},
  {"policy": {"policy-type": "sts", "policy-domain": "ot\"her\\\\.example\n"},
   "summary": {"total-successful-session-count": 3,
    "total-failure-session-count": 1}}]}
JSON
}
report 1 '"Evil \"Quote\" \\Back\\slash\nNewline \u00dcn\u00efc\u00f8d\u00e9 \u0001ctl\u202e"'
report 2 '"Evil \"Quote\" \\Back\\slash\nNewline \u00dcn\u00efc\u00f8d\u00e9 ctl"'
report 3 '"\u65e5\u672c\u306e\u5831\u544a\u8005 \u0085\u2028\u200f"'
# The first two differ by control characters only: one label value.
EVIL='Evil \"Quote\" \\Back\\slash\nNewline Ünïcødé ctl'

pg_newdb m || exit 99
sql_helpers m
"$BIN" -q -d dbname=m "$TMP"/hostile-*.json \
    $(find "$C" -type f \( -name '*.json' -o -name '*.eml' -o -name '*.gz' \) | sort) \
    </dev/null
check "the ingester stores the reports" "$?" 0
check "three hostile reports stored" \
    "$(pg_q m "SELECT count(*) FROM tlsrpt.report WHERE report_id LIKE 'hostile-%'")" 3
check_match "corpus reports stored, and some kept aside" \
    "$(pg_q m "SELECT (SELECT count(*) > 10 FROM tlsrpt.report) AND
	(SELECT count(*) > 0 FROM tlsrpt.rejected_message)")" '^t$'

adm m
check "metrics: exit 0" "$RC" 0
check "metrics: nothing on stderr" "$ERR" ""
cp "$TMP/out" "$TMP/first.prom"
compare "corpus" m
for f in $FAMILIES tlsrpt_metrics_truncated \
    tlsrpt_metrics_generated_timestamp_seconds; do
	t=gauge
	case $f in *_total) t=counter ;; esac
	check "HELP and TYPE $t for $f" \
	    "$(grep -c "^# HELP $f .\|^# TYPE $f $t\$" "$TMP/out")" 2
done
check "not truncated" "$(series tlsrpt_metrics_truncated)" \
    "tlsrpt_metrics_truncated 0"
now=$(date +%s)
gen=$(series tlsrpt_metrics_generated_timestamp_seconds | cut -d' ' -f2)
check "generated now" "$([ $((now - gen)) -ge 0 ] && [ $((now - gen)) -le 60 ] && echo yes)" yes

# ---- Escaping, and what is never a label.
check "a hostile reporter, escaped, once per series" \
    "$(grep -cF "tlsrpt_reports_total{domain=\"mon.example\",reporter=\"$EVIL\"} 2" "$TMP/out")" 1
check "a hostile domain and policy type, escaped" \
    "$(grep -cF 'domain="ot\"her\\.example\n"' "$TMP/out")/$(grep -cF 'policy_type="tl\"sa"' "$TMP/out")" 8/4
check "a hostile result type, escaped" \
    "$(grep -cF 'result_type="weird \"type\"\n\\x"} 6' "$TMP/out")" 1
check "UTF-8 kept, controls and separators dropped" \
    "$(grep -cF 'reporter="日本の報告者 "' "$TMP/out")" 12
check "no control character in the output" \
    "$(tr -d '\n' <"$TMP/out" | LC_ALL=C grep -c '[[:cntrl:]]')" 0
check "no C1 control or line separator" \
    "$(LC_ALL=C grep -c "$(printf '\302[\200-\237]\|\342\200[\250\251\216\217\252-\256]')" "$TMP/out")" 0
check "no IP address" \
    "$(grep -cE '[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+' "$TMP/out")" 0
check "no IPv6 address (the corpus has 2001:db8:...)" \
    "$(grep -c '2001:db8' "$TMP/out")" 0
check "no MX host name" \
    "$(grep -c 'secret-host\|mx1\.mail\.company-y' "$TMP/out")" 0
check "every sample line has a metric name and a number" \
    "$(grep -v '^#' "$TMP/out" | grep -cvE '^tlsrpt_[a-z_]+(\{.*\})? [0-9]+$')" 0

if need promtool prometheus; then
	promtool check metrics <"$TMP/out" >"$TMP/promtool" 2>&1
	check "promtool check metrics: no complaint" \
	    "$?:$(cat "$TMP/promtool")" "0:"
fi

# ---- Rows deleted, and folding.
pg_q m "DELETE FROM tlsrpt.report WHERE report_id = 'hostile-2';
    DELETE FROM tlsrpt.report WHERE id = (SELECT min(r.id)
	FROM tlsrpt.report r JOIN tlsrpt.policy p ON p.report_ref = r.id
	WHERE r.report_id NOT LIKE 'hostile-%');
    DELETE FROM tlsrpt.policy WHERE id = (SELECT p.id FROM tlsrpt.policy p
	JOIN tlsrpt.report r ON r.id = p.report_ref
	WHERE r.report_id = 'hostile-3' AND p.policy_index = 0);
    DELETE FROM tlsrpt.failure_detail WHERE id = (SELECT max(id)
	FROM tlsrpt.failure_detail)" >/dev/null
check "unfolded rows before the run" \
    "$(pg_q m "SELECT count(*) > 0 FROM tlsrpt.metrics_session WHERE NOT folded")" t
adm m
check "after deletes: exit 0" "$RC" 0
# Until hostile-2 is stored again, the last report times stay as the
# manual says (below).
BUT_LAST="tlsrpt_sessions_total tlsrpt_failed_sessions_total
tlsrpt_reports_total tlsrpt_rejected_messages_total
tlsrpt_last_received_timestamp_seconds"
compare "after deletes" m $BUT_LAST
# The newest report of a domain and reporter deleted: its end stays, as
# the manual says (the running totals keep no history of it).
check "after deletes: the last report's end stays that of the deleted one" \
    "$(series tlsrpt_last_report_timestamp_seconds | grep -cF "{domain=\"mon.example\",reporter=\"$EVIL\"} $(date -u -d 2026-11-02T23:59:59 +%s)")" 1
check "folded: one row per key" \
    "$(pg_q m "SELECT (SELECT count(*) FROM tlsrpt.metrics_session WHERE NOT folded)
	+ (SELECT count(*) FROM (SELECT FROM tlsrpt.metrics_report
	    GROUP BY domain, reporter HAVING count(*) > 1) x)")" 0

# A report displaced by one with a passing DKIM signature (the writer
# deletes the first): its sessions go with it.
# displaced NAME FAILURES AUTHRES: a message from google.com with a report
# for displaced.example, its Authentication-Results line AUTHRES.
displaced() {
	sed -e 's/"organization-name": *"[^"]*"/"organization-name": "Google Inc."/' \
	    -e 's/"report-id": *"[^"]*"/"report-id": "displaced-1"/' \
	    -e 's/"contact-info": *"[^"]*"/"contact-info": "smtp-tls-reporting@google.com"/' \
	    -e 's/"policy-domain": *"[^"]*"/"policy-domain": "displaced.example"/' \
	    -e "s/\"total-failure-session-count\": *[0-9]*/\"total-failure-session-count\": $2/" \
	    "$C/domainaware__parsedmarc/rfc8460.json" | gzip -c | base64 >"$TMP/$1.b64"
	cat >"$TMP/$1.eml" <<MSG
Authentication-Results: $3
From: noreply-smtp-tls-reporting@google.com
To: tlsrpt@receiver.example
Subject: Report Domain: displaced.example Submitter: google.com
Message-ID: <$1@google.com>
Date: Sat, 05 Dec 2026 10:00:00 +0000
TLS-Report-Domain: displaced.example
TLS-Report-Submitter: google.com
MIME-Version: 1.0
Content-Type: multipart/report; report-type="tlsrpt"; boundary="b1"

--b1
Content-Type: application/tlsrpt+gzip; name="google.com!displaced.example!1!2.json.gz"
Content-Transfer-Encoding: base64

$(cat "$TMP/$1.b64")
--b1--
MSG
}
displaced forged 999 "mx.receiver.example; dkim=none"
displaced genuine 303 "mx.receiver.example; dkim=pass header.d=google.com"
"$BIN" -q --authserv-id mx.receiver.example -d dbname=m "$TMP/forged.eml" \
    </dev/null
adm m
check "forged report: its failures counted" \
    "$(series tlsrpt_sessions_total | grep -c 'domain="displaced.example".*"failure"} 999$')" 1
"$BIN" -q --authserv-id mx.receiver.example -d dbname=m "$TMP/genuine.eml" \
    </dev/null
check "the genuine report displaced the forged one" \
    "$(pg_q m "SELECT count(*) FROM tlsrpt.rejected_message WHERE reason LIKE 'displaced%'")" 1
adm m
compare "displaced" m $BUT_LAST

# A role that reads and folds, then one that may only read; reports
# stored by the least privileged writer.
"$PG_BINDIR/psql" -q -X -v ON_ERROR_STOP=1 -d m \
    -f "$top_srcdir/sql/roles.sql" >/dev/null
pg_q m "CREATE ROLE rdr LOGIN IN ROLE tlsrpt_reader;
    CREATE ROLE ing LOGIN IN ROLE tlsrpt_ingest" >/dev/null
"$BIN" -q -d "dbname=m user=ing" "$TMP/hostile-2.json" </dev/null
check "tlsrpt_ingest stores, the running totals with it" \
    "$?:$(pg_q m "SELECT count(*) FROM tlsrpt.report WHERE report_id = 'hostile-2'")" 0:1
adm "m user=rdr"
check "as tlsrpt_reader: exit 0" "$RC" 0
compare "as tlsrpt_reader" m
check "as tlsrpt_reader: folded" \
    "$(pg_q m "SELECT count(*) FROM tlsrpt.metrics_report WHERE NOT folded")" 0
pg_q m "REVOKE EXECUTE ON FUNCTION tlsrpt.metrics_fold FROM tlsrpt_reader;
    DELETE FROM tlsrpt.report WHERE report_id = 'hostile-2'" >/dev/null
"$BIN" -q -d "dbname=m user=ing" "$TMP/hostile-2.json" </dev/null
adm "m user=rdr"
check "may not fold: exit 0, nothing said" "$RC:$ERR" "0:"
compare "may not fold" m
check "may not fold: rows left unfolded" \
    "$(pg_q m "SELECT count(*) > 0 FROM tlsrpt.metrics_report WHERE NOT folded")" t

# ---- Monitored domains (the table as tlsrpt-adm domains keeps it).
pg_q m "CREATE TABLE IF NOT EXISTS tlsrpt.monitored_domain (domain text PRIMARY KEY, include_subdomains boolean NOT NULL DEFAULT true, added_at timestamptz NOT NULL DEFAULT now())" >/dev/null
domains() {
	grep -o '^tlsrpt_[a-z_]*{domain="[^"]*' "$TMP/out" |
	    sed 's/.*domain="//' | LC_ALL=C sort -u | tr '\n' ' '
}
adm m
all=$(domains)
check "an empty list of monitored domains keeps every domain" \
    "$(series tlsrpt_reports_total | wc -l | tr -d ' ')" \
    "$(want tlsrpt_reports_total m | wc -l | tr -d ' ')"
pg_q m "INSERT INTO tlsrpt.monitored_domain (domain) VALUES ('mon.example')" >/dev/null
adm m
check "a monitored domain and its subdomains" "$(domains)" \
    "mon.example sub.mon.example "
check "unlabelled metrics stay" \
    "$(series tlsrpt_rejected_messages_total)" \
    "$(want tlsrpt_rejected_messages_total m)"
pg_q m "UPDATE tlsrpt.monitored_domain SET include_subdomains = false" >/dev/null
adm m
check "a monitored domain without its subdomains" "$(domains)" "mon.example "
pg_q m "DELETE FROM tlsrpt.monitored_domain" >/dev/null
adm m
check "the list emptied: every domain again" "$(domains)" "$all"

# ---- The series cap.
adm m --max-series 2
check "cap: exit 0" "$RC" 0
check "cap: two series of each labelled metric" \
    "$(series tlsrpt_sessions_total | wc -l)/$(series tlsrpt_failed_sessions_total | wc -l)/$(series tlsrpt_reports_total | wc -l)/$(series tlsrpt_last_report_timestamp_seconds | wc -l)" \
    "2/2/2/2"
check "cap: the gauge says so" "$(series tlsrpt_metrics_truncated)" \
    "tlsrpt_metrics_truncated 1"
check_match "cap: stderr says so" "$ERR" \
    'warning: metrics: tlsrpt_sessions_total: more than 2 series, the busiest 2 kept'
busiest=$(pg_q m "SELECT esc(lower(p.policy_domain)) || '|' || esc(r.organization_name)
    FROM tlsrpt.policy p JOIN tlsrpt.report r ON r.id = p.report_ref
    GROUP BY esc(lower(p.policy_domain)), esc(r.organization_name),
    esc(p.policy_type) ORDER BY sum(p.total_successful_session_count +
    p.total_failure_session_count) DESC, 1 LIMIT 1")
check "cap: the busiest kept" \
    "$(series tlsrpt_sessions_total | head -n 1 | sed 's/^[^"]*"\([^"]*\)",reporter="\(\([^"\\]\|\\.\)*\)".*/\1|\2/')" \
    "$busiest"
if command -v promtool >/dev/null 2>&1; then
	check "cap: promtool check metrics: no complaint" \
	    "$(promtool check metrics <"$TMP/out" 2>&1)" ""
fi
for bad in 1 1000001 x ''; do
	adm m --max-series "$bad"
	check "--max-series '$bad': usage error" "$RC" 64
done

# ---- --output: the file replaced whole, or left as it was.
D=$TMP/textfile
mkdir "$D"
chmod 755 "$D"
adm m
grep -v '^tlsrpt_metrics_generated_timestamp_seconds ' "$TMP/out" \
    >"$TMP/stdout.prom"
adm m --output "$D/tlsrpt.prom"
check "--output: exit 0, nothing on stdout" "$RC:$OUT" "0:"
check "--output: mode 0644" "$(stat -c %a "$D/tlsrpt.prom")" 644
check "--output: what standard output says" \
    "$(grep -v '^tlsrpt_metrics_generated_timestamp_seconds ' \
	"$D/tlsrpt.prom" | cmp - "$TMP/stdout.prom" && echo same)" same
cp "$D/tlsrpt.prom" "$TMP/saved.prom"
check "--output: no file left beside it" "$(ls "$D")" "tlsrpt.prom"

adm "nosuchdb" --output "$D/tlsrpt.prom"
check "database down: exit 75" "$RC" 75
check "database down: one line" "$(printf '%s\n' "$ERR" | wc -l | tr -d ' ')" 1
check "database down: the file as it was" \
    "$(cmp "$TMP/saved.prom" "$D/tlsrpt.prom" && ls "$D")" "tlsrpt.prom"

if [ -n "$AS_USER" ]; then
	$AS_USER "$ADM" -d dbname=m metrics --output "$D/tlsrpt.prom" \
	    >"$TMP/out" 2>"$TMP/err" </dev/null
	RC=$?
else
	chmod 555 "$D"
	adm m --output "$D/tlsrpt.prom"
	chmod 755 "$D"
fi
check "directory not writable: exit 73" "$RC" 73
check_match "directory not writable: one line" "$(cat "$TMP/err")" \
    '^tlsrpt-adm: error: metrics: cannot create .*tlsrpt\.prom\.tmp\.[A-Za-z0-9]{6}: Permission denied$'
check "directory not writable: the file as it was" \
    "$(cmp "$TMP/saved.prom" "$D/tlsrpt.prom" && ls "$D")" "tlsrpt.prom"

mkdir -p "$D/taken/x"
adm m --output "$D/taken"
check "rename refused (a directory in the way): exit 74" "$RC" 74
check "rename refused: nothing left behind" "$(ls "$D" | tr '\n' ' ')" \
    "taken tlsrpt.prom "
rm -rf "$D/taken"
adm m --output "$TMP/no/such/dir/tlsrpt.prom"
check "no such directory: exit 73" "$RC" 73

# ---- contrib: the systemd unit (made from its .in as make does) and the
# cron line, run as they are written into the textfile directory.
TEXTDIR=/var/lib/prometheus/node-exporter
U=$TMP/systemd
mkdir "$U"
SVC=$U/tlsrpt-adm-metrics.service
sed -e "s|@bindir[@]|$top_builddir|g" \
    "$top_srcdir/contrib/systemd/tlsrpt-adm-metrics.service.in" >"$SVC"
cp "$top_srcdir/contrib/systemd/tlsrpt-adm-metrics.timer" "$U/"
if need systemd-analyze systemd; then
	out=$(cd "$U" && systemd-analyze verify --man=no \
	    tlsrpt-adm-metrics.service tlsrpt-adm-metrics.timer 2>&1)
	check "systemd: verify exit 0, not a word" "$?:$out" "0:"
fi
check "systemd: the service may write the textfile directory" \
    "$(sed -n 's/^ReadWritePaths=//p' "$SVC")" "$TEXTDIR"
check "systemd: TLSRPT_DB is the examples' database" \
    "$(sed -n 's/^Environment=TLSRPT_DB=//p' "$SVC")" dbname=tlsrpt
run=$(sed -n 's/^ExecStart=//p' "$SVC" | sed "s|$TEXTDIR|$D|")
check_match "systemd: ExecStart writes tlsrpt.prom there" "$run" \
    "metrics --output $D/tlsrpt.prom\$"
rm -f "$D/tlsrpt.prom"
(TLSRPT_DB=dbname=m && export TLSRPT_DB && eval "$run") >"$TMP/out" 2>&1
check "systemd: ExecStart exit 0, not a word" "$?:$(cat "$TMP/out")" "0:"
check "systemd: ExecStart wrote the metrics" \
    "$(grep -v '^tlsrpt_metrics_generated_timestamp_seconds ' \
	"$D/tlsrpt.prom" | cmp - "$TMP/stdout.prom" && echo same)" same

CRON=$top_srcdir/contrib/cron/tlsrpt-adm-metrics
line=$(grep -v '^#' "$CRON" | grep -v '^[A-Z_]*=' | grep .)
check "cron: one line, five time fields, then the user" \
    "$(printf '%s\n' "$line" | awk '{ print NR, $6 }')" "1 prometheus"
check "cron: TLSRPT_DB is the examples' database" \
    "$(sed -n 's/^TLSRPT_DB=//p' "$CRON")" '"dbname=tlsrpt"'
run=$(printf '%s\n' "$line" | awk '{ $1 = $2 = $3 = $4 = $5 = $6 = ""; print }' |
    sed -e "s|/usr/local/bin/tlsrpt-adm|$ADM|" -e "s|$TEXTDIR|$D|")
check_match "cron: it writes tlsrpt.prom there, quietly" "$run" \
    "--quiet metrics --output $D/tlsrpt.prom\$"
rm -f "$D/tlsrpt.prom"
(TLSRPT_DB=dbname=m && export TLSRPT_DB && eval "$run") >"$TMP/out" 2>&1
check "cron: exit 0, nothing for cron to mail" "$?:$(cat "$TMP/out")" "0:"
check "cron: it wrote the metrics" \
    "$(grep -v '^tlsrpt_metrics_generated_timestamp_seconds ' \
	"$D/tlsrpt.prom" | cmp - "$TMP/stdout.prom" && echo same)" same

# ---- A real node exporter reads the file the cron line wrote.
if need prometheus-node-exporter prometheus-node-exporter &&
    need curl curl; then
	port=
	for try in 1 2 3 4 5 6 7 8; do
		p=$(awk -v s="$$$try" 'BEGIN { srand(s); print 20000 + int(rand() * 40000) }')
		$AS_USER prometheus-node-exporter \
		    --web.listen-address="127.0.0.1:$p" \
		    --collector.disable-defaults --collector.textfile \
		    --collector.textfile.directory="$D" \
		    >"$TMP/exporter.log" 2>&1 &
		EXP_PID=$!
		# Until it answers, or dies (the port was taken).
		for i in $(seq 200); do
			if curl -fs -o "$TMP/scrape" \
			    "http://127.0.0.1:$p/metrics"; then
				port=$p
				break 2
			fi
			kill -0 "$EXP_PID" 2>/dev/null || break
			sleep 0.05
		done
		kill "$EXP_PID" 2>/dev/null
		wait "$EXP_PID" 2>/dev/null
		EXP_PID=
	done
	if [ -z "$port" ]; then
		not_ok "the node exporter listens" "$(cat "$TMP/exporter.log")"
	else
		ok "the node exporter listens on 127.0.0.1:$port"
		check "scraped: no textfile scrape error" \
		    "$(grep '^node_textfile_scrape_error' "$TMP/scrape")" \
		    "node_textfile_scrape_error 0"
		check "scraped: the file's time" \
		    "$(grep -c '^node_textfile_mtime_seconds{file=".*tlsrpt.prom"}' "$TMP/scrape")" 1
		check "scraped: as many tlsrpt series as written" \
		    "$(grep -c '^tlsrpt_' "$TMP/scrape")" \
		    "$(grep -c '^tlsrpt_' "$D/tlsrpt.prom")"
		check "scraped: the hostile label as written" \
		    "$(grep -cF "tlsrpt_reports_total{domain=\"mon.example\",reporter=\"$EVIL\"} 2" "$TMP/scrape")" 1
		kill "$EXP_PID"
		wait "$EXP_PID" 2>/dev/null
		EXP_PID=
	fi
fi

# ---- Everything gone.
pg_q m "TRUNCATE tlsrpt.report" >/dev/null
adm m
check "truncated: exit 0" "$RC" 0
compare "truncated" m
check "truncated: no labelled series" "$(grep -c '{' "$TMP/out")" 0

finish
