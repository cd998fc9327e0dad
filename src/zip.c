/*
 * zip.c - the structure of a zip archive holding one file (what some
 * people attach by hand), read from untrusted bytes: the end of central
 * directory record, the central directory's one entry, its local header
 * and data descriptor.  Nothing is believed: every offset and length is
 * checked against the input before it is used.  The entry's data is
 * decompressed and its sizes and CRC checked by inflate.c.
 */
#include "autoconf.h"

#include <stdbool.h>
#include <string.h>

#include "zip.h"

/* zip record signatures and sizes (PKWARE APPNOTE 4.3). */
#define ZIP_LOCAL_SIG 0x04034b50UL
#define ZIP_CENTRAL_SIG 0x02014b50UL
#define ZIP_END_SIG 0x06054b50UL
#define ZIP64_LOCATOR_SIG 0x07064b50UL
#define ZIP_DESCRIPTOR_SIG 0x08074b50UL
#define ZIP_LOCAL_BYTES 30
#define ZIP_CENTRAL_BYTES 46
#define ZIP_END_BYTES 22
#define ZIP64_LOCATOR_BYTES 20
#define ZIP_COMMENT_MAX 65535
#define ZIP_FLAG_ENCRYPTED 0x0001U
#define ZIP_FLAG_DESCRIPTOR 0x0008U
#define ZIP_FLAG_STRONG_CRYPTO 0x0040U
#define ZIP64_EXTRA_ID 0x0001U

/* Little-endian readers; the caller has checked the bounds. */
static unsigned
get16(const unsigned char *p)
{
	return (unsigned)p[0] | (unsigned)p[1] << 8;
}

static unsigned long
get32(const unsigned char *p)
{
	return (unsigned long)p[0] | (unsigned long)p[1] << 8 |
	    (unsigned long)p[2] << 16 | (unsigned long)p[3] << 24;
}

/* Does an extra field (p, n) hold a zip64 record? */
static bool
zip_extra_has_zip64(const unsigned char *p, size_t n)
{
	size_t off = 0;
	size_t size;

	while (n - off >= 4) {
		size = get16(p + off + 2);
		if (get16(p + off) == ZIP64_EXTRA_ID)
			return true;
		if (size > n - off - 4)
			break;
		off += 4 + size;
	}
	return false;
}

/*
 * Find the end of central directory record: the last signature whose
 * comment length reaches exactly to the end of the input.
 */
static int
zip_find_end(const unsigned char *p, size_t len, size_t *end_r,
    struct ti_err *err)
{
	size_t lowest;
	size_t i;

	if (len < ZIP_LOCAL_BYTES + ZIP_END_BYTES)
		return ti_err_set(err, TI_KIND_DATA, "truncated zip archive");
	lowest = len - ZIP_END_BYTES > ZIP_COMMENT_MAX ?
	    len - ZIP_END_BYTES - ZIP_COMMENT_MAX : 0;
	i = len - ZIP_END_BYTES + 1;
	while (i-- > lowest) {
		if (get32(p + i) == ZIP_END_SIG &&
		    get16(p + i + 20) == len - i - ZIP_END_BYTES) {
			*end_r = i;
			return 0;
		}
	}
	return ti_err_set(err, TI_KIND_DATA,
	    "truncated zip archive (no end of central directory)");
}

/* Read the central directory: exactly one entry, at offset 0. */
static int
zip_central(const unsigned char *p, size_t len, struct zip_entry *e,
    struct ti_err *err)
{
	const unsigned char *c = NULL;
	unsigned long cd_size;
	unsigned long cd_off;
	unsigned total;
	size_t end = 0;
	size_t name_len;
	size_t extra_len;
	size_t comment_len;

	if (zip_find_end(p, len, &end, err) != 0)
		return -1;
	if (end >= ZIP64_LOCATOR_BYTES &&
	    get32(p + end - ZIP64_LOCATOR_BYTES) == ZIP64_LOCATOR_SIG)
		return ti_err_set(err, TI_KIND_DATA, "zip64 not supported");
	total = get16(p + end + 10);
	cd_size = get32(p + end + 12);
	cd_off = get32(p + end + 16);
	if (total == 0xffffU || cd_size == 0xffffffffUL ||
	    cd_off == 0xffffffffUL)
		return ti_err_set(err, TI_KIND_DATA, "zip64 not supported");
	if (get16(p + end + 4) != 0 || get16(p + end + 6) != 0 ||
	    get16(p + end + 8) != total)
		return ti_err_set(err, TI_KIND_DATA,
		    "multi-volume zip archives are not supported");
	if (total != 1)
		return ti_err_set(err, TI_KIND_DATA,
		    "zip archive holds %u entries; expected one", total);
	if (cd_off > end || cd_size > end - cd_off ||
	    cd_size < ZIP_CENTRAL_BYTES)
		return ti_err_set(err, TI_KIND_DATA,
		    "zip central directory out of bounds");
	c = p + cd_off;
	if (get32(c) != ZIP_CENTRAL_SIG)
		return ti_err_set(err, TI_KIND_DATA,
		    "zip central directory is damaged");
	name_len = get16(c + 28);
	extra_len = get16(c + 30);
	comment_len = get16(c + 32);
	if (name_len + extra_len + comment_len >
	    cd_size - ZIP_CENTRAL_BYTES)
		return ti_err_set(err, TI_KIND_DATA,
		    "zip central directory is damaged");
	/* One entry, and nothing else: no second one hides behind it. */
	if (name_len + extra_len + comment_len <
	    cd_size - ZIP_CENTRAL_BYTES)
		return ti_err_set(err, TI_KIND_DATA,
		    "zip central directory has stray bytes");
	if (zip_extra_has_zip64(c + ZIP_CENTRAL_BYTES + name_len, extra_len))
		return ti_err_set(err, TI_KIND_DATA, "zip64 not supported");
	if (get32(c + 42) != 0)
		return ti_err_set(err, TI_KIND_DATA,
		    "zip entry does not start the archive");
	e->flags = get16(c + 8);
	e->method = get16(c + 10);
	e->crc = get32(c + 16);
	e->csize = get32(c + 20);
	e->usize = get32(c + 24);
	e->data_end = cd_off;
	return 0;
}

