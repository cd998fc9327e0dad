#!/bin/sh
# deb.sh - the Debian package, built from this tree and used as installed.
#
# The git-tracked files are copied to a temporary directory and built
# there with dpkg-buildpackage -us -uc -b.  Checked:
#   - the build: no compiler warning under dpkg-buildflags' hardening
#     flags, the unit tests run and pass, no integration test runs;
#     hardened programs (PIE, stack protector, fortify, relro, now);
#   - lintian on the .changes: no error, no warning left un-overridden;
#   - apt-get install: the programs, manual pages, schema and roles,
#     examples (naming /usr/bin), units and sysusers file where they
#     belong; the units installed but not enabled (nor started); the
#     server's runtime directory from its unit; the system user tlsrpt;
#   - the installed schema.sql loaded into a private PostgreSQL, then
#     again (an upgrade that changes nothing), and roles.sql;
#   - the installed program, as the user tlsrpt with the ingester's
#     least-privilege role, stores a corpus report by itself, and another
#     through the resident server run from the installed unit's ExecStart;
#   - dpkg --purge: nothing of the package is left (files, units, the
#     state of deb-systemd-helper), and the user tlsrpt stays: Debian
#     does not remove system users on purge (files they own may remain,
#     the Maildir among them, and a reused uid would inherit them).
#
# Run as root, from a git checkout (debian/ is not in the release
# tarball).  Missing build tools: exit 77 (skip), unless CI=true or
# TLSRPT_INSTALL=1, which install them with apt-get.  Under CI=true a
# missing prerequisite is a failure (99).  Refuses to run (77) if the
# package is already installed: the test ends by purging it.

. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/../integration/pg.sh"

PATH=$PATH:/usr/sbin:/sbin
# The user tlsrpt must reach the database socket.
TMPDIR=/tmp
DEBIAN_FRONTEND=noninteractive
export PATH TMPDIR DEBIAN_FRONTEND
PKG=tlsrpt-ingest
C=$TI_TEST_DATA/corpus
UNITS="tlsrpt-adm-metrics.service tlsrpt-adm-metrics.timer
tlsrpt-adm-summary.service tlsrpt-adm-summary.timer
tlsrpt-ingest-fetch.service tlsrpt-ingest-fetch.timer
tlsrpt-ingest-serve.service tlsrpt-ingest-sweep.service
tlsrpt-ingest-sweep.timer"

prereq_missing() {
	if [ "${CI:-}" = true ]; then
		echo "FAIL: $1" >&2
		exit 99
	fi
	echo "SKIP: $1"
	exit 77
}

installed() {
	[ "$(dpkg-query -W -f '${db:Status-Status}' "$PKG" 2>/dev/null)" = \
	    installed ]
}

[ "$(id -u)" = 0 ] || prereq_missing "deb.sh must run as root"
git -C "$top_srcdir" rev-parse --git-dir >/dev/null 2>&1 &&
    [ -f "$top_srcdir/debian/control" ] ||
    prereq_missing "$top_srcdir is not a git checkout with debian/"
installed && prereq_missing "$PKG is installed: deb.sh would purge it"

W=
SPID=
deb_cleanup() {
	[ -n "$SPID" ] && kill -9 "$SPID" 2>/dev/null
	pg_cleanup
	installed && dpkg --purge "$PKG" >/dev/null 2>&1
	[ -n "$W" ] && rm -rf "$W"
}
trap deb_cleanup EXIT
trap 'exit 99' INT TERM HUP

W=$(mktemp -d "$TMPDIR/tlsrpt-deb.XXXXXX") || exit 99
# apt's _apt user, lintian's user and tlsrpt read what is in here.
chmod 755 "$W"
mkdir "$W/src"
(cd "$top_srcdir" && git ls-files -z | xargs -0 cp --parents -t "$W/src") ||
    exit 99

# ---- Build tools and build dependencies.
if ! command -v dpkg-buildpackage >/dev/null || ! command -v dh >/dev/null ||
    ! command -v lintian >/dev/null ||
    ! (cd "$W/src" && dpkg-checkbuilddeps >/dev/null 2>&1); then
	if [ "${CI:-}" != true ] && [ "${TLSRPT_INSTALL:-}" != 1 ]; then
		prereq_missing "build tools or dependencies missing\
 (TLSRPT_INSTALL=1 installs them)"
	fi
	echo "# installing the build tools and dependencies"
	if ! { apt-get install -y -qq --no-install-recommends build-essential \
	    debhelper devscripts dpkg-dev fakeroot lintian &&
	    apt-get build-dep -y -qq "$W/src"; } >"$W/apt.log" 2>&1; then
		cat "$W/apt.log" >&2
		echo "FAIL: apt-get" >&2
		exit 99
	fi
