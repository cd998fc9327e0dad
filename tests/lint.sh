#!/bin/sh
# lint.sh - rules of the house that the compiler does not enforce:
# banned functions, each library included only by the module that wraps it,
# every setting documented in the manual page.

. "$(dirname "$0")/integration/lib.sh"
S=$top_srcdir/src

banned=$(grep -nE '\b(sprintf|vsprintf|strcpy|strcat|gets|atoi|atol)\s*\(' "$S"/*.c "$S"/*.h | grep -v '^\S*:\s*\*' || true)
check "no banned functions (sprintf, strcpy, strcat, gets, atoi)" "$banned" ""

only_in() {
	got=$(grep -lE "#include <$1" "$S"/*.c "$S"/*.h | xargs -n1 basename 2>/dev/null | sort | tr '\n' ' ')
	check "<$1> included only by $2" "$got" "$2 "
}
only_in 'gmime/' 'mime.c mime_head.c'
only_in 'jansson\.h>' 'report.c report_json.c report_load.c report_load.h'
only_in 'zlib\.h>' inflate.c
only_in 'microhttpd\.h>' http.c
# libpq: the database stage, and tlsrpt-adm, whose queries are its own.
only_in 'libpq-fe\.h>' 'adm.h db_private.h'
got=$(grep -lE '#include "db_private\.h"' "$S"/*.c "$S"/*.h | xargs -n1 basename 2>/dev/null | sort | tr '\n' ' ')
check "db_private.h included only by the database stage and tlsrpt-adm's" \
    "$got" "adm_db.c db.c db_batch.c "

missing=
for k in $("$BIN" --print-config -c /dev/null | sed 's/ =.*//'); do
	grep -q "^\.B $k\$\|^\\\\fB$k\\\\fR\|^\.IP \\\\fB$k" "$top_srcdir/man/tlsrpt-ingest.1" ||
	    missing="$missing $k"
done
check "every setting is in the manual page" "$missing" ""

exits=$(grep -c '^\.IP \([0-9][0-9]*\)' "$top_srcdir/man/tlsrpt-ingest.1")
check "the manual lists the exit codes" "$([ "$exits" -ge 6 ] && echo yes)" yes
finish
