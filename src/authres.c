/*
 * authres.c - the DKIM verdict from Authentication-Results (RFC 8601).
 *
 * Input: header values as the message carries them (unfolded or not)
 * and the report's contact-info string, all untrusted.  The parser is a
 * single forward scan with no recursion: comments nest to any depth with
 * a counter, quoted strings and comments that never end simply end the
 * value, and a malformed result is skipped up to the next ';'.  Whatever
 * the bytes, the answer is at worst "no verdict": hostile input is never
 * an error, only memory exhaustion is.
 *
 * Limits: authserv-ids longer than AUTHRES_ID_BYTES, result keywords
 * longer than AUTHRES_RESULT_BYTES and domains longer than TI_DOMAIN_BYTES
 * (domain.c) are not believed.  Work is linear in the length of the values.
 */
#include "autoconf.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ascii.h"
#include "authres.h"
#include "domain.h"
#include "ti_limits.h"

/* Longest authserv-id kept, NUL included; longer ones match nothing. */
#define AUTHRES_ID_BYTES 256
/* Longest method, result or property keyword, NUL included. */
#define AUTHRES_RESULT_BYTES 64

/* A read position in one header value. */
struct cur {
	const char *p;
	const char *end;
};

/* One dkim result: its verdict and the domain it names. */
struct cand {
	bool set;
	char result[AUTHRES_RESULT_BYTES];
	char domain[TI_DOMAIN_BYTES + 1];	/* "" when none */
};

/* What one resinfo said, while it is read. */
struct resinfo {
	char method[AUTHRES_RESULT_BYTES];
	char result[AUTHRES_RESULT_BYTES];
	char d[TI_DOMAIN_BYTES + 2];	/* room for a trailing dot */
	char i[TI_DOMAIN_BYTES + 2];	/* the domain part of header.i */
	bool seen_d;		/* a header.d was there ... */
	bool seen_i;
	bool has_d;		/* ... and it is a domain */
	bool has_i;
};

/* The header chosen, and its preferred results so far. */
struct pick {
	char id[AUTHRES_ID_BYTES];
	struct cand first;
	struct cand pass;
	struct cand cover;
};

/* A token character of RFC 2045: no space, control or tspecial. */
static bool
is_token(char ch)
{
	unsigned char u = (unsigned char)ch;

	if (u <= 0x20 || u >= 0x7f)
		return false;
	return strchr("()<>@,;:\\\"/[]?=", ch) == NULL;
}

/* Letters, digits, '-' and '_' (RFC 8601 Keyword, and x- names). */
static bool
is_keyword(char ch)
{
	return ascii_is_alnum(ch) || ch == '-' || ch == '_';
}

static bool
at_end(const struct cur *c)
{
	return c->p >= c->end;
}

/* Past a comment that starts at c->p: nested, with quoted pairs. */
static void
skip_comment(struct cur *c)
{
	size_t depth = 0;

	while (!at_end(c)) {
		if (*c->p == '\\' && c->end - c->p >= 2) {
			c->p += 2;
			continue;
		}
		if (*c->p == '(') {
			depth++;
		} else if (*c->p == ')') {
			depth--;
			if (depth == 0) {
				c->p++;
				return;
			}
		}
		c->p++;
	}
}

/* Past a quoted string that starts at c->p, keeping nothing. */
static void
skip_quoted(struct cur *c)
{
	c->p++;
	while (!at_end(c)) {
		if (*c->p == '\\' && c->end - c->p >= 2) {
			c->p += 2;
			continue;
		}
		if (*c->p++ == '"')
			return;
	}
}

/* Past white space (folded or not) and comments. */
static void
skip_cfws(struct cur *c)
{
	while (!at_end(c)) {
		if (ascii_is_space(*c->p))
			c->p++;
		else if (*c->p == '(')
			skip_comment(c);
		else
			return;
	}
}

/* Past everything up to the next ';' outside comments and quotes. */
static void
skip_resinfo(struct cur *c)
{
	while (!at_end(c) && *c->p != ';') {
		if (*c->p == '(')
			skip_comment(c);
		else if (*c->p == '"')
			skip_quoted(c);
		else
			c->p++;
	}
}

/* Does a word end here: at the end, white space, a comment or ';'? */
static bool
word_ends(const struct cur *c)
{
	return at_end(c) || ascii_is_space(*c->p) || *c->p == '(' ||
	    *c->p == ';';
}

static bool
take(struct cur *c, char ch)
{
	if (at_end(c) || *c->p != ch)
		return false;
	c->p++;
	return true;
}

/*
 * A run of characters accepted by ok, lower-cased into out (size bytes)
 * when lower is set.  False when the run is empty or does not fit; the
 * run is passed over either way.
 */
static bool
read_run(struct cur *c, bool (*ok)(char), bool low, char *out, size_t size)
{
	size_t n = 0;
	bool fits = true;

	while (!at_end(c) && ok(*c->p)) {
		if (n + 1 < size)
			out[n++] = low ? ascii_lower(*c->p) : *c->p;
		else
			fits = false;
		c->p++;
	}
	out[n] = '\0';
	return fits && n > 0;
}

