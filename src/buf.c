/*
 * buf.c - memory with one owner: byte buffers with a hard maximum, and
 * arenas.  Every stage that collects untrusted bytes does it through a
 * struct buf, so no stage can grow without bound: growth past max fails
 * with DATA before any allocation.  An arena holds the many small objects
 * of one owner (a report's strings and arrays) and frees them together.
 * Both take their memory from malloc, through a small cache of blocks
 * private to this file (see below).
 */
#include "autoconf.h"

#include <assert.h>
#include <stdalign.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"

/* The first allocation of a buffer: small reads need no second one. */
#define BUF_MIN_BYTES 4096
/* Arena blocks grow from the size asked to this, doubling. */
#define BUF_ARENA_MIN_BYTES ((size_t)1024)
#define BUF_ARENA_MAX_BYTES ((size_t)1024 * 1024)

/*
 * Blocks of 1 to 64 KiB that buffers and arenas let go, kept for the
 * next ones (at most BUF_KEEP_BLOCKS): glibc answers a request of a
 * kilobyte or more by first merging every small chunk freed since, and
 * GMime frees hundreds a message.  Without it parsing takes 6% more
 * instructions.
 */
#define BUF_KEEP_MIN_BYTES ((size_t)1024)
#define BUF_KEEP_MAX_BYTES ((size_t)64 * 1024)
#define BUF_KEEP_BLOCKS 16

static struct {
	void *p;
	size_t size;
} buf_kept[BUF_KEEP_BLOCKS];
static size_t buf_n_kept;

/* A block of want to most bytes, its size in *size_r; NULL: none. */
static void *
buf_block_get(size_t want, size_t most, size_t *size_r)
{
	void *p = NULL;
	size_t i;

	for (i = buf_n_kept; i > 0; i--) {
		if (buf_kept[i - 1].size < want || buf_kept[i - 1].size > most)
			continue;
		p = buf_kept[i - 1].p;
		*size_r = buf_kept[i - 1].size;
		buf_kept[i - 1] = buf_kept[--buf_n_kept];
		return p;
	}
	return NULL;
}

/* Keep a block of size bytes for buf_block_get(), or free it. */
static void
buf_block_put(void *p, size_t size)
{
	if (p != NULL && size >= BUF_KEEP_MIN_BYTES &&
	    size <= BUF_KEEP_MAX_BYTES && buf_n_kept < BUF_KEEP_BLOCKS) {
		buf_kept[buf_n_kept].p = p;
		buf_kept[buf_n_kept].size = size;
		buf_n_kept++;
		return;
	}
	free(p);
}

struct buf {
	unsigned char *data;	/* NULL until the first reserve or append,
				 * then always NUL-terminated past len */
	size_t len;
	size_t cap;
	size_t max;		/* hard limit on len */
};

struct buf_arena_block {
	struct buf_arena_block *next;
	size_t used;
	size_t cap;		/* bytes of data */
	max_align_t data[];
};

struct buf_arena {
	struct buf_arena_block *head;	/* the block being filled */
	size_t next_bytes;		/* size of the next block */
};

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
	buf_block_put((*bp)->data, (*bp)->cap);
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
	if (b->data == NULL &&
	    (p = buf_block_get(want, b->max + 1, &cap)) != NULL) {
		b->data = p;
		b->cap = cap;
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
		buf_block_put(b->data, b->cap);
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

struct buf_arena *
buf_arena_new(size_t first_bytes, struct ti_err *err)
{
	struct buf_arena *a = NULL;

	a = calloc(1, sizeof(*a));
	if (a == NULL) {
		ti_err_set(err, TI_KIND_TEMP, "out of memory");
		return NULL;
	}
	a->next_bytes = first_bytes < BUF_ARENA_MIN_BYTES ?
	    BUF_ARENA_MIN_BYTES : first_bytes > BUF_ARENA_MAX_BYTES ?
	    BUF_ARENA_MAX_BYTES : first_bytes;
	return a;
}

/* Free the blocks from b on. */
static void
buf_arena_drop(struct buf_arena_block *b)
{
	struct buf_arena_block *next = NULL;

	while (b != NULL) {
		next = b->next;
		buf_block_put(b, sizeof(*b) + b->cap);
		b = next;
	}
}

void
buf_arena_free(struct buf_arena **ap)
{
	if (ap == NULL || *ap == NULL)
		return;
	buf_arena_drop((*ap)->head);
	free(*ap);
	*ap = NULL;
}

void
buf_arena_reset(struct buf_arena *a)
{
	if (a->head == NULL)
		return;
	buf_arena_drop(a->head->next);
	a->head->next = NULL;
	a->head->used = 0;
}

/* n bytes aligned to align (a power of two), or NULL. */
static void *
buf_arena_get(struct buf_arena *a, size_t n, size_t align)
{
	struct buf_arena_block *b = a->head;
	size_t off, cap, got = 0;

	if (b != NULL) {
		off = (b->used + align - 1) & ~(align - 1);
		if (off <= b->cap && b->cap - off >= n) {
			b->used = off + n;
			return (unsigned char *)b->data + off;
		}
	}
	cap = a->next_bytes;
	if (cap < n)
		cap = n;	/* a large request gets a block of its own */
	else if (a->next_bytes <= BUF_ARENA_MAX_BYTES / 2)
		a->next_bytes *= 2;
	if (cap > SIZE_MAX - sizeof(*b))
		return NULL;
	b = buf_block_get(sizeof(*b) + cap, 2 * (sizeof(*b) + cap), &got);
	if (b == NULL && (b = malloc(sizeof(*b) + cap)) != NULL)
		got = sizeof(*b) + cap;
	if (b == NULL)
		return NULL;
	b->cap = got - sizeof(*b);
	b->used = n;
	b->next = a->head;
	a->head = b;
	return b->data;
}

void *
buf_arena_alloc(struct buf_arena *a, size_t n)
{
	return buf_arena_get(a, n, alignof(max_align_t));
}

void *
buf_arena_array(struct buf_arena *a, size_t n, size_t size)
{
	void *p = NULL;

	if (size != 0 && n > SIZE_MAX / size)
		return NULL;
	p = buf_arena_get(a, n * size, alignof(max_align_t));
	if (p != NULL)
		memset(p, 0, n * size);
	return p;
}

char *
buf_arena_strndup(struct buf_arena *a, const char *s, size_t n)
{
	char *p = NULL;

	if (n == SIZE_MAX)
		return NULL;
	p = buf_arena_get(a, n + 1, 1);
	if (p == NULL)
		return NULL;
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}
