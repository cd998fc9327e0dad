/*
 * test_inflate.c - stage 3: gzip, zip and plain report bytes to JSON text.
 *
 * Table-driven: the corpus' gzip files, the fixtures tests/data/gzip-*.gz
 * and zip-*.zip (see FIXTURES-inflate.txt), inline inputs, zip headers
 * patched field by field, every truncation of a fixture and every single
 * byte flipped.  The output limit is tried at N and N+1 for each format.
 * Bombs (1 GiB of zeros in about 1 MiB) are built here at run time with
 * zlib, which this test uses only to make inputs.
 */
#include "autoconf.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#define ZLIB_CONST
#include <zlib.h>

#include "buf.h"
#include "inflate.h"
#include "ti_limits.h"
#include "status.h"
#include "testutil.h"


/* What the fixtures hold (gzip-fname.gz, zip-*.zip ...): 61 bytes. */
#define FIXTURE_JSON \
	"{\"organization-name\":\"Example Inc.\",\"report-id\":\"fixture-1\"}\n"
#define FIXTURE_LEN (sizeof(FIXTURE_JSON) - 1)
/* gzip-multi-member.gz: two members, 36 + 25 bytes. */
#define MEMBER1_JSON "{\"organization-name\":\"Example Inc.\","
#define MEMBER2_JSON "\"report-id\":\"fixture-2\"}\n"

#define YNKDK "corpus/YnkDK__tls_reporting/"
#define MAILWEAVE_GOOGLE "corpus/aldy505__mailweave/" \
	"google.com_example.com_1747094400_1747180799_001.json"
#define NEZTORE_GZ \
	"shared:Neztore__tls-rpt-monitor/microsoft-report.json.gz"

/* Bombs: 1 GiB of zeros (gzip) and 256 MiB (zip), built once. */
#define BOMB_BYTES ((size_t)1 << 30)
#define ZIP_BOMB_BYTES ((size_t)256 << 20)
/* Where a bomb can be made invalid: after 128 MiB of output. */
#define POISON_AFTER ((size_t)128 << 20)

struct inflate_case {
	const char *name;
	const char *file;	/* under tests/data, or absolute */
	const char *input;	/* inline input, when file is NULL */
	size_t input_len;
	bool optional;		/* skip when the file is absent */
	size_t max_out;		/* 0: TI_DEFAULT_INFLATED_BYTES */
	enum inflate_format want_format;
	enum ti_kind want_kind;	/* TI_KIND_NONE: must succeed */
	const char *want_msg;	/* the exact message, on failure */
	const char *want_file;	/* exact output, from a file ... */
	size_t want_chop;	/* ... less this many trailing bytes */
	const char *want;	/* ... or these bytes */
	size_t want_len;	/* output length; 0 with want NULL: any */
};

/* Per-test state, released by the teardown even when a check fails. */
struct state {
	struct buf *input;
	struct buf *want;
	struct buf *out;
	struct ti_err err;
	const void *tcase;
};

/* The bombs, shared by several tests (built in the group setup). */
static struct buf *gzip_bomb;
static struct buf *zip_bomb;
static size_t gzip_mark;	/* where the output passes POISON_AFTER */
static size_t zip_mark;

static int
setup(void **ts)
{
	struct state *st = NULL;
	const void *tcase = *ts;

	st = calloc(1, sizeof(*st));
	if (st == NULL)
		return -1;
	st->tcase = tcase;
	ti_err_clear(&st->err);
	*ts = st;
	return 0;
}

static int
teardown(void **ts)
{
	struct state *st = *ts;

	buf_free(&st->out);
	buf_free(&st->want);
	buf_free(&st->input);
	free(st);
	return 0;
}

static struct buf *
bytes_buf(const void *p, size_t n)
{
	struct buf *b = NULL;
	struct ti_err err;

	b = buf_new(SIZE_MAX / 2, &err);
	assert_non_null(b);
	assert_int_equal(buf_append(b, p, n, &err), 0);
	return b;
}

static struct buf *
read_case_file(const char *file)
{
	return file[0] == '/' ? test_read_file(file) : test_read_data(file);
}

static bool
case_file_absent(const char *file)
{
	return test_file_absent(file);
}

static void
assert_bytes(const char *what, const struct buf *got, const void *want,
    size_t want_len)
{
	size_t i;

	if (buf_len(got) != want_len)
		fail_msg("%s: got %zu bytes, want %zu", what, buf_len(got),
		    want_len);
	for (i = 0; i < want_len; i++) {
		if (buf_bytes(got).data[i] != ((const unsigned char *)want)[i])
			fail_msg("%s: byte %zu: got 0x%02x, want 0x%02x", what,
			    i, buf_bytes(got).data[i], ((const unsigned char *)want)[i]);
	}
	assert_non_null(buf_bytes(got).data);
	assert_int_equal(buf_bytes(got).data[buf_len(got)], '\0');
}

static void
assert_err(const struct ti_err *err, enum ti_kind kind, const char *msg)
{
	if (err->kind != kind)
		fail_msg("kind: got %s (\"%s\"), want %s",
		    ti_kind_name(err->kind), err->msg, ti_kind_name(kind));
	if (msg != NULL && strcmp(err->msg, msg) != 0)
		fail_msg("message:\n got \"%s\"\nwant \"%s\"", err->msg, msg);
}

/* Run inflate_report and check the outcome against a case. */
static void
check_case(struct state *st, const struct inflate_case *c)
{
	struct ti_bytes in = buf_bytes(st->input);
	enum inflate_format fmt = (enum inflate_format)-1;
	size_t max = c->max_out != 0 ? c->max_out : TI_DEFAULT_INFLATED_BYTES;
	int rc;

	rc = inflate_report(&in, max, &st->out, &fmt, &st->err);
	assert_int_equal(fmt, c->want_format);
	if (c->want_kind != TI_KIND_NONE) {
		if (rc == 0)
			fail_msg("succeeded (%zu bytes); want %s \"%s\"",
			    buf_len(st->out), ti_kind_name(c->want_kind),
			    c->want_msg);
		assert_int_equal(rc, -1);
		assert_null(st->out);
		assert_err(&st->err, c->want_kind, c->want_msg);
		return;
	}
	if (rc != 0)
		fail_msg("failed: %s: %s", ti_kind_name(st->err.kind),
		    st->err.msg);
	assert_non_null(st->out);
	assert_true(buf_len(st->out) <= max);
	if (c->want_file != NULL) {
		st->want = read_case_file(c->want_file);
		assert_true(buf_len(st->want) >= c->want_chop);
		assert_bytes("output", st->out, buf_data(st->want),
		    buf_len(st->want) - c->want_chop);
	} else if (c->want != NULL) {
		assert_bytes("output", st->out, c->want, c->want_len);
	} else if (c->want_len != 0) {
		assert_int_equal(buf_len(st->out), c->want_len);
	}
}

static void
test_case(void **ts)
{
	struct state *st = *ts;
	const struct inflate_case *c = st->tcase;

	if (c->file != NULL) {
		if (c->optional && case_file_absent(c->file))
			skip();
		st->input = read_case_file(c->file);
	} else {
		st->input = bytes_buf(c->input, c->input_len);
	}
	check_case(st, c);
}

