/*
 * test_maildir.c - a Maildir sweep on real files in a temporary Maildir:
 * where each message ends up (.Processed/cur, .Rejected/cur, or left in
 * place for a later try), the lines logged, the summary and the exit
 * code.  The database stage is replaced at link time (fakedb.c).
 */
#include "autoconf.h"

#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <sys/stat.h>
#include <sysexits.h>

#include "testutil.h"
#include "logcap.h"

#include "config.h"
#include "fakedb.h"
#include "maildir.h"
#include "run.h"

#define MOX "corpus/mjl-__mox/example.eml"
#define MSFT "corpus/mjl-__mox/microsoft.eml"
#define MISSING "corpus/YnkDK__tls_reporting/missing_required_field.json"
#define MOX_LINE "stored: organization=\"Google Inc.\" " \
	"report-id=\"2022-09-15T00:00:00Z_test.xmox.nl\" policies=1 ms=#"
#define MSFT_LINE "stored: organization=\"Microsoft Corporation\" " \
	"report-id=\"133198585438131172+test.xmox.nl\" policies=1 ms=#"
#define REJECTED_LINE "rejected: policies[0].policy.policy-type: " \
	"missing (kept in tlsrpt.rejected_message) ms=#"

static char dir[64];
static struct config cfg;

/* The Maildir every case starts from: two in new/, one in cur/, and a
 * dot file that is never read. */
static const struct {
	const char *path;
	const char *fixture;
} files[] = {
	{ "new/1000.a", MOX },
	{ "new/1001.b", MISSING },
	{ "cur/1002.c:2,S", MSFT },
	{ "new/.hidden", MOX },
};

static void
put(const char *path, const char *fixture)
{
	char full[256];
	struct buf *b = test_read_data(fixture);
	struct ti_bytes v = buf_bytes(b);
	FILE *fp = NULL;

	(void)snprintf(full, sizeof(full), "%s/%s", dir, path);
	fp = fopen(full, "wb");
	assert_non_null(fp);
	assert_int_equal(fwrite(v.data, 1, v.len, fp), v.len);
	assert_int_equal(fclose(fp), 0);
	buf_free(&b);
}

static int
setup(void **state)
{
	static const char *subs[] = { "new", "cur", "tmp" };
	const char *tmp = getenv("TMPDIR");
	char sub[128];
	struct ti_err err;
	size_t i;

	(void)state;
	(void)snprintf(dir, sizeof(dir), "%s/ti-maildir-XXXXXX",
	    tmp != NULL && strlen(tmp) < 32 ? tmp : "/tmp");
	assert_non_null(mkdtemp(dir));
	for (i = 0; i < NELEM(subs); i++) {
		(void)snprintf(sub, sizeof(sub), "%s/%s", dir, subs[i]);
		assert_int_equal(mkdir(sub, 0700), 0);
	}
	for (i = 0; i < NELEM(files); i++)
		put(files[i].path, files[i].fixture);
	fakedb_reset();
	logcap_start(LOG_LEVEL_INFO);
	assert_int_equal(config_init(&cfg, &err), 0);
	return 0;
}

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int
teardown(void **state)
{
	(void)state;
	config_clear(&cfg);
	logcap_stop();
	return nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static int
name_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The names in dir/sub, sorted, space-separated; "-" without it. */
static const char *
listing(const char *sub)
{
	static char out[1024];
	char path[256];
	char *names[32];
	DIR *d = NULL;
	struct dirent *de = NULL;
	size_t n = 0, i, used = 0;

	(void)snprintf(path, sizeof(path), "%s/%s", dir, sub);
	out[0] = '\0';
	d = opendir(path);
	if (d == NULL) {
		assert_int_equal(errno, ENOENT);
		return "-";
	}
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		assert_true(n < NELEM(names));
		names[n] = strdup(de->d_name);
		assert_non_null(names[n]);
		n++;
	}
	closedir(d);
	qsort(names, n, sizeof(names[0]), name_cmp);
	for (i = 0; i < n; i++) {
		used += (size_t)snprintf(out + used, sizeof(out) - used,
		    "%s%s", i > 0 ? " " : "", names[i]);
		assert_true(used < sizeof(out));
		free(names[i]);
	}
	return out;
}

