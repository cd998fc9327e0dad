/*
 * main.c - options and mode dispatch; the only file that exits.
 *
 * Modes: no FILE argument reads one message on standard input (Postfix
 * pipe(8), procmail); FILE arguments are messages or bare report files;
 * --maildir sweeps a Maildir; --mbox imports an mbox.
 * Exit codes follow sysexits(3): under a mail system only 0 and 75 are
 * safe, since every other code bounces the report to its sender.
 */
#include "autoconf.h"

#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "batch.h"
#include "buf.h"
#include "config.h"
#include "handoff.h"
#include "inflate.h"
#include "input.h"
#include "log.h"
#include "maildir.h"
#include "mime.h"
#include "run.h"
#include "serve.h"

static const char usage_text[] =
    "usage: tlsrpt-ingest [OPTIONS] [FILE...]\n"
    "       tlsrpt-ingest [OPTIONS] --maildir DIR | --mbox FILE\n"
    "       tlsrpt-ingest [OPTIONS] --serve\n"
    "Store SMTP TLS reports (RFC 8460) in PostgreSQL.\n"
    "With no FILE, read one message on standard input (a mail system's pipe).\n"
    "A FILE is a message, or a bare report (.json, .json.gz, .zip).\n"
    "\n"
    "  -d, --db CONNINFO        libpq conninfo or URI (default: $TLSRPT_DB,\n"
    "                           then the db setting, then libpq defaults)\n"
    "  -c, --config FILE        settings file (default: " CONFIG_DEFAULT_PATH
    ",\n"
    "                           read when present)\n"
    "  -o, --set KEY=VALUE      override one setting (see tlsrpt-ingest(1))\n"
    "      --maildir DIR        process DIR/new and DIR/cur, then move each\n"
    "                           message to DIR/.Processed or DIR/.Rejected\n"
    "      --done-folder NAME   Maildir++ folder for handled messages\n"
    "      --delete             delete handled messages instead\n"
    "      --mbox FILE          every message of an mbox (read-only)\n"
    "      --serve              stay resident: store the messages that pipe\n"
    "                           mode hands over on the socket\n"
    "      --socket PATH        the server's Unix socket (the socket setting);\n"
    "                           pipe mode hands its message to a server there,\n"
    "                           and stores it itself when none listens\n"
    "  -n, --dry-run            extract and validate; touch no database\n"
    "      --json               print each normalized report as a JSON line\n"
    "      --authserv-id ID     trust the Authentication-Results of this host\n"
    "      --require-dkim       keep reports without a passing DKIM signature\n"
    "                           of the reporting domain out of the report tables\n"
    "      --bounce-malformed   exit 65 for a malformed message (it is still\n"
    "                           kept) instead of 0\n"
    "      --queue-id ID        the mail system's queue id, for logs\n"
    "      --syslog             log to syslog (facility mail)\n"
    "  -v, --verbose            more logging\n"
    "  -q, --quiet              log errors only\n"
    "      --print-config       print the settings in effect and exit\n"
    "  -h, --help               this text\n"
    "  -V, --version            the version\n"
    "\n"
    "Exit: 0 stored, duplicate or rejected-and-kept; 75 try again later;\n"
    "65 malformed (--dry-run, --bounce-malformed); 64 usage; 74 unreadable FILE.\n";

enum {
	OPT_JSON = 256,
	OPT_AUTHSERV,
	OPT_REQUIRE_DKIM,
	OPT_BOUNCE,
	OPT_QUEUE_ID,
	OPT_SYSLOG,
	OPT_PRINT_CONFIG,
	OPT_MAILDIR,
	OPT_MBOX,
	OPT_DONE_FOLDER,
	OPT_DELETE,
	OPT_SERVE,
	OPT_SOCKET,
};

static const struct option long_options[] = {
	{ "db", required_argument, NULL, 'd' },
	{ "config", required_argument, NULL, 'c' },
	{ "set", required_argument, NULL, 'o' },
	{ "dry-run", no_argument, NULL, 'n' },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "authserv-id", required_argument, NULL, OPT_AUTHSERV },
	{ "require-dkim", no_argument, NULL, OPT_REQUIRE_DKIM },
	{ "bounce-malformed", no_argument, NULL, OPT_BOUNCE },
	{ "queue-id", required_argument, NULL, OPT_QUEUE_ID },
	{ "syslog", no_argument, NULL, OPT_SYSLOG },
	{ "verbose", no_argument, NULL, 'v' },
	{ "quiet", no_argument, NULL, 'q' },
	{ "print-config", no_argument, NULL, OPT_PRINT_CONFIG },
	{ "maildir", required_argument, NULL, OPT_MAILDIR },
	{ "mbox", required_argument, NULL, OPT_MBOX },
	{ "done-folder", required_argument, NULL, OPT_DONE_FOLDER },
	{ "delete", no_argument, NULL, OPT_DELETE },
	{ "serve", no_argument, NULL, OPT_SERVE },
	{ "socket", required_argument, NULL, OPT_SOCKET },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

