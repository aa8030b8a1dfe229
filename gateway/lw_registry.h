/* Node registry: the paired nodes (from the config for now) with their runtime state, looked up
 * by frame source address. */
#ifndef LW_REGISTRY_H
#define LW_REGISTRY_H

#include <stddef.h>
#include <stdint.h>

#include "lw_config.h"
#include "lw_replay.h"
#include "lw_rules.h"

struct lw_node {
    const struct lw_node_conf *conf;
    struct lw_replay replay;
    int64_t last_seen_ms; /* 0: never heard */
    int16_t last_rssi_x10;
    int16_t last_snr_x10;
    uint64_t frames;
    struct lw_rule_state *rules; /* one per config rule, same order */
};

struct lw_registry;

/* Builds the registry from cfg (which must outlive it). NULL on allocation failure. */
struct lw_registry *lw_registry_new(const struct lw_config *cfg);
void lw_registry_free(struct lw_registry *reg);
/* Node with that address, or NULL. O(log n). */
struct lw_node *lw_registry_find(struct lw_registry *reg, uint16_t address);
size_t lw_registry_count(const struct lw_registry *reg);
struct lw_node *lw_registry_at(struct lw_registry *reg, size_t i);

#endif
