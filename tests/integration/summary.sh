#!/bin/sh
# summary.sh - tlsrpt-adm summary on ten days of reports
# (summary-history.sql): the text names the failing domain first, its
# top failure and MX, the reporter that stopped, the messages kept aside;
# a healthy domain is one line; --domain filters; --since moves the
# period and the comparison; --format mime is a multipart/alternative
# message that python3's email parser reads back into the text and the
# HTML; hostile report fields come out escaped.  The HTML is rendered in
# headless Chromium at a phone's width and a desktop's, without console
# errors; the screenshots are kept in tests/integration/artifacts/.

. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pg.sh"

pg_start
trap 'pg_cleanup' EXIT

DB=summary
pg_newdb $DB || exit 99
"$PG_BINDIR/psql" -q -X -v ON_ERROR_STOP=1 -d $DB \
    -f "$top_srcdir/tests/integration/summary-history.sql" >/dev/null ||
    exit 99
ART=$top_builddir/tests/integration/artifacts
mkdir -p "$ART" || exit 99
W=$(mktemp -d "${TMPDIR:-/tmp}/tlsrpt-summary.XXXXXX") || exit 99
trap 'pg_cleanup; rm -rf "$W"' EXIT

line_for() { printf '%s\n' "$OUT" | grep -F -- "$1"; }
# heading DOMAIN: the domain's first line
heading() { printf '%s\n' "$OUT" | grep -E "^[A-Z]+ +$1:"; }
# The domains' heading lines, in order.
headings() {
	printf '%s\n' "$OUT" | sed -n 's/^\(OK\|WARNING\|CRITICAL\)  *\([^:]*\):.*/\2/p' |
	    tr '\n' ' '
}

# ---- Text, the last day.
run_adm -d dbname=$DB summary
check "text: exit 0" "$RC" 0
check "text: nothing on stderr" "$ERR" ""
check "text: the title" "$(printf '%s\n' "$OUT" | head -n 1)" \
    "TLS-RPT summary for the last day"
check_match "text: the period and the one compared" \
    "$(printf '%s\n' "$OUT" | sed -n 2p)" \
    "^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9:]{5} to [0-9-]{10} [0-9:]{5} UTC, compared with the day before\$"
check "text: the tally" "$(printf '%s\n' "$OUT" | sed -n 3p)" \
    "4 domains: 1 critical, 1 warning, 2 healthy; 3 messages kept aside"
check "text: worst first" "$(headings)" \
    "fail.example stop.example ok.example dane.example "
check "text: the failing domain's heading" "$(line_for 'CRITICAL')" \
    "CRITICAL  fail.example: 12.40% failed"
check "text: its sessions, against the day before" \
    "$(line_for '  sessions    5,525')" \
    "  sessions    5,525, 12.40% failed; before: 0.00% of 5,500 (+12.40 points, sessions +0%)"
check "text: its top failure, type and MX, first" \
    "$(printf '%s\n' "$OUT" | grep -A1 '^  failures ')" \
    "  failures    660 certificate-expired on mx1.fail.example
                reported by Google LLC, Microsoft Corporation"
check "text: the next failure" \
    "$(line_for 'starttls-not-supported on')" \
    "              25 starttls-not-supported on mx2.fail.example"
check_match "text: readiness from tlsrpt.readiness()" \
    "$(line_for 'readiness   fail.example')" \
    "^  readiness   fail\\.example sts not-ready: would bounce 685 of [0-9]+ sessions: certificate-expired 660 on mx1\\.fail\\.example"
check "text: readiness as tlsrpt-adm readiness says it" \
    "$(line_for 'readiness   fail.example' | sed 's/^  readiness   //')" \
    "$("$ADM" -d dbname=$DB readiness --domain fail.example |
    awk -F '\t' '{ print $1 " " $2 " " $3 ": " $4 }')"
check "text: the reporter that stopped" \
    "$(line_for 'WARNING ')" "WARNING   stop.example: a reporter stopped"
check_match "text: check's words for it" "$(line_for 'Yahoo')" \
    "^  alerts      stop\\.example: Yahoo Inc\\. has not reported for 5\\.[0-9] days \\(usually every 1\\.0 days; "
check "text: a healthy domain is one line" "$(line_for ok.example)" \
    "OK        ok.example: 7,500 sessions, 0.00% failed (before: 0.00%); sts ready"
check "text: DANE, one line" "$(line_for dane.example)" \
    "OK        dane.example: 800 sessions, 0.00% failed (before: 0.00%); tlsa enforced"
