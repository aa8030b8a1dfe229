/* SPDX-License-Identifier: Apache-2.0 */
/* Node registry: the nodes loaded from the database (paired ones and those provisioned from
 * [node:] sections) with their runtime state, looked up by frame source address. */
#ifndef LW_REGISTRY_H
#define LW_REGISTRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lw_contact.h"
#include "lw_model.h"
#include "lw_reading.h"
#include "lw_replay.h"
#include "lw_rules.h"

struct lw_node {
    const struct lw_node_conf *conf; /* the registry's own copy */
    struct lw_replay replay;
    int64_t first_seen_ms; /* 0: never heard */
    int64_t last_seen_ms;  /* 0: never heard */
    int16_t last_rssi_x10;
    int16_t last_snr_x10;
    uint8_t last_sf;
    uint8_t last_hops;
    uint16_t last_relay; /* address of the last relay (0: heard directly) */
    uint64_t frames;
    struct lw_reading last;        /* latest reading (last.present == 0: none yet) */
    struct lw_node_contact db_seen; /* last contact as stored: shown until the node is heard */
    int64_t db_saved_ms;           /* when last contact was last written to the database */
    struct lw_rule_state *rules;   /* one per config rule, same order */
};

struct lw_registry;

/* Builds the registry from copies of nodes[0..n) (retired ones are skipped) and cfg's rules
 * (cfg must outlive the registry). NULL on allocation failure. */
struct lw_registry *lw_registry_new(const struct lw_config *cfg, const struct lw_node_conf *nodes,
                                    size_t n);
void lw_registry_free(struct lw_registry *reg);
/* Node with that address, or NULL. O(log n). */
struct lw_node *lw_registry_find(struct lw_registry *reg, uint16_t address);
/* Node whose hardware has that EUI, or NULL. O(n): joins are rare and rate-limited. */
struct lw_node *lw_registry_find_eui(struct lw_registry *reg, const uint8_t eui[8]);
size_t lw_registry_count(const struct lw_registry *reg);
struct lw_node *lw_registry_at(struct lw_registry *reg, size_t i);
/* Replace a node's description in place (same address), e.g. after a join or a move; the rule
 * applicability is recomputed. LW_ERR_UNKNOWN_NODE when absent. */
int lw_registry_update(struct lw_registry *reg, const struct lw_node_conf *conf);

#endif
