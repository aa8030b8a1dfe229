/* SPDX-License-Identifier: Apache-2.0 */
/* Readings: queued in the batch transaction (and handed to the rollups), and the queries the
 * daemon runs on them at start and for its rules. */
#include <sqlite3.h>
#include <string.h>

#include "lw_error.h"
#include "lw_log.h"
#include "lw_rollup.h"
#include "lw_store_int.h"

static int64_t reading_packed(const struct lw_store_reading *rd)
{
    const struct lw_reading *r = rd->r;
    int64_t m = rd->type | ((int64_t)rd->hops << 8);
    if (rd->unsynced)
        m |= (int64_t)LW_TIME_PENDING << PACKED_TQ_SHIFT;
    if (r->present & LW_R_FLAGS)
        m |= PACKED_FLAGS | ((int64_t)r->flags << 19);
    if (r->present & LW_R_SMOKE)
        m |= PACKED_SMOKE | ((int64_t)r->smoke_alarm << 28);
    return m;
}

/* 0: no sensor value beyond water and battery (stored as NULL). */
static int64_t reading_sensors(const struct lw_reading *r)
{
    int64_t v = 0;
    if (r->present & LW_R_SMOKE)
        v |= 1 | ((int64_t)r->smoke_obscuration << 4);
    if (r->present & LW_R_TEMP)
        v |= 2 | ((int64_t)(uint16_t)r->temp_c_x10 << 20);
    if (r->present & LW_R_GAS)
        v |= 4 |
             ((int64_t)(r->gas_lel_x10 < SENSORS_GAS_MAX ? r->gas_lel_x10 : SENSORS_GAS_MAX) << 36);
    if (r->present & LW_R_CO)
        v |= 8 | ((int64_t)r->co_ppm << 47);
    return v;
}

static void bind_opt(sqlite3_stmt *q, int col, bool present, int64_t v)
{
    if (present)
        sqlite3_bind_int64(q, col, v);
    else
        sqlite3_bind_null(q, col);
}

int lw_store_add_reading(struct lw_store *s, const struct lw_store_reading *rd)
{
    if (lw_store_shedding(s)) {
        s->stats.readings_lost++;
        return LW_ERR_DB;
    }
    if (lw_store_begin(s) != LW_OK) {
        s->stats.readings_lost++;
        return LW_ERR_DB;
    }
    sqlite3_stmt *q = s->st[ST_READING];
    const struct lw_reading *r = rd->r;
    sqlite3_bind_int(q, 1, rd->node);
    sqlite3_bind_int64(q, 2, rd->t_ms);
    sqlite3_bind_int64(q, 3, rd->fcnt);
    sqlite3_bind_int(q, 4, rd->rssi_x10);
    sqlite3_bind_int(q, 5, rd->snr_x10);
    bind_opt(q, 6, r->present & LW_R_WATER, r->water_mm);
    bind_opt(q, 7, r->present & LW_R_BATTERY, r->battery_mv);
    sqlite3_bind_int64(q, 8, reading_packed(rd));
    int64_t sensors = reading_sensors(r);
    bind_opt(q, 9, sensors != 0, sensors);
    bind_opt(q, 10, rd->unsynced, rd->mono_ms);
    if (lw_store_step(s, q) != LW_OK)
        return LW_ERR_DB;
    /* Duplicates (ignored) are not counted twice; readings with a provisional time are rolled
     * up when lw_store_fix_times corrects them. */
    if (sqlite3_changes(s->db) == 1 && !rd->unsynced && !s->rollups_off &&
        lw_rollup_add(s->rollup, rd->node, rd->t_ms, r) != LW_OK)
        lw_log_rl(LW_LOG_ERR, "database: rollup of a reading failed");
    s->pending++;
    if (s->pending >= s->batch_rows)
        return lw_store_commit(s);
    return LW_OK;
}

size_t lw_store_pending(const struct lw_store *s)
{
    return s->pending;
}

