/* Node registry: a sorted array of nodes, binary-searched by address. */
#include "lw_registry.h"

#include <stdlib.h>

struct lw_registry {
    struct lw_node *nodes; /* sorted by address */
    size_t n;
    struct lw_rule_state *rule_states; /* n * n_rules, one block */
};

static int by_address(const void *a, const void *b)
{
    const struct lw_node *x = a, *y = b;
    return (int)x->conf->address - (int)y->conf->address;
}

struct lw_registry *lw_registry_new(const struct lw_config *cfg)
{
    struct lw_registry *reg = calloc(1, sizeof(*reg));
    if (!reg)
        return NULL;
    reg->n = cfg->n_nodes;
    reg->nodes = calloc(reg->n ? reg->n : 1, sizeof(*reg->nodes));
    reg->rule_states = calloc(reg->n * cfg->n_rules + 1, sizeof(*reg->rule_states));
    if (!reg->nodes || !reg->rule_states) {
        lw_registry_free(reg);
        return NULL;
    }
    for (size_t i = 0; i < reg->n; i++) {
        reg->nodes[i].conf = &cfg->nodes[i];
        lw_replay_init(&reg->nodes[i].replay);
    }
    qsort(reg->nodes, reg->n, sizeof(*reg->nodes), by_address);
    for (size_t i = 0; i < reg->n; i++) {
        reg->nodes[i].rules = &reg->rule_states[i * cfg->n_rules];
        /* Kinds and tags are fixed per configuration: not parsed again for every frame. */
        for (size_t k = 0; k < cfg->n_rules; k++)
            reg->nodes[i].rules[k].applies = lw_rule_applies(&cfg->rules[k], reg->nodes[i].conf);
    }
    return reg;
}

void lw_registry_free(struct lw_registry *reg)
{
    if (!reg)
        return;
    free(reg->nodes);
    free(reg->rule_states);
    free(reg);
}

struct lw_node *lw_registry_find(struct lw_registry *reg, uint16_t address)
{
    size_t lo = 0, hi = reg->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        uint16_t a = reg->nodes[mid].conf->address;
        if (a == address)
            return &reg->nodes[mid];
        if (a < address)
            lo = mid + 1;
        else
            hi = mid;
    }
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
