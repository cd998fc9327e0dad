/*
 * serve.c - the resident server.  One process: it reads up to
 * SERVE_READERS requests (handoff.h) at once, each into a bounded buffer,
 * with poll(); each request read whole runs through the same path as
 * pipe mode, one at a time, on a database connection kept open, and is
 * replied to.  Connections past SERVE_READERS wait in the listen queue.
 *
 * Who may hand over messages is decided by the socket's permissions
 * (created 0660: its owner and group).  What a client sends is as
 * untrusted as any message: the header is parsed strictly, the body is
 * cut at the message size limit, and a client that has not sent its
 * whole request within handoff_send_ms() of being accepted (a few
 * seconds, plus its length at a low rate, at most the timeout setting)
 * is answered "retry" and dropped.  So a client that stalls holds one
 * reader for a few seconds and delays nobody; together the readers hold
 * at most SERVE_READERS times the message size limit.
 *
 * With the http setting it also takes reports POSTed by HTTP (http.h):
 * libmicrohttpd's one descriptor is polled beside the socket's, and
 * http_serve() stores each request read whole in the same round, on the
 * same database connection, one at a time.  With only that setting
 * there is no socket.  SIGHUP reloads its TLS certificate and key.
 */
#include "autoconf.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "handoff.h"
#include "http.h"
#include "log.h"
#include "serve.h"

#define SERVE_BACKLOG 128
#define SERVE_CHUNK_BYTES 65536
/* Requests read at once. */
#define SERVE_READERS 16
/* How long HTTP connections still open may take to finish once the
 * server is stopping. */
#define SERVE_HTTP_DRAIN_MS 5000

/* A connection whose request is being read. */
struct serve_conn {
	int fd;			/* -1: a free slot */
	long accepted;		/* CLOCK_MONOTONIC ms */
	long deadline;		/* for the whole request */
	char head[HANDOFF_HEADER_BYTES + 1];
	size_t got;		/* header bytes so far */
	bool have_header;
	struct handoff_request req;
	size_t left;		/* body bytes still to come */
	size_t keep;		/* body bytes kept: at most the limit */
	struct buf *body;
	bool done;		/* read whole, or refused (err set) */
	struct ti_err err;
};

/* The server: its listening socket and the connections being read. */
struct serve {
	struct run *run;
	int lfd;		/* -1: no socket, HTTP only */
	struct http *http;	/* NULL: no HTTP */
	bool stopping;		/* socket removed, draining the queue */
	bool drained;		/* and the listen queue found empty */
	long stop_ms;		/* when stopping began */
	size_t n_conn;
	struct serve_conn conn[SERVE_READERS];
};

static volatile sig_atomic_t serve_stop;
static volatile sig_atomic_t serve_reload;

