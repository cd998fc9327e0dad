/*
 * fuzz_mimescan.c - libFuzzer target for the bounds checked before GMime
 * parses (mimescan.c).
 *
 * The input is one raw message.  It is scanned with the default limits
 * and with the smallest ones (one part, depth one).  Besides what the
 * sanitizers catch, the target checks the contract: 0, or -1 with DATA
 * and a message; on success every count within its bound; at least the
 * top header block; fields of one block never more than fields in all.
 */
#include "autoconf.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "buf.h"
#include "fuzzutil.h"
#include "mimescan.h"
#include "status.h"
#include "ti_limits.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

static void
fuzz_scan(const struct ti_bytes *in, const struct ti_limits *lim)
{
	struct mimescan_counts c;
	struct ti_err err;

	ti_err_clear(&err);
	memset(&c, 0xa5, sizeof(c));
	if (mimescan_check(in, lim, &c, &err) != 0) {
		fuzz_check_err(&err, FUZZ_KIND(TI_KIND_DATA), "mimescan_check");
	} else {
		fuzz_check(c.boundaries <= MIMESCAN_BOUNDARIES_PER_PART *
		    lim->mime_parts, "boundaries past the bound");
		fuzz_check(c.block_fields <= MIMESCAN_BLOCK_FIELDS,
		    "block fields past the bound");
		fuzz_check(c.block_bytes <= MIMESCAN_BLOCK_BYTES,
		    "block bytes past the bound");
		fuzz_check(c.fields <= MIMESCAN_BLOCK_FIELDS +
		    MIMESCAN_FIELDS_PER_PART * lim->mime_parts,
		    "fields past the bound");
		fuzz_check(c.depth <= lim->mime_depth, "depth past the bound");
	}
	fuzz_check(c.blocks >= 1, "no top header block");
	fuzz_check(c.block_fields <= c.fields, "block fields over all");
	fuzz_check(c.block_bytes <= in->len, "block bytes over the input");
	fuzz_check(c.boundaries <= c.blocks, "a -- line without its block");
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ti_limits lim;
	struct ti_bytes in = { data, size };

	ti_limits_default(&lim);
	fuzz_scan(&in, &lim);
	lim.mime_parts = 1;
	lim.mime_depth = 1;
	fuzz_scan(&in, &lim);
	return 0;
}
