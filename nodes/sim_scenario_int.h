/* For the modules built on the scenario model (the gateway configuration): the key names of
 * sim_scenario.c. Not for the rest of the simulator. */
#ifndef SIM_SCENARIO_INT_H
#define SIM_SCENARIO_INT_H

#include "sim_scenario.h"

/* Key names of a [node:NAME] section, indexed by enum sim_node_key. */
extern const char *const node_key_names[SIM_NK_COUNT];

#endif
