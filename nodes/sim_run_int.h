/* SPDX-License-Identifier: Apache-2.0 */
/* The state of a run, for the scheduler (sim_run.c) and the mesh's air (sim_run_air.c), and the
 * scheduler's helpers the air uses. Not for the rest of the simulator. */
#ifndef SIM_RUN_INT_H
#define SIM_RUN_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "lw_airtime.h"
#include "lw_node.h"
#include "sim_air.h"
#include "sim_medium.h"
#include "sim_prng.h"
#include "sim_run.h"

/* Downlinks received but not yet delivered; more are dropped (counted as malformed). */
#define RUN_RXQ 64

struct run;

struct rx_item {
    uint64_t t; /* virtual time of delivery */
    uint16_t len;
    uint8_t buf[LW_FRAME_MAX_LEN];
};

struct run_node {
    struct run *run;
    const struct sim_node *sn;
    struct lw_node node;
    struct sim_prng prng;
    struct sim_rf rf;
    uint64_t k;           /* index of the next report */
    uint64_t base_ms;     /* virtual time of report 0 */
    uint64_t next_ms;     /* virtual time of the next report */
    bool done;            /* no more reports */
    bool stopped;         /* the node failed: nothing more at all */
    uint64_t join_at;     /* virtual time to start the join, UINT64_MAX = none */
    uint64_t reply_until; /* end of the open reply window (virtual), 0 = none */
    bool trouble_pending; /* a trouble report sent, its ACK not in yet (the window waits) */
    uint64_t reply_real;  /* uv_hrtime when that window opened */
    size_t state_idx;     /* entry in o->state */
    struct sim_node_stats *st;
    /* Mesh (scenarios with links): endpoint index + 1 in the air, next channel, alarm tracking. */
    uint32_t channel;      /* channel of the next transmission (listen before talk checks it) */
    bool dark;             /* failed at fail_at: neither sends nor hears */
    bool alarm_open;       /* the sim's view: an alarm reading not yet at the gateway */
    uint64_t alarm_start;  /* virtual time of its first transmission */
    uint64_t acks_seen;    /* lw_node_alarm_acks already counted */
    uint32_t cur_interval; /* reporting interval in force (a CMD may change it) */
};

struct run {
    const struct sim_run_opts *o;
    struct sim_stats *st;
    uv_loop_t loop;
    uv_timer_t timer;
    uv_signal_t sigint, sigterm;
    struct sim_medium medium;
    struct lw_lora_params lora;
    struct run_node *nodes;
    size_t n;
    uint64_t end_ms;      /* virtual end (UINT64_MAX: ad-hoc, ends when all nodes are done) */
    uint64_t next_tick;   /* UINT64_MAX: no more TICKs */
    uint64_t vnow;        /* virtual time of the event being processed */
    uint64_t real_start;  /* uv_hrtime at virtual 0 */
    uint64_t v_anchor;    /* pacing: virtual time v_anchor is due at real time real_anchor */
    uint64_t real_anchor; /* (moved when virtual time waited for an answer) */
    bool held;            /* virtual time is waiting for an answer */
    struct rx_item rxq[RUN_RXQ];
    size_t rx_head, rx_n;
    bool stopping;
    /* Mesh: the air, what reached the gateway, alarm latencies, the gateway's answer hold. */
    struct sim_air *air;
    uint64_t *gw_seen; /* open-addressing set of (src << 32 | fcnt) + 1 */
    size_t gw_seen_cap, gw_seen_n;
    uint32_t *lat;
    size_t n_lat, cap_lat;
    bool gw_hold;          /* a frame that asks for an answer went to the gateway */
    uint64_t gw_hold_at;   /* at this virtual time */
    uint64_t gw_hold_real; /* uv_hrtime then */
    int failure;           /* lw_err that ends the run as a failure */
    char *err;
    size_t errlen;
};

/* Unix ms of virtual time v, 0 when the scenario has no start. */
uint64_t sim_abs_time(const struct run *r, uint64_t v);
/* One line of the run's trace (--verbose), stamped with the virtual time and the node. */
void sim_vlog(struct run *r, const struct run_node *rn, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* A node accepted a downlink addressed to it. */
void sim_note_downlink(struct run *r, struct run_node *rn, uint8_t type, bool had_session,
                       uint16_t old_addr);

/* sim_run_air.c: mesh scenarios (nodes with links) run the nodes and the gateway on the
 * simulated air (sim_air) rather than straight on the medium. */
/* The node's frame onto the air (hal_send of a mesh run). */
int sim_run_air_send(struct run *r, struct run_node *rn, const uint8_t *frame, size_t len);
/* hal.channel_busy: listen before talk on the channel of the node's next transmission. */
int sim_run_channel_busy(void *ctx);
/* Deliver the transmissions that ended by now, to the nodes and to the gateway. */
void sim_run_air_advance(struct run *r);
/* The gateway's downlink goes on the air from endpoint 0. */
void sim_run_air_downlink(struct run *r, const struct rx_item *it);
/* The node goes dark at its fail_at. */
void sim_run_node_dark(struct run *r, struct run_node *rn);
/* Build the air from the scenario's links. */
int sim_run_air_open(struct run *r);
/* The air's figures into the run's mesh stats, at the end of the run. */
void sim_run_air_summary(struct run *r);

#endif
