# pg.sh - a private, throwaway PostgreSQL for the tests and the demo.
#
# initdb into a temporary directory, Unix socket only (no TCP), fsync off.
# PostgreSQL refuses to run as root, so as root the server runs as the
# "postgres" user (Debian's package creates it), which owns the directory.
# Source this file, then call pg_start; the server is stopped and removed
# on exit.  Without initdb: exit 77 (skip), except under CI=true, where
# a missing prerequisite is a failure.

pg_find_bindir() {
	if [ -n "${PG_BINDIR:-}" ] && [ -x "$PG_BINDIR/initdb" ]; then
		return 0
	fi
	for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -rV) \
	    "$(dirname "$(command -v initdb 2>/dev/null || echo /none/x)")"; do
		if [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ]; then
			PG_BINDIR=$d
			return 0
		fi
	done
	return 1
}

pg_start() {
	if ! pg_find_bindir; then
		if [ "${CI:-}" = true ]; then
			echo "FAIL: PostgreSQL server (initdb) not installed" >&2
			exit 99
		fi
		echo "SKIP: PostgreSQL server (initdb) not installed"
		exit 77
	fi
	PG_DIR=$(mktemp -d "${TMPDIR:-/tmp}/tlsrpt-pg.XXXXXX")
	chmod 755 "$PG_DIR"
	PG_AS=
	if [ "$(id -u)" = 0 ]; then
		pg_user=postgres
		id "$pg_user" >/dev/null 2>&1 || pg_user=nobody
		chown "$pg_user" "$PG_DIR"
		PG_AS="pg_as $pg_user"
	fi
	trap pg_cleanup EXIT
	if ! $PG_AS "$PG_BINDIR/initdb" -D "$PG_DIR/data" -U tlsrpt -A trust \
	    --no-sync -E UTF8 --locale=C >"$PG_DIR/initdb.log" 2>&1; then
		cat "$PG_DIR/initdb.log" >&2
		echo "FAIL: initdb" >&2
		exit 99
	fi
	pg_ctl_start
	PGHOST=$PG_DIR
	PGUSER=tlsrpt
	PGDATABASE=postgres
	export PGHOST PGUSER PGDATABASE
	unset PGPORT PGSERVICE PGPASSWORD TLSRPT_DB
}

# Run a command as the server's user, from a directory it may enter.
pg_as() {
	_u=$1
	shift
	(cd / && runuser -u "$_u" -- "$@")
}

# PG_DURABLE=1 keeps PostgreSQL's default durability (fsync, full page
# writes), for benchmarks.
pg_ctl_start() {
	_dur="-c fsync=off -c full_page_writes=off"
	[ "${PG_DURABLE:-0}" = 1 ] && _dur=
	if ! $PG_AS "$PG_BINDIR/pg_ctl" -D "$PG_DIR/data" -w -t 60 \
	    -l "$PG_DIR/server.log" -o "-k $PG_DIR -c listen_addresses= \
	    $_dur -c max_connections=60" start >/dev/null; then
		cat "$PG_DIR/server.log" >&2
		echo "FAIL: pg_ctl start" >&2
		exit 99
	fi
}

pg_ctl_stop() {
	$PG_AS "$PG_BINDIR/pg_ctl" -D "$PG_DIR/data" -m "${1:-fast}" -w \
	    stop >/dev/null
}

pg_cleanup() {
	if [ -n "${PG_DIR:-}" ] && [ -d "$PG_DIR" ]; then
		$PG_AS "$PG_BINDIR/pg_ctl" -D "$PG_DIR/data" -m immediate \
		    stop >/dev/null 2>&1
		rm -rf "$PG_DIR"
	fi
}

# Create database $1 and load the schema into it.
pg_newdb() {
	"$PG_BINDIR/createdb" "$1" &&
	"$PG_BINDIR/psql" -q -X -v ON_ERROR_STOP=1 -d "$1" \
	    -f "$top_srcdir/sql/schema.sql" >/dev/null
}

# Run a query in database $1; print unaligned rows, fields split by |.
pg_q() {
	"$PG_BINDIR/psql" -X -At -v ON_ERROR_STOP=1 -d "$1" -c "$2"
}
