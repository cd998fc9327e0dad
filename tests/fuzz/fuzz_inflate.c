/*
 * fuzz_inflate.c - libFuzzer target for stage 3, inflate_report().
 *
 * The input is a report part as it comes out of MIME decoding: gzip, zip
 * or plain bytes, all hostile.  Output is capped at 1 MiB, so bombs stay
 * cheap.  Checked besides the sanitizers: the format returned is the one
 * inflate_sniff() names; failures are DATA (or TEMP); plain input comes
 * back unchanged; and a success of N bytes is repeated exactly with a
 * limit of N and refused as DATA with a limit of N - 1.
 */
#include "autoconf.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "buf.h"
#include "fuzzutil.h"
#include "inflate.h"
#include "status.h"

#define FUZZ_MAX_OUT_BYTES ((size_t)1024 * 1024)

/* Run inflate_report() and check what holds for any input. */
static int
fuzz_inflate(const struct ti_bytes *in, size_t max_out, struct buf **out_r,
    struct ti_err *err)
{
	enum inflate_format fmt = INFLATE_PLAIN;
	enum inflate_format sniffed;
	struct ti_bytes got;
	int rc;

	ti_err_clear(err);
	sniffed = inflate_sniff(in);
	fuzz_check(sniffed == INFLATE_PLAIN || sniffed == INFLATE_GZIP ||
	    sniffed == INFLATE_ZIP, "inflate_sniff: unknown format");
	rc = inflate_report(in, max_out, out_r, &fmt, err);
	fuzz_check(fmt == sniffed, "inflate_report: format is not sniffed");
	if (rc != 0) {
		fuzz_check(rc == -1, "inflate_report: not 0 or -1");
		fuzz_check(*out_r == NULL, "inflate_report: output on failure");
		fuzz_check_err(err, FUZZ_KIND(TI_KIND_DATA) |
		    FUZZ_KIND(TI_KIND_TEMP), "inflate_report");
		return -1;
	}
	fuzz_check_buf(*out_r, "inflate_report: output");
	got = buf_bytes(*out_r);
	fuzz_check(got.data != NULL, "inflate_report: no buffer");
	fuzz_check(got.len <= max_out, "inflate_report: past max_out");
	if (sniffed == INFLATE_PLAIN)
		fuzz_check(got.len == in->len &&
		    memcmp(got.data, in->data, in->len) == 0,
		    "inflate_report: plain input changed");
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ti_bytes in = { data, size };
	struct buf *out = NULL;
	struct buf *again = NULL;
	struct ti_bytes first;
	struct ti_bytes second;
	struct ti_err err;
	size_t n;

	/* Whatever the bytes, asking whether they are a report is safe. */
	(void)inflate_is_report(&in, NULL, 0);
	if (fuzz_inflate(&in, FUZZ_MAX_OUT_BYTES, &out, &err) != 0)
		goto out;
	first = buf_bytes(out);
	n = first.len;
	/* Exactly at the limit: the same bytes again. */
	if (fuzz_inflate(&in, n, &again, &err) != 0)
		fuzz_fail("inflate_report: refused at its own size", err.msg);
	second = buf_bytes(again);
	fuzz_check(second.len == n && memcmp(second.data, first.data, n) == 0,
	    "inflate_report: output differs at its own size");
	buf_free(&again);
	/* One byte under: refused. */
	if (n > 0) {
		if (fuzz_inflate(&in, n - 1, &again, &err) == 0)
			fuzz_fail("inflate_report: accepted one byte past "
			    "max_out", NULL);
		fuzz_check(err.kind == TI_KIND_DATA,
		    "inflate_report: one byte past max_out is not DATA");
	}
out:
	buf_free(&again);
	buf_free(&out);
	return 0;
}
