/* SPDX-License-Identifier: Apache-2.0 */
/* Metrics as a Prometheus node-exporter textfile: written atomically (temporary file, rename) so
 * node_exporter and `lorawatch status` never read half a file. */
#ifndef LW_METRICS_H
#define LW_METRICS_H

#include <stdbool.h>
#include <stdint.h>

#include "lw_control.h"
#include "lw_ingest.h"
#include "lw_mesh.h"
#include "lw_mqtt.h"
#include "lw_pairing.h"
#include "lw_store.h"

/* MQTT commands from duty phones: accepted, or refused by the code their reply carried (a command
 * on a topic no user can have, which gets no reply, counts as "usage"). */
enum { LW_CMDC_USAGE, LW_CMDC_DENIED, LW_CMDC_NOT_FOUND, LW_CMDC_CONFLICT, LW_CMDC_DB, LW_CMDC_N };
struct lw_phonecmd_counts {
    uint64_t accepted;
    uint64_t refused[LW_CMDC_N];
};
/* Counts one command: accepted when code is NULL, else refused with that reply code (an
 * unknown code counts as "usage"). */
void lw_phonecmd_count(struct lw_phonecmd_counts *c, const char *code);

struct lw_metrics {
    const char *site;
    bool up;             /* false in the last snapshot written at stop */
    double start_time_s; /* Unix seconds */
    double time_s;       /* when this snapshot was taken */
    double interval_s;   /* how often snapshots are taken */
    size_t nodes;
    uint64_t frames;
    struct lw_ingest_stats ingest;
    struct lw_mesh_stats mesh;       /* the mesh sink's drops, before admission */
    struct lw_pairing_stats joins;   /* JOIN_REQs by outcome, the join rate limiter's included */
    struct lw_control_stats control; /* control-socket connections and bad requests */
    struct lw_phonecmd_counts commands; /* MQTT commands by outcome */
    uint64_t radio_malformed;
    uint64_t radio_resets;
    /* Single-chip radio backends (sx127x, sx126x), from struct lw_radio_stats: */
    uint64_t radio_crc_errors;
    uint64_t radio_watchdog_checks;
    uint64_t radio_tx_timeouts;
    uint64_t radio_recoveries_failed;
    bool radio_fault; /* the radio is down: its last recovery failed */
    struct lw_store_stats store;
    uint64_t db_bytes;
    enum lw_store_trouble storage; /* why the database cannot take writes (LW_STORE_OK: it can) */
    uint64_t storage_waiting;      /* alert writes kept in memory until it can */
    uint64_t ballast_bytes;        /* space held for alerts beside the database */
    uint64_t alerts_raised;
    uint64_t alerts_cleared;
    uint64_t alerts_active;
    bool mqtt_connected;
    int64_t outbox; /* messages the broker has not acknowledged, -1 unknown */
    struct lw_mqtt_stats mqtt;
    bool clock_synced;
    double loop_lag_s;     /* last measured lateness of a loop timer */
    double loop_lag_max_s; /* largest since start */
};

/* The exposition text; caller frees. NULL on allocation failure. */
char *lw_metrics_text(const struct lw_metrics *m);
/* Write it to path atomically. LW_OK or LW_ERR_IO (errno set). */
int lw_metrics_write(const char *path, const struct lw_metrics *m);

#endif