#define INLINE(s) NULL, s, sizeof(s) - 1
#define OK_FILE(f, chop) TI_KIND_NONE, NULL, f, chop, NULL, 0
#define OK_BYTES(s) TI_KIND_NONE, NULL, NULL, 0, s, sizeof(s) - 1
#define ERR(kind, msg) kind, msg, NULL, 0, NULL, 0
#define DATA(msg) ERR(TI_KIND_DATA, msg)

static const struct inflate_case cases[] = {
	/* The corpus. */
	{ "YnkDK example.gz is example.json (less its final newline)",
	    YNKDK "example.gz", NULL, 0, false, 0, INFLATE_GZIP,
	    OK_FILE(YNKDK "example.json", 1) },
	{ "YnkDK truncated.gz", YNKDK "truncated.gz", NULL, 0, false, 0,
	    INFLATE_GZIP, DATA("truncated gzip stream") },
	{ "mailweave google .json.gz is its .json",
	    MAILWEAVE_GOOGLE ".gz", NULL, 0, false, 0, INFLATE_GZIP,
	    OK_FILE(MAILWEAVE_GOOGLE, 0) },
	{ "Neztore microsoft .json.gz (shared corpus)", NEZTORE_GZ, NULL, 0,
	    true, 0, INFLATE_GZIP, TI_KIND_NONE, NULL, NULL, 0, NULL, 501 },
	{ "YnkDK example.json passes through", YNKDK "example.json", NULL,
	    0, false, 0, INFLATE_PLAIN, OK_FILE(YNKDK "example.json", 0) },
	{ "danmarg sample.json (leading space) passes through",
	    "corpus/danmarg__tlsrpt_processor/sample.json", NULL, 0, false, 0,
	    INFLATE_PLAIN,
	    OK_FILE("corpus/danmarg__tlsrpt_processor/sample.json", 0) },
	{ "cry-inc no-contact.json (CRLF) passes through",
	    "corpus/cry-inc__dmarc-report-viewer/no-contact.json", NULL, 0,
	    false, 0, INFLATE_PLAIN,
	    OK_FILE("corpus/cry-inc__dmarc-report-viewer/no-contact.json",
	    0) },

	/* gzip fixtures. */
	{ "gzip with FNAME", "gzip-fname.gz", NULL, 0, false, 0,
	    INFLATE_GZIP, OK_BYTES(FIXTURE_JSON) },
	{ "gzip multi-member is the members' concatenation",
	    "gzip-multi-member.gz", NULL, 0, false, 0, INFLATE_GZIP,
	    OK_BYTES(MEMBER1_JSON MEMBER2_JSON) },
	{ "gzip of nothing", "gzip-empty.gz", NULL, 0, false, 0,
	    INFLATE_GZIP, OK_BYTES("") },
	{ "gzip with trailing garbage", "gzip-trailing-garbage.gz", NULL, 0,
	    false, 0, INFLATE_GZIP,
	    DATA("trailing garbage after gzip stream") },
	{ "gzip with trailing NUL padding", "gzip-trailing-nul.gz", NULL, 0,
	    false, 0, INFLATE_GZIP,
	    DATA("trailing garbage after gzip stream") },
	{ "gzip with a flipped deflate byte", "gzip-corrupt.gz", NULL, 0,
	    false, 0, INFLATE_GZIP,
	    DATA("corrupt gzip stream: invalid code lengths set") },
	{ "gzip with a wrong CRC", "gzip-bad-crc.gz", NULL, 0, false, 0,
	    INFLATE_GZIP, DATA("corrupt gzip stream: incorrect data check") },

	/* Inline gzip. */
	{ "gzip magic alone", INLINE("\x1f\x8b"), false, 0, INFLATE_GZIP,
	    DATA("truncated gzip stream") },
	{ "gzip header alone", INLINE("\x1f\x8b\x08\0\0\0\0\0\0\x03"), false,
	    0, INFLATE_GZIP, DATA("truncated gzip stream") },
	{ "gzip unknown method", INLINE("\x1f\x8b\x07\0\0\0\0\0\0\x03\x03\0"
	    "\0\0\0\0\0\0\0\0"), false, 0, INFLATE_GZIP,
	    DATA("corrupt gzip stream: unknown compression method") },
	{ "gzip of nothing, inline", INLINE("\x1f\x8b\x08\0\0\0\0\0\0\x03"
	    "\x03\0\0\0\0\0\0\0\0\0"), false, 0, INFLATE_GZIP, OK_BYTES("") },
	{ "gzip then one byte of magic", INLINE("\x1f\x8b\x08\0\0\0\0\0\0"
	    "\x03\x03\0\0\0\0\0\0\0\0\0\x1f"), false, 0, INFLATE_GZIP,
	    DATA("truncated gzip stream") },
	{ "gzip then one byte of garbage", INLINE("\x1f\x8b\x08\0\0\0\0\0"
	    "\0\x03\x03\0\0\0\0\0\0\0\0\0\x8b"), false, 0,
	    INFLATE_GZIP, DATA("trailing garbage after gzip stream") },
	{ "gzip then a second member cut after its magic",
	    INLINE("\x1f\x8b\x08\0\0\0\0\0\0\x03\x03\0\0\0\0\0\0\0\0\0"
	    "\x1f\x8b"), false, 0, INFLATE_GZIP,
	    DATA("truncated gzip stream") },
	{ "gzip then a zlib stream", INLINE("\x1f\x8b\x08\0\0\0\0\0\0\x03"
	    "\x03\0\0\0\0\0\0\0\0\0\x78\x9c\x03\0\0\0\0\x01"), false, 0,
	    INFLATE_GZIP, DATA("trailing garbage after gzip stream") },

	/* zip fixtures. */
	{ "zip, one deflated entry", "zip-deflate.zip", NULL, 0, false, 0,
	    INFLATE_ZIP, OK_BYTES(FIXTURE_JSON) },
	{ "zip, one stored entry", "zip-stored.zip", NULL, 0, false, 0,
	    INFLATE_ZIP, OK_BYTES(FIXTURE_JSON) },
	{ "zip with a data descriptor", "zip-data-descriptor.zip", NULL, 0,
	    false, 0, INFLATE_ZIP, OK_BYTES(FIXTURE_JSON) },
	{ "zip with two entries", "zip-two-entries.zip", NULL, 0, false, 0,
	    INFLATE_ZIP, DATA("zip archive holds 2 entries; expected one") },
	{ "zip cut in half", "zip-truncated.zip", NULL, 0, false, 0,
	    INFLATE_ZIP,
	    DATA("truncated zip archive (no end of central directory)") },
	{ "zip64", "zip-zip64.zip", NULL, 0, false, 0, INFLATE_ZIP,
	    DATA("zip64 not supported") },
	{ "zip, encrypted entry", "zip-encrypted.zip", NULL, 0, false, 0,
	    INFLATE_ZIP, DATA("encrypted zip entries are not supported") },
	{ "zip, bzip2 entry", "zip-bzip2.zip", NULL, 0, false, 0,
	    INFLATE_ZIP, DATA("zip compression method 12 not supported") },
	{ "zip local header signature alone", INLINE("PK\x03\x04"), false, 0,
	    INFLATE_ZIP, DATA("truncated zip archive") },

	/* Plain. */
	{ "plain JSON", INLINE("{\"a\":1}"), false, 0, INFLATE_PLAIN,
	    OK_BYTES("{\"a\":1}") },
	{ "plain, empty", INLINE(""), false, 0, INFLATE_PLAIN, OK_BYTES("") },
	{ "plain, one byte of gzip magic", INLINE("\x1f"), false, 0,
	    INFLATE_PLAIN, OK_BYTES("\x1f") },
	{ "plain, PK but not a local header", INLINE("PK\x05\x06"), false, 0,
	    INFLATE_PLAIN, OK_BYTES("PK\x05\x06") },
	{ "plain with NUL bytes", INLINE("{\0}"), false, 0, INFLATE_PLAIN,
	    OK_BYTES("{\0}") },

	/* The output limit at N (accepted) and N + 1 (refused). */
	{ "gzip output at the limit", "gzip-fname.gz", NULL, 0, false,
	    FIXTURE_LEN, INFLATE_GZIP, OK_BYTES(FIXTURE_JSON) },
	{ "gzip output one past the limit", "gzip-fname.gz", NULL, 0, false,
	    FIXTURE_LEN - 1, INFLATE_GZIP,
	    DATA("decompressed report exceeds 60 bytes") },
	{ "multi-member gzip at the limit", "gzip-multi-member.gz", NULL, 0,
	    false, FIXTURE_LEN, INFLATE_GZIP,
	    OK_BYTES(MEMBER1_JSON MEMBER2_JSON) },
	{ "multi-member gzip one past the limit", "gzip-multi-member.gz",
	    NULL, 0, false, FIXTURE_LEN - 1, INFLATE_GZIP,
	    DATA("decompressed report exceeds 60 bytes") },
	{ "zip deflate at the limit", "zip-deflate.zip", NULL, 0, false,
	    FIXTURE_LEN, INFLATE_ZIP, OK_BYTES(FIXTURE_JSON) },
	{ "zip deflate one past the limit", "zip-deflate.zip", NULL, 0,
	    false, FIXTURE_LEN - 1, INFLATE_ZIP,
	    DATA("decompressed report exceeds 60 bytes") },
	{ "zip stored at the limit", "zip-stored.zip", NULL, 0, false,
	    FIXTURE_LEN, INFLATE_ZIP, OK_BYTES(FIXTURE_JSON) },
	{ "zip stored one past the limit", "zip-stored.zip", NULL, 0, false,
	    FIXTURE_LEN - 1, INFLATE_ZIP,
	    DATA("decompressed report exceeds 60 bytes") },
	{ "zip data descriptor at the limit", "zip-data-descriptor.zip",
	    NULL, 0, false, FIXTURE_LEN, INFLATE_ZIP, OK_BYTES(FIXTURE_JSON) },
	{ "zip data descriptor one past the limit",
	    "zip-data-descriptor.zip", NULL, 0, false, FIXTURE_LEN - 1,
	    INFLATE_ZIP, DATA("decompressed report exceeds 60 bytes") },
	{ "plain at the limit", INLINE(FIXTURE_JSON), false, FIXTURE_LEN,
	    INFLATE_PLAIN, OK_BYTES(FIXTURE_JSON) },
	{ "plain one past the limit", INLINE(FIXTURE_JSON), false,
	    FIXTURE_LEN - 1, INFLATE_PLAIN,
	    DATA("decompressed report exceeds 60 bytes") },
	{ "gzip of nothing, limit 1", "gzip-empty.gz", NULL, 0, false, 1,
	    INFLATE_GZIP, OK_BYTES("") },
	{ "plain, one byte, limit 1", INLINE("{"), false, 1, INFLATE_PLAIN,
	    OK_BYTES("{") },
	{ "plain, two bytes, limit 1", INLINE("{}"), false, 1, INFLATE_PLAIN,
	    DATA("decompressed report exceeds 1 bytes") },
};

