/* SPDX-License-Identifier: Apache-2.0 */
/* SX1276/77/78/79 driver (LoRa mode) over the chip bus; its table is lw_sx127x_driver
 * (lw_radio_drv.h). The conversions below are exported for the tests and the emulator. */
#ifndef LW_SX127X_H
#define LW_SX127X_H

#include <stdbool.h>
#include <stdint.h>

/* Frf register value (24 bits) for a carrier frequency in Hz, rounded to the nearest step. */
uint32_t lw_sx127x_frf(uint32_t freq_hz);
/* RegModemConfig1 bandwidth code for 125/250/500 kHz; -1 otherwise. */
int lw_sx127x_bw_code(uint32_t bw_hz);
/* Low data rate optimisation is mandatory when a symbol lasts 16 ms or more. */
bool lw_sx127x_ldro(uint8_t sf, uint32_t bw_hz);
/* Packet SNR in dB * 10 from RegPktSnrValue (two's complement, quarter dB). */
int16_t lw_sx127x_snr_x10(uint8_t pkt_snr);
/* Packet RSSI in dBm * 10 from RegPktRssiValue and RegPktSnrValue on the LF (< 525 MHz, offset
 * -164) or HF port (offset -157), per datasheet section 5.5.5: above 0 dB SNR the 16/15
 * correction, below it the SNR added. */
int16_t lw_sx127x_rssi_x10(uint8_t pkt_rssi, uint8_t pkt_snr, bool lf);

#endif
