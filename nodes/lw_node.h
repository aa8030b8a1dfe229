/* SPDX-License-Identifier: Apache-2.0 */
/* Portable sensor-node core: joins (or uses a personalised key), turns readings into sealed
 * DATA/ALARM frames for a caller-supplied radio HAL and opens downlinks. No OS calls, no heap: it
 * builds for Linux and for microcontrollers. */
#ifndef LW_NODE_H
#define LW_NODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lw_cmd.h"
#include "lw_frame.h"
#include "lw_reading.h"
#include "lw_replay.h"

#define LW_NODE_HOP_LIMIT_DEFAULT 3u
#define LW_NODE_EUI_LEN           8
/* Join retry back-off (PROTOCOL.md 12.6): 10 s doubling to 1 h, each delay randomised +-25 %. */
#define LW_NODE_JOIN_BACKOFF_MIN_MS 10000u
#define LW_NODE_JOIN_BACKOFF_MAX_MS 3600000u
/* ALARM retransmission until the gateway's ACK (PROTOCOL.md 3.1): 2 s doubling to 60 s, +-25 %. */
#define LW_NODE_ALARM_RETRY_MIN_MS 2000u
#define LW_NODE_ALARM_RETRY_MAX_MS 60000u
/* ... plus this much per relay the gateway's latest answer came through: a retry must not go
 * out while the answer is still on its way back along the chain. */
#define LW_NODE_ALARM_RETRY_PER_HOP_MS 1500u
/* Relay role (PROTOCOL.md 8.3). A relay waits rank * slot (+ a random part of a slot) before it
 * forwards, so the relay nearest the gateway goes first and the others, overhearing it, cancel.
 * The slot must exceed a frame's time on air. */
#define LW_NODE_RELAY_SLOT_MS      400u
#define LW_NODE_RELAY_RANK_LEARN   0xFFu /* rank not configured: learnt from downlinks heard */
#define LW_NODE_RELAY_QUEUE        8u    /* frames waiting for their rebroadcast delay */
#define LW_NODE_RELAY_SEEN         32u   /* (src, dst, fcnt, type) remembered */
#define LW_NODE_RELAY_ROUTES       32u   /* nodes whose uplinks were forwarded: reverse paths */
#define LW_NODE_RELAY_ROUTE_TTL_MS (6u * 3600u * 1000u) /* "recently" for reverse paths */
#define LW_NODE_RELAY_NEIGHBOURS   16u                  /* other relays whose rank was learnt */
/* v1.1 medium access (PROTOCOL.md 15). Hop-by-hop retry: a sender that does not overhear the
 * next hop forwarding its ALARM within hop_ack_ms sends it again, up to this many times. */
#define LW_NODE_HOP_RETRIES 3u
/* Supervision (PROTOCOL.md 15.4): a CHECKIN unanswered for LW_NODE_CHECKIN_ACK_MS is sent again
 * 1-3 s later, LW_NODE_CHECKIN_TRIES times in all; a relay counts a child absent once it has
 * been unheard for its period + 10 % + LW_NODE_CHECKIN_GRACE_MS (the tries, a late clock). */
#define LW_NODE_CHILDREN         32u
#define LW_NODE_CHECKIN_ACK_MS   100u
#define LW_NODE_CHECKIN_TRIES    3u
#define LW_NODE_CHECKIN_GRACE_MS 15000u
#define LW_NODE_CHECKIN_DEFERS   5u /* channel busy before a CHECKIN: wait, at most this often */
/* After this many periods in a row without an answer the relay is taken for gone (failed, or out
 * of reach): one try per period, not LW_NODE_CHECKIN_TRIES, until an answer comes again (an
 * orphan retrying three times a period spent its battery twice as fast as any other node). */
#define LW_NODE_CHECKIN_ORPHANED 5u
/* Alarm quiet (PROTOCOL.md 15.2): a relay that forwards an ALARM or hears the gateway acknowledge
 * one keeps the air for alarms this long: no routine forwarding, and it tells its application
 * (lw_node_quiet) to hold its own routine frames. */
