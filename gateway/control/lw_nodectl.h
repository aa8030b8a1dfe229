/* Control-socket commands for the node registry: nodes, node-show, pair, unpair, retire, replace,
 * locate, calibrate, rekey, test-alarm. Each change is checked, stored with a maintenance journal
 * row naming the caller's uid, committed, and then the daemon's registry is rebuilt from the
 * database. Request and reply fields are documented in docs/CONTROL.md. */
#ifndef LW_NODECTL_H
#define LW_NODECTL_H

#include <cjson/cJSON.h>
#include <stdint.h>

#include "lw_control.h"
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
};

/* Handle cmd when it is a node command: a malloc'd reply ({"ok": true, ...} or {"ok": false,
 * "error": TEXT, "code": "usage|not_found|conflict|db"}). NULL when cmd is not one of ours. */
char *lw_nodectl_handle(const struct lw_nodectl_env *env, const char *cmd, const cJSON *req,
                        const struct lw_control_peer *peer);

/* Link margin in dB of an SNR (0.1 dB units) at a spreading factor: how far above the
 * demodulation floor (SX127x/SX126x datasheets: -7.5 dB at SF7 ... -20 dB at SF12) it is. */
double lw_link_margin_db(int16_t snr_x10, unsigned sf);

#endif
