#!/bin/sh
# readiness.sh - tlsrpt-adm readiness against the real PostgreSQL: a
# history of reports relative to today, written as report files and
# ingested by tlsrpt-ingest (so the policy-string goes through the
# parser), then each verdict as an exact line: ready, a failing MX, an MX
# outside the policy's mx lines, too few days or reporters and the edges
# of both, enforce, mode none, no mode, DANE, the window, the monitored
# domains, the view, the reader role and the exit codes.

. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pg.sh"

pg_start
W=$(mktemp -d "${TMPDIR:-/tmp}/tlsrpt-readiness.XXXXXX")
trap 'rm -rf "$W"; pg_cleanup' EXIT
chmod 755 "$W"

TODAY=$(($(date -u +%s) / 86400 * 86400))
# The first second of the UTC day K days before today, and its date.
t0() { date -u -d "@$((TODAY - $1 * 86400))" +%Y-%m-%dT%H:%M:%SZ; }
t1() { date -u -d "@$((TODAY - $1 * 86400 + 86399))" +%Y-%m-%dT%H:%M:%SZ; }
day() { date -u -d "@$((TODAY - $1 * 86400))" +%F; }

# sts DOMAIN MODE MX_PATTERNS OK FAIL [DETAIL...]: one sts policy (mode
# "-": no policy-string at all).
sts() {
	_d=$1 _m=$2 _mx=$3 _ok=$4 _f=$5
	shift 5
	_ps=
	if [ "$_m" != - ]; then
		_ps="\"version: STSv1\", \"mode: $_m\""
		for _p in $_mx; do
			_ps="$_ps, \"mx: $_p\""
		done
		_ps="\"policy-string\": [$_ps, \"max_age: 86400\"],"
	fi
	policy sts "$_d" "$_ps" "$_ok" "$_f" "$@"
}
# tlsa DOMAIN OK FAIL [DETAIL...]
tlsa() {
	_d=$1 _ok=$2 _f=$3
	shift 3
	policy tlsa "$_d" "\"policy-string\": [\"3 1 1 0123456789abcdef\"]," \
	    "$_ok" "$_f" "$@"
}
policy() {
	_t=$1 _d=$2 _ps=$3 _ok=$4 _f=$5
	shift 5
	_det=
	for _x in "$@"; do
		_det="${_det:+$_det, }$_x"
	done
	printf '{"policy": {"policy-type": "%s", %s "policy-domain": "%s"}, "summary": {"total-successful-session-count": %s, "total-failure-session-count": %s}, "failure-details": [%s]}' \
	    "$_t" "$_ps" "$_d" "$_ok" "$_f" "$_det"
}
# det RESULT-TYPE MX SESSIONS
det() {
	printf '{"result-type": "%s", "sending-mta-ip": "192.0.2.1", "receiving-mx-hostname": "%s", "receiving-ip": "198.51.100.2", "failed-session-count": %s}' \
	    "$1" "$2" "$3"
}
# report ORG K POLICY...: a report of organization ORG for day K.
N_REP=0
report() {
	_o=$1 _k=$2
	shift 2
	N_REP=$((N_REP + 1))
	_pol=
	for _x in "$@"; do
		_pol="${_pol:+$_pol, }$_x"
	done
	printf '{"organization-name": "%s", "date-range": {"start-datetime": "%s", "end-datetime": "%s"}, "contact-info": "tlsrpt@%s.example", "report-id": "r%s", "policies": [%s]}\n' \
	    "$_o" "$(t0 "$_k")" "$(t1 "$_k")" "$_o" "$N_REP" "$_pol" \
	    >"$W/r$N_REP.json"
}
# clean DOMAIN MODE MX_PATTERNS FROM TO ORGS: 100 good sessions a day.
clean() {
	for _k in $(seq "$4" "$5"); do
		for _org in $6; do
			report "$_org" "$_k" "$(sts "$1" "$2" "$3" 100 0)"
		done
	done
}

