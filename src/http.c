/*
 * http.c - reports POSTed by HTTP (RFC 8460 section 3), through
 * libmicrohttpd.  The only file that includes microhttpd.h.
 *
 * MHD runs in its external epoll mode: no thread of its own.  Its one
 * epoll descriptor sits in the server's poll() set beside the Unix
 * socket's, and its callbacks run inside http_serve(), on the server's
 * one thread: a request read whole is stored there and then, on the
 * server's one database connection, before anything else is read.  So
 * a report by HTTP and a hand-off on the socket are stored one at a
 * time, as the socket's are among themselves, with no locking and no
 * queue between threads; and MHD never blocks on a client, so a slow
 * one delays nobody.
 *
 * Everything in a request is untrusted.  Bounds: MHD's per-connection
 * memory (the request line and headers), its idle timeout, its limits
 * on connections in all and per address; the body is kept up to the
 * message size limit (the rest is counted, not kept), and a request
 * whose body comes slower than HTTP_SEND_BYTES_PER_SECOND (after the
 * first http_timeout seconds; all of it within the timeout setting) is
 * dropped.
 * The body goes through the same stages as a mail's report part
 * (run_report_body): the answer is queued only after the commit.
 *
 * The listening socket is ours, and each daemon gets a duplicate of it:
 * with http_tls_certificate and http_tls_key, http_reload() starts a
 * daemon with the files read anew on the same socket and only then
 * stops the old one, so the port never closes and a certificate that
 * does not load leaves the old one serving.
 */
#include "autoconf.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "http.h"
#include "http_client.h"
#include "http_listen.h"
#include "log.h"

/* The request line and headers of one connection, at most. */
#define HTTP_MEMORY_BYTES ((size_t)32 * 1024)
/* What a client is told to wait before it tries again (a 503). */
#define HTTP_RETRY_SECONDS 60
/* Request headers kept with a rejected body, as text. */
#define HTTP_HEADERS_BYTES (6 * LOG_SANITIZED_BYTES)
/*
 * A body must come at least this fast once the first http_timeout
 * seconds are over: slower than a hand-off may be on the socket, since
 * senders come over the internet; never longer than the timeout setting.
 */
#define HTTP_SEND_BYTES_PER_SECOND (16 * 1024)

struct http {
	struct run *run;
	const struct config *cfg;
	struct MHD_Daemon *d;
	int lfd;		/* the listening socket; -1 once quiesced */
	bool tls;		/* HTTPS only, with the two files */
	struct http_proxies *proxies;
	struct http_cap *cap;
	char mhd_error[LOG_SANITIZED_BYTES];	/* libmicrohttpd's first
						 * complaint since cleared */
};

/* One request being read. */
struct http_req {
	struct timespec t0;
	struct buf *body;		/* the first message_bytes */
	size_t len;			/* body bytes received */
	bool expected_type;		/* application/tlsrpt+gzip or +json */
	struct http_addr client;
	char client_text[HTTP_ADDR_TEXT_BYTES];
	char label[HTTP_ADDR_TEXT_BYTES + 8];
	char headers[HTTP_HEADERS_BYTES];
};

/* MHD's own complaints: at debug level, sanitized. */
static void __attribute__((format(printf, 2, 0)))
http_mhd_log(void *cls, const char *fmt, va_list ap)
{
	char line[512];
	char safe[LOG_SANITIZED_BYTES];

	struct http *h = cls;

	(void)vsnprintf(line, sizeof(line), fmt, ap);
	line[strcspn(line, "\n")] = '\0';
	log_sanitize(line, safe, sizeof(safe));
	log_debug("http: %s", safe);
	/* The first complaint since it was cleared: the most specific. */
	if (h->mhd_error[0] == '\0')
		memcpy(h->mhd_error, safe, sizeof(h->mhd_error));
}

/* Answer code with text (one line) and up to two extra headers. */
static enum MHD_Result
http_answer(struct MHD_Connection *conn, unsigned code, const char *text,
    const char *name, const char *value)
{
	struct MHD_Response *resp = NULL;
	char body[LOG_SANITIZED_BYTES + 2];
	enum MHD_Result rc;
	int n;

	n = snprintf(body, sizeof(body), "%s\n", text);
	if (n < 0 || (size_t)n >= sizeof(body))
		n = 0;
	resp = MHD_create_response_from_buffer((size_t)n, body,
	    MHD_RESPMEM_MUST_COPY);
	if (resp == NULL)
		return MHD_NO;
	(void)MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
	    "text/plain; charset=utf-8");
	if (name != NULL)
		(void)MHD_add_response_header(resp, name, value);
	rc = MHD_queue_response(conn, code, resp);
	MHD_destroy_response(resp);
	return rc;
}

