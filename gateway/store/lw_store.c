/* SQLite storage with prepared statements and one open batch transaction at a time. */
#include "lw_store.h"

#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "lw_error.h"
#include "lw_log.h"
#include "lw_rollup.h"

/* Application id in the database header ("LWDB"): tells our file from any other SQLite file. */
#define LW_APP_ID 0x4C574442

enum stmt {
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

static const char *const stmt_sql[ST_COUNT] = {
    [ST_BEGIN] = "BEGIN",
    [ST_COMMIT] = "COMMIT",
    [ST_ROLLBACK] = "ROLLBACK",
    [ST_READING] = "INSERT OR IGNORE INTO readings(node, ts_ms, fcnt, rssi_x10, snr_x10, "
                   "water_mm, battery_mv, packed, sensors, mono_ms) VALUES(?,?,?,?,?,?,?,?,?,?)",
    [ST_ALERT_INSERT] = "INSERT INTO alerts(id, rule, hazard, level, node, state, raised_ms, "
                        "value, threshold, message, tier) VALUES(?,?,?,?,?,'raised',?,?,?,?,0)",
    [ST_ALERT_STATE] = "UPDATE alerts SET state = ?, "
                       "cleared_ms = CASE WHEN ? = 'cleared' THEN ? ELSE cleared_ms END "
                       "WHERE id = ?",
    [ST_JOURNAL] = "INSERT INTO alert_journal(alert, ts_ms, event, detail) VALUES(?,?,?,?)",
    [ST_OUTBOX_ADD] = "INSERT INTO outbox(alert, topic, payload, retain) VALUES(?,?,?,?)",
    [ST_SENT_ADD] = "INSERT OR REPLACE INTO outbox_sent(seq, alert, topic, payload, retain, "
                    "acked_ms) SELECT seq, alert, topic, payload, retain, ?2 FROM outbox "
                    "WHERE seq = ?1",
    /* A duty message replaces the reminders before it to the same (alert, topic): replayed
     * after a broker's loss is what each recipient was told (notified, escalated, acknowledged,
     * cleared) and its latest reminder, never a stale series of reminders. */
    [ST_SENT_SUPERSEDED] = "DELETE FROM outbox_sent WHERE retain = 0 AND seq < ?1 AND "
                           "json_extract(payload, '$.duty.kind') = 'reminder' AND "
                           "(alert, topic) = (SELECT alert, topic FROM outbox_sent WHERE seq = ?1 "
                           "AND retain = 0)",
    [ST_OUTBOX_DONE] = "DELETE FROM outbox WHERE seq = ? RETURNING alert",
};

/* Version 1 schema. Readings: one row per accepted frame, keyed (node, time, counter) without a
 * rowid so the table is the index. Alerts: current state; alert_journal: every transition, never
 * rewritten; outbox: what the broker has not acknowledged yet. */
static const char schema_v1[] =
    "CREATE TABLE nodes(address INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, eui TEXT NOT "
    "NULL, kind TEXT NOT NULL, label TEXT, building TEXT, floor TEXT, unit TEXT, grid TEXT, "
    "place TEXT, tags TEXT);"
    "CREATE TABLE readings(node INTEGER NOT NULL, ts_ms INTEGER NOT NULL, fcnt INTEGER NOT "
    "NULL, type INTEGER NOT NULL, hops INTEGER NOT NULL, rssi_x10 INTEGER, snr_x10 INTEGER, "
    "water_mm INTEGER, smoke INTEGER, obscuration INTEGER, gas_lel_x10 INTEGER, co_ppm INTEGER, "
    "temp_x10 INTEGER, battery_mv INTEGER, flags INTEGER, PRIMARY KEY(node, ts_ms, fcnt)) "
    "WITHOUT ROWID;"
    "CREATE TABLE alerts(id INTEGER PRIMARY KEY AUTOINCREMENT, rule TEXT NOT NULL, hazard TEXT "
    "NOT NULL, level TEXT NOT NULL, node INTEGER NOT NULL, state TEXT NOT NULL, raised_ms "
    "INTEGER NOT NULL, cleared_ms INTEGER, value REAL, threshold REAL);"
    "CREATE INDEX alerts_state ON alerts(state);"
    "CREATE TABLE alert_journal(id INTEGER PRIMARY KEY, alert INTEGER NOT NULL REFERENCES "
    "alerts(id), ts_ms INTEGER NOT NULL, event TEXT NOT NULL, detail TEXT);"
    "CREATE TABLE outbox(seq INTEGER PRIMARY KEY AUTOINCREMENT, alert INTEGER, topic TEXT NOT "
    "NULL, payload "
    "TEXT NOT NULL, retain INTEGER NOT NULL);";

/* Version 2: readings received before the wall clock was synchronised keep their monotonic time
 * and a quality mark, so they can be corrected later; meta holds the boot id. */
static const char migrate_v2[] =
    "ALTER TABLE readings ADD COLUMN mono_ms INTEGER;"
    "ALTER TABLE readings ADD COLUMN time_quality INTEGER;"
    "CREATE INDEX readings_pending ON readings(time_quality) WHERE time_quality = 1;"
    "CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);";

/* Version 3: the node registry lives here instead of in the config file. A node row is a place
 * (its address keys the readings and alerts, so history follows the place when hardware is
 * replaced); eui and keys are the hardware currently there. maintenance is the append-only journal
 * of what maintainers did (who by uid, what, old -> new). */
static const char migrate_v3[] =
    "ALTER TABLE nodes ADD COLUMN state TEXT NOT NULL DEFAULT 'active';"
    "ALTER TABLE nodes ADD COLUMN source TEXT NOT NULL DEFAULT 'config';"
    "ALTER TABLE nodes ADD COLUMN root_key TEXT;"
    "ALTER TABLE nodes ADD COLUMN key_up TEXT;"
    "ALTER TABLE nodes ADD COLUMN key_down TEXT;"
    "ALTER TABLE nodes ADD COLUMN join_nonce INTEGER;"
    "ALTER TABLE nodes ADD COLUMN fcnt_down INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE nodes ADD COLUMN mount_height_mm INTEGER;"
    "ALTER TABLE nodes ADD COLUMN zero_offset_mm INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE nodes ADD COLUMN created_ms INTEGER;"
    "ALTER TABLE nodes ADD COLUMN first_seen_ms INTEGER;"
    "ALTER TABLE nodes ADD COLUMN last_seen_ms INTEGER;"
    "ALTER TABLE nodes ADD COLUMN rssi_x10 INTEGER;"
    "ALTER TABLE nodes ADD COLUMN snr_x10 INTEGER;"
    "ALTER TABLE nodes ADD COLUMN battery_mv INTEGER;"
    "ALTER TABLE nodes ADD COLUMN hops INTEGER;"
    "ALTER TABLE nodes ADD COLUMN relay INTEGER;"
    "ALTER TABLE nodes ADD COLUMN retired_ms INTEGER;"
    "ALTER TABLE nodes ADD COLUMN pairing_until_ms INTEGER;"
    "ALTER TABLE nodes ADD COLUMN fcnt_up INTEGER NOT NULL DEFAULT 0;"
    "CREATE TABLE maintenance(id INTEGER PRIMARY KEY, ts_ms INTEGER NOT NULL, uid INTEGER, "
    "action TEXT NOT NULL, node INTEGER, old TEXT, new TEXT, detail TEXT);"
    "CREATE INDEX maintenance_node ON maintenance(node, ts_ms);"
    "CREATE TRIGGER maintenance_append_only BEFORE UPDATE ON maintenance "
    "BEGIN SELECT RAISE(ABORT, 'the maintenance journal is append-only'); END;"
    "CREATE TRIGGER maintenance_no_delete BEFORE DELETE ON maintenance "
    "BEGIN SELECT RAISE(ABORT, 'the maintenance journal is append-only'); END;";

/* Version 4: the alert lifecycle. alert_journal events are 'raised', 'published' (the broker
 * acknowledged a message), 'notified' (sent to a duty tier's topic), 'escalated' (tier raised),
 * 'reminded', 'acknowledged', 'silenced', 'cleared', 'closed'; actor is who (a duty person's id,
 * "uid:N" for the CLI, "gateway"), tier the duty tier (1 grid worker, 2 duty room, 3 street
 * office) and via the channel ("mqtt", "cli", "gateway"). The journal is append-only. */
static const char migrate_v4[] =
    "ALTER TABLE alert_journal ADD COLUMN actor TEXT;"
    "ALTER TABLE alert_journal ADD COLUMN tier INTEGER;"
    "ALTER TABLE alert_journal ADD COLUMN via TEXT;"
    "CREATE INDEX alert_journal_alert ON alert_journal(alert, id);"
    "ALTER TABLE alerts ADD COLUMN tier INTEGER NOT NULL DEFAULT 1;"
    "ALTER TABLE alerts ADD COLUMN acked_ms INTEGER;"
    "ALTER TABLE alerts ADD COLUMN acked_by TEXT;"
    "ALTER TABLE alerts ADD COLUMN incident INTEGER;"
    "ALTER TABLE alerts ADD COLUMN test INTEGER NOT NULL DEFAULT 0;"
    "CREATE TABLE incidents(id INTEGER PRIMARY KEY, hazard TEXT NOT NULL, building TEXT, "
    "level TEXT NOT NULL, opened_ms INTEGER NOT NULL, closed_ms INTEGER);"
    "CREATE TABLE silences(id INTEGER PRIMARY KEY, created_ms INTEGER NOT NULL, actor TEXT, "
    "node INTEGER, building TEXT, hazard TEXT, until_ms INTEGER NOT NULL, reason TEXT, "
    "forced INTEGER NOT NULL DEFAULT 0, lifted_ms INTEGER);"
    "CREATE TRIGGER alert_journal_append_only BEFORE UPDATE ON alert_journal "
    "BEGIN SELECT RAISE(ABORT, 'the alert journal is append-only'); END;"
    "CREATE TRIGGER alert_journal_no_delete BEFORE DELETE ON alert_journal "
    "BEGIN SELECT RAISE(ABORT, 'the alert journal is append-only'); END;";

/* Version 5: history for a season. rollup_hour and rollup_day hold, per node and hour (local
 * day), the readings stored (frames), count, sum, min and max of the node's main metric (metric:
 * enum lw_metric, 0 water_mm ... in the metric's unit) and the milliseconds spent at or above
 * each level's lowest rising-rule threshold (each reading standing for the time since its node's
 * previous one, at most LW_ROLLUP_GAP_MS); batt_min the lowest battery voltage. They are written
 * in the transaction of their readings and kept when old raw readings are deleted
 * ([storage] retention_days). rollup_levels: the thresholds in force for each node, for the
 * report's level bands. Readings keep their (node, ts_ms, fcnt) key: each node's rows are
 * appended at the end of its key range, which keeps pages full (bench/RESULTS.md). */
#define ROLLUP_TABLE(name)                                                                       \
    "CREATE TABLE " name "(node INTEGER NOT NULL, t_ms INTEGER NOT NULL, metric INTEGER NOT "    \
    "NULL, frames INTEGER NOT NULL, n INTEGER NOT NULL, vsum REAL, vmin REAL, vmax REAL, "       \
    "above_blue INTEGER NOT NULL DEFAULT 0, above_yellow INTEGER NOT NULL DEFAULT 0, "          \
    "above_orange INTEGER NOT NULL DEFAULT 0, above_red INTEGER NOT NULL DEFAULT 0, batt_min "  \
    "INTEGER, PRIMARY KEY(node, t_ms)) WITHOUT ROWID;"
static const char migrate_v5[] =
    ROLLUP_TABLE("rollup_hour") ROLLUP_TABLE("rollup_day")
    "CREATE TABLE rollup_levels(node INTEGER PRIMARY KEY, metric INTEGER NOT NULL, blue REAL, "
    "yellow REAL, orange REAL, red REAL, set_ms INTEGER NOT NULL);"
    "CREATE INDEX alert_journal_time ON alert_journal(ts_ms);";

/* Version 6: a compact readings row (bench/RESULTS.md, "History"). Stored are the key, the
 * columns nearly every reading has (radio, water, battery) and two packed integers; the other
 * columns are VIRTUAL generated columns computed from them, so every column keeps its name, type
 * and NULLs for readers, and a usual row has an 11-byte record header instead of 18.
 *   packed (bits): 0-7 type, 8-15 hops, 16-17 time_quality (0: NULL), 18 flags present,
 *                19-26 flags, 27 smoke present, 28-35 smoke
 *   sensors (bits, NULL when none): 0 obscuration present, 1 temp present, 2 gas present,
 *                3 co present, 4-19 obscuration, 20-35 temp_x10 (two's complement),
 *                36-46 gas_lel_x10 (0..2047; the protocol allows 0..1000), 47-62 co_ppm
 * Written only by lw_store (reading_packed/reading_sensors below).
 * rollup_hour and rollup_day get last_off_ms, the latest reading counted in the row (ms after
 * t_ms): a node's rows hold exactly its readings up to the one counted last in its latest row
 * (lw_rollup.c). Rollups before this version were written with their readings, so the latest
 * row of each node is given its latest reading; older rows stay NULL (not needed). */
#define LAST_OFF(table, len)                                                                       \
    "ALTER TABLE " table " ADD COLUMN last_off_ms INTEGER;"                                        \
    "UPDATE " table                                                                                \
    " SET last_off_ms = (SELECT max(r.ts_ms) FROM readings r WHERE r.node = " table                \
    ".node AND r.ts_ms >= " table ".t_ms AND r.ts_ms < " table ".t_ms + " len " AND "              \
    "(r.time_quality IS NULL OR r.time_quality = 2)) - t_ms WHERE (node, t_ms) IN (SELECT node, "  \
    "max(t_ms) FROM " table " GROUP BY node);"
#define READINGS_V6                                                                                \
    "CREATE TABLE readings_v6(node INTEGER NOT NULL, ts_ms INTEGER NOT NULL, fcnt INTEGER NOT "    \
    "NULL, rssi_x10 INTEGER, snr_x10 INTEGER, water_mm INTEGER, battery_mv INTEGER, packed "       \
    "INTEGER NOT NULL, sensors INTEGER, mono_ms INTEGER, "                                         \
    "type INTEGER AS (packed & 255), hops INTEGER AS ((packed >> 8) & 255), "                      \
    "time_quality INTEGER AS (CASE WHEN packed & 196608 THEN (packed >> 16) & 3 END), "            \
    "flags INTEGER AS (CASE WHEN packed & 262144 THEN (packed >> 19) & 255 END), "                 \
    "smoke INTEGER AS (CASE WHEN packed & 134217728 THEN (packed >> 28) & 255 END), "              \
    "obscuration INTEGER AS (CASE WHEN sensors & 1 THEN (sensors >> 4) & 65535 END), "             \
    "temp_x10 INTEGER AS (CASE WHEN sensors & 2 THEN ((sensors >> 20) & 65535) - "                 \
    "((sensors >> 20) & 32768) * 2 END), "                                                         \
    "gas_lel_x10 INTEGER AS (CASE WHEN sensors & 4 THEN (sensors >> 36) & 2047 END), "             \
    "co_ppm INTEGER AS (CASE WHEN sensors & 8 THEN (sensors >> 47) & 65535 END), "                 \
    "PRIMARY KEY(node, ts_ms, fcnt)) WITHOUT ROWID;"
static const char migrate_v6[] =
    READINGS_V6
    "INSERT INTO readings_v6(node, ts_ms, fcnt, rssi_x10, snr_x10, water_mm, battery_mv, packed, "
    "sensors, mono_ms) SELECT node, ts_ms, fcnt, rssi_x10, snr_x10, water_mm, battery_mv, "
    "(type & 255) | ((hops & 255) << 8) | (coalesce(time_quality & 3, 0) << 16) | "
    "CASE WHEN flags IS NULL THEN 0 ELSE 262144 | ((flags & 255) << 19) END | "
    "CASE WHEN smoke IS NULL THEN 0 ELSE 134217728 | ((smoke & 255) << 28) END, "
    "nullif((obscuration IS NOT NULL) | ((temp_x10 IS NOT NULL) << 1) | "
    "((gas_lel_x10 IS NOT NULL) << 2) | ((co_ppm IS NOT NULL) << 3) | "
    "(coalesce(obscuration & 65535, 0) << 4) | (coalesce(temp_x10 & 65535, 0) << 20) | "
    "(coalesce(min(max(gas_lel_x10, 0), 2047), 0) << 36) | (coalesce(co_ppm & 65535, 0) << 47), "
    "0), mono_ms FROM readings ORDER BY node, ts_ms, fcnt;"
    "DROP TABLE readings;"
    "ALTER TABLE readings_v6 RENAME TO readings;"
    "CREATE INDEX readings_pending ON readings(time_quality) WHERE time_quality = 1;"
    LAST_OFF("rollup_hour", "3600000") LAST_OFF("rollup_day", "86400000");

/* Version 7: an alert's row is its whole record. message is the raise message as published on
 * alert/<id> (level as raised, value, statistic, incident, place, sentences): after a restart the
 * duty messages of an open alert repeat it, as they did before. Rows from before keep NULL; their
 * record is rebuilt from level, value and incident. tier is the highest tier told, 0 while nobody
 * was (it read 1 from the start before): open alerts nobody was told about say so now. */
static const char migrate_v7[] =
    "ALTER TABLE alerts ADD COLUMN message TEXT;"
    "UPDATE alerts SET tier = 0 WHERE state = 'raised' AND NOT EXISTS (SELECT 1 FROM "
    "alert_journal j WHERE j.alert = alerts.id AND j.event IN ('notified', 'escalated'));";

/* The zero offset a water alert stays pinned to after a calibration under it (RULES.md,
 * "Calibration never clears an alert"), so a restart does not forget it. */
static const char migrate_v8[] = "ALTER TABLE alerts ADD COLUMN pin_zero_mm INTEGER;";

/* Version 9: outbox_sent keeps what the broker acknowledged, so a broker that loses it (SIGKILL
 * before its autosave, a restored snapshot) can be given it again: every row for a day after its
 * acknowledgement (acked_ms, wall clock), the latest alert/<id> message of an open alert and the
 * latest duty message per (alert, topic) of an open alert for as long as the alert is open.
 * seq is the outbox's, so a row moved back to the outbox keeps its place in the order. */
static const char migrate_v9[] =
    "CREATE TABLE outbox_sent(seq INTEGER PRIMARY KEY, alert INTEGER, topic TEXT NOT NULL, "
    "payload TEXT NOT NULL, retain INTEGER NOT NULL, acked_ms INTEGER NOT NULL);"
    "CREATE INDEX outbox_sent_topic ON outbox_sent(topic, seq);"
    "CREATE INDEX outbox_sent_alert ON outbox_sent(alert, topic);";

/* Version 10: times of the alert side (alerts, journal, incidents, silences, outbox_sent) written
 * while the wall clock was not synchronised, each with the clock's offset (wall - monotonic) at
 * the time of writing, so lw_store_fix_times can put them right with the readings of the same
 * boot. The journal stays append-only except for exactly that: a listed row's ts_ms. */
static const char migrate_v10[] =
    "CREATE TABLE clock_pending(what TEXT NOT NULL, rid INTEGER NOT NULL, off_ms INTEGER NOT "
    "NULL, PRIMARY KEY(what, rid)) WITHOUT ROWID;"
    "DROP TRIGGER alert_journal_append_only;"
    "CREATE TRIGGER alert_journal_append_only BEFORE UPDATE ON alert_journal WHEN NOT (NEW.id IS "
    "OLD.id AND NEW.alert IS OLD.alert AND NEW.event IS OLD.event AND NEW.detail IS OLD.detail "
    "AND NEW.actor IS OLD.actor AND NEW.tier IS OLD.tier AND NEW.via IS OLD.via AND EXISTS "
    "(SELECT 1 FROM clock_pending WHERE what = 'alert_journal.ts_ms' AND rid = OLD.id)) "
    "BEGIN SELECT RAISE(ABORT, 'the alert journal is append-only'); END;";

/* Each step takes the schema from version i + 1 to i + 2, in its own transaction. */
static const char *const migrations[] = {migrate_v2, migrate_v3, migrate_v4, migrate_v5, migrate_v6,
                                         migrate_v7, migrate_v8, migrate_v9, migrate_v10};

/* The packed columns of a readings row (schema v6). */
#define PACKED_TQ_SHIFT 16
#define PACKED_TQ_MASK  (3LL << PACKED_TQ_SHIFT)
#define PACKED_FLAGS    (1LL << 18)
#define PACKED_SMOKE    (1LL << 27)
#define SENSORS_GAS_MAX 2047

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
    bool rollups_off; /* lw_store_set_rollups(false): for measuring their cost only */
    int64_t retention_ms; /* raw readings older than this are deleted; 0: kept */
    int64_t retention_node; /* the node retention works on next (-1: start over) */
    enum lw_store_trouble trouble;
    int pinned_runs;          /* checkpoints in a row that could not reset the WAL */
    int ckpt_pages;           /* checkpoint when the WAL holds this many pages */
    int64_t wal_pinned_bytes; /* a WAL pinned beyond this is trouble */
    char ballast[4096];       /* path of the ballast file */
    uint64_t ballast_size;    /* what it should hold */
    bool ballast_present;
    bool ballast_released_now;
    int last_err; /* SQLite result code of the latest failed write */
    bool txn_acks;  /* the open (or last, if not committed) transaction moved outbox rows */
    bool acks_lost; /* such a transaction, or an acknowledgement's write, was lost */
};

