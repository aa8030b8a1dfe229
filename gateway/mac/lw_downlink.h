/* SPDX-License-Identifier: Apache-2.0 */
/* Downlink scheduler of the gateway (pure: no I/O, time passed in): a priority queue of sealed
 * frames, time-on-air accounting against the region's per-frame cap and duty cycle,
 * listen-before-talk with random back-off before every transmission, and the per-node downlink
 * frame counters that are reserved in the database ahead of use. */
#ifndef LW_DOWNLINK_H
#define LW_DOWNLINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lw_airtime.h"
#include "lw_frame.h"

/* Alarm acknowledgements and join accepts go before configuration in the queue. */
enum lw_dl_prio { LW_DL_URGENT = 0, LW_DL_ROUTINE = 1, LW_DL_PRIO_COUNT };

#define LW_DOWNLINK_QUEUE_DEFAULT      32u
#define LW_DOWNLINK_LBT_BACKOFF_MIN_MS 20u    /* first wait after a busy channel ... */
#define LW_DOWNLINK_LBT_BACKOFF_MAX_MS 640u   /* ... doubling up to this, randomised */
#define LW_DOWNLINK_LBT_ATTEMPTS       8u     /* busy answers before a frame is given up */
#define LW_DOWNLINK_MAX_AGE_MS         30000u /* a frame not sent by then is given up */
/* Downlink counters are reserved in the database this many at a time. */
#define LW_DOWNLINK_FCNT_BLOCK 256u
/* A new block is asked for while this many are still reserved: ACKs go on from the reserve
 * while the database cannot store the next bound (a full disk). */
#define LW_DOWNLINK_FCNT_LOW (LW_DOWNLINK_FCNT_BLOCK / 2)

struct lw_downlink_config {
    struct lw_lora_params lora; /* what the gateway transmits with: time on air */
    uint32_t max_tx_ms;         /* longest single transmission (CN470: 1000); 0: no rule */
    uint16_t duty_permille;     /* share of the air per hour (EU868: 10); 0: no rule */
    bool lbt;                   /* listen before every transmission */
    uint32_t lbt_backoff_min_ms, lbt_backoff_max_ms;
    uint32_t lbt_attempts;
    uint32_t max_age_ms;
    uint32_t queue_cap;
};

/* What the scheduler needs from the radio. */
struct lw_downlink_io {
    void *ctx;
    /* 1 busy, 0 free, negative lw_err on a radio fault; NULL: the radio cannot listen. */
    int (*channel_busy)(void *ctx);
    /* Put one frame on the air: LW_OK or a negative lw_err. Required. */
    int (*transmit)(void *ctx, const uint8_t *buf, size_t len);
    /* Random numbers for the back-off; NULL: none (deterministic). */
    uint32_t (*random)(void *ctx);
};

struct lw_downlink_stats {
    uint64_t queued;
    uint64_t sent;
    uint64_t busy;            /* listen-before-talk found the channel busy */
    uint64_t dropped_full;    /* queue full (or pushed out by a more urgent frame) */
    uint64_t dropped_busy;    /* the channel stayed busy for lbt_attempts tries */
    uint64_t dropped_airtime; /* longer than the region allows for one transmission */
    uint64_t dropped_stale;   /* not sent within max_age_ms (duty cycle, busy channel) */
    uint64_t tx_errors;       /* the radio refused the frame */
    uint64_t airtime_us;      /* time on air of everything sent */
    uint32_t depth;           /* frames waiting now */
};

struct lw_downlink;

void lw_downlink_config_defaults(struct lw_downlink_config *cfg);
/* NULL when out of memory or io->transmit is NULL. */
struct lw_downlink *lw_downlink_new(const struct lw_downlink_config *cfg,
                                    const struct lw_downlink_io *io);
void lw_downlink_free(struct lw_downlink *d);

/* Time on air of a len-byte frame with the configured parameters, microseconds. */
uint32_t lw_downlink_airtime_us(const struct lw_downlink *d, size_t len);

/* Queue a sealed frame (copied). Returns LW_OK, LW_ERR_RANGE (its time on air is over the
 * region's limit for one transmission: never sendable), LW_ERR_TOOBIG (len > 255), or LW_ERR_AGAIN
 * (queue full of frames at least as urgent). A full queue makes room for an urgent frame by
 * dropping its newest routine one. Call lw_downlink_run afterwards. */
int lw_downlink_enqueue(struct lw_downlink *d, enum lw_dl_prio prio, const uint8_t *buf, size_t len,
                        int64_t now_ms);

/* Do what is due at now_ms: give up frames older than max_age_ms, then, if the radio is idle and
 * the duty cycle allows the most urgent frame (oldest first within a priority), listen and
 * transmit it or back off. Returns the time of the next call (ms on the same clock), or -1 when
 * the queue is empty. */
int64_t lw_downlink_run(struct lw_downlink *d, int64_t now_ms);

void lw_downlink_stats(const struct lw_downlink *d, struct lw_downlink_stats *out);

/* Seal a gateway -> node frame (ACK or CMD) under key_down: src 0x0000, dst node, hop_limit the
 * hops of the node's latest uplink (relays carry it back along that path), no ACK_REQ. Returns
 * the frame length or a negative lw_frame_seal error. */
int lw_downlink_seal(uint16_t net_id, uint16_t node, uint8_t type, uint8_t hop_limit, uint32_t fcnt,
                     const uint8_t key_down[LW_KEY_LEN], const uint8_t *plain, size_t plain_len,
                     uint8_t *out, size_t cap);

/* Payload of an ACK naming the acknowledged ALARM's counter (PROTOCOL.md 3.1): 4 bytes. */
#define LW_ACK_PAYLOAD_LEN 4
void lw_downlink_ack_payload(uint32_t alarm_fcnt, uint8_t out[LW_ACK_PAYLOAD_LEN]);

/* The next downlink counter for node under key_down (PROTOCOL.md section 6: each counter at most
 * once per key). stored is the bound persisted for the node (every counter up to it may have been
 * used). A new key (a new session) starts above stored. When *reserve_upto is set non-zero on
 * return, the caller must persist it as the node's new bound, durably, before sending a frame with
 * *fcnt; if that fails it must not send, and calls lw_downlink_fcnt_unreserved. Returns LW_OK,
 * LW_ERR_RANGE (counters exhausted: the node must rejoin) or LW_ERR_NOMEM. */
int lw_downlink_fcnt_next(struct lw_downlink *d, uint16_t node, const uint8_t key_down[LW_KEY_LEN],
                          uint32_t stored, uint32_t *fcnt, uint32_t *reserve_upto);
/* Reserve ahead of need, handing out no counter: *reserve_upto is set non-zero when a new bound
 * should be persisted now (then as for lw_downlink_fcnt_next; lw_downlink_fcnt_unreserved when it
 * could not be). The gateway calls it with the node's uplinks, so the first ACK a node needs,
 * maybe while the disk is full, finds counters reserved already. */
int lw_downlink_fcnt_ahead(struct lw_downlink *d, uint16_t node, const uint8_t key_down[LW_KEY_LEN],
                           uint32_t stored, uint32_t *reserve_upto);
/* The reservation lw_downlink_fcnt_next asked for could not be stored: the next call asks again.
 * Returns true when fcnt (the counter just handed out; 0 for none) is still covered by the earlier
 * reservation, so it may be sent all the same: a new block is asked for well before the old one
 * runs out. */
bool lw_downlink_fcnt_unreserved(struct lw_downlink *d, uint16_t node, uint32_t fcnt);

#endif
