/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of lw_alert: the JSON payload parsed back with cJSON, sentences, topics and local time
 * in Asia/Shanghai. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lw_alert.h"
#include "lw_config.h"
#include "lw_rules.h"

static const char conf_text[] =
    "[rule:flood-basement]\nmetric = water_mm\ntags = basement\nthreshold = 50\nclear = 20\n"
    "persistence = 2m\nlevel = red\n"
    "[rule:battery-low]\nmetric = battery_mv\ndirection = below\nthreshold = 3300\n"
    "clear = 3400\npersistence = 1h\nlevel = blue\nhazard = trouble\n"
    "[rule:fire-smoke]\nmetric = smoke\nthreshold = 1\nclear = 0\nlevel = red\n"
    "[node:garage]\naddress = 0x0101\neui = 70B3D57ED0000001\n"
    "key = 6A1F3C9E58B20D47A3E19C5F0B7D2846\nkind = water\nlabel = Garage water sensor\n"
    "building = 1\nfloor = B1\nunit = garage\ngrid = 3\n"
    "place = 1号楼地下车库入口 / Block 1 garage entrance\ntags = low-lying, basement\n"
    "[node:stair]\naddress = 0x0002\neui = 70B3D57ED0000002\n"
    "key = 00112233445566778899AABBCCDDEEFF\nkind = smoke\nbuilding = 5\nfloor = 12\n"
    "unit = stairwell\n";

static struct lw_config *cfg;

static void fail_on_config_error(void *arg, const char *msg)
{
    (void)arg;
    fail_msg("config: %s", msg);
}

static int group_setup(void **state)
{
    (void)state;
    setenv("TZ", "Asia/Shanghai", 1);
    tzset();
    cfg =
        lw_config_parse("alert.conf", conf_text, sizeof(conf_text) - 1, fail_on_config_error, NULL);
    return cfg ? 0 : -1;
}

static int group_teardown(void **state)
{
    (void)state;
    lw_config_free(cfg);
    return 0;
}

static const struct lw_rule_conf *rule_named(const char *name)
{
    for (size_t i = 0; i < cfg->n_rules; i++)
        if (strcmp(cfg->rules[i].name, name) == 0)
            return &cfg->rules[i];
    fail_msg("no rule %s", name);
    return NULL;
}

static const struct lw_node_conf *node_named(const char *name)
{
    for (size_t i = 0; i < cfg->n_nodes; i++)
        if (strcmp(cfg->nodes[i].name, name) == 0)
            return &cfg->nodes[i];
    fail_msg("no node %s", name);
    return NULL;
}

static cJSON *json_of(const struct lw_alert_info *a)
{
    char *text = lw_alert_json(a);
    assert_non_null(text);
    cJSON *o = cJSON_Parse(text);
    if (!o)
        fail_msg("not JSON: %s", text);
    free(text);
    return o;
}

static const char *str(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!cJSON_IsString(v))
        fail_msg("\"%s\" is not a string", key);
    return v->valuestring;
}

static double num(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!cJSON_IsNumber(v))
        fail_msg("\"%s\" is not a number", key);
    return v->valuedouble;
}

