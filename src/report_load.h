/*
 * report_load.h - stage 4, the text: JSON text to a jansson tree.
 */
#ifndef TI_REPORT_LOAD_H
#define TI_REPORT_LOAD_H

#include <jansson.h>

#include "buf.h"
#include "status.h"
#include "ti_limits.h"

/*
 * The tree of the text json, or NULL with err: DATA for a text that is
 * not JSON or has a shape no report within lim has (the message names
 * the line and column), TEMP when memory runs out.  Until
 * report_unload(), jansson takes its memory from an arena: call
 * report_unload() before any other use of jansson.
 */
json_t *report_load(const struct ti_bytes *json, const struct ti_limits *lim,
    struct ti_err *err);

/* Release the tree (NULL is fine) and give jansson malloc back. */
void report_unload(json_t *root);

#endif
