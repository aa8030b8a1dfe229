/* SPDX-License-Identifier: Apache-2.0 */
/* The domain model every module shares: node, rule and gateway settings as loaded, their enums
 * and small pure helpers on them. Its own header so modules that only use these types need not
 * include the loader (lw_config.h). */
#ifndef LW_MODEL_H
#define LW_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lw_frame.h"
#include "lw_reading.h"

struct lw_roster;

enum lw_node_kind {
    LW_KIND_WATER,
    LW_KIND_SMOKE,
    LW_KIND_GAS,
    LW_KIND_CO,
    LW_KIND_MULTI,
    LW_KIND_COUNT
};
enum lw_level { LW_LEVEL_BLUE, LW_LEVEL_YELLOW, LW_LEVEL_ORANGE, LW_LEVEL_RED, LW_LEVEL_COUNT };
enum lw_hazard {
    LW_HAZARD_FLOOD,
    LW_HAZARD_FIRE,
    LW_HAZARD_GAS,
    LW_HAZARD_TROUBLE,
    LW_HAZARD_COUNT
};
enum lw_metric {
    LW_METRIC_WATER,
    LW_METRIC_SMOKE,
    LW_METRIC_OBSCURATION,
    LW_METRIC_GAS,
    LW_METRIC_CO,
    LW_METRIC_TEMP,
    LW_METRIC_BATTERY,
    LW_METRIC_COUNT
};

const char *lw_kind_name(enum lw_node_kind k);
const char *lw_level_name(enum lw_level l);
const char *lw_hazard_name(enum lw_hazard h);
const char *lw_metric_name(enum lw_metric m);
const char *lw_metric_unit(enum lw_metric m);

#define LW_NAME_MAX 48
#define LW_TEXT_MAX 160
#define LW_PATH_MAX 256

/* A node's registry state (nodes.state in the database). "silent" is not stored: it is an active
 * node not heard within its silence time, worked out when shown. */
enum lw_node_state { LW_NODE_PENDING, LW_NODE_ACTIVE, LW_NODE_RETIRED, LW_NODE_STATE_COUNT };
const char *lw_node_state_name(enum lw_node_state s);
/* Kind by name; -1 when unknown. */
int lw_kind_from_name(const char *name);

/* One node: from a [node:NAME] section (personalised keys, from_config) or paired through the
 * control socket (join mode). The registry holds copies loaded from the database. */
struct lw_node_conf {
    char name[LW_NAME_MAX]; /* section id: [node:NAME] */
    uint16_t address;
    uint8_t eui[8];
    uint8_t key[LW_KEY_LEN];      /* uplink key: personalised key, or the session's K_up */
    uint8_t key_down[LW_KEY_LEN]; /* downlink key: the same personalised key, or K_down */
    uint8_t root_key[LW_KEY_LEN]; /* join root key; all-zero for personalised nodes */
    bool has_session;             /* key/key_down are usable */
    bool from_config;
    enum lw_node_state state;
    uint32_t join_nonce;      /* highest join nonce accepted (0: none) */
    uint32_t fcnt_up;         /* joined nodes: last frame counter stored (restart floor) */
    uint32_t fcnt_down;       /* downlink counters up to this may have been used (reserved
                                 ahead in the database; the gateway continues above it) */
    int64_t pairing_until_ms; /* pending node: joins accepted until then (wall clock) */
    int64_t created_ms;
    uint32_t mount_height_mm; /* water: sensor height above the zero level, 0 unknown */
    uint32_t zero_offset_mm;  /* water: subtracted from the reported depth */
    enum lw_node_kind kind;
    char label[LW_TEXT_MAX];
    char building[LW_NAME_MAX];
    char floor[LW_NAME_MAX];
    char unit[LW_NAME_MAX];
    char grid[LW_NAME_MAX];
    char place[LW_TEXT_MAX];
    char tags[LW_TEXT_MAX]; /* comma-separated */
    int line;               /* where the section starts, for messages */
};

/* What a rule watches: a metric's value (threshold), a node not heard (silence), a bit of the
 * reading's flags (flag), or the gateway's own radio (radio_fault). */
