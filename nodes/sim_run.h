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

struct sim_run_opts {
    const struct sim_scenario *sc;
    double acceleration;        /* virtual s per real s; 0 = as fast as possible */
    uint32_t count;             /* frames per node; 0 = until the scenario duration */
    bool final_tick;            /* TICK at the end time (scenario runs) */
    enum sim_mutation mutation; /* applied to every frame */
    FILE *verbose;              /* one line per frame here, or NULL */
};

struct sim_node_stats {
    const char *name;
    uint16_t address;
    uint64_t frames, alarm_frames;
    uint32_t first_fcnt, last_fcnt;
    int64_t first_alarm_ms; /* virtual ms from the start of the first ALARM frame, -1 = none */
    int error;              /* lw_err that stopped the node, 0 = none */
};

struct sim_stats {
    const char *scenario; /* name, NULL in ad-hoc mode */
    int64_t start_ms;     /* Unix ms of virtual time 0, 0 = none */
    uint64_t frames, alarm_frames, datagrams, ticks, send_errors, airtime_us;
    uint64_t virtual_ms; /* virtual time covered */
    uint64_t real_ms;    /* wall-clock time taken */
    bool started;        /* the loop ran (else nothing was sent) */
    bool interrupted;    /* stopped by SIGINT/SIGTERM */
    int last_send_error; /* libuv code */
    size_t n_nodes;
    struct sim_node_stats *nodes; /* owned: sim_stats_free */
};

/* Run until the end of the scenario (or count frames per node, or a signal). Returns LW_OK
 * after a complete or interrupted run, or a negative lw_err when the run could not start
 * (st->started false) or a node failed, with a message in err. Always sim_stats_free st. */
int sim_run(const struct sim_run_opts *o, struct sim_stats *st, char *err, size_t errlen);
void sim_stats_free(struct sim_stats *st);

#endif
