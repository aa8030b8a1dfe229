/* SPDX-License-Identifier: Apache-2.0 */
/* Datagram format of the simulated radio medium (loopback UDP between lorawatch-sim and the
 * daemon's sim radio backend): RF metadata, virtual time and one LoRa PHY payload. No I/O. */
#ifndef LW_SIMWIRE_H
#define LW_SIMWIRE_H

#include <stddef.h>
#include <stdint.h>

#define LW_SIMWIRE_MAGIC   "LWSM"
#define LW_SIMWIRE_VERSION 1
#define LW_SIMWIRE_HDR_LEN 30
#define LW_SIMWIRE_MAX_LEN (LW_SIMWIRE_HDR_LEN + 255)

enum lw_simwire_kind {
    LW_SIMWIRE_AIR = 1,  /* a LoRa frame on the air */
    LW_SIMWIRE_TICK = 2, /* virtual clock advance only, no payload */
};

struct lw_simwire {
    uint8_t kind; /* enum lw_simwire_kind */
    uint8_t sf;   /* 6..12 */
    uint32_t freq_hz;
    uint32_t bw_hz;
    int16_t rssi_x10;       /* dBm * 10 */
    int16_t snr_x10;        /* dB * 10 */
    uint64_t t_ms;          /* virtual Unix time in ms; 0 = receiver uses its own clock */
    const uint8_t *payload; /* decode: points into the input buffer */
    uint16_t len;           /* payload length, 0..255 (0 for TICK) */
};

/* Returns bytes written or LW_ERR_INVAL / LW_ERR_TOOBIG. */
int lw_simwire_encode(const struct lw_simwire *m, uint8_t *out, size_t cap);
/* Returns LW_OK or LW_ERR_TRUNCATED, LW_ERR_INVAL (magic, kind, reserved byte, length mismatch),
 * LW_ERR_VERSION, LW_ERR_TOOBIG. */
int lw_simwire_decode(const uint8_t *in, size_t len, struct lw_simwire *m);

#endif