/* SQLite's automatic checkpoint runs inside whichever COMMIT takes the WAL past 1000 pages, and
 * it fsyncs; with readings batched, that COMMIT is most often an alert's. The hook below replaces
 * it, and lw_store_commit checkpoints only after commits that carry no alert. On a small file
 * system 1000 pages (4 MiB) would be more than there is: the WAL may take a sixteenth of it. */
#define WAL_CHECKPOINT_PAGES 1000
#define WAL_CHECKPOINT_MIN   16
/* Space reserved for alerts beside the database (a file released when a write finds the disk
 * full): an eighth of the file system, within these bounds. */
#define BALLAST_MIN (64 * 1024)
#define BALLAST_MAX (1024 * 1024)

static int on_wal(void *arg, sqlite3 *db, const char *name, int pages)
{
    (void)db;
    (void)name;
    ((struct lw_store *)arg)->wal_pages = pages;
    return SQLITE_OK;
}

static int begin(struct lw_store *s);
static int commit(struct lw_store *s, bool all);
static void note_failure(struct lw_store *s, int rc);
static void size_limits(struct lw_store *s, const char *path);
static int ballast_make(struct lw_store *s);
static void sql_clock_offset(sqlite3_context *ctx, int argc, sqlite3_value **argv);

static int exec(struct lw_store *s, const char *sql, char *err, size_t errcap)
{
    char *msg = NULL;
    if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        snprintf(err, errcap, "%s", msg ? msg : sqlite3_errmsg(s->db));
        note_failure(s, sqlite3_extended_errcode(s->db));
        if (s->in_txn && sqlite3_get_autocommit(s->db)) {
            /* SQLite rolled the transaction back by itself: the batch went with it. */
            lw_rollup_discard(s->rollup);
            s->stats.commit_failures++;
            s->stats.readings_lost += s->pending;
            s->in_txn = false;
            s->pending = 0;
        }
        sqlite3_free(msg);
        return LW_ERR_DB;
    }
    return LW_OK;
}

