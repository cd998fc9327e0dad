/*
 * buf.c - byte buffers with a hard maximum.  Every stage that collects
 * untrusted bytes does it through here, so no stage can grow without
 * bound: growth past max fails with DATA before any allocation.  Memory
 * comes from malloc and goes back to free; nothing is kept between
 * buffers.
 */
#include "autoconf.h"

#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"

/* The first allocation of a buffer: small reads need no second one. */
#define BUF_MIN_BYTES 4096

struct buf *
buf_new(size_t max, struct ti_err *err)
{
	struct buf *b = NULL;

	b = calloc(1, sizeof(*b));
	if (b == NULL) {
		ti_err_set(err, TI_KIND_TEMP, "out of memory");
		return NULL;
	}
	/* One byte is always kept for the terminating NUL. */
	b->max = max < SIZE_MAX ? max : SIZE_MAX - 1;
	return b;
}

void
buf_free(struct buf **bp)
{
	if (bp == NULL || *bp == NULL)
		return;
	free((*bp)->data);
	free(*bp);
	*bp = NULL;
}

int
buf_reserve(struct buf *b, size_t n, struct ti_err *err)
{
	unsigned char *p = NULL;
	size_t want;
	size_t cap;

	if (n > b->max || b->len > b->max - n)
		return ti_err_set(err, TI_KIND_DATA, "more than %zu bytes",
		    b->max);
	want = b->len + n + 1;	/* room for the terminating NUL */
	if (want <= b->cap) {
		b->data[b->len] = '\0';
		return 0;
	}
	cap = b->cap < BUF_MIN_BYTES ? BUF_MIN_BYTES : b->cap;
	while (cap < want)
		cap = cap > SIZE_MAX / 2 ? want : cap * 2;
	/* Never more than the limit and its NUL. */
	if (cap > b->max + 1)
		cap = b->max + 1;
	if (cap < want)
		cap = want;
	p = realloc(b->data, cap);
	if (p == NULL)
		return ti_err_set(err, TI_KIND_TEMP, "out of memory");
	b->data = p;
	b->cap = cap;
	b->data[b->len] = '\0';
	return 0;
}

int
buf_append(struct buf *b, const void *p, size_t n, struct ti_err *err)
{
	int rc;

	rc = buf_reserve(b, n, err);
	if (rc != 0)
		return rc;
	if (n > 0)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return 0;
}

struct ti_bytes
buf_bytes(const struct buf *b)
{
	struct ti_bytes v = { NULL, 0 };

	if (b != NULL) {
		v.data = b->data;
		v.len = b->len;
	}
	return v;
}

size_t
buf_len(const struct buf *b)
{
	return b->len;
}

size_t
buf_max(const struct buf *b)
{
	return b->max;
}

const char *
buf_str(const struct buf *b)
{
	return b->data != NULL ? (const char *)b->data : "";
}

unsigned char *
buf_data(struct buf *b)
{
	return b->data;
}

unsigned char *
buf_spare(struct buf *b, size_t *n_r)
{
	size_t n = 0;

	if (b->data != NULL) {
		n = b->cap - 1 - b->len;
		if (n > b->max - b->len)
			n = b->max - b->len;
	}
	*n_r = n;
	return n > 0 ? b->data + b->len : NULL;
}

void
buf_commit(struct buf *b, size_t n)
{
	if (n == 0)
		return;
	/* Only what buf_spare() offered: the NUL's byte stays free. */
	assert(b->data != NULL && n <= b->cap - 1 - b->len &&
	    n <= b->max - b->len);
	b->len += n;
	b->data[b->len] = '\0';
}

void
buf_truncate(struct buf *b, size_t len)
{
	assert(len <= b->len);
	if (len == b->len)
		return;
	b->len = len;
	b->data[len] = '\0';
}

void
buf_reset(struct buf *b, size_t keep)
{
	if (b->cap > keep) {
		free(b->data);
		b->data = NULL;
		b->cap = 0;
	}
	b->len = 0;
	if (b->data != NULL)
		b->data[0] = '\0';
}

char *
buf_take_str(struct buf *b, struct ti_err *err)
{
	char *s = NULL;

	if (buf_reserve(b, 0, err) != 0)
		return NULL;
	s = (char *)b->data;
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	return s;
}