static void test_json_has_every_field(void **state)
{
    struct lw_alert_info a = {
        .id = 42,
        .site = "estate",
        .rule = rule_named("flood-basement"),
        .node = node_named("garage"),
        .level = LW_LEVEL_RED,
        .state = LW_ALERT_RAISED,
        .value = 63,
        .raised_ms = INT64_C(1784052000000),
        .t_ms = INT64_C(1784052000000),
    };
    (void)state;
    cJSON *o = json_of(&a);
    assert_true(num(o, "id") == 42);
    assert_string_equal(str(o, "site"), "estate");
    assert_string_equal(str(o, "state"), "raised");
    assert_string_equal(str(o, "level"), "red");
    assert_string_equal(str(o, "hazard"), "flood");
    assert_string_equal(str(o, "rule"), "flood-basement");

    const cJSON *node = cJSON_GetObjectItemCaseSensitive(o, "node");
    assert_true(cJSON_IsObject(node));
    assert_string_equal(str(node, "name"), "garage");
    assert_string_equal(str(node, "address"), "0x0101");
    assert_string_equal(str(node, "eui"), "70B3D57ED0000001");
    assert_string_equal(str(node, "kind"), "water");
    assert_string_equal(str(node, "label"), "Garage water sensor");
    assert_null(cJSON_GetObjectItemCaseSensitive(node, "key")); /* never published */

    const cJSON *place = cJSON_GetObjectItemCaseSensitive(o, "place");
    assert_true(cJSON_IsObject(place));
    assert_string_equal(str(place, "building"), "1");
    assert_string_equal(str(place, "floor"), "B1");
    assert_string_equal(str(place, "unit"), "garage");
    assert_string_equal(str(place, "grid"), "3");
    assert_string_equal(str(place, "text"), "1号楼地下车库入口 / Block 1 garage entrance");
    const cJSON *tags = cJSON_GetObjectItemCaseSensitive(place, "tags");
    assert_true(cJSON_IsArray(tags));
    assert_int_equal(cJSON_GetArraySize(tags), 2);
    assert_string_equal(cJSON_GetArrayItem(tags, 0)->valuestring, "low-lying");
    assert_string_equal(cJSON_GetArrayItem(tags, 1)->valuestring, "basement");

    assert_string_equal(str(o, "metric"), "water_mm");
    assert_string_equal(str(o, "unit"), "mm");
    assert_true(num(o, "value") == 63);
    assert_true(num(o, "threshold") == 50);
    assert_true(num(o, "clear") == 20);
    assert_string_equal(str(o, "direction"), "above");
    assert_true(num(o, "persistence_s") == 120);
    assert_string_equal(str(o, "raised"), "2026-07-15T02:00:00+08:00");
    assert_string_equal(str(o, "time"), "2026-07-15T02:00:00+08:00");
    assert_true(num(o, "time_ms") == 1784052000000.0);
    assert_non_null(strstr(str(o, "text_zh"), "内涝红色预警"));
    assert_non_null(strstr(str(o, "text_zh"), "1号楼地下车库入口"));
    assert_non_null(strstr(str(o, "text_zh"), "水深63mm"));
    assert_non_null(strstr(str(o, "text_zh"), "已持续2分钟"));
    assert_string_equal(str(o, "text_en"), "RED flood warning: Block 1 garage entrance: "
                                           "water depth 63 mm, above 50 mm for 2 min.");
    cJSON_Delete(o);
}

/* Water the filter could not confirm (flat after a jump: perhaps a car under the sensor) is
 * raised all the same, and says so in both sentences and in the unconfirmed field; its all-clear
 * is an ordinary one. */
static void test_unconfirmed_water_says_so(void **state)
{
    struct lw_alert_info a = {
        .id = 9,
        .site = "estate",
        .rule = rule_named("flood-basement"),
        .level = rule_named("flood-basement")->level,
        .node = node_named("garage"),
        .state = LW_ALERT_RAISED,
        .value = 300,
        .raised_ms = INT64_C(1784052000000),
        .t_ms = INT64_C(1784052000000),
        .unconfirmed = true,
    };
    char en[512];
    (void)state;
    cJSON *o = json_of(&a);
    assert_true(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "unconfirmed")));
    assert_non_null(strstr(str(o, "text_zh"), "水深300mm"));
    assert_non_null(strstr(str(o, "text_zh"), "未经确认：传感器下方可能有遮挡物"));
    cJSON_Delete(o);
    lw_alert_sentence_en(&a, en, sizeof(en));
    assert_string_equal(en, "RED flood warning: Block 1 garage entrance: "
                            "water depth 300 mm, above 50 mm for 2 min. Unconfirmed: possibly an "
                            "obstruction under the sensor (a parked car), go and look.");
    a.state = LW_ALERT_CLEARED;
    a.value = 0;
    o = json_of(&a);
    assert_true(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "unconfirmed")));
    assert_null(strstr(str(o, "text_en"), "Unconfirmed"));
    cJSON_Delete(o);
    a.unconfirmed = false; /* and an ordinary alert carries the field, false */
    a.state = LW_ALERT_RAISED;
    o = json_of(&a);
    assert_true(cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(o, "unconfirmed")));
    assert_null(strstr(str(o, "text_zh"), "未经确认"));
    cJSON_Delete(o);
}

static void test_below_rule_shows_threshold_unnegated(void **state)
{
    struct lw_alert_info a = {
        .id = 7,
        .site = "estate",
        .rule = rule_named("battery-low"),
        .node = node_named("garage"),
        .level = LW_LEVEL_BLUE,
        .value = 3250,
        .raised_ms = INT64_C(1784052000000),
        .t_ms = INT64_C(1784055600000),
    };
    char en[512];
    (void)state;
    assert_true(a.rule->threshold == -3300); /* stored negated */
    cJSON *o = json_of(&a);
    assert_true(num(o, "threshold") == 3300);
    assert_true(num(o, "clear") == 3400);
    assert_true(num(o, "value") == 3250);
    assert_string_equal(str(o, "direction"), "below");
    assert_string_equal(str(o, "hazard"), "trouble");
    assert_string_equal(str(o, "level"), "blue");
    assert_string_equal(str(o, "unit"), "mV");
    assert_true(num(o, "persistence_s") == 3600);
    assert_string_equal(str(o, "time"), "2026-07-15T03:00:00+08:00");
    assert_non_null(strstr(str(o, "text_zh"), "低于3300mV"));
    assert_non_null(strstr(str(o, "text_zh"), "1小时"));
    cJSON_Delete(o);
    lw_alert_sentence_en(&a, en, sizeof(en));
    assert_string_equal(en, "BLUE trouble warning: Block 1 garage entrance: "
                            "battery 3250 mV, below 3300 mV for 1 h.");
}

