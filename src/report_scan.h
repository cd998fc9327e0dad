/*
 * report_scan.h - stage 4, before the parser: bounds on the nesting and
 * the number of values of a JSON text, checked lexically.
 */
#ifndef TI_REPORT_SCAN_H
#define TI_REPORT_SCAN_H

#include <stddef.h>

#include "status.h"
#include "ti_limits.h"

/*
 * The most JSON values (opening brackets and commas) a report within lim
 * can need; report_scan() refuses a text with more.
 */
size_t report_scan_max_values(const struct ti_limits *lim);

/*
 * Check the text p (len bytes) for nesting deeper than lim->json_depth,
 * more values than report_scan_max_values(lim), and more values (one per
 * 4 bytes) or objects and arrays (one per 16 bytes) than its size allows,
 * each with 256 to spare.  Returns 0, or -1 with DATA ("JSON nesting
 * deeper than 32").
 */
int report_scan(const unsigned char *p, size_t len,
    const struct ti_limits *lim, struct ti_err *err) TI_MUST_CHECK;

#endif
