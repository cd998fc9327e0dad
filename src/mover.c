/*
 * mover.c - a Maildir sweep's file moves, in a child process.
 *
 * The parent writes one record per message into a socket: an operation
 * byte, the sub-directory, the name's length (two bytes) and the name.
 * The child, forked with the sweep's directory descriptors, reads the
 * records and does the renames in order; it logs each failure itself and
 * says in its exit status whether there was one.  Records are collected
 * into a buffer first, so the parent makes one system call for dozens of
 * moves.  Without a child (fork failed, or it died), the parent runs the
 * same records itself.
 *
 * Names come from the directory and are used only relative to its
 * descriptor; the child trusts the records no more than that: an unknown
 * operation or sub-directory, or a name with a '/', ends it.
 */
#include "autoconf.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <sysexits.h>
#include <unistd.h>

#include "log.h"
#include "mover.h"

/* Records are sent when this much has been collected. */
#define MOVER_BUF_BYTES 8192
#define MOVER_HEAD_BYTES 4

enum mover_op {
	MOVER_DONE = 1,		/* to the done folder, or deleted */
	MOVER_REJECTED = 2,	/* to .Rejected */
};

struct mover {
	struct mover_dirs dirs;
	pid_t child;		/* -1: none to wait for */
	int sock;		/* to the child; -1: moves done here */
	unsigned failed;	/* moves that failed in this process */
	size_t len;
	unsigned char buf[MOVER_BUF_BYTES];
};

/* The length of the name in the record at p. */
static size_t
mover_name_len(const unsigned char *p)
{
	return (size_t)p[2] | (size_t)p[3] << 8;
}

/* One move; a failure is logged.  Returns 0 or -1. */
static int
mover_one(const struct mover_dirs *d, enum mover_op op, int sub,
    const char *name)
{
	char target[NAME_MAX + 8];
	char clean[LOG_SANITIZED_BYTES];
	const char *to_name = name;
	int to = op == MOVER_DONE ? d->done_fd : d->rej_fd;

	if (op == MOVER_DONE && to < 0) {
		if (unlinkat(d->sub[sub], name, 0) == 0)
			return 0;
		log_err("%s: cannot delete: %s", log_sanitize(name, clean,
		    sizeof(clean)), strerror(errno));
		return -1;
	}
	/* From new/, the name gains the Maildir info part: "name:2,". */
	if (sub == 0 && strstr(name, ":2,") == NULL) {
		if (ti_snprintf(target, sizeof(target), "%s:2,", name) != 0) {
			log_err("%s: cannot move: name too long",
			    log_sanitize(name, clean, sizeof(clean)));
			return -1;
		}
		to_name = target;
	}
	if (renameat(d->sub[sub], name, to, to_name) == 0)
		return 0;
	log_err("%s: cannot move: %s", log_sanitize(name, clean,
	    sizeof(clean)), strerror(errno));
	return -1;
}

/*
 * Do the whole records at the start of p[0..len).  Returns the bytes
 * they took; *failed_r counts failed moves; *bad_r is set on a record no
 * parent writes.
 */
static size_t
mover_run(const struct mover_dirs *d, const unsigned char *p, size_t len,
    unsigned *failed_r, int *bad_r)
{
	char name[NAME_MAX + 1];
	size_t off = 0;
	size_t n;

	while (len - off >= MOVER_HEAD_BYTES) {
		n = mover_name_len(p + off);
		if (len - off - MOVER_HEAD_BYTES < n)
			break;
		if ((p[off] != MOVER_DONE && p[off] != MOVER_REJECTED) ||
		    p[off + 1] > 1 || n == 0 || n > NAME_MAX ||
		    memchr(p + off + MOVER_HEAD_BYTES, '/', n) != NULL ||
		    memchr(p + off + MOVER_HEAD_BYTES, '\0', n) != NULL) {
			*bad_r = 1;
			return off;
		}
		memcpy(name, p + off + MOVER_HEAD_BYTES, n);
		name[n] = '\0';
		if (mover_one(d, (enum mover_op)p[off], p[off + 1], name) != 0)
			(*failed_r)++;
		off += MOVER_HEAD_BYTES + n;
	}
	return off;
}

/* The child: do what the socket says until it closes, then say how it
 * went (EX_IOERR: a move failed, EX_SOFTWARE: a bad record). */
static void
mover_child(const struct mover_dirs *d, int sock)
{
	unsigned char in[2 * MOVER_BUF_BYTES];
	unsigned failed = 0;
	size_t have = 0;
	size_t used;
	ssize_t n;
	int bad = 0;

	log_set_source(NULL);
	for (;;) {
		n = read(sock, in + have, sizeof(in) - have);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		have += (size_t)n;
		used = mover_run(d, in, have, &failed, &bad);
		if (bad)
			break;
		memmove(in, in + used, have - used);
		have -= used;
	}
	/* Not exit(): nothing of the parent's is this process's to end. */
	_exit(bad || n < 0 || have != 0 ? EX_SOFTWARE : failed > 0 ?
	    EX_IOERR : 0);
}

