/* SPDX-License-Identifier: Apache-2.0 */
/* Prints every alert message the rules of a configuration file can make, as `mosquitto_sub -v`
 * lines (TOPIC PAYLOAD), for a JSON Schema check (alert-payloads.sh): each rule raised, cleared
 * and closed on a node it applies to, the gateway's radio-fault alert, the built-in relay-silent
 * alert, and the duty messages (notified, reminder, escalated, acknowledged, cleared) that
 * lw_escalation makes of them. Nodes of every kind and a duty roster are added to the
 * configuration.
 *
 * Usage: alert_payloads CONFIG > messages. Exit 1 when the configuration does not load or a
 * rule applies to none of the added nodes. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lw_alert.h"
#include "lw_config.h"
#include "lw_escalation.h"
#include "lw_error.h"
#include "lw_rules.h"

#define SITE "payloads"

/* One node of each kind (grid 1 has a worker on the roster), and a roster with all tiers. */
static const char extra_conf[] =
    "\n[node:pl-water]\naddress = 0x0E01\neui = 70B3D57ED0000E01\n"
    "key = 11111111111111111111111111111111\nkind = water\nlabel = Ramp water sensor\n"
    "building = 7\nfloor = B1\nunit = garage\ngrid = 1\n"
    "place = 7号楼地下车库坡道 / Block 7 basement garage ramp\ntags = low-lying,street\n"
    "[node:pl-basement]\naddress = 0x0E02\neui = 70B3D57ED0000E02\n"
    "key = 22222222222222222222222222222222\nkind = water\nbuilding = 7\nfloor = B2\n"
    "grid = 1\ntags = basement\n"
    "[node:pl-smoke]\naddress = 0x0E03\neui = 70B3D57ED0000E03\n"
    "key = 33333333333333333333333333333333\nkind = smoke\nbuilding = 2\nfloor = 3\n"
    "unit = stairwell\ngrid = 2\n"
    "[node:pl-gas]\naddress = 0x0E04\neui = 70B3D57ED0000E04\n"
    "key = 44444444444444444444444444444444\nkind = gas\nbuilding = 5\nfloor = 12\n"
    "unit = 1201\ngrid = 1\n"
    "[node:pl-co]\naddress = 0x0E05\neui = 70B3D57ED0000E05\n"
    "key = 55555555555555555555555555555555\nkind = co\nbuilding = 4\ngrid = 1\n"
    "[node:pl-multi]\naddress = 0x0E06\neui = 70B3D57ED0000E06\n"
    "key = 66666666666666666666666666666666\nkind = multi\nbuilding = 9\ngrid = 1\n"
    "[duty:pl-worker]\nname = 张伟\ntier = 1\ngrids = 1\n"
    "[duty:pl-room]\nname = 李娜\ntier = 2\n"
    "[duty:pl-office]\nname = 赵强\ntier = 3\n"
    /* The metrics the shipped rules leave out, so every metric's sentence is seen. */
    "[rule:pl-heat]\nmetric = temp_c\nhazard = fire\nthreshold = 57.5\nclear = 45\n"
    "level = orange\n"
    "[rule:pl-obscuration]\nmetric = obscuration\nhazard = fire\nthreshold = 2.5\n"
    "clear = 1\npersistence = 10s\nlevel = yellow\n";

static int64_t next_id = 1;
static const int64_t t0 = INT64_C(1784052000000); /* 2026-07-15 02:00 +08:00 */

static int pub(void *arg, int64_t alert, const char *topic, const char *payload, bool retain)
{
    (void)arg;
    (void)alert;
    (void)retain;
    printf("%s %s\n", topic, payload);
    return LW_OK;
}

static int journal(void *arg, int64_t alert, const char *event, const char *actor, unsigned tier,
                   const char *via, const char *detail, const char *outcome)
{
    (void)arg, (void)alert, (void)event, (void)actor, (void)tier, (void)via, (void)detail;
    (void)outcome;
    return LW_OK;
}

static int update(void *arg, int64_t alert, unsigned tier, const char *by, int64_t ms,
                  const char *outcome)
{
    (void)arg, (void)alert, (void)tier, (void)by, (void)ms, (void)outcome;
    return LW_OK;
}

static void silence_ended(void *arg, int64_t id, int64_t ms)
{
    (void)arg, (void)id, (void)ms;
}

static int commit(void *arg)
{
    (void)arg;
    return LW_OK;
}