void lw_store_column_reading(sqlite3_stmt *q, int first, struct lw_reading *r)
{
    static const uint32_t bit[8] = {LW_R_WATER, LW_R_SMOKE, LW_R_SMOKE,   LW_R_GAS,
                                    LW_R_CO,    LW_R_TEMP,  LW_R_BATTERY, LW_R_FLAGS};
    memset(r, 0, sizeof(*r));
    int v[8];
    for (int c = 0; c < 8; c++) {
        v[c] = sqlite3_column_int(q, first + c);
        if (sqlite3_column_type(q, first + c) != SQLITE_NULL)
            r->present |= bit[c];
    }
    r->water_mm = (uint16_t)v[0];
    r->smoke_alarm = (uint8_t)v[1];
    r->smoke_obscuration = (uint16_t)v[2];
    r->gas_lel_x10 = (uint16_t)v[3];
    r->co_ppm = (uint16_t)v[4];
    r->temp_c_x10 = (int16_t)v[5];
    r->battery_mv = (uint16_t)v[6];
    r->flags = (uint8_t)v[7];
}

int lw_store_each_recent(struct lw_store *s, uint16_t node, int64_t since_ms, int64_t span_ms,
                         void (*fn)(void *arg, int64_t t_ms, const struct lw_reading *r), void *arg)
{
    /* The primary key (node, ts_ms) answers both bounds; rows with no trustworthy wall time
     * (time_quality 1 or 3) are left out. */
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(s->db,
                           "SELECT ts_ms, water_mm, smoke, obscuration, gas_lel_x10, co_ppm, "
                           "temp_x10, battery_mv, flags FROM readings WHERE node = ?1 AND ts_ms >= "
                           "max(?2, coalesce((SELECT max(ts_ms) FROM readings WHERE node = ?1), "
                           "0) - ?3) AND (time_quality IS NULL OR time_quality = 2) ORDER BY "
                           "ts_ms",
                           -1, &q, NULL) != SQLITE_OK)
        return LW_ERR_DB;
    sqlite3_bind_int(q, 1, node);
    sqlite3_bind_int64(q, 2, since_ms);
    sqlite3_bind_int64(q, 3, span_ms);
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        struct lw_reading r;
        lw_store_column_reading(q, 1, &r);
        fn(arg, sqlite3_column_int64(q, 0), &r);
    }
    sqlite3_finalize(q);
    return rc == SQLITE_DONE ? LW_OK : LW_ERR_DB;
}

int lw_store_newest_reading(struct lw_store *s, uint16_t node, int64_t *ts_ms)
{
    sqlite3_stmt *q;
    *ts_ms = 0;
    if (sqlite3_prepare_v2(s->db, "SELECT max(ts_ms) FROM readings WHERE node = ?1", -1, &q,
                           NULL) != SQLITE_OK)
        return LW_ERR_DB;
    sqlite3_bind_int(q, 1, node);
    int rc = sqlite3_step(q);
    if (rc == SQLITE_ROW)
        *ts_ms = sqlite3_column_int64(q, 0);
    sqlite3_finalize(q);
    return rc == SQLITE_ROW ? LW_OK : LW_ERR_DB;
}

int lw_store_each_counter(struct lw_store *s, void (*fn)(void *arg, uint16_t node, uint32_t fcnt),
                          void *arg)
{
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(s->db, "SELECT node, MAX(fcnt) FROM readings GROUP BY node", -1, &q,
                           NULL) != SQLITE_OK)
        return LW_ERR_DB;
    while (sqlite3_step(q) == SQLITE_ROW)
        fn(arg, (uint16_t)sqlite3_column_int(q, 0), (uint32_t)sqlite3_column_int64(q, 1));
    sqlite3_finalize(q);
    return LW_OK;
}

void lw_store_set_rollups(struct lw_store *s, bool on)
{
    s->rollups_off = !on;
}
