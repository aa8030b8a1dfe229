/* SPDX-License-Identifier: Apache-2.0 */
/* SQLite storage: readings in batched transactions, alerts with their journal, and the MQTT
 * outbox that makes every alert durable before it is published. One file, WAL mode. */
#ifndef LW_STORE_H
#define LW_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lw_model.h"
#include "lw_reading.h"

#define LW_SCHEMA_VERSION 11
/* PRAGMA application_id of our files ("LWDB"). */
#define LW_STORE_APP_ID 0x4C574442

struct lw_store;

struct lw_store_reading {
    uint16_t node;
    int64_t t_ms;
    uint32_t fcnt;
    uint8_t type;
    uint8_t hops;
    int16_t rssi_x10;
    int16_t snr_x10;
    /* The wall clock was not synchronised at reception: t_ms is provisional and mono_ms (the
     * monotonic clock, this boot) lets lw_store_fix_times correct it later. */
    bool unsynced;
    int64_t mono_ms;
    const struct lw_reading *r;
};

/* time_quality column of readings: how far ts_ms can be trusted. NULL: synchronised clock. */
#define LW_TIME_PENDING   1 /* received unsynchronised, correction pending (mono_ms kept) */
#define LW_TIME_CORRECTED 2 /* received unsynchronised, corrected once the clock synchronised */
#define LW_TIME_UNKNOWN   3 /* received unsynchronised, the boot ended before the clock synced */

/* Open (creating the schema, or migrating an older one) the database at path. A file that is not
 * a lorawatch database, or one from a newer version, is refused and left untouched. The rollups
 * measure no levels until lw_store_set_levels. On failure returns NULL and writes the reason
 * into err. */
struct lw_store *lw_store_open(const char *path, uint32_t batch_rows, char *err, size_t errcap);
/* Commits what is pending, then closes. */
void lw_store_close(struct lw_store *s);

/* Record this boot's id; readings pending correction from an earlier boot can never be
 * corrected (their monotonic times belong to that boot) and become LW_TIME_UNKNOWN. */
int lw_store_set_boot(struct lw_store *s, const char *boot_id);
/* The wall clock is now synchronised and wall = mono + offset_ms: correct the pending readings,
 * and in the same transaction every alert-side time written while it was not
 * (lw_store_set_unsynced) by offset_ms - the offset it was written with. Each open alert raised
 * meanwhile is given to retime (may be NULL) with its stored raise message (NULL in old rows) and
 * how far its times move (raised_ms: its raise time corrected); a message retime returns
 * (malloc'd) replaces the stored one. Returns
 * how many readings were corrected, or a negative lw_err (then nothing was, and a later call
 * retries). */
typedef char *(*lw_store_retime_fn)(void *arg, int64_t alert, int64_t delta_ms, int64_t raised_ms,
                                    const char *message);
long lw_store_fix_times(struct lw_store *s, int64_t offset_ms, lw_store_retime_fn retime,
                        void *arg);
/* While unsynced, every time written on the alert side (alerts, journal, incidents, silences,
 * outbox_sent) is listed, with the wall clock's offset from the monotonic one, for
 * lw_store_fix_times. Rows listed by an earlier boot are dropped by lw_store_set_boot. */
int lw_store_set_unsynced(struct lw_store *s, bool unsynced);

/* Highest stored frame counter of each node, so a restart never reopens the replay window. */
int lw_store_each_counter(struct lw_store *s, void (*fn)(void *arg, uint16_t node, uint32_t fcnt),
                          void *arg);

/* The node's stored readings with a trustworthy time (synchronised or corrected), oldest first:
 * those at or after since_ms and no older than span_ms before its newest one. Water depth is
 * as stored (calibrated, cut at 0). LW_OK, or LW_ERR_DB. */
int lw_store_each_recent(struct lw_store *s, uint16_t node, int64_t since_ms, int64_t span_ms,
                         void (*fn)(void *arg, int64_t t_ms, const struct lw_reading *r),
                         void *arg);

/* One stored reading's link figures: its frame counter, the relays it crossed and the last hop
 * as the gateway heard it (INT16_MIN: not recorded). */
