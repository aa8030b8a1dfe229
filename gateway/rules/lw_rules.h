/* SPDX-License-Identifier: Apache-2.0 */
/* Rule evaluation, pure: threshold with hysteresis and persistence over a value or a statistic
 * (sliding mean, rate of rise, time-weighted mean, days left on a trend), FloodNet-style filtering
 * of water depth, two-device coincidence, node silence, reading flags and the gateway's radio.
 * No I/O and no clock: callers pass the reading's time or the tick's, so tests inject time. */
#ifndef LW_RULES_H
#define LW_RULES_H

#include <stdbool.h>
#include <stdint.h>

#include "lw_waterfilter.h"
#include "lw_model.h"
#include "lw_reading.h"

/* History of a rule for mean, rise and days_left: the window is cut into LW_HIST_N buckets and
 * readings falling into one are averaged, so memory is fixed for any window. Kept by the engine
 * only for the nodes and rules that need one. */
#define LW_HIST_N 12

struct lw_hist_bucket {
    int64_t t_ms; /* mean time of its readings */
    float v;      /* mean value */
    uint32_t n;
};

struct lw_rule_hist {
    int64_t last_t0_ms; /* first reading of the newest bucket */
    uint8_t head, n;
    struct lw_hist_bucket b[LW_HIST_N];
};

/* Per node, per rule. A zeroed struct is a fresh state; it is a small value type (copied by
 * reload); histories and filters live in the engine, keyed by node address and rule name. */
struct lw_rule_state {
    bool above;             /* value currently at/over threshold */
    bool active;            /* alert raised and not yet cleared */
    bool applies;           /* lw_rule_applies(rule, node), set once per configuration */
    bool confirmed;         /* raised while another device of its group agreed: one level up */
    bool unconfirmed;       /* raised on depth the filter could not confirm as water */
    enum lw_level level;    /* the level its alert was raised at (lw_rule_raise_level), kept
                             * with alert_id so later messages say what the raise said */
    int64_t above_since_ms; /* when the current exceedance began */
    int64_t alert_id;       /* journal id of the active alert */
    int64_t raised_ms;      /* when it was raised */
    int64_t heard_ms;       /* silence: node last heard, or when watching began; 0: not yet */
    double last;            /* threshold: the latest value or statistic (natural units) */
    double twa;             /* twa: exponentially weighted mean of value^exponent */
    int64_t twa_ms;         /* time of the last twa update; 0: none yet */
    double reported;        /* water alerts: the value of the alert's last message (raise or update) */
    int64_t reported_ms;    /* ... when it was sent (wall clock; 0: allow an update at once) */
    enum lw_level reported_level; /* ... the highest level any of its messages reached */
    bool pinned;            /* the node was recalibrated while this alert (exceedance) was on ... */
    uint32_t pin_zero_mm;   /* ... from this zero offset: it clears on real readings only */
};

enum lw_rule_event { LW_RULE_NONE, LW_RULE_RAISE, LW_RULE_CLEAR };

/* Feed one value observed at now_ms. RAISE once the value has stayed >= threshold for the
 * persistence time (checked as readings arrive); CLEAR once an active rule sees value <= clear.
 * Between clear and threshold an active rule stays active and an inactive one restarts its
 * persistence timer: the exceedance must be continuous. */
enum lw_rule_event lw_rule_eval(const struct lw_rule_conf *rule, struct lw_rule_state *st,
                                double value, int64_t now_ms);

/* Does the rule apply to this node (kind and place tags)? Radio-fault rules apply to none. */
bool lw_rule_applies(const struct lw_rule_conf *rule, const struct lw_node_conf *node);

/* The rule's metric from a reading, in the config's units (mm, %LEL, degC ...), negated for
 * falling rules. false when the reading does not carry it. */
bool lw_rule_value(const struct lw_rule_conf *rule, const struct lw_reading *r, double *out);


/* The statistic of a threshold rule after adding the natural value v at t_ms to the state (twa)
 * or the history h (mean, rise, days_left; may be NULL for the others): v itself, the mean over
 * window, the rise per minute, the time-weighted mean, or days left. false while there is not
 * enough history (rise: two buckets; days_left: half a window) or h is missing. */
bool lw_rule_statistic(const struct lw_rule_conf *rule, struct lw_rule_state *st,
                       struct lw_rule_hist *h, double v, int64_t t_ms, double *out);

