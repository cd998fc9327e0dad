/*
 * main.c - options and mode dispatch; the only file that exits.
 *
 * Modes: no FILE argument reads one message on standard input (Postfix
 * pipe(8), procmail); FILE arguments are messages or bare report files;
 * --maildir sweeps a Maildir; --mbox imports an mbox; --serve stays
 * resident and stores what pipe mode hands it, and with --http what
 * reporters POST.
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
#include "import.h"
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
    "      --http [ADDR:]PORT   with --serve: also take reports POSTed by HTTP\n"
    "                           (rua=https://...; behind a TLS proxy, or\n"
    "                           HTTPS itself with http_tls_certificate)\n"
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

/* Every option; an option's index in main_options. */
enum main_opt {
	OPT_DB,
	OPT_AUTHSERV,
	OPT_REQUIRE_DKIM,
	OPT_BOUNCE,
	OPT_SOCKET,
	OPT_HTTP,
	OPT_CONFIG,
	OPT_SET,
	OPT_DRY_RUN,
	OPT_JSON,
	OPT_QUEUE_ID,
	OPT_SYSLOG,
	OPT_VERBOSE,
	OPT_QUIET,
	OPT_PRINT_CONFIG,
	OPT_MAILDIR,
	OPT_MBOX,
	OPT_DONE_FOLDER,
	OPT_DELETE,
	OPT_SERVE,
	OPT_HELP,
	OPT_VERSION,
	OPT_COUNT
};

/*
 * The options.  One that names a setting sets it (to its argument, or to
 * value) over the settings file and -o, in this order.
 */
static const struct main_option {
	const char *name;
	int short_name;		/* 0: long only */
	int has_arg;
	const char *setting;
	const char *value;
} main_options[OPT_COUNT] = {
	[OPT_DB] = { "db", 'd', required_argument, "db", NULL },
	[OPT_AUTHSERV] = { "authserv-id", 0, required_argument,
	    "authserv_id", NULL },
	[OPT_REQUIRE_DKIM] = { "require-dkim", 0, no_argument,
	    "require_dkim", "yes" },
	[OPT_BOUNCE] = { "bounce-malformed", 0, no_argument,
	    "bounce_malformed", "yes" },
	[OPT_SOCKET] = { "socket", 0, required_argument, "socket", NULL },
	[OPT_HTTP] = { "http", 0, required_argument, "http", NULL },
	[OPT_CONFIG] = { "config", 'c', required_argument, NULL, NULL },
	[OPT_SET] = { "set", 'o', required_argument, NULL, NULL },
	[OPT_DRY_RUN] = { "dry-run", 'n', no_argument, NULL, NULL },
	[OPT_JSON] = { "json", 0, no_argument, NULL, NULL },
	[OPT_QUEUE_ID] = { "queue-id", 0, required_argument, NULL, NULL },
	[OPT_SYSLOG] = { "syslog", 0, no_argument, NULL, NULL },
	[OPT_VERBOSE] = { "verbose", 'v', no_argument, NULL, NULL },
	[OPT_QUIET] = { "quiet", 'q', no_argument, NULL, NULL },
	[OPT_PRINT_CONFIG] = { "print-config", 0, no_argument, NULL, NULL },
	[OPT_MAILDIR] = { "maildir", 0, required_argument, NULL, NULL },
	[OPT_MBOX] = { "mbox", 0, required_argument, NULL, NULL },
	[OPT_DONE_FOLDER] = { "done-folder", 0, required_argument, NULL,
	    NULL },
	[OPT_DELETE] = { "delete", 0, no_argument, NULL, NULL },
	[OPT_SERVE] = { "serve", 0, no_argument, NULL, NULL },
	[OPT_HELP] = { "help", 'h', no_argument, NULL, NULL },
	[OPT_VERSION] = { "version", 'V', no_argument, NULL, NULL },
};

/* What the command line says. */
struct main_args {
	const char *arg[OPT_COUNT];	/* each option's last argument */
	unsigned seen[OPT_COUNT];	/* how often each was given */
	char **sets;			/* the -o pairs, in order */
	size_t n_sets;
	char **files;
	int n_files;
	bool under_mta;		/* a mail system runs us: only 0 and 75 */
};

