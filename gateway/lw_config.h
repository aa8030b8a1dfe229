/* The daemon's configuration: one INI file parsed into a validated struct. Scalar keys come from a
 * single table (name, type, default, bounds, help) that drives parsing, validation and --help. */
#ifndef LW_CONFIG_H
#define LW_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "lw_frame.h"

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

struct lw_node_conf {
    char name[LW_NAME_MAX]; /* section id: [node:NAME] */
    uint16_t address;
    uint8_t eui[8];
    uint8_t key[LW_KEY_LEN];
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
    char sim_listen[64];
    char sim_clock[16];        /* "system" or "medium" */
    char forwarder_listen[64]; /* udp-forwarder: where lora_pkt_fwd sends its datagrams */
    uint32_t tx_power_dbm;     /* udp-forwarder: "powe" of every downlink */
    uint32_t frequency_hz;
    uint32_t spreading_factor;
    uint32_t bandwidth_hz;
    uint32_t coding_rate;
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

    struct lw_node_conf *nodes;
    size_t n_nodes;
    struct lw_rule_conf *rules;
    size_t n_rules;
};

/* Where configuration errors go: one call per problem, already formatted as
 * "FILE:LINE: [section] key: message". */
typedef void (*lw_config_error_fn)(void *arg, const char *msg);

/* Load and validate. Every problem is reported through err (default: stderr) and loading goes on
 * so all of them show. Returns NULL when anything was wrong. */
struct lw_config *lw_config_load(const char *path, lw_config_error_fn err, void *arg);
/* Same, from text in memory; name is used in messages (for tests and the fuzzer). */
struct lw_config *lw_config_parse(const char *name, const char *text, size_t len,
                                  lw_config_error_fn err, void *arg);
void lw_config_free(struct lw_config *cfg);

/* For a reload: settings that only take effect at start (everything but log_level, nodes and
 * rules) keep the running values; each one that differs is reported through note. */
void lw_config_keep_restart_keys(const struct lw_config *running, struct lw_config *next,
                                 void (*note)(void *arg, const char *section, const char *key),
                                 void *arg);

/* Database path after applying the default under state_dir. */
void lw_config_db_path(const struct lw_config *cfg, char *out, size_t cap);
/* Does node carry every tag of the comma-separated list? (true for an empty list) */
bool lw_tags_match(const char *node_tags, const char *wanted);
/* Does node carry any tag of the comma-separated list? (false for an empty list) */
bool lw_tags_any(const char *node_tags, const char *list);

/* Print every scalar key with default, range and meaning (for --help-config and the man page). */
void lw_config_print_keys(FILE *out);

#endif
