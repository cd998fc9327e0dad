/*
 * adm.c - tlsrpt-adm: global options, the settings, and dispatch to a
 * subcommand; the only file of the program that exits.
 *
 * The settings are the ingester's (its file, -o, -d, $TLSRPT_DB in that
 * order), so that one file serves both programs.
 */
#include "autoconf.h"

#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "adm.h"
#include "db.h"
#include "log.h"

static const struct adm_command {
	const char *name;
	adm_command_fn *fn;
	const char *summary;
} adm_commands[] = {
	{ "check", adm_check,
	    "a monitoring plugin: failures, silence, kept-aside mail" },
	{ "domains", adm_domains,
	    "list, add or remove the monitored domains" },
	{ "metrics", adm_metrics,
	    "Prometheus metrics for the node exporter's textfile collector" },
	{ "readiness", adm_readiness,
	    "is each MTA-STS or DANE domain ready for enforce?" },
	{ "replay", adm_replay,
	    "run kept-aside messages through the ingester again" },
	{ "summary", adm_summary,
	    "a digest of the period by mail: text, HTML or both" },
};

#define ADM_N_COMMANDS (sizeof(adm_commands) / sizeof(adm_commands[0]))

static void
adm_help(FILE *fp)
{
	size_t i;

	(void)fputs("usage: tlsrpt-adm [OPTIONS] COMMAND [ARGS]\n"
	    "Look after the SMTP TLS reports tlsrpt-ingest stores.\n"
	    "\n"
	    "  -d, --db CONNINFO    libpq conninfo or URI (default: $TLSRPT_DB,\n"
	    "                       then the db setting, then libpq defaults)\n"
	    "  -c, --config FILE    settings file (default: "
	    CONFIG_DEFAULT_PATH ",\n"
	    "                       read when present)\n"
	    "  -o, --set KEY=VALUE  override one setting\n"
	    "  -v, --verbose        more detail\n"
	    "  -q, --quiet          errors only\n"
	    "  -h, --help           this text; COMMAND --help for a command's\n"
	    "  -V, --version        the version\n"
	    "\n"
	    "Commands:\n", fp);
	for (i = 0; i < ADM_N_COMMANDS; i++)
		(void)fprintf(fp, "  %-12s %s\n", adm_commands[i].name,
		    adm_commands[i].summary);
}

/* The settings: the file, then -o pairs, then $TLSRPT_DB, then -d. */
static int
adm_settings(struct config *cfg, const char *path, char **sets,
    size_t n_sets, const char *db, struct ti_err *err)
{
	const char *env = getenv("TLSRPT_DB");
	size_t i;

	if (config_init(cfg, err) != 0 ||
	    config_load(cfg, path != NULL ? path : CONFIG_DEFAULT_PATH,
	    path != NULL, err) != 0)
		return -1;
	for (i = 0; i < n_sets; i++) {
		if (config_set_pair(cfg, sets[i], err) != 0)
			return -1;
	}
	if (db == NULL && env != NULL && env[0] != '\0')
		db = env;
	if (db != NULL && config_set(cfg, "db", db, err) != 0)
		return -1;
	return 0;
}

/* The global options, before the command. */
struct adm_args {
	const char *path;	/* -c */
	const char *db;		/* -d */
	char **sets;		/* -o pairs, in order */
	size_t n_sets;
};

/*
 * Read the global options into a and adm->verbosity.  Returns -1 to go
 * on (optind at the command), or the exit code: --help, --version, an
 * unknown option.
 */
static int
adm_parse(int argc, char **argv, struct adm *adm, struct adm_args *a)
{
	static const struct option longs[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "config", required_argument, NULL, 'c' },
		{ "set", required_argument, NULL, 'o' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	/* "+": the options end at the command. */
	while ((c = getopt_long(argc, argv, "+d:c:o:vqhV", longs,
	    NULL)) != -1) {
		switch (c) {
		case 'd':
			a->db = optarg;
			break;
		case 'c':
			a->path = optarg;
			break;
		case 'o':
			a->sets[a->n_sets++] = optarg;
			break;
		case 'v':
			adm->verbosity++;
			break;
		case 'q':
			adm->verbosity--;
			break;
		case 'h':
			adm_help(stdout);
			return EX_OK;
		case 'V':
			(void)printf("tlsrpt-adm %s\n", PACKAGE_VERSION);
			return EX_OK;
		default:
			(void)fputs("Try 'tlsrpt-adm --help'.\n", stderr);
			return EX_USAGE;
		}
	}
	return -1;
}

int
main(int argc, char **argv)
{
	struct adm_args a;
	struct config cfg;
	struct adm adm;
	struct ti_err err;
	size_t i;
	int code = EX_USAGE;

	memset(&a, 0, sizeof(a));
	memset(&cfg, 0, sizeof(cfg));
	memset(&adm, 0, sizeof(adm));
	(void)signal(SIGPIPE, SIG_IGN);
	log_init("tlsrpt-adm", 0, LOG_LEVEL_INFO);
	a.sets = calloc((size_t)argc + 1, sizeof(*a.sets));
	if (a.sets == NULL) {
		log_err("out of memory");
		return EX_TEMPFAIL;
	}
	if ((code = adm_parse(argc, argv, &adm, &a)) >= 0)
		goto done;
	code = EX_USAGE;
	log_init("tlsrpt-adm", 0, adm.verbosity > 0 ? LOG_LEVEL_DEBUG :
	    adm.verbosity < 0 ? LOG_LEVEL_ERR : LOG_LEVEL_INFO);
	if (optind >= argc) {
		log_err("a command is needed");
		adm_help(stderr);
		goto done;
	}
	for (i = 0; i < ADM_N_COMMANDS; i++) {
		if (strcmp(argv[optind], adm_commands[i].name) == 0)
			break;
	}
	if (i == ADM_N_COMMANDS) {
		log_err("unknown command: %s", argv[optind]);
		(void)fputs("Try 'tlsrpt-adm --help'.\n", stderr);
		goto done;
	}
	if (adm_settings(&cfg, a.path, a.sets, a.n_sets, a.db, &err) != 0) {
		log_err("configuration: %s", err.msg);
		code = ti_kind_exit(err.kind, 0);
		goto done;
	}
	adm.cfg = &cfg;
	argc -= optind;
	argv += optind;
	optind = 0;	/* glibc: start afresh on the command's arguments */
	code = adm_commands[i].fn(&adm, argc, argv);
done:
	db_close(&adm.db);
	config_clear(&cfg);
	free(a.sets);
	return code;
}