static void
on_alarm(int sig)
{
	static const char msg[] =
	    "tlsrpt-ingest: error: time limit reached; try again later\n";

	(void)sig;
	(void)!write(STDERR_FILENO, msg, sizeof(msg) - 1);
	_exit(EX_TEMPFAIL);
}

/* Pipe mode: one message on standard input, handed to a server when one
 * listens on the socket, else stored here. */
static void
mode_pipe(struct run *run)
{
	const struct run_settings *set = run_settings(run);
	const struct config *cfg = run_config(run);
	struct buf *input = NULL;
	struct ti_err err;
	bool truncated = false;

	/* A dry run and --json need the report here. */
	bool hand_off = cfg->socket_path != NULL && !set->dry_run &&
	    !set->print_json;

	log_set_source("stdin");
	run_arm(run);
	if (!hand_off)
		(void)run_db_connect(run, false, &err);
	if (input_read_fd(STDIN_FILENO, cfg->lim.message_bytes, TI_KIND_TEMP,
	    false, &input, &truncated, &err) != 0) {
		run_fail_message(run, &err);
		return;
	}
	if (!hand_off || !handoff_message(run, cfg->socket_path, &input,
	    truncated))
		(void)run_message(run, &input, truncated, NULL);
	run_disarm(run);
}

/* FILE arguments: one is stored on its own, several in batches. */
static void
mode_files(struct run *run, char **files, int n)
{
	size_t max = run_config(run)->lim.message_bytes;
	struct batch *batch = NULL;
	struct buf *input = NULL;
	struct ti_err err;
	char label[32];
	bool truncated = false;
	int i = 0;

	run_set_total(run, (unsigned long)n);
	if (!run_settings(run)->dry_run && n > 1 &&
	    (batch = batch_new(run, NULL, NULL, &err)) == NULL) {
		run_fail(run, &err);
		return;
	}
	for (i = 0; i < n; i++) {
		log_set_source(files[i]);
		run_arm(run);
		if (input_read_file(files[i], max, &input, &truncated,
		    &err) != 0) {
			run_fail_message(run, &err);
			continue;
		}
		if ((batch == NULL ?
		    run_message(run, &input, truncated, NULL) :
		    batch_message(batch, &input, truncated, NULL)) ==
		    RUN_RETRY && run_exit_code(run) == EX_TEMPFAIL) {
			log_err("stopping: %d file(s) not processed",
			    n - i - 1);
			break;
		}
		run_progress(run);
	}
	log_set_source(NULL);
	if (i == n && batch != NULL)
		(void)batch_commit(batch);
	run_disarm(run);
	batch_free(&batch);
	if (n > 1) {
		(void)snprintf(label, sizeof(label), "%d files", n);
		run_summary(run, label);
	}
}

static int
usage_error(bool under_mta, const char *what)
{
	log_err("%s", what);
	if (!under_mta)
		(void)fputs("Try 'tlsrpt-ingest --help'.\n", stderr);
	return ti_kind_exit(TI_KIND_USAGE, under_mta);
}