/* Is the Content-Type one RFC 8460 names (parameters aside)? */
static bool
http_type_expected(const char *type)
{
	static const char *const want[] = {
		"application/tlsrpt+gzip", "application/tlsrpt+json"
	};
	size_t i, len;

	if (type == NULL)
		return false;
	type += strspn(type, " \t");
	len = strcspn(type, "; \t");
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		if (len == strlen(want[i]) &&
		    strncasecmp(type, want[i], len) == 0)
			return true;
	}
	return false;
}

/* Append "Name: value\n" to out (size bytes) when value is set; value
 * is sanitized. */
static void
http_header_line(char *out, size_t size, const char *name,
    const char *value)
{
	char safe[LOG_SANITIZED_BYTES];
	size_t used = strlen(out);

	if (value == NULL || value[0] == '\0')
		return;
	(void)snprintf(out + used, size - used, "%s: %s\n", name,
	    log_sanitize(value, safe, sizeof(safe)));
}

/* A new request, its headers read: who sent it, and the header text
 * kept with its body should it be rejected. */
static struct http_req *
http_req_new(struct http *h, struct MHD_Connection *conn, const char *url,
    const char *version)
{
	const union MHD_ConnectionInfo *ci = NULL;
	struct http_req *r = NULL;
	const char *type = NULL;
	char proxy[HTTP_ADDR_TEXT_BYTES];
	char line[LOG_SANITIZED_BYTES];
	struct ti_err err;

	r = calloc(1, sizeof(*r));
	if (r == NULL)
		return NULL;
	(void)clock_gettime(CLOCK_MONOTONIC, &r->t0);
	r->body = buf_new(h->cfg->lim.message_bytes, &err);
	if (r->body == NULL) {
		free(r);
		return NULL;
	}
	ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	http_client_address(h->proxies, ci != NULL ? ci->client_addr : NULL,
	    MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "X-Real-IP"),
	    MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
	    "X-Forwarded-For"), &r->client, r->client_text,
	    proxy);
	(void)snprintf(r->label, sizeof(r->label), "http %s", r->client_text);
	type = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_CONTENT_TYPE);
	r->expected_type = http_type_expected(type);
	(void)snprintf(r->headers, sizeof(r->headers), "POST %s %s\n",
	    log_sanitize(url, line, sizeof(line)), version);
	http_header_line(r->headers, sizeof(r->headers), "Client-Address",
	    r->client_text);
	http_header_line(r->headers, sizeof(r->headers), "Proxy-Address",
	    proxy);
	http_header_line(r->headers, sizeof(r->headers), "User-Agent",
	    MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_USER_AGENT));
	http_header_line(r->headers, sizeof(r->headers), "Content-Type",
	    type);
	return r;
}

static void
http_req_free(struct http_req **rp)
{
	if (rp == NULL || *rp == NULL)
		return;
	buf_free(&(*rp)->body);
	free(*rp);
	*rp = NULL;
}

/* Body bytes: kept up to the size limit, the rest counted.  -1 when
 * they come too slowly (HTTP_SEND_BYTES_PER_SECOND). */
static int
http_req_data(struct http *h, struct http_req *r, const char *p, size_t n)
{
	size_t room = buf_max(r->body) - buf_len(r->body);
	long allowed;
	struct ti_err err;

	r->len += n;
	if (room > 0 && buf_append(r->body, p, n < room ? n : room,
	    &err) != 0)
		return -1;
	allowed = (long)h->cfg->http_timeout_seconds * 1000 +
	    (long)(r->len / (HTTP_SEND_BYTES_PER_SECOND / 1000));
	if (allowed > (long)h->cfg->lim.timeout_seconds * 1000)
		allowed = (long)h->cfg->lim.timeout_seconds * 1000;
	return run_ms_since(&r->t0) > allowed ? -1 : 0;
}

