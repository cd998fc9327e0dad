/*
 * handoff.h - pipe mode hands its message to a resident server (--serve)
 * over a Unix socket, and the server replies what became of it: the
 * server keeps its database connection warm, so a message costs one
 * process start and no connection set-up.
 *
 * The wire format, one exchange per connection:
 *   client: "TLSRPT-INGEST/1 message LENGTH FLAGS QUEUE-ID\n" and LENGTH
 *           bytes of message.  FLAGS is "t" when the client kept only the
 *           first LENGTH bytes of a longer message, "-" otherwise;
 *           QUEUE-ID is the mail system's ("-": none).
 *   server: "WORD\tPOLICIES\tORGANIZATION\tREPORT-ID\tREASON\n", WORD one
 *           of stored, duplicate, rejected, retry; the three strings are
 *           sanitized for a log line, so they hold no tab or newline.
 * Then the server closes the connection.
 */
#ifndef TI_HANDOFF_H
#define TI_HANDOFF_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/un.h>

#include "buf.h"
#include "run.h"
#include "status.h"

/* A request's header line, newline included, and a queue id's length. */
#define HANDOFF_HEADER_BYTES 128
#define HANDOFF_QUEUE_ID_BYTES 64
/* A reply line, newline included. */
#define HANDOFF_REPLY_BYTES (3 * LOG_SANITIZED_BYTES + 64)
/*
 * How long a request may take from the connection to its last byte read
 * by the server: a few seconds, plus its length at a low minimum rate
 * (10 MiB: 45 s); never longer than the timeout setting.  The server
 * drops a client that takes longer, and the client stores its message
 * itself when the server takes longer.
 */
#define HANDOFF_SEND_SECONDS 5
#define HANDOFF_SEND_BYTES_PER_SECOND (256 * 1024)

/* A request's header, as read. */
struct handoff_request {
	size_t len;
	bool truncated;
	char queue_id[HANDOFF_QUEUE_ID_BYTES + 1];	/* "" for none */
};

/*
 * The header line for a message of len bytes into out (size bytes);
 * queue_id may be NULL, and is sent only when it is a plain token.
 * Returns the line's length.
 */
size_t handoff_format_request(char *out, size_t size, size_t len,
    bool truncated, const char *queue_id);

/* Parse a header line (without its newline).  DATA when it is not one. */
int handoff_parse_request(const char *line, struct handoff_request *req,
    struct ti_err *err) TI_MUST_CHECK;

/*
 * The server's reply line for what became of a message into out (size at
 * least HANDOFF_REPLY_BYTES); an outcome the protocol has no word for
 * goes as "retry".  Returns its length.
 */
size_t handoff_format_reply(char *out, size_t size,
    const struct run_outcome *o);

/* Parse a reply line (without its newline).  DATA when it is not one. */
int handoff_parse_reply(const char *line, struct run_outcome *o,
    struct ti_err *err) TI_MUST_CHECK;

/* The time a request of len bytes may take, in milliseconds (see
 * HANDOFF_SEND_SECONDS); timeout_seconds: the timeout setting. */
long handoff_send_ms(size_t len, unsigned timeout_seconds);

/* Is path fit to name a Unix socket?  CONFIG when it is too long. */
int handoff_check_path(const char *path, struct ti_err *err) TI_MUST_CHECK;

/* The address of the socket at path (a checked path). */
void handoff_address(struct sockaddr_un *sun, const char *path);

/* Connect to the socket at path (a checked path), waiting at most
 * seconds while its listen queue is full: the descriptor, or -1 when no
 * server listens there (errno says why; EAGAIN: the queue stayed full). */
int handoff_connect(const char *path, unsigned seconds);

/* Write all of p (n bytes) to fd: 0, or -1 with errno. */
int handoff_write_all(int fd, const void *p, size_t n) TI_MUST_CHECK;

/*
 * Pipe mode: hand the message in *input to the server listening on
 * path, then log and count its reply through run_handed_off().  Returns
 * true when the message is dealt with: replied to, or lost once the
 * server had read all of it (then the run exits 75: the server may or
 * may not have stored it, and a second delivery is found as a
 * duplicate).  Returns false, leaving *input alone, when no server
 * listens there, or when the server has not read the whole message
 * within handoff_send_ms(): then the caller stores the message itself
 * (should the server read its last bytes just then, both store it, and
 * the second store is a duplicate).
 */
bool handoff_message(struct run *run, const char *path, struct buf **input,
    bool truncated);

#endif
