/*
 * handoff.c - the hand-off's wire format (see handoff.h), and its client
 * side: pipe mode connecting to a resident server.
 *
 * The client trusts the server as far as its socket's permissions say;
 * still, a reply is parsed strictly and bounded, and anything short of a
 * whole reply is a failure to retry (exit 75), never a success.  A server
 * that has not read the whole request within handoff_send_ms() (a full
 * listen queue, a stuck server) is not waited for: pipe mode then stores
 * the message itself.  Once it has read it all, it may be storing it,
 * and only its reply, or the timeout setting, ends the wait.
 */
#include "autoconf.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "handoff.h"
#include "log.h"

#ifdef __linux__
#include <linux/sockios.h>
#endif

#define HANDOFF_MAGIC "TLSRPT-INGEST/1 message "

/* The protocol's words for what became of a message, and the outcome
 * each stands for. */
static const struct {
	const char *word;
	enum job_outcome outcome;
} handoff_words[] = {
	{ "retry", JOB_NONE },
	{ "stored", JOB_STORED },
	{ "duplicate", JOB_DUPLICATE },
	{ "rejected", JOB_REJECTED },
};

#define HANDOFF_N_WORDS (sizeof(handoff_words) / sizeof(handoff_words[0]))

/* A queue id goes on the wire only when it is a plain token. */
static bool
handoff_token(const char *s)
{
	size_t n;

	if (s == NULL || s[0] == '\0')
		return false;
	for (n = 0; s[n] != '\0'; n++) {
		if (n >= HANDOFF_QUEUE_ID_BYTES ||
		    strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
		    "0123456789._-", s[n]) == NULL)
			return false;
	}
	return true;
}

size_t
handoff_format_request(char *out, size_t size, size_t len, bool truncated,
    const char *queue_id)
{
	int n;

	n = snprintf(out, size, HANDOFF_MAGIC "%zu %s %s\n", len,
	    truncated ? "t" : "-", handoff_token(queue_id) ? queue_id : "-");
	return n < 0 || (size_t)n >= size ? 0 : (size_t)n;
}

/* A decimal size_t, digits only, no leading zero; *end past it. */
static int
handoff_parse_size(const char *s, size_t *v, const char **end)
{
	size_t x = 0;
	const char *p = s;

	if (*p < '0' || *p > '9' || (*p == '0' && p[1] >= '0' && p[1] <= '9'))
		return -1;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (x > (SIZE_MAX - (size_t)(*p - '0')) / 10)
			return -1;
		x = x * 10 + (size_t)(*p - '0');
	}
	*v = x;
	*end = p;
	return 0;
}

int
handoff_parse_request(const char *line, struct handoff_request *req,
    struct ti_err *err)
{
	const char *p = line;
	size_t n;

	memset(req, 0, sizeof(*req));
	if (strncmp(p, HANDOFF_MAGIC, sizeof(HANDOFF_MAGIC) - 1) != 0)
		return ti_err_set(err, TI_KIND_DATA, "not a hand-off request");
	p += sizeof(HANDOFF_MAGIC) - 1;
	if (handoff_parse_size(p, &req->len, &p) != 0 || *p++ != ' ')
		return ti_err_set(err, TI_KIND_DATA, "hand-off request: "
		    "bad length");
	if ((*p != 't' && *p != '-') || p[1] != ' ')
		return ti_err_set(err, TI_KIND_DATA, "hand-off request: "
		    "bad flags");
	req->truncated = *p == 't';
	p += 2;
	if (strcmp(p, "-") == 0)
		return 0;
	if (!handoff_token(p))
		return ti_err_set(err, TI_KIND_DATA, "hand-off request: "
		    "bad queue id");
	n = strlen(p);
	memcpy(req->queue_id, p, n + 1);
	return 0;
}

/* The word for an outcome; "retry" for one the protocol has none for. */
static const char *
handoff_word(enum job_outcome outcome)
{
	size_t i;

	for (i = 0; i < HANDOFF_N_WORDS; i++) {
		if (handoff_words[i].outcome == outcome)
			return handoff_words[i].word;
	}
	return handoff_words[0].word;
}

size_t
handoff_format_reply(char *out, size_t size, const struct run_outcome *o)
{
	int n;

	n = snprintf(out, size, "%s\t%zu\t%s\t%s\t%s\n",
	    handoff_word(o->outcome), o->policies, o->org, o->rid, o->why);
	return n < 0 || (size_t)n >= size ? 0 : (size_t)n;
}

/* Copy one tab-ended field of at most size - 1 bytes; *p past its tab. */
static int
handoff_field(const char **p, char *out, size_t size, bool last)
{
	const char *end = last ? *p + strlen(*p) : strchr(*p, '\t');
	size_t n;

	if (end == NULL || (size_t)(end - *p) >= size)
		return -1;
	n = (size_t)(end - *p);
	memcpy(out, *p, n);
	out[n] = '\0';
	if (memchr(out, '\t', n) != NULL)
		return -1;
	*p = last ? end : end + 1;
	return 0;
}

