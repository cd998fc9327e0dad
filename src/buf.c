/*
 * buf.c - byte buffers with a hard maximum.  Every stage that collects
 * untrusted bytes does it through here, so no stage can grow without
 * bound: growth past max fails with DATA before any allocation.
 */
#include "autoconf.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"

/*
 * Blocks let go by buf_free() (and report.c's arenas), kept for the next
 * ones.  glibc's malloc answers any request of 1 KiB or more by first
 * merging every small chunk freed since, and GMime frees hundreds after
 * each message: a Maildir message's buffers (the message, its report
 * part, the report inflated) and its report's arena cost that four times
 * a message.  Taken from here they cost nothing.  Only blocks up to
 * BUF_KEEP_BYTES are kept, at most BUF_KEEP_BLOCKS of them.
 */
#define BUF_MIN_BYTES 4096
#define BUF_KEEP_BYTES ((size_t)64 * 1024)
#define BUF_KEEP_BLOCKS 16

static struct {
	void *data;
	size_t cap;
} buf_kept[BUF_KEEP_BLOCKS];
static size_t buf_n_kept;

void *
buf_block_take(size_t want, size_t most, size_t *size_r)
{
	void *p = NULL;
	size_t i;

	for (i = buf_n_kept; i > 0; i--) {
		if (buf_kept[i - 1].cap < want || buf_kept[i - 1].cap > most)
			continue;
		p = buf_kept[i - 1].data;
		*size_r = buf_kept[i - 1].cap;
		buf_kept[i - 1] = buf_kept[--buf_n_kept];
		return p;
	}
	return NULL;
}

void
buf_block_give(void *data, size_t cap)
{
	if (data != NULL && cap <= BUF_KEEP_BYTES &&
	    buf_n_kept < BUF_KEEP_BLOCKS) {
		buf_kept[buf_n_kept].data = data;
		buf_kept[buf_n_kept].cap = cap;
		buf_n_kept++;
		return;
	}
	free(data);
}

void
buf_shutdown(void)
{
	while (buf_n_kept > 0) {
		buf_n_kept--;
		free(buf_kept[buf_n_kept].data);
	}
}

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
	buf_block_give((*bp)->data, (*bp)->cap);
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
	/* Never more than the limit and its NUL. */
	if (b->data == NULL &&
	    (p = buf_block_take(want, b->max + 1, &cap)) != NULL) {
		b->data = p;
		b->cap = cap;
		b->data[b->len] = '\0';
		return 0;
	}
	cap = b->cap < BUF_MIN_BYTES ? BUF_MIN_BYTES : b->cap;
	while (cap < want)
		cap = cap > SIZE_MAX / 2 ? want : cap * 2;
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

void
buf_truncate(struct buf *b, size_t len)
{
	if (len < b->len) {
		b->len = len;
		b->data[len] = '\0';
	}
}

int
buf_overwrite(struct buf *b, size_t off, const void *p, size_t n)
{
	if (off > b->len || n > b->len - off)
		return -1;
	memcpy(b->data + off, p, n);
	return 0;
}
