/* SPDX-License-Identifier: Apache-2.0 */
/* The schema: creating a new file, migrating an older one step by step, refusing a file that is
 * not ours or is damaged, and the read-only opening used by history and reports. */
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lw_error.h"
#include "lw_log.h"
#include "lw_store_int.h"

/* Application id in the database header ("LWDB"): tells our file from any other SQLite file. */
#define LW_APP_ID 0x4C574442

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
 * Written only by the store (reading_packed/reading_sensors in lw_store_readings.c).
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

/* Version 11: what an acknowledgement said and who was on duty as it was.
 * alerts.ack_outcome / alert_journal.outcome: the acknowledgement's outcome (on_my_way,
 * false_alarm, test, dealt_with; NULL when none was given), so the review counts false alarms
 * from what the person chose, never from words in a note. alerts.peak: the highest value seen
 * while the alert was open (updates as water rises). roster_journal: the duty roster as it was
 * loaded, one row per person and period (to_ms NULL while the entry is in force), so a review
 * months later names people as they were. Append-only except for closing a period. New journal
 * events (no schema change): 'updated' (an open flood alert's new peak as the water rises) and
 * 'repaged' (the people told paged again with it: a higher colour was reached). */
static const char migrate_v11[] =
    "ALTER TABLE alerts ADD COLUMN ack_outcome TEXT;"
    "ALTER TABLE alerts ADD COLUMN peak REAL;"
    "ALTER TABLE alert_journal ADD COLUMN outcome TEXT;"
    "CREATE TABLE roster_journal(id INTEGER PRIMARY KEY, person TEXT NOT NULL, name TEXT NOT "
    "NULL, tier INTEGER NOT NULL, grids TEXT, mqtt_user TEXT, phone TEXT, from_ms INTEGER NOT "
    "NULL, to_ms INTEGER);"
    "CREATE INDEX roster_journal_person ON roster_journal(person, from_ms);"
    "CREATE TRIGGER roster_journal_append_only BEFORE UPDATE ON roster_journal WHEN NOT (NEW.id "
    "IS OLD.id AND NEW.person IS OLD.person AND NEW.name IS OLD.name AND NEW.tier IS OLD.tier "
    "AND NEW.grids IS OLD.grids AND NEW.mqtt_user IS OLD.mqtt_user AND NEW.phone IS OLD.phone "
    "AND NEW.from_ms IS OLD.from_ms AND OLD.to_ms IS NULL) "
    "BEGIN SELECT RAISE(ABORT, 'the roster journal is append-only'); END;"
    "CREATE TRIGGER roster_journal_no_delete BEFORE DELETE ON roster_journal "
    "BEGIN SELECT RAISE(ABORT, 'the roster journal is append-only'); END;"
    "DROP TRIGGER alert_journal_append_only;"
    "CREATE TRIGGER alert_journal_append_only BEFORE UPDATE ON alert_journal WHEN NOT (NEW.id IS "
    "OLD.id AND NEW.alert IS OLD.alert AND NEW.event IS OLD.event AND NEW.detail IS OLD.detail "
    "AND NEW.actor IS OLD.actor AND NEW.tier IS OLD.tier AND NEW.via IS OLD.via AND NEW.outcome "
    "IS OLD.outcome AND EXISTS (SELECT 1 FROM clock_pending WHERE what = 'alert_journal.ts_ms' "
    "AND rid = OLD.id)) BEGIN SELECT RAISE(ABORT, 'the alert journal is append-only'); END;";

/* Each step takes the schema from version i + 1 to i + 2, in its own transaction. */
static const char *const migrations[] = {migrate_v2, migrate_v3, migrate_v4, migrate_v5, migrate_v6,
                                         migrate_v7, migrate_v8, migrate_v9, migrate_v10,
                                         migrate_v11};

/* Create or check the schema. An empty file gets version 1; a file with tables but not our
 * application id is somebody else's and is refused. */
static int migrate(struct lw_store *s, const char *path, char *err, size_t errcap)
{
    int app, ver, tables;
    if (lw_store_pragma_int(s, "PRAGMA application_id", &app) != LW_OK ||
        lw_store_pragma_int(s, "PRAGMA user_version", &ver) != LW_OK ||
        lw_store_pragma_int(s, "SELECT count(*) FROM sqlite_schema", &tables) != LW_OK) {
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
        if (lw_store_exec(s, sql, err, errcap) != LW_OK)
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
        int rc = sql ? lw_store_exec(s, sql, e2, sizeof(e2)) : LW_ERR_NOMEM;
        sqlite3_free(sql);
        if (rc != LW_OK) {
            if (!sql)
                snprintf(e2, sizeof(e2), "out of memory");
            if (!sqlite3_get_autocommit(s->db))
                lw_store_exec(s, "ROLLBACK", e3, sizeof(e3));
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
int lw_store_check_pages(struct lw_store *s, const char *path, char *err, size_t errcap)
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

int lw_store_migrate(struct lw_store *s, const char *path, char *err, size_t errcap)
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
        sqlite3_create_function(s->db, "lw_clock_offset", 0, SQLITE_UTF8, NULL,
                                lw_store_sql_clock_offset, NULL, NULL);
        sqlite3_busy_timeout(s->db, 2000);
    }
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