/* The gateway's rule engine: whatever is shared between nodes (groups for coincidence) and the
 * gateway's own rules (radio fault). Holds no pointers into a configuration, so it survives a
 * reload; groups and gateway states are keyed by rule name. */
struct lw_rules;

struct lw_rules *lw_rules_new(void);
void lw_rules_free(struct lw_rules *e);

/* One accepted reading r (as received: water depth before calibration) of node at now_ms, for one
 * rule that applies to it (st: the node's state for that rule). Handles every rule type: threshold
 * (filter, statistic, coincidence), silence (heard again clears it), flag. *value is what to
 * report, in natural units: the value or statistic, the silence in seconds, or 1/0 for a flag.
 * Returns the transition. */
enum lw_rule_event lw_rules_reading(struct lw_rules *e, const struct lw_rule_conf *rule,
                                    const struct lw_node_conf *node, struct lw_rule_state *st,
                                    const struct lw_reading *r, int64_t now_ms, double *value);

/* Start-up only: replay one stored reading r (water depth as received, before calibration) of
 * node at t_ms, its time on the rule clock, oldest first, through the same path as
 * lw_rules_reading (filter, calibration, fault flags, statistic), so rules that need a history
 * do not start from nothing after a restart. Never raises or clears: st->active and what an
 * alert keeps stay as restored; an exceedance the replay finds (st->above and its start) is
 * raised by the node's first real reading (ticks wait for it: what the daemon missed while
 * down may have said otherwise). lw_rule_primes: does the rule keep a history worth replaying
 * (mean, rise, twa, days_left, or a persistence under way)? lw_rule_prime_span_ms: how far back
 * the replay goes (the longer of window and persistence; 0 for rules that do not prime). A
 * first real reading older than the replayed ones (a rule clock that began again) forgets the
 * replay. */
bool lw_rule_primes(const struct lw_rule_conf *rule);
uint64_t lw_rule_prime_span_ms(const struct lw_rule_conf *rule);
void lw_rules_prime(struct lw_rules *e, const struct lw_rule_conf *rule,
                    const struct lw_node_conf *node, struct lw_rule_state *st,
                    const struct lw_reading *r, int64_t t_ms);

/* Water depth rules see the sensor's own depth (the reading as received) and apply the node's
 * zero_offset_mm themselves, so they know what the depth is on any calibration. */

/* The node's zero offset changed from old_zero_mm to node->zero_offset_mm (calibration, or a
 * reload) while st, its state for rule, was carried over. The rule's history, filter and latest
 * value move by the change (a rate of rise's without a cut at 0), so a calibration step is
 * neither a fall nor a rise; an alert of a depth rule (value or mean) open now, or an exceedance
 * still waiting out its persistence, is pinned to the old offset: it clears (or ends) only when
 * the statistic on that calibration is under its clear level (threshold) too, never because the
 * calibration moved. Other rules are left alone. */
void lw_rules_recalibrated(struct lw_rules *e, const struct lw_rule_conf *rule,
                           const struct lw_node_conf *node, struct lw_rule_state *st,
                           uint32_t old_zero_mm);

/* Depth on a calibration: raw less zero_mm, 0 when below it. */
uint16_t lw_water_calibrated(uint16_t raw_mm, uint32_t zero_mm);

/* The FloodNet filter state of a node's rule, or NULL when it has none yet (for tests and
 * diagnostics: its counters tell what was dropped). */
const struct lw_waterfilter *lw_rules_filter(struct lw_rules *e, const struct lw_rule_conf *rule,
                                        const struct lw_node_conf *node);

/* Any frame accepted from any node at now_ms (radio_fault rules' "nothing heard" input). */
void lw_rules_frame(struct lw_rules *e, int64_t now_ms);

/* Time-based evaluation of one node's rule, from a periodic tick: silence rules raise when the
 * node has not been heard for timeout (counted from the first tick when it never was); threshold
 * rules with a persistence raise when it has passed since the exceedance began and the latest
 * reading is still over (so a raise does not wait for the next report). Other types return
 * NONE. *value: seconds silent, or the latest value. */
enum lw_rule_event lw_rule_tick(const struct lw_rule_conf *rule, struct lw_rule_state *st,
                                int64_t now_ms, double *value);

