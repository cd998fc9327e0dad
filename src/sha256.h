#ifndef TI_SHA256_H
#define TI_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define SHA256_BYTES 32

/* The SHA-256 digest of the n bytes at data. */
void sha256(const void *data, size_t n, unsigned char out[SHA256_BYTES]);

#endif
