/*
 * status.h - error kinds, the error record every fallible function fills,
 * the one table that maps a kind to a sysexits(3) code, and how those
 * codes rank when a run meets several.
 */
#ifndef TI_STATUS_H
#define TI_STATUS_H

#include <stdarg.h>
#include <stddef.h>

#define TI_MUST_CHECK __attribute__((warn_unused_result))
#define TI_PRINTF(f, a) __attribute__((format(printf, f, a)))

#define TI_ERR_MSG_BYTES 256

enum ti_kind {
	TI_KIND_NONE = 0,	/* no error */
	TI_KIND_TEMP,		/* may work later: database down, ENOSPC, OOM */
	TI_KIND_DATA,		/* this message never will: malformed input */
	TI_KIND_CONFIG,		/* our configuration or schema is wrong */
	TI_KIND_INTERNAL,	/* a bug or an impossible state */
	TI_KIND_USAGE,		/* a person typed a wrong option */
	TI_KIND_IO,		/* a named input file could not be read */
};

struct ti_err {
	enum ti_kind kind;
	char msg[TI_ERR_MSG_BYTES];
};

/* Clear an error record. */
void ti_err_clear(struct ti_err *err);

/*
 * Fill err with kind and a formatted one-line message (cut to fit).
 * Returns -1 so callers can write "return ti_err_set(...)". NULL-safe.
 */
int ti_err_set(struct ti_err *err, enum ti_kind kind, const char *fmt, ...)
    TI_PRINTF(3, 4);

/* Prefix an existing message with "prefix: ". Returns -1. */
int ti_err_prefix(struct ti_err *err, const char *fmt, ...) TI_PRINTF(2, 3);

/* snprintf that reports truncation as failure: 0 on success, -1 if cut. */
int ti_snprintf(char *buf, size_t size, const char *fmt, ...)
    TI_PRINTF(3, 4) TI_MUST_CHECK;

/* Name of a kind, for logs ("temporary", "data", ...). */
const char *ti_kind_name(enum ti_kind kind);

/*
 * The sysexits(3) code for a kind.  under_mta is nonzero when a mail
 * system runs us (pipe mode), where only 75 means "try again" and every
 * other code bounces; there usage and I/O trouble also map to 75.
 */
int ti_kind_exit(enum ti_kind kind, int under_mta);

/*
 * The more urgent of two exit codes (a when they rank the same): 75
 * above all, 0 below all.  A code the program never uses ranks as 70.
 */
int ti_exit_worse(int a, int b);

#endif
