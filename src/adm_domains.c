/*
 * adm_domains.c - tlsrpt-adm domains: list, add or remove the monitored
 * domains (tlsrpt.monitored_domain).  While the list is empty every
 * report is stored; once it holds a domain, tlsrpt.store_reports() stores
 * only reports with a policy about a listed domain (or a subdomain of
 * one, unless it was added with --exact).
 *
 * Names come from the command line: each is checked and normalized here,
 * before anything is sent, to the form the table's CHECK accepts (a DNS
 * name in A-label form: letters, digits and inner hyphens, labels of 1 to
 * 63 bytes, at most 253 in all, lower case, no trailing dot).  One bad
 * name changes nothing.  The names of one add or remove are written in
 * one transaction, and each is reported only once it is committed.
 * Changing the list needs the privileges of the schema's owner; the
 * ingester's and the reader's roles have none on the table.
 */
#include "autoconf.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "adm.h"
#include "log.h"

#define ADM_DOMAIN_BYTES 253
#define ADM_LABEL_BYTES 63

/* What an add or remove did to one name. */
enum adm_domain_change {
	ADM_DOMAIN_ADDED,
	ADM_DOMAIN_UPDATED,	/* was there, include_subdomains changed */
	ADM_DOMAIN_UNCHANGED,	/* was there as asked */
	ADM_DOMAIN_REMOVED,
	ADM_DOMAIN_ABSENT,	/* remove: was not there */
};

struct adm_domain {
	char name[ADM_DOMAIN_BYTES + 1];	/* normalized */
	enum adm_domain_change change;
};

static const char adm_domains_help[] =
    "usage: tlsrpt-adm domains [list]\n"
    "       tlsrpt-adm domains add [--exact] DOMAIN...\n"
    "       tlsrpt-adm domains remove DOMAIN...\n"
    "The monitored domains: once there is one, only reports with a policy\n"
    "for a monitored domain (or a subdomain of one) are stored; others are\n"
    "kept in tlsrpt.rejected_message.  With none, every report is stored.\n"
    "\n"
    "  list          domain, subdomains or exact, and when it was added\n"
    "                (UTC), one a line, sorted\n"
    "  add           monitor each DOMAIN and its subdomains; a domain\n"
    "                already listed takes the new setting\n"
    "  --exact       with add: the domains themselves, not subdomains\n"
    "  remove        stop monitoring each DOMAIN\n"
    "  -h, --help    this text\n"
    "add and remove need the schema owner's role.\n";

/*
 * Check the name in, and write its normalized form to out
 * (ADM_DOMAIN_BYTES + 1 bytes): 0, or -1 with why (a static string).
 */
static int
adm_domain_normalize(const char *in, char *out, const char **why_r)
{
	size_t len = strlen(in), i, label = 0;
	unsigned char c;

	if (len > 0 && in[len - 1] == '.')
		len--;
	if (len == 0) {
		*why_r = "empty";
		return -1;
	}
	if (len > ADM_DOMAIN_BYTES) {
		*why_r = "longer than 253 bytes";
		return -1;
	}
	for (i = 0; i < len; i++) {
		c = (unsigned char)in[i];
		if (c == '.') {
			if (label == 0) {
				*why_r = "an empty label";
				return -1;
			}
			if (out[i - 1] == '-') {
				*why_r = "a label ends with a hyphen";
				return -1;
			}
			label = 0;
		} else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '-') {
			if (c == '-' && label == 0) {
				*why_r = "a label starts with a hyphen";
				return -1;
			}
			label++;
		} else if (c >= 'A' && c <= 'Z') {
			c = (unsigned char)(c - 'A' + 'a');
			label++;
		} else {
			*why_r = "not a letter, digit, hyphen or dot (write "
			    "an internationalized name in its xn-- form)";
			return -1;
		}
		if (label > ADM_LABEL_BYTES) {
			*why_r = "a label longer than 63 bytes";
			return -1;
		}
		out[i] = (char)c;
	}
	if (label == 0) {
		*why_r = "an empty label";
		return -1;
	}
	if (out[len - 1] == '-') {
		*why_r = "a label ends with a hyphen";
		return -1;
	}
	out[len] = '\0';
	return 0;
}

