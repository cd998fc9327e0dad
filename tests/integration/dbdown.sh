#!/bin/sh
# dbdown.sh - the database is down or goes away: the program exits 75
# (EX_TEMPFAIL, so the mail system keeps the message queued), prints one
# line, writes nothing; once the database is back the same message is
# stored exactly once.

. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pg.sh"

C=$TI_TEST_DATA/corpus
msg=$C/mjl-__mox/example.eml
pg_start
pg_newdb d || exit 99

# No server at all behind the socket directory.
pipe_bin "$msg" -d "host=/nonexistent-socket-dir dbname=d connect_timeout=2"
check "no server: exit 75" "$RC" 75
check "no server: one line" "$(printf '%s\n' "$ERR" | wc -l | tr -d ' ')" 1
check_match "no server: says so" "$ERR" 'database unavailable'

# A conninfo holding a password: never echoed.
pipe_bin "$msg" -d "host=/nonexistent-socket-dir password=s3cr3t-pw dbname=d"
check "password: exit 75" "$RC" 75
check "password: not in the output" "$(printf '%s' "$ERR" | grep -c s3cr3t-pw)" 0
pipe_bin "$msg" -d "host=/x password=s3cr3t-pw dbname"
check "bad conninfo: exit 75" "$RC" 75
check "bad conninfo: password not in the output" "$(printf '%s' "$ERR" | grep -c s3cr3t-pw)" 0

# The server stopped.
pg_ctl_stop fast
pipe_bin "$msg" -d dbname=d
check "server stopped: exit 75" "$RC" 75
run_bin -d dbname=d "$msg" "$C/mjl-__mox/microsoft.eml"
check "server stopped, files: exit 75" "$RC" 75
check_match "server stopped, files: stops at once" "$ERR" 'stopping: 1 file\(s\) not processed'
pg_ctl_start
check "server back: nothing was written" "$(pg_q d "SELECT count(*) FROM tlsrpt.report")" 0
pipe_bin "$msg" -d dbname=d
check "server back: exit 0" "$RC" 0
check "server back: stored once" "$(pg_q d "SELECT count(*) FROM tlsrpt.report")" 1

# Schema missing: a configuration problem, not the message's fault.
"$PG_BINDIR/createdb" empty
pipe_bin "$msg" -d dbname=empty
check "no schema: exit 75" "$RC" 75
check_match "no schema: says to load it" "$ERR" 'schema'

# A database that refuses writes (read-only transactions).
pg_q d "ALTER DATABASE d SET default_transaction_read_only = on" >/dev/null
pipe_bin "$C/mjl-__mox/microsoft.eml" -d dbname=d
check "read-only database: exit 75" "$RC" 75
check "read-only database: nothing written" "$(PGOPTIONS='-c default_transaction_read_only=off' pg_q d "SELECT count(*) FROM tlsrpt.report")" 1

finish