struct mover *
mover_new(const struct mover_dirs *dirs, struct ti_err *err)
{
	struct mover *m = NULL;
	sigset_t all, old;
	int sv[2] = { -1, -1 };
	pid_t pid;

	m = calloc(1, sizeof(*m));
	if (m == NULL) {
		ti_err_set(err, TI_KIND_TEMP, "out of memory");
		return NULL;
	}
	m->dirs = *dirs;
	m->child = -1;
	m->sock = -1;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
		log_debug("moving in this process: socketpair: %s",
		    strerror(errno));
		return m;
	}
	/* The child takes no signal meant for the sweep's own deadline. */
	(void)sigfillset(&all);
	(void)sigprocmask(SIG_BLOCK, &all, &old);
	pid = fork();
	if (pid == 0) {
		(void)close(sv[0]);
		(void)signal(SIGALRM, SIG_DFL);
		(void)signal(SIGINT, SIG_IGN);
		(void)sigprocmask(SIG_SETMASK, &old, NULL);
		mover_child(&m->dirs, sv[1]);
	}
	(void)sigprocmask(SIG_SETMASK, &old, NULL);
	(void)close(sv[1]);
	if (pid < 0) {
		log_debug("moving in this process: fork: %s", strerror(errno));
		(void)close(sv[0]);
		return m;
	}
	m->child = pid;
	m->sock = sv[0];
	return m;
}

/* Hand the collected records to the child, or do them here. */
static void
mover_flush(struct mover *m)
{
	const char *source = log_get_source();
	size_t sent = 0;
	size_t off;
	ssize_t n;
	int bad = 0;

	/* Lines from here are about the moves, not the current message. */
	log_set_source(NULL);
	while (m->sock >= 0 && sent < m->len) {
		n = send(m->sock, m->buf + sent, m->len - sent, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			log_err("moving messages: the mover process is gone "
			    "(%s); moving in this process", strerror(errno));
			(void)close(m->sock);
			m->sock = -1;
			break;
		}
		sent += (size_t)n;
	}
	/* What the child did not get whole is done here. */
	off = 0;
	while (off < m->len && off + MOVER_HEAD_BYTES +
	    mover_name_len(m->buf + off) <= sent)
		off += MOVER_HEAD_BYTES + mover_name_len(m->buf + off);
	if (off < m->len)
		(void)mover_run(&m->dirs, m->buf + off, m->len - off,
		    &m->failed, &bad);
	m->len = 0;
	log_set_source(source);
}

void
mover_move(struct mover *m, int sub, const char *name, bool handled)
{
	size_t n = strlen(name);

	if (n == 0 || n > NAME_MAX || sub < 0 || sub > 1 ||
	    strchr(name, '/') != NULL) {
		m->failed++;
		log_err("cannot move a message: bad name");
		return;
	}
	if (m->len + MOVER_HEAD_BYTES + n > sizeof(m->buf))
		mover_flush(m);
	m->buf[m->len] = handled ? MOVER_DONE : MOVER_REJECTED;
	m->buf[m->len + 1] = (unsigned char)sub;
	m->buf[m->len + 2] = (unsigned char)(n & 0xff);
	m->buf[m->len + 3] = (unsigned char)(n >> 8);
	memcpy(m->buf + m->len + MOVER_HEAD_BYTES, name, n);
	m->len += MOVER_HEAD_BYTES + n;
}

int
mover_free(struct mover **mp)
{
	struct mover *m = NULL;
	int status = 0;
	int rc = 0;

	if (mp == NULL || *mp == NULL)
		return 0;
	m = *mp;
	*mp = NULL;
	mover_flush(m);
	if (m->sock >= 0)
		(void)close(m->sock);
	if (m->child > 0) {
		while (waitpid(m->child, &status, 0) < 0 && errno == EINTR)
			;
		if (WIFSIGNALED(status)) {
			log_err("moving messages: the mover process was "
			    "killed by signal %d", WTERMSIG(status));
			rc = -1;
		} else if (WIFEXITED(status) && WEXITSTATUS(status) ==
		    EX_SOFTWARE) {
			log_err("moving messages: the mover process got a "
			    "record it cannot read");
			rc = -1;
		} else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
			rc = -1;	/* each failure logged by the child */
		}
	}
	if (m->failed > 0)
		rc = -1;
	free(m);
	return rc;
}