enum lw_rule_type {
    LW_RULE_THRESHOLD,
    LW_RULE_SILENCE,
    LW_RULE_FLAG,
    LW_RULE_RADIO_FAULT,
    LW_RULE_STORAGE, /* built in, not configurable: the gateway's database cannot be written */
    LW_RULE_TYPE_COUNT
};
/* What a threshold rule compares: the value itself, or a statistic of recent values. */
enum lw_statistic {
    LW_STAT_VALUE,
    LW_STAT_MEAN,      /* sliding mean over window */
    LW_STAT_RISE,      /* rate of rise per minute over window (least squares) */
    LW_STAT_TWA,       /* time-weighted power mean, time constant window (EN 50291 CO) */
    LW_STAT_DAYS_LEFT, /* days until the trend over window reaches floor */
    LW_STAT_COUNT
};
enum lw_waterfilter_kind { LW_WATERFILTER_NONE, LW_WATERFILTER_FLOODNET };
enum lw_coincidence { LW_COINC_NONE, LW_COINC_BUILDING, LW_COINC_ZONE };
enum lw_flag_bit { LW_FLAGBIT_NONE, LW_FLAGBIT_FAULT, LW_FLAGBIT_TAMPER, LW_FLAGBIT_LOW_BATTERY };

struct lw_rule_conf {
    char name[LW_NAME_MAX];
    enum lw_hazard hazard;
    uint32_t kinds;                /* bit per enum lw_node_kind the rule applies to */
    char tags[LW_TEXT_MAX];        /* node must carry every tag listed; empty = all nodes */
    char except_tags[LW_TEXT_MAX]; /* ... and none of these */
    enum lw_metric metric;
    bool below;       /* falling rule: stored negated, so one evaluator serves both */
    double threshold; /* raise at value >= threshold ... (negated when below) */
    double clear;     /* ... and clear at value <= clear (hysteresis; negated when below) */
    uint64_t persistence_ms;
    enum lw_level level;
    int line;
    /* Rule kinds and options beyond threshold/persistence (docs/RULES.md). */
    enum lw_rule_type type;
    enum lw_statistic statistic;
    uint64_t window_ms; /* mean/rise/days_left window; twa time constant */
    double exponent;    /* twa: power of the weighted mean (1: plain exponential mean) */
    double floor;       /* days_left: level at which the metric is exhausted (e.g. mV) */
    enum lw_waterfilter_kind filter;
    double noise_floor;  /* floodnet filter, mm */
    double spike;        /* mm */
    double max_rise;     /* mm/min */
    double plateau_tol;  /* mm */
    uint64_t plateau_ms; /* flat this long after a jump: a plateau, passed unconfirmed */
    enum lw_coincidence coincidence;
    uint64_t coincidence_ms;
    uint64_t timeout_ms; /* silence: node not heard this long; radio_fault: no frame at all */
    enum lw_flag_bit flag;
};

