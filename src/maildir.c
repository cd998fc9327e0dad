/*
 * maildir.c - batch sweeps.  File names come from the directory, which
 * whoever delivers mail controls: they are only ever used relative to
 * directory descriptors, never joined into paths, and names that begin
 * with a dot are skipped.
 *
 * That user controls the directories too, so nothing under the Maildir
 * is reached through a symbolic link: the Maildir itself (its last path
 * component; the operator names it) and every directory below it are
 * opened with O_NOFOLLOW, message files too.  A symbolic link where a
 * directory belongs stops the sweep before it reads a message; one in
 * place of a message is left where it is.
 *
 * Safety: a message file is moved (or unlinked) only after the statement
 * that stored it has committed, so a crash can at worst make us read a
 * message again, and the unique report key turns that into a duplicate.
 * Overlapping sweeps are kept apart by flock(2) on the Maildir itself.
 */
#include "autoconf.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <unistd.h>

#include "batch.h"
#include "input.h"
#include "log.h"
#include "maildir.h"
#include "mover.h"

#ifndef O_NOATIME
#define O_NOATIME 0
#endif

struct entry {
	char *name;
	int sub;		/* 0: new, 1: cur */
	bool handled;		/* once committed: to the done folder */
};

/* One sweep: what reading and moving the messages needs. */
struct sweep {
	struct run *run;
	struct batch *batch;	/* NULL in a dry run */
	int dirfd;		/* the Maildir, locked */
	struct mover_dirs dirs;	/* new/ and cur/, and where messages go */
	int noatime;		/* O_NOATIME while the files allow it */
	unsigned failed_moves;
	struct entry *list;	/* the chunk of names at hand */
	size_t n;
	struct entry *moves;	/* committed, not yet moved */
	size_t n_moves, next_move;
	char folder[NAME_MAX + 1];	/* the done folder */
	char label[LOG_SANITIZED_BYTES];	/* the Maildir, for lines */
};

static int
entry_cmp(const void *a, const void *b)
{
	const struct entry *x = a;
	const struct entry *y = b;

	return strcmp(x->name, y->name);
}

/*
 * Names are read MAILDIR_CHUNK at a time, so that memory stays flat
 * however many messages wait; each chunk is handled (and its batch
 * committed) before the next is read.  Files moved away meanwhile may or
 * may not be listed again (readdir(3)); opening them then fails with
 * ENOENT and they are skipped.
 */
#define MAILDIR_CHUNK 4000

/*
 * A committed message's file is moved while the next messages are sent,
 * one move after each, so that the database is not left idle while
 * thousands of files are renamed; what is left is moved before the next
 * commit and when the sweep ends, however it ends.  At most two chunks'
 * names wait: a batch never spans chunks, and the moves are all done by
 * the end of the chunk after.
 */
#define MAILDIR_MOVES (2 * MAILDIR_CHUNK)

/* Count the names in directory fd (dot files skipped). */
static int
count_dir(int fd, size_t *n, struct ti_err *err)
{
	DIR *d = NULL;
	struct dirent *de = NULL;
	int dfd;

	dfd = dup(fd);
	if (dfd < 0 || (d = fdopendir(dfd)) == NULL) {
		if (dfd >= 0)
			(void)close(dfd);
		return ti_err_set(err, TI_KIND_IO, "cannot read directory: %s",
		    strerror(errno));
	}
	rewinddir(d);
	while ((errno = 0, de = readdir(d)) != NULL) {
		if (de->d_name[0] != '.')
			(*n)++;
	}
	closedir(d);
	if (errno != 0)
		return ti_err_set(err, TI_KIND_IO, "cannot read directory: %s",
		    strerror(errno));
	return 0;
}

/* Read up to MAILDIR_CHUNK names from d into list (owned strings). */
static int
read_chunk(DIR *d, int sub, struct entry *list, size_t *n,
    struct ti_err *err)
{
	struct dirent *de = NULL;

	*n = 0;
	while (*n < MAILDIR_CHUNK) {
		errno = 0;
		de = readdir(d);
		if (de == NULL) {
			if (errno != 0)
				return ti_err_set(err, TI_KIND_IO,
				    "cannot read directory: %s",
				    strerror(errno));
			break;
		}
		if (de->d_name[0] == '.')
			continue;
		list[*n].name = strdup(de->d_name);
		if (list[*n].name == NULL)
			return ti_err_set(err, TI_KIND_TEMP, "out of memory");
		list[*n].sub = sub;
		(*n)++;
	}
	if (*n > 1)
		qsort(list, *n, sizeof(*list), entry_cmp);
	return 0;
}