/*
 * The request is whole: store it, then answer.  A body that is not a
 * usable report is kept aside (400, or 413 when cut at the size limit)
 * unless its client has had its hour's share kept (429), or it neither
 * says nor is a report (415): then nothing is written.
 */
static enum MHD_Result
http_req_finish(struct http *h, struct MHD_Connection *conn,
    struct http_req *r)
{
	struct job_origin origin;
	struct run_outcome o;
	char retry[32];
	time_t now = time(NULL);
	long wait_s = 0;
	bool truncated = r->len > buf_len(r->body);
	bool cap_ok = http_cap_allows(h->cap, &r->client, now, &wait_s);

	origin.headers = r->headers;
	origin.keep_aside = (truncated || r->expected_type) && cap_ok;
	log_set_source(r->label);
	run_db_check_idle(h->run);
	(void)run_report_body(h->run, &r->body, truncated, &origin, &o);
	run_exit_reset(h->run);
	log_set_source(NULL);
	switch (o.outcome) {
	case JOB_STORED:
		return http_answer(conn, MHD_HTTP_CREATED, "stored", NULL,
		    NULL);
	case JOB_DUPLICATE:
	case JOB_VALID:		/* a dry run: --serve refuses it */
		return http_answer(conn, MHD_HTTP_OK, "duplicate: already "
		    "stored", NULL, NULL);
	case JOB_REJECTED:
		http_cap_count(h->cap, &r->client, now);
		return http_answer(conn, truncated ? MHD_HTTP_CONTENT_TOO_LARGE :
		    MHD_HTTP_BAD_REQUEST, o.why, NULL, NULL);
	case JOB_INVALID:
		if (!truncated && !r->expected_type)
			return http_answer(conn,
			    MHD_HTTP_UNSUPPORTED_MEDIA_TYPE, "not a TLS report "
			    "(Content-Type: application/tlsrpt+gzip or "
			    "application/tlsrpt+json)", NULL, NULL);
		log_warning("%s: not kept: over %u bodies kept aside in an "
		    "hour", r->label, h->cfg->http_rejects_per_hour);
		(void)snprintf(retry, sizeof(retry), "%ld",
		    wait_s > 0 ? wait_s : 1);
		return http_answer(conn, MHD_HTTP_TOO_MANY_REQUESTS,
		    "too many rejected reports from this address; not kept",
		    MHD_HTTP_HEADER_RETRY_AFTER, retry);
	case JOB_NONE:
		break;
	}
	(void)snprintf(retry, sizeof(retry), "%d", HTTP_RETRY_SECONDS);
	return http_answer(conn, MHD_HTTP_SERVICE_UNAVAILABLE,
	    "temporary failure; try again later",
	    MHD_HTTP_HEADER_RETRY_AFTER, retry);
}

/* MHD's access handler: called once the headers are in, once for each
 * piece of the body, and once at its end. */
static enum MHD_Result
http_handler(void *cls, struct MHD_Connection *conn, const char *url,
    const char *method, const char *version, const char *data,
    size_t *data_size, void **req_cls)
{
	struct http *h = cls;
	struct http_req *r = *req_cls;

	if (r == NULL) {
		if (h->cfg->http_path != NULL &&
		    strcmp(url, h->cfg->http_path) != 0)
			return http_answer(conn, MHD_HTTP_NOT_FOUND,
			    "not found", NULL, NULL);
		if (strcmp(method, MHD_HTTP_METHOD_POST) != 0)
			return http_answer(conn, MHD_HTTP_METHOD_NOT_ALLOWED,
			    "only POST", MHD_HTTP_HEADER_ALLOW,
			    MHD_HTTP_METHOD_POST);
		r = http_req_new(h, conn, url, version);
		if (r == NULL)
			return http_answer(conn,
			    MHD_HTTP_SERVICE_UNAVAILABLE, "out of memory",
			    MHD_HTTP_HEADER_RETRY_AFTER, "60");
		*req_cls = r;
		return MHD_YES;
	}
	if (*data_size > 0) {
		if (http_req_data(h, r, data, *data_size) != 0) {
			log_warning("%s: request dropped: too slow",
			    r->label);
			return MHD_NO;
		}
		*data_size = 0;
		return MHD_YES;
	}
	return http_req_finish(h, conn, r);
}

static void
http_completed(void *cls, struct MHD_Connection *conn, void **req_cls,
    enum MHD_RequestTerminationCode toe)
{
	struct http_req *r = *req_cls;

