/* SPDX-License-Identifier: Apache-2.0 */
/* The virtual-time scheduler: runs a scenario's nodes on a libuv loop, pacing virtual time
 * against real time, and sends their frames and the TICKs through the simulated medium. */
#ifndef SIM_RUN_H
#define SIM_RUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "sim_mutate.h"
#include "sim_scenario.h"
#include "sim_state.h"

/* After a node sent a frame that asks for an answer (JOIN_REQ, ALARM with ACK_REQ) it listens for
 * this much virtual time. The answer comes from a real process, so virtual time is not let past
 * the end of an open window until the answer has arrived or reply_wait_ms of real time passed. */
#define SIM_REPLY_WINDOW_MS 1000u /* below the first ALARM retry (2 s - 25 %) */
#define SIM_REPLY_WAIT_MS   2000u

struct sim_run_opts {
    const struct sim_scenario *sc;
    double acceleration;        /* virtual s per real s; 0 = as fast as possible */
    uint32_t count;             /* frames per node; 0 = until the scenario duration */
    bool final_tick;            /* TICK at the end time (scenario runs) */
    enum sim_mutation mutation; /* applied to every frame */
    FILE *verbose;              /* one line per frame here, or NULL */
    struct sim_state *state;    /* join nonces and counter bounds (required) */
    uint32_t reply_wait_ms;     /* real time to wait for an answer; 0 = SIM_REPLY_WAIT_MS */
};

struct sim_node_stats {
    const char *name;
    uint16_t address;
    uint64_t frames, alarm_frames;
    uint32_t first_fcnt, last_fcnt;
    int64_t first_alarm_ms; /* virtual ms from the start of the first ALARM frame, -1 = none */
    int error;              /* lw_err that stopped the node, 0 = none */
    bool join;              /* join mode */
    uint32_t join_requests; /* JOIN_REQs sent */
    int64_t joined_ms;      /* virtual ms of the accepted JOIN_ACC, -1 = not joined */
    uint64_t downlinks;     /* authentic downlinks (JOIN_ACC, ACK, CMD) accepted */
    uint64_t skipped;       /* reports not sent because the node had no session yet */
    uint64_t forwarded;     /* mesh: frames of others this relay forwarded */
    uint64_t cancelled;     /* mesh: forwards cancelled on overhearing another relay */
    bool failed;            /* mesh: went dark at fail_at */
};

/* What the air model saw (scenarios with links). */
struct sim_mesh_stats {
    uint64_t sent;             /* the nodes' own uplink frames */
    uint64_t delivered;        /* of those, reached the gateway (first copy) */
    uint64_t copies;           /* further copies at the gateway (another relay, a retry's echo) */
    uint64_t alarms;           /* alarm readings (each retransmission of one counts once) */
    uint64_t alarms_delivered; /* reached the gateway at least once */
    uint64_t alarms_acked;     /* acknowledged back at the node */
    double alarm_latency_median_ms, alarm_latency_p99_ms, alarm_latency_max_ms;
    uint64_t routine_sent, routine_delivered; /* DATA frames */
    uint64_t transmissions, forwarded, cancelled;
    uint64_t lost_link, lost_collision, lost_busy, lost_weak;
    uint64_t tx_busy; /* own frames not sent: the node's radio was still sending (a forward) */
    uint32_t channels;
    double utilisation[16]; /* share of the virtual time each channel carried a frame */
};

struct sim_stats {
    const char *scenario; /* name, NULL in ad-hoc mode */
    int64_t start_ms;     /* Unix ms of virtual time 0, 0 = none */
    uint64_t frames, alarm_frames, datagrams, ticks, send_errors, airtime_us;
    uint64_t virtual_ms;                 /* virtual time covered */
    uint64_t real_ms;                    /* wall-clock time taken */
    bool started;                        /* the loop ran (else nothing was sent) */
    bool interrupted;                    /* stopped by SIGINT/SIGTERM */
    int last_send_error;                 /* libuv code */
    uint64_t rx_datagrams, rx_malformed; /* received from the gateway */
    uint64_t reply_waits;                /* times virtual time waited for an answer */
    size_t n_nodes;
    struct sim_node_stats *nodes; /* owned: sim_stats_free */
    bool mesh;                    /* the scenario had links: mesh holds the air's figures */
    struct sim_mesh_stats mesh_st;
};

/* Run until the end of the scenario (or count frames per node, or a signal). Returns LW_OK
 * after a complete or interrupted run, or a negative lw_err when the run could not start
 * (st->started false) or a node failed, with a message in err. Always sim_stats_free st. */
int sim_run(const struct sim_run_opts *o, struct sim_stats *st, char *err, size_t errlen);
void sim_stats_free(struct sim_stats *st);

#endif