fi

# ---- The build.
VERSION=$(cd "$W/src" && dpkg-parsechangelog -S Version)
UPSTREAM=$(sed -n 's/^AC_INIT(\[[^]]*\], \[\([^]]*\)\].*/\1/p' \
    "$top_srcdir/configure.ac")
check "debian/changelog: the version of configure.ac's AC_INIT" \
    "${VERSION%-*}" "$UPSTREAM"
t0=$(date +%s)
(cd "$W/src" && dpkg-buildpackage -us -uc -b) >"$W/build.log" 2>&1
rc=$?
check "dpkg-buildpackage -us -uc -b: exit 0" "$rc" 0
echo "# built in $(($(date +%s) - t0))s"
if [ "$rc" -ne 0 ]; then
	tail -n 40 "$W/build.log" | sed 's/^/#   /'
	finish
fi
check "build: no compiler warning" \
    "$(grep -E '\.[ch]:[0-9]+(:[0-9]+)?: warning:' "$W/build.log")" ""
for v in CPPFLAGS CFLAGS LDFLAGS; do
	flags=$(cd "$W/src" && DEB_BUILD_MAINT_OPTIONS=hardening=+all \
	    dpkg-buildflags --get "$v")
	check "build: dpkg-buildflags' $v reached the compiler" \
	    "$(grep -qF -- "$flags" "$W/build.log" && echo yes)" yes
done
check_match "build: the unit tests ran and passed" \
    "$(grep -E '^# (PASS|FAIL|ERROR):' "$W/build.log" | tr -s ' \n' ' ')" \
    '^# PASS: [1-9][0-9]* # FAIL: 0 # ERROR: 0 $'
check "build: no integration test ran" \
    "$(grep -cE '^[A-Z]+: tests/integration/' "$W/build.log")" 0

DEB=$W/${PKG}_${VERSION}_$(dpkg --print-architecture).deb
CHANGES=${DEB%.deb}.changes
check "build: the package and its .changes" \
    "$(test -f "$DEB" && test -f "$CHANGES" && echo yes)" yes

# ---- lintian, as an unprivileged user where there is one.
chmod -R a+rX "$W"
LINT_AS=
id nobody >/dev/null 2>&1 && LINT_AS="runuser -u nobody --"
(cd / && $LINT_AS lintian --pedantic "$CHANGES") >"$W/lintian.log" 2>&1
rc=$?
sed 's/^/# lintian: /' "$W/lintian.log"
check "lintian: exit 0" "$rc" 0
check "lintian: no error" "$(grep -c '^E: ' "$W/lintian.log")" 0
check "lintian: no warning" "$(grep -c '^W: ' "$W/lintian.log")" 0

if command -v hardening-check >/dev/null; then
	dpkg-deb -x "$DEB" "$W/x"
	for p in tlsrpt-ingest tlsrpt-adm; do
		check "hardening: $p: PIE, stack protector, fortify, relro, now" \
		    "$(hardening-check "$W/x/usr/bin/$p" | grep -cE "^ (Position \
Independent Executable|Stack protected|Fortify Source functions|Read-only \
relocations|Immediate binding): yes")" 5
	done
fi

# ---- Installation.
USER_BEFORE=no
if id tlsrpt >/dev/null 2>&1; then
	USER_BEFORE=yes
	# A throwaway machine (another test created the user): remove it,
	# so that the package's creating it is what is checked.
	if [ "${CI:-}" = true ] && userdel tlsrpt 2>/dev/null; then
		USER_BEFORE=no
	fi
fi
apt-get install -y -qq "$DEB" >"$W/install.log" 2>&1
rc=$?
check "apt-get install $(basename "$DEB"): exit 0" "$rc" 0
[ "$rc" -eq 0 ] || { sed 's/^/#   /' "$W/install.log"; finish; }
check "installed" "$(installed && echo yes)" yes
dpkg -L "$PKG" >"$W/files"

for f in /usr/bin/tlsrpt-ingest /usr/bin/tlsrpt-adm; do
	check "$f" "$(test -x "$f" && echo yes)" yes