int
main(int argc, char **argv)
{
	struct run_settings set;
	struct config cfg;
	struct run *run = NULL;
	struct ti_err err;
	const char *env = NULL;
	const char *config_path = NULL;
	const char *db_opt = NULL;
	const char *authserv = NULL;
	const char *maildir = NULL;
	const char *mbox = NULL;
	const char *done_folder = NULL;
	char **sets = NULL;
	size_t nsets = 0, i;
	bool require_dkim = false, bounce = false, use_syslog = false;
	bool print_config = false, delete_done = false, serve = false;
	const char *socket_path = NULL;
	int verbosity = 0;
	int c, code;

	memset(&set, 0, sizeof(set));
	memset(&cfg, 0, sizeof(cfg));
	(void)signal(SIGPIPE, SIG_IGN);
	/* A mail system gives no terminal: only 0 and 75 are safe there,
	 * whatever goes wrong. */
	set.under_mta = !isatty(STDIN_FILENO);
	log_init("tlsrpt-ingest", 0, LOG_LEVEL_INFO);
	sets = calloc((size_t)argc + 1, sizeof(*sets));
	if (sets == NULL) {
		log_err("out of memory");
		return EX_TEMPFAIL;
	}
	while ((c = getopt_long(argc, argv, "d:c:o:nvqhV", long_options,
	    NULL)) != -1) {
		switch (c) {
		case 'd':
			db_opt = optarg;
			break;
		case 'c':
			config_path = optarg;
			break;
		case 'o':
			sets[nsets++] = optarg;
			break;
		case 'n':
			set.dry_run = true;
			break;
		case OPT_JSON:
			set.print_json = true;
			break;
		case OPT_AUTHSERV:
			authserv = optarg;
			break;
		case OPT_REQUIRE_DKIM:
			require_dkim = true;
			break;
		case OPT_BOUNCE:
			bounce = true;
			break;
		case OPT_QUEUE_ID:
			log_set_queue_id(optarg);
			break;
		case OPT_SYSLOG:
			use_syslog = true;
			break;
		case OPT_MAILDIR:
			maildir = optarg;
			break;
		case OPT_MBOX:
			mbox = optarg;
			break;
		case OPT_DONE_FOLDER:
			done_folder = optarg;
			break;
		case OPT_DELETE:
			delete_done = true;
			break;
		case OPT_SERVE:
			serve = true;
			break;
		case OPT_SOCKET:
			socket_path = optarg;
			break;
		case 'v':
			verbosity++;
			break;
		case 'q':
			verbosity--;
			break;
		case OPT_PRINT_CONFIG:
			print_config = true;
			break;
		case 'h':
			(void)fputs(usage_text, stdout);
			free(sets);
			return EX_OK;
		case 'V':
			(void)printf("tlsrpt-ingest %s\n", PACKAGE_VERSION);
			free(sets);
			return EX_OK;
		default:
			free(sets);
			if (optind < argc || maildir != NULL || mbox != NULL ||
			    serve)
				set.under_mta = false;
			return usage_error(set.under_mta, "unknown option");
		}
	}
	if (optind < argc || maildir != NULL || mbox != NULL || serve)
		set.under_mta = false;
	log_init("tlsrpt-ingest", use_syslog, verbosity > 0 ?
	    LOG_LEVEL_DEBUG : verbosity < 0 ? LOG_LEVEL_ERR : LOG_LEVEL_INFO);
	if ((maildir != NULL) + (mbox != NULL) + (optind < argc) + serve > 1) {
		free(sets);
		return usage_error(set.under_mta, "--maildir, --mbox, --serve and FILE "
		    "arguments do not mix");
	}
	if (serve && (set.dry_run || set.print_json)) {
		free(sets);
		return usage_error(set.under_mta, "--serve stores: no --dry-run or "
		    "--json");
	}
	if ((done_folder != NULL || delete_done) && maildir == NULL) {
		free(sets);
		return usage_error(set.under_mta, "--done-folder and --delete go "
		    "with --maildir");
	}

	if (config_init(&cfg, &err) != 0 ||
	    config_load(&cfg, config_path != NULL ? config_path :
	    CONFIG_DEFAULT_PATH, config_path != NULL, &err) != 0)
		goto config_fail;
	for (i = 0; i < nsets; i++) {
		if (config_set_pair(&cfg, sets[i], &err) != 0)
			goto config_fail;
	}
	env = getenv("TLSRPT_DB");
	if (db_opt == NULL && env != NULL && env[0] != '\0')
		db_opt = env;
	if ((db_opt != NULL && config_set(&cfg, "db", db_opt, &err)) ||
	    (authserv != NULL &&
	    config_set(&cfg, "authserv_id", authserv, &err)) ||
	    (require_dkim && config_set(&cfg, "require_dkim", "yes",
	    &err)) ||
	    (bounce && config_set(&cfg, "bounce_malformed", "yes", &err)) ||
	    (socket_path != NULL &&
	    config_set(&cfg, "socket", socket_path, &err)))
		goto config_fail;
	if (print_config) {
		config_dump(&cfg, stdout);
		code = EX_OK;
		goto out;
	}
	log_set_errors_to_stderr(maildir == NULL && mbox == NULL &&
	    optind >= argc && !serve);
	set.progress = !use_syslog && verbosity == 0 &&
	    isatty(STDERR_FILENO) && (maildir != NULL || mbox != NULL ||
	    argc - optind > 1);

	run = run_new(&cfg, &set, &err);
	if (run == NULL) {
		log_err("%s", err.msg);
		code = EX_TEMPFAIL;
		goto out;
	}
	mime_init();
	(void)signal(SIGALRM, on_alarm);
	if (serve)
		serve_run(run);
	else if (maildir != NULL)
		maildir_sweep(run, maildir, done_folder, delete_done);
	else if (mbox != NULL)
		maildir_import_mbox(run, mbox);
	else if (optind < argc)
		mode_files(run, argv + optind, argc - optind);
	else
		mode_pipe(run);
	mime_shutdown();
	inflate_shutdown();
	code = run_exit_code(run);
	run_free(&run);
out:
	free(sets);
	config_clear(&cfg);
	buf_shutdown();
	return code;

config_fail:
	log_err("configuration: %s", err.msg);
	code = set.under_mta || err.kind == TI_KIND_TEMP ? EX_TEMPFAIL :
	    EX_CONFIG;
	goto out;
}
