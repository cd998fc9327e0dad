#!/bin/sh
# domains.sh - tlsrpt-adm domains (list, add, remove, bad names, who may
# change the list, a schema too old) and the monitored domains' rule in
# tlsrpt.store_reports() with the real ingester: a message on its own,
# several files, a Maildir sweep, the ingest role.

. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pg.sh"

C=$TI_TEST_DATA/corpus
GOOGLE=$C/domainaware__parsedmarc/google.com_smtp_tls_report.eml
TMP=$(mktemp -d)
pg_start
trap 'rm -rf "$TMP"; pg_cleanup' EXIT

# mkrep FILE REPORT-ID DOMAIN...: a report with one policy per DOMAIN.
mkrep() {
	_f=$1
	_id=$2
	shift 2
	_p= _s=
	for _d in "$@"; do
		_p="$_p$_s{\"policy\": {\"policy-type\": \"sts\",
		    \"policy-string\": [\"version: STSv1\", \"mode: enforce\"],
		    \"policy-domain\": \"$_d\", \"mx-host\": [\"mx.$_d\"]},
		    \"summary\": {\"total-successful-session-count\": 7,
		    \"total-failure-session-count\": 1},
		    \"failure-details\": [{\"result-type\": \"certificate-expired\",
		    \"sending-mta-ip\": \"192.0.2.1\", \"failed-session-count\": 1}]}"
		_s=", "
	done
	cat >"$_f" <<JSON
{"organization-name": "Reporter Inc.",
 "date-range": {"start-datetime": "2024-01-01T00:00:00Z",
  "end-datetime": "2024-01-01T23:59:59Z"},
 "contact-info": "tlsrpt@reporter.example", "report-id": "$_id",
 "policies": [$_p]}
JSON
}

# The line of ERR about a rejected message.
rejected() { printf '%s\n' "$ERR" | grep 'rejected: '; }
stored() { pg_q "$1" "SELECT coalesce(string_agg(report_id, ',' ORDER BY report_id), '-') FROM tlsrpt.report"; }
kept() { pg_q "$1" "SELECT coalesce(string_agg(reason, ',' ORDER BY reason), '-') FROM tlsrpt.rejected_message"; }

# ---- The list, added to and taken from.
pg_newdb d1 || exit 99
run_adm -d dbname=d1 domains
check "list, empty: exit 0, nothing on stdout" "$RC/$OUT" "0/"
check_match "list, empty: says everything is stored" "$ERR" "no domain is monitored: every report is stored"
run_adm -d dbname=d1 domains list
check "list, empty: list is the default" "$RC/$OUT" "0/"
run_adm -d dbname=d1 domains add Example.COM. mail.example.net
check "add two: exit 0" "$RC" 0
check "add two: says so" "$OUT" "example.com: added (subdomains)
mail.example.net: added (subdomains)"
check "add two: stored normalized" "$(pg_q d1 "SELECT domain, include_subdomains FROM tlsrpt.monitored_domain ORDER BY 1")" \
    "example.com|t
mail.example.net|t"
run_adm -d dbname=d1 domains add --exact a.example.org
check "add --exact: exit 0" "$RC/$OUT" "0/a.example.org: added (exact)"
run_adm -d dbname=d1 domains list
check "list: exit 0" "$RC" 0
check_match "list: sorted, tab-separated, UTC ISO 8601" "$OUT" \
    "^a\.example\.org	exact	20[0-9]{2}-[01][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-5][0-9]Z