static void test_cleared_state_and_text(void **state)
{
    struct lw_alert_info a = {
        .id = 42,
        .site = "estate",
        .rule = rule_named("flood-basement"),
        .node = node_named("garage"),
        .level = LW_LEVEL_RED,
        .state = LW_ALERT_CLEARED,
        .value = 18,
        .raised_ms = INT64_C(1784052000000),
        .t_ms = INT64_C(1784055600000),
    };
    (void)state;
    cJSON *o = json_of(&a);
    assert_string_equal(str(o, "state"), "cleared");
    assert_string_equal(str(o, "raised"), "2026-07-15T02:00:00+08:00");
    assert_string_equal(str(o, "time"), "2026-07-15T03:00:00+08:00");
    assert_true(num(o, "time_ms") == 1784055600000.0);
    assert_string_equal(str(o, "text_en"), "All clear (RED flood warning): Block 1 garage "
                                           "entrance: water depth back to 18 mm (clear level 20 "
                                           "mm).");
    assert_non_null(strstr(str(o, "text_zh"), "解除内涝红色预警：1号楼地下车库入口，"));
    assert_non_null(strstr(str(o, "text_zh"), "解除线20mm"));
    cJSON_Delete(o);
}

static void test_smoke_sentence_and_place_fallback(void **state)
{
    struct lw_alert_info a = {
        .id = 3,
        .site = "estate",
        .rule = rule_named("fire-smoke"),
        .node = node_named("stair"),
        .level = LW_LEVEL_RED,
        .value = 1,
        .raised_ms = INT64_C(1784052000000),
        .t_ms = INT64_C(1784052000000),
    };
    char en[512];
    (void)state;
    lw_alert_sentence_en(&a, en, sizeof(en));
    /* No place text: building, floor and unit. */
    assert_string_equal(en, "FIRE ALARM: block 5, floor 12, stairwell: smoke detector in alarm. "
                            "Go and check now.");
    cJSON *o = json_of(&a);
    assert_string_equal(str(o, "hazard"), "fire");
    assert_string_equal(str(o, "metric"), "smoke");
    assert_string_equal(str(o, "unit"), "");
    assert_true(num(o, "persistence_s") == 0);
    assert_non_null(strstr(str(o, "text_zh"), "烟感探测器报警"));
    const cJSON *node = cJSON_GetObjectItemCaseSensitive(o, "node");
    assert_string_equal(str(node, "address"), "0x0002");
    assert_string_equal(str(node, "kind"), "smoke");
    assert_string_equal(str(node, "label"), "");
    const cJSON *tags =
        cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(o, "place"), "tags");
    assert_true(cJSON_IsArray(tags));
    assert_int_equal(cJSON_GetArraySize(tags), 0);
    cJSON_Delete(o);
}

/* The level is the alert's, not its rule's: an orange rule's alarm that a second detector
 * confirmed is red in every message, its all-clear included. */
static void test_level_is_the_alerts_own(void **state)
{
    struct lw_rule_conf orange = *rule_named("fire-smoke");
    orange.level = LW_LEVEL_ORANGE;
    struct lw_alert_info a = {
        .id = 4,
        .site = "estate",
        .rule = &orange,
        .node = node_named("stair"),
        .level = LW_LEVEL_RED,
        .value = 1,
    };
    char en[512];
    (void)state;
    cJSON *o = json_of(&a);
    assert_string_equal(str(o, "level"), "red");
    /* Confirmed by a second detector: 确认火警, not a colour. */
    assert_non_null(strstr(str(o, "text_zh"), "确认火警：5号楼12层stairwell，烟感探测器报警，"));
    assert_null(strstr(str(o, "text_zh"), "红色"));
    cJSON_Delete(o);
    a.state = LW_ALERT_CLEARED;
    lw_alert_sentence_en(&a, en, sizeof(en));
    assert_non_null(strstr(en, "All clear (CONFIRMED FIRE)"));
}

/* A test alarm says what it is, raised and ended, in both languages: a test of the node's alarm
 * path. It quotes no reading, so its end never reads as the water (or smoke) having gone. */
