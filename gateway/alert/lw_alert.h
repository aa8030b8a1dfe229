/* SPDX-License-Identifier: Apache-2.0 */
/* Alert messages: MQTT topics and JSON payloads (cJSON) with structured fields and a sentence in
 * Chinese and English, so a generic phone MQTT app is already useful. Pure: no I/O. */
#ifndef LW_ALERT_H
#define LW_ALERT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lw_model.h"

enum lw_alert_state {
    LW_ALERT_RAISED,
    LW_ALERT_CLEARED, /* the value went back past the clear level */
    LW_ALERT_CLOSED,  /* withdrawn: its rule or node was removed by a reload */
    LW_ALERT_UPDATED, /* still open, the water still rising: a new peak (lw_alert_info.previous) */
};

const char *lw_alert_state_name(enum lw_alert_state s);

struct lw_alert_info {
    int64_t id;
    const char *site;
    const struct lw_rule_conf *rule;
    const struct lw_node_conf *node;
    enum lw_alert_state state;
    enum lw_level level; /* the level it was raised at: the rule's, or above it when a
                          * coincidence confirmed it; every message about the alert says it */
    double value;      /* metric value in natural units at this transition */
    int64_t raised_ms; /* Unix ms */
    int64_t t_ms;      /* time of this transition */
    bool test;         /* a test alarm (lorawatch test-alarm): marked so nobody is paged */
    int64_t incident;  /* the incident it belongs to (0: none) */
    bool unconfirmed;  /* raised on water depth the filter could not confirm: go and look */
    /* LW_ALERT_UPDATED only: the value of the alert's last message, and the highest level whose
     * lowest threshold the value has now reached (above the alert's own level: reached_at is that
     * threshold), or the alert's own level. */
    double previous;
    enum lw_level reached;
    double reached_at;
};

/* lorawatch/<site>/alert/<id> */
void lw_alert_topic(char *out, size_t cap, const char *site, int64_t id);
/* JSON payload; caller frees with free(). NULL on allocation failure. */
char *lw_alert_json(const struct lw_alert_info *a);
/* The English sentence alone (for logs). */
void lw_alert_sentence_en(const struct lw_alert_info *a, char *out, size_t cap);

/* The rule of the built-in trouble alert raised when a mesh relay is not heard for timeout_ms
 * ([mesh] relay_silence): a silence rule named relay-silent, not in the configuration. */
void lw_alert_relay_rule(struct lw_rule_conf *out, uint64_t timeout_ms);
/* The rule of a test alarm (lorawatch test-alarm) for a node of this kind: named test-alarm,
 * blue, of the kind's hazard and main metric, threshold and clear 0. */
void lw_alert_test_rule(struct lw_rule_conf *out, enum lw_node_kind kind);
/* The rule of the built-in red trouble alert raised while the gateway's database cannot be
 * written: named storage, value the trouble (1 full, 2 I/O error, 3 WAL pinned). */
void lw_alert_storage_rule(struct lw_rule_conf *out);

/* ISO 8601 local time with offset, e.g. 2026-07-15T02:14:00+08:00. */
void lw_format_time(int64_t unix_ms, char *out, size_t cap);

#endif