/* A value that makes the transition: over the threshold when raised, at the clear level when
 * cleared; seconds for silence, 1/0 for flags and the radio. */
static double value_for(const struct lw_rule_conf *r, enum lw_alert_state s)
{
    double thr = r->below ? -r->threshold : r->threshold, clr = r->below ? -r->clear : r->clear;
    switch (r->type) {
    case LW_RULE_SILENCE:
        return s == LW_ALERT_RAISED ? (double)r->timeout_ms / 1000.0 + 4.0
                                    : (double)r->timeout_ms / 1000.0 + 61.5;
    case LW_RULE_FLAG:
    case LW_RULE_RADIO_FAULT:
    case LW_RULE_STORAGE:
        return s == LW_ALERT_RAISED;
    default:
        /* A mean is rarely a whole number: the sentences must not print 77.6667. */
        if (s == LW_ALERT_RAISED && r->statistic == LW_STAT_MEAN)
            return thr + 5.0 / 3.0;
        return s == LW_ALERT_CLOSED ? 0 : s == LW_ALERT_RAISED ? thr : clr;
    }
}

static void print_alert(const struct lw_alert_info *a)
{
    char topic[128];
    char *json = lw_alert_json(a);
    if (!json) {
        fprintf(stderr, "alert_payloads: out of memory\n");
        exit(1);
    }
    lw_alert_topic(topic, sizeof(topic), a->site, a->id);
    printf("%s %s\n", topic, json);
    free(json);
}

/* Raised, cleared and closed on alert/<id>; the raised one through the whole duty round, then
 * cleared to everyone told. */
static void one_alert(struct lw_escalation *d, const struct lw_config *cfg,
                      const struct lw_rule_conf *rule, enum lw_level level,
                      const struct lw_node_conf *node)
{
    struct lw_alert_info a = {
        .id = next_id++,
        .site = SITE,
        .rule = rule,
        .level = level,
        .node = node,
        .raised_ms = t0,
        .t_ms = t0,
        .incident = rule->hazard == LW_HAZARD_TROUBLE ? 0 : 3,
    };
    a.state = LW_ALERT_RAISED;
    a.value = value_for(rule, a.state);
    print_alert(&a);
    char *raised = lw_alert_json(&a);
    /* Water still rising under a flood alert on depth: an update, into the red line. */
    char *updated = NULL;
    bool rises = rule->hazard == LW_HAZARD_FLOOD && rule->metric == LW_METRIC_WATER &&
                 rule->type == LW_RULE_THRESHOLD &&
                 (rule->statistic == LW_STAT_VALUE || rule->statistic == LW_STAT_MEAN);
    if (rises) {
        struct lw_alert_info u = a;
        u.state = LW_ALERT_UPDATED;
        u.previous = a.value;
        u.value = a.value + 120;
        u.reached = level < LW_LEVEL_RED ? LW_LEVEL_RED : level;
        u.reached_at = a.value + 100;
        u.t_ms = t0 + 300000;
        print_alert(&u);
        updated = lw_alert_json(&u);
    }
    a.state = LW_ALERT_CLEARED;
    a.value = value_for(rule, a.state);
    a.t_ms = t0 + 600000;
    print_alert(&a);
    char *cleared = lw_alert_json(&a);
    a.state = LW_ALERT_CLOSED;
    a.value = value_for(rule, a.state);
    print_alert(&a);
    if (!raised || !cleared) {
        fprintf(stderr, "alert_payloads: out of memory\n");
        exit(1);
    }

    struct lw_escalation_alert da = {.id = a.id, .node = node->address, .hazard = rule->hazard};
    snprintf(da.grid, sizeof(da.grid), "%s", node->grid);
    snprintf(da.building, sizeof(da.building), "%s", node->building);
    int64_t mono = 1000;
    lw_escalation_raised(d, &da, raised, mono, t0);
    /* Reminders, then the escalation to tier 2, each at the tick when due. */
    for (int64_t due = lw_escalation_next_due(d);
         due != INT64_MAX && due <= mono + (int64_t)cfg->escalate_after_ms;
         due = lw_escalation_next_due(d))
        lw_escalation_tick(d, due, t0 + (due - mono));
    if (updated)
        lw_escalation_updated(d, a.id, updated, t0 + 600000);
    free(updated);
    char why[128];
    lw_escalation_ack(d, a.id,
                      &(struct lw_ack){.actor = "pl-room",
                                       .tier = 2,
                                       .via = "mqtt",
                                       .note = "已带水泵出发",
                                       .outcome = "on_my_way"},
                      t0 + 900000, why, sizeof(why));
    lw_escalation_resolved(d, a.id, cleared);
    free(raised);
    free(cleared);
}

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = n >= 0 ? malloc((size_t)n + sizeof(extra_conf)) : NULL;
    if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    if (!buf)
        return NULL;
    memcpy(buf + n, extra_conf, sizeof(extra_conf));
    *len = (size_t)n + sizeof(extra_conf) - 1;
    return buf;
}