/* Every name in argv, normalized, into a new array (free it); NULL when
 * one is bad (logged). */
static struct adm_domain *
adm_domains_parse(int argc, char **argv)
{
	struct adm_domain *d = NULL;
	char shown[LOG_SANITIZED_BYTES];
	const char *why = NULL;
	int i;

	d = calloc((size_t)argc, sizeof(*d));
	if (d == NULL) {
		log_err("out of memory");
		return NULL;
	}
	for (i = 0; i < argc; i++) {
		if (adm_domain_normalize(argv[i], d[i].name, &why) != 0) {
			log_err("domains: bad domain name \"%s\": %s; nothing "
			    "changed", log_sanitize(argv[i], shown,
			    sizeof(shown)), why);
			free(d);
			return NULL;
		}
	}
	return d;
}

/*
 * May this role do what action (list, add, remove) needs on the table?
 * EX_OK, or the exit code (logged).
 */
static int
adm_domains_may(struct adm *adm, const char *action)
{
	static const char sql[] =
	    "SELECT current_user, "
	    "has_table_privilege('tlsrpt.monitored_domain', 'SELECT') AND "
	    "has_table_privilege('tlsrpt.monitored_domain', $1) AND "
	    "has_table_privilege('tlsrpt.monitored_domain', $2)";
	bool add = strcmp(action, "add") == 0;
	bool list = strcmp(action, "list") == 0;
	const char *params[2] = {
	    list ? "SELECT" : add ? "INSERT" : "DELETE",
	    list ? "SELECT" : add ? "UPDATE" : "DELETE" };
	PGresult *res = NULL;
	struct ti_err err;
	int code = EX_OK;

	res = adm_query(adm, sql, 2, params, &err);
	if (res == NULL)
		return adm_fail(&err);
	if (strcmp(PQgetvalue(res, 0, 1), "t") != 0) {
		log_err("domains %s: role \"%s\" may not %s "
		    "tlsrpt.monitored_domain: %s", action,
		    PQgetvalue(res, 0, 0), list ? "read" : "change",
		    list ? "grant it tlsrpt_reader (sql/roles.sql)" :
		    "use the schema owner's role");
		code = EX_NOPERM;
	}
	PQclear(res);
	return code;
}

static int
adm_domains_list(struct adm *adm)
{
	static const char sql[] =
	    "SELECT domain, CASE WHEN include_subdomains THEN 'subdomains' "
	    "ELSE 'exact' END, to_char(added_at AT TIME ZONE 'UTC', "
	    "'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') "
	    "FROM tlsrpt.monitored_domain ORDER BY domain";
	PGresult *res = NULL;
	struct ti_err err;
	int i, code;

	code = adm_domains_may(adm, "list");
	if (code != EX_OK)
		return code;
	res = adm_query(adm, sql, 0, NULL, &err);
	if (res == NULL)
		return adm_fail(&err);
	for (i = 0; i < PQntuples(res); i++)
		(void)printf("%s\t%s\t%s\n", PQgetvalue(res, i, 0),
		    PQgetvalue(res, i, 1), PQgetvalue(res, i, 2));
	if (PQntuples(res) == 0)
		log_info("no domain is monitored: every report is stored");
	PQclear(res);
	if (fflush(stdout) != 0) {
		log_err("domains: writing the list failed");
		return EX_IOERR;
	}
	return EX_OK;
}

/* Add or update one name, inside the open transaction. */
static int
adm_domain_add(struct adm *adm, struct adm_domain *d, bool exact,
    struct ti_err *err)
{
	const char *params[2] = { d->name, exact ? "f" : "t" };
	PGresult *res = NULL;

	res = adm_query(adm, "SELECT include_subdomains "
	    "FROM tlsrpt.monitored_domain WHERE domain = $1 FOR UPDATE",
	    1, params, err);
	if (res == NULL)
		return -1;
	if (PQntuples(res) == 0)
		d->change = ADM_DOMAIN_ADDED;
	else if (strcmp(PQgetvalue(res, 0, 0), params[1]) == 0)
		d->change = ADM_DOMAIN_UNCHANGED;
	else
		d->change = ADM_DOMAIN_UPDATED;
	PQclear(res);
	if (d->change == ADM_DOMAIN_UNCHANGED)
		return 0;
	res = adm_query(adm, "INSERT INTO tlsrpt.monitored_domain "
	    "(domain, include_subdomains) VALUES ($1, $2) "
	    "ON CONFLICT (domain) DO UPDATE "
	    "SET include_subdomains = EXCLUDED.include_subdomains",
	    2, params, err);
	if (res == NULL)
		return -1;
	PQclear(res);
	return 0;
}

