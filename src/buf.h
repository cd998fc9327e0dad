/*
 * buf.h - a length-carrying byte buffer with a hard maximum, and a
 * borrowed view of bytes (struct ti_bytes) that stages pass to each other.
 */
#ifndef TI_BUF_H
#define TI_BUF_H

#include <stddef.h>

#include "status.h"

/* Borrowed bytes: valid as long as their owner says. */
struct ti_bytes {
	const unsigned char *data;
	size_t len;
};

/* An owned, growable buffer that refuses to grow past max. */
struct buf {
	unsigned char *data;	/* NULL until the first reserve or append,
				 * then always NUL-terminated past len */
	size_t len;
	size_t cap;
	size_t max;		/* hard limit on len */
};

/* Returns owned, or NULL (TEMP: out of memory). */
struct buf *buf_new(size_t max, struct ti_err *err);

/* NULL-safe; sets *bp to NULL. */
void buf_free(struct buf **bp);

/*
 * Append n bytes.  Fails with DATA when len would pass max (the buffer is
 * left unchanged), TEMP when memory runs out.
 */
int buf_append(struct buf *b, const void *p, size_t n, struct ti_err *err)
    TI_MUST_CHECK;

/* Make room for n more bytes; same errors as buf_append. */
int buf_reserve(struct buf *b, size_t n, struct ti_err *err) TI_MUST_CHECK;

/* Borrowed view of the buffer's contents. */
struct ti_bytes buf_bytes(const struct buf *b);

#endif
