/*
 * utf8.c - strict UTF-8 (RFC 3629) for every stage: one validator, and
 * on top of it the cleaner for stored text and the control-character
 * test used by the log sanitizer.
 *
 * Trust: every byte is untrusted.  Well-formed means the shortest form,
 * no surrogates (U+D800-U+DFFF) and nothing past U+10FFFF, which is
 * what PostgreSQL accepts as text.  The cleaner never writes past the
 * cap it is given and never splits a character.
 */
#include "autoconf.h"

#include <stdlib.h>
#include <string.h>

#include "utf8.h"

size_t
utf8_char_len(const unsigned char *p, size_t n, uint32_t *cp_r)
{
	unsigned char lo = 0x80;
	unsigned char hi = 0xbf;
	uint32_t cp;
	size_t need;
	size_t i;

	if (n == 0)
		return 0;
	if (p[0] < 0x80) {
		need = 1;
		cp = p[0];
	} else if (p[0] >= 0xc2 && p[0] <= 0xdf) {
		need = 2;
		cp = p[0] & 0x1f;
	} else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		need = 3;
		cp = p[0] & 0x0f;
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		need = 4;
		cp = p[0] & 0x07;
	} else {
		return 0;
	}
	if (n < need)
		return 0;
	/* The second byte's range rules out overlongs, surrogates and
	 * code points past U+10FFFF (RFC 3629 section 4). */
	if (p[0] == 0xe0)
		lo = 0xa0;
	else if (p[0] == 0xed)
		hi = 0x9f;
	else if (p[0] == 0xf0)
		lo = 0x90;
	else if (p[0] == 0xf4)
		hi = 0x8f;
	for (i = 1; i < need; i++) {
		if (p[i] < (i == 1 ? lo : 0x80) || p[i] > (i == 1 ? hi : 0xbf))
			return 0;
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	if (cp_r != NULL)
		*cp_r = cp;
	return need;
}

bool
utf8_valid(const unsigned char *p, size_t n)
{
	size_t i = 0;
	size_t k;

	while (i < n) {
		k = utf8_char_len(p + i, n - i, NULL);
		if (k == 0)
			return false;
		i += k;
	}
	return true;
}

size_t
utf8_bom_len(const unsigned char *p, size_t n)
{
	if (p != NULL && n >= UTF8_BOM_BYTES &&
	    memcmp(p, "\xef\xbb\xbf", UTF8_BOM_BYTES) == 0)
		return UTF8_BOM_BYTES;
	return 0;
}

bool
utf8_is_control(uint32_t cp)
{
	if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f))
		return true;
	return cp == 0x200e || cp == 0x200f || cp == 0x2028 ||
	    cp == 0x2029 || (cp >= 0x202a && cp <= 0x202e) ||
	    (cp >= 0x2066 && cp <= 0x2069);
}

/* A byte copied as it is: printable ASCII, and tab and LF in text. */
static bool
utf8_plain_byte(unsigned char c, bool one_line)
{
	if (c >= 0x20 && c < 0x7f)
		return true;
	return !one_line && (c == '\t' || c == '\n');
}

int
utf8_clean(struct buf *b, const void *p, size_t n, size_t max,
    unsigned flags, struct ti_err *err)
{
	const unsigned char *u = p;
	bool one_line = (flags & UTF8_CLEAN_ONE_LINE) != 0;
	size_t len = buf_bytes(b).len;
	size_t i = 0;
	size_t j;
	size_t k;
	char c;

	while (i < n && len < max) {
		/* Runs of plain ASCII go in at once. */
		for (j = i; j < n && utf8_plain_byte(u[j], one_line); j++)
			continue;
		if (j > i) {
			k = j - i < max - len ? j - i : max - len;
			if (buf_append(b, u + i, k, err) != 0)
				return -1;
			len += k;
			i += k;
			continue;
		}
		if (!one_line && u[i] == '\r' && i + 1 < n &&
		    u[i + 1] == '\n') {
			i++;
			continue;
		}
		k = utf8_char_len(u + i, n - i, NULL);
		if (k == 0 || u[i] == '\0') {
			c = '?';
			k = 1;
		} else if (k == 1) {
			/* a control character, or a CR alone */
			c = one_line ? ' ' : (char)u[i];
		} else {
			if (k > max - len)
				break;
			if (buf_append(b, u + i, k, err) != 0)
				return -1;
			len += k;
			i += k;
			continue;
		}
		if (buf_append(b, &c, 1, err) != 0)
			return -1;
		len++;
		i += k;
	}
	/* Even an empty result has its terminating NUL. */
	return buf_append(b, "", 0, err);
}

static bool
utf8_is_blank(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

int
utf8_clean_dup(const void *p, size_t n, size_t max, unsigned flags,
    char **dst_r, struct ti_err *err)
{
	const unsigned char *u = p;
	struct buf *b = NULL;
	struct ti_bytes v;
	char *s = NULL;
	int rc = -1;

	*dst_r = NULL;
	while ((flags & UTF8_CLEAN_TRIM) != 0 && n > 0 && utf8_is_blank(*u)) {
		u++;
		n--;
	}
	while ((flags & UTF8_CLEAN_TRIM) != 0 && n > 0 &&
	    utf8_is_blank(u[n - 1]))
		n--;
	b = buf_new(max, err);
	if (b == NULL)
		return -1;
	if (utf8_clean(b, u, n, max, flags, err) != 0)
		goto out;
	v = buf_bytes(b);
	/* Controls at the end became spaces in one line: trim again. */
	while ((flags & UTF8_CLEAN_TRIM) != 0 && v.len > 0 &&
	    v.data[v.len - 1] == ' ')
		v.len--;
	s = malloc(v.len + 1);
	if (s == NULL) {
		ti_err_set(err, TI_KIND_TEMP, "out of memory");
		goto out;
	}
	memcpy(s, v.data, v.len);
	s[v.len] = '\0';
	*dst_r = s;
	rc = 0;
out:
	buf_free(&b);
	return rc;
}