/* The tick of a node's rule with the engine: lw_rule_tick, and for filtered water rules the
 * readings of a jump the node never followed up, or held for the filter's bound
 * (lw_waterfilter_release), evaluated as unconfirmed water, as of their own times. A filtered rule
 * raised on readings the filter passed unconfirmed has st->unconfirmed set, by this tick or by
 * lw_rules_reading. lw_rules_node_due: when it is next due (the earlier of the two). */
enum lw_rule_event lw_rules_node_tick(struct lw_rules *e, const struct lw_rule_conf *rule,
                                      const struct lw_node_conf *node, struct lw_rule_state *st,
                                      int64_t now_ms, double *value);
int64_t lw_rules_node_due(struct lw_rules *e, const struct lw_rule_conf *rule,
                          const struct lw_node_conf *node, const struct lw_rule_state *st);

/* Is this rule type evaluated by lw_rule_tick (so a tick loop can skip the others)? */
bool lw_rule_timed(const struct lw_rule_conf *rule);

/* Rule time at which lw_rule_tick could next raise st: 0 when it wants a tick now (watching not
 * begun), INT64_MAX when no tick can raise it (not timed, already raised, or not over the
 * threshold). Lets the caller sleep until then instead of polling. */
int64_t lw_rule_due(const struct lw_rule_conf *rule, const struct lw_rule_state *st);

/* The gateway's radio health as the radio layer sees it (backend error, chip reset, watchdog):
 * fault until reported healthy again. */
void lw_rules_radio_input(struct lw_rules *e, bool fault, int64_t now_ms);

/* Tick of a radio_fault rule: faulty when the radio reported a fault, or (timeout > 0) when no
 * frame at all was accepted for timeout; raised after persistence. *st is the rule's gateway-level
 * state (for the alert id), *value 1 or 0. NONE for other rule types or out of memory. */
enum lw_rule_event lw_rules_gateway_tick(struct lw_rules *e, const struct lw_rule_conf *rule,
                                         int64_t now_ms, struct lw_rule_state **st, double *value);

/* The gateway-level state of the radio_fault rule named rule (a reload finds its alert there);
 * NULL when it has none yet. */
struct lw_rule_state *lw_rules_gateway_state(struct lw_rules *e, const char *rule);
/* Its alert was found open at start-up (raised at level): it stays raised until a frame has been
 * heard (the "nothing heard" count starting afresh is not an all-clear). false when out of
 * memory. */
/* A node's alarm restored at start-up (its alert open before the restart) counts for the
 * coincidence of the rule's other devices, as if its alarm reading had come at now_ms. */
void lw_rules_restore_alarm(struct lw_rules *e, const struct lw_rule_conf *rule,
                            const struct lw_node_conf *node, int64_t now_ms);
bool lw_rules_gateway_restore(struct lw_rules *e, const char *rule, int64_t alert_id,
                              int64_t raised_ms, enum lw_level level);

/* A stand-in node for alerts of the gateway's own rules (address 0, named "gateway"). */
const struct lw_node_conf *lw_rules_gateway_node(struct lw_rules *e, const char *site);

/* The level an alert of the rule is raised at now: the rule's, one up (to red at most) when st
 * was confirmed by a second device. Decided once, at the raise; the alert keeps it. */
enum lw_level lw_rule_raise_level(const struct lw_rule_conf *rule, const struct lw_rule_state *st);

/* Names and the unit of *value for messages: "mm", "mm/min", "d", "s", "" ... */
const char *lw_rule_type_name(enum lw_rule_type t);
const char *lw_statistic_name(enum lw_statistic s);
const char *lw_rule_value_unit(const struct lw_rule_conf *rule);
/* The flag as the configuration names it: fault, tamper, low_battery. */
const char *lw_rule_flag_name(enum lw_flag_bit f);
/* What *value, the threshold and the clear level measure, for messages: the metric's name for
 * threshold rules; silent_s (seconds not heard), flags (the flag bit, 1 or 0) and radio_fault
 * (1 or 0) for the other types. */
const char *lw_rule_value_metric(const struct lw_rule_conf *rule);
/* The threshold (clear false) or clear level in the unit of *value, not negated: a silence
 * rule's threshold is its timeout in seconds and its clear level 0. */
double lw_rule_value_threshold(const struct lw_rule_conf *rule, bool clear);

#endif
