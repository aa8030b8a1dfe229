/* SPDX-License-Identifier: Apache-2.0 */
/* The alert lifecycle's rows: journal rows with who/tier/channel, the alert's tier and
 * acknowledgement, maintenance silences, and the open alerts for `lorawatch alerts`. On the
 * store's connection; writes join the open transaction (commit with lw_store_commit). */
#ifndef LW_ALERTDB_H
#define LW_ALERTDB_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdint.h>

#include "lw_escalation.h"
#include "lw_store.h"

/* Alerts. Each call joins the open transaction; lw_store_commit makes it durable. The gateway
 * commits right after so an alert is on disk before it is published. level: the level raised
 * at; message: the raise message as published (NULL: none), which later duty messages repeat. */
int lw_alertdb_insert(struct lw_store *s, int64_t id, const char *rule, const char *hazard,
                      const char *level, uint16_t node, int64_t t_ms, double value,
                      double threshold, const char *message);
/* Alert ids are handed out by the gateway, not by SQLite, so an alert published while the disk
 * fails keeps an id no later alert can get: ids are reserved in blocks recorded in meta.
 * lw_alertdb_id_floor returns the highest id used or reserved so far (0 for none). */
int64_t lw_alertdb_id_floor(struct lw_store *s);
int lw_alertdb_reserve_ids(struct lw_store *s, int64_t upto);
/* The same for incident ids: an incident opened while the disk fails keeps its own id. */
int64_t lw_alertdb_incident_id_floor(struct lw_store *s);
int lw_alertdb_reserve_incident_ids(struct lw_store *s, int64_t upto);
int lw_alertdb_set_state(struct lw_store *s, int64_t id, const char *state, int64_t t_ms);
/* Mark an alert as a test alarm (alerts.test = 1). */
int lw_alertdb_set_test(struct lw_store *s, int64_t id);
int lw_alertdb_journal_row(struct lw_store *s, int64_t alert, int64_t t_ms, const char *event,
                           const char *detail);

/* outcome: an acknowledgement's (lw_ack_outcomes), NULL for other events. */
int lw_alertdb_journal(struct lw_store *s, int64_t alert, int64_t ts_ms, const char *event,
                       const char *actor, unsigned tier, const char *via, const char *detail,
                       const char *outcome);
/* tier always; acked_by/acked_ms/ack_outcome only when acked_by is not NULL. */
int lw_alertdb_update(struct lw_store *s, int64_t alert, unsigned tier, const char *acked_by,
                      int64_t acked_ms, const char *outcome);
/* The alert's state ("raised", "cleared", "closed") into state; LW_ERR_UNKNOWN_NODE if none. */
int lw_alertdb_state(struct lw_store *s, int64_t alert, char *state, size_t cap);
/* An open alert (neither cleared nor closed) as start-up finds it: its whole record, so what
 * is said about it after a restart is what the raise said. Strings live until fn returns. */
struct lw_alertdb_open {
    int64_t id;
    const char *rule;
    uint16_t node;
    int64_t raised_ms;
    enum lw_level level; /* as raised (a coincidence may have put it above its rule's) */
    double value;        /* at the raise */
    double peak;         /* the highest value its messages reported (the raise's when none) */
    int64_t incident;    /* 0: none */
    bool test;
    const char *message; /* the raise message as published; NULL in rows older than it */
    int64_t pin_zero_mm; /* water alerts: the zero offset it is pinned to; -1: not pinned */
    unsigned tier;       /* the highest tier told; 0: nobody yet */
    bool acked;
    bool withheld;       /* the gateway decided not to page it (journal: silenced by gateway) */
    int64_t told_ms;     /* journal time its current tier was told (0: never) */
    int64_t reminded_ms; /* journal time of the last notice, escalation or reminder (0: none) */
    unsigned reminders[LW_TIERS + 1]; /* per tier: the reminders journalled */
};
/* Open alerts with their record, tier, acknowledgement and duty times, oldest first. */
int lw_alertdb_each_open(struct lw_store *s, void (*fn)(void *arg, const struct lw_alertdb_open *a),
                         void *arg);
/* Alerts as JSON for the CLI: open ones, or with all the latest limit of any state. */
cJSON *lw_alertdb_list(struct lw_store *s, bool all, int limit);

/* Silences: insert (s->id is set), end (lifted or expired), and the active ones at wall_ms. */
int lw_alertdb_silence_add(struct lw_store *st, struct lw_silence *s, int64_t created_ms);
int lw_alertdb_silence_end(struct lw_store *st, int64_t id, int64_t ts_ms);
int lw_alertdb_each_silence(struct lw_store *st, int64_t wall_ms,
                            void (*fn)(void *arg, const struct lw_silence *s), void *arg);

/* Incidents: open one (under the id the gateway gave it), close it, tie an alert to it, and at
 * start-up the open incidents with their open alerts (incidents left without any are closed at
 * ts_ms first). */
int lw_alertdb_incident_open(struct lw_store *s, int64_t id, enum lw_hazard hazard,
                             const char *building, enum lw_level level, int64_t ts_ms);
int lw_alertdb_incident_close(struct lw_store *s, int64_t id, int64_t ts_ms);
int lw_alertdb_set_incident(struct lw_store *s, int64_t alert, int64_t incident);
/* An open alert's highest value so far (its updates as the water rises). */
int lw_alertdb_set_peak(struct lw_store *s, int64_t alert, double peak);
/* A calibration under an open water alert pinned it to zero_mm (-1: unpinned). */
int lw_alertdb_set_pin(struct lw_store *s, int64_t alert, int64_t zero_mm);
int lw_alertdb_each_incident_alert(struct lw_store *s, int64_t ts_ms,
                                   void (*fn)(void *arg, int64_t incident, const char *hazard,
                                              const char *building, int64_t alert),
                                   void *arg);

#endif
