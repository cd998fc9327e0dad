/*
 * digest.c - SHA-256, by GLib's GChecksum.  Input is opaque bytes.
 */
#include "autoconf.h"

#include <glib.h>
#include <string.h>

#include "digest.h"

void
digest_sha256_hex(const void *data, size_t len, char *hex)
{
	GChecksum *ck = NULL;
	const gchar *s = NULL;

	ck = g_checksum_new(G_CHECKSUM_SHA256);
	/* g_checksum_update takes gssize: feed huge inputs in pieces. */
	while (len > 0) {
		size_t n = len > (size_t)G_MAXSSIZE ? (size_t)G_MAXSSIZE : len;

		g_checksum_update(ck, data, (gssize)n);
		data = (const unsigned char *)data + n;
		len -= n;
	}
	s = g_checksum_get_string(ck);
	memcpy(hex, s, DIGEST_SHA256_HEX_BYTES - 1);
	hex[DIGEST_SHA256_HEX_BYTES - 1] = '\0';
	g_checksum_free(ck);
}
