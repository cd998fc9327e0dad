/*
 * input.c - stage 1: read a message.  Trusts nothing about its size: at
 * most max bytes are kept in memory whatever arrives.
 *
 * The bytes are read straight into the message's buffer.  A regular
 * file's size sizes that buffer and a short read ends it, so a Maildir
 * message costs one allocation and one read, and a file larger than the
 * limit is known to be so from its size, without reading the rest; a
 * pipe's buffer grows as it fills, and what a pipe sends past the limit
 * is read and dropped (under the time limit) to learn that there was
 * more.
 */
#include "autoconf.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "input.h"

#define INPUT_CHUNK_BYTES 65536

/* Read what is left of an input longer than max; say whether any was. */
static int
input_drain(int fd, enum ti_kind io_kind, bool *more_r, struct ti_err *err)
{
	unsigned char spill[INPUT_CHUNK_BYTES];
	ssize_t n;

	*more_r = false;
	for (;;) {
		n = read(fd, spill, sizeof(spill));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return ti_err_set(err, io_kind, "read error: %s",
			    strerror(errno));
		if (n == 0)
			return 0;
		*more_r = true;
	}
}

int
input_read_fd(int fd, size_t max, enum ti_kind io_kind, bool regular_only,
    struct buf **out_r, bool *truncated_r, struct ti_err *err)
{
	struct stat st;
	struct buf *b = NULL;
	unsigned char *room = NULL;
	bool regular = false;
	size_t want;
	size_t ask;
	ssize_t n;
	int rc = -1;

	b = buf_new(max, err);
	if (b == NULL)
		goto out;
	want = INPUT_CHUNK_BYTES;
	if (regular_only && (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))) {
		ti_err_set(err, io_kind, "not a regular file");
		goto out;
	}
	if (regular_only || (fstat(fd, &st) == 0 && S_ISREG(st.st_mode))) {
		regular = true;
		/* One byte more, so that the read that ends it is short. */
		want = st.st_size >= 0 && (uintmax_t)st.st_size < max ?
		    (size_t)st.st_size + 1 : max;
	}
	for (;;) {
		if (buf_len(b) == max) {
			/* A file says its size: nothing past the limit is
			 * read, however large (or sparse) it is. */
			if (regular) {
				*truncated_r = (uintmax_t)st.st_size > max;
				break;
			}
			if (input_drain(fd, io_kind, truncated_r, err) != 0)
				goto out;
			break;
		}
		room = buf_spare(b, &ask);
		if (room == NULL) {
			if (want > max - buf_len(b))
				want = max - buf_len(b);
			if (buf_reserve(b, want, err) != 0)
				goto out;
			want = INPUT_CHUNK_BYTES;
			room = buf_spare(b, &ask);
		}
		n = read(fd, room, ask);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ti_err_set(err, io_kind, "read error: %s",
			    strerror(errno));
			goto out;
		}
		buf_commit(b, (size_t)n);
		if (n == 0 || (regular && (size_t)n < ask)) {
			*truncated_r = false;
			break;
		}
	}
	*out_r = b;
	b = NULL;
	rc = 0;
out:
	buf_free(&b);
	return rc;
}

int
input_read_file(const char *path, size_t max, struct buf **out_r,
    bool *truncated_r, struct ti_err *err)
{
	struct stat st;
	int fd = -1;
	int rc = -1;

	fd = open(path, O_RDONLY | O_NOCTTY | O_CLOEXEC);
	if (fd < 0) {
		ti_err_set(err, TI_KIND_IO, "cannot open: %s", strerror(errno));
		goto out;
	}
	if (fstat(fd, &st) != 0) {
		ti_err_set(err, TI_KIND_IO, "cannot stat: %s", strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		ti_err_set(err, TI_KIND_IO, "not a regular file");
		goto out;
	}
	rc = input_read_fd(fd, max, TI_KIND_IO, false, out_r, truncated_r,
	    err);
out:
	if (fd >= 0)
		(void)close(fd);
	return rc;
}