clean ready.example testing "mx1.ready.example mx2.ready.example" 1 10 "a b"
# certificate-expired on mx2 on three days; validation-failure does not
# bounce under MTA-STS.
clean expired.example testing "mx1.expired.example mx2.expired.example" \
    4 10 "a b"
clean expired.example testing "mx1.expired.example mx2.expired.example" \
    2 3 b
for k in 1 2 3; do
	report a "$k" "$(sts expired.example testing \
	    "mx1.expired.example mx2.expired.example" 95 5 \
	    "$(det certificate-expired mx2.expired.example 5)")"
done
report b 1 "$(sts expired.example testing \
    "mx1.expired.example mx2.expired.example" 98 2 \
    "$(det validation-failure mx1.expired.example 2)")"
# Failures on hosts inside and outside the mx lines: a wildcard matches
# one label; case and a trailing dot do not matter.
clean outside.example testing "mx1.outside.example *.mail.outside.example" \
    3 10 "a b"
clean outside.example testing "mx1.outside.example *.mail.outside.example" \
    1 2 b
report a 1 "$(sts outside.example testing \
    "mx1.outside.example *.mail.outside.example" 94 6 \
    "$(det validation-failure mx9.outside.example 3)" \
    "$(det validation-failure a.mail.outside.example 1)" \
    "$(det validation-failure b.c.mail.outside.example 1)" \
    "$(det validation-failure MX1.Outside.Example. 1)")"
report a 2 "$(sts outside.example testing \
    "mx1.outside.example *.mail.outside.example" 100 0)"
clean short.example testing mx.short.example 1 3 "a b"
clean enforce.example testing mx.enforce.example 6 10 "a b"
clean enforce.example enforce mx.enforce.example 1 5 "a b"
clean none.example none mx.none.example 1 10 "a b"
clean nomode.example - "" 1 10 "a b"
clean edge7.example testing mx.edge7.example 1 7 "a b"
clean edge6.example testing mx.edge6.example 1 6 "a b"
clean onerep.example testing mx.onerep.example 1 10 a
clean sub.parent.example testing mx.parent.example 1 10 "a b"
# A domain spelt in capitals, with a trailing dot, by one reporter.
clean mixed.example testing mx.mixed.example 1 10 a
clean Mixed.Example. testing mx.mixed.example 1 10 b
# DANE and MTA-STS in one report, as Microsoft sends them.
for k in $(seq 1 10); do
	report b "$k" "$(sts dane.example testing mx1.dane.example 100 0)" \
	    "$(tlsa dane.example 100 0)"
	if [ "$k" = 1 ]; then
		report a "$k" "$(sts dane.example testing mx1.dane.example \
		    100 0)" "$(tlsa dane.example 96 4 \
		    "$(det dnssec-invalid mx2.dane.example 4)")"
	else
		report a "$k" "$(sts dane.example testing mx1.dane.example \
		    100 0)" "$(tlsa dane.example 100 0)"
	fi
done
# Four failing MX hosts: the line names the three with most sessions.
clean many.example testing "*.many.example" 2 10 "a b"
clean many.example testing "*.many.example" 1 1 b
report a 1 "$(sts many.example testing "*.many.example" 90 10 \
    "$(det certificate-not-trusted mx1.many.example 4)" \
    "$(det certificate-not-trusted mx2.many.example 3)" \
    "$(det certificate-not-trusted mx3.many.example 2)" \
    "$(det certificate-not-trusted mx4.many.example 1)")"
# A host name with a control character stays on its line.
clean evil.example testing mx.evil.example 2 10 "a b"
clean evil.example testing mx.evil.example 1 1 b
report a 1 "$(sts evil.example testing mx.evil.example 98 2 \
    "$(det sts-webpki-invalid 'mx\u001bevil.example' 2)")"
# Only no-policy-found; and failures long ago.
for k in $(seq 1 10); do
	report a "$k" "$(policy no-policy-found nopolicy.example "" 100 0)"
