/*
 * adm_check.h - tlsrpt-adm check: what its options ask of the database
 * (adm_check.c parses and prints, adm_check_sql.c asks).
 */
#ifndef TI_ADM_CHECK_H
#define TI_ADM_CHECK_H

#include "adm.h"	/* PGresult */
#include "status.h"

struct check_opts {
	const char *domains;	/* --domain values, one a line; NULL: all */
	long window_s;		/* --window, in seconds */
	const char *warn;	/* -w, a percentage as typed (checked) */
	const char *crit;	/* -c, likewise */
	long silence_d;		/* --silence, days */
	long forget_d;		/* --forget, days; 0: never */
	long rejected;		/* --rejected */
};

/*
 * The checks' answer, one row per line of output, in this order:
 *   kind 'p': a problem (or, state 0, a note): state, domain (NULL for
 *     the kept-aside messages), text; worst first.
 *   kind 's': one summary: domain = number of domains checked, text =
 *     successful and failed sessions in the window ("OK FAILED").
 *   kind 'r': kept-aside messages in the window: text = their number.
 *   kind 'd': one per domain: domain, text = its failure rate in percent
 *     ("U" without sessions in the window).
 * Columns: kind, state, domain, text, cat (a problem's category: 1 the
 * failure rate, 2 silence, 3 a reporter overdue, 4 a new result type,
 * 5 kept-aside messages; 0 for the other kinds).  Returns owned
 * (PQclear), or NULL with err (from adm_query).
 */
PGresult *check_sql_run(struct adm *adm, const struct check_opts *o,
    struct ti_err *err);

#endif