struct lw_store_link {
    int64_t t_ms;
    uint32_t fcnt;
    uint8_t hops;
    int16_t rssi_x10, snr_x10;
};
/* The node's stored readings in [since_ms, until_ms) by their stored time (provisional ones
 * included), oldest first (same time: lower frame counter first), as link figures. LW_OK, or
 * LW_ERR_DB. */
int lw_store_each_link(struct lw_store *s, uint16_t node, int64_t since_ms, int64_t until_ms,
                       void (*fn)(void *arg, const struct lw_store_link *l), void *arg);

/* Time of the node's newest stored reading (Unix ms, as stored) in *ts_ms, 0 when it has none.
 * LW_OK, or LW_ERR_DB. */
int lw_store_newest_reading(struct lw_store *s, uint16_t node, int64_t *ts_ms);

/* Queue a reading in the open batch transaction (opened on demand). Commits by itself when the
 * batch reaches batch_rows. LW_OK or LW_ERR_DB; while the store is full or failing (see
 * lw_store_trouble) the reading is not inserted but counted lost, and LW_ERR_DB returned:
 * alerts need what space is left. */
int lw_store_add_reading(struct lw_store *s, const struct lw_store_reading *rd);
/* Readings waiting in the open transaction. */
size_t lw_store_pending(const struct lw_store *s);
/* Commit the open transaction, if any. On failure the batch is rolled back and lost (logged);
 * returns LW_ERR_DB. */
int lw_store_commit(struct lw_store *s);

/* A transition's rows go in or stay out together: savepoint, then release (ok) or roll back. */
int lw_store_savepoint(struct lw_store *s);
void lw_store_savepoint_end(struct lw_store *s, bool ok);
/* Outbox: messages that must reach the broker at least once. */
/* alert: the alert the message belongs to (0: none), journalled as 'published' on ack. */
int lw_store_outbox_add(struct lw_store *s, int64_t alert, const char *topic, const char *payload,
                        bool retain, int64_t *seq);
/* The broker acknowledged a message: it moves to outbox_sent (kept in case the broker loses it,
 * see lw_store_outbox_requeue); *alert receives its alert id (0 when none or unknown). */
int lw_store_outbox_done(struct lw_store *s, int64_t seq, int64_t *alert);
/* True once after an acknowledgement did not reach the database (its write failed, or the batch
 * it joined was rolled back): the message is in the outbox again and must be handed over again. */
bool lw_store_outbox_acks_lost(struct lw_store *s);
/* *acked: every message up to this sequence number has been acknowledged (the high-water mark
 * the broker is told); *last: the highest sequence number ever given out. */
int lw_store_outbox_mark(struct lw_store *s, int64_t *acked, int64_t *last);
/* The broker holds only what was acknowledged up to after: if anything acknowledged later is
 * kept, it goes back into the outbox under its old sequence number (so in its old order),
 * together with the latest alert/<id> message of every open alert and the latest duty messages
 * of every open alert nobody has acknowledged. *moved: how many; 0 when nothing was lost. */
int lw_store_outbox_requeue(struct lw_store *s, int64_t after, int64_t *moved);
/* Forget acknowledged messages acknowledged before before_ms (wall clock), except those of open
 * alerts that lw_store_outbox_requeue would send again. */
int lw_store_outbox_prune(struct lw_store *s, int64_t before_ms);
/* Calls fn for every message with a sequence number above after (0: all), oldest first. */
int lw_store_each_outbox(struct lw_store *s, int64_t after,
                         void (*fn)(void *arg, int64_t seq, const char *topic, const char *payload,
                                    bool retain),
                         void *arg);

/* Messages in the outbox, or a negative lw_err. */
int64_t lw_store_outbox_count(struct lw_store *s);
/* Bytes of the database file plus its WAL. */
uint64_t lw_store_size(struct lw_store *s);

struct lw_store_stats {
    uint64_t readings_committed;
    uint64_t commits;
    uint64_t commit_failures;
    uint64_t readings_lost; /* rolled back with a failed batch, or shed while in trouble */
    uint64_t ballast_released;
    uint64_t wal_truncated;      /* checkpoints that reset the WAL file to nothing */
    uint64_t checkpoints_pinned; /* checkpoints a reader kept from resetting the WAL */
};
void lw_store_stats(const struct lw_store *s, struct lw_store_stats *out);

/* ---- storage trouble ---------------------------------------------------------------------- */