/* One sweep in a run of its own: the run's exit code. */
static int
sweep(bool dry_run)
{
	struct run_settings set;
	struct run *run = NULL;
	struct ti_err err;
	int code;

	memset(&set, 0, sizeof(set));
	set.dry_run = dry_run;
	set.under_mta = true;
	run = run_new(&cfg, &set, &err);
	assert_non_null(run);
	maildir_sweep(run, dir, NULL, false);
	code = run_exit_code(run);
	run_free(&run);
	return code;
}

struct line {
	enum log_level level;
	const char *ctx;	/* a pattern: a failed commit is about a
				 * whole batch, whatever source it names */
	const char *line;
};

struct sweep_case {
	const char *name;
	bool dry_run;
	enum ti_kind begin_fails, commit_fails;
	unsigned begin_fails_at, commit_fails_at;
	/* what must come of it */
	int want_exit;
	const char *want_new, *want_cur, *want_done, *want_rejected;
	struct line want_lines[5];	/* the summary's text after "maildir
					 * DIR: " is the last */
};

static const struct sweep_case cases[] = {
	{ .name = "stored to .Processed, rejected to .Rejected",
	    .want_exit = EX_OK,
	    .want_new = ".hidden", .want_cur = "",
	    .want_done = "1000.a:2, 1002.c:2,S", .want_rejected = "1001.b:2,",
	    .want_lines = {
		{ LOG_LEVEL_INFO, "source=1000.a: ", MOX_LINE },
		{ LOG_LEVEL_WARNING, "source=1001.b: ", REJECTED_LINE },
		{ LOG_LEVEL_INFO, "source=1002.c:2,S: ", MSFT_LINE },
		{ LOG_LEVEL_INFO, "", "stored 2, duplicates 0, rejected 1, "
		    "left for retry 0, # ms" } } },
	{ .name = "the commit fails: the batch stays in new/, 75",
	    .commit_fails = TI_KIND_TEMP, .commit_fails_at = 1,
	    .want_exit = EX_TEMPFAIL,
	    .want_new = ".hidden 1000.a 1001.b", .want_cur = "1002.c:2,S",
	    .want_done = "", .want_rejected = "",
	    .want_lines = {
		{ LOG_LEVEL_ERR, "*", "commit failed; left for a later try" },
		{ LOG_LEVEL_INFO, "", "stored 0, duplicates 0, rejected 0, "
		    "left for retry 3, # ms" } } },
	{ .name = "the database goes away at the second message: 75",
	    .begin_fails = TI_KIND_TEMP, .begin_fails_at = 2,
	    .want_exit = EX_TEMPFAIL,
	    .want_new = ".hidden 1000.a 1001.b", .want_cur = "1002.c:2,S",
	    .want_done = "", .want_rejected = "",
	    .want_lines = {
		{ LOG_LEVEL_ERR, "source=1001.b: ",
		    "begin failed; left for a later try" },
		{ LOG_LEVEL_INFO, "", "stored 0, duplicates 0, rejected 0, "
		    "left for retry 3, # ms" } } },
	{ .name = "new/ committed, then cur/ fails: only cur/ stays",
	    .commit_fails = TI_KIND_TEMP, .commit_fails_at = 2,
	    .want_exit = EX_TEMPFAIL,
	    .want_new = ".hidden", .want_cur = "1002.c:2,S",
	    .want_done = "1000.a:2,", .want_rejected = "1001.b:2,",
	    .want_lines = {
		{ LOG_LEVEL_INFO, "source=1000.a: ", MOX_LINE },
		{ LOG_LEVEL_WARNING, "source=1001.b: ", REJECTED_LINE },
		{ LOG_LEVEL_ERR, "*", "commit failed; left for a later try" },
		{ LOG_LEVEL_INFO, "", "stored 1, duplicates 0, rejected 1, "
		    "left for retry 1, # ms" } } },
	{ .name = "a dry run moves nothing",
	    .dry_run = true,
	    .want_exit = EX_DATAERR,
	    .want_new = ".hidden 1000.a 1001.b", .want_cur = "1002.c:2,S",
	    .want_done = "-", .want_rejected = "-",
	    .want_lines = {
		{ LOG_LEVEL_INFO, "source=1000.a: ",
		    "valid: organization=\"Google Inc.\" report-id="
		    "\"2022-09-15T00:00:00Z_test.xmox.nl\" policies=1 ms=#" },
		{ LOG_LEVEL_WARNING, "source=1001.b: ",
		    "invalid: policies[0].policy.policy-type: missing" },
		{ LOG_LEVEL_INFO, "source=1002.c:2,S: ",
		    "valid: organization=\"Microsoft Corporation\" report-id="
		    "\"133198585438131172+test.xmox.nl\" policies=1 ms=#" },
		{ LOG_LEVEL_INFO, "", "valid 2, invalid 1, failed 0, # ms" } } },
};