example\.com	subdomains	20[0-9-]{8}T[0-9:]{8}Z
mail\.example\.net	subdomains	20[0-9-]{8}T[0-9:]{8}Z$"
check "list: the time is added_at in UTC" \
    "$(printf '%s\n' "$OUT" | head -1 | cut -f3)" \
    "$(pg_q d1 "SELECT to_char(added_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') FROM tlsrpt.monitored_domain WHERE domain = 'a.example.org'")"
run_adm -d dbname=d1 domains add --exact EXAMPLE.com
check "add an existing one: exit 0, says it changed" "$RC/$OUT" "0/example.com: already monitored, now exact"
check "add an existing one: include_subdomains updated" "$(pg_q d1 "SELECT include_subdomains FROM tlsrpt.monitored_domain WHERE domain = 'example.com'")" f
run_adm -d dbname=d1 domains add --exact example.com
check "add it again as it is: exit 0, unchanged" "$RC/$OUT" "0/example.com: already monitored (exact), unchanged"
run_adm -d dbname=d1 domains add example.com
check "add it without --exact: subdomains again" "$RC/$OUT/$(pg_q d1 "SELECT include_subdomains FROM tlsrpt.monitored_domain WHERE domain = 'example.com'")" \
    "0/example.com: already monitored, now subdomains/t"
run_adm -d dbname=d1 domains remove mail.example.net. nowhere.example
check "remove: exit 0, one removed, one not there" "$RC/$OUT" "0/mail.example.net: removed
nowhere.example: not monitored, nothing removed"
check "remove: gone" "$(pg_q d1 "SELECT string_agg(domain, ',' ORDER BY domain) FROM tlsrpt.monitored_domain")" "a.example.org,example.com"
run_adm -q -d dbname=d1 domains add quiet.example
check "add -q: nothing printed" "$RC/$OUT/$ERR" "0//"
run_adm -d dbname=d1 domains remove quiet.example
check "remove: back to two" "$(pg_q d1 "SELECT count(*) FROM tlsrpt.monitored_domain")" 2

# ---- Bad names: one line naming the name, exit 65, nothing changed.
before=$(pg_q d1 "SELECT string_agg(domain || include_subdomains, ',' ORDER BY domain) FROM tlsrpt.monitored_domain")
long63=$(printf 'a%.0s' $(seq 63))
long64=$(printf 'a%.0s' $(seq 64))
# 253 bytes: four labels of 62 and one of 1, dots between.
l62=$(printf 'b%.0s' $(seq 62))
n253="$l62.$l62.$l62.$l62.c"
n254="$l62.$l62.$l62.$l62.cc"
for bad in "" "." "exa mple.com" "ex_ample.com" "exa..mple.com" ".example.com" \
    "example.com.." "-x.example.com" "x-.example.com" "example.com-" "bücher.example" \
    "$long64.example.com" "$n254" "a.b/c" "evil
name.example"; do
	run_adm -d dbname=d1 domains add -- ok.example "$bad"
	check "bad name \"$bad\": exit 65" "$RC" 65
	check_match "bad name \"$bad\": one line naming it" "$(printf '%s\n' "$ERR" | wc -l | tr -d ' ')/$ERR" \
	    "^1/tlsrpt-adm: error: domains: bad domain name \""
done
run_adm -d dbname=d1 domains remove ok.example "bad name"
check_match "bad name, remove: exit 65, named" "$RC/$ERR" '^65/tlsrpt-adm: error: domains: bad domain name "bad name": '
run_adm -d dbname=d1 domains add -x.example.com
check "a name like an option, without --: a usage error" "$RC" 64
check "bad names: nothing changed" "$(pg_q d1 "SELECT string_agg(domain || include_subdomains, ',' ORDER BY domain) FROM tlsrpt.monitored_domain")" "$before"
run_adm -d dbname=d1 domains add "$long63.example" "$n253" xn--bcher-kva.example 0-9.example
check "limits: a 63-byte label, a 253-byte name, an A-label, digits: accepted" "$RC" 0
check "limits: stored" "$(pg_q d1 "SELECT count(*) FROM tlsrpt.monitored_domain")" 6
check_match "the table refuses what is not a name" \
    "$(pg_q d1 "INSERT INTO tlsrpt.monitored_domain (domain) VALUES ('Upper.example')" 2>&1)" \
    "monitored_domain_name_check"
run_adm -d dbname=d1 domains remove "$long63.example" "$n253" xn--bcher-kva.example 0-9.example
check "limits: removed" "$RC/$(pg_q d1 "SELECT count(*) FROM tlsrpt.monitored_domain")" "0/2"

# ---- Usage.
run_adm -d dbname=d1 domains add
check_match "add without a domain: exit 64" "$RC/$ERR" "^64/.*a domain is needed"
run_adm -d dbname=d1 domains remove --exact example.com
check "remove --exact: exit 64" "$RC" 64
run_adm -d dbname=d1 domains list example.com
check "list with an argument: exit 64" "$RC" 64
run_adm -d dbname=d1 domains frob
check "unknown action: exit 64" "$RC" 64
run_adm domains --help
check_match "--help: usage on stdout, exit 0" "$RC/$OUT" "^0/usage: tlsrpt-adm domains"

# ---- The rule, with the real ingester.  d1 monitors example.com (with
# subdomains) and a.example.org (exact).
mkrep "$TMP/r-monitored.json" r-monitored example.com
mkrep "$TMP/r-other.json" r-other example.org
mkrep "$TMP/r-sub.json" r-sub mx.deep.example.com
mkrep "$TMP/r-lookalike.json" r-lookalike badexample.com
mkrep "$TMP/r-exact.json" r-exact a.example.org
mkrep "$TMP/r-exact-sub.json" r-exact-sub b.a.example.org
mkrep "$TMP/r-two.json" r-two example.net Example.COM
mkrep "$TMP/r-case.json" r-case EXAMPLE.Com.
mkrep "$TMP/r-case-sub.json" r-case-sub Sub.Example.com.
mkrep "$TMP/r-none.json" r-none

run_bin -d dbname=d1 "$TMP/r-monitored.json"
check "monitored: exit 0" "$RC" 0
check_match "monitored: stored" "$ERR" 'stored: organization="Reporter Inc\." report-id="r-monitored"'
check "monitored: every row" "$(stored d1)/$(pg_q d1 "SELECT count(*) FROM tlsrpt.policy")/$(pg_q d1 "SELECT count(*) FROM tlsrpt.failure_detail")" "r-monitored/1/1"
run_bin -d dbname=d1 "$TMP/r-other.json"
check "another domain: exit 0" "$RC" 0
check_match "another domain: logged with the reason" "$ERR" \
    '^tlsrpt-ingest: warning: source=.*r-other\.json: rejected: no policy domain is monitored \(example\.org\) \(kept in tlsrpt\.rejected_message\) ms=[0-9]+$'
check "another domain: not stored" "$(stored d1)" "r-monitored"
check "another domain: kept with the reason and its bytes" \
    "$(pg_q d1 "SELECT reason, source, raw_size FROM tlsrpt.rejected_message")/$(pg_q d1 "SELECT convert_from(raw, 'UTF8') FROM tlsrpt.rejected_message")" \
    "no policy domain is monitored (example.org)|file|$(wc -c <"$TMP/r-other.json" | tr -d ' ')/$(cat "$TMP/r-other.json")"
for r in sub exact case case-sub two; do
	run_bin -d dbname=d1 "$TMP/r-$r.json"
	check "r-$r: exit 0, stored" "$RC/$(pg_q d1 "SELECT count(*) FROM tlsrpt.report WHERE report_id = 'r-$r'")" "0/1"
done
check "two policies, one monitored: both policies stored" \
    "$(pg_q d1 "SELECT string_agg(p.policy_domain, ',' ORDER BY p.policy_index) FROM tlsrpt.policy p JOIN tlsrpt.report r ON r.id = p.report_ref WHERE r.report_id = 'r-two'")" \
    "example.net,Example.COM"
run_bin -d dbname=d1 "$TMP/r-exact-sub.json"
check_match "subdomain of an --exact domain: refused" "$RC/$(rejected)" \
    '^0/.*rejected: no policy domain is monitored \(b\.a\.example\.org\)'
run_bin -d dbname=d1 "$TMP/r-lookalike.json"
check_match "a name that only ends like one: refused" "$RC/$(rejected)" \
    '^0/.*rejected: no policy domain is monitored \(badexample\.com\)'
run_bin -d dbname=d1 "$TMP/r-none.json"
check_match "no policies at all: refused" "$RC/$(rejected)" \
    '^0/.*rejected: no policy domain is monitored \(the report has none\)'
# A real Google message (policy domain cardinalhealth.ca).
pipe_bin "$GOOGLE" -d dbname=d1
check_match "a real message about another domain: exit 0, kept" "$RC/$(rejected)" \
    '^0/.*rejected: no policy domain is monitored \(cardinalhealth\.ca\) \(kept'
check "a real message: kept with its headers" \
    "$(pg_q d1 "SELECT message_from FROM tlsrpt.rejected_message WHERE reason LIKE '%cardinalhealth.ca%'")" \
    "noreply-smtp-tls-reporting@google.com"
run_adm -d dbname=d1 domains add CardinalHealth.CA
pipe_bin "$GOOGLE" -d dbname=d1
check_match "a real message, its domain added: stored" "$RC/$(printf '%s\n' "$ERR" | grep stored:)" '^0/.*stored: organization="Google Inc\."'
check "the rule: what is stored" "$(stored d1)" \
    "2024-09-03T00:00:00Z_cardinalhealth.ca,r-case,r-case-sub,r-exact,r-monitored,r-sub,r-two"
check "the rule: what is kept" "$(kept d1)" \
    "no policy domain is monitored (b.a.example.org),no policy domain is monitored (badexample.com),no policy domain is monitored (cardinalhealth.ca),no policy domain is monitored (example.org),no policy domain is monitored (the report has none)"
run_bin -d dbname=d1 "$TMP/r-other.json"
check_match "refused again: the same bytes are kept once" "$RC/$(pg_q d1 "SELECT count(*) FROM tlsrpt.rejected_message WHERE reason LIKE '%(example.org)'")" "^0/1$"

# ---- A batch of files and a Maildir sweep, monitored and not mixed.
pg_newdb d2 || exit 99
run_adm -d dbname=d2 domains add example.com
for i in 1 2 3 4 5 6 7 8 9 10 11 12; do
	case $((i % 3)) in
	0) mkrep "$TMP/b$i.json" "b$i" other.example ;;
	1) mkrep "$TMP/b$i.json" "b$i" "mx$i.Example.com." ;;
	2) mkrep "$TMP/b$i.json" "b$i" other.example example.com ;;
	esac
