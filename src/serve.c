/*
 * serve.c - the resident server.  One process, one message at a time:
 * accept a connection, read one request (handoff.h) into a bounded
 * buffer, run it through the same path as pipe mode on a database
 * connection kept open, reply, close.  Connections that arrive
 * meanwhile wait in the listen queue.
 *
 * Who may hand over messages is decided by the socket's permissions
 * (created 0660: its owner and group).  What a client sends is as
 * untrusted as any message: the header is parsed strictly, the body is
 * cut at the message size limit, and a client that stops sending is
 * dropped after HANDOFF_IDLE_SECONDS (or the timeout setting, if lower),
 * one that trickles its bytes once the timeout setting has passed.
 */
#include "autoconf.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "handoff.h"
#include "log.h"
#include "serve.h"

#define SERVE_BACKLOG 128
#define SERVE_CHUNK_BYTES 65536

static volatile sig_atomic_t serve_stop;

static void
serve_on_signal(int sig)
{
	(void)sig;
	serve_stop = 1;
}

/*
 * Bind and listen on path.  A socket left there by a server that is gone
 * is replaced; one a server still listens on, or anything that is not a
 * socket, is not.  Returns the descriptor and the path's inode, or -1.
 */
static int
serve_listen(const char *path, ino_t *ino_r, struct ti_err *err)
{
	struct sockaddr_un sun;
	struct stat st;
	mode_t old_mask;
	int fd = -1, rc;

	if (handoff_check_path(path, err) != 0)
		return -1;
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			ti_err_set(err, TI_KIND_CONFIG, "%s exists and is not "
			    "a socket", path);
			return -1;
		}
		fd = handoff_connect(path);
		if (fd >= 0) {
			(void)close(fd);
			ti_err_set(err, TI_KIND_CONFIG, "a server already "
			    "listens on %s", path);
			return -1;
		}
		if (unlink(path) != 0 && errno != ENOENT) {
			ti_err_set(err, TI_KIND_CONFIG, "removing the old "
			    "socket %s: %s", path, strerror(errno));
			return -1;
		}
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		ti_err_set(err, TI_KIND_TEMP, "socket: %s", strerror(errno));
		return -1;
	}
	handoff_address(&sun, path);
	old_mask = umask(0117);
	rc = bind(fd, (struct sockaddr *)&sun, sizeof(sun));
	(void)umask(old_mask);
	if (rc != 0 || listen(fd, SERVE_BACKLOG) != 0 ||
	    lstat(path, &st) != 0) {
		ti_err_set(err, TI_KIND_CONFIG, "listening on %s: %s", path,
		    strerror(errno));
		(void)close(fd);
		return -1;
	}
	*ino_r = st.st_ino;
	return fd;
}

/*
 * Read at most n bytes; 0 at the end, -1 on error, when idle too long
 * (the socket's receive timeout) or past the deadline (a client that
 * trickles its bytes).
 */
static ssize_t
serve_read(int fd, void *p, size_t n, time_t deadline)
{
	ssize_t r;

	if (time(NULL) > deadline) {
		errno = ETIMEDOUT;
		return -1;
	}
	do
		r = read(fd, p, n);
	while (r < 0 && errno == EINTR);
	return r;
}

/*
 * Read a request: its header, then its body into a new buffer cut at the
 * message size limit (*truncated_r then set).  DATA for a malformed or
 * incomplete request.
 */
static int
serve_read_request(struct run *run, int fd, struct handoff_request *req,
    struct buf **body_r, bool *truncated_r, struct ti_err *err)
{
	char head[HANDOFF_HEADER_BYTES + SERVE_CHUNK_BYTES];
	struct buf *body = NULL;
	size_t got = 0, hlen, left, keep, take;
	const struct config *cfg = run_config(run);
	time_t deadline = time(NULL) + cfg->lim.timeout_seconds;
	char *nl = NULL;
	ssize_t n;

	while (nl == NULL && got < HANDOFF_HEADER_BYTES) {
		n = serve_read(fd, head + got, sizeof(head) - 1 - got,
		    deadline);
		if (n <= 0)
			return ti_err_set(err, TI_KIND_DATA, "request cut "
			    "short%s", n < 0 ? ": too slow" : "");
		got += (size_t)n;
		head[got] = '\0';
		nl = memchr(head, '\n', got < HANDOFF_HEADER_BYTES ? got :
		    HANDOFF_HEADER_BYTES);
	}
	if (nl == NULL)
		return ti_err_set(err, TI_KIND_DATA, "request header too long");
	*nl = '\0';
	if (memchr(head, '\0', (size_t)(nl - head)) != NULL)
		return ti_err_set(err, TI_KIND_DATA, "not a hand-off request");
	if (handoff_parse_request(head, req, err) != 0)
		return -1;
	hlen = (size_t)(nl - head) + 1;
	*truncated_r = req->truncated || req->len > cfg->lim.message_bytes;
	keep = req->len < cfg->lim.message_bytes ? req->len :
	    cfg->lim.message_bytes;
	body = buf_new(cfg->lim.message_bytes, err);
	if (body == NULL || buf_reserve(body, keep, err) != 0)
		goto fail;
	/* What came with the header. */
	take = got - hlen;
	if (take > req->len) {
		ti_err_set(err, TI_KIND_DATA, "request longer than it says");
		goto fail;
	}
	left = req->len - take;
	if (take > keep)
		take = keep;
	memcpy(body->data, head + hlen, take);
	body->len = take;
	while (left > 0) {
		if (body->len < keep) {
			take = keep - body->len;
			n = serve_read(fd, body->data + body->len,
			    take < left ? take : left, deadline);
		} else
			n = serve_read(fd, head, left < sizeof(head) ?
			    left : sizeof(head), deadline);
		if (n <= 0) {
			ti_err_set(err, TI_KIND_DATA, "request cut short%s",
			    n < 0 ? ": too slow" : "");
			goto fail;
		}
		if (body->len < keep)
			body->len += (size_t)n;
		left -= (size_t)n;
	}
	body->data[body->len] = '\0';
	*body_r = body;
	return 0;
fail:
	buf_free(&body);
	return -1;
}

