/* SPDX-License-Identifier: Apache-2.0 */
/* Storage trouble: the ballast kept beside the database for alerts, the WAL checkpoints, and
 * the state (full, I/O error, WAL pinned) that decides whether readings are shed. */
#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "lw_error.h"
#include "lw_log.h"
#include "lw_store_int.h"

/* SQLite's automatic checkpoint runs inside whichever COMMIT takes the WAL past 1000 pages, and
 * it fsyncs; with readings batched, that COMMIT is most often an alert's. The WAL hook replaces
 * it, and lw_store_commit checkpoints only after commits that carry no alert. On a small file
 * system 1000 pages (4 MiB) would be more than there is: the WAL may take a sixteenth of it. */
#define WAL_CHECKPOINT_PAGES 1000
#define WAL_CHECKPOINT_MIN   16
/* Space reserved for alerts beside the database (a file released when a write finds the disk
 * full): an eighth of the file system, within these bounds. */
#define BALLAST_MIN (64 * 1024)
#define BALLAST_MAX (1024 * 1024)

/* Write the ballast with real bytes (not a sparse file), so its blocks are the file system's. */
int lw_store_ballast_make(struct lw_store *s)
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
void lw_store_note_failure(struct lw_store *s, int rc)
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

bool lw_store_shedding(const struct lw_store *s)
{
    return s->trouble == LW_STORE_FULL || s->trouble == LW_STORE_IOERR;
}

/* Bounds from the size of the file system the database lives on. */
void lw_store_size_limits(struct lw_store *s, const char *path)
{
    struct statvfs vfs;
    int page = 4096;
    lw_store_pragma_int(s, "PRAGMA page_size", &page);
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
void lw_store_checkpoint(struct lw_store *s)
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
        lw_store_note_failure(s, rc);
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
            lw_store_commit_txn(s, false);
        lw_store_checkpoint(s);
        return s->trouble;
    }
    /* Space for alerts first: until the ballast is back, the disk is not writable for readings. */
    if (!s->ballast_present && lw_store_ballast_make(s) != LW_OK) {
        if (s->trouble == LW_STORE_OK && s->stats.ballast_released) {
            lw_log(LW_LOG_WARNING, "database: space is low (no room for the ballast): readings "
                                   "are shed");
            s->trouble = LW_STORE_FULL;
        }
        return s->trouble;
    }
    if (!lw_store_shedding(s)) {
        /* Commits that carried alerts skip the checkpoint; a quiet second makes up for it. */
        if (!s->in_txn && s->wal_pages >= s->ckpt_pages)
            lw_store_checkpoint(s);
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
    if (lw_store_begin(s) != LW_OK || lw_store_exec(s, sql, e2, sizeof(e2)) != LW_OK ||
        lw_store_commit_txn(s, false) != LW_OK) {
        if (s->trouble == LW_STORE_OK)
            s->trouble = was;
        return s->trouble;
    }
    lw_store_checkpoint(s);
    lw_log(LW_LOG_NOTICE, "database: writable again (%s is over)", lw_store_trouble_name(was));
    return s->trouble;
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