/* A quoted string at c->p, unescaped into out.  False when cut short. */
static bool
read_quoted(struct cur *c, char *out, size_t size)
{
	size_t n = 0;
	bool fits = true;
	char ch;

	c->p++;
	while (!at_end(c)) {
		ch = *c->p++;
		if (ch == '"') {
			out[n] = '\0';
			return fits;
		}
		if (ch == '\\' && !at_end(c))
			ch = *c->p++;
		if (n + 1 < size)
			out[n++] = ch;
		else
			fits = false;
	}
	out[n] = '\0';
	return false;
}

/* value = token / quoted-string (RFC 2045). */
static bool
read_value(struct cur *c, char *out, size_t size)
{
	if (!at_end(c) && *c->p == '"')
		return read_quoted(c, out, size);
	return read_run(c, is_token, false, out, size);
}

/* Anything up to white space, a comment or ';': a property's value. */
static bool
is_pvalue(char ch)
{
	unsigned char u = (unsigned char)ch;

	return u > 0x20 && u != 0x7f && ch != ';' && ch != '(' && ch != '"';
}

/*
 * pvalue: a quoted string, or an address, domain or other word.  An
 * empty value gives "".  False when it does not fit or a quote is open.
 */
static bool
read_pvalue(struct cur *c, char *out, size_t size)
{
	bool ok;
	size_t n;

	if (!at_end(c) && *c->p == '"') {
		/* A quoted local part may be followed by "@" domain. */
		ok = read_quoted(c, out, size);
		if (at_end(c) || *c->p != '@')
			return ok;
		n = strlen(out);
		return read_run(c, is_pvalue, false, out + n, size - n) && ok;
	}
	if (at_end(c) || !is_pvalue(*c->p)) {
		out[0] = '\0';
		return true;
	}
	return read_run(c, is_pvalue, false, out, size);
}

/* The domain part of an AUID: after the last '@'. */
static bool
auid_domain(const char *v, char *out, size_t size)
{
	const char *at = strrchr(v, '@');
	size_t n;

	if (at == NULL)
		return false;
	n = strlen(at + 1);
	if (n + 1 > size)
		return false;
	memcpy(out, at + 1, n + 1);
	return domain_norm(out);
}

/* ptype "." property "=" pvalue, or "reason" "=" value. */
static bool
read_prop(struct cur *c, struct resinfo *r)
{
	char ptype[AUTHRES_RESULT_BYTES];
	char prop[AUTHRES_RESULT_BYTES];
	char value[TI_DOMAIN_BYTES + 2];
	bool fits;
	size_t n;

	if (!read_run(c, is_keyword, true, ptype, sizeof(ptype)))
		return false;
	skip_cfws(c);
	if (strcmp(ptype, "reason") == 0) {
		if (!take(c, '='))
			return false;
		skip_cfws(c);
		(void)read_value(c, value, sizeof(value));
		return true;
	}
	if (!take(c, '.'))
		return false;
	skip_cfws(c);
	/* smtp.mailfrom, header.d, policy.iprev, body.hash ... */
	if (!read_run(c, is_keyword, true, prop, sizeof(prop)))
		return false;
	skip_cfws(c);
	if (!take(c, '='))
		return false;
	skip_cfws(c);
	fits = read_pvalue(c, value, sizeof(value));
	if (strcmp(ptype, "header") != 0)
		return true;
	/* The first of each counts, even when it is no good. */
	n = strlen(value);
	if (strcmp(prop, "d") == 0 && !r->seen_d) {
		r->seen_d = true;
		if (fits && n < sizeof(r->d)) {
			memcpy(r->d, value, n + 1);
			r->has_d = domain_norm(r->d);
		}
	} else if (strcmp(prop, "i") == 0 && !r->seen_i) {
		r->seen_i = true;
		r->has_i = fits && auid_domain(value, r->i, sizeof(r->i));
	}
	return true;
}

/*
 * One resinfo, c->p just past its ';'.  False when there is no
 * "method=result" to speak of.  Properties are read until the first that
 * does not parse; the rest up to the next ';' is passed over.
 */
static bool
read_resinfo(struct cur *c, struct resinfo *r)
{
	char version[16];

	memset(r, 0, sizeof(*r));
	skip_cfws(c);
	if (!read_run(c, is_keyword, true, r->method, sizeof(r->method)))
		return false;
	skip_cfws(c);
	if (take(c, '/')) {
		skip_cfws(c);
		if (!read_run(c, ascii_is_digit, false, version, sizeof(version)))
			return false;
		skip_cfws(c);
	}
	if (!take(c, '='))
		return false;
	skip_cfws(c);
	if (!read_run(c, is_keyword, true, r->result, sizeof(r->result)) ||
	    !word_ends(c))
		return false;
	for (;;) {
		skip_cfws(c);
		if (at_end(c) || *c->p == ';')
			return true;
		if (!read_prop(c, r))
			return true;
	}
}