#define LW_NODE_QUIET_MS 20000u
/* Alarm slots (PROTOCOL.md 15.5): after the gateway's BEACON a relay with a backbone slot sends
 * only in its slot, one frame per cycle, no listening first; without a BEACON for this long it
 * goes back to contention. */
#define LW_NODE_BEACON_HOLD_MS     12000u
#define LW_NODE_PRESENCE_REPEAT_MS 4000u /* a presence change: three tries this far apart, */
#define LW_NODE_PRESENCE_TRIES     10u /* then doubling to 64 s, until acknowledged or this many */
#define LW_NODE_SLOT_GUARD_MS      20u

/* Identity and keys of one node, as provisioned (and as the gateway's registry holds them).
 * Personalised mode: key (and address) set, the node sends at once. Join mode: key all-zero,
 * root_key set; the node sends nothing until lw_node_join_start's JOIN_ACC has arrived. A node
 * with both starts personalised and may join later. PROTOCOL.md sections 4 and 12. */
struct lw_node_config {
    uint16_t net_id;              /* network identifier of the estate */
    uint16_t address;             /* personalised mode: 0x0001..0xFFFE; join mode: ignored */
    uint8_t eui[LW_NODE_EUI_LEN]; /* EUI-64 from the label: identifies the node in a JOIN_REQ */
    uint8_t key[LW_KEY_LEN];      /* personalised node key; all-zero: none (join mode) */
    uint8_t hop_limit;            /* 0..7 relays allowed; lw_node_config_defaults sets 3 */
    uint32_t fcnt_start;          /* personalised: first frame counter (restored from flash) */
    uint32_t fcnt_down_top;       /* personalised: highest downlink counter accepted (restored
                                     from flash), 0 = none; every counter <= it counts as seen */
    uint8_t root_key[LW_KEY_LEN]; /* the node's own join root key; all-zero: cannot join */
    uint32_t join_nonce_last;     /* last join nonce used (restored from flash), 0 = none */
    uint32_t join_backoff_min_ms; /* delay before the first join retry; 0 = the default */
    uint32_t join_backoff_max_ms; /* longest delay between join retries; 0 = the default */
    uint32_t join_attempts_max;   /* JOIN_REQs per join before giving up; 0 = no limit */
    uint32_t alarm_retry_min_ms;  /* first ALARM retransmission delay; 0 = the default */
    uint32_t alarm_retry_max_ms;  /* longest delay between retransmissions; 0 = the default */
    bool alarm_send_once;         /* ALARMs are sent once, never re-sent (no ACKs expected) */
    bool relay;                   /* forward other nodes' frames (mains-powered, always on) */
    uint32_t relay_slot_ms;       /* rebroadcast slot; 0 = LW_NODE_RELAY_SLOT_MS */
    uint8_t relay_rank;           /* relays between this one and the gateway (0: the gateway
                                     hears it directly); LW_NODE_RELAY_RANK_LEARN: learn it */
    /* v1.1 medium access (PROTOCOL.md 15); zero keeps v1 behaviour. */
    uint32_t hop_ack_ms;        /* how long to wait to overhear the next hop forward an ALARM
                                   (origin and relays) before sending it again; 0: no hop retry */
    uint8_t hop_retries;        /* hop retries per transmission; 0: LW_NODE_HOP_RETRIES */
    uint16_t parent;            /* relay this node checks in with (lw_node_checkin); 0: none */
    uint32_t checkin_period_ms; /* how often the application calls lw_node_checkin (10 s ..
                                   2550 s): the parent relay derives its timeout from it */
    uint8_t backbone_slot;      /* relay heard by the gateway: its slot (1..16) in the gateway's
                                   alarm cycles; 0: none */
};

/* What the node needs from its platform. Designated initialisers, please: more ops will be
 * added and unused ones may stay NULL. */
