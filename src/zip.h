/*
 * zip.h - the one entry of a zip archive (PKWARE APPNOTE 4.3), as its
 * headers describe it, for inflate.c to decompress.
 */
#ifndef TI_ZIP_H
#define TI_ZIP_H

#include <stddef.h>

#include "status.h"

#define ZIP_METHOD_STORED 0
#define ZIP_METHOD_DEFLATE 8

/* The one entry of a zip archive, as its headers describe it. */
struct zip_entry {
	unsigned flags;
	unsigned method;
	unsigned long crc;
	size_t csize;
	size_t usize;
	size_t data_off;	/* where the entry's bytes start */
	size_t data_end;	/* the central directory's start */
};

/*
 * Read the archive p (len bytes) into *e: exactly one file, neither
 * encrypted nor zip64, its local header agreeing with the central
 * directory, nothing between its data and the central directory but the
 * data descriptor its flags announce (which must agree too).  Every
 * offset and length is checked against len.  Returns 0, or -1 with DATA
 * naming what is wrong.
 */
int zip_entry_find(const unsigned char *p, size_t len, struct zip_entry *e,
    struct ti_err *err) TI_MUST_CHECK;

#endif
