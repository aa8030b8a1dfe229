/* SPDX-License-Identifier: Apache-2.0 */
/* Duty escalation: who is told about each open alert, when it goes up a tier (grid worker ->
 * community duty room -> street emergency office), reminders while nobody acknowledges it,
 * acknowledgements, and maintenance silences that hold paging back for a while. Time is passed
 * in (monotonic for the timers and for how long a silence lasts; wall clock for the times shown
 * to people and kept across a restart); every
 * effect goes through the ops the gateway supplies (durable publish, journal, alert row). */
#ifndef LW_ESCALATION_H
#define LW_ESCALATION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lw_model.h"
#include "lw_roster.h"

/* What duty needs to know about an alert. */
struct lw_escalation_alert {
    int64_t id;
    uint16_t node;
    char grid[LW_NAME_MAX];
    char building[LW_NAME_MAX];
    enum lw_hazard hazard;
    unsigned first_tier; /* the tier told first (0 or 1: the grid worker) */
};

struct lw_escalation_ops {
    void *arg;
    /* Publish at QoS 1 through the outbox (durable), tagged with the alert. */
    int (*publish)(void *arg, int64_t alert, const char *topic, const char *payload, bool retain);
    /* Append a journal row: event, who (actor), duty tier (0: none), channel (via), detail, and
     * an acknowledgement's outcome (NULL: none). */
    int (*journal)(void *arg, int64_t alert, const char *event, const char *actor, unsigned tier,
                   const char *via, const char *detail, const char *outcome);
    /* Record the alert's current tier, and its acknowledgement (with its outcome, NULL: none)
     * when acked_by is not NULL. */
    int (*update)(void *arg, int64_t alert, unsigned tier, const char *acked_by, int64_t acked_ms,
                  const char *outcome);
    /* A silence ran out at wall_ms: record it. */
    void (*silence_ended)(void *arg, int64_t silence, int64_t wall_ms);
    /* Commit what the calls above wrote. */
    int (*commit)(void *arg);
};

/* A maintenance silence: paging for matching alerts is held back until it ends. */
struct lw_silence {
    int64_t id;
    uint16_t node;              /* 0: any node */
    char building[LW_NAME_MAX]; /* "": any building */
    int hazard;                 /* enum lw_hazard, -1: any */
    int64_t until_ms;           /* wall clock, for people; it runs out on the monotonic clock */
    bool forced;                /* needed to hold back fire alarms */
    char actor[64];
    char reason[LW_TEXT_MAX];
};

struct lw_escalation;

/* site: topic root; cfg supplies the roster and the timings (see lw_escalation_set_config). */
struct lw_escalation *lw_escalation_new(const char *site, const struct lw_config *cfg,
                                        const struct lw_escalation_ops *ops);
void lw_escalation_free(struct lw_escalation *d);
/* New roster and timings (reload); open alerts keep their tier and timers. */
void lw_escalation_set_config(struct lw_escalation *d, const struct lw_config *cfg);

/* An alert was raised (payload: its alert JSON). Tells tier 1, unless a silence holds it back.
 * mono_ms: monotonic clock; wall_ms: wall clock. */
void lw_escalation_raised(struct lw_escalation *d, const struct lw_escalation_alert *a,
                          const char *payload, int64_t mono_ms, int64_t wall_ms);
/* An open alert found at start-up, as the store had it. */
struct lw_escalation_resume {
    unsigned tier;                    /* the tier told last (0 or 1: the first) */
    bool acked;                       /* acknowledged: no more escalation or reminders */
    int64_t told_ms;                  /* wall clock: when that tier was told (0: unknown) */
    int64_t reminded_ms;              /* wall clock: the last notice or reminder (0: unknown) */
    unsigned reminders[LW_TIERS + 1]; /* per tier: reminders it had; the count goes on */
};
/* Resume an open alert at its stored tier; payload is its raise message (as lw_escalation_raised
 * got it), so every later message repeats what the raise said. The time already spent at that tier
 * before the restart counts: an escalation that fell due while the gateway was down happens at the
 * first tick. A wall clock behind the stored times (no RTC, not yet synchronised) gives the tier
 * its full time again, never less than that. */
void lw_escalation_restore(struct lw_escalation *d, const struct lw_escalation_alert *a,
                           const char *payload, const struct lw_escalation_resume *r,
                           int64_t mono_ms, int64_t wall_ms);
/* A test alarm (payload: its raise, marked test): the first tier for its grid sector gets it as a
 * notice, so the whole path to the phones is tested; nobody is reminded, nothing escalates and it
 * needs no acknowledgement. */
void lw_escalation_test(struct lw_escalation *d, const struct lw_escalation_alert *a,
                        const char *payload, int64_t wall_ms);
/* An open alert's update reached a higher colour (payload: the update message): every tier told
 * so far is paged again with it (kind "updated"); an acknowledged alert too, as the people on
 * their way need to know. Nothing else changes (tier, timers, acknowledgement). */
void lw_escalation_updated(struct lw_escalation *d, int64_t id, const char *payload,
                           int64_t wall_ms);
/* The alert was cleared or closed (payload: that message): everyone told gets it; forgotten. */
void lw_escalation_resolved(struct lw_escalation *d, int64_t id, const char *payload);

/* An acknowledgement: who (a duty person's id, or "uid:N" from the CLI), their tier (0 unknown),
 * the channel ("mqtt", "cli"), an optional note and outcome (lw_ack_outcomes; NULL or "": none). */
struct lw_ack {
    const char *actor;
    unsigned tier;
    const char *via;
    const char *note;
    const char *outcome;
};

/* Acknowledge. Everyone told so far gets a message naming who acknowledged (their roster name)
 * and what they said. LW_OK; LW_ERR_UNKNOWN_NODE when the alert is not open (caller tells unknown
 * from cleared); LW_ERR_STATE when it was acknowledged before (why says by whom). */
int lw_escalation_ack(struct lw_escalation *d, int64_t id, const struct lw_ack *ack,
                      int64_t wall_ms, char *why, size_t whycap);

/* Escalations, reminders and silence expiry due at these times. */
void lw_escalation_tick(struct lw_escalation *d, int64_t mono_ms, int64_t wall_ms);
/* Monotonic time of the next escalation, reminder or silence expiry (INT64_MAX: none). */
int64_t lw_escalation_next_due(const struct lw_escalation *d);

/* Add a silence (s->id assigned by the caller's store) or lift one early. It lasts
 * until_ms - wall_ms from mono_ms: a later wall-clock step does not move its end. Refused with why:
 * fire without force (LW_ERR_STATE), no target, expiry in the past or beyond max_silence
 * (LW_ERR_RANGE). Lifting releases held alerts at once. */
int lw_escalation_silence_add(struct lw_escalation *d, const struct lw_silence *s, int64_t mono_ms,
                              int64_t wall_ms, char *why, size_t whycap);
int lw_escalation_silence_lift(struct lw_escalation *d, int64_t id, int64_t mono_ms,
                               int64_t wall_ms);
/* The active silences. */
size_t lw_escalation_silences(const struct lw_escalation *d, const struct lw_silence **out);

/* The alert's raise message is now payload (its times corrected after the clock synchronised):
 * later duty messages repeat it. false if the alert is unknown or out of memory. */
bool lw_escalation_set_payload(struct lw_escalation *d, int64_t id, const char *payload);
/* Per open alert: tier, acknowledged, held by a silence (for lorawatch alerts). false if unknown.
 */
bool lw_escalation_state(const struct lw_escalation *d, int64_t id, unsigned *tier, bool *acked,
                         bool *held);

#endif