struct lw_node_hal {
    void *ctx; /* passed back to every op */
    /* Milliseconds on any clock that never goes back. Needed for retries (lw_node_poll); without
     * it the node counts time as 0 and retries only when the caller passes later times. */
    uint64_t (*now_ms)(void *ctx);
    /* Put one frame on the air. Returns >= 0 on success or a negative lw_err. Required. */
    int (*send)(void *ctx, const uint8_t *frame, size_t len);
    /* Optional: an authentic, fresh ACK or CMD opened by lw_node_handle_downlink. In
     * personalised mode persist lw_node_fcnt_down_top() here before acting on the frame. */
    void (*on_receive)(void *ctx, const struct lw_frame_hdr *hdr, const uint8_t *plain, size_t len);
    /* Optional: is the channel busy (listen before talk)? 1 busy, 0 free. The relay role asks
     * before forwarding and waits a random part of a slot while it is busy. NULL: never busy. */
    int (*channel_busy)(void *ctx);
    /* Optional: random numbers that spread retry back-offs (+-25 %) so nodes that failed
     * together do not retry together. Join nonces are counters, never random. */
    uint32_t (*random)(void *ctx);
    /* Store nonce durably as the last join nonce used (cfg.join_nonce_last after a reboot).
     * Returns >= 0 once it is stored, or a negative lw_err. Required by lw_node_join_start, which
     * calls it before the JOIN_REQ carrying nonce is built, so a nonce is never sent twice. */
    int (*store_join_nonce)(void *ctx, uint32_t nonce);
};