int
handoff_parse_reply(const char *line, struct run_outcome *o,
    struct ti_err *err)
{
	char word[16];
	const char *p = line;
	size_t i;

	memset(o, 0, sizeof(*o));
	if (handoff_field(&p, word, sizeof(word), false) != 0)
		goto bad;
	for (i = 0; i < HANDOFF_N_WORDS; i++) {
		if (strcmp(word, handoff_words[i].word) == 0)
			break;
	}
	if (i == HANDOFF_N_WORDS)
		goto bad;
	o->outcome = handoff_words[i].outcome;
	if (handoff_parse_size(p, &o->policies, &p) != 0 || *p++ != '\t' ||
	    handoff_field(&p, o->org, sizeof(o->org), false) != 0 ||
	    handoff_field(&p, o->rid, sizeof(o->rid), false) != 0 ||
	    handoff_field(&p, o->why, sizeof(o->why), true) != 0)
		goto bad;
	if (o->outcome == JOB_NONE && o->why[0] == '\0')
		goto bad;
	return 0;
bad:
	memset(o, 0, sizeof(*o));
	return ti_err_set(err, TI_KIND_DATA, "not a hand-off answer");
}

int
handoff_check_path(const char *path, struct ti_err *err)
{
	struct sockaddr_un sun;

	if (path == NULL || path[0] == '\0')
		return ti_err_set(err, TI_KIND_CONFIG, "socket: not set");
	if (strlen(path) >= sizeof(sun.sun_path))
		return ti_err_set(err, TI_KIND_CONFIG, "socket: path longer "
		    "than %zu bytes", sizeof(sun.sun_path) - 1);
	return 0;
}

int
handoff_write_all(int fd, const void *p, size_t n)
{
	const unsigned char *c = p;
	ssize_t w;

	while (n > 0) {
		w = write(fd, c, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		c += w;
		n -= (size_t)w;
	}
	return 0;
}

void
handoff_address(struct sockaddr_un *sun, const char *path)
{
	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	memcpy(sun->sun_path, path, strlen(path) + 1);
}

int
handoff_connect(const char *path, unsigned seconds)
{
	struct sockaddr_un sun;
	struct timeval tv = { (time_t)(seconds > 0 ? seconds : 1), 0 };
	int fd, saved;

	handoff_address(&sun, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	/* A Unix socket's connect waits for room in the listen queue as
	 * long as the send timeout says. */
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0) {
		saved = errno;
		(void)close(fd);
		errno = saved;
		return -1;
	}
	return fd;
}

long
handoff_send_ms(size_t len, unsigned timeout_seconds)
{
	size_t s = HANDOFF_SEND_SECONDS + len / HANDOFF_SEND_BYTES_PER_SECOND;

	if (s > timeout_seconds)
		s = timeout_seconds;
	return (long)s * 1000;
}

/* Milliseconds left until deadline (CLOCK_MONOTONIC ms), at least 0. */
static int
handoff_left_ms(long deadline)
{
	struct timespec now;
	long ms;

	(void)clock_gettime(CLOCK_MONOTONIC, &now);
	ms = deadline - ((long)now.tv_sec * 1000 + now.tv_nsec / 1000000);
	return ms < 0 ? 0 : ms > INT_MAX ? INT_MAX : (int)ms;
}

/* Wait for events on fd until deadline: 1 ready, 0 too late, -1 error. */
static int
handoff_wait(int fd, short events, long deadline)
{
	struct pollfd pfd = { fd, events, 0 };
	int n;

	do
		n = poll(&pfd, 1, handoff_left_ms(deadline));
	while (n < 0 && errno == EINTR);
	return n;
}

/*
 * Has the server read all that was sent on fd?  Only Linux tells
 * (SIOCOUTQ: bytes the peer has not read); elsewhere, yes.
 */
static bool
handoff_all_read(int fd)
{
#ifdef SIOCOUTQ
	int n = 0;

	return ioctl(fd, SIOCOUTQ, &n) != 0 || n == 0;
#else
	(void)fd;
	return true;
#endif
}

/*
 * Send p (n bytes) on the non-blocking fd before deadline: 0, 1 when too
 * late, -1 with errno.
 */
static int
handoff_send(int fd, const void *p, size_t n, long deadline)
{
	const unsigned char *c = p;
	ssize_t w;
	int r;

	while (n > 0) {
		w = send(fd, c, n, MSG_NOSIGNAL);
		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			r = handoff_wait(fd, POLLOUT, deadline);
			if (r <= 0)
				return r == 0 ? 1 : -1;
			continue;
		}
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		c += w;
		n -= (size_t)w;
	}
	return 0;
}

/*
 * Hand over the request (header, then body) and wait, until deadline,
 * for the server to have read all of it: 0, 1 when it has not in time,
 * -1 with errno.
 */
