/* SPDX-License-Identifier: Apache-2.0 */
/* The sensors of a simulated node: its readings at a virtual time, from the scenario's traces. */
#ifndef SIM_SENSOR_H
#define SIM_SENSOR_H

#include <stdbool.h>
#include <stdint.h>

#include "lw_reading.h"
#include "sim_scenario.h"

/* The reading node reports at virtual time t_ms (from the scenario start), and whether the
 * frame is an ALARM by the node's alarm_frames rule. */
void sim_node_sample(const struct sim_node *n, uint64_t t_ms, struct lw_reading *r, bool *alarm);

#endif