done
for k in $(seq 40 45); do
	for org in a b; do
		report "$org" "$k" "$(sts old.example testing mx.old.example \
		    90 10 "$(det starttls-not-supported mx.old.example 10)")"
	done
done

pg_newdb rd || exit 99
run_bin -q -d dbname=rd "$W"/r*.json
check "history: every report ingested" "$RC $(pg_q rd "SELECT count(*) FROM tlsrpt.report")" \
    "0 $N_REP"
check "history: the policy-string as sent" "$(pg_q rd "SELECT policy_string
    FROM tlsrpt.policy WHERE policy_domain = 'outside.example' LIMIT 1")" \
    '{"version: STSv1","mode: testing","mx: mx1.outside.example","mx: *.mail.outside.example","max_age: 86400"}'

TAB=$(printf '\t')
# line DOMAIN TYPE VERDICT REASON
line() {
	printf '%s\t%s\t%s\t%s' "$1" "$2" "$3" "$4"
}
R_READY=$(line ready.example sts ready \
    "10 days, 2 reporters, 2000 sessions, none would bounce")
R_EXPIRED=$(line expired.example sts not-ready \
    "would bounce 15 of 2000 sessions: certificate-expired 15 on mx2.expired.example")
R_OUTSIDE=$(line outside.example sts not-ready \
    "failing MX not in the policy: b.c.mail.outside.example, mx9.outside.example")
R_SHORT=$(line short.example sts unknown "only 3 days of reports, need 7")
R_ENFORCE=$(line enforce.example sts enforced \
    "10 days, 2 reporters, 2000 sessions, no failures")
R_NONE=$(line none.example sts unknown \
    "policy mode none: senders ignore the policy")
R_NOMODE=$(line nomode.example sts unknown \
    "no policy mode in the reports' policy-string")
R_EDGE7=$(line edge7.example sts ready \
    "7 days, 2 reporters, 1400 sessions, none would bounce")
R_EDGE6=$(line edge6.example sts unknown "only 6 days of reports, need 7")
R_ONEREP=$(line onerep.example sts unknown "only 1 reporter, need 2")
R_MIXED=$(line mixed.example sts ready \
    "10 days, 2 reporters, 2000 sessions, none would bounce")
R_SUB=$(line sub.parent.example sts ready \
    "10 days, 2 reporters, 2000 sessions, none would bounce")
R_DANE_STS=$(line dane.example sts ready \
    "10 days, 2 reporters, 2000 sessions, none would bounce")
R_DANE=$(line dane.example tlsa enforced \
    "failed 4 of 2000 sessions: dnssec-invalid 4 on mx2.dane.example")
R_MANY=$(line many.example sts not-ready \
    "would bounce 10 of 2000 sessions: certificate-not-trusted 4 on mx1.many.example, certificate-not-trusted 3 on mx2.many.example, certificate-not-trusted 2 on mx3.many.example and 1 more")
R_EVIL=$(line evil.example sts not-ready \
    "would bounce 2 of 2000 sessions: sts-webpki-invalid 2 on mx?evil.example; failing MX not in the policy: mx?evil.example")
ALL="$R_DANE_STS
$R_DANE
$R_EDGE6
$R_EDGE7
$R_ENFORCE
$R_EVIL
$R_EXPIRED
$R_MANY
$R_MIXED
$R_NOMODE
$R_NONE
$R_ONEREP
$R_OUTSIDE
$R_READY
$R_SHORT
$R_SUB"

# ---- Every domain of the last 30 days, one exact line each.
run_adm -d dbname=rd readiness
check "all: exit 0" "$RC" 0
check "all: the lines" "$OUT" "$ALL"
check "all: nothing on stderr" "$ERR" ""
for d in ready expired outside short enforce none nomode edge7 edge6 \
    onerep dane many evil mixed; do
	run_adm -d dbname=rd readiness --domain "$d.example"
	check "--domain $d.example: its lines alone" "$OUT" \
	    "$(printf '%s\n' "$ALL" | grep "^$d\\.example$TAB")"
