/*
 * buf.h - memory that one owner holds and releases at once: a
 * length-carrying byte buffer with a hard maximum (struct buf), an arena
 * whose objects are freed together (struct buf_arena), and a borrowed
 * view of bytes (struct ti_bytes) that stages pass to each other.
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

/* An owned, growable buffer that refuses to grow past max; opaque. */
struct buf;

/* Objects allocated together and freed together; opaque. */
struct buf_arena;

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

/* Borrowed view of the buffer's contents, valid until it changes. */
struct ti_bytes buf_bytes(const struct buf *b);

/* The number of bytes held, and the most it may hold. */
size_t buf_len(const struct buf *b);
size_t buf_max(const struct buf *b);

/*
 * The contents as a NUL-terminated string ("" when empty); borrowed,
 * valid until the buffer changes.  A NUL among the bytes ends it early.
 */
const char *buf_str(const struct buf *b);

/*
 * The contents, writable in place (buf_len() bytes), or NULL when nothing
 * was ever reserved.  Borrowed, valid until the buffer grows.
 */
unsigned char *buf_data(struct buf *b);

/*
 * The room reserved past the contents: *n_r bytes at the pointer
 * returned (NULL when there is none).  Bytes written there count once
 * buf_commit() says so.
 */
unsigned char *buf_spare(struct buf *b, size_t *n_r);

/* Add n bytes written into buf_spare()'s room to the contents. */
void buf_commit(struct buf *b, size_t n);

/* Keep the first len bytes (len at most buf_len()). */
void buf_truncate(struct buf *b, size_t len);

/*
 * Empty the buffer; give its memory back when it holds more than keep
 * bytes, else keep it for the next contents.
 */
void buf_reset(struct buf *b, size_t keep);

/*
 * Hand the contents out as an owned NUL-terminated string; the buffer is
 * left empty.  Returns NULL with TEMP when memory runs out.
 */
char *buf_take_str(struct buf *b, struct ti_err *err);

/* Returns owned, or NULL (TEMP: out of memory). */
struct buf_arena *buf_arena_new(size_t first_bytes, struct ti_err *err);

/* NULL-safe; frees every object of the arena, sets *ap to NULL. */
void buf_arena_free(struct buf_arena **ap);

/*
 * n bytes aligned for any object, or NULL: out of memory.  Owned by the
 * arena, valid until buf_arena_reset() or buf_arena_free().
 */
void *buf_arena_alloc(struct buf_arena *a, size_t n);

/* n zeroed elements of size bytes, aligned; NULL as buf_arena_alloc(). */
void *buf_arena_array(struct buf_arena *a, size_t n, size_t size);

/* A NUL-terminated copy of n bytes at s; NULL as buf_arena_alloc(). */
char *buf_arena_strndup(struct buf_arena *a, const char *s, size_t n);

/* Free every object at once; the arena keeps one block for reuse. */
void buf_arena_reset(struct buf_arena *a);

#endif