static void
expect_where(const char *name, const char *sub, const char *want)
{
	const char *got = listing(sub);

	if (strcmp(got, want) != 0)
		fail_msg("%s: %s holds \"%s\", want \"%s\"", name, sub, got,
		    want);
}

static void
test_case(void **state)
{
	const struct sweep_case *c = *state;
	char pat[256];
	size_t i, n = 0;
	int code;

	fakedb.begin_fails = c->begin_fails;
	fakedb.begin_fails_at = c->begin_fails_at;
	fakedb.commit_fails = c->commit_fails;
	fakedb.commit_fails_at = c->commit_fails_at;
	code = sweep(c->dry_run);
	if (code != c->want_exit)
		fail_msg("%s: exit %d, want %d", c->name, code, c->want_exit);
	expect_where(c->name, "new", c->want_new);
	expect_where(c->name, "cur", c->want_cur);
	expect_where(c->name, ".Processed/cur", c->want_done);
	expect_where(c->name, ".Rejected/cur", c->want_rejected);
	for (i = 0; i < NELEM(c->want_lines) &&
	    c->want_lines[i].line != NULL; i++)
		n++;
	/* In this order, and no other line. */
	if (logcap.n != n) {
		logcap_dump();
		fail_msg("%s: %zu lines, want %zu", c->name, logcap.n, n);
	}
	for (i = 0; i < n; i++) {
		if (i == n - 1)
			(void)snprintf(pat, sizeof(pat), "maildir %s: %s", dir,
			    c->want_lines[i].line);
		else
			(void)snprintf(pat, sizeof(pat), "%s",
			    c->want_lines[i].line);
		if (logcap.l[i].level != c->want_lines[i].level ||
		    !logcap_match(c->want_lines[i].ctx, logcap.l[i].ctx) ||
		    !logcap_match(pat, logcap.l[i].line)) {
			logcap_dump();
			fail_msg("%s: line %zu is not \"%s%s\"", c->name, i,
			    c->want_lines[i].ctx, pat);
		}
		logcap.l[i].claimed = true;
	}
	logcap_check(c->name);
	if (c->dry_run && fakedb.n_open != 0)
		fail_msg("%s: a dry run connected", c->name);
}

/* What a sweep leaves, a second one finds nothing to do in. */
static void
test_second_sweep(void **state)
{
	char pat[256];
	unsigned opened;

	(void)state;
	assert_int_equal(sweep(false), EX_OK);
	logcap_reset();
	opened = fakedb.n_open;
	assert_int_equal(sweep(false), EX_OK);
	expect_where("second", "new", ".hidden");
	expect_where("second", "cur", "");
	expect_where("second", ".Processed/cur", "1000.a:2, 1002.c:2,S");
	expect_where("second", ".Rejected/cur", "1001.b:2,");
	(void)snprintf(pat, sizeof(pat), "maildir %s: stored 0, duplicates "
	    "0, rejected 0, left for retry 0, # ms", dir);
	logcap_expect("second", LOG_LEVEL_INFO, "", pat);
	assert_int_equal(logcap.n, 1);
	assert_int_equal(fakedb.n_open, opened);
	logcap_check("second sweep");
}

int
main(void)
{
	struct CMUnitTest tests[NELEM(cases) + 1];
	size_t i, n = 0;

	for (i = 0; i < NELEM(cases); i++)
		test_add(tests, &n, cases[i].name, test_case, setup, teardown,
		    &cases[i]);
	test_add(tests, &n, "a second sweep is a no-op", test_second_sweep,
	    setup, teardown, NULL);
	return _cmocka_run_group_tests("maildir", tests, n, NULL, NULL);
}
