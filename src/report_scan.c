/*
 * report_scan.c - stage 4, before the parser: bounds on the shape of the
 * JSON text, checked without parsing it, so that the parser's memory is
 * bounded by what a report within the limits can need, not only by the
 * size of the text.
 *
 * Trust: the text is hostile and need not be JSON at all.  Brackets and
 * commas are counted outside strings, honouring backslash escapes inside
 * them; a stray closer is the parser's to refuse.  Limits: nesting at
 * most lim->json_depth, values at most report_scan_max_values(lim), and,
 * since the parser spends far more on a value than the text does, values
 * and objects or arrays in proportion to the text: a real report spends
 * some 25 bytes of text on a value and 60 on an object or array
 * (the corpus), so REPORT_SCAN_VALUE_BYTES and
 * REPORT_SCAN_CONTAINER_BYTES leave it room four times over, while
 * "{},{},..." or "[0,0,..." cannot make the parser's tree more than a
 * small multiple of the text.
 */
#include "autoconf.h"

#include <stdbool.h>
#include <stddef.h>

#include "report_scan.h"

#define REPORT_SCAN_VALUE_BYTES 4
#define REPORT_SCAN_CONTAINER_BYTES 16
#define REPORT_SCAN_SLACK 256

size_t
report_scan_max_values(const struct ti_limits *lim)
{
	return lim->failure_details * 16 + lim->policies * 64 +
	    lim->policy_strings * 2 + 4096;
}

int
report_scan(const unsigned char *p, size_t len,
    const struct ti_limits *lim, struct ti_err *err)
{
	size_t max = lim->json_depth;
	size_t max_values = report_scan_max_values(lim);
	size_t for_size = len / REPORT_SCAN_VALUE_BYTES + REPORT_SCAN_SLACK;
	size_t containers_for_size = len / REPORT_SCAN_CONTAINER_BYTES +
	    REPORT_SCAN_SLACK;
	size_t depth = 0;
	size_t values = 0;
	size_t containers = 0;
	size_t i;
	bool in_string = false;

	for (i = 0; i < len; i++) {
		if (in_string) {
			if (p[i] == '\\')
				i++;
			else if (p[i] == '"')
				in_string = false;
			continue;
		}
		switch (p[i]) {
		case '"':
			in_string = true;
			break;
		case '{':
		case '[':
			if (++depth > max)
				return ti_err_set(err, TI_KIND_DATA,
				    "JSON nesting deeper than %zu", max);
			if (++containers > containers_for_size)
				return ti_err_set(err, TI_KIND_DATA,
				    "JSON holds more than %zu objects and "
				    "arrays for its %zu bytes",
				    containers_for_size, len);
			values++;
			break;
		case ',':
			values++;
			break;
		case '}':
		case ']':
			if (depth > 0)
				depth--;
			break;
		default:
			break;
		}
		if (values > max_values)
			return ti_err_set(err, TI_KIND_DATA,
			    "JSON holds more than %zu values", max_values);
		if (values > for_size)
			return ti_err_set(err, TI_KIND_DATA,
			    "JSON holds more than %zu values for its %zu bytes",
			    for_size, len);
	}
	return 0;
}