/* Node state; the caller allocates it (statically on a microcontroller). Treat as opaque. */
struct lw_node {
    struct lw_node_config cfg;
    struct lw_node_hal hal;
    uint32_t fcnt_next;     /* counter of the next frame */
    bool fcnt_spent;        /* 0xFFFFFFFF has been used: no nonce is left under this key */
    bool have_session;      /* key_up/key_down/address are usable (personalised or joined) */
    bool joined;            /* the session came from a join */
    bool join_pending;      /* a JOIN_REQ with join_nonce_last awaits its JOIN_ACC */
    bool join_failed;       /* join_attempts_max requests went unanswered: the join gave up */
    uint32_t join_attempts; /* JOIN_REQs sent in the current join */
    uint64_t join_retry_at; /* hal.now_ms time of the next JOIN_REQ while join_pending */
    uint16_t address;       /* source address of uplinks */
    uint32_t join_nonce_last;
    uint8_t key_up[LW_KEY_LEN];   /* seals uplinks: cfg.key, or the session's uplink key */
    uint8_t key_down[LW_KEY_LEN]; /* opens downlinks: cfg.key, or the session's downlink key */
    struct lw_replay down_replay; /* downlink counters seen under key_down */
    uint8_t frame[LW_FRAME_MAX_LEN];
    /* The latest ALARM awaiting its ACK: re-sent (new counter each time) until acknowledged. */
    bool alarm_pending;
    struct lw_reading alarm_reading;
    uint32_t alarm_first_fcnt, alarm_last_fcnt; /* counters this alarm was sent with */
    uint32_t alarm_attempts;                    /* transmissions of it so far */
    uint64_t alarm_retry_at;
    uint64_t alarm_acks;     /* alarms acknowledged */
    bool alarm_hop_acked;    /* the next hop was overheard forwarding the latest copy */
    uint8_t alarm_hop_tries; /* hop retries of the latest copy */
    uint64_t alarm_hop_at;   /* when to send it again unless the next hop is overheard */
    uint8_t down_hops;       /* relays the latest authentic downlink came through */
    /* Set by CMD downlinks (PROTOCOL.md section 13); kept in RAM like the session. */
    uint32_t interval_ms; /* reporting interval; 0: the application's own */
    bool event_mode;      /* an incident is open nearby: report every event_interval_ms */
    uint32_t event_interval_ms;
    uint8_t thresholds; /* bit (TLV type - 1): threshold[] holds an alarm threshold */
    uint16_t threshold[LW_CMD_THRESHOLDS];
    uint64_t cmds;     /* commands applied */
    uint64_t cmds_bad; /* authentic CMD frames whose command did not decode */
    /* Relay role. */
    struct lw_node_relay_frame {
        bool used, urgent;
        bool await;              /* forwarded; waiting to overhear the next hop (v1.1) */
        bool ack_req;            /* an ALARM or a trouble report: acknowledged end to end */
        uint8_t retries;         /* hop retries so far */
        uint8_t type, hop_heard; /* hop_count of the copy heard */
        uint16_t src, dst;
        uint32_t fcnt;
        uint32_t busy_tries;
        uint64_t due; /* hal.now_ms time to forward */
        uint16_t len;
        uint8_t buf[LW_FRAME_MAX_LEN];
    } relay_q[LW_NODE_RELAY_QUEUE];
    struct lw_node_relay_seen {
        uint16_t src, dst;
        uint32_t fcnt;
        uint8_t type;
        uint8_t state; /* 1 queued, 2 forwarded, 3 cancelled, 4 not forwarded */
        uint8_t hop_heard;
    } relay_seen[LW_NODE_RELAY_SEEN];
    uint8_t relay_seen_head;
    struct lw_node_relay_route {
        uint16_t node;
        uint64_t t;
    } relay_routes[LW_NODE_RELAY_ROUTES];
    uint8_t relay_rank; /* current rank (configured or learnt), LW_NODE_RELAY_RANK_LEARN unknown */
    struct lw_node_relay_neighbour {
        uint16_t relay;
        uint8_t rank;
    } relay_ranks[LW_NODE_RELAY_NEIGHBOURS]; /* learnt from the route trailers of downlinks */
    uint8_t relay_ranks_head;
    struct lw_node_relay_stats {
        uint64_t heard;         /* frames given to lw_node_hear */
        uint64_t forwarded;     /* put on the air again */
        uint64_t cancelled;     /* another relay forwarded it first */
        uint64_t duplicates;    /* copies of a frame already handled */
        uint64_t hop_limit;     /* hop limit reached, or the frame would grow past 255 bytes */
        uint64_t no_route;      /* downlinks to nodes this relay did not carry */
        uint64_t queue_full;    /* no room: dropped (routine first) */
        uint64_t invalid;       /* malformed trailer, loops */
        uint64_t no_progress;   /* forwarded last by a relay at least as near the gateway */
        uint64_t hop_retries;   /* ALARMs sent again: the next hop was not overheard (v1.1) */
        uint64_t implicit_acks; /* the next hop was overheard forwarding (v1.1) */
        uint64_t checkins;      /* CHECKINs heard from children (v1.1) */
        uint64_t superseded;    /* queued ALARM or ACK replaced by a newer one (v1.1) */
    } relay_stats;
    struct lw_node_child {
        uint16_t addr;
        bool absent;        /* as last reported */
        uint8_t period_10s; /* its check-in period */
        uint64_t last;      /* hal.now_ms of its latest frame heard directly */
    } children[LW_NODE_CHILDREN];
    uint8_t n_children;
    uint64_t checkin_acks_sent;
    /* The node's own check-in awaiting its relay's answer. */
    bool checkin_pending;
    uint8_t checkin_tries, checkin_defers;
    uint8_t checkin_unanswered; /* periods in a row whose CHECKINs all went unanswered */
    uint64_t checkin_retry_at;
    uint64_t checkins_sent, checkins_acked;
    uint64_t quiet_until; /* hal.now_ms: alarm traffic about, routine frames wait (relay) */
    bool next_urgent;     /* the next DATA frame carries ACK_REQ (lw_node_report_trouble) */
    /* Alarm slots: the latest BEACON, this relay's slots in its cycle, what it sent in each. */
    uint64_t beacon_at, cycle_start, slots_end;
    uint64_t hold_until; /* back to contention then unless another BEACON comes */
    /* A change of its children's presence: reported until the gateway acknowledges it. */
    bool presence_unacked;
    uint8_t presence_tries;
    uint32_t presence_first_fcnt, presence_last_fcnt;
    uint64_t presence_repeat_at;
    struct lw_reading presence_reading;
    uint32_t cycle_ms; /* BEACON to BEACON, measured; 0: not known */
    uint32_t slot_ms;
    uint16_t my_slots;   /* bit s-1: slot s is this relay's in the current cycle */
    uint16_t slots_used; /* bit s-1: it sent in slot s (or let it pass) */
    struct lw_node_slot_frame {
        bool valid;
        uint16_t src;
        uint32_t fcnt;
        uint8_t type;
    } slot_frame[16];
    uint64_t beacons_heard, slot_acks;
    uint64_t hop_retries_sent; /* own ALARMs sent again for want of an implicit acknowledgement */
};