/*
 * zip fixtures with one header field overwritten.  Offsets count from the
 * start of the record named by where.
 */
enum zip_where {
	AT_LOCAL,		/* the local header, at 0 */
	AT_CENTRAL,		/* the central directory entry */
	AT_END,			/* the end of central directory record */
	AT_DESCRIPTOR,		/* the data descriptor (after its signature) */
};

struct zip_patch {
	const char *name;
	const char *file;
	enum zip_where where;
	size_t off;
	size_t width;		/* 1, 2 or 4 bytes, little-endian */
	unsigned long value;
	bool add;		/* add value to the field instead */
	bool both;		/* AT_LOCAL: the central copy too */
	enum ti_kind want_kind;	/* TI_KIND_NONE: must still succeed */
	const char *want_msg;
};

#define END_PATCH(off, w, v) "zip-deflate.zip", AT_END, off, w, v, \
	false, false
#define CD_PATCH(off, w, v) "zip-deflate.zip", AT_CENTRAL, off, w, v, \
	false, false
#define LOCAL_PATCH(off, w, v) "zip-deflate.zip", AT_LOCAL, off, w, v, \
	false, false
#define BOTH_ADD(file, off, w, v) file, AT_LOCAL, off, w, v, true, true
#define ZDATA(msg) TI_KIND_DATA, msg

