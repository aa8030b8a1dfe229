/* SPDX-License-Identifier: Apache-2.0 */
/* Simulation scenarios: the [scenario] and [node:NAME] INI model and its validation with
 * FILE:LINE diagnostics. The gateway-side node config it implies is sim_gwconf.h, per-node
 * sampling sim_sensor.h. */
#ifndef SIM_SCENARIO_H
#define SIM_SCENARIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "lw_node.h"
#include "lw_reading.h"
#include "sim_trace.h"

#define SIM_HOST_MAX 256
#define SIM_NAME_MAX 40 /* node names: letters, digits, '-', '_', '.' */

enum sim_kind { SIM_KIND_WATER, SIM_KIND_SMOKE, SIM_KIND_GAS, SIM_KIND_CO, SIM_KIND_MULTI };

enum sim_metric {
    SIM_M_WATER,       /* water_mm, mm */
    SIM_M_SMOKE,       /* smoke, 0/1 (step) */
    SIM_M_OBSCURATION, /* obscuration, %/m */
    SIM_M_GAS,         /* gas_lel, %LEL */
    SIM_M_CO,          /* co_ppm, ppm */
    SIM_M_TEMP,        /* temp_c, degC */
    SIM_M_BATTERY,     /* battery_mv, mV */
    SIM_M_FLAGS,       /* flags, LW_FLAG_* bits (step) */
    SIM_M_COUNT
};

enum sim_alarm_mode { SIM_ALARM_AUTO, SIM_ALARM_NEVER, SIM_ALARM_ALWAYS };

/* Keys of a [node:NAME] section, in the order --emit-node-config prints the gateway ones. */
enum sim_node_key {
    SIM_NK_ADDRESS,
    SIM_NK_EUI,
    SIM_NK_KEY,
    SIM_NK_KIND,
    SIM_NK_LABEL,
    SIM_NK_BUILDING,
    SIM_NK_FLOOR,
    SIM_NK_UNIT,
    SIM_NK_GRID,
    SIM_NK_PLACE,
    SIM_NK_TAGS,
    SIM_NK_GATEWAY_COUNT, /* keys from here on are simulation-only */
    SIM_NK_INTERVAL = SIM_NK_GATEWAY_COUNT,
    SIM_NK_JITTER,
    SIM_NK_OFFSET,
    SIM_NK_FCNT_START,
    SIM_NK_RSSI,
    SIM_NK_SNR,
    SIM_NK_HOP_LIMIT,
    SIM_NK_ALARM_FRAMES,
    SIM_NK_JOIN,
    SIM_NK_ROOT_KEY,
    SIM_NK_JOIN_ATTEMPTS,
    SIM_NK_ALARM_ACK,
    SIM_NK_TROUBLE_FRAMES,
    SIM_NK_RELAY,
    SIM_NK_RELAY_RANK,
    SIM_NK_LINKS,
    SIM_NK_FAIL_AT,
    SIM_NK_METRIC, /* SIM_NK_METRIC + enum sim_metric */
    SIM_NK_COUNT = SIM_NK_METRIC + SIM_M_COUNT
};

enum sim_scenario_key {
    SIM_SK_NAME,
    SIM_SK_DESCRIPTION,
    SIM_SK_START,
    SIM_SK_DURATION,
    SIM_SK_ACCELERATION,
    SIM_SK_NETWORK_ID,
    SIM_SK_GATEWAY,
    SIM_SK_FREQUENCY,
    SIM_SK_SF,
    SIM_SK_BW,
    SIM_SK_TICK,
    SIM_SK_SEED,
    SIM_SK_CHANNELS,
    SIM_SK_CAPTURE,
    SIM_SK_RELAY_SLOT,
    SIM_SK_COUNT
};

/* A radio link of a mesh topology (links = NAME:SNR[:LOSS%], ...); links are symmetric. */
#define SIM_LINK_GATEWAY "gateway"
struct sim_link {
    char *to;      /* a node's name, or SIM_LINK_GATEWAY */
    double snr_db; /* SNR at which either end hears the other */
    double loss;   /* share of frames lost on the link, 0 .. 1 */
    int line;
};

