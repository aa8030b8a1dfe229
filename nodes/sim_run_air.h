/* Mesh scenarios (nodes with links): the run's nodes and the gateway on the simulated air
 * (sim_air) rather than straight on the medium. For sim_run.c only. */
#ifndef SIM_RUN_AIR_H
#define SIM_RUN_AIR_H

#include <stddef.h>
#include <stdint.h>

struct run;
struct run_node;
struct rx_item;

/* The node's frame onto the air (hal_send of a mesh run). */
int air_send(struct run *r, struct run_node *rn, const uint8_t *frame, size_t len);
/* hal.channel_busy: listen before talk on the channel of the node's next transmission. */
int hal_channel_busy(void *ctx);
/* Deliver the transmissions that ended by now, to the nodes and to the gateway. */
void air_advance(struct run *r);
/* The gateway's downlink goes on the air from endpoint 0. */
void air_downlink(struct run *r, const struct rx_item *it);
/* The node goes dark at its fail_at. */
void node_dark(struct run *r, struct run_node *rn);
/* Build the air from the scenario's links. */
int air_open(struct run *r);
/* The air's figures into the run's mesh stats, at the end of the run. */
void air_summary(struct run *r);

#endif