done
for f in /usr/share/man/man1/tlsrpt-ingest.1.gz \
    /usr/share/man/man1/tlsrpt-adm.1.gz \
    /usr/share/doc/$PKG/copyright \
    /usr/share/doc/$PKG/README.md.gz \
    /usr/share/doc/$PKG/examples/postfix/master.cf.example \
    /usr/share/doc/$PKG/examples/cron/tlsrpt-ingest.cron \
    /usr/share/doc/$PKG/examples/procmail/procmailrc.example \
    /usr/share/doc/$PKG/examples/mbsync/mbsyncrc \
    /usr/share/doc/$PKG/examples/getmail/getmailrc \
    /usr/share/doc/$PKG/examples/grafana/tlsrpt.json \
    /usr/lib/sysusers.d/$PKG.conf; do
	check "$f" "$(test -f "$f" && echo yes)" yes
done
for f in schema.sql roles.sql; do
	check "/usr/share/$PKG/$f: sql/$f" \
	    "$(cmp "/usr/share/$PKG/$f" "$top_srcdir/sql/$f" && echo same)" same
done
check "examples name the programs in /usr/bin" \
    "$(grep -rl /usr/local "/usr/share/doc/$PKG/examples")" ""
check_match "master.cf example: /usr/bin/tlsrpt-ingest" \
    "$(cat "/usr/share/doc/$PKG/examples/postfix/master.cf.example")" \
    'argv=/usr/bin/tlsrpt-ingest '
check "no systemd units where make install puts them" \
    "$(test -e "/usr/share/$PKG/systemd" && echo there)" ""

# ---- The units: installed, not enabled, not started.
for u in $UNITS; do
	f=/lib/systemd/system/$u
	check "$f" "$(test -f "$f" && echo yes)" yes
	check_match "$u: not enabled" "$(systemctl is-enabled "$u" 2>&1)" \
	    '^(disabled|static)$'
	if [ -d /run/systemd/system ]; then
		check "$u: not started" "$(systemctl is-active "$u")" inactive
	fi
done
check "no unit enabled by a link in /etc/systemd" \
    "$(find /etc/systemd -name 'tlsrpt*' 2>/dev/null)" ""
SRV=/lib/systemd/system/tlsrpt-ingest-serve.service
for u in $UNITS; do
	sed -n 's/^ExecStart=\([^ ]*\).*/\1/p' "/lib/systemd/system/$u"
done | sort -u >"$W/exec"
# The installed programs, and besides them the fetcher (mbsync) and the
# shell that pipes the summary to sendmail.
check "units start the installed programs" "$(tr '\n' ' ' <"$W/exec")" \
    "/bin/bash /usr/bin/mbsync /usr/bin/tlsrpt-adm /usr/bin/tlsrpt-ingest "
SOCK_UNIT=$(sed -n 's/^ExecStart=.*--socket \([^ ]*\).*/\1/p' "$SRV")
check "the server's socket directory is its RuntimeDirectory" \
    "$(dirname "$SOCK_UNIT")" "/run/$(sed -n 's/^RuntimeDirectory=//p' "$SRV")"
check "the server's unit can be enabled" \
    "$(sed -n 's/^WantedBy=//p' "$SRV")" multi-user.target

# ---- The user.
if [ "$USER_BEFORE" = no ]; then
	check "the package created the user tlsrpt" \
	    "$(id tlsrpt >/dev/null 2>&1 && echo yes)" yes
else
	echo "# the user tlsrpt existed before: its creation is checked" \
	    "in a scratch root only"
fi
check_match "tlsrpt: a system user without login" \
    "$(getent passwd tlsrpt | cut -d: -f3,6,7)" \
    '^[1-9][0-9]{0,2}:/nonexistent:/usr/sbin/nologin$'
check "tlsrpt: its own group" "$(id -gn tlsrpt)" tlsrpt
mkdir -p "$W/root/etc"
systemd-sysusers --root="$W/root" - <"/usr/lib/sysusers.d/$PKG.conf" \
    >/dev/null 2>&1
check "sysusers.d file: creates tlsrpt in an empty root" \
    "$(cut -d: -f1,6,7 "$W/root/etc/passwd" 2>/dev/null)" \
    "tlsrpt:/nonexistent:/usr/sbin/nologin"

# ---- A private PostgreSQL with the installed schema and roles.
pg_start
trap deb_cleanup EXIT
createdb_q() {
	"$PG_BINDIR/createdb" "$1"
}
psql_f() {
	"$PG_BINDIR/psql" -q -X -v ON_ERROR_STOP=1 -d "$1" -f "$2" >/dev/null
}
createdb_q deb || exit 99
psql_f deb "/usr/share/$PKG/schema.sql"
check "schema.sql loads" "$?" 0
v=$(pg_q deb "SELECT max(version) FROM tlsrpt.schema_version")
check_match "schema version" "$v" '^[1-9][0-9]*$'
psql_f deb "/usr/share/$PKG/schema.sql"
check "schema.sql loads again (an upgrade)" "$?" 0
check "the second load adds no step" \
    "$(pg_q deb "SELECT count(*), max(version) FROM tlsrpt.schema_version")" \
    "$v|$v"