static int pragma_int(struct lw_store *s, const char *sql, int *out)
{
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(s->db, sql, -1, &q, NULL) != SQLITE_OK)
        return LW_ERR_DB;
    int rc = sqlite3_step(q);
    *out = rc == SQLITE_ROW ? sqlite3_column_int(q, 0) : 0;
    sqlite3_finalize(q);
    return rc == SQLITE_ROW ? LW_OK : LW_ERR_DB;
}

/* Create or check the schema. An empty file gets version 1; a file with tables but not our
 * application id is somebody else's and is refused. */
static int migrate(struct lw_store *s, const char *path, char *err, size_t errcap)
{
    int app, ver, tables;
    if (pragma_int(s, "PRAGMA application_id", &app) != LW_OK ||
        pragma_int(s, "PRAGMA user_version", &ver) != LW_OK ||
        pragma_int(s, "SELECT count(*) FROM sqlite_schema", &tables) != LW_OK) {
        snprintf(err, errcap,
                 "%s: not a readable SQLite database (%s); move it aside or restore "
                 "a backup, lorawatchd will not overwrite it",
                 path, sqlite3_errmsg(s->db));
        return LW_ERR_DB;
    }
    if (app == 0 && tables == 0 && ver == 0) {
        /* A new file is created at version 1 and migrated like any old one: one code path. */
        char sql[sizeof(schema_v1) + 128];
        snprintf(sql, sizeof(sql), "BEGIN;%sPRAGMA application_id=%d;PRAGMA user_version=1;COMMIT;",
                 schema_v1, LW_APP_ID);
        if (exec(s, sql, err, errcap) != LW_OK)
            return LW_ERR_DB;
        lw_log(LW_LOG_NOTICE, "created database %s", path);
        app = LW_APP_ID;
        ver = 1;
    }
    if (app != LW_APP_ID) {
        snprintf(err, errcap,
                 "%s: this SQLite file is not a lorawatch database (application id "
                 "0x%08X); point [gateway] database elsewhere or move the file aside",
                 path, (unsigned)app);
        return LW_ERR_DB;
    }
    if (ver < 1) {
        snprintf(err, errcap,
                 "%s: lorawatch database without a schema version; restore a backup or move it "
                 "aside",
                 path);
        return LW_ERR_DB;
    }
    if (ver > LW_SCHEMA_VERSION) {
        snprintf(err, errcap,
                 "%s: schema version %d is newer than this lorawatchd understands "
                 "(%d); install the newer lorawatch or restore a backup",
                 path, ver, LW_SCHEMA_VERSION);
        return LW_ERR_DB;
    }
    for (; ver < LW_SCHEMA_VERSION; ver++) {
        char e2[256], e3[64];
        char *sql = sqlite3_mprintf("BEGIN;%sPRAGMA user_version=%d;COMMIT;",
                                    migrations[ver - 1], ver + 1);
        int rc = sql ? exec(s, sql, e2, sizeof(e2)) : LW_ERR_NOMEM;
        sqlite3_free(sql);
        if (rc != LW_OK) {
            if (!sql)
                snprintf(e2, sizeof(e2), "out of memory");
            if (!sqlite3_get_autocommit(s->db))
                exec(s, "ROLLBACK", e3, sizeof(e3));
            snprintf(err, errcap, "%s: migrating the schema from version %d failed: %s", path, ver,
                     e2);
            return LW_ERR_DB;
        }
        lw_log(LW_LOG_NOTICE, "database %s: schema migrated to version %d", path, ver + 1);
    }
    return LW_OK;
}

/* A damaged file must be refused before anything is written into it. quick_check reads every
 * page once (seconds on a season-sized file on an SD card): the price of never building on
 * corruption. */
static int check_pages(struct lw_store *s, const char *path, char *err, size_t errcap)
{
    sqlite3_stmt *q;
    int rc = LW_ERR_DB;
    if (sqlite3_prepare_v2(s->db, "PRAGMA quick_check(1)", -1, &q, NULL) == SQLITE_OK &&
        sqlite3_step(q) == SQLITE_ROW) {
        const char *res = (const char *)sqlite3_column_text(q, 0);
        if (res && strcmp(res, "ok") == 0)
            rc = LW_OK;
        else
            snprintf(err, errcap,
                     "%s: the database is damaged (%s); restore a backup or move the file aside "
                     "(sqlite3 .recover may save its data); lorawatchd will not write into it",
                     path, res ? res : "?");
    } else {
        snprintf(err, errcap,
                 "%s: the database cannot be checked (%s); restore a backup or move it aside", path,
                 sqlite3_errmsg(s->db));
    }
    sqlite3_finalize(q);
    return rc;
}

/* The first read after a crash rebuilds the WAL index in the -shm file, which needs room: on a
 * full disk it fails with an I/O error, and the database would look unreadable. The ballast kept
 * beside the database (lw_store_ballast_*) is given up for it; without one the disk may yet free
 * (a filler removed, a log rotated): tried again for a few seconds before giving up. */
#define OPEN_FULL_TRIES    20
#define OPEN_FULL_RETRY_US 500000

static int migrate_with_room(struct lw_store *s, const char *path, char *err, size_t errcap)
{
    for (int tries = 0;; tries++) {
        if (migrate(s, path, err, errcap) == LW_OK)
            return LW_OK;
        int code = sqlite3_extended_errcode(s->db) & 0xff;
        if (code != SQLITE_IOERR && code != SQLITE_FULL)
            return LW_ERR_DB;
        if (tries == OPEN_FULL_TRIES) {
            snprintf(err, errcap,
                     "%s: cannot be opened: no room on its file system to recover it after a "
                     "crash (%s); free space there",
                     path, sqlite3_errmsg(s->db));
            return LW_ERR_DB;
        }
        char ballast[LW_PATH_MAX + 16];
        snprintf(ballast, sizeof(ballast), "%s-ballast", path);
        if (unlink(ballast) == 0) {
            lw_log(LW_LOG_WARNING,
                   "database: no room to open %s (%s): ballast released for it", path,
                   sqlite3_errmsg(s->db));
        } else {
            if (tries == 0)
                lw_log(LW_LOG_ERR,
                       "database: no room to open %s (%s): the disk is full; waiting up to %d s",
                       path, sqlite3_errmsg(s->db),
                       OPEN_FULL_TRIES * (OPEN_FULL_RETRY_US / 1000) / 1000);
            usleep(OPEN_FULL_RETRY_US);
        }
        /* A fresh connection: the failed one may keep the broken index mapped. */
        sqlite3_close(s->db);
        s->db = NULL;
        if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
            snprintf(err, errcap, "%s: cannot open: %s", path,
                     s->db ? sqlite3_errmsg(s->db) : "out of memory");
            return LW_ERR_DB;
        }
        sqlite3_extended_result_codes(s->db, 1);
        sqlite3_create_function(s->db, "lw_clock_offset", 0, SQLITE_UTF8, NULL, sql_clock_offset,
                                NULL, NULL);
        sqlite3_busy_timeout(s->db, 2000);
    }
}

