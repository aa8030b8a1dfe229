/* SPDX-License-Identifier: Apache-2.0 */
/* Bad-frame injection: each mutation breaks exactly one property the gateway must check. */
#include "sim_mutate.h"
#include "lw_error.h"
#include "lw_simwire.h"

#include <string.h>

#define SIMWIRE_LEN_OFFSET 28 /* u16 LE payload length in the simwire header (PROTOCOL.md) */

static const struct {
    const char *name;
    const char *help;
} mutations[SIM_MUT_COUNT] = {
    [SIM_MUT_NONE] = {"none", "send frames as sealed (default)"},
    [SIM_MUT_REPLAY] = {"replay", "send each frame twice, byte for byte (replay)"},
    [SIM_MUT_MIC] = {"mic", "flip one bit of the MIC (forgery)"},
    [SIM_MUT_TRUNCATE] = {"truncate", "cut each frame to 10 bytes (shorter than any header)"},
    [SIM_MUT_OVERSIZE] = {"oversize", "simwire datagram declaring 300 payload bytes (> 255)"},
    [SIM_MUT_NETID] = {"netid", "seal with network id XOR 0x0001 (neighbouring network)"},
    [SIM_MUT_KEY] = {"key", "seal with a wrong key (bad MIC at the gateway)"},
    [SIM_MUT_VERSION] = {"version", "set the version nibble to 2 after sealing"},
    [SIM_MUT_GARBAGE] = {"garbage", "random bytes of the frame's length instead of the frame"},
    [SIM_MUT_ROUTE_LOOP] = {"route-loop", "a route trailer naming one relay twice (a loop)"},
    [SIM_MUT_HOP_LIMIT] = {"hop-limit", "sealed with hop limit 7, above the gateway's maximum"},
    [SIM_MUT_HOP_FORGED] = {"hop-forged",
                            "a relay hop added to a frame sealed with hop limit 1: the entry "
                            "moves where the MIC is read"},
};

int sim_mutation_parse(const char *name, enum sim_mutation *out)
{
    for (int i = 0; i < SIM_MUT_COUNT; i++) {
        if (strcmp(name, mutations[i].name) == 0) {
            *out = (enum sim_mutation)i;
            return LW_OK;
        }
    }
    return LW_ERR_INVAL;
}

const char *sim_mutation_name(enum sim_mutation m)
{
    return (unsigned)m < SIM_MUT_COUNT ? mutations[m].name : "?";
}

const char *sim_mutation_help(enum sim_mutation m)
{
    return (unsigned)m < SIM_MUT_COUNT ? mutations[m].help : "?";
}

void sim_mutate_config(enum sim_mutation m, struct lw_node_config *cfg)
{
    if (m == SIM_MUT_NETID) {
        cfg->net_id ^= 0x0001;
    } else if (m == SIM_MUT_HOP_LIMIT) {
        cfg->hop_limit = LW_HOP_MAX;
    } else if (m == SIM_MUT_HOP_FORGED) {
        cfg->hop_limit = 1;
    } else if (m == SIM_MUT_KEY) {
        uint8_t acc = 0;
        for (size_t i = 0; i < LW_KEY_LEN; i++)
            acc |= (cfg->key[i] ^= 0xA5);
        if (acc == 0) /* the original was all 0xA5: keep the wrong key non-zero */
            cfg->key[0] = 0x01;
    }
}

unsigned sim_mutation_copies(enum sim_mutation m)
{
    return m == SIM_MUT_REPLAY ? 2 : 1;
}

size_t sim_mutate_frame(enum sim_mutation m, const uint8_t *frame, size_t len, uint8_t *out,
                        struct sim_prng *prng)
{
    if (len > LW_FRAME_MAX_LEN)
        len = LW_FRAME_MAX_LEN;
    memcpy(out, frame, len);
    switch (m) {
    case SIM_MUT_MIC:
        if (len > 0)
            out[len - 1] ^= 0x01;
        break;
    case SIM_MUT_TRUNCATE:
        if (len > SIM_MUTATE_TRUNCATE_LEN)
            len = SIM_MUTATE_TRUNCATE_LEN;
        break;
    case SIM_MUT_VERSION:
        if (len > 0)
            out[0] = (uint8_t)(0x20 | (out[0] & 0x0F));
        break;
    case SIM_MUT_GARBAGE:
        for (size_t i = 0; i < len; i++)
            out[i] = (uint8_t)sim_prng_next(prng);
        break;
    case SIM_MUT_ROUTE_LOOP:
        if (len >= 2 && len + 6 <= LW_FRAME_MAX_LEN) {
            static const uint8_t loop[6] = {0x77, 0x07, 0xFB, 0x77, 0x07, 0xFB};
            out[1] = (uint8_t)((out[1] & 0x1F) | (2u << 5));
            memcpy(out + len, loop, sizeof(loop));
            len += sizeof(loop);
        }
        break;
    case SIM_MUT_HOP_FORGED:
        /* One hop counted, but the "route entry" is the frame's own last 3 bytes (the MIC's
         * tail): the receiver strips them and verifies a MIC that is not there. */
        if (len >= 2)
            out[1] = (uint8_t)((out[1] & 0x1F) | (1u << 5));
        break;
    default:
        break;
    }
    return len;
}

int sim_mutate_oversize(uint8_t sf, uint32_t freq_hz, uint32_t bw_hz, int16_t rssi_x10,
                        int16_t snr_x10, uint64_t t_ms, const uint8_t *frame, size_t len,
                        uint8_t *out, size_t cap)
{
    struct lw_simwire w = {
        .kind = LW_SIMWIRE_AIR,
        .sf = sf,
        .freq_hz = freq_hz,
        .bw_hz = bw_hz,
        .rssi_x10 = rssi_x10,
        .snr_x10 = snr_x10,
        .t_ms = t_ms,
        .payload = frame,
        .len = (uint16_t)len,
    };
    size_t total = LW_SIMWIRE_HDR_LEN + SIM_MUTATE_OVERSIZE_LEN;
    int n;

    if (cap < total || len > SIM_MUTATE_OVERSIZE_LEN)
        return LW_ERR_TOOBIG;
    n = lw_simwire_encode(&w, out, cap);
    if (n < 0)
        return n;
    memset(out + n, 0, total - (size_t)n);
    out[SIMWIRE_LEN_OFFSET] = (uint8_t)(SIM_MUTATE_OVERSIZE_LEN & 0xFF);
    out[SIMWIRE_LEN_OFFSET + 1] = (uint8_t)(SIM_MUTATE_OVERSIZE_LEN >> 8);
    return (int)total;
}