done
check "the view: 30 days, 7 days and 2 reporters" \
    "$(pg_q rd "SELECT count(*) FROM (SELECT * FROM tlsrpt.readiness
    EXCEPT SELECT * FROM tlsrpt.readiness(30, 7, 2)) x") $(pg_q rd "SELECT
    string_agg(policy_domain || ' ' || policy_type || ' ' || verdict, ','
    ORDER BY policy_domain, policy_type) FROM tlsrpt.readiness
    WHERE policy_domain LIKE 'e%'")" \
    "0 edge6.example sts unknown,edge7.example sts ready,enforce.example sts enforced,evil.example sts not-ready,expired.example sts not-ready"

# ---- The edges: exactly --min-days, exactly --min-reporters.
run_adm -d dbname=rd readiness --domain edge7.example --min-days 8
check "--min-days 8: 7 days are too few" "$OUT" \
    "$(line edge7.example sts unknown "only 7 days of reports, need 8")"
run_adm -d dbname=rd readiness --domain short.example --min-days 3
check "--min-days 3: 3 days are enough" "$OUT" \
    "$(line short.example sts ready "3 days, 2 reporters, 600 sessions, none would bounce")"
run_adm -d dbname=rd readiness --domain onerep.example --min-reporters 1
check "--min-reporters 1: one is enough" "$OUT" \
    "$(line onerep.example sts ready "10 days, 1 reporter, 1000 sessions, none would bounce")"
run_adm -d dbname=rd readiness --domain ready.example --min-reporters 3
check "--min-reporters 3: 2 are too few" "$OUT" \
    "$(line ready.example sts unknown "only 2 reporters, need 3")"
run_adm -d dbname=rd readiness --domain onerep.example --domain short.example \
    --min-days 8 --min-reporters 2
check "both too few: both said" "$OUT" \
    "$(line onerep.example sts unknown "only 1 reporter, need 2")
$(line short.example sts unknown "only 3 days of reports, need 8")"

# ---- The window.
run_adm -d dbname=rd readiness --domain enforce.example --window 5
check "--window 5: the days since the switch to enforce" "$OUT" \
    "$(line enforce.example sts enforced "5 days, 2 reporters, 1000 sessions, no failures")"
run_adm -d dbname=rd readiness --domain old.example
check "old failures: outside the default window" "$OUT" \
    "$(line old.example sts unknown "no reports in the last 30 days")"
run_adm -d dbname=rd readiness --domain old.example --window 40
check "--window 40: today and the 40 days before" "$OUT" \
    "$(line old.example sts not-ready "would bounce 20 of 200 sessions: starttls-not-supported 20 on mx.old.example")"
run_adm -d dbname=rd readiness --domain old.example --window 60
check "--window 60: they count" "$OUT" \
    "$(line old.example sts not-ready "would bounce 120 of 1200 sessions: starttls-not-supported 120 on mx.old.example")"

# ---- Domains the reports say nothing of: a line that says so.
run_adm -d dbname=rd readiness --domain NoPolicy.Example. \
    --domain absent.example --domain ready.example
check "--domain: no policy, no reports, and a known one" "$OUT" \
    "$(line absent.example sts unknown "no reports in the last 30 days")
$(line nopolicy.example sts unknown "no MTA-STS policy in the reports")
$R_READY"

