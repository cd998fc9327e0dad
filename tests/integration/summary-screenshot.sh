#!/bin/sh
# summary-screenshot.sh - make summary-screenshot: docs/summary.png, the
# HTML of tlsrpt-adm summary on the history of summary-history.sql,
# rendered by headless Chromium at a desktop's width.

. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pg.sh"

OUT=${1:-$top_srcdir/docs/summary.png}
CHROMIUM=$(command -v chromium || command -v chromium-browser) || {
	echo "summary-screenshot: chromium is needed (apt-get install chromium)" >&2
	exit 1
}
pg_start
W=$(mktemp -d "${TMPDIR:-/tmp}/tlsrpt-shot.XXXXXX") || exit 1
trap 'pg_cleanup; rm -rf "$W"' EXIT
pg_newdb shot || exit 1
"$PG_BINDIR/psql" -q -X -v ON_ERROR_STOP=1 -d shot \
    -f "$top_srcdir/tests/integration/summary-history.sql" >/dev/null ||
    exit 1
"$ADM" -d dbname=shot summary --format html >"$W/summary.html" || exit 1
mkdir -p "$(dirname "$OUT")"
timeout 120 "$CHROMIUM" --headless=new --no-sandbox --disable-gpu \
    --hide-scrollbars --user-data-dir="$W/chromium" \
    --screenshot="$W/summary.png" --window-size=1280,1100 \
    "file://$W/summary.html" >"$W/chromium.log" 2>&1 || {
	cat "$W/chromium.log" >&2
	exit 1
}
mv "$W/summary.png" "$OUT" && echo "summary-screenshot: $OUT"
