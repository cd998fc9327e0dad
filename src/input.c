/*
 * input.c - stage 1: read a message.  Trusts nothing about its size: at
 * most max bytes are kept in memory whatever arrives.
 */
#include "autoconf.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "input.h"

#define INPUT_CHUNK_BYTES 65536

int
input_read_fd(int fd, size_t max, enum ti_kind io_kind, struct buf **out_r,
    bool *truncated_r, struct ti_err *err)
{
	struct buf *b = NULL;
	unsigned char chunk[INPUT_CHUNK_BYTES];
	bool truncated = false;
	ssize_t n;
	size_t keep;
	int rc = -1;

	b = buf_new(max, err);
	if (b == NULL)
		goto out;
	for (;;) {
		n = read(fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ti_err_set(err, io_kind, "read error: %s",
			    strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		keep = (size_t)n;
		if (keep > max - b->len) {
			keep = max - b->len;
			truncated = true;
		}
		if (keep > 0 && buf_append(b, chunk, keep, err) != 0)
			goto out;
	}
	*out_r = b;
	b = NULL;
	*truncated_r = truncated;
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
	rc = input_read_fd(fd, max, TI_KIND_IO, out_r, truncated_r, err);
out:
	if (fd >= 0)
		(void)close(fd);
	return rc;
}
