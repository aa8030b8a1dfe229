/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of lw_config: the shipped file, defaults, every error kind as NAME:LINE with its
 * value, rules and radio checks. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lw_config.h"
#include "lw_roster.h"

#define MAX_ERRS 32

struct errs {
    char msg[MAX_ERRS][800];
    int n;
};

static void collect(void *arg, const char *msg)
{
    struct errs *e = arg;
    if (e->n < MAX_ERRS)
        snprintf(e->msg[e->n], sizeof(e->msg[0]), "%s", msg);
    e->n++;
}

static struct lw_config *parse(struct errs *e, const char *text)
{
    memset(e, 0, sizeof(*e));
    return lw_config_parse("t.conf", text, strlen(text), collect, e);
}

static void dump(const struct errs *e)
{
    for (int i = 0; i < e->n && i < MAX_ERRS; i++)
        print_message("  error %d: %s\n", i, e->msg[i]);
}

/* The error that starts with prefix ("t.conf:LINE: ..."); fails when there is none. */
static const char *find_err(const struct errs *e, const char *prefix)
{
    for (int i = 0; i < e->n && i < MAX_ERRS; i++)
        if (strncmp(e->msg[i], prefix, strlen(prefix)) == 0)
            return e->msg[i];
    dump(e);
    fail_msg("no error starting with \"%s\"", prefix);
    return NULL;
}

static void assert_err(const struct errs *e, const char *prefix, const char *contains)
{
    const char *m = find_err(e, prefix);
    if (contains && !strstr(m, contains))
        fail_msg("error \"%s\" lacks \"%s\"", m, contains);
}

/* The error "t.conf:<any line>: ...text..." (for checks that do not concern the line). */
static void assert_err_any_line(const struct errs *e, const char *text)
{
    for (int i = 0; i < e->n && i < MAX_ERRS; i++)
        if (strncmp(e->msg[i], "t.conf:", 7) == 0 && strstr(e->msg[i], text))
            return;
    dump(e);
    fail_msg("no error containing \"%s\"", text);
}

/* Parse text that must fail with exactly n_expected errors. */
static void expect_errors(struct errs *e, const char *text, int n_expected)
{
    struct lw_config *cfg = parse(e, text);
    bool accepted = cfg != NULL;
    if (e->n != n_expected)
        dump(e);
    lw_config_free(cfg); /* free before asserting so a failure does not also leak */
    assert_false(accepted);
    assert_int_equal(e->n, n_expected);
}

static struct lw_config *expect_ok(struct errs *e, const char *text)
{
    struct lw_config *cfg = parse(e, text);
    if (e->n)
        dump(e);
    assert_int_equal(e->n, 0);
    assert_non_null(cfg);
    return cfg;
}

#define NODE_A                                                                                     \
    "[node:a]\n"                                                                                   \
    "address = 0x0101\n"                                                                           \
    "eui = 70B3D57ED0000001\n"                                                                     \
    "key = 000102030405060708090A0B0C0D0E0F\n"                                                     \
    "kind = water\n"

/* ---- whole files --------------------------------------------------------------------------- */

static void test_shipped_config_loads(void **state)
{
    const char *src = getenv("LW_SOURCE_DIR");
    char path[1024];
    struct errs e;
    (void)state;
    assert_non_null(src);
    snprintf(path, sizeof(path), "%s/config/lorawatch.conf", src);
    memset(&e, 0, sizeof(e));
    struct lw_config *cfg = lw_config_load(path, collect, &e);
    if (e.n)
        dump(&e);
    assert_int_equal(e.n, 0);
    assert_non_null(cfg);
    assert_string_equal(cfg->path, path);
    assert_true(cfg->n_rules >= 7); /* these seven first; test_rules checks the others */
    assert_string_equal(cfg->site, "estate");
    assert_int_equal(cfg->network_id, 0x4C57);
    assert_int_equal(cfg->frequency_hz, 470300000);
    assert_int_equal(cfg->spreading_factor, 9);

    static const char *const names[] = {"flood-watch", "flood-street", "flood-basement",
                                        "fire-smoke",  "gas-low",      "gas-high",
                                        "battery-low"};
    for (size_t i = 0; i < 7; i++)
        assert_string_equal(cfg->rules[i].name, names[i]);
    const struct lw_rule_conf *bas = &cfg->rules[2];
    assert_int_equal(bas->metric, LW_METRIC_WATER);
    assert_string_equal(bas->tags, "basement");
    assert_true(bas->threshold == 50 && bas->clear == 20);
    assert_true(bas->persistence_ms == 120000);
    assert_int_equal(bas->level, LW_LEVEL_RED);
    assert_int_equal(bas->hazard, LW_HAZARD_FLOOD);
    const struct lw_rule_conf *bat = &cfg->rules[6];
    assert_true(bat->below);
    assert_true(bat->threshold == -3300 && bat->clear == -3400);
    assert_int_equal(bat->hazard, LW_HAZARD_TROUBLE);
    assert_true(bat->persistence_ms == 3600000);

    /* Nodes are paired into the database; the file provisions none, and it leaves the radio for
     * the admin to choose (the daemon refuses to start until then). */
    assert_int_equal(cfg->n_nodes, 0);
    assert_false(lw_config_radio_chosen(cfg));
    assert_int_equal(cfg->roster->n, 0);
    lw_config_free(cfg);
}

