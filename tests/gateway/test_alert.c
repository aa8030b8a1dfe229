/* Unit tests of lw_alert: the JSON payload parsed back with cJSON, sentences, topics and local time
 * in Asia/Shanghai. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lw_alert.h"
#include "lw_config.h"

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
    assert_non_null(strstr(str(o, "text_zh"), "红色内涝预警"));
    assert_non_null(strstr(str(o, "text_zh"), "1号楼地下车库入口"));
    assert_non_null(strstr(str(o, "text_zh"), "水深 63mm"));
    assert_non_null(strstr(str(o, "text_zh"), "已持续 2 分钟"));
    assert_string_equal(str(o, "text_en"),
                        "RED flood warning: 1号楼地下车库入口 / Block 1 garage entrance: "
                        "water depth 63 mm, above 50 mm for 2 min.");
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
    assert_non_null(strstr(str(o, "text_zh"), "低于 3300mV"));
    assert_non_null(strstr(str(o, "text_zh"), "1 小时"));
    cJSON_Delete(o);
    lw_alert_sentence_en(&a, en, sizeof(en));
    assert_string_equal(en, "BLUE trouble warning: 1号楼地下车库入口 / Block 1 garage entrance: "
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
    assert_string_equal(str(o, "text_en"), "All clear (RED flood): 1号楼地下车库入口 / Block 1 "
                                           "garage entrance: water depth back to 18 mm (clear "
                                           "level 20 mm).");
    assert_non_null(strstr(str(o, "text_zh"), "解除红色内涝预警"));
    assert_non_null(strstr(str(o, "text_zh"), "解除线 20mm"));
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
    assert_string_equal(en, "RED fire warning: 5 12 stairwell: smoke detector in alarm, go and "
                            "check now.");
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
    assert_non_null(strstr(str(o, "text_zh"), "红色火灾预警"));
    cJSON_Delete(o);
    a.state = LW_ALERT_CLEARED;
    lw_alert_sentence_en(&a, en, sizeof(en));
    assert_non_null(strstr(en, "All clear (RED fire)"));
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
    n.building[0] = '\0';
    strcpy(n.label, "Stair 5/12");
    lw_alert_sentence_en(&a, en, sizeof(en));
    assert_non_null(strstr(en, ": Stair 5/12: "));
    n.label[0] = '\0';
    lw_alert_sentence_en(&a, en, sizeof(en));
    assert_non_null(strstr(en, ": stair: "));
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
        cmocka_unit_test(test_below_rule_shows_threshold_unnegated),
        cmocka_unit_test(test_cleared_state_and_text),
        cmocka_unit_test(test_smoke_sentence_and_place_fallback),
        cmocka_unit_test(test_level_is_the_alerts_own),
        cmocka_unit_test(test_place_falls_back_to_label_then_name),
        cmocka_unit_test(test_alert_topic),
        cmocka_unit_test(test_format_time_shanghai_offset),
        cmocka_unit_test(test_format_time_other_zones),
    };

    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