# ---- -v: the details.
run_adm -d dbname=rd readiness -v --domain expired.example
check "-v: not-ready" "$OUT" "$R_EXPIRED
${TAB}mode testing
${TAB}10 days ($(day 10) to $(day 1)), 2 reporters, 20 reports, 2000 sessions, 17 failed, 15 would bounce
${TAB}policy mx: mx1.expired.example
${TAB}policy mx: mx2.expired.example
${TAB}would bounce: certificate-expired 15 on mx2.expired.example
${TAB}other failure: validation-failure 2 on mx1.expired.example"
run_adm -d dbname=rd -v readiness --domain outside.example
check "-v before the command: the hosts outside the mx lines" "$OUT" "$R_OUTSIDE
${TAB}mode testing
${TAB}10 days ($(day 10) to $(day 1)), 2 reporters, 20 reports, 2000 sessions, 6 failed, 0 would bounce
${TAB}policy mx: mx1.outside.example
${TAB}policy mx: *.mail.outside.example
${TAB}other failure: validation-failure 3 on mx9.outside.example
${TAB}other failure: validation-failure 1 on a.mail.outside.example
${TAB}other failure: validation-failure 1 on b.c.mail.outside.example
${TAB}other failure: validation-failure 1 on mx1.outside.example
${TAB}not in the policy's mx lines: b.c.mail.outside.example
${TAB}not in the policy's mx lines: mx9.outside.example"
run_adm -d dbname=rd readiness -v --domain enforce.example --domain dane.example
check "-v: a mode change, DANE" "$OUT" "$R_DANE_STS
${TAB}mode testing
${TAB}10 days ($(day 10) to $(day 1)), 2 reporters, 20 reports, 2000 sessions, 0 failed, 0 would bounce
${TAB}policy mx: mx1.dane.example
$R_DANE
${TAB}10 days ($(day 10) to $(day 1)), 2 reporters, 20 reports, 2000 sessions, 4 failed, 4 not delivered
${TAB}failing: dnssec-invalid 4 on mx2.dane.example
$R_ENFORCE
${TAB}mode enforce (changed within the window)
${TAB}10 days ($(day 10) to $(day 1)), 2 reporters, 20 reports, 2000 sessions, 0 failed, 0 not delivered
${TAB}policy mx: mx.enforce.example"
run_adm -d dbname=rd readiness -v --domain nomode.example --domain absent.example
check "-v: no mode, no reports" "$OUT" "$(line absent.example sts unknown "no reports in the last 30 days")
$R_NOMODE
${TAB}mode unknown
${TAB}10 days ($(day 10) to $(day 1)), 2 reporters, 20 reports, 2000 sessions, 0 failed, 0 would bounce
${TAB}policy mx: none in the reports"

# ---- Every window from 0 to 45 days: the figures and modes readiness
# gives are those the reports themselves give (a mode read here as
# readiness reads it, from the newest and the oldest policy-string).
pg_q rd "CREATE VIEW public.rd_policy AS SELECT
    (r.start_datetime AT TIME ZONE 'UTC')::date AS day,
    rtrim(lower(p.policy_domain), '.') AS d, p.policy_type AS t, p.id,
    p.policy_string AS ps, p.total_successful_session_count AS ok,
    p.total_failure_session_count AS nf
    FROM tlsrpt.policy p JOIN tlsrpt.report r ON r.id = p.report_ref
    WHERE p.policy_type IN ('sts', 'tlsa')" >/dev/null
bad=0 full=0
for n in $(seq 0 45); do
	since="(now() AT TIME ZONE 'UTC')::date - $n"
	want=$(pg_q rd "WITH x AS (SELECT * FROM public.rd_policy
	    WHERE day >= $since), s AS (SELECT x.*, lower(substring(
	    array_to_string(ps, E'\\n')
	    FROM '(?in)^[ \\t]*mode[ \\t]*:[ \\t]*([^ \\t\\r]*)')) AS mode
	    FROM x WHERE t = 'sts' AND ps IS NOT NULL)
	    SELECT string_agg(concat_ws(' ', d, t, days, f, l, n, ok + nf, nf,
	    newest, CASE WHEN t = 'sts' THEN
	    (newest IS DISTINCT FROM oldest)::text END), '|' ORDER BY d, t)
	    FROM (SELECT d, t, count(DISTINCT day) AS days, min(day) AS f,
	    max(day) AS l, count(*) AS n, sum(ok) AS ok, sum(nf) AS nf,
	    (SELECT s.mode FROM s WHERE s.d = x.d AND x.t = 'sts'
	    ORDER BY s.day DESC, s.id DESC LIMIT 1) AS newest,
	    (SELECT s.mode FROM s WHERE s.d = x.d AND x.t = 'sts'
	    ORDER BY s.day, s.id LIMIT 1) AS oldest
	    FROM x GROUP BY 1, 2) g")
	got=$(pg_q rd "SELECT string_agg(concat_ws(' ', policy_domain,
	    policy_type, days, first_day, last_day, reports, sessions,
	    failed_sessions, mode, mode_changed::text), '|'
	    ORDER BY policy_domain, policy_type)
	    FROM tlsrpt.readiness($n, 7, 2)")
	[ -z "$want" ] || full=$((full + 1))
	if [ "$want" != "$got" ]; then
		[ "$bad" -gt 0 ] || printf '# window %s: want %s\n# got %s\n' \
		    "$n" "$want" "$got"
		bad=$((bad + 1))
	fi
