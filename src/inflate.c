/*
 * inflate.c - stage 3: turn the report part's bytes into JSON text.
 *
 * Input: the decoded report part (or a bare file), fully untrusted.  It
 * may be gzip (one or more members, RFC 1952), a zip archive holding one
 * file (what some people attach by hand), or plain text.  Nothing about
 * it is believed: zip.c reads an archive's headers, checking every
 * offset and length against the input, and the sizes and CRC they
 * declare are checked here against what actually came out.  Since it knows the formats, it also
 * decides for the other stages whether bytes (or a file name) look like
 * a report at all: inflate_is_report().
 *
 * Limits: the output never grows past max_out bytes.  Decompression
 * streams through a small chunk and stops at the first byte past the
 * limit, so a bomb costs at most max_out bytes of memory and the time to
 * produce them.  gzip requires the end of every member (Z_STREAM_END) and
 * refuses any byte after the last one.  Only this file includes zlib.
 */
#include "autoconf.h"

#include <stdbool.h>
#include <string.h>
#include <strings.h>

#define ZLIB_CONST
#include <zlib.h>

#include "ascii.h"
#include "inflate.h"
#include "zip.h"
#include "utf8.h"

/* Output is produced through a chunk this big before it is appended. */
#define INFLATE_CHUNK_BYTES 16384
/* At most this much input is handed to zlib at once (avail_in is uInt). */
#define INFLATE_FEED_BYTES ((size_t)1 << 30)

/* What one compressed stream is called in messages. */
enum inflate_kind {
	KIND_GZIP,
	KIND_ZIP,
};

enum inflate_format
inflate_sniff(const struct ti_bytes *in)
{
	if (in == NULL || in->data == NULL)
		return INFLATE_PLAIN;
	if (in->len >= 2 && in->data[0] == 0x1f && in->data[1] == 0x8b)
		return INFLATE_GZIP;
	if (in->len >= 4 && memcmp(in->data, "PK\x03\x04", 4) == 0)
		return INFLATE_ZIP;
	return INFLATE_PLAIN;
}

/* .json.gz and .json.zip end in .gz and .zip. */
static const char *const inflate_report_suffixes[] = {
	".json",
	".gz",
	".zip",
};

static bool
inflate_name_is_report(const char *name)
{
	size_t n;
	size_t k;
	size_t i;

	if (name == NULL)
		return false;
	n = strlen(name);
	while (n > 0 && ascii_is_space(name[n - 1]))
		n--;
	for (i = 0; i < sizeof(inflate_report_suffixes) /
	    sizeof(inflate_report_suffixes[0]); i++) {
		k = strlen(inflate_report_suffixes[i]);
		if (n >= k && strncasecmp(name + n - k,
		    inflate_report_suffixes[i], k) == 0)
			return true;
	}
	return false;
}

bool
inflate_is_report(const struct ti_bytes *in, const char *const *names,
    size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (inflate_name_is_report(names[i]))
			return true;
	}
	if (in == NULL || in->data == NULL)
		return false;
	if (inflate_sniff(in) != INFLATE_PLAIN)
		return true;
	i = utf8_bom_len(in->data, in->len);
	while (i < in->len && ascii_is_space((char)in->data[i]))
		i++;
	return i < in->len && in->data[i] == '{';
}

static int
inflate_too_big(const struct buf *out, struct ti_err *err)
{
	return ti_err_set(err, TI_KIND_DATA,
	    "decompressed report exceeds %zu bytes", buf_max(out));
}

/* Append n bytes, or fail with the size error once past the limit. */
static int
inflate_put(struct buf *out, const unsigned char *p, size_t n,
    struct ti_err *err)
{
	int rc;

	if (n > buf_max(out) - buf_len(out))
		return inflate_too_big(out, err);
	rc = buf_append(out, p, n, err);
	return rc;
}

static const char *
inflate_name(enum inflate_kind kind)
{
	return kind == KIND_GZIP ? "gzip stream" : "zip entry";
}

/*
 * Inflate p[0..len) into out.  GZIP: one or more gzip members that must
 * fill the input exactly.  ZIP: one raw deflate stream; *used_r says how
 * many input bytes it took (the caller checks that against the header).
 */