static int
handoff_request(int fd, const char *header, size_t hlen,
    const struct buf *body, long deadline)
{
	struct ti_bytes b = buf_bytes(body);
	int r, pause_ms = 1;

	r = handoff_send(fd, header, hlen, deadline);
	if (r == 0 && b.len > 0)
		r = handoff_send(fd, b.data, b.len, deadline);
	if (r != 0)
		return r;
	(void)shutdown(fd, SHUT_WR);
	while (!handoff_all_read(fd)) {
		if (handoff_left_ms(deadline) == 0)
			return 1;
		(void)poll(NULL, 0, pause_ms);
		if (pause_ms < 32)
			pause_ms *= 2;
	}
	return 0;
}

/* Read the reply line before deadline: 0, or -1 when it is not whole. */
static int
handoff_read_reply(int fd, char *line, size_t size, long deadline)
{
	size_t got = 0;
	ssize_t n;
	char *nl = NULL;

	while (got < size - 1) {
		n = read(fd, line + got, size - 1 - got);
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) &&
		    handoff_wait(fd, POLLIN, deadline) > 0)
			continue;
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		got += (size_t)n;
		line[got] = '\0';
		nl = memchr(line, '\n', got);
		if (nl != NULL) {
			*nl = '\0';
			return nl + 1 == line + got ? 0 : -1;
		}
	}
	return -1;
}

/*
 * Sending failed (errno says why): the error for it.  A server that
 * refuses a request replies "retry" with its reason and closes without
 * reading the rest: then say why.
 */
static void
handoff_send_failed(int fd, const char *path, long deadline,
    struct ti_err *err)
{
	char line[HANDOFF_REPLY_BYTES];
	struct run_outcome reply;
	struct ti_err perr;
	int saved = errno;

	ti_err_set(err, TI_KIND_TEMP, "server on %s: sending the message: %s",
	    path, strerror(saved));
	if ((saved == EPIPE || saved == ECONNRESET) &&
	    handoff_read_reply(fd, line, sizeof(line), deadline) == 0 &&
	    handoff_parse_reply(line, &reply, &perr) == 0 &&
	    reply.outcome == JOB_NONE)
		ti_err_set(err, TI_KIND_TEMP, "server on %s: refused the "
		    "message: %s", path, reply.why);
}

/* A monotonic deadline ms milliseconds after t0. */
static long
handoff_deadline(const struct timespec *t0, long ms)
{
	return (long)t0->tv_sec * 1000 + t0->tv_nsec / 1000000 + ms;
}

bool
handoff_message(struct run *run, const char *path, struct buf **input,
    bool truncated)
{
	char header[HANDOFF_HEADER_BYTES];
	char line[HANDOFF_REPLY_BYTES];
	struct run_outcome reply;
	struct timespec t0;
	struct ti_err err;
	unsigned timeout = run_config(run)->lim.timeout_seconds;
	size_t hlen, len = buf_len(*input);
	long send_ms = handoff_send_ms(len, timeout);
	int fd = -1, r, saved;

	ti_err_clear(&err);
	(void)clock_gettime(CLOCK_MONOTONIC, &t0);
	if (handoff_check_path(path, &err) != 0) {
		log_debug("%s; storing the message directly", err.msg);
		return false;
	}
	fd = handoff_connect(path, send_ms < 2000 ? 1 :
	    (unsigned)(send_ms / 1000));
	if (fd < 0 || fcntl(fd, F_SETFL, O_NONBLOCK) != 0) {
		saved = errno;
		if (fd >= 0)
			(void)close(fd);
		if (saved == EAGAIN || saved == EWOULDBLOCK)
			log_warning("server on %s: not accepting; storing the "
			    "message directly", path);
		else
			log_debug("no server on %s (%s); storing the message "
			    "directly", path, strerror(saved));
		return false;
	}
	log_debug("handing the message to the server on %s", path);
	hlen = handoff_format_request(header, sizeof(header), len, truncated,
	    log_get_queue_id());
	r = hlen == 0 ? -1 : handoff_request(fd, header, hlen, *input,
	    handoff_deadline(&t0, send_ms));
	if (r == 1) {
		/* Not all read: the server cannot have stored it. */
		(void)close(fd);
		log_warning("server on %s: message not read in %ld s; "
		    "storing it directly", path, send_ms / 1000);
		return false;
	}
	if (r != 0) {
		handoff_send_failed(fd, path, handoff_deadline(&t0, send_ms),
		    &err);
		goto lost;
	}
	/* The server has it all and may be storing it: wait for its word
	 * as long as the timeout setting allows, and never store it here. */
	if (handoff_read_reply(fd, line, sizeof(line), handoff_deadline(&t0,
	    timeout > 1 ? (long)(timeout - 1) * 1000 : 500)) != 0) {
		ti_err_set(&err, TI_KIND_TEMP, "server on %s: no answer",
		    path);
		goto lost;
	}
	if (handoff_parse_reply(line, &reply, &err) != 0) {
		ti_err_set(&err, TI_KIND_TEMP, "server on %s: not an answer",
		    path);
		goto lost;
	}
	(void)close(fd);
	buf_free(input);
	(void)run_handed_off(run, &reply, run_ms_since(&t0));
	return true;
lost:
	(void)close(fd);
	buf_free(input);
	run_fail_message(run, &err);
	return true;
}
