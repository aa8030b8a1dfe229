/* SPDX-License-Identifier: Apache-2.0 */
/* The flood-season review: per-site water curves with the rule levels, flood events, response
 * times per tier and per worker, node availability and battery, false or causeless alarms; as one
 * self-contained HTML file (inline SVG, print CSS, Chinese and English labels) or the same tables
 * as CSV or JSON. Reads a connection from lw_store_open_readonly; writes nothing else. */
#ifndef LW_REPORT_H
#define LW_REPORT_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum lw_report_fmt { LW_REPORT_HTML, LW_REPORT_CSV, LW_REPORT_JSON };

struct lw_report_opts {
    int64_t from_ms, to_ms; /* [from, to) */
    const char *place;      /* only nodes matching this place (see lw_history_node_matches) */
    const char *title;      /* heading; NULL: "lorawatch" */
};

/* A flood event: a site's span with water at or above its lowest level (hours apart by at most
 * LW_REPORT_EVENT_GAP_H are one event). Exposed for tests. */
#define LW_REPORT_EVENT_GAP_H 2
/* An alert cleared within this time of being raised counts as causeless. */
#define LW_REPORT_SHORT_ALERT_MS (10 * 60 * 1000LL)

/* Write the report. LW_OK; LW_ERR_NOTFOUND when --place matches no node; LW_ERR_DB (reason in
 * err). */
int lw_report_write(sqlite3 *db, const struct lw_report_opts *o, enum lw_report_fmt fmt, FILE *out,
                    char *err, size_t errcap);

#endif