/*
 * One z_stream per kind, set up on first use and reset for each report:
 * setting one up allocates and clears its 32 KiB window, which costs
 * more than inflating a typical report.
 */
static z_stream inflate_zs[2];
static bool inflate_zs_live[2];

/* The stream for kind, reset and ready; -1 with TEMP or INTERNAL. */
static int
inflate_zs_get(enum inflate_kind kind, z_stream **zs_r, struct ti_err *err)
{
	size_t i = kind == KIND_GZIP ? 0 : 1;
	z_stream *zs = &inflate_zs[i];
	int zrc;

	*zs_r = NULL;
	if (inflate_zs_live[i]) {
		zrc = inflateReset(zs);
	} else {
		memset(zs, 0, sizeof(*zs));
		zrc = inflateInit2(zs, kind == KIND_GZIP ? 15 + 16 : -15);
		inflate_zs_live[i] = zrc == Z_OK;
	}
	if (zrc == Z_MEM_ERROR)
		return ti_err_set(err, TI_KIND_TEMP, "out of memory");
	if (zrc != Z_OK)
		return ti_err_set(err, TI_KIND_INTERNAL, "inflateInit2: %s",
		    zs->msg != NULL ? zs->msg : "failed");
	*zs_r = zs;
	return 0;
}

void
inflate_shutdown(void)
{
	size_t i;

	for (i = 0; i < 2; i++) {
		if (inflate_zs_live[i])
			(void)inflateEnd(&inflate_zs[i]);
		inflate_zs_live[i] = false;
	}
}

/*
 * A gzip member ended at off: 0 when the input ends there too, 1 when
 * another member follows (zs reset for it), -1 with err for anything
 * else after it.
 */
static int
inflate_next_member(z_stream *zs, const unsigned char *p, size_t len,
    size_t off, struct ti_err *err)
{
	if (off == len)
		return 0;
	if (len - off == 1 && p[off] == 0x1f)
		/* Cut inside the next member's magic. */
		return ti_err_set(err, TI_KIND_DATA, "truncated gzip stream");
	if (len - off < 2 || p[off] != 0x1f || p[off + 1] != 0x8b)
		return ti_err_set(err, TI_KIND_DATA,
		    "trailing garbage after gzip stream");
	if (inflateReset(zs) != Z_OK)
		return ti_err_set(err, TI_KIND_INTERNAL, "inflateReset failed");
	return 1;
}

static int
inflate_stream(const unsigned char *p, size_t len, enum inflate_kind kind,
    struct buf *out, size_t *used_r, struct ti_err *err)
{
	unsigned char chunk[INFLATE_CHUNK_BYTES];
	z_stream *zs = NULL;
	size_t fed = 0;
	size_t produced;
	size_t off;
	size_t feed;
	int zrc;
	int rc = -1;

	if (inflate_zs_get(kind, &zs, err) != 0)
		return -1;
	for (;;) {
		if (zs->avail_in == 0 && fed < len) {
			feed = len - fed;
			if (feed > INFLATE_FEED_BYTES)
				feed = INFLATE_FEED_BYTES;
			zs->next_in = p + fed;
			zs->avail_in = (uInt)feed;
			fed += feed;
		}
		zs->next_out = chunk;
		zs->avail_out = sizeof(chunk);
		zrc = inflate(zs, Z_NO_FLUSH);
		produced = sizeof(chunk) - zs->avail_out;
		if (produced > 0 && inflate_put(out, chunk, produced, err) != 0)
			goto out;
		if (zrc == Z_OK)
			continue;
		if (zrc == Z_STREAM_END) {
			off = (size_t)(zs->next_in - p);
			if (kind == KIND_ZIP) {
				*used_r = off;
				break;
			}
			if ((zrc = inflate_next_member(zs, p, len, off,
			    err)) < 0)
				goto out;
			if (zrc == 0)
				break;
			continue;
		}
		if (zrc == Z_BUF_ERROR && zs->avail_in == 0 && fed == len) {
			ti_err_set(err, TI_KIND_DATA, "truncated %s",
			    inflate_name(kind));
			goto out;
		}
		if (zrc == Z_DATA_ERROR || zrc == Z_NEED_DICT) {
			ti_err_set(err, TI_KIND_DATA, "corrupt %s: %s",
			    inflate_name(kind), zrc == Z_NEED_DICT ?
			    "needs a preset dictionary" :
			    zs->msg != NULL ? zs->msg : "invalid data");
			goto out;
		}
		if (zrc == Z_MEM_ERROR) {
			ti_err_set(err, TI_KIND_TEMP, "out of memory");
			goto out;
		}
		ti_err_set(err, TI_KIND_INTERNAL, "inflate returned %d", zrc);
		goto out;
	}
	rc = 0;
out:
	/* Nothing of this report stays pointed to. */
	zs->next_in = NULL;
	zs->avail_in = 0;
	return rc;
}