check "text: kept aside in the day, by reason" \
    "$(printf '%s\n' "$OUT" | sed -n '/^Kept aside/,$p')" \
    "Kept aside (tlsrpt.rejected_message): 3 messages
         2  no policy domain is monitored (other.example)
         1  not a TLS report: no report part"
printf '%s\n' "$OUT" >"$W/text-1d"

# ---- --since: the period and the comparison move.
run_adm -d dbname=$DB summary --since 7d
check "7d: exit 0" "$RC" 0
check "7d: the title" "$(printf '%s\n' "$OUT" | head -n 1)" \
    "TLS-RPT summary for the last 7 days"
check_match "7d: compared with the 7 days before" \
    "$(printf '%s\n' "$OUT" | sed -n 2p)" "compared with the 7 days before\$"
check "7d: the failure diluted over the week: WARNING" \
    "$(heading 'fail\.example')" "WARNING   fail.example: 1.78% failed"
check "7d: against the week before (three days of reports)" \
    "$(line_for '  sessions    38,525')" \
    "  sessions    38,525, 1.78% failed; before: 0.00% of 16,500 (+1.78 points, sessions +133%)"
check "7d: the kept-aside message of five days ago counts" \
    "$(printf '%s\n' "$OUT" | sed -n 3p)" \
    "4 domains: 0 critical, 2 warning, 2 healthy; 4 messages kept aside"
run_adm -d dbname=$DB summary --since 30d
check_match "30d: all ten days, nothing before" "$(line_for 'ok.example')" \
    "^OK        ok\\.example: 75,000 sessions, 0\\.00% failed \\(before: -\\)"

# ---- --domain.
run_adm -d dbname=$DB summary --domain OK.Example. --domain dane.example
check "--domain: exit 0" "$RC" 0
check "--domain: those domains only" "$(headings)" "ok.example dane.example "
check "--domain: the tally" "$(printf '%s\n' "$OUT" | sed -n 3p)" \
    "2 domains: 0 critical, 0 warning, 2 healthy; 3 messages kept aside"
run_adm -d dbname=$DB summary --domain nothing.example
check "--domain without reports: check's silence" "$(line_for nothing.example)" \
    "CRITICAL  nothing.example: no reports
  alerts      nothing.example: no report ever"
# The monitored domains decide when there are some.
pg_q $DB "INSERT INTO tlsrpt.monitored_domain (domain) VALUES
    ('stop.example')" >/dev/null
run_adm -d dbname=$DB summary
check "monitored: the monitored domains only" "$(headings)" "stop.example "
pg_q $DB "DELETE FROM tlsrpt.monitored_domain" >/dev/null

# ---- Options and failures.
for bad in "--since 0d" "--since 366d" "--since 7" "--since 1w" \
    "--format pdf" "--domain a\\ b" "extra"; do
	eval "run_adm -d dbname=$DB summary $bad"
	check "usage: $bad: 64" "$RC" 64
done
run_adm -d dbname=$DB summary --to "$(printf 'x@y.example\nBcc: z@y.example')"
check "usage: --to with a line break: 64" "$RC" 64
run_adm -d dbname=$DB summary --from "$(printf 'x@y.example\tz')"
check "usage: --from with a tab: 64" "$RC" 64
run_adm -d dbname=$DB summary --help
check_match "--help: exit 0, usage" "$RC $OUT" "^0 usage: tlsrpt-adm summary"
run_adm -d "host=$W/none dbname=$DB connect_timeout=2" summary
check "no server: 75" "$RC" 75
pg_newdb empty || exit 99
run_adm -d dbname=empty summary --format mime
check "empty database: exit 0" "$RC" 0
check_match "empty database: all healthy" "$OUT" \
    "Subject: TLS-RPT summary for the last day: 0 domains, all healthy"

# ---- Hostile report fields: the HTML escapes them, the text keeps one
# line each.
pg_q $DB "SELECT public.t_report(E'<script>alert(1)</script>\\nEvil', 'evil.example', 0.5, 50, 50,
    'validation-failure', '<img src=x onerror=alert(2)>.evil.example');
SELECT public.t_report('Quote \"''&amp; Corp', 'evil.example', 0.5, 10, 10,
    'validation-failure', '<img src=x onerror=alert(2)>.evil.example')" >/dev/null ||
    exit 99
