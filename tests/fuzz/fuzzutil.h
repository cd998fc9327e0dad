/*
 * fuzzutil.h - checks shared by the libFuzzer targets in tests/fuzz.
 *
 * A target aborts (and libFuzzer keeps the input) when a stage breaks
 * its own contract: a wrong error kind, an empty error message, a
 * buffer past its maximum or not NUL-terminated.  Crashes and sanitizer
 * reports are caught by the sanitizers themselves.
 */
#ifndef TI_FUZZUTIL_H
#define TI_FUZZUTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "status.h"

/* The libFuzzer entry points; declared here for -Wmissing-prototypes. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* Report a broken contract and abort, so libFuzzer saves the input. */
static inline void
fuzz_fail(const char *what, const char *detail)
{
	fprintf(stderr, "contract broken: %s%s%s\n", what,
	    detail != NULL ? ": " : "", detail != NULL ? detail : "");
	abort();
}

static inline void
fuzz_check(bool ok, const char *what)
{
	if (!ok)
		fuzz_fail(what, NULL);
}

/*
 * After a -1: the kind is one of those allowed (a bit mask of
 * 1 << TI_KIND_x) and the message is a non-empty string.
 */
static inline void
fuzz_check_err(const struct ti_err *err, unsigned allowed, const char *what)
{
	if (err->kind == TI_KIND_NONE ||
	    (allowed & (1u << (unsigned)err->kind)) == 0)
		fuzz_fail(what, err->msg);
	if (memchr(err->msg, '\0', sizeof(err->msg)) == NULL ||
	    err->msg[0] == '\0')
		fuzz_fail(what, "empty or unterminated error message");
}

/* A buffer handed out is within its maximum and NUL-terminated. */
static inline void
fuzz_check_buf(const struct buf *b, const char *what)
{
	struct ti_bytes v;

	fuzz_check(b != NULL, what);
	v = buf_bytes(b);
	fuzz_check(v.len <= buf_max(b), what);
	if (v.data == NULL) {
		fuzz_check(v.len == 0, what);
		return;
	}
	fuzz_check(v.data[v.len] == '\0', what);
}

/* An owned copy of data in a buffer that may hold it (max = size). */
static inline struct buf *
fuzz_buf(const uint8_t *data, size_t size, size_t max)
{
	struct buf *b = NULL;
	struct ti_err err;

	b = buf_new(max, &err);
	if (b == NULL)
		fuzz_fail("buf_new", err.msg);
	if (size > 0 && buf_append(b, data, size, &err) != 0)
		fuzz_fail("buf_append", err.msg);
	return b;
}

#define FUZZ_KIND(k) (1u << (unsigned)(k))

#endif
