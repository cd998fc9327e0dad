/*
 * mbox.c - split an mbox into messages.  The file is read, never changed,
 * a chunk at a time: however large it is, memory holds one chunk and the
 * message being copied, which is capped at the message size limit.  A
 * message starts at a line beginning with "From " (the first such line of
 * the file, or any later one: writers escape such lines in bodies as
 * ">From ").  Its bytes are hostile like any message's; a line is never
 * held whole, so its length is not bounded either.
 *
 * The file may change while it is read (a mail reader rewriting it, a
 * delivery appending to it).  Nothing past its size at open is read; a
 * read that ends short of that size, or a size or modification time that
 * differ once the end is reached, is an IO error.  The message being read
 * then is never returned: no message is cut by a change of the file.
 */
#include "autoconf.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mbox.h"

#define MBOX_CHUNK_BYTES ((size_t)65536)
/* What is decided at a line's start: "From ", or a blank "\r\n". */
#define MBOX_LOOKAHEAD ((size_t)5)

/* A reading position in the source, and the bytes read around it. */
struct mbox_rd {
	unsigned char *win;	/* chunk + MBOX_LOOKAHEAD bytes */
	size_t pos;		/* the next byte to use */
	size_t len;		/* bytes of win read */
	uint64_t off;		/* source bytes read so far */
	bool eof;		/* off reached the size */
};

struct mbox {
	int fd;			/* -1: memory */
	const unsigned char *mem;	/* borrowed, when fd is -1 */
	uint64_t size;		/* at open: nothing past it is read */
	struct timespec mtime;	/* at open */
	size_t chunk;
	struct mbox_rd rd;	/* at a From_ line, or at the end */
};

enum mbox_line {
	MBOX_LINE_END,		/* no more lines */
	MBOX_LINE_FROM,		/* "From ": the next message's first */
	MBOX_LINE_BLANK,	/* "\n" or "\r\n" */
	MBOX_LINE_TEXT,
};

static int
mbox_rd_init(struct mbox_rd *rd, size_t chunk, struct ti_err *err)
{
	memset(rd, 0, sizeof(*rd));
	rd->win = malloc(chunk + MBOX_LOOKAHEAD);
	if (rd->win == NULL)
		return ti_err_set(err, TI_KIND_TEMP, "out of memory");
	return 0;
}

/* Once the end is reached: the file is still as it was at open. */
static int
mbox_unchanged(const struct mbox *mb, struct ti_err *err)
{
	struct stat st;

	if (mb->fd < 0)
		return 0;
	if (fstat(mb->fd, &st) != 0)
		return ti_err_set(err, TI_KIND_IO, "cannot stat: %s",
		    strerror(errno));
	if ((uint64_t)st.st_size != mb->size ||
	    st.st_mtim.tv_sec != mb->mtime.tv_sec ||
	    st.st_mtim.tv_nsec != mb->mtime.tv_nsec)
		return ti_err_set(err, TI_KIND_IO, "the file changed while "
		    "it was read");
	return 0;
}

/* Read at most n source bytes at off into dst: *got_r of them, at least
 * one unless off is the size. */
static int
mbox_read(const struct mbox *mb, uint64_t off, unsigned char *dst,
    size_t n, size_t *got_r, struct ti_err *err)
{
	ssize_t r;

	if (n > mb->size - off)
		n = (size_t)(mb->size - off);
	*got_r = n;
	if (mb->fd < 0) {
		if (n > 0)
			memcpy(dst, mb->mem + off, n);
		return 0;
	}
	do
		r = pread(mb->fd, dst, n, (off_t)off);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return ti_err_set(err, TI_KIND_IO, "read error: %s",
		    strerror(errno));
	if (r == 0 && n > 0)
		return ti_err_set(err, TI_KIND_IO, "the file changed while "
		    "it was read: it is shorter");
	*got_r = (size_t)r;
	return 0;
}

/* Have need bytes (at most MBOX_LOOKAHEAD) at rd->pos, or all that is
 * left. */
static int
mbox_fill(struct mbox *mb, struct mbox_rd *rd, size_t need,
    struct ti_err *err)
{
	size_t got;

	while (rd->len - rd->pos < need && !rd->eof) {
		if (rd->pos > 0) {
			memmove(rd->win, rd->win + rd->pos, rd->len - rd->pos);
			rd->len -= rd->pos;
			rd->pos = 0;
		}
		if (mbox_read(mb, rd->off, rd->win + rd->len,
		    mb->chunk + MBOX_LOOKAHEAD - rd->len, &got, err) != 0)
			return -1;
		rd->len += got;
		rd->off += got;
		if (rd->off == mb->size) {
			rd->eof = true;
			if (mbox_unchanged(mb, err) != 0)
				return -1;
		}
	}
	return 0;
}

