/* SPDX-License-Identifier: Apache-2.0 */
/* Who was told about an alert, by name as it was. */
#include "lw_people.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "lw_error.h"
#include "lw_store.h"

const char *lw_people_tier_name(unsigned tier)
{
    static const char *const names[] = {"", "grid worker", "duty room", "street office"};
    static char other[24];
    if (tier < sizeof(names) / sizeof(names[0]))
        return names[tier];
    snprintf(other, sizeof(other), "tier %u", tier);
    return other;
}

int lw_people_told(sqlite3 *db, int64_t alert, struct lw_told *out, size_t cap)
{
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(db,
                           "SELECT ts_ms, actor, coalesce(tier, 0) FROM alert_journal WHERE alert "
                           "= ?1 AND event IN ('notified', 'escalated') AND coalesce(actor, '') != "
                           "'' ORDER BY ts_ms, id",
                           -1, &q, NULL) != SQLITE_OK)
        return LW_ERR_DB;
    sqlite3_bind_int64(q, 1, alert);
    size_t n = 0;
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        int64_t ts = sqlite3_column_int64(q, 0);
        const char *actors = (const char *)sqlite3_column_text(q, 1);
        unsigned tier = (unsigned)sqlite3_column_int(q, 2);
        /* The journal lists the people told at once, comma-separated. */
        for (const char *p = actors; p && *p;) {
            const char *comma = strchr(p, ',');
            size_t len = comma ? (size_t)(comma - p) : strlen(p);
            char id[48];
            snprintf(id, sizeof(id), "%.*s", (int)(len < sizeof(id) ? len : sizeof(id) - 1), p);
            p = comma ? comma + 1 : p + len;
            if (!id[0])
                continue;
            bool seen = false;
            for (size_t k = 0; k < n && k < cap && !seen; k++)
                seen = strcmp(out[k].id, id) == 0;
            if (seen)
                continue;
            if (n < cap) {
                struct lw_told *t = &out[n];
                snprintf(t->id, sizeof(t->id), "%s", id);
                lw_store_roster_name(db, id, ts, t->name, sizeof(t->name));
                t->tier = tier;
                t->ts_ms = ts;
            }
            n++;
        }
    }
    sqlite3_finalize(q);
    return rc == SQLITE_DONE ? (int)n : LW_ERR_DB;
}

const char *lw_people_names(sqlite3 *db, const char *actors, int64_t t_ms, char *out, size_t cap)
{
    size_t used = 0;
    if (cap)
        out[0] = 0;
    for (const char *p = actors; p && *p && used + 1 < cap;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        char id[48], name[160];
        snprintf(id, sizeof(id), "%.*s", (int)(len < sizeof(id) ? len : sizeof(id) - 1), p);
        p = comma ? comma + 1 : p + len;
        if (!id[0])
            continue;
        lw_store_roster_name(db, id, t_ms, name, sizeof(name));
        int w = snprintf(out + used, cap - used, "%s%s", used ? ", " : "", name);
        used += w > 0 ? (size_t)w : 0;
    }
    return out;
}
