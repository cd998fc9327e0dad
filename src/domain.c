/*
 * domain.c - domain names from untrusted text: their normal form,
 * whether one covers another, and the domain of a report's contact-info.
 * Pure string handling; work is linear in the length of the input.
 */
#include "autoconf.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ascii.h"
#include "domain.h"
#include "ti_limits.h"

static bool
is_domain(char ch)
{
	return ascii_is_alnum(ch) || ch == '-' || ch == '_' || ch == '.';
}

bool
domain_norm(char *s)
{
	size_t n = strlen(s);
	size_t i;

	if (n > 0 && s[n - 1] == '.')
		s[--n] = '\0';
	if (n == 0 || n > TI_DOMAIN_BYTES || s[0] == '.')
		return false;
	for (i = 0; i < n; i++) {
		if (!is_domain(s[i]))
			return false;
		if (s[i] == '.' && s[i + 1] == '.')
			return false;
		s[i] = ascii_lower(s[i]);
	}
	return true;
}

/* Length of s without one trailing dot. */
static size_t
len_nodot(const char *s)
{
	size_t n = strlen(s);

	if (n > 0 && s[n - 1] == '.')
		n--;
	return n;
}

bool
domain_covers(const char *d, const char *dom)
{
	size_t dn;
	size_t domn;

	if (d == NULL || dom == NULL)
		return false;
	dn = len_nodot(d);
	domn = len_nodot(dom);
	if (dn == 0 || domn == 0 || dn > domn)
		return false;
	if (dn == domn)
		return strncasecmp(d, dom, dn) == 0;
	return dom[domn - dn - 1] == '.' &&
	    strncasecmp(d, dom + domn - dn, dn) == 0;
}

/* A domain of two labels or more from the n bytes at s, owned, or NULL. */
static char *
contact_take(const char *s, size_t n)
{
	char *d = NULL;

	if (n == 0 || n > TI_DOMAIN_BYTES + 1)
		return NULL;
	d = malloc(n + 1);
	if (d == NULL)
		return NULL;
	memcpy(d, s, n);
	d[n] = '\0';
	/* A contact's domain has at least two labels. */
	if (!domain_norm(d) || strchr(d, '.') == NULL) {
		free(d);
		return NULL;
	}
	return d;
}

/* The run of domain characters at s. */
static size_t
domain_span(const char *s, const char *end)
{
	const char *p = s;

	while (p < end && is_domain(*p))
		p++;
	return (size_t)(p - s);
}

/* A domain at s, ended by end or one of the stop characters. */
static char *
contact_domain_at(const char *s, const char *end, const char *stop)
{
	size_t n = domain_span(s, end);

	if (s + n < end && strchr(stop, s[n]) == NULL)
		return NULL;
	return contact_take(s, n);
}

char *
domain_of_contact(const char *contact)
{
	const char *s = NULL;
	const char *end = NULL;
	const char *p = NULL;
	const char *host = NULL;
	const char *at = NULL;

	if (contact == NULL)
		return NULL;
	s = contact;
	end = s + strlen(s);
	while (s < end && ascii_is_space(*s))
		s++;
	while (end > s && ascii_is_space(end[-1]))
		end--;
	if ((size_t)(end - s) >= 7 && strncasecmp(s, "mailto:", 7) == 0)
		s += 7;
	/* scheme "://" authority: the host, after any user info. */
	p = s;
	while (p < end && (ascii_is_alnum(*p) || *p == '+' || *p == '-' ||
	    *p == '.'))
		p++;
	if (p > s && end - p >= 3 && memcmp(p, "://", 3) == 0) {
		host = p + 3;
		for (p = host; p < end && *p != '/' && *p != '?' &&
		    *p != '#'; p++) {
			if (*p == '@')
				host = p + 1;
		}
		return contact_domain_at(host, p, ":");
	}
	/* An address, perhaps in angle brackets or among others. */
	for (at = s; at < end && *at != '@'; at++)
		continue;
	if (at < end)
		return contact_domain_at(at + 1, end, " \t\r\n>,;?)");
	/* A bare domain: all of it. */
	if (domain_span(s, end) != (size_t)(end - s))
		return NULL;
	return contact_take(s, (size_t)(end - s));
}