/* One connection: read its request, store its message, reply. */
static void
serve_one(struct run *run, int fd)
{
	struct timeval tv = { HANDOFF_IDLE_SECONDS, 0 };
	struct handoff_request req;
	struct run_outcome outcome;
	struct buf *body = NULL;
	struct ti_err err;
	char line[HANDOFF_REPLY_BYTES];
	size_t n;
	bool truncated = false;

	ti_err_clear(&err);
	if (run_config(run)->lim.timeout_seconds < HANDOFF_IDLE_SECONDS)
		tv.tv_sec = run_config(run)->lim.timeout_seconds;
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (serve_read_request(run, fd, &req, &body, &truncated, &err) != 0) {
		log_warning("hand-off refused: %s", err.msg);
		memset(&outcome, 0, sizeof(outcome));
		outcome.outcome = JOB_NONE;
		log_sanitize(err.msg, outcome.why, sizeof(outcome.why));
	} else {
		log_set_queue_id(req.queue_id[0] != '\0' ? req.queue_id : NULL);
		run_db_check_idle(run);
		(void)run_message(run, &body, truncated, &outcome);
		log_set_queue_id(NULL);
		run_exit_reset(run);
	}
	n = handoff_format_reply(line, sizeof(line), &outcome);
	/* A client gone by now leaves what was stored stored: its next
	 * delivery is a duplicate. */
	if (handoff_write_all(fd, line, n) != 0)
		log_warning("answering a hand-off: %s", strerror(errno));
	buf_free(&body);
}

void
serve_run(struct run *run)
{
	struct sigaction sa;
	struct stat st;
	sigset_t block, old;
	fd_set rfds;
	struct ti_err err;
	const char *path = run_config(run)->socket_path;
	ino_t ino = 0;
	int lfd, cfd;

	ti_err_clear(&err);
	lfd = serve_listen(path, &ino, &err);
	if (lfd < 0) {
		log_err("%s", err.msg);
		run_exit(run, EX_CONFIG);
		return;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = serve_on_signal;
	(void)sigemptyset(&sa.sa_mask);
	(void)sigaction(SIGTERM, &sa, NULL);
	(void)sigaction(SIGINT, &sa, NULL);
	(void)sigaction(SIGHUP, &sa, NULL);
	(void)sigemptyset(&block);
	(void)sigaddset(&block, SIGTERM);
	(void)sigaddset(&block, SIGINT);
	(void)sigaddset(&block, SIGHUP);
	(void)sigprocmask(SIG_BLOCK, &block, &old);
	log_info("listening on %s", path);
	/* Connect now, so that a database problem shows at once; it is
	 * met again, and replied to as "retry", with the first message. */
	if (run_db_connect(run, true, &err) != 0)
		log_warning("%s; connecting again with the next message",
		    err.msg);
	while (!serve_stop) {
		FD_ZERO(&rfds);
		FD_SET(lfd, &rfds);
		/* Signals get through only while waiting here, so a
		 * message in hand is always finished. */
		if (pselect(lfd + 1, &rfds, NULL, NULL, NULL, &old) < 0) {
			if (errno == EINTR)
				continue;
			log_err("waiting for connections: %s",
			    strerror(errno));
			run_exit(run, EX_OSERR);
			break;
		}
		cfd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		if (cfd < 0) {
			if (errno != EINTR && errno != ECONNABORTED &&
			    errno != EAGAIN)
				log_warning("accepting a connection: %s",
				    strerror(errno));
			continue;
		}
		serve_one(run, cfd);
		(void)close(cfd);
	}
	/*
	 * Stopping: remove the socket (unless another server has taken its
	 * place), so that pipe mode stores new messages itself from now on,
	 * then serve the connections already queued, so that a restart
	 * defers none.
	 */
	if (lstat(path, &st) == 0 && st.st_ino == ino)
		(void)unlink(path);
	if (fcntl(lfd, F_SETFL, O_NONBLOCK) == 0) {
		while ((cfd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC)) >= 0) {
			serve_one(run, cfd);
			(void)close(cfd);
		}
	}
	(void)close(lfd);
	(void)sigprocmask(SIG_SETMASK, &old, NULL);
	run_summary(run, "server");
}
