/*
 * mbox.c - split an mbox into messages.  The file is mapped read-only and
 * never changed.  A message starts at a line beginning with "From " (the
 * first line of the file, or any later one: writers escape such lines in
 * bodies as ">From ").  Its bytes are hostile like any message's: each
 * copy is capped at the message size limit.
 */
#include "autoconf.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mbox.h"

struct mbox {
	const unsigned char *data;
	size_t len;
	size_t pos;		/* start of the next From_ line, or len */
	void *map;		/* NULL for borrowed memory */
	size_t map_len;
};

/* The offset of the next line start at or after pos that reads "From ". */
static size_t
mbox_find_from(const unsigned char *d, size_t len, size_t pos)
{
	const unsigned char *nl = NULL;

	for (;;) {
		if (len - pos >= 5 && memcmp(d + pos, "From ", 5) == 0)
			return pos;
		nl = memchr(d + pos, '\n', len - pos);
		if (nl == NULL)
			return len;
		pos = (size_t)(nl - d) + 1;
	}
}

static struct mbox *
mbox_new(const unsigned char *data, size_t len, struct ti_err *err)
{
	struct mbox *mb = NULL;

	mb = calloc(1, sizeof(*mb));
	if (mb == NULL) {
		ti_err_set(err, TI_KIND_TEMP, "out of memory");
		return NULL;
	}
	mb->data = data;
	mb->len = len;
	mb->pos = len == 0 ? 0 : mbox_find_from(data, len, 0);
	return mb;
}

struct mbox *
mbox_open_mem(const struct ti_bytes *mem, struct ti_err *err)
{
	return mbox_new(mem->data, mem->len, err);
}

struct mbox *
mbox_open(const char *path, struct ti_err *err)
{
	struct mbox *mb = NULL;
	struct stat st;
	void *map = NULL;
	int fd = -1;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		ti_err_set(err, TI_KIND_IO, "cannot open: %s", strerror(errno));
		goto out;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		ti_err_set(err, TI_KIND_IO, "not a regular file");
		goto out;
	}
	if (st.st_size > 0) {
		map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE,
		    fd, 0);
		if (map == MAP_FAILED) {
			map = NULL;
			ti_err_set(err, TI_KIND_IO, "cannot map: %s",
			    strerror(errno));
			goto out;
		}
		(void)madvise(map, (size_t)st.st_size, MADV_SEQUENTIAL);
	}
	mb = mbox_new(map, (size_t)st.st_size, err);
	if (mb == NULL)
		goto out;
	mb->map = map;
	mb->map_len = (size_t)st.st_size;
	map = NULL;
out:
	if (map != NULL)
		(void)munmap(map, (size_t)st.st_size);
	if (fd >= 0)
		(void)close(fd);
	return mb;
}

void
mbox_close(struct mbox **mbp)
{
	if (mbp == NULL || *mbp == NULL)
		return;
	if ((*mbp)->map != NULL)
		(void)munmap((*mbp)->map, (*mbp)->map_len);
	free(*mbp);
	*mbp = NULL;
}

size_t
mbox_count(const struct mbox *mb)
{
	size_t n = 0;
	size_t pos = mb->pos;
	const unsigned char *nl = NULL;

	while (pos < mb->len) {
		n++;
		nl = memchr(mb->data + pos, '\n', mb->len - pos);
		if (nl == NULL)
			break;
		pos = mbox_find_from(mb->data, mb->len,
		    (size_t)(nl - mb->data) + 1);
	}
	return n;
}

/* Append a line, removing one '>' from a ">...>From " line. */
static int
mbox_put_line(struct buf *b, const unsigned char *line, size_t n,
    size_t max, bool *truncated, struct ti_err *err)
{
	size_t i = 0;

	while (i < n && line[i] == '>')
		i++;
	if (i > 0 && n - i >= 5 && memcmp(line + i, "From ", 5) == 0) {
		line++;
		n--;
	}
	if (n > max - buf_len(b)) {
		n = max - buf_len(b);
		*truncated = true;
	}
	return buf_append(b, line, n, err);
}

int
mbox_next(struct mbox *mb, size_t max, struct buf **msg_r,
    bool *truncated_r, struct ti_err *err)
{
	struct buf *b = NULL;
	const unsigned char *nl = NULL;
	size_t start, end, pos, n;
	bool truncated = false;
	int rc = -1;

	if (mb->pos >= mb->len)
		return 0;
	/* Skip the From_ line. */
	nl = memchr(mb->data + mb->pos, '\n', mb->len - mb->pos);
	start = nl == NULL ? mb->len : (size_t)(nl - mb->data) + 1;
	end = start >= mb->len ? mb->len :
	    mbox_find_from(mb->data, mb->len, start);
	mb->pos = end;
	/* The blank line before the next From_ line is the separator. */
	if (end > start && mb->data[end - 1] == '\n') {
		size_t e = end - 1;

		if (e > start && mb->data[e - 1] == '\r')
			e--;
		if (e > start && mb->data[e - 1] == '\n')
			end = e;
	}
	b = buf_new(max, err);
	if (b == NULL)
		goto out;
	for (pos = start; pos < end && !truncated; pos += n) {
		nl = memchr(mb->data + pos, '\n', end - pos);
		n = nl == NULL ? end - pos : (size_t)(nl - (mb->data + pos)) + 1;
		if (mbox_put_line(b, mb->data + pos, n, max, &truncated,
		    err) != 0)
			goto out;
	}
	*msg_r = b;
	b = NULL;
	*truncated_r = truncated;
	rc = 1;
out:
	buf_free(&b);
	return rc;
}
