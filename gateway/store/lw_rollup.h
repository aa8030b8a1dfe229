/* SPDX-License-Identifier: Apache-2.0 */
/* Hourly and daily rollups of the readings (count, min, max, mean, time above each rule level),
 * accumulated in memory and written in the transaction of a batch of readings: a node's current
 * hour and day when it moves on to the next, or every LW_ROLLUP_FLUSH_MS; after a crash, what was
 * held in memory is recovered from the readings. */
#ifndef LW_ROLLUP_H
#define LW_ROLLUP_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lw_model.h"
#include "lw_reading.h"

#define LW_ROLLUP_HOUR_MS 3600000LL
#define LW_ROLLUP_DAY_MS  86400000LL
/* A reading stands for the time since its node's previous reading, but for at most this long: a
 * lost frame or two still counts as time at that level, a node silent for hours does not. */
#define LW_ROLLUP_GAP_MS (15 * 60 * 1000LL)
/* A node's current hour and day are kept in memory and written when the node moves on, or when
 * they have waited this long (monotonic time): readers see them at most this late. */
#define LW_ROLLUP_FLUSH_MS (60 * 1000LL)

/* ---- pure helpers ------------------------------------------------------------------------ */

/* The metric a node's rollups summarise: its kind's main quantity (water depth, smoke alarm,
 * gas, CO); a multi-sensor node takes the first one its reading carries (water, smoke, gas, CO,
 * temperature). */
enum lw_metric lw_rollup_metric(enum lw_node_kind kind, const struct lw_reading *r);
/* Start (Unix ms) of the hour, or of the local day with the zone offset tz_off_ms, holding t. */
int64_t lw_rollup_hour(int64_t t_ms);
int64_t lw_rollup_day(int64_t t_ms, int64_t tz_off_ms);

/* ---- accumulator bound to the daemon's connection ---------------------------------------- */

struct lw_rollup;

/* Prepare the statements on db (schema version 6 or later). tz_off_ms: offset of local time from
 * UTC, for the day boundaries. NULL when out of memory or the schema lacks the tables. Without a
 * level source (lw_rollup_set_levels) the time-above columns stay 0. */
struct lw_rollup *lw_rollup_new(sqlite3 *db, int64_t tz_off_ms);
void lw_rollup_free(struct lw_rollup *ru);
/* Replace the level source (copied, arg owned; the old arg is released). Node levels are worked
 * out again from the nodes table on their next reading. */
void lw_rollup_set_levels(struct lw_rollup *ru, const struct lw_level_source *src);
/* Account one reading just inserted in the open transaction (duplicates must not be passed).
 * May read the nodes table and the node's previous reading. LW_OK, LW_ERR_NOMEM, LW_ERR_DB. */
int lw_rollup_add(struct lw_rollup *ru, uint16_t node, int64_t t_ms, const struct lw_reading *r);
/* Call right after BEGIN, before anything is inserted: after start-up or a rolled back batch,
 * adds to the rollups the committed readings they are missing (those after the latest reading
 * counted in each node's latest row), so they describe exactly the committed readings again. */
int lw_rollup_begin(struct lw_rollup *ru);
/* Write, inside the caller's transaction just before COMMIT, what this batch owes the rollup
 * tables: readings of hours and days already written, the hours and days nodes have left, and
 * every open one when all is set or LW_ROLLUP_FLUSH_MS have passed since the last such sweep
 * (now_ms: monotonic). */
int lw_rollup_flush(struct lw_rollup *ru, int64_t now_ms, bool all);
/* The transaction was rolled back: forget the batch and everything held in memory; the next
 * lw_rollup_begin recovers from the committed readings. */
void lw_rollup_discard(struct lw_rollup *ru);

#endif