static void test_load_missing_file_reports_path(void **state)
{
    struct errs e;
    (void)state;
    memset(&e, 0, sizeof(e));
    assert_null(lw_config_load("/nonexistent/lw.conf", collect, &e));
    assert_int_equal(e.n, 1);
    assert_err(&e, "/nonexistent/lw.conf: cannot open", NULL);
}

static void test_defaults_applied(void **state)
{
    struct errs e;
    char db[LW_PATH_MAX];
    (void)state;
    struct lw_config *cfg = expect_ok(&e, "");
    assert_string_equal(cfg->site, "estate");
    assert_int_equal(cfg->network_id, 0x4C57);
    assert_string_equal(cfg->state_dir, "/var/lib/lorawatch");
    assert_string_equal(cfg->database, "");
    assert_string_equal(cfg->log_level, "info");
    assert_string_equal(cfg->radio_backend, "sim");
    assert_string_equal(cfg->sim_listen, "127.0.0.1:17000");
    assert_string_equal(cfg->sim_clock, "system");
    assert_int_equal(cfg->frequency_hz, 470300000);
    assert_int_equal(cfg->spreading_factor, 9);
    assert_int_equal(cfg->bandwidth_hz, 125000);
    assert_int_equal(cfg->coding_rate, 5);
    assert_string_equal(cfg->mqtt_host, "127.0.0.1");
    assert_int_equal(cfg->mqtt_port, 1883);
    assert_string_equal(cfg->mqtt_client_id, "lorawatchd-estate");
    assert_true(cfg->mqtt_keepalive_ms == 30000);
    assert_string_equal(cfg->mqtt_username, "");
    assert_string_equal(cfg->mqtt_password, "");
    assert_true(cfg->mqtt_reconnect_min_ms == 1000);
    assert_true(cfg->mqtt_reconnect_max_ms == 60000);
    assert_true(cfg->status_interval_ms == 60000);
    assert_int_equal(cfg->batch_rows, 256);
    assert_true(cfg->batch_ms == 200);
    assert_int_equal(cfg->n_nodes, 0);
    assert_int_equal(cfg->n_rules, 0);
    lw_config_db_path(cfg, db, sizeof(db));
    assert_string_equal(db, "/var/lib/lorawatch/lorawatch.db");
    lw_config_free(cfg);
}

static void test_client_id_and_database_follow_settings(void **state)
{
    struct errs e;
    char db[LW_PATH_MAX];
    (void)state;
    struct lw_config *cfg =
        expect_ok(&e, "[gateway]\nsite = north-gate\nstate_dir = /srv/lw\n[mqtt]\nport = 8883\n");
    assert_string_equal(cfg->mqtt_client_id, "lorawatchd-north-gate");
    assert_int_equal(cfg->mqtt_port, 8883);
    lw_config_db_path(cfg, db, sizeof(db));
    assert_string_equal(db, "/srv/lw/lorawatch.db");
    lw_config_free(cfg);

    cfg = expect_ok(&e, "[gateway]\ndatabase = /tmp/x.db\n[mqtt]\nclient_id = gw-1\n");
    assert_string_equal(cfg->mqtt_client_id, "gw-1");
    lw_config_db_path(cfg, db, sizeof(db));
    assert_string_equal(db, "/tmp/x.db");
    lw_config_free(cfg);
}

/* ---- scalar errors ------------------------------------------------------------------------- */

static void test_bad_integer_reported_with_line_and_value(void **state)
{
    struct errs e;
    (void)state;
    expect_errors(&e, "[mqtt]\nhost = broker\nport = abc\n", 1);
    assert_err(&e, "t.conf:3: [mqtt] port = abc: ", "1 to 65535");
}

static void test_out_of_range_reported(void **state)
{
    struct errs e;
    (void)state;
    expect_errors(&e, "[mqtt]\nport = 70000\n", 1);
    assert_err(&e, "t.conf:2: [mqtt] port = 70000: ", "1 to 65535");
    expect_errors(&e, "[storage]\n\nbatch_rows = 0\n", 1);
    assert_err(&e, "t.conf:3: [storage] batch_rows = 0: ", "1 to 100000");
    expect_errors(&e, "[mqtt]\nkeepalive = 1s\n", 1);
    assert_err(&e, "t.conf:2: [mqtt] keepalive = 1s: ", "duration");
    expect_errors(&e, "[mqtt]\nkeepalive = 5 minutes\n", 1);
    assert_err(&e, "t.conf:2: [mqtt] keepalive = 5 minutes: ", "duration");
}

static void test_bad_choice_lists_the_choices(void **state)
{
    struct errs e;
    (void)state;
    expect_errors(&e, "[gateway]\nlog_level = loud\n", 1);
    assert_err(&e, "t.conf:2: [gateway] log_level = loud: ", "err, warning, notice, info, debug");
    expect_errors(&e, "[radio]\nbackend = sx1302\n", 1);
    assert_err(&e, "t.conf:2: [radio] backend = sx1302: ", "sim");
}