static void
chunk_clear(struct entry *list, size_t *n)
{
	size_t i;

	for (i = 0; i < *n; i++) {
		free(list[i].name);
		list[i].name = NULL;
	}
	*n = 0;
}

/* Why directory name under at did not open (errno e): one that is a
 * symbolic link is named as such. */
static int
maildir_refuse(int at, const char *name, const char *what, int e,
    struct ti_err *err)
{
	struct stat st;

	if ((e == ENOTDIR || e == ELOOP) &&
	    fstatat(at, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    S_ISLNK(st.st_mode))
		return ti_err_set(err, TI_KIND_IO, "%s is a symbolic link; "
		    "refused, nothing moved", what);
	return ti_err_set(err, TI_KIND_IO, "cannot open %s: %s", what,
	    strerror(e));
}

/* Open directory name under at, never through a symbolic link; what
 * names it in errors.  Returns a descriptor, or -1 with IO. */
static int
maildir_opendir(int at, const char *name, const char *what,
    struct ti_err *err)
{
	int fd;

	fd = openat(at, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC);
	if (fd < 0)
		return maildir_refuse(at, name, what, errno, err);
	return fd;
}

/*
 * Open the cur/ of Maildir++ folder name, creating what is missing of
 * it; the folder, its tmp/, new/ and cur/ must be directories, not
 * symbolic links.  Returns a descriptor, or -1 with IO.
 */
static int
folder_open(int dirfd, const char *name, struct ti_err *err)
{
	static const char *subs[] = { "tmp", "new", "cur" };
	char what[NAME_MAX + 8];
	int ffd = -1;
	int fd = -1;
	int mfd;
	size_t i;

	if (mkdirat(dirfd, name, 0700) != 0 && errno != EEXIST) {
		ti_err_set(err, TI_KIND_IO, "cannot create folder %s: %s",
		    name, strerror(errno));
		goto out;
	}
	if ((ffd = maildir_opendir(dirfd, name, name, err)) < 0)
		goto out;
	for (i = 0; i < 3; i++) {
		if (fd >= 0)
			(void)close(fd);
		(void)snprintf(what, sizeof(what), "%s/%s", name, subs[i]);
		if (mkdirat(ffd, subs[i], 0700) != 0 && errno != EEXIST) {
			ti_err_set(err, TI_KIND_IO, "cannot create folder "
			    "%s: %s", what, strerror(errno));
			fd = -1;
			goto out;
		}
		if ((fd = maildir_opendir(ffd, subs[i], what, err)) < 0)
			goto out;
	}
	/* Created once; an existing name is left alone, never followed. */
	mfd = openat(ffd, "maildirfolder", O_WRONLY | O_CREAT | O_EXCL |
	    O_NOFOLLOW | O_CLOEXEC, 0600);
	if (mfd >= 0)
		(void)close(mfd);
out:
	if (ffd >= 0)
		(void)close(ffd);
	return fd;
}

static bool
folder_name_ok(const char *s)
{
	return s[0] != '\0' && strchr(s, '/') == NULL && strcmp(s, ".") != 0 &&
	    strcmp(s, "..") != 0 && strlen(s) < NAME_MAX - 1;
}

/* Move the next waiting message, or every one (all). */
static void
sweep_move(struct sweep *sw, bool all)
{
	const char *source = log_get_source();
	struct entry *m = NULL;

	/* A failure's line names the file itself. */
	log_set_source(NULL);
	while (sw->next_move < sw->n_moves) {
		m = &sw->moves[sw->next_move++];
		if (mover_move(&sw->dirs, m->sub, m->name, m->handled) != 0)
			sw->failed_moves++;
		free(m->name);
		m->name = NULL;
		if (!all)
			break;
	}
	if (sw->next_move == sw->n_moves)
		sw->n_moves = sw->next_move = 0;
	log_set_source(source);
}

/* A batch committed: its messages wait to be moved (or deleted); the
 * name is taken from the chunk. */
static void
sweep_done(void *arg, void *data, enum run_result res)
{
	struct sweep *sw = arg;
	struct entry *e = data;

	if (sw->n_moves == MAILDIR_MOVES)
		sweep_move(sw, true);
	sw->moves[sw->n_moves] = *e;
	sw->moves[sw->n_moves].handled = res == RUN_HANDLED;
	sw->n_moves++;
	e->name = NULL;
}

/*
 * Read message e: 0 with *input, 1 when it is gone since it was listed,
 * -1 with err.  Reading a message need not cost a write of its inode for
 * the access time, but only the files' owner may ask.  A FIFO must not
 * stop the sweep at its opening: it is opened without waiting, then
 * refused.
 */
static int
sweep_read(struct sweep *sw, const struct entry *e, struct buf **input,
    bool *truncated, struct ti_err *err)
{
	int flags = O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW | O_NONBLOCK;
	int fd, rc;

	fd = openat(sw->dirs.sub[e->sub], e->name, flags | sw->noatime);
	if (fd < 0 && errno == EPERM && sw->noatime != 0) {
		sw->noatime = 0;
		fd = openat(sw->dirs.sub[e->sub], e->name, flags);
	}
	if (fd < 0 && errno == ENOENT)
		return 1;
	if (fd < 0 && errno == ELOOP)
		return ti_err_set(err, TI_KIND_IO, "a symbolic link; refused, "
		    "left in place");
	if (fd < 0)
		return ti_err_set(err, TI_KIND_IO, "cannot open: %s",
		    strerror(errno));
	rc = input_read_fd(fd, run_config(sw->run)->lim.message_bytes,
	    TI_KIND_IO, true, input, truncated, err);
	(void)close(fd);
	return rc;
}

/* Handle the chunk of names at hand.  Returns -1 when the sweep must
 * stop. */
static int
sweep_chunk(struct sweep *sw)
{
	struct buf *input = NULL;
	struct ti_err err;
	enum run_result res;
	bool truncated = false;
	size_t i;
	int rc;

	for (i = 0; i < sw->n; i++) {
		log_set_source(sw->list[i].name);
		run_arm(sw->run);
		rc = sweep_read(sw, &sw->list[i], &input, &truncated, &err);
		if (rc == 1) {
			/* Taken away since we listed it (a mail reader). */
			run_total_drop(sw->run);
			continue;
		}
		if (rc != 0) {
			run_fail_message(sw->run, &err);
			continue;
		}
		if (sw->batch == NULL)
			res = run_message(sw->run, &input, truncated, NULL);
		else
			res = batch_message(sw->batch, &input, truncated,
			    &sw->list[i]);
		if (res == RUN_RETRY)
			return -1;
		sweep_move(sw, false);
		run_progress(sw->run);
	}
	if (sw->batch == NULL)
		return 0;
	sweep_move(sw, true);
	return batch_commit(sw->batch);
}

/* Every message of sub-directory k, a chunk at a time.  Returns -1 when
 * the sweep must stop (err set when it is for a reason not yet logged). */
static int
sweep_dir(struct sweep *sw, int k, struct ti_err *err)
{
	DIR *d = NULL;
	int dfd, rc = 0;

	dfd = dup(sw->dirs.sub[k]);
	if (dfd < 0 || (d = fdopendir(dfd)) == NULL) {
		if (dfd >= 0)
			(void)close(dfd);
		return ti_err_set(err, TI_KIND_IO, "cannot read directory: %s",
		    strerror(errno));
	}
	rewinddir(d);
	for (;;) {
		rc = read_chunk(d, k, sw->list, &sw->n, err);
		if (rc != 0 || sw->n == 0)
			break;
		rc = sweep_chunk(sw);
		chunk_clear(sw->list, &sw->n);
		if (rc != 0)
			break;
	}
	closedir(d);
	return rc;
}

/*
 * Open the Maildir dir without following a symbolic link in its last
 * component: a trailing '/' would make open(2) follow one, so the name
 * is opened without it.  Returns a descriptor, or -1 with IO.
 */
static int
sweep_open_top(const char *dir, const char *label, struct ti_err *err)
{
	char *name = NULL;
	size_t n = strlen(dir);
	int fd = -1;

	name = strdup(dir);
	if (name == NULL)
		return ti_err_set(err, TI_KIND_TEMP, "out of memory");
	while (n > 1 && name[n - 1] == '/')
		name[--n] = '\0';
	fd = maildir_opendir(AT_FDCWD, name, "the Maildir", err);
	if (fd < 0)
		ti_err_prefix(err, "maildir %s", label);
	free(name);
	return fd;
}

/*
 * Open and lock the Maildir, open new/ and cur/, and count what waits.
 * *busy_r: another sweep holds the lock (logged; nothing to do).
 */
static int
sweep_open(struct sweep *sw, const char *dir, size_t *total_r,
    bool *busy_r, struct ti_err *err)
{
	const char *label = log_sanitize(dir, sw->label, sizeof(sw->label));

	sw->dirfd = sweep_open_top(dir, label, err);
	if (sw->dirfd < 0)
		return -1;
	if (flock(sw->dirfd, LOCK_EX | LOCK_NB) != 0) {
		if (errno != EWOULDBLOCK)
			return ti_err_set(err, TI_KIND_IO, "cannot lock "
			    "Maildir: %s", strerror(errno));
		log_info("maildir %s: another sweep is running; nothing done",
		    label);
		*busy_r = true;
		return 0;
	}
	sw->dirs.sub[0] = maildir_opendir(sw->dirfd, "new", "new", err);
	if (sw->dirs.sub[0] >= 0)
		sw->dirs.sub[1] = maildir_opendir(sw->dirfd, "cur", "cur",
		    err);
	if (sw->dirs.sub[0] < 0 || sw->dirs.sub[1] < 0)
		return ti_err_prefix(err, "maildir %s", label);
	if (count_dir(sw->dirs.sub[0], total_r, err) != 0 ||
	    count_dir(sw->dirs.sub[1], total_r, err) != 0)
		return -1;
	sw->list = calloc(MAILDIR_CHUNK, sizeof(*sw->list));
	sw->moves = calloc(MAILDIR_MOVES, sizeof(*sw->moves));
	if (sw->list == NULL || sw->moves == NULL)
		return ti_err_set(err, TI_KIND_TEMP, "out of memory");
	return 0;
}

/* The done folder's directory name, from the option (NULL: the
 * default). */
static int
sweep_folder_name(struct sweep *sw, const char *done_folder,
    struct ti_err *err)
{
	if (done_folder == NULL)
		done_folder = "Processed";
	if (!folder_name_ok(done_folder))
		return ti_err_set(err, TI_KIND_USAGE, "bad folder name '%s'",
		    done_folder);
	if (ti_snprintf(sw->folder, sizeof(sw->folder), "%s%s",
	    done_folder[0] == '.' ? "" : ".", done_folder) != 0)
		return ti_err_set(err, TI_KIND_USAGE, "folder name too long");
	return 0;
}

/* Where handled and rejected messages go, and the batch that stores
 * them. */
static int
sweep_targets(struct sweep *sw, bool delete_done, struct ti_err *err)
{
	if ((!delete_done &&
	    (sw->dirs.done_fd = folder_open(sw->dirfd, sw->folder, err)) < 0) ||
	    (sw->dirs.rej_fd = folder_open(sw->dirfd, ".Rejected", err)) < 0) {
		ti_err_prefix(err, "maildir %s", sw->label);
		return -1;
	}
	sw->batch = batch_new(sw->run, sweep_done, sw, err);
	return sw->batch != NULL ? 0 : -1;
}

static void
sweep_close(struct sweep *sw)
{
	size_t i;

	batch_free(&sw->batch);
	if (sw->list != NULL)
		chunk_clear(sw->list, &sw->n);
	free(sw->list);
	free(sw->moves);
	if (sw->dirs.done_fd >= 0)
		(void)close(sw->dirs.done_fd);
	if (sw->dirs.rej_fd >= 0)
		(void)close(sw->dirs.rej_fd);
	for (i = 0; i < 2; i++) {
		if (sw->dirs.sub[i] >= 0)
			(void)close(sw->dirs.sub[i]);
	}
	if (sw->dirfd >= 0)
		(void)close(sw->dirfd);	/* releases the lock */
}

void
maildir_sweep(struct run *run, const char *dir, const char *done_folder,
    bool delete_done)
{
	struct sweep sw;
	struct ti_err err;
	char label[LOG_SANITIZED_BYTES];
	size_t total = 0;
	bool busy = false;
	int k, rc = 0;

	memset(&sw, 0, sizeof(sw));
	sw.run = run;
	sw.dirfd = sw.dirs.sub[0] = sw.dirs.sub[1] = -1;
	sw.dirs.done_fd = sw.dirs.rej_fd = -1;
	sw.noatime = O_NOATIME;
	ti_err_clear(&err);
	if (sweep_folder_name(&sw, done_folder, &err) != 0 ||
	    sweep_open(&sw, dir, &total, &busy, &err) != 0)
		goto fail;
	if (busy)
		goto out;
	run_set_total(run, total);
	/* What arrives after the count waits for the next sweep. */
	if (total > 0 && !run_settings(run)->dry_run &&
	    sweep_targets(&sw, delete_done, &err) != 0)
		goto fail;
	for (k = 0; k < 2 && total > 0 && rc == 0; k++)
		rc = sweep_dir(&sw, k, &err);
	/* What is committed is moved, however the sweep ended. */
	sweep_move(&sw, true);
	if (err.kind != TI_KIND_NONE)
		goto fail;
	log_set_source(NULL);
	run_disarm(run);
	(void)snprintf(label, sizeof(label), "maildir %s", dir);
	run_summary(run, label);
	goto out;
fail:
	run_fail(run, &err);
out:
	log_set_source(NULL);
	if (sw.failed_moves > 0)
		run_exit(run, EX_IOERR);
	sweep_close(&sw);
}
