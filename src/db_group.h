/*
 * db_group.h - a group of reports as the parameters of one call of
 * tlsrpt.store_reports(); used by db_batch.c only.
 */
#ifndef TI_DB_GROUP_H
#define TI_DB_GROUP_H

#include <stddef.h>

#include "buf.h"
#include "db.h"
#include "report.h"
#include "status.h"

/* Reports in one group at most, and the function's parameters. */
#define DB_GROUP_REPORTS 64
#define DB_GROUP_PARAMS 44

struct db_group;

/* Returns owned and empty, or NULL with TEMP. */
struct db_group *db_group_new(struct ti_err *err);

/* NULL-safe; sets *gp to NULL. */
void db_group_free(struct db_group **gp);

/*
 * Add a report (json: its text, stored as jsonb) as the next ordinal,
 * with fewer than DB_GROUP_REPORTS in the group.  DATA: values no column
 * can take, or more than an array may hold ("report too large to
 * store: ..."); the group is then as it was.  TEMP: out of memory.
 */
int db_group_add(struct db_group *g, const struct report *r,
    const struct ti_bytes *json, const struct db_meta *meta,
    struct ti_err *err) TI_MUST_CHECK;

/* Reports in the group, and bytes of parameters they take. */
size_t db_group_count(const struct db_group *g);
size_t db_group_bytes(const struct db_group *g);

/*
 * The DB_GROUP_PARAMS parameters, binary, into the caller's arrays;
 * borrowed, valid until db_group_clear().  Add nothing after it.
 */
int db_group_params(struct db_group *g, const char **values, int *lengths,
    int *formats, struct ti_err *err) TI_MUST_CHECK;

/* Empty the group for the next reports. */
void db_group_clear(struct db_group *g);

#endif
