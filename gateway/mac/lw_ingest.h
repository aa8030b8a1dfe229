/* SPDX-License-Identifier: Apache-2.0 */
/* Frame admission: header sanity, network id, known source, MIC, replay window, reading TLVs.
 * Pure: no I/O and no clock, so every rejection path is unit-tested; the caller logs. */
#ifndef LW_INGEST_H
#define LW_INGEST_H

#include <stddef.h>
#include <stdint.h>

#include "lw_frame.h"
#include "lw_reading.h"
#include "lw_registry.h"

/* Why frames were refused, counted for the status topic and the logs. */
struct lw_ingest_stats {
    uint64_t accepted;
    uint64_t malformed; /* header unparseable, bad version/type/hops, bad TLVs */
    uint64_t network;   /* other network id */
    uint64_t unknown;   /* source not in the registry, or without a session (not joined) */
    uint64_t mic;       /* authentication failed */
    uint64_t replay;    /* counter already seen or too old */
    uint64_t ignored;   /* valid but of a type this gateway does not take yet */
};

struct lw_ingest_result {
    struct lw_frame_hdr hdr;
    struct lw_node *node;
    struct lw_reading reading;
};

/* Admit one frame. LW_OK fills res and advances the node's replay window. Errors count the reason
 * in st and change no state, except that an authentic frame (MIC verified) of a type we do not
 * take or with bad TLVs still spends its counter, so it cannot be replayed later. Errors:
 * lw_frame_peek's, LW_ERR_NETWORK, LW_ERR_UNKNOWN_NODE, LW_ERR_MIC, LW_ERR_REPLAY,
 * lw_reading_decode's, LW_ERR_TYPE for frame types other than DATA/ALARM. */
int lw_ingest_frame(struct lw_registry *reg, uint16_t net_id, const uint8_t *buf, size_t len,
                    struct lw_ingest_result *res, struct lw_ingest_stats *st);

#endif