static void
cand_set(struct cand *k, const struct resinfo *r)
{
	k->set = true;
	memcpy(k->result, r->result, sizeof(k->result));
	/* Normalised: at most TI_DOMAIN_BYTES. */
	if (r->has_d)
		memcpy(k->domain, r->d, strlen(r->d) + 1);
	else if (r->has_i)
		memcpy(k->domain, r->i, strlen(r->i) + 1);
	else
		k->domain[0] = '\0';
}

/* Weigh one dkim result against the ones seen before it. */
static void
pick_add(struct pick *pk, const struct resinfo *r, const char *reporting)
{
	struct cand k;

	cand_set(&k, r);
	if (!pk->first.set)
		pk->first = k;
	if (strcmp(k.result, "pass") != 0)
		return;
	if (!pk->pass.set)
		pk->pass = k;
	if (!pk->cover.set && reporting != NULL && k.domain[0] != '\0' &&
	    domain_covers(k.domain, reporting))
		pk->cover = k;
}

/* Printable ASCII only: it goes to logs and the database as text. */
static bool
id_ok(const char *id)
{
	const unsigned char *p = (const unsigned char *)id;

	if (*p == '\0')
		return false;
	for (; *p != '\0'; p++) {
		if (*p < 0x20 || *p >= 0x7f)
			return false;
	}
	return true;
}

/*
 * Read one header value.  True when it is well-formed enough to count:
 * an authserv-id (matching want_id when given), an optional version,
 * then ';' and results or "none".  Its dkim results are added to pk;
 * fresh starts pk afresh, with this header's authserv-id.
 */
static bool
read_header(const char *v, const char *want_id, const char *reporting,
    struct pick *pk, bool fresh)
{
	struct cur c;
	struct resinfo r;
	char id[AUTHRES_ID_BYTES];
	char version[16];

	c.p = v;
	c.end = v + strlen(v);
	skip_cfws(&c);
	if (!read_value(&c, id, sizeof(id)) || !id_ok(id))
		return false;
	skip_cfws(&c);
	if (!at_end(&c) && ascii_is_digit(*c.p)) {
		if (!read_run(&c, ascii_is_digit, false, version, sizeof(version)))
			return false;
		skip_cfws(&c);
	}
	if (want_id != NULL && strcasecmp(id, want_id) != 0)
		return false;
	if (at_end(&c))
		return false;
	if (*c.p != ';') {
		/* "id none" without the ';', as some software writes it. */
		if (c.end - c.p < 4 || strncasecmp(c.p, "none", 4) != 0)
			return false;
		c.p += 4;
		skip_cfws(&c);
		if (!at_end(&c))
			return false;
	}
	if (fresh) {
		memset(pk, 0, sizeof(*pk));
		memcpy(pk->id, id, sizeof(pk->id));
	}
	while (take(&c, ';')) {
		if (read_resinfo(&c, &r) && strcmp(r.method, "dkim") == 0)
			pick_add(pk, &r, reporting);
		skip_resinfo(&c);
	}
	return true;
}

static int
dup_str(char **dst, const char *src, struct ti_err *err)
{
	*dst = strdup(src);
	if (*dst == NULL)
		return ti_err_set(err, TI_KIND_TEMP, "out of memory");
	return 0;
}

int
authres_dkim(char *const *values, size_t n, const char *authserv_id,
    const char *reporting_domain, struct authres_dkim *out,
    struct ti_err *err)
{
	/* On the stack: a kilobyte from malloc costs more than reading. */
	struct pick pick;
	struct pick *pk = &pick;
	const struct cand *k = NULL;
	size_t i;
	int rc = -1;

	out->authserv_id = NULL;
	out->result = NULL;
	out->domain = NULL;
	if (values == NULL || n == 0)
		return 0;
	memset(pk, 0, sizeof(*pk));
	for (i = 0; i < n; i++) {
		if (values[i] != NULL && read_header(values[i], authserv_id,
		    reporting_domain, pk, true))
			break;
	}
	if (i == n) {
		rc = 0;
		goto out;
	}
	/*
	 * Some servers write one header per method, all with the same
	 * authserv-id: while no dkim result is found, read on through the
	 * headers right below that carry the same authserv-id.
	 */
	for (i++; i < n && !pk->first.set; i++) {
		if (values[i] == NULL || !read_header(values[i], pk->id,
		    reporting_domain, pk, false))
			break;
	}
	k = pk->cover.set ? &pk->cover : pk->pass.set ? &pk->pass :
	    pk->first.set ? &pk->first : NULL;
	if (dup_str(&out->authserv_id, pk->id, err) != 0)
		goto out;
	if (dup_str(&out->result, k != NULL ? k->result : "none", err) != 0)
		goto out;
	if (k != NULL && k->domain[0] != '\0' &&
	    dup_str(&out->domain, k->domain, err) != 0)
		goto out;
	rc = 0;
out:
	if (rc != 0)
		authres_dkim_clear(out);
	return rc;
}

void
authres_dkim_clear(struct authres_dkim *d)
{
	if (d == NULL)
		return;
	free(d->authserv_id);
	free(d->result);
	free(d->domain);
	d->authserv_id = NULL;
	d->result = NULL;
	d->domain = NULL;
}