struct lw_store *lw_store_open(const char *path, uint32_t batch_rows, char *err, size_t errcap)
{
    struct lw_store *s = calloc(1, sizeof(*s));
    if (!s) {
        snprintf(err, errcap, "out of memory");
        return NULL;
    }
    s->batch_rows = batch_rows ? batch_rows : 1;
    if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
        SQLITE_OK) {
        snprintf(err, errcap, "%s: cannot open: %s", path,
                 s->db ? sqlite3_errmsg(s->db) : "out of memory");
        goto fail;
    }
    sqlite3_extended_result_codes(s->db, 1);
    sqlite3_create_function(s->db, "lw_clock_offset", 0, SQLITE_UTF8, NULL, sql_clock_offset, NULL,
                            NULL);
    /* Readers (history, reports) must never block the daemon for long. */
    sqlite3_busy_timeout(s->db, 2000);
    if (migrate_with_room(s, path, err, errcap) != LW_OK ||
        check_pages(s, path, err, errcap) != LW_OK)
        goto fail;
    /* WAL: readers work beside the writer; NORMAL sync: a power cut loses at most the last
     * transactions, never the file (SQLite's documented WAL guarantee). */
    char e2[256], pragmas[160];
    size_limits(s, path);
    /* journal_size_limit: a WAL that grew while a reader pinned it shrinks back when reset. */
    snprintf(pragmas, sizeof(pragmas),
             "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON; "
             "PRAGMA journal_size_limit=%lld;",
             (long long)s->wal_pinned_bytes / 4);
    if (exec(s, pragmas, e2, sizeof(e2)) != LW_OK) {
        snprintf(err, errcap, "%s: %s", path, e2);
        goto fail;
    }
    struct stat bst;
    if (snprintf(s->ballast, sizeof(s->ballast), "%s-ballast", path) >= (int)sizeof(s->ballast))
        s->ballast_size = 0;
    else if (stat(s->ballast, &bst) == 0 && (uint64_t)bst.st_size == s->ballast_size)
        s->ballast_present = true; /* kept from the last run */
    else if (access(s->ballast, F_OK) == 0)
        unlink(s->ballast); /* made again below, at its size for this file system */
    if (!s->ballast_present && ballast_make(s) != LW_OK)
        lw_log(LW_LOG_WARNING, "database: no room for a ballast of %llu KiB beside %s",
               (unsigned long long)(s->ballast_size / 1024), path);
    sqlite3_wal_hook(s->db, on_wal, s); /* replaces the automatic checkpoint */
    for (int i = 0; i < ST_COUNT; i++)
        if (sqlite3_prepare_v3(s->db, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &s->st[i],
                               NULL) != SQLITE_OK) {
            snprintf(err, errcap, "%s: prepare: %s", path, sqlite3_errmsg(s->db));
            goto fail;
        }
    s->retention_node = -1;
    s->rollup = lw_rollup_new(s->db, lw_store_tz_offset_ms());
    if (!s->rollup) {
        snprintf(err, errcap, "%s: rollups: %s", path, sqlite3_errmsg(s->db));
        goto fail;
    }
    /* A crash leaves the rollups short of the readings of each node's open hour: recover now,
     * so they match before anything else is written. */
    /* On a full disk the recovery waits for space (the next transaction tries again): a gateway
     * must start and page whatever its disk does. */
    enum lw_store_trouble trouble = LW_STORE_OK;
    if (begin(s) != LW_OK || lw_store_commit(s) != LW_OK) {
        if (s->trouble == LW_STORE_OK) {
            snprintf(err, errcap, "%s: recovering the rollups: %s", path, sqlite3_errmsg(s->db));
            goto fail;
        }
        trouble = s->trouble;
        lw_log(LW_LOG_ERR, "%s: recovering the rollups waits for the disk: %s", path,
               lw_store_trouble_name(trouble));
    }
    /* No room for the ballast: the disk is as good as full (readings shed, alerts first) until
     * lw_store_tick can make it. */
    if (trouble == LW_STORE_OK && !s->ballast_present && s->ballast_size) {
        lw_log(LW_LOG_ERR, "database: space is low at start (no room for the ballast): readings "
                           "are shed until there is");
        trouble = LW_STORE_FULL;
    }
    memset(&s->stats, 0, sizeof(s->stats)); /* the statistics count batches of readings */
    s->trouble = trouble;
    return s;
fail:
    lw_rollup_free(s->rollup);
    for (int i = 0; i < ST_COUNT; i++)
        sqlite3_finalize(s->st[i]);
    sqlite3_close(s->db);
    free(s);
    return NULL;
}

void lw_store_close(struct lw_store *s)
{
    if (!s)
        return;
    /* The open hours held in memory go to disk, so the next start has nothing to recover. */
    if (begin(s) == LW_OK)
        commit(s, true);
    lw_rollup_free(s->rollup);
    for (int i = 0; i < ST_COUNT; i++)
        sqlite3_finalize(s->st[i]);
    sqlite3_close(s->db);
    free(s);
}

/* ---- ballast and trouble ------------------------------------------------------------------ */

/* Write the ballast with real bytes (not a sparse file), so its blocks are the file system's. */
static int ballast_make(struct lw_store *s)
{
    if (s->ballast_present || !s->ballast_size)
        return s->ballast_present ? LW_OK : LW_ERR_IO;
    struct statvfs vfs;
    /* Only with room to spare: the ballast must never be what fills the disk. */
    if (statvfs(s->ballast, &vfs) == 0 || statvfs(sqlite3_db_filename(s->db, "main"), &vfs) == 0)
        if ((uint64_t)vfs.f_bavail * vfs.f_frsize < 2 * s->ballast_size)
            return LW_ERR_IO;
    int fd = open(s->ballast, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return LW_ERR_IO;
    static const char zero[16384];
    uint64_t done = 0;
    while (done < s->ballast_size) {
        size_t n =
            s->ballast_size - done < sizeof(zero) ? (size_t)(s->ballast_size - done) : sizeof(zero);
        ssize_t w = write(fd, zero, n);
        if (w <= 0)
            break;
        done += (uint64_t)w;
    }
    int ok = done == s->ballast_size && fsync(fd) == 0;
    close(fd);
    if (!ok) {
        unlink(s->ballast);
        return LW_ERR_IO;
    }
    s->ballast_present = true;
    return LW_OK;
}

static void ballast_release(struct lw_store *s)
{
    if (!s->ballast_present)
        return;
    unlink(s->ballast);
    s->ballast_present = false;
    s->ballast_released_now = true;
    s->stats.ballast_released++;
    lw_log(LW_LOG_WARNING, "database: disk full: ballast of %llu KiB released for alerts",
           (unsigned long long)(s->ballast_size / 1024));
}

/* A write failed: for want of space (the ballast goes), or the disk fails. */
static void note_failure(struct lw_store *s, int rc)
{
    s->last_err = rc;
    if ((rc & 0xFF) == SQLITE_FULL) {
        if (s->trouble != LW_STORE_FULL)
            lw_log(LW_LOG_ERR, "database: disk full: readings are shed, alerts kept in memory "
                               "until they can be journalled");
        s->trouble = LW_STORE_FULL;
        ballast_release(s);
    } else if ((rc & 0xFF) == SQLITE_IOERR || (rc & 0xFF) == SQLITE_CANTOPEN) {
        if (s->trouble != LW_STORE_FULL && s->trouble != LW_STORE_IOERR)
            lw_log(LW_LOG_ERR, "database: I/O error: readings are shed, alerts kept in memory "
                               "until they can be journalled");
        if (s->trouble != LW_STORE_FULL)
            s->trouble = LW_STORE_IOERR;
    }
}

static bool shedding(const struct lw_store *s)
{
    return s->trouble == LW_STORE_FULL || s->trouble == LW_STORE_IOERR;
}

/* Bounds from the size of the file system the database lives on. */
static void size_limits(struct lw_store *s, const char *path)
{
    struct statvfs vfs;
    int page = 4096;
    pragma_int(s, "PRAGMA page_size", &page);
    if (page <= 0)
        page = 4096;
    uint64_t fs = statvfs(path, &vfs) == 0 ? (uint64_t)vfs.f_blocks * vfs.f_frsize : 0;
    uint64_t pages = fs ? fs / 16 / (uint64_t)page : WAL_CHECKPOINT_PAGES;
    s->ckpt_pages = pages > WAL_CHECKPOINT_PAGES ? WAL_CHECKPOINT_PAGES
                    : pages < WAL_CHECKPOINT_MIN ? WAL_CHECKPOINT_MIN
                                                 : (int)pages;
    /* Pinned beyond four times the usual size: tell someone before it fills the disk. */
    s->wal_pinned_bytes = (int64_t)s->ckpt_pages * page * 4;
    uint64_t b = fs / 8;
    s->ballast_size = b > BALLAST_MAX ? BALLAST_MAX : b < BALLAST_MIN ? BALLAST_MIN : b;
}

static uint64_t wal_bytes(struct lw_store *s)
{
    const char *path = sqlite3_db_filename(s->db, "main");
    char wal[4096];
    struct stat st;
    if (path && snprintf(wal, sizeof(wal), "%s-wal", path) < (int)sizeof(wal) &&
        stat(wal, &st) == 0)
        return (uint64_t)st.st_size;
    return 0;
}

/* Reset the WAL to nothing, without waiting: a reader that still needs its frames (a long
 * report, a technician's sqlite3) makes it fail, and the WAL grows until that reader ends. */
static void checkpoint(struct lw_store *s)
{
    int log = 0, done = 0;
    sqlite3_busy_timeout(s->db, 0);
    int rc = sqlite3_wal_checkpoint_v2(s->db, NULL, SQLITE_CHECKPOINT_TRUNCATE, &log, &done);
    sqlite3_busy_timeout(s->db, 2000);
    s->wal_pages = 0;
    if (rc == SQLITE_OK) {
        s->stats.wal_truncated++;
        s->pinned_runs = 0;
        if (s->trouble == LW_STORE_WAL_PINNED) {
            lw_log(LW_LOG_NOTICE, "database: the WAL was reset again");
            s->trouble = LW_STORE_OK;
        }
        return;
    }
    s->stats.checkpoints_pinned++;
    s->pinned_runs++;
    if ((rc & 0xFF) == SQLITE_BUSY || (rc & 0xFF) == SQLITE_LOCKED) {
        if (s->trouble == LW_STORE_OK && (int64_t)wal_bytes(s) > s->wal_pinned_bytes) {
            lw_log(LW_LOG_ERR,
                   "database: a reader keeps the WAL from being reset (%llu KiB); "
                   "end long reports or sqlite3 sessions on the database",
                   (unsigned long long)(wal_bytes(s) / 1024));
            s->trouble = LW_STORE_WAL_PINNED;
        }
    } else {
        note_failure(s, rc);
    }
}

enum lw_store_trouble lw_store_trouble(const struct lw_store *s)
{
    return s->trouble;
}

const char *lw_store_trouble_name(enum lw_store_trouble t)
{
    static const char *const names[] = {"ok", "full", "io_error", "wal_pinned"};
    return (unsigned)t < sizeof(names) / sizeof(names[0]) ? names[t] : "?";
}

bool lw_store_ballast_just_released(struct lw_store *s)
{
    bool r = s->ballast_released_now;
    s->ballast_released_now = false;
    return r;
}

uint64_t lw_store_ballast_bytes(const struct lw_store *s)
{
    return s->ballast_present ? s->ballast_size : 0;
}

enum lw_store_trouble lw_store_tick(struct lw_store *s)
{
    if (s->trouble == LW_STORE_WAL_PINNED) {
        if (s->in_txn)
            commit(s, false);
        checkpoint(s);
        return s->trouble;
    }
    /* Space for alerts first: until the ballast is back, the disk is not writable for readings. */
    if (!s->ballast_present && ballast_make(s) != LW_OK) {
        if (s->trouble == LW_STORE_OK && s->stats.ballast_released) {
            lw_log(LW_LOG_WARNING, "database: space is low (no room for the ballast): readings "
                                   "are shed");
            s->trouble = LW_STORE_FULL;
        }
        return s->trouble;
    }
    if (!shedding(s)) {
        /* Commits that carried alerts skip the checkpoint; a quiet second makes up for it. */
        if (!s->in_txn && s->wal_pages >= s->ckpt_pages)
            checkpoint(s);
        return s->trouble;
    }
    /* A small write and a commit prove the disk takes writes again. */
    enum lw_store_trouble was = s->trouble;
    char sql[128], e2[256];
    snprintf(sql, sizeof(sql),
             "INSERT INTO meta(key, value) VALUES('store_probe', '%lld') ON CONFLICT(key) DO "
             "UPDATE SET value = excluded.value",
             (long long)time(NULL));
    s->trouble = LW_STORE_OK;
    if (begin(s) != LW_OK || exec(s, sql, e2, sizeof(e2)) != LW_OK || commit(s, false) != LW_OK) {
        if (s->trouble == LW_STORE_OK)
            s->trouble = was;
        return s->trouble;
    }
    checkpoint(s);
    lw_log(LW_LOG_NOTICE, "database: writable again (%s is over)", lw_store_trouble_name(was));
    return s->trouble;
}

/* Run a prepared statement to completion and reset it. */
static int run(struct lw_store *s, sqlite3_stmt *q)
{
    int rc = sqlite3_step(q);
    sqlite3_reset(q);
    sqlite3_clear_bindings(q);
    if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
        lw_log_rl(LW_LOG_ERR, "database: %s", sqlite3_errmsg(s->db));
        note_failure(s, rc);
        if (s->in_txn && sqlite3_get_autocommit(s->db)) {
            /* SQLite rolled the transaction back by itself (SQLITE_FULL, IOERR ...). */
            lw_rollup_discard(s->rollup);
            s->stats.commit_failures++;
            s->stats.readings_lost += s->pending;
            s->in_txn = false;
            s->pending = 0;
        }
        return LW_ERR_DB;
    }
    return LW_OK;
}

