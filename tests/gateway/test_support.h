/* SPDX-License-Identifier: Apache-2.0 */
/* What several gateway unit tests share: a fresh path for a database file, and the first
 * schema (version 1) the store's migrations start from. */
#ifndef LW_TEST_SUPPORT_H
#define LW_TEST_SUPPORT_H

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

/* Fills path with a name under $TMPDIR (or /tmp) that no file has: created by mkstemp, then
 * removed, so the store creates the database itself. 0, or -1 when that failed. */
static inline int lw_test_db_path(char *path, size_t cap, const char *stem)
{
    const char *base = getenv("TMPDIR");
    snprintf(path, cap, "%s/%s.XXXXXX", base && *base ? base : "/tmp", stem);
    int fd = mkstemp(path);
    if (fd < 0)
        return -1;
    close(fd);
    unlink(path);
    return 0;
}

/* The tables of a version 1 database, as the first release created them. */
#define LW_TEST_SCHEMA_V1                                                                          \
    "CREATE TABLE nodes(address INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, eui TEXT "         \
    "NOT NULL, kind TEXT NOT NULL, label TEXT, building TEXT, floor TEXT, unit TEXT, grid "        \
    "TEXT, place TEXT, tags TEXT);"                                                                \
    "CREATE TABLE readings(node INTEGER NOT NULL, ts_ms INTEGER NOT NULL, fcnt INTEGER NOT "       \
    "NULL, type INTEGER NOT NULL, hops INTEGER NOT NULL, rssi_x10 INTEGER, snr_x10 "               \
    "INTEGER, water_mm INTEGER, smoke INTEGER, obscuration INTEGER, gas_lel_x10 INTEGER, "         \
    "co_ppm INTEGER, temp_x10 INTEGER, battery_mv INTEGER, flags INTEGER, PRIMARY "                \
    "KEY(node, ts_ms, fcnt)) WITHOUT ROWID;"                                                       \
    "CREATE TABLE alerts(id INTEGER PRIMARY KEY AUTOINCREMENT, rule TEXT NOT NULL, hazard "        \
    "TEXT NOT NULL, level TEXT NOT NULL, node INTEGER NOT NULL, state TEXT NOT NULL, "             \
    "raised_ms INTEGER NOT NULL, cleared_ms INTEGER, value REAL, threshold REAL);"                 \
    "CREATE TABLE alert_journal(id INTEGER PRIMARY KEY, alert INTEGER NOT NULL, ts_ms "            \
    "INTEGER NOT NULL, event TEXT NOT NULL, detail TEXT);"                                         \
    "CREATE TABLE outbox(seq INTEGER PRIMARY KEY AUTOINCREMENT, alert INTEGER, topic TEXT "        \
    "NOT NULL, payload TEXT NOT NULL, retain INTEGER NOT NULL);"

#endif