static void
serve_on_signal(int sig)
{
	if (sig == SIGHUP)
		serve_reload = 1;
	else
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
		fd = handoff_connect(path, 1);
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

/* Now, CLOCK_MONOTONIC, in milliseconds. */
static long
serve_now_ms(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Take in a new connection: its request may take a few seconds. */
static void
serve_conn_open(struct serve *s, int fd)
{
	struct serve_conn *c = NULL;
	size_t i;

	for (i = 0; i < SERVE_READERS && s->conn[i].fd >= 0; i++)
		;
	assert(i < SERVE_READERS);
	c = &s->conn[i];
	memset(c, 0, sizeof(*c));
	c->fd = fd;
	c->accepted = serve_now_ms();
	c->deadline = c->accepted +
	    handoff_send_ms(0, run_config(s->run)->lim.timeout_seconds);
	ti_err_clear(&c->err);
	s->n_conn++;
}

/* Reply, close and free a slot. */
static void
serve_conn_close(struct serve *s, struct serve_conn *c,
    const struct run_outcome *o)
{
	char line[HANDOFF_REPLY_BYTES];
	size_t n;

	n = handoff_format_reply(line, sizeof(line), o);
	/* A client gone by now leaves what was stored stored: its next
	 * delivery is a duplicate. */
	if (handoff_write_all(c->fd, line, n) != 0)
		log_warning("answering a hand-off: %s", strerror(errno));
	(void)close(c->fd);
	buf_free(&c->body);
	c->fd = -1;
	s->n_conn--;
}

/* Refuse a request: "retry" with the reason. */
static void
serve_refuse(struct serve *s, struct serve_conn *c)
{
	struct run_outcome outcome;

	log_warning("hand-off refused: %s", c->err.msg);
	memset(&outcome, 0, sizeof(outcome));
	outcome.outcome = JOB_NONE;
	log_sanitize(c->err.msg, outcome.why, sizeof(outcome.why));
	serve_conn_close(s, c, &outcome);
}

/* The header line is in c->head (got bytes, nl its newline): parse it,
 * and give the request its deadline by its length. */
static int
serve_header(struct serve *s, struct serve_conn *c, char *nl)
{
	const struct config *cfg = run_config(s->run);

	*nl = '\0';
	if (memchr(c->head, '\0', (size_t)(nl - c->head)) != NULL)
		return ti_err_set(&c->err, TI_KIND_DATA, "not a hand-off "
		    "request");
	if (handoff_parse_request(c->head, &c->req, &c->err) != 0)
		return -1;
	c->have_header = true;
	c->left = c->req.len;
	c->keep = c->req.len < cfg->lim.message_bytes ? c->req.len :
	    cfg->lim.message_bytes;
	c->deadline = c->accepted + handoff_send_ms(c->req.len,
	    cfg->lim.timeout_seconds);
	c->body = buf_new(cfg->lim.message_bytes, &c->err);
	return c->body == NULL ? -1 : 0;
}

/* Body bytes: kept up to the size limit, the rest counted. */
static int
serve_body(struct serve_conn *c, const char *p, size_t n)
{
	size_t have = buf_len(c->body), take;

	if (n > c->left)
		return ti_err_set(&c->err, TI_KIND_DATA, "request longer "
		    "than it says");
	c->left -= n;
	take = have < c->keep ? c->keep - have : 0;
	if (take > n)
		take = n;
	return take > 0 ? buf_append(c->body, p, take, &c->err) : 0;
}

/*
 * Read what c's client has sent: the header line (at most
 * HANDOFF_HEADER_BYTES), then the body.  c->done once the request is
 * whole, or refused (DATA in c->err: malformed or cut short).
 */
static void
serve_conn_read(struct serve *s, struct serve_conn *c)
{
	char chunk[SERVE_CHUNK_BYTES];
	size_t want, hlen;
	ssize_t n;
	char *nl = NULL;

	want = c->have_header ? (c->left < sizeof(chunk) ? c->left :
	    sizeof(chunk)) : HANDOFF_HEADER_BYTES - c->got;
	do
		n = read(c->fd, c->have_header ? chunk : c->head + c->got,
		    want);
	while (n < 0 && errno == EINTR);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return;
	c->done = true;
	if (n <= 0) {
		ti_err_set(&c->err, TI_KIND_DATA, "request cut short");
		return;
	}
	if (c->have_header) {
		c->done = serve_body(c, chunk, (size_t)n) != 0 || c->left == 0;
		return;
	}
	c->got += (size_t)n;
	c->head[c->got] = '\0';
	nl = memchr(c->head, '\n', c->got);
	if (nl == NULL) {
		if (c->got >= HANDOFF_HEADER_BYTES)
			ti_err_set(&c->err, TI_KIND_DATA, "request header too "
			    "long");
		else
			c->done = false;
		return;
	}
	hlen = (size_t)(nl - c->head) + 1;
	if (serve_header(s, c, nl) != 0 ||
	    serve_body(c, c->head + hlen, c->got - hlen) != 0)
		return;
	c->done = c->left == 0;
}

/* Store a request read whole, and reply. */
static void
serve_store(struct serve *s, struct serve_conn *c)
{
	struct run_outcome outcome;
	bool truncated;

	truncated = c->req.truncated ||
	    c->req.len > run_config(s->run)->lim.message_bytes;
	log_set_queue_id(c->req.queue_id[0] != '\0' ? c->req.queue_id : NULL);
	run_db_check_idle(s->run);
	(void)run_message(s->run, &c->body, truncated, &outcome);
	log_set_queue_id(NULL);
	run_exit_reset(s->run);
	serve_conn_close(s, c, &outcome);
}

/* Accept what the listen queue holds, while a reader is free. */
static void
serve_accept(struct serve *s)
{
	int fd;

	if (s->lfd < 0) {
		s->drained = s->stopping;
		return;
	}
	while (s->n_conn < SERVE_READERS) {
		fd = accept4(s->lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (fd >= 0) {
			serve_conn_open(s, fd);
			continue;
		}
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			s->drained = s->stopping;
		else if (errno != EINTR && errno != ECONNABORTED)
			log_warning("accepting a connection: %s",
			    strerror(errno));
		if (errno != EINTR && errno != ECONNABORTED)
			break;
	}
}

/*
 * Wait for connections and bytes, no longer than the nearest deadline;
 * signals get through only here, so a message in hand is always
 * finished.  -1 when waiting fails.
 */
static int
serve_wait(struct serve *s, struct pollfd *pfd, const sigset_t *old)
{
	struct timespec ts, *tsp = NULL;
	long now = serve_now_ms(), near = -1, wait;
	nfds_t n = 0;
	size_t i;

	if (s->lfd >= 0 && s->n_conn < SERVE_READERS) {
		pfd[n].fd = s->lfd;
		pfd[n++].events = POLLIN;
	}
	if (s->http != NULL) {
		pfd[n].fd = http_fd(s->http);
		pfd[n++].events = POLLIN;
		wait = http_wait_ms(s->http);
		if (wait >= 0)
			near = now + wait;
		if (s->stopping && (near < 0 ||
		    s->stop_ms + SERVE_HTTP_DRAIN_MS < near))
			near = s->stop_ms + SERVE_HTTP_DRAIN_MS;
	}
	for (i = 0; i < SERVE_READERS; i++) {
		if (s->conn[i].fd < 0)
			continue;
		pfd[n].fd = s->conn[i].fd;
		pfd[n++].events = POLLIN;
		if (near < 0 || s->conn[i].deadline < near)
			near = s->conn[i].deadline;
	}
	if (near >= 0) {
		near = near > now ? near - now : 0;
		ts.tv_sec = near / 1000;
		ts.tv_nsec = (near % 1000) * 1000000 + 1000000;
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		tsp = &ts;
	}
	if (ppoll(pfd, n, tsp, old) < 0 && errno != EINTR) {
		log_err("waiting for connections: %s", strerror(errno));
		return -1;
	}
	return 0;
}

/*
 * One round: read what came, refuse what is late or malformed, store
 * what is whole (each in turn, on the one database connection), accept
 * new connections.
 */
static void
serve_round(struct serve *s)
{
	struct serve_conn *c = NULL;
	long now;
	size_t i;

	for (i = 0; i < SERVE_READERS; i++) {
		c = &s->conn[i];
		if (c->fd >= 0 && !c->done)
			serve_conn_read(s, c);
	}
	now = serve_now_ms();
	for (i = 0; i < SERVE_READERS; i++) {
		c = &s->conn[i];
		if (c->fd < 0)
			continue;
		if (!c->done && now >= c->deadline)
			ti_err_set(&c->err, TI_KIND_DATA, "request cut short: "
			    "too slow");
		if (c->err.msg[0] != '\0')
			serve_refuse(s, c);
		else if (c->done)
			serve_store(s, c);
	}
	serve_accept(s);
	if (s->http != NULL)
		http_serve(s->http);
}

/* Remove the socket (unless another server has taken its place), so that
 * pipe mode stores new messages itself from now on. */
static void
serve_unlink(const char *path, ino_t ino)
{
	struct stat st;

	if (lstat(path, &st) == 0 && st.st_ino == ino)
		(void)unlink(path);
}

/*
 * Open the doors: the socket (unless only HTTP is asked for) and the
 * HTTP port (when set).  -1 with the exit code set.
 */
static int
serve_open(struct serve *s, ino_t *ino_r)
{
	const struct config *cfg = run_config(s->run);
	struct ti_err err;

	ti_err_clear(&err);
	s->lfd = -1;
	if (cfg->socket_path != NULL || cfg->http_listen == NULL) {
		s->lfd = serve_listen(cfg->socket_path, ino_r, &err);
		if (s->lfd < 0 || fcntl(s->lfd, F_SETFL, O_NONBLOCK) != 0) {
			log_err("%s", s->lfd < 0 ? err.msg : strerror(errno));
			run_exit(s->run, EX_CONFIG);
			return -1;
		}
		log_info("listening on %s", cfg->socket_path);
	}
	if (cfg->http_listen != NULL) {
		s->http = http_new(s->run, &err);
		if (s->http == NULL) {
			log_err("%s", err.msg);
			run_exit(s->run, EX_CONFIG);
			return -1;
		}
		if (cfg->require_dkim)
			log_warning("require_dkim is set: every report by HTTP "
			    "is kept aside (it carries no DKIM signature)");
	}
	return 0;
}

/* Is there still something to serve?  Once stopping: the socket's queue
 * and readers, and HTTP connections for SERVE_HTTP_DRAIN_MS. */
static bool
serve_busy(const struct serve *s)
{
	if (!s->stopping)
		return true;
	if (!s->drained || s->n_conn > 0)
		return true;
	return s->http != NULL && http_connections(s->http) > 0 &&
	    serve_now_ms() - s->stop_ms < SERVE_HTTP_DRAIN_MS;
}

/* SIGTERM, SIGINT: stop; SIGHUP: reload the TLS certificate.  They are
 * blocked but while waiting. */
static void
serve_signals(sigset_t *old)
{
	struct sigaction sa;
	sigset_t block;

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
	(void)sigprocmask(SIG_BLOCK, &block, old);
}

void
serve_run(struct run *run)
{
	struct pollfd pfd[SERVE_READERS + 2];
	sigset_t old;
	struct ti_err err;
	struct serve s;
	const char *path = run_config(run)->socket_path;
	ino_t ino = 0;
	size_t i;

	ti_err_clear(&err);
	memset(&s, 0, sizeof(s));
	s.run = run;
	for (i = 0; i < SERVE_READERS; i++)
		s.conn[i].fd = -1;
	if (serve_open(&s, &ino) != 0) {
		if (s.lfd >= 0) {
			serve_unlink(path, ino);
			(void)close(s.lfd);
		}
		return;
	}
	serve_signals(&old);
	/* Connect now, so that a database problem shows at once; it is
	 * met again, and replied to as "retry", with the first message. */
	if (run_db_connect(run, true, &err) != 0)
		log_warning("%s; connecting again with the next message",
		    err.msg);
	/*
	 * Stopping: remove the socket and stop accepting HTTP connections,
	 * then serve the connections already queued and those being read,
	 * so that a restart defers none.
	 */
	while (serve_busy(&s)) {
		if (serve_wait(&s, pfd, &old) != 0) {
			run_exit(run, EX_OSERR);
			break;
		}
		if (serve_reload) {
			serve_reload = 0;
			if (s.http != NULL && !s.stopping)
				http_reload(s.http);
			else
				log_info("SIGHUP: no TLS certificate to reload");
		}
		if (serve_stop && !s.stopping) {
			s.stopping = true;
			s.stop_ms = serve_now_ms();
			if (s.lfd >= 0)
				serve_unlink(path, ino);
			if (s.http != NULL)
				http_quiesce(s.http);
		}
		serve_round(&s);
	}
	for (i = 0; i < SERVE_READERS; i++) {
		if (s.conn[i].fd >= 0)
			(void)close(s.conn[i].fd);
		buf_free(&s.conn[i].body);
	}
	http_free(&s.http);
	if (s.lfd >= 0) {
		if (!s.stopping)
			serve_unlink(path, ino);
		(void)close(s.lfd);
	}
	(void)sigprocmask(SIG_SETMASK, &old, NULL);
	run_summary(run, "server");
}
