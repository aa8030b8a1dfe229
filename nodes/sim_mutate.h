/* SPDX-License-Identifier: Apache-2.0 */
/* Deliberately bad frames for gateway tests (--mutate): replayed, forged, truncated, oversized,
 * foreign-network, wrong-key, wrong-version and garbage frames. */
#ifndef SIM_MUTATE_H
#define SIM_MUTATE_H

#include <stddef.h>
#include <stdint.h>

#include "lw_node.h"
#include "sim_prng.h"

enum sim_mutation {
    SIM_MUT_NONE,
    SIM_MUT_REPLAY,     /* send each frame twice, identical */
    SIM_MUT_MIC,        /* flip a bit in the MIC */
    SIM_MUT_TRUNCATE,   /* cut the frame to 10 bytes */
    SIM_MUT_OVERSIZE,   /* simwire datagram declaring (and carrying) 300 payload bytes */
    SIM_MUT_NETID,      /* seal with network_id XOR 0x0001 */
    SIM_MUT_KEY,        /* seal with a wrong key */
    SIM_MUT_VERSION,    /* version nibble 2 after sealing */
    SIM_MUT_GARBAGE,    /* random bytes instead of the frame */
    SIM_MUT_ROUTE_LOOP, /* route trailer naming relay 0x0777 twice (a loop), hop_count 2 */
    SIM_MUT_HOP_LIMIT,  /* seal with hop_limit 7: more than the gateway allows */
    SIM_MUT_HOP_FORGED, /* hop_count raised to 1 with a made-up route entry on a frame sealed
                           with hop_limit 0: the origin frame then fails its MIC */
    SIM_MUT_COUNT
};

#define SIM_MUTATE_TRUNCATE_LEN 10
#define SIM_MUTATE_OVERSIZE_LEN 300

/* Returns LW_OK or LW_ERR_INVAL for an unknown name. */
int sim_mutation_parse(const char *name, enum sim_mutation *out);
const char *sim_mutation_name(enum sim_mutation m);
/* One-line description for the usage text. */
const char *sim_mutation_help(enum sim_mutation m);

/* Seal-time mutations (netid, key): change the node's configuration before lw_node_init. */
void sim_mutate_config(enum sim_mutation m, struct lw_node_config *cfg);
/* How many times each (mutated) frame is sent: 2 for replay, else 1. */
unsigned sim_mutation_copies(enum sim_mutation m);
/* After-seal mutations (mic, truncate, version, garbage): copy frame to out (LW_FRAME_MAX_LEN
 * bytes) changed as asked. Returns the new length. Other mutations copy unchanged. */
size_t sim_mutate_frame(enum sim_mutation m, const uint8_t *frame, size_t len, uint8_t *out,
                        struct sim_prng *prng);
/* The oversize datagram: a valid simwire AIR header whose length field says 300, followed by
 * the frame padded with zeros to 300 bytes. out needs LW_SIMWIRE_HDR_LEN + 300 bytes.
 * Returns the datagram length or a negative lw_err. */
int sim_mutate_oversize(uint8_t sf, uint32_t freq_hz, uint32_t bw_hz, int16_t rssi_x10,
                        int16_t snr_x10, uint64_t t_ms, const uint8_t *frame, size_t len,
                        uint8_t *out, size_t cap);

#endif
