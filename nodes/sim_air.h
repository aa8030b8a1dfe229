/* SPDX-License-Identifier: Apache-2.0 */
/* The simulated air of a mesh (pure: no I/O, virtual time in microseconds): endpoints (the
 * gateway is endpoint 0) joined by symmetric links with an SNR and a loss rate, transmissions on
 * channels with their time on air, and for each one who received it: lost on the link, lost in a
 * collision (an overlapping transmission on the same channel and spreading factor, unless the
 * frame is capture_db stronger), lost because the receiver was transmitting itself, or lost
 * below the demodulation floor. Counts channel utilisation.
 *
 * Two models. SIM_AIR_IDEAL (the default, as the first simulator had it): every endpoint hears
 * every channel at the air's one modulation all the time, carrier sense sees a frame over its
 * whole length, and an overlap is judged against each interferer alone. SIM_AIR_HONEST: what
 * single-chip radios do. Each endpoint has its radio settings (channels listened to, SF,
 * bandwidth, sync word, IQ polarity per direction) and a frame whose settings do not match the
 * receiver's is not received; a battery endpoint hears only inside its listen windows;
 * interference adds up (capture against the sum, demodulation against noise plus the sum, other
 * spreading factors attenuated by their rejection); a receiver that locked on one preamble
 * misses a frame that starts later (no re-lock); channel activity detection (CAD) on an SX127x
 * sees preambles only, on an SX126x also payload symbols with a probability; CAD, TX and RX time
 * are accounted per endpoint for the energy budget. */
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
    uint64_t lost_mismatch;  /* heard, but on settings the receiver was not tuned to */
    uint64_t lost_asleep;    /* a battery receiver outside its listen windows */
    uint64_t lost_locked;    /* the receiver was locked on an earlier preamble */
    uint64_t cads, cad_hits; /* channel activity detections, and how many saw activity */
    uint64_t busy_us[16];    /* time on air per channel */
};

enum sim_air_model { SIM_AIR_IDEAL = 0, SIM_AIR_HONEST = 1 };
enum sim_air_chip { SIM_AIR_SX127X = 0, SIM_AIR_SX126X = 1 };

/* One endpoint's radio (honest model). */
struct sim_air_radio {
    enum sim_air_chip chip;
    uint8_t sf;           /* transmits and listens at this spreading factor */
    uint32_t bw_hz;       /* bandwidth */
    uint8_t sync_word;    /* LoRa sync word: 0x12 private networks, 0x34 LoRaWAN public */
    bool iq_inverted_tx;  /* IQ polarity of what it sends */
    bool iq_inverted_rx;  /* IQ polarity it demodulates */
    uint32_t rx_channels; /* bit c: listening on channel c (a single chip: one bit) */
    bool rx_always;       /* mains-powered: the receiver is on whenever it is not sending;
                             else it hears only inside sim_air_listen windows */
    int8_t tx_dbm;        /* transmit power, for the energy budget */
};

/* Per-endpoint radio time, for the energy budget. rx_us counts listen windows (endpoints with
 * rx_always: the caller knows they listen all the time). */
struct sim_air_energy {
    uint64_t tx_us, rx_us, cad_us;
    uint64_t tx_frames, cads;
    /* Frames above the floor that this endpoint, as receiver, lost: why. */
    uint64_t rx_ok, rx_collision, rx_busy, rx_locked, rx_link;
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

/* The model (SIM_AIR_IDEAL until set). Set it before the first transmission. */
void sim_air_set_model(struct sim_air *a, enum sim_air_model m);
/* Endpoint x's radio (honest model); sim_air_radio_default fills the air's modulation, sync word
 * 0x12, normal IQ both ways, every channel, always listening, an SX127x at +14 dBm. */
void sim_air_radio_default(const struct sim_air *a, struct sim_air_radio *r);
int sim_air_set_radio(struct sim_air *a, uint32_t x, const struct sim_air_radio *r);
/* A battery endpoint's receiver is on from from_us to until_us: frames whose preamble starts
 * in the window are heard (the radio then stays on to their end). Windows that touch merge;
 * the time is added to its rx_us once. */
int sim_air_listen(struct sim_air *a, uint32_t x, uint64_t from_us, uint64_t until_us);
/* Channel activity detection by x on channel at t_us (x's spreading factor). Honest model: an
 * SX127x sees a matching frame only while its preamble is in the air, an SX126x also sees the
 * payload with probability cad_payload (set below); the CAD takes *cad_us,
 * accounted to x (two symbols on an SX127x, 4.5 on an SX126x at SF9 and above). Ideal model:
 * sim_air_busy, at no cost. */
bool sim_air_cad(struct sim_air *a, uint32_t x, uint32_t channel, uint64_t t_us, uint32_t *cad_us);
/* Probability that an SX126x CAD detects a frame already in its payload (0..1, default 0.9). */
void sim_air_set_cad_payload(struct sim_air *a, double p);
/* How much weaker a frame of another spreading factor counts as interference (dB, default 16). */
void sim_air_set_sf_rejection(struct sim_air *a, double db);
/* What-if analysis, never a model of a radio: x's next transmissions reach their receivers as
 * usual but take no air from anyone else (no interference, no lock, no CAD or carrier-sense hit),
 * so a run with one kind of traffic made inert weighs what that traffic costs the rest. */
int sim_air_set_tx_inert(struct sim_air *a, uint32_t x, bool inert);
void sim_air_energy(const struct sim_air *a, uint32_t x, struct sim_air_energy *out);
/* Time on air of len bytes sent by x (its spreading factor and bandwidth). */
uint32_t sim_air_toa_us(const struct sim_air *a, uint32_t x, size_t len);
/* Duration of x's preamble on the air (preamble symbols + 4.25), in microseconds. */
uint32_t sim_air_preamble_us(const struct sim_air *a, uint32_t x);
uint32_t sim_air_channels(const struct sim_air *a);

/* Demodulation floor of a spreading factor (SX127x datasheet): -7.5 dB at SF7 .. -20 dB at SF12. */
double sim_air_snr_floor(uint8_t sf);

#endif
