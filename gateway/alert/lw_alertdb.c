/* SPDX-License-Identifier: Apache-2.0 */
/* Alert lifecycle rows. Statements are prepared per call: these run per alert transition or
 * command, never per reading. */
#include "lw_alertdb.h"

#include <stdio.h>
#include <string.h>

#include "lw_error.h"
#include "lw_log.h"
#include "lw_model.h"
#include "lw_store_int.h"

static int prep(struct lw_store *s, const char *sql, sqlite3_stmt **q)
{
    if (sqlite3_prepare_v2(lw_store_handle(s), sql, -1, q, NULL) != SQLITE_OK) {
        lw_log_rl(LW_LOG_ERR, "database: %s", sqlite3_errmsg(lw_store_handle(s)));
        return LW_ERR_DB;
    }
    return LW_OK;
}

static void bind_text(sqlite3_stmt *q, int col, const char *t)
{
    if (t && t[0])
        sqlite3_bind_text(q, col, t, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(q, col);
}

/* Run a write statement in the open transaction. */
static int write(struct lw_store *s, sqlite3_stmt *q)
{
    int rc = lw_store_begin(s) == LW_OK ? lw_store_step(s, q) : LW_ERR_DB;
    sqlite3_finalize(q);
    return rc;
}

int lw_alertdb_journal(struct lw_store *s, int64_t alert, int64_t ts_ms, const char *event,
                       const char *actor, unsigned tier, const char *via, const char *detail,
                       const char *outcome)
{
    sqlite3_stmt *q;
    if (prep(s,
             "INSERT INTO alert_journal(alert, ts_ms, event, detail, actor, tier, via, outcome) "
             "VALUES(?,?,?,?,?,?,?,?)",
             &q) != LW_OK)
        return LW_ERR_DB;
    sqlite3_bind_int64(q, 1, alert);
    sqlite3_bind_int64(q, 2, ts_ms);
    sqlite3_bind_text(q, 3, event, -1, SQLITE_STATIC);
    bind_text(q, 4, detail);
    bind_text(q, 5, actor);
    if (tier)
        sqlite3_bind_int(q, 6, (int)tier);
    bind_text(q, 7, via);
    bind_text(q, 8, outcome);
    return write(s, q);
}

int lw_alertdb_update(struct lw_store *s, int64_t alert, unsigned tier, const char *acked_by,
                      int64_t acked_ms, const char *outcome)
{
    sqlite3_stmt *q;
    if (prep(s,
             acked_by ? "UPDATE alerts SET tier = ?2, acked_by = ?3, acked_ms = ?4, ack_outcome = "
                        "?5 WHERE id = ?1"
                      : "UPDATE alerts SET tier = ?2 WHERE id = ?1",
             &q) != LW_OK)
        return LW_ERR_DB;
    sqlite3_bind_int64(q, 1, alert);
    sqlite3_bind_int(q, 2, (int)tier);
    if (acked_by) {
        sqlite3_bind_text(q, 3, acked_by, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(q, 4, acked_ms);
        bind_text(q, 5, outcome);
    }
    return write(s, q);
}

int lw_alertdb_set_peak(struct lw_store *s, int64_t alert, double peak)
{
    sqlite3_stmt *q;
    if (prep(s, "UPDATE alerts SET peak = ?2 WHERE id = ?1", &q) != LW_OK)
        return LW_ERR_DB;
    sqlite3_bind_int64(q, 1, alert);
    sqlite3_bind_double(q, 2, peak);
    return write(s, q);
}

int lw_alertdb_state(struct lw_store *s, int64_t alert, char *state, size_t cap)
{
    sqlite3_stmt *q;
    if (prep(s, "SELECT state FROM alerts WHERE id = ?", &q) != LW_OK)
        return LW_ERR_DB;
    sqlite3_bind_int64(q, 1, alert);
    int rc = sqlite3_step(q) == SQLITE_ROW ? LW_OK : LW_ERR_UNKNOWN_NODE;
    if (rc == LW_OK)
        snprintf(state, cap, "%s", (const char *)sqlite3_column_text(q, 0));
    sqlite3_finalize(q);
    return rc;
}

static enum lw_level level_of(const char *name)
{
    for (int l = 0; name && l < LW_LEVEL_COUNT; l++)
        if (strcmp(name, lw_level_name((enum lw_level)l)) == 0)
            return (enum lw_level)l;
    return LW_LEVEL_BLUE;
}

int lw_alertdb_each_open(struct lw_store *s, void (*fn)(void *arg, const struct lw_alertdb_open *a),
                         void *arg)
{
    sqlite3_stmt *q, *rq;
    /* The journal index (alert, id) keeps the look-ups per alert short. */
    if (prep(s,
             "SELECT a.id, a.rule, a.node, a.raised_ms, a.tier, a.acked_ms IS NOT NULL, "
             "(SELECT max(ts_ms) FROM alert_journal j WHERE j.alert = a.id AND j.tier = a.tier "
             "AND j.event IN ('notified', 'escalated')), "
             "(SELECT max(ts_ms) FROM alert_journal j WHERE j.alert = a.id "
             "AND j.event IN ('notified', 'escalated', 'reminded')), "
             "a.level, a.value, a.incident, a.test, a.message, EXISTS (SELECT 1 FROM "
             "alert_journal j WHERE j.alert = a.id AND j.event = 'silenced' AND "
             "j.actor = 'gateway'), coalesce(a.pin_zero_mm, -1), coalesce(a.peak, a.value) "
             "FROM alerts a WHERE a.state NOT IN ('cleared', 'closed') ORDER BY a.id",
             &q) != LW_OK)
        return LW_ERR_DB;
    if (prep(s,
             "SELECT tier, count(*) FROM alert_journal WHERE alert = ? AND event = 'reminded' "
             "GROUP BY tier",
             &rq) != LW_OK) {
        sqlite3_finalize(q);
        return LW_ERR_DB;
    }
    while (sqlite3_step(q) == SQLITE_ROW) {
        struct lw_alertdb_open a = {
            .id = sqlite3_column_int64(q, 0),
            .rule = (const char *)sqlite3_column_text(q, 1),
            .node = (uint16_t)sqlite3_column_int(q, 2),
            .raised_ms = sqlite3_column_int64(q, 3),
            .tier = (unsigned)sqlite3_column_int(q, 4),
            .acked = sqlite3_column_int(q, 5) != 0,
            .told_ms = sqlite3_column_int64(q, 6), /* NULL reads as 0 */
            .reminded_ms = sqlite3_column_int64(q, 7),
            .level = level_of((const char *)sqlite3_column_text(q, 8)),
            .value = sqlite3_column_double(q, 9),
            .incident = sqlite3_column_int64(q, 10),
            .test = sqlite3_column_int(q, 11) != 0,
            .message = (const char *)sqlite3_column_text(q, 12),
            .withheld = sqlite3_column_int(q, 13) != 0,
            .pin_zero_mm = sqlite3_column_int64(q, 14),
            .peak = sqlite3_column_double(q, 15),
        };
        sqlite3_bind_int64(rq, 1, a.id);
        while (sqlite3_step(rq) == SQLITE_ROW) {
            int t = sqlite3_column_int(rq, 0);
            if (t >= 1 && t <= LW_TIERS)
                a.reminders[t] = (unsigned)sqlite3_column_int(rq, 1);
        }
        sqlite3_reset(rq);
        fn(arg, &a);
    }
    sqlite3_finalize(rq);
    sqlite3_finalize(q);
    return LW_OK;
}

cJSON *lw_alertdb_list(struct lw_store *s, bool all, int limit)
{
    sqlite3_stmt *q;
    char sql[640];
    snprintf(sql, sizeof(sql),
             "SELECT a.id, a.rule, a.hazard, a.level, a.state, a.raised_ms, a.cleared_ms, a.value, "
             "a.tier, a.acked_by, a.acked_ms, a.test, n.name, n.building, n.floor, n.unit, n.grid "
             "FROM alerts a LEFT JOIN nodes n ON n.address = a.node %s ORDER BY a.id DESC LIMIT %d",
             all ? "" : "WHERE a.state = 'raised'", limit);
    if (prep(s, sql, &q) != LW_OK)
        return NULL;
    cJSON *arr = cJSON_CreateArray();
    static const char *const names[] = {"id",        "rule",       "hazard", "level",    "state",
                                        "raised_ms", "cleared_ms", "value",  "tier",     "acked_by",
                                        "acked_ms",  "test",       "node",   "building", "floor",
                                        "unit",      "grid"};
    while (arr && sqlite3_step(q) == SQLITE_ROW) {
        cJSON *o = cJSON_CreateObject();
        for (int c = 0; c < 17; c++) {
            int t = sqlite3_column_type(q, c);
            if (t == SQLITE_NULL)
                continue;
            if (c == 11)
                cJSON_AddBoolToObject(o, names[c], sqlite3_column_int(q, c));
            else if (t == SQLITE_INTEGER || t == SQLITE_FLOAT)
                cJSON_AddNumberToObject(o, names[c], sqlite3_column_double(q, c));
            else
                cJSON_AddStringToObject(o, names[c], (const char *)sqlite3_column_text(q, c));
        }
        cJSON_AddItemToArray(arr, o);
    }
    sqlite3_finalize(q);
    return arr;
}

int lw_alertdb_silence_add(struct lw_store *st, struct lw_silence *s, int64_t created_ms)
{
    sqlite3_stmt *q;
    if (prep(st,
             "INSERT INTO silences(created_ms, actor, node, building, hazard, until_ms, "
             "reason, forced) VALUES(?,?,?,?,?,?,?,?) RETURNING id",
             &q) != LW_OK)
        return LW_ERR_DB;
    sqlite3_bind_int64(q, 1, created_ms);
    bind_text(q, 2, s->actor);
    if (s->node)
        sqlite3_bind_int(q, 3, s->node);
    bind_text(q, 4, s->building);
    if (s->hazard >= 0)
        sqlite3_bind_text(q, 5, lw_hazard_name((enum lw_hazard)s->hazard), -1, SQLITE_STATIC);
    sqlite3_bind_int64(q, 6, s->until_ms);
    bind_text(q, 7, s->reason);
    sqlite3_bind_int(q, 8, s->forced);
    int rc = LW_ERR_DB;
    if (lw_store_begin(st) == LW_OK && sqlite3_step(q) == SQLITE_ROW) {
        s->id = sqlite3_column_int64(q, 0);
        rc = LW_OK;
    }
    sqlite3_finalize(q);
    return rc;
}

int lw_alertdb_silence_end(struct lw_store *st, int64_t id, int64_t ts_ms)
{
    sqlite3_stmt *q;
    if (prep(st, "UPDATE silences SET lifted_ms = ?2 WHERE id = ?1 AND lifted_ms IS NULL", &q) !=
        LW_OK)
        return LW_ERR_DB;
    sqlite3_bind_int64(q, 1, id);
    sqlite3_bind_int64(q, 2, ts_ms);
    return write(st, q);
}

int lw_alertdb_each_silence(struct lw_store *st, int64_t wall_ms,
                            void (*fn)(void *arg, const struct lw_silence *s), void *arg)
{
    sqlite3_stmt *q;
    if (prep(st,
             "SELECT id, node, building, hazard, until_ms, forced, actor, reason FROM silences "
             "WHERE lifted_ms IS NULL AND until_ms > ? ORDER BY id",
             &q) != LW_OK)
        return LW_ERR_DB;
    sqlite3_bind_int64(q, 1, wall_ms);
    while (sqlite3_step(q) == SQLITE_ROW) {
        struct lw_silence s = {.id = sqlite3_column_int64(q, 0), .hazard = -1};
        s.node = (uint16_t)sqlite3_column_int(q, 1);
        const char *b = (const char *)sqlite3_column_text(q, 2);
        snprintf(s.building, sizeof(s.building), "%s", b ? b : "");
        const char *h = (const char *)sqlite3_column_text(q, 3);
        for (int i = 0; h && i < LW_HAZARD_COUNT; i++)
            if (strcmp(h, lw_hazard_name((enum lw_hazard)i)) == 0)
                s.hazard = i;
        s.until_ms = sqlite3_column_int64(q, 4);
        s.forced = sqlite3_column_int(q, 5) != 0;
        const char *a = (const char *)sqlite3_column_text(q, 6);
        snprintf(s.actor, sizeof(s.actor), "%s", a ? a : "");
        const char *r = (const char *)sqlite3_column_text(q, 7);
        snprintf(s.reason, sizeof(s.reason), "%s", r ? r : "");
        fn(arg, &s);
    }
    sqlite3_finalize(q);
    return LW_OK;
}

int lw_alertdb_incident_open(struct lw_store *s, int64_t id, enum lw_hazard hazard,
                             const char *building, enum lw_level level, int64_t ts_ms)
{
    sqlite3_stmt *q;
    if (prep(s, "INSERT INTO incidents(id, hazard, building, level, opened_ms) VALUES(?,?,?,?,?)",
             &q) != LW_OK)
        return LW_ERR_DB;
    sqlite3_bind_int64(q, 1, id);
    sqlite3_bind_text(q, 2, lw_hazard_name(hazard), -1, SQLITE_STATIC);
    bind_text(q, 3, building);
    sqlite3_bind_text(q, 4, lw_level_name(level), -1, SQLITE_STATIC);
    sqlite3_bind_int64(q, 5, ts_ms);
    return write(s, q);
}

int lw_alertdb_incident_close(struct lw_store *s, int64_t id, int64_t ts_ms)
{
    sqlite3_stmt *q;
    if (prep(s, "UPDATE incidents SET closed_ms = ?2 WHERE id = ?1 AND closed_ms IS NULL", &q) !=
        LW_OK)
        return LW_ERR_DB;
    sqlite3_bind_int64(q, 1, id);
    sqlite3_bind_int64(q, 2, ts_ms);
    return write(s, q);
}

int lw_alertdb_set_incident(struct lw_store *s, int64_t alert, int64_t incident)
{
    sqlite3_stmt *q;
    if (prep(s, "UPDATE alerts SET incident = ?2 WHERE id = ?1", &q) != LW_OK)
        return LW_ERR_DB;
    sqlite3_bind_int64(q, 1, alert);
    sqlite3_bind_int64(q, 2, incident);
    return write(s, q);
}

int lw_alertdb_set_pin(struct lw_store *s, int64_t alert, int64_t zero_mm)
{
    sqlite3_stmt *q;
    if (prep(s, "UPDATE alerts SET pin_zero_mm = ?2 WHERE id = ?1", &q) != LW_OK)
        return LW_ERR_DB;
    sqlite3_bind_int64(q, 1, alert);
    if (zero_mm >= 0)
        sqlite3_bind_int64(q, 2, zero_mm);
    else
        sqlite3_bind_null(q, 2);
    return write(s, q);
}

int lw_alertdb_each_incident_alert(struct lw_store *s, int64_t ts_ms,
                                   void (*fn)(void *arg, int64_t incident, const char *hazard,
                                              const char *building, int64_t alert),
                                   void *arg)
{
    /* Incidents whose alerts all ended while the daemon was down are closed first. */
    sqlite3_stmt *q;
    if (prep(s,
             "UPDATE incidents SET closed_ms = ? WHERE closed_ms IS NULL AND id NOT IN "
             "(SELECT incident FROM alerts WHERE state = 'raised' AND incident IS NOT NULL)",
             &q) != LW_OK)
        return LW_ERR_DB;
    sqlite3_bind_int64(q, 1, ts_ms);
    if (write(s, q) != LW_OK)
        return LW_ERR_DB;
    if (prep(s,
             "SELECT i.id, i.hazard, coalesce(i.building, ''), a.id FROM incidents i JOIN "
             "alerts a ON a.incident = i.id WHERE i.closed_ms IS NULL AND a.state = 'raised'",
             &q) != LW_OK)
        return LW_ERR_DB;
    while (sqlite3_step(q) == SQLITE_ROW)
        fn(arg, sqlite3_column_int64(q, 0), (const char *)sqlite3_column_text(q, 1),
           (const char *)sqlite3_column_text(q, 2), sqlite3_column_int64(q, 3));
    sqlite3_finalize(q);
    return LW_OK;
}