done
run_bin -d dbname=d2 "$TMP"/b1.json "$TMP"/b2.json "$TMP"/b3.json \
    "$TMP"/b4.json "$TMP"/b5.json "$TMP"/b6.json
check "files: exit 0" "$RC" 0
check_match "files: summary" "$ERR" "6 files: stored 4, duplicates 0, rejected 2"
check "files: exactly the monitored ones" "$(stored d2)" "b1,b2,b4,b5"
check "files: each whole" "$(pg_q d2 "SELECT count(*) FROM tlsrpt.policy")/$(pg_q d2 "SELECT count(*) FROM tlsrpt.failure_detail")" "6/6"
M=$TMP/Maildir
mkdir -p "$M/new" "$M/cur" "$M/tmp"
for i in 7 8 9 10 11 12; do
	{
		printf 'From: reports@reporter.example\nTo: tlsrpt@example.com\n'
		printf 'Subject: report b%s\nMessage-ID: <b%s@reporter.example>\n' "$i" "$i"
		printf 'MIME-Version: 1.0\n'
		printf 'Content-Type: multipart/report; report-type=tlsrpt; boundary="zz"\n\n'
		printf -- '--zz\nContent-Type: text/plain\n\nreport\n--zz\n'
		printf 'Content-Type: application/tlsrpt+gzip\nContent-Transfer-Encoding: base64\n\n'
		gzip -c <"$TMP/b$i.json" | base64
		printf -- '--zz--\n'
	} >"$M/new/b$i.msg"
