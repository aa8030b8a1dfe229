/* SPDX-License-Identifier: Apache-2.0 */
/* The daemon's core: owns storage, registry, radio and MQTT, and runs the pipeline
 * frame -> admission -> SQLite -> rules -> alert journal -> MQTT. */
#ifndef LW_GATEWAY_H
#define LW_GATEWAY_H

#include <uv.h>

#include "lw_model.h"
#include "lw_radio.h"

struct lw_gateway;
struct lw_store;

/* Start every module in dependency order (store, registry, MQTT, radio). cfg must outlive the
 * gateway. with_radio false leaves the radio out (benchmarks feed frames directly).
 * Returns LW_OK or a negative lw_err after logging why. */
int lw_gateway_new(uv_loop_t *loop, const struct lw_config *cfg, bool with_radio,
                   struct lw_gateway **out);
/* One received frame (or clock tick) through the whole pipeline. */
void lw_gateway_handle_rx(struct lw_gateway *g, const struct lw_radio_rx *rx);
/* Apply a new, already validated configuration: rules and nodes change at once; node state
 * (replay windows, rule states, active alerts) carries over by node address and rule name;
 * settings that need a restart keep their running values and are logged. Active alerts of removed
 * rules or nodes are closed in the journal. On success g uses next, and the caller frees the old
 * configuration; on failure (out of memory) nothing changed and the caller frees next. */
int lw_gateway_reload(struct lw_gateway *g, struct lw_config *next);
/* Commit pending readings now. */
void lw_gateway_flush(struct lw_gateway *g);
/* Stop in reverse order: radio, pending rows committed, status 'offline' published, MQTT closed,
 * store closed. done(arg) runs once every handle is released and g is freed. */
void lw_gateway_stop(struct lw_gateway *g, void (*done)(void *arg), void *arg);

struct lw_gateway_counters {
    uint64_t frames; /* radio frames seen */
    uint64_t accepted;
    uint64_t rejected;
    uint64_t readings_stored;
    uint64_t alerts_raised;
    uint64_t alerts_cleared;
};
void lw_gateway_counters(const struct lw_gateway *g, struct lw_gateway_counters *out);

/* Event mode for every node with a session in building (its place's building, exact match): on,
 * they report every [mesh] event_interval; off, at their normal interval again. The CMD goes out
 * at once (for nodes that listen) and again after each node's next uplink (a sensor listens
 * right after it sends). Returns the number of nodes addressed. */
size_t lw_gateway_event_mode(struct lw_gateway *g, const char *building, bool on);

/* Hand the rules' levels of cfg to store's rollups (lw_rules_level_source), as the daemon does at
 * start and on reload; for tests and benchmarks that write rollups without a daemon. LW_OK or
 * LW_ERR_NOMEM. */
int lw_gateway_set_levels(struct lw_store *s, const struct lw_config *cfg);

#endif