static void test_unknown_key(void **state)
{
    struct errs e;
    (void)state;
    expect_errors(&e, "[mqtt]\nhots = 10.0.0.1\n", 1);
    assert_err(&e, "t.conf:2: [mqtt] hots: ", "unknown key");
    /* A key of another section is unknown here. */
    expect_errors(&e, "[gateway]\nport = 1883\n", 1);
    assert_err(&e, "t.conf:2: [gateway] port: ", "unknown key");
    expect_errors(&e, NODE_A "colour = red\n", 1);
    assert_err(&e, "t.conf:6: [node:a] colour: ", "unknown key");
}

static void test_unknown_section_reported_once(void **state)
{
    struct errs e;
    (void)state;
    /* Reported once, at its header, however many keys follow. */
    expect_errors(&e, "[gateway]\nsite = x\n[mqttt]\nhost = a\nport = 1\nkeepalive = 5s\n", 1);
    assert_err(&e, "t.conf:3: [mqttt]: unknown section", NULL);
    /* Two different unknown sections: one report each; an empty one is reported too. */
    expect_errors(&e, "[a]\nx = 1\ny = 2\n[b]\nx = 1\n[gatwey]\n", 3);
    assert_err(&e, "t.conf:1: [a]: unknown section", NULL);
    assert_err(&e, "t.conf:4: [b]: unknown section", NULL);
    assert_err(&e, "t.conf:6: [gatwey]: unknown section", NULL);
}

static void test_key_set_twice_mentions_first_line(void **state)
{
    struct errs e;
    (void)state;
    expect_errors(&e, "[mqtt]\nport = 1883\n\nport = 1884\n", 1);
    assert_err(&e, "t.conf:4: [mqtt] port: set twice (first at line 2)", NULL);
    /* Also across two [mqtt] sections, and inside a node. */
    expect_errors(&e, "[mqtt]\nport = 1883\n[gateway]\nsite = x\n[mqtt]\nport = 1\n", 1);
    assert_err(&e, "t.conf:6: [mqtt] port: set twice (first at line 2)", NULL);
    expect_errors(&e, NODE_A "kind = smoke\n", 1);
    assert_err(&e, "t.conf:6: [node:a] kind: set twice (first at line 5)", NULL);
}

static void test_syntax_errors_reported(void **state)
{
    struct errs e;
    (void)state;
    expect_errors(&e, "[mqtt]\nport 1883\n", 1);
    assert_err(&e, "t.conf:2: ", "name = value");
    expect_errors(&e, "[gateway]\nsite = x\n[mqtt\nport = 1\n", 2);
    assert_err(&e, "t.conf:3: ", "']'");
}

/* ---- nodes --------------------------------------------------------------------------------- */

static void test_node_missing_required_keys(void **state)
{
    struct errs e;
    (void)state;
    expect_errors(&e, "[gateway]\nsite = x\n\n[node:lonely]\nkind = water\nlabel = L\n", 3);
    assert_err_any_line(&e, ": [node:lonely]: missing required key 'address'");
    assert_err_any_line(&e, ": [node:lonely]: missing required key 'eui'");
    assert_err_any_line(&e, ": [node:lonely]: missing required key 'key'");
}

static void test_node_defaults_and_fields(void **state)
{
    struct errs e;
    (void)state;
    struct lw_config *cfg = expect_ok(&e, NODE_A "tags = low-lying, basement\n");
    assert_int_equal(cfg->n_nodes, 1);
    assert_int_equal(cfg->nodes[0].address, 0x0101);
    assert_int_equal(cfg->nodes[0].key[15], 0x0F);
    assert_string_equal(cfg->nodes[0].label, "");
    assert_string_equal(cfg->nodes[0].tags, "low-lying, basement");
    lw_config_free(cfg);
}

static void test_duplicate_node_address_eui_key(void **state)
{
    struct errs e;
    (void)state;
    expect_errors(&e,
                  NODE_A "\n"                                       /* 1-6 */
                         "[node:b]\n"                               /* 7 */
                         "address = 257\n"                          /* 8: 0x0101 again */
                         "eui = 70:B3:D5:7E:D0:00:00:01\n"          /* 9 */
                         "key = 000102030405060708090a0b0c0d0e0f\n" /* 10 */
                         "kind = smoke\n",
                  3);
    assert_err(&e, "t.conf:8: [node:b] address = 0x0101: already used by node 'a' (line 2)", NULL);
    assert_err(&e, "t.conf:9: [node:b] eui: already used by node 'a' (line 3)", NULL);
    assert_err(&e, "t.conf:10: [node:b] key: same key as node 'a' (line 4)", NULL);
}

static void test_all_zero_key_rejected(void **state)
{
    struct errs e;
    (void)state;
    expect_errors(&e,
                  "[node:z]\naddress = 2\neui = 0000000000000002\n"
                  "key = 00000000000000000000000000000000\nkind = gas\n",
                  1);
    assert_err(&e, "t.conf:4: [node:z] key: ", "all-zero");
}

