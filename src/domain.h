/*
 * domain.h - domain names from untrusted text.  Pure string handling; no
 * I/O.
 */
#ifndef TI_DOMAIN_H
#define TI_DOMAIN_H

#include <stdbool.h>

/*
 * Check and normalise a domain in place: lower case, one trailing dot
 * dropped, letters, digits, '-', '_' and '.' only, no empty label, at
 * most TI_DOMAIN_BYTES.  False when s is not such a domain.
 */
bool domain_norm(char *s);

/*
 * True when signing domain d may speak for reporting domain dom: they are
 * equal, or dom is a subdomain of d (case-insensitive, a trailing dot
 * ignored).  A signature by a subdomain never covers its parent.
 */
bool domain_covers(const char *d, const char *dom);

/*
 * The domain of a contact-info value ("mailto:a@b.example",
 * "a@b.example", "https://b.example/x", "b.example"), lower case, owned;
 * NULL when none can be found or memory runs out.
 */
char *domain_of_contact(const char *contact);

#endif