/* Remove one name, inside the open transaction. */
static int
adm_domain_remove(struct adm *adm, struct adm_domain *d, struct ti_err *err)
{
	const char *params[1] = { d->name };
	PGresult *res = NULL;

	res = adm_query(adm, "DELETE FROM tlsrpt.monitored_domain "
	    "WHERE domain = $1", 1, params, err);
	if (res == NULL)
		return -1;
	d->change = strcmp(PQcmdTuples(res), "0") == 0 ? ADM_DOMAIN_ABSENT :
	    ADM_DOMAIN_REMOVED;
	PQclear(res);
	return 0;
}

/* One line for what was done to d, once committed. */
static void
adm_domain_report(const struct adm_domain *d, bool exact)
{
	const char *scope = exact ? "exact" : "subdomains";

	switch (d->change) {
	case ADM_DOMAIN_ADDED:
		(void)printf("%s: added (%s)\n", d->name, scope);
		break;
	case ADM_DOMAIN_UPDATED:
		(void)printf("%s: already monitored, now %s\n", d->name,
		    scope);
		break;
	case ADM_DOMAIN_UNCHANGED:
		(void)printf("%s: already monitored (%s), unchanged\n",
		    d->name, scope);
		break;
	case ADM_DOMAIN_REMOVED:
		(void)printf("%s: removed\n", d->name);
		break;
	case ADM_DOMAIN_ABSENT:
		(void)printf("%s: not monitored, nothing removed\n", d->name);
		break;
	}
}

/* add or remove the n names in argv, in one transaction. */
static int
adm_domains_change(struct adm *adm, bool add, bool exact, int n,
    char **argv)
{
	struct adm_domain *d = NULL;
	struct ti_err err;
	int i, code;

	d = adm_domains_parse(n, argv);
	if (d == NULL)
		return EX_DATAERR;
	code = adm_domains_may(adm, add ? "add" : "remove");
	if (code != EX_OK)
		goto out;
	if (adm_exec(adm, "BEGIN", &err) != 0)
		goto fail;
	for (i = 0; i < n; i++) {
		if ((add ? adm_domain_add(adm, &d[i], exact, &err) :
		    adm_domain_remove(adm, &d[i], &err)) != 0)
			goto fail;
	}
	if (adm_exec(adm, "COMMIT", &err) != 0)
		goto fail;
	if (adm->verbosity >= 0) {
		for (i = 0; i < n; i++)
			adm_domain_report(&d[i], exact);
	}
	code = EX_OK;
	goto out;
fail:
	/* Nothing is committed: main() closes the connection. */
	code = adm_fail(&err);
out:
	free(d);
	return code;
}

int
adm_domains(struct adm *adm, int argc, char **argv)
{
	static const struct option longs[] = {
		{ "exact", no_argument, NULL, 'x' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *action = "list";
	bool exact = false;
	int c;

	while ((c = getopt_long(argc, argv, "h", longs, NULL)) != -1) {
		switch (c) {
		case 'x':
			exact = true;
			break;
		case 'h':
			(void)fputs(adm_domains_help, stdout);
			return EX_OK;
		default:
			return adm_usage("domains", "unknown option");
		}
	}
	if (optind < argc)
		action = argv[optind++];
	if (strcmp(action, "list") == 0) {
		if (exact || optind < argc)
			return adm_usage("domains", "list takes no arguments");
		return adm_domains_list(adm);
	}
	if (strcmp(action, "add") != 0 && strcmp(action, "remove") != 0)
		return adm_usage("domains", "list, add or remove");
	if (exact && strcmp(action, "add") != 0)
		return adm_usage("domains", "--exact goes with add");
	if (optind >= argc)
		return adm_usage("domains", "a domain is needed");
	return adm_domains_change(adm, strcmp(action, "add") == 0, exact,
	    argc - optind, argv + optind);
}
