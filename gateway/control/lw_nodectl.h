/* SPDX-License-Identifier: Apache-2.0 */
/* Control-socket commands for the node registry: nodes, node-show, pair, unpair, retire, replace,
 * locate, calibrate, rekey, test-alarm. Each change is checked, stored with a maintenance journal
 * row naming the caller's uid, committed, and then the daemon's registry is rebuilt from the
 * database. Request and reply fields are documented in docs/CONTROL.md. */
#ifndef LW_NODECTL_H
#define LW_NODECTL_H

#include <cjson/cJSON.h>
#include <stdint.h>

#include "lw_control.h"
#include "lw_mesh.h"
#include "lw_model.h"
#include "lw_nodedb.h"
#include "lw_registry.h"
#include "lw_store.h"

/* What the commands need from the daemon. */
struct lw_nodectl_env {
    void *arg;
    const struct lw_config *cfg;
    struct lw_store *store;
    struct lw_nodedb *nodedb;
    struct lw_registry *(*registry)(void *arg);
    /* Reload the registry from the database, carrying runtime state over by address and closing
     * alerts of nodes or rules that no longer apply. LW_OK or a negative lw_err. */
    int (*rebuild)(void *arg);
    /* Raise a test alert for node n through the whole alert path, marked as a test; returns the
     * alert id (> 0) or a negative lw_err. */
    int64_t (*test_alarm)(void *arg, struct lw_node *n);
    int64_t now_ms; /* wall clock of this request */
    /* Optional: the mesh sink, whose latest route of each node names every relay and the SNR
     * each hop was heard with (node-show's "route"). NULL: only what the node table keeps (the
     * hop count and the last relay). */
    const struct lw_mesh *mesh;
};

/* Handle cmd when it is a node command: a malloc'd reply ({"ok": true, ...} or {"ok": false,
 * "error": TEXT, "code": "usage|not_found|conflict|db"}). NULL when cmd is not one of ours. */
char *lw_nodectl_handle(const struct lw_nodectl_env *env, const char *cmd, const cJSON *req,
                        const struct lw_control_peer *peer);

/* Link margin in dB of an SNR (0.1 dB units) at a spreading factor: how far above the
 * demodulation floor (SX127x/SX126x datasheets: -7.5 dB at SF7 ... -20 dB at SF12) it is. */
double lw_link_margin_db(int16_t snr_x10, unsigned sf);

/* Frames of a node received and expected over a window, from the gaps between the frame
 * counters of its stored readings (lw_nodectl_link.c). Frames lost before the first or after the
 * last one received are not counted (a node that fell silent shows as silent, not as loss); a
 * counter that goes back or jumps by more than 10000 started again (after a join): restarts. */
struct lw_nodectl_loss {
    uint64_t received, expected;
    uint32_t restarts;
    uint32_t last_fcnt;
};
int lw_nodectl_loss(struct lw_store *s, uint16_t node, int64_t since_ms, int64_t until_ms,
                    struct lw_nodectl_loss *out);
/* o.loss = {window_s, received, expected[, counter_restarts]}. */
void lw_nodectl_loss_json(cJSON *o, const struct lw_nodectl_loss *l, int64_t window_ms);

/* o.battery_trend = {rule, window_s, floor, history_s[, days_left]}: the days_left statistic of the
 * first battery rule with statistic days_left that applies to node (lw_rule_statistic over its
 * stored readings of the rule's window, as the rule computes it); days_left absent while the
 * readings span less than half the window. Nothing added when no such rule applies. LW_OK, or
 * LW_ERR_DB / LW_ERR_NOMEM. */
int lw_nodectl_battery(const struct lw_config *cfg, struct lw_store *s,
                       const struct lw_node_conf *node, int64_t now_ms, cJSON *o);

/* o.link_history = {since_ms, until_ms[, overall][, hours]}: of the readings stored in the
 * range, received/expected frames, [min, median, max] of the last hop's RSSI (dBm) and SNR (dB)
 * as the gateway heard it, and the fewest and most hops; overall for the whole range, and with
 * hours one object per local hour that has readings (t_ms: its start). */
int lw_nodectl_link(struct lw_store *s, uint16_t node, int64_t since_ms, int64_t until_ms,
                    bool hours, cJSON *o);

#endif
