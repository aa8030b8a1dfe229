/* SPDX-License-Identifier: Apache-2.0 */
/* For modules that keep their own tables in the store's database (node registry, ...): the
 * connection, the shared open transaction, and statement execution with the store's error
 * accounting. Not for the rest of the daemon. */
#ifndef LW_STORE_INT_H
#define LW_STORE_INT_H

#include <sqlite3.h>

#include "lw_store.h"

sqlite3 *lw_store_handle(struct lw_store *s);
/* Open the batch transaction if none is open (rows then commit with lw_store_commit). */
int lw_store_begin(struct lw_store *s);
/* Step q once, reset it and clear its bindings; LW_OK for DONE/ROW, LW_ERR_DB (logged). */
int lw_store_step(struct lw_store *s, sqlite3_stmt *q);
/* SQLite's primary result code of the latest failed write (SQLITE_FULL, SQLITE_CONSTRAINT ...). */
int lw_store_last_error(const struct lw_store *s);
/* Roll the open transaction back, with the readings in it (counted lost). */
void lw_store_rollback(struct lw_store *s);

/* ---- shared by the files of gateway/store only ------------------------------------------- */

enum lw_store_stmt {
    ST_BEGIN,
    ST_COMMIT,
    ST_ROLLBACK,
    ST_READING,
    ST_ALERT_INSERT,
    ST_ALERT_STATE,
    ST_JOURNAL,
    ST_OUTBOX_ADD,
    ST_SENT_ADD,
    ST_SENT_SUPERSEDED,
    ST_OUTBOX_DONE,
    ST_COUNT
};

/* The packed columns of a readings row (schema v6). */
#define PACKED_TQ_SHIFT 16
#define PACKED_TQ_MASK  (3LL << PACKED_TQ_SHIFT)
#define PACKED_FLAGS    (1LL << 18)
#define PACKED_SMOKE    (1LL << 27)
#define SENSORS_GAS_MAX 2047

struct lw_store {
    sqlite3 *db;
    sqlite3_stmt *st[ST_COUNT];
    bool in_txn;
    size_t pending;
    uint32_t batch_rows;
    struct lw_store_stats stats;
    int wal_pages; /* WAL size after the last commit (sqlite3_wal_hook) */
    bool urgent;   /* the open transaction carries an alert: commit it and nothing more */
    struct lw_rollup *rollup;
    bool rollups_off;       /* lw_store_set_rollups(false): for measuring their cost only */
    int64_t retention_ms;   /* raw readings older than this are deleted; 0: kept */
    int64_t retention_node; /* the node retention works on next (-1: start over) */
    enum lw_store_trouble trouble;
    int pinned_runs;          /* checkpoints in a row that could not reset the WAL */
    int ckpt_pages;           /* checkpoint when the WAL holds this many pages */
    int64_t wal_pinned_bytes; /* a WAL pinned beyond this is trouble */
    char ballast[4096];       /* path of the ballast file */
    uint64_t ballast_size;    /* what it should hold */
    bool ballast_present;
    bool ballast_released_now;
    int last_err;   /* SQLite result code of the latest failed write */
    bool txn_acks;  /* the open (or last, if not committed) transaction moved outbox rows */
    bool acks_lost; /* such a transaction, or an acknowledgement's write, was lost */
};

/* Run sql; on failure the reason goes to err and a transaction SQLite rolled back is counted. */
int lw_store_exec(struct lw_store *s, const char *sql, char *err, size_t errcap);
int lw_store_pragma_int(struct lw_store *s, const char *sql, int *out);
/* Commit the open transaction; all: with every node's open rollup hour (at close). */
int lw_store_commit_txn(struct lw_store *s, bool all);
void lw_store_settle_acks(struct lw_store *s);
int64_t lw_store_mono_ms(void);
/* lw_store_schema.c */
int lw_store_migrate(struct lw_store *s, const char *path, char *err, size_t errcap);
int lw_store_check_pages(struct lw_store *s, const char *path, char *err, size_t errcap);
/* lw_store_trouble.c */
void lw_store_note_failure(struct lw_store *s, int rc);
bool lw_store_shedding(const struct lw_store *s);
void lw_store_size_limits(struct lw_store *s, const char *path);
int lw_store_ballast_make(struct lw_store *s);
void lw_store_checkpoint(struct lw_store *s);
/* lw_store_clock.c: lw_clock_offset() in SQL */
void lw_store_sql_clock_offset(sqlite3_context *ctx, int argc, sqlite3_value **argv);

/* The reading of a row whose columns from first on are water_mm, smoke, obscuration,
 * gas_lel_x10, co_ppm, temp_x10, battery_mv, flags (NULL: not present). lw_store_readings.c */
void lw_store_column_reading(sqlite3_stmt *q, int first, struct lw_reading *r);

#endif