done
check "every window, 0 to 45 days: as the reports add up" "$bad" 0
check "every window: those of a day or more are not empty" "$full" 45

# ---- The monitored domains, when there are any, are the default.
pg_q rd "CREATE TABLE IF NOT EXISTS tlsrpt.monitored_domain (domain text
    PRIMARY KEY, include_subdomains boolean NOT NULL DEFAULT true,
    added_at timestamptz NOT NULL DEFAULT now())" >/dev/null
run_adm -d dbname=rd readiness
check "monitored: none yet, so every domain" "$RC $OUT" "0 $ALL"
pg_q rd "INSERT INTO tlsrpt.monitored_domain (domain, include_subdomains)
    VALUES ('dane.example', false), ('parent.example', true),
    ('ready.example', false), ('example', false)" >/dev/null
run_adm -d dbname=rd readiness
check "monitored: those, with subdomains where asked" "$RC $OUT" "0 $R_DANE_STS
$R_DANE
$(line example sts unknown "no reports in the last 30 days")
$(line parent.example sts unknown "no reports in the last 30 days")
$R_READY
$R_SUB"
run_adm -d dbname=rd readiness --domain short.example
check "monitored: --domain still decides" "$OUT" "$R_SHORT"

# ---- A reader sees the view; the command works as a reader.
"$PG_BINDIR/psql" -q -X -v ON_ERROR_STOP=1 -d rd \
    -f "$top_srcdir/sql/roles.sql" >/dev/null
pg_q rd "CREATE ROLE rdr LOGIN IN ROLE tlsrpt_reader" >/dev/null
run_adm -d "dbname=rd user=rdr" readiness --domain ready.example
check "reader: the command" "$RC $OUT" "0 $R_READY"
check "reader: the view" "$("$PG_BINDIR/psql" -X -At -U rdr -d rd -c \
    "SELECT verdict FROM tlsrpt.readiness WHERE policy_domain = 'expired.example'" 2>&1)" \
    not-ready

# ---- Usage, and the exit codes.
run_adm -d dbname=rd readiness --help
check_match "--help: usage on stdout, exit 0" "$RC $OUT" \
    "^0 usage: tlsrpt-adm readiness "
for bad in "--window 0" "--window 3651" "--window 7x" "--min-days 0" \
    "--min-reporters -1" "--domain" "--frobnicate" "extra"; do
	# shellcheck disable=SC2086
	run_adm -d dbname=rd readiness $bad
	check "usage: $bad: exit 64, nothing on stdout" "$RC $OUT" "64 "
done
run_adm -d dbname=rd readiness --domain "a b.example"
check "usage: a blank in --domain" "$RC" 64
run_adm -d "host=$W/nowhere dbname=rd connect_timeout=2" readiness
check "no server: exit 75" "$RC $OUT" "75 "
pg_newdb old || exit 99
pg_q old "DELETE FROM tlsrpt.schema_version WHERE version > 4" >/dev/null
run_adm -d dbname=old readiness
check "schema too old: exit 78" "$RC $OUT" "78 "
check_match "schema too old: says what to do" "$ERR" \
    "database schema version 4, need [0-9]+: load schema.sql"

finish