static void test_test_alarm_says_what_it_is(void **state)
{
    struct lw_rule_conf water, smoke;
    lw_alert_test_rule(&water, LW_KIND_WATER);
    lw_alert_test_rule(&smoke, LW_KIND_SMOKE);
    struct lw_alert_info a = {
        .id = 7,
        .site = "estate",
        .rule = &water,
        .node = node_named("garage"),
        .level = LW_LEVEL_BLUE,
        .state = LW_ALERT_RAISED,
        .raised_ms = INT64_C(1784052000000),
        .t_ms = INT64_C(1784052000000),
        .test = true,
    };
    (void)state;
    cJSON *o = json_of(&a);
    assert_string_equal(str(o, "rule"), "test-alarm");
    assert_string_equal(str(o, "hazard"), "flood");
    assert_string_equal(str(o, "level"), "blue");
    assert_string_equal(str(o, "type"), "threshold");
    assert_string_equal(str(o, "statistic"), "value");
    assert_string_equal(str(o, "metric"), "water_mm");
    assert_string_equal(str(o, "unit"), "mm");
    assert_true(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "test")));
    assert_null(cJSON_GetObjectItemCaseSensitive(o, "incident"));
    assert_true(num(o, "value") == 0 && num(o, "threshold") == 0 && num(o, "clear") == 0);
    assert_string_equal(str(o, "text_en"),
                        "[TEST - no action needed] Test alarm (flood): Block 1 garage entrance: "
                        "testing this node's alarm path from the gateway to the phones.");
    assert_string_equal(str(o, "text_zh"),
                        "【测试，无需出动】内涝测试报警：1号楼地下车库入口，正在测试该节点从网关到"
                        "手机的报警通路。");
    cJSON_Delete(o);

    /* Its end, whatever the node stands in (the caller passes 0; a stray value changes nothing). */
    a.state = LW_ALERT_CLEARED;
    a.value = 400;
    o = json_of(&a);
    assert_string_equal(str(o, "text_en"),
                        "[TEST - no action needed] Test alarm (flood) ended: Block 1 garage "
                        "entrance: the test of this node's alarm path is over.");
    assert_string_equal(str(o, "text_zh"),
                        "【测试，无需出动】内涝测试报警结束：1号楼地下车库入口，该节点报警通路测试"
                        "已结束。");
    cJSON_Delete(o);

    /* A smoke node's test is a fire test, and says nothing of the detector's state either. */
    a.rule = &smoke;
    a.node = node_named("stair");
    a.value = 0;
    const enum lw_alert_state states[] = {LW_ALERT_RAISED, LW_ALERT_CLEARED};
    for (size_t i = 0; i < 2; i++) {
        a.state = states[i];
        o = json_of(&a);
        assert_string_equal(str(o, "metric"), "smoke");
        const char *en = str(o, "text_en"), *zh = str(o, "text_zh");
        assert_non_null(strstr(en, i ? "Test alarm (fire) ended: block 5, floor 12, stairwell:"
                                     : "Test alarm (fire): block 5, floor 12, stairwell:"));
        assert_non_null(strstr(zh, i ? "火灾测试报警结束：5号楼12层stairwell"
                                     : "火灾测试报警：5号楼12层stairwell"));
        assert_null(strstr(en, "normal"));
        assert_null(strstr(en, "alarm, go"));
        assert_null(strstr(zh, "恢复正常"));
        assert_null(strstr(zh, "烟感探测器"));
        cJSON_Delete(o);
    }
}

static void test_place_falls_back_to_label_then_name(void **state)
{
    struct lw_node_conf n = *node_named("stair");
    struct lw_alert_info a = {
        .id = 3,
        .site = "estate",
        .rule = rule_named("fire-smoke"),
        .node = &n,
        .level = LW_LEVEL_RED,
        .value = 1,
    };
    char en[512];
    (void)state;
    n.unit[0] = '\0'; /* a missing part leaves no blank behind */
    lw_alert_sentence_en(&a, en, sizeof(en));
    assert_non_null(strstr(en, ": block 5, floor 12: smoke"));
    n.floor[0] = '\0';
    lw_alert_sentence_en(&a, en, sizeof(en));
    assert_non_null(strstr(en, "ALARM: block 5: smoke"));
    n.building[0] = '\0';
    strcpy(n.label, "Stair 5/12");
    lw_alert_sentence_en(&a, en, sizeof(en));
    assert_non_null(strstr(en, ": Stair 5/12: "));
    n.label[0] = '\0';
    lw_alert_sentence_en(&a, en, sizeof(en));
    assert_non_null(strstr(en, ": stair: "));
}

