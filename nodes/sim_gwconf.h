/* SPDX-License-Identifier: Apache-2.0 */
/* What the gateway needs to know of a scenario's nodes: their [node:NAME] sections for the
 * daemon's configuration (lorawatch-sim --emit-node-config). */
#ifndef SIM_GWCONF_H
#define SIM_GWCONF_H

#include <stdio.h>

#include "sim_scenario.h"

/* Print the gateway-side [node:NAME] sections (gateway keys only, in table order). */
int sim_scenario_emit_node_config(const struct sim_scenario *sc, FILE *out);

#endif
