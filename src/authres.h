/*
 * authres.h - the DKIM verdict that the receiving MTA wrote into
 * Authentication-Results (RFC 8601), and whether the reporting domain
 * lines up with it.  Pure string handling; no I/O.
 */
#ifndef TI_AUTHRES_H
#define TI_AUTHRES_H

#include <stdbool.h>
#include <stddef.h>

#include "status.h"

struct authres_dkim {
	char *authserv_id;	/* whose header the verdict came from, or NULL */
	char *result;		/* pass, fail, none, neutral, policy,
				 * temperror, permerror; NULL: no header */
	char *domain;		/* header.d of that result, lower case, or NULL */
};

/*
 * Choose the header: the topmost one whose authserv-id equals authserv_id
 * (case-insensitive), or the topmost one when authserv_id is NULL.  From
 * it take the dkim results; prefer a "pass" whose header.d is the
 * reporting domain or a parent of it (see domain_covers), then any
 * pass, then the first dkim result.  A header without any dkim result
 * gives result "none", unless the headers right below it carry the same
 * authserv-id (some MTAs, Fastmail among them, write one header per
 * method): then the first dkim result among those is taken.  No matching
 * header leaves everything NULL.
 * Returns 0, or -1 with TEMP (memory).  Hostile input is never an error.
 */
int authres_dkim(char *const *values, size_t n, const char *authserv_id,
    const char *reporting_domain, struct authres_dkim *out,
    struct ti_err *err) TI_MUST_CHECK;

void authres_dkim_clear(struct authres_dkim *d);

#endif