/* Fill cfg with defaults: everything zero, hop_limit LW_NODE_HOP_LIMIT_DEFAULT, fcnt_start 1. */
void lw_node_config_defaults(struct lw_node_config *cfg);

/* Returns LW_OK, or LW_ERR_INVAL for a NULL argument, a missing hal->send, a hop limit above 7,
 * both key and root_key all-zero, key equal to root_key (one key, one role), or with a
 * personalised key an address of 0 (gateway) or 0xFFFF (broadcast). */
int lw_node_init(struct lw_node *n, const struct lw_node_config *cfg,
                 const struct lw_node_hal *hal);

/* Encode r as TLVs, seal it as a DATA frame (ALARM with ack_req when alarm) to the gateway with
 * the next frame counter, and send it. The counter advances even if hal->send fails, because a
 * sealed frame may have reached the air: a nonce is never used twice. An ALARM becomes the
 * pending alarm (replacing an older one): lw_node_poll re-sends it, each time as a new frame
 * with a new counter, after alarm_retry_min_ms doubling up to alarm_retry_max_ms (+-25 %),
 * until an ACK from the gateway names one of its counters (or is empty: the latest alarm).
 * Returns the frame length, or a negative lw_err: LW_ERR_STATE before a join mode node has
 * joined, LW_ERR_RANGE once counter 0xFFFFFFFF has been used (the node needs a new key: rejoin),
 * any lw_reading_encode/lw_frame_seal error, or hal->send's. */
int lw_node_report(struct lw_node *n, const struct lw_reading *r, bool alarm);

/* Counter the next frame will carry (persist it across reboots), and whether any are left. */
uint32_t lw_node_fcnt_next(const struct lw_node *n);
bool lw_node_fcnt_exhausted(const struct lw_node *n);

/* Start (or restart) a join: take the last join nonce used (cfg.join_nonce_last at boot) + 1,
 * store it through hal->store_join_nonce, then build and send a JOIN_REQ (src 0xFFFF) with it.
 * A JOIN_ACC for an earlier nonce is refused from now on; an existing session keeps working until
 * the new one is accepted. Without an answer lw_node_poll sends the next JOIN_REQ (a new nonce)
 * after the back-off: join_backoff_min_ms doubling up to join_backoff_max_ms. Returns the frame
 * length, or LW_ERR_STATE (no root key), LW_ERR_INVAL (NULL, no store_join_nonce), LW_ERR_RANGE
 * (nonce 0xFFFFFFFF used: the node needs a new root key), the store's error (nothing sent), a build
 * error, or hal->send's (the request stays pending: it may have reached the air). */
int lw_node_join_start(struct lw_node *n);

/* Handle one received frame. JOIN_ACC answering the pending join: open it, derive the session
 * keys, switch to them with the assigned address, uplink counter 1 and a fresh downlink window.
 * ACK or CMD to this node: check counter (window of PROTOCOL.md section 6), open with the
 * downlink key, then hand it to hal->on_receive. Returns LW_OK, or a negative lw_err and changes
 * nothing: any lw_frame_peek / lw_join_accept_open / lw_frame_open error, LW_ERR_STATE (no join
 * pending, or no session for an ACK/CMD), LW_ERR_TYPE (an uplink type), LW_ERR_NETWORK,
 * LW_ERR_INVAL (not from the gateway or not to this node), LW_ERR_REPLAY, LW_ERR_TOOBIG. */
