/*
 * pgarray.h - one-dimensional arrays in PostgreSQL's binary format, the
 * parameters of the report writer (stage 5).
 */
#ifndef TI_PGARRAY_H
#define TI_PGARRAY_H

#include <stdbool.h>
#include <stdint.h>

#include "buf.h"
#include "status.h"

/* Element types, by their OIDs in PostgreSQL's catalog (pg_type.dat). */
enum pgarray_type {
	PGARRAY_BOOL = 16,
	PGARRAY_INT8 = 20,
	PGARRAY_INT4 = 23,
	PGARRAY_TEXT = 25,
	PGARRAY_INET = 869,
	PGARRAY_TIMESTAMPTZ = 1184
};

/*
 * Append one element to the array being built in b (empty: a new array).
 * Each fails with DATA when b's maximum is reached (b is then unchanged)
 * or TEMP when memory runs out.  text: a C string, or NULL for a NULL.
 * time: microseconds since the Unix epoch.  inet: an IPv4 or IPv6
 * address in text; anything else becomes a NULL.
 */
int pgarray_add_null(struct buf *b, struct ti_err *err) TI_MUST_CHECK;
int pgarray_add_text(struct buf *b, const char *s, struct ti_err *err)
    TI_MUST_CHECK;
int pgarray_add_bytes(struct buf *b, const void *p, size_t n,
    struct ti_err *err) TI_MUST_CHECK;
int pgarray_add_int4(struct buf *b, int32_t v, struct ti_err *err)
    TI_MUST_CHECK;
int pgarray_add_int8(struct buf *b, int64_t v, struct ti_err *err)
    TI_MUST_CHECK;
int pgarray_add_bool(struct buf *b, bool v, struct ti_err *err)
    TI_MUST_CHECK;
int pgarray_add_time(struct buf *b, int64_t usec, struct ti_err *err)
    TI_MUST_CHECK;
int pgarray_add_inet(struct buf *b, const char *s, struct ti_err *err)
    TI_MUST_CHECK;

/*
 * Finish the array in b, whose elements are all of type t: b then holds
 * the parameter's value (an empty b, an empty array).  Add nothing more;
 * truncate b to 0 to build the next.  TEMP when memory runs out.
 */
int pgarray_close(struct buf *b, enum pgarray_type t, struct ti_err *err)
    TI_MUST_CHECK;

#endif