run_adm -d dbname=$DB summary --format html
check "html: exit 0" "$RC" 0
printf '%s\n' "$OUT" >"$W/summary.html"
check "html: no script element" "$(grep -ci '<script' "$W/summary.html")" 0
check "html: no img element" "$(grep -ci '<img' "$W/summary.html")" 0
check "html: the organization escaped" \
    "$(grep -c '&lt;script&gt;alert(1)&lt;/script&gt;?Evil' "$W/summary.html")" 1
check "html: the MX host escaped" \
    "$(grep -c '<code>&lt;img src=x onerror=alert(2)&gt;.evil.example</code>' "$W/summary.html")" 1
check "html: quotes and ampersands escaped" \
    "$(grep -c 'Quote &quot;&#39;&amp;amp; Corp' "$W/summary.html")" 1
check "html: nothing external" \
    "$(grep -Eci '(src|href)="|https?:|<link|@import|url\(' "$W/summary.html")" 0
check_match "html: a page of its own" "$(head -n 1 "$W/summary.html")" \
    '^<!DOCTYPE html>$'
run_adm -d dbname=$DB summary
check_match "text: the hostile name on one line" "$(line_for 'reported by <script>')" \
    "^ {16}reported by <script>alert\\(1\\)</script>\\?Evil, Quote \"'&amp; Corp\$"
check "text: evil.example is the worst now" "$(headings | cut -d' ' -f1)" \
    "evil.example"

# ---- MIME: a message that a real parser reads back.
run_adm -d dbname=$DB summary --format mime --to 'Postmaster <postmaster@example.org>' \
    --from tlsrpt@example.org
check "mime: exit 0" "$RC" 0
printf '%s\n' "$OUT" >"$W/summary.eml"
"$ADM" -d dbname=$DB summary >"$W/summary.txt"
python3 - "$W/summary.eml" "$W/summary.txt" "$W/summary.html" >"$W/mime.out" 2>&1 <<'EOF'
import email, email.policy, email.utils, re, sys
raw = open(sys.argv[1], 'rb').read()
msg = email.message_from_bytes(raw, policy=email.policy.default)
def out(k, v):
    print('%s=%s' % (k, v))
# Times move between runs: compare without them.
def untimed(s):
    return re.sub(r'\d{4}-\d\d-\d\d \d\d:\d\d', 'T', s)
out('type', msg.get_content_type())
out('defects', len(msg.defects))
out('version', msg['MIME-Version'])
out('from', msg['From'])
out('to', msg['To'])
out('subject', msg['Subject'])
out('date', email.utils.parsedate_to_datetime(msg['Date']).utcoffset())
out('auto', msg['Auto-Submitted'])
parts = list(msg.iter_parts())
out('parts', ' '.join(p.get_content_type() for p in parts))
out('cte', ' '.join(p['Content-Transfer-Encoding'] for p in parts))
out('charset', ' '.join(p.get_content_charset() for p in parts))
out('part_defects', sum(len(p.defects) for p in parts))
text = parts[0].get_content()
html = parts[1].get_content()
out('text_same', untimed(text) == untimed(open(sys.argv[2]).read()))
# The HTML file was written before the MIME: same database, same page.
out('html_same', untimed(html) == untimed(open(sys.argv[3]).read()))
lines = raw.split(b'\n')
out('longest', max(len(l) for l in lines))
head, body = raw.split(b'\n\n', 1)
out('body_longest', max(len(l) for l in body.split(b'\n')))
out('ascii', all(b < 128 for b in raw))
out('dot_lines', sum(1 for l in lines if l == b'.'))
EOF
check "mime: python3 read it" "$?" 0
mime() { sed -n "s/^$1=//p" "$W/mime.out"; }
check "mime: multipart/alternative" "$(mime type)" "multipart/alternative"
check "mime: no defects" "$(mime defects) $(mime part_defects)" "0 0"
check "mime: MIME-Version" "$(mime version)" "1.0"
check "mime: From" "$(mime from)" "tlsrpt@example.org"
check "mime: To" "$(mime to)" "Postmaster <postmaster@example.org>"
check "mime: Subject" "$(mime subject)" \
    "TLS-RPT summary for the last day: 5 domains, worst evil.example (50.00% failed)"
check "mime: Date in UTC" "$(mime date)" "0:00:00"
check "mime: Auto-Submitted" "$(mime auto)" "auto-generated"
check "mime: a text and an HTML part" "$(mime parts)" "text/plain text/html"
check "mime: quoted-printable" "$(mime cte)" "quoted-printable quoted-printable"
check "mime: UTF-8" "$(mime charset)" "utf-8 utf-8"
check "mime: the text part is the text" "$(mime text_same)" True
check "mime: the HTML part is the page" "$(mime html_same)" True
check "mime: no line over 998" "$([ "$(mime longest)" -le 998 ] && echo yes)" yes
check "mime: body lines 76 at most" "$([ "$(mime body_longest)" -le 76 ] && echo yes)" yes
check "mime: 7-bit" "$(mime ascii)" True
check "mime: no line of a lone dot" "$(mime dot_lines)" 0
[ "$T_FAIL" -eq 0 ] || sed 's/^/# /' "$W/mime.out"
# The default addresses.
run_adm -d dbname=$DB summary --format mime
check "mime: From and To default to postmaster" \
    "$(printf '%s\n' "$OUT" | grep -E '^(From|To): ')" \
    "From: postmaster
To: postmaster"

# ---- contrib: the systemd unit (made from its .in as make does) and the
# cron line, run as written with a sendmail that keeps what it is given.
mkdir "$W/bin" "$W/systemd"
printf '#!/bin/sh\n[ "$*" = "-t" ] || exit 64\ncat >"%s"\n' "$W/sent.eml" \
    >"$W/bin/sendmail"
chmod 755 "$W/bin/sendmail"
SVC=$W/systemd/tlsrpt-adm-summary.service
sed -e "s|@bindir[@]|$top_builddir|g" \
    "$top_srcdir/contrib/systemd/tlsrpt-adm-summary.service.in" >"$SVC"
cp "$top_srcdir/contrib/systemd/tlsrpt-adm-summary.timer" "$W/systemd/"
if command -v systemd-analyze >/dev/null; then
	out=$(cd "$W/systemd" && systemd-analyze verify --man=no \
	    tlsrpt-adm-summary.service tlsrpt-adm-summary.timer 2>&1)
	check "systemd: verify exit 0, not a word" "$?:$out" "0:"
elif [ "${CI:-}" = true ]; then
	not_ok "systemd-analyze installed (CI=true)"
fi
check "systemd: TLSRPT_DB is the examples' database" \
    "$(sed -n 's/^Environment=TLSRPT_DB=//p' "$SVC")" dbname=tlsrpt
check "systemd: every morning" \
    "$(sed -n 's/^OnCalendar=//p' "$W/systemd/tlsrpt-adm-summary.timer")" \
    "*-*-* 07:00:00"
run=$(sed -n 's/^ExecStart=//p' "$SVC" |
    sed -e "s|/usr/sbin/sendmail|$W/bin/sendmail|")
check_match "systemd: ExecStart pipes the message to sendmail -t" "$run" \
    "summary --since 1d --format mime \\| $W/bin/sendmail -t'\$"
rm -f "$W/sent.eml"
(TLSRPT_DB=dbname=$DB && export TLSRPT_DB && eval "$run") >"$W/out" 2>&1
check "systemd: ExecStart exit 0, not a word" "$?:$(cat "$W/out")" "0:"
check_match "systemd: the message sent" "$(grep '^Subject: ' "$W/sent.eml")" \
    "^Subject: TLS-RPT summary for the last day: 5 domains, worst evil\\.example"
rm -f "$W/sent.eml"
(TLSRPT_DB="host=$W/none dbname=$DB connect_timeout=2" &&
    export TLSRPT_DB && eval "$run") >"$W/out" 2>&1
check "systemd: database down, the unit fails (75)" "$?" 75
check "systemd: database down, nothing given to sendmail" \
    "$(cat "$W/sent.eml" 2>/dev/null | wc -c | tr -d ' ')" 0

CRON=$top_srcdir/contrib/cron/tlsrpt-adm-summary
line=$(grep -v '^#' "$CRON" | grep -v '^[A-Z_]*=' | grep .)
check "cron: one line, at 07:00, then the user" \
    "$(printf '%s\n' "$line" | awk '{ print NR, $1, $2, $3 $4 $5, $6 }')" \
    "1 0 7 *** tlsrpt_summary"
check "cron: TLSRPT_DB is the examples' database" \
    "$(sed -n 's/^TLSRPT_DB=//p' "$CRON")" '"dbname=tlsrpt"'
run=$(printf '%s\n' "$line" |
    awk '{ $1 = $2 = $3 = $4 = $5 = $6 = ""; print }' |
    sed -e "s|/usr/local/bin/tlsrpt-adm|$ADM|" \
    -e "s|/usr/sbin/sendmail|$W/bin/sendmail|")
rm -f "$W/sent.eml"
(TLSRPT_DB=dbname=$DB && export TLSRPT_DB && eval "$run") >"$W/out" 2>&1
check "cron: exit 0, nothing for cron to mail" "$?:$(cat "$W/out")" "0:"
# Times and the boundary aside, what the command prints.
untimed() {
	grep -v '^Date: \|boundary=\|^--=_' |
	    sed 's/[0-9]\{4\}-[0-9-]* [0-9:]*//g'
}
check "cron: the message sent is the command's" \
    "$(untimed <"$W/sent.eml" | cksum)" \
    "$("$ADM" -d dbname=$DB summary --format mime | untimed | cksum)"

# ---- A line as long as the reports make it: thirty failing MX hosts
# outside the policy, each named in the readiness reason.
pg_q $DB "SELECT public.t_report('Google LLC', 'long.example', 0.5, 10, 1,
    'certificate-expired', 'mx-' || i || '-' || repeat('x', 90) || '.elsewhere.example')
    FROM generate_series(1, 30) i" >/dev/null || exit 99