int lw_node_handle_downlink(struct lw_node *n, const uint8_t *frame, size_t len);

/* State for the application: the session came from a join; the current source address (0 while
 * a join mode node has no session); the last join nonce used (persisted by the HAL already); the
 * highest downlink counter accepted (persist it in personalised mode). */
bool lw_node_joined(const struct lw_node *n);
/* A join awaits its JOIN_ACC; the join gave up after join_attempts_max requests; requests sent
 * in the current (or last) join. */
bool lw_node_join_pending(const struct lw_node *n);
bool lw_node_join_failed(const struct lw_node *n);
uint32_t lw_node_join_attempts(const struct lw_node *n);

/* Time work: call when hal.now_ms reaches lw_node_next_due (or any time later). Re-sends the
 * pending ALARM and sends a JOIN_REQ whose back-off has run out (the alarm first). Returns the
 * number of frames sent (0 or 1), or a negative lw_err from the retry (as lw_node_join_start; it is
 * tried again after the back-off, except after LW_ERR_RANGE, which ends the join as failed). When
 * join_attempts_max requests have gone unanswered for one back-off, the join gives up:
 * lw_node_join_failed turns true, nothing more is scheduled. */
int lw_node_poll(struct lw_node *n, uint64_t now_ms);
/* hal.now_ms time at which lw_node_poll has work, or UINT64_MAX when nothing is scheduled. */
uint64_t lw_node_next_due(const struct lw_node *n);

/* Any frame heard on the air, with the SNR it was heard at (dB) and hal.now_ms time. Frames for
 * this node (downlinks to its address, the JOIN_ACC it waits for) go to lw_node_handle_downlink
 * with the route trailer removed. A relay (cfg.relay) also queues other nodes' frames for
 * forwarding (PROTOCOL.md 8.3): uplinks below their hop limit that it has not handled yet, and
 * downlinks to nodes whose uplinks it forwarded (a JOIN_ACC if it forwarded the JOIN_REQ with that
 * nonce), each after its rebroadcast delay, appending its route entry (lw_route_append); a queued
 * frame is cancelled when a copy forwarded by another relay is overheard. lw_node_poll sends
 * them when due, ALARMs and downlinks first. Returns LW_OK when the frame was for this node and
 * accepted or queued for forwarding, LW_ERR_DUP for a copy already handled, or another negative
 * lw_err when it was ignored (not for this node, not forwardable, invalid). */
int lw_node_hear(struct lw_node *n, const uint8_t *frame, size_t len, int8_t snr_db,
                 uint64_t now_ms);
/* The relay's counters; its current rank (LW_NODE_RELAY_RANK_LEARN: not known yet). */
void lw_node_relay_stats(const struct lw_node *n, struct lw_node_relay_stats *out);
uint8_t lw_node_relay_rank(const struct lw_node *n);

/* Reporting interval to use now: the event interval while event mode is on, else the one a CMD
 * set, else dflt_ms (the application's). */
uint32_t lw_node_report_interval(const struct lw_node *n, uint32_t dflt_ms);
bool lw_node_event_mode(const struct lw_node *n);
/* Does r reach an alarm threshold a CMD set (water, gas, CO, temperature, battery: at or above;
 * smoke: the alarm bit at or above)? The application then reports it as an ALARM. */
bool lw_node_over_threshold(const struct lw_node *n, const struct lw_reading *r);
/* Periods in a row whose CHECKINs all went unanswered (0 after an answer): from
 * LW_NODE_CHECKIN_ORPHANED on the node tries once a period; the application may look for
 * another parent. */
uint8_t lw_node_checkin_unanswered(const struct lw_node *n);
uint64_t lw_node_commands(const struct lw_node *n);