	(void)cls;
	(void)conn;
	(void)toe;
	http_req_free(&r);
	*req_cls = NULL;
}

/*
 * Start a daemon on a duplicate of the listening socket (MHD closes it
 * when it stops, or fails to start), with the certificate and key when
 * TLS is set: both read now, and wiped once MHD has them (GnuTLS keeps
 * its own copy).  NULL with the reason in err.
 */
static struct MHD_Daemon *
http_start(struct http *h, struct ti_err *err)
{
	const struct config *cfg = h->cfg;
	unsigned flags = MHD_USE_EPOLL | MHD_USE_ERROR_LOG;
	struct MHD_OptionItem tls[3];
	struct MHD_Daemon *d = NULL;
	char *cert = NULL, *key = NULL;
	int fd = -1;

	memset(tls, 0, sizeof(tls));
	tls[0].option = MHD_OPTION_END;
	if (h->tls) {
		if ((cert = http_listen_read_pem("http_tls_certificate",
		    cfg->http_tls_certificate, err)) == NULL ||
		    (key = http_listen_read_pem("http_tls_key", cfg->http_tls_key,
		    err)) == NULL)
			goto out;
		flags |= MHD_USE_TLS;
		tls[0].option = MHD_OPTION_HTTPS_MEM_CERT;
		tls[0].ptr_value = cert;
		tls[1].option = MHD_OPTION_HTTPS_MEM_KEY;
		tls[1].ptr_value = key;
		tls[2].option = MHD_OPTION_END;
	}
	fd = fcntl(h->lfd, F_DUPFD_CLOEXEC, 0);
	if (fd < 0) {
		ti_err_set(err, TI_KIND_TEMP, "http: %s", strerror(errno));
		goto out;
	}
	h->mhd_error[0] = '\0';
	d = MHD_start_daemon(flags, 0, NULL, NULL, http_handler, h,
	    MHD_OPTION_EXTERNAL_LOGGER, http_mhd_log, h,
	    MHD_OPTION_LISTEN_SOCKET, (MHD_socket)fd,
	    MHD_OPTION_CONNECTION_LIMIT, cfg->http_connections,
	    MHD_OPTION_PER_IP_CONNECTION_LIMIT, cfg->http_client_connections,
	    MHD_OPTION_CONNECTION_TIMEOUT, cfg->http_timeout_seconds,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, HTTP_MEMORY_BYTES,
	    MHD_OPTION_NOTIFY_COMPLETED, http_completed, h,
	    MHD_OPTION_ARRAY, tls,
	    MHD_OPTION_END);
	if (d == NULL)
		ti_err_set(err, TI_KIND_CONFIG, "http: %s: %s", h->tls ?
		    "the TLS certificate or key refused" : "cannot serve",
		    h->mhd_error[0] != '\0' ? h->mhd_error :
		    "libmicrohttpd refused");
out:
	http_listen_free_pem(&cert);
	http_listen_free_pem(&key);
	return d;
}

/* TLS settings: both or neither, and a libmicrohttpd that has TLS. */
static int
http_tls_check(struct http *h, struct ti_err *err)
{
	const struct config *cfg = h->cfg;

	if ((cfg->http_tls_certificate == NULL) !=
	    (cfg->http_tls_key == NULL))
		return ti_err_set(err, TI_KIND_CONFIG, "%s is set without %s",
		    cfg->http_tls_key == NULL ? "http_tls_certificate" :
		    "http_tls_key", cfg->http_tls_key == NULL ?
		    "http_tls_key" : "http_tls_certificate");
	h->tls = cfg->http_tls_certificate != NULL;
	if (h->tls && MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES)
		return ti_err_set(err, TI_KIND_CONFIG, "http_tls_certificate: "
		    "this libmicrohttpd was built without TLS");
	return 0;
}

