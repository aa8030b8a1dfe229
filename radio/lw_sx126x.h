/* SPDX-License-Identifier: Apache-2.0 */
/* SX1262 driver over the chip bus (BUSY handshake before every command, IRQs on DIO1); its table
 * is lw_sx126x_driver (lw_radio_drv.h). The conversions below are exported for the tests and
 * the emulator. */
#ifndef LW_SX126X_H
#define LW_SX126X_H

#include <stdint.h>

/* SetRfFrequency argument for a carrier frequency in Hz, rounded to the nearest step. */
uint32_t lw_sx126x_rf_freq(uint32_t freq_hz);
/* SetModulationParams bandwidth code for 125/250/500 kHz; -1 otherwise. */
int lw_sx126x_bw_code(uint32_t bw_hz);
/* SetDIO3AsTCXOCtrl voltage code for a supply in mV (the highest code not above it). */
uint8_t lw_sx126x_tcxo_code(uint16_t mv);
/* The two sync-word register values for a one-byte LoRa sync word 0xXY: 0xX4, 0xY4. */
void lw_sx126x_sync_regs(uint8_t sync_word, uint8_t out[2]);
/* CalibrateImage arguments for the band around freq_hz (datasheet 9.2.1). */
void lw_sx126x_image_cal(uint32_t freq_hz, uint8_t out[2]);

#endif