struct sim_node {
    char *name;
    int line;                  /* line of the [node:NAME] header, 0 when not from a file */
    struct lw_node_config cfg; /* net_id is copied from the scenario by sim_scenario_finish */
    enum sim_kind kind;
    char *text[SIM_NK_GATEWAY_COUNT]; /* label, building, floor, unit, place, tags (else NULL) */
    uint32_t grid;
    uint64_t interval_ms, jitter_ms, offset_ms;
    double rssi_dbm, snr_db;
    enum sim_alarm_mode alarm_frames;
    bool join; /* join mode: root_key set, address and session keys come from the JOIN_ACC */
    bool trouble_frames; /* DATA frames go as trouble reports (ACK_REQ set, PROTOCOL.md 15.2) */
    struct sim_trace traces[SIM_M_COUNT];
    int key_line[SIM_NK_COUNT]; /* where each key was set; 0 = unset, -1 = set, no line */
    struct sim_link *links;     /* mesh topology (scenario has_links) */
    size_t n_links;
    uint64_t fail_ms; /* the node goes dark (neither sends nor hears) from here; UINT64_MAX never */
};

struct sim_scenario {
    char *name, *description;
    int64_t start_ms; /* Unix ms of virtual time 0; 0 = none (frames carry t_ms 0) */
    uint64_t duration_ms;
    double acceleration; /* virtual seconds per real second; 0 = as fast as possible */
    uint16_t network_id;
    char gateway_host[SIM_HOST_MAX];
    uint16_t gateway_port;
    uint32_t frequency_hz;
    uint8_t sf;
    uint32_t bw_hz;
    uint64_t tick_ms; /* 0 = no TICK datagrams between frames */
    uint64_t seed;
    uint32_t channels;      /* mesh: uplink channels, frequency_hz + 200 kHz steps */
    double capture_db;      /* mesh: a frame survives an overlapping one this much weaker */
    uint64_t relay_slot_ms; /* mesh: rebroadcast slot of relays; 0 = from the time on air */
    bool has_links;         /* some node has links: the simulator models the air (sim_air) */
    bool have_section;      /* a [scenario] section was seen */
    int section_line;
    int key_line[SIM_SK_COUNT];
    struct sim_node **nodes;
    size_t n_nodes, cap_nodes;
};

/* Receives every diagnostic. file is NULL and line 0 for values not from a file (command line);
 * key is NULL for syntax errors. */
typedef void (*sim_diag_fn)(void *user, const char *file, int line, const char *key,
                            const char *msg);

/* Prints "FILE:LINE: key: message" (or "lorawatch-sim: key: message") to stderr. */
void sim_diag_stderr(void *user, const char *file, int line, const char *key, const char *msg);

/* Defaults: acceleration 1, gateway 127.0.0.1:17000, 470.3 MHz, SF9, BW 125 kHz, tick 10 s,
 * seed 1, no nodes. */
void sim_scenario_init(struct sim_scenario *sc);
void sim_scenario_free(struct sim_scenario *sc);

/* Parse a whole scenario from memory and validate it (sim_scenario_finish). Every error is
 * reported through diag; parsing goes on after errors. Returns the number of errors.
 * These two are in sim_scenario_file.c. */
int sim_scenario_parse(struct sim_scenario *sc, const char *text, size_t len, const char *file,
                       sim_diag_fn diag, void *user);
/* Read path into memory (at most 1 MiB) and parse it. */
int sim_scenario_load(struct sim_scenario *sc, const char *path, sim_diag_fn diag, void *user);

/* Building blocks for scenarios made from the command line. add_node returns NULL (out of
 * memory). apply sets one key of [scenario] (node NULL) or of a node, exactly as a line of a
 * file would; continuation appends to a trace or to the description. Returns LW_OK or a negative
 * lw_err with the reason in err. */
struct sim_node *sim_scenario_add_node(struct sim_scenario *sc, const char *name, int line);
int sim_scenario_apply(struct sim_scenario *sc, struct sim_node *node, const char *key,
                       const char *value, int line, bool continuation, char *err, size_t errlen);
/* Whole-scenario checks once every key is in: required keys, metrics the kind allows,
 * uniqueness of addresses, EUIs and keys. Returns the number of errors. */
int sim_scenario_finish(struct sim_scenario *sc, const char *file, sim_diag_fn diag, void *user);

/* Names for messages and output. */
const char *sim_kind_name(enum sim_kind k);
const char *sim_metric_name(enum sim_metric m);
/* SIM_M_COUNT when name is not a metric key. */
enum sim_metric sim_metric_from_name(const char *name);

#endif
