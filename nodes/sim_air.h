/* SPDX-License-Identifier: Apache-2.0 */
/* The simulated air of a mesh (pure: no I/O, virtual time in microseconds): endpoints (the
 * gateway is endpoint 0) joined by symmetric links with an SNR and a loss rate, transmissions on
 * channels with their time on air, and for each one who received it: lost on the link, lost in a
 * collision (an overlapping transmission on the same channel and spreading factor, unless the
 * frame is capture_db stronger), lost because the receiver was transmitting itself, or lost
 * below the demodulation floor. Counts channel utilisation. */
#ifndef SIM_AIR_H
#define SIM_AIR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lw_airtime.h"
#include "lw_frame.h"
#include "sim_prng.h"

#define SIM_AIR_GATEWAY 0u

struct sim_air_stats {
    uint64_t transmissions;
    uint64_t receptions;     /* frames delivered to an endpoint */
    uint64_t lost_link;      /* the link's loss rate */
    uint64_t lost_collision; /* overlapped on the same channel without capture */
    uint64_t lost_busy;      /* the receiver was transmitting (half duplex) */
    uint64_t lost_weak;      /* SNR below the spreading factor's demodulation floor */
    uint64_t busy_us[16];    /* time on air per channel */
};

/* One reception: endpoint rx heard frame (len bytes) from tx at snr_db, ending at t_us. */
typedef void (*sim_air_rx_fn)(void *user, uint32_t rx, uint32_t tx, const uint8_t *frame,
                              size_t len, double snr_db, uint64_t t_us);

struct sim_air;

/* n endpoints (0 = gateway), channels 1..16, lora: the modulation (every transmission uses it),
 * capture_db: how much stronger a frame must be to survive an overlap, seed: the loss draws.
 * NULL on bad arguments or out of memory. */
struct sim_air *sim_air_new(uint32_t n, uint32_t channels, const struct lw_lora_params *lora,
                            double capture_db, uint64_t seed);
void sim_air_free(struct sim_air *a);

/* Join a and b (both ways) with an SNR and a loss rate 0..1. A later call for the same pair
 * replaces it. LW_OK or LW_ERR_INVAL / LW_ERR_NOMEM. */
int sim_air_link(struct sim_air *a, uint32_t x, uint32_t y, double snr_db, double loss);
/* The link's SNR, or false when x and y do not hear each other. */
bool sim_air_linked(const struct sim_air *a, uint32_t x, uint32_t y, double *snr_db);
/* Endpoint x no longer sends nor hears (a failed relay), or again. */
void sim_air_set_down(struct sim_air *a, uint32_t x, bool down);

/* Put frame on channel (0..channels-1) from endpoint tx at t_us; returns its time on air (us),
 * or 0 when it was not sent (endpoint down, bad argument, or tx is still transmitting). */
uint32_t sim_air_transmit(struct sim_air *a, uint32_t tx, uint32_t channel, uint64_t t_us,
                          const uint8_t *frame, size_t len);
/* Is endpoint x still transmitting at t_us (its radio cannot start another frame)? */
bool sim_air_sending(const struct sim_air *a, uint32_t x, uint64_t t_us);
/* Listen before talk: does endpoint x hear anything on channel at t_us (or is it sending)? */
bool sim_air_busy(const struct sim_air *a, uint32_t x, uint32_t channel, uint64_t t_us);
/* End of the earliest transmission still in the air, or UINT64_MAX. */
uint64_t sim_air_next_end(const struct sim_air *a);
/* Resolve every transmission that ended by t_us (in order of their end), calling fn for each
 * reception. Returns the number of receptions. */
size_t sim_air_advance(struct sim_air *a, uint64_t t_us, sim_air_rx_fn fn, void *user);

void sim_air_stats(const struct sim_air *a, struct sim_air_stats *out);
uint32_t sim_air_channels(const struct sim_air *a);

/* Demodulation floor of a spreading factor (SX127x datasheet): -7.5 dB at SF7 .. -20 dB at SF12. */
double sim_air_snr_floor(uint8_t sf);

#endif
