/* SPDX-License-Identifier: Apache-2.0 */
/* Shared by the configuration loader's files and not for other modules: the key tables
 * (lw_config_keys.c) that the parser (lw_config.c) walks, and the enum spellings (lw_model.c)
 * that both use. */
#ifndef LW_CONFIG_INT_H
#define LW_CONFIG_INT_H

#include <stddef.h>
#include <stdint.h>

#include "lw_model.h"

enum key_type {
    KT_STR,      /* char array; optional choices list */
    KT_U32,      /* uint32_t in [min, max] */
    KT_U16,      /* uint16_t in [min, max] */
    KT_DURATION, /* uint64_t milliseconds in [min, max] */
    KT_DOUBLE,   /* double, bounds from the metric table at validation */
    KT_ENUM,     /* int-sized enum, index into choices */
    KT_KINDS,    /* comma list of node kinds -> bitmask */
    KT_HEX,      /* fixed-size byte array as hex */
};

struct key {
    const char *section; /* "gateway", "radio", ... or "node" / "rule" for repeated sections */
    const char *name;
    enum key_type type;
    size_t off;
    size_t size;
    const char *def; /* NULL: required */
    uint64_t min, max;
    const char *const *choices;
    const char *help;
};

/* The key tables (lw_config_keys.c); it checks these counts against them. */
#define N_SCALAR 58
#define N_NODE   13
#define N_RULE   24
extern const struct key lw_config_scalar_keys[N_SCALAR];
extern const struct key lw_config_node_keys[N_NODE];
extern const struct key lw_config_rule_keys[N_RULE]; /* indices as RK_* */
extern const struct key lw_config_direction_key;
extern const char *const lw_config_direction_names[];
extern const char *const lw_config_rule_type_names[];
extern const char *const lw_config_statistic_names[];

/* Index of each key in lw_config_rule_keys. */
enum {
    RK_METRIC,
    RK_THRESHOLD,
    RK_CLEAR,
    RK_LEVEL,
    RK_HAZARD,
    RK_KINDS,
    RK_TAGS,
    RK_EXCEPT,
    RK_PERSIST,
    RK_TYPE,
    RK_STAT,
    RK_WINDOW,
    RK_EXPONENT,
    RK_FLOOR,
    RK_FILTER,
    RK_NOISE,
    RK_SPIKE,
    RK_MAXRISE,
    RK_PTOL,
    RK_PTIME,
    RK_COINC,
    RK_CWINDOW,
    RK_TIMEOUT,
    RK_FLAG,
};

/* The NULL-terminated choices as "a, b, c". */
void lw_config_choices_text(const char *const *choices, char *out, size_t cap);

#endif