/* Why the database cannot be trusted to take writes now. FULL and IOERR shed readings (alerts
 * come first); WAL_PINNED still writes, but a reader keeps the WAL from being reset, so it grows
 * until that reader ends. */
enum lw_store_trouble { LW_STORE_OK, LW_STORE_FULL, LW_STORE_IOERR, LW_STORE_WAL_PINNED };
enum lw_store_trouble lw_store_trouble(const struct lw_store *s);
/* "ok", "full", "io_error", "wal_pinned". */
const char *lw_store_trouble_name(enum lw_store_trouble t);
/* Call about once a second: re-creates the ballast when space has returned and, while in
 * trouble, tries a small commit; leaves trouble when it succeeds. Returns the trouble now. */
enum lw_store_trouble lw_store_tick(struct lw_store *s);
/* The ballast (space reserved next to the database for alerts) was released by a failed write
 * since the last call: a commit that failed for want of space may succeed if tried again. */
bool lw_store_ballast_just_released(struct lw_store *s);
/* Bytes the ballast file holds (0: released or never made). */
uint64_t lw_store_ballast_bytes(const struct lw_store *s);

/* ---- history (schema v5) ------------------------------------------------------------------ */

/* Offset of local time from UTC now, in ms: where the rollups' days begin. */
int64_t lw_store_tz_offset_ms(void);
/* The levels the rollups measure time above (the rules layer's lw_rules_level_source; copied, arg
 * owned, the old one released): call again after a reload. */
void lw_store_set_levels(struct lw_store *s, const struct lw_level_source *src);
/* Maintain the rollups as readings arrive (on by default). Off only to measure what they cost
 * (bench_season): readings stored meanwhile are never added to the rollups. */
void lw_store_set_rollups(struct lw_store *s, bool on);
/* Keep raw readings for days (0: for good); rollups and journals are always kept. */
void lw_store_set_retention(struct lw_store *s, uint32_t days);
/* Delete at most about max_rows raw readings older than the retention, oldest of one node at a
 * time, and commit: call it from a timer so a large backlog never stalls the loop. Returns rows
 * deleted (0: nothing is due) or a negative lw_err. */
long lw_store_retention_step(struct lw_store *s, int64_t now_ms, long max_rows);

/* Open a lorawatch database read-only for history and reports (never creates, never migrates,
 * works with the daemon stopped or running). Refuses a file that is not ours, one newer than
 * LW_SCHEMA_VERSION and one older than min_version (the daemon migrates it on its next start).
 * Returns the connection, or NULL with a one-line reason in err. */
struct sqlite3 *lw_store_open_readonly(const char *path, int min_version, char *err, size_t errcap);

/* ---- the duty roster as it was (schema v11) ------------------------------------------------ */

struct lw_roster;
struct lw_duty_person;
/* Journal the roster the configuration was (re)loaded with, in one transaction committed at
 * once: a person whose open period (to_ms NULL) differs in name, tier, grids, mqtt_user or phone,
 * or who has none, gets the old period closed at now_ms and a new one from now_ms; a person no
 * longer on the roster has the open period closed; an unchanged person gets nothing. *changed
 * (may be NULL): rows written. LW_OK, or LW_ERR_DB / LW_ERR_NOMEM with nothing written (a full
 * disk is one of these; the caller logs and goes on). */
int lw_store_roster_journal(struct lw_store *s, const struct lw_roster *r, int64_t now_ms,
                            size_t *changed);
/* Person person (a [duty:ID] id) as the roster journal has them at t_ms: the period covering
 * t_ms ([from_ms, to_ms)), else the nearest one. Works on any connection, read-only ones
 * included. Fills out (id, name, tier, grids, mqtt_user, phone) and returns LW_OK; when the
 * journal does not know the id (or the database predates it) out has the id as its name and
 * tier 0, and LW_ERR_NOTFOUND (or LW_ERR_DB) is returned. */
int lw_store_roster_at(struct sqlite3 *db, const char *person, int64_t t_ms,
                       struct lw_duty_person *out);
/* The name of person at t_ms as above, or the id itself when the journal does not know it;
 * written into out (cap bytes) and returned. Never NULL. */
const char *lw_store_roster_name(struct sqlite3 *db, const char *person, int64_t t_ms, char *out,
                                 size_t cap);

#endif