/* A place written in both languages gives each sentence its own part, with or without spaces
 * around the slash; a slash inside one language's part is kept. */
static void test_place_in_the_readers_language(void **state)
{
    struct lw_node_conf n = *node_named("stair");
    struct lw_alert_info a = {.id = 3,
                              .site = "estate",
                              .rule = rule_named("fire-smoke"),
                              .node = &n,
                              .level = LW_LEVEL_RED,
                              .value = 1};
    (void)state;
    strcpy(n.place, "南门道路入口（低洼处）/ South gate road entrance (low point)");
    cJSON *o = json_of(&a);
    assert_string_equal(str(o, "title_zh"), "火警：南门道路入口（低洼处）");
    assert_string_equal(str(o, "title_en"), "FIRE ALARM: South gate road entrance (low point)");
    cJSON_Delete(o);
    strcpy(n.place, "Stair 5/12");
    o = json_of(&a);
    assert_string_equal(str(o, "title_zh"), "火警：Stair 5/12");
    assert_string_equal(str(o, "title_en"), "FIRE ALARM: Stair 5/12");
    cJSON_Delete(o);
}

/* ---- every rule type of the shipped configuration ---------------------------------------- */

/* config/lorawatch.conf as shipped, with a node of every kind to apply its rules to. */
static const char shipped_nodes[] =
    "\n[node:t-water]\naddress = 0x0E01\neui = 70B3D57ED0000E01\n"
    "key = 11111111111111111111111111111111\nkind = water\nbuilding = 7\nfloor = B1\n"
    "place = 7号楼坡道 / Block 7 ramp\ntags = street\n"
    "[node:t-basement]\naddress = 0x0E02\neui = 70B3D57ED0000E02\n"
    "key = 22222222222222222222222222222222\nkind = water\nplace = B2 pump room\ntags = basement\n"
    "[node:t-smoke]\naddress = 0x0E03\neui = 70B3D57ED0000E03\n"
    "key = 33333333333333333333333333333333\nkind = smoke\nplace = stair 3F\n"
    "[node:t-gas]\naddress = 0x0E04\neui = 70B3D57ED0000E04\n"
    "key = 44444444444444444444444444444444\nkind = gas\nplace = kitchen 1201\n"
    "[node:t-co]\naddress = 0x0E05\neui = 70B3D57ED0000E05\n"
    "key = 55555555555555555555555555555555\nkind = co\nplace = boiler room\n";

static struct lw_config *shipped_with_nodes(void)
{
    const char *src = getenv("LW_SOURCE_DIR");
    char path[1024];
    assert_non_null(src);
    snprintf(path, sizeof(path), "%s/config/lorawatch.conf", src);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    static char text[65536];
    size_t n = fread(text, 1, sizeof(text) - sizeof(shipped_nodes), f);
    fclose(f);
    assert_true(n > 0 && n < sizeof(text) - sizeof(shipped_nodes));
    memcpy(text + n, shipped_nodes, sizeof(shipped_nodes));
    struct lw_config *c =
        lw_config_parse(path, text, n + sizeof(shipped_nodes) - 1, fail_on_config_error, NULL);
    assert_non_null(c);
    return c;
}

static const struct lw_node_conf *node_for(const struct lw_config *c, const struct lw_rule_conf *r)
{
    static struct lw_node_conf gateway = {
        .name = "gateway", .kind = LW_KIND_MULTI, .place = "estate 网关 / estate gateway"};
    if (r->type == LW_RULE_RADIO_FAULT)
        return &gateway;
    for (size_t i = 0; i < c->n_nodes; i++)
        if (strncmp(c->nodes[i].name, "t-", 2) == 0 && lw_rule_applies(r, &c->nodes[i]))
            return &c->nodes[i];
    fail_msg("rule %s applies to none of the test nodes", r->name);
    return NULL;
}

/* Both sentences of a transition; the JSON's must be the same. */
static cJSON *sentences(const struct lw_alert_info *a, char *zh, char *en, size_t cap)
{
    cJSON *o = json_of(a);
    snprintf(zh, cap, "%s", str(o, "text_zh"));
    snprintf(en, cap, "%s", str(o, "text_en"));
    char log_en[512];
    lw_alert_sentence_en(a, log_en, sizeof(log_en));
    assert_string_equal(log_en, en);
    return o;
}

static void contains(const char *text, const char *part, const char *rule)
{
    if (!strstr(text, part))
        fail_msg("rule %s: \"%s\" does not say \"%s\"", rule, text, part);
}

