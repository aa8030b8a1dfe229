/* SPDX-License-Identifier: Apache-2.0 */
/* Node registry: a sorted array of nodes, binary-searched by address. */
#include "lw_registry.h"

#include <stdlib.h>
#include <string.h>

#include "lw_error.h"

struct lw_registry {
    const struct lw_config *cfg;
    struct lw_node *nodes; /* sorted by address */
    struct lw_node_conf *confs;
    size_t n;
    struct lw_rule_state *rule_states; /* n * n_rules, one block */
};

static int by_address(const void *a, const void *b)
{
    const struct lw_node_conf *x = a, *y = b;
    return (int)x->address - (int)y->address;
}

static void compute_applies(const struct lw_config *cfg, struct lw_node *n)
{
    /* Kinds and tags are fixed per configuration: not parsed again for every frame. */
    for (size_t k = 0; k < cfg->n_rules; k++)
        n->rules[k].applies = lw_rule_applies(&cfg->rules[k], n->conf);
}

struct lw_registry *lw_registry_new(const struct lw_config *cfg, const struct lw_node_conf *nodes,
                                    size_t n)
{
    struct lw_registry *reg = calloc(1, sizeof(*reg));
    if (!reg)
        return NULL;
    reg->cfg = cfg;
    reg->confs = calloc(n ? n : 1, sizeof(*reg->confs));
    reg->nodes = calloc(n ? n : 1, sizeof(*reg->nodes));
    reg->rule_states = calloc(n * cfg->n_rules + 1, sizeof(*reg->rule_states));
    if (!reg->nodes || !reg->confs || !reg->rule_states) {
        lw_registry_free(reg);
        return NULL;
    }
    for (size_t i = 0; i < n; i++)
        if (nodes[i].state != LW_NODE_RETIRED)
            reg->confs[reg->n++] = nodes[i];
    qsort(reg->confs, reg->n, sizeof(*reg->confs), by_address);
    for (size_t i = 0; i < reg->n; i++) {
        struct lw_node *node = &reg->nodes[i];
        node->conf = &reg->confs[i];
        lw_replay_init(&node->replay);
        node->rules = &reg->rule_states[i * cfg->n_rules];
        compute_applies(cfg, node);
    }
    return reg;
}

void lw_registry_free(struct lw_registry *reg)
{
    if (!reg)
        return;
    free(reg->nodes);
    free(reg->confs);
    free(reg->rule_states);
    free(reg);
}

struct lw_node *lw_registry_find(struct lw_registry *reg, uint16_t address)
{
    size_t lo = 0, hi = reg->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        uint16_t a = reg->confs[mid].address;
        if (a == address)
            return &reg->nodes[mid];
        if (a < address)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

struct lw_node *lw_registry_find_eui(struct lw_registry *reg, const uint8_t eui[8])
{
    for (size_t i = 0; i < reg->n; i++)
        if (memcmp(reg->confs[i].eui, eui, 8) == 0)
            return &reg->nodes[i];
    return NULL;
}

size_t lw_registry_count(const struct lw_registry *reg)
{
    return reg->n;
}

struct lw_node *lw_registry_at(struct lw_registry *reg, size_t i)
{
    return i < reg->n ? &reg->nodes[i] : NULL;
}

int lw_registry_update(struct lw_registry *reg, const struct lw_node_conf *conf)
{
    struct lw_node *n = lw_registry_find(reg, conf->address);
    if (!n)
        return LW_ERR_UNKNOWN_NODE;
    reg->confs[n - reg->nodes] = *conf;
    compute_applies(reg->cfg, n);
    return LW_OK;
}