static void test_secret_values_never_echoed(void **state)
{
    struct errs e;
    char pw[160];
    (void)state;
    expect_errors(&e,
                  "[node:s]\naddress = 3\neui = 0000000000000003\n"
                  "key = DEADBEEFDEADBEEFDEADBEEFDEADBE\nkind = co\n",
                  1);
    assert_err(&e, "t.conf:4: [node:s] key = (hidden): ", "32 hex digits");
    assert_null(strstr(e.msg[0], "DEADBEEF"));

    memset(pw, 'p', sizeof(pw));
    memcpy(pw, "[mqtt]\npassword = S3cr3t", 24);
    pw[sizeof(pw) - 2] = '\n';
    pw[sizeof(pw) - 1] = '\0';
    expect_errors(&e, pw, 1);
    assert_err(&e, "t.conf:2: [mqtt] password = (hidden): ", "too long");
    assert_null(strstr(e.msg[0], "S3cr3t"));
    /* The EUI is not a secret: shown. */
    expect_errors(&e,
                  "[node:s]\naddress = 3\neui = XYZ\nkey = 0102030405060708090A0B0C0D0E0F10\n"
                  "kind = co\n",
                  1);
    assert_err(&e, "t.conf:3: [node:s] eui = XYZ: ", "16 hex digits");
}

static void test_node_address_bounds_and_bad_names(void **state)
{
    struct errs e;
    (void)state;
    expect_errors(&e,
                  "[node:a]\naddress = 0\neui = 0000000000000001\nkey = "
                  "0102030405060708090A0B0C0D0E0F10\nkind = water\n",
                  1);
    assert_err(&e, "t.conf:2: [node:a] address = 0: ", "1 to 65534");
    expect_errors(&e,
                  "[node:a]\naddress = 0xFFFF\neui = 0000000000000001\nkey = "
                  "0102030405060708090A0B0C0D0E0F10\nkind = water\n",
                  1);
    assert_err(&e, "t.conf:2: [node:a] address = 0xFFFF: ", "1 to 65534");
    expect_errors(&e,
                  "[node:a]\naddress = 1\neui = 0000000000000001\nkey = "
                  "0102030405060708090A0B0C0D0E0F10\nkind = lava\n",
                  1);
    assert_err(&e, "t.conf:5: [node:a] kind = lava: ", "water, smoke, gas, co, multi");
    expect_errors(&e, "[node:bad name]\naddress = 1\n", 1);
    assert_err(&e, "t.conf:1: [node:bad name]: name must be", NULL); /* at its header, once */
}

static void test_section_twice_reported(void **state)
{
    struct errs e;
    (void)state;
    expect_errors(&e, NODE_A "[gateway]\nsite = x\n[node:a]\nlabel = again\n", 1);
    assert_err_any_line(&e, ": [node:a]: section appears twice (first at line ");
}

static void test_section_twice_after_empty_section_reported(void **state)
{
    struct errs e;
    (void)state;
    /* An empty section in between must not hide the repeat. [node:b] itself lacks its four
     * required keys: four more errors. */
    expect_errors(&e, NODE_A "[node:b]\n[node:a]\nlabel = again\n", 5);
    assert_err(&e, "t.conf:7: [node:a]: section appears twice (first at line 1)", NULL);
}

static void test_section_line_is_where_its_header_is(void **state)
{
    struct errs e;
    (void)state;
    /* Section lines are those of their [header], as lw_config.h documents. */
    struct lw_config *cfg = expect_ok(&e, NODE_A "\n[rule:r]\n\nmetric = water_mm\n"
                                                 "threshold = 5\nclear = 1\nlevel = red\n");
    int node_line = cfg->nodes[0].line, rule_line = cfg->rules[0].line;
    lw_config_free(cfg);
    assert_int_equal(node_line, 1);
    assert_int_equal(rule_line, 7);
    expect_errors(&e, "[gateway]\nsite = x\n\n[node:lonely]\nkind = water\n", 3);
    assert_err(&e, "t.conf:4: [node:lonely]: missing required key 'address'", NULL);
    expect_errors(&e, NODE_A "[gateway]\nsite = x\n[node:a]\nlabel = again\n", 1);
    assert_err_any_line(&e, ": [node:a]: section appears twice (first at line 1)");
}

static void test_keys_before_any_section_rejected(void **state)
{
    struct errs e;
    (void)state;
    expect_errors(&e, "site = x\n[gateway]\nnetwork_id = 1\n", 1);
    assert_err(&e, "t.conf:1: site: key outside any [section]", NULL);
}

/* ---- rules --------------------------------------------------------------------------------- */

static void test_rule_clear_must_be_below_threshold(void **state)
{
    struct errs e;
    (void)state;
    expect_errors(&e, "[rule:r]\nmetric = water_mm\nthreshold = 50\nclear = 50\nlevel = red\n", 1);
    assert_err(&e, "t.conf:4: [rule:r] clear = 50: ", "below threshold 50");
    expect_errors(&e, "[rule:r]\nmetric = water_mm\nthreshold = 50\nclear = 60\nlevel = red\n", 1);
    assert_err(&e, "t.conf:4: [rule:r] clear = 60: ", "below threshold");
    /* A falling rule needs clear above threshold. */
    expect_errors(&e,
                  "[rule:b]\nmetric = battery_mv\ndirection = below\nthreshold = 3300\n"
                  "clear = 3300\nlevel = blue\n",
                  1);
    assert_err(&e, "t.conf:5: [rule:b] clear = 3300: ", "above threshold 3300");
}