/* A transaction that moved acknowledged rows out of the outbox and ended without a commit
 * (rolled back by SQLite, by a failed COMMIT or by a spool flush) put those rows back. */
static void settle_acks(struct lw_store *s)
{
    if (s->txn_acks && !s->in_txn) {
        s->txn_acks = false;
        s->acks_lost = true;
    }
}

static int begin(struct lw_store *s)
{
    if (s->in_txn)
        return LW_OK;
    settle_acks(s);
    if (run(s, s->st[ST_BEGIN]) != LW_OK)
        return LW_ERR_DB;
    s->in_txn = true;
    /* After start-up or a rolled back batch: roll up the committed readings the rollups miss.
     * A failure leaves that for the next transaction. */
    if (lw_rollup_begin(s->rollup) != LW_OK)
        lw_log_rl(LW_LOG_ERR, "database: recovering the rollups failed; retried");
    return LW_OK;
}

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* all: write every node's open hour too (at close). */
static int commit(struct lw_store *s, bool all)
{
    if (!s->in_txn)
        return LW_OK;
    /* What the batch owes the rollups goes in its own transaction: both or neither. */
    int rc = lw_rollup_flush(s->rollup, mono_ms(), all);
    /* In WAL mode synchronous=NORMAL leaves a commit to be made durable by the next checkpoint:
     * fine for readings (a power cut loses at most the last batches), not for an alert, which
     * must be on disk before it is published. FULL fsyncs the log at this commit. */
    if (s->urgent)
        sqlite3_exec(s->db, "PRAGMA synchronous=FULL", NULL, NULL, NULL);
    if (rc == LW_OK)
        rc = run(s, s->st[ST_COMMIT]);
    if (s->urgent)
        sqlite3_exec(s->db, "PRAGMA synchronous=NORMAL", NULL, NULL, NULL);
    if (rc != LW_OK && !s->in_txn)
        return rc; /* SQLite already rolled back; run() counted the loss */
    if (rc != LW_OK) {
        /* COMMIT can fail (disk full, I/O error); the transaction must not stay open. */
        note_failure(s, sqlite3_extended_errcode(s->db));
        if (!sqlite3_get_autocommit(s->db))
            run(s, s->st[ST_ROLLBACK]);
        lw_rollup_discard(s->rollup);
        s->stats.commit_failures++;
        s->stats.readings_lost += s->pending;
        lw_log_rl(LW_LOG_ERR, "database: commit failed, %zu readings lost", s->pending);
    } else {
        s->stats.commits++;
        s->stats.readings_committed += s->pending;
        s->txn_acks = false;
    }
    s->in_txn = false;
    s->pending = 0;
    if (!s->urgent && s->wal_pages >= s->ckpt_pages)
        checkpoint(s);
    s->urgent = false;
    return rc;
}

