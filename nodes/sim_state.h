/* SPDX-License-Identifier: Apache-2.0 */
/* Durable per-node state of the simulator (--state FILE): the last join nonce used and a bound
 * ahead of each personalised node's frame counter, so a restarted simulator never reuses either. */
#ifndef SIM_STATE_H
#define SIM_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Counters reserved per write: a personalised node writes its counter bound once every this many
 * frames and, after a restart, skips forward to the bound (PROTOCOL.md section 6 allows it). */
#define SIM_STATE_FCNT_STEP 256u

struct sim_state_node {
    char *name;
    uint8_t eui[8];
    bool have_eui;
    uint32_t join_nonce; /* last join nonce used, 0 = none */
    uint32_t fcnt_bound; /* every counter below it may have been used; 0 = none */
};

struct sim_state {
    char *path; /* NULL: in memory only (no --state) */
    struct sim_state_node *nodes;
    size_t n, cap;
};

/* Empty state bound to path (NULL: nothing is ever written). */
int sim_state_init(struct sim_state *st, const char *path);
void sim_state_free(struct sim_state *st);

/* Parse the text of a state file (INI: [node:NAME] sections with eui, join_nonce, fcnt_bound).
 * Returns LW_OK, or LW_ERR_CONFIG with the first problem as "LINE: message" in err; st is
 * unchanged on error. */
int sim_state_parse(struct sim_state *st, const char *text, size_t len, char *err, size_t errlen);

/* Read st->path if it exists (a missing file is an empty state). Returns LW_OK, LW_ERR_IO or
 * LW_ERR_CONFIG with a message in err. */
int sim_state_load(struct sim_state *st, char *err, size_t errlen);

/* The entry of node name with EUI eui, created empty when missing. An entry written for another
 * EUI belongs to a different node: it is reset (*replaced set true). NULL when out of memory. */
struct sim_state_node *sim_state_node(struct sim_state *st, const char *name, const uint8_t eui[8],
                                      bool *replaced);

/* Write the whole state durably: a temporary file in the same directory, fsync, rename, fsync of
 * the directory. No-op without a path. Returns LW_OK or LW_ERR_IO with a message in err. */
int sim_state_save(const struct sim_state *st, char *err, size_t errlen);

#endif
