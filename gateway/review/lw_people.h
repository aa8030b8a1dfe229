/* SPDX-License-Identifier: Apache-2.0 */
/* People in the alert journal, named as the roster journal had them when they were told or
 * acted: for the CLI's alert list and anything else that shows who was paged. Read-only. */
#ifndef LW_PEOPLE_H
#define LW_PEOPLE_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

struct lw_told {
    char id[48];    /* roster id, as journalled */
    char name[160]; /* name when told (the id when the roster journal does not know it) */
    unsigned tier;  /* the tier they were told at (1 grid worker, 2 duty room, 3 street office) */
    int64_t ts_ms;  /* when first told */
};

/* Everyone told about alert so far (the journal's notified and escalated rows), each once, in
 * the order told. Fills out (up to cap) and returns how many there are, or a negative lw_err. */
int lw_people_told(sqlite3 *db, int64_t alert, struct lw_told *out, size_t cap);

/* A journal row's actor as people read it at t_ms: each id of the comma-separated list actors
 * named as the roster journal had them then (ids it does not know, "gateway" or "uid:N", stay
 * as they are), joined by ", ". Written into out (cut to cap, always terminated) and returned. */
const char *lw_people_names(sqlite3 *db, const char *actors, int64_t t_ms, char *out, size_t cap);

/* "grid worker", "duty room", "street office"; "tier N" beyond; "" for 0. */
const char *lw_people_tier_name(unsigned tier);

#endif
