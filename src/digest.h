/*
 * digest.h - SHA-256 of report and message bytes (through GLib, which
 * GMime already brings in).
 */
#ifndef TI_DIGEST_H
#define TI_DIGEST_H

#include <stddef.h>

#define DIGEST_SHA256_BYTES 32
#define DIGEST_SHA256_HEX_BYTES 65

/* Hex digest of data into hex (DIGEST_SHA256_HEX_BYTES, NUL-terminated). */
void digest_sha256_hex(const void *data, size_t len, char *hex);

#endif