done
run_bin -d dbname=d2 --maildir "$M"
check "sweep: exit 0" "$RC" 0
check_match "sweep: summary" "$ERR" "stored 4, duplicates 0, rejected 2"
check "sweep: exactly the monitored ones" "$(stored d2)" "b1,b10,b11,b2,b4,b5,b7,b8"
check "sweep: the others moved aside, kept with the reason" \
    "$(ls "$M/.Rejected/cur" | tr '\n' ' ')/$(pg_q d2 "SELECT string_agg(message_id || '=' || reason, ',' ORDER BY message_id) FROM tlsrpt.rejected_message WHERE source = 'mail'")" \
    "b12.msg:2, b9.msg:2, /b12@reporter.example=no policy domain is monitored (other.example),b9@reporter.example=no policy domain is monitored (other.example)"
check "sweep: the monitored ones moved as processed" "$(ls "$M/.Processed/cur" | wc -l | tr -d ' ')" 4

# ---- An empty list stores everything again.
run_adm -d dbname=d2 domains remove example.com
for i in 3 6 9 12; do
	sed "s/\"report-id\": \"b$i\"/\"report-id\": \"again$i\"/" "$TMP/b$i.json" >"$TMP/again$i.json"
done
run_bin -d dbname=d2 "$TMP"/again3.json "$TMP"/again6.json "$TMP"/again9.json "$TMP"/again12.json
check "empty list: every report stored" "$RC/$(pg_q d2 "SELECT count(*) FROM tlsrpt.report WHERE report_id LIKE 'again%'")" "0/4"
pg_newdb d3 || exit 99
run_bin -d dbname=d3 "$TMP/r-other.json" "$TMP/r-none.json" "$GOOGLE"
check "a new database: every report stored" "$RC/$(stored d3)/$(kept d3)" \
    "0/2024-09-03T00:00:00Z_cardinalhealth.ca,r-none,r-other/-"

