/*
 * maildir.c - batch sweeps.  File names come from the directory, which
 * whoever delivers mail controls: they are only ever used relative to
 * directory descriptors, never joined into paths, and names that begin
 * with a dot are skipped.
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

#include "input.h"
#include "log.h"
#include "maildir.h"
#include "mbox.h"
#include "mover.h"

#ifndef O_NOATIME
#define O_NOATIME 0
#endif

struct sweep;

struct entry {
	char *name;
	int sub;		/* 0: new, 1: cur */
	struct sweep *sweep;
};

/* What reading and moving the messages needs. */
struct sweep {
	int sub[2];		/* new/ and cur/ */
	int noatime;		/* O_NOATIME while the files allow it */
	struct mover *mover;
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
		list[*n].sweep = NULL;
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

/* Open (creating it if needed) the cur/ of Maildir++ folder name. */
static int
folder_open(int dirfd, const char *name, struct ti_err *err)
{
	static const char *subs[] = { "cur", "new", "tmp" };
	int ffd = -1;
	int cfd = -1;
	int mfd;
	size_t i;

	if (mkdirat(dirfd, name, 0700) != 0 && errno != EEXIST)
		goto fail;
	ffd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (ffd < 0)
		goto fail;
	for (i = 0; i < 3; i++) {
		if (mkdirat(ffd, subs[i], 0700) != 0 && errno != EEXIST)
			goto fail;
	}
	mfd = openat(ffd, "maildirfolder", O_WRONLY | O_CREAT | O_CLOEXEC,
	    0600);
	if (mfd >= 0)
		(void)close(mfd);
	cfd = openat(ffd, "cur", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cfd < 0)
		goto fail;
	(void)close(ffd);
	return cfd;
fail:
	ti_err_set(err, TI_KIND_IO, "cannot create folder %s: %s", name,
	    strerror(errno));
	if (ffd >= 0)
		(void)close(ffd);
	return -1;
}

static bool
folder_name_ok(const char *s)
{
	return s[0] != '\0' && strchr(s, '/') == NULL && strcmp(s, ".") != 0 &&
	    strcmp(s, "..") != 0 && strlen(s) < NAME_MAX - 1;
}

/* A batch committed: move (or delete) each of its messages. */
static void
sweep_done(struct run *run, void *data, enum run_result res)
{
	const struct entry *e = data;

	(void)run;
	mover_move(e->sweep->mover, e->sub, e->name, res == RUN_HANDLED);
}

/* Handle one chunk of names.  Returns -1 when the sweep must stop. */
static int
sweep_chunk(struct run *run, struct entry *list, size_t n, struct sweep *sw)
{
	struct buf *input = NULL;
	struct ti_err err;
	enum run_result res;
	bool truncated;
	size_t i;
	int fd;

	for (i = 0; i < n; i++) {
		log_set_source(list[i].name);
		run_arm(run);
		/*
		 * Reading a message need not cost a write of its inode
		 * for the access time; only the files' owner may ask.  A
		 * FIFO must not stop the sweep at its opening: it is
		 * opened without waiting, then refused.
		 */
		fd = openat(sw->sub[list[i].sub], list[i].name, O_RDONLY |
		    O_CLOEXEC | O_NOCTTY | O_NOFOLLOW | O_NONBLOCK |
		    sw->noatime);
		if (fd < 0 && errno == EPERM && sw->noatime != 0) {
			sw->noatime = 0;
			fd = openat(sw->sub[list[i].sub], list[i].name,
			    O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW |
			    O_NONBLOCK);
		}
		if (fd < 0 && errno == ENOENT) {
			/* Taken away since we listed it (a mail reader). */
			if (run->n_total > 0)
				run->n_total--;
			continue;
		}
		if (fd < 0) {
			ti_err_set(&err, TI_KIND_IO, "cannot open: %s",
			    strerror(errno));
			run->n_failed++;
			run_progress_clear(run);
			log_err("%s", err.msg);
			run_exit(run, EX_IOERR);
			continue;
		}
		if (input_read_fd(fd, run->cfg.lim.message_bytes, TI_KIND_IO,
		    true, &input, &truncated, &err) != 0) {
			(void)close(fd);
			run->n_failed++;
			run_progress_clear(run);
			log_err("%s", err.msg);
			run_exit(run, ti_kind_exit(err.kind, 0));
			continue;
		}
		(void)close(fd);
		if (run->dry_run) {
			res = run_message(run, &input, truncated);
		} else {
			list[i].sweep = sw;
			res = run_batch_message(run, &input, truncated,
			    &list[i], sweep_done);
		}
		if (res == RUN_RETRY)
			return -1;
		run_progress(run);
	}
	return 0;
}

void
maildir_sweep(struct run *run, const char *dir, const char *done_folder,
    bool delete_done)
{
	struct entry *lists[2] = { NULL, NULL };
	size_t nl[2] = { 0, 0 };
	int cur = 0;
	struct ti_err err;
	char folder[NAME_MAX + 1];
	char label[LOG_SANITIZED_BYTES];
	size_t total = 0, i, k;
	int dirfd = -1, sub[2] = { -1, -1 };
	int done_fd = -1, rej_fd = -1, dfd;
	DIR *d = NULL;
	bool stop = false;
	struct mover_dirs dirs;
	struct sweep sw = { { -1, -1 }, 0, NULL };

	ti_err_clear(&err);
	if (done_folder == NULL)
		done_folder = "Processed";
	if (!folder_name_ok(done_folder)) {
		ti_err_set(&err, TI_KIND_USAGE, "bad folder name '%s'",
		    done_folder);
		goto fail;
	}
	if (ti_snprintf(folder, sizeof(folder), "%s%s",
	    done_folder[0] == '.' ? "" : ".", done_folder) != 0) {
		ti_err_set(&err, TI_KIND_USAGE, "folder name too long");
		goto fail;
	}
	dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0) {
		ti_err_set(&err, TI_KIND_IO, "cannot open Maildir %s: %s",
		    log_sanitize(dir, label, sizeof(label)), strerror(errno));
		goto fail;
	}
	if (flock(dirfd, LOCK_EX | LOCK_NB) != 0) {
		if (errno == EWOULDBLOCK) {
			log_info("maildir %s: another sweep is running; "
			    "nothing done", log_sanitize(dir, label,
			    sizeof(label)));
			goto out;
		}
		ti_err_set(&err, TI_KIND_IO, "cannot lock Maildir: %s",
		    strerror(errno));
		goto fail;
	}
	sub[0] = openat(dirfd, "new", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	sub[1] = openat(dirfd, "cur", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (sub[0] < 0 || sub[1] < 0) {
		ti_err_set(&err, TI_KIND_IO, "%s is not a Maildir (no new/ "
		    "or cur/)", log_sanitize(dir, label, sizeof(label)));
		goto fail;
	}
	if (count_dir(sub[0], &total, &err) != 0 ||
	    count_dir(sub[1], &total, &err) != 0)
		goto fail;
	run->n_total = total;
	if (total > 0 && !run->dry_run) {
		if (!delete_done &&
		    (done_fd = folder_open(dirfd, folder, &err)) < 0)
			goto fail;
		if ((rej_fd = folder_open(dirfd, ".Rejected", &err)) < 0)
			goto fail;
	}
	lists[0] = calloc(MAILDIR_CHUNK, sizeof(*lists[0]));
	lists[1] = calloc(MAILDIR_CHUNK, sizeof(*lists[1]));
	if (lists[0] == NULL || lists[1] == NULL) {
		ti_err_set(&err, TI_KIND_TEMP, "out of memory");
		goto fail;
	}
	sw.sub[0] = sub[0];
	sw.sub[1] = sub[1];
	sw.noatime = O_NOATIME;
	if (total > 0 && !run->dry_run) {
		dirs.sub[0] = sub[0];
		dirs.sub[1] = sub[1];
		dirs.done_fd = done_fd;
		dirs.rej_fd = rej_fd;
		if ((sw.mover = mover_new(&dirs, &err)) == NULL)
			goto fail;
	}
	for (k = 0; k < 2 && !stop; k++) {
		dfd = dup(sub[k]);
		if (dfd < 0 || (d = fdopendir(dfd)) == NULL) {
			if (dfd >= 0)
				(void)close(dfd);
			ti_err_set(&err, TI_KIND_IO,
			    "cannot read directory: %s", strerror(errno));
			goto fail;
		}
		rewinddir(d);
		while (!stop) {
			if (read_chunk(d, (int)k, lists[cur], &nl[cur],
			    &err) != 0)
				goto fail;
			if (nl[cur] == 0)
				break;
			stop = sweep_chunk(run, lists[cur], nl[cur], &sw) != 0;
			/*
			 * Commit; the files are moved while the next chunk
			 * is sent.  Then no message of the chunk before is
			 * waiting to be moved, and its names can go.
			 */
			if (!stop && !run->dry_run &&
			    run_batch_commit_later(run, sweep_done) != 0)
				stop = true;
			cur ^= 1;
			chunk_clear(lists[cur], &nl[cur]);
		}
		closedir(d);
		d = NULL;
	}
	if (!stop && !run->dry_run)
		(void)run_batch_commit(run, sweep_done);
	log_set_source(NULL);
	run_disarm(run);
	(void)snprintf(label, sizeof(label), "maildir %s", dir);
	run_summary(run, label);
	goto out;
fail:
	run_fail(run, &err);
out:
	if (d != NULL)
		closedir(d);
	/* Messages committed are moved before their names go. */
	run_batch_finish(run);
	if (mover_free(&sw.mover) != 0)
		run_exit(run, EX_IOERR);
	for (i = 0; i < 2; i++) {
		if (lists[i] != NULL)
			chunk_clear(lists[i], &nl[i]);
		free(lists[i]);
	}
	if (done_fd >= 0)
		(void)close(done_fd);
	if (rej_fd >= 0)
		(void)close(rej_fd);
	for (i = 0; i < 2; i++) {
		if (sub[i] >= 0)
			(void)close(sub[i]);
	}
	if (dirfd >= 0)
		(void)close(dirfd);	/* releases the lock */
}

void
maildir_import_mbox(struct run *run, const char *path)
{
	struct mbox *mb = NULL;
	struct buf *msg = NULL;
	struct ti_err err;
	char label[LOG_SANITIZED_BYTES];
	char where[32];
	bool truncated;
	size_t k = 0;
	int rc;

	mb = mbox_open(path, &err);
	if (mb == NULL) {
		ti_err_prefix(&err, "%s", log_sanitize(path, label,
		    sizeof(label)));
		run_fail(run, &err);
		return;
	}
	run->n_total = mbox_count(mb);
	for (;;) {
		run_arm(run);
		rc = mbox_next(mb, run->cfg.lim.message_bytes, &msg,
		    &truncated, &err);
		if (rc < 0) {
			run_fail(run, &err);
			break;
		}
		if (rc == 0)
			break;
		k++;
		(void)snprintf(where, sizeof(where), "message %zu", k);
		log_set_source(where);
		if ((run->dry_run ? run_message(run, &msg, truncated) :
		    run_batch_message(run, &msg, truncated, NULL, NULL)) ==
		    RUN_RETRY)
			break;
		run_progress(run);
	}
	log_set_source(NULL);
	if (rc == 0)
		(void)run_batch_commit(run, NULL);
	run_disarm(run);
	(void)snprintf(label, sizeof(label), "mbox %s", path);
	run_summary(run, label);
	mbox_close(&mb);
}
