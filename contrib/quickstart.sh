#!/bin/sh
# quickstart.sh - from a fresh clone on Debian 12 (as root, or with sudo):
#   sh contrib/quickstart.sh demo    build, then ingest the bundled sample
#                                    reports into a private PostgreSQL it
#                                    starts itself, and print a summary
#   sh contrib/quickstart.sh check   build, then run the whole test suite
# It installs what is missing with apt-get, and builds in the source tree.
set -eu

cd "$(dirname "$0")/.."
what=${1:-demo}

PACKAGES="autoconf automake make gcc pkg-config libgmime-3.0-dev \
libjansson-dev zlib1g-dev libpq-dev libmicrohttpd-dev libcmocka-dev \
postgresql procmail postgresql-client time"
# The test suite also runs the real parts around the programs: promtool
# and a node exporter (metrics), headless Chromium (the summary's HTML),
# Dovecot, mbsync and getmail (a remote mailbox), nginx (reports by
# HTTPS), systemd's unit checker, and python3 to read mail and PNG files
# back.
[ "$what" = check ] &&
    PACKAGES="$PACKAGES prometheus prometheus-node-exporter curl systemd \
python3 chromium fonts-dejavu-core dovecot-imapd isync getmail6 openssl \
nginx"

need=
for p in $PACKAGES; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
	    need="$need $p"
done
if [ -n "$need" ]; then
	SUDO=
	[ "$(id -u)" = 0 ] || SUDO=sudo
	echo "== Installing:$need"
	$SUDO apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq \
	    --no-install-recommends $need >/dev/null
fi

if [ ! -x configure ] || [ configure.ac -nt configure ] ||
    [ Makefile.am -nt Makefile.in ]; then
	autoreconf -fi
fi
if [ ! -f Makefile ] || [ configure -nt config.status ]; then
	./configure --enable-tests=yes ${CONFIGURE_FLAGS:-}
fi
make -j"$(nproc)" >/dev/null

case $what in
demo)	make demo ;;
check)	make -j"$(nproc)" check || { cat test-suite.log; exit 1; } ;;
*)	echo "usage: $0 demo|check" >&2; exit 64 ;;
esac
