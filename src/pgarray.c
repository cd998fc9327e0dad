/*
 * pgarray.c - arrays in PostgreSQL's binary format (what array_recv()
 * reads), so that the server takes a report's many values without
 * parsing text.  An array is, all integers big-endian:
 *
 *	int32 ndim (1, or 0 when empty), int32 flags (1: holds a NULL),
 *	int32 element type; with ndim 1, int32 size and int32 lower bound
 *	(1); then each element as int32 length (-1: NULL) and its bytes.
 *
 * The header is reserved with the first element and filled in by
 * pgarray_close(), so an array cut back to an earlier length (a group
 * giving up a report) is still one.  Trust: the values are the checked
 * fields of a report; their sizes are bounded by the buffer's maximum,
 * which must fit an int32.
 */
#include "autoconf.h"

#include <arpa/inet.h>
#include <string.h>

#include "pgarray.h"

#define PGARRAY_HEAD_BYTES 20
#define PGARRAY_EMPTY_BYTES 12
#define PGARRAY_NULL UINT32_MAX	/* int32 -1, the length of a NULL */

/* timestamptz counts microseconds from 2000-01-01 00:00:00 UTC. */
#define PGARRAY_EPOCH_USEC INT64_C(946684800000000)

/* inet's address families: PostgreSQL's own, not the system's. */
#define PGARRAY_AF_INET 2
#define PGARRAY_AF_INET6 3

static void
pgarray_put32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

static uint32_t
pgarray_get32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

/* An element of n bytes at p, or a NULL when p is NULL. */
static int
pgarray_add(struct buf *b, const void *p, size_t n, struct ti_err *err)
{
	static const unsigned char head[PGARRAY_HEAD_BYTES];
	unsigned char len[4];
	size_t was = buf_bytes(b).len;

	if (p == NULL)
		n = 0;
	if (n > INT32_MAX)
		return ti_err_set(err, TI_KIND_DATA, "value too large");
	pgarray_put32(len, p != NULL ? (uint32_t)n : PGARRAY_NULL);
	if ((was == 0 && buf_append(b, head, sizeof(head), err) != 0) ||
	    buf_append(b, len, sizeof(len), err) != 0 ||
	    buf_append(b, p, n, err) != 0) {
		buf_truncate(b, was);
		return -1;
	}
	return 0;
}

/* An n-byte (at most 8) big-endian integer. */
static int
pgarray_add_be(struct buf *b, uint64_t v, size_t n, struct ti_err *err)
{
	unsigned char be[8];
	size_t i;

	for (i = n; i > 0; i--, v >>= 8)
		be[i - 1] = (unsigned char)v;
	return pgarray_add(b, be, n, err);
}

int
pgarray_add_null(struct buf *b, struct ti_err *err)
{
	return pgarray_add(b, NULL, 0, err);
}

int
pgarray_add_text(struct buf *b, const char *s, struct ti_err *err)
{
	return pgarray_add(b, s, s != NULL ? strlen(s) : 0, err);
}

int
pgarray_add_bytes(struct buf *b, const void *p, size_t n, struct ti_err *err)
{
	return pgarray_add(b, p, n, err);
}

int
pgarray_add_int4(struct buf *b, int32_t v, struct ti_err *err)
{
	return pgarray_add_be(b, (uint32_t)v, 4, err);
}

int
pgarray_add_int8(struct buf *b, int64_t v, struct ti_err *err)
{
	return pgarray_add_be(b, (uint64_t)v, 8, err);
}

int
pgarray_add_bool(struct buf *b, bool v, struct ti_err *err)
{
	return pgarray_add_be(b, v, 1, err);
}

int
pgarray_add_time(struct buf *b, int64_t usec, struct ti_err *err)
{
	return pgarray_add_be(b, (uint64_t)(usec - PGARRAY_EPOCH_USEC), 8, err);
}

int
pgarray_add_inet(struct buf *b, const char *s, struct ti_err *err)
{
	/* family, bits, is_cidr, address bytes, address */
	unsigned char in[4 + sizeof(struct in6_addr)];

	in[2] = 0;
	if (s != NULL && inet_pton(AF_INET, s, in + 4) == 1) {
		in[0] = PGARRAY_AF_INET;
		in[1] = 32;
		in[3] = 4;
		return pgarray_add(b, in, 4 + 4, err);
	}
	if (s != NULL && inet_pton(AF_INET6, s, in + 4) == 1) {
		in[0] = PGARRAY_AF_INET6;
		in[1] = 128;
		in[3] = 16;
		return pgarray_add(b, in, 4 + 16, err);
	}
	return pgarray_add(b, NULL, 0, err);
}

int
pgarray_close(struct buf *b, enum pgarray_type t, struct ti_err *err)
{
	static const unsigned char empty[PGARRAY_EMPTY_BYTES];
	unsigned char head[PGARRAY_HEAD_BYTES];
	struct ti_bytes v = buf_bytes(b);
	size_t off;
	uint32_t len, n = 0, flags = 0;

	if (v.len == 0) {
		if (buf_append(b, empty, sizeof(empty), err) != 0)
			return -1;
		v = buf_bytes(b);
	}
	for (off = PGARRAY_HEAD_BYTES; off + 4 <= v.len; n++) {
		len = pgarray_get32(v.data + off);
		off += 4;
		if (len == PGARRAY_NULL)
			flags = 1;
		else
			off += len;
	}
	pgarray_put32(head, n > 0 ? 1 : 0);
	pgarray_put32(head + 4, flags);
	pgarray_put32(head + 8, (uint32_t)t);
	pgarray_put32(head + 12, n);
	pgarray_put32(head + 16, 1);
	memcpy(buf_data(b), head, n > 0 ? PGARRAY_HEAD_BYTES :
	    PGARRAY_EMPTY_BYTES);
	return 0;
}