static const struct zip_patch zip_patches[] = {
	{ "zip holding 0 entries", END_PATCH(8, 4, 0),
	    ZDATA("zip archive holds 0 entries; expected one") },
	{ "zip holding 0xffff entries", END_PATCH(10, 2, 0xffff),
	    ZDATA("zip64 not supported") },
	{ "zip, directory offset 0xffffffff", END_PATCH(16, 4, 0xffffffff),
	    ZDATA("zip64 not supported") },
	{ "zip, directory size 0xffffffff", END_PATCH(12, 4, 0xffffffff),
	    ZDATA("zip64 not supported") },
	{ "zip on two disks", END_PATCH(4, 2, 1),
	    ZDATA("multi-volume zip archives are not supported") },
	{ "zip, directory on another disk", END_PATCH(6, 2, 1),
	    ZDATA("multi-volume zip archives are not supported") },
	{ "zip whose entry counts disagree", END_PATCH(8, 2, 2),
	    ZDATA("multi-volume zip archives are not supported") },
	{ "zip, directory past the end", END_PATCH(16, 4, 0x7fffffff),
	    ZDATA("zip central directory out of bounds") },
	{ "zip, directory size past the end", END_PATCH(12, 4, 58),
	    ZDATA("zip central directory out of bounds") },
	{ "zip, directory size 45 (one short of a header)",
	    END_PATCH(12, 4, 45),
	    ZDATA("zip central directory out of bounds") },
	{ "zip, comment length without a comment", END_PATCH(20, 2, 1),
	    ZDATA("truncated zip archive (no end of central directory)") },
	{ "zip of two entries that claims one", "zip-two-entries.zip",
	    AT_END, 8, 4, 0x00010001UL, false, false,
	    ZDATA("zip central directory has stray bytes") },
	{ "zip, bad central signature", CD_PATCH(0, 1, 'X'),
	    ZDATA("zip central directory is damaged") },
	{ "zip, central name runs past the directory",
	    CD_PATCH(28, 2, 12),
	    ZDATA("zip central directory is damaged") },
	{ "zip, central name shorter than the directory",
	    CD_PATCH(28, 2, 10),
	    ZDATA("zip central directory has stray bytes") },
	{ "zip, central comment runs past the directory",
	    CD_PATCH(32, 2, 1),
	    ZDATA("zip central directory is damaged") },
	{ "zip, entry not at offset 0", CD_PATCH(42, 4, 1),
	    ZDATA("zip entry does not start the archive") },
	{ "zip, central flags say encrypted", CD_PATCH(8, 2, 0x0001),
	    ZDATA("encrypted zip entries are not supported") },
	{ "zip, strong encryption flag", LOCAL_PATCH(6, 2, 0x0040),
	    ZDATA("encrypted zip entries are not supported") },
	{ "zip, methods disagree", LOCAL_PATCH(8, 2, 0),
	    ZDATA("zip local header disagrees with the central directory") },
	{ "zip, local descriptor flag alone", LOCAL_PATCH(6, 2, 0x0008),
	    ZDATA("zip local header disagrees with the central directory") },
	{ "zip, local CRC disagrees", LOCAL_PATCH(14, 4, 0),
	    ZDATA("zip local header disagrees with the central directory") },
	{ "zip, local compressed size disagrees", LOCAL_PATCH(18, 4, 61),
	    ZDATA("zip local header disagrees with the central directory") },
	{ "zip, local size disagrees", LOCAL_PATCH(22, 4, 62),
	    ZDATA("zip local header disagrees with the central directory") },
	{ "zip, local sizes 0xffffffff", LOCAL_PATCH(18, 4, 0xffffffff),
	    ZDATA("zip64 not supported") },
	{ "zip, local name runs into the directory",
	    LOCAL_PATCH(26, 2, 0xffff),
	    ZDATA("zip local header out of bounds") },
	{ "zip, local extra runs into the directory",
	    LOCAL_PATCH(28, 2, 200),
	    ZDATA("zip local header out of bounds") },
	{ "zip, modification time changed", LOCAL_PATCH(10, 2, 0x1234),
	    TI_KIND_NONE, NULL },
	{ "zip, both CRCs wrong", BOTH_ADD("zip-deflate.zip", 14, 4, 1),
	    ZDATA("zip entry CRC mismatch") },
	{ "zip, stored, both CRCs wrong", BOTH_ADD("zip-stored.zip", 14, 4,
	    1), ZDATA("zip entry CRC mismatch") },
	{ "zip, both sizes one too big", BOTH_ADD("zip-deflate.zip", 22, 4,
	    1), ZDATA("zip entry inflates to 61 bytes, not the 62 declared") },
	{ "zip, stored, both sizes one too small",
	    BOTH_ADD("zip-stored.zip", 22, 4, 0xffffffff),
	    ZDATA("zip entry inflates to 61 bytes, not the 60 declared") },
	{ "zip, both say stored, data is deflated",
	    BOTH_ADD("zip-deflate.zip", 8, 2, 0xfff8),
	    ZDATA("zip entry inflates to 62 bytes, not the 61 declared") },
	{ "zip, both say method 99", BOTH_ADD("zip-deflate.zip", 8, 2, 91),
	    ZDATA("zip compression method 99 not supported") },
	{ "zip, both say encrypted", BOTH_ADD("zip-deflate.zip", 6, 2, 1),
	    ZDATA("encrypted zip entries are not supported") },
	{ "zip, compressed sizes one short", BOTH_ADD("zip-deflate.zip", 18,
	    4, 0xffffffff), ZDATA("1 stray bytes after the zip entry") },
	{ "zip, compressed sizes one too big", BOTH_ADD("zip-stored.zip", 18,
	    4, 1), ZDATA("zip entry runs past its archive") },
	{ "zip, descriptor CRC wrong", "zip-data-descriptor.zip",
	    AT_DESCRIPTOR, 0, 4, 1, true, false,
	    ZDATA("zip data descriptor disagrees with the central "
	    "directory") },
	{ "zip, descriptor size wrong", "zip-data-descriptor.zip",
	    AT_DESCRIPTOR, 4, 4, 1, true, false,
	    ZDATA("zip data descriptor disagrees with the central "
	    "directory") },
	{ "zip, descriptor length wrong", "zip-data-descriptor.zip",
	    AT_DESCRIPTOR, 8, 4, 1, true, false,
	    ZDATA("zip data descriptor disagrees with the central "
	    "directory") },
	{ "zip, descriptor signature wrong", "zip-data-descriptor.zip",
	    AT_DESCRIPTOR, (size_t)-4, 1, 'X', false, false,
	    ZDATA("zip data descriptor disagrees with the central "
	    "directory") },
	{ "zip, descriptor sizes match but flag cleared",
	    BOTH_ADD("zip-data-descriptor.zip", 6, 2, 0xfff8),
	    ZDATA("zip local header disagrees with the central directory") },
};

static unsigned long
get_le(const unsigned char *p, size_t width)
{
	unsigned long v = 0;
	size_t i;

	for (i = width; i-- > 0;)
		v = v << 8 | p[i];
	return v;
}

static void
put_le(unsigned char *p, size_t width, unsigned long v)
{
	size_t i;

	for (i = 0; i < width; i++) {
		p[i] = (unsigned char)(v & 0xff);
		v >>= 8;
	}
}

/* Offset of a record in a fixture zip without an archive comment. */
static size_t
zip_record(const struct buf *z, enum zip_where where)
{
	size_t end;
	size_t cd;

	assert_true(buf_len(z) >= 22 + 30);
	end = buf_len(z) - 22;
	assert_int_equal(get_le(buf_bytes(z).data + end, 4), 0x06054b50UL);
	cd = get_le(buf_bytes(z).data + end + 16, 4);
	switch (where) {
	case AT_LOCAL:
		return 0;
	case AT_CENTRAL:
		return cd;
	case AT_END:
		return end;
	case AT_DESCRIPTOR:
		/* Written with its signature: 16 bytes before the directory. */
		assert_int_equal(get_le(buf_bytes(z).data + cd - 16, 4), 0x08074b50UL);
		return cd - 12;
	}
	fail();
	return 0;
}

static void
patch_field(unsigned char *field, const struct zip_patch *p)
{
	unsigned long v;

	v = p->add ? get_le(field, p->width) + p->value : p->value;
	put_le(field, p->width, v);
}

static void
test_zip_patch(void **ts)
{
	struct state *st = *ts;
	const struct zip_patch *p = st->tcase;
	struct inflate_case c;
	size_t at;

	st->input = test_read_data(p->file);
	at = zip_record(st->input, p->where) + p->off;
	assert_true(at + p->width <= buf_len(st->input));
	if (p->both) {
		/* The central entry repeats the local fields 2 bytes on. */
		assert_int_equal(p->where, AT_LOCAL);
		patch_field(buf_data(st->input) + zip_record(st->input,
		    AT_CENTRAL) + p->off + 2, p);
	}
	patch_field(buf_data(st->input) + at, p);
	memset(&c, 0, sizeof(c));
	c.want_format = INFLATE_ZIP;
	c.want_kind = p->want_kind;
	c.want_msg = p->want_msg;
	c.want = FIXTURE_JSON;
	c.want_len = FIXTURE_LEN;
	check_case(st, &c);
}