static void test_rule_direction_below_stored_negated(void **state)
{
    struct errs e;
    (void)state;
    struct lw_config *cfg = expect_ok(&e, "[rule:bat]\nmetric = battery_mv\ndirection = below\n"
                                          "threshold = 3300\nclear = 3400\nlevel = blue\n"
                                          "[rule:up]\nmetric = battery_mv\ndirection = above\n"
                                          "threshold = 4300\nclear = 4200\nlevel = blue\n");
    assert_int_equal(cfg->n_rules, 2);
    assert_true(cfg->rules[0].below);
    assert_true(cfg->rules[0].threshold == -3300.0);
    assert_true(cfg->rules[0].clear == -3400.0);
    assert_int_equal(cfg->rules[0].hazard, LW_HAZARD_TROUBLE);
    assert_false(cfg->rules[1].below);
    assert_true(cfg->rules[1].threshold == 4300.0);
    assert_true(cfg->rules[1].clear == 4200.0);
    lw_config_free(cfg);

    expect_errors(&e,
                  "[rule:r]\nmetric = water_mm\ndirection = up\nthreshold = 5\nclear = 1\n"
                  "level = red\n",
                  1);
    assert_err(&e, "t.conf:3: [rule:r] direction = up: ", "above' or 'below");
}

static void test_rule_direction_set_twice_reported(void **state)
{
    struct errs e;
    (void)state;
    /* A second direction is an error like any key set twice. */
    expect_errors(&e,
                  "[rule:r]\nmetric = battery_mv\ndirection = below\ndirection = above\n"
                  "threshold = 3300\nclear = 3400\nlevel = blue\n",
                  1);
    assert_err(&e, "t.conf:4: [rule:r] direction: set twice (first at line 3)", NULL);
}

static void test_rule_kinds_and_hazard_default_from_metric(void **state)
{
    struct errs e;
    (void)state;
    struct lw_config *cfg = expect_ok(&e, "[rule:w]\nmetric = water_mm\nthreshold = 10\n"
                                          "clear = 5\nlevel = blue\n"
                                          "[rule:s]\nmetric = smoke\nthreshold = 1\nclear = 0\n"
                                          "level = red\n"
                                          "[rule:o]\nmetric = obscuration\nthreshold = 2.5\n"
                                          "clear = 1\nlevel = orange\n"
                                          "[rule:g]\nmetric = gas_lel\nthreshold = 20\n"
                                          "clear = 10\nlevel = orange\npersistence = 30s\n"
                                          "[rule:c]\nmetric = co_ppm\nthreshold = 50\n"
                                          "clear = 30\nlevel = yellow\n"
                                          "[rule:t]\nmetric = temp_c\nthreshold = 57\n"
                                          "clear = 50\nlevel = red\n"
                                          "[rule:x]\nmetric = water_mm\nthreshold = 10\n"
                                          "clear = 5\nlevel = red\nhazard = trouble\n"
                                          "kinds = water, multi\ntags = basement\n");
    const uint32_t W = 1u << LW_KIND_WATER, S = 1u << LW_KIND_SMOKE, G = 1u << LW_KIND_GAS,
                   C = 1u << LW_KIND_CO, M = 1u << LW_KIND_MULTI;
    static const struct {
        enum lw_metric metric;
        enum lw_hazard hazard;
        uint32_t kinds;
    } want[] = {
        {LW_METRIC_WATER, LW_HAZARD_FLOOD, 0},      {LW_METRIC_SMOKE, LW_HAZARD_FIRE, 0},
        {LW_METRIC_OBSCURATION, LW_HAZARD_FIRE, 0}, {LW_METRIC_GAS, LW_HAZARD_GAS, 0},
        {LW_METRIC_CO, LW_HAZARD_GAS, 0},           {LW_METRIC_TEMP, LW_HAZARD_FIRE, 0},
        {LW_METRIC_WATER, LW_HAZARD_TROUBLE, 0},
    };
    const uint32_t kinds[] = {W | M, S | M, S | M, G | M, C | M, W | S | G | C | M, W | M};
    assert_int_equal(cfg->n_rules, 7);
    for (size_t i = 0; i < 7; i++) {
        assert_int_equal(cfg->rules[i].metric, want[i].metric);
        assert_int_equal(cfg->rules[i].hazard, want[i].hazard);
        assert_int_equal(cfg->rules[i].kinds, kinds[i]);
        assert_false(cfg->rules[i].below);
    }
    assert_true(cfg->rules[2].threshold == 2.5);
    assert_true(cfg->rules[3].persistence_ms == 30000);
    assert_true(cfg->rules[0].persistence_ms == 0);
    assert_string_equal(cfg->rules[6].tags, "basement");
    assert_int_equal(cfg->rules[6].level, LW_LEVEL_RED);
    lw_config_free(cfg);
}

static void test_rule_value_and_kind_checks(void **state)
{
    struct errs e;
    (void)state;
    expect_errors(&e, "[rule:g]\nmetric = gas_lel\nthreshold = 150\nclear = 10\nlevel = red\n", 1);
    assert_err(&e, "t.conf:3: [rule:g] threshold = 150: gas_lel must be in 0..100", NULL);
    expect_errors(&e, "[rule:w]\nmetric = water_mm\nthreshold = 10\nclear = -1\nlevel = red\n", 1);
    assert_err(&e, "t.conf:4: [rule:w] clear = -1: water_mm must be in", NULL);
    expect_errors(&e,
                  "[rule:w]\nmetric = water_mm\nthreshold = 10\nclear = 5\nlevel = red\n"
                  "kinds = smoke\n",
                  1);
    assert_err_any_line(&e, ": [rule:w]: no node kind in 'kinds' reports water_mm");
    struct lw_config *cfg =
        parse(&e, "[rule:w]\nmetric = water_mm\nthreshold = ten\nclear = 5\nlevel = red\n");
    lw_config_free(cfg);
    assert_null(cfg);
    assert_err(&e, "t.conf:3: [rule:w] threshold = ten: must be a number", NULL);
}