int main(int argc, char **argv)
{
    size_t len = 0;
    char *text = argc == 2 ? read_file(argv[1], &len) : NULL;
    if (!text) {
        fprintf(stderr, "usage: alert_payloads CONFIG > messages\n");
        return 1;
    }
    struct lw_config *cfg = lw_config_parse(argv[1], text, len, NULL, NULL);
    free(text);
    if (!cfg)
        return 1;
    struct lw_escalation_ops ops = {.publish = pub,
                                    .journal = journal,
                                    .update = update,
                                    .silence_ended = silence_ended,
                                    .commit = commit};
    struct lw_escalation *d = lw_escalation_new(SITE, cfg, &ops);
    struct lw_rules *engine = lw_rules_new();
    if (!d || !engine)
        return 1;
    int rc = 0;
    for (size_t i = 0; i < cfg->n_rules; i++) {
        const struct lw_rule_conf *rule = &cfg->rules[i];
        const struct lw_node_conf *node = NULL;
        if (rule->type == LW_RULE_RADIO_FAULT)
            node = lw_rules_gateway_node(engine, SITE);
        for (size_t k = 0; !node && k < cfg->n_nodes; k++)
            if (strncmp(cfg->nodes[k].name, "pl-", 3) == 0 && lw_rule_applies(rule, &cfg->nodes[k]))
                node = &cfg->nodes[k];
        if (!node) {
            fprintf(stderr, "alert_payloads: rule %s applies to no node of the test set\n",
                    rule->name);
            rc = 1;
            continue;
        }
        one_alert(d, cfg, rule, rule->level, node);
        /* Confirmed by a second device: the same alert one level up. */
        struct lw_rule_state st = {.confirmed = true};
        if (rule->coincidence != LW_COINC_NONE)
            one_alert(d, cfg, rule, lw_rule_raise_level(rule, &st), node);
    }
    /* The built-in alert of a silent mesh relay, under a relay that is not a sensor. */
    struct lw_rule_conf relay;
    lw_alert_relay_rule(&relay, cfg->mesh_relay_silence_ms);
    struct lw_node_conf rn = {.address = 0x0E10, .kind = LW_KIND_MULTI};
    snprintf(rn.name, sizeof(rn.name), "relay-0E10");
    snprintf(rn.label, sizeof(rn.label), "relay 0x0E10");
    snprintf(rn.place, sizeof(rn.place), "relay relay-0E10; 2 nodes behind it: pl-water,pl-gas");
    one_alert(d, cfg, &relay, relay.level, &rn);
    /* A test alarm of each kind of node: raised (a notice to tier 1) and ended. */
    for (size_t k = 0; k < cfg->n_nodes; k++) {
        if (strncmp(cfg->nodes[k].name, "pl-", 3) != 0)
            continue;
        struct lw_rule_conf test;
        lw_alert_test_rule(&test, cfg->nodes[k].kind);
        struct lw_alert_info a = {.id = next_id++,
                                  .site = SITE,
                                  .rule = &test,
                                  .level = test.level,
                                  .node = &cfg->nodes[k],
                                  .raised_ms = t0,
                                  .t_ms = t0,
                                  .test = true,
                                  .state = LW_ALERT_RAISED};
        print_alert(&a);
        char *raised = lw_alert_json(&a);
        struct lw_escalation_alert da = {
            .id = a.id, .node = a.node->address, .hazard = test.hazard};
        snprintf(da.grid, sizeof(da.grid), "%s", a.node->grid);
        if (raised)
            lw_escalation_test(d, &da, raised, t0);
        free(raised);
        a.state = LW_ALERT_CLEARED;
        print_alert(&a);
    }
    /* The built-in storage alert (the gateway's database cannot be written). */
    struct lw_rule_conf storage;
    lw_alert_storage_rule(&storage);
    one_alert(d, cfg, &storage, storage.level, lw_rules_gateway_node(engine, SITE));

    lw_rules_free(engine);
    lw_escalation_free(d);
    lw_config_free(cfg);
    return rc;
}