/* v1.1 supervision (PROTOCOL.md 15.4). Send a compact CHECKIN to cfg.parent; the node then
 * listens LW_NODE_CHECKIN_ACK_MS for the relay's CHECKIN_ACK (lw_node_hear), and lw_node_poll
 * sends it again 1-3 s later while none came, up to LW_NODE_CHECKIN_TRIES in all. Returns the
 * frame length, LW_ERR_STATE (no parent, or no address yet), LW_ERR_INVAL (checkin_period_ms
 * outside 10 s .. 2550 s), or hal->send's error. A relay answers a CHECKIN addressed to it at
 * once and counts the child present. */
int lw_node_checkin(struct lw_node *n);
/* Relay (v1.1): is the air being kept for alarms (LW_NODE_QUIET_MS after the latest ALARM
 * forwarded or gateway ACK heard)? The application holds its own routine reports meanwhile. */
bool lw_node_quiet(const struct lw_node *n, uint64_t now_ms);
/* Is the latest CHECKIN still unanswered (the caller keeps the receiver on meanwhile)? */
bool lw_node_checkin_pending(const struct lw_node *n);
/* Relay: the children that checked in, with those unheard for their period + 10 % +
 * LW_NODE_CHECKIN_GRACE_MS listed absent. Returns true when the absent set differs from the one
 * last returned (report it now). */
struct lw_presence;
bool lw_node_presence(struct lw_node *n, uint64_t now_ms, struct lw_presence *out);
/* Relay: supervise addr, which checks in every period_10s × 10 s, from now_ms on, whether or not
 * it has checked in yet (the installer's configuration says who a relay's children are: one
 * that never gets through is then missing, not unknown). LW_OK, LW_ERR_INVAL (not a relay, a
 * bad address or period 0), LW_ERR_AGAIN (LW_NODE_CHILDREN already). */
int lw_node_supervise(struct lw_node *n, uint16_t addr, uint8_t period_10s, uint64_t now_ms);
/* Relay: is the absent set at now_ms different from the one last returned by lw_node_presence? */
bool lw_node_presence_changed(const struct lw_node *n, uint64_t now_ms);
/* Relay (v1.1, PROTOCOL.md 15.4): its own report r with the presence of its children. When the
 * absent set changed since the last one it goes out as a trouble report, which lw_node_poll
 * sends again (with the presence as it is then) until the gateway's ACK of one of them arrives:
 * twice LW_NODE_PRESENCE_REPEAT_MS apart, then doubling up to 64 s, LW_NODE_PRESENCE_TRIES in
 * all; otherwise as a routine report. Call it on the relay's schedule, and at once when
 * lw_node_presence_changed. As lw_node_report_with. */
int lw_node_relay_report(struct lw_node *n, const struct lw_reading *r);
/* v1.1: a trouble report (a child gone silent, a fault): DATA with ACK_REQ set, which relays
 * carry ahead of routine frames and through an alarm quiet, and the gateway acknowledges
 * (PROTOCOL.md 15.2). Not retried by the core: the caller repeats it. As lw_node_report_with. */
int lw_node_report_trouble(struct lw_node *n, const struct lw_reading *r, const uint8_t *extra,
                           size_t extra_len);
/* Seal and send r with extra optional TLVs (0x80..0xFF, e.g. presence) appended. As
 * lw_node_report otherwise. */
int lw_node_report_with(struct lw_node *n, const struct lw_reading *r, bool alarm,
                        const uint8_t *extra, size_t extra_len);

/* An ALARM awaits its acknowledgement; transmissions of it so far; alarms acknowledged. */
bool lw_node_alarm_pending(const struct lw_node *n);
uint32_t lw_node_alarm_attempts(const struct lw_node *n);
uint64_t lw_node_alarm_acks(const struct lw_node *n);
uint16_t lw_node_address(const struct lw_node *n);
uint32_t lw_node_join_nonce_last(const struct lw_node *n);
uint32_t lw_node_fcnt_down_top(const struct lw_node *n);

#endif