static void test_rule_missing_required_keys(void **state)
{
    struct errs e;
    (void)state;
    expect_errors(&e, "[gateway]\nsite = x\n[rule:r]\nmetric = water_mm\nthreshold = 5\n", 2);
    assert_err_any_line(&e, ": [rule:r]: missing required key 'clear'");
    assert_err_any_line(&e, ": [rule:r]: missing required key 'level'");
}

/* ---- radio --------------------------------------------------------------------------------- */

static void test_airtime_limit_in_470_510_mhz(void **state)
{
    struct errs e;
    (void)state;
    expect_errors(&e, "[radio]\nspreading_factor = 11\n", 1);
    assert_err(&e, "t.conf:2: [radio] spreading_factor = 11: ", "1000 ms");
    expect_errors(&e, "[radio]\nbandwidth_hz = 125000\nspreading_factor = 12\n", 1);
    assert_err(&e, "t.conf:3: [radio] spreading_factor = 12: ", "470-510 MHz");
    expect_errors(&e, "[radio]\nfrequency_hz = 470000000\nspreading_factor = 12\n", 1);
    expect_errors(&e, "[radio]\nfrequency_hz = 510000000\nspreading_factor = 12\n", 1);

    struct lw_config *cfg = expect_ok(&e, "[radio]\nspreading_factor = 10\n");
    assert_int_equal(cfg->spreading_factor, 10);
    lw_config_free(cfg);
    cfg = expect_ok(&e, "[radio]\nfrequency_hz = 868100000\nspreading_factor = 12\n");
    assert_int_equal(cfg->spreading_factor, 12);
    lw_config_free(cfg);
    cfg = expect_ok(&e, "[radio]\nfrequency_hz = 510000001\nspreading_factor = 12\n");
    lw_config_free(cfg);
    /* Wider bandwidth makes SF12 short enough even in the band. */
    cfg = expect_ok(&e, "[radio]\nspreading_factor = 12\nbandwidth_hz = 500000\n");
    lw_config_free(cfg);
}

static void test_bandwidth_must_be_standard(void **state)
{
    struct errs e;
    (void)state;
    expect_errors(&e, "[radio]\nbandwidth_hz = 200000\n", 1);
    assert_err(&e, "t.conf:2: [radio] bandwidth_hz = 200000: ", "125000, 250000 or 500000");
    struct lw_config *cfg = expect_ok(&e, "[radio]\nbandwidth_hz = 250000\n");
    assert_int_equal(cfg->bandwidth_hz, 250000);
    lw_config_free(cfg);
}

static void test_other_cross_checks(void **state)
{
    struct errs e;
    (void)state;
    expect_errors(&e, "[radio]\nsim_listen = localhost\n", 1);
    assert_err(&e, "t.conf:2: [radio] sim_listen = localhost: ", "HOST:PORT");
    expect_errors(&e, "[gateway]\nsite = a/b\n", 1);
    assert_err(&e, "t.conf:2: [gateway] site = a/b: ", "MQTT topic");
    expect_errors(&e, "[mqtt]\nreconnect_min = 2m\nreconnect_max = 1m\n", 1);
    assert_err(&e, "t.conf:2: [mqtt] reconnect_min: ", "reconnect_max");
}

static void test_one_mistake_one_message(void **state)
{
    struct errs e;
    (void)state;
    /* A value that fails to parse is reported once: later cross-checks do not repeat it with
     * a made-up value (scalars fall back to their default, rules and nodes are marked). */
    expect_errors(&e, "[radio]\nbandwidth_hz = 1\n", 1);
    assert_err(&e, "t.conf:2: [radio] bandwidth_hz = 1: ", "125000 to 500000");
    expect_errors(&e,
                  "[rule:w]\nmetric = water_mm\nthreshold = 10\nclear = 5\nlevel = red\n"
                  "kinds = water, lava\n",
                  1);
    assert_err(&e, "t.conf:6: [rule:w] kinds = water, lava: 'lava' is not a node kind", NULL);
    expect_errors(&e, "[rule:w]\nmetric = water_mm\nthreshold = ten\nclear = 5\nlevel = red\n", 1);
}

/* ---- several problems at once -------------------------------------------------------------- */