psql_f deb "/usr/share/$PKG/roles.sql"
check "roles.sql loads" "$?" 0
pg_q deb "CREATE ROLE tlsrpt_mta LOGIN IN ROLE tlsrpt_ingest" >/dev/null ||
    exit 99
CONNINFO="host=$PG_DIR user=tlsrpt_mta dbname=deb"

# expect FILE: "organization|report-id" from corpus-expected.txt
expect() {
	awk -F '\t+' -v f="$1" '$1 == f && $2 == "stored" {
	    print $3 "|" $4; exit }' "$TI_TEST_DATA/corpus-expected.txt"
}
# as_tlsrpt CMD...: as the user tlsrpt, from a directory it may enter
as_tlsrpt() {
	(cd / && runuser -u tlsrpt -- "$@")
}

# ---- Pipe mode, as Postfix runs it, storing the message itself.
M1=mjl-__mox/example.eml
as_tlsrpt /usr/bin/tlsrpt-ingest --db "$CONNINFO" <"$C/$M1" \
    >"$W/pipe.out" 2>&1
check "pipe mode as tlsrpt: exit 0" "$?" 0
check "pipe mode: the report stored" \
    "$(pg_q deb "SELECT organization_name || '|' || report_id
    FROM tlsrpt.report")" "$(expect "$M1")"

# ---- The resident server, started as its unit says.
M2=isseis__tlsrpt-digest/tlsrpt_success_microsoft.eml
mkdir -m 750 "$W/run" && chown tlsrpt:tlsrpt "$W/run" || exit 99
SOCK=$W/run/socket
EXEC=$(sed -n 's/^ExecStart=//p' "$SRV" | sed "s|$SOCK_UNIT|$SOCK|")
ENVDB=$(sed -n 's/^Environment=TLSRPT_DB=//p' "$SRV")
check "the server's database: the examples'" "$ENVDB" dbname=tlsrpt
# The unit's command line, its environment's database replaced.
# setpriv execs the program: $! is the server itself.
(cd / && exec setpriv --reuid=tlsrpt --regid="$(id -g tlsrpt)" \
    --init-groups -- env TLSRPT_DB="$CONNINFO" $EXEC) >"$W/serve.log" 2>&1 &
SPID=$!
wait_until test -S "$SOCK"
check "server: listening on its socket" "$(test -S "$SOCK" && echo yes)" yes
as_tlsrpt /usr/bin/tlsrpt-ingest --socket "$SOCK" \
    --db "host=/nonexistent dbname=none" <"$C/$M2" >"$W/pipe2.out" 2>&1
check "pipe mode handed its message to the server: exit 0" "$?" 0
check "server: the report stored" \
    "$(pg_q deb "SELECT count(*) FROM tlsrpt.report
    WHERE organization_name || '|' || report_id = '$(expect "$M2")'")" 1
kill -TERM "$SPID"
wait "$SPID"
check "server: SIGTERM, exit 0" "$?" 0
SPID=
check "server: its socket removed" "$(test -e "$SOCK" && echo left)" ""
pg_cleanup
PG_DIR=

# ---- Purge.
dpkg --purge "$PKG" >"$W/purge.log" 2>&1
check "dpkg --purge: exit 0" "$?" 0
check "not installed any more" "$(installed && echo yes)" ""
left=
while IFS= read -r f; do
	# Directories the package shares with others stay (/lib may be a
	# link to one).
	[ -d "$f" ] && case $f in
	*tlsrpt*) ;;
	*) continue ;;
	esac
	[ -e "$f" ] || [ -L "$f" ] && left="$left $f"
done <"$W/files"
check "purge: no file of the package left" "$left" ""
for d in "/usr/share/$PKG" "/usr/share/doc/$PKG"; do
	check "purge: $d gone" "$(test -e "$d" && echo left)" ""
done
check "purge: no unit state left" \
    "$(find /etc/systemd /var/lib/systemd -name '*tlsrpt*' 2>/dev/null)" ""
check "purge: dpkg holds nothing of it" \
    "$(ls /var/lib/dpkg/info | grep "^$PKG[.:]")" ""
check "purge: the user tlsrpt stays (Debian keeps system users)" \
    "$(id -un tlsrpt 2>/dev/null)" tlsrpt

finish