/* Both compressed sizes and the directory's offset moved by delta. */
static void
zip_shift(struct buf *z, unsigned long delta)
{
	size_t end = buf_len(z) - 22;
	size_t cd;

	put_le(buf_data(z) + end + 16, 4, get_le(buf_data(z) + end + 16, 4) + delta);
	cd = zip_record(z, AT_CENTRAL);
	put_le(buf_data(z) + 18, 4, get_le(buf_data(z) + 18, 4) + delta);
	put_le(buf_data(z) + cd + 20, 4, get_le(buf_data(z) + cd + 20, 4) + delta);
}

static void
expect_err(struct state *st, enum inflate_format fmt, enum ti_kind kind,
    const char *msg)
{
	struct inflate_case c;

	memset(&c, 0, sizeof(c));
	c.want_format = fmt;
	c.want_kind = kind;
	c.want_msg = msg;
	check_case(st, &c);
}

/* A deflate stream that ends before its declared size is used up. */
static void
test_zip_short_stream(void **ts)
{
	struct state *st = *ts;
	struct buf *z = NULL;
	size_t cd;

	z = test_read_data("zip-deflate.zip");
	cd = zip_record(z, AT_CENTRAL);
	/* Insert one byte between the data and the directory, and count it
	 * in both compressed sizes and in the directory's offset. */
	st->input = bytes_buf(buf_data(z), cd);
	assert_int_equal(buf_append(st->input, "\0", 1, &st->err), 0);
	assert_int_equal(buf_append(st->input, buf_data(z) + cd, buf_len(z) - cd,
	    &st->err), 0);
	buf_free(&z);
	zip_shift(st->input, 1);
	expect_err(st, INFLATE_ZIP, TI_KIND_DATA,
	    "zip entry is 62 bytes, not the 63 declared");
}

/* A deflate stream cut short inside its declared size. */
static void
test_zip_truncated_entry(void **ts)
{
	struct state *st = *ts;
	struct buf *z = NULL;
	size_t cd;

	z = test_read_data("zip-deflate.zip");
	cd = zip_record(z, AT_CENTRAL);
	/* Drop the last byte of the data, and count that in the sizes and
	 * the directory's offset. */
	st->input = bytes_buf(buf_data(z), cd - 1);
	assert_int_equal(buf_append(st->input, buf_data(z) + cd, buf_len(z) - cd,
	    &st->err), 0);
	buf_free(&z);
	zip_shift(st->input, 0xffffffffUL);
	expect_err(st, INFLATE_ZIP, TI_KIND_DATA, "truncated zip entry");
}

/* Corrupt deflate data inside a zip. */
static void
test_zip_corrupt_entry(void **ts)
{
	struct state *st = *ts;

	st->input = test_read_data("zip-deflate.zip");
	/* The first data byte, after the 30-byte header and 11-byte name. */
	assert_int_equal(get_le(buf_data(st->input) + 26, 2), 11);
	buf_data(st->input)[30 + 11] ^= 0x06;
	expect_err(st, INFLATE_ZIP, TI_KIND_DATA,
	    "corrupt zip entry: invalid code lengths set");
}

/* An archive comment is allowed; bytes after the record without one
 * are not. */
static void
test_zip_comment(void **ts)
{
	struct state *st = *ts;
	struct inflate_case c;
	static const char comment[] = "PK\x05\x06 a comment that looks odd";
	size_t end;

	st->input = test_read_data("zip-deflate.zip");
	end = buf_len(st->input) - 22;
	put_le(buf_data(st->input) + end + 20, 2, sizeof(comment) - 1);
	assert_int_equal(buf_append(st->input, comment, sizeof(comment) - 1,
	    &st->err), 0);
	memset(&c, 0, sizeof(c));
	c.want_format = INFLATE_ZIP;
	c.want = FIXTURE_JSON;
	c.want_len = FIXTURE_LEN;
	check_case(st, &c);
	buf_free(&st->out);
	buf_free(&st->input);

	st->input = test_read_data("zip-deflate.zip");
	assert_int_equal(buf_append(st->input, "junk", 4, &st->err), 0);
	expect_err(st, INFLATE_ZIP, TI_KIND_DATA,
	    "truncated zip archive (no end of central directory)");
}

/* A zip64 end of central directory locator before the record. */
static void
test_zip64_locator(void **ts)
{
	struct state *st = *ts;
	struct buf *z = NULL;
	unsigned char loc[20];
	size_t end;

	z = test_read_data("zip-deflate.zip");
	end = buf_len(z) - 22;
	memset(loc, 0, sizeof(loc));
	put_le(loc, 4, 0x07064b50UL);
	st->input = bytes_buf(buf_data(z), end);
	assert_int_equal(buf_append(st->input, loc, sizeof(loc), &st->err),
	    0);
	assert_int_equal(buf_append(st->input, buf_data(z) + end, 22, &st->err),
	    0);
	buf_free(&z);
	expect_err(st, INFLATE_ZIP, TI_KIND_DATA, "zip64 not supported");
}

/* Sweeps over a fixture: every truncation, and every byte flipped. */
struct sweep_case {
	const char *name;
	const char *file;
	enum inflate_format format;
	const char *want;	/* what the whole file inflates to */
	const char *trunc_msg;	/* for every proper prefix, or NULL: any */
	size_t whole_at;	/* a prefix this long is whole (0: none) */
};

/* The first member of gzip-multi-member.gz is 56 bytes long. */
#define MEMBER1_GZ_BYTES 56

static const struct sweep_case sweeps[] = {
	{ "every truncation of gzip-fname.gz", "gzip-fname.gz",
	    INFLATE_GZIP, FIXTURE_JSON, "truncated gzip stream", 0 },
	{ "every truncation of gzip-multi-member.gz",
	    "gzip-multi-member.gz", INFLATE_GZIP, MEMBER1_JSON MEMBER2_JSON,
	    "truncated gzip stream", MEMBER1_GZ_BYTES },
	{ "every truncation of zip-deflate.zip", "zip-deflate.zip",
	    INFLATE_ZIP, FIXTURE_JSON, NULL, 0 },
	{ "every truncation of zip-stored.zip", "zip-stored.zip",
	    INFLATE_ZIP, FIXTURE_JSON, NULL, 0 },
	{ "every truncation of zip-data-descriptor.zip",
	    "zip-data-descriptor.zip", INFLATE_ZIP, FIXTURE_JSON, NULL, 0 },
};

/*
 * Every proper prefix (long enough to keep the magic) is refused as
 * DATA, except that a multi-member gzip file cut right after a member is
 * a whole gzip file of its own.
 */
static void
test_truncations(void **ts)
{
	struct state *st = *ts;
	const struct sweep_case *s = st->tcase;
	struct ti_bytes in;
	enum inflate_format fmt;
	size_t n;
	int rc;

	st->input = test_read_data(s->file);
	for (n = s->format == INFLATE_GZIP ? 2 : 4; n < buf_len(st->input);
	    n++) {
		in.data = buf_data(st->input);
		in.len = n;
		ti_err_clear(&st->err);
		rc = inflate_report(&in, TI_DEFAULT_INFLATED_BYTES, &st->out,
		    &fmt, &st->err);
		assert_int_equal(fmt, s->format);
		if (n == s->whole_at) {
			assert_int_equal(rc, 0);
			assert_bytes("first member", st->out, MEMBER1_JSON,
			    sizeof(MEMBER1_JSON) - 1);
			buf_free(&st->out);
			continue;
		}
		if (rc == 0)
			fail_msg("prefix of %zu bytes accepted", n);
		assert_null(st->out);
		assert_err(&st->err, TI_KIND_DATA, s->trunc_msg);
	}
}