/* Check the local header against the central directory's entry. */
static int
zip_local(const unsigned char *p, size_t len, struct zip_entry *e,
    struct ti_err *err)
{
	unsigned flags;
	size_t name_len;
	size_t extra_len;
	unsigned long csize;
	unsigned long usize;

	if (len < ZIP_LOCAL_BYTES || e->data_end < ZIP_LOCAL_BYTES)
		return ti_err_set(err, TI_KIND_DATA, "truncated zip archive");
	flags = get16(p + 6);
	csize = get32(p + 18);
	usize = get32(p + 22);
	name_len = get16(p + 26);
	extra_len = get16(p + 28);
	if (name_len + extra_len > e->data_end - ZIP_LOCAL_BYTES)
		return ti_err_set(err, TI_KIND_DATA,
		    "zip local header out of bounds");
	if (csize == 0xffffffffUL || usize == 0xffffffffUL ||
	    zip_extra_has_zip64(p + ZIP_LOCAL_BYTES + name_len, extra_len))
		return ti_err_set(err, TI_KIND_DATA, "zip64 not supported");
	if ((flags | e->flags) &
	    (ZIP_FLAG_ENCRYPTED | ZIP_FLAG_STRONG_CRYPTO))
		return ti_err_set(err, TI_KIND_DATA,
		    "encrypted zip entries are not supported");
	if (get16(p + 8) != e->method ||
	    ((flags ^ e->flags) & ZIP_FLAG_DESCRIPTOR) != 0)
		return ti_err_set(err, TI_KIND_DATA,
		    "zip local header disagrees with the central directory");
	/*
	 * Without a data descriptor the local sizes must match the
	 * central ones; with one they are zero and the central directory
	 * (which the writer fills in afterwards) is the only record.
	 */
	if (!(flags & ZIP_FLAG_DESCRIPTOR) &&
	    (csize != e->csize || usize != e->usize ||
	    get32(p + 14) != e->crc))
		return ti_err_set(err, TI_KIND_DATA,
		    "zip local header disagrees with the central directory");
	e->data_off = ZIP_LOCAL_BYTES + name_len + extra_len;
	if (e->csize > e->data_end - e->data_off)
		return ti_err_set(err, TI_KIND_DATA,
		    "zip entry runs past its archive");
	return 0;
}

/*
 * What lies between the entry's data and the central directory: nothing,
 * or (flag bit 3) exactly one data descriptor repeating the central
 * directory's CRC and sizes, with or without its signature.
 */
static int
zip_descriptor(const unsigned char *p, const struct zip_entry *e,
    struct ti_err *err)
{
	const unsigned char *d = p + e->data_off + e->csize;
	size_t gap = e->data_end - e->data_off - e->csize;

	if (!(e->flags & ZIP_FLAG_DESCRIPTOR)) {
		if (gap != 0)
			return ti_err_set(err, TI_KIND_DATA,
			    "%zu stray bytes after the zip entry", gap);
		return 0;
	}
	if (gap == 16 && get32(d) == ZIP_DESCRIPTOR_SIG) {
		d += 4;
		gap -= 4;
	}
	if (gap != 12 || get32(d) != e->crc || get32(d + 4) != e->csize ||
	    get32(d + 8) != e->usize)
		return ti_err_set(err, TI_KIND_DATA,
		    "zip data descriptor disagrees with the central "
		    "directory");
	return 0;
}

int
zip_entry_find(const unsigned char *p, size_t len, struct zip_entry *e,
    struct ti_err *err)
{
	memset(e, 0, sizeof(*e));
	if (zip_central(p, len, e, err) != 0 ||
	    zip_local(p, len, e, err) != 0 ||
	    zip_descriptor(p, e, err) != 0)
		return -1;
	return 0;
}