struct lw_config {
    char path[LW_PATH_MAX];
    /* [gateway] */
    char site[LW_NAME_MAX];
    uint32_t network_id;
    char state_dir[LW_PATH_MAX];
    char database[LW_PATH_MAX]; /* empty: STATE_DIR/lorawatch.db */
    char log_level[16];
    char clock_check[LW_PATH_MAX];  /* "kernel", "none" or a flag file's path */
    char metrics_file[LW_PATH_MAX]; /* node-exporter textfile; empty: none */
    char control_socket[108];       /* Unix socket for the CLI; empty: none */
    char control_group[LW_NAME_MAX];
    uint64_t metrics_interval_ms;
    /* [radio] */
    char radio_backend[16];
    /* Line of the key that chose the radio: [radio] backend, else board, else sim_listen or
     * sim_clock (a file setting up the simulated medium means the simulator); 0: none, the
     * radio was never chosen (lw_config_warnings; lorawatchd refuses to start). */
    int radio_chosen_line;
    char sim_listen[64];
    char sim_clock[16];        /* "system" or "medium" */
    char forwarder_listen[64]; /* udp-forwarder: where lora_pkt_fwd sends its datagrams */
    uint32_t tx_power_dbm;     /* udp-forwarder: "powe" of every downlink */
    uint32_t frequency_hz;
    uint32_t spreading_factor;
    uint32_t bandwidth_hz;
    uint32_t coding_rate;
    /* [radio] single-chip HATs (sx127x, sx126x backends; see lw_presets) */
    char radio_board[32]; /* board preset; empty: none */
    char radio_region[8]; /* region preset: CN470 or EU868 */
    char spi_device[64];  /* empty: the board's */
    uint32_t spi_speed_hz;
    char gpio_chip[32];
    char pin_reset[8]; /* "" board's, "none", or a line offset */
    char pin_cs[8];
    char pin_dio0[8];
    char pin_dio1[8];
    char pin_busy[8];
    char tcxo_voltage[8];   /* "" board's, "none", or volts such as 1.8 */
    char dio2_rf_switch[8]; /* "" board's, yes, no */
    uint32_t sync_word;
    uint32_t preamble;
    uint64_t radio_watchdog_interval_ms;
    uint64_t radio_watchdog_silence_ms; /* 0: off */
    /* [mesh] */
    uint32_t mesh_hop_limit;         /* most relays a frame may cross (0..7) */
    uint64_t mesh_relay_silence_ms;  /* a relay not heard this long: one trouble alert */
    uint64_t mesh_event_interval_ms; /* reporting interval of nodes in event mode */
    /* [mqtt] */
    char mqtt_host[128];
    uint32_t mqtt_port;
    char mqtt_client_id[64];
    uint64_t mqtt_keepalive_ms;
    char mqtt_username[64];
    char mqtt_password[128];
    char mqtt_tls_ca_file[LW_PATH_MAX]; /* non-empty: TLS on, broker verified against it */
    char mqtt_tls_cert_file[LW_PATH_MAX];
    char mqtt_tls_key_file[LW_PATH_MAX];
    char mqtt_tls_version[16];
    uint64_t mqtt_reconnect_min_ms;
    uint64_t mqtt_reconnect_max_ms;
    uint64_t status_interval_ms;
    /* [storage] */
    uint32_t batch_rows;
    uint64_t batch_ms;
    uint32_t retention_days;      /* raw readings older than this are deleted; 0: kept */
    char spool_file[LW_PATH_MAX]; /* alert writes waiting for the disk, kept there too */
    /* [alerts] */
    uint64_t escalate_after_ms; /* unacknowledged this long at a tier: the next tier is told */
    uint64_t remind_every_ms;   /* repeat to the current tier while unacknowledged; 0: never */
    uint64_t max_silence_ms;    /* longest maintenance silence */
    struct lw_roster *roster;   /* [duty:ID] sections (lw_roster.h); never NULL once loaded */

    struct lw_node_conf *nodes;
    size_t n_nodes;
    struct lw_rule_conf *rules;
    size_t n_rules;
};

/* Database path after applying the default under state_dir. */
void lw_config_db_path(const struct lw_config *cfg, char *out, size_t cap);
/* Does node carry every tag of the comma-separated list? (true for an empty list) */
bool lw_tags_match(const char *node_tags, const char *wanted);
/* Does node carry any tag of the comma-separated list? (false for an empty list) */
bool lw_tags_any(const char *node_tags, const char *list);

/* Names of the model's enum values, NULL-terminated (lw_model.c). */
extern const char *const lw_kind_names[];
extern const char *const lw_level_names[];
extern const char *const lw_hazard_names[];
extern const char *const lw_metric_names[];

/* Add the node's "place" object (building, floor, unit, grid, text, tags as an array) to parent,
 * as alerts and control replies show it. */
struct cJSON;
void lw_place_json(struct cJSON *parent, const struct lw_node_conf *n);

/* Value in the metric's natural units (not negated), for messages. false (for lw_rule_value
 * too, in the rules) when the reading does not carry it or it is no measurement: a gas reading
 * while the sensor warms up, any sensor metric (all but battery) of a frame flagged with a sensor
 * fault. */
bool lw_metric_value(enum lw_metric m, const struct lw_reading *r, double *out);

/* Per-node levels: for each level, the threshold a node's time above it is measured from, for a
 * metric (NAN: none). The rules layer fills one (lw_rules_level_source); the rollups use it, so
 * storage applies no rule semantics of its own. */
struct lw_level_source {
    void (*levels)(void *arg, const struct lw_node_conf *node, enum lw_metric metric,
                   double thr[LW_LEVEL_COUNT]);
    void (*free)(void *arg); /* releases arg once the source is replaced (NULL: not owned) */
    void *arg;
};

/* What an acknowledgement says about the alert, for the journal and the review (false alarms are
 * counted from it, never from words in a note): on_my_way, false_alarm, test, dealt_with. */
#define LW_ACK_OUTCOMES 4
extern const char *const lw_ack_outcomes[LW_ACK_OUTCOMES];
/* The outcome's index, or -1 when s is not one. */
int lw_ack_outcome_index(const char *s);
/* Its words for people: "正在赶往现场" / "on the way", ... ("" for an unknown one). */
const char *lw_ack_outcome_text(const char *s, bool zh);

#endif