run_adm -d dbname=$DB summary --domain long.example
check "long line: exit 0" "$RC" 0
check "long line: the readiness reason names every host" \
    "$(line_for 'readiness   long.example' | grep -o 'mx-[0-9]*-x' | sort -u | wc -l | tr -d ' ')" 30
check "long line: longer than 2 KiB, one line" \
    "$(line_for 'readiness   long.example' | awk '{ print (length($0) > 2048) ? "yes" : length($0) }')" yes
run_adm -d dbname=$DB summary --domain long.example --format mime
check "long line, mime: exit 0" "$RC" 0
check "long line, mime: no line over 76 in the body" \
    "$(printf '%s\n' "$OUT" | sed '1,/^$/d' | awk 'length($0) > 76' | wc -l | tr -d ' ')" 0

# ---- The page in a real browser, at a phone's width and a desktop's.
# png_size FILE: "WIDTH HEIGHT" from the PNG header.
png_size() {
	python3 -c '
import struct, sys
b = open(sys.argv[1], "rb").read(24)
assert b[:8] == b"\x89PNG\r\n\x1a\n" and b[12:16] == b"IHDR"
print("%d %d" % struct.unpack(">II", b[16:24]))' "$1" 2>/dev/null
}
# shoot HTML PNG W,H: a screenshot; the browser's log in PNG.log.
shoot() {
	rm -f "$2"
	timeout 120 chromium --headless=new --no-sandbox --disable-gpu \
	    --hide-scrollbars --enable-logging=stderr --v=0 \
	    --user-data-dir="$W/chromium" --screenshot="$2" \
	    --window-size="$3" "file://$1" >"$2.log" 2>&1
}
CHROMIUM=$(command -v chromium || command -v chromium-browser)
if [ -z "$CHROMIUM" ] && [ "${CI:-}" = true ]; then
	not_ok "chromium installed (CI=true)"