/*
 * Every single byte flipped: the result is the fixture's JSON (the byte
 * did not matter, e.g. a time stamp or the file name), plain bytes (the
 * magic is gone), or a DATA error.  Never another kind, never a crash.
 */
static void
test_flips(void **ts)
{
	struct state *st = *ts;
	const struct sweep_case *s = st->tcase;
	struct ti_bytes in;
	enum inflate_format fmt;
	size_t i;
	size_t ok = 0;
	size_t refused = 0;
	int rc;

	st->input = test_read_data(s->file);
	in = buf_bytes(st->input);
	for (i = 0; i < buf_len(st->input); i++) {
		buf_data(st->input)[i] ^= 0xff;
		ti_err_clear(&st->err);
		rc = inflate_report(&in, TI_DEFAULT_INFLATED_BYTES, &st->out,
		    &fmt, &st->err);
		if (rc == 0 && fmt == INFLATE_PLAIN) {
			assert_true(i < 4);
			assert_bytes("plain", st->out, buf_data(st->input),
			    buf_len(st->input));
		} else if (rc == 0) {
			assert_int_equal(fmt, s->format);
			assert_bytes("output", st->out, s->want,
			    strlen(s->want));
			ok++;
		} else {
			assert_null(st->out);
			assert_err(&st->err, TI_KIND_DATA, NULL);
			refused++;
		}
		buf_free(&st->out);
		buf_data(st->input)[i] ^= 0xff;
	}
	/* Most bytes matter. */
	if (refused <= ok)
		fail_msg("%zu flips refused, %zu accepted", refused, ok);
}

/*
 * Deflate n zeros (gzip or raw) into memory, 1 MiB at a time.  After
 * mark bytes of input, flush: the next block starts on a byte boundary,
 * at *mark_r in the output, so one byte written there can make the rest
 * of the stream invalid.
 */
static struct buf *
deflate_zeros(size_t n, int window_bits, size_t mark, size_t *mark_r,
    unsigned long *crc_r)
{
	static const unsigned char zeros[1 << 20];
	unsigned char chunk[65536];
	struct buf *b = NULL;
	struct ti_err err;
	z_stream zs;
	size_t done = 0;
	size_t step;
	unsigned long crc = crc32(0L, Z_NULL, 0);
	int flush;
	int zrc = Z_OK;

	b = buf_new(SIZE_MAX / 2, &err);
	assert_non_null(b);
	memset(&zs, 0, sizeof(zs));
	/* Run-length matching: as small as the best level, twice as fast. */
	assert_int_equal(deflateInit2(&zs, Z_BEST_COMPRESSION, Z_DEFLATED,
	    window_bits, 9, Z_RLE), Z_OK);
	*mark_r = 0;
	while (zrc != Z_STREAM_END) {
		step = n - done < sizeof(zeros) ? n - done : sizeof(zeros);
		crc = crc32(crc, zeros, (uInt)step);
		done += step;
		flush = done == n ? Z_FINISH : done == mark ? Z_FULL_FLUSH :
		    Z_NO_FLUSH;
		zs.next_in = zeros;
		zs.avail_in = (uInt)step;
		do {
			zs.next_out = chunk;
			zs.avail_out = sizeof(chunk);
			zrc = deflate(&zs, flush);
			assert_true(zrc == Z_OK || zrc == Z_STREAM_END ||
			    zrc == Z_BUF_ERROR);
			assert_int_equal(buf_append(b, chunk,
			    sizeof(chunk) - zs.avail_out, &err), 0);
		} while (zs.avail_out == 0);
		if (flush == Z_FULL_FLUSH)
			*mark_r = buf_len(b);
	}
	deflateEnd(&zs);
	*crc_r = crc;
	return b;
}

/*
 * Wrap raw deflate data in a one-entry zip archive named "r", with an
 * optional extra field in the local and/or the central header.
 */
static struct buf *
zip_wrap(const struct buf *raw, size_t usize, unsigned long crc,
    const void *extra, size_t extra_len, bool local, bool central)
{
	unsigned char h[46];
	struct buf *z = NULL;
	struct ti_err err;
	size_t cd;
	size_t cd_len;

	z = buf_new(SIZE_MAX / 2, &err);
	assert_non_null(z);
	memset(h, 0, sizeof(h));
	put_le(h, 4, 0x04034b50UL);
	put_le(h + 4, 2, 20);
	put_le(h + 8, 2, 8);
	put_le(h + 14, 4, crc);
	put_le(h + 18, 4, buf_len(raw));
	put_le(h + 22, 4, usize);
	put_le(h + 26, 2, 1);
	put_le(h + 28, 2, local ? extra_len : 0);
	assert_int_equal(buf_append(z, h, 30, &err), 0);
	assert_int_equal(buf_append(z, "r", 1, &err), 0);
	if (local)
		assert_int_equal(buf_append(z, extra, extra_len, &err), 0);
	assert_int_equal(buf_append(z, buf_bytes(raw).data, buf_len(raw), &err), 0);
	cd = buf_len(z);
	memset(h, 0, sizeof(h));
	put_le(h, 4, 0x02014b50UL);
	put_le(h + 4, 2, 20);
	put_le(h + 6, 2, 20);
	put_le(h + 10, 2, 8);
	put_le(h + 16, 4, crc);
	put_le(h + 20, 4, buf_len(raw));
	put_le(h + 24, 4, usize);
	put_le(h + 28, 2, 1);
	put_le(h + 30, 2, central ? extra_len : 0);
	assert_int_equal(buf_append(z, h, 46, &err), 0);
	assert_int_equal(buf_append(z, "r", 1, &err), 0);
	if (central)
		assert_int_equal(buf_append(z, extra, extra_len, &err), 0);
	cd_len = buf_len(z) - cd;
	memset(h, 0, sizeof(h));
	put_le(h, 4, 0x06054b50UL);
	put_le(h + 8, 2, 1);
	put_le(h + 10, 2, 1);
	put_le(h + 12, 4, cd_len);
	put_le(h + 16, 4, cd);
	assert_int_equal(buf_append(z, h, 22, &err), 0);
	return z;
}

/* Raw deflate of the fixture JSON. */
static struct buf *
deflate_fixture(unsigned long *crc_r)
{
	unsigned char tmp[256];
	z_stream zs;
	struct buf *b = NULL;

	memset(&zs, 0, sizeof(zs));
	assert_int_equal(deflateInit2(&zs, Z_BEST_COMPRESSION, Z_DEFLATED,
	    -15, 9, Z_DEFAULT_STRATEGY), Z_OK);
	zs.next_in = (const unsigned char *)FIXTURE_JSON;
	zs.avail_in = FIXTURE_LEN;
	zs.next_out = tmp;
	zs.avail_out = sizeof(tmp);
	assert_int_equal(deflate(&zs, Z_FINISH), Z_STREAM_END);
	b = bytes_buf(tmp, sizeof(tmp) - zs.avail_out);
	deflateEnd(&zs);
	*crc_r = crc32(crc32(0L, Z_NULL, 0),
	    (const unsigned char *)FIXTURE_JSON, FIXTURE_LEN);
	return b;
}