static void test_several_errors_all_reported(void **state)
{
    struct errs e;
    (void)state;
    expect_errors(&e,
                  "[gateway]\n"             /* 1 */
                  "network_id = 0x10000\n"  /* 2: out of range */
                  "bogus = 1\n"             /* 3: unknown key */
                  "[radio]\n"               /* 4 */
                  "spreading_factor = 12\n" /* 5: airtime */
                  "[mqtt]\n"                /* 6 */
                  "port = 1883\n"           /* 7 */
                  "port = 1884\n"           /* 8: set twice */
                  "nonsense\n"              /* 9: syntax */
                  "[node:n1]\n"             /* 10: missing eui and key */
                  "address = 1\n"           /* 11 */
                  "kind = water\n",         /* 12 */
                  7);
    assert_err(&e, "t.conf:2: [gateway] network_id = 0x10000: ", NULL);
    assert_err(&e, "t.conf:3: [gateway] bogus: ", NULL);
    assert_err(&e, "t.conf:5: [radio] spreading_factor = 12: ", NULL);
    assert_err(&e, "t.conf:8: [mqtt] port: set twice (first at line 7)", NULL);
    assert_err(&e, "t.conf:9: ", "name = value");
    assert_err_any_line(&e, ": [node:n1]: missing required key 'eui'");
    assert_err_any_line(&e, ": [node:n1]: missing required key 'key'");
}

static void test_crlf_and_bom_config(void **state)
{
    struct errs e;
    (void)state;
    struct lw_config *cfg =
        expect_ok(&e, "\xEF\xBB\xBF[gateway]\r\nsite = crlf\r\n[mqtt]\r\nport = 1884\r\n");
    assert_string_equal(cfg->site, "crlf");
    assert_int_equal(cfg->mqtt_port, 1884);
    lw_config_free(cfg);
}

/* ---- lw_tags_match ------------------------------------------------------------------------- */

static void test_tags_match(void **state)
{
    static const struct {
        const char *node, *wanted;
        bool match;
    } cases[] = {
        {"low-lying,basement", "basement", true},
        {"low-lying,basement", "low-lying", true},
        {"low-lying,basement", "basement, low-lying", true},
        {"low-lying, basement", "basement,low-lying", true},
        {"low-lying,basement", "base", false},
        {"low-lying,basement", "basement,old-building", false},
        {"basement", "basements", false},
        {"", "", true},
        {"a", "", true},
        {"", "a", false},
        {"ab", "a", false},
        {"a,b,c", "c", true},
        {" a , b ", "b", true},
        {"a,,b", "b", true},
    };
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        if (lw_tags_match(cases[i].node, cases[i].wanted) != cases[i].match)
            fail_msg("lw_tags_match(\"%s\", \"%s\") != %d", cases[i].node, cases[i].wanted,
                     cases[i].match);
    }
}

static void test_free_null_is_harmless(void **state)
{
    (void)state;
    lw_config_free(NULL);
}

/* ---- warnings: valid settings that are wrong for a gateway in service -------------------- */

/* The warnings of text (which must load), collected in w. */
static size_t warnings_of(struct errs *w, const char *text)
{
    struct errs e;
    struct lw_config *cfg = parse(&e, text);
    if (e.n)
        dump(&e);
    assert_non_null(cfg);
    memset(w, 0, sizeof(*w));
    size_t n = lw_config_warnings(cfg, collect, w);
    assert_int_equal((int)n, w->n);
    lw_config_free(cfg);
    return n;
}

static void assert_warning(const struct errs *w, const char *prefix, const char *contains)
{
    for (int i = 0; i < w->n && i < MAX_ERRS; i++)
        if (strncmp(w->msg[i], prefix, strlen(prefix)) == 0 &&
            (!contains || strstr(w->msg[i], contains)))
            return;
    dump(w);
    fail_msg("no warning \"%s...%s\"", prefix, contains ? contains : "");
}

#define DUTY "[duty:room]\ntier = 2\n"

/* The shipped file: no radio chosen (the daemon will not start) and no duty roster. */
static void test_warnings_shipped_config(void **state)
{
    const char *src = getenv("LW_SOURCE_DIR");
    char path[1024];
    struct errs e, w;
    (void)state;
    assert_non_null(src);
    snprintf(path, sizeof(path), "%s/config/lorawatch.conf", src);
    memset(&e, 0, sizeof(e));
    struct lw_config *cfg = lw_config_load(path, collect, &e);
    assert_non_null(cfg);
    memset(&w, 0, sizeof(w));
    assert_int_equal(lw_config_warnings(cfg, collect, &w), 2);
    char prefix[1100];
    snprintf(prefix, sizeof(prefix), "%s: [radio] backend: not set", path);
    assert_warning(&w, prefix, "refuses to start");
    snprintf(prefix, sizeof(prefix), "%s: [duty:ID]: no duty roster", path);
    assert_warning(&w, prefix, "lorawatch/estate/duty/tier/N");
    lw_config_free(cfg);
}

/* What the package used to install: the simulator, the example node's published key, nobody on
 * duty. Each is named with its line. */
static void test_warnings_sim_published_key_no_roster(void **state)
{
    struct errs w;
    (void)state;
    assert_int_equal(warnings_of(&w, "[radio]\n"
                                     "backend = sim\n"
                                     "[node:example-garage]\n"
                                     "address = 1\n"
                                     "eui = 70B3D57ED0000001\n"
                                     "key = 6A1F3C9E58B20D47A3E19C5F0B7D2846\n"
                                     "kind = water\n"),
                     3);
    assert_warning(&w, "t.conf:2: [radio] backend = sim:", "simulated medium only");
    assert_warning(&w, "t.conf:3: [node:example-garage] key:", "published");
    assert_warning(&w, "t.conf: [duty:ID]: no duty roster", NULL);
}