/* The quantity, unit and numbers of a rule's alert: what the schema's metric/unit rules hold. */
static void check_fields(const cJSON *o, const struct lw_rule_conf *r)
{
    const char *metric = str(o, "metric"), *unit = str(o, "unit"), *type = str(o, "type");
    switch (r->type) {
    case LW_RULE_SILENCE:
        assert_string_equal(type, "silence");
        assert_string_equal(metric, "silent_s");
        assert_string_equal(unit, "s");
        /* The threshold is the timeout, in seconds; heard again (0 s silent) clears it. */
        assert_true(num(o, "threshold") == (double)r->timeout_ms / 1000.0);
        assert_true(num(o, "clear") == 0);
        assert_null(cJSON_GetObjectItemCaseSensitive(o, "statistic"));
        break;
    case LW_RULE_FLAG: {
        static const char *const flags[] = {"none", "fault", "tamper", "low_battery"};
        assert_string_equal(type, "flag");
        assert_string_equal(metric, "flags");
        assert_string_equal(unit, "");
        assert_string_equal(str(o, "flag"), flags[r->flag]);
        assert_true(num(o, "threshold") == 1 && num(o, "clear") == 0);
        break;
    }
    case LW_RULE_RADIO_FAULT:
        assert_string_equal(type, "radio_fault");
        assert_string_equal(metric, "radio_fault");
        assert_string_equal(unit, "");
        assert_true(num(o, "threshold") == 1 && num(o, "clear") == 0);
        break;
    case LW_RULE_STORAGE:
        assert_string_equal(type, "storage");
        assert_string_equal(metric, "storage");
        assert_string_equal(unit, "");
        assert_true(num(o, "threshold") == 1 && num(o, "clear") == 0);
        assert_null(cJSON_GetObjectItemCaseSensitive(o, "statistic"));
        break;
    default:
        assert_string_equal(type, "threshold");
        assert_string_equal(metric, lw_metric_name(r->metric));
        assert_string_equal(str(o, "statistic"), lw_statistic_name(r->statistic));
        if (r->statistic == LW_STAT_RISE) {
            char rate[32];
            snprintf(rate, sizeof(rate), "%s/min", lw_metric_unit(r->metric));
            assert_string_equal(unit, rate);
        } else if (r->statistic == LW_STAT_DAYS_LEFT) {
            assert_string_equal(unit, "d");
        } else {
            assert_string_equal(unit, lw_metric_unit(r->metric));
        }
        assert_null(cJSON_GetObjectItemCaseSensitive(o, "flag"));
    }
}

/* Every rule of the shipped file, raised, cleared and closed: structured fields that match the
 * rule type, and sentences that are there and say what happened. */