struct http *
http_new(struct run *run, struct ti_err *err)
{
	struct sockaddr_storage sa, bound;
	socklen_t len = sizeof(bound);
	struct http *h = NULL;
	char host[HTTP_HOST_BYTES] = "";
	unsigned port = 0;
	bool have_addr = false;

	h = calloc(1, sizeof(*h));
	if (h == NULL) {
		ti_err_set(err, TI_KIND_TEMP, "out of memory");
		return NULL;
	}
	h->lfd = -1;
	h->run = run;
	h->cfg = run_config(run);
	if (http_listen_parse(h->cfg->http_listen, &sa, &have_addr, &port,
	    host, err) != 0 || http_tls_check(h, err) != 0 ||
	    (h->proxies = http_proxies_new(h->cfg->http_proxies, err)) ==
	    NULL ||
	    (h->cap = http_cap_new(h->cfg->http_rejects_per_hour, err)) ==
	    NULL)
		goto fail;
	h->lfd = http_listen_open(&sa, have_addr, port);
	if (h->lfd < 0) {
		ti_err_set(err, TI_KIND_CONFIG, "http: cannot listen on "
		    "%.128s: %s", h->cfg->http_listen, strerror(errno));
		goto fail;
	}
	h->d = http_start(h, err);
	if (h->d == NULL)
		goto fail;
	memset(&bound, 0, sizeof(bound));
	if (getsockname(h->lfd, (struct sockaddr *)&bound, &len) == 0)
		port = ntohs(bound.ss_family == AF_INET6 ?
		    ((struct sockaddr_in6 *)&bound)->sin6_port :
		    ((struct sockaddr_in *)&bound)->sin_port);
	log_info("listening for %s on %s port %u", h->tls ? "HTTPS" : "HTTP",
	    have_addr ? host : "every address", port);
	return h;
fail:
	http_free(&h);
	return NULL;
}

/*
 * The certificate and key read anew: a new daemon on the same socket,
 * then the old one quiesced and stopped.  Its open connections are
 * closed rather than drained (a second daemon to serve meanwhile is not
 * worth it): a sender whose request is cut retries, and a request read
 * whole has already been answered, since requests are stored between
 * rounds of the loop, never during a reload.
 */
void
http_reload(struct http *h)
{
	struct MHD_Daemon *d = NULL;
	struct ti_err err;
	MHD_socket fd;

	if (!h->tls || h->lfd < 0) {
		log_info("SIGHUP: no TLS certificate to reload");
		return;
	}
	ti_err_clear(&err);
	d = http_start(h, &err);
	if (d == NULL) {
		log_err("SIGHUP: %s; still serving the old certificate",
		    err.msg);
		return;
	}
	fd = MHD_quiesce_daemon(h->d);
	if (fd != MHD_INVALID_SOCKET)
		(void)close(fd);
	MHD_stop_daemon(h->d);
	h->d = d;
	log_info("SIGHUP: TLS certificate reloaded from %s",
	    h->cfg->http_tls_certificate);
}

void
http_free(struct http **hp)
{
	struct http *h = NULL;

	if (hp == NULL || *hp == NULL)
		return;
	h = *hp;
	if (h->d != NULL)
		MHD_stop_daemon(h->d);
	if (h->lfd >= 0)
		(void)close(h->lfd);
	http_cap_free(&h->cap);
	http_proxies_free(&h->proxies);
	free(h);
	*hp = NULL;
}

int
http_fd(const struct http *h)
{
	const union MHD_DaemonInfo *di = NULL;

	di = MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_EPOLL_FD);
	return di != NULL ? di->epoll_fd : -1;
}

long
http_wait_ms(struct http *h)
{
	MHD_UNSIGNED_LONG_LONG ms;

	if (MHD_get_timeout(h->d, &ms) != MHD_YES)
		return -1;
	return ms > 3600000 ? 3600000 : (long)ms;
}

/*
 * Twice: a run that closes connections at the connection limit lets MHD
 * listen again only at the start of its next run, and nothing would wake
 * the poll() loop for that one.
 */
void
http_serve(struct http *h)
{
	int i;

	for (i = 0; i < 2; i++) {
		if (MHD_run(h->d) != MHD_YES)
			log_debug("http: serving connections failed");
	}
}

void
http_quiesce(struct http *h)
{
	MHD_socket fd;

	fd = MHD_quiesce_daemon(h->d);
	if (fd != MHD_INVALID_SOCKET)
		(void)close(fd);
	if (h->lfd >= 0)
		(void)close(h->lfd);
	h->lfd = -1;
}

unsigned
http_connections(struct http *h)
{
	const union MHD_DaemonInfo *di = NULL;

	di = MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_CURRENT_CONNECTIONS);
	return di != NULL ? di->num_connections : 0;
}