# ---- A report with a passing DKIM signature takes the place of a stored
# one without (schema step 4), but not when it is refused here.
# gmsg OUT REPORT AR: a message from google.com, Authentication-Results AR.
gmsg() {
	{
		printf 'Authentication-Results: %s\n' "$3"
		printf 'From: noreply-smtp-tls-reporting@google.com\n'
		printf 'To: tlsrpt@example.com\nSubject: Report\n'
		printf 'Message-ID: <%s@google.com>\nMIME-Version: 1.0\n' "$(basename "$1")"
		printf 'Content-Type: multipart/report; report-type=tlsrpt; boundary="zz"\n\n'
		printf -- '--zz\nContent-Type: text/plain\n\nreport\n--zz\n'
		printf 'Content-Type: application/tlsrpt+gzip\nContent-Transfer-Encoding: base64\n\n'
		gzip -c <"$2" | base64
		printf -- '--zz--\n'
	} >"$1"
}
AS=mx.example.com
pg_newdb d4 || exit 99
run_adm -d dbname=d4 domains add example.com
mkrep "$TMP/g-forged.json" g-same www.example.com
mkrep "$TMP/g-other.json" g-same other.example
mkrep "$TMP/g-genuine.json" g-same mx.example.com
sed -i -e 's/"Reporter Inc\."/"Google Inc."/' \
    -e 's/tlsrpt@reporter\.example/smtp-tls-reporting@google.com/' "$TMP"/g-*.json
gmsg "$TMP/g-forged.eml" "$TMP/g-forged.json" "$AS; dkim=none"
gmsg "$TMP/g-other.eml" "$TMP/g-other.json" "$AS; dkim=pass header.d=google.com"
gmsg "$TMP/g-genuine.eml" "$TMP/g-genuine.json" "$AS; dkim=pass header.d=google.com"
pipe_bin "$TMP/g-forged.eml" -d dbname=d4 --authserv-id "$AS"
pipe_bin "$TMP/g-other.eml" -d dbname=d4 --authserv-id "$AS"
check "signed: the reports are from google.com" \
    "$(pg_q d4 "SELECT contact_info FROM tlsrpt.report")" "smtp-tls-reporting@google.com"
check "signed, about another domain: refused, displaces nothing" \
    "$RC/$(pg_q d4 "SELECT p.policy_domain || ':' || r.authenticated FROM tlsrpt.report r JOIN tlsrpt.policy p ON p.report_ref = r.id")/$(kept d4)" \
    "0/www.example.com:false/no policy domain is monitored (other.example)"