/* What the line at rd->pos is; *blank_r: a blank line's length. */
static int
mbox_line_start(struct mbox *mb, struct mbox_rd *rd, enum mbox_line *kind_r,
    size_t *blank_r, struct ti_err *err)
{
	const unsigned char *p = NULL;
	size_t n;

	if (mbox_fill(mb, rd, MBOX_LOOKAHEAD, err) != 0)
		return -1;
	p = rd->win + rd->pos;
	n = rd->len - rd->pos;
	*blank_r = 0;
	if (n == 0)
		*kind_r = MBOX_LINE_END;
	else if (n >= 5 && memcmp(p, "From ", 5) == 0)
		*kind_r = MBOX_LINE_FROM;
	else if (p[0] == '\n')
		*blank_r = 1;
	else if (n >= 2 && p[0] == '\r' && p[1] == '\n')
		*blank_r = 2;
	else
		*kind_r = MBOX_LINE_TEXT;
	if (*blank_r > 0)
		*kind_r = MBOX_LINE_BLANK;
	return 0;
}

/* Go past the line at rd->pos, its newline included. */
static int
mbox_skip_line(struct mbox *mb, struct mbox_rd *rd, struct ti_err *err)
{
	const unsigned char *nl = NULL;

	for (;;) {
		if (mbox_fill(mb, rd, 1, err) != 0)
			return -1;
		if (rd->pos == rd->len)
			return 0;
		nl = memchr(rd->win + rd->pos, '\n', rd->len - rd->pos);
		if (nl != NULL) {
			rd->pos = (size_t)(nl - rd->win) + 1;
			return 0;
		}
		rd->pos = rd->len;
	}
}

/* Append n bytes to b, cut at max (then *truncated). */
static int
mbox_put(struct buf *b, const void *p, size_t n, size_t max,
    bool *truncated, struct ti_err *err)
{
	if (n > max - buf_len(b)) {
		n = max - buf_len(b);
		*truncated = true;
	}
	return n > 0 ? buf_append(b, p, n, err) : 0;
}

/* Append the '>' that begin a line: gt of them. */
static int
mbox_put_gt(struct buf *b, size_t gt, size_t max, bool *truncated,
    struct ti_err *err)
{
	unsigned char gts[64];
	size_t k;

	memset(gts, '>', sizeof(gts));
	for (; gt > 0 && !*truncated; gt -= k) {
		k = gt < sizeof(gts) ? gt : sizeof(gts);
		if (mbox_put(b, gts, k, max, truncated, err) != 0)
			return -1;
	}
	return 0;
}

/*
 * Copy the line at rd->pos to b, a read at a time: its leading '>' are
 * counted, and one fewer is written when "From " follows them (mboxrd).
 */
static int
mbox_copy_line(struct mbox *mb, struct mbox_rd *rd, struct buf *b,
    size_t max, bool *truncated, struct ti_err *err)
{
	const unsigned char *p = NULL;
	const unsigned char *nl = NULL;
	size_t gt = 0;
	size_t n;

	for (;;) {
		if (mbox_fill(mb, rd, MBOX_LOOKAHEAD, err) != 0)
			return -1;
		if (rd->pos == rd->len || rd->win[rd->pos] != '>')
			break;
		rd->pos++;
		gt++;
	}
	if (gt > 0 && rd->len - rd->pos >= 5 &&
	    memcmp(rd->win + rd->pos, "From ", 5) == 0)
		gt--;
	if (mbox_put_gt(b, gt, max, truncated, err) != 0)
		return -1;
	for (;;) {
		if (mbox_fill(mb, rd, 1, err) != 0)
			return -1;
		p = rd->win + rd->pos;
		n = rd->len - rd->pos;
		if (n == 0)
			return 0;
		nl = memchr(p, '\n', n);
		if (nl != NULL)
			n = (size_t)(nl - p) + 1;
		if (!*truncated && mbox_put(b, p, n, max, truncated, err) != 0)
			return -1;
		rd->pos += n;
		if (nl != NULL)
			return 0;
	}
}

/* Go to the first From_ line: what comes before it is no message. */
static int
mbox_start(struct mbox *mb, struct ti_err *err)
{
	enum mbox_line kind;
	size_t blank;

	for (;;) {
		if (mbox_line_start(mb, &mb->rd, &kind, &blank, err) != 0)
			return -1;
		if (kind == MBOX_LINE_END || kind == MBOX_LINE_FROM)
			return 0;
		if (mbox_skip_line(mb, &mb->rd, err) != 0)
			return -1;
	}
}