struct extra_case {
	const char *name;
	const char *extra;
	size_t extra_len;
	bool local;
	bool central;
	enum ti_kind want_kind;
	const char *want_msg;
};

static const struct extra_case extras[] = {
	{ "zip, harmless extra field in both headers",
	    "UT\x05\0\x01\0\0\0\0", 9, true, true, TI_KIND_NONE, NULL },
	{ "zip, zip64 extra field in the local header",
	    "\x01\0\x08\0\x3d\0\0\0\0\0\0\0", 12, true, false,
	    TI_KIND_DATA, "zip64 not supported" },
	{ "zip, zip64 extra field in the central header",
	    "\x01\0\x08\0\x3d\0\0\0\0\0\0\0", 12, false, true,
	    TI_KIND_DATA, "zip64 not supported" },
	{ "zip, zip64 extra field after another one",
	    "UT\x01\0\x01\x01\0\0\0", 9, true, false, TI_KIND_DATA,
	    "zip64 not supported" },
	{ "zip, extra field longer than its room",
	    "UT\xff\0\x01\x01\0\0\0", 9, true, true, TI_KIND_NONE, NULL },
	{ "zip, extra field of 3 bytes", "UT\0", 3, true, true,
	    TI_KIND_NONE, NULL },
};

static void
test_zip_extra(void **ts)
{
	struct state *st = *ts;
	const struct extra_case *e = st->tcase;
	struct buf *raw = NULL;
	struct inflate_case c;
	unsigned long crc;

	raw = deflate_fixture(&crc);
	st->input = zip_wrap(raw, FIXTURE_LEN, crc, e->extra, e->extra_len,
	    e->local, e->central);
	buf_free(&raw);
	memset(&c, 0, sizeof(c));
	c.want_format = INFLATE_ZIP;
	c.want_kind = e->want_kind;
	c.want_msg = e->want_msg;
	c.want = FIXTURE_JSON;
	c.want_len = FIXTURE_LEN;
	check_case(st, &c);
}

static int
group_setup(void **ts)
{
	struct buf *raw = NULL;
	unsigned long crc;

	(void)ts;
	gzip_bomb = deflate_zeros(BOMB_BYTES, 15 + 16, POISON_AFTER,
	    &gzip_mark, &crc);
	raw = deflate_zeros(ZIP_BOMB_BYTES, -15, POISON_AFTER, &zip_mark,
	    &crc);
	zip_bomb = zip_wrap(raw, ZIP_BOMB_BYTES, crc, NULL, 0, false, false);
	zip_mark += 30 + 1;	/* the local header and the name "r" */
	buf_free(&raw);
	return 0;
}

static int
group_teardown(void **ts)
{
	(void)ts;
	buf_free(&gzip_bomb);
	buf_free(&zip_bomb);
	return 0;
}

struct bomb_case {
	const char *name;
	bool zip;
	size_t max_out;		/* 0: TI_DEFAULT_INFLATED_BYTES */
	bool poison;		/* invalid from POISON_AFTER bytes of output */
	const char *want_msg;
};

/*
 * The poisoned bombs prove that reading stops at the limit: the stream
 * turns invalid after 128 MiB of output, and a limit below that must be
 * reported as the size error, as it is met before the invalid block is
 * read; with a higher limit the invalid block is what stops it.
 */
static const struct bomb_case bombs[] = {
	{ "gzip bomb (1 GiB), limit 1 MiB", false, TI_MIB, false,
	    "decompressed report exceeds 1048576 bytes" },
	{ "gzip bomb, default limit", false, 0, false,
	    "decompressed report exceeds 67108864 bytes" },
	{ "poisoned gzip bomb, limit 1 MiB", false, TI_MIB, true,
	    "decompressed report exceeds 1048576 bytes" },
	{ "poisoned gzip bomb, default limit", false, 0, true,
	    "decompressed report exceeds 67108864 bytes" },
	{ "poisoned gzip bomb, hard limit: the poison is reached", false,
	    TI_HARD_INFLATED_BYTES, true,
	    "corrupt gzip stream: invalid block type" },
	{ "zip bomb (256 MiB), limit 1 MiB", true, TI_MIB, false,
	    "decompressed report exceeds 1048576 bytes" },
	{ "poisoned zip bomb, limit 1 MiB", true, TI_MIB, true,
	    "decompressed report exceeds 1048576 bytes" },
	{ "poisoned zip bomb, hard limit: the poison is reached", true,
	    TI_HARD_INFLATED_BYTES, true,
	    "corrupt zip entry: invalid block type" },
};

static void
test_bomb(void **ts)
{
	struct state *st = *ts;
	const struct bomb_case *b = st->tcase;
	const struct buf *bomb = b->zip ? zip_bomb : gzip_bomb;
	size_t mark = b->zip ? zip_mark : gzip_mark;
	struct inflate_case c;

	/* A bomb, not a big file: over 256 times smaller than its output. */
	assert_true(buf_len(bomb) < (b->zip ? ZIP_BOMB_BYTES : BOMB_BYTES) / 256);
	st->input = bytes_buf(buf_bytes(bomb).data, buf_len(bomb));
	if (b->poison) {
		/* A block header with BTYPE 11, which is invalid. */
		assert_true(mark > 0 && mark < buf_len(bomb));
		buf_data(st->input)[mark] = 0x06;
	}
	memset(&c, 0, sizeof(c));
	c.max_out = b->max_out;
	c.want_format = b->zip ? INFLATE_ZIP : INFLATE_GZIP;
	c.want_kind = TI_KIND_DATA;
	c.want_msg = b->want_msg;
	check_case(st, &c);
}

/* A limit of 0 bytes: only empty output passes. */
static void
test_limit_zero(void **ts)
{
	struct state *st = *ts;
	struct ti_bytes in = test_bytes("");
	enum inflate_format fmt;

	assert_int_equal(inflate_report(&in, 0, &st->out, &fmt, &st->err),
	    0);
	assert_int_equal(fmt, INFLATE_PLAIN);
	assert_int_equal(buf_len(st->out), 0);
	assert_int_equal(buf_data(st->out)[0], '\0');
	buf_free(&st->out);

	st->input = test_read_data("gzip-empty.gz");
	in = buf_bytes(st->input);
	assert_int_equal(inflate_report(&in, 0, &st->out, &fmt, &st->err),
	    0);
	assert_int_equal(buf_len(st->out), 0);
	buf_free(&st->out);
	buf_free(&st->input);

	st->input = test_read_data("gzip-fname.gz");
	in = buf_bytes(st->input);
	assert_int_equal(inflate_report(&in, 0, &st->out, &fmt, &st->err),
	    -1);
	assert_null(st->out);
	assert_err(&st->err, TI_KIND_DATA,
	    "decompressed report exceeds 0 bytes");
}