static void test_every_shipped_rule_type(void **state)
{
    (void)state;
    struct lw_config *c = shipped_with_nodes();
    unsigned types = 0, stats = 0;
    char zh[512], en[512], part[64], part_zh[64];
    for (size_t i = 0; i < c->n_rules; i++) {
        const struct lw_rule_conf *r = &c->rules[i];
        const char *unit = lw_rule_value_unit(r);
        types |= 1u << r->type;
        if (r->type == LW_RULE_THRESHOLD)
            stats |= 1u << r->statistic;
        struct lw_alert_info a = {.id = 9,
                                  .site = "estate",
                                  .rule = r,
                                  .level = r->level,
                                  .node = node_for(c, r),
                                  .raised_ms = INT64_C(1784052000000),
                                  .t_ms = INT64_C(1784052000000)};
        double thr = r->below ? -r->threshold : r->threshold;

        /* Raised. */
        a.state = LW_ALERT_RAISED;
        a.value = r->type == LW_RULE_SILENCE     ? (double)r->timeout_ms / 1000.0 + 7
                  : r->type == LW_RULE_THRESHOLD ? thr
                                                 : 1;
        cJSON *o = sentences(&a, zh, en, sizeof(zh));
        check_fields(o, r);
        assert_true(num(o, "value") == a.value);
        cJSON_Delete(o);
        char level[16];
        snprintf(level, sizeof(level), "%s", lw_level_name(r->level));
        for (char *p = level; *p; p++)
            *p = (char)(*p - 'a' + 'A');
        if (r->hazard == LW_HAZARD_FIRE) { /* 火警: fire is not graded by colour */
            contains(en, "FIRE", r->name);
            contains(zh, "火警", r->name);
        } else {
            contains(en, level, r->name);
            contains(en, "warning", r->name);
            contains(zh, "预警", r->name);
        }
        switch (r->type) {
        case LW_RULE_SILENCE: /* names the timeout */
            snprintf(part, sizeof(part), r->timeout_ms % 60000 ? "%llu s" : "%llu min",
                     (unsigned long long)(r->timeout_ms / (r->timeout_ms % 60000 ? 1000 : 60000)));
            snprintf(part_zh, sizeof(part_zh), r->timeout_ms % 60000 ? "%llu秒" : "%llu分钟",
                     (unsigned long long)(r->timeout_ms / (r->timeout_ms % 60000 ? 1000 : 60000)));
            contains(en, "silent", r->name);
            contains(en, part, r->name);
            contains(zh, part_zh, r->name);
            contains(zh, "未上报", r->name);
            break;
        case LW_RULE_FLAG:
            contains(en, r->flag == LW_FLAGBIT_TAMPER ? "tamper" : "fault", r->name);
            contains(zh, r->flag == LW_FLAGBIT_TAMPER ? "拆动" : "故障", r->name);
            break;
        case LW_RULE_RADIO_FAULT:
            contains(en, "radio", r->name);
            contains(zh, "无线电", r->name);
            break;
        default:
            if (r->metric == LW_METRIC_SMOKE) {
                contains(en, "smoke detector in alarm", r->name);
                break;
            }
            snprintf(part, sizeof(part), "%g %s", thr, unit);
            contains(en, part, r->name); /* value and threshold, with the unit */
            snprintf(part_zh, sizeof(part_zh), "%g%s", thr, strcmp(unit, "d") ? unit : "天");
            contains(zh, part_zh, r->name);
            if (r->statistic == LW_STAT_RISE)
                contains(en, "rise of water depth 5 mm/min, above 5 mm/min", r->name);
            if (r->statistic == LW_STAT_DAYS_LEFT)
                contains(en, "battery days left", r->name);
        }

        /* Cleared. */
        a.state = LW_ALERT_CLEARED;
        a.value = r->type == LW_RULE_SILENCE     ? (double)r->timeout_ms / 1000.0 + 60
                  : r->type == LW_RULE_THRESHOLD ? (r->below ? -r->clear : r->clear)
                                                 : 0;
        o = sentences(&a, zh, en, sizeof(zh));
        check_fields(o, r);
        cJSON_Delete(o);
        contains(en, "All clear", r->name);
        contains(zh, "解除", r->name);
        if (r->type == LW_RULE_SILENCE) { /* and how long it was silent */
            unsigned long long silent = r->timeout_ms / 1000 + 60;
            bool whole = silent % 60 == 0;
            snprintf(part, sizeof(part),
                     whole ? "heard again after %llu min silent"
                           : "heard again after %llu s silent",
                     whole ? silent / 60 : silent);
            contains(en, part, r->name);
            snprintf(part_zh, sizeof(part_zh), whole ? "此前%llu分钟未上报" : "此前%llu秒未上报",
                     whole ? silent / 60 : silent);
            contains(zh, "恢复通信", r->name);
            contains(zh, part_zh, r->name);
        } else if (r->statistic == LW_STAT_RISE) { /* a rate, not a level, is back */
            contains(en, "rise of water depth back to 1 mm/min (clear level 1 mm/min)", r->name);
        } else if (r->type == LW_RULE_FLAG) {
            contains(en, r->flag == LW_FLAGBIT_TAMPER ? "tamper" : "fault", r->name);
        } else if (r->type == LW_RULE_RADIO_FAULT) {
            contains(en, "radio", r->name);
        }

        /* Closed. */
        a.state = LW_ALERT_CLOSED;
        a.value = 0;
        o = sentences(&a, zh, en, sizeof(zh));
        check_fields(o, r);
        cJSON_Delete(o);
        contains(en, "Withdrawn", r->name);
        contains(zh, "撤销", r->name);
    }
    /* The shipped file has every configurable type and statistic, so none goes unchecked (the
     * built-in storage alert is checked on its own). */
    assert_int_equal(types, ((1u << LW_RULE_TYPE_COUNT) - 1) & ~(1u << LW_RULE_STORAGE));
    assert_int_equal(stats, (1u << LW_STAT_COUNT) - 1);
    lw_config_free(c);
}

/* The built-in alert of a silent mesh relay: a silence in seconds that names its timeout. */
static void test_relay_silent_alert(void **state)
{
    (void)state;
    struct lw_rule_conf r;
    lw_alert_relay_rule(&r, 300000);
    struct lw_node_conf n = {.name = "relay-0E10",
                             .address = 0x0E10,
                             .kind = LW_KIND_MULTI,
                             .place = "relay relay-0E10; 2 nodes behind it: a,b"};
    struct lw_alert_info a = {.id = 5,
                              .site = "estate",
                              .rule = &r,
                              .level = r.level,
                              .node = &n,
                              .state = LW_ALERT_RAISED,
                              .value = 301};
    char zh[512], en[512];
    cJSON *o = sentences(&a, zh, en, sizeof(zh));
    check_fields(o, &r);
    assert_string_equal(str(o, "rule"), "relay-silent");
    assert_string_equal(str(o, "hazard"), "trouble");
    assert_true(num(o, "value") == 301);
    assert_true(num(o, "threshold") == 300);
    cJSON_Delete(o);
    assert_string_equal(en, "YELLOW trouble warning: relay relay-0E10; 2 nodes behind it: a,b: "
                            "node silent for more than 5 min, check it.");
    contains(zh, "5分钟", "relay-silent");
    a.state = LW_ALERT_CLEARED;
    o = sentences(&a, zh, en, sizeof(zh));
    check_fields(o, &r);
    cJSON_Delete(o);
    contains(en, "heard again", "relay-silent");
}