elif [ -z "$CHROMIUM" ]; then
	echo "# chromium not installed: the page is not rendered"
else
	# The log shows a page's console errors: one with an error first.
	printf '<!DOCTYPE html><p>x</p><script>nosuch();</script>\n' \
	    >"$W/error.html"
	shoot "$W/error.html" "$W/error.png" 390,300
	check "chromium: a console error shows in its log" \
	    "$(grep -c ':CONSOLE.*Uncaught' "$W/error.png.log")" 1
	cp "$W/summary.html" "$ART/summary.html"
	for size in 390,1200 1280,900; do
		png=$ART/summary-${size%,*}.png
		shoot "$ART/summary.html" "$png" $size
		check "chromium $size: exit 0" "$?" 0
		check "chromium $size: a PNG of that size" "$(png_size "$png")" \
		    "$(echo $size | tr , ' ')"
		check "chromium $size: larger than a blank page" \
		    "$([ "$(wc -c <"$png")" -gt 20000 ] && echo yes)" yes
		check "chromium $size: no console message" \
		    "$(grep -c ':CONSOLE' "$png.log")" 0
	done
	# The hostile names are text in the page, not elements.
	timeout 120 chromium --headless=new --no-sandbox --disable-gpu \
	    --user-data-dir="$W/chromium" --dump-dom \
	    "file://$ART/summary.html" >"$W/dom.html" 2>/dev/null
	check "chromium: the DOM has no script or img element" \
	    "$(grep -ci '<script\|<img' "$W/dom.html")" 0
	check "chromium: the organization is text" \
	    "$(grep -c '&lt;script&gt;alert(1)&lt;/script&gt;?Evil' "$W/dom.html")" 1
	echo "# screenshots: $ART"
fi

finish