/* CRC-32 of the output, fed to zlib in pieces that fit a uInt. */
static unsigned long
zip_crc(const unsigned char *p, size_t len)
{
	unsigned long crc = crc32(0L, Z_NULL, 0);
	size_t n;

	while (len > 0) {
		n = len > INFLATE_FEED_BYTES ? INFLATE_FEED_BYTES : len;
		crc = crc32(crc, p, (uInt)n);
		p += n;
		len -= n;
	}
	return crc;
}

static int
inflate_zip(const unsigned char *p, size_t len, struct buf *out,
    struct ti_err *err)
{
	struct zip_entry e;
	unsigned long crc;
	size_t used = 0;

	if (zip_entry_find(p, len, &e, err) != 0)
		return -1;
	if (e.method == ZIP_METHOD_STORED) {
		if (inflate_put(out, p + e.data_off, e.csize, err) != 0)
			return -1;
	} else if (e.method == ZIP_METHOD_DEFLATE) {
		/*
		 * The deflate stream ends itself; it must end within the
		 * declared compressed size, and use all of it.
		 */
		if (inflate_stream(p + e.data_off, e.csize, KIND_ZIP, out,
		    &used, err) != 0)
			return -1;
		if (used != e.csize)
			return ti_err_set(err, TI_KIND_DATA,
			    "zip entry is %zu bytes, not the %zu declared",
			    used, e.csize);
	} else {
		return ti_err_set(err, TI_KIND_DATA,
		    "zip compression method %u not supported", e.method);
	}
	if (buf_len(out) != e.usize)
		return ti_err_set(err, TI_KIND_DATA,
		    "zip entry inflates to %zu bytes, not the %zu declared",
		    buf_len(out), e.usize);
	crc = zip_crc(buf_bytes(out).data, buf_len(out));
	if (crc != e.crc)
		return ti_err_set(err, TI_KIND_DATA, "zip entry CRC mismatch");
	return 0;
}

int
inflate_report(const struct ti_bytes *in, size_t max_out,
    struct buf **out_r, enum inflate_format *format_r, struct ti_err *err)
{
	struct buf *out = NULL;
	enum inflate_format fmt;
	const unsigned char *p = NULL;
	size_t len;
	size_t used = 0;
	int rc = -1;

	*out_r = NULL;
	fmt = inflate_sniff(in);
	if (format_r != NULL)
		*format_r = fmt;
	p = in != NULL ? in->data : NULL;
	len = p != NULL ? in->len : 0;
	out = buf_new(max_out, err);
	if (out == NULL)
		goto out;
	switch (fmt) {
	case INFLATE_GZIP:
		if (inflate_stream(p, len, KIND_GZIP, out, &used, err) != 0)
			goto out;
		break;
	case INFLATE_ZIP:
		if (inflate_zip(p, len, out, err) != 0)
			goto out;
		break;
	case INFLATE_PLAIN:
	default:
		if (inflate_put(out, p, len, err) != 0)
			goto out;
		break;
	}
	/* Even empty output gets its buffer and terminating NUL. */
	if (buf_append(out, "", 0, err) != 0)
		goto out;
	*out_r = out;
	out = NULL;
	rc = 0;
out:
	buf_free(&out);
	return rc;
}