enum main_mode {
	MODE_PIPE,
	MODE_FILES,
	MODE_MAILDIR,
	MODE_MBOX,
	MODE_SERVE,
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

/* Not pipe mode: a person, a timer or a service manager runs us. */
static bool
main_not_piped(const struct main_args *a, int argc)
{
	return optind < argc || a->seen[OPT_MAILDIR] || a->seen[OPT_MBOX] ||
	    a->seen[OPT_SERVE];
}

/*
 * Read the options into a (a->sets has room for every argument), and
 * log as they say.  Returns -1 to go on, or the exit code when done:
 * --help, --version or an unknown option.
 */
static int
main_parse(int argc, char **argv, struct main_args *a)
{
	struct option longs[OPT_COUNT + 1];
	char shorts[2 * OPT_COUNT + 1];
	size_t i, k = 0;
	int c, verbosity;

	memset(longs, 0, sizeof(longs));
	for (i = 0; i < OPT_COUNT; i++) {
		longs[i].name = main_options[i].name;
		longs[i].has_arg = main_options[i].has_arg;
		longs[i].val = 256 + (int)i;
		if (main_options[i].short_name != 0) {
			longs[i].val = main_options[i].short_name;
			shorts[k++] = (char)main_options[i].short_name;
			if (main_options[i].has_arg == required_argument)
				shorts[k++] = ':';
		}
	}
	shorts[k] = '\0';
	while ((c = getopt_long(argc, argv, shorts, longs, NULL)) != -1) {
		for (i = 0; i < OPT_COUNT && c != longs[i].val; i++)
			;
		if (i == OPT_COUNT) {
			a->under_mta = a->under_mta && !main_not_piped(a, argc);
			log_set_queue_id(a->arg[OPT_QUEUE_ID]);
			return usage_error(a->under_mta, "unknown option");
		}
		a->seen[i]++;
		a->arg[i] = optarg;
		if (i == OPT_SET)
			a->sets[a->n_sets++] = optarg;
		if (i == OPT_HELP || i == OPT_VERSION)
			break;
	}
	log_set_queue_id(a->arg[OPT_QUEUE_ID]);
	if (a->seen[OPT_HELP]) {
		(void)fputs(usage_text, stdout);
		return EX_OK;
	}
	if (a->seen[OPT_VERSION]) {
		(void)printf("tlsrpt-ingest %s\n", PACKAGE_VERSION);
		return EX_OK;
	}
	a->under_mta = a->under_mta && !main_not_piped(a, argc);
	a->files = argv + optind;
	a->n_files = argc - optind;
	verbosity = (int)a->seen[OPT_VERBOSE] - (int)a->seen[OPT_QUIET];
	log_init("tlsrpt-ingest", a->seen[OPT_SYSLOG] > 0, verbosity > 0 ?
	    LOG_LEVEL_DEBUG : verbosity < 0 ? LOG_LEVEL_ERR : LOG_LEVEL_INFO);
	return -1;
}

static enum main_mode
main_mode(const struct main_args *a)
{
	if (a->seen[OPT_SERVE])
		return MODE_SERVE;
	if (a->seen[OPT_MAILDIR])
		return MODE_MAILDIR;
	if (a->seen[OPT_MBOX])
		return MODE_MBOX;
	return a->n_files > 0 ? MODE_FILES : MODE_PIPE;
}

/* Options that do not go together: the exit code, or -1. */
static int
main_check(const struct main_args *a)
{
	if ((a->seen[OPT_MAILDIR] > 0) + (a->seen[OPT_MBOX] > 0) +
	    (a->n_files > 0) + (a->seen[OPT_SERVE] > 0) > 1)
		return usage_error(a->under_mta, "--maildir, --mbox, --serve "
		    "and FILE arguments do not mix");
	if (a->seen[OPT_SERVE] &&
	    (a->seen[OPT_DRY_RUN] || a->seen[OPT_JSON]))
		return usage_error(a->under_mta, "--serve stores: no "
		    "--dry-run or --json");
	if (a->seen[OPT_HTTP] && !a->seen[OPT_SERVE])
		return usage_error(a->under_mta, "--http goes with --serve");
	if ((a->seen[OPT_DONE_FOLDER] || a->seen[OPT_DELETE]) &&
	    !a->seen[OPT_MAILDIR])
		return usage_error(a->under_mta, "--done-folder and --delete "
		    "go with --maildir");
	return -1;
}

/* The settings: the file, then -o, then $TLSRPT_DB, then options. */
static int
main_config(struct main_args *a, struct config *cfg, struct ti_err *err)
{
	const char *path = a->arg[OPT_CONFIG];
	const char *env = getenv("TLSRPT_DB");
	const char *v = NULL;
	size_t i;

	if (config_load(cfg, path != NULL ? path : CONFIG_DEFAULT_PATH,
	    path != NULL, err) != 0)
		return -1;
	for (i = 0; i < a->n_sets; i++) {
		if (config_set_pair(cfg, a->sets[i], err) != 0)
			return -1;
	}
	if (a->arg[OPT_DB] == NULL && env != NULL && env[0] != '\0')
		a->arg[OPT_DB] = env;
	for (i = 0; i < OPT_COUNT; i++) {
		if (main_options[i].setting == NULL ||
		    (!a->seen[i] && a->arg[i] == NULL))
			continue;
		v = main_options[i].value != NULL ? main_options[i].value :
		    a->arg[i];
		if (config_set(cfg, main_options[i].setting, v, err) != 0)
			return -1;
	}
	return 0;
}

/* Run the mode; the run's exit code. */
static int
main_dispatch(const struct config *cfg, const struct main_args *a)
{
	struct run_settings set;
	struct run *run = NULL;
	struct ti_err err;
	enum main_mode mode = main_mode(a);
	bool syslog = a->seen[OPT_SYSLOG] > 0;
	int verbosity = (int)a->seen[OPT_VERBOSE] - (int)a->seen[OPT_QUIET];
	int code;

	memset(&set, 0, sizeof(set));
	set.dry_run = a->seen[OPT_DRY_RUN] > 0;
	set.print_json = a->seen[OPT_JSON] > 0;
	set.under_mta = a->under_mta;
	set.progress = !syslog && verbosity == 0 && isatty(STDERR_FILENO) &&
	    (mode == MODE_MAILDIR || mode == MODE_MBOX || a->n_files > 1);
	log_set_errors_to_stderr(mode == MODE_PIPE);
	run = run_new(cfg, &set, &err);
	if (run == NULL) {
		log_err("%s", err.msg);
		return EX_TEMPFAIL;
	}
	mime_init();
	(void)signal(SIGALRM, on_alarm);
	/* Once a run; pipe mode starts for every message: there, with -v. */
	if (!set.dry_run && cfg->authserv_id == NULL) {
		if (mode == MODE_PIPE)
			log_debug("authserv_id is not set: no DKIM verdict "
			    "is believed");
		else
			log_info("authserv_id is not set: no DKIM verdict "
			    "is believed (set it to your MTA's authserv-id)");
	}
	switch (mode) {
	case MODE_SERVE:
		serve_run(run);
		break;
	case MODE_MAILDIR:
		maildir_sweep(run, a->arg[OPT_MAILDIR], a->arg[OPT_DONE_FOLDER],
		    a->seen[OPT_DELETE] > 0);
		break;
	case MODE_MBOX:
		import_mbox(run, a->arg[OPT_MBOX]);
		break;
	case MODE_FILES:
		mode_files(run, a->files, a->n_files);
		break;
	case MODE_PIPE:
		mode_pipe(run);
		break;
	}
	mime_shutdown();
	inflate_shutdown();
	code = run_exit_code(run);
	run_free(&run);
	return code;
}

/* Settings, then the mode, or --print-config: the exit code. */
static int
main_start(struct main_args *a)
{
	struct config cfg;
	struct ti_err err;
	int code;

	memset(&cfg, 0, sizeof(cfg));
	if (config_init(&cfg, &err) != 0 || main_config(a, &cfg, &err) != 0) {
		log_err("configuration: %s", err.msg);
		code = a->under_mta || err.kind == TI_KIND_TEMP ? EX_TEMPFAIL :
		    EX_CONFIG;
	} else if (a->seen[OPT_PRINT_CONFIG]) {
		config_dump(&cfg, stdout);
		code = EX_OK;
	} else
		code = main_dispatch(&cfg, a);
	config_clear(&cfg);
	return code;
}

int
main(int argc, char **argv)
{
	struct main_args a;
	int code;

	memset(&a, 0, sizeof(a));
	(void)signal(SIGPIPE, SIG_IGN);
	a.under_mta = !isatty(STDIN_FILENO);
	log_init("tlsrpt-ingest", 0, LOG_LEVEL_INFO);
	a.sets = calloc((size_t)argc + 1, sizeof(*a.sets));
	if (a.sets == NULL) {
		log_err("out of memory");
		return EX_TEMPFAIL;
	}
	code = main_parse(argc, argv, &a);
	if (code < 0)
		code = main_check(&a);
	if (code < 0)
		code = main_start(&a);
	free(a.sets);
	return code;
}