/* format_r may be NULL; the output buffer's own limit is max_out. */
static void
test_format_null(void **ts)
{
	struct state *st = *ts;
	struct ti_bytes in;

	st->input = test_read_data("zip-stored.zip");
	in = buf_bytes(st->input);
	assert_int_equal(inflate_report(&in, 100, &st->out, NULL, &st->err),
	    0);
	assert_int_equal(buf_max(st->out), 100);
	assert_bytes("output", st->out, FIXTURE_JSON, FIXTURE_LEN);
	/* The output is not padded to the limit. */
}

struct sniff_case {
	const char *name;
	const char *input;
	size_t len;
	enum inflate_format want;
};

static const struct sniff_case sniffs[] = {
	{ "empty", "", 0, INFLATE_PLAIN },
	{ "gzip magic", "\x1f\x8b", 2, INFLATE_GZIP },
	{ "half the gzip magic", "\x1f", 1, INFLATE_PLAIN },
	{ "gzip magic reversed", "\x8b\x1f", 2, INFLATE_PLAIN },
	{ "zip local header", "PK\x03\x04", 4, INFLATE_ZIP },
	{ "zip, three bytes", "PK\x03", 3, INFLATE_PLAIN },
	{ "zip end record", "PK\x05\x06", 4, INFLATE_PLAIN },
	{ "zip spanned marker", "PK\x07\x08", 4, INFLATE_PLAIN },
	{ "JSON", "{}", 2, INFLATE_PLAIN },
	{ "zlib", "\x78\x9c", 2, INFLATE_PLAIN },
};

static void
test_sniff(void **ts)
{
	struct ti_bytes in;
	size_t i;

	(void)ts;
	for (i = 0; i < NELEM(sniffs); i++) {
		in.data = (const unsigned char *)sniffs[i].input;
		in.len = sniffs[i].len;
		if (inflate_sniff(&in) != sniffs[i].want)
			fail_msg("%s: got %d, want %d", sniffs[i].name,
			    inflate_sniff(&in), sniffs[i].want);
	}
	in.data = NULL;
	in.len = 4;
	assert_int_equal(inflate_sniff(&in), INFLATE_PLAIN);
	assert_int_equal(inflate_sniff(NULL), INFLATE_PLAIN);
}

struct is_report_case {
	const char *name;
	const char *input;	/* NULL: no bytes at all */
	size_t len;
	const char *names[3];
	bool want;
};

static const struct is_report_case is_reports[] = {
	{ "gzip bytes", "\x1f\x8b\x08", 3, { NULL }, true },
	{ "zip bytes", "PK\x03\x04", 4, { NULL }, true },
	{ "JSON object", "{}", 2, { NULL }, true },
	{ "JSON after white space", " \t\r\n{", 5, { NULL }, true },
	{ "JSON after a BOM", "\xef\xbb\xbf{}", 5, { NULL }, true },
	{ "JSON after a BOM and white space", "\xef\xbb\xbf\n {", 6,
	    { NULL }, true },
	{ "two BOMs", "\xef\xbb\xbf\xef\xbb\xbf{", 7, { NULL }, false },
	{ "half a BOM", "\xef\xbb{", 3, { NULL }, false },
	{ "JSON array", "[1]", 3, { NULL }, false },
	{ "white space only", " \n", 2, { NULL }, false },
	{ "PDF", "%PDF", 4, { NULL }, false },
	{ "empty", "", 0, { NULL }, false },
	{ "no bytes", NULL, 0, { NULL }, false },
	{ "name .json", "x", 1, { "r.json" }, true },
	{ "name .json.gz", "x", 1, { "r.json.gz" }, true },
	{ "name .zip, upper case", "x", 1, { "R.ZIP" }, true },
	{ "name .gz with trailing blanks", "x", 1, { "r.gz \t\r\n" }, true },
	{ "name .pdf", "x", 1, { "r.pdf" }, false },
	{ "name only .gz", "x", 1, { ".gz" }, true },
	{ "name gz without the dot", "x", 1, { "rgz" }, false },
	{ "third name fits", "x", 1, { NULL, "a.pdf", "r.json" }, true },
	{ "name without bytes", NULL, 0, { "r.zip" }, true },
	{ "wrong name, right bytes", "{", 1, { "logo.png" }, true },
};

static void
test_is_report(void **ts)
{
	struct ti_bytes in;
	size_t i;
	bool got;

	(void)ts;
	for (i = 0; i < NELEM(is_reports); i++) {
		in.data = (const unsigned char *)is_reports[i].input;
		in.len = is_reports[i].len;
		got = inflate_is_report(&in, is_reports[i].names, 3);
		if (got != is_reports[i].want)
			fail_msg("%s: got %d, want %d", is_reports[i].name,
			    got, is_reports[i].want);
	}
	assert_false(inflate_is_report(NULL, NULL, 0));
	assert_true(inflate_is_report(NULL, is_reports[13].names, 1));
}

static void
add_test(struct CMUnitTest *t, size_t *n, const char *name,
    CMUnitTestFunction f, const void *tcase)
{
	test_add(t, n, name, f, setup, teardown, tcase);
}

int
main(void)
{
	struct CMUnitTest tests[NELEM(cases) + NELEM(zip_patches) +
	    2 * NELEM(sweeps) + NELEM(bombs) + NELEM(extras) + 16];
	size_t n = 0;
	size_t i;
	static char flip_names[NELEM(sweeps)][128];

	for (i = 0; i < NELEM(cases); i++)
		add_test(tests, &n, cases[i].name, test_case, &cases[i]);
	for (i = 0; i < NELEM(zip_patches); i++)
		add_test(tests, &n, zip_patches[i].name, test_zip_patch,
		    &zip_patches[i]);
	add_test(tests, &n, "zip deflate stream ends early",
	    test_zip_short_stream, NULL);
	add_test(tests, &n, "zip deflate stream cut short",
	    test_zip_truncated_entry, NULL);
	add_test(tests, &n, "zip corrupt deflate data",
	    test_zip_corrupt_entry, NULL);
	add_test(tests, &n, "zip archive comment", test_zip_comment, NULL);
	add_test(tests, &n, "zip64 locator", test_zip64_locator, NULL);
	for (i = 0; i < NELEM(extras); i++)
		add_test(tests, &n, extras[i].name, test_zip_extra,
		    &extras[i]);
	for (i = 0; i < NELEM(sweeps); i++) {
		add_test(tests, &n, sweeps[i].name, test_truncations,
		    &sweeps[i]);
		(void)snprintf(flip_names[i], sizeof(flip_names[i]),
		    "every byte of %s flipped", sweeps[i].file);
		add_test(tests, &n, flip_names[i], test_flips, &sweeps[i]);
	}
	for (i = 0; i < NELEM(bombs); i++)
		add_test(tests, &n, bombs[i].name, test_bomb, &bombs[i]);
	add_test(tests, &n, "limit of 0 bytes", test_limit_zero, NULL);
	add_test(tests, &n, "format_r NULL", test_format_null, NULL);
	add_test(tests, &n, "inflate_sniff", test_sniff, NULL);
	add_test(tests, &n, "inflate_is_report", test_is_report, NULL);
	return _cmocka_run_group_tests("inflate", tests, n, group_setup,
	    group_teardown);
}
