/* SPDX-License-Identifier: Apache-2.0 */
/* History read back from the database for lorawatch history and events: time-range and step
 * parsing (pure), node selection by name, place or kind, and the queries, written as a table,
 * CSV or JSON. Read-only: every function takes a connection from lw_store_open_readonly. */
#ifndef LW_HISTORY_H
#define LW_HISTORY_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "lw_model.h"

/* ---- parsing (pure, outside input) --------------------------------------------------------- */

/* A point in time: "now"; "-7d", "-12h", "-30m" (before now); "@UNIXSECONDS"; an ISO 8601 time
 * with a zone ("2026-07-15T02:00:00+08:00", "...Z"); or local time "YYYY-MM-DD",
 * "YYYY-MM-DD HH:MM" or "YYYY-MM-DDTHH:MM[:SS]" (tz_off_ms: local offset from UTC). Unix ms in
 * *out. LW_ERR_INVAL when malformed, LW_ERR_RANGE for impossible dates (month 13, Feb 30). */
int lw_history_parse_time(const char *s, int64_t now_ms, int64_t tz_off_ms, int64_t *out);
/* Both ends of a range; to must be after from (LW_ERR_RANGE otherwise). A missing from is
 * 24 h before to; a missing to is now. */
int lw_history_parse_range(const char *from, const char *to, int64_t now_ms, int64_t tz_off_ms,
                           int64_t *from_ms, int64_t *to_ms);
/* Aggregation step: "raw" (0), "5min", "hour", "day" (also "5m", "1h", "1d"). */
int lw_history_parse_every(const char *s, int64_t *step_ms);

/* ---- nodes --------------------------------------------------------------------------------- */

struct lw_hist_node {
    uint16_t address;
    char name[LW_NAME_MAX];
    char kind[16];
    char building[LW_NAME_MAX], floor[LW_NAME_MAX], unit[LW_NAME_MAX], grid[LW_NAME_MAX];
    char place[LW_TEXT_MAX];
    char tags[LW_TEXT_MAX];
};

enum lw_hist_by { LW_HIST_ALL, LW_HIST_NODE, LW_HIST_PLACE, LW_HIST_KIND };

/* Does node n match? NODE: name or address (decimal or 0x hex); PLACE: building, grid sector,
 * unit, one of its tags, or part of its place text; KIND: its kind. */
bool lw_history_node_matches(const struct lw_hist_node *n, enum lw_hist_by by, const char *what);
/* Nodes of the nodes table that match, in address order (*out freed by the caller). 0 or more
 * nodes: LW_OK; LW_ERR_DB with the reason in err. */
int lw_history_nodes(sqlite3 *db, enum lw_hist_by by, const char *what, struct lw_hist_node **out,
                     size_t *n, char *err, size_t errcap);

/* ---- queries ------------------------------------------------------------------------------- */

enum lw_hist_fmt { LW_FMT_TABLE, LW_FMT_CSV, LW_FMT_JSON };
/* "table", "csv" or "json"; -1 otherwise. */
int lw_history_fmt(const char *name);

/* Readings of the nodes in [from, to): raw (step 0), or per step with count, min, mean, max of
 * each node's main metric, time at or above each level (s) and lowest battery. 5 min steps come
 * from the raw readings, hours and days from the rollups (so they outlive the retention).
 * *rows receives the count. LW_OK or LW_ERR_DB (message in err). */
int lw_history_readings(sqlite3 *db, const struct lw_hist_node *nodes, size_t n, int64_t from,
                        int64_t to, int64_t step_ms, enum lw_hist_fmt fmt, FILE *out, size_t *rows,
                        char *err, size_t errcap);
/* The alert and maintenance journals as one timeline in [from, to), for the nodes given (all
 * when n is 0): time, event, alert, level, hazard, node, place, actor, tier, via, seconds since
 * the alert was raised, detail. */
int lw_history_events(sqlite3 *db, const struct lw_hist_node *nodes, size_t n, int64_t from,
                      int64_t to, enum lw_hist_fmt fmt, FILE *out, size_t *rows, char *err,
                      size_t errcap);

/* The same timeline as a table for people (lw_events.c): local date and time, alert (#id),
 * event, level and hazard, node, the place as it was then (an alert's: as its raise message
 * published it; else from the maintenance journal's place records up to then), who (actor, tier,
 * channel) and the detail cut to 60 characters. The broker's 'published' rows of one alert in a
 * row fold into one unless verbose. *rows receives the rows printed. */
int lw_history_events_table(sqlite3 *db, const struct lw_hist_node *nodes, size_t n, int64_t from,
                            int64_t to, bool verbose, FILE *out, size_t *rows, char *err,
                            size_t errcap);

/* Write every row of a prepared statement: a table with aligned columns, RFC 4180 CSV with a
 * header line, or a JSON array of objects (column names as keys). *rows receives the count. */
int lw_history_write(sqlite3_stmt *q, enum lw_hist_fmt fmt, FILE *out, size_t *rows);

#endif
