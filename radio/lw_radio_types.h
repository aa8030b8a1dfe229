/* SPDX-License-Identifier: Apache-2.0 */
/* Plain radio types shared by the chip drivers and their consumers (gateway, node programs,
 * firmware): a received frame and the LoRa settings a driver runs with. No platform types. */
#ifndef LW_RADIO_TYPES_H
#define LW_RADIO_TYPES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lw_frame.h"

struct lw_radio_rx {
    uint8_t buf[LW_FRAME_MAX_LEN];
    size_t len;       /* 0: no frame, only a clock advance (t_ms) from a simulated medium */
    int16_t rssi_x10; /* dBm * 10 */
    int16_t snr_x10;  /* dB * 10 */
    uint32_t freq_hz;
    uint8_t sf;
    uint32_t bw_hz;
    int64_t t_ms; /* reception time, Unix ms: system clock, or the medium's virtual clock */
    /* Reception time on a clock that never jumps (CLOCK_MONOTONIC, or the medium's virtual
     * clock): rules measure persistence with it, so setting the wall clock cannot fake it. */
    int64_t mono_ms;
};

/* What a chip driver is configured with: the channel, the modem and the module's options. */
struct lw_chip_params {
    uint32_t freq_hz;
    uint8_t sf;
    uint32_t bw_hz;
    uint8_t cr; /* 5..8: 4/5 .. 4/8 */
    uint16_t preamble;
    uint8_t sync_word;
    int8_t power_dbm;    /* already capped to the region */
    uint16_t tcxo_mv;    /* SX126x: TCXO supply on DIO3 in mV; 0: crystal */
    bool dio2_rf_switch; /* SX126x: DIO2 drives the antenna switch */
};

#endif
