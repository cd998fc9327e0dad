/*
 * ti_limits.h - every limit on untrusted input, with its unit in its name.
 * Defaults apply unless the configuration lowers them; the configuration
 * may never raise one past its hard maximum.  Each default and each hard
 * maximum is written here only: config.c's table of keys refers to them.
 */
#ifndef TI_TI_LIMITS_H
#define TI_TI_LIMITS_H

#include <stddef.h>

#define TI_MIB ((size_t)1024 * 1024)

/* The whole message as read from stdin, a file, a Maildir or an mbox. */
#define TI_DEFAULT_MESSAGE_BYTES (32 * TI_MIB)
#define TI_HARD_MESSAGE_BYTES (256 * TI_MIB)
/* MIME nesting (multipart and message/rfc822) and number of parts. */
#define TI_DEFAULT_MIME_DEPTH 8
#define TI_HARD_MIME_DEPTH 32
#define TI_DEFAULT_MIME_PARTS 64
#define TI_HARD_MIME_PARTS 1024
/* The report after decompression. */
#define TI_DEFAULT_INFLATED_BYTES (64 * TI_MIB)
#define TI_HARD_INFLATED_BYTES (1024 * TI_MIB)
/* JSON nesting depth and counts. */
#define TI_DEFAULT_JSON_DEPTH 32
#define TI_HARD_JSON_DEPTH 1024
#define TI_DEFAULT_POLICIES 10000
#define TI_HARD_POLICIES 1000000
#define TI_DEFAULT_FAILURE_DETAILS 100000
#define TI_HARD_FAILURE_DETAILS 10000000
/* Elements of one policy-string or mx-host array. */
#define TI_DEFAULT_POLICY_STRINGS 1000
#define TI_HARD_POLICY_STRINGS 100000
/* Any one string value, in bytes. */
#define TI_DEFAULT_STRING_BYTES 4096
#define TI_HARD_STRING_BYTES (1024 * 1024)
/*
 * organization-name and report-id, in bytes, whatever string_bytes says:
 * together they are the report's unique key, and an index entry in
 * PostgreSQL holds at most about 2,700 bytes.
 */
#define TI_KEY_BYTES 1024
/* A domain name (policy-domain), in bytes, per RFC 1035. */
#define TI_DOMAIN_BYTES 253
/* Seconds one message may take, reading included. */
#define TI_DEFAULT_TIMEOUT_SECONDS 300
#define TI_HARD_TIMEOUT_SECONDS 3600

struct ti_limits {
	size_t message_bytes;
	size_t mime_depth;
	size_t mime_parts;
	size_t inflated_bytes;
	size_t json_depth;
	size_t policies;
	size_t failure_details;
	size_t policy_strings;
	size_t string_bytes;
	unsigned timeout_seconds;
};

/* Fill lim with the defaults above (config.c, from its table). */
void ti_limits_default(struct ti_limits *lim);

#endif