/* The built-in storage alert: red, for the duty room, saying what the disk does. */
static void test_storage_alert(void **state)
{
    (void)state;
    struct lw_rule_conf r;
    lw_alert_storage_rule(&r);
    struct lw_node_conf n = {.name = "gateway", .kind = LW_KIND_MULTI};
    struct lw_alert_info a = {.id = 6,
                              .site = "estate",
                              .rule = &r,
                              .level = r.level,
                              .node = &n,
                              .state = LW_ALERT_RAISED,
                              .value = 1};
    char zh[512], en[512];
    cJSON *o = sentences(&a, zh, en, sizeof(zh));
    check_fields(o, &r);
    assert_string_equal(str(o, "level"), "red");
    assert_true(num(o, "value") == 1);
    cJSON_Delete(o);
    contains(en, "the disk is full", "storage");
    contains(zh, "磁盘已满", "storage");
    a.state = LW_ALERT_CLEARED;
    a.value = 0;
    o = sentences(&a, zh, en, sizeof(zh));
    check_fields(o, &r);
    cJSON_Delete(o);
    contains(en, "takes writes again", "storage");
}

static void test_alert_topic(void **state)
{
    char t[64];
    (void)state;
    lw_alert_topic(t, sizeof(t), "estate", 42);
    assert_string_equal(t, "lorawatch/estate/alert/42");
    lw_alert_topic(t, sizeof(t), "north-gate", INT64_C(9007199254740993));
    assert_string_equal(t, "lorawatch/north-gate/alert/9007199254740993");
    lw_alert_topic(t, 12, "estate", 42); /* truncates, stays terminated */
    assert_string_equal(t, "lorawatch/e");
}

static void test_format_time_shanghai_offset(void **state)
{
    char t[64];
    (void)state;
    lw_format_time(INT64_C(1784052000000), t, sizeof(t));
    assert_string_equal(t, "2026-07-15T02:00:00+08:00");
    lw_format_time(INT64_C(1784052000999), t, sizeof(t)); /* milliseconds dropped */
    assert_string_equal(t, "2026-07-15T02:00:00+08:00");
    lw_format_time(0, t, sizeof(t));
    assert_string_equal(t, "1970-01-01T08:00:00+08:00");
    lw_format_time(INT64_C(1784052000000), t, 20); /* too small for the offset: left off */
    assert_string_equal(t, "2026-07-15T02:00:00");
}

static void test_format_time_other_zones(void **state)
{
    char t[64];
    (void)state;
    setenv("TZ", "UTC", 1);
    tzset();
    lw_format_time(INT64_C(1784052000000), t, sizeof(t));
    assert_string_equal(t, "2026-07-14T18:00:00+00:00");
    setenv("TZ", "Asia/Kolkata", 1);
    tzset();
    lw_format_time(INT64_C(1784052000000), t, sizeof(t));
    assert_string_equal(t, "2026-07-14T23:30:00+05:30");
    setenv("TZ", "Asia/Shanghai", 1);
    tzset();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_json_has_every_field),
        cmocka_unit_test(test_unconfirmed_water_says_so),
        cmocka_unit_test(test_below_rule_shows_threshold_unnegated),
        cmocka_unit_test(test_cleared_state_and_text),
        cmocka_unit_test(test_smoke_sentence_and_place_fallback),
        cmocka_unit_test(test_level_is_the_alerts_own),
        cmocka_unit_test(test_place_falls_back_to_label_then_name),
        cmocka_unit_test(test_place_in_the_readers_language),
        cmocka_unit_test(test_test_alarm_says_what_it_is),
        cmocka_unit_test(test_every_shipped_rule_type),
        cmocka_unit_test(test_relay_silent_alert),
        cmocka_unit_test(test_storage_alert),
        cmocka_unit_test(test_alert_topic),
        cmocka_unit_test(test_format_time_shanghai_offset),
        cmocka_unit_test(test_format_time_other_zones),
    };

    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
