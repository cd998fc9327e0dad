/*
 * fuzz_mbox.c - libFuzzer target for mbox.c (splitting an mbox).
 *
 * The input is an mbox file, hostile.  It is read from memory twice in
 * step: once as a file is, with the default message size limit, and once
 * a few bytes at a time (so that lines are cut between reads) with a
 * limit of FUZZ_SMALL_MAX bytes.  Both must give mbox_count() messages;
 * each message of the second pass is the first one cut at the limit,
 * marked truncated exactly when it was longer.
 */
#include "autoconf.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "buf.h"
#include "fuzzutil.h"
#include "mbox.h"
#include "status.h"
#include "ti_limits.h"

#define FUZZ_SMALL_MAX ((size_t)64)

/* One mbox_next(); the message, or NULL at the end. */
static struct buf *
fuzz_next(struct mbox *mb, size_t max, bool *truncated_r)
{
	struct buf *msg = NULL;
	struct ti_err err;
	int rc;

	ti_err_clear(&err);
	*truncated_r = false;
	rc = mbox_next(mb, max, &msg, truncated_r, &err);
	if (rc == 0) {
		fuzz_check(msg == NULL, "mbox_next: a message at the end");
		return NULL;
	}
	if (rc != 1) {
		fuzz_check(rc == -1, "mbox_next: not 1, 0 or -1");
		fuzz_check_err(&err, FUZZ_KIND(TI_KIND_TEMP), "mbox_next");
		fuzz_fail("mbox_next: out of memory", err.msg);
	}
	fuzz_check_buf(msg, "mbox_next: message");
	fuzz_check(buf_len(msg) <= max, "mbox_next: past max");
	fuzz_check(!*truncated_r || buf_len(msg) == max,
	    "mbox_next: truncated short of max");
	return msg;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ti_bytes in = { data, size };
	struct mbox *big = NULL;
	struct mbox *small = NULL;
	struct buf *a = NULL;
	struct buf *b = NULL;
	struct ti_err err;
	size_t count = 0;
	size_t small_count = 0;
	size_t n = 0;
	bool ta;
	bool tb;

	ti_err_clear(&err);
	big = mbox_open_mem(&in, 0, &err);
	small = mbox_open_mem(&in, 1 + size % 7, &err);
	if (big == NULL || small == NULL)
		fuzz_fail("mbox_open_mem", err.msg);
	if (mbox_count(big, &count, &err) != 0 ||
	    mbox_count(small, &small_count, &err) != 0)
		fuzz_fail("mbox_count", err.msg);
	fuzz_check(count == small_count, "mbox_count: differs by chunk");
	fuzz_check(count <= size / 5, "mbox_count: more From_ lines "
	    "than the input can hold");
	for (;;) {
		a = fuzz_next(big, TI_DEFAULT_MESSAGE_BYTES, &ta);
		b = fuzz_next(small, FUZZ_SMALL_MAX, &tb);
		if (a == NULL || b == NULL) {
			fuzz_check(a == NULL && b == NULL,
			    "mbox_next: the passes end apart");
			break;
		}
		n++;
		fuzz_check(!ta, "mbox_next: an input that small truncated");
		fuzz_check(tb == (buf_len(a) > FUZZ_SMALL_MAX),
		    "mbox_next: truncated is not len > max");
		fuzz_check(buf_len(b) <= buf_len(a) && (buf_len(b) == 0 ||
		    memcmp(buf_bytes(a).data, buf_bytes(b).data,
		    buf_len(b)) == 0),
		    "mbox_next: a cut message is no prefix");
		fuzz_check(buf_len(b) == buf_len(a) || tb,
		    "mbox_next: shorter but not truncated");
		buf_free(&a);
		buf_free(&b);
	}
	fuzz_check(n == count, "mbox_count differs from mbox_next");
	mbox_close(&small);
	mbox_close(&big);
	fuzz_check(big == NULL && small == NULL, "mbox_close");
	return 0;
}