static struct mbox *
mbox_new(size_t chunk, struct ti_err *err)
{
	struct mbox *mb = NULL;

	mb = calloc(1, sizeof(*mb));
	if (mb == NULL) {
		ti_err_set(err, TI_KIND_TEMP, "out of memory");
		return NULL;
	}
	mb->fd = -1;
	mb->chunk = chunk == 0 || chunk > MBOX_CHUNK_BYTES ?
	    MBOX_CHUNK_BYTES : chunk;
	if (mbox_rd_init(&mb->rd, mb->chunk, err) != 0) {
		free(mb);
		return NULL;
	}
	return mb;
}

struct mbox *
mbox_open_mem(const struct ti_bytes *mem, size_t chunk, struct ti_err *err)
{
	struct mbox *mb = NULL;

	mb = mbox_new(chunk, err);
	if (mb == NULL)
		return NULL;
	mb->mem = mem->data;
	mb->size = mem->len;
	if (mbox_start(mb, err) != 0)
		mbox_close(&mb);
	return mb;
}

struct mbox *
mbox_open(const char *path, struct ti_err *err)
{
	struct mbox *mb = NULL;
	struct stat st;
	int fd = -1;

	/* Not blocked by a FIFO's opening: it is refused below. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		ti_err_set(err, TI_KIND_IO, "cannot open: %s", strerror(errno));
		goto out;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		ti_err_set(err, TI_KIND_IO, "not a regular file");
		goto out;
	}
	(void)posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	mb = mbox_new(0, err);
	if (mb == NULL)
		goto out;
	mb->fd = fd;
	fd = -1;
	mb->size = (uint64_t)st.st_size;
	mb->mtime = st.st_mtim;
	if (mbox_start(mb, err) != 0)
		mbox_close(&mb);
out:
	if (fd >= 0)
		(void)close(fd);
	return mb;
}

void
mbox_close(struct mbox **mbp)
{
	if (mbp == NULL || *mbp == NULL)
		return;
	if ((*mbp)->fd >= 0)
		(void)close((*mbp)->fd);
	free((*mbp)->rd.win);
	free(*mbp);
	*mbp = NULL;
}

int
mbox_count(struct mbox *mb, size_t *n_r, struct ti_err *err)
{
	struct mbox_rd rd;
	enum mbox_line kind;
	size_t blank;
	size_t n = 0;
	int rc = -1;

	if (mbox_rd_init(&rd, mb->chunk, err) != 0)
		return -1;
	for (;;) {
		if (mbox_line_start(mb, &rd, &kind, &blank, err) != 0)
			goto out;
		if (kind == MBOX_LINE_END)
			break;
		if (kind == MBOX_LINE_FROM)
			n++;
		if (mbox_skip_line(mb, &rd, err) != 0)
			goto out;
	}
	*n_r = n;
	rc = 0;
out:
	free(rd.win);
	return rc;
}

/*
 * The lines after a From_ line, up to the next one or the end.  A blank
 * line is held back until another line follows it: the last one
 * separates the message from the next, unless it is the message's first.
 */
static int
mbox_body(struct mbox *mb, struct buf *b, size_t max, bool *truncated,
    struct ti_err *err)
{
	static const char *const blanks[] = { "", "\n", "\r\n" };
	enum mbox_line kind;
	size_t blank;
	size_t held = 0;
	bool first;

	for (first = true;; first = false) {
		if (mbox_line_start(mb, &mb->rd, &kind, &blank, err) != 0)
			return -1;
		if (kind == MBOX_LINE_END || kind == MBOX_LINE_FROM)
			return 0;
		if (held > 0 && mbox_put(b, blanks[held], held, max,
		    truncated, err) != 0)
			return -1;
		held = 0;
		if (kind == MBOX_LINE_BLANK && !first) {
			held = blank;
			mb->rd.pos += blank;
		} else if (mbox_copy_line(mb, &mb->rd, b, max, truncated,
		    err) != 0)
			return -1;
	}
}

int
mbox_next(struct mbox *mb, size_t max, struct buf **msg_r,
    bool *truncated_r, struct ti_err *err)
{
	struct buf *b = NULL;
	enum mbox_line kind;
	size_t blank;
	bool truncated = false;
	int rc = -1;

	if (mbox_line_start(mb, &mb->rd, &kind, &blank, err) != 0)
		return -1;
	if (kind == MBOX_LINE_END)
		return 0;
	/* At a From_ line: it is no part of the message. */
	if (mbox_skip_line(mb, &mb->rd, err) != 0)
		return -1;
	b = buf_new(max, err);
	if (b == NULL)
		goto out;
	if (mbox_body(mb, b, max, &truncated, err) != 0)
		goto out;
	*msg_r = b;
	b = NULL;
	*truncated_r = truncated;
	rc = 1;
out:
	buf_free(&b);
	return rc;
}
