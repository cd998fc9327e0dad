/*
 * date.h - RFC 3339 date-times as senders of TLS-RPT reports write them.
 * Pure functions; no locale, no time zone database, no libc time parsing.
 */
#ifndef TI_DATE_H
#define TI_DATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "status.h"

/*
 * Parse s (len bytes, need not be NUL-terminated): "YYYY-MM-DDTHH:MM:SS",
 * optional ".fraction" (digits beyond microseconds are dropped), then
 * "Z", "z", "+HH:MM", "-HH:MM", or nothing (taken as UTC, as Microsoft
 * sends).  "T" may also be "t" or a single space.  Years 1970-9999;
 * fields range-checked (leap seconds "60" accepted and folded into :59).
 * Returns 0 and *usec_r (microseconds since the epoch, UTC), or -1 with
 * DATA and a message saying what is wrong ("not an RFC 3339 date-time").
 */
int date_parse_rfc3339(const char *s, size_t len, int64_t *usec_r,
    struct ti_err *err) TI_MUST_CHECK;

#define DATE_ISO_BYTES 32

/*
 * Format usec as "YYYY-MM-DDTHH:MM:SS[.ffffff]Z" (fraction only when not
 * zero) into out, which must hold DATE_ISO_BYTES.  Returns 0 or -1 if
 * usec is out of the supported range.
 */
int date_format_iso(int64_t usec, char *out, size_t size) TI_MUST_CHECK;

/* True when usec is in date_format_iso()'s range. */
bool date_in_range(int64_t usec);

#endif
