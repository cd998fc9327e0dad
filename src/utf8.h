/*
 * utf8.h - the one strict UTF-8 validator (RFC 3629), and what the
 * stages build on it: the cleaner for text stored in PostgreSQL, the
 * test for characters a log line must not carry as they are, and the
 * byte-order mark.
 */
#ifndef TI_UTF8_H
#define TI_UTF8_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "status.h"

/* The byte-order mark, EF BB BF. */
#define UTF8_BOM_BYTES 3

/* utf8_clean() flags. */
#define UTF8_CLEAN_ONE_LINE 0x1	/* every control becomes a space */
#define UTF8_CLEAN_TRIM 0x2	/* utf8_clean_dup: blanks (space, tab, CR,
				 * LF) at both ends of the input are left
				 * out, and spaces at the end of the
				 * result */

/*
 * Length (1 to 4) of the well-formed UTF-8 sequence at p, of which n
 * bytes are readable, and its code point in *cp_r (may be NULL); 0 when
 * none starts there: a stray or missing continuation byte, an overlong
 * form, a surrogate, a code point past U+10FFFF, a sequence cut short,
 * or n == 0.  NUL is a well-formed character of length 1.
 */
size_t utf8_char_len(const unsigned char *p, size_t n, uint32_t *cp_r);

/* True when all n bytes at p are well-formed UTF-8. */
bool utf8_valid(const unsigned char *p, size_t n);

/* UTF8_BOM_BYTES when the n bytes at p start with a byte-order mark,
 * else 0: what to skip. */
size_t utf8_bom_len(const unsigned char *p, size_t n);

/*
 * True for a code point that must not reach a log line as it is: C0
 * controls, DEL, C1 controls (U+0080-U+009F), the line and paragraph
 * separators (U+2028, U+2029), and the bidi controls (U+200E, U+200F,
 * U+202A-U+202E, U+2066-U+2069).
 */
bool utf8_is_control(uint32_t cp);

/*
 * Append n bytes of untrusted text to b as valid UTF-8 without NUL, for
 * a PostgreSQL text column: NUL and every byte that starts no
 * well-formed sequence become '?'.  CR LF becomes LF; with
 * UTF8_CLEAN_ONE_LINE every other C0 control and DEL becomes a space.
 * What would take b past max bytes is left out silently, whole
 * characters only.  Returns 0, or -1 with TEMP (memory).
 */
int utf8_clean(struct buf *b, const void *p, size_t n, size_t max,
    unsigned flags, struct ti_err *err) TI_MUST_CHECK;

/*
 * The same into a new C string: *dst_r (owned, free()) holds the n bytes
 * at p cleaned as utf8_clean() does, at most max bytes of them.  Returns
 * 0, or -1 with TEMP (memory) and *dst_r NULL.
 */
int utf8_clean_dup(const void *p, size_t n, size_t max, unsigned flags,
    char **dst_r, struct ti_err *err) TI_MUST_CHECK;

#endif
