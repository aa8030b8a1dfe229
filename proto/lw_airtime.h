/* SPDX-License-Identifier: Apache-2.0 */
/* LoRa time on air (SX127x/SX126x datasheet formula) for airtime accounting and config checks. */
#ifndef LW_AIRTIME_H
#define LW_AIRTIME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct lw_lora_params {
    uint8_t sf;        /* spreading factor 6..12 */
    uint32_t bw_hz;    /* 7800..500000; 125000 typical */
    uint8_t cr;        /* coding rate 4/(4+cr): 1..4 */
    uint16_t preamble; /* preamble symbols, 8 typical */
    bool crc;          /* payload CRC on */
    bool implicit_hdr; /* implicit header mode */
    int8_t ldro;       /* low data rate optimisation: -1 auto (T_sym >= 16 ms), 0 off, 1 on */
};

/* Defaults: SF9, BW125, CR4/5, 8-symbol preamble, CRC on, explicit header, LDRO auto. */
void lw_lora_params_default(struct lw_lora_params *p);

/* Time on air of a payload_len-byte packet in microseconds (rounded to nearest), or 0 when the
 * parameters are invalid (including ldro outside -1..1) or payload_len > 255. Saturates at
 * UINT32_MAX, which only absurd preamble lengths reach. */
uint32_t lw_airtime_us(const struct lw_lora_params *p, size_t payload_len);

#endif