int lw_store_commit(struct lw_store *s)
{
    return commit(s, false);
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
    if (shedding(s)) {
        s->stats.readings_lost++;
        return LW_ERR_DB;
    }
    if (begin(s) != LW_OK) {
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
    if (run(s, q) != LW_OK)
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

int lw_store_set_boot(struct lw_store *s, const char *boot_id)
{
    sqlite3_stmt *q;
    char *old = NULL;
    if (lw_store_commit(s) != LW_OK)
        return LW_ERR_DB;
    if (sqlite3_prepare_v2(s->db, "SELECT value FROM meta WHERE key = 'boot_id'", -1, &q, NULL) !=
        SQLITE_OK)
        return LW_ERR_DB;
    if (sqlite3_step(q) == SQLITE_ROW)
        old = sqlite3_mprintf("%s", sqlite3_column_text(q, 0));
    sqlite3_finalize(q);
    int rc = LW_OK;
    if (!old || strcmp(old, boot_id) != 0) {
        char *sql = sqlite3_mprintf(
            "BEGIN;"
            "UPDATE readings SET packed = (packed & ~%lld) | (%d << %d), mono_ms = NULL WHERE "
            "time_quality = %d;"
            "DELETE FROM clock_pending;"
            "INSERT INTO meta(key, value) VALUES('boot_id', %Q) "
            "ON CONFLICT(key) DO UPDATE SET value = excluded.value;"
            "COMMIT;",
            (long long)PACKED_TQ_MASK, LW_TIME_UNKNOWN, PACKED_TQ_SHIFT, LW_TIME_PENDING, boot_id);
        char e2[256];
        rc = sql ? exec(s, sql, e2, sizeof(e2)) : LW_ERR_NOMEM;
        if (rc != LW_OK) {
            exec(s, "ROLLBACK", e2, sizeof(e2));
            lw_log(LW_LOG_ERR, "database: recording the boot id failed");
        }
        sqlite3_free(sql);
    }
    sqlite3_free(old);
    return rc;
}

int lw_store_each_recent(struct lw_store *s, uint16_t node, int64_t since_ms, int64_t span_ms,
                         void (*fn)(void *arg, int64_t t_ms, const struct lw_reading *r),
                         void *arg)
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
    static const uint32_t bit[8] = {LW_R_WATER, LW_R_SMOKE, LW_R_SMOKE,   LW_R_GAS,
                                    LW_R_CO,    LW_R_TEMP,  LW_R_BATTERY, LW_R_FLAGS};
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        struct lw_reading r;
        memset(&r, 0, sizeof(r));
        int v[8];
        for (int c = 0; c < 8; c++) {
            v[c] = sqlite3_column_int(q, 1 + c);
            if (sqlite3_column_type(q, 1 + c) != SQLITE_NULL)
                r.present |= bit[c];
        }
        r.water_mm = (uint16_t)v[0];
        r.smoke_alarm = (uint8_t)v[1];
        r.smoke_obscuration = (uint16_t)v[2];
        r.gas_lel_x10 = (uint16_t)v[3];
        r.co_ppm = (uint16_t)v[4];
        r.temp_c_x10 = (int16_t)v[5];
        r.battery_mv = (uint16_t)v[6];
        r.flags = (uint8_t)v[7];
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

/* Readings stored with a provisional time join the rollups once their time is known. */
static void rollup_pending(struct lw_store *s, int64_t offset_ms)
{
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(s->db,
                           "SELECT node, mono_ms, water_mm, smoke, obscuration, gas_lel_x10, "
                           "co_ppm, temp_x10, battery_mv, flags FROM readings WHERE "
                           "time_quality = 1 ORDER BY node, mono_ms",
                           -1, &q, NULL) != SQLITE_OK)
        return;
    static const uint32_t bit[8] = {LW_R_WATER, LW_R_SMOKE, LW_R_SMOKE,   LW_R_GAS,
                                    LW_R_CO,    LW_R_TEMP,  LW_R_BATTERY, LW_R_FLAGS};
    while (sqlite3_step(q) == SQLITE_ROW) {
        struct lw_reading r;
        memset(&r, 0, sizeof(r));
        int v[8];
        for (int c = 0; c < 8; c++) {
            v[c] = sqlite3_column_int(q, 2 + c);
            if (sqlite3_column_type(q, 2 + c) != SQLITE_NULL)
                r.present |= bit[c];
        }
        r.water_mm = (uint16_t)v[0];
        r.smoke_alarm = (uint8_t)v[1];
        r.smoke_obscuration = (uint16_t)v[2];
        r.gas_lel_x10 = (uint16_t)v[3];
        r.co_ppm = (uint16_t)v[4];
        r.temp_c_x10 = (int16_t)v[5];
        r.battery_mv = (uint16_t)v[6];
        r.flags = (uint8_t)v[7];
        lw_rollup_add(s->rollup, (uint16_t)sqlite3_column_int(q, 0),
                      sqlite3_column_int64(q, 1) + offset_ms, &r);
    }
    sqlite3_finalize(q);
}

/* The alert side's times, as listed in clock_pending by the triggers below: table, its key,
 * the time column. */
static const struct {
    const char *table, *key, *col;
} alert_times[] = {
    {"alerts", "id", "raised_ms"},    {"alerts", "id", "cleared_ms"},
    {"alerts", "id", "acked_ms"},     {"alert_journal", "id", "ts_ms"},
    {"incidents", "id", "opened_ms"}, {"incidents", "id", "closed_ms"},
    {"silences", "id", "created_ms"}, {"silences", "id", "until_ms"},
    {"silences", "id", "lifted_ms"},  {"outbox_sent", "seq", "acked_ms"},
};

/* Temporary triggers (this connection only) list every alert-side time written while the clock
 * is unsynchronised, with the clock's offset then: written here once, rather than at each of the
 * places that write a time, so none is missed. A row rewritten keeps its latest offset. */
static const char unsynced_triggers[] =
    "CREATE TEMP TRIGGER IF NOT EXISTS lw_unsynced_alert AFTER INSERT ON main.alerts BEGIN "
    "INSERT OR REPLACE INTO clock_pending VALUES('alerts.raised_ms', NEW.id, lw_clock_offset()); "
    "END;"
    "CREATE TEMP TRIGGER IF NOT EXISTS lw_unsynced_cleared AFTER UPDATE OF cleared_ms ON "
    "main.alerts WHEN NEW.cleared_ms IS NOT NULL AND NEW.cleared_ms IS NOT OLD.cleared_ms BEGIN "
    "INSERT OR REPLACE INTO clock_pending VALUES('alerts.cleared_ms', NEW.id, lw_clock_offset()); "
    "END;"
    "CREATE TEMP TRIGGER IF NOT EXISTS lw_unsynced_acked AFTER UPDATE OF acked_ms ON main.alerts "
    "WHEN NEW.acked_ms IS NOT NULL AND NEW.acked_ms IS NOT OLD.acked_ms BEGIN "
    "INSERT OR REPLACE INTO clock_pending VALUES('alerts.acked_ms', NEW.id, lw_clock_offset()); "
    "END;"
    "CREATE TEMP TRIGGER IF NOT EXISTS lw_unsynced_journal AFTER INSERT ON main.alert_journal "
    "BEGIN INSERT OR REPLACE INTO clock_pending VALUES('alert_journal.ts_ms', NEW.id, "
    "lw_clock_offset()); END;"
    "CREATE TEMP TRIGGER IF NOT EXISTS lw_unsynced_incident AFTER INSERT ON main.incidents BEGIN "
    "INSERT OR REPLACE INTO clock_pending VALUES('incidents.opened_ms', NEW.id, "
    "lw_clock_offset()); END;"
    "CREATE TEMP TRIGGER IF NOT EXISTS lw_unsynced_incident_closed AFTER UPDATE OF closed_ms ON "
    "main.incidents WHEN NEW.closed_ms IS NOT NULL AND NEW.closed_ms IS NOT OLD.closed_ms BEGIN "
    "INSERT OR REPLACE INTO clock_pending VALUES('incidents.closed_ms', NEW.id, "
    "lw_clock_offset()); END;"
    "CREATE TEMP TRIGGER IF NOT EXISTS lw_unsynced_silence AFTER INSERT ON main.silences BEGIN "
    "INSERT OR REPLACE INTO clock_pending VALUES('silences.created_ms', NEW.id, "
    "lw_clock_offset()); INSERT OR REPLACE INTO clock_pending VALUES('silences.until_ms', NEW.id, "
    "lw_clock_offset()); END;"
    "CREATE TEMP TRIGGER IF NOT EXISTS lw_unsynced_silence_end AFTER UPDATE OF lifted_ms ON "
    "main.silences WHEN NEW.lifted_ms IS NOT NULL AND NEW.lifted_ms IS NOT OLD.lifted_ms BEGIN "
    "INSERT OR REPLACE INTO clock_pending VALUES('silences.lifted_ms', NEW.id, "
    "lw_clock_offset()); END;"
    "CREATE TEMP TRIGGER IF NOT EXISTS lw_unsynced_sent AFTER INSERT ON main.outbox_sent BEGIN "
    "INSERT OR REPLACE INTO clock_pending VALUES('outbox_sent.acked_ms', NEW.seq, "
    "lw_clock_offset()); END;";

static const char synced_triggers[] =
    "DROP TRIGGER IF EXISTS temp.lw_unsynced_alert;"
    "DROP TRIGGER IF EXISTS temp.lw_unsynced_cleared;"
    "DROP TRIGGER IF EXISTS temp.lw_unsynced_acked;"
    "DROP TRIGGER IF EXISTS temp.lw_unsynced_journal;"
    "DROP TRIGGER IF EXISTS temp.lw_unsynced_incident;"
    "DROP TRIGGER IF EXISTS temp.lw_unsynced_incident_closed;"
    "DROP TRIGGER IF EXISTS temp.lw_unsynced_silence;"
    "DROP TRIGGER IF EXISTS temp.lw_unsynced_silence_end;"
    "DROP TRIGGER IF EXISTS temp.lw_unsynced_sent;";

/* lw_clock_offset(): wall - monotonic clock now, in ms. */
static void sql_clock_offset(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    (void)argc;
    (void)argv;
    struct timespec w;
    clock_gettime(CLOCK_REALTIME, &w);
    sqlite3_result_int64(ctx, (int64_t)w.tv_sec * 1000 + w.tv_nsec / 1000000 - mono_ms());
}

int lw_store_set_unsynced(struct lw_store *s, bool unsynced)
{
    char e2[256] = "";
    lw_store_commit(s); /* rows of the open batch were written under the state before */
    int rc = exec(s, unsynced ? unsynced_triggers : synced_triggers, e2, sizeof(e2));
    if (rc != LW_OK)
        lw_log(LW_LOG_ERR, "database: %s: %s",
               unsynced ? "marking times written before the clock is right"
                        : "ending the marks of unsynchronised times",
               e2);
    return rc;
}

/* Open alerts raised while unsynchronised: their raise message, which says when, is retimed. */
static int retime_open(struct lw_store *s, int64_t offset_ms, lw_store_retime_fn retime, void *arg)
{
    sqlite3_stmt *q, *u;
    if (sqlite3_prepare_v2(s->db,
                           "SELECT a.id, ?1 - p.off_ms, a.message, a.raised_ms + ?1 - p.off_ms "
                           "FROM clock_pending p JOIN "
                           "alerts a ON a.id = p.rid WHERE p.what = 'alerts.raised_ms' AND "
                           "a.state = 'raised' ORDER BY a.id",
                           -1, &q, NULL) != SQLITE_OK)
        return LW_ERR_DB;
    if (sqlite3_prepare_v2(s->db, "UPDATE alerts SET message = ?2 WHERE id = ?1", -1, &u, NULL) !=
        SQLITE_OK) {
        sqlite3_finalize(q);
        return LW_ERR_DB;
    }
    sqlite3_bind_int64(q, 1, offset_ms);
    int rc = LW_OK;
    while (rc == LW_OK && sqlite3_step(q) == SQLITE_ROW) {
        int64_t id = sqlite3_column_int64(q, 0);
        char *m = retime(arg, id, sqlite3_column_int64(q, 1), sqlite3_column_int64(q, 3),
                         (const char *)sqlite3_column_text(q, 2));
        if (m) {
            sqlite3_bind_int64(u, 1, id);
            sqlite3_bind_text(u, 2, m, -1, SQLITE_TRANSIENT);
            rc = run(s, u);
            free(m);
        }
    }
    sqlite3_finalize(q);
    sqlite3_finalize(u);
    return rc;
}

/* The alert side's times listed in clock_pending, put right by offset_ms - their offset. */
static long fix_alert_times(struct lw_store *s, int64_t offset_ms, lw_store_retime_fn retime,
                            void *arg, char *err, size_t errcap)
{
    long n = 0;
    if (retime && retime_open(s, offset_ms, retime, arg) != LW_OK) {
        snprintf(err, errcap, "retiming open alerts: %s", sqlite3_errmsg(s->db));
        return LW_ERR_DB;
    }
    for (size_t i = 0; i < sizeof(alert_times) / sizeof(alert_times[0]); i++) {
        char *sql = sqlite3_mprintf(
            "UPDATE %s SET %s = %s + %lld - (SELECT p.off_ms FROM clock_pending p WHERE p.what = "
            "'%s.%s' AND p.rid = %s.%s) WHERE %s IN (SELECT rid FROM clock_pending WHERE what = "
            "'%s.%s') AND %s IS NOT NULL",
            alert_times[i].table, alert_times[i].col, alert_times[i].col, (long long)offset_ms,
            alert_times[i].table, alert_times[i].col, alert_times[i].table, alert_times[i].key,
            alert_times[i].key, alert_times[i].table, alert_times[i].col, alert_times[i].col);
        int rc = sql ? exec(s, sql, err, errcap) : LW_ERR_NOMEM;
        sqlite3_free(sql);
        if (rc != LW_OK)
            return rc;
        n += sqlite3_changes(s->db);
    }
    return exec(s, "DELETE FROM clock_pending", err, errcap) == LW_OK ? n : LW_ERR_DB;
}

long lw_store_fix_times(struct lw_store *s, int64_t offset_ms, lw_store_retime_fn retime, void *arg)
{
    char *sql = sqlite3_mprintf("UPDATE readings SET ts_ms = mono_ms + %lld, mono_ms = NULL, "
                                "packed = (packed & ~%lld) | (%d << %d) WHERE time_quality = %d",
                                (long long)offset_ms, (long long)PACKED_TQ_MASK, LW_TIME_CORRECTED,
                                PACKED_TQ_SHIFT, LW_TIME_PENDING);
    char e2[256] = "";
    if (!sql)
        return LW_ERR_NOMEM;
    /* Pending rows of the open batch are included: the update runs inside it, then commits.
     * All or nothing (a savepoint): a time corrected twice would be wrong again. */
    int rc = begin(s);
    if (rc == LW_OK)
        rc = exec(s, "SAVEPOINT fix_times", e2, sizeof(e2));
    if (rc == LW_OK)
        rollup_pending(s, offset_ms);
    rc = rc == LW_OK ? exec(s, sql, e2, sizeof(e2)) : LW_ERR_DB;
    sqlite3_free(sql);
    long n = rc == LW_OK ? (long)sqlite3_changes(s->db) : LW_ERR_DB;
    /* The alerts raised on those readings, and all else written meanwhile, in the same go. */
    long other = rc == LW_OK ? fix_alert_times(s, offset_ms, retime, arg, e2, sizeof(e2)) : 0;
    if (other < 0)
        n = LW_ERR_DB;
    if (n < 0) {
        char e3[64];
        lw_log(LW_LOG_ERR,
               "database: correcting times written before the clock was right "
               "failed: %s",
               e2);
        if (s->in_txn && !sqlite3_get_autocommit(s->db)) {
            exec(s, "ROLLBACK TO fix_times", e3, sizeof(e3));
            exec(s, "RELEASE fix_times", e3, sizeof(e3));
        }
        lw_rollup_discard(s->rollup); /* recovered from the committed readings later */
    } else {
        exec(s, "RELEASE fix_times", e2, sizeof(e2));
    }
    if (lw_store_commit(s) != LW_OK && n >= 0)
        n = LW_ERR_DB;
    else if (other > 0)
        lw_log(LW_LOG_NOTICE,
               "database: %ld alert, journal, incident and silence times written "
               "before the clock was right corrected",
               other);
    return n;
}

int lw_store_sync_nodes(struct lw_store *s, const struct lw_config *cfg)
{
    static const char sql[] =
        "INSERT INTO nodes(address, name, eui, kind, label, building, floor, unit, grid, place, "
        "tags) VALUES(?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT(address) DO UPDATE SET "
        "name=excluded.name, eui=excluded.eui, kind=excluded.kind, label=excluded.label, "
        "building=excluded.building, floor=excluded.floor, unit=excluded.unit, "
        "grid=excluded.grid, place=excluded.place, tags=excluded.tags";
    sqlite3_stmt *q;
    if (lw_store_commit(s) != LW_OK || begin(s) != LW_OK)
        return LW_ERR_DB;
    if (sqlite3_prepare_v2(s->db, sql, -1, &q, NULL) != SQLITE_OK) {
        lw_log(LW_LOG_ERR, "database: %s", sqlite3_errmsg(s->db));
        run(s, s->st[ST_ROLLBACK]);
        s->in_txn = false;
        return LW_ERR_DB;
    }
    int rc = LW_OK;
    for (size_t i = 0; i < cfg->n_nodes && rc == LW_OK; i++) {
        const struct lw_node_conf *n = &cfg->nodes[i];
        char eui[17];
        for (int b = 0; b < 8; b++)
            snprintf(eui + 2 * b, 3, "%02X", n->eui[b]);
        const char *text[] = {n->name,  eui,         lw_kind_name(n->kind),
                              n->label, n->building, n->floor,
                              n->unit,  n->grid,     n->place,
                              n->tags};
        sqlite3_bind_int(q, 1, n->address);
        for (int t = 0; t < 10; t++)
            sqlite3_bind_text(q, t + 2, text[t], -1, SQLITE_STATIC);
        rc = run(s, q);
    }
    sqlite3_finalize(q);
    if (rc != LW_OK) {
        run(s, s->st[ST_ROLLBACK]);
        s->in_txn = false;
        return rc;
    }
    return lw_store_commit(s);
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

int lw_store_alert_insert(struct lw_store *s, int64_t id, const char *rule, const char *hazard,
                          const char *level, uint16_t node, int64_t t_ms, double value,
                          double threshold, const char *message)
{
    if (begin(s) != LW_OK)
        return LW_ERR_DB;
    s->urgent = true;
    sqlite3_stmt *q = s->st[ST_ALERT_INSERT];
    sqlite3_bind_int64(q, 1, id);
    sqlite3_bind_text(q, 2, rule, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 3, hazard, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 4, level, -1, SQLITE_STATIC);
    sqlite3_bind_int(q, 5, node);
    sqlite3_bind_int64(q, 6, t_ms);
    sqlite3_bind_double(q, 7, value);
    sqlite3_bind_double(q, 8, threshold);
    if (message)
        sqlite3_bind_text(q, 9, message, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(q, 9);
    return run(s, q);
}

int64_t lw_store_alert_id_floor(struct lw_store *s)
{
    sqlite3_stmt *q;
    int64_t floor = 0;
    if (sqlite3_prepare_v2(s->db,
                           "SELECT max(coalesce((SELECT max(id) FROM alerts), 0), coalesce((SELECT "
                           "CAST(value AS INTEGER) FROM meta WHERE key = 'alert_id_reserved'), 0))",
                           -1, &q, NULL) != SQLITE_OK)
        return LW_ERR_DB;
    if (sqlite3_step(q) == SQLITE_ROW)
        floor = sqlite3_column_int64(q, 0);
    sqlite3_finalize(q);
    return floor;
}

int lw_store_reserve_alert_ids(struct lw_store *s, int64_t upto)
{
    char sql[160], e2[256] = "";
    snprintf(sql, sizeof(sql),
             "INSERT INTO meta(key, value) VALUES('alert_id_reserved', '%lld') ON CONFLICT(key) "
             "DO UPDATE SET value = excluded.value",
             (long long)upto);
    if (begin(s) != LW_OK)
        return LW_ERR_DB;
    return exec(s, sql, e2, sizeof(e2));
}

int64_t lw_store_incident_id_floor(struct lw_store *s)
{
    sqlite3_stmt *q;
    int64_t floor = 0;
    if (sqlite3_prepare_v2(
            s->db,
            "SELECT max(coalesce((SELECT max(id) FROM incidents), 0), coalesce((SELECT "
            "CAST(value AS INTEGER) FROM meta WHERE key = 'incident_id_reserved'), "
            "0))",
            -1, &q, NULL) != SQLITE_OK)
        return LW_ERR_DB;
    if (sqlite3_step(q) == SQLITE_ROW)
        floor = sqlite3_column_int64(q, 0);
    sqlite3_finalize(q);
    return floor;
}

int lw_store_reserve_incident_ids(struct lw_store *s, int64_t upto)
{
    char sql[160], e2[256] = "";
    snprintf(sql, sizeof(sql),
             "INSERT INTO meta(key, value) VALUES('incident_id_reserved', '%lld') ON "
             "CONFLICT(key) DO UPDATE SET value = excluded.value",
             (long long)upto);
    if (begin(s) != LW_OK)
        return LW_ERR_DB;
    return exec(s, sql, e2, sizeof(e2));
}

int lw_store_savepoint(struct lw_store *s)
{
    char e2[256] = "";
    s->last_err = SQLITE_OK; /* lw_store_last_error then speaks of what follows */
    if (begin(s) != LW_OK)
        return LW_ERR_DB;
    return exec(s, "SAVEPOINT transition", e2, sizeof(e2));
}

void lw_store_savepoint_end(struct lw_store *s, bool ok)
{
    char e2[256] = "";
    if (!ok)
        exec(s, "ROLLBACK TO transition", e2, sizeof(e2));
    exec(s, "RELEASE transition", e2, sizeof(e2));
    /* SQLite may have rolled the whole transaction back by itself (disk full, I/O error). */
    if (s->in_txn && sqlite3_get_autocommit(s->db)) {
        lw_rollup_discard(s->rollup);
        s->stats.readings_lost += s->pending;
        s->in_txn = false;
        s->pending = 0;
    }
}

int lw_store_alert_set_state(struct lw_store *s, int64_t id, const char *state, int64_t t_ms)
{
    if (begin(s) != LW_OK)
        return LW_ERR_DB;
    s->urgent = true;
    sqlite3_stmt *q = s->st[ST_ALERT_STATE];
    sqlite3_bind_text(q, 1, state, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 2, state, -1, SQLITE_STATIC);
    sqlite3_bind_int64(q, 3, t_ms);
    sqlite3_bind_int64(q, 4, id);
    return run(s, q);
}

int lw_store_journal(struct lw_store *s, int64_t alert, int64_t t_ms, const char *event,
                     const char *detail)
{
    if (begin(s) != LW_OK)
        return LW_ERR_DB;
    sqlite3_stmt *q = s->st[ST_JOURNAL];
    sqlite3_bind_int64(q, 1, alert);
    sqlite3_bind_int64(q, 2, t_ms);
    sqlite3_bind_text(q, 3, event, -1, SQLITE_STATIC);
    if (detail)
        sqlite3_bind_text(q, 4, detail, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(q, 4);
    return run(s, q);
}

int lw_store_outbox_add(struct lw_store *s, int64_t alert, const char *topic, const char *payload,
                        bool retain, int64_t *seq)
{
    if (begin(s) != LW_OK)
        return LW_ERR_DB;
    sqlite3_stmt *q = s->st[ST_OUTBOX_ADD];
    if (alert > 0)
        sqlite3_bind_int64(q, 1, alert);
    else
        sqlite3_bind_null(q, 1);
    sqlite3_bind_text(q, 2, topic, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 3, payload, -1, SQLITE_STATIC);
    sqlite3_bind_int(q, 4, retain);
    if (run(s, q) != LW_OK)
        return LW_ERR_DB;
    *seq = sqlite3_last_insert_rowid(s->db);
    return LW_OK;
}

static int outbox_done(struct lw_store *s, int64_t seq, int64_t *alert);

int lw_store_outbox_done(struct lw_store *s, int64_t seq, int64_t *alert)
{
    /* Joins the reading batch: losing this delete in a crash only means one more redelivery.
     * Losing it while running (a failed write, a rolled-back batch) leaves a row in the outbox
     * that the MQTT client has already forgotten: lw_store_outbox_acks_lost tells the owner. */
    int rc = outbox_done(s, seq, alert);
    if (rc != LW_OK)
        s->acks_lost = true;
    return rc;
}

bool lw_store_outbox_acks_lost(struct lw_store *s)
{
    settle_acks(s);
    bool lost = s->acks_lost;
    s->acks_lost = false;
    return lost;
}

static int outbox_done(struct lw_store *s, int64_t seq, int64_t *alert)
{
    if (begin(s) != LW_OK)
        return LW_ERR_DB;
    s->txn_acks = true;
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    sqlite3_stmt *k = s->st[ST_SENT_ADD];
    sqlite3_bind_int64(k, 1, seq);
    sqlite3_bind_int64(k, 2, (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000);
    if (run(s, k) != LW_OK)
        return LW_ERR_DB;
    k = s->st[ST_SENT_SUPERSEDED];
    sqlite3_bind_int64(k, 1, seq);
    if (run(s, k) != LW_OK)
        return LW_ERR_DB;
    sqlite3_stmt *q = s->st[ST_OUTBOX_DONE];
    sqlite3_bind_int64(q, 1, seq);
    int rc = sqlite3_step(q);
    *alert = rc == SQLITE_ROW ? sqlite3_column_int64(q, 0) : 0;
    while (rc == SQLITE_ROW)
        rc = sqlite3_step(q);
    sqlite3_reset(q);
    sqlite3_clear_bindings(q);
    if (rc != SQLITE_DONE) {
        lw_log_rl(LW_LOG_ERR, "database: %s", sqlite3_errmsg(s->db));
        return LW_ERR_DB;
    }
    return LW_OK;
}

int lw_store_each_outbox(struct lw_store *s, int64_t after,
                         void (*fn)(void *arg, int64_t seq, const char *topic, const char *payload,
                                    bool retain),
                         void *arg)
{
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(s->db,
                           "SELECT seq, topic, payload, retain FROM outbox WHERE seq > ? ORDER BY seq",
                           -1, &q, NULL) != SQLITE_OK)
        return LW_ERR_DB;
    sqlite3_bind_int64(q, 1, after);
    while (sqlite3_step(q) == SQLITE_ROW)
        fn(arg, sqlite3_column_int64(q, 0), (const char *)sqlite3_column_text(q, 1),
           (const char *)sqlite3_column_text(q, 2), sqlite3_column_int(q, 3) != 0);
    sqlite3_finalize(q);
    return LW_OK;
}

static int query_int64(struct lw_store *s, const char *sql, int64_t arg, int64_t *out)
{
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(s->db, sql, -1, &q, NULL) != SQLITE_OK)
        return LW_ERR_DB;
    sqlite3_bind_int64(q, 1, arg);
    int rc = sqlite3_step(q) == SQLITE_ROW ? LW_OK : LW_ERR_DB;
    *out = rc == LW_OK ? sqlite3_column_int64(q, 0) : 0;
    sqlite3_finalize(q);
    return rc;
}

int lw_store_outbox_mark(struct lw_store *s, int64_t *acked, int64_t *last)
{
    int rc = query_int64(s,
                         "SELECT coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'outbox'), "
                         "0)",
                         0, last);
    if (rc == LW_OK)
        rc = query_int64(s, "SELECT coalesce((SELECT min(seq) - 1 FROM outbox), ?)", *last, acked);
    return rc;
}

int lw_store_outbox_requeue(struct lw_store *s, int64_t after, int64_t *moved)
{
    *moved = 0;
    int64_t lost;
    if (query_int64(s, "SELECT count(*) FROM outbox_sent WHERE seq > ?", after, &lost) != LW_OK)
        return LW_ERR_DB;
    if (lost == 0)
        return LW_OK;
    /* What the broker lost, and the open alerts' state whatever it still has: a snapshot can
     * be older than its mark says, and a page that is re-sent costs a duplicate, one that is
     * not costs a person who never hears of the alert. */
    sqlite3_stmt *q;
    if (begin(s) != LW_OK ||
        sqlite3_prepare_v2(
            s->db,
            "INSERT INTO outbox(seq, alert, topic, payload, retain) "
            "SELECT seq, alert, topic, payload, retain FROM outbox_sent o WHERE seq > ?1 OR "
            "alert IN (SELECT id FROM alerts WHERE state NOT IN ('cleared', 'closed') AND "
            "(o.retain = 1 OR acked_ms IS NULL)) AND "
            "(retain = 0 OR seq = (SELECT max(seq) FROM outbox_sent k WHERE k.topic = o.topic))",
            -1, &q, NULL) != SQLITE_OK)
        return LW_ERR_DB;
    sqlite3_bind_int64(q, 1, after);
    int rc = sqlite3_step(q) == SQLITE_DONE ? LW_OK : LW_ERR_DB;
    sqlite3_finalize(q);
    char err[160];
    if (rc == LW_OK) {
        *moved = sqlite3_changes64(s->db);
        rc = exec(s, "DELETE FROM outbox_sent WHERE seq IN (SELECT seq FROM outbox)", err,
                  sizeof(err));
    }
    if (rc != LW_OK)
        lw_log_rl(LW_LOG_ERR, "database: %s", sqlite3_errmsg(s->db));
    return rc;
}

int lw_store_outbox_prune(struct lw_store *s, int64_t before_ms)
{
    sqlite3_stmt *q;
    if (begin(s) != LW_OK ||
        sqlite3_prepare_v2(
            s->db,
            "DELETE FROM outbox_sent AS o WHERE acked_ms < ?1 AND NOT (alert IN (SELECT id FROM "
            "alerts WHERE state NOT IN ('cleared', 'closed')) AND (retain = 0 OR seq = (SELECT "
            "max(seq) FROM outbox_sent k WHERE k.topic = o.topic)))",
            -1, &q, NULL) != SQLITE_OK)
        return LW_ERR_DB;
    sqlite3_bind_int64(q, 1, before_ms);
    int rc = sqlite3_step(q) == SQLITE_DONE ? LW_OK : LW_ERR_DB;
    sqlite3_finalize(q);
    return rc;
}

int64_t lw_store_outbox_count(struct lw_store *s)
{
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(s->db, "SELECT count(*) FROM outbox", -1, &q, NULL) != SQLITE_OK)
        return LW_ERR_DB;
    int64_t n = sqlite3_step(q) == SQLITE_ROW ? sqlite3_column_int64(q, 0) : LW_ERR_DB;
    sqlite3_finalize(q);
    return n;
}

uint64_t lw_store_size(struct lw_store *s)
{
    const char *path = sqlite3_db_filename(s->db, "main");
    uint64_t total = 0;
    struct stat st;
    char wal[4096];
    if (path && stat(path, &st) == 0)
        total += (uint64_t)st.st_size;
    if (path && snprintf(wal, sizeof(wal), "%s-wal", path) < (int)sizeof(wal) &&
        stat(wal, &st) == 0)
        total += (uint64_t)st.st_size;
    return total;
}

void lw_store_stats(const struct lw_store *s, struct lw_store_stats *out)
{
    *out = s->stats;
}

/* ---- for modules that keep their own tables in this database (lw_store_int.h) ---------- */

sqlite3 *lw_store_handle(struct lw_store *s)
{
    return s->db;
}

int lw_store_begin(struct lw_store *s)
{
    return begin(s);
}

int lw_store_step(struct lw_store *s, sqlite3_stmt *q)
{
    return run(s, q);
}

int lw_store_last_error(const struct lw_store *s)
{
    return s->last_err & 0xFF;
}

void lw_store_rollback(struct lw_store *s)
{
    if (!s->in_txn)
        return;
    if (!sqlite3_get_autocommit(s->db))
        run(s, s->st[ST_ROLLBACK]);
    lw_rollup_discard(s->rollup);
    s->stats.readings_lost += s->pending;
    s->in_txn = false;
    s->pending = 0;
    s->urgent = false;
}

/* ---- history (schema v5) ------------------------------------------------------------------ */

int64_t lw_store_tz_offset_ms(void)
{
    time_t now = time(NULL);
    struct tm tm;
    if (!localtime_r(&now, &tm))
        return 0;
    return (int64_t)tm.tm_gmtoff * 1000;
}

int lw_store_set_rules(struct lw_store *s, const struct lw_config *cfg)
{
    return lw_rollup_set_rules(s->rollup, cfg->rules, cfg->n_rules);
}

void lw_store_set_rollups(struct lw_store *s, bool on)
{
    s->rollups_off = !on;
}

void lw_store_set_retention(struct lw_store *s, uint32_t days)
{
    s->retention_ms = (int64_t)days * 86400000;
}

/* One step: the next node (in address order, round robin) that has readings older than the
 * cutoff loses its oldest ones, at most about max_rows. Every statement is an index seek. */
long lw_store_retention_step(struct lw_store *s, int64_t now_ms, long max_rows)
{
    if (s->retention_ms <= 0 || max_rows <= 0)
        return 0;
    int64_t cutoff = now_ms - s->retention_ms;
    sqlite3_stmt *next = NULL, *bound = NULL, *del = NULL;
    long deleted = 0;
    int rc = LW_OK;
    if (sqlite3_prepare_v2(s->db, "SELECT node FROM readings WHERE node > ? ORDER BY node LIMIT 1",
                           -1, &next, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(s->db,
                           "SELECT ts_ms FROM readings WHERE node = ?1 AND ts_ms < ?2 ORDER BY "
                           "ts_ms LIMIT 1 OFFSET ?3",
                           -1, &bound, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(s->db, "DELETE FROM readings WHERE node = ?1 AND ts_ms < ?2", -1, &del,
                           NULL) != SQLITE_OK) {
        rc = LW_ERR_DB;
        goto out;
    }
    /* A bounded number of probes per step, so a database with nothing due costs little. */
    for (int probe = 0; probe < 64 && deleted == 0 && rc == LW_OK; probe++) {
        sqlite3_bind_int64(next, 1, s->retention_node);
        int st = sqlite3_step(next);
        int64_t node = st == SQLITE_ROW ? sqlite3_column_int64(next, 0) : -1;
        sqlite3_reset(next);
        if (st != SQLITE_ROW && st != SQLITE_DONE) {
            rc = LW_ERR_DB;
            break;
        }
        if (node < 0) {
            if (s->retention_node < 0)
                break; /* no readings at all */
            s->retention_node = -1;
            continue;
        }
        /* Delete below the max_rows-th oldest expired reading, or all expired ones. */
        int64_t upto = cutoff;
        sqlite3_bind_int64(bound, 1, node);
        sqlite3_bind_int64(bound, 2, cutoff);
        sqlite3_bind_int64(bound, 3, max_rows);
        if (sqlite3_step(bound) == SQLITE_ROW)
            upto = sqlite3_column_int64(bound, 0);
        else
            s->retention_node = node; /* this node is done for now */
        sqlite3_reset(bound);
        if (begin(s) != LW_OK) {
            rc = LW_ERR_DB;
            break;
        }
        sqlite3_bind_int64(del, 1, node);
        sqlite3_bind_int64(del, 2, upto);
        if (run(s, del) != LW_OK) {
            rc = LW_ERR_DB;
            break;
        }
        deleted += sqlite3_changes(s->db);
    }
    if (rc == LW_OK && lw_store_commit(s) != LW_OK)
        rc = LW_ERR_DB;
out:
    sqlite3_finalize(next);
    sqlite3_finalize(bound);
    sqlite3_finalize(del);
    return rc == LW_OK ? deleted : rc;
}

sqlite3 *lw_store_open_readonly(const char *path, int min_version, char *err, size_t errcap)
{
    sqlite3 *db = NULL;
    struct stat st;
    if (stat(path, &st) != 0) {
        snprintf(err, errcap, "%s: no such database file", path);
        return NULL;
    }
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        snprintf(err, errcap, "%s: cannot open: %s", path, db ? sqlite3_errmsg(db) : "no memory");
        sqlite3_close(db);
        return NULL;
    }
    sqlite3_busy_timeout(db, 2000);
    int app = -1, ver = -1;
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(db, "PRAGMA application_id", -1, &q, NULL) == SQLITE_OK &&
        sqlite3_step(q) == SQLITE_ROW)
        app = sqlite3_column_int(q, 0);
    sqlite3_finalize(q);
    q = NULL;
    if (app != -1 && sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &q, NULL) == SQLITE_OK &&
        sqlite3_step(q) == SQLITE_ROW)
        ver = sqlite3_column_int(q, 0);
    sqlite3_finalize(q);
    if (app == -1 || ver == -1)
        snprintf(err, errcap, "%s: not a readable SQLite database (%s)", path,
                 sqlite3_errmsg(db));
    else if (app != LW_STORE_APP_ID)
        snprintf(err, errcap, "%s: not a lorawatch database", path);
    else if (ver > LW_SCHEMA_VERSION)
        snprintf(err, errcap,
                 "%s: schema version %d is newer than this lorawatch understands (%d); install "
                 "the newer lorawatch",
                 path, ver, LW_SCHEMA_VERSION);
    else if (ver < min_version)
        snprintf(err, errcap,
                 "%s: schema version %d is older than %d; start lorawatchd once to migrate it",
                 path, ver, min_version);
    else
        return db;
    sqlite3_close(db);
    return NULL;
}

int lw_store_alert_set_test(struct lw_store *s, int64_t id)
{
    sqlite3_stmt *q;
    if (begin(s) != LW_OK ||
        sqlite3_prepare_v2(s->db, "UPDATE alerts SET test = 1 WHERE id = ?", -1, &q, NULL) !=
            SQLITE_OK)
        return LW_ERR_DB;
    sqlite3_bind_int64(q, 1, id);
    int rc = run(s, q);
    sqlite3_finalize(q);
    return rc;
}