/* A key of one repeated digit is as good as published; a lower-case published key is the same. */
static void test_warnings_weak_keys(void **state)
{
    struct errs w;
    (void)state;
    assert_int_equal(warnings_of(&w, "[radio]\nbackend = udp-forwarder\n" DUTY
                                     "[node:a]\naddress = 1\neui = 70B3D57ED0000001\n"
                                     "key = 3c0e9a51d47b28f6e1a59c03b7d4862f\nkind = water\n"
                                     "[node:b]\naddress = 2\neui = 70B3D57ED0000002\n"
                                     "key = 77777777777777777777777777777777\nkind = smoke\n"),
                     2);
    assert_warning(&w, "t.conf:5: [node:a] key:", "published");
    assert_warning(&w, "t.conf:10: [node:b] key:", "repeated");
}

/* A gateway set up for service: a radio, a roster, keys of its own. */
static void test_warnings_none_when_configured(void **state)
{
    struct errs w;
    (void)state;
    assert_int_equal(warnings_of(&w, "[radio]\nboard = dragino-lora-gps-hat\n" DUTY
                                     "[node:a]\naddress = 1\neui = 70B3D57ED0000001\n"
                                     "key = 0F1E2D3C4B5A69788796A5B4C3D2E1F0\nkind = water\n"),
                     0);
    assert_int_equal(
        warnings_of(&w, "[radio]\nbackend = sx126x\nboard = waveshare-sx1262-hat\n" DUTY), 0);
    assert_int_equal(warnings_of(&w, "[radio]\nforwarder_listen = 127.0.0.1:1700\n"
                                     "backend = udp-forwarder\n" DUTY),
                     0);
}

/* The simulated medium's keys choose the simulator (the test and demo configurations); nothing
 * at all chooses no radio. */
static void test_radio_chosen(void **state)
{
    struct errs e, w;
    (void)state;
    static const char *const chosen[] = {
        "[radio]\nbackend = sim\n", "[radio]\nsim_listen = 127.0.0.1:1\n",
        "[radio]\nsim_clock = medium\n", "[radio]\nboard = dragino-lora-gps-hat\n"};
    for (size_t i = 0; i < sizeof(chosen) / sizeof(chosen[0]); i++) {
        struct lw_config *cfg = parse(&e, chosen[i]);
        assert_non_null(cfg);
        assert_true(lw_config_radio_chosen(cfg));
        lw_config_free(cfg);
    }
    struct lw_config *cfg = parse(&e, "[gateway]\nsite = x\n[radio]\nspreading_factor = 9\n");
    assert_non_null(cfg);
    assert_false(lw_config_radio_chosen(cfg));
    lw_config_free(cfg);
    assert_int_equal(warnings_of(&w, "[radio]\nsim_clock = medium\n" DUTY), 1);
    assert_warning(&w, "t.conf:2: [radio] backend = sim:", NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shipped_config_loads),
        cmocka_unit_test(test_load_missing_file_reports_path),
        cmocka_unit_test(test_defaults_applied),
        cmocka_unit_test(test_client_id_and_database_follow_settings),
        cmocka_unit_test(test_bad_integer_reported_with_line_and_value),
        cmocka_unit_test(test_out_of_range_reported),
        cmocka_unit_test(test_bad_choice_lists_the_choices),
        cmocka_unit_test(test_unknown_key),
        cmocka_unit_test(test_unknown_section_reported_once),
        cmocka_unit_test(test_key_set_twice_mentions_first_line),
        cmocka_unit_test(test_syntax_errors_reported),
        cmocka_unit_test(test_node_missing_required_keys),
        cmocka_unit_test(test_node_defaults_and_fields),
        cmocka_unit_test(test_duplicate_node_address_eui_key),
        cmocka_unit_test(test_all_zero_key_rejected),
        cmocka_unit_test(test_secret_values_never_echoed),
        cmocka_unit_test(test_node_address_bounds_and_bad_names),
        cmocka_unit_test(test_section_twice_reported),
        cmocka_unit_test(test_section_twice_after_empty_section_reported),
        cmocka_unit_test(test_section_line_is_where_its_header_is),
        cmocka_unit_test(test_keys_before_any_section_rejected),
        cmocka_unit_test(test_rule_clear_must_be_below_threshold),
        cmocka_unit_test(test_rule_direction_below_stored_negated),
        cmocka_unit_test(test_rule_direction_set_twice_reported),
        cmocka_unit_test(test_rule_kinds_and_hazard_default_from_metric),
        cmocka_unit_test(test_rule_value_and_kind_checks),
        cmocka_unit_test(test_rule_missing_required_keys),
        cmocka_unit_test(test_airtime_limit_in_470_510_mhz),
        cmocka_unit_test(test_bandwidth_must_be_standard),
        cmocka_unit_test(test_other_cross_checks),
        cmocka_unit_test(test_one_mistake_one_message),
        cmocka_unit_test(test_several_errors_all_reported),
        cmocka_unit_test(test_crlf_and_bom_config),
        cmocka_unit_test(test_tags_match),
        cmocka_unit_test(test_free_null_is_harmless),
        cmocka_unit_test(test_warnings_shipped_config),
        cmocka_unit_test(test_warnings_sim_published_key_no_roster),
        cmocka_unit_test(test_warnings_weak_keys),
        cmocka_unit_test(test_warnings_none_when_configured),
        cmocka_unit_test(test_radio_chosen),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