pipe_bin "$TMP/g-genuine.eml" -d dbname=d4 --authserv-id "$AS"
check "signed, about a monitored domain: takes the place" \
    "$RC/$(pg_q d4 "SELECT p.policy_domain || ':' || r.authenticated FROM tlsrpt.report r JOIN tlsrpt.policy p ON p.report_ref = r.id")/$(pg_q d4 "SELECT count(*) FROM tlsrpt.rejected_message WHERE reason LIKE 'displaced by%'")" \
    "0/mx.example.com:true/1"

# ---- Roles: the ingester may not change the list, the reader may read it.
"$PG_BINDIR/psql" -X -q -v ON_ERROR_STOP=1 -d d2 -f "$top_srcdir/sql/roles.sql" >/dev/null
pg_q d2 "CREATE ROLE ingester LOGIN IN ROLE tlsrpt_ingest; CREATE ROLE dashboard LOGIN IN ROLE tlsrpt_reader" >/dev/null
run_adm -d dbname=d2 domains add example.com
run_adm -d "dbname=d2 user=ingester" domains add evil.example
check_match "ingest role: add refused, one line" "$RC/$ERR" \
    '^77/tlsrpt-adm: error: domains add: role "ingester" may not change tlsrpt\.monitored_domain: use the schema owner.s role$'
run_adm -d "dbname=d2 user=ingester" domains remove example.com
check "ingest role: remove refused" "$RC" 77
run_adm -d "dbname=d2 user=ingester" domains list
check "ingest role: list refused, one line" "$RC/$ERR" \
    '77/tlsrpt-adm: error: domains list: role "ingester" may not read tlsrpt.monitored_domain: grant it tlsrpt_reader (sql/roles.sql)'
for sql in "INSERT INTO tlsrpt.monitored_domain (domain) VALUES ('evil.example')" \
    "DELETE FROM tlsrpt.monitored_domain" "UPDATE tlsrpt.monitored_domain SET include_subdomains = false" \
    "TRUNCATE tlsrpt.monitored_domain" "SELECT domain FROM tlsrpt.monitored_domain"; do
	out=$("$PG_BINDIR/psql" -X -At -d d2 -U ingester -c "$sql" 2>&1)
	check_match "ingest role may not: $sql" "$out" "permission denied"
done
run_adm -d "dbname=d2 user=dashboard" domains list
check_match "reader role: lists" "$RC/$OUT" "^0/example\.com	subdomains	"
run_adm -d "dbname=d2 user=dashboard" domains add evil.example
check "reader role: add refused" "$RC" 77
check "roles: the list unchanged" "$(pg_q d2 "SELECT string_agg(domain || include_subdomains, ',') FROM tlsrpt.monitored_domain")" "example.comtrue"
mkrep "$TMP/role-in.json" role-in www.example.com
mkrep "$TMP/role-out.json" role-out evil.example
run_bin -d "dbname=d2 user=ingester" "$TMP/role-in.json" "$TMP/role-out.json"
check "ingest role: the rule applies" "$RC/$(pg_q d2 "SELECT count(*) FROM tlsrpt.report WHERE report_id LIKE 'role-%'")/$(pg_q d2 "SELECT count(*) FROM tlsrpt.rejected_message WHERE reason = 'no policy domain is monitored (evil.example)'")" "0/1/1"

# ---- A schema too old: one line, exit 78.
"$PG_BINDIR/createdb" old || exit 99
"$PG_BINDIR/psql" -q -X -v ON_ERROR_STOP=1 -d old -f "$TI_TEST_DATA/schema-v3.sql" >/dev/null
run_adm -d dbname=old domains list
check "schema too old: exit 78, one line" "$RC/$ERR" \
    "78/tlsrpt-adm: error: database schema version 3, need 8: load schema.sql"
run_adm -d dbname=old domains add example.com
check "schema too old: add, exit 78" "$RC" 78

finish
