/* SPDX-License-Identifier: Apache-2.0 */
/* For the modules built on the scenario model (the file reader, the gateway configuration): the
 * key names, the diagnostics sink and the node lookup of sim_scenario.c. Not for the rest of
 * the simulator. */
#ifndef SIM_SCENARIO_INT_H
#define SIM_SCENARIO_INT_H

#include "sim_scenario.h"

#define SIM_MSG_MAX 512

/* Key names of a [node:NAME] section, indexed by enum sim_node_key. */
extern const char *const sim_node_key_names[SIM_NK_COUNT];

struct diag_sink {
    const char *file;
    sim_diag_fn diag;
    void *user;
    int errors;
};

void sim_diag_report(struct diag_sink *d, int line, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

struct sim_node *sim_find_node(const struct sim_scenario *sc, const char *name);

#endif
